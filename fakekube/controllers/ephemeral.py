"""The ephemeral volume controller: a PersistentVolumeClaim for every generic ephemeral
volume of a pod.

Follows ``kubernetes/kubernetes:pkg/controller/volume/ephemeral/controller.go`` and
``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/storage/ephemeral/ephemeral.go``
(v1.31):

- for each pod volume with ``ephemeral.volumeClaimTemplate`` the claim
  ``<pod name>-<volume name>`` is created in the pod's namespace, with the template's labels,
  annotations and spec, owned by the pod (controller, blockOwnerDeletion); the garbage
  collector deletes it with the pod. A replacement pod (a new name) gets a new claim and so a
  new volume: a Deployment's pod never gets the data of the pod it replaces (SPEC.md DEP-3 b);
- a claim of that name that the pod does not control is left alone: event ``Warning
  FailedBinding`` ``ephemeral volume <vol>: PVC <ns>/<claim> was not created for pod
  <ns>/<pod> (pod is not owner)``, and the pod waits;
- pods being deleted are skipped; pod updates are ignored (a pod's volumes cannot change);
  a deleted claim is re-created for the pods that still use it.

Upstream retries a pod whose claim belongs to someone else with backoff, for ever. Here the
pod is looked at again when something can change the answer, when such a claim is deleted,
so that ``settle()`` does not chase a retry that finds nothing new. A claim the API server
rejects as invalid is a terminal error for that pod; other API errors are retried with
backoff as upstream.
"""

from __future__ import annotations

from .. import errors
from ..api.objects import deep_copy
from ..api.store import ADDED, DELETED, WatchEvent
from ..runtime import Controller, Result

__all__ = ["EphemeralVolumeController", "volume_claim_name", "volume_is_for_pod"]

FAILED_BINDING = "FailedBinding"  # pkg/controller/volume/events


def volume_claim_name(pod: dict, volume: dict) -> str:
    """``ephemeral.VolumeClaimName``: ``<pod name>-<volume name>``."""
    return f"{pod['metadata']['name']}-{volume['name']}"


def volume_is_for_pod(pod: dict, pvc: dict) -> str | None:
    """``ephemeral.VolumeIsForPod``: None if the claim was created for this pod (same
    namespace, the pod is its controller), else the error text."""
    pm, cm = pod["metadata"], pvc["metadata"]
    owned = any(r.get("controller") and r.get("uid") == pm.get("uid")
                for r in cm.get("ownerReferences") or ())
    if cm.get("namespace") != pm.get("namespace") or not owned:
        return (f"PVC {cm.get('namespace')}/{cm['name']} was not created for pod "
                f"{pm.get('namespace')}/{pm['name']} (pod is not owner)")
    return None


def _ephemeral_volumes(pod: dict) -> list[dict]:
    return [v for v in (pod.get("spec") or {}).get("volumes") or () if v.get("ephemeral")]


class EphemeralVolumeController(Controller):
    """Keys are ``(namespace, name)`` of pods."""

    name = "ephemeral-volume-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.pods = ctx.informer("Pod")
        self.claims = ctx.informer("PersistentVolumeClaim")
        self.recorder = ctx.recorder("ephemeral_volume")
        # The claims each pod's ephemeral volumes need, so that a deleted claim finds its
        # pods at once (upstream's PodPVC index): (namespace, claim) -> pod names.
        self._users: dict[tuple[str, str], set[str]] = {}
        self.pods.table.handlers.append(self._on_pod)
        self.claims.table.handlers.append(self._on_claim)
        for pod in list(self.pods):  # added to a running cluster: look at what exists
            self._on_pod(WatchEvent(ADDED, pod, None, 0))

    def _on_pod(self, ev: WatchEvent) -> None:
        if ev.type == ADDED:
            pod = ev.obj
            volumes = _ephemeral_volumes(pod)
            if not volumes:
                return
            m = pod["metadata"]
            for v in volumes:
                self._users.setdefault((m["namespace"], volume_claim_name(pod, v)),
                                       set()).add(m["name"])
            if not m.get("deletionTimestamp"):
                self.queue.add((m["namespace"], m["name"]))
        elif ev.type == DELETED:
            pod = ev.obj
            m = pod["metadata"]
            for v in _ephemeral_volumes(pod):
                key = (m["namespace"], volume_claim_name(pod, v))
                users = self._users.get(key)
                if users is not None:
                    users.discard(m["name"])
                    if not users:
                        del self._users[key]

    def _on_claim(self, ev: WatchEvent) -> None:
        if ev.type != DELETED:
            return
        m = ev.obj["metadata"]
        for pod_name in sorted(self._users.get((m["namespace"], m["name"]), ())):
            pod = self.pods.get(pod_name, m["namespace"])
            if pod is not None and not pod["metadata"].get("deletionTimestamp"):
                self.queue.add((m["namespace"], pod_name))

    def reconcile(self, key: tuple) -> Result | None:
        ns, name = key
        pod = self.pods.get(name, ns)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return None
        for volume in _ephemeral_volumes(pod):
            problem = self._handle_volume(pod, volume)
            if problem is not None:
                self.recorder.event(pod, "Warning", FAILED_BINDING,
                                    f"ephemeral volume {volume['name']}: {problem}")
                return None
        return None

    def _handle_volume(self, pod: dict, volume: dict) -> str | None:
        """``handleVolume``: make sure the claim exists and is this pod's; returns the
        problem when the claim is someone else's. API errors propagate (after the event)."""
        ns = pod["metadata"]["namespace"]
        claim_name = volume_claim_name(pod, volume)
        existing = self.claims.get(claim_name, ns)
        if existing is not None:
            return volume_is_for_pod(pod, existing)
        template = volume["ephemeral"].get("volumeClaimTemplate") or {}
        tmeta = template.get("metadata") or {}
        meta = {"name": claim_name, "namespace": ns,
                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod",
                                     "name": pod["metadata"]["name"],
                                     "uid": pod["metadata"]["uid"], "controller": True,
                                     "blockOwnerDeletion": True}]}
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        if tmeta.get("labels"):
            meta["labels"] = dict(tmeta["labels"])
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                 "spec": deep_copy(template.get("spec") or {})}
        try:
            self.client.create(claim)
        except errors.ApiError as exc:
            self.recorder.event(pod, "Warning", FAILED_BINDING,
                                f"ephemeral volume {volume['name']}: create PVC {claim_name}: "
                                f"{exc.message}")
            if isinstance(exc, (errors.Invalid, errors.BadRequest)):
                raise errors.TerminalError(
                    f"pod {ns}/{pod['metadata']['name']}, ephemeral volume {volume['name']}: "
                    f"create PVC {claim_name}: {exc.message}") from exc
            raise
        return None
