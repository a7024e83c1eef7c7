"""ReplicaSet controller (SPEC.md DEP-1, DEP-2): pods from the template with generated names,
active pods only, slow-start creation, scale-down order, adoption and release, status with
minReadySeconds on the virtual clock, the ReplicaFailure condition and the events.

The cluster has no kubelets, and the templates name a scheduler that does not run, so the
built-in scheduler leaves the pods alone: pods that must look scheduled get a ``nodeName``
from the template, a node ``ghost`` that the test stands in for (a Node object and a lease it
renews, but no kubelet: its pods stay as the test leaves them, and a deleted one stays
Terminating); the others stay unbound. The test sets pod statuses itself.
"""

from __future__ import annotations

import re

import fakekube
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakekube import errors
from fakekube.api.objects import rfc3339, rfc3339_micro
from fakekube.controllers.replicaset import (BURST_REPLICAS, ReplicaSetController,
                                             pods_to_delete, slow_start_batch)
from fakekube.kubelet import KubeletController

SUFFIX = "[bcdfghjklmnpqrstvwxz2456789]{5}"
NO_SCHEDULER = "no-such-scheduler"  # template pods without a node stay unbound


def make_cluster(**options) -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=0, **options)
    if not any(isinstance(x, ReplicaSetController) for x in c.manager.controllers):
        ctrls = c.manager.controllers
        at = next(i for i, x in enumerate(ctrls) if isinstance(x, KubeletController))
        rsc = ReplicaSetController(c.ctx)
        ctrls.insert(at, rsc)
        rsc.setup()
    add_ghost_node(c)
    return c


def add_ghost_node(c: fakekube.Cluster, name: str = "ghost") -> None:
    """A healthy-looking node without a kubelet: a Node and a Lease renewed every 10 s."""

    def renew() -> None:
        c.patch("Lease", name, {"spec": {"renewTime": rfc3339_micro(c.now)}},
                namespace="kube-node-lease")

    c.clock.call_every(10, renew, label=f"kubelet-lease:{name}")
    now = rfc3339(c.now)
    c.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
              "status": {"conditions": [{"type": "Ready", "status": "True",
                                         "lastHeartbeatTime": now, "lastTransitionTime": now}],
                         "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
    c.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
              "metadata": {"name": name, "namespace": "kube-node-lease"},
              "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                       "renewTime": rfc3339_micro(c.now)}})


def controller(c: fakekube.Cluster) -> ReplicaSetController:
    return next(x for x in c.manager.controllers if isinstance(x, ReplicaSetController))


def replicaset(name="web", replicas=3, labels=None, node=None, min_ready=0, **spec) -> dict:
    labels = labels or {"app": name}
    pod_spec: dict = {"containers": [{"name": "c", "image": "nginx"}]}
    if node:
        pod_spec["nodeName"] = node
    else:
        pod_spec["schedulerName"] = NO_SCHEDULER
    body = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec}}}
    if min_ready:
        body["spec"]["minReadySeconds"] = min_ready
    body["spec"].update(spec)
    return body


def pods(c, namespace="default") -> list[dict]:
    return c.list("Pod", namespace)["items"]


def active(c) -> list[dict]:
    return [p for p in pods(c) if not p["metadata"].get("deletionTimestamp")
            and p["status"].get("phase") not in ("Succeeded", "Failed")]


def events(c, reason=None) -> list[dict]:
    return [e for e in c.list("Event")["items"] if reason is None or e["reason"] == reason]


def set_status(c, pod: dict, phase="Running", ready=True, since=None) -> dict:
    pod = c.get("Pod", pod["metadata"]["name"])
    stamp = rfc3339(c.now if since is None else since)
    pod["status"]["phase"] = phase
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False",
                                    "lastTransitionTime": stamp}]
    return c.replace(pod, subresource="status")


# -- creation -------------------------------------------------------------------------------


