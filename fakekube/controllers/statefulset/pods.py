"""Pod and claim writes of the StatefulSet controller (``stateful_pod_control.go``).

:class:`StatefulPodControl` creates a pod after its claims, fixes a pod's identity, storage
and claim ownership, deletes pods, and records the events upstream records, all through an
:class:`ObjectManager`. The real manager reads through informers and writes through the API
client; tests may give a stub.
"""

from __future__ import annotations

from typing import Protocol

from ... import errors
from ...api.objects import deep_copy
from . import policy

__all__ = ["ObjectManager", "ApiObjectManager", "StatefulPodControl", "ClaimBeingDeleted"]


class ObjectManager(Protocol):
    """Reads and writes of pods and claims. Reads return stored objects (read-only)."""

    def create_pod(self, pod: dict) -> dict: ...
    def update_pod(self, pod: dict) -> dict: ...
    def delete_pod(self, pod: dict) -> None: ...
    def get_claim(self, namespace: str, name: str) -> dict | None: ...
    def create_claim(self, claim: dict) -> dict: ...
    def update_claim(self, claim: dict) -> dict: ...


class ApiObjectManager:
    def __init__(self, client, claims_informer) -> None:
        self.client = client
        self.claims = claims_informer

    def create_pod(self, pod: dict) -> dict:
        return self.client.create(pod)

    def update_pod(self, pod: dict) -> dict:
        return self.client.update(pod)

    def delete_pod(self, pod: dict) -> None:
        m = pod["metadata"]
        self.client.api.delete(self.client.rt("Pod"), m["name"], m["namespace"],
                               preconditions={"uid": m["uid"]}, copy_out=False)

    def get_claim(self, namespace: str, name: str) -> dict | None:
        return self.claims.get(name, namespace)

    def create_claim(self, claim: dict) -> dict:
        return self.client.create(claim)

    def update_claim(self, claim: dict) -> dict:
        return self.client.update(claim)


class ClaimBeingDeleted(errors.ApiError):
    """A claim the pod needs is being deleted: the pod cannot be created now."""

    code, reason = 409, "Conflict"


