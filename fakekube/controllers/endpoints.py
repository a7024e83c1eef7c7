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

import math
import threading

from .. import errors
from ..api.objects import deep_copy, rfc3339
from ..api.store import DELETED, WatchEvent
from ..runtime import Controller, Result
from .endpointslice import (LABEL_HEADLESS, TRIGGER_TIME, SelectorIndex, TriggerTimeTracker,
                            find_port, is_pod_ready, services_for_pod_change,
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


def _repack(subsets: list[dict]) -> list[dict]:
    """Group the one-address subsets by their port set, ready addresses first (enough for
    truncation to work per group; the API repacks canonically)."""
    groups: dict[tuple, dict] = {}
    for ss in subsets:
        ports = ss.get("ports")
        pk = tuple(_port_key(p) for p in ports) if ports else ()
        g = groups.get(pk)
        if g is None:
            g = groups[pk] = {"addresses": [], "notReadyAddresses": []}
            if ports:
                g["ports"] = ports
        g["addresses"].extend(ss.get("addresses") or ())
        g["notReadyAddresses"].extend(ss.get("notReadyAddresses") or ())
    out = []
    for g in groups.values():
        merged: dict = {}
        if g["addresses"]:
            merged["addresses"] = g["addresses"]
        if g["notReadyAddresses"]:
            merged["notReadyAddresses"] = g["notReadyAddresses"]
        if "ports" in g:
            merged["ports"] = g["ports"]
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
        # service key -> pod name -> (pod, service, its one-address subsets, their
        # (address, ready, port) triples), reused while both objects are unchanged
        self._pods: dict[tuple[str, str], dict[str, tuple]] = {}
        # service key -> (the stored Endpoints object, its triples)
        self._stored: dict[tuple[str, str], tuple[dict, set]] = {}
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
        for key in services_for_pod_change(self.selectors, ev):
            self.queue.add(key)

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
            self._guarded(key, lambda: self.client.delete("Endpoints", name, ns))
            self.triggers.forget(key)
            self._pods.pop(key, None)
            self._stored.pop(key, None)
            return None
        spec = svc.get("spec") or {}
        selector = spec.get("selector")
        if spec.get("type") == "ExternalName" or not selector:
            self._pods.pop(key, None)
            return None
        (k, v), *rest = selector.items()
        pods = self.pods.by_label(k, v, ns)
        if rest:
            pods = [p for p in pods if all((p["metadata"].get("labels") or {}).get(a) == b
                                           for a, b in selector.items())]
        trigger = self.triggers.compute(key, svc, pods)
        before = self._pods.get(key, {})
        now: dict[str, tuple] = {}
        subsets: list[dict] = []
        desired: set[tuple] = set()
        for pod in pods:
            pname = pod["metadata"]["name"]
            entry = before.get(pname)
            if entry is None or entry[0] is not pod or entry[1] is not svc:
                entry = (pod, svc, *self._subsets_of(pod, svc))
            now[pname] = entry
            subsets.extend(entry[2])
            desired.update(entry[3])
        self._pods[key] = now
        subsets = _repack(subsets)
        current = self.endpoints.get(name, ns)
        svc_labels = svc["metadata"].get("labels") or {}
        if current is not None:
            cur_labels = dict(current["metadata"].get("labels") or {})
            cur_labels.pop(LABEL_HEADLESS, None)
            ann = current["metadata"].get("annotations") or {}
            capacity_ok = (_count(current.get("subsets")) <= MAX_CAPACITY
                           and OVER_CAPACITY not in ann)
            known = self._stored.get(key)
            stored = known[1] if known is not None and known[0] is current else _flatten(
                current.get("subsets"))
            if cur_labels == svc_labels and capacity_ok and stored == desired:
                self._stored[key] = (current, stored)
                return None
            new = dict(current)  # subsets are replaced below; metadata is edited
            new["metadata"] = deep_copy(current["metadata"])
        else:
            new = {"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": name, "namespace": ns}}
        meta = new["metadata"]
        ann = dict(meta.get("annotations") or {})
        if trigger is not None:
            ann[TRIGGER_TIME] = rfc3339(trigger)
        else:
            ann.pop(TRIGGER_TIME, None)
        if truncate(subsets):
            ann[OVER_CAPACITY] = "truncated"
            desired = _flatten(subsets)
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
            self._stored[key] = (written, desired)
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
        return None

    @staticmethod
    def _subsets_of(pod: dict, svc: dict) -> tuple[list[dict], tuple]:
        """One pod's part of the Endpoints: one-address subsets (one per port) and their
        (address, ready, port) triples."""
        spec = svc.get("spec") or {}
        publish = bool(spec.get("publishNotReadyAddresses"))
        if not should_pod_be_in_endpoints(pod, publish):
            return [], ()
        addr = _address(svc, pod)
        if addr is None:
            return [], ()
        ready = publish or is_pod_ready(pod)
        bucket = "addresses" if ready else "notReadyAddresses"
        akey = _addr_key(addr)
        ports = spec.get("ports") or ()
        if not ports:
            if (spec.get("clusterIP") or "") == "None":
                return [{bucket: [addr]}], ((akey, ready, None),)
            return [], ()
        subsets, triples = [], []
        for sp in ports:
            number = find_port(pod, sp)
            if number is None:
                continue
            port = {"protocol": sp.get("protocol") or "TCP", "port": number}
            if sp.get("name"):
                port = {"name": sp["name"], **port}
            if sp.get("appProtocol") is not None:
                port["appProtocol"] = sp["appProtocol"]
            subsets.append({bucket: [addr], "ports": [port]})
            triples.append((akey, ready, _port_key(port)))
        return subsets, tuple(triples)

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
