"""The node lifecycle controller: node health, the condition taints and NoExecute tainting.

Follows kubernetes/kubernetes ``pkg/controller/nodelifecycle/node_lifecycle_controller.go``
(``monitorNodeHealth``, ``tryUpdateNodeHealth``, ``processTaintBaseEviction``,
``handleDisruption``, ``doNoScheduleTaintingPass``, ``doNoExecuteTaintingPass``,
``reconcileNodeLabels``), ``pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go``
(the per-zone rate-limited tainting queue) and ``pkg/controller/util/node/controller_utils.go``
(``MarkPodsNotReady``, ``RecordNodeStatusChange``, ``SwapNodeControllerTaint``):

- A node's *probe timestamp* is refreshed when its Ready condition's ``lastHeartbeatTime``
  changes or its Lease in ``kube-node-lease`` gets a later ``spec.renewTime``. When
  ``probe + grace < now`` at a monitor tick (grace: ``node_monitor_grace_period``, or
  ``node_startup_grace_period`` for a node that never posted Ready), Ready, MemoryPressure,
  DiskPressure and PIDPressure become Unknown (``NodeStatusUnknown`` / ``NodeStatusNeverUpdated``).
- On the tick that turns Ready from True to something else: a ``NodeNotReady`` node event and
  every pod on the node gets ``Ready=False`` (each with a ``NodeNotReady`` pod event).
- On every node change: the NoSchedule taints that mirror its conditions and
  ``spec.unschedulable``.
- At each tick, a node observed Ready=False/Unknown (as the tick found it: a node the
  controller itself turns Unknown is queued one tick later) joins its zone's rate-limited
  queue, which adds ``node.kubernetes.io/not-ready`` / ``unreachable`` NoExecute taints
  (with ``timeAdded``) at ``node_eviction_rate`` per zone, burst 1; an already tainted node
  has the two swapped at once; Ready=True removes both. Zone disruption picks the rate
  (``secondary_node_eviction_rate`` / 0 for a partially disrupted zone); when every zone is
  fully disrupted, all NoExecute taints come off and tainting stops.

Time, as DESIGN.md "Determinism and time" asks: monitor ticks fall on multiples of
``node_monitor_period`` since the controller started, but nothing polls. A node is looked at on
the first tick after something about it changed, and each node has one deadline for the tick at
which its lease expires (the first tick after ``probe + grace``), renewed by its kubelet's
heartbeat (``kubelet-lease:<node>``); the tainting queue's next token is a deadline too.
Two things happen at the instant of the change rather than at the next tick: a probe refresh,
and the registration of a new node (``RegisteredNode``), so a fresh cluster is at a fixed point.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import partial
from typing import Any

from ..api.objects import deep_copy, parse_rfc3339, rfc3339
from ..api.store import ADDED, DELETED, WatchEvent
from ..clock import Timer
from ..errors import ApiError, NotFound
from ..runtime import Controller, Result

__all__ = ["NodeLifecycleController", "zone_key", "compute_zone_state"]

NODE_LEASE_NAMESPACE = "kube-node-lease"

TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NO_SCHEDULE, NO_EXECUTE = "NoSchedule", "NoExecute"

# nodeConditionToTaintKeyStatusMap
CONDITION_TAINTS: dict[str, dict[str, str]] = {
    "Ready": {"False": TAINT_NOT_READY, "Unknown": TAINT_UNREACHABLE},
    "MemoryPressure": {"True": "node.kubernetes.io/memory-pressure"},
    "DiskPressure": {"True": "node.kubernetes.io/disk-pressure"},
    "NetworkUnavailable": {"True": "node.kubernetes.io/network-unavailable"},
    "PIDPressure": {"True": "node.kubernetes.io/pid-pressure"},
}
# taintKeyToNodeConditionMap, plus the unschedulable taint: the NoSchedule taints this
# controller owns.
_OWNED_NO_SCHEDULE = frozenset(k for m in CONDITION_TAINTS.values() for k in m.values()) | {
    TAINT_UNSCHEDULABLE}
# The conditions that go Unknown when the kubelet stops posting (NetworkUnavailable is the
# control plane's).
_HEALTH_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")

LABEL_EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption"
# reconcileNodeLabels: (primary, secondary); the secondary always follows the primary.
_LABELS_TO_RECONCILE = (("kubernetes.io/os", "beta.kubernetes.io/os"),
                        ("kubernetes.io/arch", "beta.kubernetes.io/arch"))

INITIAL, NORMAL = "Initial", "Normal"
FULL_DISRUPTION, PARTIAL_DISRUPTION = "FullDisruption", "PartialDisruption"

EVICTION_RATE_LIMITER_BURST = 1
TAINT_RETRY = 0.05  # doNoExecuteTaintingPass retries a failed taint after 50 ms

MONITOR = "monitor"          # key: the monitor pass (monitorNodeHealth) at a tick
TAINT_PASS = "taint-pass"    # key: the NoExecute tainting pass (doNoExecuteTaintingPass)


# -- pure helpers ----------------------------------------------------------------------------

def condition(obj: dict, type_: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == type_:
            return c
    return None


def zone_key(node: dict) -> str:
    """``nodetopology.GetZoneKey``: ``region:\\x00:zone`` from the (beta or GA) topology
    labels, or "" when the node has neither."""
    labels = node["metadata"].get("labels") or {}
    zone = labels.get("failure-domain.beta.kubernetes.io/zone")
    if zone is None:
        zone = labels.get("topology.kubernetes.io/zone", "")
    region = labels.get("failure-domain.beta.kubernetes.io/region")
    if region is None:
        region = labels.get("topology.kubernetes.io/region", "")
    if not region and not zone:
        return ""
    return f"{region}:\x00:{zone}"


def compute_zone_state(ready_statuses: list[str | None], unhealthy_threshold: float
                       ) -> tuple[int, str]:
    """``ComputeZoneState``: (not-ready count, state) from the Ready statuses of a zone's
    nodes (None for a node without a Ready condition)."""
    ready = sum(1 for s in ready_statuses if s == "True")
    not_ready = len(ready_statuses) - ready
    if ready == 0 and not_ready > 0:
        return not_ready, FULL_DISRUPTION
    if not_ready > 2 and not_ready / (not_ready + ready) >= unhealthy_threshold:
        return not_ready, PARTIAL_DISRUPTION
    return not_ready, NORMAL


def has_taint(node: dict, key: str, effect: str) -> bool:
    return any(t.get("key") == key and t.get("effect") == effect
               for t in (node.get("spec") or {}).get("taints") or ())


def swapped_taints(taints: list[dict], add: list[dict], remove: list[tuple[str, str]]
                   ) -> list[dict] | None:
    """``AddOrUpdateTaintOnNode`` then ``RemoveTaintOffNode`` as one change: a taint to add
    replaces one with its key and effect unless they are equal, else it is appended; taints
    matching a (key, effect) in ``remove`` go. Returns the new list, or None if unchanged."""
    out = list(taints)
    changed = False
    for new in add:
        for i, old in enumerate(out):
            if old.get("key") == new["key"] and old.get("effect") == new["effect"]:
                if old != new:
                    out[i] = new
                    changed = True
                break
        else:
            out.append(new)
            changed = True
    if remove:
        kept = [t for t in out if (t.get("key"), t.get("effect")) not in remove]
        changed = changed or len(kept) != len(out)
        out = kept
    return out if changed else None


# -- the per-zone tainting queue --------------------------------------------------------------

class _ZoneTainter:
    """``RateLimitedTimedQueue`` with a token bucket (``flowcontrol.NewTokenBucketRateLimiter``,
    burst 1, starting full). A node stays in the *set* after it was processed, until it is
    removed, so it is tainted once per episode."""

    __slots__ = ("qps", "tokens", "last", "queue", "members")

    def __init__(self, qps: float, now: float) -> None:
        self.qps = qps
        self.tokens = float(EVICTION_RATE_LIMITER_BURST) if qps > 0 else 0.0
        self.last = now
        self.queue: dict[str, None] = {}   # waiting, first in first out
        self.members: set[str] = set()     # UniqueQueue's set

    def add(self, name: str) -> bool:
        if name in self.members:
            return False
        self.members.add(name)
        self.queue[name] = None
        return True

    def remove(self, name: str) -> bool:
        self.members.discard(name)
        return self.queue.pop(name, 0) is None

    def _refill(self, now: float) -> None:
        if self.qps > 0:
            self.tokens = min(float(EVICTION_RATE_LIMITER_BURST),
                              self.tokens + (now - self.last) * self.qps)
        self.last = now

    def try_accept(self, now: float) -> bool:
        if self.qps <= 0:
            return False
        self._refill(now)
        if self.tokens >= 1.0 - 1e-9:
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False

    def next_token(self) -> float | None:
        """When the next token is there (None: never, the limiter is stopped)."""
        if self.qps <= 0:
            return None
        return self.last + max(0.0, 1.0 - self.tokens) / self.qps

    def swap_limiter(self, qps: float, now: float) -> None:
        """``SwapLimiter``: a fresh bucket at the new rate, drained if the old one was."""
        if qps == self.qps:
            return
        had_token = self.try_accept(now)
        self.qps = qps
        self.last = now
        if qps <= 0:
            self.tokens = 0.0
        else:
            self.tokens = float(EVICTION_RATE_LIMITER_BURST)
            if not had_token:
                self.try_accept(now)


class _Health:
    """``nodeHealthData``: when the node was last heard from, and what was seen then."""

    __slots__ = ("probe", "heartbeat", "has_ready", "renew", "timer")

    def __init__(self, probe: float, ready: dict | None) -> None:
        self.probe = probe
        self.has_ready = ready is not None
        self.heartbeat = ready.get("lastHeartbeatTime") if ready is not None else None
        self.renew: float | None = None    # the Lease's renewTime last seen
        self.timer: Timer | None = None    # the lease-expiry deadline


def _relevant(node: dict) -> tuple:
    """What, when someone else changes it, the next monitor tick must look at: the Ready
    status, the zone, the disruption exclusion and the two NoExecute taints."""
    ready = condition(node, "Ready")
    labels = node["metadata"].get("labels") or {}
    return ((ready or {}).get("status"), zone_key(node), LABEL_EXCLUDE_DISRUPTION in labels,
            has_taint(node, TAINT_NOT_READY, NO_EXECUTE),
            has_taint(node, TAINT_UNREACHABLE, NO_EXECUTE))


# -- the controller ---------------------------------------------------------------------------

class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"

    def setup(self) -> None:
        ctx, cfg = self.ctx, self.config
        self.nodes = ctx.informer("Node")
        self.pods = ctx.informer("Pod")
        self.leases = ctx.informer("Lease")
        self.recorder = ctx.recorder("node-controller")
        self._start = self.clock.now()
        self._period = float(cfg.node_monitor_period)
        self._health: dict[str, _Health] = {}
        self._known: dict[str, str] = {}              # knownNodeSet: name -> uid
        self._zone_states: dict[str, str] = {}
        self._tainters: dict[str, _ZoneTainter] = {}  # zoneNoExecuteTainter
        self._due: dict[str, float] = {}              # node -> the tick that must look at it
        self._ticks: dict[float, Timer] = {}
        self._retry: set[str] = set()                 # nodesToRetry
        self._taint_timer: Timer | None = None
        self._own_status_write: str | None = None
        self._own_taint_write = False
        self.nodes.table.handlers.append(self._on_node)
        self.leases.table.handlers.append(self._on_lease)
        self.pods.table.handlers.append(self._on_pod)

    # -- ticks and deadlines -------------------------------------------------------------

    def _tick_after(self, t: float) -> float:
        """The first monitor tick strictly after ``t``."""
        k = math.floor((t - self._start) / self._period + 1e-9) + 1
        return self._start + max(k, 0) * self._period

    def _look_at(self, name: str, when: float | None = None) -> None:
        """Have the monitor pass at ``when`` (default: the next tick) look at ``name``."""
        now = self.clock.now()
        if when is None:
            when = self._tick_after(now)
        if self._due.get(name, math.inf) <= when:
            return
        self._due[name] = when
        if when <= now:
            self.queue.add(MONITOR)
        elif when not in self._ticks:
            self._ticks[when] = self.clock.call_at(
                when, partial(self._on_tick, when), label=f"{self.name} monitor tick")

    def _on_tick(self, when: float) -> None:
        self._ticks.pop(when, None)
        self.queue.add(MONITOR)

    def _arm_expiry(self, name: str, h: _Health) -> None:
        """(Re-)arm the deadline at the tick where the node's health signal runs out."""
        cfg = self.config
        grace = cfg.node_monitor_grace_period if h.has_ready else cfg.node_startup_grace_period
        when = self._tick_after(h.probe + grace)
        # The simulated kubelet's lease renewal pushes this deadline back while it beats; a
        # kubelet that registers no heartbeat under this label makes it a plain deadline.
        kubelet = self.clock.heartbeat(f"kubelet-lease:{name}")
        old = h.timer
        if old is not None and not old.cancelled:
            if old.when == when and old.renewed_by is kubelet:
                return
            old.cancel()
        h.timer = self.clock.call_at(
            when, partial(self._on_expiry, name), label=f"{self.name} lease expiry {name}",
            renewed_by=kubelet)

    def _on_expiry(self, name: str) -> None:
        h = self._health.get(name)
        if h is not None:
            h.timer = None
        self._look_at(name, self.clock.now())

    # -- event handlers (memory and keys only) -------------------------------------------

    def _on_node(self, ev: WatchEvent) -> None:
        node = ev.obj
        name = node["metadata"]["name"]
        if ev.type == DELETED:
            h = self._health.pop(name, None)
            if h is not None and h.timer is not None:
                h.timer.cancel()
            self._retry.discard(name)
            self._look_at(name)
            return
        now = self.clock.now()
        ready = condition(node, "Ready")
        h = self._health.get(name)
        refreshed = False
        if h is None:
            # First sight: "Missing timestamp for Node. Assuming now as a timestamp", or the
            # creation time for a node that never posted Ready.
            probe = now if ready is not None else parse_rfc3339(
                node["metadata"]["creationTimestamp"])
            h = self._health[name] = _Health(probe, ready)
            lease = self.leases.get(name, NODE_LEASE_NAMESPACE)
            renew = _renew_time(lease)
            if renew is not None:
                h.renew = renew
                h.probe = now
            refreshed = True
        elif self._own_status_write == name:
            # Our own Unknown write keeps the probe timestamp (upstream stores the status it
            # wrote without touching probeTimestamp).
            h.has_ready = ready is not None
            h.heartbeat = ready.get("lastHeartbeatTime") if ready is not None else None
        else:
            heartbeat = ready.get("lastHeartbeatTime") if ready is not None else None
            if (ready is not None) != h.has_ready or heartbeat != h.heartbeat:
                h.probe = now
                refreshed = True
            h.has_ready = ready is not None
            h.heartbeat = heartbeat
        if refreshed:
            self._arm_expiry(name, h)
        if ev.type == ADDED:
            # Registered at once (upstream: at the next tick), so that a cluster whose nodes
            # were just created is at a fixed point.
            self._look_at(name, now)
        elif not self._own_taint_write and _relevant(node) != _relevant(ev.old):
            # (Our own taint writes change nothing the next tick would act on.)
            self._look_at(name)
        self.queue.add(("noschedule", name))

    def _on_lease(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            return
        m = ev.obj["metadata"]
        if m.get("namespace") != NODE_LEASE_NAMESPACE:
            return
        h = self._health.get(m["name"])
        renew = _renew_time(ev.obj)
        if h is None or renew is None:
            return
        if h.renew is None or renew > h.renew:
            h.renew = renew
            h.probe = self.clock.now()
            self._arm_expiry(m["name"], h)

    def _on_pod(self, ev: WatchEvent) -> None:
        """``podUpdated``: a pod newly bound to a node."""
        if ev.type == DELETED:
            return
        node_name = (ev.obj.get("spec") or {}).get("nodeName")
        if node_name and (ev.old is None or (ev.old.get("spec") or {}).get(
                "nodeName") != node_name):
            m = ev.obj["metadata"]
            self.queue.add(("pod", m["namespace"], m["name"]))

    # -- reconcile -----------------------------------------------------------------------

    def reconcile(self, key: Any) -> Result | None:
        if key == MONITOR:
            self._monitor()
        elif key == TAINT_PASS:
            self._taint_pass()
        elif key[0] == "noschedule":
            self._no_schedule_pass(key[1])
            self._reconcile_labels(key[1])
        elif key[0] == "pod":
            self._process_pod(key[1], key[2])
        return None

    def _monitor(self) -> None:
        """``monitorNodeHealth`` for the nodes due at this tick, then ``handleDisruption``
        over all nodes and a tainting pass."""
        now = self.clock.now()
        due = sorted(n for n, t in self._due.items() if t <= now + 1e-9)
        for n in due:
            del self._due[n]
        nodes = sorted(self.nodes, key=lambda n: n["metadata"]["name"])
        names = {n["metadata"]["name"] for n in nodes}
        # classifyNodes
        for node in nodes:
            name = node["metadata"]["name"]
            if name not in self._known:
                self._record_node_event(node, "RegisteredNode",
                                        f"Registered Node {name} in Controller")
                self._known[name] = node["metadata"].get("uid", "")
                self._add_zone(zone_key(node))
                self._try_mark_reachable(node)
            elif zone_key(node) not in self._zone_states:
                self._add_zone(zone_key(node))
        for name in sorted(self._known.keys() - names):
            uid = self._known.pop(name)
            self._record_node_event({"kind": "Node", "apiVersion": "v1",
                                     "metadata": {"name": name, "uid": uid}}, "RemovingNode",
                                    f"Removing Node {name} from Controller")
        for name in due:
            node = self.nodes.get(name)
            if node is not None and name in self._health:
                self._update_node_health(node)
        zone_conditions: dict[str, list[str | None]] = {}
        current = [self.nodes.get(n["metadata"]["name"]) or n for n in nodes]
        for node in current:
            if LABEL_EXCLUDE_DISRUPTION in (node["metadata"].get("labels") or {}):
                continue
            ready = condition(node, "Ready")
            zone_conditions.setdefault(zone_key(node), []).append(
                ready.get("status") if ready is not None else None)
        self._handle_disruption(zone_conditions, current)
        self._taint_pass()

    def _update_node_health(self, node: dict) -> None:
        """``tryUpdateNodeHealth`` and what ``monitorNodeHealth`` does with its result."""
        name = node["metadata"]["name"]
        h = self._health[name]
        cfg = self.config
        now = self.clock.now()
        ready = condition(node, "Ready")
        if ready is None:
            created = node["metadata"]["creationTimestamp"]
            observed = {"type": "Ready", "status": "Unknown", "lastHeartbeatTime": created,
                        "lastTransitionTime": created}
            grace = cfg.node_startup_grace_period
        else:
            observed = ready
            grace = cfg.node_monitor_grace_period
        current = ready
        if now > h.probe + grace + 1e-9:
            new = deep_copy(node)  # never change the informer's object
            status = new.setdefault("status", {})
            conditions = status.setdefault("conditions", [])
            stamp = rfc3339(now)
            for type_ in _HEALTH_CONDITIONS:
                c = next((c for c in conditions if c.get("type") == type_), None)
                if c is None:
                    conditions.append({"type": type_, "status": "Unknown",
                                       "lastHeartbeatTime": node["metadata"]["creationTimestamp"],
                                       "lastTransitionTime": stamp,
                                       "reason": "NodeStatusNeverUpdated",
                                       "message": "Kubelet never posted node status."})
                elif c.get("status") != "Unknown":
                    c.update(status="Unknown", reason="NodeStatusUnknown",
                             message="Kubelet stopped posting node status.",
                             lastTransitionTime=stamp)
            current = next(c for c in conditions if c.get("type") == "Ready")
            if current != observed:
                self._own_status_write = name
                try:
                    node = self.client.update_status(new)
                except ApiError:
                    # "Update health of Node from Controller error, Skipping": next tick.
                    self._look_at(name)
                    return
                finally:
                    self._own_status_write = None
        if current is None:
            return
        node = self.nodes.get(name) or node
        observed_status = observed.get("status")
        try:
            self._process_taint_based_eviction(node, observed_status)
        except ApiError:
            self._look_at(name)  # "Will try again in the next cycle"
        transition = current.get("status") != "True" and observed_status == "True"
        if transition:
            self.recorder.event(node, "Normal", "NodeNotReady",
                                f"Node {name} status is now: NodeNotReady")
        if transition or (name in self._retry and observed_status != "True"):
            if self._mark_pods_not_ready(self.pods.by_field("spec.nodeName", name),
                                         name) is not None:
                self._retry.add(name)
                self._look_at(name)
                return
        self._retry.discard(name)

    # -- taints --------------------------------------------------------------------------

    def _swap_taints(self, node: dict, add: list[str], effect: str,
                     remove: list[tuple[str, str]]) -> None:
        """``SwapNodeControllerTaint``: add (with ``timeAdded`` now) and remove, in one
        write. Raises ApiError if the write fails (a node that is gone is no error)."""
        stamp = self.api.now()
        taints = (node.get("spec") or {}).get("taints") or []
        new_taints = swapped_taints(
            taints, [{"key": k, "effect": effect, "timeAdded": stamp} for k in add], remove)
        if new_taints is None:
            return
        new = deep_copy(node)  # never change the informer's object
        if new_taints:
            new.setdefault("spec", {})["taints"] = new_taints
        else:
            new.get("spec", {}).pop("taints", None)
        self._own_taint_write = True
        try:
            self.client.update(new)
        except NotFound:
            pass
        finally:
            self._own_taint_write = False

    def _no_schedule_pass(self, name: str) -> None:
        """``doNoScheduleTaintingPass``."""
        node = self.nodes.get(name)
        if node is None:
            return
        wanted: list[str] = []
        for c in (node.get("status") or {}).get("conditions") or ():
            key = CONDITION_TAINTS.get(c.get("type"), {}).get(c.get("status"))
            if key is not None:
                wanted.append(key)
        if (node.get("spec") or {}).get("unschedulable"):
            wanted.append(TAINT_UNSCHEDULABLE)
        have = {t.get("key") for t in (node.get("spec") or {}).get("taints") or ()
                if t.get("effect") == NO_SCHEDULE and t.get("key") in _OWNED_NO_SCHEDULE}
        to_add = [k for k in dict.fromkeys(wanted) if k not in have]
        to_remove = [(k, NO_SCHEDULE) for k in sorted(have) if k not in wanted]
        if to_add or to_remove:
            self._swap_taints(node, to_add, NO_SCHEDULE, to_remove)  # ApiError: retried

    def _reconcile_labels(self, name: str) -> None:
        """``reconcileNodeLabels``: the beta OS/arch labels follow the GA ones."""
        node = self.nodes.get(name)
        if node is None:
            return
        labels = node["metadata"].get("labels") or {}
        updates = {secondary: labels[primary] for primary, secondary in _LABELS_TO_RECONCILE
                   if primary in labels and labels.get(secondary) != labels[primary]}
        if updates:
            new = deep_copy(node)
            new["metadata"].setdefault("labels", {}).update(updates)
            try:
                self.client.update(new)
            except NotFound:
                pass

    def _process_taint_based_eviction(self, node: dict, observed: str | None) -> None:
        """``processTaintBaseEviction``."""
        if observed == "False":
            if has_taint(node, TAINT_UNREACHABLE, NO_EXECUTE):
                self._swap_taints(node, [TAINT_NOT_READY], NO_EXECUTE,
                                  [(TAINT_UNREACHABLE, NO_EXECUTE)])
            else:
                self._mark_for_tainting(node, TAINT_NOT_READY)
        elif observed == "Unknown":
            if has_taint(node, TAINT_NOT_READY, NO_EXECUTE):
                self._swap_taints(node, [TAINT_UNREACHABLE], NO_EXECUTE,
                                  [(TAINT_NOT_READY, NO_EXECUTE)])
            else:
                self._mark_for_tainting(node, TAINT_UNREACHABLE)
        elif observed == "True":
            self._mark_reachable(node)

    def _mark_for_tainting(self, node: dict, taint_key: str) -> bool:
        tainter = self._add_zone(zone_key(node), state=False)
        name = node["metadata"]["name"]
        if not has_taint(node, taint_key, NO_EXECUTE):
            tainter.remove(name)
        return tainter.add(name)

    def _mark_reachable(self, node: dict) -> bool:
        """``markNodeAsReachable``: both NoExecute taints off, out of the tainting queue.
        Raises ApiError if the write fails."""
        self._swap_taints(node, [], NO_EXECUTE, [(TAINT_UNREACHABLE, NO_EXECUTE),
                                                 (TAINT_NOT_READY, NO_EXECUTE)])
        tainter = self._tainters.get(zone_key(node))
        return tainter.remove(node["metadata"]["name"]) if tainter is not None else False

    def _try_mark_reachable(self, node: dict) -> None:
        try:
            self._mark_reachable(node)
        except ApiError:
            self._look_at(node["metadata"]["name"])  # "Failed to remove taints from node"

    def _add_zone(self, zone: str, state: bool = True) -> _ZoneTainter:
        """``addPodEvictorForNewZone`` (with ``state``); always returns the zone's queue."""
        if state and zone not in self._zone_states:
            self._zone_states[zone] = INITIAL
            self._tainters[zone] = _ZoneTainter(self.config.node_eviction_rate,
                                                self.clock.now())
        tainter = self._tainters.get(zone)
        if tainter is None:
            tainter = self._tainters[zone] = _ZoneTainter(self.config.node_eviction_rate,
                                                          self.clock.now())
        return tainter

    def _taint_pass(self) -> None:
        """``doNoExecuteTaintingPass``: each zone's queue, as far as its limiter allows."""
        now = self.clock.now()
        retry_at: float | None = None
        for tainter in list(self._tainters.values()):
            while tainter.queue:
                if not tainter.try_accept(now):
                    break
                name = next(iter(tainter.queue))
                if self._taint(name):
                    del tainter.queue[name]  # RemoveFromQueue: it stays in the set
                else:
                    retry_at = now + TAINT_RETRY
                    break
        for tainter in self._tainters.values():
            if tainter.queue:
                t = tainter.next_token()
                if t is not None and (retry_at is None or t < retry_at):
                    retry_at = max(t, now)
        old = self._taint_timer
        if old is not None and not old.cancelled:
            if retry_at is not None and old.when == retry_at:
                return
            old.cancel()
        self._taint_timer = None
        if retry_at is not None:
            self._taint_timer = self.clock.call_at(
                retry_at, partial(self.queue.add, TAINT_PASS),
                label=f"{self.name} NoExecute tainting")

    def _taint(self, name: str) -> bool:
        """Taint one node of a zone's queue; False if the write failed."""
        node = self.nodes.get(name)
        if node is None:
            return True
        ready = condition(node, "Ready")
        status = ready.get("status") if ready is not None else None
        if status == "False":
            add, opposite = TAINT_NOT_READY, TAINT_UNREACHABLE
        elif status == "Unknown":
            add, opposite = TAINT_UNREACHABLE, TAINT_NOT_READY
        else:
            # Ready again (upstream also waits for a node without a Ready condition; one
            # can only be queued with one, so it is dropped here).
            return True
        try:
            self._swap_taints(node, [add], NO_EXECUTE, [(opposite, NO_EXECUTE)])
        except ApiError:
            return False
        return True

    # -- zones ---------------------------------------------------------------------------

    def _handle_disruption(self, zone_conditions: dict[str, list[str | None]],
                           nodes: list[dict]) -> None:
        """``handleDisruption``: zone states and their tainting rates; master disruption
        mode when every zone is fully disrupted."""
        cfg = self.config
        new_states: dict[str, str] = {}
        all_are_full = True
        for zone, statuses in zone_conditions.items():
            _, state = compute_zone_state(statuses, cfg.unhealthy_zone_threshold)
            if state != FULL_DISRUPTION:
                all_are_full = False
            new_states[zone] = state
            if zone not in self._zone_states:
                self._zone_states[zone] = INITIAL
                self._add_zone(zone, state=False)
        for zone in [z for z in self._zone_states if z not in zone_conditions]:
            del self._zone_states[zone]
        all_were_full = all(s == FULL_DISRUPTION for s in self._zone_states.values())
        if all_are_full and all_were_full:
            return
        now = self.clock.now()
        if all_are_full:
            # "Controller detected that all Nodes are not-Ready. Entering master disruption
            # mode": no NoExecute taints, no tainting.
            for node in nodes:
                self._try_mark_reachable(self.nodes.get(node["metadata"]["name"]) or node)
            for zone in self._zone_states:
                self._tainters[zone].swap_limiter(0, now)
                self._zone_states[zone] = FULL_DISRUPTION
            return
        if all_were_full:
            # "Exiting master disruption mode": every node gets a fresh probe timestamp.
            for node in nodes:
                name = node["metadata"]["name"]
                h = self._health.get(name)
                if h is not None:
                    h.probe = now
                    self._arm_expiry(name, h)
                self._look_at(name)
            for zone in self._zone_states:
                self._set_limiter(zone, len(zone_conditions[zone]), new_states[zone])
                self._zone_states[zone] = new_states[zone]
            return
        for zone, state in list(self._zone_states.items()):
            if state != new_states[zone]:
                self._set_limiter(zone, len(zone_conditions[zone]), new_states[zone])
                self._zone_states[zone] = new_states[zone]

    def _set_limiter(self, zone: str, size: int, state: str) -> None:
        cfg = self.config
        if state == PARTIAL_DISRUPTION:
            # ReducedQPSFunc: slower in large clusters, stopped in small ones.
            qps = cfg.secondary_node_eviction_rate if size > cfg.large_cluster_size_threshold \
                else 0.0
        elif state in (NORMAL, FULL_DISRUPTION):
            qps = cfg.node_eviction_rate
        else:
            return
        self._add_zone(zone, state=False).swap_limiter(qps, self.clock.now())

    # -- pods ----------------------------------------------------------------------------

    def _mark_pods_not_ready(self, pods: list[dict], node_name: str) -> ApiError | None:
        """``MarkPodsNotReady``: Ready=False on each pod (a ``NodeNotReady`` pod event after
        each write). Returns the last error of a write that failed (NotFound aside)."""
        failed: ApiError | None = None
        stamp = self.api.now()
        for pod in pods:
            if (pod.get("spec") or {}).get("nodeName") != node_name:
                continue
            ready = condition(pod, "Ready")
            if ready is None or ready.get("status") == "False":
                continue
            new = deep_copy(pod)  # never change the informer's object
            for c in new["status"]["conditions"]:
                if c.get("type") == "Ready":
                    c["status"] = "False"
                    c["lastTransitionTime"] = stamp
            try:
                self.client.update_status(new)
            except NotFound:
                continue
            except ApiError as exc:
                failed = exc
            self.recorder.event(pod, "Warning", "NodeNotReady", "Node is not ready")
        return failed

    def _process_pod(self, namespace: str, name: str) -> None:
        """``processPod``: a pod bound to a node that is not Ready is marked not ready."""
        pod = self.pods.get(name, namespace)
        if pod is None:
            return
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name not in self._health:
            return
        node = self.nodes.get(node_name)
        if node is None:
            return
        ready = condition(node, "Ready")
        if ready is None:
            return
        if ready.get("status") != "True":
            failed = self._mark_pods_not_ready([pod], node_name)
            if failed is not None:
                raise failed  # retried with backoff (AddRateLimited)

    def _record_node_event(self, node: dict, reason: str, message: str) -> None:
        """``RecordNodeEvent``."""
        name = node["metadata"]["name"]
        self.recorder.event(node, "Normal", reason, f"Node {name} event: {message}")


def _renew_time(lease: dict | None) -> float | None:
    """The Lease's ``spec.renewTime`` in seconds (it is parsed on every renewal: the fast
    ISO parser, not strptime)."""
    if lease is None:
        return None
    renew = (lease.get("spec") or {}).get("renewTime")
    if not renew:
        return None
    try:
        return datetime.fromisoformat(renew).timestamp()
    except ValueError:
        return parse_rfc3339(renew)
