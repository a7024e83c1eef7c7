"""apps/v1 kinds: StatefulSet, Deployment, ReplicaSet and ControllerRevision.

This module owns what is particular to each apps/v1 kind: defaulting (``SetDefaults_<Kind>``
and the generated defaulters that reach into pod templates and claim templates), the
kind-specific parts of the registry strategies (dropping fields of disabled feature gates;
generation, including a Deployment's bump on annotation changes, is the API layer's) and
validation on create, update and ``/status`` update, with upstream's field paths and message
texts.

Facts follow Kubernetes v1.31:

- ``kubernetes/kubernetes:pkg/apis/apps/v1/defaults.go`` (``SetDefaults_StatefulSet``,
  ``SetDefaults_Deployment``, ``SetDefaults_ReplicaSet``);
- ``kubernetes/kubernetes:pkg/apis/apps/validation/validation.go`` (every ``Validate*``);
- ``kubernetes/kubernetes:pkg/registry/apps/statefulset/strategy.go``,
  ``pkg/registry/apps/deployment/strategy.go``, ``pkg/registry/apps/replicaset/strategy.go``,
  ``pkg/registry/apps/controllerrevision/strategy.go`` (which validations run on which verb,
  ``dropStatefulSetDisabledFields``, selector immutability in apps/v1).

v1.31 specifics worth knowing: a StatefulSet's pod template is *not* run through pod-spec
validation (only its labels and annotations are checked; upstream added the full check in
v1.34), and its ``volumeClaimTemplates`` are not validated at all (a bad template surfaces
later, when the controller fails to create the claim). Deployments and ReplicaSets do get
full pod-template validation. Update validation of a ReplicaSet validates the new spec twice
(``ValidateReplicaSet`` plus ``ValidateReplicaSetUpdate``), so such errors appear twice among
the causes, as upstream's do.

Helpers shared with other kinds: :func:`validate_positive_int_or_percent`,
:func:`is_not_more_than_100_percent`, :func:`validate_nonnegative` and
:func:`semantic_equal` (defined in ``storage``, re-exported here).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ...errors import FieldError
from ..names import is_valid_percent
from ..selectors import SelectorError, label_selector_from_dict, validate_label_selector
from . import Gates, Strategy
from . import core as _core
from . import meta as _meta
from .storage import default_persistent_volume_claim, semantic_equal

__all__ = [
    "STRATEGIES", "default_statefulset", "default_deployment", "default_replicaset",
    "validate_statefulset", "validate_statefulset_update", "validate_statefulset_status_update",
    "validate_deployment", "validate_deployment_update", "validate_deployment_status_update",
    "validate_replicaset", "validate_replicaset_update", "validate_replicaset_status_update",
    "validate_controller_revision", "validate_controller_revision_update",
    "validate_positive_int_or_percent", "is_not_more_than_100_percent", "validate_nonnegative",
    "int_or_percent_value", "semantic_equal",
    "IMMUTABLE", "NEGATIVE",
]

IMMUTABLE = _meta.FIELD_IMMUTABLE  # "field is immutable"
NEGATIVE = _meta.IS_NEGATIVE        # "must be greater than or equal to 0"
_GREATER_THAN_REPLICAS = "cannot be greater than status.replicas"

_EMPTY: Mapping[str, Any] = {}
Errors = list[FieldError]


def _object_meta(obj: dict, namespaced: bool, name_fn: _meta.NameFn) -> Errors:
    """``ValidateObjectMeta`` of a top-level object's ``metadata``."""
    return _meta.validate_object_meta(obj.get("metadata") or {}, namespaced, name_fn)


# --------------------------------------------------------------------------------------------
# Shared helpers


def _get(d: Any, key: str) -> Any:
    """``d[key]`` if ``d`` is a dict, else None (robust to missing intermediate objects)."""
    return d.get(key) if isinstance(d, dict) else None


def validate_nonnegative(value: Any, path: str) -> Errors:
    """``ValidateNonnegativeField``: an integer field that is set must be >= 0."""
    if value is not None and value < 0:
        return [FieldError.invalid(path, value, NEGATIVE)]
    return []


