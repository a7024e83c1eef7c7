"""The StatefulSet controller shell: events to keys, adoption, and ``sync(key)``.

Follows kubernetes/kubernetes ``pkg/controller/statefulset/stateful_set.go``: pod events
enqueue the owning set (an orphan enqueues every set whose selector matches it, for
adoption); a sync claims the set's pods (adopting orphans that match the selector and are
members by name, releasing owned pods that stopped matching), adopts orphaned
ControllerRevisions, and hands the set and its pods to :mod:`.control`.
"""

from __future__ import annotations

from typing import Collection

from ... import errors
from ...api.objects import deep_copy
from ...api.selectors import SelectorError, label_selector_from_dict
from ...api.store import DELETED, MODIFIED, WatchEvent
from ...runtime import Controller, Result
from . import history, policy
from .control import StatefulSetControl
from .pods import ApiObjectManager, ClaimBeingDeleted, StatefulPodControl

__all__ = ["StatefulSetController"]


class RevisionStore:
    """ControllerRevision writes (``history.Interface``)."""

    def __init__(self, client) -> None:
        self.client = client

    def create(self, sset: dict, revision: dict, collision_count: int) -> tuple[dict, int]:
        """``CreateControllerRevision``: on a name collision with different data, bump the
        collision count and try the next name."""
        while True:
            candidate = history.new_revision(sset, revision["revision"], collision_count)
            try:
                return self.client.create(candidate), collision_count
            except errors.AlreadyExists:
                existing = self.client.get("ControllerRevision", candidate["metadata"]["name"],
                                           sset["metadata"]["namespace"])
                if existing is not None and existing.get("data") == candidate["data"]:
                    return existing, collision_count
                collision_count += 1

    def set_revision(self, revision: dict, number: int) -> dict:
        if revision.get("revision") == number:
            return revision
        new = deep_copy(revision)
        new["revision"] = number
        return self.client.update(new)

    def delete(self, revision: dict) -> None:
        m = revision["metadata"]
        self.client.delete("ControllerRevision", m["name"], m["namespace"])


class _Owned:
    """The pods a set owns (as controller) that its selector matches, as the last claim
    found them; ``dirty``: the pod keys with an event since (or still to release)."""

    __slots__ = ("selector", "pods", "dirty", "log")

    def __init__(self, selector: dict | None) -> None:
        self.selector = selector
        self.pods: dict[str, dict] = {}  # by name (all in the set's namespace)
        self.dirty: set[tuple[str, str]] = set()
        # the names whose entry in ``pods`` may have changed, in order: the sync replays
        # what it has not seen yet instead of looking up every replica again (a new list,
        # which the sync notices, when it grows long)
        self.log: list[str] = []


