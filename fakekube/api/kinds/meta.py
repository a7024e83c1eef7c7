"""ObjectMeta validation: the ``metadata`` rules every kind shares, on create and on update.

This module owns ``metadata`` validation for all built-in kinds (each kind's ``validate``
calls :func:`validate_object_meta` with its own name rule, and its ``validate_update`` calls
:func:`validate_object_meta_update`). It also offers the name rules (``ValidateNameFunc``)
kinds pick from, and the label, annotation, owner-reference and finalizer checks on their own
for embedded metadata (pod templates, claim templates).

Facts (rules, field paths, message texts) follow Kubernetes v1.31:

- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go``
  (``ValidateObjectMetaAccessor``, ``ValidateObjectMetaAccessorUpdate``, annotations and their
  256 KiB total, owner references, finalizers, ``ValidateNoNewFinalizers``);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/api/validation/generic.go``
  (the name rules and their handling of a ``generateName`` prefix);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/
  validation.go`` (labels, managed fields);
- ``kubernetes/kubernetes:pkg/apis/core/validation/validation.go`` (``ValidateObjectMeta`` /
  ``ValidateObjectMetaUpdate`` of the core group, which add the check that a finalizer without
  a ``/`` is one of the standard ones).

Upstream quirks kept on purpose, since clients see them: label and annotation errors carry
the path ``metadata.labels`` / ``metadata.annotations`` without the key; owner-reference errors
carry ``metadata.ownerReferences.<field>`` without an index; the name rules replace the last
*two* characters of a ``generateName`` that ends in ``-`` by ``a`` before checking it.
"""

from __future__ import annotations

import json
from typing import Callable, Iterable

from ...errors import FieldError
from .. import names

__all__ = [
    "NameFn", "FIELD_IMMUTABLE", "IS_NEGATIVE", "TOTAL_ANNOTATION_SIZE_LIMIT",
    "name_is_dns1123_subdomain", "name_is_dns1123_label", "name_is_dns1035_label",
    "name_is_path_segment", "validate_object_meta", "validate_object_meta_update",
    "validate_labels", "validate_annotations", "validate_owner_references",
    "validate_finalizers", "validate_kube_finalizer_name", "validate_immutable_field",
    "go_string_slice", "object_meta_ok", "object_meta_update_ok", "labels_ok",
    "annotations_ok", "owner_references_ok",
]

NameFn = Callable[[str, bool], "list[str]"]

FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * (1 << 10)  # 256 kB

FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"
FINALIZER_KUBERNETES = "kubernetes"
_STANDARD_FINALIZERS = frozenset((FINALIZER_KUBERNETES, FINALIZER_ORPHAN, FINALIZER_FOREGROUND))

# The name rules (ValidateNameFunc): prefix is true for a generateName.
name_is_dns1123_subdomain: NameFn = names.name_is_dns_subdomain
"""``NameIsDNSSubdomain``: Pods, Nodes, ConfigMaps, Secrets, most kinds."""
name_is_dns1123_label: NameFn = names.name_is_dns_label
"""``NameIsDNSLabel``: Namespaces."""
name_is_dns1035_label: NameFn = names.name_is_dns1035_label
"""``NameIsDNS1035Label``: Services."""
name_is_path_segment: NameFn = names.validate_path_segment_name
"""``path.ValidatePathSegmentName``: kinds whose names only need to be URL-safe (RBAC)."""


def go_string_slice(values: Iterable[str]) -> str:
    """Go's ``%#v`` of a ``[]string``: ``[]string{"a", "b"}``."""
    return "[]string{" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "}"


def _go_bytes_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------------------------
# Pieces


def validate_labels(labels: dict | None, path: str) -> list[FieldError]:
    """``ValidateLabels``: keys are qualified names, values label values. Errors carry the
    map's path, not the key's."""
    if not labels:
        return []
    errs: list[FieldError] = []
    qualified, label_value = names.is_qualified_name, names.is_valid_label_value
    for k, v in labels.items():
        for msg in qualified(k):
            errs.append(FieldError.invalid(path, k, msg))
        for msg in label_value(v):
            errs.append(FieldError.invalid(path, v, msg))
    return errs


