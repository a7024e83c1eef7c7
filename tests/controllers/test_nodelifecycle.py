"""Node lifecycle controller: node health on the virtual clock (SPEC.md NF-1 .. NF-4).

The simulated kubelet is stood in for by the test: a Node, a Lease in ``kube-node-lease`` and
a heartbeat registered under ``kubelet-lease:<node>`` that renews the Lease every 10 s;
cancelling that heartbeat is a node failure. Times are seconds since the cluster started
(monitor ticks at multiples of 5 s, podgc ticks at multiples of 20 s).
"""

from __future__ import annotations

import fakekube
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakekube.api.objects import parse_rfc3339, rfc3339, rfc3339_micro
from fakekube.controllers.nodelifecycle import (FULL_DISRUPTION, NORMAL, PARTIAL_DISRUPTION,
                                                NodeLifecycleController, compute_zone_state,
                                                swapped_taints, zone_key)
from fakekube.controllers.podgc import PodGCController
from fakekube.controllers.tainteviction import TaintEvictionController

CONTROLLERS = (NodeLifecycleController, TaintEvictionController, PodGCController)
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"


class Sim:
    """A cluster without kubelets, the three node-failure controllers, and stand-in kubelets
    driven by the test."""

    def __init__(self, **options) -> None:
        self.c = fakekube.Cluster(nodes=0, **options)
        present = {type(x) for x in self.c.manager.controllers}
        for cls in CONTROLLERS:
            if cls not in present:
                self.c.manager.add(cls(self.c.ctx)).setup()
        self.t0 = self.c.now
        self.beats: dict[str, object] = {}

    @property
    def t(self) -> float:
        return self.c.now - self.t0

    def at(self, t: float) -> str:
        return rfc3339(self.t0 + t)

    def advance_to(self, t: float) -> None:
        self.c.advance(self.t0 + t - self.c.now)

    def _renew(self, name: str) -> None:
        self.c.patch("Lease", name, {"spec": {"renewTime": rfc3339_micro(self.c.now)}},
                     namespace="kube-node-lease")

    def start_kubelet(self, name: str) -> None:
        self.beats[name] = self.c.clock.call_every(
            10, lambda: self._renew(name), label=f"kubelet-lease:{name}")

    def add_node(self, name: str, zone: str = "a", ready: bool | None = True,
                 lease: bool = True, labels: dict | None = None) -> None:
        if lease:
            self.start_kubelet(name)  # before the Lease: its expiry deadline names it
        now = rfc3339(self.c.now)
        status: dict = {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}
        if ready is not None:
            status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False",
                                     "reason": "KubeletReady",
                                     "message": "kubelet is posting ready status",
                                     "lastHeartbeatTime": now, "lastTransitionTime": now}]
        self.c.create({"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "labels": {"kubernetes.io/hostname": name,
                                     "topology.kubernetes.io/zone": zone, **(labels or {})}},
            "status": status})
        if lease:
            self.c.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                           "metadata": {"name": name, "namespace": "kube-node-lease"},
                           "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                                    "renewTime": rfc3339_micro(self.c.now)}})

    def fail(self, name: str) -> None:
        self.beats.pop(name).cancel()

    def post_ready(self, name: str, status: str = "True") -> None:
        """The kubelet posts its Ready condition; the controllers react at this instant."""
        self._post(name, status)
        self.c.advance(0)

    def _post(self, name: str, status: str = "True") -> None:
        node = self.c.get("Node", name)
        now = rfc3339(self.c.now)
        for cond in node["status"]["conditions"]:
            if cond["type"] == "Ready":
                if cond["status"] != status:
                    cond["lastTransitionTime"] = now
                cond.update(status=status, lastHeartbeatTime=now, reason="KubeletReady",
                            message="kubelet is posting ready status")
            else:
                cond.update(status="False", lastHeartbeatTime=now)
        self.c.replace(node, subresource="status")

    def add_pod(self, name: str, node: str, tolerations: list | None = None,
                ready: bool = True) -> dict:
        spec = {"nodeName": node, "containers": [{"name": "c", "image": "nginx"}]}
        if tolerations is not None:
            spec["tolerations"] = tolerations
        pod = self.c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                             "spec": spec})
        now = rfc3339(self.c.now)
        pod["status"].update(phase="Running", conditions=[
            {"type": "Ready", "status": "True" if ready else "False",
             "lastTransitionTime": now}])
        return self.c.replace(pod, subresource="status")

    def node(self, name: str) -> dict:
        return self.c.get("Node", name)

    def pod(self, name: str) -> dict | None:
        try:
            return self.c.get("Pod", name)
        except fakekube.ApiError:
            return None

    def taints(self, name: str, effect: str | None = None) -> dict[str, str]:
        """key -> timeAdded, as seconds since start (a string key if effect is None)."""
        out = {}
        for t in (self.node(name).get("spec") or {}).get("taints") or ():
            if effect is None or t["effect"] == effect:
                added = t.get("timeAdded")
                out[t["key"] if effect else f"{t['key']}:{t['effect']}"] = (
                    parse_rfc3339(added) - self.t0 if added else None)
        return out

    def events(self, reason: str) -> list[dict]:
        return [e for e in self.c.events() if e["reason"] == reason]


