"""The REST facade's shortcuts give exactly what the long ways give: routes derived from a
cached collection, the in-process transport's request target, the shared JSON encoder and
decoder, cached content negotiation, and the managedFields a create records."""

import json
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fakekube
from fakekube import errors
from fakekube.http import rest, routes
from fakekube.http.transport import _target

REGISTRY = fakekube.Cluster(nodes=0).api.registry
_CACHE = routes.route.__defaults__[0]

PREFIXES = ["/api/v1", "/apis/apps/v1", "/apis/storage.k8s.io/v1", "/api/v1/watch",
            "/apis/apps/v1/watch", "//api/v1", "/api/v2", "/apis/apps", "/version"]
NAMESPACES = ["", "/namespaces/default", "/namespaces/x%2Fy", "/namespaces/", "/namespaces/status"]
PLURALS = ["/configmaps", "/pods", "/nodes", "/namespaces", "/deployments", "/storageclasses",
           "/status", "/finalize", "/bogus", ""]
NAMES = ["", "/x", "/a%2Fb", "/", "//x", "/%", "/status", "/default", "/x/"]
SUBS = ["", "/status", "/scale", "/log", "/finalize", "/binding", "/x", "/"]


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(PREFIXES), st.sampled_from(NAMESPACES), st.sampled_from(PLURALS),
       st.sampled_from(NAMES), st.sampled_from(SUBS), st.integers(0, 40))
def test_routes_from_the_cache_are_the_routes_of_the_path(prefix, ns, plural, name, sub,
                                                          clear):
    if clear == 0:
        _CACHE.clear()
    collection = prefix + ns + plural
    for path in (collection, collection + name, collection + name + sub):
        assert routes.route(path, REGISTRY) == routes._route(path, REGISTRY), path


def test_an_object_route_is_derived_from_its_collection():
    _CACHE.clear()
    routes.route("/api/v1/namespaces/default/configmaps", REGISTRY)
    r = routes.route("/api/v1/namespaces/default/configmaps/a%2Fb", REGISTRY)
    assert routes.describe(r) == {"endpoint": "resource", "kind": "ConfigMap",
                                  "namespace": "default", "name": "a/b",
                                  "subresource": None, "watch": False}
    # a namespaced kind has no objects outside a namespace
    routes.route("/api/v1/configmaps", REGISTRY)
    assert routes.route("/api/v1/configmaps/x", REGISTRY).endpoint == "notfound"
    # an object asked for before its collection: the collection is remembered
    _CACHE.clear()
    assert routes.route("/api/v1/nodes/n1", REGISTRY).name == "n1"
    assert "/api/v1/nodes" in _CACHE


def _reference_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _same_target(url: str) -> None:
    try:
        want = _reference_target(url)
    except ValueError:
        with pytest.raises(ValueError):
            _target(url)
        return
    assert _target(url) == want, url


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:1/api/v1/namespaces/default/configmaps", "http://h/p?", "http://h",
    "http://h/p?a=1&b=2", "http://h?x=1", "http://h/p#f", "https://h:5/a/b?x=%2F&y=a?b",
    "http://h/a b", "  http://h/a", "http://h/\ta", "http://[::1]:80/a", "http://[/x",
    "http://h//a", "HTTP://h/x", "http://user@h/x", "http:/x", "/a/b?c", "http://h/é"])
def test_transport_target_is_what_urlsplit_reads(url):
    _same_target(url)


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(["http://", "https://", "http://h", "http://h:1/", "http://[::1]:3/"]),
       st.text(alphabet="ab/?#&=%[]: \t\n1é", max_size=25))
def test_transport_target_for_any_url(head, tail):
    _same_target(head + tail)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=25)


@settings(max_examples=1000, deadline=None)
@given(JSON_VALUES)
def test_shared_encoder_writes_what_json_dumps_writes(value):
    assert rest.encode_json(value) == json.dumps(value, separators=(",", ":"))
    assert rest._dumps(value) == json.dumps(value, separators=(",", ":")).encode()


