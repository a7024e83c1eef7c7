"""Timelines: a cluster's history as a Chrome trace or as a self-contained HTML page.

``cluster.trace()`` delegates here. :func:`build` reads what the cluster keeps -- each
resource's event history in the store (``store.tables[...].history``), the core/v1 Events, the
objects still stored -- and turns it into a :class:`Timeline`: per node its lives and failure
periods (the Ready condition False or Unknown), the pod incarnations that ran there (one per
pod UID: Unscheduled -> Pending -> Running -> Ready -> Terminating -> gone), the volume
attachments (VolumeAttachment objects: attaching -> attached -> detaching -> gone), the Events
and the API writes. Two renderings:

- :func:`to_chrome`: the Chrome trace-event format (JSON object form), which Perfetto
  (ui.perfetto.dev) and ``chrome://tracing`` open. One process per node; its first thread is
  the node itself (its lives as slices, failure periods nested in them, taint and cordon
  changes as instants), then lanes of pod incarnations (a slice per incarnation with its
  states nested inside) and lanes of volume attachments. Process 0, "cluster", holds the
  Events about other objects and one thread of instant events per resource for the API
  writes (named by verb: ADDED, MODIFIED, DELETED). Timestamps are virtual time in
  microseconds since the cluster started (2025-01-01T00:00:00Z).
- :func:`to_html`: one HTML file, no external assets: a row per node, pod incarnations as
  bars coloured by state and labelled with pod name and IP, failure periods shaded, a time
  axis in virtual seconds, hover titles with the details, then the Events and the write
  counts per resource.

When was each write? WatchEvents carry no time, and object timestamps have second precision.
:class:`WriteTimes`, installed on the store when the cluster is built, records the virtual
time at which each resourceVersion was written (one breakpoint per instant at which writes
happened, so it costs a comparison per write). Writes it did not see are placed by the
timestamps their objects carry (creation, deletion, conditions, managedFields, lease renewals,
event times), kept in resourceVersion order.

Limits, stated in the output when they apply: the store keeps ``event_history`` events per
resource (older ones are compacted away), so a long run's timeline starts where the retained
history starts; the trace carries at most ``max_writes`` API-write instants (the latest ones).

The state names follow ``kubectl get pods`` and the pod conditions of upstream
(kubernetes/kubernetes:pkg/kubelet/status/generate.go, pkg/api/v1/pod/util.go IsPodReady);
the node conditions and taints those of pkg/controller/nodelifecycle/node_lifecycle_controller.go;
the attachment states those of staging/src/k8s.io/api/storage/v1/types.go
(VolumeAttachmentStatus.attached). The trace-event format is Chrome's "Trace Event Format"
document (phases X, i, M; the JSON object form with ``traceEvents`` and ``otherData``).
"""

from __future__ import annotations

import bisect
import heapq
import html
import json
import os
from typing import TYPE_CHECKING, Any, Iterator

import attrs

from .api.objects import parse_rfc3339
from .clock import EPOCH

if TYPE_CHECKING:
    from .api.store import Store, Table, WatchEvent
    from .clock import VirtualClock
    from .cluster import Cluster

__all__ = ["WriteTimes", "Timeline", "build", "export", "record", "to_chrome", "to_html",
           "POD_STATES", "MAX_WRITES"]

#: The states of a pod incarnation, in their usual order, with their colours.
POD_STATES = {
    "Unscheduled": "#bdbdbd",
    "Pending": "#f2c94c",
    "Running": "#7fb3e6",       # running, not Ready
    "Ready": "#43a047",
    "Terminating": "#f2994a",
    "Succeeded": "#8d8d8d",
    "Failed": "#d9534f",
}
ATTACH_STATES = {"attaching": "#c5b3e6", "attached": "#7e57c2", "detaching": "#e0d4f5"}
#: How many API-write instants a trace carries at most (the latest ones) by default.
MAX_WRITES = 20_000

_PODS, _NODES, _LEASES = "pods", "nodes", "leases.coordination.k8s.io"
_EVENTS, _ATTACHMENTS, _PVS = "events", "volumeattachments.storage.k8s.io", "persistentvolumes"
_NODE_LEASE_NS = "kube-node-lease"


# -- when was each write --------------------------------------------------------------------

class WriteTimes:
    """The virtual time of each write, by resourceVersion.

    Installed as the first handler of every table (:meth:`install`); it appends a breakpoint
    ``(rv, now)`` when a write happens at a new virtual instant, so its size is the number of
    distinct instants with writes, and it drops breakpoints older than every table's retained
    history when it grows. :meth:`time_of` is a binary search: O(log n).

    >>> from fakekube.api.store import Store, WatchEvent
    >>> from fakekube.clock import VirtualClock, EPOCH
    >>> store, clock = Store(), VirtualClock()
    >>> times = WriteTimes.install(store, clock, store.table("pods"))
    >>> times.on_write(WatchEvent("ADDED", {}, None, 1)); clock.advance(5)
    >>> times.on_write(WatchEvent("MODIFIED", {}, None, 2))
    >>> times.time_of(1) - EPOCH, times.time_of(2) - EPOCH, times.time_of(0)
    (0.0, 5.0, None)
    """

    __slots__ = ("rvs", "times", "_clock", "_store", "_last", "_limit")

    def __init__(self, clock: "VirtualClock", store: "Store | None" = None) -> None:
        self.rvs: list[int] = []
        self.times: list[float] = []
        self._clock = clock
        self._store = store
        self._last: float | None = None
        self._limit = 4096

    @classmethod
    def install(cls, store: "Store", clock: "VirtualClock", *tables: "Table") -> "WriteTimes":
        """Record the write times of ``tables`` (default: every table the store has now)."""
        self = cls(clock, store)
        for table in tables or tuple(store.tables.values()):
            self.watch(table)
        return self

    def watch(self, table: "Table") -> None:
        """Also record the writes of ``table`` (one created after :meth:`install`)."""
        if self.on_write not in table.handlers:
            table.handlers.insert(0, self.on_write)

    def on_write(self, ev: "WatchEvent") -> None:
        now = self._clock._now
        if now != self._last:
            self._last = now
            self.rvs.append(ev.rv)
            self.times.append(now)
            if len(self.rvs) > self._limit:
                self._prune()

    def _prune(self) -> None:
        store = self._store
        if store is not None:
            floor = min((t.history[0].rv for t in store.tables.values() if t.history),
                        default=0)
            cut = bisect.bisect_right(self.rvs, floor) - 1  # keep the breakpoint covering floor
            if cut > 0:
                del self.rvs[:cut]
                del self.times[:cut]
        self._limit = max(4096, 2 * len(self.rvs))

    def time_of(self, rv: int) -> float | None:
        """The virtual time resourceVersion ``rv`` was written at, or None if unknown."""
        i = bisect.bisect_right(self.rvs, rv) - 1
        return self.times[i] if i >= 0 else None


