"""URL -> what is asked: the routing table of the REST facade, read off the resource registry.

A request path names either a fixed endpoint (``/version``, discovery, OpenAPI, health) or a
resource: ``/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]`` for the core group
and ``/apis/<group>/<version>/...`` for the others, with the deprecated ``/watch/`` prefix
after the version. Which plurals exist, their scope and their subresources all come from
:mod:`fakekube.api.registry`, so a kind added there is routed here without a change.

Upstream: ``staging/src/k8s.io/apiserver/pkg/endpoints/installer.go`` (the paths registered per
resource and scope; a namespaced resource also answers list/watch without a namespace),
``.../endpoints/request/requestinfo.go`` (how a path splits into namespace, resource, name,
subresource; ``namespaces/<name>/<subresource>`` for namespace subresources).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import attrs

from ..api.registry import Registry, ResourceType

__all__ = ["Route", "route", "SERVED_SUBRESOURCES"]

# Subresources the facade serves, with the verbs and the kind they answer with (discovery
# reads this too). "<self>" is the parent kind.
SERVED_SUBRESOURCES: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    # subresource: (verbs, group, version, kind)
    "status": (("get", "patch", "update"), "<self>", "<self>", "<self>"),
    "scale": (("get", "patch", "update"), "autoscaling", "v1", "Scale"),
    "binding": (("create",), "", "v1", "Binding"),
    "eviction": (("create",), "policy", "v1", "Eviction"),
    "finalize": (("update",), "<self>", "<self>", "<self>"),
    "log": (("get",), "", "v1", "Pod"),
}


@attrs.frozen(slots=True)
class Route:
    """What a path names. ``endpoint`` is one of ``resource``, ``version``, ``api``
    (``/api``), ``apis`` (``/apis``), ``group`` (``/apis/<g>``), ``resources``
    (``/api/v1``, ``/apis/<g>/<v>``), ``openapi``, ``openapi_gv``, ``openapi_v2``,
    ``health``, or ``notfound``."""

    endpoint: str
    rt: ResourceType | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    group: str = ""
    version: str = ""
    watch: bool = False  # the deprecated /watch/ prefix

    @property
    def collection(self) -> bool:
        return self.endpoint == "resource" and self.name is None


NOT_FOUND = Route("notfound")
_FIXED = {
    "version": Route("version"),
    "api": Route("api"),
    "apis": Route("apis"),
    "openapi/v3": Route("openapi"),
    "openapi/v2": Route("openapi_v2"),
    "swagger.json": Route("openapi_v2"),
    "healthz": Route("health"),
    "livez": Route("health"),
    "readyz": Route("health"),
}


def route(path: str, registry: Registry, _cache: dict[str, Route] = {}) -> Route:
    """The route of a request path (no query). Never raises."""
    got = _cache.get(path)
    if got is not None:
        return got
    # An object's path is its collection's path plus one segment: collections repeat,
    # names rarely do, so an item is derived from its collection's cached route.
    head, slash, last = path.rpartition("/")
    if slash and last and head and head[-1] != "/":
        parent = _cache.get(head)
        if (parent is not None and parent.endpoint == "resource" and parent.name is None
                and (parent.namespace is not None or not parent.rt.namespaced)):
            name = unquote(last)
            if name:
                return Route("resource", parent.rt, parent.namespace, name, None,
                             parent.group, parent.version, parent.watch)
    r = _route(path, registry)
    if len(_cache) > 4096:
        _cache.clear()
    if r.endpoint != "resource" or r.name is None:
        _cache[path] = r  # collections and fixed endpoints repeat; names rarely do
    elif r.subresource is None and slash and last and head and head[-1] != "/":
        # an object whose collection was not asked for yet: keep the collection's route
        # (what _route gives for it), so that its other objects take the short way above
        parent = _route(head, registry)
        if parent.endpoint == "resource" and parent.name is None:
            _cache[head] = parent
    return r


def _route(path: str, registry: Registry) -> Route:
    if not path.startswith("/"):
        return NOT_FOUND
    trimmed = path.strip("/")
    fixed = _FIXED.get(trimmed)
    if fixed is not None:
        return fixed
    parts = [unquote(p) for p in trimmed.split("/")]
    if any(p == "" for p in parts):
        return NOT_FOUND
    head = parts[0]
    if head == "openapi" and len(parts) >= 3 and parts[1] == "v3":
        gv = "/".join(parts[2:])
        return Route("openapi_gv", group=gv)
    if head == "api":
        if len(parts) < 2 or parts[1] != "v1":
            return NOT_FOUND
        group, version, rest = "", "v1", parts[2:]
    elif head == "apis":
        if len(parts) == 2:
            return Route("group", group=parts[1])
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return NOT_FOUND
    if not rest:
        return Route("resources", group=group, version=version)
    watch = False
    if rest[0] == "watch":
        watch = True
        rest = rest[1:]
        if not rest:
            return NOT_FOUND
    return _resource(registry, group, version, rest, watch)


def _lookup(registry: Registry, group: str, version: str, plural: str) -> ResourceType | None:
    try:
        return registry.by_gvr(group, version, plural)
    except Exception:
        return None


def _resource(registry: Registry, group: str, version: str, rest: list[str],
              watch: bool) -> Route:
    n = len(rest)
    namespace_subresource = (group == "" and n == 3 and rest[0] == "namespaces"
                             and rest[2] in ("status", "finalize"))
    if rest[0] == "namespaces" and n >= 3 and not namespace_subresource:
        # /namespaces/<ns>/<plural>[/<name>[/<subresource>]]
        rt = _lookup(registry, group, version, rest[2])
        if rt is None or not rt.namespaced or n > 5:
            return NOT_FOUND
        return _item(rt, rest[1], rest[3:], watch)
    # /<plural>[/<name>[/<subresource>]]: cluster-scoped, or a namespaced kind across all
    # namespaces (collection only)
    rt = _lookup(registry, group, version, rest[0])
    if rt is None or n > 3:
        return NOT_FOUND
    if rt.namespaced and n > 1:
        return NOT_FOUND
    return _item(rt, None, rest[1:], watch)


def _item(rt: ResourceType, namespace: str | None, rest: list[str], watch: bool) -> Route:
    if not rest:
        return Route("resource", rt, namespace, None, None, rt.group, rt.version, watch)
    name = rest[0]
    sub = rest[1] if len(rest) > 1 else None
    if sub is not None and (sub not in rt.subresources or sub not in SERVED_SUBRESOURCES
                            or watch):
        return NOT_FOUND
    return Route("resource", rt, namespace, name, sub, rt.group, rt.version, watch)


def describe(r: Route) -> dict[str, Any]:
    """A plain view of a route, for debugging and tests."""
    return {"endpoint": r.endpoint, "kind": r.rt.kind if r.rt else None,
            "namespace": r.namespace, "name": r.name, "subresource": r.subresource,
            "watch": r.watch}
