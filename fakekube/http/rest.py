"""The REST handler: one HTTP request in, one response out, with no semantics of its own.

:class:`RestApi` turns ``(method, target, headers, body)`` into a call of the API layer
(:class:`fakekube.api.server.ApiServer`) and its result, or its :class:`~fakekube.errors.ApiError`,
into a response. It is transport-free: the socket server (:mod:`fakekube.http.server`) and the
in-process transport of the official client (:mod:`fakekube.http.transport`) both call
:meth:`RestApi.handle`.

What this module owns is only the translation, as the generic API server's handlers do it:

- routing (:mod:`.routes`) and the verb of a method on a route, 405 for the others;
- request decoding: query parameters into options (Go's conversions: a bool is false only for
  ``0``/``false``; integers as ``strconv.ParseInt``), bodies by ``Content-Type`` (none means
  JSON; ``application/yaml``; the four patch types; 415 otherwise), DeleteOptions from the
  body or else from the query, the 3 MiB body limit (413);
- option validation that upstream does in the handler: ``dryRun`` (only ``All``),
  ``fieldValidation`` (default ``Warn`` over HTTP), PatchOptions (``force`` only for apply,
  ``fieldManager`` required for apply, at most 128 bytes), watch ListOptions;
- response encoding by ``Accept``: JSON, YAML, server-side ``Table`` (:mod:`.tables`),
  ``PartialObjectMetadata[List]``, aggregated discovery (:mod:`.discovery`), 406 otherwise;
  ``201`` for creates (also apply and PUT that create), ``Warning: 299`` headers;
- authentication with the cluster's bearer token (401).

Upstream: ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/`` (``create.go``,
``update.go``, ``patch.go``, ``delete.go``, ``get.go``, ``watch.go``, ``rest.go``,
``responsewriters/``, ``negotiation/``), ``.../endpoints/filters/authentication.go``,
``staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go``
(``ValidatePatchOptions``, ``ValidateFieldManager``, ``ValidateDryRun``),
``.../apis/meta/internalversion/validation/validation.go`` (ListOptions),
``staging/src/k8s.io/apimachinery/pkg/runtime/conversion.go`` (query conversions).
"""

from __future__ import annotations

import functools
import hmac
import json
import math
import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

import yaml

from .. import errors
from ..api.registry import Registry, ResourceType
from ..api.server import json_kind
from ..errors import FieldError
from . import tables
from .discovery import AGGREGATED_V2, AGGREGATED_V2BETA1, Discovery
from .routes import Route, route

__all__ = ["RestApi", "Response", "MAX_BODY_BYTES", "parse_accept"]

MAX_BODY_BYTES = 3 * 1024 * 1024  # apiserver --max-request-body-bytes default (3 MiB)
FIELD_MANAGER_MAX_LENGTH = 128

JSON_TYPE = "application/json"
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
_PATCH_415 = ("the body of the request was in an unknown format - accepted media types "
              "include: application/json-patch+json, application/merge-patch+json, "
              "application/apply-patch+yaml, application/strategic-merge-patch+json")
_BODY_415 = ("the body of the request was in an unknown format - accepted media types "
             "include: application/json, application/yaml, "
             "application/vnd.kubernetes.protobuf")
_NOT_ACCEPTABLE = ("only the following media types are accepted: application/json, "
                   "application/yaml, application/vnd.kubernetes.protobuf")
_METHOD_NOT_ALLOWED = "the server does not allow this method on the requested resource"


class Response:
    """An answer: ``status``, ``headers`` (list of pairs) and a ``body`` (bytes), or a
    ``stream`` (an iterator of byte chunks with ``close()``) for watches."""

    __slots__ = ("status", "headers", "body", "stream")

    def __init__(self, status: int, body: bytes = b"", content_type: str | None = JSON_TYPE,
                 headers: list[tuple[str, str]] | None = None, stream: Any = None) -> None:
        self.status = status
        self.headers = headers or []
        if content_type is not None:
            self.headers.insert(0, ("Content-Type", content_type))
        self.body = body
        self.stream = stream


def _json_encoder() -> Callable[[Any], str]:
    """``json.dumps(obj, separators=(",", ":"))`` without its per-call cost: ``dumps`` builds
    an encoder object and a C encoder for every call; this builds the C encoder once (as
    ``JSONEncoder.iterencode`` would, with the same settings, so the same text). Without a
    circular-reference table, which is what lets one encoder serve every thread: what is
    encoded here is JSON-shaped data (decoded bodies, stored objects, answers built from
    them), never circular; nesting too deep still raises RecursionError."""
    plain = json.JSONEncoder(separators=(",", ":"))
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii
    except ImportError:  # pragma: no cover - no C accelerator
        return plain.encode
    if c_make_encoder is None:  # pragma: no cover
        return plain.encode
    encoder = c_make_encoder(None, plain.default, encode_basestring_ascii, None, ":", ",",
                             False, False, True)
    join = "".join

    def encode(obj: Any) -> str:
        return join(encoder(obj, 0))

    return encode


