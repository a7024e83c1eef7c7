"""VolumeBinding: a pod's PersistentVolumeClaims decide where it can run, and for claims of
a WaitForFirstConsumer class the scheduler chooses their volume (or asks for one to be
provisioned) once it has chosen the node.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/volumebinding/volume_binding.go``
and ``binder.go`` (v1.31), and ``FindMatchingVolume``/``GetBindVolumeToClaim`` in
``kubernetes/kubernetes:staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go``:

- PreFilter: a missing claim (``persistentvolumeclaim "x" not found``), a claim being
  deleted (``... is being deleted``), a lost claim, and an unbound claim of an Immediate class
  (``pod has unbound immediate PersistentVolumeClaims``) are UnschedulableAndUnresolvable.
  Bound claims whose PVs are pinned to hostnames narrow the cycle to those nodes (a
  PreFilterResult). Pods without claims skip the plugin.
- Filter, per node: the PVs of bound claims must accept the node
  (``node(s) had volume node affinity conflict``); each unbound WaitForFirstConsumer claim
  needs an Available PV that fits it and the node (the smallest wins; a PV pre-bound to the
  claim first), or else a class that can provision there (provisioner not
  ``kubernetes.io/no-provisioner``, allowedTopologies matching the node); otherwise
  ``node(s) didn't find available persistent volumes to bind``. A claim already annotated
  with ``volume.kubernetes.io/selected-node`` only fits that node. A bound claim whose PV is
  gone gives ``node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)``.
- Reserve keeps the chosen bindings; PreBind writes them (the PV's ``claimRef`` with the
  annotation ``pv.kubernetes.io/bound-by-controller: "yes"``, or the claim's
  ``volume.kubernetes.io/selected-node``) and then waits until every claim is bound
  (``spec.volumeName`` set and ``pv.kubernetes.io/bind-completed`` on the claim), re-checking
  whenever a PV or claim changes, for at most ``bind_timeout_seconds``.

Storage capacity tracking (CSIStorageCapacity) and CSI migration are not emulated: every
class that can provision is assumed to have room.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping

from ... import errors
from ...api.objects import deep_copy
from ...api.quantity import parse_quantity
from ...api.selectors import SelectorError, label_selector_from_dict
from ..framework import (SKIP, ActionType, ClusterEvent, Code, CycleState, PreFilterResult,
                         Status, error, unresolvable)
from ..helpers import LABEL_HOSTNAME, NodeSelector, pv_class, pvc_class
from ..types import NodeInfo, PodInfo

NAME = "VolumeBinding"
ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
ERR_REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict"
ERR_REASON_NOT_ENOUGH_SPACE = "node(s) did not have enough free storage"
ERR_REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
ERR_REASON_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"

ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner"

STATE_KEY = NAME

_REASON_ORDER = (ERR_REASON_NODE_CONFLICT, ERR_REASON_BIND_CONFLICT,
                 ERR_REASON_NOT_ENOUGH_SPACE, ERR_REASON_PV_NOT_EXIST)


def storage_request(pvc: Mapping[str, Any]) -> Fraction:
    q = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return parse_quantity(q) if q is not None else Fraction(0)
    except (ValueError, TypeError):
        return Fraction(0)


def storage_capacity(pv: Mapping[str, Any]) -> Fraction:
    q = ((pv.get("spec") or {}).get("capacity") or {}).get("storage")
    try:
        return parse_quantity(q) if q is not None else Fraction(0)
    except (ValueError, TypeError):
        return Fraction(0)


def is_fully_bound(pvc: Mapping[str, Any]) -> bool:
    """``isPVCFullyBound``: ``spec.volumeName`` set and the bind-completed annotation."""
    return bool((pvc.get("spec") or {}).get("volumeName")) and ANN_BIND_COMPLETED in (
        (pvc["metadata"].get("annotations")) or {})


def is_volume_bound_to_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> bool:
    ref = (pv.get("spec") or {}).get("claimRef")
    if not ref:
        return False
    m = pvc["metadata"]
    if ref.get("name") != m["name"] or ref.get("namespace") != m.get("namespace"):
        return False
    uid = ref.get("uid")
    return not uid or uid == m.get("uid")


def check_node_affinity(pv: Mapping[str, Any], node_labels: Mapping[str, str]) -> bool:
    """``volume.CheckNodeAffinity``: the PV's required node affinity against node labels."""
    na = (pv.get("spec") or {}).get("nodeAffinity")
    if not na:
        return True
    req = na.get("required")
    if req is None:
        return True
    return NodeSelector(req).match(node_labels, "")


