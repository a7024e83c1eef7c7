"""Shortcuts of the scheduler's per-pod bookkeeping, each checked against the computation it
replaces:

- ``non_zero_requests`` derives scoring's non-zero cpu and memory from the real requests
  (plus a default per container that leaves one out) instead of a second pass. Oracle:
  ``pod_requests(spec, non_missing=True)``;
- ``Framework._score_plan`` keeps the active Score plugins per skip set. Oracle: the list
  built from ``score_plugins`` every time.
"""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from schedtest import Env

from fakekube.scheduler.types import PodInfo, non_zero_requests, pod_requests

QTY = {"cpu": st.sampled_from(["0", "1m", "100m", "250m", "1", "2.5", "bad"]),
       "memory": st.sampled_from(["0", "1", "64Mi", "200Mi", "1Gi", "1.5Gi", "bad"]),
       "ephemeral-storage": st.sampled_from(["1Gi", "10Mi"]),
       "example.com/gpu": st.sampled_from(["1", "2"])}


@st.composite
def requests(draw):
    names = draw(st.lists(st.sampled_from(sorted(QTY)), unique=True, max_size=4))
    return {n: draw(QTY[n]) for n in names}


@st.composite
def container(draw, init: bool = False):
    c: dict = {"name": "c", "image": "x"}
    shape = draw(st.sampled_from(["none", "empty-resources", "limits-only", "requests"]))
    if shape == "empty-resources":
        c["resources"] = {}
    elif shape == "limits-only":
        c["resources"] = {"limits": {"cpu": "1"}}
    elif shape == "requests":
        c["resources"] = {"requests": draw(requests())}
    if init and draw(st.booleans()):
        c["restartPolicy"] = "Always"
    return c


@st.composite
def pod_specs(draw):
    spec: dict = {"containers": draw(st.lists(container(), min_size=0, max_size=4))}
    if draw(st.booleans()):
        spec["initContainers"] = draw(st.lists(container(init=True), max_size=3))
    if draw(st.booleans()):
        spec["overhead"] = draw(requests())
    return spec


@settings(max_examples=400, deadline=None)
@given(pod_specs())
def test_non_zero_requests_are_what_pod_requests_with_defaults_gives(spec):
    real = pod_requests(spec)
    full = pod_requests(spec, non_missing=True)
    got = non_zero_requests(spec, real.get("cpu", 0), real.get("memory", 0))
    assert got == (full.get("cpu", 0), full.get("memory", 0))
    pi = PodInfo({"metadata": {"name": "p", "namespace": "default", "uid": "u"},
                  "spec": spec})
    assert (pi.nz_cpu, pi.nz_mem) == got


SCORE_NAMES = ["TaintToleration", "NodeAffinity", "NodeResourcesFit", "PodTopologySpread",
               "InterPodAffinity", "NodeResourcesBalancedAllocation"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sets(st.sampled_from(SCORE_NAMES)), min_size=1, max_size=6))
def test_the_score_plan_is_the_plugins_not_skipped_in_order(skips):
    fw = Env([]).scheduler.framework
    for skip in skips:
        fused, others = fw._score_plan(frozenset(skip))
        active = [p for p in fw.score_plugins if p.NAME not in skip]
        assert fused == (fw.fit in active and fw.balanced in active)
        if fused:
            active = [p for p in active if p is not fw.fit and p is not fw.balanced]
        assert others == active


# -- Framework.select: the ranking of the fused resource scores ----------------------------

def _node(name: str, cpu: str, prefer_taint: bool = False) -> dict:
    spec: dict = {}
    if prefer_taint:
        spec["taints"] = [{"key": "soft", "value": "x", "effect": "PreferNoSchedule"}]
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "110",
                                       "ephemeral-storage": "10Gi"}}}


def _select_reference(fw, state, pi, nodes, rng) -> int:
    """prioritize, then the list of ties."""
    totals, st = fw.prioritize(state, pi, nodes)
    assert st is None
    best = max(totals)
    ties = [i for i, t in enumerate(totals) if t == best]
    return ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]


# ("add", node, cpu, mem) | ("remove", pod number) | ("node", node, cpu, prefer taint)
# | ("select", cpu, mem, seed, subset)
SELECT_STEP = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 7), st.sampled_from([None, "100m", "1"]),
              st.sampled_from([None, "128Mi", "1Gi"])),
    st.tuples(st.just("remove"), st.integers(0, 40)),
    st.tuples(st.just("node"), st.integers(0, 7), st.sampled_from(["2", "4"]), st.booleans()),
    st.tuples(st.just("select"), st.sampled_from([None, "100m", "1"]),
              st.sampled_from([None, "128Mi"]), st.integers(0, 2**16), st.booleans()),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(SELECT_STEP, max_size=40))
def test_select_chooses_what_prioritize_and_the_list_of_ties_choose(steps):
    import random

    from fakekube.scheduler import CycleState
    from schedtest import make_pod

    env = Env([])
    fw = env.scheduler.framework
    cache = env.scheduler.cache
    for i in range(8):
        cache.add_node(_node(f"n{i}", "2"))
    placed: list[str] = []
    for step in steps:
        kind = step[0]
        if kind == "add":
            pi = make_pod(step[2], step[3], None, ())
            cache.add_pod({**pi.pod, "spec": {**pi.pod["spec"], "nodeName": f"n{step[1]}"}})
            placed.append(pi.uid)
        elif kind == "remove" and placed:
            cache.remove_pod(placed.pop(step[1] % len(placed)))
        elif kind == "node":
            cache.update_node(_node(f"n{step[1]}", step[2], step[3]))
        elif kind == "select":
            _, cpu, mem, seed, subset = step
            pi = make_pod(cpu, mem, None, ())
            nodes = cache.node_list()
            if subset:
                nodes = nodes[::2]
            state = CycleState()
            assert fw.run_pre_filter(state, pi)[1] is None
            a, b = random.Random(seed), random.Random(seed)
            want = _select_reference(fw, state, pi, nodes, b)
            state = CycleState()
            fw.run_pre_filter(state, pi)
            assert fw.select(state, pi, nodes, a) == (want, None)
            assert a.random() == b.random()  # the same draws
            totals = fw._resource_scores(pi, nodes, fw.fit.WEIGHT, fw.balanced.WEIGHT)
            ranks = fw._resource_ranking(pi, nodes, fw.fit.WEIGHT, fw.balanced.WEIGHT)
            assert ranks == {s: [i for i, t in enumerate(totals) if t == s]
                             for s in set(totals)}
