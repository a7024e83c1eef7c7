"""Framework pieces: statuses, FitError messages, how many nodes a cycle samples, host
selection, and the rotation of the starting node between cycles."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, strategies as st
from schedtest import Env, node, pod

from fakekube.scheduler import NodeToStatus, PodInfo, num_feasible_nodes_to_find
from fakekube.scheduler.framework import (ActionType, ClusterEvent, Code, PreFilterResult,
                                          Status, unresolvable, unschedulable)
from fakekube.scheduler.runtime import select_host
from fakekube.scheduler.types import FitError


def _pod_info() -> PodInfo:
    return PodInfo({"metadata": {"name": "p", "namespace": "default", "uid": "u"},
                    "spec": {"containers": []}})


def test_status_message_joins_reasons_and_rejection_codes():
    st = unschedulable("Insufficient cpu", "Insufficient memory")
    assert st.message() == "Insufficient cpu, Insufficient memory"
    assert st.is_rejected() and unresolvable("x").is_rejected()
    assert not Status(Code.ERROR, "boom").is_rejected()
    assert st.with_plugin("NodeResourcesFit").plugin == "NodeResourcesFit"


def test_prefilter_results_intersect():
    a, b = PreFilterResult({"n1", "n2"}), PreFilterResult({"n2", "n3"})
    assert a.merge(b).node_names == {"n2"}
    assert PreFilterResult().merge(a).node_names == {"n1", "n2"}
    assert a.merge(PreFilterResult()).node_names == {"n1", "n2"}
    assert PreFilterResult().all_nodes()


def test_fit_error_sorts_reasons_as_strings_and_counts_once_per_node():
    statuses = NodeToStatus()
    for i in range(10):
        statuses.set(f"a{i}", unschedulable("Insufficient cpu"))
    statuses.set("b0", unresolvable("node(s) didn't match Pod's node affinity/selector"))
    statuses.set("b1", unresolvable("node(s) didn't match Pod's node affinity/selector"))
    fe = FitError(_pod_info(), 12, statuses)
    # "10 ..." sorts before "2 ...": a string sort, as upstream.
    assert str(fe) == ("0/12 nodes are available: 10 Insufficient cpu, "
                       "2 node(s) didn't match Pod's node affinity/selector.")


def test_fit_error_several_reasons_of_one_node_and_post_filter_message():
    statuses = NodeToStatus()
    statuses.set("n1", unschedulable("Insufficient cpu", "Insufficient memory"))
    fe = FitError(_pod_info(), 1, statuses,
                  post_filter_msg="preemption: 0/1 nodes are available: 1 No preemption "
                                  "victims found for incoming pod.")
    assert str(fe) == ("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. "
                       "preemption: 0/1 nodes are available: 1 No preemption victims found "
                       "for incoming pod.")


def test_fit_error_prefilter_message_replaces_histogram_and_absent_nodes_count():
    statuses = NodeToStatus()
    statuses.absent = unresolvable("pod has unbound immediate PersistentVolumeClaims")
    fe = FitError(_pod_info(), 3, statuses,
                  pre_filter_msg="pod has unbound immediate PersistentVolumeClaims")
    assert str(fe) == "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    statuses = NodeToStatus()
    statuses.absent = unresolvable("node(s) didn't satisfy plugin(s) [VolumeBinding]")
    statuses.set("n1", unresolvable("node(s) had volume node affinity conflict"))
    fe = FitError(_pod_info(), 4, statuses)
    assert str(fe) == ("0/4 nodes are available: 1 node(s) had volume node affinity conflict, "
                       "3 node(s) didn't satisfy plugin(s) [VolumeBinding].")


@pytest.mark.parametrize("nodes,expected", [
    (0, 0), (1, 1), (99, 99), (100, 100), (200, 100), (500, 230), (1000, 420),
    (2000, 680), (5000, 500), (6000, 300), (10000, 500), (20000, 1000)])
def test_num_feasible_nodes_adaptive(nodes, expected):
    assert num_feasible_nodes_to_find(0, nodes) == expected


@pytest.mark.parametrize("percentage,nodes,expected", [
    (100, 1000, 1000), (50, 1000, 500), (1, 1000, 100), (10, 99, 99), (30, 5000, 1500)])
def test_num_feasible_nodes_configured(percentage, nodes, expected):
    assert num_feasible_nodes_to_find(percentage, nodes) == expected


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30), st.integers(0, 2**32))
def test_select_host_picks_a_maximum_deterministically(totals, seed):
    nodes = [None] * len(totals)
    i = select_host(nodes, totals, random.Random(seed))
    assert totals[i] == max(totals)
    assert select_host(nodes, totals, random.Random(seed)) == i


def test_select_host_breaks_ties_uniformly():
    totals = [5, 9, 9, 1, 9]
    rng = random.Random(7)
    picks = [select_host([None] * 5, totals, rng) for _ in range(3000)]
    counts = {i: picks.count(i) for i in (1, 2, 4)}
    assert set(picks) == {1, 2, 4}
    assert all(800 < c < 1200 for c in counts.values()), counts


def test_cluster_events_match_registrations():
    node_add = ClusterEvent("Node", ActionType.ADD)
    assert node_add.matches(ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL))
    assert not node_add.matches(ClusterEvent("Pod", ActionType.ADD))
    assert ClusterEvent("*", ActionType.ALL).matches(ClusterEvent("Pod", ActionType.DELETE))
    label = ClusterEvent("Node", ActionType.UPDATE_NODE_LABEL)
    assert label.matches(ClusterEvent("Node", ActionType.UPDATE))
    assert not label.matches(ClusterEvent("Node", ActionType.UPDATE_NODE_TAINT))


def test_filtering_starts_where_the_last_cycle_stopped():
    # 150 nodes: each cycle wants 100 feasible nodes, so the next starts 100 further on.
    env = Env([node(f"n{i:03d}") for i in range(150)])
    sched = env.scheduler
    assert sched.next_start_node_index == 0
    env.create(pod("a"))
    env.run()
    assert sched.next_start_node_index == 100
    env.create(pod("b"))
    env.run()
    assert sched.next_start_node_index == 50
    env.create(pod("c", nodeSelector={"kubernetes.io/hostname": "n007"}))
    env.run()
    # A pod that fits one node visits all 150 (all failures are processed nodes).
    assert env.node_of("c") == "n007"
    assert sched.next_start_node_index == 50
