"""Pod garbage collector (SPEC.md NF-7 .. NF-10): orphans, out-of-service nodes, unscheduled
terminating pods and the terminated-pod threshold.

Nodes are stood in for by the test (a Node, a Lease and a ``kubelet-lease:<node>`` heartbeat
renewing it). Times are seconds since the cluster started; podgc passes run at multiples of
20 s.
"""

from __future__ import annotations

import fakekube
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakekube.api.objects import rfc3339, rfc3339_micro
from fakekube.controllers.nodelifecycle import NodeLifecycleController
from fakekube.controllers.podgc import PodGCController, is_terminated
from fakekube.controllers.tainteviction import TaintEvictionController

CONTROLLERS = (NodeLifecycleController, TaintEvictionController, PodGCController)
OUT_OF_SERVICE = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown",
                  "effect": "NoExecute"}


class Sim:
    def __init__(self, **options) -> None:
        self.c = fakekube.Cluster(nodes=0, **options)
        present = {type(x) for x in self.c.manager.controllers}
        for cls in CONTROLLERS:
            if cls not in present:
                self.c.manager.add(cls(self.c.ctx)).setup()
        self.t0 = self.c.now
        self.beats: dict[str, object] = {}
        for name, zone in (("n1", "a"), ("n2", "b")):
            self.add_node(name, zone)

    @property
    def t(self) -> float:
        return self.c.now - self.t0

    def at(self, t: float) -> str:
        return rfc3339(self.t0 + t)

    def advance_to(self, t: float) -> None:
        self.c.advance(self.t0 + t - self.c.now)

    def add_node(self, name: str, zone: str) -> None:
        def renew() -> None:
            self.c.patch("Lease", name, {"spec": {"renewTime": rfc3339_micro(self.c.now)}},
                         namespace="kube-node-lease")

        self.beats[name] = self.c.clock.call_every(10, renew, label=f"kubelet-lease:{name}")
        now = rfc3339(self.c.now)
        self.c.create({"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "labels": {"kubernetes.io/hostname": name,
                                     "topology.kubernetes.io/zone": zone}},
            "status": {"conditions": [{"type": "Ready", "status": "True",
                                       "lastHeartbeatTime": now, "lastTransitionTime": now}],
                       "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
        self.c.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                       "metadata": {"name": name, "namespace": "kube-node-lease"},
                       "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                                "renewTime": rfc3339_micro(self.c.now)}})

    def add_pod(self, name: str, node: str | None = "n1", phase: str = "Running",
                reason: str | None = None, finalizers: list | None = None,
                scheduler_name: str | None = None) -> dict:
        spec: dict = {"containers": [{"name": "c", "image": "nginx"}]}
        if node:
            spec["nodeName"] = node
        if scheduler_name:
            spec["schedulerName"] = scheduler_name
        meta: dict = {"name": name}
        if finalizers:
            meta["finalizers"] = finalizers
        pod = self.c.create({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                             "spec": spec})
        pod["status"]["phase"] = phase
        if reason:
            pod["status"]["reason"] = reason
        return self.c.replace(pod, subresource="status")

    def pod(self, name: str) -> dict | None:
        try:
            return self.c.get("Pod", name)
        except fakekube.ApiError:
            return None

    def watch_pod(self, name: str):
        rv = self.pod(name)["metadata"]["resourceVersion"]
        return self.c.watch("Pod", "default", resource_version=rv,
                            field_selector=f"metadata.name={name}")


def cond(obj: dict, type_: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or ()
                 if c["type"] == type_), None)


def test_orphaned_pod_is_failed_and_force_deleted_after_quarantine():
    sim = Sim()
    sim.add_pod("p")
    sim.add_pod("q", node="n2")
    sim.advance_to(30)
    watch = sim.watch_pod("p")
    sim.c.delete("Node", "n1")
    # quarantined at the pass at 40, collected at the first pass 40 s later
    sim.advance_to(79.9)
    assert sim.pod("p") is not None
    sim.advance_to(80)
    assert sim.pod("p") is None
    assert sim.pod("q") is not None
    events = list(watch)
    assert [t for t, _ in events] == ["MODIFIED", "DELETED"]
    failed = events[0][1]
    assert failed["status"]["phase"] == "Failed"
    assert cond(failed, "DisruptionTarget") == {
        "type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
        "message": "PodGC: node no longer exists", "lastTransitionTime": sim.at(80)}


def test_settle_runs_through_the_quarantine():
    sim = Sim()
    sim.add_pod("p")
    sim.advance_to(45)
    sim.c.delete("Node", "n1")
    sim.c.settle()
    assert sim.pod("p") is None
    assert sim.t == 100  # quarantined at 60, collected at 100


def test_node_back_within_the_quarantine_saves_the_pod():
    sim = Sim()
    sim.add_pod("p")
    sim.advance_to(30)
    sim.c.delete("Node", "n1")
    sim.advance_to(50)
    sim.c.delete("Lease", "n1", namespace="kube-node-lease")
    sim.beats.pop("n1").cancel()
    sim.add_node("n1", "a")
    sim.c.settle()
    sim.advance_to(500)
    assert sim.pod("p") is not None
    assert sim.pod("p")["status"]["phase"] == "Running"


