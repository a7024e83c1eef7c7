"""The (legacy) Endpoints controller: one ``v1/Endpoints`` object per Service with a selector.

Follows Kubernetes v1.31 ``kubernetes/kubernetes:pkg/controller/endpoint/endpoints_controller.go``
(``syncService``, ``podToEndpointAddressForService``, ``addEndpointSubset``,
``truncateEndpoints``, ``capacityAnnotationSetCorrectly``; ``maxRetries`` 15):

- ready pods go in ``subsets[].addresses``, the others in ``notReadyAddresses``; a pod being
  deleted is left out unless the Service publishes not-ready addresses (then every pod is
  "ready"); terminal pods and pods without an IP are left out;
- an address has ``ip``, ``nodeName``, ``targetRef`` and, under the hostname rule, ``hostname``;
- the object carries the Service's labels (plus ``service.kubernetes.io/headless`` for a
  headless Service), the ``endpoints.kubernetes.io/last-change-trigger-time`` annotation, and
  ``endpoints.kubernetes.io/over-capacity: truncated`` past 1000 addresses;
- a deleted Service's Endpoints object is deleted; ExternalName Services and Services without
  a selector are left alone.

The subsets are written unpacked; the API layer repacks them (``RepackSubsets``), and the
comparison with what is stored is made on the flattened (address, readiness, port) triples,
so the packing order never causes a write.
"""

from __future__ import annotations

import bisect
import math
import threading

from .. import errors
from ..api.objects import deep_copy, rfc3339
from ..api.store import DELETED, WatchEvent
from ..runtime import Controller, Result
from .endpointslice import (LABEL_HEADLESS, TRIGGER_TIME, SelectorIndex, TriggerTimeTracker,
                            _selects, find_port, is_pod_ready, queue_pod_change,
                            should_pod_be_in_endpoints, should_set_hostname)

__all__ = ["EndpointsController", "MAX_CAPACITY", "OVER_CAPACITY"]

MAX_CAPACITY = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
MAX_RETRIES = 15


