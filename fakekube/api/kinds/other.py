"""discovery.k8s.io/v1 EndpointSlice, coordination.k8s.io/v1 Lease, policy/v1
PodDisruptionBudget, and the bodies of three subresources: policy/v1 Eviction
(``pods/eviction``), core/v1 Binding (``pods/binding``) and autoscaling/v1 Scale
(``*/scale``).

This module owns defaulting, the kind-specific strategy parts and validation of the three
kinds, and plain validation functions for the three subresource bodies
(:func:`validate_eviction`, :func:`validate_binding`, :func:`validate_scale`), with upstream's
field paths and message texts.

Facts follow Kubernetes v1.31:

- ``kubernetes/kubernetes:pkg/apis/discovery/v1/defaults.go`` (``SetDefaults_EndpointPort``),
  ``pkg/apis/discovery/validation/validation.go``,
  ``pkg/registry/discovery/endpointslice/strategy.go``
  (``dropTopologyOnV1``);
- ``kubernetes/kubernetes:pkg/apis/coordination/validation/validation.go``,
  ``pkg/registry/coordination/lease/strategy.go``;
- ``kubernetes/kubernetes:pkg/apis/policy/validation/validation.go``,
  ``pkg/registry/policy/poddisruptionbudget/strategy.go``,
  ``staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go``
  (``ValidateConditions``, ``ValidateDeleteOptions``);
- ``kubernetes/kubernetes:pkg/apis/core/validation/validation.go`` (``ValidatePodBinding``,
  ``ValidateNonSpecialIP``), ``pkg/apis/autoscaling/validation/validation.go``
  (``ValidateScale``), ``pkg/registry/core/pod/storage/eviction.go``.

Upstream's registry runs the generic ObjectMeta checks (``BeforeCreate`` /
``BeforeUpdate``) for every kind; where a kind's own validation does not cover them (a
PodDisruptionBudget's metadata, the metadata update rules of an EndpointSlice update) the
functions here include them, so that each Strategy validates ``metadata`` exactly once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping

from ...errors import FieldError
from ..names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_fully_qualified_domain_name,
    is_qualified_name,
    is_valid_ip,
    is_valid_ipv4,
    is_valid_ipv6,
    is_valid_label_value,
    regex_error,
)
from ..selectors import validate_label_selector
from . import Gates, Strategy
from . import meta as _meta
from .apps import (
    NEGATIVE,
    is_not_more_than_100_percent,
    semantic_equal,
    validate_nonnegative,
    validate_positive_int_or_percent,
)

__all__ = [
    "STRATEGIES", "validate_eviction", "validate_binding", "validate_scale",
    "default_endpoint_slice", "validate_endpoint_slice", "validate_endpoint_slice_update",
    "validate_lease", "validate_lease_update", "validate_pod_disruption_budget",
    "validate_pod_disruption_budget_update", "validate_pod_disruption_budget_status_update",
    "validate_conditions", "validate_delete_options",
]

_EMPTY: Mapping[str, Any] = {}
Errors = list[FieldError]


def _object_meta(obj: dict, namespaced: bool, name_fn: _meta.NameFn) -> Errors:
    """``ValidateObjectMeta`` of a top-level object's ``metadata``."""
    return _meta.validate_object_meta(obj.get("metadata") or {}, namespaced, name_fn)
_IMMUTABLE = "field is immutable"


def _get(d: Any, key: str) -> Any:
    return d.get(key) if isinstance(d, dict) else None


def _meta_update(new: dict, old: dict) -> Errors:
    return _meta.validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})


# --------------------------------------------------------------------------------------------
# EndpointSlice

_ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
_PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
_MAX_TOPOLOGY_LABELS = 16
_MAX_ADDRESSES = 100
_MAX_PORTS = 20000
_MAX_ENDPOINTS = 1000
_MAX_ZONE_HINTS = 8
_ZONE_LABEL = "topology.kubernetes.io/zone"
_HOSTNAME_LABEL = "kubernetes.io/hostname"


def default_endpoint_slice(obj: dict) -> None:
    """``SetDefaults_EndpointPort``: every port gets ``name: ""`` and ``protocol: TCP``."""
    for port in obj.get("ports") or ():
        if port.get("name") is None:
            port["name"] = ""
        if port.get("protocol") is None:
            port["protocol"] = "TCP"


