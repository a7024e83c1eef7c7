"""NodePorts: a pod's host ports must be free on the node.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodeports/node_ports.go``
(v1.31): PreFilter skips pods without host ports; a port bound on ``0.0.0.0`` conflicts
with the same protocol and port on any address.
"""

from __future__ import annotations

from ..framework import (SKIP, ActionType, ClusterEvent, CycleState, PreFilterResult, Status,
                         unschedulable)
from ..types import NodeInfo, PodInfo

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"

_CONFLICT = unschedulable(ERR_REASON)


def fits(pod: PodInfo, node: NodeInfo) -> bool:
    for ip, proto, port in pod.host_ports:
        if node.port_conflict(ip, proto, port):
            return False
    return True


class NodePorts:
    NAME = NAME

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        if not pod.host_ports:
            return None, SKIP
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        return None if fits(pod, node) else _CONFLICT

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.DELETE),
                ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL
                             | ActionType.UPDATE_NODE_TAINT)]
