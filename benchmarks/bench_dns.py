"""Cluster DNS speed: in-process resolution on a zone of 1,000 Services and 10,000 pods, and
the UDP server against a bare dnslib server, side by side.

    python benchmarks/bench_dns.py [--quick]

The zone is built the ordinary way: 100 nodes with simulated kubelets, 1,000 Services (one
in four headless) each selecting 10 pods with hostname and subdomain, EndpointSlices from
the EndpointSlice controller. In-process figures are queries per second of
``ClusterDNS.resolve`` over a mix of names (ClusterIP, headless, per-pod endpoint, SRV, PTR,
pod records, NXDOMAIN, and short names through a pod's search path), median of several
rounds. The UDP figures are queries per second seen by one client sending queries one after
another on loopback, to the fakekube server and to dnslib's ``DNSServer`` (its default
threaded UDP server) with its ``FixedResolver`` answering one fixed A record, rounds
interleaved, median of rounds: once with dnspython's ``dns.query.udp`` (the client's own cost
dominates), once with pre-packed queries on a raw socket (the servers' cost shows). Client
and servers share one process, as ``cluster.dns.serve()`` does in a test.

Targets: in-process >= 50,000 queries/s; UDP at least as fast as the bare dnslib server.
"""

from __future__ import annotations

import gc
import random
import socket
import statistics
import sys
import threading
import time

import fakekube
from fakekube.api import service_alloc
from fakekube.controllers.endpointslice import EndpointSliceController
from fakekube.dns import ClusterDNS, NXDomain

try:
    import dns.message
    import dns.query
except ImportError:  # pragma: no cover
    dns = None

SERVICES, PODS, NODES = 1000, 10_000, 100
ROUNDS = 5
TARGET_IN_PROCESS = 50_000
Z = "cluster.local"


def build_zone(services: int, pods: int, nodes: int) -> tuple[fakekube.Cluster, ClusterDNS]:
    c = fakekube.Cluster(nodes=nodes, seed=1)
    if not hasattr(c.api, "service_allocation"):
        service_alloc.install(c.api, random.Random(1))
    if EndpointSliceController not in {type(x) for x in c.manager.controllers}:
        c.manager.add(EndpointSliceController(c.ctx)).setup()
    cdns = getattr(c, "dns", None)
    if not isinstance(cdns, ClusterDNS):
        cdns = ClusterDNS(c.api)
    for s in range(services):
        spec = {"selector": {"app": f"a{s}"},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        if s % 4 == 0:
            spec["clusterIP"] = "None"
        c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{s}"},
                  "spec": spec})
    for i in range(pods):
        s = i % services
        c.create({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": f"p-{i}", "labels": {"app": f"a{s}"}},
                  "spec": {"hostname": f"p-{i}", "subdomain": f"svc-{s}",
                           "nodeName": f"node-{i % nodes + 1}",
                           "containers": [{"name": "c", "image": "x",
                                           "ports": [{"containerPort": 8080}]}]}})
    c.settle()
    return c, cdns


def query_mix(c: fakekube.Cluster, services: int, pods: int) -> dict[str, list[tuple]]:
    rng = random.Random(7)
    pod_ips = {p["metadata"]["name"]: p["status"]["podIP"]
               for p in c.list("Pod", "default")["items"] if p.get("status", {}).get("podIP")}
    svc_ips = {s["metadata"]["name"]: s["spec"]["clusterIP"]
               for s in c.list("Service", "default")["items"]}

    def pick(n: int) -> list[int]:
        return [rng.randrange(n) for _ in range(2000)]

    rev = lambda ip: ".".join(reversed(ip.split("."))) + ".in-addr.arpa"  # noqa: E731
    headful = [s for s in range(services) if s % 4]
    headless = [s for s in range(services) if s % 4 == 0]
    return {
        "ClusterIP A": [(f"svc-{headful[k % len(headful)]}.default.svc.{Z}", "A", None)
                        for k in pick(services)],
        "headless A": [(f"svc-{headless[k % len(headless)]}.default.svc.{Z}", "A", None)
                       for k in pick(services)],
        "endpoint A": [(f"p-{i}.svc-{i % services}.default.svc.{Z}", "A", None)
                       for i in pick(pods)],
        "SRV": [(f"_http._tcp.svc-{s}.default.svc.{Z}", "SRV", None) for s in pick(services)],
        "PTR": [(rev(svc_ips[f"svc-{headful[k % len(headful)]}"]), "PTR", None)
                for k in pick(services)],
        "pod A": [(pod_ips[f"p-{i}"].replace(".", "-") + f".default.pod.{Z}", "A", None)
                  for i in pick(pods)],
        "NXDOMAIN": [(f"nope-{k}.default.svc.{Z}", "A", None) for k in pick(services)],
        "search path": [(f"p-{i}.svc-{i % services}", "A", "default") for i in pick(pods)],
    }


