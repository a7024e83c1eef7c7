"""Attach/detach controller and the simulated CSI external-attacher (SPEC.md VOL-15, VOL-16,
VOL-17, NF-10), through real simulated kubelets.

Claims are bound by hand (a PV with ``spec.csi`` and a claimRef, a claim with volumeName and
the bind-completed annotation, both phase Bound). Times are seconds since the cluster
started. The node failure timeline (NF-1..NF-9, as in tests/kubelet): a failed node's pod is
evicted at +350 (deletionTimestamp +380) and stays Terminating; once its Node is removed at
+350, podgc force-deletes the pod at +400.
"""

from __future__ import annotations

import hashlib

import fakekube
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakekube.api.objects import rfc3339, rfc3339_micro
from fakekube.controllers.attachdetach import (AttachDetachController, attachment_name,
                                               is_multi_attach_allowed, is_pod_terminated)
from fakekube.controllers.csiattacher import CSIAttacherController, finalizer_name
from fakekube.kubelet import KubeletController
from fakekube.testing.builders import pod

DRIVER = "csi.example.com"
UNIQUE = "kubernetes.io/csi/csi.example.com^h1"
OUT_OF_SERVICE = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown",
                  "effect": "NoExecute"}
EXCLUSIVE = ('Multi-Attach error for volume "pvc-1" Volume is already exclusively attached '
             "to one node and can't be attached to another")
ATTACHED = 'AttachVolume.Attach succeeded for volume "pvc-1" '


class Sim:
    """A cluster with both controllers registered (before the kubelets) and a clock
    measured from its start."""

    def __init__(self, nodes: int = 2, **options) -> None:
        self.c = c = fakekube.Cluster(nodes=nodes, **options)
        self.t0 = c.now
        present = {type(x) for x in c.manager.controllers}
        ctrls = c.manager.controllers
        for cls in (CSIAttacherController, AttachDetachController):
            if cls not in present:
                ctrl = cls(c.ctx)
                ctrl.setup()
                at = next(i for i, x in enumerate(ctrls) if isinstance(x, KubeletController))
                ctrls.insert(at, ctrl)
        c.manager.run_until_idle(c.config.max_reconciles)

    @property
    def t(self) -> float:
        return self.c.now - self.t0

    def at(self, t: float) -> str:
        return rfc3339(self.t0 + t)

    def advance_to(self, t: float) -> None:
        self.c.advance(self.t0 + t - self.c.now)

    def volume(self, pv: str = "pvc-1", claim: str = "data", handle: str = "h1",
               modes: tuple[str, ...] = ("ReadWriteOnce",), namespace: str = "default",
               source: dict | None = None) -> None:
        """A PV and a claim bound to each other, as the PV controller leaves them."""
        c = self.c
        spec = {"capacity": {"storage": "1Gi"}, "accessModes": list(modes),
                "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "standard",
                "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1",
                             "namespace": namespace, "name": claim}}
        spec.update(source or {"csi": {"driver": DRIVER, "volumeHandle": handle}})
        c.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv},
                  "spec": spec})
        meta = {"name": claim, "namespace": namespace,
                "annotations": {"pv.kubernetes.io/bind-completed": "yes"}}
        claim_obj = c.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                              "metadata": meta,
                              "spec": {"accessModes": list(modes), "volumeName": pv,
                                       "storageClassName": "standard",
                                       "resources": {"requests": {"storage": "1Gi"}}}})
        obj = c.get("PersistentVolume", pv)
        obj["spec"]["claimRef"]["uid"] = claim_obj["metadata"]["uid"]
        obj = c.replace(obj)
        obj["status"] = {"phase": "Bound"}
        c.replace(obj, subresource="status")
        claim_obj = c.get("PersistentVolumeClaim", claim, namespace)
        claim_obj["status"] = {"phase": "Bound", "accessModes": list(modes),
                               "capacity": {"storage": "1Gi"}}
        c.replace(claim_obj, subresource="status")

    def pod(self, name: str, node: str, claim: str = "data", namespace: str | None = None,
            **kw) -> dict:
        obj = pod(name, namespace=namespace, node=node, **kw)
        obj["spec"]["volumes"] = [{"name": "www", "persistentVolumeClaim": {"claimName": claim}}]
        return self.c.create(obj)

    def get(self, kind: str, name: str, namespace: str = "default") -> dict | None:
        try:
            return self.c.get(kind, name, namespace)
        except fakekube.NotFound:
            return None

    def attachments(self) -> dict[str, tuple[str, bool]]:
        """VolumeAttachments: name -> (node, attached)."""
        return {va["metadata"]["name"]: (va["spec"]["nodeName"],
                                         bool(va["status"].get("attached")))
                for va in self.c.list("VolumeAttachment")["items"]}

    def attached_nodes(self, pv: str = "pvc-1") -> list[str]:
        return sorted(va["spec"]["nodeName"] for va in self.c.list("VolumeAttachment")["items"]
                      if va["spec"]["source"].get("persistentVolumeName") == pv
                      and va["status"].get("attached"))

    def events(self, name: str, reason: str | None = None, namespace: str = "default"
               ) -> list[tuple[str, str, str, int]]:
        """(type, reason, message, count) of the events about the current pod ``name``."""
        obj = self.c.get("Pod", name, namespace)
        return [(e["type"], e["reason"], e["message"], e["count"])
                for e in self.c.events(obj) if reason is None or e["reason"] == reason]

    def phase(self, name: str, namespace: str = "default") -> str:
        return self.c.get("Pod", name, namespace)["status"].get("phase", "")

    def waiting_reason(self, name: str) -> str | None:
        cs = (self.c.get("Pod", name)["status"].get("containerStatuses") or [{}])[0]
        return (cs.get("state") or {}).get("waiting", {}).get("reason")

    def volumes_attached(self, node: str) -> list[dict]:
        return self.c.get("Node", node)["status"].get("volumesAttached", [])


