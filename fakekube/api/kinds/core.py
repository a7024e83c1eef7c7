"""The core/v1 kinds: Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event and
ServiceAccount (PersistentVolume and PersistentVolumeClaim live in ``storage``).

This module owns, for those kinds, upstream's defaulting (``SetDefaults_*`` and the v1
conversions that change stored fields), the kind-specific parts of the registry strategies
(``PrepareForCreate`` / ``PrepareForUpdate``) and validation on create, update and status
update, with upstream's field paths and messages. It also exports the pod-spec pieces the
workload kinds reuse: :func:`default_pod_spec`, :func:`default_pod_template_spec`,
:func:`validate_pod_spec` and :func:`validate_pod_template_spec`.

Facts follow Kubernetes v1.31, from:

- ``kubernetes/kubernetes:pkg/apis/core/v1/defaults.go`` and ``zz_generated.defaults.go``
  (which defaulters run for which nested structs; pod templates get ``SetDefaults_PodSpec``
  but not ``SetDefaults_Pod``);
- ``kubernetes/kubernetes:pkg/apis/core/v1/conversion.go`` (``podIP``/``podIPs``,
  ``hostIP``/``hostIPs``, ``serviceAccount``/``serviceAccountName``, ``podCIDR``/``podCIDRs``,
  ``Secret.stringData``);
- ``kubernetes/kubernetes:pkg/apis/core/validation/validation.go`` (``ValidatePodCreate``,
  ``ValidatePodSpec``, ``ValidatePodUpdate``, ``ValidatePodStatusUpdate``, ``ValidateService``,
  ``ValidateServiceUpdate``, ``ValidateNode``, ``ValidateNamespace``, ``ValidateSecret``,
  ``ValidateConfigMap``, ``ValidateEndpoints``, ...) and ``events.go`` (``legacyValidateEvent``);
- ``kubernetes/kubernetes:pkg/apis/core/helper/helpers.go`` and ``helper/qos/qos.go``
  (resource name classes, ``ComputePodQOS``);
- ``kubernetes/kubernetes:pkg/registry/core/<kind>/strategy.go`` (what each kind's strategy
  does on create and update), ``pkg/registry/core/service/storage/storage.go`` (keeping
  allocated values on update);
- ``kubernetes/kubernetes:pkg/api/v1/endpoints/util.go`` (``RepackSubsets``).

Feature gates: strategies receive the cluster's gates (upstream names); a gate missing from
the mapping takes its v1.31 default (see ``_GATE_DEFAULTS``).

Hooks the Strategy contract lacks are emulated where upstream has them: ``Canonicalize``
(Endpoints ``RepackSubsets``, the Namespace name label) runs at the end of a successful
``validate``; the pods/status ``PrepareForUpdate`` (owner references kept, qosClass backfilled;
:func:`prepare_pod_status_update`) runs at the start of ``validate_status_update``.

Simplified or not emulated (documented so that tests do not rely on them):

- the ``cmp.Diff`` dump upstream appends to "pod updates may not change fields other than ..."
  is replaced by a path-by-path diff of the wire objects (upstream's prints Go structs and is
  deliberately unstable); the main sentence is exact;
- ``Endpoints`` subsets are repacked like upstream but sorted by value, not by upstream's hash;
- a generic ephemeral volume's claim template is checked for metadata, access modes and a
  storage request only (the full claim spec rules are the storage module's);
- Windows ``windowsOptions`` / HostProcess rules, the deprecated tolerations annotation, and
  some field-level rules of legacy in-tree volume plugins (iSCSI IQN formats, Azure disk URIs,
  Quobyte registries) are not checked;
- a duplicate Service port is reported with the value ``{"protocol", "port"}`` where upstream
  prints the Go struct ``core.ServicePort{...}``.
"""

from __future__ import annotations

import base64
import bisect
import binascii
import itertools
import json
import re
from functools import lru_cache
from typing import Any, Iterable, Mapping

from ...errors import FieldError
from .. import names
from ..objects import ValueMemo
from ..quantity import (QuantityError, compare as q_compare, default_resource_list,
                        is_negative, milli_value, nano_value, parse_quantity, value as q_value)
from ..selectors import validate_label_selector
from . import Strategy
from .meta import (FIELD_IMMUTABLE, IS_NEGATIVE, annotations_ok, labels_ok,
                   name_is_dns1035_label, name_is_dns1123_label, name_is_dns1123_subdomain,
                   object_meta_ok, object_meta_update_ok, validate_annotations, validate_immutable_field,
                   validate_labels, validate_object_meta, validate_object_meta_update)

__all__ = [
    "STRATEGIES", "default_pod_spec", "default_pod_template_spec", "default_container",
    "validate_pod_spec", "validate_pod_template_spec", "validate_tolerations",
    "validate_node_selector", "compute_pod_qos", "prepare_pod_status_update",
    "POD_UPDATE_FORBIDDEN",
]

Gates = Mapping[str, bool]

# v1.31 defaults of the gates consulted here.
_GATE_DEFAULTS = {
    "RelaxedEnvironmentVariableValidation": False,
    "InPlacePodVerticalScaling": False,
    "MatchLabelKeysInPodAffinity": True,
    "PodLifecycleSleepAction": True,
    "SidecarContainers": True,
    "AllowServiceLBStatusOnNonLB": False,
    "LoadBalancerIPMode": True,
    "PodDeletionCost": True,
    "ImageVolume": False,
    "ServiceTrafficDistribution": True,
    "PodLevelResources": False,
    "SupplementalGroupsPolicy": False,
    "DynamicResourceAllocation": False,
}


def _gate(gates: Gates | None, name: str) -> bool:
    if gates is not None:
        v = gates.get(name)
        if v is not None:
            return bool(v)
    return _GATE_DEFAULTS.get(name, False)


_NO_ERRORS: list = []  # shared, never appended to: returned when there is nothing to report
_EMPTY_MAP: Mapping[str, Any] = {}  # shared, never changed


# --------------------------------------------------------------------------------------------
# Defaulting

_TERMINATION_MESSAGE_PATH = "/dev/termination-log"

# Docker reference grammar, enough to find the tag (k8s.io/kubernetes/pkg/util/parsers and
# github.com/distribution/reference): a name is lower case; a tag follows the last ':' of the
# last path component; a digest follows '@'.
_REF_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_REF_DOMAIN = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
                         r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                         r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_REF_TAG = re.compile(r"[\w][\w.-]{0,127}")
_REF_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


@lru_cache(maxsize=4096)
def _image_tag(image: str) -> str | None:
    """The tag ``parsers.ParseImageName`` finds: ``latest`` when there is neither a tag nor a
    digest, ``""`` with a digest only, None when the reference does not parse."""
    if not image:
        return None
    name, at, digest = image.partition("@")
    if at and not _REF_DIGEST.fullmatch(digest):
        return None
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        tag = name[colon + 1:]
        name = name[:colon]
        if not _REF_TAG.fullmatch(tag):
            return None
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"
                           or parts[0].lower() != parts[0]):
        if not _REF_DOMAIN.fullmatch(parts[0]):
            return None
        parts = parts[1:]
    for p in parts:
        if not _REF_PATH_COMPONENT.fullmatch(p):
            return None
    if not tag and not at:
        return "latest"
    return tag


def _default_probe(probe: dict | None) -> None:
    """``SetDefaults_Probe`` + the HTTPGet and GRPC defaults of its handler."""
    if probe is None:
        return
    if not probe.get("timeoutSeconds"):
        probe["timeoutSeconds"] = 1
    if not probe.get("periodSeconds"):
        probe["periodSeconds"] = 10
    if not probe.get("successThreshold"):
        probe["successThreshold"] = 1
    if not probe.get("failureThreshold"):
        probe["failureThreshold"] = 3
    http = probe.get("httpGet")
    if http is not None:
        _default_http_get(http)
    grpc = probe.get("grpc")
    if grpc is not None and "service" not in grpc:
        grpc["service"] = ""


def _default_http_get(http: dict) -> None:
    """``SetDefaults_HTTPGetAction``."""
    if not http.get("path"):
        http["path"] = "/"
    if not http.get("scheme"):
        http["scheme"] = "HTTP"


_PROBES_AND_HOOKS = frozenset(("livenessProbe", "readinessProbe", "startupProbe", "lifecycle"))


def default_container(c: dict) -> None:
    """``SetDefaults_Container`` and the defaulters of everything a container holds (ports'
    protocol, env field refs, resource lists, probes, lifecycle handlers)."""
    if not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = ("Always" if _image_tag(c.get("image", "")) == "latest"
                                else "IfNotPresent")
    if not c.get("terminationMessagePath"):
        c["terminationMessagePath"] = _TERMINATION_MESSAGE_PATH
    if not c.get("terminationMessagePolicy"):
        c["terminationMessagePolicy"] = "File"
    ports = c.get("ports")
    if ports:
        for p in ports:
            if not p.get("protocol"):
                p["protocol"] = "TCP"
    env = c.get("env")
    if env:
        for e in env:
            vf = e.get("valueFrom")
            if vf is not None:
                fr = vf.get("fieldRef")
                if fr is not None and not fr.get("apiVersion"):
                    fr["apiVersion"] = "v1"
    res = c.get("resources")
    if res:
        limits = res.get("limits")
        if limits:
            default_resource_list(limits)
        requests = res.get("requests")
        if requests:
            default_resource_list(requests)
    if _PROBES_AND_HOOKS.isdisjoint(c):
        return
    for probe_key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = c.get(probe_key)
        if probe is not None:
            _default_probe(probe)
    lifecycle = c.get("lifecycle")
    if lifecycle:
        for hook in ("postStart", "preStop"):
            h = lifecycle.get(hook)
            if h and h.get("httpGet") is not None:
                _default_http_get(h["httpGet"])


# Volume sources in upstream's order (validateVolumeSource checks them in this order).
_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret",
    "nfs", "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs",
    "quobyte", "downwardAPI", "fc", "flexVolume", "configMap", "azureFile", "vsphereVolume",
    "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO",
    "csi", "ephemeral", "image",
)
_VOLUME_SOURCE_SET = frozenset(_VOLUME_SOURCES)


def _default_mode_420(s: dict) -> None:
    if "defaultMode" not in s:
        s["defaultMode"] = 420


def _default_host_path(s: dict) -> None:
    if "type" not in s:
        s["type"] = ""


def _default_field_ref_items(items: list | None) -> None:
    for item in items or ():
        fr = item.get("fieldRef")
        if fr is not None and not fr.get("apiVersion"):
            fr["apiVersion"] = "v1"


def _default_downward_api(s: dict) -> None:
    if "defaultMode" not in s:
        s["defaultMode"] = 420
    _default_field_ref_items(s.get("items"))


def _default_projected(s: dict) -> None:
    if "defaultMode" not in s:
        s["defaultMode"] = 420
    for source in s.get("sources") or ():
        d = source.get("downwardAPI")
        if d:
            _default_field_ref_items(d.get("items"))
        t = source.get("serviceAccountToken")
        if t is not None and "expirationSeconds" not in t:
            t["expirationSeconds"] = 3600


def _default_iscsi(s: dict) -> None:
    if not s.get("iscsiInterface"):
        s["iscsiInterface"] = "default"


def _default_rbd(s: dict) -> None:
    if not s.get("pool"):
        s["pool"] = "rbd"
    if not s.get("user"):
        s["user"] = "admin"
    if not s.get("keyring"):
        s["keyring"] = "/etc/ceph/keyring"


def _default_azure_disk(s: dict) -> None:
    s.setdefault("cachingMode", "ReadWrite")
    s.setdefault("fsType", "ext4")
    s.setdefault("readOnly", False)
    s.setdefault("kind", "Shared")


def _default_scale_io(s: dict) -> None:
    if not s.get("storageMode"):
        s["storageMode"] = "ThinProvisioned"
    if not s.get("fsType"):
        s["fsType"] = "xfs"


def _default_ephemeral(s: dict) -> None:
    tmpl = s.get("volumeClaimTemplate")
    if tmpl is not None:
        spec = tmpl.setdefault("spec", {})
        if "volumeMode" not in spec:
            spec["volumeMode"] = "Filesystem"
        res = spec.get("resources")
        if res:
            default_resource_list(res.get("limits"))
            default_resource_list(res.get("requests"))


def _default_image_volume(s: dict) -> None:
    if not s.get("pullPolicy"):
        s["pullPolicy"] = ("Always" if _image_tag(s.get("reference", "")) == "latest"
                           else "IfNotPresent")


# The defaulter of each volume source that has one, in the order upstream runs them.
_VOLUME_SOURCE_DEFAULTERS = {
    "hostPath": _default_host_path, "secret": _default_mode_420,
    "configMap": _default_mode_420, "downwardAPI": _default_downward_api,
    "projected": _default_projected, "iscsi": _default_iscsi, "rbd": _default_rbd,
    "azureDisk": _default_azure_disk, "scaleIO": _default_scale_io,
    "ephemeral": _default_ephemeral, "image": _default_image_volume,
}


def _default_volume(v: dict) -> None:
    """``SetDefaults_Volume`` (a volume without a source is an emptyDir) and the defaulters
    of each volume source. A volume normally has one source: it is found among the volume's
    few keys rather than by probing for every source."""
    if type(v) is not dict:
        for src in _VOLUME_SOURCES:  # not a volume: fails as upstream's defaulter does
            if src in v:
                break
    if _VOLUME_SOURCE_SET.isdisjoint(v):
        v["emptyDir"] = {}
        return
    found = None
    for key in v:
        if key in _VOLUME_SOURCE_DEFAULTERS:
            if found is not None:  # several sources (invalid): upstream's order
                for src, defaulter in _VOLUME_SOURCE_DEFAULTERS.items():
                    s = v.get(src)
                    if s is not None:
                        defaulter(s)
                return
            found = key
    if found is not None:
        s = v[found]
        if s is not None:
            _VOLUME_SOURCE_DEFAULTERS[found](s)


