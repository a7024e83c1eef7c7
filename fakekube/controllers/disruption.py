"""The disruption controller: keeps each PodDisruptionBudget's status.

Follows kubernetes/kubernetes ``pkg/controller/disruption/disruption.go`` (``trySync``,
``getExpectedPodCount``, ``countHealthyPods``, ``buildDisruptedPodMap``):

- ``expectedPods``: with an integer ``minAvailable``, the number of selected pods; otherwise
  the sum of the scales (``spec.replicas``) of the pods' controllers (a ReplicaSet owned by a
  Deployment counts as its Deployment);
- ``desiredHealthy``: ``minAvailable`` (a percentage of expected, rounded up), or expected
  minus ``maxUnavailable`` (a percentage rounded up);
- ``currentHealthy``: selected pods that are Ready, not being deleted, and not recently
  evicted (``disruptedPods``, forgotten after 2 minutes);
- ``disruptionsAllowed``: ``currentHealthy - desiredHealthy``, never below 0; the
  ``DisruptionAllowed`` condition says whether it is above 0.
"""

from __future__ import annotations

import math

from ..api.objects import deep_copy, parse_rfc3339
from ..api.selectors import SelectorError, label_selector_from_dict
from ..api.store import WatchEvent
from ..runtime import Controller, Result, EventRecorder

DELETION_TIMEOUT = 120.0  # seconds a disrupted pod is remembered (DeletionTimeout)


