"""NodeAffinity: node selectors and required/preferred node affinity."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler import CycleState
from fakekube.scheduler.framework import Code

REASON = "node(s) didn't match Pod's node affinity/selector"


def affinity(required=None, preferred=None) -> dict:
    na = {}
    if required is not None:
        na["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": required}
    if preferred is not None:
        na["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return {"nodeAffinity": na}


def env3() -> Env:
    return Env([node("n1", zone="a", labels={"disk": "ssd", "cores": "8"}),
                node("n2", zone="b", labels={"disk": "hdd", "cores": "16"}),
                node("n3", zone="c")])


def test_node_selector():
    env = env3()
    out = env.filter_all("NodeAffinity", env.pod_info(pod("p", nodeSelector={"disk": "ssd"})))
    assert out == {"n1": None, "n2": REASON, "n3": REASON}


def test_no_selector_skips():
    env = env3()
    _, _, status = env.pre_filter("NodeAffinity", env.pod_info(pod("p")))
    assert status.is_skip()


def test_required_operators():
    env = env3()

    def matching(*exprs):
        p = pod("p", affinity=affinity([{"matchExpressions": list(exprs)}]))
        return sorted(n for n, r in env.filter_all("NodeAffinity", env.pod_info(p)).items()
                      if r is None)

    assert matching({"key": "disk", "operator": "In", "values": ["ssd", "nvme"]}) == ["n1"]
    assert matching({"key": "disk", "operator": "NotIn", "values": ["ssd"]}) == ["n2", "n3"]
    assert matching({"key": "disk", "operator": "Exists"}) == ["n1", "n2"]
    assert matching({"key": "disk", "operator": "DoesNotExist"}) == ["n3"]
    assert matching({"key": "cores", "operator": "Gt", "values": ["10"]}) == ["n2"]
    assert matching({"key": "cores", "operator": "Lt", "values": ["10"]}) == ["n1"]
    assert matching({"key": "disk", "operator": "Exists"},
                    {"key": "topology.kubernetes.io/zone", "operator": "In",
                     "values": ["b"]}) == ["n2"]


def test_terms_are_ored_and_selector_is_anded():
    env = env3()
    p = pod("p", nodeSelector={"topology.kubernetes.io/zone": "a"}, affinity=affinity([
        {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["hdd"]}]},
        {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]))
    out = env.filter_all("NodeAffinity", env.pod_info(p))
    assert out == {"n1": None, "n2": REASON, "n3": REASON}


def test_match_fields_narrow_the_nodes_with_a_prefilter_result():
    env = env3()
    p = pod("p", affinity=affinity([{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]))
    _, result, status = env.pre_filter("NodeAffinity", env.pod_info(p))
    assert status is None and result.node_names == {"n2"}


def test_conflicting_node_names():
    env = env3()
    p = pod("p", affinity=affinity([{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": ["n1"]},
        {"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]))
    _, _, status = env.pre_filter("NodeAffinity", env.pod_info(p))
    assert status.message() == "pod affinity terms conflict"
    assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE


def test_unknown_node_name_is_unschedulable_not_an_error():
    env = Env([node("n1"), node("n2")])
    env.create(pod("p", affinity=affinity([{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": ["no-such-node"]}]}])))
    env.run()
    assert env.condition("p")["reason"] == "Unschedulable"
    assert env.message("p") == (
        "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    assert env.scheduler.internal_errors == []


def test_preferred_terms_score_by_weight_and_normalize():
    env = env3()
    p = env.pod_info(pod("p", affinity=affinity(preferred=[
        {"weight": 10, "preference": {"matchExpressions": [
            {"key": "disk", "operator": "In", "values": ["ssd"]}]}},
        {"weight": 30, "preference": {"matchExpressions": [
            {"key": "disk", "operator": "Exists"}]}}])))
    plugin = env.plugin("NodeAffinity")
    nodes = [env.node_info(n) for n in ("n1", "n2", "n3")]
    state = CycleState()
    assert plugin.pre_score(state, p, nodes) is None
    scores = [plugin.score(state, p, n) for n in nodes]
    assert scores == [40, 30, 0]
    plugin.normalize_score(state, p, nodes, scores)
    assert scores == [100, 75, 0]
    assert plugin.pre_score(CycleState(), env.pod_info(pod("q")), nodes).is_skip()


def test_preferred_affinity_steers_placement():
    env = env3()
    env.create(pod("p", affinity=affinity(preferred=[
        {"weight": 100, "preference": {"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["c"]}]}}])))
    env.run()
    assert env.node_of("p") == "n3"
