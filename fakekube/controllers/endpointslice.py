"""The EndpointSlice controller: one set of EndpointSlices per Service with a selector.

Follows Kubernetes v1.31:

- ``kubernetes/kubernetes:pkg/controller/endpointslice/endpointslice_controller.go``
  (``syncService``: Services without a selector, ExternalName Services and deleted Services
  get nothing; slices being deleted are ignored; ``maxRetries`` 15);
- ``kubernetes/kubernetes:staging/src/k8s.io/endpointslice/reconciler.go`` (``Reconcile``,
  ``reconcileByAddressType``, ``reconcileByPortMapping``, the placeholder slice, ``finalize``
  turning a create plus a delete into an update);
- ``kubernetes/kubernetes:staging/src/k8s.io/endpointslice/utils.go`` (``podToEndpoint``,
  ``getEndpointPorts``, ``FindPort``, ``newEndpointSlice``, ``setEndpointSliceLabels``,
  ``getSliceToFill``, ``getAddressTypesForService``);
- ``kubernetes/kubernetes:staging/src/k8s.io/endpointslice/util/controller_utils.go``
  (``ShouldPodBeInEndpoints``, ``ShouldSetHostname``, ``podEndpointsChanged``,
  ``EndpointsEqualBeyondHash``) and ``util/trigger_time_tracker.go`` (the
  ``endpoints.kubernetes.io/last-change-trigger-time`` annotation).

The pure helpers at the top (eligibility, hostname rule, port resolution, the trigger-time
tracker) are shared with the legacy Endpoints controller, as upstream shares
``k8s.io/endpointslice/util``.

Determinism: upstream fills slices from Go maps (random order); here desired endpoints are
taken in pod-name order and existing slices in name order. An empty list is stored as
``null`` (``"endpoints": None``, ``"ports": None``), as the real API returns it after the
round trip through etcd (kubernetes/kubernetes#135968).
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, NamedTuple

from .. import errors
from ..api.objects import deep_copy, parse_rfc3339, rfc3339
from ..api.store import ADDED, DELETED, WatchEvent
from ..runtime import Controller, Result

__all__ = ["EndpointSliceController", "CONTROLLER_NAME", "should_pod_be_in_endpoints",
           "should_set_hostname", "find_port", "is_pod_ready", "TriggerTimeTracker",
           "services_for_pod_change", "pod_change", "queue_pod_change", "SelectorIndex"]

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
LABEL_HEADLESS = "service.kubernetes.io/headless"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
ZONE_LABEL = "topology.kubernetes.io/zone"
MAX_RETRIES = 15
DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100
_RESERVED = (LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS)


# --------------------------------------------------------------------------------------------
# Shared helpers (k8s.io/endpointslice/util)


def is_pod_ready(pod: dict) -> bool:
    """The Ready condition is True."""
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def should_pod_be_in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """``ShouldPodBeInEndpoints``: not terminal, has an IP, and (unless
    ``include_terminating``) not being deleted."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    if not status.get("podIP") and not status.get("podIPs"):
        return False
    if not include_terminating and pod["metadata"].get("deletionTimestamp"):
        return False
    return True


def should_set_hostname(pod: dict, svc: dict) -> bool:
    """``ShouldSetHostname``: the pod names a hostname and this Service as its subdomain."""
    spec = pod.get("spec") or {}
    return (bool(spec.get("hostname")) and spec.get("subdomain") == svc["metadata"]["name"]
            and pod["metadata"].get("namespace") == svc["metadata"].get("namespace"))


def find_port(pod: dict, service_port: dict) -> int | None:
    """``FindPort``: a numeric targetPort as is; a named one looked up among the container
    ports (and restartable init containers') with the Service port's protocol."""
    target = service_port.get("targetPort")
    if target is None:
        target = service_port.get("port")
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    proto = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    for c in spec.get("containers") or ():
        for p in c.get("ports") or ():
            if p.get("name") == target and (p.get("protocol") or "TCP") == proto:
                return p.get("containerPort")
    for c in spec.get("initContainers") or ():
        if c.get("restartPolicy") != "Always":
            continue
        for p in c.get("ports") or ():
            if p.get("name") == target and (p.get("protocol") or "TCP") == proto:
                return p.get("containerPort")
    return None


