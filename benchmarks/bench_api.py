"""API layer speed: create/get against a copy floor, indexed list, Cluster(), 100k pods.

    python benchmarks/bench_api.py

Machines here are shared and noisy: each figure is the median of several rounds, and the
create/get costs are reported as ratios to a floor measured in the same run: a hand-written
recursive copy of the same JSON object (dicts and lists rebuilt, leaves shared). Each round
of creates or gets follows a round of the floor, and the ratio is the median of the rounds'
ratios, so that a busy spell slows both sides of a ratio.

Pods made from one template (a workload's) share their stored spec (``api/templates.py``);
the rows for pods with a spec of their own, and with containers of their own too, show the
full path.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

import fakekube
from fakekube.api.objects import deep_copy

ROUNDS = 7


def floor_copy(o):
    """The floor: rebuild dicts and lists, share leaves (not copy.deepcopy)."""
    if isinstance(o, dict):
        return {k: floor_copy(v) for k, v in o.items()}
    if isinstance(o, list):
        return [floor_copy(v) for v in o]
    return o


def sample_pod(i: int) -> dict:
    """A realistic pod: two containers with ports, env, resources and mounts, two volumes."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"web-{i}", "labels": {"app": "web", "tier": "front",
                                                    "shard": str(i % 100)},
                     "annotations": {"example.com/owner": "team-a"}},
        "spec": {
            "containers": [
                {"name": "web", "image": "nginx:1.27",
                 "ports": [{"name": "http", "containerPort": 80}],
                 "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "info"}],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                               "limits": {"cpu": "500m", "memory": "256Mi"}},
                 "volumeMounts": [{"name": "data", "mountPath": "/data"},
                                  {"name": "config", "mountPath": "/etc/web"}]},
                {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "infinity"],
                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}},
            ],
            "volumes": [{"name": "data", "emptyDir": {}},
                        {"name": "config", "configMap": {"name": "web-config"}}],
        },
    }


def own_spec_pod(i: int) -> dict:
    """:func:`sample_pod` with a spec of its own, as a StatefulSet's pods have (each its own
    hostname): no create reuses another's stored spec (``api/templates.py``)."""
    pod = sample_pod(i)
    pod["spec"]["hostname"] = f"web-{i}"
    return pod


def own_containers_pod(i: int) -> dict:
    """:func:`sample_pod` whose containers are its own too (an env value): nothing of one
    create's checks is remembered for the next."""
    pod = own_spec_pod(i)
    pod["spec"]["containers"][0]["env"][0]["value"] = f"run-{i}"
    return pod


