"""What the storage controllers share: upstream's annotation and finalizer names, and small
pure helpers over claims, volumes, classes and pods.

Constants and helper semantics follow
``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go``
(``AnnBindCompleted`` ... ``GetPersistentVolumeClaimClass``),
``kubernetes/kubernetes:pkg/volume/util/util.go`` (``IsPodTerminated``) and
``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/storage/ephemeral/ephemeral.go``
(``VolumeClaimName``, ``VolumeIsForPod``).

Everything here reads stored objects and never changes them.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any, Iterable

from ...api.quantity import QuantityError, parse_quantity
from ...api.store import ADDED, DELETED, MODIFIED, WatchEvent

__all__ = [
    "ANN_BIND_COMPLETED", "ANN_BOUND_BY_CONTROLLER", "ANN_SELECTED_NODE",
    "ANN_DYNAMICALLY_PROVISIONED", "ANN_STORAGE_PROVISIONER", "ANN_BETA_STORAGE_PROVISIONER",
    "ANN_BETA_STORAGE_CLASS", "ANN_MIGRATED_TO", "ANN_IS_DEFAULT_CLASS",
    "ANN_BETA_IS_DEFAULT_CLASS", "NOT_SUPPORTED_PROVISIONER", "PV_DELETION_FINALIZER",
    "PVC_PROTECTION_FINALIZER", "PV_PROTECTION_FINALIZER", "WAIT_FOR_FIRST_CONSUMER",
    "claim_class", "claim_has_class", "volume_class", "storage_request", "storage_capacity",
    "quantity_of", "claim_volume_mode", "volume_volume_mode", "annotations_of",
    "finalizers", "is_default_class", "pod_claim_names", "is_pod_terminated", "PodsByClaim",
    "claim_reference",
]

ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
ANN_MIGRATED_TO = "pv.kubernetes.io/migrated-to"
ANN_IS_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_BETA_IS_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner"
PV_DELETION_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"
PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"
PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"

_EMPTY: dict = {}
_ZERO = Fraction(0)


def annotations_of(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or _EMPTY


def finalizers(obj: dict) -> list:
    return obj["metadata"].get("finalizers") or []


def claim_class(claim: dict) -> str:
    """``GetPersistentVolumeClaimClass``: the beta annotation wins over
    ``spec.storageClassName``; ``""`` for none."""
    ann = claim["metadata"].get("annotations")
    if ann and ANN_BETA_STORAGE_CLASS in ann:
        return ann[ANN_BETA_STORAGE_CLASS]
    return (claim.get("spec") or _EMPTY).get("storageClassName") or ""


def claim_has_class(claim: dict) -> bool:
    """``PersistentVolumeClaimHasClass``: an explicit ``""`` counts as a class."""
    ann = claim["metadata"].get("annotations")
    if ann and ANN_BETA_STORAGE_CLASS in ann:
        return True
    return (claim.get("spec") or _EMPTY).get("storageClassName") is not None


def volume_class(pv: dict) -> str:
    """``GetPersistentVolumeClass``."""
    ann = pv["metadata"].get("annotations")
    if ann and ANN_BETA_STORAGE_CLASS in ann:
        return ann[ANN_BETA_STORAGE_CLASS]
    return (pv.get("spec") or _EMPTY).get("storageClassName") or ""


@lru_cache(maxsize=8192)
def _parse_text(text: str) -> Fraction:
    return parse_quantity(text)


def quantity_of(value: Any) -> Fraction:
    """A quantity (wire string or number) as an exact Fraction; a missing or malformed one is
    zero, like Go's zero ``resource.Quantity``."""
    if value is None:
        return _ZERO
    try:
        return _parse_text(value) if type(value) is str else parse_quantity(value)
    except (QuantityError, ValueError, TypeError):
        return _ZERO


def storage_request(claim: dict) -> Fraction:
    """``claim.spec.resources.requests[storage]`` (zero when unset)."""
    resources = (claim.get("spec") or _EMPTY).get("resources") or _EMPTY
    return quantity_of((resources.get("requests") or _EMPTY).get("storage"))


def storage_capacity(pv: dict) -> Fraction:
    """``pv.spec.capacity[storage]`` (zero when unset)."""
    return quantity_of(((pv.get("spec") or _EMPTY).get("capacity") or _EMPTY).get("storage"))


