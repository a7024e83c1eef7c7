"""TaintToleration: a pod goes only where it tolerates every NoSchedule and NoExecute taint,
and prefers nodes with fewer PreferNoSchedule taints it does not tolerate.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go``
(v1.31): the filter reports the first untolerated taint in the node's order as
``{key: value}``; the score counts untolerated PreferNoSchedule taints (tolerations with an
empty effect count too) and is normalized in reverse, so fewer is better.
"""

from __future__ import annotations

from ..framework import (MAX_NODE_SCORE, ActionType, ClusterEvent, CycleState, Status,
                         unresolvable)
from ..helpers import PREFER_NO_SCHEDULE, Toleration, find_untolerated, tolerates
from ..types import NodeInfo, PodInfo
from .normalize import default_normalize_score

NAME = "TaintToleration"
WEIGHT = 3
ERR_REASON_FORMAT = "node(s) had untolerated taint {{{key}: {value}}}"

_PRE_SCORE_KEY = "PreScore" + NAME
_STATUS_CACHE: dict[tuple[str, str], Status] = {}


def untolerated_status(key: str, value: str) -> Status:
    st = _STATUS_CACHE.get((key, value))
    if st is None:
        st = unresolvable(ERR_REASON_FORMAT.format(key=key, value=value))
        if len(_STATUS_CACHE) < 4096:
            _STATUS_CACHE[(key, value)] = st
    return st


_PREFER_CACHE: dict[tuple[Toleration, ...], tuple[Toleration, ...]] = {}


def prefer_no_schedule_tolerations(tolerations: tuple[Toleration, ...]) -> tuple[Toleration, ...]:
    """``getAllTolerationPreferNoSchedule``: tolerations with effect PreferNoSchedule or none
    (remembered per tolerations tuple: pods of a workload share them)."""
    got = _PREFER_CACHE.get(tolerations)
    if got is None:
        got = tuple(t for t in tolerations if t[3] in ("", PREFER_NO_SCHEDULE))
        if len(_PREFER_CACHE) >= 4096:
            _PREFER_CACHE.clear()
        _PREFER_CACHE[tolerations] = got
    return got


def count_intolerable(node: NodeInfo, tolerations: tuple[Toleration, ...]) -> int:
    return sum(1 for taint in node.prefer_taints if not tolerates(tolerations, taint))


class TaintToleration:
    NAME = NAME
    WEIGHT = WEIGHT
    GATED = True

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.hard_taints:
            return None
        taint = find_untolerated(node.hard_taints, pod.tolerations)
        if taint is None:
            return None
        return untolerated_status(taint[0], taint[1])

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                  ) -> Status | None:
        state.write(_PRE_SCORE_KEY, prefer_no_schedule_tolerations(pod.tolerations))
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        if not node.prefer_taints:
            return 0
        tols = state.read(_PRE_SCORE_KEY)
        if tols is None:
            tols = prefer_no_schedule_tolerations(pod.tolerations)
        return count_intolerable(node, tols)

    def normalize_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo],
                        scores: list[int]) -> None:
        default_normalize_score(MAX_NODE_SCORE, True, scores)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_TAINT),
                ClusterEvent("Pod", ActionType.UPDATE_POD_TOLERATIONS)]