def test_shared_encoder_fails_as_json_dumps_fails():
    with pytest.raises(TypeError, match="not JSON serializable"):
        rest.encode_json({"a": {1, 2}})
    deep: dict = {}
    for _ in range(100_000):
        deep = {"a": deep}
    with pytest.raises(RecursionError):
        rest.encode_json(deep)


@settings(max_examples=500, deadline=None)
@given(JSON_VALUES.filter(lambda v: "NaN" not in json.dumps(v)
                          and "Infinity" not in json.dumps(v)))
def test_shared_decoder_reads_what_json_loads_reads(value):
    body = json.dumps(value).encode()
    assert rest.parse_json(body) == json.loads(body)


@pytest.mark.parametrize("body", [b"\xef\xbb\xbf{}", b'{"a": NaN}', b"[Infinity]", b"{",
                                  b"", b"\xff"])
def test_shared_decoder_refuses_what_it_refused(body):
    def reference(b: bytes) -> str:
        try:
            text = b.decode("utf-8")
        except UnicodeDecodeError:
            return "invalid UTF-8 in JSON body"
        try:
            json.loads(text, parse_constant=rest._reject_constant)
        except (ValueError, RecursionError) as exc:
            return rest._json_error(exc)
        raise AssertionError("no error")

    with pytest.raises(ValueError) as info:
        rest.parse_json(body)
    assert str(info.value) == reference(body)


ACCEPTS = ["application/json", "application/json, */*", "*/*", "application/yaml",
           "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
           "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
           "application/json", "application/vnd.kubernetes.protobuf,application/json",
           "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", "text/html",
           "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "", None, ","]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("table,discovery,yaml_ok", [(False, False, True), (True, False, True),
                                                     (False, True, False)])
def test_negotiation_answers_the_same_every_time(accept, table, discovery, yaml_ok):
    def answer():
        try:
            return rest.output_mode(accept, table=table, discovery=discovery,
                                    yaml_ok=yaml_ok)
        except errors.ApiError as exc:
            return exc.code, exc.reason

    first = answer()
    assert answer() == first  # the second time comes from the cache (406 included)
    rest._output_mode.cache_clear()
    assert answer() == first
    if accept in ("text/html", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"):
        assert first == (406, "NotAcceptable")


def _in_serialization_order(node: dict) -> bool:
    keys = [k for k in node if k != "."]
    order = {"f": 0, "k": 1, "v": 2, "i": 3}
    return ("." not in node or next(iter(node)) == ".") and keys == sorted(
        keys, key=lambda k: (order[k[0]], k)) and all(
        _in_serialization_order(v) for v in node.values())


def test_a_create_records_its_writer_as_the_only_manager():
    from fakekube.api.apply import field_set

    cluster = fakekube.Cluster(nodes=0)
    with cluster.serve(auth=False) as ep:
        r = ep.rest.handle(
            "POST", "/api/v1/namespaces/default/services",
            {"user-agent": "probe/1.0", "content-type": "application/json"},
            json.dumps({"metadata": {"name": "s", "labels": {"z": "1", "a": "2"}},
                        "spec": {"ports": [{"port": 81, "name": "b"},
                                           {"port": 80, "name": "a"}],
                                 "selector": {"app": "x"}}}).encode())
        assert r.status == 201, r.body
        stored = json.loads(r.body)
    managed = stored["metadata"].pop("managedFields")
    assert len(managed) == 1
    entry = managed[0]
    assert list(entry) == ["manager", "operation", "apiVersion", "time", "fieldsType",
                           "fieldsV1"]
    assert (entry["manager"], entry["operation"], entry["apiVersion"], entry["time"]) == (
        "probe", "Update", "v1", "2025-01-01T00:00:00Z")
    # the writer owns exactly what the stored object sets, in FieldsV1 order
    assert entry["fieldsV1"] == field_set(stored, "core_v1.Service")
    assert _in_serialization_order(entry["fieldsV1"])
    assert list(entry["fieldsV1"]["f:spec"]["f:ports"]) == [
        'k:{"port":80,"protocol":"TCP"}', 'k:{"port":81,"protocol":"TCP"}']
    assert list(entry["fieldsV1"]["f:metadata"]["f:labels"]) == ["f:a", "f:z"]
