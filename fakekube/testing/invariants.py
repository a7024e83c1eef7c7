"""Reusable checks of what Kubernetes guarantees, with messages in Kubernetes terms.

Each check reads the cluster's stored objects and raises :class:`InvariantViolation` (an
``AssertionError``) that says what is wrong, about which objects, and what upstream promises
instead. Checks only read, so they read the stored objects themselves (never changed in
place, see :mod:`fakekube.api.store`) rather than copies, and find a set's pods through the
store's owner index. Use them in tests and in state machines::

    invariants.statefulset_identity(cluster, "web")
    invariants.one_node_per_rwo_volume(cluster)

:class:`History` goes further: it follows every change (a watch from the start) and checks
the rules that are about order, such as "a pod is created only when its predecessors are
Running and Ready" or "a new incarnation only after the old object is gone".
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..cluster import Cluster

__all__ = ["InvariantViolation", "statefulset_identity", "statefulset_ordinals",
           "statefulset_status",
           "one_node_per_rwo_volume", "claims_bound_one_to_one", "History"]

_ORD = re.compile(r"^(.*)-([0-9]+)$")


class InvariantViolation(AssertionError):
    """A Kubernetes guarantee did not hold."""


def _fail(msg: str) -> None:
    raise InvariantViolation(msg)


def _ordinal(name: str, set_name: str) -> int:
    m = _ORD.match(name)
    if not m or m.group(1) != set_name:
        return -1
    return int(m.group(2))


def _stored(cluster: "Cluster", kind: str, namespace: str | None = None) -> list[dict]:
    """The stored objects of a kind in list order (what ``cluster.list(kind,
    namespace)["items"]`` holds, without the copies). Read them, never change them."""
    api = cluster.api
    return api.list(api.registry.by_kind(kind), namespace, copy_out=False)["items"]


def _set_pods(cluster: "Cluster", name: str, namespace: str) -> tuple[dict, list[dict]]:
    """The StatefulSet (NotFound if absent) and the pods it controls, in list order: the
    pods of the namespace with a controller reference to its UID (stored objects)."""
    api = cluster.api
    with api.store.lock:
        sset = api.get(api.registry.by_kind("StatefulSet"), name, namespace, copy_out=False)
        uid = sset["metadata"]["uid"]
        table = api.table(api.registry.by_kind("Pod"))
        objects = table.objects
        pods = []
        for key in sorted(k for k in table.keys_owned_by(uid) if k[0] == namespace):
            p = objects[key]
            if any(r.get("uid") == uid and r.get("controller")
                   for r in p["metadata"].get("ownerReferences") or ()):
                pods.append(p)
    return sset, pods


def statefulset_identity(cluster: "Cluster", name: str, namespace: str = "default") -> None:
    """Every pod of the set carries its sticky identity: name ``<set>-<ordinal>``, hostname
    = its name, subdomain = the set's serviceName, the pod-name label, and the set's claims
    ``<template>-<set>-<ordinal>`` as its volumes."""
    sset, pods = _set_pods(cluster, name, namespace)
    spec = sset.get("spec") or {}
    service = spec.get("serviceName", "")
    templates = [t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or ()]
    for pod in pods:
        pname = pod["metadata"]["name"]
        ordinal = _ordinal(pname, name)
        if ordinal < 0:
            _fail(f"pod {namespace}/{pname} is owned by StatefulSet {name} but its name has no "
                  f"ordinal of that set (expected {name}-<ordinal>)")
        pspec = pod.get("spec") or {}
        if pspec.get("hostname") != pname:
            _fail(f"pod {pname} has hostname {pspec.get('hostname')!r}: a StatefulSet pod's "
                  "hostname is its name")
        if (pspec.get("subdomain") or "") != service:
            _fail(f"pod {pname} has subdomain {pspec.get('subdomain')!r}, not the set's "
                  f"serviceName {service!r}")
        label = (pod["metadata"].get("labels") or {}).get("statefulset.kubernetes.io/pod-name")
        if label != pname:
            _fail(f"pod {pname} has label statefulset.kubernetes.io/pod-name={label!r}")
        volumes = {v["name"]: v for v in pspec.get("volumes") or ()}
        for t in templates:
            claim = ((volumes.get(t) or {}).get("persistentVolumeClaim") or {}).get("claimName")
            if claim != f"{t}-{name}-{ordinal}":
                _fail(f"pod {pname} mounts claim {claim!r} as volume {t}; its own claim is "
                      f"{t}-{name}-{ordinal}")


def statefulset_ordinals(cluster: "Cluster", name: str, namespace: str = "default",
                         ready: bool = True) -> None:
    """The set's pods are exactly the ordinals ``[start, start + replicas)`` (and Ready, when
    ``ready``): what a settled set with healthy nodes must show."""
    sset, pods = _set_pods(cluster, name, namespace)
    spec = sset.get("spec") or {}
    start = (spec.get("ordinals") or {}).get("start", 0)
    want = [f"{name}-{i}" for i in range(start, start + spec.get("replicas", 1))]
    have = sorted((p["metadata"]["name"] for p in pods), key=lambda n: _ordinal(n, name))
    if have != want:
        _fail(f"StatefulSet {namespace}/{name} has pods {have}; with replicas="
              f"{spec.get('replicas', 1)} and start {start} it should have exactly {want}")
    if ready:
        for p in pods:
            conds = {c["type"]: c["status"] for c in (p.get("status") or {}).get(
                "conditions") or ()}
            if p["status"].get("phase") != "Running" or conds.get("Ready") != "True":
                _fail(f"pod {p['metadata']['name']} of StatefulSet {name} is "
                      f"{p['status'].get('phase')} and Ready={conds.get('Ready')} after settle")


def statefulset_status(cluster: "Cluster", name: str, namespace: str = "default") -> None:
    """The set's status counts its pods as the StatefulSet controller counts them: a
    settled cluster's set reports every created pod in ``replicas``, the Running and Ready
    ones in ``readyReplicas`` (and, without minReadySeconds, ``availableReplicas``), the
    ones not terminating at the current and update revisions in ``currentReplicas`` and
    ``updatedReplicas``, for its latest generation."""
    sset, pods = _set_pods(cluster, name, namespace)
    if (sset.get("spec") or {}).get("minReadySeconds"):
        return  # availability then depends on the clock: not a settled count
    st = sset.get("status") or {}
    created = [p for p in pods if (p.get("status") or {}).get("phase")]

    def ready(p: dict) -> bool:
        s = p.get("status") or {}
        return s.get("phase") == "Running" and any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in s.get("conditions") or ())

    def at(revision: str) -> int:
        return sum(1 for p in created if not p["metadata"].get("deletionTimestamp")
                   and (p["metadata"].get("labels") or {}).get(
                       "controller-revision-hash") == revision)

    n_ready = sum(1 for p in pods if ready(p))
    want = {"replicas": len(created), "readyReplicas": n_ready, "availableReplicas": n_ready,
            "currentReplicas": at(st.get("currentRevision", "")),
            "updatedReplicas": at(st.get("updateRevision", "")),
            "observedGeneration": sset["metadata"].get("generation")}
    got = {k: st.get(k, 0) for k in want}
    if got != want:
        wrong = ", ".join(f"{k}={got[k]} (its pods say {want[k]})" for k in want
                          if got[k] != want[k])
        _fail(f"StatefulSet {namespace}/{name} reports {wrong}: the controller's status must "
              f"count the pods it has")


def one_node_per_rwo_volume(cluster: "Cluster") -> None:
    """A ReadWriteOnce volume is attached to at most one node at a time."""
    pvs = {pv["metadata"]["name"]: pv for pv in _stored(cluster, "PersistentVolume")}
    nodes_of: dict[str, set[str]] = defaultdict(set)
    for va in _stored(cluster, "VolumeAttachment"):
        if not (va.get("status") or {}).get("attached"):
            continue
        pv_name = ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName")
        if pv_name:
            nodes_of[pv_name].add(va["spec"]["nodeName"])
    for pv_name, nodes in nodes_of.items():
        modes = ((pvs.get(pv_name) or {}).get("spec") or {}).get("accessModes") or []
        if len(nodes) > 1 and ("ReadWriteOnce" in modes or "ReadWriteOncePod" in modes):
            _fail(f"ReadWriteOnce volume {pv_name} is attached to {len(nodes)} nodes at once: "
                  f"{sorted(nodes)}")


def claims_bound_one_to_one(cluster: "Cluster") -> None:
    """Every Bound claim names a volume whose claimRef names it back, and no volume is
    claimed by two claims."""
    pvs = {pv["metadata"]["name"]: pv for pv in _stored(cluster, "PersistentVolume")}
    seen: dict[str, str] = {}
    for claim in _stored(cluster, "PersistentVolumeClaim"):
        m = claim["metadata"]
        if (claim.get("status") or {}).get("phase") != "Bound":
            continue
        vol = (claim.get("spec") or {}).get("volumeName")
        key = f"{m['namespace']}/{m['name']}"
        if vol in seen:
            _fail(f"volume {vol} is bound to two claims: {seen[vol]} and {key}")
        seen[vol] = key
        ref = ((pvs.get(vol) or {}).get("spec") or {}).get("claimRef") or {}
        if (ref.get("namespace"), ref.get("name"), ref.get("uid")) != (
                m["namespace"], m["name"], m["uid"]):
            _fail(f"claim {key} is Bound to volume {vol}, whose claimRef points at "
                  f"{ref.get('namespace')}/{ref.get('name')}")


class History:
    """Follows every change of pods, StatefulSets and their events, in resourceVersion order,
    and checks the rules about order as they happen. Call :meth:`check` after each step.

    Rules checked:

    - a pod name has one object at a time: a new incarnation is ADDED only after the old
      one's DELETED;
    - OrderedReady: pod ``i`` of a set is created only when every lower ordinal of the set
      exists, is Running and Ready and not terminating;
    - OrderedReady scale-down: the controller deletes a condemned pod only when no higher
      condemned pod is left (SS-16, SS-18: a terminating one above it blocks it);
    - a StatefulSet ordinal keeps its hostname and subdomain, and gets a new IP with each
      incarnation;
    - pods created with ``generateName`` (Deployments, ReplicaSets) never reuse a name.
    """

    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        api = cluster.api
        by_kind = api.registry.by_kind
        # API-layer watchers, read without copies (take(copy=False)): the objects are only
        # read.
        self._pods = api.watch(by_kind("Pod"), resource_version="0")
        rv = str(cluster.store.rv)
        self._sets = api.watch(by_kind("StatefulSet"), resource_version="0")
        self._events = api.watch(by_kind("Event"), resource_version=rv)
        self.pods: dict[tuple[str, str], dict] = {}
        self.sets: dict[tuple[str, str], dict] = {}
        self.generated_names: dict[tuple[str, str], str] = {}
        self.last_ip: dict[tuple[str, str], tuple[str, str]] = {}  # name -> (uid, ip)
        self.identity: dict[tuple[str, str], tuple[str, str]] = {}  # name -> (hostname, sub)

    def check(self) -> None:
        merged = []
        with self.cluster.store.lock:
            for source, watcher in (("Pod", self._pods), ("StatefulSet", self._sets),
                                    ("Event", self._events)):
                for t, obj in watcher.take(copy=False):
                    if t in ("BOOKMARK", "ERROR"):
                        continue
                    merged.append((int(obj["metadata"]["resourceVersion"]), source, t, obj))
        merged.sort(key=lambda x: x[0])
        for _, source, t, obj in merged:
            getattr(self, f"_on_{source.lower()}")(t, obj)

    # -- per kind --------------------------------------------------------------------------

    def _on_statefulset(self, t: str, obj: dict) -> None:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if t == "DELETED":
            self.sets.pop(key, None)
        else:
            self.sets[key] = obj

    def _owner_set(self, pod: dict) -> dict | None:
        for r in pod["metadata"].get("ownerReferences") or ():
            if r.get("controller") and r.get("kind") == "StatefulSet":
                sset = self.sets.get((pod["metadata"]["namespace"], r["name"]))
                if sset is not None and sset["metadata"]["uid"] == r.get("uid"):
                    return sset
        return None

    def _on_pod(self, t: str, obj: dict) -> None:
        m = obj["metadata"]
        key = (m["namespace"], m["name"])
        if t == "DELETED":
            old = self.pods.get(key)
            if old is not None and old["metadata"]["uid"] == m["uid"]:
                del self.pods[key]
            return
        if t == "ADDED":
            old = self.pods.get(key)
            if old is not None and old["metadata"]["uid"] != m["uid"]:
                _fail(f"pod {key[0]}/{key[1]} was created again (uid {m['uid']}) while the "
                      f"previous incarnation (uid {old['metadata']['uid']}) still existed")
            if m.get("generateName") and not (m.get("ownerReferences") and self._owner_set(obj)):
                prev = self.generated_names.get(key)
                if prev is not None and prev != m["uid"]:
                    _fail(f"generated pod name {key[1]} was used twice (uids {prev} and "
                          f"{m['uid']}): Deployment and ReplicaSet pods never reuse a name")
                self.generated_names[key] = m["uid"]
            sset = self._owner_set(obj)
            if sset is not None:
                self._check_ordered_creation(sset, obj)
        self.pods[key] = obj
        sset = self._owner_set(obj)
        if sset is not None:
            self._check_sticky(sset, obj)

    def _check_ordered_creation(self, sset: dict, pod: dict) -> None:
        spec = sset.get("spec") or {}
        if spec.get("podManagementPolicy") == "Parallel":
            return
        name = sset["metadata"]["name"]
        ns = sset["metadata"]["namespace"]
        ordinal = _ordinal(pod["metadata"]["name"], name)
        start = (spec.get("ordinals") or {}).get("start", 0)
        for j in range(start, ordinal):
            prev = self.pods.get((ns, f"{name}-{j}"))
            if prev is None:
                _fail(f"pod {name}-{ordinal} was created while {name}-{j} did not exist "
                      "(OrderedReady creates pods in ordinal order)")
            st = prev.get("status") or {}
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in st.get("conditions") or ())
            if st.get("phase") != "Running" or not ready or prev["metadata"].get(
                    "deletionTimestamp"):
                _fail(f"pod {name}-{ordinal} was created while {name}-{j} was "
                      f"{st.get('phase')} (Ready={ready}, terminating="
                      f"{bool(prev['metadata'].get('deletionTimestamp'))}): OrderedReady "
                      "waits for every lower ordinal to be Running and Ready")

    def _check_sticky(self, sset: dict, pod: dict) -> None:
        m = pod["metadata"]
        key = (m["namespace"], m["name"])
        spec = pod.get("spec") or {}
        ident = (spec.get("hostname", ""), spec.get("subdomain", ""))
        prev = self.identity.setdefault(key, ident)
        if prev != ident:
            _fail(f"pod {m['name']} changed hostname/subdomain from {prev} to {ident}; a "
                  "StatefulSet ordinal keeps them for ever")
        ip = (pod.get("status") or {}).get("podIP")
        if ip:
            last = self.last_ip.get(key)
            if last is not None and last[0] != m["uid"] and last[1] == ip:
                _fail(f"pod {m['name']} (uid {m['uid']}) got the IP {ip} of its previous "
                      "incarnation; each incarnation gets a new IP")
            self.last_ip[key] = (m["uid"], ip)

    def _on_event(self, t: str, ev: dict) -> None:
        if t != "ADDED" or ev.get("reason") != "SuccessfulDelete":
            return
        inv = ev.get("involvedObject") or {}
        if inv.get("kind") != "StatefulSet":
            return
        sset = self.sets.get((inv.get("namespace", ""), inv.get("name", "")))
        if sset is None:
            return
        spec = sset.get("spec") or {}
        if spec.get("podManagementPolicy") == "Parallel":
            return
        msg = ev.get("message", "")
        mm = re.match(r"delete Pod (\S+) in StatefulSet", msg)
        if not mm:
            return
        name = sset["metadata"]["name"]
        victim = _ordinal(mm.group(1), name)
        start = (spec.get("ordinals") or {}).get("start", 0)
        end = start + spec.get("replicas", 1) - 1
        if start <= victim <= end:
            return  # not a scale-down deletion (an update, or a failed pod)
        ns = sset["metadata"]["namespace"]
        for (pns, pname), p in self.pods.items():
            o = _ordinal(pname, name)
            if pns != ns or o < 0 or start <= o <= end or o == victim:
                continue
            if o > victim:
                _fail(f"scale-down deleted {name}-{victim} while the higher condemned pod "
                      f"{pname} still existed (pods are removed highest ordinal first, "
                      "each only after the one above it is gone)")

    def close(self) -> None:
        for w in (self._pods, self._sets, self._events):
            w.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
