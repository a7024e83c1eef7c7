"""The ``pods/eviction`` subresource: a delete that honours PodDisruptionBudgets.

Follows kubernetes/kubernetes ``pkg/registry/core/pod/storage/eviction.go``:

- a pod that is already being deleted, terminal or Pending is deleted without a budget check;
- more than one budget selecting the pod: 500, the API does not support it;
- a budget whose status is behind its generation: 429, try again;
- a budget with no disruption allowed: 429 ``Cannot evict pod as it would violate the pod's
  disruption budget.`` with a ``DisruptionBudget`` cause; an unready pod may still go when the
  budget is healthy (the default ``IfHealthyBudget`` policy) or always (``AlwaysAllow``);
- otherwise the budget's ``disruptionsAllowed`` is decremented and the pod recorded in
  ``disruptedPods`` (one status write, with optimistic concurrency), the pod gets the
  ``DisruptionTarget`` condition (reason ``EvictionByEvictionAPI``), and it is deleted with
  the eviction's delete options. The answer is ``201`` with a Success Status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import errors
from .objects import deep_copy
from .selectors import SelectorError, label_selector_from_dict

if TYPE_CHECKING:
    from .server import ApiServer

TOO_MANY = "Cannot evict pod as it would violate the pod's disruption budget."


def _ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _too_many(cause: str) -> errors.TooManyRequests:
    return errors.TooManyRequests(TOO_MANY, {"causes": [{"reason": "DisruptionBudget",
                                                          "message": cause}]})


def evict(api: "ApiServer", name: str, namespace: str, body: Any, *, dry_run: bool = False
          ) -> dict:
    from .kinds.other import validate_eviction

    pod_rt = api.registry.by_kind("Pod")
    with api.store.lock:
        ev = api._decode(pod_rt, body, "Strict", owned=False, schema="policy_v1.Eviction")
        emeta = ev["metadata"]
        if emeta.get("name") and emeta["name"] != name:
            raise errors.BadRequest(f"name in URL does not match name in Eviction object")
        emeta.setdefault("name", name)
        emeta.setdefault("namespace", namespace)
        errs = validate_eviction(ev)
        if errs:
            raise errors.invalid("Eviction", "policy", name, errs)
        opts = ev.get("deleteOptions") or {}
        pod = api.get(pod_rt, name, namespace, copy_out=False)
        phase = (pod.get("status") or {}).get("phase")
        success = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                   "code": 201}

        def delete() -> dict:
            api.delete(pod_rt, name, namespace,
                       grace_period_seconds=opts.get("gracePeriodSeconds"),
                       propagation_policy=opts.get("propagationPolicy"),
                       preconditions=opts.get("preconditions"), dry_run=dry_run)
            return success

        if pod["metadata"].get("deletionTimestamp") or phase in ("Succeeded", "Failed",
                                                                  "Pending"):
            return _disrupt_and_delete(api, pod, delete, dry_run)
        pdb_rt = api.registry.by_kind("PodDisruptionBudget")
        labels = pod["metadata"].get("labels")
        pdbs = []
        for pdb in api.table(pdb_rt).objects.values():
            if pdb["metadata"]["namespace"] != namespace:
                continue
            try:
                sel = label_selector_from_dict((pdb.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if sel.matches(labels):
                pdbs.append(pdb)
        if not pdbs:
            return _disrupt_and_delete(api, pod, delete, dry_run)
        if len(pdbs) > 1:
            raise errors.InternalError("This pod has more than one PodDisruptionBudget, which "
                                       "the eviction subresource does not support.", None)
        pdb = pdbs[0]
        pm = pdb["metadata"]
        st = pdb.get("status") or {}
        if st.get("observedGeneration", 0) < pm.get("generation", 0):
            raise _too_many(f"The disruption budget {pm['name']} is still being processed by "
                            "the server.")
        policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
        if not _ready(pod):
            if policy == "AlwaysAllow" or st.get("currentHealthy", 0) >= st.get(
                    "desiredHealthy", 0) > 0:
                return _disrupt_and_delete(api, pod, delete, dry_run)
        if st.get("disruptionsAllowed", 0) <= 0:
            raise _too_many(f"The disruption budget {pm['name']} needs "
                            f"{st.get('desiredHealthy', 0)} healthy pods and has "
                            f"{st.get('currentHealthy', 0)} currently")
        new = deep_copy(pdb)
        nst = new.setdefault("status", {})
        nst["disruptionsAllowed"] = st.get("disruptionsAllowed", 0) - 1
        nst.setdefault("disruptedPods", {})[name] = api.now()
        if not dry_run:
            api.update(pdb_rt, new, pm["name"], namespace, subresource="status", owned=True,
                       copy_out=False, field_validation="Ignore")
        return _disrupt_and_delete(api, pod, delete, dry_run)


def _disrupt_and_delete(api: "ApiServer", pod: dict, delete, dry_run: bool) -> dict:
    if not dry_run and api.gates.get("PodDisruptionConditions", True):
        new = deep_copy(pod)
        status = new.setdefault("status", {})
        conds = [c for c in status.get("conditions") or () if c.get("type") != "DisruptionTarget"]
        conds.append({"type": "DisruptionTarget", "status": "True",
                      "lastTransitionTime": api.now(), "reason": "EvictionByEvictionAPI",
                      "message": "Eviction API: evicting"})
        status["conditions"] = conds
        m = pod["metadata"]
        api.update(api.registry.by_kind("Pod"), new, m["name"], m["namespace"],
                   subresource="status", owned=True, copy_out=False, field_validation="Ignore")
    return delete()
