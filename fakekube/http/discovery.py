"""Discovery and OpenAPI documents, built once per registry from the resource table.

Serves what clients read before they talk to a resource (CLIENTS.md 5.1, 5.6, gotcha 1):

- ``/version``: ``version.Info``;
- legacy discovery: ``/api`` (``APIVersions``), ``/apis`` (``APIGroupList``),
  ``/apis/<group>`` (``APIGroup``), ``/api/v1`` and ``/apis/<g>/<v>`` (``APIResourceList``
  with the served subresources as ``<plural>/<subresource>`` entries);
- aggregated discovery (``apidiscovery.k8s.io/v2``, and ``v2beta1`` when only that is asked
  for) for ``/api`` and ``/apis``, content-negotiated by the caller;
- OpenAPI v3: the root index of group-versions with hashed ``serverRelativeURL``s, and per
  group-version a document with every resource path and its operations; each ``patch``
  operation carries ``x-kubernetes-group-version-kind`` and a ``fieldValidation`` parameter,
  which is what ``kubectl apply`` checks before it trusts server-side field validation.
  Schemas are left out: kubectl then falls back to its compiled-in types (``/openapi/v2``
  answers 404).

Upstream: ``staging/src/k8s.io/apiserver/pkg/endpoints/discovery/`` (legacy and
``aggregated/``), ``staging/src/k8s.io/api/apidiscovery/v2/types.go``,
``staging/src/k8s.io/kube-openapi/pkg/handler3/handler.go`` (root index, hash query,
``Cache-Control``), ``pkg/registry/*/storage/storage.go`` (ShortNames, Categories).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..api.registry import Registry, ResourceType
from .routes import SERVED_SUBRESOURCES

__all__ = ["Discovery", "AGGREGATED_V2", "AGGREGATED_V2BETA1"]

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = ("application/json;g=apidiscovery.k8s.io;v=v2beta1;"
                      "as=APIGroupDiscoveryList")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _subresource_kind(rt: ResourceType, sub: str) -> tuple[tuple[str, ...], str, str, str]:
    verbs, group, version, kind = SERVED_SUBRESOURCES[sub]
    if group == "<self>":
        group, version, kind = rt.group, rt.version, rt.kind
    return verbs, group, version, kind


def _served_subresources(rt: ResourceType) -> list[str]:
    return [s for s in rt.subresources if s in SERVED_SUBRESOURCES]


class Discovery:
    """Every discovery and OpenAPI body, pre-encoded. ``address`` is the server's
    ``host:port`` for ``serverAddressByClientCIDRs``."""

    def __init__(self, registry: Registry, kubernetes_version: str, address: str) -> None:
        self.registry = registry
        self.address = address
        gvs = registry.groups()  # "v1" / "apps/v1" -> [rt]
        self._gvs = gvs
        self.version = _dumps(_version_info(kubernetes_version))
        cidrs = [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]
        self.api_versions = _dumps({"kind": "APIVersions", "versions": ["v1"],
                                    "serverAddressByClientCIDRs": cidrs})
        groups: dict[str, list[str]] = {}
        for gv in gvs:
            if "/" in gv:
                g, v = gv.split("/", 1)
                groups.setdefault(g, []).append(v)
        self._group_objs = {g: _api_group(g, vs) for g, vs in groups.items()}
        self.api_group_list = _dumps({"kind": "APIGroupList", "apiVersion": "v1",
                                      "groups": list(self._group_objs.values())})
        self.api_group = {g: _dumps(dict(obj, kind="APIGroup", apiVersion="v1"))
                          for g, obj in self._group_objs.items()}
        self.resource_lists = {gv: _dumps(_resource_list(gv, rts)) for gv, rts in gvs.items()}
        self._aggregated: dict[tuple[str, str], bytes] = {}
        self._openapi_docs = {}
        for gv, rts in gvs.items():
            path = "api/v1" if gv == "v1" else f"apis/{gv}"
            body = _dumps(_openapi_document(gv, rts, kubernetes_version))
            self._openapi_docs[path] = (hashlib.sha512(body).hexdigest().upper(), body)
        self.openapi_root = _dumps({"paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={h}"}
            for path, (h, _) in self._openapi_docs.items()}})

    # -- aggregated ------------------------------------------------------------------------

    def aggregated(self, root: str, version: str = "v2") -> bytes:
        """``APIGroupDiscoveryList`` for ``/api`` (root ``api``) or ``/apis``."""
        key = (root, version)
        got = self._aggregated.get(key)
        if got is None:
            items = []
            for gv, rts in self._gvs.items():
                core = "/" not in gv
                if core != (root == "api"):
                    continue
                group, _, ver = gv.rpartition("/")
                items.append((group, ver, rts))
            by_group: dict[str, list] = {}
            for group, ver, rts in items:
                by_group.setdefault(group, []).append({
                    "version": ver, "resources": [_aggregated_resource(rt) for rt in rts],
                    "freshness": "Current"})
            body = {"kind": "APIGroupDiscoveryList",
                    "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
                    "items": [{"metadata": {"name": g, "creationTimestamp": None},
                               "versions": vs} for g, vs in by_group.items()]}
            got = self._aggregated[key] = _dumps(body)
        return got

    # -- openapi ---------------------------------------------------------------------------

    def openapi_document(self, path: str) -> tuple[str, bytes] | None:
        """(hash, body) of the OpenAPI v3 document of ``api/v1`` / ``apis/<g>/<v>``."""
        return self._openapi_docs.get(path)


def _version_info(git_version: str) -> dict:
    core = git_version.lstrip("v").split("-")[0].split("+")[0]
    parts = (core.split(".") + ["0", "0"])[:3]
    return {"major": parts[0], "minor": parts[1], "gitVersion": git_version,
            "gitCommit": "fakekube", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.22.5", "compiler": "gc",
            "platform": "linux/amd64"}


def _api_group(group: str, versions: list[str]) -> dict:
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": vs, "preferredVersion": vs[0]}


def _resource_list(gv: str, rts: list[ResourceType]) -> dict:
    resources: list[dict] = []
    for rt in rts:
        entry: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular,
                                 "namespaced": rt.namespaced, "kind": rt.kind,
                                 "verbs": list(rt.verbs)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in _served_subresources(rt):
            verbs, group, version, kind = _subresource_kind(rt, sub)
            s: dict[str, Any] = {"name": f"{rt.plural}/{sub}", "singularName": "",
                                 "namespaced": rt.namespaced}
            if (group, version) != (rt.group, rt.version):
                s["group"] = group
                s["version"] = version
            s["kind"] = kind
            s["verbs"] = list(verbs)
            resources.append(s)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": resources}


def _aggregated_resource(rt: ResourceType) -> dict:
    entry: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subs = []
    for sub in _served_subresources(rt):
        verbs, group, version, kind = _subresource_kind(rt, sub)
        subs.append({"subresource": sub,
                     "responseKind": {"group": group, "version": version, "kind": kind},
                     "verbs": list(verbs)})
    if subs:
        entry["subresources"] = subs
    return entry


_WRITE_PARAMS = [
    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
    {"name": "fieldManager", "in": "query", "schema": {"type": "string",
                                                       "uniqueItems": True}},
    {"name": "fieldValidation", "in": "query",
     "description": "fieldValidation instructs the server on how to handle objects in the "
                    "request containing unknown or duplicate fields: Ignore, Warn or Strict.",
     "schema": {"type": "string", "uniqueItems": True}},
]
_PATCH_PARAMS = _WRITE_PARAMS + [
    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}},
]


def _openapi_document(gv: str, rts: list[ResourceType], kubernetes_version: str) -> dict:
    paths: dict[str, dict] = {}
    prefix = "/api/v1" if gv == "v1" else f"/apis/{gv}"
    for rt in rts:
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        base = (f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced
                else f"{prefix}/{rt.plural}")
        op_kind = rt.kind

        def op(action: str, params: list, kind: str = op_kind, g: dict = gvk) -> dict:
            return {"operationId": f"{action}{kind}", "parameters": params,
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": action, "x-kubernetes-group-version-kind": g}

        paths[base] = {"get": op("list", []), "post": op("post", _WRITE_PARAMS),
                       "delete": op("deletecollection", [])}
        paths[base + "/{name}"] = {"get": op("get", []), "put": op("put", _WRITE_PARAMS),
                                   "patch": op("patch", _PATCH_PARAMS),
                                   "delete": op("delete", [])}
        for sub in _served_subresources(rt):
            verbs, group, version, kind = _subresource_kind(rt, sub)
            sg = {"group": group, "version": version, "kind": kind}
            ops: dict[str, dict] = {}
            if "get" in verbs:
                ops["get"] = op("get", [], kind, sg)
            if "update" in verbs:
                ops["put"] = op("put", _WRITE_PARAMS, kind, sg)
            if "patch" in verbs:
                ops["patch"] = op("patch", _PATCH_PARAMS, kind, sg)
            if "create" in verbs:
                ops["post"] = op("post", _WRITE_PARAMS, kind, sg)
            paths[f"{base}/{{name}}/{sub}"] = ops
    return {"openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": kubernetes_version},
            "paths": paths, "components": {"schemas": {}}}
