"""The versioned object store: the pure backend behind the API layer.

One :class:`Store` holds a :class:`Table` per resource. Every write takes the next value of
one global resourceVersion counter, updates the table's indexes, appends a
:class:`WatchEvent` to the table's history and hands it to the table's subscribers (informer
handlers, which run synchronously, and watchers, which queue it) in resourceVersion order.

Stored objects are never changed in place: a write replaces the stored dict with a new one.
That is what lets the event history, informer caches and watch queues share stored objects
without copying them; whatever leaves the API layer for a caller is copied there.

Indexes per table: the sorted keys (list order and paging; a namespace is a key range), labels
(``key=value`` -> keys), owner UIDs, and whatever fields the resource type declares (a Pod's
``spec.nodeName``). The store knows nothing of HTTP, validation or kinds' semantics.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from sortedcontainers import SortedList

__all__ = ["Store", "Table", "WatchEvent", "Key"]

Key = tuple[str, str]  # (namespace or "", name)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


class WatchEvent(NamedTuple):
    """One change: ``obj`` is the stored object after it (for DELETED, the last state);
    ``old`` the one before (None for ADDED).

    Immutable. A named tuple rather than a frozen attrs class: one is built for every write,
    and the store builds it with ``tuple.__new__`` directly (a third of the frozen class's
    ``__init__``, which sets each slot through ``object.__setattr__``)."""

    type: str
    obj: dict
    old: dict | None
    rv: int


_new_event = tuple.__new__


class Table:
    """All objects of one resource, with indexes and history."""

    def __init__(self, resource: str, history_limit: int,
                 field_indexes: dict[str, Callable[[dict], Any]] | None = None) -> None:
        self.resource = resource
        self.objects: dict[Key, dict] = {}
        self._keys: SortedList = SortedList()
        # Keys inserted since the sorted keys were last read: sorting them in is deferred to
        # that read (one bulk ``update``), so that a run of creates pays a list append each.
        self._new_keys: list[Key] = []
        self.labels: dict[tuple[str, str], set[Key]] = {}
        self.label_keys: dict[str, set[Key]] = {}
        self.owners: dict[str, set[Key]] = {}
        self.field_getters = dict(field_indexes or {})
        self.fields: dict[str, dict[Any, set[Key]]] = {f: {} for f in self.field_getters}
        # The top-level parts of an object the field getters read (a getter may say so with
        # a ``reads`` attribute), or None if some getter does not say: a replace whose parts
        # are the stored ones themselves needs no field reindexing.
        reads = [getattr(g, "reads", None) for g in self.field_getters.values()]
        self.field_reads: tuple[str, ...] | None = (
            None if None in reads else tuple(dict.fromkeys(reads)))
        self.history: list[WatchEvent] = []
        self.history_limit = history_limit
        self.compacted_through = 0  # every event with rv <= this may be gone from history
        self.handlers: list[Callable[[WatchEvent], None]] = []
        self.watchers: list[Any] = []
        self.last_rv = 0  # rv of the last write to this table

    # -- reading ---------------------------------------------------------------------------

    @property
    def keys(self) -> SortedList:
        """Every key, sorted (with the keys of recent inserts sorted in first)."""
        if self._new_keys:
            self._keys.update(self._new_keys)
            self._new_keys.clear()
        return self._keys

    def get(self, key: Key) -> dict | None:
        return self.objects.get(key)

    def __len__(self) -> int:
        return len(self.objects)

    def iter_keys(self, namespace: str | None = None, start: Key | None = None) -> Iterator[Key]:
        """Keys in (namespace, name) order, within one namespace if given, from ``start``
        (exclusive) if given."""
        if namespace is None:
            if start is None:
                return iter(self.keys)
            return self.keys.irange(start, None, inclusive=(False, False))
        lo: Key = (namespace, "")
        if start is not None and start > lo:
            lo = start
            inclusive = (False, False)
        else:
            inclusive = (True, False)
        return self.keys.irange(lo, (namespace + "\x00", ""), inclusive=inclusive)

    def keys_with_label(self, key: str, values: Iterable[str]) -> set[Key]:
        out: set[Key] = set()
        for v in values:
            got = self.labels.get((key, v))
            if got:
                out |= got
        return out

    def keys_with_field(self, field: str, value: Any) -> set[Key]:
        return self.fields[field].get(value, set())

    def keys_owned_by(self, uid: str) -> set[Key]:
        return self.owners.get(uid, set())

    # -- index upkeep ----------------------------------------------------------------------

    def _index(self, key: Key, obj: dict) -> None:
        meta = obj["metadata"]
        labels = meta.get("labels")
        if labels:
            by_label = self.labels
            by_key = self.label_keys
            for item in labels.items():  # the (key, value) pair is the index key itself
                keys = by_label.get(item)
                if keys is None:
                    by_label[item] = {key}
                else:
                    keys.add(key)
                keys = by_key.get(item[0])
                if keys is None:
                    by_key[item[0]] = {key}
                else:
                    keys.add(key)
        refs = meta.get("ownerReferences")
        if refs:
            for ref in refs:
                uid = ref.get("uid")
                if uid:
                    _add(self.owners, uid, key)
        if self.field_getters:
            fields = self.fields
            for name, getter in self.field_getters.items():
                _add(fields[name], getter(obj), key)

    def _unindex(self, key: Key, obj: dict) -> None:
        meta = obj["metadata"]
        labels = meta.get("labels")
        if labels:
            for lk, lv in labels.items():
                _discard(self.labels, (lk, lv), key)
                _discard(self.label_keys, lk, key)
        refs = meta.get("ownerReferences")
        if refs:
            for ref in refs:
                uid = ref.get("uid")
                if uid:
                    _discard(self.owners, uid, key)
        for name, getter in self.field_getters.items():
            _discard(self.fields[name], getter(obj), key)

    def _reindex(self, key: Key, old: dict, new: dict) -> None:
        om, nm = old["metadata"], new["metadata"]
        # Most writes carry the stored labels and owner references over as they are: the
        # identity test spares comparing them.
        for part in ("labels", "ownerReferences"):
            a, b = om.get(part), nm.get(part)
            if a is not b and a != b:
                self._unindex(key, old)
                self._index(key, new)
                return
        if not self.field_getters:
            return
        reads = self.field_reads
        if reads is not None:
            # The indexed fields are read from these parts only: when each is the stored
            # part itself, no field can have changed.
            for part in reads:
                if old.get(part) is not new.get(part):
                    break
            else:
                return
        for name, getter in self.field_getters.items():
            a, b = getter(old), getter(new)
            if a != b:
                idx = self.fields[name]
                _discard(idx, a, key)
                _add(idx, b, key)

    # -- history ---------------------------------------------------------------------------

    def _record(self, ev: WatchEvent) -> None:
        hist = self.history
        hist.append(ev)
        if len(hist) > self.history_limit:
            self._compact()
        self.last_rv = ev.rv
        if self.handlers:
            for handler in self.handlers:
                handler(ev)
        if self.watchers:
            for w in self.watchers:
                w.offer(ev)

    def _compact(self) -> None:
        """Compact the history in one go down to 90% of the limit: rare and deliberate."""
        hist = self.history
        drop = len(hist) - (self.history_limit * 9) // 10
        self.compacted_through = hist[drop - 1].rv
        del hist[:drop]

    def events_after(self, rv: int) -> list[WatchEvent] | None:
        """Every event with resourceVersion > rv, or None if some were compacted away."""
        if rv < self.compacted_through:
            return None
        hist = self.history
        lo, hi = 0, len(hist)
        while lo < hi:
            mid = (lo + hi) // 2
            if hist[mid].rv <= rv:
                lo = mid + 1
            else:
                hi = mid
        return hist[lo:]

    def oldest_retained(self) -> int:
        """upstream's M in ``too old resource version: N (M)``."""
        return self.compacted_through

    def state_at(self, rv: int) -> dict[Key, dict] | None:
        """The table's objects as they were right after resourceVersion ``rv``, or None if
        the history no longer reaches back that far."""
        later = self.events_after(rv)
        if later is None:
            return None
        state = dict(self.objects)
        for ev in reversed(later):
            key = _key_of(ev.obj)
            if ev.type == ADDED:
                state.pop(key, None)
            else:
                state[key] = ev.old
        return state


