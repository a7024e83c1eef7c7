"""Garbage collection with the three propagation policies."""

import pytest

import fakekube
from fakekube.testing.builders import configmap


def owned(name, owner, block=False):
    obj = configmap(name)
    obj["metadata"]["ownerReferences"] = [{
        "apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "blockOwnerDeletion": block}]
    return obj


def exists(c, name):
    try:
        c.get("ConfigMap", name)
        return True
    except fakekube.NotFound:
        return False


def test_background_deletes_dependents_after_the_owner(cluster):
    owner = cluster.create(configmap("owner"))
    cluster.create(owned("dep1", owner))
    cluster.create(owned("dep2", owner))
    cluster.delete("ConfigMap", "owner")
    assert not exists(cluster, "owner") and exists(cluster, "dep1")
    cluster.settle()
    assert not exists(cluster, "dep1") and not exists(cluster, "dep2")


def test_orphan_keeps_dependents_without_the_reference(cluster):
    owner = cluster.create(configmap("owner"))
    cluster.create(owned("dep", owner))
    out = cluster.delete("ConfigMap", "owner", propagation_policy="Orphan")
    assert out["metadata"]["finalizers"] == ["orphan"]
    cluster.settle()
    assert not exists(cluster, "owner")
    assert "ownerReferences" not in cluster.get("ConfigMap", "dep")["metadata"]


def test_foreground_waits_for_blocking_dependents(cluster):
    owner = cluster.create(configmap("owner"))
    cluster.create(owned("blocker", owner, block=True))
    cluster.patch("ConfigMap", "blocker", {"metadata": {"finalizers": ["example.com/hold"]}})
    out = cluster.delete("ConfigMap", "owner", propagation_policy="Foreground")
    assert out["metadata"]["finalizers"] == ["foregroundDeletion"]
    cluster.settle()
    assert exists(cluster, "owner")  # waits: the blocking dependent is still there
    assert cluster.get("ConfigMap", "blocker")["metadata"]["deletionTimestamp"]
    cluster.patch("ConfigMap", "blocker", {"metadata": {"finalizers": None}})
    cluster.settle()
    assert not exists(cluster, "owner") and not exists(cluster, "blocker")


def test_a_dependent_of_a_vanished_uid_goes_even_if_the_name_is_reused(cluster):
    owner = cluster.create(configmap("owner"))
    cluster.delete("ConfigMap", "owner")
    cluster.create(configmap("owner"))  # same name, new UID
    cluster.create(owned("dep", owner))
    cluster.settle()
    assert not exists(cluster, "dep")


def test_surviving_owner_keeps_the_dependent(cluster):
    a = cluster.create(configmap("a"))
    b = cluster.create(configmap("b"))
    dep = owned("dep", a)
    dep["metadata"]["ownerReferences"].append({"apiVersion": "v1", "kind": "ConfigMap",
                                               "name": "b", "uid": b["metadata"]["uid"]})
    cluster.create(dep)
    cluster.delete("ConfigMap", "a")
    cluster.settle()
    refs = cluster.get("ConfigMap", "dep")["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["b"]
