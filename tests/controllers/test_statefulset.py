"""The StatefulSet controller against SPEC.md section 1 (SS-1 .. SS-35), end to end through
the scheduler, storage and simulated kubelets."""

import pytest

import fakekube
from fakekube.testing.builders import pod, statefulset


@pytest.fixture
def c():
    return fakekube.Cluster(nodes=[{"name": "n1", "zone": "a"}, {"name": "n2", "zone": "b"},
                                   {"name": "n3", "zone": "c"}])


def names(c, kind="Pod", **kw):
    return [o["metadata"]["name"] for o in c.list(kind, **kw)["items"]]


def set_events(c, name="web"):
    return [(e["reason"], e["message"]) for e in c.events()
            if e["involvedObject"]["kind"] == "StatefulSet" and e["involvedObject"]["name"] == name]


def ready(p):
    return any(x["type"] == "Ready" and x["status"] == "True"
               for x in p["status"].get("conditions", []))


# -- identity ------------------------------------------------------------------------------

def test_identity_of_pods_and_claims(c):
    sset = c.create(statefulset(claims={"www": "1Gi"}))
    c.settle()
    assert names(c) == ["web-0", "web-1", "web-2"]
    for i in range(3):
        p = c.get("Pod", f"web-{i}")
        m = p["metadata"]
        assert m["generateName"] == "web-"
        assert m["labels"]["statefulset.kubernetes.io/pod-name"] == f"web-{i}"
        assert m["labels"]["apps.kubernetes.io/pod-index"] == str(i)
        assert m["labels"]["controller-revision-hash"] == c.get("StatefulSet", "web")[
            "status"]["updateRevision"]
        assert m["labels"]["controller-revision-hash"].startswith("web-")
        assert (p["spec"]["hostname"], p["spec"]["subdomain"]) == (f"web-{i}", "nginx")
        assert m["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                                         "name": "web", "uid": sset["metadata"]["uid"],
                                         "controller": True, "blockOwnerDeletion": True}]
        vols = {v["name"]: v for v in p["spec"]["volumes"]}
        assert vols["www"]["persistentVolumeClaim"]["claimName"] == f"www-web-{i}"
        claim = c.get("PersistentVolumeClaim", f"www-web-{i}")
        assert claim["metadata"]["labels"] == {"app": "nginx"}
        assert "ownerReferences" not in claim["metadata"]  # Retain/Retain (SS-8)
        assert claim["status"]["phase"] == "Bound"
    assert set_events(c)[:2] == [
        ("SuccessfulCreate", "create Claim www-web-0 Pod web-0 in StatefulSet web success"),
        ("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful")]


def test_ordered_creation_waits_for_running_and_ready(c):
    w = c.watch("Pod", resource_version=c.list("Pod")["metadata"]["resourceVersion"])
    c.set_pod_ready("web-1", False)
    c.create(statefulset())
    c.settle()
    assert names(c) == ["web-0", "web-1"]  # web-2 waits for web-1 to be Ready
    c.set_pod_ready("web-1", None)
    c.settle()
    assert names(c) == ["web-0", "web-1", "web-2"]
    assert [o["metadata"]["name"] for t, o in w if t == "ADDED"] == ["web-0", "web-1", "web-2"]


def test_parallel_creates_everything_at_once(c):
    c.set_pod_ready("web-0", False)
    c.create(statefulset(podManagementPolicy="Parallel"))
    c.settle()
    assert names(c) == ["web-0", "web-1", "web-2"]


def test_claims_exist_before_their_pod_and_are_reused(c):
    c.create(statefulset(replicas=1))
    c.settle()
    claim = c.get("PersistentVolumeClaim", "www-web-0")
    c.delete("Pod", "web-0")
    c.settle()
    again = c.get("PersistentVolumeClaim", "www-web-0")
    assert again["metadata"]["uid"] == claim["metadata"]["uid"]
    assert again["spec"]["volumeName"] == claim["spec"]["volumeName"]


