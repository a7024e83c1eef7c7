"""Storage kinds: core/v1 PersistentVolume and PersistentVolumeClaim, storage.k8s.io/v1
StorageClass and VolumeAttachment.

This module owns their defaulting, the kind-specific parts of their registry strategies
(initial status, dropping fields of disabled feature gates, the data-source compatibility
rules of claims) and their validation on create, update and ``/status`` update, with
upstream's field paths and message texts. It also exports the claim defaulting and claim-spec
validation that StatefulSet claim templates reuse.

Facts follow Kubernetes v1.31:

- ``kubernetes/kubernetes:pkg/apis/core/v1/defaults.go`` (``SetDefaults_PersistentVolume``,
  ``SetDefaults_PersistentVolumeClaim(Spec)``, the volume-source defaulters) and
  ``kubernetes/kubernetes:pkg/apis/storage/v1/defaults.go`` (``SetDefaults_StorageClass``);
- ``kubernetes/kubernetes:pkg/apis/core/validation/validation.go``
  (``ValidatePersistentVolume(Spec|Update|StatusUpdate)``,
  ``ValidatePersistentVolumeClaim(Spec|Update|StatusUpdate)``, the PV source validators,
  ``validateVolumeNodeAffinity``, ``ValidateNodeSelector``, ``ValidateTopologySelectorTerm``);
- ``kubernetes/kubernetes:pkg/volume/validation/pv_validation.go`` (mount-option annotation);
- ``kubernetes/kubernetes:pkg/apis/storage/validation/validation.go`` (StorageClass,
  VolumeAttachment);
- ``kubernetes/kubernetes:pkg/api/persistentvolumeclaim/util.go`` (``DropDisabledFields``,
  ``EnforceDataSourceBackwardsCompatibility``, ``NormalizeDataSources``);
- ``kubernetes/kubernetes:pkg/registry/core/persistentvolume/strategy.go``,
  ``pkg/registry/core/persistentvolumeclaim/strategy.go``,
  ``pkg/registry/storage/storageclass/strategy.go``,
  ``pkg/registry/storage/volumeattachment/strategy.go``.

Upstream quirks kept on purpose: the claim's storage request is reported at
``spec.resources[storage]``; immutable ``volumeMode`` and ``nodeAffinity`` of a volume are
reported at top-level paths ``volumeMode`` / ``nodeAffinity``; update validation of volumes,
claims and attachments runs the create validation twice, so such errors appear twice among the
causes. The ``spec is immutable ...`` and ``spec.persistentvolumesource is immutable ...``
details end, as upstream's do, with a diff of the two specs; its first line is exact, the diff
below it is a simplified rendering of go-cmp's.
"""

from __future__ import annotations

import json
import posixpath
import re
from fractions import Fraction
from typing import Any, Mapping

from ...errors import FieldError
from ..names import (
    inclusive_range_error,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
)
from ..quantity import QuantityError, default_resource_list, is_negative, parse_quantity
from ..quantity import value as q_value
from ..selectors import validate_label_selector
from . import Gates, Strategy
from . import meta as _meta
from .core import validate_node_selector

__all__ = [
    "STRATEGIES", "default_persistent_volume_claim", "default_persistent_volume",
    "default_storage_class", "validate_persistent_volume_claim_spec",
    "validate_persistent_volume_spec", "validate_persistent_volume_claim",
    "validate_persistent_volume_claim_update", "validate_persistent_volume_claim_status_update",
    "validate_persistent_volume", "validate_persistent_volume_update",
    "validate_persistent_volume_status_update", "validate_storage_class",
    "validate_storage_class_update", "validate_volume_attachment",
    "validate_volume_attachment_update",
    "set_persistent_volume_phase_transition_time", "semantic_equal",
]

_EMPTY: Mapping[str, Any] = {}
Errors = list[FieldError]


def _object_meta(obj: dict, namespaced: bool, name_fn: _meta.NameFn) -> Errors:
    """``ValidateObjectMeta`` of a top-level object's ``metadata``."""
    return _meta.validate_object_meta(obj.get("metadata") or {}, namespaced, name_fn)
_IMMUTABLE = "field is immutable"


def _get(d: Any, key: str) -> Any:
    return d.get(key) if isinstance(d, dict) else None


def _is_empty(v: Any) -> bool:
    return v is None or v == [] or v == {}


def semantic_equal(a: Any, b: Any) -> bool:
    """``apiequality.Semantic.DeepEqual`` over wire-format values.

    As in Kubernetes' forked ``DeepEqual``, nil and empty lists/maps are equal; a missing key
    equals an explicit empty list/map. Quantities are canonical strings already, so plain
    equality is semantic equality. Strings and numbers compare exactly ("" differs from
    absent, which matters for pointer fields such as ``storageClassName``)."""
    if a == b:
        return True
    if type(a) is dict and type(b) is dict:
        for k in a.keys() | b.keys():
            if not semantic_equal(a.get(k), b.get(k)):
                return False
        return True
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(semantic_equal(x, y) for x, y in zip(a, b))
    return _is_empty(a) and _is_empty(b)


def _meta_update(new: dict, old: dict) -> Errors:
    return _meta.validate_object_meta_update(new.get("metadata") or {},
                                             old.get("metadata") or {})


def _subdomain_errors(value: str, path: str) -> Errors:
    return [FieldError.invalid(path, value, m) for m in is_dns1123_subdomain(value)]


def _label_errors(value: str, path: str) -> Errors:
    return [FieldError.invalid(path, value, m) for m in is_dns1123_label(value)]


def _go_field(name: str) -> str:
    """The Go field name of a JSON field, for the diff under immutability errors."""
    special = {"csi": "CSI", "nfs": "NFS", "rbd": "RBD", "fc": "FC", "iscsi": "ISCSI",
               "cephfs": "CephFS", "awsElasticBlockStore": "AWSElasticBlockStore",
               "gcePersistentDisk": "GCEPersistentDisk", "storageos": "StorageOS",
               "scaleIO": "ScaleIO"}
    return special.get(name) or name[:1].upper() + name[1:]