#: JSON text of a value, compact, as ``json.dumps(obj, separators=(",", ":"))`` writes it.
encode_json = _json_encoder()


def _dumps(obj: Any) -> bytes:
    return encode_json(obj).encode()


def status_response(err: errors.ApiError, headers: list | None = None) -> Response:
    hdrs = list(headers or [])
    details = err.details
    if isinstance(details, dict) and details.get("retryAfterSeconds"):
        hdrs.append(("Retry-After", str(details["retryAfterSeconds"])))
    return Response(err.code, _dumps(err.status), headers=hdrs)


def not_acceptable() -> errors.ApiError:
    return errors.ApiError(_NOT_ACCEPTABLE, {}, code=406, reason="NotAcceptable")


def method_not_allowed() -> errors.ApiError:
    return errors.MethodNotAllowed(_METHOD_NOT_ALLOWED, {})


# --------------------------------------------------------------------------------------------
# content negotiation


def parse_accept(value: str | None) -> list[tuple[str, dict[str, str]]]:
    """Media ranges of an Accept header in order: ``[("application/json", {"as": "Table"})]``."""
    out = []
    if not value:
        return out
    for part in value.split(","):
        items = part.split(";")
        mt = items[0].strip().lower()
        if not mt:
            continue
        params = {}
        for p in items[1:]:
            k, _, v = p.partition("=")
            params[k.strip().lower()] = v.strip().strip('"')
        out.append((mt, params))
    return out


_JSONISH = ("application/json", "application/*", "*/*", "*")


def output_mode(accept: str | None, *, table: bool = False, discovery: bool = False,
                yaml_ok: bool = True) -> str:
    """How to answer: ``json``, ``yaml``, ``table``, ``table-v1beta1``, ``pom``,
    ``pom-list``, ``aggregated``, ``aggregated-v2beta1``; raises 406."""
    if not accept:
        return "json"
    return _output_mode(accept, table, discovery, yaml_ok)


@functools.lru_cache(maxsize=512)
def _output_mode(accept: str, table: bool, discovery: bool, yaml_ok: bool) -> str:
    """:func:`output_mode` of a non-empty Accept header (clients send a handful of them,
    so the answers are kept; a 406 is raised anew each time, never kept)."""
    ranges = parse_accept(accept)
    if not ranges:
        return "json"
    for mt, params in ranges:
        as_ = params.get("as")
        if mt == "application/json" and as_:
            g, v = params.get("g"), params.get("v")
            if table and as_ == "Table" and g == "meta.k8s.io" and v in ("v1", "v1beta1"):
                return "table" if v == "v1" else "table-v1beta1"
            if table and as_ in ("PartialObjectMetadata", "PartialObjectMetadataList") and (
                    g == "meta.k8s.io" and v in ("v1", "v1beta1")):
                return "pom"
            if discovery and as_ == "APIGroupDiscoveryList" and g == "apidiscovery.k8s.io":
                if v == "v2":
                    return "aggregated"
                if v == "v2beta1":
                    return "aggregated-v2beta1"
            continue
        if mt in _JSONISH:
            return "json"
        if yaml_ok and mt == "application/yaml":
            return "yaml"
    raise not_acceptable()


# --------------------------------------------------------------------------------------------
# query parameters (runtime/conversion.go)


class Query:
    """The first value of each query parameter, with Go's conversions."""

    __slots__ = ("values",)

    def __init__(self, raw: str) -> None:
        values: dict[str, str] = {}
        if raw:
            try:
                pairs = parse_qsl(raw, keep_blank_values=True, errors="strict")
            except (UnicodeDecodeError, ValueError):
                raise errors.BadRequest("invalid query string") from None
            for k, v in pairs:
                values.setdefault(k, v)
        self.values = values

    def str(self, name: str) -> str | None:
        return self.values.get(name)

    def bool(self, name: str) -> bool:
        v = self.values.get(name)
        if v is None:
            return False
        return not (v == "0" or v.lower() == "false")

    def opt_bool(self, name: str) -> bool | None:
        if name not in self.values:
            return None
        return self.bool(name)

    def int(self, name: str) -> int | None:
        v = self.values.get(name)
        if v is None:
            return None
        text = v[1:] if v[:1] in "+-" else v
        if not text.isdigit() or not text.isascii():
            raise errors.BadRequest(f'strconv.ParseInt: parsing "{v}": invalid syntax')
        n = int(v)
        if not -(2 ** 63) <= n < 2 ** 63:
            raise errors.BadRequest(f'strconv.ParseInt: parsing "{v}": value out of range')
        return n

    def dry_run(self, options_kind: str) -> bool:
        v = self.values.get("dryRun")
        if v is None:
            return False
        return _check_dry_run([v], options_kind)


