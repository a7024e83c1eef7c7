"""The StatefulSet controller shell: events to keys, adoption, and ``sync(key)``.

Follows kubernetes/kubernetes ``pkg/controller/statefulset/stateful_set.go``: pod events
enqueue the owning set (an orphan enqueues every set whose selector matches it, for
adoption); a sync claims the set's pods (adopting orphans that match the selector and are
members by name, releasing owned pods that stopped matching), adopts orphaned
ControllerRevisions, and hands the set and its pods to :mod:`.control`.
"""

from __future__ import annotations

from ... import errors
from ...api.objects import deep_copy
from ...api.selectors import SelectorError, label_selector_from_dict
from ...api.store import DELETED, WatchEvent
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
        self.sets.table.handlers.append(self._on_set)
        self.pods.table.handlers.append(self._on_pod)
        self.revs.table.handlers.append(self._on_revision)
        self.claims.table.handlers.append(self._on_claim)

    # -- events -> keys --------------------------------------------------------------------

    def _on_set(self, ev: WatchEvent) -> None:
        m = ev.obj["metadata"]
        self.queue.add((m["namespace"], m["name"]))

    @staticmethod
    def _controller_ref(obj: dict) -> dict | None:
        for r in obj["metadata"].get("ownerReferences") or ():
            if r.get("controller"):
                return r
        return None

    def _on_pod(self, ev: WatchEvent) -> None:
        # A pod update may change its owner or labels: both its old and new sets care.
        if ev.type == DELETED:
            uid = ev.obj["metadata"]["uid"]
            self.control.facts.forget(uid)
            self.control._consistent.pop(uid, None)
        objs = (ev.obj,) if ev.old is None or ev.type == DELETED else (ev.obj, ev.old)
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
        if ev.type != DELETED:
            return
        # A deleted claim may unblock a pod whose claim was stale (SS-33).
        ns = ev.obj["metadata"]["namespace"]
        name = ev.obj["metadata"]["name"]
        for sset in self.sets.list(ns):
            sname = sset["metadata"]["name"]
            for tmpl in (sset.get("spec") or {}).get("volumeClaimTemplates") or ():
                prefix = f"{tmpl['metadata']['name']}-{sname}-"
                if name.startswith(prefix):
                    self.queue.add((ns, sname))
                    break

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
        pods = self._claim_pods(sset, sel)
        revisions = self._claim_revisions(sset, sel)
        try:
            result = self.control.sync(sset, pods, revisions)
        except ClaimBeingDeleted:
            # Upstream retries with backoff until the claim is gone; here the claim's
            # deletion enqueues the set (_on_claim), so nothing needs to spin meanwhile.
            return None
        if result.requeue_after:
            return Result(requeue_after=result.requeue_after)
        return None

    def _claim_pods(self, sset: dict, sel) -> list[dict]:
        """``getPodsForStatefulSet`` / ``ClaimPods``: owned pods that still match, plus
        orphans that match and are members by name (adopted); owned pods that no longer
        match are released."""
        m = sset["metadata"]
        uid, ns = m["uid"], m["namespace"]
        owned = {p["metadata"]["name"]: p for p in self.pods.by_owner(uid, ns)}
        out: list[dict] = []
        deleting = bool(m.get("deletionTimestamp"))
        for pname, pod in owned.items():
            ref = self._controller_ref(pod)
            if ref is None or ref.get("uid") != uid:
                continue
            if sel.matches(pod["metadata"].get("labels")):
                out.append(pod)
            elif not deleting:
                self._release(pod, uid)
        if not deleting:
            for pod in self._candidates(ns, sel):
                pm = pod["metadata"]
                if pm["name"] in owned or self._controller_ref(pod) is not None:
                    continue
                if pm.get("deletionTimestamp") or not policy.is_member_of(sset, pod):
                    continue
                adopted = self._adopt(sset, pod)
                if adopted is not None:
                    out.append(adopted)
        return out

    def _candidates(self, namespace: str, sel) -> list[dict]:
        terms = sel.index_terms()
        if terms:
            key, values = terms[0]
            found: list[dict] = []
            for v in values:
                found.extend(self.pods.by_label(key, v, namespace))
            return [p for p in found if sel.matches(p["metadata"].get("labels"))]
        return [p for p in self.pods.list(namespace) if sel.matches(p["metadata"].get("labels"))]

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
        """The set's ControllerRevisions; orphans matching its selector are adopted."""
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
