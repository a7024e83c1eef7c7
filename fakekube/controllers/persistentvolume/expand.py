"""Claim expansion: the expand controller, the CSI external-resizer and the kubelet's online
file-system resize, simulated together; and the ``PersistentVolumeClaimResize`` admission
check.

Follows ``kubernetes/kubernetes:pkg/controller/volume/expand/expand_controller.go``
(``syncHandler``: ``ExternalExpanding`` for CSI volumes), kubernetes-csi/external-resizer
``pkg/controller/controller.go`` (``markPVCResizeInProgress``, ``resizeVolume``,
``markForPendingNodeExpansion``, ``markPVCResizeFinished``),
``kubernetes/kubernetes:pkg/volume/util/resize_util.go`` (``MergeResizeConditionsOfPVC``,
``MarkFSResizeFinished``), the kubelet's ``NodeExpandVolume`` event in
``pkg/volume/util/operationexecutor/operation_generator.go``, and
``kubernetes/kubernetes:plugin/pkg/admission/storage/persistentvolume/resize/admission.go``.

v1.31 defaults (``RecoverVolumeExpansionFailure`` off): raising the request of a bound claim
whose class has ``allowVolumeExpansion: true`` makes the resizer set the claim's ``Resizing``
condition, grow the volume (``pv.spec.capacity``), and, for a Filesystem volume, replace the
condition with ``FileSystemResizePending`` until a pod that mounts the claim runs on a node,
whose kubelet then grows the file system: ``status.capacity`` becomes the new size and the
resize conditions go. A Block volume is done at once (``VolumeResizeSuccessful``).
``status.allocatedResources`` stays unset, as with the gate off.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from ... import errors
from ...api.quantity import BINARY_SI, format_quantity
from ...api.store import DELETED, WatchEvent
from ...runtime import Controller, EventRecorder, Result
from .common import PodsByClaim, claim_class, claim_volume_mode, is_pod_terminated, \
    quantity_of, storage_capacity, storage_request

if TYPE_CHECKING:
    from ...api.registry import ResourceType
    from ...api.server import ApiServer

__all__ = ["ExpandController", "persistent_volume_claim_resize", "merge_resize_conditions",
           "RESIZE_CONDITIONS"]

RESIZING = "Resizing"
FS_RESIZE_PENDING = "FileSystemResizePending"
RESIZE_CONDITIONS = (RESIZING, FS_RESIZE_PENDING, "ControllerResizeError", "NodeResizeError")
MSG_EXTERNAL_EXPANDING = "waiting for an external controller to expand this PVC"
MSG_FS_PENDING = ("Waiting for user to (re-)start a pod to finish file system resize of volume "
                  "on node.")
MSG_ONLY_BOUND = "Only bound persistent volume claims can be expanded"
MSG_NOT_RESIZABLE = ("only dynamically provisioned pvc can be resized and the storageclass "
                     "that provisions the pvc must support resize")
_EMPTY: dict = {}


def _claim_storage(claim: dict | None) -> Fraction:
    return storage_request(claim) if claim is not None else Fraction(0)


def persistent_volume_claim_resize(op: str, rt: "ResourceType", obj: dict, old: dict | None,
                                   api: "ApiServer") -> None:
    """The ``PersistentVolumeClaimResize`` validating admission plugin: growing a claim's
    storage request needs a Bound claim whose (unchanged) class allows volume expansion;
    otherwise 403 Forbidden. Shrinking is the validation's business."""
    if op != "UPDATE" or old is None or rt.kind != "PersistentVolumeClaim" or rt.group != "":
        return
    if storage_request(obj) <= _claim_storage(old):
        return
    name = obj["metadata"].get("name", "")
    if (old.get("status") or _EMPTY).get("phase") != "Bound":
        raise errors.forbidden(rt.plural, rt.group, name, MSG_ONLY_BOUND)
    new_class, old_class = claim_class(obj), claim_class(old)
    sc = None
    if new_class and new_class == old_class:
        sc = api.tables["storageclasses.storage.k8s.io"].objects.get(("", new_class))
    if sc is None or sc.get("allowVolumeExpansion") is not True:
        raise errors.forbidden(rt.plural, rt.group, name, MSG_NOT_RESIZABLE)


