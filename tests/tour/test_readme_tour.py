"""The README's tour, as users will write it: it must keep working."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
DB = re.search(r'DB = """\n(.*?)"""', README.read_text(), re.S).group(1)


def test_replicas_come_up_in_order(kube):
    kube.apply(DB)
    kube.settle()
    pods = kube.list("Pod", label_selector="app=db")["items"]
    assert [p["metadata"]["name"] for p in pods] == ["db-0", "db-1", "db-2"]


@pytest.mark.fakekube(nodes=3, zones=["a", "b", "c"])
def test_replica_survives_its_node(kube):
    kube.apply(DB)
    kube.settle()
    kube.volume("data-db-1")["/var/lib/db/marker"] = b"written by db-1"
    old = kube.get("Pod", "db-1")

    kube.fail_node(old["spec"]["nodeName"])
    kube.settle()
    assert kube.get("Pod", "db-1")["metadata"].get("deletionTimestamp")

    kube.remove_node(old["spec"]["nodeName"])
    kube.settle()
    new = kube.get("Pod", "db-1")
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["spec"]["nodeName"] != old["spec"]["nodeName"]
    assert new["status"]["podIP"] != old["status"]["podIP"]
    assert kube.volume("data-db-1")["/var/lib/db/marker"] == b"written by db-1"
    assert kube.dns.resolve("db-1.db.default.svc.cluster.local") == [new["status"]["podIP"]]


def test_the_served_tour(kube, kube_client):
    from kubernetes import client

    kube.apply(DB)
    apps = client.AppsV1Api(kube_client)
    kube.settle()
    assert apps.read_namespaced_stateful_set("db", "default").status.ready_replicas == 3
