"""The REST facade's own surface: routing, negotiation, status codes, bodies, discovery,
tables, watch framing, over real sockets (plain HTTP) and through ``RestApi.handle``."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time

import pytest

import fakekube
from fakekube.http import serve
from kube_manifests import pod, statefulset, wait_until

AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
TABLE = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
         "g=meta.k8s.io,application/json")


def call(ep, method, path, body=None, headers=None):
    u = ep.url.split("//", 1)[1]
    host, port = u.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers or {})
    r = conn.getresponse()
    payload = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), payload


def jcall(ep, method, path, body=None, headers=None):
    status, hdrs, payload = call(ep, method, path, body, headers)
    return status, hdrs, json.loads(payload) if payload else None


def test_discovery(served_plain):
    _, ep = served_plain
    for path in ("/version", "/version/"):
        s, _, v = jcall(ep, "GET", path)
        assert s == 200 and v["gitVersion"] == "v1.31.0"
    s, h, body = jcall(ep, "GET", "/api", headers={"Accept": AGG})
    assert h["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert body["kind"] == "APIGroupDiscoveryList" and body["items"][0]["metadata"]["name"] == ""
    pods = next(r for r in body["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    assert {s["subresource"] for s in pods["subresources"]} >= {"status", "binding", "eviction"}
    s, h, body = jcall(ep, "GET", "/apis/", headers={"Accept": "*/*"})
    assert h["Content-Type"] == "application/json" and body["kind"] == "APIGroupList"
    apps = next(g for g in body["groups"] if g["name"] == "apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    s, _, body = jcall(ep, "GET", "/api/")
    assert body == {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": f"{ep.host}:{ep.port}"}]}
    s, _, body = jcall(ep, "GET", "/apis/apps/v1")
    scale = next(r for r in body["resources"] if r["name"] == "statefulsets/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    s, _, root = jcall(ep, "GET", "/openapi/v3")
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    s, h, doc = jcall(ep, "GET", url)
    assert s == 200 and h["Cache-Control"] == "public, immutable"
    op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"]
    assert op["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1",
                                                      "kind": "StatefulSet"}
    assert "fieldValidation" in {p["name"] for p in op["parameters"]}
    s, _, st = jcall(ep, "GET", "/openapi/v2",
                     headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert s == 404 and st["kind"] == "Status"


@pytest.mark.parametrize("method,path,code", [
    ("GET", "/nothing/here", 404),
    ("GET", "/api/v2/pods", 404),
    ("GET", "/apis/apps/v1/namespaces/default/widgets", 404),
    ("GET", "/api/v1/namespaces/default/nodes", 404),
    ("GET", "/api/v1/namespaces/default/pods/x/nonsense", 404),
    ("POST", "/api/v1/pods", 405),
    ("POST", "/api/v1/namespaces/default/pods/x", 405),
    ("PUT", "/api/v1/namespaces/default/pods", 405),
    ("DELETE", "/api/v1/namespaces", 405),
    ("GET", "/api/v1/namespaces/default/pods/x/binding", 405),
    ("OPTIONS", "/api/v1/namespaces/default/pods", 405),
    ("POST", "/version", 405),
])
def test_routing_errors(served_plain, method, path, code):
    _, ep = served_plain
    s, h, body = jcall(ep, method, path)
    assert s == code and body["code"] == code and body["kind"] == "Status"
    if code == 404:
        assert body["message"] == "the server could not find the requested resource"
    if code == 405:
        assert body["reason"] == "MethodNotAllowed"


def test_bodies_and_content_types(served_plain):
    cluster, ep = served_plain
    path = "/api/v1/namespaces/default/configmaps"
    # no Content-Type: JSON
    s, _, body = jcall(ep, "POST", path, {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert s == 201 and body["metadata"]["namespace"] == "default"
    # YAML body
    s, _, body = jcall(ep, "POST", path, b"metadata:\n  name: b\ndata:\n  k: '2025-01-01'\n",
                       {"Content-Type": "application/yaml"})
    assert s == 201 and body["data"]["k"] == "2025-01-01"
    s, _, body = jcall(ep, "POST", path, b"<xml/>", {"Content-Type": "text/xml"})
    assert s == 415 and body["reason"] == "UnsupportedMediaType"
    s, _, body = jcall(ep, "POST", path, b"{not json", {"Content-Type": "application/json"})
    assert s == 400 and body["reason"] == "BadRequest"
    s, _, body = jcall(ep, "POST", path, b'{"metadata": {"name": NaN}}')
    assert s == 400
    s, _, body = jcall(ep, "PATCH", path + "/a", b'{"data":{"x":"y"}}',
                       {"Content-Type": "application/x-weird"})
    assert s == 415
    s, _, body = jcall(ep, "PATCH", path + "/a", b'{"data":{"x":"y"}}')
    assert s == 415
    # fieldValidation: Warn is the HTTP default, with a Warning header
    s, h, body = jcall(ep, "POST", path, {"metadata": {"name": "c"}, "foo": 1})
    assert s == 201 and h["Warning"] == '299 - "unknown field \\"foo\\""'
    s, _, body = jcall(ep, "POST", path + "?fieldValidation=Strict",
                       {"metadata": {"name": "d"}, "foo": 1})
    assert s == 400 and 'unknown field \\"foo\\"' in json.dumps(body["message"])
    s, _, body = jcall(ep, "POST", path + "?fieldValidation=Nope", {"metadata": {"name": "e"}})
    assert s == 422
    # dry run: 201 with the object, nothing stored
    s, _, body = jcall(ep, "POST", path + "?dryRun=All", {"metadata": {"name": "dry"}})
    assert s == 201 and body["metadata"]["name"] == "dry"
    s, _, body = jcall(ep, "POST", path + "?dryRun=Some", {"metadata": {"name": "dry"}})
    assert s == 422 and "dryRun" in body["message"]
    names = [c["metadata"]["name"] for c in cluster.list("ConfigMap", "default")["items"]]
    assert names == ["a", "b", "c"]
    # apply needs a field manager; force only with apply
    s, _, body = jcall(ep, "PATCH", path + "/a", b'{"data":{"x":"y"}}',
                       {"Content-Type": "application/apply-patch+yaml"})
    assert s == 422 and "fieldManager: Required value" in body["message"]
    s, _, body = jcall(ep, "PATCH", path + "/a?force=true", b'{"data":{"x":"y"}}',
                       {"Content-Type": "application/merge-patch+json"})
    assert s == 422 and "force: Forbidden" in body["message"]
    # apply body parsed as YAML; creates (201)
    s, _, body = jcall(ep, "PATCH", path + "/new?fieldManager=me",
                       b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\ndata:\n  z: '1'\n",
                       {"Content-Type": "application/apply-patch+yaml"})
    assert s == 201 and cluster.get("ConfigMap", "new")["data"] == {"z": "1"}
    # 413
    big = b'{"metadata":{"name":"big"},"data":{"x":"' + b"a" * (3 * 1024 * 1024) + b'"}}'
    s, _, body = jcall(ep, "POST", path, big)
    assert s == 413 and body["reason"] == "RequestEntityTooLarge"
    # delete options from body or query
    s, _, body = jcall(ep, "DELETE", path + "/a", {"propagationPolicy": "Sideways"})
    assert s == 422
    s, _, body = jcall(ep, "DELETE", path + "/a?dryRun=All")
    assert s == 200 and cluster.get("ConfigMap", "a")
    s, _, body = jcall(ep, "DELETE", path + "/a", {"dryRun": ["All"]})
    assert s == 200 and cluster.get("ConfigMap", "a")
    s, _, body = jcall(ep, "DELETE", path + "/a", {"preconditions": {"uid": "nope"}})
    assert s == 409
    s, _, body = jcall(ep, "DELETE", path + "/a")
    assert s == 200 and body["kind"] == "Status" and body["details"]["kind"] == "configmaps"
    # 406
    s, _, body = jcall(ep, "GET", path, headers={"Accept": "text/html"})
    assert s == 406 and body["code"] == 406
    # malformed numbers and resourceVersions: upstream's codes
    s, _, body = jcall(ep, "GET", path + "?limit=abc")
    assert s == 400
    s, _, body = jcall(ep, "GET", path + "?resourceVersion=cool")
    assert s == 500 and "strconv.ParseUint" in body["message"]
    s, _, body = jcall(ep, "GET", path + "?resourceVersion=999999999&resourceVersionMatch=NotOlderThan")
    assert s == 504


def test_create_needs_a_name_usable_as_a_storage_key():
    """core/v1 Event validation leaves the name alone; the storage key catches it (upstream
    NamespaceKeyFunc): 400, not a crash."""
    from fakekube.http.rest import RestApi

    cluster = fakekube.Cluster(nodes=0)
    rest = RestApi(cluster.api, clock=cluster.clock)
    path = "/api/v1/namespaces/default/events"
    cases = [({"reason": "x"}, "Name parameter required."),
             ({"metadata": {"name": ".."}}, "Name parameter invalid: \"..\": may not be '..'"),
             ({"metadata": {"name": "a/b%"}},
              "Name parameter invalid: \"a/b%\": may not contain '/';may not contain '%'")]
    for body, message in cases:
        for query in ("", "?dryRun=All"):
            resp = rest.handle("POST", path + query, {"content-type": "application/json"},
                               json.dumps(body).encode())
            got = json.loads(resp.body)
            assert (resp.status, got["reason"], got["message"]) == (400, "BadRequest", message)
    resp = rest.handle("POST", path, {}, json.dumps({"metadata": {"generateName": "ev-"}}).encode())
    assert resp.status == 201 and json.loads(resp.body)["metadata"]["name"].startswith("ev-")
    assert len(cluster.list("Event", "default")["items"]) == 1


def test_tables(served_plain):
    cluster, ep = served_plain
    cluster.create(pod("t-0"))
    ep.settle()
    s, h, t = jcall(ep, "GET", "/api/v1/namespaces/default/pods", headers={"Accept": TABLE})
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    cols = [c["name"] for c in t["columnDefinitions"]]
    assert cols[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert [c["priority"] for c in t["columnDefinitions"]][5:] == [1, 1, 1, 1]
    row = t["rows"][0]
    assert row["cells"][:4] == ["t-0", "1/1", "Running", "0"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert t["metadata"]["resourceVersion"]
    s, h, t = jcall(ep, "GET", "/api/v1/namespaces/default/pods/t-0",
                    headers={"Accept": TABLE})
    assert len(t["rows"]) == 1
    s, _, t = jcall(ep, "GET", "/api/v1/nodes", headers={"Accept": TABLE})
    assert [r["cells"][1] for r in t["rows"]] == ["Ready"] * 3


def test_watch_framing_bookmarks_and_watchlist(served_plain):
    cluster, ep = served_plain
    cluster.create(pod("a", node=None))
    u = ep.url.split("//", 1)[1]
    host, port = u.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/api/v1/namespaces/default/pods?watch=1&sendInitialEvents=true"
                        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
                        "&timeoutSeconds=5")
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Transfer-Encoding") == "chunked"
    first = json.loads(r.readline())
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "a")
    bm = json.loads(r.readline())
    assert bm["type"] == "BOOKMARK"
    assert bm["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    cluster.delete("Pod", "a")
    ev = json.loads(r.readline())
    assert ev["type"] == "DELETED" and int(ev["object"]["metadata"]["resourceVersion"]) > int(
        bm["object"]["metadata"]["resourceVersion"])
    conn.close()
    # watch-list validation
    s, _, body = jcall(ep, "GET", "/api/v1/pods?watch=true&sendInitialEvents=true")
    assert s == 422
    # a table watch: one-row tables
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=3",
                 headers={"Accept": TABLE})
    r = conn.getresponse()
    cluster.create(pod("b", node=None))
    ev = json.loads(r.readline())
    assert ev["object"]["kind"] == "Table" and ev["object"]["rows"][0]["cells"][0] == "b"
    start = time.monotonic()
    assert r.read() == b""  # closed at timeoutSeconds
    assert time.monotonic() - start < 10
    conn.close()


def test_watch_410_is_an_error_event():
    cluster = fakekube.Cluster(nodes=0, event_history=5)
    for i in range(20):
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": f"c{i}", "namespace": "default"}})
    with serve(cluster, auth=False) as ep:
        s, _, payload = call(ep, "GET", "/api/v1/configmaps?watch=true&resourceVersion=3")
        assert s == 200
        lines = payload.splitlines()
        assert len(lines) == 1
        ev = json.loads(lines[0])
        assert ev["type"] == "ERROR" and ev["object"]["code"] == 410
        assert ev["object"]["reason"] == "Expired"
        assert ev["object"]["message"].startswith("too old resource version: 3 (")


def test_malformed_http(served_plain):
    _, ep = served_plain
    u = ep.url.split("//", 1)[1]
    host, port = u.rsplit(":", 1)
    for raw in (b"GARBAGE\r\n\r\n", b"GET /version HTTP/9.9\r\n\r\n",
                b"GET /version HTTP/1.1\r\nNoColonHere\r\n\r\n",
                b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n"
                b"Content-Length: nope\r\n\r\n",
                b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\n"
                b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(raw)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        code = int(head.split()[1])
        assert 400 <= code < 600, data
        assert json.loads(body)["kind"] == "Status"


def test_chunked_body_and_keep_alive(served_plain):
    cluster, ep = served_plain
    u = ep.url.split("//", 1)[1]
    host, port = u.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    body = json.dumps({"metadata": {"name": "chunky"}}).encode()
    req = (b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
           b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
           + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
           + b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
    s.sendall(req)
    f = s.makefile("rb")
    statuses = []
    while len(statuses) < 3:
        line = f.readline()
        status = int(line.split()[1])
        statuses.append(status)
        length = 0
        while (h := f.readline()) not in (b"\r\n", b""):
            if h.lower().startswith(b"content-length"):
                length = int(h.split(b":")[1])
        f.read(length)
    s.close()
    assert statuses == [100, 201, 200]
    assert cluster.get("ConfigMap", "chunky")["metadata"]["name"] == "chunky"


def test_auth(served):
    cluster, ep = served
    ctx = ssl.create_default_context(cadata=__import__("fakekube.http.tls", fromlist=["x"])
                                     .certificate()[0])
    host, port = ep.host, ep.port
    for token, code in ((None, 401), ("wrong", 401), (ep.token, 200)):
        conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
        conn.request("GET", "/api/v1/namespaces",
                     headers={"Authorization": f"Bearer {token}"} if token else {})
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == code
        if code == 401:
            assert body["reason"] == "Unauthorized"
        conn.close()
    assert ep.url.startswith("https://127.0.0.1:")


def test_subresources(served_plain):
    cluster, ep = served_plain
    cluster.create(pod("unbound", node=None))
    s, _, body = jcall(ep, "POST", "/api/v1/namespaces/default/pods/unbound/binding",
                       {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "unbound"},
                        "target": {"kind": "Node", "name": "node-2"}})
    assert s == 201 and body["status"] == "Success"
    assert cluster.get("Pod", "unbound")["spec"]["nodeName"] == "node-2"
    s, _, body = jcall(ep, "GET", "/api/v1/namespaces/default/pods/unbound/status")
    assert s == 200 and body["kind"] == "Pod"
    ep.settle()
    s, _, body = jcall(ep, "POST", "/api/v1/namespaces/default/pods/unbound/eviction",
                       {"apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": "unbound"}})
    assert s == 201
    ep.settle()
    assert all(p["metadata"]["name"] != "unbound" for p in cluster.list("Pod")["items"])
    cluster.create(statefulset(claims=False, replicas=1))
    s, _, body = jcall(ep, "PUT", "/apis/apps/v1/namespaces/default/statefulsets/web/scale",
                       {"apiVersion": "autoscaling/v1", "kind": "Scale",
                        "metadata": {"name": "web", "namespace": "default"},
                        "spec": {"replicas": 4}})
    assert s == 200 and body["spec"]["replicas"] == 4
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 4
    s, _, body = jcall(ep, "GET", "/api/v1/namespaces/default/configmaps/x/scale")
    assert s == 404


def test_client_disconnect_frees_the_watch(served_plain):
    cluster, ep = served_plain
    table = cluster.api.table(cluster.api.registry.by_kind("Pod"))
    before = len(table.watchers)
    s = socket.create_connection((ep.host, ep.port), timeout=10)
    s.sendall(b"GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(12) == b"HTTP/1.1 200"
    assert len(table.watchers) == before + 1 and len(ep.rest.streams) == 1
    s.close()  # an idle watch: nothing to write, the monitor notices the hang-up
    assert wait_until(cluster, lambda: len(table.watchers) == before and not ep.rest.streams,
                      5)
