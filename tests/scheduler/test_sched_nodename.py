"""NodeName: a pod naming a node fits only that node."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler import CycleState, PodInfo
from fakekube.scheduler.framework import Code
from fakekube.scheduler.plugins import nodename


def test_mismatch_reason_and_prefilter_skip():
    env = Env([node("n1"), node("n2")])
    plugin = env.plugin("NodeName")
    named = env.pod_info(pod("p"))
    named = PodInfo(dict(named.pod, spec=dict(named.pod["spec"], nodeName="n2")))
    st = plugin.filter(CycleState(), named, env.node_info("n1"))
    assert st.message() == "node(s) didn't match the requested node name" == nodename.ERR_REASON
    assert st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert plugin.filter(CycleState(), named, env.node_info("n2")) is None
    _, status = plugin.pre_filter(CycleState(), env.pod_info(pod("q")))
    assert status.is_skip()


def test_pods_with_a_node_name_are_not_scheduled():
    env = Env([node("n1")])
    env.create(pod("p", nodeName="elsewhere"))
    env.run()
    assert env.node_of("p") == "elsewhere"
    assert env.events("p") == []
