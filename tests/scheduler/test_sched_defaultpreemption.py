"""DefaultPreemption: the PostFilter message, and evicting lower-priority pods."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler.plugins.defaultpreemption import (DefaultPreemption,
                                                          filter_pods_with_pdb_violation)
from fakekube.scheduler.types import PodInfo


def low_and_high(env: Env) -> None:
    env.create(pod("low", cpu="1500m", priority=0))
    env.run()
    assert env.node_of("low") == "n1"
    env.create(pod("high", cpu="1", priority=1000))
    env.run()


def test_preemption_evicts_the_lower_priority_pod_and_nominates_the_node():
    env = Env([node("n1", cpu="2")])
    low_and_high(env)
    high = env.get("Pod", "high")
    assert high["status"]["nominatedNodeName"] == "n1"
    # The FitError has no preemption part when preemption found victims.
    assert env.message("high") == "0/1 nodes are available: 1 Insufficient cpu."
    low = env.get("Pod", "low")
    assert low["metadata"].get("deletionTimestamp")
    (cond,) = [c for c in low["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "True", "PreemptionByScheduler",
        "default-scheduler: preempting to accommodate a higher priority pod")
    assert [e["message"] for e in env.events("low", "Preempted")] == [
        f"Preempted by pod {high['metadata']['uid']} on node n1"]
    # The victim is terminating: no second round of preemption meanwhile.
    env.cluster.advance(1)
    env.cluster.delete("Pod", "low", grace_period_seconds=0)   # the kubelet confirms
    env.run()
    env.cluster.advance(10)
    assert env.node_of("high") == "n1"


def test_a_terminating_victim_on_the_nominated_node_blocks_new_preemption():
    env = Env([node("n1", cpu="2")])
    low_and_high(env)
    # Some pod deletion retries the pod while the victim is still terminating.
    env.create(pod("other", cpu=None, nodeName="n1"))
    env.run()
    env.cluster.delete("Pod", "other", grace_period_seconds=0)
    env.run()
    env.cluster.advance(1)
    assert env.message("high") == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a "
        "terminating pod on the nominated node.")
    assert len(env.events("low", "Preempted")) == 1


def test_preemption_policy_never():
    env = Env([node("n1", cpu="2")])
    env.create(pod("low", cpu="1500m", priority=0))
    env.run()
    env.create(pod("high", cpu="1", priority=1000, preemptionPolicy="Never"))
    env.run()
    assert env.message("high") == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
        "preemptionPolicy=Never.")
    assert not env.get("Pod", "low")["metadata"].get("deletionTimestamp")


def test_no_victims_and_not_helpful_are_counted_per_node():
    env = Env([node("n1", cpu="2"), node("n2", cpu="2", labels={"gpu": "no"}),
               node("n3", cpu="1")])
    env.create(pod("peer", cpu="1500m", priority=5, nodeName="n1"))
    env.create(pod("p", cpu="1", priority=5, nodeSelector={"kubernetes.io/hostname": "n1"}))
    env.run()
    assert env.message("p") == (
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims "
        "found for incoming pod, 2 Preemption is not helpful for scheduling.")


def test_removing_victims_that_still_leave_no_room_reports_the_filter_reason():
    env = Env([node("n1", cpu="2")])
    env.create(pod("peer", cpu="1500m", priority=100, nodeName="n1"))
    env.create(pod("low", cpu="200m", priority=0, nodeName="n1"))
    env.create(pod("p", cpu="1", priority=100))
    env.run()
    assert env.message("p") == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
        "1 Insufficient cpu.")
    assert not env.get("Pod", "low")["metadata"].get("deletionTimestamp")


def test_fewest_and_least_important_victims_are_chosen():
    env = Env([node("n1", cpu="2"), node("n2", cpu="2")])
    env.create(pod("a", cpu="1", priority=10, nodeName="n1"))
    env.create(pod("b", cpu="1", priority=10, nodeName="n1"))
    env.create(pod("c", cpu="2", priority=20, nodeName="n2"))
    env.create(pod("p", cpu="2", priority=100))
    env.run()
    # n1 needs two victims of priority 10, n2 one of priority 20: the lowest highest
    # victim priority wins first.
    assert env.get("Pod", "p")["status"]["nominatedNodeName"] == "n1"
    assert env.get("Pod", "a")["metadata"].get("deletionTimestamp")
    assert env.get("Pod", "b")["metadata"].get("deletionTimestamp")
    assert not env.get("Pod", "c")["metadata"].get("deletionTimestamp")


def test_victims_are_reprieved_when_not_needed():
    env = Env([node("n1", cpu="3")])
    env.create(pod("keep", cpu="1", priority=50, nodeName="n1"))
    env.create(pod("go", cpu="1500m", priority=10, nodeName="n1"))
    env.create(pod("p", cpu="1500m", priority=100))
    env.run()
    assert env.get("Pod", "go")["metadata"].get("deletionTimestamp")
    assert not env.get("Pod", "keep")["metadata"].get("deletionTimestamp")


def test_pdb_violations_are_counted_against_the_budget():
    pods = [PodInfo({"metadata": {"name": f"p{i}", "namespace": "default", "uid": str(i),
                                  "labels": {"app": "web"}}, "spec": {}}) for i in range(3)]
    pdb = {"metadata": {"namespace": "default"},
           "spec": {"selector": {"matchLabels": {"app": "web"}}},
           "status": {"disruptionsAllowed": 1}}
    violating, ok = filter_pods_with_pdb_violation(pods, [pdb])
    assert [p.name for p in ok] == ["p0"] and [p.name for p in violating] == ["p1", "p2"]


def test_num_candidates():
    assert DefaultPreemption.num_candidates(50) == 50
    assert DefaultPreemption.num_candidates(500) == 100
    assert DefaultPreemption.num_candidates(5000) == 500


def test_room_made_for_a_nominated_pod_is_kept_from_lower_priority_pods():
    env = Env([node("n1", cpu="2")])
    low_and_high(env)
    env.cluster.delete("Pod", "low", grace_period_seconds=0)
    env.run()
    # "high" waits out its backoff; a lower-priority pod arrives meanwhile.
    env.create(pod("mid", cpu="1500m", priority=50))
    env.run()
    assert env.node_of("mid") is None
    assert env.message("mid").startswith("0/1 nodes are available: 1 Insufficient cpu.")
    env.cluster.advance(2)
    assert env.node_of("high") == "n1"
