"""core/v1 Events, recorded as client-go's EventRecorder records them.

An event is named ``<object name>.<hex nanoseconds>``, lives in the object's namespace (or
``default`` for cluster-scoped objects) and carries the object's reference, the reporting
component and timestamps from the virtual clock. A repeat of the same event (same object,
type, reason, message and source) increments ``count`` and ``lastTimestamp`` of the first,
as client-go's EventCorrelator does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import errors
from ..api.objects import deep_copy

if TYPE_CHECKING:
    from ..api.server import ApiServer

__all__ = ["EventRecorder", "NORMAL", "WARNING"]

NORMAL, WARNING = "Normal", "Warning"


class EventRecorder:
    def __init__(self, api: "ApiServer", component: str, host: str = "") -> None:
        self.api = api
        self.component = component
        self.host = host
        self._rt = api.registry.by_kind("Event")
        self._table = api.table(self._rt)  # the API's tables live as long as it does
        self._seen = api.event_index

    def event(self, obj: dict, type_: str, reason: str, message: str) -> None:
        """Record an event about ``obj`` (a stored object or a reference dict)."""
        api = self.api
        m = obj.get("metadata") or _NO_META
        kind = obj.get("kind")
        # (an unknown kind is an error here, whether or not its apiVersion is needed)
        rt = api.registry.by_kind(kind) if kind else None
        if "apiVersion" in obj:
            api_version = obj["apiVersion"]
        else:
            api_version = rt.api_version if rt else ""
        ns = m.get("namespace", "")
        namespace = ns or "default"
        name = m.get("name", "")
        uid = m.get("uid", "")
        ref_kind = obj.get("kind", "")  # (None if sent as null)
        if ns:
            ref = {"kind": ref_kind, "namespace": ns, "name": name, "uid": uid,
                   "apiVersion": api_version, "resourceVersion": m.get("resourceVersion", "")}
        else:
            ref = {"kind": ref_kind, "name": name, "uid": uid,
                   "apiVersion": api_version, "resourceVersion": m.get("resourceVersion", "")}
        now = api.clock.now()
        stamp = api.now()  # the text of ``now`` (the API remembers the last instant's)
        component = self.component
        host = self.host
        key = (namespace, uid or name, ref_kind, type_, reason, message, component, host)
        with api.store.lock:
            seen = self._seen.get(key)
            if seen:
                old = self._table.objects.get((namespace, seen))
                if old is not None:
                    new = deep_copy(old)
                    new["count"] = old.get("count", 1) + 1
                    new["lastTimestamp"] = stamp
                    try:
                        api.update(self._rt, new, seen, namespace, owned=True, copy_out=False,
                                   field_validation="Ignore")
                    except errors.ApiError:
                        pass
                    return
            ev_name = f"{name}.{int(now * 1e9) + api.next_event_seq():x}"
            ev = {"apiVersion": "v1", "kind": "Event",
                  "metadata": {"name": ev_name, "namespace": namespace},
                  "involvedObject": ref, "reason": reason, "message": message,
                  "source": ({"component": component, "host": host} if host
                             else {"component": component}),
                  "firstTimestamp": stamp, "lastTimestamp": stamp,
                  "count": 1, "type": type_, "reportingComponent": component,
                  "reportingInstance": host}
            try:
                # api.create(..., owned=True, copy_out=False, field_validation="Ignore")
                # without its decode step, which would leave this body as it is (it has the
                # kind's apiVersion, kind and metadata already): the same pipeline from
                # there on, under the lock already held.
                api._create(self._rt, ev, namespace)
            except errors.ApiError:
                return  # e.g. the namespace is going away: events are best effort
            self._seen[key] = ev_name


_NO_META: dict = {}