def _check_dry_run(values: list, options_kind: str) -> bool:
    if not values:
        return False
    if any(v != "All" for v in values):
        raise errors.invalid(options_kind, "meta.k8s.io", "", [FieldError.not_supported(
            "dryRun", [str(v) for v in values], ["All"])])
    return True


def _field_validation(q: Query, options_kind: str) -> str:
    v = q.str("fieldValidation")
    if v is None or v == "":
        return "Warn"
    if v not in ("Ignore", "Warn", "Strict"):
        raise errors.invalid(options_kind, "meta.k8s.io", "", [FieldError.not_supported(
            "fieldValidation", v, ["", "Ignore", "Strict", "Warn"])])
    return v


@functools.lru_cache(maxsize=256)
def manager_from_user_agent(user_agent: str | None) -> str | None:
    """``prefixFromUserAgent``: the part before the first ``/``, printable characters only,
    at most 128 bytes (the field manager of a write that names none)."""
    if not user_agent:
        return None
    out = []
    size = 0
    for ch in user_agent.split("/", 1)[0]:
        if not ch.isprintable():
            continue
        n = len(ch.encode("utf-8", "surrogatepass"))
        if size + n > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(ch)
        size += n
    return "".join(out) or None


def _field_manager(q: Query, options_kind: str, errs: list[FieldError] | None = None,
                   headers: dict[str, str] | None = None) -> str | None:
    v = q.str("fieldManager")
    own = errs is None
    errs = [] if errs is None else errs
    if v is not None and len(v.encode("utf-8", "surrogatepass")) > FIELD_MANAGER_MAX_LENGTH:
        errs.append(FieldError.too_long("fieldManager", v, FIELD_MANAGER_MAX_LENGTH))
    if own and errs:
        raise errors.invalid(options_kind, "meta.k8s.io", "", errs)
    if not v and headers is not None:
        return manager_from_user_agent(headers.get("user-agent"))
    return v or None


