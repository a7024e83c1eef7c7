"""The scheduler cache: node order, incremental pod accounting, assumed pods, indexes."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from schedtest import Env, node, pod

from fakekube.api.selectors import label_selector_from_dict
from fakekube.scheduler import Cache, PodInfo


def bare_node(name: str, zone: str | None = None) -> dict:
    labels = {"kubernetes.io/hostname": name}
    if zone is not None:
        labels["topology.kubernetes.io/zone"] = zone
    return {"metadata": {"name": name, "labels": labels},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}


def bare_pod(name: str, node_name: str, cpu: str = "100m", labels: dict | None = None,
             namespace: str = "default") -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}",
                         "labels": labels or {}},
            "spec": {"nodeName": node_name, "containers": [
                {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]}}


def test_node_list_interleaves_zones_in_order_first_seen():
    c = Cache()
    for name, zone in [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c"),
                       ("b2", "b"), ("x", None)]:
        c.add_node(bare_node(name, zone))
    assert [n.name for n in c.node_list()] == ["a1", "b1", "c1", "x", "a2", "b2", "a3"]
    c.remove_node("b1")
    assert [n.name for n in c.node_list()] == ["a1", "b2", "c1", "x", "a2", "a3"]


def test_zone_change_moves_the_node_in_the_tree():
    c = Cache()
    c.add_node(bare_node("n1", "a"))
    c.add_node(bare_node("n2", "a"))
    c.add_node(bare_node("n3", "b"))
    c.update_node(bare_node("n1", "b"))
    assert [n.name for n in c.node_list()] == ["n2", "n3", "n1"]


def test_pods_are_accounted_incrementally():
    c = Cache()
    ni = c.add_node(bare_node("n1"))
    c.add_pod(bare_pod("p1", "n1", "500m"))
    c.add_pod(bare_pod("p2", "n1", "1"))
    assert (ni.req_cpu, ni.req_mem, len(ni.pods)) == (1500, 2 << 30, 2)
    assert (ni.free_cpu, ni.free_pods) == (2500, 108)
    c.remove_pod("uid-p1")
    assert (ni.req_cpu, ni.free_cpu, ni.free_pods) == (1000, 3000, 109)


def test_assumed_pod_is_confirmed_by_its_binding_and_can_be_forgotten():
    c = Cache()
    ni = c.add_node(bare_node("n1"))
    p = bare_pod("p", "")
    pi = PodInfo(p)
    c.assume_pod(pi, "n1")
    assert c.is_assumed("uid-p") and ni.req_cpu == 100
    bound = dict(p, spec=dict(p["spec"], nodeName="n1"))
    got = c.add_pod(bound)
    assert got is pi and not c.is_assumed("uid-p") and ni.req_cpu == 100
    c.assume_pod(PodInfo(bare_pod("q", "")), "n1")
    c.forget_pod("uid-q")
    assert ni.req_cpu == 100 and "uid-q" not in c.pods


def test_pods_on_unknown_nodes_wait_on_a_placeholder():
    c = Cache()
    c.add_pod(bare_pod("p", "later"))
    assert c.get_node("later") is None and c.node_list() == []
    ni = c.add_node(bare_node("later"))
    assert ni.req_cpu == 100 and [n.name for n in c.node_list()] == ["later"]
    c.remove_node("later")
    assert c.get_node("later") is None and "later" in c.nodes   # placeholder keeps the pod
    c.remove_pod("uid-p")
    assert "later" not in c.nodes


def test_counters_follow_pods_and_node_labels():
    c = Cache()
    c.add_node(bare_node("n1", "a"))
    c.add_node(bare_node("n2", "b"))
    sel = label_selector_from_dict({"matchLabels": {"app": "web"}})
    c.add_pod(bare_pod("p1", "n1", labels={"app": "web"}))
    assert c.count_matching(sel, "default") == {"n1": 1}
    assert c.count_matching_by_label(sel, "default", "topology.kubernetes.io/zone") == {"a": 1}
    c.add_pod(bare_pod("p2", "n2", labels={"app": "web"}))
    c.add_pod(bare_pod("p3", "n2", labels={"app": "db"}))
    c.add_pod(bare_pod("p4", "n2", labels={"app": "web"}, namespace="other"))
    assert c.count_matching(sel, "default") == {"n1": 1, "n2": 1}
    assert c.count_matching_by_label(sel, "default", "topology.kubernetes.io/zone") == \
        {"a": 1, "b": 1}
    c.update_node(bare_node("n2", "a"))
    assert c.count_matching_by_label(sel, "default", "topology.kubernetes.io/zone") == {"a": 2}
    c.remove_pod("uid-p1")
    assert c.count_matching(sel, "default") == {"n2": 1}
    assert c.count_matching_by_label(sel, "default", "topology.kubernetes.io/zone") == {"a": 1}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 7),
                          st.sampled_from(["n1", "n2", "n3"]),
                          st.sampled_from(["web", "db"])), max_size=40))
def test_incremental_counts_equal_a_recount(ops):
    c = Cache()
    for n, z in (("n1", "a"), ("n2", "a"), ("n3", "b")):
        c.add_node(bare_node(n, z))
    sel = label_selector_from_dict({"matchLabels": {"app": "web"}})
    c.count_matching(sel, "default")       # start counting early
    for op, i, n, app in ops:
        uid = f"uid-p{i}"
        if op == "add" and uid not in c.pods:
            c.add_pod(bare_pod(f"p{i}", n, labels={"app": app}))
        elif op == "remove":
            c.remove_pod(uid)
    expect: dict[str, int] = {}
    for st_ in c.pods.values():
        if st_.pi.labels.get("app") == "web":
            expect[st_.node] = expect.get(st_.node, 0) + 1
    assert c.count_matching(sel, "default") == expect
    ni_sum = {ni.name: ni.req_cpu for ni in c.node_list()}
    assert ni_sum == {n: 100 * sum(1 for s in c.pods.values() if s.node == n)
                      for n in ("n1", "n2", "n3")}


def test_terminal_pods_free_their_resources():
    env = Env([node("n1", cpu="1")])
    env.create(pod("a", cpu="1", nodeName="n1"))
    env.run()
    ni = env.node_info("n1")
    assert ni.req_cpu == 1000
    p = env.get("Pod", "a")
    p["status"]["phase"] = "Succeeded"
    env.cluster.replace(p, subresource="status")
    env.run()
    assert ni.req_cpu == 0
    env.create(pod("b", cpu="1"))
    env.run()
    assert env.node_of("b") == "n1"