def record(cluster: "Cluster") -> WriteTimes:
    """The cluster's :class:`WriteTimes` (``cluster.write_times``), installed now if the
    cluster was built without one: writes before this call then get estimated times."""
    times = getattr(cluster, "write_times", None)
    if times is None:
        times = WriteTimes.install(cluster.store, cluster.clock)
        cluster.write_times = times
    return times


_PARSED: dict[str, float] = {}


def _parse(text: Any) -> float | None:
    if not isinstance(text, str) or len(text) < 19:
        return None
    got = _PARSED.get(text)
    if got is None:
        try:
            got = parse_rfc3339(text)
        except ValueError:
            return None
        if len(_PARSED) > 50_000:
            _PARSED.clear()
        _PARSED[text] = got
    return got


def _estimate(ev: "WatchEvent") -> float | None:
    """A lower bound of a write's time from the timestamps its object carries."""
    obj = ev.obj
    m = obj.get("metadata") or {}
    best: float | None = None

    def see(value: Any) -> None:
        nonlocal best
        t = _parse(value)
        if t is not None and (best is None or t > best):
            best = t

    if ev.type == "ADDED":
        see(m.get("creationTimestamp"))
    if m.get("deletionTimestamp") and not (ev.old and ev.old["metadata"].get(
            "deletionTimestamp")):
        t = _parse(m["deletionTimestamp"])
        if t is not None:
            t -= m.get("deletionGracePeriodSeconds") or 0
            best = t if best is None else max(best, t)
    for entry in m.get("managedFields") or ():
        see(entry.get("time"))
    status = obj.get("status")
    if isinstance(status, dict):
        for c in status.get("conditions") or ():
            if isinstance(c, dict):
                for k in ("lastTransitionTime", "lastHeartbeatTime", "lastProbeTime",
                          "lastUpdateTime"):
                    see(c.get(k))
    spec = obj.get("spec")
    if isinstance(spec, dict) and obj.get("kind") == "Lease":
        see(spec.get("renewTime"))
        see(spec.get("acquireTime"))
    if obj.get("kind") == "Event":
        see(obj.get("lastTimestamp"))
        see(obj.get("eventTime"))
    return best


# -- the model ------------------------------------------------------------------------------

@attrs.define(slots=True, eq=False)
class Incarnation:
    """One pod UID's life. ``states`` are (state, since) in time order; ``end`` is when the
    pod was gone, or None while it exists."""

    uid: str
    namespace: str
    name: str
    node: str
    start: float
    states: list[tuple[str, float]]
    end: float | None = None
    ip: str = ""
    truncated: bool = False
    events: list["EventMark"] = attrs.Factory(list)
    lane: int = 0

    @property
    def label(self) -> str:
        return self.name if self.namespace == "default" else f"{self.namespace}/{self.name}"


@attrs.define(slots=True, eq=False)
class Attachment:
    """One VolumeAttachment's life on a node."""

    name: str
    pv: str
    claim: str
    node: str
    start: float
    states: list[tuple[str, float]]
    end: float | None = None
    truncated: bool = False
    lane: int = 0


@attrs.define(slots=True, eq=False)
class NodeLife:
    """A Node object from creation to deletion; ``failures`` are (status, start, end or
    None, details) periods of a Ready condition that is not True."""

    uid: str
    start: float
    end: float | None = None
    failures: list[list[Any]] = attrs.Factory(list)
    truncated: bool = False


@attrs.define(slots=True, eq=False)
class EventMark:
    time: float
    type: str
    reason: str
    message: str
    kind: str
    namespace: str
    name: str
    uid: str
    count: int


@attrs.define(slots=True, eq=False)
class NodeRow:
    name: str
    order: int = 0           # rows are shown in the order their nodes first appeared
    zone: str = ""
    lives: list[NodeLife] = attrs.Factory(list)
    marks: list[tuple[float, str, dict]] = attrs.Factory(list)   # taints, cordon, ...
    events: list[EventMark] = attrs.Factory(list)
    pods: list[Incarnation] = attrs.Factory(list)
    attachments: list[Attachment] = attrs.Factory(list)
    pod_lanes: int = 0
    attachment_lanes: int = 0


@attrs.define(slots=True, eq=False)
class Timeline:
    """What :func:`build` finds; times are virtual seconds since the Unix epoch."""

    seed: int
    now: float
    rows: list[NodeRow]
    events: list[EventMark]
    writes: list[tuple[float, str, str, str, int]]   # (time, verb, resource, key, rv)
    write_counts: dict[str, dict[str, int]]
    writes_omitted: int
    notes: list[str]
    history_start: float | None          # time of the oldest retained write, if compacted

    @property
    def incarnations(self) -> Iterator[Incarnation]:
        for row in self.rows:
            yield from row.pods


def _rel(t: float) -> str:
    """Virtual time as the story tells it: ``+350s``."""
    return f"+{round(t - EPOCH, 3):g}s"


