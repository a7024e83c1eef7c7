"""kube-scheduler as a fakekube controller: one pod per reconcile, from the scheduling queue
through filtering, scoring, assume, reserve, prebind and bind.

Follows ``kubernetes/kubernetes:pkg/scheduler/schedule_one.go`` and ``eventhandlers.go``
(v1.31):

- ``schedulingCycle``: PreFilter (a failure there fails every node), the nominated node
  first if the pod has one, then filters over the nodes from where the last cycle stopped
  (``nextStartNodeIndex``) until ``numFeasibleNodesToFind`` fit; one feasible node is taken
  as is; otherwise PreScore/Score/NormalizeScore and ``selectHost`` (ties broken at random with
  the cluster's seeded RNG). No fit: PostFilter (DefaultPreemption), then the pod gets
  ``PodScheduled=False`` (reason ``Unschedulable``, the FitError as message) and a
  ``Warning FailedScheduling`` event, and goes back to the queue.
- ``bindingCycle``: the pod is assumed in the cache, Reserve runs, then PreBind (which may
  wait, event-driven, for volume binding) and Bind (``pods/binding``), then a
  ``Normal Scheduled "Successfully assigned <ns>/<pod> to <node>"`` event. A failure there
  un-reserves, forgets the assumed pod and retries after backoff (reason ``SchedulerError``).
- Event handlers keep the cache and the queue current: bound pods and nodes go to the cache;
  pending pods of this scheduler (``spec.schedulerName`` "default-scheduler", no node, not
  terminating) to the queue; node, pod, volume and claim changes move parked pods.

fakekube differences: the binding cycle runs in the run loop rather than in a goroutine
(assumed pods make later cycles see its resources all the same); a pod that fails because
there are no nodes at all waits for a node to be added instead of retrying every 10 s.
"""

from __future__ import annotations

from typing import Any, Hashable, Mapping

from .. import errors
from ..api.objects import deep_copy, rfc3339
from ..api.store import ADDED, DELETED, WatchEvent
from ..runtime import Controller, ControllerContext, Result
from .cache import Cache
from .framework import ActionType, ClusterEvent, Code, CycleState, NodeToStatus, Status, error
from .framework import unresolvable
from .helpers import RequiredNodeAffinity, find_untolerated
from .plugins import nodename as _nodename
from .plugins import nodeports as _nodeports
from .plugins import noderesources as _fit
from .plugins.defaultpreemption import NominatingInfo, update_pod_condition
from .queue import ASSIGNED_POD_DELETE, NO_PLUGINS, QueuedPodInfo, SchedulingQueue
from .runtime import Framework, num_feasible_nodes_to_find
from .types import FitError, NodeInfo, PodInfo

__all__ = ["Scheduler", "SCHEDULER_NAME"]

SCHEDULER_NAME = "default-scheduler"
SCHEDULE_KEY = "schedule"
NO_NODES = "<no nodes>"          # pseudo-plugin: the pod waits for a node to be added
ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods"
NOTE_LENGTH_LIMIT = 1024         # validation.NoteLengthLimit

NODE_ADD = ClusterEvent("Node", ActionType.ADD, "NodeAdd")
NODE_DELETE = ClusterEvent("Node", ActionType.DELETE, "NodeDelete")
_NODE_UPDATES = (
    ("unschedulable", ClusterEvent("Node", ActionType.UPDATE_NODE_TAINT,
                                   "NodeSpecUnschedulableChange")),
    ("allocatable", ClusterEvent("Node", ActionType.UPDATE_NODE_ALLOCATABLE,
                                 "NodeAllocatableChange")),
    ("labels", ClusterEvent("Node", ActionType.UPDATE_NODE_LABEL, "NodeLabelChange")),
    ("taints", ClusterEvent("Node", ActionType.UPDATE_NODE_TAINT, "NodeTaintChange")),
    ("conditions", ClusterEvent("Node", ActionType.UPDATE_NODE_CONDITION,
                                "NodeConditionChange")),
    ("annotations", ClusterEvent("Node", ActionType.UPDATE_NODE_ANNOTATION,
                                 "NodeAnnotationChange")),
)
_STORAGE_KINDS = ("PersistentVolume", "PersistentVolumeClaim", "StorageClass")

_CLEAR_NOMINATION = NominatingInfo("")
_TERMINAL = ("Succeeded", "Failed")      # phases is_terminal() looks for


