"""Records of the cluster zone, in process (SPEC.md NET-5 .. NET-11; the Kubernetes DNS
specification, schema 1.1.0)."""

from __future__ import annotations

import pytest

from dnskit import build, ip_of, pod, service, stateful_pod
from fakekube.dns import NXDomain, Refused

Z = "cluster.local"


def rev(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def dashed(ip: str) -> str:
    return ip.replace(".", "-")


# -- ClusterIP Services (NET-5) ----------------------------------------------------------------


def test_cluster_ip_a_record_exists_without_endpoints() -> None:
    c, dns = build()
    ip = c.create(service("web"))["spec"]["clusterIP"]
    c.settle()
    assert dns.resolve(f"web.default.svc.{Z}") == [ip]
    c.create(pod("p", app="web"))
    c.set_pod_ready("p", False)
    c.settle()
    assert dns.resolve(f"web.default.svc.{Z}") == [ip]


def test_cluster_ip_srv_ptr_and_nodata() -> None:
    c, dns = build()
    ip = c.create(service("web", ports=[{"name": "http", "port": 80},
                                         {"name": "dns", "port": 53, "protocol": "UDP"}]))[
        "spec"]["clusterIP"]
    c.settle()
    fq = f"web.default.svc.{Z}."
    assert dns.resolve(f"_http._tcp.web.default.svc.{Z}", "SRV") == [f"0 100 80 {fq}"]
    assert dns.resolve(f"_dns._udp.web.default.svc.{Z}", "SRV") == [f"0 100 53 {fq}"]
    with pytest.raises(NXDomain):
        dns.resolve(f"_dns._tcp.web.default.svc.{Z}", "SRV")
    assert dns.resolve(rev(ip), "PTR") == [fq]
    assert dns.resolve(f"web.default.svc.{Z}", "AAAA") == []  # NODATA (NET-11)
    assert dns.resolve(f"web.default.svc.{Z}", "TXT") == []


def test_unnamed_ports_have_no_srv_name() -> None:
    c, dns = build()
    c.create(service("web", ports=[{"port": 80}]))
    c.settle()
    with pytest.raises(NXDomain):
        dns.resolve(f"_._tcp.web.default.svc.{Z}", "SRV")
    # CoreDNS also answers SRV at the Service name itself, for every port
    assert dns.resolve(f"web.default.svc.{Z}", "SRV") == [f"0 100 80 web.default.svc.{Z}."]


# -- headless Services (NET-6, NET-7, NET-8) --------------------------------------------------


def test_headless_a_records_follow_ready_endpoints() -> None:
    c, dns = build()
    c.create(service("nginx", headless=True))
    c.settle()
    with pytest.raises(NXDomain):  # no ready endpoint: NXDOMAIN
        dns.resolve(f"nginx.default.svc.{Z}")
    for i in range(3):
        c.create(stateful_pod(i))
    c.settle()
    ips = sorted(ip_of(c, f"web-{i}") for i in range(3))
    assert sorted(dns.resolve(f"nginx.default.svc.{Z}")) == ips
    c.set_pod_ready("web-1", False)
    c.settle()
    assert ip_of(c, "web-1") not in dns.resolve(f"nginx.default.svc.{Z}")
    with pytest.raises(NXDomain):  # NET-11: not a ready endpoint
        dns.resolve(f"web-1.nginx.default.svc.{Z}")
    assert dns.resolve(f"nginx.default.svc.{Z}", "AAAA") == []


def test_endpoint_hostnames_and_ptr() -> None:
    c, dns = build()
    c.create(service("nginx", headless=True))
    c.create(stateful_pod(0))
    c.create(pod("anon", "node-2"))  # no hostname: the dashed IP names it (NET-9)
    c.settle()
    ip0, ipa = ip_of(c, "web-0"), ip_of(c, "anon")
    assert dns.resolve(f"web-0.nginx.default.svc.{Z}") == [ip0]
    assert dns.resolve(f"{dashed(ipa)}.nginx.default.svc.{Z}") == [ipa]
    assert dns.resolve(rev(ip0), "PTR") == [f"web-0.nginx.default.svc.{Z}."]
    assert dns.resolve(rev(ipa), "PTR") == [f"{dashed(ipa)}.nginx.default.svc.{Z}."]


def test_headless_srv_is_endpoints_times_named_ports() -> None:
    c, dns = build()
    c.create(service("nginx", headless=True, ports=[
        {"name": "web", "port": 80, "targetPort": 8080},
        {"name": "admin", "port": 9000, "targetPort": 9001},
        {"name": "raw", "port": 7, "protocol": "UDP"}]))
    for i in range(2):
        c.create(stateful_pod(i))
    c.settle()
    web = dns.resolve(f"_web._tcp.nginx.default.svc.{Z}", "SRV")
    assert sorted(web) == [f"0 50 8080 web-{i}.nginx.default.svc.{Z}." for i in range(2)]
    admin = dns.resolve(f"_admin._tcp.nginx.default.svc.{Z}", "SRV")
    assert sorted(admin) == [f"0 50 9001 web-{i}.nginx.default.svc.{Z}." for i in range(2)]
    assert len(dns.resolve(f"_raw._udp.nginx.default.svc.{Z}", "SRV")) == 2


def test_publish_not_ready_addresses_publishes_unready_pods() -> None:
    c, dns = build()
    c.create(service("nginx", headless=True, publishNotReadyAddresses=True))
    c.set_pod_ready("web-0", False)
    c.create(stateful_pod(0))
    c.settle()
    assert dns.resolve(f"web-0.nginx.default.svc.{Z}") == [ip_of(c, "web-0")]


def test_endpoint_names_under_cluster_ip_services_too() -> None:
    """CoreDNS answers <hostname>.<svc> for the endpoints of any Service."""
    c, dns = build()
    c.create(service("web", selector={"app": "nginx"}))
    c.create(pod("p"))
    c.settle()
    ip = ip_of(c, "p")
    assert dns.resolve(f"{dashed(ip)}.web.default.svc.{Z}") == [ip]


# -- ExternalName, pods, schema version ------------------------------------------------------


def test_external_name_cname() -> None:
    c, dns = build()
    ip = c.create(service("web"))["spec"]["clusterIP"]
    for name, target in (("out", "www.example.com."), ("in", f"web.default.svc.{Z}")):
        c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                  "spec": {"type": "ExternalName", "externalName": target}})
    c.settle()
    assert dns.resolve(f"out.default.svc.{Z}", "CNAME") == ["www.example.com."]
    assert dns.resolve(f"out.default.svc.{Z}") == []  # the target is not ours to resolve
    assert dns.resolve(f"in.default.svc.{Z}") == [ip]  # in-zone targets are followed