def test_pod_bound_to_a_node_that_never_existed():
    sim = Sim()
    sim.advance_to(25)
    sim.add_pod("p", node="ghost")
    assert sim.c.settle() == 55  # quarantined at 40, collected at 80
    assert sim.pod("p") is None


def test_failed_node_then_removed_node_releases_the_terminating_pod():
    sim = Sim()
    sim.add_pod("p")
    sim.advance_to(100)
    sim.beats.pop("n1").cancel()
    sim.c.settle()
    assert sim.t == 450
    assert sim.pod("p")["metadata"]["deletionTimestamp"] == sim.at(480)
    sim.c.delete("Node", "n1")
    sim.c.settle()
    assert sim.pod("p") is None
    assert sim.t == 500  # quarantined at 460, collected at 500


def test_terminating_pod_on_out_of_service_node_is_force_deleted():
    sim = Sim()
    sim.add_pod("p")
    sim.advance_to(100)
    sim.beats.pop("n1").cancel()
    sim.c.settle()  # p Terminating at 450
    watch = sim.watch_pod("p")
    sim.advance_to(470)
    taints = sim.c.get("Node", "n1")["spec"]["taints"]
    sim.c.patch("Node", "n1", {"spec": {"taints": taints + [OUT_OF_SERVICE]}})
    assert sim.c.settle() == 10  # the next pass, at 480
    assert sim.pod("p") is None
    events = list(watch)
    assert [t for t, _ in events] == ["MODIFIED", "DELETED"]
    assert events[0][1]["status"]["phase"] == "Failed"
    assert cond(events[0][1], "DisruptionTarget")["reason"] == "DeletionByTaintManager"


def test_out_of_service_taint_on_a_ready_node_does_not_force_delete():
    sim = Sim()
    sim.add_pod("p", node="n2")
    sim.advance_to(50)
    sim.c.patch("Node", "n2", {"spec": {"taints": [OUT_OF_SERVICE]}})
    sim.c.settle()
    pod = sim.pod("p")
    assert pod["metadata"]["deletionTimestamp"] == sim.at(80)  # taint eviction, graceful
    sim.advance_to(1000)
    assert sim.pod("p") is not None  # a Ready node's kubelet would finish it


def test_unscheduled_terminating_pod_is_failed_and_force_deleted():
    sim = Sim()
    # left to a scheduler that does not run: the built-in one never binds it
    sim.add_pod("p", node=None, phase="Pending", finalizers=["example.com/hold"],
                scheduler_name="no-such-scheduler")
    sim.advance_to(30)
    assert "nodeName" not in sim.pod("p")["spec"]
    sim.c.delete("Pod", "p")  # unscheduled: grace 0, kept by its finalizer
    assert sim.pod("p")["metadata"]["deletionGracePeriodSeconds"] == 0
    sim.advance_to(39.9)
    assert sim.pod("p")["status"]["phase"] == "Pending"
    sim.advance_to(40)
    assert sim.pod("p")["status"]["phase"] == "Failed"
    assert sim.c.settle() == 0  # only the finalizer's owner can release it now


def test_terminated_pods_beyond_the_threshold_evicted_first_then_oldest():
    sim = Sim(terminated_pod_gc_threshold=2)
    sim.add_pod("old", phase="Succeeded")
    sim.advance_to(6)
    sim.add_pod("running")
    sim.advance_to(7)
    sim.add_pod("mid", phase="Failed")
    sim.advance_to(8)
    sim.add_pod("new", phase="Succeeded")
    sim.advance_to(9)
    sim.add_pod("evicted", phase="Failed", reason="Evicted")
    assert sim.c.settle() == 11  # the pass at 20
    left = sorted(p["metadata"]["name"] for p in sim.c.list("Pod")["items"])
    assert left == ["mid", "new", "running"]


def test_threshold_zero_keeps_terminated_pods():
    sim = Sim(terminated_pod_gc_threshold=0)
    for i in range(3):
        sim.add_pod(f"p{i}", phase="Succeeded")
    sim.advance_to(100)
    assert len(sim.c.list("Pod")["items"]) == 3


def test_is_terminated():
    assert is_terminated({"status": {"phase": "Succeeded"}})
    assert is_terminated({"status": {"phase": "Failed"}})
    assert is_terminated({"status": {}})  # no phase is not Pending/Running/Unknown
    assert not is_terminated({"status": {"phase": "Unknown"}})
    assert not is_terminated({"status": {"phase": "Running"}})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(removed_at=st.integers(min_value=6, max_value=300),
       offset=st.sampled_from([0.0, 0.5]))
def test_orphans_go_within_quarantine_plus_one_period(removed_at, offset):
    sim = Sim()
    sim.add_pod("p")
    sim.advance_to(removed_at + offset)
    removed = sim.t
    sim.c.delete("Node", "n1")
    sim.c.advance(40 - 1e-3)
    assert sim.pod("p") is not None  # never before the quarantine is over
    sim.c.settle()
    assert sim.pod("p") is None
    assert removed + 40 <= sim.t <= removed + 60
    assert sim.t % 20 == 0  # on a pass
