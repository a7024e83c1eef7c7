"""The invariant checks read the stored objects (no copies) and find a set's pods through the
owner index: the same pods, in the same order, as a filter over the namespace's pod list."""

import copy

import pytest

pytest.importorskip("fakekube.scheduler")

from fakekube import Cluster  # noqa: E402
from fakekube.testing import invariants  # noqa: E402
from fakekube.testing.builders import headless_service, pod, statefulset  # noqa: E402


def _listed_set_pods(cluster, name, namespace="default"):
    uid = cluster.get("StatefulSet", name, namespace)["metadata"]["uid"]
    return [p for p in cluster.list("Pod", namespace)["items"]
            if any(r.get("uid") == uid and r.get("controller")
                   for r in p["metadata"].get("ownerReferences") or ())]


@pytest.fixture(scope="module")
def settled():
    cluster = Cluster(nodes=3, zones=["a", "b", "c"])
    cluster.apply([headless_service("nginx"), statefulset("web", 3)])
    cluster.settle()
    return cluster


def _owned(name, uid, controller=True, namespace=None):
    p = pod(name, namespace=namespace)
    p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet",
                                         "name": "web", "uid": uid,
                                         "controller": controller}]
    return p


def test_set_pods_are_the_controlled_pods_of_the_namespace_in_list_order():
    cluster = Cluster(nodes=3, zones=["a", "b", "c"])
    cluster.apply([headless_service("nginx"), statefulset("web", 2)])
    cluster.settle()
    uid = cluster.get("StatefulSet", "web")["metadata"]["uid"]
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    cluster.create(_owned("web-9", uid, namespace="other"))    # another namespace
    cluster.create(_owned("aaa", uid, controller=False))       # not its controller
    cluster.create(_owned("zzz", uid))                         # controlled, no ordinal
    sset, pods = invariants._set_pods(cluster, "web", "default")
    assert sset == cluster.get("StatefulSet", "web")
    assert pods == _listed_set_pods(cluster, "web")
    assert [p["metadata"]["name"] for p in pods] == ["web-0", "web-1", "zzz"]
    with pytest.raises(invariants.InvariantViolation, match="pod default/zzz is owned by "
                       "StatefulSet web but its name has no ordinal"):
        invariants.statefulset_identity(cluster, "web")


def test_checks_leave_the_stored_objects_as_they_were(settled):
    before = {kind: copy.deepcopy(settled.list(kind)["items"])
              for kind in ("Pod", "StatefulSet", "PersistentVolume", "PersistentVolumeClaim",
                           "VolumeAttachment")}
    invariants.statefulset_identity(settled, "web")
    invariants.statefulset_ordinals(settled, "web")
    invariants.statefulset_status(settled, "web")
    invariants.one_node_per_rwo_volume(settled)
    invariants.claims_bound_one_to_one(settled)
    for kind, items in before.items():
        assert settled.list(kind)["items"] == items, kind


def test_a_missing_set_is_not_found(settled):
    from fakekube import errors

    with pytest.raises(errors.NotFound):
        invariants.statefulset_identity(settled, "nope")


def test_history_follows_what_a_watch_sees():
    cluster = Cluster(nodes=2)
    history = invariants.History(cluster)
    reference = cluster.watch("Pod", resource_version="0")
    cluster.apply([headless_service("nginx"), statefulset("web", 2)])
    cluster.settle()
    history.check()
    cluster.delete("Pod", "web-1")
    cluster.settle()
    history.check()
    seen = {}
    for t, obj in reference:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if t == "DELETED":
            if seen.get(key, {}).get("metadata", {}).get("uid") == obj["metadata"]["uid"]:
                del seen[key]
        else:
            seen[key] = obj
    assert history.pods == seen
    assert set(history.pods) == {("default", "web-0"), ("default", "web-1")}
    assert history.identity[("default", "web-1")] == ("web-1", "nginx")
    history.close()
    assert history._pods.closed and history._sets.closed and history._events.closed