def _percent(value: Any) -> int | None:
    """``getPercentValue``: the number of a valid ``"<digits>%"`` string, else None."""
    if isinstance(value, str) and not is_valid_percent(value):
        return int(value[:-1])
    return None


_ATOI = re.compile(r"[+-]?[0-9]+")  # what Go's strconv.Atoi accepts


def int_or_percent_value(value: Any) -> int:
    """``getIntOrPercentValue``: the percentage's number, the integer, or (like Go's
    ``IntOrString.IntValue`` on a non-percent string) the string parsed as an int, else 0."""
    pct = _percent(value)
    if pct is not None:
        return pct
    if isinstance(value, str):
        return int(value) if _ATOI.fullmatch(value) else 0
    return value if isinstance(value, int) else 0


def validate_positive_int_or_percent(value: Any, path: str) -> Errors:
    """``ValidatePositiveIntOrPercent``: a non-negative integer or a ``"<digits>%"`` string.

    The bad value is reported as the JSON value (upstream prints the IntOrString struct)."""
    if isinstance(value, str):
        return [FieldError.invalid(path, value, m) for m in is_valid_percent(value)]
    if isinstance(value, int) and value < 0:
        return [FieldError.invalid(path, value, NEGATIVE)]
    return []


def is_not_more_than_100_percent(value: Any, path: str) -> Errors:
    """``IsNotMoreThan100Percent``: a percentage may not exceed 100%."""
    pct = _percent(value)
    if pct is None or pct <= 100:
        return []
    return [FieldError.invalid(path, value, "must not be greater than 100%")]


def _status_counts(status: Mapping[str, Any], path: str, fields: tuple[str, ...]) -> Errors:
    errs: list[FieldError] = []
    for name in fields:
        v = status.get(name)
        if v is not None and v < 0:
            errs.append(FieldError.invalid(f"{path}.{name}", v, NEGATIVE))
    return errs


def _collision_count_decremented(new: dict, old: dict) -> Errors:
    """``IsDecremented`` on ``status.collisionCount`` (nil after non-nil counts as a drop)."""
    new_cc = _get(new.get("status"), "collisionCount")
    old_cc = _get(old.get("status"), "collisionCount")
    if old_cc is not None and (new_cc is None or new_cc < old_cc):
        return [FieldError.invalid("status.collisionCount", new_cc or 0, "cannot be decremented")]
    return []


def _selector(sel: Any) -> tuple[Any, bool]:
    """``LabelSelectorAsSelector``: the parsed selector and whether it could be built."""
    try:
        return label_selector_from_dict(sel), True
    except SelectorError:
        return None, False


def _selector_errors(sel: Any, path: str, what: str) -> Errors:
    """The selector checks every controller shares: required, valid, not empty."""
    if sel is None:
        return [FieldError.required(path)]
    errs = validate_label_selector(sel, path)
    if not sel.get("matchLabels") and not sel.get("matchExpressions"):
        errs.append(FieldError.invalid(path, sel, f"empty selector is invalid for {what}"))
    return errs


def _template_labels_mismatch(selector: Any, template: Mapping[str, Any], path: str) -> Errors:
    """``selector`` must select the template's labels (a nil selector selects nothing)."""
    if selector.empty:
        return []
    labels = _get(template.get("metadata"), "labels") or {}
    if selector.matches(labels):
        return []
    return [FieldError.invalid(path + ".metadata.labels", labels,
                               "`selector` does not match template `labels`")]


def _meta_update(new: dict, old: dict) -> Errors:
    return _meta.validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})


# --------------------------------------------------------------------------------------------
# StatefulSet


