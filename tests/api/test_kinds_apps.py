"""apps/v1 kinds: defaulting, strategy hooks and validation messages (fakekube.api.kinds.apps).

Expected texts are upstream v1.31's (pkg/apis/apps/validation/validation.go, defaults.go and
the registry strategies)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakekube.api.kinds import apps
from fakekube.api.kinds.apps import STRATEGIES

GATES: dict[str, bool] = {}


def messages(errs):
    return [e.message() for e in errs]


def by_field(errs, field):
    return [e for e in errs if e.field == field]


def sts(**spec_overrides):
    obj = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "5",
                     "generation": 1},
        "spec": {
            "serviceName": "nginx",
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}},
            "volumeClaimTemplates": [{
                "metadata": {"name": "www"},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}},
                         "storageClassName": "standard"}}],
        },
    }
    obj["spec"].update(spec_overrides)
    STRATEGIES["StatefulSet"].default(obj)
    return obj


def deploy(**spec_overrides):
    obj = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "default", "resourceVersion": "5",
                     "generation": 1},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "a"}},
                         "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}},
        },
    }
    obj["spec"].update(spec_overrides)
    STRATEGIES["Deployment"].default(obj)
    return obj


def rs(**spec_overrides):
    obj = deploy()
    obj["kind"] = "ReplicaSet"
    obj["spec"] = {"selector": {"matchLabels": {"app": "a"}},
                   "template": {"metadata": {"labels": {"app": "a"}},
                                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}
    obj["spec"].update(spec_overrides)
    STRATEGIES["ReplicaSet"].default(obj)
    return obj


# --------------------------------------------------------------------------------------------
# StatefulSet defaulting


def test_statefulset_defaults():
    spec = sts()["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain",
                                                            "whenScaled": "Retain"}
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 10
    assert "maxUnavailable" not in spec["updateStrategy"]["rollingUpdate"]
    # pod template defaults come from core
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] == 30


def test_statefulset_claim_templates_get_type_meta_and_claim_defaults():
    claim = sts()["spec"]["volumeClaimTemplates"][0]
    assert list(claim)[:2] == ["apiVersion", "kind"]
    assert claim["apiVersion"] == "v1" and claim["kind"] == "PersistentVolumeClaim"
    assert claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["status"] == {"phase": "Pending"}


def test_statefulset_defaults_keep_explicit_values():
    spec = sts(podManagementPolicy="Parallel", replicas=0, revisionHistoryLimit=2,
               updateStrategy={"type": "OnDelete"},
               persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete"})["spec"]
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["replicas"] == 0
    assert spec["revisionHistoryLimit"] == 2
    assert spec["updateStrategy"] == {"type": "OnDelete"}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Delete",
                                                            "whenScaled": "Retain"}


def test_statefulset_partition_defaulted_when_rolling_update_given():
    spec = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {}})["spec"]
    assert spec["updateStrategy"]["rollingUpdate"] == {"partition": 0}


def test_statefulset_defaulting_is_idempotent():
    obj = sts()
    again = copy.deepcopy(obj)
    STRATEGIES["StatefulSet"].default(again)
    assert again == obj


# --------------------------------------------------------------------------------------------
# StatefulSet strategy hooks


def test_max_unavailable_dropped_on_create_when_gate_off():
    obj = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}})
    STRATEGIES["StatefulSet"].prepare_for_create(obj, {})
    assert obj["spec"]["updateStrategy"]["rollingUpdate"] == {"partition": 0}


def test_max_unavailable_kept_on_create_when_gate_on():
    obj = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}})
    STRATEGIES["StatefulSet"].prepare_for_create(obj, {"MaxUnavailableStatefulSet": True})
    assert obj["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 2


def test_max_unavailable_on_update_kept_only_if_old_used_it():
    old = sts()
    new = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}})
    STRATEGIES["StatefulSet"].prepare_for_update(new, old, {})
    assert "maxUnavailable" not in new["spec"]["updateStrategy"]["rollingUpdate"]

    old_using = sts(updateStrategy={"type": "RollingUpdate",
                                    "rollingUpdate": {"maxUnavailable": 1}})
    new = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 3}})
    STRATEGIES["StatefulSet"].prepare_for_update(new, old_using, {})
    assert new["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 3


def test_retention_policy_dropped_when_autodelete_gate_off():
    obj = sts()
    STRATEGIES["StatefulSet"].prepare_for_create(obj, {"StatefulSetAutoDeletePVC": False})
    assert "persistentVolumeClaimRetentionPolicy" not in obj["spec"]
    kept = sts()
    STRATEGIES["StatefulSet"].prepare_for_create(kept, {})
    assert "persistentVolumeClaimRetentionPolicy" in kept["spec"]


# --------------------------------------------------------------------------------------------
# StatefulSet validation


def test_valid_statefulset_has_no_errors():
    assert STRATEGIES["StatefulSet"].validate(sts(), GATES) == []


def test_statefulset_name_must_be_dns_label():
    obj = sts()
    obj["metadata"]["name"] = "web.example"
    errs = by_field(apps.validate_statefulset(obj, GATES), "metadata.name")
    assert errs and errs[0].reason == "FieldValueInvalid"
    assert errs[0].body() == 'Invalid value: "web.example": must not contain dots'


@pytest.mark.parametrize("field,value,body", [
    ("replicas", -1, "Invalid value: -1: must be greater than or equal to 0"),
    ("minReadySeconds", -5, "Invalid value: -5: must be greater than or equal to 0"),
])
def test_statefulset_non_negative(field, value, body):
    errs = apps.validate_statefulset(sts(**{field: value}), GATES)
    assert [e.body() for e in by_field(errs, "spec." + field)] == [body]


def test_statefulset_ordinals_start():
    errs = apps.validate_statefulset(sts(ordinals={"start": -1}), GATES)
    assert messages(errs) == [
        "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0"]


def test_statefulset_pod_management_policy():
    errs = apps.validate_statefulset(sts(podManagementPolicy="Sometimes"), GATES)
    assert messages(errs) == [
        "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or "
        "'Parallel'"]


def test_statefulset_update_strategy_type():
    obj = sts()
    obj["spec"]["updateStrategy"] = {"type": "Blue"}
    errs = apps.validate_statefulset(obj, GATES)
    assert len(errs) == 1
    assert errs[0].field == "spec.updateStrategy"
    assert errs[0].detail == "must be 'RollingUpdate' or 'OnDelete'"


def test_statefulset_on_delete_with_rolling_update():
    obj = sts()
    obj["spec"]["updateStrategy"] = {"type": "OnDelete", "rollingUpdate": {"partition": 0}}
    errs = apps.validate_statefulset(obj, GATES)
    assert [(e.field, e.reason, e.detail) for e in errs] == [
        ("spec.updateStrategy.rollingUpdate", "FieldValueInvalid",
         "only allowed for updateStrategy 'RollingUpdate'")]


def test_statefulset_partition_negative():
    obj = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": -2}})
    assert messages(apps.validate_statefulset(obj, GATES)) == [
        "spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than "
        "or equal to 0"]


@pytest.mark.parametrize("value,expected", [
    (0, ["spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0"]),
    ("0%", ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "0%": cannot be 0']),
    ("150%", ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not '
              'be greater than 100%']),
    (-1, ["spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be "
          "greater than or equal to 0"]),
    ("x", ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "x": a valid '
           "percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
           "'93%', regex used for validation is '[0-9]+%')",
           'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "x": cannot be 0']),
    (2, []),
    ("50%", []),
])
def test_statefulset_max_unavailable(value, expected):
    obj = sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": value}})
    assert messages(apps.validate_statefulset(obj, GATES)) == expected


def test_statefulset_retention_policy_values():
    obj = sts(persistentVolumeClaimRetentionPolicy={"whenDeleted": "Keep", "whenScaled": "Delete"})
    assert messages(apps.validate_statefulset(obj, GATES)) == [
        'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": '
        'supported values: "Retain", "Delete"']


def test_statefulset_selector_required_and_template_mismatch():
    obj = sts()
    del obj["spec"]["selector"]
    assert messages(apps.validate_statefulset(obj, GATES)) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: {"app":"nginx"}: `selector` does not '
        "match template `labels`",
    ]


def test_statefulset_empty_selector():
    obj = sts(selector={})
    errs = apps.validate_statefulset(obj, GATES)
    assert [(e.field, e.detail) for e in errs] == [
        ("spec.selector", "empty selector is invalid for statefulset")]


def test_statefulset_selector_must_match_template_labels():
    obj = sts(selector={"matchLabels": {"app": "other"}})
    errs = apps.validate_statefulset(obj, GATES)
    assert [(e.reason, e.field, e.detail) for e in errs] == [
        ("FieldValueInvalid", "spec.template.metadata.labels",
         "`selector` does not match template `labels`")]


def test_statefulset_invalid_selector_reported_twice_like_upstream():
    obj = sts(selector={"matchExpressions": [{"key": "app", "operator": "Bogus"}]})
    errs = apps.validate_statefulset(obj, GATES)
    assert [(e.field, e.detail) for e in errs] == [
        ("spec.selector.matchExpressions[0].operator", "not a valid selector operator"),
        ("spec.selector", ""),
    ]


def test_statefulset_restart_policy_and_active_deadline():
    obj = sts()
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    obj["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 10
    assert messages(apps.validate_statefulset(obj, GATES)) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: '
        '"Always"',
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
        "StatefulSet is not Supported",
    ]


def test_statefulset_template_labels_validated_at_v131_path():
    obj = sts(selector={"matchLabels": {"app": "nginx"}})
    obj["spec"]["template"]["metadata"]["labels"]["bad key"] = "x"
    errs = apps.validate_statefulset(obj, GATES)
    assert [e.field for e in errs] == ["spec.template.labels"]


def test_statefulset_pod_spec_and_claim_templates_not_validated_in_v131():
    obj = sts()
    obj["spec"]["template"]["spec"]["containers"] = [{"name": "NOT_A_DNS_LABEL"}]  # no image
    obj["spec"]["volumeClaimTemplates"][0]["spec"].pop("accessModes")
    assert apps.validate_statefulset(obj, GATES) == []


def test_statefulset_update_forbidden_fields():
    old = sts()
    for field, value in [("serviceName", "other"), ("podManagementPolicy", "Parallel"),
                         ("revisionHistoryLimit", 3),
                         ("selector", {"matchLabels": {"app": "nginx", "x": "y"}})]:
        new = copy.deepcopy(old)
        new["spec"][field] = value
        if field == "selector":
            new["spec"]["template"]["metadata"]["labels"]["x"] = "y"
        errs = apps.validate_statefulset_update(new, old, GATES)
        assert messages(errs) == [
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
            "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
            "and 'minReadySeconds' are forbidden"], field


def test_statefulset_update_of_claim_templates_forbidden():
    old = sts()
    new = copy.deepcopy(old)
    new["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = "2Gi"
    errs = apps.validate_statefulset_update(new, old, GATES)
    assert [(e.reason, e.field) for e in errs] == [("FieldValueForbidden", "spec")]


def test_statefulset_update_mutable_fields_allowed():
    old = sts()
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    new["spec"]["minReadySeconds"] = 3
    new["spec"]["ordinals"] = {"start": 2}
    new["spec"]["updateStrategy"] = {"type": "OnDelete"}
    new["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete",
                                                           "whenScaled": "Delete"}
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert apps.validate_statefulset_update(new, old, GATES) == []


def test_statefulset_update_also_validates_new_spec():
    old = sts()
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = -1
    assert messages(apps.validate_statefulset_update(new, old, GATES)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"]


def test_statefulset_status_update_rules():
    old = sts()
    old["status"] = {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                     "collisionCount": 2}
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 2, "readyReplicas": 3, "currentReplicas": 1,
                     "updatedReplicas": -1, "availableReplicas": 1, "collisionCount": 1}
    assert messages(apps.validate_statefulset_status_update(new, old, GATES)) == [
        "status.updatedReplicas: Invalid value: -1: must be greater than or equal to 0",
        "status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas",
        "status.collisionCount: Invalid value: 1: cannot be decremented",
    ]


def test_statefulset_status_available_above_ready():
    old = sts()
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 3, "readyReplicas": 1, "availableReplicas": 2}
    assert messages(apps.validate_statefulset_status_update(new, old, GATES)) == [
        "status.availableReplicas: Invalid value: 2: cannot be greater than status.readyReplicas"]


def test_statefulset_status_collision_count_removed_counts_as_decrement():
    old = sts()
    old["status"] = {"collisionCount": 1}
    new = copy.deepcopy(old)
    new["status"] = {}
    assert messages(apps.validate_statefulset_status_update(new, old, GATES)) == [
        "status.collisionCount: Invalid value: 0: cannot be decremented"]


@given(replicas=st.integers(0, 50), ready=st.integers(0, 50), available=st.integers(0, 50))
def test_statefulset_status_counts_property(replicas, ready, available):
    old = sts()
    new = copy.deepcopy(old)
    new["status"] = {"replicas": replicas, "readyReplicas": ready, "availableReplicas": available}
    errs = apps.validate_statefulset_status_update(new, old, GATES)
    ok = ready <= replicas and available <= replicas and available <= ready
    assert (errs == []) == ok


# --------------------------------------------------------------------------------------------
# Deployment


def test_deployment_defaults():
    spec = deploy()["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


def test_deployment_recreate_gets_no_rolling_update_defaults():
    spec = deploy(strategy={"type": "Recreate"})["spec"]
    assert spec["strategy"] == {"type": "Recreate"}


def test_valid_deployment():
    assert apps.validate_deployment(deploy(), GATES) == []


def test_deployment_selector_required():
    obj = deploy()
    del obj["spec"]["selector"]
    assert messages(apps.validate_deployment(obj, GATES)) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: {"app":"a"}: `selector` does not match '
        "template `labels`",
    ]


def test_deployment_empty_selector():
    errs = apps.validate_deployment(deploy(selector={}), GATES)
    assert [(e.field, e.detail) for e in errs] == [
        ("spec.selector", "empty selector is invalid for deployment")]


def test_deployment_both_zero():
    obj = deploy(strategy={"type": "RollingUpdate",
                           "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}})
    assert messages(apps.validate_deployment(obj, GATES)) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
        "`maxSurge` is 0"]


def test_deployment_max_unavailable_over_100_percent():
    obj = deploy(strategy={"type": "RollingUpdate",
                           "rollingUpdate": {"maxUnavailable": "101%", "maxSurge": 1}})
    assert messages(apps.validate_deployment(obj, GATES)) == [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "101%": must not be greater '
        "than 100%"]


def test_deployment_recreate_forbids_rolling_update():
    obj = deploy(strategy={"type": "Recreate"})
    obj["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": 1}
    assert messages(apps.validate_deployment(obj, GATES)) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
        "'Recreate'"]


def test_deployment_unknown_strategy_type():
    obj = deploy()
    obj["spec"]["strategy"] = {"type": "Canary"}
    errs = apps.validate_deployment(obj, GATES)
    assert [(e.reason, e.field) for e in errs] == [("FieldValueNotSupported", "spec.strategy")]
    assert errs[0].detail == 'supported values: "Recreate", "RollingUpdate"'


def test_deployment_progress_deadline_vs_min_ready():
    obj = deploy(minReadySeconds=600)
    assert messages(apps.validate_deployment(obj, GATES)) == [
        "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"]


def test_deployment_negative_revision_history_limit():
    obj = deploy(revisionHistoryLimit=-1)
    assert messages(apps.validate_deployment(obj, GATES)) == [
        "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"]


def test_deployment_template_restart_policy_and_deadline():
    obj = deploy()
    obj["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 5
    errs = by_field(apps.validate_deployment(obj, GATES), "spec.template.spec.activeDeadlineSeconds")
    assert [e.body() for e in errs] == [
        "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"]


def test_deployment_template_pod_spec_is_validated():
    obj = deploy()
    del obj["spec"]["template"]["spec"]["containers"][0]["image"]
    errs = apps.validate_deployment(obj, GATES)
    assert "spec.template.spec.containers[0].image" in [e.field for e in errs]


def test_deployment_selector_immutable():
    old = deploy()
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "a", "tier": "x"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    errs = apps.validate_deployment_update(new, old, GATES)
    assert [(e.reason, e.field, e.detail) for e in errs] == [
        ("FieldValueInvalid", "spec.selector", "field is immutable")]


def test_deployment_update_other_fields_allowed():
    old = deploy()
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 4
    new["spec"]["strategy"] = {"type": "Recreate"}
    assert apps.validate_deployment_update(new, old, GATES) == []


def test_deployment_status_rules():
    old = deploy()
    old["status"] = {"collisionCount": 3}
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 2, "updatedReplicas": 3, "readyReplicas": 1,
                     "availableReplicas": 2, "unavailableReplicas": -1, "collisionCount": 2}
    assert messages(apps.validate_deployment_status_update(new, old, GATES)) == [
        "status.unavailableReplicas: Invalid value: -1: must be greater than or equal to 0",
        "status.updatedReplicas: Invalid value: 3: cannot be greater than status.replicas",
        "status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas",
        "status.collisionCount: Invalid value: 2: cannot be decremented",
    ]


# --------------------------------------------------------------------------------------------
# ReplicaSet


def test_replicaset_defaults():
    obj = rs()
    assert obj["spec"]["replicas"] == 1
    assert obj["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_valid_replicaset():
    assert apps.validate_replicaset(rs(), GATES) == []


def test_replicaset_empty_selector_message_says_deployment():
    errs = apps.validate_replicaset(rs(selector={}), GATES)
    assert [e.detail for e in errs] == ["empty selector is invalid for deployment"]


def test_replicaset_update_validates_spec_twice_and_selector_immutable():
    old = rs()
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = -3
    assert messages(apps.validate_replicaset_update(new, old, GATES)) == [
        "spec.replicas: Invalid value: -3: must be greater than or equal to 0",
        "spec.replicas: Invalid value: -3: must be greater than or equal to 0",
    ]
    new = copy.deepcopy(old)
    new["spec"]["selector"]["matchLabels"]["x"] = "y"
    new["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    assert [e.field for e in apps.validate_replicaset_update(new, old, GATES)] == ["spec.selector"]


def test_replicaset_status_rules():
    old = rs()
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 1, "fullyLabeledReplicas": 2, "readyReplicas": 1,
                     "availableReplicas": 1, "observedGeneration": -1}
    assert messages(apps.validate_replicaset_status_update(new, old, GATES)) == [
        "status.observedGeneration: Invalid value: -1: must be greater than or equal to 0",
        "status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas",
    ]


# --------------------------------------------------------------------------------------------
# ControllerRevision


def revision(**kw):
    obj = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
           "metadata": {"name": "web-5d8f", "namespace": "default", "resourceVersion": "3"},
           "data": {"spec": {"template": {}}}, "revision": 1}
    obj.update(kw)
    return obj


def test_controller_revision_valid():
    assert apps.validate_controller_revision(revision(), GATES) == []


def test_controller_revision_rules():
    obj = revision(revision=-1)
    del obj["data"]
    assert messages(apps.validate_controller_revision(obj, GATES)) == [
        "data: Required value: data is mandatory",
        "revision: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_controller_revision_data_immutable():
    old = revision()
    new = revision(data={"spec": {"template": {"x": 1}}})
    errs = apps.validate_controller_revision_update(new, old, GATES)
    assert [(e.reason, e.field, e.detail) for e in errs] == [
        ("FieldValueInvalid", "data", "field is immutable")]
    assert apps.validate_controller_revision_update(revision(revision=2), old, GATES) == []


# --------------------------------------------------------------------------------------------
# Helpers


@given(st.one_of(st.integers(-5, 300), st.from_regex(r"[0-9]{1,3}%", fullmatch=True),
                 st.text(max_size=4)))
def test_int_or_percent_helpers_agree(value):
    errs = apps.validate_positive_int_or_percent(value, "p")
    if isinstance(value, int):
        assert (errs == []) == (value >= 0)
        assert apps.int_or_percent_value(value) == value
    elif value.endswith("%") and value[:-1].isascii() and value[:-1].isdigit():
        assert errs == []
        assert apps.int_or_percent_value(value) == int(value[:-1])
        over = apps.is_not_more_than_100_percent(value, "p")
        assert (over == []) == (int(value[:-1]) <= 100)
    else:
        assert len(errs) == 1


def test_semantic_equal_treats_nil_and_empty_collections_alike():
    assert apps.semantic_equal({"a": []}, {})
    assert apps.semantic_equal({"a": {}}, {"a": None})
    assert not apps.semantic_equal({"a": ""}, {})
    assert not apps.semantic_equal({"a": [1]}, {"a": [2]})


def test_strategies_table():
    assert set(STRATEGIES) == {"StatefulSet", "Deployment", "ReplicaSet", "ControllerRevision"}