def cond(obj: dict, type_: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or ()
                 if c["type"] == type_), None)


def two_zones(**options) -> Sim:
    sim = Sim(**options)
    sim.add_node("n1", "a")
    sim.add_node("n2", "b")
    sim.add_pod("p", "n1")
    return sim


# -- node health -------------------------------------------------------------------------------

def test_ready_unknown_at_first_tick_after_last_renew_plus_grace():
    sim = two_zones()
    sim.advance_to(100)
    sim.fail("n1")  # the last renewal was at 100
    sim.advance_to(144.9)
    assert cond(sim.node("n1"), "Ready")["status"] == "True"
    assert cond(sim.pod("p"), "Ready")["status"] == "True"
    sim.advance_to(145)
    node = sim.node("n1")
    ready = cond(node, "Ready")
    assert ready == {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                     "message": "Kubelet stopped posting node status.",
                     "lastHeartbeatTime": sim.at(0), "lastTransitionTime": sim.at(145)}
    for type_ in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        # never posted by this kubelet
        assert cond(node, type_) == {
            "type": type_, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
            "message": "Kubelet never posted node status.",
            "lastHeartbeatTime": node["metadata"]["creationTimestamp"],
            "lastTransitionTime": sim.at(145)}
    assert cond(node, "NetworkUnavailable") is None
    pod_ready = cond(sim.pod("p"), "Ready")
    assert pod_ready["status"] == "False" and pod_ready["lastTransitionTime"] == sim.at(145)
    (ev,) = sim.events("NodeNotReady")[:1]
    assert ev["involvedObject"]["kind"] == "Node" and ev["type"] == "Normal"
    assert ev["message"] == "Node n1 status is now: NodeNotReady"
    assert ev["source"]["component"] == "node-controller"
    pod_events = [e for e in sim.events("NodeNotReady") if e["involvedObject"]["kind"] == "Pod"]
    assert [(e["type"], e["message"]) for e in pod_events] == [("Warning", "Node is not ready")]
    # NoSchedule at once (on the node update), NoExecute at the next tick
    assert sim.taints("n1", "NoSchedule") == {UNREACHABLE: 145}
    assert sim.taints("n1", "NoExecute") == {}
    sim.advance_to(150)
    assert sim.taints("n1", "NoExecute") == {UNREACHABLE: 150}
    # the healthy node is untouched
    assert cond(sim.node("n2"), "Ready")["status"] == "True"
    assert sim.taints("n2") == {}


@pytest.mark.parametrize("grace,period,expected", [(40, 5, 145), (50, 5, 155), (40, 3, 141),
                                                   (42, 5, 145)])
