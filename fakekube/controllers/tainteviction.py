"""The taint eviction controller: deletes pods from nodes with NoExecute taints they do not
tolerate, at once or when their tolerationSeconds run out.

Follows kubernetes/kubernetes ``pkg/controller/tainteviction/taint_eviction.go``
(``handleNodeUpdate``, ``handlePodUpdate``, ``processPodOnNode``, ``getMinTolerationTime``,
``addConditionAndDeletePod``) and ``pkg/controller/tainteviction/timed_workers.go`` (v1.31:
a finished eviction keeps its key, so a pod is deleted once per episode):

- a pod on a node with NoExecute taints, one of which it does not tolerate, is deleted now;
- if it tolerates them all, its deletion is scheduled ``min(tolerationSeconds)`` (over the
  tolerations that matched) after the controller *saw* the taints (not the taint's
  ``timeAdded``); a toleration without ``tolerationSeconds`` means never, <= 0 means now;
  an eviction already scheduled earlier is kept;
- the schedule is cancelled (event ``Cancelling deletion of Pod <ns>/<name>``) when the
  taints go, the pod goes, or its tolerations become unlimited;
- the deletion: event ``Marking for deletion Pod <ns>/<name>``, status condition
  ``DisruptionTarget=True`` (``DeletionByTaintManager``), then a normal graceful DELETE.

Each scheduled eviction is one deadline on the virtual clock.
"""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

from ..api.objects import deep_copy
from ..api.store import ADDED, DELETED, WatchEvent
from ..clock import Timer
from ..errors import ApiError, NotFound
from ..runtime import Controller, Result

__all__ = ["TaintEvictionController", "tolerates", "matching_tolerations",
           "min_toleration_seconds"]

NO_EXECUTE = "NoExecute"


# -- pure helpers ----------------------------------------------------------------------------