def _address(svc: dict, pod: dict) -> dict | None:
    """``podToEndpointAddressForService``: the pod IP of the Service's first family."""
    spec = svc.get("spec") or {}
    families = spec.get("ipFamilies") or ()
    if families:
        want6 = families[0] == "IPv6"
    else:
        cip = spec.get("clusterIP") or ""
        if cip and cip != "None":
            want6 = ":" in cip
        else:
            want6 = ":" in ((pod.get("status") or {}).get("podIP") or "")
    status = pod.get("status") or {}
    ips = [x.get("ip") for x in status.get("podIPs") or () if x.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    ip = next((i for i in ips if (":" in i) == want6), None)
    if ip is None:
        return None
    m = pod["metadata"]
    addr = {"ip": ip}
    if should_set_hostname(pod, svc):
        addr["hostname"] = pod["spec"]["hostname"]
    addr["nodeName"] = (pod.get("spec") or {}).get("nodeName") or ""
    addr["targetRef"] = {"kind": "Pod", "namespace": m.get("namespace", ""), "name": m["name"],
                         "uid": m.get("uid", "")}
    return addr


def _addr_key(addr: dict) -> tuple:
    ref = addr.get("targetRef") or {}
    return (addr.get("ip"), addr.get("hostname") or "", addr.get("nodeName"), ref.get("kind"),
            ref.get("namespace"), ref.get("name"), ref.get("uid"))


def _port_key(port: dict) -> tuple:
    return (port.get("name") or "", port.get("port"), port.get("protocol") or "TCP",
            port.get("appProtocol"))


def _flatten(subsets: list[dict] | None) -> set[tuple]:
    """Every (address, ready, port) of some subsets: equal sets mean equal endpoints however
    they are packed (``endpointSubsetsEqualIgnoreResourceVersion`` after repacking; a
    target's resourceVersion is ignored)."""
    out: set[tuple] = set()
    for ss in subsets or ():
        ports = [_port_key(p) for p in ss.get("ports") or ()] or [None]
        for ready, key in ((True, "addresses"), (False, "notReadyAddresses")):
            for addr in ss.get(key) or ():
                a = _addr_key(addr)
                for p in ports:
                    out.add((a, ready, p))
    return out


def _count(subsets: list[dict] | None) -> int:
    return sum(len(ss.get("addresses") or ()) + len(ss.get("notReadyAddresses") or ())
               for ss in subsets or ())


def _build_subsets(order: list[str], entries: dict[str, tuple]) -> list[dict]:
    """The pods' pieces (in pod order) grouped by their port set (in order of first
    appearance), each group's ready addresses then the not-ready ones, in pod order: enough
    for truncation to work per group; the API repacks canonically."""
    groups: dict[tuple, tuple[list, list, list | None]] = {}
    for pname in order:
        for pk, ports, ready, addr in entries[pname][2]:
            g = groups.get(pk)
            if g is None:
                g = groups[pk] = ([], [], ports)
            (g[0] if ready else g[1]).append(addr)
    out = []
    for ready, not_ready, ports in groups.values():
        merged: dict = {}
        if ready:
            merged["addresses"] = ready
        if not_ready:
            merged["notReadyAddresses"] = not_ready
        if ports:
            merged["ports"] = ports
        out.append(merged)
    return out


class _Groups:
    """The pods' pieces grouped as :func:`_build_subsets` groups them, kept up to date pod
    by pod: port key -> [ready pod names, their addresses, not-ready pod names, their
    addresses, ports], each list in pod order."""

    __slots__ = ("groups",)

    def __init__(self) -> None:
        self.groups: dict[tuple, list] = {}

    def add(self, pname: str, pieces: tuple) -> None:
        groups = self.groups
        for pk, ports, ready, addr in pieces:
            g = groups.get(pk)
            if g is None:
                g = groups[pk] = [[], [], [], [], ports]
            names, addrs = (g[0], g[1]) if ready else (g[2], g[3])
            i = bisect.bisect_left(names, pname)
            names.insert(i, pname)
            addrs.insert(i, addr)

    def remove(self, pname: str, pieces: tuple) -> None:
        groups = self.groups
        for pk, _ports, ready, _addr in pieces:
            g = groups[pk]
            names, addrs = (g[0], g[1]) if ready else (g[2], g[3])
            i = bisect.bisect_left(names, pname)
            del names[i]
            del addrs[i]
            if not g[0] and not g[2]:
                del groups[pk]

    def subsets(self, order: list[str], entries: dict[str, tuple]) -> list[dict]:
        """What ``_build_subsets(order, entries)`` returns (fresh lists)."""
        if len(self.groups) > 1:  # groups in order of first appearance: built afresh
            return _build_subsets(order, entries)
        out = []
        for ready_names, ready, not_names, not_ready, ports in self.groups.values():
            merged: dict = {}
            if ready:
                merged["addresses"] = list(ready)
            if not_ready:
                merged["notReadyAddresses"] = list(not_ready)
            if ports:
                merged["ports"] = ports
            out.append(merged)
        return out


def truncate(subsets: list[dict]) -> bool:
    """``truncateEndpoints``: past 1000 addresses keep at most 1000, not-ready ones first to
    go, each subset keeping its proportional share (rounded up)."""
    total_ready = sum(len(ss.get("addresses") or ()) for ss in subsets)
    total_not = sum(len(ss.get("notReadyAddresses") or ()) for ss in subsets)
    if total_ready + total_not <= MAX_CAPACITY:
        return False
    truncate_ready = total_ready > MAX_CAPACITY
    limit = MAX_CAPACITY if truncate_ready else MAX_CAPACITY - total_ready
    num_total = total_ready if truncate_ready else total_not
    can_add = limit
    for ss in subsets:
        key = "addresses" if truncate_ready else "notReadyAddresses"
        items = ss.get(key) or []
        take = math.ceil(len(items) / num_total * limit) if num_total else 0
        kept = items[:min(take, can_add)]
        if kept:
            ss[key] = kept
        else:
            ss.pop(key, None)
        if truncate_ready:
            ss.pop("notReadyAddresses", None)
        can_add -= len(kept)
    return True


class _State:
    """What the last sync of a Service left, for the next one to redo only what changed.

    ``entries`` (pod name -> entry, see ``_subsets_of``) and ``order`` (their names, sorted:
    the pods' list order) are every selected pod; ``groups`` their pieces grouped for the
    object, ``desired`` the union of their triples. ``in_sync`` says the stored object
    (``stored``) needed no write at the end of that sync; ``drift`` holds the triples in
    exactly one of ``desired`` and the stored object's (kept up to date as ``desired``
    changes, so "equal" needs no comparison of the whole sets). ``dirty`` gathers the pods
    with an event since (selected before or after it). ``valid`` holds when that sync
    completed."""

    __slots__ = ("svc", "entries", "order", "groups", "desired", "stored", "drift",
                 "in_sync", "dirty", "valid")

    def __init__(self, svc: dict) -> None:
        self.svc = svc
        self.entries: dict[str, tuple] = {}
        self.order: list[str] = []
        self.groups = _Groups()
        self.desired: set[tuple] = set()
        self.stored: dict | None = None
        self.drift: set[tuple] = set()
        self.in_sync = False
        self.dirty: set[str] = set()
        self.valid = False

    def remove(self, triples: tuple) -> None:
        """Take a pod's triples out of ``desired``, keeping ``drift``."""
        gone = self.desired.intersection(triples)
        self.desired -= gone
        self.drift ^= gone

    def add(self, triples: tuple) -> None:
        """Put a pod's triples into ``desired``, keeping ``drift``."""
        new = set(triples).difference(self.desired)
        self.desired |= new
        self.drift ^= new


class EndpointsController(Controller):
    """Keeps the Endpoints object of every Service with a selector in line with its pods."""

    name = "endpoint-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.services = ctx.informer("Service")
        self.pods = ctx.informer("Pod")
        self.endpoints = ctx.informer("Endpoints")
        self.triggers = TriggerTimeTracker()
        self.recorder = ctx.recorder("endpoint-controller")
        self.selectors = SelectorIndex()  # turns pod events into Service keys
        # service key -> what its last sync knew (pods, entries, the stored object)
        self._states: dict[tuple[str, str], _State] = {}
        self._writing: tuple[int, tuple[str, str]] | None = None
        for svc in self.services:
            self.selectors.set(svc)
        self.services.table.handlers.append(self._on_service)
        self.pods.table.handlers.append(self._on_pod)
        self.endpoints.table.handlers.append(self._on_endpoints)
        for svc in self.services:
            m = svc["metadata"]
            self.queue.add((m["namespace"], m["name"]))
        for ep in self.endpoints:  # checkLeftoverEndpoints
            m = ep["metadata"]
            self.queue.add((m["namespace"], m["name"]))

    def _on_service(self, ev: WatchEvent) -> None:
        if ev.type == DELETED:
            self.selectors.set(None, ev.obj)
        else:
            self.selectors.set(ev.obj)
        m = ev.obj["metadata"]
        self.queue.add((m["namespace"], m["name"]))

    def _on_pod(self, ev: WatchEvent) -> None:
        queue_pod_change(self.selectors, self._states, self.queue, ev)

    def _on_endpoints(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            return
        m = ev.obj["metadata"]
        key = (m["namespace"], m["name"])
        if self._writing == (threading.get_ident(), key):
            return
        self.queue.add(key)

    def reconcile(self, key: tuple[str, str]) -> Result | None:
        ns, name = key
        svc = self.services.get(name, ns)
        if svc is None:
            self._states.pop(key, None)
            self._guarded(key, lambda: self.client.delete("Endpoints", name, ns))
            self.triggers.forget(key)
            return None
        spec = svc.get("spec") or {}
        selector = spec.get("selector")
        if spec.get("type") == "ExternalName" or not selector:
            self._states.pop(key, None)
            return None
        current = self.endpoints.get(name, ns)
        state = self._states.get(key)
        if state is not None:
            dirty, state.dirty = state.dirty, set()
            if state.valid and state.svc is svc and state.stored is current:
                state.valid = False  # until this sync completes
                return self._sync_changed(key, svc, state, dirty, current)
        state = self._states[key] = _State(svc)
        (k, v), *rest = selector.items()
        pods = self.pods.by_label(k, v, ns)
        if rest:
            pods = [p for p in pods if all((p["metadata"].get("labels") or {}).get(a) == b
                                           for a, b in selector.items())]
        trigger = self.triggers.compute(key, svc, pods)
        entries = state.entries
        desired = state.desired
        groups = state.groups
        for pod in pods:
            entry = self._subsets_of(pod, svc)
            pname = pod["metadata"]["name"]
            entries[pname] = entry
            groups.add(pname, entry[2])
            desired.update(entry[3])
        state.order = list(entries)
        # A fresh state's drift is empty: right when the triples are equal (no write), and
        # set by the write otherwise.
        equal = current is not None and _flatten(current.get("subsets")) == desired
        return self._finish(key, svc, state, trigger, current, equal)

    def _sync_changed(self, key: tuple[str, str], svc: dict, state: _State, dirty: set[str],
                      current: dict | None) -> Result | None:
        """The sync of a Service whose last sync completed and whose object is unchanged,
        looking only at the pods in ``dirty``; decides and writes as the full sync."""
        ns = key[0]
        selector = svc["spec"]["selector"]
        entries, order = state.entries, state.order
        groups = state.groups
        members: dict[str, dict | None] = {}
        changed = False
        for pname in sorted(dirty):
            pod = self.pods.get(pname, ns)
            if pod is not None and not _selects(selector, pod["metadata"].get("labels")):
                pod = None
            members[pname] = pod
            old = entries.get(pname)
            if pod is None:
                if old is None:
                    continue
                del entries[pname]
                del order[bisect.bisect_left(order, pname)]
                groups.remove(pname, old[2])
                if old[3]:
                    state.remove(old[3])
                    changed = True
                continue
            if old is not None and old[0] is pod:
                continue
            new = self._subsets_of(pod, svc)
            entries[pname] = new
            if old is None:
                bisect.insort(order, pname)
            else:
                groups.remove(pname, old[2])
            groups.add(pname, new[2])
            if old is not None and old[3] == new[3]:
                continue
            if old is not None and old[3]:
                state.remove(old[3])
                changed = True
            if new[3]:
                state.add(new[3])
                changed = True
        trigger = self.triggers.update(key, svc, members)
        if not changed and state.in_sync:
            state.valid = True
            return None
        return self._finish(key, svc, state, trigger, current, not state.drift)

    def _finish(self, key: tuple[str, str], svc: dict, state: _State, trigger: float | None,
                current: dict | None, equal: bool) -> Result | None:
        """Compare the desired endpoints with the stored object (``equal``: whether their
        triples are the same); write if they differ."""
        ns, name = key
        spec = svc.get("spec") or {}
        desired = state.desired
        svc_labels = svc["metadata"].get("labels") or {}
        if current is not None:
            cur_labels = dict(current["metadata"].get("labels") or {})
            cur_labels.pop(LABEL_HEADLESS, None)
            ann = current["metadata"].get("annotations") or {}
            capacity_ok = (_count(current.get("subsets")) <= MAX_CAPACITY
                           and OVER_CAPACITY not in ann)
            if cur_labels == svc_labels and capacity_ok and equal:
                state.stored = current  # its drift is empty, as the triples are equal
                state.in_sync = state.valid = True
                return None
            new = dict(current)  # subsets are replaced below; metadata is edited
            new["metadata"] = deep_copy(current["metadata"])
        else:
            new = {"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": name, "namespace": ns}}
        subsets = state.groups.subsets(state.order, state.entries)
        meta = new["metadata"]
        ann = dict(meta.get("annotations") or {})
        if trigger is not None:
            ann[TRIGGER_TIME] = rfc3339(trigger)
        else:
            ann.pop(TRIGGER_TIME, None)
        written_triples = None  # those of ``desired``
        if truncate(subsets):
            ann[OVER_CAPACITY] = "truncated"
            written_triples = _flatten(subsets)
        else:
            ann.pop(OVER_CAPACITY, None)
        labels = dict(svc_labels)
        if (spec.get("clusterIP") or "") in ("", "None"):
            labels[LABEL_HEADLESS] = ""
        for field, value in (("annotations", ann), ("labels", labels)):
            if value:
                meta[field] = value
            else:
                meta.pop(field, None)
        if subsets:
            new["subsets"] = subsets
        else:
            new.pop("subsets", None)
        try:
            if current is None:
                written = self._guarded(key, lambda: self.client.create(new))
            else:
                written = self._guarded(key, lambda: self.client.update(new))
        except errors.ApiError as exc:
            causes = (exc.details or {}).get("causes") or ()
            if current is None and isinstance(exc, errors.Forbidden) and any(
                    c.get("reason") == "NamespaceTerminating" for c in causes):
                return None  # the namespace is going away: creates will keep failing
            if current is None:
                self._failed(new, "FailedToCreateEndpoint",
                             f"Failed to create endpoint for service {ns}/{name}: {exc.message}")
            else:
                self._failed(new, "FailedToUpdateEndpoint",
                             f"Failed to update endpoint {ns}/{name}: {exc.message}")
            if self.queue.failures(key) >= MAX_RETRIES:
                return None  # handleErr: dropped after maxRetries
            raise
        state.stored = written
        state.drift = set() if written_triples is None else desired ^ written_triples
        wm = written["metadata"]
        wlabels = dict(wm.get("labels") or {})
        wlabels.pop(LABEL_HEADLESS, None)
        state.in_sync = (wlabels == svc_labels and OVER_CAPACITY not in (
            wm.get("annotations") or {}) and _count(written.get("subsets")) <= MAX_CAPACITY
            and not state.drift)
        state.valid = True
        return None

    @staticmethod
    def _subsets_of(pod: dict, svc: dict) -> tuple:
        """One pod's part of the Endpoints: (pod, service, its one-address pieces as
        (port key, ports, ready, address), their (address, ready, port) triples)."""
        spec = svc.get("spec") or {}
        publish = bool(spec.get("publishNotReadyAddresses"))
        if not should_pod_be_in_endpoints(pod, publish):
            return (pod, svc, (), ())
        addr = _address(svc, pod)
        if addr is None:
            return (pod, svc, (), ())
        ready = publish or is_pod_ready(pod)
        akey = _addr_key(addr)
        ports = spec.get("ports") or ()
        if not ports:
            if (spec.get("clusterIP") or "") == "None":
                return (pod, svc, (((), None, ready, addr),), ((akey, ready, None),))
            return (pod, svc, (), ())
        pieces, triples = [], []
        for sp in ports:
            number = find_port(pod, sp)
            if number is None:
                continue
            port = {"protocol": sp.get("protocol") or "TCP", "port": number}
            if sp.get("name"):
                port = {"name": sp["name"], **port}
            if sp.get("appProtocol") is not None:
                port["appProtocol"] = sp["appProtocol"]
            pk = _port_key(port)
            pieces.append(((pk,), [port], ready, addr))
            triples.append((akey, ready, pk))
        return (pod, svc, tuple(pieces), tuple(triples))

    def _guarded(self, key: tuple[str, str], write):
        self._writing = (threading.get_ident(), key)
        try:
            return write()
        finally:
            self._writing = None

    def _failed(self, obj: dict, reason: str, message: str) -> None:
        m = obj["metadata"]
        ref = {"kind": "Endpoints", "apiVersion": "v1",
               "metadata": {"name": m["name"], "namespace": m["namespace"],
                            "uid": m.get("uid", "")}}
        self.recorder.event(ref, "Warning", reason, message)
