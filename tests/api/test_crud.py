"""The verbs of the API layer: create, get, list, update, patch, delete, with upstream's
system fields, errors and words."""

import pytest

import fakekube
from fakekube.testing.builders import configmap, namespace, pod


def test_create_fills_system_fields_and_returns_a_copy(cluster):
    cm = cluster.create(configmap("a", data={"k": "v"}))
    m = cm["metadata"]
    assert m["namespace"] == "default"
    assert m["resourceVersion"].isdigit()
    assert len(m["uid"]) == 36 and m["uid"][14] == "4"
    assert m["creationTimestamp"] == "2025-01-01T00:00:00Z"
    assert "generation" not in m  # ConfigMaps do not track generation
    cm["data"]["k"] = "changed"
    assert cluster.get("ConfigMap", "a")["data"] == {"k": "v"}


def test_client_set_system_fields_are_reset_on_create(cluster):
    obj = configmap("a")
    obj["metadata"].update(uid="not-mine", creationTimestamp="2020-01-01T00:00:00Z",
                           deletionTimestamp="2020-01-01T00:00:00Z", resourceVersion="99")
    m = cluster.create(obj)["metadata"]
    assert m["uid"] != "not-mine"
    assert m["creationTimestamp"] == "2025-01-01T00:00:00Z"
    assert "deletionTimestamp" not in m
    assert m["resourceVersion"] != "99"


def test_resource_versions_are_one_global_counter(cluster):
    a = int(cluster.create(configmap("a"))["metadata"]["resourceVersion"])
    b = int(cluster.create(pod("p"))["metadata"]["resourceVersion"])
    c = int(cluster.patch("ConfigMap", "a", {"data": {"x": "y"}})["metadata"]["resourceVersion"])
    assert a < b < c
    assert cluster.list("ConfigMap")["metadata"]["resourceVersion"] == str(c)


def test_generate_name_is_seeded_and_uses_upstream_alphabet():
    names = []
    for _ in range(2):
        c = fakekube.Cluster(nodes=0, seed=42)
        names.append([c.create({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"generateName": "web-"}})["metadata"]["name"]
                      for _ in range(3)])
    assert names[0] == names[1]
    for n in names[0]:
        assert n.startswith("web-") and len(n) == 9
        assert set(n[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")
    c = fakekube.Cluster(nodes=0, seed=43)
    other = c.create({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"generateName": "web-"}})["metadata"]["name"]
    assert other != names[0][0]


def test_name_or_generate_name_required(cluster):
    with pytest.raises(fakekube.Invalid) as e:
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert e.value.message == ('ConfigMap "" is invalid: metadata.name: Required value: name or '
                               'generateName is required')
    assert e.value.status["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
         "field": "metadata.name"}]


def test_already_exists(cluster):
    cluster.create(configmap("a"))
    with pytest.raises(fakekube.AlreadyExists) as e:
        cluster.create(configmap("a"))
    assert e.value.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'configmaps "a" already exists', "reason": "AlreadyExists",
        "details": {"name": "a", "kind": "configmaps"}, "code": 409}


def test_not_found_names_group_and_resource(cluster):
    with pytest.raises(fakekube.NotFound) as e:
        cluster.get("StatefulSet", "web")
    assert e.value.message == 'statefulsets.apps "web" not found'
    assert e.value.status["details"] == {"name": "web", "group": "apps", "kind": "statefulsets"}


def test_unknown_kind_is_the_upstream_404(cluster):
    with pytest.raises(fakekube.NotFound) as e:
        cluster.get("Frobnicator", "x")
    assert e.value.message == "the server could not find the requested resource"
    with pytest.raises(fakekube.NotFound):
        cluster.create({"apiVersion": "example.com/v1", "kind": "Widget",
                        "metadata": {"name": "w"}})
    with pytest.raises(fakekube.NotFound):
        cluster.create({"apiVersion": "apps/v1beta1", "kind": "StatefulSet",
                        "metadata": {"name": "w"}})


