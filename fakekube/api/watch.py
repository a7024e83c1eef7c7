"""Watchers: one unbounded queue of events per watch, fed by the store in resourceVersion order.

A watcher never drops, reorders or duplicates events, however slow its reader (the
client-go fake tracker's 100-event channel that panics is what this replaces). Filtering by
namespace, labels and fields happens as events are offered, with upstream's watch-cache rule
for objects that move in or out of the selection: a MODIFIED event becomes ADDED for an object
that starts matching and DELETED for one that stops matching.

Objects in the queue are shared stored objects; :meth:`Watcher.take` hands out copies.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from .objects import deep_copy
from .store import ADDED, DELETED, MODIFIED, Table, WatchEvent

__all__ = ["Watcher", "BOOKMARK", "ERROR"]

BOOKMARK, ERROR = "BOOKMARK", "ERROR"

Matcher = Callable[[dict], bool]


class Watcher:
    """A subscription to one table, filtered; see the module docstring."""

    def __init__(self, table: Table, matches: Matcher, *, kind: str, api_version: str,
                 allow_bookmarks: bool = False, on_close: Callable[["Watcher"], None] | None = None
                 ) -> None:
        self.table = table
        self.matches = matches
        self.kind = kind
        self.api_version = api_version
        self.allow_bookmarks = allow_bookmarks
        self.queue: deque[tuple[str, dict, int]] = deque()
        self.closed = False
        self.last_rv = 0
        self._on_close = on_close

    # -- feeding (store side, under the store lock) ----------------------------------------

    def offer(self, ev: WatchEvent) -> None:
        if self.closed:
            return
        if ev.type == MODIFIED:
            was, now = self.matches(ev.old), self.matches(ev.obj)
            if now:
                self.queue.append((MODIFIED if was else ADDED, ev.obj, ev.rv))
            elif was:
                self.queue.append((DELETED, ev.obj, ev.rv))
        elif self.matches(ev.obj):
            self.queue.append((ev.type, ev.obj, ev.rv))

    def push(self, type_: str, obj: dict, rv: int) -> None:
        """Queue an event as is (initial events, bookmarks, a 410 ERROR)."""
        self.queue.append((type_, obj, rv))

    def bookmark(self, rv: int, initial_events_end: bool = False) -> None:
        meta: dict = {"resourceVersion": str(rv)}
        if initial_events_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        self.queue.append((BOOKMARK, {"kind": self.kind, "apiVersion": self.api_version,
                                      "metadata": meta}, rv))

    # -- reading ---------------------------------------------------------------------------

    def take(self, limit: int | None = None, copy: bool = True) -> list[tuple[str, dict]]:
        """Dequeue up to ``limit`` events as ``(type, copy of object)`` pairs; with
        ``copy=False`` the objects are the stored ones themselves, for readers that only
        read (call under the store lock then)."""
        out = []
        q = self.queue
        while q and (limit is None or len(out) < limit):
            type_, obj, rv = q.popleft()
            if rv:
                self.last_rv = rv
            out.append((type_, deep_copy(obj) if copy else obj))
            if type_ == ERROR:
                self.close()
                q.clear()
                break
        return out

    def __len__(self) -> int:
        return len(self.queue)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self._on_close is not None:
                self._on_close(self)
