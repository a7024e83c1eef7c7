"""``Cluster``: a Kubernetes control plane in a Python object.

A Cluster builds and wires the parts (clock, store, API layer, controllers) and is the public
face of all of them: the API verbs by Kind name, the virtual clock (``settle``, ``advance``,
``now``) and, as later parts arrive, fault injection, storage, DNS and serving.

Time only moves when you move it. Writes queue work for the controllers; ``settle()`` runs
that work, jumping the clock from deadline to deadline, until the cluster reaches a fixed
point that only an outside action can leave.
"""

from __future__ import annotations

import contextlib
import functools
import random
from typing import Any, Callable, Iterator, TypeVar

import yaml

from . import errors
from .api.objects import deep_copy
from .api.registry import ResourceType
from .api.server import ApiServer
from .api.store import Store
from .api.watch import Watcher
from .clock import VirtualClock
from .config import Config
from .controllers import builtin_controllers
from .dns import ClusterDNS
from .kubelet import KubeletController
from .trace import WriteTimes
from .kubelet.volumes import VolumeData, volume_id
from .runtime import ControllerContext, Manager
from .runtime.gcpolicy import young_collections_only

__all__ = ["Cluster", "Watch"]

F = TypeVar("F", bound=Callable[..., Any])


def _locked(fn: F) -> F:
    """Hold the store lock for the whole call: in served mode the run loop and HTTP
    threads see the change as one step (the lock is re-entrant, so this costs nothing
    in process)."""

    @functools.wraps(fn)
    def wrapper(self: "Cluster", *args: Any, **kwargs: Any) -> Any:
        with self.store.lock:
            return fn(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Watch:
    """An in-process watch: iterate it to get ``(type, object)`` pairs.

    Iteration stops when the watch has caught up (nothing else can happen while the caller
    is iterating); iterating again continues from there. :meth:`close` ends it. A
    resourceVersion that has been compacted gives one ``("ERROR", <410 Expired Status>)``
    pair, after which the watch is closed.
    """

    def __init__(self, cluster: "Cluster", watcher: Watcher, timeout_seconds: float | None
                 ) -> None:
        self._cluster = cluster
        self._watcher = watcher
        self._timeout = timeout_seconds
        self._deadline = (cluster.now + timeout_seconds) if timeout_seconds else None

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        if self._cluster._served is not None:
            yield from self._iter_served()
            return
        w = self._watcher
        while True:
            with self._cluster.store.lock:
                if w.closed and not w.queue:
                    return
                batch = w.take(256)
                if not batch:
                    if w.allow_bookmarks and self._cluster.store.rv > w.last_rv and w.last_rv:
                        w.last_rv = self._cluster.store.rv
                        w.bookmark(self._cluster.store.rv)
                        batch = w.take()
                    if self._deadline is not None and self._cluster.now >= self._deadline:
                        w.close()
                    if not batch:
                        return
            yield from batch

    def _iter_served(self) -> Iterator[tuple[str, dict]]:
        """Served: wait (wall clock) up to ``timeout_seconds`` for events; without a
        timeout, stop when caught up as in process."""
        import time as _time

        w = self._watcher
        store = self._cluster.store
        end = None if self._timeout is None else _time.monotonic() + self._timeout
        while True:
            with store.changed:
                while not w.queue and not w.closed:
                    left = None if end is None else end - _time.monotonic()
                    if left is None or left <= 0:
                        return
                    store.changed.wait(left)
                if w.closed and not w.queue:
                    return
                batch = w.take(256)
            yield from batch

    @property
    def resource_version(self) -> str:
        """The resourceVersion of the last event delivered."""
        return str(self._watcher.last_rv)

    @property
    def closed(self) -> bool:
        return self._watcher.closed

    def close(self) -> None:
        self._watcher.close()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Cluster:
    """A ready cluster: system namespaces, the default StorageClass ``standard`` and
    controllers, on a virtual clock starting at 2025-01-01T00:00:00Z.

    ``seed`` makes a run reproducible: the same seed and the same calls give the same UIDs,
    names, resourceVersions and event order.
    """

    def __init__(self, nodes: int | list[dict] = 3, zones: list[str] | None = None,
                 seed: int = 0, **options: Any) -> None:
        self.config = Config.from_options(**options)
        self.seed = seed
        self._served: Any = None  # the served run loop while cluster.serve() is active
        self._rng = random.Random(seed)
        self.clock = VirtualClock()
        self.store = Store(self.config.event_history)
        self.api = ApiServer(self.store, self.clock, random.Random(self._rng.getrandbits(64)),
                             self.config)
        #: The virtual time of each write: what cluster.trace() places the history by.
        self.write_times = WriteTimes.install(self.store, self.clock)
        self.manager = Manager()
        self.ctx = ControllerContext(self.api, self.clock, self.config,
                                     random.Random(self._rng.getrandbits(64)))
        for cls in builtin_controllers():
            self.manager.add(cls(self.ctx))
        for c in self.manager.controllers:
            c.setup()
        self.kubelets: KubeletController = next(
            c for c in self.manager.controllers if isinstance(c, KubeletController))
        #: Cluster DNS: ``cluster.dns.resolve(name, rdtype, from_namespace)``, ``serve()``.
        self.dns = ClusterDNS(self.api)
        self.kubelets.workloads.dns = self.dns
        self._bootstrap()
        for desc in _node_descriptions(nodes, zones):
            self._add_node(desc)
        self.manager.run_until_idle(self.config.max_reconciles)

    def _bootstrap(self) -> None:
        api = self.api
        ns_rt = api.registry.by_kind("Namespace")
        for name in SYSTEM_NAMESPACES:
            api.create(ns_rt, {"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": name,
                                            "labels": {"kubernetes.io/metadata.name": name}}},
                       owned=True, copy_out=False)
        api.create(api.registry.by_kind("StorageClass"), {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "csi.example.com", "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate", "allowVolumeExpansion": True},
            owned=True, copy_out=False)

    # -- time ------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Virtual time, in seconds since the Unix epoch."""
        return self.clock.now()

    def settle(self, max_seconds: float = 3600) -> float:
        """Run queued work, jumping the clock to each next pending deadline, until nothing is
        queued and no deadline is pending; return the virtual seconds used.

        Raises :class:`fakekube.SettleTimeout` if the next pending deadline lies beyond
        ``max_seconds`` or the livelock guard (``max_reconciles``) trips.

        While it runs (and while :meth:`advance` runs), Python's cyclic garbage collector
        collects only its young generations; full collections wait until it returns
        (:mod:`fakekube.runtime.gcpolicy`).
        """
        if self._served is not None:
            return self._served.settle(max_seconds)
        with young_collections_only():
            return self._settle(max_seconds)

    def _settle(self, max_seconds: float) -> float:
        clock, manager = self.clock, self.manager
        start = clock.now()
        end = start + max_seconds
        budget = self.config.max_reconciles
        ran = 0
        while True:
            ran += manager.run_until_idle(budget - ran)
            if ran >= budget and manager.has_work():
                raise errors.SettleTimeout(self._busy_report(
                    f"settle() ran {ran} reconciles without reaching a fixed point "
                    "(livelock guard; raise max_reconciles if this is legitimate work)"))
            deadline = clock.next_pending_deadline()
            if deadline is None:
                return clock.now() - start
            if deadline.when > end:
                raise errors.SettleTimeout(self._busy_report(
                    f"settle(max_seconds={max_seconds:g}) reached its bound at "
                    f"+{clock.now() - start:g}s with deadlines still pending"))
            timer = clock.pop_due(deadline.when)
            if timer is not None:
                timer.callback()

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by exactly ``seconds``, firing timers in order and
        running the work each causes at its instant."""
        if seconds < 0:
            raise ValueError("time can't go backwards")
        if self._served is not None:
            with self._served.paused():
                self._advance(seconds)
            return
        self._advance(seconds)

    def _advance(self, seconds: float) -> None:
        with young_collections_only():
            self._advance_loop(seconds)

    def _advance_loop(self, seconds: float) -> None:
        clock, manager = self.clock, self.manager
        end = clock.now() + seconds
        budget = self.config.max_reconciles
        manager.run_until_idle(budget)
        while (timer := clock.pop_due(end)) is not None:
            timer.callback()
            manager.run_until_idle(budget)
        clock.jump_to(end)
        manager.run_until_idle(budget)

    def _busy_report(self, headline: str) -> str:
        lines = [headline]
        for name, keys in self.manager.busy():
            shown = ", ".join(_fmt_key(k) for k in keys[:10])
            more = f" (+{len(keys) - 10} more)" if len(keys) > 10 else ""
            lines.append(f"  controller {name}: {len(keys)} queued: {shown}{more}")
        pending = [t for t in self.clock.timers() if t.pending][:10]
        for t in pending:
            lines.append(f"  deadline at +{t.when - self.clock.now():g}s: {t.label or t.callback}")
        for (name, key), exc in list(self.manager.last_errors.items())[:5]:
            lines.append(f"  last error of {name} on {_fmt_key(key)}: {exc}")
        return "\n".join(lines)

    # -- nodes and faults ------------------------------------------------------------------

    def _add_node(self, desc: dict) -> None:
        desc = dict(desc)
        name = desc.pop("name")
        self.kubelets.add_node(name, desc)

    @_locked
    def add_node(self, name: str, zone: str | None = None, **description: Any) -> dict:
        """Add a node with a simulated kubelet; takes the keys of a node description
        (``region``, ``cpu``, ``memory``, ``pods``, ``labels``, ``taints``). The node is
        registered, gets its podCIDR and is Ready when this returns."""
        desc = _check_description({"name": name, "zone": zone, **description})
        if self.kubelets.agents.get(name) is not None:
            raise errors.already_exists("nodes", "", name)
        try:
            self.get("Node", name)
            raise errors.already_exists("nodes", "", name)
        except errors.NotFound:
            pass
        self._add_node(desc)
        self.manager.run_until_idle(self.config.max_reconciles)
        return self.get("Node", name)

    @_locked
    def remove_node(self, name: str) -> None:
        """Delete the Node object; its kubelet is gone with it. Pods bound to it stay until
        pod garbage collection removes them, as upstream."""
        self.kubelets.remove(name)
        self.delete("Node", name)

    @_locked
    def fail_node(self, name: str) -> None:
        """The node's kubelet goes silent: no lease renewals, no status updates, no
        deletions; its containers stop. What follows is the control plane's doing."""
        self.kubelets.fail(self._node_agent(name))

    @_locked
    def restore_node(self, name: str) -> None:
        """The kubelet comes back, posts Ready, renews its lease and reconciles its pods."""
        self.kubelets.restore(self._node_agent(name))
        self.manager.run_until_idle(self.config.max_reconciles)

    @property
    def workloads(self) -> Any:
        """The simulated workloads: ``cluster.workloads.register(image, factory)`` runs a
        Python behaviour in the containers of that image (see :mod:`fakekube.kubelet.workloads`)."""
        return self.kubelets.workloads

    @property
    def failed_nodes(self) -> list[str]:
        """Names of the nodes whose kubelet is failed (``fail_node`` without a restore)."""
        return sorted(n for n, a in self.kubelets.agents.items() if a.failed)

    def _node_agent(self, name: str) -> str:
        if name not in self.kubelets.agents:
            raise errors.not_found("nodes", "", name)
        return name

    @_locked
    def cordon(self, name: str) -> dict:
        return self.patch("Node", name, {"spec": {"unschedulable": True}})

    @_locked
    def uncordon(self, name: str) -> dict:
        return self.patch("Node", name, {"spec": {"unschedulable": None}})

    @_locked
    def drain(self, name: str, grace_period_seconds: int | None = None) -> list[str]:
        """Cordon the node and evict its pods through the eviction API, as ``kubectl drain``
        does; pods a PodDisruptionBudget protects stay (one pass, no retries). Returns the
        names of the evicted pods (``namespace/name`` outside ``default``)."""
        self.cordon(name)
        evicted = []
        for pod in self.list("Pod", field_selector=f"spec.nodeName={name}")["items"]:
            m = pod["metadata"]
            if any(r.get("kind") == "DaemonSet" and r.get("controller")
                   for r in m.get("ownerReferences") or ()):
                continue
            if m.get("deletionTimestamp"):
                continue
            body = {"apiVersion": "policy/v1", "kind": "Eviction",
                    "metadata": {"name": m["name"], "namespace": m["namespace"]}}
            if grace_period_seconds is not None:
                body["deleteOptions"] = {"gracePeriodSeconds": grace_period_seconds}
            try:
                self.api.evict(m["name"], m["namespace"], body)
            except errors.TooManyRequests:
                continue
            evicted.append(m["name"] if m["namespace"] == "default"
                           else f"{m['namespace']}/{m['name']}")
        return evicted

    @_locked
    def set_pod_ready(self, name: str, ready: bool | None, namespace: str = "default") -> None:
        """Override the simulated readiness of the pod with this name (also before it
        exists, and for its later incarnations) until set back to ``None``."""
        self.kubelets.set_ready(namespace, name, ready)

    @_locked
    def kill_container(self, pod: str, container: str | None = None,
                       namespace: str = "default", exit_code: int = 1) -> bool:
        """Make a running container exit (all of the pod's when ``container`` is None); the
        kubelet then restarts it with CrashLoopBackOff or not, per the restartPolicy.
        Returns False if nothing was running there."""
        killed = self.kubelets.kill_container(namespace, pod, container, exit_code)
        self.manager.run_until_idle(self.config.max_reconciles)  # the kubelet reports it
        return killed

    # -- the API, in process ---------------------------------------------------------------

    def _rt(self, kind: str) -> ResourceType:
        return self.api.registry.by_kind(kind)

    def create(self, obj: dict) -> dict:
        """Create ``obj`` (a wire-format dict) and return the stored object."""
        if not isinstance(obj, dict):
            raise errors.BadRequest("an object must be a dict in wire format")
        rt = self.api.registry.for_object(obj)
        ns = (obj.get("metadata") or {}).get("namespace") if isinstance(obj.get("metadata"),
                                                                      dict) else None
        return self.api.create(rt, obj, ns or "default")

    def replace(self, obj: dict, subresource: str | None = None) -> dict:
        """Replace an object (PUT): optimistic concurrency on ``metadata.resourceVersion``
        when it is set. ``subresource="status"`` replaces the status only."""
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
            raise errors.BadRequest("an object must be a dict in wire format with metadata")
        meta = obj["metadata"]
        if subresource == "scale":
            raise errors.BadRequest(
                "a Scale names no parent kind: use cluster.patch(kind, name, {'spec': "
                "{'replicas': n}}, subresource='scale') or cluster.scale(kind, name, n)")
        rt = self.api.registry.for_object(obj)
        return self.api.update(rt, obj, meta.get("name"), meta.get("namespace") or "default",
                               subresource=subresource)

    @_locked
    def scale(self, kind: str, name: str, replicas: int, namespace: str = "default") -> dict:
        """Set ``spec.replicas`` through the ``scale`` subresource; returns the new Scale."""
        rt = self._rt(kind)
        scale = self.api.get_scale(rt, name, namespace)
        scale["spec"]["replicas"] = replicas
        return self.api.update_scale(rt, name, namespace, scale)

    def get(self, kind: str, name: str, namespace: str = "default",
            subresource: str | None = None) -> dict:
        rt = self._rt(kind)
        if subresource == "scale":
            return self.api.get_scale(rt, name, namespace)
        if subresource not in (None, "status"):
            raise errors.resource_not_found()
        if subresource == "status" and not rt.has_status:
            raise errors.resource_not_found()
        return self.api.get(rt, name, namespace)

    def list(self, kind: str, namespace: str | None = None, label_selector: Any = None,
             field_selector: Any = None, **options: Any) -> dict:
        """A wire-format ``<Kind>List``, across namespaces unless ``namespace`` is given.
        Options: ``limit``, ``continue_``, ``resource_version``, ``resource_version_match``."""
        return self.api.list(self._rt(kind), namespace, label_selector=label_selector,
                             field_selector=field_selector, **options)

    def patch(self, kind: str, name: str, patch: Any, namespace: str = "default",
              patch_type: str = "merge", subresource: str | None = None,
              field_manager: str | None = None, **options: Any) -> dict:
        return self.api.patch(self._rt(kind), name, patch, namespace, patch_type=patch_type,
                              subresource=subresource, field_manager=field_manager, **options)

    def delete(self, kind: str, name: str, namespace: str = "default",
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               preconditions: dict | None = None, **options: Any) -> dict:
        return self.api.delete(self._rt(kind), name, namespace,
                               grace_period_seconds=grace_period_seconds,
                               propagation_policy=propagation_policy,
                               preconditions=preconditions, **options)

    def delete_collection(self, kind: str, namespace: str | None = None,
                          label_selector: Any = None, field_selector: Any = None,
                          **options: Any) -> dict:
        return self.api.delete_collection(self._rt(kind), namespace,
                                          label_selector=label_selector,
                                          field_selector=field_selector, **options)

    def watch(self, kind: str, namespace: str | None = None, resource_version: str | None = None,
              label_selector: Any = None, field_selector: Any = None,
              allow_bookmarks: bool = False, timeout_seconds: float | None = None,
              send_initial_events: bool | None = None) -> Watch:
        """Watch one kind; see :class:`Watch`."""
        w = self.api.watch(self._rt(kind), namespace, resource_version=resource_version,
                           label_selector=label_selector, field_selector=field_selector,
                           allow_bookmarks=allow_bookmarks,
                           send_initial_events=send_initial_events)
        return Watch(self, w, timeout_seconds)

    def apply(self, manifest: Any, field_manager: str = "fakekube") -> dict | list[dict]:
        """Server-side apply, forced: create what is absent and update what exists; fields
        this manager applied before and no longer applies are removed, fields other managers
        own stay. ``manifest`` is a dict, a list of dicts, or YAML text (several documents
        allowed); returns the stored object, or a list for several.
        """
        docs = _documents(manifest)
        out = []
        for doc in docs:
            rt = self.api.registry.for_object(doc)
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            name = meta.get("name")
            if not name:
                raise errors.invalid(rt.kind, rt.group, "", [errors.FieldError.required(
                    "metadata.name", "name is required for apply")])
            ns = (meta.get("namespace") or "default") if rt.namespaced else None
            out.append(self.api.patch(rt, name, doc, ns, patch_type="apply",
                                      field_manager=field_manager, force=True))
        if isinstance(manifest, dict) or (isinstance(manifest, (str, bytes)) and len(out) == 1):
            return out[0]
        return out

    def close(self) -> None:
        """Let go of everything the cluster holds (tables, controllers, timers, watches).

        A cluster is full of reference cycles (controllers and the handlers they register
        on the store's tables); closing it breaks them so its memory goes back at once
        instead of waiting for the cyclic garbage collector. The ``kube`` fixture closes
        its cluster after the test; using a closed cluster is an error."""
        if self._served is not None:
            raise RuntimeError("stop serving the cluster before closing it")
        for table in self.store.tables.values():
            table.handlers.clear()
            for w in list(table.watchers):
                w.closed = True
            table.watchers.clear()
        self.manager.controllers.clear()
        self.clock._heap.clear()
        self.clock._pending.clear()
        self.clock._named.clear()
        self.ctx = None  # type: ignore[assignment]

    # -- timelines --------------------------------------------------------------------------

    def trace(self, path: str | None = None, format: str = "perfetto", **options: Any
              ) -> dict | str:
        """The history as Chrome trace-event JSON (a dict: open the file in
        ui.perfetto.dev or chrome://tracing; one track per node, a slice per pod
        incarnation, instants for API writes) or, with ``format="html"``, a self-contained
        HTML timeline (the text); written to ``path`` when given. Options: ``max_writes``
        (default 20,000), ``title``."""
        from .trace import export

        return export(self, path, format, **options)

    # -- serving ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def serve(self, auth: bool = True, **options: Any) -> Iterator[Any]:
        """Serve the Kubernetes REST API on loopback while the block runs, with the run loop
        in a background thread: ``endpoint.url``, ``endpoint.kubeconfig`` (for kubectl and
        the official clients), ``endpoint.dns`` ((host, port) of the cluster DNS) and
        ``endpoint.api_client()`` (the official client, in process). ``auth=True`` serves
        HTTPS with a bearer token (kubectl sends tokens only over TLS); ``auth=False``
        plain HTTP. ``settle()`` and ``advance()`` keep working, on the served loop."""
        from .http import serve as _serve

        if self._served is not None:
            raise RuntimeError("this cluster is already being served")
        with _serve(self, auth=auth, **options) as endpoint:
            self._served = endpoint.loop
            try:
                yield endpoint
            finally:
                self._served = None

    # -- storage ---------------------------------------------------------------------------

    @_locked
    def volume(self, claim_name: str, namespace: str = "default") -> VolumeData:
        """The data (a mutable mapping path -> bytes) of the PersistentVolume bound to this
        claim. It lives as long as the volume does, whichever pod or node uses it.

        Raises NotFound for a missing claim and :class:`fakekube.VolumeNotBound` for a claim
        that is not bound yet (settle first, or read its events to see why it is Pending).
        """
        claim = self.api.get(self._rt("PersistentVolumeClaim"), claim_name, namespace,
                             copy_out=False)
        pv_name = (claim.get("spec") or {}).get("volumeName")
        pv = self.api.table(self._rt("PersistentVolume")).objects.get(("", pv_name)) if (
            pv_name) else None
        if pv is None or (claim.get("status") or {}).get("phase") != "Bound":
            raise errors.VolumeNotBound(
                f"PersistentVolumeClaim {namespace}/{claim_name} is not bound to a volume "
                f"(phase {(claim.get('status') or {}).get('phase', 'Pending')}); let the "
                "cluster settle, or look at the claim's events")
        vid = volume_id(pv)
        return self.ctx.volumes.get(vid)

    # -- events ----------------------------------------------------------------------------

    def events(self, obj: dict | None = None, namespace: str | None = None) -> list[dict]:
        """Events, oldest first; only those about ``obj`` when given."""
        items = self.list("Event", namespace)["items"]
        if obj is not None:
            uid = obj["metadata"].get("uid")
            items = [e for e in items if e["involvedObject"].get("uid") == uid]
        return sorted(items, key=lambda e: int(e["metadata"]["resourceVersion"]))


