"""The cluster DNS zone: every record the Kubernetes DNS specification asks for, kept as an
index that follows the store.

Records come from what the store holds, never from a controller's memory: Namespaces,
Services, EndpointSlices (joined to their Service by the ``kubernetes.io/service-name``
label) and, for pod records, Pods. Handlers on those tables recompute the records of the one
object that changed and apply the difference, so a query is a dictionary lookup.

The records follow ``kubernetes/dns:docs/specification.md`` (schema 1.1.0) as CoreDNS's
``kubernetes`` plugin serves them (``coredns/coredns:plugin/kubernetes/kubernetes.go``,
``parse.go``, ``object/endpoint.go``; the stock kubeadm Corefile):

- ClusterIP Service: ``A``/``AAAA`` per cluster IP, whatever the endpoints' readiness;
  ``SRV`` at ``_<port>._<proto>.<svc>.<ns>.svc.<zone>`` per named port (target: the Service)
  and, as CoreDNS does, at the Service name itself for every port; ``PTR`` for each IP;
- headless Service: one ``A`` per ready endpoint address (no ready endpoint: NXDOMAIN);
  ``SRV`` per ready endpoint and port, targeting ``<hostname>.<svc>.<ns>.svc.<zone>`` with the
  endpoint's port number;
- every ready endpoint (of any Service, as CoreDNS): ``A`` at
  ``<hostname>.<svc>.<ns>.svc.<zone>`` and a ``PTR`` back to it; the hostname is the endpoint's
  ``hostname`` or, without one, its IP with dashes (``10-244-1-5``);
- ExternalName Service: ``CNAME`` to the external name (none when it is an IP address);
- pods (``pods verified``, the default here): ``A`` at ``<a>-<b>-<c>-<d>.<ns>.pod.<zone>`` for
  every pod that has that IP and is not being deleted; ``pods insecure`` (kubeadm's default)
  answers any well-formed address in an existing namespace; ``disabled`` answers none;
- ``TXT`` ``dns-version.<zone>`` = ``"1.1.0"``; ``SOA`` and ``NS`` at the apex.

A name that exists with no record of the asked type is NODATA (``()``); namespace names
(``<ns>.svc.<zone>``, ``<ns>.pod.<zone>``) and the apex exist without records. Any other name
in the zone (or under ``in-addr.arpa.`` / ``ip6.arpa.``) is NXDOMAIN; a name outside is
REFUSED. Rdata is zone-file text; SRV priority is 0 and weight ``100 // n`` for n records
(CoreDNS's split of equal weights).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Iterable

from ..api.store import DELETED, WatchEvent

if TYPE_CHECKING:
    from ..api.server import ApiServer

__all__ = ["Zone", "DNSLookupError", "NXDomain", "Refused", "A", "NS", "CNAME", "SOA", "PTR",
           "TXT", "AAAA", "SRV", "ANY", "SCHEMA_VERSION"]

A, NS, CNAME, SOA, PTR, TXT, AAAA, SRV, ANY = 1, 2, 5, 6, 12, 16, 28, 33, 255
EXISTS = 0  # a name that exists without a record of its own
SCHEMA_VERSION = "1.1.0"
_TYPES_AT_A_NAME = (A, AAAA, CNAME, PTR, SRV, TXT, NS)
_SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_MAX_CNAME_CHAIN = 8
_DASHED_V4 = re.compile(r"^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$")


class DNSLookupError(LookupError):
    """A query the cluster DNS cannot answer with records."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class NXDomain(DNSLookupError):
    """The name is in the cluster's zones but does not exist (the server says NXDOMAIN)."""

    def __str__(self) -> str:
        return f"NXDOMAIN: {self.name}"


class Refused(DNSLookupError):
    """The name is outside the cluster domain (the server says REFUSED)."""

    def __str__(self) -> str:
        return f"REFUSED: {self.name} is outside the cluster domain"


Record = tuple[str, int, str]  # (owner name, type, rdata text; for SRV "port target")


def reverse_name(ip: str) -> str:
    """The ``PTR`` owner of an address: ``5.1.244.10.in-addr.arpa.``."""
    if ":" in ip:
        return ipaddress.ip_address(ip).reverse_pointer + "."
    a, b, c, d = ip.split(".")
    return f"{d}.{c}.{b}.{a}.in-addr.arpa."


