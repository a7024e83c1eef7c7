"""The pod garbage collector: force-deletes pods no kubelet will ever finish.

Follows kubernetes/kubernetes ``pkg/controller/podgc/gc_controller.go`` (``gc``,
``gcTerminated``, ``gcTerminating``, ``gcOrphaned``, ``discoverDeletedNodes``,
``gcUnscheduledTerminating``, ``markFailedAndDeletePodWithCondition``). Every
``pod_gc_period`` (20 s), in this order:

- gcTerminated: terminated pods (phase neither Pending, Running nor Unknown) beyond
  ``terminated_pod_gc_threshold`` are deleted, evicted ones first, then oldest first;
- gcTerminating: a terminating pod on a node that is not Ready and has a
  ``node.kubernetes.io/out-of-service`` taint (any effect) is marked Failed (if it was not
  terminal) and force-deleted;
- gcOrphaned: a pod bound to a node that has no Node object puts that node name in
  quarantine for ``pod_gc_quarantine`` (40 s); at the first pass after that, if a live GET of
  the node still says NotFound, its pods are marked ``phase: Failed`` with condition
  ``DisruptionTarget=True`` (``DeletionByPodGC``, ``PodGC: node no longer exists``) and
  force-deleted (grace 0);
- gcUnscheduledTerminating: a terminating pod with no ``spec.nodeName`` is marked Failed and
  force-deleted.

Time, as DESIGN.md "Determinism and time" asks: the 20 s pass is a heartbeat, and what it
knows it will do is a deadline at the tick where it will do it: the end of a quarantine (at its
next tick), and the next tick when a pod becomes collectable by the other three rules.
"""

from __future__ import annotations

import math
from typing import Any

from ..api.objects import deep_copy
from ..api.store import DELETED, WatchEvent
from ..clock import Timer
from ..errors import ApiError
from ..runtime import Controller, Result

__all__ = ["PodGCController"]

TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
GC = "gc"  # the one key: a gc pass


def _phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def is_terminated(pod: dict) -> bool:
    """``isPodTerminated``: any phase but Pending, Running and Unknown (also none)."""
    return _phase(pod) not in ("Pending", "Running", "Unknown")


def _is_terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _actionable(pod: dict) -> bool:
    """False for a pod already force-deleted that only finalizers keep: no pass of ours can
    change it, so it never warrants a deadline (the heartbeat pass still tries, as upstream)."""
    m = pod["metadata"]
    return not (m.get("deletionTimestamp") and m.get("deletionGracePeriodSeconds") == 0)


def _node_ready(node: dict) -> bool:
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _out_of_service(node: dict) -> bool:
    """Not Ready and tainted ``node.kubernetes.io/out-of-service`` (any effect)."""
    return not _node_ready(node) and any(
        t.get("key") == TAINT_OUT_OF_SERVICE for t in (node.get("spec") or {}).get("taints") or ())


def _eviction_order(pod: dict) -> tuple:
    """``byEvictionAndCreationTimestamp``: evicted pods first, then oldest, then by name."""
    status = pod.get("status") or {}
    evicted = status.get("phase") == "Failed" and status.get("reason") == "Evicted"
    m = pod["metadata"]
    return (not evicted, m.get("creationTimestamp") or "", m["name"])