def test_namespace_must_exist_and_not_be_terminating(cluster):
    with pytest.raises(fakekube.NotFound) as e:
        cluster.create(configmap("a", namespace="nope"))
    assert e.value.message == 'namespaces "nope" not found'
    cluster.create(namespace("doomed"))
    cluster.create(configmap("keep", namespace="doomed"))
    cluster.patch("ConfigMap", "keep", {"metadata": {"finalizers": ["example.com/hold"]}},
                  namespace="doomed")
    cluster.delete("Namespace", "doomed")
    with pytest.raises(fakekube.Forbidden) as e:
        cluster.create(configmap("b", namespace="doomed"))
    assert e.value.message == ('configmaps "b" is forbidden: unable to create new content in '
                               'namespace doomed because it is being terminated')
    assert e.value.status["details"]["causes"][0]["reason"] == "NamespaceTerminating"


def test_cluster_scoped_objects_ignore_the_namespace(cluster):
    ns = cluster.create({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": "team", "namespace": "default"}})
    assert "namespace" not in ns["metadata"]
    assert cluster.get("Namespace", "team", namespace="whatever")["metadata"]["name"] == "team"


def test_body_name_must_match_on_replace(cluster):
    cluster.create(configmap("a"))
    obj = cluster.get("ConfigMap", "a")
    obj["metadata"]["name"] = "b"
    with pytest.raises(fakekube.BadRequest):
        cluster.api.update(cluster.api.registry.by_kind("ConfigMap"), obj, "a", "default")


def test_update_with_stale_resource_version_conflicts(cluster):
    cluster.create(configmap("a"))
    first = cluster.get("ConfigMap", "a")
    second = cluster.get("ConfigMap", "a")
    first["data"] = {"x": "1"}
    cluster.replace(first)
    second["data"] = {"x": "2"}
    with pytest.raises(fakekube.Conflict) as e:
        cluster.replace(second)
    assert e.value.message == ('Operation cannot be fulfilled on configmaps "a": the object has '
                               'been modified; please apply your changes to the latest version '
                               'and try again')
    assert cluster.get("ConfigMap", "a")["data"] == {"x": "1"}


def test_unconditional_update_without_resource_version(cluster):
    cluster.create(configmap("a"))
    obj = configmap("a", data={"z": "1"})
    assert cluster.replace(obj)["data"] == {"z": "1"}


def test_lease_requires_resource_version_on_update(cluster):
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}}
    cluster.create(lease)
    with pytest.raises(fakekube.Invalid) as e:
        cluster.replace(lease)
    assert e.value.message == ('leases.coordination.k8s.io "l" is invalid: '
                               'metadata.resourceVersion: Invalid value: 0x0: must be specified '
                               'for an update')


def test_noop_update_keeps_resource_version_and_emits_nothing(cluster):
    obj = cluster.create(configmap("a", data={"k": "v"}))
    rv = obj["metadata"]["resourceVersion"]
    w = cluster.watch("ConfigMap", resource_version=rv)
    again = cluster.replace(obj)
    assert again["metadata"]["resourceVersion"] == rv
    assert list(w) == []
    assert cluster.patch("ConfigMap", "a", {"data": {"k": "v"}})["metadata"][
        "resourceVersion"] == rv


def test_merge_strategic_and_json_patches(cluster):
    cluster.create(pod("p", labels={"a": "1"}))
    cluster.patch("Pod", "p", {"metadata": {"labels": {"b": "2", "a": None}}})
    assert cluster.get("Pod", "p")["metadata"]["labels"] == {"b": "2"}
    cluster.patch("Pod", "p", [{"op": "add", "path": "/metadata/annotations",
                                "value": {"x": "y"}}], patch_type="json")
    assert cluster.get("Pod", "p")["metadata"]["annotations"] == {"x": "y"}
    cluster.patch("Pod", "p", {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}},
                  patch_type="strategic")
    c = cluster.get("Pod", "p")["spec"]["containers"]
    assert [x["image"] for x in c] == ["nginx:1.28"]
    assert c[0]["imagePullPolicy"] == "IfNotPresent"  # the rest of the container is kept


