"""PersistentVolume controller (SPEC.md VOL-1 .. VOL-8, VOL-14): static binding and its
matching rules, the binding writes, phases, lost and misbound claims, default classes,
WaitForFirstConsumer, and reclaim.

Dynamic provisioning has its own file (test_provisioning.py), as do the protection
controllers (test_volume_protection.py), expansion (test_persistentvolume_expand.py) and the
property tests (test_persistentvolume_properties.py).
"""

from __future__ import annotations

import fakekube
import pytest

from fakekube.controllers.persistentvolume import STORAGE_CONTROLLERS, find_matching_volume
from fakekube.controllers.persistentvolume.index import (access_modes_key, check_node_affinity,
                                                         check_volume_satisfy_claim)

RWO, ROX, RWX = "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"


def make_cluster(nodes=0, **options) -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=nodes, **options)
    present = {type(x) for x in c.manager.controllers}
    for cls in STORAGE_CONTROLLERS:
        if cls not in present:
            c.manager.add(cls(c.ctx)).setup()
    return c


def pv(name: str, size: str = "1Gi", modes=(RWO,), cls: str | None = "manual",
       labels: dict | None = None, **spec) -> dict:
    s = {"accessModes": list(modes), "capacity": {"storage": size},
         "nfs": {"server": "nfs.example.com", "path": f"/exports/{name}"}}
    if cls is not None:
        s["storageClassName"] = cls
    s.update(spec)
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta, "spec": s}


def pvc(name: str, size: str = "1Gi", modes=(RWO,), cls: str | None = "manual",
        annotations: dict | None = None, **spec) -> dict:
    s = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if cls is not None:
        s["storageClassName"] = cls
    s.update(spec)
    meta: dict = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": s}


def storage_class(name: str, provisioner: str = "csi.example.com", **fields) -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name}, "provisioner": provisioner, **fields}


def events(c: fakekube.Cluster, kind: str, name: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e["message"]) for e in c.events()
            if e["involvedObject"]["kind"] == kind and e["involvedObject"]["name"] == name]


def claim(c, name):
    return c.get("PersistentVolumeClaim", name)


def volume(c, name):
    return c.get("PersistentVolume", name)


def phase(obj) -> str:
    return obj["status"]["phase"]


@pytest.fixture
def c():
    return make_cluster()


# -- VOL-1 defaults -------------------------------------------------------------------------