def test_creates_pods_from_template_with_generated_names_and_owner():
    c = make_cluster()
    rs = c.create(replicaset("web", 3, labels={"app": "web", "tier": "fe"}))
    c.settle()
    got = pods(c)
    assert len(got) == 3
    for p in got:
        m = p["metadata"]
        assert re.fullmatch(f"web-{SUFFIX}", m["name"]), m["name"]
        assert m["generateName"] == "web-"
        assert m["labels"] == {"app": "web", "tier": "fe"}
        assert m["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                         "name": "web", "uid": rs["metadata"]["uid"],
                                         "controller": True, "blockOwnerDeletion": True}]
    created = sorted(e["message"] for e in events(c, "SuccessfulCreate"))
    assert created == sorted(f"Created pod: {p['metadata']['name']}" for p in got)
    ev = events(c, "SuccessfulCreate")[0]
    assert ev["type"] == "Normal" and ev["source"] == {"component": "replicaset-controller"}
    assert ev["involvedObject"]["kind"] == "ReplicaSet"
    status = c.get("ReplicaSet", "web")["status"]
    assert status == {"replicas": 3, "fullyLabeledReplicas": 3, "observedGeneration": 1}


def test_template_annotations_and_finalizers_are_copied():
    c = make_cluster()
    body = replicaset("web", 1)
    body["spec"]["template"]["metadata"]["annotations"] = {"a": "b"}
    body["spec"]["template"]["metadata"]["finalizers"] = ["example.com/keep"]
    c.create(body)
    c.settle()
    (p,) = pods(c)
    assert p["metadata"]["annotations"] == {"a": "b"}
    assert p["metadata"]["finalizers"] == ["example.com/keep"]


def test_slow_start_batches_double_and_stop_after_a_failing_batch():
    calls = []

    def fn():
        calls.append(1)
        return RuntimeError("no") if len(calls) == 5 else None

    ok, err = slow_start_batch(10, 1, fn)
    # batches of 1, 2, 4: the failure is the 5th call, in the third batch, which finishes.
    assert (ok, len(calls), str(err)) == (6, 7, "no")
    calls.clear()
    ok, err = slow_start_batch(10, 1, lambda: calls.append(1))
    assert (ok, err, len(calls)) == (10, None, 10)
    assert slow_start_batch(0, 1, lambda: None) == (0, None)


@given(st.integers(0, 200), st.integers(1, 4), st.integers(1, 250))
@settings(max_examples=60)
def test_slow_start_batch_sizes(count, initial, fail_at):
    sizes = []
    state = {"n": 0}

    def fn():
        state["n"] += 1
        return RuntimeError() if state["n"] == fail_at else None

    ok, err = slow_start_batch(count, initial, fn)
    calls = state["n"]
    assert calls <= count
    if fail_at > count:
        assert (ok, err, calls) == (count, None, count)
    else:
        assert err is not None and ok == calls - 1
        # the calls made form whole batches initial, 2*initial, ... (the last maybe cut short
        # by what remained): the failing call's batch was completed.
        size, total = min(count, initial), 0
        while total < fail_at:
            sizes.append(size)
            total += size
            size = min(2 * size, count - total)
        assert calls == total


def test_at_most_burst_replicas_per_sync():
    c = make_cluster()
    c.create(replicaset("big", BURST_REPLICAS + 20))
    ctl = controller(c)
    ctl.reconcile(("default", "big"))
    assert len(pods(c)) == BURST_REPLICAS
    ctl.reconcile(("default", "big"))
    assert len(pods(c)) == BURST_REPLICAS + 20


# -- active pods and replacement (DEP-2) ---------------------------------------------------


def test_terminating_pod_is_replaced_at_once_while_it_still_exists():
    c = make_cluster()
    c.create(replicaset("web", 2, node="ghost"))
    c.settle()
    victim = pods(c)[0]["metadata"]["name"]
    c.delete("Pod", victim)  # bound to a node nobody runs: it stays Terminating
    c.manager.run_until_idle(1000)
    names = {p["metadata"]["name"] for p in pods(c)}
    assert victim in names and len(names) == 3
    assert c.get("Pod", victim)["metadata"]["deletionTimestamp"]
    assert len(active(c)) == 2
    assert c.get("ReplicaSet", "web")["status"]["replicas"] == 2


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_finished_pods_do_not_count(phase):
    c = make_cluster()
    c.create(replicaset("web", 2, node="ghost"))
    c.settle()
    done = pods(c)[0]
    set_status(c, done, phase=phase, ready=False)
    c.settle()
    assert len(pods(c)) == 3
    assert c.get("Pod", done["metadata"]["name"])["status"]["phase"] == phase
    assert len(active(c)) == 2


# -- scale down ----------------------------------------------------------------------------


