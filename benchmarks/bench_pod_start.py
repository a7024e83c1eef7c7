"""Pod start speed: pods from create to Running (FAST profile) on simulated kubelets.

    python benchmarks/bench_pod_start.py            # 10,000 pods on 100 nodes, and a peer run
    python benchmarks/bench_pod_start.py --quick    # 2,000 pods, one round

What is timed: creating every pod through the API (``Cluster.create``), then the run loop
until every pod is Running and Ready: the scheduler's cycle and binding, each kubelet's
start (IP, containers, conditions, status writes), the events, and the other built-in
controllers' handlers. Medians of several rounds; the 1,000-pod run on the same nodes is the
peer the 10,000-pod figure is compared with (per-pod cost should not grow with the count).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time

import fakekube
from fakekube.testing.builders import pod

TARGET = 3000  # pods/s, issue 3


def run(num_pods: int, nodes: int) -> float:
    c = fakekube.Cluster(nodes=nodes, pod_cidr="10.0.0.0/8")
    pods = [pod(f"p-{i}", labels={"app": "bench"}) for i in range(num_pods)]
    gc.collect()
    t0 = time.perf_counter()
    for p in pods:
        c.create(p)
    c.settle()
    wall = time.perf_counter() - t0
    running = sum(1 for p in c.list("Pod")["items"]
                  if (p.get("status") or {}).get("phase") == "Running")
    if running != num_pods:
        raise SystemExit(f"only {running}/{num_pods} pods Running")
    c.close()
    return wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds = 1 if args.quick else 3
    sizes = (1000, 2000) if args.quick else (1000, 10_000)
    nodes = 100
    rows = []
    per_pod = {}
    for n in sizes:
        walls = [run(n, nodes) for _ in range(rounds)]
        med = statistics.median(walls)
        per_pod[n] = med / n
        note = f"target >= {TARGET:,} pods/s" if n == 10_000 else "peer"
        rows.append((f"{n:,} pods on {nodes} nodes: create -> Running", f"{med:.2f} s",
                     f"{n / med:,.0f} pods/s; {med / n * 1e6:.0f} us/pod; runs "
                     + ", ".join(f"{w:.2f}" for w in walls) + f"; {note}"))
    big, small = sizes[-1], sizes[0]
    rows.append((f"per-pod cost {big:,} / {small:,}", f"{per_pod[big] / per_pod[small]:.2f}x",
                 "1.00x would be flat"))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'median':>8}  notes")
    print("-" * (width + 70))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>8}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