def _pod_state(obj: dict) -> str:
    m = obj["metadata"]
    if m.get("deletionTimestamp"):
        return "Terminating"
    status = obj.get("status") or {}
    phase = status.get("phase") or "Pending"
    if phase in ("Succeeded", "Failed"):
        return phase
    if phase == "Running":
        for c in status.get("conditions") or ():
            if c.get("type") == "Ready":
                return "Ready" if c.get("status") == "True" else "Running"
        return "Running"
    return "Pending" if (obj.get("spec") or {}).get("nodeName") else "Unscheduled"


def _ready(obj: dict) -> tuple[str | None, dict | None]:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status"), c
    return None, None


def _attach_state(obj: dict) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "detaching"
    return "attached" if (obj.get("status") or {}).get("attached") else "attaching"


def _taints(obj: dict) -> set[str]:
    out = set()
    for t in (obj.get("spec") or {}).get("taints") or ():
        value = f"={t['value']}" if t.get("value") else ""
        out.add(f"{t.get('key')}{value}:{t.get('effect')}")
    return out


def _timed_history(store: "Store", times: WriteTimes | None
                   ) -> Iterator[tuple[float, str, "WatchEvent"]]:
    """Every retained event of every table in resourceVersion order, with its time."""
    def stream(resource: str, history: list) -> Iterator[tuple[int, str, "WatchEvent"]]:
        for ev in history:
            yield ev.rv, resource, ev

    streams = [stream(name, table.history) for name, table in store.tables.items()
               if table.history]
    last = EPOCH
    for rv, resource, ev in heapq.merge(*streams, key=lambda x: x[0]):
        t = times.time_of(rv) if times is not None else None
        if t is None:
            t = _estimate(ev)
        if t is None or t < last:
            t = last
        last = t
        yield t, resource, ev


def build(cluster: "Cluster", max_writes: int = MAX_WRITES) -> Timeline:
    """Read the cluster's retained history into a :class:`Timeline`.

    Runtime: O(h log h) for h retained events (all resources), plus O(n) for n stored objects.
    """
    with cluster.store.lock:
        return _build(cluster, max_writes)