def test_grace_and_monitor_period_are_configurable(grace, period, expected):
    sim = two_zones(node_monitor_grace_period=grace, node_monitor_period=period)
    sim.advance_to(100)
    sim.fail("n1")
    sim.advance_to(expected - 0.5)
    assert cond(sim.node("n1"), "Ready")["status"] == "True"
    sim.advance_to(expected)
    assert cond(sim.node("n1"), "Ready")["status"] == "Unknown"


def test_node_that_never_posted_ready_gets_the_startup_grace():
    sim = Sim()
    sim.add_node("n2", "b")
    sim.add_node("n3", "c", ready=None, lease=False)
    sim.advance_to(64.9)
    assert cond(sim.node("n3"), "Ready") is None
    sim.advance_to(65)  # first tick after creation + 60 s
    node = sim.node("n3")
    assert cond(node, "Ready") == {
        "type": "Ready", "status": "Unknown", "reason": "NodeStatusNeverUpdated",
        "message": "Kubelet never posted node status.",
        "lastHeartbeatTime": node["metadata"]["creationTimestamp"],
        "lastTransitionTime": sim.at(65)}
    # observed Unknown already (never posted): tainted in the same tick, no NodeNotReady
    assert sim.taints("n3", "NoExecute") == {UNREACHABLE: 65}
    assert sim.taints("n3", "NoSchedule") == {UNREACHABLE: 65}
    assert sim.events("NodeNotReady") == []


def test_lease_renewals_alone_keep_the_node_healthy():
    sim = two_zones()
    sim.advance_to(1000)  # Ready posted once at 0, the lease renewed every 10 s
    assert cond(sim.node("n1"), "Ready")["status"] == "True"
    assert sim.taints("n1") == {}
    assert sim.c.settle() == 0


def test_status_heartbeats_alone_keep_the_node_healthy():
    sim = Sim()
    sim.add_node("n1", "a", lease=False)
    sim.add_node("n2", "b")
    # a kubelet without a Lease that posts its status every 10 s
    sim.beats["n1"] = sim.c.clock.call_every(10, lambda: sim._post("n1"),
                                             label="kubelet-lease:n1")
    sim.advance_to(500)
    assert cond(sim.node("n1"), "Ready")["status"] == "True"
    assert sim.c.settle() == 0
    sim.fail("n1")  # last post at 500
    sim.advance_to(544.9)
    assert cond(sim.node("n1"), "Ready")["status"] == "True"
    sim.advance_to(545)
    assert cond(sim.node("n1"), "Ready")["status"] == "Unknown"


def test_ready_false_posted_by_a_live_kubelet_taints_not_ready():
    sim = two_zones()
    sim.advance_to(100)
    sim.post_ready("n1", "False")
    # NoSchedule follows the update at once; NoExecute is queued at the next tick
    assert sim.taints("n1", "NoSchedule") == {NOT_READY: 100}
    sim.advance_to(104.9)
    assert sim.taints("n1", "NoExecute") == {}
    sim.advance_to(105)
    assert sim.taints("n1", "NoExecute") == {NOT_READY: 105}
    # the controller changed nothing itself: no NodeNotReady, pods untouched by it
    assert sim.events("NodeNotReady") == []
    assert cond(sim.pod("p"), "Ready")["status"] == "True"
    sim.advance_to(200)
    sim.post_ready("n1", "True")
    assert sim.taints("n1", "NoSchedule") == {}
    assert sim.taints("n1", "NoExecute") == {NOT_READY: 105}
    sim.advance_to(205)  # markNodeAsReachable at the next tick
    assert sim.taints("n1") == {}


def test_not_ready_taint_is_swapped_for_unreachable_at_once():
    sim = two_zones()
    sim.advance_to(100)
    sim.post_ready("n1", "False")
    sim.advance_to(105)
    assert sim.taints("n1", "NoExecute") == {NOT_READY: 105}
    sim.fail("n1")  # last renewal at 100, last status at 100
    sim.advance_to(145)
    assert cond(sim.node("n1"), "Ready")["status"] == "Unknown"
    assert sim.taints("n1", "NoExecute") == {NOT_READY: 105}
    sim.advance_to(150)  # observed Unknown while tainted not-ready: swapped, not queued
    assert sim.taints("n1", "NoExecute") == {UNREACHABLE: 150}
    assert sim.taints("n1", "NoSchedule") == {UNREACHABLE: 145}