def validate_annotations(annotations: dict | None, path: str) -> list[FieldError]:
    """``ValidateAnnotations``: keys are qualified names (case does not matter) and keys plus
    values total at most 256 KiB."""
    if not annotations:
        return []
    errs: list[FieldError] = []
    total = 0
    for k, v in annotations.items():
        msgs = names.is_qualified_name(k)
        if msgs:
            msgs = names.is_qualified_name(k.lower())
            for msg in msgs:
                errs.append(FieldError.invalid(path, k, msg))
        total += _go_bytes_len(k) + _go_bytes_len(v)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(FieldError.too_long(path, "", TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def _group_version(api_version: str) -> tuple[str, str]:
    """``schema.ParseGroupVersion`` as ``FromAPIVersionAndKind`` uses it; ("", "") on error.
    Remembered per string (owner references name the same few API versions on every
    write; the answer depends on the string alone)."""
    if type(api_version) is not str:
        return _parse_group_version(api_version)
    got = _GROUP_VERSIONS.get(api_version)
    if got is None:
        got = _parse_group_version(api_version)
        if len(_GROUP_VERSIONS) >= 1024:
            _GROUP_VERSIONS.clear()
        _GROUP_VERSIONS[api_version] = got
    return got


_GROUP_VERSIONS: dict[str, tuple[str, str]] = {}


def _parse_group_version(api_version: str) -> tuple[str, str]:
    if not api_version:
        return "", ""
    parts = api_version.split("/")
    if len(parts) == 1:
        return "", api_version
    if len(parts) == 2:
        return parts[0], parts[1]
    return "", ""


def validate_owner_references(refs: list | None, path: str) -> list[FieldError]:
    """``ValidateOwnerReferences``: apiVersion (with a version), kind, name and uid set; no
    core/v1 Event as an owner; at most one reference with ``controller: true``."""
    if not refs:
        return []
    errs: list[FieldError] = []
    first_controller = ""
    for ref in refs:
        api_version = ref.get("apiVersion", "")
        kind = ref.get("kind", "")
        group, version = _group_version(api_version)
        if not version:
            errs.append(FieldError.invalid(path + ".apiVersion", api_version,
                                           "version must not be empty"))
        if not kind:
            errs.append(FieldError.invalid(path + ".kind", kind, "must not be empty"))
        if not ref.get("name"):
            errs.append(FieldError.invalid(path + ".name", ref.get("name", ""),
                                           "must not be empty"))
        if not ref.get("uid"):
            errs.append(FieldError.invalid(path + ".uid", ref.get("uid", ""),
                                           "must not be empty"))
        if group == "" and version == "v1" and kind == "Event":
            errs.append(FieldError.invalid(path, ref,
                                           "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller") is True:
            current = f"{kind}/{ref.get('name', '')}"
            if first_controller:
                errs.append(FieldError.invalid(
                    path, refs, "Only one reference can have Controller set to true. Found "
                    f'"true" in references for {first_controller} and {current}'))
            else:
                first_controller = current
    return errs


def validate_finalizers(finalizers: list | None, path: str) -> list[FieldError]:
    """``ValidateFinalizers``: qualified names, and not both ``orphan`` and
    ``foregroundDeletion``. Errors carry the list's path, not the item's."""
    if not finalizers:
        return []
    errs: list[FieldError] = []
    for f in finalizers:
        for msg in names.is_qualified_name(f):
            errs.append(FieldError.invalid(path, f, msg))
    if FINALIZER_ORPHAN in finalizers and FINALIZER_FOREGROUND in finalizers:
        errs.append(FieldError.invalid(path, finalizers,
                                       f"finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} "
                                       "cannot be both set"))
    return errs


def validate_kube_finalizer_name(name: str, path: str) -> list[FieldError]:
    """``validateKubeFinalizerName``: a finalizer without a ``/`` must be a standard one
    (``kubernetes``, ``orphan``, ``foregroundDeletion``)."""
    if "/" not in name and name not in _STANDARD_FINALIZERS:
        return [FieldError.invalid(path, name,
                                   "name is neither a standard finalizer name nor is it fully "
                                   "qualified")]
    return []


def _kube_finalizer_errors(finalizers: list | None, path: str) -> list[FieldError]:
    if not finalizers:
        return []
    errs: list[FieldError] = []
    for i, f in enumerate(finalizers):
        if "/" not in f and f not in _STANDARD_FINALIZERS:
            errs.extend(validate_kube_finalizer_name(f, f"{path}[{i}]"))
    return errs


def _is_printable(s: str) -> bool:
    return s.isprintable()


def validate_managed_fields(entries: list | None, path: str) -> list[FieldError]:
    """``ValidateManagedFields``: operation Apply or Update, fieldsType FieldsV1, a manager of
    at most 128 printable characters."""
    if not entries:
        return []
    errs: list[FieldError] = []
    for i, e in enumerate(entries):
        p = f"{path}[{i}]"
        op = e.get("operation", "")
        if op not in ("Apply", "Update"):
            errs.append(FieldError.invalid(p + ".operation", op, "must be `Apply` or `Update`"))
        ft = e.get("fieldsType", "")
        if ft and ft != "FieldsV1":
            errs.append(FieldError.invalid(p + ".fieldsType", ft, "must be `FieldsV1`"))
        manager = e.get("manager", "")
        if len(manager) > 128:
            errs.append(FieldError.too_long(p + ".manager", manager, 128))
        if not _is_printable(manager):
            for pos, ch in enumerate(manager):
                if not ch.isprintable():
                    errs.append(FieldError.invalid(
                        p + ".manager", manager,
                        f"invalid character U+{ord(ch):04X} (at position {pos})"))
        sub = e.get("subresource", "")
        if len(sub) > 256:
            errs.append(FieldError.too_long(p + ".subresource", sub, 256))
    return errs


def validate_immutable_field(new, old, path: str) -> list[FieldError]:
    """``ValidateImmutableField``: ``Invalid(path, new, "field is immutable")`` on change."""
    if new != old:
        return [FieldError.invalid(path, new, FIELD_IMMUTABLE)]
    return []


# --------------------------------------------------------------------------------------------
# ObjectMeta


def validate_object_meta(meta: dict, namespaced: bool, name_fn: NameFn,
                         path: str = "metadata", *,
                         kube_finalizers: bool = True) -> list[FieldError]:
    """``ValidateObjectMeta`` on create (name generation has already happened).

    ``name_fn(name, prefix)`` is the kind's name rule (e.g. :data:`name_is_dns1123_subdomain`).
    ``kube_finalizers`` adds the core group's check that a finalizer without ``/`` is a
    standard one (upstream applies it to every kind validated with the core helper, which is
    all built-in kinds fakekube serves).
    """
    try:
        if object_meta_ok(meta, namespaced, name_fn, kube_finalizers=kube_finalizers):
            return []
    except Exception:  # noqa: BLE001 - an odd value: the full check reports (or raises) it
        pass
    return _object_meta_errors(meta, namespaced, name_fn, path, kube_finalizers)


def _object_meta_errors(meta: dict, namespaced: bool, name_fn: NameFn, path: str = "metadata",
                        kube_finalizers: bool = True) -> list[FieldError]:
    """:func:`validate_object_meta` without the fast screen."""
    errs: list[FieldError] = []
    generate_name = meta.get("generateName")
    if generate_name:
        for msg in name_fn(generate_name, True):
            errs.append(FieldError.invalid(path + ".generateName", generate_name, msg))
    name = meta.get("name")
    if not name:
        errs.append(FieldError.required(path + ".name", "name or generateName is required"))
    else:
        for msg in name_fn(name, False):
            errs.append(FieldError.invalid(path + ".name", name, msg))
    errs.extend(_validate_common(meta, namespaced, path))
    if kube_finalizers:
        errs.extend(_kube_finalizer_errors(meta.get("finalizers"), path + ".finalizers"))
    return errs


def _validate_common(meta: dict, namespaced: bool, path: str) -> list[FieldError]:
    """``validateObjectMetaAccessorWithOptsCommon``."""
    errs: list[FieldError] = []
    ns = meta.get("namespace")
    if namespaced:
        if not ns:
            errs.append(FieldError.required(path + ".namespace", ""))
        else:
            for msg in names.name_is_dns_label(ns, False):
                errs.append(FieldError.invalid(path + ".namespace", ns, msg))
    elif ns:
        errs.append(FieldError.forbidden(path + ".namespace", "not allowed on this type"))
    generation = meta.get("generation", 0)
    if generation < 0:
        errs.append(FieldError.invalid(path + ".generation", generation, IS_NEGATIVE))
    labels = meta.get("labels")
    if labels:
        errs.extend(validate_labels(labels, path + ".labels"))
    annotations = meta.get("annotations")
    if annotations:
        errs.extend(validate_annotations(annotations, path + ".annotations"))
    refs = meta.get("ownerReferences")
    if refs:
        errs.extend(validate_owner_references(refs, path + ".ownerReferences"))
    finalizers = meta.get("finalizers")
    if finalizers:
        errs.extend(validate_finalizers(finalizers, path + ".finalizers"))
    managed = meta.get("managedFields")
    if managed:
        errs.extend(validate_managed_fields(managed, path + ".managedFields"))
    return errs


def validate_object_meta_update(new: dict, old: dict, path: str = "metadata", *,
                                kube_finalizers: bool = True) -> list[FieldError]:
    """``ValidateObjectMetaUpdate``: what an update may not do to ``metadata``.

    - no new finalizers while ``old`` is being deleted (``Forbidden``, with upstream's
      ``[]string{...}`` rendering of the new names, sorted);
    - ``resourceVersion`` must be set (the API layer fills it in for unconditional updates
      before validation, as upstream's store does);
    - ``generation`` may not decrease;
    - name, namespace, uid, creationTimestamp, deletionTimestamp and
      deletionGracePeriodSeconds are immutable (``field is immutable``);
    - labels, annotations, owner references and managed fields are validated as on create;
      finalizers get the core group's standard-name check (upstream does not re-run the
      other finalizer checks on update).
    """
    try:
        if object_meta_update_ok(new, old, kube_finalizers=kube_finalizers):
            return []
    except Exception:  # noqa: BLE001 - an odd value: the full check reports (or raises) it
        pass
    return _object_meta_update_errors(new, old, path, kube_finalizers)


def _object_meta_update_errors(new: dict, old: dict, path: str = "metadata",
                               kube_finalizers: bool = True) -> list[FieldError]:
    """:func:`validate_object_meta_update` without the fast screen."""
    errs: list[FieldError] = []
    if old.get("deletionTimestamp"):
        extra = set(new.get("finalizers") or ()) - set(old.get("finalizers") or ())
        if extra:
            errs.append(FieldError.forbidden(
                path + ".finalizers", "no new finalizers can be added if the object is being "
                f"deleted, found new finalizers {go_string_slice(sorted(extra))}"))
    rv = new.get("resourceVersion", "")
    if not rv:
        errs.append(FieldError.invalid(path + ".resourceVersion", rv,
                                       "must be specified for an update"))
    new_gen = new.get("generation", 0)
    if new_gen < old.get("generation", 0):
        errs.append(FieldError.invalid(path + ".generation", new_gen, "must not be decremented"))
    for key, empty in _IMMUTABLE_META:
        nv = new.get(key, empty)
        if nv != old.get(key, empty):
            errs.append(FieldError.invalid(f"{path}.{key}", nv, FIELD_IMMUTABLE))
    labels = new.get("labels")
    if labels:
        errs.extend(validate_labels(labels, path + ".labels"))
    annotations = new.get("annotations")
    if annotations:
        errs.extend(validate_annotations(annotations, path + ".annotations"))
    refs = new.get("ownerReferences")
    if refs:
        errs.extend(validate_owner_references(refs, path + ".ownerReferences"))
    managed = new.get("managedFields")
    if managed:
        errs.extend(validate_managed_fields(managed, path + ".managedFields"))
    if kube_finalizers:
        errs.extend(_kube_finalizer_errors(new.get("finalizers"), path + ".finalizers"))
    return errs


_IMMUTABLE_META = (("name", ""), ("namespace", ""), ("uid", ""), ("creationTimestamp", None),
                   ("deletionTimestamp", None), ("deletionGracePeriodSeconds", None))


# --------------------------------------------------------------------------------------------
# Fast screens: the common, well-formed case in a few dict lookups.
#
# Every write validates metadata, and nearly every write is valid. Each ``*_ok`` function
# below answers True only when the matching validator above would report nothing; anything
# unusual (or merely rare) answers False, and the caller then runs the full validator, which
# stays the only source of error lists, messages and their order. The screens use the name
# checks' memo sets (``names.KNOWN_*``), so a label or name seen before costs a set lookup.

_KNOWN_NAMES = {
    names.name_is_dns_subdomain: names.KNOWN_DNS1123_SUBDOMAINS,
    names.name_is_dns_label: names.KNOWN_DNS1123_LABELS,
    names.name_is_dns1035_label: names.KNOWN_DNS1035_LABELS,
}
_KNOWN_QNAMES = names.KNOWN_QUALIFIED_NAMES
_KNOWN_LABEL_VALUES = names.KNOWN_LABEL_VALUES
_KNOWN_DNS_LABELS = names.KNOWN_DNS1123_LABELS


def labels_ok(labels: dict) -> bool:
    """True when :func:`validate_labels` has nothing to report for ``labels``."""
    for k, v in labels.items():
        if k not in _KNOWN_QNAMES and names.is_qualified_name(k):
            return False
        if v not in _KNOWN_LABEL_VALUES and names.is_valid_label_value(v):
            return False
    return True


def annotations_ok(annotations: dict) -> bool:
    """True when :func:`validate_annotations` has nothing to report."""
    total = 0
    for k, v in annotations.items():
        if (k not in _KNOWN_QNAMES and names.is_qualified_name(k)
                and names.is_qualified_name(k.lower())):
            return False
        total += (len(k) if k.isascii() else _go_bytes_len(k)) + (
            len(v) if v.isascii() else _go_bytes_len(v))
    return total <= TOTAL_ANNOTATION_SIZE_LIMIT


def owner_references_ok(refs: list) -> bool:
    """True when :func:`validate_owner_references` has nothing to report."""
    controller = False
    for ref in refs:
        kind = ref.get("kind", "")
        if not kind or not ref.get("name") or not ref.get("uid"):
            return False
        group, version = _group_version(ref.get("apiVersion", ""))
        if not version or (kind == "Event" and version == "v1" and group == ""):
            return False
        if ref.get("controller") is True:
            if controller:
                return False
            controller = True
    return True


def _finalizers_ok(finalizers: list, kube_finalizers: bool) -> bool:
    """True when :func:`validate_finalizers` (and, with ``kube_finalizers``, the core group's
    standard-name check) has nothing to report."""
    for f in finalizers:
        if f not in _KNOWN_QNAMES and names.is_qualified_name(f):
            return False
        if kube_finalizers and "/" not in f and f not in _STANDARD_FINALIZERS:
            return False
    return not (FINALIZER_ORPHAN in finalizers and FINALIZER_FOREGROUND in finalizers)


def object_meta_ok(meta: dict, namespaced: bool, name_fn: NameFn, *,
                   kube_finalizers: bool = True) -> bool:
    """True when :func:`validate_object_meta` would report nothing (the screen it runs
    first; it may raise on values of the wrong type, which the full check then reports)."""
    generate_name = meta.get("generateName")
    if generate_name and name_fn(generate_name, True):
        return False
    name = meta.get("name")
    if not name:
        return False
    known = _KNOWN_NAMES.get(name_fn)
    if (known is None or name not in known) and name_fn(name, False):
        return False
    ns = meta.get("namespace")
    if namespaced:
        if not ns or (ns not in _KNOWN_DNS_LABELS and names.is_dns1123_label(ns)):
            return False
    elif ns:
        return False
    if meta.get("generation", 0) < 0:
        return False
    labels = meta.get("labels")
    if labels and not labels_ok(labels):
        return False
    annotations = meta.get("annotations")
    if annotations and not annotations_ok(annotations):
        return False
    refs = meta.get("ownerReferences")
    if refs and not owner_references_ok(refs):
        return False
    finalizers = meta.get("finalizers")
    if finalizers and not _finalizers_ok(finalizers, kube_finalizers):
        return False
    return not meta.get("managedFields")


def object_meta_update_ok(new: dict, old: dict, *, kube_finalizers: bool = True) -> bool:
    """True when :func:`validate_object_meta_update` would report nothing."""
    if old.get("deletionTimestamp"):
        added = new.get("finalizers")
        if added and not set(added) <= set(old.get("finalizers") or ()):
            return False
    if not new.get("resourceVersion", ""):
        return False
    if new.get("generation", 0) < old.get("generation", 0):
        return False
    if (new.get("name", "") != old.get("name", "")
            or new.get("namespace", "") != old.get("namespace", "")
            or new.get("uid", "") != old.get("uid", "")
            or new.get("creationTimestamp") != old.get("creationTimestamp")
            or new.get("deletionTimestamp") != old.get("deletionTimestamp")
            or new.get("deletionGracePeriodSeconds") != old.get("deletionGracePeriodSeconds")):
        return False
    labels = new.get("labels")
    if labels and not labels_ok(labels):
        return False
    annotations = new.get("annotations")
    if annotations and not annotations_ok(annotations):
        return False
    refs = new.get("ownerReferences")
    if refs and not owner_references_ok(refs):
        return False
    if new.get("managedFields"):
        return False
    if kube_finalizers:
        for f in new.get("finalizers") or ():
            if "/" not in f and f not in _STANDARD_FINALIZERS:
                return False
    return True