def claim_volume_mode(claim: dict) -> str:
    return (claim.get("spec") or _EMPTY).get("volumeMode") or "Filesystem"


def volume_volume_mode(pv: dict) -> str:
    return (pv.get("spec") or _EMPTY).get("volumeMode") or "Filesystem"


def is_default_class(sc: dict) -> bool:
    ann = sc["metadata"].get("annotations") or _EMPTY
    return ann.get(ANN_IS_DEFAULT_CLASS) == "true" or ann.get(ANN_BETA_IS_DEFAULT_CLASS) == "true"


def claim_reference(claim: dict) -> dict:
    """``reference.GetReference`` of a claim, as the binder and the provisioner write it into
    ``pv.spec.claimRef``."""
    m = claim["metadata"]
    return {"kind": "PersistentVolumeClaim", "namespace": m["namespace"], "name": m["name"],
            "uid": m.get("uid", ""), "apiVersion": "v1",
            "resourceVersion": m.get("resourceVersion", "")}


def pod_claim_names(pod: dict) -> list[tuple[str, bool]]:
    """The claims a pod's volumes name, as ``(claim name, is generic ephemeral)``; an
    ephemeral volume's claim is ``<pod>-<volume>`` (``ephemeral.VolumeClaimName``)."""
    vols = (pod.get("spec") or _EMPTY).get("volumes")
    if not vols:
        return []
    out = []
    for v in vols:
        src = v.get("persistentVolumeClaim")
        if src is not None:
            name = src.get("claimName")
            if name:
                out.append((name, False))
        elif v.get("ephemeral") is not None:
            out.append((f"{pod['metadata']['name']}-{v.get('name', '')}", True))
    return out


def _not_running(statuses: Iterable[dict] | None) -> bool:
    for s in statuses or ():
        state = s.get("state") or _EMPTY
        if state.get("terminated") is None and state.get("waiting") is None:
            return False
    return True


def is_pod_terminated(pod: dict) -> bool:
    """``util.IsPodTerminated``: phase Failed or Succeeded, or being deleted with no
    container running."""
    status = pod.get("status") or _EMPTY
    if status.get("phase") in ("Failed", "Succeeded"):
        return True
    return bool(pod["metadata"].get("deletionTimestamp")) and _not_running(
        status.get("initContainerStatuses")) and _not_running(
        status.get("containerStatuses")) and _not_running(
        status.get("ephemeralContainerStatuses"))


class PodsByClaim:
    """A controller's own index of pods by the claims they name (upstream's ``PodPVCIndex``),
    kept up to date from Pod watch events."""

    def __init__(self) -> None:
        self._pods: dict[tuple[str, str], set[str]] = {}

    def observe(self, ev: WatchEvent) -> tuple[list, list]:
        """Update the index from one Pod event; returns the claim names of the old and the
        new state (``[]`` when absent)."""
        if ev.type == MODIFIED and ev.old is not None and ev.old.get("spec") is ev.obj.get("spec"):
            # The same spec object (a status write): the same claims, nothing to re-index.
            names = pod_claim_names(ev.obj)
            return names, names
        old = [] if ev.type == ADDED or ev.old is None else pod_claim_names(ev.old)
        new = [] if ev.type == DELETED else pod_claim_names(ev.obj)
        if old != new or ev.type != MODIFIED:
            m = ev.obj["metadata"]
            ns, pod = m["namespace"], m["name"]
            for name, _ in old:
                users = self._pods.get((ns, name))
                if users is not None:
                    users.discard(pod)
                    if not users:
                        del self._pods[(ns, name)]
            if ev.type != DELETED:
                for name, _ in new:
                    self._pods.setdefault((ns, name), set()).add(pod)
        return old, new

    def add_pod(self, pod: dict) -> None:
        m = pod["metadata"]
        for name, _ in pod_claim_names(pod):
            self._pods.setdefault((m["namespace"], name), set()).add(m["name"])

    def pods(self, namespace: str, claim: str) -> list[str]:
        """Names of the pods that name this claim, sorted."""
        users = self._pods.get((namespace, claim))
        return sorted(users) if users else []