def _default_pod_spec_fields(spec: dict) -> None:
    """The scalar part of ``SetDefaults_PodSpec`` and the ``serviceAccount`` conversion."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    # Convert_v1_PodSpec_To_core_PodSpec / back: the deprecated serviceAccount mirrors
    # serviceAccountName (serviceAccountName wins when both are set).
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if sa:
        spec["serviceAccountName"] = sa
        spec["serviceAccount"] = sa


def default_pod_spec(spec: dict) -> None:
    """``SetDefaults_PodSpec`` and everything nested (volumes, containers, probes, resource
    lists), plus the v1 conversion of ``serviceAccount``/``serviceAccountName``. This is what
    a PodSpec embedded in any object gets; :func:`default_pod_template_spec` applies it to a
    template. Pods get more (``SetDefaults_Pod``: requests from limits, enableServiceLinks).
    """
    _default_pod_spec_fields(spec)
    volumes = spec.get("volumes")
    if volumes:
        for v in volumes:
            _default_volume(v)
    for key in ("initContainers", "containers", "ephemeralContainers"):
        containers = spec.get(key)
        if containers:
            for c in containers:
                default_container(c)
    overhead = spec.get("overhead")
    if overhead:
        default_resource_list(overhead)


def default_pod_template_spec(template: dict) -> None:
    """``SetObjectDefaults_PodTemplate`` for a ``PodTemplateSpec`` (``spec.template`` of the
    workloads): the pod spec's defaults, not the Pod's."""
    spec = template.get("spec")
    if spec is None:
        spec = template["spec"] = {}
    default_pod_spec(spec)


def _default_pod(obj: dict) -> None:
    """``SetObjectDefaults_Pod``: ``SetDefaults_Pod`` (requests default to limits,
    ``enableServiceLinks``, host-network ports) then the pod spec's defaults; and the v1
    conversion of ``status.podIP(s)``/``hostIP(s)``."""
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    for group in (spec.get("containers"), spec.get("initContainers")):
        if group:
            for c in group:
                res = c.get("resources")
                if res:
                    limits = res.get("limits")
                    if limits:
                        requests = res.get("requests")
                        if requests is None:
                            requests = res["requests"] = {}
                        for k, v in limits.items():
                            if k not in requests:
                                requests[k] = v
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or ():
                for p in c.get("ports") or ():
                    if not p.get("hostPort"):
                        p["hostPort"] = p.get("containerPort", 0)
    default_pod_spec(spec)
    status = obj.get("status")
    if status:
        _sync_ip_list(status, "podIP", "podIPs")
        _sync_ip_list(status, "hostIP", "hostIPs")


def _sync_ip_list(status: dict, single: str, plural: str) -> None:
    """``Convert_v1_PodStatus_To_core_PodStatus`` and back: the singular field is
    authoritative when both are set and differ; the plural is filled from the singular."""
    ip = status.get(single)
    ips = status.get(plural)
    if ip:
        if not ips or ips[0].get("ip") != ip:
            status[plural] = [{"ip": ip}]
    elif ips:
        status[single] = ips[0].get("ip", "")


def _default_pod_status_write(obj: dict) -> None:
    """:func:`_default_pod` for the body of a ``pods/status`` write: its status part only.
    Defaulting the spec would be wasted there (the API layer replaces the body's spec with
    the stored pod's), and nothing in the status defaults depends on the spec."""
    status = obj.get("status")
    if status:
        _sync_ip_list(status, "podIP", "podIPs")
        _sync_ip_list(status, "hostIP", "hostIPs")


# Defaulters whose effect on a status write (what survives of its body: status and metadata)
# a cheaper function has, by the defaulter the kind's Strategy names (see
# ``ApiServer._write_update``).
STATUS_WRITE_DEFAULTS = {_default_pod: _default_pod_status_write}


def _default_service(obj: dict) -> None:
    """``SetDefaults_Service``."""
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    affinity = spec["sessionAffinity"]
    if affinity == "None":
        spec.pop("sessionAffinityConfig", None)
    elif affinity == "ClientIP":
        cfg = spec.get("sessionAffinityConfig") or {}
        if (cfg.get("clientIP") or {}).get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    stype = spec["type"]
    for p in spec.get("ports") or ():
        if not p.get("protocol"):
            p["protocol"] = "TCP"
        tp = p.get("targetPort")
        if tp is None or tp == 0 or tp == "":
            p["targetPort"] = p.get("port", 0)
    if _externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and stype in ("NodePort", "LoadBalancer",
                                                               "ClusterIP"):
        spec["internalTrafficPolicy"] = "Cluster"
    if stype == "LoadBalancer":
        if spec.get("allocateLoadBalancerNodePorts") is None:
            spec["allocateLoadBalancerNodePorts"] = True
        for ing in ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ():
            if ing.get("ip") and ing.get("ipMode") is None:
                ing["ipMode"] = "VIP"


def _externally_accessible(spec: dict) -> bool:
    """``service.ExternallyAccessible``."""
    t = spec.get("type")
    return (t in ("LoadBalancer", "NodePort")
            or (t == "ClusterIP" and bool(spec.get("externalIPs"))))


def _default_namespace(obj: dict) -> None:
    """``SetDefaults_Namespace`` (the ``kubernetes.io/metadata.name`` label) and
    ``SetDefaults_NamespaceStatus`` (phase Active)."""
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if name:
        labels = meta.get("labels")
        if labels is None:
            labels = meta["labels"] = {}
        labels["kubernetes.io/metadata.name"] = name
    status = obj.get("status")
    if status is None:
        status = obj["status"] = {}
    if not status.get("phase"):
        status["phase"] = "Active"


def _default_node(obj: dict) -> None:
    """``SetObjectDefaults_Node``: allocatable defaults to capacity, resource lists rounded to
    milli; and the v1 conversion of ``spec.podCIDR``/``spec.podCIDRs``."""
    spec = obj.get("spec")
    if spec:
        cidr = spec.get("podCIDR")
        cidrs = spec.get("podCIDRs")
        if cidr and not cidrs:
            spec["podCIDRs"] = [cidr]
        elif cidrs and cidr != cidrs[0]:
            spec["podCIDR"] = cidrs[0]
    status = obj.get("status")
    if status:
        cap = status.get("capacity")
        if status.get("allocatable") is None and cap is not None:
            status["allocatable"] = dict(cap)
        default_resource_list(status.get("capacity"))
        default_resource_list(status.get("allocatable"))


def _default_endpoints(obj: dict) -> None:
    """``SetDefaults_Endpoints``: ports' protocol TCP."""
    for ss in obj.get("subsets") or ():
        for p in ss.get("ports") or ():
            if not p.get("protocol"):
                p["protocol"] = "TCP"


def _default_secret(obj: dict) -> None:
    """``SetDefaults_Secret`` (type Opaque) and ``Convert_v1_Secret_To_core_Secret``
    (``stringData`` is merged into ``data``, base64-encoded, and dropped)."""
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.pop("stringData", None)
    if string_data:
        data = obj.get("data")
        if data is None:
            data = obj["data"] = {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(v.encode("utf-8")).decode("ascii")


# --------------------------------------------------------------------------------------------
# Resource names and quantities (pkg/apis/core/helper)

_STANDARD_CONTAINER_RESOURCES = frozenset(("cpu", "memory", "ephemeral-storage"))
_STANDARD_RESOURCES = frozenset((
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
    "services.loadbalancers",
))
_INTEGER_RESOURCES = frozenset((
    "pods", "resourcequotas", "services", "replicationcontrollers", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
))
_HUGEPAGES = "hugepages-"


def _is_hugepages(name: str) -> bool:
    return name.startswith(_HUGEPAGES)


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended_resource(name: str) -> bool:
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not names.is_qualified_name("requests." + name)


def _is_overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not _is_hugepages(name)


def _is_integer_resource(name: str) -> bool:
    return name in _INTEGER_RESOURCES or _is_extended_resource(name)


def _is_standard_resource(name: str) -> bool:
    return (name in _STANDARD_RESOURCES or name.startswith(_HUGEPAGES)
            or name.startswith("requests.hugepages-"))


def _validate_resource_name(name: str, path: str) -> list[FieldError]:
    """``validateResourceName``."""
    msgs = names.is_qualified_name(name)
    if msgs:
        return [FieldError.invalid(path, name, m) for m in msgs]
    if "/" not in name and not _is_standard_resource(name):
        return [FieldError.invalid(path, name, "must be a standard resource type or fully "
                                               "qualified")]
    return _NO_ERRORS


def _validate_container_resource_name(name: str, path: str) -> list[FieldError]:
    """``validateContainerResourceName``."""
    if name in _STANDARD_CONTAINER_RESOURCES:
        return _NO_ERRORS
    errs = list(_validate_resource_name(name, path))
    if "/" not in name:
        if not (name in _STANDARD_CONTAINER_RESOURCES or _is_hugepages(name)):
            errs.append(FieldError.invalid(path, name, "must be a standard resource for "
                                                       "containers"))
    elif not _is_native_resource(name) and not _is_extended_resource(name):
        errs.append(FieldError.invalid(path, name, "doesn't follow extended resource name "
                                                   "standard"))
    return errs


def _validate_resource_quantity_value(name: str, q: str, path: str) -> list[FieldError]:
    """``ValidateResourceQuantityValue``: not negative; an integer for integer resources."""
    errs = _NO_ERRORS
    if is_negative(q):
        errs = [FieldError.invalid(path, q, IS_NEGATIVE)]
    if _is_integer_resource(name) and milli_value(q) % 1000 != 0:
        errs = list(errs)
        errs.append(FieldError.invalid(path, q, "must be an integer"))
    return errs


def _hugepage_errors(name: str, q: str, path: str) -> list[FieldError]:
    """``validateResourceQuantityHugePageValue``: a positive multiple of the page size
    (``IsHugePageResourceValueDivisible``)."""
    page = name[len(_HUGEPAGES):]
    try:
        ok = (parse_quantity(page) > 0 and milli_value(page) % 1000 == 0
              and q_value(q) % q_value(page) == 0)
    except QuantityError:
        ok = False
    if ok:
        return _NO_ERRORS
    return [FieldError.invalid(path, q, f"{q} is not positive integer multiple of {name}")]


_QOS_RESOURCES = ("cpu", "memory")


def _validate_resource_requirements(res: dict, claim_names: set, path: str) -> list[FieldError]:
    """``ValidateContainerResourceRequirements``: valid names and values, requests not above
    limits (equal to them for resources that cannot be overcommitted), hugepages with cpu or
    memory, claims that name a pod resource claim."""
    errs: list[FieldError] = []
    limits = res.get("limits")
    requests = res.get("requests")
    lim_path = path + ".limits"
    req_path = path + ".requests"
    cpu_mem = huge = False
    if limits:
        for name, q in limits.items():
            if name in _STANDARD_CONTAINER_RESOURCES:
                cpu_mem = cpu_mem or name != "ephemeral-storage"
                if q[:1] == "-" and is_negative(q):
                    errs.append(FieldError.invalid(f"{lim_path}[{name}]", q, IS_NEGATIVE))
                continue
            p = f"{lim_path}[{name}]"
            errs.extend(_validate_container_resource_name(name, p))
            errs.extend(_validate_resource_quantity_value(name, q, p))
            if _is_hugepages(name):
                huge = True
                errs.extend(_hugepage_errors(name, q, p))
    if requests:
        for name, q in requests.items():
            standard = name in _STANDARD_CONTAINER_RESOURCES
            if standard:
                cpu_mem = cpu_mem or name != "ephemeral-storage"
                if q[:1] == "-" and is_negative(q):
                    errs.append(FieldError.invalid(f"{req_path}[{name}]", q, IS_NEGATIVE))
            else:
                p = f"{req_path}[{name}]"
                errs.extend(_validate_container_resource_name(name, p))
                errs.extend(_validate_resource_quantity_value(name, q, p))
            limit = limits.get(name) if limits else None
            if limit is not None:
                if q != limit:
                    c = q_compare(q, limit)
                    if c != 0 and not standard and not _is_overcommit_allowed(name):
                        errs.append(FieldError.invalid(
                            req_path, q, f"must be equal to {name} limit of {limit}"))
                    elif c > 0:
                        errs.append(FieldError.invalid(
                            req_path, q, f"must be less than or equal to {name} limit of {limit}"))
            elif not standard and not _is_overcommit_allowed(name):
                errs.append(FieldError.required(lim_path, "Limit must be set for non "
                                                          "overcommitable resources"))
            if not standard and _is_hugepages(name):
                huge = True
                errs.extend(_hugepage_errors(name, q, f"{req_path}[{name}]"))
    if huge and not cpu_mem:
        errs.append(FieldError.forbidden(path, "HugePages require cpu or memory"))
    claims = res.get("claims")
    if claims:
        errs.extend(_validate_resource_claim_names(claims, claim_names, path + ".claims"))
    return errs


def _validate_resource_claim_names(claims: list, pod_claims: set, path: str) -> list[FieldError]:
    """``validateResourceClaimNames``."""
    errs: list[FieldError] = []
    seen: set = set()
    for i, claim in enumerate(claims):
        name = claim.get("name", "")
        p = f"{path}[{i}]"
        if not name:
            errs.append(FieldError.required(p, ""))
            continue
        if name in seen:
            errs.append(FieldError.duplicate(p, name))
        else:
            seen.add(name)
        if name not in pod_claims:
            detail = "must be one of the names in pod.spec.resourceClaims"
            detail += (" which is empty" if not pod_claims
                       else ": " + ", ".join(sorted(pod_claims)))
            errs.append(FieldError("FieldValueNotFound", p, name, detail))
    return errs


# The QoS class of pods' (containers, init containers), by value (see ValueMemo).
_QOS_BY_CONTAINERS = ValueMemo()


def compute_pod_qos(pod: dict) -> str:
    """``qos.ComputePodQOS``: Guaranteed, Burstable or BestEffort from the containers' and
    init containers' cpu/memory requests and limits (after defaulting). The class is
    remembered by the value of the two lists (a workload's pods repeat them)."""
    spec = pod.get("spec") or _EMPTY_MAP
    containers = spec.get("containers")
    key = _containers_memo_key(containers) if type(containers) is list else None
    if key is None:
        return _compute_pod_qos(spec)
    parts = (containers, spec.get("initContainers"))
    qos = _QOS_BY_CONTAINERS.get(key, parts)
    if qos is None:
        qos = _compute_pod_qos(spec)
        _QOS_BY_CONTAINERS.put(key, parts, qos)
    return qos


def _compute_pod_qos(spec: dict) -> str:
    """:func:`compute_pod_qos` of a pod with this spec, computed."""
    # Sums of the positive cpu and memory amounts, in nanos (0: there is none).
    req_cpu = req_mem = lim_cpu = lim_mem = 0
    guaranteed = True
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or ():
            res = c.get("resources")
            if not res:
                guaranteed = False
                continue
            requests = res.get("requests")
            if requests:
                for name, q in requests.items():
                    if name == "cpu":
                        v = nano_value(q)
                        if v > 0:
                            req_cpu += v
                    elif name == "memory":
                        v = nano_value(q)
                        if v > 0:
                            req_mem += v
            limits = res.get("limits")
            if not limits:
                guaranteed = False
                continue
            found = 0
            for name, q in limits.items():
                if name == "cpu":
                    v = nano_value(q)
                    if v > 0:
                        found += 1
                        lim_cpu += v
                elif name == "memory":
                    v = nano_value(q)
                    if v > 0:
                        found += 1
                        lim_mem += v
            if found < 2:
                guaranteed = False
    if not (req_cpu or req_mem or lim_cpu or lim_mem):
        return "BestEffort"
    if (guaranteed
            and (not req_cpu or req_cpu == lim_cpu)
            and (not req_mem or req_mem == lim_mem)
            and (not req_cpu) == (not lim_cpu)
            and (not req_mem) == (not lim_mem)):
        return "Guaranteed"
    return "Burstable"


def _get_pod_qos(pod: dict) -> str:
    """``qos.GetPodQOS``: the recorded class, else the computed one."""
    recorded = (pod.get("status") or {}).get("qosClass")
    return recorded or compute_pod_qos(pod)


# --------------------------------------------------------------------------------------------
# Small validators shared by the pod spec pieces

_FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"
_NOT_POSITIVE = "must be greater than zero"
_MAX_INT32 = 2**31 - 1
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PROTOCOL_SET = frozenset(_PROTOCOLS)


def _dns1123_label_errors(value: str, path: str) -> list[FieldError]:
    """``ValidateDNS1123Label``."""
    msgs = names.is_dns1123_label(value)
    if not msgs:
        return _NO_ERRORS
    return [FieldError.invalid(path, value, m) for m in msgs]


def _dns1123_subdomain_errors(value: str, path: str) -> list[FieldError]:
    """``ValidateDNS1123Subdomain``."""
    msgs = names.is_dns1123_subdomain(value)
    if not msgs:
        return _NO_ERRORS
    return [FieldError.invalid(path, value, m) for m in msgs]


def _qualified_name_errors(value: str, path: str) -> list[FieldError]:
    """``ValidateQualifiedName`` / ``ValidateLabelName``."""
    msgs = names.is_qualified_name(value)
    if not msgs:
        return _NO_ERRORS
    return [FieldError.invalid(path, value, m) for m in msgs]


def _name_errors(name_fn, value: str, path: str) -> list[FieldError]:
    msgs = name_fn(value, False)
    if not msgs:
        return _NO_ERRORS
    return [FieldError.invalid(path, value, m) for m in msgs]


def _ip_errors(value: str, path: str) -> list[FieldError]:
    """``validation.IsValidIP(fldPath, value)``."""
    msgs = names.is_valid_ip(value)
    if not msgs:
        return _NO_ERRORS
    return [FieldError.invalid(path, value, m) for m in msgs]


def _cidr_errors(value: str, path: str) -> list[FieldError]:
    """``validation.IsValidCIDR(fldPath, value)``."""
    msgs = names.is_valid_cidr(value)
    if not msgs:
        return _NO_ERRORS
    return [FieldError.invalid(path, value, m) for m in msgs]


def _path_no_backsteps(target: str, path: str) -> list[FieldError]:
    """``validatePathNoBacksteps``."""
    if ".." in target and ".." in target.split("/"):
        return [FieldError.invalid(path, target, "must not contain '..'")]
    return _NO_ERRORS


def _local_descending_path(target: str, path: str) -> list[FieldError]:
    """``validateLocalDescendingPath``: relative, without ``..`` elements."""
    errs = _NO_ERRORS
    if target.startswith("/"):
        errs = [FieldError.invalid(path, target, "must be a relative path")]
    back = _path_no_backsteps(target, path)
    if back:
        errs = [*errs, *back]
    return errs


def _local_non_reserved_path(target: str, path: str) -> list[FieldError]:
    """``ValidateLocalNonReservedPath``: also not starting with ``..``."""
    errs = _local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs = [*errs, FieldError.invalid(path, target, "must not start with '..'")]
    return errs


def _file_mode_errors(mode: int | None, path: str) -> list[FieldError]:
    if mode is not None and (mode > 0o777 or mode < 0):
        return [FieldError.invalid(path, mode, _FILE_MODE_MSG)]
    return _NO_ERRORS


def _port_num_or_name(port: Any, path: str) -> list[FieldError]:
    """``ValidatePortNumOrName`` for an IntOrString (absent means the int 0)."""
    if port is None:
        port = 0
    if isinstance(port, str):
        msgs = names.is_valid_port_name(port)
    else:
        msgs = names.is_valid_port_num(port)
    if not msgs:
        return _NO_ERRORS
    return [FieldError.invalid(path, port, m) for m in msgs]


# --------------------------------------------------------------------------------------------
# Volumes


def _key_to_path(kp: dict, path: str) -> list[FieldError]:
    """``validateKeyToPath``."""
    errs: list[FieldError] = []
    if not kp.get("key"):
        errs.append(FieldError.required(path + ".key", ""))
    target = kp.get("path", "")
    if not target:
        errs.append(FieldError.required(path + ".path", ""))
    errs.extend(_local_non_reserved_path(target, path + ".path"))
    errs.extend(_file_mode_errors(kp.get("mode"), path + ".mode"))
    return errs


_VOLUME_FIELD_PATHS = frozenset(("metadata.annotations", "metadata.labels", "metadata.name",
                                 "metadata.namespace", "metadata.uid"))
_ENV_FIELD_PATHS = frozenset(("metadata.name", "metadata.namespace", "metadata.uid",
                              "spec.nodeName", "spec.serviceAccountName", "status.hostIP",
                              "status.hostIPs", "status.podIP", "status.podIPs"))
_CONVERTIBLE_FIELD_LABELS = frozenset((
    "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
    "metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName",
    "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs", "status.podIP",
    "status.podIPs"))
_RESOURCE_FIELD_PATHS = frozenset(("limits.cpu", "limits.memory", "limits.ephemeral-storage",
                                   "requests.cpu", "requests.memory",
                                   "requests.ephemeral-storage"))
_HUGEPAGE_FIELD_PREFIXES = ("limits.hugepages-", "requests.hugepages-")


def _split_subscripted(field_path: str) -> tuple[str, str] | None:
    """``fieldpath.SplitMaybeSubscriptedPath``: ``metadata.labels['key']``."""
    if not field_path.endswith("']"):
        return None
    head, sep, sub = field_path[:-2].partition("['")
    if not sep or not head:
        return None
    return head, sub


def _object_field_selector(fs: dict, expressions: frozenset, path: str) -> list[FieldError]:
    """``validateObjectFieldSelector`` (with ``ConvertDownwardAPIFieldLabel``)."""
    api_version = fs.get("apiVersion", "")
    if not api_version:
        return [FieldError.required(path + ".apiVersion", "")]
    field_path = fs.get("fieldPath", "")
    if not field_path:
        return [FieldError.required(path + ".fieldPath", "")]
    if api_version != "v1":
        return [FieldError.invalid(path + ".fieldPath", field_path,
                                   f"error converting fieldPath: unsupported pod version: "
                                   f"{api_version}")]
    sub = _split_subscripted(field_path)
    if sub is not None:
        head, key = sub
        if head == "metadata.annotations":
            return _qualified_name_errors(key.lower(), path)
        if head == "metadata.labels":
            return _qualified_name_errors(key, path)
        return [FieldError.invalid(path + ".fieldPath", field_path,
                                   f"error converting fieldPath: field label does not support "
                                   f"subscript: {field_path}")]
    internal = "spec.nodeName" if field_path == "spec.host" else field_path
    if internal != field_path or field_path in _CONVERTIBLE_FIELD_LABELS:
        if internal not in expressions:
            return [FieldError.not_supported(path + ".fieldPath", internal, sorted(expressions))]
        return _NO_ERRORS
    return [FieldError.invalid(path + ".fieldPath", field_path,
                               f"error converting fieldPath: field label not supported: "
                               f"{field_path}")]


_CPU_DIVISORS = frozenset(("1m", "1"))
_BYTE_DIVISORS = frozenset(("1", "1k", "1M", "1G", "1T", "1P", "1E",
                            "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"))
_BYTE_DIVISOR_LIST = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"


def _resource_field_selector(fs: dict, path: str, volume: bool) -> list[FieldError]:
    """``validateContainerResourceFieldSelector`` and ``validateContainerResourceDivisor``."""
    errs: list[FieldError] = []
    resource = fs.get("resource", "")
    if volume and not fs.get("containerName"):
        errs.append(FieldError.required(path + ".containerName", ""))
    elif not resource:
        errs.append(FieldError.required(path + ".resource", ""))
    elif resource not in _RESOURCE_FIELD_PATHS and not resource.startswith(
            _HUGEPAGE_FIELD_PREFIXES):
        errs.append(FieldError.not_supported(path + ".resource", resource,
                                             sorted(_RESOURCE_FIELD_PATHS)))
    divisor = fs.get("divisor")
    if divisor and divisor != "0":
        p = path + ".divisor"
        if resource in ("limits.cpu", "requests.cpu"):
            if divisor not in _CPU_DIVISORS:
                errs.append(FieldError.invalid(p, resource, "only divisor's values 1m and 1 are "
                                                            "supported with the cpu resource"))
        elif resource in ("limits.memory", "requests.memory"):
            if divisor not in _BYTE_DIVISORS:
                errs.append(FieldError.invalid(p, resource, f"only divisor's values "
                                               f"{_BYTE_DIVISOR_LIST} are supported with the "
                                               f"memory resource"))
        elif resource in ("limits.ephemeral-storage", "requests.ephemeral-storage"):
            if divisor not in _BYTE_DIVISORS:
                errs.append(FieldError.invalid(p, resource, f"only divisor's values "
                                               f"{_BYTE_DIVISOR_LIST} are supported with the "
                                               f"local ephemeral storage resource"))
        if resource.startswith(_HUGEPAGE_FIELD_PREFIXES) and divisor not in _BYTE_DIVISORS:
            errs.append(FieldError.invalid(p, resource, f"only divisor's values "
                                           f"{_BYTE_DIVISOR_LIST} are supported with the "
                                           f"hugepages resource"))
    return errs


def _downward_api_file(f: dict, path: str) -> list[FieldError]:
    """``validateDownwardAPIVolumeFile`` (upstream passes the source's path, not the item's)."""
    errs: list[FieldError] = []
    target = f.get("path", "")
    if not target:
        errs.append(FieldError.required(path + ".path", ""))
    errs.extend(_local_non_reserved_path(target, path + ".path"))
    fr = f.get("fieldRef")
    rfr = f.get("resourceFieldRef")
    if fr is not None:
        errs.extend(_object_field_selector(fr, _VOLUME_FIELD_PATHS, path + ".fieldRef"))
        if rfr is not None:
            errs.append(FieldError.invalid(path, "resource", "fieldRef and resourceFieldRef can "
                                                             "not be specified simultaneously"))
    elif rfr is not None:
        errs.extend(_resource_field_selector(rfr, path + ".resourceFieldRef", True))
    else:
        errs.append(FieldError.required(path, "one of fieldRef and resourceFieldRef is required"))
    errs.extend(_file_mode_errors(f.get("mode"), path + ".mode"))
    return errs


def _projected_sources(proj: dict, path: str, opts: "_Opts") -> list[FieldError]:
    """``validateProjectionSources``."""
    errs: list[FieldError] = []
    all_paths: set = set()
    for i, source in enumerate(proj.get("sources") or ()):
        n = 0
        src_path = f"{path}.sources[{i}]"
        for kind in ("secret", "configMap"):
            s = source.get(kind)
            if s is None:
                continue
            n += 1
            pp = f"{src_path}.{kind}"
            if not s.get("name"):
                errs.append(FieldError.required(pp + ".name", ""))
            for j, kp in enumerate(s.get("items") or ()):
                errs.extend(_key_to_path(kp, f"{pp}.items[{j}]"))
                target = kp.get("path", "")
                if target:
                    if target in all_paths:
                        errs.append(FieldError.invalid(path, s.get("name", ""),
                                                       "conflicting duplicate paths"))
                    all_paths.add(target)
        d = source.get("downwardAPI")
        if d is not None:
            n += 1
            pp = src_path + ".downwardAPI"
            for item in d.get("items") or ():
                errs.extend(_downward_api_file(item, pp))
                target = item.get("path", "")
                if target:
                    if target in all_paths:
                        errs.append(FieldError.invalid(path, target,
                                                       "conflicting duplicate paths"))
                    all_paths.add(target)
        t = source.get("serviceAccountToken")
        if t is not None:
            n += 1
            pp = src_path + ".serviceAccountToken"
            exp = t.get("expirationSeconds", 0)
            if exp < 600:
                errs.append(FieldError.invalid(pp + ".expirationSeconds", exp,
                                               "may not specify a duration less than 10 minutes"))
            if exp > 1 << 32:
                errs.append(FieldError.invalid(pp + ".expirationSeconds", exp,
                                               "may not specify a duration larger than 2^32 "
                                               "seconds"))
            target = t.get("path", "")
            if not target:
                errs.append(FieldError.required(path + ".path", ""))
            else:
                errs.extend(_local_non_reserved_path(target, path + ".path"))
        ctb = source.get("clusterTrustBundle")
        if ctb is not None:
            n += 1
            pp = src_path + ".clusterTrustBundle"
            has_name, has_signer = "name" in ctb, "signerName" in ctb
            if has_name and has_signer:
                errs.append(FieldError.invalid(pp, ctb, "only one of name and signerName may "
                                                        "be used"))
            elif not has_name and not has_signer:
                errs.append(FieldError.required(pp, "either name or signerName must be "
                                                     "specified"))
            target = ctb.get("path", "")
            if not target:
                errs.append(FieldError.required(pp + ".path", ""))
            errs.extend(_local_non_reserved_path(target, pp + ".path"))
            if target in all_paths:
                errs.append(FieldError.invalid(path, target, "conflicting duplicate paths"))
            all_paths.add(target)
        if n > 1:
            errs.append(FieldError.forbidden(src_path, "may not specify more than 1 volume "
                                                       "type per source"))
    return errs


_HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                    "FileOrCreate", "Socket")
_HOST_PATH_TYPE_SET = frozenset(_HOST_PATH_TYPES)
_VOLUME_SOURCE_INDEX = {src: i for i, src in enumerate(_VOLUME_SOURCES)}
# Upstream's paths for the "more than 1 volume type" error, where they differ from the key.
_FORBIDDEN_SOURCE_PATH = {"downwardAPI": "downwarAPI", "cephfs": "cephFS"}


def _required_fields(s: dict, path: str, *fields: str) -> list[FieldError]:
    return [FieldError.required(f"{path}.{f}", "") for f in fields if not s.get(f)]


def _volume_source(v: dict, path: str, vol_name: str, pod_name: str,
                   opts: "_Opts") -> list[FieldError]:
    """``validateVolumeSource``: exactly one source, each checked by its own rules."""
    errs: list[FieldError] = []
    n = 0
    present = [k for k in v if k in _VOLUME_SOURCE_INDEX]
    if len(present) > 1:
        present.sort(key=_VOLUME_SOURCE_INDEX.__getitem__)
    for src in present:
        s = v[src]
        if s is None:
            continue
        if n:
            errs.append(FieldError.forbidden(f"{path}.{_FORBIDDEN_SOURCE_PATH.get(src, src)}",
                                             "may not specify more than 1 volume type"))
            continue
        n += 1
        sp = f"{path}.{src}"
        if src == "emptyDir":
            limit = s.get("sizeLimit")
            if limit is not None and is_negative(limit):
                errs.append(FieldError.forbidden(sp + ".sizeLimit", "SizeLimit field must be a "
                                                                    "valid resource quantity"))
        elif src == "hostPath":
            target = s.get("path", "")
            if not target:
                errs.append(FieldError.required(sp + ".path", ""))
            else:
                errs.extend(_path_no_backsteps(target, sp + ".path"))
                t = s.get("type")
                if t is not None and t not in _HOST_PATH_TYPE_SET:
                    errs.append(FieldError.not_supported(sp + ".type", t, _HOST_PATH_TYPES))
        elif src in ("secret", "configMap"):
            name_key = "secretName" if src == "secret" else "name"
            if not s.get(name_key):
                errs.append(FieldError.required(f"{sp}.{name_key}", ""))
            errs.extend(_file_mode_errors(s.get("defaultMode"), sp + ".defaultMode"))
            for j, kp in enumerate(s.get("items") or ()):
                errs.extend(_key_to_path(kp, f"{sp}.items[{j}]"))
        elif src == "persistentVolumeClaim":
            if not s.get("claimName"):
                errs.append(FieldError.required(sp + ".claimName", ""))
        elif src == "downwardAPI":
            errs.extend(_file_mode_errors(s.get("defaultMode"), sp + ".defaultMode"))
            for item in s.get("items") or ():
                errs.extend(_downward_api_file(item, sp))
        elif src == "projected":
            errs.extend(_file_mode_errors(s.get("defaultMode"), sp + ".defaultMode"))
            errs.extend(_projected_sources(s, sp, opts))
        elif src == "csi":
            errs.extend(_csi_driver_name(s.get("driver", ""), sp + ".driver"))
            ref = s.get("nodePublishSecretRef")
            if ref is not None:
                if not ref.get("name"):
                    errs.append(FieldError.required(sp + ".nodePublishSecretRef.name", ""))
                else:
                    errs.extend(_name_errors(name_is_dns1123_subdomain, ref["name"],
                                             sp + ".name"))
        elif src == "ephemeral":
            errs.extend(_ephemeral_volume(s, sp, vol_name, pod_name, path))
        elif src == "nfs":
            errs.extend(_required_fields(s, sp, "server", "path"))
            if not s.get("path", "").startswith("/"):
                errs.append(FieldError.invalid(sp + ".path", s.get("path", ""),
                                               "must be an absolute path"))
        elif src == "gitRepo":
            errs.extend(_required_fields(s, sp, "repository"))
            errs.extend(_local_descending_path(s.get("directory", ""), sp + ".directory"))
        elif src in ("gcePersistentDisk", "awsElasticBlockStore"):
            key, p = (("pdName", path + ".persistentDisk") if src == "gcePersistentDisk"
                      else ("volumeID", sp))
            errs.extend(_required_fields(s, p, key))
            part = s.get("partition", 0)
            if part < 0 or part > 255:
                errs.append(FieldError.invalid(p + ".partition", part,
                                               names.inclusive_range_error(1, 255)))
        elif src == "iscsi":
            errs.extend(_required_fields(s, sp, "targetPortal", "iqn"))
            lun = s.get("lun", 0)
            if lun < 0 or lun > 255:
                errs.append(FieldError.invalid(sp + ".lun", lun,
                                               names.inclusive_range_error(0, 255)))
        elif src == "glusterfs":
            errs.extend(_required_fields(s, sp, "endpoints", "path"))
        elif src == "rbd":
            errs.extend(_required_fields(s, sp, "monitors", "image"))
        elif src == "cinder":
            errs.extend(_required_fields(s, sp, "volumeID"))
        elif src == "cephfs":
            errs.extend(_required_fields(s, path + ".cephfs", "monitors"))
        elif src == "flexVolume":
            errs.extend(_required_fields(s, sp, "driver"))
        elif src == "azureFile":
            errs.extend(_required_fields(s, sp, "secretName", "shareName"))
        elif src == "azureDisk":
            errs.extend(_required_fields(s, sp, "diskName"))
            if not s.get("diskURI"):
                errs.append(FieldError.required(sp + ".diskURI", ""))
        elif src == "vsphereVolume":
            errs.extend(_required_fields(s, sp, "volumePath"))
        elif src == "photonPersistentDisk":
            errs.extend(_required_fields(s, sp, "pdID"))
        elif src == "portworxVolume":
            errs.extend(_required_fields(s, sp, "volumeID"))
        elif src == "scaleIO":
            errs.extend(_required_fields(s, sp, "gateway", "system", "volumeName"))
        elif src == "storageos":
            if not s.get("volumeName"):
                errs.append(FieldError.required(sp + ".volumeName", ""))
            else:
                errs.extend(_dns1123_label_errors(s["volumeName"], sp + ".volumeName"))
        elif src == "quobyte":
            if not s.get("registry"):
                errs.append(FieldError.required(sp + ".registry", "must be a host:port pair or "
                                                                  "multiple pairs separated by "
                                                                  "commas"))
            errs.extend(_required_fields(s, sp, "volume"))
        elif src == "flocker":
            has_name, has_uuid = bool(s.get("datasetName")), bool(s.get("datasetUUID"))
            if not has_name and not has_uuid:
                errs.append(FieldError.required(sp, "one of datasetName and datasetUUID is "
                                                    "required"))
            if has_name and has_uuid:
                errs.append(FieldError.invalid(sp, "resource", "datasetName and datasetUUID can "
                                                               "not be specified simultaneously"))
        elif src == "fc":
            wwns, wwids = s.get("targetWWNs") or (), s.get("wwids") or ()
            if not wwns and not wwids:
                errs.append(FieldError.required(sp + ".targetWWNs", "must specify either "
                                                                    "targetWWNs or wwids, but "
                                                                    "not both"))
        elif src == "image":
            if opts.resource_is_pod and not s.get("reference"):
                errs.append(FieldError.required(sp + ".reference", ""))
            errs.extend(_pull_policy_errors(s.get("pullPolicy", ""), sp + ".pullPolicy"))
    if n == 0:
        errs.append(FieldError.required(path, "must specify a volume type"))
    return errs


def _csi_driver_name(driver: str, path: str) -> list[FieldError]:
    """``ValidateCSIDriverName``."""
    errs: list[FieldError] = []
    if not driver:
        errs.append(FieldError.required(path, ""))
    if len(driver) > 63:
        errs.append(FieldError.too_long(path, "", 63))
    errs.extend(FieldError.invalid(path, driver, m)
                for m in names.is_dns1123_subdomain(driver.lower()))
    return errs


# ObjectMeta fields a claim template may not set, in Go field order, with the path upstream's
# validateFieldAllowList prints (the Go field name with its first letter lowered).
_TEMPLATE_META_FORBIDDEN = (
    ("name", "name"), ("generateName", "generateName"), ("namespace", "namespace"),
    ("selfLink", "selfLink"), ("uid", "uID"), ("resourceVersion", "resourceVersion"),
    ("generation", "generation"), ("creationTimestamp", "creationTimestamp"),
    ("deletionTimestamp", "deletionTimestamp"),
    ("deletionGracePeriodSeconds", "deletionGracePeriodSeconds"),
    ("ownerReferences", "ownerReferences"), ("finalizers", "finalizers"),
    ("managedFields", "managedFields"))


def _ephemeral_volume(s: dict, path: str, vol_name: str, pod_name: str,
                      vol_path: str) -> list[FieldError]:
    """``validateEphemeralVolumeSource``: a claim template (metadata may hold only labels and
    annotations; the spec needs access modes and a storage request) whose generated claim
    name is valid."""
    errs: list[FieldError] = []
    tmpl = s.get("volumeClaimTemplate")
    if tmpl is None:
        return [FieldError.required(path + ".volumeClaimTemplate", "")]
    tp = path + ".volumeClaimTemplate"
    meta = tmpl.get("metadata") or {}
    errs.extend(validate_annotations(meta.get("annotations"), tp + ".metadata.annotations"))
    errs.extend(validate_labels(meta.get("labels"), tp + ".metadata.labels"))
    for key, go_name in _TEMPLATE_META_FORBIDDEN:
        if meta.get(key):
            errs.append(FieldError.forbidden(f"{tp}.metadata.{go_name}", "cannot be set"))
    spec = tmpl.get("spec") or {}
    sp = tp + ".spec"
    if not spec.get("accessModes"):
        errs.append(FieldError.required(sp + ".accessModes", "at least 1 access mode is "
                                                             "required"))
    requests = (spec.get("resources") or {}).get("requests") or {}
    if "storage" not in requests:
        errs.append(FieldError.required(sp + ".resources[storage]", ""))
    if pod_name and vol_name:
        pvc_name = f"{pod_name}-{vol_name}"
        for msg in name_is_dns1123_subdomain(pvc_name, False):
            errs.append(FieldError.invalid(path + ".name", vol_name,
                                           f'PVC name "{pvc_name}": {msg}'))
    return errs


def _validate_volumes(volumes: list, pod_name: str, path: str,
                      opts: "_Opts") -> tuple[dict, list[FieldError]]:
    """``ValidateVolumes``: (valid volumes by name, errors)."""
    errs: list[FieldError] = []
    vols: dict[str, dict] = {}
    created_pvcs: set = set()
    if pod_name:
        for v in volumes:
            if "ephemeral" in v:
                created_pvcs.add(f"{pod_name}-{v.get('name', '')}")
    for i, v in enumerate(volumes):
        p = f"{path}[{i}]"
        name = v.get("name", "")
        el = _volume_source(v, p, name, pod_name, opts)
        if not name:
            el.append(FieldError.required(p + ".name", ""))
        else:
            el.extend(_dns1123_label_errors(name, p + ".name"))
        if name in vols:
            el.append(FieldError.duplicate(p + ".name", name))
        if not el:
            vols[name] = v
        else:
            errs.extend(el)
        pvc = v.get("persistentVolumeClaim")
        if pvc is not None and pvc.get("claimName") in created_pvcs:
            errs.append(FieldError.invalid(p + ".persistentVolumeClaim.claimName",
                                           pvc.get("claimName"), "must not reference a PVC that "
                                           "gets created for an ephemeral volume"))
    return vols, errs


# --------------------------------------------------------------------------------------------
# Containers


class _Opts:
    """``PodValidationOptions``, as far as they matter here."""

    __slots__ = ("relaxed_env", "resource_is_pod", "in_place_resize",
                 "allow_invalid_pod_deletion_cost")

    def __init__(self, gates: Gates | None, resource_is_pod: bool = False) -> None:
        self.relaxed_env = _gate(gates, "RelaxedEnvironmentVariableValidation")
        self.resource_is_pod = resource_is_pod
        self.in_place_resize = _gate(gates, "InPlacePodVerticalScaling")
        self.allow_invalid_pod_deletion_cost = not _gate(gates, "PodDeletionCost")


def _container_ports(ports: list, path: str) -> list[FieldError]:
    """``validateContainerPorts``."""
    errs: list[FieldError] = []
    seen: set = set()
    for i, port in enumerate(ports):
        p = f"{path}[{i}]"
        name = port.get("name")
        if name:
            msgs = names.is_valid_port_name(name)
            if msgs:
                errs.extend(FieldError.invalid(p + ".name", name, m) for m in msgs)
            elif name in seen:
                errs.append(FieldError.duplicate(p + ".name", name))
            else:
                seen.add(name)
        cp = port.get("containerPort", 0)
        if cp == 0:
            errs.append(FieldError.required(p + ".containerPort", ""))
        elif not 1 <= cp <= 65535:
            errs.append(FieldError.invalid(p + ".containerPort", cp,
                                           names.inclusive_range_error(1, 65535)))
        hp = port.get("hostPort", 0)
        if hp and not 1 <= hp <= 65535:
            errs.append(FieldError.invalid(p + ".hostPort", hp,
                                           names.inclusive_range_error(1, 65535)))
        proto = port.get("protocol", "")
        if not proto:
            errs.append(FieldError.required(p + ".protocol", ""))
        elif proto not in _PROTOCOL_SET:
            errs.append(FieldError.not_supported(p + ".protocol", proto, _PROTOCOLS))
    return errs


def _env(env: list, path: str, opts: _Opts) -> list[FieldError]:
    """``ValidateEnv``."""
    errs: list[FieldError] = []
    check = names.is_relaxed_env_var_name if opts.relaxed_env else names.is_env_var_name
    for i, ev in enumerate(env):
        name = ev.get("name", "")
        if not name:
            errs.append(FieldError.required(f"{path}[{i}].name", ""))
        else:
            for m in check(name):
                errs.append(FieldError.invalid(f"{path}[{i}].name", name, m))
        vf = ev.get("valueFrom")
        if vf is not None:
            errs.extend(_env_value_from(ev, vf, f"{path}[{i}].valueFrom"))
    return errs


def _key_selector(s: dict, path: str) -> list[FieldError]:
    """``validateConfigMapKeySelector`` / ``validateSecretKeySelector``."""
    errs = list(_name_errors(name_is_dns1123_subdomain, s.get("name", ""), path + ".name"))
    key = s.get("key", "")
    if not key:
        errs.append(FieldError.required(path + ".key", ""))
    else:
        errs.extend(FieldError.invalid(path + ".key", key, m) for m in names.is_config_map_key(key))
    return errs


def _env_value_from(ev: dict, vf: dict, path: str) -> list[FieldError]:
    """``validateEnvVarValueFrom``."""
    errs: list[FieldError] = []
    n = 0
    s = vf.get("fieldRef")
    if s is not None:
        n += 1
        errs.extend(_object_field_selector(s, _ENV_FIELD_PATHS, path + ".fieldRef"))
    s = vf.get("resourceFieldRef")
    if s is not None:
        n += 1
        errs.extend(_resource_field_selector(s, path + ".resourceFieldRef", False))
    s = vf.get("configMapKeyRef")
    if s is not None:
        n += 1
        errs.extend(_key_selector(s, path + ".configMapKeyRef"))
    s = vf.get("secretKeyRef")
    if s is not None:
        n += 1
        errs.extend(_key_selector(s, path + ".secretKeyRef"))
    if n == 0:
        errs.append(FieldError.invalid(path, "", "must specify one of: `fieldRef`, "
                                                 "`resourceFieldRef`, `configMapKeyRef` or "
                                                 "`secretKeyRef`"))
    elif ev.get("value"):
        errs.append(FieldError.invalid(path, "", "may not be specified when `value` is not "
                                                 "empty"))
    elif n > 1:
        errs.append(FieldError.invalid(path, "", "may not have more than one field specified "
                                                 "at a time"))
    return errs


def _env_from(sources: list, path: str, opts: _Opts) -> list[FieldError]:
    """``ValidateEnvFrom`` (count errors carry the list's path)."""
    errs: list[FieldError] = []
    check = names.is_relaxed_env_var_name if opts.relaxed_env else names.is_env_var_name
    for i, ev in enumerate(sources):
        p = f"{path}[{i}]"
        prefix = ev.get("prefix")
        if prefix:
            errs.extend(FieldError.invalid(p + ".prefix", prefix, m) for m in check(prefix))
        n = 0
        for key in ("configMapRef", "secretRef"):
            ref = ev.get(key)
            if ref is None:
                continue
            n += 1
            name = ref.get("name", "")
            if not name:
                errs.append(FieldError.required(f"{p}.{key}.name", ""))
            else:
                errs.extend(FieldError.invalid(f"{p}.{key}.name", name, m)
                            for m in name_is_dns1123_subdomain(name, True))
        if n == 0:
            errs.append(FieldError.invalid(path, "", "must specify one of: `configMapRef` or "
                                                     "`secretRef`"))
        elif n > 1:
            errs.append(FieldError.invalid(path, "", "may not have more than one field "
                                                     "specified at a time"))
    return errs


_MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
_RRO_VALUES = ("Disabled", "Enabled", "IfPossible")


def _volume_mounts(mounts: list, devices: dict, vols: dict, c: dict,
                   path: str) -> list[FieldError]:
    """``ValidateVolumeMounts`` (subPath, propagation and recursiveReadOnly errors carry the
    list's path, as upstream's do)."""
    errs: list[FieldError] = []
    mount_points: set = set()
    device_paths = set(devices.values()) if devices else ()
    for i, mnt in enumerate(mounts):
        p = f"{path}[{i}]"
        name = mnt.get("name", "")
        mount_path = mnt.get("mountPath", "")
        if not name:
            errs.append(FieldError.required(p + ".name", ""))
        vol = vols.get(name)
        if vol is None:
            errs.append(FieldError.not_found(p + ".name", name))
        if not mount_path:
            errs.append(FieldError.required(p + ".mountPath", ""))
        if mount_path in mount_points:
            errs.append(FieldError.invalid(p + ".mountPath", mount_path, "must be unique"))
        mount_points.add(mount_path)
        if devices:
            if name in devices:
                errs.append(FieldError.invalid(p + ".name", name,
                                               "must not already exist in volumeDevices"))
            if mount_path in device_paths:
                errs.append(FieldError.invalid(p + ".mountPath", mount_path,
                                               "must not already exist as a path in "
                                               "volumeDevices"))
        sub_path = mnt.get("subPath", "")
        sub_expr = mnt.get("subPathExpr", "")
        if vol is not None and vol.get("image") is not None:
            if sub_path:
                errs.append(FieldError.invalid(p + ".subPath", sub_path,
                                               "not allowed in image volume sources"))
            if sub_expr:
                errs.append(FieldError.invalid(p + ".subPathExpr", sub_expr,
                                               "not allowed in image volume sources"))
        if sub_path:
            errs.extend(_local_descending_path(sub_path, path + ".subPath"))
        if sub_expr:
            if sub_path:
                errs.append(FieldError.invalid(p + ".subPathExpr", sub_expr,
                                               "subPathExpr and subPath are mutually exclusive"))
            errs.extend(_local_descending_path(sub_expr, path + ".subPathExpr"))
        prop = mnt.get("mountPropagation")
        if prop is not None:
            pp = path + ".mountPropagation"
            if prop not in _MOUNT_PROPAGATIONS:
                errs.append(FieldError.not_supported(pp, prop, _MOUNT_PROPAGATIONS))
            privileged = (c.get("securityContext") or {}).get("privileged") is True
            if prop == "Bidirectional" and not privileged:
                errs.append(FieldError.forbidden(pp, "Bidirectional mount propagation is "
                                                     "available only to privileged containers"))
        rro = mnt.get("recursiveReadOnly")
        if rro is not None and rro != "Disabled":
            rp = path + ".recursiveReadOnly"
            if rro in ("Enabled", "IfPossible"):
                if not mnt.get("readOnly"):
                    errs.append(FieldError.forbidden(rp, "may only be specified when readOnly "
                                                         "is true"))
                if prop is not None and prop != "None":
                    errs.append(FieldError.forbidden(rp, "may only be specified when "
                                                         "mountPropagation is None or not "
                                                         "specified"))
            else:
                errs.append(FieldError.not_supported(rp, rro, _RRO_VALUES))
    return errs


def _volume_devices(devices: list, mounts: dict, vols: dict, path: str) -> list[FieldError]:
    """``ValidateVolumeDevices``."""
    errs: list[FieldError] = []
    paths: set = set()
    seen: set = set()
    mount_paths = set(mounts.values())
    for i, dev in enumerate(devices):
        p = f"{path}[{i}]"
        name = dev.get("name", "")
        dev_path = dev.get("devicePath", "")
        vol = vols.get(name)
        if not name:
            errs.append(FieldError.required(p + ".name", ""))
        if name in seen:
            errs.append(FieldError.invalid(p + ".name", name, "must be unique"))
        if vol is not None and "persistentVolumeClaim" not in vol and "ephemeral" not in vol:
            errs.append(FieldError.invalid(p + ".name", name, "can only use volume source type "
                                                              "of PersistentVolumeClaim or "
                                                              "Ephemeral for block mode"))
        if vol is None:
            errs.append(FieldError.not_found(p + ".name", name))
        if not dev_path:
            errs.append(FieldError.required(p + ".devicePath", ""))
        if dev_path in paths:
            errs.append(FieldError.invalid(p + ".devicePath", dev_path, "must be unique"))
        if dev_path and _path_no_backsteps(dev_path, ""):
            errs.append(FieldError.invalid(p + ".devicePath", dev_path,
                                           "can not contain backsteps ('..')"))
        else:
            paths.add(dev_path)
        if name in mounts:
            errs.append(FieldError.invalid(p + ".name", name,
                                           "must not already exist in volumeMounts"))
        if dev_path in mount_paths:
            errs.append(FieldError.invalid(p + ".devicePath", dev_path,
                                           "must not already exist as a path in volumeMounts"))
        if name:
            seen.add(name)
    return errs


_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def _pull_policy_errors(policy: str, path: str) -> list[FieldError]:
    """``validatePullPolicy``."""
    if policy in _PULL_POLICIES:
        return _NO_ERRORS
    if not policy:
        return [FieldError.required(path, "")]
    return [FieldError.not_supported(path, policy, _PULL_POLICIES)]


def _resize_policy(policies: list, path: str, restart_policy: str) -> list[FieldError]:
    """``validateResizePolicy``."""
    errs: list[FieldError] = []
    seen: set = set()
    for i, pol in enumerate(policies):
        rn = pol.get("resourceName", "")
        rp = pol.get("restartPolicy", "")
        if rn in seen:
            errs.append(FieldError.duplicate(f"{path}[{i}]", rn))
        seen.add(rn)
        if rn not in ("cpu", "memory"):
            errs.append(FieldError.required(path, "") if not rn
                        else FieldError.not_supported(path, rn, ("cpu", "memory")))
        if rp not in ("NotRequired", "RestartContainer"):
            errs.append(FieldError.required(path, "") if not rp
                        else FieldError.not_supported(path, rp,
                                                      ("NotRequired", "RestartContainer")))
        if restart_policy == "Never" and rp != "NotRequired":
            errs.append(FieldError.invalid(path, rp, "must be 'NotRequired' when `restartPolicy` "
                                                     "is 'Never'"))
    return errs


def _seccomp_profile(sp: dict | None, path: str) -> list[FieldError]:
    """``validateSeccompProfileField``."""
    if sp is None:
        return _NO_ERRORS
    errs: list[FieldError] = []
    t = sp.get("type", "")
    if t not in ("Localhost", "RuntimeDefault", "Unconfined"):
        errs.append(FieldError.required(path + ".type", "type is required when seccompProfile "
                                                        "is set") if not t else
                    FieldError.not_supported(path + ".type", t,
                                             ("Localhost", "RuntimeDefault", "Unconfined")))
    lp = sp.get("localhostProfile")
    if t == "Localhost":
        if lp is None:
            errs.append(FieldError.required(path + ".localhostProfile", "must be set when seccomp "
                                                                        "type is Localhost"))
        else:
            errs.extend(_local_descending_path(lp, path + ".localhostProfile"))
    elif lp is not None:
        errs.append(FieldError.invalid(path + ".localhostProfile", sp,
                                       "can only be set when seccomp type is Localhost"))
    return errs


def _apparmor_profile(ap: dict | None, path: str) -> list[FieldError]:
    """``ValidateAppArmorProfileField``."""
    if ap is None:
        return _NO_ERRORS
    errs: list[FieldError] = []
    t = ap.get("type", "")
    lp = ap.get("localhostProfile")
    if t == "Localhost":
        if lp is None:
            errs.append(FieldError.required(path + ".localhostProfile", "must be set when "
                                                                        "AppArmor type is "
                                                                        "Localhost"))
        else:
            if lp.strip() != lp:
                errs.append(FieldError.invalid(path + ".localhostProfile", lp,
                                               "must not be padded with whitespace"))
            elif not lp:
                errs.append(FieldError.required(path + ".localhostProfile", "must be set when "
                                                                            "AppArmor type is "
                                                                            "Localhost"))
            if len(lp) > 4095:
                errs.append(FieldError.too_long(path + ".localhostProfile", "", 4095))
    elif t in ("RuntimeDefault", "Unconfined"):
        if lp is not None:
            errs.append(FieldError.invalid(path + ".localhostProfile", lp,
                                           "can only be set when AppArmor type is Localhost"))
    elif not t:
        errs.append(FieldError.required(path + ".type", "type is required when appArmorProfile "
                                                        "is set"))
    else:
        errs.append(FieldError.not_supported(path + ".type", t,
                                             ("Localhost", "RuntimeDefault", "Unconfined")))
    return errs


def _security_context(sc: dict, path: str, host_users: bool) -> list[FieldError]:
    """``ValidateSecurityContext`` (privileged containers are allowed, as with
    ``--allow-privileged=true``, which kubeadm and kind set)."""
    errs: list[FieldError] = []
    for key in ("runAsUser", "runAsGroup"):
        v = sc.get(key)
        if v is not None:
            check = names.is_valid_user_id if key == "runAsUser" else names.is_valid_group_id
            errs.extend(FieldError.invalid(f"{path}.{key}", v, m) for m in check(v))
    pm = sc.get("procMount")
    if pm is not None:
        if pm not in ("Default", "Unmasked"):
            errs.append(FieldError.not_supported(path + ".procMount", pm, ("Default", "Unmasked")))
        if host_users and pm == "Unmasked":
            errs.append(FieldError.invalid(path + ".procMount", pm,
                                           "`hostUsers` must be false to use `Unmasked`"))
    errs.extend(_seccomp_profile(sc.get("seccompProfile"), path + ".seccompProfile"))
    if sc.get("allowPrivilegeEscalation") is False:
        if sc.get("privileged") is True:
            errs.append(FieldError.invalid(path, sc, "cannot set `allowPrivilegeEscalation` to "
                                                     "false and `privileged` to true"))
        for cap in (sc.get("capabilities") or {}).get("add") or ():
            if cap == "CAP_SYS_ADMIN":
                errs.append(FieldError.invalid(path, sc, "cannot set `allowPrivilegeEscalation` "
                                                         "to false and `capabilities.Add` "
                                                         "CAP_SYS_ADMIN"))
    errs.extend(_apparmor_profile(sc.get("appArmorProfile"), path + ".appArmorProfile"))
    return errs


_TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")


def _container_common(c: dict, vols: dict, claim_names: set, path: str, opts: _Opts,
                      restart_policy: str, host_users: bool) -> list[FieldError]:
    """``validateContainerCommon``: name, image, termination message policy, ports, env,
    mounts, devices, pull policy, resources, resize policy, security context."""
    errs: list[FieldError] = []
    name = c.get("name", "")
    if not name:
        errs.append(FieldError.required(path + ".name", ""))
    else:
        errs.extend(_dns1123_label_errors(name, path + ".name"))
    if not c.get("image"):
        errs.append(FieldError.required(path + ".image", ""))
    tmp = c.get("terminationMessagePolicy", "")
    if tmp not in _TERMINATION_MESSAGE_POLICIES:
        errs.append(FieldError.required(path + ".terminationMessagePolicy", "") if not tmp else
                    FieldError.not_supported(path + ".terminationMessagePolicy", tmp,
                                             _TERMINATION_MESSAGE_POLICIES))
    ports = c.get("ports")
    if ports:
        errs.extend(_container_ports(ports, path + ".ports"))
    env = c.get("env")
    if env:
        errs.extend(_env(env, path + ".env", opts))
    env_from = c.get("envFrom")
    if env_from:
        errs.extend(_env_from(env_from, path + ".envFrom", opts))
    mounts = c.get("volumeMounts")
    devices = c.get("volumeDevices")
    device_map = {d.get("name", ""): d.get("devicePath", "") for d in devices} if devices else {}
    if mounts:
        errs.extend(_volume_mounts(mounts, device_map, vols, c, path + ".volumeMounts"))
    if devices:
        mount_map = {m.get("name", ""): m.get("mountPath", "") for m in mounts} if mounts else {}
        errs.extend(_volume_devices(devices, mount_map, vols, path + ".volumeDevices"))
    pp = c.get("imagePullPolicy", "")
    if pp not in _PULL_POLICIES:
        errs.extend(_pull_policy_errors(pp, path + ".imagePullPolicy"))
    res = c.get("resources")
    if res:
        errs.extend(_validate_resource_requirements(res, claim_names, path + ".resources"))
    rp = c.get("resizePolicy")
    if rp:
        errs.extend(_resize_policy(rp, path + ".resizePolicy", restart_policy))
    sc = c.get("securityContext")
    if sc:
        errs.extend(_security_context(sc, path + ".securityContext", host_users))
    return errs


def _handler(h: dict, grace: int | None, path: str, lifecycle: bool) -> list[FieldError]:
    """``validateHandler``: exactly one of exec, httpGet, tcpSocket, grpc (probes) or sleep
    (lifecycle hooks)."""
    errs: list[FieldError] = []
    n = 0
    for kind in (("exec", "httpGet", "tcpSocket", "sleep") if lifecycle
                 else ("exec", "httpGet", "tcpSocket", "grpc")):
        a = h.get(kind)
        if a is None:
            continue
        p = f"{path}.{kind}"
        if n:
            errs.append(FieldError.forbidden(p, "may not specify more than 1 handler type"))
            continue
        n += 1
        if kind == "exec":
            if not a.get("command"):
                errs.append(FieldError.required(p + ".command", ""))
        elif kind == "httpGet":
            if not a.get("path"):
                errs.append(FieldError.required(p + ".path", ""))
            errs.extend(_port_num_or_name(a.get("port"), p + ".port"))
            scheme = a.get("scheme", "")
            if scheme not in ("HTTP", "HTTPS"):
                errs.append(FieldError.not_supported(p + ".scheme", scheme, ("HTTP", "HTTPS")))
            for header in a.get("httpHeaders") or ():
                hn = header.get("name", "")
                errs.extend(FieldError.invalid(p + ".httpHeaders", hn, m)
                            for m in names.is_http_header_name(hn))
        elif kind == "tcpSocket":
            errs.extend(_port_num_or_name(a.get("port"), p + ".port"))
        elif kind == "grpc":
            errs.extend(_port_num_or_name(a.get("port", 0), p + ".port"))
        else:  # sleep
            seconds = a.get("seconds", 0)
            if grace is not None and (seconds <= 0 or seconds > grace):
                errs.append(FieldError.invalid(
                    p, seconds, "must be greater than 0 and less than "
                    f"terminationGracePeriodSeconds ({grace})"))
    if n == 0:
        errs.append(FieldError.required(path, "must specify a handler type"))
    return errs


def _probe(probe: dict, grace: int | None, path: str, kind: str) -> list[FieldError]:
    """``validateLivenessProbe`` / ``validateReadinessProbe`` / ``validateStartupProbe``."""
    errs = _handler(probe, grace, path, False)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                "failureThreshold"):
        v = probe.get(key, 0)
        if v < 0:
            errs.append(FieldError.invalid(f"{path}.{key}", v, IS_NEGATIVE))
    tgp = probe.get("terminationGracePeriodSeconds")
    if tgp is not None and tgp <= 0:
        errs.append(FieldError.invalid(path + ".terminationGracePeriodSeconds", tgp,
                                       "must be greater than 0"))
    if kind == "readinessProbe":
        if tgp is not None:
            errs.append(FieldError.invalid(path + ".terminationGracePeriodSeconds", tgp,
                                           "must not be set for readinessProbes"))
    else:
        st = probe.get("successThreshold", 0)
        if st != 1:
            errs.append(FieldError.invalid(path + ".successThreshold", st, "must be 1"))
    return errs