def _pod_ips(pod: dict) -> list[str]:
    status = pod.get("status") or {}
    ips = [x.get("ip") for x in status.get("podIPs") or () if x.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    return ips


def _selects(selector: dict, labels: dict | None) -> bool:
    if not labels:
        return False
    for k, v in selector.items():
        if labels.get(k) != v:
            return False
    return True


_TIMES: dict[str, float] = {}


def _timestamp(text: str) -> float:
    """``parse_rfc3339``, remembered: the same few timestamps recur on every sync."""
    got = _TIMES.get(text)
    if got is None:
        if len(_TIMES) > 50_000:
            _TIMES.clear()
        got = _TIMES[text] = parse_rfc3339(text)
    return got


def _ready_time(pod: dict) -> float | None:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            t = c.get("lastTransitionTime")
            return _timestamp(t) if t else None
    return None


def _note_ready(seen: dict[str, tuple[dict, float | None]], name: str, pod: dict,
                prev: tuple[dict, float | None] | None, earliest: float | None
                ) -> float | None:
    """Record a changed pod's Ready time in ``seen``; a pod that became Ready after its last
    known Ready time (or for the first time) is a change to count in ``earliest``."""
    t = _ready_time(pod)
    seen[name] = (pod, t)
    if t is None:
        return earliest
    before = prev[1] if prev is not None else None
    if before is None or t > before:
        return t if earliest is None else min(earliest, t)
    return earliest


class TriggerTimeTracker:
    """``TriggerTimeTracker``: the time of the earliest change (a pod's Ready transition, or
    the Service's creation) not yet reflected in a Service's endpoints, or None.

    A pod object seen at the last sync (stored objects are replaced, never changed) is known
    unchanged without looking at it again."""

    def __init__(self) -> None:
        self._state: dict[tuple[str, str], tuple[dict[str, tuple], float]] = {}

    def compute(self, key: tuple[str, str], svc: dict, pods: Iterable[dict]) -> float | None:
        known = self._state.get(key)
        last_pods, last_svc = known if known is not None else ({}, None)
        seen: dict[str, tuple[dict, float | None]] = {}
        earliest: float | None = None
        for pod in pods:
            name = pod["metadata"]["name"]
            prev = last_pods.get(name)
            if prev is not None and prev[0] is pod:
                seen[name] = prev
                continue
            earliest = _note_ready(seen, name, pod, prev, earliest)
        earliest, svc_time = self._finish(key, seen, svc, last_svc, earliest)
        if known is None:
            return svc_time
        return earliest

    def _finish(self, key: tuple[str, str], seen: dict, svc: dict, last_svc: float | None,
                earliest: float | None) -> tuple[float | None, float]:
        """The Service's own creation counts as a change the first time it is seen (or
        when it was re-created); remembers the state for ``key``."""
        created = svc["metadata"].get("creationTimestamp")
        svc_time = _timestamp(created) if created else 0.0
        if last_svc is None or svc_time > last_svc:
            earliest = svc_time if earliest is None else min(earliest, svc_time)
        self._state[key] = (seen, svc_time)
        return earliest, svc_time

    def update(self, key: tuple[str, str], svc: dict,
               changed: dict[str, dict | None]) -> float | None:
        """What :meth:`compute` returns, given only the pods that may differ from the last
        call for ``key`` (``changed``: pod name -> the pod if it is still selected, else
        None); every other selected pod must be the very object seen last time. Falls back
        to nothing: the caller guarantees a previous :meth:`compute` for ``key``."""
        seen, last_svc = self._state[key]
        earliest: float | None = None
        for name, pod in changed.items():
            prev = seen.get(name)
            if pod is None:
                if prev is not None:
                    del seen[name]
                continue
            if prev is not None and prev[0] is pod:
                continue
            earliest = _note_ready(seen, name, pod, prev, earliest)
        return self._finish(key, seen, svc, last_svc, earliest)[0]

    def knows(self, key: tuple[str, str]) -> bool:
        return key in self._state

    def forget(self, key: tuple[str, str]) -> None:
        self._state.pop(key, None)


def _pod_changed(old: dict, new: dict) -> tuple[bool, bool]:
    """``podEndpointsChanged``: (endpoints may change, Service membership may change)."""
    om, nm = old["metadata"], new["metadata"]
    ospec, nspec = old.get("spec") or {}, new.get("spec") or {}
    labels_changed = (om.get("labels") != nm.get("labels")
                      or ospec.get("hostname") != nspec.get("hostname")
                      or ospec.get("subdomain") != nspec.get("subdomain"))
    if om.get("deletionTimestamp") != nm.get("deletionTimestamp"):
        return True, labels_changed
    if is_pod_ready(old) != is_pod_ready(new):
        return True, labels_changed
    if _pod_ips(old) != _pod_ips(new):
        return True, labels_changed
    ost, nst = old.get("status") or {}, new.get("status") or {}
    if ost.get("phase") != nst.get("phase") or ospec.get("nodeName") != nspec.get("nodeName"):
        return True, labels_changed
    return False, labels_changed


class SelectorIndex:
    """The selectors of the Services with one, indexed by one of their terms, so that the
    Services a pod's labels select are found without scanning every Service."""

    def __init__(self) -> None:
        self._selectors: dict[tuple[str, str], tuple[dict, tuple[str, str]]] = {}
        self._by_term: dict[tuple[str, str, str], set[str]] = {}

    def set(self, svc: dict | None, gone: dict | None = None) -> None:
        """Record a Service's selector (None or ``gone``: forget it). ExternalName Services
        and Services without a selector are not indexed: they get no endpoints."""
        obj = svc if svc is not None else gone
        if obj is None:
            return
        m = obj["metadata"]
        key = (m["namespace"], m["name"])
        prev = self._selectors.pop(key, None)
        if prev is not None:
            names = self._by_term.get((key[0], *prev[1]))
            if names is not None:
                names.discard(key[1])
                if not names:
                    del self._by_term[(key[0], *prev[1])]
        if svc is None:
            return
        spec = svc.get("spec") or {}
        sel = spec.get("selector")
        if not sel or spec.get("type") == "ExternalName":
            return
        term = min(sel.items())
        self._selectors[key] = (sel, term)
        self._by_term.setdefault((key[0], *term), set()).add(key[1])

    def matching(self, ns: str, labels: dict | None) -> set[str]:
        """Names of the Services of ``ns`` whose selector matches ``labels``."""
        out: set[str] = set()
        if not labels:
            return out
        by_term, selectors = self._by_term, self._selectors
        for k, v in labels.items():
            names = by_term.get((ns, k, v))
            if names:
                for n in names:
                    if _selects(selectors[(ns, n)][0], labels):
                        out.add(n)
        return out


def services_for_pod_change(index: SelectorIndex, ev: WatchEvent) -> list[tuple[str, str]]:
    """``GetServicesToUpdateOnPodChange``: the keys of the Services whose endpoints a pod
    event may change."""
    return pod_change(index, ev)[0]


def pod_change(index: SelectorIndex, ev: WatchEvent
               ) -> tuple[list[tuple[str, str]], set[str]]:
    """A pod event seen from the Services: the keys :func:`services_for_pod_change` gives
    (the syncs upstream's handler queues), and the names of every Service that selects the
    pod before or after the event, whether or not it matters to them (the controllers'
    incremental state notes the pod as changed there)."""
    pod = ev.obj
    meta = pod["metadata"]
    ns = meta.get("namespace", "")
    labels = meta.get("labels")
    now = index.matching(ns, labels)
    if ev.old is None or ev.type == DELETED:
        if ev.old is not None and ev.old["metadata"].get("labels") != labels:
            touched = now | index.matching(ns, ev.old["metadata"].get("labels"))
        else:
            touched = now
        return [(ns, n) for n in sorted(now)], touched
    old_labels = ev.old["metadata"].get("labels")
    before = now if old_labels == labels else index.matching(ns, old_labels)
    if not now and not before:
        return [], now  # no Service selects the pod, before or after
    touched = now | before if before is not now else now
    if ev.old["metadata"].get("resourceVersion") == meta.get("resourceVersion"):
        return [], touched
    changed, labels_changed = _pod_changed(ev.old, pod)
    if not changed and not labels_changed:
        return [], touched
    if not labels_changed:
        return [(ns, n) for n in sorted(now)], touched
    keys = (now | before) if changed else (now ^ before)
    return [(ns, n) for n in sorted(keys)], touched


def _by_port_mapping(existing: list[dict], svc: dict, facts: "_SliceFacts"
                     ) -> tuple[dict[tuple, list[dict]], list[dict]]:
    """The Service's existing slices grouped by port mapping, and those it does not own
    (to delete)."""
    by_ports: dict[tuple, list[dict]] = {}
    foreign: list[dict] = []
    for sl in existing:
        f = facts(sl, svc)
        if f.owned:
            by_ports.setdefault(f.port_key, []).append(sl)
        else:
            foreign.append(sl)
    return by_ports, foreign


def queue_pod_change(index: SelectorIndex, states: dict, queue, ev: WatchEvent) -> None:
    """A pod event for a controller with incremental per-Service state (``states``: key ->
    an object with a ``dirty`` set of pod names): note the pod in the state of every
    Service that selects it before or after, and queue the syncs upstream queues."""
    keys, touched = pod_change(index, ev)
    if touched:
        meta = ev.obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        for svc in touched:
            state = states.get((ns, svc))
            if state is not None:
                state.dirty.add(name)
    for key in keys:
        queue.add(key)


def _address_types(svc: dict) -> list[str]:
    """``getAddressTypesForService``."""
    spec = svc.get("spec") or {}
    out: list[str] = []
    for fam in spec.get("ipFamilies") or ():
        if fam in ("IPv4", "IPv6") and fam not in out:
            out.append(fam)
    if out:
        return out
    cip = spec.get("clusterIP") or ""
    if cip and cip != "None":
        return ["IPv6" if ":" in cip else "IPv4"]
    return ["IPv4", "IPv6"]


def _is_service_ip_set(svc: dict) -> bool:
    cip = (svc.get("spec") or {}).get("clusterIP") or ""
    return cip not in ("", "None")


# --------------------------------------------------------------------------------------------
# Building endpoints and slices (utils.go)


def endpoint_ports(svc: dict, pod: dict) -> list[dict]:
    """``getEndpointPorts``: each Service port with its targetPort resolved for this pod;
    ports the pod does not have are left out."""
    spec = svc.get("spec") or {}
    ports = spec.get("ports") or ()
    out: list[dict] = []
    if not ports:
        return out
    for sp in ports:
        number = find_port(pod, sp)
        if number is None:
            continue
        ep = {"name": sp.get("name") or "", "protocol": sp.get("protocol") or "TCP",
              "port": number}
        if sp.get("appProtocol") is not None:
            ep["appProtocol"] = sp["appProtocol"]
        out.append(ep)
    return out


def _port_key(ports: Iterable[dict] | None) -> tuple:
    return tuple(sorted((p.get("name") or "", p.get("protocol") or "", p.get("port") or 0,
                         p.get("appProtocol") or "") for p in ports or ()))


def pod_to_endpoint(pod: dict, node: dict | None, svc: dict, address_type: str) -> dict:
    """``podToEndpoint``: addresses of the family, conditions, hostname, node, zone and a
    reference to the pod."""
    serving = is_pod_ready(pod)
    meta = pod["metadata"]
    terminating = bool(meta.get("deletionTimestamp"))
    ready = bool((svc.get("spec") or {}).get("publishNotReadyAddresses")) or (
        serving and not terminating)
    want6 = address_type == "IPv6"
    addresses = [ip for ip in _pod_ips(pod) if (":" in ip) == want6]
    ep: dict[str, Any] = {"addresses": addresses,
                          "conditions": {"ready": ready, "serving": serving,
                                         "terminating": terminating}}
    if should_set_hostname(pod, svc):
        ep["hostname"] = pod["spec"]["hostname"]
    ep["targetRef"] = {"kind": "Pod", "namespace": meta.get("namespace", ""),
                       "name": meta["name"], "uid": meta.get("uid", "")}
    node_name = (pod.get("spec") or {}).get("nodeName")
    if node_name:
        ep["nodeName"] = node_name
    zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(ZONE_LABEL)
    if zone:
        ep["zone"] = zone
    return ep


def _endpoint_hash(ep: dict) -> tuple:
    """What identifies an endpoint in a slice (``endpointHash``): its addresses, hostname
    and the pod it stands for."""
    ref = ep.get("targetRef") or {}
    return (tuple(ep.get("addresses") or ()), ep.get("hostname") or "",
            ref.get("namespace") or "", ref.get("name") or "")


def _equal_beyond_hash(a: dict, b: dict) -> bool:
    """``EndpointsEqualBeyondHash``: node, zone, conditions and target (ignoring its
    resourceVersion)."""
    if a.get("nodeName") != b.get("nodeName") or a.get("zone") != b.get("zone"):
        return False
    ca, cb = a.get("conditions") or {}, b.get("conditions") or {}
    for k in ("ready", "serving", "terminating"):
        if ca.get(k) != cb.get(k):
            return False
    ra, rb = dict(a.get("targetRef") or {}), dict(b.get("targetRef") or {})
    ra.pop("resourceVersion", None)
    rb.pop("resourceVersion", None)
    return ra == rb


def slice_labels(existing: dict | None, svc: dict) -> tuple[dict, bool]:
    """``setEndpointSliceLabels``: the Service's labels plus the reserved ones; the flag
    says whether the non-reserved labels differ from the slice's."""
    ep_labels = {k: v for k, v in ((existing or {}).get("metadata", {}).get("labels")
                                   or {}).items() if k not in _RESERVED}
    svc_labels = {k: v for k, v in (svc["metadata"].get("labels") or {}).items()
                  if k not in _RESERVED}
    changed = ep_labels != svc_labels
    if not _is_service_ip_set(svc):
        svc_labels[LABEL_HEADLESS] = ""
    svc_labels[LABEL_SERVICE_NAME] = svc["metadata"]["name"]
    svc_labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
    return svc_labels, changed


def new_slice(svc: dict, ports: list[dict], address_type: str) -> dict:
    """``newEndpointSlice``: an unnamed slice (``generateName: <service>-``) owned by the
    Service."""
    m = svc["metadata"]
    labels, _ = slice_labels(None, svc)
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"generateName": f"{m['name']}-", "namespace": m.get("namespace"),
                         "labels": labels,
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Service",
                                              "name": m["name"], "uid": m.get("uid", ""),
                                              "controller": True,
                                              "blockOwnerDeletion": True}]},
            "addressType": address_type, "endpoints": [], "ports": [dict(p) for p in ports]}