def truncate_message(message: str) -> str:
    """``truncateMessage``: events' notes are limited to 1024 characters."""
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    suffix = " ..."
    return message[:NOTE_LENGTH_LIMIT - len(suffix)] + suffix


def _assigned(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def _responsible(pod: Mapping[str, Any]) -> bool:
    return ((pod.get("spec") or {}).get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME


class Handle:
    """``framework.Handle``: what plugins may use."""

    def __init__(self, scheduler: "Scheduler") -> None:
        self.scheduler = scheduler
        self.ctx = scheduler.ctx
        self.cache = scheduler.cache
        self.api = scheduler.api
        self.client = scheduler.client
        self.config = scheduler.config
        self.clock = scheduler.clock
        self.rng = scheduler.rng
        self.recorder = scheduler.recorder
        self.queue: SchedulingQueue | None = None
        self.framework: Framework | None = None

    def informer(self, kind: str) -> Any:
        return self.ctx.informer(kind)

    def informer_or_none(self, kind: str) -> Any:
        try:
            return self.ctx.informer(kind)
        except (KeyError, LookupError, errors.ApiError):
            return None

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """``GetNamespaceLabelsSnapshot``."""
        ns = self.ctx.informer("Namespace").get(namespace)
        if ns is None:
            return {}
        return dict(ns["metadata"].get("labels") or {})

    def reject_waiting_pod(self, uid: str) -> bool:
        return False  # no Permit plugins in the default profile

    def now_rfc3339(self) -> str:
        return rfc3339(self.clock.now())


class _Binding:
    """A binding cycle in progress (waiting in PreBind)."""

    __slots__ = ("qpi", "state", "node", "steps", "waiting", "timer", "timed_out", "cycle")

    def __init__(self, qpi: QueuedPodInfo, state: CycleState, node: str, steps: list,
                 cycle: int) -> None:
        self.qpi = qpi
        self.state = state
        self.node = node
        self.steps = steps
        self.waiting = False
        self.timer = None
        self.timed_out = False
        self.cycle = cycle


class _CycleError(Exception):
    def __init__(self, status: Status) -> None:
        super().__init__(status.message())
        self.status = status


class _NoNodes(Exception):
    pass


class Scheduler(Controller):
    """The default scheduler. Register it after the controllers that create pods and
    before the kubelets; it needs nothing else from the cluster but its informers."""

    name = SCHEDULER_NAME

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.cache = Cache()
        self.recorder = ctx.recorder(self.name)
        self.rng = ctx.derive_rng("scheduler")
        self.handle = Handle(self)
        self.framework = Framework(self.handle)
        self.handle.framework = self.framework
        registered = dict(self.framework.events)
        registered[NO_NODES] = [ClusterEvent("Node", ActionType.ADD)]
        cfg = self.config
        self.scheduling_queue = SchedulingQueue(
            self.clock, cfg.pod_initial_backoff_seconds, cfg.pod_max_backoff_seconds,
            on_active=self._on_active, pre_enqueue=self.framework.run_pre_enqueue,
            registered=registered)
        self.handle.queue = self.scheduling_queue
        self.next_start_node_index = 0
        self.bindings: dict[str, _Binding] = {}
        self.pods = ctx.informer("Pod")
        self.internal_errors: list[tuple[str, str]] = []

    # -- wiring --------------------------------------------------------------------------

    def setup(self) -> None:
        ctx = self.ctx
        nodes = ctx.informer("Node")
        pods = ctx.informer("Pod")
        nodes.table.handlers.append(self._on_node)
        pods.table.handlers.append(self._on_pod)
        for kind in _STORAGE_KINDS:
            ctx.informer(kind).table.handlers.append(self._on_storage)
        # Objects that exist already (a scheduler added to a running cluster).
        for node in list(nodes):
            self._on_node(WatchEvent(ADDED, node, None, 0))
        for pod in list(pods):
            self._on_pod(WatchEvent(ADDED, pod, None, 0))
        self.scheduling_queue.run()

    def _on_active(self) -> None:
        self.queue.add(SCHEDULE_KEY)

    # -- event handlers: only the cache, the queue and work keys change here ---------------

    def _on_pod(self, ev: WatchEvent) -> None:
        obj, old = ev.obj, ev.old
        if ev.type == DELETED:
            self._pod_gone(obj)
            return
        meta = obj["metadata"]
        uid = meta.get("uid") or ""
        if old is not None and old["metadata"].get("resourceVersion") == meta.get(
                "resourceVersion"):
            return
        # _assigned and is_terminal, inlined: this runs for every write of every pod
        terminal = (obj.get("status") or {}).get("phase") in _TERMINAL
        new_assigned = bool((obj.get("spec") or {}).get("nodeName")) and not terminal
        old_assigned = (old is not None and bool((old.get("spec") or {}).get("nodeName"))
                        and (old.get("status") or {}).get("phase") not in _TERMINAL)
        sq = self.scheduling_queue
        if new_assigned:
            if old_assigned and self.cache.get_pod(uid) is not None:
                event = _pod_update_event(old, obj)
                pi = self.cache.update_pod(obj)
                if event is not None:
                    sq.assigned_pod_updated(pi, event, self.handle.namespace_labels)
                return
            sq.delete(uid)
            pi = self.cache.add_pod(obj)
            sq.assigned_pod_added(pi, self.handle.namespace_labels)
            return
        if terminal:
            self._pod_gone(old if old is not None else obj)
            return
        if not _responsible(obj):
            sq.delete(uid)
            return
        if self.cache.is_assumed(uid):
            return
        if old is None:
            sq.add(PodInfo(obj))
        else:
            sq.update(old, PodInfo(obj))

    def _pod_gone(self, last: Mapping[str, Any]) -> None:
        uid = last["metadata"].get("uid") or ""
        sq = self.scheduling_queue
        st = self.cache.pods.get(uid)
        if st is not None and not st.assumed:
            self.cache.remove_pod(uid)
            sq.move_all(ASSIGNED_POD_DELETE)
        sq.delete(uid)
        if uid in self.bindings:
            self.queue.add(("prebind", uid))

    def _on_node(self, ev: WatchEvent) -> None:
        sq = self.scheduling_queue
        name = ev.obj["metadata"]["name"]
        if ev.type == DELETED:
            self.cache.remove_node(name)
            sq.move_all(NODE_DELETE)
        elif ev.old is None:
            ni = self.cache.add_node(ev.obj)
            sq.move_all(NODE_ADD, self._pre_check(ni))
        else:
            changes = _node_changes(ev.old, ev.obj)
            ni = self.cache.update_node(ev.obj)
            if changes:
                check = self._pre_check(ni)
                for event in changes:
                    sq.move_all(event, check)
        if self.bindings:
            self._recheck_bindings()

    def _on_storage(self, ev: WatchEvent) -> None:
        kind = ev.obj.get("kind") or ""
        if ev.type == ADDED:
            action = ActionType.ADD
        elif ev.type == DELETED:
            action = ActionType.DELETE
        else:
            action = ActionType.UPDATE_OTHER
        self.scheduling_queue.move_all(ClusterEvent(kind, action, f"{kind}{ev.type.title()}"))
        if self.bindings:
            self._recheck_bindings()

    def _recheck_bindings(self) -> None:
        for uid, b in self.bindings.items():
            if b.waiting:
                self.queue.add(("prebind", uid))

    def _pre_check(self, ni: NodeInfo):
        """``preCheckForNode``: only pods that would pass the basic admission checks on
        the changed node (resources, node affinity, node name, host ports, NoSchedule
        taints) are worth moving."""
        def check(pi: PodInfo) -> bool:
            if ni.node is None:
                return False
            if _fit.insufficient(_fit.FitRequest(pi), ni):
                return False
            if not RequiredNodeAffinity(pi.pod).match(ni.labels, ni.name):
                return False
            if not _nodename.fits(pi, ni) or not _nodeports.fits(pi, ni):
                return False
            return find_untolerated(ni.taints, pi.tolerations, ("NoSchedule",)) is None
        return check

    # -- the run loop --------------------------------------------------------------------

    def reconcile(self, key: Hashable) -> Result | None:
        if key == SCHEDULE_KEY:
            self.schedule_one()
            if self.scheduling_queue.has_active():
                self.queue.add(SCHEDULE_KEY)
            return None
        if isinstance(key, tuple) and key and key[0] == "prebind":
            b = self.bindings.get(key[1])
            if b is not None:
                self._run_binding_cycle(b)
        return None

    def schedule_one(self) -> None:
        """``ScheduleOne``: one pod through the scheduling cycle and, when it fits, the
        binding cycle."""
        sq = self.scheduling_queue
        qpi = sq.pop()
        if qpi is None:
            return
        qpi.unschedulable_plugins = NO_PLUGINS
        qpi.pending_plugins = NO_PLUGINS
        pi = qpi.pi
        current = self.pods.get(pi.name, pi.namespace)
        if (current is None or current["metadata"].get("uid") != pi.uid
                or current["metadata"].get("deletionTimestamp") is not None
                or _assigned(current) or self.cache.is_assumed(pi.uid)):
            sq.done(pi.uid)   # skipPodSchedule
            return
        if current is not pi.pod:
            pi = qpi.pi = PodInfo(current)
        cycle = sq.scheduling_cycle
        state = CycleState()
        try:
            host = self.schedule_pod(state, pi)
        except _NoNodes:
            qpi.unschedulable_plugins = {NO_NODES}
            self._handle_failure(qpi, cycle, unresolvable(ERR_NO_NODES_AVAILABLE),
                                 _CLEAR_NOMINATION)
            return
        except FitError as fe:
            nominating = None
            if self.framework.post_filter_plugins:
                out = self._guard(self.framework.run_post_filter, state, pi, fe.statuses)
                result, pst = (None, out) if isinstance(out, Status) else out
                fe.post_filter_msg = pst.message()
                if isinstance(result, NominatingInfo):
                    nominating = result
            qpi.unschedulable_plugins = set(fe.unschedulable_plugins)
            self._handle_failure(qpi, cycle, Status(Code.UNSCHEDULABLE, str(fe)), nominating)
            return
        except _CycleError as exc:
            self._handle_failure(qpi, cycle, exc.status, _CLEAR_NOMINATION)
            return
        # assume, reserve
        self.cache.assume_pod(pi, host)
        st = self._guard(self.framework.run_reserve, state, pi, host)
        if st is not None:
            self.framework.run_unreserve(state, pi, host)
            self.cache.forget_pod(pi.uid)
            if st.is_rejected():
                statuses = NodeToStatus()
                statuses.set(host, st)
                fe = FitError(pi, 1, statuses, unschedulable_plugins={st.plugin})
                qpi.unschedulable_plugins = {st.plugin}
                st = Status(st.code, str(fe))
            self._handle_failure(qpi, cycle, st, _CLEAR_NOMINATION)
            return
        sq.done(pi.uid)
        self._run_binding_cycle(_Binding(qpi, state, host,
                                         list(self.framework.pre_bind_plugins), cycle))

    def schedule_pod(self, state: CycleState, pi: PodInfo) -> str:
        """``schedulePod``: the chosen node's name; raises :class:`FitError` when no node
        fits."""
        all_nodes = self.cache.node_list()
        if not all_nodes:
            raise _NoNodes()
        feasible, fe = self.find_nodes_that_fit(state, pi)
        if not feasible:
            raise fe
        if len(feasible) == 1:
            return feasible[0].name
        index, st = self._guard2(self.framework.select, state, pi, feasible, self.rng)
        if st is not None:
            raise _CycleError(st)
        return feasible[index].name

    def find_nodes_that_fit(self, state: CycleState, pi: PodInfo
                            ) -> tuple[list[NodeInfo], FitError | None]:
        """``findNodesThatFitPod``: the feasible nodes, and the FitError to raise if none
        (None when some node fits)."""
        fw = self.framework
        all_nodes = self.cache.node_list()
        statuses = NodeToStatus()
        res = self._guard3(fw.run_pre_filter, state, pi)
        pre_res, st, with_nodes = res
        if st is not None:
            if not st.is_rejected():
                raise _CycleError(st)
            statuses.absent = st
            fe = FitError(pi, len(all_nodes), statuses, pre_filter_msg=st.message())
            if st.plugin:
                fe.unschedulable_plugins.add(st.plugin)
            return [], fe
        nominated = ((pi.pod.get("status") or {}).get("nominatedNodeName")) or ""
        if nominated:
            ni = self.cache.get_node(nominated)
            if ni is not None:
                feasible = self._pass_filters(state, pi, [ni], statuses)
                if feasible:
                    return feasible, None
        nodes = all_nodes
        if pre_res is not None and not pre_res.all_nodes():
            allowed = pre_res.node_names
            nodes = [ni for ni in all_nodes if ni.name in allowed]
            statuses.absent = unresolvable(
                f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(with_nodes))}]")
        feasible = self._pass_filters(state, pi, nodes, statuses)
        if feasible:
            return feasible, None
        fe = FitError(pi, len(all_nodes), statuses)
        plugins = fe.unschedulable_plugins
        for s in statuses.statuses.values():
            if s.plugin and s.is_rejected():
                plugins.add(s.plugin)
        if len(statuses) < len(all_nodes) and statuses.absent.reasons:
            plugins.update(with_nodes)
        return feasible, fe

    def _pass_filters(self, state: CycleState, pi: PodInfo, nodes: list[NodeInfo],
                      statuses: NodeToStatus) -> list[NodeInfo]:
        """``findNodesThatPassFilters``, continuing from ``nextStartNodeIndex``."""
        n = len(nodes)
        if n == 0:
            return []
        to_find = num_feasible_nodes_to_find(int(self.config.percentage_of_nodes_to_score), n)
        start = self.next_start_node_index % n
        feasible, processed, err = self._guard3(self.framework.find_feasible, state, pi, nodes,
                                                start, to_find, statuses)
        if err is not None:
            raise _CycleError(err)
        self.next_start_node_index = (start + processed) % n
        return feasible

    def _guard(self, fn, *args):
        """Run plugin code, ``fn(*args)``; an unexpected exception (a bug, or input the API
        let through that a plugin cannot read) becomes an Error status instead of escaping
        the run loop. The traceback text is kept in ``internal_errors``."""
        try:
            return fn(*args)
        except errors.ApiError as exc:
            return error(str(exc))
        except Exception as exc:  # noqa: BLE001 - see docstring
            import traceback
            self.internal_errors.append((repr(exc), traceback.format_exc()))
            return error(f"internal error: {exc!r}")

    def _guard2(self, fn, *args):
        out = self._guard(fn, *args)
        if isinstance(out, Status):
            return None, out
        return out

    def _guard3(self, fn, *args):
        out = self._guard(fn, *args)
        if isinstance(out, Status):
            raise _CycleError(out)
        return out

    # -- the binding cycle ---------------------------------------------------------------

    def _run_binding_cycle(self, b: _Binding) -> None:
        pi = b.qpi.pi
        uid = pi.uid
        fw = self.framework
        while b.steps:
            p = b.steps[0]
            if b.waiting:
                # (looked up under the guard: a plugin that waits without this method
                # is an error of that plugin)
                st = self._guard(lambda: p.pre_bind_check(b.state, pi, b.node))
                if st is not None and st.code == Code.WAIT and b.timed_out:
                    st = error("binding volumes: context deadline exceeded")
            else:
                st = self._guard(p.pre_bind, b.state, pi, b.node)
            if st is None or st.code == Code.SUCCESS:
                b.steps.pop(0)
                b.waiting = False
                self._cancel_binding_timer(b)
                continue
            if st.code == Code.WAIT:
                b.waiting = True
                if b.timer is None:
                    timeout = float(getattr(p, "pre_bind_timeout", 600.0))
                    b.timer = self.clock.call_later(
                        timeout, lambda: self._binding_timed_out(uid),
                        label=f"{self.name} bind timeout {pi.namespace}/{pi.name}")
                self.bindings[uid] = b
                return
            self.bindings.pop(uid, None)
            self._cancel_binding_timer(b)
            self._binding_failed(b, error(f'running PreBind plugin "{p.NAME}": {st.message()}'))
            return
        self.bindings.pop(uid, None)
        self._cancel_binding_timer(b)
        st = self._guard(fw.run_bind, b.state, pi, b.node)
        if st is not None:
            self._binding_failed(b, st)
            return
        self.recorder.event(pi.pod, "Normal", "Scheduled",
                            f"Successfully assigned {pi.namespace}/{pi.name} to {b.node}")
        fw.run_post_bind(b.state, pi, b.node)

    def _binding_timed_out(self, uid: str) -> None:
        b = self.bindings.get(uid)
        if b is not None:
            b.timer = None
            b.timed_out = True
            self.queue.add(("prebind", uid))

    def _cancel_binding_timer(self, b: _Binding) -> None:
        if b.timer is not None:
            b.timer.cancel()
            b.timer = None

    def _binding_failed(self, b: _Binding, status: Status) -> None:
        """``handleBindingCycleError``."""
        pi = b.qpi.pi
        self.framework.run_unreserve(b.state, pi, b.node)
        self.cache.forget_pod(pi.uid)
        if status.is_rejected():
            self.scheduling_queue.move_all(ASSIGNED_POD_DELETE, lambda p: p.uid != pi.uid)
        else:
            self.scheduling_queue.move_all(ASSIGNED_POD_DELETE)
        self._handle_failure(b.qpi, b.cycle, status, _CLEAR_NOMINATION)

    # -- failures ------------------------------------------------------------------------

    def _handle_failure(self, qpi: QueuedPodInfo, cycle: int, status: Status,
                        nominating: NominatingInfo | None) -> None:
        """``handleSchedulingFailure``: back to the queue, a FailedScheduling event, and
        the PodScheduled condition."""
        sq = self.scheduling_queue
        pi = qpi.pi
        reason = "Unschedulable" if status.is_rejected() else "SchedulerError"
        current = self.pods.get(pi.name, pi.namespace)
        if current is None or current["metadata"].get("uid") != pi.uid:
            sq.done(pi.uid)
            current = None
        elif _assigned(current):
            sq.done(pi.uid)
        else:
            if current is not pi.pod:
                qpi.pi = pi = PodInfo(current)
            sq.add_unschedulable_if_not_present(qpi, cycle)
        if current is not None and not _assigned(current) and nominating is not None:
            sq.add_nominated(pi, nominating.node_name)
        msg = status.message()
        self.recorder.event(current if current is not None else pi.pod, "Warning",
                            "FailedScheduling", truncate_message(msg))
        if current is None:
            return
        condition = {"type": "PodScheduled", "status": "False", "reason": reason,
                     "message": msg}
        self._update_pod(current, condition, nominating)

    def _update_pod(self, pod: Mapping[str, Any], condition: dict,
                    nominating: NominatingInfo | None) -> None:
        """``updatePod``: write the condition (and nominated node) if anything changed."""
        status = deep_copy(pod.get("status") or {})
        old_nnn = status.get("nominatedNodeName") or ""
        nnn_changed = nominating is not None and old_nnn != nominating.node_name
        changed = update_pod_condition(status, condition, rfc3339(self.clock.now()))
        if not changed and not nnn_changed:
            return
        if nnn_changed:
            if nominating.node_name:
                status["nominatedNodeName"] = nominating.node_name
            else:
                status.pop("nominatedNodeName", None)
        new = deep_copy(pod)
        new["status"] = status
        try:
            self.client.update_status(new)
        except errors.ApiError:
            pass  # the pod changed or went away; the next attempt writes again