def tolerates(toleration: dict, taint: dict) -> bool:
    """``Toleration.ToleratesTaint`` (core/v1)."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return op == "Exists"


def matching_tolerations(taints: list[dict], tolerations: list[dict]
                         ) -> tuple[bool, list[dict]]:
    """``GetMatchingTolerations``: whether every taint is tolerated, and the first toleration
    that matched each taint."""
    if not taints:
        return True, []
    used = []
    for taint in taints:
        t = next((t for t in tolerations if tolerates(t, taint)), None)
        if t is None:
            return False, []
        used.append(t)
    return True, used


def min_toleration_seconds(tolerations: list[dict]) -> float:
    """``getMinTolerationTime``: 0 for none or any <= 0, -1 for forever, else the least."""
    if not tolerations:
        return 0
    least: float | None = None
    for t in tolerations:
        seconds = t.get("tolerationSeconds")
        if seconds is None:
            continue
        if seconds <= 0:
            return 0
        if least is None or seconds < least:
            least = seconds
    return -1 if least is None else least


def no_execute_taints(node: dict | None) -> list[dict]:
    if node is None:
        return []
    return [t for t in (node.get("spec") or {}).get("taints") or ()
            if t.get("effect") == NO_EXECUTE]


def set_pod_condition(status: dict, cond: dict, stamp: str) -> bool:
    """``UpdatePodCondition``: add or replace the condition of its type, ``lastTransitionTime``
    now unless the status is unchanged; True if anything changed."""
    cond = dict(cond, lastTransitionTime=stamp)
    conditions = status.setdefault("conditions", [])
    for i, old in enumerate(conditions):
        if old.get("type") == cond["type"]:
            if old.get("status") == cond["status"]:
                if "lastTransitionTime" in old:
                    cond["lastTransitionTime"] = old["lastTransitionTime"]
                else:
                    del cond["lastTransitionTime"]
            same = all(old.get(k) == cond.get(k) for k in (
                "status", "reason", "message", "lastProbeTime", "lastTransitionTime"))
            conditions[i] = cond
            return not same
    conditions.append(cond)
    return True


class _Work:
    """A ``TimedWorker``: ``timer`` None once it fired (or ran at once): upstream's nil entry
    that keeps a finished eviction from being scheduled again."""

    __slots__ = ("created", "fire", "timer", "seq")

    def __init__(self, created: float, fire: float, seq: int) -> None:
        self.created = created
        self.fire = fire
        self.timer: Timer | None = None
        self.seq = seq


# -- the controller ---------------------------------------------------------------------------

class TaintEvictionController(Controller):
    name = "taint-eviction-controller"

    def setup(self) -> None:
        ctx = self.ctx
        self.nodes = ctx.informer("Node")
        self.pods = ctx.informer("Pod")
        self.recorder = ctx.recorder(self.name)
        self._tainted: dict[str, list[dict]] = {}     # taintedNodes
        self._work: dict[tuple[str, str], _Work] = {}  # taintEvictionQueue
        self._seq = itertools.count(1)
        self.nodes.table.handlers.append(self._on_node)
        self.pods.table.handlers.append(self._on_pod)

    # -- event handlers (keys only) ------------------------------------------------------

    def _on_node(self, ev: WatchEvent) -> None:
        """``NodeUpdated``: only a change of the NoExecute taints matters."""
        if ev.type != DELETED and ev.old is not None and no_execute_taints(
                ev.old) == no_execute_taints(ev.obj):
            return
        self.queue.add(("node", ev.obj["metadata"]["name"]))

    def _on_pod(self, ev: WatchEvent) -> None:
        """``PodUpdated``: only a change of tolerations or node matters.

        Upstream also queues a new pod without a node; that key can change nothing, so it
        is left out: ``handlePodUpdate`` returns at once for a pod without a node, and a pod
        gone by the time the key runs leaves no scheduled eviction under its name (an
        earlier pod of that name had it cancelled by its own deletion's key, queued before
        this one; at most a finished eviction's record remains, which the key of this
        pod's deletion drops, with nothing reading it in between).
        ``tests/controllers/test_tainteviction.py`` checks histories against upstream's
        handler."""
        new = ev.obj
        spec = new.get("spec") or {}
        if ev.old is None and ev.type == ADDED and not spec.get("nodeName"):
            return
        if ev.type != DELETED and ev.old is not None:
            old_spec = ev.old.get("spec") or {}
            if old_spec is spec:
                return  # a status or metadata write: the (stored, never changed) spec is kept
            if (old_spec.get("tolerations") or []) == (spec.get("tolerations") or []) and \
                    old_spec.get("nodeName") == spec.get("nodeName"):
                return
        m = new["metadata"]
        self.queue.add(("pod", m["namespace"], m["name"], spec.get("nodeName") or ""))

    # -- reconcile -----------------------------------------------------------------------

    def reconcile(self, key: Any) -> Result | None:
        kind = key[0]
        if kind == "node":
            self._handle_node(key[1])
        elif kind == "pod":
            self._handle_pod(key[1], key[2], key[3])
        elif kind == "evict":
            self._evict(key[1], key[2], key[3])
        return None

    def _handle_node(self, name: str) -> None:
        """``handleNodeUpdate``."""
        node = self.nodes.get(name)
        if node is None:
            self._tainted.pop(name, None)
            return
        taints = no_execute_taints(node)
        if taints:
            self._tainted[name] = taints
        else:
            self._tainted.pop(name, None)
        pods = self.pods.by_field("spec.nodeName", name)
        if not pods:
            return
        if not taints:
            for pod in pods:
                self._cancel(pod["metadata"]["namespace"], pod["metadata"]["name"])
            return
        now = self.clock.now()
        for pod in pods:
            m = pod["metadata"]
            self._process_pod_on_node(m["namespace"], m["name"],
                                      (pod.get("spec") or {}).get("tolerations") or [],
                                      taints, now)

    def _handle_pod(self, namespace: str, name: str, node_name: str) -> None:
        """``handlePodUpdate``."""
        pod = self.pods.get(name, namespace)
        if pod is None:
            self._cancel(namespace, name)
            return
        spec = pod.get("spec") or {}
        if (spec.get("nodeName") or "") != node_name or not node_name:
            return
        taints = self._tainted.get(node_name)
        if taints is None:
            return
        self._process_pod_on_node(namespace, name, spec.get("tolerations") or [], taints,
                                  self.clock.now())

    def _process_pod_on_node(self, namespace: str, name: str, tolerations: list[dict],
                             taints: list[dict], now: float) -> None:
        """``processPodOnNode``."""
        if not taints:
            self._cancel(namespace, name)
        tolerated, used = matching_tolerations(taints, tolerations)
        if not tolerated:
            self._cancel(namespace, name)
            self._add_work(namespace, name, now, now)
            return
        seconds = min_toleration_seconds(used)
        if seconds < 0:
            self._cancel(namespace, name)  # tolerated forever
            return
        start = now
        work = self._work.get((namespace, name))
        if work is not None and work.timer is not None:
            start = work.created
            if start <= now:
                # The eviction scheduled earlier stands. (Upstream compares with `Before`,
                # with a clock that never repeats an instant; at one virtual instant the
                # two schedules are the same one, so it is kept rather than replaced.)
                return
            self._cancel(namespace, name)
        self._add_work(namespace, name, start, start + seconds)

    def _add_work(self, namespace: str, name: str, created: float, fire: float) -> None:
        """``AddWork``: nothing if the pod has work already (scheduled or done)."""
        key = (namespace, name)
        if key in self._work:
            return
        work = self._work[key] = _Work(created, fire, next(self._seq))
        delay = fire - created
        if delay <= 0:
            self.queue.add(("evict", namespace, name, work.seq))
            return
        work.timer = self.clock.call_later(
            delay, partial(self._fire, key, work),
            label=f"{self.name} evict {namespace}/{name}")

    def _fire(self, key: tuple[str, str], work: _Work) -> None:
        work.timer = None
        self.queue.add(("evict", key[0], key[1], work.seq))

    def _cancel(self, namespace: str, name: str) -> None:
        """``cancelWorkWithEvent``: only a scheduled (not yet fired) eviction has an event."""
        work = self._work.pop((namespace, name), None)
        if work is not None and work.timer is not None:
            work.timer.cancel()
            self.recorder.event(_pod_ref(namespace, name), "Normal", "TaintManagerEviction",
                                f"Cancelling deletion of Pod {namespace}/{name}")

    def _evict(self, namespace: str, name: str, seq: int) -> None:
        """``deletePodHandler``: the event, the DisruptionTarget condition, a graceful DELETE.
        A fired eviction runs even if cancelled meanwhile, as upstream's goroutine does."""
        self.recorder.event(_pod_ref(namespace, name), "Normal", "TaintManagerEviction",
                            f"Marking for deletion Pod {namespace}/{name}")
        key = (namespace, name)
        try:
            self._add_condition_and_delete(namespace, name)
        except ApiError:
            work = self._work.get(key)
            if work is not None and work.seq == seq:
                del self._work[key]  # a failed eviction may be scheduled again

    def _add_condition_and_delete(self, namespace: str, name: str) -> None:
        pod = self.pods.get(name, namespace)
        if pod is None:
            raise NotFound(f'pods "{name}" not found')
        new = deep_copy(pod)  # never change the informer's object
        if set_pod_condition(new.setdefault("status", {}), {
                "type": "DisruptionTarget", "status": "True",
                "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint"}, self.api.now()):
            self.client.update_status(new)
        if self.client.delete("Pod", name, namespace) is None:
            raise NotFound(f'pods "{name}" not found')


def _pod_ref(namespace: str, name: str) -> dict:
    """The ObjectReference upstream's events carry: no UID."""
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace}}
