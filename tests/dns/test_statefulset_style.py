"""A headless Service with StatefulSet-style pods (``hostname`` + ``subdomain``): stable DNS
names that follow each pod's current incarnation."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnskit import build, ip_of, service, stateful_pod
from fakekube.dns import NXDomain

Z = "cluster.local"


def name_of(i: int) -> str:
    return f"web-{i}.nginx.default.svc.{Z}"


def test_names_follow_a_recreated_pod() -> None:
    c, dns = build()
    c.create(service("nginx", headless=True))
    for i in range(3):
        c.create(stateful_pod(i))
    c.settle()
    old = ip_of(c, "web-1")
    assert dns.resolve(name_of(1)) == [old]
    assert dns.resolve("web-1.nginx", from_namespace="default") == [old]
    c.delete("Pod", "web-1")
    c.settle()
    with pytest.raises(NXDomain):
        dns.resolve(name_of(1))
    c.create(stateful_pod(1, node="node-3"))
    c.settle()
    new = ip_of(c, "web-1")
    assert new != old
    assert dns.resolve(name_of(1)) == [new]
    assert sorted(dns.resolve(f"nginx.default.svc.{Z}")) == sorted(
        ip_of(c, f"web-{i}") for i in range(3))


def test_a_pod_on_a_failed_node_leaves_dns_and_its_successor_arrives() -> None:
    c, dns = build()
    c.create(service("nginx", headless=True))
    c.create(stateful_pod(0, node="node-1"))
    c.create(stateful_pod(1, node="node-2"))
    c.settle()
    old = ip_of(c, "web-1")
    c.fail_node("node-2")
    c.settle()  # not ready after the grace period, then evicted: Terminating, still there
    assert c.get("Pod", "web-1")["metadata"].get("deletionTimestamp")
    with pytest.raises(NXDomain):
        dns.resolve(name_of(1))
    c.remove_node("node-2")
    c.settle()
    c.create(stateful_pod(1, node="node-3"))
    c.settle()
    assert dns.resolve(name_of(1)) == [ip_of(c, "web-1")] != [old]


def expected(c) -> dict[int, str]:
    """Pods that are Ready, not terminating, and named web-i.nginx."""
    out = {}
    for p in c.list("Pod", "default")["items"]:
        m, spec, status = p["metadata"], p["spec"], p.get("status") or {}
        ready = any(x["type"] == "Ready" and x["status"] == "True"
                    for x in status.get("conditions") or ())
        if (ready and not m.get("deletionTimestamp") and status.get("podIP")
                and spec.get("hostname") and spec.get("subdomain") == "nginx"
                and m["labels"].get("app") == "nginx"):
            out[int(spec["hostname"].split("-")[1])] = status["podIP"]
    return out


OPS = st.lists(st.tuples(st.sampled_from(["create", "delete", "recreate", "unready", "ready",
                                          "fail", "restore"]),
                         st.integers(0, 3)), min_size=1, max_size=10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_names_resolve_to_exactly_the_current_ready_incarnation(ops) -> None:
    """For every Ready, non-terminating pod with hostname/subdomain under the headless
    Service, its name resolves to exactly its current IP; no other name resolves; and once
    settled a name never gives a dead incarnation's IP."""
    c, dns = build()
    c.create(service("nginx", headless=True))
    dead: dict[int, set[str]] = {i: set() for i in range(4)}
    failed: set[str] = set()
    for op, i in ops:
        pods = {p["metadata"]["name"]: p for p in c.list("Pod", "default")["items"]}
        name = f"web-{i}"
        node = f"node-{i % 3 + 1}"
        if op == "create" and name not in pods:
            c.create(stateful_pod(i))
        elif op in ("delete", "recreate") and name in pods:
            ip = (pods[name].get("status") or {}).get("podIP")
            c.delete("Pod", name, grace_period_seconds=0)
            if ip:
                dead[i].add(ip)
            if op == "recreate":
                alive = [n for n in ("node-1", "node-2", "node-3") if n not in failed]
                c.create(stateful_pod(i, node=alive[i % len(alive)] if alive else node))
        elif op in ("unready", "ready"):
            c.set_pod_ready(name, op == "ready")
        elif op == "fail" and node not in failed and len(failed) < 2:
            c.fail_node(node)
            failed.add(node)
        elif op == "restore" and node in failed:
            c.restore_node(node)
            failed.discard(node)
        c.settle()
        want = expected(c)
        for j in range(4):
            if j in want:
                got = dns.resolve(name_of(j))
                assert got == [want[j]]
                assert not (set(got) & (dead[j] - {want[j]}))
            else:
                with pytest.raises(NXDomain):
                    dns.resolve(name_of(j))
        if want:
            assert sorted(dns.resolve(f"nginx.default.svc.{Z}")) == sorted(want.values())
        else:
            with pytest.raises(NXDomain):
                dns.resolve(f"nginx.default.svc.{Z}")
