"""StatefulSet speed: an OrderedReady set with one claim per pod, from apply to every pod
Ready (FAST profile, enough nodes), for 100 and 1,000 replicas.

    python benchmarks/bench_statefulset.py

Wall-clock medians of several rounds; the 1,000/100 ratio shows how the sync's rescans grow
(upstream's sync rescans the set's pods, so 10x the replicas costs more than 10x).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

import fakekube
from fakekube.testing.builders import headless_service, statefulset


def run(replicas: int) -> tuple[float, float, int]:
    nodes = max(3, replicas // 50)
    c = fakekube.Cluster(nodes=nodes, zones=["a", "b", "c"])
    c.apply([headless_service("nginx"), statefulset("web", replicas)])
    gc.collect()
    t0 = time.perf_counter()
    virtual = c.settle()
    wall = time.perf_counter() - t0
    ready = c.get("StatefulSet", "web")["status"].get("readyReplicas", 0)
    if ready != replicas:
        raise SystemExit(f"only {ready}/{replicas} ready")
    return wall, virtual, c.manager.reconciles


def main() -> None:
    rows = []
    results = {}
    for replicas, rounds in ((100, 5), (1000, 3)):
        walls = []
        for _ in range(rounds):
            wall, virtual, reconciles = run(replicas)
            walls.append(wall)
        results[replicas] = statistics.median(walls)
        target = {100: "target < 0.25 s", 1000: "target < 3 s"}[replicas]
        rows.append((f"OrderedReady, {replicas} replicas, 1 claim each",
                     f"{results[replicas]:.3f} s",
                     f"{replicas / results[replicas]:,.0f} pods/s; {reconciles:,} reconciles; "
                     f"{virtual:g} virtual s; {target}"))
    rows.append(("ratio 1,000 / 100", f"{results[1000] / results[100]:.1f}x",
                 "10x would be linear"))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'median':>9}  notes")
    print("-" * (width + 70))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}")


if __name__ == "__main__":
    sys.exit(main())