def _build(cluster: "Cluster", max_writes: int) -> Timeline:
    store = cluster.store
    now = cluster.now
    times: WriteTimes | None = getattr(cluster, "write_times", None)
    rows: dict[str, NodeRow] = {}
    node_lives: dict[str, NodeLife] = {}
    pods: dict[str, Incarnation] = {}
    attachments: dict[str, Attachment] = {}
    lease_renewals: dict[str, list[float]] = {}
    pv_claims: dict[str, str] = {}
    events: list[EventMark] = []
    writes: list[tuple[float, str, str, str, int]] = []
    counts: dict[str, dict[str, int]] = {}
    notes: list[str] = []

    def row(name: str) -> NodeRow:
        r = rows.get(name)
        if r is None:
            r = rows[name] = NodeRow(name, len(rows))
        return r

    def see_node(t: float, ev: "WatchEvent") -> None:
        obj, m = ev.obj, ev.obj["metadata"]
        r = row(m["name"])
        r.zone = (m.get("labels") or {}).get("topology.kubernetes.io/zone", r.zone)
        life = node_lives.get(m["uid"])
        if life is None:
            truncated = ev.type != "ADDED"
            start = t if not truncated else min(t, _parse(m.get("creationTimestamp")) or t)
            life = node_lives[m["uid"]] = NodeLife(m["uid"], start, truncated=truncated)
            r.lives.append(life)
            if ev.old is not None:
                _node_change(r, life, ev.old, None, start)
        _node_change(r, life, obj, ev.old, t)
        if ev.type == "DELETED":
            life.end = t
            if life.failures and life.failures[-1][2] is None:
                life.failures[-1][2] = t

    def see_pod(t: float, ev: "WatchEvent") -> None:
        obj, m = ev.obj, ev.obj["metadata"]
        inc = pods.get(m["uid"])
        state = _pod_state(obj)
        if inc is None:
            truncated = ev.type != "ADDED"
            start = t
            states: list[tuple[str, float]] = []
            if truncated:
                start = min(t, _parse(m.get("creationTimestamp")) or t)
                if ev.old is not None:
                    states.append((_pod_state(ev.old), start))
            inc = pods[m["uid"]] = Incarnation(m["uid"], m.get("namespace", ""), m["name"],
                                               "", start, states, truncated=truncated)
        inc.node = (obj.get("spec") or {}).get("nodeName") or inc.node
        if not inc.ip:
            inc.ip = (obj.get("status") or {}).get("podIP") or ""
        if not inc.states or inc.states[-1][0] != state:
            inc.states.append((state, t))
        if ev.type == "DELETED":
            inc.end = t

    def see_attachment(t: float, ev: "WatchEvent") -> None:
        obj, m = ev.obj, ev.obj["metadata"]
        att = attachments.get(m["uid"])
        state = _attach_state(obj)
        if att is None:
            truncated = ev.type != "ADDED"
            start = t if not truncated else min(t, _parse(m.get("creationTimestamp")) or t)
            spec = obj.get("spec") or {}
            att = attachments[m["uid"]] = Attachment(
                m["name"], (spec.get("source") or {}).get("persistentVolumeName") or "", "",
                spec.get("nodeName") or "", start, [], truncated=truncated)
        if not att.states or att.states[-1][0] != state:
            att.states.append((state, t))
        if ev.type == "DELETED":
            att.end = t

    def see_event(t: float, ev: "WatchEvent") -> None:
        obj = ev.obj
        count = obj.get("count") or 1
        if ev.type == "DELETED" or (ev.old is not None and (ev.old.get("count") or 1) >= count):
            return
        ref = obj.get("involvedObject") or {}
        events.append(EventMark(t, obj.get("type") or "", obj.get("reason") or "",
                                obj.get("message") or "", ref.get("kind") or "",
                                ref.get("namespace") or "", ref.get("name") or "",
                                ref.get("uid") or "", count))

    for t, resource, ev in _timed_history(store, times):
        m = ev.obj["metadata"]
        key = f"{m['namespace']}/{m['name']}" if m.get("namespace") else m["name"]
        writes.append((t, ev.type, resource, key, ev.rv))
        per = counts.get(resource)
        if per is None:
            per = counts[resource] = {"ADDED": 0, "MODIFIED": 0, "DELETED": 0}
        per[ev.type] += 1
        if resource == _PODS:
            see_pod(t, ev)
        elif resource == _NODES:
            see_node(t, ev)
        elif resource == _ATTACHMENTS:
            see_attachment(t, ev)
        elif resource == _EVENTS:
            see_event(t, ev)
        elif resource == _LEASES and m.get("namespace") == _NODE_LEASE_NS:
            lease_renewals.setdefault(m["name"], []).append(t)
        elif resource == _PVS:
            ref = (ev.obj.get("spec") or {}).get("claimRef") or {}
            if ref.get("name"):
                pv_claims[m["name"]] = ref["name"] if ref.get("namespace") in (
                    None, "", "default") else f"{ref['namespace']}/{ref['name']}"

    # Objects whose whole history was compacted away are still in the store.
    _add_survivors(store, rows, row, node_lives, pods, attachments, pv_claims)

    # History bounds.
    history_start = None
    for resource, table in sorted(store.tables.items()):
        if table.compacted_through and table.history:
            first = table.history[0]
            t = (times.time_of(first.rv) if times is not None else None) or _estimate(first)
            if t is not None and (history_start is None or t < history_start):
                history_start = t
            notes.append(
                f"{resource}: history compacted (the store keeps {table.history_limit} events "
                f"per resource; resourceVersions up to {table.compacted_through} are gone"
                + (f", so this resource's timeline is incomplete before {_rel(t)}" if t
                   is not None else "") + ")")
    if times is None:
        notes.append("write times are estimated from object timestamps (second precision): "
                     "this cluster records no WriteTimes")
    omitted = max(0, len(writes) - max_writes)
    if omitted:
        writes = writes[omitted:]
        notes.append(f"API writes: only the latest {max_writes} of {max_writes + omitted} are "
                     f"shown as instants ({omitted} earlier ones omitted; counts are complete "
                     "for the retained history)")

    # Attach each pod incarnation to its node, and the Events to what they are about.
    by_uid: dict[str, Incarnation] = {}
    by_name: dict[tuple[str, str], list[Incarnation]] = {}
    for inc in pods.values():
        row(inc.node).pods.append(inc)
        by_uid[inc.uid] = inc
        by_name.setdefault((inc.namespace, inc.name), []).append(inc)
    for att in attachments.values():
        att.claim = pv_claims.get(att.pv, "")
        row(att.node).attachments.append(att)
    node_uids = {life.uid: name for name, r in rows.items() for life in r.lives}
    for e in events:
        inc = by_uid.get(e.uid) if e.uid else None
        if inc is None and e.kind == "Pod":
            # Some components refer to a pod by name only (the taint eviction controller's
            # TaintManagerEviction): the incarnation of that name alive at the time.
            alive = [i for i in by_name.get((e.namespace, e.name), ())
                     if i.start <= e.time and (i.end is None or e.time <= i.end)]
            inc = max(alive, key=lambda i: i.start) if alive else None
        if inc is not None:
            inc.events.append(e)
        elif e.kind == "Node" and (node_uids.get(e.uid) or e.name) in rows:
            rows[node_uids.get(e.uid) or e.name].events.append(e)

    # Failure periods: when did the node's lease stop being renewed (if it did)?
    for name, r in rows.items():
        renewals = lease_renewals.get(name)
        if not renewals:
            continue
        for life in r.lives:
            for period in life.failures:
                start, stop = period[1], period[2] if period[2] is not None else now
                i = bisect.bisect_right(renewals, start) - 1
                if i >= 0 and (i + 1 == len(renewals) or renewals[i + 1] >= stop):
                    period[3]["lease last renewed"] = _rel(renewals[i])

    ordered = _order_rows(rows)
    for r in ordered:
        r.pods.sort(key=lambda p: (p.start, p.name))
        r.pod_lanes = _assign_lanes(r.pods, now)
        r.attachments.sort(key=lambda a: (a.start, a.name))
        r.attachment_lanes = _assign_lanes(r.attachments, now)
    events.sort(key=lambda e: e.time)
    return Timeline(cluster.seed, now, ordered, events, writes, counts, omitted, notes,
                    history_start)


def _node_change(r: NodeRow, life: NodeLife, obj: dict, old: dict | None, t: float) -> None:
    status, cond = _ready(obj)
    failures = life.failures
    open_ = failures[-1] if failures and failures[-1][2] is None else None
    failing = status in ("False", "Unknown")
    if open_ is not None and (not failing or open_[0] != status):
        open_[2] = t
        open_ = None
    if failing and open_ is None:
        details = {"reason": (cond or {}).get("reason", ""),
                   "message": (cond or {}).get("message", "")}
        failures.append([status, t, None, details])
    if old is None:
        return
    before, after = _taints(old), _taints(obj)
    for taint in sorted(after - before):
        r.marks.append((t, f"taint {taint}", {"added": taint}))
    for taint in sorted(before - after):
        r.marks.append((t, f"untaint {taint}", {"removed": taint}))
    was = bool((old.get("spec") or {}).get("unschedulable"))
    now_ = bool((obj.get("spec") or {}).get("unschedulable"))
    if was != now_:
        r.marks.append((t, "cordoned" if now_ else "uncordoned", {}))