def test_restored_lease_does_not_bring_ready_back_until_the_kubelet_posts_it():
    sim = two_zones()
    sim.advance_to(100)
    sim.fail("n1")
    sim.advance_to(200)
    assert sim.taints("n1", "NoExecute") == {UNREACHABLE: 150}
    sim.start_kubelet("n1")  # lease renewals resume at 210, 220, ...
    sim.advance_to(400)
    assert cond(sim.node("n1"), "Ready")["status"] == "Unknown"
    assert cond(sim.pod("p"), "Ready")["status"] == "False"
    assert sim.taints("n1", "NoExecute") == {UNREACHABLE: 150}
    sim.post_ready("n1", "True")
    assert sim.taints("n1", "NoSchedule") == {}
    sim.advance_to(405)
    assert sim.taints("n1") == {}
    # the controller never marks pods ready again; the kubelet would
    assert cond(sim.pod("p"), "Ready")["status"] == "False"
    # nor did the pod go: taints were gone before its 300 s ran out (150 + 300 = 450)
    sim.advance_to(600)
    assert sim.pod("p")["metadata"].get("deletionTimestamp") is None


def test_settle_reaches_a_fixed_point_with_the_pod_terminating():
    sim = two_zones()
    assert sim.c.settle() == 0  # nodes are registered when they appear
    sim.advance_to(100)
    sim.fail("n1")
    used = sim.c.settle()
    assert sim.t == 450 and used == 350  # 145 Unknown, 150 taint, 450 eviction
    pod = sim.pod("p")
    assert pod["metadata"]["deletionTimestamp"] == sim.at(480)
    assert pod["status"]["phase"] == "Running"
    assert cond(pod, "Ready")["status"] == "False"
    assert sim.c.settle() == 0
    assert sim.pod("p") is not None  # no kubelet finishes it


def test_rate_limited_tainting_in_one_zone():
    sim = Sim()
    for name in ("n1", "n2", "n3"):
        sim.add_node(name, "a")
    sim.add_node("n4", "b")
    sim.advance_to(100)
    sim.fail("n1")
    sim.fail("n2")
    sim.advance_to(150)
    assert sim.taints("n1", "NoExecute") == {UNREACHABLE: 150}
    assert sim.taints("n2", "NoExecute") == {}
    sim.advance_to(159.9)
    assert sim.taints("n2", "NoExecute") == {}
    sim.advance_to(160)  # node_eviction_rate 0.1/s, burst 1: one node per 10 s per zone
    assert sim.taints("n2", "NoExecute") == {UNREACHABLE: 160}


def test_zones_are_tainted_independently():
    sim = Sim()
    for name, zone in (("n1", "a"), ("n2", "a"), ("n3", "b"), ("n4", "b")):
        sim.add_node(name, zone)
    sim.advance_to(100)
    sim.fail("n1")
    sim.fail("n3")
    sim.advance_to(150)
    assert sim.taints("n1", "NoExecute") == {UNREACHABLE: 150}
    assert sim.taints("n3", "NoExecute") == {UNREACHABLE: 150}


def test_partial_disruption_in_a_small_cluster_stops_tainting():
    sim = Sim()
    for name in ("n1", "n2", "n3", "n4"):
        sim.add_node(name, "a")
    sim.add_node("n5", "b")
    sim.advance_to(100)
    for name in ("n1", "n2", "n3"):
        sim.fail(name)
    sim.c.settle()
    sim.advance_to(1000)
    for name in ("n1", "n2", "n3"):
        assert cond(sim.node(name), "Ready")["status"] == "Unknown"
        assert sim.taints(name, "NoExecute") == {}
        assert sim.taints(name, "NoSchedule") == {UNREACHABLE: 145}


