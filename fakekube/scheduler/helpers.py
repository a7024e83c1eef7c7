"""Matching helpers the scheduler's plugins share: node selectors and node affinity, taints
and tolerations, resource names, storage class lookups.

Facts follow Kubernetes v1.31:

- ``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go``
  (``NodeSelector``, ``LazyErrorNodeSelector``, ``RequiredNodeAffinity``,
  ``PreferredSchedulingTerms``: empty terms select nothing, terms are ORed, a term whose
  requirements do not parse never matches; ``matchFields`` only knows ``metadata.name`` with
  one value and ``In``/``NotIn``);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/labels/selector.go``
  (``Requirement.Matches``: ``Gt``/``Lt`` compare integers, a label that is not an integer
  never matches);
- ``kubernetes/kubernetes:staging/src/k8s.io/api/core/v1/toleration.go`` (``ToleratesTaint``)
  and ``pkg/apis/core/v1/helper/helpers.go`` (``FindMatchingUntoleratedTaint``,
  ``IsScalarResourceName`` and friends);
- ``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/storage/volume/helpers.go``
  (``GetPersistentVolumeClaimClass``, ``GetPersistentVolumeClass``).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

__all__ = [
    "NodeSelector", "RequiredNodeAffinity", "PreferredSchedulingTerms", "node_selector",
    "required_node_affinity", "preferred_scheduling_terms", "tolerates", "find_untolerated",
    "parse_taints", "parse_tolerations", "is_scalar_resource", "is_extended_resource",
    "pvc_class", "pv_class", "LABEL_HOSTNAME", "LABEL_ZONE", "LABEL_REGION",
    "LABEL_ZONE_BETA", "LABEL_REGION_BETA", "zone_key",
]

LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_REGION = "topology.kubernetes.io/region"
LABEL_ZONE_BETA = "failure-domain.beta.kubernetes.io/zone"
LABEL_REGION_BETA = "failure-domain.beta.kubernetes.io/region"

NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE = "NoSchedule", "NoExecute", "PreferNoSchedule"

_EMPTY: Mapping[str, str] = {}

# -- node selectors -------------------------------------------------------------------------

Matcher = Callable[[Mapping[str, str], str], bool]   # (node labels, node name) -> bool


def _parse_int64(text: Any) -> int | None:
    if not isinstance(text, str):
        return None
    s = text[1:] if text[:1] in "+-" else text
    if not s.isdigit() or not s.isascii():
        return None
    v = int(text)
    return v if -(1 << 63) <= v < (1 << 63) else None


def _label_requirement(expr: Any) -> tuple[Callable[[Mapping[str, str]], bool] | None, str | None]:
    """One ``NodeSelectorRequirement`` on labels: (matcher, None) or (None, parse error)."""
    if not isinstance(expr, Mapping):
        return None, "invalid requirement"
    key = expr.get("key") or ""
    op = expr.get("operator") or ""
    values = expr.get("values") or []
    if op in ("In", "NotIn"):
        if not values:
            return None, "values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        vs = frozenset(values)
        if op == "In":
            return (lambda labels: labels.get(key) in vs if key in labels else False), None
        return (lambda labels: key not in labels or labels[key] not in vs), None
    if op in ("Exists", "DoesNotExist"):
        if values:
            return None, "values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        if op == "Exists":
            return (lambda labels: key in labels), None
        return (lambda labels: key not in labels), None
    if op in ("Gt", "Lt"):
        if len(values) != 1:
            return None, "values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"
        bound = _parse_int64(values[0])
        if bound is None:
            return None, f"values[0]: Invalid value: {values[0]!r}: must be an integer"
        if op == "Gt":
            def gt(labels: Mapping[str, str]) -> bool:
                v = labels.get(key)
                n = _parse_int64(v) if v is not None else None
                return n is not None and n > bound
            return gt, None

        def lt(labels: Mapping[str, str]) -> bool:
            v = labels.get(key)
            n = _parse_int64(v) if v is not None else None
            return n is not None and n < bound
        return lt, None
    return None, f"{op!r} is not a valid node selector operator"


def _field_requirement(expr: Any) -> tuple[Callable[[str], bool] | None, str | None]:
    """One ``matchFields`` requirement: only ``metadata.name`` with one value."""
    if not isinstance(expr, Mapping):
        return None, "invalid requirement"
    if expr.get("key") != "metadata.name":
        return None, "key: Invalid value: field label not supported"
    values = expr.get("values") or []
    if len(values) != 1:
        return None, "values: Invalid value: must have one element"
    want = values[0]
    op = expr.get("operator")
    if op == "In":
        return (lambda name: name == want), None
    if op == "NotIn":
        return (lambda name: name != want), None
    return None, "operator: Invalid value: not a valid selector operator"


def _is_empty_term(term: Any) -> bool:
    return not isinstance(term, Mapping) or (not term.get("matchExpressions")
                                              and not term.get("matchFields"))


class _Term:
    """A parsed ``NodeSelectorTerm``: requirements ANDed."""

    __slots__ = ("labels", "fields", "errors")

    def __init__(self, term: Mapping[str, Any]) -> None:
        self.labels: list[Callable[[Mapping[str, str]], bool]] = []
        self.fields: list[Callable[[str], bool]] = []
        self.errors: list[str] = []
        for expr in term.get("matchExpressions") or ():
            m, err = _label_requirement(expr)
            if err:
                self.errors.append(err)
            else:
                self.labels.append(m)
        for expr in term.get("matchFields") or ():
            m, err = _field_requirement(expr)
            if err:
                self.errors.append(err)
            else:
                self.fields.append(m)

    def match(self, labels: Mapping[str, str], name: str) -> bool:
        if self.errors:
            return False
        for m in self.labels:
            if not m(labels):
                return False
        if self.fields and name:
            for f in self.fields:
                if not f(name):
                    return False
        return True


class NodeSelector:
    """``LazyErrorNodeSelector``: a ``NodeSelector``'s terms, ORed; empty terms are dropped
    (and select nothing); terms that do not parse never match."""

    __slots__ = ("terms", "errors")

    def __init__(self, selector: Mapping[str, Any] | None) -> None:
        raw = (selector or {}).get("nodeSelectorTerms") or ()
        self.terms = [_Term(t) for t in raw if not _is_empty_term(t)]
        self.errors = [e for t in self.terms for e in t.errors]

    def match(self, labels: Mapping[str, str] | None, name: str = "") -> bool:
        labels = labels or _EMPTY
        for t in self.terms:
            if t.match(labels, name):
                return True
        return False


def node_selector(selector: Mapping[str, Any] | None) -> NodeSelector:
    return NodeSelector(selector)


class RequiredNodeAffinity:
    """``nodeaffinity.GetRequiredNodeAffinity(pod)``: ``spec.nodeSelector`` (a label set)
    ANDed with the required node affinity terms (when the pod has them)."""

    __slots__ = ("selector", "affinity")

    def __init__(self, pod: Mapping[str, Any]) -> None:
        spec = pod.get("spec") or {}
        ns = spec.get("nodeSelector")
        self.selector: tuple[tuple[str, str], ...] | None = tuple(ns.items()) if ns else None
        req = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
               .get("requiredDuringSchedulingIgnoredDuringExecution"))
        self.affinity = NodeSelector(req) if req is not None else None

    @property
    def empty(self) -> bool:
        return self.selector is None and self.affinity is None

    def match(self, labels: Mapping[str, str] | None, name: str = "") -> bool:
        labels = labels or _EMPTY
        sel = self.selector
        if sel is not None:
            for k, v in sel:
                if labels.get(k) != v:
                    return False
                if v == "" and k not in labels:
                    return False
        if self.affinity is not None:
            return self.affinity.match(labels, name)
        return True


def required_node_affinity(pod: Mapping[str, Any]) -> RequiredNodeAffinity:
    return RequiredNodeAffinity(pod)


class PreferredSchedulingTerms:
    """``nodeaffinity.PreferredSchedulingTerms``: weighted terms; a node's score is the sum
    of the weights of the terms it matches. Terms of weight 0 and empty terms are dropped."""

    __slots__ = ("terms", "errors")

    def __init__(self, terms: Iterable[Mapping[str, Any]]) -> None:
        self.terms: list[tuple[_Term, int]] = []
        self.errors: list[str] = []
        for t in terms or ():
            if not isinstance(t, Mapping):
                continue
            weight = t.get("weight") or 0
            pref = t.get("preference") or {}
            if weight == 0 or _is_empty_term(pref):
                continue
            term = _Term(pref)
            if term.errors:
                self.errors.extend(term.errors)
            else:
                self.terms.append((term, int(weight)))

    def score(self, labels: Mapping[str, str] | None, name: str = "") -> int:
        labels = labels or _EMPTY
        total = 0
        for term, weight in self.terms:
            if term.match(labels, name):
                total += weight
        return total


def preferred_scheduling_terms(pod: Mapping[str, Any]) -> PreferredSchedulingTerms | None:
    """The pod's preferred node affinity, or None if it has none (``getPodPreferredNodeAffinity``)."""
    na = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
    terms = na.get("preferredDuringSchedulingIgnoredDuringExecution")
    if terms is None:
        return None
    return PreferredSchedulingTerms(terms)


