"""Revision history of a Deployment: revision annotations, rollback, and the cleanup of old
ReplicaSets beyond ``revisionHistoryLimit``. Pure functions over private copies.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/util/deployment_util.go``
(``SetNewReplicaSetAnnotations``, ``copyDeploymentAnnotationsToReplicaSet``,
``SetDeploymentRevision``, ``SetDeploymentAnnotationsTo``, ``SetFromReplicaSetTemplate``,
``ReplicaSetsByRevision``), ``kubernetes/kubernetes:pkg/controller/deployment/rollback.go``
(``getRollbackTo``) and ``kubernetes/kubernetes:pkg/controller/deployment/sync.go``
(``cleanupDeployment``).

A rollback in apps/v1 is simply an edit that puts an old template back: the Deployment then
finds the old ReplicaSet as its new one, and that ReplicaSet gets the next revision number,
the previous one being appended to its ``deployment.kubernetes.io/revision-history``. The
deprecated ``deprecated.deployment.rollback.to`` annotation (what ``spec.rollbackTo`` of
extensions/v1beta1 round-trips to) is honoured too.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...api.objects import deep_copy
from .util import (HASH_LABEL, MAX_REV_HISTORY_CHARS, REVISION, REVISION_HISTORY, ROLLBACK_TO,
                   _parse_int64, by_creation, has_revision_history_limit, max_surge, replicas,
                   revision, set_replicas_annotations, skip_copy_annotation)

__all__ = ["set_new_rs_annotations", "copy_deployment_annotations", "set_deployment_revision",
           "set_deployment_annotations_to", "set_from_rs_template", "rollback_to",
           "set_rollback_to", "by_revision", "replica_sets_to_clean_up"]


def copy_deployment_annotations(d: Mapping[str, Any], rs: dict) -> bool:
    """``copyDeploymentAnnotationsToReplicaSet``: every Deployment annotation but the
    controller's own and kubectl's last-applied configuration; True if any changed."""
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for k, v in (d["metadata"].get("annotations") or {}).items():
        if skip_copy_annotation(k) or ann.get(k, "") == v:
            continue
        ann[k] = v
        changed = True
    return changed


def set_new_rs_annotations(d: Mapping[str, Any], rs: dict, new_revision: str,
                           exists: bool) -> bool:
    """``SetNewReplicaSetAnnotations`` on a private copy of the new ReplicaSet: copy the
    Deployment's annotations, raise the revision to ``new_revision`` (remembering the old one
    in the revision history, capped at 2000 characters), and for a ReplicaSet about to be
    created set the desired/max-replicas annotations. True if anything changed."""
    changed = copy_deployment_annotations(d, rs)
    ann = rs["metadata"]["annotations"]
    old_text = ann.get(REVISION)
    try:
        old = _parse_int64(old_text) if old_text is not None else 0
    except ValueError:
        if old_text != "":
            return False
        old = 0
    try:
        new = _parse_int64(new_revision)
    except ValueError:
        return False
    if old < new:
        ann[REVISION] = new_revision
        changed = True
        if old_text is not None:
            history = ann.get(REVISION_HISTORY, "")
            olds = history.split(",")
            if not olds[0]:
                ann[REVISION_HISTORY] = old_text
            else:
                total = len(history) + len(old_text) + 1
                start = 0
                while total > MAX_REV_HISTORY_CHARS and start < len(olds):
                    total -= len(olds[start]) + 1
                    start += 1
                if total <= MAX_REV_HISTORY_CHARS:
                    ann[REVISION_HISTORY] = ",".join(olds[start:] + [old_text])
    n = replicas(d)
    if not exists and set_replicas_annotations(rs, n, n + max_surge(d)):
        changed = True
    return changed


def set_deployment_revision(d: dict, rev: str) -> bool:
    """``SetDeploymentRevision`` on the private copy of the Deployment."""
    ann = d["metadata"].setdefault("annotations", {})
    if ann.get(REVISION, "") != rev:
        ann[REVISION] = rev
        return True
    return False


def set_deployment_annotations_to(d: dict, rs: Mapping[str, Any]) -> None:
    """``SetDeploymentAnnotationsTo``: on rollback, the Deployment takes the annotations of the
    ReplicaSet it rolls back to (keeping its own controller-managed ones)."""
    kept = {k: v for k, v in (d["metadata"].get("annotations") or {}).items()
            if skip_copy_annotation(k)}
    for k, v in (rs["metadata"].get("annotations") or {}).items():
        if not skip_copy_annotation(k):
            kept[k] = v
    d["metadata"]["annotations"] = kept


def set_from_rs_template(d: dict, template: Mapping[str, Any]) -> None:
    """``SetFromReplicaSetTemplate``: the ReplicaSet's template, without the hash label."""
    t = deep_copy(dict(template))
    labels = (t.get("metadata") or {}).get("labels")
    if labels and HASH_LABEL in labels:
        t["metadata"]["labels"] = {k: v for k, v in labels.items() if k != HASH_LABEL}
    d["spec"]["template"] = t


def rollback_to(d: Mapping[str, Any]) -> int | None:
    """``getRollbackTo``: the revision the deprecated rollback annotation asks for (0: the
    previous one), or None."""
    text = (d["metadata"].get("annotations") or {}).get(ROLLBACK_TO)
    if not text:
        return None
    try:
        return _parse_int64(text)
    except ValueError:
        return None


def set_rollback_to(d: dict, rev: int | None) -> None:
    """``setRollbackTo``: clear (or set) the deprecated rollback annotation."""
    ann = d["metadata"].get("annotations")
    if rev is None:
        if ann and ROLLBACK_TO in ann:
            del ann[ROLLBACK_TO]
        return
    d["metadata"].setdefault("annotations", {})[ROLLBACK_TO] = str(rev)


def by_revision(rs: Mapping[str, Any]) -> tuple:
    """``ReplicaSetsByRevision``: lowest revision first; creation order breaks ties (and
    orders ReplicaSets whose revision does not parse)."""
    try:
        return (0, revision(rs), by_creation(rs))
    except ValueError:
        return (0, 0, by_creation(rs))


def replica_sets_to_clean_up(olds: list[dict], d: Mapping[str, Any]) -> list[dict]:
    """``cleanupDeployment``: the old ReplicaSets to delete so that at most
    ``revisionHistoryLimit`` remain, oldest revision first; only ReplicaSets with no pods,
    scaled to 0, whose controller has observed that, and not being deleted already."""
    if not has_revision_history_limit(d):
        return []
    alive = [rs for rs in olds if rs is not None and not rs["metadata"].get("deletionTimestamp")]
    diff = len(alive) - d["spec"]["revisionHistoryLimit"]
    if diff <= 0:
        return []
    alive.sort(key=by_revision)
    out = []
    for rs in alive[:diff]:
        status = rs.get("status") or {}
        if (status.get("replicas", 0) != 0 or replicas(rs) != 0
                or rs["metadata"].get("generation", 0) > status.get("observedGeneration", 0)):
            continue
        out.append(rs)
    return out