def _add_survivors(store: "Store", rows: dict, row: Any, node_lives: dict, pods: dict,
                   attachments: dict, pv_claims: dict) -> None:
    for obj in store.tables[_NODES].objects.values() if _NODES in store.tables else ():
        m = obj["metadata"]
        if m["uid"] not in node_lives:
            start = _parse(m.get("creationTimestamp")) or EPOCH
            life = node_lives[m["uid"]] = NodeLife(m["uid"], start, truncated=True)
            r = row(m["name"])
            r.zone = (m.get("labels") or {}).get("topology.kubernetes.io/zone", r.zone)
            r.lives.append(life)
            _node_change(r, life, obj, None, start)
    for obj in store.tables[_PODS].objects.values() if _PODS in store.tables else ():
        m = obj["metadata"]
        if m["uid"] not in pods:
            start = _parse(m.get("creationTimestamp")) or EPOCH
            pods[m["uid"]] = Incarnation(
                m["uid"], m.get("namespace", ""), m["name"],
                (obj.get("spec") or {}).get("nodeName") or "", start,
                [(_pod_state(obj), start)], ip=(obj.get("status") or {}).get("podIP") or "",
                truncated=True)
    for obj in store.tables[_ATTACHMENTS].objects.values() if _ATTACHMENTS in store.tables \
            else ():
        m = obj["metadata"]
        if m["uid"] not in attachments:
            start = _parse(m.get("creationTimestamp")) or EPOCH
            spec = obj.get("spec") or {}
            attachments[m["uid"]] = Attachment(
                m["name"], (spec.get("source") or {}).get("persistentVolumeName") or "", "",
                spec.get("nodeName") or "", start, [(_attach_state(obj), start)],
                truncated=True)
    for obj in store.tables[_PVS].objects.values() if _PVS in store.tables else ():
        ref = (obj.get("spec") or {}).get("claimRef") or {}
        if ref.get("name") and obj["metadata"]["name"] not in pv_claims:
            pv_claims[obj["metadata"]["name"]] = ref["name"] if ref.get("namespace") in (
                None, "", "default") else f"{ref['namespace']}/{ref['name']}"


def _order_rows(rows: dict[str, NodeRow]) -> list[NodeRow]:
    """Nodes in the order they first appeared (their Node objects first, in resourceVersion
    order, then nodes known only from their pods); pods never bound to a node last."""
    def first(r: NodeRow) -> tuple:
        if not r.name:
            return (2, 0)
        return (0 if r.lives else 1, r.order)

    return sorted(rows.values(), key=first)


def _assign_lanes(items: list[Any], now: float) -> int:
    """Greedy interval partitioning (items sorted by start): the first lane whose last item
    ended before this one starts. Zero-length items never share an instant with a lane's
    neighbour, so slices stay unambiguous per track."""
    ends: list[tuple[float, bool]] = []
    for item in items:
        end = item.end if item.end is not None else now
        zero = end <= item.start
        for lane, (last_end, last_zero) in enumerate(ends):
            if last_end < item.start or (last_end == item.start and not zero and not last_zero):
                item.lane = lane
                ends[lane] = (end, zero)
                break
        else:
            item.lane = len(ends)
            ends.append((end, zero))
    return len(ends)


# -- Chrome trace-event JSON ---------------------------------------------------------------

def _us(t: float) -> int:
    return int(round((t - EPOCH) * 1e6))


_POD_TID, _ATTACH_TID, _WRITE_TID = 1, 10_000, 100


def to_chrome(tl: Timeline) -> dict:
    """The timeline in the Chrome trace-event format (JSON object form)."""
    out: list[dict] = []
    now = tl.now

    def meta(pid: int, tid: int, name: str, args: dict) -> None:
        out.append({"ph": "M", "name": name, "pid": pid, "tid": tid, "ts": 0, "args": args})

    def slice_(pid: int, tid: int, name: str, cat: str, start: float, end: float,
               args: dict | None = None) -> None:
        ts = _us(start)
        ev = {"ph": "X", "name": name, "cat": cat, "pid": pid, "tid": tid, "ts": ts,
              "dur": max(0, _us(end) - ts)}
        if args:
            ev["args"] = args
        out.append(ev)

    def instant(pid: int, tid: int, name: str, cat: str, t: float, args: dict | None = None,
                scope: str = "t") -> None:
        ev = {"ph": "i", "s": scope, "name": name, "cat": cat, "pid": pid, "tid": tid,
              "ts": _us(t)}
        if args:
            ev["args"] = args
        out.append(ev)

    # Process 0: the cluster (notes, Events about other objects, API writes per resource).
    meta(0, 0, "process_name", {"name": "cluster"})
    meta(0, 0, "process_sort_index", {"sort_index": 0})
    meta(0, 0, "thread_name", {"name": "events"})
    for note in tl.notes:
        instant(0, 0, note.split(":", 1)[0], "note", tl.history_start or EPOCH,
                {"note": note}, scope="g")
    shown = {id(e) for r in tl.rows for p in r.pods for e in p.events} | {
        id(e) for r in tl.rows for e in r.events}
    for e in tl.events:
        if id(e) in shown:
            continue
        instant(0, 0, e.reason, _event_cat(e), e.time, _event_args(e))
    resources = sorted(tl.write_counts)
    for i, resource in enumerate(resources):
        tid = _WRITE_TID + i
        meta(0, tid, "thread_name", {"name": f"API writes: {resource}"})
        meta(0, tid, "thread_sort_index", {"sort_index": tid})
    tids = {resource: _WRITE_TID + i for i, resource in enumerate(resources)}
    for t, verb, resource, key, rv in tl.writes:
        out.append({"ph": "i", "s": "t", "name": verb, "cat": "api", "pid": 0,
                    "tid": tids[resource], "ts": _us(t),
                    "args": {"object": key, "resourceVersion": rv}})

    # A process per node.
    for pid, r in enumerate(tl.rows, start=1):
        title = r.name or "(unscheduled)"
        if r.zone:
            title += f" (zone {r.zone})"
        meta(pid, 0, "process_name", {"name": title})
        meta(pid, 0, "process_sort_index", {"sort_index": pid})
        meta(pid, 0, "thread_name", {"name": "node"})
        meta(pid, 0, "thread_sort_index", {"sort_index": 0})
        for life in r.lives:
            end = life.end if life.end is not None else now
            args = {"uid": life.uid, "created": _rel(life.start),
                    "deleted": _rel(life.end) if life.end is not None else "exists"}
            if life.truncated:
                args["note"] = "history compacted: earlier changes unknown"
            slice_(pid, 0, r.name, "node", life.start, end, args)
            for status, start, stop, details in life.failures:
                stop = stop if stop is not None else end
                slice_(pid, 0, f"Ready={status}", "node.failure", start, stop,
                       {**details, "from": _rel(start), "to": _rel(stop)})
        for t, name, args in r.marks:
            instant(pid, 0, name, "node", t, args)
        for e in r.events:
            instant(pid, 0, e.reason, _event_cat(e), e.time, _event_args(e))
        for lane in range(r.pod_lanes):
            meta(pid, _POD_TID + lane, "thread_name", {"name": f"pods {lane + 1}"})
            meta(pid, _POD_TID + lane, "thread_sort_index", {"sort_index": _POD_TID + lane})
        for p in r.pods:
            tid = _POD_TID + p.lane
            end = p.end if p.end is not None else now
            args = {"namespace": p.namespace, "uid": p.uid, "node": p.node or "-",
                    "ip": p.ip or "-", "created": _rel(p.start),
                    "gone": _rel(p.end) if p.end is not None else "exists",
                    "states": ", ".join(f"{s} {_rel(t)}" for s, t in p.states)}
            if p.truncated:
                args["note"] = "history compacted: earlier changes unknown"
            slice_(pid, tid, p.label, "pod", p.start, end, args)
            for (state, since), nxt in zip(p.states, [*p.states[1:], (None, end)]):
                if nxt[1] > since:
                    slice_(pid, tid, state, "pod.state", since, nxt[1])
            for e in p.events:
                instant(pid, tid, e.reason, _event_cat(e), e.time, _event_args(e))
        for lane in range(r.attachment_lanes):
            tid = _ATTACH_TID + lane
            meta(pid, tid, "thread_name", {"name": f"volumes {lane + 1}"})
            meta(pid, tid, "thread_sort_index", {"sort_index": tid})
        for a in r.attachments:
            tid = _ATTACH_TID + a.lane
            end = a.end if a.end is not None else now
            args = {"volumeAttachment": a.name, "persistentVolume": a.pv,
                    "claim": a.claim or "-", "node": a.node,
                    "states": ", ".join(f"{s} {_rel(t)}" for s, t in a.states)}
            slice_(pid, tid, a.claim or a.pv, "volume", a.start, end, args)
            for (state, since), nxt in zip(a.states, [*a.states[1:], (None, end)]):
                if nxt[1] > since:
                    slice_(pid, tid, state, "volume.state", since, nxt[1])

    other = {"generator": "fakekube", "seed": tl.seed, "virtualNow": _rel(tl.now),
             "clock": "virtual time; ts in microseconds since 2025-01-01T00:00:00Z",
             "notes": list(tl.notes)}
    return {"traceEvents": out, "displayTimeUnit": "ms", "otherData": other}


