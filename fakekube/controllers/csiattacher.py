"""The simulated CSI external-attacher: the sidecar that turns VolumeAttachments into
ControllerPublish/ControllerUnpublish calls, here for every CSI driver at once, with a storage
backend that always succeeds at once.

Follows kubernetes-csi/external-attacher ``pkg/controller/csi_handler.go``
(``SyncNewOrUpdatedVolumeAttachment``, ``syncAttach``, ``syncDetach``, ``csiAttach``,
``csiDetach``, ``SyncNewOrUpdatedPersistentVolume``) and ``pkg/controller/util.go``
(``markAsAttached``, ``markAsDetached``, ``GetFinalizerName``, ``SanitizeDriverName``):

- a VolumeAttachment that is not being deleted and not yet attached: the PersistentVolume it
  names gets the finalizer ``external-attacher/<driver>`` (a PV being deleted is refused:
  ``status.attachError``), the VolumeAttachment gets the same finalizer and the annotation
  ``csi.alpha.kubernetes.io/node-id``, the volume is published, and ``status.attached`` is set
  through the status subresource;
- a VolumeAttachment being deleted that still carries the finalizer (or still says attached):
  the volume is unpublished, ``status.attached`` goes false (status subresource), then the
  finalizer is removed, which lets the API server delete it;
- a PersistentVolume being deleted loses the finalizer once no VolumeAttachment names it.

fakekube has no CSINode objects: a node's CSI node ID is its name.

Each write is the merge patch upstream sends, applied here to the object as read and sent as
an update (:meth:`CSIAttacherController._patch`): the same stored object and watch event as
the patch call, without decoding the whole object again.
"""

from __future__ import annotations

import re

from ..api.patch import merge_patch
from ..api.store import ADDED, DELETED, WatchEvent
from ..errors import ApiError, Conflict
from ..runtime import Controller, Result

__all__ = ["CSIAttacherController", "finalizer_name", "FINALIZER_PREFIX",
           "NODE_ID_ANNOTATION"]

FINALIZER_PREFIX = "external-attacher/"
NODE_ID_ANNOTATION = "csi.alpha.kubernetes.io/node-id"
_NOT_NAME_CHAR = re.compile(r"[^a-zA-Z0-9-]")


def finalizer_name(driver: str) -> str:
    """``GetFinalizerName``: ``external-attacher/`` and the driver name with every character
    outside ``[a-zA-Z0-9-]`` replaced by ``-`` (and an ``X`` appended if it then ends in ``-``).

    >>> finalizer_name("csi.example.com")
    'external-attacher/csi-example-com'
    """
    name = _NOT_NAME_CHAR.sub("-", driver)
    if name.endswith("-"):
        name += "X"
    return FINALIZER_PREFIX + name


def _pv_name(va: dict) -> str | None:
    return ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName")


