"""InterPodAffinity: pods that must (or prefer to) run near, or away from, other pods.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/interpodaffinity/``
(``plugin.go``, ``filtering.go``, ``scoring.go``; v1.31):

- Filter, in this order: the pod's required affinity (every term's topology domain on the
  node must hold a pod matching *all* the terms; a pod that matches its own terms may go
  anywhere with the topology keys when no such pod exists yet): ``node(s) didn't match pod
  affinity rules`` (UnschedulableAndUnresolvable); the pod's required anti-affinity:
  ``node(s) didn't match pod anti-affinity rules``; existing pods' required anti-affinity
  against this pod: ``node(s) didn't satisfy existing pods anti-affinity rules`` (both
  Unschedulable). PreFilter skips the plugin when none of these can apply.
- Score: preferred (anti-)affinity of the pod towards existing pods, and the existing pods'
  preferred terms and required affinity terms (weight 1, ``hardPodAffinityWeight``) towards
  the pod, summed per topology domain; normalized to 0-100 between the lowest and highest.
- A term's ``namespaceSelector`` is resolved against the cluster's namespaces when the pod
  is scheduled; an empty ``namespaces`` list with no selector means the pod's namespace.
"""

from __future__ import annotations

from typing import Any, Mapping

from ...api.selectors import NOTHING
from ..framework import (MAX_NODE_SCORE, SKIP, ActionType, ClusterEvent, CycleState,
                         PreFilterResult, Status, error, unresolvable, unschedulable)
from ..types import AffinityTerm, NodeInfo, PodInfo

NAME = "InterPodAffinity"
WEIGHT = 2
HARD_POD_AFFINITY_WEIGHT = 1
ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"

PRE_FILTER_KEY = "PreFilter" + NAME
PRE_SCORE_KEY = "PreScore" + NAME

_AFFINITY = unresolvable(ERR_REASON_AFFINITY)
_ANTI_AFFINITY = unschedulable(ERR_REASON_ANTI_AFFINITY)
_EXISTING_ANTI_AFFINITY = unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY)

Counts = dict[tuple[str, str], int]


def _update(counts: Counts, labels: Mapping[str, str], key: str, value: int) -> None:
    tv = labels.get(key)
    if tv is not None:
        pair = (key, tv)
        n = counts.get(pair, 0) + value
        if n == 0:
            counts.pop(pair, None)
        else:
            counts[pair] = n


def matches_all(terms: list[AffinityTerm], pod: PodInfo) -> bool:
    """``podMatchesAllAffinityTerms``."""
    if not terms:
        return False
    for t in terms:
        if not t.matches(pod.namespace, pod.labels, None):
            return False
    return True


def update_with_affinity_terms(counts: Counts, terms: list[AffinityTerm], pod: PodInfo,
                               labels: Mapping[str, str], value: int) -> None:
    if matches_all(terms, pod):
        for t in terms:
            _update(counts, labels, t.topology_key, value)


def update_with_anti_affinity_terms(counts: Counts, terms: list[AffinityTerm], pod: PodInfo,
                                    ns_labels: Mapping[str, str] | None,
                                    labels: Mapping[str, str], value: int) -> None:
    for t in terms:
        if t.matches(pod.namespace, pod.labels, ns_labels):
            _update(counts, labels, t.topology_key, value)


class _FilterState:
    __slots__ = ("pod", "affinity_terms", "anti_affinity_terms", "ns_labels", "existing_anti",
                 "affinity_counts", "anti_affinity_counts")

    def __init__(self, pod: PodInfo, affinity_terms: list[AffinityTerm],
                 anti_affinity_terms: list[AffinityTerm], ns_labels: Mapping[str, str]) -> None:
        self.pod = pod
        self.affinity_terms = affinity_terms
        self.anti_affinity_terms = anti_affinity_terms
        self.ns_labels = ns_labels
        self.existing_anti: Counts = {}
        self.affinity_counts: Counts = {}
        self.anti_affinity_counts: Counts = {}

    def clone(self) -> "_FilterState":
        c = _FilterState(self.pod, self.affinity_terms, self.anti_affinity_terms, self.ns_labels)
        c.existing_anti = dict(self.existing_anti)
        c.affinity_counts = dict(self.affinity_counts)
        c.anti_affinity_counts = dict(self.anti_affinity_counts)
        return c

    def update_with_pod(self, other: PodInfo, node: NodeInfo, value: int) -> None:
        """``preFilterState.updateWithPod`` (preemption's AddPod/RemovePod)."""
        if node.node is None:
            return
        labels = node.labels
        update_with_anti_affinity_terms(self.existing_anti, other.required_anti_affinity_terms,
                                        self.pod, self.ns_labels, labels, value)
        update_with_affinity_terms(self.affinity_counts, self.affinity_terms, other, labels,
                                   value)
        update_with_anti_affinity_terms(self.anti_affinity_counts, self.anti_affinity_terms,
                                        other, None, labels, value)


