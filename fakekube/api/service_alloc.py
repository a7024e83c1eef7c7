"""Service ClusterIP and NodePort allocation: what the Service REST storage does around a write.

This module owns the allocators (a Service IP range and the NodePort range) and the create,
update and delete hooks the API layer runs for ``services``. It follows Kubernetes v1.31:

- ``kubernetes/kubernetes:pkg/registry/core/service/ipallocator/bitmap.go`` and
  ``interfaces.go`` (``Range``: the network and broadcast addresses are never handed out;
  ``calculateRangeOffset``; the error texts);
- ``kubernetes/kubernetes:pkg/registry/core/service/portallocator/allocator.go``
  (``PortAllocator``, its ``calculateRangeOffset`` and error texts);
- ``kubernetes/kubernetes:pkg/registry/core/service/allocator/bitmap.go``
  (``randomScanStrategyWithOffset``: dynamic values are drawn at random from the upper part
  of the range first, so that the lower part stays free for static requests);
- ``kubernetes/kubernetes:pkg/registry/core/service/storage/alloc.go`` (``allocateCreate``,
  ``initIPFamilyFields``, ``allocClusterIPs``, ``initNodePorts``, ``allocateUpdate``,
  ``updateClusterIPs``, ``updateNodePorts``, ``updateHealthCheckNodePort``,
  ``releaseAllocatedResources``) and ``storage.go`` (``afterDelete`` removes the Endpoints of
  the same name).

Randomness comes from the ``random.Random`` given to :func:`install`, so a seeded cluster
hands out the same addresses on every run.

Allocation runs as upstream's ``BeginCreate``/``BeginUpdate`` do
(:meth:`ServiceAllocation.begin`: before validation, returning a finish function that
commits or reverts) when the API server offers ``begin_hooks``; without them it runs from
``create_hooks`` right before the write is stored, after validation. A dry run allocates
nothing: a dynamic ClusterIP then reads as the network address and a requested one is only
checked against the range, as upstream's dry-run allocator does.
"""

from __future__ import annotations

import ipaddress
import random
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .. import errors
from ..errors import FieldError
from .kinds.core import _cluster_ips_related  # ValidateServiceClusterIPsRelatedFields

if TYPE_CHECKING:
    from .server import ApiServer

__all__ = ["AllocationError", "AlreadyAllocated", "NotInRange", "RangeFull",
           "ServiceIPAllocator", "NodePortAllocator", "ServiceAllocation", "install"]

IPV4, IPV6 = "IPv4", "IPv6"
SINGLE_STACK, PREFER_DUAL, REQUIRE_DUAL = "SingleStack", "PreferDualStack", "RequireDualStack"
_NODE_PORT_TYPES = ("NodePort", "LoadBalancer")


# --------------------------------------------------------------------------------------------
# Allocation errors (upstream's words)


class AllocationError(Exception):
    """An allocator refused a value; ``str(exc)`` is upstream's error text."""


class RangeFull(AllocationError):
    def __init__(self) -> None:
        super().__init__("range is full")


class AlreadyAllocated(AllocationError):
    def __init__(self, what: str) -> None:
        super().__init__(f"provided {what} is already allocated")


class NotInRange(AllocationError):
    pass


# --------------------------------------------------------------------------------------------
# The offset-aware random scan shared by both allocators


def _scan(used: set[int], size: int, offset: int, rng: random.Random) -> int | None:
    """A free offset in ``[0, size)``: a random start in the upper part ``[offset, size)``
    scanning forward with wrap-around, then the same in the lower part ``[0, offset)``."""
    if len(used) >= size:
        return None
    upper = size - offset
    if upper > 0:
        start = rng.randrange(upper)
        for i in range(upper):
            at = offset + (start + i) % upper
            if at not in used:
                return at
    if offset > 0:
        start = rng.randrange(offset)
        for i in range(offset):
            at = (start + i) % offset
            if at not in used:
                return at
    return None