# -- taints and tolerations -----------------------------------------------------------------

Taint = tuple[str, str, str]                # (key, value, effect)
Toleration = tuple[str, str, str, str]      # (key, operator, value, effect)


def parse_taints(taints: Iterable[Mapping[str, Any]] | None) -> tuple[Taint, ...]:
    if not taints:
        return ()
    return tuple([(t.get("key") or "", t.get("value") or "", t.get("effect") or "")
                  for t in taints if type(t) is dict or isinstance(t, Mapping)])


def parse_tolerations(tolerations: Iterable[Mapping[str, Any]] | None) -> tuple[Toleration, ...]:
    if not tolerations:
        return ()
    # ``type(t) is dict`` first: the ABC check is slow, and stored objects are dicts
    return tuple([(t.get("key") or "", t.get("operator") or "", t.get("value") or "",
                   t.get("effect") or "")
                  for t in tolerations if type(t) is dict or isinstance(t, Mapping)])


def toleration_tolerates(tol: Toleration, taint: Taint) -> bool:
    """``Toleration.ToleratesTaint``."""
    key, op, value, effect = tol
    if effect and effect != taint[2]:
        return False
    if key and key != taint[0]:
        return False
    if op == "" or op == "Equal":
        return value == taint[1]
    return op == "Exists"


