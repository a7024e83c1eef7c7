"""The scheduler's cross-cycle memos and fast paths must give what the plain computations
give, for all sequences of cluster changes:

- the fast filter path keeps each node's verdict per pod shape and re-checks only the nodes
  the cache's journal says changed; the fused resource scores likewise. Oracle: each
  plugin's own Filter and Score methods on the current NodeInfos, every cycle;
- the activeQ pops in (-priority, timestamp, arrival) order. Oracle: a sorted list;
- ``select_host`` picks the k-th tie without a Python loop. Oracle: the list of ties;
- ``PodInfo.same_shape`` compares specs with one dict comparison. Oracle: the key-by-key
  loop it replaced;
- the PreFilter/PreScore early Skips agree with the full computations they shortcut.
"""

from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st
from schedtest import Env, make_pod, node, pod

from fakekube.clock import VirtualClock
from fakekube.scheduler import CycleState, NodeToStatus, PodInfo, SchedulingQueue
from fakekube.scheduler.cache import Cache
from fakekube.scheduler.framework import SKIP
from fakekube.scheduler.plugins.balancedallocation import balanced_score
from fakekube.scheduler.plugins.noderesources import least_allocated
from fakekube.scheduler.runtime import _NodeMemo, select_host

ENV = Env([])
FW = ENV.scheduler.framework

TAINTS = [{"key": "gpu", "value": "yes", "effect": "NoSchedule"},
          {"key": "soft", "value": "x", "effect": "PreferNoSchedule"}]
TOLERATIONS = [{"key": "gpu", "operator": "Exists"},
               {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]


def node_obj(name: str, cpu: str, pods: str, taint: int | None, unschedulable: bool) -> dict:
    spec: dict = {"unschedulable": unschedulable}
    if taint is not None:
        spec["taints"] = [TAINTS[taint]]
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": "4Gi", "pods": pods,
                                       "ephemeral-storage": "10Gi"}}}


def pod_info(cpu: str | None, mem: str | None, tolerate: bool, eph: str | None = None
             ) -> PodInfo:
    return make_pod(cpu, mem, None, TOLERATIONS if tolerate else (), eph=eph)


CPU = st.sampled_from([None, "100m", "500m", "1", "3"])
MEM = st.sampled_from([None, "128Mi", "1Gi", "3Gi"])

# One step of cluster change: ("add", node index, cpu, mem) | ("remove", pod number) |
# ("node", node index, cpu, pods, taint, unschedulable) | ("schedule", cpu, mem, tolerate)
STEP = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 5), CPU, MEM),
    st.tuples(st.just("remove"), st.integers(0, 30)),
    st.tuples(st.just("node"), st.integers(0, 5), st.sampled_from(["1", "2", "4"]),
              st.sampled_from(["2", "110"]), st.sampled_from([None, 0, 1]), st.booleans()),
    st.tuples(st.just("schedule"), CPU, MEM, st.booleans()),
)


def check_cycle(cache: Cache, pi: PodInfo, start: int) -> None:
    """One scheduling cycle's filter and scores against each plugin's own methods."""
    nodes = cache.node_list()
    state = CycleState()
    _res, status, _ = FW.run_pre_filter(state, pi)
    assert status is None
    statuses = NodeToStatus()
    start %= len(nodes)
    feasible, processed, err = FW.find_feasible(state, pi, nodes, start, len(nodes), statuses)
    assert err is None and processed == len(nodes)
    order = nodes[start:] + nodes[:start]
    expected = []
    for ni in order:
        st_ = FW.run_filter(state, pi, ni)
        if st_ is None:
            expected.append(ni)
        else:
            got = statuses.statuses[ni.name]
            assert (got.code, got.reasons, got.plugin) == (st_.code, st_.reasons, st_.plugin)
    assert feasible == expected
    assert len(statuses) == len(nodes) - len(expected)
    if feasible:
        got = FW._resource_scores(pi, feasible, 1, 1)
        assert got == [least_allocated(pi, ni) + balanced_score(pi, ni) for ni in feasible]