def _range_offset(size: int, low: int, high: int, step: int) -> int:
    """``calculateRangeOffset``: ``min(max(low, size/step), high)``, 0 for tiny ranges."""
    if size <= low:
        return 0
    return min(max(low, size // step), high)


class ServiceIPAllocator:
    """The ClusterIPs of one family, out of one CIDR (``ipallocator.Range``).

    Usable addresses are the CIDR minus its network address (and, for IPv4, its broadcast
    address); an IPv6 range is capped at 65536 addresses, as upstream caps its bitmap.
    """

    def __init__(self, cidr: str, rng: random.Random) -> None:
        self.network = ipaddress.ip_network(cidr, strict=False)
        self.cidr = str(self.network)
        self.family = IPV6 if self.network.version == 6 else IPV4
        total = self.network.num_addresses
        size = total - 1
        if self.family == IPV4:
            size -= 1
        else:
            size = min(size, 65536)
        self.size = max(0, size)
        self.base = int(self.network.network_address) + 1
        self.offset = _range_offset(total, 16, 256, 16)
        self.rng = rng
        self.used: set[int] = set()

    def _offset_of(self, ip: str) -> int | None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if addr.version != self.network.version or addr not in self.network:
            return None
        off = int(addr) - self.base
        return off if 0 <= off < self.size else None

    def _ip(self, off: int) -> str:
        return str(ipaddress.ip_address(self.base + off))

    def allocate(self, ip: str, *, dry_run: bool = False) -> None:
        """Reserve ``ip``; raises :class:`NotInRange` or :class:`AlreadyAllocated`.
        A dry run checks the range only (upstream does not check the bitmap then)."""
        off = self._offset_of(ip)
        if off is None:
            raise NotInRange(f"the provided IP ({ip}) is not in the valid range. The range "
                             f"of valid IPs is {self.cidr}")
        if dry_run:
            return
        if off in self.used:
            raise AlreadyAllocated("IP")
        self.used.add(off)

    def allocate_next(self, *, dry_run: bool = False) -> str:
        """Reserve a free address at random; raises :class:`RangeFull`. A dry run returns
        the network address without looking, as upstream's dry-run range does."""
        if dry_run:
            return str(self.network.network_address)
        off = _scan(self.used, self.size, self.offset, self.rng)
        if off is None:
            raise RangeFull()
        self.used.add(off)
        return self._ip(off)

    def release(self, ip: str) -> None:
        """Free ``ip``; releasing a free or foreign address does nothing."""
        off = self._offset_of(ip)
        if off is not None:
            self.used.discard(off)

    def has(self, ip: str) -> bool:
        off = self._offset_of(ip)
        return off is not None and off in self.used

    @property
    def free(self) -> int:
        return self.size - len(self.used)


class NodePortAllocator:
    """Node ports out of ``"<base>-<last>"`` (``portallocator.PortAllocator``)."""

    def __init__(self, port_range: str, rng: random.Random) -> None:
        lo, sep, hi = str(port_range).partition("-")
        try:
            self.base = int(lo)
            last = int(hi) if sep else self.base
        except ValueError:
            raise ValueError(f"invalid node port range {port_range!r}") from None
        if last < self.base:
            raise ValueError(f"invalid node port range {port_range!r}")
        self.size = last - self.base + 1
        self.range = f"{self.base}-{last}"
        self.offset = _range_offset(self.size, 16, 128, 32)
        self.rng = rng
        self.used: set[int] = set()

    def _check(self, port: int) -> int:
        off = port - self.base if isinstance(port, int) else -1
        if not 0 <= off < self.size:
            raise NotInRange("provided port is not in the valid range. The range of valid "
                             f"ports is {self.range}")
        return off

    def allocate(self, port: int, *, dry_run: bool = False) -> None:
        off = self._check(port)
        if off in self.used:
            raise AlreadyAllocated("port")
        if not dry_run:
            self.used.add(off)

    def allocate_next(self, *, dry_run: bool = False, avoid: Iterable[int] = ()) -> int:
        """Reserve a free port at random; raises :class:`RangeFull`. A dry run picks a port
        that is free (and not in ``avoid``) without reserving it."""
        if dry_run:
            taken = self.used | {p - self.base for p in avoid}
            off = _scan(taken, self.size, self.offset, self.rng)
        else:
            off = _scan(self.used, self.size, self.offset, self.rng)
        if off is None:
            raise RangeFull()
        if not dry_run:
            self.used.add(off)
        return self.base + off

    def release(self, port: int) -> None:
        if isinstance(port, int) and 0 <= port - self.base < self.size:
            self.used.discard(port - self.base)

    def has(self, port: int) -> bool:
        return isinstance(port, int) and (port - self.base) in self.used

    @property
    def free(self) -> int:
        return self.size - len(self.used)


# --------------------------------------------------------------------------------------------
# The Service registry's allocation steps


def _family_of(ip: str) -> str:
    try:
        return IPV6 if ipaddress.ip_address(ip).version == 6 else IPV4
    except ValueError:
        return "unknown"


def _is_headless(spec: dict) -> bool:
    ips = spec.get("clusterIPs")
    return bool(ips) and ips[0] == "None"


def _needs_health_check(spec: dict) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _should_allocate_node_ports(spec: dict) -> bool:
    t = spec.get("type")
    if t == "NodePort":
        return True
    if t == "LoadBalancer":
        return spec.get("allocateLoadBalancerNodePorts") is not False
    return False


def _node_ports(spec: dict) -> list[int]:
    return [p["nodePort"] for p in spec.get("ports") or () if p.get("nodePort")]


def _internal(message: str) -> errors.InternalError:
    """``errors.NewInternalError``."""
    return errors.InternalError(f"Internal error occurred: {message}",
                                {"causes": [{"message": message}]})


class _Txn:
    """What one write allocated (undone if the write fails) and what it frees once it
    succeeds (``metaTransaction``)."""

    def __init__(self, owner: "ServiceAllocation", dry_run: bool) -> None:
        self.owner = owner
        self.dry_run = dry_run
        self.ips: list[tuple[ServiceIPAllocator, str]] = []
        self.ports: list[int] = []
        self.release_ips: list[str] = []
        self.release_ports: list[int] = []

    def revert(self) -> None:
        if self.dry_run:
            return
        for alloc, ip in self.ips:
            alloc.release(ip)
        for port in self.ports:
            self.owner.node_ports.release(port)

    def commit(self) -> None:
        if self.dry_run:
            return
        for ip in self.release_ips:
            self.owner.release_ip(ip)
        for port in self.release_ports:
            self.owner.node_ports.release(port)


class ServiceAllocation:
    """The allocators of one API server and the steps that use them.

    ``cidrs`` is ``--service-cluster-ip-range``: one CIDR, or two of different families
    (comma-separated) for a dual-stack cluster; the first is the default family.
    """

    def __init__(self, cidrs: str, node_port_range: str, rng: random.Random) -> None:
        self.ip_allocators: dict[str, ServiceIPAllocator] = {}
        for cidr in (c.strip() for c in str(cidrs).split(",") if c.strip()):
            alloc = ServiceIPAllocator(cidr, random.Random(rng.getrandbits(64)))
            self.ip_allocators.setdefault(alloc.family, alloc)
        if not self.ip_allocators:
            raise ValueError("service_cidr must name at least one CIDR")
        self.default_family = next(iter(self.ip_allocators))
        self.node_ports = NodePortAllocator(node_port_range, random.Random(rng.getrandbits(64)))

    # -- bookkeeping -----------------------------------------------------------------------

    def release_ip(self, ip: str) -> None:
        alloc = self.ip_allocators.get(_family_of(ip))
        if alloc is not None:
            alloc.release(ip)

    def restore(self, services: Iterable[dict]) -> None:
        """Mark the values stored Services hold as taken (the repair loop's job upstream)."""
        for svc in services:
            spec = svc.get("spec") or {}
            if spec.get("type") != "ExternalName" and not _is_headless(spec):
                for ip in spec.get("clusterIPs") or ():
                    alloc = self.ip_allocators.get(_family_of(ip))
                    if alloc is not None:
                        try:
                            alloc.allocate(ip)
                        except AllocationError:
                            pass
            ports = _node_ports(spec)
            if _needs_health_check(spec) and spec.get("healthCheckNodePort"):
                ports.append(spec["healthCheckNodePort"])
            for port in ports:
                try:
                    self.node_ports.allocate(port)
                except AllocationError:
                    pass

    # -- the hook ----------------------------------------------------------------------------

    def begin(self, new: dict, old: dict | None, dry_run: bool = False
              ) -> Callable[[bool], None]:
        """Upstream's ``BeginCreate``/``BeginUpdate``: allocate for ``new`` (a create when
        ``old`` is None) before it is validated, completing it in place (``clusterIP(s)``,
        ``ipFamilies``, ``ipFamilyPolicy``, node ports). Returns the ``FinishFunc``: call it
        with True once the object is stored (values the update no longer uses are freed) or
        with False if the write failed (what was allocated is given back)."""
        txn = _Txn(self, dry_run)
        try:
            if old is None:
                self._init_ip_family_fields(new, None)
                self._alloc_cluster_ips(new, txn)
                spec = new["spec"]
                if spec.get("type") in _NODE_PORT_TYPES:
                    self._init_node_ports(new, txn)
                if _needs_health_check(spec):
                    self._alloc_health_check_port(new, txn)
            else:
                self._init_ip_family_fields(new, old)
                self._update_cluster_ips(new, old, txn)
                self._update_node_ports(new, old, txn)
                self._update_health_check_port(new, old, txn)
        except BaseException:
            txn.revert()
            raise

        def finish(success: bool) -> None:
            if success:
                txn.commit()
            else:
                txn.revert()
        return finish

    def allocate_create(self, svc: dict, dry_run: bool = False) -> None:
        """``allocateCreate``, committed at once."""
        self.begin(svc, None, dry_run)(True)

    def allocate_update(self, svc: dict, old: dict, dry_run: bool = False) -> None:
        """``allocateUpdate``, committed at once."""
        self.begin(svc, old, dry_run)(True)

    def hook(self, new: dict | None, old: dict | None, dry_run: bool = False, **_: Any) -> None:
        """A ``create_hooks`` entry: ``(new, None)`` right before a create is stored,
        ``(new, old)`` right before an update is stored, ``(None, old)`` after a delete
        (everything the Service held is released)."""
        if new is None:
            if old is not None and not dry_run:
                self.release_all(old)
            return
        self.begin(new, old, dry_run)(True)

    def after_delete(self, new: dict | None, old: dict | None, dry_run: bool = False,
                     **_: Any) -> None:
        """A ``create_hooks`` entry that only releases, after a delete."""
        if new is None and old is not None and not dry_run:
            self.release_all(old)

    def release_all(self, svc: dict) -> None:
        """``releaseAllocatedResources``."""
        spec = svc.get("spec") or {}
        if spec.get("type") != "ExternalName" and not _is_headless(spec):
            for ip in spec.get("clusterIPs") or ():
                self.release_ip(ip)
        for port in _node_ports(spec):
            self.node_ports.release(port)
        if _needs_health_check(spec) and spec.get("healthCheckNodePort"):
            self.node_ports.release(spec["healthCheckNodePort"])

    # -- IP families -------------------------------------------------------------------------

    def _init_ip_family_fields(self, svc: dict, old: dict | None) -> None:
        """``initIPFamilyFields``: default ``ipFamilyPolicy`` and ``ipFamilies`` and check
        them against the cluster's families."""
        spec = svc.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        ospec = (old.get("spec") or {}) if old is not None else None
        if ospec is not None and self._matching_prefer_dual_stack(spec, ospec):
            return
        name = svc["metadata"].get("name", "")
        if spec.get("ipFamilyPolicy") is None:
            if ospec is not None and ospec.get("ipFamilyPolicy") is not None:
                spec["ipFamilyPolicy"] = ospec["ipFamilyPolicy"]
            elif spec.get("clusterIP") == "None" and not spec.get("selector"):
                spec["ipFamilyPolicy"] = REQUIRE_DUAL
            else:
                spec["ipFamilyPolicy"] = SINGLE_STACK
        policy = spec["ipFamilyPolicy"]
        loose = _cluster_ips_related(spec)
        if loose:
            raise errors.invalid("Service", "", name, loose)
        ips: list[str] = list(spec.get("clusterIPs") or ())
        families: list[str] = list(spec.get("ipFamilies") or ())
        errs: list[FieldError] = []
        if ospec is not None:
            oips = list(ospec.get("clusterIPs") or ())
            ofams = list(ospec.get("ipFamilies") or ())
            if policy == SINGLE_STACK:
                if ips == oips and len(ips) > 1:
                    ips = ips[:1]
                if families == ofams and len(families) > 1:
                    families = families[:1]
            else:
                if ips and len(ips) < len(oips):
                    errs.append(FieldError.invalid(
                        "spec.ipFamilyPolicy", policy,
                        "must be 'SingleStack' to release the secondary cluster IP"))
                if families and len(families) < len(ofams):
                    errs.append(FieldError.invalid(
                        "spec.ipFamilyPolicy", policy,
                        "must be 'SingleStack' to release the secondary IP family"))
        if policy == SINGLE_STACK:
            if len(ips) == 2:
                errs.append(FieldError.invalid(
                    "spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or "
                    "'PreferDualStack' when multiple cluster IPs are specified"))
            if len(families) == 2:
                errs.append(FieldError.invalid(
                    "spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or "
                    "'PreferDualStack' when multiple IP families are specified"))
        for i, ip in enumerate(ips):
            if ip == "None":
                break
            fam = _family_of(ip)
            if i >= len(families):
                if fam not in self.ip_allocators:
                    errs.append(FieldError.invalid(f"spec.clusterIPs[{i}]", ips,
                                                   f"{fam} is not configured on this cluster"))
                else:
                    families.append(fam)
        if errs:
            raise errors.invalid("Service", "", name, errs)
        if spec.get("clusterIP") == "None" and not spec.get("selector"):
            if not families:
                families = [self.default_family]
            if len(families) < 2 and policy != SINGLE_STACK:
                families.append(IPV6 if families[0] == IPV4 else IPV4)
            self._set_ips(spec, ips, families)
            return
        if policy == REQUIRE_DUAL and len(self.ip_allocators) < 2:
            errs.append(FieldError.invalid("spec.ipFamilyPolicy", policy,
                                           "this cluster is not configured for dual-stack "
                                           "services"))
        for i, fam in enumerate(families):
            if fam not in self.ip_allocators:
                errs.append(FieldError.invalid(f"spec.ipFamilies[{i}]", fam,
                                               "not configured on this cluster"))
        if errs:
            raise errors.invalid("Service", "", name, errs)
        if not families:
            families = [self.default_family]
        if policy != SINGLE_STACK and len(families) == 1 and len(self.ip_allocators) == 2:
            families.append(IPV6 if families[0] == IPV4 else IPV4)
        self._set_ips(spec, ips, families)

    @staticmethod
    def _set_ips(spec: dict, ips: list[str], families: list[str]) -> None:
        if ips:
            spec["clusterIPs"] = ips
            spec["clusterIP"] = ips[0]
        spec["ipFamilies"] = families

    @staticmethod
    def _matching_prefer_dual_stack(spec: dict, ospec: dict) -> bool:
        """``isMatchingPreferDualStackClusterIPFields``."""
        if spec.get("ipFamilyPolicy") is None or spec.get("type") != ospec.get("type"):
            return False
        if spec.get("type") not in ("ClusterIP", "NodePort", "LoadBalancer"):
            return False
        if spec.get("ipFamilyPolicy") != PREFER_DUAL:
            return False
        if ospec.get("ipFamilyPolicy") not in (None, PREFER_DUAL):
            return False
        return (list(spec.get("clusterIPs") or ()) == list(ospec.get("clusterIPs") or ())
                and list(spec.get("ipFamilies") or ()) == list(ospec.get("ipFamilies") or ()))

    # -- cluster IPs -------------------------------------------------------------------------

    def _alloc_cluster_ips(self, svc: dict, txn: _Txn, only: int | None = None) -> None:
        """``allocClusterIPs``: every family without an IP gets the next free one; every
        requested IP is reserved."""
        spec = svc["spec"]
        if spec.get("type") == "ExternalName" or _is_headless(spec):
            return
        ips: list[str] = list(spec.get("clusterIPs") or ())
        families = spec.get("ipFamilies") or [self.default_family]
        for i, fam in enumerate(families):
            if i >= len(ips):
                ips.append("")
            if only is not None and i != only:
                continue
            alloc = self.ip_allocators[fam]
            if not ips[i]:
                try:
                    ips[i] = alloc.allocate_next(dry_run=txn.dry_run)
                except AllocationError as exc:
                    raise _internal(f"failed to allocate a serviceIP: {exc}") from None
                txn.ips.append((alloc, ips[i]))
            else:
                try:
                    alloc.allocate(ips[i], dry_run=txn.dry_run)
                except AllocationError as exc:
                    shown = list(spec.get("clusterIPs") or ())
                    raise errors.invalid("Service", "", svc["metadata"].get("name", ""), [
                        FieldError.invalid("spec.clusterIPs", shown,
                                           f"failed to allocate IP {ips[i]}: {exc}")]) from None
                txn.ips.append((alloc, ips[i]))
        spec["clusterIPs"] = ips
        spec["clusterIP"] = ips[0]

    def _update_cluster_ips(self, svc: dict, old: dict, txn: _Txn) -> None:
        """``updateClusterIPs``: ExternalName to anything allocates, anything to
        ExternalName releases, dual-stack upgrades allocate the secondary IP and downgrades
        release it."""
        spec, ospec = svc["spec"], old.get("spec") or {}
        if self._matching_prefer_dual_stack(spec, ospec):
            return
        otype, ntype = ospec.get("type"), spec.get("type")
        if otype == "ExternalName" and ntype != "ExternalName":
            self._alloc_cluster_ips(svc, txn)
            return
        if _is_headless(ospec):
            return
        if otype != "ExternalName" and ntype == "ExternalName":
            txn.release_ips.extend(ospec.get("clusterIPs") or ())
            return
        ofams, nfams = ospec.get("ipFamilies") or [], spec.get("ipFamilies") or []
        if len(ofams) == 1 and len(nfams) == 2:
            self._alloc_cluster_ips(svc, txn, only=1)
        elif len(ofams) == 2 and len(nfams) == 1:
            oips = ospec.get("clusterIPs") or []
            if len(oips) > 1:
                txn.release_ips.append(oips[1])

    # -- node ports --------------------------------------------------------------------------

    def _port_error(self, svc: dict, index: int, port: int, exc: AllocationError) -> Exception:
        return errors.invalid("Service", "", svc["metadata"].get("name", ""), [
            FieldError.invalid(f"spec.ports[{index}].nodePort", port, str(exc))])

    def _init_node_ports(self, svc: dict, txn: _Txn) -> None:
        """``initNodePorts``: ports with the same port number share one node port;
        requested node ports are reserved, missing ones allocated."""
        spec = svc["spec"]
        ports = spec.get("ports") or []
        should = _should_allocate_node_ports(spec)
        by_port: dict[int, int] = {}
        for i, sp in enumerate(ports):
            if not sp.get("nodePort") and not should:
                continue
            number = sp.get("port", 0)
            shared = by_port.get(number, 0)
            if not shared:
                requested = next((p.get("nodePort") for p in ports
                                  if p.get("port", 0) == number and p.get("nodePort")), 0)
                if requested:
                    self._take_port(svc, i, requested, txn)
                    sp["nodePort"] = requested
                else:
                    sp["nodePort"] = self._next_port(txn)
                by_port[number] = sp["nodePort"]
            elif sp.get("nodePort", 0) != shared:
                if not sp.get("nodePort"):
                    sp["nodePort"] = shared
                else:
                    self._take_port(svc, i, sp["nodePort"], txn)

    def _take_port(self, svc: dict, index: int, port: int, txn: _Txn) -> None:
        try:
            self.node_ports.allocate(port, dry_run=txn.dry_run)
        except AllocationError as exc:
            raise self._port_error(svc, index, port, exc) from None
        txn.ports.append(port)

    def _next_port(self, txn: _Txn) -> int:
        try:
            port = self.node_ports.allocate_next(dry_run=txn.dry_run, avoid=txn.ports)
        except AllocationError as exc:
            raise _internal(f"failed to allocate a nodePort: {exc}") from None
        txn.ports.append(port)
        return port

    def _update_node_ports(self, svc: dict, old: dict, txn: _Txn) -> None:
        """``txnUpdateNodePorts`` / ``updateNodePorts``."""
        spec, ospec = svc["spec"], old.get("spec") or {}
        otype, ntype = ospec.get("type"), spec.get("type")
        if otype in _NODE_PORT_TYPES and ntype in ("ExternalName", "ClusterIP"):
            txn.release_ports.extend(_node_ports(ospec))
        if ntype not in _NODE_PORT_TYPES:
            return
        old_numbers = _node_ports(ospec)
        should = _should_allocate_node_ports(spec)
        taken_here: set[int] = set()
        seen: set[tuple[str, int]] = set()
        for i, sp in enumerate(spec.get("ports") or ()):
            if not sp.get("nodePort") and not should:
                continue
            port = sp.get("nodePort", 0)
            if port:
                if port not in old_numbers and port not in taken_here:
                    self._take_port(svc, i, port, txn)
                    taken_here.add(port)
            else:
                port = sp["nodePort"] = self._next_port(txn)
            key = (sp.get("protocol", "TCP"), port)
            if key in seen:
                raise _internal(f"duplicate nodePort: {{{key[0]} {port}}}")
            seen.add(key)
        new_numbers = set(_node_ports(spec))
        txn.release_ports.extend(p for p in old_numbers if p not in new_numbers)

    def _alloc_health_check_port(self, svc: dict, txn: _Txn) -> None:
        """``allocHealthCheckNodePort``."""
        spec = svc["spec"]
        port = spec.get("healthCheckNodePort", 0)
        if port:
            try:
                self.node_ports.allocate(port, dry_run=txn.dry_run)
            except AllocationError as exc:
                raise _internal(f"failed to allocate requested HealthCheck NodePort {port}: "
                                f"{exc}") from None
            txn.ports.append(port)
        else:
            try:
                port = self.node_ports.allocate_next(dry_run=txn.dry_run, avoid=txn.ports)
            except AllocationError as exc:
                raise _internal(f"failed to allocate a HealthCheck NodePort 0: {exc}") from None
            txn.ports.append(port)
            spec["healthCheckNodePort"] = port

    def _update_health_check_port(self, svc: dict, old: dict, txn: _Txn) -> None:
        """``updateHealthCheckNodePort``."""
        spec, ospec = svc["spec"], old.get("spec") or {}
        needed, needs = _needs_health_check(ospec), _needs_health_check(spec)
        if not needed and needs:
            self._alloc_health_check_port(svc, txn)
        elif needed and not needs and ospec.get("healthCheckNodePort"):
            txn.release_ports.append(ospec["healthCheckNodePort"])


# --------------------------------------------------------------------------------------------
# Wiring


def install(api: "ApiServer", rng: random.Random | None = None) -> ServiceAllocation:
    """Give ``api`` Service allocation; returns the allocation state (also kept as
    ``api.service_allocation``).

    If the API server has ``begin_hooks`` (group resource -> callables
    ``(new, old, dry_run) -> finish(success)`` run before validation, as upstream's
    ``BeginCreate``/``BeginUpdate``), allocation goes there and ``create_hooks["services"]``
    only releases after a delete; otherwise :meth:`ServiceAllocation.hook` allocates from
    ``create_hooks`` right before the write is stored. Either way a deleted Service's
    Endpoints object is removed too (``afterDelete``).

    ``rng`` seeds the allocators; pass one drawn from the cluster's seeded RNG. Services
    already stored keep their addresses.
    """
    config = api.config
    alloc = ServiceAllocation(getattr(config, "service_cidr", "10.96.0.0/12"),
                              getattr(config, "service_node_port_range", "30000-32767"),
                              rng if rng is not None else random.Random(0x5E7A11C))
    rt = api.registry.by_kind("Service")
    alloc.restore(api.table(rt).objects.values())
    ep_rt = api.registry.by_kind("Endpoints")

    def delete_endpoints(new: dict | None, old: dict | None, dry_run: bool = False,
                         **_: Any) -> None:
        # storage.go afterDelete: the Endpoints of the same name go with the Service.
        if new is None and old is not None and not dry_run:
            m = old["metadata"]
            try:
                api.delete(ep_rt, m["name"], m.get("namespace"), copy_out=False)
            except errors.NotFound:
                pass

    hooks = api.create_hooks.setdefault(rt.group_resource, [])
    begin_hooks = getattr(api, "begin_hooks", None)
    if isinstance(begin_hooks, dict):
        begin_hooks.setdefault(rt.group_resource, []).append(alloc.begin)
        hooks.append(alloc.after_delete)
    else:
        hooks.append(alloc.hook)
    hooks.append(delete_endpoints)
    api.service_allocation = alloc  # type: ignore[attr-defined]
    return alloc
