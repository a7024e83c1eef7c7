"""The pod operations the Service-side property tests draw (imported as ``podops``)."""

from __future__ import annotations

from typing import Callable

POD_OPS = ("create", "delete", "unready", "ready", "relabel")


def pod_op(c, op: str, i: int, make: Callable[[int], dict], namespace: str = "default") -> bool:
    """Apply ``op`` to pod ``web-<i>``: ``create`` (``make(i)``) unless it exists, ``delete``
    if it exists, ``ready``/``unready`` (the kubelet's readiness override, also for a pod
    yet to come), ``relabel`` out of the ``app=nginx`` selector. False for any other op."""
    name = f"web-{i}"
    if op in ("unready", "ready"):
        c.set_pod_ready(name, op == "ready", namespace)
        return True
    if op not in ("create", "delete", "relabel"):
        return False
    exists = ((namespace, name) in c.api.table(c.api.registry.by_kind("Pod")).objects)
    if op == "create" and not exists:
        c.create(make(i))
    elif op == "delete" and exists:
        c.delete("Pod", name, namespace)
    elif op == "relabel" and exists:
        c.patch("Pod", name, {"metadata": {"labels": {"app": "other"}}}, namespace)
    return True
