"""VolumeRestrictions: volumes two pods cannot share on one node, and ReadWriteOncePod
claims, which only one pod in the cluster may use.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/volumerestrictions/volume_restrictions.go``
(v1.31):

- in-tree disks (GCE PD, AWS EBS, RBD, iSCSI) conflict with the same disk used by another
  pod on the node unless both mount it read-only (``node(s) had no available disk``);
- a ReadWriteOncePod claim already used by a pod anywhere in the cluster makes every node
  fail with ``node has pod using PersistentVolumeClaim with the same name and
  ReadWriteOncePod access mode``;
- PreFilter reads the pod's claims, so a missing claim fails here first with
  ``persistentvolumeclaim "<name>" not found``; it skips pods that have neither.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..framework import (SKIP, ActionType, ClusterEvent, CycleState, PreFilterResult, Status,
                         unresolvable, unschedulable)
from ..types import NodeInfo, PodInfo

NAME = "VolumeRestrictions"
ERR_REASON_DISK_CONFLICT = "node(s) had no available disk"
ERR_REASON_RWOP_CONFLICT = ("node has pod using PersistentVolumeClaim with the same name and "
                            "ReadWriteOncePod access mode")

PRE_FILTER_KEY = "PreFilter" + NAME

_DISK_CONFLICT = unschedulable(ERR_REASON_DISK_CONFLICT)
_RWOP_CONFLICT = unschedulable(ERR_REASON_RWOP_CONFLICT)
_DISK_SOURCES = ("gcePersistentDisk", "awsElasticBlockStore", "rbd", "iscsi")


def needs_restrictions_check(volume: Mapping[str, Any]) -> bool:
    return any(volume.get(s) is not None for s in _DISK_SOURCES)


def _is_volume_conflict(volume: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """``isVolumeConflict``: whether ``volume`` conflicts with a volume of ``pod``."""
    for ev in (pod.get("spec") or {}).get("volumes") or ():
        gce, egce = volume.get("gcePersistentDisk"), ev.get("gcePersistentDisk")
        if gce is not None and egce is not None:
            if gce.get("pdName") == egce.get("pdName") and not (
                    gce.get("readOnly") and egce.get("readOnly")):
                return True
        ebs, eebs = volume.get("awsElasticBlockStore"), ev.get("awsElasticBlockStore")
        if ebs is not None and eebs is not None and ebs.get("volumeID") == eebs.get("volumeID"):
            return True
        isc, eisc = volume.get("iscsi"), ev.get("iscsi")
        if isc is not None and eisc is not None and isc.get("iqn") == eisc.get("iqn") and not (
                isc.get("readOnly") and eisc.get("readOnly")):
            return True
        rbd, erbd = volume.get("rbd"), ev.get("rbd")
        if rbd is not None and erbd is not None:
            mons = set(rbd.get("monitors") or ()) & set(erbd.get("monitors") or ())
            if (mons and rbd.get("pool", "rbd") == erbd.get("pool", "rbd")
                    and rbd.get("image") == erbd.get("image")
                    and not (rbd.get("readOnly") and erbd.get("readOnly"))):
                return True
    return False


class _State:
    __slots__ = ("rwop_claims", "conflicting", "needs_check")

    def __init__(self, rwop_claims: set[str], conflicting: int, needs_check: bool) -> None:
        self.rwop_claims = rwop_claims
        self.conflicting = conflicting
        self.needs_check = needs_check

    def clone(self) -> "_State":
        return _State(self.rwop_claims, self.conflicting, self.needs_check)


class VolumeRestrictions:
    NAME = NAME

    def __init__(self, handle) -> None:
        self.handle = handle

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        spec = pod.pod.get("spec") or {}
        volumes = spec.get("volumes") or ()
        if not volumes:
            return None, SKIP
        needs_check = any(needs_restrictions_check(v) for v in volumes)
        claims = self.handle.informer("PersistentVolumeClaim")
        rwop: set[str] = set()
        for v in volumes:
            src = v.get("persistentVolumeClaim")
            if src is None:
                continue
            name = src.get("claimName") or ""
            pvc = claims.get(name, pod.namespace)
            if pvc is None:
                return None, unresolvable(f'persistentvolumeclaim "{name}" not found')
            if "ReadWriteOncePod" in ((pvc.get("spec") or {}).get("accessModes") or ()):
                rwop.add(f"{pod.namespace}/{name}")
        cache = self.handle.cache
        conflicting = sum(1 for c in rwop if cache.is_pvc_used_by_pods(c))
        if not needs_check and conflicting == 0:
            return None, SKIP
        state.write(PRE_FILTER_KEY, _State(rwop, conflicting, needs_check))
        return None, None

    def pre_filter_add_pod(self, state: CycleState, pod: PodInfo, added: PodInfo,
                           node: NodeInfo) -> Status | None:
        s = state.read(PRE_FILTER_KEY)
        if s is not None:
            s.conflicting += sum(1 for c in added.claims
                                 if f"{added.namespace}/{c}" in s.rwop_claims)
        return None

    def pre_filter_remove_pod(self, state: CycleState, pod: PodInfo, removed: PodInfo,
                              node: NodeInfo) -> Status | None:
        s = state.read(PRE_FILTER_KEY)
        if s is not None:
            s.conflicting -= sum(1 for c in removed.claims
                                 if f"{removed.namespace}/{c}" in s.rwop_claims)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        s = state.read(PRE_FILTER_KEY)
        if s is None or s.needs_check:
            for v in (pod.pod.get("spec") or {}).get("volumes") or ():
                if not needs_restrictions_check(v):
                    continue
                for existing in node.pods.values():
                    if _is_volume_conflict(v, existing.pod):
                        return _DISK_CONFLICT
        if s is not None and s.conflicting > 0:
            return _RWOP_CONFLICT
        return None

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", ActionType.DELETE),
                ClusterEvent("Node", ActionType.ADD),
                ClusterEvent("PersistentVolumeClaim", ActionType.ADD | ActionType.UPDATE)]