def test_manual_volume_defaults_to_retain_and_becomes_available(c):
    created = c.create(pv("pv1"))
    assert created["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert created["spec"]["volumeMode"] == "Filesystem"
    assert phase(created) == "Pending"
    c.settle()
    assert phase(volume(c, "pv1")) == "Available"
    sc = c.create(storage_class("plain"))
    assert sc["reclaimPolicy"] == "Delete" and sc["volumeBindingMode"] == "Immediate"


# -- VOL-4 matching, VOL-8 binding writes ---------------------------------------------------


def test_smallest_matching_volume_wins_and_binding_writes(c):
    for name, size in (("big", "5Gi"), ("small", "1Gi"), ("mid", "2Gi"), ("mid2", "3Gi")):
        c.create(pv(name, size))
    c.create(pvc("data", "1500Mi"))
    c.settle()
    cl, v = claim(c, "data"), volume(c, "mid")
    assert cl["spec"]["volumeName"] == "mid"
    ref = v["spec"]["claimRef"]
    assert ref == {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data",
                   "uid": cl["metadata"]["uid"], "apiVersion": "v1",
                   "resourceVersion": ref["resourceVersion"]}
    assert int(ref["resourceVersion"]) > 0
    assert v["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "yes"}
    assert cl["metadata"]["annotations"] == {"pv.kubernetes.io/bind-completed": "yes",
                                             "pv.kubernetes.io/bound-by-controller": "yes"}
    assert cl["status"] == {"phase": "Bound", "accessModes": [RWO],
                            "capacity": {"storage": "2Gi"}}
    assert phase(v) == "Bound"
    for other in ("big", "small", "mid2"):
        assert phase(volume(c, other)) == "Available"
        assert "claimRef" not in volume(c, other)["spec"]


def test_class_must_match_and_empty_matches_only_empty(c):
    c.create(pv("classless", "1Gi", cls=""))
    c.create(pv("manual", "1Gi", cls="manual"))
    c.create(pvc("wants-empty", "1Gi", cls=""))
    c.create(pvc("wants-manual", "1Gi", cls="manual"))
    c.settle()
    assert claim(c, "wants-empty")["spec"]["volumeName"] == "classless"
    assert claim(c, "wants-manual")["spec"]["volumeName"] == "manual"
    c.create(pvc("left-out", "1Gi", cls=""))
    c.settle()
    assert phase(claim(c, "left-out")) == "Pending"
    assert events(c, "PersistentVolumeClaim", "left-out") == [
        ("Normal", "FailedBinding",
         "no persistent volumes available for this claim and no storage class is set")]


def test_access_modes_superset_with_fewest_modes_preferred(c):
    c.create(pv("rwx-small", "1Gi", modes=(RWO, ROX, RWX)))
    c.create(pv("rwo-rox-big", "5Gi", modes=(ROX, RWO)))
    c.create(pvc("one", "1Gi", modes=(RWO,)))
    c.settle()
    # The smallest access-mode set that contains RWO is searched first, before capacity.
    assert claim(c, "one")["spec"]["volumeName"] == "rwo-rox-big"
    c.create(pvc("many", "1Gi", modes=(RWX,)))
    c.settle()
    assert claim(c, "many")["spec"]["volumeName"] == "rwx-small"
    assert claim(c, "many")["status"]["accessModes"] == [RWO, ROX, RWX]


def test_access_mode_not_offered_does_not_bind(c):
    c.create(pv("rwo", "1Gi", modes=(RWO,)))
    c.create(pvc("wants-rwx", "1Gi", modes=(RWX,)))
    c.settle()
    assert phase(claim(c, "wants-rwx")) == "Pending"
    assert "claimRef" not in volume(c, "rwo")["spec"]


def test_label_selector_restricts_candidates(c):
    c.create(pv("fast-small", "1Gi", labels={"tier": "slow"}))
    c.create(pv("fast-big", "10Gi", labels={"tier": "fast"}))
    c.create(pvc("sel", "1Gi", selector={"matchLabels": {"tier": "fast"}}))
    c.settle()
    assert claim(c, "sel")["spec"]["volumeName"] == "fast-big"


def test_volume_mode_must_match(c):
    c.create(pv("block", "1Gi", volumeMode="Block"))
    c.create(pvc("fs", "1Gi"))
    c.create(pvc("blk", "1Gi", volumeMode="Block"))
    c.settle()
    assert phase(claim(c, "fs")) == "Pending"
    assert claim(c, "blk")["spec"]["volumeName"] == "block"


def test_volume_too_small_or_being_deleted_is_skipped(c):
    held = pv("held", "10Gi")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    c.create(held)
    c.create(pv("tiny", "1Gi"))
    c.settle()
    c.delete("PersistentVolume", "held")
    c.create(pvc("data", "2Gi"))
    c.settle()
    assert phase(claim(c, "data")) == "Pending"
    assert volume(c, "held")["metadata"]["deletionTimestamp"]


# -- VOL-7 pre-binding by the claim ---------------------------------------------------------


def test_claim_prebound_by_volume_name(c):
    c.create(pv("wanted", "5Gi"))
    c.create(pv("smaller", "1Gi"))
    c.create(pvc("data", "1Gi", volumeName="wanted"))
    c.settle()
    cl, v = claim(c, "data"), volume(c, "wanted")
    assert phase(cl) == "Bound" and phase(v) == "Bound"
    # The user chose the volume: the claim is not marked bound-by-controller; the volume is
    # (the controller wrote its claimRef).
    assert cl["metadata"]["annotations"] == {"pv.kubernetes.io/bind-completed": "yes"}
    assert v["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "yes"}
    assert cl["status"]["capacity"] == {"storage": "5Gi"}


def test_prebound_claim_waits_for_missing_volume(c):
    c.create(pvc("data", "1Gi", volumeName="later"))
    c.settle()
    assert phase(claim(c, "data")) == "Pending"
    assert events(c, "PersistentVolumeClaim", "data") == []
    c.create(pv("later", "1Gi"))
    c.settle()
    assert phase(claim(c, "data")) == "Bound"


@pytest.mark.parametrize("volume_kw,claim_kw,reason", [
    ({"size": "1Gi"}, {"size": "2Gi"}, "requested PV is too small"),
    ({"cls": "gold"}, {}, "storageClassName does not match"),
    ({"volumeMode": "Block"}, {}, "incompatible volumeMode"),
    ({"modes": (RWO,)}, {"modes": (RWX,)}, "incompatible accessMode"),
])
def test_prebound_claim_volume_mismatch(c, volume_kw, claim_kw, reason):
    c.create(pv("wanted", **volume_kw))
    c.create(pvc("data", volumeName="wanted", **claim_kw))
    c.settle()
    assert phase(claim(c, "data")) == "Pending"
    assert ("Warning", "VolumeMismatch",
            f'Cannot bind to requested volume "wanted": {reason}') in events(
        c, "PersistentVolumeClaim", "data")
    assert "claimRef" not in volume(c, "wanted")["spec"]


def test_prebound_claim_volume_marked_for_deletion(c):
    held = pv("wanted")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    c.create(held)
    c.settle()
    c.delete("PersistentVolume", "wanted")
    c.create(pvc("data", volumeName="wanted"))
    c.settle()
    assert events(c, "PersistentVolumeClaim", "data") == [
        ("Warning", "VolumeMismatch", 'Cannot bind to requested volume "wanted": the volume '
                                      'is marked for deletion "wanted"')]


def test_prebound_claim_volume_bound_elsewhere(c):
    c.create(pv("shared"))
    c.create(pvc("first"))
    c.settle()
    assert claim(c, "first")["spec"]["volumeName"] == "shared"
    c.create(pvc("second", volumeName="shared"))
    c.settle()
    assert phase(claim(c, "second")) == "Pending"
    assert events(c, "PersistentVolumeClaim", "second") == [
        ("Warning", "FailedBinding", 'volume "shared" already bound to a different claim.')]


# -- pre-binding by the volume --------------------------------------------------------------


def test_volume_prebound_by_claim_ref_wins_regardless_of_class(c):
    reserved = pv("reserved", "3Gi", cls="manual",
                  claimRef={"namespace": "default", "name": "data"})
    c.create(reserved)
    c.create(pv("other", "1Gi", cls="manual"))
    c.settle()
    assert phase(volume(c, "reserved")) == "Available"
    c.create(pvc("data", "1Gi", cls="standard"))
    c.settle()
    cl, v = claim(c, "data"), volume(c, "reserved")
    assert cl["spec"]["volumeName"] == "reserved"
    assert v["spec"]["claimRef"]["uid"] == cl["metadata"]["uid"]
    # The user chose the pairing: no bound-by-controller on the volume; the claim has it
    # because the controller set its volumeName.
    assert "annotations" not in v["metadata"]
    assert cl["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert c.list("PersistentVolume")["items"].__len__() == 2  # nothing was provisioned


def test_prebound_volume_with_other_volume_mode_reports_mismatch(c):
    created = c.create(pvc("data", "1Gi", volumeMode="Block", cls="nothing"))
    c.create(pv("fs", "1Gi", claimRef={"namespace": "default", "name": "data",
                                       "uid": created["metadata"]["uid"]}))
    c.settle()
    assert ("Warning", "VolumeMismatch",
            'Cannot bind PersistentVolume to requested PersistentVolumeClaim "data" due to '
            "incompatible volumeMode.") in events(c, "PersistentVolume", "fs")
    assert ("Warning", "VolumeMismatch",
            'Cannot bind PersistentVolume "fs" to requested PersistentVolumeClaim due to '
            "incompatible volumeMode.") in events(c, "PersistentVolumeClaim", "data")
    assert phase(claim(c, "data")) == "Pending"


def test_controller_binding_rolled_back_when_claim_bound_elsewhere(c):
    c.create(pv("chosen"))
    created = c.create(pvc("data", volumeName="chosen"))
    c.create(pv("stale", claimRef={"namespace": "default", "name": "data",
                                   "uid": created["metadata"]["uid"]}))
    c.patch("PersistentVolume", "stale",
            {"metadata": {"annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}}})
    c.settle()
    assert claim(c, "data")["spec"]["volumeName"] == "chosen"
    stale = volume(c, "stale")
    assert "claimRef" not in stale["spec"]
    assert "annotations" not in stale["metadata"]
    assert phase(stale) == "Available"


def test_user_prebinding_keeps_name_but_loses_uid_when_claim_bound_elsewhere(c):
    c.create(pv("chosen"))
    created = c.create(pvc("data", volumeName="chosen"))
    c.create(pv("reserved", claimRef={"namespace": "default", "name": "data",
                                      "uid": created["metadata"]["uid"]}))
    c.settle()
    ref = volume(c, "reserved")["spec"]["claimRef"]
    assert ref["name"] == "data" and "uid" not in ref
    assert phase(volume(c, "reserved")) == "Available"


# -- VOL-2 / VOL-3 phases -------------------------------------------------------------------


def test_retain_volume_is_released_with_old_claim_ref_and_not_rebound(c):
    c.create(pv("keep"))
    uid = c.create(pvc("data"))["metadata"]["uid"]
    c.settle()
    c.delete("PersistentVolumeClaim", "data")
    c.settle()
    v = volume(c, "keep")
    assert phase(v) == "Released"
    assert v["spec"]["claimRef"]["uid"] == uid and v["spec"]["claimRef"]["name"] == "data"
    c.create(pvc("data"))  # same name, new UID
    c.settle()
    assert phase(claim(c, "data")) == "Pending"
    assert phase(volume(c, "keep")) == "Released"
    # An admin clears the claimRef: the volume is Available and binds.
    c.patch("PersistentVolume", "keep", {"spec": {"claimRef": None}})
    c.settle()
    assert claim(c, "data")["spec"]["volumeName"] == "keep"


def _force_delete_volume(c, name):
    c.patch("PersistentVolume", name, {"metadata": {"finalizers": None}})
    c.delete("PersistentVolume", name)


def test_claim_lost_when_volume_disappears(c):
    c.create(pv("gone"))
    c.create(pvc("data"))
    c.settle()
    _force_delete_volume(c, "gone")
    c.settle()
    cl = claim(c, "data")
    assert cl["status"] == {"phase": "Lost"}
    assert events(c, "PersistentVolumeClaim", "data")[-1] == (
        "Warning", "ClaimLost",
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!")


def test_claim_lost_reference(c):
    c.create(pvc("data", annotations={"pv.kubernetes.io/bind-completed": "yes"}))
    c.settle()
    assert phase(claim(c, "data")) == "Lost"
    assert events(c, "PersistentVolumeClaim", "data") == [
        ("Warning", "ClaimLost",
         "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")]


def test_claim_misbound(c):
    c.create(pv("shared"))
    c.create(pvc("owner"))
    c.settle()
    c.create(pvc("intruder", volumeName="shared",
                 annotations={"pv.kubernetes.io/bind-completed": "yes"}))
    c.settle()
    assert phase(claim(c, "intruder")) == "Lost"
    assert events(c, "PersistentVolumeClaim", "intruder") == [
        ("Warning", "ClaimMisbound",
         "Two claims are bound to the same volume, this one is bound incorrectly")]
    assert phase(claim(c, "owner")) == "Bound"


def test_volume_claim_ref_to_recreated_claim_is_released(c):
    c.create(pv("keep"))
    c.create(pvc("data"))
    c.settle()
    c.patch("PersistentVolumeClaim", "data", {"metadata": {"finalizers": None}})
    c.delete("PersistentVolumeClaim", "data")
    c.create(pvc("data", cls="elsewhere"))  # before the controller saw the deletion
    c.settle()
    assert phase(volume(c, "keep")) == "Released"
    assert phase(claim(c, "data")) == "Pending"


# -- VOL-6 default class --------------------------------------------------------------------


def test_default_class_assigned_retroactively(c):
    c.patch("StorageClass", "standard", {"metadata": {"annotations": {
        "storageclass.kubernetes.io/is-default-class": "false"}}})
    c.create(pvc("data", cls=None))
    c.settle()
    cl = claim(c, "data")
    assert "storageClassName" not in cl["spec"] and phase(cl) == "Pending"
    assert events(c, "PersistentVolumeClaim", "data") == [
        ("Normal", "FailedBinding",
         "no persistent volumes available for this claim and no storage class is set")]
    c.create(storage_class("fast", "fast.csi.example.com", metadata={
        "name": "fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}))
    c.settle()
    cl = claim(c, "data")
    assert cl["spec"]["storageClassName"] == "fast"
    assert phase(cl) == "Bound"
    assert volume(c, cl["spec"]["volumeName"])["spec"]["csi"]["driver"] == \
        "fast.csi.example.com"


def test_explicit_empty_class_is_not_defaulted(c):
    c.create(pvc("data", cls=""))
    c.settle()
    assert claim(c, "data")["spec"]["storageClassName"] == ""
    assert phase(claim(c, "data")) == "Pending"


# -- VOL-5 WaitForFirstConsumer -------------------------------------------------------------


def _pod(name: str, claims: list[str], node: str | None = None) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": "busybox"}],
                  "volumes": [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": n}}
                              for i, n in enumerate(claims)]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def test_wait_for_first_consumer_events_and_no_static_binding(c):
    c.create(storage_class("late", volumeBindingMode="WaitForFirstConsumer"))
    c.create(pv("static", cls="late"))
    c.create(pvc("data", cls="late"))
    c.settle()
    assert phase(claim(c, "data")) == "Pending"
    assert "claimRef" not in volume(c, "static")["spec"]
    assert events(c, "PersistentVolumeClaim", "data") == [
        ("Normal", "WaitForFirstConsumer",
         "waiting for first consumer to be created before binding")]
    c.create(_pod("web-0", ["data"]))
    c.settle()
    assert events(c, "PersistentVolumeClaim", "data")[-1] == (
        "Normal", "WaitForPodScheduled", "waiting for pod web-0 to be scheduled")
    c.create(_pod("web-1", ["data"]))
    c.settle()
    assert events(c, "PersistentVolumeClaim", "data")[-1] == (
        "Normal", "WaitForPodScheduled", "waiting for pods web-0,web-1 to be scheduled")
    assert not any(e[1] in ("ExternalProvisioning", "Provisioning")
                   for e in events(c, "PersistentVolumeClaim", "data"))


def test_wait_for_first_consumer_binds_volume_the_scheduler_prebound(c):
    c.create(storage_class("late", volumeBindingMode="WaitForFirstConsumer"))
    c.create(pv("static", cls="late"))
    created = c.create(pvc("data", cls="late"))
    c.settle()
    # What the scheduler's VolumeBinding PreBind writes for a static volume.
    c.patch("PersistentVolume", "static", {
        "metadata": {"annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}},
        "spec": {"claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1",
                              "namespace": "default", "name": "data",
                              "uid": created["metadata"]["uid"]}}})
    c.settle()
    assert claim(c, "data")["spec"]["volumeName"] == "static"
    assert phase(claim(c, "data")) == "Bound"
    assert phase(volume(c, "static")) == "Bound"


# -- VOL-14 reclaim -------------------------------------------------------------------------


def test_dynamically_provisioned_delete_volume_is_deleted_with_its_data(c):
    c.create(pvc("data", cls="standard"))
    c.settle()
    name = claim(c, "data")["spec"]["volumeName"]
    c.volume("data")["/f"] = b"x"
    assert len(c.ctx.volumes) == 1
    c.delete("PersistentVolumeClaim", "data")
    c.settle()
    assert c.list("PersistentVolume")["items"] == []
    assert len(c.ctx.volumes) == 0
    with pytest.raises(fakekube.NotFound):
        volume(c, name)


def test_recycle_is_unsupported(c):
    c.create(pv("old", persistentVolumeReclaimPolicy="Recycle"))
    c.create(pvc("data"))
    c.settle()
    c.delete("PersistentVolumeClaim", "data")
    c.settle()
    assert phase(volume(c, "old")) == "Failed"
    assert events(c, "PersistentVolume", "old") == [
        ("Warning", "VolumeFailedRecycle", "No recycler plugin found for the volume!")]


def test_static_delete_without_deleter_fails(c):
    c.create(pv("nfs", persistentVolumeReclaimPolicy="Delete"))
    c.create(pvc("data"))
    c.settle()
    c.delete("PersistentVolumeClaim", "data")
    c.settle()
    v = volume(c, "nfs")
    assert phase(v) == "Failed"
    assert v["status"]["message"] == ('error getting deleter volume plugin for volume "nfs": '
                                      "no deletable volume plugin matched")
    assert events(c, "PersistentVolume", "nfs") == [
        ("Warning", "VolumeFailedDelete", v["status"]["message"])]


@pytest.mark.parametrize("path,deleted", [("/tmp/scratch", True), ("/data/x", False)])
def test_host_path_delete(c, path, deleted):
    hp = pv("hp", persistentVolumeReclaimPolicy="Delete", hostPath={"path": path})
    del hp["spec"]["nfs"]
    c.create(hp)
    c.create(pvc("data"))
    c.settle()
    c.volume("data")["/f"] = b"x"
    c.delete("PersistentVolumeClaim", "data")
    c.settle()
    if deleted:
        assert c.list("PersistentVolume")["items"] == []
        assert len(c.ctx.volumes) == 0
    else:
        assert phase(volume(c, "hp")) == "Failed"
        assert events(c, "PersistentVolume", "hp")[-1] == (
            "Warning", "VolumeFailedDelete",
            f"host_path deleter only supports /tmp/.+ but received provided {path}")


def test_provisioned_volume_released_when_claim_bound_elsewhere(c):
    c.create(pv("static", cls="standard"))
    created = c.create(pvc("data", cls="standard", volumeName="static"))
    # A volume provisioned for the claim before it got bound to another one.
    orphan = pv("pvc-orphan", cls="standard", persistentVolumeReclaimPolicy="Delete",
                claimRef={"namespace": "default", "name": "data",
                          "uid": created["metadata"]["uid"]},
                csi={"driver": "csi.example.com", "volumeHandle": "orphan"})
    del orphan["spec"]["nfs"]
    orphan["metadata"]["annotations"] = {"pv.kubernetes.io/provisioned-by": "csi.example.com"}
    c.create(orphan)
    c.settle()
    assert claim(c, "data")["spec"]["volumeName"] == "static"
    assert [v["metadata"]["name"] for v in c.list("PersistentVolume")["items"]] == ["static"]


# -- matching functions ---------------------------------------------------------------------


def _stored(obj: dict, phase_: str = "Available", uid: str = "") -> dict:
    obj = {**obj, "status": {"phase": phase_}}
    obj["metadata"] = {**obj["metadata"], "namespace": obj["metadata"].get("namespace",
                                                                           "default")}
    if uid:
        obj["metadata"]["uid"] = uid
    return obj


def test_find_matching_volume_scheduler_path_checks_node_affinity_and_modes():
    zone_a = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}]}]}}
    vols = [_stored(pv("in-a", "1Gi", nodeAffinity=zone_a)),
            _stored(pv("anywhere", "2Gi")),
            _stored(pv("rwx", "1Gi", modes=(RWX,)))]
    want = _stored(pvc("c", "1Gi"), "Pending", uid="u1")
    node_a = {"topology.kubernetes.io/zone": "a"}
    node_b = {"topology.kubernetes.io/zone": "b"}
    assert find_matching_volume(want, vols, node_a)["metadata"]["name"] == "in-a"
    assert find_matching_volume(want, vols, node_b)["metadata"]["name"] == "anywhere"
    assert find_matching_volume(want, vols, node_b, excluded=["anywhere"]) is None
    assert find_matching_volume(want, vols, None, delay_binding=True) is None
    prebound = _stored(pv("mine", "1Gi", nodeAffinity=zone_a,
                          claimRef={"namespace": "default", "name": "c"}))
    assert find_matching_volume(want, [*vols, prebound], node_b) is None
    assert find_matching_volume(want, [*vols, prebound], node_a) is prebound
    assert check_node_affinity(prebound, node_a) and not check_node_affinity(prebound, {})


def test_check_volume_satisfy_claim_order_and_access_mode_key():
    v = _stored(pv("v", "1Gi", modes=(RWX, RWO)))
    assert check_volume_satisfy_claim(v, _stored(pvc("c", "1Gi"))) is None
    assert check_volume_satisfy_claim(v, _stored(pvc("c", "2Gi", cls="x"))) == \
        "requested PV is too small"
    assert access_modes_key([RWX, RWO, "ReadWriteOncePod"]) == "RWO,RWX,RWOP"
