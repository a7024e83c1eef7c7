"""The admission plugins a v1.31 API server runs by default, as far as they change objects.

Each plugin is a function ``(op, rt, obj, old, api) -> None`` that may change ``obj`` (the
API layer's private copy) or raise an :class:`~fakekube.errors.ApiError`. They run after
defaulting and the kind's strategy, before validation (upstream runs mutating admission
before the registry's validation).

- NamespaceLifecycle (``plugin/pkg/admission/namespace/lifecycle``): objects may only be
  created in a namespace that exists and is not terminating; the immortal namespaces cannot
  be deleted (checked in the API layer's delete).
- DefaultTolerationSeconds (``plugin/pkg/admission/defaulttolerationseconds``): pods tolerate
  the not-ready and unreachable NoExecute taints for 300 s unless they say otherwise.
- StorageObjectInUseProtection (``plugin/pkg/admission/storage/storageobjectinuseprotection``):
  the ``kubernetes.io/pvc-protection`` / ``kubernetes.io/pv-protection`` finalizers.
- DefaultStorageClass (``plugin/pkg/admission/storage/storageclass/setdefault``): a claim that
  names no class gets the default class.
- Priority (``plugin/pkg/admission/priority``): pods get ``priority: 0`` and
  ``preemptionPolicy: PreemptLowerPriority`` when no PriorityClass applies.
- ServiceAccount (``plugin/pkg/admission/serviceaccount``): pods run as ``default`` unless
  they name a service account.

Validating plugins run after the kind's validation:

- PersistentVolumeClaimResize (``plugin/pkg/admission/storage/persistentvolume/resize``): a
  claim may only grow when it is bound and its class allows expansion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .. import errors

if TYPE_CHECKING:
    from .registry import ResourceType
    from .server import ApiServer

CREATE, UPDATE = "CREATE", "UPDATE"

Plugin = Callable[[str, "ResourceType", dict, "dict | None", "ApiServer"], None]

IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


def _applies(ops: tuple[str, ...], kinds: tuple[str, ...] | None = None, *,
             namespaced: bool = False, core: bool = True) -> Callable[[Plugin], Plugin]:
    """Mark a plugin with the writes it can act on: operations ``ops``, kinds ``kinds``
    (None: any kind) of the core group (of any group if not ``core``), namespaced kinds only
    if ``namespaced``. Each plugin still
    checks this itself on entry (so calling it directly is unchanged); the marks only let the
    API layer skip calls that would return at once (see :func:`plugins_for`)."""
    def mark(plugin: Plugin) -> Plugin:
        plugin.admission_ops = frozenset(ops)  # type: ignore[attr-defined]
        plugin.admission_kinds = (  # type: ignore[attr-defined]
            None if kinds is None else frozenset(kinds))
        plugin.admission_namespaced = namespaced  # type: ignore[attr-defined]
        plugin.admission_core = core  # type: ignore[attr-defined]
        return plugin
    return mark


def plugins_for(plugins: "list[Plugin] | tuple[Plugin, ...]", op: str,
                rt: "ResourceType") -> tuple[Plugin, ...]:
    """The plugins of ``plugins`` (in order) that may act on an ``op`` of ``rt``: every
    unmarked plugin (one a test or an extension added), and each marked one whose marks
    admit the write. The others would return without doing anything, so leaving them out
    changes nothing."""
    out = []
    for plugin in plugins:
        ops = getattr(plugin, "admission_ops", None)
        if ops is not None:
            kinds = plugin.admission_kinds  # type: ignore[attr-defined]
            if op not in ops or (plugin.admission_namespaced  # type: ignore[attr-defined]
                                 and not rt.namespaced):
                continue
            if kinds is not None and (rt.kind not in kinds or (
                    plugin.admission_core and rt.group != "")):  # type: ignore[attr-defined]
                continue
        out.append(plugin)
    return tuple(out)


@_applies((CREATE,), namespaced=True)
def namespace_lifecycle(op: str, rt: "ResourceType", obj: dict, old: dict | None,
                        api: "ApiServer") -> None:
    if op != CREATE or not rt.namespaced:
        return
    ns_name = obj["metadata"]["namespace"]
    ns = api.namespace_object(ns_name)
    if ns is None:
        raise errors.not_found("namespaces", "", ns_name)
    if ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get(
            "phase") == "Terminating":
        raise errors.forbidden(
            rt.plural, rt.group, obj["metadata"].get("name", ""),
            f"unable to create new content in namespace {ns_name} because it is being "
            "terminated",
            causes=[{"reason": "NamespaceTerminating",
                     "message": f"namespace {ns_name} is being terminated",
                     "field": "metadata.namespace"}])


def _spec(obj: dict) -> dict:
    """``obj.setdefault("spec", {})`` without building a dict when there is a spec."""
    try:
        return obj["spec"]
    except KeyError:
        spec = obj["spec"] = {}
        return spec


@_applies((CREATE,), ("Pod",))
def default_toleration_seconds(op: str, rt: "ResourceType", obj: dict, old: dict | None,
                               api: "ApiServer") -> None:
    if rt.kind != "Pod" or rt.group != "" or op != CREATE:
        return
    spec = _spec(obj)
    tolerations = spec.get("tolerations") or ()
    seconds = api.options.default_not_ready_toleration_seconds
    unreachable = api.options.default_unreachable_toleration_seconds
    has_not_ready = has_unreachable = False
    for t in tolerations:
        effect = t.get("effect", "")
        if effect not in ("", "NoExecute"):
            continue
        key = t.get("key", "")
        op_ = t.get("operator", "Equal")
        if key == "" and op_ == "Exists":
            has_not_ready = has_unreachable = True
        elif key == "node.kubernetes.io/not-ready":
            has_not_ready = True
        elif key == "node.kubernetes.io/unreachable":
            has_unreachable = True
    if has_not_ready and has_unreachable:
        return
    tolerations = list(tolerations)
    if not has_not_ready:
        tolerations.append({"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                            "effect": "NoExecute", "tolerationSeconds": seconds})
    if not has_unreachable:
        tolerations.append({"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                            "effect": "NoExecute", "tolerationSeconds": unreachable})
    spec["tolerations"] = tolerations


@_applies((CREATE,), ("PersistentVolumeClaim", "PersistentVolume"))
def storage_object_in_use_protection(op: str, rt: "ResourceType", obj: dict, old: dict | None,
                                     api: "ApiServer") -> None:
    if op != CREATE or rt.group != "":
        return
    if rt.kind == "PersistentVolumeClaim":
        finalizer = "kubernetes.io/pvc-protection"
    elif rt.kind == "PersistentVolume":
        finalizer = "kubernetes.io/pv-protection"
    else:
        return
    fins = obj["metadata"].get("finalizers") or []
    if finalizer not in fins:
        obj["metadata"]["finalizers"] = [*fins, finalizer]


@_applies((CREATE,), ("PersistentVolumeClaim",))
def default_storage_class(op: str, rt: "ResourceType", obj: dict, old: dict | None,
                          api: "ApiServer") -> None:
    if op != CREATE or rt.kind != "PersistentVolumeClaim" or rt.group != "":
        return
    spec = _spec(obj)
    if "storageClassName" in spec:
        return
    ann = obj["metadata"].get("annotations") or {}
    if "volume.beta.kubernetes.io/storage-class" in ann:
        return
    default = api.default_storage_class()
    if default is not None:
        spec["storageClassName"] = default


@_applies((CREATE,), ("Pod",))
def priority(op: str, rt: "ResourceType", obj: dict, old: dict | None, api: "ApiServer") -> None:
    if op != CREATE or rt.kind != "Pod" or rt.group != "":
        return
    spec = _spec(obj)
    if "priority" not in spec and not spec.get("priorityClassName"):
        spec["priority"] = 0
    if "preemptionPolicy" not in spec:
        spec["preemptionPolicy"] = "PreemptLowerPriority"


@_applies((CREATE,), ("Pod",))
def service_account(op: str, rt: "ResourceType", obj: dict, old: dict | None,
                    api: "ApiServer") -> None:
    if op != CREATE or rt.kind != "Pod" or rt.group != "":
        return
    spec = _spec(obj)
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = name
    spec["serviceAccount"] = name


DEFAULT_PLUGINS: tuple[Plugin, ...] = (
    namespace_lifecycle,
    service_account,
    default_toleration_seconds,
    storage_object_in_use_protection,
    default_storage_class,
    priority,
)


_resize_check: Plugin | None = None  # imported on first use (controllers import this module)


@_applies((UPDATE,), ("PersistentVolumeClaim",), core=False)
def persistent_volume_claim_resize(op: str, rt: "ResourceType", obj: dict, old: dict | None,
                                   api: "ApiServer") -> None:
    """PersistentVolumeClaimResize (validating): see
    :func:`fakekube.controllers.persistentvolume.expand.persistent_volume_claim_resize`."""
    global _resize_check
    if op != UPDATE or rt.kind != "PersistentVolumeClaim":
        return
    check = _resize_check
    if check is None:
        from ..controllers.persistentvolume.expand import (
            persistent_volume_claim_resize as check)

        _resize_check = check
    check(op, rt, obj, old, api)


DEFAULT_VALIDATING_PLUGINS: tuple[Plugin, ...] = (persistent_volume_claim_resize,)
