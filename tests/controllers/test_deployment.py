"""Deployment controller in a cluster (SPEC.md DEP-1, DEP-2): ReplicaSets named by the
pod-template hash, revisions and rollback, RollingUpdate and Recreate, proportional scaling,
pausing, revision history, conditions, the progress deadline on the virtual clock, events.

Pods run on simulated kubelets (FAST profile) and are placed by the built-in scheduler (see
test_deployment_e2e.py for scenarios that depend on where it puts them).
"""

from __future__ import annotations

import re

import fakekube
import pytest

from fakekube import errors
from fakekube.api.store import ADDED
from fakekube.controllers.deployment.util import compute_hash

HASH = "[456789bcdf]{1,10}"
SUFFIX = "[bcdfghjklmnpqrstvwxz2456789]{5}"


def make_cluster(nodes=3, **options) -> fakekube.Cluster:
    return fakekube.Cluster(nodes=nodes, **options)


def deployment(name="web", replicas=3, image="nginx:1", **spec) -> dict:
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}
    body["spec"].update(spec)
    return body


def set_image(c, image, name="web"):
    c.patch("Deployment", name, {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": image}]}}}}, patch_type="strategic")


def roll_out_broken(c, name="web"):
    """A new version whose containers exit at once with an error: its pods never get Ready
    (CrashLoopBackOff)."""
    c.patch("Deployment", name, {"spec": {"template": {
        "metadata": {"annotations": {"fakekube.io/exit-after-seconds": "0",
                                     "fakekube.io/exit-code": "1"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:broken"}]}}}},
        patch_type="strategic")


def rss(c, namespace="default") -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in c.list("ReplicaSet", namespace)["items"]}


def pods(c, namespace="default") -> list[dict]:
    return c.list("Pod", namespace)["items"]


def active_pods(c) -> list[dict]:
    return [p for p in pods(c) if not p["metadata"].get("deletionTimestamp")
            and p["status"].get("phase") not in ("Succeeded", "Failed")]


def messages(c, reason, kind="Deployment") -> list[str]:
    items = sorted(c.list("Event")["items"], key=lambda e: e["metadata"]["name"])
    return [e["message"] for e in items if e["reason"] == reason
            and e["involvedObject"]["kind"] == kind]


def condition(obj, ctype) -> dict:
    return next(c for c in obj["status"].get("conditions", ()) if c["type"] == ctype)


def counts(obj) -> dict:
    return {k: v for k, v in obj["status"].items() if k != "conditions"}


# -- naming and the first rollout (DEP-1) --------------------------------------------------


def test_replica_set_named_by_template_hash_with_labels_annotations_and_owner():
    c = make_cluster()
    d = c.create(deployment(replicas=3))
    c.settle()
    (rs,) = rss(c).values()
    name = rs["metadata"]["name"]
    h = name[len("web-"):]
    assert re.fullmatch(f"web-{HASH}", name)
    assert h == compute_hash(d["spec"]["template"], None)
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": h}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": h}}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": h}
    assert rs["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1",
                                             "deployment.kubernetes.io/desired-replicas": "3",
                                             "deployment.kubernetes.io/max-replicas": "4"}
    ref = rs["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"], ref["blockOwnerDeletion"]) == (
        "Deployment", "web", d["metadata"]["uid"], True, True)
    got = pods(c)
    assert len(got) == 3
    for p in got:
        assert re.fullmatch(f"{name}-{SUFFIX}", p["metadata"]["name"])
        assert p["metadata"]["labels"] == {"app": "web", "pod-template-hash": h}
        assert p["status"]["phase"] == "Running"
    assert messages(c, "ScalingReplicaSet") == [f"Scaled up replica set {name} from 0 to 3"]


def test_status_and_conditions_after_the_first_rollout():
    c = make_cluster()
    c.create(deployment(replicas=3))
    assert c.settle() == 0
    d = c.get("Deployment", "web")
    assert d["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert counts(d) == {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                         "readyReplicas": 3, "availableReplicas": 3}
    (rs_name,) = rss(c)
    avail = condition(d, "Available")
    assert (avail["status"], avail["reason"], avail["message"]) == (
        "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    prog = condition(d, "Progressing")
    assert (prog["status"], prog["reason"], prog["message"]) == (
        "True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
    assert [x["type"] for x in d["status"]["conditions"]] == ["Available", "Progressing"]


def test_identical_templates_give_identical_hashes():
    c = make_cluster(nodes=1)
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    c.create(deployment(replicas=1))
    other = deployment(replicas=1)
    other["metadata"]["namespace"] = "other"
    c.create(other)
    c.settle()
    assert set(rss(c)) == set(rss(c, "other"))
    c2 = make_cluster(nodes=1, seed=7)
    c2.create(deployment(replicas=1))
    c2.settle()
    assert set(rss(c2)) == set(rss(c))


# -- rolling update ------------------------------------------------------------------------


def test_rolling_update_steps_within_surge_and_unavailability():
    c = make_cluster()
    c.create(deployment(replicas=4))  # 25%/25%: surge 1, unavailable 1
    c.settle()
    (old,) = rss(c)
    worst = {"active": 0}

    def watch(ev):
        n = len([p for p in c.api.table(c.api.registry.by_kind("Pod")).objects.values()
                 if not p["metadata"].get("deletionTimestamp")
                 and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")])
        worst["active"] = max(worst["active"], n)

    c.api.table(c.api.registry.by_kind("Pod")).handlers.append(watch)
    set_image(c, "nginx:2")
    c.settle()
    new = next(n for n in rss(c) if n != old)
    assert worst["active"] <= 5  # replicas + maxSurge
    assert rss(c)[old]["spec"]["replicas"] == 0 and rss(c)[new]["spec"]["replicas"] == 4
    assert messages(c, "ScalingReplicaSet")[1:] == [
        f"Scaled up replica set {new} from 0 to 1",
        f"Scaled down replica set {old} from 4 to 3",
        f"Scaled up replica set {new} from 1 to 2",
        f"Scaled down replica set {old} from 3 to 2",
        f"Scaled up replica set {new} from 2 to 3",
        f"Scaled down replica set {old} from 2 to 1",
        f"Scaled up replica set {new} from 3 to 4",
        f"Scaled down replica set {old} from 1 to 0"]
    d = c.get("Deployment", "web")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert rss(c)[new]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert counts(d) == {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 4,
                         "readyReplicas": 4, "availableReplicas": 4}
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in pods(c)} == {new[4:]}


def test_max_surge_zero_scales_down_first():
    c = make_cluster()
    c.create(deployment(replicas=2, strategy={"type": "RollingUpdate", "rollingUpdate": {
        "maxSurge": 0, "maxUnavailable": 1}}))
    c.settle()
    (old,) = rss(c)
    set_image(c, "nginx:2")
    c.settle()
    new = next(n for n in rss(c) if n != old)
    assert messages(c, "ScalingReplicaSet")[1:3] == [
        f"Scaled down replica set {old} from 2 to 1", f"Scaled up replica set {new} from 0 to 1"]


def test_new_pods_that_never_become_ready_stall_the_rollout():
    c = make_cluster()
    c.create(deployment(replicas=4))  # surge 1, unavailable 1
    c.settle()
    (old,) = rss(c)
    roll_out_broken(c)
    c.advance(5)
    new = next(n for n in rss(c) if n != old)
    # the new pods are unavailable: one old pod may go (maxUnavailable), one more new (surge)
    assert rss(c)[old]["spec"]["replicas"] == 3 and rss(c)[new]["spec"]["replicas"] == 2
    d = c.get("Deployment", "web")
    assert counts(d)["availableReplicas"] == 3 and counts(d)["unavailableReplicas"] == 2
    assert condition(d, "Available")["status"] == "True"  # 3 >= 4 - 1
    prog = condition(d, "Progressing")
    assert (prog["status"], prog["reason"]) == ("True", "ReplicaSetUpdated")
    c.advance(600)
    prog = condition(c.get("Deployment", "web"), "Progressing")
    assert (prog["status"], prog["reason"]) == ("False", "ProgressDeadlineExceeded")


# -- Recreate ------------------------------------------------------------------------------


def test_recreate_removes_all_old_pods_before_creating_new_ones():
    c = make_cluster()
    c.create(deployment(replicas=3, strategy={"type": "Recreate"}))
    c.settle()
    (old,) = rss(c)
    seen_overlap = []

    def watch(ev):
        if ev.type != ADDED:
            return
        olds = [p for p in c.api.table(c.api.registry.by_kind("Pod")).objects.values()
                if p["metadata"]["labels"].get("pod-template-hash") == old[4:]]
        if olds and ev.obj["metadata"]["labels"].get("pod-template-hash") != old[4:]:
            seen_overlap.append(len(olds))

    c.api.table(c.api.registry.by_kind("Pod")).handlers.append(watch)
    set_image(c, "nginx:2")
    c.settle()
    new = next(n for n in rss(c) if n != old)
    assert seen_overlap == []
    assert messages(c, "ScalingReplicaSet")[1:] == [
        f"Scaled down replica set {old} from 3 to 0", f"Scaled up replica set {new} from 0 to 3"]
    assert len(active_pods(c)) == 3
    d = c.get("Deployment", "web")
    assert condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert condition(d, "Available")["status"] == "True"


def test_recreate_waits_for_terminating_old_pods():
    c = make_cluster()
    c.create(deployment(replicas=2, strategy={"type": "Recreate"}))
    c.settle()
    (old,) = rss(c)
    victim_node = pods(c)[0]["spec"]["nodeName"]
    c.fail_node(victim_node)  # its pod will stay Terminating: no kubelet to finish it
    set_image(c, "nginx:2")
    c.manager.run_until_idle(10_000)
    assert set(rss(c)) == {old}  # no new ReplicaSet while an old pod still exists
    c.restore_node(victim_node)
    c.settle()
    assert len(rss(c)) == 2 and len(active_pods(c)) == 2


# -- scaling -------------------------------------------------------------------------------


def test_scale_via_spec_and_scale_subresource():
    c = make_cluster()
    c.create(deployment(replicas=2))
    c.settle()
    (name,) = rss(c)
    c.patch("Deployment", "web", {"spec": {"replicas": 5}})
    c.settle()
    assert rss(c)[name]["spec"]["replicas"] == 5 and len(active_pods(c)) == 5
    assert c.get("Deployment", "web", subresource="scale")["spec"]["replicas"] == 5
    c.patch("Deployment", "web", {"spec": {"replicas": 1}}, subresource="scale")
    c.settle()
    assert len(active_pods(c)) == 1
    assert messages(c, "ScalingReplicaSet")[1:] == [
        f"Scaled up replica set {name} from 2 to 5", f"Scaled down replica set {name} from 5 to 1"]
    ann = rss(c)[name]["metadata"]["annotations"]
    assert (ann["deployment.kubernetes.io/desired-replicas"],
            ann["deployment.kubernetes.io/max-replicas"]) == ("1", "2")


def test_scaling_mid_rollout_is_proportional():
    c = make_cluster()
    c.create(deployment(replicas=10, strategy={"type": "RollingUpdate", "rollingUpdate": {
        "maxSurge": 3, "maxUnavailable": 2}}))
    c.settle()
    (old,) = rss(c)
    roll_out_broken(c)
    c.advance(1)
    new = next(n for n in rss(c) if n != old)
    sizes = {n: r["spec"]["replicas"] for n, r in rss(c).items()}
    assert sizes == {old: 8, new: 5}
    c.patch("Deployment", "web", {"spec": {"replicas": 15}})
    c.advance(1)
    sizes = {n: r["spec"]["replicas"] for n, r in rss(c).items()}
    assert sizes == {old: 11, new: 7}  # the documented example: +3 old, +2 new


# -- DEP-2: replacement pods get new names --------------------------------------------------


def test_deleted_pod_is_replaced_by_a_pod_with_a_new_name():
    c = make_cluster()
    c.create(deployment(replicas=2))
    c.settle()
    before = {p["metadata"]["name"] for p in pods(c)}
    victim = sorted(before)[0]
    c.delete("Pod", victim)
    c.settle()
    after = {p["metadata"]["name"] for p in pods(c)}
    assert victim not in after and len(after) == 2 and len(after - before) == 1


def test_pod_on_a_failed_node_is_replaced_while_still_terminating():
    c = make_cluster(nodes=2)
    c.create(deployment(replicas=2))
    c.settle()
    victim = next(p for p in pods(c) if p["spec"]["nodeName"] == "node-1")
    c.fail_node("node-1")
    c.settle()
    gone = c.get("Pod", victim["metadata"]["name"])
    assert gone["metadata"].get("deletionTimestamp")  # evicted, never finished
    live = active_pods(c)
    assert len(live) == 2 and victim["metadata"]["name"] not in {
        p["metadata"]["name"] for p in live}


# -- revisions, rollback, history ----------------------------------------------------------


def test_changing_the_template_back_reuses_the_old_replica_set_with_a_new_revision():
    c = make_cluster()
    c.create(deployment(replicas=2))
    c.settle()
    (first,) = rss(c)
    set_image(c, "nginx:2")
    c.settle()
    set_image(c, "nginx:1")
    c.settle()
    assert len(rss(c)) == 2
    ann = rss(c)[first]["metadata"]["annotations"]
    assert ann["deployment.kubernetes.io/revision"] == "3"
    assert ann["deployment.kubernetes.io/revision-history"] == "1"
    assert rss(c)[first]["spec"]["replicas"] == 2
    d = c.get("Deployment", "web")
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_deprecated_rollback_annotation_restores_a_revision():
    c = make_cluster()
    c.create(deployment(replicas=1))
    c.settle()
    (first,) = rss(c)
    set_image(c, "nginx:2")
    c.settle()
    c.patch("Deployment", "web", {"metadata": {"annotations": {
        "deprecated.deployment.rollback.to": "1"}}})
    c.settle()
    d = c.get("Deployment", "web")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"
    assert "deprecated.deployment.rollback.to" not in d["metadata"]["annotations"]
    assert messages(c, "DeploymentRollback") == ['Rolled back deployment "web" to revision 1']
    assert rss(c)[first]["spec"]["replicas"] == 1
    c.patch("Deployment", "web", {"metadata": {"annotations": {
        "deprecated.deployment.rollback.to": "99"}}})
    c.settle()
    assert messages(c, "DeploymentRollbackRevisionNotFound") == [
        "Unable to find the revision to rollback to."]


def test_revision_history_limit_deletes_old_empty_replica_sets():
    c = make_cluster()
    c.create(deployment(replicas=1, revisionHistoryLimit=1))
    c.settle()
    for i in range(2, 6):
        set_image(c, f"nginx:{i}")
        c.settle()
    left = rss(c)
    assert len(left) == 2
    revisions = sorted(int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                       for r in left.values())
    assert revisions == [4, 5]


# -- paused --------------------------------------------------------------------------------


def test_paused_deployment_does_not_roll_out_but_scales():
    c = make_cluster()
    c.create(deployment(replicas=2))
    c.settle()
    (first,) = rss(c)
    c.patch("Deployment", "web", {"spec": {"paused": True}})
    set_image(c, "nginx:2")
    c.patch("Deployment", "web", {"spec": {"replicas": 4}})
    c.settle()
    assert set(rss(c)) == {first} and rss(c)[first]["spec"]["replicas"] == 4
    prog = condition(c.get("Deployment", "web"), "Progressing")
    assert (prog["status"], prog["reason"], prog["message"]) == (
        "Unknown", "DeploymentPaused", "Deployment is paused")
    c.patch("Deployment", "web", {"spec": {"paused": None}})
    c.settle()
    assert len(rss(c)) == 2
    d = c.get("Deployment", "web")
    assert condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert counts(d)["updatedReplicas"] == 4


# -- progress deadline ---------------------------------------------------------------------


def test_progress_deadline_on_the_virtual_clock():
    c = make_cluster()
    d = deployment(replicas=2, progressDeadlineSeconds=60)
    # The pods select no node: the scheduler never binds them, so no progress is possible.
    d["spec"]["template"]["spec"]["nodeSelector"] = {"fakekube.io/no-such-node": "true"}
    c.create(d)
    t0 = c.now
    used = c.settle()
    assert used == pytest.approx(61)  # lastUpdateTime + 60 s, + 1 s as upstream requeues
    d = c.get("Deployment", "web")
    (name,) = rss(c)
    prog = condition(d, "Progressing")
    assert (prog["status"], prog["reason"], prog["message"]) == (
        "False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.')
    avail = condition(d, "Available")
    assert (avail["status"], avail["reason"]) == ("False", "MinimumReplicasUnavailable")
    assert c.now - t0 == pytest.approx(61)
    assert c.settle() == 0  # timed out: nothing more to wait for


def test_min_ready_seconds_delays_availability():
    c = make_cluster()
    c.create(deployment(replicas=2, minReadySeconds=20))
    c.manager.run_until_idle(10_000)
    d = c.get("Deployment", "web")
    assert counts(d).get("availableReplicas", 0) == 0 and counts(d)["readyReplicas"] == 2
    assert condition(d, "Available")["status"] == "False"
    used = c.settle()
    assert used == pytest.approx(21)
    d = c.get("Deployment", "web")
    assert counts(d)["availableReplicas"] == 2
    assert condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"


# -- adoption, collisions, failures --------------------------------------------------------


def test_adopts_an_orphan_replica_set_with_the_same_template():
    c = make_cluster()
    body = deployment(replicas=2)
    orphan = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": "web-manual", "labels": {"app": "web"}},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                       "template": body["spec"]["template"]}}
    c.create(orphan)
    c.settle()
    d = c.create(body)
    c.settle()
    assert set(rss(c)) == {"web-manual"}
    rs = rss(c)["web-manual"]
    assert rs["metadata"]["ownerReferences"][0]["uid"] == d["metadata"]["uid"]
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert c.get("Deployment", "web")["status"]["availableReplicas"] == 2


def test_hash_collision_bumps_collision_count():
    c = make_cluster()
    body = deployment(replicas=1)
    stored = c.create(dict(body, metadata={"name": "probe"}))  # to learn the defaulted template
    c.delete("Deployment", "probe")
    h = compute_hash(stored["spec"]["template"], None)
    c.create({"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": f"web-{h}", "labels": {"app": "other"}},
              "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}},
                       "template": {"metadata": {"labels": {"app": "other"}},
                                    "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    c.create(body)
    c.settle()
    d = c.get("Deployment", "web")
    assert d["status"]["collisionCount"] == 1
    h2 = compute_hash(d["spec"]["template"], 1)
    assert f"web-{h2}" in rss(c) and d["status"]["availableReplicas"] == 1


def test_replica_set_create_error_is_reported():
    c = make_cluster()
    gate = {"on": True}

    def deny(op, rt, obj, old, api):
        if rt.kind == "ReplicaSet" and op == "CREATE" and gate["on"]:
            raise errors.Forbidden("replicasets.apps is forbidden: no")

    c.api.admission.append(deny)
    c.create(deployment(replicas=1))
    c.manager.run_until_idle(1000)
    d = c.get("Deployment", "web")
    prog = condition(d, "Progressing")
    assert (prog["status"], prog["reason"]) == ("False", "ReplicaSetCreateError")
    assert prog["message"].endswith(": replicasets.apps is forbidden: no")
    (msg,) = messages(c, "ReplicaSetCreateError")[:1]
    assert re.fullmatch(f'Failed to create new replica set "web-{HASH}": replicasets.apps is '
                        "forbidden: no", msg)
    gate["on"] = False
    c.settle()
    assert c.get("Deployment", "web")["status"]["availableReplicas"] == 1


def test_deleting_the_deployment_deletes_replica_sets_and_pods():
    c = make_cluster()
    c.create(deployment(replicas=2))
    c.settle()
    c.delete("Deployment", "web")
    c.settle()
    assert rss(c) == {} and pods(c) == []


def test_no_progressing_condition_without_a_deadline_then_found_new_replica_set():
    c = make_cluster()
    c.create(deployment(replicas=1, progressDeadlineSeconds=2 ** 31 - 1))
    c.settle()
    d = c.get("Deployment", "web")
    assert [x["type"] for x in d["status"]["conditions"]] == ["Available"]
    w = c.watch("Deployment", resource_version=d["metadata"]["resourceVersion"])
    c.patch("Deployment", "web", {"spec": {"progressDeadlineSeconds": 600}})
    c.settle()
    (name,) = rss(c)
    seen = [(x["reason"], x["message"]) for _, obj in w
            for x in obj["status"].get("conditions", ()) if x["type"] == "Progressing"]
    assert ("FoundNewReplicaSet", f'Found new replica set "{name}"') in seen
    assert condition(c.get("Deployment", "web"), "Progressing")["reason"] == (
        "NewReplicaSetAvailable")


def test_scale_to_zero_and_back():
    c = make_cluster()
    c.create(deployment(replicas=2))
    c.settle()
    c.patch("Deployment", "web", {"spec": {"replicas": 0}})
    c.settle()
    d = c.get("Deployment", "web")
    assert active_pods(c) == [] and counts(d) == {"observedGeneration": 2}
    assert condition(d, "Available")["status"] == "True"  # 0 >= 0 - 0
    c.patch("Deployment", "web", {"spec": {"replicas": 3}})
    c.settle()
    assert len(active_pods(c)) == 3 and len(rss(c)) == 1