def test_partial_disruption_in_a_large_zone_uses_the_secondary_rate():
    sim = Sim(large_cluster_size_threshold=3)
    for name in ("n1", "n2", "n3", "n4"):
        sim.add_node(name, "a")
    sim.add_node("n5", "b")
    sim.advance_to(100)
    for name in ("n1", "n2", "n3"):
        sim.fail(name)
    sim.c.settle()
    assert [sim.taints(n, "NoExecute") for n in ("n1", "n2", "n3")] == [
        {UNREACHABLE: 150}, {UNREACHABLE: 250}, {UNREACHABLE: 350}]  # 0.01 nodes/s


def test_all_zones_down_is_master_disruption_mode():
    sim = two_zones()
    sim.add_pod("q", "n2")
    sim.advance_to(100)
    sim.fail("n1")
    sim.fail("n2")
    sim.c.settle()
    assert sim.t == 150
    for name in ("n1", "n2"):
        assert cond(sim.node(name), "Ready")["status"] == "Unknown"
        assert sim.taints(name, "NoExecute") == {}
    sim.advance_to(1000)
    assert sim.pod("p")["metadata"].get("deletionTimestamp") is None
    # n2 comes back: tainting resumes (the new limiter starts drained: 10 s later)
    sim.start_kubelet("n2")
    sim.post_ready("n2")
    sim.advance_to(1005)
    assert sim.taints("n1", "NoExecute") == {}
    sim.advance_to(1015)
    assert sim.taints("n1", "NoExecute") == {UNREACHABLE: 1015}
    assert sim.taints("n2") == {}
    sim.c.settle()
    assert sim.t == 1315
    assert sim.pod("p")["metadata"]["deletionTimestamp"] == sim.at(1345)
    assert sim.pod("q")["metadata"].get("deletionTimestamp") is None


def test_pod_bound_to_a_not_ready_node_is_marked_not_ready():
    sim = two_zones()
    sim.advance_to(100)
    sim.fail("n1")
    sim.advance_to(200)
    pod = sim.c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "late"},
                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    sim.c.replace(pod, subresource="status")
    sim.c.api.bind("late", "default", {"apiVersion": "v1", "kind": "Binding",
                                       "metadata": {"name": "late"},
                                       "target": {"kind": "Node", "name": "n1"}})
    sim.c.advance(0)
    assert cond(sim.pod("late"), "Ready")["status"] == "False"


def test_condition_and_unschedulable_taints_follow_the_node():
    sim = two_zones()
    node = sim.node("n2")
    node["status"]["conditions"].append({"type": "MemoryPressure", "status": "True"})
    sim.c.replace(node, subresource="status")
    sim.c.advance(0)
    assert sim.taints("n2") == {"node.kubernetes.io/memory-pressure:NoSchedule": 0}
    sim.advance_to(30)
    sim.c.patch("Node", "n2", {"spec": {"unschedulable": True}})
    sim.c.advance(0)
    assert sim.taints("n2") == {"node.kubernetes.io/memory-pressure:NoSchedule": 0,
                                "node.kubernetes.io/unschedulable:NoSchedule": 30}
    sim.c.patch("Node", "n2", {"spec": {"unschedulable": False}})
    node = sim.node("n2")
    node["status"]["conditions"] = [c for c in node["status"]["conditions"]
                                    if c["type"] != "MemoryPressure"]
    sim.c.replace(node, subresource="status")
    sim.c.advance(0)
    assert sim.taints("n2") == {}


def test_foreign_taints_are_left_alone():
    sim = two_zones()
    sim.c.patch("Node", "n2", {"spec": {"taints": [
        {"key": "dedicated", "value": "db", "effect": "NoSchedule"},
        {"key": UNREACHABLE, "effect": "PreferNoSchedule"}]}})
    sim.advance_to(50)
    assert sim.taints("n2") == {"dedicated:NoSchedule": None,
                                f"{UNREACHABLE}:PreferNoSchedule": None}


