"""The scheduling queue: active pods by priority, pods backing off after a failure, and
unschedulable pods parked until a cluster event may help them.

Follows ``kubernetes/kubernetes:pkg/scheduler/internal/queue/scheduling_queue.go`` (v1.31,
``SchedulerQueueingHints`` off, its default):

- activeQ is ordered by ``PrioritySort``: higher priority first, then the earlier queue
  timestamp (the time the pod last entered the queue); fakekube breaks ties by arrival order.
- A pod that fails goes back with its timestamp set to now: to unschedulablePods, or to
  backoffQ when a move request arrived during its scheduling cycle or no plugin rejected it
  (an error). Backoff is ``pod_initial_backoff_seconds * 2**(attempts-1)``, capped at
  ``pod_max_backoff_seconds``, from the last failure; a pod leaves backoffQ for activeQ when
  its backoff ends (a deadline on the virtual clock: the move will happen).
- A cluster event moves the unschedulable pods rejected by a plugin that registered for it
  (or by no plugin) to backoffQ if still backing off, else to activeQ. Unschedulable pods
  wait for events without any deadline, so a cluster with a pod that fits nowhere settles;
  the leftover flush (pods parked for more than 5 minutes, checked every 30 s) is a
  heartbeat, as upstream's ``flushUnschedulablePodsLeftover``.
- PreEnqueue plugins (SchedulingGates) keep a pod out of activeQ while they reject it.
- The nominator remembers pods nominated to nodes by preemption.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from typing import Callable, Iterable

from ..clock import Timer, VirtualClock
from .framework import ActionType, ClusterEvent
from .types import PodInfo

__all__ = ["SchedulingQueue", "QueuedPodInfo", "UNSCHEDULABLE_TIMEOUT", "ASSIGNED_POD_ADD",
           "ASSIGNED_POD_UPDATE", "ASSIGNED_POD_DELETE", "FORCE_ACTIVATE"]

POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION = 300.0   # podMaxInUnschedulablePodsDuration
FLUSH_UNSCHEDULABLE_PERIOD = 30.0                # flushUnschedulablePodsLeftover period

UNSCHEDULABLE_TIMEOUT = ClusterEvent("*", ActionType.ALL, "UnschedulableTimeout")
FORCE_ACTIVATE = ClusterEvent("*", ActionType.ALL, "ForceActivate")
ASSIGNED_POD_ADD = ClusterEvent("Pod", ActionType.ADD, "AssignedPodAdd")
ASSIGNED_POD_UPDATE = ClusterEvent("Pod", ActionType.UPDATE, "AssignedPodUpdate")
ASSIGNED_POD_DELETE = ClusterEvent("Pod", ActionType.DELETE, "AssignedPodDelete")

ACTIVE, BACKOFF, UNSCHEDULABLE = "activeQ", "backoffQ", "unschedulablePods"
NO_PLUGINS: frozenset[str] = frozenset()  # a QueuedPodInfo's plugin sets before any attempt


class QueuedPodInfo:
    """``framework.QueuedPodInfo``: a pod in the queue and its scheduling history."""

    __slots__ = ("pi", "timestamp", "attempts", "initial_attempt_timestamp",
                 "unschedulable_plugins", "pending_plugins", "gated", "seq", "where",
                 "backoff_expiry")

    def __init__(self, pi: PodInfo, now: float, seq: int) -> None:
        self.pi = pi
        self.timestamp = now
        self.attempts = 0
        self.initial_attempt_timestamp: float | None = None
        # (replaced, never changed in place: a new pod shares the empty set)
        self.unschedulable_plugins: set[str] | frozenset[str] = NO_PLUGINS
        self.pending_plugins: set[str] | frozenset[str] = NO_PLUGINS
        self.gated = False
        self.seq = seq
        self.where = ""
        self.backoff_expiry = 0.0

    @property
    def uid(self) -> str:
        return self.pi.uid

    def __repr__(self) -> str:
        return f"<QueuedPodInfo {self.pi.namespace}/{self.pi.name} in {self.where or '-'}>"


class SchedulingQueue:
    """``PriorityQueue``. ``on_active`` is called whenever a pod enters activeQ (the
    scheduler queues its work key then); ``pre_enqueue`` runs the PreEnqueue plugins and
    returns the rejecting plugin's name or None; ``registered`` maps each plugin name to the
    cluster events it registered for."""

    def __init__(self, clock: VirtualClock, initial_backoff: float, max_backoff: float,
                 on_active: Callable[[], None],
                 pre_enqueue: Callable[[PodInfo], str | None] | None = None,
                 registered: dict[str, list[ClusterEvent]] | None = None) -> None:
        self.clock = clock
        self.initial_backoff = float(initial_backoff)
        self.max_backoff = float(max_backoff)
        self.on_active = on_active
        self.pre_enqueue = pre_enqueue or (lambda pi: None)
        self.registered: dict[str, list[ClusterEvent]] = registered or {}
        self._interesting = [e for events in self.registered.values() for e in events]
        self._seq = itertools.count()
        # activeQ: a heap of (-priority, timestamp) keys, each with the (seq, uid) of its pods
        # in arrival order: the pods of a key are popped in seq order, and pods that arrive
        # together (same priority, same virtual time) cost a deque append and popleft
        # instead of heap operations. Entries whose pod moved on since are skipped on read.
        self._active_keys: list[tuple[int, float]] = []
        self._active: dict[tuple[int, float], deque[tuple[int, str]]] = {}
        self._backoff: list[tuple[float, int, str]] = []
        self.pods: dict[str, QueuedPodInfo] = {}        # every queued pod by UID
        self.unschedulable: dict[str, QueuedPodInfo] = {}  # the parked ones
        self._interest: dict[tuple[str, int], bool] = {}
        self.in_flight: dict[str, QueuedPodInfo] = {}
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._backoff_timer: Timer | None = None
        self._flush_timer: Timer | None = None
        # nominator: node name -> {uid: PodInfo}, and uid -> node name
        self.nominated: dict[str, dict[str, PodInfo]] = {}
        self.nominated_node: dict[str, str] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def run(self) -> None:
        """Start the leftover flush heartbeat (``flushUnschedulablePodsLeftover``)."""
        if self._flush_timer is None:
            self._flush_timer = self.clock.call_every(
                FLUSH_UNSCHEDULABLE_PERIOD, self.flush_unschedulable_leftover,
                label="kube-scheduler flushUnschedulablePodsLeftover")

    def close(self) -> None:
        for t in (self._flush_timer, self._backoff_timer):
            if t is not None:
                t.cancel()
        self._flush_timer = self._backoff_timer = None

    # -- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.pods)

    def has_active(self) -> bool:
        keys, buckets, pods = self._active_keys, self._active, self.pods
        while keys:
            bucket = buckets[keys[0]]
            while bucket:
                seq, uid = bucket[0]
                qpi = pods.get(uid)
                if qpi is not None and qpi.where == ACTIVE and qpi.seq == seq:
                    return True
                bucket.popleft()
            del buckets[heapq.heappop(keys)]
        return False

    def where(self, uid: str) -> str | None:
        qpi = self.pods.get(uid)
        if qpi is not None:
            return qpi.where
        return "in-flight" if uid in self.in_flight else None

    def pending_pods(self) -> dict[str, list[QueuedPodInfo]]:
        out: dict[str, list[QueuedPodInfo]] = {ACTIVE: [], BACKOFF: [], UNSCHEDULABLE: []}
        for qpi in self.pods.values():
            out[qpi.where].append(qpi)
        return out

    # -- adding and removing ---------------------------------------------------------------

    def add(self, pi: PodInfo) -> None:
        """``Add``: a new pending pod goes to activeQ (or waits, if a PreEnqueue plugin
        rejects it)."""
        if pi.uid in self.pods or pi.uid in self.in_flight:
            return
        qpi = QueuedPodInfo(pi, self.clock.now(), next(self._seq))
        self._move_to_active(qpi)

    def update(self, old: dict | None, pi: PodInfo) -> None:
        """``Update``: an unassigned pod changed."""
        uid = pi.uid
        qpi = self.pods.get(uid)
        if qpi is None:
            if uid in self.in_flight:
                self.in_flight[uid].pi = pi
                return
            self.add(pi)
            return
        qpi.pi = pi
        self._update_nominated(pi)
        if qpi.where != UNSCHEDULABLE:
            return
        if old is not None and not is_pod_updated(old, pi.pod):
            return
        if self._is_backing_off(qpi):
            self._to_backoff(qpi)
        else:
            self._move_to_active(qpi)

    def delete(self, uid: str) -> None:
        """``Delete``: the pod is gone (or was bound)."""
        qpi = self.pods.pop(uid, None)
        if qpi is not None:
            qpi.where = ""
            self.unschedulable.pop(uid, None)
        self.in_flight.pop(uid, None)
        self.delete_nominated(uid)

    def pop(self) -> QueuedPodInfo | None:
        """``Pop``: the next pod to schedule, now in flight; None when activeQ is empty."""
        keys, buckets, pods = self._active_keys, self._active, self.pods
        while keys:
            bucket = buckets[keys[0]]
            if not bucket:
                del buckets[heapq.heappop(keys)]
                continue
            seq, uid = bucket.popleft()
            qpi = pods.get(uid)
            if qpi is None or qpi.where != ACTIVE or qpi.seq != seq:
                continue
            del pods[uid]
            qpi.where = ""
            self.scheduling_cycle += 1
            qpi.attempts += 1
            if qpi.initial_attempt_timestamp is None:
                qpi.initial_attempt_timestamp = self.clock.now()
            self.in_flight[uid] = qpi
            return qpi
        return None

    def done(self, uid: str) -> None:
        """``Done``: the pod's scheduling (and binding) attempt is over."""
        self.in_flight.pop(uid, None)

    def add_unschedulable_if_not_present(self, qpi: QueuedPodInfo, pod_cycle: int) -> None:
        """``AddUnschedulableIfNotPresent`` (without queueing hints): after a failed
        attempt, park the pod, or back it off when an event arrived during its cycle or no
        plugin rejected it."""
        self.in_flight.pop(qpi.uid, None)
        if qpi.uid in self.pods:
            return
        qpi.timestamp = self.clock.now()
        rejectors = qpi.unschedulable_plugins | qpi.pending_plugins
        if self.move_request_cycle >= pod_cycle or not rejectors:
            self._to_backoff(qpi)
        else:
            self._to_unschedulable(qpi)
        self.add_nominated(qpi.pi, None)

    # -- moves ---------------------------------------------------------------------------

    def move_all(self, event: ClusterEvent, pre_check: Callable[[PodInfo], bool] | None = None
                 ) -> None:
        """``MoveAllToActiveOrBackoffQueue``."""
        if not self.unschedulable or not self._event_of_interest(event):
            return
        pods = [q for q in self.unschedulable.values()
                if pre_check is None or pre_check(q.pi)]
        self.move_pods(pods, event)

    def move_pods(self, pods: Iterable[QueuedPodInfo], event: ClusterEvent) -> None:
        """``movePodsToActiveOrBackoffQueue``."""
        if not self._event_of_interest(event):
            return
        for qpi in sorted(pods, key=lambda q: q.seq):
            if qpi.gated and "SchedulingGates" in qpi.unschedulable_plugins:
                continue
            if not self._worth_requeuing(qpi, event):
                continue
            if self._is_backing_off(qpi):
                self._to_backoff(qpi)
            else:
                self._move_to_active(qpi)
        self.move_request_cycle = self.scheduling_cycle

    def assigned_pod_added(self, pi: PodInfo, ns_labels: Callable[[str], dict]) -> None:
        """``AssignedPodAdded``: only pods whose affinity terms match the new pod, or that
        PodTopologySpread rejected in its namespace, may now fit."""
        self.move_pods(self._with_cross_topology_term(pi, ns_labels), ASSIGNED_POD_ADD)

    def assigned_pod_updated(self, pi: PodInfo, event: ClusterEvent,
                             ns_labels: Callable[[str], dict]) -> None:
        """``AssignedPodUpdated``."""
        if event.action & ActionType.UPDATE_POD_SCALE_DOWN:
            self.move_all(event)
        else:
            self.move_pods(self._with_cross_topology_term(pi, ns_labels), event)

    def _with_cross_topology_term(self, pi: PodInfo, ns_labels: Callable[[str], dict]
                                  ) -> list[QueuedPodInfo]:
        out = []
        labels = None
        for qpi in self.unschedulable.values():
            if "PodTopologySpread" in qpi.unschedulable_plugins and \
                    qpi.pi.namespace == pi.namespace:
                out.append(qpi)
                continue
            terms = qpi.pi.required_affinity_terms
            if not terms:
                continue
            if labels is None:
                labels = ns_labels(pi.namespace)
            for t in terms:
                if t.matches(pi.namespace, pi.labels, labels):
                    out.append(qpi)
                    break
        return out

    def flush_unschedulable_leftover(self) -> None:
        """Heartbeat: pods parked longer than ``podMaxInUnschedulablePodsDuration`` get
        another chance."""
        now = self.clock.now()
        stale = [q for q in self.unschedulable.values()
                 if now - q.timestamp > POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION]
        if stale:
            self.move_pods(stale, UNSCHEDULABLE_TIMEOUT)

    def _event_of_interest(self, event: ClusterEvent) -> bool:
        """``isEventOfInterest``: some plugin registered for the event."""
        if event.resource == "*":
            return True
        key = (event.resource, int(event.action))
        got = self._interest.get(key)
        if got is None:
            got = self._interest[key] = any(event.matches(e) for e in self._interesting)
        return got

    def _worth_requeuing(self, qpi: QueuedPodInfo, event: ClusterEvent) -> bool:
        rejectors = qpi.unschedulable_plugins | qpi.pending_plugins
        if not rejectors or event.resource == "*":
            return True
        for plugin in rejectors:
            for e in self.registered.get(plugin, ()):
                if event.matches(e):
                    return True
        return False

    # -- backoff -------------------------------------------------------------------------

    def backoff_duration(self, qpi: QueuedPodInfo) -> float:
        """``calculateBackoffDuration``."""
        if qpi.attempts == 0:
            return 0.0
        duration = self.initial_backoff
        for _ in range(1, qpi.attempts):
            if duration > self.max_backoff - duration:
                return self.max_backoff
            duration += duration
        return duration

    def backoff_time(self, qpi: QueuedPodInfo) -> float:
        return qpi.timestamp + self.backoff_duration(qpi)

    def _is_backing_off(self, qpi: QueuedPodInfo) -> bool:
        if qpi.gated:
            return False
        return self.backoff_time(qpi) > self.clock.now()

    def _to_backoff(self, qpi: QueuedPodInfo) -> None:
        self.unschedulable.pop(qpi.uid, None)
        qpi.where = BACKOFF
        qpi.seq = next(self._seq)
        qpi.backoff_expiry = self.backoff_time(qpi)
        self.pods[qpi.uid] = qpi
        heapq.heappush(self._backoff, (qpi.backoff_expiry, qpi.seq, qpi.uid))
        self._arm_backoff()

    def _arm_backoff(self) -> None:
        heap = self._backoff
        while heap:
            expiry, seq, uid = heap[0]
            q = self.pods.get(uid)
            if q is None or q.where != BACKOFF or q.seq != seq:
                heapq.heappop(heap)
                continue
            t = self._backoff_timer
            if t is not None and not t.cancelled:
                if t.when <= expiry:
                    return
                t.cancel()
            self._backoff_timer = self.clock.call_at(
                expiry, self._flush_backoff_completed, label="kube-scheduler backoff")
            return
        t = self._backoff_timer
        if t is not None:
            t.cancel()
            self._backoff_timer = None

    def _flush_backoff_completed(self) -> None:
        """``flushBackoffQCompleted``: pods whose backoff ended go to activeQ."""
        self._backoff_timer = None
        now = self.clock.now()
        heap = self._backoff
        while heap:
            expiry, seq, uid = heap[0]
            q = self.pods.get(uid)
            if q is None or q.where != BACKOFF or q.seq != seq:
                heapq.heappop(heap)
                continue
            if expiry > now:
                break
            heapq.heappop(heap)
            self._move_to_active(q)
        self._arm_backoff()

    # -- the three queues ----------------------------------------------------------------

    def _move_to_active(self, qpi: QueuedPodInfo) -> None:
        rejector = self.pre_enqueue(qpi.pi)
        if rejector is not None:
            qpi.gated = True
            qpi.unschedulable_plugins = {rejector}
            qpi.pending_plugins = NO_PLUGINS
            self._to_unschedulable(qpi)
            return
        qpi.gated = False
        self.unschedulable.pop(qpi.uid, None)
        qpi.where = ACTIVE
        qpi.seq = next(self._seq)
        self.pods[qpi.uid] = qpi
        key = (-qpi.pi.priority, qpi.timestamp)
        bucket = self._active.get(key)
        if bucket is None:
            bucket = self._active[key] = deque()
            heapq.heappush(self._active_keys, key)
        bucket.append((qpi.seq, qpi.uid))
        self.on_active()

    def _to_unschedulable(self, qpi: QueuedPodInfo) -> None:
        qpi.where = UNSCHEDULABLE
        qpi.seq = next(self._seq)
        self.pods[qpi.uid] = qpi
        self.unschedulable[qpi.uid] = qpi

    # -- nominator -----------------------------------------------------------------------

    def add_nominated(self, pi: PodInfo, node_name: str | None) -> None:
        """``AddNominatedPod``: ``node_name`` overrides the pod's
        ``status.nominatedNodeName`` when not None."""
        self.delete_nominated(pi.uid)
        if node_name is None:
            node_name = (pi.pod.get("status") or {}).get("nominatedNodeName") or ""
        if not node_name or pi.node_name:
            return
        self.nominated_node[pi.uid] = node_name
        self.nominated.setdefault(node_name, {})[pi.uid] = pi

    def delete_nominated(self, uid: str) -> None:
        node = self.nominated_node.pop(uid, None)
        if node is not None:
            pods = self.nominated.get(node)
            if pods is not None:
                pods.pop(uid, None)
                if not pods:
                    del self.nominated[node]

    def _update_nominated(self, pi: PodInfo) -> None:
        node = (pi.pod.get("status") or {}).get("nominatedNodeName") or ""
        if node or pi.uid in self.nominated_node:
            self.add_nominated(pi, node or self.nominated_node.get(pi.uid))

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return list(self.nominated.get(node_name, {}).values())


_IGNORED_META = ("resourceVersion", "generation", "managedFields", "finalizers")


def is_pod_updated(old: dict, new: dict) -> bool:
    """``isPodUpdated``: changed in anything but resourceVersion, generation, status,
    managed fields and finalizers."""
    if old.get("spec") != new.get("spec"):
        return True
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    keys = set(om) | set(nm)
    for k in keys:
        if k in _IGNORED_META:
            continue
        if om.get(k) != nm.get(k):
            return True
    return False
