"""Taint eviction controller (SPEC.md NF-5, NF-6, NF-10): NoExecute taints and tolerations.

Nodes are stood in for by the test (a Node, a Lease and a ``kubelet-lease:<node>`` heartbeat
renewing it); taints are put on nodes directly or come from the node lifecycle controller
after a simulated failure. Times are seconds since the cluster started.
"""

from __future__ import annotations

import fakekube
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakekube.api.objects import parse_rfc3339, rfc3339, rfc3339_micro
from fakekube.controllers.nodelifecycle import NodeLifecycleController
from fakekube.controllers.podgc import PodGCController
from fakekube.controllers.tainteviction import (TaintEvictionController, matching_tolerations,
                                                min_toleration_seconds, tolerates)

CONTROLLERS = (NodeLifecycleController, TaintEvictionController, PodGCController)
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"


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
        self.c.settle()

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

    def add_pod(self, name: str, node: str = "n1", tolerations: list | None = None) -> dict:
        spec = {"nodeName": node, "containers": [{"name": "c", "image": "nginx"}]}
        if tolerations is not None:
            spec["tolerations"] = tolerations
        pod = self.c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                             "spec": spec})
        pod["status"].update(phase="Running", conditions=[
            {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(self.c.now)}])
        return self.c.replace(pod, subresource="status")

    def set_taints(self, node: str, *taints: dict) -> None:
        self.c.patch("Node", node, {"spec": {"taints": list(taints) or None}})
        self.c.advance(0)

    def pod(self, name: str) -> dict | None:
        try:
            return self.c.get("Pod", name)
        except fakekube.ApiError:
            return None

    def evicted_at(self, name: str) -> float | None:
        """When the graceful DELETE happened (deletionTimestamp minus the grace period)."""
        pod = self.pod(name)
        if pod is None or not pod["metadata"].get("deletionTimestamp"):
            return None
        m = pod["metadata"]
        return parse_rfc3339(m["deletionTimestamp"]) - m["deletionGracePeriodSeconds"] - self.t0

    def messages(self, reason: str = "TaintManagerEviction") -> list[str]:
        return [e["message"] for e in self.c.events() if e["reason"] == reason]


def taint(key: str, value: str | None = None, effect: str = "NoExecute") -> dict:
    t = {"key": key, "effect": effect}
    if value is not None:
        t["value"] = value
    return t


def tol(key: str, seconds: int | None = None, effect: str = "NoExecute", op: str = "Exists",
        value: str | None = None) -> dict:
    t = {"key": key, "operator": op, "effect": effect}
    if seconds is not None:
        t["tolerationSeconds"] = seconds
    if value is not None:
        t["value"] = value
    return t


def cond(obj: dict, type_: str) -> dict | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or ()
                 if c["type"] == type_), None)


# -- scenarios ----------------------------------------------------------------------------------

def test_untolerated_taint_evicts_at_once():
    sim = Sim()
    sim.add_pod("p")
    sim.add_pod("other", node="n2")
    sim.advance_to(50)
    sim.set_taints("n1", taint("dedicated", "db"))
    pod = sim.pod("p")
    assert sim.evicted_at("p") == 50
    assert pod["metadata"]["deletionTimestamp"] == sim.at(80)  # normal graceful delete
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30
    assert cond(pod, "DisruptionTarget") == {
        "type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
        "message": "Taint manager: deleting due to NoExecute taint",
        "lastTransitionTime": sim.at(50)}
    assert sim.messages() == ["Marking for deletion Pod default/p"]
    (ev,) = [e for e in sim.c.events() if e["reason"] == "TaintManagerEviction"]
    assert ev["type"] == "Normal" and ev["source"]["component"] == "taint-eviction-controller"
    assert ev["involvedObject"]["kind"] == "Pod" and ev["involvedObject"]["name"] == "p"
    assert sim.evicted_at("other") is None
    # the pod stays Terminating: nothing here finishes it, and it is evicted only once
    assert sim.c.settle() == 0
    assert sim.pod("p") is not None
    sim.set_taints("n1", taint("dedicated", "db"), taint("another"))
    assert sim.messages() == ["Marking for deletion Pod default/p"]


