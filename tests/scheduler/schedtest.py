"""Builders shared by the scheduler tests (a plain module, imported by name).

``Env`` is a cluster without nodes plus the scheduler; nodes are created as bare Node
objects (no kubelet), so nothing changes unless a test writes; ``env.run()`` runs queued work
without moving the clock. Plugins can be exercised on their own through ``env.state(pod)``
and ``env.node_info(name)``.
"""

from __future__ import annotations

from typing import Any

import fakekube
from fakekube.scheduler import CycleState, PodInfo, Scheduler


def get_scheduler(cluster: fakekube.Cluster) -> Scheduler:
    """The cluster's scheduler, added (and set up) if the cluster doesn't run one yet."""
    for c in cluster.manager.controllers:
        if isinstance(c, Scheduler):
            return c
    s = cluster.manager.add(Scheduler(cluster.ctx))
    s.setup()
    return s


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110",
         zone: str | None = None, region: str | None = None, labels: dict | None = None,
         taints: list | None = None, unschedulable: bool = False,
         extra_allocatable: dict | None = None, ready: str = "True") -> dict:
    lab = {"kubernetes.io/hostname": name}
    if zone:
        lab["topology.kubernetes.io/zone"] = zone
    if region:
        lab["topology.kubernetes.io/region"] = region
    lab.update(labels or {})
    alloc = {"cpu": cpu, "memory": memory, "pods": pods, **(extra_allocatable or {})}
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": lab},
            "spec": spec,
            "status": {"capacity": dict(alloc), "allocatable": alloc,
                       "conditions": [{"type": "Ready", "status": ready}]}}


def pod(name: str, cpu: str | None = "100m", memory: str | None = None,
        namespace: str = "default", labels: dict | None = None, **spec: Any) -> dict:
    requests = {}
    if cpu is not None:
        requests["cpu"] = cpu
    if memory is not None:
        requests["memory"] = memory
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    ports = spec.pop("ports", None)
    if ports:
        container["ports"] = ports
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    owner = spec.pop("owner", None)
    if owner:
        meta["ownerReferences"] = [owner]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [container], **spec}}


