"""Hypothesis fuzzing of the HTTP API: at least 10,000 malformed (or merely odd) requests per
run, most on valid routes of real kinds so that they reach decoding and validation.

For every request: the answer is a 2xx, or a ``Status`` with a 4xx code, or one of the 5xx
upstream itself gives for that request (500 for a non-numeric resourceVersion or a patch the
strategic-merge library rejects, 504 for a resourceVersion from the future); never a
traceback (our catch-all 500 ``Internal error occurred: <exception>``), never a dropped
connection. Writes carry ``dryRun=All`` so that valid ones go all the way through admission
and validation too; afterwards the store is byte-for-byte what it was, and every watch opened
has ended.

Deterministic: the requests are drawn from a fixed seed (``FUZZ_SEED``). Set the environment
variable ``FAKEKUBE_FUZZ_SEED`` to another integer to explore (``--hypothesis-seed`` does not
apply to this test), e.g.
``FAKEKUBE_FUZZ_SEED=$RANDOM pytest tests/http/test_fuzz.py -k test_fuzz_http_api``.
"""

from __future__ import annotations

import json
import os
import socket

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import fakekube
from fakekube.api.registry import REGISTRY
from fakekube.http import serve

from kube_manifests import wait_until

N_BATCHES = 500
DRAWN = 4       # requests per example drawn from the strategies
MUTANTS = 16    # requests per example derived from those by a seeded mutator (cheap)
BATCH = DRAWN + MUTANTS
FUZZ_SEED = int(os.environ.get("FAKEKUBE_FUZZ_SEED", "20756"))

KINDS = list(REGISTRY.kinds)
NAMES = ["default", "kube-system", "node-1", "standard", "x", "", "a" * 300, "Ünï", "%2F",
         "..", "web-0"]
CONTENT_TYPES = [None, "application/json", "application/yaml",
                 "application/merge-patch+json", "application/strategic-merge-patch+json",
                 "application/json-patch+json", "application/apply-patch+yaml",
                 "text/plain", "application/vnd.kubernetes.protobuf", "", "application/json;"
                 " charset=utf-8", "multipart/form-data; boundary=x"]
ACCEPTS = [None, "application/json", "*/*", "text/html",
           "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
           "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
           "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
           "application/yaml", "application/vnd.kubernetes.protobuf", ";;;,,"]
QUERY_KEYS = ["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion",
              "resourceVersionMatch", "timeoutSeconds", "fieldValidation", "fieldManager",
              "force", "gracePeriodSeconds", "propagationPolicy", "orphanDependents",
              "includeObject", "allowWatchBookmarks", "sendInitialEvents", "pretty"]
QUERY_VALUES = ["", "0", "1", "-1", "abc", "true", "false", "Strict", "Warn", "Ignore",
                "Exact", "NotOlderThan", "Orphan", "Foreground", "99999999999999999999",
                "app=web", "app in (a,b)", "!app", "a=b=c", "metadata.name=x,",
                "spec.foo=bar", "status.phase!=Running", "x" * 200, "%ZZ", "a b",
                "metadata.name==web-0,metadata.name=web-0", "Object", "None"]

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                      st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=20))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)

FIELDS = ["metadata", "spec", "status", "data", "apiVersion", "kind", "items", "target",
          "deleteOptions", "rules", "subsets", "endpoints", "provisioner", "type"]


@st.composite
def object_body(draw, rt):
    obj = {}
    if draw(st.booleans()):
        obj["apiVersion"] = draw(st.sampled_from([rt.api_version, "v1", "apps/v1", "nope/v9",
                                                  1]))
    if draw(st.booleans()):
        obj["kind"] = draw(st.sampled_from([rt.kind, "Pod", "Status", "", None]))
    meta = draw(st.one_of(
        st.fixed_dictionaries({"name": st.sampled_from(NAMES + ["ok-name"])},
                              optional={"namespace": st.sampled_from(NAMES),
                                        "labels": json_value, "resourceVersion": json_value,
                                        "generateName": st.text(max_size=10),
                                        "finalizers": json_value,
                                        "ownerReferences": json_value,
                                        "annotations": json_value}),
        json_value))
    obj["metadata"] = meta
    for f in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        obj[f] = draw(json_value)
    return obj


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


