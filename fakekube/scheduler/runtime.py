"""The framework runtime: runs the plugins of the default profile at each extension point.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/runtime/framework.go`` and the default
plugin list of ``kubernetes/kubernetes:pkg/scheduler/apis/config/v1/default_plugins.go``
(v1.31): plugins run in that list's order at every extension point; a PreFilter or PreScore
``Skip`` switches the plugin's Filter or Score off for the cycle; a node records only the
first failing filter's status; scores are normalized per plugin, checked to lie in 0..100 and
weighted.

Speed. Filtering and scoring are the hot path (hundreds of nodes per pod), so
:meth:`Framework.find_feasible` and :meth:`Framework.prioritize` fuse the cheap, always-on
plugins into one loop over the nodes instead of one call per plugin per node:

- the node gates (NodeUnschedulable, TaintToleration: plugins with ``GATED = True``) can
  only fail on a node whose ``NodeInfo.gated`` is set, and their verdict depends only on the
  node's taints, so it is computed once per taint set per cycle;
- NodeResourcesFit's check is three comparisons against ``NodeInfo.free_*``; its full
  filter runs only on a node that fails them, to build the reasons;
- the LeastAllocated, BalancedAllocation and TaintToleration scores are computed inline.

Every other plugin still runs through its own methods, in order, and a node with nominated
pods goes through the generic path (:meth:`Framework.run_filter_with_nominated`). The fused
paths must agree with the plugins' own methods; ``tests/scheduler`` checks that they do.
"""

from __future__ import annotations

from typing import Any

from .framework import (MAX_NODE_SCORE, MIN_NODE_SCORE, Code, CycleState, NodeToStatus,
                        PreFilterResult, Status, error, unresolvable)
from .plugins import DEFAULT_PLUGINS
from .plugins import noderesources as _fit
from .plugins.balancedallocation import BalancedAllocation
from .plugins.balancedallocation import balanced_score as _balanced_score
from .plugins.noderesources import Fit
from .plugins.tainttoleration import TaintToleration
from .types import NodeInfo, PodInfo

__all__ = ["Framework", "num_feasible_nodes_to_find", "select_host"]

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5

_MISSING = object()


