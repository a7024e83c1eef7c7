"""Storage speed: claims provisioned and bound, static binding, release and delete.

    python benchmarks/bench_storage.py [N]

Each figure is the time from the first API write of the step to the end of
``cluster.settle()``: wall clock and this process's CPU time (the median of several rounds;
machines here are shared and noisy, and CPU time is the steadier of the two).
Target: 1,000 claims created, provisioned and bound in under 0.5 s.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

import fakekube

ROUNDS = 5


def _storage_cluster() -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=0)
    from fakekube.controllers.persistentvolume import STORAGE_CONTROLLERS

    present = {type(x) for x in c.manager.controllers}
    for cls in STORAGE_CONTROLLERS:
        if cls not in present:
            c.manager.add(cls(c.ctx)).setup()
    return c


def claim(i: int, size: str = "1Gi", cls: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"data-{i}"}, "spec": spec}


def volume(i: int, size: str) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pv-{i}"},
            "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
                     "storageClassName": "manual", "nfs": {"server": "nfs", "path": f"/e/{i}"}}}


class Clock:
    def __enter__(self) -> "Clock":
        gc.collect()
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def provision(n: int) -> Clock:
    c = _storage_cluster()
    with Clock() as dt:
        for i in range(n):
            c.create(claim(i))
        c.settle()
    bound = sum(1 for x in c.list("PersistentVolumeClaim")["items"]
                if x["status"]["phase"] == "Bound")
    assert bound == n, (bound, n)
    return dt


def static_bind(n: int) -> Clock:
    c = _storage_cluster()
    for i in range(n):
        c.create(volume(i, f"{1 + ((i * 11) % n * 3) % 7}Gi"))  # same sizes, other order
    c.settle()
    with Clock() as dt:
        for i in range(n):
            c.create(claim(i, f"{1 + (i * 3) % 7}Gi", cls="manual"))
        c.settle()
    bound = sum(1 for x in c.list("PersistentVolumeClaim")["items"]
                if x["status"]["phase"] == "Bound")
    assert bound == n, (bound, n)
    return dt


def release(n: int) -> Clock:
    c = _storage_cluster()
    for i in range(n):
        c.create(claim(i))
    c.settle()
    with Clock() as dt:
        for i in range(n):
            c.delete("PersistentVolumeClaim", f"data-{i}")
        c.settle()
    assert not c.list("PersistentVolume")["items"]
    return dt


def median(fn, n: int) -> tuple[float, float]:
    runs = [fn(n) for _ in range(ROUNDS)]
    return (statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rows = [
        (f"{n} claims: create, provision, bind (target < 0.5 s)", median(provision, n)),
        (f"{n} claims bound to {n} static volumes (smallest fit)", median(static_bind, n)),
        (f"{n} bound claims deleted: release, delete volumes", median(release, n)),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'wall s':>7}  {'cpu s':>7}  {'cpu/claim':>10}")
    for label, (wall, cpu) in rows:
        print(f"{label:<{width}}  {wall:7.3f}  {cpu:7.3f}  {cpu / n * 1e6:7.0f} us")


if __name__ == "__main__":
    main()
