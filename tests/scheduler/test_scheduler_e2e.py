"""The scheduler in a whole cluster: simulated kubelets, node lifecycle, settle()."""

from __future__ import annotations

from schedtest import get_scheduler, pod

import fakekube


def cluster(**kw) -> fakekube.Cluster:
    c = fakekube.Cluster(**kw)
    get_scheduler(c)
    return c


def scheduled(c: fakekube.Cluster) -> dict[str, str | None]:
    return {p["metadata"]["name"]: p["spec"].get("nodeName")
            for p in c.list("Pod", "default")["items"]}


def test_pods_are_scheduled_and_run():
    c = cluster(nodes=3)
    for i in range(6):
        c.create(pod(f"p{i}", cpu="500m"))
    c.settle()
    placed = scheduled(c)
    assert all(placed.values())
    assert sorted(placed.values()) == ["node-1", "node-1", "node-2", "node-2", "node-3",
                                       "node-3"]
    for p in c.list("Pod", "default")["items"]:
        assert p["status"]["phase"] == "Running"


def test_an_unschedulable_pod_lets_the_cluster_settle_and_waits_for_a_node():
    c = cluster(nodes=2)
    c.create(pod("huge", cpu="6"))
    c.settle()
    p = c.get("Pod", "huge")
    cond = [x for x in p["status"]["conditions"] if x["type"] == "PodScheduled"][0]
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")
    assert cond["message"] == (
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: "
        "2 No preemption victims found for incoming pod.")
    events = [e for e in c.events(p) if e["reason"] == "FailedScheduling"]
    assert events and events[0]["type"] == "Warning"
    assert c.settle() == 0
    c.add_node("big", cpu=8)
    c.settle()
    assert c.get("Pod", "huge")["spec"]["nodeName"] == "big"


def test_no_nodes_at_all():
    c = cluster(nodes=0)
    c.create(pod("p"))
    c.settle()
    cond = [x for x in c.get("Pod", "p")["status"]["conditions"]
            if x["type"] == "PodScheduled"][0]
    assert (cond["reason"], cond["message"]) == ("Unschedulable",
                                                 "no nodes available to schedule pods")
    c.add_node("n1")
    c.settle()
    assert c.get("Pod", "p")["spec"]["nodeName"] == "n1"


def test_failed_and_cordoned_nodes_are_avoided():
    c = cluster(nodes=3)
    c.fail_node("node-1")
    c.cordon("node-2")
    c.settle(max_seconds=120)
    for i in range(3):
        c.create(pod(f"p{i}"))
    c.settle(max_seconds=120)
    assert set(scheduled(c).values()) == {"node-3"}


def test_unschedulable_message_with_tainted_node_and_volume_conflict():
    """SPEC SCH-3's example, through the whole cluster."""
    c = cluster(nodes=[{"name": "node-a", "zone": "a"}, {"name": "node-b", "zone": "b"},
                       {"name": "node-c", "zone": "c"}])
    c.fail_node("node-a")
    c.settle(max_seconds=120)
    c.create({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "vol-a"},
              "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                       "storageClassName": "", "hostPath": {"path": "/x"},
                       "claimRef": {"namespace": "default", "name": "data"},
                       "nodeAffinity": {"required": {"nodeSelectorTerms": [{
                           "matchExpressions": [{"key": "topology.kubernetes.io/zone",
                                                 "operator": "In", "values": ["a"]}]}]}}}})
    c.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
              "metadata": {"name": "data", "namespace": "default"},
              "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "",
                       "resources": {"requests": {"storage": "1Gi"}}}})
    c.settle(max_seconds=120)     # the PV controller binds the pre-bound pair
    c.create(pod("web", volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]))
    c.settle(max_seconds=120)
    cond = [x for x in c.get("Pod", "web")["status"]["conditions"]
            if x["type"] == "PodScheduled"][0]
    assert cond["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }, 2 node(s) had volume node affinity conflict. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")


def test_statefulset_replicas_spread_over_nodes():
    c = cluster(nodes=3)
    c.create({"apiVersion": "apps/v1", "kind": "StatefulSet",
              "metadata": {"name": "db", "namespace": "default"},
              "spec": {"replicas": 3, "serviceName": "db",
                       "selector": {"matchLabels": {"app": "db"}},
                       "template": {"metadata": {"labels": {"app": "db"}},
                                    "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    c.settle()
    placed = scheduled(c)
    assert len(placed) == 3
    assert len(set(placed.values())) == 3


def test_wait_for_first_consumer_with_the_cluster_provisioner():
    c = cluster(nodes=[{"name": "node-a", "zone": "a"}, {"name": "node-b", "zone": "b"}])
    c.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
              "metadata": {"name": "wffc"}, "provisioner": "csi.example.com",
              "volumeBindingMode": "WaitForFirstConsumer"})
    c.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
              "metadata": {"name": "data", "namespace": "default"},
              "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "wffc",
                       "resources": {"requests": {"storage": "1Gi"}}}})
    c.create(pod("web", nodeSelector={"topology.kubernetes.io/zone": "b"},
                 volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]))
    c.settle()
    claim = c.get("PersistentVolumeClaim", "data")
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == "node-b"
    assert claim["status"]["phase"] == "Bound"
    web = c.get("Pod", "web")
    assert web["spec"]["nodeName"] == "node-b"
    assert web["status"]["phase"] == "Running"
