"""Dynamic provisioning by the built-in CSI external-provisioner (SPEC.md VOL-9, VOL-10;
DESIGN.md "Storage": topology of provisioned volumes, volume data lifetime).

The scheduler is stood in for by the test: for WaitForFirstConsumer it writes the claim's
``volume.kubernetes.io/selected-node`` annotation, as its VolumeBinding PreBind does.
"""

from __future__ import annotations

import fakekube
import pytest

from fakekube.controllers.persistentvolume import STORAGE_CONTROLLERS
from fakekube.controllers.persistentvolume.provisioner import volume_topology
from fakekube.kubelet.volumes import volume_id

NODES = [{"name": "n1", "zone": "a"}, {"name": "n2", "zone": "b"}, {"name": "bare"}]
EXTERNAL_PROVISIONING = (
    "Waiting for a volume to be created either by the external provisioner '{}' or manually "
    "by the system administrator. If volume creation is delayed, please verify that the "
    "provisioner is running and correctly registered.")


def make_cluster(nodes=0, **options) -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=nodes, **options)
    present = {type(x) for x in c.manager.controllers}
    for cls in STORAGE_CONTROLLERS:
        if cls not in present:
            c.manager.add(cls(c.ctx)).setup()
    return c


def storage_class(name: str, provisioner: str = "disk.csi.example.com", **fields) -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name}, "provisioner": provisioner, **fields}


def pvc(name: str, cls: str | None = "standard", size: str = "1Gi", modes=("ReadWriteOnce",),
        **spec) -> dict:
    s = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if cls is not None:
        s["storageClassName"] = cls
    s.update(spec)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": s}


def events(c, name: str, kind: str = "PersistentVolumeClaim") -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in c.events()
            if e["involvedObject"]["kind"] == kind and e["involvedObject"]["name"] == name]


