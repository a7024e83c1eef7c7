"""Server-side apply (fakekube/api/apply.py): managedFields, list-map merges, pruning,
conflicts and force; end to end with kubectl --server-side and the Python client."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import fakekube
from fakekube import errors
from fakekube.api.apply import (difference, field_set, intersection, merge, path_strings,
                                server_side_apply, track_update, union)
from kube_manifests import SERVICE, statefulset


def sts_config(**spec) -> dict:
    s = {"apiVersion": "apps/v1", "kind": "StatefulSet",
         "metadata": {"name": "web", "labels": {"team": "a"}},
         "spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "x"}},
                  "template": {"metadata": {"labels": {"app": "x"}},
                               "spec": {"containers": [
                                   {"name": "c", "image": "i:1",
                                    "ports": [{"containerPort": 80}]}]}}}}
    s["spec"].update(spec)
    return s


@pytest.fixture
def api():
    c = fakekube.Cluster(nodes=0)
    return c, c.api, c.api.registry.by_kind("StatefulSet")


def managers(obj: dict) -> dict:
    return {(m["manager"], m["operation"]): m["fieldsV1"]
            for m in obj["metadata"].get("managedFields", [])}


def test_field_set_wire_form():
    fs = field_set(sts_config(replicas=2), "apps_v1.StatefulSet")
    assert fs["f:metadata"] == {"f:labels": {"f:team": {}}}
    assert fs["f:spec"]["f:replicas"] == {}
    assert fs["f:spec"]["f:selector"] == {}  # LabelSelector is atomic
    port = fs["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']["f:ports"]
    assert port == {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}
    assert '.spec.template.spec.containers[name="c"].image' in path_strings(fs)
    assert '.spec.template.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]' in (
        path_strings(fs))


def test_apply_creates_then_conflicts_then_force(api):
    cluster, a, rt = api
    obj = server_side_apply(a, rt, "web", "default", sts_config(replicas=2),
                            field_manager="alice")
    assert obj["spec"]["replicas"] == 2
    assert list(managers(obj)) == [("alice", "Apply")]
    assert obj["metadata"]["managedFields"][0]["time"] == "2025-01-01T00:00:00Z"
    bob = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": {"replicas": 3, "serviceName": "other"}}
    with pytest.raises(errors.Conflict) as exc:
        server_side_apply(a, rt, "web", "default", bob, field_manager="bob")
    e = exc.value
    assert e.code == 409
    assert e.message == ('Apply failed with 2 conflicts: conflicts with "alice":\n'
                         "- .spec.replicas\n- .spec.serviceName")
    assert {c["field"] for c in e.status["details"]["causes"]} == {".spec.replicas",
                                                                    ".spec.serviceName"}
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 2
    one = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": {"replicas": 3}}
    with pytest.raises(errors.Conflict) as exc:
        server_side_apply(a, rt, "web", "default", one, field_manager="bob")
    assert exc.value.message == ('Apply failed with 1 conflict: conflict with "alice": '
                                 '.spec.replicas')
    # the same value is no conflict: shared ownership
    same = dict(one, spec={"replicas": 2})
    obj = server_side_apply(a, rt, "web", "default", same, field_manager="carol")
    assert managers(obj)[("carol", "Apply")] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" in managers(obj)[("alice", "Apply")]["f:spec"]
    obj = server_side_apply(a, rt, "web", "default", one, field_manager="bob", force=True)
    assert obj["spec"]["replicas"] == 3
    m = managers(obj)
    assert m[("bob", "Apply")] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in m[("alice", "Apply")]["f:spec"]
    assert ("carol", "Apply") not in m  # lost its only field
    assert obj["metadata"]["generation"] == 2


def test_apply_prunes_what_the_manager_dropped(api):
    cluster, a, rt = api
    server_side_apply(a, rt, "web", "default", sts_config(replicas=2), field_manager="alice")
    server_side_apply(a, rt, "web", "default",
                      {"apiVersion": "apps/v1", "kind": "StatefulSet",
                       "metadata": {"name": "web", "labels": {"extra": "b"}}},
                      field_manager="bob")
    cfg = sts_config()
    del cfg["metadata"]["labels"]
    cfg["spec"]["template"]["spec"]["containers"].insert(0, {"name": "side", "image": "s"})
    obj = server_side_apply(a, rt, "web", "default", cfg, field_manager="alice")
    assert obj["metadata"]["labels"] == {"extra": "b"}  # bob's stays, alice's goes
    assert "replicas" in obj["spec"]  # defaulted back by the strategy, owned by nobody
    assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["side", "c"]
    assert obj["spec"]["template"]["spec"]["containers"][1]["ports"][0]["containerPort"] == 80


def test_apply_is_idempotent(api):
    cluster, a, rt = api
    first = server_side_apply(a, rt, "web", "default", sts_config(replicas=2),
                              field_manager="alice")
    cluster.advance(60)
    before = cluster.get("StatefulSet", "web")  # the controller wrote its status meanwhile
    again = server_side_apply(a, rt, "web", "default", sts_config(replicas=2),
                              field_manager="alice")
    assert again["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert again["metadata"]["managedFields"] == first["metadata"]["managedFields"]


def test_apply_validation_errors(api):
    _, a, rt = api
    with pytest.raises(errors.BadRequest) as exc:
        server_side_apply(a, rt, "web", "default", {"kind": "StatefulSet", "metadata": {}},
                          field_manager="m")
    assert "Incorrect version specified in apply patch" in exc.value.message
    with pytest.raises(errors.Invalid):
        server_side_apply(a, rt, "web", "default", sts_config(), field_manager=None)
    with pytest.raises(errors.BadRequest):
        server_side_apply(a, rt, "web", "default", dict(sts_config(), bogus=1),
                          field_manager="m")


def test_track_update_records_update_entries(api):
    cluster, a, rt = api
    obj = server_side_apply(a, rt, "web", "default", sts_config(replicas=2),
                            field_manager="alice")
    new = json.loads(json.dumps(obj))
    new["spec"]["replicas"] = 5
    new["metadata"]["labels"]["owner"] = "me"
    del new["metadata"]["labels"]["team"]
    track_update(obj, new, manager="kubectl-edit", api_version="apps/v1",
                 type_name=rt.schema, now="2025-01-01T00:10:00Z", ignored={"f:status": {}})
    m = managers(new)
    assert m[("kubectl-edit", "Update")] == {"f:metadata": {"f:labels": {"f:owner": {}}},
                                             "f:spec": {"f:replicas": {}}}
    assert "f:labels" not in m[("alice", "Apply")]["f:metadata"] if "f:metadata" in m[
        ("alice", "Apply")] else True
    entry = next(e for e in new["metadata"]["managedFields"] if e["manager"] == "kubectl-edit")
    assert entry["apiVersion"] == "apps/v1" and entry["time"] == "2025-01-01T00:10:00Z"
    # a create records everything it set, defaults included
    fresh = cluster.create(statefulset("other", claims=False))
    body = json.loads(json.dumps(fresh))
    body["metadata"].pop("managedFields", None)
    track_update(None, body, manager="creator", api_version="apps/v1", type_name=rt.schema,
                 now="t", ignored={"f:status": {}})
    fs = body["metadata"]["managedFields"][0]["fieldsV1"]
    assert "f:podManagementPolicy" in fs["f:spec"] and "f:status" not in fs


def test_update_conflicts_name_the_updater(api):
    cluster, a, rt = api
    obj = server_side_apply(a, rt, "web", "default", sts_config(replicas=2),
                            field_manager="alice")
    new = json.loads(json.dumps(obj))
    new["spec"]["replicas"] = 4
    track_update(obj, new, manager="kubectl", api_version="apps/v1", type_name=rt.schema,
                 now="t", ignored={"f:status": {}}, subresource="scale")
    table = a.table(rt)
    with a.store.lock:
        a.store.replace(table, new, table.objects[("default", "web")])
    with pytest.raises(errors.Conflict) as exc:
        server_side_apply(a, rt, "web", "default",
                          {"apiVersion": "apps/v1", "kind": "StatefulSet",
                           "metadata": {"name": "web"}, "spec": {"replicas": 9}},
                          field_manager="bob")
    assert exc.value.message.startswith('Apply failed with 2 conflicts: conflicts with "alice":')
    assert 'conflicts with "kubectl" with subresource "scale" using apps/v1:' in (
        exc.value.message)


def test_list_merge_order():
    t = "core_v1.PodSpec"
    live = {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"},
                           {"name": "c", "image": "1"}]}
    cfg = {"containers": [{"name": "c", "image": "2"}, {"name": "x", "image": "9"},
                          {"name": "a", "image": "2"}]}
    out = merge(live, cfg, t)
    assert [c["name"] for c in out["containers"]] == ["b", "c", "x", "a"]
    assert out["containers"][1]["image"] == "2"
    sets = merge({"finalizers": ["x", "y"]}, {"finalizers": ["z", "x"]}, "meta_v1.ObjectMeta")
    assert sorted(sets["finalizers"]) == ["x", "y", "z"]
    atomic = merge({"tolerations": [{"key": "a"}]}, {"tolerations": [{"key": "b"}]}, t)
    assert atomic["tolerations"] == [{"key": "b"}]


labels = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["1", "2"]),
                         max_size=3)


@settings(max_examples=60, deadline=None)
@given(labels, labels, st.integers(0, 5), st.integers(0, 5))
def test_set_algebra_and_ownership(l1, l2, r1, r2):
    c1 = {"metadata": {"labels": l1}, "spec": {"replicas": r1}}
    c2 = {"metadata": {"labels": l2}, "spec": {"replicas": r2}}
    s1, s2 = field_set(c1, "apps_v1.StatefulSet"), field_set(c2, "apps_v1.StatefulSet")
    u = union(s1, s2)
    assert set(path_strings(u)) == set(path_strings(s1)) | set(path_strings(s2))
    assert set(path_strings(intersection(s1, s2))) == set(path_strings(s1)) & set(
        path_strings(s2))
    assert set(path_strings(difference(s1, s2))) == set(path_strings(s1)) - set(
        path_strings(s2))


@settings(max_examples=40, deadline=None)
@given(labels, labels, st.integers(0, 5), st.integers(0, 5), st.booleans())
def test_apply_properties(l1, l2, r1, r2, force):
    cluster = fakekube.Cluster(nodes=0)
    a = cluster.api
    rt = a.registry.by_kind("StatefulSet")
    c1 = sts_config(replicas=r1)
    c1["metadata"]["labels"] = l1
    server_side_apply(a, rt, "web", "default", c1, field_manager="one")
    c2 = {"apiVersion": "apps/v1", "kind": "StatefulSet",
          "metadata": {"name": "web", "labels": l2}, "spec": {"replicas": r2}}
    try:
        obj = server_side_apply(a, rt, "web", "default", c2, field_manager="two", force=force)
    except errors.Conflict as exc:
        assert not force
        clash = {f".metadata.labels.{k}" for k in l1.keys() & l2.keys() if l1[k] != l2[k]}
        if r1 != r2:
            clash.add(".spec.replicas")
        assert {c["field"] for c in exc.status["details"]["causes"]} == clash
        return
    # what the second applier sent is live, and it owns exactly that
    assert obj["spec"]["replicas"] == r2
    assert {k: obj["metadata"].get("labels", {}).get(k) for k in l2} == l2
    m = managers(obj)
    assert m[("two", "Apply")] == field_set(c2, rt.schema)
    # applying again changes nothing
    again = server_side_apply(a, rt, "web", "default", c2, field_manager="two", force=force)
    assert again["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_kubectl_server_side_apply_conflict(served, kubectl, tmp_path):
    cluster, ep = served
    f = tmp_path / "web.yaml"
    f.write_text(yaml.safe_dump_all([SERVICE, statefulset(replicas=2, claims=False)]))
    kubectl("apply", "--server-side", "-f", str(f))
    sts = cluster.get("StatefulSet", "web")
    assert ("kubectl", "Apply") in managers(sts)
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=ep.kubeconfig, client_configuration=cfg)
    apps = client.AppsV1Api(client.ApiClient(cfg))
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {"replicas": 5}}
    with pytest.raises(client.ApiException) as exc:
        apps.patch_namespaced_stateful_set("web", "default", body, field_manager="hpa",
                                           _content_type="application/apply-patch+yaml")
    assert exc.value.status == 409
    st_ = json.loads(exc.value.body)
    assert st_["message"] == ('Apply failed with 1 conflict: conflict with "kubectl": '
                              ".spec.replicas")
    assert st_["details"]["causes"][0]["field"] == ".spec.replicas"
    apps.patch_namespaced_stateful_set("web", "default", body, field_manager="hpa",
                                       force=True,
                                       _content_type="application/apply-patch+yaml")
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 5
    # kubectl re-applies its manifest without replicas: hpa keeps the field
    doc = statefulset(replicas=2, claims=False)
    del doc["spec"]["replicas"]
    f.write_text(yaml.safe_dump_all([SERVICE, doc]))
    kubectl("apply", "--server-side", "-f", str(f))
    sts = cluster.get("StatefulSet", "web")
    assert sts["spec"]["replicas"] == 5
    assert managers(sts)[("hpa", "Apply")] == {"f:spec": {"f:replicas": {}}}
    out = kubectl("apply", "--server-side", "-f", str(f), "--dry-run=server").stdout
    assert "serverside-applied (server dry run)" in out
