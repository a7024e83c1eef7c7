"""The Deployment controller shell: events to keys, and ``syncDeployment``.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/deployment_controller.go`` (the
event handlers, ``getReplicaSetsForDeployment``, ``getPodMapForDeployment``,
``syncDeployment``), the object-changing half of ``sync.go`` (``getNewReplicaSet``,
``scaleReplicaSet``, ``cleanupDeployment``, ``syncDeploymentStatus``), ``rolling.go``,
``recreate.go``, ``rollback.go`` and ``progress.go``, and
``kubernetes/kubernetes:pkg/controller/controller_ref_manager.go`` (``ClaimReplicaSets``),
all v1.31. The decisions live in the pure modules beside this one (:mod:`.rolling`,
:mod:`.recreate`, :mod:`.sync`, :mod:`.progress`, :mod:`.history`, :mod:`.util`); this
module reads the informers, applies their plans through the API and records events.

One sync works on a private copy of the Deployment (as upstream's ``DeepCopy``) and keeps
it and its list of ReplicaSets up to date with what its own writes return. Upstream keeps
stale copies and lets the API server's conflict error requeue the sync; the outcome is the
same, without the detour.

Events (component ``deployment-controller``): ``ScalingReplicaSet`` ("Scaled up replica set
web-5d9c7b4f8 from 0 to 3", "Scaled down replica set ... from 3 to 2"),
``ReplicaSetCreateError``, ``SelectingAll``, ``DeploymentRollback`` and the rollback
warnings.
"""

from __future__ import annotations

from ... import errors
from ...api.objects import deep_copy
from ...api.selectors import LabelSelector, SelectorError, label_selector_from_dict
from ...api.store import ADDED, DELETED, WatchEvent
from ...clock import Timer
from ...runtime import Controller, Result
from . import history, progress, recreate, rolling, sync
from .util import (FAILED_RS_CREATE, FOUND_NEW_RS, NEW_REPLICA_SET, PAUSED, PROGRESSING,
                   RESUMED, REVISION, ROLLBACK_DONE, ROLLBACK_REVISION_NOT_FOUND,
                   ROLLBACK_TEMPLATE_UNCHANGED, TIMED_OUT, Scale, compute_hash, controller_ref,
                   deployment_complete, equal_ignore_hash, filter_active, find_new_rs,
                   find_old_rss, get_condition, has_progress_deadline, last_revision,
                   max_revision, max_surge, new_condition, new_rs_new_replicas, replicas,
                   replicas_annotations_need_update, revision, set_condition,
                   set_replicas_annotations, timestamp)

__all__ = ["DeploymentController"]

COMPONENT = "deployment-controller"


class _Sync:
    """The working state of one sync: the private copy of the Deployment and its claimed
    ReplicaSets, kept current as this sync writes them."""

    __slots__ = ("d", "rss", "now", "now_text")

    def __init__(self, d: dict, now: float, now_text: str) -> None:
        self.d = d
        self.rss: list[dict] = []
        self.now = now
        self.now_text = now_text

    def latest(self, rs: dict) -> dict:
        uid = rs["metadata"].get("uid")
        for cur in self.rss:
            if cur["metadata"]["uid"] == uid:
                return cur
        return rs

    def put(self, rs: dict) -> None:
        uid = rs["metadata"]["uid"]
        for i, cur in enumerate(self.rss):
            if cur["metadata"]["uid"] == uid:
                self.rss[i] = rs
                return
        self.rss.append(rs)


def _namespace_terminating(exc: errors.ApiError) -> bool:
    return any(c.get("reason") == "NamespaceTerminating"
               for c in (exc.details or {}).get("causes") or ())


