"""ClusterIP and NodePort allocation (fakekube.api.service_alloc): the allocators on their own,
and Services created, changed and deleted through the API with the hooks installed."""

from __future__ import annotations

import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fakekube
from fakekube.api.service_alloc import (AlreadyAllocated, NodePortAllocator, NotInRange,
                                        RangeFull, ServiceAllocation, ServiceIPAllocator)


def make_cluster(seed: int = 0, **options) -> fakekube.Cluster:
    return fakekube.Cluster(nodes=0, seed=seed, **options)


def svc(name: str, **spec) -> dict:
    spec.setdefault("ports", [{"name": "http", "port": 80}])
    spec.setdefault("selector", {"app": name})
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


# -- the IP allocator ------------------------------------------------------------------------


def test_ip_allocator_never_hands_out_network_or_broadcast() -> None:
    alloc = ServiceIPAllocator("10.0.0.0/28", random.Random(1))
    got = {alloc.allocate_next() for _ in range(14)}
    assert len(got) == 14
    assert "10.0.0.0" not in got and "10.0.0.15" not in got
    assert got == {f"10.0.0.{i}" for i in range(1, 15)}
    with pytest.raises(RangeFull, match="^range is full$"):
        alloc.allocate_next()
    alloc.release("10.0.0.7")
    assert alloc.allocate_next() == "10.0.0.7"


def test_ip_allocator_prefers_the_upper_range_for_dynamic_addresses() -> None:
    # /24: 256 addresses, offset min(max(16, 256/16), 256) = 16: offsets 0..15 (10.0.0.1-16)
    # stay free for static requests until the upper part is full.
    alloc = ServiceIPAllocator("10.0.0.0/24", random.Random(7))
    assert alloc.offset == 16
    first = [alloc.allocate_next() for _ in range(254 - 16)]
    assert all(int(ip.rsplit(".", 1)[1]) > 16 for ip in first)
    rest = {alloc.allocate_next() for _ in range(16)}
    assert rest == {f"10.0.0.{i}" for i in range(1, 17)}


def test_ip_allocator_errors_use_upstream_words() -> None:
    alloc = ServiceIPAllocator("10.96.0.0/12", random.Random(0))
    alloc.allocate("10.96.0.10")
    with pytest.raises(AlreadyAllocated) as exc:
        alloc.allocate("10.96.0.10")
    assert str(exc.value) == "provided IP is already allocated"
    for bad in ("10.95.255.255", "10.96.0.0", "10.111.255.255", "192.168.0.1"):
        with pytest.raises(NotInRange) as exc:
            alloc.allocate(bad)
        assert str(exc.value) == (f"the provided IP ({bad}) is not in the valid range. The "
                                  "range of valid IPs is 10.96.0.0/12")
    alloc.allocate("10.111.255.254")  # the last usable address


def test_ip_allocator_is_deterministic_under_its_seed() -> None:
    a = ServiceIPAllocator("10.96.0.0/12", random.Random(42))
    b = ServiceIPAllocator("10.96.0.0/12", random.Random(42))
    c = ServiceIPAllocator("10.96.0.0/12", random.Random(43))
    seq_a = [a.allocate_next() for _ in range(50)]
    assert seq_a == [b.allocate_next() for _ in range(50)]
    assert seq_a != [c.allocate_next() for _ in range(50)]


@settings(max_examples=60)
@given(st.lists(st.tuples(st.sampled_from(["next", "static", "release"]),
                          st.integers(0, 40)), max_size=80), st.integers(0, 2**32))
def test_ip_allocator_invariants(ops, seed) -> None:
    """Whatever the sequence, an address is held at most once, only in-range usable
    addresses are handed out, and the free count matches."""
    alloc = ServiceIPAllocator("10.1.0.0/27", random.Random(seed))
    net = ipaddress.ip_network("10.1.0.0/27")
    held: set[str] = set()
    for op, n in ops:
        ip = str(net.network_address + n)
        if op == "next":
            try:
                got = alloc.allocate_next()
            except RangeFull:
                assert len(held) == 30
                continue
            assert got not in held
            assert got not in (str(net.network_address), str(net.broadcast_address))
            held.add(got)
        elif op == "static":
            try:
                alloc.allocate(ip)
            except AlreadyAllocated:
                assert ip in held
            except NotInRange:
                assert n == 0 or n >= 31
            else:
                assert ip not in held and 0 < n < 31
                held.add(ip)
        else:
            alloc.release(ip)
            held.discard(ip)
        assert alloc.free == 30 - len(held)
        assert all(alloc.has(h) for h in held)


# -- the node port allocator -----------------------------------------------------------------