_DESCRIPTION_KEYS = {"name", "zone", "region", "cpu", "memory", "pods", "labels", "taints"}


def _check_description(desc: dict) -> dict:
    unknown = sorted(set(desc) - _DESCRIPTION_KEYS)
    if unknown:
        raise TypeError(f"unknown node description key(s) {', '.join(unknown)}; a node takes "
                        f"{', '.join(sorted(_DESCRIPTION_KEYS))}")
    if not isinstance(desc.get("name"), str) or not desc["name"]:
        raise TypeError("a node description needs a name")
    return {k: v for k, v in desc.items() if v is not None}


def _node_descriptions(nodes: Any, zones: list[str] | None) -> list[dict]:
    if isinstance(nodes, int) and not isinstance(nodes, bool):
        if nodes < 0:
            raise ValueError("nodes must be a count >= 0 or a list of node descriptions")
        out = []
        for i in range(1, nodes + 1):
            d: dict[str, Any] = {"name": f"node-{i}"}
            if zones:
                d["zone"] = zones[(i - 1) % len(zones)]
            out.append(d)
        return out
    if isinstance(nodes, (list, tuple)):
        out = []
        for d in nodes:
            if isinstance(d, str):
                d = {"name": d}
            if not isinstance(d, dict):
                raise TypeError("a node description is a dict like {'name': 'n1', 'zone': 'a'}")
            out.append(_check_description(dict(d)))
        names = [d["name"] for d in out]
        if len(set(names)) != len(names):
            raise ValueError("node names must be unique")
        return out
    raise TypeError("nodes must be a count or a list of node descriptions")


def _documents(manifest: Any) -> list[dict]:
    if isinstance(manifest, bytes):
        manifest = manifest.decode()
    if isinstance(manifest, str):
        try:
            loaded = [d for d in yaml.safe_load_all(manifest) if d is not None]
        except yaml.YAMLError as exc:
            raise errors.BadRequest(f"error parsing YAML: {exc}") from None
        docs: list = []
        for d in loaded:
            if isinstance(d, dict) and d.get("kind", "").endswith("List") and isinstance(
                    d.get("items"), list):
                docs.extend(d["items"])
            else:
                docs.append(d)
    elif isinstance(manifest, dict):
        docs = [manifest]
    elif isinstance(manifest, (list, tuple)):
        docs = list(manifest)
    else:
        raise errors.BadRequest("apply takes a dict, a list of dicts or YAML text")
    for d in docs:
        if not isinstance(d, dict):
            raise errors.BadRequest(f"a manifest document must be a mapping, not {type(d).__name__}")
    return [deep_copy(d) for d in docs]


def _fmt_key(key: Any) -> str:
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key if k)
    return str(key)