def default_statefulset(obj: dict) -> None:
    """``SetDefaults_StatefulSet`` plus the generated defaulters of its pod template and claim
    templates. ``maxUnavailable`` is not defaulted in v1.31. The retention policy is defaulted
    as with StatefulSetAutoDeletePVC on (its v1.31 default); with the gate off,
    :func:`prepare_statefulset_for_create` drops it again, as upstream ends up doing."""
    spec = obj.setdefault("spec", {})
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = spec.get("updateStrategy")
    if strategy is None:
        strategy = spec["updateStrategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        if strategy.get("rollingUpdate") is None:
            strategy["rollingUpdate"] = {}
    rolling = strategy.get("rollingUpdate")
    if (strategy["type"] == "RollingUpdate" and rolling is not None
            and rolling.get("partition") is None):
        rolling["partition"] = 0
    policy = spec.get("persistentVolumeClaimRetentionPolicy")
    if policy is None:
        policy = spec["persistentVolumeClaimRetentionPolicy"] = {}
    if not policy.get("whenDeleted"):
        policy["whenDeleted"] = "Retain"
    if not policy.get("whenScaled"):
        policy["whenScaled"] = "Retain"
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    template = spec.get("template")
    if template is None:
        template = spec["template"] = {}
    _core.default_pod_template_spec(template)
    claims = spec.get("volumeClaimTemplates")
    if claims:
        # The served object carries each embedded claim's type meta (apps/v1 conversion sets
        # it, in Go's field order), and the claim gets SetDefaults_PersistentVolumeClaim(+Spec).
        for i, claim in enumerate(claims):
            typed = {"apiVersion": "v1", "kind": "PersistentVolumeClaim"}
            typed.update((k, v) for k, v in claim.items() if k != "apiVersion" and k != "kind")
            default_persistent_volume_claim(typed)
            claims[i] = typed


def _drop_statefulset_disabled_fields(new: dict, old: dict | None, gates: Gates) -> None:
    """``dropStatefulSetDisabledFields``: a field of a disabled gate is dropped on create, and
    on update unless the stored object already uses it."""
    spec = new.get("spec")
    if not isinstance(spec, dict):
        return
    old_spec = _get(old, "spec") if old is not None else None
    if not gates.get("StatefulSetAutoDeletePVC", True):
        if old_spec is None or old_spec.get("persistentVolumeClaimRetentionPolicy") is None:
            spec.pop("persistentVolumeClaimRetentionPolicy", None)
    if not gates.get("MaxUnavailableStatefulSet", False):
        old_rolling = _get(_get(old_spec, "updateStrategy"), "rollingUpdate")
        if _get(old_rolling, "maxUnavailable") is None:
            rolling = _get(spec.get("updateStrategy"), "rollingUpdate")
            if isinstance(rolling, dict):
                rolling.pop("maxUnavailable", None)


def prepare_statefulset_for_create(obj: dict, gates: Gates) -> None:
    _drop_statefulset_disabled_fields(obj, None, gates)


def prepare_statefulset_for_update(new: dict, old: dict, gates: Gates) -> None:
    _drop_statefulset_disabled_fields(new, old, gates)


_RETENTION_VALUES = ("Retain", "Delete")


def _validate_statefulset_spec(spec: Mapping[str, Any], gates: Gates) -> Errors:
    """``ValidateStatefulSetSpec``."""
    errs: list[FieldError] = []
    policy = spec.get("podManagementPolicy") or ""
    if policy == "":
        errs.append(FieldError.required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(FieldError.invalid("spec.podManagementPolicy", policy,
                                       "must be 'OrderedReady' or 'Parallel'"))

    strategy = spec.get("updateStrategy") or {}
    stype = strategy.get("type") or ""
    rolling = strategy.get("rollingUpdate")
    if stype == "":
        errs.append(FieldError.required("spec.updateStrategy"))
    elif stype == "OnDelete":
        if rolling is not None:
            errs.append(FieldError.invalid("spec.updateStrategy.rollingUpdate", rolling,
                                           "only allowed for updateStrategy 'RollingUpdate'"))
    elif stype == "RollingUpdate":
        if rolling is not None:
            errs.extend(_validate_rolling_update_statefulset(rolling))
    else:
        errs.append(FieldError.invalid("spec.updateStrategy", strategy,
                                       "must be 'RollingUpdate' or 'OnDelete'"))

    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        for part in ("whenDeleted", "whenScaled"):
            v = retention.get(part) or ""
            if v not in _RETENTION_VALUES:
                errs.append(FieldError.not_supported(
                    "spec.persistentVolumeClaimRetentionPolicy." + part, v, _RETENTION_VALUES))

    errs.extend(validate_nonnegative(spec.get("replicas") or 0, "spec.replicas"))
    errs.extend(validate_nonnegative(spec.get("minReadySeconds") or 0, "spec.minReadySeconds"))
    ordinals = spec.get("ordinals")
    if ordinals is not None:
        errs.extend(validate_nonnegative(ordinals.get("start") or 0, "spec.ordinals.start"))

    sel = spec.get("selector")
    if sel is None:
        errs.append(FieldError.required("spec.selector"))
    else:
        errs.extend(validate_label_selector(sel, "spec.selector"))
        if not sel.get("matchLabels") and not sel.get("matchExpressions"):
            errs.append(FieldError.invalid("spec.selector", sel,
                                           "empty selector is invalid for statefulset"))
    template = spec.get("template") or _EMPTY
    selector, ok = _selector(sel)
    if not ok:
        errs.append(FieldError.invalid("spec.selector", sel, ""))
    else:
        # ValidatePodTemplateSpecForStatefulSet: in v1.31 only the template's labels and
        # annotations are validated, not its pod spec.
        errs.extend(_template_labels_mismatch(selector, template, "spec.template"))
        tmeta = template.get("metadata") or _EMPTY
        errs.extend(_meta.validate_labels(tmeta.get("labels"), "spec.template.labels"))
        errs.extend(_meta.validate_annotations(tmeta.get("annotations"),
                                               "spec.template.annotations"))
        pod_specific = getattr(_core, "validate_pod_specific_annotations", None)
        if pod_specific is not None:  # ValidatePodSpecificAnnotations, owned by core
            errs.extend(pod_specific(tmeta.get("annotations"), template.get("spec") or {},
                                     "spec.template.annotations", gates))

    pod_spec = template.get("spec") or _EMPTY
    restart = pod_spec.get("restartPolicy") or ""
    if restart != "Always":
        errs.append(FieldError.not_supported("spec.template.spec.restartPolicy", restart,
                                             ("Always",)))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(FieldError.forbidden("spec.template.spec.activeDeadlineSeconds",
                                         "activeDeadlineSeconds in StatefulSet is not Supported"))
    return errs


def _validate_rolling_update_statefulset(rolling: Mapping[str, Any]) -> Errors:
    """``validateRollingUpdateStatefulSet``."""
    path = "spec.updateStrategy.rollingUpdate"
    errs = validate_nonnegative(rolling.get("partition") or 0, path + ".partition")
    max_unavailable = rolling.get("maxUnavailable")
    if max_unavailable is not None:
        mu_path = path + ".maxUnavailable"
        errs.extend(validate_positive_int_or_percent(max_unavailable, mu_path))
        if int_or_percent_value(max_unavailable) == 0:
            errs.append(FieldError.invalid(mu_path, max_unavailable, "cannot be 0"))
        errs.extend(is_not_more_than_100_percent(max_unavailable, mu_path))
    return errs


def validate_statefulset(obj: dict, gates: Gates) -> Errors:
    """``ValidateStatefulSet``: the name must be a DNS-1123 label (it prefixes pod names and
    hostnames)."""
    errs = _object_meta(obj, True, _meta.name_is_dns1123_label)
    errs.extend(_validate_statefulset_spec(obj.get("spec") or _EMPTY, gates))
    return errs


# Spec fields a v1.31 StatefulSet update may change.
_STS_MUTABLE = frozenset(("replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
                          "persistentVolumeClaimRetentionPolicy"))
_STS_FORBIDDEN_UPDATE = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")


def validate_statefulset_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateStatefulSetUpdate``: metadata update rules, the new spec, and one Forbidden
    error on ``spec`` when anything outside the mutable fields changed. The name is not
    revalidated on update."""
    errs = _meta_update(new, old)
    spec = new.get("spec") or _EMPTY
    old_spec = old.get("spec") or _EMPTY
    errs.extend(_validate_statefulset_spec(spec, gates))
    for key in spec.keys() | old_spec.keys():
        if key not in _STS_MUTABLE and not semantic_equal(spec.get(key), old_spec.get(key)):
            errs.append(FieldError.forbidden("spec", _STS_FORBIDDEN_UPDATE))
            break
    return errs


_STS_STATUS_COUNTS = ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas",
                      "availableReplicas", "observedGeneration", "collisionCount")


def validate_statefulset_status_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateStatefulSetStatusUpdate``: counts non-negative, none above ``replicas``,
    available not above ready, metadata update rules, collisionCount never decremented."""
    status = new.get("status") or _EMPTY
    errs = _status_counts(status, "status", _STS_STATUS_COUNTS)
    replicas = status.get("replicas") or 0
    ready = status.get("readyReplicas") or 0
    for name in ("readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"):
        v = status.get(name) or 0
        if v > replicas:
            errs.append(FieldError.invalid("status." + name, v, _GREATER_THAN_REPLICAS))
    available = status.get("availableReplicas") or 0
    if available > ready:
        errs.append(FieldError.invalid("status.availableReplicas", available,
                                       "cannot be greater than status.readyReplicas"))
    errs.extend(_meta_update(new, old))
    errs.extend(_collision_count_decremented(new, old))
    return errs


# --------------------------------------------------------------------------------------------
# ReplicaSet and Deployment (ValidatePodTemplateSpecForReplicaSet is shared)


def _validate_pod_template_for_replicaset(selector: Any, template: Mapping[str, Any],
                                          gates: Gates) -> Errors:
    """``ValidatePodTemplateSpecForReplicaSet`` (Deployments use it too)."""
    path = "spec.template"
    errs = _template_labels_mismatch(selector, template, path)
    errs.extend(_core.validate_pod_template_spec(template, path, gates))
    pod_spec = template.get("spec") or _EMPTY
    restart = pod_spec.get("restartPolicy") or ""
    if restart != "Always":
        errs.append(FieldError.not_supported(path + ".spec.restartPolicy", restart, ("Always",)))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(FieldError.forbidden(path + ".spec.activeDeadlineSeconds",
                                         "activeDeadlineSeconds in ReplicaSet is not Supported"))
    return errs


def default_replicaset(obj: dict) -> None:
    """``SetDefaults_ReplicaSet`` (replicas 1) and the pod template's defaults."""
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    template = spec.get("template")
    if template is None:
        template = spec["template"] = {}
    _core.default_pod_template_spec(template)


def _validate_replicaset_spec(spec: Mapping[str, Any], gates: Gates) -> Errors:
    """``ValidateReplicaSetSpec`` (its empty-selector text says "deployment", as upstream's)."""
    errs = validate_nonnegative(spec.get("replicas") or 0, "spec.replicas")
    errs.extend(validate_nonnegative(spec.get("minReadySeconds") or 0, "spec.minReadySeconds"))
    sel = spec.get("selector")
    errs.extend(_selector_errors(sel, "spec.selector", "deployment"))
    selector, ok = _selector(sel)
    if not ok:
        errs.append(FieldError.invalid("spec.selector", sel, "invalid label selector"))
    else:
        errs.extend(_validate_pod_template_for_replicaset(selector, spec.get("template") or _EMPTY,
                                                          gates))
    return errs


def validate_replicaset(obj: dict, gates: Gates) -> Errors:
    """``ValidateReplicaSet``."""
    errs = _object_meta(obj, True,
                                      _meta.name_is_dns1123_subdomain)
    errs.extend(_validate_replicaset_spec(obj.get("spec") or _EMPTY, gates))
    return errs


def _selector_immutable(new: dict, old: dict) -> Errors:
    sel = _get(new.get("spec"), "selector")
    if not semantic_equal(sel, _get(old.get("spec"), "selector")):
        return [FieldError.invalid("spec.selector", sel, IMMUTABLE)]
    return []


def validate_replicaset_update(new: dict, old: dict, gates: Gates) -> Errors:
    """The ReplicaSet strategy's ``ValidateUpdate``: ``ValidateReplicaSet`` then
    ``ValidateReplicaSetUpdate`` (which validates the spec again) and, in apps/v1, an immutable
    selector."""
    errs = validate_replicaset(new, gates)
    errs.extend(_meta_update(new, old))
    errs.extend(_validate_replicaset_spec(new.get("spec") or _EMPTY, gates))
    errs.extend(_selector_immutable(new, old))
    return errs


_RS_STATUS_COUNTS = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas",
                     "observedGeneration")


def validate_replicaset_status_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateReplicaSetStatusUpdate``."""
    errs = _meta_update(new, old)
    status = new.get("status") or _EMPTY
    errs.extend(_status_counts(status, "status", _RS_STATUS_COUNTS))
    replicas = status.get("replicas") or 0
    for name in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
        v = status.get(name) or 0
        if v > replicas:
            errs.append(FieldError.invalid("status." + name, v, _GREATER_THAN_REPLICAS))
    available = status.get("availableReplicas") or 0
    if available > (status.get("readyReplicas") or 0):
        errs.append(FieldError.invalid("status.availableReplicas", available,
                                       "cannot be greater than readyReplicas"))
    return errs


def default_deployment(obj: dict) -> None:
    """``SetDefaults_Deployment``: replicas 1, RollingUpdate with maxUnavailable and maxSurge
    25%, revisionHistoryLimit 10, progressDeadlineSeconds 600; and the pod template's
    defaults."""
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = spec.get("strategy")
    if strategy is None:
        strategy = spec["strategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if rolling is None:
            rolling = strategy["rollingUpdate"] = {}
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = "25%"
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    template = spec.get("template")
    if template is None:
        template = spec["template"] = {}
    _core.default_pod_template_spec(template)


def _validate_deployment_strategy(strategy: Mapping[str, Any]) -> Errors:
    """``ValidateDeploymentStrategy`` and ``ValidateRollingUpdateDeployment``."""
    path = "spec.strategy"
    stype = strategy.get("type") or ""
    rolling = strategy.get("rollingUpdate")
    if stype == "Recreate":
        if rolling is not None:
            return [FieldError.forbidden(path + ".rollingUpdate",
                                         "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if stype == "RollingUpdate":
        if rolling is None:
            return [FieldError.required(path + ".rollingUpdate",
                                        "this should be defaulted and never be nil")]
        mu = rolling.get("maxUnavailable")
        ms = rolling.get("maxSurge")
        mu_path = path + ".rollingUpdate.maxUnavailable"
        errs = validate_positive_int_or_percent(mu if mu is not None else 0, mu_path)
        errs.extend(validate_positive_int_or_percent(ms if ms is not None else 0,
                                                     path + ".rollingUpdate.maxSurge"))
        if int_or_percent_value(mu) == 0 and int_or_percent_value(ms) == 0:
            errs.append(FieldError.invalid(mu_path, mu if mu is not None else 0,
                                           "may not be 0 when `maxSurge` is 0"))
        errs.extend(is_not_more_than_100_percent(mu, mu_path))
        return errs
    return [FieldError.not_supported(path, strategy, ("Recreate", "RollingUpdate"))]


def _validate_deployment_spec(spec: Mapping[str, Any], gates: Gates) -> Errors:
    """``ValidateDeploymentSpec``."""
    errs = validate_nonnegative(spec.get("replicas") or 0, "spec.replicas")
    sel = spec.get("selector")
    errs.extend(_selector_errors(sel, "spec.selector", "deployment"))
    selector, ok = _selector(sel)
    if not ok:
        errs.append(FieldError.invalid("spec.selector", sel, "invalid label selector"))
    else:
        errs.extend(_validate_pod_template_for_replicaset(selector, spec.get("template") or _EMPTY,
                                                          gates))
    errs.extend(_validate_deployment_strategy(spec.get("strategy") or _EMPTY))
    min_ready = spec.get("minReadySeconds") or 0
    errs.extend(validate_nonnegative(min_ready, "spec.minReadySeconds"))
    errs.extend(validate_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        errs.extend(validate_nonnegative(deadline, "spec.progressDeadlineSeconds"))
        if deadline <= min_ready:
            errs.append(FieldError.invalid("spec.progressDeadlineSeconds", deadline,
                                           "must be greater than minReadySeconds"))
    return errs


def validate_deployment(obj: dict, gates: Gates) -> Errors:
    """``ValidateDeployment``."""
    errs = _object_meta(obj, True,
                                      _meta.name_is_dns1123_subdomain)
    errs.extend(_validate_deployment_spec(obj.get("spec") or _EMPTY, gates))
    return errs


def validate_deployment_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateDeploymentUpdate`` plus apps/v1's immutable selector."""
    errs = _meta_update(new, old)
    errs.extend(_validate_deployment_spec(new.get("spec") or _EMPTY, gates))
    errs.extend(_selector_immutable(new, old))
    return errs


_DEPLOY_STATUS_COUNTS = ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas",
                         "availableReplicas", "unavailableReplicas", "collisionCount")


