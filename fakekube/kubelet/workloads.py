"""Simulated workloads: Python behaviours that run inside simulated containers.

A behaviour is registered under an image name. When the kubelet starts a container whose
image has one, it builds a fresh behaviour (one per container start: a process; its memory
dies with it) and calls ``behaviour.start(ctx)``; the :class:`WorkloadContext` ``ctx`` is
everything the process sees of its world:

- who it is: ``pod_name``, ``namespace``, ``pod_uid``, ``pod_ip``, ``node_name``,
  ``host_ip``, ``hostname``, ``subdomain``, ``fqdn``, ``container``, ``image``,
  ``command``, ``args``, ``restart_count``, ``labels``, ``annotations``;
- ``env``: the container's environment as the kubelet builds it (``envFrom``, then ``env``
  with ``$(VAR)`` expansion, ``fieldRef`` / ``resourceFieldRef`` / ``configMapKeyRef`` /
  ``secretKeyRef``) plus ``HOSTNAME``;
- ``volumes``: its mounts by ``mountPath``, each a mutable mapping ``path -> bytes``
  (:class:`MountedVolume`): claims (the PersistentVolume's data, the same store as
  ``cluster.volume(claim)``), ``emptyDir`` (lives as long as the pod), ``hostPath``, and
  read-only ``configMap`` / ``secret`` / ``downwardAPI`` / ``projected`` contents;
  ``subPath`` and ``readOnly`` are honoured. Only its own mounts: never another pod's;
- ``resolve(name, rdtype="A")``: the cluster DNS through the pod's search path;
- ``connect(host, port)``: an in-process :class:`Connection` to the process listening on
  that port of the pod the name resolves to (or, for a Service's cluster IP, of one of its
  ready endpoints, as kube-proxy picks them), and ``serve(port, handler)`` to listen;
- ``set_ready(bool)``: its readiness (the container's ``ready``; ``cluster.set_pod_ready``
  overrides it). A process is ready from its start unless it says otherwise;
- time: ``now``, ``call_later(delay, fn)`` (a deadline: a change that *will* happen),
  ``call_every(period, fn)`` (a heartbeat: never keeps ``settle()`` busy), and
  ``retry_on_change(fn)``: run ``fn`` once after the next change that could make a failed
  connection succeed (DNS records, endpoints, pods, a process starting, stopping,
  listening or changing its readiness). That is how a behaviour waits for a peer without
  polling, so ``settle()`` reaches a fixed point: nothing is scheduled while nothing
  changes;
- ``log(...)``, ``exit(code)``, ``rng`` (seeded by the pod UID and restart count).

Lifecycle, as a container lives it: ``start(ctx)`` runs when the container starts (the
sandbox exists, its volumes are attached and mounted); ``stop(ctx)`` runs when the kubelet
stops it gracefully (pod deletion). A node failure, a crash or ``cluster.kill_container``
is a power cut: no ``stop``, the process is gone, its volumes keep what it wrote. An
exception escaping behaviour code crashes the container (exit code 1, the exception as
its termination message; recorded in :attr:`WorkloadManager.crashes`); the kubelet then
restarts it per the pod's ``restartPolicy``, with CrashLoopBackOff. A peer that was
inside a request to the crashed process gets :class:`ConnectionClosed`.

Networking is synchronous and in process: ``conn.request(message)`` calls the server's
``handler(message, conn)`` at once and returns its reply; ``conn.send(message)`` is
one-way and is delivered later in the same virtual instant (by the kubelet's run loop, in
order), to the other end's ``on_message`` (for a server end without one, to the listener's
handler). Messages are plain data; containers (dict, list, tuple, set, bytearray) are
copied across, so two processes never share memory. When a process dies its connections
close, and the other ends' ``on_close`` run (after the messages already in flight).
Unreachable names fail as sockets do: :class:`UnknownHost` (``socket.gaierror``) for a
name the DNS does not answer, :class:`ConnectionRefused` when nothing listens there (a
pod without a behaviour, a dead process, a Service without ready endpoints).

Registration: :func:`register_workload` / the :func:`workload` decorator fill the
process-wide :data:`REGISTRY`; ``cluster.kubelets.workloads.register(image, factory)``
registers for one cluster only and wins over the global one. An image matches its exact
reference first, then its repository without tag or digest (``"kvstore"`` matches
``"kvstore:1"`` and ``"docker.io/library/kvstore:1"``). Containers whose image has no
behaviour run as before: forever, Ready.

Upstream references (facts, not code):

- ``kubernetes/kubernetes:pkg/kubelet/kubelet_pods.go``: ``makeEnvironmentVariables``,
  ``podFieldSelectorRuntimeValue``, ``GeneratePodHostNameAndDomain``,
  ``truncatePodHostnameIfNeeded``;
- ``kubernetes/kubernetes:third_party/forked/golang/expansion/expand.go``: ``$(VAR)``;
- ``kubernetes/kubernetes:pkg/api/v1/resource/helpers.go``: ``ExtractContainerResourceValue``;
- ``kubernetes/kubernetes:pkg/fieldpath/fieldpath.go``: ``FormatMap``;
- ``kubernetes/kubernetes:pkg/kubelet/network/dns/dns.go``: the search path.
"""

from __future__ import annotations

import base64
import errno
import ipaddress
import json
import math
import random
import socket
import traceback
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..api.quantity import parse_quantity
from .volumes import VolumeData, volume_id

if TYPE_CHECKING:
    from ..clock import Timer
    from .kubelet import KubeletController, NodeAgent
    from .runtime import ContainerRuntime, PodRuntime

