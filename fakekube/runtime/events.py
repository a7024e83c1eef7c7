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
from ..api.objects import deep_copy, rfc3339

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
        self._seen = api.event_index

    def event(self, obj: dict, type_: str, reason: str, message: str) -> None:
        """Record an event about ``obj`` (a stored object or a reference dict)."""
        api = self.api
        m = obj.get("metadata") or {}
        rt = api.registry.by_kind(obj["kind"]) if obj.get("kind") else None
        namespace = m.get("namespace") or "default"
        ref = {"kind": obj.get("kind", ""), "namespace": m.get("namespace", ""),
               "name": m.get("name", ""), "uid": m.get("uid", ""),
               "apiVersion": obj.get("apiVersion", rt.api_version if rt else ""),
               "resourceVersion": m.get("resourceVersion", "")}
        if not ref["namespace"]:
            del ref["namespace"]
        now = api.clock.now()
        stamp = rfc3339(now)
        source = {"component": self.component}
        if self.host:
            source["host"] = self.host
        key = (namespace, ref["uid"] or ref["name"], ref["kind"], type_, reason, message,
               self.component, self.host)
        table = api.table(self._rt)
        with api.store.lock:
            name = self._seen.get(key)
            old = table.objects.get((namespace, name)) if name else None
            if old is not None:
                new = deep_copy(old)
                new["count"] = old.get("count", 1) + 1
                new["lastTimestamp"] = stamp
                try:
                    api.update(self._rt, new, name, namespace, owned=True, copy_out=False,
                               field_validation="Ignore")
                except errors.ApiError:
                    pass
                return
            name = f"{ref['name']}.{int(now * 1e9) + api.next_event_seq():x}"
            ev = {"apiVersion": "v1", "kind": "Event",
                  "metadata": {"name": name, "namespace": namespace},
                  "involvedObject": ref, "reason": reason, "message": message,
                  "source": source, "firstTimestamp": stamp, "lastTimestamp": stamp,
                  "count": 1, "type": type_, "reportingComponent": self.component,
                  "reportingInstance": self.host}
            try:
                api.create(self._rt, ev, namespace, owned=True, copy_out=False,
                           field_validation="Ignore")
            except errors.ApiError:
                return  # e.g. the namespace is going away: events are best effort
            self._seen[key] = name
