"""The garbage collector: ownerReferences and the three propagation policies.

Follows kubernetes/kubernetes ``pkg/controller/garbagecollector`` (``attemptToDeleteItem``,
``orphanDependents``, ``processDeletingDependentsItem``):

- an object whose owners are all gone (absent, or present under another UID) is deleted,
  with the propagation its own finalizers ask for (Background otherwise);
- an object with some owners alive loses the references to the absent ones;
- an owner being deleted in the Foreground (finalizer ``foregroundDeletion``) has its
  dependents deleted (in the Foreground too) and keeps its finalizer until every dependent
  that has ``blockOwnerDeletion: true`` is gone;
- an owner being deleted with Orphan (finalizer ``orphan``) has its references removed from
  every dependent, then loses the finalizer.

The owner graph is the store's owner-UID index over every table, so nothing is cached here.
"""

from __future__ import annotations

from ..api.registry import ResourceType
from ..api.store import ADDED, DELETED, WatchEvent
from ..errors import ApiError, NotFound
from ..runtime import Controller, Result

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


class GarbageCollector(Controller):
    name = "garbage-collector-controller"

    def setup(self) -> None:
        api = self.api
        self._types: dict[str, ResourceType] = {}
        for rt in api.registry.kinds:
            table = api.table(rt)
            self._types[rt.group_resource] = rt
            table.handlers.append(self._handler(rt))

    def _handler(self, rt: ResourceType):
        gr = rt.group_resource

        def on_event(ev: WatchEvent) -> None:
            obj = ev.obj
            m = obj["metadata"]
            key = (gr, m.get("namespace", ""), m["name"])
            if ev.type == DELETED:
                self._enqueue_dependents(m["uid"])
                for ref in m.get("ownerReferences") or ():
                    self._enqueue_owner(ref, m.get("namespace", ""))
                return
            if ev.type == ADDED:
                if m.get("ownerReferences"):
                    self.queue.add(key)
                return
            om = ev.old["metadata"]
            if m.get("ownerReferences") != om.get("ownerReferences"):
                self.queue.add(key)
            if m.get("deletionTimestamp") and (
                    FOREGROUND in (m.get("finalizers") or ()) or ORPHAN in (
                        m.get("finalizers") or ())):
                self.queue.add(key)

        return on_event

    def _enqueue_dependents(self, uid: str) -> None:
        for gr, table in self.api.tables.items():
            for ns, name in table.owners.get(uid, ()):
                self.queue.add((gr, ns, name))

    def _enqueue_owner(self, ref: dict, namespace: str) -> None:
        rt = self._owner_type(ref)
        if rt is None:
            return
        self.queue.add((rt.group_resource, namespace if rt.namespaced else "", ref.get("name", "")))

    def _owner_type(self, ref: dict) -> ResourceType | None:
        for rt in self._types.values():
            if rt.kind == ref.get("kind") and rt.api_version == ref.get("apiVersion"):
                return rt
        for rt in self._types.values():  # an older version of the same group and kind
            if rt.kind == ref.get("kind") and ref.get("apiVersion", "").split("/")[0] == (
                    rt.group or "v1"):
                return rt
        return None

    def _owner(self, ref: dict, namespace: str) -> dict | None:
        rt = self._owner_type(ref)
        if rt is None:
            return None
        obj = self.api.table(rt).objects.get((namespace if rt.namespaced else "",
                                              ref.get("name", "")))
        if obj is None or obj["metadata"]["uid"] != ref.get("uid"):
            return None
        return obj

    def _dependents(self, uid: str) -> list[tuple[ResourceType, dict]]:
        out = []
        for gr, table in self.api.tables.items():
            keys = table.owners.get(uid)
            if keys:
                rt = self._types[gr]
                out.extend((rt, table.objects[k]) for k in sorted(keys))
        return out

    def reconcile(self, key: tuple) -> Result | None:
        gr, ns, name = key
        rt = self._types[gr]
        obj = self.api.table(rt).objects.get((ns, name))
        if obj is None:
            return None
        m = obj["metadata"]
        finalizers = m.get("finalizers") or ()
        if m.get("deletionTimestamp"):
            if ORPHAN in finalizers:
                self._orphan_dependents(rt, obj)
                return None
            if FOREGROUND in finalizers:
                self._delete_dependents(rt, obj)
                return None
        refs = m.get("ownerReferences") or ()
        if not refs:
            return None
        solid, dangling, waiting = [], [], []
        for ref in refs:
            owner = self._owner(ref, ns)
            if owner is None:
                dangling.append(ref)
            elif owner["metadata"].get("deletionTimestamp") and FOREGROUND in (
                    owner["metadata"].get("finalizers") or ()):
                waiting.append(ref)
            else:
                solid.append(ref)
        if solid:
            gone = {r.get("uid") for r in dangling}
            if gone:
                self._remove_refs(rt, obj, gone)
            return None
        if m.get("deletionTimestamp"):
            return None
        if waiting:
            blocking = any(r.get("blockOwnerDeletion") for r in waiting)
            policy = FOREGROUND if blocking and self._dependents(m["uid"]) else None
            self._delete(rt, obj, "Foreground" if policy else "Background")
            return None
        policy = "Background"
        if ORPHAN in finalizers:
            policy = "Orphan"
        elif FOREGROUND in finalizers:
            policy = "Foreground"
        self._delete(rt, obj, policy)
        return None

    def _delete(self, rt: ResourceType, obj: dict, policy: str) -> None:
        m = obj["metadata"]
        try:
            self.api.delete(rt, m["name"], m.get("namespace"), propagation_policy=policy,
                            preconditions={"uid": m["uid"]}, copy_out=False)
        except NotFound:
            pass

    def _remove_refs(self, rt: ResourceType, obj: dict, uids: set) -> None:
        m = obj["metadata"]
        refs = [r for r in m.get("ownerReferences") or () if r.get("uid") not in uids]
        patch = {"metadata": {"ownerReferences": refs or None, "uid": m["uid"]}}
        try:
            self.api.patch(rt, m["name"], patch, m.get("namespace"), patch_type="merge",
                           copy_out=False)
        except NotFound:
            pass

    def _orphan_dependents(self, rt: ResourceType, owner: dict) -> None:
        uid = owner["metadata"]["uid"]
        for drt, dep in self._dependents(uid):
            self._remove_refs(drt, dep, {uid})
        self._remove_finalizer(rt, owner, ORPHAN)

    def _delete_dependents(self, rt: ResourceType, owner: dict) -> None:
        uid = owner["metadata"]["uid"]
        blocking = 0
        for drt, dep in self._dependents(uid):
            dm = dep["metadata"]
            ref = next((r for r in dm.get("ownerReferences") or () if r.get("uid") == uid), {})
            if ref.get("blockOwnerDeletion"):
                blocking += 1
            if not dm.get("deletionTimestamp"):
                self._delete(drt, dep, "Foreground")
        if blocking == 0:
            self._remove_finalizer(rt, owner, FOREGROUND)

    def _remove_finalizer(self, rt: ResourceType, obj: dict, finalizer: str) -> None:
        m = obj["metadata"]
        fins = [f for f in m.get("finalizers") or () if f != finalizer]
        patch = {"metadata": {"finalizers": fins or None, "resourceVersion": m["resourceVersion"]}}
        try:
            self.api.patch(rt, m["name"], patch, m.get("namespace"), patch_type="merge",
                           copy_out=False)
        except NotFound:
            pass
        except ApiError:
            self.queue.add((rt.group_resource, m.get("namespace", ""), m["name"]))
