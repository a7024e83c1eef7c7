"""Scheduler throughput: how fast fakekube's kube-scheduler places pods.

For each cluster size, Node objects are created directly (no simulated kubelets, so that
only the scheduler and the API writes it makes are measured), then the pods are created
(not timed), then the run loop is timed until every pod is bound. What is timed per pod:
a scheduling cycle (PreFilter, filters over the sampled nodes, scores, selectHost), the
``pods/binding`` write, the ``Scheduled`` event, and the informer handlers those writes
trigger (including the other built-in controllers').

Usage::

    python benchmarks/bench_scheduler.py            # the table (medians of 3 runs)
    python benchmarks/bench_scheduler.py --quick    # fewer pods, one run
    python benchmarks/bench_scheduler.py --profile 1000   # cProfile of one run
    python benchmarks/bench_scheduler.py --breakdown 1000 # time per stage, per pod

Workloads: ``plain`` pods (requests only, no owner: the common fast path), and ``rs`` pods
owned by a ReplicaSet (the system default topology spreading, hostname and zone, scores
them).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fakekube  # noqa: E402
from fakekube.scheduler import Scheduler  # noqa: E402

ZONES = ("zone-a", "zone-b", "zone-c")


# The benchmark's pods name a ReplicaSet they were not made by; its controller (and the
# other workload controllers) would fight over them, so they are left out of the run loop.
# Their informer handlers still run on every write, as in a real cluster.
LEFT_OUT = {"ReplicaSetController", "DeploymentController", "StatefulSetController"}


def make_cluster(num_nodes: int) -> tuple[fakekube.Cluster, Scheduler]:
    c = fakekube.Cluster(nodes=0, pod_cidr="10.0.0.0/8", seed=1)
    c.manager.controllers = [x for x in c.manager.controllers
                             if type(x).__name__ not in LEFT_OUT]
    sched = next((x for x in c.manager.controllers if isinstance(x, Scheduler)), None)
    if sched is None:
        sched = c.manager.add(Scheduler(c.ctx))
        sched.setup()
    for i in range(num_nodes):
        name = f"node-{i + 1}"
        alloc = {"cpu": "16", "memory": "64Gi", "pods": "110"}
        c.create({"apiVersion": "v1", "kind": "Node",
                  "metadata": {"name": name, "labels": {
                      "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                      "topology.kubernetes.io/zone": ZONES[i % len(ZONES)]}},
                  "status": {"capacity": dict(alloc), "allocatable": alloc,
                             "conditions": [{"type": "Ready", "status": "True"}]}})
    c.manager.run_until_idle(10**9)
    return c, sched


def pod(i: int, workload: str, owner: dict | None) -> dict:
    meta: dict = {"name": f"pod-{i}", "namespace": "default", "labels": {"app": "bench"}}
    if workload == "rs" and owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                    "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"], "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "resources": {"requests": {"cpu": "100m",
                                                                "memory": "128Mi"}}}]}}


def create_pods(c, num_pods: int, workload: str) -> None:
    """The pending pods to place; ``rs`` pods name a (zero-replica) ReplicaSet as owner."""
    owner = None
    if workload == "rs":
        owner = c.api.create(c.api.registry.by_kind("ReplicaSet"), {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "bench", "namespace": "default"},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "bench"}},
                     "template": {"metadata": {"labels": {"app": "bench"}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}},
            "default")
    for i in range(num_pods):
        c.create(pod(i, workload, owner))


def run_once(num_nodes: int, num_pods: int, workload: str, profile: bool = False
             ) -> tuple[float, int]:
    c, sched = make_cluster(num_nodes)
    create_pods(c, num_pods, workload)
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    c.manager.run_until_idle(10**9)
    if prof:
        prof.disable()
    elapsed = time.perf_counter() - t0
    bound = len(sched.cache.pods)
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    return elapsed, bound


def breakdown(num_nodes: int, num_pods: int, workload: str) -> None:
    """Wall time per pod spent in each stage (wrappers around the framework's entry points;
    stages nest: ``schedule_one`` contains the rest)."""
    import collections

    c, sched = make_cluster(num_nodes)
    acc: collections.Counter = collections.Counter()

    def wrap(obj, name, label):
        f = getattr(obj, name)

        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                acc[label] += time.perf_counter() - t
        setattr(obj, name, timed)

    fw = sched.framework
    wrap(sched, "schedule_one", "schedule_one (all of a cycle)")
    wrap(fw, "run_pre_filter", "  PreFilter")
    wrap(fw, "find_feasible", "  Filter (sampled nodes)")
    wrap(fw, "run_pre_score", "  PreScore")
    wrap(fw, "prioritize", "  PreScore+Score+Normalize")
    wrap(fw, "run_bind", "  Bind (pods/binding write + handlers)")
    wrap(sched.recorder, "event", "  Scheduled event")
    for p in fw.score_plugins:
        if hasattr(p, "score_nodes"):
            wrap(p, "score_nodes", f"    {p.NAME}.Score")
    create_pods(c, num_pods, workload)
    t0 = time.perf_counter()
    c.manager.run_until_idle(10**9)
    total = time.perf_counter() - t0
    print(f"{workload}, {num_nodes} nodes, {num_pods} pods: {total / num_pods * 1e6:.0f} us/pod")
    print(f"  {'run loop total':<45} {total / num_pods * 1e6:8.1f} us/pod")
    for k, v in sorted(acc.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<45} {v / num_pods * 1e6:8.1f} us/pod")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", type=int, metavar="NODES")
    ap.add_argument("--workload", default="plain", choices=("plain", "rs"))
    ap.add_argument("--breakdown", type=int, metavar="NODES")
    args = ap.parse_args()
    if args.breakdown:
        breakdown(args.breakdown, 10_000, args.workload)
        return
    if args.profile:
        run_once(args.profile, 2000, args.workload, profile=True)
        return
    runs = 1 if args.quick else args.runs
    pods = 2000 if args.quick else 10_000
    rows = []
    print(f"{'workload':<9} {'nodes':>6} {'pods':>6} {'sampled':>8} {'median s':>9} "
          f"{'pods/s':>8} {'us/pod':>8}  runs (s)")
    sizes = (100, 500, 1000, 2000, 5000)
    for workload in ("plain", "rs"):
        for n in sizes:
            times = []
            for _ in range(runs):
                elapsed, bound = run_once(n, pods, workload)
                if bound != pods:
                    print(f"  warning: {bound}/{pods} pods bound", file=sys.stderr)
                times.append(elapsed)
            med = statistics.median(times)
            from fakekube.scheduler import num_feasible_nodes_to_find
            rows.append((workload, n, med))
            print(f"{workload:<9} {n:>6} {pods:>6} {num_feasible_nodes_to_find(0, n):>8} "
                  f"{med:>9.2f} {pods / med:>8.0f} {med / pods * 1e6:>8.0f}  "
                  + ", ".join(f"{t:.2f}" for t in times), flush=True)


if __name__ == "__main__":
    main()