def _event_cat(e: EventMark) -> str:
    return "event,warning" if e.type == "Warning" else "event"


def _event_args(e: EventMark) -> dict:
    obj = f"{e.kind.lower()}/{e.name}"
    if e.namespace and e.namespace != "default":
        obj = f"{e.namespace}/{obj}"
    args = {"type": e.type, "object": obj, "message": e.message}
    if e.count > 1:
        args["count"] = e.count
    return args


# -- HTML -----------------------------------------------------------------------------------

_CSS = """
body{font:13px/1.4 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px;
color:#222}
h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 6px}
.meta{color:#555}.note{background:#fff4d6;border:1px solid #e8d28a;padding:4px 8px;margin:4px 0}
.legend span{display:inline-block;margin-right:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;
border:1px solid #0002}
.scroll{overflow-x:auto;border:1px solid #ddd;background:#fff}
table{border-collapse:collapse;margin-top:4px}
td,th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left;vertical-align:top}
td.t{color:#555;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.Warning td{color:#a02020}
"""

# Inside the <svg>, so that the picture stands alone if cut out of the page.
_SVG_CSS = ("text{font:11px system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif}"
            ".lbl{fill:#111;pointer-events:none}.row{fill:#fafafa}.row2{fill:#f0f0f0}"
            ".grid{stroke:#000;stroke-opacity:.1}.axis{fill:#555}"
            "g.bar:hover rect{stroke:#000;stroke-width:1}")
_FAIL_FILL = "#d9534f"
_LABEL_W, _PLOT_W, _POD_H, _ATT_H, _NODE_H, _ROW_PAD, _AXIS_H = 190, 1100, 16, 9, 10, 6, 24
_MAX_EVENT_ROWS = 1000


def _nice_step(span: float, target: int = 10) -> float:
    raw = span / target
    step = 10 ** int(f"{raw:e}".split("e")[1])
    for m in (1, 2, 5, 10):
        if m * step >= raw:
            return m * step
    return 10 * step