def _drop_topology_on_v1(new: dict, old: dict | None) -> None:
    """``dropTopologyOnV1``: a v1 write drops ``deprecatedTopology`` from the endpoints (when
    they changed), carrying a node name the stored slice already had into ``nodeName``."""
    endpoints = new.get("endpoints")
    if not endpoints:
        return
    if old is not None and semantic_equal(endpoints, old.get("endpoints")):
        return
    prev_nodes = None  # the stored slice's, read once an endpoint has a topology
    for ep in endpoints:
        topology = ep.get("deprecatedTopology")
        if topology is None:
            continue
        if prev_nodes is None:
            prev_nodes = {(e.get("deprecatedTopology") or _EMPTY).get(_HOSTNAME_LABEL)
                          for e in (_get(old, "endpoints") or ())}
            prev_nodes.discard(None)
        node = topology.get(_HOSTNAME_LABEL)
        if ep.get("nodeName") is None and node in prev_nodes and not is_dns1123_subdomain(node):
            ep["nodeName"] = node
        del ep["deprecatedTopology"]


def prepare_endpoint_slice_for_create(obj: dict, gates: Gates) -> None:
    """The strategy's ``PrepareForCreate`` beyond generation 1 (the API layer's): v1
    topology handling."""
    _drop_topology_on_v1(obj, None)


def prepare_endpoint_slice_for_update(new: dict, old: dict, gates: Gates) -> None:
    """The strategy's ``PrepareForUpdate`` beyond the generation rule (the API layer's: any
    change outside metadata, or to the labels): v1 topology handling."""
    _drop_topology_on_v1(new, old)


def _ipv4_octets(value: str) -> list[int] | None:
    """The four octets of a dotted IPv4 address as ``ParseIPSloppy`` reads it (leading zeros
    allowed), or None."""
    parts = value.split(".")
    if len(parts) != 4:
        return None
    octets = []
    for part in parts:
        if not part or not part.isascii() or not part.isdigit():
            return None
        n = int(part)
        if n > 255:
            return None
        octets.append(n)
    return octets


def _special_ipv4(octets: list[int], value: str, path: str) -> list[FieldError]:
    a, b, c, d = octets
    if a == 0 and b == 0 and c == 0 and d == 0:
        return [FieldError.invalid(path, value, f"may not be unspecified ({value})")]
    if a == 127:
        return [FieldError.invalid(path, value, _LOOPBACK)]
    if a == 169 and b == 254:
        return [FieldError.invalid(path, value, _LINK_LOCAL)]
    if a == 224 and b == 0 and c == 0:
        return [FieldError.invalid(path, value, _LINK_LOCAL_MULTICAST)]
    return []


_LOOPBACK = "may not be in the loopback range (127.0.0.0/8, ::1/128)"
_LINK_LOCAL = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
_LINK_LOCAL_MULTICAST = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"


