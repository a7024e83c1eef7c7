"""DefaultPreemption: when no node fits a pod, evict lower-priority pods to make room.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go``
and ``kubernetes/kubernetes:pkg/scheduler/framework/preemption/preemption.go`` (v1.31):

1. A pod with ``preemptionPolicy: Never`` may not preempt (``not eligible due to
   preemptionPolicy=Never.``), nor one whose nominated node still has a lower-priority pod
   terminating because of an earlier preemption (``not eligible due to a terminating pod on
   the nominated node.``).
2. Only nodes that failed with Unschedulable (not UnschedulableAndUnresolvable) are tried.
   On each, from a random offset, every lower-priority pod is removed; if the pod then fits,
   victims are reprieved one by one, most important first (those whose eviction would
   violate a PodDisruptionBudget before the others), as long as the pod still fits. A node
   without lower-priority pods gives ``No preemption victims found for incoming pod``; one
   where the pod does not fit even so gives the filter's reasons.
3. Without candidates, the message is ``preemption: 0/<N> nodes are available: ...`` with
   nodes not tried counted as ``Preemption is not helpful for scheduling``.
4. Otherwise one node is chosen (fewest PDB violations, lowest highest victim priority,
   smallest priority sum, fewest victims, latest start of the highest-priority victims,
   first) and its victims are marked with the ``DisruptionTarget`` condition
   (reason ``PreemptionByScheduler``) and deleted, with a ``Preempted`` event; lower-priority
   pods nominated to that node lose their nomination; the pod is nominated to the node.
"""

from __future__ import annotations

from typing import Any, Mapping

from ... import errors
from ...api.objects import deep_copy, parse_rfc3339
from ...api.selectors import SelectorError, label_selector_from_dict
from ..framework import (Code, CycleState, NodeToStatus, Status, error, unresolvable,
                         unschedulable)
from ..types import FitError, NodeInfo, PodInfo

NAME = "DefaultPreemption"
MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100

MSG_NOT_HELPFUL = "Preemption is not helpful for scheduling"
MSG_NO_VICTIMS = "No preemption victims found for incoming pod"
MSG_POLICY_NEVER = "not eligible due to preemptionPolicy=Never."
MSG_TERMINATING = "not eligible due to a terminating pod on the nominated node."
REASON_PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"

_NO_VICTIMS = unresolvable(MSG_NO_VICTIMS)
_INT32_MAX = (1 << 31) - 1


class NominatingInfo:
    """``framework.NominatingInfo`` in override mode: the node to nominate ("" clears)."""

    __slots__ = ("node_name",)

    def __init__(self, node_name: str) -> None:
        self.node_name = node_name

    def __repr__(self) -> str:
        return f"NominatingInfo({self.node_name!r})"


class Candidate:
    __slots__ = ("name", "victims", "num_pdb_violations")

    def __init__(self, name: str, victims: list[PodInfo], num_pdb_violations: int) -> None:
        self.name = name
        self.victims = victims
        self.num_pdb_violations = num_pdb_violations


def _start_time(pi: PodInfo, now: float) -> float:
    st = (pi.pod.get("status") or {}).get("startTime")
    if st:
        try:
            return parse_rfc3339(st)
        except (ValueError, TypeError):
            return now
    return now


def terminating_by_preemption(pod: Mapping[str, Any]) -> bool:
    """``podTerminatingByPreemption`` (PodDisruptionConditions on)."""
    if pod["metadata"].get("deletionTimestamp") is None:
        return False
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "DisruptionTarget":
            return c.get("status") == "True" and c.get("reason") == REASON_PREEMPTION_BY_SCHEDULER
    return False


