"""The scheduling framework's vocabulary: status codes, cycle state, cluster events and the
plugin protocols (upstream's ``pkg/scheduler/framework/interface.go``, ``cycle_state.go`` and
``events.go``, v1.31).

A plugin is a class with a ``NAME`` constant and the methods of the extension points it
implements; the framework (:mod:`fakekube.scheduler.runtime`) finds them by duck typing, in the
order of upstream's default plugin list. Every method receives the :class:`CycleState` of the
current scheduling cycle, the :class:`~fakekube.scheduler.types.PodInfo` of the pod being
scheduled and, for per-node points, a :class:`~fakekube.scheduler.types.NodeInfo`.

Return values follow upstream: ``None`` means success; a :class:`Status` says why not. A
``Status`` with code :attr:`Code.SKIP` from PreFilter or PreScore switches the plugin's Filter or
Score off for the rest of the cycle (upstream's "Skip").
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .types import NodeInfo, PodInfo

__all__ = [
    "Code", "Status", "CycleState", "PreFilterResult", "ClusterEvent", "ActionType",
    "MAX_NODE_SCORE", "MIN_NODE_SCORE", "Plugin", "PreEnqueuePlugin", "PreFilterPlugin",
    "FilterPlugin", "PostFilterPlugin", "PreScorePlugin", "ScorePlugin", "ReservePlugin",
    "PreBindPlugin", "BindPlugin", "PostBindPlugin", "EnqueueExtensions", "Handle",
    "NodeToStatus", "unschedulable", "unresolvable", "skip", "error",
]

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0


class Code(enum.IntEnum):
    """``framework.Code``: what a plugin says about a pod (and a node)."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2                      # preemption may help
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3     # preemption would not help
    WAIT = 4
    SKIP = 5
    PENDING = 6


_REJECTED = (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING)


class Status:
    """``framework.Status``: a code, the reasons (upstream's ``Reasons()``) and the plugin
    that returned it. Immutable by convention, so that hot paths can share instances."""

    __slots__ = ("code", "reasons", "plugin")

    def __init__(self, code: Code, *reasons: str, plugin: str = "") -> None:
        self.code = code
        self.reasons = reasons
        self.plugin = plugin

    def message(self) -> str:
        """``Status.Message()``: the reasons joined by ``", "``."""
        return ", ".join(self.reasons)

    def is_success(self) -> bool:
        return self.code == Code.SUCCESS

    def is_skip(self) -> bool:
        return self.code == Code.SKIP

    def is_rejected(self) -> bool:
        """Unschedulable, UnschedulableAndUnresolvable or Pending (``IsRejected``)."""
        return self.code in _REJECTED

    def with_plugin(self, plugin: str) -> "Status":
        if self.plugin == plugin:
            return self
        return Status(self.code, *self.reasons, plugin=plugin)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return self.code == other.code and self.reasons == other.reasons

    def __hash__(self) -> int:
        return hash((self.code, self.reasons))

    def __repr__(self) -> str:
        who = f" from {self.plugin}" if self.plugin else ""
        return f"<Status {self.code.name}{who}: {self.message()!r}>"


def unschedulable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE, *reasons)


def unresolvable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, *reasons)


def error(message: str) -> Status:
    """``framework.AsStatus(err)``: an internal error (not a verdict about the pod)."""
    return Status(Code.ERROR, message)


SKIP = Status(Code.SKIP)


def skip() -> Status:
    return SKIP


class PreFilterResult:
    """``framework.PreFilterResult``: the node names a PreFilter plugin narrows the cycle to;
    ``node_names=None`` means all nodes."""

    __slots__ = ("node_names",)

    def __init__(self, node_names: Iterable[str] | None = None) -> None:
        self.node_names = None if node_names is None else frozenset(node_names)

    def all_nodes(self) -> bool:
        return self.node_names is None

    def merge(self, other: "PreFilterResult | None") -> "PreFilterResult":
        """The intersection (``PreFilterResult.Merge``)."""
        if other is None or other.node_names is None:
            return self
        if self.node_names is None:
            return other
        return PreFilterResult(self.node_names & other.node_names)

    def __repr__(self) -> str:
        return f"PreFilterResult({None if self.node_names is None else sorted(self.node_names)})"


class CycleState:
    """``framework.CycleState``: per-cycle data plugins write at PreFilter/PreScore and read
    later, keyed by a plugin-chosen key; and the plugins that asked to be skipped."""

    __slots__ = ("data", "skip_filter_plugins", "skip_score_plugins")

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()

    def read(self, key: str) -> Any:
        return self.data.get(key)

    def write(self, key: str, value: Any) -> None:
        self.data[key] = value

    def clone(self) -> "CycleState":
        """A copy whose entries are cloned where they know how (``StateData.Clone``), as
        preemption's dry runs need."""
        c = CycleState()
        for k, v in self.data.items():
            clone = getattr(v, "clone", None)
            c.data[k] = clone() if clone is not None else v
        c.skip_filter_plugins = set(self.skip_filter_plugins)
        c.skip_score_plugins = set(self.skip_score_plugins)
        return c


