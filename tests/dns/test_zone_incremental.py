"""The zone follows the store incrementally (a slice rewrite re-indexes only the endpoints
that came or went); for every history of writes it must hold exactly what a zone built from
scratch over the same store holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dnskit import build, service, stateful_pod
from podops import POD_OPS, pod_op
from fakekube.controllers.endpointslice import EndpointSliceController
from fakekube.dns.zone import Zone

OP = st.tuples(st.sampled_from([*POD_OPS, "service"]), st.integers(0, 7))
# batches of writes, the cluster settling after each: several endpoints of a slice change in
# one slice write, and whole slices go with their Service
OPS = st.lists(st.lists(OP, min_size=1, max_size=4), min_size=1, max_size=8)


def small_slices(c, per_slice: int) -> None:
    """Three endpoints per slice, so that a handful of pods spreads over several slices and
    the controller moves endpoints between them."""
    for ctl in c.manager.controllers:
        if isinstance(ctl, EndpointSliceController):
            ctl.max_per_slice = per_slice


def assert_same_as_rebuilt(c, live: Zone) -> None:
    fresh = Zone(c.api, live.domain, live.ttl, live.pod_records)
    assert live._rr == fresh._rr
    assert live._names == fresh._names


@settings(max_examples=60, deadline=None)
@given(OPS, st.booleans(), st.sampled_from([2, 3, 100]))
def test_incremental_zone_equals_a_rebuilt_one(ops, headless, per_slice) -> None:
    c, dns = build()
    small_slices(c, per_slice)
    svc = service("nginx", headless=headless, selector={"app": "nginx"})
    c.create(svc)
    c.settle()
    serial = dns.zone.serial
    services = c.api.table(c.api.registry.by_kind("Service")).objects
    for batch in ops:
        before = {k: dict(v) for k, v in dns.zone._rr.items()}
        for op, i in batch:
            if pod_op(c, op, i, stateful_pod):
                pass
            elif op == "service":
                if ("default", "nginx") in services:
                    c.delete("Service", "nginx")
                else:
                    c.create(svc)
        c.settle()
        assert_same_as_rebuilt(c, dns.zone)
        # the SOA serial moves whenever the records do
        if dns.zone._rr != before:
            assert dns.zone.serial > serial
        serial = dns.zone.serial


def test_two_endpoints_giving_one_address_keep_it_until_both_go() -> None:
    """Records are counted per endpoint: the headless Service's A record for an address two
    endpoints share survives the removal of one of them."""
    c, dns = build()
    c.create(service("nginx", headless=True, selector={"app": "nginx"}))
    c.create(stateful_pod(0))
    c.settle()
    ip = c.get("Pod", "web-0")["status"]["podIP"]
    sl = next(s for s in c.list("EndpointSlice", "default")["items"]
              if s["metadata"]["labels"].get("kubernetes.io/service-name") == "nginx")
    # a hand-made slice of the same Service repeating web-0's address under another hostname
    extra = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "nginx-extra", "namespace": "default",
                          "labels": {"kubernetes.io/service-name": "nginx"}},
             "addressType": "IPv4", "ports": sl["ports"],
             "endpoints": [{"addresses": [ip], "hostname": "twin",
                            "conditions": {"ready": True}}]}
    c.create(extra)
    fq = "nginx.default.svc.cluster.local"
    assert ip in dns.resolve(fq)
    c.delete("EndpointSlice", "nginx-extra")
    assert dns.resolve(fq) == [ip]
    assert_same_as_rebuilt(c, dns.zone)


def test_readiness_flips_replace_endpoints_in_place() -> None:
    """A pod turning unready and ready again replaces its endpoint in the same slice; the
    zone drops the old endpoint's records and adds the new one's each time."""
    c, dns = build()
    c.create(service("nginx", headless=True, selector={"app": "nginx"}))
    for i in range(3):
        c.create(stateful_pod(i))
    c.settle()
    fq = "nginx.default.svc.cluster.local"
    ips = {f"web-{i}": c.get("Pod", f"web-{i}")["status"]["podIP"] for i in range(3)}
    assert sorted(dns.resolve(fq)) == sorted(ips.values())
    for ready in (False, True, False):
        c.set_pod_ready("web-1", ready)
        c.settle()
        want = sorted(ip for name, ip in ips.items() if ready or name != "web-1")
        assert sorted(dns.resolve(fq)) == want
        assert_same_as_rebuilt(c, dns.zone)
