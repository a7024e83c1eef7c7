"""A replicated key-value store, simulated: the story fakekube exists for.

The ``kvstore`` image (any tag; registered globally when this module is imported) runs
:class:`KVStore` in a StatefulSet behind a headless Service, with a claim mounted at
``/var/lib/kvstore`` (``KV_DATA``) and listening on port 7379 (``KV_PORT``):

- **ordinal 0 is the primary** (the ordinal comes from the hostname ``<set>-<ordinal>``).
  It accepts writes; a write is acknowledged only once it is on its volume. It is Ready as
  soon as it runs.
- **a new replica** (ordinal ``i > 0``, nothing on its volume yet) first **clones** the data
  from the previous ordinal: it connects to ``<set>-<i-1>.<service>`` (its stable DNS name,
  through the cluster DNS), asks for a snapshot over that connection and writes it to its
  own volume. It is Ready once it has cloned. Until the previous ordinal answers (it is not
  in the DNS yet, not running, or not cloned itself) it waits for the network to change
  (``ctx.retry_on_change``): no polling, so ``settle()`` reaches a fixed point.
- then **every replica follows the primary**: it connects to ``<set>-0.<service>`` and
  subscribes with the history id and sequence number it holds; the primary answers with a
  full snapshot when they differ and then pushes every write over that connection, in
  order. When the connection breaks (the primary died), the replica subscribes again as
  soon as the network changes. Replication is asynchronous and deterministic.

On the volume: ``/kv/<quoted key>`` holds each value, ``/meta/id`` the primary's history id
(drawn when the primary first starts on an empty volume), ``/meta/seq`` the number of the
last write applied. A replica never reads another pod's volume: all it learns comes over
connections.

For tests: :func:`manifest` (headless Service + StatefulSet), :func:`client` (put, get,
delete, dump against the pods through the DNS names, from the test process), and
:class:`KVStoreMachine`, the property test: for any sequence of scaling, pod deletions,
node failures (fail, restore, remove and re-add), power cuts that kill every pod at once and
writes, once the cluster is healthy and settled every replica holds the primary's data, and
no acknowledged write is ever lost while the claims are retained.

>>> import fakekube
>>> from fakekube.testing import kvstore
>>> c = fakekube.Cluster(nodes=3)
>>> _ = c.apply(kvstore.manifest("db", replicas=3)); _ = c.settle()
>>> db = kvstore.client(c, "db")
>>> db.put("greeting", b"hello")
1
>>> _ = c.settle()
>>> [db.get("greeting", ordinal=i) for i in range(3)]
[b'hello', b'hello', b'hello']
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote, unquote

from ..kubelet.volumes import VolumeData
from ..kubelet.workloads import Connection, Workload, WorkloadContext, register_workload

__all__ = ["KVStore", "KVClient", "KVError", "manifest", "client", "IMAGE", "PORT",
           "DATA_DIR", "KVStoreMachine"]

IMAGE = "kvstore:1"
PORT = 7379
DATA_DIR = "/var/lib/kvstore"
_KV = "/kv/"
_ID = "/meta/id"
_SEQ = "/meta/seq"


class KVError(Exception):
    """The store answered with an error (a write to a replica, a replica not cloned yet)."""


class KVStore(Workload):
    """The ``kvstore`` behaviour: primary at ordinal 0, cloning and following replicas."""

    def start(self, ctx: WorkloadContext) -> None:
        self.ctx = ctx
        self.port = int(ctx.env.get("KV_PORT", PORT))
        mount = ctx.volumes.get(ctx.env.get("KV_DATA", DATA_DIR))
        # Without a volume there, the container's own (ephemeral) filesystem.
        self.data: Any = mount if mount is not None else VolumeData(f"{ctx.pod_uid}-rootfs")
        set_name, _, ordinal = ctx.hostname.rpartition("-")
        if not set_name or not ordinal.isdigit():
            raise RuntimeError(f"kvstore runs in a StatefulSet: hostname {ctx.hostname!r} "
                               "is not <set>-<ordinal>")
        self.set_name, self.ordinal = set_name, int(ordinal)
        raw = self.data.get(_ID)
        self.history: str | None = raw.decode() if raw is not None else None
        self.seq = int(self.data.get(_SEQ, b"0"))
        self.followers: dict[Connection, None] = {}  # primary: subscribed replicas
        self.upstream: Connection | None = None      # replica: its subscription
        ctx.serve(self.port, self.handle)
        if self.ordinal == 0:
            if self.history is None:
                self.history = f"{ctx.rng.getrandbits(64):016x}"
                self.data[_ID] = self.history.encode()
                self.data[_SEQ] = b"0"
            ctx.log(f"primary: history {self.history} at seq {self.seq}")
            return
        if not ctx.subdomain:
            raise RuntimeError("a kvstore replica needs the StatefulSet's serviceName "
                               "(spec.subdomain) to find its peers")
        if self.history is None:
            ctx.set_ready(False)
            self.clone()
        else:
            self.follow()

    # -- peers -----------------------------------------------------------------------------

    def peer(self, ordinal: int) -> str:
        return f"{self.set_name}-{ordinal}.{self.ctx.subdomain}"

    def clone(self) -> None:
        """Copy the previous ordinal's data, then follow the primary."""
        source = self.peer(self.ordinal - 1)
        try:
            conn = self.ctx.connect(source, self.port)
            try:
                reply = conn.request({"op": "snapshot"})
            finally:
                conn.close()
        except OSError as exc:
            self.ctx.log(f"clone from {source}: {exc}; waiting")
            self.ctx.retry_on_change(self.clone)
            return
        if "error" in reply:
            self.ctx.log(f"clone from {source}: {reply['error']}; waiting")
            self.ctx.retry_on_change(self.clone)
            return
        self._replace(reply["id"], reply["seq"], reply["data"])
        self.ctx.log(f"cloned {len(reply['data'])} key(s) from {source} at seq {self.seq}")
        self.ctx.set_ready(True)
        self.follow()

    def follow(self) -> None:
        """Subscribe to the primary's writes (a snapshot first if we are not in step)."""
        if self.upstream is not None and not self.upstream.closed:
            return
        primary = self.peer(0)
        try:
            conn = self.ctx.connect(primary, self.port)
            reply = conn.request({"op": "follow", "id": self.history, "seq": self.seq})
        except OSError as exc:
            self.ctx.log(f"follow {primary}: {exc}; waiting")
            self.ctx.retry_on_change(self.follow)
            return
        if "error" in reply:
            conn.close()
            self.ctx.log(f"follow {primary}: {reply['error']}; waiting")
            self.ctx.retry_on_change(self.follow)
            return
        if reply.get("data") is not None:
            self._replace(reply["id"], reply["seq"], reply["data"])
        conn.on_message = self._on_push
        conn.on_close = self._on_lost_primary
        self.upstream = conn
        self.ctx.log(f"following {primary} at seq {self.seq}")

    def _on_push(self, msg: dict) -> None:
        if msg["id"] == self.history and msg["seq"] <= self.seq:
            return  # already have it
        if msg["id"] != self.history or msg["seq"] != self.seq + 1:
            self._resubscribe()
            return
        self._apply(msg)

    def _on_lost_primary(self) -> None:
        self.upstream = None
        self.follow()

    def _resubscribe(self) -> None:
        if self.upstream is not None:
            self.upstream.on_close = None
            self.upstream.close()
            self.upstream = None
        self.follow()

    # -- storage ---------------------------------------------------------------------------

    def items(self) -> dict[str, bytes]:
        n = len(_KV)
        return {unquote(k[n:]): self.data[k] for k in self.data if k.startswith(_KV)}

    def _replace(self, history: str, seq: int, items: dict[str, bytes]) -> None:
        for k in [k for k in self.data if k.startswith(_KV)]:
            del self.data[k]
        for key, value in items.items():
            self.data[_KV + quote(key, safe="")] = value
        self.history, self.seq = history, seq
        self.data[_ID] = history.encode()
        self.data[_SEQ] = str(seq).encode()

    def _apply(self, msg: dict) -> None:
        path = _KV + quote(msg["key"], safe="")
        if msg["op"] == "set":
            self.data[path] = msg["value"]
        elif path in self.data:
            del self.data[path]
        self.seq = msg["seq"]
        self.data[_SEQ] = str(self.seq).encode()

    # -- serving ---------------------------------------------------------------------------

    def handle(self, req: Any, conn: Connection) -> Any:
        op = req.get("op") if isinstance(req, dict) else None
        if op == "get":
            return {"value": self.data.get(_KV + quote(req["key"], safe=""))}
        if op in ("dump", "snapshot"):
            if self.history is None:
                return {"error": f"{self.ctx.hostname} has not cloned its data yet"}
            return {"id": self.history, "seq": self.seq, "data": self.items()}
        if op == "state":
            return {"role": "primary" if self.ordinal == 0 else "replica", "id": self.history,
                    "seq": self.seq, "followers": len(self.followers),
                    "following": self.upstream is not None and not self.upstream.closed}
        if self.ordinal != 0:
            if op in ("put", "delete", "follow"):
                return {"error": f"{self.ctx.hostname} is a read-only replica; the primary is "
                                 f"{self.peer(0)}"}
            return {"error": f"unknown request {req!r}"}
        if op in ("put", "delete"):
            key = req["key"]
            if not isinstance(key, str) or not key:
                return {"error": "a key is a non-empty str"}
            value = req.get("value")
            if op == "put" and not isinstance(value, (bytes, str)):
                return {"error": "a value is bytes or str"}
            msg = {"op": "set" if op == "put" else "del", "id": self.history,
                   "seq": self.seq + 1, "key": key,
                   "value": value.encode() if isinstance(value, str) else value}
            self._apply(msg)  # on the volume: now it is acknowledged
            for follower in list(self.followers):
                if follower.closed:
                    self.followers.pop(follower, None)
                else:
                    follower.send(msg)
            return {"ok": True, "seq": self.seq}
        if op == "follow":
            self.followers[conn] = None
            conn.on_close = lambda: self.followers.pop(conn, None)
            in_step = req.get("id") == self.history and req.get("seq") == self.seq
            return {"id": self.history, "seq": self.seq,
                    "data": None if in_step else self.items()}
        return {"error": f"unknown request {req!r}"}


