"""The official ``kubernetes`` Python client, over HTTPS and through the in-process
transport (``endpoint.api_client()``)."""

from __future__ import annotations

import threading

import pytest

import fakekube
from fakekube.http import serve
from kube_manifests import SERVICE, pod, statefulset

k8s = pytest.importorskip("kubernetes")
from kubernetes import client, config, watch  # noqa: E402


@pytest.fixture(params=["https", "in-process"])
def api(request, served):
    cluster, ep = served
    if request.param == "https":
        cfg = client.Configuration()
        config.load_kube_config(config_file=ep.kubeconfig, client_configuration=cfg)
        ac = client.ApiClient(cfg)
    else:
        ac = ep.api_client()
    yield cluster, ep, ac
    ac.close()


def test_crud_scale_and_patch_types(api):
    cluster, ep, ac = api
    v1, apps = client.CoreV1Api(ac), client.AppsV1Api(ac)
    body = dict(SERVICE)
    body["metadata"] = {"name": "nginx"}  # no namespace in the body, as the client sends it
    svc = v1.create_namespaced_service("default", body)
    assert svc.metadata.namespace == "default" and svc.metadata.uid
    apps.create_namespaced_stateful_set("default", statefulset(claims=False, replicas=1))
    assert apps.read_namespaced_stateful_set("web", "default").spec.update_strategy.type == (
        "RollingUpdate")
    scale = apps.patch_namespaced_stateful_set_scale("web", "default", {"spec": {"replicas": 2}})
    assert scale.spec.replicas == 2 and scale.kind == "Scale"
    assert apps.read_namespaced_stateful_set_scale("web", "default").spec.replicas == 2
    # strategic (dict default), json (list), merge, apply
    apps.patch_namespaced_stateful_set("web", "default", {"spec": {"template": {"spec": {
        "containers": [{"name": "nginx", "image": "nginx:1.28"}]}}}})
    c = cluster.get("StatefulSet", "web")["spec"]["template"]["spec"]["containers"]
    assert c[0]["image"] == "nginx:1.28" and c[0]["ports"][0]["containerPort"] == 80
    apps.patch_namespaced_stateful_set("web", "default",
                                       [{"op": "replace", "path": "/spec/replicas", "value": 3}])
    apps.patch_namespaced_stateful_set("web", "default", {"metadata": {"labels": {"t": "m"}}},
                                       _content_type="application/merge-patch+json")
    apps.patch_namespaced_stateful_set(
        "web", "default", {"apiVersion": "apps/v1", "kind": "StatefulSet",
                           "metadata": {"name": "web"}, "spec": {"replicas": 4}},
        field_manager="probe", force=True, _content_type="application/apply-patch+yaml")
    sts = cluster.get("StatefulSet", "web")
    assert sts["spec"]["replicas"] == 4 and sts["metadata"]["labels"] == {"t": "m"}
    # PUT with a stale resourceVersion: 409
    cur = apps.read_namespaced_stateful_set("web", "default")
    fresh_rv = cur.metadata.resource_version
    cur.metadata.resource_version = "1"
    with pytest.raises(client.ApiException) as exc:
        apps.replace_namespaced_stateful_set("web", "default", cur)
    assert exc.value.status == 409
    del fresh_rv
    for _ in range(10):  # read-modify-write: the controller writes status meanwhile
        cur = apps.read_namespaced_stateful_set("web", "default")
        cur.spec.replicas = 6
        try:
            apps.replace_namespaced_stateful_set("web", "default", cur)
            break
        except client.ApiException as e:
            assert e.status == 409
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 6
    # delete returns the typed object for services, a Status dict for statefulsets
    deleted = v1.delete_namespaced_service("nginx", "default")
    assert deleted.metadata.name == "nginx"
    st = apps.delete_namespaced_stateful_set("web", "default", propagation_policy="Foreground")
    assert st is not None
    with pytest.raises(client.ApiException) as exc:
        v1.read_namespaced_service("nginx", "default")
    assert exc.value.status == 404
    assert cluster.list("Service", "default")["items"] == [] or all(
        s["metadata"]["name"] != "nginx" for s in cluster.list("Service", "default")["items"])


def test_selectors_and_conflict(api):
    cluster, ep, ac = api
    v1 = client.CoreV1Api(ac)
    for i, node in enumerate(["node-1", "node-2", None]):
        v1.create_namespaced_pod("default", pod(f"p{i}", node=node,
                                                labels={"app": "x", "i": str(i)}))
    ep.settle()
    names = [p.metadata.name for p in v1.list_namespaced_pod(
        "default", label_selector="app=x,i in (0,2)").items]
    assert names == ["p0", "p2"]
    running = [p.metadata.name for p in v1.list_namespaced_pod(
        "default", field_selector="status.phase=Running").items]
    assert running == ["p0", "p1"]
    with pytest.raises(client.ApiException) as exc:
        v1.create_namespaced_pod("default", pod("p0"))
    assert exc.value.status == 409 and "AlreadyExists" in exc.value.body
    with pytest.raises(client.ApiException) as exc:
        v1.list_namespaced_pod("default", field_selector="spec.foo=bar")
    assert exc.value.status == 400
    page = v1.list_namespaced_pod("default", limit=2)
    assert len(page.items) == 2 and page.metadata._continue
    rest = v1.list_namespaced_pod("default", limit=2, _continue=page.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["p2"]


def test_watch_resource_version_and_timeout(api):
    cluster, ep, ac = api
    v1 = client.CoreV1Api(ac)
    rv = v1.list_namespaced_config_map("default").metadata.resource_version

    def writer() -> None:
        for i in range(3):
            cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": f"cm{i}", "namespace": "default",
                                         "labels": {"w": "yes" if i != 1 else "no"}}})

    t = threading.Thread(target=writer)
    t.start()
    seen = []
    w = watch.Watch()
    for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                       label_selector="w=yes", timeout_seconds=2):
        seen.append((ev["type"], ev["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    t.join()
    assert seen == [("ADDED", "cm0"), ("ADDED", "cm2")]
    rvs = [int(cluster.get("ConfigMap", n)["metadata"]["resourceVersion"]) for n in ("cm0",
                                                                                     "cm2")]
    assert rvs == sorted(rvs)
    # bookmarks are sent only when asked for
    types = [ev["type"] for ev in watch.Watch().stream(
        v1.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1)]
    assert types == ["ADDED"] * 3


def test_watch_410():
    cluster = fakekube.Cluster(nodes=0, event_history=10)
    for i in range(30):
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": f"c{i}", "namespace": "default"}})
    with serve(cluster) as ep:
        v1 = client.CoreV1Api(ep.api_client())
        with pytest.raises(client.ApiException) as exc:
            for _ in watch.Watch().stream(v1.list_namespaced_config_map, "default",
                                          resource_version="2", timeout_seconds=2):
                pass
        assert exc.value.status == 410 and "Expired" in exc.value.reason
    assert len(cluster.list("ConfigMap", "default")["items"]) == 30
