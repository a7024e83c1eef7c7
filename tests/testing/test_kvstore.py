"""The replicated key-value store example: the story fakekube exists for, and its property
test (every replica converges to the primary; no acknowledged write is lost)."""

import os

import pytest
from hypothesis import HealthCheck, settings

import fakekube
from fakekube.kubelet.workloads import WorkloadManager
from fakekube.testing import kvstore
from fakekube.testing.kvstore import KVError, KVStoreMachine

pytest.importorskip("fakekube.scheduler")

EXAMPLES = int(os.environ.get("FAKEKUBE_KVSTORE_EXAMPLES", "40"))


def ready(c, name):
    p = c.get("Pod", name)
    return any(x["type"] == "Ready" and x["status"] == "True" for x in p["status"]["conditions"])


@pytest.fixture
def kube():
    c = fakekube.Cluster(nodes=3, zones=["a", "b", "c"])
    c.apply(kvstore.manifest("db", replicas=3))
    c.settle()
    return c


@pytest.fixture
def dials(monkeypatch):
    """Every connection a process opens: (pod, host)."""
    seen = []
    real = WorkloadManager._connect

    def spy(self, caller, namespace, host, port):
        if caller is not None:
            seen.append((caller.pod_name, host))
        return real(self, caller, namespace, host, port)

    monkeypatch.setattr(WorkloadManager, "_connect", spy)
    return seen


def all_dumps(c, n):
    db = kvstore.client(c, "db")
    return [db.dump(i) for i in range(n)]


def test_the_story(kube):
    db = kvstore.client(kube, "db")
    assert [ready(kube, f"db-{i}") for i in range(3)] == [True, True, True]
    assert db.put("user:1", b"ada") == 1
    assert db.put("user:2", "grace") == 2
    assert db.get("user:1") == b"ada"  # acknowledged: on the primary's volume already
    assert kvstore.volume_items(kube.volume("data-db-0")) == {"user:1": b"ada",
                                                              "user:2": b"grace"}
    kube.settle()
    assert all_dumps(kube, 3) == [{"user:1": b"ada", "user:2": b"grace"}] * 3
    with pytest.raises(KVError, match="read-only replica"):
        db.call({"op": "put", "key": "k", "value": b"v"}, ordinal=1)

    # The primary's node dies: writes fail until the control plane has done its work.
    node = kube.get("Pod", "db-0")["spec"]["nodeName"]
    kube.fail_node(node)
    with pytest.raises(OSError):
        db.put("user:3", b"linus")
    kube.settle()  # a fixed point: db-0 stuck Terminating, the replicas wait quietly
    assert kube.get("Pod", "db-0")["metadata"].get("deletionTimestamp")
    with pytest.raises(OSError):
        db.put("user:3", b"linus")
    assert db.get("user:1", ordinal=1) == b"ada"  # the replicas still serve reads

    kube.remove_node(node)  # the operator's decision
    kube.add_node("node-4", zone="a")
    kube.settle()
    assert kube.get("Pod", "db-0")["spec"]["nodeName"] != node
    assert db.put("user:3", b"linus") == 3
    kube.settle()
    want = {"user:1": b"ada", "user:2": b"grace", "user:3": b"linus"}
    assert all_dumps(kube, 3) == [want] * 3
    assert all(db.state(i)["following"] for i in (1, 2))


def test_a_new_replica_clones_from_the_previous_ordinal_then_follows(kube, dials):
    db = kvstore.client(kube, "db")
    for i in range(5):
        db.put(f"k{i}", str(i))
    kube.settle()
    kube.scale("StatefulSet", "db", 5)
    kube.settle()
    by_pod = {}
    for pod, host in dials:
        by_pod.setdefault(pod, []).append(host)
    assert by_pod["db-3"][:2] == ["db-2.db", "db-0.db"]
    assert by_pod["db-4"][:2] == ["db-3.db", "db-0.db"]
    assert "cloned 5 key(s) from db-3.db" in kube.kubelets.workloads.logs("db-4")
    assert all_dumps(kube, 5) == [{f"k{i}": str(i).encode() for i in range(5)}] * 5
    # Each process sees only its own claim's data.
    net = kube.kubelets.workloads
    for i in range(5):
        mounted = net.process(f"db-{i}").volumes[kvstore.DATA_DIR].data
        assert mounted is kube.volume(f"data-db-{i}")


def test_a_replica_waits_for_the_previous_ordinal(dials):
    c = fakekube.Cluster(nodes=3)
    c.apply(kvstore.manifest("db", replicas=3, pod_management_policy="Parallel"))
    c.settle()
    assert all(ready(c, f"db-{i}") for i in range(3))
    assert all_dumps(c, 3) == [{}] * 3
    log = c.kubelets.workloads.logs("db-2").splitlines()
    assert log[0].startswith("clone from db-1.db: ") and log[0].endswith("waiting")
    assert log[-2:] == ["cloned 0 key(s) from db-1.db at seq 0", "following db-0.db at seq 0"]
    db2 = [host for pod, host in dials if pod == "db-2"]
    assert db2[-1] == "db-0.db" and set(db2[:-1]) == {"db-1.db"}


def test_waiting_keeps_nothing_scheduled(kube):
    db = kvstore.client(kube, "db")
    db.put("a", b"1")
    kube.settle()
    for node in ("node-1", "node-2", "node-3"):
        kube.fail_node(node)
    kube.settle()  # no SettleTimeout: processes that wait schedule nothing
    for node in ("node-1", "node-2", "node-3"):
        kube.restore_node(node)
    kube.settle()
    db.put("b", b"2")
    kube.settle()
    assert all_dumps(kube, 3) == [{"a": b"1", "b": b"2"}] * 3


def test_a_replica_that_missed_writes_catches_up(kube):
    db = kvstore.client(kube, "db")
    db.put("a", b"1")
    kube.settle()
    kube.delete("Pod", "db-2")
    db.put("b", b"2")
    db.delete("a")
    kube.settle()
    assert all_dumps(kube, 3) == [{"b": b"2"}] * 3
    assert db.state(2)["seq"] == db.state(0)["seq"] == 3


def test_all_pods_die_at_once_and_nothing_acknowledged_is_lost(kube):
    db = kvstore.client(kube, "db")
    for i in range(10):
        db.put(f"k{i}", f"v{i}")
    for p in kube.list("Pod", label_selector="app=db")["items"]:
        kube.delete("Pod", p["metadata"]["name"], grace_period_seconds=0)
    kube.settle()
    want = {f"k{i}": f"v{i}".encode() for i in range(10)}
    assert all_dumps(kube, 3) == [want] * 3


def test_scale_to_zero_and_back_keeps_the_data(kube):
    db = kvstore.client(kube, "db")
    db.put("a", b"1")
    kube.settle()
    kube.scale("StatefulSet", "db", 0)
    kube.settle()
    with pytest.raises(OSError):
        db.put("b", b"2")
    kube.scale("StatefulSet", "db", 2)
    kube.settle()
    db.put("b", b"2")
    kube.settle()
    kube.scale("StatefulSet", "db", 3)  # db-2's claim kept its old data: it catches up
    kube.settle()
    assert all_dumps(kube, 3) == [{"a": b"1", "b": b"2"}] * 3


TestKVStore = KVStoreMachine.TestCase
TestKVStore.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