def test_pod_records_verified() -> None:
    c, dns = build()
    c.create(pod("p", "node-2"))
    c.settle()
    ip = ip_of(c, "p")
    assert dns.resolve(f"{dashed(ip)}.default.pod.{Z}") == [ip]
    with pytest.raises(NXDomain):
        dns.resolve(f"10-1-2-3.default.pod.{Z}")
    with pytest.raises(NXDomain):  # another namespace
        dns.resolve(f"{dashed(ip)}.kube-system.pod.{Z}")
    c.delete("Pod", "p")
    c.settle()
    with pytest.raises(NXDomain):
        dns.resolve(f"{dashed(ip)}.default.pod.{Z}")


def test_pod_records_insecure_and_disabled() -> None:
    c, dns = build(pod_records="insecure")
    assert dns.resolve(f"10-1-2-3.default.pod.{Z}") == ["10.1.2.3"]
    with pytest.raises(NXDomain):
        dns.resolve(f"10-1-2-3.nowhere.pod.{Z}")
    with pytest.raises(NXDomain):
        dns.resolve(f"10-1-2-300.default.pod.{Z}")
    c, dns = build(pod_records="disabled")
    c.create(pod("p"))
    c.settle()
    with pytest.raises(NXDomain):
        dns.resolve(f"{dashed(ip_of(c, 'p'))}.default.pod.{Z}")


def test_schema_version_and_apex() -> None:
    _, dns = build()
    assert dns.resolve(f"dns-version.{Z}", "TXT") == ['"1.1.0"']
    assert dns.resolve(f"dns-version.{Z}") == []
    [soa] = dns.resolve(Z, "SOA")
    assert soa.startswith(f"ns.dns.{Z}. hostmaster.{Z}. ")
    assert dns.resolve(Z, "NS") == [f"ns.dns.{Z}."]
    assert dns.resolve(Z) == []


# -- names that do not exist, and names that are not ours (NET-10, NET-11) ------------------


def test_nxdomain_nodata_and_refused() -> None:
    c, dns = build()
    c.create(service("web"))
    c.settle()
    assert dns.resolve(f"default.svc.{Z}") == []  # an existing namespace: NODATA
    assert dns.resolve(f"svc.{Z}") == []
    for missing in (f"nope.default.svc.{Z}", f"web.nowhere.svc.{Z}", f"nowhere.svc.{Z}",
                    f"x.y.web.default.svc.{Z}", f"foo.{Z}", "1.2.3.4.in-addr.arpa"):
        with pytest.raises(NXDomain) as exc:
            dns.resolve(missing)
        assert exc.value.name == missing
    for outside in ("example.com", "local", "cluster.local.example.com", "."):
        with pytest.raises(Refused):
            dns.resolve(outside)


def test_case_insensitive() -> None:
    c, dns = build()
    ip = c.create(service("web"))["spec"]["clusterIP"]
    c.settle()
    assert dns.resolve("WEB.Default.SVC.Cluster.Local.") == [ip]
    assert dns.resolve("web.default.svc.cluster.local", "a") == [ip]


def test_deleted_service_disappears() -> None:
    c, dns = build()
    ip = c.create(service("web"))["spec"]["clusterIP"]
    c.settle()
    c.delete("Service", "web")
    c.settle()
    with pytest.raises(NXDomain):
        dns.resolve(f"web.default.svc.{Z}")
    with pytest.raises(NXDomain):
        dns.resolve(rev(ip), "PTR")


def test_other_cluster_domain() -> None:
    c, dns = build(cluster_domain="corp.internal")
    ip = c.create(service("web"))["spec"]["clusterIP"]
    c.settle()
    assert dns.resolve("web.default.svc.corp.internal") == [ip]
    with pytest.raises(Refused):
        dns.resolve(f"web.default.svc.{Z}")


def test_bad_arguments() -> None:
    _, dns = build()
    for bad in ("", "a..b", "x" * 64 + ".default.svc.cluster.local", "a." * 130,
                "ü.cluster.local"):
        with pytest.raises(ValueError):
            dns.resolve(bad)
    with pytest.raises(ValueError):
        dns.resolve(f"web.default.svc.{Z}", "NOPE")
    assert dns.resolve(f"dns-version.{Z}", 16) == ['"1.1.0"']
