"""Pure StatefulSet rules: identity, ordinals, health, revisions of pods, status, retention.

Everything here is a function of its arguments (objects are read, never changed), following
kubernetes/kubernetes ``pkg/controller/statefulset/stateful_set_utils.go`` and the status
parts of ``stateful_set_control.go``. /work/shared/SPEC.md section 1 names each rule (SS-n).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, NamedTuple

from ...api.objects import deep_copy, parse_rfc3339

__all__ = [
    "POD_NAME_LABEL", "POD_INDEX_LABEL", "REVISION_LABEL", "ordinal_of", "parent_of",
    "pod_name", "claim_name", "start_ordinal", "end_ordinal", "in_ordinal_range",
    "is_member_of", "identity_matches", "storage_matches", "is_created", "is_pending",
    "is_failed", "is_succeeded", "claim_names", "claim_templates", "claim_from_template",
    "is_terminating", "is_running_and_ready", "is_healthy",
    "available_in", "pod_revision", "Facts", "facts_of", "FactsCache", "new_pod", "claims_for", "update_identity",
    "update_storage", "compute_status", "complete_rolling_update", "inconsistent_status",
    "retention_policy", "claim_owner_up_to_date", "updated_claim_owner_refs",
    "max_unavailable", "allows_burst",
]

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"

_ORDINAL_RE = re.compile(r"^(.*)-([0-9]+)$")


# -- identity (SS-1 .. SS-7) ------------------------------------------------------------------


def _split(name: str) -> tuple[str, int]:
    m = _ORDINAL_RE.match(name)
    if not m:
        return "", -1
    try:
        return m.group(1), int(m.group(2))
    except ValueError:
        return "", -1


def ordinal_of(pod: dict) -> int:
    """The ordinal in the pod's name, or -1 when it has none (SS-2)."""
    return _split(pod["metadata"]["name"])[1]


def parent_of(pod: dict) -> str:
    return _split(pod["metadata"]["name"])[0]


def pod_name(sset: dict, ordinal: int) -> str:
    return f"{sset['metadata']['name']}-{ordinal}"


def claim_name(template_name: str, set_name: str, ordinal: int) -> str:
    return f"{template_name}-{set_name}-{ordinal}"


def _spec(sset: dict) -> dict:
    return sset.get("spec") or {}


def start_ordinal(sset: dict) -> int:
    ordinals = _spec(sset).get("ordinals")
    return (ordinals or {}).get("start", 0) if ordinals else 0


def end_ordinal(sset: dict) -> int:
    return start_ordinal(sset) + _spec(sset).get("replicas", 1) - 1


def in_ordinal_range(ordinal: int, sset: dict) -> bool:
    return start_ordinal(sset) <= ordinal <= end_ordinal(sset)


def is_member_of(sset: dict, pod: dict) -> bool:
    return parent_of(pod) == sset["metadata"]["name"]


def identity_matches(sset: dict, pod: dict) -> bool:
    parent, ordinal = _split(pod["metadata"]["name"])
    m = pod["metadata"]
    return (ordinal >= 0 and parent == sset["metadata"]["name"]
            and m["name"] == pod_name(sset, ordinal)
            and m.get("namespace") == sset["metadata"]["namespace"]
            and (m.get("labels") or {}).get(POD_NAME_LABEL) == m["name"])


def storage_matches(sset: dict, pod: dict) -> bool:
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v["name"]: v for v in (pod.get("spec") or {}).get("volumes") or ()}
    set_name = sset["metadata"]["name"]
    for tmpl in _spec(sset).get("volumeClaimTemplates") or ():
        vol = volumes.get(tmpl["metadata"]["name"])
        pvc = (vol or {}).get("persistentVolumeClaim")
        if not pvc or pvc.get("claimName") != claim_name(tmpl["metadata"]["name"], set_name,
                                                          ordinal):
            return False
    return True


# -- pod state -----------------------------------------------------------------------------


def _status(pod: dict) -> dict:
    return pod.get("status") or {}


def is_created(pod: dict) -> bool:
    """The API server sets phase Pending on every pod it creates (SS-11)."""
    return bool(_status(pod).get("phase"))


def is_pending(pod: dict) -> bool:
    return _status(pod).get("phase") == "Pending"


def is_failed(pod: dict) -> bool:
    return _status(pod).get("phase") == "Failed"


def is_succeeded(pod: dict) -> bool:
    return _status(pod).get("phase") == "Succeeded"


def is_terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _ready_condition(pod: dict) -> dict | None:
    for c in _status(pod).get("conditions") or ():
        if c.get("type") == "Ready":
            return c
    return None


