"""SchedulingGates: a pod with ``spec.schedulingGates`` is not scheduled until they are gone.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/schedulinggates/scheduling_gates.go``
(v1.31): a PreEnqueue plugin; the pod waits in the unschedulable pods until an update
removes its last gate.
"""

from __future__ import annotations

from ..framework import ActionType, ClusterEvent, Status, unresolvable
from ..types import PodInfo

NAME = "SchedulingGates"


class SchedulingGates:
    NAME = NAME

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        if not pod.gates:  # (read from the spec with the rest of the PodInfo)
            return None
        gates = (pod.pod.get("spec") or {}).get("schedulingGates") or ()
        names = " ".join(g.get("name", "") for g in gates)
        return unresolvable(f"waiting for scheduling gates: [{names}]")

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.UPDATE_POD_SCHEDULING_GATES_ELIMINATED)]