def local_pv_node_names(pv: Mapping[str, Any]) -> set[str]:
    """``GetLocalPersistentVolumeNodeNames``: hostnames a PV's node affinity pins it to."""
    na = (pv.get("spec") or {}).get("nodeAffinity") or {}
    req = na.get("required") or {}
    result: set[str] = set()
    for term in req.get("nodeSelectorTerms") or ():
        nodes: set[str] | None = None
        for expr in (term or {}).get("matchExpressions") or ():
            if expr.get("key") == LABEL_HOSTNAME and expr.get("operator") == "In":
                vs = set(expr.get("values") or ())
                nodes = vs if nodes is None else nodes & vs
        if nodes:
            result |= nodes
    return result


def _check_access_modes(pvc: Mapping[str, Any], pv: Mapping[str, Any]) -> bool:
    pv_modes = set((pv.get("spec") or {}).get("accessModes") or ())
    return all(m in pv_modes for m in (pvc.get("spec") or {}).get("accessModes") or ())


def _volume_mode_mismatch(pvc: Mapping[str, Any], pv: Mapping[str, Any]) -> bool:
    want = (pvc.get("spec") or {}).get("volumeMode") or "Filesystem"
    have = (pv.get("spec") or {}).get("volumeMode") or "Filesystem"
    return want != have


def find_matching_volume(pvc: Mapping[str, Any], volumes: list[Mapping[str, Any]],
                         node_labels: Mapping[str, str] | None,
                         excluded: set[str]) -> Mapping[str, Any] | None:
    """``FindMatchingVolume`` on the scheduler's path (delay binding, a node given): a PV
    pre-bound to the claim if it fits the node, else the smallest Available PV that fits."""
    requested = storage_request(pvc)
    requested_class = pvc_class(pvc)
    sel_raw = (pvc.get("spec") or {}).get("selector")
    selector = None
    if sel_raw is not None:
        try:
            selector = label_selector_from_dict(sel_raw)
        except SelectorError:
            return None
    smallest = None
    smallest_qty = None
    for pv in volumes:
        meta = pv["metadata"]
        if meta["name"] in excluded:
            continue
        spec = pv.get("spec") or {}
        if spec.get("claimRef") and not is_volume_bound_to_claim(pv, pvc):
            continue
        qty = storage_capacity(pv)
        if qty < requested:
            continue
        if _volume_mode_mismatch(pvc, pv):
            continue
        if meta.get("deletionTimestamp"):
            continue
        affinity_ok = True
        if node_labels is not None:
            affinity_ok = check_node_affinity(pv, node_labels)
        if is_volume_bound_to_claim(pv, pvc):
            return pv if affinity_ok else None
        if (pv.get("status") or {}).get("phase") != "Available":
            continue
        if selector is not None and not selector.matches(meta.get("labels")):
            continue
        if pv_class(pv) != requested_class:
            continue
        if not affinity_ok:
            continue
        if node_labels is not None and not _check_access_modes(pvc, pv):
            continue
        if smallest is None or smallest_qty > qty:
            smallest, smallest_qty = pv, qty
    return smallest


def bind_volume_to_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> tuple[dict, bool]:
    """``GetBindVolumeToClaim``: a copy of ``pv`` bound to ``pvc`` and whether it changed."""
    dirty = False
    should_set_bound_by_controller = not is_volume_bound_to_claim(pv, pvc)
    new = deep_copy(pv)
    spec = new.setdefault("spec", {})
    ref = spec.get("claimRef") or {}
    m = pvc["metadata"]
    if (not ref or ref.get("name") != m["name"] or ref.get("namespace") != m.get("namespace")
            or ref.get("uid") != m.get("uid")):
        spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": m.get("namespace"),
                            "name": m["name"], "uid": m.get("uid"), "apiVersion": "v1",
                            "resourceVersion": m.get("resourceVersion")}
        dirty = True
    if should_set_bound_by_controller:
        ann = new["metadata"].setdefault("annotations", {})
        if ANN_BOUND_BY_CONTROLLER not in ann:
            ann[ANN_BOUND_BY_CONTROLLER] = "yes"
            dirty = True
    return new, dirty


