"""Deployment speed: from create to Available (the ``Available`` condition True: at least
``replicas - maxUnavailable`` pods available) and to complete (every replica updated and
available), then a rolling update of every pod, for 100 and 1,000 replicas (FAST profile,
enough nodes).

    python benchmarks/bench_deployment.py

Wall-clock medians of several rounds (with the process CPU time beside them: the machines
here are shared, and wall time varies with their load), measured from the create (or the
template change) to the moment the Deployment's status shows it. Pods are placed by the real
scheduler (``fakekube.scheduler.Scheduler``) when it is importable, else by a stand-in binder
(round robin, no filters) and the table says so. Deployment, ReplicaSet and scheduler are added to
the cluster when the build does not register them yet.
"""

from __future__ import annotations

import gc
import statistics
import time

import fakekube
from fakekube.api.store import ADDED
from fakekube.controllers.deployment import DeploymentController
from fakekube.controllers.replicaset import ReplicaSetController
from fakekube.kubelet import KubeletController
from fakekube.runtime import Controller

try:
    from fakekube.scheduler import Scheduler
except ImportError:  # pragma: no cover
    Scheduler = None

ROUNDS = {100: 5, 1000: 3}
TARGET_AVAILABLE_1000 = 1.5  # seconds, wall


class StandInBinder(Controller):
    """Binds each new pod to the next node, round-robin (when there is no scheduler)."""

    name = "bench-binder"

    def setup(self) -> None:
        self.pods = self.ctx.informer("Pod")
        self.nodes = self.ctx.informer("Node")
        self.turn = 0
        self.pods.table.handlers.append(self._on_pod)

    def _on_pod(self, ev) -> None:
        if ev.type == ADDED and not ev.obj["spec"].get("nodeName"):
            m = ev.obj["metadata"]
            self.queue.add((m["namespace"], m["name"]))

    def reconcile(self, key):
        pod = self.pods.get(key[1], key[0])
        if pod is None or pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return None
        nodes = sorted(n["metadata"]["name"] for n in self.nodes)
        node = nodes[self.turn % len(nodes)]
        self.turn += 1
        self.api.bind(key[1], key[0], {"apiVersion": "v1", "kind": "Binding",
                                       "metadata": {"name": key[1]},
                                       "target": {"apiVersion": "v1", "kind": "Node",
                                                  "name": node}})
        return None


def make_cluster(replicas: int) -> tuple[fakekube.Cluster, str]:
    nodes = max(3, -(-replicas * 13 // 10 // 110))  # room for the surge of a rollout
    c = fakekube.Cluster(nodes=nodes)
    ctrls = c.manager.controllers
    present = {type(x) for x in ctrls}
    has_scheduler = any(x.name == "default-scheduler" for x in ctrls)
    wanted: list[type] = [DeploymentController, ReplicaSetController]
    placement = "scheduler"
    if not has_scheduler:
        if Scheduler is not None:
            wanted.append(Scheduler)
        else:
            wanted.append(StandInBinder)
            placement = "stand-in binder (no scheduler yet)"
    at = next(i for i, x in enumerate(ctrls) if isinstance(x, KubeletController))
    for cls in wanted:
        if cls not in present:
            ctl = cls(c.ctx)
            ctrls.insert(at, ctl)
            at += 1
            ctl.setup()
    return c, placement


def deployment(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                           "resources": {"requests": {
                                                               "cpu": "10m",
                                                               "memory": "16Mi"}}}]}}}}


class Stopwatch:
    """Wall (and CPU) time at which the Deployment's status first shows a condition."""

    def __init__(self, c: fakekube.Cluster) -> None:
        self.t0 = self.c0 = 0.0
        self.available: float | None = None
        self.available_cpu: float | None = None
        self.complete: float | None = None
        c.api.table(c.api.registry.by_kind("Deployment")).handlers.append(self._on)

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        self.available = self.available_cpu = self.complete = None

    def elapsed(self) -> tuple[float, float]:
        return time.perf_counter() - self.t0, time.process_time() - self.c0

    def _on(self, ev) -> None:
        now = time.perf_counter() - self.t0
        for cond in (ev.obj.get("status") or {}).get("conditions") or ():
            if (cond["type"] == "Available" and cond["status"] == "True"
                    and self.available is None):
                self.available = now
                self.available_cpu = time.process_time() - self.c0
            if (cond["type"] == "Progressing" and cond["reason"] == "NewReplicaSetAvailable"
                    and self.complete is None and ev.old is not None
                    and (ev.old.get("status") or {}).get("observedGeneration") ==
                    ev.obj["metadata"].get("generation")):
                self.complete = now


def run(replicas: int) -> dict:
    c, placement = make_cluster(replicas)
    watch = Stopwatch(c)
    gc.collect()
    watch.start()
    c.create(deployment(replicas))
    virtual = c.settle()
    wall, cpu = watch.elapsed()
    create = (watch.available, wall, watch.available_cpu, cpu)
    status = c.get("Deployment", "web")["status"]
    if status.get("availableReplicas") != replicas:
        raise SystemExit(f"only {status.get('availableReplicas')}/{replicas} available")
    reconciles = c.manager.reconciles
    gc.collect()
    watch.start()
    c.patch("Deployment", "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.28"}]}}}}, patch_type="strategic")
    c.settle()
    rollout = watch.elapsed()[0]
    status = c.get("Deployment", "web")["status"]
    if status.get("updatedReplicas") != replicas or status.get("availableReplicas") != replicas:
        raise SystemExit(f"rollout incomplete: {status}")
    return {"available": create[0], "complete": create[1], "available_cpu": create[2],
            "complete_cpu": create[3], "rollout": rollout, "virtual": virtual,
            "reconciles": reconciles, "placement": placement}


def main() -> None:
    rows = []
    placement = ""
    medians: dict[int, dict] = {}
    for replicas, rounds in ROUNDS.items():
        results = [run(replicas) for _ in range(rounds)]
        placement = results[0]["placement"]
        med = {k: statistics.median(r[k] for r in results)
               for k in ("available", "complete", "available_cpu", "complete_cpu", "rollout",
                         "virtual", "reconciles")}
        medians[replicas] = med
        target = (f"; target < {TARGET_AVAILABLE_1000} s"
                  if replicas == 1000 else "")
        rows.append((f"{replicas:,} replicas: create -> Available", f"{med['available']:.3f} s",
                     f"CPU {med['available_cpu']:.3f} s{target}"))
        rows.append((f"{replicas:,} replicas: create -> complete", f"{med['complete']:.3f} s",
                     f"CPU {med['complete_cpu']:.3f} s; {replicas / med['complete']:,.0f} "
                     f"pods/s; {med['reconciles']:,.0f} reconciles; {med['virtual']:g} "
                     "virtual s"))
        rows.append((f"{replicas:,} replicas: rolling update (25%/25%)",
                     f"{med['rollout']:.3f} s", "every pod replaced"))
    rows.append(("ratio 1,000 / 100 (create -> complete)",
                 f"{medians[1000]['complete'] / medians[100]['complete']:.1f}x",
                 "10x would be linear"))
    width = max(len(r[0]) for r in rows)
    print(f"Deployment benchmark (FAST profile; pods placed by: {placement})")
    print(f"{'case':<{width}}  {'median':>9}  notes")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}")
    ok = medians[1000]["available"] < TARGET_AVAILABLE_1000
    print(f"\n1,000 replicas to Available: {'PASS' if ok else 'MISS'} "
          f"({medians[1000]['available']:.3f} s vs {TARGET_AVAILABLE_1000} s)")


if __name__ == "__main__":
    main()
