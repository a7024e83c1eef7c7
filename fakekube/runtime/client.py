"""The API client controllers use: the API layer's verbs by Kind, without the copies.

Reads return stored objects (read-only by contract). Writes hand the object over
(``owned=True``): a controller builds a fresh dict (or a copy of what it read), passes it
and does not touch it again. Everything still goes through the full pipeline (defaulting,
admission, validation, optimistic concurrency), exactly as for an outside caller.

One simplification, for speed: internal components write without a field manager, so
``managedFields`` records the managers of outside writers (HTTP clients, ``cluster.apply``,
in-process calls that name one), not kube-controller-manager's or the kubelet's entries.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..api.registry import ResourceType
from ..api.server import ApiServer

__all__ = ["Client"]


class Client:
    def __init__(self, api: ApiServer, component: str) -> None:
        self.api = api
        self.component = component

    def rt(self, kind: str) -> ResourceType:
        return self.api.registry.by_kind(kind)

    def get(self, kind: str, name: str, namespace: str = "") -> dict | None:
        """The stored object, or None if there is none."""
        rt = self.rt(kind)
        return self.api.table(rt).objects.get((namespace if rt.namespaced else "", name))

    def create(self, obj: dict, namespace: str | None = None) -> dict:
        rt = self.api.registry.for_object(obj)
        return self.api.create(rt, obj, namespace, owned=True, copy_out=False,
                               field_validation="Ignore")

    def update(self, obj: dict, subresource: str | None = None) -> dict:
        rt = self.api.registry.for_object(obj)
        m = obj["metadata"]
        return self.api.update(rt, obj, m["name"], m.get("namespace"), subresource=subresource,
                               owned=True, copy_out=False, field_validation="Ignore")

    def update_status(self, obj: dict) -> dict:
        return self.update(obj, subresource="status")

    def patch(self, kind: str, name: str, namespace: str | None, patch: Any,
              patch_type: str = "merge", subresource: str | None = None) -> dict:
        return self.api.patch(self.rt(kind), name, patch, namespace, patch_type=patch_type,
                              subresource=subresource, copy_out=False)

    def delete(self, kind: str, name: str, namespace: str | None = None, **options: Any
               ) -> dict | None:
        """Delete; returns None when the object was already gone (NotFound)."""
        try:
            return self.api.delete(self.rt(kind), name, namespace, copy_out=False, **options)
        except errors.NotFound:
            return None