register_workload("kvstore", KVStore)


# -- for tests -----------------------------------------------------------------------------


def manifest(name: str = "db", replicas: int = 3, *, service: str | None = None,
             image: str = IMAGE, storage: str = "1Gi", storage_class: str | None = None,
             pod_management_policy: str | None = None, namespace: str | None = None
             ) -> list[dict]:
    """A headless Service (``service``, default ``name``) and a StatefulSet ``name`` of
    ``replicas`` kvstore pods, each with a claim ``data-<name>-<i>`` at ``/var/lib/kvstore``."""
    service = service or name
    labels = {"app": name}
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": dict(meta, name=service),
           "spec": {"clusterIP": "None", "selector": dict(labels),
                    "ports": [{"name": "kv", "port": PORT, "targetPort": PORT}]}}
    claim: dict[str, Any] = {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": storage}}}
    if storage_class:
        claim["storageClassName"] = storage_class
    spec: dict[str, Any] = {
        "replicas": replicas, "serviceName": service,
        "selector": {"matchLabels": dict(labels)},
        "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [{
            "name": "kvstore", "image": image,
            "ports": [{"name": "kv", "containerPort": PORT}],
            "env": [{"name": "KV_PORT", "value": str(PORT)},
                    {"name": "KV_DATA", "value": DATA_DIR},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {
                        "fieldPath": "metadata.name"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {
                        "fieldPath": "status.podIP"}}}],
            "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}]}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": claim}],
    }
    if pod_management_policy:
        spec["podManagementPolicy"] = pod_management_policy
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": dict(meta),
           "spec": spec}
    return [svc, sts]


