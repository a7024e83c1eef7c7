"""What the scheduler knows about pods and nodes: :class:`PodInfo` (a pod with its requests,
ports, tolerations and affinity terms computed once) and :class:`NodeInfo` (a node with the
aggregate of the pods on it), and :class:`FitError`, the message of an unschedulable pod.

Facts follow Kubernetes v1.31:

- ``kubernetes/kubernetes:pkg/scheduler/framework/types.go`` (``PodInfo``, ``AffinityTerm``,
  ``NodeInfo``: ``Requested``, ``NonZeroRequested``, ``UsedPorts``, ``PVCRefCounts``, the pods
  with affinity and with required anti-affinity; ``FitError.Error()``);
- ``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/resource/helpers.go``
  (``PodRequests``: containers summed, init containers as a running maximum that includes the
  restartable (sidecar) init containers started before them, plus ``spec.overhead``);
- ``kubernetes/kubernetes:pkg/scheduler/util/pod_resources.go`` (the non-zero defaults used
  for scoring: 100m CPU and 200Mi memory for a container that requests none).

Everything here is computed once per pod object and per node object, so that a scheduling
cycle only does arithmetic on integers and lookups in dicts.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..api import quantity as _quantity
from ..api.selectors import NOTHING, LabelSelector, SelectorError, label_selector_from_dict
from .framework import NodeToStatus
from .helpers import (NO_EXECUTE, NO_SCHEDULE, PREFER_NO_SCHEDULE, is_scalar_resource,
                      parse_taints, parse_tolerations, zone_key)

__all__ = ["PodInfo", "NodeInfo", "NodeJournal", "AffinityTerm", "FitError",
           "DEFAULT_MILLI_CPU_REQUEST", "DEFAULT_MEMORY_REQUEST", "pod_priority", "cpu_milli",
           "quantity_value"]

DEFAULT_MILLI_CPU_REQUEST = 100               # schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024    # schedutil.DefaultMemoryRequest

_MISSING = object()
_MILLI_CACHE: dict[Any, int] = {}
_VALUE_CACHE: dict[Any, int] = {}


def cpu_milli(q: Any) -> int:
    """``Quantity.MilliValue()``, cached by text."""
    v = _MILLI_CACHE.get(q)
    if v is None:
        try:
            v = _quantity.milli_value(q)
        except (ValueError, TypeError):
            v = 0
        if len(_MILLI_CACHE) < 65536:
            _MILLI_CACHE[q] = v
    return v


def quantity_value(q: Any) -> int:
    """``Quantity.Value()``, cached by text."""
    v = _VALUE_CACHE.get(q)
    if v is None:
        try:
            v = _quantity.value(q)
        except (ValueError, TypeError):
            v = 0
        if len(_VALUE_CACHE) < 65536:
            _VALUE_CACHE[q] = v
    return v


def _amount(name: str, q: Any) -> int:
    return cpu_milli(q) if name == "cpu" else quantity_value(q)


def _add(into: dict[str, int], reqs: Mapping[str, Any] | None) -> None:
    if reqs:
        for name, q in reqs.items():
            into[name] = into.get(name, 0) + _amount(name, q)


def _with_defaults(reqs: Mapping[str, Any] | None) -> dict[str, Any]:
    """``applyNonMissing``: the scoring defaults for cpu/memory a container does not request."""
    out = dict(reqs or {})
    if "cpu" not in out:
        out["cpu"] = "100m"
    if "memory" not in out:
        out["memory"] = "200Mi"
    return out


def pod_requests(spec: Mapping[str, Any], non_missing: bool = False) -> dict[str, int]:
    """``resourcehelper.PodRequests``: the effective request of each resource, cpu in
    millicores and everything else in units. With ``non_missing``, containers that do not
    request cpu or memory count the scoring defaults instead."""
    reqs: dict[str, int] = {}
    for c in spec.get("containers") or ():
        r = ((c.get("resources") or {}).get("requests"))
        _add(reqs, _with_defaults(r) if non_missing else r)
    init_max: dict[str, int] = {}
    restartable: dict[str, int] = {}
    for c in spec.get("initContainers") or ():
        r = ((c.get("resources") or {}).get("requests"))
        if non_missing:
            r = _with_defaults(r)
        if c.get("restartPolicy") == "Always":
            _add(reqs, r)
            _add(restartable, r)
            current = restartable
        else:
            current = dict(restartable)
            _add(current, r)
        for name, v in current.items():
            if v > init_max.get(name, 0):
                init_max[name] = v
    for name, v in init_max.items():
        if v > reqs.get(name, 0):
            reqs[name] = v
    _add(reqs, spec.get("overhead"))
    return reqs


def pod_priority(pod: Mapping[str, Any]) -> int:
    """``corev1helpers.PodPriority``: ``spec.priority``, 0 when unset."""
    p = (pod.get("spec") or {}).get("priority")
    return p if type(p) is int else 0


class AffinityTerm:
    """``framework.AffinityTerm``: which pods a pod (anti-)affinity term selects, and the
    topology key it spreads or packs them over."""

    __slots__ = ("namespaces", "selector", "topology_key", "ns_selector")

    def __init__(self, namespaces: frozenset[str], selector: LabelSelector, topology_key: str,
                 ns_selector: LabelSelector) -> None:
        self.namespaces = namespaces
        self.selector = selector
        self.topology_key = topology_key
        self.ns_selector = ns_selector

    @classmethod
    def parse(cls, pod_namespace: str, term: Mapping[str, Any]) -> "AffinityTerm":
        """``newAffinityTerm``; raises :class:`SelectorError` for a bad selector."""
        selector = label_selector_from_dict(term.get("labelSelector"))
        raw_ns = term.get("namespaces") or ()
        ns_sel_raw = term.get("namespaceSelector")
        if not raw_ns and ns_sel_raw is None:
            namespaces = frozenset((pod_namespace,))
        else:
            namespaces = frozenset(raw_ns)
        ns_selector = label_selector_from_dict(ns_sel_raw)
        return cls(namespaces, selector, term.get("topologyKey") or "", ns_selector)

    def matches(self, namespace: str, labels: Mapping[str, str] | None,
                ns_labels: Mapping[str, str] | None) -> bool:
        """``AffinityTerm.Matches``: the pod is in one of the term's namespaces (listed, or
        selected by the namespace selector) and its labels match the selector."""
        if namespace in self.namespaces or (self.ns_selector is not NOTHING
                                            and self.ns_selector.matches(ns_labels)):
            return self.selector.matches(labels)
        return False

    def __repr__(self) -> str:
        return (f"AffinityTerm(ns={sorted(self.namespaces)}, selector={self.selector!s}, "
                f"key={self.topology_key!r})")


def _parse_terms(namespace: str, terms: Iterable[Any] | None) -> list[AffinityTerm]:
    return [AffinityTerm.parse(namespace, t) for t in terms or () if isinstance(t, Mapping)]


def _parse_weighted(namespace: str, terms: Iterable[Any] | None
                    ) -> list[tuple[AffinityTerm, int]]:
    out = []
    for t in terms or ():
        if isinstance(t, Mapping):
            out.append((AffinityTerm.parse(namespace, t.get("podAffinityTerm") or {}),
                        int(t.get("weight") or 0)))
    return out


class PodInfo:
    """A pod as the scheduler sees it (``framework.PodInfo`` plus the pod's resource
    requests, host ports and tolerations), computed once per pod object."""

    __slots__ = ("pod", "uid", "namespace", "name", "key", "labels", "priority", "node_name",
                 "cpu", "mem", "eph", "scalars", "nz_cpu", "nz_mem", "host_ports",
                 "tolerations", "has_affinity", "has_required_anti_affinity", "affinity",
                 "claims", "deleting", "_terms", "parse_error", "gates")

    def __init__(self, pod: Mapping[str, Any]) -> None:
        self.set_pod(pod)

    def set_pod(self, pod: Mapping[str, Any]) -> None:
        meta = pod["metadata"]
        spec = pod.get("spec") or {}
        self.pod = pod
        self.uid = meta.get("uid") or ""
        self.namespace = meta.get("namespace") or ""
        self.name = meta["name"]
        self.key = (self.namespace, self.name)
        self.labels = meta.get("labels") or {}
        self.priority = pod_priority(pod)
        self.node_name = spec.get("nodeName") or ""
        self.deleting = meta.get("deletionTimestamp") is not None
        self.gates = bool(spec.get("schedulingGates"))
        reqs = pod_requests(spec)
        self.cpu = reqs.pop("cpu", 0)
        self.mem = reqs.pop("memory", 0)
        self.eph = reqs.pop("ephemeral-storage", 0)
        reqs.pop("pods", None)
        scalars = {k: v for k, v in reqs.items() if is_scalar_resource(k)}
        self.scalars = scalars or None
        self.nz_cpu, self.nz_mem = non_zero_requests(spec, self.cpu, self.mem)
        ports = []
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or ():
                if key == "initContainers" and c.get("restartPolicy") != "Always":
                    continue
                for p in c.get("ports") or ():
                    hp = p.get("hostPort") or 0
                    if hp > 0:
                        ports.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP",
                                      hp))
        self.host_ports = tuple(ports)
        self.tolerations = parse_tolerations(spec.get("tolerations"))
        aff = spec.get("affinity") or {}
        self.affinity = aff
        pa, paa = aff.get("podAffinity"), aff.get("podAntiAffinity")
        self.has_affinity = pa is not None or paa is not None
        self.has_required_anti_affinity = bool(
            paa and paa.get("requiredDuringSchedulingIgnoredDuringExecution"))
        claims = []
        for v in spec.get("volumes") or ():
            pvc = v.get("persistentVolumeClaim")
            if pvc is not None:
                claims.append(pvc.get("claimName") or "")
            elif v.get("ephemeral") is not None:
                claims.append(f"{self.name}-{v.get('name', '')}")
        self.claims = tuple(claims)
        self._terms: tuple | None = None
        self.parse_error: str | None = None

    def _parse(self) -> tuple:
        terms = self._terms
        if terms is None:
            aff = self.affinity
            pa = aff.get("podAffinity") or {}
            paa = aff.get("podAntiAffinity") or {}
            ns = self.namespace
            try:
                terms = (
                    _parse_terms(ns, pa.get("requiredDuringSchedulingIgnoredDuringExecution")),
                    _parse_terms(ns, paa.get("requiredDuringSchedulingIgnoredDuringExecution")),
                    _parse_weighted(ns, pa.get("preferredDuringSchedulingIgnoredDuringExecution")),
                    _parse_weighted(ns, paa.get("preferredDuringSchedulingIgnoredDuringExecution")),
                )
            except SelectorError as exc:
                self.parse_error = str(exc)
                terms = ([], [], [], [])
            self._terms = terms
        return terms

    @property
    def required_affinity_terms(self) -> list[AffinityTerm]:
        return self._parse()[0] if self.has_affinity else []

    @property
    def required_anti_affinity_terms(self) -> list[AffinityTerm]:
        return self._parse()[1] if self.has_affinity else []

    @property
    def preferred_affinity_terms(self) -> list[tuple[AffinityTerm, int]]:
        return self._parse()[2] if self.has_affinity else []

    @property
    def preferred_anti_affinity_terms(self) -> list[tuple[AffinityTerm, int]]:
        return self._parse()[3] if self.has_affinity else []

    def same_shape(self, pod: Mapping[str, Any]) -> bool:
        """Whether ``pod`` (a later version of this pod) has the same spec (``nodeName``
        aside), labels and deletion state, so that only the object reference needs
        replacing (the common case: the pod was bound, or its status changed)."""
        old = self.pod
        om, nm = old["metadata"], pod["metadata"]
        if (nm.get("deletionTimestamp") is None) != (not self.deleting):
            return False
        ol, nl = om.get("labels"), nm.get("labels")
        if ol is not nl and (ol or {}) != (nl or {}):
            return False
        os_, ns_ = old.get("spec") or {}, pod.get("spec") or {}
        if os_ is ns_:
            return True
        if os_.get("nodeName", _MISSING) != ns_.get("nodeName", _MISSING):
            # compare all but nodeName (the binding sets it): shallow copies without it
            os_ = dict(os_)
            os_.pop("nodeName", None)
            ns_ = dict(ns_)
            ns_.pop("nodeName", None)
        # dict equality compares values by identity first, then ==, as a key-by-key loop
        return os_ == ns_

    def __repr__(self) -> str:
        return f"<PodInfo {self.namespace}/{self.name}>"


def non_zero_requests(spec: Mapping[str, Any], cpu: int, mem: int) -> tuple[int, int]:
    """Scoring's cpu and memory requests (``pod_requests(spec, non_missing=True)``) of a pod
    whose real ones are ``cpu`` and ``mem``. Without init containers a sum over the
    containers (and the overhead), so they are the real ones plus the default for each
    container that leaves cpu or memory out; with init containers (a running maximum) they
    are computed in full when some container leaves one out."""
    if spec.get("initContainers"):
        if not _needs_non_zero(spec):
            return cpu, mem
        nz = pod_requests(spec, non_missing=True)
        return nz.get("cpu", 0), nz.get("memory", 0)
    no_cpu = no_mem = 0
    for c in spec.get("containers") or ():
        r = (c.get("resources") or {}).get("requests") or _NO_REQUESTS
        if "cpu" not in r:
            no_cpu += 1
        if "memory" not in r:
            no_mem += 1
    return cpu + no_cpu * DEFAULT_MILLI_CPU_REQUEST, mem + no_mem * DEFAULT_MEMORY_REQUEST


_NO_REQUESTS: Mapping[str, Any] = {}


def _needs_non_zero(spec: Mapping[str, Any]) -> bool:
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or ():
            r = (c.get("resources") or {}).get("requests") or {}
            if "cpu" not in r or "memory" not in r:
                return True
    return False


class NodeJournal(list):
    """The NodeInfos of one cache in the order they changed (one entry per change), for
    memos that keep per-node values across scheduling cycles: a memo remembers the
    absolute position it has seen up to (``base + len``) and re-reads only the nodes
    logged after it. The cache drops old entries now and then; ``base`` counts them, so a
    memo older than that can tell and recompute everything."""

    __slots__ = ("base",)
    LIMIT = 4096

    def __init__(self) -> None:
        super().__init__()
        self.base = 0

    @property
    def end(self) -> int:
        return self.base + len(self)

    def trim(self) -> None:
        self.base += len(self)
        self.clear()

    def note(self, ni: "NodeInfo") -> None:
        """Log a change of ``ni``; past ``LIMIT`` entries the log starts afresh (memos
        older than that recompute in full)."""
        if len(self) >= self.LIMIT:
            self.trim()
        self.append(ni)


class NodeInfo:
    """``framework.NodeInfo``: a node, the pods on it (assumed ones included) and their
    aggregate: requested resources (real and non-zero), used host ports, claim references,
    the pods with (anti-)affinity terms.

    ``gated`` is true when a node-gate filter (NodeUnschedulable, TaintToleration) could
    reject a pod there: the node is unschedulable or has NoSchedule/NoExecute taints.
    ``free_cpu``/``free_mem``/``free_pods`` are allocatable minus requested, kept current so
    that the fit check of a scheduling cycle is three comparisons.
    """

    __slots__ = ("name", "node", "labels", "taints", "hard_taints", "prefer_taints",
                 "unschedulable", "gated", "zone", "alloc_cpu", "alloc_mem", "alloc_eph",
                 "alloc_pods", "alloc_scalars", "req_cpu", "req_mem", "req_eph", "req_scalars",
                 "nz_cpu", "nz_mem", "free_cpu", "free_mem", "free_pods", "pods",
                 "pods_with_affinity", "pods_with_required_anti_affinity", "used_ports",
                 "pvc_refs", "generation", "score_key", "score_val", "journal")

    def __init__(self, node: Mapping[str, Any] | None = None, name: str = "") -> None:
        self.pods: dict[str, PodInfo] = {}
        self.pods_with_affinity: dict[str, PodInfo] = {}
        self.pods_with_required_anti_affinity: dict[str, PodInfo] = {}
        self.used_ports: dict[str, dict[tuple[str, int], int]] = {}
        self.pvc_refs: dict[str, int] = {}
        self.req_cpu = self.req_mem = self.req_eph = 0
        self.nz_cpu = self.nz_mem = 0
        self.req_scalars: dict[str, int] = {}
        self.generation = 0
        # the cache's NodeJournal this node reports its changes to (None: not in a cache)
        self.journal: NodeJournal | None = None
        self.score_key: Any = None      # memo of the fused resource score (runtime.py)
        self.score_val = 0
        self.node = None
        self.name = name
        self.labels: Mapping[str, str] = {}
        self.taints: tuple = ()
        self.hard_taints: tuple = ()
        self.prefer_taints: tuple = ()
        self.unschedulable = False
        self.gated = False
        self.zone = ""
        self.alloc_cpu = self.alloc_mem = self.alloc_eph = self.alloc_pods = 0
        self.alloc_scalars: dict[str, int] = {}
        if node is not None:
            self.set_node(node)
        else:
            self._refresh()

    # -- the node ------------------------------------------------------------------------

    def set_node(self, node: Mapping[str, Any]) -> None:
        meta = node["metadata"]
        spec = node.get("spec") or {}
        self.node = node
        self.name = meta["name"]
        self.labels = meta.get("labels") or {}
        self.taints = parse_taints(spec.get("taints"))
        self.hard_taints = tuple(t for t in self.taints if t[2] in (NO_SCHEDULE, NO_EXECUTE))
        self.prefer_taints = tuple(t for t in self.taints if t[2] == PREFER_NO_SCHEDULE)
        self.unschedulable = bool(spec.get("unschedulable"))
        self.gated = self.unschedulable or bool(self.hard_taints)
        self.zone = zone_key(self.labels)
        alloc = (node.get("status") or {}).get("allocatable") or {}
        self.alloc_cpu = self.alloc_mem = self.alloc_eph = self.alloc_pods = 0
        scalars: dict[str, int] = {}
        for rname, q in alloc.items():
            if rname == "cpu":
                self.alloc_cpu = cpu_milli(q)
            elif rname == "memory":
                self.alloc_mem = quantity_value(q)
            elif rname == "ephemeral-storage":
                self.alloc_eph = quantity_value(q)
            elif rname == "pods":
                self.alloc_pods = quantity_value(q)
            elif is_scalar_resource(rname):
                scalars[rname] = quantity_value(q)
        self.alloc_scalars = scalars
        self._refresh()

    def _refresh(self) -> None:
        self.free_cpu = self.alloc_cpu - self.req_cpu
        self.free_mem = self.alloc_mem - self.req_mem
        self.free_pods = self.alloc_pods - len(self.pods)
        self.generation += 1
        self.score_key = None
        if self.journal is not None:
            self.journal.note(self)

    # -- pods ----------------------------------------------------------------------------

    def add_pod(self, pi: PodInfo) -> None:
        """``NodeInfo.AddPodInfo``."""
        self.pods[pi.uid] = pi
        if pi.has_affinity:
            self.pods_with_affinity[pi.uid] = pi
            if pi.has_required_anti_affinity:
                self.pods_with_required_anti_affinity[pi.uid] = pi
        self._account(pi, 1)

    def remove_pod(self, uid: str) -> PodInfo | None:
        """``NodeInfo.RemovePod``; returns the PodInfo removed (None if absent)."""
        pi = self.pods.pop(uid, None)
        if pi is None:
            return None
        self.pods_with_affinity.pop(uid, None)
        self.pods_with_required_anti_affinity.pop(uid, None)
        self._account(pi, -1)
        return pi

    def _account(self, pi: PodInfo, sign: int) -> None:
        self.req_cpu += sign * pi.cpu
        self.req_mem += sign * pi.mem
        self.req_eph += sign * pi.eph
        self.nz_cpu += sign * pi.nz_cpu
        self.nz_mem += sign * pi.nz_mem
        if pi.scalars:
            rs = self.req_scalars
            for k, v in pi.scalars.items():
                rs[k] = rs.get(k, 0) + sign * v
        if pi.host_ports:
            used = self.used_ports
            for ip, proto, port in pi.host_ports:
                by_ip = used.setdefault(ip, {})
                n = by_ip.get((proto, port), 0) + sign
                if n > 0:
                    by_ip[(proto, port)] = n
                else:
                    by_ip.pop((proto, port), None)
                    if not by_ip:
                        del used[ip]
        if pi.claims:
            refs = self.pvc_refs
            for claim in pi.claims:
                k = f"{pi.namespace}/{claim}"
                n = refs.get(k, 0) + sign
                if n > 0:
                    refs[k] = n
                else:
                    refs.pop(k, None)
        self.free_cpu = self.alloc_cpu - self.req_cpu
        self.free_mem = self.alloc_mem - self.req_mem
        self.free_pods = self.alloc_pods - len(self.pods)
        self.generation += 1
        self.score_key = None
        if self.journal is not None:
            self.journal.note(self)

    def port_conflict(self, ip: str, proto: str, port: int) -> bool:
        """``HostPortInfo.CheckConflict``: 0.0.0.0 conflicts with every address."""
        if port <= 0:
            return False
        used = self.used_ports
        if not used:
            return False
        pp = (proto, port)
        if ip == "0.0.0.0":
            for m in used.values():
                if pp in m:
                    return True
            return False
        for key in ("0.0.0.0", ip):
            m = used.get(key)
            if m is not None and pp in m:
                return True
        return False

    def clone(self) -> "NodeInfo":
        """A copy whose pod set can change without touching this one (``Snapshot``)."""
        c = NodeInfo.__new__(NodeInfo)
        for slot in NodeInfo.__slots__:
            setattr(c, slot, getattr(self, slot))
        c.pods = dict(self.pods)
        c.pods_with_affinity = dict(self.pods_with_affinity)
        c.pods_with_required_anti_affinity = dict(self.pods_with_required_anti_affinity)
        c.used_ports = {ip: dict(m) for ip, m in self.used_ports.items()}
        c.pvc_refs = dict(self.pvc_refs)
        c.req_scalars = dict(self.req_scalars)
        c.journal = None        # a clone's changes are its own
        return c

    def __repr__(self) -> str:
        return (f"<NodeInfo {self.name}: {len(self.pods)} pods, cpu {self.req_cpu}/"
                f"{self.alloc_cpu}m, memory {self.req_mem}/{self.alloc_mem}>")


class FitError(Exception):
    """``framework.FitError``: no node fits the pod. ``str()`` is upstream's message::

        0/<N> nodes are available: <PreFilterMsg>. <count> <reason>, .... <PostFilterMsg>

    (the filter histogram only when PreFilter passed; reasons counted once per node they
    rejected, sorted as strings).
    """

    def __init__(self, pod: PodInfo, num_all_nodes: int, statuses: NodeToStatus,
                 pre_filter_msg: str = "", post_filter_msg: str = "",
                 unschedulable_plugins: set[str] | None = None) -> None:
        super().__init__()
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.statuses = statuses
        self.pre_filter_msg = pre_filter_msg
        self.post_filter_msg = post_filter_msg
        self.unschedulable_plugins = unschedulable_plugins if unschedulable_plugins is not None else set()

    def histogram(self) -> dict[str, int]:
        reasons: dict[str, int] = {}
        for st in self.statuses.statuses.values():
            for r in st.reasons:
                reasons[r] = reasons.get(r, 0) + 1
        absent = self.num_all_nodes - len(self.statuses)
        if absent > 0:
            for r in self.statuses.absent.reasons:
                reasons[r] = reasons.get(r, 0) + absent
        return reasons

    def __str__(self) -> str:
        msg = f"0/{self.num_all_nodes} nodes are available:"
        if self.pre_filter_msg:
            msg += f" {self.pre_filter_msg}."
        else:
            parts = sorted(f"{n} {r}" for r, n in self.histogram().items())
            if parts:
                msg += f" {', '.join(parts)}."
        if self.post_filter_msg:
            msg += f" {self.post_filter_msg}"
        return msg
