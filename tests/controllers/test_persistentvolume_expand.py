"""Claim expansion: the PersistentVolumeClaimResize admission check, the CSI resizer and the
kubelet's online file-system resize (v1.31 defaults: RecoverVolumeExpansionFailure off).

The admission check is tested as a function and, installed on the API server as the lead
will install it, through the API.
"""

from __future__ import annotations

import hashlib

import fakekube
import pytest

from fakekube.controllers.persistentvolume import STORAGE_CONTROLLERS
from fakekube.controllers.persistentvolume.expand import (merge_resize_conditions,
                                                          persistent_volume_claim_resize)

FS_PENDING_MSG = ("Waiting for user to (re-)start a pod to finish file system resize of volume "
                  "on node.")
NOT_RESIZABLE = ("only dynamically provisioned pvc can be resized and the storageclass that "
                 "provisions the pvc must support resize")


def make_cluster(nodes=0, **options) -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=nodes, **options)
    present = {type(x) for x in c.manager.controllers}
    for cls in STORAGE_CONTROLLERS:
        if cls not in present:
            c.manager.add(cls(c.ctx)).setup()
    if persistent_volume_claim_resize not in c.api.admission:
        c.api.admission.append(persistent_volume_claim_resize)
    return c


def pvc(name: str, cls: str = "standard", size: str = "1Gi", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                     "resources": {"requests": {"storage": size}}, **spec}}


def grow(c, name: str, size: str) -> dict:
    return c.patch("PersistentVolumeClaim", name,
                   {"spec": {"resources": {"requests": {"storage": size}}}})


def events(c, name: str) -> list[tuple[str, str, str, str]]:
    return [(e["type"], e["reason"], e["message"], e["source"]["component"]) for e in c.events()
            if e["involvedObject"]["kind"] == "PersistentVolumeClaim"
            and e["involvedObject"]["name"] == name]


def conditions(claim: dict) -> list[tuple[str, str, str | None]]:
    return [(x["type"], x["status"], x.get("message"))
            for x in claim["status"].get("conditions") or ()]


@pytest.fixture
def c():
    return make_cluster()


# -- admission ------------------------------------------------------------------------------


def test_growing_needs_a_bound_claim(c):
    # Through the API, validation (which runs first upstream) already refuses a spec change
    # of an unbound claim; the plugin's own check is seen by calling it.
    c.create(pvc("data", cls="nope"))
    c.settle()
    rt = c.api.registry.by_kind("PersistentVolumeClaim")
    old = c.get("PersistentVolumeClaim", "data")
    bigger = dict(old, spec=dict(old["spec"], resources={"requests": {"storage": "2Gi"}}))
    with pytest.raises(fakekube.Forbidden) as exc:
        persistent_volume_claim_resize("UPDATE", rt, bigger, old, c.api)
    assert exc.value.message == ('persistentvolumeclaims "data" is forbidden: Only bound '
                                 "persistent volume claims can be expanded")
    with pytest.raises(fakekube.ApiError):
        grow(c, "data", "2Gi")


def test_growing_needs_a_class_that_allows_expansion(c):
    c.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
              "metadata": {"name": "fixed"}, "provisioner": "csi.example.com"})
    c.create(pvc("data", cls="fixed"))
    c.settle()
    with pytest.raises(fakekube.Forbidden) as exc:
        grow(c, "data", "2Gi")
    assert exc.value.code == 403
    assert exc.value.message == f'persistentvolumeclaims "data" is forbidden: {NOT_RESIZABLE}'


def test_admission_function_ignores_what_is_not_growth(c):
    c.create(pvc("data"))
    c.settle()
    rt = c.api.registry.by_kind("PersistentVolumeClaim")
    old = c.get("PersistentVolumeClaim", "data")
    same = dict(old, metadata=dict(old["metadata"], labels={"a": "b"}))
    persistent_volume_claim_resize("UPDATE", rt, same, old, c.api)
    persistent_volume_claim_resize("CREATE", rt, old, None, c.api)
    pending = dict(old, status={"phase": "Pending"})
    bigger = dict(old, spec=dict(old["spec"], resources={"requests": {"storage": "5Gi"}}))
    with pytest.raises(fakekube.Forbidden):
        persistent_volume_claim_resize("UPDATE", rt, bigger, pending, c.api)
    persistent_volume_claim_resize("UPDATE", rt, bigger, old, c.api)  # standard allows it


# -- the resize -----------------------------------------------------------------------------


def test_filesystem_resize_waits_for_a_pod(c):
    c.create(pvc("data"))
    c.settle()
    pv_name = c.get("PersistentVolumeClaim", "data")["spec"]["volumeName"]
    grow(c, "data", "3Gi")
    c.settle()
    assert c.get("PersistentVolume", pv_name)["spec"]["capacity"] == {"storage": "3Gi"}
    cl = c.get("PersistentVolumeClaim", "data")
    assert cl["status"]["capacity"] == {"storage": "1Gi"}
    assert conditions(cl) == [("FileSystemResizePending", "True", FS_PENDING_MSG)]
    assert "allocatedResources" not in cl["status"]
    assert events(c, "data")[-3:] == [
        ("Normal", "ExternalExpanding",
         "waiting for an external controller to expand this PVC", "volume_expand"),
        ("Normal", "Resizing", f"External resizer is resizing volume {pv_name}",
         "external-resizer csi.example.com"),
        ("Normal", "FileSystemResizeRequired", "Require file system resize of volume on node",
         "external-resizer csi.example.com")]