class DefaultPreemption:
    NAME = NAME

    def __init__(self, handle) -> None:
        self.handle = handle

    # -- PostFilter ----------------------------------------------------------------------

    def post_filter(self, state: CycleState, pod: PodInfo, statuses: NodeToStatus
                    ) -> tuple[NominatingInfo | None, Status]:
        result, status = self.preempt(state, pod, statuses)
        msg = status.message()
        if msg:
            return result, Status(status.code, "preemption: " + msg)
        return result, status

    def preempt(self, state: CycleState, pod: PodInfo, statuses: NodeToStatus
                ) -> tuple[NominatingInfo | None, Status]:
        h = self.handle
        current = h.informer("Pod").get(pod.name, pod.namespace)
        if current is None:
            return None, error(f'pods "{pod.name}" not found')
        nominated = (current.get("status") or {}).get("nominatedNodeName") or ""
        ok, msg = self.eligible(pod, current, statuses.get(nominated) if nominated else None)
        if not ok:
            return None, unschedulable(msg)
        all_nodes = h.cache.node_list()
        if not all_nodes:
            return None, error("no nodes available")
        potential = [ni for ni in all_nodes if statuses.get(ni.name).code == Code.UNSCHEDULABLE]
        results = NodeToStatus()
        candidates: list[Candidate] = []
        if not potential:
            if nominated:
                self._clear_nominated([current])
        else:
            candidates, results, err = self.dry_run(state, pod, potential)
            if err is not None and not candidates:
                return None, error(err)
        if not candidates:
            results.absent = unresolvable(MSG_NOT_HELPFUL)
            fe = FitError(pod, len(all_nodes), results)
            return NominatingInfo(""), unschedulable(str(fe))
        best = self.select_candidate(candidates)
        st = self.prepare_candidate(best, pod)
        if st is not None:
            return None, st
        return NominatingInfo(best.name), Status(Code.SUCCESS)

    def eligible(self, pod: PodInfo, current: Mapping[str, Any], nominated_status: Status | None
                 ) -> tuple[bool, str]:
        """``PodEligibleToPreemptOthers``."""
        if (current.get("spec") or {}).get("preemptionPolicy") == "Never":
            return False, MSG_POLICY_NEVER
        node_name = (current.get("status") or {}).get("nominatedNodeName") or ""
        if node_name:
            if nominated_status is not None and \
                    nominated_status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return True, ""
            ni = self.handle.cache.get_node(node_name)
            if ni is not None:
                for p in ni.pods.values():
                    if p.priority < pod.priority and terminating_by_preemption(p.pod):
                        return False, MSG_TERMINATING
        return True, ""

    # -- the dry run ---------------------------------------------------------------------

    @staticmethod
    def num_candidates(num_nodes: int) -> int:
        """``calculateNumCandidates``."""
        n = num_nodes * MIN_CANDIDATE_NODES_PERCENTAGE // 100
        if n < MIN_CANDIDATE_NODES_ABSOLUTE:
            n = MIN_CANDIDATE_NODES_ABSOLUTE
        return min(n, num_nodes)

    def dry_run(self, state: CycleState, pod: PodInfo, potential: list[NodeInfo]
                ) -> tuple[list[Candidate], NodeToStatus, str | None]:
        """``DryRunPreemption``."""
        h = self.handle
        n = len(potential)
        offset = h.rng.randrange(n)
        want = self.num_candidates(n)
        pdbs = list(h.informer("PodDisruptionBudget"))
        non_violating: list[Candidate] = []
        violating: list[Candidate] = []
        results = NodeToStatus()
        errs: list[str] = []
        for i in range(n):
            ni = potential[(offset + i) % n]
            victims, violations, status = self.select_victims_on_node(
                state.clone(), pod, ni.clone(), pdbs)
            if status is None and victims:
                c = Candidate(ni.name, victims, violations)
                (non_violating if violations == 0 else violating).append(c)
                if non_violating and len(non_violating) + len(violating) >= want:
                    break
                continue
            if status is None:
                status = error(f'expected at least one victim pod on node "{ni.name}"')
            if status.code == Code.ERROR:
                errs.append(status.message())
            results.set(ni.name, status)
        return non_violating + violating, results, "; ".join(errs) if errs else None

    def select_victims_on_node(self, state: CycleState, pod: PodInfo, ni: NodeInfo,
                               pdbs: list[dict]) -> tuple[list[PodInfo], int, Status | None]:
        """``SelectVictimsOnNode``: on a copy of the node, the fewest lower-priority pods to
        remove for ``pod`` to fit; (victims, PDB violations, None) or a failure status."""
        fw = self.handle.framework
        potential: list[PodInfo] = []
        for p in list(ni.pods.values()):
            if p.priority < pod.priority:
                potential.append(p)
                ni.remove_pod(p.uid)
                st = fw.run_pre_filter_remove_pod(state, pod, p, ni)
                if st is not None:
                    return [], 0, error(st.message())
        if not potential:
            return [], 0, _NO_VICTIMS
        st = fw.run_filter_with_nominated(state, pod, ni)
        if st is not None:
            return [], 0, st
        now = self.handle.clock.now()
        potential.sort(key=lambda p: (-p.priority, _start_time(p, now)))
        violating, non_violating = filter_pods_with_pdb_violation(potential, pdbs)
        victims: list[PodInfo] = []
        num_violating = 0

        def reprieve(p: PodInfo) -> bool:
            ni.add_pod(p)
            s = fw.run_pre_filter_add_pod(state, pod, p, ni)
            if s is not None:
                raise _DryRunError(s.message())
            fits = fw.run_filter_with_nominated(state, pod, ni) is None
            if not fits:
                ni.remove_pod(p.uid)
                s = fw.run_pre_filter_remove_pod(state, pod, p, ni)
                if s is not None:
                    raise _DryRunError(s.message())
                victims.append(p)
            return fits

        try:
            for p in violating:
                if not reprieve(p):
                    num_violating += 1
            for p in non_violating:
                reprieve(p)
        except _DryRunError as exc:
            return [], 0, error(str(exc))
        return victims, num_violating, None

    # -- choosing and preparing ----------------------------------------------------------

    def select_candidate(self, candidates: list[Candidate]) -> Candidate:
        """``SelectCandidate`` / ``pickOneNodeForPreemption``."""
        if len(candidates) == 1:
            return candidates[0]
        now = self.handle.clock.now()

        def earliest_start_of_highest(c: Candidate) -> float:
            top = c.victims[0].priority
            earliest = _start_time(c.victims[0], now)
            for v in c.victims:
                if v.priority == top:
                    earliest = min(earliest, _start_time(v, now))
                elif v.priority > top:
                    top, earliest = v.priority, _start_time(v, now)
            return earliest

        score_funcs = (
            lambda c: -c.num_pdb_violations,
            lambda c: -c.victims[0].priority,
            lambda c: -sum(v.priority + _INT32_MAX + 1 for v in c.victims),
            lambda c: -len(c.victims),
            earliest_start_of_highest,
        )
        pool = candidates
        for f in score_funcs:
            scores = [f(c) for c in pool]
            best = max(scores)
            pool = [c for c, s in zip(pool, scores) if s == best]
            if len(pool) == 1:
                return pool[0]
        return pool[0]

    def prepare_candidate(self, c: Candidate, pod: PodInfo) -> Status | None:
        """``prepareCandidate``: mark and delete the victims, clear lower nominations."""
        h = self.handle
        client = h.client
        scheduler_name = (pod.pod.get("spec") or {}).get("schedulerName") or "default-scheduler"
        for victim in c.victims:
            waiting = h.reject_waiting_pod(victim.uid)
            if waiting:
                continue
            current = h.informer("Pod").get(victim.name, victim.namespace)
            if current is None:
                continue
            try:
                cond = {"type": "DisruptionTarget", "status": "True",
                        "reason": REASON_PREEMPTION_BY_SCHEDULER,
                        "message": f"{scheduler_name}: preempting to accommodate a higher "
                                   "priority pod"}
                new = deep_copy(current)
                if update_pod_condition(new.setdefault("status", {}), cond, h.now_rfc3339()):
                    client.update_status(new)
                client.delete("Pod", victim.name, victim.namespace)
            except errors.ApiError as exc:
                return error(str(exc))
            h.recorder.event(current, "Normal", "Preempted",
                             f"Preempted by pod {pod.uid} on node {c.name}")
        lower = [p for p in h.queue.nominated_pods_for_node(c.name) if p.priority < pod.priority]
        currents = []
        for p in lower:
            cur = h.informer("Pod").get(p.name, p.namespace)
            if cur is not None:
                currents.append(cur)
        self._clear_nominated(currents)
        return None

    def _clear_nominated(self, pods: list[Mapping[str, Any]]) -> None:
        """``util.ClearNominatedNodeName``."""
        for pod in pods:
            if not (pod.get("status") or {}).get("nominatedNodeName"):
                continue
            new = deep_copy(pod)
            new["status"]["nominatedNodeName"] = ""
            try:
                self.handle.client.update_status(new)
            except errors.ApiError:
                pass


