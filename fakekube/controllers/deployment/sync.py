"""Pure parts of the Deployment sync: the new ReplicaSet's body, scaling events and
proportional scaling, and the Deployment status.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/sync.go`` (v1.31):
``getNewReplicaSet`` (the body of a new ReplicaSet), ``isScalingEvent``, ``scale`` (a
Deployment resized mid-rollout or while paused spreads the change over its active
ReplicaSets in proportion to their sizes, the leftover going to the largest) and
``calculateStatus``.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...api.objects import deep_copy
from .util import (AVAILABLE, HASH_LABEL, MINIMUM_REPLICAS_AVAILABLE,
                   MINIMUM_REPLICAS_UNAVAILABLE, Scale, actual_replicas, available_replicas,
                   by_creation, desired_replicas_annotation, filter_active,
                   find_active_or_latest, get_proportion, is_rolling_update, is_saturated,
                   max_surge, max_unavailable, new_condition, ready_replicas, replicas,
                   scale_operation, set_condition, total_replicas)

__all__ = ["new_replica_set", "is_scaling_event", "plan_scale", "calculate_status"]


def new_replica_set(d: Mapping[str, Any], pod_template_hash: str) -> dict:
    """The body of the new ReplicaSet ``<deployment>-<hash>``: the Deployment's template and
    selector with the ``pod-template-hash`` label added, owned by the Deployment, with 0
    replicas (the caller sizes it and sets its annotations)."""
    m = d["metadata"]
    spec = d["spec"]
    template = deep_copy(spec.get("template") or {})
    tmeta = template.setdefault("metadata", {})
    labels = dict(tmeta.get("labels") or {})
    labels[HASH_LABEL] = pod_template_hash
    tmeta["labels"] = labels
    selector = deep_copy(spec.get("selector") or {})
    match_labels = dict(selector.get("matchLabels") or {})
    match_labels[HASH_LABEL] = pod_template_hash
    selector["matchLabels"] = match_labels
    rs_spec: dict[str, Any] = {"replicas": 0, "selector": selector, "template": template}
    if spec.get("minReadySeconds"):
        rs_spec["minReadySeconds"] = spec["minReadySeconds"]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{m['name']}-{pod_template_hash}", "namespace": m["namespace"],
                         "labels": dict(labels),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": m["name"], "uid": m["uid"],
                                              "controller": True, "blockOwnerDeletion": True}]},
            "spec": rs_spec}


def is_scaling_event(d: Mapping[str, Any], new: dict | None, olds: list[dict]) -> bool:
    """``isScalingEvent``: an active ReplicaSet was sized for another ``spec.replicas`` (its
    desired-replicas annotation differs): the Deployment was resized, not changed."""
    for rs in filter_active(olds + [new]):
        desired = desired_replicas_annotation(rs)
        if desired is not None and desired != replicas(d):
            return True
    return False


def plan_scale(d: Mapping[str, Any], new: dict | None, olds: list[dict]) -> list[Scale]:
    """``scale``: the steps that bring the ReplicaSets to the Deployment's size."""
    target = find_active_or_latest(new, olds)
    n = replicas(d)
    if target is not None:
        if replicas(target) == n:
            return []
        return [Scale(target, n, scale_operation(target, n))]
    if is_saturated(d, new):
        return [Scale(rs, 0, "down") for rs in filter_active(olds)]
    if not is_rolling_update(d):
        return []
    active = filter_active(olds + [new])
    allowed = n + max_surge(d) if n > 0 else 0
    to_add = allowed - total_replicas(active)
    if to_add > 0:
        # Largest first; among equals, newer first when scaling up.
        active.sort(key=by_creation, reverse=True)
        active.sort(key=replicas, reverse=True)
        operation = "up"
    elif to_add < 0:
        # Largest first; among equals, older first when scaling down.
        active.sort(key=by_creation)
        active.sort(key=replicas, reverse=True)
        operation = "down"
    else:
        operation = ""
    sizes: list[int] = []
    added = 0
    for rs in active:
        if to_add != 0:
            share = get_proportion(rs, d, to_add, added)
            sizes.append(replicas(rs) + share)
            added += share
        else:
            sizes.append(replicas(rs))
    steps = []
    for i, rs in enumerate(active):
        size = sizes[i]
        if i == 0 and to_add != 0:
            size = max(0, size + to_add - added)  # the leftover goes to the largest
        steps.append(Scale(rs, size, operation, always=True))
    return steps


def calculate_status(all_rss: list[dict | None], new: dict | None, d: Mapping[str, Any],
                     now: str) -> dict:
    """``calculateStatus``: counts over the ReplicaSets, the Deployment's conditions, and
    the Available condition (``replicas - maxUnavailable`` pods available). Zero counts are
    left out, as ``omitempty`` leaves them out."""
    old = d.get("status") or {}
    available = available_replicas(all_rss)
    unavailable = max(0, total_replicas(all_rss) - available)
    status: dict[str, Any] = {}
    for key, value in (("observedGeneration", d["metadata"].get("generation", 0)),
                       ("replicas", actual_replicas(all_rss)),
                       ("updatedReplicas", actual_replicas([new])),
                       ("readyReplicas", ready_replicas(all_rss)),
                       ("availableReplicas", available),
                       ("unavailableReplicas", unavailable)):
        if value:
            status[key] = value
    if old.get("conditions"):
        status["conditions"] = list(old["conditions"])
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if available >= replicas(d) - max_unavailable(d):
        cond = new_condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE,
                             "Deployment has minimum availability.", now)
    else:
        cond = new_condition(AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE,
                             "Deployment does not have minimum availability.", now)
    set_condition(status, cond)
    return status
