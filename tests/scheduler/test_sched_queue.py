"""The scheduling queue on the virtual clock: ordering, backoff, parking and moves."""

from __future__ import annotations

from hypothesis import given, strategies as st
from schedtest import Env, node, pod

from fakekube.clock import VirtualClock
from fakekube.scheduler import PodInfo, SchedulingQueue
from fakekube.scheduler.framework import ActionType, ClusterEvent
from fakekube.scheduler.queue import UNSCHEDULABLE_TIMEOUT


def pi(name: str, priority: int = 0, gates: bool = False) -> PodInfo:
    spec = {"containers": [], "priority": priority}
    if gates:
        spec["schedulingGates"] = [{"name": "g"}]
    return PodInfo({"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
                    "spec": spec})


def make_queue(clock: VirtualClock | None = None, initial: float = 1, maximum: float = 10,
               registered: dict | None = None):
    clock = clock or VirtualClock()
    activated = []
    gate = lambda p: "SchedulingGates" if p.gates else None  # noqa: E731
    q = SchedulingQueue(clock, initial, maximum, on_active=lambda: activated.append(1),
                        pre_enqueue=gate, registered=registered or {
                            "NodeResourcesFit": [ClusterEvent("Node", ActionType.ADD),
                                                 ClusterEvent("Pod", ActionType.DELETE)],
                            "NodeAffinity": [ClusterEvent("Node", ActionType.UPDATE_NODE_LABEL)],
                            "SchedulingGates": [ClusterEvent(
                                "Pod", ActionType.UPDATE_POD_SCHEDULING_GATES_ELIMINATED)]})
    return q, clock, activated


def fail(q: SchedulingQueue, qpi, plugin: str | None = "NodeResourcesFit") -> None:
    qpi.unschedulable_plugins = {plugin} if plugin else set()
    q.add_unschedulable_if_not_present(qpi, q.scheduling_cycle)


def test_active_queue_orders_by_priority_then_arrival():
    q, _, activated = make_queue()
    for name, prio in [("a", 0), ("b", 10), ("c", 0), ("d", 10), ("e", -5)]:
        q.add(pi(name, prio))
    assert len(activated) == 5
    order = []
    while (qpi := q.pop()) is not None:
        order.append(qpi.pi.name)
    assert order == ["b", "d", "a", "c", "e"]
    assert q.scheduling_cycle == 5


@given(st.integers(1, 12))
def test_backoff_doubles_from_initial_to_max(attempts):
    q, _, _ = make_queue(initial=1, maximum=10)
    q.add(pi("a"))
    qpi = q.pop()
    qpi.attempts = attempts
    assert q.backoff_duration(qpi) == min(2 ** (attempts - 1), 10)


def test_backoff_uses_the_configured_durations():
    q, _, _ = make_queue(initial=2, maximum=5)
    q.add(pi("a"))
    qpi = q.pop()
    assert [q.backoff_duration(qpi)] == [2]
    qpi.attempts = 2
    assert q.backoff_duration(qpi) == 4
    qpi.attempts = 3
    assert q.backoff_duration(qpi) == 5


def test_unschedulable_pod_is_parked_without_a_deadline():
    q, clock, _ = make_queue()
    q.add(pi("a"))
    fail(q, q.pop())
    assert q.where("uid-a") == "unschedulablePods"
    assert clock.next_pending_deadline() is None


def test_event_moves_a_parked_pod_to_backoff_then_active_on_the_clock():
    q, clock, activated = make_queue()
    q.add(pi("a"))
    fail(q, q.pop())
    activated.clear()
    q.move_all(ClusterEvent("Node", ActionType.ADD))
    assert q.where("uid-a") == "backoffQ"
    deadline = clock.next_pending_deadline()
    assert deadline is not None and deadline.when == clock.now() + 1
    clock.advance(0.5)
    assert q.where("uid-a") == "backoffQ" and not activated
    clock.advance(0.5)
    assert q.where("uid-a") == "activeQ" and activated
    assert clock.next_pending_deadline() is None


def test_event_after_the_backoff_ends_goes_straight_to_active():
    q, clock, _ = make_queue()
    q.add(pi("a"))
    fail(q, q.pop())
    clock.advance(5)
    q.move_all(ClusterEvent("Node", ActionType.ADD))
    assert q.where("uid-a") == "activeQ"


