"""NodeName: a pod that names a node (``spec.nodeName``) fits only that node.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodename/node_name.go``
(v1.31). Pods the scheduler takes from its queue never have a node name (those that do are
bound already), so fakekube adds a PreFilter that skips the filter for them; the verdict is
the same as running it.
"""

from __future__ import annotations

from ..framework import (SKIP, ActionType, ClusterEvent, CycleState, PreFilterResult, Status,
                         unresolvable)
from ..types import NodeInfo, PodInfo

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"

_MISMATCH = unresolvable(ERR_REASON)


def fits(pod: PodInfo, node: NodeInfo) -> bool:
    return not pod.node_name or pod.node_name == node.name


class NodeName:
    NAME = NAME

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        if not pod.node_name:
            return None, SKIP
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        return None if fits(pod, node) else _MISMATCH

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL
                             | ActionType.UPDATE_NODE_TAINT)]
