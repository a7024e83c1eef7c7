"""The RollingUpdate strategy as pure plans: which ReplicaSet to scale to what, one step of
a rollout at a time.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/rolling.go`` (v1.31):
``reconcileNewReplicaSet``, ``reconcileOldReplicaSets``, ``cleanupUnhealthyReplicas`` and
``scaleDownOldReplicaSetsForRollingUpdate``. A sync either scales the new ReplicaSet up, or
scales old ReplicaSets down, never both:

- up, while all ReplicaSets together stay within ``replicas + maxSurge`` pods;
- down, while ``replicas - maxUnavailable`` pods stay available: first the old pods that
  are not available anyway (oldest ReplicaSet first), then available ones as far as the
  new ReplicaSet's available pods make room.
"""

from __future__ import annotations

from typing import Any, Mapping

from .util import (Scale, available_replicas, by_creation, max_unavailable, new_rs_new_replicas,
                   replicas, scale_operation, total_replicas)

__all__ = ["reconcile_new_rs", "reconcile_old_rss", "OldPlan"]


def reconcile_new_rs(d: Mapping[str, Any], all_rss: list[dict | None], new: dict
                     ) -> Scale | None:
    """``reconcileNewReplicaSet``: the step that scales the new ReplicaSet, if any."""
    want, have = replicas(d), replicas(new)
    if have == want:
        return None
    if have > want:
        return Scale(new, want, "down")
    target = new_rs_new_replicas(d, all_rss, new)
    if target == have:
        return None
    return Scale(new, target, scale_operation(new, target))


class OldPlan:
    """The steps of ``reconcileOldReplicaSets``. ``scaled_down`` is how many replicas they
    remove; ``broken`` says the plan stopped where upstream returns an error (an old
    ReplicaSet with more available pods than replicas): the steps before it still happen,
    but the sync reports no scale-down."""

    __slots__ = ("steps", "scaled_down", "broken")

    def __init__(self) -> None:
        self.steps: list[Scale] = []
        self.scaled_down = 0
        self.broken = False


def reconcile_old_rss(d: Mapping[str, Any], all_rss: list[dict | None], olds: list[dict],
                      new: dict) -> OldPlan:
    """``reconcileOldReplicaSets`` over the active old ReplicaSets ``olds``."""
    plan = OldPlan()
    if total_replicas(olds) == 0:
        return plan
    min_avail = replicas(d) - max_unavailable(d)
    new_unavailable = replicas(new) - (new.get("status") or {}).get("availableReplicas", 0)
    max_scaled_down = total_replicas(all_rss) - min_avail - new_unavailable
    if max_scaled_down <= 0:
        return plan
    sizes = {rs["metadata"]["uid"]: replicas(rs) for rs in olds}
    ordered = sorted(olds, key=by_creation)
    # cleanupUnhealthyReplicas: old pods that are not available go first.
    cleaned = 0
    for rs in ordered:
        if cleaned >= max_scaled_down:
            break
        uid = rs["metadata"]["uid"]
        have = sizes[uid]
        available = (rs.get("status") or {}).get("availableReplicas", 0)
        if have == 0 or have == available:
            continue
        count = min(max_scaled_down - cleaned, have - available)
        if count < 0:
            plan.broken = True  # "got invalid request to scale down ..."
            return plan
        sizes[uid] = have - count
        plan.steps.append(Scale(rs, have - count, "down"))
        cleaned += count
    # scaleDownOldReplicaSetsForRollingUpdate: then as many available ones as allowed.
    scaled = 0
    available_now = available_replicas(list(olds) + [new])
    if available_now > min_avail:
        budget = available_now - min_avail
        for rs in ordered:
            if scaled >= budget:
                break
            uid = rs["metadata"]["uid"]
            have = sizes[uid]
            if have == 0:
                continue
            count = min(have, budget - scaled)
            sizes[uid] = have - count
            plan.steps.append(Scale(rs, have - count, "down"))
            scaled += count
    plan.scaled_down = cleaned + scaled
    return plan