class PodVolumes:
    """``PodVolumes``: for one node, the static bindings ((PV, claim) pairs) and the claims
    to provision."""

    __slots__ = ("static_bindings", "dynamic_provisions")

    def __init__(self, static_bindings: list, dynamic_provisions: list) -> None:
        self.static_bindings = static_bindings
        self.dynamic_provisions = dynamic_provisions


class _State:
    """``stateData``: the pod's claims by kind, the PVs of each delay-binding class, the
    volumes chosen per node, and what was written at PreBind."""

    __slots__ = ("skip", "bound", "bound_pvs", "delay", "pvs_by_class", "by_node",
                 "all_bound", "written")

    def __init__(self) -> None:
        self.skip = True
        self.bound: list[dict] = []
        # the bound claims' volumes with their parsed required node affinity (None: any
        # node), looked up at the cycle's first Filter call and reused for every node; a
        # None entry is a volume that does not exist
        self.bound_pvs: list[tuple[dict, NodeSelector | None] | None] | None = None
        self.delay: list[dict] = []
        self.pvs_by_class: dict[str, list[dict]] = {}
        self.by_node: dict[str, PodVolumes] = {}
        self.all_bound = True
        self.written: PodVolumes | None = None

    def clone(self) -> "_State":
        return self


class VolumeBinding:
    NAME = NAME

    def __init__(self, handle) -> None:
        self.handle = handle

    @property
    def pre_bind_timeout(self) -> float:
        return float(self.handle.config.bind_timeout_seconds)

    # -- PreFilter -----------------------------------------------------------------------

    def _claims(self, pod: PodInfo) -> tuple[list[tuple[dict, bool]] | None, Status | None]:
        """``podHasPVCs``: the pod's claims (and whether each is ephemeral) or why not."""
        claims = self.handle.informer("PersistentVolumeClaim")
        out: list[tuple[dict, bool]] = []
        for v in (pod.pod.get("spec") or {}).get("volumes") or ():
            src = v.get("persistentVolumeClaim")
            ephemeral = False
            if src is not None:
                name = src.get("claimName") or ""
            elif v.get("ephemeral") is not None:
                name = f"{pod.name}-{v.get('name', '')}"
                ephemeral = True
            else:
                continue
            pvc = claims.get(name, pod.namespace)
            if pvc is None:
                if ephemeral:
                    return None, unresolvable("waiting for ephemeral volume controller to "
                                              f'create the persistentvolumeclaim "{name}"')
                return None, unresolvable(f'persistentvolumeclaim "{name}" not found')
            if (pvc.get("status") or {}).get("phase") == "Lost":
                return None, unresolvable(
                    f'persistentvolumeclaim "{name}" bound to non-existent persistentvolume '
                    f'"{(pvc.get("spec") or {}).get("volumeName", "")}"')
            if pvc["metadata"].get("deletionTimestamp"):
                return None, unresolvable(f'persistentvolumeclaim "{name}" is being deleted')
            if ephemeral:
                owner = next((r for r in pvc["metadata"].get("ownerReferences") or ()
                              if r.get("controller")), None)
                if owner is None or owner.get("uid") != pod.uid:
                    return None, unresolvable(
                        f"PVC {pod.namespace}/{name} was not created for pod "
                        f"{pod.namespace}/{pod.name} (pod is not owner)")
            out.append((pvc, ephemeral))
        return out, None

    def _is_delay_binding(self, pvc: Mapping[str, Any]) -> tuple[bool, Status | None]:
        cls = pvc_class(pvc)
        if not cls:
            return False, None
        sc = self.handle.informer("StorageClass").get(cls)
        if sc is None:
            return False, None
        mode = sc.get("volumeBindingMode")
        if mode is None:
            return False, error(f'VolumeBindingMode not set for StorageClass "{cls}"')
        return mode == "WaitForFirstConsumer", None

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        if not pod.claims:
            # No state either: Reserve, PreBind and the PreBind check treat a missing state
            # exactly as the state of a pod without claims (nothing to bind).
            return None, SKIP
        s = _State()
        state.write(STATE_KEY, s)
        claims, status = self._claims(pod)
        if status is not None:
            return None, status
        if not claims:
            return None, SKIP
        s.skip = False
        unbound_immediate = False
        for pvc, _ in claims:
            if is_fully_bound(pvc):
                s.bound.append(pvc)
                continue
            delay, st = self._is_delay_binding(pvc)
            if st is not None:
                return None, st
            if delay and not (pvc.get("spec") or {}).get("volumeName"):
                s.delay.append(pvc)
            else:
                unbound_immediate = True
        if unbound_immediate:
            return None, unresolvable(ERR_REASON_UNBOUND_IMMEDIATE)
        if s.delay:
            pvs = sorted(self.handle.informer("PersistentVolume"),
                         key=lambda pv: pv["metadata"]["name"])
            for pvc in s.delay:
                cls = pvc_class(pvc)
                if cls not in s.pvs_by_class:
                    s.pvs_by_class[cls] = [pv for pv in pvs if pv_class(pv) == cls]
        eligible = self._eligible_nodes(s.bound)
        if eligible is not None:
            return PreFilterResult(eligible), None
        return None, None

    def _eligible_nodes(self, bound: list[dict]) -> set[str] | None:
        """``GetEligibleNodes``: hostnames the bound claims' local PVs allow, or None."""
        if not bound:
            return None
        pvs = self.handle.informer("PersistentVolume")
        eligible: set[str] | None = None
        for pvc in bound:
            pv = pvs.get((pvc.get("spec") or {}).get("volumeName") or "")
            if pv is None:
                return None
            names = local_pv_node_names(pv)
            if names:
                eligible = set(names) if eligible is None else eligible & names
        return eligible

    # -- Filter --------------------------------------------------------------------------

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s: _State | None = state.read(STATE_KEY)
        if s is None or s.skip:
            return None
        volumes, reasons, err = self.find_pod_volumes(s, node)
        if err is not None:
            return error(err)
        if reasons:
            return unresolvable(*reasons)
        s.by_node[node.name] = volumes
        return None

    def find_pod_volumes(self, s: _State, node: NodeInfo
                         ) -> tuple[PodVolumes | None, list[str], str | None]:
        """``FindPodVolumes``: the volumes to bind or provision for the pod on ``node``, or
        the reasons it can't go there."""
        labels = node.labels
        bound_ok = unbound_ok = enough_space = pvs_found = True
        static: list = []
        dynamic: list = []
        reasons: list[str] = []
        if s.bound:
            bound_pvs = s.bound_pvs
            if bound_pvs is None:
                bound_pvs = s.bound_pvs = self._bound_volumes(s.bound)
            for got in bound_pvs:
                if got is None:
                    pvs_found = False
                    break
                if got[1] is not None and not got[1].match(labels, ""):
                    bound_ok = False
                    break
        if s.delay:
            to_find: list = []
            to_provision: list = []
            for pvc in s.delay:
                selected = (pvc["metadata"].get("annotations") or {}).get(ANN_SELECTED_NODE)
                if selected is not None:
                    if selected != node.name:
                        unbound_ok = False
                        break
                    to_provision.append(pvc)
                else:
                    to_find.append(pvc)
            if unbound_ok:
                if to_find:
                    chosen: set[str] = set()
                    for pvc in sorted(to_find, key=storage_request):
                        pv = find_matching_volume(pvc, s.pvs_by_class.get(pvc_class(pvc), []),
                                                  labels, chosen)
                        if pv is None:
                            to_provision.append(pvc)
                            unbound_ok = False
                            continue
                        chosen.add(pv["metadata"]["name"])
                        static.append((pv, pvc))
                if to_provision:
                    unbound_ok, enough_space, dynamic, err = self._check_provisions(
                        to_provision, node)
                    if err is not None:
                        return None, [], err
        if not bound_ok:
            reasons.append(ERR_REASON_NODE_CONFLICT)
        if not unbound_ok:
            reasons.append(ERR_REASON_BIND_CONFLICT)
        if not enough_space:
            reasons.append(ERR_REASON_NOT_ENOUGH_SPACE)
        if not pvs_found:
            reasons.append(ERR_REASON_PV_NOT_EXIST)
        if reasons:
            return None, reasons, None
        return PodVolumes(static, dynamic), [], None

    def _bound_volumes(self, bound: list[dict]
                       ) -> list[tuple[dict, NodeSelector | None] | None]:
        """Each bound claim's volume and what ``check_node_affinity`` would match its
        node labels with (None when it accepts every node); None for a missing volume.
        The list stops at the first missing volume, where FindPodVolumes stops too."""
        pvs = self.handle.informer("PersistentVolume")
        out: list[tuple[dict, NodeSelector | None] | None] = []
        for pvc in bound:
            pv = pvs.get((pvc.get("spec") or {}).get("volumeName") or "")
            if pv is None:
                out.append(None)
                break
            req = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
            out.append((pv, None if req is None else NodeSelector(req)))
        return out

    def _check_provisions(self, claims: list[dict], node: NodeInfo
                          ) -> tuple[bool, bool, list, str | None]:
        """``checkVolumeProvisions``: whether every claim's class can provision on node."""
        classes = self.handle.informer("StorageClass")
        out = []
        for pvc in claims:
            cls = pvc_class(pvc)
            m = pvc["metadata"]
            if not cls:
                return False, False, [], f'no class for claim "{m.get("namespace")}/{m["name"]}"'
            sc = classes.get(cls)
            if sc is None:
                return False, False, [], f'failed to find storage class "{cls}"'
            provisioner = sc.get("provisioner") or ""
            if not provisioner or provisioner == NOT_SUPPORTED_PROVISIONER:
                return False, True, [], None
            if not match_topology_selector_terms(sc.get("allowedTopologies"), node.labels):
                return False, True, [], None
            out.append(pvc)
        return True, True, out, None

    # -- Reserve, PreBind ----------------------------------------------------------------

    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        s: _State | None = state.read(STATE_KEY)
        if s is None:
            return None
        vols = s.by_node.get(node_name)
        if vols is None:
            s.all_bound = True
            return None
        bindings = []
        for pv, pvc in vols.static_bindings:
            new_pv, _dirty = bind_volume_to_claim(pv, pvc)
            bindings.append((new_pv, pvc))
        provisions = []
        for pvc in vols.dynamic_provisions:
            new = deep_copy(pvc)
            new["metadata"].setdefault("annotations", {})[ANN_SELECTED_NODE] = node_name
            provisions.append(new)
        s.written = PodVolumes(bindings, provisions)
        s.all_bound = not bindings and not provisions
        return None

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        # Upstream reverts its assume cache; API writes already made are not rolled back.
        s: _State | None = state.read(STATE_KEY)
        if s is not None:
            s.written = None

    def pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        s: _State | None = state.read(STATE_KEY)
        if s is None or s.all_bound:
            return None
        vols = s.written
        if vols is None:
            return error(f'no pod volumes found for node "{node_name}"')
        client = self.handle.client
        try:
            for i, (pv, pvc) in enumerate(vols.static_bindings):
                current = self.handle.informer("PersistentVolume").get(pv["metadata"]["name"])
                if current is not None and _same_binding(current, pv):
                    continue
                new = client.update(deep_copy(pv))
                vols.static_bindings[i] = (new, pvc)
            for i, pvc in enumerate(vols.dynamic_provisions):
                m = pvc["metadata"]
                current = self.handle.informer("PersistentVolumeClaim").get(
                    m["name"], m.get("namespace") or "")
                if current is not None and (current["metadata"].get("annotations") or {}).get(
                        ANN_SELECTED_NODE) == node_name:
                    vols.dynamic_provisions[i] = current
                    continue
                vols.dynamic_provisions[i] = client.update(deep_copy(pvc))
        except errors.ApiError as exc:
            return error(str(exc))
        return self.pre_bind_check(state, pod, node_name)

    def pre_bind_check(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        """``checkBindings``: None once every claim is bound, a WAIT status while the PV
        controller is still at work, an error when the binding can no longer happen."""
        s: _State | None = state.read(STATE_KEY)
        if s is None or s.written is None:
            return None
        err = self._check_bindings(s.written, pod, node_name)
        if err is True:
            return None
        if err is False:
            return Status(Code.WAIT)
        return error(f"binding volumes: {err}")

    def _check_bindings(self, vols: PodVolumes, pod: PodInfo, node_name: str) -> bool | str:
        h = self.handle
        node = h.informer("Node").get(node_name)
        if node is None:
            return f'failed to get node "{node_name}": node "{node_name}" not found'
        if h.informer("Pod").get(pod.name, pod.namespace) is None:
            return f'pod does not exist any more: pod "{pod.name}" not found'
        labels = node["metadata"].get("labels") or {}
        pvs = h.informer("PersistentVolume")
        claims = h.informer("PersistentVolumeClaim")
        done = True
        for pv, pvc in vols.static_bindings:
            pv_name = pv["metadata"]["name"]
            current = pvs.get(pv_name)
            if current is None:
                return (f"failed to check binding: persistentvolume \"{pv_name}\" not found")
            m = pvc["metadata"]
            cur_pvc = claims.get(m["name"], m.get("namespace") or "")
            if cur_pvc is None:
                return (f"failed to check binding: persistentvolumeclaim "
                        f"\"{m.get('namespace')}/{m['name']}\" not found")
            if not check_node_affinity(current, labels):
                return (f'pv "{pv_name}" node affinity doesn\'t match node "{node_name}": '
                        "no matching NodeSelectorTerms")
            ref = (current.get("spec") or {}).get("claimRef")
            if not ref or not ref.get("uid"):
                return f'ClaimRef got reset for pv "{pv_name}"'
            if not is_fully_bound(cur_pvc):
                done = False
        for pvc in vols.dynamic_provisions:
            m = pvc["metadata"]
            cur = claims.get(m["name"], m.get("namespace") or "")
            if cur is None:
                return (f"failed to check provisioning pvc: persistentvolumeclaim "
                        f"\"{m.get('namespace')}/{m['name']}\" not found")
            ann = cur["metadata"].get("annotations")
            if ann is None:
                return f'selectedNode annotation reset for PVC "{m["name"]}"'
            if ann.get(ANN_SELECTED_NODE) != node_name:
                return f'provisioning failed for PVC "{m["name"]}"'
            vn = (cur.get("spec") or {}).get("volumeName")
            if vn:
                pv = pvs.get(vn)
                if pv is None:
                    done = False
                    continue
                if not check_node_affinity(pv, labels):
                    return (f'pv "{vn}" node affinity doesn\'t match node "{node_name}": '
                            "no matching NodeSelectorTerms")
            if not is_fully_bound(cur):
                done = False
        return done

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("StorageClass", ActionType.ADD | ActionType.UPDATE),
                ClusterEvent("PersistentVolumeClaim", ActionType.ADD | ActionType.UPDATE),
                ClusterEvent("PersistentVolume", ActionType.ADD | ActionType.UPDATE),
                ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL
                             | ActionType.UPDATE_NODE_TAINT)]


def _same_binding(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    a = (current.get("spec") or {}).get("claimRef") or {}
    b = (wanted.get("spec") or {}).get("claimRef") or {}
    ann_a = current["metadata"].get("annotations") or {}
    ann_b = wanted["metadata"].get("annotations") or {}
    return (a.get("name"), a.get("namespace"), a.get("uid")) == (
        b.get("name"), b.get("namespace"), b.get("uid")) and (
        ann_a.get(ANN_BOUND_BY_CONTROLLER) == ann_b.get(ANN_BOUND_BY_CONTROLLER))


def match_topology_selector_terms(terms: Any, labels: Mapping[str, str]) -> bool:
    """``v1helper.MatchTopologySelectorTerms``: no terms match everything; terms are ORed,
    a term's label expressions ANDed (``key`` in ``values``)."""
    if not terms:
        return True
    for term in terms:
        exprs = (term or {}).get("matchLabelExpressions") or ()
        ok = True
        for e in exprs:
            v = labels.get(e.get("key") or "")
            if v is None or v not in (e.get("values") or ()):
                ok = False
                break
        if ok:
            return True
    return False