def is_running_and_ready(pod: dict) -> bool:
    if _status(pod).get("phase") != "Running":
        return False
    c = _ready_condition(pod)
    return c is not None and c.get("status") == "True"


def is_healthy(pod: dict) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)


def available_in(pod: dict, min_ready_seconds: int, now: float) -> float | None:
    """Seconds until the pod is available (``podutil.IsPodAvailable``): 0 when it is,
    None when it is not ready at all."""
    if not is_running_and_ready(pod):
        return None
    if min_ready_seconds <= 0:
        return 0.0
    c = _ready_condition(pod) or {}
    since = c.get("lastTransitionTime")
    if not since:
        return 0.0
    left = parse_rfc3339(since) + min_ready_seconds - now
    return max(0.0, left)


def is_available(pod: dict, min_ready_seconds: int, now: float) -> bool:
    return available_in(pod, min_ready_seconds, now) == 0.0


def pod_revision(pod: dict) -> str:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL, "")


def allows_burst(sset: dict) -> bool:
    return _spec(sset).get("podManagementPolicy") == "Parallel"


# -- building pods and claims (SS-4, SS-5, SS-8) --------------------------------------------


def claim_names(sset: dict, ordinal: int) -> list[str]:
    """The names of the claims of the pod at ``ordinal`` (cheap: no claim is built)."""
    set_name = sset["metadata"]["name"]
    return [claim_name(t["metadata"]["name"], set_name, ordinal)
            for t in _spec(sset).get("volumeClaimTemplates") or ()]


def claim_templates(sset: dict) -> dict[str, dict]:
    """The set's claim templates by name (a later template of a name replaces an earlier
    one, in the earlier one's place, as in :func:`claims_for`)."""
    return {t["metadata"]["name"]: t for t in _spec(sset).get("volumeClaimTemplates") or ()}


def claim_from_template(sset: dict, tmpl: dict, ordinal: int) -> dict:
    """The claim ``tmpl`` gives the pod at ``ordinal`` (a new object)."""
    m = sset["metadata"]
    match_labels = ((_spec(sset).get("selector") or {}).get("matchLabels") or {})
    claim = deep_copy(tmpl)
    claim.pop("status", None)
    claim["apiVersion"], claim["kind"] = "v1", "PersistentVolumeClaim"
    cmeta = claim["metadata"]
    cmeta["name"] = claim_name(cmeta["name"], m["name"], ordinal)
    cmeta["namespace"] = m["namespace"]
    labels = cmeta.get("labels")
    if labels is not None:
        labels.update(match_labels)
    else:
        cmeta["labels"] = dict(match_labels)
    return claim


def claims_for(sset: dict, ordinal: int) -> dict[str, dict]:
    """The claims of the pod at ``ordinal``, by template name (``getPersistentVolumeClaims``)."""
    return {tname: claim_from_template(sset, tmpl, ordinal)
            for tname, tmpl in claim_templates(sset).items()}


def update_identity(sset: dict, pod: dict, gates: dict) -> None:
    """Re-apply the identity labels (``updateIdentity``); changes ``pod`` (a private copy)."""
    ordinal = ordinal_of(pod)
    m = pod["metadata"]
    m["name"] = pod_name(sset, ordinal)
    m["namespace"] = sset["metadata"]["namespace"]
    labels = m.setdefault("labels", {})
    labels[POD_NAME_LABEL] = m["name"]
    if gates.get("PodIndexLabel", True):
        labels[POD_INDEX_LABEL] = str(ordinal)


def update_storage(sset: dict, pod: dict) -> None:
    """Point the pod's claim volumes at its own claims (``updateStorage``)."""
    ordinal = ordinal_of(pod)
    set_name = sset["metadata"]["name"]
    templates = claim_templates(sset)  # only the names are needed: no claim is built
    spec = pod.setdefault("spec", {})
    current = spec.get("volumes") or []
    new = [{"name": tname,
            "persistentVolumeClaim": {"claimName": claim_name(tname, set_name, ordinal)}}
           for tname in templates]
    new.extend(v for v in current if v["name"] not in templates)
    spec["volumes"] = new


