"""NodePorts: host ports must be free."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler.framework import Code

REASON = "node(s) didn't have free ports for the requested pod ports"


def test_host_port_conflicts():
    env = Env([node("n1"), node("n2")])
    env.create(pod("web", nodeName="n1", ports=[{"containerPort": 80, "hostPort": 8080}]))
    env.create(pod("dns", nodeName="n2", ports=[
        {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"}]))
    env.run()
    plugin_filter = lambda ports: env.filter_all(  # noqa: E731
        "NodePorts", env.pod_info(pod("p", ports=ports)))
    assert plugin_filter([{"containerPort": 80, "hostPort": 8080}]) == {"n1": REASON,
                                                                        "n2": None}
    # Another protocol or port: no conflict.
    assert plugin_filter([{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]) == \
        {"n1": None, "n2": None}
    # 0.0.0.0 conflicts with a specific address; two different addresses don't.
    assert plugin_filter([{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]) == \
        {"n1": None, "n2": REASON}
    assert plugin_filter([{"containerPort": 53, "hostPort": 53, "protocol": "UDP",
                           "hostIP": "10.0.0.2"}]) == {"n1": None, "n2": None}


def test_no_host_ports_skips_and_status_is_unschedulable():
    env = Env([node("n1")])
    _, _, status = env.pre_filter("NodePorts", env.pod_info(pod("p")))
    assert status.is_skip()
    env.create(pod("a", ports=[{"containerPort": 80, "hostPort": 80}]))
    env.create(pod("b", ports=[{"containerPort": 80, "hostPort": 80}]))
    env.run()
    assert env.node_of("a") == "n1"
    assert env.message("b") == (
        f"0/1 nodes are available: 1 {REASON}. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod.")
    st = env.plugin("NodePorts").filter(None, env.pod_info(
        pod("c", ports=[{"containerPort": 80, "hostPort": 80}])), env.node_info("n1"))
    assert st.code == Code.UNSCHEDULABLE
    # Freeing the port (deleting the pod) lets the other one in.
    env.cluster.delete("Pod", "a", grace_period_seconds=0)
    env.run()
    env.cluster.advance(1)
    assert env.node_of("b") == "n1"