def va_name(node: str, handle: str = "h1") -> str:
    return "csi-" + hashlib.sha256(f"{handle}{DRIVER}{node}".encode()).hexdigest()


# -- helpers -----------------------------------------------------------------------------


def test_attachment_name_is_csi_and_sha256_of_handle_driver_node():
    assert attachment_name("h1", DRIVER, "node-1") == va_name("node-1")
    assert va_name("node-1") != va_name("node-2")
    assert finalizer_name("csi.example.com") == "external-attacher/csi-example-com"
    assert finalizer_name("example.com/disk_") == "external-attacher/example-com-disk-X"


def _pod_with(status: dict, deleting: bool = False) -> dict:
    meta = {"name": "p"}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {"metadata": meta, "status": status}


RUNNING = {"name": "a", "state": {"running": {}}}
DONE = {"name": "a", "state": {"terminated": {"exitCode": 0}}}
WAITING = {"name": "a", "state": {"waiting": {"reason": "ContainerCreating"}}}


@pytest.mark.parametrize("status,deleting,terminated", [
    ({"phase": "Failed", "containerStatuses": [RUNNING]}, False, True),
    ({"phase": "Succeeded"}, False, True),
    ({"phase": "Running", "containerStatuses": [RUNNING]}, False, False),
    ({"phase": "Running", "containerStatuses": [RUNNING]}, True, False),  # unreachable node
    ({"phase": "Running", "containerStatuses": [DONE, WAITING]}, True, True),
    ({"phase": "Running", "containerStatuses": [DONE],
      "initContainerStatuses": [RUNNING]}, True, False),
    ({"phase": "Running", "containerStatuses": [{"name": "a", "state": {}}]}, True, False),
    ({"phase": "Pending"}, True, True),  # no statuses at all
])
def test_is_pod_terminated(status, deleting, terminated):
    assert is_pod_terminated(_pod_with(status, deleting)) is terminated


