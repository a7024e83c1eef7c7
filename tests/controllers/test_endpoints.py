"""The legacy Endpoints controller (SPEC.md NET-4)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

import fakekube
from fakekube.api import service_alloc
from fakekube.controllers.endpoints import MAX_CAPACITY, EndpointsController, truncate
from podops import pod_op

TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def make_cluster(seed: int = 0) -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=2, zones=["a", "b"], seed=seed)
    if not hasattr(c.api, "service_allocation"):
        service_alloc.install(c.api, random.Random(seed))
    if EndpointsController not in {type(x) for x in c.manager.controllers}:
        c.manager.add(EndpointsController(c.ctx)).setup()
    return c


def service(name: str = "nginx", *, headless: bool = False, ports: list | None = None,
            labels: dict | None = None, **spec) -> dict:
    spec.setdefault("selector", {"app": "nginx"})
    spec["ports"] = ports if ports is not None else [{"name": "web", "port": 80,
                                                       "targetPort": "http"}]
    if headless:
        spec["clusterIP"] = "None"
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def pod(name: str, node: str = "node-1", *, hostname: str = "", subdomain: str = "",
        **spec) -> dict:
    spec.setdefault("containers", [{"name": "c", "image": "nginx", "ports": [
        {"name": "http", "containerPort": 8080}]}])
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "nginx"}}, "spec": spec}


def addresses(c: fakekube.Cluster, name: str = "nginx") -> tuple[set, set]:
    ep = c.get("Endpoints", name)
    ready, not_ready = set(), set()
    for ss in ep.get("subsets") or ():
        for a in ss.get("addresses") or ():
            ready.add(a["targetRef"]["name"])
        for a in ss.get("notReadyAddresses") or ():
            not_ready.add(a["targetRef"]["name"])
    return ready, not_ready


def test_ready_and_not_ready_addresses() -> None:
    c = make_cluster()
    c.create(service(labels={"tier": "web"}))
    c.set_pod_ready("b", False)
    c.create(pod("a", "node-1", hostname="a", subdomain="nginx"))
    c.create(pod("b", "node-2"))
    c.settle()
    assert addresses(c) == ({"a"}, {"b"})
    ep = c.get("Endpoints", "nginx")
    assert ep["metadata"]["labels"] == {"tier": "web"}
    assert TRIGGER in ep["metadata"]["annotations"]
    pa = c.get("Pod", "a")
    [subset_a] = [ss for ss in ep["subsets"] if ss.get("addresses")]
    assert subset_a["addresses"] == [{"ip": pa["status"]["podIP"], "hostname": "a",
                                      "nodeName": "node-1",
                                      "targetRef": {"kind": "Pod", "namespace": "default",
                                                    "name": "a",
                                                    "uid": pa["metadata"]["uid"]}}]
    assert subset_a["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    c.set_pod_ready("b", None)
    c.settle()
    assert addresses(c) == ({"a", "b"}, set())


def test_headless_label_and_portless_headless_service() -> None:
    c = make_cluster()
    c.create(service(headless=True, ports=[]))
    c.create(pod("a"))
    c.settle()
    ep = c.get("Endpoints", "nginx")
    assert ep["metadata"]["labels"] == {"service.kubernetes.io/headless": ""}
    [ss] = ep["subsets"]
    assert "ports" not in ss and [a["targetRef"]["name"] for a in ss["addresses"]] == ["a"]


def test_terminating_pods_are_left_out_unless_not_ready_addresses_are_published() -> None:
    for publish, expected in ((False, (set(), set())), (True, ({"a"}, set()))):
        c = make_cluster()
        c.create(service(publishNotReadyAddresses=publish))
        c.create(pod("a", "node-2"))
        c.settle()
        c.fail_node("node-2")
        c.settle()  # grace, then eviction: the pod is Terminating on a silent node
        assert c.get("Pod", "a")["metadata"].get("deletionTimestamp")
        assert addresses(c) == expected


def test_empty_endpoints_and_deletion_with_the_service() -> None:
    c = make_cluster()
    c.create(service())
    c.settle()
    ep = c.get("Endpoints", "nginx")
    assert "subsets" not in ep
    c.delete("Service", "nginx")
    c.settle()
    assert c.list("Endpoints", "default")["items"] == []


def test_selectorless_service_endpoints_are_left_alone() -> None:
    c = make_cluster()
    body = service("manual")
    del body["spec"]["selector"]
    c.create(body)
    c.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
              "subsets": [{"addresses": [{"ip": "192.0.2.1"}], "ports": [{"port": 80}]}]})
    c.settle()
    [ss] = c.get("Endpoints", "manual")["subsets"]
    assert ss["addresses"] == [{"ip": "192.0.2.1"}]


def test_deleted_endpoints_come_back() -> None:
    c = make_cluster()
    c.create(service())
    c.create(pod("a"))
    c.settle()
    c.delete("Endpoints", "nginx")
    c.settle()
    assert addresses(c) == ({"a"}, set())


def test_no_write_when_nothing_changed() -> None:
    c = make_cluster()
    c.create(service())
    c.create(pod("a"))
    c.settle()
    rv = c.get("Endpoints", "nginx")["metadata"]["resourceVersion"]
    c.patch("Pod", "a", {"metadata": {"annotations": {"x": "y"}}})
    c.patch("Service", "nginx", {"metadata": {"annotations": {"x": "y"}}})
    c.settle()
    assert c.get("Endpoints", "nginx")["metadata"]["resourceVersion"] == rv


def _addr(i: int) -> dict:
    return {"ip": f"10.0.{i // 250}.{i % 250 + 1}"}


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0, 700), st.integers(0, 700)), min_size=1, max_size=4))
def test_truncation_keeps_at_most_the_capacity(groups) -> None:
    subsets, n = [], 0
    for ready, not_ready in groups:
        ss = {"ports": [{"port": 80 + len(subsets)}]}
        if ready:
            ss["addresses"] = [_addr(n + i) for i in range(ready)]
        if not_ready:
            ss["notReadyAddresses"] = [_addr(n + ready + i) for i in range(not_ready)]
        n += ready + not_ready
        subsets.append(ss)
    total_ready = sum(r for r, _ in groups)
    changed = truncate(subsets)
    kept_ready = sum(len(ss.get("addresses") or ()) for ss in subsets)
    kept_not = sum(len(ss.get("notReadyAddresses") or ()) for ss in subsets)
    assert changed == (n > MAX_CAPACITY)
    if not changed:
        assert kept_ready + kept_not == n
    elif total_ready > MAX_CAPACITY:
        assert kept_ready == MAX_CAPACITY and kept_not == 0
    else:
        assert kept_ready == total_ready and kept_ready + kept_not == MAX_CAPACITY


# -- a property ----------------------------------------------------------------------------


def expected_addresses(c: fakekube.Cluster, publish: bool) -> tuple[dict, dict]:
    """NET-4 from the pods themselves: name -> IP, ready and not ready."""
    ready, not_ready = {}, {}
    for p in c.list("Pod", "default", label_selector="app=nginx")["items"]:
        st_ = p.get("status") or {}
        if st_.get("phase") in ("Succeeded", "Failed") or not st_.get("podIP"):
            continue
        if p["metadata"].get("deletionTimestamp") and not publish:
            continue
        is_ready = any(x["type"] == "Ready" and x["status"] == "True"
                       for x in st_.get("conditions") or ())
        (ready if publish or is_ready else not_ready)[p["metadata"]["name"]] = st_["podIP"]
    return ready, not_ready


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["create", "delete", "unready", "ready", "relabel",
                                           "port"]),
                          st.integers(0, 5)), min_size=1, max_size=14),
       st.booleans())
def test_endpoints_always_match_the_pods(ops, publish) -> None:
    """For all sequences of pod and Service changes, the Endpoints object (kept up to date
    incrementally between syncs) holds exactly the pods' addresses, sorted, on the Service's
    current port."""
    c = make_cluster()
    c.create(service(headless=True, publishNotReadyAddresses=publish))
    port = 80
    for op, i in ops:
        if pod_op(c, op, i, lambda i: pod(f"web-{i}", f"node-{i % 2 + 1}", hostname=f"web-{i}",
                                          subdomain="nginx")):
            pass
        elif op == "port":
            port = 80 + i
            c.patch("Service", "nginx", {"spec": {"ports": [
                {"name": "web", "port": port, "targetPort": "http"}]}})
        c.settle()
        ep = c.get("Endpoints", "nginx")
        got_ready, got_not_ready = {}, {}
        for ss in ep.get("subsets") or ():
            assert [p["port"] for p in ss["ports"]] == [8080]
            for key, into in (("addresses", got_ready), ("notReadyAddresses", got_not_ready)):
                lst = ss.get(key) or []
                assert [a["ip"] for a in lst] == sorted(a["ip"] for a in lst)
                for a in lst:
                    into[a["targetRef"]["name"]] = a["ip"]
                    assert a["hostname"] == a["targetRef"]["name"]
        assert (got_ready, got_not_ready) == expected_addresses(c, publish)
        svc = c.get("Service", "nginx")
        assert svc["spec"]["ports"][0]["port"] == port
