"""Subresources: scale, binding, eviction with PodDisruptionBudgets."""

import pytest

import fakekube
from fakekube.testing.builders import pdb, pod


@pytest.fixture
def cluster():
    """One node, n1, with its kubelet: pods bound there run and become Ready."""
    return fakekube.Cluster(nodes=["n1"])


def ready(cluster, name, namespace="default"):
    p = cluster.get("Pod", name, namespace)
    p["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    cluster.replace(p, subresource="status")


def test_binding_sets_node_and_condition(cluster):
    cluster.create(pod("p"))
    out = cluster.api.bind("p", "default", {"apiVersion": "v1", "kind": "Binding",
                                            "metadata": {"name": "p"},
                                            "target": {"kind": "Node", "name": "n1"}})
    assert out["status"] == "Success" and out["code"] == 201
    p = cluster.get("Pod", "p")
    assert p["spec"]["nodeName"] == "n1"
    assert [c for c in p["status"]["conditions"] if c["type"] == "PodScheduled"][0][
        "status"] == "True"
    with pytest.raises(fakekube.Conflict) as e:
        cluster.api.bind("p", "default", {"metadata": {"name": "p"},
                                          "target": {"kind": "Node", "name": "n2"}})
    assert e.value.message == ('Operation cannot be fulfilled on pods/binding "p": pod p is '
                               'already assigned to node "n1"')


def test_eviction_without_budget_deletes_gracefully(cluster):
    cluster.create(pod("p", node="n1"))
    ready(cluster, "p")
    out = cluster.api.evict("p", "default", {"apiVersion": "policy/v1", "kind": "Eviction",
                                             "metadata": {"name": "p"}})
    assert out["code"] == 201
    p = cluster.get("Pod", "p")
    assert p["metadata"]["deletionTimestamp"]
    assert any(c["type"] == "DisruptionTarget" and c["reason"] == "EvictionByEvictionAPI"
               for c in p["status"]["conditions"])


def test_eviction_honours_the_budget(cluster):
    for i in range(3):
        cluster.create(pod(f"p{i}", labels={"app": "db"}, node="n1"))
        ready(cluster, f"p{i}")
    cluster.create(pdb("db", {"app": "db"}, min_available=2))
    cluster.settle()
    st = cluster.get("PodDisruptionBudget", "db")["status"]
    assert (st["currentHealthy"], st["desiredHealthy"], st["expectedPods"],
            st["disruptionsAllowed"]) == (3, 2, 3, 1)
    cluster.api.evict("p0", "default", {"metadata": {"name": "p0"}})
    with pytest.raises(fakekube.TooManyRequests) as e:
        cluster.api.evict("p1", "default", {"metadata": {"name": "p1"}})
    assert e.value.code == 429
    assert e.value.message == ("Cannot evict pod as it would violate the pod's disruption "
                               "budget.")
    assert e.value.status["details"]["causes"] == [{
        "reason": "DisruptionBudget",
        "message": "The disruption budget db needs 2 healthy pods and has 3 currently"}]
    assert not cluster.get("Pod", "p1")["metadata"].get("deletionTimestamp")
    cluster.settle()
    st = cluster.get("PodDisruptionBudget", "db")["status"]
    assert st["currentHealthy"] == 2 and st["disruptionsAllowed"] == 0


def test_two_budgets_are_a_500(cluster):
    cluster.create(pod("p", labels={"app": "db"}, node="n1"))
    ready(cluster, "p")
    cluster.create(pdb("a", {"app": "db"}, min_available=0))
    cluster.create(pdb("b", {"app": "db"}, min_available=0))
    cluster.settle()
    with pytest.raises(fakekube.ApiError) as e:
        cluster.api.evict("p", "default", {"metadata": {"name": "p"}})
    assert e.value.code == 500