@pytest.mark.parametrize("modes,allowed", [
    (["ReadWriteOnce"], False), (["ReadWriteOncePod"], False), (["ReadWriteMany"], True),
    (["ReadOnlyMany"], True), (["ReadOnlyMany", "ReadWriteOnce"], False), ([], True),
])
def test_multi_attach_allowed_by_access_modes(modes, allowed):
    assert is_multi_attach_allowed({"spec": {"accessModes": modes}}) is allowed


# -- attach (VOL-15) ---------------------------------------------------------------------


def test_attach_creates_volume_attachment_and_the_pod_runs():
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    assert sim.c.settle() == 0
    assert sim.phase("web-0") == "Running"
    va = sim.c.get("VolumeAttachment", va_name("node-1"))
    assert va["spec"] == {"attacher": DRIVER, "nodeName": "node-1",
                          "source": {"persistentVolumeName": "pvc-1"}}
    assert va["status"] == {"attached": True}
    assert va["metadata"]["finalizers"] == ["external-attacher/csi-example-com"]
    assert va["metadata"]["annotations"] == {"csi.alpha.kubernetes.io/node-id": "node-1"}
    assert "external-attacher/csi-example-com" in sim.c.get(
        "PersistentVolume", "pvc-1")["metadata"]["finalizers"]
    assert sim.volumes_attached("node-1") == [{"name": UNIQUE, "devicePath": ""}]
    node = sim.c.get("Node", "node-1")["status"]
    assert node["volumesInUse"] == [UNIQUE]
    assert {c["type"] for c in node["conditions"]} >= {"Ready", "MemoryPressure"}
    assert sim.volumes_attached("node-2") == []
    events = sim.events("web-0")
    assert events[0] == ("Normal", "SuccessfulAttachVolume", ATTACHED, 1)
    assert [e[1] for e in events[1:]] == ["Pulled", "Created", "Started"]
    ev = next(e for e in sim.c.events(sim.c.get("Pod", "web-0"))
              if e["reason"] == "SuccessfulAttachVolume")
    assert ev["source"] == {"component": "attachdetach-controller"}


def test_pod_waits_for_its_claim_to_be_bound_then_attaches():
    sim = Sim()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    assert sim.attachments() == {}
    assert sim.waiting_reason("web-0") == "ContainerCreating"
    sim.advance_to(30)
    sim.volume()
    assert sim.c.settle() == 0
    assert sim.attachments() == {va_name("node-1"): ("node-1", True)}
    assert sim.phase("web-0") == "Running"


def test_claim_bound_to_another_claims_volume_is_not_attached():
    sim = Sim()
    sim.volume()
    pv = sim.c.get("PersistentVolume", "pvc-1")
    pv["spec"]["claimRef"]["uid"] = "00000000-0000-4000-8000-000000000000"
    sim.c.replace(pv)
    sim.pod("web-0", "node-1")
    sim.c.settle()
    assert sim.attachments() == {}
    assert sim.waiting_reason("web-0") == "ContainerCreating"


def test_non_csi_volumes_are_not_attached():
    sim = Sim()
    sim.volume(source={"hostPath": {"path": "/data"}})
    sim.pod("web-0", "node-1")
    sim.c.settle()
    assert sim.attachments() == {}
    assert sim.phase("web-0") == "Running"
    assert sim.volumes_attached("node-1") == []


def test_generic_ephemeral_volume_claim_must_be_controlled_by_the_pod():
    sim = Sim()
    obj = pod("web-0", node="node-1")
    obj["spec"]["volumes"] = [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}}}}}]
    p = sim.c.create(obj)
    sim.volume(claim="web-0-scratch")  # not owned by the pod
    sim.c.settle()
    assert sim.attachments() == {}
    owner = {"apiVersion": "v1", "kind": "Pod", "name": "web-0",
             "uid": p["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
    sim.c.patch("PersistentVolumeClaim", "web-0-scratch",
                {"metadata": {"ownerReferences": [owner]}})  # the claim event wakes the pod
    sim.c.settle()
    assert sim.attachments() == {va_name("node-1"): ("node-1", True)}
    assert sim.phase("web-0") == "Running"


def test_nodes_without_the_controller_managed_annotation_are_left_alone():
    sim = Sim()
    sim.volume()
    sim.c.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "bare"}})
    sim.pod("web-0", "bare")
    sim.advance_to(10)  # (no kubelet: before long the node lifecycle would evict the pod)
    assert sim.attachments() == {}
    sim.c.patch("Node", "bare", {"metadata": {"annotations": {
        "volumes.kubernetes.io/controller-managed-attach-detach": "true"}}})
    sim.advance_to(11)
    assert sim.attachments() == {va_name("bare"): ("bare", True)}
    assert sim.volumes_attached("bare") == [{"name": UNIQUE, "devicePath": ""}]


