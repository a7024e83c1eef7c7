"""Tests for fakekube.api.patch: JSON merge patch, JSON patch and strategic merge patch.

Expected values and messages follow upstream (evanphx/json-patch v4 and
k8s.io/apimachinery/pkg/util/strategicpatch, as the v1.31 apiserver uses them).
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fakekube.api.patch as patch_mod
from fakekube.api._schema import TYPES
from fakekube.api.patch import (
    MERGE_KEYS,
    PatchError,
    create_merge_patch,
    json_patch,
    json_patch_strict_errors,
    merge_patch,
    strategic_merge_patch,
)

GENERIC_422 = "the server rejected our request due to an error in our request"
PROPERTY = settings(derandomize=True, deadline=None, max_examples=300,
                    suppress_health_check=[HealthCheck.too_slow])


def raises(fn, *args, **kwargs) -> PatchError:
    with pytest.raises(PatchError) as info:
        fn(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------------------------------------
# JSON merge patch

RFC7386_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("original,patch,expected", RFC7386_CASES)
def test_merge_patch_rfc7386_examples(original, patch, expected):
    assert merge_patch(original, patch) == expected


def test_merge_patch_array_patch_replaces_the_document_under_ignore():
    assert merge_patch({"a": "b"}, ["c", None], field_validation="Ignore") == ["c"]


def test_merge_patch_prunes_nulls_only_where_the_target_is_absent_or_not_an_object():
    assert merge_patch({}, {"a": [1, None, {"b": None}]}) == {"a": [1, {}]}
    assert merge_patch({"a": 5}, {"a": {"b": None, "c": 1}}) == {"a": {"c": 1}}
    # An object replaced by an array keeps the array's nulls (evanphx merge()).
    assert merge_patch({"a": {}}, {"a": [1, None]}) == {"a": [1, None]}


def test_merge_patch_scale_subresource_style():
    sts = {"spec": {"replicas": 3, "serviceName": "web"}, "status": {"replicas": 3}}
    assert merge_patch(sts, {"spec": {"replicas": 5}}) == {
        "spec": {"replicas": 5, "serviceName": "web"}, "status": {"replicas": 3}}


def test_merge_patch_null_body_is_a_bad_request():
    err = raises(merge_patch, {"a": 1}, None)
    assert (err.code, err.reason, err.message) == (400, "BadRequest", "Invalid JSON Patch")


@pytest.mark.parametrize("body,json_type", [([1], "array"), ("x", "string"), (5, "number"),
                                            (True, "bool")])
def test_merge_patch_non_object_body_under_strict_decoding(body, json_type):
    err = raises(merge_patch, {"a": 1}, body, field_validation="Strict")
    assert err.code == 400
    assert err.message == (f"error decoding patch: json: cannot unmarshal {json_type} into Go "
                           "value of type map[string]interface {}")


def test_merge_patch_scalar_body_without_strict_decoding():
    err = raises(merge_patch, {"a": 1}, "x", field_validation="Ignore")
    assert (err.code, err.message) == (400, "Invalid JSON Patch")


def test_create_merge_patch_examples():
    original = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "f": "x"}
    modified = {"a": 1, "b": {"c": 2, "d": 4}, "e": [1, 2, 3], "g": True}
    assert create_merge_patch(original, modified) == {
        "b": {"d": 4}, "e": [1, 2, 3], "g": True, "f": None}
    assert create_merge_patch(original, original) == {}
    assert create_merge_patch({"a": {"b": 1}}, {"a": 1}) == {"a": 1}


# JSON values: modified objects carry no null (a merge patch cannot set null); originals may
# hold nulls as member values but not inside arrays (upstream's array comparison treats a missing
# member as null, so such an array would look unchanged).
_scalars = st.one_of(st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False,
                     allow_infinity=False, width=32), st.text(max_size=3))
_keys = st.text(alphabet="abcde", min_size=1, max_size=2)


def _json(allow_null: bool, max_leaves: int = 12):
    leaf = st.one_of(_scalars, st.none()) if allow_null else _scalars
    no_null_leaf = _scalars

    def extend(children):
        return st.one_of(st.lists(children, max_size=3),
                         st.dictionaries(_keys, children, max_size=3))

    values = st.recursive(leaf, extend, max_leaves=max_leaves)
    array_safe = st.recursive(no_null_leaf, extend, max_leaves=max_leaves)
    if not allow_null:
        return st.dictionaries(_keys, values, max_size=4)
    # nulls only as object members, never inside arrays
    member = st.recursive(
        leaf,
        lambda children: st.one_of(st.lists(array_safe, max_size=3),
                                   st.dictionaries(_keys, children, max_size=3)),
        max_leaves=max_leaves)
    return st.dictionaries(_keys, member, max_size=4)


@PROPERTY
@given(original=_json(allow_null=True), modified=_json(allow_null=False))
def test_create_merge_patch_round_trips(original, modified):
    assert merge_patch(original, create_merge_patch(original, modified)) == modified


# ---------------------------------------------------------------------------------------------
# JSON patch (RFC 6902 appendix A, then upstream's error texts)

RFC6902_CASES = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"baz": "qux", "foo": "bar"}),
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
     {"foo": ["bar", "qux", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
     {"foo": ["bar", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
     {"baz": "boo", "foo": "bar"}),
    ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    ({"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
     {"foo": ["bar", ["abc", "def"]]}),
    ({"a": {"b/c": 1, "d~e": 2}}, [{"op": "remove", "path": "/a/b~1c"},
                                   {"op": "replace", "path": "/a/d~0e", "value": 3}],
     {"a": {"d~e": 3}}),
    ({"a": [1, 2, 3]}, [{"op": "remove", "path": "/a/-1"}, {"op": "add", "path": "/a/-1",
                                                           "value": 9}],
     {"a": [1, 2, 9]}),  # add counts -1 from len+1: it appends
    ({"a": [1]}, [{"op": "copy", "from": "/a", "path": "/b"}], {"a": [1], "b": [1]}),
]


@pytest.mark.parametrize("original,ops,expected", RFC6902_CASES)
def test_json_patch_rfc6902_examples(original, ops, expected):
    assert json_patch(original, ops) == expected


def test_json_patch_quirks_kept_from_upstream():
    # replace of a missing object member adds it (partialDoc.get never fails)
    assert json_patch({}, [{"op": "replace", "path": "/a", "value": 1}]) == {"a": 1}
    # copy from a missing member writes null
    assert json_patch({}, [{"op": "copy", "from": "/x", "path": "/y"}]) == {"y": None}
    # test with value null passes on a missing member
    assert json_patch({}, [{"op": "test", "path": "/x", "value": None}]) == {}
    # add without a value sets null
    assert json_patch({}, [{"op": "add", "path": "/x"}]) == {"x": None}
    # replacing the whole document
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {"b": 2}
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": 5}]) == {"a": 1}
    assert json_patch({"a": 1}, [{"op": "test", "path": "", "value": {"a": 1}}]) == {"a": 1}
    # a null body is an empty patch
    assert json_patch({"a": 1}, None) == {"a": 1}


def test_json_patch_copies_do_not_alias():
    result = json_patch({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}])
    result["c"]["b"] = 2
    assert result["a"] == {"b": 1}


def test_json_patch_test_compares_json_types():
    err = raises(json_patch, {"a": 1}, [{"op": "test", "path": "/a", "value": 1.0}])
    assert err.cause == "testing value /a failed: test failed"
    err = raises(json_patch, {"a": 1}, [{"op": "test", "path": "/a", "value": True}])
    assert err.cause == "testing value /a failed: test failed"


JSON_PATCH_FAILURES = [
    ({"foo": "bar"}, {"op": "test", "path": "/foo", "value": "baz"},
     "testing value /foo failed: test failed"),
    ({"foo": "bar"}, {"op": "add", "path": "/baz/bat", "value": "qux"},
     'add operation does not apply: doc is missing path: "/baz/bat": missing value'),
    ({"foo": "bar"}, {"op": "remove", "path": "/x"},
     "error in remove for path: '/x': Unable to remove nonexistent key: x: missing value"),
    ({"a": [1]}, {"op": "add", "path": "/a/5", "value": 0},
     "error in add for path: '/a/5': Unable to access invalid index: 5: invalid index referenced"),
    ({"a": [1]}, {"op": "add", "path": "/a/x", "value": 0},
     "error in add for path: '/a/x': value was not a proper array index: 'x': strconv.Atoi: "
     'parsing "x": invalid syntax'),
    ({"a": [1]}, {"op": "remove", "path": "/a/9"},
     "error in remove for path: '/a/9': Unable to access invalid index: 9: invalid index "
     "referenced"),
    ({"a": [1]}, {"op": "remove", "path": "/a/-"},
     "error in remove for path: '/a/-': strconv.Atoi: parsing \"-\": invalid syntax"),
    ({"a": 1}, {"op": "replace", "path": "/x/y", "value": 1},
     "replace operation does not apply: doc is missing path: /x/y: missing value"),
    ({"a": [1]}, {"op": "replace", "path": "/a/3", "value": 1},
     "replace operation does not apply: doc is missing key: /a/3: missing value"),
    ({"a": 1}, {"op": "move", "from": "/x", "path": "/y"},
     "error in move for path: 'x': Unable to remove nonexistent key: x: missing value"),
    ({"a": 1}, {"op": "move", "from": "/a", "path": "/a/b"},
     "move operation does not apply: doc is missing destination path: /a/b: missing value"),
    ({"a": 1}, {"op": "copy", "from": "/a", "path": "/x/y"},
     "copy operation does not apply: doc is missing destination path: /x/y: missing value"),
    ({"a": 1}, {"op": "test", "path": "/x/y", "value": 1},
     "test operation does not apply: is missing path: /x/y: missing value"),
    ({"a": 1}, {"op": "frobnicate", "path": "/a"}, "Unexpected kind: frobnicate"),
    ({"a": 1}, {"path": "/a"}, "Unexpected kind: unknown"),
    ({"a": 1}, {"op": "add", "value": 1}, "add operation failed to decode path: missing value"),
    ({"a": 1}, {"op": "remove"}, "remove operation failed to decode path: missing value"),
    ({"a": 1}, {"op": "replace", "value": 1},
     "replace operation failed to decode path: operation missing path field: missing value"),
    ({"a": 1}, {"op": "move", "path": "/b"},
     "move operation failed to decode from: operation, missing from field: missing value"),
    ({"a": 1}, {"op": "add", "path": "", "value": 1},
     'add operation does not apply: doc is missing path: "": missing value'),
]


@pytest.mark.parametrize("original,op,cause", JSON_PATCH_FAILURES)
def test_json_patch_failures_are_generic_422(original, op, cause):
    err = raises(json_patch, original, [op])
    assert (err.code, err.reason, err.kind) == (422, "Invalid", "Invalid")
    assert err.message == GENERIC_422
    assert err.details == {}
    assert err.cause == cause


def test_json_patch_failure_leaves_no_partial_result():
    original = {"a": 1}
    raises(json_patch, original, [{"op": "add", "path": "/b", "value": 2},
                                  {"op": "test", "path": "/a", "value": 3}])
    assert original == {"a": 1}


@pytest.mark.parametrize("body,message", [
    ({"op": "add"}, "error decoding patch: json: cannot unmarshal object into Go value of type "
                    "[]handlers.jsonPatchOp"),
    ("x", "error decoding patch: json: cannot unmarshal string into Go value of type "
          "[]handlers.jsonPatchOp"),
    ([1], "error decoding patch: json: cannot unmarshal number into Go value of type "
          "handlers.jsonPatchOp"),
    ([{"op": 1, "path": "/a"}], "error decoding patch: json: cannot unmarshal number into Go "
                                "struct field jsonPatchOp.op of type string"),
    ([{"op": "add", "path": ["a"]}], "error decoding patch: json: cannot unmarshal array into "
                                     "Go struct field jsonPatchOp.path of type string"),
])
def test_json_patch_malformed_body_is_a_bad_request(body, message):
    err = raises(json_patch, {"a": 1}, body)
    assert (err.code, err.reason, err.message) == (400, "BadRequest", message)


def test_json_patch_malformed_body_under_ignore():
    err = raises(json_patch, {}, {"op": "add"}, field_validation="Ignore")
    assert err.message == ("json: cannot unmarshal object into Go value of type "
                           "jsonpatch.Patch")
    err = raises(json_patch, {}, [[]], field_validation="Ignore")
    assert err.message == ("json: cannot unmarshal array into Go value of type "
                           "jsonpatch.Operation")
    err = raises(json_patch, {}, [{"op": "add", "path": 5}], field_validation="Ignore")
    assert err.cause == "add operation failed to decode path: missing value"


def test_json_patch_operation_limit():
    ops = [{"op": "test", "path": "/a", "value": 1}] * 10001
    err = raises(json_patch, {"a": 1}, ops)
    assert (err.code, err.reason) == (413, "RequestEntityTooLarge")
    assert err.message == ("Request entity too large: The allowed maximum operations in a JSON "
                           "patch is 10000, got 10001")
    assert json_patch({"a": 1}, ops[:10000]) == {"a": 1}


def test_json_patch_copy_size_limit():
    big = "x" * (1024 * 1024)
    ops = [{"op": "copy", "from": "/a", "path": f"/c{i}"} for i in range(3)]
    err = raises(json_patch, {"a": big}, ops)
    assert err.cause == ("Unable to complete the copy, the accumulated size increase of copy is "
                         "3145734, exceeding the limit 3145728")


def test_json_patch_strict_errors_name_unknown_fields():
    ops = [{"op": "add", "path": "/a", "value": 1, "extra": 2}, {"op": "remove", "path": "/b"}]
    assert json_patch_strict_errors(ops) == ['json patch unknown field "[0].extra"']


# ---------------------------------------------------------------------------------------------
# Strategic merge patch

def nginx_statefulset() -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 2, "serviceName": "nginx",
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{
                    "name": "nginx", "image": "registry.k8s.io/nginx-slim:0.26",
                    "ports": [{"containerPort": 80, "name": "web", "protocol": "TCP"}],
                    "volumeMounts": [{"mountPath": "/usr/share/nginx/html", "name": "www"}],
                }]},
            },
            "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                      "metadata": {"name": "www"},
                                      "spec": {"accessModes": ["ReadWriteOnce"],
                                               "resources": {"requests": {"storage": "1Gi"}},
                                               "volumeMode": "Filesystem"},
                                      "status": {"phase": "Pending"}}],
        },
    }


def test_smp_kubectl_apply_adds_a_sidecar_and_keeps_nginx_ports():
    # The client-side-apply patch quoted in CLIENTS.md section 1.1.
    vct = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "www"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}]
    patch = {"spec": {
        "template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
            "containers": [{"image": "busybox:1.36", "name": "sidecar"},
                           {"env": [{"name": "A", "value": "b"}],
                            "image": "registry.k8s.io/nginx-slim:0.27", "name": "nginx"}]}},
        "volumeClaimTemplates": vct}}
    result = strategic_merge_patch(nginx_statefulset(), patch, "apps_v1.StatefulSet")
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"image": "busybox:1.36", "name": "sidecar"},
        {"name": "nginx", "image": "registry.k8s.io/nginx-slim:0.27",
         "ports": [{"containerPort": 80, "name": "web", "protocol": "TCP"}],
         "volumeMounts": [{"mountPath": "/usr/share/nginx/html", "name": "www"}],
         "env": [{"name": "A", "value": "b"}]},
    ]
    assert result["spec"]["volumeClaimTemplates"] == vct  # atomic list: replaced whole
    assert result["spec"]["replicas"] == 2


def test_smp_service_port_added_with_set_element_order():
    svc = {"spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}],
                    "selector": {"app": "nginx"}}}
    patch = {"spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 443}],
                      "ports": [{"name": "tls", "port": 443}]}}
    assert strategic_merge_patch(svc, patch, "core_v1.Service")["spec"]["ports"] == [
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80},
        {"name": "tls", "port": 443}]


def test_smp_json_merge_patch_would_have_dropped_the_ports():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "x"}]}}}}
    merged = merge_patch(nginx_statefulset(), patch)
    assert "ports" not in merged["spec"]["template"]["spec"]["containers"][0]
    smp = strategic_merge_patch(nginx_statefulset(), patch, "apps_v1.StatefulSet")
    assert smp["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 80


def test_smp_removing_a_container_with_delete_directive():
    pod = {"spec": {"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}],
                      "containers": [{"$patch": "delete", "name": "a"}]}}
    assert strategic_merge_patch(pod, patch, "core_v1.Pod") == {
        "spec": {"containers": [{"name": "b", "image": "b"}]}}
    # without $setElementOrder, and for a name that is not there
    assert strategic_merge_patch(pod, {"spec": {"containers": [{"$patch": "delete",
                                                                "name": "zzz"}]}},
                                 "core_v1.Pod") == pod


def test_smp_new_list_items_go_before_server_items_without_an_order():
    pod = {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    result = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "c"}]}}, "core_v1.Pod")
    assert [c["name"] for c in result["spec"]["containers"]] == ["c", "a", "b"]


def test_smp_merges_nested_lists_by_their_own_keys():
    pod = {"spec": {"containers": [{
        "name": "app",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "ports": [{"containerPort": 80}],
        "args": ["--a", "--b"]}]}}
    patch = {"spec": {"containers": [{
        "name": "app",
        "env": [{"name": "B", "value": "3"}, {"name": "A", "$patch": "delete"}],
        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
        "ports": [{"containerPort": 80, "name": "http"}],
        "args": ["--c"]}]}}
    container = strategic_merge_patch(pod, patch, "core_v1.Pod")["spec"]["containers"][0]
    assert container["env"] == [{"name": "B", "value": "3"}]
    assert container["volumeMounts"] == [{"name": "cache", "mountPath": "/cache"},
                                         {"name": "data", "mountPath": "/data"}]
    assert container["ports"] == [{"containerPort": 80, "name": "http"}]
    assert container["args"] == ["--c"]  # no patch strategy: replaced


def test_smp_lists_without_strategy_are_replaced():
    pod = {"spec": {"tolerations": [{"key": "a", "operator": "Exists"}],
                    "containers": [{"name": "c", "resources": {"claims": [{"name": "x"}]}}]}}
    patch = {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}],
                      "containers": [{"name": "c", "resources": {"claims": [{"name": "y"}]}}]}}
    result = strategic_merge_patch(pod, patch, "core_v1.Pod")
    assert result["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    # claims is +listType=map but has no patch tags: the server replaces it
    assert result["spec"]["containers"][0]["resources"]["claims"] == [{"name": "y"}]


def test_smp_status_conditions_merge_by_type():
    pod = {"status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]}}
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}], "phase": "Running"}}
    assert strategic_merge_patch(pod, patch, "core_v1.Pod")["status"] == {
        "phase": "Running",
        "conditions": [{"type": "PodScheduled", "status": "True"},
                       {"type": "Ready", "status": "True"}]}


def test_smp_metadata_maps_and_owner_references():
    obj = {"metadata": {"labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"},
                        "ownerReferences": [{"uid": "u1", "name": "one", "kind": "ReplicaSet"}]}}
    patch = {"metadata": {"labels": {"a": None, "c": "3"},
                          "ownerReferences": [{"uid": "u1", "controller": True}]}}
    assert strategic_merge_patch(obj, patch, "core_v1.Pod")["metadata"] == {
        "labels": {"b": "2", "c": "3"}, "annotations": {"x": "y"},
        "ownerReferences": [{"uid": "u1", "name": "one", "kind": "ReplicaSet",
                             "controller": True}]}


def test_smp_primitive_merge_lists_are_sets():
    obj = {"metadata": {"finalizers": ["a", "b"]}}
    result = strategic_merge_patch(obj, {"metadata": {"finalizers": ["b", "c"]}}, "core_v1.Pod")
    assert result["metadata"]["finalizers"] == ["a", "b", "c"]
    # upstream's order: patch items missing from the live list lead, then the live order
    obj = {"metadata": {"finalizers": ["x", "y"]}}
    result = strategic_merge_patch(obj, {"metadata": {"finalizers": ["z", "x"]}}, "core_v1.Pod")
    assert result["metadata"]["finalizers"] == ["z", "x", "y"]


def test_smp_delete_from_primitive_list():
    obj = {"metadata": {"finalizers": ["a", "b", "c"]}}
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "c"]}}
    assert strategic_merge_patch(obj, patch, "core_v1.Pod") == {"metadata": {"finalizers": ["b"]}}
    # kubectl's three-way form, with an order list
    obj = {"metadata": {"finalizers": ["a", "b"]}}
    patch = {"metadata": {"$setElementOrder/finalizers": ["b", "c"],
                          "$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"]}}
    assert strategic_merge_patch(obj, patch, "core_v1.Pod") == {
        "metadata": {"finalizers": ["b", "c"]}}
    # upstream quirk: with no list there, the deletion list becomes the list
    assert strategic_merge_patch({"metadata": {}}, {"metadata": {
        "$deleteFromPrimitiveList/finalizers": ["a"]}}, "core_v1.Pod") == {
        "metadata": {"finalizers": ["a"]}}


def test_smp_set_element_order_alone_reorders():
    pod = {"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"},
                                                      {"name": "b"}]}}
    result = strategic_merge_patch(pod, patch, "core_v1.Pod")
    assert [c["name"] for c in result["spec"]["containers"]] == ["c", "a", "b"]


def test_smp_set_element_order_interleaves_server_only_items_by_live_order():
    pod = {"spec": {"containers": [{"name": "a"}, {"name": "s"}, {"name": "b"}]}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                      "containers": [{"name": "b", "image": "x"}]}}
    result = strategic_merge_patch(pod, patch, "core_v1.Pod")
    # mergeSortedSlice: "s" (live index 1) goes before "b" (live index 2); then the
    # $setElementOrder order b, a
    assert [c["name"] for c in result["spec"]["containers"]] == ["s", "b", "a"]
    assert result["spec"]["containers"][1] == {"name": "b", "image": "x"}


def test_smp_retain_keys_clears_the_other_strategy_fields():
    deploy = {"spec": {"strategy": {"type": "RollingUpdate",
                                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert strategic_merge_patch(deploy, patch, "apps_v1.Deployment") == {
        "spec": {"strategy": {"type": "Recreate"}}}
    # on a volume (patchStrategy merge,retainKeys): switching emptyDir to a configMap source
    pod = {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}
    patch = {"spec": {"volumes": [{"$retainKeys": ["configMap", "name"], "name": "v",
                                   "configMap": {"name": "cm"}}]}}
    assert strategic_merge_patch(pod, patch, "core_v1.Pod")["spec"]["volumes"] == [
        {"name": "v", "configMap": {"name": "cm"}}]


def test_smp_retain_keys_errors_are_bad_requests():
    deploy = {"spec": {"strategy": {"type": "RollingUpdate"}}}
    err = raises(strategic_merge_patch, deploy,
                 {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
                 "apps_v1.Deployment")
    assert (err.code, err.message) == (400, "invalid patch format of retainKeys")
    err = raises(strategic_merge_patch, deploy, {"spec": {"strategy": {"$retainKeys": "type"}}},
                 "apps_v1.Deployment")
    assert (err.code, err.message) == (400, "invalid patch format of retainKeys")


def test_smp_patch_directive_on_maps():
    pod = {"spec": {"nodeSelector": {"a": "1"}, "securityContext": {"runAsUser": 1,
                                                                    "fsGroup": 2}}}
    result = strategic_merge_patch(pod, {"spec": {"securityContext": {"$patch": "replace",
                                                                      "runAsGroup": 3}}},
                                   "core_v1.Pod")
    assert result["spec"]["securityContext"] == {"runAsGroup": 3}
    result = strategic_merge_patch(pod, {"spec": {"securityContext": {"$patch": "delete"}}},
                                   "core_v1.Pod")
    assert result["spec"]["securityContext"] == {}
    assert strategic_merge_patch(pod, {"$patch": "replace", "spec": {}}, "core_v1.Pod") == {
        "spec": {}}
    err = raises(strategic_merge_patch, pod, {"spec": {"securityContext": {"$patch": "bogus",
                                                                           "foo": "bar"}}},
                 "core_v1.Pod")
    assert (err.code, err.reason) == (500, "")
    assert err.message == "unknown patch type: bogus in map: map[$patch:bogus foo:bar]"


def test_smp_patch_directive_on_lists():
    pod = {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    result = strategic_merge_patch(pod, {"spec": {"containers": [{"$patch": "replace"},
                                                                 {"name": "c"}]}},
                                   "core_v1.Pod")
    assert result["spec"]["containers"] == [{"name": "c"}]
    err = raises(strategic_merge_patch, pod, {"spec": {"containers": [{"$patch": "merge"}]}},
                 "core_v1.Pod")
    assert (err.code, err.message) == (500, "merging lists cannot yet be specified in the patch")


def test_smp_replace_strategy_on_a_map_field():
    pdb = {"spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "1"},
                                                    "matchExpressions": [{"key": "k",
                                                                          "operator": "Exists"}]}}}
    result = strategic_merge_patch(pdb, {"spec": {"selector": {"matchLabels": {"b": "2"}}}},
                                   "policy_v1.PodDisruptionBudget")
    assert result["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {"b": "2"}}}


def test_smp_untyped_data_merges_maps_and_replaces_lists():
    original = {"data": {"a": {"x": 1, "y": [1, 2]}}, "list": [{"name": "a"}]}
    patch = {"data": {"a": {"x": None, "y": [3]}}, "list": [{"name": "b"}]}
    expected = {"data": {"a": {"y": [3]}}, "list": [{"name": "b"}]}
    assert strategic_merge_patch(original, patch, "example.com_v1.Widget") == expected
    assert strategic_merge_patch(original, patch, None) == expected


def test_smp_null_patch_changes_nothing():
    pod = {"spec": {"containers": [{"name": "a"}]}}
    result = strategic_merge_patch(pod, None, "core_v1.Pod")
    assert result == pod and result is not pod


def test_smp_error_messages():
    pod = {"spec": {"containers": [{"name": "a"}]}}
    err = raises(strategic_merge_patch, pod, {"spec": {"containers": [{"image": "foo"}]}},
                 "core_v1.Pod")
    assert (err.code, err.reason, err.kind) == (500, "", "InternalError")
    assert err.message == "map: map[image:foo] does not contain declared merge key: name"

    err = raises(strategic_merge_patch, pod, {"spec": {"containers": ["x"]}}, "core_v1.Pod")
    assert err.message == "list element types are not identical: [[map[name:a]] [x]]"

    err = raises(strategic_merge_patch, {"metadata": {"finalizers": [["a"]]}},
                 {"metadata": {"finalizers": [["b"]]}}, "core_v1.Pod")
    assert (err.code, err.reason, err.message) == (422, "Invalid", GENERIC_422)
    assert err.cause == "lists of lists are not supported"

    err = raises(strategic_merge_patch, {"metadata": {"finalizers": ["a"]}},
                 {"metadata": {"finalizers": [{"a": 1}]}}, "core_v1.Pod")
    assert err.message == "list element types are not identical: [[a] [map[a:1]]]"

    err = raises(strategic_merge_patch, {"metadata": {"finalizers": []}},
                 {"metadata": {"finalizers": [{"a": 1.5}]}}, "core_v1.Pod")
    assert err.message == "cannot merge lists without merge key for type string"

    err = raises(strategic_merge_patch, pod, ["x"], "core_v1.Pod")
    assert (err.code, err.message) == (400, "json: cannot unmarshal array into Go value of type "
                                            "map[string]interface {}")


def test_smp_directive_format_errors():
    pod = {"metadata": {"finalizers": ["a"]}, "spec": {"containers": [{"name": "a"}]}}
    err = raises(strategic_merge_patch, pod,
                 {"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}, "core_v1.Pod")
    assert (err.code, err.message) == (400, "invalid patch format of primitive list")
    err = raises(strategic_merge_patch, pod,
                 {"spec": {"$setElementOrder": [{"name": "a"}]}}, "core_v1.Pod")
    assert (err.code, err.message) == (400, "invalid patch format of setElementOrder list")
    err = raises(strategic_merge_patch, pod,
                 {"spec": {"$setElementOrder/containers": {"name": "a"}}}, "core_v1.Pod")
    assert (err.code, err.message) == (500, "expected a []interface {}, but received a "
                                             "map[string]interface {}")
    err = raises(strategic_merge_patch, pod,
                 {"spec": {"$setElementOrder/containers": [{"name": "a"}],
                           "containers": [{"name": "b"}]}}, "core_v1.Pod")
    assert err.code == 500
    assert err.message == ("The order in patch list:\n[map[name:b]]\n doesn't match "
                           "$setElementOrder list:\n[map[name:a]]\n")


def test_smp_null_in_a_merging_list_is_a_panic():
    err = raises(strategic_merge_patch, {"metadata": {"finalizers": [None]}},
                 {"metadata": {"finalizers": ["a"]}}, "core_v1.Pod")
    assert (err.code, err.kind) == (500, "Panic")
    assert err.message == "This request caused apiserver to panic. Look in the logs for details."


def test_merge_keys_table_matches_the_schema():
    for (type_name, field), (strategy, merge_key) in MERGE_KEYS.items():
        field_type = TYPES[type_name][field]
        if field_type.startswith("["):
            assert strategy.split(",")[0] == "merge", (type_name, field)
            element = field_type[1:]
            if merge_key is None:
                assert element not in TYPES, (type_name, field)
            else:
                assert merge_key in TYPES[element], (type_name, field, merge_key)
        else:
            assert field_type in TYPES and strategy in ("retainKeys", "replace"), (type_name, field)
            assert merge_key is None


def test_patch_error_to_api_error():
    err = raises(strategic_merge_patch, {}, ["x"], "core_v1.Pod").to_api_error()
    assert err.status["code"] == 400 and err.status["reason"] == "BadRequest"
    err = raises(json_patch, {"a": 1}, [{"op": "test", "path": "/a", "value": 2}]).to_api_error()
    assert err.status["code"] == 422 and err.status["reason"] == "Invalid"
    assert err.status["message"] == GENERIC_422 and err.status["details"] == {}
    err = raises(json_patch, {}, [{}] * 10001).to_api_error()
    assert err.status["code"] == 413


# ---------------------------------------------------------------------------------------------
# Go's stable sort, which upstream's ordering relies on

@PROPERTY
@given(st.lists(st.integers(0, 30), max_size=120))
def test_go_stable_sort_agrees_with_sorted_for_a_strict_order(values):
    items = list(enumerate(values))
    patch_mod._go_stable_sort(items, lambda a, b: a[1] < b[1])
    assert items == sorted(enumerate(values), key=lambda iv: iv[1])


# ---------------------------------------------------------------------------------------------
# No function mutates its inputs or returns containers that alias them

_any_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["a", "b", "c"])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(["a", "b", "c", "name"]),
                                               children, max_size=3)),
    max_leaves=10)
_docs = st.dictionaries(st.sampled_from(["a", "b", "c", "name"]), _any_json, max_size=4)
_directive_keys = st.sampled_from(["a", "b", "$patch", "$retainKeys", "$setElementOrder/a",
                                   "$deleteFromPrimitiveList/a"])
_smp_patches = st.dictionaries(_directive_keys, _any_json, max_size=4)
_pointer = st.lists(st.sampled_from(["a", "b", "0", "1", "-", "name"]), max_size=3).map(
    lambda parts: "".join("/" + p for p in parts))
_ops = st.lists(st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]),
     "path": _pointer},
    optional={"from": _pointer, "value": _any_json}), max_size=4)

_pods = st.fixed_dictionaries({"metadata": st.fixed_dictionaries(
    {"finalizers": st.lists(st.sampled_from(["x", "y", "z"]), max_size=3)}),
    "spec": st.fixed_dictionaries({"containers": st.lists(st.fixed_dictionaries(
        {"name": st.sampled_from(["a", "b", "c"]),
         "env": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["A", "B"]),
                                                "value": st.sampled_from(["1", "2"])}),
                         max_size=2)}), max_size=3)})})
_pod_patches = st.fixed_dictionaries({}, optional={
    "metadata": st.fixed_dictionaries({}, optional={
        "finalizers": st.lists(st.sampled_from(["x", "y", "w"]), max_size=3),
        "$deleteFromPrimitiveList/finalizers": st.lists(st.sampled_from(["x", "y"]), max_size=2),
        "$setElementOrder/finalizers": st.lists(st.sampled_from(["x", "y", "w"]), max_size=3)}),
    "spec": st.fixed_dictionaries({}, optional={
        "containers": st.lists(st.fixed_dictionaries(
            {"name": st.sampled_from(["a", "b", "d"])},
            optional={"image": st.sampled_from(["i1", "i2"]),
                      "$patch": st.sampled_from(["delete", "replace"]),
                      "env": st.lists(st.fixed_dictionaries(
                          {"name": st.sampled_from(["A", "C"])},
                          optional={"value": st.none() | st.just("3")}), max_size=2)}),
            max_size=3),
        "$setElementOrder/containers": st.lists(st.fixed_dictionaries(
            {"name": st.sampled_from(["a", "b", "c", "d"])}), max_size=3)})})


def _containers(value, out=None) -> set:
    out = set() if out is None else out
    if type(value) in (dict, list):
        out.add(id(value))
        for child in (value.values() if type(value) is dict else value):
            _containers(child, out)
    return out


def _check_pure(fn, *inputs):
    before = copy.deepcopy(inputs)
    try:
        result = fn(*inputs)
    except PatchError:
        result = None
    assert inputs == before
    for a, b in zip(inputs, before):  # also no change in JSON type (1 vs 1.0, True vs 1)
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    shared = _containers(result) & set().union(*(_containers(i) for i in inputs))
    assert not shared
    return result


@PROPERTY
@given(_docs, _any_json)
def test_merge_patch_is_pure(original, patch):
    _check_pure(merge_patch, original, patch)
    _check_pure(lambda o, p: merge_patch(o, p, field_validation="Ignore"), original, patch)


@PROPERTY
@given(_docs, _docs)
def test_create_merge_patch_is_pure(original, modified):
    _check_pure(create_merge_patch, original, modified)


@PROPERTY
@given(_docs, _ops)
def test_json_patch_is_pure(original, ops):
    _check_pure(json_patch, original, ops)


@PROPERTY
@given(_docs, _smp_patches, st.sampled_from([None, "core_v1.Pod", "meta_v1.ObjectMeta"]))
def test_strategic_merge_patch_is_pure(original, patch, type_name):
    _check_pure(strategic_merge_patch, original, patch, type_name)


@PROPERTY
@given(_pods, _pod_patches)
def test_strategic_merge_patch_on_pods_is_pure_and_keeps_unpatched_containers(pod, patch):
    result = _check_pure(strategic_merge_patch, pod, patch, "core_v1.Pod")
    if result is None:
        return
    patched = patch.get("spec", {}).get("containers", [])
    if any("$patch" in c for c in patched) or "$setElementOrder/containers" in patch.get(
            "spec", {}):
        return
    names = {c["name"] for c in patched}
    for container in pod["spec"]["containers"]:
        if container["name"] not in names:
            assert container in result["spec"]["containers"]