def test_no_schedule_taints_are_ignored():
    sim = Sim()
    sim.add_pod("p")
    sim.set_taints("n1", taint("dedicated", effect="NoSchedule"))
    sim.advance_to(1000)
    assert sim.evicted_at("p") is None


def test_tolerated_taint_evicts_after_toleration_seconds():
    sim = Sim()
    sim.add_pod("p", tolerations=[tol("dedicated", 60)])
    sim.advance_to(20)
    sim.set_taints("n1", taint("dedicated", "db"))
    sim.advance_to(79.9)
    assert sim.evicted_at("p") is None
    sim.advance_to(80)
    assert sim.evicted_at("p") == 80


def test_deadline_is_the_least_toleration_seconds_in_use():
    sim = Sim()
    sim.add_pod("p", tolerations=[tol("a", 100), tol("b", 50), tol("c", 10)])
    sim.advance_to(10)
    sim.set_taints("n1", taint("a"), taint("b"))
    assert sim.c.settle() == 50
    assert sim.evicted_at("p") == 60


def test_toleration_without_seconds_is_forever():
    sim = Sim()
    sim.add_pod("p", tolerations=[tol("dedicated")])
    sim.set_taints("n1", taint("dedicated"))
    assert sim.c.settle() == 0
    sim.advance_to(10_000)
    assert sim.evicted_at("p") is None


@pytest.mark.parametrize("seconds", [0, -5])
def test_non_positive_toleration_seconds_evict_at_once(seconds):
    sim = Sim()
    sim.add_pod("p", tolerations=[tol("dedicated", seconds)])
    sim.advance_to(7)
    sim.set_taints("n1", taint("dedicated"))
    assert sim.evicted_at("p") == 7


def test_taint_removal_cancels_the_eviction():
    sim = Sim()
    sim.add_pod("p", tolerations=[tol("dedicated", 60)])
    sim.advance_to(10)
    sim.set_taints("n1", taint("dedicated"))
    sim.advance_to(30)
    sim.set_taints("n1")
    assert sim.messages() == ["Cancelling deletion of Pod default/p"]
    assert sim.c.settle() == 0
    sim.advance_to(1000)
    assert sim.evicted_at("p") is None


def test_pod_deletion_cancels_the_eviction():
    sim = Sim()
    sim.add_pod("p", tolerations=[tol("dedicated", 60)])
    sim.set_taints("n1", taint("dedicated"))
    sim.advance_to(30)
    sim.c.delete("Pod", "p", grace_period_seconds=0)
    sim.c.advance(0)
    assert sim.messages() == ["Cancelling deletion of Pod default/p"]
    assert sim.c.settle() == 0


def test_an_eviction_scheduled_earlier_stands():
    sim = Sim()
    sim.add_pod("p", tolerations=[tol("a", 100), tol("b", 100)])
    sim.advance_to(10)
    sim.set_taints("n1", taint("a"))
    sim.advance_to(50)
    sim.set_taints("n1", taint("a"), taint("b"))
    sim.c.settle()
    assert sim.evicted_at("p") == 110
    assert sim.messages() == ["Marking for deletion Pod default/p"]


def test_default_tolerations_evict_300s_after_the_unreachable_taint():
    sim = Sim()
    pod = sim.add_pod("p")
    assert [t for t in pod["spec"]["tolerations"] if t["key"] in (NOT_READY, UNREACHABLE)] == [
        tol(NOT_READY, 300), tol(UNREACHABLE, 300)]
    sim.advance_to(100)
    sim.beats.pop("n1").cancel()
    sim.c.settle()
    node = sim.c.get("Node", "n1")
    (noexec,) = [t for t in node["spec"]["taints"] if t["effect"] == "NoExecute"]
    taint_time = parse_rfc3339(noexec["timeAdded"]) - sim.t0
    assert taint_time == 150
    assert sim.evicted_at("p") == taint_time + 300
    assert sim.pod("p")["metadata"]["deletionTimestamp"] == sim.at(480)