def test_read_write_many_attaches_to_several_nodes():
    sim = Sim()
    sim.volume(modes=("ReadWriteMany",))
    sim.pod("a", "node-1")
    sim.pod("b", "node-2")
    sim.c.settle()
    assert sim.attached_nodes() == ["node-1", "node-2"]
    assert sim.phase("a") == sim.phase("b") == "Running"
    assert sim.events("b", "FailedAttachVolume") == []


# -- detach (VOL-16) ---------------------------------------------------------------------


def test_pod_deleted_on_a_healthy_node_is_unmounted_then_detached_at_once():
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.advance_to(10)
    watch = sim.c.watch("VolumeAttachment", resource_version=sim.c.list(
        "VolumeAttachment")["metadata"]["resourceVersion"])
    sim.c.delete("Pod", "web-0")
    assert sim.c.settle() == 0
    assert sim.get("Pod", "web-0") is None
    assert sim.attachments() == {}
    assert sim.volumes_attached("node-1") == []
    assert "volumesInUse" not in sim.c.get("Node", "node-1")["status"]
    seen = [(t, o["status"].get("attached"), o["metadata"].get("finalizers"))
            for t, o in watch]
    # deletion requested, the attacher unpublishes, then drops its finalizer (the update
    # that removes the last finalizer deletes: DELETED carries the last stored state)
    fin = ["external-attacher/csi-example-com"]
    assert seen[-3:] == [("MODIFIED", True, fin), ("MODIFIED", False, fin),
                         ("DELETED", False, fin)]


def test_replacement_waits_for_force_detach_after_node_removal():
    """The whole story: a dead node keeps the volume until podgc removes its pod, then for
    six more minutes (forceDetach), while the replacement waits with a Multi-Attach error."""
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.c.fail_node("node-1")
    assert sim.c.settle() == 350
    old = sim.c.get("Pod", "web-0")
    assert old["metadata"]["deletionTimestamp"] == sim.at(380)
    assert sim.attachments() == {va_name("node-1"): ("node-1", True)}  # still desired
    sim.c.remove_node("node-1")
    sim.advance_to(399)
    assert sim.get("Pod", "web-0") is not None
    sim.advance_to(400)
    assert sim.get("Pod", "web-0") is None  # podgc: detach requested now
    sim.pod("web-0", "node-2")
    sim.advance_to(401)
    assert sim.events("web-0") == [("Warning", "FailedAttachVolume", EXCLUSIVE, 1)]
    assert sim.waiting_reason("web-0") == "ContainerCreating"
    sim.advance_to(759.9)
    assert sim.attachments() == {va_name("node-1"): ("node-1", True)}
    assert sim.events("web-0", "FailedAttachVolume") == [
        ("Warning", "FailedAttachVolume", EXCLUSIVE, 1)]  # reported once
    assert sim.c.settle() == pytest.approx(0.1)
    assert sim.t == 760  # 400 + maxWaitForUnmountDuration
    assert sim.attachments() == {va_name("node-2"): ("node-2", True)}
    assert sim.phase("web-0") == "Running"
    attached = [e for e in sim.c.events(sim.c.get("Pod", "web-0"))
                if e["reason"] == "SuccessfulAttachVolume"]
    assert [(e["message"], e["firstTimestamp"]) for e in attached] == [(ATTACHED, sim.at(760))]
    assert sim.volumes_attached("node-2") == [{"name": UNIQUE, "devicePath": ""}]