def select_node(c, claim: str, node: str) -> None:
    c.patch("PersistentVolumeClaim", claim,
            {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": node}}})


def bound_volume(c, claim: str) -> dict:
    cl = c.get("PersistentVolumeClaim", claim)
    assert cl["status"]["phase"] == "Bound", cl["status"]
    return c.get("PersistentVolume", cl["spec"]["volumeName"])


@pytest.fixture
def c():
    return make_cluster(NODES)


def test_provisioned_volume_and_claim(c):
    c.create(storage_class("fast", parameters={"csi.storage.k8s.io/fstype": "xfs"},
                           mountOptions=["noatime"]))
    created = c.create(pvc("data", "fast", "1500Mi", modes=("ReadWriteOnce", "ReadOnlyMany")))
    uid = created["metadata"]["uid"]
    c.settle()
    cl = c.get("PersistentVolumeClaim", "data")
    v = bound_volume(c, "data")
    assert v["metadata"]["name"] == f"pvc-{uid}"
    assert v["metadata"]["annotations"] == {
        "pv.kubernetes.io/provisioned-by": "disk.csi.example.com"}
    assert v["metadata"]["finalizers"] == ["external-provisioner.volume.kubernetes.io/finalizer",
                                           "kubernetes.io/pv-protection"]
    spec = v["spec"]
    assert spec["persistentVolumeReclaimPolicy"] == "Delete"
    assert spec["capacity"] == {"storage": "1500Mi"}
    assert spec["accessModes"] == ["ReadWriteOnce", "ReadOnlyMany"]
    assert spec["volumeMode"] == "Filesystem" and spec["storageClassName"] == "fast"
    assert spec["mountOptions"] == ["noatime"]
    assert spec["csi"]["driver"] == "disk.csi.example.com"
    assert spec["csi"]["volumeHandle"] == uid
    assert spec["csi"]["fsType"] == "xfs"
    assert spec["csi"]["volumeAttributes"]["storage.kubernetes.io/csiProvisionerIdentity"] \
        .endswith("-disk.csi.example.com")
    assert spec["claimRef"]["uid"] == uid and spec["claimRef"]["name"] == "data"
    assert "nodeAffinity" not in spec
    assert cl["metadata"]["annotations"] == {
        "volume.kubernetes.io/storage-provisioner": "disk.csi.example.com",
        "volume.beta.kubernetes.io/storage-provisioner": "disk.csi.example.com",
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes"}
    assert cl["status"]["capacity"] == {"storage": "1500Mi"}
    assert events(c, "data") == [
        ("Normal", "ExternalProvisioning", EXTERNAL_PROVISIONING.format("disk.csi.example.com")),
        ("Normal", "Provisioning",
         'External provisioner is provisioning volume for claim "default/data"'),
        ("Normal", "ProvisioningSucceeded", f"Successfully provisioned volume pvc-{uid}")]
    assert volume_id(v) in c.ctx.volumes


@pytest.mark.parametrize("request_,capacity", [("1G", "1G"), ("1.5Gi", "1536Mi"),
                                                ("100M", "100M"), ("1500m", "2")])
def test_capacity_is_the_requested_bytes(c, request_, capacity):
    # The driver reports whole bytes (binary SI); the API server stores them canonically.
    c.create(pvc("data", size=request_))
    c.settle()
    assert bound_volume(c, "data")["spec"]["capacity"] == {"storage": capacity}
    assert c.get("PersistentVolumeClaim", "data")["status"]["capacity"] == {
        "storage": capacity}


def test_retain_class_volume_has_no_deletion_finalizer_and_is_kept(c):
    c.create(storage_class("keep", reclaimPolicy="Retain"))
    c.create(pvc("data", "keep"))
    c.settle()
    v = bound_volume(c, "data")
    assert v["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert v["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    c.volume("data")["/db"] = b"rows"
    c.delete("PersistentVolumeClaim", "data")
    c.settle()
    kept = c.get("PersistentVolume", v["metadata"]["name"])
    assert kept["status"]["phase"] == "Released"
    assert c.ctx.volumes.get(volume_id(kept))["/db"] == b"rows"
    c.delete("PersistentVolume", v["metadata"]["name"])
    c.settle()
    assert volume_id(kept) not in c.ctx.volumes  # the data goes with the PV


def test_block_claim(c):
    c.create(storage_class("blk", parameters={"csi.storage.k8s.io/fstype": "ext4"}))
    c.create(pvc("raw", "blk", volumeMode="Block"))
    c.settle()
    v = bound_volume(c, "raw")
    assert v["spec"]["volumeMode"] == "Block" and "fsType" not in v["spec"]["csi"]


def test_deletion_finalizer_follows_reclaim_policy(c):
    c.create(pvc("data"))
    c.settle()
    name = bound_volume(c, "data")["metadata"]["name"]
    c.patch("PersistentVolume", name, {"spec": {"persistentVolumeReclaimPolicy": "Retain"}})
    c.settle()
    assert c.get("PersistentVolume", name)["metadata"]["finalizers"] == [
        "kubernetes.io/pv-protection"]
    c.patch("PersistentVolume", name, {"spec": {"persistentVolumeReclaimPolicy": "Delete"}})
    c.settle()
    assert "external-provisioner.volume.kubernetes.io/finalizer" in c.get(
        "PersistentVolume", name)["metadata"]["finalizers"]


# -- topology -------------------------------------------------------------------------------


def _zone(z: str) -> dict:
    return {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [z]}]}]}}


def test_immediate_with_allowed_topologies_takes_first_zone(c):
    c.create(storage_class("zonal", allowedTopologies=[{"matchLabelExpressions": [
        {"key": "topology.kubernetes.io/zone", "values": ["b", "c"]}]}]))
    c.create(pvc("data", "zonal"))
    c.settle()
    assert bound_volume(c, "data")["spec"]["nodeAffinity"] == _zone("b")


@pytest.mark.parametrize("node,affinity", [("n2", _zone("b")), ("bare", None)])
def test_wait_for_first_consumer_takes_the_selected_nodes_zone(c, node, affinity):
    c.create(storage_class("late", volumeBindingMode="WaitForFirstConsumer"))
    c.create(pvc("data", "late"))
    c.settle()
    assert c.get("PersistentVolumeClaim", "data")["status"]["phase"] == "Pending"
    assert c.list("PersistentVolume")["items"] == []
    assert "volume.kubernetes.io/storage-provisioner" not in (
        c.get("PersistentVolumeClaim", "data")["metadata"].get("annotations") or {})
    select_node(c, "data", node)
    c.settle()
    assert bound_volume(c, "data")["spec"].get("nodeAffinity") == affinity