def test_block_volume_resize_completes_in_the_controller(c):
    c.create(pvc("raw", volumeMode="Block"))
    c.settle()
    grow(c, "raw", "2Gi")
    c.settle()
    cl = c.get("PersistentVolumeClaim", "raw")
    assert cl["status"]["capacity"] == {"storage": "2Gi"}
    assert "conditions" not in cl["status"]
    assert events(c, "raw")[-1] == ("Normal", "VolumeResizeSuccessful",
                                    "Resize volume succeeded",
                                    "external-resizer csi.example.com")


def test_online_resize_finishes_on_the_node_running_the_pod():
    c = make_cluster(nodes=[{"name": "n1"}])
    c.create(pvc("data"))
    c.settle()
    cl = c.get("PersistentVolumeClaim", "data")
    pv = c.get("PersistentVolume", cl["spec"]["volumeName"])
    csi = pv["spec"]["csi"]
    va_name = "csi-" + hashlib.sha256(
        f"{csi['volumeHandle']}{csi['driver']}n1".encode()).hexdigest()
    try:
        c.get("VolumeAttachment", va_name)
    except fakekube.NotFound:  # no attach/detach controller: attach it ourselves
        c.create({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                  "metadata": {"name": va_name},
                  "spec": {"attacher": csi["driver"], "nodeName": "n1",
                           "source": {"persistentVolumeName": pv["metadata"]["name"]}}})
        c.patch("VolumeAttachment", va_name, {"status": {"attached": True}},
                subresource="status")
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db"},
              "spec": {"nodeName": "n1", "containers": [{"name": "db", "image": "postgres"}],
                       "volumes": [{"name": "d", "persistentVolumeClaim": {
                           "claimName": "data"}}]}})
    c.settle()
    assert c.get("Pod", "db")["status"]["phase"] == "Running"
    grow(c, "data", "4Gi")
    c.settle()
    cl = c.get("PersistentVolumeClaim", "data")
    assert cl["status"]["capacity"] == {"storage": "4Gi"}
    assert "conditions" not in cl["status"]
    assert events(c, "data")[-1] == (
        "Normal", "FileSystemResizeSuccessful",
        f'MountVolume.NodeExpandVolume succeeded for volume "{pv["metadata"]["name"]}" n1',
        "kubelet")


def test_pending_file_system_resize_finishes_when_a_pod_starts():
    c = make_cluster(nodes=[{"name": "n1"}])
    c.create(pvc("data"))
    c.settle()
    grow(c, "data", "2Gi")
    c.settle()
    cl = c.get("PersistentVolumeClaim", "data")
    assert conditions(cl)[0][0] == "FileSystemResizePending"
    pv = c.get("PersistentVolume", cl["spec"]["volumeName"])
    csi = pv["spec"]["csi"]
    va_name = "csi-" + hashlib.sha256(
        f"{csi['volumeHandle']}{csi['driver']}n1".encode()).hexdigest()
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db"},
              "spec": {"nodeName": "n1", "containers": [{"name": "db", "image": "postgres"}],
                       "volumes": [{"name": "d", "persistentVolumeClaim": {
                           "claimName": "data"}}]}})
    c.settle()
    try:
        c.get("VolumeAttachment", va_name)
    except fakekube.NotFound:
        c.create({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                  "metadata": {"name": va_name},
                  "spec": {"attacher": csi["driver"], "nodeName": "n1",
                           "source": {"persistentVolumeName": pv["metadata"]["name"]}}})
        c.patch("VolumeAttachment", va_name, {"status": {"attached": True}},
                subresource="status")
        c.settle()
    assert c.get("Pod", "db")["status"]["phase"] == "Running"
    cl = c.get("PersistentVolumeClaim", "data")
    assert cl["status"]["capacity"] == {"storage": "2Gi"}
    assert "conditions" not in cl["status"]


def test_shrinking_is_refused_by_validation(c):
    c.create(pvc("data", size="2Gi"))
    c.settle()
    with pytest.raises(fakekube.Invalid):
        grow(c, "data", "1Gi")


def test_merge_resize_conditions_keeps_other_conditions_and_unchanged_times():
    other = {"type": "ModifyVolume", "status": "True"}
    old_resizing = {"type": "Resizing", "status": "True", "lastTransitionTime": "t0"}
    new_resizing = {"type": "Resizing", "status": "True", "lastTransitionTime": "t1"}
    pending = {"type": "FileSystemResizePending", "status": "True"}
    assert merge_resize_conditions([other, old_resizing], [new_resizing]) == [other,
                                                                              old_resizing]
    assert merge_resize_conditions([other, old_resizing], [pending]) == [other, pending]
    assert merge_resize_conditions([old_resizing], []) == []