def test_settle_runs_through_the_force_detach():
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.c.fail_node("node-1")
    sim.c.settle()
    sim.c.remove_node("node-1")
    assert sim.c.settle() == 410  # podgc at 400, force detach at 760
    assert sim.attachments() == {}
    sim.pod("web-0", "node-2")
    assert sim.c.settle() == 0
    assert sim.phase("web-0") == "Running"
    assert sim.events("web-0", "FailedAttachVolume") == []


def test_replacement_names_the_terminating_pod_that_still_uses_the_volume():
    sim = Sim()
    sim.volume()
    sim.pod("web-1", "node-1")
    sim.c.settle()
    sim.c.fail_node("node-1")
    sim.c.settle()  # web-1 Terminating, its containers still "running"
    sim.pod("web-2", "node-2")
    sim.c.settle()
    assert sim.events("web-2") == [
        ("Warning", "FailedAttachVolume",
         'Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) web-1', 1)]
    assert sim.attachments() == {va_name("node-1"): ("node-1", True)}


def test_out_of_service_taint_detaches_without_waiting():
    sim = Sim()
    sim.volume()
    sim.pod("web-1", "node-1")
    sim.c.settle()
    sim.c.fail_node("node-1")
    sim.c.settle()  # +350: web-1 Terminating
    sim.pod("web-2", "node-2")
    taints = sim.c.get("Node", "node-1")["spec"]["taints"]
    sim.c.patch("Node", "node-1", {"spec": {"taints": taints + [OUT_OF_SERVICE]}})
    sim.advance_to(359.9)
    assert sim.get("Pod", "web-1") is not None
    assert sim.c.settle() == pytest.approx(0.1)
    assert sim.t == 360  # podgc's next pass deletes web-1; the detach follows at once
    assert sim.get("Pod", "web-1") is None
    assert sim.attachments() == {va_name("node-2"): ("node-2", True)}
    assert sim.phase("web-2") == "Running"
    assert sim.volumes_attached("node-1") == []
    assert sim.c.get("Node", "node-1")["status"]["volumesInUse"] == [UNIQUE]  # never unmounted


def test_out_of_service_taint_ignored_when_the_feature_gate_is_off():
    sim = Sim(feature_gates={"NodeOutOfServiceVolumeDetach": False})
    sim.volume()
    sim.pod("web-1", "node-1")
    sim.c.settle()
    sim.c.fail_node("node-1")
    sim.c.settle()
    taints = sim.c.get("Node", "node-1")["spec"]["taints"]
    sim.c.patch("Node", "node-1", {"spec": {"taints": taints + [OUT_OF_SERVICE]}})
    sim.advance_to(360)
    assert sim.get("Pod", "web-1") is None
    assert sim.attached_nodes() == ["node-1"]
    assert sim.c.settle() == 360  # the 6-minute force detach instead
    assert sim.attachments() == {}


def test_force_detach_counts_from_the_request_not_from_unhealthiness():
    """The pod is force-deleted while its node still looks Ready: the detach waits for the
    unmount; the node goes NotReady 40 s later; the force detach comes 6 min after the
    request."""
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.advance_to(100)
    sim.c.fail_node("node-1")
    sim.c.delete("Pod", "web-0", grace_period_seconds=0)
    sim.advance_to(140)
    assert sim.attached_nodes() == ["node-1"]
    sim.advance_to(459.9)
    assert sim.attached_nodes() == ["node-1"]
    assert sim.volumes_attached("node-1") == [{"name": UNIQUE, "devicePath": ""}]
    sim.advance_to(460)
    assert sim.attachments() == {}
    assert sim.volumes_attached("node-1") == []