def validate_deployment_status_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateDeploymentStatusUpdate``."""
    errs = _meta_update(new, old)
    status = new.get("status") or _EMPTY
    errs.extend(_status_counts(status, "status", _DEPLOY_STATUS_COUNTS))
    replicas = status.get("replicas") or 0
    for name in ("updatedReplicas", "readyReplicas", "availableReplicas"):
        v = status.get(name) or 0
        if v > replicas:
            errs.append(FieldError.invalid("status." + name, v, _GREATER_THAN_REPLICAS))
    available = status.get("availableReplicas") or 0
    if available > (status.get("readyReplicas") or 0):
        errs.append(FieldError.invalid("status.availableReplicas", available,
                                       "cannot be greater than readyReplicas"))
    errs.extend(_collision_count_decremented(new, old))
    return errs


# --------------------------------------------------------------------------------------------
# ControllerRevision


def validate_controller_revision(obj: dict, gates: Gates) -> Errors:
    """``ValidateControllerRevision``: name a DNS subdomain, ``data`` present, ``revision``
    non-negative."""
    errs = _object_meta(obj, True,
                                      _meta.name_is_dns1123_subdomain)
    if obj.get("data") is None:
        errs.append(FieldError.required("data", "data is mandatory"))
    errs.extend(validate_nonnegative(obj.get("revision") or 0, "revision"))
    return errs


def validate_controller_revision_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateControllerRevisionUpdate``: metadata update rules, the revision as on create,
    and ``data`` immutable."""
    errs = _meta_update(new, old)
    errs.extend(validate_controller_revision(new, gates))
    data = new.get("data")
    if not semantic_equal(data, old.get("data")):
        errs.append(FieldError.invalid("data", data, IMMUTABLE))
    return errs


STRATEGIES: dict[str, Strategy] = {
    "StatefulSet": Strategy(
        default=default_statefulset,
        prepare_for_create=prepare_statefulset_for_create,
        prepare_for_update=prepare_statefulset_for_update,
        validate=validate_statefulset,
        validate_update=validate_statefulset_update,
        validate_status_update=validate_statefulset_status_update,
    ),
    "Deployment": Strategy(
        default=default_deployment,
        validate=validate_deployment,
        validate_update=validate_deployment_update,
        validate_status_update=validate_deployment_status_update,
    ),
    "ReplicaSet": Strategy(
        default=default_replicaset,
        validate=validate_replicaset,
        validate_update=validate_replicaset_update,
        validate_status_update=validate_replicaset_status_update,
    ),
    "ControllerRevision": Strategy(
        validate=validate_controller_revision,
        validate_update=validate_controller_revision_update,
    ),
}
