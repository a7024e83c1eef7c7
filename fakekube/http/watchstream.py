"""Watch over HTTP: a chunked stream of newline-delimited JSON events.

``GET <collection>?watch=true`` (or ``watch=1``, the ``/watch/`` prefix, or a watch of one
named object) opens an API-layer :class:`~fakekube.api.watch.Watcher` and streams what it
queues, in resourceVersion order, each event exactly once:

- ``{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": {...}}`` one per line; events
  queued together go out in one chunk;
- with the Table Accept, each object becomes a one-row ``Table`` (column definitions on the
  first event only, ``null`` afterwards, as upstream);
- bookmarks only with ``allowWatchBookmarks=true``: the watch-list bookmark carrying the
  ``k8s.io/initial-events-end`` annotation after the initial events
  (``sendInitialEvents=true``), and then one a minute while idle;
- a too-old resourceVersion is a ``200`` followed by one ``ERROR`` event with the 410
  ``Expired`` Status, then the end of the stream;
- the stream ends at ``timeoutSeconds`` (wall clock; default 30 minutes), when the client
  goes away (the socket server calls :meth:`WatchStream.close`), or when the server stops.

Waiting is on the store's condition variable, without holding the lock; events are taken
from the watcher's queue under the lock and encoded outside it (stored objects are never
changed in place, so they need no copy).

Upstream: ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/watch.go`` (``serveWatch``,
the framing, the Table transform of events), ``.../handlers/get.go`` (``ListResource`` with
``watch``: a named object becomes a ``metadata.name`` field selector; the random timeout),
``staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go`` (bookmark timing),
``staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go``
(watch ListOptions).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from .. import errors
from ..api.selectors import SelectorError, escape_field_value, parse_field_selector
from ..api.watch import BOOKMARK, ERROR
from ..errors import FieldError
from . import tables
from .rest import Query, Response, encode_json, output_mode

if TYPE_CHECKING:
    from ..api.registry import ResourceType
    from .rest import RestApi
    from .routes import Route

__all__ = ["open_watch", "WatchStream", "BOOKMARK_INTERVAL"]

BOOKMARK_INTERVAL = 60.0  # seconds between bookmarks of an idle watch (cacher: 1 minute)
BATCH = 512               # events per chunk at most

_dumps = encode_json


def _validate(q: Query) -> tuple[str | None, bool | None, bool]:
    match = q.str("resourceVersionMatch")
    sie = q.opt_bool("sendInitialEvents")
    bookmarks = q.bool("allowWatchBookmarks")
    errs: list[FieldError] = []
    if sie is not None and match != "NotOlderThan":
        errs.append(FieldError.forbidden(
            "resourceVersionMatch",
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
    if match:
        if sie is None:
            errs.append(FieldError.forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                "provided"))
        if match != "NotOlderThan":
            errs.append(FieldError.not_supported("resourceVersionMatch", match,
                                                 ["NotOlderThan"]))
        if not bookmarks:
            errs.append(FieldError.forbidden(
                "allowWatchBookmarks",
                "allowWatchBookmarks must be set to true when sendInitialEvents is set"))
    if errs:
        raise errors.invalid("ListOptions", "meta.k8s.io", "", errs)
    return match, sie, bookmarks


def _name_selector(name: str, field_selector: str | None) -> str:
    term = f"metadata.name={escape_field_value(name)}"
    if not field_selector:
        return term
    try:
        fs = parse_field_selector(field_selector)
    except SelectorError as exc:
        raise errors.BadRequest(str(exc)) from None
    value = fs.equality_value("metadata.name")
    if value is not None and value != name:
        raise errors.BadRequest("fieldSelector metadata.name doesn't match requested name")
    return f"{field_selector},{term}"


def open_watch(rest: "RestApi", r: "Route", q: Query, headers: dict[str, str]) -> Response:
    """Validate a watch request, open the watcher and return the streaming response."""
    rt = r.rt
    assert rt is not None
    mode = output_mode(headers.get("accept"), table=True, yaml_ok=False)
    _, sie, bookmarks = _validate(q)
    rv = q.str("resourceVersion")
    timeout = q.int("timeoutSeconds")
    q.int("limit")
    ls = q.str("labelSelector")
    fs = q.str("fieldSelector")
    if r.name is not None:
        fs = _name_selector(r.name, fs)
    include = q.str("includeObject") or "Metadata"
    if include not in ("Metadata", "Object", "None"):
        raise errors.BadRequest(f'includeObject: Unsupported value: "{include}": supported '
                                'values: "None", "Metadata", "Object"')
    api = rest.api

    def open_() -> Any:
        start_rv = rv
        if sie is False and rv in (None, "", "0"):
            start_rv = str(rest.store.rv)  # "start at most recent": no initial events
        return api.watch(rt, r.namespace, resource_version=start_rv, label_selector=ls,
                         field_selector=fs, allow_bookmarks=bookmarks,
                         send_initial_events=True if sie else None)

    watcher, _ = rest._call(open_)
    seconds = float(timeout) if timeout and timeout > 0 else rest.watch_timeout
    stream = WatchStream(rest, rt, watcher, mode, seconds, bookmarks, include)
    return Response(200, content_type="application/json", stream=stream)


class WatchStream:
    """The body of one watch response: iterate it for byte chunks; :meth:`close` from any
    thread ends it (the iterator returns at its next wake-up)."""

    def __init__(self, rest: "RestApi", rt: "ResourceType", watcher: Any, mode: str,
                 seconds: float, bookmarks: bool, include: str = "Metadata",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rest = rest
        self.rt = rt
        self.watcher = watcher
        self.mode = mode
        self.include = include
        self._clock = clock
        self.deadline = clock() + seconds
        self.bookmarks = bookmarks
        self.closed = False
        self.events_sent = 0
        self._columns_sent = False
        self._lock = threading.Lock()
        with _STREAMS_LOCK:
            rest.streams.add(self)
        with rest.store.changed:  # whoever waits for a watch to open (tests) can look
            rest.store.changed.notify_all()

    # -- ending ----------------------------------------------------------------------------

    def close(self) -> None:
        """End the stream (client gone, server stopping): idempotent, any thread."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        store = self.rest.store
        with store.changed:
            self.watcher.close()
            store.changed.notify_all()
        with _STREAMS_LOCK:
            self.rest.streams.discard(self)

    # -- events ----------------------------------------------------------------------------

    def __iter__(self):
        try:
            yield from self._events()
        finally:
            self.close()

    def _events(self):
        store = self.rest.store
        cond = store.changed
        w = self.watcher
        q = w.queue
        clock = self._clock
        next_bookmark = clock() + BOOKMARK_INTERVAL if self.bookmarks else float("inf")
        while True:
            batch: list = []
            ended = False
            with cond:
                while True:
                    if self.closed or self.rest.closing:
                        return
                    if q:
                        n = min(len(q), BATCH)
                        pop = q.popleft
                        for _ in range(n):
                            ev = pop()
                            batch.append(ev)
                            if ev[0] == ERROR:
                                ended = True
                                q.clear()
                                break
                        last = batch[-1][2]
                        if last:
                            w.last_rv = last
                        break
                    if w.closed:
                        return
                    now = clock()
                    if now >= self.deadline:
                        return
                    if now >= next_bookmark:
                        rv = store.rv
                        w.last_rv = rv
                        batch.append((BOOKMARK, {"kind": self.rt.kind,
                                                 "apiVersion": self.rt.api_version,
                                                 "metadata": {"resourceVersion": str(rv)}},
                                      rv))
                        next_bookmark = now + BOOKMARK_INTERVAL
                        break
                    store._waiters += 1
                    try:
                        cond.wait(min(self.deadline, next_bookmark) - now)
                    finally:
                        store._waiters -= 1
            self.events_sent += len(batch)
            yield self.encode(batch)
            if ended:
                return

    def encode(self, batch: list) -> bytes:
        mode = self.mode
        parts = []
        if mode == "json":
            for type_, obj, _ in batch:
                parts.append(f'{{"type":"{type_}","object":{_dumps(obj)}}}\n')
            return "".join(parts).encode()
        for type_, obj, _ in batch:
            parts.append(f'{{"type":"{type_}","object":{_dumps(self._transform(type_, obj))}}}\n')
        return "".join(parts).encode()

    def _transform(self, type_: str, obj: dict) -> dict:
        if type_ == ERROR:
            return obj
        if self.mode == "pom":
            return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"]}
        api_version = "meta.k8s.io/v1" if self.mode == "table" else "meta.k8s.io/v1beta1"
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        if type_ == BOOKMARK:
            return {"kind": "Table", "apiVersion": api_version, "metadata": meta,
                    "columnDefinitions": None, "rows": []}
        first = not self._columns_sent
        self._columns_sent = True
        return tables.to_table(self.rt.kind, [obj], self.rest.clock.now(), list_meta=meta,
                               include=self.include, api_version=api_version,
                               with_columns=first)


_STREAMS_LOCK = threading.Lock()


def close_all(rest: "RestApi") -> None:
    """Close every open stream of ``rest`` (server shutdown)."""
    with _STREAMS_LOCK:
        streams = list(rest.streams)
    for s in streams:
        s.close()