# --------------------------------------------------------------------------------------------
# bodies


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _json_error(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "exceeded max depth"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid character at offset {exc.pos}: {exc.msg}"
    return str(exc)


# One decoder for every body (``json.loads`` with arguments builds a new one per call).
_decode_json = json.JSONDecoder(parse_constant=_reject_constant).decode


def parse_json(body: bytes) -> Any:
    """Parse a JSON body as Go's decoder would accept it (no NaN or Infinity); raises
    ValueError with a description."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid UTF-8 in JSON body") from None
    try:
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)",
                                       text, 0)
        return _decode_json(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(_json_error(exc)) from None


class _YamlLoader(yaml.SafeLoader):
    """A safe loader that reads YAML as ``sigs.k8s.io/yaml`` does: timestamps stay strings,
    aliases are limited. The pure-Python loader, on purpose: libyaml's parser crashes the
    process on pathological nesting, and bodies that are JSON never get here."""

    max_aliases = 10_000

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D401
        if self.check_event(yaml.AliasEvent):
            self._aliases = getattr(self, "_aliases", 0) + 1
            if self._aliases > self.max_aliases:
                raise yaml.YAMLError("document contains excessive aliasing")
        return super().compose_node(parent, index)


_YamlLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}

MAX_DEPTH = 1000
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEEP_BLOCK = re.compile(rb"^[ \t-]{%d,}" % (2 * MAX_DEPTH), re.M)


def _too_deep(body: bytes) -> bool:
    """Whether a YAML text nests deeper than MAX_DEPTH (brackets, counted generously, or
    block indentation); checked before parsing so that parsing cannot recurse away."""
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        depth = 0
        for c in body.translate(None, _NOT_BRACKETS):
            if c in (91, 123):
                depth += 1
                if depth > MAX_DEPTH:
                    return True
            elif depth:
                depth -= 1
    return _DEEP_BLOCK.search(body) is not None


MAX_YAML_NODES = 4_000_000  # more than a 3 MiB document can hold without aliases
def _jsonify(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """YAML values as JSON values: keys become strings, non-finite floats are refused, and
    a document whose aliases expand beyond MAX_YAML_NODES is refused (a billion laughs)."""
    if budget is None:
        budget = [MAX_YAML_NODES]
    if depth > 1000:
        raise ValueError("exceeded max depth")
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("document contains excessive aliasing")
    t = type(value)
    if t is dict:
        return {(k if type(k) is str else _yaml_key(k)): _jsonify(v, depth + 1, budget)
                for k, v in value.items()}
    if t is list:
        return [_jsonify(v, depth + 1, budget) for v in value]
    if t is float and not math.isfinite(value):
        raise ValueError("json: unsupported value: " + repr(value))
    if t in (str, int, bool, float) or value is None:
        return value
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    return str(value)


def _yaml_key(k: Any) -> str:
    if k is None:
        return "null"
    if isinstance(k, bool):
        return "true" if k else "false"
    return str(k)


def parse_yaml(body: bytes) -> Any:
    """Parse a YAML (or JSON) body; raises ValueError."""
    try:
        return parse_json(body)
    except ValueError:
        pass
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid UTF-8 in YAML body") from None
    if _too_deep(body):
        raise ValueError(f"error converting YAML to JSON: yaml: exceeded max depth of "
                         f"{MAX_DEPTH}")
    try:
        loader = _YamlLoader(text)
        try:
            docs = []
            while loader.check_data():
                docs.append(loader.get_data())
                if len(docs) > 1:
                    break
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise ValueError(f"error converting YAML to JSON: {str(exc).splitlines()[0]}") from None
    if not docs:
        return None
    try:
        # Without aliases a document has fewer nodes than bytes: more means aliases expanding.
        return _jsonify(docs[0], 0, [max(10_000, len(body))])
    except (ValueError, RecursionError, TypeError) as exc:
        raise ValueError(f"error converting YAML to JSON: {exc}") from None


def _summary(body: bytes) -> str:
    if not body:
        return "<empty>"
    text = body[:30].decode("utf-8", "replace")
    return text + "..." if len(body) > 30 else text


def _media_type(headers: dict[str, str]) -> str:
    ct = headers.get("content-type")
    if ct is None:
        return ""
    return ct.split(";", 1)[0].strip().lower()


def decode_object_body(rt_kind: str, headers: dict[str, str], body: bytes) -> Any:
    """The body of a POST/PUT as a JSON value: JSON when the Content-Type says so or says
    nothing, YAML for ``application/yaml``; 415 otherwise; 400 when it does not parse."""
    mt = _media_type(headers)
    if mt in ("", "application/json", "*/*"):
        parse = parse_json
    elif mt in ("application/yaml", "application/x-yaml", "text/yaml"):
        parse = parse_yaml
    else:
        raise errors.UnsupportedMediaType(_BODY_415, {})
    if not body:
        raise errors.BadRequest(
            f"the object provided is unrecognized (must be of type {rt_kind}): couldn't get "
            "version/kind; json parse error: unexpected end of JSON input (<empty>)")
    try:
        return parse(body)
    except ValueError as exc:
        raise errors.BadRequest(
            f"the object provided is unrecognized (must be of type {rt_kind}): couldn't get "
            f"version/kind; json parse error: {exc} ({_summary(body)})") from None


# --------------------------------------------------------------------------------------------
# the handler


class RestApi:
    """Answers HTTP requests from one cluster's API layer.

    ``api`` is the :class:`~fakekube.api.server.ApiServer`; ``clock`` gives ``now()`` for
    table ages; ``token`` (None: no authentication) is the bearer token every request must
    carry; ``on_request`` (optional) is called under the store lock before each request
    (the served loop uses it to bring virtual time up to date).
    """

    def __init__(self, api: Any, *, clock: Any, kubernetes_version: str = "v1.31.0",
                 token: str | None = None, address: str = "127.0.0.1:0",
                 on_request: Callable[[], None] | None = None,
                 max_body_bytes: int = MAX_BODY_BYTES,
                 watch_timeout: float = 1800.0) -> None:
        self.api = api
        self.store = api.store
        self.registry: Registry = api.registry
        self.clock = clock
        self.token = token
        self._auth = f"Bearer {token}".encode() if token else None
        self.on_request = on_request
        self.max_body_bytes = max_body_bytes
        self.watch_timeout = watch_timeout
        self.discovery = Discovery(self.registry, kubernetes_version, address)
        self.streams: set = set()  # open watch streams, closed on shutdown
        self.closing = False

    # -- entry point -----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes = b""
               ) -> Response:
        """Answer one request. ``headers`` has lower-case names. Never raises."""
        try:
            return self._handle(method, target, headers, body)
        except errors.ApiError as exc:
            return status_response(exc)
        except RecursionError:
            return status_response(errors.BadRequest("the request is nested too deeply"))
        except Exception as exc:  # noqa: BLE001 -- a bug; still a Status, never a traceback
            return status_response(errors.InternalError(
                f"Internal error occurred: {type(exc).__name__}: {exc}", {
                    "causes": [{"message": f"{type(exc).__name__}: {exc}"}]}))

    def authorized(self, headers: dict[str, str]) -> bool:
        if self._auth is None:
            return True
        got = headers.get("authorization", "")
        return hmac.compare_digest(got.encode("utf-8", "surrogateescape"), self._auth)

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes
                ) -> Response:
        if target.startswith("/"):
            path, _, raw_query = target.partition("?")
            path = path.partition("#")[0]
        else:
            parts = urlsplit(target)
            path, raw_query = parts.path or "/", parts.query
        r = route(path, self.registry)
        if r.endpoint == "health":
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if not self.authorized(headers):
            return status_response(errors.Unauthorized("Unauthorized", None))
        if len(body) > self.max_body_bytes:
            raise errors.RequestEntityTooLarge(
                f"Request entity too large: limit is {self.max_body_bytes}", {})
        q = Query(raw_query)
        if r.endpoint == "resource":
            return self._resource(method, r, q, headers, body)
        if r.endpoint == "notfound":
            raise errors.resource_not_found()
        if method not in ("GET", "HEAD"):
            raise method_not_allowed()
        return self._fixed(r, q, headers)

    # -- fixed endpoints -------------------------------------------------------------------

    def _fixed(self, r: Route, q: Query, headers: dict[str, str]) -> Response:
        d = self.discovery
        accept = headers.get("accept")
        ep = r.endpoint
        if ep == "version":
            output_mode(accept, yaml_ok=False)
            return Response(200, d.version)
        if ep in ("api", "apis"):
            mode = output_mode(accept, discovery=True, yaml_ok=False)
            if mode == "aggregated":
                return Response(200, d.aggregated(ep, "v2"), AGGREGATED_V2)
            if mode == "aggregated-v2beta1":
                return Response(200, d.aggregated(ep, "v2beta1"), AGGREGATED_V2BETA1)
            return Response(200, d.api_versions if ep == "api" else d.api_group_list)
        if ep == "group":
            body = d.api_group.get(r.group)
            if body is None:
                raise errors.resource_not_found()
            output_mode(accept, yaml_ok=False)
            return Response(200, body)
        if ep == "resources":
            gv = f"{r.group}/{r.version}" if r.group else r.version
            body = d.resource_lists.get(gv)
            if body is None:
                raise errors.resource_not_found()
            output_mode(accept, yaml_ok=False)
            return Response(200, body)
        if ep == "openapi":
            output_mode(accept, yaml_ok=False)
            return Response(200, d.openapi_root,
                            headers=[("Cache-Control", "no-cache, private")])
        if ep == "openapi_gv":
            got = d.openapi_document(r.group)
            if got is None:
                raise errors.resource_not_found()
            output_mode(accept, yaml_ok=False)
            digest, body = got
            cache = ("public, immutable" if q.str("hash") == digest
                     else "no-cache, private")
            return Response(200, body, headers=[("Cache-Control", cache),
                                                ("Etag", f'"{digest}"')])
        raise errors.resource_not_found()  # openapi/v2 and anything else

    # -- resources -------------------------------------------------------------------------

    def _resource(self, method: str, r: Route, q: Query, headers: dict[str, str],
                  body: bytes) -> Response:
        rt = r.rt
        assert rt is not None
        sub = r.subresource
        if r.watch:
            if method != "GET":
                raise method_not_allowed()
            return self._watch(r, q, headers)
        if sub is None:
            if r.name is None:
                all_namespaces = rt.namespaced and r.namespace is None
                if method == "GET":
                    if q.bool("watch"):
                        return self._watch(r, q, headers)
                    self._need(rt, "list")
                    return self._list(r, q, headers)
                if method == "POST" and not all_namespaces:
                    self._need(rt, "create")
                    return self._create(r, q, headers, body)
                if method == "DELETE" and not all_namespaces:
                    self._need(rt, "deletecollection")
                    return self._delete_collection(r, q, headers, body)
                raise method_not_allowed()
            if method == "GET":
                if q.bool("watch"):
                    return self._watch(r, q, headers)
                return self._get(r, q, headers)
            if method == "PUT":
                self._need(rt, "update")
                return self._update(r, q, headers, body)
            if method == "PATCH":
                self._need(rt, "patch")
                return self._patch(r, q, headers, body)
            if method == "DELETE":
                self._need(rt, "delete")
                return self._delete(r, q, headers, body)
            raise method_not_allowed()
        if sub in ("status", "scale"):
            if method == "GET":
                return self._get(r, q, headers)
            if method == "PUT":
                return self._update(r, q, headers, body)
            if method == "PATCH":
                return self._patch(r, q, headers, body)
            raise method_not_allowed()
        if sub in ("binding", "eviction"):
            if method != "POST":
                raise method_not_allowed()
            return self._pod_post(r, q, headers, body)
        if sub == "finalize":
            if method != "PUT":
                raise method_not_allowed()
            obj = decode_object_body(rt.kind, headers, body)
            mode = output_mode(headers.get("accept"))
            out = self._call(lambda: self.api.finalize_namespace(r.name, obj))
            return self._object_response(200, out[0], mode, out[1])
        if sub == "log":
            if method != "GET":
                raise method_not_allowed()
            self._call(lambda: self.api.get(rt, r.name, r.namespace, copy_out=False))
            return Response(200, b"", "text/plain")
        raise errors.resource_not_found()

    @staticmethod
    def _need(rt: ResourceType, verb: str) -> None:
        if verb not in rt.verbs:
            raise method_not_allowed()

    def _call(self, fn: Callable[[], Any]) -> tuple[Any, list[str]]:
        """Run an API call under the store lock; return its result and the warnings it
        raised (the API layer collects them on ``api.warnings``)."""
        api = self.api
        with self.store.lock:
            if self.on_request is not None:
                self.on_request()
            if api.warnings:
                api.warnings.clear()
            try:
                result = fn()
            finally:
                warnings = list(api.warnings)
                api.warnings.clear()
        return result, warnings

    def _object_response(self, code: int, obj: Any, mode: str, warnings: list[str],
                         kind: str | None = None) -> Response:
        hdrs = _warning_headers(warnings)
        if mode in ("table", "table-v1beta1") and kind and isinstance(obj, dict) and (
                obj.get("kind") != "Status"):
            obj = tables.to_table(kind, [obj], self.clock.now(),
                                  list_meta={"resourceVersion": obj["metadata"].get(
                                      "resourceVersion", "")},
                                  api_version="meta.k8s.io/v1" if mode == "table"
                                  else "meta.k8s.io/v1beta1")
        elif mode == "pom" and isinstance(obj, dict) and obj.get("kind") != "Status":
            obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": obj["metadata"]}
        if mode == "yaml":
            return Response(code, yaml.safe_dump(obj, sort_keys=False).encode(),
                            "application/yaml", hdrs)
        return Response(code, _dumps(obj), headers=hdrs)

    # -- verbs -----------------------------------------------------------------------------

    def _selectors(self, r: Route, q: Query) -> tuple[str | None, str | None]:
        return q.str("labelSelector"), q.str("fieldSelector")

    def _list(self, r: Route, q: Query, headers: dict[str, str]) -> Response:
        rt = r.rt
        mode = output_mode(headers.get("accept"), table=True)
        limit = q.int("limit")
        rv = q.str("resourceVersion")
        match = q.str("resourceVersionMatch")
        if q.str("sendInitialEvents") is not None:
            raise errors.invalid("ListOptions", "meta.k8s.io", "", [FieldError.forbidden(
                "sendInitialEvents", "sendInitialEvents is forbidden for list")])
        q.int("timeoutSeconds")
        ls, fs = self._selectors(r, q)
        result, warnings = self._call(lambda: self.api.list(
            rt, r.namespace, label_selector=ls, field_selector=fs, limit=limit,
            continue_=q.str("continue"), resource_version=rv, resource_version_match=match,
            copy_out=False))
        hdrs = _warning_headers(warnings)
        if mode in ("table", "table-v1beta1"):
            include = q.str("includeObject") or "Metadata"
            if include not in ("Metadata", "Object", "None"):
                raise errors.BadRequest(
                    f'includeObject: Unsupported value: "{include}": supported values: '
                    '"None", "Metadata", "Object"')
            table = tables.to_table(rt.kind, result["items"], self.clock.now(),
                                    list_meta=result["metadata"], include=include,
                                    api_version="meta.k8s.io/v1" if mode == "table"
                                    else "meta.k8s.io/v1beta1")
            return Response(200, _dumps(table), headers=hdrs)
        if mode == "pom":
            result = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                      "metadata": result["metadata"],
                      "items": [{"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
                                for o in result["items"]]}
        if mode == "yaml":
            return Response(200, yaml.safe_dump(result, sort_keys=False).encode(),
                            "application/yaml", hdrs)
        # Stored objects are never changed in place, so the list can be encoded without
        # copying them, outside the lock.
        return Response(200, _dumps(result), headers=hdrs)

    def _get(self, r: Route, q: Query, headers: dict[str, str]) -> Response:
        rt = r.rt
        sub = r.subresource
        mode = output_mode(headers.get("accept"), table=True)
        rv = q.str("resourceVersion")
        if sub == "scale":
            obj, warnings = self._call(lambda: self.api.get_scale(rt, r.name, r.namespace))
            return self._object_response(200, obj, mode, warnings, "Scale")
        if sub == "status" and not rt.has_status:
            raise errors.resource_not_found()
        obj, warnings = self._call(lambda: self.api.get(rt, r.name, r.namespace,
                                                        resource_version=rv, copy_out=False))
        return self._object_response(200, obj, mode, warnings, rt.kind)

    def _create(self, r: Route, q: Query, headers: dict[str, str], body: bytes) -> Response:
        rt = r.rt
        dry = q.dry_run("CreateOptions")
        fv = _field_validation(q, "CreateOptions")
        fm = _field_manager(q, "CreateOptions", headers=headers)
        mode = output_mode(headers.get("accept"))
        obj = decode_object_body(rt.kind, headers, body)
        ns = r.namespace if rt.namespaced else None
        out, warnings = self._call(lambda: self.api.create(
            rt, obj, ns, dry_run=dry, field_validation=fv, field_manager=fm, copy_out=False))
        return self._object_response(201, out, mode, warnings, rt.kind)

    def _exists(self, rt: ResourceType, name: str, namespace: str | None) -> bool:
        key = (namespace or "" if rt.namespaced else "", name)
        return key in self.api.table(rt).objects

    def _update(self, r: Route, q: Query, headers: dict[str, str], body: bytes) -> Response:
        rt = r.rt
        sub = r.subresource
        dry = q.dry_run("UpdateOptions")
        fv = _field_validation(q, "UpdateOptions")
        fm = _field_manager(q, "UpdateOptions", headers=headers)
        mode = output_mode(headers.get("accept"))
        obj = decode_object_body("Scale" if sub == "scale" else rt.kind, headers, body)
        if sub == "scale":
            out, warnings = self._call(lambda: self.api.update_scale(
                rt, r.name, r.namespace, obj, dry_run=dry, field_validation=fv))
            return self._object_response(200, out, mode, warnings, "Scale")

        def run() -> tuple[dict, bool]:
            existed = self._exists(rt, r.name, r.namespace)
            stored = self.api.update(rt, obj, r.name, r.namespace, subresource=sub,
                                     dry_run=dry, field_validation=fv, field_manager=fm,
                                     copy_out=False)
            return stored, existed

        (out, existed), warnings = self._call(run)
        return self._object_response(200 if existed else 201, out, mode, warnings, rt.kind)

    def _patch(self, r: Route, q: Query, headers: dict[str, str], body: bytes) -> Response:
        rt = r.rt
        sub = r.subresource
        mt = _media_type(headers)
        patch_type = PATCH_TYPES.get(mt)
        if patch_type is None:
            raise errors.UnsupportedMediaType(_PATCH_415, {})
        dry = q.dry_run("PatchOptions")
        force = q.opt_bool("force")
        errs: list[FieldError] = []
        if patch_type != "apply":
            if force is not None:
                errs.append(FieldError.forbidden("force", "may not be specified for "
                                                          "non-apply patch"))
        elif not q.str("fieldManager"):
            errs.append(FieldError.required("fieldManager", "is required for apply patch"))
        fm = _field_manager(q, "PatchOptions", errs,
                            headers=headers if patch_type != "apply" else None)
        if errs:
            raise errors.invalid("PatchOptions", "meta.k8s.io", "", errs)
        fv = _field_validation(q, "PatchOptions")
        mode = output_mode(headers.get("accept"))
        try:
            patch = parse_yaml(body) if patch_type == "apply" else parse_json(body)
        except ValueError as exc:
            raise errors.BadRequest(f"error decoding patch: {exc}") from None

        def run() -> tuple[dict, bool]:
            existed = self._exists(rt, r.name, r.namespace)
            stored = self.api.patch(rt, r.name, patch, r.namespace, patch_type=patch_type,
                                    subresource=sub, dry_run=dry, field_manager=fm,
                                    force=bool(force), field_validation=fv,
                                    copy_out=False)
            return stored, existed

        (out, existed), warnings = self._call(run)
        kind = "Scale" if sub == "scale" else rt.kind
        return self._object_response(200 if existed else 201, out, mode, warnings, kind)

    def _delete_options(self, q: Query, headers: dict[str, str], body: bytes) -> dict:
        """DeleteOptions from the body if there is one, else from the query (delete.go)."""
        if body.strip():
            mt = _media_type(headers)
            if mt not in ("", "application/json", "application/yaml", "*/*"):
                raise errors.UnsupportedMediaType(_BODY_415, {})
            try:
                opts = parse_yaml(body) if mt == "application/yaml" else parse_json(body)
            except ValueError as exc:
                raise errors.BadRequest(f"couldn't get version/kind; json parse error: {exc}"
                                        ) from None
            if not isinstance(opts, dict):
                raise errors.BadRequest(
                    "json: cannot unmarshal " + json_kind(opts) + " into Go value of type "
                    "v1.DeleteOptions")
            kind = opts.get("kind")
            if kind not in (None, "", "DeleteOptions"):
                raise errors.BadRequest("decoded object cannot be converted to DeleteOptions")
            out = {}
            for field, key, ok, go_type in _DELETE_OPTION_SCALARS:
                value = opts.get(field)
                if value is not None:
                    if not ok(value):
                        raise _delete_option_type_error(value, field, go_type)
                    out[key] = value
            pre = opts.get("preconditions")
            if pre is not None:
                if not isinstance(pre, dict) or not all(
                        isinstance(pre.get(k), (str, type(None)))
                        for k in ("uid", "resourceVersion")):
                    raise _delete_option_type_error(pre, "preconditions", "v1.Preconditions")
                out["preconditions"] = {k: v for k, v in pre.items()
                                        if k in ("uid", "resourceVersion") and v}
            dry = opts.get("dryRun")
            if dry is not None:
                if not isinstance(dry, list) or not all(isinstance(v, str) for v in dry):
                    raise _delete_option_type_error(dry, "dryRun", "[]string")
                out["dry_run"] = _check_dry_run(dry, "DeleteOptions")
            return out
        out = {}
        gp = q.int("gracePeriodSeconds")
        if gp is not None:
            out["grace_period_seconds"] = gp
        pp = q.str("propagationPolicy")
        if pp is not None:
            out["propagation_policy"] = pp
        od = q.opt_bool("orphanDependents")
        if od is not None:
            out["orphan_dependents"] = od
        if q.dry_run("DeleteOptions"):
            out["dry_run"] = True
        return out

    def _delete(self, r: Route, q: Query, headers: dict[str, str], body: bytes) -> Response:
        rt = r.rt
        opts = self._delete_options(q, headers, body)
        mode = output_mode(headers.get("accept"))
        out, warnings = self._call(lambda: self.api.delete(rt, r.name, r.namespace,
                                                           copy_out=False, **opts))
        code = 200
        if opts.get("orphan_dependents") is False and out.get("kind") != "Status":
            code = 202
        return self._object_response(code, out, mode, warnings)

    def _delete_collection(self, r: Route, q: Query, headers: dict[str, str], body: bytes
                           ) -> Response:
        rt = r.rt
        opts = self._delete_options(q, headers, body)
        opts.pop("preconditions", None)
        opts.pop("orphan_dependents", None)
        mode = output_mode(headers.get("accept"))
        ls, fs = self._selectors(r, q)
        out, warnings = self._call(lambda: self.api.delete_collection(
            rt, r.namespace, label_selector=ls, field_selector=fs, **opts))
        return self._object_response(200, out, mode, warnings)

    def _pod_post(self, r: Route, q: Query, headers: dict[str, str], body: bytes) -> Response:
        sub = r.subresource
        dry = q.dry_run("CreateOptions")
        mode = output_mode(headers.get("accept"))
        obj = decode_object_body("Binding" if sub == "binding" else "Eviction", headers, body)
        if sub == "binding":
            out, warnings = self._call(lambda: self.api.bind(r.name, r.namespace, obj,
                                                             dry_run=dry))
        else:
            out, warnings = self._call(lambda: self.api.evict(r.name, r.namespace, obj,
                                                              dry_run=dry))
        return self._object_response(201, out, mode, warnings)

    # -- watch -----------------------------------------------------------------------------

    def _watch(self, r: Route, q: Query, headers: dict[str, str]) -> Response:
        from .watchstream import open_watch

        return open_watch(self, r, q, headers)


# DeleteOptions' scalar fields in a body: (JSON name, keyword, type check, Go type).
_DELETE_OPTION_SCALARS: tuple[tuple[str, str, Callable[[Any], bool], str], ...] = (
    ("gracePeriodSeconds", "grace_period_seconds",
     lambda v: isinstance(v, int) and not isinstance(v, bool), "int64"),
    ("propagationPolicy", "propagation_policy", lambda v: isinstance(v, str),
     "v1.DeletionPropagation"),
    ("orphanDependents", "orphan_dependents", lambda v: isinstance(v, bool), "bool"),
)


def _delete_option_type_error(value: Any, field: str, go_type: str) -> errors.BadRequest:
    return errors.BadRequest(f"json: cannot unmarshal {json_kind(value)} into Go struct field "
                             f"DeleteOptions.{field} of type {go_type}")


def _warning_headers(warnings: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    seen = set()
    for w in warnings:
        if w in seen:
            continue
        seen.add(w)
        text = w.replace("\\", "\\\\").replace('"', '\\"')
        text = "".join(ch if 0x20 <= ord(ch) < 0x7f else "?" for ch in text)
        out.append(("Warning", f'299 - "{text}"'))
    return out