def _owned_by(sl: dict, svc: dict) -> bool:
    uid = svc["metadata"].get("uid")
    return any(r.get("uid") == uid and r.get("kind") == "Service" and r.get("apiVersion") == "v1"
               for r in sl["metadata"].get("ownerReferences") or ())


def _is_placeholder_of(sl: dict, placeholder: dict) -> bool:
    """``placeholderSliceCompare``: namespace, labels, address type, no endpoints, no
    ports."""
    return (sl["metadata"].get("namespace") == placeholder["metadata"].get("namespace")
            and (sl["metadata"].get("labels") or {}) == placeholder["metadata"]["labels"]
            and sl.get("addressType") == placeholder["addressType"]
            and not sl.get("endpoints") and not sl.get("ports"))


class _Facts(NamedTuple):
    owned: bool          # _owned_by the Service
    port_key: tuple      # _port_key of its ports
    labels: dict         # slice_labels: the labels it should have (shared: copy to write)
    labels_changed: bool


class _SliceFacts:
    """What the reconciler reads of a stored slice for a Service (ownership, port key,
    labels), remembered per pair of objects: stored objects are never changed, and a
    Service's syncs see the same slice objects until one is written. One entry per slice
    (by namespace and name), dropped when the slice is deleted."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str], tuple[dict, dict, _Facts]] = {}

    def __call__(self, sl: dict, svc: dict) -> _Facts:
        m = sl["metadata"]
        key = (m.get("namespace"), m.get("name"))
        got = self._memo.get(key)
        if got is not None and got[0] is sl and got[1] is svc:
            return got[2]
        labels, changed = slice_labels(sl, svc)
        facts = _Facts(_owned_by(sl, svc), _port_key(sl.get("ports")), labels, changed)
        self._memo[key] = (sl, svc, facts)
        return facts

    def forget(self, sl: dict) -> None:
        m = sl["metadata"]
        self._memo.pop((m.get("namespace"), m.get("name")), None)


# --------------------------------------------------------------------------------------------
# The controller


class _Family:
    """One address type of a Service as its last sync left it (see :class:`_SyncState`)."""

    __slots__ = ("entries", "placed", "holds", "pk_counts")

    def __init__(self, entries: dict[str, tuple]) -> None:
        self.entries = entries                 # pod name -> entry (``_endpoint_of``)
        self.placed: dict[str, str] = {}       # pod name -> the slice holding its endpoint
        self.holds: dict[str, set[str]] = {}   # slice name -> the pods placed in it
        self.pk_counts: dict[tuple, int] = {}  # port key -> eligible pods that have it

    def place(self, pname: str, sname: str) -> None:
        self.placed[pname] = sname
        self.holds.setdefault(sname, set()).add(pname)

    def unplace(self, pname: str) -> None:
        sname = self.placed.pop(pname, None)
        if sname is not None:
            held = self.holds[sname]
            held.discard(pname)
            if not held:
                del self.holds[sname]

    def unplace_slices(self, gone: list[str],
                       keep: dict[str, set[str]] | None = None) -> list[str]:
        """Forget where the endpoints of the slices ``gone`` were, except the pods
        ``keep[slice]`` names (they stay where they are); the pods no longer placed."""
        moved: list[str] = []
        placed = self.placed
        for sname in gone:
            held = self.holds.pop(sname, None)
            if not held:
                continue
            kept = keep.get(sname) if keep else None
            if kept:
                leaving = held - kept
                held -= leaving  # now the kept pods it held
                if held:
                    self.holds[sname] = held
            else:
                leaving = held
            for pname in leaving:
                del placed[pname]
            moved.extend(leaving)
        return moved


class _SyncState:
    """What the last sync of a Service knew, for the next one to redo only what changed.

    ``valid`` holds when that sync ended with every slice of the Service exactly as the
    reconciler wants it: each endpoint in the slices belongs to one selected pod, once, in
    a slice of its port key, equal (beyond hash) to what the pod gives now, and every
    eligible pod's endpoint is in some slice. Then, while the Service object, the stored
    slices (``slices``, compared by identity) and the nodes' zones (``epoch``) stay the
    same, a sync only has to look at the pods noted in ``dirty`` (every pod with an event
    since, selected before or after it) and at the slices that hold their endpoints: the
    full reconciliation would keep every other slice as it is.

    ``quiet`` maps an address type to the port-key counts with which a sync whose changed
    pods neither had nor have an endpoint there (so it touches no slice and places nothing)
    found nothing to write to these very slices: while they stay, such a sync with the same
    counts is known to write nothing again.

    ``slices_rv`` is the slice table's last write when ``slices`` were the Service's
    managed slices: while it is still the last, they still are."""

    __slots__ = ("svc", "epoch", "slices", "slices_rv", "families", "dirty", "valid", "quiet")

    def __init__(self, svc: dict, epoch: int) -> None:
        self.svc = svc
        self.epoch = epoch
        self.slices: dict[str, dict] = {}
        self.slices_rv = -1
        self.families: dict[str, _Family] = {}
        self.dirty: set[str] = set()
        self.valid = False
        self.quiet: dict[str, dict[tuple, int]] = {}


class EndpointSliceController(Controller):
    """Keeps the EndpointSlices of every Service with a selector in line with its pods."""

    name = "endpointslice-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.services = ctx.informer("Service")
        self.pods = ctx.informer("Pod")
        self.nodes = ctx.informer("Node")
        self.slices = ctx.informer("EndpointSlice")
        self.max_per_slice = int(getattr(self.config, "max_endpoints_per_slice",
                                         DEFAULT_MAX_ENDPOINTS_PER_SLICE))
        self.triggers = TriggerTimeTracker()
        self.selectors = SelectorIndex()  # turns pod events into Service keys
        self.slice_facts = _SliceFacts()
        # (namespace, service, address type) -> pod name -> what the pod gave at the last
        # sync: (pod, node, service, eligible, ports, port key, endpoint, endpoint hash)
        self._endpoints: dict[tuple[str, str, str], dict[str, tuple]] = {}
        self._states: dict[tuple[str, str], _SyncState] = {}
        # Bumped when a node appears, goes or changes zone: what endpoints hold of nodes.
        self._node_epoch = 0
        self._writing: tuple[int, tuple[str, str]] | None = None
        for svc in self.services:
            self.selectors.set(svc)
        self.services.table.handlers.append(self._on_service)
        self.pods.table.handlers.append(self._on_pod)
        self.slices.table.handlers.append(self._on_slice)
        self.nodes.table.handlers.append(self._on_node)
        for svc in self.services:
            m = svc["metadata"]
            self.queue.add((m["namespace"], m["name"]))

    # -- events ----------------------------------------------------------------------------

    def _on_service(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            self.selectors.set(None, ev.obj)
        else:
            self.selectors.set(ev.obj)
        m = ev.obj["metadata"]
        self.queue.add((m["namespace"], m["name"]))

    def _on_pod(self, ev: WatchEvent) -> None:
        queue_pod_change(self.selectors, self._states, self.queue, ev)

    def _on_node(self, ev: WatchEvent) -> None:
        # Only a node's existence and zone reach endpoints; nothing is queued, as upstream
        # (the next sync of each Service reads the nodes afresh).
        if ev.type != ADDED and ev.type != DELETED and (
                (ev.old["metadata"].get("labels") or {}).get(ZONE_LABEL)
                == (ev.obj["metadata"].get("labels") or {}).get(ZONE_LABEL)):
            return
        self._node_epoch += 1

    def _on_slice(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            self.slice_facts.forget(ev.obj)
        keys = []
        for obj in (ev.old, ev.obj) if ev.type != ADDED else (ev.obj,):
            if obj is None:
                continue
            labels = obj["metadata"].get("labels") or {}
            svc = labels.get(LABEL_SERVICE_NAME)
            if svc and labels.get(LABEL_MANAGED_BY) == CONTROLLER_NAME:
                keys.append((obj["metadata"]["namespace"], svc))
        writing = self._writing
        for key in keys:
            if writing is not None and writing == (threading.get_ident(), key):
                continue  # our own write: nothing to reconcile
            self.queue.add(key)

    # -- reconcile -------------------------------------------------------------------------

    def reconcile(self, key: tuple[str, str]) -> Result | None:
        try:
            return self._sync(key)
        except errors.ApiError:
            if self.queue.failures(key) >= MAX_RETRIES:
                return None  # handleErr: dropped after maxRetries
            raise

    def _sync(self, key: tuple[str, str]) -> Result | None:
        """``syncService``."""
        ns, name = key
        svc = self.services.get(name, ns)
        spec = (svc.get("spec") or {}) if svc is not None else {}
        selector = spec.get("selector")
        if svc is None or spec.get("type") == "ExternalName" or not selector:
            if svc is None:
                self.triggers.forget(key)
            for family in ("IPv4", "IPv6"):
                self._endpoints.pop((ns, name, family), None)
            self._states.pop(key, None)
            return None
        slices_rv = self.slices.table.last_rv
        state = self._states.get(key)
        if state is not None and state.slices_rv == slices_rv:
            slices = list(state.slices.values())  # nothing written to any slice since
        else:
            slices = self._managed_slices(ns, name)
        if state is not None:
            dirty, state.dirty = state.dirty, set()
            if (state.valid and state.svc is svc and state.epoch == self._node_epoch
                    and len(slices) == len(state.slices)
                    and all(state.slices.get(s["metadata"]["name"]) is s for s in slices)):
                state.valid = False  # until this sync succeeds
                if self._sync_changed(key, svc, state, dirty, slices, slices_rv):
                    return None
        state = self._states[key] = _SyncState(svc, self._node_epoch)
        pods = self._pods_for(ns, selector)
        trigger = self.triggers.compute(key, svc, pods)
        problems: list[str] = []
        supported = _address_types(svc)
        to_delete = [s for s in slices if s.get("addressType") not in supported]
        complete = True
        for address_type in supported:
            mine = [s for s in slices if s.get("addressType") == address_type]
            complete &= self._reconcile_address_type(svc, pods, mine, trigger, address_type,
                                                     problems)
        complete &= self._write(svc, [], [], to_delete, trigger)
        if problems:
            raise errors.InternalError("; ".join(problems))
        if complete:
            self._remember(key, svc, state, supported)
        return None

    def _managed_slices(self, ns: str, name: str) -> list[dict]:
        return [s for s in self.slices.by_label(LABEL_SERVICE_NAME, name, ns)
                if (s["metadata"].get("labels") or {}).get(LABEL_MANAGED_BY) == CONTROLLER_NAME
                and not s["metadata"].get("deletionTimestamp")]

    def _pods_for(self, ns: str, selector: dict) -> list[dict]:
        (k, v), *rest = selector.items()
        pods = self.pods.by_label(k, v, ns)
        if rest:
            pods = [p for p in pods if _selects(selector, p["metadata"].get("labels"))]
        return pods

    def _reconcile_address_type(self, svc: dict, pods: list[dict], existing: list[dict],
                                trigger: float | None, address_type: str,
                                problems: list[str]) -> bool:
        """``reconcileByAddressType``; False if the writes were cut short."""
        spec = svc.get("spec") or {}
        m = svc["metadata"]
        to_create: list[dict] = []
        to_update: list[dict] = []
        existing_by_ports, to_delete = _by_port_mapping(existing, svc, self.slice_facts)
        desired: dict[tuple, dict[tuple, dict]] = {}
        desired_ports: dict[tuple, list[dict]] = {}
        publish = bool(spec.get("publishNotReadyAddresses"))
        cache_key = (m["namespace"], m["name"], address_type)
        before = self._endpoints.get(cache_key, {})
        now: dict[str, tuple] = {}
        nodes = self.nodes
        for pod in pods:
            pname = pod["metadata"]["name"]
            node_name = (pod.get("spec") or {}).get("nodeName") or ""
            node = nodes.get(node_name) if node_name else None
            entry = before.get(pname)
            if entry is None or entry[0] is not pod or entry[1] is not node or entry[2] is not svc:
                entry = self._endpoint_of(pod, node, svc, address_type)
            now[pname] = entry
            if not entry[3]:
                continue
            pk = entry[5]
            group = desired.setdefault(pk, {})
            desired_ports.setdefault(pk, entry[4])
            if node is None and not publish:
                problems.append(f"skipping Pod {pname} for Service "
                                f"{m['namespace']}/{m['name']}: Node {node_name} Not Found")
                continue
            if entry[6] is not None:
                group[entry[7]] = entry[6]
        self._endpoints[cache_key] = now
        for pk, group in desired.items():
            c, u, d = self._reconcile_ports(svc, existing_by_ports.get(pk, []), group,
                                            desired_ports[pk], address_type)
            to_create.extend(c)
            to_update.extend(u)
            to_delete.extend(d)
        for pk, slices in existing_by_ports.items():
            if pk not in desired:
                to_delete.extend(slices)
        self._placeholder(svc, existing, to_create, to_delete, address_type)
        return self._write(svc, to_create, to_update, to_delete, trigger)

    @staticmethod
    def _placeholder(svc: dict, existing: list[dict], to_create: list[dict],
                     to_delete: list[dict], address_type: str) -> None:
        """The placeholder slice: created when every slice goes and none comes; a lone
        placeholder that would be replaced by an equal one stays."""
        if len(existing) == len(to_delete) and not to_create:
            placeholder = new_slice(svc, [], address_type)
            if len(to_delete) == 1 and _is_placeholder_of(to_delete[0], placeholder):
                to_delete.clear()
            else:
                to_create.append(placeholder)

    # -- the incremental sync ----------------------------------------------------------------

    def _remember(self, key: tuple[str, str], svc: dict, state: _SyncState,
                  supported: list[str]) -> None:
        """After a full sync that completed: record what the next sync may build on."""
        ns, name = key
        if svc["metadata"].get("deletionTimestamp"):
            return  # no creates for a Service being deleted: desired endpoints may be unplaced
        state.slices_rv = self.slices.table.last_rv
        slices = self._managed_slices(ns, name)
        state.slices = {s["metadata"]["name"]: s for s in slices}
        for family in supported:
            entries = self._endpoints.get((ns, name, family))
            if entries is None:
                return
            fam = state.families[family] = _Family(entries)
            counts = fam.pk_counts
            for e in entries.values():
                if e[3]:
                    counts[e[5]] = counts.get(e[5], 0) + 1
            for sl in slices:
                if sl.get("addressType") == family and not self._place(fam, sl):
                    return
            for pname, e in entries.items():
                if e[3] and e[6] is not None and pname not in fam.placed:
                    return
        if any(s.get("addressType") not in supported for s in slices):
            return
        state.valid = True

    @staticmethod
    def _place(fam: _Family, sl: dict, endpoints: list[dict] | None = None) -> bool:
        """Note where the endpoints of ``sl`` are; False if one is not an endpoint the
        reconciler would keep there as it is (so the state cannot be built on).
        ``endpoints``: the ones of ``sl`` to look at, when the others are placed there
        already and known good (see :meth:`_kept`); all of them by default."""
        entries, placed = fam.entries, fam.placed
        sname = sl["metadata"]["name"]
        pk = None
        if endpoints is None:
            endpoints = sl.get("endpoints") or ()
        for ep in endpoints:
            ref = ep.get("targetRef")
            pname = ref.get("name") if ref else None
            e = entries.get(pname) if pname else None
            if e is None or e[6] is None or pname in placed:
                return False
            if e[6] is not ep and (e[7] != _endpoint_hash(ep)
                                   or not _equal_beyond_hash(e[6], ep)):
                return False
            if pk is None:
                pk = _port_key(sl.get("ports"))
            if pk != e[5]:
                return False
            fam.place(pname, sname)
        return True

    @staticmethod
    def _kept(fam: _Family, sname: str, old: dict, new: dict, dirty: set[str]
              ) -> tuple[set[str], list[dict]]:
        """The endpoints of ``new``, a rewrite of slice ``old``, split in two: the pods
        whose endpoint needs no second look (the very endpoint object ``old`` held, of a
        pod with no change since, so its entry is what it was when placed, placed in this
        slice, under the same ports; each pod once), and the other endpoints, in order."""
        eps = new.get("endpoints") or ()
        if _port_key(old.get("ports")) != _port_key(new.get("ports")):
            return set(), list(eps)
        before = set(map(id, old.get("endpoints") or ()))
        placed = fam.placed
        kept: set[str] = set()
        rest: list[dict] = []
        for ep in eps:
            if id(ep) in before:
                ref = ep.get("targetRef")
                pname = ref.get("name") if ref else None
                if (pname and pname not in dirty and placed.get(pname) == sname
                        and pname not in kept):
                    kept.add(pname)
                    continue
            rest.append(ep)
        return kept, rest

    def _sync_changed(self, key: tuple[str, str], svc: dict, state: _SyncState,
                      dirty: set[str], slices: list[dict], slices_rv: int) -> bool:
        """The sync of a Service whose state is valid, looking only at the pods in
        ``dirty`` and the slices that hold their endpoints. Writes exactly what the full
        sync would write; returns False, before changing anything, when the changes leave
        the simple case (a missing node, several port mappings): the full sync then runs.
        ``slices`` are the Service's managed slices as of the slice table's write
        ``slices_rv``."""
        ns, name = key
        spec = svc["spec"]
        selector = spec["selector"]
        publish = bool(spec.get("publishNotReadyAddresses"))
        names = sorted(dirty)
        members: dict[str, dict | None] = {}
        get_pod = self.pods.get
        for pname in names:
            pod = get_pod(pname, ns)
            members[pname] = pod if pod is not None and _selects(
                selector, pod["metadata"].get("labels")) else None
        nodes = self.nodes
        plans: list[tuple[str, _Family, list[tuple[str, tuple | None]], dict, bool]] = []
        for family, fam in state.families.items():
            entries = fam.entries
            changes: list[tuple[str, tuple | None]] = []
            counts = dict(fam.pk_counts)
            quiet = True  # no changed pod has or had an endpoint here, none is placed
            for pname in names:
                pod = members[pname]
                old = entries.get(pname)
                new = None
                if pod is not None:
                    node_name = (pod.get("spec") or {}).get("nodeName") or ""
                    node = nodes.get(node_name) if node_name else None
                    if old is not None and old[0] is pod and old[1] is node and old[2] is svc:
                        new = old
                    else:
                        new = self._endpoint_of(pod, node, svc, family)
                    if new[3] and node is None and not publish:
                        return False  # a problem to report: the full sync reports it
                if old is not None and old[3]:
                    counts[old[5]] -= 1
                    if not counts[old[5]]:
                        del counts[old[5]]
                if new is not None and new[3]:
                    counts[new[5]] = counts.get(new[5], 0) + 1
                if ((old is not None and old[6] is not None)
                        or (new is not None and new[6] is not None) or pname in fam.placed):
                    quiet = False
                changes.append((pname, new))
            if len(counts) > 1:
                return False  # port mappings in pod order: left to the full sync
            plans.append((family, fam, changes, counts, quiet))
        # Committed from here on.
        for family, fam, changes, counts, _ in plans:
            entries = fam.entries
            for pname, new in changes:
                if new is None:
                    entries.pop(pname, None)
                else:
                    entries[pname] = new
            fam.pk_counts = counts
        trigger = self.triggers.update(key, svc, members)
        supported = list(state.families)
        complete = True
        for family, fam, changes, counts, quiet in plans:
            if quiet and state.quiet.get(family) == counts:
                continue  # found with nothing to write before, and nothing it reads changed
            mine = [s for s in slices if s.get("addressType") == family]
            rv = self.slices.table.last_rv
            complete &= self._reconcile_changed(svc, fam, names, mine, trigger, family)
            if quiet and self.slices.table.last_rv == rv:
                state.quiet[family] = dict(counts)
        to_delete = [s for s in slices if s.get("addressType") not in supported]
        complete &= self._write(svc, [], [], to_delete, trigger)
        if not complete:
            return True  # cut short: the state stays invalid, the next sync is a full one
        now_rv = self.slices.table.last_rv
        written = now_rv != slices_rv
        if written:  # read the slices again; what was found quiet was so for the old ones
            state.quiet = {}
            now_slices = {s["metadata"]["name"]: s for s in self._managed_slices(ns, name)}
        else:
            now_slices = state.slices  # every slice is the very one the state holds
        old_slices = state.slices
        dirty_names = set(names)
        for family, fam, changes, counts, _ in plans:
            placed = fam.placed
            moved: list[str] = []
            if written:
                redo: list[str] = []
                keeps: dict[str, set[str]] = {}
                others: dict[str, list[dict]] = {}  # the endpoints of a rewrite to look at
                for n, s in old_slices.items():
                    if s.get("addressType") == family:
                        current = now_slices.get(n)
                        if current is not s:
                            redo.append(n)
                            if current is not None:
                                keeps[n], others[n] = self._kept(fam, n, s, current,
                                                                 dirty_names)
                moved = fam.unplace_slices(redo, keeps) if redo else []
                for n, s in now_slices.items():
                    if s.get("addressType") == family and old_slices.get(n) is not s:
                        if not self._place(fam, s, others.get(n)):
                            return True
            entries = fam.entries
            for pname in (*names, *moved):
                e = entries.get(pname)
                if e is not None and e[3] and e[6] is not None and pname not in placed:
                    return True
            for pname, new in changes:
                if new is None:
                    fam.unplace(pname)
        state.slices, state.slices_rv = now_slices, now_rv
        state.valid = True
        return True

    def _reconcile_changed(self, svc: dict, fam: _Family, names: list[str],
                           existing: list[dict], trigger: float | None,
                           address_type: str) -> bool:
        """``reconcileByAddressType`` for a valid state (at most one port mapping), with
        the pods ``names`` changed: only the slices that held their endpoints are looked
        into."""
        to_create: list[dict] = []
        to_update: list[dict] = []
        existing_by_ports, to_delete = _by_port_mapping(existing, svc, self.slice_facts)
        entries, placed = fam.entries, fam.placed
        for pk in fam.pk_counts:  # at most one
            group = existing_by_ports.get(pk, [])
            touched = {placed[p] for p in names if p in placed}
            dirty = set(names)
            wanted = set()
            for sl in group:
                if sl["metadata"]["name"] in touched:
                    for ep in sl.get("endpoints") or ():
                        ref = ep.get("targetRef")
                        pname = ref.get("name") if ref else None
                        if pname and pname not in dirty:
                            wanted.add(pname)
            wanted.update(dirty)
            desired: dict[tuple, dict] = {}
            ports = None
            for pname in sorted(wanted):
                e = entries.get(pname)
                if e is None or not e[3] or e[5] != pk:
                    continue
                ports = e[4]
                if e[6] is not None:
                    desired[e[7]] = e[6]
            if ports is None:
                ports = next(e[4] for e in entries.values() if e[3] and e[5] == pk)
            untouched = {sl["metadata"]["name"] for sl in group} - touched
            c, u, d = self._reconcile_ports(svc, group, desired, ports, address_type,
                                            untouched)
            to_create.extend(c)
            to_update.extend(u)
            to_delete.extend(d)
        for pk, slices in existing_by_ports.items():
            if pk not in fam.pk_counts:
                to_delete.extend(slices)
        self._placeholder(svc, existing, to_create, to_delete, address_type)
        return self._write(svc, to_create, to_update, to_delete, trigger)

    @staticmethod
    def _endpoint_of(pod: dict, node: dict | None, svc: dict, address_type: str) -> tuple:
        """What one pod gives a Service's slices: (pod, node, service, eligible, ports,
        port key, endpoint or None, endpoint hash)."""
        if not should_pod_be_in_endpoints(pod, True):
            return (pod, node, svc, False, None, None, None, None)
        ports = endpoint_ports(svc, pod)
        ep = pod_to_endpoint(pod, node, svc, address_type)
        if not ep["addresses"]:
            return (pod, node, svc, True, ports, _port_key(ports), None, None)
        return (pod, node, svc, True, ports, _port_key(ports), ep, _endpoint_hash(ep))

    def _reconcile_ports(self, svc: dict, existing: list[dict], desired: dict[tuple, dict],
                         ports: list[dict], address_type: str,
                         untouched: set[str] | None = None
                         ) -> tuple[list[dict], list[dict], list[dict]]:
        """``reconcileByPortMapping``: keep what is still desired in place, fill slices that
        changed anyway, then the fullest unchanged one, then new slices. The slices named
        in ``untouched`` hold only endpoints that are desired as they are (and are left
        out of ``desired``): they are not looked into."""
        max_n = self.max_per_slice
        by_name: dict[str, dict] = {}
        unchanged: list[str] = []
        updated: list[str] = []
        deleted: list[str] = []
        # Endpoints this controller wrote are stored as it passed them: an existing endpoint
        # that is the very dict desired for its pod needs neither hashing nor comparing.
        hash_of = {id(ep): h for h, ep in desired.items()}

        def relabel(sl: dict, labels: dict) -> None:
            """Keep the slice's endpoints; update it for its labels alone."""
            copy = _fresh(sl)
            copy["metadata"]["labels"] = labels
            by_name[sl["metadata"]["name"]] = copy
            updated.append(sl["metadata"]["name"])

        for sl in sorted(existing, key=lambda s: s["metadata"]["name"]):
            sname = sl["metadata"]["name"]
            by_name[sname] = sl
            facts = self.slice_facts(sl, svc)
            if untouched is not None and sname in untouched:
                if facts.labels_changed:
                    relabel(sl, dict(facts.labels))
                else:
                    unchanged.append(sname)
                continue
            old_eps = sl.get("endpoints") or []
            kept: list[dict] = []
            changed = False
            for ep in old_eps:
                h = hash_of.get(id(ep))
                if h is not None and desired.get(h) is ep:
                    del desired[h]
                    kept.append(ep)
                    continue
                got = desired.pop(_endpoint_hash(ep), None)
                if got is not None:
                    kept.append(got)
                    if not _equal_beyond_hash(got, ep):
                        changed = True
            if changed or len(kept) != len(old_eps):
                if not kept:
                    deleted.append(sname)
                else:
                    copy = _fresh(sl)
                    copy["endpoints"] = kept
                    copy["metadata"]["labels"] = dict(facts.labels)
                    by_name[sname] = copy
                    updated.append(sname)
            elif facts.labels_changed:
                relabel(sl, dict(facts.labels))
            else:
                unchanged.append(sname)
        pending = list(desired.values())
        pending.reverse()  # pop() from the end takes them in pod order
        if pending and updated:
            order = sorted(updated, key=lambda n: -len(by_name[n].get("endpoints") or ()))
            for sname in order:
                eps = by_name[sname]["endpoints"]
                while pending and len(eps) < max_n:
                    eps.append(pending.pop())
        to_create: list[dict] = []
        while pending:
            fill = None
            if len(pending) < max_n and unchanged:
                fill = self._slice_to_fill([by_name[n] for n in unchanged], len(pending), max_n)
            if fill is None:
                fill = new_slice(svc, ports, address_type)
            else:
                fill = _fresh(fill)
                by_name[fill["metadata"]["name"]] = fill
            eps = fill["endpoints"]
            while pending and len(eps) < max_n:
                eps.append(pending.pop())
            sname = fill["metadata"].get("name")
            if sname:
                if sname not in updated:
                    updated.append(sname)
                unchanged.remove(sname)
            else:
                to_create.append(fill)
        return to_create, [by_name[n] for n in updated], [by_name[n] for n in deleted]

    @staticmethod
    def _slice_to_fill(slices: list[dict], n: int, max_n: int) -> dict | None:
        """``getSliceToFill``: the slice that ``n`` more endpoints bring closest to full."""
        best, best_diff = None, max_n
        for sl in slices:
            diff = max_n - (n + len(sl.get("endpoints") or ()))
            if 0 <= diff < best_diff:
                best, best_diff = sl, diff
                if diff == 0:
                    break
        return best

    # -- writing ---------------------------------------------------------------------------

    def _write(self, svc: dict, to_create: list[dict], to_update: list[dict],
               to_delete: list[dict], trigger: float | None) -> bool:
        """``finalize``: a create paired with a delete becomes an update of the slice that
        would have been deleted; no creates for a Service being deleted. False if the
        writes stopped short (the namespace is going away)."""
        m = svc["metadata"]
        key = (m["namespace"], m["name"])
        to_delete = list(to_delete)
        i = 0
        while i < len(to_delete) and to_create:
            victim = to_delete[i]
            fresh = to_create[-1]
            if victim.get("addressType") == fresh["addressType"] and _owned_by(victim, svc):
                fresh["metadata"]["name"] = victim["metadata"]["name"]
                fresh["metadata"]["resourceVersion"] = victim["metadata"]["resourceVersion"]
                to_create.pop()
                to_update.append(fresh)
                del to_delete[i]
            else:
                i += 1
        if not (to_create or to_update or to_delete):
            return True
        self._writing = (threading.get_ident(), key)
        try:
            if not m.get("deletionTimestamp"):
                for sl in to_create:
                    self._stamp(sl, trigger)
                    try:
                        self.client.create(_wire(sl))
                    except errors.Forbidden as exc:
                        if _namespace_terminating(exc):
                            return False
                        raise
            for sl in to_update:
                self._stamp(sl, trigger)
                self.client.update(_wire(sl))
            for sl in to_delete:
                sm = sl["metadata"]
                self.client.delete("EndpointSlice", sm["name"], sm["namespace"])
        finally:
            self._writing = None
        return True

    @staticmethod
    def _stamp(sl: dict, trigger: float | None) -> None:
        """``addTriggerTimeAnnotation``."""
        meta = sl["metadata"]
        ann = dict(meta.get("annotations") or {})
        if trigger is not None:
            ann[TRIGGER_TIME] = rfc3339(trigger)
        else:
            ann.pop(TRIGGER_TIME, None)
        if ann:
            meta["annotations"] = ann
        else:
            meta.pop("annotations", None)


def _fresh(sl: dict) -> dict:
    """A slice to write in place of a stored one: new top level, metadata and endpoint
    list; the endpoints and ports themselves are shared, as they are never changed (what
    a stored object holds is replaced, not edited)."""
    copy = dict(sl)
    copy["metadata"] = deep_copy(sl["metadata"])
    copy["endpoints"] = list(sl.get("endpoints") or ())
    return copy


def _wire(sl: dict) -> dict:
    """Empty lists as the API returns them after storage: ``null``."""
    if not sl.get("endpoints"):
        sl["endpoints"] = None
    if not sl.get("ports"):
        sl["ports"] = None
    return sl


def _namespace_terminating(exc: errors.ApiError) -> bool:
    causes = (exc.details or {}).get("causes") or ()
    return any(c.get("reason") == "NamespaceTerminating" for c in causes)