def test_swapping_not_ready_for_unreachable_keeps_the_schedule():
    sim = Sim()
    sim.add_pod("p")
    sim.advance_to(100)
    node = sim.c.get("Node", "n1")
    node["status"]["conditions"][0].update(status="False", lastHeartbeatTime=sim.at(100),
                                           lastTransitionTime=sim.at(100))
    sim.c.replace(node, subresource="status")
    sim.advance_to(105)  # tainted not-ready
    sim.beats.pop("n1").cancel()
    sim.advance_to(150)  # Unknown at 145, unreachable swapped in at 150
    taints = {t["key"]: t for t in sim.c.get("Node", "n1")["spec"]["taints"]
              if t["effect"] == "NoExecute"}
    assert list(taints) == [UNREACHABLE]
    sim.c.settle()
    assert sim.evicted_at("p") == 405  # 105 + 300, not 150 + 300
    assert sim.messages() == ["Marking for deletion Pod default/p"]


def test_out_of_service_taint_evicts_at_once_and_podgc_finishes():
    sim = Sim()
    sim.add_pod("p")
    sim.advance_to(100)
    sim.beats.pop("n1").cancel()
    sim.advance_to(200)
    sim.set_taints("n1", *sim.c.get("Node", "n1")["spec"]["taints"],
                   taint("node.kubernetes.io/out-of-service", "nodeshutdown"))
    assert sim.evicted_at("p") == 200  # no default toleration for out-of-service
    watch = sim.c.watch("Pod", "default", resource_version=sim.pod("p")["metadata"][
        "resourceVersion"])
    sim.advance_to(219.9)
    assert sim.pod("p") is not None
    sim.advance_to(220)  # the next podgc pass
    assert sim.pod("p") is None
    events = list(watch)
    assert [t for t, _ in events] == ["MODIFIED", "DELETED"]
    failed = events[0][1]
    assert failed["status"]["phase"] == "Failed"
    assert cond(failed, "DisruptionTarget")["reason"] == "DeletionByTaintManager"


# -- helpers ------------------------------------------------------------------------------------

def test_tolerates():
    assert tolerates(tol("k"), taint("k", "v"))
    assert tolerates({"operator": "Exists"}, taint("k", "v"))
    assert tolerates({"key": "k", "operator": "Equal", "value": "v"}, taint("k", "v"))
    assert tolerates({"key": "k", "value": "v"}, taint("k", "v"))  # "" means Equal
    assert not tolerates({"key": "k", "value": "w"}, taint("k", "v"))
    assert not tolerates(tol("k", effect="NoSchedule"), taint("k"))
    assert not tolerates(tol("j"), taint("k"))


def test_matching_and_min_toleration():
    assert matching_tolerations([taint("a"), taint("b")], [tol("a", 5)]) == (False, [])
    ok, used = matching_tolerations([taint("a"), taint("b")], [tol("a", 5), {"operator":
                                                                              "Exists"}])
    assert ok and used == [tol("a", 5), {"operator": "Exists"}]
    assert min_toleration_seconds(used) == 5
    assert min_toleration_seconds([]) == 0
    assert min_toleration_seconds([tol("a")]) == -1
    assert min_toleration_seconds([tol("a", 30), tol("b", -1)]) == 0


# -- properties ---------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seconds=st.lists(st.integers(min_value=1, max_value=900), min_size=1, max_size=3),
       taint_at=st.integers(min_value=10, max_value=200),
       removed_after=st.one_of(st.none(), st.integers(min_value=1, max_value=1000)))