def tolerates(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    """``TolerationsTolerateTaint``."""
    for tol in tolerations:
        if toleration_tolerates(tol, taint):
            return True
    return False


def find_untolerated(taints: Iterable[Taint], tolerations: tuple[Toleration, ...],
                     effects: tuple[str, ...] = (NO_SCHEDULE, NO_EXECUTE)) -> Taint | None:
    """``FindMatchingUntoleratedTaint``: the first taint (in node order) with one of
    ``effects`` that no toleration tolerates."""
    for taint in taints:
        if taint[2] in effects and not tolerates(tolerations, taint):
            return taint
    return None


# -- resources ------------------------------------------------------------------------------

def is_extended_resource(name: str) -> bool:
    """``IsExtendedResourceName``: a domain-prefixed name outside ``kubernetes.io``."""
    return "/" in name and "kubernetes.io/" not in name and not name.startswith("requests.")


def is_scalar_resource(name: str) -> bool:
    """``IsScalarResourceName``: extended, hugepages, prefixed native or attachable volumes."""
    return ("/" in name or name.startswith("hugepages-")
            or name.startswith("attachable-volumes-"))


# -- storage --------------------------------------------------------------------------------

def pvc_class(pvc: Mapping[str, Any]) -> str:
    """``GetPersistentVolumeClaimClass``: the beta annotation wins over the field."""
    ann = (pvc.get("metadata") or {}).get("annotations") or {}
    cls = ann.get("volume.beta.kubernetes.io/storage-class")
    if cls is not None:
        return cls
    return (pvc.get("spec") or {}).get("storageClassName") or ""


def pv_class(pv: Mapping[str, Any]) -> str:
    """``GetPersistentVolumeClass``."""
    ann = (pv.get("metadata") or {}).get("annotations") or {}
    cls = ann.get("volume.beta.kubernetes.io/storage-class")
    if cls is not None:
        return cls
    return (pv.get("spec") or {}).get("storageClassName") or ""


def zone_key(labels: Mapping[str, str] | None) -> str:
    """``utilnode.GetZoneKey``: region and zone of a node, or "" when it has neither."""
    if not labels:
        return ""
    zone = labels.get(LABEL_ZONE)
    if zone is None:
        zone = labels.get(LABEL_ZONE_BETA, "")
    region = labels.get(LABEL_REGION)
    if region is None:
        region = labels.get(LABEL_REGION_BETA, "")
    if not region and not zone:
        return ""
    return region + ":\x00:" + zone