@st.composite
def body(draw, rt, method):
    kind = draw(st.sampled_from(["none", "object", "object", "object", "json", "garbage",
                                 "deep", "patchops", "yaml", "huge"]))
    if kind == "none":
        return b""
    if kind == "object":
        return json.dumps(draw(object_body(rt))).encode()
    if kind == "json":
        return json.dumps(draw(json_value)).encode()
    if kind == "garbage":
        return draw(st.binary(max_size=64))
    if kind == "deep":
        return deep(draw(st.sampled_from([50, 900, 5000, 200000])))
    if kind == "patchops":
        ops = draw(st.lists(st.fixed_dictionaries(
            {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test",
                                    "bogus"]),
             "path": st.sampled_from(["/metadata/labels/a", "/spec", "", "/", "/x/-",
                                      "/metadata/name", "/spec/replicas", "~1"])},
            optional={"value": json_value, "from": st.sampled_from(["/spec", "/nope"])}),
            max_size=4))
        return json.dumps(ops).encode()
    if kind == "yaml":
        return draw(st.sampled_from([b"a: &x [1]\nb: *x\n", b"- - - -", b"key: [unclosed",
                                     b"!!python/object:os.system x", b"a: 2025-01-01\n",
                                     b"metadata: {name: y}\n"]))
    return b'{"metadata":{"name":"big"},"data":{"x":"' + b"a" * (3 * 1024 * 1024) + b'"}}'


@st.composite
def request(draw):
    r = draw(st.integers(0, 99))
    method = draw(st.sampled_from(["GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                   "OPTIONS", "FOO"]))
    if r < 8:
        path = draw(st.sampled_from(["/", "/api", "/apis/", "/apis/apps", "/apis/nope",
                                     "/version", "/openapi/v3", "/openapi/v3/apis/nope/v1",
                                     "/openapi/v2", "/api/v1/", "/%%", "//api//v1",
                                     "/api/v1/watch", "/api/v1/watch/namespaces/default/pods",
                                     "/apis/apps/v1/namespaces/default/statefulsets/../x"]))
        rt = KINDS[0]
    else:
        rt = draw(st.sampled_from(KINDS))
        prefix = "/api/v1" if not rt.group else f"/apis/{rt.group}/{rt.version}"
        ns = draw(st.sampled_from(["default", "kube-system", "missing"]))
        name = draw(st.sampled_from(NAMES[:6] + ["web-0"]))
        sub = draw(st.sampled_from([None, None, None, "status", "scale", "binding",
                                    "eviction", "log", "bogus"]))
        base = f"{prefix}/namespaces/{ns}/{rt.plural}" if rt.namespaced and draw(
            st.booleans() | st.just(True)) else f"{prefix}/{rt.plural}"
        if draw(st.booleans()):
            base += "/" + (name or "x")
            if sub:
                base += "/" + sub
        path = base
    q = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), st.sampled_from(QUERY_VALUES),
                             max_size=4))
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        q["dryRun"] = "All"
    if method == "GET" and draw(st.integers(0, 9)) == 0:
        q["watch"] = draw(st.sampled_from(["true", "1", "false"]))
    query = "&".join(f"{k}={v}" for k, v in q.items())
    target = path + ("?" + query if query else "")
    headers = {}
    ct = draw(st.sampled_from(CONTENT_TYPES))
    if ct is not None:
        headers["content-type"] = ct
    acc = draw(st.sampled_from(ACCEPTS))
    if acc is not None:
        headers["accept"] = acc
    data = draw(body(rt, method)) if method not in ("GET", "HEAD") or r % 5 == 0 else b""
    if method == "DELETE" and data:
        try:
            opts = json.loads(data)
            if isinstance(opts, dict):
                opts["dryRun"] = ["All"]
                data = json.dumps(opts).encode()
            else:
                data = b""
        except (ValueError, RecursionError):
            data = b""
    return method, target, headers, data