def _probes_and_lifecycle(c: dict, grace: int | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    lifecycle = c.get("lifecycle")
    if lifecycle is not None:
        for hook in ("postStart", "preStop"):
            h = lifecycle.get(hook)
            if h is not None:
                errs.extend(_handler(h, grace, f"{path}.lifecycle.{hook}", True))
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = c.get(kind)
        if probe is not None:
            errs.extend(_probe(probe, grace, f"{path}.{kind}", kind))
    return errs


def _host_port_conflicts(containers: list, path: str) -> list[FieldError]:
    """``checkHostPortConflicts``: protocol/hostIP/hostPort must be unique. (Init containers
    are checked one at a time, as a list of one, so upstream reports them at index 0.)"""
    errs: list[FieldError] = []
    seen: set = set()
    for ci, c in enumerate(containers):
        for pi, port in enumerate(c.get("ports") or ()):
            hp = port.get("hostPort", 0)
            if not hp:
                continue
            key = f"{port.get('protocol', '')}/{port.get('hostIP', '')}/{hp}"
            if key in seen:
                errs.append(FieldError.duplicate(f"{path}[{ci}].ports[{pi}].hostPort", key))
            else:
                seen.add(key)
    return errs


def _containers(containers: list, vols: dict, claim_names: set, grace: int | None, path: str,
                opts: _Opts, restart_policy: str, host_users: bool) -> list[FieldError]:
    """``validateContainers``."""
    if not containers:
        return [FieldError.required(path, "")]
    errs: list[FieldError] = []
    seen: set = set()
    for i, c in enumerate(containers):
        p = f"{path}[{i}]"
        errs.extend(_container_common(c, vols, claim_names, p, opts, restart_policy, host_users))
        name = c.get("name", "")
        if name in seen:
            errs.append(FieldError.duplicate(p + ".name", name))
        else:
            seen.add(name)
        if "lifecycle" in c or "livenessProbe" in c or "readinessProbe" in c or (
                "startupProbe" in c):
            errs.extend(_probes_and_lifecycle(c, grace, p))
        if c.get("restartPolicy") is not None:
            errs.append(FieldError.forbidden(p + ".restartPolicy", "may not be set for non-init "
                                                                   "containers"))
    for c in containers:
        if c.get("ports"):
            errs.extend(_host_port_conflicts(containers, path))
            break
    return errs


def _init_containers(inits: list, regular: list, vols: dict, claim_names: set,
                     grace: int | None, path: str, opts: _Opts, restart_policy: str,
                     host_users: bool) -> list[FieldError]:
    """``validateInitContainers``."""
    errs: list[FieldError] = []
    seen = {c.get("name", "") for c in regular}
    for i, c in enumerate(inits):
        p = f"{path}[{i}]"
        errs.extend(_container_common(c, vols, claim_names, p, opts, restart_policy, host_users))
        crp = c.get("restartPolicy")
        always = False
        if crp is not None:
            if crp != "Always":
                errs.append(FieldError.not_supported(p + ".restartPolicy", crp, ("Always",)))
            always = crp == "Always"
        name = c.get("name", "")
        if name in seen:
            errs.append(FieldError.duplicate(p + ".name", name))
        elif name:
            seen.add(name)
        errs.extend(_host_port_conflicts([c], path))
        if always:
            errs.extend(_probes_and_lifecycle(c, grace, p))
        else:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if c.get(key) is not None:
                    errs.append(FieldError.forbidden(f"{p}.{key}", "may not be set for init "
                                                                   "containers without "
                                                                   "restartPolicy=Always"))
    return errs


def _ephemeral_containers(ecs: list, containers: list, inits: list, vols: dict,
                          claim_names: set, path: str, opts: _Opts, restart_policy: str,
                          host_users: bool) -> list[FieldError]:
    """``validateEphemeralContainers`` (the common rules, unique names, the target)."""
    errs: list[FieldError] = []
    other = {c.get("name", "") for c in containers} | {c.get("name", "") for c in inits}
    seen = set(other)
    for i, ec in enumerate(ecs):
        p = f"{path}[{i}]"
        errs.extend(_container_common(ec, vols, claim_names, p, opts, restart_policy,
                                      host_users))
        image = ec.get("image", "")
        if image and len(image) != len(image.strip()):
            errs.append(FieldError.invalid(p + ".image", image, "must not have leading or "
                                                                "trailing whitespace"))
        name = ec.get("name", "")
        if name in seen:
            errs.append(FieldError.duplicate(p + ".name", name))
        else:
            seen.add(name)
        target = ec.get("targetContainerName", "")
        if target and target not in other:
            errs.append(FieldError.not_found(p + ".targetContainerName", target))
        for key in ("ports", "resources", "lifecycle", "livenessProbe", "readinessProbe",
                    "startupProbe", "resizePolicy", "restartPolicy"):
            if ec.get(key):
                errs.append(FieldError.forbidden(f"{p}.{key}", "cannot be set for an Ephemeral "
                                                               "Container"))
        for j, vm in enumerate(ec.get("volumeMounts") or ()):
            for key in ("subPath", "subPathExpr"):
                if vm.get(key):
                    errs.append(FieldError.forbidden(f"{p}.volumeMounts[{j}].{key}",
                                                     "cannot be set for an Ephemeral Container"))
    return errs


# --------------------------------------------------------------------------------------------
# Scheduling constraints


def validate_tolerations(tolerations: list, path: str) -> list[FieldError]:
    """``ValidateTolerations``."""
    errs: list[FieldError] = []
    for i, t in enumerate(tolerations):
        p = f"{path}[{i}]"
        key = t.get("key", "")
        op = t.get("operator", "")
        effect = t.get("effect", "")
        value = t.get("value", "")
        if key:
            errs.extend(_qualified_name_errors(key, p + ".key"))
        elif op != "Exists":
            errs.append(FieldError.invalid(p + ".operator", op, "operator must be Exists when "
                                           '`key` is empty, which means "match all values and '
                                           'all keys"'))
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(FieldError.invalid(p + ".effect", effect, "effect must be 'NoExecute' "
                                                                  "when `tolerationSeconds` is "
                                                                  "set"))
        if op in ("Equal", ""):
            msgs = names.is_valid_label_value(value)
            if msgs:
                errs.append(FieldError.invalid(p + ".operator", value, ";".join(msgs)))
        elif op == "Exists":
            if value:
                errs.append(FieldError.invalid(p + ".operator", value, "value must be empty when "
                                                                       "`operator` is 'Exists'"))
        else:
            errs.append(FieldError.not_supported(p + ".operator", op, ("Equal", "Exists")))
        if effect:
            errs.extend(_taint_effect(effect, True, p + ".effect"))
    return errs


_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _taint_effect(effect: str, allow_empty: bool, path: str) -> list[FieldError]:
    """``validateTaintEffect``."""
    if not allow_empty and not effect:
        return [FieldError.required(path, "")]
    if effect in _TAINT_EFFECTS:
        return _NO_ERRORS
    return [FieldError.not_supported(path, effect, _TAINT_EFFECTS)]


def _node_selector_requirement(rq: dict, path: str) -> list[FieldError]:
    """``ValidateNodeSelectorRequirement``."""
    errs: list[FieldError] = []
    op = rq.get("operator", "")
    values = rq.get("values") or ()
    if op in ("In", "NotIn"):
        if not values:
            errs.append(FieldError.required(path + ".values", "must be specified when `operator` "
                                                              "is 'In' or 'NotIn'"))
    elif op in ("Exists", "DoesNotExist"):
        if values:
            errs.append(FieldError.forbidden(path + ".values", "may not be specified when "
                                                               "`operator` is 'Exists' or "
                                                               "'DoesNotExist'"))
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            errs.append(FieldError.required(path + ".values", "must be specified single value "
                                                              "when `operator` is 'Lt' or 'Gt'"))
    else:
        errs.append(FieldError.invalid(path + ".operator", op, "not a valid selector operator"))
    errs.extend(_qualified_name_errors(rq.get("key", ""), path + ".key"))
    return errs


def _node_field_selector_requirement(rq: dict, path: str) -> list[FieldError]:
    """``ValidateNodeFieldSelectorRequirement``: only ``metadata.name In/NotIn [one]``."""
    errs: list[FieldError] = []
    op = rq.get("operator", "")
    values = rq.get("values") or ()
    if op in ("In", "NotIn"):
        if len(values) != 1:
            errs.append(FieldError.required(path + ".values", "must be only one value when "
                                                              "`operator` is 'In' or 'NotIn' for "
                                                              "node field selector"))
    else:
        errs.append(FieldError.invalid(path + ".operator", op, "not a valid selector operator"))
    key = rq.get("key", "")
    if key != "metadata.name":
        errs.append(FieldError.invalid(path + ".key", key, "not a valid field selector key"))
    else:
        for i, v in enumerate(values):
            errs.extend(_name_errors(name_is_dns1123_subdomain, v, f"{path}.values[{i}]"))
    return errs


def _node_selector_term(term: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, rq in enumerate(term.get("matchExpressions") or ()):
        errs.extend(_node_selector_requirement(rq, f"{path}.matchExpressions[{j}]"))
    for j, rq in enumerate(term.get("matchFields") or ()):
        errs.extend(_node_field_selector_requirement(rq, f"{path}.matchFields[{j}]"))
    return errs


def validate_node_selector(selector: dict, path: str) -> list[FieldError]:
    """``ValidateNodeSelector`` (a required node affinity, a PV's node affinity)."""
    terms = selector.get("nodeSelectorTerms") or ()
    tp = path + ".nodeSelectorTerms"
    if not terms:
        return [FieldError.required(tp, "must have at least one node selector term")]
    errs: list[FieldError] = []
    for i, term in enumerate(terms):
        errs.extend(_node_selector_term(term, f"{tp}[{i}]"))
    return errs


def _label_keys(keys: list, selector: dict | None, path: str) -> list[FieldError]:
    """``validateLabelKeys``."""
    if not keys:
        return _NO_ERRORS
    if selector is None:
        return [FieldError.forbidden(path, "must not be specified when labelSelector is not set")]
    errs: list[FieldError] = []
    for i, k in enumerate(keys):
        errs.extend(_qualified_name_errors(k, f"{path}[{i}]"))
    return errs


def _pod_affinity_term(term: dict, path: str) -> list[FieldError]:
    """``validatePodAffinityTerm``."""
    errs: list[FieldError] = []
    selector = term.get("labelSelector")
    errs.extend(validate_label_selector(selector, path + ".labelSelector"))
    errs.extend(validate_label_selector(term.get("namespaceSelector"),
                                        path + ".namespaceSelector"))
    for ns in term.get("namespaces") or ():
        errs.extend(_name_errors(name_is_dns1123_label, ns, path + ".namespace"))
    match_keys = term.get("matchLabelKeys") or []
    mismatch_keys = term.get("mismatchLabelKeys") or []
    if match_keys or mismatch_keys:
        errs.extend(_label_keys(match_keys, selector, path + ".matchLabelKeys"))
        errs.extend(_label_keys(mismatch_keys, selector, path + ".mismatchLabelKeys"))
        if selector is not None:
            index = {k: i for i, k in enumerate(match_keys)}
            selector_keys = set(selector.get("matchLabels") or ())
            for expr in selector.get("matchExpressions") or ():
                k = expr.get("key", "")
                if k in index and k in selector_keys:
                    errs.append(FieldError.invalid(f"{path}[{index[k]}]", k,
                                                   "exists in both matchLabelKeys and "
                                                   "labelSelector"))
                selector_keys.add(k)
        mismatch = set(mismatch_keys)
        for i, k in enumerate(match_keys):
            if k in mismatch:
                errs.append(FieldError.invalid(f"{path}.matchLabelKeys[{i}]", k,
                                               "exists in both matchLabelKeys and "
                                               "mismatchLabelKeys"))
    topology_key = term.get("topologyKey", "")
    if not topology_key:
        errs.append(FieldError.required(path + ".topologyKey", "can not be empty"))
    errs.extend(_qualified_name_errors(topology_key, path + ".topologyKey"))
    return errs


def _pod_affinity(aff: dict, path: str) -> list[FieldError]:
    """``validatePodAffinity`` / ``validatePodAntiAffinity``."""
    errs: list[FieldError] = []
    req = aff.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req:
        p = path + ".requiredDuringSchedulingIgnoredDuringExecution"
        for i, term in enumerate(req):
            errs.extend(_pod_affinity_term(term, f"{p}[{i}]"))
    pref = aff.get("preferredDuringSchedulingIgnoredDuringExecution")
    if pref:
        p = path + ".preferredDuringSchedulingIgnoredDuringExecution"
        for j, wt in enumerate(pref):
            w = wt.get("weight", 0)
            if w <= 0 or w > 100:
                errs.append(FieldError.invalid(f"{p}[{j}].weight", w, "must be in the range 1-100"))
            errs.extend(_pod_affinity_term(wt.get("podAffinityTerm") or {},
                                           f"{p}[{j}].podAffinityTerm"))
    return errs


def _affinity(affinity: dict, path: str) -> list[FieldError]:
    """``validateAffinity``."""
    errs: list[FieldError] = []
    na = affinity.get("nodeAffinity")
    if na is not None:
        p = path + ".nodeAffinity"
        req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
        if req is not None:
            errs.extend(validate_node_selector(
                req, p + ".requiredDuringSchedulingIgnoredDuringExecution"))
        pref = na.get("preferredDuringSchedulingIgnoredDuringExecution")
        if pref:
            pp = p + ".preferredDuringSchedulingIgnoredDuringExecution"
            for i, term in enumerate(pref):
                w = term.get("weight", 0)
                if w <= 0 or w > 100:
                    errs.append(FieldError.invalid(f"{pp}[{i}].weight", w,
                                                   "must be in the range 1-100"))
                errs.extend(_node_selector_term(term.get("preference") or {},
                                                f"{pp}[{i}].preference"))
    for key in ("podAffinity", "podAntiAffinity"):
        a = affinity.get(key)
        if a is not None:
            errs.extend(_pod_affinity(a, f"{path}.{key}"))
    return errs


def _topology_spread(constraints: list, path: str) -> list[FieldError]:
    """``validateTopologySpreadConstraints``."""
    errs: list[FieldError] = []
    for i, c in enumerate(constraints):
        p = f"{path}[{i}]"
        skew = c.get("maxSkew", 0)
        if skew <= 0:
            errs.append(FieldError.invalid(p + ".maxSkew", skew, _NOT_POSITIVE))
        key = c.get("topologyKey", "")
        if not key:
            errs.append(FieldError.required(p + ".topologyKey", "can not be empty"))
        action = c.get("whenUnsatisfiable", "")
        if action not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.append(FieldError.not_supported(p + ".whenUnsatisfiable", action,
                                                 ("DoNotSchedule", "ScheduleAnyway")))
        for rest in constraints[i + 1:]:
            if rest.get("topologyKey", "") == key and rest.get("whenUnsatisfiable", "") == action:
                errs.append(FieldError.duplicate(p + ".{topologyKey, whenUnsatisfiable}",
                                                 f"{{{key}, {action}}}"))
                break
        md = c.get("minDomains")
        if md is not None:
            if md <= 0:
                errs.append(FieldError.invalid(p + ".minDomains", md, _NOT_POSITIVE))
            if action != "DoNotSchedule":
                errs.append(FieldError.invalid(p + ".minDomains", md,
                                               "can only use minDomains if "
                                               f"whenUnsatisfiable=DoNotSchedule, not {action}"))
        for policy_key in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            pol = c.get(policy_key)
            if pol is not None and pol not in ("Honor", "Ignore"):
                errs.append(FieldError.not_supported(f"{p}.{policy_key}", pol,
                                                     ("Honor", "Ignore")))
        selector = c.get("labelSelector")
        keys = c.get("matchLabelKeys")
        if keys:
            kp = p + ".matchLabelKeys"
            selector_keys: set = set()
            if selector is not None:
                selector_keys.update(selector.get("matchLabels") or ())
                selector_keys.update(e.get("key", "") for e in selector.get("matchExpressions")
                                     or ())
            else:
                errs.append(FieldError.forbidden(kp, "must not be specified when labelSelector "
                                                     "is not set"))
            for j, k in enumerate(keys):
                errs.extend(_qualified_name_errors(k, f"{kp}[{j}]"))
                if k in selector_keys:
                    errs.append(FieldError.invalid(f"{kp}[{j}]", k, "exists in both "
                                                                    "matchLabelKeys and "
                                                                    "labelSelector"))
        errs.extend(validate_label_selector(selector, p + ".labelSelector"))
    return errs


# --------------------------------------------------------------------------------------------
# Pod spec

_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_SYSCTL_SEGMENT = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
_SYSCTL_FMT = "(" + _SYSCTL_SEGMENT + "[\\./])*" + _SYSCTL_SEGMENT
_SYSCTL_RE = re.compile(_SYSCTL_FMT)
_SYSCTL_MSG = f"must have at most 253 characters and match regex ^{_SYSCTL_FMT}$"


def _sysctl_namespace(name: str) -> str:
    """``utilsysctl.GetNamespace``: "net", "ipc" or "" (not namespaced)."""
    if "/" in name and ("." not in name or name.index("/") < name.index(".")):
        name = name.replace("/", ".")
    if name.startswith("net."):
        return "net"
    if name == "kernel.sem" or name.startswith(("kernel.shm", "kernel.msg", "fs.mqueue.")):
        return "ipc"
    return ""


def _pod_security_context(spec: dict, sc: dict, path: str) -> list[FieldError]:
    """``validatePodSpecSecurityContext`` (host namespaces live on the v1 spec)."""
    errs: list[FieldError] = []
    for key, check in (("fsGroup", names.is_valid_group_id), ("runAsUser", names.is_valid_user_id),
                       ("runAsGroup", names.is_valid_group_id)):
        v = sc.get(key)
        if v is not None:
            errs.extend(FieldError.invalid(f"{path}.{key}", v, m) for m in check(v))
    for g, gid in enumerate(sc.get("supplementalGroups") or ()):
        errs.extend(FieldError.invalid(f"{path}.supplementalGroups[{g}]", gid, m)
                    for m in names.is_valid_group_id(gid))
    share = spec.get("shareProcessNamespace")
    if share is True and spec.get("hostPID"):
        errs.append(FieldError.invalid(path + ".shareProcessNamespace", share,
                                       "ShareProcessNamespace and HostPID cannot both be "
                                       "enabled"))
    sysctls = sc.get("sysctls")
    if sysctls:
        seen: set = set()
        sp = path + ".sysctls"
        for i, s in enumerate(sysctls):
            name = s.get("name", "")
            np_ = f"{sp}[{i}].name"
            if not name:
                errs.append(FieldError.required(np_, ""))
            elif len(name) > 253 or not _SYSCTL_RE.fullmatch(name):
                errs.append(FieldError.invalid(np_, name, _SYSCTL_MSG))
            elif name in seen:
                errs.append(FieldError.duplicate(np_, name))
            ns = _sysctl_namespace(name)
            if ns == "net" and spec.get("hostNetwork"):
                errs.append(FieldError.invalid(np_, name, "may not be specified when "
                                                          "'hostNetwork' is true"))
            elif ns == "ipc" and spec.get("hostIPC"):
                errs.append(FieldError.invalid(np_, name, "may not be specified when 'hostIPC' "
                                                          "is true"))
            seen.add(name)
    policy = sc.get("fsGroupChangePolicy")
    if policy is not None and policy not in ("Always", "OnRootMismatch"):
        errs.append(FieldError.not_supported(path + ".fsGroupChangePolicy", policy,
                                             ("Always", "OnRootMismatch")))
    errs.extend(_seccomp_profile(sc.get("seccompProfile"), path + ".seccompProfile"))
    errs.extend(_apparmor_profile(sc.get("appArmorProfile"), path + ".appArmorProfile"))
    sgp = sc.get("supplementalGroupsPolicy")
    if sgp is not None and sgp not in ("Merge", "Strict"):
        errs.append(FieldError.not_supported(path + ".supplementalGroupsPolicy", sgp,
                                             ("Merge", "Strict")))
    return errs


def _dns_config(config: dict | None, policy: str, path: str) -> list[FieldError]:
    """``validatePodDNSConfig``."""
    if policy == "None":
        if config is None:
            return [FieldError.required(path, "must provide `dnsConfig` when `dnsPolicy` is "
                                              "None")]
        if not config.get("nameservers"):
            return [FieldError.required(path + ".nameservers", "must provide at least one DNS "
                                                               "nameserver when `dnsPolicy` is "
                                                               "None")]
    if config is None:
        return _NO_ERRORS
    errs: list[FieldError] = []
    servers = config.get("nameservers") or []
    if len(servers) > 3:
        errs.append(FieldError.invalid(path + ".nameservers", servers,
                                       "must not have more than 3 nameservers"))
    for i, ns in enumerate(servers):
        errs.extend(_ip_errors(ns, f"{path}.nameservers[{i}]"))
    searches = config.get("searches") or []
    if len(searches) > 32:
        errs.append(FieldError.invalid(path + ".searches", searches,
                                       "must not have more than 32 search paths"))
    if len(" ".join(searches)) > 2048:
        errs.append(FieldError.invalid(path + ".searches", searches,
                                       "must not have more than 2048 characters (including "
                                       "spaces) in the search list"))
    for i, search in enumerate(searches):
        errs.extend(_dns1123_subdomain_errors(search.removesuffix("."),
                                              f"{path}.searches[{i}]"))
    for i, option in enumerate(config.get("options") or ()):
        if not option.get("name"):
            errs.append(FieldError.required(f"{path}.options[{i}]", "must not be empty"))
    return errs


_WINDOWS_POD_FORBIDDEN = (
    ("securityContext", "appArmorProfile"), ("securityContext", "seLinuxOptions"),
    ("", "hostUsers"), ("", "hostPID"), ("", "hostIPC"), ("securityContext", "seccompProfile"),
    ("securityContext", "fsGroup"), ("securityContext", "fsGroupChangePolicy"),
    ("securityContext", "sysctls"), ("", "shareProcessNamespace"),
    ("securityContext", "runAsUser"), ("securityContext", "runAsGroup"),
    ("securityContext", "supplementalGroups"), ("securityContext", "supplementalGroupsPolicy"))
_WINDOWS_CONTAINER_FORBIDDEN = (
    "appArmorProfile", "seLinuxOptions", "seccompProfile", "capabilities",
    "readOnlyRootFilesystem", "privileged", "allowPrivilegeEscalation", "procMount", "runAsUser",
    "runAsGroup")


def _all_containers(spec: dict, path: str):
    """``VisitContainersWithPath``: (container, path) for init, regular, ephemeral."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for i, c in enumerate(spec.get(key) or ()):
            yield c, f"{path}.{key}[{i}]"


def _os(spec: dict, os_: dict, path: str) -> list[FieldError]:
    """``validateOS`` then ``validateLinux`` / ``validateWindows``."""
    name = os_.get("name", "")
    if not name:
        return [FieldError.required(path + ".os.name", "cannot be empty")]
    if name not in ("linux", "windows"):
        return [FieldError.not_supported(path + ".os", name, ("linux", "windows"))]
    errs: list[FieldError] = []
    sc = spec.get("securityContext") or {}
    if name == "linux":
        if sc.get("windowsOptions") is not None:
            errs.append(FieldError.forbidden(path + ".securityContext.windowsOptions",
                                             "windows options cannot be set for a linux pod"))
        for c, cp in _all_containers(spec, path):
            if (c.get("securityContext") or {}).get("windowsOptions") is not None:
                errs.append(FieldError.forbidden(cp + ".securityContext.windowsOptions",
                                                 "windows options cannot be set for a linux pod"))
        return errs
    for where, key in _WINDOWS_POD_FORBIDDEN:
        v = (sc if where else spec).get(key)
        if (v if key in ("hostPID", "hostIPC", "sysctls") else v is not None):
            p = f"{path}.{where}.{key}" if where else f"{path}.{key}"
            errs.append(FieldError.forbidden(p, "cannot be set for a windows pod"))
    for c, cp in _all_containers(spec, path):
        csc = c.get("securityContext")
        if csc:
            for key in _WINDOWS_CONTAINER_FORBIDDEN:
                if csc.get(key) is not None:
                    errs.append(FieldError.forbidden(f"{cp}.securityContext.{key}",
                                                     "cannot be set for a windows pod"))
    return errs


def _pod_resource_claims(claims: list, path: str) -> list[FieldError]:
    """``validatePodResourceClaims``."""
    errs: list[FieldError] = []
    seen: set = set()
    for i, claim in enumerate(claims):
        p = f"{path}[{i}]"
        name = claim.get("name", "")
        if not name:
            errs.append(FieldError.required(p + ".name", ""))
        elif name in seen:
            errs.append(FieldError.duplicate(p + ".name", name))
        else:
            errs.extend(_dns1123_label_errors(name, p + ".name"))
            seen.add(name)
        rcn, rctn = claim.get("resourceClaimName"), claim.get("resourceClaimTemplateName")
        if rcn is not None and rctn is not None:
            errs.append(FieldError.invalid(p, claim, "at most one of `resourceClaimName` or "
                                                     "`resourceClaimTemplateName` may be "
                                                     "specified"))
        if rcn is None and rctn is None:
            errs.append(FieldError.invalid(p, claim, "must specify one of: `resourceClaimName`, "
                                                     "`resourceClaimTemplateName`"))
        if rcn is not None:
            errs.extend(_name_errors(name_is_dns1123_subdomain, rcn, p + ".resourceClaimName"))
        if rctn is not None:
            errs.extend(_name_errors(name_is_dns1123_subdomain, rctn,
                                     p + ".resourceClaimTemplateName"))
    return errs


def validate_pod_spec(spec: dict, path: str, gates: Gates | None = None, *,
                      pod_name: str = "", resource_is_pod: bool = False) -> list[FieldError]:
    """``ValidatePodSpec``: everything about a pod spec, wherever it is embedded.

    ``path`` is the spec's field path (``spec`` for a Pod, ``spec.template.spec`` for a
    workload). ``pod_name`` (only for Pods) lets generic ephemeral volumes check the claim
    name they will create; ``resource_is_pod`` is upstream's ``ResourceIsPod`` option.
    Errors come in upstream's order.
    """
    return _validate_pod_spec(spec, path, _Opts(gates, resource_is_pod), pod_name)


def _validate_pod_spec(spec: dict, path: str, opts: _Opts, pod_name: str) -> list[FieldError]:
    errs: list[FieldError] = []
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is None:
        errs.append(FieldError.required(path + ".terminationGracePeriodSeconds", ""))
    host_users = spec.get("hostUsers") is not False
    restart_policy = spec.get("restartPolicy", "")
    volumes = spec.get("volumes")
    if volumes:
        vols, verrs = _validate_volumes(volumes, pod_name, path + ".volumes", opts)
        errs.extend(verrs)
    else:
        vols = {}
    claims = spec.get("resourceClaims")
    claim_names = {c.get("name") for c in claims if c.get("name")} if claims else set()
    if claims:
        errs.extend(_pod_resource_claims(claims, path + ".resourceClaims"))
    containers = spec.get("containers") or []
    errs.extend(_containers(containers, vols, claim_names, grace, path + ".containers", opts,
                            restart_policy, host_users))
    inits = spec.get("initContainers")
    if inits:
        errs.extend(_init_containers(inits, containers, vols, claim_names, grace,
                                     path + ".initContainers", opts, restart_policy, host_users))
    ecs = spec.get("ephemeralContainers")
    if ecs:
        errs.extend(_ephemeral_containers(ecs, containers, inits or [], vols, claim_names,
                                          path + ".ephemeralContainers", opts, restart_policy,
                                          host_users))
    if spec.get("hostNetwork"):
        for i, c in enumerate(containers):
            for j, port in enumerate(c.get("ports") or ()):
                hp, cp = port.get("hostPort", 0), port.get("containerPort", 0)
                if (opts.resource_is_pod or hp != 0) and hp != cp:
                    errs.append(FieldError.invalid(f"{path}.containers[{i}].ports[{j}].hostPort",
                                                   hp, "must match `containerPort` when "
                                                       "`hostNetwork` is true"))
    if restart_policy not in _RESTART_POLICIES:
        errs.append(FieldError.required(path + ".restartPolicy", "") if not restart_policy else
                    FieldError.not_supported(path + ".restartPolicy", restart_policy,
                                             _RESTART_POLICIES))
    dns_policy = spec.get("dnsPolicy", "")
    if dns_policy not in _DNS_POLICIES:
        errs.append(FieldError.required(path + ".dnsPolicy", "") if not dns_policy else
                    FieldError.not_supported(path + ".dnsPolicy", dns_policy, _DNS_POLICIES))
    node_selector = spec.get("nodeSelector")
    if node_selector:
        errs.extend(validate_labels(node_selector, path + ".nodeSelector"))
    sc = spec.get("securityContext")
    if sc or spec.get("shareProcessNamespace"):
        errs.extend(_pod_security_context(spec, sc or {}, path + ".securityContext"))
    affinity = spec.get("affinity")
    if affinity:
        errs.extend(_affinity(affinity, path + ".affinity"))
    dns_config = spec.get("dnsConfig")
    if dns_config is not None or dns_policy == "None":
        errs.extend(_dns_config(dns_config, dns_policy, path + ".dnsConfig"))
    for i, gate in enumerate(spec.get("readinessGates") or ()):
        errs.extend(_qualified_name_errors(gate.get("conditionType", ""),
                                           f"{path}.readinessGates[{i}].conditionType"))
    sgates = spec.get("schedulingGates")
    if sgates:
        seen: set = set()
        for i, g in enumerate(sgates):
            name = g.get("name", "")
            errs.extend(_qualified_name_errors(name, f"{path}.schedulingGates[{i}]"))
            if name in seen:
                errs.append(FieldError.duplicate(f"{path}.schedulingGates[{i}]", name))
            seen.add(name)
    tsc = spec.get("topologySpreadConstraints")
    if tsc:
        errs.extend(_topology_spread(tsc, path + ".topologySpreadConstraints"))
    if spec.get("hostUsers") is False:
        for key, shown in (("hostNetwork", "hostNetwork"), ("hostPID", "HostPID"),
                           ("hostIPC", "HostIPC")):
            if spec.get(key):
                errs.append(FieldError.forbidden(f"{path}.{shown}",
                                                 "when `pod.Spec.HostUsers` is false"))
    sa = spec.get("serviceAccountName")
    if sa:
        errs.extend(_name_errors(name_is_dns1123_subdomain, sa, path + ".serviceAccountName"))
    node_name = spec.get("nodeName")
    if node_name:
        errs.extend(_name_errors(name_is_dns1123_subdomain, node_name, path + ".nodeName"))
    ads = spec.get("activeDeadlineSeconds")
    if ads is not None and (ads < 1 or ads > _MAX_INT32):
        errs.append(FieldError.invalid(path + ".activeDeadlineSeconds", ads,
                                       names.inclusive_range_error(1, _MAX_INT32)))
    for key in ("hostname", "subdomain"):
        v = spec.get(key)
        if v:
            errs.extend(_dns1123_label_errors(v, f"{path}.{key}"))
    tolerations = spec.get("tolerations")
    if tolerations:
        errs.extend(validate_tolerations(tolerations, path + ".tolerations"))
    for i, alias in enumerate(spec.get("hostAliases") or ()):
        ap = f"{path}.hostAliases[{i}]"
        errs.extend(_ip_errors(alias.get("ip", ""), ap + ".ip"))
        for j, hostname in enumerate(alias.get("hostnames") or ()):
            errs.extend(_dns1123_subdomain_errors(hostname, f"{ap}.hostnames[{j}]"))
    pcn = spec.get("priorityClassName")
    if pcn:
        errs.extend(_name_errors(name_is_dns1123_subdomain, pcn, path + ".priorityClassName"))
    rcn = spec.get("runtimeClassName")
    if rcn is not None:
        errs.extend(_name_errors(name_is_dns1123_subdomain, rcn, path + ".runtimeClassName"))
    pp = spec.get("preemptionPolicy")
    if pp is not None and pp not in ("PreemptLowerPriority", "Never"):
        errs.append(FieldError.required(path + ".preemptionPolicy", "") if not pp else
                    FieldError.not_supported(path + ".preemptionPolicy", pp,
                                             ("PreemptLowerPriority", "Never")))
    overhead = spec.get("overhead")
    if overhead:
        errs.extend(_validate_resource_requirements({"limits": overhead}, set(),
                                                    path + ".overhead"))
    os_ = spec.get("os")
    if os_ is not None:
        errs.extend(_os(spec, os_, path))
    return errs


# --------------------------------------------------------------------------------------------
# Pod annotations that validation reads

_MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
_SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/"
_APPARMOR_CONTAINER = "container.apparmor.security.beta.kubernetes.io/"


def _valid_deletion_cost(value: str) -> bool:
    """``GetDeletionCostFromPodAnnotations``: a 32-bit integer without ``+`` or leading 0."""
    if not value or not (value[0] == "-" or value == "0" or "1" <= value[0] <= "9"):
        return False
    body = value[1:] if value[0] == "-" else value
    if not body.isascii() or not body.isdigit():
        return False
    return -2**31 <= int(value) <= _MAX_INT32


def _seccomp_annotation_value(p: str, path: str) -> list[FieldError]:
    """``ValidateSeccompProfile`` of a deprecated annotation."""
    if p in ("runtime/default", "docker/default", "unconfined"):
        return _NO_ERRORS
    if p.startswith("localhost/"):
        return _local_descending_path(p[len("localhost/"):], path)
    return [FieldError.invalid(path, p, "must be a valid seccomp profile")]


def _container_names(spec: dict) -> set:
    return {c.get("name", "") for key in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(key) or ()}


def _pod_specific_annotations(ann: dict, spec: dict, path: str,
                              opts: _Opts) -> list[FieldError]:
    """``ValidatePodSpecificAnnotations`` (the deprecated tolerations annotation is not
    checked)."""
    errs: list[FieldError] = []
    if _MIRROR_ANNOTATION in ann and not spec.get("nodeName"):
        errs.append(FieldError.invalid(f"{path}[{_MIRROR_ANNOTATION}]", ann[_MIRROR_ANNOTATION],
                                       "must set spec.nodeName if mirror pod annotation is set"))
    if not opts.allow_invalid_pod_deletion_cost and _DELETION_COST in ann:
        if not _valid_deletion_cost(ann[_DELETION_COST]):
            errs.append(FieldError.invalid(f"{path}[{_DELETION_COST}]", ann[_DELETION_COST],
                                           "must be a 32bit integer"))
    if _SECCOMP_POD in ann:
        errs.extend(_seccomp_annotation_value(ann[_SECCOMP_POD], f"{path}.{_SECCOMP_POD}"))
    containers = None
    for k, v in ann.items():
        if k.startswith(_SECCOMP_CONTAINER):
            errs.extend(_seccomp_annotation_value(v, f"{path}.{k}"))
        elif k.startswith(_APPARMOR_CONTAINER):
            if containers is None:
                containers = _container_names(spec)
            cname = k[len(_APPARMOR_CONTAINER):]
            if cname not in containers:
                errs.append(FieldError.invalid(f"{path}[{k}]", cname, "container not found"))
            if v and v not in ("runtime/default", "unconfined") and not v.startswith(
                    "localhost/"):
                errs.append(FieldError.invalid(f"{path}[{k}]", v,
                                               f"invalid AppArmor profile name: {json.dumps(v)}"))
    return errs


def _seccomp_match(annotation: str, field: dict, path: str) -> list[FieldError]:
    """``validateSeccompAnnotationsAndFieldsMatch``."""
    t = field.get("type")
    if t == "Unconfined":
        if annotation != "unconfined":
            return [FieldError.forbidden(path + ".type", "seccomp type in annotation and field "
                                                         "must match")]
    elif t == "RuntimeDefault":
        if annotation not in ("runtime/default", "docker/default"):
            return [FieldError.forbidden(path + ".type", "seccomp type in annotation and field "
                                                         "must match")]
    elif t == "Localhost":
        if not annotation.startswith("localhost/"):
            return [FieldError.forbidden(path + ".type", "seccomp type in annotation and field "
                                                         "must match")]
        if annotation[len("localhost/"):] != field.get("localhostProfile"):
            return [FieldError.forbidden(path + ".localhostProfile", "seccomp profile in "
                                                                     "annotation and field "
                                                                     "must match")]
    return _NO_ERRORS


def _annotation_field_consistency(ann: dict | None, spec: dict, path: str) -> list[FieldError]:
    """``validateSeccompAnnotationsAndFields`` and
    ``validateAppArmorAnnotationsAndFieldsMatchOnCreate``."""
    if not ann:
        return _NO_ERRORS
    errs: list[FieldError] = []
    sc = spec.get("securityContext") or {}
    pod_seccomp = sc.get("seccompProfile")
    if pod_seccomp is not None and _SECCOMP_POD in ann:
        errs.extend(_seccomp_match(ann[_SECCOMP_POD], pod_seccomp,
                                   path + ".securityContext.seccompProfile"))
    windows = (spec.get("os") or {}).get("name") == "windows"
    pod_apparmor = sc.get("appArmorProfile")
    for c, cp in _all_containers(spec, path):
        csc = c.get("securityContext") or {}
        field = csc.get("seccompProfile")
        key = _SECCOMP_CONTAINER + c.get("name", "")
        if field is not None and key in ann:
            errs.extend(_seccomp_match(ann[key], field, cp + ".securityContext.seccompProfile"))
        if windows:
            continue
        profile = csc.get("appArmorProfile") or pod_apparmor
        key = _APPARMOR_CONTAINER + c.get("name", "")
        if profile is None or key not in ann:
            continue
        annotation = ann[key]
        ap = cp + ".securityContext.appArmorProfile"
        t = profile.get("type")
        if ((t == "Unconfined" and annotation != "unconfined")
                or (t == "RuntimeDefault" and annotation != "runtime/default")
                or (t == "Localhost" and not annotation.startswith("localhost/"))):
            errs.append(FieldError.forbidden(ap + ".type", "apparmor type in annotation and "
                                                           "field must match"))
        elif t == "Localhost" and annotation[len("localhost/"):] != profile.get(
                "localhostProfile"):
            errs.append(FieldError.forbidden(ap + ".localhostProfile", "apparmor profile in "
                                                                       "annotation and field "
                                                                       "must match"))
    return errs


# --------------------------------------------------------------------------------------------
# Fast screens for the pod validators
#
# Nearly every write of a pod (or of a workload's pod template) is valid and uses a small,
# common subset of the pod spec. Each ``*_ok`` function below answers True only when the
# matching validator would report nothing, in a few dict lookups and without allocating; it
# answers False for anything wrong, unusual or merely not handled here (affinity, probes,
# projected volumes, ...), and the caller then runs the full validator, which stays the only
# source of error lists, messages and their order. A screen may raise on a value of the wrong
# type; :func:`_screen` turns that into False so that the full validator reports (or raises)
# exactly what it would have. String checks go through the memo sets of ``names``.

_KNOWN_LABELS = names.KNOWN_DNS1123_LABELS
_KNOWN_SUBDOMAINS = names.KNOWN_DNS1123_SUBDOMAINS
_KNOWN_QNAMES = names.KNOWN_QUALIFIED_NAMES
_KNOWN_LABEL_VALUES = names.KNOWN_LABEL_VALUES
_KNOWN_PORT_NAMES = names.KNOWN_PORT_NAMES
_KNOWN_ENV_NAMES = names.KNOWN_ENV_VAR_NAMES
_is_dns1123_label = names.is_dns1123_label
_is_dns1123_subdomain = names.is_dns1123_subdomain

# Pod spec fields whose presence sends a spec to the full validator (rules not screened).
_SPEC_FIELDS_NOT_SCREENED = frozenset((
    "resourceClaims", "ephemeralContainers", "affinity", "dnsConfig", "readinessGates",
    "schedulingGates", "topologySpreadConstraints", "hostAliases", "overhead", "os",
))
# Container fields likewise (probes, hooks, devices, ...).
_CONTAINER_FIELDS_NOT_SCREENED = frozenset((
    "lifecycle", "livenessProbe", "readinessProbe", "startupProbe", "envFrom",
    "volumeDevices", "resizePolicy", "restartPolicy",
))
_TERMINATION_MESSAGE_POLICY_SET = frozenset(_TERMINATION_MESSAGE_POLICIES)
_PULL_POLICY_SET = frozenset(_PULL_POLICIES)
_RESTART_POLICY_SET = frozenset(_RESTART_POLICIES)
_SCREENED_DNS_POLICIES = frozenset(("ClusterFirstWithHostNet", "ClusterFirst", "Default"))
_TAINT_EFFECT_SET = frozenset(_TAINT_EFFECTS)
_PREEMPTION_POLICIES = frozenset(("PreemptLowerPriority", "Never"))
_SCREENED_SECCOMP_TYPES = frozenset(("RuntimeDefault", "Unconfined"))
_FS_GROUP_CHANGE_POLICIES = frozenset(("Always", "OnRootMismatch"))
_SUPPLEMENTAL_GROUPS_POLICIES = frozenset(("Merge", "Strict"))
_MAX_ID = 2**31 - 1


def _screen(ok, *args) -> bool:
    """``ok(*args)``, with an exception (a value of an unexpected type) meaning "not
    screened": the full validator then reports or raises as it always did."""
    try:
        return ok(*args)
    except Exception:  # noqa: BLE001 - deliberately broad, see above
        return False


def _label_ok(value: str) -> bool:
    return value in _KNOWN_LABELS or not _is_dns1123_label(value)


def _subdomain_ok(value: str) -> bool:
    return value in _KNOWN_SUBDOMAINS or not _is_dns1123_subdomain(value)


def _relative_path_ok(target: str) -> bool:
    """``validateLocalNonReservedPath`` (and so ``validateLocalDescendingPath``) is silent."""
    return not target.startswith("/") and not target.startswith("..") and (
        ".." not in target or ".." not in target.split("/"))


def _key_to_paths_ok(items: list) -> bool:
    for kp in items:
        if not kp.get("key") or not kp.get("path") or not _relative_path_ok(kp["path"]):
            return False
        mode = kp.get("mode")
        if mode is not None and not 0 <= mode <= 0o777:
            return False
    return True


def _volumes_ok(volumes: list, vols: dict) -> bool:
    """``ValidateVolumes`` is silent; ``vols`` gets every volume by name. Screened sources:
    emptyDir, configMap, secret, persistentVolumeClaim and hostPath."""
    for v in volumes:
        name = v.get("name", "")
        if not name or name in vols or not _label_ok(name):
            return False
        vols[name] = v
        found = False
        for key, s in v.items():
            if key == "name":
                continue
            if key not in _VOLUME_SOURCE_INDEX:
                continue  # not a source: the validator does not look at it
            if found or s is None:
                return False
            found = True
            if key == "emptyDir":
                limit = s.get("sizeLimit")
                if limit is not None and is_negative(limit):
                    return False
            elif key == "configMap" or key == "secret":
                if not s.get("name" if key == "configMap" else "secretName"):
                    return False
                mode = s.get("defaultMode")
                if mode is not None and not 0 <= mode <= 0o777:
                    return False
                items = s.get("items")
                if items and not _key_to_paths_ok(items):
                    return False
            elif key == "persistentVolumeClaim":
                if not s.get("claimName"):
                    return False
            elif key == "hostPath":
                target = s.get("path", "")
                if not target or (".." in target and ".." in target.split("/")):
                    return False
                t = s.get("type")
                if t is not None and t not in _HOST_PATH_TYPE_SET:
                    return False
            else:
                return False
        if not found:
            return False
    return True


def _seccomp_ok(sp: dict | None) -> bool:
    return sp is None or (sp.get("type") in _SCREENED_SECCOMP_TYPES
                          and sp.get("localhostProfile") is None)


def _container_security_context_ok(sc: dict) -> bool:
    """``ValidateSecurityContext`` is silent (the common fields only)."""
    for key in ("runAsUser", "runAsGroup"):
        v = sc.get(key)
        if v is not None and not 0 <= v <= _MAX_ID:
            return False
    if sc.get("procMount") is not None or sc.get("appArmorProfile") is not None:
        return False
    if sc.get("allowPrivilegeEscalation") is False and (
            sc.get("privileged") is True or sc.get("capabilities")):
        return False
    return _seccomp_ok(sc.get("seccompProfile"))


def _pod_security_context_ok(sc: dict) -> bool:
    """``validatePodSpecSecurityContext`` is silent (without sysctls or AppArmor)."""
    for key in ("fsGroup", "runAsUser", "runAsGroup"):
        v = sc.get(key)
        if v is not None and not 0 <= v <= _MAX_ID:
            return False
    for gid in sc.get("supplementalGroups") or ():
        if not 0 <= gid <= _MAX_ID:
            return False
    if sc.get("sysctls") or sc.get("appArmorProfile") is not None:
        return False
    policy = sc.get("fsGroupChangePolicy")
    if policy is not None and policy not in _FS_GROUP_CHANGE_POLICIES:
        return False
    policy = sc.get("supplementalGroupsPolicy")
    if policy is not None and policy not in _SUPPLEMENTAL_GROUPS_POLICIES:
        return False
    return _seccomp_ok(sc.get("seccompProfile"))


def _env_source_ok(vf: dict) -> bool:
    """``validateEnvVarValueFrom`` is silent for a lone fieldRef, configMapKeyRef or
    secretKeyRef (the caller has checked there is exactly one field and no ``value``)."""
    fr = vf.get("fieldRef")
    if fr is not None:
        return fr.get("apiVersion") == "v1" and fr.get("fieldPath") in _ENV_FIELD_PATHS
    ref = vf.get("configMapKeyRef") or vf.get("secretKeyRef")
    if not ref:
        return False
    name, key = ref.get("name", ""), ref.get("key", "")
    return bool(key) and _subdomain_ok(name) and not names.is_config_map_key(key)


def _resources_ok(res: dict) -> bool:
    """``ValidateContainerResourceRequirements`` is silent for cpu, memory and
    ephemeral-storage amounts (extended resources, hugepages and claims are not screened)."""
    limits = res.get("limits")
    requests = res.get("requests")
    if res.get("claims"):
        return False
    if limits:
        for name, q in limits.items():
            if name not in _STANDARD_CONTAINER_RESOURCES or q[:1] == "-":
                return False
    if requests:
        for name, q in requests.items():
            if name not in _STANDARD_CONTAINER_RESOURCES or q[:1] == "-":
                return False
            if limits:
                limit = limits.get(name)
                if limit is not None and q != limit and q_compare(q, limit) > 0:
                    return False
    return True


_PLAIN_PORT_FIELDS = frozenset(("name", "containerPort", "protocol"))
_PLAIN_MOUNT_FIELDS = frozenset(("name", "mountPath", "readOnly"))


def _container_ok(c: dict, vols: dict) -> bool:
    """``validateContainerCommon`` is silent, the container sets none of the fields the
    screen leaves to the full validator, publishes no host port, and its image has no
    surrounding whitespace (a Pod's rule; the screen applies it to templates too)."""
    if not _CONTAINER_FIELDS_NOT_SCREENED.isdisjoint(c):
        return False
    name = c.get("name", "")
    image = c.get("image")
    if (not name or (name not in _KNOWN_LABELS and _is_dns1123_label(name))
            or not image or len(image.strip()) != len(image)
            or c.get("terminationMessagePolicy", "") not in _TERMINATION_MESSAGE_POLICY_SET
            or c.get("imagePullPolicy", "") not in _PULL_POLICY_SET):
        return False
    ports = c.get("ports")
    if ports:
        port_names = set()
        for port in ports:
            pname = port.get("name")
            if pname:
                if pname in port_names or (pname not in _KNOWN_PORT_NAMES
                                           and names.is_valid_port_name(pname)):
                    return False
                port_names.add(pname)
            if (not port.keys() <= _PLAIN_PORT_FIELDS and port.get("hostPort")) or (
                    not 1 <= port.get("containerPort", 0) <= 65535
                    or port.get("protocol", "") not in _PROTOCOL_SET):
                return False
    env = c.get("env")
    if env:
        for ev in env:
            ename = ev.get("name", "")
            if not ename or (ename not in _KNOWN_ENV_NAMES and names.is_env_var_name(ename)):
                return False
            if len(ev) > 2 or "valueFrom" in ev:
                vf = ev.get("valueFrom")
                if vf is not None and (len(vf) != 1 or ev.get("value")
                                       or not _env_source_ok(vf)):
                    return False
    mounts = c.get("volumeMounts")
    if mounts:
        mount_points = set()
        for mnt in mounts:
            mount_path = mnt.get("mountPath", "")
            if (mnt.get("name", "") not in vols or not mount_path
                    or mount_path in mount_points):
                return False
            mount_points.add(mount_path)
            if not mnt.keys() <= _PLAIN_MOUNT_FIELDS:
                sub_path = mnt.get("subPath")
                if sub_path and not _relative_path_ok(sub_path):
                    return False
                if (mnt.get("subPathExpr") or mnt.get("mountPropagation") is not None
                        or mnt.get("recursiveReadOnly") not in (None, "Disabled")):
                    return False
    res = c.get("resources")
    if res and not _resources_ok(res):
        return False
    sc = c.get("securityContext")
    return not sc or _container_security_context_ok(sc)


def _tolerations_ok(tolerations: list) -> bool:
    """``ValidateTolerations`` is silent."""
    for t in tolerations:
        key = t.get("key", "")
        op = t.get("operator", "")
        effect = t.get("effect", "")
        if key:
            if key not in _KNOWN_QNAMES and names.is_qualified_name(key):
                return False
        elif op != "Exists":
            return False
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            return False
        value = t.get("value", "")
        if op == "Exists":
            if value:
                return False
        elif op == "Equal" or op == "":
            if value not in _KNOWN_LABEL_VALUES and names.is_valid_label_value(value):
                return False
        else:
            return False
        if effect and effect not in _TAINT_EFFECT_SET:
            return False
    return True


def _containers_memo_key(containers: list) -> Any:
    """What a pod spec's containers are filed under in a :class:`ValueMemo`: the first
    one's image (None, not to be remembered, when that is not a string)."""
    first = containers[0] if containers else None
    image = first.get("image") if type(first) is dict else None
    return image if type(image) is str else None


# The (containers, init containers, volume names) :func:`_pod_containers_ok` passed: the
# pods of a workload, and its template, repeat them (a StatefulSet's pods differ in their
# volumes' claims, not in the volumes' names).
_SCREENED_CONTAINERS = ValueMemo()


def _pod_containers_ok(containers: list, inits: list | None, volumes: list | None) -> bool:
    """The containers' part of :func:`_pod_spec_ok`: the volumes, each container and init
    container (whose mounts name volumes), and their names unique. Screens are pure
    functions of the JSON values they read, so the containers' part of a passing spec is
    remembered by value, with the volume names they were checked against."""
    vols: dict = {}
    if volumes and not _volumes_ok(volumes, vols):
        return False
    key = _containers_memo_key(containers)
    parts = (containers, inits, tuple(vols))
    if key is not None and _SCREENED_CONTAINERS.get(key, parts, False):
        return True
    seen = set()
    for c in containers:
        if not _container_ok(c, vols):
            return False
        seen.add(c["name"])
    if len(seen) != len(containers):
        return False
    if inits:
        for c in inits:
            if not _container_ok(c, vols) or c["name"] in seen:
                return False
            seen.add(c["name"])
    if key is not None:
        _SCREENED_CONTAINERS.put(key, parts, True)
    return True


def _pod_spec_ok(spec: dict) -> bool:
    """``ValidatePodSpec`` is silent for ``spec`` (for a Pod or a template alike: the rules
    that differ between them are not screened), and so are a Pod's own checks of it: no
    image with surrounding whitespace, no ephemeral containers or scheduling gates, no
    service account token projection."""
    if not _SPEC_FIELDS_NOT_SCREENED.isdisjoint(spec):
        return False
    if (spec.get("terminationGracePeriodSeconds") is None
            or spec.get("restartPolicy", "") not in _RESTART_POLICY_SET
            or spec.get("dnsPolicy", "") not in _SCREENED_DNS_POLICIES
            or spec.get("hostNetwork") or spec.get("shareProcessNamespace")
            or spec.get("hostUsers") is False):
        return False
    containers = spec.get("containers")
    if not containers or not _pod_containers_ok(containers, spec.get("initContainers"),
                                                spec.get("volumes")):
        return False
    node_selector = spec.get("nodeSelector")
    if node_selector and not labels_ok(node_selector):
        return False
    sc = spec.get("securityContext")
    if sc and not _pod_security_context_ok(sc):
        return False
    for key in ("serviceAccountName", "nodeName", "priorityClassName"):
        v = spec.get(key)
        if v and not _subdomain_ok(v):
            return False
    rcn = spec.get("runtimeClassName")
    if rcn is not None and not _subdomain_ok(rcn):
        return False
    for key in ("hostname", "subdomain"):
        v = spec.get(key)
        if v and not _label_ok(v):
            return False
    ads = spec.get("activeDeadlineSeconds")
    if ads is not None and not 1 <= ads <= _MAX_INT32:
        return False
    pp = spec.get("preemptionPolicy")
    if pp is not None and pp not in _PREEMPTION_POLICIES:
        return False
    tolerations = spec.get("tolerations")
    return not tolerations or _tolerations_ok(tolerations)


_SPECIAL_POD_ANNOTATIONS = frozenset((_MIRROR_ANNOTATION, _DELETION_COST, _SECCOMP_POD))
_SPECIAL_POD_ANNOTATION_PREFIXES = (_SECCOMP_CONTAINER, _APPARMOR_CONTAINER)


def _plain_pod_annotations(ann: dict) -> bool:
    """No annotation that pod validation reads (mirror pod, deletion cost, seccomp,
    AppArmor): ``ValidatePodSpecificAnnotations`` and the annotation/field consistency
    checks are then silent."""
    for k in ann:
        if k in _SPECIAL_POD_ANNOTATIONS or k.startswith(_SPECIAL_POD_ANNOTATION_PREFIXES):
            return False
    return True


def _pod_template_ok(template: dict) -> bool:
    """:func:`validate_pod_template_spec` (with any gates) is silent for ``template``."""
    meta = template.get("metadata") or {}
    labels = meta.get("labels")
    if labels and not labels_ok(labels):
        return False
    ann = meta.get("annotations")
    if ann and not (annotations_ok(ann) and _plain_pod_annotations(ann)):
        return False
    return _pod_spec_ok(template.get("spec") or {})


def _pod_create_ok(pod: dict) -> bool:
    """``ValidatePodCreate`` (with any gates) is silent for ``pod``."""
    meta = pod.get("metadata") or {}
    ann = meta.get("annotations")
    return (object_meta_ok(meta, True, name_is_dns1123_subdomain)
            and (not ann or _plain_pod_annotations(ann))
            and _pod_spec_ok(pod.get("spec") or {}))


# --------------------------------------------------------------------------------------------
# Pod templates and pods


def validate_pod_template_spec(template: dict, path: str,
                               gates: Gates | None = None) -> list[FieldError]:
    """``ValidatePodTemplateSpec``: the template's labels and annotations (at
    ``<path>.labels`` / ``<path>.annotations``, as upstream reports them) and its spec as a
    pod spec. Workloads then add their own rules (e.g. restartPolicy Always)."""
    if _screen(_pod_template_ok, template):
        return []
    return _pod_template_spec_errors(template, path, gates)


def _pod_template_spec_errors(template: dict, path: str,
                              gates: Gates | None = None) -> list[FieldError]:
    """:func:`validate_pod_template_spec` without the fast screen."""
    opts = _Opts(gates)
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    errs: list[FieldError] = []
    labels = meta.get("labels")
    if labels:
        errs.extend(validate_labels(labels, path + ".labels"))
    ann = meta.get("annotations")
    if ann:
        errs.extend(validate_annotations(ann, path + ".annotations"))
        errs.extend(_pod_specific_annotations(ann, spec, path + ".annotations", opts))
    sp = path + ".spec"
    errs.extend(_validate_pod_spec(spec, sp, opts, ""))
    errs.extend(_annotation_field_consistency(ann, spec, sp))
    if spec.get("ephemeralContainers"):
        errs.append(FieldError.forbidden(sp + ".ephemeralContainers", "ephemeral containers not "
                                                                      "allowed in pod template"))
    return errs


def _pod_metadata_and_spec(pod: dict, opts: _Opts) -> list[FieldError]:
    """``validatePodMetadataAndSpec``."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    errs = validate_object_meta(meta, True, name_is_dns1123_subdomain)
    ann = meta.get("annotations")
    if ann:
        errs.extend(_pod_specific_annotations(ann, spec, "metadata.annotations", opts))
    errs.extend(_validate_pod_spec(spec, "spec", opts, meta.get("name", "")))
    if not spec.get("serviceAccountName"):
        for vi, vol in enumerate(spec.get("volumes") or ()):
            proj = vol.get("projected")
            if proj:
                for si, source in enumerate(proj.get("sources") or ()):
                    if source.get("serviceAccountToken") is not None:
                        errs.append(FieldError.forbidden(
                            f"spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken",
                            "must not be specified when serviceAccountName is not set"))
    for key in ("containers", "initContainers"):
        for i, c in enumerate(spec.get(key) or ()):
            image = c.get("image", "")
            if image and len(image) != len(image.strip()):
                errs.append(FieldError.invalid(f"spec.{key}[{i}].image", image,
                                               "must not have leading or trailing whitespace"))
    return errs


def _validate_pod(pod: dict, gates: Gates) -> list[FieldError]:
    """``ValidatePodCreate``."""
    if _screen(_pod_create_ok, pod):
        return []
    return _pod_create_errors(pod, gates)


def _pod_create_errors(pod: dict, gates: Gates) -> list[FieldError]:
    """:func:`_validate_pod` without the fast screen."""
    opts = _Opts(gates, resource_is_pod=True)
    errs = _pod_metadata_and_spec(pod, opts)
    spec = pod.get("spec") or {}
    if spec.get("ephemeralContainers"):
        errs.append(FieldError.forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if spec.get("nodeName") and spec.get("schedulingGates"):
        errs.append(FieldError.forbidden("spec.nodeName", "cannot be set until all "
                                                          "schedulingGates have been cleared"))
    errs.extend(_annotation_field_consistency(
        (pod.get("metadata") or {}).get("annotations"), spec, "spec"))
    return errs


POD_UPDATABLE_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
    "negative)",
)
POD_UPDATE_FORBIDDEN = ("pod updates may not change fields other than "
                        + ",".join(POD_UPDATABLE_FIELDS))
_POD_UPDATE_FORBIDDEN_RESIZE = ("pod updates may not change fields other than " + ",".join(
    (*POD_UPDATABLE_FIELDS, "`spec.containers[*].resources` (for CPU/memory only)")))


def _pod_annotation_updates(new: dict, old: dict, path: str) -> list[FieldError]:
    """The checks of ``ValidatePodSpecificAnnotationUpdates`` on changed annotations."""
    na = (new.get("metadata") or {}).get("annotations") or {}
    oa = (old.get("metadata") or {}).get("annotations") or {}
    if na == oa:
        return _NO_ERRORS
    errs: list[FieldError] = []
    for k, ov in oa.items():
        if na.get(k) == ov and k in na:
            continue
        if k.startswith(_APPARMOR_CONTAINER):
            errs.append(FieldError.forbidden(f"{path}[{k}]", "may not remove or update AppArmor "
                                                             "annotations"))
        if k == _MIRROR_ANNOTATION:
            errs.append(FieldError.forbidden(f"{path}[{k}]", "may not remove or update mirror "
                                                             "pod annotation"))
    for k in na:
        if k in oa:
            continue
        if k.startswith(_APPARMOR_CONTAINER):
            errs.append(FieldError.forbidden(f"{path}[{k}]", "may not add AppArmor annotations"))
        if k == _MIRROR_ANNOTATION:
            errs.append(FieldError.forbidden(f"{path}[{k}]", "may not add mirror pod annotation"))
    return errs


def _container_updates(new: list, old: list, path: str) -> tuple[list[FieldError], bool]:
    """``ValidateContainerUpdates``."""
    if len(new) != len(old):
        return [FieldError.forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for i, c in enumerate(new):
        image = c.get("image", "")
        if not image:
            errs.append(FieldError.required(f"{path}[{i}].image", ""))
        if len(image.strip()) != len(image):
            errs.append(FieldError.invalid(f"{path}[{i}].image", image,
                                           "must not have leading or trailing whitespace"))
    return errs, False


def _toleration_matches(old: dict, new: dict) -> bool:
    """Equal except for tolerationSeconds (``validateOnlyAddedTolerations``)."""
    keys = (old.keys() | new.keys()) - {"tolerationSeconds"}
    return all(old.get(k) == new.get(k) for k in keys)


def _json_diff(old: Any, new: Any, path: str, out: list[str]) -> None:
    """Path-by-path differences between two wire values, for the pod update message."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(old) + [k for k in new if k not in old]:
            if old.get(k, _MISSING) != new.get(k, _MISSING):
                _json_diff(old.get(k, _MISSING), new.get(k, _MISSING), f"{path}.{k}", out)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            if a != b:
                _json_diff(a, b, f"{path}[{i}]", out)
        return
    if old is not _MISSING:
        out.append(f"- \t{path}: {json.dumps(old, sort_keys=True)}")
    if new is not _MISSING:
        out.append(f"+ \t{path}: {json.dumps(new, sort_keys=True)}")


_MISSING = object()


def _spec_diff(old: dict, new: dict) -> str:
    lines: list[str] = ["  core.PodSpec{"]
    _json_diff(old, new, "spec", lines)
    lines.append("  }")
    return "\n".join(lines) + "\n"


def _pod_update_ok(new: dict, old: dict) -> bool:
    """``ValidatePodUpdate`` is silent: valid metadata and annotation changes, an unchanged
    spec that passes the pod screens (a changed spec is left to the full validator)."""
    meta = new.get("metadata") or {}
    old_meta = old.get("metadata") or {}
    spec = new.get("spec") or {}
    return (object_meta_update_ok(meta, old_meta)
            and object_meta_ok(meta, True, name_is_dns1123_subdomain)
            and _pod_annotation_updates_ok(meta, old_meta)
            and spec == (old.get("spec") or {})
            and _pod_spec_ok(spec))


def _validate_pod_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidatePodUpdate``."""
    if _screen(_pod_update_ok, new, old):
        return []
    return _pod_update_errors(new, old, gates)


def _pod_update_errors(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """:func:`_validate_pod_update` without the fast screen."""
    opts = _Opts(gates, resource_is_pod=True)
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    errs.extend(_pod_metadata_and_spec(new, opts))
    errs.extend(_pod_annotation_updates(new, old, "metadata.annotations"))
    na = (new.get("metadata") or {}).get("annotations")
    if na:
        errs.extend(_pod_specific_annotations(na, new.get("spec") or {}, "metadata.annotations",
                                              opts))
    ns = new.get("spec") or {}
    os_ = old.get("spec") or {}
    for key in ("containers", "initContainers"):
        cerrs, stop = _container_updates(ns.get(key) or [], os_.get(key) or [], f"spec.{key}")
        errs.extend(cerrs)
        if stop:
            return errs
    new_ads, old_ads = ns.get("activeDeadlineSeconds"), os_.get("activeDeadlineSeconds")
    if new_ads is not None:
        if new_ads < 0 or new_ads > _MAX_INT32:
            errs.append(FieldError.invalid("spec.activeDeadlineSeconds", new_ads,
                                           names.inclusive_range_error(0, _MAX_INT32)))
            return errs
        if old_ads is not None and old_ads < new_ads:
            errs.append(FieldError.invalid("spec.activeDeadlineSeconds", new_ads,
                                           "must be less than or equal to previous value"))
            return errs
    elif old_ads is not None:
        errs.append(FieldError.invalid("spec.activeDeadlineSeconds", None,
                                       "must not update from a positive integer to nil value"))
    new_tol, old_tol = ns.get("tolerations") or [], os_.get("tolerations") or []
    if new_tol != old_tol:
        for ot in old_tol:
            if not any(_toleration_matches(ot, nt) for nt in new_tol):
                errs.append(FieldError.forbidden("spec.tolerations", "existing toleration can "
                                                                     "not be modified except "
                                                                     "its tolerationSeconds"))
                break
        else:
            errs.extend(validate_tolerations(new_tol, "spec.tolerations"))
    else:
        errs.extend(validate_tolerations(new_tol, "spec.tolerations"))
    new_gates = ns.get("schedulingGates") or []
    if new_gates:
        old_names = {g.get("name") for g in os_.get("schedulingGates") or ()}
        added = {}
        for i, g in enumerate(new_gates):
            added[g.get("name", "")] = i
        for name, i in added.items():
            if name not in old_names:
                errs.append(FieldError.forbidden(f"spec.schedulingGates[{i}].name",
                                                 "only deletion is allowed, but found new "
                                                 f"scheduling gate '{name}'"))
    if ns == os_:
        return errs
    munged = dict(ns)
    in_place = opts.in_place_resize
    for key in ("containers", "initContainers"):
        cs = ns.get(key)
        if cs:
            olds = os_.get(key) or []
            mc = []
            for c, oc in zip(cs, olds):
                c = dict(c)
                if "image" in oc:
                    c["image"] = oc["image"]
                else:
                    c.pop("image", None)
                if in_place and key == "containers":
                    _munge_cpu_memory(c, oc)
                mc.append(c)
            munged[key] = mc
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        if key in os_:
            munged[key] = os_[key]
        else:
            munged.pop(key, None)
    old_grace = os_.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if os_.get("schedulingGates"):
        errs.extend(_gated_pod_mutations(munged, os_))
    if munged != os_:
        sentence = _POD_UPDATE_FORBIDDEN_RESIZE if in_place else POD_UPDATE_FORBIDDEN
        errs.append(FieldError.forbidden("spec", f"{sentence}\n{_spec_diff(os_, munged)}"))
    return errs


def _munge_cpu_memory(c: dict, oc: dict) -> None:
    """With InPlacePodVerticalScaling, cpu and memory requests/limits may change."""
    res = dict(c.get("resources") or {})
    ores = oc.get("resources") or {}
    for key in ("limits", "requests"):
        new_list = res.get(key)
        old_list = ores.get(key)
        if old_list is None and new_list is None:
            continue
        merged = {k: v for k, v in (new_list or {}).items() if k not in ("cpu", "memory")}
        for k in ("cpu", "memory"):
            if old_list and k in old_list:
                merged[k] = old_list[k]
        if merged or old_list is not None:
            res[key] = merged
        else:
            res.pop(key, None)
    if res:
        c["resources"] = res
    else:
        c.pop("resources", None)


def _gated_pod_mutations(munged: dict, old: dict) -> list[FieldError]:
    """For a pod with scheduling gates: nodeSelector and required node affinity may only gain
    entries (and are then treated as unchanged)."""
    errs: list[FieldError] = []
    new_sel, old_sel = munged.get("nodeSelector") or {}, old.get("nodeSelector") or {}
    if new_sel != old_sel:
        for k, v in old_sel.items():
            if new_sel.get(k) != v:
                errs.append(FieldError.invalid("spec.nodeSelector", new_sel,
                                               "only additions to spec.nodeSelector are allowed "
                                               "(no mutations or deletions)"))
                break
        if "nodeSelector" in old:
            munged["nodeSelector"] = old["nodeSelector"]
        else:
            munged.pop("nodeSelector", None)
    old_na = (old.get("affinity") or {}).get("nodeAffinity")
    new_na = (munged.get("affinity") or {}).get("nodeAffinity")
    if old_na != new_na:
        old_terms = ((old_na or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
                     or {}).get("nodeSelectorTerms") or []
        new_terms = ((new_na or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
                     or {}).get("nodeSelectorTerms") or []
        tp = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution" \
             ".nodeSelectorTerms"
        if old_terms and len(old_terms) != len(new_terms):
            errs.append(FieldError.invalid(tp, new_terms, "no additions/deletions to non-empty "
                                                          "NodeSelectorTerms list are allowed"))
        elif old_terms:
            for i, (ot, nt) in enumerate(zip(old_terms, new_terms)):
                if not _only_additions(nt, ot):
                    errs.append(FieldError.invalid(f"{tp}[{i}]", nt, "only additions are allowed "
                                                                     "(no mutations or "
                                                                     "deletions)"))
        affinity = dict(munged.get("affinity") or {})
        if old_na is None:
            affinity.pop("nodeAffinity", None)
        else:
            affinity["nodeAffinity"] = old_na
        if affinity or "affinity" in old:
            munged["affinity"] = affinity
        else:
            munged.pop("affinity", None)
    return errs


def _only_additions(new: dict, old: dict) -> bool:
    """``validateNodeSelectorTermHasOnlyAdditions``."""
    oe, of = old.get("matchExpressions") or [], old.get("matchFields") or []
    ne, nf = new.get("matchExpressions") or [], new.get("matchFields") or []
    if not oe and not of and (ne or nf):
        return False
    return ne[:len(oe)] == oe and nf[:len(of)] == of


_SYSTEM_POD_CONDITIONS = frozenset(("PodScheduled", "Ready", "Initialized"))


def _state_transitions(new: list, old: list, path: str, restart_policy: str,
                       inits: list | None = None) -> list[FieldError]:
    """``ValidateContainerStateTransition`` / ``ValidateInitContainerStateTransition``."""
    if restart_policy == "Always" or not old:
        return _NO_ERRORS
    errs: list[FieldError] = []
    for i, os_ in enumerate(old):
        term = (os_.get("state") or {}).get("terminated")
        if term is None:
            continue
        if term.get("exitCode", 0) != 0 and restart_policy == "OnFailure":
            continue
        if inits is not None and any(c.get("name") == os_.get("name")
                                     and c.get("restartPolicy") == "Always" for c in inits):
            continue
        for ns in new:
            if ns.get("name") == os_.get("name") and (ns.get("state") or {}).get(
                    "terminated") is None:
                errs.append(FieldError.forbidden(f"{path}[{i}].state", "may not be transitioned "
                                                                       "to non-terminated state"))
    return errs


def _ip_list(status: dict, key: str, path: str) -> list[FieldError]:
    """The checks of ``validatePodIPs`` / ``validateHostIPs``."""
    ips = status.get(key) or []
    errs: list[FieldError] = []
    for i, entry in enumerate(ips):
        errs.extend(_ip_errors(entry.get("ip", ""), f"{path}[{i}]"))
    if len(ips) > 1:
        values = [e.get("ip", "") for e in ips]
        v4 = sum(1 for v in values if not names.is_valid_ipv4(v))
        v6 = sum(1 for v in values if not names.is_valid_ipv6(v))
        if not (v4 >= 1 and v6 >= 1) or len(values) > 2:
            errs.append(FieldError.invalid(path, ips, "may specify no more than one IP for each "
                                                      "IP family"))
        seen: set = set()
        for i, entry in enumerate(ips):
            if entry.get("ip") in seen:
                errs.append(FieldError.duplicate(f"{path}[{i}]", entry))
            seen.add(entry.get("ip"))
    return errs


def prepare_pod_status_update(new: dict, old: dict) -> None:
    """The particular part of ``podStatusStrategy.PrepareForUpdate``: owner references cannot
    be changed through pods/status, and an empty qosClass is backfilled from the stored pod.
    (The generic part, keeping the old spec, is the API layer's.)"""
    refs = (old.get("metadata") or {}).get("ownerReferences")
    meta = new.setdefault("metadata", {})
    if refs is None:
        meta.pop("ownerReferences", None)
    else:
        meta["ownerReferences"] = refs
    status = new.get("status")
    old_qos = (old.get("status") or {}).get("qosClass")
    if old_qos and (status is None or not status.get("qosClass")):
        if status is None:
            status = new["status"] = {}
        status["qosClass"] = old_qos


def _pod_annotation_updates_ok(new_meta: dict, old_meta: dict) -> bool:
    """The pod's annotations need no checks beyond ObjectMeta's: none that pod validation
    reads, before or after (so :func:`_pod_annotation_updates` and
    ``ValidatePodSpecificAnnotations`` are silent)."""
    na = new_meta.get("annotations")
    if na and not _plain_pod_annotations(na):
        return False
    oa = old_meta.get("annotations")
    return not oa or oa is na or _plain_pod_annotations(oa)


def _pod_ips_ok(status: dict, key: str) -> bool:
    """:func:`_ip_list` is silent for one valid address (more are left to it)."""
    ips = status.get(key)
    return not ips or (len(ips) == 1 and names.ip_family(ips[0].get("ip", "")) != 0)


def _pod_status_update_ok(new: dict, old: dict) -> bool:
    """``ValidatePodStatusUpdate`` is silent (after :func:`prepare_pod_status_update`)."""
    meta = new.get("metadata") or {}
    old_meta = old.get("metadata") or {}
    if not object_meta_update_ok(meta, old_meta) or not _pod_annotation_updates_ok(meta,
                                                                                  old_meta):
        return False
    spec = new.get("spec") or {}
    old_spec = old.get("spec") or {}
    if spec.get("nodeName") != old_spec.get("nodeName"):
        return False
    status = new.get("status") or {}
    old_status = old.get("status") or {}
    for cond in status.get("conditions") or ():
        t = cond.get("type", "")
        if (t not in _SYSTEM_POD_CONDITIONS and t not in _KNOWN_QNAMES
                and names.is_qualified_name(t)):
            return False
    nominated = status.get("nominatedNodeName", "")
    if (nominated and nominated != old_status.get("nominatedNodeName", "")
            and not _subdomain_ok(nominated)):
        return False
    if status.get("qosClass", "") != old_status.get("qosClass", ""):
        return False
    if old_spec.get("restartPolicy", "") != "Always" and (
            old_status.get("containerStatuses") or old_status.get("initContainerStatuses")):
        return False
    if old_status.get("ephemeralContainerStatuses"):
        return False
    host_ips = status.get("hostIPs")
    if host_ips and status.get("hostIP", "") != host_ips[0].get("ip", ""):
        return False
    return _pod_ips_ok(status, "podIPs") and _pod_ips_ok(status, "hostIPs")


def _validate_pod_status_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidatePodStatusUpdate`` (after :func:`prepare_pod_status_update`, which this runs
    first since the Strategy contract has no status-specific prepare hook)."""
    prepare_pod_status_update(new, old)
    if _screen(_pod_status_update_ok, new, old):
        return []
    return _pod_status_update_errors(new, old, gates)


def _pod_status_update_errors(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """:func:`_validate_pod_status_update` after the prepare step, without the fast
    screen."""
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    errs.extend(_pod_annotation_updates(new, old, "metadata.annotations"))
    na = (new.get("metadata") or {}).get("annotations")
    opts = _Opts(gates, resource_is_pod=True)
    if na:
        errs.extend(_pod_specific_annotations(na, new.get("spec") or {}, "metadata.annotations",
                                              opts))
    status = new.get("status") or {}
    old_status = old.get("status") or {}
    for i, cond in enumerate(status.get("conditions") or ()):
        t = cond.get("type", "")
        if t not in _SYSTEM_POD_CONDITIONS:
            errs.extend(_qualified_name_errors(t, f"metadata.conditions[{i}].Type"))
    if (new.get("spec") or {}).get("nodeName") != (old.get("spec") or {}).get("nodeName"):
        errs.append(FieldError.forbidden("status.nodeName", "may not be changed directly"))
    nominated = status.get("nominatedNodeName", "")
    if nominated and nominated != old_status.get("nominatedNodeName", ""):
        errs.extend(_name_errors(name_is_dns1123_subdomain, nominated,
                                 "status.nominatedNodeName"))
    errs.extend(validate_immutable_field(status.get("qosClass", ""),
                                         old_status.get("qosClass", ""), "status.qosClass"))
    old_spec = old.get("spec") or {}
    rp = old_spec.get("restartPolicy", "")
    errs.extend(_state_transitions(status.get("containerStatuses") or [],
                                   old_status.get("containerStatuses") or [],
                                   "status.containerStatuses", rp))
    errs.extend(_state_transitions(status.get("initContainerStatuses") or [],
                                   old_status.get("initContainerStatuses") or [],
                                   "status.initContainerStatuses", rp,
                                   old_spec.get("initContainers") or []))
    errs.extend(_state_transitions(status.get("ephemeralContainerStatuses") or [],
                                   old_status.get("ephemeralContainerStatuses") or [],
                                   "status.ephemeralContainerStatuses", "Never"))
    if status.get("podIPs"):
        errs.extend(_ip_list(status, "podIPs", "status.podIPs"))
    host_ips = status.get("hostIPs")
    if host_ips:
        if status.get("hostIP", "") != host_ips[0].get("ip", ""):
            errs.append(FieldError.invalid("status.hostIPs[0].ip", host_ips[0].get("ip", ""),
                                           "must be equal to `hostIP`"))
        errs.extend(_ip_list(status, "hostIPs", "status.hostIPs"))
    return errs


def _drop_disabled_pod_fields(spec: dict, old_spec: dict | None, gates: Gates) -> None:
    """``podutil.DropDisabledPodFields``, for the gates whose fields users meet: fields of a
    disabled feature are dropped unless the old object already used them. (Each gate is
    looked up only when the spec could use its field.)"""
    containers = spec.get("containers") or ()
    inits = spec.get("initContainers") or ()
    old = old_spec or {}
    for c in containers:
        if "resizePolicy" in c:
            if not _gate(gates, "InPlacePodVerticalScaling") and not any(
                    oc.get("resizePolicy") for oc in old.get("containers") or ()):
                for c2 in containers:
                    c2.pop("resizePolicy", None)
            break
    if inits and not _gate(gates, "SidecarContainers"):
        if not any(c.get("restartPolicy") for c in old.get("initContainers") or ()):
            for c in inits:
                c.pop("restartPolicy", None)
    if not _gate(gates, "PodLifecycleSleepAction") and _uses_sleep(spec) and not _uses_sleep(old):
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for c in spec.get(key) or ():
                lc = c.get("lifecycle") or {}
                for hook in (lc.get("postStart"), lc.get("preStop")):
                    if hook:
                        hook.pop("sleep", None)
    vols = spec.get("volumes")
    if vols:
        for v in vols:
            if "image" in v:
                if not _gate(gates, "ImageVolume") and not any(
                        "image" in ov for ov in old.get("volumes") or ()):
                    spec["volumes"] = [v for v in vols if "image" not in v]
                break
    if "resources" in spec and not _gate(gates, "PodLevelResources") and "resources" not in old:
        del spec["resources"]
    if not old.get("resourceClaims") and not _gate(gates, "DynamicResourceAllocation"):
        spec.pop("resourceClaims", None)
        for group in (containers, inits):
            for c in group:
                res = c.get("resources")
                if res and "claims" in res:
                    del res["claims"]


def _uses_sleep(spec: dict) -> bool:
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or ():
            lc = c.get("lifecycle") or {}
            for hook in (lc.get("postStart"), lc.get("preStop")):
                if hook and "sleep" in hook:
                    return True
    return False


def _apply_label_keys(selector: dict, keys: list, op: str, labels: dict) -> None:
    exprs = selector.get("matchExpressions")
    for key in keys:
        if key in labels:
            if exprs is None:
                exprs = selector["matchExpressions"] = []
            exprs.append({"key": key, "operator": op, "values": [labels[key]]})


def _pod_affinity_terms(affinity: dict) -> list[dict]:
    """The pod affinity and anti-affinity terms of an affinity, each kind's preferred terms
    then its required ones."""
    terms: list[dict] = []
    for key in ("podAffinity", "podAntiAffinity"):
        a = affinity.get(key)
        if not a:
            continue
        terms += [wt.get("podAffinityTerm") or {}
                  for wt in a.get("preferredDuringSchedulingIgnoredDuringExecution") or ()]
        terms += a.get("requiredDuringSchedulingIgnoredDuringExecution") or ()
    return terms


def affinity_uses_label_keys(spec: dict) -> bool:
    """Whether ``mutatePodAffinity`` would merge the pod's labels into this spec's affinity
    (a term names matchLabelKeys or mismatchLabelKeys)."""
    affinity = spec.get("affinity")
    return bool(affinity) and any(term.get("matchLabelKeys") or term.get("mismatchLabelKeys")
                                  for term in _pod_affinity_terms(affinity))


def _mutate_pod_affinity(pod: dict) -> None:
    """``mutatePodAffinity``: matchLabelKeys / mismatchLabelKeys become In / NotIn
    requirements on the pod's own label values."""
    affinity = (pod.get("spec") or {}).get("affinity")
    if not affinity:
        return
    labels = (pod.get("metadata") or {}).get("labels") or {}
    for term in _pod_affinity_terms(affinity):
        selector = term.get("labelSelector")
        if selector is None or not (term.get("matchLabelKeys")
                                    or term.get("mismatchLabelKeys")):
            continue
        _apply_label_keys(selector, term.get("matchLabelKeys") or [], "In", labels)
        _apply_label_keys(selector, term.get("mismatchLabelKeys") or [], "NotIn", labels)


def _apparmor_field_for_annotation(value: str) -> dict | None:
    if value == "runtime/default":
        return {"type": "RuntimeDefault"}
    if value == "unconfined":
        return {"type": "Unconfined"}
    if value.startswith("localhost/"):
        profile = value[len("localhost/"):]
        if profile and profile.strip() == profile:
            return {"type": "Localhost", "localhostProfile": profile}
    return None


def _apparmor_version_skew(pod: dict) -> None:
    """``applyAppArmorVersionSkew``: a deprecated per-container AppArmor annotation becomes
    the container's ``appArmorProfile`` field when the field is unset."""
    spec = pod.get("spec") or {}
    ann = (pod.get("metadata") or {}).get("annotations")
    if not ann or (spec.get("os") or {}).get("name") == "windows":
        return
    pod_profile = (spec.get("securityContext") or {}).get("appArmorProfile")
    if type(ann) is dict:
        for k in ann:
            if k.startswith(_APPARMOR_CONTAINER):
                break
        else:
            return  # no container can have an AppArmor annotation
    for c, _ in _all_containers(spec, "spec"):
        value = ann.get(_APPARMOR_CONTAINER + c.get("name", ""))
        if value is None or (c.get("securityContext") or {}).get("appArmorProfile") is not None:
            continue
        field = _apparmor_field_for_annotation(value)
        if field is not None and field != pod_profile:
            c.setdefault("securityContext", {})["appArmorProfile"] = field


def _prepare_pod_create(pod: dict, gates: Gates) -> None:
    """``podStrategy.PrepareForCreate``: status is ``{phase: Pending, qosClass}`` and nothing
    else; fields of disabled gates dropped; a gated pod gets its PodScheduled=False
    SchedulingGated condition; matchLabelKeys merged into affinity selectors; AppArmor
    annotations synced to fields."""
    qos = _get_pod_qos(pod)
    spec = pod.get("spec")
    pod["status"] = pending_pod_status(spec, qos)
    if spec is None:
        spec = pod["spec"] = {}
    _drop_disabled_pod_fields(spec, None, gates)
    if spec.get("affinity") and _gate(gates, "MatchLabelKeysInPodAffinity"):
        _mutate_pod_affinity(pod)
    _apparmor_version_skew(pod)


def pending_pod_status(spec: dict | None, qos: str) -> dict:
    """A new pod's status (``PrepareForCreate``): Pending, its QoS class, and for a pod with
    scheduling gates its PodScheduled=False SchedulingGated condition."""
    status = {"phase": "Pending", "qosClass": qos}
    if spec and spec.get("schedulingGates"):
        status["conditions"] = [{"type": "PodScheduled", "status": "False",
                                 "reason": "SchedulingGated",
                                 "message": "Scheduling is blocked due to non-empty scheduling "
                                            "gates"}]
    return status


# The pod strategy's defaulting and PrepareForCreate, by name for api.templates (which serves
# what they make of a spec while the Pod strategy is this one).
default_pod = _default_pod
prepare_pod_create = _prepare_pod_create
APPARMOR_CONTAINER_PREFIX = _APPARMOR_CONTAINER


def _prepare_pod_update(new: dict, old: dict, gates: Gates) -> None:
    """``podStrategy.PrepareForUpdate`` beyond keeping the old status (the API layer's)."""
    spec = new.get("spec")
    if spec is not None:
        _drop_disabled_pod_fields(spec, old.get("spec") or {}, gates)


# --------------------------------------------------------------------------------------------
# Service

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_TRAFFIC_POLICIES = ("Cluster", "Local")
_IP_FAMILIES = ("IPv4", "IPv6")
_IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
_TOPOLOGY_HINTS = "service.kubernetes.io/topology-aware-hints"
_TOPOLOGY_MODE = "service.kubernetes.io/topology-mode"
_LB_SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"


def _is_headless(spec: dict) -> bool:
    ips = spec.get("clusterIPs")
    return bool(ips) and len(ips) == 1 and ips[0] == "None"


def _needs_health_check(spec: dict) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _dotted_octets(ip: str) -> tuple[int, int, int, int] | None:
    """The octets of ``ip`` when it is four dot-separated runs of ASCII digits, each at
    most 255 (leading zeros allowed, as the slow path's ``int`` reads them); else None."""
    parts = ip.split(".")
    if len(parts) != 4:
        return None
    a, b, c, d = parts
    if not (a.isdigit() and b.isdigit() and c.isdigit() and d.isdigit()) or not ip.isascii():
        return None
    octets = (int(a), int(b), int(c), int(d))
    if max(octets) > 255:
        return None
    return octets


def _non_special_ip(ip: str, path: str) -> list[FieldError]:
    """``ValidateNonSpecialIP``: not unspecified, loopback or link-local."""
    octets = _dotted_octets(ip) if "." in ip and ":" not in ip else None
    if octets is not None:  # the common case, without ``ipaddress``
        a, b, c, d = octets
        if a == 127:
            return [FieldError.invalid(path, ip, "may not be in the loopback range "
                                                 "(127.0.0.0/8, ::1/128)")]
        if a == 169 and b == 254:
            return [FieldError.invalid(path, ip, "may not be in the link-local range "
                                                 "(169.254.0.0/16, fe80::/10)")]
        if a == 224 and b == 0 and c == 0:
            return [FieldError.invalid(path, ip, "may not be in the link-local multicast "
                                                 "range (224.0.0.0/24, ff02::/10)")]
        if a == 0 and b == 0 and c == 0 and d == 0:
            return [FieldError.invalid(path, ip, f"may not be unspecified ({ip})")]
        return []
    import ipaddress

    try:
        addr = ipaddress.ip_address(ip if "." not in ip or ":" in ip else
                                    ".".join(str(int(o)) for o in ip.split(".")))
    except ValueError:
        return [FieldError.invalid(path, ip, "must be a valid IP address")]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    errs: list[FieldError] = []
    if addr.is_unspecified:
        errs.append(FieldError.invalid(path, ip, f"may not be unspecified ({ip})"))
    if addr.is_loopback:
        errs.append(FieldError.invalid(path, ip, "may not be in the loopback range "
                                                 "(127.0.0.0/8, ::1/128)"))
    link_local = (addr in ipaddress.ip_network("169.254.0.0/16")
                  if addr.version == 4 else addr in ipaddress.ip_network("fe80::/10"))
    if link_local:
        errs.append(FieldError.invalid(path, ip, "may not be in the link-local range "
                                                 "(169.254.0.0/16, fe80::/10)"))
    ll_multicast = (addr in ipaddress.ip_network("224.0.0.0/24")
                    if addr.version == 4 else addr in ipaddress.ip_network("ff02::/16"))
    if ll_multicast:
        errs.append(FieldError.invalid(path, ip, "may not be in the link-local multicast range "
                                                 "(224.0.0.0/24, ff02::/10)"))
    return errs


def _service_port(sp: dict, require_name: bool, seen: set, path: str) -> list[FieldError]:
    """``validateServicePort``."""
    errs: list[FieldError] = []
    name = sp.get("name", "")
    if require_name and not name:
        errs.append(FieldError.required(path + ".name", ""))
    elif name:
        errs.extend(_dns1123_label_errors(name, path + ".name"))
        if name in seen:
            errs.append(FieldError.duplicate(path + ".name", name))
        else:
            seen.add(name)
    port = sp.get("port", 0)
    if not 1 <= port <= 65535:
        errs.append(FieldError.invalid(path + ".port", port, names.inclusive_range_error(1, 65535)))
    proto = sp.get("protocol", "")
    if not proto:
        errs.append(FieldError.required(path + ".protocol", ""))
    elif proto not in _PROTOCOL_SET:
        errs.append(FieldError.not_supported(path + ".protocol", proto, _PROTOCOLS))
    errs.extend(_port_num_or_name(sp.get("targetPort"), path + ".targetPort"))
    app = sp.get("appProtocol")
    if app is not None:
        errs.extend(_qualified_name_errors(app, path + ".appProtocol"))
    return errs


def _cluster_ips_related(spec: dict) -> list[FieldError]:
    """``ValidateServiceClusterIPsRelatedFields``."""
    if spec.get("type") == "ExternalName":
        return _NO_ERRORS
    errs: list[FieldError] = []
    cip = spec.get("clusterIP", "")
    cips = spec.get("clusterIPs") or []
    if cip:
        if not cips:
            errs.append(FieldError.required("spec.clusterIPs", ""))
        elif cips[0] != cip:
            errs.append(FieldError.invalid("spec.clusterIPs", cips,
                                           "first value must match `clusterIP`"))
    elif cips:
        errs.append(FieldError.invalid("spec.clusterIPs", cips,
                                       "must be empty when `clusterIP` is not specified"))
    seen: set = set()
    families = spec.get("ipFamilies") or []
    for i, fam in enumerate(families):
        if fam not in _IP_FAMILIES:
            errs.append(FieldError.not_supported(f"spec.ipFamilies[{i}]", fam, _IP_FAMILIES))
        if fam in seen:
            errs.append(FieldError.duplicate(f"spec.ipFamilies[{i}]", fam))
        seen.add(fam)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in _IP_FAMILY_POLICIES:
        errs.append(FieldError.not_supported("spec.ipFamilyPolicy", policy, _IP_FAMILY_POLICIES))
    invalid = False
    for i, ip in enumerate(cips):
        if i == 0 and ip == "None":
            if len(cips) > 1:
                invalid = True
                errs.append(FieldError.invalid("spec.clusterIPs", cips,
                                               "'None' must be the first and only value"))
            continue
        ip_errs = _ip_errors(ip, f"spec.clusterIPs[{i}]")
        if ip_errs:
            invalid = True
            errs.extend(ip_errs)
    if len(cips) > 2:
        errs.append(FieldError.invalid("spec.clusterIPs", cips, "may only hold up to 2 values"))
    if invalid:
        return errs
    if len(cips) > 1:
        v4 = any(not names.is_valid_ipv4(ip) for ip in cips)
        v6 = any(not names.is_valid_ipv6(ip) for ip in cips)
        if not (v4 and v6):
            errs.append(FieldError.invalid("spec.clusterIPs", cips, "may specify no more than "
                                                                   "one IP for each IP family"))
    if not _is_headless(spec) and cips and families:
        for i, ip in enumerate(cips[:len(families)]):
            is6 = not names.is_valid_ipv6(ip)
            if families[i] == "IPv4" and is6:
                errs.append(FieldError.invalid(f"spec.clusterIPs[{i}]", ip, "expected an IPv4 "
                                               f"value as indicated by `ipFamilies[{i}]`"))
            if families[i] == "IPv6" and not is6:
                errs.append(FieldError.invalid(f"spec.clusterIPs[{i}]", ip, "expected an IPv6 "
                                               f"value as indicated by `ipFamilies[{i}]`"))
    return errs


def _validate_service(svc: dict, gates: Gates) -> list[FieldError]:
    """``ValidateService``."""
    meta = svc.get("metadata") or {}
    spec = svc.get("spec") or {}
    errs = validate_object_meta(meta, True, name_is_dns1035_label)
    ann = meta.get("annotations") or {}
    if _TOPOLOGY_MODE in ann and _TOPOLOGY_HINTS in ann and ann[_TOPOLOGY_MODE] != ann[
            _TOPOLOGY_HINTS]:
        errs.append(FieldError.invalid(f"metadata.annotations[{_TOPOLOGY_MODE}]",
                                       ann[_TOPOLOGY_MODE],
                                       f"must match annotations[{_TOPOLOGY_HINTS}] when both are "
                                       "specified"))
    stype = spec.get("type", "")
    headless = _is_headless(spec)
    ports = spec.get("ports") or []
    if not ports and not headless and stype != "ExternalName":
        errs.append(FieldError.required("spec.ports", ""))
    if stype in ("LoadBalancer", "NodePort"):
        if headless:
            errs.append(FieldError.invalid("spec.clusterIPs[0]", "None",
                                           f"may not be set to 'None' for {stype} services"))
    elif stype == "ExternalName":
        if spec.get("clusterIPs"):
            errs.append(FieldError.forbidden("spec.clusterIPs", "may not be set for ExternalName "
                                                                "services"))
        if spec.get("ipFamilies"):
            errs.append(FieldError.forbidden("spec.ipFamilies", "may not be set for ExternalName "
                                                                "services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(FieldError.forbidden("spec.ipFamilyPolicy", "may not be set for "
                                                                    "ExternalName services"))
        cname = spec.get("externalName", "").removesuffix(".")
        if cname:
            errs.extend(_dns1123_subdomain_errors(cname, "spec.externalName"))
        else:
            errs.append(FieldError.required("spec.externalName", ""))
    seen: set = set()
    for i, sp in enumerate(ports):
        errs.extend(_service_port(sp, len(ports) > 1, seen, f"spec.ports[{i}]"))
    selector = spec.get("selector")
    if selector is not None:
        errs.extend(validate_labels(selector, "spec.selector"))
    affinity = spec.get("sessionAffinity", "")
    if not affinity:
        errs.append(FieldError.required("spec.sessionAffinity", ""))
    elif affinity not in ("ClientIP", "None"):
        errs.append(FieldError.not_supported("spec.sessionAffinity", affinity,
                                             ("ClientIP", "None")))
    cfg = spec.get("sessionAffinityConfig")
    if affinity == "ClientIP":
        cp = "spec.sessionAffinityConfig"
        detail = "when session affinity type is ClientIP"
        if cfg is None:
            errs.append(FieldError.required(cp, detail))
        elif cfg.get("clientIP") is None:
            errs.append(FieldError.required(cp + ".clientIP", detail))
        elif cfg["clientIP"].get("timeoutSeconds") is None:
            errs.append(FieldError.required(cp + ".clientIP.timeoutSeconds", detail))
        else:
            t = cfg["clientIP"]["timeoutSeconds"]
            if t <= 0 or t > 86400:
                errs.append(FieldError.invalid(cp + ".clientIP.timeoutSeconds", t,
                                               "must be greater than 0 and less than 86400"))
    elif affinity == "None" and cfg is not None:
        errs.append(FieldError.forbidden("spec.sessionAffinityConfig",
                                         "must not be set when session affinity is None"))
    errs.extend(_cluster_ips_related(spec))
    for i, ip in enumerate(spec.get("externalIPs") or ()):
        p = f"spec.externalIPs[{i}]"
        ip_errs = _ip_errors(ip, p)
        errs.extend(ip_errs if ip_errs else _non_special_ip(ip, p))
    if not stype:
        errs.append(FieldError.required("spec.type", ""))
    elif stype not in _SERVICE_TYPES:
        errs.append(FieldError.not_supported("spec.type", stype, _SERVICE_TYPES))
    if stype == "ClusterIP":
        for i, sp in enumerate(ports):
            if sp.get("nodePort"):
                errs.append(FieldError.forbidden(f"spec.ports[{i}].nodePort",
                                                 "may not be used when `type` is 'ClusterIP'"))
    node_ports: set = set()
    for i, sp in enumerate(ports):
        np_ = sp.get("nodePort", 0)
        if not np_:
            continue
        key = (sp.get("protocol", ""), np_)
        if key in node_ports:
            errs.append(FieldError.duplicate(f"spec.ports[{i}].nodePort", np_))
        node_ports.add(key)
    port_keys: set = set()
    for i, sp in enumerate(ports):
        key = (sp.get("protocol", ""), sp.get("port", 0))
        if key in port_keys:
            errs.append(FieldError.duplicate(f"spec.ports[{i}]",
                                             {"protocol": key[0], "port": key[1]}))
        port_keys.add(key)
    ranges = spec.get("loadBalancerSourceRanges")
    if ranges:
        rp = "spec.LoadBalancerSourceRanges"
        if stype != "LoadBalancer":
            errs.append(FieldError.forbidden(rp, "may only be used when `type` is "
                                                 "'LoadBalancer'"))
        for idx, value in enumerate(ranges):
            errs.extend(_cidr_errors(value.strip(), f"{rp}[{idx}]"))
    elif _LB_SOURCE_RANGES in ann:
        rp = f"metadata.annotations[{_LB_SOURCE_RANGES}]"
        if stype != "LoadBalancer":
            errs.append(FieldError.forbidden(rp, "may only be used when `type` is "
                                                 "'LoadBalancer'"))
        val = ann[_LB_SOURCE_RANGES].strip()
        if val:
            for value in val.split(","):
                errs.extend(_cidr_errors(value.strip(), rp))
    alloc = spec.get("allocateLoadBalancerNodePorts")
    if alloc is not None and stype != "LoadBalancer":
        errs.append(FieldError.forbidden("spec.allocateLoadBalancerNodePorts",
                                         "may only be used when `type` is 'LoadBalancer'"))
    if stype == "LoadBalancer" and alloc is None:
        errs.append(FieldError.required("allocateLoadBalancerNodePorts", ""))
    errs.extend(_load_balancer_class(None, svc))
    etp = spec.get("externalTrafficPolicy", "")
    if not _externally_accessible(spec):
        if etp:
            errs.append(FieldError.invalid("spec.externalTrafficPolicy", etp,
                                           "may only be set for externally-accessible services"))
    elif not etp:
        errs.append(FieldError.required("spec.externalTrafficPolicy", ""))
    elif etp not in _TRAFFIC_POLICIES:
        errs.append(FieldError.not_supported("spec.externalTrafficPolicy", etp, _TRAFFIC_POLICIES))
    hcnp = spec.get("healthCheckNodePort", 0)
    if not _needs_health_check(spec):
        if hcnp:
            errs.append(FieldError.invalid("spec.healthCheckNodePort", hcnp,
                                           "may only be set when `type` is 'LoadBalancer' and "
                                           "`externalTrafficPolicy` is 'Local'"))
    elif not hcnp:
        errs.append(FieldError.required("spec.healthCheckNodePort", ""))
    elif not 1 <= hcnp <= 65535:
        errs.append(FieldError.invalid("spec.healthCheckNodePort", hcnp,
                                       names.inclusive_range_error(1, 65535)))
    itp = spec.get("internalTrafficPolicy")
    if itp is None:
        if stype in ("NodePort", "LoadBalancer", "ClusterIP"):
            errs.append(FieldError.required("spec.internalTrafficPolicy", ""))
    elif itp not in _TRAFFIC_POLICIES:
        errs.append(FieldError.not_supported("spec.internalTrafficPolicy", itp,
                                             _TRAFFIC_POLICIES))
    td = spec.get("trafficDistribution")
    if td is not None and td != "PreferClose":
        errs.append(FieldError.not_supported("spec.trafficDistribution", td, ("PreferClose",)))
    return errs


def _load_balancer_class(old: dict | None, svc: dict) -> list[FieldError]:
    """``validateLoadBalancerClassField``."""
    spec = svc.get("spec") or {}
    lbc = spec.get("loadBalancerClass")
    errs: list[FieldError] = []
    if old is not None:
        ospec = old.get("spec") or {}
        if (ospec.get("type") == "LoadBalancer" and spec.get("type") == "LoadBalancer"
                and ospec.get("loadBalancerClass") != lbc):
            errs.append(FieldError.invalid("spec.loadBalancerClass", lbc, "may not change once "
                                                                          "set"))
    if spec.get("type") == "LoadBalancer":
        if lbc is not None:
            errs.extend(_qualified_name_errors(lbc, "spec.loadBalancerClass"))
    elif lbc is not None:
        errs.append(FieldError.forbidden("spec.loadBalancerClass", "may only be used when "
                                                                   "`type` is 'LoadBalancer'"))
    return errs


def _validate_service_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidateServiceUpdate``: clusterIPs and ipFamilies may only be upgraded to or
    downgraded from dual-stack, the load balancer class and health check node port stay."""
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    if ns.get("type") != "ExternalName" and os_.get("type") != "ExternalName":
        new_h, old_h = _is_headless(ns), _is_headless(os_)
        nips, oips = ns.get("clusterIPs") or [], os_.get("clusterIPs") or []
        if not (new_h and old_h):
            if len(oips) == len(nips):
                for i, ip in enumerate(oips):
                    if ip != nips[i]:
                        errs.append(FieldError.invalid(f"spec.clusterIPs[{i}]", nips,
                                                       "may not change once set"))
            elif len(oips) > len(nips):
                if not nips:
                    errs.append(FieldError.invalid("spec.clusterIPs[0]", nips,
                                                   "primary clusterIP can not be unset"))
                elif oips and nips[0] != oips[0]:
                    errs.append(FieldError.invalid("spec.clusterIPs[0]", nips,
                                                   "may not change once set"))
                if len(nips) == 1 and ns.get("ipFamilyPolicy") != "SingleStack":
                    errs.append(FieldError.invalid("spec.ipFamilyPolicy", ns.get("ipFamilyPolicy"),
                                                   "must be set to 'SingleStack' when releasing "
                                                   "the secondary clusterIP"))
            elif oips and nips[0] != oips[0]:
                errs.append(FieldError.invalid("spec.clusterIPs[0]", nips, "may not change once "
                                                                           "set"))
        if new_h == old_h and not new_h:
            nf, of = ns.get("ipFamilies") or [], os_.get("ipFamilies") or []
            if len(of) == len(nf):
                for i, fam in enumerate(of):
                    if fam != nf[i]:
                        errs.append(FieldError.invalid("spec.ipFamilies[0]", nf,
                                                       "may not change once set"))
            elif len(of) > len(nf):
                if not nips:
                    errs.append(FieldError.invalid("spec.ipFamilies[0]", nf,
                                                   "primary ipFamily can not be unset"))
                if nf and nf[0] != of[0]:
                    errs.append(FieldError.invalid("spec.ipFamilies[0]", nips,
                                                   "may not change once set"))
                if len(nf) == 1 and ns.get("ipFamilyPolicy") != "SingleStack":
                    errs.append(FieldError.invalid("spec.ipFamilyPolicy", ns.get("ipFamilyPolicy"),
                                                   "must be set to 'SingleStack' when releasing "
                                                   "the secondary ipFamily"))
            elif of and nf and nf[0] != of[0]:
                errs.append(FieldError.invalid("spec.ipFamilies[0]", nips,
                                               "may not change once set"))
    errs.extend(_load_balancer_class(old, new))
    if _needs_health_check(os_) and _needs_health_check(ns):
        if ns.get("healthCheckNodePort", 0) != os_.get("healthCheckNodePort", 0):
            errs.append(FieldError.forbidden("spec.healthCheckNodePort", FIELD_IMMUTABLE))
    errs.extend(_validate_service(new, gates))
    return errs


def _validate_service_status_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidateServiceStatusUpdate``: the load balancer status."""
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    spec = new.get("spec") or {}
    ingress = ((new.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ip = "status.loadBalancer.ingress"
    if (not _gate(gates, "AllowServiceLBStatusOnNonLB") and spec.get("type") != "LoadBalancer"
            and ingress):
        errs.append(FieldError.forbidden(ip, "may only be used when `spec.type` is "
                                             "'LoadBalancer'"))
        return errs
    ipmode_gate = _gate(gates, "LoadBalancerIPMode")
    for i, ing in enumerate(ingress):
        p = f"{ip}[{i}]"
        addr = ing.get("ip", "")
        if addr:
            errs.extend(_ip_errors(addr, p + ".ip"))
        mode = ing.get("ipMode")
        if ipmode_gate and mode is None:
            if addr:
                errs.append(FieldError.required(p + ".ipMode", "must be specified when `ip` is "
                                                               "set"))
        elif mode is not None and not addr:
            errs.append(FieldError.forbidden(p + ".ipMode", "may not be specified when `ip` is "
                                                            "not set"))
        elif mode is not None and mode not in ("Proxy", "VIP"):
            errs.append(FieldError.not_supported(p + ".ipMode", mode, ("Proxy", "VIP")))
        hostname = ing.get("hostname", "")
        if hostname:
            errs.extend(_dns1123_subdomain_errors(hostname, p + ".hostname"))
            if not names.is_valid_ip(hostname):
                errs.append(FieldError.invalid(p + ".hostname", hostname,
                                               "must be a DNS name, not an IP address"))
    return errs


def _normalize_cluster_ips(old: dict | None, new: dict) -> None:
    """``NormalizeClusterIPs``: keep ``clusterIP`` and ``clusterIPs`` consistent for clients
    that set only the singular field."""
    spec = new.setdefault("spec", {})
    cip = spec.get("clusterIP", "")
    cips = spec.get("clusterIPs") or []
    if old is None:
        if cip and not cips:
            spec["clusterIPs"] = [cip]
        return
    ospec = old.get("spec") or {}
    ocip, ocips = ospec.get("clusterIP", ""), ospec.get("clusterIPs") or []
    if ocips and not cips and ocip == cip:
        spec["clusterIPs"] = cips = list(ocips)
    if ocip != cip:
        same = (spec.get("clusterIPs") or []) == ocips
        if ocip and not cip:
            if same:
                spec.pop("clusterIPs", None)
        elif same:
            spec["clusterIPs"] = [cip]


def _prepare_service_create(svc: dict, gates: Gates) -> None:
    """``svcStrategy.PrepareForCreate``: status cleared, clusterIP(s) normalized, fields of
    disabled gates dropped. (Allocation of cluster IPs and node ports is the API layer's.)"""
    svc["status"] = {}
    _normalize_cluster_ips(None, svc)
    if not _gate(gates, "ServiceTrafficDistribution"):
        (svc.get("spec") or {}).pop("trafficDistribution", None)


def _prepare_service_update(new: dict, old: dict, gates: Gates) -> None:
    """``svcStrategy.PrepareForUpdate``: allocated values the client left out are kept
    (``patchAllocatedValues``), clusterIP(s) normalized, fields that no longer apply to a
    changed type dropped (``dropTypeDependentFields``)."""
    spec = new.setdefault("spec", {})
    ospec = old.get("spec") or {}
    ntype, otype = spec.get("type"), ospec.get("type")
    if ntype != "ExternalName" and otype != "ExternalName":
        if not spec.get("clusterIP") and ospec.get("clusterIP"):
            spec["clusterIP"] = ospec["clusterIP"]
        if not spec.get("clusterIPs") and ospec.get("clusterIPs"):
            spec["clusterIPs"] = list(ospec["clusterIPs"])
    needs_np = ("NodePort", "LoadBalancer")
    if ntype in needs_np and otype in needs_np:
        old_used = {p.get("nodePort") for p in ospec.get("ports") or () if p.get("nodePort")}
        new_used = {p.get("nodePort") for p in spec.get("ports") or () if p.get("nodePort")}
        used = old_used & new_used
        by_name = {p.get("name", ""): p.get("nodePort", 0) for p in ospec.get("ports") or ()}
        for p in spec.get("ports") or ():
            if not p.get("nodePort"):
                v = by_name.get(p.get("name", ""), 0)
                if v and v not in used:
                    p["nodePort"] = v
    if _needs_health_check(ospec) and _needs_health_check(spec):
        if not spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = ospec.get("healthCheckNodePort", 0)
    _normalize_cluster_ips(old, new)
    if not _gate(gates, "ServiceTrafficDistribution") and "trafficDistribution" not in ospec:
        spec.pop("trafficDistribution", None)
    # dropTypeDependentFields
    if otype != "ExternalName" and ntype == "ExternalName":
        if spec.get("clusterIP", "") == ospec.get("clusterIP", "") and (
                spec.get("clusterIPs") or []) == (ospec.get("clusterIPs") or []):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if (spec.get("ipFamilies") or []) == (ospec.get("ipFamilies") or []):
            spec.pop("ipFamilies", None)
        if spec.get("ipFamilyPolicy") == ospec.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if otype in needs_np and ntype not in needs_np:
        old_nps = [p.get("nodePort", 0) for p in ospec.get("ports") or ()]
        new_nps = [p.get("nodePort", 0) for p in spec.get("ports") or ()]
        if old_nps == new_nps:
            for p in spec.get("ports") or ():
                p.pop("nodePort", None)
    if _needs_health_check(ospec) and not _needs_health_check(spec):
        if spec.get("healthCheckNodePort", 0) == ospec.get("healthCheckNodePort", 0):
            spec.pop("healthCheckNodePort", None)
    if otype == "LoadBalancer" and ntype != "LoadBalancer":
        alloc = spec.get("allocateLoadBalancerNodePorts")
        if alloc is not None and alloc == ospec.get("allocateLoadBalancerNodePorts"):
            spec.pop("allocateLoadBalancerNodePorts", None)
        if spec.get("loadBalancerClass") == ospec.get("loadBalancerClass"):
            spec.pop("loadBalancerClass", None)
    if _externally_accessible(ospec) and not _externally_accessible(spec):
        if spec.get("externalTrafficPolicy") == ospec.get("externalTrafficPolicy"):
            spec.pop("externalTrafficPolicy", None)
    if ntype != "LoadBalancer":
        status = new.get("status")
        if status and status.get("loadBalancer"):
            status["loadBalancer"] = {}


# --------------------------------------------------------------------------------------------
# Node


def _node_taints(taints: list, path: str) -> list[FieldError]:
    """``validateNodeTaints`` (upstream reports them under ``metadata.taints``)."""
    errs: list[FieldError] = []
    unique: dict[str, set] = {}
    for i, t in enumerate(taints):
        p = f"{path}[{i}]"
        key = t.get("key", "")
        effect = t.get("effect", "")
        errs.extend(_qualified_name_errors(key, p + ".key"))
        msgs = names.is_valid_label_value(t.get("value", ""))
        if msgs:
            errs.append(FieldError.invalid(p + ".value", t.get("value", ""), ";".join(msgs)))
        errs.extend(_taint_effect(effect, False, p + ".effect"))
        keys = unique.setdefault(effect, set())
        if key in keys:
            errs.append(FieldError("FieldValueDuplicate", p, t,
                                   "taints must be unique by key and effect pair"))
            continue
        keys.add(key)
    return errs


def _node_resources(node: dict) -> list[FieldError]:
    """``ValidateNodeResources``."""
    status = node.get("status") or {}
    errs: list[FieldError] = []
    for field in ("capacity", "allocatable"):
        for k, v in (status.get(field) or {}).items():
            errs.extend(_validate_resource_quantity_value(k, v, f"status.{field}.{k}"))
    return errs


def _pod_cidrs(cidrs: list) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, c in enumerate(cidrs):
        errs.extend(_cidr_errors(c, f"spec.podCIDRs[{i}]"))
    if len(cidrs) > 1 and not errs:
        v4 = any("." in c.partition("/")[0] and ":" not in c for c in cidrs)
        v6 = any(":" in c.partition("/")[0] for c in cidrs)
        if not (v4 and v6) or len(cidrs) > 2:
            errs.append(FieldError.invalid("spec.podCIDRs", cidrs, "may specify no more than one "
                                                                   "CIDR for each IP family"))
        seen: set = set()
        for i, c in enumerate(cidrs):
            if c in seen:
                errs.append(FieldError.duplicate(f"spec.podCIDRs[{i}]", c))
            seen.add(c)
    return errs


# (resource name, amount) pairs ValidateResourceQuantityValue accepts: a node's capacity and
# allocatable come back unchanged on every status write. Bounded: cleared when full.
_valid_resource_amounts: set[tuple] = set()


def _resource_amounts_ok(resources: dict) -> bool:
    """:func:`_validate_resource_quantity_value` is silent for every entry."""
    for pair in resources.items():
        if pair not in _valid_resource_amounts:
            if _validate_resource_quantity_value(pair[0], pair[1], ""):
                return False
            if len(_valid_resource_amounts) >= 4096:
                _valid_resource_amounts.clear()
            _valid_resource_amounts.add(pair)
    return True


def _node_taints_ok(taints: list) -> bool:
    """:func:`_node_taints` is silent."""
    seen = set()
    for t in taints:
        key = t.get("key", "")
        value = t.get("value", "")
        effect = t.get("effect", "")
        if ((key not in _KNOWN_QNAMES and names.is_qualified_name(key))
                or (value not in _KNOWN_LABEL_VALUES and names.is_valid_label_value(value))
                or effect not in _TAINT_EFFECT_SET or (effect, key) in seen):
            return False
        seen.add((effect, key))
    return True


def _node_status_ok(node: dict) -> bool:
    """:func:`_node_resources` is silent."""
    status = node.get("status") or {}
    capacity = status.get("capacity")
    allocatable = status.get("allocatable")
    return ((not capacity or _resource_amounts_ok(capacity))
            and (not allocatable or _resource_amounts_ok(allocatable)))


def _node_ok(node: dict) -> bool:
    """``ValidateNode`` is silent (a single pod CIDR at most; more are left to it)."""
    spec = node.get("spec") or {}
    taints = spec.get("taints")
    cidrs = spec.get("podCIDRs")
    return (object_meta_ok(node.get("metadata") or {}, False, name_is_dns1123_subdomain)
            and (not taints or _node_taints_ok(taints))
            and _node_status_ok(node)
            and (not cidrs or (len(cidrs) == 1 and not names.is_valid_cidr(cidrs[0]))))


def _node_update_ok(new: dict, old: dict) -> bool:
    """``ValidateNodeUpdate`` is silent."""
    if not object_meta_update_ok(new.get("metadata") or {}, old.get("metadata") or {}):
        return False
    if not _node_status_ok(new):
        return False
    seen: list = []
    for addr in (new.get("status") or {}).get("addresses") or ():
        if addr in seen:
            return False
        seen.append(addr)
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    old_cidrs = old_spec.get("podCIDRs") or []
    if old_cidrs:
        new_cidrs = spec.get("podCIDRs") or []
        if len(old_cidrs) != len(new_cidrs) or old_cidrs != new_cidrs:
            return False
    old_pid = old_spec.get("providerID", "")
    if old_pid and old_pid != spec.get("providerID", ""):
        return False
    taints = spec.get("taints")
    if taints and not _node_taints_ok(taints):
        return False
    return spec.get("externalID", "") == old_spec.get("externalID", "")


def _validate_node(node: dict, gates: Gates) -> list[FieldError]:
    """``ValidateNode``."""
    if _screen(_node_ok, node):
        return []
    return _node_errors(node, gates)


def _node_errors(node: dict, gates: Gates) -> list[FieldError]:
    """:func:`_validate_node` without the fast screen."""
    errs = validate_object_meta(node.get("metadata") or {}, False, name_is_dns1123_subdomain)
    spec = node.get("spec") or {}
    taints = spec.get("taints")
    if taints:
        errs.extend(_node_taints(taints, "metadata.taints"))
    errs.extend(_node_resources(node))
    cidrs = spec.get("podCIDRs")
    if cidrs:
        errs.extend(_pod_cidrs(cidrs))
    return errs


def _validate_node_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidateNodeUpdate`` (also the node status update's validation)."""
    if _screen(_node_update_ok, new, old):
        return []
    return _node_update_errors(new, old, gates)


def _node_update_errors(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """:func:`_validate_node_update` without the fast screen."""
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    errs.extend(_node_resources(new))
    seen: list = []
    for i, addr in enumerate((new.get("status") or {}).get("addresses") or ()):
        if addr in seen:
            errs.append(FieldError.duplicate(f"status.addresses[{i}]", addr))
        seen.append(addr)
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    old_cidrs, new_cidrs = os_.get("podCIDRs") or [], ns.get("podCIDRs") or []
    if old_cidrs:
        msg = 'node updates may not change podCIDR except from "" to valid'
        if len(old_cidrs) != len(new_cidrs):
            errs.append(FieldError.forbidden("spec.podCIDRs", msg))
        else:
            for a, b in zip(old_cidrs, new_cidrs):
                if a != b:
                    errs.append(FieldError.forbidden("spec.podCIDRs", msg))
    old_pid = os_.get("providerID", "")
    if old_pid and old_pid != ns.get("providerID", ""):
        errs.append(FieldError.forbidden("spec.providerID", 'node updates may not change '
                                                            'providerID except from "" to valid'))
    taints = ns.get("taints")
    if taints:
        errs.extend(_node_taints(taints, "metadata.taints"))
    if ns.get("externalID", "") != os_.get("externalID", ""):
        errs.append(FieldError.forbidden("spec.externalID", "may not be updated"))
    return errs


def _prepare_node_create(node: dict, gates: Gates) -> None:
    """``nodeStrategy.PrepareForCreate``: nodes may set status on create; the deprecated
    config source fields are dropped."""
    spec = node.get("spec")
    if spec:
        spec.pop("configSource", None)
    status = node.get("status")
    if status:
        status.pop("config", None)


def _prepare_node_update(new: dict, old: dict, gates: Gates) -> None:
    """``nodeStrategy.PrepareForUpdate`` beyond keeping the old status."""
    spec = new.get("spec")
    if spec and "configSource" not in (old.get("spec") or {}):
        spec.pop("configSource", None)


# --------------------------------------------------------------------------------------------
# Namespace


def _validate_namespace(ns: dict, gates: Gates) -> list[FieldError]:
    """``ValidateNamespace``: a DNS label name; spec finalizers are qualified names or
    standard ones (reported at ``spec.finalizers``, without an index, as upstream does)."""
    errs = validate_object_meta(ns.get("metadata") or {}, False, name_is_dns1123_label)
    for f in (ns.get("spec") or {}).get("finalizers") or ():
        errs.extend(_qualified_name_errors(f, "spec.finalizers"))
        if "/" not in f and f not in ("kubernetes", "orphan", "foregroundDeletion"):
            errs.append(FieldError.invalid("spec.finalizers", f, "name is neither a standard "
                                                                 "finalizer name nor is it fully "
                                                                 "qualified"))
    return errs


def _validate_namespace_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidateNamespaceUpdate``."""
    return validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})


def _validate_namespace_status_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidateNamespaceStatusUpdate``: Active unless being deleted, then Terminating."""
    meta = new.get("metadata") or {}
    errs = validate_object_meta_update(meta, old.get("metadata") or {})
    phase = (new.get("status") or {}).get("phase", "")
    if not meta.get("deletionTimestamp"):
        if phase != "Active":
            errs.append(FieldError.invalid("status.Phase", phase, "may only be 'Active' if "
                                                                  "`deletionTimestamp` is empty"))
    elif phase != "Terminating":
        errs.append(FieldError.invalid("status.Phase", phase, "may only be 'Terminating' if "
                                                              "`deletionTimestamp` is not empty"))
    return errs


def _prepare_namespace_create(ns: dict, gates: Gates) -> None:
    """``namespaceStrategy.PrepareForCreate``: status Active; ``spec.finalizers`` gains
    ``kubernetes``. Also the ``kubernetes.io/metadata.name`` label (``Canonicalize``)."""
    ns["status"] = {"phase": "Active"}
    spec = ns.get("spec")
    if spec is None:
        spec = ns["spec"] = {}
    finalizers = spec.get("finalizers") or []
    if "kubernetes" not in finalizers:
        spec["finalizers"] = [*finalizers, "kubernetes"]
    _default_namespace(ns)


def _prepare_namespace_update(new: dict, old: dict, gates: Gates) -> None:
    """``namespaceStrategy.PrepareForUpdate``: spec.finalizers only change through the
    finalize subresource."""
    ofin = (old.get("spec") or {}).get("finalizers")
    spec = new.setdefault("spec", {})
    if ofin is None:
        spec.pop("finalizers", None)
    else:
        spec["finalizers"] = list(ofin)


# --------------------------------------------------------------------------------------------
# Endpoints


# What :func:`_validate_endpoints` leaves :func:`_repack_onto` of one address list, by
# (side, id of the list), side 0 for ``addresses`` and 1 for ``notReadyAddresses``: the ids of
# its addresses in order and as a set, the ids among them the stored object's list of that
# side does not hold and their positions in the list (in order), and that stored set of ids
# (the one they were taken away from).
_AddressMemo = dict[tuple[int, int],
                    tuple[list[int], set[int], set[int], list[int], set[int]]]


def _positions(ids: list[int], wanted: set[int], unique: bool) -> list[int]:
    """The positions in ``ids`` of the ids in ``wanted``, in order. ``unique``: no id is in
    ``ids`` twice; then a few wanted ones (an update adds an address or two) are each found
    by a scan that stops there, cheaper than a membership test at every position."""
    if not wanted:
        return []
    if unique and len(wanted) <= 2:
        return sorted(map(ids.index, wanted))
    return list(itertools.compress(range(len(ids)), map(wanted.__contains__, ids)))


def _validate_endpoints(ep: dict, gates: Gates, known: tuple[set[int], ...] | None = None,
                        memo: _AddressMemo | None = None) -> list[FieldError]:
    """``ValidateEndpoints``. ``known``: sets of the ids of address objects of the stored
    object an update replaces (two: its ready then its not-ready ones, as
    :func:`_address_ids` gives them; or any number of sets); they passed this validation when
    stored (stored objects are never changed, and an address's checks depend on nothing
    else), so they are not checked again. ``memo`` (with two ``known`` sets) receives what
    :func:`_repack_onto` reuses of each address list (see ``_AddressMemo``)."""
    errs = validate_object_meta(ep.get("metadata") or {}, True, name_is_dns1123_subdomain)
    for i, ss in enumerate(ep.get("subsets") or ()):
        p = f"subsets[{i}]"
        addrs, not_ready = ss.get("addresses") or (), ss.get("notReadyAddresses") or ()
        if not addrs and not not_ready:
            errs.append(FieldError.required(p, "must specify `addresses` or "
                                               "`notReadyAddresses`"))
        for side, key, lst in ((0, "addresses", addrs), (1, "notReadyAddresses", not_ready)):
            if known is None:
                positions: Iterable[int] = range(len(lst))
            else:
                # Only the addresses the stored object does not hold, found without a
                # Python-level pass over the (up to 1,000) addresses.
                ids = list(map(id, lst))
                id_set = set(ids)
                if len(known) == 2:
                    # The ones new to this side and where they are (what repacking wants),
                    # then of those the ones new to both.
                    fresh = id_set.difference(known[side])
                    fresh_at = _positions(ids, fresh, len(id_set) == len(ids))
                    if memo is not None:
                        memo[(side, id(lst))] = (ids, id_set, fresh, fresh_at, known[side])
                    unknown = fresh.difference(known[1 - side]) if fresh else fresh
                    if not unknown:
                        continue
                    positions = [j for j in fresh_at if ids[j] in unknown]
                else:
                    unknown = id_set.difference(*known)
                    if not unknown:
                        continue
                    positions = itertools.compress(range(len(ids)),
                                                   map(unknown.__contains__, ids))
            for j in positions:
                addr = lst[j]
                ap = f"{p}.{key}[{j}]"
                ip = addr.get("ip", "")
                errs.extend(_ip_errors(ip, ap + ".ip"))
                if addr.get("hostname"):
                    errs.extend(_dns1123_label_errors(addr["hostname"], ap + ".hostname"))
                node_name = addr.get("nodeName")
                if node_name is not None:
                    errs.extend(_name_errors(name_is_dns1123_subdomain, node_name,
                                             ap + ".nodeName"))
                errs.extend(_non_special_ip(ip, ap + ".ip"))
        ports = ss.get("ports") or []
        for j, port in enumerate(ports):
            pp = f"{p}.ports[{j}]"
            name = port.get("name", "")
            if len(ports) > 1 and not name:
                errs.append(FieldError.required(pp + ".name", ""))
            elif name:
                errs.extend(_dns1123_label_errors(name, pp + ".name"))
            num = port.get("port", 0)
            if not 1 <= num <= 65535:
                errs.append(FieldError.invalid(pp + ".port", num,
                                               names.inclusive_range_error(1, 65535)))
            proto = port.get("protocol", "")
            if not proto:
                errs.append(FieldError.required(pp + ".protocol", ""))
            elif proto not in _PROTOCOL_SET:
                errs.append(FieldError.not_supported(pp + ".protocol", proto, _PROTOCOLS))
            app = port.get("appProtocol")
            if app is not None:
                errs.extend(_qualified_name_errors(app, pp + ".appProtocol"))
    return errs


def _validate_endpoints_update(new: dict, old: dict, gates: Gates,
                               memo: _AddressMemo | None = None) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    ids = _address_ids(old)
    if ids is not None:
        known: tuple[set[int], ...] = (ids[1], ids[3])
    else:
        every: set[int] = set()
        for ss in old.get("subsets") or ():
            every.update(map(id, ss.get("addresses") or ()))
            every.update(map(id, ss.get("notReadyAddresses") or ()))
        known = (every,)
    errs.extend(_validate_endpoints(new, gates, known, memo))
    return errs


def _address_key(addr: dict) -> tuple:
    return addr.get("ip", ""), (addr.get("targetRef") or {}).get("uid", "")


# The Endpoints bodies :func:`_repack_subsets` made canonical, by id (held, so that the id
# stays theirs): an update of one of them, once stored (stored objects are never changed),
# starts from its sorted addresses instead of sorting again. With each, for a single subset,
# the ids of its ready and not-ready address objects, in order and as sets (None until
# :func:`_address_ids` needs them): an update of it reads them here rather than mapping
# ``id`` over up to 1,000 addresses again (:func:`_repack_onto` derives the new object's
# from the old one's and the update's, which validation computed).
_CANONICAL: dict[int, tuple[dict, tuple | None]] = {}


def _canonical(ep: dict, ids: tuple | None = None) -> None:
    if len(_CANONICAL) >= 1024:
        _CANONICAL.clear()
    _CANONICAL[id(ep)] = (ep, ids)


def _address_ids(ep: dict) -> tuple[list[int], set[int], list[int], set[int]] | None:
    """For a canonical object with one subset, the ids of its ready addresses in order and
    as a set, then the same of its not-ready ones; None for any other object."""
    entry = _CANONICAL.get(id(ep))
    if entry is None or entry[0] is not ep:
        return None
    ids = entry[1]
    if ids is None:
        subsets = ep.get("subsets") or ()
        if len(subsets) != 1:
            return None
        r_ids = list(map(id, subsets[0].get("addresses") or ()))
        n_ids = list(map(id, subsets[0].get("notReadyAddresses") or ()))
        ids = (r_ids, set(r_ids), n_ids, set(n_ids))
        _CANONICAL[id(ep)] = (ep, ids)
    return ids


def _repack_subsets(ep: dict, old: dict | None = None,
                    memo: _AddressMemo | None = None) -> None:
    """``RepackSubsets``: one subset per distinct set of addresses, with every port those
    addresses serve; an address not ready for some port is not ready for it. Addresses are
    sorted by IP (then target UID) and ports by name, port and protocol (upstream sorts by a
    hash); the first address object seen for an (IP, target UID) is the one kept.

    ``old``: the stored object an update replaces. When both have one subset and ``old``
    was made canonical here, the result is built from ``old``'s sorted lists: the address
    objects ``ep`` shares with them keep their order, the others are inserted. ``memo``:
    address ids validation computed (see :func:`_validate_endpoints`)."""
    subsets = ep.get("subsets")
    if not subsets:
        return
    if old is not None and len(subsets) == 1:
        old_ids = _address_ids(old)
        entry = _CANONICAL.pop(id(old), None)
        if entry is not None and entry[0] is old:
            got = _repack_onto(subsets[0], old, old_ids, memo or {})
            if got is not None:
                ep["subsets"], ids = got
                _canonical(ep, ids)
                return
    addresses: dict[tuple, dict] = {}
    by_port: dict[tuple, dict[tuple, bool]] = {}
    port_objs: dict[tuple, dict | None] = {}
    for ss in subsets:
        ready_l = ss.get("addresses") or ()
        not_l = ss.get("notReadyAddresses") or ()
        rkeys = [_address_key(a) for a in ready_l]
        nkeys = [_address_key(a) for a in not_l]
        for k, a in zip(rkeys, ready_l):
            if k not in addresses:
                addresses[k] = a
        for k, a in zip(nkeys, not_l):
            if k not in addresses:
                addresses[k] = a
        for port in ss.get("ports") or (None,):
            pkey = (json.dumps(port, sort_keys=True) if port is not None else "",)
            port_objs[pkey] = port
            # Ready for a port unless some subset lists the address as not ready for it.
            ready_map = by_port.get(pkey)
            if ready_map is None:
                ready_map = by_port[pkey] = dict.fromkeys(rkeys, True)
            else:
                for k in rkeys:
                    ready_map.setdefault(k, True)
            ready_map.update(dict.fromkeys(nkeys, False))
    groups: dict[tuple, list] = {}
    for pkey, ready_map in by_port.items():
        gkey = tuple(sorted(ready_map.items()))
        groups.setdefault(gkey, []).append(port_objs[pkey])
    out = []
    for gkey, ports in groups.items():
        # gkey is sorted by address key (each once): the addresses come out in order.
        ready = [addresses[a] for a, r in gkey if r]
        not_ready = [addresses[a] for a, r in gkey if not r]
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        real_ports = [p for p in ports if p is not None]
        if real_ports:
            subset["ports"] = sorted(real_ports, key=lambda p: (
                p.get("name", ""), p.get("port", 0), p.get("protocol", "")))
        out.append(subset)
    if len(out) > 1:
        out.sort(key=lambda s: json.dumps(s, sort_keys=True))
    ep["subsets"] = out
    _canonical(ep)


def _repack_onto(ss: dict, old: dict, old_ids: tuple | None, memo: _AddressMemo
                 ) -> tuple[list[dict], tuple] | None:
    """What :func:`_repack_subsets` makes of the single subset ``ss``, given ``old``, a
    canonical object with one subset, and ``old_ids``, its :func:`_address_ids`; with the
    result's own address ids (the same shape). None when the shortcut does not apply (an
    address object listed twice, or two addresses with one key: the general path decides).
    ``memo`` may hold what validation found of ``ss``'s address lists already."""
    osubs = old.get("subsets") or ()
    if len(osubs) != 1 or old_ids is None:
        return None
    ready, not_ready = ss.get("addresses") or (), ss.get("notReadyAddresses") or ()
    r_ids, r_set, r_new, r_at, r_against = memo.get((0, id(ready))) or _ids_of(ready)
    n_ids, n_set, n_new, n_at, n_against = memo.get((1, id(not_ready))) or _ids_of(not_ready)
    if len(r_set) != len(r_ids) or len(n_set) != len(n_ids) or not r_set.isdisjoint(n_set):
        return None
    lists = []
    out_ids: list = []
    fresh = []
    for objs, ids, id_set, new_ids, new_at, against, old_list, old_order, old_set in (
            (ready, r_ids, r_set, r_new, r_at, r_against, osubs[0].get("addresses") or (),
             old_ids[0], old_ids[1]),
            (not_ready, n_ids, n_set, n_new, n_at, n_against,
             osubs[0].get("notReadyAddresses") or (), old_ids[2], old_ids[3])):
        if against is not old_set:
            new_ids = id_set - old_set
            new_at = itertools.compress(range(len(ids)), map(new_ids.__contains__, ids))
        # ``kept_ids`` follows ``kept`` (the ids of its objects, in its order). Every stored
        # address is kept when all of this side's other addresses are new ones.
        if len(id_set) - len(new_ids) == len(old_set):
            kept = list(old_list)
            kept_ids = list(old_order)
        else:
            mask = list(map(id_set.__contains__, old_order))
            kept = list(itertools.compress(old_list, mask))
            kept_ids = list(itertools.compress(old_order, mask))
        if new_ids:
            for j in new_at:
                addr = objs[j]
                i = ids[j]
                key = _address_key(addr)
                at = bisect.bisect_left(kept, key, key=_address_key)
                if at < len(kept) and _address_key(kept[at]) == key:
                    return None
                kept.insert(at, addr)
                kept_ids.insert(at, i)
                fresh.append((key, len(lists)))
        lists.append(kept)
        # Every address of ``ss`` is in ``kept`` once (no id twice, checked above).
        out_ids += (kept_ids, id_set)
    for key, side in fresh:  # no key on both sides
        other = lists[1 - side]
        at = bisect.bisect_left(other, key, key=_address_key)
        if at < len(other) and _address_key(other[at]) == key:
            return None
    port_objs: dict[str, dict | None] = {}
    for port in ss.get("ports") or (None,):
        port_objs[json.dumps(port, sort_keys=True) if port is not None else ""] = port
    subset: dict[str, Any] = {}
    if lists[0]:
        subset["addresses"] = lists[0]
    if lists[1]:
        subset["notReadyAddresses"] = lists[1]
    real_ports = [p for p in port_objs.values() if p is not None]
    if real_ports:
        subset["ports"] = sorted(real_ports, key=lambda p: (
            p.get("name", ""), p.get("port", 0), p.get("protocol", "")))
    return [subset], tuple(out_ids)


def _ids_of(addresses) -> tuple[list[int], set[int], None, None, None]:
    """The ids of ``addresses`` in order and as a set (in the shape of ``_AddressMemo``
    entries, without what validation adds)."""
    ids = list(map(id, addresses))
    return ids, set(ids), None, None, None


# --------------------------------------------------------------------------------------------
# ConfigMap, Secret

_MAX_SECRET_SIZE = 1024 * 1024
_IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"


def _validate_config_map(cm: dict, gates: Gates) -> list[FieldError]:
    """``ValidateConfigMap``: valid keys, no key in both bags, 1 MiB in all."""
    errs = validate_object_meta(cm.get("metadata") or {}, True, name_is_dns1123_subdomain)
    data = cm.get("data") or {}
    binary = cm.get("binaryData") or {}
    total = 0
    for key, value in data.items():
        for m in names.is_config_map_key(key):
            errs.append(FieldError.invalid(f"data[{key}]", key, m))
        if key in binary:
            errs.append(FieldError.invalid(f"data[{key}]", key,
                                           "duplicate of key present in binaryData"))
        total += len(value) if value.isascii() else len(value.encode("utf-8"))
    for key, value in binary.items():
        for m in names.is_config_map_key(key):
            errs.append(FieldError.invalid(f"binaryData[{key}]", key, m))
        total += _b64_len(value)
    if total > _MAX_SECRET_SIZE:
        errs.append(FieldError.too_long("", "", _MAX_SECRET_SIZE))
    return errs


def _validate_config_map_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidateConfigMapUpdate``."""
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(FieldError.forbidden("immutable", _IMMUTABLE_WHEN_SET))
        if new.get("data") != old.get("data"):
            errs.append(FieldError.forbidden("data", _IMMUTABLE_WHEN_SET))
        if new.get("binaryData") != old.get("binaryData"):
            errs.append(FieldError.forbidden("binaryData", _IMMUTABLE_WHEN_SET))
    errs.extend(_validate_config_map(new, gates))
    return errs


def _b64_len(value: str) -> int:
    """The length of base64-encoded bytes as the API holds them."""
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return len(value) * 3 // 4


def _b64_bytes(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode("utf-8", "surrogatepass")


def _go_json_error(raw: bytes) -> str | None:
    """Roughly Go's ``json.Unmarshal`` error for a ``map[string]interface{}`` target."""
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        text = raw.decode("utf-8", "replace").lstrip()
        if not text or getattr(exc, "pos", 0) >= len(raw.rstrip()):
            return "unexpected end of JSON input"
        pos = getattr(exc, "pos", 0)
        ch = raw.decode("utf-8", "replace")[pos:pos + 1] or "?"
        return f"invalid character '{ch}' looking for beginning of value"
    if not isinstance(parsed, dict):
        kind = {list: "array", str: "string", bool: "bool"}.get(type(parsed), "number")
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


def _validate_secret(secret: dict, gates: Gates) -> list[FieldError]:
    """``ValidateSecret``: valid keys, 1 MiB of data, the keys each secret type needs."""
    meta = secret.get("metadata") or {}
    errs = validate_object_meta(meta, True, name_is_dns1123_subdomain)
    data = secret.get("data") or {}
    total = 0
    for key, value in data.items():
        for m in names.is_config_map_key(key):
            errs.append(FieldError.invalid(f"data[{key}]", key, m))
        total += _b64_len(value)
    if total > _MAX_SECRET_SIZE:
        errs.append(FieldError.too_long("data", "", _MAX_SECRET_SIZE))
    stype = secret.get("type", "")
    if stype == "kubernetes.io/service-account-token":
        key = "kubernetes.io/service-account.name"
        if not (meta.get("annotations") or {}).get(key):
            errs.append(FieldError.required(f"metadata.annotations[{key}]", ""))
    elif stype in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if stype == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errs.append(FieldError.required(f"data[{key}]", ""))
        else:
            problem = _go_json_error(_b64_bytes(data[key]) or b"")
            if problem:
                errs.append(FieldError.invalid(f"data[{key}]", "<secret contents redacted>",
                                               problem))
    elif stype == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.append(FieldError.required("data[username]", ""))
            errs.append(FieldError.required("data[password]", ""))
    elif stype == "kubernetes.io/ssh-auth":
        if not _b64_bytes(data.get("ssh-privatekey")):
            errs.append(FieldError.required("data[ssh-privatekey]", ""))
    elif stype == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                errs.append(FieldError.required(f"data[{key}]", ""))
    return errs


def _validate_secret_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    """``ValidateSecretUpdate``: the type never changes; nothing changes when immutable."""
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    errs.extend(validate_immutable_field(new.get("type", ""), old.get("type", ""), "type"))
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(FieldError.forbidden("immutable", _IMMUTABLE_WHEN_SET))
        if new.get("data") != old.get("data"):
            errs.append(FieldError.forbidden("data", _IMMUTABLE_WHEN_SET))
    errs.extend(_validate_secret(new, gates))
    return errs


# --------------------------------------------------------------------------------------------
# Event (core/v1: only upstream's legacy checks run for this API version)


def _validate_event(ev: dict, gates: Gates) -> list[FieldError]:
    """``legacyValidateEvent`` (``ValidateEventCreate`` for a v1 request runs nothing else;
    in particular core/v1 Event names and metadata are not validated)."""
    meta = ev.get("metadata") or {}
    ns = meta.get("namespace", "")
    involved_ns = (ev.get("involvedObject") or {}).get("namespace", "")
    if ns == involved_ns and not ev.get("eventTime") and not names.is_dns1123_subdomain(ns):
        # (what EventRecorder writes about a namespaced object: nothing below can object)
        return []
    errs: list[FieldError] = []
    if not ev.get("eventTime"):
        if not involved_ns:
            if ns not in ("", "default"):
                errs.append(FieldError.invalid("involvedObject.namespace", involved_ns,
                                               "does not match event.namespace"))
        elif ns != involved_ns:
            errs.append(FieldError.invalid("involvedObject.namespace", involved_ns,
                                           "does not match event.namespace"))
    else:
        if not involved_ns and ns not in ("default", "kube-system"):
            errs.append(FieldError.invalid("involvedObject.namespace", involved_ns,
                                           "does not match event.namespace"))
        controller = ev.get("reportingComponent", "")
        if not controller:
            errs.append(FieldError.required("reportingController", ""))
        errs.extend(_qualified_name_errors(controller, "reportingController"))
        for key, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
            v = ev.get(key, "")
            if not v:
                errs.append(FieldError.required(key, ""))
            if len(v) > limit:
                errs.append(FieldError.invalid(key, "", f"can have at most {limit} characters"))
        if len(ev.get("message", "")) > 1024:
            errs.append(FieldError.invalid("message", "", "can have at most 1024 characters"))
    errs.extend(_dns1123_subdomain_errors(ns, "namespace"))
    return errs


def _validate_event_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    return _validate_event(new, gates)


# --------------------------------------------------------------------------------------------
# ServiceAccount


def _validate_service_account(sa: dict, gates: Gates) -> list[FieldError]:
    """``ValidateServiceAccount``."""
    return validate_object_meta(sa.get("metadata") or {}, True, name_is_dns1123_subdomain)


def _validate_service_account_update(new: dict, old: dict, gates: Gates) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    errs.extend(_validate_service_account(new, gates))
    return errs


def _clean_secret_references(sa: dict, *_: Any) -> None:
    """``cleanSecretReferences``: a service account's secret references keep only the name."""
    secrets = sa.get("secrets")
    if secrets:
        sa["secrets"] = [{"name": s["name"]} if s.get("name") else {} for s in secrets]


# --------------------------------------------------------------------------------------------
# Canonicalize: upstream's strategies normalize some objects after a successful validation.
# The Strategy contract has no such hook, so the validators below do it last, on the API
# layer's private copy, only when there is nothing to report.


def _validate_endpoints_then_canonicalize(ep: dict, gates: Gates) -> list[FieldError]:
    """``ValidateEndpointsCreate``, then ``endpointsStrategy.Canonicalize`` (RepackSubsets)."""
    errs = _validate_endpoints(ep, gates)
    if not errs:
        _repack_subsets(ep)
    return errs


def _validate_endpoints_update_then_canonicalize(new: dict, old: dict,
                                                 gates: Gates) -> list[FieldError]:
    memo: _AddressMemo = {}
    errs = _validate_endpoints_update(new, old, gates, memo)
    if not errs:
        _repack_subsets(new, old, memo)
    return errs


def _validate_namespace_then_canonicalize(ns: dict, gates: Gates) -> list[FieldError]:
    """``ValidateNamespace``, then ``namespaceStrategy.Canonicalize``: the
    ``kubernetes.io/metadata.name`` label matches the name, also a generated one."""
    errs = _validate_namespace(ns, gates)
    if not errs:
        _default_namespace(ns)
    return errs


STRATEGIES: dict[str, Strategy] = {
    "Pod": Strategy(
        default=_default_pod,
        prepare_for_create=_prepare_pod_create,
        prepare_for_update=_prepare_pod_update,
        validate=_validate_pod,
        validate_update=_validate_pod_update,
        validate_status_update=_validate_pod_status_update,
    ),
    "Service": Strategy(
        default=_default_service,
        prepare_for_create=_prepare_service_create,
        prepare_for_update=_prepare_service_update,
        validate=_validate_service,
        validate_update=_validate_service_update,
        validate_status_update=_validate_service_status_update,
    ),
    "Namespace": Strategy(
        default=_default_namespace,
        prepare_for_create=_prepare_namespace_create,
        prepare_for_update=_prepare_namespace_update,
        validate=_validate_namespace_then_canonicalize,
        validate_update=_validate_namespace_update,
        validate_status_update=_validate_namespace_status_update,
    ),
    "Node": Strategy(
        default=_default_node,
        prepare_for_create=_prepare_node_create,
        prepare_for_update=_prepare_node_update,
        validate=_validate_node,
        validate_update=_validate_node_update,
        validate_status_update=_validate_node_update,
    ),
    "Endpoints": Strategy(
        default=_default_endpoints,
        validate=_validate_endpoints_then_canonicalize,
        validate_update=_validate_endpoints_update_then_canonicalize,
    ),
    "ConfigMap": Strategy(
        validate=_validate_config_map,
        validate_update=_validate_config_map_update,
    ),
    "Secret": Strategy(
        default=_default_secret,
        validate=_validate_secret,
        validate_update=_validate_secret_update,
    ),
    "Event": Strategy(
        validate=_validate_event,
        validate_update=_validate_event_update,
    ),
    "ServiceAccount": Strategy(
        prepare_for_create=_clean_secret_references,
        prepare_for_update=_clean_secret_references,
        validate=_validate_service_account,
        validate_update=_validate_service_account_update,
    ),
}