def _key_of(obj: dict) -> Key:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


def _add(index: dict, k: Any, key: Key) -> None:
    s = index.get(k)
    if s is None:
        index[k] = {key}
    else:
        s.add(key)


def _discard(index: dict, k: Any, key: Key) -> None:
    s = index.get(k)
    if s is not None:
        s.discard(key)
        if not s:
            del index[k]


class Store:
    """Tables of objects behind one resourceVersion counter and one lock.

    The lock is re-entrant and held by the API layer for the whole of each request, so that
    in served mode the run loop and HTTP threads see one linear history.
    """

    def __init__(self, history_limit: int = 100_000) -> None:
        self.rv = 0
        self.tables: dict[str, Table] = {}
        self.history_limit = history_limit
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)

    def table(self, resource: str,
              field_indexes: dict[str, Callable[[dict], Any]] | None = None) -> Table:
        t = self.tables.get(resource)
        if t is None:
            t = self.tables[resource] = Table(resource, self.history_limit, field_indexes)
        return t

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def insert(self, table: Table, obj: dict) -> WatchEvent:
        """Store a new object. Its ``metadata.resourceVersion`` is set here."""
        rv = self.rv = self.rv + 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(rv)
        key = (meta.get("namespace", ""), meta["name"])
        table.objects[key] = obj
        table._new_keys.append(key)
        table._index(key, obj)
        ev = _new_event(WatchEvent, (ADDED, obj, None, rv))
        table._record(ev)
        if self._waiters:
            self.changed.notify_all()
        return ev

    def replace(self, table: Table, obj: dict, old: dict) -> WatchEvent:
        """Store ``obj`` in place of ``old`` (same key). Its ``metadata.resourceVersion`` is
        set here."""
        rv = self.rv = self.rv + 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(rv)
        key = (meta.get("namespace", ""), meta["name"])
        table.objects[key] = obj
        table._reindex(key, old, obj)
        ev = _new_event(WatchEvent, (MODIFIED, obj, old, rv))
        table._record(ev)
        if self._waiters:
            self.changed.notify_all()
        return ev

    def remove(self, table: Table, old: dict) -> WatchEvent:
        """Remove an object. The DELETED event carries its last state at a new
        resourceVersion, as the watch cache delivers it."""
        rv = self.next_rv()
        key = _key_of(old)
        del table.objects[key]
        table.keys.remove(key)
        table._unindex(key, old)
        last = dict(old)
        last["metadata"] = dict(old["metadata"], resourceVersion=str(rv))
        ev = _new_event(WatchEvent, (DELETED, last, old, rv))
        table._record(ev)
        self._notify()
        return ev

    def _notify(self) -> None:
        if self._waiters:
            self.changed.notify_all()

    _waiters = 0

    def wait_for_change(self, timeout: float | None) -> bool:
        """Served mode: block (holding nothing) until the next write or ``timeout``."""
        with self.changed:
            self._waiters += 1
            try:
                return self.changed.wait(timeout)
            finally:
                self._waiters -= 1