def _pod_update_event(old: Mapping[str, Any], new: Mapping[str, Any]) -> ClusterEvent | None:
    """``PodSchedulingPropertiesChange`` for assigned pods, as far as plugins care: label
    changes; status-only updates (kubelets) are not events for the queue."""
    ol, nl = old["metadata"].get("labels"), new["metadata"].get("labels")
    if ol is not nl and (ol or {}) != (nl or {}):
        return ClusterEvent("Pod", ActionType.UPDATE_POD_LABEL, "AssignedPodUpdate")
    return None


def _conditions(node: Mapping[str, Any]) -> dict[str, str]:
    return {c.get("type"): c.get("status")
            for c in (node.get("status") or {}).get("conditions") or ()}


def _node_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ClusterEvent]:
    """``nodeSchedulingPropertiesChange``: the node events an update amounts to (condition
    changes count only by status, never by heartbeat times)."""
    os_, ns_ = old.get("spec") or {}, new.get("spec") or {}
    om, nm = old["metadata"], new["metadata"]
    ost, nst = old.get("status") or {}, new.get("status") or {}
    changed = {
        "unschedulable": bool(os_.get("unschedulable")) != bool(ns_.get("unschedulable")),
        "allocatable": ost.get("allocatable") != nst.get("allocatable"),
        "labels": (om.get("labels") or {}) != (nm.get("labels") or {}),
        "taints": (os_.get("taints") or []) != (ns_.get("taints") or []),
        "conditions": _conditions(old) != _conditions(new),
        "annotations": (om.get("annotations") or {}) != (nm.get("annotations") or {}),
    }
    return [event for what, event in _NODE_UPDATES if changed[what]]
