"""Simulated kubelets: one agent per node, driven as one controller.

Each :class:`NodeAgent` registers its Node (with capacity, conditions, addresses and the
well-known labels), renews its Lease in ``kube-node-lease`` every 10 s (a heartbeat named
``kubelet-lease:<node>``, which the node lifecycle controller's lease-expiry deadline names
as ``renewed_by``), refreshes its node status every 5 minutes, and runs the pods bound to it
through the lifecycle of :mod:`fakekube.kubelet.stages`. It writes only through the API, as a
real kubelet: pod status (``/status``), the final delete with grace 0, events.

A failed node's agent does nothing at all: no lease renewals, no status, no deletions; its
containers stop. A restored agent posts Ready again and reconciles: pods deleted meanwhile are
finished (delete with grace 0), surviving pods restart their containers.

Containers whose image has a registered behaviour run it (:mod:`fakekube.kubelet.workloads`,
``self.workloads``): the behaviour starts with the container, stops gracefully with the pod's
deletion, dies without a word with its node, and its readiness is the container's (unless
``cluster.set_pod_ready`` overrides it). Its timers, deliveries and wake-ups run as the key
``("workloads",)`` of this controller's queue.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import errors
from ..api.objects import deep_copy, parse_rfc3339, rfc3339, rfc3339_micro
from ..api.store import ADDED, DELETED, WatchEvent
from ..clock import Timer
from ..runtime import Controller, Result
from .runtime import ContainerRuntime, PodIPAllocator, PodRuntime, image_id
from .stages import POD_STAGES, PROFILE_ANNOTATION, PROFILES, Stage
from .workloads import WorkloadManager

__all__ = ["KubeletController", "NodeAgent", "EXIT_AFTER_ANNOTATION", "EXIT_CODE_ANNOTATION"]

EXIT_AFTER_ANNOTATION = "fakekube.io/exit-after-seconds"  # containers exit this long after start
EXIT_CODE_ANNOTATION = "fakekube.io/exit-code"            # with this code (default 0)
BACKOFF_INITIAL, BACKOFF_MAX = 10.0, 300.0                # CrashLoopBackOff
BACKOFF_RESET = 600.0                                     # a container that ran this long forgets
KUBELET_VERSION_INFO = {
    "kernelVersion": "6.8.0-fakekube", "osImage": "Debian GNU/Linux 12 (bookworm)",
    "containerRuntimeVersion": "containerd://1.7.18", "operatingSystem": "linux",
    "architecture": "amd64",
}
NODE_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory",
     "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
_OWN_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                   "PodScheduled")
_RUNTIME_TIMED = ("pod-restart", "pod-exit")  # stages whose time the containers decide


def _hex(rng, n: int = 64) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


class NodeAgent:
    """One simulated kubelet (its memory: sandboxes, containers, IPs)."""

    def __init__(self, name: str, description: dict[str, Any], index: int) -> None:
        self.name = name
        self.description = description
        self.index = index
        self.failed = False
        self.lease_hb: Timer | None = None
        self.status_hb: Timer | None = None
        self.ips: PodIPAllocator | None = None
        self.pods: dict[str, PodRuntime] = {}          # by pod UID
        self.by_key: dict[tuple[str, str], str] = {}   # (namespace, name) -> UID
        self.mounted: dict[str, set[str]] = {}         # unique volume name -> pod UIDs
        # the first node is 172.18.0.2, as in a kind cluster
        self.internal_ip = f"172.18.{index // 254}.{index % 254 + 1}"


class KubeletController(Controller):
    """All simulated kubelets. Keys: ``("pod", namespace, name)``, ``("node", name)`` and
    ``("workloads",)`` (the simulated processes' pending callbacks)."""

    name = "kubelet"

    def setup(self) -> None:
        ctx = self.ctx
        self.agents: dict[str, NodeAgent] = {}
        self.overrides: dict[tuple[str, str], bool] = {}
        self.rng = ctx.derive_rng("kubelet")
        self.pods = ctx.informer("Pod")
        self.nodes = ctx.informer("Node")
        self.claims = ctx.informer("PersistentVolumeClaim")
        self.volumes = ctx.informer("PersistentVolume")
        self.claim_users: dict[tuple[str, str], set[tuple[str, str]]] = {}
        # unique volume name (as in ``status.volumesAttached``) -> the volumes that have it,
        # and volume -> the claims bound to it (``spec.volumeName``): a node's attach
        # changes reach the pods using those volumes without a walk over the node's pods.
        # node name -> (the node object, the unique names of its volumesAttached)
        self._attached_names: dict[str, tuple[dict, set]] = {}
        self._volumes_by_unique: dict[str, set[str]] = {}
        self._claims_by_volume: dict[str, set[tuple[str, str]]] = {}
        for pv in self.volumes:
            self._index_volume(None, pv)
        for claim in self.claims:
            self._index_claim(None, claim)
        self._warned: set[tuple[str, str]] = set()
        self._own_status_write: tuple[str, str] | None = None  # see _write_status
        self._recorders: dict[str, Any] = {}
        self.pods.table.handlers.append(self._on_pod)
        self.nodes.table.handlers.append(self._on_node)
        self.claims.table.handlers.append(self._on_claim)
        self.volumes.table.handlers.append(self._on_volume)
        self._next_index = 0
        #: The simulated processes and their network: ``workloads.register(image, factory)``.
        self.workloads = WorkloadManager(self)
        for image, factory in (getattr(self.config, "workloads", None) or {}).items():
            self.workloads.register(image, factory)
        for kind in ("EndpointSlice", "Service"):
            ctx.informer(kind).table.handlers.append(self._on_network)

    def recorder(self, node: str):
        rec = self._recorders.get(node)
        if rec is None:
            rec = self._recorders[node] = self.ctx.recorder("kubelet", node)
        return rec

    # -- nodes -----------------------------------------------------------------------------

    def add_node(self, name: str, description: dict[str, Any]) -> NodeAgent:
        if name in self.agents:
            raise ValueError(f"node {name!r} already has a kubelet")
        self._next_index += 1
        agent = self.agents[name] = NodeAgent(name, description, self._next_index)
        # Heartbeats first: the node lifecycle controller names the lease renewal as what
        # pushes its lease-expiry deadline back, from the moment the Lease appears.
        self._start_heartbeats(agent)
        self._register(agent)
        for pod in self.pods.by_field("spec.nodeName", name):  # a node added back
            m = pod["metadata"]
            self.queue.add(("pod", m["namespace"], m["name"]))
        return agent

    def _node_object(self, agent: NodeAgent) -> dict:
        d = agent.description
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": agent.name,
                  "kubernetes.io/os": "linux"}
        if d.get("zone"):
            labels["topology.kubernetes.io/zone"] = str(d["zone"])
        if d.get("region"):
            labels["topology.kubernetes.io/region"] = str(d["region"])
        labels.update(d.get("labels") or {})
        capacity = {"cpu": str(d.get("cpu", "4")), "memory": str(d.get("memory", "8Gi")),
                    "pods": str(d.get("pods", 110)), "ephemeral-storage": "100Gi",
                    "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
        now = self.api.now()
        spec: dict[str, Any] = {}
        if d.get("taints"):
            spec["taints"] = [dict(t) for t in d["taints"]]
        digest = hashlib.sha256(agent.name.encode()).hexdigest()
        info = {"machineID": digest[:32], "systemUUID": digest[32:64], "bootID": _hex(self.rng, 32),
                "kubeletVersion": self.config.kubernetes_version,
                "kubeProxyVersion": self.config.kubernetes_version, **KUBELET_VERSION_INFO}
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": agent.name, "labels": labels, "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": spec,
            "status": {
                "capacity": capacity, "allocatable": dict(capacity),
                "conditions": [{"type": t, "status": s, "lastHeartbeatTime": now,
                                "lastTransitionTime": now, "reason": r, "message": m}
                               for t, s, r, m in NODE_CONDITIONS],
                "addresses": [{"type": "InternalIP", "address": agent.internal_ip},
                              {"type": "Hostname", "address": agent.name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": info,
            },
        }

    def _register(self, agent: NodeAgent) -> None:
        node = self.client.create(self._node_object(agent))
        rec = self.recorder(agent.name)
        rec.event(node, "Normal", "Starting", "Starting kubelet.")
        rec.event(node, "Normal", "NodeAllocatableEnforced",
                  "Updated Node Allocatable limit across pods")
        for reason in ("NodeHasSufficientMemory", "NodeHasNoDiskPressure",
                       "NodeHasSufficientPID"):
            rec.event(node, "Normal", reason, f"Node {agent.name} status is now: {reason}")
        self._ensure_lease(agent, node)

    def _ensure_lease(self, agent: NodeAgent, node: dict) -> None:
        lease = self.client.get("Lease", agent.name, "kube-node-lease")
        spec = {"holderIdentity": agent.name,
                "leaseDurationSeconds": self.config.node_lease_duration_seconds,
                "renewTime": rfc3339_micro(self.clock.now())}
        if lease is None:
            self.client.create({
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": agent.name, "namespace": "kube-node-lease",
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Node",
                                                  "name": agent.name,
                                                  "uid": node["metadata"]["uid"]}]},
                "spec": spec})
        else:
            new = deep_copy(lease)
            new["spec"].update(spec)
            self.client.update(new)

    def _start_heartbeats(self, agent: NodeAgent) -> None:
        period = self.config.node_lease_duration_seconds / 4
        agent.lease_hb = self.clock.call_every(period, lambda: self._renew_lease(agent),
                                               label=f"kubelet-lease:{agent.name}")
        agent.status_hb = self.clock.call_every(
            self.config.node_status_report_frequency, lambda: self._post_status(agent),
            label=f"kubelet-status:{agent.name}")

    def _stop_heartbeats(self, agent: NodeAgent) -> None:
        for t in (agent.lease_hb, agent.status_hb):
            if t is not None:
                t.cancel()
        agent.lease_hb = agent.status_hb = None

    def _renew_lease(self, agent: NodeAgent) -> None:
        if agent.failed:
            return
        lease = self.client.get("Lease", agent.name, "kube-node-lease")
        if lease is None:
            node = self.nodes.get(agent.name)
            if node is not None:
                self._ensure_lease(agent, node)
            return
        new = deep_copy(lease)
        new["spec"]["renewTime"] = rfc3339_micro(self.clock.now())
        try:
            self.client.update(new)
        except errors.ApiError:
            pass

    def _post_status(self, agent: NodeAgent) -> None:
        """The kubelet's node status: Ready and the pressure conditions, heartbeat now."""
        if agent.failed:
            return
        node = self.nodes.get(agent.name)
        if node is None:
            return
        now = self.api.now()
        old = {c["type"]: c for c in (node.get("status") or {}).get("conditions") or ()}
        conds = []
        for t, s, r, m in NODE_CONDITIONS:
            prev = old.get(t)
            lt = prev["lastTransitionTime"] if prev and prev.get("status") == s else now
            conds.append({"type": t, "status": s, "lastHeartbeatTime": now,
                          "lastTransitionTime": lt, "reason": r, "message": m})
        for t, c in old.items():
            if t not in {x[0] for x in NODE_CONDITIONS}:
                conds.append(c)
        status = dict(node.get("status") or {})
        status["conditions"] = conds
        # A status write sends the whole metadata: what it leaves out, it removes.
        body = {"apiVersion": "v1", "kind": "Node", "metadata": dict(node["metadata"]),
                "status": deep_copy(status)}
        try:
            self.client.update_status(body)
        except errors.ApiError:
            return
        if old.get("Ready", {}).get("status") != "True":
            self.recorder(agent.name).event(node, "Normal", "NodeReady",
                                            f"Node {agent.name} status is now: NodeReady")

    def fail(self, name: str) -> None:
        agent = self._agent(name)
        if agent.failed:
            return
        agent.failed = True
        self._stop_heartbeats(agent)
        now = self.clock.now()
        for rt in agent.pods.values():
            if rt.timer is not None:
                rt.timer.cancel()
                rt.timer = None
            self.workloads.kill_pod(rt.uid, graceful=False)  # a power cut: no stop hook
            for c in rt.containers:  # the containers stop with the node
                if c.state == "running":
                    self._terminate_container(c, now, 137, "Error")

    def restore(self, name: str) -> None:
        agent = self._agent(name)
        if not agent.failed:
            return
        agent.failed = False
        self._start_heartbeats(agent)
        self._renew_lease(agent)
        self._post_status(agent)
        now = self.clock.now()
        for rt in agent.pods.values():
            restarted = []
            for c in rt.containers:
                if c.state == "terminated" and c.reason == "Error" and c.exit_code == 137:
                    c.restart_count += 1
                    self._run_container(c, now)
                    rt.stage = None
                    restarted.append(c)
            if restarted and self.workloads.active():
                pod = self.pods.get(rt.name, rt.namespace)
                if pod is not None and pod["metadata"]["uid"] == rt.uid and not pod[
                        "metadata"].get("deletionTimestamp"):
                    self.workloads.start(agent, pod, rt, restarted)
        for ns, name_ in list(agent.by_key):
            self.queue.add(("pod", ns, name_))
        for pod in self.pods.by_field("spec.nodeName", name):
            m = pod["metadata"]
            self.queue.add(("pod", m["namespace"], m["name"]))
        self.queue.add(("node", name))  # volumesInUse may have changed while it was down

    def remove(self, name: str) -> None:
        agent = self.agents.pop(name, None)
        if agent is None:
            return
        self._stop_heartbeats(agent)
        for rt in agent.pods.values():
            if rt.timer is not None:
                rt.timer.cancel()
            self.workloads.forget_pod(rt.uid, graceful=False)

    def _agent(self, name: str) -> NodeAgent:
        agent = self.agents.get(name)
        if agent is None:
            raise KeyError(f"no simulated node named {name!r}")
        return agent

    # -- event handlers --------------------------------------------------------------------

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        m = pod["metadata"]
        spec = pod.get("spec") or {}
        node = spec.get("nodeName")
        if ev.type == DELETED:
            agent = self.agents.get(node) if node else None
            if agent is not None:
                self._forget(agent, m["uid"])
            self._track_claims(pod, add=False)
            if self.workloads.waiters:
                self.workloads.network_changed()
            return
        if node:
            if spec.get("volumes") and (
                    ev.type == ADDED or not (ev.old.get("spec") or {}).get("nodeName")):
                self._track_claims(pod, add=True)
            key = (m["namespace"], m["name"])
            if node in self.agents and key != self._own_status_write:
                self.queue.add(("pod", *key))
        if self.workloads.waiters:
            self.workloads.network_changed()

    def _on_network(self, ev: WatchEvent) -> None:
        if self.workloads.waiters:
            self.workloads.network_changed()

    def _track_claims(self, pod: dict, add: bool) -> None:
        m = pod["metadata"]
        key = (m["namespace"], m["name"])
        for claim in _claim_names(pod):
            users = self.claim_users.setdefault((m["namespace"], claim), set())
            if add:
                users.add(key)
            else:
                users.discard(key)
                if not users:
                    del self.claim_users[(m["namespace"], claim)]

    def _on_node(self, ev: WatchEvent) -> None:
        name = ev.obj["metadata"]["name"]
        agent = self.agents.get(name)
        if agent is None or ev.type == DELETED:
            return
        cidr = (ev.obj.get("spec") or {}).get("podCIDR")
        wake = False
        if cidr and (agent.ips is None or agent.ips.cidr != cidr):
            agent.ips = PodIPAllocator(cidr)
            wake = True
        attached: set | None = None
        if not wake and ev.old is not None:
            before = (ev.old.get("status") or {}).get("volumesAttached")
            after = (ev.obj.get("status") or {}).get("volumesAttached")
            if before != after:
                # Only the pods using a volume that came or went can see a difference.
                attached = ({v.get("name") for v in before or ()}
                            ^ {v.get("name") for v in after or ()})
        if wake:
            for pod in self.pods.by_field("spec.nodeName", name):
                m = pod["metadata"]
                self.queue.add(("pod", m["namespace"], m["name"]))
        elif attached:
            for key in sorted(self._users_of_volumes(attached, name)):
                self.queue.add(("pod", *key))

    def _users_of_volumes(self, names: set, node: str) -> set[tuple[str, str]]:
        """The pods on ``node`` with a claim bound to a volume whose unique name (as in
        ``status.volumesAttached``) is in ``names``."""
        users: set[tuple[str, str]] = set()
        claim_users, get_pod = self.claim_users, self.pods.get
        for unique in names:
            for pv in self._volumes_by_unique.get(unique, ()):
                for claim in self._claims_by_volume.get(pv, ()):
                    for key in claim_users.get(claim, ()):
                        pod = get_pod(key[1], key[0])
                        if pod is not None and pod["spec"].get("nodeName") == node:
                            users.add(key)
        return users

    def _index_volume(self, old: dict | None, new: dict | None) -> None:
        before = unique_volume_name(old) if old is not None else None
        after = unique_volume_name(new) if new is not None else None
        if before != after or old is None or new is None:
            name = (new or old)["metadata"]["name"]
            _move(self._volumes_by_unique, before, after, name)

    def _index_claim(self, old: dict | None, new: dict | None) -> None:
        before = (old.get("spec") or {}).get("volumeName") if old is not None else None
        after = (new.get("spec") or {}).get("volumeName") if new is not None else None
        if before != after:
            m = (new or old)["metadata"]
            _move(self._claims_by_volume, before, after, (m["namespace"], m["name"]))

    def _wake_claim(self, namespace: str, claim: str) -> None:
        for ns, name in self.claim_users.get((namespace, claim), ()):
            self.queue.add(("pod", ns, name))

    def _on_claim(self, ev: WatchEvent) -> None:
        m = ev.obj["metadata"]
        self._index_claim(ev.old, None if ev.type == DELETED else ev.obj)
        self._wake_claim(m["namespace"], m["name"])

    def _on_volume(self, ev: WatchEvent) -> None:
        self._index_volume(ev.old, None if ev.type == DELETED else ev.obj)
        ref = (ev.obj.get("spec") or {}).get("claimRef")
        if ref:
            self._wake_claim(ref.get("namespace", ""), ref.get("name", ""))

    # -- readiness overrides and faults ------------------------------------------------------

    def set_ready(self, namespace: str, name: str, ready: bool | None) -> None:
        if ready is None:
            self.overrides.pop((namespace, name), None)
        else:
            self.overrides[(namespace, name)] = bool(ready)
        self.queue.add(("pod", namespace, name))

    def kill_container(self, namespace: str, name: str, container: str | None,
                       exit_code: int) -> bool:
        pod = self.pods.get(name, namespace)
        node = (pod.get("spec") or {}).get("nodeName") if pod else None
        agent = self.agents.get(node) if node else None
        if agent is None or agent.failed:
            return False
        rt = agent.pods.get(pod["metadata"]["uid"])
        if rt is None:
            return False
        targets = [c for c in rt.containers if c.state == "running"
                   and (container is None or c.name == container)]
        if not targets:
            return False
        now = self.clock.now()
        for c in targets:
            self.workloads.kill(rt.uid, c.name, graceful=False)
            self._terminate_container(c, now, exit_code, "Error" if exit_code else "Completed")
            self._after_exit(pod, rt, c, now)
        self.queue.add(("pod", namespace, name))
        return True

    # -- reconcile -------------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        if key[0] == "workloads":
            self.workloads.drain()
            return None
        if key[0] == "node":
            agent = self.agents.get(key[1])
            if agent is not None and not agent.failed:
                self._report_volumes_in_use(agent)
            return None
        _, namespace, name = key
        pod = self.pods.get(name, namespace)
        if pod is None:
            return None
        node = (pod.get("spec") or {}).get("nodeName")
        agent = self.agents.get(node) if node else None
        if agent is None or agent.failed:
            return None
        self._sync_pod(agent, pod)
        return None

    def _runtime(self, agent: NodeAgent, pod: dict) -> PodRuntime:
        m = pod["metadata"]
        rt = agent.pods.get(m["uid"])
        if rt is None:
            old_uid = agent.by_key.get((m["namespace"], m["name"]))
            if old_uid is not None and old_uid != m["uid"]:
                self._forget(agent, old_uid)
            rt = agent.pods[m["uid"]] = PodRuntime(m["uid"], m["namespace"], m["name"])
            agent.by_key[(m["namespace"], m["name"])] = m["uid"]
            spec = pod.get("spec") or {}
            rt.init = [ContainerRuntime(c["name"], c.get("image", ""), True)
                       for c in spec.get("initContainers") or ()]
            rt.containers = [ContainerRuntime(c["name"], c.get("image", ""))
                             for c in spec.get("containers") or ()]
            rt.start_time = self.clock.now()
        return rt

    def _forget(self, agent: NodeAgent, uid: str) -> None:
        rt = agent.pods.pop(uid, None)
        if rt is None:
            return
        self.workloads.forget_pod(uid)
        self._unmount(agent, uid)
        if rt.timer is not None:
            rt.timer.cancel()
        if rt.ip is not None and agent.ips is not None:
            agent.ips.release(rt.ip)
        if agent.by_key.get((rt.namespace, rt.name)) == uid:
            del agent.by_key[(rt.namespace, rt.name)]

    def _profile(self, pod: dict):
        name = (pod["metadata"].get("annotations") or {}).get(PROFILE_ANNOTATION)
        return PROFILES.get(name or self.config.profile, PROFILES[self.config.profile])

    def _stage(self, pod: dict, rt: PodRuntime) -> Stage | None:
        if rt.terminated:
            return POD_STAGES[0] if pod["metadata"].get("deletionTimestamp") else None
        for stage in POD_STAGES:
            if stage.match(pod, rt):
                return stage
        return None

    def _due(self, stage: Stage, pod: dict, rt: PodRuntime, now: float) -> float:
        if stage.name == "pod-restart":
            return min(c.restart_at for c in rt.containers
                       if c.state == "waiting" and c.restart_at is not None)
        if stage.name == "pod-exit":
            return min(c.exit_at for c in rt.containers
                       if c.state == "running" and c.exit_at is not None)
        if stage.name == "pod-ready" and self._override(pod) is not None:
            return now
        delay = self._profile(pod).delay(stage.name, self.rng)
        if stage.name == "pod-delete":
            end = pod["metadata"].get("deletionTimestamp")
            if end:
                delay = min(delay, max(0.0, parse_rfc3339(end) - now))
        return now + delay

    def _override(self, pod: dict) -> bool | None:
        overrides = self.overrides
        if not overrides:
            return None
        m = pod["metadata"]
        return overrides.get((m["namespace"], m["name"]))

    def _sync_pod(self, agent: NodeAgent, pod: dict) -> None:
        rt = self._runtime(agent, pod)
        now = self.clock.now()
        key = ("pod", rt.namespace, rt.name)
        for _ in range(32):
            rt.unattached = self._unattached(pod, agent.name)
            self._refresh_readiness(pod, rt)
            stage = self._stage(pod, rt)
            if stage is None:
                rt.stage = None
                break
            if stage.name != rt.stage or stage.name in _RUNTIME_TIMED or (
                    stage.name == "pod-ready" and self._override(pod) is not None):
                rt.due = self._due(stage, pod, rt, now)
                rt.stage = stage.name
            if rt.due > now:
                self._arm(rt, key)
                break
            outcome = getattr(self, "_do_" + stage.action)(agent, pod, rt, now)
            rt.stage = None
            if outcome == "gone":
                return
            if outcome == "wait":
                break
        if rt.ip is not None and rt.containers and all(
                c.state == "terminated" for c in rt.containers) and not self._keeps_volumes(
                    agent):
            self._unmount(agent, rt.uid)  # a finished pod's volumes are unmounted
        self._write_status(agent, pod, rt)

    def _arm(self, rt: PodRuntime, key: tuple) -> None:
        if rt.timer is not None and not rt.timer.cancelled:
            if rt.timer.when == rt.due:
                return
            rt.timer.cancel()
        rt.timer = self.clock.call_at(rt.due, lambda: self.queue.add(key),
                                      label=f"kubelet {rt.stage} {rt.namespace}/{rt.name}")

    # -- stage actions ---------------------------------------------------------------------

    def _do_terminate(self, agent: NodeAgent, pod: dict, rt: PodRuntime, now: float) -> str:
        rec = self.recorder(agent.name)
        self.workloads.kill_pod(rt.uid, graceful=True)  # SIGTERM: the behaviours' stop()
        for c in rt.containers + rt.init:
            if c.state == "running":
                rec.event(pod, "Normal", "Killing", f"Stopping container {c.name}")
                self._terminate_container(c, now, 0, "Completed")
            elif c.state == "waiting":
                c.restart_at = None
        rt.terminated = True
        self._unmount(agent, rt.uid)
        self._write_status(agent, pod, rt)
        m = pod["metadata"]
        try:
            self.api.delete(self.api.registry.by_kind("Pod"), m["name"], m["namespace"],
                            grace_period_seconds=0, preconditions={"uid": m["uid"]},
                            copy_out=False)
        except (errors.NotFound, errors.Conflict):
            pass
        return "gone"

    def _do_wait_for_volumes(self, agent: NodeAgent, pod: dict, rt: PodRuntime,
                             now: float) -> str:
        return "wait"

    def _do_start(self, agent: NodeAgent, pod: dict, rt: PodRuntime, now: float) -> str:
        if agent.ips is None:
            return "wait"  # no podCIDR yet: the network is not ready
        ip = agent.ips.allocate()
        if ip is None:
            self.recorder(agent.name).event(
                pod, "Warning", "FailedCreatePodSandBox",
                "Failed to create pod sandbox: plugin type=\"host-local\" failed (add): failed "
                f"to allocate for range 0: no IP addresses available in range set: "
                f"{agent.ips.cidr}")
            return "wait"
        rt.ip = ip
        self._mount(agent, pod)
        rec = self.recorder(agent.name)
        for c in rt.init:
            self._run_container(c, now)
            self._terminate_container(c, now, 0, "Completed")
        for c in rt.containers:
            image = c.image
            rec.event(pod, "Normal", "Pulled",
                      f'Container image "{image}" already present on machine')
            rec.event(pod, "Normal", "Created", f"Created container {c.name}")
            rec.event(pod, "Normal", "Started", f"Started container {c.name}")
            self._run_container(c, now)
            self._schedule_exit(pod, c, now)
        if self.workloads.active():
            self.workloads.start(agent, pod, rt, rt.containers)
        self._refresh_readiness(pod, rt)
        return "next"

    def _do_restart(self, agent: NodeAgent, pod: dict, rt: PodRuntime, now: float) -> str:
        rec = self.recorder(agent.name)
        restarted = []
        for c in rt.containers:
            if c.state == "waiting" and c.restart_at is not None and c.restart_at <= now:
                c.restart_at = None
                rec.event(pod, "Normal", "Started", f"Started container {c.name}")
                self._run_container(c, now)
                self._schedule_exit(pod, c, now)
                restarted.append(c)
        if restarted and self.workloads.active():
            self.workloads.start(agent, pod, rt, restarted)
        return "next"

    def _do_exit(self, agent: NodeAgent, pod: dict, rt: PodRuntime, now: float) -> str:
        for c in rt.containers:
            if c.state == "running" and c.exit_at is not None and c.exit_at <= now:
                self.workloads.kill(rt.uid, c.name, graceful=False)  # it exits by itself
                code = c.pending_exit_code
                self._terminate_container(c, now, code, "Completed" if code == 0 else "Error")
                self._after_exit(pod, rt, c, now)
        return "next"

    def _do_report_ready(self, agent: NodeAgent, pod: dict, rt: PodRuntime, now: float) -> str:
        for c in rt.containers:
            if c.state == "running":
                c.ready = c.want_ready
        return "next"

    # -- containers ------------------------------------------------------------------------

    def _run_container(self, c: ContainerRuntime, now: float) -> None:
        c.state = "running"
        c.reason = c.message = ""
        c.started_at = now
        c.finished_at = None
        c.container_id = "containerd://" + _hex(self.rng)
        c.ready = False
        c.exit_at = None

    def _schedule_exit(self, pod: dict, c: ContainerRuntime, now: float) -> None:
        ann = pod["metadata"].get("annotations") or {}
        after = ann.get(EXIT_AFTER_ANNOTATION)
        if after is None:
            return
        try:
            c.exit_at = now + max(0.0, float(after))
            c.pending_exit_code = int(ann.get(EXIT_CODE_ANNOTATION, "0"))
        except ValueError:
            c.exit_at = None

    def _terminate_container(self, c: ContainerRuntime, now: float, code: int,
                             reason: str) -> None:
        c.state = "terminated"
        c.exit_code = code
        c.reason = reason
        c.finished_at = now
        c.ready = False
        c.exit_at = None

    def _after_exit(self, pod: dict, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        """restartPolicy decides: restart after a CrashLoopBackOff, or stay terminated."""
        policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        if policy == "Never" or (policy == "OnFailure" and c.exit_code == 0):
            return
        ran = now - (c.started_at or now)
        if ran >= BACKOFF_RESET:
            c.backoff = 0.0
        c.backoff = BACKOFF_INITIAL if not c.backoff else min(c.backoff * 2, BACKOFF_MAX)
        c.last_terminated = {"exitCode": c.exit_code, "reason": c.reason,
                             "startedAt": rfc3339(c.started_at or now),
                             "finishedAt": rfc3339(now), "containerID": c.container_id}
        if c.message:  # a termination message (a workload's crash)
            c.last_terminated["message"] = c.message
        c.restart_count += 1
        c.state = "waiting"
        c.reason = "CrashLoopBackOff"
        m = pod["metadata"]
        c.message = (f"back-off {int(c.backoff)}s restarting failed container={c.name} "
                     f"pod={m['name']}_{m['namespace']}({m['uid']})")
        c.restart_at = now + c.backoff
        node = (pod.get("spec") or {}).get("nodeName", "")
        self.recorder(node).event(pod, "Warning", "BackOff",
                                  f"Back-off restarting failed container {c.name} in pod "
                                  f"{m['name']}_{m['namespace']}({m['uid']})")

    def _refresh_readiness(self, pod: dict, rt: PodRuntime) -> None:
        override = self._override(pod)
        procs = self.workloads.procs
        for c in rt.containers:
            if c.state != "running":
                c.want_ready = c.ready = False
            elif override is not None:
                c.want_ready = override
            elif procs:
                p = procs.get((rt.uid, c.name))
                c.want_ready = p.ready if p is not None else True
            else:
                c.want_ready = True

    # -- volumes ---------------------------------------------------------------------------

    def _unattached(self, pod: dict, node: str) -> list[str]:
        """Names of the pod's volumes that cannot be mounted on ``node`` yet: claims not
        bound, or network volumes not attached to this node."""
        out = []
        ns = pod["metadata"]["namespace"]
        for vol in (pod.get("spec") or {}).get("volumes") or ():
            claim_name = _volume_claim(pod, vol)
            if claim_name is None:
                continue
            claim = self.claims.get(claim_name, ns)
            if claim is not None and vol.get("ephemeral") and not _owned_by(claim, pod):
                self._not_owner(pod, node, claim_name)
                out.append(vol["name"])
                continue
            pv_name = (claim.get("spec") or {}).get("volumeName") if claim else None
            if not pv_name or (claim.get("status") or {}).get("phase") != "Bound":
                out.append(vol["name"])
                continue
            pv = self.volumes.get(pv_name)
            if pv is None:
                out.append(vol["name"])
                continue
            if (pv.get("spec") or {}).get("csi") and not self._attached(pv, node):
                out.append(vol["name"])
        return out

    def _mount(self, agent: NodeAgent, pod: dict) -> None:
        """Record the pod's attachable volumes as in use on this node (``volumesInUse``)."""
        ns = pod["metadata"]["namespace"]
        uid = pod["metadata"]["uid"]
        changed = False
        for vol in (pod.get("spec") or {}).get("volumes") or ():
            claim_name = _volume_claim(pod, vol)
            claim = self.claims.get(claim_name, ns) if claim_name else None
            pv_name = (claim.get("spec") or {}).get("volumeName") if claim else None
            pv = self.volumes.get(pv_name) if pv_name else None
            name = unique_volume_name(pv) if pv else None
            if name is None:
                continue
            users = agent.mounted.setdefault(name, set())
            changed |= not users
            users.add(uid)
        if changed:
            self.queue.add(("node", agent.name))

    def _unmount(self, agent: NodeAgent, uid: str) -> None:
        changed = False
        for name in list(agent.mounted):
            users = agent.mounted[name]
            if uid in users:
                users.discard(uid)
                if not users:
                    del agent.mounted[name]
                    changed = True
        if changed:
            self.queue.add(("node", agent.name))

    def _not_owner(self, pod: dict, node: str, claim: str) -> None:
        """A generic ephemeral volume whose claim the pod does not own: it waits, as the
        kubelet's volume manager makes it wait (event once per pod)."""
        m = pod["metadata"]
        key = (m["uid"], claim)
        if key in self._warned:
            return
        self._warned.add(key)
        ns = m["namespace"]
        self.recorder(node).event(pod, "Warning", "FailedMount",
                                  f"Unable to attach or mount volumes: PVC {ns}/{claim} was "
                                  f"not created for pod {ns}/{m['name']} (pod is not owner)")

    def _keeps_volumes(self, agent: NodeAgent) -> bool:
        node = self.nodes.get(agent.name)
        ann = ((node or {}).get("metadata") or {}).get("annotations") or {}
        return ann.get("volumes.kubernetes.io/keep-terminated-pod-volumes") == "true"

    def _report_volumes_in_use(self, agent: NodeAgent) -> None:
        node = self.nodes.get(agent.name)
        if node is None:
            return
        want = sorted(agent.mounted)
        status = node.get("status") or {}
        if (status.get("volumesInUse") or []) == want:
            return
        new_status = deep_copy(status)
        if want:
            new_status["volumesInUse"] = want
        else:
            new_status.pop("volumesInUse", None)
        body = {"apiVersion": "v1", "kind": "Node", "metadata": dict(node["metadata"]),
                "status": new_status}
        try:
            self.client.update_status(body)
        except errors.Conflict:
            self.queue.add(("node", agent.name))

    def _attached(self, pv: dict, node: str) -> bool:
        """Whether the attach/detach controller reports the volume attached to ``node``
        (``status.volumesAttached``, by unique volume name, as the kubelet checks it)."""
        n = self.nodes.get(node)
        if n is None:
            return False
        got = self._attached_names.get(node)
        if got is None or got[0] is not n:  # stored objects are replaced, never changed
            got = self._attached_names[node] = (n, {v.get("name") for v in (
                n.get("status") or {}).get("volumesAttached") or ()})
        return unique_volume_name(pv) in got[1]

    # -- status ----------------------------------------------------------------------------

    def _write_status(self, agent: NodeAgent, pod: dict, rt: PodRuntime) -> None:
        status = self._render(agent, pod, rt)
        if status == pod.get("status"):
            return
        m = pod["metadata"]
        # A status write sends the whole metadata: what it leaves out, it removes.
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": dict(m), "status": status}
        # The pod's sync made this status from the runtime's state: its own write is no
        # news to it (upstream's pod config source ignores status-only updates too).
        self._own_status_write = (m["namespace"], m["name"])
        try:
            self.client.update_status(body)
        except errors.Conflict:
            self.queue.add(("pod", m["namespace"], m["name"]))
        except errors.NotFound:
            pass
        finally:
            self._own_status_write = None

    def _render(self, agent: NodeAgent, pod: dict, rt: PodRuntime) -> dict:
        now = self.api.now()
        old = pod.get("status") or {}
        running = [c for c in rt.containers if c.state == "running"]
        waiting_restart = [c for c in rt.containers if c.state == "waiting"
                           and c.restart_at is not None]
        finished = [c for c in rt.containers if c.state == "terminated"]
        if rt.ip is None:
            phase = "Pending"
        elif finished and len(finished) == len(rt.containers) and not waiting_restart:
            phase = "Succeeded" if all(c.exit_code == 0 for c in finished) else "Failed"
        elif running or waiting_restart or finished:
            phase = "Running"
        else:
            phase = "Pending"
        if rt.terminated and phase == "Pending":
            phase = old.get("phase", "Pending")
        unready = [c.name for c in rt.containers if not c.ready]
        all_ready = not unready and bool(rt.containers)
        old_conds = {c["type"]: c for c in old.get("conditions") or ()}

        def cond(type_: str, ok: bool, reason: str = "", message: str = "") -> dict:
            status = "True" if ok else "False"
            prev = old_conds.get(type_)
            c: dict[str, Any] = {"type": type_, "status": status,
                                 "lastTransitionTime": prev.get("lastTransitionTime", now)
                                 if prev and prev.get("status") == status else now}
            if not ok and reason:
                c["reason"] = reason
                if message:
                    c["message"] = message
            return c

        terminal = phase in ("Succeeded", "Failed")
        names = " ".join(unready)
        ready_reason = "PodCompleted" if terminal else "ContainersNotReady"
        ready_msg = "" if terminal else f"containers with unready status: [{names}]"
        conds = [
            cond("PodReadyToStartContainers", rt.ip is not None and not rt.terminated),
            cond("Initialized", True),
            cond("Ready", all_ready, ready_reason, ready_msg),
            cond("ContainersReady", all_ready, ready_reason, ready_msg),
            old_conds.get("PodScheduled") if old_conds.get("PodScheduled", {}).get(
                "status") == "True" else cond("PodScheduled", True),
        ]
        for t, c in old_conds.items():
            if t not in _OWN_CONDITIONS:
                conds.append(c)
        status: dict[str, Any] = {"phase": phase, "conditions": conds}
        status["hostIP"] = agent.internal_ip
        status["hostIPs"] = [{"ip": agent.internal_ip}]
        if rt.ip is not None:
            status["podIP"] = rt.ip
            status["podIPs"] = [{"ip": rt.ip}]
        status["startTime"] = rfc3339(rt.start_time or self.clock.now())
        if rt.init:
            status["initContainerStatuses"] = [self._container_status(c, False)
                                               for c in rt.init]
        status["containerStatuses"] = [self._container_status(c, True) for c in rt.containers]
        for k in ("qosClass", "nominatedNodeName", "resize", "reason", "message"):
            if k in old:
                status[k] = old[k]
        return status

    @staticmethod
    def _container_status(c: ContainerRuntime, regular: bool) -> dict:
        if c.state == "running":
            state: dict[str, Any] = {"running": {"startedAt": rfc3339(c.started_at or 0)}}
        elif c.state == "terminated":
            t: dict[str, Any] = {"exitCode": c.exit_code, "reason": c.reason,
                                 "startedAt": rfc3339(c.started_at or 0),
                                 "finishedAt": rfc3339(c.finished_at or 0)}
            if c.message:
                t["message"] = c.message
            if c.container_id:
                t["containerID"] = c.container_id
            state = {"terminated": t}
        else:
            w: dict[str, Any] = {"reason": c.reason or "ContainerCreating"}
            if c.message:
                w["message"] = c.message
            state = {"waiting": w}
        out: dict[str, Any] = {"name": c.name, "state": state,
                               "lastState": {"terminated": dict(c.last_terminated)}
                               if c.last_terminated else {},
                               "ready": c.ready, "restartCount": c.restart_count,
                               "image": c.image, "imageID": image_id(c.image) if c.started_at
                               is not None else ""}
        if c.container_id:
            out["containerID"] = c.container_id
        out["started"] = c.state == "running"
        return out


def _owned_by(obj: dict, owner: dict) -> bool:
    uid = owner["metadata"]["uid"]
    return any(r.get("uid") == uid and r.get("controller")
               for r in obj["metadata"].get("ownerReferences") or ())


def unique_volume_name(pv: dict) -> str | None:
    """How the kubelet and the attach/detach controller name an attachable volume in
    ``status.volumesInUse`` / ``status.volumesAttached``: ``kubernetes.io/csi/<driver>^<handle>``."""
    csi = (pv.get("spec") or {}).get("csi")
    if not csi:
        return None
    return f"kubernetes.io/csi/{csi.get('driver', '')}^{csi.get('volumeHandle', '')}"


def _volume_claim(pod: dict, vol: dict) -> str | None:
    pvc = vol.get("persistentVolumeClaim")
    if pvc:
        return pvc.get("claimName")
    if vol.get("ephemeral"):
        return f"{pod['metadata']['name']}-{vol['name']}"
    return None


def _move(index: dict, before: object, after: object, item: object) -> None:
    """Move ``item`` from ``index[before]`` to ``index[after]`` (None: no entry)."""
    if before is not None:
        held = index.get(before)
        if held is not None:
            held.discard(item)
            if not held:
                del index[before]
    if after is not None:
        index.setdefault(after, set()).add(item)


def _claim_names(pod: dict) -> list[str]:
    out = []
    for vol in (pod.get("spec") or {}).get("volumes") or ():
        name = _volume_claim(pod, vol)
        if name:
            out.append(name)
    return out