class _DryRunError(Exception):
    pass


def filter_pods_with_pdb_violation(pods: list[PodInfo], pdbs: list[dict]
                                   ) -> tuple[list[PodInfo], list[PodInfo]]:
    """``filterPodsWithPDBViolation``: (would violate a budget, would not), in order."""
    allowed = [((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb in pdbs]
    selectors = []
    for pdb in pdbs:
        try:
            selectors.append(label_selector_from_dict((pdb.get("spec") or {}).get("selector")))
        except SelectorError:
            selectors.append(None)
    violating, non_violating = [], []
    for p in pods:
        violated = False
        if p.labels:
            for i, pdb in enumerate(pdbs):
                if pdb["metadata"].get("namespace") != p.namespace:
                    continue
                sel = selectors[i]
                if sel is None or sel.empty or sel.nothing or not sel.matches(p.labels):
                    continue
                if p.name in ((pdb.get("status") or {}).get("disruptedPods") or {}):
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        (violating if violated else non_violating).append(p)
    return violating, non_violating


def update_pod_condition(status: dict, condition: dict, now: str) -> bool:
    """``podutil.UpdatePodCondition``: set ``condition`` in ``status`` (in place); the
    transition time changes only with the status; returns whether anything changed."""
    condition = dict(condition)
    condition["lastTransitionTime"] = now
    conds = status.setdefault("conditions", [])
    for i, old in enumerate(conds):
        if old.get("type") != condition["type"]:
            continue
        if condition.get("status") == old.get("status"):
            condition["lastTransitionTime"] = old.get("lastTransitionTime")
        equal = (condition.get("status") == old.get("status")
                 and condition.get("reason") == old.get("reason")
                 and condition.get("message") == old.get("message")
                 and condition.get("lastProbeTime") == old.get("lastProbeTime")
                 and condition.get("lastTransitionTime") == old.get("lastTransitionTime"))
        if condition.get("lastProbeTime") is None:
            condition.pop("lastProbeTime", None)
        conds[i] = condition
        return not equal
    if condition.get("lastProbeTime") is None:
        condition.pop("lastProbeTime", None)
    conds.append(condition)
    return True
