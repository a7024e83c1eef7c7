"""The Cluster's clock and run loop: settle, advance, determinism, SettleTimeout."""

import pytest

import fakekube
from fakekube.runtime import Controller, Result
from fakekube.testing.builders import configmap, pod


def test_cluster_is_ready_with_system_namespaces_and_default_class():
    c = fakekube.Cluster(nodes=0)
    assert [n["metadata"]["name"] for n in c.list("Namespace")["items"]] == [
        "default", "kube-node-lease", "kube-public", "kube-system"]
    sc = c.get("StorageClass", "standard")
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert c.now == 1735689600.0
    assert c.settle() == 0


def test_unknown_options_are_rejected():
    with pytest.raises(TypeError, match="node_monitor_grace_periodd"):
        fakekube.Cluster(node_monitor_grace_periodd=5)
    with pytest.raises(TypeError, match="NoSuchGate"):
        fakekube.Cluster(feature_gates={"NoSuchGate": True})


class Ticker(Controller):
    """Requeues each key after a delay until it has counted down."""

    name = "ticker"

    def setup(self):
        self.seen = []

    def reconcile(self, key):
        name, left = key
        self.seen.append((self.clock.now(), name, left))
        if left:
            self.queue.add_after((name, left - 1), 10)
        return None


def test_settle_jumps_to_deadlines_and_returns_at_the_fixed_point():
    c = fakekube.Cluster(nodes=0)
    t = c.manager.add(Ticker(c.ctx))
    t.setup()
    t.queue.add(("a", 3))
    used = c.settle()
    assert used == 30
    assert [(round(now - 1735689600), left) for now, _, left in t.seen] == [
        (0, 3), (10, 2), (20, 1), (30, 0)]


def test_heartbeats_do_not_keep_settle_busy():
    c = fakekube.Cluster(nodes=0)
    beats = []
    c.clock.call_every(10, lambda: beats.append(c.now), label="hb")
    assert c.settle() == 0
    assert beats == []
    c.clock.call_later(35, lambda: None, label="d")
    assert c.settle() == 35
    assert len(beats) == 3  # heartbeats due on the way fire in order


def test_settle_timeout_names_what_is_busy():
    c = fakekube.Cluster(nodes=0)
    t = c.manager.add(Ticker(c.ctx))
    t.setup()
    t.queue.add(("slow", 100))
    with pytest.raises(fakekube.SettleTimeout) as e:
        c.settle(max_seconds=50)
    assert "ticker requeue slow" in str(e.value)


class Livelock(Controller):
    name = "livelock"

    def reconcile(self, key):
        self.queue.add(key)


def test_livelock_guard():
    c = fakekube.Cluster(nodes=0, max_reconciles=1000)
    ll = c.manager.add(Livelock(c.ctx))
    ll.queue.add("spin")
    with pytest.raises(fakekube.SettleTimeout) as e:
        c.settle()
    assert "livelock" in str(e.value) and "spin" in str(e.value)


def test_advance_moves_exactly_and_runs_work_at_each_instant():
    c = fakekube.Cluster(nodes=0)
    t = c.manager.add(Ticker(c.ctx))
    t.setup()
    t.queue.add(("a", 5))
    c.advance(25)
    assert c.now == 1735689600 + 25
    assert [left for _, _, left in t.seen] == [5, 4, 3]
    with pytest.raises(ValueError):
        c.advance(-1)


def history(seed):
    c = fakekube.Cluster(nodes=0, seed=seed)
    w = c.watch("ConfigMap")
    for i in range(5):
        c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}})
    c.create(pod("p"))
    c.delete("ConfigMap", c.list("ConfigMap")["items"][0]["metadata"]["name"])
    c.settle()
    return [(t, o["metadata"]["name"], o["metadata"]["uid"], o["metadata"]["resourceVersion"])
            for t, o in w]


def test_same_seed_same_history():
    assert history(7) == history(7)
    assert history(7) != history(8)
