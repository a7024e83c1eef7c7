"""Pure helpers of the Deployment controller: annotations, revisions, fenceposts, conditions,
ReplicaSet arithmetic and the pod-template hash.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/util/deployment_util.go`` (v1.31),
``kubernetes/kubernetes:pkg/controller/controller_utils.go`` (``ComputeHash``,
``FilterActiveReplicaSets``, the ReplicaSet orderings) and
``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go``
(``GetScaledValueFromIntOrPercent``). Everything here works on wire-format dicts and never
writes: the controller shell does the writes.

A ReplicaSet argument may be None wherever upstream passes a nil ``newRS``.
"""

from __future__ import annotations

import json
import math
import re
import struct
from typing import Any, Iterable, Mapping

from ...api.kinds.apps import semantic_equal
from ...api.objects import parse_rfc3339

__all__ = [
    "HASH_LABEL", "REVISION", "REVISION_HISTORY", "DESIRED_REPLICAS", "MAX_REPLICAS",
    "ROLLBACK_TO", "MAX_REV_HISTORY_CHARS", "MAX_INT32",
    "PROGRESSING", "AVAILABLE", "REPLICA_FAILURE",
    "REPLICA_SET_UPDATED", "FAILED_RS_CREATE", "NEW_REPLICA_SET", "FOUND_NEW_RS",
    "NEW_RS_AVAILABLE", "TIMED_OUT", "PAUSED", "RESUMED", "MINIMUM_REPLICAS_AVAILABLE",
    "MINIMUM_REPLICAS_UNAVAILABLE", "ROLLBACK_REVISION_NOT_FOUND", "ROLLBACK_TEMPLATE_UNCHANGED",
    "ROLLBACK_DONE",
    "compute_hash", "safe_encode", "fnv32a", "replicas", "scaled_value", "resolve_fenceposts",
    "is_rolling_update", "max_surge", "max_unavailable", "min_available", "revision",
    "max_revision", "last_revision", "equal_ignore_hash", "by_creation", "find_new_rs",
    "find_old_rss", "filter_active", "find_active_or_latest", "total_replicas",
    "actual_replicas", "ready_replicas", "available_replicas", "new_rs_new_replicas",
    "is_saturated", "desired_replicas_annotation", "replicas_annotations_need_update",
    "set_replicas_annotations", "get_proportion", "round_half_away", "has_progress_deadline",
    "has_revision_history_limit", "get_condition", "new_condition", "set_condition",
    "remove_condition", "deployment_complete", "deployment_progressing",
    "deployment_timed_out", "skip_copy_annotation", "Scale", "scale_operation",
    "controller_ref", "timestamp",
]

HASH_LABEL = "pod-template-hash"                                  # DefaultDeploymentUniqueLabelKey
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"                 # apps.DeprecatedRollbackTo
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_REV_HISTORY_CHARS = 2000                                      # maxRevHistoryLengthInChars
MAX_INT32 = 2 ** 31 - 1

# Condition types and reasons.
PROGRESSING, AVAILABLE, REPLICA_FAILURE = "Progressing", "Available", "ReplicaFailure"
REPLICA_SET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_REPLICA_SET = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"
# Rollback event reasons.
ROLLBACK_REVISION_NOT_FOUND = "DeploymentRollbackRevisionNotFound"
ROLLBACK_TEMPLATE_UNCHANGED = "DeploymentRollbackTemplateUnchanged"
ROLLBACK_DONE = "DeploymentRollback"

_SKIP_ANNOTATIONS = frozenset((LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS,
                               MAX_REPLICAS, ROLLBACK_TO))
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
_INT = re.compile(r"[+-]?[0-9]+")


# --------------------------------------------------------------------------------------------
# The pod-template hash


def fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    """FNV-1a, 32 bits (Go's ``hash/fnv.New32a``)."""
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: each byte mapped into an alphabet with no vowels (no bad
    words) and no look-alike characters."""
    return "".join(_ALPHANUMS[b % len(_ALPHANUMS)] for b in text.encode())


def compute_hash(template: Mapping[str, Any], collision_count: int | None) -> str:
    """``controller.ComputeHash``: FNV-32a over the pod template, then over the collision
    count (8 bytes, little-endian uint32) if there is one, as the decimal number rendered
    with :func:`safe_encode` (up to 10 characters).

    Upstream feeds the hasher a ``spew`` dump of the Go struct; fakekube feeds it the
    template's canonical JSON. Identical templates give identical hashes, different
    templates (almost surely) different ones; the values differ from a real cluster's.

    >>> compute_hash({"spec": {"containers": [{"name": "a"}]}}, None) == compute_hash(
    ...     {"spec": {"containers": [{"name": "a"}]}}, None)
    True
    """
    h = fnv32a(json.dumps(template, sort_keys=True, separators=(",", ":")).encode())
    if collision_count is not None:
        h = fnv32a(struct.pack("<II", collision_count & 0xFFFFFFFF, 0), h)
    return safe_encode(str(h))


# --------------------------------------------------------------------------------------------
# Metadata


def controller_ref(obj: Mapping[str, Any]) -> dict | None:
    """``metav1.GetControllerOf``: the ownerReference with ``controller: true``."""
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


_TS_CACHE: dict[str, float] = {}


def timestamp(text: str | None) -> float | None:
    """Seconds since the epoch of a stored RFC 3339 timestamp; None (Go's zero time) for a
    missing one. Memoized."""
    if not text:
        return None
    got = _TS_CACHE.get(text)
    if got is None:
        if len(_TS_CACHE) > 10_000:
            _TS_CACHE.clear()
        got = _TS_CACHE[text] = parse_rfc3339(text)
    return got


# --------------------------------------------------------------------------------------------
# Numbers


def replicas(obj: Mapping[str, Any] | None) -> int:
    """``*spec.replicas`` (0 for a missing object)."""
    if obj is None:
        return 0
    v = obj["spec"].get("replicas")
    return 1 if v is None else v


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: an int, or a percentage of ``total``
    rounded up or down. A non-percent string is an error upstream; validation keeps those
    out, so it counts as 0 here."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = int(value[:-1])
        except ValueError:
            return 0
        v = pct * total / 100
        return math.ceil(v) if round_up else math.floor(v)
    return 0


def resolve_fenceposts(surge: Any, unavailable: Any, desired: int) -> tuple[int, int]:
    """``ResolveFenceposts``: maxSurge rounded up and maxUnavailable rounded down; if both
    come out 0, maxUnavailable is 1 (surge might not be possible because of quota)."""
    s = scaled_value(0 if surge is None else surge, desired, True)
    u = scaled_value(0 if unavailable is None else unavailable, desired, False)
    if s == 0 and u == 0:
        u = 1
    return s, u


def is_rolling_update(d: Mapping[str, Any]) -> bool:
    return ((d["spec"].get("strategy") or {}).get("type")) == "RollingUpdate"


def _rolling(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(d: Mapping[str, Any]) -> int:
    """``MaxSurge``: the pods a rolling Deployment may run above ``spec.replicas``."""
    if not is_rolling_update(d):
        return 0
    ru = _rolling(d)
    return resolve_fenceposts(ru.get("maxSurge"), ru.get("maxUnavailable"), replicas(d))[0]


def max_unavailable(d: Mapping[str, Any]) -> int:
    """``MaxUnavailable``: the pods a rolling Deployment may have unavailable (0 for
    Recreate or no replicas), never more than ``spec.replicas``."""
    n = replicas(d)
    if not is_rolling_update(d) or n == 0:
        return 0
    ru = _rolling(d)
    u = resolve_fenceposts(ru.get("maxSurge"), ru.get("maxUnavailable"), n)[1]
    return min(u, n)


def min_available(d: Mapping[str, Any]) -> int:
    """``MinAvailable``."""
    if not is_rolling_update(d):
        return 0
    return replicas(d) - max_unavailable(d)


def round_half_away(x: float) -> int:
    """Go's ``math.Round``: halves away from zero."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


# --------------------------------------------------------------------------------------------
# Revisions and annotations


def revision(rs: Mapping[str, Any]) -> int:
    """``Revision``: the revision annotation, 0 if absent; ValueError if not an integer."""
    v = (rs["metadata"].get("annotations") or {}).get(REVISION)
    if v is None:
        return 0
    return _parse_int64(v)


def _parse_int64(text: str) -> int:
    """``strconv.ParseInt(text, 10, 64)``."""
    if not _INT.fullmatch(text):
        raise ValueError(f"invalid syntax: {text!r}")
    v = int(text)
    if not -2 ** 63 <= v < 2 ** 63:
        raise ValueError(f"value out of range: {text!r}")
    return v


def max_revision(rss: Iterable[Mapping[str, Any] | None]) -> int:
    """``MaxRevision``: the highest parseable revision, 0 if none."""
    best = 0
    for rs in rss:
        if rs is None:
            continue
        try:
            v = revision(rs)
        except ValueError:
            continue
        best = max(best, v)
    return best


def last_revision(rss: Iterable[Mapping[str, Any] | None]) -> int:
    """``LastRevision``: the second highest revision (the one before the current)."""
    top = second = 0
    for rs in rss:
        if rs is None:
            continue
        try:
            v = revision(rs)
        except ValueError:
            continue
        if v >= top:
            second, top = top, v
        elif v > second:
            second = v
    return second


def skip_copy_annotation(key: str) -> bool:
    """Annotations a Deployment does not pass on to its ReplicaSets."""
    return key in _SKIP_ANNOTATIONS


def desired_replicas_annotation(rs: Mapping[str, Any]) -> int | None:
    """``GetDesiredReplicasAnnotation``: None when absent or not an int32."""
    text = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
    if text is None:
        return None
    try:
        v = int(text, 10)
    except ValueError:
        return None
    return v if -2 ** 31 <= v < 2 ** 31 else None


def _max_replicas_annotation(rs: Mapping[str, Any]) -> int | None:
    text = (rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS)
    if text is None:
        return None
    try:
        return int(text, 10)
    except ValueError:
        return None


def replicas_annotations_need_update(rs: Mapping[str, Any], desired: int, maximum: int) -> bool:
    """``ReplicasAnnotationsNeedUpdate``."""
    ann = rs["metadata"].get("annotations")
    if ann is None:
        return True
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(maximum)


def set_replicas_annotations(rs: dict, desired: int, maximum: int) -> bool:
    """``SetReplicasAnnotations`` on a private copy; True if anything changed."""
    ann = rs["metadata"].setdefault("annotations", {})
    updated = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(maximum))):
        if ann.get(key) != value:
            ann[key] = value
            updated = True
    return updated