class StatefulSetController(Controller):
    name = "statefulset-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.sets = ctx.informer("StatefulSet")
        self.pods = ctx.informer("Pod")
        self.revs = ctx.informer("ControllerRevision")
        self.claims = ctx.informer("PersistentVolumeClaim")
        self.recorder = ctx.recorder("statefulset-controller")
        gates = self.config.gates
        self.pod_control = StatefulPodControl(ApiObjectManager(self.client, self.claims),
                                              self.recorder, gates)
        self.control = StatefulSetControl(self.pod_control, RevisionStore(self.client),
                                          self._write_status, self.clock.now, gates)
        claims = self.claims
        self.control.claim_version = lambda ns, name: (
            (claims.get(name, ns) or {}).get("metadata", {}).get("resourceVersion", ""))
        # set uid -> (its selector, pod key -> the pod object found owned and matching)
        self._owned: dict[str, _Owned] = {}  # set uid -> its owned, matching pods
        self._orphans: dict[str, set[str]] = {}  # namespace -> pods without a controller
        # set uid -> (the revisions table's last resourceVersion, the set's selector, its
        # claimed revisions) as of the last claim
        self._revisions_of: dict[str, tuple[int, dict | None, list[dict]]] = {}
        # namespace -> the names of its sets, sorted (dropped when a set comes or goes):
        # every claim event looks at the sets of its namespace
        self._set_names: dict[str, list[str]] = {}
        for pod in self.pods:
            if self._controller_ref(pod) is None:
                pm = pod["metadata"]
                self._orphans.setdefault(pm["namespace"], set()).add(pm["name"])
        self.sets.table.handlers.append(self._on_set)
        self.pods.table.handlers.append(self._on_pod)
        self.revs.table.handlers.append(self._on_revision)
        self.claims.table.handlers.append(self._on_claim)

    # -- events -> keys --------------------------------------------------------------------

    def _on_set(self, ev: WatchEvent) -> None:
        m = ev.obj["metadata"]
        if ev.type != MODIFIED:
            self._set_names.pop(m["namespace"], None)
        if ev.type == DELETED:
            self.control.forget(m["namespace"], m["name"])
            self._owned.pop(m.get("uid", ""), None)
        self.queue.add((m["namespace"], m["name"]))

    @staticmethod
    def _controller_ref(obj: dict) -> dict | None:
        for r in obj["metadata"].get("ownerReferences") or ():
            if r.get("controller"):
                return r
        return None

    def _on_pod(self, ev: WatchEvent) -> None:
        # A pod update may change its owner or labels: both its old and new sets care.
        self._note_orphan(ev)
        if ev.type == DELETED:
            uid = ev.obj["metadata"]["uid"]
            self.control.facts.forget(uid)
            self.control._consistent.pop(uid, None)
        objs = (ev.obj,) if ev.old is None or ev.type == DELETED else (ev.obj, ev.old)
        if self._owned:
            pm = ev.obj["metadata"]
            key = (pm["namespace"], pm["name"])
            for obj in objs:
                for r in obj["metadata"].get("ownerReferences") or ():
                    memo = self._owned.get(r.get("uid"))
                    if memo is not None:
                        memo.dirty.add(key)
        for obj in objs:
            ref = self._controller_ref(obj)
            ns = obj["metadata"]["namespace"]
            if ref is not None:
                if ref.get("kind") == "StatefulSet":
                    self.queue.add((ns, ref.get("name", "")))
            elif ev.type != DELETED:
                self._enqueue_matching(ns, obj)

    def _enqueue_matching(self, namespace: str, pod: dict) -> None:
        """An orphan pod: every set that would adopt it."""
        table = self.sets.table
        if not table.objects:
            return
        labels = pod["metadata"].get("labels")
        parent = policy.parent_of(pod)
        sset = table.objects.get((namespace, parent))
        if sset is not None and self._selects(sset, labels):
            self.queue.add((namespace, parent))

    def _on_revision(self, ev: WatchEvent) -> None:
        ref = self._controller_ref(ev.obj)
        if ref is not None and ref.get("kind") == "StatefulSet":
            self.queue.add((ev.obj["metadata"]["namespace"], ref.get("name", "")))

    def _on_claim(self, ev: WatchEvent) -> None:
        # Any change to a set's claim may change whether its pod is consistent (claim
        # ownership); a deleted claim may also unblock a pod whose claim was stale (SS-33).
        ns = ev.obj["metadata"]["namespace"]
        name = ev.obj["metadata"]["name"]
        for sset in self._sets_in(ns):
            sname = sset["metadata"]["name"]
            for tmpl in (sset.get("spec") or {}).get("volumeClaimTemplates") or ():
                prefix = f"{tmpl['metadata']['name']}-{sname}-"
                if name.startswith(prefix):
                    ordinal = name[len(prefix):]
                    self.control.claim_changed(ns, sname, int(ordinal) if ordinal.isdigit()
                                               and ordinal.isascii() else 0)
                    if ev.type == DELETED:
                        self.queue.add((ns, sname))
                    break

    def _sets_in(self, namespace: str) -> list[dict]:
        """The sets of the namespace, in name order (``sets.list``)."""
        names = self._set_names.get(namespace)
        if names is None:
            names = self._set_names[namespace] = [
                s["metadata"]["name"] for s in self.sets.list(namespace)]
        objs = self.sets.table.objects
        return [objs[(namespace, n)] for n in names]

    @staticmethod
    def _selector(sset: dict):
        try:
            return label_selector_from_dict((sset.get("spec") or {}).get("selector"))
        except SelectorError:
            return None

    def _selects(self, sset: dict, labels: dict | None) -> bool:
        sel = self._selector(sset)
        return sel is not None and not sel.empty and sel.matches(labels)

    # -- sync ------------------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        ns, name = key
        sset = self.sets.get(name, ns)
        if sset is None:
            return None
        sel = self._selector(sset)
        if sel is None or sel.empty:
            # An invalid or empty selector selects nothing: upstream records a warning and
            # does nothing (validation prevents it for sets created through the API).
            return None
        pods, by_name, log = self._claim_pods(sset, sel)
        revisions = self._claim_revisions(sset, sel)
        try:
            result = self.control.sync(sset, pods, revisions, by_name, log)
        except ClaimBeingDeleted:
            # Upstream retries with backoff until the claim is gone; here the claim's
            # deletion enqueues the set (_on_claim), so nothing needs to spin meanwhile.
            return None
        if result.requeue_after:
            return Result(requeue_after=result.requeue_after)
        return None

    def _claim_pods(self, sset: dict, sel
                    ) -> tuple[Collection[dict], dict[str, dict] | None, list[str] | None]:
        """``getPodsForStatefulSet`` / ``ClaimPods``: owned pods that still match, plus
        orphans that match and are members by name (adopted); owned pods that no longer
        match are released. The order of the list is not meaningful (the sync places pods
        by ordinal); writes happen in name order. When it adopted none, also returns the
        same pods by name and the log of the names whose entry changed (read-only)."""
        m = sset["metadata"]
        uid, ns = m["uid"], m["namespace"]
        deleting = bool(m.get("deletionTimestamp"))
        # The owned pods found to match, kept up to date from pod events: while the set's
        # selector is the same, only the pods with an event since need a look.
        selector = (sset.get("spec") or {}).get("selector")
        memo = self._owned.get(uid)
        if memo is None or memo.selector != selector:
            memo = self._owned[uid] = _Owned(deep_copy(selector))
            look = sorted(self.pods.table.keys_owned_by(uid))
        else:
            look = sorted(memo.dirty)
        memo.dirty = set()
        objs = self.pods.table.objects
        owned = memo.pods
        if len(memo.log) > 4 * len(owned) + 1024:
            memo.log = []
        log = memo.log
        release: list[dict] = []
        for key in look:
            if key[0] != ns:
                continue
            pod = objs.get(key)
            log.append(key[1])
            owned.pop(key[1], None)
            if pod is None:
                continue
            ref = self._controller_ref(pod)
            if ref is None or ref.get("uid") != uid:
                continue
            if sel.matches(pod["metadata"].get("labels")):
                owned[key[1]] = pod
            elif not deleting:
                release.append(pod)
            else:
                memo.dirty.add(key)  # released once the set is not being deleted
        # The owned pods as a view: the sync only iterates them, and nothing changes
        # ``owned`` until the next claim (pod events only mark keys dirty).
        out: Collection[dict] = owned.values()
        for pod in release:
            self._release(pod, uid)
        by_name: dict[str, dict] | None = owned
        changes: list[str] | None = log
        if not deleting and self._orphans.get(ns):
            for pod in self._candidates(ns, sel):
                pm = pod["metadata"]
                if self._controller_ref(pod) is not None:
                    continue
                if pm.get("deletionTimestamp") or not policy.is_member_of(sset, pod):
                    continue
                adopted = self._adopt(sset, pod)
                if adopted is not None:
                    out = [*out, adopted]
                    by_name = changes = None
        return out, by_name, changes

    def _note_orphan(self, ev: WatchEvent) -> None:
        """Keep ``_orphans``: the names of the pods without a controller, per namespace
        (only they can be adopted, so a namespace without any skips the search)."""
        m = ev.obj["metadata"]
        ns = m["namespace"]
        if ev.type != DELETED and self._controller_ref(ev.obj) is None:
            self._orphans.setdefault(ns, set()).add(m["name"])
            return
        names = self._orphans.get(ns)
        if names is not None:
            names.discard(m["name"])
            if not names:
                del self._orphans[ns]

    def _candidates(self, namespace: str, sel) -> list[dict]:
        """The orphan pods of the namespace that the selector matches, in name order: found
        through the label index when the selector has an indexed term (many unrelated bare
        pods in the namespace cost nothing then), else among the namespace's orphans."""
        names = self._orphans.get(namespace) or set()
        terms = sel.index_terms()
        if terms:
            key, values = terms[0]
            found: list[dict] = []
            for v in values:
                found.extend(self.pods.by_label(key, v, namespace))
            found = [p for p in found if p["metadata"]["name"] in names]
            found.sort(key=lambda p: p["metadata"]["name"])
        else:
            get = self.pods.get
            found = [p for p in map(lambda n: get(n, namespace), sorted(names))
                     if p is not None]
        return [p for p in found if sel.matches(p["metadata"].get("labels"))]

    def _adopt(self, sset: dict, pod: dict) -> dict | None:
        m = sset["metadata"]
        refs = list(pod["metadata"].get("ownerReferences") or [])
        refs.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": m["name"],
                     "uid": m["uid"], "controller": True, "blockOwnerDeletion": True})
        try:
            return self.client.patch("Pod", pod["metadata"]["name"], m["namespace"], {
                "metadata": {"ownerReferences": refs, "uid": pod["metadata"]["uid"]}})
        except errors.NotFound:
            return None

    def _release(self, pod: dict, uid: str) -> None:
        refs = [r for r in pod["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
        try:
            self.client.patch("Pod", pod["metadata"]["name"], pod["metadata"]["namespace"],
                              {"metadata": {"ownerReferences": refs or None}})
        except errors.NotFound:
            pass

    def _claim_revisions(self, sset: dict, sel) -> list[dict]:
        """The set's ControllerRevisions; orphans matching its selector are adopted.
        Remembered per set while no ControllerRevision was written since and the set's
        selector is the same (every adoption is such a write): the answer would be the same
        list, with nothing to adopt."""
        m = sset["metadata"]
        selector = (sset.get("spec") or {}).get("selector")
        seen = self.revs.table.last_rv
        memo = self._revisions_of.get(m["uid"])
        if memo is not None and memo[0] == seen and memo[1] == selector:
            return memo[2]
        out = self._claim_revisions_now(sset, sel)
        if len(self._revisions_of) > 10_000:
            self._revisions_of.clear()
        self._revisions_of[m["uid"]] = (self.revs.table.last_rv, deep_copy(selector), out)
        return out

    def _claim_revisions_now(self, sset: dict, sel) -> list[dict]:
        m = sset["metadata"]
        out = [r for r in self.revs.by_owner(m["uid"], m["namespace"])
               if (self._controller_ref(r) or {}).get("uid") == m["uid"]]
        names = {r["metadata"]["name"] for r in out}
        for rev in self.revs.list(m["namespace"]):
            if rev["metadata"]["name"] in names or self._controller_ref(rev) is not None:
                continue
            if not sel.matches(rev["metadata"].get("labels")):
                continue
            refs = list(rev["metadata"].get("ownerReferences") or [])
            refs.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": m["name"],
                         "uid": m["uid"], "controller": True, "blockOwnerDeletion": True})
            try:
                out.append(self.client.patch("ControllerRevision", rev["metadata"]["name"],
                                             m["namespace"],
                                             {"metadata": {"ownerReferences": refs}}))
            except errors.NotFound:
                continue
        return out

    def _write_status(self, sset: dict, status: dict) -> None:
        new = deep_copy(sset)
        st = new.setdefault("status", {})
        st.update(status)
        self.client.update_status(new)
