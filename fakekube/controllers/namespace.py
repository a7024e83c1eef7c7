"""The namespace controller: a namespace being deleted empties, then goes.

Follows kubernetes/kubernetes ``pkg/controller/namespace/deletion/namespaced_resources_deleter.go``:
when a namespace has a deletionTimestamp (phase Terminating), every namespaced object in it is
deleted (pods gracefully, objects with finalizers wait for them); while content remains the
namespace carries the conditions ``NamespaceContentRemaining`` and
``NamespaceFinalizersRemaining``; once it is empty the ``kubernetes`` finalizer is removed from
``spec.finalizers`` (the ``finalize`` subresource) and the namespace disappears.
"""

from __future__ import annotations

from ..api.objects import deep_copy
from ..api.store import DELETED, WatchEvent
from ..runtime import Controller, Result

TERMINATING = "Terminating"


class NamespaceController(Controller):
    name = "namespace-controller"

    def setup(self) -> None:
        api = self.api
        self._ns_rt = api.registry.by_kind("Namespace")
        self._namespaced = [rt for rt in api.registry.kinds if rt.namespaced]
        api.table(self._ns_rt).handlers.append(self._on_namespace)
        for rt in self._namespaced:
            api.table(rt).handlers.append(self._on_content)

    def _on_namespace(self, ev: WatchEvent) -> None:
        if ev.type != DELETED and ev.obj["metadata"].get("deletionTimestamp"):
            self.queue.add(ev.obj["metadata"]["name"])

    def _on_content(self, ev: WatchEvent) -> None:
        ns = ev.obj["metadata"].get("namespace", "")
        nso = self.api.namespace_object(ns)
        if nso is not None and nso["metadata"].get("deletionTimestamp"):
            self.queue.add(ns)

    def reconcile(self, key: str) -> Result | None:
        api = self.api
        ns = api.namespace_object(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for rt in self._namespaced:
            table = api.table(rt)
            keys = list(table.iter_keys(key))
            if not keys:
                continue
            for k in keys:
                obj = table.objects[k]
                m = obj["metadata"]
                if not m.get("deletionTimestamp"):
                    self.client.delete(rt.kind, m["name"], key)
                    obj = table.objects.get(k)
                    if obj is None:
                        continue
                    m = obj["metadata"]
                remaining[rt.group_resource] = remaining.get(rt.group_resource, 0) + 1
                for f in m.get("finalizers") or ():
                    finalizers[f] = finalizers.get(f, 0) + 1
        if remaining:
            self._set_conditions(ns, remaining, finalizers)
            return None
        if "kubernetes" in ((ns.get("spec") or {}).get("finalizers") or ()):
            fins = [f for f in ns["spec"]["finalizers"] if f != "kubernetes"]
            api.finalize_namespace(key, {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": key},
                                         "spec": {"finalizers": fins}})
        return None

    def _set_conditions(self, ns: dict, remaining: dict[str, int],
                        finalizers: dict[str, int]) -> None:
        now = self.api.now()
        conds = []
        if remaining:
            text = ", ".join(f"{gr} has {n} resource instances"
                             for gr, n in sorted(remaining.items()))
            conds.append(("NamespaceContentRemaining", "SomeResourcesRemain",
                          f"Some resources are remaining: {text}"))
        if finalizers:
            text = ", ".join(f"{f} in {n} resource instances"
                             for f, n in sorted(finalizers.items()))
            conds.append(("NamespaceFinalizersRemaining", "SomeFinalizersRemain",
                          f"Some content in the namespace has finalizers remaining: {text}"))
        ns = deep_copy(ns)  # never change what the store holds
        status = ns.setdefault("status", {})
        old = {c["type"]: c for c in status.get("conditions") or ()}
        new_conds = []
        for type_, reason, message in conds:
            prev = old.get(type_)
            if prev and prev.get("reason") == reason and prev.get("message") == message:
                new_conds.append(prev)
            else:
                new_conds.append({"type": type_, "status": "True", "lastTransitionTime": now,
                                  "reason": reason, "message": message})
        if new_conds == status.get("conditions"):
            return
        status["conditions"] = new_conds
        self.client.update_status(ns)
