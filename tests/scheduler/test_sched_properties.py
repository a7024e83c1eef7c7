"""Properties of scheduling in a whole cluster, for all sequences of pod creations and
deletions: no pod is bound twice, no node's allocatable is exceeded, a pod that fits
somewhere is bound and Running, and the same seed gives the same placements."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from schedtest import get_scheduler, pod

import fakekube
from fakekube.scheduler.types import cpu_milli, quantity_value

NODES = [{"name": "n1", "zone": "a", "cpu": 2, "memory": "4Gi", "pods": 6},
         {"name": "n2", "zone": "b", "cpu": 4, "memory": "2Gi", "pods": 6},
         {"name": "n3", "zone": "a", "cpu": 1, "memory": "8Gi", "pods": 3}]

CPUS = ["100m", "250m", "500m", "1", "1500m", "3", "5"]
MEMS = [None, "256Mi", "1Gi", "3Gi", "9Gi"]

op = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(CPUS), st.sampled_from(MEMS),
              st.integers(0, 2)),
    st.tuples(st.just("delete"), st.integers(0, 30), st.just(None), st.just(0)),
    st.tuples(st.just("settle"), st.just(None), st.just(None), st.just(0)),
)


def run(ops, seed: int = 0) -> tuple[fakekube.Cluster, dict[str, list[str]]]:
    c = fakekube.Cluster(nodes=NODES, seed=seed)
    get_scheduler(c)
    w = c.watch("Pod", "default")
    assignments: dict[str, list[str]] = {}
    created = 0
    for kind, cpu, mem, prio in ops:
        if kind == "create":
            c.create(pod(f"p{created}", cpu=cpu, memory=mem, priority=prio))
            created += 1
        elif kind == "delete":
            name = f"p{cpu % max(created, 1)}"
            try:
                c.delete("Pod", name, grace_period_seconds=0)
            except fakekube.NotFound:
                pass
        else:
            c.settle()
        for _type, obj in w:
            n = obj["spec"].get("nodeName")
            if n:
                seen = assignments.setdefault(obj["metadata"]["uid"], [])
                if not seen or seen[-1] != n:
                    seen.append(n)
    c.settle()
    for _type, obj in w:
        n = obj["spec"].get("nodeName")
        if n:
            seen = assignments.setdefault(obj["metadata"]["uid"], [])
            if not seen or seen[-1] != n:
                seen.append(n)
    return c, assignments


def live_pods(c: fakekube.Cluster) -> list[dict]:
    return [p for p in c.list("Pod", "default")["items"]
            if p["status"].get("phase") not in ("Succeeded", "Failed")]


def requests(p: dict) -> tuple[int, int]:
    r = p["spec"]["containers"][0].get("resources", {}).get("requests", {})
    return cpu_milli(r.get("cpu", "0")), quantity_value(r.get("memory", "0"))


@settings(max_examples=40, deadline=None)
@given(st.lists(op, max_size=25))
def test_scheduling_invariants(ops):
    c, assignments = run(ops)
    # A pod is never bound to two nodes.
    assert all(len(nodes) == 1 for nodes in assignments.values()), assignments
    nodes = {n["metadata"]["name"]: n for n in c.list("Node")["items"]}
    used = {name: [0, 0, 0] for name in nodes}
    pods = live_pods(c)
    for p in pods:
        n = p["spec"].get("nodeName")
        if n:
            cpu, mem = requests(p)
            used[n][0] += cpu
            used[n][1] += mem
            used[n][2] += 1
    # No node's allocatable is ever exceeded.
    for name, (cpu, mem, count) in used.items():
        alloc = nodes[name]["status"]["allocatable"]
        assert cpu <= cpu_milli(alloc["cpu"]), (name, cpu)
        assert mem <= quantity_value(alloc["memory"]), (name, mem)
        assert count <= quantity_value(alloc["pods"]), (name, count)
    # Every pod that fits somewhere is bound, and once the cluster settles, Running: a bound
    # pod is Running, and every pending pod fits nowhere given the current placements.
    for p in pods:
        if p["spec"].get("nodeName"):
            assert p["status"].get("phase") == "Running", (p["metadata"]["name"], p["status"])
            continue
        cpu, mem = requests(p)
        for name, (ucpu, umem, ucount) in used.items():
            alloc = nodes[name]["status"]["allocatable"]
            fits = (ucpu + cpu <= cpu_milli(alloc["cpu"])
                    and umem + mem <= quantity_value(alloc["memory"])
                    and ucount + 1 <= quantity_value(alloc["pods"]))
            assert not fits, (p["metadata"]["name"], name, used)


@settings(max_examples=15, deadline=None)
@given(st.lists(op, max_size=20), st.integers(0, 1000))
def test_same_seed_same_placements(ops, seed):
    def placements():
        c, _ = run(ops, seed)
        return sorted((p["metadata"]["name"], p["spec"].get("nodeName"))
                      for p in c.list("Pod", "default")["items"])
    assert placements() == placements()


def test_every_pod_that_fits_is_bound_after_capacity_frees_up():
    c, _ = run([("create", "3", None, 0), ("create", "3", None, 0), ("settle", None, None, 0)])
    assert c.get("Pod", "p0")["spec"]["nodeName"] == "n2"     # the only node with 3 cpus
    assert not c.get("Pod", "p1")["spec"].get("nodeName")
    c.delete("Pod", "p0", grace_period_seconds=0)
    c.settle()
    assert c.get("Pod", "p1")["spec"]["nodeName"] == "n2"