# -- scale down (SS-16 .. SS-18) -------------------------------------------------------------

def test_scale_down_highest_first_one_at_a_time(c):
    c.create(statefulset(replicas=4))
    c.settle()
    w = c.watch("Pod", resource_version=c.list("Pod")["metadata"]["resourceVersion"])
    c.patch("StatefulSet", "web", {"spec": {"replicas": 1}})
    c.settle()
    assert names(c) == ["web-0"]
    deleted = [o["metadata"]["name"] for t, o in w if t == "DELETED"]
    assert deleted == ["web-3", "web-2", "web-1"]


def test_scale_down_waits_for_the_deleted_pod_to_be_gone(c):
    c.create(statefulset(replicas=3))
    c.settle()
    node = c.get("Pod", "web-2")["spec"]["nodeName"]
    c.fail_node(node)  # nobody will finish web-2's deletion
    c.patch("StatefulSet", "web", {"spec": {"replicas": 1}})
    c.settle(max_seconds=600)
    assert c.get("Pod", "web-2")["metadata"].get("deletionTimestamp")
    assert "web-1" in names(c)  # blocked behind the terminating web-2 (SS-18)


def test_unhealthy_highest_pod_is_deleted_at_once(c):
    c.create(statefulset(replicas=3))
    c.settle()
    c.set_pod_ready("web-2", False)
    c.settle()
    c.patch("StatefulSet", "web", {"spec": {"replicas": 2}})
    c.settle()
    assert names(c) == ["web-0", "web-1"]


def test_unready_replica_in_range_blocks_scale_down(c):
    c.create(statefulset(replicas=3))
    c.settle()
    c.set_pod_ready("web-0", False)
    c.settle()
    c.patch("StatefulSet", "web", {"spec": {"replicas": 2}})
    c.settle()
    assert names(c) == ["web-0", "web-1", "web-2"]  # SS-17, third case
    c.set_pod_ready("web-0", None)
    c.settle()
    assert names(c) == ["web-0", "web-1"]


def test_unready_middle_pod_scale_3_to_1(c):
    c.create(statefulset(replicas=3))
    c.settle()
    c.set_pod_ready("web-1", False)
    c.settle()
    w = c.watch("Pod", resource_version=c.list("Pod")["metadata"]["resourceVersion"])
    c.patch("StatefulSet", "web", {"spec": {"replicas": 1}})
    c.settle()
    assert [o["metadata"]["name"] for t, o in w if t == "DELETED"] == ["web-2", "web-1"]


# -- failures and at-most-once (SS-13, NF-8) -------------------------------------------------

def test_failed_pod_is_replaced_after_it_is_gone(c):
    c.create(statefulset(replicas=2))
    c.settle()
    old = c.get("Pod", "web-1")
    p = c.get("Pod", "web-1")
    p["status"]["phase"] = "Failed"
    c.replace(p, subresource="status")
    c.settle()
    new = c.get("Pod", "web-1")
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["status"]["phase"] == "Running"