def in_process_rate(cdns: ClusterDNS, queries: list[tuple]) -> float:
    resolve = cdns.resolve
    rates = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for name, rdtype, ns in queries:
            try:
                resolve(name, rdtype, ns)
            except NXDomain:
                pass
        rates.append(len(queries) / (time.perf_counter() - t))
    return statistics.median(rates)


class BareServer:
    """dnslib's own server (threaded UDP) with its FixedResolver: one fixed A record."""

    def __init__(self) -> None:
        from dnslib.fixedresolver import FixedResolver
        from dnslib.server import DNSLogger, DNSServer

        self.server = DNSServer(FixedResolver(". 60 IN A 192.0.2.1"), port=0,
                                address="127.0.0.1", logger=DNSLogger(log="none"))
        self.thread = threading.Thread(target=self.server.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> tuple[str, int]:
        self.thread.start()
        return self.server.server.server_address

    def __exit__(self, *exc) -> None:
        self.server.server.shutdown()
        self.server.server.server_close()


def udp_rate(address: tuple[str, int], names: list[str], rdtype: str = "A") -> float:
    """dnspython, one query after another (a new socket per query, as ``dns.query.udp``)."""
    host, port = address
    msgs = [dns.message.make_query(n, rdtype) for n in names]
    t = time.perf_counter()
    for q in msgs:
        dns.query.udp(q, host, port=port, timeout=2)
    return len(msgs) / (time.perf_counter() - t)


def raw_rate(address: tuple[str, int], names: list[str], rdtype: str = "A") -> float:
    """Pre-packed queries on one socket, reply read and dropped: what the server alone
    costs, without the client library."""
    wires = [dns.message.make_query(n, rdtype).to_wire() for n in names]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        t = time.perf_counter()
        for w in wires:
            s.sendto(w, address)
            s.recvfrom(65535)
        return len(wires) / (time.perf_counter() - t)


def compare(ours_addr, bare_addr, names: list[str], rate) -> tuple[float, float]:
    rate(ours_addr, names[:200])  # warm up both
    rate(bare_addr, names[:200])
    ours, bare = [], []
    for _ in range(ROUNDS):
        ours.append(rate(ours_addr, names))
        bare.append(rate(bare_addr, names))
    return statistics.median(ours), statistics.median(bare)


def main(quick: bool = False) -> int:
    services, pods, nodes = (100, 1000, 10) if quick else (SERVICES, PODS, NODES)
    t = time.perf_counter()
    c, cdns = build_zone(services, pods, nodes)
    built = time.perf_counter() - t
    gc.collect()
    gc.freeze()  # the zone's objects are long-lived: keep the collector off them
    print(f"zone: {services} Services, {pods} pods, {len(cdns.zone)} records "
          f"(built in {built:.1f} s wall)")
    print()
    mix = query_mix(c, services, pods)
    print(f"{'in-process query':<22}{'queries/s':>12}")
    every = []
    for label, queries in mix.items():
        print(f"{label:<22}{in_process_rate(cdns, queries):>12,.0f}")
        every.extend(queries)
    random.Random(3).shuffle(every)
    overall = in_process_rate(cdns, every)
    ok_in = overall >= TARGET_IN_PROCESS
    print(f"{'all, mixed':<22}{overall:>12,.0f}   target >= {TARGET_IN_PROCESS:,}: "
          f"{'PASS' if ok_in else 'FAIL'}")
    print()
    if dns is None:
        print("dnspython is not installed: UDP comparison skipped")
        return 0 if ok_in else 1
    names = [n for n, t_, ns in every if t_ == "A" and ns is None][:3000]
    n_udp = 500 if quick else 3000
    names = (names * (n_udp // max(1, len(names)) + 1))[:n_udp]
    rows = []
    with cdns.serve() as ours_addr, BareServer() as bare_addr:
        for label, rate in (("dnspython client", udp_rate), ("raw socket client", raw_rate)):
            rows.append((label, *compare(ours_addr, bare_addr, names, rate)))
    print(f"{'UDP, queries/s':<22}{'fakekube':>12}{'bare dnslib':>14}{'ratio':>8}")
    for label, o, b in rows:
        print(f"{label:<22}{o:>12,.0f}{b:>14,.0f}{o / b:>8.2f}")
    ok_udp = all(o >= b for _, o, b in rows)
    print(f"fakekube at least as fast as the bare dnslib server: {'PASS' if ok_udp else 'FAIL'}")
    return 0 if ok_in and ok_udp else 1


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv))