class StatefulPodControl:
    def __init__(self, objects: ObjectManager, recorder, gates: dict) -> None:
        self.objects = objects
        self.recorder = recorder
        self.gates = gates

    # -- events (recordPodEvent / recordClaimEvent) -----------------------------------------

    def _pod_event(self, verb: str, sset: dict, pod: dict, err: Exception | None) -> None:
        name, set_name = pod["metadata"]["name"], sset["metadata"]["name"]
        if err is None:
            self.recorder.event(sset, "Normal", f"Successful{verb.capitalize()}",
                                f"{verb} Pod {name} in StatefulSet {set_name} successful")
        else:
            self.recorder.event(sset, "Warning", f"Failed{verb.capitalize()}",
                                f"{verb} Pod {name} in StatefulSet {set_name} failed error: "
                                f"{_err_text(err)}")

    def _claim_event(self, verb: str, sset: dict, pod: dict, claim: dict,
                     err: Exception | None) -> None:
        c, p, s = claim["metadata"]["name"], pod["metadata"]["name"], sset["metadata"]["name"]
        if err is None:
            self.recorder.event(sset, "Normal", f"Successful{verb.capitalize()}",
                                f"{verb} Claim {c} Pod {p} in StatefulSet {s} success")
        else:
            self.recorder.event(sset, "Warning", f"Failed{verb.capitalize()}",
                                f"{verb} Claim {c} for Pod {p} in StatefulSet {s} failed "
                                f"error: {_err_text(err)}")

    # -- claims ----------------------------------------------------------------------------

    def _create_claims(self, sset: dict, pod: dict, only_missing: bool = False) -> None:
        """``createPersistentVolumeClaims``: each claim is created unless it exists; an
        existing claim is reused as it is, unless it is being deleted. A claim is built only
        when none of its name exists (most syncs of a pending pod find them all)."""
        sm = sset["metadata"]
        ordinal = policy.ordinal_of(pod)
        for tname, tmpl in policy.claim_templates(sset).items():
            name = policy.claim_name(tname, sm["name"], ordinal)
            existing = self.objects.get_claim(sm["namespace"], name)
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp") and not only_missing:
                    raise ClaimBeingDeleted(f"pvc {name} is being deleted")
                continue
            claim = policy.claim_from_template(sset, tmpl, ordinal)
            try:
                self.objects.create_claim(claim)
            except errors.AlreadyExists:
                continue
            except errors.ApiError as exc:
                self._claim_event("create", sset, pod, claim, exc)
                raise
            self._claim_event("create", sset, pod, claim, None)

    def create_missing_claims(self, sset: dict, pod: dict) -> None:
        self._create_claims(sset, pod, only_missing=True)

    def pod_claim_is_stale(self, sset: dict, pod: dict) -> bool:
        """SS-33: with whenScaled=Delete, a claim still owned by an older pod of this name
        blocks the pod until the garbage collector has removed it."""
        if policy.retention_policy(sset)[1] != "Delete":
            return False
        ns = sset["metadata"]["namespace"]
        for name in policy.claim_names(sset, policy.ordinal_of(pod)):
            existing = self.objects.get_claim(ns, name)
            if existing is not None and policy._has_stale_ref(existing, pod, "Pod"):
                return True
        return False

    def claims_match_retention_policy(self, sset: dict, pod: dict) -> bool:
        ns = sset["metadata"]["namespace"]
        for name in policy.claim_names(sset, policy.ordinal_of(pod)):
            existing = self.objects.get_claim(ns, name)
            if existing is None:
                return True  # an error upstream, which the caller treats as a match
            if not policy.claim_owner_up_to_date(existing, sset, pod):
                return False
        return True

    def update_pod_claim_for_retention_policy(self, sset: dict, pod: dict) -> None:
        ns = sset["metadata"]["namespace"]
        for name in policy.claim_names(sset, policy.ordinal_of(pod)):
            existing = self.objects.get_claim(ns, name)
            if existing is None or policy.claim_owner_up_to_date(existing, sset, pod):
                continue
            if policy.has_unexpected_controller(existing, sset, pod):
                self.recorder.event(
                    sset, "Warning", "ConflictingController",
                    f"PersistentVolumeClaim {existing['metadata']['name']} has a conflicting "
                    "OwnerReference that acts as a manging controller, the retention policy "
                    "is ignored for this claim")
            new = deep_copy(existing)
            refs = policy.updated_claim_owner_refs(existing, sset, pod)
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            try:
                self.objects.update_claim(new)
            except errors.ApiError as exc:
                self._claim_event("update", sset, pod, existing, exc)
                raise

    # -- pods ------------------------------------------------------------------------------

    def create_stateful_pod(self, sset: dict, pod: dict) -> None:
        """Claims first, then the pod (``CreateStatefulPod``). ``pod`` is handed over."""
        try:
            self._create_claims(sset, pod)
        except errors.ApiError as exc:
            self._pod_event("create", sset, pod, exc)
            raise
        try:
            created = self.objects.create_pod(pod)
        except errors.AlreadyExists:
            raise
        except errors.ApiError as exc:
            self._pod_event("create", sset, pod, exc)
            raise
        self._pod_event("create", sset, pod, None)
        if self.gates.get("StatefulSetAutoDeletePVC", True):
            self.update_pod_claim_for_retention_policy(sset, created)

    def update_stateful_pod(self, sset: dict, pod: dict) -> None:
        """Re-apply identity and storage and fix claim ownership (``UpdateStatefulPod``);
        ``pod`` is a private copy of the stored pod."""
        consistent = True
        if not policy.identity_matches(sset, pod):
            policy.update_identity(sset, pod, self.gates)
            consistent = False
        if not policy.storage_matches(sset, pod):
            policy.update_storage(sset, pod)
            consistent = False
            self.create_missing_claims(sset, pod)
        if self.gates.get("StatefulSetAutoDeletePVC", True) and not \
                self.claims_match_retention_policy(sset, pod):
            self.update_pod_claim_for_retention_policy(sset, pod)
        if consistent:
            return
        try:
            self.objects.update_pod(pod)
        except errors.ApiError as exc:
            self._pod_event("update", sset, pod, exc)
            raise
        self._pod_event("update", sset, pod, None)

    def delete_stateful_pod(self, sset: dict, pod: dict) -> None:
        try:
            self.objects.delete_pod(pod)
        except errors.NotFound:
            return
        except errors.ApiError as exc:
            self._pod_event("delete", sset, pod, exc)
            raise
        self._pod_event("delete", sset, pod, None)


def _err_text(err: Exception) -> str:
    return err.message if isinstance(err, errors.ApiError) else str(err)
