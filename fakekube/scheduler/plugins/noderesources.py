"""NodeResourcesFit: the pod's requests must fit the node's allocatable minus what its pods
request; among the nodes that fit, the least allocated ones score best.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/fit.go``,
``least_allocated.go`` and ``resource_allocation.go`` (v1.31):

- requests as ``resourcehelper.PodRequests`` computes them (init containers, sidecars,
  overhead; see :func:`fakekube.scheduler.types.pod_requests`);
- the filter's reasons, in this order and all of them: ``Too many pods``,
  ``Insufficient cpu``, ``Insufficient memory``, ``Insufficient ephemeral-storage``,
  ``Insufficient <scalar>``; a resource the pod requests 0 of is not checked; the status is
  Unschedulable (preemption may help);
- the score (LeastAllocated, cpu and memory weighted 1 each) uses the non-zero requests:
  ``(allocatable - requested) * 100 // allocatable`` per resource, averaged by weight.
"""

from __future__ import annotations

from ..framework import ActionType, ClusterEvent, CycleState, PreFilterResult, Status, error
from ..framework import unschedulable
from ..helpers import is_extended_resource
from ..types import NodeInfo, PodInfo

NAME = "NodeResourcesFit"
WEIGHT = 1
ERR_REASON_TOO_MANY_PODS = "Too many pods"
ERR_REASON_CPU = "Insufficient cpu"
ERR_REASON_MEMORY = "Insufficient memory"
ERR_REASON_EPHEMERAL = "Insufficient ephemeral-storage"

PRE_FILTER_KEY = "PreFilter" + NAME

_STATUS_CACHE: dict[tuple[str, ...], Status] = {}

NEG_INF = float("-inf")


class FitRequest:
    """The pod's requests as the filter checks them. A resource the pod requests 0 of is
    stored as -inf so that ``request > free`` is never true for it, even on an
    overcommitted node."""

    __slots__ = ("cpu", "mem", "eph", "scalars", "any")

    def __init__(self, pod: PodInfo, ignored: frozenset[str] = frozenset()) -> None:
        self.cpu = pod.cpu if pod.cpu > 0 else NEG_INF
        self.mem = pod.mem if pod.mem > 0 else NEG_INF
        self.eph = pod.eph if pod.eph > 0 else NEG_INF
        scalars = None
        if pod.scalars:
            scalars = {k: v for k, v in pod.scalars.items()
                       if v != 0 and not (is_extended_resource(k) and k in ignored)}
        self.scalars = scalars or None
        self.any = (pod.cpu != 0 or pod.mem != 0 or pod.eph != 0 or bool(pod.scalars))

    def clone(self) -> "FitRequest":
        return self


def insufficient(req: FitRequest, node: NodeInfo) -> list[str]:
    """``fitsRequest``: the reasons the pod does not fit ``node`` (empty when it fits)."""
    reasons: list[str] = []
    if len(node.pods) + 1 > node.alloc_pods:
        reasons.append(ERR_REASON_TOO_MANY_PODS)
    if not req.any:
        return reasons
    if req.cpu > node.alloc_cpu - node.req_cpu:
        reasons.append(ERR_REASON_CPU)
    if req.mem > node.alloc_mem - node.req_mem:
        reasons.append(ERR_REASON_MEMORY)
    if req.eph > node.alloc_eph - node.req_eph:
        reasons.append(ERR_REASON_EPHEMERAL)
    if req.scalars:
        alloc, used = node.alloc_scalars, node.req_scalars
        for name, q in req.scalars.items():
            if q > alloc.get(name, 0) - used.get(name, 0):
                reasons.append(f"Insufficient {name}")
    return reasons


def status_for(reasons: list[str]) -> Status:
    key = tuple(reasons)
    st = _STATUS_CACHE.get(key)
    if st is None:
        st = unschedulable(*reasons)
        if len(_STATUS_CACHE) < 4096:
            _STATUS_CACHE[key] = st
    return st


def least_requested_score(requested: int, capacity: int) -> int:
    """``leastRequestedScore``."""
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * 100 // capacity


def least_allocated(pod: PodInfo, node: NodeInfo) -> int:
    """The LeastAllocated score of ``node`` for ``pod`` (cpu and memory, weight 1 each)."""
    total = weights = 0
    ac = node.alloc_cpu
    if ac:
        total += least_requested_score(node.nz_cpu + pod.nz_cpu, ac)
        weights += 1
    am = node.alloc_mem
    if am:
        total += least_requested_score(node.nz_mem + pod.nz_mem, am)
        weights += 1
    return total // weights if weights else 0


class Fit:
    NAME = NAME
    WEIGHT = WEIGHT

    def __init__(self, handle: object = None, ignored_resources: frozenset[str] = frozenset()
                 ) -> None:
        self.handle = handle
        self.ignored_resources = ignored_resources

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        state.write(PRE_FILTER_KEY, FitRequest(pod, self.ignored_resources))
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        req = state.read(PRE_FILTER_KEY)
        if req is None:
            return error(f'error reading "{PRE_FILTER_KEY}" from cycleState: not found')
        reasons = insufficient(req, node)
        if reasons:
            return status_for(reasons)
        return None

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                  ) -> Status | None:
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return least_allocated(pod, node)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.DELETE),
                ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_ALLOCATABLE
                             | ActionType.UPDATE_NODE_TAINT | ActionType.UPDATE_NODE_LABEL)]