class CSIAttacherController(Controller):
    """Keys: ``("va", name)`` and ``("pv", name)``."""

    name = "external-attacher"

    def setup(self) -> None:
        ctx = self.ctx
        self.vas = ctx.informer("VolumeAttachment")
        self.pvs = ctx.informer("PersistentVolume")
        # PV name -> names of the VolumeAttachments naming it, in the informer's order
        # (None once an attachment changed the volume it names: then the list is scanned)
        self._by_pv: dict[str | None, dict[str, None]] | None = {}
        self.vas.table.handlers.append(self._on_va)
        self.pvs.table.handlers.append(self._on_pv)
        for va in self.vas:  # added to a running cluster: pick up what is there
            self._index(va, True)
            self.queue.add(("va", va["metadata"]["name"]))

    def _index(self, va: dict, add: bool) -> None:
        if self._by_pv is None:
            return
        pv, name = _pv_name(va), va["metadata"]["name"]
        if add:
            self._by_pv.setdefault(pv, {})[name] = None
            return
        names = self._by_pv.get(pv)
        if names is not None:
            names.pop(name, None)
            if not names:
                del self._by_pv[pv]

    def _attachments_of(self, pv: str) -> list[dict]:
        """The VolumeAttachments naming volume ``pv``, in the informer's order."""
        if self._by_pv is None:
            return [va for va in self.vas if _pv_name(va) == pv]
        get = self.vas.get
        return [va for va in map(get, self._by_pv.get(pv, ())) if va is not None]

    # -- event handlers ------------------------------------------------------------------

    def _on_va(self, ev: WatchEvent) -> None:
        va = ev.obj
        if ev.type == DELETED:
            self._index(va, False)
            pv = _pv_name(va)
            if pv:
                self.queue.add(("pv", pv))
            return
        if ev.type == ADDED:
            self._index(va, True)
        elif _pv_name(ev.old) != _pv_name(va):
            self._by_pv = None  # the order of the index is no longer the informer's
        self.queue.add(("va", va["metadata"]["name"]))

    def _on_pv(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            return
        pv = ev.obj
        m = pv["metadata"]
        name = m["name"]
        if m.get("deletionTimestamp") and any(
                f.startswith(FINALIZER_PREFIX) for f in m.get("finalizers") or ()):
            self.queue.add(("pv", name))
        if ev.type == ADDED or (ev.old or {}).get("metadata", {}).get(
                "deletionTimestamp") != m.get("deletionTimestamp"):
            # attachments that were waiting for this volume (missing, or being deleted)
            for va in self._attachments_of(name):
                if not (va.get("status") or {}).get("attached"):
                    self.queue.add(("va", va["metadata"]["name"]))

    # -- reconcile -----------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        kind, name = key
        if kind == "pv":
            self._sync_pv(name)
            return None
        va = self.vas.get(name)
        if va is None:
            return None
        if va["metadata"].get("deletionTimestamp"):
            self._sync_detach(va)
        else:
            self._sync_attach(va)
        return None

    def _sync_attach(self, va: dict) -> None:
        status = va.get("status") or {}
        if status.get("attached"):
            return
        m = va["metadata"]
        spec = va.get("spec") or {}
        driver = spec.get("attacher", "")
        fin = finalizer_name(driver)
        pv_name = _pv_name(va)
        if pv_name is not None:
            pv = self.pvs.get(pv_name)
            if pv is None:
                self._save_error(va, "attachError",
                                 f'persistentvolume "{pv_name}" not found')
                return  # the PV's arrival wakes us
            if pv["metadata"].get("deletionTimestamp"):
                self._save_error(va, "attachError",
                                 f'PersistentVolume "{pv_name}" is marked for deletion')
                return
            if not (pv.get("spec") or {}).get("csi"):
                self._save_error(va, "attachError",
                                 "pv spec contained non-csi source that was not migrated")
                return
            fins = list(pv["metadata"].get("finalizers") or ())
            if fin not in fins:
                self._patch("PersistentVolume", pv, {"metadata": {"finalizers": fins + [fin]}})
        fins = list(m.get("finalizers") or ())
        node_id = spec.get("nodeName", "")
        meta_patch: dict = {}
        if fin not in fins:
            meta_patch["finalizers"] = fins + [fin]
        if (m.get("annotations") or {}).get(NODE_ID_ANNOTATION) != node_id:
            meta_patch["annotations"] = {NODE_ID_ANNOTATION: node_id}
        if meta_patch:
            va = self._patch("VolumeAttachment", va, {"metadata": meta_patch})
        # ControllerPublishVolume: the simulated backend publishes at once.
        self._patch("VolumeAttachment", va, {"status": {"attached": True, "attachError": None}},
                    "status")

    def _sync_detach(self, va: dict) -> None:
        m = va["metadata"]
        fin = finalizer_name((va.get("spec") or {}).get("attacher", ""))
        fins = list(m.get("finalizers") or ())
        status = va.get("status") or {}
        if fin not in fins and not status.get("attached"):
            return  # already fully detached
        # ControllerUnpublishVolume: the simulated backend unpublishes at once.
        va = self._patch("VolumeAttachment", va, {"status": {
            "attached": False, "detachError": None, "attachmentMetadata": None}}, "status")
        if fin in fins:
            # The finalizer goes after the status, so the object is not deleted early.
            rest = [f for f in fins if f != fin]
            self._patch("VolumeAttachment", va, {"metadata": {"finalizers": rest or None}})

    def _patch(self, kind: str, obj: dict, patch: dict, subresource: str | None = None
               ) -> dict:
        """Write the merge patch ``patch`` of ``obj``, the stored object as read: merged
        here and sent as an update (it stores what the patch call would, and the patch call
        would also decode the whole object again); sent as the patch if the object changed
        since it was read (a conflict). Returns the stored object."""
        try:
            return self.client.update(merge_patch(obj, patch), subresource)
        except Conflict:
            return self.client.patch(kind, obj["metadata"]["name"], None, patch,
                                     subresource=subresource)

    def _save_error(self, va: dict, field: str, message: str) -> None:
        old = (va.get("status") or {}).get(field) or {}
        if old.get("message") == message:
            return
        try:
            self._patch("VolumeAttachment", va,
                        {"status": {field: {"message": message, "time": self.api.now()}}},
                        "status")
        except ApiError:
            pass

    def _sync_pv(self, name: str) -> None:
        pv = self.pvs.get(name)
        if pv is None or not pv["metadata"].get("deletionTimestamp"):
            return
        fins = list(pv["metadata"].get("finalizers") or ())
        ours = [f for f in fins if f.startswith(FINALIZER_PREFIX)]
        if not ours:
            return
        if self._attachments_of(name):
            return  # still needed by an attachment
        rest = [f for f in fins if not f.startswith(FINALIZER_PREFIX)]
        self._patch("PersistentVolume", pv, {"metadata": {"finalizers": rest or None}})
