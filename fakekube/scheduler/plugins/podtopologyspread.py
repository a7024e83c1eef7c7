"""PodTopologySpread: spread matching pods across topology domains (nodes, zones...).

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/podtopologyspread/``
(``plugin.go``, ``common.go``, ``filtering.go``, ``scoring.go``; v1.31) and the system
default constraints of ``kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go``:

- constraints with ``whenUnsatisfiable: DoNotSchedule`` filter: a node passes a constraint
  when ``matching pods in its domain + 1 (if the pod matches itself) - global minimum <=
  maxSkew``; the global minimum is over the domains of eligible nodes (nodes that have every
  constraint's topology key and pass the node inclusion policies: node affinity honoured,
  taints ignored, by default), and 0 when there are fewer than ``minDomains`` domains. A node
  without a constraint's key fails with ``node(s) didn't match pod topology spread
  constraints (missing required label)`` (UnschedulableAndUnresolvable), a skew too large
  with ``node(s) didn't match pod topology spread constraints`` (Unschedulable);
- ``ScheduleAnyway`` constraints score: for each constraint, the matching pods in the node's
  domain times ``log(number of domains + 2)`` plus ``maxSkew - 1``, summed and rounded; the
  scores are then inverted and scaled so that the least crowded node gets 100;
- a pod without constraints of its own gets the system defaults when a Service,
  ReplicationController, ReplicaSet or StatefulSet selects it: ``kubernetes.io/hostname``
  maxSkew 3 and ``topology.kubernetes.io/zone`` maxSkew 5, both ScheduleAnyway, with the
  merged selector of those objects (``helper.DefaultSelector``);
- terminating pods and pods of other namespaces never count; ``matchLabelKeys`` add the
  pod's own values of those labels to the selector.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ...api.selectors import EQUALS, LabelSelector, SelectorError, label_selector_from_dict
from ..framework import (MAX_NODE_SCORE, SKIP, ActionType, ClusterEvent, CycleState,
                         PreFilterResult, Status, error, unresolvable, unschedulable)
from ..helpers import (LABEL_HOSTNAME, LABEL_ZONE, RequiredNodeAffinity, find_untolerated)
from ..types import NodeInfo, PodInfo

NAME = "PodTopologySpread"
WEIGHT = 2
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"

PRE_FILTER_KEY = "PreFilter" + NAME
PRE_SCORE_KEY = "PreScore" + NAME

DO_NOT_SCHEDULE, SCHEDULE_ANYWAY = "DoNotSchedule", "ScheduleAnyway"
HONOR, IGNORE = "Honor", "Ignore"

# ``pkg/scheduler/apis/config/v1/defaults.go`` systemDefaultConstraints.
SYSTEM_DEFAULT_CONSTRAINTS = (
    {"topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": LABEL_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
)

_NOT_MATCH = unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)
_LABEL_NOT_MATCH = unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)
_INT32_MAX = (1 << 31) - 1
_EVERYTHING = LabelSelector(())


class Constraint:
    """``topologySpreadConstraint``: the parsed form of one constraint."""

    __slots__ = ("max_skew", "topology_key", "selector", "min_domains", "node_affinity_policy",
                 "node_taints_policy")

    def __init__(self, max_skew: int, topology_key: str, selector: LabelSelector,
                 min_domains: int = 1, node_affinity_policy: str = HONOR,
                 node_taints_policy: str = IGNORE) -> None:
        self.max_skew = max_skew
        self.topology_key = topology_key
        self.selector = selector
        self.min_domains = min_domains
        self.node_affinity_policy = node_affinity_policy
        self.node_taints_policy = node_taints_policy

    def includes(self, pod: PodInfo, node: NodeInfo, required: RequiredNodeAffinity) -> bool:
        """``matchNodeInclusionPolicies``."""
        if self.node_affinity_policy == HONOR and not required.match(node.labels, node.name):
            return False
        if self.node_taints_policy == HONOR and node.hard_taints and find_untolerated(
                node.hard_taints, pod.tolerations) is not None:
            return False
        return True


def filter_constraints(constraints: Any, pod_labels: Mapping[str, str], action: str
                       ) -> list[Constraint]:
    """``filterTopologySpreadConstraints``: the constraints with ``whenUnsatisfiable ==
    action``, parsed; raises :class:`SelectorError` for a bad selector."""
    out = []
    for c in constraints or ():
        if c.get("whenUnsatisfiable") != action:
            continue
        selector = label_selector_from_dict(c.get("labelSelector"))
        keys = c.get("matchLabelKeys") or ()
        if keys:
            extra = [(k, EQUALS, (pod_labels[k],)) for k in keys if k in pod_labels]
            if extra:
                selector = LabelSelector(list(selector.requirements) + extra)
        min_domains = c.get("minDomains")
        out.append(Constraint(int(c.get("maxSkew") or 0), c.get("topologyKey") or "", selector,
                              int(min_domains) if min_domains else 1,
                              c.get("nodeAffinityPolicy") or HONOR,
                              c.get("nodeTaintsPolicy") or IGNORE))
    return out


def labels_match_constraints(labels: Mapping[str, str], constraints: list[Constraint]) -> bool:
    """``nodeLabelsMatchSpreadConstraints``: the node has every constraint's key."""
    for c in constraints:
        if c.topology_key not in labels:
            return False
    return True