def test_node_port_allocator_range_offset_and_errors() -> None:
    alloc = NodePortAllocator("30000-32767", random.Random(3))
    assert (alloc.size, alloc.offset) == (2768, 86)  # 2768/32 = 86
    ports = [alloc.allocate_next() for _ in range(2768 - 86)]
    assert len(set(ports)) == len(ports)
    assert min(ports) == 30086 and max(ports) == 32767
    low = {alloc.allocate_next() for _ in range(86)}
    assert low == set(range(30000, 30086))
    with pytest.raises(RangeFull):
        alloc.allocate_next()
    alloc.release(30080)
    with pytest.raises(NotInRange) as exc:
        alloc.allocate(29999)
    assert str(exc.value) == ("provided port is not in the valid range. The range of valid "
                              "ports is 30000-32767")
    alloc.allocate(30080)
    with pytest.raises(AlreadyAllocated) as exc:
        alloc.allocate(30080)
    assert str(exc.value) == "provided port is already allocated"


# -- Services through the API ----------------------------------------------------------------


def test_cluster_ip_service_gets_an_address_and_family_fields() -> None:
    c = make_cluster()
    got = c.create(svc("web"))
    spec = got["spec"]
    ip = spec["clusterIP"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12")
    assert ip != "10.96.0.0"
    assert spec["clusterIPs"] == [ip]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert "nodePort" not in spec["ports"][0]
    assert c.get("Service", "web")["spec"] == spec


def test_addresses_are_unique_and_deterministic_under_the_seed() -> None:
    def ips(seed: int) -> list[str]:
        c = make_cluster(seed=seed)
        return [c.create(svc(f"s{i}"))["spec"]["clusterIP"] for i in range(20)]

    a = ips(5)
    assert len(set(a)) == 20
    assert a == ips(5)
    assert a != ips(6)


def test_service_cidr_option_is_used() -> None:
    c = make_cluster(service_cidr="172.20.0.0/16")
    ip = c.create(svc("web"))["spec"]["clusterIP"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("172.20.0.0/16")


def test_requested_cluster_ip_is_reserved_and_a_taken_one_is_refused() -> None:
    c = make_cluster()
    assert c.create(svc("dns", clusterIP="10.96.0.10"))["spec"]["clusterIPs"] == ["10.96.0.10"]
    with pytest.raises(fakekube.Invalid) as exc:
        c.create(svc("other", clusterIP="10.96.0.10"))
    assert exc.value.message == (
        'Service "other" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: '
        "failed to allocate IP 10.96.0.10: provided IP is already allocated")
    assert exc.value.code == 422
    with pytest.raises(fakekube.Invalid) as exc:
        c.create(svc("far", clusterIP="192.168.1.1"))
    assert exc.value.message == (
        'Service "far" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.1.1"}: '
        "failed to allocate IP 192.168.1.1: the provided IP (192.168.1.1) is not in the valid "
        "range. The range of valid IPs is 10.96.0.0/12")
    with pytest.raises(fakekube.NotFound):
        c.get("Service", "other")


def test_deleting_a_service_releases_its_address_and_removes_its_endpoints() -> None:
    c = make_cluster()
    c.create(svc("a", clusterIP="10.96.0.20"))
    c.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "a"}})
    c.delete("Service", "a")
    with pytest.raises(fakekube.NotFound):
        c.get("Endpoints", "a")
    assert c.create(svc("b", clusterIP="10.96.0.20"))["spec"]["clusterIP"] == "10.96.0.20"


def test_a_full_range_is_an_internal_error() -> None:
    c = make_cluster(service_cidr="10.0.0.0/30")  # two usable addresses
    c.create(svc("a"))
    c.create(svc("b"))
    with pytest.raises(fakekube.InternalError) as exc:
        c.create(svc("c"))
    assert exc.value.code == 500
    assert exc.value.message == ("Internal error occurred: failed to allocate a serviceIP: "
                                 "range is full")
    assert exc.value.status["details"] == {"causes": [
        {"message": "failed to allocate a serviceIP: range is full"}]}


def test_headless_service_gets_no_address() -> None:
    c = make_cluster()
    spec = c.create(svc("db", clusterIP="None"))["spec"]
    assert spec["clusterIP"] == "None" and spec["clusterIPs"] == ["None"]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    alloc = c.api.service_allocation
    assert alloc.ip_allocators["IPv4"].free == alloc.ip_allocators["IPv4"].size


def test_headless_selectorless_service_defaults_to_require_dual_stack() -> None:
    c = make_cluster()
    body = svc("x", clusterIP="None")
    del body["spec"]["selector"]
    spec = c.create(body)["spec"]
    assert spec["ipFamilyPolicy"] == "RequireDualStack"
    assert spec["ipFamilies"] == ["IPv4", "IPv6"]