__all__ = ["Workload", "WorkloadRegistry", "WorkloadContext", "WorkloadManager", "Connection",
           "MountedVolume", "NetworkError", "UnknownHost", "ConnectionRefused",
           "ConnectionClosed", "REGISTRY", "register_workload", "workload", "expand"]

Factory = Callable[[], Any]
Handler = Callable[[Any, "Connection"], Any]
_HOSTNAME_MAX = 63
_LOCALHOST = frozenset(("localhost", "localhost.", "127.0.0.1", "::1"))


# -- errors --------------------------------------------------------------------------------


class NetworkError(OSError):
    """Base of the simulated network's errors (all are ``OSError``, as socket errors)."""


class UnknownHost(NetworkError, socket.gaierror):
    """The name does not resolve (NXDOMAIN, REFUSED, or no address record)."""


class ConnectionRefused(NetworkError, ConnectionRefusedError):
    """Nothing listens at that address and port."""


class ConnectionClosed(NetworkError, ConnectionResetError):
    """The connection is closed (by either end, or because a process died)."""


# -- registration --------------------------------------------------------------------------


class Workload:
    """Optional base class of a behaviour: override :meth:`start` (and :meth:`stop`).

    Any object with a ``start(ctx)`` method will do; ``stop(ctx)`` is optional.
    """

    def start(self, ctx: "WorkloadContext") -> None:
        """The container started: set up (listen, read the volumes, reach peers)."""

    def stop(self, ctx: "WorkloadContext") -> None:
        """The kubelet stops the container gracefully (the pod is being deleted)."""


def _repository(image: str) -> str:
    """``registry/repo:tag@digest`` -> ``registry/repo``."""
    ref = image.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref = ref[:colon]
    return ref