def _spec_diff(type_name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """A go-cmp-like diff of two structs: one ``-``/``+`` pair per changed field."""
    lines = [f"  {type_name}{{"]
    same = 0
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if semantic_equal(a, b):
            same += 1
            continue
        name = _go_field(key)
        if a is not None:
            lines.append(f"- \t{name}: {json.dumps(a, sort_keys=True, separators=(',', ':'))},")
        if b is not None:
            lines.append(f"+ \t{name}: {json.dumps(b, sort_keys=True, separators=(',', ':'))},")
    if same:
        lines.append(f"  \t... // {same} identical fields")
    lines.append("  }")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Quantities


def _quantity(value: Any) -> Fraction | None:
    """The exact value of a quantity, or None when absent (the decoder has canonicalised
    every quantity already, so an unparsable one does not reach validation)."""
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _basic_resource(value: Any, path: str) -> Errors:
    """``validateBasicResource``: ``Quantity.Value()`` (rounded away from zero) >= 0."""
    if value is not None and is_negative(value):
        return [FieldError.invalid(path, q_value(value), "must be a valid resource quantity")]
    return []


def _positive_quantity(value: Any, path: str) -> Errors:
    """``ValidatePositiveQuantityValue``: ``Invalid(path, q.String(), ...)`` unless > 0."""
    q = _quantity(value)
    if q is not None and q.numerator <= 0:  # (a Fraction's sign is its numerator's)
        return [FieldError.invalid(path, value, "must be greater than zero")]
    return []


# --------------------------------------------------------------------------------------------
# Volume node affinity and topology terms

_BETA_TO_GA_KEYS = {
    "failure-domain.beta.kubernetes.io/zone": "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region": "topology.kubernetes.io/region",
    "beta.kubernetes.io/instance-type": "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/os": "kubernetes.io/os",
    "beta.kubernetes.io/arch": "kubernetes.io/arch",
}


def _validate_volume_node_affinity(affinity: Mapping[str, Any], path: str) -> Errors:
    """``validateVolumeNodeAffinity`` (v1.31 does not check the values of node selector
    requirements; that came in v1.32)."""
    required = affinity.get("required")
    if required is None:
        return [FieldError.required(path + ".required", "must specify required node constraints")]
    return validate_node_selector(required, path + ".required")


def _requirements_equal_but_beta_keys(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    ka, kb = a.get("key") or "", b.get("key") or ""
    if ka != kb and _BETA_TO_GA_KEYS.get(ka) != kb:
        return False
    return (a.get("operator") or "") == (b.get("operator") or "") and semantic_equal(
        a.get("values"), b.get("values"))


def _volume_node_affinities_equal(new: Any, old: Any) -> bool:
    """Equal except for node-label keys moved from their beta to their GA names."""
    if (new is None) != (old is None):
        return False
    if new is None:
        return True
    new_req, old_req = new.get("required"), old.get("required")
    if (new_req is None) != (old_req is None):
        return False
    if new_req is None:
        return True
    new_terms = new_req.get("nodeSelectorTerms") or []
    old_terms = old_req.get("nodeSelectorTerms") or []
    if len(new_terms) != len(old_terms):
        return False
    for nt, ot in zip(new_terms, old_terms):
        nt, ot = nt or _EMPTY, ot or _EMPTY
        if not semantic_equal(nt.get("matchFields"), ot.get("matchFields")):
            return False
        ne, oe = nt.get("matchExpressions") or [], ot.get("matchExpressions") or []
        if len(ne) != len(oe) or not all(
                _requirements_equal_but_beta_keys(o, n) for n, o in zip(ne, oe)):
            return False
    return True


def _validate_topology_selector_term(term: Mapping[str, Any], path: str
                                     ) -> tuple[dict[str, frozenset], list[FieldError]]:
    """``ValidateTopologySelectorTerm``: values required and unique, keys label names and
    unique within the term."""
    errs: list[FieldError] = []
    expr_map: dict[str, frozenset] = {}
    for i, req in enumerate(term.get("matchLabelExpressions") or ()):
        rpath = f"{path}.matchLabelExpressions[{i}]"
        values = req.get("values") or ()
        if not values:
            errs.append(FieldError.required(rpath + ".values"))
        seen: set[str] = set()
        for j, v in enumerate(values):
            if v in seen:
                errs.append(FieldError.duplicate(f"{rpath}.values[{j}]", v))
            seen.add(v)
        key = req.get("key") or ""
        errs.extend(FieldError.invalid(rpath + ".key", key, m) for m in is_qualified_name(key))
        if key in expr_map:
            errs.append(FieldError.duplicate(rpath + ".key", key))
        expr_map[key] = frozenset(seen)
    return expr_map, errs


# --------------------------------------------------------------------------------------------
# PersistentVolume sources

_HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                    "FileOrCreate", "Socket")
_PD_PARTITION_ERROR = inclusive_range_error(1, 255)
_ISCSI_IQN = re.compile(r"iqn\.\d{4}-\d{2}\.([A-Za-z0-9\-.]+)(:[^,;*&$|\s]+)$")
_ISCSI_EUI = re.compile(r"^eui.[A-Za-z0-9]{16}$")
_ISCSI_NAA = re.compile(r"^naa.[A-Za-z0-9]{32}$")


def _required(src: Mapping[str, Any], path: str, *fields: str) -> Errors:
    return [FieldError.required(f"{path}.{f}") for f in fields if not src.get(f)]


def _no_backsteps(value: str, path: str) -> Errors:
    """``validatePathNoBacksteps``."""
    if ".." in value.replace("\\", "/").split("/"):
        return [FieldError.invalid(path, value, "must not contain '..'")]
    return []


def _host_path(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    p = src.get("path") or ""
    if not p:
        return [FieldError.required(path + ".path")]
    errs = _no_backsteps(p, path + ".path")
    t = src.get("type")
    if t is not None and t not in _HOST_PATH_TYPES:
        errs.append(FieldError.not_supported(path + ".type", t, _HOST_PATH_TYPES))
    return errs


def _local(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    p = src.get("path") or ""
    if not p:
        return [FieldError.required(path + ".path")]
    return _no_backsteps(p, path + ".path")


def _partition(src: Mapping[str, Any], path: str, *required: str) -> Errors:
    errs = _required(src, path, *required)
    part = src.get("partition") or 0
    if part < 0 or part > 255:
        errs.append(FieldError.invalid(path + ".partition", part, _PD_PARTITION_ERROR))
    return errs


def _gce_pd(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _partition(src, path, "pdName")


def _aws_ebs(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _partition(src, path, "volumeID")


def _glusterfs(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _required(src, path, "endpoints", "path")
    ns = src.get("endpointsNamespace")
    if ns is not None:
        if ns == "":
            errs.append(FieldError.invalid(path + ".endpointsNamespace", ns,
                                           "if the endpointnamespace is set, it must be a valid "
                                           "namespace name"))
        else:
            errs.extend(_label_errors(ns, path + ".endpointsNamespace"))
    return errs


def _flocker(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    name, uuid = src.get("datasetName") or "", src.get("datasetUUID") or ""
    errs: list[FieldError] = []
    if not name and not uuid:
        errs.append(FieldError.required(path, "one of datasetName and datasetUUID is required"))
    if name and uuid:
        errs.append(FieldError.invalid(
            path, "resource", "datasetName and datasetUUID can not be specified simultaneously"))
    if "/" in name:
        errs.append(FieldError.invalid(path + ".datasetName", name, "must not contain '/'"))
    return errs


def _nfs(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _required(src, path, "server", "path")
    p = src.get("path") or ""
    if not p.startswith("/"):
        errs.append(FieldError.invalid(path + ".path", p, "must be an absolute path"))
    return errs


def _rbd(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _required(src, path, "monitors", "image")


def _split_host_port_ok(pair: str) -> bool:
    """Whether Go's ``net.SplitHostPort`` accepts ``pair``."""
    if pair.startswith("["):
        end = pair.find("]")
        return end > 0 and pair[end + 1:end + 2] == ":" and "]" not in pair[end + 1:]
    host, sep, _port = pair.rpartition(":")
    return bool(sep) and ":" not in host and "[" not in pair and "]" not in pair


def _quobyte(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs: list[FieldError] = []
    registry = src.get("registry") or ""
    msg = "must be a host:port pair or multiple pairs separated by commas"
    if not registry:
        errs.append(FieldError.required(path + ".registry", msg))
    elif len(src.get("tenant") or "") >= 65:
        errs.append(FieldError.required(
            path + ".tenant", "must be a UUID and may not exceed a length of 64 characters"))
    else:
        for pair in registry.split(","):
            if not _split_host_port_ok(pair):
                errs.append(FieldError.invalid(path + ".registry", registry, msg))
    errs.extend(_required(src, path, "volume"))
    return errs


def _cephfs(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _required(src, path, "monitors")


def _iqn_errors(value: str, path: str) -> Errors:
    if value.startswith("iqn"):
        ok = _ISCSI_IQN.search(value) is not None
    elif value.startswith("eui"):
        ok = _ISCSI_EUI.search(value) is not None
    elif value.startswith("naa"):
        ok = _ISCSI_NAA.search(value) is not None
    else:
        ok = False
    return [] if ok else [FieldError.invalid(path, value, "must be valid format")]


def _iscsi(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _required(src, path, "targetPortal")
    portal = src.get("targetPortal") or ""
    initiator = src.get("initiatorName")
    if initiator is not None and len(f"{pv_name}:{portal}") > 64:
        errs.append(FieldError.invalid(
            path + ".targetportal", portal,
            "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if "
            "iscsi.initiatorName is specified."))
    iqn = src.get("iqn") or ""
    if not iqn:
        errs.append(FieldError.required(path + ".iqn"))
    else:
        errs.extend(_iqn_errors(iqn, path + ".iqn"))
    lun = src.get("lun") or 0
    if lun < 0 or lun > 255:
        errs.append(FieldError.invalid(path + ".lun", lun, inclusive_range_error(0, 255)))
    chap = src.get("chapAuthDiscovery") or src.get("chapAuthSession")
    if chap and src.get("secretRef") is None:
        errs.append(FieldError.required(path + ".secretRef"))
    secret = src.get("secretRef")
    if secret is not None and not secret.get("name"):
        errs.append(FieldError.required(path + ".secretRef.name"))
    if initiator is not None:
        errs.extend(_iqn_errors(initiator, path + ".initiatorname"))
    return errs


def _cinder(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _required(src, path, "volumeID")
    secret = src.get("secretRef")
    if secret is not None:
        errs.extend(_required(secret, path + ".secretRef", "name", "namespace"))
    return errs


def _fc(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs: list[FieldError] = []
    wwns, wwids = src.get("targetWWNs") or [], src.get("wwids") or []
    if not wwns and not wwids:
        errs.append(FieldError.required(path + ".targetWWNs",
                                        "must specify either targetWWNs or wwids, but not both"))
    if wwns and wwids:
        errs.append(FieldError.invalid(path + ".targetWWNs", wwns,
                                       "targetWWNs and wwids can not be specified simultaneously"))
    if wwns:
        lun = src.get("lun")
        if lun is None:
            errs.append(FieldError.required(path + ".lun",
                                            "lun is required if targetWWNs is specified"))
        elif lun < 0 or lun > 255:
            errs.append(FieldError.invalid(path + ".lun", lun, inclusive_range_error(0, 255)))
    return errs


def _flex(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _required(src, path, "driver")
    for key in src.get("options") or {}:
        namespace = key.split("/", 1)[0] if "/" in key else key
        normalized = "." + namespace.lower()
        if normalized.endswith(".kubernetes.io") or normalized.endswith(".k8s.io"):
            errs.append(FieldError.invalid(f"{path}.options[{key}]", key,
                                           "kubernetes.io and k8s.io namespaces are reserved"))
    return errs


def _azure_file(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _required(src, path, "secretName", "shareName")
    if src.get("secretNamespace") == "":
        errs.append(FieldError.required(path + ".secretNamespace"))
    return errs


def _vsphere(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _required(src, path, "volumePath")


def _photon(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _required(src, path, "pdID")


def _portworx(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _required(src, path, "volumeID")


_AZURE_CACHING = ("None", "ReadOnly", "ReadWrite")
_AZURE_KINDS = ("Dedicated", "Managed", "Shared")


def _azure_disk(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _required(src, path, "diskName", "diskURI")
    caching = src.get("cachingMode")
    if caching is not None and caching not in _AZURE_CACHING:
        errs.append(FieldError.not_supported(path + ".cachingMode", caching, _AZURE_CACHING))
    kind = src.get("kind")
    if kind is not None and kind not in _AZURE_KINDS:
        errs.append(FieldError.not_supported(path + ".kind", kind, _AZURE_KINDS))
    uri = src.get("diskURI") or ""
    if kind == "Managed" and not uri.startswith("/subscriptions/"):
        errs.append(FieldError.not_supported(
            path + ".diskURI", uri,
            ("/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/"
             "microsoft.compute/disks/{disk-id}",)))
    if kind is not None and kind != "Managed" and not uri.startswith("https://"):
        errs.append(FieldError.not_supported(
            path + ".diskURI", uri,
            ("https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd",)))
    return errs


def _scale_io(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    return _required(src, path, "gateway", "system", "volumeName")


def _storageos(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs: list[FieldError] = []
    name = src.get("volumeName") or ""
    if not name:
        errs.append(FieldError.required(path + ".volumeName"))
    else:
        errs.extend(_label_errors(name, path + ".volumeName"))
    ns = src.get("volumeNamespace") or ""
    if ns:
        errs.extend(_label_errors(ns, path + ".volumeNamespace"))
    secret = src.get("secretRef")
    if secret is not None:
        errs.extend(_required(secret, path + ".secretRef", "name", "namespace"))
    return errs


def _csi_driver_name(driver: str, path: str) -> Errors:
    """``ValidateCSIDriverName``."""
    errs: list[FieldError] = []
    if not driver:
        errs.append(FieldError.required(path))
    if len(driver) > 63:
        errs.append(FieldError.too_long(path, driver, 63))
    errs.extend(FieldError.invalid(path, driver, m) for m in is_dns1123_subdomain(driver.lower()))
    return errs


def _pv_secret_reference(ref: Mapping[str, Any], path: str) -> Errors:
    """``validatePVSecretReference``."""
    errs: list[FieldError] = []
    name = ref.get("name") or ""
    if not name:
        errs.append(FieldError.required(path + ".name"))
    else:
        errs.extend(_subdomain_errors(name, path + ".name"))
    ns = ref.get("namespace") or ""
    if not ns:
        errs.append(FieldError.required(path + ".namespace"))
    else:
        errs.extend(_label_errors(ns, path + ".namespace"))
    return errs


def _csi(src: Mapping[str, Any], path: str, pv_name: str) -> Errors:
    errs = _csi_driver_name(src.get("driver") or "", path + ".driver")
    if not src.get("volumeHandle"):
        errs.append(FieldError.required(path + ".volumeHandle"))
    for ref in ("controllerPublishSecretRef", "controllerExpandSecretRef", "nodePublishSecretRef",
                "nodeExpandSecretRef"):
        if src.get(ref) is not None:
            errs.extend(_pv_secret_reference(src[ref], f"{path}.{ref}"))
    return errs


# (json field, path used in "may not specify more than 1 volume type", path used for the
# source's own errors, validator) in upstream's order. gcePersistentDisk's own errors are
# reported under "persistentDisk" and cephfs's "more than 1" under "cephFS", as upstream does.
_PV_SOURCES = (
    ("hostPath", "hostPath", "hostPath", _host_path),
    ("gcePersistentDisk", "gcePersistentDisk", "persistentDisk", _gce_pd),
    ("awsElasticBlockStore", "awsElasticBlockStore", "awsElasticBlockStore", _aws_ebs),
    ("glusterfs", "glusterfs", "glusterfs", _glusterfs),
    ("flocker", "flocker", "flocker", _flocker),
    ("nfs", "nfs", "nfs", _nfs),
    ("rbd", "rbd", "rbd", _rbd),
    ("quobyte", "quobyte", "quobyte", _quobyte),
    ("cephfs", "cephFS", "cephfs", _cephfs),
    ("iscsi", "iscsi", "iscsi", _iscsi),
    ("cinder", "cinder", "cinder", _cinder),
    ("fc", "fc", "fc", _fc),
    ("flexVolume", None, "flexVolume", _flex),   # counted, never "more than 1" (upstream)
    ("azureFile", "azureFile", "azureFile", _azure_file),
    ("vsphereVolume", "vsphereVolume", "vsphereVolume", _vsphere),
    ("photonPersistentDisk", "photonPersistentDisk", "photonPersistentDisk", _photon),
    ("portworxVolume", "portworxVolume", "portworxVolume", _portworx),
    ("azureDisk", "azureDisk", "azureDisk", _azure_disk),
    ("scaleIO", "scaleIO", "scaleIO", _scale_io),
    ("local", "local", "local", _local),
    ("storageos", "storageos", "storageos", _storageos),
    ("csi", "csi", "csi", _csi),
)
PV_SOURCE_FIELDS = frozenset(s[0] for s in _PV_SOURCES)

# Sources that accept the mount-options annotation (pkg/volume/validation).
_MOUNT_OPTION_SOURCES = ("gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "nfs", "rbd",
                         "quobyte", "iscsi", "cinder", "cephfs", "azureFile", "vsphereVolume",
                         "azureDisk", "photonPersistentDisk", "flocker", "scaleIO", "fc",
                         "portworxVolume")
_MOUNT_OPTION_ANNOTATION = "volume.beta.kubernetes.io/mount-options"

_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
_RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
_VOLUME_MODES = ("Block", "Filesystem")
_INLINE = "may not be specified in the context of inline volumes"


def _access_mode_errors(modes: list, path: str) -> Errors:
    errs: list[FieldError] = []
    rwop = other = False
    for mode in modes:
        if mode not in _ACCESS_MODES:
            errs.append(FieldError.not_supported(path, mode, _ACCESS_MODES))
        elif mode == "ReadWriteOncePod":
            rwop = True
        else:
            other = True
    if rwop and other:
        errs.append(FieldError.forbidden(path,
                                         "may not use ReadWriteOncePod with other access modes"))
    return errs


def validate_persistent_volume_spec(spec: Mapping[str, Any], pv_name: str, inline: bool, path: str,
                                    gates: Gates, *,
                                    enable_volume_attributes_class: bool | None = None
                                    ) -> Errors:
    """``ValidatePersistentVolumeSpec`` (``inline`` for a VolumeAttachment's
    ``inlineVolumeSpec``)."""
    errs: list[FieldError] = []
    if inline:
        if spec.get("claimRef") is not None:
            errs.append(FieldError.forbidden(path + ".claimRef", _INLINE))
        if spec.get("capacity"):
            errs.append(FieldError.forbidden(path + ".capacity", _INLINE))
        if spec.get("csi") is None:
            errs.append(FieldError.required(path + ".csi",
                                            "has to be specified in the context of inline volumes"))
    modes = spec.get("accessModes") or []
    if not modes:
        errs.append(FieldError.required(path + ".accessModes"))
    errs.extend(_access_mode_errors(modes, path + ".accessModes"))

    if not inline:
        capacity = spec.get("capacity") or {}
        cap_path = path + ".capacity"
        if not capacity:
            errs.append(FieldError.required(cap_path))
        if "storage" not in capacity or len(capacity) > 1:
            errs.append(FieldError.not_supported(cap_path, capacity, ("storage",)))
        for name in sorted(capacity):
            errs.extend(_basic_resource(capacity[name], f"{cap_path}[{name}]"))
            errs.extend(_positive_quantity(capacity[name], f"{cap_path}[{name}]"))

    reclaim = spec.get("persistentVolumeReclaimPolicy") or ""
    if reclaim:
        if inline:
            if reclaim != "Retain":
                errs.append(FieldError.forbidden(
                    path + ".persistentVolumeReclaimPolicy",
                    "may only be Retain in the context of inline volumes"))
        elif reclaim not in _RECLAIM_POLICIES:
            errs.append(FieldError.not_supported(path + ".persistentVolumeReclaimPolicy", reclaim,
                                                 _RECLAIM_POLICIES))

    affinity = spec.get("nodeAffinity")
    affinity_set = False
    if affinity is not None:
        if inline:
            errs.append(FieldError.forbidden(path + ".nodeAffinity", _INLINE))
        else:
            affinity_set = True
            errs.extend(_validate_volume_node_affinity(affinity, path + ".nodeAffinity"))

    count = 0
    for field, dup_name, err_name, check in _PV_SOURCES:
        src = spec.get(field)
        if src is None:
            continue
        if count > 0 and dup_name is not None:
            errs.append(FieldError.forbidden(f"{path}.{dup_name}",
                                             "may not specify more than 1 volume type"))
            continue
        count += 1
        errs.extend(check(src, f"{path}.{err_name}", pv_name))
        if field == "local" and not affinity_set:
            errs.append(FieldError.required(path + ".nodeAffinity",
                                            "Local volume requires node affinity"))
    if count == 0:
        errs.append(FieldError.required(path, "must specify a volume type"))

    host_path = spec.get("hostPath")
    if (host_path is not None and reclaim == "Recycle"
            and posixpath.normpath(host_path.get("path") or ".") in ("/", "//")):
        errs.append(FieldError.forbidden(path + ".persistentVolumeReclaimPolicy",
                                         "may not be 'recycle' for a hostPath mount of '/'"))

    sc = spec.get("storageClassName") or ""
    if sc:
        if inline:
            errs.append(FieldError.forbidden(path + ".storageClassName", _INLINE))
        else:
            errs.extend(_subdomain_errors(sc, path + ".storageClassName"))

    mode = spec.get("volumeMode")
    if mode is not None:
        if inline:
            if mode != "Filesystem":
                errs.append(FieldError.forbidden(
                    path + ".volumeMode",
                    "may not specify volumeMode other than Filesystem in the context of inline "
                    "volumes"))
        elif mode not in _VOLUME_MODES:
            errs.append(FieldError.not_supported(path + ".volumeMode", mode, _VOLUME_MODES))

    vac = spec.get("volumeAttributesClassName")
    if enable_volume_attributes_class is None:
        enable_volume_attributes_class = gates.get("VolumeAttributesClass", False)
    if vac is not None and enable_volume_attributes_class:
        if vac == "":
            errs.append(FieldError.required(path + ".volumeAttributesClassName",
                                            "an empty string is disallowed"))
        else:
            errs.extend(_subdomain_errors(vac, path + ".volumeAttributesClassName"))
        if spec.get("csi") is None:
            errs.append(FieldError.required(
                path + ".csi", "has to be specified when using volumeAttributesClassName"))
    return errs


# --------------------------------------------------------------------------------------------
# PersistentVolume


def _default_pv_sources(spec: dict) -> None:
    """The generated defaulters of the PV sources that have defaults."""
    host_path = spec.get("hostPath")
    if host_path is not None and host_path.get("type") is None:
        host_path["type"] = ""
    iscsi = spec.get("iscsi")
    if iscsi is not None and not iscsi.get("iscsiInterface"):
        iscsi["iscsiInterface"] = "default"
    rbd = spec.get("rbd")
    if rbd is not None:
        for key, value in (("pool", "rbd"), ("user", "admin"), ("keyring", "/etc/ceph/keyring")):
            if not rbd.get(key):
                rbd[key] = value
    azure = spec.get("azureDisk")
    if azure is not None:
        for key, value in (("cachingMode", "ReadWrite"), ("kind", "Shared"), ("fsType", "ext4"),
                           ("readOnly", False)):
            if azure.get(key) is None:
                azure[key] = value
    scale_io = spec.get("scaleIO")
    if scale_io is not None:
        if not scale_io.get("storageMode"):
            scale_io["storageMode"] = "ThinProvisioned"
        if not scale_io.get("fsType"):
            scale_io["fsType"] = "xfs"


def default_persistent_volume(obj: dict) -> None:
    """``SetDefaults_PersistentVolume``: phase Pending, reclaim policy Retain (a manually
    created volume is kept), volumeMode Filesystem; plus its source's defaults."""
    status = obj.get("status")
    if status is None:
        status = obj["status"] = {}
    if not status.get("phase"):
        status["phase"] = "Pending"
    spec = obj.setdefault("spec", {})
    if not spec.get("persistentVolumeReclaimPolicy"):
        spec["persistentVolumeReclaimPolicy"] = "Retain"
    if spec.get("volumeMode") is None:
        spec["volumeMode"] = "Filesystem"
    default_resource_list(spec.get("capacity"))
    _default_pv_sources(spec)


def _drop_pv_disabled_fields(new: dict, old: dict | None, gates: Gates) -> None:
    spec = new.get("spec")
    if isinstance(spec, dict) and not gates.get("VolumeAttributesClass", False):
        if _get(_get(old, "spec"), "volumeAttributesClassName") is None:
            spec.pop("volumeAttributesClassName", None)


def prepare_persistent_volume_for_create(obj: dict, gates: Gates) -> None:
    """The PV's ``PrepareForCreate``: status starts as ``{phase: Pending}``. (Upstream also
    stamps ``status.lastPhaseTransitionTime``; that needs the clock, see
    :func:`set_persistent_volume_phase_transition_time`.)"""
    obj["status"] = {"phase": "Pending"}
    _drop_pv_disabled_fields(obj, None, gates)


def prepare_persistent_volume_for_update(new: dict, old: dict, gates: Gates) -> None:
    _drop_pv_disabled_fields(new, old, gates)


def set_persistent_volume_phase_transition_time(new: dict, old: dict | None, now: str) -> None:
    """What the PV strategy does with ``status.lastPhaseTransitionTime`` (GA in v1.31): on
    create (``old`` None) it is ``now``; on a status update that changes the phase without the
    client setting a new time it becomes ``now``; an unchanged phase keeps the stored time when
    the client sent none. ``now`` is an RFC 3339 timestamp; the API layer calls this with its
    clock, on create and on ``/status`` writes."""
    status = new.get("status")
    if not isinstance(status, dict):
        status = new["status"] = {}
    if old is None:
        status["lastPhaseTransitionTime"] = now
        return
    old_status = old.get("status") or _EMPTY
    new_time = status.get("lastPhaseTransitionTime")
    old_time = old_status.get("lastPhaseTransitionTime")
    if status.get("phase") == old_status.get("phase"):
        if new_time is None and old_time is not None:
            status["lastPhaseTransitionTime"] = old_time
    elif new_time is None or new_time == old_time:
        status["lastPhaseTransitionTime"] = now


def _pv_options(new: dict, old: dict | None, gates: Gates) -> dict[str, bool]:
    """``ValidationOptionsForPersistentVolume``."""
    enable_vac = gates.get("VolumeAttributesClass", False)
    if old is not None and _get(old.get("spec"), "volumeAttributesClassName") is not None:
        enable_vac = True
    return {"enable_volume_attributes_class": enable_vac}


def _mount_option_annotation(obj: dict) -> Errors:
    """``pkg/volume/validation.ValidatePersistentVolume``: the deprecated mount-options
    annotation only for sources that support mount options."""
    annotations = _get(obj.get("metadata"), "annotations") or _EMPTY
    if _MOUNT_OPTION_ANNOTATION not in annotations:
        return []
    spec = obj.get("spec") or _EMPTY
    if any(spec.get(s) is not None for s in _MOUNT_OPTION_SOURCES):
        return []
    return [FieldError.forbidden("metadata.annotations." + _MOUNT_OPTION_ANNOTATION,
                                 "may not specify mount options for this volume type")]


def _validate_pv(obj: dict, gates: Gates, opts: dict[str, bool]) -> Errors:
    """``ValidatePersistentVolume``: cluster-scoped, name a DNS subdomain, and the spec."""
    md = obj.get("metadata") or {}
    errs = _meta.validate_object_meta(md, False, _meta.name_is_dns1123_subdomain)
    errs.extend(validate_persistent_volume_spec(obj.get("spec") or _EMPTY, md.get("name") or "",
                                                False, "spec", gates, **opts))
    return errs


def validate_persistent_volume(obj: dict, gates: Gates) -> Errors:
    """The PV strategy's ``Validate``."""
    errs = _validate_pv(obj, gates, _pv_options(obj, None, gates))
    errs.extend(_mount_option_annotation(obj))
    return errs


def validate_persistent_volume_update(new: dict, old: dict, gates: Gates) -> Errors:
    """The PV strategy's ``ValidateUpdate``: metadata update rules (the generic check), the new
    volume as on create, then ``ValidatePersistentVolumeUpdate`` (which validates it again):
    the volume source and ``volumeMode`` immutable, ``nodeAffinity`` immutable once set
    (except beta-to-GA label keys), ``volumeAttributesClassName`` rules."""
    opts = _pv_options(new, old, gates)
    errs = _meta_update(new, old)
    pv_errs = _validate_pv(new, gates, opts)
    errs.extend(pv_errs)
    errs.extend(_mount_option_annotation(new))
    if pv_errs:
        # A second pass (upstream's, listing each error twice) of a pure check of unchanged
        # arguments: it finds nothing when the first found nothing.
        errs.extend(_validate_pv(new, gates, opts))
    spec = new.get("spec") or _EMPTY
    old_spec = old.get("spec") or _EMPTY

    new_src = {k: spec[k] for k in PV_SOURCE_FIELDS if spec.get(k) is not None}
    old_src = {k: old_spec[k] for k in PV_SOURCE_FIELDS if old_spec.get(k) is not None}
    old_csi, new_csi = old_src.get("csi"), new_src.get("csi")
    if (old_csi is not None and new_csi is not None
            and old_csi.get("controllerExpandSecretRef") is None
            and new_csi.get("controllerExpandSecretRef") is not None):
        # Setting controllerExpandSecretRef for the first time is allowed.
        new_src["csi"] = {k: v for k, v in new_csi.items() if k != "controllerExpandSecretRef"}
    if not semantic_equal(new_src, old_src):
        errs.append(FieldError.forbidden(
            "spec.persistentvolumesource",
            "spec.persistentvolumesource is immutable after creation\n"
            + _spec_diff("core.PersistentVolumeSource", old_src, new_src)))
    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        errs.append(FieldError.invalid("volumeMode", spec.get("volumeMode"), _IMMUTABLE))
    old_affinity = old_spec.get("nodeAffinity")
    if old_affinity is not None and not _volume_node_affinities_equal(spec.get("nodeAffinity"),
                                                                      old_affinity):
        errs.append(FieldError.invalid("nodeAffinity", spec.get("nodeAffinity"),
                                       _IMMUTABLE + ", except for updating from beta label to GA"))
    errs.extend(_vac_update("spec.volumeAttributesClassName", spec, old_spec, gates,
                            opts["enable_volume_attributes_class"], allow_empty=True))
    return errs


def _vac_update(path: str, spec: Mapping[str, Any], old_spec: Mapping[str, Any],
                gates: Gates, enabled: bool, allow_empty: bool) -> Errors:
    """The ``volumeAttributesClassName`` update rules shared by volumes and claims."""
    new_vac = spec.get("volumeAttributesClassName")
    old_vac = old_spec.get("volumeAttributesClassName")
    if new_vac == old_vac:
        return []
    errs: list[FieldError] = []
    if not gates.get("VolumeAttributesClass", False):
        errs.append(FieldError.forbidden(
            path, "update is forbidden when the VolumeAttributesClass feature gate is disabled"))
    if enabled and old_vac is not None:
        if new_vac is None:
            errs.append(FieldError.forbidden(path, "update from non-nil value to nil is forbidden"))
        elif new_vac == "" and not allow_empty:
            errs.append(FieldError.forbidden(
                path, "update from non-nil value to an empty string is forbidden"))
    return errs


def validate_persistent_volume_status_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidatePersistentVolumeStatusUpdate``: metadata update rules and a resourceVersion."""
    errs = _meta_update(new, old)
    if not _get(new.get("metadata"), "resourceVersion"):
        errs.append(FieldError.required("resourceVersion"))
    return errs


# --------------------------------------------------------------------------------------------
# PersistentVolumeClaim


def default_persistent_volume_claim(obj: dict) -> None:
    """``SetDefaults_PersistentVolumeClaim`` and ``SetDefaults_PersistentVolumeClaimSpec``:
    ``status.phase`` Pending and ``spec.volumeMode`` Filesystem; resource lists rounded up to
    milli precision (``SetDefaults_ResourceList``). Also used for the ``volumeClaimTemplates``
    of a StatefulSet."""
    status = obj.get("status")
    if status is None:
        status = obj["status"] = {}
    if not status.get("phase"):
        status["phase"] = "Pending"
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if spec.get("volumeMode") is None:
        spec["volumeMode"] = "Filesystem"
    resources = spec.get("resources")
    if resources is not None:
        default_resource_list(resources.get("requests"))
        default_resource_list(resources.get("limits"))
    default_resource_list(status.get("capacity"))
    default_resource_list(status.get("allocatedResources"))


def _drop_pvc_disabled_fields(spec: dict, old_spec: Mapping[str, Any] | None,
                              gates: Gates) -> None:
    """``DropDisabledFields`` of a claim spec."""
    if not gates.get("VolumeAttributesClass", False):
        if old_spec is None or old_spec.get("volumeAttributesClassName") is None:
            spec.pop("volumeAttributesClassName", None)
    old_has_ref = old_spec is not None and old_spec.get("dataSourceRef") is not None
    if not gates.get("AnyVolumeDataSource", True) and not old_has_ref:
        spec.pop("dataSourceRef", None)
    ref = spec.get("dataSourceRef")
    if (not gates.get("CrossNamespaceVolumeDataSource", False) and ref is not None
            and ref.get("namespace") and not old_has_ref):
        spec.pop("dataSourceRef", None)


def _data_source_is_pvc_or_snapshot(ds: Any) -> bool:
    if ds is None:
        return False
    group = ds.get("apiGroup") or ""
    kind = ds.get("kind") or ""
    return (kind == "PersistentVolumeClaim" and group == "") or (
        kind == "VolumeSnapshot" and group == "snapshot.storage.k8s.io")


def _enforce_data_source_compat(spec: dict, old_spec: Mapping[str, Any] | None) -> None:
    """``EnforceDataSourceBackwardsCompatibility``: without ``dataSourceRef``, a ``dataSource``
    other than a claim or a VolumeSnapshot is silently dropped (unless already stored)."""
    if old_spec is not None and (old_spec.get("dataSource") is not None
                                 or old_spec.get("dataSourceRef") is not None):
        return
    if spec.get("dataSourceRef") is not None:
        return
    if not _data_source_is_pvc_or_snapshot(spec.get("dataSource")):
        spec.pop("dataSource", None)


def _normalize_data_sources(spec: dict, gates: Gates) -> None:
    """``NormalizeDataSources``: fill whichever of ``dataSource`` / ``dataSourceRef`` is
    missing from the other (not for a cross-namespace reference)."""
    if not gates.get("AnyVolumeDataSource", True):
        return
    ds, ref = spec.get("dataSource"), spec.get("dataSourceRef")
    if ds is not None and ref is None:
        spec["dataSourceRef"] = {k: ds[k] for k in ("apiGroup", "kind", "name") if k in ds}
    elif ref is not None and ds is None and not ref.get("namespace"):
        spec["dataSource"] = {k: ref[k] for k in ("apiGroup", "kind", "name") if k in ref}


def prepare_persistent_volume_claim_for_create(obj: dict, gates: Gates) -> None:
    """The claim's ``PrepareForCreate``: status starts as ``{phase: Pending}`` (upstream clears
    it and the read path defaults the phase), disabled fields dropped, data sources made
    consistent."""
    obj["status"] = {"phase": "Pending"}
    spec = obj.get("spec")
    if isinstance(spec, dict):
        _drop_pvc_disabled_fields(spec, None, gates)
        _enforce_data_source_compat(spec, None)
        _normalize_data_sources(spec, gates)


def prepare_persistent_volume_claim_for_update(new: dict, old: dict, gates: Gates) -> None:
    spec = new.get("spec")
    if isinstance(spec, dict):
        old_spec = old.get("spec") or _EMPTY
        _drop_pvc_disabled_fields(spec, old_spec, gates)
        _enforce_data_source_compat(spec, old_spec)


def _validate_data_source(ds: Mapping[str, Any], path: str, allow_invalid_group: bool,
                          with_namespace: bool) -> Errors:
    """``validateDataSource`` / ``validateDataSourceRef``."""
    errs: list[FieldError] = []
    if not ds.get("name"):
        errs.append(FieldError.required(path + ".name"))
    kind = ds.get("kind") or ""
    if not kind:
        errs.append(FieldError.required(path + ".kind"))
    group = ds.get("apiGroup") or ""
    if not group and kind != "PersistentVolumeClaim":
        errs.append(FieldError.invalid(
            path, kind,
            "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
    if group and not allow_invalid_group:
        errs.extend(_subdomain_errors(group, path + ".apiGroup"))
    if with_namespace:
        ns = ds.get("namespace") or ""
        if ns:
            errs.extend(_label_errors(ns, path + ".namespace"))
    return errs


def validate_persistent_volume_claim_spec(spec: Mapping[str, Any], path: str, gates: Gates, *,
                                          allow_invalid_label_value: bool = False,
                                          allow_invalid_api_group: bool = False,
                                          enable_volume_attributes_class: bool | None = None
                                          ) -> Errors:
    """``ValidatePersistentVolumeClaimSpec`` at ``path`` (``spec`` for a claim): access modes,
    selector, a positive storage request, class names, volume mode and data sources. The
    keyword options are upstream's ``PersistentVolumeClaimSpecValidationOptions``."""
    errs: list[FieldError] = []
    modes = spec.get("accessModes") or []
    if not modes:
        errs.append(FieldError.required(path + ".accessModes",
                                        "at least 1 access mode is required"))
    sel = spec.get("selector")
    if sel is not None:
        errs.extend(validate_label_selector(sel, path + ".selector",
                                            allow_invalid_label_value=allow_invalid_label_value))
    errs.extend(_access_mode_errors(modes, path + ".accessModes"))

    storage_path = path + ".resources[storage]"
    storage = _get(_get(spec.get("resources"), "requests"), "storage")
    if storage is None:
        errs.append(FieldError.required(storage_path))
    else:
        errs.extend(_positive_quantity(storage, storage_path))

    sc = spec.get("storageClassName")
    if sc:
        errs.extend(_subdomain_errors(sc, path + ".storageClassName"))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in _VOLUME_MODES:
        errs.append(FieldError.not_supported(path + ".volumeMode", mode, _VOLUME_MODES))

    ds, ref = spec.get("dataSource"), spec.get("dataSourceRef")
    if ds is not None:
        errs.extend(_validate_data_source(ds, path + ".dataSource", allow_invalid_api_group, False))
    if ref is not None:
        errs.extend(_validate_data_source(ref, path + ".dataSourceRef", allow_invalid_api_group,
                                          True))
    if ref is not None and ref.get("namespace"):
        if ds is not None:
            errs.append(FieldError.invalid(
                path, path + ".dataSource",
                "may not be specified when dataSourceRef.namespace is specified"))
    elif ds is not None and ref is not None:
        if not (ds.get("apiGroup") == ref.get("apiGroup") and (ds.get("kind") or "") == (
                ref.get("kind") or "") and (ds.get("name") or "") == (ref.get("name") or "")):
            errs.append(FieldError.invalid(path, path + ".dataSource", "must match dataSourceRef"))

    if enable_volume_attributes_class is None:
        enable_volume_attributes_class = gates.get("VolumeAttributesClass", False)
    vac = spec.get("volumeAttributesClassName")
    if vac and enable_volume_attributes_class:
        errs.extend(_subdomain_errors(vac, path + ".volumeAttributesClassName"))
    return errs


def _pvc_options(new: dict, old: dict | None, gates: Gates) -> dict[str, bool]:
    """``ValidationOptionsForPersistentVolumeClaim``."""
    opts = {"allow_invalid_label_value": False, "allow_invalid_api_group": False,
            "enable_volume_attributes_class": gates.get("VolumeAttributesClass", False)}
    if old is None:
        return opts
    old_spec = old.get("spec") or _EMPTY
    opts["allow_invalid_api_group"] = any(
        _get(old_spec.get(k), "apiGroup") is not None for k in ("dataSource", "dataSourceRef"))
    if old_spec.get("volumeAttributesClassName") is not None:
        opts["enable_volume_attributes_class"] = True
    if validate_label_selector(old_spec.get("selector"), ""):
        opts["allow_invalid_label_value"] = True
    return opts


def _recover_from_expansion_failure(old: dict | None, gates: Gates) -> bool:
    if gates.get("RecoverVolumeExpansionFailure", False):
        return True
    old_status = _get(old, "status") or _EMPTY
    return bool(old_status.get("allocatedResources") or old_status.get("allocatedResourceStatuses"))


def _validate_pvc(obj: dict, gates: Gates, opts: dict[str, bool]) -> Errors:
    """``ValidatePersistentVolumeClaim``."""
    errs = _object_meta(obj, True, _meta.name_is_dns1123_subdomain)
    errs.extend(validate_persistent_volume_claim_spec(obj.get("spec") or _EMPTY, "spec", gates,
                                                      **opts))
    return errs


def validate_persistent_volume_claim(obj: dict, gates: Gates) -> Errors:
    """The claim strategy's ``Validate``."""
    return _validate_pvc(obj, gates, _pvc_options(obj, None, gates))


_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_PVC_IMMUTABLE = ("spec is immutable after creation except resources.requests and "
                  "volumeAttributesClassName for bound claims")


def validate_persistent_volume_claim_update(new: dict, old: dict, gates: Gates) -> Errors:
    """The claim strategy's ``ValidateUpdate``: ``ValidatePersistentVolumeClaim`` then
    ``ValidatePersistentVolumeClaimUpdate``. The spec is immutable except: ``volumeName`` may
    be set once; ``storageClassName`` may be set once when it was nil (or moved from the beta
    annotation); ``resources.requests.storage`` may change while the claim is Bound (never
    below the old request); ``volumeAttributesClassName`` follows its own rules."""
    opts = _pvc_options(new, old, gates)
    new_md, old_md = new.get("metadata") or {}, old.get("metadata") or {}
    errs = _validate_pvc(new, gates, opts)
    # Upstream validates the claim a second time (in ValidatePersistentVolumeClaimUpdate),
    # so every error is listed twice. The check is a pure function of arguments nothing
    # has changed since: when the first pass found nothing, the second finds nothing.
    repeat = bool(errs)
    errs.extend(_meta.validate_object_meta_update(new_md, old_md))
    if repeat:
        errs.extend(_validate_pvc(new, gates, opts))

    spec = new.get("spec") or _EMPTY
    old_spec = old.get("spec") or _EMPTY
    new_clone = dict(spec)
    old_clone = dict(old_spec)
    if not old_spec.get("volumeName"):
        # The PV controller may set volumeName once.
        if "volumeName" in spec:
            old_clone["volumeName"] = spec["volumeName"]
        else:
            old_clone.pop("volumeName", None)

    new_ann = new_md.get("annotations") or _EMPTY
    old_ann = old_md.get("annotations") or _EMPTY
    old_sc, new_sc = old_spec.get("storageClassName"), spec.get("storageClassName")
    if (_BETA_CLASS_ANNOTATION in old_ann and old_sc is None and new_sc is not None
            and new_sc == old_ann[_BETA_CLASS_ANNOTATION]
            and (_BETA_CLASS_ANNOTATION not in new_ann
                 or new_ann[_BETA_CLASS_ANNOTATION] == old_ann[_BETA_CLASS_ANNOTATION])):
        new_clone.pop("storageClassName", None)
    else:
        new_beta = new_ann.get(_BETA_CLASS_ANNOTATION, "")
        if new_beta != old_ann.get(_BETA_CLASS_ANNOTATION, ""):
            errs.append(FieldError.invalid("metadata.annotations." + _BETA_CLASS_ANNOTATION,
                                           new_beta, _IMMUTABLE))
        if new_sc is not None and old_sc is None and (
                _BETA_CLASS_ANNOTATION not in old_ann
                or new_sc == old_ann[_BETA_CLASS_ANNOTATION]):
            new_clone.pop("storageClassName", None)

    status_phase = _get(new.get("status"), "phase")
    new_requests = _get(spec.get("resources"), "requests")
    if status_phase == "Bound" and new_requests is not None:
        requests = dict(new_requests)
        old_storage = _get(_get(old_spec.get("resources"), "requests"), "storage")
        if old_storage is None:
            requests.pop("storage", None)
        else:
            requests["storage"] = old_storage
        new_clone["resources"] = dict(spec.get("resources") or {}, requests=requests)
    new_clone.pop("volumeAttributesClassName", None)
    old_clone.pop("volumeAttributesClassName", None)
    if old_spec.get("volumeAttributesClassName") is not None:
        new_clone["volumeAttributesClassName"] = old_clone["volumeAttributesClassName"] = \
            old_spec["volumeAttributesClassName"]

    if not semantic_equal(new_clone, old_clone):
        errs.append(FieldError.forbidden(
            "spec", _PVC_IMMUTABLE + "\n" + _spec_diff("core.PersistentVolumeClaimSpec",
                                                       old_clone, new_clone)))

    new_size = _quantity(_get(_get(spec.get("resources"), "requests"), "storage")) or 0
    old_size = _quantity(_get(_get(old_spec.get("resources"), "requests"), "storage")) or 0
    if new_size < old_size:
        storage_path = "spec.resources.requests.storage"
        if not _recover_from_expansion_failure(old, gates):
            errs.append(FieldError.forbidden(storage_path,
                                             "field can not be less than previous value"))
        else:
            status_size = _quantity(_get(_get(old.get("status"), "capacity"), "storage")) or 0
            if new_size <= status_size:
                errs.append(FieldError.forbidden(storage_path,
                                                 "field can not be less than status.capacity"))

    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        errs.append(FieldError.invalid("volumeMode", spec.get("volumeMode"), _IMMUTABLE))
    errs.extend(_vac_update("spec.volumeAttributesClassName", spec, old_spec, gates,
                            opts["enable_volume_attributes_class"], allow_empty=False))
    return errs


_RESIZE_STATUSES = ("ControllerResizeFailed", "ControllerResizeInProgress", "NodeResizeFailed",
                    "NodeResizeInProgress", "NodeResizePending")


def _claim_resource_key(key: str, path: str) -> Errors:
    """``validatePersistentVolumeClaimResourceKey``: a qualified name; a native resource
    (no domain, or a kubernetes.io one) may only be ``storage``."""
    errs = [FieldError.invalid(path, key, m) for m in is_qualified_name(key)]
    if errs:
        return errs
    native = "/" not in key or "kubernetes.io/" in key
    if native and key != "storage":
        return [FieldError.not_supported(path, key, ("storage",))]
    return []


def validate_persistent_volume_claim_status_update(new: dict, old: dict, gates: Gates
                                                   ) -> Errors:
    """``ValidatePersistentVolumeClaimStatusUpdate``."""
    errs = _meta_update(new, old)
    if not _get(new.get("metadata"), "resourceVersion"):
        errs.append(FieldError.required("resourceVersion"))
    if not _get(new.get("spec"), "accessModes"):
        errs.append(FieldError.required("Spec.accessModes"))
    status = new.get("status") or _EMPTY
    capacity = status.get("capacity") or _EMPTY
    for name in sorted(capacity):
        errs.extend(_basic_resource(capacity[name], f"status.capacity[{name}]"))
    if _recover_from_expansion_failure(old, gates):
        resize_path = "status.allocatedResourceStatus"
        for key, value in (status.get("allocatedResourceStatuses") or _EMPTY).items():
            errs.extend(_claim_resource_key(key, resize_path))
            if value not in _RESIZE_STATUSES:
                errs.append(FieldError.not_supported(resize_path, key, _RESIZE_STATUSES))
        alloc_path = "status.allocatedResources"
        for key, value in (status.get("allocatedResources") or _EMPTY).items():
            key_errs = _claim_resource_key(key, alloc_path)
            if key_errs:
                errs.extend(key_errs)
                continue
            errs.extend(_basic_resource(value, f"{alloc_path}[{key}]"))
    return errs


# --------------------------------------------------------------------------------------------
# StorageClass

_SC_RECLAIM_POLICIES = ("Delete", "Retain")
_BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
_MAX_PARAMETERS = 512
_MAX_PARAMETERS_SIZE = 256 * (1 << 10)


def default_storage_class(obj: dict) -> None:
    """``SetDefaults_StorageClass``: reclaimPolicy Delete, volumeBindingMode Immediate."""
    if not obj.get("reclaimPolicy"):
        obj["reclaimPolicy"] = "Delete"
    if not obj.get("volumeBindingMode"):
        obj["volumeBindingMode"] = "Immediate"


def validate_storage_class(obj: dict, gates: Gates) -> Errors:
    """``ValidateStorageClass``."""
    errs = _object_meta(obj, False, _meta.name_is_dns1123_subdomain)
    provisioner = obj.get("provisioner") or ""
    if not provisioner:
        errs.append(FieldError.required("provisioner"))
    else:
        lower = provisioner.lower()
        errs.extend(FieldError.invalid("provisioner", lower, m) for m in is_qualified_name(lower))
    params = obj.get("parameters") or _EMPTY
    if len(params) > _MAX_PARAMETERS:
        errs.append(FieldError.too_long("parameters", "", _MAX_PARAMETERS))
    else:
        size = 0
        for key, value in params.items():
            if not key:
                errs.append(FieldError.invalid("parameters", key, "field can not be empty."))
            size += len(key.encode()) + len(value.encode())
        if size > _MAX_PARAMETERS_SIZE:
            errs.append(FieldError.too_long("parameters", "", _MAX_PARAMETERS_SIZE))
    reclaim = obj.get("reclaimPolicy") or ""
    if reclaim and reclaim not in _SC_RECLAIM_POLICIES:
        errs.append(FieldError.not_supported("reclaimPolicy", reclaim, _SC_RECLAIM_POLICIES))
    mode = obj.get("volumeBindingMode")
    if mode is None:
        errs.append(FieldError.required("volumeBindingMode"))
    elif mode not in _BINDING_MODES:
        errs.append(FieldError.not_supported("volumeBindingMode", mode, _BINDING_MODES))
    terms = obj.get("allowedTopologies") or ()
    # Upstream pre-sizes its list of seen terms with empty entries, so a term without
    # expressions is reported as a duplicate; kept.
    seen: list[dict[str, frozenset]] = [{} for _ in terms]
    for i, term in enumerate(terms):
        expr_map, term_errs = _validate_topology_selector_term(term or _EMPTY,
                                                               f"allowedTopologies[{i}]")
        errs.extend(term_errs)
        if expr_map in seen:
            errs.append(FieldError.duplicate(f"allowedTopologies[{i}].matchLabelExpressions", ""))
        seen.append(expr_map)
    return errs


def validate_storage_class_update(new: dict, old: dict, gates: Gates) -> Errors:
    """``ValidateStorageClass`` then ``ValidateStorageClassUpdate``: parameters, provisioner
    and reclaimPolicy may not change; volumeBindingMode is immutable."""
    errs = validate_storage_class(new, gates)
    errs.extend(_meta_update(new, old))
    if not semantic_equal(new.get("parameters"), old.get("parameters")):
        errs.append(FieldError.forbidden("parameters", "updates to parameters are forbidden."))
    if (new.get("provisioner") or "") != (old.get("provisioner") or ""):
        errs.append(FieldError.forbidden("provisioner", "updates to provisioner are forbidden."))
    if (new.get("reclaimPolicy") or "") != (old.get("reclaimPolicy") or ""):
        errs.append(FieldError.forbidden("reclaimPolicy",
                                         "updates to reclaimPolicy are forbidden."))
    if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
        errs.append(FieldError.invalid("volumeBindingMode", new.get("volumeBindingMode"),
                                       _IMMUTABLE))
    return errs


# --------------------------------------------------------------------------------------------
# VolumeAttachment

_MAX_ATTACHED_METADATA = 256 * (1 << 10)
_MAX_VOLUME_ERROR_MESSAGE = 1024
_MAX_INT32 = 2**31 - 1
_ONE_SOURCE = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"


def _volume_error(err: Any, path: str) -> Errors:
    if err is None:
        return []
    errs: list[FieldError] = []
    if len((err.get("message") or "").encode()) > _MAX_VOLUME_ERROR_MESSAGE:
        # Upstream reports the metadata limit here, not the message limit.
        errs.append(FieldError.too_long(path + ".message", "", _MAX_ATTACHED_METADATA))
    code = err.get("errorCode")
    if code is not None and code < 0:
        errs.append(FieldError.invalid(path + ".errorCode", code,
                                       inclusive_range_error(0, _MAX_INT32)))
    return errs


def _validate_volume_attachment(obj: dict, gates: Gates) -> Errors:
    """``ValidateVolumeAttachment``: metadata, spec and status."""
    errs = _object_meta(obj, False, _meta.name_is_dns1123_subdomain)
    spec = obj.get("spec") or _EMPTY
    if not spec.get("attacher"):
        errs.append(FieldError.required("spec.attacher"))
    source = spec.get("source") or _EMPTY
    pv_name = source.get("persistentVolumeName")
    inline = source.get("inlineVolumeSpec")
    if inline is None and pv_name is None:
        errs.append(FieldError.required("spec.source", _ONE_SOURCE))
    elif inline is not None and pv_name is not None:
        errs.append(FieldError.forbidden("spec.source", _ONE_SOURCE))
    elif pv_name is not None:
        if not pv_name:
            errs.append(FieldError.required("spec.source.persistentVolumeName",
                                            "must specify non empty persistentVolumeName"))
    else:
        errs.extend(validate_persistent_volume_spec(inline, "", True,
                                                    "spec.source.inlineVolumeSpec", gates,
                                                    enable_volume_attributes_class=False))
    node = spec.get("nodeName") or ""
    errs.extend(_subdomain_errors(node, "spec.nodeName"))
    status = obj.get("status") or _EMPTY
    metadata = status.get("attachmentMetadata") or _EMPTY
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > _MAX_ATTACHED_METADATA:
        errs.append(FieldError.too_long("status.attachmentMetadata", "", _MAX_ATTACHED_METADATA))
    errs.extend(_volume_error(status.get("attachError"), "status.attachError"))
    errs.extend(_volume_error(status.get("detachError"), "status.detachError"))
    return errs


def validate_volume_attachment(obj: dict, gates: Gates) -> Errors:
    """The strategy's ``Validate``: ``ValidateVolumeAttachment`` plus the stricter v1 checks
    (``ValidateVolumeAttachmentV1``: attacher a CSI driver name, a valid PV name)."""
    errs = _validate_volume_attachment(obj, gates)
    spec = obj.get("spec") or _EMPTY
    errs.extend(_csi_driver_name(spec.get("attacher") or "", "spec.attacher"))
    pv_name = _get(spec.get("source"), "persistentVolumeName")
    if pv_name is not None:
        errs.extend(_subdomain_errors(pv_name, "spec.source.persistentVolumeName"))
    return errs


def validate_volume_attachment_update(new: dict, old: dict, gates: Gates) -> Errors:
    """The strategy's ``ValidateUpdate`` (also used for ``/status``): metadata update rules
    (the generic check), ``ValidateVolumeAttachment`` twice (as upstream), the spec
    immutable."""
    errs = _meta_update(new, old)
    va_errs = _validate_volume_attachment(new, gates)
    errs.extend(va_errs)
    if va_errs:
        # The second pass of a pure check of unchanged arguments finds nothing when the
        # first found nothing.
        errs.extend(_validate_volume_attachment(new, gates))
    spec = new.get("spec")
    if not semantic_equal(spec, old.get("spec")):
        errs.append(FieldError.invalid("spec", spec, _IMMUTABLE))
    return errs


def _prepare_volume_attachment_create(obj: dict, gates: Gates) -> None:
    """``volumeAttachmentStrategy.PrepareForCreate``: status is reset; ``attached`` has no
    omitempty, so it always shows (``{"attached": false}``)."""
    obj["status"] = {"attached": False}


STRATEGIES: dict[str, Strategy] = {
    "PersistentVolume": Strategy(
        default=default_persistent_volume,
        prepare_for_create=prepare_persistent_volume_for_create,
        prepare_for_update=prepare_persistent_volume_for_update,
        validate=validate_persistent_volume,
        validate_update=validate_persistent_volume_update,
        validate_status_update=validate_persistent_volume_status_update,
    ),
    "PersistentVolumeClaim": Strategy(
        default=default_persistent_volume_claim,
        prepare_for_create=prepare_persistent_volume_claim_for_create,
        prepare_for_update=prepare_persistent_volume_claim_for_update,
        validate=validate_persistent_volume_claim,
        validate_update=validate_persistent_volume_claim_update,
        validate_status_update=validate_persistent_volume_claim_status_update,
    ),
    "StorageClass": Strategy(
        default=default_storage_class,
        validate=validate_storage_class,
        validate_update=validate_storage_class_update,
    ),
    "VolumeAttachment": Strategy(
        prepare_for_create=_prepare_volume_attachment_create,
        validate=validate_volume_attachment,
        validate_update=validate_volume_attachment_update,
        validate_status_update=validate_volume_attachment_update,
    ),
}
