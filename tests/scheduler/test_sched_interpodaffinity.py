"""InterPodAffinity: required and preferred pod (anti-)affinity, and existing pods'
anti-affinity."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler import CycleState
from fakekube.scheduler.framework import Code

AFFINITY = "node(s) didn't match pod affinity rules"
ANTI = "node(s) didn't match pod anti-affinity rules"
EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules"
ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def term(app: str, key: str = ZONE, **extra) -> dict:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key, **extra}


def aff(required=(), anti=(), preferred=(), anti_preferred=()) -> dict:
    out = {}
    if required or preferred:
        out["podAffinity"] = {}
        if required:
            out["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = list(required)
        if preferred:
            out["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = list(
                preferred)
    if anti or anti_preferred:
        out["podAntiAffinity"] = {}
        if anti:
            out["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = list(anti)
        if anti_preferred:
            out["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = list(
                anti_preferred)
    return out


def env_with_cache() -> Env:
    env = Env([node("a1", zone="a"), node("a2", zone="a"), node("b1", zone="b"),
               node("nozone")])
    env.create(pod("cache", labels={"app": "cache"}, nodeName="a1"))
    env.run()
    return env


def test_required_affinity():
    env = env_with_cache()
    p = env.pod_info(pod("p", affinity=aff(required=[term("cache")])))
    assert env.filter_all("InterPodAffinity", p) == {
        "a1": None, "a2": None, "b1": AFFINITY, "nozone": AFFINITY}
    state, _, _ = env.pre_filter("InterPodAffinity", p)
    st = env.plugin("InterPodAffinity").filter(state, p, env.node_info("b1"))
    assert st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE


def test_first_pod_of_a_self_affine_group_may_go_anywhere_with_the_key():
    env = env_with_cache()
    p = env.pod_info(pod("p", labels={"app": "new"}, affinity=aff(required=[term("new")])))
    assert env.filter_all("InterPodAffinity", p) == {
        "a1": None, "a2": None, "b1": None, "nozone": AFFINITY}


def test_required_anti_affinity():
    env = env_with_cache()
    p = env.pod_info(pod("p", affinity=aff(anti=[term("cache")])))
    assert env.filter_all("InterPodAffinity", p) == {
        "a1": ANTI, "a2": ANTI, "b1": None, "nozone": None}
    p = env.pod_info(pod("p", affinity=aff(anti=[term("cache", HOST)])))
    assert env.filter_all("InterPodAffinity", p) == {
        "a1": ANTI, "a2": None, "b1": None, "nozone": None}


def test_existing_pods_anti_affinity():
    env = Env([node("a1", zone="a"), node("b1", zone="b")])
    env.create(pod("lonely", nodeName="a1", affinity=aff(anti=[term("web")])))
    env.run()
    out = env.filter_all("InterPodAffinity", env.pod_info(pod("w", labels={"app": "web"})))
    assert out == {"a1": EXISTING, "b1": None}
    state, _, _ = env.pre_filter("InterPodAffinity", env.pod_info(pod("w", labels={
        "app": "web"})))
    assert env.plugin("InterPodAffinity").filter(
        state, None, env.node_info("a1")).code == Code.UNSCHEDULABLE
    _, _, st = env.pre_filter("InterPodAffinity", env.pod_info(pod("x", labels={"app": "db"})))
    assert st.is_skip()


def test_namespaces_and_namespace_selector():
    env = Env([node("a1", zone="a"), node("b1", zone="b")])
    env.create({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "team", "labels": {"tier": "backend"}}})
    env.create(pod("cache", namespace="team", labels={"app": "cache"}, nodeName="a1"))
    env.run()
    same_ns = env.pod_info(pod("p", affinity=aff(required=[term("cache")])))
    # No pod of the pod's own namespace matches, and the pod does not match its own term
    # (so it is not the first of a group): no node fits.
    assert set(env.filter_all("InterPodAffinity", same_ns).values()) == {AFFINITY}
    listed = env.pod_info(pod("p", affinity=aff(required=[term("cache", namespaces=["team"])])))
    assert env.filter_all("InterPodAffinity", listed) == {"a1": None, "b1": AFFINITY}
    selected = env.pod_info(pod("p", affinity=aff(required=[
        term("cache", namespaceSelector={"matchLabels": {"tier": "backend"}})])))
    assert env.filter_all("InterPodAffinity", selected) == {"a1": None, "b1": AFFINITY}


def test_preferred_affinity_and_anti_affinity_scores():
    env = env_with_cache()
    plugin = env.plugin("InterPodAffinity")
    nodes = [env.node_info(n) for n in ("a1", "a2", "b1")]
    p = env.pod_info(pod("p", affinity=aff(preferred=[{"weight": 50,
                                                        "podAffinityTerm": term("cache")}])))
    state = CycleState()
    assert plugin.pre_score(state, p, nodes) is None
    scores = [plugin.score(state, p, n) for n in nodes]
    assert scores == [50, 50, 0]
    plugin.normalize_score(state, p, nodes, scores)
    assert scores == [100, 100, 0]
    q = env.pod_info(pod("q", affinity=aff(anti_preferred=[
        {"weight": 20, "podAffinityTerm": term("cache", HOST)}])))
    state = CycleState()
    plugin.pre_score(state, q, nodes)
    scores = [plugin.score(state, q, n) for n in nodes]
    assert scores == [-20, 0, 0]
    plugin.normalize_score(state, q, nodes, scores)
    assert scores == [0, 100, 100]


def test_existing_pods_required_affinity_attracts_matching_pods():
    env = Env([node("a1", zone="a"), node("b1", zone="b")])
    env.create(pod("needs-web", nodeName="b1", affinity=aff(required=[term("web")])))
    env.run()
    plugin = env.plugin("InterPodAffinity")
    nodes = [env.node_info("a1"), env.node_info("b1")]
    state = CycleState()
    w = env.pod_info(pod("w", labels={"app": "web"}))
    assert plugin.pre_score(state, w, nodes) is None   # hardPodAffinityWeight 1
    assert [plugin.score(state, w, n) for n in nodes] == [0, 1]
    assert plugin.pre_score(CycleState(), env.pod_info(pod("x")), nodes).is_skip()


def test_anti_affinity_spreads_a_statefulset_like_group_and_stops_when_full():
    env = Env([node("n1"), node("n2")])
    for i in range(3):
        env.create(pod(f"db-{i}", labels={"app": "db"},
                       affinity=aff(anti=[term("db", HOST)])))
        env.run()
    assert {env.node_of("db-0"), env.node_of("db-1")} == {"n1", "n2"}
    assert env.node_of("db-2") is None
    assert env.message("db-2") == (
        "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: "
        "0/2 nodes are available: 2 No preemption victims found for incoming pod.")
    env.cluster.delete("Pod", "db-0", grace_period_seconds=0)
    env.run()
    env.cluster.advance(1)
    assert env.node_of("db-2") in ("n1", "n2")
