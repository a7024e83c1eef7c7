"""Answering queries over the cluster zone: in process (:class:`ClusterDNS`) and as a dnslib
resolver (:class:`ZoneResolver`) for the server in :mod:`fakekube.dns.server`.

Both read the same :class:`~fakekube.dns.zone.Zone`, so they always agree: the server's
answer section, filtered to the asked type, is what :meth:`ClusterDNS.resolve` returns;
NXDOMAIN there is :class:`~fakekube.dns.zone.NXDomain` here, REFUSED is
:class:`~fakekube.dns.zone.Refused`, NODATA is ``[]``.

The search path is a pod's ``resolv.conf`` under ``dnsPolicy: ClusterFirst``
(``kubernetes/kubernetes:pkg/kubelet/network/dns/dns.go``): ``search <ns>.svc.<zone>
svc.<zone> <zone>`` and ``options ndots:5``. A name with fewer than five dots is tried with
each suffix first, then as it is; a name with five or more is tried as it is first; a name
ending in a dot only as it is. As glibc's ``res_search`` does, the first candidate with
records wins, NODATA from any candidate beats NXDOMAIN, and a candidate outside the zone
(REFUSED) only counts when nothing else answered.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator

from dnslib import (AAAA as AAAARecord, CNAME as CNAMERecord, DNSLabel, NS as NSRecord, PTR as
                    PTRRecord, QTYPE, RCODE, RR, SOA as SOARecord, SRV as SRVRecord,
                    TXT as TXTRecord, A as ARecord)
from dnslib.server import BaseResolver

from .zone import A, AAAA, ANY, CNAME, NS, PTR, SOA, SRV, TXT, NXDomain, Refused, Zone

if TYPE_CHECKING:
    from ..api.server import ApiServer
    from ..config import Config

__all__ = ["ClusterDNS", "ZoneResolver", "qtype_of"]

NDOTS = 5
_QTYPES = {"A": A, "NS": NS, "CNAME": CNAME, "SOA": SOA, "PTR": PTR, "TXT": TXT, "AAAA": AAAA,
           "SRV": SRV, "ANY": ANY}
_NOT_IMPLEMENTED = frozenset((251, 252, 253, 254))  # IXFR, AXFR, MAILB, MAILA


def qtype_of(rdtype: str | int) -> int:
    """A record type by name (``"A"``, ``"srv"``) or number."""
    if isinstance(rdtype, str):
        got = _QTYPES.get(rdtype) or _QTYPES.get(rdtype.upper())
        if got is not None:
            return got
        try:
            return int(getattr(QTYPE, rdtype.upper()))
        except Exception:
            raise ValueError(f"unknown DNS record type {rdtype!r}") from None
    if isinstance(rdtype, int) and not isinstance(rdtype, bool) and 0 < rdtype < 65536:
        return rdtype
    raise ValueError(f"unknown DNS record type {rdtype!r}")


def _check_name(name: str) -> None:
    if not name or len(name) > 253 or name.startswith(".") or ".." in name:
        raise ValueError(f"{name!r} is not a valid DNS name")
    if len(name) > 63 and any(len(label) > 63 for label in name.split(".")):
        raise ValueError(f"{name!r} has a label longer than 63 characters")
    if not name.isascii():
        raise ValueError(f"{name!r} is not an ASCII DNS name")


class ClusterDNS:
    """The cluster's DNS: ``resolve()`` in process and ``serve()`` on loopback.

    Built from the cluster's API server; the zone follows the store from then on (objects
    already stored are indexed at once). ``config`` defaults to the API server's: its
    ``cluster_domain`` and ``dns_ttl`` are used. ``pod_records`` is CoreDNS's ``pods``
    option: ``"verified"`` (default), ``"insecure"`` or ``"disabled"``.
    """

    def __init__(self, api: "ApiServer", config: "Config | None" = None, *,
                 pod_records: str = "verified") -> None:
        config = config if config is not None else api.config
        self.domain = str(getattr(config, "cluster_domain", "cluster.local")).strip(".").lower()
        self.ttl = int(getattr(config, "dns_ttl", 30))
        self.zone = Zone(api, self.domain, self.ttl, pod_records)
        self._lock = self.zone.lock
        self._search_cache: dict[str, tuple[str, str, str]] = {}

    def resolve(self, name: str, rdtype: str | int = "A",
                from_namespace: str | None = None) -> list[str]:
        """The answer to a query as zone-file rdata strings (``"10.244.1.5"``,
        ``"0 50 80 web-0.nginx.default.svc.cluster.local."``); ``[]`` for NODATA.

        Raises :class:`fakekube.dns.NXDomain` for a missing name in the cluster domain and
        :class:`fakekube.dns.Refused` for a name outside it. With ``from_namespace`` the
        name goes through the search path of a pod in that namespace first.
        """
        qtype = _QTYPES.get(rdtype) if isinstance(rdtype, str) else None
        if qtype is None:
            qtype = qtype_of(rdtype)
        if not isinstance(name, str):
            raise TypeError(f"a DNS name is a str, not {type(name).__name__}")
        n = name.lower()
        absolute = n.endswith(".")
        if absolute:
            n = n[:-1]
            if not n:  # the root
                raise Refused(".")
        _check_name(n)
        zone = self.zone
        if absolute or from_namespace is None:
            with self._lock:
                return list(zone.lookup(n + ".", qtype))
        suffixes = self._search_cache.get(from_namespace)
        if suffixes is None:
            if not isinstance(from_namespace, str) or not from_namespace:
                raise ValueError("from_namespace must be a namespace name")
            d = self.domain
            suffixes = self._search_cache[from_namespace] = (
                f".{from_namespace.lower()}.svc.{d}.", f".svc.{d}.", f".{d}.")
        if n.count(".") >= NDOTS:
            candidates = (n + ".", n + suffixes[0], n + suffixes[1], n + suffixes[2])
        else:
            candidates = (n + suffixes[0], n + suffixes[1], n + suffixes[2], n + ".")
        nodata = nxdomain = False
        with self._lock:
            for cand in candidates:
                if len(cand) > 254:
                    continue
                try:
                    got = zone.lookup(cand, qtype)
                except NXDomain:
                    nxdomain = True
                    continue
                except Refused:
                    continue
                if got:
                    return list(got)
                nodata = True
        if nodata:
            return []
        if nxdomain:
            raise NXDomain(n)
        raise Refused(n)

    def resolver(self) -> "ZoneResolver":
        """A dnslib resolver over this zone (for ``dnslib.server.DNSServer``)."""
        return ZoneResolver(self.zone)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[tuple[str, int]]:
        """Serve the zone on ``host`` over UDP and TCP on one port (a free one by default);
        yields ``(host, port)``."""
        from .server import serve_zone

        with serve_zone(self.resolver(), host, port) as address:
            yield address


def _rdata(qtype: int, text: str) -> Any:
    """A dnslib rdata object from zone-file text."""
    if qtype == A:
        return ARecord(text)
    if qtype == AAAA:
        return AAAARecord(text)
    if qtype == PTR:
        return PTRRecord(DNSLabel(text))
    if qtype == CNAME:
        return CNAMERecord(DNSLabel(text))
    if qtype == NS:
        return NSRecord(DNSLabel(text))
    if qtype == SRV:
        prio, weight, port, target = text.split(" ")
        return SRVRecord(int(prio), int(weight), int(port), DNSLabel(target))
    if qtype == TXT:
        return TXTRecord(text.strip('"'))
    if qtype == SOA:
        mname, rname, *times = text.split(" ")
        return SOARecord(DNSLabel(mname), DNSLabel(rname), tuple(int(t) for t in times))
    raise ValueError(f"no rdata for type {qtype}")


class ZoneResolver(BaseResolver):
    """dnslib's resolver interface over a :class:`~fakekube.dns.zone.Zone`.

    Answers: NOERROR with records; NOERROR without (NODATA) and NXDOMAIN with the zone's SOA
    in the authority section; REFUSED outside the zone, for a class other than IN, and
    (no recursion) without an authoritative answer; NOTIMP for an opcode other than QUERY
    and for zone transfers (AXFR, IXFR) and the obsolete MAILA/MAILB; FORMERR for a request
    with other than one question or a name over 255 octets. SRV answers carry the A/AAAA
    records of their in-zone targets in the additional section.
    """

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self._rr_cache: dict[tuple[str, int], tuple[tuple[str, ...], list[RR]]] = {}

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        header = reply.header
        if request.header.opcode != 0:
            header.rcode = RCODE.NOTIMP
            return reply
        if len(request.questions) != 1:
            header.rcode = RCODE.FORMERR
            return reply
        q = request.q
        labels = q.qname.label
        if sum(len(label) + 1 for label in labels) + 1 > 255 or any(
                len(label) > 63 for label in labels):
            header.rcode = RCODE.FORMERR
            return reply
        if q.qclass not in (1, 255):
            header.rcode = RCODE.REFUSED
            header.aa = 0
            return reply
        qtype = q.qtype
        if qtype in _NOT_IMPLEMENTED:
            header.rcode = RCODE.NOTIMP
            return reply
        try:
            name = b".".join(labels).decode("ascii").lower() + "."
        except UnicodeDecodeError:
            header.rcode = RCODE.NXDOMAIN
            self._authority(reply)
            return reply
        zone = self.zone
        with zone.lock:
            try:
                direct = zone.direct(name, qtype)
                if direct is not None:
                    answers = self._rrs(name, qtype, direct)
                    reply.rr.extend(answers)
                else:
                    for owner, t, data in zone.records(name, qtype):
                        reply.add_answer(RR(owner, t, ttl=zone.ttl, rdata=_rdata(t, data)))
                    if not reply.rr:
                        self._authority(reply)
                if qtype == SRV and reply.rr:
                    self._additional(reply)
            except NXDomain:
                header.rcode = RCODE.NXDOMAIN
                self._authority(reply)
            except Refused:
                header.rcode = RCODE.REFUSED
                header.aa = 0
        return reply

    def _rrs(self, name: str, qtype: int, rdatas: tuple[str, ...]) -> list[RR]:
        key = (name, qtype)
        cached = self._rr_cache.get(key)
        if cached is not None and cached[0] is rdatas:
            return cached[1]
        ttl = self.zone.ttl
        rrs = [RR(name, qtype, ttl=ttl, rdata=_rdata(qtype, r)) for r in rdatas]
        if len(self._rr_cache) > 100_000:
            self._rr_cache.clear()
        self._rr_cache[key] = (rdatas, rrs)
        return rrs

    def _authority(self, reply: Any) -> None:
        zone = self.zone
        reply.add_auth(RR(zone.apex, SOA, ttl=zone.ttl, rdata=_rdata(SOA, zone.soa())))

    def _additional(self, reply: Any) -> None:
        zone = self.zone
        seen: set[str] = set()
        for rr in reply.rr:
            if rr.rtype != SRV:
                continue
            target = str(rr.rdata.target).lower()
            if target in seen:
                continue
            seen.add(target)
            for t in (A, AAAA):
                got = zone.direct(target, t)
                if got:
                    reply.ar.extend(self._rrs(target, t, got))
