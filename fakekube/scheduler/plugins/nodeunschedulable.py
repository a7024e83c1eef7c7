"""NodeUnschedulable: cordoned nodes (``spec.unschedulable``) take no new pods, unless the
pod tolerates the ``node.kubernetes.io/unschedulable:NoSchedule`` taint.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go``
(v1.31).
"""

from __future__ import annotations

from ..framework import ActionType, ClusterEvent, CycleState, Status, unresolvable
from ..helpers import tolerates
from ..types import NodeInfo, PodInfo

NAME = "NodeUnschedulable"
ERR_REASON = "node(s) were unschedulable"
ERR_REASON_UNKNOWN_CONDITION = "node(s) had unknown conditions"

TAINT_NODE_UNSCHEDULABLE = ("node.kubernetes.io/unschedulable", "", "NoSchedule")

_UNSCHEDULABLE = unresolvable(ERR_REASON)


class NodeUnschedulable:
    NAME = NAME
    # The filter can only fail on a node whose NodeInfo is ``gated``.
    GATED = True

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if node.node is None:
            return unresolvable(ERR_REASON_UNKNOWN_CONDITION)
        if not node.unschedulable:
            return None
        if tolerates(pod.tolerations, TAINT_NODE_UNSCHEDULABLE):
            return None
        return _UNSCHEDULABLE

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_TAINT)]