def _is_ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _int_or_percent(value, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        pct = int(text[:-1])
        v = pct * total / 100
        return math.ceil(v) if round_up else math.floor(v)
    return int(text)


class DisruptionController(Controller):
    name = "disruption-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.pdbs = ctx.informer("PodDisruptionBudget")
        self.pods = ctx.informer("Pod")
        self.recorder: EventRecorder = ctx.recorder("controllermanager")
        self.pdbs.table.handlers.append(self._on_pdb)
        self.pods.table.handlers.append(self._on_pod)
        for kind in ("StatefulSet", "Deployment", "ReplicaSet"):
            ctx.informer(kind).table.handlers.append(self._on_scalable)

    def _on_pdb(self, ev: WatchEvent) -> None:
        m = ev.obj["metadata"]
        self.queue.add((m["namespace"], m["name"]))

    def _on_pod(self, ev: WatchEvent) -> None:
        if not self.pdbs.table.objects:
            return  # no PodDisruptionBudget anywhere: no pod event concerns one
        for obj in (ev.old, ev.obj):
            if obj is None:
                continue
            ns = obj["metadata"]["namespace"]
            for pdb in self.pdbs.list(ns):
                if self._selects(pdb, obj):
                    self.queue.add((ns, pdb["metadata"]["name"]))

    def _on_scalable(self, ev: WatchEvent) -> None:
        if ev.old is not None and (ev.old.get("spec") or {}).get("replicas") == (
                ev.obj.get("spec") or {}).get("replicas"):
            return
        ns = ev.obj["metadata"]["namespace"]
        for pdb in self.pdbs.list(ns):
            self.queue.add((ns, pdb["metadata"]["name"]))

    @staticmethod
    def _selector(pdb: dict):
        try:
            return label_selector_from_dict((pdb.get("spec") or {}).get("selector"))
        except SelectorError:
            return None

    def _selects(self, pdb: dict, pod: dict) -> bool:
        sel = self._selector(pdb)
        return sel is not None and sel.matches(pod["metadata"].get("labels"))

    def reconcile(self, key: tuple) -> Result | None:
        ns, name = key
        pdb = self.pdbs.get(name, ns)
        if pdb is None:
            return None
        sel = self._selector(pdb)
        pods = [p for p in self.pods.list(ns)
                if sel is not None and sel.matches(p["metadata"].get("labels"))]
        spec = pdb.get("spec") or {}
        status = pdb.get("status") or {}
        now = self.clock.now()
        problem = None
        if "maxUnavailable" in spec:
            expected, problem = self._expected_scale(pods)
            max_unavailable = _int_or_percent(spec["maxUnavailable"], expected, True)
            desired = max(0, expected - max_unavailable)
        elif isinstance(spec.get("minAvailable"), str) and spec["minAvailable"].endswith("%"):
            expected, problem = self._expected_scale(pods)
            desired = _int_or_percent(spec["minAvailable"], expected, True)
        elif "minAvailable" in spec:
            expected = len(pods)
            desired = _int_or_percent(spec["minAvailable"], expected, True)
        else:
            expected, desired = len(pods), 0
        disrupted = dict(status.get("disruptedPods") or {})
        requeue = None
        live = {p["metadata"]["name"]: p for p in pods}
        for pod_name, stamp in list(disrupted.items()):
            pod = live.get(pod_name)
            age = now - parse_rfc3339(stamp)
            if pod is None or pod["metadata"].get("deletionTimestamp") or age >= DELETION_TIMEOUT:
                del disrupted[pod_name]
            else:
                left = DELETION_TIMEOUT - age
                requeue = left if requeue is None else min(requeue, left)
        healthy = sum(1 for p in pods if _is_ready(p) and not p["metadata"].get(
            "deletionTimestamp") and p["metadata"]["name"] not in disrupted)
        allowed = max(0, healthy - desired) if problem is None else 0
        if problem is not None:
            self.recorder.event(pdb, "Warning", "CalculateExpectedPodCountFailed",
                                f"Failed to calculate the number of expected pods: {problem}")
        new_status = {"observedGeneration": pdb["metadata"].get("generation", 1),
                      "disruptionsAllowed": allowed, "currentHealthy": healthy,
                      "desiredHealthy": desired, "expectedPods": expected}
        if disrupted:
            new_status["disruptedPods"] = disrupted
        reason = ("SufficientPods" if allowed > 0 else
                  "SyncFailed" if problem is not None else "InsufficientPods")
        old_cond = next((c for c in status.get("conditions") or ()
                         if c.get("type") == "DisruptionAllowed"), None)
        cond = {"type": "DisruptionAllowed", "status": "True" if allowed > 0 else "False",
                "reason": reason, "message": problem or "",
                "observedGeneration": new_status["observedGeneration"],
                "lastTransitionTime": self.api.now()}
        if old_cond is not None and old_cond.get("status") == cond["status"]:
            cond["lastTransitionTime"] = old_cond.get("lastTransitionTime", cond[
                "lastTransitionTime"])
        if not cond["message"]:
            del cond["message"]
        new_status["conditions"] = [cond]
        if new_status != status:
            new = deep_copy(pdb)
            new["status"] = new_status
            self.client.update_status(new)
        return Result(requeue_after=requeue) if requeue is not None else None

    def _expected_scale(self, pods: list[dict]) -> tuple[int, str | None]:
        """Sum of the replicas of the pods' controllers, each counted once."""
        seen: dict[tuple, int] = {}
        for pod in pods:
            m = pod["metadata"]
            ref = next((r for r in m.get("ownerReferences") or () if r.get("controller")), None)
            if ref is None:
                return 0, f'found no controllers for pod "{m["name"]}"'
            owner = self.client.get(ref["kind"], ref["name"], m["namespace"]) if ref[
                "kind"] in ("StatefulSet", "ReplicaSet", "Deployment") else None
            if owner is None or owner["metadata"]["uid"] != ref.get("uid"):
                return 0, f'found no controllers for pod "{m["name"]}"'
            if ref["kind"] == "ReplicaSet":
                dref = next((r for r in owner["metadata"].get("ownerReferences") or ()
                             if r.get("controller") and r.get("kind") == "Deployment"), None)
                if dref is not None:
                    dep = self.client.get("Deployment", dref["name"], m["namespace"])
                    if dep is not None and dep["metadata"]["uid"] == dref.get("uid"):
                        owner = dep
            ouid = owner["metadata"]["uid"]
            seen[ouid] = (owner.get("spec") or {}).get("replicas", 1)
        return sum(seen.values()), None