class PodGCController(Controller):
    name = "pod-garbage-collector-controller"

    def setup(self) -> None:
        ctx, cfg = self.ctx, self.config
        self.nodes = ctx.informer("Node")
        self.pods = ctx.informer("Pod")
        self._period = float(cfg.pod_gc_period)
        self._quarantine_time = float(cfg.pod_gc_quarantine)
        self._quarantine: dict[str, float] = {}   # nodeQueue: node name -> when it is due
        self._orphan_timers: dict[str, Timer] = {}
        self._next_tick_timer: Timer | None = None
        # The keys of the terminated pods and of the terminating ones, kept by _on_pod so
        # that a pass does not walk every pod (a pass every 20 s over all pods made a long
        # run with many pods quadratic).
        self._terminated: set[tuple[str, str]] = set()
        self._terminating: set[tuple[str, str]] = set()
        for key, pod in self.pods.table.objects.items():
            if is_terminated(pod):
                self._terminated.add(key)
            if _is_terminating(pod):
                self._terminating.add(key)
        self._writing = False
        self._tick = self.clock.call_every(self._period, self._on_tick,
                                           label=f"{self.name} gc")
        self.pods.table.handlers.append(self._on_pod)
        self.nodes.table.handlers.append(self._on_node)

    # -- ticks and deadlines -------------------------------------------------------------

    def _on_tick(self) -> None:
        self.queue.add(GC)

    def _tick_at_or_after(self, t: float) -> float:
        """The first gc tick at or after ``t`` (ticks: the heartbeat's times)."""
        first = self._tick.when
        if t <= first:
            return first
        return first + math.ceil((t - first) / self._period - 1e-9) * self._period

    def _at_next_tick(self) -> None:
        """A pod became collectable: the next pass will act, so that pass is a deadline."""
        when = self._tick.when
        t = self._next_tick_timer
        if t is not None and not t.cancelled and t.when == when:
            return
        self._next_tick_timer = self.clock.call_at(when, self._on_tick,
                                                   label=f"{self.name} next pass")

    def _orphaned(self, node_name: str) -> None:
        """Pods are bound to a node that has no Node object: the pass at the end of its
        quarantine is a deadline."""
        t = self._orphan_timers.get(node_name)
        if t is not None and not t.cancelled:
            return
        if not any(_actionable(p) for p in self.pods.by_field("spec.nodeName", node_name)):
            return
        due = self._quarantine.get(node_name)
        if due is None:
            due = self._tick.when + self._quarantine_time  # quarantined at the next pass
        when = self._tick_at_or_after(due)

        def fire() -> None:
            self._orphan_timers.pop(node_name, None)
            self.queue.add(GC)

        self._orphan_timers[node_name] = self.clock.call_at(
            when, fire, label=f"{self.name} orphaned pods of node {node_name}")

    # -- event handlers (memory and deadlines only) --------------------------------------

    def _on_pod(self, ev: WatchEvent) -> None:
        pod = ev.obj
        m = pod["metadata"]
        key = (m["namespace"], m["name"])
        if ev.type == DELETED:
            self._terminated.discard(key)
            self._terminating.discard(key)
            return
        if _is_terminating(pod):
            self._terminating.add(key)
        else:
            self._terminating.discard(key)
        actionable = _actionable(pod) and not self._writing  # our own write: deleted next
        if is_terminated(pod):
            if key not in self._terminated:
                self._terminated.add(key)
                if actionable and 0 < self.config.terminated_pod_gc_threshold < len(
                        self._terminated):
                    self._at_next_tick()
        else:
            self._terminated.discard(key)
        if not actionable:
            return
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            if _is_terminating(pod):
                self._at_next_tick()
            return
        node = self.nodes.get(node_name)
        if node is None:
            self._orphaned(node_name)
        elif _is_terminating(pod) and _out_of_service(node):
            self._at_next_tick()

    def _on_node(self, ev: WatchEvent) -> None:
        name = ev.obj["metadata"]["name"]
        if ev.type == DELETED:
            if self.pods.by_field("spec.nodeName", name):
                self._orphaned(name)
            return
        if _out_of_service(ev.obj) and any(
                _is_terminating(p) and _actionable(p)
                for p in self.pods.by_field("spec.nodeName", name)):
            self._at_next_tick()

    # -- reconcile -----------------------------------------------------------------------

    def reconcile(self, key: Any) -> Result | None:
        if key != GC:
            return None
        terminated, terminating, nodeless = self._candidates()
        if self.config.terminated_pod_gc_threshold > 0:
            self._gc_terminated(terminated)
        self._gc_terminating(terminating)
        self._gc_orphaned(nodeless)
        self._gc_unscheduled_terminating(terminating)
        return None

    def _candidates(self) -> tuple[list[dict], list[dict], list[dict]]:
        """The pods each check can act on, each list in key order: the terminated pods,
        the terminating ones, and those bound to a node the informer does not know. From
        the sets _on_pod keeps and the pods' node-name index, not a walk over every pod."""
        objects = self.pods.table.objects
        nodes = self.nodes.table.objects
        nodeless = [key for node_name, keys in self.pods.table.fields["spec.nodeName"].items()
                    if node_name and ("", node_name) not in nodes for key in keys]
        return ([objects[k] for k in sorted(self._terminated)],
                [objects[k] for k in sorted(self._terminating)],
                [objects[k] for k in sorted(nodeless)])

    def _gc_terminated(self, pods: list[dict]) -> None:
        terminated = [p for p in pods if is_terminated(p)]
        excess = len(terminated) - self.config.terminated_pod_gc_threshold
        if excess <= 0:
            return
        terminated.sort(key=_eviction_order)
        for pod in terminated[:excess]:
            self._mark_failed_and_delete(pod)

    def _gc_terminating(self, pods: list[dict]) -> None:
        doomed = []
        for pod in pods:
            if not _is_terminating(pod):
                continue
            node = self.nodes.get((pod.get("spec") or {}).get("nodeName") or "")
            if node is not None and _out_of_service(node):
                doomed.append(pod)
        doomed.sort(key=_eviction_order)
        for pod in doomed:
            self._mark_failed_and_delete(pod)

    def _gc_orphaned(self, pods: list[dict]) -> None:
        """``gcOrphaned``, given (at least) the pods on nodes the informer does not know."""
        now = self.clock.now()
        existing = self.nodes.table.objects
        for pod in pods:
            node_name = (pod.get("spec") or {}).get("nodeName")
            if node_name and ("", node_name) not in existing:
                due = now + self._quarantine_time  # AddAfter keeps the earlier time
                if due < self._quarantine.get(node_name, math.inf):
                    self._quarantine[node_name] = due
        deleted = set()
        for node_name, due in sorted(self._quarantine.items()):
            if due > now + 1e-9:
                continue
            del self._quarantine[node_name]
            # discoverDeletedNodes: a live GET, not the informer.
            if ("", node_name) not in existing and self.client.get("Node", node_name) is None:
                deleted.add(node_name)
        for node_name in self._quarantine:
            self._orphaned(node_name)  # still waiting: its end is a deadline
        if not deleted:
            return
        for pod in pods:
            if (pod.get("spec") or {}).get("nodeName") in deleted:
                self._mark_failed_and_delete(pod, {
                    "type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                    "message": "PodGC: node no longer exists"})

    def _gc_unscheduled_terminating(self, pods: list[dict]) -> None:
        for pod in pods:
            if _is_terminating(pod) and not (pod.get("spec") or {}).get("nodeName"):
                self._mark_failed_and_delete(pod)

    def _mark_failed_and_delete(self, pod: dict, cond: dict | None = None) -> None:
        """``markFailedAndDeletePodWithCondition``: phase Failed (with ``cond``) unless the
        pod is terminal already, then DELETE with grace 0. Errors are only logged upstream
        (the next pass tries again)."""
        m = pod["metadata"]
        current = self.pods.get(m["name"], m["namespace"])
        if current is None or current["metadata"].get("uid") != m.get("uid"):
            return
        self._writing = True
        try:
            if _phase(current) not in ("Succeeded", "Failed"):
                new = deep_copy(current)  # never change the informer's object
                status = new.setdefault("status", {})
                status["phase"] = "Failed"
                if cond is not None:
                    _set_condition(status, cond, self.api.now())
                self.client.update_status(new)
            self.client.delete("Pod", m["name"], m["namespace"], grace_period_seconds=0)
        except ApiError:
            pass  # HandleError; the next pass tries again
        finally:
            self._writing = False


def _set_condition(status: dict, cond: dict, stamp: str) -> None:
    """``UpdatePodCondition``: replace or add; ``lastTransitionTime`` now unless the status
    did not change."""
    cond = dict(cond, lastTransitionTime=stamp)
    conditions = status.setdefault("conditions", [])
    for i, old in enumerate(conditions):
        if old.get("type") == cond["type"]:
            if old.get("status") == cond["status"]:
                if "lastTransitionTime" in old:
                    cond["lastTransitionTime"] = old["lastTransitionTime"]
                else:
                    del cond["lastTransitionTime"]
            conditions[i] = cond
            return
    conditions.append(cond)