@settings(max_examples=150, deadline=None)
@given(st.lists(STEP, max_size=30), st.integers(0, 10))
def test_memoized_filter_and_scores_follow_every_cache_change(steps, start):
    cache = Cache()
    for i in range(6):
        cache.add_node(node_obj(f"n{i}", "2", "110", None, False))
    placed: list[str] = []
    cpu_mem = [("100m", "128Mi"), (None, None)]
    for step in steps:
        kind = step[0]
        if kind == "add":
            pi = pod_info(step[2], step[3], True)
            cache.add_pod({**pi.pod, "spec": {**pi.pod["spec"], "nodeName": f"n{step[1]}"}})
            placed.append(pi.uid)
        elif kind == "remove" and placed:
            cache.remove_pod(placed.pop(step[1] % len(placed)))
        elif kind == "node":
            _, i, cpu, pods, taint, unsched = step
            cache.update_node(node_obj(f"n{i}", cpu, pods, taint, unsched))
        elif kind == "schedule":
            cpu_mem.append((step[1], step[2]))
            check_cycle(cache, pod_info(step[1], step[2], step[3]), start)
        # the pod shapes seen so far are checked after every change
        for cpu, mem in cpu_mem[-3:]:
            check_cycle(cache, pod_info(cpu, mem, False), start)


def test_the_memo_sees_changes_through_the_journal_and_after_a_trim():
    cache = Cache()
    for i in range(4):
        cache.add_node(node_obj(f"n{i}", "2", "110", None, False))
    nodes = cache.node_list()
    memo = _NodeMemo(nodes, [0] * 4)
    assert memo.journal is cache.journal and memo.changed(nodes) == []
    pi = pod_info("100m", None, False)
    cache.assume_pod(pi, "n2")
    assert memo.changed(nodes) == [2]
    assert memo.changed(nodes) == []
    assert memo.changed(list(reversed(nodes))) is None     # another list: recompute
    cache.journal.trim()                                   # nothing unseen is lost
    cache.forget_pod(pi.uid)
    assert memo.changed(nodes) == [2]
    cache.assume_pod(pi, "n1")
    cache.journal.trim()                                   # an unseen change is dropped
    assert memo.changed(nodes) is None
    # Nodes outside a cache: generations instead of the journal.
    loose = [n.clone() for n in nodes]
    memo = _NodeMemo(loose, [0] * 4)
    assert memo.journal is None
    loose[1].add_pod(pod_info("1", None, False))
    assert memo.changed(loose) == [1]
    assert memo.changed(loose) == []


# -- activeQ order ---------------------------------------------------------------------

OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(-2, 2)),
    st.tuples(st.just("pop")),
    st.tuples(st.just("tick")),
    st.tuples(st.just("delete"), st.integers(0, 50)),
), max_size=60)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_active_queue_pops_in_priority_time_arrival_order(ops):
    clock = VirtualClock()
    q = SchedulingQueue(clock, 1, 10, on_active=lambda: None)
    pending: list[tuple[int, float, int, str]] = []   # the oracle
    n = 0
    for op in ops:
        if op[0] == "add":
            uid = f"u{n}"
            n += 1
            q.add(PodInfo({"metadata": {"name": uid, "namespace": "d", "uid": uid},
                           "spec": {"priority": op[1]}}))
            pending.append((-op[1], clock.now(), n, uid))
        elif op[0] == "tick":
            clock.advance(0.5)
        elif op[0] == "delete" and pending:
            uid = pending.pop(op[1] % len(pending))[3]
            q.delete(uid)
        elif op[0] == "pop":
            assert q.has_active() == bool(pending)
            qpi = q.pop()
            if not pending:
                assert qpi is None
                continue
            pending.sort()
            assert qpi.pi.uid == pending.pop(0)[3]
            q.done(qpi.pi.uid)
    assert q.has_active() == bool(pending)
    assert [q.pop().pi.uid for _ in pending] == [p[3] for p in sorted(pending)]
    assert q.pop() is None


