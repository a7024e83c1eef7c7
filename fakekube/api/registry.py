"""The resource registry: one table of every kind the API serves.

Everything that differs between kinds and is not behaviour lives here as data: names (group,
version, kind, plural, singular, short names, categories), scope, subresources, whether the
kind has a status subresource and tracks ``metadata.generation``, what DELETE answers, the
field selectors it supports and the fields the store indexes. The in-process API, the HTTP
routes and discovery all read this one table. Behaviour per kind (defaulting, strategy,
validation) lives in :mod:`fakekube.api.kinds`.

Sources: discovery of a v1.31 API server; ``pkg/registry/<group>/<kind>/storage/storage.go``
(ReturnDeletedObject, subresources), ``pkg/registry/<group>/<kind>/strategy.go``
(generation, status strategy, AllowCreateOnUpdate), ``pkg/apis/<group>/v1/conversion.go``
(field label conversions).
"""

from __future__ import annotations

from typing import Any, Callable

import attrs

from .. import errors

__all__ = ["ResourceType", "Registry", "REGISTRY"]

FieldGetter = Callable[[dict], str]


def _meta(field: str) -> FieldGetter:
    return lambda o: o["metadata"].get(field, "")


def _walk(parts: tuple[str, ...]) -> FieldGetter:
    """The field at ``parts`` as a field selector reads it: "" when absent (or under a
    non-object), booleans as ``true``/``false``, other values as their text."""
    def get(o: dict) -> str:
        cur: Any = o
        for p in parts:
            if not isinstance(cur, dict):
                return ""
            cur = cur.get(p)
            if cur is None:
                return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur) if not isinstance(cur, str) else cur
    return get


def _path(*parts: str) -> FieldGetter:
    """:func:`_walk`, unrolled for two levels."""
    if len(parts) != 2:
        return _walk(parts)
    # Two levels (``spec.nodeName``, ``status.phase``), unrolled: the store reads a Pod's
    # node twice on every pod write. Same answers as the loop above.
    first, second = parts

    def get2(o: dict) -> str:
        if isinstance(o, dict):
            cur = o.get(first)
            if isinstance(cur, dict):
                cur = cur.get(second)
                if isinstance(cur, str):
                    return cur
                if cur is None:
                    return ""
                if isinstance(cur, bool):
                    return "true" if cur else "false"
                return str(cur)
        return ""
    # The store skips reading an indexed field again when this part of the object is the
    # stored one itself (see Table.field_reads).
    get2.reads = first  # type: ignore[attr-defined]
    return get2


def _pod_ips(o: dict) -> str:
    ips = (o.get("status") or {}).get("podIPs") or []
    return ",".join(ip.get("ip", "") for ip in ips)


def _bool_path(*parts: str) -> FieldGetter:
    inner = _path(*parts)
    return lambda o: inner(o) or "false"


_COMMON_FIELDS = {"metadata.name": _meta("name"), "metadata.namespace": _meta("namespace")}

# Fields the store keeps an index for, so that list/watch by them does not scan.
_POD_NODE = _path("spec", "nodeName")