def new_pod(sset: dict, template_set: dict, ordinal: int, revision: str, gates: dict) -> dict:
    """The pod at ``ordinal`` built from ``template_set``'s template (the set at a given
    revision), with identity and storage (``newStatefulSetPod`` + ``setPodRevision``)."""
    m = sset["metadata"]
    template = deep_copy(_spec(template_set).get("template") or {})
    tmeta = template.get("metadata") or {}
    meta: dict[str, Any] = {"name": pod_name(sset, ordinal), "generateName": m["name"] + "-",
                            "namespace": m["namespace"]}
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                                "name": m["name"], "uid": m["uid"], "controller": True,
                                "blockOwnerDeletion": True}]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
           "spec": template.get("spec") or {}}
    update_identity(sset, pod, gates)
    pod["spec"]["hostname"] = meta["name"]                       # initIdentity, create only
    pod["spec"]["subdomain"] = _spec(sset).get("serviceName", "")
    if not pod["spec"]["subdomain"]:
        del pod["spec"]["subdomain"]
    update_storage(sset, pod)
    meta.setdefault("labels", {})[REVISION_LABEL] = revision
    return pod


# -- what the sync needs to know of a pod, computed once per pod version ----------------------


class Facts(NamedTuple):
    """A pod's state as the StatefulSet rules read it. A sync of a 1,000-replica set reads
    every pod; computing this once per pod version (uid, resourceVersion) keeps that cheap."""

    created: bool
    phase: str
    running_ready: bool
    ready_since: float | None    # when the Ready condition last turned True
    terminating: bool
    revision: str

    @property
    def healthy(self) -> bool:
        return self.running_ready and not self.terminating

    def available(self, min_ready_seconds: int, now: float) -> bool:
        if not self.running_ready:
            return False
        if min_ready_seconds <= 0 or self.ready_since is None:
            return True
        return self.ready_since + min_ready_seconds <= now


def facts_of(pod: dict) -> Facts:
    ready = is_running_and_ready(pod)
    since = None
    if ready:
        ltt = (_ready_condition(pod) or {}).get("lastTransitionTime")
        since = parse_rfc3339(ltt) if ltt else None
    return Facts(is_created(pod), _status(pod).get("phase", ""), ready, since,
                 is_terminating(pod), pod_revision(pod))


class FactsCache:
    """:func:`facts_of` per (uid, resourceVersion); pods built in memory are not cached."""

    def __init__(self) -> None:
        self._by_uid: dict[str, tuple[str, Facts]] = {}

    def __call__(self, pod: dict) -> Facts:
        m = pod["metadata"]
        uid = m.get("uid")
        if not uid:
            return facts_of(pod)
        rv = m.get("resourceVersion", "")
        got = self._by_uid.get(uid)
        if got is not None and got[0] == rv:
            return got[1]
        f = facts_of(pod)
        self._by_uid[uid] = (rv, f)
        return f

    def forget(self, uid: str) -> None:
        self._by_uid.pop(uid, None)


# -- status (SS-24 .. SS-26) -------------------------------------------------------------------


def compute_status(facts: Iterable[Facts], min_ready_seconds: int, current_revision: str,
                   update_revision: str, now: float) -> dict[str, int]:
    replicas = ready = available = current = updated = 0
    for f in facts:
        if f.created:
            replicas += 1
            if not f.terminating:
                if f.revision == current_revision:
                    current += 1
                if f.revision == update_revision:
                    updated += 1
        if f.running_ready:
            ready += 1
            if f.available(min_ready_seconds, now):
                available += 1
    return {"replicas": replicas, "readyReplicas": ready, "availableReplicas": available,
            "currentReplicas": current, "updatedReplicas": updated}


def complete_rolling_update(sset: dict, status: dict) -> None:
    """SS-25: a finished RollingUpdate makes the update revision current."""
    strategy = (_spec(sset).get("updateStrategy") or {}).get("type", "RollingUpdate")
    replicas = _spec(sset).get("replicas", 1)
    if (strategy == "RollingUpdate" and status["updatedReplicas"] == replicas
            and status["readyReplicas"] == replicas and status["replicas"] == replicas):
        status["currentReplicas"] = status["updatedReplicas"]
        status["currentRevision"] = status["updateRevision"]


_STATUS_FIELDS = ("replicas", "currentReplicas", "readyReplicas", "updatedReplicas",
                  "availableReplicas", "currentRevision", "updateRevision")


def inconsistent_status(sset: dict, status: dict) -> bool:
    """SS-26: whether the computed status must be written."""
    old = sset.get("status") or {}
    if status["observedGeneration"] > old.get("observedGeneration", 0):
        return True
    if old.get("collisionCount") != status.get("collisionCount"):
        return True
    return any(old.get(f, 0 if f.endswith("Replicas") or f == "replicas" else "")
               != status[f] for f in _STATUS_FIELDS)


