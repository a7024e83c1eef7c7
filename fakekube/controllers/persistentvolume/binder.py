"""The PersistentVolume controller: binds claims to volumes, keeps both phases, reclaims.

Follows ``kubernetes/kubernetes:pkg/controller/volume/persistentvolume/pv_controller.go``
(``syncClaim``, ``syncUnboundClaim``, ``syncBoundClaim``, ``syncVolume``, ``bind``,
``unbindVolume``, ``reclaimVolume``, ``isVolumeReleased``, ``provisionClaim``,
``provisionClaimOperationExternal``, ``assignDefaultStorageClass``,
``emitEventForUnboundDelayBindingClaim``, ``updateClaimStatus``, ``updateVolumePhase``),
``pv_controller_base.go`` (the event handlers) and
``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go``
(``GetBindVolumeToClaim``, ``IsDelayBindingMode``). SPEC.md VOL-1 .. VOL-8 and VOL-14.

The binding is upstream's two-step write: the volume's ``claimRef`` (and its phase) first,
then the claim's ``volumeName`` and annotations, then the claim's status. Dynamic
provisioning is handed to the external provisioner (:mod:`.provisioner`) by annotating the
claim; the provisioned volume comes back pre-bound and is bound like any other.

Differences from upstream, all in timing only: there is no 15 s resync (every change that
can alter a decision queues the affected keys instead: claims, volumes, classes, and pods
that name a waiting claim), and an operation that cannot succeed until something changes
(an unknown class, a failed delete) is not retried on a timer. The controller also owns the
simulated disks' lifetime: the data behind a volume goes when the last PersistentVolume with
that identity is gone (DESIGN.md, "Storage").
"""

from __future__ import annotations

import re
from typing import Hashable

from ...api.store import ADDED, DELETED, WatchEvent
from ...kubelet.volumes import volume_id
from ...runtime import Controller, EventRecorder, Result
from .common import (ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_BETA_STORAGE_PROVISIONER,
                     ANN_DYNAMICALLY_PROVISIONED, ANN_MIGRATED_TO, ANN_SELECTED_NODE,
                     ANN_STORAGE_PROVISIONER, NOT_SUPPORTED_PROVISIONER,
                     WAIT_FOR_FIRST_CONSUMER, PodsByClaim, annotations_of, claim_class,
                     claim_has_class, claim_reference, is_default_class, is_pod_terminated,
                     pod_claim_names, quantity_of, volume_class)
from .index import VolumeIndex, check_volume_satisfy_claim, is_volume_bound_to_claim, \
    volume_mode_mismatch

__all__ = ["PersistentVolumeController", "external_provisioning_message"]

COMPONENT = "persistentvolume-controller"
_EMPTY: dict = {}
_TMP_PATH = re.compile("/tmp/.+")

MSG_NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
MSG_WAIT_FIRST_CONSUMER = "waiting for first consumer to be created before binding"
MSG_LOST_REFERENCE = ("Bound claim has lost reference to PersistentVolume. Data on the volume "
                      "is lost!")
MSG_LOST_VOLUME = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
MSG_MISBOUND = "Two claims are bound to the same volume, this one is bound incorrectly"
MSG_NO_RECYCLER = "No recycler plugin found for the volume!"
MSG_UNKNOWN_POLICY = "Volume has unrecognized PersistentVolumeReclaimPolicy"


def external_provisioning_message(provisioner: str) -> str:
    """The ``ExternalProvisioning`` event text (``provisionClaimOperationExternal``)."""
    return (f"Waiting for a volume to be created either by the external provisioner "
            f"'{provisioner}' or manually by the system administrator. If volume creation is "
            "delayed, please verify that the provisioner is running and correctly registered.")


def _phase(obj: dict) -> str:
    return (obj.get("status") or _EMPTY).get("phase") or ""


def _claim_ref(pv: dict) -> dict | None:
    return (pv.get("spec") or _EMPTY).get("claimRef")


