"""Hypothesis state machines over a cluster: random failures, checked invariants.

:class:`ClusterMachine` is the base to subclass: each example builds a fresh cluster (its
``nodes``, ``zones`` and options, seeded), applies ``manifest``, and then Hypothesis runs
random sequences of its rules: advance time, settle, fail / restore / remove nodes (a removed
node is replaced by a new one, so the cluster keeps its capacity), delete and force-delete
pods, readiness changes. After every step it checks :meth:`invariants_hold` (override it)
and the order rules of :class:`fakekube.testing.invariants.History`.

:class:`StatefulSetIdentityMachine` is the machine fakekube tests itself with: a headless
Service, a StatefulSet with a claim per pod and a Deployment, and rules that scale, update,
change the partition and break things, with the StatefulSet guarantees checked throughout::

    from fakekube.testing.machines import StatefulSetIdentityMachine
    TestIdentity = StatefulSetIdentityMachine.TestCase
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .. import errors
from ..cluster import Cluster
from . import invariants
from .builders import headless_service, statefulset

__all__ = ["ClusterMachine", "StatefulSetIdentityMachine"]


class ClusterMachine(RuleBasedStateMachine):
    """A fresh cluster per example, with rules that break it and invariants checked after
    every step. Class attributes configure it:

    - ``nodes``: node count (default 3), named ``node-1``...; ``zones``: zone names;
    - ``options``: more ``Cluster(...)`` keyword arguments;
    - ``manifest``: what to apply first (a dict, a list, or YAML text), then settle.
    """

    nodes: ClassVar[int] = 3
    zones: ClassVar[list[str] | None] = ["a", "b", "c"]
    options: ClassVar[dict[str, Any]] = {}
    manifest: ClassVar[Any] = None
    max_settle: ClassVar[float] = 3600

    def __init__(self) -> None:
        super().__init__()
        self.cluster = Cluster(nodes=self.nodes, zones=self.zones, seed=0, **self.options)
        self.history = invariants.History(self.cluster)
        self.failed: set[str] = set()
        self._next_node = self.nodes + 1
        if self.manifest is not None:
            self.cluster.apply(self.manifest)
            self.settle_cluster()

    # -- helpers for subclasses ----------------------------------------------------------

    @property
    def node_names(self) -> list[str]:
        return sorted(self.cluster.kubelets.agents)

    def settle_cluster(self) -> float:
        return self.cluster.settle(max_seconds=self.max_settle)

    def healthy(self) -> bool:
        """No failed node, and no pod stuck on a node that is gone."""
        if self.failed:
            return False
        agents = self.cluster.kubelets.agents
        for p in invariants._stored(self.cluster, "Pod"):
            node = p["spec"].get("nodeName")
            if node and node not in agents:
                return False
        return True

    # -- rules every machine has ---------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 5, 30, 120]))
    def advance(self, seconds: float) -> None:
        self.cluster.advance(seconds)

    @rule()
    def settle(self) -> None:
        self.settle_cluster()

    @precondition(lambda self: len(self.node_names) - len(self.failed) > 1)
    @rule(data=st.data())
    def fail_node(self, data: st.DataObject) -> None:
        live = [n for n in self.node_names if n not in self.failed]
        node = data.draw(st.sampled_from(live), label="node")
        self.cluster.fail_node(node)
        self.failed.add(node)

    @precondition(lambda self: bool(self.failed))
    @rule(data=st.data())
    def restore_node(self, data: st.DataObject) -> None:
        node = data.draw(st.sampled_from(sorted(self.failed)), label="node")
        self.cluster.restore_node(node)
        self.failed.discard(node)

    @precondition(lambda self: bool(self.failed))
    @rule(data=st.data())
    def remove_node(self, data: st.DataObject) -> None:
        """The operator's decision for a dead node: delete it, and add a fresh one."""
        node = data.draw(st.sampled_from(sorted(self.failed)), label="node")
        zone = (self.cluster.get("Node", node)["metadata"].get("labels") or {}).get(
            "topology.kubernetes.io/zone")
        self.cluster.remove_node(node)
        self.failed.discard(node)
        self.cluster.add_node(f"node-{self._next_node}", zone=zone)
        self._next_node += 1

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def history_holds(self) -> None:
        self.history.check()

    @invariant()
    def invariants_hold_after_step(self) -> None:
        self.invariants_hold()

    def invariants_hold(self) -> None:
        """Override: checks that must hold after every step."""

    def teardown(self) -> None:
        self.history.close()


