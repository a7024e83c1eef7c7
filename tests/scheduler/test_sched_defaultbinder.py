"""DefaultBinder and the outcome of a successful binding cycle."""

from __future__ import annotations

from schedtest import Env, node, pod


def test_binding_sets_node_condition_and_event():
    env = Env([node("n1")])
    env.create(pod("p"))
    env.run()
    p = env.get("Pod", "p")
    assert p["spec"]["nodeName"] == "n1"
    assert env.condition("p")["status"] == "True"
    (ev,) = env.events("p", "Scheduled")
    assert (ev["type"], ev["message"], ev["source"]["component"]) == (
        "Normal", "Successfully assigned default/p to n1", "default-scheduler")
    assert p["status"]["phase"] == "Pending"       # the kubelet's job from here


def test_pods_of_other_schedulers_are_left_alone():
    env = Env([node("n1")])
    env.create(pod("p", schedulerName="my-scheduler"))
    env.run()
    assert env.node_of("p") is None and env.events("p") == []


def test_terminating_pending_pod_is_not_scheduled():
    env = Env([])
    env.create(dict(pod("p"), metadata={"name": "p", "namespace": "default",
                                        "finalizers": ["example.com/hold"]}))
    env.run()
    env.cluster.delete("Pod", "p")
    env.create(node("n1"))
    env.run()
    env.cluster.advance(5)
    assert env.node_of("p") is None