def timeit(fn, n: int) -> float:
    """Median seconds per call over ROUNDS rounds of n calls."""
    per = []
    for _ in range(ROUNDS):
        gc.collect()
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        per.append((time.perf_counter() - t0) / n)
    return statistics.median(per)


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import resource
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def bare_api():
    """The spine alone: the API layer over a store, without controllers (what issue 2
    measures); a full Cluster adds every controller's informer handlers to each write."""
    import random

    from fakekube.api.server import ApiServer
    from fakekube.api.store import Store
    from fakekube.clock import VirtualClock
    from fakekube.config import Config

    api = ApiServer(Store(), VirtualClock(), random.Random(0), Config())
    api.create(api.registry.by_kind("Namespace"),
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return api


def update_rows(n: int) -> list[tuple[str, str, str]]:
    """Updates as controllers and kubelets make them (the body handed over, no copies):
    a pod's status, a claim's annotations, an Endpoints of 1,000 addresses gaining or
    losing one. The StatefulSet and pod-start runs make some 30 such writes per pod."""
    api = bare_api()
    rows = []

    def write(rt, body, sub=None):
        m = body["metadata"]
        api.update(rt, body, m["name"], m.get("namespace"), subresource=sub, owned=True,
                   copy_out=False, field_validation="Ignore")

    pod_rt = api.registry.by_kind("Pod")
    api.create(pod_rt, sample_pod(0), "default")
    pods = api.table(pod_rt).objects

    def pod_status(i):
        old = pods[("default", "web-0")]
        status = {"phase": "Running", "qosClass": "Burstable", "podIP": "10.0.0.5",
                  "conditions": [{"type": "Ready", "status": "True" if i % 2 else "False",
                                  "lastTransitionTime": "2025-01-01T00:00:00Z"}]}
        write(pod_rt, {"apiVersion": "v1", "kind": "Pod", "metadata": dict(old["metadata"]),
                       "status": status}, "status")

    t = timeit(pod_status, n)
    rows.append(("Pod status update (kubelet-style body)", f"{t * 1e6:.1f} us", ""))

    pvc_rt = api.registry.by_kind("PersistentVolumeClaim")
    api.create(pvc_rt, {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": "data", "namespace": "default"},
                        "spec": {"accessModes": ["ReadWriteOnce"],
                                 "resources": {"requests": {"storage": "1Gi"}}}}, "default")
    claims = api.table(pvc_rt).objects

    def pvc_update(i):
        old = claims[("default", "data")]
        new = dict(old)
        meta = new["metadata"] = dict(old["metadata"])
        meta["annotations"] = {"example.com/seen": str(i % 2)}
        write(pvc_rt, new)

    t = timeit(pvc_update, n)
    rows.append(("PersistentVolumeClaim update (an annotation)", f"{t * 1e6:.1f} us", ""))

    ep_rt = api.registry.by_kind("Endpoints")
    api.create(ep_rt, {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "big", "namespace": "default"},
        "subsets": [{"addresses": [
            {"ip": f"10.1.{i // 250}.{i % 250 + 1}", "nodeName": "node-0",
             "targetRef": {"kind": "Pod", "namespace": "default", "name": f"p-{i}",
                           "uid": f"u-{i}"}} for i in range(1000)],
            "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}]},
        "default", owned=True, copy_out=False, field_validation="Ignore")
    endpoints = api.table(ep_rt).objects
    extra = {"ip": "10.9.9.9", "nodeName": "node-0",
             "targetRef": {"kind": "Pod", "namespace": "default", "name": "p-x", "uid": "u-x"}}

    def ep_update(i):
        old = endpoints[("default", "big")]
        ss = old["subsets"][0]
        addresses = [a for a in ss["addresses"] if a is not extra]
        if len(addresses) == len(ss["addresses"]):
            addresses.append(extra)
        new = dict(old)
        new["metadata"] = dict(old["metadata"])
        new["subsets"] = [{"addresses": addresses, "ports": ss["ports"]}]
        write(ep_rt, new)

    t = timeit(ep_update, max(n // 10, 1))
    rows.append(("Endpoints update, 1,000 addresses (one added or removed)",
                 f"{t * 1e6:.1f} us", ""))

    # The other fixed-cost writes of a pod's start: its binding and its events (four each).
    from fakekube.runtime.events import EventRecorder

    for i in range(n * ROUNDS):
        api.create(pod_rt, {"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": f"b-{i}", "namespace": "default"},
                            "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
                   "default", owned=True, copy_out=False, field_validation="Ignore")
    bound = iter(range(10**9))

    def bind(i):
        j = next(bound)
        api.bind(f"b-{j}", "default", {
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": f"b-{j}", "namespace": "default"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}})

    t = timeit(bind, n)
    rows.append(("Pod binding (pods/binding, as the scheduler posts it)", f"{t * 1e6:.1f} us",
                 ""))
    recorder = EventRecorder(api, "kubelet", "node-1")
    recorded = iter(range(10**9))

    def event(i):
        recorder.event(pods[("default", "web-0")], "Normal", "Pulled",
                       f"pulled {next(recorded)}")

    t = timeit(event, n)
    rows.append(("Event recorded (EventRecorder.event, a new event)", f"{t * 1e6:.1f} us", ""))
    return rows


def paired(fn, n: int, floor_fn, floor_n: int, rounds: int = 2 * ROUNDS
           ) -> tuple[float, float, float]:
    """Rounds of ``fn`` (n calls) each right after a round of ``floor_fn``: the medians of
    seconds per call of each, and the median of the rounds' ratios. A busy spell on a shared
    machine then slows a round and its floor alike, instead of one measure and not the other
    (allocating code suffers from a noisy neighbour more than a cache-warm copy loop)."""
    per, floors, ratios = [], [], []
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        for i in range(floor_n):
            floor_fn(i)
        f = (time.perf_counter() - t0) / floor_n
        gc.collect()
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        t = (time.perf_counter() - t0) / n
        per.append(t)
        floors.append(f)
        ratios.append(t / f)
    return statistics.median(per), statistics.median(floors), statistics.median(ratios)


def create_vs_floor(make, n: int) -> tuple[float, float, float]:
    """Pod creates (pods from ``make``) paired with the floor copy of the stored pod."""
    api = bare_api()
    rt = api.registry.by_kind("Pod")
    rounds = 2 * ROUNDS
    pods = [make(i) for i in range(n * rounds + 100)]
    counter = iter(range(10**9))
    for _ in range(100):
        api.create(rt, pods[next(counter)], "default")
    stored = api.get(rt, pods[0]["metadata"]["name"], "default")
    return paired(lambda i: api.create(rt, pods[next(counter)], "default"), n,
                  lambda i: floor_copy(stored), 5 * n, rounds)


def main() -> None:
    rows = []
    n = 2000
    t_create, floor_stored, r_create = create_vs_floor(sample_pod, n // 2)
    own = {label: create_vs_floor(make, n // 2)
           for label, make in (("spec", own_spec_pod), ("containers", own_containers_pod))}
    api = bare_api()
    rt = api.registry.by_kind("Pod")
    for i in range(100):
        api.create(rt, sample_pod(i), "default")
    stored = api.get(rt, "web-0", "default")
    pod = sample_pod(0)
    floor = timeit(lambda i: floor_copy(pod), n * 5)
    t_get, _, r_get = paired(lambda i: api.get(rt, "web-17", "default"), n * 5,
                             lambda i: floor_copy(stored), n * 5)
    rows.append(("floor: copy of the pod as sent", f"{floor * 1e6:.1f} us", ""))
    rows.append(("floor: copy of the pod as stored", f"{floor_stored * 1e6:.1f} us",
                 "defaulting makes the stored pod larger"))
    rows.append(("Pod create, API layer (copy in, pipeline, copy out)",
                 f"{t_create * 1e6:.1f} us",
                 f"{r_create:.2f}x the stored pod's copy (target <= 3x); pods of one "
                 "template, as a workload's"))
    rows.append(("Pod create, each pod's spec its own (hostname)",
                 f"{own['spec'][0] * 1e6:.1f} us",
                 f"{own['spec'][2]:.2f}x its stored copy; as a StatefulSet's pods"))
    rows.append(("Pod create, each pod's containers their own too (env)",
                 f"{own['containers'][0] * 1e6:.1f} us",
                 f"{own['containers'][2]:.2f}x its stored copy; nothing repeats"))
    rows.append(("Pod get, API layer", f"{t_get * 1e6:.1f} us",
                 f"{r_get:.2f}x (target <= 1.5x)"))

    rows.extend(update_rows(n))

    c = fakekube.Cluster(nodes=0)
    crt = c.api.registry.by_kind("Pod")
    cpods = [sample_pod(i) for i in range(n * ROUNDS)]
    ccounter = iter(range(10**9))
    t_full = timeit(lambda i: c.api.create(crt, cpods[next(ccounter)], "default"), n)
    rows.append(("Pod create, full cluster (every controller's handlers)",
                 f"{t_full * 1e6:.1f} us", f"{t_full / floor_stored:.2f}x the stored copy "
                 "(the floor of the first row)"))
    del c, cpods

    # list 10,000 pods with a selector matching 100 of them
    api2 = bare_api()
    for i in range(10_000):
        api2.create(rt, sample_pod(i), "default", owned=True, copy_out=False)
    lists = []
    for _ in range(ROUNDS * 3):
        t0 = time.perf_counter()
        got = api2.list(rt, "default", label_selector="shard=7")
        lists.append(time.perf_counter() - t0)
    assert len(got["items"]) == 100
    rows.append(("list 10,000 pods, selector matching 100",
                 f"{statistics.median(lists) * 1e3:.2f} ms", "target < 5 ms (label index)"))
    del api2

    inits = []
    for _ in range(ROUNDS * 3):
        gc.collect()
        t0 = time.perf_counter()
        fakekube.Cluster()
        inits.append(time.perf_counter() - t0)
    rows.append(("Cluster() ready (3 nodes, every controller)",
                 f"{statistics.median(inits) * 1e3:.2f} ms", "target < 5 ms"))

    for label, collect, make in (
            ("100,000 pods created", True, sample_pod),
            ("100,000 pods created, cyclic GC off", False, sample_pod),
            ("100,000 pods created, each spec its own", True, own_spec_pod)):
        gc.collect()
        before = rss_mb()
        api3 = bare_api()
        batch = [make(i) for i in range(100_000)]
        if not collect:
            gc.disable()
        t0 = time.perf_counter()
        for p in batch:
            api3.create(rt, p, "default")
        elapsed = time.perf_counter() - t0
        gc.enable()
        after = rss_mb()
        rows.append((label, f"{elapsed:.2f} s",
                     f"{100_000 / elapsed:,.0f} pods/s; +{after - before:,.0f} MB RSS "
                     "(target < 5 s)"))
        del api3, batch
        gc.collect()

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'median':>10}  notes")
    print("-" * (width + 70))
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    sys.exit(main())