def max_unavailable(sset: dict, replicas: int) -> int:
    """``getStatefulSetMaxUnavailable``: an int, or a percentage rounded down, at least 1."""
    ru = (_spec(sset).get("updateStrategy") or {}).get("rollingUpdate") or {}
    value = ru.get("maxUnavailable", 1)
    if isinstance(value, str) and value.endswith("%"):
        n = int(value[:-1]) * replicas // 100
    else:
        n = int(value)
    return max(1, n)


# -- PVC retention (SS-30 .. SS-33) --------------------------------------------------------


def retention_policy(sset: dict) -> tuple[str, str]:
    p = _spec(sset).get("persistentVolumeClaimRetentionPolicy") or {}
    return p.get("whenDeleted", "Retain"), p.get("whenScaled", "Retain")


def _refs(obj: dict) -> list[dict]:
    return obj["metadata"].get("ownerReferences") or []


def _matches_ref(ref: dict, obj: dict, kind: str) -> bool:
    return ref.get("kind") == kind and ref.get("name") == obj["metadata"]["name"]


def _has_ref(claim: dict, owner: dict) -> bool:
    uid = owner["metadata"].get("uid")
    return bool(uid) and any(r.get("uid") == uid for r in _refs(claim))


def _has_stale_ref(claim: dict, owner: dict, kind: str) -> bool:
    for r in _refs(claim):
        if _matches_ref(r, owner, kind):
            return r.get("uid") != owner["metadata"].get("uid")
    return False


def has_unexpected_controller(claim: dict, sset: dict, pod: dict) -> bool:
    when_deleted, when_scaled = retention_policy(sset)
    if when_deleted == "Retain" and when_scaled == "Retain":
        return False
    for r in _refs(claim):
        if _matches_ref(r, sset, "StatefulSet"):
            if r.get("uid") != sset["metadata"]["uid"]:
                return True
            continue
        if _matches_ref(r, pod, "Pod"):
            if r.get("uid") != pod["metadata"].get("uid"):
                return True
            continue
        if r.get("controller"):
            return True
    return False


def _has_non_controller_owner(claim: dict, sset: dict, pod: dict) -> bool:
    uids = {sset["metadata"].get("uid"), pod["metadata"].get("uid")} - {None, ""}
    return any(r.get("uid") in uids and not r.get("controller") for r in _refs(claim))


def claim_owner_up_to_date(claim: dict, sset: dict, pod: dict) -> bool:
    """``isClaimOwnerUpToDate``: whether the claim's owner references match the policy."""
    if _has_stale_ref(claim, sset, "StatefulSet") or _has_stale_ref(claim, pod, "Pod"):
        return True
    if has_unexpected_controller(claim, sset, pod):
        return not (_has_ref(claim, sset) or _has_ref(claim, pod))
    if _has_non_controller_owner(claim, sset, pod):
        return False
    when_deleted, when_scaled = retention_policy(sset)
    has_set, has_pod = _has_ref(claim, sset), _has_ref(claim, pod)
    if when_scaled == "Delete":
        scaled_down = not in_ordinal_range(ordinal_of(pod), sset)
        if when_deleted == "Delete":
            return scaled_down != has_set and scaled_down == has_pod
        return not has_set and scaled_down == has_pod
    if when_deleted == "Delete":
        return has_set and not has_pod
    return not has_set and not has_pod


def _controller_ref(owner: dict, api_version: str, kind: str) -> dict:
    m = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": m["name"], "uid": m["uid"],
            "controller": True, "blockOwnerDeletion": True}


def updated_claim_owner_refs(claim: dict, sset: dict, pod: dict) -> list[dict]:
    """``updateClaimOwnerRefForSetAndPod``: the owner references the claim should have."""
    unexpected = has_unexpected_controller(claim, sset, pod)
    refs = [r for r in _refs(claim) if not (_matches_ref(r, sset, "StatefulSet")
                                            or _matches_ref(r, pod, "Pod"))]
    if unexpected:
        return refs
    when_deleted, when_scaled = retention_policy(sset)
    scaled_down = not in_ordinal_range(ordinal_of(pod), sset)

    def add(owner: dict, api_version: str, kind: str) -> None:
        if not any(r.get("uid") == owner["metadata"]["uid"] for r in refs):
            refs.append(_controller_ref(owner, api_version, kind))

    if when_scaled == "Retain" and when_deleted == "Delete":
        add(sset, "apps/v1", "StatefulSet")
    elif when_scaled == "Delete" and when_deleted == "Retain":
        if scaled_down:
            add(pod, "v1", "Pod")
    elif when_scaled == "Delete" and when_deleted == "Delete":
        if scaled_down:
            add(pod, "v1", "Pod")
        else:
            add(sset, "apps/v1", "StatefulSet")
    return refs
