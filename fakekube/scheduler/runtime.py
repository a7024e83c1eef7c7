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

Across cycles: when only the gates and NodeResourcesFit filter a pod, each node's verdict
depends on the node and on the pod's "shape" only (its fit requests and, for the gates, its
tolerations: the gate plugins read nothing else of the pod), and the fused resource score on
the node and the pod's requests only. Both are kept per shape (:class:`_NodeMemo`) and only
the nodes that changed since the last cycle are computed again; the cache's
:class:`~fakekube.scheduler.types.NodeJournal` says which (typically the node that took the
previous pod), so a cycle over N nodes costs a few list copies instead of N checks. Nodes
outside a cache fall back to comparing ``NodeInfo.generation``. When those scores are all
that sets the nodes apart, the score memo also keeps the nodes ranked by score, and
:meth:`Framework.select` picks among the best ones without a pass over the totals.

Every other plugin still runs through its own methods, in order, and a node with nominated
pods goes through the generic path (:meth:`Framework.run_filter_with_nominated`). The fused
paths must agree with the plugins' own methods; ``tests/scheduler`` checks that they do.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from itertools import accumulate, compress, islice, repeat
from operator import eq, ne, not_
from typing import Any

from .framework import (MAX_NODE_SCORE, MIN_NODE_SCORE, SKIP, Code, CycleState,
                        NodeToStatus, PreFilterResult, Status, error, unresolvable)
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
_MEMO_LIMIT = 64        # verdict / score memos kept (one per pod shape seen lately)


