"""Simulated kubelets: node registration, pod lifecycle, IPs, readiness, crashes, faults."""

import ipaddress

import pytest

import fakekube
from fakekube.testing.builders import pdb, pod

EPOCH = 1735689600.0


@pytest.fixture
def two():
    return fakekube.Cluster(nodes=[{"name": "n1", "zone": "a"},
                                   {"name": "n2", "zone": "b", "region": "r1",
                                    "labels": {"disk": "ssd"}, "cpu": "8", "pods": 20}])


def status_of(c, name, ns="default"):
    return c.get("Pod", name, ns)["status"]


def cond(p, type_):
    return next((c for c in p["status"].get("conditions", []) if c["type"] == type_), None)


def test_nodes_register_with_labels_capacity_conditions_and_lease(two):
    n2 = two.get("Node", "n2")
    labels = n2["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "n2"
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["topology.kubernetes.io/zone"] == "b"
    assert labels["topology.kubernetes.io/region"] == "r1"
    assert labels["disk"] == "ssd"
    assert n2["status"]["capacity"]["cpu"] == "8"
    assert n2["status"]["allocatable"]["pods"] == "20"
    assert n2["status"]["allocatable"]["memory"] == "8Gi"
    ready = next(c for c in n2["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert n2["spec"]["podCIDR"] == "10.244.2.0/24"
    lease = two.get("Lease", "n2", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == "n2"
    assert lease["metadata"]["ownerReferences"][0]["uid"] == n2["metadata"]["uid"]
    assert "topology.kubernetes.io/zone" not in fakekube.Cluster(nodes=1).get(
        "Node", "node-1")["metadata"]["labels"]


def test_node_count_and_zones_round_robin():
    c = fakekube.Cluster(nodes=4, zones=["a", "b"])
    zones = [n["metadata"]["labels"]["topology.kubernetes.io/zone"]
             for n in c.list("Node")["items"]]
    assert [n["metadata"]["name"] for n in c.list("Node")["items"]] == [
        "node-1", "node-2", "node-3", "node-4"]
    assert zones == ["a", "b", "a", "b"]
    assert [n["spec"]["podCIDR"] for n in c.list("Node")["items"]] == [
        f"10.244.{i}.0/24" for i in range(1, 5)]


def test_bad_node_descriptions():
    with pytest.raises(TypeError, match="gpus"):
        fakekube.Cluster(nodes=[{"name": "n1", "gpus": 2}])
    with pytest.raises(ValueError):
        fakekube.Cluster(nodes=[{"name": "n1"}, {"name": "n1"}])
    with pytest.raises(TypeError):
        fakekube.Cluster(nodes="three")


def test_nodes_beyond_the_pod_cidr_get_none_and_an_event():
    c = fakekube.Cluster(nodes=3, pod_cidr="10.244.0.0/23")  # /24 blocks: index 1 only
    assert c.get("Node", "node-1")["spec"]["podCIDR"] == "10.244.1.0/24"
    assert "podCIDR" not in c.get("Node", "node-2")["spec"]
    events = [e for e in c.events() if e["reason"] == "CIDRNotAvailable"]
    assert [e["involvedObject"]["name"] for e in events] == ["node-2", "node-3"]
    assert events[0]["message"] == "Node node-2 status is now: CIDRNotAvailable"


def test_a_bound_pod_runs_with_an_ip_from_its_node(two):
    two.create(pod("p", node="n2"))
    assert two.settle() == 0
    p = two.get("Pod", "p")
    st = p["status"]
    assert st["phase"] == "Running"
    assert ipaddress.ip_address(st["podIP"]) in ipaddress.ip_network("10.244.2.0/24")
    assert st["podIPs"] == [{"ip": st["podIP"]}]
    assert st["hostIP"] == two.get("Node", "n2")["status"]["addresses"][0]["address"]
    assert [c["type"] for c in st["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert all(c["status"] == "True" for c in st["conditions"])
    [cs] = st["containerStatuses"]
    assert cs["ready"] and cs["started"] and cs["restartCount"] == 0
    assert cs["containerID"].startswith("containerd://")
    assert "running" in cs["state"]
    reasons = [e["reason"] for e in two.events(p)]
    assert reasons == ["Pulled", "Created", "Started"]


def test_every_incarnation_gets_a_new_ip(two):
    seen = set()
    for _ in range(5):
        two.create(pod("p", node="n1"))
        two.settle()
        ip = status_of(two, "p")["podIP"]
        assert ip not in seen
        seen.add(ip)
        two.delete("Pod", "p")
        two.settle()
        with pytest.raises(fakekube.NotFound):
            two.get("Pod", "p")


def test_graceful_deletion_is_finished_by_the_kubelet(two):
    two.create(pod("p", node="n1"))
    two.settle()
    out = two.delete("Pod", "p")
    assert out["metadata"]["deletionGracePeriodSeconds"] == 30
    two.settle()
    with pytest.raises(fakekube.NotFound):
        two.get("Pod", "p")


def test_readiness_override_before_creation_and_across_incarnations(two):
    two.set_pod_ready("p", False)
    two.create(pod("p", node="n1"))
    two.settle()
    p = two.get("Pod", "p")
    ready = cond(p, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")
    assert ready["message"] == "containers with unready status: [app]"
    assert p["status"]["phase"] == "Running"
    two.set_pod_ready("p", True)
    two.settle()
    assert cond(two.get("Pod", "p"), "Ready")["status"] == "True"
    two.set_pod_ready("p", False)
    two.delete("Pod", "p")
    two.settle()
    two.create(pod("p", node="n1"))
    two.settle()
    assert cond(two.get("Pod", "p"), "Ready")["status"] == "False"
    two.set_pod_ready("p", None)
    two.settle()
    assert cond(two.get("Pod", "p"), "Ready")["status"] == "True"


def test_crash_loop_backoff_doubles(two):
    two.create(pod("p", node="n1"))
    two.settle()
    assert two.kill_container("p")
    p = two.get("Pod", "p")
    cs = p["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["restartCount"] == 1
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cond(p, "Ready")["status"] == "False"
    two.advance(9)
    assert "waiting" in status_of(two, "p")["containerStatuses"][0]["state"]
    two.advance(1)
    assert "running" in status_of(two, "p")["containerStatuses"][0]["state"]
    two.kill_container("p")
    assert two.settle() == 20  # 10 s doubled
    cs = status_of(two, "p")["containerStatuses"][0]
    assert cs["restartCount"] == 2 and cs["ready"]
    assert any(e["reason"] == "BackOff" for e in two.events(two.get("Pod", "p")))


@pytest.mark.parametrize("policy,code,phase", [("Never", 0, "Succeeded"), ("Never", 3, "Failed"),
                                               ("OnFailure", 0, "Succeeded")])
def test_completion_follows_restart_policy(two, policy, code, phase):
    obj = pod("job", node="n1", restartPolicy=policy)
    obj["metadata"]["annotations"] = {"fakekube.io/exit-after-seconds": "5",
                                      "fakekube.io/exit-code": str(code)}
    two.create(obj)
    assert two.settle() == 5
    st = status_of(two, "job")
    assert st["phase"] == phase
    assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] == code


def test_realistic_profile_takes_virtual_time():
    c = fakekube.Cluster(nodes=1, profile="realistic", seed=3)
    c.create(pod("p", node="node-1"))
    used = c.settle()
    assert 3 <= used <= 11  # start (2-6 s) then readiness (1-5 s)
    assert cond(c.get("Pod", "p"), "Ready")["status"] == "True"
    fast = pod("q", node="node-1")
    fast["metadata"]["annotations"] = {"fakekube.io/profile": "fast"}
    c.create(fast)
    assert c.settle() == 0
    c.delete("Pod", "p")
    assert 1 <= c.settle() <= 3


def test_a_failed_node_does_nothing_and_a_restored_one_catches_up(two):
    two.create(pod("stays", node="n1"))
    two.create(pod("goes", node="n1"))
    two.settle()
    before = two.get("Lease", "n1", "kube-node-lease")["spec"]["renewTime"]
    two.fail_node("n1")
    two.advance(30)
    assert two.get("Lease", "n1", "kube-node-lease")["spec"]["renewTime"] == before
    two.delete("Pod", "goes")
    two.advance(60)
    assert two.get("Pod", "goes")["metadata"]["deletionTimestamp"]  # nobody finishes it
    assert status_of(two, "stays")["phase"] == "Running"  # nobody reports anything
    two.restore_node("n1")
    two.settle(max_seconds=60)
    with pytest.raises(fakekube.NotFound):
        two.get("Pod", "goes")
    cs = status_of(two, "stays")["containerStatuses"][0]
    assert cs["restartCount"] == 1 and cs["ready"]
    assert two.get("Lease", "n1", "kube-node-lease")["spec"]["renewTime"] != before


def test_leases_renew_every_10_seconds_without_keeping_settle_busy(two):
    assert two.settle() == 0
    times = []
    for _ in range(3):
        two.advance(10)
        times.append(two.get("Lease", "n1", "kube-node-lease")["spec"]["renewTime"])
    assert times == ["2025-01-01T00:00:10.000000Z", "2025-01-01T00:00:20.000000Z",
                     "2025-01-01T00:00:30.000000Z"]


def test_pods_wait_for_their_claims(two):
    obj = pod("p", node="n1")
    obj["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]
    two.create(obj)
    two.settle()
    st = status_of(two, "p")
    assert st["phase"] == "Pending"
    assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    assert "podIP" not in st


def test_remove_node_deletes_node_and_lease(two):
    two.remove_node("n2")
    two.settle()
    with pytest.raises(fakekube.NotFound):
        two.get("Node", "n2")
    with pytest.raises(fakekube.NotFound):
        two.get("Lease", "n2", "kube-node-lease")


def test_add_node_is_ready_at_once(two):
    node = two.add_node("n3", zone="c", cpu="2")
    assert node["spec"]["podCIDR"] == "10.244.3.0/24"
    assert node["status"]["capacity"]["cpu"] == "2"
    with pytest.raises(fakekube.AlreadyExists):
        two.add_node("n3")


def test_cordon_drain_and_budgets(two):
    for i in range(3):
        two.create(pod(f"db-{i}", labels={"app": "db"}, node="n1"))
    two.create(pod("web", node="n1"))
    two.create(pdb("db", {"app": "db"}, min_available=2))
    two.settle()
    evicted = two.drain("n1")
    assert two.get("Node", "n1")["spec"]["unschedulable"] is True
    assert sorted(evicted) == ["db-0", "web"]
    two.settle()
    left = [p["metadata"]["name"] for p in two.list("Pod")["items"]]
    assert left == ["db-1", "db-2"]
    two.uncordon("n1")
    assert "unschedulable" not in two.get("Node", "n1")["spec"]


def test_node_failure_timeline_end_to_end():
    """SPEC NF-1..NF-9 through real kubelets: grace, taints, eviction, stuck Terminating,
    then podgc once the Node object is gone."""
    c = fakekube.Cluster(nodes=3, zones=["a", "b", "c"])
    c.create(pod("p", node="node-1"))
    c.settle()
    c.fail_node("node-1")
    assert c.settle() == 350  # Unknown at +45, NoExecute at +50, eviction 300 s later
    p = c.get("Pod", "p")
    assert p["metadata"]["deletionTimestamp"] == "2025-01-01T00:06:20Z"
    assert cond(p, "Ready")["status"] == "False"
    assert cond(p, "DisruptionTarget")["reason"] == "DeletionByTaintManager"
    taints = {(t["key"], t["effect"]) for t in c.get("Node", "node-1")["spec"]["taints"]}
    assert taints == {("node.kubernetes.io/unreachable", "NoSchedule"),
                      ("node.kubernetes.io/unreachable", "NoExecute")}
    ready = next(x for x in c.get("Node", "node-1")["status"]["conditions"]
                 if x["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")
    assert c.settle() == 0  # a fixed point: the pod stays Terminating
    c.remove_node("node-1")
    assert 40 <= c.settle() <= 60
    with pytest.raises(fakekube.NotFound):
        c.get("Pod", "p")


def test_restored_node_finishes_the_eviction():
    c = fakekube.Cluster(nodes=2)
    c.create(pod("p", node="node-1"))
    c.settle()
    c.fail_node("node-1")
    c.settle()
    assert c.get("Pod", "p")["metadata"]["deletionTimestamp"]
    c.restore_node("node-1")
    c.settle()
    with pytest.raises(fakekube.NotFound):
        c.get("Pod", "p")
    node = c.get("Node", "node-1")
    assert not node["spec"].get("taints")
    assert next(x for x in node["status"]["conditions"] if x["type"] == "Ready")[
        "status"] == "True"