class NodeToStatus:
    """``framework.NodeToStatus``: the statuses of nodes that were filtered out, plus the
    status every node absent from the map has (when a PreFilterResult or a PreFilter
    failure ruled them out as a group)."""

    __slots__ = ("statuses", "absent")

    def __init__(self) -> None:
        self.statuses: dict[str, Status] = {}
        self.absent: Status = _ABSENT_DEFAULT

    def get(self, node_name: str) -> Status:
        return self.statuses.get(node_name, self.absent)

    def set(self, node_name: str, status: Status) -> None:
        self.statuses[node_name] = status

    def __len__(self) -> int:
        return len(self.statuses)


# ``NewDefaultNodeToStatus``: an absent node is UnschedulableAndUnresolvable, no reasons.
_ABSENT_DEFAULT = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)


# -- cluster events -----------------------------------------------------------------------

class ActionType(enum.IntFlag):
    """``framework.ActionType``: what happened to an object, as a bit set."""

    ADD = 1 << 0
    DELETE = 1 << 1
    UPDATE_NODE_ALLOCATABLE = 1 << 2
    UPDATE_NODE_LABEL = 1 << 3
    UPDATE_NODE_TAINT = 1 << 4
    UPDATE_NODE_CONDITION = 1 << 5
    UPDATE_NODE_ANNOTATION = 1 << 6
    UPDATE_POD_LABEL = 1 << 7
    UPDATE_POD_SCALE_DOWN = 1 << 8
    UPDATE_POD_TOLERATIONS = 1 << 9
    UPDATE_POD_SCHEDULING_GATES_ELIMINATED = 1 << 10
    UPDATE_OTHER = 1 << 11  # an update of a resource without finer-grained update types
    UPDATE = ((1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8)
              | (1 << 9) | (1 << 10) | (1 << 11))
    ALL = (1 << 12) - 1


class ClusterEvent(NamedTuple):
    """``framework.ClusterEvent``: a resource (Kind name, or ``"*"`` for any) and what
    happened to it; ``label`` names it in logs and tests."""

    resource: str
    action: ActionType
    label: str = ""

    def matches(self, registered: "ClusterEvent") -> bool:
        """Whether a plugin that registered ``registered`` is interested in this event."""
        if self.resource == "*":
            return True
        return ((registered.resource == "*" or registered.resource == self.resource)
                and bool(self.action & registered.action))


# -- the plugin protocols ------------------------------------------------------------------

@runtime_checkable
class Plugin(Protocol):
    NAME: str


class Handle(Protocol):
    """What the framework gives its plugins (``framework.Handle``): the scheduler cache as
    the snapshot of nodes, informers, the API, the clock, configuration and randomness."""

    cache: Any
    api: Any
    config: Any
    clock: Any

    def informer(self, kind: str) -> Any: ...


@runtime_checkable
class EnqueueExtensions(Protocol):
    def events_to_register(self) -> list[ClusterEvent]:
        """The cluster events that may make a pod this plugin rejected schedulable."""


@runtime_checkable
class PreEnqueuePlugin(Protocol):
    NAME: str

    def pre_enqueue(self, pod: "PodInfo") -> Status | None: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    NAME: str

    def pre_filter(self, state: CycleState, pod: "PodInfo"
                   ) -> tuple[PreFilterResult | None, Status | None]: ...


@runtime_checkable
class FilterPlugin(Protocol):
    NAME: str

    def filter(self, state: CycleState, pod: "PodInfo", node: "NodeInfo") -> Status | None: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    NAME: str

    def post_filter(self, state: CycleState, pod: "PodInfo", statuses: NodeToStatus
                    ) -> tuple[Any, Status | None]: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    NAME: str

    def pre_score(self, state: CycleState, pod: "PodInfo", nodes: list["NodeInfo"]
                  ) -> Status | None: ...


@runtime_checkable
class ScorePlugin(Protocol):
    NAME: str
    WEIGHT: int

    def score(self, state: CycleState, pod: "PodInfo", node: "NodeInfo") -> int: ...


@runtime_checkable
class ReservePlugin(Protocol):
    NAME: str

    def reserve(self, state: CycleState, pod: "PodInfo", node_name: str) -> Status | None: ...

    def unreserve(self, state: CycleState, pod: "PodInfo", node_name: str) -> None: ...


@runtime_checkable
class PreBindPlugin(Protocol):
    """PreBind. fakekube's binding cycle runs in the run loop rather than in a goroutine, so
    a plugin that must wait (VolumeBinding waiting for the PV controller) returns a
    :attr:`Code.WAIT` status; the scheduler then calls ``pre_bind_check`` again whenever an
    event it cares about arrives, until it returns None (done) or a failure, or until
    ``pre_bind_timeout`` seconds have passed."""

    NAME: str

    def pre_bind(self, state: CycleState, pod: "PodInfo", node_name: str) -> Status | None: ...


@runtime_checkable
class BindPlugin(Protocol):
    NAME: str

    def bind(self, state: CycleState, pod: "PodInfo", node_name: str) -> Status | None: ...


@runtime_checkable
class PostBindPlugin(Protocol):
    NAME: str

    def post_bind(self, state: CycleState, pod: "PodInfo", node_name: str) -> None: ...
