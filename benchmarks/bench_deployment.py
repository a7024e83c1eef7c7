"""Deployment speed: from create to Available (the ``Available`` condition True: at least
``replicas - maxUnavailable`` pods available) and to complete (every replica updated and
available), then a rolling update of every pod, for 100 and 1,000 replicas (FAST profile,
enough nodes).

    python benchmarks/bench_deployment.py

Wall-clock medians of several rounds (with the process CPU time beside them: the machines
here are shared, and wall time varies with their load), measured from the create (or the
template change) to the moment the Deployment's status shows it. Every built-in controller
runs, the scheduler placing the pods.
"""

from __future__ import annotations

import gc
import statistics
import time

import fakekube

ROUNDS = {100: 5, 1000: 3}
TARGET_AVAILABLE_1000 = 1.5  # seconds, wall


def make_cluster(replicas: int) -> fakekube.Cluster:
    nodes = max(3, -(-replicas * 13 // 10 // 110))  # room for the surge of a rollout
    return fakekube.Cluster(nodes=nodes)


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
    c = make_cluster(replicas)
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
            "reconciles": reconciles}


def main() -> None:
    rows = []
    medians: dict[int, dict] = {}
    for replicas, rounds in ROUNDS.items():
        results = [run(replicas) for _ in range(rounds)]
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
    print("Deployment benchmark (FAST profile)")
    print(f"{'case':<{width}}  {'median':>9}  notes")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}")
    ok = medians[1000]["available"] < TARGET_AVAILABLE_1000
    print(f"\n1,000 replicas to Available: {'PASS' if ok else 'MISS'} "
          f"({medians[1000]['available']:.3f} s vs {TARGET_AVAILABLE_1000} s)")


if __name__ == "__main__":
    main()
