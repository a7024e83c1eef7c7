"""The StatefulSet sync: revisions, the replica loop, scale-down, rolling update, status.

Follows kubernetes/kubernetes ``pkg/controller/statefulset/stateful_set_control.go`` at
v1.31, with /work/shared/SPEC.md SS-11 .. SS-26 as the rules:

- OrderedReady (monotonic): replicas in ascending ordinal; the first that is missing,
  terminating, not Running and Ready, or not yet available stops the sync, which blocks
  creation of later ordinals, all scale-down and all update deletions (SS-13, SS-14);
- Parallel: every replica is processed, in slow-start batches (SS-15);
- scale-down deletes the highest condemned ordinal, one at a time in OrderedReady, waiting
  for it to be gone; an unhealthy condemned pod only blocks if it is not the first
  unhealthy pod (SS-16, SS-17);
- rolling update deletes the highest outdated pod down to the partition, one at a time,
  waiting for each replacement to be healthy (SS-19), or up to maxUnavailable at once behind
  the MaxUnavailableStatefulSet gate (SS-22); OnDelete never deletes (SS-21).

A failed or succeeded pod is deleted, and re-created once the old object is gone; a pod is
never re-created while an object of its name exists (at most one pod per identity).
"""

from __future__ import annotations

import operator
from typing import Callable, Collection

import attrs

from ... import errors
from ...api.objects import deep_copy
from . import history, policy
from .pods import StatefulPodControl

__all__ = ["StatefulSetControl", "SyncResult", "MAX_BATCH"]

MAX_BATCH = 500


@attrs.define
class SyncResult:
    status: dict | None
    requeue_after: float | None = None


class _Stop(Exception):
    """The monotonic loop must stop here (the pod is not done yet)."""


