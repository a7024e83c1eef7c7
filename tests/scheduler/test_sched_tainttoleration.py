"""TaintToleration: NoSchedule/NoExecute taints filter, PreferNoSchedule taints score."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler import CycleState
from fakekube.scheduler.framework import Code

T1 = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
T2 = {"key": "example.com/drain", "effect": "NoExecute"}
SOFT = {"key": "soft", "value": "x", "effect": "PreferNoSchedule"}


def test_first_untolerated_taint_in_node_order_is_reported():
    env = Env([node("n", taints=[T1, T2])])
    plugin = env.plugin("TaintToleration")
    st = plugin.filter(None, env.pod_info(pod("p")), env.node_info("n"))
    assert st.message() == "node(s) had untolerated taint {dedicated: gpu}"
    assert st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    tolerant = env.pod_info(pod("q", tolerations=[
        {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]))
    st = plugin.filter(None, tolerant, env.node_info("n"))
    # A taint without a value prints as "{key: }", as upstream.
    assert st.message() == "node(s) had untolerated taint {example.com/drain: }"


def test_tolerations_exists_and_empty_key_tolerate():
    env = Env([node("n", taints=[T1, T2])])
    plugin = env.plugin("TaintToleration")
    for tols in ([{"operator": "Exists"}],
                 [{"key": "dedicated", "operator": "Exists"},
                  {"key": "example.com/drain", "operator": "Exists", "effect": "NoExecute"}]):
        assert plugin.filter(None, env.pod_info(pod("p", tolerations=tols)),
                             env.node_info("n")) is None
    wrong_value = [{"key": "dedicated", "operator": "Equal", "value": "cpu"}]
    assert plugin.filter(None, env.pod_info(pod("p", tolerations=wrong_value)),
                         env.node_info("n")) is not None


def test_prefer_no_schedule_never_filters_but_scores_lower():
    env = Env([node("soft", taints=[SOFT]), node("clean")])
    plugin = env.plugin("TaintToleration")
    pi = env.pod_info(pod("p"))
    assert plugin.filter(None, pi, env.node_info("soft")) is None
    state = CycleState()
    nodes = [env.node_info("soft"), env.node_info("clean")]
    plugin.pre_score(state, pi, nodes)
    scores = [plugin.score(state, pi, n) for n in nodes]
    assert scores == [1, 0]
    plugin.normalize_score(state, pi, nodes, scores)
    assert scores == [0, 100]
    tolerant = env.pod_info(pod("q", tolerations=[{"key": "soft", "operator": "Exists"}]))
    state = CycleState()
    plugin.pre_score(state, tolerant, nodes)
    assert [plugin.score(state, tolerant, n) for n in nodes] == [0, 0]


def test_soft_taint_steers_placement():
    env = Env([node("soft", taints=[SOFT]), node("clean")])
    for i in range(3):
        env.create(pod(f"p{i}", cpu="10m"))
    env.run()
    assert {env.node_of(f"p{i}") for i in range(3)} == {"clean"}
