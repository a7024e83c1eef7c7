"""kr8s (sync API) against a served cluster: legacy discovery with trailing slashes,
get-by-name as a list with a duplicated field selector, scale by patching the object,
watch from a resourceVersion."""

from __future__ import annotations

import threading

import pytest

from kube_manifests import SERVICE, pod, statefulset

kr8s = pytest.importorskip("kr8s")
from kr8s.objects import Pod, Service, StatefulSet  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")


def test_create_get_scale_watch_delete(served):
    cluster, ep = served
    api = kr8s.api(kubeconfig=ep.kubeconfig)
    Service(SERVICE, api=api).create()
    StatefulSet(statefulset(claims=False, replicas=1), api=api).create()
    sts = StatefulSet.get("web", namespace="default", api=api)
    assert sts.spec.replicas == 1 and sts.metadata.uid == cluster.get(
        "StatefulSet", "web")["metadata"]["uid"]
    sts.scale(3)
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 3
    assert cluster.get("StatefulSet", "web")["metadata"]["generation"] == 2
    names = {r["name"] for r in api.api_resources()}
    assert {"pods", "statefulsets", "services"} <= names

    rv = cluster.list("Pod", "default")["metadata"]["resourceVersion"]

    def writer() -> None:
        cluster.create(pod("kr-0", node="node-1"))

    threading.Thread(target=writer).start()
    for event, obj in api.watch("pods", namespace="default", since=rv):
        if obj.name == "kr-0":
            assert event == "ADDED"
            break
    ep.settle()
    p = Pod.get("kr-0", namespace="default", api=api)
    assert p.status.phase == "Running"
    p.delete()
    ep.settle()
    assert all(i["metadata"]["name"] != "kr-0" for i in cluster.list("Pod", "default")["items"])
    StatefulSet.get("web", namespace="default", api=api).delete()
    assert cluster.list("StatefulSet")["items"] == []