def num_feasible_nodes_to_find(percentage: int, num_all_nodes: int) -> int:
    """``numFeasibleNodesToFind``: how many feasible nodes a cycle looks for before it stops
    filtering. All nodes below 100; otherwise ``percentage`` of them (0 means adaptive:
    ``50 - nodes/125`` percent, at least 5%), but never fewer than 100."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage == 0:
        percentage = 50 - num_all_nodes // 125
        if percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    num = num_all_nodes * percentage // 100
    if num < MIN_FEASIBLE_NODES_TO_FIND:
        return MIN_FEASIBLE_NODES_TO_FIND
    return num


def select_host(nodes: list[NodeInfo], totals: list[int], rng: Any) -> int:
    """``selectHost``: the index of a node with the highest total score. Ties are broken
    uniformly at random, as upstream's reservoir sampling does (each of k tied nodes is
    chosen with probability 1/k), with a single draw from the seeded RNG."""
    best = max(totals)
    count = totals.count(best)
    if count == 1:
        return totals.index(best)
    ties = [i for i, t in enumerate(totals) if t == best]
    return ties[rng.randrange(count)]


def _has(plugin: Any, method: str) -> bool:
    return callable(getattr(plugin, method, None))


class Framework:
    """The plugins of one profile, by extension point, in upstream's default order."""

    def __init__(self, handle: Any, plugin_classes: list[type] | None = None) -> None:
        self.handle = handle
        self.plugins = [cls(handle) for cls in (plugin_classes or DEFAULT_PLUGINS)]
        ps = self.plugins
        self.pre_enqueue_plugins = [p for p in ps if _has(p, "pre_enqueue")]
        self.pre_filter_plugins = [p for p in ps if _has(p, "pre_filter")]
        self.filter_plugins = [p for p in ps if _has(p, "filter")]
        self.post_filter_plugins = [p for p in ps if _has(p, "post_filter")]
        self.pre_score_plugins = [p for p in ps if _has(p, "pre_score")]
        self.score_plugins = [p for p in ps if _has(p, "score")]
        self.reserve_plugins = [p for p in ps if _has(p, "reserve")]
        self.pre_bind_plugins = [p for p in ps if _has(p, "pre_bind")]
        self.bind_plugins = [p for p in ps if _has(p, "bind")]
        self.post_bind_plugins = [p for p in ps if _has(p, "post_bind")]
        self.extension_plugins = [p for p in ps if _has(p, "pre_filter_add_pod")]
        self.events = {p.NAME: p.events_to_register() for p in ps
                       if _has(p, "events_to_register")}
        self.fit = next((p for p in ps if isinstance(p, Fit)), None)
        self.balanced = next((p for p in ps if isinstance(p, BalancedAllocation)), None)
        self.taints = next((p for p in ps if isinstance(p, TaintToleration)), None)
        self.by_name = {p.NAME: p for p in ps}
        self._plans: dict[frozenset[str], tuple | None] = {}

    def plugin(self, name: str) -> Any:
        return self.by_name.get(name)

    # -- PreEnqueue ----------------------------------------------------------------------

    def run_pre_enqueue(self, pod: PodInfo) -> str | None:
        """The name of the first PreEnqueue plugin that rejects the pod, or None."""
        for p in self.pre_enqueue_plugins:
            st = p.pre_enqueue(pod)
            if st is not None and not st.is_success():
                return p.NAME
        return None

    # -- PreFilter -----------------------------------------------------------------------

    def run_pre_filter(self, state: CycleState, pod: PodInfo
                       ) -> tuple[PreFilterResult | None, Status | None, set[str]]:
        """``RunPreFilterPlugins``: the merged PreFilterResult, a failure (the first
        UnschedulableAndUnresolvable stops at once; an Unschedulable one lets the others
        run), and the plugins that narrowed the nodes."""
        result: PreFilterResult | None = None
        returned: Status | None = None
        with_nodes: set[str] = set()
        skip = state.skip_filter_plugins
        for p in self.pre_filter_plugins:
            r, st = p.pre_filter(state, pod)
            if st is not None:
                code = st.code
                if code == Code.SKIP:
                    skip.add(p.NAME)
                    continue
                if code != Code.SUCCESS:
                    st = st.with_plugin(p.NAME)
                    if code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                        return None, st, set()
                    if code == Code.UNSCHEDULABLE:
                        returned = st
                        continue
                    return None, error(f'running PreFilter plugin "{p.NAME}": '
                                       f"{st.message()}").with_plugin(p.NAME), set()
            if r is not None and not r.all_nodes():
                with_nodes.add(p.NAME)
            result = r if result is None else result.merge(r)
            if result is not None and not result.all_nodes() and not result.node_names:
                names = sorted(with_nodes)
                if len(names) == 1:
                    msg = f"node(s) didn't satisfy plugin {names[0]}"
                else:
                    msg = f"node(s) didn't satisfy plugin(s) [{' '.join(names)}] simultaneously"
                return result, unresolvable(msg), with_nodes
        return result, returned, with_nodes

    def run_pre_filter_add_pod(self, state: CycleState, pod: PodInfo, added: PodInfo,
                               node: NodeInfo) -> Status | None:
        """``RunPreFilterExtensionAddPod``."""
        skip = state.skip_filter_plugins
        for p in self.extension_plugins:
            if p.NAME in skip:
                continue
            st = p.pre_filter_add_pod(state, pod, added, node)
            if st is not None and not st.is_success():
                return st
        return None

    def run_pre_filter_remove_pod(self, state: CycleState, pod: PodInfo, removed: PodInfo,
                                  node: NodeInfo) -> Status | None:
        """``RunPreFilterExtensionRemovePod``."""
        skip = state.skip_filter_plugins
        for p in self.extension_plugins:
            if p.NAME in skip:
                continue
            st = p.pre_filter_remove_pod(state, pod, removed, node)
            if st is not None and not st.is_success():
                return st
        return None

    # -- Filter --------------------------------------------------------------------------

    def run_filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        """``RunFilterPlugins``: the first failing filter's status, or None."""
        skip = state.skip_filter_plugins
        for p in self.filter_plugins:
            if p.NAME in skip:
                continue
            st = p.filter(state, pod, node)
            if st is not None and st.code != Code.SUCCESS:
                if not st.is_rejected():
                    st = error(f'running "{p.NAME}" filter plugin: {st.message()}')
                return st.with_plugin(p.NAME)
        return None

    def nominated_pods(self, pod: PodInfo, node_name: str) -> list[PodInfo]:
        """Pods nominated to ``node_name`` that ``pod`` must make room for (priority at
        least its own)."""
        queue = getattr(self.handle, "queue", None)
        if queue is None or not queue.nominated:
            return []
        return [p for p in queue.nominated_pods_for_node(node_name)
                if p.uid != pod.uid and p.priority >= pod.priority]

    def run_filter_with_nominated(self, state: CycleState, pod: PodInfo, node: NodeInfo
                                  ) -> Status | None:
        """``RunFilterPluginsWithNominatedPods``: with the node's nominated pods of equal or
        higher priority added first, then (if that passed and some were added) without."""
        nominated = self.nominated_pods(pod, node.name)
        if not nominated:
            return self.run_filter(state, pod, node)
        st_with = state.clone()
        ni_with = node.clone()
        for npi in nominated:
            ni_with.add_pod(npi)
            s = self.run_pre_filter_add_pod(st_with, pod, npi, ni_with)
            if s is not None:
                return error(s.message())
        status = self.run_filter(st_with, pod, ni_with)
        if status is not None:
            return status
        return self.run_filter(state, pod, node)

    def find_feasible(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo],
                      start: int, num_to_find: int, statuses: NodeToStatus
                      ) -> tuple[list[NodeInfo], int, Status | None]:
        """``findNodesThatPassFilters``: visit ``nodes`` from index ``start`` round the
        list, until ``num_to_find`` feasible nodes are found. Failed nodes' statuses go into
        ``statuses``. Returns (feasible nodes, nodes processed, an internal error or None).
        """
        n = len(nodes)
        if n == 0:
            return [], 0, None
        fit = self.fit
        plan = self._filter_plan(frozenset(state.skip_filter_plugins))
        if plan is None:
            return self._find_feasible_generic(state, pod, nodes, start, num_to_find, statuses)
        gates, before, with_fit, after = plan
        req = state.read(_fit.PRE_FILTER_KEY) if with_fit else None
        if with_fit and req is None:
            return self._find_feasible_generic(state, pod, nodes, start, num_to_find, statuses)
        queue = getattr(self.handle, "queue", None)
        nominated_nodes: set[str] = set()
        if queue is not None and queue.nominated:
            for node_name, pods in queue.nominated.items():
                if any(p.uid != pod.uid and p.priority >= pod.priority for p in pods.values()):
                    nominated_nodes.add(node_name)
        order = nodes[start:] + nodes[:start] if start else nodes
        feasible: list[NodeInfo] = []
        found = 0
        record = statuses.statuses
        gate_cache: dict[Any, Status | None] = {}
        if req is not None:
            cpu, mem, eph, scalars = req.cpu, req.mem, req.eph, req.scalars
            simple_fit = scalars is None
            fit_filter = fit.filter
        if (req is not None and simple_fit and not before and not after
                and not nominated_nodes):
            return self._find_feasible_fast(state, pod, order, num_to_find, statuses, gates,
                                            req)
        processed = 0
        for ni in order:
            processed += 1
            if nominated_nodes and ni.name in nominated_nodes:
                st = self.run_filter_with_nominated(state, pod, ni)
                if st is not None:
                    if st.code == Code.ERROR:
                        return feasible, processed, st
                    record[ni.name] = st
                    continue
                feasible.append(ni)
                found += 1
                if found >= num_to_find:
                    break
                continue
            if ni.gated and gates:
                st = _gate_status(gates, state, pod, ni, gate_cache)
                if st is not None:
                    record[ni.name] = st
                    continue
            if before:
                st = None
                for p in before:
                    s = p.filter(state, pod, ni)
                    if s is not None and s.code != Code.SUCCESS:
                        st = s if s.is_rejected() else error(
                            f'running "{p.NAME}" filter plugin: {s.message()}')
                        st = st.with_plugin(p.NAME)
                        break
                if st is not None:
                    if st.code == Code.ERROR:
                        return feasible, processed, st
                    record[ni.name] = st
                    continue
            if req is not None:
                if (cpu > ni.free_cpu or mem > ni.free_mem or ni.free_pods <= 0
                        or eph > ni.alloc_eph - ni.req_eph or not simple_fit):
                    s = fit_filter(state, pod, ni)
                    if s is not None:
                        record[ni.name] = s.with_plugin(fit.NAME)
                        continue
            if after:
                st = None
                for p in after:
                    s = p.filter(state, pod, ni)
                    if s is not None and s.code != Code.SUCCESS:
                        st = s if s.is_rejected() else error(
                            f'running "{p.NAME}" filter plugin: {s.message()}')
                        st = st.with_plugin(p.NAME)
                        break
                if st is not None:
                    if st.code == Code.ERROR:
                        return feasible, processed, st
                    record[ni.name] = st
                    continue
            feasible.append(ni)
            found += 1
            if found >= num_to_find:
                break
        return feasible, processed, None

    def _filter_plan(self, skip: frozenset[str]) -> tuple | None:
        """How the active filters (those not skipped) split around the fused checks:
        (leading node gates, filters before Fit, whether Fit is active, filters after Fit),
        or None when their order does not allow the split. Cached per skip set."""
        cache = self._plans
        if skip in cache:
            return cache[skip]
        active = [p for p in self.filter_plugins if p.NAME not in skip]
        gates: list[Any] = []
        i = 0
        while i < len(active) and getattr(active[i], "GATED", False):
            gates.append(active[i])
            i += 1
        rest = active[i:]
        plan: tuple | None
        if any(getattr(p, "GATED", False) for p in rest):
            plan = None
        elif self.fit is not None and self.fit in rest:
            k = rest.index(self.fit)
            plan = (gates, rest[:k], True, rest[k + 1:])
        else:
            plan = (gates, rest, False, [])
        cache[skip] = plan
        return plan

    def _find_feasible_fast(self, state: CycleState, pod: PodInfo, order: list[NodeInfo],
                            num_to_find: int, statuses: NodeToStatus, gates: list[Any],
                            req: Any) -> tuple[list[NodeInfo], int, Status | None]:
        """The common case: only the node gates and NodeResourcesFit filter this pod (the
        other plugins skipped themselves at PreFilter) and no node has nominated pods.
        Nodes are checked in chunks with a comprehension; a chunk is never larger than
        the number of feasible nodes still wanted, so exactly the nodes the sequential
        loop would visit are visited."""
        fit = self.fit
        cpu, mem, eph = req.cpu, req.mem, req.eph
        gate_cache: dict[Any, Status | None] = {}

        def gate_status(ni: NodeInfo) -> Status | None:
            return _gate_status(gates, state, pod, ni, gate_cache)

        def gate_ok(ni: NodeInfo) -> bool:
            return gate_status(ni) is None

        if not gates:
            gate_ok = lambda ni: True  # noqa: E731
        record = statuses.statuses
        feasible: list[NodeInfo] = []
        pos = 0
        n = len(order)
        fit_filter = fit.filter
        while pos < n and len(feasible) < num_to_find:
            chunk = order[pos:pos + num_to_find - len(feasible)]
            pos += len(chunk)
            if eph == _fit.NEG_INF:
                flags = [(not ni.gated or gate_ok(ni)) and cpu <= ni.free_cpu
                         and mem <= ni.free_mem and ni.free_pods > 0 for ni in chunk]
            else:
                flags = [(not ni.gated or gate_ok(ni)) and cpu <= ni.free_cpu
                         and mem <= ni.free_mem and ni.free_pods > 0
                         and eph <= ni.alloc_eph - ni.req_eph for ni in chunk]
            if all(flags):
                feasible.extend(chunk)
                continue
            for ni, ok in zip(chunk, flags):
                if ok:
                    feasible.append(ni)
                    continue
                st = gate_status(ni) if ni.gated and gates else None
                if st is None:
                    st = fit_filter(state, pod, ni)
                    if st is None:      # pragma: no cover - the flags and the filter agree
                        feasible.append(ni)
                        continue
                    st = st.with_plugin(fit.NAME)
                record[ni.name] = st
        return feasible, pos, None

    def _find_feasible_generic(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo],
                               start: int, num_to_find: int, statuses: NodeToStatus
                               ) -> tuple[list[NodeInfo], int, Status | None]:
        n = len(nodes)
        feasible: list[NodeInfo] = []
        processed = 0
        for i in range(n):
            ni = nodes[(start + i) % n]
            processed += 1
            st = self.run_filter_with_nominated(state, pod, ni)
            if st is not None:
                if st.code == Code.ERROR:
                    return feasible, processed, st
                statuses.set(ni.name, st)
                continue
            feasible.append(ni)
            if len(feasible) >= num_to_find:
                break
        return feasible, processed, None

    # -- PostFilter ----------------------------------------------------------------------

    def run_post_filter(self, state: CycleState, pod: PodInfo, statuses: NodeToStatus
                        ) -> tuple[Any, Status]:
        """``RunPostFilterPlugins``: the first success wins; otherwise the reasons of all."""
        result = None
        reasons: list[str] = []
        rejector = ""
        for p in self.post_filter_plugins:
            r, st = p.post_filter(state, pod, statuses)
            if st is None or st.code == Code.SUCCESS:
                return r, st if st is not None else Status(Code.SUCCESS)
            if st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return r, st.with_plugin(p.NAME)
            if not st.is_rejected():
                return None, error(st.message()).with_plugin(p.NAME)
            if r is not None:
                result = r
            reasons.extend(st.reasons)
            if not rejector:
                rejector = p.NAME
        return result, Status(Code.UNSCHEDULABLE, *reasons, plugin=rejector)

    # -- PreScore and Score --------------------------------------------------------------

    def run_pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                      ) -> Status | None:
        skip = state.skip_score_plugins
        for p in self.pre_score_plugins:
            st = p.pre_score(state, pod, nodes)
            if st is None:
                continue
            if st.code == Code.SKIP:
                skip.add(p.NAME)
            elif st.code != Code.SUCCESS:
                return error(f'running PreScore plugin "{p.NAME}": {st.message()}')
        return None

    def prioritize(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]
                   ) -> tuple[list[int] | None, Status | None]:
        """``prioritizeNodes``: PreScore, Score, NormalizeScore and weights; the total score
        of each node (None and the error on failure)."""
        st = self.run_pre_score(state, pod, nodes)
        if st is not None:
            return None, st
        skip = state.skip_score_plugins
        n = len(nodes)
        totals = [0] * n
        active = [p for p in self.score_plugins if p.NAME not in skip]
        fit, balanced, taints = self.fit, self.balanced, self.taints
        if fit in active and balanced in active:
            _add_resource_scores(totals, pod, nodes, fit.WEIGHT, balanced.WEIGHT)
            active = [p for p in active if p is not fit and p is not balanced]
        for p in active:
            weight = p.WEIGHT
            if p is taints and not self.handle.cache.prefer_taint_nodes:
                # No node has a PreferNoSchedule taint: every node scores 0, which the
                # reverse normalization turns into 100 for all. A constant added to every
                # total changes no choice, so it is left out.
                continue
            batch = getattr(p, "score_nodes", None)
            if batch is not None:
                scores = batch(state, pod, nodes)
            else:
                score = p.score
                scores = [score(state, pod, ni) for ni in nodes]
            normalize = getattr(p, "normalize_score", None)
            if normalize is not None:
                normalize(state, pod, nodes, scores)
            for i, s in enumerate(scores):
                if s > MAX_NODE_SCORE or s < MIN_NODE_SCORE:
                    return None, error(
                        f'plugin "{p.NAME}" returns an invalid score {s}, it should in the '
                        f"range of [{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing")
                totals[i] += s * weight
        return totals, None

    # -- Reserve, PreBind, Bind, PostBind ------------------------------------------------

    def run_reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for p in self.reserve_plugins:
            st = p.reserve(state, pod, node_name)
            if st is not None and not st.is_success():
                if not st.is_rejected():
                    st = error(f'running Reserve plugin "{p.NAME}": {st.message()}')
                return st.with_plugin(p.NAME)
        return None

    def run_unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for p in reversed(self.reserve_plugins):
            p.unreserve(state, pod, node_name)

    def pre_bind_steps(self) -> list[Any]:
        return list(self.pre_bind_plugins)

    def run_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for p in self.bind_plugins:
            st = p.bind(state, pod, node_name)
            if st is not None and st.code == Code.SKIP:
                continue
            if st is not None and not st.is_success():
                return error(f'running Bind plugin "{p.NAME}": {st.message()}').with_plugin(p.NAME)
            return None
        return error("no bind plugin bound the pod")

    def run_post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for p in self.post_bind_plugins:
            p.post_bind(state, pod, node_name)