UPSTREAM_500 = ("resourceVersion: Invalid value", "Internal error occurred: target.",
                "does not contain declared merge key", "This request caused apiserver to panic",
                "unable to find api field", "list element types are not identical",
                "no elements in any of the given slices", "Unable to find",
                "invalid value for $patch", "Invalid value for $patch")


def check(status: int, payload: bytes, streamed: bool = False, yaml_ok: bool = False
          ) -> None:
    if 200 <= status < 300:
        if payload and not streamed and not (yaml_ok and not payload.startswith(b"{")):
            json.loads(payload)
        return
    st_ = json.loads(payload)
    assert st_["kind"] == "Status" and st_["code"] == status, payload[:300]
    assert 400 <= status < 500 or status in (500, 504), payload[:300]
    msg = st_["message"]
    assert not msg.startswith("Internal error occurred: ") or "target." in msg, msg
    if status == 500:
        assert st_.get("reason", "") in ("", "InternalError"), msg
        assert any(s in msg for s in UPSTREAM_500) or st_.get("reason") == "", msg


def snapshot(cluster) -> str:
    with cluster.store.lock:
        tables = {name: [t.objects[k] for k in t.keys] for name, t in
                  sorted(cluster.store.tables.items())}
        return json.dumps([cluster.store.rv, tables], sort_keys=True)


def mutate(rnd, req):
    """A cheap variant of a drawn request: another method, content type, accept header,
    query value or corrupted body."""
    method, target, headers, data = req
    headers = dict(headers)
    choice = rnd.randrange(8)
    if choice == 0:
        method = rnd.choice(["GET", "POST", "PUT", "PATCH", "DELETE"])
    elif choice == 1:
        headers["content-type"] = rnd.choice([c for c in CONTENT_TYPES if c is not None])
    elif choice == 2:
        headers["accept"] = rnd.choice([a for a in ACCEPTS if a is not None])
    elif choice == 3:
        sep = "&" if "?" in target else "?"
        target += f"{sep}{rnd.choice(QUERY_KEYS)}={rnd.choice(QUERY_VALUES)}"
    elif choice == 4 and data:
        cut = rnd.randrange(len(data))
        data = data[:cut]
    elif choice == 5 and data:
        i = rnd.randrange(len(data))
        data = data[:i] + bytes([rnd.randrange(256)]) + data[i + 1:]
    elif choice == 6:
        try:
            obj = json.loads(data) if data else {}
        except (ValueError, RecursionError):
            obj = {}
        if isinstance(obj, dict):
            field = rnd.choice(FIELDS)
            obj[field] = rnd.choice([1, "x", [], {}, None, True, -1.5, [1, "a"], {"a": {}}])
            if isinstance(obj.get("metadata"), dict) and rnd.random() < 0.5:
                obj["metadata"][rnd.choice(["name", "labels", "namespace", "uid"])] = (
                    rnd.choice([1, "x y", [], {"a": 1}, None]))
            data = json.dumps(obj).encode()
    else:
        path, _, q = target.partition("?")
        path = path.rstrip("/") + rnd.choice(["/x", "/status", "/scale", "/", "/../y", ""])
        target = path + ("?" + q if q else "")
    if method in ("POST", "PUT", "PATCH", "DELETE") and "dryRun=All" not in target:
        target += ("&" if "?" in target else "?") + "dryRun=All"
    if method == "DELETE":
        data = b""  # DeleteOptions from the query, where dryRun=All is
    return method, target, headers, data