def test_mounted_volume_on_a_healthy_node_is_not_force_detached():
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    # The node goes on reporting the volume in use although no pod wants it: its kubelet
    # is replaced by bare lease renewals, so the node stays Ready and nobody unmounts.
    sim.c.kubelets.remove("node-1")

    def renew() -> None:
        sim.c.patch("Lease", "node-1", {"spec": {"renewTime": rfc3339_micro(sim.c.now)}},
                    namespace="kube-node-lease")

    sim.c.clock.call_every(10, renew, label="kubelet-lease:node-1")
    sim.c.delete("Pod", "web-0", grace_period_seconds=0)
    sim.advance_to(1000)
    node = sim.c.get("Node", "node-1")
    assert node["status"]["volumesInUse"] == [UNIQUE]
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")[
        "status"] == "True"
    assert sim.attached_nodes() == ["node-1"]  # healthy and mounted: no force detach
    assert sim.volumes_attached("node-1") == [{"name": UNIQUE, "devicePath": ""}]


def test_disable_force_detach_on_timeout_keeps_the_volume_attached():
    sim = Sim(disable_force_detach_on_timeout=True)
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.c.fail_node("node-1")
    sim.c.settle()
    sim.c.remove_node("node-1")
    assert sim.c.settle() == 50  # podgc, and nothing after it
    assert sim.attached_nodes() == ["node-1"]
    sim.advance_to(2000)
    assert sim.attached_nodes() == ["node-1"]


def test_keep_terminated_pod_volumes_annotation():
    sim = Sim()
    sim.volume(pv="pvc-1", claim="a", handle="h1")
    sim.volume(pv="pvc-2", claim="b", handle="h2")
    sim.c.patch("Node", "node-2", {"metadata": {"annotations": {
        "volumes.kubernetes.io/keep-terminated-pod-volumes": "true"}}})
    exit_now = {"fakekube.io/exit-after-seconds": "5"}
    for name, node, claim in (("a", "node-1", "a"), ("b", "node-2", "b")):
        obj = pod(name, node=node, restartPolicy="Never")
        obj["metadata"]["annotations"] = exit_now
        obj["spec"]["volumes"] = [{"name": "www", "persistentVolumeClaim": {"claimName": claim}}]
        sim.c.create(obj)
    sim.c.settle()
    assert sim.phase("a") == sim.phase("b") == "Succeeded"
    # a's volume is no longer wanted: the kubelet unmounted it, so it is detached at once;
    # b's node keeps terminated pods' volumes, so b's stays wanted and attached
    ad = next(x for x in sim.c.manager.controllers if isinstance(x, AttachDetachController))
    assert sorted(ad.desired) == ["kubernetes.io/csi/csi.example.com^h2"]
    assert "node-1" not in ad.attached.get(UNIQUE, {})
    assert ad.attached["kubernetes.io/csi/csi.example.com^h2"]["node-2"].detach_requested_at is None
    in_use = sim.c.get("Node", "node-2")["status"].get("volumesInUse", [])
    assert in_use == ["kubernetes.io/csi/csi.example.com^h2"]


# -- multi-attach (VOL-17) ---------------------------------------------------------------


def test_second_pod_on_another_node_waits_until_the_first_is_gone():
    sim = Sim()
    sim.volume()
    sim.pod("a", "node-1")
    sim.c.settle()
    sim.pod("b", "node-2")
    sim.advance_to(100)
    assert sim.events("b") == [
        ("Warning", "FailedAttachVolume",
         'Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) a', 1)]
    assert sim.waiting_reason("b") == "ContainerCreating"
    sim.c.delete("Pod", "a")
    assert sim.c.settle() == 0
    assert sim.attachments() == {va_name("node-2"): ("node-2", True)}
    assert sim.phase("b") == "Running"
    assert sim.events("b", "SuccessfulAttachVolume") == [
        ("Normal", "SuccessfulAttachVolume", ATTACHED, 1)]


def test_read_write_once_pod_is_not_multi_attached():
    sim = Sim()
    sim.volume(modes=("ReadWriteOncePod",))
    sim.pod("a", "node-1")
    sim.c.settle()
    sim.pod("b", "node-2")
    sim.c.settle()
    assert sim.attached_nodes() == ["node-1"]
    assert sim.events("b", "FailedAttachVolume")[0][2].endswith("already used by pod(s) a")