# --------------------------------------------------------------------------------------------
# Finding ReplicaSets


def by_creation(rs: Mapping[str, Any]) -> tuple[str, str]:
    """``ReplicaSetsByCreationTimestamp``: oldest first, names break ties. (Stored
    timestamps share one format, so they compare as strings; an object not created yet has
    none, Go's zero time, and comes first.)"""
    m = rs["metadata"]
    return (m.get("creationTimestamp") or "", m["name"])


def _without_hash(template: Mapping[str, Any]) -> dict:
    t = dict(template)
    meta = dict(t.get("metadata") or {})
    labels = meta.get("labels")
    if labels and HASH_LABEL in labels:
        meta["labels"] = {k: v for k, v in labels.items() if k != HASH_LABEL}
    t["metadata"] = meta
    return t


def equal_ignore_hash(t1: Mapping[str, Any], t2: Mapping[str, Any]) -> bool:
    """``EqualIgnoreHash``: the templates are semantically equal once the pod-template-hash
    label is ignored."""
    return semantic_equal(_without_hash(t1), _without_hash(t2))


def find_new_rs(d: Mapping[str, Any], rs_list: Iterable[Mapping[str, Any]]) -> dict | None:
    """``FindNewReplicaSet``: the oldest ReplicaSet whose template equals the Deployment's."""
    template = d["spec"].get("template") or {}
    for rs in sorted(rs_list, key=by_creation):
        if equal_ignore_hash(rs["spec"].get("template") or {}, template):
            return rs  # type: ignore[return-value]
    return None


