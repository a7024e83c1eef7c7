"""NodeResourcesFit: requests against allocatable, and the LeastAllocated score."""

from __future__ import annotations

from schedtest import Env, node, pod

from fakekube.scheduler import CycleState, PodInfo
from fakekube.scheduler.framework import Code
from fakekube.scheduler.types import pod_requests


def test_reasons_in_upstream_order_all_of_them():
    env = Env([node("n", cpu="1", memory="1Gi", pods="1")])
    env.create(pod("existing", cpu="500m", memory="512Mi", nodeName="n"))
    env.run()
    out = env.filter_all("NodeResourcesFit", env.pod_info(pod("p", cpu="1", memory="1Gi")))
    assert out == {"n": "Too many pods, Insufficient cpu, Insufficient memory"}
    st = env.plugin("NodeResourcesFit").filter(
        env.pre_filter("NodeResourcesFit", env.pod_info(pod("p", cpu="1")))[0],
        env.pod_info(pod("p", cpu="1")), env.node_info("n"))
    assert st.code == Code.UNSCHEDULABLE and st.reasons == ("Too many pods", "Insufficient cpu")


def test_exact_fit_and_zero_requests_on_an_overcommitted_node():
    env = Env([node("n", cpu="1", memory="1Gi")])
    env.create(pod("big", cpu="2", nodeName="n"))      # bound past allocatable
    env.run()
    assert env.node_info("n").free_cpu == -1000
    # No cpu request: cpu is not checked, even though the node is overcommitted.
    assert env.filter_all("NodeResourcesFit", env.pod_info(pod("p", cpu=None))) == {"n": None}
    assert env.filter_all("NodeResourcesFit",
                          env.pod_info(pod("p", cpu=None, memory="1Gi"))) == {"n": None}
    assert env.filter_all("NodeResourcesFit",
                          env.pod_info(pod("p", cpu=None, memory="1025Mi"))) == \
        {"n": "Insufficient memory"}


def test_extended_and_ephemeral_resources():
    env = Env([node("gpu", extra_allocatable={"example.com/gpu": "2",
                                              "ephemeral-storage": "10Gi"}),
               node("plain")])
    p = pod("p")
    p["spec"]["containers"][0]["resources"] = {"requests": {"example.com/gpu": "1"},
                                               "limits": {"example.com/gpu": "1"}}
    assert env.filter_all("NodeResourcesFit", env.pod_info(p)) == {
        "gpu": None, "plain": "Insufficient example.com/gpu"}
    p["spec"]["containers"][0]["resources"] = {"requests": {"ephemeral-storage": "20Gi"}}
    assert env.filter_all("NodeResourcesFit", env.pod_info(p)) == {
        "gpu": "Insufficient ephemeral-storage", "plain": "Insufficient ephemeral-storage"}


def _spec(containers, init=(), overhead=None):
    spec = {"containers": [{"name": f"c{i}", "resources": {"requests": r}}
                           for i, r in enumerate(containers)],
            "initContainers": [dict({"name": f"i{i}", "resources": {"requests": r}}, **extra)
                               for i, (r, extra) in enumerate(init)]}
    if overhead:
        spec["overhead"] = overhead
    return spec


def test_requests_include_init_containers_sidecars_and_overhead():
    # Upstream's example: containers sum, init containers are a running maximum.
    spec = _spec([{"cpu": "2", "memory": "1G"}, {"cpu": "1", "memory": "1G"}],
                 [({"cpu": "2", "memory": "1G"}, {}), ({"cpu": "2", "memory": "3G"}, {})])
    assert pod_requests(spec) == {"cpu": 3000, "memory": 3_000_000_000}
    # A sidecar (restartable init container) adds to the sum and to later init containers.
    spec = _spec([{"cpu": "1"}], [({"cpu": "500m"}, {"restartPolicy": "Always"}),
                                  ({"cpu": "1200m"}, {})])
    assert pod_requests(spec) == {"cpu": 1700}
    spec = _spec([{"cpu": "1"}], overhead={"cpu": "250m", "memory": "120Mi"})
    assert pod_requests(spec) == {"cpu": 1250, "memory": 120 << 20}


def test_scoring_defaults_for_containers_without_requests():
    pi = PodInfo({"metadata": {"name": "p", "namespace": "d", "uid": "u"},
                  "spec": {"containers": [{"name": "a"}, {"name": "b", "resources": {
                      "requests": {"cpu": "1"}}}]}})
    assert (pi.cpu, pi.mem) == (1000, 0)
    assert (pi.nz_cpu, pi.nz_mem) == (1100, 2 * 200 * 1024 * 1024)


def test_least_allocated_scores():
    env = Env([node("empty", cpu="4", memory="8Gi"), node("half", cpu="4", memory="8Gi")])
    env.create(pod("x", cpu="2", memory="4Gi", nodeName="half"))
    env.run()
    plugin = env.plugin("NodeResourcesFit")
    pi = env.pod_info(pod("p", cpu="1", memory="2Gi"))
    # ((4000-1000)*100/4000 + (8Gi-2Gi)*100/8Gi) / 2 = (75 + 75) / 2
    assert plugin.score(CycleState(), pi, env.node_info("empty")) == 75
    assert plugin.score(CycleState(), pi, env.node_info("half")) == 25
    # Requests beyond allocatable score 0 for that resource.
    big = env.pod_info(pod("b", cpu="8", memory="1Gi"))
    assert plugin.score(CycleState(), big, env.node_info("empty")) == (0 + 87) // 2


def test_least_allocated_spreads_pods():
    env = Env([node("a"), node("b")])
    for i in range(4):
        env.create(pod(f"p{i}", cpu="1", memory="1Gi"))
        env.run()
    placed = [env.node_of(f"p{i}") for i in range(4)]
    assert placed.count("a") == placed.count("b") == 2


def test_too_big_for_every_node_is_unschedulable_without_exception():
    env = Env([node("a"), node("b")])
    env.create(pod("huge", cpu="64", memory="1Ti"))
    env.run()
    assert env.condition("huge")["reason"] == "Unschedulable"
    assert env.message("huge") == (
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: "
        "0/2 nodes are available: 2 No preemption victims found for incoming pod.")
    assert env.scheduler.internal_errors == []