def _non_special_ip(value: str, path: str) -> list[FieldError]:
    """``ValidateNonSpecialIP``: no unspecified, loopback or link-local addresses."""
    octets = _ipv4_octets(value)
    if octets is not None:
        return _special_ipv4(octets, value, path)
    if ":" not in value or is_valid_ip(value):
        return [FieldError.invalid(path, value, "must be a valid IP address")]
    try:
        ip = ipaddress.IPv6Address(value)
    except ValueError:  # an embedded IPv4 part with leading zeros; names.py accepted it
        head, _, tail = value.rpartition(":")
        ip = ipaddress.IPv6Address(head + ":" + ".".join(str(int(o)) for o in tail.split(".")))
    mapped = ip.ipv4_mapped
    if mapped is not None:  # Go's To4(): an IPv4-mapped address is checked as IPv4
        return _special_ipv4(list(mapped.packed), value, path)
    errs: list[FieldError] = []
    if ip.is_unspecified:
        errs.append(FieldError.invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errs.append(FieldError.invalid(path, value, _LOOPBACK))
    if ip.is_link_local:
        errs.append(FieldError.invalid(path, value, _LINK_LOCAL))
    packed = ip.packed
    if packed[0] == 0xFF and packed[1] & 0x0F == 0x02:
        errs.append(FieldError.invalid(path, value, _LINK_LOCAL_MULTICAST))
    return errs


def _validate_endpoints(endpoints: list, addr_type: str,
                        known: set[int] | None = None) -> Errors:
    """``validateEndpoints``. ``known``: the ids of the endpoint objects of the stored
    slice an update replaces (same address type); they passed this validation when stored
    (stored objects are never changed, and an endpoint's checks depend only on itself and
    the address type), so they are not checked again."""
    if len(endpoints) > _MAX_ENDPOINTS:
        return [FieldError.too_many("endpoints", len(endpoints), _MAX_ENDPOINTS)]
    errs: list[FieldError] = []
    for i, ep in enumerate(endpoints):
        if known is not None and id(ep) in known:
            continue
        ep = ep or _EMPTY
        ep_path = f"endpoints[{i}]"
        addr_path = ep_path + ".addresses"
        addresses = ep.get("addresses") or ()
        if not addresses:
            errs.append(FieldError.required(addr_path, "must contain at least 1 address"))
        elif len(addresses) > _MAX_ADDRESSES:
            errs.append(FieldError.too_many(addr_path, len(addresses), _MAX_ADDRESSES))
        for j, address in enumerate(addresses):
            a_path = f"{addr_path}[{j}]"
            if addr_type == "IPv4":
                octets = _ipv4_octets(address)
                if octets is not None:  # the common case, checked without re-parsing
                    errs.extend(_special_ipv4(octets, address, a_path))
                    continue
                errs.extend(FieldError.invalid(a_path, address, m) for m in is_valid_ipv4(address))
                errs.extend(_non_special_ip(address, a_path))
            elif addr_type == "IPv6":
                errs.extend(FieldError.invalid(a_path, address, m) for m in is_valid_ipv6(address))
                errs.extend(_non_special_ip(address, a_path))
            elif addr_type == "FQDN":
                errs.extend(is_fully_qualified_domain_name(a_path, address))
        node = ep.get("nodeName")
        if node is not None:
            errs.extend(FieldError.invalid(ep_path + ".nodeName", node, m)
                        for m in is_dns1123_subdomain(node))
        topology = ep.get("deprecatedTopology")
        topo_path = ep_path + ".deprecatedTopology"
        if topology:
            if len(topology) > _MAX_TOPOLOGY_LABELS:
                errs.append(FieldError.too_many(topo_path, len(topology), _MAX_TOPOLOGY_LABELS))
            errs.extend(_meta.validate_labels(topology, topo_path))
            if _ZONE_LABEL in topology:
                errs.append(FieldError("InternalError", f"{topo_path}[{_ZONE_LABEL}]",
                                       detail="reserved key was not removed in conversion"))
        hostname = ep.get("hostname")
        if hostname is not None:
            errs.extend(FieldError.invalid(ep_path + ".hostname", hostname, m)
                        for m in is_dns1123_label(hostname))
        hints = ep.get("hints")
        if hints is not None:
            errs.extend(_validate_hints(hints, ep_path + ".hints"))
    return errs


def _validate_hints(hints: Mapping[str, Any], path: str) -> Errors:
    """``validateHints``: at most 8 zones, unique, each a label value."""
    fz_path = path + ".forZones"
    zones = hints.get("forZones") or ()
    if len(zones) > _MAX_ZONE_HINTS:
        return [FieldError.too_many(fz_path, len(zones), _MAX_ZONE_HINTS)]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, zone in enumerate(zones):
        name = (zone or _EMPTY).get("name") or ""
        z_path = f"{fz_path}[{i}].name"
        if name in seen:
            errs.append(FieldError.duplicate(z_path, name))
        else:
            seen.add(name)
        errs.extend(FieldError.invalid(z_path, name, m) for m in is_valid_label_value(name))
    return errs


def _validate_ports(ports: list) -> Errors:
    """``validatePorts``: unique DNS-label names, a supported protocol, a qualified-name
    appProtocol."""
    if len(ports) > _MAX_PORTS:
        return [FieldError.too_many("ports", len(ports), _MAX_PORTS)]
    errs: list[FieldError] = []
    names_seen: set[str] = set()
    for i, port in enumerate(ports):
        port = port or _EMPTY
        p_path = f"ports[{i}]"
        name = port.get("name") or ""
        if name:
            errs.extend(FieldError.invalid(p_path + ".name", name, m)
                        for m in is_dns1123_label(name))
        if name in names_seen:
            errs.append(FieldError.duplicate(p_path + ".name", name))
        else:
            names_seen.add(name)
        protocol = port.get("protocol")
        if protocol is None:
            errs.append(FieldError.required(p_path + ".protocol"))
        elif protocol not in _PORT_PROTOCOLS:
            errs.append(FieldError.not_supported(p_path + ".protocol", protocol, _PORT_PROTOCOLS))
        app = port.get("appProtocol")
        if app is not None:
            errs.extend(FieldError.invalid(p_path + ".appProtocol", app, m)
                        for m in is_qualified_name(app))
    return errs


def _validate_endpoint_slice_body(obj: dict, known: set[int] | None = None) -> Errors:
    """``ValidateEndpointSlice`` without metadata."""
    errs: list[FieldError] = []
    addr_type = obj.get("addressType") or ""
    if not addr_type:
        errs.append(FieldError.required("addressType"))
    elif addr_type not in _ADDRESS_TYPES:
        errs.append(FieldError.not_supported("addressType", addr_type, _ADDRESS_TYPES))
    errs.extend(_validate_endpoints(obj.get("endpoints") or [], addr_type, known))
    errs.extend(_validate_ports(obj.get("ports") or []))
    return errs


def validate_endpoint_slice(obj: dict, gates: Gates, known: set[int] | None = None
                            ) -> Errors:
    """``ValidateEndpointSliceCreate``."""
    errs = _object_meta(obj, True, _meta.name_is_dns1123_subdomain)
    errs.extend(_validate_endpoint_slice_body(obj, known))
    return errs


def validate_endpoint_slice_update(new: dict, old: dict, gates: Gates) -> Errors:
    """Metadata update rules (the generic check), ``ValidateEndpointSlice`` and an immutable
    ``addressType``."""
    errs = _meta_update(new, old)
    known = None
    if (new.get("addressType") or "") == (old.get("addressType") or ""):
        known = set(map(id, old.get("endpoints") or ()))
    errs.extend(validate_endpoint_slice(new, gates, known))
    addr_type = new.get("addressType") or ""
    if addr_type != (old.get("addressType") or ""):
        errs.append(FieldError.invalid("addressType", addr_type, _IMMUTABLE))
    return errs


# --------------------------------------------------------------------------------------------
# Lease

_LEASE_STRATEGIES = ("OldestEmulationVersion",)


def _drop_lease_disabled_fields(new: dict, old: dict | None, gates: Gates) -> None:
    """Without CoordinatedLeaderElection (alpha in v1.31) ``strategy`` and ``preferredHolder``
    are dropped unless the stored lease uses them."""
    if gates.get("CoordinatedLeaderElection", False):
        return
    spec = new.get("spec")
    if not isinstance(spec, dict):
        return
    old_spec = _get(old, "spec") or _EMPTY
    for key in ("strategy", "preferredHolder"):
        if old_spec.get(key) is None:
            spec.pop(key, None)


def prepare_lease_for_create(obj: dict, gates: Gates) -> None:
    _drop_lease_disabled_fields(obj, None, gates)


def prepare_lease_for_update(new: dict, old: dict, gates: Gates) -> None:
    _drop_lease_disabled_fields(new, old, gates)


def _validate_lease_spec(spec: Mapping[str, Any]) -> Errors:
    """``ValidateLeaseSpec``."""
    errs: list[FieldError] = []
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(FieldError.invalid("spec.leaseDurationSeconds", duration,
                                       "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and transitions < 0:
        errs.append(FieldError.invalid("spec.leaseTransitions", transitions, NEGATIVE))
    strategy = spec.get("strategy")
    if strategy is not None:
        # Upstream appends "strategy" to a path that already ends in it.
        s_path = "spec.strategy.strategy"
        if "/" not in strategy:
            if strategy not in _LEASE_STRATEGIES:
                errs.append(FieldError.not_supported(s_path, strategy, _LEASE_STRATEGIES))
        else:
            errs.extend(FieldError.invalid(s_path, strategy, m)
                        for m in is_qualified_name(strategy))
    if spec.get("preferredHolder") and not strategy:
        errs.append(FieldError.forbidden("spec.preferredHolder",
                                         "may only be specified if `strategy` is defined"))
    return errs


def validate_lease(obj: dict, gates: Gates) -> Errors:
    """``ValidateLease``."""
    errs = _object_meta(obj, True, _meta.name_is_dns1123_subdomain)
    errs.extend(_validate_lease_spec(obj.get("spec") or _EMPTY))
    return errs


def validate_lease_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateLeaseUpdate``."""
    errs = _meta_update(new, old)
    errs.extend(_validate_lease_spec(new.get("spec") or _EMPTY))
    return errs


# --------------------------------------------------------------------------------------------
# PodDisruptionBudget

_UNHEALTHY_POD_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")


def _validate_pdb_spec(spec: Mapping[str, Any], allow_invalid_label_value: bool) -> Errors:
    """``ValidatePodDisruptionBudgetSpec``."""
    errs: list[FieldError] = []
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        errs.append(FieldError.invalid("spec", spec,
                                       "minAvailable and maxUnavailable cannot be both set"))
    if min_available is not None:
        errs.extend(validate_positive_int_or_percent(min_available, "spec.minAvailable"))
        errs.extend(is_not_more_than_100_percent(min_available, "spec.minAvailable"))
    if max_unavailable is not None:
        errs.extend(validate_positive_int_or_percent(max_unavailable, "spec.maxUnavailable"))
        errs.extend(is_not_more_than_100_percent(max_unavailable, "spec.maxUnavailable"))
    errs.extend(validate_label_selector(spec.get("selector"), "spec.selector",
                                        allow_invalid_label_value=allow_invalid_label_value))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in _UNHEALTHY_POD_EVICTION_POLICIES:
        errs.append(FieldError.not_supported("spec.unhealthyPodEvictionPolicy", policy,
                                             _UNHEALTHY_POD_EVICTION_POLICIES))
    return errs


def validate_pod_disruption_budget(obj: dict, gates: Gates) -> Errors:
    """``ValidatePodDisruptionBudget`` (the spec), then the generic metadata check: a budget's
    name only has to be a valid path segment."""
    errs = _validate_pdb_spec(obj.get("spec") or _EMPTY, False)
    errs.extend(_object_meta(obj, True, _meta.name_is_path_segment))
    return errs


def validate_pod_disruption_budget_update(new: dict, old: dict, gates: Gates) -> Errors:
    """Metadata update rules (the generic check) and the new spec; policy/v1 lets every spec
    field change. A selector with an invalid label value stays allowed if the stored budget
    already had one."""
    errs = _meta_update(new, old)
    old_sel = _get(old.get("spec"), "selector")
    allow_invalid = bool(validate_label_selector(old_sel, "spec.selector"))
    errs.extend(_validate_pdb_spec(new.get("spec") or _EMPTY, allow_invalid))
    return errs


def validate_pod_disruption_budget_status_update(new: dict, old: dict, gates: Gates
                                                 ) -> Errors:
    """Metadata update rules (the generic check) and
    ``ValidatePodDisruptionBudgetStatusUpdate``: valid conditions, non-negative counts."""
    errs = _meta_update(new, old)
    status = new.get("status") or _EMPTY
    errs.extend(validate_conditions(status.get("conditions") or (), "status.conditions"))
    for name in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        errs.extend(validate_nonnegative(status.get(name) or 0, "status." + name))
    return errs


_CONDITION_STATUSES = ("False", "True", "Unknown")
_REASON_FMT = "[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?"
_REASON_RE = re.compile(_REASON_FMT)
_REASON_ERROR = regex_error(
    "a condition reason must start with alphabetic character, optionally followed by a string "
    "of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'",
    _REASON_FMT, "my_name", "MY_NAME", "MyName", "ReasonA,ReasonB", "ReasonA:ReasonB")
_MAX_REASON_LEN = 1024
_MAX_MESSAGE_LEN = 32 * 1024


def validate_conditions(conditions: Any, path: str) -> Errors:
    """metav1 ``ValidateConditions``: unique types, and each condition's type (a qualified
    name), status, observedGeneration, lastTransitionTime, reason and message."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, cond in enumerate(conditions):
        cond = cond or _EMPTY
        c_path = f"{path}[{i}]"
        ctype = cond.get("type") or ""
        if ctype in seen:
            errs.append(FieldError.duplicate(c_path + ".type", ctype))
        else:
            seen.add(ctype)
        errs.extend(FieldError.invalid(c_path + ".type", ctype, m)
                    for m in is_qualified_name(ctype))
        status = cond.get("status") or ""
        if status not in _CONDITION_STATUSES:
            errs.append(FieldError.not_supported(c_path + ".status", status, _CONDITION_STATUSES))
        gen = cond.get("observedGeneration") or 0
        if gen < 0:
            errs.append(FieldError.invalid(c_path + ".observedGeneration", gen,
                                           "must be greater than or equal to zero"))
        if not cond.get("lastTransitionTime"):
            errs.append(FieldError.required(c_path + ".lastTransitionTime", "must be set"))
        reason = cond.get("reason") or ""
        if not reason:
            errs.append(FieldError.required(c_path + ".reason", "must be set"))
        else:
            if not _REASON_RE.fullmatch(reason):
                errs.append(FieldError.invalid(c_path + ".reason", reason, _REASON_ERROR))
            if len(reason) > _MAX_REASON_LEN:
                errs.append(FieldError.too_long(c_path + ".reason", reason, _MAX_REASON_LEN))
        if len(cond.get("message") or "") > _MAX_MESSAGE_LEN:
            errs.append(FieldError.too_long(c_path + ".message", cond["message"], _MAX_MESSAGE_LEN))
    return errs


# --------------------------------------------------------------------------------------------
# Subresource bodies

_PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")


def validate_delete_options(options: Mapping[str, Any] | None) -> Errors:
    """metav1 ``ValidateDeleteOptions``: ``orphanDependents`` and ``propagationPolicy`` are
    exclusive, the policy is known, ``dryRun`` is ``["All"]`` or empty. Upstream answers these
    with an Invalid error on kind ``DeleteOptions`` of group ``meta.k8s.io`` and an empty name."""
    options = options or _EMPTY
    errs: list[FieldError] = []
    policy = options.get("propagationPolicy")
    if options.get("orphanDependents") is not None and policy is not None:
        errs.append(FieldError.invalid(
            "propagationPolicy", policy,
            "orphanDependents and deletionPropagation cannot be both set"))
    if policy is not None and policy not in _PROPAGATION_POLICIES:
        errs.append(FieldError.not_supported("propagationPolicy", policy,
                                             _PROPAGATION_POLICIES + ("nil",)))
    dry_run = options.get("dryRun") or []
    if any(v != "All" for v in dry_run):
        errs.append(FieldError.not_supported("dryRun", list(dry_run), ("All",)))
    return errs


def validate_eviction(obj: dict) -> Errors:
    """What the eviction subresource validates of a policy/v1 Eviction body: its
    ``deleteOptions`` (see :func:`validate_delete_options`; paths are relative to them). The
    name in the body must match the pod's name in the URL, else upstream answers 400
    ``name in URL does not match name in Eviction object`` (the caller's check, it needs the
    URL)."""
    return validate_delete_options(obj.get("deleteOptions"))


def validate_binding(obj: dict) -> Errors:
    """``ValidatePodBinding``: ``target.kind`` empty or ``Node``, ``target.name`` set.

    Upstream returns these as a plain aggregate error, which the API server answers as a 500
    ``Internal error occurred: <errors>``; a body whose name differs from the pod's in the URL
    gets 400 ``name in URL does not match name in Binding object`` (the caller's check)."""
    target = obj.get("target") or _EMPTY
    errs: list[FieldError] = []
    kind = target.get("kind") or ""
    if kind and kind != "Node":
        errs.append(FieldError.not_supported("target.kind", kind, ("Node", "<empty>")))
    if not target.get("name"):
        errs.append(FieldError.required("target.name"))
    return errs


def validate_scale(obj: dict) -> Errors:
    """``ValidateScale``: namespaced metadata with a DNS-subdomain name, ``spec.replicas`` >= 0.
    Upstream reports these as Invalid on kind ``Scale`` of group ``autoscaling``."""
    errs = _object_meta(obj, True, _meta.name_is_dns1123_subdomain)
    replicas = _get(obj.get("spec"), "replicas") or 0
    if replicas < 0:
        errs.append(FieldError.invalid("spec.replicas", replicas, NEGATIVE))
    return errs


STRATEGIES: dict[str, Strategy] = {
    "EndpointSlice": Strategy(
        default=default_endpoint_slice,
        prepare_for_create=prepare_endpoint_slice_for_create,
        prepare_for_update=prepare_endpoint_slice_for_update,
        validate=validate_endpoint_slice,
        validate_update=validate_endpoint_slice_update,
    ),
    "Lease": Strategy(
        prepare_for_create=prepare_lease_for_create,
        prepare_for_update=prepare_lease_for_update,
        validate=validate_lease,
        validate_update=validate_lease_update,
    ),
    "PodDisruptionBudget": Strategy(
        validate=validate_pod_disruption_budget,
        validate_update=validate_pod_disruption_budget_update,
        validate_status_update=validate_pod_disruption_budget_status_update,
    ),
}