class StatefulSetIdentityMachine(ClusterMachine):
    """StatefulSet ``web`` (claims ``www``) behind headless Service ``nginx``, and Deployment
    ``api``; rules scale, update and break them; checks sticky identity throughout."""

    set_name: ClassVar[str] = "web"
    max_replicas: ClassVar[int] = 4

    def __init__(self) -> None:
        super().__init__()
        self.data_marks: dict[str, tuple[str, str]] = {}  # claim -> (claim uid, pv)
        self.claims: dict[str, tuple[str, str]] = {}     # claim -> (claim uid, pv name)
        c = self.cluster
        c.apply([headless_service("nginx"), statefulset(self.set_name, 2),
                 _deployment("api", 2)])
        self.settle_cluster()

    # -- rules ---------------------------------------------------------------------------

    @rule(replicas=st.integers(0, 4))
    def scale(self, replicas: int) -> None:
        self.cluster.scale("StatefulSet", self.set_name, replicas)

    @rule(image=st.sampled_from(["nginx:1.27", "nginx:1.28", "nginx:1.29"]))
    def change_template(self, image: str) -> None:
        self.cluster.patch("StatefulSet", self.set_name, {"spec": {"template": {"spec": {
            "containers": [{"name": "app", "image": image}]}}}}, patch_type="strategic")

    @rule(partition=st.integers(0, 3))
    def change_partition(self, partition: int) -> None:
        self.cluster.patch("StatefulSet", self.set_name, {"spec": {"updateStrategy": {
            "type": "RollingUpdate", "rollingUpdate": {"partition": partition}}}})

    @rule(ordinal=st.integers(0, 3))
    def delete_pod(self, ordinal: int) -> None:
        try:
            self.cluster.delete("Pod", f"{self.set_name}-{ordinal}")
        except errors.NotFound:
            pass

    @rule()
    def force_delete_stuck_pod(self) -> None:
        """``kubectl delete pod --grace-period=0 --force`` on a pod stuck Terminating."""
        for p in invariants._stored(self.cluster, "Pod"):
            if p["metadata"].get("deletionTimestamp"):
                self.cluster.delete("Pod", p["metadata"]["name"], grace_period_seconds=0)
                return

    @rule(ordinal=st.integers(0, 3), ready=st.sampled_from([False, None]))
    def set_pod_ready(self, ordinal: int, ready: bool | None) -> None:
        self.cluster.set_pod_ready(f"{self.set_name}-{ordinal}", ready)

    @rule()
    def settle_healthy(self) -> None:
        """Bring everything back, settle, and check the fixed point a healthy set reaches."""
        for node in sorted(self.failed):
            self.cluster.restore_node(node)
        self.failed.clear()
        for i in range(self.max_replicas):
            self.cluster.set_pod_ready(f"{self.set_name}-{i}", None)
        self.settle_cluster()
        invariants.statefulset_status(self.cluster, self.set_name)
        if self.healthy():
            invariants.statefulset_ordinals(self.cluster, self.set_name)

    # -- invariants ----------------------------------------------------------------------

    def invariants_hold(self) -> None:
        c = self.cluster
        invariants.statefulset_identity(c, self.set_name)
        invariants.one_node_per_rwo_volume(c)
        invariants.claims_bound_one_to_one(c)
        self._claims_keep_their_volume_and_data()

    def _claims_keep_their_volume_and_data(self) -> None:
        """Every incarnation of pod i mounts claim www-web-i, bound to the same volume, with
        the same data, as long as the claim exists."""
        c = self.cluster
        for claim in invariants._stored(c, "PersistentVolumeClaim"):
            m = claim["metadata"]
            if (claim.get("status") or {}).get("phase") != "Bound":
                continue
            name, pv = m["name"], claim["spec"]["volumeName"]
            seen = self.claims.get(name)
            if seen is None or seen[0] != m["uid"]:
                self.claims[name] = (m["uid"], pv)
                c.volume(name)["/identity"] = f"{name}:{m['uid']}".encode()
                continue
            if seen[1] != pv:
                raise invariants.InvariantViolation(
                    f"claim {name} moved from volume {seen[1]} to {pv}")
            data = c.volume(name).get("/identity")
            if data != f"{name}:{m['uid']}".encode():
                raise invariants.InvariantViolation(
                    f"the data on claim {name}'s volume {pv} was lost ({data!r})")


def _deployment(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "api",
                                                           "image": "busybox:1.36"}]}}}}