_SHAPES: dict[tuple, tuple] = {}


def _add_resource_scores(totals: list[int], pod: PodInfo, nodes: list[NodeInfo],
                         fit_weight: int, balanced_weight: int) -> None:
    """LeastAllocated (non-zero requests) and BalancedAllocation (requests) for cpu and
    memory, fused: the same arithmetic as :func:`~fakekube.scheduler.plugins.noderesources.
    least_allocated` and :func:`~fakekube.scheduler.plugins.balancedallocation.
    balanced_score`, weighted and summed.

    The result depends only on the node's allocatable and requests and on the pod's
    requests, so it is memoized on the NodeInfo under the pod's request "shape" (an interned
    tuple compared by identity); any change to the node drops the memo. Pods of one workload
    share a shape, so only the node that took the previous pod is recomputed.
    """
    key = (pod.nz_cpu, pod.nz_mem, pod.cpu, pod.mem, fit_weight, balanced_weight)
    shape = _SHAPES.get(key)
    if shape is None:
        if len(_SHAPES) > 4096:
            _SHAPES.clear()
        shape = _SHAPES[key] = key
    pnc, pnm, pc, pm = pod.nz_cpu, pod.nz_mem, pod.cpu, pod.mem
    for i, ni in enumerate(nodes):
        if ni.score_key is shape:
            totals[i] += ni.score_val
            continue
        ac = ni.alloc_cpu
        am = ni.alloc_mem
        if ac and am:
            r = ni.nz_cpu + pnc
            la = (ac - r) * 100 // ac if r <= ac else 0
            r = ni.nz_mem + pnm
            la += (am - r) * 100 // am if r <= am else 0
            la //= 2
            fc = (ni.req_cpu + pc) / ac
            if fc > 1:
                fc = 1.0
            fm = (ni.req_mem + pm) / am
            if fm > 1:
                fm = 1.0
            d = (fc - fm) / 2
            ba = int((1 - (d if d >= 0 else -d)) * 100)
        else:
            la = _fit.least_allocated(pod, ni)
            ba = _balanced_score(pod, ni)
        s = la * fit_weight + ba * balanced_weight
        ni.score_key = shape
        ni.score_val = s
        totals[i] += s


def _gate_status(gates: list, state: CycleState, pod: PodInfo, ni: NodeInfo,
                 cache: dict[Any, Status | None]) -> Status | None:
    """The first failing gate filter (unschedulable, taints) on a gated node, remembered per
    (unschedulable, hard taints): nodes alike in those get the same verdict."""
    key = (ni.unschedulable, ni.hard_taints)
    st = cache.get(key, _MISSING)
    if st is _MISSING:
        st = None
        for p in gates:
            s = p.filter(state, pod, ni)
            if s is not None and s.code != Code.SUCCESS:
                st = s.with_plugin(p.NAME)
                break
        cache[key] = st
    return st