class CriticalPaths:
    """``criticalPaths``: the two domains with the fewest matching pods (upstream's
    incremental approximation, kept as is for preemption's add/remove updates)."""

    __slots__ = ("paths",)

    def __init__(self) -> None:
        self.paths = [["", _INT32_MAX], ["", _INT32_MAX]]

    def update(self, value: str, num: int) -> None:
        p = self.paths
        i = 0 if value == p[0][0] else 1 if value == p[1][0] else -1
        if i >= 0:
            p[i][1] = num
            if p[0][1] > p[1][1]:
                p[0], p[1] = p[1], p[0]
        elif num < p[0][1]:
            p[1] = p[0]
            p[0] = [value, num]
        elif num < p[1][1]:
            p[1] = [value, num]

    def min(self) -> int:
        return self.paths[0][1]

    def clone(self) -> "CriticalPaths":
        c = CriticalPaths()
        c.paths = [list(self.paths[0]), list(self.paths[1])]
        return c


class _FilterState:
    """``preFilterState``: constraints, matching pods per domain, domains per key, and the
    critical paths (global minima) per key."""

    __slots__ = ("constraints", "pair_counts", "domains", "paths", "required")

    def __init__(self, constraints: list[Constraint], required: RequiredNodeAffinity) -> None:
        self.constraints = constraints
        self.pair_counts: dict[tuple[str, str], int] = {}
        self.domains: dict[str, int] = {}
        self.paths: dict[str, CriticalPaths] = {}
        self.required = required

    def clone(self) -> "_FilterState":
        c = _FilterState(self.constraints, self.required)
        c.pair_counts = dict(self.pair_counts)
        c.domains = self.domains
        c.paths = {k: p.clone() for k, p in self.paths.items()}
        return c

    def min_match(self, key: str, min_domains: int) -> int | None:
        paths = self.paths.get(key)
        if paths is None:
            return None
        m = paths.min()
        if self.domains.get(key, 0) < min_domains:
            m = 0
        return m


class _ScoreState:
    __slots__ = ("constraints", "ignored", "pair_counts", "weights", "host_counts")

    def __init__(self) -> None:
        self.constraints: list[Constraint] = []
        self.ignored: set[str] = set()
        self.pair_counts: dict[tuple[str, str], int] = {}
        self.weights: list[float] = []
        self.host_counts: dict[str, dict[str, int]] = {}