def test_events_the_rejecting_plugin_did_not_register_leave_the_pod_parked():
    q, _, _ = make_queue()
    q.add(pi("a"))
    fail(q, q.pop(), "NodeAffinity")
    q.move_all(ClusterEvent("Pod", ActionType.DELETE))
    assert q.where("uid-a") == "unschedulablePods"
    q.move_all(ClusterEvent("Node", ActionType.UPDATE_NODE_LABEL))
    assert q.where("uid-a") == "backoffQ"


def test_a_failure_without_rejecting_plugin_backs_off():
    q, _, _ = make_queue()
    q.add(pi("a"))
    fail(q, q.pop(), None)
    assert q.where("uid-a") == "backoffQ"


def test_a_move_request_during_the_cycle_sends_the_pod_to_backoff():
    q, _, _ = make_queue()
    q.add(pi("a"))
    q.add(pi("b"))
    fail(q, q.pop())                       # a parked
    qpi = q.pop()                          # b in flight ...
    q.move_all(ClusterEvent("Node", ActionType.ADD))   # ... when an event arrives
    fail(q, qpi)
    assert q.where("uid-b") == "backoffQ"


def test_pre_enqueue_keeps_gated_pods_out_until_updated():
    q, _, _ = make_queue()
    gated = pi("g", gates=True)
    q.add(gated)
    assert q.where("uid-g") == "unschedulablePods"
    q.move_all(ClusterEvent("Node", ActionType.ADD))
    assert q.where("uid-g") == "unschedulablePods"
    ungated = pi("g")
    q.update(gated.pod, ungated)
    assert q.where("uid-g") == "activeQ"


def test_leftover_flush_is_a_heartbeat_that_retries_after_five_minutes():
    q, clock, _ = make_queue()
    q.run()
    q.add(pi("a"))
    fail(q, q.pop())
    assert clock.next_pending_deadline() is None      # heartbeats never count
    clock.advance(299)
    assert q.where("uid-a") == "unschedulablePods"
    clock.advance(31)
    assert q.where("uid-a") in ("backoffQ", "activeQ")
    q.close()


def test_wildcard_event_moves_everything():
    q, _, _ = make_queue()
    q.add(pi("a"))
    fail(q, q.pop(), "NodeAffinity")
    q.move_pods(list(q.unschedulable.values()), UNSCHEDULABLE_TIMEOUT)
    assert q.where("uid-a") == "backoffQ"


def test_status_only_updates_do_not_unpark():
    q, _, _ = make_queue()
    a = pi("a")
    q.add(a)
    fail(q, q.pop())
    newer = dict(a.pod, status={"conditions": [{"type": "PodScheduled", "status": "False"}]})
    newer["metadata"] = dict(a.pod["metadata"], resourceVersion="9")
    q.update(a.pod, PodInfo(newer))
    assert q.where("uid-a") == "unschedulablePods"
    relabeled = dict(newer, metadata=dict(newer["metadata"], labels={"x": "y"}))
    q.update(newer, PodInfo(relabeled))
    assert q.where("uid-a") == "backoffQ"


def test_deleted_pods_leave_every_queue():
    q, _, _ = make_queue()
    q.add(pi("a"))
    q.add(pi("b"))
    fail(q, q.pop())
    q.delete("uid-a")
    q.delete("uid-b")
    assert q.pop() is None and len(q) == 0 and not q.unschedulable


def test_in_the_cluster_a_parked_pod_waits_for_a_node_and_settles():
    env = Env([node("small", cpu="1")])
    env.create(pod("big", cpu="2"))
    env.run()
    assert env.condition("big")["reason"] == "Unschedulable"
    sched = env.scheduler
    assert sched.scheduling_queue.where(env.get("Pod", "big")["metadata"]["uid"]) == \
        "unschedulablePods"
    # Nothing the scheduler holds is a pending deadline.
    assert not [t for t in env.cluster.clock.timers()
                if t.pending and t.label.startswith("kube-scheduler")]
    env.create(node("large", cpu="4"))
    env.run()
    env.cluster.advance(1)      # the backoff of the first failure
    assert env.node_of("big") == "large"
