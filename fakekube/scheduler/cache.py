"""The scheduler cache: a :class:`~fakekube.scheduler.types.NodeInfo` per node, kept current
from Node and Pod events, with the pods the scheduler has assumed onto nodes before their
binding is visible.

Follows ``kubernetes/kubernetes:pkg/scheduler/internal/cache/cache.go``, ``node_tree.go`` and
``snapshot.go`` (v1.31):

- pods are added as they are bound (or assumed); a pod on a node the cache doesn't know is
  kept on a placeholder NodeInfo until the node appears; terminal pods (Succeeded, Failed)
  are not in the scheduler's view at all (its pod informer filters them out);
- the node list a scheduling cycle walks is the node tree's order: zones (region + zone)
  in the order first seen, one node of each zone in turn;
- the snapshot upstream copies at the start of every cycle is this cache itself: fakekube
  runs one cycle at a time and nothing changes the cache during a cycle's filtering.

Indexes the plugins need without rescanning pods: pods by label and by namespace (for
topology spreading and pod affinity counts), nodes with pods that have (anti-)affinity, and
how many pods use each claim (ReadWriteOncePod).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from ..api.selectors import LabelSelector
from .types import NodeInfo, NodeJournal, PodInfo

__all__ = ["Cache"]


MAX_COUNTERS = 256


class _Counter:
    """Pods matching one (namespace, selector), counted per node and, on demand, per value
    of a node label (topology key), kept current as pods come and go."""

    __slots__ = ("namespace", "selector", "by_node", "by_key")

    def __init__(self, namespace: str, selector: LabelSelector) -> None:
        self.namespace = namespace
        self.selector = selector
        self.by_node: dict[str, int] = {}
        self.by_key: dict[str, dict[str, int]] = {}

    def counts(self, pi: PodInfo) -> bool:
        return (pi.namespace == self.namespace and not pi.deleting
                and self.selector.matches(pi.labels))


class _PodState:
    __slots__ = ("pi", "node", "assumed")

    def __init__(self, pi: PodInfo, node: str, assumed: bool) -> None:
        self.pi = pi
        self.node = node
        self.assumed = assumed


def _same_scheduling_view(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    om, nm = old["metadata"], new["metadata"]
    return (old.get("spec") == new.get("spec")
            and om.get("labels") == nm.get("labels")
            and (old.get("status") or {}).get("allocatable")
            == (new.get("status") or {}).get("allocatable"))


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class Cache:
    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}          # placeholders (node None) included
        self.pods: dict[str, _PodState] = {}
        self._zones: dict[str, list[str]] = {}        # node tree: zone -> node names
        self._zone_order: list[str] = []
        self._list: list[NodeInfo] | None = None
        self._num_nodes = 0
        self.label_index: dict[tuple[str, str], set[str]] = {}
        self.ns_index: dict[str, set[str]] = {}
        self._affinity_nodes: dict[str, NodeInfo] = {}
        self._anti_affinity_nodes: dict[str, NodeInfo] = {}
        self.pvc_users: dict[str, int] = {}
        self.prefer_taint_nodes: set[str] = set()   # nodes with PreferNoSchedule taints
        # (namespace, selector) -> _Counter, most recently used last
        self._counters: dict[tuple[str, LabelSelector], _Counter] = {}
        self._counters_by_ns: dict[str, list[_Counter]] = {}
        #: every change of one of its NodeInfos, in order (see NodeJournal)
        self.journal = NodeJournal()

    # -- nodes ---------------------------------------------------------------------------

    def node_list(self) -> list[NodeInfo]:
        """Every node, in the node tree's zone-interleaved order (``NodeInfos().List()``)."""
        lst = self._list
        if lst is None:
            lst = self._list = self._build_list()
        return lst

    def _build_list(self) -> list[NodeInfo]:
        out: list[NodeInfo] = []
        zones = [self._zones[z] for z in self._zone_order]
        i = 0
        remaining = self._num_nodes
        while remaining > 0:
            for names in zones:
                if i < len(names):
                    out.append(self.nodes[names[i]])
                    remaining -= 1
            i += 1
        return out

    def num_nodes(self) -> int:
        return self._num_nodes

    def get_node(self, name: str) -> NodeInfo | None:
        ni = self.nodes.get(name)
        return ni if ni is not None and ni.node is not None else None

    def add_node(self, node: Mapping[str, Any]) -> NodeInfo:
        name = node["metadata"]["name"]
        ni = self.nodes.get(name)
        if ni is None:
            ni = self.nodes[name] = NodeInfo(node)
            ni.journal = self.journal
            self._tree_add(ni)
        elif ni.node is None:
            ni.set_node(node)
            self._tree_add(ni)
        else:
            return self.update_node(node)
        return ni

    def update_node(self, node: Mapping[str, Any]) -> NodeInfo:
        name = node["metadata"]["name"]
        ni = self.nodes.get(name)
        if ni is None or ni.node is None:
            return self.add_node(node)
        old = ni.node
        if _same_scheduling_view(old, node):
            ni.node = node       # a status heartbeat: nothing the scheduler reads changed
            return ni
        old_zone = ni.zone
        old_labels = ni.labels
        ni.set_node(node)
        self._note_taints(ni)
        if ni.labels != old_labels:
            self._labels_changed()
        if ni.zone != old_zone:
            self._tree_remove(name, old_zone)
            self._tree_add(ni)
        return ni

    def remove_node(self, name: str) -> None:
        ni = self.nodes.get(name)
        if ni is None or ni.node is None:
            return
        self._tree_remove(name, ni.zone)
        self.prefer_taint_nodes.discard(name)
        if ni.pods:
            ni.node = None           # keep the pods on a placeholder until they go
        else:
            del self.nodes[name]
        self._affinity_nodes.pop(name, None)
        self._anti_affinity_nodes.pop(name, None)

    def _note_taints(self, ni: NodeInfo) -> None:
        if ni.prefer_taints and ni.node is not None:
            self.prefer_taint_nodes.add(ni.name)
        else:
            self.prefer_taint_nodes.discard(ni.name)

    def _labels_changed(self) -> None:
        for c in self._counters.values():
            if c.by_key:
                c.by_key = {}

    def _tree_add(self, ni: NodeInfo) -> None:
        self._note_taints(ni)
        self._labels_changed()
        names = self._zones.get(ni.zone)
        if names is None:
            names = self._zones[ni.zone] = []
            self._zone_order.append(ni.zone)
        names.append(ni.name)
        self._num_nodes += 1
        self._list = None
        if ni.pods_with_affinity:
            self._affinity_nodes[ni.name] = ni
        if ni.pods_with_required_anti_affinity:
            self._anti_affinity_nodes[ni.name] = ni

    def _tree_remove(self, name: str, zone: str) -> None:
        names = self._zones.get(zone)
        if names is None or name not in names:
            return
        names.remove(name)
        self._labels_changed()
        if not names:
            del self._zones[zone]
            self._zone_order.remove(zone)
        self._num_nodes -= 1
        self._list = None

    # -- pods ----------------------------------------------------------------------------

    def assume_pod(self, pi: PodInfo, node_name: str) -> None:
        """``AssumePod``: account the pod on ``node_name`` before its binding is stored."""
        self._add(pi, node_name, assumed=True)

    def forget_pod(self, uid: str) -> None:
        """``ForgetPod``: the assumed pod's binding failed."""
        st = self.pods.get(uid)
        if st is not None and st.assumed:
            self._remove(uid)

    def is_assumed(self, uid: str) -> bool:
        st = self.pods.get(uid)
        return st is not None and st.assumed

    def add_pod(self, pod: Mapping[str, Any], pi: PodInfo | None = None) -> PodInfo:
        """``AddPod``: a bound pod (confirms an assumed one)."""
        uid = pod["metadata"].get("uid") or ""
        node = (pod.get("spec") or {}).get("nodeName") or ""
        st = self.pods.get(uid)
        if st is not None:
            if st.node == node and st.pi.same_shape(pod):
                pi = st.pi
                pi.pod = pod
                pi.node_name = node
                st.assumed = False
                return pi
            self._remove(uid)
        if pi is None or pi.pod is not pod:
            pi = PodInfo(pod)
        self._add(pi, node, assumed=False)
        return pi

    def update_pod(self, pod: Mapping[str, Any]) -> PodInfo:
        return self.add_pod(pod)

    def remove_pod(self, uid: str) -> PodInfo | None:
        st = self.pods.get(uid)
        if st is None:
            return None
        self._remove(uid)
        return st.pi

    def get_pod(self, uid: str) -> PodInfo | None:
        st = self.pods.get(uid)
        return st.pi if st is not None else None

    def pod_node(self, uid: str) -> str | None:
        st = self.pods.get(uid)
        return st.node if st is not None else None

    def _add(self, pi: PodInfo, node_name: str, assumed: bool) -> None:
        uid = pi.uid
        self.pods[uid] = _PodState(pi, node_name, assumed)
        ni = self.nodes.get(node_name)
        if ni is None:
            ni = self.nodes[node_name] = NodeInfo(None, node_name)
            ni.journal = self.journal
        ni.add_pod(pi)
        if ni.node is not None:
            if pi.has_affinity:
                self._affinity_nodes[node_name] = ni
                if pi.has_required_anti_affinity:
                    self._anti_affinity_nodes[node_name] = ni
        for item in pi.labels.items():
            s = self.label_index.get(item)
            if s is None:
                s = self.label_index[item] = set()
            s.add(uid)
        s = self.ns_index.get(pi.namespace)
        if s is None:
            s = self.ns_index[pi.namespace] = set()
        s.add(uid)
        if pi.claims:
            users = self.pvc_users
            for c in pi.claims:
                k = f"{pi.namespace}/{c}"
                users[k] = users.get(k, 0) + 1
        counters = self._counters_by_ns.get(pi.namespace)
        if counters:
            for c in counters:
                if c.counts(pi):
                    self._bump(c, node_name, 1)

    def _remove(self, uid: str) -> None:
        st = self.pods.pop(uid)
        pi = st.pi
        counters = self._counters_by_ns.get(pi.namespace)
        if counters:
            for c in counters:
                if c.counts(pi):
                    self._bump(c, st.node, -1)
        ni = self.nodes.get(st.node)
        if ni is not None:
            ni.remove_pod(uid)
            if not ni.pods_with_affinity:
                self._affinity_nodes.pop(st.node, None)
            if not ni.pods_with_required_anti_affinity:
                self._anti_affinity_nodes.pop(st.node, None)
            if ni.node is None and not ni.pods:
                del self.nodes[st.node]
        for item in pi.labels.items():
            s = self.label_index.get(item)
            if s is not None:
                s.discard(uid)
                if not s:
                    del self.label_index[item]
        s = self.ns_index.get(pi.namespace)
        if s is not None:
            s.discard(uid)
            if not s:
                del self.ns_index[pi.namespace]
        if pi.claims:
            users = self.pvc_users
            for c in pi.claims:
                k = f"{pi.namespace}/{c}"
                n = users.get(k, 0) - 1
                if n > 0:
                    users[k] = n
                else:
                    users.pop(k, None)

    # -- queries plugins make ------------------------------------------------------------

    def is_pvc_used_by_pods(self, key: str) -> bool:
        """``StorageInfos().IsPVCUsedByPods``: a pod in the cache uses claim ``ns/name``."""
        return self.pvc_users.get(key, 0) > 0

    def has_affinity_pods(self) -> bool:
        """Whether some known node has a pod with (anti-)affinity terms."""
        return bool(self._affinity_nodes)

    def has_required_anti_affinity_pods(self) -> bool:
        """Whether some known node has a pod with required anti-affinity terms."""
        return bool(self._anti_affinity_nodes)

    def nodes_with_affinity_pods(self) -> list[NodeInfo]:
        """``HavePodsWithAffinityList``."""
        return list(self._affinity_nodes.values())

    def nodes_with_required_anti_affinity_pods(self) -> list[NodeInfo]:
        """``HavePodsWithRequiredAntiAffinityList``."""
        return list(self._anti_affinity_nodes.values())

    def _candidates(self, selector: LabelSelector, namespace: str | None) -> Iterable[str]:
        terms = selector.index_terms()
        if terms:
            best: set[str] | None = None
            for key, values in terms:
                found: set[str] = set()
                for v in values:
                    s = self.label_index.get((key, v))
                    if s:
                        found |= s
                best = found if best is None or len(found) < len(best) else best
                if not best:
                    return ()
            return best or ()
        if namespace is not None:
            return self.ns_index.get(namespace, ())
        return self.pods.keys()

    def _bump(self, c: _Counter, node_name: str, delta: int) -> None:
        n = c.by_node.get(node_name, 0) + delta
        if n:
            c.by_node[node_name] = n
        else:
            c.by_node.pop(node_name, None)
        if c.by_key:
            ni = self.nodes.get(node_name)
            if ni is not None and ni.node is not None:
                labels = ni.labels
                for key, by_value in c.by_key.items():
                    v = labels.get(key)
                    if v is not None:
                        by_value[v] = by_value.get(v, 0) + delta

    def _counter(self, selector: LabelSelector, namespace: str) -> _Counter:
        key = (namespace, selector)
        c = self._counters.pop(key, None)
        if c is None:
            if len(self._counters) >= MAX_COUNTERS:
                old_key = next(iter(self._counters))
                old = self._counters.pop(old_key)
                self._counters_by_ns[old.namespace].remove(old)
            c = _Counter(namespace, selector)
            pods = self.pods
            for uid in self._candidates(selector, namespace):
                st = pods[uid]
                if c.counts(st.pi):
                    c.by_node[st.node] = c.by_node.get(st.node, 0) + 1
            self._counters_by_ns.setdefault(namespace, []).append(c)
        self._counters[key] = c
        return c

    def count_matching(self, selector: LabelSelector, namespace: str) -> dict[str, int]:
        """Pods per node name that are in ``namespace``, not terminating and match
        ``selector`` (``countPodsMatchSelector`` for every node at once), kept up to date
        incrementally once asked for. An empty selector matches nothing here, as upstream's
        counting. The dict returned is the cache's own: read it, don't keep it."""
        if selector.empty or selector.nothing:
            return {}
        return self._counter(selector, namespace).by_node

    def count_matching_by_label(self, selector: LabelSelector, namespace: str, key: str
                                ) -> dict[str, int]:
        """Like :meth:`count_matching`, summed per value of node label ``key`` over the
        known nodes that have it."""
        if selector.empty or selector.nothing:
            return {}
        c = self._counter(selector, namespace)
        by_value = c.by_key.get(key)
        if by_value is None:
            by_value = {}
            nodes = self.nodes
            for node_name, n in c.by_node.items():
                ni = nodes.get(node_name)
                if ni is None or ni.node is None:
                    continue
                v = ni.labels.get(key)
                if v is not None:
                    by_value[v] = by_value.get(v, 0) + n
            c.by_key[key] = by_value
        return by_value

    def pods_on_nodes(self, selectors: list[LabelSelector] | None
                      ) -> Iterator[tuple[PodInfo, NodeInfo]]:
        """Pods on known nodes, restricted to those that may match one of ``selectors``
        (a superset; None means every pod)."""
        uids: Iterable[str]
        if selectors is None or any(not s.index_terms() for s in selectors):
            uids = list(self.pods.keys())
        else:
            found: set[str] = set()
            for s in selectors:
                found.update(self._candidates(s, None))
            uids = sorted(found)
        pods, nodes = self.pods, self.nodes
        for uid in uids:
            st = pods.get(uid)
            if st is None:
                continue
            ni = nodes.get(st.node)
            if ni is None or ni.node is None:
                continue
            yield st.pi, ni