def test_bad_patches_leave_the_object_alone(cluster):
    cluster.create(configmap("a", data={"k": "v"}))
    before = cluster.get("ConfigMap", "a")
    with pytest.raises(fakekube.ApiError) as e:
        cluster.patch("ConfigMap", "a", [{"op": "test", "path": "/data/k", "value": "nope"}],
                      patch_type="json")
    assert e.value.code in (400, 422)
    with pytest.raises(fakekube.BadRequest):
        cluster.patch("ConfigMap", "a", {"data": {"k": 5}})
    with pytest.raises(fakekube.UnsupportedMediaType):
        cluster.patch("ConfigMap", "a", {}, patch_type="yaml")
    with pytest.raises(fakekube.Conflict):
        cluster.patch("ConfigMap", "a", {"metadata": {"resourceVersion": "1"}, "data": {}})
    assert cluster.get("ConfigMap", "a") == before


def test_wrong_types_and_unknown_fields_are_rejected_in_process(cluster):
    with pytest.raises(fakekube.BadRequest) as e:
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                        "data": "nope"})
    assert "cannot unmarshal string into Go struct field ConfigMap.data" in e.value.message
    with pytest.raises(fakekube.BadRequest) as e:
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                        "dataa": {}})
    assert e.value.message == 'strict decoding error: unknown field "dataa"'
    with pytest.raises(fakekube.NotFound):
        cluster.get("ConfigMap", "x")


def test_warn_and_ignore_drop_unknown_fields(cluster):
    rt = cluster.api.registry.by_kind("ConfigMap")
    obj = configmap("w")
    obj["bogus"] = 1
    stored = cluster.api.create(rt, obj, "default", field_validation="Warn")
    assert "bogus" not in stored
    assert 'unknown field "bogus"' in cluster.api.warnings


def test_status_writes_ignore_spec_and_main_writes_ignore_status(cluster):
    cluster.create(pod("p"))
    p = cluster.get("Pod", "p")
    p["status"]["phase"] = "Running"
    p["spec"]["activeDeadlineSeconds"] = 5
    cluster.replace(p, subresource="status")
    got = cluster.get("Pod", "p")
    assert got["status"]["phase"] == "Running"
    assert "activeDeadlineSeconds" not in got["spec"]
    got["status"]["phase"] = "Failed"
    got["metadata"]["labels"] = {"x": "y"}
    cluster.replace(got)
    again = cluster.get("Pod", "p")
    assert again["status"]["phase"] == "Running"
    assert again["metadata"]["labels"] == {"x": "y"}