def test_dual_stack_and_foreign_families_are_refused_on_a_single_stack_cluster() -> None:
    c = make_cluster()
    with pytest.raises(fakekube.Invalid) as exc:
        c.create(svc("a", ipFamilyPolicy="RequireDualStack"))
    assert exc.value.message == ('Service "a" is invalid: spec.ipFamilyPolicy: Invalid value: '
                                 '"RequireDualStack": this cluster is not configured for '
                                 "dual-stack services")
    with pytest.raises(fakekube.Invalid) as exc:
        c.create(svc("b", ipFamilies=["IPv6"]))
    assert exc.value.message == ('Service "b" is invalid: spec.ipFamilies[0]: Invalid value: '
                                 '"IPv6": not configured on this cluster')
    got = c.create(svc("c", ipFamilyPolicy="PreferDualStack"))["spec"]
    assert got["ipFamilies"] == ["IPv4"] and len(got["clusterIPs"]) == 1


def test_external_name_service_gets_nothing() -> None:
    c = make_cluster()
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
            "spec": {"type": "ExternalName", "externalName": "example.com"}}
    spec = c.create(body)["spec"]
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        assert field not in spec


def test_node_port_service_gets_node_ports_in_range() -> None:
    c = make_cluster()
    spec = c.create(svc("np", type="NodePort", ports=[
        {"name": "a", "port": 80, "protocol": "TCP"},
        {"name": "b", "port": 80, "protocol": "UDP"},
        {"name": "c", "port": 443}]))["spec"]
    ports = {p["name"]: p["nodePort"] for p in spec["ports"]}
    assert all(30000 <= p <= 32767 for p in ports.values())
    assert ports["a"] == ports["b"]  # one node port for one port number
    assert ports["c"] != ports["a"]
    assert spec["clusterIP"] != "None"