def to_html(tl: Timeline, title: str = "fakekube timeline") -> str:
    """A self-contained HTML page (inline CSS and SVG, no script, no external assets)."""
    esc = html.escape
    t0 = EPOCH
    span = max(tl.now - t0, 1e-6)
    x0 = _LABEL_W

    def x(t: float) -> float:
        return round(x0 + (t - t0) / span * _PLOT_W, 2)

    parts: list[str] = []
    y = _AXIS_H
    svg: list[str] = []
    # rows
    for i, r in enumerate(tl.rows):
        height = (_NODE_H + 4 + r.pod_lanes * (_POD_H + 2) + r.attachment_lanes * (_ATT_H + 2)
                  + _ROW_PAD)
        svg.append(f'<rect class="{"row" if i % 2 == 0 else "row2"}" x="0" y="{y}" '
                   f'width="{x0 + _PLOT_W + 10}" height="{height}"/>')
        label = r.name or "(unscheduled)"
        sub = f"zone {r.zone}" if r.zone else ""
        svg.append(f'<text class="lbl" x="6" y="{y + 13}"><tspan font-weight="600">'
                   f'{esc(label)}</tspan>{(" · " + esc(sub)) if sub else ""}</text>')
        svg.append(f'<text class="axis" x="6" y="{y + 27}">{len(r.pods)} pod'
                   f'{"s" if len(r.pods) != 1 else ""}, {len(r.attachments)} attachment'
                   f'{"s" if len(r.attachments) != 1 else ""}</text>')
        # node lives and failure shading
        for life in r.lives:
            end = life.end if life.end is not None else tl.now
            tip = (f"node {r.name}\ncreated {_rel(life.start)}, "
                   + (f"deleted {_rel(life.end)}" if life.end is not None else "exists"))
            svg.append(f'<g class="bar"><title>{esc(tip)}</title><rect x="{x(life.start)}" '
                       f'y="{y + 2}" width="{max(x(end) - x(life.start), 1)}" '
                       f'height="{_NODE_H}" fill="#9ccc9c"/></g>')
            for status, start, stop, details in life.failures:
                stop = stop if stop is not None else end
                tip = (f"node {r.name}: Ready={status} from {_rel(start)} to "
                       f"{_rel(stop) if stop < tl.now or life.end is not None else 'now'}")
                for k, v in details.items():
                    if v:
                        tip += f"\n{k}: {v}"
                svg.append(f'<g class="bar"><title>{esc(tip)}</title>'
                           f'<rect x="{x(start)}" y="{y}" width="{max(x(stop) - x(start), 2)}" '
                           f'height="{height}" fill="{_FAIL_FILL}" fill-opacity="0.16"/>'
                           f'<rect x="{x(start)}" y="{y + 2}" '
                           f'width="{max(x(stop) - x(start), 2)}" height="{_NODE_H}" '
                           f'fill="{_FAIL_FILL}"/></g>')
            if life.end is not None:
                svg.append(f'<g><title>{esc(f"node {r.name} deleted at {_rel(life.end)}")}'
                           f'</title><rect x="{x(life.end)}" y="{y}" '
                           f'width="{max(x(tl.now) - x(life.end), 0)}" height="{height}" '
                           f'fill="#000" fill-opacity="0.06"/></g>')
        marks = [(t, name) for t, name, _ in r.marks] + [
            (e.time, f"{e.reason}: {e.message}") for e in r.events]
        for t, name in marks:
            svg.append(f'<g><title>{esc(f"{_rel(t)} {name}")}</title><rect x="{x(t) - 1}" '
                       f'y="{y}" width="2" height="{_NODE_H + 4}" fill="#333"/></g>')
        top = y + _NODE_H + 4
        for p in r.pods:
            svg.append(_pod_bar(p, top + p.lane * (_POD_H + 2), x, tl.now))
        top += r.pod_lanes * (_POD_H + 2)
        for a in r.attachments:
            svg.append(_attachment_bar(a, top + a.lane * (_ATT_H + 2), x, tl.now))
        y += height
    total_h = y + 4
    # axis on top, grid through all rows
    axis: list[str] = []
    step = _nice_step(span)
    v = 0.0
    while v <= span + 1e-9:
        xv = x(t0 + v)
        axis.append(f'<line class="grid" x1="{xv}" y1="{_AXIS_H - 6}" x2="{xv}" '
                    f'y2="{total_h}"/><text class="axis" x="{xv + 2}" y="{_AXIS_H - 10}">'
                    f'+{round(v, 6):g}s</text>')
        v += step
    axis.append(f'<line x1="{x(tl.now)}" y1="{_AXIS_H - 6}" x2="{x(tl.now)}" y2="{total_h}" '
                f'stroke="#1565c0" stroke-dasharray="3,3"><title>now {_rel(tl.now)}</title>'
                '</line>')
    width = x0 + _PLOT_W + 60
    parts.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
                 f'height="{total_h}" viewBox="0 0 {width} {total_h}" role="img" '
                 f'aria-label="{esc(title)}">')
    parts.append(f"<style>{_SVG_CSS}</style>")
    parts.extend(svg)
    parts.extend(axis)
    parts.append("</svg>")

    n_pods = sum(len(r.pods) for r in tl.rows)
    nodes = [r for r in tl.rows if r.name]
    head = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{esc(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">seed {tl.seed} · virtual time {_rel(tl.now)} · {len(nodes)} node'
        f'{"s" if len(nodes) != 1 else ""} · {n_pods} pod incarnation'
        f'{"s" if n_pods != 1 else ""} · {len(tl.events)} events · times are virtual '
        "seconds since the cluster started (2025-01-01T00:00:00Z); hover for details</p>",
    ]
    for note in tl.notes:
        head.append(f'<p class="note">{esc(note)}</p>')
    legend = ['<p class="legend">']
    for state, colour in POD_STATES.items():
        name = "Running (not Ready)" if state == "Running" else state
        legend.append(f'<span><i style="background:{colour}"></i>{esc(name)}</span>')
    for state, colour in ATTACH_STATES.items():
        legend.append(f'<span><i style="background:{colour}"></i>volume {state}</span>')
    legend.append(f'<span><i style="background:{_FAIL_FILL};opacity:.5"></i>node not Ready'
                  '</span></p>')
    body = head + legend + ['<div class="scroll">'] + parts + ["</div>"]
    body += _events_table(tl.events) + _writes_table(tl)
    body += ["</body>", "</html>", ""]
    return "\n".join(body)


def _pod_bar(p: Incarnation, y: float, x: Any, now: float) -> str:
    esc = html.escape
    end = p.end if p.end is not None else now
    lines = [f"pod {p.label} ({p.uid})", f"node {p.node or '-'}, IP {p.ip or '-'}"]
    lines += [f"{_rel(t)} {s}" for s, t in p.states]
    lines.append(f"{_rel(p.end)} gone" if p.end is not None else "exists")
    if p.truncated:
        lines.append("(history compacted: earlier changes unknown)")
    for e in p.events[-12:]:
        lines.append(f"{_rel(e.time)} {e.type} {e.reason}: {e.message}")
    if len(p.events) > 12:
        lines.append(f"... {len(p.events) - 12} earlier events")
    out = [f'<g class="bar"><title>{esc(chr(10).join(lines))}</title>']
    drawn = False
    for (state, since), nxt in zip(p.states, [*p.states[1:], (None, end)]):
        if nxt[1] > since:
            drawn = True
            out.append(f'<rect x="{x(since)}" y="{y}" width="{max(x(nxt[1]) - x(since), 1.5)}" '
                       f'height="{_POD_H}" fill="{POD_STATES.get(state, "#999")}"/>')
    if not drawn:  # born and gone at one instant: a sliver
        state = p.states[-1][0] if p.states else ""
        out.append(f'<rect x="{x(p.start)}" y="{y}" width="1.5" height="{_POD_H}" '
                   f'fill="{POD_STATES.get(state, "#999")}"/>')
    # A darker edge where the incarnation starts, so that one following another in the
    # same lane at the same instant still reads as two.
    out.append(f'<rect x="{x(p.start)}" y="{y}" width="1.5" height="{_POD_H}" fill="#000" '
               'fill-opacity="0.45"/>')
    for e in p.events:
        if e.type == "Warning":
            xe = x(e.time)
            out.append(f'<path d="M{xe - 4},{y} L{xe + 4},{y} L{xe},{y + 6} Z" '
                       'fill="#b71c1c"/>')
    label = p.label + (f" {p.ip}" if p.ip else "")
    width = x(end) - x(p.start)
    if width >= 6.2 * len(label) + 6:
        out.append(f'<text class="lbl" x="{x(p.start) + 3}" y="{y + 12}">{esc(label)}</text>')
    elif width >= 6.2 * len(p.label) + 6:
        out.append(f'<text class="lbl" x="{x(p.start) + 3}" y="{y + 12}">{esc(p.label)}'
                   '</text>')
    out.append("</g>")
    return "".join(out)


def _attachment_bar(a: Attachment, y: float, x: Any, now: float) -> str:
    esc = html.escape
    end = a.end if a.end is not None else now
    lines = [f"volume {a.pv}" + (f" (claim {a.claim})" if a.claim else ""),
             f"VolumeAttachment {a.name} on {a.node}"]
    lines += [f"{_rel(t)} {s}" for s, t in a.states]
    lines.append(f"{_rel(a.end)} gone" if a.end is not None else "exists")
    out = [f'<g class="bar"><title>{esc(chr(10).join(lines))}</title>']
    for (state, since), nxt in zip(a.states, [*a.states[1:], (None, end)]):
        if nxt[1] > since or nxt[0] is None:
            out.append(f'<rect x="{x(since)}" y="{y}" width="{max(x(nxt[1]) - x(since), 1.5)}" '
                       f'height="{_ATT_H}" fill="{ATTACH_STATES.get(state, "#999")}"/>')
    label = f"volume {a.claim or a.pv}"
    if x(end) - x(a.start) >= 5.5 * len(label) + 6:
        out.append(f'<text class="lbl" x="{x(a.start) + 3}" y="{y + 8}" '
                   f'font-size="9">{esc(label)}</text>')
    out.append("</g>")
    return "".join(out)


def _events_table(events: list[EventMark]) -> list[str]:
    esc = html.escape
    shown = events[-_MAX_EVENT_ROWS:]
    out = [f"<h2>Events ({len(events)})</h2>"]
    if len(shown) < len(events):
        out.append(f'<p class="note">the latest {len(shown)} are listed</p>')
    out.append("<table><thead><tr><th>time</th><th>type</th><th>reason</th><th>object</th>"
               "<th>message</th></tr></thead><tbody>")
    for e in shown:
        obj = f"{e.kind.lower()}/{e.name}"
        if e.namespace and e.namespace != "default":
            obj = f"{e.namespace}/{obj}"
        count = f" (x{e.count})" if e.count > 1 else ""
        out.append(f'<tr class="{esc(e.type)}"><td class="t">{_rel(e.time)}</td>'
                   f"<td>{esc(e.type)}</td><td>{esc(e.reason)}</td><td>{esc(obj)}</td>"
                   f"<td>{esc(e.message)}{count}</td></tr>")
    out.append("</tbody></table>")
    return out


def _writes_table(tl: Timeline) -> list[str]:
    esc = html.escape
    out = ["<h2>API writes (retained history)</h2>",
           "<table><thead><tr><th>resource</th><th>ADDED</th><th>MODIFIED</th>"
           "<th>DELETED</th></tr></thead><tbody>"]
    for resource, c in sorted(tl.write_counts.items()):
        out.append(f"<tr><td>{esc(resource)}</td><td>{c['ADDED']}</td><td>{c['MODIFIED']}"
                   f"</td><td>{c['DELETED']}</td></tr>")
    out.append("</tbody></table>")
    return out


# -- the entry point ------------------------------------------------------------------------

_JSON_FORMATS = ("perfetto", "chrome", "json")


def export(cluster: "Cluster", path: str | os.PathLike | None = None, format: str = "perfetto",
           *, max_writes: int = MAX_WRITES, title: str | None = None) -> dict | str:
    """``cluster.trace()``: the history as a Chrome trace-event dict (``format="perfetto"``,
    also ``"chrome"`` or ``"json"``) or as HTML text (``format="html"``), written to ``path``
    (UTF-8) when given.

    >>> import fakekube
    >>> doc = export(fakekube.Cluster(nodes=1))
    >>> sorted(doc) == ["displayTimeUnit", "otherData", "traceEvents"]
    True
    """
    fmt = (format or "").lower()
    if fmt not in _JSON_FORMATS and fmt != "html":
        raise ValueError(f"unknown trace format {format!r}: use 'perfetto' (Chrome trace-event "
                         "JSON, for ui.perfetto.dev and chrome://tracing) or 'html'")
    tl = build(cluster, max_writes=max_writes)
    if fmt == "html":
        text = to_html(tl, title or f"fakekube timeline (seed {cluster.seed})")
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text
    doc = to_chrome(tl)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))
    return doc

