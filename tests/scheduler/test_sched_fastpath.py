"""The runtime's fused filter and score loops must agree with running each plugin on its
own, for all nodes and pods."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from schedtest import Env, make_pod

from fakekube.scheduler import CycleState, NodeInfo, NodeToStatus, PodInfo
from fakekube.scheduler.plugins.balancedallocation import balanced_score
from fakekube.scheduler.plugins.noderesources import least_allocated
from fakekube.scheduler.runtime import _add_resource_scores

ENV = Env([])
FW = ENV.scheduler.framework

TAINTS = [{"key": "gpu", "value": "yes", "effect": "NoSchedule"},
          {"key": "drain", "effect": "NoExecute"},
          {"key": "soft", "value": "x", "effect": "PreferNoSchedule"}]
TOLERATIONS = [{"key": "gpu", "operator": "Exists"},
               {"key": "drain", "operator": "Equal", "value": "", "effect": "NoExecute"},
               {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]
CPU = st.sampled_from([None, "0", "100m", "500m", "1", "2", "3500m"])
MEM = st.sampled_from([None, "0", "128Mi", "1Gi", "3Gi"])
PORT = st.sampled_from([None, 80, 8080])

@st.composite
def nodes(draw):
    out = []
    for i in range(draw(st.integers(1, 10))):
        taints = draw(st.lists(st.sampled_from(TAINTS), max_size=2, unique_by=lambda t: t["key"]))
        labels = {"kubernetes.io/hostname": f"n{i}",
                  "disk": draw(st.sampled_from(["ssd", "hdd"]))}
        ni = NodeInfo({"metadata": {"name": f"n{i}", "labels": labels},
                       "spec": {"taints": taints,
                                "unschedulable": draw(st.booleans())},
                       "status": {"allocatable": {
                           "cpu": draw(st.sampled_from(["1", "2", "4"])),
                           "memory": draw(st.sampled_from(["1Gi", "4Gi"])),
                           "pods": draw(st.sampled_from(["1", "3", "110"])),
                           "ephemeral-storage": "10Gi"}}})
        for _ in range(draw(st.integers(0, 3))):
            ni.add_pod(make_pod(draw(CPU), draw(MEM), draw(PORT)))
        out.append(ni)
    return out


@st.composite
def pods(draw):
    tols = draw(st.lists(st.sampled_from(TOLERATIONS), max_size=3))
    sel = draw(st.sampled_from([None, {"disk": "ssd"}]))
    eph = draw(st.sampled_from([None, "5Gi", "20Gi"]))
    return make_pod(draw(CPU), draw(MEM), draw(PORT), tols, sel, eph)


@settings(max_examples=300, deadline=None)
@given(nodes(), pods(), st.integers(0, 20))
def test_fused_filters_agree_with_each_plugin(node_list, pi, start):
    state = CycleState()
    _res, status, _ = FW.run_pre_filter(state, pi)
    assert status is None
    statuses = NodeToStatus()
    start %= len(node_list)
    feasible, processed, err = FW.find_feasible(state, pi, node_list, start, len(node_list),
                                                statuses)
    assert err is None and processed == len(node_list)
    expected_ok = set()
    for ni in node_list:
        st_ = FW.run_filter(state, pi, ni)
        if st_ is None:
            expected_ok.add(ni.name)
        else:
            got = statuses.statuses[ni.name]
            assert (got.code, got.reasons, got.plugin) == (st_.code, st_.reasons, st_.plugin)
    assert {ni.name for ni in feasible} == expected_ok
    # Feasible nodes come in visiting order, from ``start``.
    order = node_list[start:] + node_list[:start]
    assert [ni.name for ni in feasible] == [ni.name for ni in order if ni.name in expected_ok]


@settings(max_examples=200, deadline=None)
@given(nodes(), pods(), st.integers(1, 10))
def test_fused_filters_stop_after_enough_feasible_nodes(node_list, pi, want):
    state = CycleState()
    FW.run_pre_filter(state, pi)
    statuses = NodeToStatus()
    feasible, processed, _ = FW.find_feasible(state, pi, node_list, 0, want, statuses)
    expected = []
    seen = 0
    for ni in node_list:
        if len(expected) >= want:
            break
        seen += 1
        if FW.run_filter(state, pi, ni) is None:
            expected.append(ni.name)
    assert [n.name for n in feasible] == expected
    assert processed == seen and len(statuses) == seen - len(expected)


@settings(max_examples=200, deadline=None)
@given(nodes(), pods())
def test_fused_resource_scores_agree_with_the_plugins(node_list, pi):
    totals = [0] * len(node_list)
    _add_resource_scores(totals, pi, node_list, 1, 1)
    expected = [least_allocated(pi, ni) + balanced_score(pi, ni) for ni in node_list]
    assert totals == expected
    # Memoized values are the same on the second pass, and dropped when a node changes.
    again = [0] * len(node_list)
    _add_resource_scores(again, pi, node_list, 1, 1)
    assert again == expected
    node_list[0].add_pod(make_pod("100m", "64Mi", None))
    after = [0] * len(node_list)
    _add_resource_scores(after, pi, node_list, 1, 1)
    assert after[0] == least_allocated(pi, node_list[0]) + balanced_score(pi, node_list[0])