def test_requested_node_ports_taken_or_out_of_range_are_refused() -> None:
    c = make_cluster()
    c.create(svc("one", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    with pytest.raises(fakekube.Invalid) as exc:
        c.create(svc("two", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert exc.value.message == ('Service "two" is invalid: spec.ports[0].nodePort: Invalid '
                                 "value: 30080: provided port is already allocated")
    with pytest.raises(fakekube.Invalid) as exc:
        c.create(svc("three", type="NodePort", ports=[{"port": 80, "nodePort": 29999}]))
    assert exc.value.message == ('Service "three" is invalid: spec.ports[0].nodePort: Invalid '
                                 "value: 29999: provided port is not in the valid range. The "
                                 "range of valid ports is 30000-32767")
    # the failed creates took nothing: the cluster IP of "two" was given back
    alloc = c.api.service_allocation
    assert alloc.ip_allocators["IPv4"].size - alloc.ip_allocators["IPv4"].free == 1
    c.delete("Service", "one")
    got = c.create(svc("four", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert got["spec"]["ports"][0]["nodePort"] == 30080


def test_load_balancer_node_ports_and_health_check_port() -> None:
    c = make_cluster()
    spec = c.create(svc("lb", type="LoadBalancer", externalTrafficPolicy="Local"))["spec"]
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767
    assert 30000 <= spec["healthCheckNodePort"] <= 32767
    assert spec["healthCheckNodePort"] != spec["ports"][0]["nodePort"]
    spec = c.create(svc("lb2", type="LoadBalancer",
                        allocateLoadBalancerNodePorts=False))["spec"]
    assert "nodePort" not in spec["ports"][0]


def test_node_port_range_option_is_used() -> None:
    c = make_cluster(service_node_port_range="31000-31009")
    got = {c.create(svc(f"s{i}", type="NodePort"))["spec"]["ports"][0]["nodePort"]
           for i in range(10)}
    assert got == set(range(31000, 31010))
    with pytest.raises(fakekube.InternalError) as exc:
        c.create(svc("s10", type="NodePort"))
    assert exc.value.message == ("Internal error occurred: failed to allocate a nodePort: "
                                 "range is full")


def test_stored_services_keep_their_addresses_in_a_restored_allocation() -> None:
    """``ServiceAllocation.restore`` (what ``install`` does with Services already stored)
    marks their cluster IPs and node ports taken."""
    c = make_cluster()
    stored = c.create(svc("pre", type="NodePort", clusterIP="10.96.0.9",
                          ports=[{"port": 80, "nodePort": 30080}]))
    alloc = ServiceAllocation("10.96.0.0/12", "30000-32767", random.Random(0))
    alloc.restore([stored])
    with pytest.raises(fakekube.Invalid):
        alloc.allocate_create(svc("dup", clusterIP="10.96.0.9"))
    with pytest.raises(fakekube.Invalid):
        alloc.allocate_create(svc("dup2", type="NodePort",
                                  ports=[{"port": 80, "nodePort": 30080}]))
    fresh = svc("other", type="NodePort")
    alloc.allocate_create(fresh)
    assert fresh["spec"]["clusterIP"] != "10.96.0.9"
    assert fresh["spec"]["ports"][0]["nodePort"] != 30080


# -- updates (the hook the API layer calls before an update is stored) --------------------


def _alloc() -> ServiceAllocation:
    return ServiceAllocation("10.96.0.0/12", "30000-32767", random.Random(0))


def _stored(alloc: ServiceAllocation, body: dict) -> dict:
    alloc.allocate_create(body)
    return body


def test_update_cluster_ip_to_node_port_allocates_and_back_releases() -> None:
    alloc = _alloc()
    old = _stored(alloc, svc("web", type="ClusterIP"))
    new = {**old, "spec": {**old["spec"], "type": "NodePort",
                           "ports": [dict(p) for p in old["spec"]["ports"]]}}
    alloc.allocate_update(new, old)
    port = new["spec"]["ports"][0]["nodePort"]
    assert alloc.node_ports.has(port)
    back = {**new, "spec": {**new["spec"], "type": "ClusterIP",
                            "ports": [{k: v for k, v in p.items() if k != "nodePort"}
                                      for p in new["spec"]["ports"]]}}
    alloc.allocate_update(back, new)
    assert not alloc.node_ports.has(port)


def test_update_to_external_name_releases_and_back_allocates() -> None:
    alloc = _alloc()
    old = _stored(alloc, svc("web", clusterIP="10.96.0.30", clusterIPs=["10.96.0.30"]))
    ext = {"metadata": old["metadata"], "spec": {"type": "ExternalName",
                                                 "externalName": "example.com"}}
    alloc.allocate_update(ext, old)
    assert not alloc.ip_allocators["IPv4"].has("10.96.0.30")
    again = svc("web")
    alloc.allocate_update(again, ext)
    assert alloc.ip_allocators["IPv4"].has(again["spec"]["clusterIP"])
    assert again["spec"]["ipFamilies"] == ["IPv4"]


def test_update_changing_a_node_port_takes_the_new_one_and_frees_the_old() -> None:
    alloc = _alloc()
    old = _stored(alloc, svc("np", type="NodePort", ports=[{"port": 80, "nodePort": 30001}]))
    alloc.node_ports.allocate(30002)
    new = svc("np", type="NodePort", ports=[{"port": 80, "nodePort": 30002}])
    new["spec"]["clusterIP"] = old["spec"]["clusterIP"]
    new["spec"]["clusterIPs"] = old["spec"]["clusterIPs"]
    with pytest.raises(fakekube.Invalid, match="provided port is already allocated"):
        alloc.allocate_update(new, old)
    assert alloc.node_ports.has(30001)  # nothing changed
    new["spec"]["ports"][0]["nodePort"] = 30003
    alloc.allocate_update(new, old)
    assert alloc.node_ports.has(30003) and not alloc.node_ports.has(30001)


def test_update_keeps_family_fields_a_put_left_out() -> None:
    alloc = _alloc()
    old = _stored(alloc, svc("web"))
    new = svc("web")
    new["spec"]["clusterIP"] = old["spec"]["clusterIP"]
    new["spec"]["clusterIPs"] = old["spec"]["clusterIPs"]
    alloc.allocate_update(new, old)
    assert new["spec"]["ipFamilies"] == ["IPv4"]
    assert new["spec"]["ipFamilyPolicy"] == "SingleStack"


def test_api_update_type_change_allocates_node_ports() -> None:
    c = make_cluster()
    c.create(svc("web"))
    got = c.patch("Service", "web", {"spec": {"type": "NodePort"}})
    assert 30000 <= got["spec"]["ports"][0]["nodePort"] <= 32767
    got = c.patch("Service", "web", {"spec": {"type": "ClusterIP",
                                              "ports": [{"name": "http", "port": 80}]}})
    assert "nodePort" not in got["spec"]["ports"][0]


def test_dry_run_create_allocates_nothing() -> None:
    c = make_cluster()
    rt = c.api.registry.by_kind("Service")
    c.api.create(rt, svc("dry", clusterIP="10.96.0.40"), "default", dry_run=True)
    assert not c.api.service_allocation.ip_allocators["IPv4"].has("10.96.0.40")
    assert c.create(svc("real", clusterIP="10.96.0.40"))["spec"]["clusterIP"] == "10.96.0.40"