class StatefulSetControl:
    def __init__(self, pods: StatefulPodControl, revisions, status_writer: Callable[[dict, dict],
                 None], now: Callable[[], float], gates: dict) -> None:
        self.pods = pods
        self.revisions = revisions       # RevisionStore: create/update/delete ControllerRevisions
        self.write_status = status_writer
        self.now = now
        self.gates = gates
        self.facts = policy.FactsCache()
        # (pod uid, pod rv, set uid, set generation, claims' rvs) of replicas found
        # consistent (identity, storage, claim ownership): not checked again until one moves.
        self._consistent: dict[str, tuple] = {}
        self.claim_version: Callable[[str, str], str] = lambda ns, name: ""
        # (namespace, set name) -> what the set's last OrderedReady sync found settled
        self._settled: dict[tuple[str, str], _Settled] = {}
        self._wrote = False  # set by _process_replica when it updated the pod
        self._ordinals: dict[str, int] = {}  # pod name -> ordinal_of
        self._name_lists: dict[tuple, list[str]] = {}  # (set, start, count) -> pod names
        self._candidates: dict[str, tuple[tuple, dict]] = {}  # set uid -> (key, revision)
        self._templates: dict[str, tuple[dict, dict]] = {}  # revision name -> (it, template)
        self._equal: dict[tuple[int, int], tuple[dict, dict, bool]] = {}  # _equal_revision
        # (namespace, set name) -> the replica slots as the last sync placed them by name
        self._slots: dict[tuple[str, str], _Slots] = {}

    def claim_changed(self, namespace: str, set_name: str, ordinal: int) -> None:
        """A claim of the replica at ``ordinal`` changed: that replica, and every later one,
        is no longer known settled (its consistency depends on its claims)."""
        memo = self._settled.get((namespace, set_name))
        if memo is not None:
            memo.truncate(ordinal - memo.start)

    def forget(self, namespace: str, set_name: str) -> None:
        self._settled.pop((namespace, set_name), None)
        self._slots.pop((namespace, set_name), None)

    # -- entry point (UpdateStatefulSet) ---------------------------------------------------

    def sync(self, sset: dict, pods: Collection[dict], revisions: list[dict],
             by_name: dict[str, dict] | None = None,
             changes: list[str] | None = None) -> SyncResult:
        """One sync of ``sset`` given its claimed ``pods`` and its revisions.

        ``by_name``, optional, holds the same pods by name: it lets the replicas be placed
        without parsing every name. ``changes``, optional with it, is the caller's log of
        the names whose entry in ``by_name`` may have changed, appended to as they change
        (the same dict and list from sync to sync): the slots of the last sync are then
        brought up to date from the names logged since, not looked up again."""
        revisions = history.sort_revisions(revisions)
        current_rev, update_rev, collision_count = self._get_revisions(sset, revisions)
        err: errors.ApiError | None = None
        try:
            status = self._update(sset, current_rev, update_rev, collision_count, pods,
                                  by_name, changes)
        except _Failed as failed:
            status, err = failed.status, failed.error
        if status is not None:
            self._update_status(sset, status)
        self._truncate_history(sset, pods, revisions, current_rev, update_rev)
        if err is not None:
            raise err
        return SyncResult(status, self._available_requeue(sset, pods))

    def _available_requeue(self, sset: dict, pods: Collection[dict]) -> float | None:
        """When a ready pod will become available (minReadySeconds), so the set is synced
        then (upstream requeues after minReadySeconds)."""
        mrs = (sset.get("spec") or {}).get("minReadySeconds", 0)
        if mrs <= 0:
            return None
        now = self.now()
        soonest = None
        for pod in pods:
            left = policy.available_in(pod, mrs, now)
            if left:
                soonest = left if soonest is None else min(soonest, left)
        return soonest

    # -- revisions (getStatefulSetRevisions, truncateHistory) --------------------------------

    def _get_revisions(self, sset: dict, revisions: list[dict]) -> tuple[dict, dict, int]:
        status = sset.get("status") or {}
        collision_count = status.get("collisionCount", 0) or 0
        candidate = self._candidate(sset, history.next_revision(revisions), collision_count)
        equal = [r for r in revisions if self._equal_revision(r, candidate)]
        if equal and history.equal_revision(revisions[-1], equal[-1]):
            update_rev = revisions[-1]
        elif equal:
            update_rev = self.revisions.set_revision(equal[-1], candidate["revision"])
        else:
            update_rev, collision_count = self.revisions.create(sset, candidate,
                                                                collision_count)
        current_rev = next((r for r in revisions
                            if r["metadata"]["name"] == status.get("currentRevision")), None)
        return current_rev or update_rev, update_rev, collision_count

    def _candidate(self, sset: dict, revision: int, collision_count: int) -> dict:
        """``newRevision`` for this sync, remembered while what it is made of (the set's
        identity, template, annotations, the revision number and collision count) stays
        the same: hashing the template on every sync is most of a quiet sync's cost.
        Read-only."""
        m = sset["metadata"]
        key = (m["uid"], m.get("generation"), revision, collision_count,
               tuple(sorted((m.get("annotations") or {}).items())))
        got = self._candidates.get(m["uid"])
        if got is not None and got[0] == key:
            return got[1]
        candidate = history.new_revision(sset, revision, collision_count)
        if len(self._candidates) > 10_000:
            self._candidates.clear()
        self._candidates[m["uid"]] = (key, candidate)
        return candidate

    def _equal_revision(self, stored: dict, candidate: dict) -> bool:
        """``history.equal_revision`` of a stored revision and a candidate, remembered per
        pair of objects (stored objects never change, and a candidate is reused only while
        what it is made of stays the same; the memo holds both, so their ids stay theirs)."""
        key = (id(stored), id(candidate))
        got = self._equal.get(key)
        if got is None or got[0] is not stored or got[1] is not candidate:
            if len(self._equal) > 10_000:
                self._equal.clear()
            got = self._equal[key] = (stored, candidate,
                                      history.equal_revision(stored, candidate))
        return got[2]

    def _apply_revision(self, sset: dict, revision: dict) -> dict:
        """``history.apply_revision``, with the template taken from a stored revision
        object once (stored objects never change). Read-only."""
        name = revision["metadata"]["name"]
        got = self._templates.get(name)
        if got is None or got[0] is not revision:
            if len(self._templates) > 10_000:
                self._templates.clear()
            got = self._templates[name] = (revision, history.template_of(revision))
        out = dict(sset)
        out["spec"] = dict(sset.get("spec") or {}, template=got[1])
        return out

    def _truncate_history(self, sset: dict, pods: Collection[dict], revisions: list[dict],
                          current: dict, update: dict) -> None:
        limit = (sset.get("spec") or {}).get("revisionHistoryLimit", 10)
        if limit < 0 or len(revisions) <= limit:
            return  # within the limit whatever the pods use: no need to look at them
        live = {current["metadata"]["name"], update["metadata"]["name"]}
        facts = self.facts
        live.update(facts(p).revision for p in pods)
        old = [r for r in revisions if r["metadata"]["name"] not in live]
        if len(old) <= limit:
            return
        for rev in old[:len(old) - limit]:
            self.revisions.delete(rev)

    # -- the sync proper (updateStatefulSet) ------------------------------------------------

    def _update(self, sset: dict, current_rev: dict, update_rev: dict, collision_count: int,
                pods: Collection[dict], by_name: dict[str, dict] | None = None,
                changes: list[str] | None = None) -> dict:
        spec = sset.get("spec") or {}
        current_set = self._apply_revision(sset, current_rev)
        update_set = self._apply_revision(sset, update_rev)
        current_name, update_name = current_rev["metadata"]["name"], update_rev["metadata"][
            "name"]
        mrs = spec.get("minReadySeconds", 0)
        now = self.now()
        status: dict = {"observedGeneration": sset["metadata"].get("generation", 1),
                        "currentRevision": current_name, "updateRevision": update_name,
                        "collisionCount": collision_count}

        facts = self.facts
        start, end = policy.start_ordinal(sset), policy.end_ordinal(sset)
        replica_count = spec.get("replicas", 1)
        condemned: list[dict] = []
        others: list[dict] = []  # claimed pods without an ordinal: counted, never processed
        ordinal_of = self._ordinal
        ordinals = self._ordinals
        replicas: list[dict | None] = []
        sm = sset["metadata"]
        set_key = (sm["namespace"], sm["name"])
        first_changed: int | None = None  # no slot before it changed since the last sync
        filled_to = 0  # every slot from here on is empty (with slots placed by name)
        if by_name is not None:
            # Every replica by its canonical name; exact when that places every pod (no
            # other names, so no condemned pods and no odd spellings of an ordinal). The
            # slots' list is shared, not copied: nothing below changes ``replicas``.
            slots, first_changed = self._place_by_name(
                set_key, by_name, changes, self._names(sm["name"], start, replica_count))
            if slots.filled == len(by_name):
                replicas = slots.pods
                filled_to = slots.filled_to
            else:
                first_changed = None
        from_slots = bool(replicas)
        if not replicas:
            replicas = [None] * max(0, replica_count)
            filled_to = len(replicas)
            placing = pods
        else:
            placing = ()
        for pod in placing:
            ordinal = ordinals.get(pod["metadata"]["name"])
            if ordinal is None:
                ordinal = ordinal_of(pod)
            if start <= ordinal <= end:
                replicas[ordinal - start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
            else:
                others.append(pod)
        strategy = spec.get("updateStrategy") or {}
        partition = (strategy.get("rollingUpdate") or {}).get("partition", 0)
        monotonic = not policy.allows_burst(sset)
        deleting = bool(sset["metadata"].get("deletionTimestamp"))

        # The settled prefix: replicas the last sync found Running, Ready, available and
        # consistent, whose pod objects (and claims) have not changed since. Nothing the
        # sync does depends on them beyond what it counts, so it starts after them.
        settled = self._settled_prefix(set_key, (
            sm["uid"], sm.get("generation"), current_name, update_name, mrs, start),
            replicas, monotonic and not deleting, from_slots, first_changed)

        def refresh(*lists) -> None:
            counts = policy.compute_status(
                (facts(p) for lst in lists for p in lst), mrs, current_name, update_name, now)
            if settled is not None:
                settled.add_counts(counts, current_name, update_name)
            status.update(counts)

        def build(i: int) -> dict:
            """``newVersionedStatefulSetPod`` for an empty slot, built only when the loop
            reaches it (a 1,000-replica set does not build 1,000 pods per sync)."""
            ordinal = start + i
            if (strategy.get("type", "RollingUpdate") == "RollingUpdate"
                    and strategy.get("rollingUpdate") is not None
                    and ordinal < start + partition):
                pod = policy.new_pod(sset, current_set, ordinal, current_name, self.gates)
            else:
                pod = policy.new_pod(sset, update_set, ordinal, update_name, self.gates)
            return pod

        reps = _Replicas(replicas, build, filled_to)

        def rest() -> list[dict]:
            """The replicas (stored or built) past the settled prefix."""
            return reps.known(len(settled.pods) if settled is not None else 0)

        refresh(rest(), condemned, others)

        condemned.sort(key=lambda p: (-ordinal_of(p), p["metadata"]["name"]))
        skip = len(settled.pods) if settled is not None else 0

        first_unhealthy = _first_unhealthy(replicas, skip, facts)
        if first_unhealthy is None:
            first_unhealthy = next((p for p in reversed(condemned)
                                    if not facts(p).healthy), None)

        if deleting:
            return status  # SS-12: a set being deleted only reports

        def finish(err: errors.ApiError | None = None) -> dict:
            refresh(rest(), condemned)
            if err is not None:
                raise _Failed(status, err)
            return status

        def process(i: int) -> bool:
            self._wrote = False
            stop = self._process_replica(sset, update_set, monotonic, reps, i, mrs, now)
            if settled is not None and not stop and not self._wrote and len(
                    settled.pods) == i:
                pod = reps[i]
                settled.append(pod, facts(pod).revision)
            return stop

        # 1. the replicas, in ordinal order
        if self._run_for_all(reps, process, monotonic, finish, skip):
            return status
        # 2. claim ownership of condemned pods, before they go (SS-31)
        if self.gates.get("StatefulSetAutoDeletePVC", True):
            def fix_claims(i: int) -> bool:
                if not self.pods.claims_match_retention_policy(update_set, condemned[i]):
                    self.pods.update_pod_claim_for_retention_policy(update_set, condemned[i])
                return False
            if self._run_for_all(condemned, fix_claims, monotonic, finish):
                return status
        # 3. scale-down, highest ordinal first
        if self._run_for_all(condemned, lambda i: self._process_condemned(
                sset, first_unhealthy, monotonic, condemned, i, mrs, now), monotonic, finish):
            return status
        refresh(rest(), condemned)
        # 4. updates
        if strategy.get("type", "RollingUpdate") == "OnDelete":
            return status
        if self.gates.get("MaxUnavailableStatefulSet", False):
            return self._update_with_max_unavailable(sset, reps, update_name, status,
                                                     partition)
        if (settled is not None and len(settled.pods) == len(reps)
                and settled.count(update_name) == len(reps)):
            return status  # every replica settled on the update revision: nothing to roll
        for target in range(len(reps) - 1, partition - 1, -1):
            pod = reps[target]
            f = facts(pod)
            if f.revision != update_name and not f.terminating:
                try:
                    self.pods.delete_stateful_pod(sset, pod)
                except errors.ApiError as exc:
                    raise _Failed(status, exc) from None
                status["currentReplicas"] -= 1
                return status
            if not f.healthy:
                return status
        return status

    def _run_for_all(self, pods: list[dict], fn: Callable[[int], bool], monotonic: bool,
                     finish: Callable[..., dict], skip: int = 0) -> bool:
        """``runForAll``: monotonic stops at the first pod that says stop; Parallel runs
        every pod in slow-start batches (1, 2, 4, ... up to 500) and stops only on errors.
        ``skip``: the leading pods known to say neither (settled; monotonic only).
        Returns whether the sync must end now (its status already refreshed)."""
        if monotonic:
            for i in range(skip, len(pods)):
                try:
                    stop = fn(i)
                except errors.ApiError as exc:
                    finish(exc)
                if stop:
                    finish()
                    return True
            return False
        i = 0
        batch = 1
        while i < len(pods):
            size = min(batch, len(pods) - i)
            failures: list[errors.ApiError] = []
            for k in range(i, i + size):
                try:
                    fn(k)
                except errors.ApiError as exc:
                    failures.append(exc)
            if failures:
                finish(failures[0])
            i += size
            batch = min(2 * size, MAX_BATCH)
        return False

    def _process_replica(self, sset: dict, update_set: dict, monotonic: bool,
                         replicas: list[dict], i: int, mrs: int, now: float) -> bool:
        """SS-13, for the replica at index ``i``; returns whether to stop."""
        pod = replicas[i]
        f = self.facts(pod)
        if f.phase in ("Failed", "Succeeded"):
            if not f.terminating:
                self.pods.delete_stateful_pod(sset, pod)
            return True  # re-created on a later sync, once the object is gone
        if not f.created:
            if self.pods.pod_claim_is_stale(sset, pod):
                return True
            self.pods.create_stateful_pod(sset, pod)
            if monotonic:
                return True
            return False  # just created (Parallel): nothing to fix yet
        if f.phase == "Pending":
            self.pods.create_missing_claims(sset, pod)
        if monotonic and (f.terminating or not f.running_ready or not f.available(mrs, now)):
            return True
        if self._is_consistent(sset, update_set, pod):
            return False
        self._wrote = True
        self.pods.update_stateful_pod(update_set, deep_copy(pod))
        return False

    def _settled_prefix(self, key: tuple[str, str], version: tuple, replicas: list,
                        use: bool, from_slots: bool = False,
                        first_changed: int | None = None) -> _Settled | None:
        """The set's settled prefix still valid for this sync (trimmed to the replicas whose
        pod objects are the very ones found settled), or a new empty one; None when the
        sync is not OrderedReady (Parallel's batches see every replica).

        ``from_slots`` says ``replicas`` are the slots of :meth:`_place_by_name`, and
        ``first_changed`` the first of them whose pod object may differ from the last
        sync's. When the prefix was also found among those slots, the slots before
        ``first_changed`` hold the very objects it was found with: it is trimmed there
        without comparing each one."""
        memo = self._settled.get(key)
        if not use:
            if memo is not None:
                del self._settled[key]
            return None
        if memo is None or memo.version != version:
            memo = self._settled[key] = _Settled(version)
        elif first_changed is not None and from_slots and memo.from_slots:
            memo.truncate(min(first_changed, len(replicas)))
        else:
            pods = memo.pods
            n = min(len(pods), len(replicas))
            same = list(map(operator.is_, pods[:n], replicas[:n]))
            memo.truncate(same.index(False) if False in same else n)
        memo.from_slots = from_slots
        return memo

    def _place_by_name(self, key: tuple[str, str], by_name: dict[str, dict],
                       changes: list[str] | None, names: list[str]
                       ) -> tuple["_Slots", int | None]:
        """The replica slots (``by_name`` looked up at each canonical name of ``names``),
        and the first slot that may hold another object than at the set's last sync (None
        when the slots were built afresh). With the same ``by_name``, ``changes`` log and
        names as last time, only the names logged since are looked up again."""
        slots = self._slots.get(key)
        if (changes is None or slots is None or slots.by_name is not by_name
                or slots.log is not changes or slots.names is not names):
            slots = _Slots(by_name, changes, names)
            if changes is None:
                self._slots.pop(key, None)
            else:
                self._slots[key] = slots
            return slots, None
        return slots, slots.catch_up()

    def _names(self, set_name: str, start: int, count: int) -> list[str]:
        """The replicas' pod names, remembered per set shape."""
        key = (set_name, start, count)
        got = self._name_lists.get(key)
        if got is None:
            if len(self._name_lists) > 1000:
                self._name_lists.clear()
            got = self._name_lists[key] = [f"{set_name}-{i}"
                                           for i in range(start, start + max(0, count))]
        return got

    def _ordinal(self, pod: dict) -> int:
        """``ordinal_of``, remembered per name."""
        name = pod["metadata"]["name"]
        got = self._ordinals.get(name)
        if got is None:
            if len(self._ordinals) > 100_000:
                self._ordinals.clear()
            got = self._ordinals[name] = policy.ordinal_of(pod)
        return got

    def _is_consistent(self, sset: dict, update_set: dict, pod: dict) -> bool:
        """identityMatches && storageMatches && ClaimsMatchRetentionPolicy, remembered per
        version of the pod, the set and its claims."""
        m, sm = pod["metadata"], sset["metadata"]
        ns = sm["namespace"]
        key = (m["resourceVersion"], sm["uid"], sm.get("generation"),
               tuple(self.claim_version(ns, c) for c in policy.claim_names(
                   sset, policy.ordinal_of(pod))))
        if self._consistent.get(m["uid"]) == key:
            return True
        ok = policy.identity_matches(sset, pod) and policy.storage_matches(sset, pod)
        if ok and self.gates.get("StatefulSetAutoDeletePVC", True):
            ok = self.pods.claims_match_retention_policy(update_set, pod)
        if ok:
            if len(self._consistent) > 4 * max(64, len(self.facts._by_uid)):
                self._consistent.clear()
            self._consistent[m["uid"]] = key
        return ok

    def _process_condemned(self, sset: dict, first_unhealthy: dict | None, monotonic: bool,
                           condemned: list[dict], i: int, mrs: int, now: float) -> bool:
        pod = condemned[i]
        f = self.facts(pod)
        if f.terminating:
            return monotonic  # wait for it to be gone (OrderedReady), or skip it (Parallel)
        if monotonic and pod is not first_unhealthy and not f.running_ready:
            return True
        if monotonic and pod is not first_unhealthy and not f.available(mrs, now):
            return True
        self.pods.delete_stateful_pod(sset, pod)
        return True

    def _update_with_max_unavailable(self, sset: dict, replicas: list[dict], update_name: str,
                                     status: dict, partition: int) -> dict:
        """SS-22: delete up to maxUnavailable - unavailable outdated pods in one sync."""
        limit = policy.max_unavailable(sset, len(replicas))
        unavailable = sum(1 for p in replicas if not self.facts(p).healthy)
        if unavailable > limit:
            return status
        budget = limit - unavailable
        for target in range(len(replicas) - 1, partition - 1, -1):
            if budget <= 0:
                break
            pod = replicas[target]
            if policy.pod_revision(pod) != update_name and not policy.is_terminating(pod):
                try:
                    self.pods.delete_stateful_pod(sset, pod)
                except errors.ApiError as exc:
                    raise _Failed(status, exc) from None
                budget -= 1
                status["currentReplicas"] -= 1
        return status

    # -- status (updateStatefulSetStatus) ----------------------------------------------------

    def _update_status(self, sset: dict, status: dict) -> None:
        policy.complete_rolling_update(sset, status)
        if not policy.inconsistent_status(sset, status):
            return
        self.write_status(sset, status)


class _Settled:
    """What the last OrderedReady sync of a set found settled: the replicas from the first
    ordinal on that were created, Running and Ready, available, not terminating, and
    consistent (identity, storage, claims) without a write, as the stored pod objects that
    showed it, with their revisions. ``version`` is what those verdicts depend on besides
    the pods and their claims: the set's uid and generation, the current and update
    revisions, minReadySeconds (availability, once reached, lasts while the pod object is
    unchanged) and the start ordinal."""

    __slots__ = ("version", "start", "pods", "revisions", "by_revision", "from_slots")

    def __init__(self, version: tuple) -> None:
        self.version = version
        self.start = version[-1]
        self.pods: list[dict] = []
        self.revisions: list[str] = []
        self.by_revision: dict[str, int] = {}  # revision -> how many of ``revisions``
        self.from_slots = False  # last checked against by-name slots (see _settled_prefix)

    def append(self, pod: dict, revision: str) -> None:
        self.pods.append(pod)
        self.revisions.append(revision)
        self.by_revision[revision] = self.by_revision.get(revision, 0) + 1

    def truncate(self, n: int) -> None:
        n = max(0, n)
        if n < len(self.pods):
            by_revision = self.by_revision
            for revision in self.revisions[n:]:
                by_revision[revision] -= 1
            del self.pods[n:]
            del self.revisions[n:]

    def count(self, revision: str) -> int:
        return self.by_revision.get(revision, 0)

    def add_counts(self, counts: dict, current: str, update: str) -> None:
        """Add the settled replicas to status counts (each created, ready and available,
        not terminating)."""
        n = len(self.pods)
        counts["replicas"] += n
        counts["readyReplicas"] += n
        counts["availableReplicas"] += n
        counts["currentReplicas"] += self.count(current)
        counts["updatedReplicas"] += self.count(update)


class _Slots:
    """A set's replica slots as placed by name: ``pods[i]`` is ``by_name.get(names[i])``
    as of the ``seen`` first entries of ``log`` (the caller's record of the names whose
    entry changed), ``filled`` counts the slots that hold a pod, and every slot from
    ``filled_to`` on is empty (one past the last that holds a pod)."""

    __slots__ = ("by_name", "log", "names", "index", "pods", "filled", "filled_to", "seen")

    def __init__(self, by_name: dict[str, dict], log: list[str] | None,
                 names: list[str]) -> None:
        self.by_name = by_name
        self.log = log
        self.names = names
        self.index: dict[str, int] | None = None  # name -> slot, built on first catch-up
        self.pods: list[dict | None] = list(map(by_name.get, names))
        self.filled = len(names) - self.pods.count(None)
        self.filled_to = len(self.pods)
        self._trim()
        self.seen = len(log) if log is not None else 0

    def catch_up(self) -> int:
        """Apply the names logged since the last call; the first slot they touched
        (``len(names)`` when none)."""
        log = self.log
        first = len(self.names)
        if self.seen == len(log):
            return first
        index = self.index
        if index is None:
            index = self.index = {n: i for i, n in enumerate(self.names)}
        pods, get = self.pods, self.by_name.get
        for name in log[self.seen:]:
            i = index.get(name)
            if i is None:
                continue  # not a replica's name: only ``filled`` against ``by_name`` sees it
            new = get(name)
            old = pods[i]
            if new is not old:
                pods[i] = new
                self.filled += (new is not None) - (old is not None)
                if i < first:
                    first = i
                if new is not None:
                    if i >= self.filled_to:
                        self.filled_to = i + 1
                elif i == self.filled_to - 1:
                    self._trim()
        self.seen = len(log)
        return first

    def _trim(self) -> None:
        """Lower ``filled_to`` past the empty slots at its end."""
        pods, n = self.pods, self.filled_to
        while n and pods[n - 1] is None:
            n -= 1
        self.filled_to = n


_MISSING: dict = {"metadata": {"name": ""}}  # stands for an empty slot as first unhealthy


def _first_unhealthy(replicas: list[dict | None], skip: int,
                     facts: Callable[[dict], policy.Facts]) -> dict | None:
    """The first replica from ``skip`` on that is missing (``_MISSING``) or not healthy."""
    for i in range(skip, len(replicas)):
        pod = replicas[i]
        if pod is None:
            return _MISSING
        if not facts(pod).healthy:
            return pod
    return None


class _Replicas:
    """The replica slots: the stored pods in ``slots`` (read, never changed: the list may be
    shared), and for an empty slot the pod ``build`` gives on its first access. Every slot
    from ``filled_to`` on is empty and unbuilt, so :meth:`known` stops there (an
    OrderedReady set part way up does not scan its empty slots)."""

    def __init__(self, slots: list, build: Callable[[int], dict], filled_to: int) -> None:
        self.slots = slots
        self.build = build
        self.built: dict[int, dict] = {}  # slot -> the pod built for it
        self.filled_to = filled_to

    def __len__(self) -> int:
        return len(self.slots)

    def __getitem__(self, i: int) -> dict:
        pod = self.slots[i]
        if pod is None:
            pod = self.built.get(i)
            if pod is None:
                pod = self.built[i] = self.build(i)
                if i >= self.filled_to:
                    self.filled_to = i + 1
        return pod

    def known(self, start: int) -> list[dict]:
        """The pods (stored or built) of the slots from ``start`` on, in order."""
        stop = self.filled_to
        if not self.built:
            return [p for p in self.slots[start:stop] if p is not None]
        built = self.built
        return [p for p in (built.get(i) if p is None else p
                            for i, p in enumerate(self.slots[start:stop], start))
                if p is not None]


class _Failed(Exception):
    def __init__(self, status: dict, error: errors.ApiError) -> None:
        super().__init__(str(error))
        self.status = status
        self.error = error