def _short(repo: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if repo.startswith(prefix):
            return repo[len(prefix):]
    return repo


class WorkloadRegistry:
    """Behaviour factories by image; a lookup falls through to ``parent``."""

    def __init__(self, parent: "WorkloadRegistry | None" = None) -> None:
        self.parent = parent
        self._by_image: dict[str, Factory] = {}
        self.version = 0

    def register(self, image: str, factory: Factory | None = None) -> Any:
        """Run ``factory()``'s behaviour in containers of ``image`` (an exact reference like
        ``"kvstore:1"``, or a repository like ``"kvstore"`` for every tag). Without
        ``factory``, a class decorator."""
        if not isinstance(image, str) or not image:
            raise TypeError("an image is a non-empty str")
        if factory is None:
            def decorate(f: Factory) -> Factory:
                self.register(image, f)
                return f
            return decorate
        if not callable(factory):
            raise TypeError("a workload factory is a callable returning a behaviour "
                            "(an object with start(ctx)), e.g. a class")
        self._by_image[image] = factory
        self.version += 1
        return factory

    def unregister(self, image: str) -> None:
        if self._by_image.pop(image, None) is not None:
            self.version += 1

    def lookup(self, image: str) -> Factory | None:
        """The factory for ``image``: own registrations first (exact, repository, short
        repository), then the parent's."""
        own = self._by_image
        if own:
            f = own.get(image)
            if f is None:
                repo = _repository(image)
                f = own.get(repo) or own.get(_short(repo))
            if f is not None:
                return f
        return self.parent.lookup(image) if self.parent is not None else None

    def empty(self) -> bool:
        return not self._by_image and (self.parent is None or self.parent.empty())

    def stamp(self) -> tuple[int, ...]:
        return (self.version,) + (self.parent.stamp() if self.parent is not None else ())

    def __contains__(self, image: str) -> bool:
        return self.lookup(image) is not None

    def images(self) -> list[str]:
        out = set(self._by_image)
        if self.parent is not None:
            out.update(self.parent.images())
        return sorted(out)


REGISTRY = WorkloadRegistry()
"""The process-wide registry every cluster falls back to."""


def register_workload(image: str, factory: Factory) -> Factory:
    """Register ``factory`` (a callable returning a behaviour) for ``image``, globally."""
    return REGISTRY.register(image, factory)


def workload(image: str) -> Callable[[Factory], Factory]:
    """Class decorator: ``@workload("kvstore")`` registers the class globally."""
    return REGISTRY.register(image)


# -- volumes -------------------------------------------------------------------------------


class MountedVolume(MutableMapping):
    """A volume as one container mounts it: ``path -> bytes``, under its ``subPath``,
    read-only if the mount (or the volume kind) is."""

    __slots__ = ("data", "prefix", "read_only", "name")

    def __init__(self, data: VolumeData, name: str, sub_path: str = "",
                 read_only: bool = False) -> None:
        self.data = data
        self.name = name
        self.prefix = ("/" + sub_path.strip("/")) if sub_path.strip("/") else ""
        self.read_only = read_only

    def _key(self, path: str) -> str:
        if not isinstance(path, str):
            raise TypeError("a volume path is a str")
        if not self.prefix:
            return path
        return self.prefix + (path if path.startswith("/") else "/" + path)

    def _check_writable(self) -> None:
        if self.read_only:
            raise OSError(errno.EROFS, f"volume {self.name!r} is mounted read-only")

    def __getitem__(self, path: str) -> bytes:
        return self.data[self._key(path)]

    def __setitem__(self, path: str, value: bytes) -> None:
        self._check_writable()
        self.data[self._key(path)] = value

    def __delitem__(self, path: str) -> None:
        self._check_writable()
        del self.data[self._key(path)]

    def __iter__(self) -> Iterator[str]:
        if not self.prefix:
            return iter(self.data)
        p = self.prefix + "/"
        n = len(self.prefix)
        return iter([k[n:] for k in self.data if k.startswith(p)])

    def __len__(self) -> int:
        if not self.prefix:
            return len(self.data)
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        ro = " ro" if self.read_only else ""
        return f"<MountedVolume {self.name}{self.prefix}{ro}: {len(self)} file(s)>"


# -- connections ---------------------------------------------------------------------------


def _copy(m: Any) -> Any:
    """Copy plain data across the process boundary (immutable leaves shared)."""
    t = type(m)
    if t is dict:
        return {k: _copy(v) for k, v in m.items()}
    if t is list:
        return [_copy(v) for v in m]
    if t is tuple:
        return tuple(_copy(v) for v in m)
    if t is set:
        return {_copy(v) for v in m}
    if t is bytearray:
        return bytes(m)
    return m


class Connection:
    """One end of an in-process connection.

    The connecting end calls :meth:`request` (synchronous: the server's handler runs now
    and its reply is returned) and :meth:`send` (one-way, delivered later in the same
    instant); the server end can :meth:`send` back (pushes, to the client's
    ``on_message``). ``on_message(message)`` and ``on_close()`` are settable attributes.
    """

    __slots__ = ("_manager", "_owner", "_peer", "_handler", "closed", "_gone", "on_message",
                 "on_close", "local_ip", "remote_ip", "port", "server_side")

    def __init__(self, manager: "WorkloadManager", owner: "WorkloadContext | None",
                 local_ip: str, remote_ip: str, port: int, server_side: bool,
                 handler: Handler | None = None) -> None:
        self._manager = manager
        self._owner = owner
        self._peer: Connection | None = None
        self._handler = handler
        self.closed = False
        self._gone = False  # closed by this end (or its process died): nothing more arrives
        self.on_message: Callable[[Any], Any] | None = None
        self.on_close: Callable[[], Any] | None = None
        self.local_ip = local_ip
        self.remote_ip = remote_ip
        self.port = port
        self.server_side = server_side

    def request(self, message: Any) -> Any:
        """Send ``message`` to the server's handler and return its reply (copied)."""
        if self.server_side:
            raise TypeError("the server end of a connection answers requests; use send()")
        if self._owner is None:  # from the test: one step of the cluster, under its lock
            return self._manager._outside(self._request, message)
        return self._request(message)

    def _request(self, message: Any) -> Any:
        if self.closed:
            raise ConnectionClosed(f"connection to {self.remote_ip}:{self.port} is closed")
        peer = self._peer
        assert peer is not None and peer._handler is not None
        ok, reply = self._manager._call(peer._owner, peer._handler, _copy(message), peer)
        if not ok:
            raise ConnectionClosed(
                f"connection to {self.remote_ip}:{self.port} reset by peer") from reply
        return _copy(reply)

    def send(self, message: Any) -> None:
        """One-way ``message`` to the other end, delivered in order later in this instant."""
        if self._owner is None:
            return self._manager._outside(self._send, message)
        return self._send(message)

    def _send(self, message: Any) -> None:
        if self.closed:
            raise ConnectionClosed(f"connection to {self.remote_ip}:{self.port} is closed")
        peer = self._peer
        assert peer is not None
        self._manager._post(peer._owner, peer._deliver, (_copy(message),))

    def _deliver(self, message: Any) -> None:
        if self._gone:
            return
        if self.on_message is not None:
            self.on_message(message)
        elif self._handler is not None:
            self._handler(message, self)

    def close(self) -> None:
        """Close both ends; the other end's ``on_close`` runs later in this instant."""
        if self._owner is None:
            self._manager._outside(self._drop)
        else:
            self._drop()

    def _drop(self) -> None:
        if self._gone:
            return
        self._gone = True
        self.closed = True
        if self._owner is not None:
            self._owner._conns.pop(self, None)
        peer = self._peer
        if peer is not None and not peer.closed:
            peer.closed = True
            self._manager._post(peer._owner, peer._closed_by_peer, ())

    def _closed_by_peer(self) -> None:
        if self._gone:
            return
        self._gone = True
        if self._owner is not None:
            self._owner._conns.pop(self, None)
        if self.on_close is not None:
            self.on_close()

    def __repr__(self) -> str:
        side = "server" if self.server_side else "client"
        state = " closed" if self.closed else ""
        return f"<Connection {side} {self.local_ip} <-> {self.remote_ip}:{self.port}{state}>"


# -- what a process sees -------------------------------------------------------------------


class _Handle:
    """A cancelled timer stand-in, for calls made by a process that is gone."""

    cancelled = True

    def cancel(self) -> None:
        pass


class WorkloadContext:
    """What one container's behaviour sees (one per container start). See the module
    docstring for the whole surface."""

    def __init__(self, manager: "WorkloadManager", agent: "NodeAgent", pod: dict,
                 rt: "PodRuntime", c: "ContainerRuntime", spec: dict) -> None:
        m = pod["metadata"]
        pspec = pod.get("spec") or {}
        self._manager = manager
        self._crt = c
        self._behaviour: Any = None
        self._timers: dict[Timer, None] = {}
        self._ports: dict[int, Handler] = {}
        self._conns: dict[Connection, None] = {}
        self._log: list[str] = []
        self.alive = True
        self._ready = True
        self.pod_name: str = m["name"]
        self.namespace: str = m["namespace"]
        self.pod_uid: str = m["uid"]
        self.pod_ip: str = rt.ip or ""
        self.node_name: str = agent.name
        self.host_ip: str = agent.internal_ip
        self.container: str = c.name
        self.image: str = c.image
        self.restart_count: int = c.restart_count
        self.labels: dict[str, str] = dict(m.get("labels") or {})
        self.annotations: dict[str, str] = dict(m.get("annotations") or {})
        self.command: list[str] = list(spec.get("command") or ())
        self.args: list[str] = list(spec.get("args") or ())
        domain = manager.cluster_domain
        self.hostname, self.subdomain = pod_hostname(pod)
        self.fqdn = (f"{self.hostname}.{self.subdomain}.{self.namespace}.svc.{domain}"
                     if self.subdomain else self.hostname)
        if pspec.get("setHostnameAsFQDN") and self.subdomain:
            self.hostname = self.fqdn
        self.env: dict[str, str] = manager._environment(pod, spec, agent, rt)
        self.env.setdefault("HOSTNAME", self.hostname)
        self.volumes: dict[str, MountedVolume] = manager._mounts(pod, spec, agent)
        self.rng = random.Random(f"{self.pod_uid}:{c.name}:{c.restart_count}")
        self._hosts = {self.hostname.lower(): self.pod_ip, self.fqdn.lower(): self.pod_ip}
        for alias in pspec.get("hostAliases") or ():
            for h in alias.get("hostnames") or ():
                self._hosts.setdefault(h.lower(), alias.get("ip", ""))

    # -- time ------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Virtual time (seconds since the epoch)."""
        return self._manager.clock.now()

    def call_later(self, delay: float, fn: Callable[[], Any]) -> "Timer | _Handle":
        """Run ``fn()`` in ``delay`` virtual seconds: a deadline (``settle()`` waits for it),
        so only for a change that will happen. Cancel with ``.cancel()``."""
        return self._manager._timer(self, fn, delay, None)

    def call_every(self, period: float, fn: Callable[[], Any]) -> "Timer | _Handle":
        """Run ``fn()`` every ``period`` virtual seconds: a heartbeat (``settle()`` does not
        wait for it; ``advance()`` fires it)."""
        return self._manager._timer(self, fn, None, period)

    def retry_on_change(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` once, after the next change that could make a failed connection
        succeed. The event-driven way to wait for a peer."""
        if self.alive:
            self._manager.waiters.append((self, fn))

    # -- readiness and exit ----------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """The readiness this process reports (True from its start unless it says not)."""
        return self._ready

    def set_ready(self, ready: bool) -> None:
        """Report readiness (what a readiness probe would find)."""
        ready = bool(ready)
        if not self.alive or ready == self._ready:
            return
        self._ready = ready
        self._manager._readiness_changed(self)

    def exit(self, code: int = 0) -> None:
        """The process ends with this exit code; the kubelet restarts it per the pod's
        restartPolicy. Code after this call runs on, but the process is gone."""
        self._manager._exit(self, int(code), "")

    def log(self, *parts: Any) -> None:
        """Append a line to the container's log (``cluster.kubelets.workloads.logs``)."""
        self._log.append(" ".join(str(p) for p in parts))

    # -- network ---------------------------------------------------------------------------

    def resolve(self, name: str, rdtype: str | int = "A") -> list[str]:
        """The cluster DNS's answer through this pod's search path (``[]`` for NODATA);
        raises :class:`fakekube.dns.NXDomain` / :class:`fakekube.dns.Refused`."""
        return self._manager.dns_resolver().resolve(name, rdtype, from_namespace=self.namespace)

    def connect(self, host: str, port: int) -> Connection:
        """An in-process connection to whatever listens at ``host:port``; raises
        :class:`UnknownHost` or :class:`ConnectionRefused`."""
        if not self.alive:
            raise ConnectionRefused("the process has exited")
        return self._manager._connect(self, self.namespace, host, port)

    def serve(self, port: int, handler: Handler) -> None:
        """Listen on ``port`` of the pod's IP: ``handler(message, conn)`` answers each
        request (its return value is the reply) and each one-way message."""
        self._manager._listen(self, port, handler)

    def unserve(self, port: int) -> None:
        self._manager._unlisten(self, port)

    @property
    def connections(self) -> list[Connection]:
        return list(self._conns)

    @property
    def behaviour(self) -> Any:
        return self._behaviour

    def __repr__(self) -> str:
        state = "running" if self.alive else "exited"
        return f"<WorkloadContext {self.namespace}/{self.pod_name} {self.container} {state}>"


def pod_hostname(pod: dict) -> tuple[str, str]:
    """(hostname, subdomain) as the kubelet gives them to a pod: ``spec.hostname`` or the
    pod name, cut to 63 characters without a trailing ``-`` or ``.``."""
    spec = pod.get("spec") or {}
    hostname = spec.get("hostname") or pod["metadata"]["name"]
    if len(hostname) > _HOSTNAME_MAX:
        hostname = hostname[:_HOSTNAME_MAX].rstrip("-.")
    return hostname, spec.get("subdomain") or ""


def expand(value: str, lookup: Callable[[str], str | None]) -> str:
    """Kubernetes ``$(VAR)`` expansion: ``$(NAME)`` becomes NAME's value when ``lookup``
    knows it and stays as written otherwise; ``$$`` is a literal ``$``; any other ``$`` is
    kept."""
    if "$" not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = value[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = value.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
                continue
            name = value[i + 2:close]
            got = lookup(name)
            out.append(got if got is not None else f"$({name})")
            i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


# -- the manager ---------------------------------------------------------------------------


class WorkloadManager:
    """The kubelets' process table and in-process network, one per cluster
    (``cluster.kubelets.workloads``).

    Public: :meth:`register`, :attr:`registry`, :meth:`connect` / :meth:`resolve` (from the
    test, as a client in a namespace), :meth:`process` (a live process's context),
    :meth:`logs`, :attr:`crashes`. The rest is called by the kubelet.
    """

    def __init__(self, kubelet: "KubeletController") -> None:
        self._kubelet = kubelet
        self.clock = kubelet.clock
        self.cluster_domain = str(kubelet.config.cluster_domain).strip(".")
        self.registry = WorkloadRegistry(parent=REGISTRY)
        self.procs: dict[tuple[str, str], WorkloadContext] = {}  # (pod uid, container)
        self.by_pod: dict[str, list[WorkloadContext]] = {}
        self.listeners: dict[tuple[str, int], tuple[WorkloadContext, Handler]] = {}
        self.waiters: list[tuple[WorkloadContext, Callable[[], Any]]] = []
        self.mailbox: list[tuple[WorkloadContext | None, Callable, tuple]] = []
        self.crashes: list[tuple[str, str, str, BaseException]] = []
        self.dns: Any = None  # the cluster's ClusterDNS (made on first use if not wired)
        self._logs: dict[tuple[str, str, str], list[str]] = {}
        self._empty_dirs: dict[tuple[str, str], VolumeData] = {}
        self._factories: dict[str, Factory | None] = {}
        self._stamp: tuple[int, ...] = ()
        self._rr: dict[tuple[str, int], int] = {}
        self._informers: dict[str, Any] = {}

    # -- public ----------------------------------------------------------------------------

    def register(self, image: str, factory: Factory | None = None) -> Any:
        """Register a behaviour for this cluster only (wins over the global registry)."""
        return self.registry.register(image, factory)

    def connect(self, host: str, port: int, namespace: str = "default") -> Connection:
        """A connection from the test, as a client in a pod of ``namespace`` would open it
        (its search path resolves short names). Callbacks on it (``on_message``,
        ``on_close``) run in the cluster's run loop (``settle``, ``advance``)."""
        return self._outside(self._connect, None, namespace, host, port)

    def resolve(self, name: str, rdtype: str | int = "A", namespace: str = "default"
                ) -> list[str]:
        return self.dns_resolver().resolve(name, rdtype, from_namespace=namespace)

    def process(self, pod: str, container: str | None = None, namespace: str = "default"
                ) -> WorkloadContext | None:
        """The live process of that pod's container (the first container with one when
        ``container`` is None), or None."""
        for proc in self.procs.values():
            if proc.pod_name == pod and proc.namespace == namespace and (
                    container is None or proc.container == container):
                return proc
        return None

    def logs(self, pod: str, container: str | None = None, namespace: str = "default") -> str:
        """The log of the latest process of that pod's container."""
        for (ns, name, cname), lines in self._logs.items():
            if ns == namespace and name == pod and (container is None or cname == container):
                return "".join(line + "\n" for line in lines)
        return ""

    def dns_resolver(self) -> Any:
        if self.dns is None:
            from ..dns import ClusterDNS

            self.dns = ClusterDNS(self._kubelet.api)
        return self.dns

    # -- called by the kubelet -------------------------------------------------------------

    def active(self) -> bool:
        """Whether any behaviour is registered (else containers have nothing to run)."""
        return not self.registry.empty()

    def factory(self, image: str) -> Factory | None:
        stamp = self.registry.stamp()
        if stamp != self._stamp:
            self._factories.clear()
            self._stamp = stamp
        try:
            return self._factories[image]
        except KeyError:
            f = self._factories[image] = self.registry.lookup(image)
            return f

    def start(self, agent: "NodeAgent", pod: dict, rt: "PodRuntime",
              containers: list["ContainerRuntime"]) -> None:
        """Start the behaviours of these (just started) containers of the pod."""
        specs = None
        for c in containers:
            f = self.factory(c.image)
            if f is None:
                continue
            if specs is None:
                specs = {s.get("name"): s for s in (pod.get("spec") or {}).get("containers") or ()}
            old = self.procs.get((rt.uid, c.name))
            if old is not None:
                self._die(old, graceful=False)
            proc = WorkloadContext(self, agent, pod, rt, c, specs.get(c.name) or {})
            self.procs[(rt.uid, c.name)] = proc
            self.by_pod.setdefault(rt.uid, []).append(proc)
            self._logs.pop((proc.namespace, proc.pod_name, c.name), None)
            self._logs[(proc.namespace, proc.pod_name, c.name)] = proc._log
            ok, behaviour = self._call(proc, f)
            if not ok:
                continue
            proc._behaviour = behaviour
            start = getattr(behaviour, "start", None)
            if start is None:
                self._exit(proc, 1, f"workload {type(behaviour).__name__} has no start(ctx)")
                continue
            self._call(proc, start, proc)

    def kill(self, uid: str, container: str, graceful: bool) -> None:
        proc = self.procs.get((uid, container))
        if proc is not None:
            self._die(proc, graceful)

    def kill_pod(self, uid: str, graceful: bool) -> None:
        procs = self.by_pod.get(uid)
        if procs:
            for proc in list(procs):
                self._die(proc, graceful)

    def forget_pod(self, uid: str, graceful: bool = True) -> None:
        """The pod incarnation is gone from this node: its processes stop, its emptyDirs go."""
        self.kill_pod(uid, graceful)
        if self._empty_dirs:
            for key in [k for k in self._empty_dirs if k[0] == uid]:
                del self._empty_dirs[key]

    def network_changed(self) -> None:
        """Something a connection depends on changed: wake every ``retry_on_change``."""
        if not self.waiters:
            return
        batch, self.waiters = self.waiters, []
        for proc, fn in batch:
            if proc.alive:
                self.mailbox.append((proc, fn, ()))
        self._kick()

    def drain(self) -> None:
        """Run what is in the mailbox (deliveries, closes, timers, wake-ups), in order."""
        batch, self.mailbox = self.mailbox, []
        for proc, fn, args in batch:
            if proc is not None and not proc.alive:
                continue
            if proc is None:
                fn(*args)  # the test's own callbacks: their errors are the test's
            else:
                self._call(proc, fn, *args)
        if self.mailbox:
            self._kick()

    # -- internals -------------------------------------------------------------------------

    def _outside(self, fn: Callable, *args: Any) -> Any:
        """Run a call from the test process as one step of the cluster: under the store's
        lock (served mode runs the loop in another thread), waking the served loop for the
        work it leaves."""
        store = self._kubelet.api.store
        with store.lock:
            try:
                return fn(*args)
            finally:
                if self.mailbox:
                    store.changed.notify_all()

    def _kick(self) -> None:
        self._kubelet.queue.add(("workloads",))

    def _post(self, proc: WorkloadContext | None, fn: Callable, args: tuple) -> None:
        if proc is not None and not proc.alive:
            return
        self.mailbox.append((proc, fn, args))
        self._kick()

    def _call(self, proc: WorkloadContext | None, fn: Callable, *args: Any) -> tuple[bool, Any]:
        """Run behaviour code on behalf of ``proc``; an exception crashes the process."""
        if proc is None:
            return True, fn(*args)
        try:
            return True, fn(*args)
        except Exception as exc:  # noqa: BLE001 - a crash of the simulated program
            self._crash(proc, exc)
            return False, exc

    def _crash(self, proc: WorkloadContext, exc: BaseException) -> None:
        self.crashes.append((proc.namespace, proc.pod_name, proc.container, exc))
        proc._log.extend(traceback.format_exception(exc)[-1:])
        self._exit(proc, 1, f"{type(exc).__name__}: {exc}")

    def _exit(self, proc: WorkloadContext, code: int, message: str) -> None:
        if not proc.alive:
            return
        self._die(proc, graceful=False)
        c = proc._crt
        if c.state == "running":
            c.exit_at = self.clock.now()
            c.pending_exit_code = code
            c.message = message
            self._kubelet.queue.add(("pod", proc.namespace, proc.pod_name))

    def _die(self, proc: WorkloadContext, graceful: bool) -> None:
        if not proc.alive:
            return
        if graceful:
            stop = getattr(proc._behaviour, "stop", None)
            if stop is not None:
                try:
                    stop(proc)
                except Exception as exc:  # noqa: BLE001 - the process is going anyway
                    self.crashes.append((proc.namespace, proc.pod_name, proc.container, exc))
                    proc._log.extend(traceback.format_exception(exc)[-1:])
        if not proc.alive:
            return
        proc.alive = False
        for t in list(proc._timers):
            t.cancel()
        proc._timers.clear()
        for port in list(proc._ports):
            self.listeners.pop((proc.pod_ip, port), None)
        proc._ports.clear()
        for conn in list(proc._conns):
            conn._drop()
        key = (proc.pod_uid, proc.container)
        if self.procs.get(key) is proc:
            del self.procs[key]
        siblings = self.by_pod.get(proc.pod_uid)
        if siblings is not None:
            if proc in siblings:
                siblings.remove(proc)
            if not siblings:
                del self.by_pod[proc.pod_uid]
        self.network_changed()

    def _readiness_changed(self, proc: WorkloadContext) -> None:
        self._kubelet.queue.add(("pod", proc.namespace, proc.pod_name))
        self.network_changed()

    def _timer(self, proc: WorkloadContext, fn: Callable[[], Any], delay: float | None,
               period: float | None) -> "Timer | _Handle":
        if not proc.alive:
            return _Handle()
        label = f"workload {proc.namespace}/{proc.pod_name} {proc.container}"
        if period is not None:
            t = self.clock.call_every(period, lambda: self._post(proc, fn, ()), label=label)
        else:
            def fire() -> None:
                proc._timers.pop(t, None)
                self._post(proc, fn, ())
            t = self.clock.call_later(delay or 0.0, fire, label=label)
        proc._timers[t] = None
        return t

    # -- network ---------------------------------------------------------------------------

    def _listen(self, proc: WorkloadContext, port: int, handler: Handler) -> None:
        _check_port(port)
        if not callable(handler):
            raise TypeError("a handler is a callable handler(message, conn)")
        if not proc.alive:
            return
        key = (proc.pod_ip, port)
        holder = self.listeners.get(key)
        if holder is not None:
            raise OSError(errno.EADDRINUSE, f"port {port} of {proc.pod_ip} is already in use "
                          f"(container {holder[0].container})")
        self.listeners[key] = (proc, handler)
        proc._ports[port] = handler
        self.network_changed()

    def _unlisten(self, proc: WorkloadContext, port: int) -> None:
        if proc._ports.pop(port, None) is not None:
            self.listeners.pop((proc.pod_ip, port), None)
            self.network_changed()

    def _connect(self, caller: WorkloadContext | None, namespace: str, host: str,
                 port: int) -> Connection:
        _check_port(port)
        if not isinstance(host, str) or not host:
            raise TypeError("a host is a non-empty str")
        addresses = self._addresses(caller, namespace, host)
        for ip in addresses:
            target = self.listeners.get((ip, port))
            dest_ip, dest_port = ip, port
            if target is None:
                routed = self._via_service(ip, port)
                if routed is not None:
                    dest_ip, dest_port = routed
                    target = self.listeners.get(routed)
            if target is None:
                continue
            server_proc, handler = target
            local_ip = caller.pod_ip if caller is not None else "0.0.0.0"
            client = Connection(self, caller, local_ip, ip, port, False)
            server = Connection(self, server_proc, dest_ip, local_ip, dest_port, True, handler)
            client._peer, server._peer = server, client
            if caller is not None:
                caller._conns[client] = None
            server_proc._conns[server] = None
            return client
        shown = host if addresses == [host] else f"{host} ({', '.join(addresses)})"
        raise ConnectionRefused(errno.ECONNREFUSED,
                                f"connect to {shown} port {port}: connection refused")

    def _addresses(self, caller: WorkloadContext | None, namespace: str, host: str) -> list[str]:
        h = host.lower()
        if h in _LOCALHOST:
            if caller is None:
                raise ConnectionRefused(errno.ECONNREFUSED,
                                        f"{host}: the test process is not in a pod")
            return [caller.pod_ip]
        if caller is not None:
            known = caller._hosts.get(h.rstrip("."))
            if known:
                return [known]
        try:
            ipaddress.ip_address(h)
            return [h]
        except ValueError:
            pass
        from ..dns import DNSLookupError

        try:
            answers = self.dns_resolver().resolve(host, "A", from_namespace=namespace)
        except DNSLookupError as exc:
            raise UnknownHost(socket.EAI_NONAME, f"{host}: Name or service not known ({exc})"
                              ) from None
        except ValueError as exc:
            raise UnknownHost(socket.EAI_NONAME, f"{host}: {exc}") from None
        if not answers:
            raise UnknownHost(socket.EAI_NODATA, f"{host}: No address associated with hostname")
        return answers

    def _informer(self, kind: str) -> Any:
        inf = self._informers.get(kind)
        if inf is None:
            inf = self._informers[kind] = self._kubelet.ctx.informer(kind)
        return inf

    def _via_service(self, ip: str, port: int) -> tuple[str, int] | None:
        """kube-proxy: a Service's cluster IP and port -> one ready endpoint (round robin)."""
        for svc in self._informer("Service"):
            spec = svc.get("spec") or {}
            ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
            if ip not in ips:
                continue
            sport = next((p for p in spec.get("ports") or () if p.get("port") == port), None)
            if sport is None:
                return None
            m = svc["metadata"]
            targets: list[tuple[str, int]] = []
            slices = self._informer("EndpointSlice").by_label(
                "kubernetes.io/service-name", m["name"], m["namespace"])
            for sl in sorted(slices, key=lambda s: s["metadata"]["name"]):
                number = next((p.get("port") for p in sl.get("ports") or ()
                               if (p.get("name") or "") == (sport.get("name") or "")), None)
                if number is None:
                    continue
                for ep in sl.get("endpoints") or ():
                    if (ep.get("conditions") or {}).get("ready") is False:
                        continue
                    for addr in ep.get("addresses") or ():
                        targets.append((addr, number))
            if not targets:
                return None
            n = self._rr.get((ip, port), 0)
            self._rr[(ip, port)] = n + 1
            return targets[n % len(targets)]
        return None

    # -- environment and volumes -----------------------------------------------------------

    def _environment(self, pod: dict, spec: dict, agent: "NodeAgent", rt: "PodRuntime"
                     ) -> dict[str, str]:
        env: dict[str, str] = {}
        ns = pod["metadata"]["namespace"]
        for src in spec.get("envFrom") or ():
            prefix = src.get("prefix") or ""
            if src.get("configMapRef"):
                obj = self._informer("ConfigMap").get(src["configMapRef"].get("name", ""), ns)
                for k, v in ((obj or {}).get("data") or {}).items():
                    env[prefix + k] = v
            elif src.get("secretRef"):
                obj = self._informer("Secret").get(src["secretRef"].get("name", ""), ns)
                for k, v in ((obj or {}).get("data") or {}).items():
                    env[prefix + k] = _b64(v).decode("utf-8", "replace")
        for var in spec.get("env") or ():
            name = var.get("name")
            if not name:
                continue
            src = var.get("valueFrom")
            if not src:
                env[name] = expand(var.get("value") or "", env.get)
                continue
            value = self._value_from(pod, spec, agent, rt, src)
            if value is not None:
                env[name] = value
        return env

    def _value_from(self, pod: dict, spec: dict, agent: "NodeAgent", rt: "PodRuntime",
                    src: dict) -> str | None:
        ns = pod["metadata"]["namespace"]
        if src.get("fieldRef"):
            return field_value(pod, src["fieldRef"].get("fieldPath", ""), rt.ip or "",
                               agent.internal_ip)
        if src.get("resourceFieldRef"):
            ref = src["resourceFieldRef"]
            node = self._kubelet.nodes.get(agent.name)
            alloc = ((node or {}).get("status") or {}).get("allocatable") or {}
            return resource_value(spec, ref.get("resource", ""), ref.get("divisor"), alloc)
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            ref = src.get(key)
            if ref:
                obj = self._informer(kind).get(ref.get("name", ""), ns)
                data = (obj or {}).get("data") or {}
                if ref.get("key") not in data:
                    return None
                v = data[ref["key"]]
                return _b64(v).decode("utf-8", "replace") if kind == "Secret" else v
        return None

    def _mounts(self, pod: dict, spec: dict, agent: "NodeAgent") -> dict[str, MountedVolume]:
        mounts = spec.get("volumeMounts") or ()
        if not mounts:
            return {}
        volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or ()}
        out: dict[str, MountedVolume] = {}
        for vm in mounts:
            vol = volumes.get(vm.get("name"))
            path = vm.get("mountPath")
            if vol is None or not path:
                continue
            got = self._volume_data(pod, vol, agent)
            if got is None:
                continue
            data, read_only = got
            out[path] = MountedVolume(data, vol["name"], vm.get("subPath") or "",
                                      read_only or bool(vm.get("readOnly")))
        return out

    def _volume_data(self, pod: dict, vol: dict, agent: "NodeAgent"
                     ) -> tuple[VolumeData, bool] | None:
        m = pod["metadata"]
        ns = m["namespace"]
        claim_name = None
        if vol.get("persistentVolumeClaim"):
            claim_name = vol["persistentVolumeClaim"].get("claimName")
        elif vol.get("ephemeral"):
            claim_name = f"{m['name']}-{vol['name']}"
        if claim_name:
            k = self._kubelet
            claim = k.claims.get(claim_name, ns)
            pv_name = ((claim or {}).get("spec") or {}).get("volumeName")
            pv = k.volumes.get(pv_name) if pv_name else None
            vid = volume_id(pv) if pv is not None else None
            if vid is None:
                return None
            ro = bool((vol.get("persistentVolumeClaim") or {}).get("readOnly"))
            return k.ctx.volumes.get(vid), ro
        if "emptyDir" in vol:
            key = (m["uid"], vol["name"])
            data = self._empty_dirs.get(key)
            if data is None:
                data = self._empty_dirs[key] = VolumeData(f"emptyDir^{m['uid']}^{vol['name']}")
            return data, False
        if vol.get("hostPath"):
            return self._kubelet.ctx.volumes.get(
                f"hostPath^{vol['hostPath'].get('path', '')}^{agent.name}"), False
        files = self._projected(pod, vol, agent)
        if files is None:
            return None
        data = VolumeData(f"{vol['name']}^{m['uid']}")
        for p, content in files.items():
            data[p] = content
        return data, True

    def _projected(self, pod: dict, vol: dict, agent: "NodeAgent") -> dict[str, bytes] | None:
        """The files of a configMap, secret, downwardAPI or projected volume (a snapshot
        taken when the container starts)."""
        if vol.get("projected"):
            sources = vol["projected"].get("sources") or ()
        elif any(k in vol for k in ("configMap", "secret", "downwardAPI")):
            sources = (vol,)
        else:
            return None
        ns = pod["metadata"]["namespace"]
        files: dict[str, bytes] = {}
        for src in sources:
            if src.get("configMap") or src.get("secret"):
                secret = bool(src.get("secret"))
                ref = src.get("secret") or src.get("configMap")
                name = ref.get("secretName" if "secretName" in ref else "name", "")
                obj = self._informer("Secret" if secret else "ConfigMap").get(name, ns) or {}
                data: dict[str, bytes] = {}
                for k, v in (obj.get("data") or {}).items():
                    data[k] = _b64(v) if secret else v.encode()
                for k, v in (obj.get("binaryData") or {}).items():
                    data[k] = _b64(v)
                items = ref.get("items")
                if items:
                    for it in items:
                        if it.get("key") in data:
                            files["/" + it.get("path", it["key"]).lstrip("/")] = data[it["key"]]
                else:
                    for k, v in data.items():
                        files["/" + k] = v
            elif src.get("downwardAPI"):
                for it in src["downwardAPI"].get("items") or ():
                    ref = it.get("fieldRef")
                    if ref:
                        value = field_value(pod, ref.get("fieldPath", ""), "", agent.internal_ip)
                        if value is not None:
                            files["/" + it.get("path", "").lstrip("/")] = value.encode()
        return files


def _check_port(port: Any) -> None:
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValueError(f"a port is an int in 1..65535, not {port!r}")


def _b64(v: str) -> bytes:
    try:
        return base64.b64decode(v)
    except (ValueError, TypeError):
        return v.encode() if isinstance(v, str) else b""


def _format_map(d: dict) -> str:
    """``fieldpath.FormatMap``: ``key="value"`` lines (the value quoted), sorted by key."""
    return "\n".join(f"{k}={json.dumps(d[k], ensure_ascii=False)}" for k in sorted(d))


def field_value(pod: dict, path: str, pod_ip: str, host_ip: str) -> str | None:
    """A downward API ``fieldRef`` of the pod (``podFieldSelectorRuntimeValue`` and
    ``ExtractFieldPathAsString``); None for a path the kubelet does not support."""
    m = pod["metadata"]
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    if path == "metadata.name":
        return m["name"]
    if path == "metadata.namespace":
        return m["namespace"]
    if path == "metadata.uid":
        return m.get("uid", "")
    if path == "metadata.labels":
        return _format_map(m.get("labels") or {})
    if path == "metadata.annotations":
        return _format_map(m.get("annotations") or {})
    for prefix, mapping in (("metadata.labels", m.get("labels")),
                            ("metadata.annotations", m.get("annotations"))):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return (mapping or {}).get(path[len(prefix) + 2:-2], "")
    if path == "spec.nodeName":
        return spec.get("nodeName", "")
    if path == "spec.serviceAccountName":
        return spec.get("serviceAccountName", "")
    if path in ("status.podIP", "status.podIPs"):
        return pod_ip or status.get("podIP", "")
    if path in ("status.hostIP", "status.hostIPs"):
        return host_ip or status.get("hostIP", "")
    return None


def resource_value(spec: dict, resource: str, divisor: Any, allocatable: dict) -> str:
    """A ``resourceFieldRef``: the container's limit (the node's allocatable when it has
    none) or request, divided by ``divisor`` and rounded up, as upstream."""
    kind, _, name = resource.partition(".")
    res = spec.get("resources") or {}
    if kind == "limits":
        raw = (res.get("limits") or {}).get(name, allocatable.get(name))
    elif kind == "requests":
        raw = (res.get("requests") or {}).get(name)
    else:
        return ""
    try:
        value = parse_quantity(raw) if raw is not None else 0
        div = parse_quantity(divisor) if divisor not in (None, "", 0) else 1
    except (ValueError, TypeError):
        return ""
    if not div:
        div = 1
    if name == "cpu":
        milli = math.ceil(value * 1000)
        div_milli = max(1, math.ceil(div * 1000))
        return str(math.ceil(milli / div_milli))
    return str(math.ceil(value / div))