def round_half_away(x: float) -> int:
    """Go's ``math.Round`` for the non-negative scores here."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


class PodTopologySpread:
    NAME = NAME
    WEIGHT = WEIGHT

    def __init__(self, handle, default_constraints: tuple = SYSTEM_DEFAULT_CONSTRAINTS,
                 system_defaulted: bool = True) -> None:
        self.handle = handle
        self.default_constraints = default_constraints
        self.system_defaulted = system_defaulted
        self._services: dict[str, tuple[Any, int, tuple[dict, ...]]] = {}
        self._selectors: dict[tuple, LabelSelector] = {}
        self._owner: tuple[Any, LabelSelector | None] | None = None
        self._actions: tuple[Any, frozenset] | None = None

    # -- constraints ---------------------------------------------------------------------

    def _constraints(self, pod: PodInfo, action: str) -> list[Constraint]:
        spec = pod.pod.get("spec") or {}
        own = spec.get("topologySpreadConstraints")
        if own:
            return filter_constraints(own, pod.labels, action)
        if action not in self._default_actions():
            return []
        # The default selector first: for a pod that no Service, ReplicaSet or StatefulSet
        # selects it is empty, and the constraints need not be built (default constraints
        # carry no labelSelector of their own, so building them cannot fail).
        reqs = self._default_requirements(pod)
        if not reqs:
            return []
        selector = self._selector(reqs)
        constraints = filter_constraints(self.default_constraints, pod.labels, action)
        for c in constraints:
            c.selector = selector
        return constraints

    def _default_actions(self) -> frozenset:
        """The ``whenUnsatisfiable`` values of the default constraints (remembered for the
        constraints object they were read from)."""
        got = self._actions
        if got is None or got[0] is not self.default_constraints:
            got = self._actions = (self.default_constraints, frozenset(
                c.get("whenUnsatisfiable") for c in self.default_constraints))
        return got[1]

    def default_selector(self, pod: PodInfo) -> LabelSelector:
        """``helper.DefaultSelector``: the merged selectors of the Services selecting the pod
        and of the ReplicationController, ReplicaSet or StatefulSet that controls it."""
        return self._selector(self._default_requirements(pod))

    def _selector(self, reqs: tuple) -> LabelSelector:
        """``LabelSelector(reqs)``, built once per requirements (selectors are immutable)."""
        if not reqs:
            return _EVERYTHING
        sel = self._selectors.get(reqs)
        if sel is None:
            if len(self._selectors) >= 1024:
                self._selectors.clear()
            sel = self._selectors[reqs] = LabelSelector(reqs)
        return sel

    def _service_selectors(self, namespace: str) -> tuple[dict, ...]:
        """The ``spec.selector`` of every Service of ``namespace`` that has one, in list
        order; remembered per namespace until the next write to Services (the table's
        ``last_rv``: stored objects are never changed in place)."""
        inf = self.handle.informer("Service")
        table = getattr(inf, "table", None)
        version = getattr(table, "last_rv", None)
        if version is not None:
            got = self._services.get(namespace)
            if got is not None and got[0] is table and got[1] == version:
                return got[2]
        sels = []
        for svc in inf.list(namespace):
            sel = (svc.get("spec") or {}).get("selector")
            if sel is not None:
                sels.append(sel)
        out = tuple(sels)
        if version is not None:
            if len(self._services) >= 1024:
                self._services.clear()
            self._services[namespace] = (table, version, out)
        return out

    def _default_requirements(self, pod: PodInfo) -> tuple:
        """The requirements of :meth:`default_selector` (a hashable tuple)."""
        h = self.handle
        label_set: dict[str, str] = {}
        labels = pod.labels
        for sel in self._service_selectors(pod.namespace):
            if all(labels.get(k) == v for k, v in sel.items()):
                label_set.update(sel)
        reqs = [(k, EQUALS, (v,)) for k, v in label_set.items()]
        owner = None
        for r in pod.pod["metadata"].get("ownerReferences") or ():
            if r.get("controller"):
                owner = r
                break
        if owner is not None:
            kind, api_version = owner.get("kind"), owner.get("apiVersion")
            obj = None
            if kind == "ReplicationController" and api_version == "v1":
                inf = h.informer_or_none("ReplicationController")
                rc = inf.get(owner.get("name", ""), pod.namespace) if inf is not None else None
                if rc is not None:
                    label_set.update((rc.get("spec") or {}).get("selector") or {})
                    reqs = [(k, EQUALS, (v,)) for k, v in label_set.items()]
            elif kind == "ReplicaSet" and api_version == "apps/v1":
                obj = h.informer("ReplicaSet").get(owner.get("name", ""), pod.namespace)
            elif kind == "StatefulSet" and api_version == "apps/v1":
                obj = h.informer("StatefulSet").get(owner.get("name", ""), pod.namespace)
            if obj is not None:
                other = self._owner_selector(obj)
                if other is not None and not other.nothing:
                    reqs = reqs + list(other.requirements)
        return tuple(reqs)

    def _owner_selector(self, obj: Mapping[str, Any]) -> LabelSelector | None:
        """The parsed ``spec.selector`` of a ReplicaSet or StatefulSet (None if it does not
        parse), remembered for the last object asked about: stored objects never change in
        place, so the same object has the same selector."""
        last = self._owner
        if last is not None and last[0] is obj:
            return last[1]
        try:
            other = label_selector_from_dict((obj.get("spec") or {}).get("selector"))
        except SelectorError:
            other = None
        self._owner = (obj, other)
        return other

    # -- Filter --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        try:
            constraints = self._constraints(pod, DO_NOT_SCHEDULE)
        except SelectorError as exc:
            return None, error(f"get constraints from pod: {exc}")
        if not constraints:
            return None, SKIP
        required = RequiredNodeAffinity(pod.pod)
        s = _FilterState(constraints, required)
        cache = self.handle.cache
        counts = [cache.count_matching(c.selector, pod.namespace) for c in constraints]
        pair_counts = s.pair_counts
        for ni in cache.node_list():
            labels = ni.labels
            if not labels_match_constraints(labels, constraints):
                continue
            for c, by_node in zip(constraints, counts):
                if not c.includes(pod, ni, required):
                    continue
                pair = (c.topology_key, labels[c.topology_key])
                pair_counts[pair] = pair_counts.get(pair, 0) + by_node.get(ni.name, 0)
        for c in constraints:
            s.paths.setdefault(c.topology_key, CriticalPaths())
        for (key, _value) in pair_counts:
            s.domains[key] = s.domains.get(key, 0) + 1
        for (key, value), num in sorted(pair_counts.items()):
            s.paths[key].update(value, num)
        state.write(PRE_FILTER_KEY, s)
        return None, None

    def _update_with_pod(self, s: _FilterState, updated: PodInfo, pod: PodInfo,
                         node: NodeInfo, delta: int) -> None:
        if updated.namespace != pod.namespace or node.node is None:
            return
        if not labels_match_constraints(node.labels, s.constraints):
            return
        for c in s.constraints:
            if not c.selector.matches(updated.labels):
                continue
            if not c.includes(pod, node, s.required):
                continue
            pair = (c.topology_key, node.labels[c.topology_key])
            n = s.pair_counts.get(pair, 0) + delta
            s.pair_counts[pair] = n
            s.paths[c.topology_key].update(pair[1], n)

    def pre_filter_add_pod(self, state: CycleState, pod: PodInfo, added: PodInfo,
                           node: NodeInfo) -> Status | None:
        s = state.read(PRE_FILTER_KEY)
        if s is not None:
            self._update_with_pod(s, added, pod, node, 1)
        return None

    def pre_filter_remove_pod(self, state: CycleState, pod: PodInfo, removed: PodInfo,
                              node: NodeInfo) -> Status | None:
        s = state.read(PRE_FILTER_KEY)
        if s is not None:
            self._update_with_pod(s, removed, pod, node, -1)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _FilterState | None = state.read(PRE_FILTER_KEY)
        if s is None:
            return error(f'error reading "{PRE_FILTER_KEY}" from cycleState: not found')
        if not s.constraints:
            return None
        labels = node.labels
        for c in s.constraints:
            value = labels.get(c.topology_key)
            if value is None:
                return _LABEL_NOT_MATCH
            min_match = s.min_match(c.topology_key, c.min_domains)
            if min_match is None:
                continue
            self_match = 1 if c.selector.matches(pod.labels) else 0
            match = s.pair_counts.get((c.topology_key, value), 0)
            if match + self_match - min_match > c.max_skew:
                return _NOT_MATCH
        return None

    # -- Score ---------------------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                  ) -> Status | None:
        cache = self.handle.cache
        if not cache.node_list():
            return SKIP
        try:
            constraints = self._constraints(pod, SCHEDULE_ANYWAY)
        except SelectorError as exc:
            return error(f"calculating preScoreState: {exc}")
        if not constraints:
            return SKIP
        own = bool((pod.pod.get("spec") or {}).get("topologySpreadConstraints"))
        require_all = own or not self.system_defaulted
        s = _ScoreState()
        s.constraints = constraints
        sizes = [0] * len(constraints)
        pair_counts = s.pair_counts
        if require_all:
            keys = [c.topology_key for c in constraints]
            for ni in nodes:
                labels = ni.labels
                if not all(k in labels for k in keys):
                    s.ignored.add(ni.name)
        scored = [ni for ni in nodes if ni.name not in s.ignored] if s.ignored else nodes
        for i, c in enumerate(constraints):
            key = c.topology_key
            if key == LABEL_HOSTNAME:
                continue
            values = {ni.labels.get(key, "") for ni in scored}
            for v in values:
                if (key, v) not in pair_counts:
                    pair_counts[(key, v)] = 0
                    sizes[i] += 1
        for i, c in enumerate(constraints):
            size = sizes[i]
            if c.topology_key == LABEL_HOSTNAME:
                size = len(nodes) - len(s.ignored)
            s.weights.append(math.log(size + 2))
        required = RequiredNodeAffinity(pod.pod)
        fast = required.empty and all(c.node_taints_policy == IGNORE for c in constraints)
        for c in constraints:
            key = c.topology_key
            if key == LABEL_HOSTNAME:
                s.host_counts[key] = cache.count_matching(c.selector, pod.namespace)
                continue
            if fast and not require_all:
                # Every node passes the inclusion policies: the matching pods of each domain
                # are the cache's per-label count.
                by_value = cache.count_matching_by_label(c.selector, pod.namespace, key)
                for pair in pair_counts:
                    if pair[0] == key:
                        pair_counts[pair] = by_value.get(pair[1], 0)
                continue
            by_node = cache.count_matching(c.selector, pod.namespace)
            for ni in cache.node_list():
                labels = ni.labels
                if require_all and not labels_match_constraints(labels, constraints):
                    continue
                if not c.includes(pod, ni, required):
                    continue
                pair = (key, labels.get(key, ""))
                if pair in pair_counts:
                    pair_counts[pair] += by_node.get(ni.name, 0)
        state.write(PRE_SCORE_KEY, s)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return self.score_nodes(state, pod, [node])[0]

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                    ) -> list[int]:
        """Score for each node: for every constraint whose key the node has, the matching
        pods in its domain times the domain weight, plus ``maxSkew - 1``; rounded."""
        s: _ScoreState | None = state.read(PRE_SCORE_KEY)
        if s is None:
            return [0] * len(nodes)
        terms = []
        for i, c in enumerate(s.constraints):
            key = c.topology_key
            if key == LABEL_HOSTNAME:
                terms.append((key, True, s.weights[i], float(c.max_skew - 1),
                              s.host_counts[key]))
            else:
                by_value = {v: n for (k, v), n in s.pair_counts.items() if k == key}
                terms.append((key, False, s.weights[i], float(c.max_skew - 1), by_value))
        if len(terms) == 2 and terms[0][1] and not terms[1][1]:
            # The system defaults (hostname, then zone) in one pass; the sum is formed in
            # the same order as the general loop below.
            hk, _, w1, b1, hc = terms[0]
            zk, _, w2, b2, zc = terms[1]
            hget, zget = hc.get, zc.get
            totals = [(hget(ni.name, 0) * w1 + b1 if hk in ni.labels else 0.0)
                      + (zget(ni.labels[zk], 0) * w2 + b2 if zk in ni.labels else 0.0)
                      for ni in nodes]
        else:
            totals = [0.0] * len(nodes)
            for key, by_host, weight, base, counts in terms:
                get = counts.get
                if by_host:
                    part = [get(ni.name, 0) * weight + base if key in ni.labels else 0.0
                            for ni in nodes]
                else:
                    part = [get(ni.labels[key], 0) * weight + base if key in ni.labels
                            else 0.0 for ni in nodes]
                totals = [a + b for a, b in zip(totals, part)]
        # math.Round of the non-negative sum; ignored nodes score 0.
        out = [int(t + 0.5) for t in totals]
        ignored = s.ignored
        if ignored:
            for i, ni in enumerate(nodes):
                if ni.name in ignored:
                    out[i] = 0
        return out

    def normalize_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo],
                        scores: list[int]) -> None:
        """Invert and scale: ``100 * (max + min - score) // max``; ignored nodes get 0,
        and every node 100 when the highest score is 0."""
        s: _ScoreState | None = state.read(PRE_SCORE_KEY)
        ignored = s.ignored if s is not None else ()
        if ignored:
            valid = [sc for ni, sc in zip(nodes, scores) if ni.name not in ignored]
        else:
            valid = scores
        if not valid:
            scores[:] = [0] * len(scores)
            return
        lo, hi = min(valid), max(valid)
        if hi == 0:
            new = [MAX_NODE_SCORE] * len(scores)
        else:
            new = [MAX_NODE_SCORE * (hi + lo - sc) // hi for sc in scores]
        if ignored:
            for i, ni in enumerate(nodes):
                if ni.name in ignored:
                    new[i] = 0
        scores[:] = new

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.ADD | ActionType.UPDATE_POD_LABEL
                             | ActionType.DELETE),
                ClusterEvent("Node", ActionType.ADD | ActionType.DELETE
                             | ActionType.UPDATE_NODE_LABEL | ActionType.UPDATE_NODE_TAINT)]
