"""Rollout progress: the Progressing and ReplicaFailure conditions, and when a stuck
Deployment must be looked at again. Pure functions.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/progress.go`` (v1.31):
``syncRolloutStatus``, ``getReplicaFailures`` and ``requeueStuckDeployment``. The progress
deadline is a deadline on the virtual clock: a Deployment that stops making progress is
looked at again when its Progressing condition's ``lastUpdateTime`` plus
``progressDeadlineSeconds`` has passed, and then says ``ProgressDeadlineExceeded``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .sync import calculate_status
from .util import (NEW_RS_AVAILABLE, PROGRESSING, REPLICA_FAILURE, REPLICA_SET_UPDATED, TIMED_OUT,
                   deployment_complete, deployment_progressing, deployment_timed_out,
                   get_condition, has_progress_deadline, new_condition, remove_condition,
                   set_condition)

__all__ = ["rollout_status", "replica_failures", "stuck_requeue"]

ParseTime = Callable[[str | None], float | None]


def _about(d: Mapping[str, Any], new: Mapping[str, Any] | None, what: str) -> str:
    if new is not None:
        return f'ReplicaSet "{new["metadata"]["name"]}" {what}'
    return f'Deployment "{d["metadata"]["name"]}" {what}'


def replica_failures(all_rss: list[dict | None], new: dict | None) -> list[dict]:
    """``getReplicaFailures``: the ReplicaFailure conditions of the new ReplicaSet, else of
    any ReplicaSet, as Deployment conditions."""

    def convert(rs: Mapping[str, Any]) -> list[dict]:
        out = []
        for c in (rs.get("status") or {}).get("conditions") or ():
            if c.get("type") == REPLICA_FAILURE:
                t = c.get("lastTransitionTime")
                out.append({"type": REPLICA_FAILURE, "status": c.get("status"),
                            "lastUpdateTime": t, "lastTransitionTime": t,
                            "reason": c.get("reason", ""), "message": c.get("message", "")})
        return out

    if new is not None:
        found = convert(new)
        if found:
            return found
    found = []
    for rs in all_rss:
        if rs is not None:
            found.extend(convert(rs))
    return found


def rollout_status(d: Mapping[str, Any], all_rss: list[dict | None], new: dict | None,
                   now: float, now_text: str, parse_time: ParseTime) -> dict:
    """The status ``syncRolloutStatus`` writes: :func:`calculate_status` plus Progressing
    (NewReplicaSetAvailable once complete, ReplicaSetUpdated on progress,
    ProgressDeadlineExceeded after the deadline) and ReplicaFailure."""
    status = calculate_status(all_rss, new, d, now_text)
    deadline = has_progress_deadline(d)
    if not deadline:
        remove_condition(status, PROGRESSING)
    current = get_condition(d.get("status"), PROGRESSING)
    complete_before = (status.get("replicas", 0) == status.get("updatedReplicas", 0)
                       and current is not None and current.get("reason") == NEW_RS_AVAILABLE)
    if deadline and not complete_before:
        if deployment_complete(d, status):
            set_condition(status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE,
                                                _about(d, new, "has successfully progressed."),
                                                now_text))
        elif deployment_progressing(d, status):
            cond = new_condition(PROGRESSING, "True", REPLICA_SET_UPDATED,
                                 _about(d, new, "is progressing."), now_text)
            if current is not None:
                if current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(status, PROGRESSING)
            set_condition(status, cond)
        elif deployment_timed_out(d, status, now, parse_time):
            set_condition(status, new_condition(PROGRESSING, "False", TIMED_OUT,
                                                _about(d, new, "has timed out progressing."),
                                                now_text))
    failures = replica_failures(all_rss, new)
    if failures:
        set_condition(status, failures[0])
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def stuck_requeue(d: Mapping[str, Any], status: Mapping[str, Any], now: float,
                  parse_time: ParseTime) -> float | None:
    """``requeueStuckDeployment``: seconds until the progress deadline of a Deployment that
    is not progressing, plus a second as upstream adds; None when there is nothing to wait
    for (see the note on a deadline already past)."""
    current = get_condition(d.get("status"), PROGRESSING)
    if not has_progress_deadline(d) or current is None:
        return None
    if deployment_complete(d, status) or current.get("reason") == TIMED_OUT:
        return None
    since = parse_time(current.get("lastUpdateTime"))
    if since is None:
        return 0.005
    after = since + d["spec"]["progressDeadlineSeconds"] - now
    if after < 1:
        # Upstream re-enqueues rate-limited here and forgets the key after the sync, so it
        # retries every 5 ms for as long as the deployment stays short of available
        # (a completed rollout that lost a pod never times out). Those retries change
        # nothing; the pod and ReplicaSet events that do change something enqueue it.
        return None
    return after + 1