def test_eviction_never_before_toleration_seconds_after_the_taint(seconds, taint_at,
                                                                  removed_after):
    sim = Sim()
    keys = [f"k{i}" for i in range(len(seconds))]
    sim.add_pod("p", tolerations=[tol(k, s) for k, s in zip(keys, seconds)])
    sim.advance_to(taint_at)
    sim.set_taints("n1", *(taint(k) for k in keys))
    due = taint_at + min(seconds)
    if removed_after is not None and taint_at + removed_after < due:
        sim.advance_to(taint_at + removed_after)
        sim.set_taints("n1")
        sim.c.settle()
        assert sim.evicted_at("p") is None
        return
    sim.advance_to(due - 0.5)
    assert sim.evicted_at("p") is None
    sim.c.settle()
    assert sim.evicted_at("p") == due


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seconds=st.integers(min_value=1, max_value=900),
       fail_at=st.integers(min_value=10, max_value=200))
def test_node_failure_eviction_waits_for_the_toleration(seconds, fail_at):
    sim = Sim()
    sim.add_pod("p", tolerations=[tol(UNREACHABLE, seconds)])
    sim.advance_to(fail_at)
    sim.beats.pop("n1").cancel()
    sim.c.settle()
    node = sim.c.get("Node", "n1")
    (noexec,) = [t for t in node["spec"]["taints"] if t["effect"] == "NoExecute"]
    tainted = parse_rfc3339(noexec["timeAdded"]) - sim.t0
    assert sim.evicted_at("p") == tainted + seconds


# -- unassigned pods are not queued ----------------------------------------------------------

def _queue_every_pod(self, ev) -> None:
    """Upstream's handler: every new pod queued, with or without a node."""
    spec = ev.obj.get("spec") or {}
    if ev.type == "ADDED" and not spec.get("nodeName"):
        m = ev.obj["metadata"]
        self.queue.add(("pod", m["namespace"], m["name"], ""))
        return
    _ON_POD(self, ev)


_ON_POD = TaintEvictionController._on_pod

# ("pod", name, on n1?, tolerationSeconds or None) | ("delete", name, grace)
# | ("taint", on?) | ("advance", seconds)
OPS = st.one_of(
    st.tuples(st.just("pod"), st.sampled_from("ab"), st.booleans(),
              st.sampled_from([None, 0, 20, 60])),
    st.tuples(st.just("delete"), st.sampled_from("ab"), st.sampled_from([None, 0])),
    st.tuples(st.just("taint"), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from([0, 5, 30])),
)


def _history(ops: list) -> list:
    sim = Sim()
    for op in ops:
        kind = op[0]
        try:
            if kind == "pod":
                _, name, bound, seconds = op
                spec: dict = {"containers": [{"name": "c", "image": "nginx"}],
                              "schedulerName": "none"}  # stays unassigned unless bound
                if bound:
                    spec["nodeName"] = "n1"
                if seconds is not None:
                    spec["tolerations"] = [tol(UNREACHABLE, seconds), tol("t", seconds)]
                sim.c.create({"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": name}, "spec": spec})
            elif kind == "delete":
                if op[2] is None:
                    sim.c.delete("Pod", op[1])
                else:
                    sim.c.delete("Pod", op[1], grace_period_seconds=op[2])
            elif kind == "taint":
                sim.c.patch("Node", "n1", {"spec": {"taints": [taint("t")] if op[1] else None}})
            else:
                sim.c.advance(op[1])
        except fakekube.ApiError:
            pass
    sim.c.advance(100)
    out = []
    for name, table in sim.c.api.store.tables.items():
        out.extend((ev.rv, str(name), ev.type, repr(ev.obj)) for ev in table.history)
    return sorted(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, max_size=14))
def test_not_queueing_new_unassigned_pods_changes_nothing(ops):
    from unittest import mock

    ours = _history(ops)
    with mock.patch.object(TaintEvictionController, "_on_pod", _queue_every_pod):
        upstream = _history(ops)
    assert ours == upstream