def _with_annotation(meta: dict, key: str, value: str) -> dict:
    new = dict(meta)
    new["annotations"] = dict(meta.get("annotations") or _EMPTY, **{key: value})
    return new


class PersistentVolumeController(Controller):
    """Keys: ``("claim", namespace, name)``, ``("volume", name)`` and ``("disk", volume id)``
    (the simulated disk of a volume that is gone)."""

    name = "persistentvolume-binder-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.claims = ctx.informer("PersistentVolumeClaim")
        self.volumes = ctx.informer("PersistentVolume")
        self.classes = ctx.informer("StorageClass")
        self.pods = ctx.informer("Pod")
        self.recorder: EventRecorder = ctx.recorder(COMPONENT)
        self.index = VolumeIndex()
        self.pod_index = PodsByClaim()
        self._disks: dict[str, int] = {}  # volume id -> how many PersistentVolumes have it
        self._own_write: Hashable | None = None  # the key whose update is ours (storeXUpdate)
        # Unbound claims, so that a volume that appears or frees up reaches them at once
        # (upstream waits for its resync): by class when they take any volume, by volume
        # name when they asked for one.
        # (Dicts used as ordered sets: the order keys are queued in must not depend on
        # string hashing.)
        self._pending: dict[str, dict[tuple[str, str], None]] = {}
        self._pending_class: dict[tuple[str, str], str] = {}
        self._waiting: dict[str, dict[tuple[str, str], None]] = {}
        self._waiting_for: dict[tuple[str, str], str] = {}
        for pv in self.volumes:
            self._track(pv)
            self.queue.add(("volume", pv["metadata"]["name"]))
        for claim in self.claims:
            m = claim["metadata"]
            self._track_claim(claim, False)
            self.queue.add(("claim", m["namespace"], m["name"]))
        for pod in self.pods:
            self.pod_index.add_pod(pod)
        self.volumes.table.handlers.append(self._on_volume)
        self.claims.table.handlers.append(self._on_claim)
        self.classes.table.handlers.append(self._on_class)
        self.pods.table.handlers.append(self._on_pod)

    # -- events -> keys --------------------------------------------------------------------

    def _track(self, pv: dict) -> None:
        self.index.upsert(pv)
        vid = volume_id(pv)
        if vid is not None:
            self._disks[vid] = self._disks.get(vid, 0) + 1

    def _on_volume(self, ev: WatchEvent) -> None:
        pv = ev.obj
        name = pv["metadata"]["name"]
        if ev.type == DELETED:
            self.index.remove(name)
            vid = volume_id(pv)
            if vid is not None:
                n = self._disks.get(vid, 1) - 1
                if n > 0:
                    self._disks[vid] = n
                else:
                    self._disks.pop(vid, None)
                    self.queue.add(("disk", vid))
            ref = _claim_ref(pv)
            if ref:  # deleteVolume: the claim may now be Lost
                self.queue.add(("claim", ref.get("namespace", ""), ref.get("name", "")))
            return
        if ev.type == ADDED:
            self._track(pv)
        elif pv.get("spec") != ev.old.get("spec") or pv["metadata"].get(
                "annotations") != ev.old["metadata"].get("annotations"):
            self.index.upsert(pv)  # (what the index holds of a volume is in these parts)
        key = ("volume", name)
        if self._own_write != key:
            self.queue.add(key)
        for ns, claim_name in self._waiting.get(name, ()):
            self.queue.add(("claim", ns, claim_name))
        ref = _claim_ref(pv)
        if ref and not ref.get("uid"):  # reserved for a claim: that claim's sync binds it
            self.queue.add(("claim", ref.get("namespace", ""), ref.get("name", "")))
        if _phase(pv) == "Available" and (ev.old is None or _phase(ev.old) != "Available"):
            for ns, claim_name in self._pending.get(volume_class(pv), ()):
                self.queue.add(("claim", ns, claim_name))

    def _track_claim(self, claim: dict, deleted: bool) -> None:
        """File an unbound claim under its class (or under the volume it asked for)."""
        m = claim["metadata"]
        key = (m["namespace"], m["name"])
        for by_key, groups in ((self._pending_class, self._pending),
                               (self._waiting_for, self._waiting)):
            group = by_key.pop(key, None)
            if group is not None:
                members = groups[group]
                members.pop(key, None)
                if not members:
                    del groups[group]
        if deleted or ANN_BIND_COMPLETED in annotations_of(claim):
            return
        volume_name = (claim.get("spec") or _EMPTY).get("volumeName")
        if volume_name:
            self._waiting_for[key] = volume_name
            self._waiting.setdefault(volume_name, {})[key] = None
        else:
            cls = claim_class(claim)
            self._pending_class[key] = cls
            self._pending.setdefault(cls, {})[key] = None

    def _on_claim(self, ev: WatchEvent) -> None:
        m = ev.obj["metadata"]
        ns, name = m["namespace"], m["name"]
        self._track_claim(ev.obj, ev.type == DELETED)
        if ev.type == DELETED:
            volume_name = (ev.obj.get("spec") or _EMPTY).get("volumeName")
            if volume_name:
                self.queue.add(("volume", volume_name))
            for pv_name in self.index.claimed_by(ns, name):
                self.queue.add(("volume", pv_name))
            return
        key = ("claim", ns, name)
        if self._own_write != key:
            self.queue.add(key)

    def _on_class(self, ev: WatchEvent) -> None:
        name = ev.obj["metadata"]["name"]
        default = ev.type != DELETED and is_default_class(ev.obj)
        for claim in self.claims:
            if ANN_BIND_COMPLETED in annotations_of(claim):
                continue
            if claim_class(claim) == name or (default and not claim_has_class(claim)):
                m = claim["metadata"]
                self.queue.add(("claim", m["namespace"], m["name"]))

    def _on_pod(self, ev: WatchEvent) -> None:
        old, new = self.pod_index.observe(ev)
        if not old and not new:
            return
        if ev.type == "MODIFIED" and old == new and (ev.old.get("spec") or _EMPTY).get(
                "nodeName") == (ev.obj.get("spec") or _EMPTY).get("nodeName"):
            return
        # A claim waiting for its first consumer reports which pods it waits for.
        ns = ev.obj["metadata"]["namespace"]
        for name, _ in (new or old):
            claim = self.claims.get(name, ns)
            if claim is not None and not (claim.get("spec") or _EMPTY).get("volumeName") \
                    and ANN_SELECTED_NODE not in annotations_of(claim) \
                    and self._is_delay_binding(claim):
                self.queue.add(("claim", ns, name))

    # -- store access ----------------------------------------------------------------------

    def _get_volume(self, name: str) -> dict | None:
        return self.volumes.get(name)

    def _get_class(self, name: str) -> dict | None:
        return self.classes.get(name) if name else None

    def _default_class(self) -> dict | None:
        """``GetDefaultClass``: the newest default class (by creation time, then name)."""
        best = None
        for sc in self.classes:
            if is_default_class(sc):
                key = (sc["metadata"].get("creationTimestamp", ""), sc["metadata"]["name"])
                if best is None or key > best[0]:
                    best = (key, sc)
        return best[1] if best else None

    def _write(self, key: Hashable, verb, obj: dict) -> dict:
        """Write through the client, marking the resulting watch event as our own so that it
        does not queue a sync of what we just decided (upstream's ``storeClaimUpdate`` /
        ``storeVolumeUpdate``)."""
        self._own_write = key
        try:
            return verb(obj)
        finally:
            self._own_write = None

    def _update_claim(self, claim: dict, status: bool = False) -> dict:
        m = claim["metadata"]
        verb = self.client.update_status if status else self.client.update
        return self._write(("claim", m["namespace"], m["name"]), verb, claim)

    def _update_volume(self, pv: dict, status: bool = False) -> dict:
        verb = self.client.update_status if status else self.client.update
        return self._write(("volume", pv["metadata"]["name"]), verb, pv)

    # -- reconcile -------------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        kind = key[0]
        if kind == "claim":
            claim = self.claims.get(key[2], key[1])
            if claim is not None:
                self.sync_claim(claim)
        elif kind == "volume":
            pv = self.volumes.get(key[1])
            if pv is not None:
                self.sync_volume(pv)
        elif kind == "disk":
            if key[1] not in self._disks:
                self.ctx.volumes.delete(key[1])
        return None

    # -- claims ----------------------------------------------------------------------------

    def sync_claim(self, claim: dict) -> None:
        """``syncClaim``."""
        if ANN_BIND_COMPLETED not in annotations_of(claim):
            self.sync_unbound_claim(claim)
        else:
            self.sync_bound_claim(claim)

    def _is_delay_binding(self, claim: dict) -> bool:
        """``IsDelayBindingMode``: the claim's class binds at the first consumer."""
        sc = self._get_class(claim_class(claim))
        return sc is not None and sc.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER

    def sync_unbound_claim(self, claim: dict) -> None:
        """``syncUnboundClaim``."""
        volume_name = (claim.get("spec") or _EMPTY).get("volumeName")
        if not volume_name:
            delay = self._is_delay_binding(claim)
            pv = self.index.find_best_match_for_claim(claim, delay, self._get_volume)
            if pv is not None:
                self.bind(pv, claim)
                return
            if self.assign_default_storage_class(claim):
                return  # the claim's update brings it back here
            if delay and ANN_SELECTED_NODE not in annotations_of(claim):
                self.emit_event_for_unbound_delay_binding_claim(claim)
            elif claim_class(claim):
                self.provision_claim(claim)
                return
            else:
                self.recorder.event(claim, "Normal", "FailedBinding", MSG_NO_CLASS)
            self.update_claim_status(claim, "Pending", None)
            return
        # The user asked for a specific volume.
        pv = self._get_volume(volume_name)
        if pv is None:
            self.update_claim_status(claim, "Pending", None)
            return
        if _claim_ref(pv) is None:
            why = check_volume_satisfy_claim(pv, claim)
            if why is not None:
                self.recorder.event(claim, "Warning", "VolumeMismatch",
                                    f'Cannot bind to requested volume "{volume_name}": {why}')
                self.update_claim_status(claim, "Pending", None)
            else:
                self.bind(pv, claim)
            return
        if is_volume_bound_to_claim(pv, claim):
            self.bind(pv, claim)
            return
        # Claimed by someone else. (With bound-by-controller on the claim this "should never
        # happen"; upstream then returns an error and retries for ever: not worth a timer.)
        self.recorder.event(claim, "Warning", "FailedBinding",
                            f'volume "{volume_name}" already bound to a different claim.')
        if ANN_BOUND_BY_CONTROLLER not in annotations_of(claim):
            self.update_claim_status(claim, "Pending", None)

    def sync_bound_claim(self, claim: dict) -> None:
        """``syncBoundClaim``."""
        volume_name = (claim.get("spec") or _EMPTY).get("volumeName")
        if not volume_name:
            self.update_claim_status_with_event(claim, "Lost", None, "Warning", "ClaimLost",
                                                MSG_LOST_REFERENCE)
            return
        pv = self._get_volume(volume_name)
        if pv is None:
            self.update_claim_status_with_event(claim, "Lost", None, "Warning", "ClaimLost",
                                                MSG_LOST_VOLUME)
            return
        ref = _claim_ref(pv)
        if ref is None or ref.get("uid") == claim["metadata"].get("uid"):
            self.bind(pv, claim)  # re-bind a volume that came unbound, or fix statuses
            return
        self.update_claim_status_with_event(claim, "Lost", None, "Warning", "ClaimMisbound",
                                            MSG_MISBOUND)

    def emit_event_for_unbound_delay_binding_claim(self, claim: dict) -> None:
        """``emitEventForUnboundDelayBindingClaim``: which first consumer the claim waits for."""
        m = claim["metadata"]
        waiting = []
        for pod_name in self.pod_index.pods(m["namespace"], m["name"]):
            pod = self.pods.get(pod_name, m["namespace"])
            if pod is None or is_pod_terminated(pod):
                continue
            if not (pod.get("spec") or _EMPTY).get("nodeName") and any(
                    n == m["name"] for n, _ in pod_claim_names(pod)):
                waiting.append(pod_name)
        if not waiting:
            self.recorder.event(claim, "Normal", WAIT_FOR_FIRST_CONSUMER, MSG_WAIT_FIRST_CONSUMER)
        elif len(waiting) == 1:
            self.recorder.event(claim, "Normal", "WaitForPodScheduled",
                                f"waiting for pod {waiting[0]} to be scheduled")
        else:
            self.recorder.event(claim, "Normal", "WaitForPodScheduled",
                                f"waiting for pods {','.join(waiting)} to be scheduled")

    def assign_default_storage_class(self, claim: dict) -> bool:
        """``assignDefaultStorageClass`` (VOL-6): a claim with no class at all gets the default
        class, if there is one. True when the claim was updated."""
        if claim_has_class(claim):
            return False
        sc = self._default_class()
        if sc is None:
            return False
        new = dict(claim)
        new["metadata"] = dict(claim["metadata"])
        new["spec"] = dict(claim.get("spec") or _EMPTY, storageClassName=sc["metadata"]["name"])
        self.client.update(new)  # not marked as ours: the update restarts the claim's sync
        return True

    def provision_claim(self, claim: dict) -> None:
        """``provisionClaim`` + ``provisionClaimOperationExternal``: hand the claim to the
        external provisioner of its class by annotating it, and say so."""
        class_name = claim_class(claim)
        sc = self._get_class(class_name)
        if sc is None:
            self.recorder.event(claim, "Warning", "ProvisioningFailed",
                                f'storageclass.storage.k8s.io "{class_name}" not found')
            return
        provisioner = sc.get("provisioner") or ""
        if provisioner == NOT_SUPPORTED_PROVISIONER:
            self.recorder.event(claim, "Warning", "ProvisioningFailed",
                                f"no volume plugin matched name: {provisioner}")
            return
        claim = self.set_claim_provisioner(claim, provisioner)
        self.recorder.event(claim, "Normal", "ExternalProvisioning",
                            external_provisioning_message(provisioner))

    def set_claim_provisioner(self, claim: dict, provisioner: str) -> dict:
        """``setClaimProvisioner``: both storage-provisioner annotations."""
        ann = annotations_of(claim)
        if ann.get(ANN_STORAGE_PROVISIONER) == provisioner and ann.get(
                ANN_BETA_STORAGE_PROVISIONER) == provisioner:
            return claim
        new = dict(claim)
        meta = new["metadata"] = dict(claim["metadata"])
        meta["annotations"] = dict(ann, **{ANN_STORAGE_PROVISIONER: provisioner,
                                           ANN_BETA_STORAGE_PROVISIONER: provisioner})
        return self._update_claim(new)

    # -- binding ---------------------------------------------------------------------------

    def bind(self, pv: dict, claim: dict) -> None:
        """``bind``: volume first, then its phase, then the claim and its status."""
        pv = self.bind_volume_to_claim(pv, claim)
        pv = self.update_volume_phase(pv, "Bound")
        claim = self.bind_claim_to_volume(claim, pv)
        self.update_claim_status(claim, "Bound", pv)

    def bind_volume_to_claim(self, pv: dict, claim: dict) -> dict:
        """``GetBindVolumeToClaim`` and its save: the claimRef with the claim's UID, and
        ``bound-by-controller`` when the binding was the controller's choice."""
        set_bound_by_controller = not is_volume_bound_to_claim(pv, claim)
        ref = _claim_ref(pv)
        m = claim["metadata"]
        new = None
        if ref is None or ref.get("name") != m["name"] or ref.get(
                "namespace") != m["namespace"] or ref.get("uid") != m.get("uid"):
            new = dict(pv)
            new["metadata"] = dict(pv["metadata"])
            new["spec"] = dict(pv.get("spec") or _EMPTY, claimRef=claim_reference(claim))
        if set_bound_by_controller and ANN_BOUND_BY_CONTROLLER not in annotations_of(pv):
            if new is None:
                new = dict(pv)
            new["metadata"] = _with_annotation(new["metadata"], ANN_BOUND_BY_CONTROLLER, "yes")
        if new is None:
            return pv
        return self._update_volume(new)

    def bind_claim_to_volume(self, claim: dict, pv: dict) -> dict:
        """``bindClaimToVolume``: ``volumeName``, ``bound-by-controller`` (when the controller
        set the name) and ``bind-completed``."""
        volume_name = pv["metadata"]["name"]
        meta = claim["metadata"]
        ann = annotations_of(claim)
        should_bind = (claim.get("spec") or _EMPTY).get("volumeName") != volume_name
        new_ann = None
        if should_bind and ANN_BOUND_BY_CONTROLLER not in ann:
            new_ann = dict(ann, **{ANN_BOUND_BY_CONTROLLER: "yes"})
        if ANN_BIND_COMPLETED not in ann:
            new_ann = dict(new_ann or ann, **{ANN_BIND_COMPLETED: "yes"})
        if not should_bind and new_ann is None:
            return claim
        new = dict(claim)
        new["metadata"] = dict(meta)
        if new_ann is not None:
            new["metadata"]["annotations"] = new_ann
        if should_bind:
            new["spec"] = dict(claim.get("spec") or _EMPTY, volumeName=volume_name)
        return self._update_claim(new)

    def unbind_volume(self, pv: dict) -> None:
        """``unbindVolume``: a controller-made binding is removed; a user's pre-binding keeps
        its name and loses only the UID. The volume is Available again."""
        new = dict(pv)
        meta = new["metadata"] = dict(pv["metadata"])
        spec = new["spec"] = dict(pv.get("spec") or _EMPTY)
        ann = annotations_of(pv)
        if ANN_BOUND_BY_CONTROLLER in ann:
            spec.pop("claimRef", None)
            rest = {k: v for k, v in ann.items() if k != ANN_BOUND_BY_CONTROLLER}
            if rest:
                meta["annotations"] = rest
            else:
                meta.pop("annotations", None)
        else:
            spec["claimRef"] = {k: v for k, v in spec["claimRef"].items() if k != "uid"}
        pv = self._update_volume(new)
        self.update_volume_phase(pv, "Available")

    # -- statuses --------------------------------------------------------------------------

    def update_claim_status(self, claim: dict, phase: str, pv: dict | None) -> dict:
        """``updateClaimStatus``: phase; access modes and capacity from the volume (capacity
        only as the claim becomes bound), or neither without a volume."""
        status = claim.get("status") or _EMPTY
        new_status = dict(status)
        dirty = False
        if status.get("phase") != phase:
            new_status["phase"] = phase
            dirty = True
        if pv is None:
            for field in ("accessModes", "capacity"):
                if field in new_status:
                    del new_status[field]
                    dirty = True
        else:
            pv_spec = pv.get("spec") or _EMPTY
            modes = pv_spec.get("accessModes")
            if status.get("accessModes") != modes:
                if modes is None:
                    new_status.pop("accessModes", None)
                else:
                    new_status["accessModes"] = list(modes)
                dirty = True
            if status.get("phase") != phase:
                capacity = pv_spec.get("capacity") or _EMPTY
                have = (status.get("capacity") or _EMPTY).get("storage")
                if "storage" in capacity and (have is None or quantity_of(
                        capacity["storage"]) != quantity_of(have)):
                    new_status["capacity"] = dict(capacity)
                    dirty = True
        if not dirty:
            return claim
        new = dict(claim)
        new["metadata"] = dict(claim["metadata"])
        new["status"] = new_status
        return self._update_claim(new, status=True)

    def update_claim_status_with_event(self, claim: dict, phase: str, pv: dict | None,
                                       type_: str, reason: str, message: str) -> None:
        """``updateClaimStatusWithEvent``: the event only when the phase changes."""
        if _phase(claim) == phase:
            return
        claim = self.update_claim_status(claim, phase, pv)
        self.recorder.event(claim, type_, reason, message)

    def update_volume_phase(self, pv: dict, phase: str, message: str = "") -> dict:
        """``updateVolumePhase``."""
        status = pv.get("status") or _EMPTY
        if status.get("phase") == phase:
            return pv
        new_status = dict(status, phase=phase)
        if message:
            new_status["message"] = message
        else:
            new_status.pop("message", None)
        new = dict(pv)
        new["metadata"] = dict(pv["metadata"])
        new["status"] = new_status
        return self._update_volume(new, status=True)

    def update_volume_phase_with_event(self, pv: dict, phase: str, type_: str, reason: str,
                                       message: str) -> dict:
        """``updateVolumePhaseWithEvent``: the event only when the phase changes."""
        if _phase(pv) == phase:
            return pv
        pv = self.update_volume_phase(pv, phase, message)
        self.recorder.event(pv, type_, reason, message)
        return pv

    # -- volumes ---------------------------------------------------------------------------

    def _claim_for(self, pv: dict, ref: dict) -> dict | None:
        """The claim the volume's claimRef names, if it still exists with that UID."""
        claim = self.claims.get(ref.get("name", ""), ref.get("namespace", ""))
        if claim is not None and claim["metadata"].get("uid") != ref.get("uid"):
            return None  # deleted and re-created under the same name
        return claim

    def sync_volume(self, pv: dict) -> None:
        """``syncVolume``."""
        ref = _claim_ref(pv)
        if ref is None or not ref.get("uid"):
            # Unused, or reserved for a claim that the claim's sync will bind.
            self.update_volume_phase(pv, "Available")
            return
        claim = self._claim_for(pv, ref)
        if claim is None:
            if _phase(pv) not in ("Released", "Failed"):
                pv = self.update_volume_phase(pv, "Released")
            self.reclaim_volume(pv)
            return
        claim_volume = (claim.get("spec") or _EMPTY).get("volumeName")
        if not claim_volume:
            if volume_mode_mismatch(claim, pv):
                self.recorder.event(
                    pv, "Warning", "VolumeMismatch",
                    "Cannot bind PersistentVolume to requested PersistentVolumeClaim "
                    f'"{claim["metadata"]["name"]}" due to incompatible volumeMode.')
                self.recorder.event(
                    claim, "Warning", "VolumeMismatch",
                    f'Cannot bind PersistentVolume "{pv["metadata"]["name"]}" to requested '
                    "PersistentVolumeClaim due to incompatible volumeMode.")
                return
            # Bound on our side, Pending on the claim's: the claim's sync finishes it.
            m = claim["metadata"]
            self.queue.add(("claim", m["namespace"], m["name"]))
            return
        if claim_volume == pv["metadata"]["name"]:
            self.update_volume_phase(pv, "Bound")
            return
        # The claim is bound to another volume.
        ann = annotations_of(pv)
        if ANN_DYNAMICALLY_PROVISIONED in ann and (pv.get("spec") or _EMPTY).get(
                "persistentVolumeReclaimPolicy") == "Delete":
            if _phase(pv) not in ("Released", "Failed"):
                pv = self.update_volume_phase(pv, "Released")
            self.reclaim_volume(pv)
            return
        self.unbind_volume(pv)

    def reclaim_volume(self, pv: dict) -> None:
        """``reclaimVolume`` (VOL-14)."""
        if annotations_of(pv).get(ANN_MIGRATED_TO):
            return
        policy = (pv.get("spec") or _EMPTY).get("persistentVolumeReclaimPolicy")
        if policy == "Retain":
            return
        if policy == "Recycle":
            self.recycle_volume(pv)
        elif policy == "Delete":
            self.delete_volume_operation(pv)
        else:
            self.update_volume_phase_with_event(pv, "Failed", "Warning",
                                                "VolumeUnknownReclaimPolicy", MSG_UNKNOWN_POLICY)

    def is_volume_released(self, pv: dict) -> bool:
        """``isVolumeReleased``: bound to a claim that is gone, or that is bound elsewhere."""
        ref = _claim_ref(pv)
        if not ref or not ref.get("uid"):
            return False
        claim = self.claims.get(ref.get("name", ""), ref.get("namespace", ""))
        if claim is not None and claim["metadata"].get("uid") == ref.get("uid"):
            other = (claim.get("spec") or _EMPTY).get("volumeName")
            return bool(other) and other != pv["metadata"]["name"]
        return True

    def recycle_volume(self, pv: dict) -> None:
        """``recycleVolumeOperation``. The Recycle policy is deprecated and fakekube has no
        recycler plugins: the volume fails as upstream's does without one."""
        if not self.is_volume_released(pv):
            return
        ref = _claim_ref(pv) or _EMPTY
        ns, name = ref.get("namespace", ""), ref.get("name", "")
        users = []
        for pod_name in self.pod_index.pods(ns, name):
            pod = self.pods.get(pod_name, ns)
            if pod is not None and not is_pod_terminated(pod):
                users.append(f"{ns}/{pod_name}")
        if users and self.claims.get(name, ns) is None:
            self.recorder.event(pv, "Normal", "VolumeFailedRecycle",
                                f"Volume is used by pods: {','.join(users)}")
            return
        self.update_volume_phase_with_event(pv, "Failed", "Warning", "VolumeFailedRecycle",
                                            MSG_NO_RECYCLER)

    def delete_volume_operation(self, pv: dict) -> None:
        """``deleteVolumeOperation`` + ``doDeleteVolume`` + ``findDeletablePlugin``: CSI and
        externally provisioned volumes are the external provisioner's to delete; of the
        in-tree plugins only hostPath deletes, and only under ``/tmp/``."""
        if not self.is_volume_released(pv):
            return
        name = pv["metadata"]["name"]
        spec = pv.get("spec") or _EMPTY
        provisioned_by = annotations_of(pv).get(ANN_DYNAMICALLY_PROVISIONED)
        if provisioned_by:
            if not provisioned_by.startswith("kubernetes.io/"):
                return  # an external deleter's job
            error = f"no volume plugin matched name: {provisioned_by}"
        elif spec.get("csi") is not None:
            return  # CSI volume: the external provisioner deletes it (HonorPVReclaimPolicy)
        elif spec.get("hostPath") is not None:
            path = spec["hostPath"].get("path", "")
            if _TMP_PATH.search(path):
                vid = volume_id(pv)
                if vid is not None:
                    self.ctx.volumes.delete(vid)
                self.client.delete("PersistentVolume", name)
                return
            error = f"host_path deleter only supports /tmp/.+ but received provided {path}"
        else:
            error = (f'error getting deleter volume plugin for volume "{name}": '
                     "no deletable volume plugin matched")
        self.update_volume_phase_with_event(pv, "Failed", "Warning", "VolumeFailedDelete", error)
