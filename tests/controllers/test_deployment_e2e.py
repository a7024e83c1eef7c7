"""Deployments end to end with the real scheduler (and, for DEP-3, the storage controllers):
SPEC.md DEP-1..DEP-3 as a user sees them.
"""

from __future__ import annotations

import fakekube
import pytest


def make_cluster(nodes=3, **options) -> fakekube.Cluster:
    return fakekube.Cluster(nodes=nodes, **options)


def deployment(name="web", replicas=3, volumes=None) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": "nginx:1"}]}
    if volumes:
        spec["volumes"] = volumes
        spec["containers"][0]["volumeMounts"] = [{"name": v["name"], "mountPath": "/data"}
                                                 for v in volumes]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def active(c) -> list[dict]:
    return [p for p in c.list("Pod")["items"] if not p["metadata"].get("deletionTimestamp")
            and p["status"].get("phase") not in ("Succeeded", "Failed")]


def test_deployment_is_scheduled_run_and_rolled_out():
    c = make_cluster()
    c.create(deployment(replicas=6))
    c.settle()
    pods = active(c)
    assert len(pods) == 6 and all(p["status"]["phase"] == "Running" for p in pods)
    assert {p["spec"]["nodeName"] for p in pods} == {"node-1", "node-2", "node-3"}
    c.patch("Deployment", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": "nginx:2"}]}}}}, patch_type="strategic")
    c.settle()
    d = c.get("Deployment", "web")
    assert d["status"]["updatedReplicas"] == 6 and d["status"]["availableReplicas"] == 6
    assert {p["spec"]["containers"][0]["image"] for p in active(c)} == {"nginx:2"}


def test_pods_of_a_failed_node_are_replaced_elsewhere_at_once():
    c = make_cluster()
    c.create(deployment(replicas=3))
    c.settle()
    lost = [p["metadata"]["name"] for p in active(c) if p["spec"]["nodeName"] == "node-1"]
    assert lost
    c.fail_node("node-1")
    c.settle()
    for name in lost:
        # evicted after the unreachable toleration, never finished: still Terminating
        assert c.get("Pod", name)["metadata"].get("deletionTimestamp")
    now = active(c)
    assert len(now) == 3 and not {p["metadata"]["name"] for p in now} & set(lost)
    assert all(p["spec"]["nodeName"] != "node-1" and p["status"]["phase"] == "Running"
               for p in now)


def test_replacement_pod_gets_a_new_ephemeral_volume_not_the_old_data():
    c = make_cluster()
    c.create(deployment(replicas=2, volumes=[{"name": "data", "ephemeral": {
        "volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                         "resources": {"requests": {"storage": "1Gi"}}}}}}]))
    c.settle()
    pods = sorted(active(c), key=lambda p: p["metadata"]["name"])
    assert all(p["status"]["phase"] == "Running" for p in pods)
    victim = pods[0]["metadata"]["name"]
    old_claim = c.get("PersistentVolumeClaim", f"{victim}-data")
    c.volume(f"{victim}-data")["/data/state"] = b"precious"
    c.delete("Pod", victim)
    c.settle()
    now = active(c)
    assert len(now) == 2 and victim not in {p["metadata"]["name"] for p in now}
    new = next(p for p in now if p["metadata"]["name"] not in {x["metadata"]["name"]
                                                                for x in pods})
    claim = c.get("PersistentVolumeClaim", f"{new['metadata']['name']}-data")
    assert claim["spec"]["volumeName"] != old_claim["spec"]["volumeName"]
    assert "/data/state" not in c.volume(f"{new['metadata']['name']}-data")
    with pytest.raises(fakekube.NotFound):
        c.get("PersistentVolumeClaim", f"{victim}-data")