def _pod(name, node="", phase="Running", ready=None, created=0.0, uid=None, cost=None,
         restarts=0, ready_since=None, now=1000.0):
    m = {"name": name, "uid": uid or name, "creationTimestamp": rfc3339(now - 10_000 + created)}
    if cost is not None:
        m["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": str(cost)}
    status: dict = {"phase": phase, "containerStatuses": [{"name": "c", "restartCount": restarts}]}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False",
                                 "lastTransitionTime": rfc3339(ready_since or now - 5000)}]
    return {"metadata": m, "spec": {"nodeName": node} if node else {}, "status": status}


def test_scale_down_order_unassigned_pending_unknown_running_notready_ready():
    ps = [_pod("running-ready", "n1", "Running", True),
          _pod("running-unready", "n1", "Running", False),
          _pod("unknown", "n1", "Unknown"),
          _pod("pending", "n1", "Pending"),
          _pod("unassigned", "", "Pending")]
    got = [p["metadata"]["name"] for p in pods_to_delete(ps, ps, 5 - 1, 1000.0)]
    assert got == ["unassigned", "pending", "unknown", "running-unready"]


def test_scale_down_prefers_low_deletion_cost_then_doubled_up_nodes():
    a = _pod("a", "n1", ready=True, cost=10)
    b = _pod("b", "n1", ready=True, cost=-5)
    assert [p["metadata"]["name"] for p in pods_to_delete([a, b], [a, b], 1, 1000.0)] == ["b"]
    x = _pod("x", "n1", ready=True)
    y = _pod("y", "n2", ready=True)
    z = _pod("z", "n2", ready=True)
    # y and z share n2: one of them goes before x.
    first = pods_to_delete([x, y, z], [x, y, z], 1, 1000.0)[0]["metadata"]["name"]
    assert first in ("y", "z")


def test_scale_down_newest_ready_first_on_a_log_scale_then_restarts_then_age():
    now = 100_000.0
    young = _pod("young", "n1", ready=True, ready_since=now - 10, now=now)
    old = _pod("old", "n2", ready=True, ready_since=now - 10_000, now=now)
    assert pods_to_delete([old, young], [], 1, now)[0]["metadata"]["name"] == "young"
    # Ready times in the same power-of-two bucket: the UID decides, not the exact time.
    p1 = _pod("p1", "n1", ready=True, ready_since=now - 1000, uid="b", now=now)
    p2 = _pod("p2", "n2", ready=True, ready_since=now - 1001, uid="a", now=now)
    assert pods_to_delete([p1, p2], [], 1, now)[0]["metadata"]["name"] == "p2"
    # Same ready time: more restarts first.
    r1 = _pod("r1", "n1", ready=True, restarts=0, ready_since=now - 50, now=now)
    r2 = _pod("r2", "n2", ready=True, restarts=3, ready_since=now - 50, now=now)
    assert pods_to_delete([r1, r2], [], 1, now)[0]["metadata"]["name"] == "r2"
    # Not ready, same everything: the newer pod first.
    n1 = _pod("n1", "n1", ready=False, created=0, now=now)
    n2 = _pod("n2", "n2", ready=False, created=9000, now=now)
    assert pods_to_delete([n1, n2], [], 1, now)[0]["metadata"]["name"] == "n2"


def test_scale_down_deletes_with_events_and_keeps_the_best_pods():
    c = make_cluster()
    c.create(replicaset("web", 3, node="ghost"))
    c.settle()
    a, b, _ = pods(c)
    set_status(c, a, ready=True)
    set_status(c, b, ready=True)
    c.patch("ReplicaSet", "web", {"spec": {"replicas": 2}})
    c.manager.run_until_idle(1000)
    survivors = {p["metadata"]["name"] for p in active(c)}
    assert survivors == {a["metadata"]["name"], b["metadata"]["name"]}
    deleted = [e["message"] for e in events(c, "SuccessfulDelete")]
    assert len(deleted) == 1 and deleted[0].startswith("Deleted pod: web-")


# -- adoption and release ------------------------------------------------------------------


