"""The EndpointSlice controller (SPEC.md NET-1, NET-2, NET-3, NET-12): slices of Services with
a selector, built from their pods, on a cluster with simulated kubelets."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

import fakekube
from fakekube.api import service_alloc
from fakekube.controllers.endpointslice import (CONTROLLER_NAME, EndpointSliceController,
                                                 find_port)
from podops import pod_op

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
HEADLESS = "service.kubernetes.io/headless"


def make_cluster(nodes: int = 3, seed: int = 0, **options) -> fakekube.Cluster:
    c = fakekube.Cluster(nodes=nodes, zones=["a", "b", "c"], seed=seed, **options)
    if not hasattr(c.api, "service_allocation"):
        service_alloc.install(c.api, random.Random(seed))
    if EndpointSliceController not in {type(x) for x in c.manager.controllers}:
        c.manager.add(EndpointSliceController(c.ctx)).setup()
    return c


def service(name: str = "nginx", *, headless: bool = False, selector: dict | None = None,
            ports: list | None = None, labels: dict | None = None, **spec) -> dict:
    spec["selector"] = selector if selector is not None else {"app": name}
    spec["ports"] = ports if ports is not None else [{"name": "web", "port": 80,
                                                       "targetPort": "http"}]
    if headless:
        spec["clusterIP"] = "None"
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def pod(name: str, node: str = "node-1", *, labels: dict | None = None, hostname: str = "",
        subdomain: str = "", port: int = 8080, **spec) -> dict:
    spec.setdefault("containers", [{"name": "c", "image": "nginx", "ports": [
        {"name": "http", "containerPort": port}]}])
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": "nginx"}}, "spec": spec}


def slices(c: fakekube.Cluster, svc: str = "nginx") -> list[dict]:
    return c.list("EndpointSlice", "default", label_selector=f"{SERVICE_NAME}={svc}")["items"]


def endpoints_by_pod(c: fakekube.Cluster, svc: str = "nginx") -> dict[str, dict]:
    out = {}
    for sl in slices(c, svc):
        for ep in sl["endpoints"] or ():
            name = ep["targetRef"]["name"]
            assert name not in out, f"{name} is in two slices"
            out[name] = ep
    return out


# -- the slice ---------------------------------------------------------------------------------


def test_slice_shape_for_a_headless_service() -> None:
    c = make_cluster()
    svc = c.create(service(headless=True, labels={"tier": "db"}))
    c.create(pod("web-0", "node-1", hostname="web-0", subdomain="nginx"))
    c.create(pod("web-1", "node-2", hostname="web-1", subdomain="nginx"))
    c.settle()
    [sl] = slices(c)
    meta = sl["metadata"]
    assert meta["generateName"] == "nginx-"
    assert meta["name"].startswith("nginx-") and len(meta["name"]) == len("nginx-") + 5
    assert meta["labels"] == {"tier": "db", HEADLESS: "", SERVICE_NAME: "nginx",
                              MANAGED_BY: CONTROLLER_NAME}
    assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "Service", "name": "nginx",
                                        "uid": svc["metadata"]["uid"], "controller": True,
                                        "blockOwnerDeletion": True}]
    assert sl["addressType"] == "IPv4"
    assert sl["ports"] == [{"name": "web", "protocol": "TCP", "port": 8080}]
    p0 = c.get("Pod", "web-0")
    ep = endpoints_by_pod(c)["web-0"]
    assert ep == {"addresses": [p0["status"]["podIP"]],
                  "conditions": {"ready": True, "serving": True, "terminating": False},
                  "hostname": "web-0",
                  "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-0",
                                "uid": p0["metadata"]["uid"]},
                  "nodeName": "node-1", "zone": "a"}
    assert endpoints_by_pod(c)["web-1"]["zone"] == "b"


def test_cluster_ip_service_slice_has_no_headless_label_and_no_hostnames() -> None:
    c = make_cluster()
    c.create(service("web", selector={"app": "nginx"}))
    c.create(pod("web-0", hostname="web-0", subdomain="nginx"))
    c.settle()
    [sl] = slices(c, "web")
    assert HEADLESS not in sl["metadata"]["labels"]
    assert "hostname" not in endpoints_by_pod(c, "web")["web-0"]  # subdomain is another name


def test_placeholder_slice_without_pods() -> None:
    c = make_cluster()
    c.create(service())
    c.settle()
    [sl] = slices(c)
    assert sl["endpoints"] is None and sl["ports"] is None  # empty lists come back as null
    c.create(pod("web-0"))
    c.settle()
    [again] = slices(c)
    assert again["metadata"]["name"] == sl["metadata"]["name"]  # reused, not replaced
    assert [ep["targetRef"]["name"] for ep in again["endpoints"]] == ["web-0"]
    c.delete("Pod", "web-0")
    c.settle()
    [last] = slices(c)
    assert last["metadata"]["name"] == sl["metadata"]["name"]
    assert last["endpoints"] is None


def test_services_without_selector_or_external_name_get_no_slices() -> None:
    c = make_cluster()
    body = service("manual")
    del body["spec"]["selector"]
    c.create(body)
    c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
              "spec": {"type": "ExternalName", "externalName": "example.com"}})
    c.create(pod("web-0", labels={"app": "manual"}))
    c.settle()
    assert slices(c, "manual") == [] and slices(c, "ext") == []


def test_trigger_time_annotation() -> None:
    c = make_cluster()
    c.create(service())
    c.settle()
    [sl] = slices(c)
    created = c.get("Service", "nginx")["metadata"]["creationTimestamp"]
    assert sl["metadata"]["annotations"] == {
        "endpoints.kubernetes.io/last-change-trigger-time": created}


def test_named_target_port_is_resolved_per_pod() -> None:
    c = make_cluster()
    c.create(service())
    c.create(pod("a", port=8080))
    c.create(pod("b", port=9090))
    c.create(pod("c", port=8080))
    c.create(pod("d", containers=[{"name": "c", "image": "x"}]))  # no port named http
    c.settle()
    by_port = {}
    for sl in slices(c):
        key = tuple(p["port"] for p in sl["ports"] or ())
        by_port[key] = sorted(ep["targetRef"]["name"] for ep in sl["endpoints"])
    assert by_port == {(8080,): ["a", "c"], (9090,): ["b"], (): ["d"]}


def test_find_port() -> None:
    p = pod("x", containers=[{"name": "c", "image": "x", "ports": [
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        {"name": "dns", "containerPort": 5353, "protocol": "TCP"}]}],
        initContainers=[{"name": "side", "image": "x", "restartPolicy": "Always",
                         "ports": [{"name": "metrics", "containerPort": 9100}]}])
    assert find_port(p, {"port": 53, "targetPort": "dns", "protocol": "TCP"}) == 5353
    assert find_port(p, {"port": 53, "targetPort": "dns", "protocol": "UDP"}) == 53
    assert find_port(p, {"port": 9, "targetPort": "metrics", "protocol": "TCP"}) == 9100
    assert find_port(p, {"port": 9, "targetPort": "nope", "protocol": "TCP"}) is None
    assert find_port(p, {"port": 80, "targetPort": 8080}) == 8080


def test_headless_service_without_ports() -> None:
    c = make_cluster()
    c.create(service(headless=True, ports=[]))
    c.create(pod("web-0"))
    c.settle()
    [sl] = slices(c)
    assert sl["ports"] is None
    assert [ep["targetRef"]["name"] for ep in sl["endpoints"]] == ["web-0"]


# -- conditions and eligibility (NET-1, NET-2) ----------------------------------------------


def test_readiness_follows_the_pod() -> None:
    c = make_cluster()
    c.create(service())
    c.create(pod("web-0"))
    c.settle()
    assert endpoints_by_pod(c)["web-0"]["conditions"] == {"ready": True, "serving": True,
                                                          "terminating": False}
    c.set_pod_ready("web-0", False)
    c.settle()
    assert endpoints_by_pod(c)["web-0"]["conditions"] == {"ready": False, "serving": False,
                                                          "terminating": False}
    c.set_pod_ready("web-0", None)
    c.settle()
    assert endpoints_by_pod(c)["web-0"]["conditions"]["ready"] is True


def test_publish_not_ready_addresses_marks_every_endpoint_ready() -> None:
    c = make_cluster()
    c.create(service(publishNotReadyAddresses=True))
    c.set_pod_ready("web-0", False)
    c.create(pod("web-0"))
    c.settle()
    assert endpoints_by_pod(c)["web-0"]["conditions"] == {"ready": True, "serving": False,
                                                          "terminating": False}


def test_pods_without_ip_or_terminal_are_left_out() -> None:
    c = make_cluster()
    c.create(service())
    c.create(pod("pending", node="ghost"))  # bound to a node without a kubelet: no IP
    c.create(pod("done", restartPolicy="Never"))
    c.create(pod("up"))
    c.settle()
    assert set(endpoints_by_pod(c)) == {"done", "up"}
    c.kill_container("done", exit_code=0)
    c.settle()
    assert c.get("Pod", "done")["status"]["phase"] == "Succeeded"
    assert set(endpoints_by_pod(c)) == {"up"}


def test_node_failure_timeline_net_12() -> None:
    """A failed node's pod turns not ready (grace), then terminating (eviction) and stays
    in the slice until the pod object goes."""
    c = make_cluster()
    c.create(service(headless=True))
    c.create(pod("web-0", "node-1"))
    c.create(pod("web-1", "node-2"))
    c.settle()
    c.fail_node("node-2")
    c.advance(c.config.node_monitor_grace_period + 10)
    assert endpoints_by_pod(c)["web-1"]["conditions"] == {"ready": False, "serving": False,
                                                          "terminating": False}
    c.settle()
    assert c.get("Pod", "web-1")["metadata"].get("deletionTimestamp")
    assert endpoints_by_pod(c)["web-1"]["conditions"] == {"ready": False, "serving": False,
                                                          "terminating": True}
    c.remove_node("node-2")
    c.settle()
    assert set(endpoints_by_pod(c)) == {"web-0"}


# -- keeping up ----------------------------------------------------------------------------


def test_service_label_changes_reach_the_slices() -> None:
    c = make_cluster()
    c.create(service(labels={"v": "1"}))
    c.create(pod("web-0"))
    c.settle()
    c.patch("Service", "nginx", {"metadata": {"labels": {"v": "2", SERVICE_NAME: "evil"}}})
    c.settle()
    [sl] = slices(c)
    assert sl["metadata"]["labels"] == {"v": "2", SERVICE_NAME: "nginx",
                                        MANAGED_BY: CONTROLLER_NAME}


def test_pod_label_changes_move_endpoints_between_services() -> None:
    c = make_cluster()
    c.create(service("blue", selector={"color": "blue"}))
    c.create(service("green", selector={"color": "green"}))
    c.create(pod("p", labels={"color": "blue"}))
    c.settle()
    assert set(endpoints_by_pod(c, "blue")) == {"p"} and endpoints_by_pod(c, "green") == {}
    c.patch("Pod", "p", {"metadata": {"labels": {"color": "green"}}})
    c.settle()
    assert endpoints_by_pod(c, "blue") == {} and set(endpoints_by_pod(c, "green")) == {"p"}


def test_deleted_service_slices_are_garbage_collected() -> None:
    c = make_cluster()
    c.create(service())
    c.create(pod("web-0"))
    c.settle()
    assert slices(c)
    c.delete("Service", "nginx")
    c.settle()
    assert slices(c) == []


def test_a_slice_deleted_by_someone_else_comes_back() -> None:
    c = make_cluster()
    c.create(service())
    c.create(pod("web-0"))
    c.settle()
    [sl] = slices(c)
    c.delete("EndpointSlice", sl["metadata"]["name"])
    c.settle()
    [again] = slices(c)
    assert again["metadata"]["name"] != sl["metadata"]["name"]
    assert set(endpoints_by_pod(c)) == {"web-0"}


def test_at_most_100_endpoints_per_slice() -> None:
    c = make_cluster(nodes=3)
    c.create(service())
    for i in range(230):
        c.create(pod(f"p-{i:03d}", f"node-{i % 3 + 1}"))
    c.settle()
    sizes = sorted(len(sl["endpoints"]) for sl in slices(c))
    assert sizes == [30, 100, 100]
    assert len(endpoints_by_pod(c)) == 230
    for i in range(0, 230, 2):
        c.delete("Pod", f"p-{i:03d}")
    c.settle()
    got = endpoints_by_pod(c)
    assert set(got) == {f"p-{i:03d}" for i in range(1, 230, 2)}
    assert all(len(sl["endpoints"] or ()) <= 100 for sl in slices(c))


def test_slice_names_are_deterministic_under_the_seed() -> None:
    def names(seed: int) -> list[str]:
        c = make_cluster(seed=seed)
        c.create(service())
        c.create(pod("web-0"))
        c.settle()
        return [sl["metadata"]["name"] for sl in slices(c)]

    assert names(3) == names(3)


# -- a property ----------------------------------------------------------------------------


def expected_endpoints(c: fakekube.Cluster, publish: bool) -> dict[str, tuple]:
    """What NET-1/NET-2 say the slices hold, from the pods themselves."""
    out = {}
    for p in c.list("Pod", "default", label_selector="app=nginx")["items"]:
        st_ = p.get("status") or {}
        if st_.get("phase") in ("Succeeded", "Failed") or not st_.get("podIP"):
            continue
        serving = any(x["type"] == "Ready" and x["status"] == "True"
                      for x in st_.get("conditions") or ())
        terminating = bool(p["metadata"].get("deletionTimestamp"))
        out[p["metadata"]["name"]] = (st_["podIP"], publish or (serving and not terminating),
                                      serving, terminating)
    return out


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["create", "delete", "unready", "ready", "relabel",
                                           "drop-slice"]),
                          st.integers(0, 5)), min_size=1, max_size=14),
       st.booleans(), st.sampled_from([2, 100]))
def test_slices_always_match_the_pods(ops, publish, per_slice) -> None:
    """For every history, and with slices small enough that endpoints spread over several
    (so the incremental sync moves them between slices), the slices hold the pods."""
    c = make_cluster()
    for ctl in c.manager.controllers:
        if isinstance(ctl, EndpointSliceController):
            ctl.max_per_slice = per_slice
    c.create(service(headless=True, publishNotReadyAddresses=publish))
    for op, i in ops:
        if pod_op(c, op, i, lambda i: pod(f"web-{i}", f"node-{i % 3 + 1}", hostname=f"web-{i}",
                                          subdomain="nginx")):
            pass
        elif op == "drop-slice":  # someone else deletes a slice: the controller repairs it
            mine = slices(c)
            if mine:
                c.delete("EndpointSlice", mine[i % len(mine)]["metadata"]["name"])
        c.settle()
        got = {n: (ep["addresses"][0], ep["conditions"]["ready"], ep["conditions"]["serving"],
                   ep["conditions"]["terminating"])
               for n, ep in endpoints_by_pod(c).items()}
        assert got == expected_endpoints(c, publish)
        for n, ep in endpoints_by_pod(c).items():
            assert ep["hostname"] == n
        assert all(len(sl["endpoints"] or ()) <= per_slice for sl in slices(c))