def test_multi_attach_message_counts_pods_in_other_namespaces():
    """Two PVs with one CSI handle are one volume: the message names only the pods in the
    waiting pod's namespace and counts the others."""
    sim = Sim(nodes=3)
    sim.c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    sim.volume(pv="pvc-1", claim="mine")
    sim.volume(pv="pvc-2", claim="theirs", namespace="other")
    sim.pod("x", "node-1", claim="theirs", namespace="other")
    sim.c.settle()
    sim.pod("y", "node-2", claim="mine")
    sim.c.settle()
    assert sim.events("y") == [
        ("Warning", "FailedAttachVolume", 'Multi-Attach error for volume "pvc-1" Volume is '
         "already used by 1 pod(s) in different namespaces", 1)]
    sim.pod("local", "node-1", claim="mine")
    sim.pod("z", "node-3", claim="mine")
    sim.c.settle()
    assert sim.events("z") == [
        ("Warning", "FailedAttachVolume", 'Multi-Attach error for volume "pvc-1" Volume is '
         "already used by pod(s) local and 1 pod(s) in different namespaces", 1)]
    assert sim.attached_nodes("pvc-1") + sim.attached_nodes("pvc-2") == ["node-1"]


# -- the external-attacher ---------------------------------------------------------------


def test_volume_being_deleted_keeps_the_attacher_finalizer_until_detached():
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.c.delete("PersistentVolume", "pvc-1")
    sim.c.settle()
    fins = sim.c.get("PersistentVolume", "pvc-1")["metadata"]["finalizers"]
    assert "external-attacher/csi-example-com" in fins
    sim.c.delete("Pod", "web-0")
    sim.c.settle()
    pv = sim.get("PersistentVolume", "pvc-1")
    assert pv is None or "external-attacher/csi-example-com" not in pv["metadata"].get(
        "finalizers", [])


def test_attacher_refuses_a_volume_marked_for_deletion():
    sim = Sim()
    sim.volume()
    sim.c.patch("PersistentVolume", "pvc-1", {"metadata": {"finalizers": ["example.com/x"]}})
    sim.c.delete("PersistentVolume", "pvc-1")
    sim.pod("web-0", "node-1")
    sim.c.settle()
    va = sim.c.get("VolumeAttachment", va_name("node-1"))
    assert not va["status"].get("attached")
    assert va["status"]["attachError"]["message"] == (
        'PersistentVolume "pvc-1" is marked for deletion')
    assert sim.waiting_reason("web-0") == "ContainerCreating"


def test_deleted_volume_attachment_is_attached_again_at_the_next_sync():
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.advance_to(70)
    sim.c.delete("VolumeAttachment", va_name("node-1"))
    sim.advance_to(70.5)
    assert sim.attachments() == {}  # the attacher unpublished it
    assert sim.c.settle() == 49.5  # the sync at 120 notices, the attach follows
    assert sim.attachments() == {va_name("node-1"): ("node-1", True)}
    assert sim.volumes_attached("node-1") == [{"name": UNIQUE, "devicePath": ""}]


def test_controllers_added_to_a_running_cluster_pick_up_attachments():
    sim = Sim()
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    c = sim.c
    ad = next(x for x in c.manager.controllers if isinstance(x, AttachDetachController))
    fresh = AttachDetachController(c.ctx)
    fresh.setup()
    c.manager.controllers[c.manager.controllers.index(ad)] = fresh
    c.manager.run_until_idle(10_000)
    assert fresh.attached[UNIQUE]["node-1"].mounted
    c.delete("Pod", "web-0")
    c.settle()
    assert sim.attachments() == {}


# -- the properties ----------------------------------------------------------------------

NODES = ("node-1", "node-2", "node-3")


def plans(node_ops: tuple[str, ...]):
    return st.lists(st.one_of(
        st.tuples(st.just("create"), st.sampled_from(NODES), st.sampled_from(("c0", "c1"))),
        st.tuples(st.just("delete"), st.integers(0, 20), st.booleans()),
        st.tuples(st.sampled_from(node_ops), st.sampled_from(NODES)),
        st.tuples(st.just("advance"), st.sampled_from((1, 30, 100, 400))),
    ), max_size=14)


