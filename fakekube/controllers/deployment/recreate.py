"""The Recreate strategy as pure plans: all old pods go before any new pod is created.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/recreate.go`` (v1.31):
``scaleDownOldReplicaSetsForRecreate``, ``oldPodsRunning`` and
``scaleUpNewReplicaSetForRecreate``. The new ReplicaSet is created only once no old pod is
left in a non-terminal phase, terminating pods included: unlike a ReplicaSet, Recreate
waits for the old pods to be gone.
"""

from __future__ import annotations

from typing import Any, Mapping

from .util import Scale, actual_replicas, replicas, scale_operation

__all__ = ["scale_down_old_rss", "old_pods_running", "scale_up_new_rs"]


def scale_down_old_rss(active_olds: list[dict]) -> list[Scale]:
    """``scaleDownOldReplicaSetsForRecreate``: every active old ReplicaSet to 0."""
    return [Scale(rs, 0, "down") for rs in active_olds if replicas(rs) != 0]


def old_pods_running(new: Mapping[str, Any] | None, olds: list[dict],
                     pods_by_rs: Mapping[str, list[dict]]) -> bool:
    """``oldPodsRunning``: an old ReplicaSet still reports pods, or a pod of one (any pod
    not Succeeded or Failed, terminating or not) still exists."""
    if actual_replicas(olds) > 0:
        return True
    new_uid = new["metadata"]["uid"] if new is not None else None
    for uid, pods in pods_by_rs.items():
        if uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False


def scale_up_new_rs(new: dict, d: Mapping[str, Any]) -> Scale | None:
    """``scaleUpNewReplicaSetForRecreate``: the new ReplicaSet to ``spec.replicas``."""
    target = replicas(d)
    if replicas(new) == target:
        return None
    return Scale(new, target, scale_operation(new, target))
