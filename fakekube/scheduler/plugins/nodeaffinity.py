"""NodeAffinity: ``spec.nodeSelector`` and required node affinity filter nodes; preferred
node affinity scores them.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go``
(v1.31):

- PreFilter skips the filter for a pod with neither a node selector nor required node
  affinity; for required terms that name nodes (``matchFields`` on ``metadata.name`` with
  ``In``) it narrows the cycle to those nodes (a PreFilterResult), and fails with
  ``pod affinity terms conflict`` when every term's names cancel out;
- Filter: ``node(s) didn't match Pod's node affinity/selector`` (UnschedulableAndUnresolvable);
- Score: the sum of the weights of the preferred terms a node matches, normalized to 0-100.
"""

from __future__ import annotations

from ..framework import (MAX_NODE_SCORE, SKIP, ActionType, ClusterEvent, CycleState,
                         PreFilterResult, Status, error, unresolvable)
from ..helpers import RequiredNodeAffinity, preferred_scheduling_terms
from ..types import NodeInfo, PodInfo
from .normalize import default_normalize_score

NAME = "NodeAffinity"
WEIGHT = 2
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_CONFLICT = "pod affinity terms conflict"

_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME
_MISMATCH = unresolvable(ERR_REASON_POD)
_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def required_node_names(pod: PodInfo) -> set[str] | None:
    """The node names the required terms allow, or None when some term does not restrict
    node names (terms are ORed, ``matchFields`` requirements of a term ANDed)."""
    req = (((pod.affinity.get("nodeAffinity") or {})
            .get("requiredDuringSchedulingIgnoredDuringExecution")) or {})
    terms = req.get("nodeSelectorTerms") or []
    if not terms:
        return None
    names: set[str] | None = None
    for t in terms:
        term_names: set[str] | None = None
        for r in (t or {}).get("matchFields") or ():
            if r.get("key") == "metadata.name" and r.get("operator") == "In":
                s = set(r.get("values") or ())
                term_names = s if term_names is None else term_names & s
        if term_names is None:
            return None
        names = term_names if names is None else names | term_names
    return names


class NodeAffinity:
    NAME = NAME
    WEIGHT = WEIGHT

    def __init__(self, handle: object = None) -> None:
        self.handle = handle

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        if (not (pod.pod.get("spec") or {}).get("nodeSelector")
                and (pod.affinity.get("nodeAffinity") or {}).get(_REQUIRED) is None):
            return None, SKIP   # what RequiredNodeAffinity(pod).empty says, without building it
        req = RequiredNodeAffinity(pod.pod)
        if req.empty:
            return None, SKIP
        state.write(_PRE_FILTER_KEY, req)
        if req.affinity is None:
            return None, None
        names = required_node_names(pod)
        if names is None:
            return None, None
        if not names:
            return None, unresolvable(ERR_REASON_CONFLICT)
        return PreFilterResult(names), None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        req = state.read(_PRE_FILTER_KEY)
        if req is None:
            req = RequiredNodeAffinity(pod.pod)
        if req.match(node.labels, node.name):
            return None
        return _MISMATCH

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                  ) -> Status | None:
        if not nodes:
            return None
        terms = preferred_scheduling_terms(pod.pod)
        if terms is None:
            return SKIP
        if terms.errors:
            return error("; ".join(terms.errors))
        state.write(_PRE_SCORE_KEY, terms)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        terms = state.read(_PRE_SCORE_KEY)
        if terms is None:
            terms = preferred_scheduling_terms(pod.pod)
            if terms is None:
                return 0
        return terms.score(node.labels, node.name)

    def normalize_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo],
                        scores: list[int]) -> None:
        default_normalize_score(MAX_NODE_SCORE, False, scores)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL
                             | ActionType.UPDATE_NODE_TAINT)]
