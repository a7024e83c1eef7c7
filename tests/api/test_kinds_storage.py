"""Storage kinds: PV, PVC, StorageClass, VolumeAttachment (fakekube.api.kinds.storage).

Expected texts are upstream v1.31's (pkg/apis/core/validation/validation.go,
pkg/apis/storage/validation/validation.go and the defaulters)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakekube.api.kinds import storage
from fakekube.api.kinds.storage import STRATEGIES

GATES: dict[str, bool] = {}


def messages(errs):
    return [e.message() for e in errs]


def fields(errs):
    return [e.field for e in errs]


def pvc(**spec):
    obj = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": "data", "namespace": "default", "resourceVersion": "7"},
           "spec": {"accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                    "storageClassName": "standard"}}
    obj["spec"].update(spec)
    STRATEGIES["PersistentVolumeClaim"].default(obj)
    return obj


def pv(**spec):
    obj = {"apiVersion": "v1", "kind": "PersistentVolume",
           "metadata": {"name": "pv1", "resourceVersion": "7"},
           "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"},
                    "csi": {"driver": "csi.example.com", "volumeHandle": "vol-1"}}}
    obj["spec"].update(spec)
    STRATEGIES["PersistentVolume"].default(obj)
    return obj


def sc(**kw):
    obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
           "metadata": {"name": "standard", "resourceVersion": "2"},
           "provisioner": "csi.example.com"}
    obj.update(kw)
    STRATEGIES["StorageClass"].default(obj)
    return obj


def va(**spec):
    obj = {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
           "metadata": {"name": "csi-123", "resourceVersion": "2"},
           "spec": {"attacher": "csi.example.com", "nodeName": "n1",
                    "source": {"persistentVolumeName": "pv1"}}}
    obj["spec"].update(spec)
    return obj


# --------------------------------------------------------------------------------------------
# PersistentVolumeClaim


def test_pvc_defaults():
    obj = pvc()
    assert obj["spec"]["volumeMode"] == "Filesystem"
    assert obj["status"] == {"phase": "Pending"}


def test_pvc_defaults_round_resource_lists_to_milli():
    obj = pvc(resources={"requests": {"storage": "100u"}})
    assert obj["spec"]["resources"]["requests"]["storage"] == "1m"


def test_pvc_prepare_for_create_resets_status_to_pending():
    obj = pvc()
    obj["status"] = {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    STRATEGIES["PersistentVolumeClaim"].prepare_for_create(obj, GATES)
    assert obj["status"] == {"phase": "Pending"}


def test_valid_pvc():
    assert storage.validate_persistent_volume_claim(pvc(), GATES) == []


def test_pvc_access_modes_required_and_supported():
    assert messages(storage.validate_persistent_volume_claim(pvc(accessModes=[]), GATES)) == [
        "spec.accessModes: Required value: at least 1 access mode is required"]
    errs = storage.validate_persistent_volume_claim(pvc(accessModes=["ReadWriteSometimes"]), GATES)
    assert messages(errs) == [
        'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: '
        '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"']


def test_pvc_read_write_once_pod_exclusive():
    errs = storage.validate_persistent_volume_claim(
        pvc(accessModes=["ReadWriteOncePod", "ReadWriteOnce"]), GATES)
    assert messages(errs) == [
        "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"]


def test_pvc_storage_request_required_and_positive():
    assert messages(storage.validate_persistent_volume_claim(pvc(resources={}), GATES)) == [
        "spec.resources[storage]: Required value"]
    errs = storage.validate_persistent_volume_claim(pvc(resources={"requests": {"storage": "0"}}),
                                                    GATES)
    assert messages(errs) == ['spec.resources[storage]: Invalid value: "0": must be greater than zero']


def test_pvc_storage_class_name_and_volume_mode():
    errs = storage.validate_persistent_volume_claim(
        pvc(storageClassName="Fast_SSD", volumeMode="Raw"), GATES)
    assert fields(errs) == ["spec.storageClassName", "spec.volumeMode"]
    assert errs[1].body() == 'Unsupported value: "Raw": supported values: "Block", "Filesystem"'


def test_pvc_name_must_be_subdomain():
    obj = pvc()
    obj["metadata"]["name"] = "Data"
    assert fields(storage.validate_persistent_volume_claim(obj, GATES)) == ["metadata.name"]


def test_pvc_data_source_rules():
    obj = pvc(dataSource={"kind": "Secret", "name": "s"})
    errs = storage.validate_persistent_volume_claim(obj, GATES)
    assert messages(errs) == [
        'spec.dataSource: Invalid value: "Secret": must be \'PersistentVolumeClaim\' when '
        "referencing the default apiGroup"]
    errs = storage.validate_persistent_volume_claim(
        pvc(dataSource={"kind": "PersistentVolumeClaim", "name": "a"},
            dataSourceRef={"kind": "PersistentVolumeClaim", "name": "b"}), GATES)
    assert [(e.field, e.detail) for e in errs] == [("spec", "must match dataSourceRef")]


def test_pvc_create_drops_garbage_data_source_and_normalizes():
    obj = pvc(dataSource={"kind": "Secret", "name": "s"})
    STRATEGIES["PersistentVolumeClaim"].prepare_for_create(obj, GATES)
    assert "dataSource" not in obj["spec"] and "dataSourceRef" not in obj["spec"]
    obj = pvc(dataSource={"kind": "PersistentVolumeClaim", "name": "src"})
    STRATEGIES["PersistentVolumeClaim"].prepare_for_create(obj, GATES)
    assert obj["spec"]["dataSourceRef"] == {"kind": "PersistentVolumeClaim", "name": "src"}


def test_pvc_volume_attributes_class_dropped_when_gate_off():
    obj = pvc(volumeAttributesClassName="gold")
    STRATEGIES["PersistentVolumeClaim"].prepare_for_create(obj, GATES)
    assert "volumeAttributesClassName" not in obj["spec"]
    obj = pvc(volumeAttributesClassName="gold")
    STRATEGIES["PersistentVolumeClaim"].prepare_for_create(obj, {"VolumeAttributesClass": True})
    assert obj["spec"]["volumeAttributesClassName"] == "gold"


PVC_IMMUTABLE = ("spec is immutable after creation except resources.requests and "
                 "volumeAttributesClassName for bound claims")


def test_pvc_spec_immutable():
    old = pvc()
    new = copy.deepcopy(old)
    new["spec"]["accessModes"] = ["ReadWriteMany"]
    errs = storage.validate_persistent_volume_claim_update(new, old, GATES)
    assert [(e.reason, e.field) for e in errs] == [("FieldValueForbidden", "spec")]
    assert errs[0].detail.startswith(PVC_IMMUTABLE + "\n")
    assert errs[0].body().startswith("Forbidden: " + PVC_IMMUTABLE)


def test_pvc_volume_name_settable_once():
    old = pvc()
    new = copy.deepcopy(old)
    new["spec"]["volumeName"] = "pv1"
    assert storage.validate_persistent_volume_claim_update(new, old, GATES) == []
    again = copy.deepcopy(new)
    again["spec"]["volumeName"] = "pv2"
    assert fields(storage.validate_persistent_volume_claim_update(again, new, GATES)) == ["spec"]


def test_pvc_storage_class_settable_from_nil_once():
    old = pvc()
    del old["spec"]["storageClassName"]
    new = copy.deepcopy(old)
    new["spec"]["storageClassName"] = "standard"
    assert storage.validate_persistent_volume_claim_update(new, old, GATES) == []
    changed = copy.deepcopy(new)
    changed["spec"]["storageClassName"] = "other"
    assert fields(storage.validate_persistent_volume_claim_update(changed, new, GATES)) == ["spec"]
    emptied = copy.deepcopy(new)
    emptied["spec"]["storageClassName"] = ""
    assert fields(storage.validate_persistent_volume_claim_update(emptied, new, GATES)) == ["spec"]


def test_pvc_resize_only_when_bound():
    old = pvc()
    new = copy.deepcopy(old)
    new["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert fields(storage.validate_persistent_volume_claim_update(new, old, GATES)) == ["spec"]
    old["status"]["phase"] = "Bound"
    new["status"] = copy.deepcopy(old["status"])  # PrepareForUpdate keeps the old status
    assert storage.validate_persistent_volume_claim_update(new, old, GATES) == []


def test_pvc_shrink_forbidden():
    old = pvc()
    old["status"]["phase"] = "Bound"
    new = copy.deepcopy(old)
    new["spec"]["resources"]["requests"]["storage"] = "512Mi"
    assert messages(storage.validate_persistent_volume_claim_update(new, old, GATES)) == [
        "spec.resources.requests.storage: Forbidden: field can not be less than previous value"]


def test_pvc_update_validates_new_claim_twice():
    old = pvc()
    new = copy.deepcopy(old)
    new["spec"]["storageClassName"] = "Bad_Name"
    errs = storage.validate_persistent_volume_claim_update(new, old, GATES)
    assert fields(errs) == ["spec.storageClassName", "spec.storageClassName", "spec"]


def test_pvc_status_update():
    old = pvc()
    new = copy.deepcopy(old)
    new["status"] = {"phase": "Bound", "capacity": {"storage": "-1"}}
    assert messages(storage.validate_persistent_volume_claim_status_update(new, old, GATES)) == [
        "status.capacity[storage]: Invalid value: -1: must be a valid resource quantity"]
    del new["metadata"]["resourceVersion"]
    assert "resourceVersion: Required value" in messages(
        storage.validate_persistent_volume_claim_status_update(new, old, GATES))


def test_validate_claim_spec_at_other_paths():
    errs = storage.validate_persistent_volume_claim_spec(
        {"resources": {"requests": {"storage": "1Gi"}}}, "spec.volumeClaimTemplates[0].spec", GATES)
    assert messages(errs) == ["spec.volumeClaimTemplates[0].spec.accessModes: Required value: at "
                              "least 1 access mode is required"]


# --------------------------------------------------------------------------------------------
# PersistentVolume


def test_pv_defaults():
    obj = pv(hostPath=None)
    del obj["spec"]["hostPath"]
    assert obj["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert obj["spec"]["volumeMode"] == "Filesystem"
    assert obj["status"] == {"phase": "Pending"}
    host = pv(csi=None, hostPath={"path": "/data"})
    assert host["spec"]["hostPath"] == {"path": "/data", "type": ""}


def test_valid_pv():
    assert storage.validate_persistent_volume(pv(), GATES) == []


def test_pv_volume_type_required_and_exclusive():
    obj = pv()
    del obj["spec"]["csi"]
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec: Required value: must specify a volume type"]
    obj = pv(hostPath={"path": "/d", "type": ""})
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.csi: Forbidden: may not specify more than 1 volume type"]


def test_pv_capacity_rules():
    obj = pv(capacity={})
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.capacity: Required value",
        "spec.capacity: Unsupported value: {}: supported values: \"storage\""]
    obj = pv(capacity={"storage": "0"})
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        'spec.capacity[storage]: Invalid value: "0": must be greater than zero']


def test_pv_access_modes_and_reclaim_policy():
    obj = pv(accessModes=[], persistentVolumeReclaimPolicy="Keep")
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.accessModes: Required value",
        'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: '
        '"Delete", "Recycle", "Retain"']


def test_pv_local_requires_node_affinity_and_affinity_rules():
    obj = pv(csi=None, local={"path": "/mnt/disk"})
    del obj["spec"]["csi"]
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.nodeAffinity: Required value: Local volume requires node affinity"]
    obj["spec"]["nodeAffinity"] = {"required": {"nodeSelectorTerms": []}}
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one "
        "node selector term"]
    obj["spec"]["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In"}]}]}}
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values: Required "
        "value: must be specified when `operator` is 'In' or 'NotIn'"]
    obj["spec"]["nodeAffinity"] = {}
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.nodeAffinity.required: Required value: must specify required node constraints"]


def test_pv_source_specific_errors():
    obj = pv(csi=None, nfs={"server": "nfs", "path": "exports"})
    del obj["spec"]["csi"]
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        'spec.nfs.path: Invalid value: "exports": must be an absolute path']
    obj = pv(csi={"driver": "", "volumeHandle": ""})
    assert fields(storage.validate_persistent_volume(obj, GATES))[:2] == [
        "spec.csi.driver", "spec.csi.driver"]
    obj = pv(csi=None, hostPath={"path": "/a/../b", "type": "Dir"})
    del obj["spec"]["csi"]
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "spec.hostPath.path: Invalid value: \"/a/../b\": must not contain '..'",
        'spec.hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", '
        '"CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"']


def test_pv_source_immutable():
    old = pv()
    new = copy.deepcopy(old)
    new["spec"]["csi"]["volumeHandle"] = "vol-2"
    errs = storage.validate_persistent_volume_update(new, old, GATES)
    assert fields(errs) == ["spec.persistentvolumesource"]
    assert errs[0].detail.startswith("spec.persistentvolumesource is immutable after creation\n")


def test_pv_controller_expand_secret_may_be_added():
    old = pv()
    new = copy.deepcopy(old)
    new["spec"]["csi"]["controllerExpandSecretRef"] = {"name": "s", "namespace": "ns"}
    assert storage.validate_persistent_volume_update(new, old, GATES) == []


def test_pv_mutable_fields_and_node_affinity():
    old = pv(nodeAffinity={"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "failure-domain.beta.kubernetes.io/zone", "operator": "In", "values": ["a"]}]}]}})
    new = copy.deepcopy(old)
    new["spec"]["persistentVolumeReclaimPolicy"] = "Delete"
    new["spec"]["claimRef"] = {"name": "c", "namespace": "default"}
    new["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0][
        "key"] = "topology.kubernetes.io/zone"
    assert storage.validate_persistent_volume_update(new, old, GATES) == []
    moved = copy.deepcopy(new)
    moved["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0][
        "values"] = ["b"]
    errs = storage.validate_persistent_volume_update(moved, new, GATES)
    assert [(e.field, e.detail) for e in errs] == [
        ("nodeAffinity", "field is immutable, except for updating from beta label to GA")]


def test_pv_volume_mode_immutable_at_top_level_path():
    old = pv()
    new = copy.deepcopy(old)
    new["spec"]["volumeMode"] = "Block"
    assert messages(storage.validate_persistent_volume_update(new, old, GATES)) == [
        'volumeMode: Invalid value: "Block": field is immutable']


def test_pv_status_update_needs_resource_version():
    old = pv()
    new = copy.deepcopy(old)
    new["status"]["phase"] = "Available"
    assert storage.validate_persistent_volume_status_update(new, old, GATES) == []
    del new["metadata"]["resourceVersion"]
    assert "resourceVersion: Required value" in messages(
        storage.validate_persistent_volume_status_update(new, old, GATES))


def test_pv_prepare_for_create_and_phase_transition_time():
    obj = pv()
    obj["status"] = {"phase": "Bound"}
    STRATEGIES["PersistentVolume"].prepare_for_create(obj, GATES)
    assert obj["status"] == {"phase": "Pending"}
    storage.set_persistent_volume_phase_transition_time(obj, None, "2024-01-01T00:00:00Z")
    assert obj["status"]["lastPhaseTransitionTime"] == "2024-01-01T00:00:00Z"
    new = copy.deepcopy(obj)
    new["status"] = {"phase": "Available"}
    storage.set_persistent_volume_phase_transition_time(new, obj, "2024-01-01T00:01:00Z")
    assert new["status"]["lastPhaseTransitionTime"] == "2024-01-01T00:01:00Z"
    same = copy.deepcopy(new)
    del same["status"]["lastPhaseTransitionTime"]
    storage.set_persistent_volume_phase_transition_time(same, new, "2024-01-01T00:05:00Z")
    assert same["status"]["lastPhaseTransitionTime"] == "2024-01-01T00:01:00Z"


def test_pv_mount_options_annotation():
    obj = pv()
    obj["metadata"]["annotations"] = {"volume.beta.kubernetes.io/mount-options": "ro"}
    assert messages(storage.validate_persistent_volume(obj, GATES)) == [
        "metadata.annotations.volume.beta.kubernetes.io/mount-options: Forbidden: may not "
        "specify mount options for this volume type"]


# --------------------------------------------------------------------------------------------
# StorageClass


def test_storage_class_defaults():
    obj = sc()
    assert obj["reclaimPolicy"] == "Delete"
    assert obj["volumeBindingMode"] == "Immediate"
    wffc = sc(volumeBindingMode="WaitForFirstConsumer", reclaimPolicy="Retain")
    assert (wffc["reclaimPolicy"], wffc["volumeBindingMode"]) == ("Retain", "WaitForFirstConsumer")


def test_valid_storage_class():
    assert storage.validate_storage_class(sc(parameters={"type": "ssd"}), GATES) == []


def test_storage_class_rules():
    obj = sc(provisioner="", reclaimPolicy="Recycle", volumeBindingMode="Later",
             parameters={"": "x"})
    assert messages(storage.validate_storage_class(obj, GATES)) == [
        "provisioner: Required value",
        'parameters: Invalid value: "": field can not be empty.',
        'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
        'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", '
        '"WaitForFirstConsumer"',
    ]


def test_storage_class_provisioner_must_be_qualified_name():
    errs = storage.validate_storage_class(sc(provisioner="Bad Provisioner!"), GATES)
    assert fields(errs) == ["provisioner"]
    assert errs[0].value == "bad provisioner!"


def test_storage_class_update_forbidden_fields():
    old = sc(parameters={"type": "ssd"})
    new = sc(parameters={"type": "hdd"}, provisioner="other.example.com", reclaimPolicy="Retain",
             volumeBindingMode="WaitForFirstConsumer")
    assert messages(storage.validate_storage_class_update(new, old, GATES)) == [
        "parameters: Forbidden: updates to parameters are forbidden.",
        "provisioner: Forbidden: updates to provisioner are forbidden.",
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
        'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]
    labelled = copy.deepcopy(old)
    labelled["metadata"]["labels"] = {"a": "b"}
    labelled["allowVolumeExpansion"] = True
    assert storage.validate_storage_class_update(labelled, old, GATES) == []


def test_storage_class_allowed_topologies():
    obj = sc(allowedTopologies=[
        {"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["a", "a"]},
                                   {"key": "topology.kubernetes.io/zone", "values": []}]}])
    assert messages(storage.validate_storage_class(obj, GATES)) == [
        'allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: "a"',
        "allowedTopologies[0].matchLabelExpressions[1].values: Required value",
        'allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: '
        '"topology.kubernetes.io/zone"',
    ]


# --------------------------------------------------------------------------------------------
# VolumeAttachment


def test_valid_volume_attachment():
    assert storage.validate_volume_attachment(va(), GATES) == []


def test_volume_attachment_source_exactly_one():
    assert messages(storage.validate_volume_attachment(va(source={}), GATES)) == [
        "spec.source: Required value: must specify exactly one of inlineVolumeSpec and "
        "persistentVolumeName"]
    both = va(source={"persistentVolumeName": "pv1",
                      "inlineVolumeSpec": {"csi": {"driver": "d", "volumeHandle": "h"},
                                           "accessModes": ["ReadWriteOnce"]}})
    assert messages(storage.validate_volume_attachment(both, GATES)) == [
        "spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and "
        "persistentVolumeName"]


def test_volume_attachment_attacher_and_node():
    errs = storage.validate_volume_attachment(va(attacher="", nodeName="N_1"), GATES)
    assert fields(errs) == ["spec.attacher", "spec.nodeName", "spec.attacher", "spec.attacher"]


def test_volume_attachment_inline_spec_rules():
    obj = va(source={"inlineVolumeSpec": {"accessModes": ["ReadWriteOnce"],
                                          "capacity": {"storage": "1Gi"},
                                          "csi": {"driver": "d.example.com", "volumeHandle": "h"}}})
    assert messages(storage.validate_volume_attachment(obj, GATES)) == [
        "spec.source.inlineVolumeSpec.capacity: Forbidden: may not be specified in the context "
        "of inline volumes"]


def test_volume_attachment_spec_immutable():
    old = va()
    new = va(nodeName="n2")
    errs = storage.validate_volume_attachment_update(new, old, GATES)
    assert [(e.field, e.detail) for e in errs] == [("spec", "field is immutable")]
    status = copy.deepcopy(old)
    status["status"] = {"attached": True}
    assert STRATEGIES["VolumeAttachment"].validate_status_update(status, old, GATES) == []


# --------------------------------------------------------------------------------------------
# Properties


@given(st.sampled_from(["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]),
       st.integers(1, 2000))
def test_bound_claim_may_grow_never_shrink(mode, mib):
    old = pvc(accessModes=[mode])
    old["status"]["phase"] = "Bound"
    new = copy.deepcopy(old)
    new["spec"]["resources"]["requests"]["storage"] = f"{mib}Mi"
    errs = storage.validate_persistent_volume_claim_update(new, old, GATES)
    assert (errs == []) == (mib >= 1024)


@pytest.mark.parametrize("kind", ["PersistentVolume", "PersistentVolumeClaim", "StorageClass",
                                  "VolumeAttachment"])
def test_strategies_table(kind):
    assert kind in STRATEGIES
