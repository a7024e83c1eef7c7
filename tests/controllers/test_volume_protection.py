"""PVC and PV protection (SPEC.md VOL-11 .. VOL-13).

Pods here name a node that has no kubelet, and time only moves by a second (``advance``),
so that nothing but the storage controllers acts on them: the pods stay as the test makes
them (scheduled, terminating, terminal).
"""

from __future__ import annotations

import fakekube
import pytest

from fakekube.controllers.persistentvolume import STORAGE_CONTROLLERS
from fakekube.controllers.persistentvolume.protection import pod_is_shut_down, pod_uses_claim
from fakekube.kubelet.volumes import volume_id

PVC_FINALIZER = "kubernetes.io/pvc-protection"
PV_FINALIZER = "kubernetes.io/pv-protection"


def make_cluster(nodes=0, **options) -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=nodes, **options)
    present = {type(x) for x in c.manager.controllers}
    for cls in STORAGE_CONTROLLERS:
        if cls not in present:
            c.manager.add(cls(c.ctx)).setup()
    return c


def pvc(name: str, cls: str = "standard") -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                     "resources": {"requests": {"storage": "1Gi"}}}}


def pod(name: str, claims=(), node: str | None = "elsewhere", ephemeral=(),
        finalizers=()) -> dict:
    vols = [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": n}}
            for i, n in enumerate(claims)]
    vols += [{"name": v, "ephemeral": {"volumeClaimTemplate": {"spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}}
        for v in ephemeral]
    spec: dict = {"containers": [{"name": "c", "image": "busybox"}], "volumes": vols}
    if node:
        spec["nodeName"] = node
    meta: dict = {"name": name}
    if finalizers:
        meta["finalizers"] = list(finalizers)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def step(c) -> None:
    c.advance(1)


def exists(c, kind: str, name: str) -> bool:
    try:
        c.get(kind, name)
        return True
    except fakekube.NotFound:
        return False


@pytest.fixture
def c():
    return make_cluster()


def test_finalizers_on_create_and_restored_on_live_objects(c):
    c.create(pvc("data"))
    step(c)
    cl = c.get("PersistentVolumeClaim", "data")
    assert cl["metadata"]["finalizers"] == [PVC_FINALIZER]
    v = c.get("PersistentVolume", cl["spec"]["volumeName"])
    assert PV_FINALIZER in v["metadata"]["finalizers"]
    c.patch("PersistentVolumeClaim", "data", {"metadata": {"finalizers": None}})
    c.patch("PersistentVolume", v["metadata"]["name"], {"metadata": {"finalizers": None}})
    step(c)
    assert c.get("PersistentVolumeClaim", "data")["metadata"]["finalizers"] == [PVC_FINALIZER]
    # (the provisioner restores its own finalizer on a bound Delete volume too)
    assert sorted(c.get("PersistentVolume", v["metadata"]["name"])["metadata"]["finalizers"]) \
        == ["external-provisioner.volume.kubernetes.io/finalizer", PV_FINALIZER]


def test_claim_in_use_by_scheduled_pod_waits(c):
    c.create(pvc("data"))
    step(c)
    c.create(pod("web-0", ["data"]))
    step(c)
    c.delete("PersistentVolumeClaim", "data")
    step(c)
    cl = c.get("PersistentVolumeClaim", "data")
    assert cl["metadata"]["deletionTimestamp"]
    assert cl["metadata"]["finalizers"] == [PVC_FINALIZER]
    assert cl["status"]["phase"] == "Bound"
    c.delete("Pod", "web-0", grace_period_seconds=0)
    step(c)
    assert not exists(c, "PersistentVolumeClaim", "data")
    assert c.list("PersistentVolume")["items"] == []  # Delete policy: released and deleted


def test_unscheduled_pod_does_not_block(c):
    c.create(pvc("data"))
    c.create(pod("web-0", ["data"], node=None))
    step(c)
    c.delete("PersistentVolumeClaim", "data")
    step(c)
    assert not exists(c, "PersistentVolumeClaim", "data")


def test_pod_in_other_namespace_does_not_block(c):
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    c.create(pvc("data"))
    other = pod("web-0", ["data"])
    other["metadata"]["namespace"] = "other"
    c.create(other)
    step(c)
    c.delete("PersistentVolumeClaim", "data")
    step(c)
    assert not exists(c, "PersistentVolumeClaim", "data")


def test_terminating_and_terminal_pods_still_count(c):
    c.create(pvc("a"))
    c.create(pvc("b"))
    c.create(pod("terminating", ["a"], finalizers=["example.com/hold"]))
    c.create(pod("done", ["b"]))
    c.patch("Pod", "done", {"status": {"phase": "Succeeded"}}, subresource="status")
    step(c)
    c.delete("Pod", "terminating")
    assert c.get("Pod", "terminating")["metadata"]["deletionTimestamp"]
    c.delete("PersistentVolumeClaim", "a")
    c.delete("PersistentVolumeClaim", "b")
    step(c)
    assert exists(c, "PersistentVolumeClaim", "a") and exists(c, "PersistentVolumeClaim", "b")
    # Even a pod the kubelet is done with (grace 0) keeps a regular claim.
    c.delete("Pod", "terminating", grace_period_seconds=0)
    assert pod_is_shut_down(c.get("Pod", "terminating"))
    step(c)
    assert exists(c, "PersistentVolumeClaim", "a")
    c.patch("Pod", "terminating", {"metadata": {"finalizers": None}})
    c.delete("Pod", "done")
    step(c)
    assert not exists(c, "PersistentVolumeClaim", "a")
    assert not exists(c, "PersistentVolumeClaim", "b")


def test_generic_ephemeral_claim_released_by_shut_down_pod(c):
    owner = c.create(pod("app", ["shared"], ephemeral=["scratch"],
                         finalizers=["example.com/hold"]))
    c.create(pvc("shared"))
    scratch = pvc("app-scratch")
    scratch["metadata"]["ownerReferences"] = [{
        "apiVersion": "v1", "kind": "Pod", "name": "app", "uid": owner["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True}]
    c.create(scratch)
    step(c)
    assert pod_uses_claim(c.get("Pod", "app"), c.get("PersistentVolumeClaim", "app-scratch"))
    c.delete("PersistentVolumeClaim", "app-scratch")
    c.delete("PersistentVolumeClaim", "shared")
    step(c)
    assert exists(c, "PersistentVolumeClaim", "app-scratch")
    c.delete("Pod", "app", grace_period_seconds=0)  # shut down, kept by its finalizer
    step(c)
    assert not exists(c, "PersistentVolumeClaim", "app-scratch")
    assert exists(c, "PersistentVolumeClaim", "shared")


def test_ephemeral_claim_of_another_pod_is_not_in_use(c):
    c.create(pod("app", ephemeral=["scratch"]))
    foreign = c.create(pvc("app-scratch"))  # same name, but not owned by the pod
    step(c)
    c.delete("PersistentVolumeClaim", "app-scratch")
    step(c)
    # The foreign claim is gone at once (the pod does not use it); the ephemeral-volume
    # controller then creates the pod's own claim under that name.
    if exists(c, "PersistentVolumeClaim", "app-scratch"):
        mine = c.get("PersistentVolumeClaim", "app-scratch")
        assert mine["metadata"]["uid"] != foreign["metadata"]["uid"]
        assert mine["metadata"]["ownerReferences"][0]["kind"] == "Pod"


@pytest.mark.parametrize("policy", ["Delete", "Retain"])
def test_bound_volume_deletion_waits_for_its_claim(c, policy):
    c.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
              "metadata": {"name": "sc"}, "provisioner": "csi.example.com",
              "reclaimPolicy": policy})
    c.create(pvc("data", "sc"))
    step(c)
    name = c.get("PersistentVolumeClaim", "data")["spec"]["volumeName"]
    c.volume("data")["/f"] = b"keep me"
    vid = volume_id(c.get("PersistentVolume", name))
    c.delete("PersistentVolume", name)
    step(c)
    v = c.get("PersistentVolume", name)
    assert v["metadata"]["deletionTimestamp"]
    assert PV_FINALIZER in v["metadata"]["finalizers"]
    assert v["status"]["phase"] == "Bound"
    assert c.get("PersistentVolumeClaim", "data")["status"]["phase"] == "Bound"
    assert c.volume("data")["/f"] == b"keep me"
    c.delete("PersistentVolumeClaim", "data")
    step(c)
    assert not exists(c, "PersistentVolume", name)
    assert vid not in c.ctx.volumes


def test_available_volume_is_deleted_at_once(c):
    c.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "free"},
              "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"},
                       "storageClassName": "manual",
                       "nfs": {"server": "nfs", "path": "/free"}}})
    step(c)
    assert c.get("PersistentVolume", "free")["status"]["phase"] == "Available"
    c.delete("PersistentVolume", "free")
    step(c)
    assert not exists(c, "PersistentVolume", "free")
