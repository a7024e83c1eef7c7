"""Names as a pod would look them up: through its search path (``ndots:5``; search
``<ns>.svc.<zone> svc.<zone> <zone>``)."""

from __future__ import annotations

import pytest

from dnskit import build, ip_of, service, stateful_pod
from fakekube.dns import NXDomain, Refused


@pytest.fixture(scope="module")
def world():
    c, dns = build()
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    web = c.create(service("web"))["spec"]["clusterIP"]
    far = c.create(service("far", namespace="other"))["spec"]["clusterIP"]
    c.create(service("nginx", headless=True))
    c.create(stateful_pod(0))
    c.settle()
    return c, dns, {"web": web, "far": far, "web-0": ip_of(c, "web-0")}


def test_short_names_from_a_namespace(world) -> None:
    _, dns, ips = world
    assert dns.resolve("web", from_namespace="default") == [ips["web"]]
    assert dns.resolve("web-0.nginx", from_namespace="default") == [ips["web-0"]]
    assert dns.resolve("far.other", from_namespace="default") == [ips["far"]]
    assert dns.resolve("far.other.svc", from_namespace="default") == [ips["far"]]
    assert dns.resolve("web.default.svc.cluster.local", from_namespace="other") == [ips["web"]]
    assert dns.resolve("_web._tcp.web", "SRV", from_namespace="default") == [
        "0 100 80 web.default.svc.cluster.local."]


def test_the_namespace_decides(world) -> None:
    _, dns, ips = world
    with pytest.raises(NXDomain):
        dns.resolve("web", from_namespace="other")
    assert dns.resolve("far", from_namespace="other") == [ips["far"]]


def test_trailing_dot_is_not_expanded(world) -> None:
    _, dns, _ = world
    with pytest.raises(Refused):
        dns.resolve("web.", from_namespace="default")


def test_nodata_beats_nxdomain_and_refused_needs_every_candidate_out(world) -> None:
    _, dns, _ = world
    assert dns.resolve("web", "AAAA", from_namespace="default") == []
    with pytest.raises(NXDomain):
        dns.resolve("example.com", from_namespace="default")  # the search names are ours
    with pytest.raises(Refused):
        dns.resolve("example.com.", from_namespace="default")


def test_five_dots_are_tried_as_is_first(world) -> None:
    _, dns, ips = world
    # five dots: absolute first (found), the search names are never needed
    assert dns.resolve("web-0.nginx.default.svc.cluster.local",
                       from_namespace="other") == [ips["web-0"]]
    # a six-label name that only exists with a suffix is still found afterwards
    with pytest.raises(NXDomain):
        dns.resolve("a.b.c.d.e.f", from_namespace="default")


def test_without_a_namespace_names_are_absolute(world) -> None:
    _, dns, ips = world
    assert dns.resolve("web.default.svc.cluster.local") == [ips["web"]]
    with pytest.raises(Refused):
        dns.resolve("web")