def find_old_rss(d: Mapping[str, Any], rs_list: list[dict]) -> tuple[list[dict], list[dict]]:
    """``FindOldReplicaSets``: (old ReplicaSets with replicas, all old ReplicaSets)."""
    new = find_new_rs(d, rs_list)
    required, every = [], []
    for rs in rs_list:
        if new is not None and rs["metadata"]["uid"] == new["metadata"]["uid"]:
            continue
        every.append(rs)
        if replicas(rs) != 0:
            required.append(rs)
    return required, every


def filter_active(rss: Iterable[Mapping[str, Any] | None]) -> list[dict]:
    """``FilterActiveReplicaSets``: ReplicaSets with ``spec.replicas`` above 0."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]  # type: ignore[misc]


def find_active_or_latest(new: dict | None, olds: list[dict]) -> dict | None:
    """``FindActiveOrLatest``: the only active ReplicaSet, or the newest if none is active;
    None if several are active (they are then scaled proportionally)."""
    if new is None and not olds:
        return None
    newest_first = sorted(olds, key=by_creation, reverse=True)
    active = filter_active(newest_first + [new])
    if not active:
        return new if new is not None else newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


def total_replicas(rss: Iterable[Mapping[str, Any] | None]) -> int:
    """``GetReplicaCountForReplicaSets``: the sum of ``spec.replicas``."""
    return sum(replicas(rs) for rs in rss if rs is not None)


def _status_sum(rss: Iterable[Mapping[str, Any] | None], field: str) -> int:
    return sum((rs.get("status") or {}).get(field, 0) for rs in rss if rs is not None)


def actual_replicas(rss: Iterable[Mapping[str, Any] | None]) -> int:
    """``GetActualReplicaCountForReplicaSets``: the sum of ``status.replicas``."""
    return _status_sum(rss, "replicas")


def ready_replicas(rss: Iterable[Mapping[str, Any] | None]) -> int:
    return _status_sum(rss, "readyReplicas")


def available_replicas(rss: Iterable[Mapping[str, Any] | None]) -> int:
    return _status_sum(rss, "availableReplicas")


# --------------------------------------------------------------------------------------------
# Sizes


def new_rs_new_replicas(d: Mapping[str, Any], all_rss: Iterable[Mapping[str, Any] | None],
                        new: Mapping[str, Any]) -> int:
    """``NewRSNewReplicas``: how big the new ReplicaSet may be now. RollingUpdate grows it
    up to ``replicas + maxSurge`` pods in all, never beyond ``replicas``; Recreate makes it
    ``replicas`` at once."""
    if is_rolling_update(d):
        surge = scaled_value(_rolling(d).get("maxSurge"), replicas(d), True)
        current = total_replicas(all_rss)
        max_total = replicas(d) + surge
        if current >= max_total:
            return replicas(new)
        return replicas(new) + min(max_total - current, replicas(d) - replicas(new))
    return replicas(d)


def is_saturated(d: Mapping[str, Any], rs: Mapping[str, Any] | None) -> bool:
    """``IsSaturated``: the new ReplicaSet has all the Deployment's replicas, knows it (its
    desired-replicas annotation), and all of them are available."""
    if rs is None:
        return False
    text = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
    try:
        desired = int(text) if text is not None else None
    except ValueError:
        desired = None
    n = replicas(d)
    return (desired is not None and replicas(rs) == n and desired == n
            and (rs.get("status") or {}).get("availableReplicas", 0) == n)


def get_proportion(rs: Mapping[str, Any] | None, d: Mapping[str, Any], to_add: int,
                   added: int) -> int:
    """``GetProportion``: this ReplicaSet's share of ``to_add`` replicas (negative: to
    remove) in a proportional scaling, ``added`` having been handed out already."""
    if rs is None or replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _rs_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _rs_fraction(rs: Mapping[str, Any], d: Mapping[str, Any]) -> int:
    """``getReplicaSetFraction``."""
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_max = replicas(d) + max_surge(d)
    before = _max_replicas_annotation(rs)
    if not before:
        # No (usable) annotation: fall back to the current size of the Deployment.
        before = (d.get("status") or {}).get("replicas", 0)
        if before == 0:
            return 0
    return round_half_away(replicas(rs) * deployment_max / before) - replicas(rs)


def has_progress_deadline(d: Mapping[str, Any]) -> bool:
    pds = d["spec"].get("progressDeadlineSeconds")
    return pds is not None and pds != MAX_INT32


def has_revision_history_limit(d: Mapping[str, Any]) -> bool:
    limit = d["spec"].get("revisionHistoryLimit")
    return limit is not None and limit != MAX_INT32


# --------------------------------------------------------------------------------------------
# Conditions (on a private status dict)


def get_condition(status: Mapping[str, Any] | None, ctype: str) -> dict | None:
    for c in (status or {}).get("conditions") or ():
        if c.get("type") == ctype:
            return c
    return None


def new_condition(ctype: str, status: str, reason: str, message: str, now: str) -> dict:
    """``NewDeploymentCondition``: both times now."""
    return {"type": ctype, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


def set_condition(status: dict, cond: dict) -> None:
    """``SetDeploymentCondition``: nothing changes if a condition of that type has the same
    status and reason; a same-status condition keeps its lastTransitionTime; the new one
    goes last."""
    current = get_condition(status, cond["type"])
    if current is not None and current.get("status") == cond["status"] and current.get(
            "reason") == cond["reason"]:
        return
    if current is not None and current.get("status") == cond["status"]:
        cond = dict(cond, lastTransitionTime=current.get("lastTransitionTime"))
    conds = [c for c in status.get("conditions") or () if c.get("type") != cond["type"]]
    conds.append(cond)
    status["conditions"] = conds


def remove_condition(status: dict, ctype: str) -> None:
    conds = [c for c in status.get("conditions") or () if c.get("type") != ctype]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def deployment_complete(d: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """``DeploymentComplete``: every desired replica updated and available, nothing else
    running, and the latest generation observed."""
    n = replicas(d)
    return (status.get("updatedReplicas", 0) == n and status.get("replicas", 0) == n
            and status.get("availableReplicas", 0) == n
            and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0))


def deployment_progressing(d: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """``DeploymentProgressing``: more updated, ready or available pods than before, or
    fewer old pods."""
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def deployment_timed_out(d: Mapping[str, Any], new: Mapping[str, Any], now: float,
                         parse_time: Any) -> bool:
    """``DeploymentTimedOut``: the Progressing condition was last updated more than
    ``progressDeadlineSeconds`` ago (or already says ProgressDeadlineExceeded)."""
    if not has_progress_deadline(d):
        return False
    cond = get_condition(new, PROGRESSING)
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    since = parse_time(cond.get("lastUpdateTime"))
    if since is None:
        return True  # Go's zero time is long past
    return since + d["spec"]["progressDeadlineSeconds"] < now


# --------------------------------------------------------------------------------------------
# Plans


class Scale:
    """One step of a plan: scale ``rs`` to ``replicas``.

    ``operation`` ("up", "down", or "" when a proportional scaling adds nothing) goes into
    the ScalingReplicaSet event. A step with ``always`` set also refreshes the
    desired/max-replicas annotations when the size is right already (upstream's
    ``scaleReplicaSet``); otherwise a step at the current size does nothing
    (``scaleReplicaSetAndRecordEvent``).
    """

    __slots__ = ("rs", "replicas", "operation", "always")

    def __init__(self, rs: dict, replicas: int, operation: str, always: bool = False) -> None:
        self.rs = rs
        self.replicas = replicas
        self.operation = operation
        self.always = always

    def __repr__(self) -> str:
        return (f"Scale({self.rs['metadata']['name']} -> {self.replicas}"
                f"{', ' + self.operation if self.operation else ''}"
                f"{', always' if self.always else ''})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scale):
            return NotImplemented
        return (self.rs["metadata"]["name"], self.replicas, self.operation, self.always) == (
            other.rs["metadata"]["name"], other.replicas, other.operation, other.always)

    __hash__ = None  # type: ignore[assignment]


def scale_operation(rs: Mapping[str, Any], target: int) -> str:
    return "up" if replicas(rs) < target else "down"