class KVClient:
    """Talks to a kvstore StatefulSet from the test process, through the pods' DNS names
    (``<set>-<i>.<service>``) and in-process connections, as a client pod in ``namespace``
    would. Unreachable pods raise ``OSError`` (:class:`~fakekube.kubelet.workloads.UnknownHost`,
    :class:`~fakekube.kubelet.workloads.ConnectionRefused`): the write was not acknowledged."""

    def __init__(self, cluster: Any, statefulset: str, namespace: str = "default",
                 service: str | None = None, port: int = PORT) -> None:
        self.cluster = cluster
        self.statefulset = statefulset
        self.namespace = namespace
        self.service = service
        self.port = port

    def host(self, ordinal: int = 0) -> str:
        service = self.service
        if service is None:
            sts = self.cluster.get("StatefulSet", self.statefulset, self.namespace)
            service = self.service = sts["spec"].get("serviceName") or self.statefulset
        return f"{self.statefulset}-{ordinal}.{service}"

    def call(self, request: dict, ordinal: int = 0) -> dict:
        conn = self.cluster.kubelets.workloads.connect(self.host(ordinal), self.port,
                                                       namespace=self.namespace)
        try:
            reply = conn.request(request)
        finally:
            conn.close()
        if "error" in reply:
            raise KVError(reply["error"])
        return reply

    def put(self, key: str, value: bytes | str) -> int:
        """Write through the primary; returns the write's sequence number once acknowledged
        (it is on the primary's volume)."""
        return self.call({"op": "put", "key": key, "value": value})["seq"]

    def delete(self, key: str) -> int:
        return self.call({"op": "delete", "key": key})["seq"]

    def get(self, key: str, ordinal: int = 0) -> bytes | None:
        return self.call({"op": "get", "key": key}, ordinal)["value"]

    def dump(self, ordinal: int = 0) -> dict[str, bytes]:
        return self.call({"op": "dump"}, ordinal)["data"]

    def state(self, ordinal: int = 0) -> dict:
        """``role``, ``id``, ``seq``, ``followers`` (primary), ``following`` (replica)."""
        reply = self.call({"op": "state"}, ordinal)
        return reply


