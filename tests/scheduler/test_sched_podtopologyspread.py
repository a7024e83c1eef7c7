"""PodTopologySpread: hard constraints filter, soft ones (and the system defaults) score."""

from __future__ import annotations

import math

from schedtest import Env, node, pod

from fakekube.scheduler import CycleState
from fakekube.scheduler.framework import Code

NOT_MATCH = "node(s) didn't match pod topology spread constraints"
MISSING = NOT_MATCH + " (missing required label)"
ZONE = "topology.kubernetes.io/zone"


def spread(key: str = ZONE, max_skew: int = 1, when: str = "DoNotSchedule", **extra) -> dict:
    return {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": "web"}}, **extra}


def zoned_env() -> Env:
    env = Env([node("a1", zone="a"), node("a2", zone="a"), node("b1", zone="b"),
               node("nozone")])
    for name, n in (("w1", "a1"), ("w2", "a2"), ("w3", "b1")):
        env.create(pod(name, labels={"app": "web"}, nodeName=n))
    env.create(pod("other", labels={"app": "db"}, nodeName="b1"))
    env.run()
    return env


def test_skew_and_missing_label():
    env = zoned_env()
    p = env.pod_info(pod("p", labels={"app": "web"}, topologySpreadConstraints=[spread()]))
    out = env.filter_all("PodTopologySpread", p)
    # zone a has 2, zone b 1: placing in a gives skew 3-1 = 2 > 1.
    assert out == {"a1": NOT_MATCH, "a2": NOT_MATCH, "b1": None, "nozone": MISSING}
    state, _, _ = env.pre_filter("PodTopologySpread", p)
    plugin = env.plugin("PodTopologySpread")
    assert plugin.filter(state, p, env.node_info("a1")).code == Code.UNSCHEDULABLE
    assert plugin.filter(state, p, env.node_info("nozone")).code == \
        Code.UNSCHEDULABLE_AND_UNRESOLVABLE


def test_a_pod_that_does_not_match_itself_and_max_skew():
    env = zoned_env()
    p = env.pod_info(pod("p", labels={"app": "other"}, topologySpreadConstraints=[spread()]))
    out = env.filter_all("PodTopologySpread", p)
    # It does not match its own selector: 2 + 0 - 1 = 1 <= maxSkew.
    assert out["a1"] is None
    p2 = env.pod_info(pod("p", labels={"app": "web"},
                          topologySpreadConstraints=[spread(max_skew=2)]))
    assert env.filter_all("PodTopologySpread", p2)["a1"] is None


def test_min_domains_counts_missing_domains_as_zero():
    env = zoned_env()
    p = env.pod_info(pod("p", labels={"app": "web"},
                         topologySpreadConstraints=[spread(max_skew=2, minDomains=3)]))
    out = env.filter_all("PodTopologySpread", p)
    # Only 2 zones exist, fewer than minDomains: the global minimum is 0.
    assert out == {"a1": NOT_MATCH, "a2": NOT_MATCH, "b1": None, "nozone": MISSING}


def test_node_affinity_policy_restricts_the_domains():
    env = zoned_env()
    p = env.pod_info(pod("p", labels={"app": "web"},
                         nodeSelector={ZONE: "a"}, topologySpreadConstraints=[spread()]))
    # Only zone a is eligible: its count is the minimum, skew 1.
    assert env.filter_all("PodTopologySpread", p)["a1"] is None
    p = env.pod_info(pod("p", labels={"app": "web"}, nodeSelector={ZONE: "a"},
                         topologySpreadConstraints=[spread(nodeAffinityPolicy="Ignore")]))
    assert env.filter_all("PodTopologySpread", p)["a1"] == NOT_MATCH


def test_hard_constraints_spread_pods_end_to_end():
    env = Env([node("a1", zone="a"), node("b1", zone="b"), node("c1", zone="c")])
    for i in range(6):
        env.create(pod(f"w{i}", labels={"app": "web"}, topologySpreadConstraints=[spread()]))
        env.run()
    zones = [env.get("Node", env.node_of(f"w{i}"), "")["metadata"]["labels"][ZONE]
             for i in range(6)]
    assert sorted(zones) == ["a", "a", "b", "b", "c", "c"]


def test_soft_constraint_score_formula():
    env = zoned_env()
    p = env.pod_info(pod("p", labels={"app": "web"},
                         topologySpreadConstraints=[spread(when="ScheduleAnyway")]))
    plugin = env.plugin("PodTopologySpread")
    nodes = [env.node_info(n) for n in ("a1", "b1")]
    state = CycleState()
    assert plugin.pre_score(state, p, nodes) is None
    scores = plugin.score_nodes(state, p, nodes)
    w = math.log(2 + 2)                # two zones among the scored nodes
    assert scores == [round(2 * w), round(1 * w)]
    plugin.normalize_score(state, p, nodes, scores)
    assert scores[1] == 100 and scores[0] < scores[1]


def test_system_default_constraints_need_a_selecting_owner():
    env = zoned_env()
    plugin = env.plugin("PodTopologySpread")
    bare = env.pod_info(pod("p", labels={"app": "web"}))
    nodes = env.scheduler.cache.node_list()
    assert plugin.pre_score(CycleState(), bare, nodes).is_skip()
    env.create({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    state = CycleState()
    assert plugin.pre_score(state, bare, nodes) is None
    s = state.read("PreScorePodTopologySpread")
    assert [(c.topology_key, c.max_skew) for c in s.constraints] == [
        ("kubernetes.io/hostname", 3), (ZONE, 5)]
    # System defaults do not require every topology key: the zoneless node is scored.
    assert s.ignored == set()


def test_replicaset_pods_spread_across_nodes_and_zones():
    env = Env([node(f"{z}{i}", zone=z) for z in "abc" for i in range(2)])
    rs = env.create({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                     "metadata": {"name": "web", "namespace": "default"},
                     "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                              "template": {"metadata": {"labels": {"app": "web"}},
                                           "spec": {"containers": [{"name": "c",
                                                                    "image": "x"}]}}}})
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
             "uid": rs["metadata"]["uid"], "controller": True}
    for i in range(6):
        env.create(pod(f"w{i}", cpu="10m", labels={"app": "web"}, owner=owner))
        env.run()
    placed = [env.node_of(f"w{i}") for i in range(6)]
    assert len(set(placed)) == 6