def test_at_most_one_pod_per_identity_while_stuck_terminating(c):
    c.create(statefulset(replicas=3))
    c.settle()
    old = c.get("Pod", "web-1")
    c.fail_node(old["spec"]["nodeName"])
    c.settle()
    stuck = c.get("Pod", "web-1")
    assert stuck["metadata"]["uid"] == old["metadata"]["uid"]
    assert stuck["metadata"]["deletionTimestamp"]
    c.delete("Pod", "web-1", grace_period_seconds=0)  # kubectl delete --force
    c.settle(max_seconds=900)
    new = c.get("Pod", "web-1")
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["spec"]["nodeName"] != old["spec"]["nodeName"]
    assert new["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "www-web-1"


# -- updates (SS-19 .. SS-23) ---------------------------------------------------------------

def change_image(c, image):
    c.patch("StatefulSet", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": image}]}}}}, patch_type="strategic")


def test_rolling_update_goes_down_from_the_highest_ordinal(c):
    c.create(statefulset(replicas=3))
    c.settle()
    before = c.get("StatefulSet", "web")["status"]
    w = c.watch("Pod", resource_version=c.list("Pod")["metadata"]["resourceVersion"])
    change_image(c, "nginx:1.28")
    c.settle()
    assert [o["metadata"]["name"] for t, o in w if t == "DELETED"] == ["web-2", "web-1", "web-0"]
    st = c.get("StatefulSet", "web")["status"]
    assert st["currentRevision"] == st["updateRevision"] != before["updateRevision"]
    assert st["updatedReplicas"] == st["currentReplicas"] == 3
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.28"
               for p in c.list("Pod")["items"])


def test_partition_updates_only_ordinals_at_or_above_it(c):
    c.create(statefulset(replicas=3, updateStrategy={"type": "RollingUpdate",
                                                     "rollingUpdate": {"partition": 2}}))
    c.settle()
    change_image(c, "nginx:1.28")
    c.settle()
    images = [p["spec"]["containers"][0]["image"] for p in c.list("Pod")["items"]]
    assert images == ["nginx:1.27", "nginx:1.27", "nginx:1.28"]
    st = c.get("StatefulSet", "web")["status"]
    assert st["currentRevision"] != st["updateRevision"]  # SS-25: not complete
    assert (st["updatedReplicas"], st["currentReplicas"]) == (1, 2)
    c.delete("Pod", "web-0")  # re-created at the current revision (SS-20)
    c.settle()
    assert c.get("Pod", "web-0")["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_on_delete_never_deletes_and_never_completes(c):
    c.create(statefulset(replicas=2, updateStrategy={"type": "OnDelete"}))
    c.settle()
    change_image(c, "nginx:1.28")
    c.settle()
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.27"
               for p in c.list("Pod")["items"])
    c.delete("Pod", "web-1")
    c.settle()
    assert c.get("Pod", "web-1")["spec"]["containers"][0]["image"] == "nginx:1.28"
    c.delete("Pod", "web-0")
    c.settle()
    st = c.get("StatefulSet", "web")["status"]
    assert st["updatedReplicas"] == 2
    assert st["currentRevision"] != st["updateRevision"]  # OnDelete never advances it


def test_rollback_reuses_the_old_revision(c):
    c.create(statefulset(replicas=1))
    c.settle()
    first = c.get("StatefulSet", "web")["status"]["updateRevision"]
    change_image(c, "nginx:1.28")
    c.settle()
    change_image(c, "nginx:1.27")
    c.settle()
    st = c.get("StatefulSet", "web")["status"]
    assert st["updateRevision"] == first
    revs = {r["metadata"]["name"]: r["revision"] for r in c.list("ControllerRevision")["items"]}
    assert len(revs) == 2 and revs[first] == 3


def test_revision_history_limit(c):
    c.create(statefulset(replicas=1, revisionHistoryLimit=1))
    c.settle()
    for tag in ("1.28", "1.29", "1.30", "1.31"):
        change_image(c, f"nginx:{tag}")
        c.settle()
    assert len(c.list("ControllerRevision")["items"]) == 2  # the live one + 1 of history


def test_max_unavailable_needs_its_gate():
    spec = {"updateStrategy": {"type": "RollingUpdate",
                               "rollingUpdate": {"maxUnavailable": 2}}}
    off = fakekube.Cluster(nodes=3)
    off.create(statefulset(replicas=3, **spec))
    assert "maxUnavailable" not in off.get("StatefulSet", "web")["spec"]["updateStrategy"][
        "rollingUpdate"]
    on = fakekube.Cluster(nodes=3, feature_gates={"MaxUnavailableStatefulSet": True})
    on.create(statefulset(replicas=3, **spec))
    on.settle()
    w = on.watch("Pod", resource_version=on.list("Pod")["metadata"]["resourceVersion"])
    on.patch("StatefulSet", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.28"}]}}}}, patch_type="strategic")
    on.settle()
    evs = [(t, o["metadata"]["name"]) for t, o in w if t in ("MODIFIED", "DELETED")]
    first_two = [n for t, n in evs if t == "MODIFIED"][:2]
    assert set(first_two) == {"web-2", "web-1"}  # two deletions started in one sync


# -- status and availability (SS-24) ----------------------------------------------------------

def test_min_ready_seconds_on_the_virtual_clock(c):
    c.create(statefulset(replicas=2, minReadySeconds=30))
    c.advance(1)
    st = c.get("StatefulSet", "web")["status"]
    assert (st["readyReplicas"], st["availableReplicas"]) == (1, 0)
    assert names(c) == ["web-0"]  # web-1 waits for web-0 to be available
    used = c.settle()
    assert used >= 59
    st = c.get("StatefulSet", "web")["status"]
    assert (st["readyReplicas"], st["availableReplicas"]) == (2, 2)


def test_status_counts_terminating_pods(c):
    c.create(statefulset(replicas=2))
    c.settle()
    node = c.get("Pod", "web-1")["spec"]["nodeName"]
    c.fail_node(node)
    c.settle()
    st = c.get("StatefulSet", "web")["status"]
    assert st["replicas"] == 2  # the terminating pod still counts
    assert st["readyReplicas"] == 1
    assert st["currentReplicas"] == 1  # but not as current


# -- retention policy (SS-30 .. SS-34) ---------------------------------------------------------

@pytest.mark.parametrize("deleted,scaled,in_range,condemned", [
    ("Retain", "Retain", set(), set()),
    ("Delete", "Retain", {"StatefulSet"}, {"StatefulSet"}),
    ("Retain", "Delete", set(), {"Pod"}),
    ("Delete", "Delete", {"StatefulSet"}, {"Pod"}),
])
def test_retention_owner_references(c, deleted, scaled, in_range, condemned):
    c.create(statefulset(replicas=2, persistentVolumeClaimRetentionPolicy={
        "whenDeleted": deleted, "whenScaled": scaled}))
    c.settle()
    kinds = {r["kind"] for r in c.get("PersistentVolumeClaim", "www-web-1")["metadata"].get(
        "ownerReferences", [])}
    assert kinds == in_range
    c.set_pod_ready("web-1", False)  # keeps web-1 around to look at its claim's refs
    c.settle()
    c.patch("StatefulSet", "web", {"spec": {"replicas": 1}})
    c.settle()
    gone = "www-web-1" not in names(c, "PersistentVolumeClaim")
    assert gone == (scaled == "Delete")


def test_deleting_the_set_cascades_to_pods_but_keeps_claims(c):
    c.create(statefulset(replicas=2))
    c.settle()
    out = c.delete("StatefulSet", "web")
    assert out["status"] == "Success"
    c.settle()
    assert names(c) == []
    assert names(c, "PersistentVolumeClaim") == ["www-web-0", "www-web-1"]
    assert names(c, "ControllerRevision") == []


def test_when_deleted_delete_removes_claims_with_the_set(c):
    c.create(statefulset(replicas=2, persistentVolumeClaimRetentionPolicy={
        "whenDeleted": "Delete", "whenScaled": "Retain"}))
    c.settle()
    c.delete("StatefulSet", "web")
    c.settle()
    assert names(c, "PersistentVolumeClaim") == []


def test_a_claim_being_deleted_blocks_its_pod(c):
    c.create(statefulset(replicas=1))
    c.settle()
    c.patch("PersistentVolumeClaim", "www-web-0", {"metadata": {"finalizers": [
        "kubernetes.io/pvc-protection", "example.com/hold"]}})
    c.delete("PersistentVolumeClaim", "www-web-0")
    c.delete("Pod", "web-0")
    c.settle()
    assert "web-0" not in names(c)
    assert ("FailedCreate", "create Pod web-0 in StatefulSet web failed error: pvc www-web-0 "
            "is being deleted") in set_events(c)


# -- adoption, ordinals, validation ------------------------------------------------------------

def test_orphan_member_pods_are_adopted(c):
    from fakekube.controllers.statefulset import history

    sset = statefulset(replicas=1, claims={})
    c.create(sset)  # the API's defaulting shapes the template the revision records
    c.settle()
    stored = c.get("StatefulSet", "web")
    revision = "web-" + history.hash_revision(history.revision_data(stored), 0)
    c.delete("StatefulSet", "web", propagation_policy="Orphan")
    c.settle()
    assert "web-0" in names(c)
    before = c.get("Pod", "web-0")
    assert before["metadata"]["labels"]["controller-revision-hash"] == revision
    assert "ownerReferences" not in before["metadata"]
    c.create(sset)
    c.settle()
    after = c.get("Pod", "web-0")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]  # adopted, not restarted
    ref = after["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["controller"]) == ("StatefulSet", True)
    assert ref["uid"] == c.get("StatefulSet", "web")["metadata"]["uid"]


def test_an_adopted_pod_of_another_revision_is_updated(c):
    c.create(pod("web-0", labels={"app": "nginx"}))
    c.settle()
    before = c.get("Pod", "web-0")
    c.create(statefulset(replicas=1, claims={}))
    c.settle()
    after = c.get("Pod", "web-0")
    assert after["metadata"]["uid"] != before["metadata"]["uid"]  # no revision: replaced
    assert after["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"


def test_a_pod_relabeled_out_of_the_selector_is_released_and_replaced(c):
    sset = c.create(statefulset(replicas=2, claims={}))
    c.settle()
    uid = sset["metadata"]["uid"]
    old = c.get("Pod", "web-1")
    # Taken out of the set's selector: the set releases it (drops its ownerReference),
    # and cannot put a new web-1 in place while the name is taken (upstream retries the
    # create with backoff, so the cluster does not settle meanwhile)...
    c.patch("Pod", "web-1", {"metadata": {"labels": {"app": "debug"}}})
    c.advance(30)
    assert "already exists" in str(c.manager.last_errors[("statefulset-controller",
                                                          ("default", "web"))])
    released = c.get("Pod", "web-1")
    assert released["metadata"]["uid"] == old["metadata"]["uid"]
    assert not any(r["uid"] == uid for r in released["metadata"].get("ownerReferences") or ())
    # ...and, once the name is free, puts a fresh web-1 in its place.
    c.delete("Pod", "web-1")
    c.settle()
    fresh = c.get("Pod", "web-1")
    assert fresh["metadata"]["uid"] != old["metadata"]["uid"]
    assert fresh["metadata"]["ownerReferences"][0]["uid"] == uid
    assert ready(fresh)
    assert c.get("StatefulSet", "web")["status"]["readyReplicas"] == 2


def test_start_ordinal(c):
    c.create(statefulset(replicas=2, ordinals={"start": 5}))
    c.settle()
    assert names(c) == ["web-5", "web-6"]


def test_invalid_sets_get_upstream_422(c):
    with pytest.raises(fakekube.Invalid) as e:
        c.create(statefulset(replicas=-1))
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in e.value.message
    bad = statefulset()
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(fakekube.Invalid) as e:
        c.create(bad)
    assert "`selector` does not match template `labels`" in e.value.message
    c.create(statefulset())
    before = c.get("StatefulSet", "web")
    with pytest.raises(fakekube.Invalid) as e:
        c.patch("StatefulSet", "web", {"spec": {"serviceName": "other"}})
    assert ("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
            "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
            "and 'minReadySeconds' are forbidden") in e.value.message
    assert c.get("StatefulSet", "web") == before