def test_node_local_volume_is_pinned_to_the_selected_node(c):
    c.create(storage_class("local", "local.csi.example.com",
                           volumeBindingMode="WaitForFirstConsumer",
                           parameters={"fakekube.io/topology": "node"}))
    c.create(pvc("data", "local"))
    c.settle()
    select_node(c, "data", "n1")
    c.settle()
    assert bound_volume(c, "data")["spec"]["nodeAffinity"] == {"required": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]}}


def test_node_local_parameter_on_immediate_class_fails(c):
    c.create(storage_class("bad-local", parameters={"fakekube.io/topology": "node"}))
    c.create(pvc("data", "bad-local"))
    c.settle()
    assert c.get("PersistentVolumeClaim", "data")["status"]["phase"] == "Pending"
    assert c.list("PersistentVolume")["items"] == []
    failed = [e for e in events(c, "data") if e[1] == "ProvisioningFailed"]
    assert failed == [("Warning", "ProvisioningFailed",
                       'failed to provision volume with StorageClass "bad-local": rpc error: '
                       "code = InvalidArgument desc = a node-local volume needs a selected "
                       'node: StorageClass "bad-local" must have volumeBindingMode '
                       "WaitForFirstConsumer")]


def test_volume_topology_function():
    sc = {"metadata": {"name": "s"}, "volumeBindingMode": "Immediate"}
    assert volume_topology(sc, None) is None
    node = {"metadata": {"name": "n9", "labels": {"topology.kubernetes.io/zone": "z"}}}
    wffc = dict(sc, volumeBindingMode="WaitForFirstConsumer")
    assert volume_topology(wffc, node) == _zone("z")


# -- failures -------------------------------------------------------------------------------


def test_unknown_class_stays_pending_until_the_class_exists(c):
    c.create(pvc("data", "nope"))
    c.settle()
    assert c.get("PersistentVolumeClaim", "data")["status"]["phase"] == "Pending"
    assert events(c, "data") == [
        ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "nope" not found')]
    c.create(storage_class("nope"))
    c.settle()
    assert bound_volume(c, "data")["spec"]["csi"]["driver"] == "disk.csi.example.com"


def test_no_provisioner_class(c):
    c.create(storage_class("manual", "kubernetes.io/no-provisioner"))
    c.create(pvc("data", "manual"))
    c.settle()
    assert c.get("PersistentVolumeClaim", "data")["status"]["phase"] == "Pending"
    assert events(c, "data") == [
        ("Warning", "ProvisioningFailed",
         "no volume plugin matched name: kubernetes.io/no-provisioner")]


def test_selected_node_that_does_not_exist_is_dropped(c):
    c.create(storage_class("late", volumeBindingMode="WaitForFirstConsumer"))
    c.create(pvc("data", "late"))
    select_node(c, "data", "ghost")
    c.settle()
    cl = c.get("PersistentVolumeClaim", "data")
    assert "volume.kubernetes.io/selected-node" not in cl["metadata"]["annotations"]
    assert ("Warning", "ProvisioningFailed", 'node "ghost" not found') in events(c, "data")
    assert c.list("PersistentVolume")["items"] == []


# -- data -----------------------------------------------------------------------------------


def test_volume_data_survives_claim_churn_while_the_volume_exists(c):
    c.create(storage_class("keep", reclaimPolicy="Retain"))
    c.create(pvc("data", "keep"))
    c.settle()
    c.volume("data")["/a"] = b"1"
    v = bound_volume(c, "data")
    c.delete("PersistentVolumeClaim", "data")
    c.settle()
    # An admin makes the released volume available again and a new claim takes it.
    c.patch("PersistentVolume", v["metadata"]["name"], {"spec": {"claimRef": None}})
    c.create(pvc("again", "keep", volumeName=v["metadata"]["name"]))
    c.settle()
    assert dict(c.volume("again")) == {"/a": b"1"}


def test_many_claims_get_distinct_volumes(c):
    for i in range(20):
        c.create(pvc(f"d{i}"))
    c.settle()
    names = {bound_volume(c, f"d{i}")["metadata"]["name"] for i in range(20)}
    assert len(names) == 20
    assert len(c.ctx.volumes) == 20
