"""ObjectMeta validation on create and update (fakekube.api.kinds.meta).

Messages are upstream's (apimachinery ``objectmeta.go``, core ``ValidateObjectMeta``).
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from fakekube.api.kinds.meta import (TOTAL_ANNOTATION_SIZE_LIMIT, go_string_slice,
                                     name_is_dns1035_label, name_is_dns1123_label,
                                     name_is_dns1123_subdomain, name_is_path_segment,
                                     validate_object_meta, validate_object_meta_update)

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def msgs(errs):
    return [e.message() for e in errs]


def meta(**kw):
    m = {"name": "web", "namespace": "default"}
    m.update(kw)
    return m


def test_valid_meta_has_no_errors():
    assert validate_object_meta(meta(labels={"app": "web", "example.com/tier": "db"},
                                     annotations={"Example.com/Note": "x"}),
                                True, name_is_dns1123_subdomain) == []


def test_name_or_generate_name_required():
    errs = validate_object_meta({"namespace": "default"}, True, name_is_dns1123_subdomain)
    assert msgs(errs) == ["metadata.name: Required value: name or generateName is required"]
    assert errs[0].reason == "FieldValueRequired"


def test_invalid_name_has_upstream_message():
    errs = validate_object_meta(meta(name="Web"), True, name_is_dns1123_subdomain)
    assert msgs(errs) == [f'metadata.name: Invalid value: "Web": {SUBDOMAIN_MSG}']


def test_generate_name_prefix_may_end_with_a_dash():
    assert validate_object_meta({"generateName": "web-", "name": "web-x7k2p",
                                 "namespace": "default"}, True, name_is_dns1123_subdomain) == []
    errs = validate_object_meta({"generateName": "Web-", "name": "web-x7k2p",
                                 "namespace": "default"}, True, name_is_dns1123_subdomain)
    assert [e.field for e in errs] == ["metadata.generateName"]


def test_name_rules():
    assert name_is_dns1123_label("a.b", False) == ["must not contain dots"]
    assert name_is_dns1035_label("1abc", False)
    assert name_is_dns1035_label("abc-", True) == []
    assert name_is_dns1123_subdomain("a.b", False) == []
    assert name_is_path_segment("a/b", False) == ["may not contain '/'"]
    assert name_is_path_segment("..", False) == ["may not be '..'"]


def test_namespace_required_or_forbidden_by_scope():
    errs = validate_object_meta({"name": "web"}, True, name_is_dns1123_subdomain)
    assert msgs(errs) == ["metadata.namespace: Required value"]
    errs = validate_object_meta({"name": "node-1", "namespace": "default"}, False,
                                name_is_dns1123_subdomain)
    assert msgs(errs) == ["metadata.namespace: Forbidden: not allowed on this type"]
    errs = validate_object_meta(meta(namespace="Bad_ns"), True, name_is_dns1123_subdomain)
    assert [e.field for e in errs] == ["metadata.namespace"]


def test_labels_are_reported_at_the_map_path():
    errs = validate_object_meta(meta(labels={"-bad": "ok", "good": "bad value"}), True,
                                name_is_dns1123_subdomain)
    assert [e.field for e in errs] == ["metadata.labels", "metadata.labels"]
    assert [e.value for e in errs] == ["-bad", "bad value"]
    assert errs[1].detail.startswith("a valid label must be an empty string or consist of")


def test_annotations_total_size_limit():
    big = {"a": "x" * TOTAL_ANNOTATION_SIZE_LIMIT}
    errs = validate_object_meta(meta(annotations=big), True, name_is_dns1123_subdomain)
    assert msgs(errs) == ["metadata.annotations: Too long: may not be more than 262144 bytes"]
    ok = {"a": "x" * (TOTAL_ANNOTATION_SIZE_LIMIT - 1)}
    assert validate_object_meta(meta(annotations=ok), True, name_is_dns1123_subdomain) == []


def test_annotation_keys_are_case_insensitive_qualified_names():
    errs = validate_object_meta(meta(annotations={"bad key": "v"}), True,
                                name_is_dns1123_subdomain)
    assert [(e.field, e.value) for e in errs] == [("metadata.annotations", "bad key")]


def owner(**kw):
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1"}
    ref.update(kw)
    return ref


def test_owner_references_required_fields():
    errs = validate_object_meta(meta(ownerReferences=[{"apiVersion": "apps/"}]), True,
                                name_is_dns1123_subdomain)
    assert msgs(errs) == [
        'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ]


def test_only_one_controller_reference():
    refs = [owner(controller=True), owner(kind="StatefulSet", name="web", uid="u2",
                                          controller=True)]
    errs = validate_object_meta(meta(ownerReferences=refs), True, name_is_dns1123_subdomain)
    assert len(errs) == 1
    assert errs[0].field == "metadata.ownerReferences"
    assert errs[0].detail == ('Only one reference can have Controller set to true. Found "true" '
                              "in references for ReplicaSet/rs and StatefulSet/web")


def test_events_cannot_own_objects():
    errs = validate_object_meta(meta(ownerReferences=[owner(apiVersion="v1", kind="Event")]),
                                True, name_is_dns1123_subdomain)
    assert [e.detail for e in errs] == ["/v1, Kind=Event is disallowed from being an owner"]


def test_finalizers():
    errs = validate_object_meta(meta(finalizers=["orphan", "foregroundDeletion"]), True,
                                name_is_dns1123_subdomain)
    assert msgs(errs) == ['metadata.finalizers: Invalid value: []string{"orphan", '
                          '"foregroundDeletion"}: finalizer orphan and foregroundDeletion cannot '
                          'be both set']
    errs = validate_object_meta(meta(finalizers=["example.com/ok", "custom"]), True,
                                name_is_dns1123_subdomain)
    assert msgs(errs) == ['metadata.finalizers[1]: Invalid value: "custom": name is neither a '
                          'standard finalizer name nor is it fully qualified']
    errs = validate_object_meta(meta(finalizers=["bad finalizer/x"]), True,
                                name_is_dns1123_subdomain)
    assert [e.field for e in errs] == ["metadata.finalizers"]


def test_generation_must_not_be_negative():
    errs = validate_object_meta(meta(generation=-1), True, name_is_dns1123_subdomain)
    assert msgs(errs) == ["metadata.generation: Invalid value: -1: must be greater than or "
                          "equal to 0"]


def test_managed_fields_operation():
    errs = validate_object_meta(meta(managedFields=[{"manager": "kubectl", "operation": "Get"}]),
                                True, name_is_dns1123_subdomain)
    assert msgs(errs) == ['metadata.managedFields[0].operation: Invalid value: "Get": must be '
                          '`Apply` or `Update`']


# --------------------------------------------------------------------------------------------
# Updates


def stored(**kw):
    m = {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7",
         "creationTimestamp": "2025-01-01T00:00:00Z", "generation": 2}
    m.update(kw)
    return m


def test_unchanged_meta_update_is_valid():
    assert validate_object_meta_update(stored(labels={"a": "b"}), stored()) == []


@pytest.mark.parametrize("field, value", [
    ("name", "other"), ("namespace", "kube-system"), ("uid", "u2"),
    ("creationTimestamp", "2025-01-02T00:00:00Z"),
    ("deletionTimestamp", "2025-01-02T00:00:00Z"), ("deletionGracePeriodSeconds", 0),
])
def test_immutable_meta_fields(field, value):
    errs = validate_object_meta_update(stored(**{field: value}), stored())
    assert [(e.field, e.reason, e.detail) for e in errs] == [
        (f"metadata.{field}", "FieldValueInvalid", "field is immutable")]


def test_no_new_finalizers_while_deleting():
    old = stored(deletionTimestamp="2025-01-01T00:01:00Z", finalizers=["example.com/a"])
    new = stored(deletionTimestamp="2025-01-01T00:01:00Z", finalizers=["example.com/a", "x"])
    errs = validate_object_meta_update(new, old)
    assert 'metadata.finalizers: Forbidden: no new finalizers can be added if the object is ' \
           'being deleted, found new finalizers []string{"x"}' in msgs(errs)
    # removing finalizers is fine
    new = stored(deletionTimestamp="2025-01-01T00:01:00Z", finalizers=[])
    assert validate_object_meta_update(new, old) == []


def test_new_finalizers_are_sorted_in_the_message():
    old = stored(deletionTimestamp="2025-01-01T00:01:00Z")
    new = stored(deletionTimestamp="2025-01-01T00:01:00Z", finalizers=["b.io/z", "a.io/y"])
    (err,) = validate_object_meta_update(new, old)
    assert err.detail.endswith('[]string{"a.io/y", "b.io/z"}')


def test_generation_may_not_decrease_and_rv_is_required():
    errs = validate_object_meta_update(stored(generation=1, resourceVersion=""), stored())
    assert msgs(errs) == [
        'metadata.resourceVersion: Invalid value: "": must be specified for an update',
        "metadata.generation: Invalid value: 1: must not be decremented",
    ]


def test_update_validates_labels_annotations_and_owner_references():
    new = stored(labels={"bad key": "v"}, ownerReferences=[owner(uid="")],
                 finalizers=["custom"])
    errs = validate_object_meta_update(new, stored())
    assert [e.field for e in errs] == ["metadata.labels", "metadata.ownerReferences.uid",
                                       "metadata.finalizers[0]"]


def test_go_string_slice():
    assert go_string_slice(["a", 'b"c']) == '[]string{"a", "b\\"c"}'
    assert go_string_slice([]) == "[]string{}"


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True))
def test_every_dns_label_is_a_valid_name_and_namespace(name):
    assert validate_object_meta({"name": name, "namespace": name}, True,
                                name_is_dns1123_subdomain) == []