def test_adopts_matching_orphans_and_releases_pods_that_stop_matching():
    c = make_cluster()
    c.create({"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": "stray", "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    rs = c.create(replicaset("web", 2))
    c.settle()
    stray = c.get("Pod", "stray")
    assert stray["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    assert stray["metadata"]["ownerReferences"][0]["controller"] is True
    assert len(pods(c)) == 2  # the orphan counts: only one pod was created
    assert len(events(c, "SuccessfulCreate")) == 1
    c.patch("Pod", "stray", {"metadata": {"labels": {"app": "other"}}})
    c.settle()
    assert not c.get("Pod", "stray")["metadata"].get("ownerReferences")
    owned = [p for p in pods(c) if p["metadata"].get("ownerReferences")]
    assert len(owned) == 2


def test_pods_of_another_controller_are_left_alone():
    c = make_cluster()
    c.create(replicaset("a", 1, labels={"app": "x"}))
    c.settle()
    c.create(replicaset("b", 1, labels={"app": "x"}))
    c.settle()
    owners = sorted(p["metadata"]["ownerReferences"][0]["name"] for p in pods(c))
    assert owners == ["a", "b"]


def test_fully_labeled_counts_pods_with_all_template_labels():
    c = make_cluster()
    body = replicaset("web", 2)
    body["spec"]["template"]["metadata"]["labels"]["extra"] = "1"
    c.create({"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": "partial", "labels": {"app": "web"}},
              "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    c.create(body)
    c.settle()
    status = c.get("ReplicaSet", "web")["status"]
    assert status["replicas"] == 2 and status["fullyLabeledReplicas"] == 1


# -- status --------------------------------------------------------------------------------


def test_available_after_min_ready_seconds_on_the_virtual_clock():
    c = make_cluster()
    c.create(replicaset("web", 2, node="ghost", min_ready=10))
    c.settle()
    t0 = c.now
    for p in pods(c):
        set_status(c, p, ready=True)
    c.manager.run_until_idle(1000)
    status = c.get("ReplicaSet", "web")["status"]
    assert status["readyReplicas"] == 2 and "availableReplicas" not in status
    c.advance(10)  # exactly minReadySeconds: not yet (ready *longer* than that)
    assert "availableReplicas" not in c.get("ReplicaSet", "web")["status"]
    used = c.settle()
    assert c.now == t0 + 11 and used == pytest.approx(1)
    assert c.get("ReplicaSet", "web")["status"]["availableReplicas"] == 2


def test_no_availability_deadline_is_left_behind():
    c = make_cluster()
    c.create(replicaset("web", 1, node="ghost", min_ready=30))
    c.settle()
    set_status(c, pods(c)[0], ready=True)
    c.manager.run_until_idle(1000)
    c.patch("ReplicaSet", "web", {"spec": {"replicas": 0}})
    c.delete("Pod", pods(c)[0]["metadata"]["name"], grace_period_seconds=0)
    assert c.settle() == 0  # nothing left to become available


def test_replica_failure_condition_and_failed_create_event():
    c = make_cluster()
    denied = "pods \"web\" is forbidden: exceeded quota: compute"
    attempts = []

    def deny(op, rt, obj, old, api):
        if rt.kind == "Pod" and op == "CREATE" and block["on"]:
            attempts.append(1)
            raise errors.Forbidden(denied)

    block = {"on": True}
    c.api.admission.append(deny)
    c.create(replicaset("web", 3))
    with pytest.raises(errors.Forbidden):
        controller(c).reconcile(("default", "web"))
    assert len(attempts) == 1  # slow start: the first batch (one pod) failed, no more tried
    rs = c.get("ReplicaSet", "web")
    (cond,) = rs["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "ReplicaFailure", "True", "FailedCreate", denied)
    (failed,) = events(c, "FailedCreate")
    assert failed["type"] == "Warning" and failed["message"] == f"Error creating: {denied}"
    assert pods(c) == []
    block["on"] = False
    c.settle()  # the retry (with backoff) succeeds and the condition goes
    rs = c.get("ReplicaSet", "web")
    assert len(pods(c)) == 3 and "conditions" not in rs["status"]


def test_a_replicaset_being_deleted_creates_nothing():
    c = make_cluster()
    c.create(replicaset("web", 2, node="ghost"))
    c.settle()
    c.patch("ReplicaSet", "web", {"metadata": {"finalizers": ["example.com/hold"]}})
    c.delete("ReplicaSet", "web", propagation_policy="Orphan")
    for p in pods(c):
        c.delete("Pod", p["metadata"]["name"], grace_period_seconds=0)
    c.settle()
    assert pods(c) == []


def test_deleted_replicaset_pods_are_collected_by_the_gc():
    c = make_cluster()
    c.create(replicaset("web", 2))
    c.settle()
    got = pods(c)
    assert len(got) == 2 and all("nodeName" not in p["spec"] for p in got)  # deleted at once
    c.delete("ReplicaSet", "web")
    c.settle()
    assert pods(c) == []
