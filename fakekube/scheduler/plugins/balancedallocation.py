"""NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would be equally
used after placing the pod.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go``
(v1.31): fractions ``requested / allocatable`` (the real requests, capped at 1) for cpu and
memory; the score is ``int((1 - std) * 100)``, where for two resources the standard
deviation is ``|f1 - f2| / 2``.
"""

from __future__ import annotations

import math

from ..framework import ActionType, ClusterEvent, CycleState, Status
from ..types import NodeInfo, PodInfo

NAME = "NodeResourcesBalancedAllocation"
WEIGHT = 1


def balanced_score(pod: PodInfo, node: NodeInfo) -> int:
    """``balancedResourceScorer`` over cpu and memory."""
    fractions = []
    ac = node.alloc_cpu
    if ac:
        f = (node.req_cpu + pod.cpu) / ac
        fractions.append(f if f < 1 else 1.0)
    am = node.alloc_mem
    if am:
        f = (node.req_mem + pod.mem) / am
        fractions.append(f if f < 1 else 1.0)
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:  # pragma: no cover - only cpu and memory are scored
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * 100)


class BalancedAllocation:
    NAME = NAME
    WEIGHT = WEIGHT

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                  ) -> Status | None:
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return balanced_score(pod, node)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.DELETE),
                ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_ALLOCATABLE
                             | ActionType.UPDATE_NODE_TAINT | ActionType.UPDATE_NODE_LABEL)]