def pvc(name: str, storage: str = "1Gi", storage_class: str | None = "standard",
        namespace: str = "default", access_modes: tuple = ("ReadWriteOnce",),
        volume_name: str | None = None, annotations: dict | None = None) -> dict:
    spec: dict[str, Any] = {"accessModes": list(access_modes),
                            "resources": {"requests": {"storage": storage}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if volume_name:
        spec["volumeName"] = volume_name
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": spec}


def pv(name: str, storage: str = "1Gi", storage_class: str = "local",
       hostname: str | None = None, zone: str | None = None, labels: dict | None = None,
       access_modes: tuple = ("ReadWriteOnce",)) -> dict:
    spec: dict[str, Any] = {"capacity": {"storage": storage},
                            "accessModes": list(access_modes),
                            "storageClassName": storage_class,
                            "hostPath": {"path": f"/data/{name}"}}
    terms = []
    if hostname:
        terms.append({"key": "kubernetes.io/hostname", "operator": "In", "values": [hostname]})
    if zone:
        terms.append({"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]})
    if terms:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": terms}]}}
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def storage_class(name: str, mode: str = "WaitForFirstConsumer",
                  provisioner: str = "kubernetes.io/no-provisioner",
                  allowed_topologies: list | None = None) -> dict:
    sc: dict[str, Any] = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                          "metadata": {"name": name}, "provisioner": provisioner,
                          "volumeBindingMode": mode}
    if allowed_topologies:
        sc["allowedTopologies"] = allowed_topologies
    return sc


def claim_volume(name: str) -> dict:
    return {"name": name, "persistentVolumeClaim": {"claimName": name}}


# Controllers that would act on the objects the tests write themselves: bind, provision or
# release volumes and claims (the tests play the PV controller's part), or manage the pods
# of the owners the tests name.
LEFT_OUT = {"PersistentVolumeController", "CSIProvisioner", "ExpandController",
            "PVCProtectionController", "PVProtectionController", "ReplicaSetController",
            "DeploymentController", "StatefulSetController", "EphemeralVolumeController"}


class Env:
    """A cluster with bare nodes and the scheduler, run without moving the clock, and
    without the controllers in ``LEFT_OUT``."""

    def __init__(self, nodes: list[dict] | None = None, **options: Any) -> None:
        self.cluster = fakekube.Cluster(nodes=0, **options)
        manager = self.cluster.manager
        manager.controllers = [c for c in manager.controllers
                               if type(c).__name__ not in LEFT_OUT]
        self.scheduler = get_scheduler(self.cluster)
        for n in nodes or ():
            self.cluster.create(n)
        self.run()

    def run(self) -> None:
        self.cluster.manager.run_until_idle(10**7)

    def create(self, obj: dict) -> dict:
        return self.cluster.create(obj)

    def get(self, kind: str, name: str, namespace: str = "default") -> dict:
        return self.cluster.get(kind, name, namespace)

    def node_of(self, name: str, namespace: str = "default") -> str | None:
        return self.get("Pod", name, namespace)["spec"].get("nodeName")

    def condition(self, name: str, namespace: str = "default") -> dict | None:
        for c in self.get("Pod", name, namespace).get("status", {}).get("conditions", []):
            if c["type"] == "PodScheduled":
                return c
        return None

    def message(self, name: str, namespace: str = "default") -> str | None:
        c = self.condition(name, namespace)
        return c.get("message") if c else None

    def events(self, name: str, reason: str | None = None) -> list[dict]:
        pod = self.get("Pod", name)
        return [e for e in self.cluster.events(pod) if reason is None or e["reason"] == reason]

    def create_pv(self, obj: dict, phase: str = "Available") -> dict:
        """Create a PV and set its phase, as the PV controller would (not running here)."""
        self.create(obj)
        return self.set_phase("PersistentVolume", obj["metadata"]["name"], phase)

    def set_phase(self, kind: str, name: str, phase: str, namespace: str = "default") -> dict:
        cur = self.cluster.get(kind, name, namespace)
        cur.setdefault("status", {})["phase"] = phase
        return self.cluster.replace(cur, subresource="status")

    def bind_claim(self, claim: str, volume: str, namespace: str = "default") -> None:
        """Complete a binding as the PV controller does: claimRef on the PV, volumeName and
        the bind-completed annotation on the claim, both phases Bound."""
        c = self.get("PersistentVolumeClaim", claim, namespace)
        v = self.get("PersistentVolume", volume, "")
        v["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": namespace,
                                 "name": claim, "uid": c["metadata"]["uid"], "apiVersion": "v1"}
        self.cluster.replace(v)
        self.set_phase("PersistentVolume", volume, "Bound", "")
        c = self.get("PersistentVolumeClaim", claim, namespace)
        c["spec"]["volumeName"] = volume
        c["metadata"].setdefault("annotations", {})["pv.kubernetes.io/bind-completed"] = "yes"
        self.cluster.replace(c)
        self.set_phase("PersistentVolumeClaim", claim, "Bound", namespace)

    # -- running one plugin --------------------------------------------------------------

    def pod_info(self, obj: dict) -> PodInfo:
        """PodInfo of a pod that is not created (defaults applied by a dry create)."""
        stored = self.cluster.api.create(self.cluster.api.registry.by_kind("Pod"), obj,
                                         obj["metadata"].get("namespace", "default"),
                                         dry_run=True)
        return PodInfo(stored)

    def node_info(self, name: str):
        return self.scheduler.cache.get_node(name)

    def plugin(self, name: str):
        return self.scheduler.framework.plugin(name)

    def pre_filter(self, plugin_name: str, pi: PodInfo) -> tuple[CycleState, Any, Any]:
        state = CycleState()
        result, status = self.plugin(plugin_name).pre_filter(state, pi)
        return state, result, status

    def filter_all(self, plugin_name: str, pi: PodInfo) -> dict[str, Any]:
        """PreFilter then Filter on every node; node name -> status message (or None)."""
        state, _result, status = self.pre_filter(plugin_name, pi)
        out = {}
        for ni in self.scheduler.cache.node_list():
            if status is not None:
                out[ni.name] = ("PREFILTER", status.message())
                continue
            st = self.plugin(plugin_name).filter(state, pi, ni)
            out[ni.name] = None if st is None else st.message()
        return out


counter = iter(range(10**9))


def make_pod(cpu, mem, port, tolerations=(), node_selector=None, eph=None, node_name=""):
    """A PodInfo of one container with these requests (None: not requested), host port,
    tolerations, node selector and node name; named p<i> with uid u<i>, i counting up."""
    requests = {}
    if cpu is not None:
        requests["cpu"] = cpu
    if mem is not None:
        requests["memory"] = mem
    if eph is not None:
        requests["ephemeral-storage"] = eph
    c = {"name": "c", "resources": {"requests": requests}}
    if port:
        c["ports"] = [{"containerPort": port, "hostPort": port, "protocol": "TCP"}]
    spec = {"containers": [c], "tolerations": list(tolerations)}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if node_name:
        spec["nodeName"] = node_name
    i = next(counter)
    return PodInfo({"metadata": {"name": f"p{i}", "namespace": "default", "uid": f"u{i}"},
                    "spec": spec})