def test_beta_os_and_arch_labels_follow_the_ga_ones():
    sim = Sim()
    sim.add_node("n1", "a", labels={"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64",
                                    "beta.kubernetes.io/arch": "amd64"})
    sim.c.advance(0)
    labels = sim.node("n1")["metadata"]["labels"]
    assert labels["beta.kubernetes.io/os"] == "linux"
    assert labels["beta.kubernetes.io/arch"] == "arm64"


def test_node_events_registered_and_removing():
    sim = two_zones()
    sim.c.advance(0)
    assert [e["message"] for e in sim.events("RegisteredNode")] == [
        "Node n1 event: Registered Node n1 in Controller",
        "Node n2 event: Registered Node n2 in Controller"]
    sim.advance_to(12)
    sim.c.delete("Node", "n2")
    sim.advance_to(15)
    assert [e["message"] for e in sim.events("RemovingNode")] == [
        "Node n2 event: Removing Node n2 from Controller"]


def test_excluded_node_does_not_count_for_disruption():
    sim = Sim()
    sim.add_node("n1", "a")
    sim.add_node("n2", "b", labels={"node.kubernetes.io/exclude-disruption": ""})
    sim.advance_to(100)
    sim.fail("n1")
    sim.c.settle()
    # n2 does not count, so every counted zone is down: master disruption mode
    assert sim.taints("n1", "NoExecute") == {}


# -- pure helpers -------------------------------------------------------------------------------

def test_compute_zone_state():
    assert compute_zone_state(["True"], 0.55) == (0, NORMAL)
    assert compute_zone_state(["Unknown"], 0.55) == (1, FULL_DISRUPTION)
    assert compute_zone_state([None, "False"], 0.55) == (2, FULL_DISRUPTION)
    assert compute_zone_state(["True", "False", "False"], 0.55) == (2, NORMAL)
    assert compute_zone_state(["True", "False", "False", "Unknown"], 0.55) == (
        3, PARTIAL_DISRUPTION)
    assert compute_zone_state(["True", "True", "True", "False", "False", "False"], 0.55) == (
        3, NORMAL)


def test_zone_key_prefers_the_beta_labels():
    node = {"metadata": {"labels": {"topology.kubernetes.io/zone": "a",
                                    "topology.kubernetes.io/region": "r",
                                    "failure-domain.beta.kubernetes.io/zone": "b"}}}
    assert zone_key(node) == "r:\x00:b"
    assert zone_key({"metadata": {}}) == ""


def test_swapped_taints():
    old = [{"key": "x", "effect": "NoSchedule"},
           {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "t0"}]
    assert swapped_taints(old, [{"key": NOT_READY, "effect": "NoExecute", "timeAdded": "t1"}],
                          [(UNREACHABLE, "NoExecute")]) == [
        {"key": "x", "effect": "NoSchedule"},
        {"key": NOT_READY, "effect": "NoExecute", "timeAdded": "t1"}]
    assert swapped_taints(old, [], [("y", "NoExecute")]) is None
    assert swapped_taints(old, [old[1]], []) is None


# -- properties ---------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fail_at=st.integers(min_value=1, max_value=300),
       grace=st.sampled_from([40, 50]), period=st.sampled_from([5, 3, 7]))
def test_pod_on_failed_node_is_not_ready_after_grace_plus_one_period(fail_at, grace, period):
    sim = two_zones(node_monitor_grace_period=grace, node_monitor_period=period)
    sim.advance_to(fail_at)
    last_renew = (fail_at // 10) * 10
    sim.fail("n1")
    # never before the grace period has passed since the last renewal
    sim.advance_to(last_renew + grace)
    assert cond(sim.node("n1"), "Ready")["status"] == "True"
    assert cond(sim.pod("p"), "Ready")["status"] == "True"
    sim.advance_to(last_renew + grace + period)
    assert cond(sim.node("n1"), "Ready")["status"] == "Unknown"
    assert cond(sim.pod("p"), "Ready")["status"] == "False"
    # and never Ready again while the kubelet is silent
    sim.c.settle()
    assert cond(sim.pod("p"), "Ready")["status"] == "False"
    assert cond(sim.node("n1"), "Ready")["status"] == "Unknown"