def merge_resize_conditions(old: list[dict] | None, new: list[dict]) -> list[dict]:
    """``MergeResizeConditionsOfPVC``: conditions that are not about resizing stay; the resize
    conditions become ``new``, keeping an old one whose type and status are unchanged."""
    wanted = {c["type"]: c for c in new}
    kept, merged = [], []
    for cond in old or ():
        t = cond.get("type")
        if t not in RESIZE_CONDITIONS:
            kept.append(cond)
        elif t in wanted:
            fresh = wanted.pop(t)
            merged.append(cond if cond.get("status") == fresh.get("status") else fresh)
    return kept + merged + list(wanted.values())


def _condition(claim: dict, type_: str) -> dict | None:
    for c in (claim.get("status") or _EMPTY).get("conditions") or ():
        if c.get("type") == type_:
            return c
    return None


class ExpandController(Controller):
    """Keys: ``(namespace, claim name)``."""

    name = "persistentvolume-expander-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.claims = ctx.informer("PersistentVolumeClaim")
        self.volumes = ctx.informer("PersistentVolume")
        self.pods = ctx.informer("Pod")
        self.pod_index = PodsByClaim()
        self.expand_recorder: EventRecorder = ctx.recorder("volume_expand")
        self._recorders: dict[tuple[str, str], EventRecorder] = {}
        for pod in self.pods:
            self.pod_index.add_pod(pod)
        for claim in self.claims:
            self._queue_claim(claim)
        self.claims.table.handlers.append(self._on_claim)
        self.pods.table.handlers.append(self._on_pod)

    # -- events -> keys --------------------------------------------------------------------

    @staticmethod
    def _needs_work(claim: dict) -> bool:
        status = claim.get("status") or _EMPTY
        if status.get("phase") != "Bound" or not (claim.get("spec") or _EMPTY).get("volumeName"):
            return False
        if storage_request(claim) > quantity_of((status.get("capacity") or _EMPTY).get(
                "storage")):
            return True
        return _condition(claim, FS_RESIZE_PENDING) is not None

    def _queue_claim(self, claim: dict) -> None:
        if self._needs_work(claim):
            m = claim["metadata"]
            self.queue.add((m["namespace"], m["name"]))

    def _on_claim(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            self._queue_claim(ev.obj)

    def _on_pod(self, ev: WatchEvent) -> None:
        old, new = self.pod_index.observe(ev)
        if not new or (ev.obj.get("status") or _EMPTY).get("phase") != "Running":
            return
        ns = ev.obj["metadata"]["namespace"]
        for name, _ in new:
            claim = self.claims.get(name, ns)
            if claim is not None and _condition(claim, FS_RESIZE_PENDING) is not None:
                self.queue.add((ns, name))

    # -- store access ----------------------------------------------------------------------

    def recorder(self, component: str, host: str = "") -> EventRecorder:
        rec = self._recorders.get((component, host))
        if rec is None:
            rec = self._recorders[(component, host)] = self.ctx.recorder(component, host)
        return rec

    def _running_user(self, claim: dict) -> dict | None:
        """A running pod on a node that mounts the claim, if any (first by name)."""
        m = claim["metadata"]
        for pod_name in self.pod_index.pods(m["namespace"], m["name"]):
            pod = self.pods.get(pod_name, m["namespace"])
            if pod is None or is_pod_terminated(pod):
                continue
            if (pod.get("spec") or _EMPTY).get("nodeName") and (
                    pod.get("status") or _EMPTY).get("phase") == "Running":
                return pod
        return None

    def _write_claim_status(self, claim: dict, status: dict) -> dict:
        new = dict(claim)
        new["metadata"] = dict(claim["metadata"])
        new["status"] = status
        return self.client.update_status(new)

    def _set_conditions(self, claim: dict, conditions: list[dict]) -> dict:
        status = dict(claim.get("status") or _EMPTY)
        merged = merge_resize_conditions(status.get("conditions"), conditions)
        if merged:
            status["conditions"] = merged
        else:
            status.pop("conditions", None)
        return self._write_claim_status(claim, status)

    def _new_condition(self, type_: str, message: str = "") -> dict:
        cond = {"type": type_, "status": "True", "lastProbeTime": None,
                "lastTransitionTime": self.api.now()}
        if message:
            cond["message"] = message
        return cond

    def _finish(self, claim: dict, capacity: str) -> dict:
        """``MarkFSResizeFinished`` / ``markPVCResizeFinished``: the new capacity, no resize
        conditions."""
        status = dict(claim.get("status") or _EMPTY)
        status["capacity"] = dict(status.get("capacity") or _EMPTY, storage=capacity)
        merged = merge_resize_conditions(status.get("conditions"), [])
        if merged:
            status["conditions"] = merged
        else:
            status.pop("conditions", None)
        return self._write_claim_status(claim, status)

    # -- reconcile -------------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        claim = self.claims.get(key[1], key[0])
        if claim is None or not self._needs_work(claim):
            return None
        pv = self.volumes.get(claim["spec"]["volumeName"])
        ref = (pv.get("spec") or _EMPTY).get("claimRef") if pv is not None else None
        if not ref or ref.get("uid") != claim["metadata"].get("uid") or ref.get(
                "namespace") != claim["metadata"]["namespace"]:
            return None  # "persistent Volume is not bound to PVC being updated"
        request = storage_request(claim)
        csi = (pv.get("spec") or _EMPTY).get("csi")
        if storage_capacity(pv) < request:
            self.expand_recorder.event(claim, "Normal", "ExternalExpanding",
                                       MSG_EXTERNAL_EXPANDING)
            if csi is None:
                return None  # no resizer for this kind of volume
            claim, pv = self.resize_volume(claim, pv, csi.get("driver", ""), request)
        elif _condition(claim, FS_RESIZE_PENDING) is None:
            # The volume is already large enough (grown before): only the file system is left.
            claim = self.mark_for_node_expansion(claim, pv, csi)
        if _condition(claim, FS_RESIZE_PENDING) is not None:
            self.expand_on_node(claim, pv)
        return None

    def resize_volume(self, claim: dict, pv: dict, driver: str, request: Fraction
                      ) -> tuple[dict, dict]:
        """The external-resizer: ``Resizing``, ControllerExpandVolume (the volume's capacity
        grows to the requested bytes), then node expansion pending or done."""
        rec = self.recorder(f"external-resizer {driver}")
        pv_name = pv["metadata"]["name"]
        claim = self._set_conditions(claim, [self._new_condition(RESIZING)])
        rec.event(claim, "Normal", "Resizing", f"External resizer is resizing volume {pv_name}")
        whole = -((-request.numerator) // request.denominator)
        new_pv = dict(pv)
        new_pv["metadata"] = dict(pv["metadata"])
        new_pv["spec"] = dict(pv["spec"], capacity=dict(
            pv["spec"].get("capacity") or _EMPTY, storage=format_quantity(whole, BINARY_SI)))
        pv = self.client.update(new_pv)
        return self.mark_for_node_expansion(claim, pv, pv["spec"].get("csi")), pv

    def mark_for_node_expansion(self, claim: dict, pv: dict, csi: dict | None) -> dict:
        """A Filesystem volume waits for the kubelet (``FileSystemResizePending``); a Block
        volume is done."""
        driver = (csi or _EMPTY).get("driver", "")
        rec = self.recorder(f"external-resizer {driver}")
        if claim_volume_mode(claim) == "Filesystem":
            claim = self._set_conditions(claim, [self._new_condition(FS_RESIZE_PENDING,
                                                                     MSG_FS_PENDING)])
            rec.event(claim, "Normal", "FileSystemResizeRequired",
                      "Require file system resize of volume on node")
            return claim
        claim = self._finish(claim, pv["spec"]["capacity"]["storage"])
        rec.event(claim, "Normal", "VolumeResizeSuccessful", "Resize volume succeeded")
        return claim

    def expand_on_node(self, claim: dict, pv: dict) -> None:
        """The kubelet of a node where a pod mounting the claim runs: NodeExpandVolume, then
        ``MarkFSResizeFinished``."""
        pod = self._running_user(claim)
        if pod is None:
            return
        node = pod["spec"]["nodeName"]
        claim = self._finish(claim, pv["spec"]["capacity"]["storage"])
        self.recorder("kubelet", node).event(
            claim, "Normal", "FileSystemResizeSuccessful",
            f'MountVolume.NodeExpandVolume succeeded for volume "{pv["metadata"]["name"]}" {node}')