class DeploymentController(Controller):
    """Keys are ``(namespace, name)`` of Deployments."""

    name = "deployment-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.deployments = ctx.informer("Deployment")
        self.rss = ctx.informer("ReplicaSet")
        self.pods = ctx.informer("Pod")
        self._rs_rt = self.api.registry.by_kind("ReplicaSet")
        self._pod_rt = self.api.registry.by_kind("Pod")
        self.recorder = ctx.recorder(COMPONENT)
        # Progress-deadline checks by key: a deadline that a later sync cancels when the
        # Deployment completes (or is gone), so that no stale check keeps the clock busy.
        self._deadlines: dict[tuple, Timer] = {}
        self.deployments.table.handlers.append(self._on_deployment)
        self.rss.table.handlers.append(self._on_rs)
        self.pods.table.handlers.append(self._on_pod)
        for d in list(self.deployments):  # added to a running cluster: look at what exists
            self.queue.add((d["metadata"]["namespace"], d["metadata"]["name"]))

    # -- events -> keys --------------------------------------------------------------------

    def _on_deployment(self, ev: WatchEvent) -> None:
        m = ev.obj["metadata"]
        self.queue.add((m["namespace"], m["name"]))

    def _resolve(self, namespace: str, ref: dict | None) -> dict | None:
        """``resolveControllerRef``: the Deployment a controller reference points to."""
        if ref is None or ref.get("kind") != "Deployment":
            return None
        d = self.deployments.get(ref.get("name", ""), namespace)
        if d is None or d["metadata"]["uid"] != ref.get("uid"):
            return None
        return d

    def _enqueue_ref(self, namespace: str, ref: dict | None) -> None:
        d = self._resolve(namespace, ref)
        if d is not None:
            self.queue.add((namespace, d["metadata"]["name"]))

    def _enqueue_matching(self, rs: dict) -> None:
        """``getDeploymentsForReplicaSet``: Deployments whose selector selects this orphan."""
        m = rs["metadata"]
        labels = m.get("labels") or {}
        for d in self.deployments.list(m["namespace"]):
            try:
                sel = label_selector_from_dict(d["spec"].get("selector"))
            except SelectorError:
                continue
            if not sel.empty and sel.matches(labels):
                self.queue.add((m["namespace"], d["metadata"]["name"]))

    def _on_rs(self, ev: WatchEvent) -> None:
        rs = ev.obj
        ns = rs["metadata"]["namespace"]
        ref = controller_ref(rs)
        if ev.type == DELETED:
            self._enqueue_ref(ns, ref)
            return
        if ev.type == ADDED:
            if ref is not None:
                self._enqueue_ref(ns, ref)
            elif not rs["metadata"].get("deletionTimestamp"):
                self._enqueue_matching(rs)
            return
        old_ref = controller_ref(ev.old)
        if old_ref != ref and old_ref is not None:
            self._enqueue_ref(ns, old_ref)
        if ref is not None:
            self._enqueue_ref(ns, ref)
            return
        if old_ref != ref or rs["metadata"].get("labels") != ev.old["metadata"].get("labels"):
            self._enqueue_matching(rs)

    def _on_pod(self, ev: WatchEvent) -> None:
        """``deletePod``: a Recreate rollout waits for the old pods to be gone."""
        if ev.type != DELETED:
            return
        pod = ev.obj
        ns = pod["metadata"]["namespace"]
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.rss.get(ref.get("name", ""), ns)
        if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
            return
        d = self._resolve(ns, controller_ref(rs))
        if d is not None and (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            self.queue.add((ns, d["metadata"]["name"]))

    # -- syncDeployment --------------------------------------------------------------------

    def reconcile(self, key: tuple) -> Result | None:
        after = self._sync_deployment(key)
        timer = self._deadlines.pop(key, None)
        if after is None:
            if timer is not None:
                timer.cancel()
            return None
        when = self.clock.now() + after
        if timer is not None and not timer.cancelled and timer.when == when:
            self._deadlines[key] = timer
            return None
        if timer is not None:
            timer.cancel()
        self._deadlines[key] = self.clock.call_at(
            when, lambda: self._deadline_due(key),
            label=f"{self.name} progress check {key[0]}/{key[1]}")
        return None

    def _deadline_due(self, key: tuple) -> None:
        self._deadlines.pop(key, None)
        self.queue.add(key)

    def _sync_deployment(self, key: tuple) -> float | None:
        """``syncDeployment``; returns when to look again for the progress deadline."""
        ns, name = key
        stored = self.deployments.get(name, ns)
        if stored is None:
            return None
        # The sync's private copy: metadata and status are changed in place, the spec only
        # by a rollback, which copies it first.
        d = dict(stored)
        d["metadata"] = deep_copy(stored["metadata"])
        d["status"] = deep_copy(stored.get("status") or {})
        s = _Sync(d, self.clock.now(), self.api.now())
        d = s.d
        selector = d["spec"].get("selector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            self.recorder.event(stored, "Warning", "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector "
                                "is required.")
            status = d.setdefault("status", {})
            if status.get("observedGeneration", 0) < d["metadata"].get("generation", 0):
                status["observedGeneration"] = d["metadata"]["generation"]
                self._write_status(s)
            return None
        try:
            sel = label_selector_from_dict(selector)
        except SelectorError as exc:
            raise errors.TerminalError(
                f"deployment {ns}/{name} has invalid label selector: {exc}") from exc
        s.rss = self._claim_replica_sets(s, sel)
        if d["metadata"].get("deletionTimestamp"):
            return self._sync_status_only(s)
        self._check_paused_conditions(s)
        if d["spec"].get("paused"):
            return self._sync(s)
        if history.rollback_to(d) is not None:
            return self._rollback(s)
        if self._is_scaling_event(s):
            return self._sync(s)
        strategy = (d["spec"].get("strategy") or {}).get("type")
        if strategy == "Recreate":
            return self._rollout_recreate(s, sel)
        if strategy == "RollingUpdate":
            return self._rollout_rolling(s)
        raise errors.TerminalError(f"unexpected deployment strategy type: {strategy}")

    # -- claiming ReplicaSets --------------------------------------------------------------

    def _claim_replica_sets(self, s: _Sync, selector: LabelSelector) -> list[dict]:
        """``getReplicaSetsForDeployment``/``ClaimReplicaSets``: the ReplicaSets this
        Deployment controls, adopting matching orphans and releasing owned ones that no
        longer match."""
        m = s.d["metadata"]
        ns, uid = m["namespace"], m["uid"]
        candidates: dict[str, dict] = {}
        for rs in self.rss.by_owner(uid, ns):
            candidates[rs["metadata"]["name"]] = rs
        for rs in self.api.select(self._rs_rt, ns, selector, None):
            candidates.setdefault(rs["metadata"]["name"], rs)
        fresh = self.deployments.get(m["name"], ns)
        deleting = fresh is None or bool(fresh["metadata"].get("deletionTimestamp"))
        claimed: list[dict] = []
        failures: list[errors.ApiError] = []
        for rs_name in sorted(candidates):
            rs = candidates[rs_name]
            rm = rs["metadata"]
            matches = selector.matches(rm.get("labels"))
            ref = controller_ref(rs)
            if ref is not None:
                if ref.get("uid") != uid:
                    continue
                if matches:
                    claimed.append(rs)
                elif not deleting:
                    self._patch_owner(rs, {"$patch": "delete", "uid": uid}, release=True)
                continue
            if deleting or not matches or rm.get("deletionTimestamp"):
                continue
            try:
                claimed.append(self._patch_owner(rs, {
                    "apiVersion": "apps/v1", "kind": "Deployment", "name": m["name"],
                    "uid": uid, "controller": True, "blockOwnerDeletion": True}))
            except errors.NotFound:
                continue
            except errors.ApiError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        return claimed

    def _patch_owner(self, rs: dict, ref: dict, release: bool = False) -> dict:
        m = rs["metadata"]
        patch = {"metadata": {"ownerReferences": [ref], "uid": m["uid"]}}
        try:
            return self.client.patch("ReplicaSet", m["name"], m["namespace"], patch,
                                     "strategic")
        except (errors.NotFound, errors.Invalid):
            if release:
                return rs
            raise

    def _pods_by_rs(self, s: _Sync, selector: LabelSelector) -> dict[str, list[dict]]:
        """``getPodMapForDeployment``: the Deployment's pods by the UID of their ReplicaSet."""
        ns = s.d["metadata"]["namespace"]
        out: dict[str, list[dict]] = {}
        for rs in s.rss:
            uid = rs["metadata"]["uid"]
            out[uid] = [p for p in self.pods.by_owner(uid, ns)
                        if (controller_ref(p) or {}).get("uid") == uid
                        and selector.matches(p["metadata"].get("labels"))]
        return out

    # -- writes ----------------------------------------------------------------------------

    def _write_status(self, s: _Sync) -> dict:
        """``UpdateStatus`` of the private copy (which stays ours: copies are handed over; the
        spec is not sent, a status write keeps the stored one)."""
        d = s.d
        stored = self.client.update_status({"apiVersion": d["apiVersion"], "kind": d["kind"],
                                            "metadata": deep_copy(d["metadata"]),
                                            "status": deep_copy(d.get("status") or {})})
        s.d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        return stored

    def _update_rs(self, s: _Sync, rs: dict) -> dict:
        stored = self.client.update(rs)
        s.put(stored)
        return stored

    def _scale_rs(self, s: _Sync, rs: dict, target: int, operation: str) -> tuple[bool, dict]:
        """``scaleReplicaSet``: set the size and the desired/max-replicas annotations."""
        rs = s.latest(rs)
        n = replicas(s.d)
        most = n + max_surge(s.d)
        resize = replicas(rs) != target
        if not resize and not replicas_annotations_need_update(rs, n, most):
            return False, rs
        before = replicas(rs)
        new = deep_copy(rs)
        new["spec"]["replicas"] = target
        set_replicas_annotations(new, n, most)
        stored = self._update_rs(s, new)
        if resize:
            self.recorder.event(s.d, "Normal", "ScalingReplicaSet",
                                f"Scaled {operation} replica set {stored['metadata']['name']} "
                                f"from {before} to {target}")
        return resize, stored

    def _apply(self, s: _Sync, step: Scale) -> tuple[bool, dict]:
        """Apply one planned step (``scaleReplicaSetAndRecordEvent`` unless ``always``)."""
        rs = s.latest(step.rs)
        if not step.always and replicas(rs) == step.replicas:
            return False, rs
        return self._scale_rs(s, rs, step.replicas, step.operation)

    # -- getNewReplicaSet and friends ------------------------------------------------------

    def _all_replica_sets(self, s: _Sync, create: bool) -> tuple[dict | None, list[dict]]:
        """``getAllReplicaSetsAndSyncRevision``: (new ReplicaSet, all old ReplicaSets)."""
        _, olds = find_old_rss(s.d, s.rss)
        new = self._new_replica_set(s, olds, create)
        if new is not None:
            olds = [rs for rs in olds if rs["metadata"]["uid"] != new["metadata"]["uid"]]
        return new, olds

    def _new_replica_set(self, s: _Sync, olds: list[dict], create: bool) -> dict | None:
        """``getNewReplicaSet``: find (and bring up to date) or create the ReplicaSet whose
        template is the Deployment's, with revision ``max(old revisions) + 1``."""
        d = s.d
        existing = find_new_rs(d, s.rss)
        new_revision = str(max_revision(olds) + 1)
        if existing is not None:
            # Only the annotations may change here: copy the metadata, and the spec only if
            # an update is due.
            copy = dict(existing)
            copy["metadata"] = deep_copy(existing["metadata"])
            annotations_changed = history.set_new_rs_annotations(d, copy, new_revision, True)
            mrs = d["spec"].get("minReadySeconds") or 0
            if annotations_changed or (copy["spec"].get("minReadySeconds") or 0) != mrs:
                copy["spec"] = deep_copy(existing["spec"])
                if mrs:
                    copy["spec"]["minReadySeconds"] = mrs
                else:
                    copy["spec"].pop("minReadySeconds", None)
                return self._update_rs(s, copy)
            needs_update = history.set_deployment_revision(
                d, (copy["metadata"].get("annotations") or {}).get(
                    REVISION, ""))
            if has_progress_deadline(d) and get_condition(d.get("status"), PROGRESSING) is None:
                set_condition(d.setdefault("status", {}), new_condition(
                    PROGRESSING, "True", FOUND_NEW_RS,
                    f'Found new replica set "{existing["metadata"]["name"]}"', s.now_text))
                needs_update = True
            if needs_update:
                self._write_status(s)
            return existing
        if not create:
            return None
        status = d.setdefault("status", {})
        pod_template_hash = compute_hash(d["spec"].get("template") or {},
                                         status.get("collisionCount"))
        body = sync.new_replica_set(d, pod_template_hash)
        rs_name = body["metadata"]["name"]
        count = new_rs_new_replicas(d, list(olds) + [body], body)
        body["spec"]["replicas"] = count
        history.set_new_rs_annotations(d, body, new_revision, False)
        already = False
        try:
            created = self.client.create(body)
        except errors.AlreadyExists as exc:
            found = self.rss.get(rs_name, d["metadata"]["namespace"])
            ref = controller_ref(found) if found is not None else None
            if (found is not None and ref is not None and ref.get("uid") == d["metadata"]["uid"]
                    and equal_ignore_hash(d["spec"]["template"],
                                          found["spec"].get("template") or {})):
                created, already = found, True
            else:
                # A hash collision: count it, and let the retry compute another name.
                status["collisionCount"] = (status.get("collisionCount") or 0) + 1
                try:
                    self._write_status(s)
                except errors.ApiError:
                    pass
                raise exc
        except errors.ApiError as exc:
            if _namespace_terminating(exc):
                raise
            msg = f'Failed to create new replica set "{rs_name}": {exc.message}'
            if has_progress_deadline(d):
                set_condition(status, new_condition(PROGRESSING, "False", FAILED_RS_CREATE, msg,
                                                    s.now_text))
                try:
                    self._write_status(s)
                except errors.ApiError:
                    pass
            self.recorder.event(s.d, "Warning", FAILED_RS_CREATE, msg)
            raise
        s.put(created)
        if not already and count > 0:
            self.recorder.event(s.d, "Normal", "ScalingReplicaSet",
                                f"Scaled up replica set {rs_name} from 0 to {count}")
        needs_update = history.set_deployment_revision(d, new_revision)
        if not already and has_progress_deadline(d):
            set_condition(status, new_condition(PROGRESSING, "True", NEW_REPLICA_SET,
                                                f'Created new replica set "{rs_name}"',
                                                s.now_text))
            needs_update = True
        if needs_update:
            self._write_status(s)
        return created

    def _is_scaling_event(self, s: _Sync) -> bool:
        new, olds = self._all_replica_sets(s, False)
        return sync.is_scaling_event(s.d, new, olds)

    def _check_paused_conditions(self, s: _Sync) -> None:
        """``checkPausedConditions``: Progressing Unknown while paused (and on resume), so that
        the time spent paused never counts against the progress deadline."""
        d = s.d
        if not has_progress_deadline(d):
            return
        cond = get_condition(d.get("status"), PROGRESSING)
        if cond is not None and cond.get("reason") == TIMED_OUT:
            return
        paused_cond = cond is not None and cond.get("reason") == PAUSED
        paused = bool(d["spec"].get("paused"))
        if paused and not paused_cond:
            set_condition(d.setdefault("status", {}), new_condition(
                PROGRESSING, "Unknown", PAUSED, "Deployment is paused", s.now_text))
        elif not paused and paused_cond:
            set_condition(d.setdefault("status", {}), new_condition(
                PROGRESSING, "Unknown", RESUMED, "Deployment is resumed", s.now_text))
        else:
            return
        self._write_status(s)

    # -- the strategies --------------------------------------------------------------------

    def _sync(self, s: _Sync) -> None:
        """``sync``: scaling events and paused Deployments (no rollout)."""
        new, olds = self._all_replica_sets(s, False)
        for step in sync.plan_scale(s.d, new, olds):
            self._apply(s, step)
        if s.d["spec"].get("paused") and history.rollback_to(s.d) is None:
            self._cleanup(s, olds)
        self._sync_status(s, olds + [new], new)
        return None

    def _sync_status_only(self, s: _Sync) -> None:
        new, olds = self._all_replica_sets(s, False)
        self._sync_status(s, olds + [new], new)
        return None

    def _sync_status(self, s: _Sync, all_rss: list[dict | None], new: dict | None) -> None:
        """``syncDeploymentStatus``."""
        status = sync.calculate_status(all_rss, new, s.d, s.now_text)
        if status != (s.d.get("status") or {}):
            s.d["status"] = status
            self._write_status(s)

    def _rollout_rolling(self, s: _Sync) -> float | None:
        """``rolloutRolling``: scale the new ReplicaSet up if possible, else old ones down."""
        new, olds = self._all_replica_sets(s, True)
        assert new is not None
        all_rss: list[dict | None] = olds + [new]
        step = rolling.reconcile_new_rs(s.d, all_rss, new)
        if step is not None:
            scaled, _ = self._apply(s, step)
            if scaled:
                return self._sync_rollout_status(s, all_rss, new)
        plan = rolling.reconcile_old_rss(s.d, all_rss, filter_active(olds), new)
        scaled_down = False
        try:
            for step in plan.steps:
                self._apply(s, step)
            scaled_down = plan.scaled_down > 0 and not plan.broken
        except errors.ApiError:
            pass  # upstream drops errors of the scale-down and goes on with the status
        if scaled_down:
            return self._sync_rollout_status(s, all_rss, new)
        if deployment_complete(s.d, s.d.get("status") or {}):
            self._cleanup(s, olds)
        return self._sync_rollout_status(s, all_rss, new)

    def _rollout_recreate(self, s: _Sync, selector: LabelSelector) -> float | None:
        """``rolloutRecreate``: old ReplicaSets to 0, wait for their pods to be gone, then
        create (or scale up) the new one."""
        new, olds = self._all_replica_sets(s, False)
        all_rss: list[dict | None] = olds + [new]
        scaled = False
        for step in recreate.scale_down_old_rss(filter_active(olds)):
            done, _ = self._apply(s, step)
            scaled = scaled or done
        if scaled:
            return self._sync_rollout_status(s, all_rss, new)
        if recreate.old_pods_running(new, olds, self._pods_by_rs(s, selector)):
            return self._sync_rollout_status(s, all_rss, new)
        if new is None:
            new, olds = self._all_replica_sets(s, True)
            all_rss = olds + [new]
        assert new is not None
        step = recreate.scale_up_new_rs(new, s.d)
        if step is not None:
            self._apply(s, step)
        if deployment_complete(s.d, s.d.get("status") or {}):
            self._cleanup(s, olds)
        return self._sync_rollout_status(s, all_rss, new)

    def _sync_rollout_status(self, s: _Sync, all_rss: list[dict | None], new: dict | None
                             ) -> float | None:
        """``syncRolloutStatus``: write the status with its Progressing condition, or, if
        nothing changed, say when to look again for the progress deadline."""
        status = progress.rollout_status(s.d, all_rss, new, s.now, s.now_text, timestamp)
        if status == (s.d.get("status") or {}):
            return progress.stuck_requeue(s.d, status, s.now, timestamp)
        s.d["status"] = status
        self._write_status(s)
        return None

    def _cleanup(self, s: _Sync, olds: list[dict]) -> None:
        """``cleanupDeployment``: delete old ReplicaSets beyond revisionHistoryLimit."""
        for rs in history.replica_sets_to_clean_up([s.latest(rs) for rs in olds], s.d):
            m = rs["metadata"]
            try:
                self.api.delete(self._rs_rt, m["name"], m["namespace"], copy_out=False)
            except errors.NotFound:
                pass

    # -- rollback (the deprecated rollbackTo) ----------------------------------------------

    def _rollback(self, s: _Sync) -> None:
        """``rollback``: put the template of the requested revision back and clear the
        request."""
        d = s.d
        d["spec"] = deep_copy(d["spec"])  # the template may be replaced below
        new, olds = self._all_replica_sets(s, True)
        all_rss = olds + ([new] if new is not None else [])
        target = history.rollback_to(d) or 0
        if target == 0:
            target = last_revision(all_rss)
            if target == 0:
                self.recorder.event(d, "Warning", ROLLBACK_REVISION_NOT_FOUND,
                                    "Unable to find last revision.")
                return self._clear_rollback(s)
        for rs in all_rss:
            try:
                v = revision(rs)
            except ValueError:
                continue
            if v == target:
                if not equal_ignore_hash(d["spec"]["template"], rs["spec"].get("template") or {}):
                    history.set_from_rs_template(d, rs["spec"]["template"])
                    history.set_deployment_annotations_to(d, rs)
                    self._clear_rollback(s)
                    self.recorder.event(d, "Normal", ROLLBACK_DONE,
                                        f'Rolled back deployment "{d["metadata"]["name"]}" to '
                                        f"revision {target}")
                    return None
                self.recorder.event(d, "Warning", ROLLBACK_TEMPLATE_UNCHANGED,
                                    "The rollback revision contains the same template as "
                                    f'current deployment "{d["metadata"]["name"]}"')
                return self._clear_rollback(s)
        self.recorder.event(d, "Warning", ROLLBACK_REVISION_NOT_FOUND,
                            "Unable to find the revision to rollback to.")
        return self._clear_rollback(s)

    def _clear_rollback(self, s: _Sync) -> None:
        """``updateDeploymentAndClearRollbackTo``."""
        history.set_rollback_to(s.d, None)
        body = deep_copy(s.d)
        stored = self.client.update(body)
        s.d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        return None