def run_plan(plan: list[tuple], check=None) -> Sim:
    """Two RWO claims c0, c1 and three nodes; pods p0, p1, ... created, deleted (gracefully
    or with grace 0), nodes failed, restored, removed, added back, tainted out-of-service,
    time advanced; then settle. ``check(attachments)`` runs inside every VolumeAttachment
    write, with the stored VolumeAttachments."""
    sim = Sim(nodes=3)
    sim.volume(pv="pv-c0", claim="c0", handle="h0")
    sim.volume(pv="pv-c1", claim="c1", handle="h1")
    c = sim.c
    if check is not None:
        table = c.api.table(c.api.registry.by_kind("VolumeAttachment"))
        table.handlers.append(lambda _ev: check(table.objects.values()))
    created: list[str] = []
    removed: set[str] = set()
    for step in plan:
        op = step[0]
        if op == "create":
            name = f"p{len(created)}"
            created.append(name)
            sim.pod(name, step[1], claim=step[2])
        elif op == "delete" and created:
            name = created[step[1] % len(created)]
            if sim.get("Pod", name) is not None:
                c.delete("Pod", name, grace_period_seconds=0 if step[2] else None)
        elif op == "fail" and step[1] in c.kubelets.agents:
            c.fail_node(step[1])
        elif op == "restore" and step[1] in c.kubelets.agents:
            c.restore_node(step[1])
        elif op == "remove" and step[1] not in removed:
            c.remove_node(step[1])
            removed.add(step[1])
        elif op == "add" and step[1] in removed:
            c.add_node(step[1])
            removed.discard(step[1])
        elif op == "taint" and step[1] not in removed:
            taints = c.get("Node", step[1])["spec"].get("taints") or []
            if OUT_OF_SERVICE not in taints:
                c.patch("Node", step[1], {"spec": {"taints": taints + [OUT_OF_SERVICE]}})
        elif op == "advance":
            c.advance(step[1])
        c.manager.run_until_idle(c.config.max_reconciles)
    c.settle(max_seconds=7200)
    return sim


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(("fail", "restore", "remove", "add", "taint")))
def test_read_write_once_volume_is_never_attached_to_two_nodes(plan):
    violations: list[str] = []

    def check(attachments) -> None:
        nodes: dict[str, set[str]] = {}
        for va in attachments:
            if va.get("status", {}).get("attached"):
                nodes.setdefault(va["spec"]["source"]["persistentVolumeName"], set()).add(
                    va["spec"]["nodeName"])
        violations.extend(f"{pv} attached to {sorted(on)}" for pv, on in nodes.items()
                          if len(on) > 1)

    run_plan(plan, check)
    assert violations == []


def _claim(p: dict) -> str:
    return p["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]


# Without "restore" and "add": a restored kubelet does not report volumesInUse again, and
# a re-added node's kubelet is not woken by the attachment of a pod created while the node
# was gone (kubelet gaps, reported to the lead).
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(("fail", "remove", "taint")))
def test_a_pod_alone_with_its_claim_on_a_healthy_node_ends_up_running(plan):
    """After settle, a live pod on a healthy node whose claim no pod on another node uses has
    its volume attached and runs: every detach that can happen has happened."""
    sim = run_plan(plan)
    c = sim.c
    pods = c.list("Pod")["items"]
    for p in pods:
        node = p["spec"]["nodeName"]
        agent = c.kubelets.agents.get(node)
        if p["metadata"].get("deletionTimestamp") or agent is None or agent.failed:
            continue
        if any(q is not p and q["spec"]["nodeName"] != node and _claim(q) == _claim(p)
               for q in pods):
            continue
        assert p["status"]["phase"] == "Running", p["metadata"]["name"]
        assert sim.attached_nodes(f"pv-{_claim(p)}") == [node]
