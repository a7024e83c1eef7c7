"""The zone served on loopback UDP and TCP, queried by a real client (dnspython), and by hand
with packets a client would never send."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnskit import build, ip_of, pod, service, stateful_pod
from fakekube.dns import NXDomain, Refused

dns = pytest.importorskip("dns")  # dnspython: the project's test extras
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.resolver  # noqa: E402

Z = "cluster.local"
TIMEOUT = 3.0


@pytest.fixture(scope="module")
def served():
    c, cdns = build(dns_ttl=7)
    c.create(service("web", ports=[{"name": "http", "port": 80}]))
    c.create(service("nginx", headless=True))
    c.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
              "spec": {"type": "ExternalName", "externalName": "web.default.svc.cluster.local"}})
    for i in range(3):
        c.create(stateful_pod(i))
    c.create(service("big", headless=True))
    for i in range(60):
        c.create(pod(f"big-{i:02d}", f"node-{i % 3 + 1}", app="big"))
    c.settle()
    with cdns.serve() as (host, port):
        yield c, cdns, host, port


def udp(served, name, rdtype="A", **kw):
    _, _, host, port = served
    return dns.query.udp(dns.message.make_query(name, rdtype, **kw), host, port=port,
                         timeout=TIMEOUT)


def tcp(served, name, rdtype="A"):
    _, _, host, port = served
    return dns.query.tcp(dns.message.make_query(name, rdtype), host, port=port, timeout=TIMEOUT)


def answer_rdata(msg, rdtype) -> list[str]:
    want = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in msg.answer if rrset.rdtype == want for rd in rrset)


def raw(served, packet: bytes, timeout: float = 1.0) -> bytes | None:
    _, _, host, port = served
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(packet, (host, port))
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def test_udp_and_tcp_share_one_port(served) -> None:
    c, cdns, host, port = served
    assert host == "127.0.0.1" and port > 0
    ip = c.get("Service", "web")["spec"]["clusterIP"]
    for ask in (udp, tcp):
        r = ask(served, f"web.default.svc.{Z}")
        assert r.rcode() == dns.rcode.NOERROR
        assert r.flags & dns.flags.AA
        assert answer_rdata(r, "A") == [ip]
        assert r.answer[0].ttl == 7


def test_the_stub_resolver_works_over_udp_and_tcp(served) -> None:
    c, _, host, port = served
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [host]
    res.port = port
    res.timeout = res.lifetime = TIMEOUT
    got = res.resolve(f"web-1.nginx.default.svc.{Z}", "A")
    assert [r.to_text() for r in got] == [ip_of(c, "web-1")]
    got = res.resolve(f"web-1.nginx.default.svc.{Z}", "A", tcp=True)
    assert [r.to_text() for r in got] == [ip_of(c, "web-1")]
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve(f"nope.default.svc.{Z}", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        res.resolve(f"web.default.svc.{Z}", "AAAA")


def test_rcodes(served) -> None:
    r = udp(served, f"nope.default.svc.{Z}")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.authority and r.authority[0].rdtype == dns.rdatatype.SOA
    r = udp(served, f"web.default.svc.{Z}", "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    assert r.authority[0].rdtype == dns.rdatatype.SOA  # NODATA carries the SOA
    r = udp(served, "example.com")
    assert r.rcode() == dns.rcode.REFUSED and not r.answer
    r = udp(served, f"web.default.svc.{Z}", "AXFR")
    assert r.rcode() == dns.rcode.NOTIMP
    r = udp(served, f"web.default.svc.{Z}", "TYPE65000")  # unknown type on a name: NODATA
    assert r.rcode() == dns.rcode.NOERROR and not r.answer


def test_srv_carries_target_addresses_and_cname_is_followed(served) -> None:
    c, *_ = served
    r = udp(served, f"_web._tcp.nginx.default.svc.{Z}", "SRV")
    targets = {rd.target.to_text() for rrset in r.answer for rd in rrset}
    assert targets == {f"web-{i}.nginx.default.svc.{Z}." for i in range(3)}
    extra = {rrset.name.to_text(): [rd.to_text() for rd in rrset] for rrset in r.additional}
    assert extra[f"web-0.nginx.default.svc.{Z}."] == [ip_of(c, "web-0")]
    r = udp(served, f"ext.default.svc.{Z}")
    assert [rrset.rdtype for rrset in r.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]


def test_big_answers_are_truncated_over_udp_and_whole_over_tcp(served) -> None:
    c, *_ = served
    ips = sorted(ip_of(c, f"big-{i:02d}") for i in range(60))
    r = udp(served, f"big.default.svc.{Z}")
    assert r.flags & dns.flags.TC and not r.answer
    assert answer_rdata(tcp(served, f"big.default.svc.{Z}"), "A") == ips
    r = udp(served, f"big.default.svc.{Z}", use_edns=0, payload=4096)  # EDNS: up to 1232
    assert r.edns == 0 and not r.flags & dns.flags.TC
    assert answer_rdata(r, "A") == ips
    r = dns.query.udp_with_fallback(dns.message.make_query(f"big.default.svc.{Z}", "A"),
                                    served[2], port=served[3], timeout=TIMEOUT)[0]
    assert answer_rdata(r, "A") == ips


def test_several_queries_on_one_tcp_connection(served) -> None:
    _, _, host, port = served
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        for name in (f"web.default.svc.{Z}", f"nope.default.svc.{Z}"):
            q = dns.message.make_query(name, "A").to_wire()
            s.sendall(struct.pack("!H", len(q)) + q)
            (n,) = struct.unpack("!H", s.recv(2))
            data = b""
            while len(data) < n:
                data += s.recv(n - len(data))
            assert dns.message.from_wire(data).question[0].name.to_text() == name + "."


def _header(ident: int = 0x1234, flags: int = 0x0100, qd: int = 1) -> bytes:
    return struct.pack("!HHHHHH", ident, flags, qd, 0, 0, 0)


def _question(labels: list[bytes], qtype: int = 1, qclass: int = 1) -> bytes:
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\x00" + struct.pack("!HH", qtype,
                                                                               qclass)


def rcode_of(reply: bytes) -> int:
    return struct.unpack("!H", reply[2:4])[0] & 0xF


def test_malformed_packets_never_stop_the_server(served) -> None:
    formerr = dns.rcode.FORMERR
    # garbage after a header: FORMERR, with the query's id
    reply = raw(served, _header(0xBEEF) + b"\xff\xff\xff")
    assert reply is not None and reply[:2] == b"\xbe\xef" and rcode_of(reply) == formerr
    # a label length with the reserved top bits (0x40)
    reply = raw(served, _header() + b"\x40abc\x00\x00\x01\x00\x01")
    assert reply is not None and rcode_of(reply) == formerr
    # a name over 255 octets
    long_name = [b"a" * 63] * 5
    reply = raw(served, _header() + _question(long_name))
    assert reply is not None and rcode_of(reply) == formerr
    # two questions in one query
    q = _question([b"web", b"default", b"svc", b"cluster", b"local"])
    reply = raw(served, _header(qd=2) + q + q)
    assert reply is not None and rcode_of(reply) == formerr
    # shorter than a header, or a response: nothing to answer
    assert raw(served, b"\x00\x01\x02", timeout=0.3) is None
    assert raw(served, _header(flags=0x8180) + q, timeout=0.3) is None
    # an opcode other than QUERY, a class other than IN
    reply = raw(served, _header(flags=2 << 11) + q)
    assert reply is not None and rcode_of(reply) == dns.rcode.NOTIMP
    reply = raw(served, _header() + _question([b"version", b"bind"], 16, 3))
    assert reply is not None and rcode_of(reply) == dns.rcode.REFUSED
    # and it still answers
    assert udp(served, f"web.default.svc.{Z}").rcode() == dns.rcode.NOERROR
    assert tcp(served, f"web.default.svc.{Z}").rcode() == dns.rcode.NOERROR


def test_garbage_over_tcp_does_not_stop_the_server(served) -> None:
    _, _, host, port = served
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.sendall(b"\x00\x05hello")  # no header to answer to: the server hangs up
        assert s.recv(2) == b""
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        bad = _header(0x0A0B) + b"\xff"
        s.sendall(struct.pack("!H", len(bad)) + bad)
        (n,) = struct.unpack("!H", s.recv(2))
        reply = s.recv(n)
        assert reply[:2] == b"\x0a\x0b" and rcode_of(reply) == dns.rcode.FORMERR
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.sendall(b"\x00")  # a half length prefix, then hang up
    assert tcp(served, f"web.default.svc.{Z}").rcode() == dns.rcode.NOERROR


NAMES = st.sampled_from([
    f"web.default.svc.{Z}", f"nginx.default.svc.{Z}", f"web-0.nginx.default.svc.{Z}",
    f"web-7.nginx.default.svc.{Z}", f"_web._tcp.nginx.default.svc.{Z}",
    f"_http._tcp.web.default.svc.{Z}", f"ext.default.svc.{Z}", f"default.svc.{Z}",
    f"nope.default.svc.{Z}", f"dns-version.{Z}", Z, "example.com", "10.in-addr.arpa",
    f"svc.{Z}", f"web.kube-system.svc.{Z}", f"a.b.c.web.default.svc.{Z}"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(NAMES, st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,3}",
                                           fullmatch=True).map(lambda s: s + f".svc.{Z}")),
       rdtype=st.sampled_from(["A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "MX"]),
       upper=st.booleans())
def test_in_process_and_udp_always_agree(served, name, rdtype, upper) -> None:
    if upper:
        name = name.upper()
    _, cdns, *_ = served
    r = udp(served, name, rdtype)
    try:
        want = cdns.resolve(name, rdtype)
    except NXDomain:
        assert r.rcode() == dns.rcode.NXDOMAIN
        return
    except Refused:
        assert r.rcode() == dns.rcode.REFUSED
        return
    assert r.rcode() == dns.rcode.NOERROR
    if r.flags & dns.flags.TC:
        r = tcp(served, name, rdtype)
    assert answer_rdata(r, rdtype) == sorted(w.lower() for w in want)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 0xFFFF), st.integers(0, 0x7FFF), st.binary(min_size=4, max_size=8),
       st.binary(max_size=80))
def test_any_query_header_gets_an_answer(served, ident, flags, counts, tail) -> None:
    """A packet with a query header always gets an answer with its id, whatever follows;
    the server keeps serving."""
    data = struct.pack("!HH", ident, flags) + counts.ljust(8, b"\x00") + tail
    reply = raw(served, data)
    assert reply is not None and len(reply) >= 12
    assert reply[:2] == data[:2] and reply[2] & 0x80
    assert udp(served, f"web.default.svc.{Z}").rcode() == dns.rcode.NOERROR