def _dashed(ip: str) -> str:
    return ip.replace(".", "-").replace(":", "-")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_NONE: dict = {}


class Zone:
    """The records of one cluster, indexed by (owner name, type).

    Owner names are lower case and absolute (``web.default.svc.cluster.local.``). Reads
    (:meth:`direct`, :meth:`lookup`, :meth:`records`) must hold :attr:`lock`, the store's lock,
    when other threads may write; the API layer holds it while the handlers update the index.
    """

    def __init__(self, api: "ApiServer", domain: str = "cluster.local", ttl: int = 30,
                 pod_records: str = "verified") -> None:
        if pod_records not in ("verified", "insecure", "disabled"):
            raise ValueError("pod_records must be 'verified', 'insecure' or 'disabled'")
        self.domain = domain.strip(".").lower()
        self.apex = self.domain + "."
        self.suffix = "." + self.apex
        self.svc_suffix = ".svc" + self.suffix
        self.pod_suffix = ".pod" + self.suffix
        self.ttl = int(ttl)
        self.pod_records = pod_records
        self.lock = api.store.lock
        self.serial = 1
        self._rr: dict[tuple[str, int], dict[str, int]] = {}
        self._names: dict[str, int] = {}
        self._contrib: dict[tuple, tuple[Record, ...]] = {}
        self._answers: dict[tuple[str, int], tuple[str, ...]] = {}
        self._svc_modes: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._slices_of: dict[tuple[str, str], set[str]] = {}
        self._slice_svc: dict[tuple[str, str], str] = {}
        # (namespace, slice) -> (what the records depend on beyond each endpoint,
        # id(endpoint) -> (endpoint, its records)): stored endpoints are never changed,
        # so a slice rewritten with mostly the same endpoint objects is re-indexed cheaply.
        self._slice_eps: dict[tuple[str, str], tuple[tuple, dict[int, tuple]]] = {}
        self._namespaces: set[str] = set()
        reg = api.registry
        self._services = api.table(reg.by_kind("Service"))
        self._slices = api.table(reg.by_kind("EndpointSlice"))
        self._pods = api.table(reg.by_kind("Pod"))
        namespaces = api.table(reg.by_kind("Namespace"))
        with self.lock:
            self._set(("static",), self._static_records())
            for obj in list(namespaces.objects.values()):
                self._namespace(obj["metadata"]["name"], obj)
            for obj in list(self._services.objects.values()):
                self._service(obj)
            for obj in list(self._slices.objects.values()):
                self._slice(obj)
            if pod_records == "verified":
                for obj in list(self._pods.objects.values()):
                    self._pod(obj)
            namespaces.handlers.append(self._on_namespace)
            self._services.handlers.append(self._on_service)
            self._slices.handlers.append(self._on_slice)
            if pod_records == "verified":
                self._pods.handlers.append(self._on_pod)

    # -- reading ---------------------------------------------------------------------------

    def in_zone(self, name: str) -> bool:
        """Whether this server answers for ``name`` (the cluster domain and the reverse
        zones); anything else is REFUSED."""
        return (name.endswith(self.suffix) or name == self.apex
                or name.endswith(".in-addr.arpa.") or name == "in-addr.arpa."
                or name.endswith(".ip6.arpa.") or name == "ip6.arpa.")

    def soa(self) -> str:
        return (f"ns.dns.{self.apex} hostmaster.{self.apex} {self.serial} 7200 1800 86400 "
                f"{self.ttl}")

    def direct(self, name: str, qtype: int) -> tuple[str, ...] | None:
        """The rdata of the records of exactly this name and type, or None if there are
        none (no CNAME following, no NODATA/NXDOMAIN decision)."""
        key = (name, qtype)
        got = self._answers.get(key)
        if got is not None:
            return got
        rrset = self._rr.get(key)
        if not rrset:
            return None
        if qtype == SRV:
            weight = 100 // len(rrset)
            got = tuple(f"0 {weight} {r}" for r in sorted(rrset))
        else:
            got = tuple(sorted(rrset))
        self._answers[key] = got
        return got

    def lookup(self, name: str, qtype: int) -> tuple[str, ...]:
        """The answer's rdata for ``name``/``qtype``: the records of that type, following an
        in-zone CNAME for other types; ``()`` for NODATA. Raises :class:`NXDomain` or
        :class:`Refused`."""
        got = self.direct(name, qtype)
        if got is not None:
            return got
        if qtype == ANY:
            return tuple(r for _, _, r in self.records(name, qtype))
        return tuple(r for _, t, r in self.records(name, qtype) if t == qtype)

    def records(self, name: str, qtype: int, _depth: int = 0) -> list[Record]:
        """The answer section: (owner, type, rdata) records, a CNAME first when one is
        followed; ``[]`` for NODATA. Raises :class:`NXDomain` or :class:`Refused`."""
        got = self.direct(name, qtype)
        if got is not None:
            return [(name, qtype, r) for r in got]
        if name == self.apex and qtype in (SOA, ANY):
            out = [(name, SOA, self.soa())]
            if qtype == ANY:
                out.extend((name, NS, r) for r in self.direct(name, NS) or ())
            return out
        if qtype == ANY:
            out = []
            for t in _TYPES_AT_A_NAME:
                out.extend((name, t, r) for r in self.direct(name, t) or ())
            if out:
                return out
        elif qtype != CNAME:
            target = self.direct(name, CNAME)
            if target:
                out: list[Record] = [(name, CNAME, target[0])]
                nxt = target[0]
                if self.in_zone(nxt) and _depth < _MAX_CNAME_CHAIN:
                    try:
                        out.extend(self.records(nxt, qtype, _depth + 1))
                    except NXDomain:
                        pass
                return out
        if name in self._names:
            return []
        if self.pod_records == "insecure":
            ip = self._insecure_pod_ip(name)
            if ip is not None:
                t = AAAA if ":" in ip else A
                return [(name, t, ip)] if qtype in (t, ANY) else []
        if self.in_zone(name):
            raise NXDomain(name.rstrip(".") or ".")
        raise Refused(name.rstrip(".") or ".")

    def _insecure_pod_ip(self, name: str) -> str | None:
        if not name.endswith(self.pod_suffix):
            return None
        head = name[:-len(self.pod_suffix)]
        label, _, ns = head.partition(".")
        if not ns or "." in ns or ns not in self._namespaces:
            return None
        m = _DASHED_V4.match(label)
        if m is None:
            return None
        parts = [int(x) for x in m.groups()]
        if any(p > 255 for p in parts):
            return None
        return ".".join(map(str, parts))

    def exists(self, name: str) -> bool:
        return name in self._names

    def __len__(self) -> int:
        """How many records the zone holds."""
        return sum(len(v) for v in self._rr.values())

    # -- index upkeep ----------------------------------------------------------------------

    def _set(self, owner: tuple, records: Iterable[Record]) -> None:
        """Make ``records`` the contribution of ``owner``, applying the difference."""
        new = tuple(dict.fromkeys(records))
        old = self._contrib.get(owner, ())
        if old == new:
            return
        if new:
            self._contrib[owner] = new
        else:
            self._contrib.pop(owner, None)
        old_set, new_set = set(old), set(new)
        for rec in old_set - new_set:
            self._drop(rec)
        for rec in new_set - old_set:
            self._put(rec)
        self.serial += 1

    def _put(self, rec: Record) -> None:
        name, t, data = rec
        self._names[name] = self._names.get(name, 0) + 1
        if t:
            key = (name, t)
            rrset = self._rr.get(key)
            if rrset is None:
                rrset = self._rr[key] = {}
            rrset[data] = rrset.get(data, 0) + 1
            self._answers.pop(key, None)

    def _drop(self, rec: Record) -> None:
        name, t, data = rec
        n = self._names.get(name, 0) - 1
        if n > 0:
            self._names[name] = n
        else:
            self._names.pop(name, None)
        if t:
            key = (name, t)
            rrset = self._rr.get(key)
            if rrset is not None:
                c = rrset.get(data, 0) - 1
                if c > 0:
                    rrset[data] = c
                else:
                    rrset.pop(data, None)
                    if not rrset:
                        del self._rr[key]
            self._answers.pop(key, None)

    def _static_records(self) -> list[Record]:
        apex = self.apex
        return [(apex, EXISTS, ""), (apex, NS, f"ns.dns.{apex}"),
                ("svc." + apex, EXISTS, ""), ("pod." + apex, EXISTS, ""),
                ("dns-version." + apex, TXT, f'"{SCHEMA_VERSION}"'),
                ("in-addr.arpa.", EXISTS, ""), ("ip6.arpa.", EXISTS, "")]

    # -- namespaces --------------------------------------------------------------------------

    def _on_namespace(self, ev: WatchEvent) -> None:
        name = ev.obj["metadata"]["name"]
        self._namespace(name, None if ev.type == DELETED else ev.obj)

    def _namespace(self, name: str, obj: dict | None) -> None:
        if obj is None:
            self._namespaces.discard(name)
            self._set(("ns", name), ())
            return
        self._namespaces.add(name)
        self._set(("ns", name), ((f"{name}{self.svc_suffix}", EXISTS, ""),
                                 (f"{name}{self.pod_suffix}", EXISTS, "")))

    # -- services ----------------------------------------------------------------------------

    def _on_service(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            m = ev.obj["metadata"]
            self._service_gone(m["namespace"], m["name"])
        else:
            self._service(ev.obj)

    @staticmethod
    def _cluster_ips(spec: dict) -> list[str]:
        ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        return [ip for ip in ips if ip and ip != "None"]

    def _service(self, svc: dict) -> None:
        m = svc["metadata"]
        ns, name = m["namespace"], m["name"]
        fq = f"{name}.{ns}{self.svc_suffix}"
        spec = svc.get("spec") or {}
        recs: list[Record] = []
        if spec.get("type") == "ExternalName":
            mode = "external"
            ext = (spec.get("externalName") or "").strip().lower().rstrip(".")
            if ext and not _is_ip(ext):
                recs.append((fq, CNAME, ext + "."))
        else:
            ips = self._cluster_ips(spec)
            mode = "ip" if ips else "headless"
            for ip in ips:
                recs.append((fq, AAAA if ":" in ip else A, ip))
                recs.append((reverse_name(ip), PTR, fq))
            if ips:
                for p in spec.get("ports") or ():
                    number = p.get("port")
                    if not number:
                        continue
                    proto = (p.get("protocol") or "TCP").lower()
                    if p.get("name"):
                        recs.append((f"_{p['name'].lower()}._{proto}.{fq}", SRV,
                                     f"{number} {fq}"))
                    recs.append((fq, SRV, f"{number} {fq}"))
        self._set(("svc", ns, name), recs)
        key = (ns, name)
        new_mode = (mode, fq)
        if self._svc_modes.get(key) != new_mode:
            self._svc_modes[key] = new_mode
            self._refresh_slices(key)

    def _service_gone(self, ns: str, name: str) -> None:
        self._set(("svc", ns, name), ())
        key = (ns, name)
        if self._svc_modes.pop(key, None) is not None:
            self._refresh_slices(key)

    def _refresh_slices(self, key: tuple[str, str]) -> None:
        ns = key[0]
        for sname in sorted(self._slices_of.get(key, ())):
            obj = self._slices.objects.get((ns, sname))
            if obj is not None:
                self._slice(obj)

    # -- endpoint slices ---------------------------------------------------------------------

    def _on_slice(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            m = ev.obj["metadata"]
            self._slice_gone(m["namespace"], m["name"])
        else:
            self._slice(ev.obj)

    def _slice_gone(self, ns: str, name: str) -> None:
        svc = self._slice_svc.pop((ns, name), None)
        if svc is not None:
            members = self._slices_of.get((ns, svc))
            if members is not None:
                members.discard(name)
                if not members:
                    del self._slices_of[(ns, svc)]
        self._slice_records_gone(ns, name)

    def _slice_records_gone(self, ns: str, name: str) -> None:
        known = self._slice_eps.pop((ns, name), None)
        if known is not None:
            self._apply_endpoints(known[1].values(), ())

    def _apply_endpoints(self, gone: Iterable[tuple], came: Iterable[tuple]) -> None:
        """Swap the records of the endpoints ``gone`` for those of ``came`` (each an
        ``(endpoint, records)`` pair). Records are counted per contributor, so an address
        that two endpoints both give stays until neither does."""
        changed = False
        for _, recs in came:
            for rec in recs:
                self._put(rec)
                changed = True
        for _, recs in gone:
            for rec in recs:
                self._drop(rec)
                changed = True
        if changed:
            self.serial += 1

    def _slice(self, sl: dict) -> None:
        m = sl["metadata"]
        ns, name = m["namespace"], m["name"]
        svc = (m.get("labels") or {}).get(_SERVICE_NAME_LABEL)
        prev = self._slice_svc.get((ns, name))
        if prev != svc:
            if prev is not None:
                members = self._slices_of.get((ns, prev))
                if members is not None:
                    members.discard(name)
                    if not members:
                        del self._slices_of[(ns, prev)]
            if svc is not None:
                self._slice_svc[(ns, name)] = svc
                self._slices_of.setdefault((ns, svc), set()).add(name)
            else:
                self._slice_svc.pop((ns, name), None)
        mode = self._svc_modes.get((ns, svc)) if svc else None
        if mode is None or mode[0] == "external" or sl.get("addressType") not in ("IPv4",
                                                                                   "IPv6"):
            self._slice_records_gone(ns, name)
            return
        headless = mode[0] == "headless"
        fq = mode[1]
        srv: list[tuple[str, str]] = []
        if headless:
            for p in sl.get("ports") or ():
                number = p.get("port")
                if number is None:
                    continue
                proto = (p.get("protocol") or "TCP").lower()
                pname = (p.get("name") or "").lower()
                srv.append((f"_{pname}._{proto}.{fq}" if pname else "", str(number)))
        sig = (fq, headless, tuple(srv))
        known = self._slice_eps.get((ns, name))
        if known is not None and known[0] != sig:
            self._slice_records_gone(ns, name)
            known = None
        # Endpoints are compared by identity: the slice's stored endpoint dicts are shared
        # with the previous version of the slice when unchanged (stored objects are
        # replaced, never edited), and ``before`` keeps them alive, so an id seen there
        # names the same dict. Only endpoints that came or went touch the zone.
        now: dict[int, tuple] = dict(known[1]) if known is not None else {}
        eps = sl.get("endpoints") or ()
        by_id = dict(zip(map(id, eps), eps))
        came: list[tuple] = []
        gone: list[tuple] = []
        # (set differences find what changed; the lists keep the slices' own orders)
        if now.keys() - by_id.keys():
            gone = [now.pop(i) for i in [i for i in now if i not in by_id]]
        if by_id.keys() - now.keys():
            for i, ep in by_id.items():
                if i not in now:
                    got = now[i] = (ep, self._endpoint_records(ep, fq, headless, srv))
                    came.append(got)
        self._slice_eps[(ns, name)] = (sig, now)
        if (came or gone) and sorted(r for _, recs in came for r in recs) != sorted(
                r for _, recs in gone for r in recs):
            self._apply_endpoints(gone, came)

    @staticmethod
    def _endpoint_records(ep: dict, fq: str, headless: bool,
                          srv: list[tuple[str, str]]) -> tuple[Record, ...]:
        """The records one endpoint of a slice gives (none when it is not ready)."""
        if (ep.get("conditions") or {}).get("ready") is False:
            return ()
        recs: list[Record] = []
        hostname = ep.get("hostname")
        for addr in ep.get("addresses") or ():
            t = AAAA if ":" in addr else A
            host = f"{(hostname or _dashed(addr)).lower()}.{fq}"
            recs.append((host, t, addr))
            recs.append((reverse_name(addr), PTR, host))
            if headless:
                recs.append((fq, t, addr))
                for owner, number in srv:
                    if owner:
                        recs.append((owner, SRV, f"{number} {host}"))
                    recs.append((fq, SRV, f"{number} {host}"))
        return tuple(recs)

    # -- pods --------------------------------------------------------------------------------

    def _on_pod(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            m = ev.obj["metadata"]
            self._set(("pod", m["namespace"], m["name"]), ())
            return
        old = ev.old
        if old is not None:
            # A pod's record depends on its IP and deletion alone (its name and namespace
            # never change): most pod writes leave both as they were.
            new = ev.obj
            if ((old.get("status") or _NONE).get("podIP")
                    == (new.get("status") or _NONE).get("podIP")
                    and old["metadata"].get("deletionTimestamp")
                    == new["metadata"].get("deletionTimestamp")):
                return
        self._pod(ev.obj)

    def _pod(self, pod: dict) -> None:
        m = pod["metadata"]
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or m.get("deletionTimestamp"):
            self._set(("pod", m["namespace"], m["name"]), ())
            return
        owner = f"{_dashed(ip)}.{m['namespace']}{self.pod_suffix}"
        self._set(("pod", m["namespace"], m["name"]),
                  ((owner, AAAA if ":" in ip else A, ip),))