class Socket:
    """One keep-alive connection that reconnects only after the server said Connection:
    close."""

    def __init__(self, host: str, port: int) -> None:
        self.addr = (host, port)
        self.sock = None

    def send(self, raw: bytes, head: bool = False) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(self.addr, timeout=30)
            self.f = self.sock.makefile("rb")
        self.sock.sendall(raw)
        line = self.f.readline()
        assert line, f"connection dropped after {raw[:200]!r}"
        status = int(line.split()[1])
        headers = {}
        while (h := self.f.readline()) not in (b"\r\n", b""):
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding") == "chunked":
            payload = b""
            self.close()  # a watch that went through: do not wait for it
            return status, payload
        payload = b"" if head else self.f.read(int(headers.get("content-length", "0")))
        if head and 200 <= status < 300:
            payload = b""
        elif head:
            payload = b'{"kind":"Status","code":%d,"message":""}' % status
        if headers.get("connection") == "close":
            self.close()
        return status, payload

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@pytest.fixture(scope="module")
def fuzz_target():
    """A cluster whose store nothing changes on its own: two pods that no running scheduler
    handles (the built-in one would retry them and update its FailedScheduling events as
    the wall clock, which a served cluster follows, goes by)."""
    cluster = fakekube.Cluster(nodes=0)
    for i in range(2):
        cluster.create({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": f"web-{i}", "namespace": "default"},
                        "spec": {"containers": [{"name": "c", "image": "i"}],
                                 "schedulerName": "no-such-scheduler"}})
    with serve(cluster, auth=False, watch_timeout=1) as ep:
        yield cluster, ep


def test_fuzz_http_api(fuzz_target):
    cluster, ep = fuzz_target
    ep.settle()
    before = snapshot(cluster)
    rest = ep.rest
    conn = Socket(ep.host, ep.port)
    count = [0]

    @seed(FUZZ_SEED)
    @settings(max_examples=N_BATCHES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])  # no shrinking: bounded CI time
    @given(st.lists(request(), min_size=DRAWN, max_size=DRAWN), st.integers(0, 9),
           st.randoms(use_true_random=False))
    def run(drawn, over_socket, rnd):
        requests = drawn + [mutate(rnd, rnd.choice(drawn)) for _ in range(MUTANTS)]
        for i, (method, target, headers, data) in enumerate(requests):
            count[0] += 1
            if over_socket == 0 and i < 4 and len(data) < 100_000:
                hdr = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                raw = (f"{method} {target} HTTP/1.1\r\nHost: x\r\n{hdr}"
                       f"Content-Length: {len(data)}\r\n\r\n").encode("utf-8",
                                                                      "surrogateescape") + data
                status, payload = conn.send(raw, head=method == "HEAD")
                check(status, payload, streamed=not payload,
                      yaml_ok=headers.get("accept") == "application/yaml")
                continue
            resp = rest.handle(method, target, headers, data)
            if resp.stream is not None:
                resp.stream.close()
                assert resp.status == 200
                assert resp.stream not in rest.streams
                continue
            check(resp.status, resp.body, yaml_ok=headers.get("accept") == "application/yaml")

    run()
    conn.close()
    assert count[0] >= N_BATCHES * BATCH
    ep.settle()
    assert snapshot(cluster) == before
    # Watches opened over the socket end when the server notices the client hung up (the
    # client closes right after the response head), at the latest at watch_timeout (1 s).
    assert wait_until(cluster, lambda: not rest.streams, 10), rest.streams


@pytest.mark.parametrize("raw", [
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"GET /version HTTP/1.1\r\n" + b"".join(b"H%d: x\r\n" % i for i in range(300)) + b"\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
    b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
    b"GET /version HTTP/2.0\r\n\r\n",
])
def test_malformed_framing_gets_an_answer(fuzz_target, raw):
    _, ep = fuzz_target
    s = socket.create_connection((ep.host, ep.port), timeout=30)
    s.sendall(raw)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), data[:200]
    code = int(head.split()[1])
    assert 400 <= code < 600
    assert json.loads(payload)["kind"] == "Status"