@attrs.frozen
class ResourceType:
    """One served resource.

    ``schema`` names the entry of ``_schema.py`` the body decodes as.
    """

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    schema: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    has_status: bool = False          # a status subresource: spec/status split on writes
    tracks_generation: bool = False   # metadata.generation maintained (spec changes)
    returns_deleted_object: bool = False
    allow_create_on_update: bool = False
    allow_unconditional_update: bool = True  # PUT without metadata.resourceVersion
    default_gc_orphan: bool = False   # DefaultGarbageCollectionPolicy OrphanDependents
    field_selectors: dict[str, FieldGetter] = attrs.field(factory=dict)
    indexed_fields: dict[str, FieldGetter] = attrs.field(factory=dict)
    verbs: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch",
                              "update", "watch")
    # Names derived from the fields above, read on every write: computed once, here (the
    # class is frozen, so they cannot go stale). Not init arguments, and not compared.
    api_version: str = attrs.field(init=False, eq=False, repr=False)
    """``v1``, ``apps/v1``."""
    group_resource: str = attrs.field(init=False, eq=False, repr=False)
    """``pods``, ``statefulsets.apps``: how errors name the resource."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "api_version",
                           f"{self.group}/{self.version}" if self.group else self.version)
        object.__setattr__(self, "group_resource", errors.qualified(self.plural, self.group))

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def qualified_kind(self) -> str:
        return errors.qualified(self.kind, self.group)

    def field_getter(self, field: str) -> FieldGetter | None:
        """How to read a field selector's field, or None when the kind does not support it.
        Kinds with their own field label conversion (Pod, Node, Event...) accept only their
        list; cluster-scoped ones among them have no ``metadata.namespace``."""
        if field == "metadata.namespace" and self.field_selectors and not self.namespaced:
            return None
        return _COMMON_FIELDS.get(field) or self.field_selectors.get(field)

    def supported_fields(self) -> list[str]:
        return list(_COMMON_FIELDS) + list(self.field_selectors)


def _rt(group: str, kind: str, plural: str, namespaced: bool = True, **kw: Any) -> ResourceType:
    version = kw.pop("version", "v1")
    module = {"": "core", "apps": "apps", "storage.k8s.io": "storage",
              "discovery.k8s.io": "discovery", "coordination.k8s.io": "coordination",
              "policy": "policy", "autoscaling": "autoscaling"}[group]
    return ResourceType(group=group, version=version, kind=kind, plural=plural,
                        singular=kind.lower(), namespaced=namespaced,
                        schema=f"{module}_{version}.{kind}", **kw)


_POD_FIELDS = {
    "spec.nodeName": _POD_NODE,
    "spec.host": _POD_NODE,  # the deprecated alias upstream still converts
    "spec.restartPolicy": _path("spec", "restartPolicy"),
    "spec.schedulerName": _path("spec", "schedulerName"),
    "spec.serviceAccountName": _path("spec", "serviceAccountName"),
    "spec.hostNetwork": _bool_path("spec", "hostNetwork"),
    "status.phase": _path("status", "phase"),
    "status.podIP": _path("status", "podIP"),
    "status.podIPs": _pod_ips,
    "status.nominatedNodeName": _path("status", "nominatedNodeName"),
}

_EVENT_FIELDS = {
    "involvedObject.kind": _path("involvedObject", "kind"),
    "involvedObject.namespace": _path("involvedObject", "namespace"),
    "involvedObject.name": _path("involvedObject", "name"),
    "involvedObject.uid": _path("involvedObject", "uid"),
    "involvedObject.apiVersion": _path("involvedObject", "apiVersion"),
    "involvedObject.resourceVersion": _path("involvedObject", "resourceVersion"),
    "involvedObject.fieldPath": _path("involvedObject", "fieldPath"),
    "reason": _path("reason"),
    "reportingComponent": _path("reportingComponent"),
    "source": _path("source", "component"),
    "type": _path("type"),
}

KINDS: tuple[ResourceType, ...] = (
    _rt("", "Namespace", "namespaces", False, short_names=("ns",),
        subresources=("status", "finalize"), has_status=True, returns_deleted_object=True,
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        field_selectors={"status.phase": _path("status", "phase")}),
    _rt("", "Node", "nodes", False, short_names=("no",), subresources=("status", "proxy"),
        has_status=True, field_selectors={"spec.unschedulable": _bool_path("spec", "unschedulable")}),
    _rt("", "Pod", "pods", short_names=("po",), categories=("all",),
        subresources=("status", "binding", "eviction", "log", "ephemeralcontainers", "resize"),
        has_status=True, returns_deleted_object=True, field_selectors=_POD_FIELDS,
        indexed_fields={"spec.nodeName": _POD_NODE}),
    _rt("", "Service", "services", short_names=("svc",), categories=("all",),
        subresources=("status", "proxy"), has_status=True, returns_deleted_object=True,
        allow_create_on_update=True,
        field_selectors={"spec.clusterIP": _path("spec", "clusterIP"),
                         "spec.type": _path("spec", "type")}),
    _rt("", "Endpoints", "endpoints", short_names=("ep",), allow_create_on_update=True),
    _rt("", "PersistentVolume", "persistentvolumes", False, short_names=("pv",),
        subresources=("status",), has_status=True, returns_deleted_object=True),
    _rt("", "PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",),
        subresources=("status",), has_status=True, returns_deleted_object=True),
    _rt("", "ConfigMap", "configmaps", short_names=("cm",)),
    _rt("", "Secret", "secrets", field_selectors={"type": _path("type")}),
    _rt("", "Event", "events", short_names=("ev",), allow_create_on_update=True,
        field_selectors=_EVENT_FIELDS),
    _rt("", "ServiceAccount", "serviceaccounts", short_names=("sa",),
        returns_deleted_object=True),
    _rt("apps", "StatefulSet", "statefulsets", short_names=("sts",), categories=("all",),
        subresources=("status", "scale"), has_status=True, tracks_generation=True),
    _rt("apps", "Deployment", "deployments", short_names=("deploy",), categories=("all",),
        subresources=("status", "scale"), has_status=True, tracks_generation=True),
    _rt("apps", "ReplicaSet", "replicasets", short_names=("rs",), categories=("all",),
        subresources=("status", "scale"), has_status=True, tracks_generation=True,
        field_selectors={"status.replicas": _path("status", "replicas")}),
    _rt("apps", "ControllerRevision", "controllerrevisions"),
    _rt("storage.k8s.io", "StorageClass", "storageclasses", False, short_names=("sc",)),
    _rt("storage.k8s.io", "VolumeAttachment", "volumeattachments", False,
        subresources=("status",), has_status=True, allow_unconditional_update=False),
    _rt("discovery.k8s.io", "EndpointSlice", "endpointslices", tracks_generation=True),
    _rt("coordination.k8s.io", "Lease", "leases", allow_create_on_update=True,
        allow_unconditional_update=False),
    _rt("policy", "PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",),
        subresources=("status",), has_status=True, tracks_generation=True),
)


class Registry:
    """Look up resource types by Kind, plural, singular or short name."""

    def __init__(self, kinds: tuple[ResourceType, ...] = KINDS) -> None:
        self.kinds = kinds
        self._by_kind = {rt.kind: rt for rt in kinds}
        self._by_gvr = {(rt.group, rt.version, rt.plural): rt for rt in kinds}
        names: dict[str, ResourceType] = {}
        for rt in kinds:
            for n in (rt.plural, rt.singular, *rt.short_names):
                names.setdefault(n, rt)
                names.setdefault(f"{n}.{rt.group}" if rt.group else n, rt)
        self._by_name = names

    def by_kind(self, kind: str) -> ResourceType:
        """The type of a Kind name (``"Pod"``); also accepts a plural, singular or short name
        (``"pods"``, ``"sts"``). Unknown: upstream's 404."""
        rt = self._by_kind.get(kind) or self._by_name.get(kind) or self._by_name.get(
            kind.lower())
        if rt is None:
            raise errors.resource_not_found()
        return rt

    def by_gvr(self, group: str, version: str, plural: str) -> ResourceType:
        rt = self._by_gvr.get((group, version, plural))
        if rt is None:
            raise errors.resource_not_found()
        return rt

    def for_object(self, obj: dict) -> ResourceType:
        """The type named by an object's apiVersion and kind."""
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if not isinstance(kind, str) or not kind:
            raise errors.BadRequest("Object 'Kind' is missing in '" + _short_json(obj) + "'")
        if not isinstance(api_version, str) or not api_version:
            raise errors.BadRequest("Object 'apiVersion' is missing in '" + _short_json(obj)
                                    + "'")
        rt = self._by_kind.get(kind)
        if rt is None or rt.api_version != api_version:
            raise errors.resource_not_found()
        return rt

    def groups(self) -> dict[str, list[ResourceType]]:
        out: dict[str, list[ResourceType]] = {}
        for rt in self.kinds:
            out.setdefault(rt.api_version, []).append(rt)
        return out


def _short_json(obj: Any) -> str:
    import json

    try:
        text = json.dumps(obj, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(obj)
    return text if len(text) < 200 else text[:200] + "..."


REGISTRY = Registry()