class InterPodAffinity:
    NAME = NAME
    WEIGHT = WEIGHT

    def __init__(self, handle, hard_pod_affinity_weight: int = HARD_POD_AFFINITY_WEIGHT,
                 ignore_preferred_terms_of_existing_pods: bool = False) -> None:
        self.handle = handle
        self.hard_pod_affinity_weight = hard_pod_affinity_weight
        self.ignore_preferred_terms_of_existing_pods = ignore_preferred_terms_of_existing_pods

    def _merge_namespaces(self, term: AffinityTerm) -> AffinityTerm:
        """``mergeAffinityTermNamespacesIfNotEmpty``: resolve a non-empty namespace selector
        into namespace names now."""
        sel = term.ns_selector
        if sel.empty:
            return term
        names = set(term.namespaces)
        if sel is not NOTHING:
            for ns in self.handle.informer("Namespace"):
                if sel.matches(ns["metadata"].get("labels")):
                    names.add(ns["metadata"]["name"])
        return AffinityTerm(frozenset(names), term.selector, term.topology_key, NOTHING)

    # -- Filter --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        h = self.handle
        cache = h.cache
        if not pod.has_affinity and not cache.has_required_anti_affinity_pods():
            # Nothing to check: no terms of its own, and no existing pod with required
            # anti-affinity that could reject it (what the full pass below finds too).
            return None, SKIP
        aff = [self._merge_namespaces(t) for t in pod.required_affinity_terms]
        anti = [self._merge_namespaces(t) for t in pod.required_anti_affinity_terms]
        if pod.parse_error is not None:
            return None, unresolvable(f"parsing pod: {pod.parse_error}")
        ns_labels = h.namespace_labels(pod.namespace)
        s = _FilterState(pod, aff, anti, ns_labels)
        for ni in cache.nodes_with_required_anti_affinity_pods():
            labels = ni.labels
            for existing in ni.pods_with_required_anti_affinity.values():
                update_with_anti_affinity_terms(s.existing_anti,
                                                existing.required_anti_affinity_terms, pod,
                                                ns_labels, labels, 1)
        if aff or anti:
            for existing, ni in cache.pods_on_nodes(_candidate_selectors(aff, anti)):
                labels = ni.labels
                update_with_affinity_terms(s.affinity_counts, aff, existing, labels, 1)
                update_with_anti_affinity_terms(s.anti_affinity_counts, anti, existing, None,
                                                labels, 1)
        if not s.existing_anti and not aff and not anti:
            return None, SKIP
        state.write(PRE_FILTER_KEY, s)
        return None, None

    def pre_filter_add_pod(self, state: CycleState, pod: PodInfo, added: PodInfo,
                           node: NodeInfo) -> Status | None:
        s = state.read(PRE_FILTER_KEY)
        if s is not None:
            s.update_with_pod(added, node, 1)
        return None

    def pre_filter_remove_pod(self, state: CycleState, pod: PodInfo, removed: PodInfo,
                              node: NodeInfo) -> Status | None:
        s = state.read(PRE_FILTER_KEY)
        if s is not None:
            s.update_with_pod(removed, node, -1)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _FilterState | None = state.read(PRE_FILTER_KEY)
        if s is None:
            return error(f'error reading "{PRE_FILTER_KEY}" from cycleState: not found')
        labels = node.labels
        if s.affinity_terms:
            pods_exist = True
            for t in s.affinity_terms:
                tv = labels.get(t.topology_key)
                if tv is None:
                    return _AFFINITY
                if s.affinity_counts.get((t.topology_key, tv), 0) <= 0:
                    pods_exist = False
            if not pods_exist and not (not s.affinity_counts
                                       and matches_all(s.affinity_terms, s.pod)):
                return _AFFINITY
        if s.anti_affinity_counts:
            for t in s.anti_affinity_terms:
                tv = labels.get(t.topology_key)
                if tv is not None and s.anti_affinity_counts.get((t.topology_key, tv), 0) > 0:
                    return _ANTI_AFFINITY
        if s.existing_anti:
            ea = s.existing_anti
            for item in labels.items():
                if ea.get(item, 0) > 0:
                    return _EXISTING_ANTI_AFFINITY
        return None

    # -- Score ---------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                  ) -> Status | None:
        if not nodes:
            return SKIP
        h = self.handle
        if not pod.has_affinity and not h.cache.has_affinity_pods():
            # No preferred terms of its own and no existing pod with affinity terms: the
            # scores below would all be empty.
            return SKIP
        aff = (pod.affinity.get("podAffinity") or {}).get(
            "preferredDuringSchedulingIgnoredDuringExecution")
        anti = (pod.affinity.get("podAntiAffinity") or {}).get(
            "preferredDuringSchedulingIgnoredDuringExecution")
        has_constraints = bool(aff) or bool(anti)
        if self.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return SKIP
        if pod.has_affinity:
            pod.required_affinity_terms  # noqa: B018 - parse, to surface errors
        if pod.parse_error is not None:
            return error(f"failed to parse pod: {pod.parse_error}")
        preferred = [(self._merge_namespaces(t), w) for t, w in pod.preferred_affinity_terms]
        preferred_anti = [(self._merge_namespaces(t), w)
                          for t, w in pod.preferred_anti_affinity_terms]
        ns_labels = h.namespace_labels(pod.namespace)
        scores: dict[str, dict[str, int]] = {}
        hard_weight = self.hard_pod_affinity_weight
        cache = h.cache
        node_infos = cache.node_list() if has_constraints else \
            cache.nodes_with_affinity_pods()
        for ni in node_infos:
            labels = ni.labels
            if not labels:
                continue
            existing_pods = ni.pods.values() if has_constraints else \
                ni.pods_with_affinity.values()
            for existing in existing_pods:
                for t, w in preferred:
                    _score_term(scores, t, w, existing, None, labels, 1)
                for t, w in preferred_anti:
                    _score_term(scores, t, w, existing, None, labels, -1)
                if not existing.has_affinity:
                    continue
                if hard_weight > 0:
                    for t in existing.required_affinity_terms:
                        _score_term(scores, t, hard_weight, pod, ns_labels, labels, 1)
                for t, w in existing.preferred_affinity_terms:
                    _score_term(scores, t, w, pod, ns_labels, labels, 1)
                for t, w in existing.preferred_anti_affinity_terms:
                    _score_term(scores, t, w, pod, ns_labels, labels, -1)
        if not scores:
            return SKIP
        state.write(PRE_SCORE_KEY, scores)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scores = state.read(PRE_SCORE_KEY)
        if not scores:
            return 0
        labels = node.labels
        total = 0
        for key, by_value in scores.items():
            v = labels.get(key)
            if v is not None:
                total += by_value.get(v, 0)
        return total

    def normalize_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo],
                        scores: list[int]) -> None:
        if not state.read(PRE_SCORE_KEY) or not scores:
            return
        lo, hi = min(scores), max(scores)
        diff = hi - lo
        for i, sc in enumerate(scores):
            scores[i] = int(MAX_NODE_SCORE * ((sc - lo) / diff)) if diff > 0 else 0

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.ADD | ActionType.UPDATE_POD_LABEL
                             | ActionType.DELETE),
                ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL
                             | ActionType.UPDATE_NODE_TAINT)]


def _score_term(scores: dict[str, dict[str, int]], term: AffinityTerm, weight: int,
                pod: PodInfo, ns_labels: Mapping[str, str] | None, node_labels: Mapping[str, str],
                multiplier: int) -> None:
    """``scoreMap.processTerm``."""
    if term.matches(pod.namespace, pod.labels, ns_labels):
        tv = node_labels.get(term.topology_key)
        if tv is not None:
            by_value = scores.setdefault(term.topology_key, {})
            by_value[tv] = by_value.get(tv, 0) + weight * multiplier


def _candidate_selectors(aff: list[AffinityTerm], anti: list[AffinityTerm]) -> list[Any] | None:
    """The label selectors an existing pod must match one of to affect the pod's required
    terms (affinity counts need every affinity term), or None for "any pod"."""
    sels: list[Any] = []
    if aff:
        sels.append(aff[0].selector)
    sels.extend(t.selector for t in anti)
    return sels