def test_pods_start_pending_with_qos_class(cluster):
    p = cluster.create(pod("p"))
    assert p["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert "generation" not in p["metadata"]  # pods do not track generation in v1.31


def test_finalizers_keep_an_object_until_removed(cluster):
    cluster.create(configmap("a"))
    cluster.patch("ConfigMap", "a", {"metadata": {"finalizers": ["example.com/x"]}})
    out = cluster.delete("ConfigMap", "a")
    assert out["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:00Z"
    assert out["metadata"]["deletionGracePeriodSeconds"] == 0
    with pytest.raises(fakekube.Invalid) as e:
        cluster.patch("ConfigMap", "a", {"metadata": {"finalizers": ["example.com/x", "y.io/z"]}})
    assert "no new finalizers can be added if the object is being deleted" in e.value.message
    cluster.patch("ConfigMap", "a", {"metadata": {"finalizers": None}})
    with pytest.raises(fakekube.NotFound):
        cluster.get("ConfigMap", "a")


def test_delete_answers_status_or_object_as_upstream(cluster):
    cluster.create(configmap("a"))
    uid = cluster.get("ConfigMap", "a")["metadata"]["uid"]
    assert cluster.delete("ConfigMap", "a") == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": "a", "kind": "configmaps", "uid": uid}}
    cluster.create(pod("p"))
    gone = cluster.delete("Pod", "p")  # unscheduled: grace 0, pods return the object
    assert gone["kind"] == "Pod" and gone["metadata"]["name"] == "p"
    with pytest.raises(fakekube.NotFound):
        cluster.get("Pod", "p")


def test_graceful_pod_deletion_and_shortening(cluster):
    # A Node object with no kubelet behind it: nobody finishes the deletion, and podgc
    # leaves the pod alone because its node exists.
    cluster.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "somewhere"}})
    cluster.create(pod("p", node="somewhere", terminationGracePeriodSeconds=30))
    out = cluster.delete("Pod", "p")
    assert out["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:30Z"
    assert out["metadata"]["deletionGracePeriodSeconds"] == 30
    cluster.advance(10)
    # A shorter grace moves the end back by the difference (rest/delete.go BeforeDelete)...
    out = cluster.delete("Pod", "p", grace_period_seconds=25)
    assert out["metadata"]["deletionGracePeriodSeconds"] == 25
    assert out["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:25Z"
    # ... but never before now: clamped, and the grace becomes 1.
    out = cluster.delete("Pod", "p", grace_period_seconds=5)
    assert out["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:10Z"
    assert out["metadata"]["deletionGracePeriodSeconds"] == 1
    longer = cluster.delete("Pod", "p", grace_period_seconds=60)
    assert longer["metadata"]["deletionGracePeriodSeconds"] == 1
    cluster.advance(100)
    assert cluster.get("Pod", "p")  # the API server never removes it on its own
    cluster.delete("Pod", "p", grace_period_seconds=0)
    with pytest.raises(fakekube.NotFound):
        cluster.get("Pod", "p")


def test_delete_preconditions(cluster):
    cluster.create(configmap("a"))
    with pytest.raises(fakekube.Conflict) as e:
        cluster.delete("ConfigMap", "a", preconditions={"uid": "nope"})
    assert e.value.message.startswith(
        'Operation cannot be fulfilled on ConfigMap "a": the UID in the precondition (nope) '
        "does not match the UID in record (")
    with pytest.raises(fakekube.Conflict) as e:
        cluster.delete("ConfigMap", "a", preconditions={"resourceVersion": "1"})
    assert "The object might have been modified" in e.value.message
    assert cluster.get("ConfigMap", "a")


def test_bad_delete_options(cluster):
    cluster.create(configmap("a"))
    with pytest.raises(fakekube.Invalid) as e:
        cluster.delete("ConfigMap", "a", propagation_policy="Sideways")
    assert e.value.message == ('DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
                               'Unsupported value: "Sideways": supported values: "Foreground", '
                               '"Background", "Orphan", "nil"')


def test_dry_run_changes_nothing(cluster):
    rt = cluster.api.registry.by_kind("ConfigMap")
    rv = cluster.store.rv
    out = cluster.api.create(rt, configmap("a"), "default", dry_run=True)
    assert out["metadata"]["name"] == "a"
    assert cluster.store.rv == rv
    with pytest.raises(fakekube.NotFound):
        cluster.get("ConfigMap", "a")


def test_immortal_namespaces(cluster):
    with pytest.raises(fakekube.Forbidden) as e:
        cluster.delete("Namespace", "default")
    assert e.value.message == 'namespaces "default" is forbidden: this namespace may not be deleted'


def test_namespace_deletion_empties_then_removes_it(cluster):
    cluster.create(namespace("team"))
    for i in range(3):
        cluster.create(configmap(f"c{i}", namespace="team"))
    cluster.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "silent"}})
    cluster.create(pod("bound", namespace="team", node="silent"))
    out = cluster.delete("Namespace", "team")
    assert out["status"]["phase"] == "Terminating"
    assert out["metadata"]["deletionTimestamp"]
    cluster.settle()
    # The bound pod is terminating gracefully: only a kubelet (or a force delete) ends it.
    ns = cluster.get("Namespace", "team")
    conds = {c["type"]: c for c in ns["status"]["conditions"]}
    assert conds["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: pods has 1 resource instances")
    assert cluster.list("ConfigMap", namespace="team")["items"] == []
    cluster.delete("Pod", "bound", namespace="team", grace_period_seconds=0)
    cluster.settle()
    with pytest.raises(fakekube.NotFound):
        cluster.get("Namespace", "team")


def test_apply_creates_then_updates_from_yaml(cluster):
    text = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
"""
    made = cluster.apply(text)
    assert [o["metadata"]["name"] for o in made] == ["settings", "other"]
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                   "data": {"mode": "slow"}})
    assert cluster.get("ConfigMap", "settings")["data"] == {"mode": "slow"}
    with pytest.raises(fakekube.BadRequest):
        cluster.apply("a: [unclosed")