def client(cluster: Any, statefulset: str = "db", namespace: str = "default",
           service: str | None = None) -> KVClient:
    """A :class:`KVClient` for the kvstore StatefulSet ``statefulset``."""
    return KVClient(cluster, statefulset, namespace, service)


def volume_items(data: Any) -> dict[str, bytes]:
    """The key-value pairs a kvstore keeps on a volume (for checks from the test)."""
    n = len(_KV)
    return {unquote(k[n:]): data[k] for k in data if k.startswith(_KV)}


# -- the property ----------------------------------------------------------------------------

try:
    from hypothesis import strategies as st
    from hypothesis.stateful import precondition, rule
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    KVStoreMachine = None  # type: ignore[assignment,misc]
else:
    from .. import errors
    from .invariants import InvariantViolation
    from .machines import ClusterMachine

    _KEYS = ("a", "b", "c", "d", "e/f")

    class KVStoreMachine(ClusterMachine):  # type: ignore[no-redef]
        """Scale, delete pods, fail / restore / remove nodes, cut the power to every node,
        write and delete keys; check after every step that no acknowledged write is lost
        (on the primary's volume) and, after :meth:`settle_healthy`, that every replica
        serves the primary's data."""

        set_name: ClassVar[str] = "db"
        max_replicas: ClassVar[int] = 4
        manifest = manifest("db", replicas=3)

        def __init__(self) -> None:
            super().__init__()
            self.db = client(self.cluster, self.set_name)
            self.acked: dict[str, bytes | None] = {}  # key -> last acknowledged value
            self.unsure: set[str] = set()             # a write that may or may not have landed
            self.writes = 0
            self._value = 0
            for key in _KEYS[:3]:  # data to lose from the start
                self.put(key)
            self.settle_cluster()

        # -- rules -------------------------------------------------------------------------

        @rule(replicas=st.integers(0, 4))
        def scale(self, replicas: int) -> None:
            self.cluster.scale("StatefulSet", self.set_name, replicas)

        @rule(key=st.sampled_from(_KEYS))
        def put(self, key: str) -> None:
            self._value += 1
            value = f"v{self._value}".encode()
            self._write(key, value)

        @rule(key=st.sampled_from(_KEYS))
        def delete(self, key: str) -> None:
            self._write(key, None)

        def _write(self, key: str, value: bytes | None) -> None:
            try:
                if value is None:
                    self.db.delete(key)
                else:
                    self.db.put(key, value)
            except (ConnectionRefusedError, OSError) as exc:
                if isinstance(exc, ConnectionResetError):
                    self.unsure.add(key)  # it may have landed before the reset
                return
            self.acked[key] = value
            self.unsure.discard(key)
            self.writes += 1

        @rule(ordinal=st.integers(0, 3))
        def delete_pod(self, ordinal: int) -> None:
            try:
                self.cluster.delete("Pod", f"{self.set_name}-{ordinal}")
            except errors.NotFound:
                pass

        @rule()
        def delete_all_pods_at_once(self) -> None:
            """Every pod dies now (force deletion, grace 0)."""
            for p in self.cluster.list("Pod", label_selector=f"app={self.set_name}")["items"]:
                try:
                    self.cluster.delete("Pod", p["metadata"]["name"], grace_period_seconds=0)
                except errors.NotFound:
                    pass

        @rule()
        def kill_all_processes(self) -> None:
            """Every kvstore process crashes at the same instant (the pods stay): the
            kubelets kill them all before anything else runs."""
            kubelets = self.cluster.kubelets
            for p in self.cluster.list("Pod", label_selector=f"app={self.set_name}")["items"]:
                kubelets.kill_container("default", p["metadata"]["name"], None, 137)

        @precondition(lambda self: len(self.failed) < len(self.node_names))
        @rule()
        def power_cut(self) -> None:
            """Every node fails at once: all the pods die together."""
            for node in self.node_names:
                if node not in self.failed:
                    self.cluster.fail_node(node)
                    self.failed.add(node)

        @rule()
        def settle(self) -> None:
            self.settle_cluster()
            if self.healthy():
                self.check_converged()

        @rule()
        def settle_healthy(self) -> None:
            """Bring every node back, settle, and check that the replicas converged."""
            for node in sorted(self.failed):
                self.cluster.restore_node(node)
            self.failed.clear()
            self.settle()

        def teardown(self) -> None:
            """Every example ends healed, settled and checked."""
            try:
                self.settle_healthy()
                self.invariants_hold()
            finally:
                super().teardown()

        # -- checks ------------------------------------------------------------------------

        def primary_volume(self) -> dict[str, bytes] | None:
            try:
                return volume_items(self.cluster.volume(f"data-{self.set_name}-0"))
            except (errors.NotFound, errors.VolumeNotBound):
                return None

        def invariants_hold(self) -> None:
            data = self.primary_volume()
            if data is None:
                if any(v is not None for v in self.acked.values()):
                    raise InvariantViolation("the primary's claim is gone with acked writes")
                return
            for key, value in self.acked.items():
                if key in self.unsure:
                    continue
                if data.get(key) != value:
                    raise InvariantViolation(
                        f"acknowledged write lost: {key!r} should be {value!r}, the primary's "
                        f"volume has {data.get(key)!r}")

        def check_converged(self) -> None:
            c = self.cluster
            replicas = c.get("StatefulSet", self.set_name)["spec"]["replicas"]
            if replicas == 0:
                return
            primary = self.db.dump(0)
            for ordinal in range(replicas):
                got = self.db.dump(ordinal)
                if got != primary:
                    raise InvariantViolation(
                        f"{self.set_name}-{ordinal} serves {got!r}, the primary {primary!r}")
                on_disk = volume_items(c.volume(f"data-{self.set_name}-{ordinal}"))
                if on_disk != primary:
                    raise InvariantViolation(
                        f"{self.set_name}-{ordinal}'s volume has {on_disk!r}, the primary "
                        f"{primary!r}")
                if ordinal and not self.db.state(ordinal)["following"]:
                    raise InvariantViolation(f"{self.set_name}-{ordinal} is not following")
            expected = {k: v for k, v in self.acked.items()
                        if v is not None and k not in self.unsure}
            for key, value in expected.items():
                if primary.get(key) != value:
                    raise InvariantViolation(f"acknowledged {key!r}={value!r} lost")
