"""The storage-object-in-use protection controllers: PVC protection and PV protection.

Follow ``kubernetes/kubernetes:pkg/controller/volume/pvcprotection/pvc_protection_controller.go``
(``processPVC``, ``isBeingUsed``, ``podUsesPVC``, ``podIsShutDown``, ``enqueuePVCs``) and
``kubernetes/kubernetes:pkg/controller/volume/pvprotection/pv_protection_controller.go``
(``processPV``, ``isBeingUsed``). SPEC.md VOL-11 .. VOL-13.

- PVC protection: ``kubernetes.io/pvc-protection`` leaves a claim being deleted only when no
  *scheduled* pod (``spec.nodeName`` set) in its namespace names it. Terminating and even
  terminal pods still count; only a generic ephemeral volume's claim is exempt from a pod
  that is shut down (``deletionTimestamp`` with ``deletionGracePeriodSeconds: 0``).
- PV protection: ``kubernetes.io/pv-protection`` leaves a volume being deleted only when the
  volume is not ``Bound``.

Both also add their finalizer to a live object that lacks it (the admission plugin adds it
on create).
"""

from __future__ import annotations

from ...api.store import DELETED, WatchEvent
from ...runtime import Controller, Result
from .common import (PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, PodsByClaim,
                     finalizers, pod_claim_names)

__all__ = ["PVCProtectionController", "PVProtectionController", "pod_uses_claim",
           "pod_is_shut_down"]

_EMPTY: dict = {}


def pod_is_shut_down(pod: dict) -> bool:
    """``podIsShutDown``: the kubelet is done with it, or it was force-deleted."""
    m = pod["metadata"]
    return bool(m.get("deletionTimestamp")) and m.get("deletionGracePeriodSeconds") == 0


def pod_uses_claim(pod: dict, claim: dict) -> bool:
    """``podUsesPVC``: only a scheduled pod uses a claim (the kubelet does not start a pod
    whose claim is being deleted); a generic ephemeral claim must also be the pod's own."""
    if not (pod.get("spec") or _EMPTY).get("nodeName"):
        return False
    name = claim["metadata"]["name"]
    for claim_name, ephemeral in pod_claim_names(pod):
        if claim_name != name:
            continue
        if not ephemeral:
            return True
        if not pod_is_shut_down(pod) and _owned_by(claim, pod):
            return True
    return False


def _owned_by(claim: dict, pod: dict) -> bool:
    """``ephemeral.VolumeIsForPod``: the claim's controller is this pod."""
    uid = pod["metadata"].get("uid")
    return any(r.get("controller") and r.get("uid") == uid
               for r in claim["metadata"].get("ownerReferences") or ())


def _being_deleted_with(obj: dict, finalizer: str) -> bool:
    """``isDeletionCandidate``."""
    return bool(obj["metadata"].get("deletionTimestamp")) and finalizer in finalizers(obj)


def _needs_finalizer(obj: dict, finalizer: str) -> bool:
    """``needToAddFinalizer``."""
    return not obj["metadata"].get("deletionTimestamp") and finalizer not in finalizers(obj)


class _FinalizerController(Controller):
    finalizer = ""

    def _write_finalizers(self, obj: dict, fins: list[str]) -> None:
        new = dict(obj)
        meta = new["metadata"] = dict(obj["metadata"])
        if fins:
            meta["finalizers"] = fins
        else:
            meta.pop("finalizers", None)
        self.client.update(new)

    def add_finalizer(self, obj: dict) -> None:
        self._write_finalizers(obj, [*finalizers(obj), self.finalizer])

    def remove_finalizer(self, obj: dict) -> None:
        self._write_finalizers(obj, [f for f in finalizers(obj) if f != self.finalizer])

    def _wants(self, obj: dict) -> bool:
        return _being_deleted_with(obj, self.finalizer) or _needs_finalizer(obj, self.finalizer)


class PVCProtectionController(_FinalizerController):
    """Keys: ``(namespace, claim name)``."""

    name = "persistentvolumeclaim-protection-controller"
    finalizer = PVC_PROTECTION_FINALIZER

    def setup(self) -> None:
        self.claims = self.ctx.informer("PersistentVolumeClaim")
        self.pods = self.ctx.informer("Pod")
        self.pod_index = PodsByClaim()
        for pod in self.pods:
            self.pod_index.add_pod(pod)
        for claim in self.claims:
            self._queue_claim(claim)
        self.claims.table.handlers.append(self._on_claim)
        self.pods.table.handlers.append(self._on_pod)

    def _queue_claim(self, claim: dict) -> None:
        if self._wants(claim):
            m = claim["metadata"]
            self.queue.add((m["namespace"], m["name"]))

    def _on_claim(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            self._queue_claim(ev.obj)

    def _on_pod(self, ev: WatchEvent) -> None:
        old, new = self.pod_index.observe(ev)
        if not old and not new:
            return
        # Any change to a pod may release a claim that waits to be deleted (upstream filters
        # on deleted/terminated/unscheduled pods; it is cheaper here to look at the claims).
        ns = ev.obj["metadata"]["namespace"]
        for name, _ in dict.fromkeys(old + new):
            claim = self.claims.get(name, ns)
            if claim is not None and _being_deleted_with(claim, self.finalizer):
                self.queue.add((ns, name))

    def is_being_used(self, claim: dict) -> bool:
        """``isBeingUsed``: a scheduled pod in the namespace names the claim."""
        m = claim["metadata"]
        for pod_name in self.pod_index.pods(m["namespace"], m["name"]):
            pod = self.pods.get(pod_name, m["namespace"])
            if pod is not None and pod_uses_claim(pod, claim):
                return True
        return False

    def reconcile(self, key: tuple) -> Result | None:
        """``processPVC``."""
        claim = self.claims.get(key[1], key[0])
        if claim is None:
            return None
        if _being_deleted_with(claim, self.finalizer):
            if not self.is_being_used(claim):
                self.remove_finalizer(claim)
        elif _needs_finalizer(claim, self.finalizer):
            self.add_finalizer(claim)
        return None


class PVProtectionController(_FinalizerController):
    """Keys: volume names."""

    name = "persistentvolume-protection-controller"
    finalizer = PV_PROTECTION_FINALIZER

    def setup(self) -> None:
        self.volumes = self.ctx.informer("PersistentVolume")
        for pv in self.volumes:
            self._queue_volume(pv)
        self.volumes.table.handlers.append(self._on_volume)

    def _queue_volume(self, pv: dict) -> None:
        if self._wants(pv):
            self.queue.add(pv["metadata"]["name"])

    def _on_volume(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            self._queue_volume(ev.obj)

    @staticmethod
    def is_being_used(pv: dict) -> bool:
        """``isBeingUsed``: the volume's phase is Bound."""
        return (pv.get("status") or _EMPTY).get("phase") == "Bound"

    def reconcile(self, key: str) -> Result | None:
        """``processPV``."""
        pv = self.volumes.get(key)
        if pv is None:
            return None
        if _being_deleted_with(pv, self.finalizer):
            if not self.is_being_used(pv):
                self.remove_finalizer(pv)
        elif _needs_finalizer(pv, self.finalizer):
            self.add_finalizer(pv)
        return None
