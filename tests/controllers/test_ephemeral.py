"""Generic ephemeral volume controller (SPEC.md DEP-3 b): one claim ``<pod>-<volume>`` per
pod and ephemeral volume, owned by the pod, from the volume's claim template; a claim of that
name that the pod does not own is reported and left alone; the claim goes with the pod.

No nodes and no scheduler: pods stay Pending, which is all the controller looks at.
"""

from __future__ import annotations

import re

import fakekube

from fakekube.controllers.ephemeral import (EphemeralVolumeController, volume_claim_name,
                                            volume_is_for_pod)


def make_cluster() -> fakekube.Cluster:
    return fakekube.Cluster(nodes=0)


TEMPLATE = {"metadata": {"labels": {"type": "scratch"}, "annotations": {"note": "x"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                     "resources": {"requests": {"storage": "1Gi"}}}}


def pod(name="p", volumes=("scratch",)) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx",
                                     "volumeMounts": [{"name": v, "mountPath": f"/{v}"}
                                                      for v in volumes]}],
                     "volumes": [{"name": v, "ephemeral": {"volumeClaimTemplate": TEMPLATE}}
                                 for v in volumes]}}


def claims(c) -> dict[str, dict]:
    return {x["metadata"]["name"]: x for x in c.list("PersistentVolumeClaim")["items"]}


def failed_binding(c) -> list[dict]:
    return [e for e in c.list("Event")["items"] if e["reason"] == "FailedBinding"]


def test_creates_one_owned_claim_per_ephemeral_volume():
    c = make_cluster()
    p = c.create(pod("p", volumes=("scratch", "cache")))
    c.settle()
    got = claims(c)
    assert set(got) == {"p-scratch", "p-cache"}
    for name, claim in got.items():
        m = claim["metadata"]
        assert m["ownerReferences"] == [{"apiVersion": "v1", "kind": "Pod", "name": "p",
                                         "uid": p["metadata"]["uid"], "controller": True,
                                         "blockOwnerDeletion": True}]
        assert m["labels"] == {"type": "scratch"} and m["annotations"]["note"] == "x"
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
        assert claim["spec"]["storageClassName"] == "standard"
    assert failed_binding(c) == []


def test_pods_without_ephemeral_volumes_are_ignored():
    c = make_cluster()
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain"},
              "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    c.settle()
    assert claims(c) == {}


def test_a_claim_the_pod_does_not_own_is_reported_and_left_alone():
    c = make_cluster()
    squatter = c.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": {"name": "p-scratch"},
                         "spec": {"accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "5Gi"}}}})
    c.create(pod("p"))
    assert c.settle() == 0  # no retry loop: nothing changes until the claim does
    (ev,) = failed_binding(c)
    assert (ev["type"], ev["involvedObject"]["kind"], ev["involvedObject"]["name"]) == (
        "Warning", "Pod", "p")
    assert ev["message"] == ("ephemeral volume scratch: PVC default/p-scratch was not created "
                             "for pod default/p (pod is not owner)")
    assert ev["source"] == {"component": "ephemeral_volume"}
    assert claims(c)["p-scratch"]["metadata"]["uid"] == squatter["metadata"]["uid"]
    assert not claims(c)["p-scratch"]["metadata"].get("ownerReferences")


def test_a_deleted_claim_is_recreated_for_its_pod():
    c = make_cluster()
    p = c.create(pod("p"))
    c.settle()
    first = claims(c)["p-scratch"]["metadata"]["uid"]
    c.delete("PersistentVolumeClaim", "p-scratch")
    c.settle()
    again = claims(c)["p-scratch"]
    assert again["metadata"]["uid"] != first
    assert again["metadata"]["ownerReferences"][0]["uid"] == p["metadata"]["uid"]


def test_the_claim_goes_with_the_pod():
    c = make_cluster()
    c.create(pod("p"))
    c.settle()
    c.delete("Pod", "p")
    c.settle()
    assert claims(c) == {}


def test_a_pod_being_deleted_gets_no_claim():
    c = make_cluster()
    body = pod("p")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    c.create(body)
    c.delete("Pod", "p")  # unscheduled: deleted at once, but the finalizer holds it
    ctl = next(x for x in c.manager.controllers if isinstance(x, EphemeralVolumeController))
    ctl.queue.add(("default", "p"))
    c.settle()
    assert "p-scratch" not in claims(c)


def test_deployment_pods_each_get_their_own_claim_and_replacements_new_ones():
    c = make_cluster()
    c.create({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"metadata": {"labels": {"app": "web"}},
                                    "spec": pod()["spec"]}}})
    c.settle()
    pods = {p["metadata"]["name"]: p for p in c.list("Pod")["items"]}
    assert set(claims(c)) == {f"{n}-scratch" for n in pods}
    for name in pods:
        assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}-scratch", f"{name}-scratch")
    victim = sorted(pods)[0]
    c.delete("Pod", victim)
    c.settle()
    now = {p["metadata"]["name"] for p in c.list("Pod")["items"]}
    assert victim not in now and len(now) == 2
    live = {n: x for n, x in claims(c).items() if not x["metadata"].get("deletionTimestamp")}
    assert set(live) == {f"{n}-scratch" for n in now}
    assert f"{victim}-scratch" not in live


def test_volume_is_for_pod_checks_namespace_and_controller():
    p = {"metadata": {"name": "p", "namespace": "a", "uid": "u1"}}
    mine = {"metadata": {"name": "p-v", "namespace": "a", "ownerReferences": [
        {"uid": "u1", "controller": True}]}}
    assert volume_is_for_pod(p, mine) is None
    not_controller = {"metadata": {"name": "p-v", "namespace": "a",
                                   "ownerReferences": [{"uid": "u1"}]}}
    assert "(pod is not owner)" in volume_is_for_pod(p, not_controller)
    elsewhere = {"metadata": {"name": "p-v", "namespace": "b", "ownerReferences": [
        {"uid": "u1", "controller": True}]}}
    assert volume_is_for_pod(p, elsewhere) == ("PVC b/p-v was not created for pod a/p "
                                               "(pod is not owner)")
    assert volume_claim_name(p, {"name": "v"}) == "p-v"
