"""NodeUnschedulable: cordoned nodes."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler.framework import Code
from fakekube.scheduler.plugins import nodeunschedulable


def test_cordoned_node_rejects_with_the_exact_reason():
    env = Env([node("open"), node("cordoned", unschedulable=True)])
    pi = env.pod_info(pod("p"))
    plugin = env.plugin("NodeUnschedulable")
    st = plugin.filter(None, pi, env.node_info("cordoned"))
    assert st.message() == "node(s) were unschedulable" == nodeunschedulable.ERR_REASON
    assert st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert plugin.filter(None, pi, env.node_info("open")) is None


def test_tolerating_the_unschedulable_taint_passes():
    env = Env([node("cordoned", unschedulable=True)])
    pi = env.pod_info(pod("p", tolerations=[
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
         "effect": "NoSchedule"}]))
    assert env.plugin("NodeUnschedulable").filter(None, pi, env.node_info("cordoned")) is None


def test_end_to_end_message():
    env = Env([node("a", unschedulable=True), node("b", unschedulable=True)])
    env.create(pod("p"))
    env.run()
    assert env.message("p") == (
        "0/2 nodes are available: 2 node(s) were unschedulable. preemption: 0/2 nodes are "
        "available: 2 Preemption is not helpful for scheduling.")
    # Uncordoning moves the pod (a node event the plugin registered for).
    n = env.get("Node", "b", "")
    n["spec"]["unschedulable"] = False
    env.cluster.replace(n)
    env.run()
    env.cluster.advance(1)
    assert env.node_of("p") == "b"