class _NodeMemo:
    """Per-node values of one pod shape (filter verdicts, resource scores), kept across
    cycles for one list of nodes, with what is needed to tell which nodes changed since:
    the position in the cache's :class:`~fakekube.scheduler.types.NodeJournal` when every
    node reports to it (``index`` maps each node to its position in the list), else the
    nodes' generations."""

    __slots__ = ("nodes", "journal", "pos", "index", "gens", "values", "flags", "ok",
                 "ranks")

    def __init__(self, nodes: list[NodeInfo], values: list) -> None:
        self.nodes = list(nodes)
        self.values = values
        self.flags: list[bool] | None = None
        self.ok = 0
        self.ranks: dict[int, list[int]] | None = None  # scores: see _ranking
        # The journal of the first node, checked for all of them (and the index built) on
        # first use: a memo that is never used again (the scores of a node list rotated
        # differently every cycle) costs no more than this.
        j = nodes[0].journal if nodes else None
        self.journal, self.pos = j, (j.end if j is not None else 0)
        self.index: dict[NodeInfo, int] | None = None
        self.gens = None if j is not None else [ni.generation for ni in nodes]

    def _index(self) -> dict[NodeInfo, int] | None:
        j = self.journal
        nodes = self.nodes
        if all(ni.journal is j for ni in nodes):
            index = {ni: i for i, ni in enumerate(nodes)}
            if len(index) == len(nodes):        # no node listed twice
                self.index = index
                return index
        self.journal = None                     # not all in one cache: no journal
        return None

    def changed(self, nodes: list[NodeInfo]) -> list[int] | None:
        """The indices of the nodes that changed since the last call (or since the memo
        was made), now taken as seen; None when the memo is not for ``nodes`` or cannot
        tell (recompute everything)."""
        if self.nodes != nodes:         # element identity: C-level, cheap
            return None
        if self.index is None and self.journal is not None and self._index() is None:
            return None
        j = self.journal
        if j is None:
            if self.gens is None:
                return None
            gens = [ni.generation for ni in nodes]
            if gens == self.gens:
                return []
            out = list(compress(range(len(nodes)), map(ne, gens, self.gens)))
            self.gens = gens
            return out
        start = self.pos - j.base
        if start < 0:
            return None
        end = len(j)
        if start == end:
            return []
        self.pos = j.base + end
        index = self.index
        if end - start == 1:
            i = index.get(j[start])
            return [] if i is None else [i]
        return sorted({index[ni] for ni in j[start:end] if ni in index})


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
    k = rng.randrange(count)
    # the index of the k-th tie, found without a Python-level loop
    return next(islice(compress(range(len(totals)), map(eq, totals, repeat(best))), k, None))


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
        self._score_plans: dict[frozenset[str], tuple[bool, list[Any]]] = {}
        # The fast path's per-node verdicts and the fused resource scores of recent cycles,
        # per pod shape: [the node list, the nodes' generations, the values]
        self._verdicts: dict[tuple, list] = {}
        self._scores: dict[tuple, list] = {}

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
                if st is SKIP:          # the shared Skip status: the usual case
                    skip.add(p.NAME)
                    continue
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
            if r is None:
                continue    # merging nothing leaves the result (and its checks) as they were
            if not r.all_nodes():
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
        skip = frozenset(state.skip_filter_plugins)
        plan = self._filter_plan(skip)
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
        if (req is not None and req.scalars is None and not before and not after
                and not nominated_nodes):
            return self._find_feasible_fast(state, pod, nodes, start, num_to_find, statuses,
                                            gates, req, skip)
        order = nodes[start:] + nodes[:start] if start else nodes
        feasible: list[NodeInfo] = []
        found = 0
        record = statuses.statuses
        gate_cache: dict[Any, Status | None] = {}
        if req is not None:
            cpu, mem, eph, scalars = req.cpu, req.mem, req.eph, req.scalars
            simple_fit = scalars is None
            fit_filter = fit.filter
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

    def _find_feasible_fast(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo],
                            start: int, num_to_find: int, statuses: NodeToStatus,
                            gates: list[Any], req: Any, skip: frozenset[str]
                            ) -> tuple[list[NodeInfo], int, Status | None]:
        """The common case: only the node gates and NodeResourcesFit filter this pod (the
        other plugins skipped themselves at PreFilter) and no node has nominated pods.

        A node's verdict (None, or the status that rejects it) then depends only on the
        node and on the pod's "shape": its requests as NodeResourcesFit checks them and,
        when gate filters run, its tolerations (the gate plugins read nothing else of the
        pod). Verdicts are kept per shape for the last node list seen, and only the nodes
        whose ``generation`` changed since (typically the one that took the previous pod)
        are checked again. The visit then follows the sequential loop exactly: from
        ``start`` round the list, stopping at the ``num_to_find``-th feasible node;
        rejected nodes' statuses are recorded in visiting order."""
        n = len(nodes)
        key = (skip, req.cpu, req.mem, req.eph, req.any, pod.tolerations if gates else None)
        memo = self._verdicts.get(key)
        changed = memo.changed(nodes) if memo is not None else None
        if changed is None:
            verdict = self._verdict_fn(state, pod, gates, req)
            verdicts = [verdict(ni) for ni in nodes]
            flags = [v is None for v in verdicts]
            memos = self._verdicts
            if memo is None and len(memos) >= _MEMO_LIMIT:
                memos.clear()
            memo = memos[key] = _NodeMemo(nodes, verdicts)
            memo.flags = flags
            memo.ok = flags.count(True)
        else:
            verdicts, flags = memo.values, memo.flags
            if changed:
                verdict = self._verdict_fn(state, pod, gates, req)
                for i in changed:
                    v = verdicts[i] = verdict(nodes[i])
                    flags[i] = v is None
                memo.ok = flags.count(True)
        ok = memo.ok
        if start:
            order = nodes[start:] + nodes[:start]
        else:
            order = nodes
        if ok == n:
            pos = num_to_find if num_to_find < n else n
            return order[:pos], pos, None
        if start:
            verdicts = verdicts[start:] + verdicts[:start]
            flags = flags[start:] + flags[:start]
        if ok < num_to_find:
            pos = n
        else:
            pos = list(accumulate(flags)).index(num_to_find) + 1
        record = statuses.statuses
        for i in compress(range(pos), map(not_, flags)):
            record[order[i].name] = verdicts[i]
        return list(compress(order[:pos], flags)), pos, None

    def _verdict_fn(self, state: CycleState, pod: PodInfo, gates: list[Any], req: Any):
        """The fast path's check of one node: None when it passes the gates and fits,
        else the status of the first filter that rejects it."""
        fit = self.fit
        fit_filter = fit.filter
        cpu, mem, eph = req.cpu, req.mem, req.eph
        gate_cache: dict[Any, Status | None] = {}

        def verdict(ni: NodeInfo) -> Status | None:
            if ni.gated and gates:
                st = _gate_status(gates, state, pod, ni, gate_cache)
                if st is not None:
                    return st
            if (cpu <= ni.free_cpu and mem <= ni.free_mem and ni.free_pods > 0
                    and (eph == _fit.NEG_INF or eph <= ni.alloc_eph - ni.req_eph)):
                return None
            st = fit_filter(state, pod, ni)
            if st is None:      # pragma: no cover - the comparisons and the filter agree
                return None
            return st.with_plugin(fit.NAME)
        return verdict

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
            if st is SKIP or st.code == Code.SKIP:
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
        fused, active = self._score_plan(frozenset(state.skip_score_plugins))
        return self._totals(state, pod, nodes, fused, active)

    def select(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], rng: Any
               ) -> tuple[int, Status | None]:
        """``prioritizeNodes`` then ``selectHost``: the index in ``nodes`` of the node
        chosen (-1 and the error on failure).

        When the fused resource scores are all that sets the nodes apart (the other Score
        plugins skipped, or only TaintToleration left with no PreferNoSchedule taint in the
        cluster), the best nodes are read from the scores memo's ranking (node indices by
        score) instead of the totals: the draw is :func:`select_host`'s, one ``randrange``
        over the tied nodes in index order, and no pass over all nodes is needed."""
        st = self.run_pre_score(state, pod, nodes)
        if st is not None:
            return -1, st
        fused, active = self._score_plan(frozenset(state.skip_score_plugins))
        if fused and not self._scores_differ(active):
            ranks = self._resource_ranking(pod, nodes, self.fit.WEIGHT, self.balanced.WEIGHT)
            ties = ranks[max(ranks)]
            return (ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]), None
        totals, st = self._totals(state, pod, nodes, fused, active)
        if st is not None:
            return -1, st
        return select_host(nodes, totals, rng), None

    def _scores_differ(self, active: list[Any]) -> bool:
        """Whether a Score plugin of ``active`` may give nodes different scores (see the
        TaintToleration case in :meth:`_totals`)."""
        for p in active:
            if p is not self.taints or self.handle.cache.prefer_taint_nodes:
                return True
        return False

    def _totals(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], fused: bool,
                active: list[Any]) -> tuple[list[int] | None, Status | None]:
        """Score, NormalizeScore and weights of the plugins of a score plan."""
        if fused:
            totals = self._resource_scores(pod, nodes, self.fit.WEIGHT, self.balanced.WEIGHT)
        else:
            totals = [0] * len(nodes)
        taints = self.taints
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

    def _score_plan(self, skip: frozenset[str]) -> tuple[bool, list[Any]]:
        """The Score plugins that run when those in ``skip`` skipped: whether both
        NodeResourcesFit and BalancedAllocation do (their scores are then fused, see
        :meth:`_resource_scores`), and the others, in order. Cached per skip set."""
        plan = self._score_plans.get(skip)
        if plan is None:
            active = [p for p in self.score_plugins if p.NAME not in skip]
            fit, balanced = self.fit, self.balanced
            fused = fit in active and balanced in active
            if fused:
                active = [p for p in active if p is not fit and p is not balanced]
            plan = self._score_plans[skip] = (fused, active)
        return plan

    def _resource_scores(self, pod: PodInfo, nodes: list[NodeInfo], fit_weight: int,
                         balanced_weight: int) -> list[int]:
        """The fused LeastAllocated + BalancedAllocation totals of ``nodes`` (a new list),
        as :func:`_add_resource_scores` computes them (see :meth:`_score_memo`)."""
        return list(self._score_memo(pod, nodes, fit_weight, balanced_weight).values)

    def _resource_ranking(self, pod: PodInfo, nodes: list[NodeInfo], fit_weight: int,
                          balanced_weight: int) -> dict[int, list[int]]:
        """The indices of ``nodes`` by fused resource score (:func:`_ranking`), kept
        current with the scores memo. The memo's own: read it, don't change it."""
        memo = self._score_memo(pod, nodes, fit_weight, balanced_weight)
        if memo.ranks is None:
            memo.ranks = _ranking(memo.values)
        return memo.ranks

    def _score_memo(self, pod: PodInfo, nodes: list[NodeInfo], fit_weight: int,
                    balanced_weight: int) -> _NodeMemo:
        """The memo of the fused resource scores of ``nodes`` for the pod's shape, brought
        up to date. The last list computed for a shape is kept: when the same nodes come
        again (the usual case: every node feasible, visited from the same start), only the
        nodes that changed since are scored again (and moved in the ranking, if the memo
        has one)."""
        key = (pod.nz_cpu, pod.nz_mem, pod.cpu, pod.mem, fit_weight, balanced_weight)
        memo = self._scores.get(key)
        changed = memo.changed(nodes) if memo is not None else None
        if changed is None:
            scores = [0] * len(nodes)
            _add_resource_scores(scores, pod, nodes, fit_weight, balanced_weight)
            memos = self._scores
            if memo is None and len(memos) >= _MEMO_LIMIT:
                memos.clear()
            memo = memos[key] = _NodeMemo(nodes, scores)
            return memo
        if changed:
            part = [0] * len(changed)
            _add_resource_scores(part, pod, [nodes[i] for i in changed], fit_weight,
                                 balanced_weight)
            scores, ranks = memo.values, memo.ranks
            for i, v in zip(changed, part):
                if ranks is not None and scores[i] != v:
                    _rerank(ranks, i, scores[i], v)
                scores[i] = v
        return memo

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


def _ranking(scores: list[int]) -> dict[int, list[int]]:
    """The indices of ``scores`` by value, each list in ascending order: the nodes with the
    highest score are ``ranks[max(ranks)]`` (distinct scores are few), in the order
    :func:`select_host` counts ties."""
    ranks: dict[int, list[int]] = {}
    for i, s in enumerate(scores):
        lst = ranks.get(s)
        if lst is None:
            ranks[s] = [i]
        else:
            lst.append(i)
    return ranks


def _rerank(ranks: dict[int, list[int]], i: int, old: int, new: int) -> None:
    """Move index ``i`` from score ``old`` to score ``new`` in a :func:`_ranking`."""
    lst = ranks[old]
    if len(lst) == 1:
        del ranks[old]
    else:
        del lst[bisect_left(lst, i)]
    lst = ranks.get(new)
    if lst is None:
        ranks[new] = [i]
    else:
        insort(lst, i)


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
