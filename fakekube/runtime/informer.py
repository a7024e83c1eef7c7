"""Shared informers: read-only views of the store for controllers, with event handlers.

client-go gives each controller a cache fed by a watch; in fakekube the store's own tables
are that cache, updated in the same step as the write, so an informer is a thin view over
one table with its indexes (namespace, labels, owner UID, and the indexed fields such as a
Pod's ``spec.nodeName``). Handlers run synchronously inside the write and must only queue
keys, never write.

Objects an informer returns are the stored ones: never change them (copy first, as upstream
controllers ``DeepCopy()`` what they take from a lister).
"""

from __future__ import annotations

from typing import Callable, Iterator

from ..api.registry import ResourceType
from ..api.store import ADDED, DELETED, Table, WatchEvent

__all__ = ["Informer"]

Handler = Callable[[dict | None, dict | None], None]  # (old, new): add (None, new), delete (old, None)


class Informer:
    def __init__(self, rt: ResourceType, table: Table) -> None:
        self.rt = rt
        self.table = table

    def add_handler(self, handler: Handler) -> None:
        """Call ``handler(old, new)`` for every change: ``old`` is None for an add, ``new``
        is None for a delete."""

        def on_event(ev: WatchEvent) -> None:
            if ev.type == ADDED:
                handler(None, ev.obj)
            elif ev.type == DELETED:
                handler(ev.old, None)
            else:
                handler(ev.old, ev.obj)

        self.table.handlers.append(on_event)

    def get(self, name: str, namespace: str = "") -> dict | None:
        return self.table.objects.get((namespace if self.rt.namespaced else "", name))

    def list(self, namespace: str | None = None) -> Iterator[dict]:
        objs = self.table.objects
        if not objs:
            # Handlers ask on every pod event for the ReplicaSets, StatefulSets, PDBs... of
            # a namespace, which are often none at all: no walk over the sorted keys then.
            return iter(())
        return (objs[k] for k in self.table.iter_keys(namespace))

    def __iter__(self) -> Iterator[dict]:
        return iter(self.table.objects.values())

    def __len__(self) -> int:
        return len(self.table.objects)

    def by_label(self, key: str, value: str, namespace: str | None = None) -> list[dict]:
        keys = self.table.keys_with_label(key, (value,))
        return self._resolve(keys, namespace)

    def by_owner(self, uid: str, namespace: str | None = None) -> list[dict]:
        return self._resolve(self.table.keys_owned_by(uid), namespace)

    def by_field(self, field: str, value: str, namespace: str | None = None) -> list[dict]:
        return self._resolve(self.table.keys_with_field(field, value), namespace)

    def _resolve(self, keys: set, namespace: str | None) -> list[dict]:
        objs = self.table.objects
        if namespace is not None:
            keys = {k for k in keys if k[0] == namespace}
        return [objs[k] for k in sorted(keys)]