# -- select_host -----------------------------------------------------------------------

def select_host_reference(totals: list[int], rng: random.Random) -> int:
    best = max(totals)
    ties = [i for i, t in enumerate(totals) if t == best]
    return ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]


@given(st.lists(st.integers(0, 5), min_size=1, max_size=120), st.integers(0, 2**32))
def test_select_host_matches_the_list_of_ties(totals, seed):
    a, b = random.Random(seed), random.Random(seed)
    assert select_host([None] * len(totals), totals, a) == select_host_reference(totals, b)
    assert a.random() == b.random()     # the same draws were taken


# -- same_shape ------------------------------------------------------------------------

_MISSING = object()


def same_spec_reference(os_: dict, ns_: dict) -> bool:
    for k, v in ns_.items():
        if k == "nodeName":
            continue
        ov = os_.get(k, _MISSING)
        if ov is not v and ov != v:
            return False
    return all(k == "nodeName" or k in ns_ for k in os_)


SPEC_VALUES = st.dictionaries(
    st.sampled_from(["nodeName", "hostname", "subdomain", "x", "y"]),
    st.one_of(st.none(), st.integers(0, 2), st.sampled_from(["n1", "n2", ""]),
              st.lists(st.integers(0, 1), max_size=2)),
    max_size=5)


@given(SPEC_VALUES, SPEC_VALUES)
def test_same_shape_compares_specs_as_the_key_by_key_loop(old_spec, new_spec):
    meta = {"name": "p", "namespace": "d", "uid": "u"}
    pi = PodInfo({"metadata": meta, "spec": old_spec})
    assert pi.same_shape({"metadata": meta, "spec": new_spec}) == \
        same_spec_reference(old_spec, new_spec)
    assert pi.same_shape({"metadata": meta, "spec": dict(old_spec)})


# -- early Skips -----------------------------------------------------------------------

def test_inter_pod_affinity_skips_only_without_terms_anywhere():
    env = Env([node("n1", zone="a")])
    ipa = env.scheduler.framework.plugin("InterPodAffinity")
    plain = env.pod_info(pod("plain", labels={"app": "x"}))
    state = CycleState()
    assert ipa.pre_filter(state, plain) == (None, SKIP)
    assert ipa.pre_score(state, plain, env.scheduler.cache.node_list()) is SKIP
    # An existing pod with required anti-affinity against app=x: the plain pod is checked.
    env.create(pod("anti", labels={"app": "y"}, affinity={"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"app": "x"}},
            "topologyKey": "kubernetes.io/hostname"}]}}))
    env.run()
    assert env.node_of("anti") == "n1"
    state = CycleState()
    assert ipa.pre_filter(state, plain) == (None, None)
    assert ipa.filter(state, plain, env.node_info("n1")) is not None
    # Required anti-affinity does not score; an existing pod's preferred term does.
    assert ipa.pre_score(CycleState(), plain, env.scheduler.cache.node_list()) is SKIP
    env.create(pod("pref", labels={"app": "z"}, affinity={"podAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 5, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"app": "x"}},
            "topologyKey": "kubernetes.io/hostname"}}]}}))
    env.run()
    state = CycleState()
    assert ipa.pre_score(state, plain, env.scheduler.cache.node_list()) is None
    assert ipa.score(state, plain, env.node_info("n1")) == 5


def test_default_spreading_sees_a_service_added_between_cycles():
    env = Env([node("n1", zone="a"), node("n2", zone="b")])
    pts = env.scheduler.framework.plugin("PodTopologySpread")
    pi = env.pod_info(pod("web-1", labels={"app": "web"}))
    assert pts.pre_score(CycleState(), pi, env.scheduler.cache.node_list()) is SKIP
    env.create({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    env.run()
    assert pts.default_selector(pi).matches({"app": "web"})
    assert pts.pre_score(CycleState(), pi, env.scheduler.cache.node_list()) is None
    env.cluster.delete("Service", "web")
    env.run()
    assert pts.default_selector(pi).empty
