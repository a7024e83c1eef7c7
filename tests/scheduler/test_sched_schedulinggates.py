"""SchedulingGates: gated pods wait until their gates are removed."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler import PodInfo
from fakekube.scheduler.plugins.schedulinggates import SchedulingGates


def test_gated_pod_waits_and_is_scheduled_once_ungated():
    env = Env([node("n1")])
    env.create(pod("p", schedulingGates=[{"name": "example.com/wait"}]))
    env.run()
    assert env.node_of("p") is None
    assert env.events("p", "FailedScheduling") == []       # never attempted
    uid = env.get("Pod", "p")["metadata"]["uid"]
    assert env.scheduler.scheduling_queue.where(uid) == "unschedulablePods"
    p = env.get("Pod", "p")
    p["spec"]["schedulingGates"] = []
    env.cluster.replace(p)
    env.run()
    assert env.node_of("p") == "n1"


def test_pre_enqueue_message():
    st = SchedulingGates().pre_enqueue(PodInfo({
        "metadata": {"name": "p", "namespace": "d", "uid": "u"},
        "spec": {"schedulingGates": [{"name": "a"}, {"name": "b"}]}}))
    assert st.message() == "waiting for scheduling gates: [a b]"
