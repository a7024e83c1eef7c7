"""lightkube against a served cluster: create, get, list (with paging), watch, the four
patch types and server-side apply."""

from __future__ import annotations

import pytest

from kube_manifests import pod

lightkube = pytest.importorskip("lightkube")
from lightkube import Client, KubeConfig  # noqa: E402
from lightkube.core.exceptions import ApiError  # noqa: E402
from lightkube.models.meta_v1 import ObjectMeta  # noqa: E402
from lightkube.resources.apps_v1 import StatefulSet  # noqa: E402
from lightkube.resources.core_v1 import ConfigMap, Pod  # noqa: E402
from lightkube.types import PatchType  # noqa: E402

from kube_manifests import statefulset  # noqa: E402


@pytest.fixture
def lk(served):
    cluster, ep = served
    c = Client(KubeConfig.from_file(ep.kubeconfig), field_manager="probe")
    yield cluster, ep, c
    c.close() if hasattr(c, "close") else None


def test_crud_patch_types_apply(lk):
    cluster, ep, c = lk
    cm = c.create(ConfigMap(metadata=ObjectMeta(name="lk1"), data={"a": "b"}))
    assert cm.metadata.namespace == "default"
    assert c.get(ConfigMap, "lk1").data == {"a": "b"}
    c.patch(ConfigMap, "lk1", {"data": {"c": "d"}}, patch_type=PatchType.MERGE)
    c.patch(ConfigMap, "lk1", {"data": {"e": "f"}})  # strategic, the default
    c.patch(ConfigMap, "lk1", [{"op": "add", "path": "/data/g", "value": "h"}],
            patch_type=PatchType.JSON)
    c.apply(ConfigMap(metadata=ObjectMeta(name="lk2"), data={"x": "y"}), force=True)
    assert cluster.get("ConfigMap", "lk1")["data"] == {"a": "b", "c": "d", "e": "f", "g": "h"}
    assert cluster.get("ConfigMap", "lk2")["data"] == {"x": "y"}
    mf = cluster.get("ConfigMap", "lk2")["metadata"]["managedFields"]
    assert [(m["manager"], m["operation"]) for m in mf] == [("probe", "Apply")]
    assert mf[0]["fieldsV1"] == {"f:data": {"f:x": {}}}
    c.create(StatefulSet.from_dict(statefulset(claims=False, replicas=1)))
    c.patch(StatefulSet.Scale, "web", {"spec": {"replicas": 3}})
    assert c.get(StatefulSet.Scale, "web").spec.replicas == 3
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 3
    ep.settle()  # the controllers are done with it: no status write races the replace
    obj = c.get(StatefulSet, "web")
    obj.spec.replicas = 2
    c.replace(obj)
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 2
    with pytest.raises(ApiError) as exc:
        c.get(ConfigMap, "missing")
    assert exc.value.status.code == 404
    c.delete(ConfigMap, "lk1")
    assert [i["metadata"]["name"] for i in cluster.list("ConfigMap", "default")["items"]] == [
        "lk2"]


def test_list_paging_and_watch(lk):
    cluster, ep, c = lk
    for i in range(5):
        cluster.create(pod(f"w{i}", node=None, labels={"app": "w"}))
    names = [p.metadata.name for p in c.list(Pod, namespace="default", chunk_size=2,
                                              labels={"app": "w"})]
    assert names == [f"w{i}" for i in range(5)]
    rv = cluster.list("Pod", "default")["metadata"]["resourceVersion"]
    cluster.delete("Pod", "w3")
    events = []
    for op, obj in c.watch(Pod, namespace="default", resource_version=rv, server_timeout=1):
        events.append((op, obj.metadata.name))
        break
    assert events == [("DELETED", "w3")]
    assert len(cluster.list("Pod", "default")["items"]) == 4
