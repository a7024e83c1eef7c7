"""VolumeZone: a pod whose bound volumes live in a zone (or region) can only run on nodes of
that zone.

Follows ``kubernetes/kubernetes:pkg/scheduler/framework/plugins/volumezone/volume_zone.go``
(v1.31): the zone and region labels of the PVs of the pod's bound claims (GA and beta
labels; a value may list several zones separated by ``__``) are compared with the node's
labels; the beta label of a PV matches the GA label of a node. Nodes without any topology
label pass. Unbound WaitForFirstConsumer claims are skipped; PreFilter skips pods with no
such volumes.
"""

from __future__ import annotations

from ..framework import (SKIP, ActionType, ClusterEvent, CycleState, PreFilterResult, Status,
                         unresolvable)
from ..helpers import LABEL_REGION, LABEL_REGION_BETA, LABEL_ZONE, LABEL_ZONE_BETA, pvc_class
from ..types import NodeInfo, PodInfo

NAME = "VolumeZone"
ERR_REASON_CONFLICT = "node(s) had no available volume zone"

PRE_FILTER_KEY = "PreFilter" + NAME
TOPOLOGY_LABELS = (LABEL_ZONE_BETA, LABEL_REGION_BETA, LABEL_ZONE, LABEL_REGION)
_TO_GA = {LABEL_ZONE_BETA: LABEL_ZONE, LABEL_REGION_BETA: LABEL_REGION}

_CONFLICT = unresolvable(ERR_REASON_CONFLICT)


def label_zones_to_set(value: str) -> frozenset[str]:
    """``volumehelpers.LabelZonesToSet``: zones joined by ``__``."""
    return frozenset(z.strip() for z in value.split("__") if z.strip())


class VolumeZone:
    NAME = NAME

    def __init__(self, handle) -> None:
        self.handle = handle

    def _pv_topologies(self, pod: PodInfo) -> tuple[list[tuple[str, frozenset[str]]] | None,
                                                    Status | None]:
        claims = self.handle.informer("PersistentVolumeClaim")
        pvs = self.handle.informer("PersistentVolume")
        classes = self.handle.informer("StorageClass")
        out: list[tuple[str, frozenset[str]]] = []
        for name in pod.claims:
            if not name:
                return None, unresolvable("PersistentVolumeClaim had no name")
            pvc = claims.get(name, pod.namespace)
            if pvc is None:
                return None, unresolvable(f'persistentvolumeclaim "{name}" not found')
            pv_name = (pvc.get("spec") or {}).get("volumeName") or ""
            if not pv_name:
                sc_name = pvc_class(pvc)
                if not sc_name:
                    return None, unresolvable(
                        "PersistentVolumeClaim had no pv name and storageClass name")
                sc = classes.get(sc_name)
                if sc is None:
                    return None, unresolvable(
                        f'storageclass.storage.k8s.io "{sc_name}" not found')
                mode = sc.get("volumeBindingMode")
                if mode is None:
                    return None, unresolvable(
                        f'VolumeBindingMode not set for StorageClass "{sc_name}"')
                if mode == "WaitForFirstConsumer":
                    continue
                return None, unresolvable("PersistentVolume had no name")
            pv = pvs.get(pv_name)
            if pv is None:
                return None, unresolvable(f'persistentvolume "{pv_name}" not found')
            labels = pv["metadata"].get("labels") or {}
            for key in TOPOLOGY_LABELS:
                value = labels.get(key)
                if value is not None:
                    zones = label_zones_to_set(value)
                    if zones:
                        out.append((key, zones))
        return out, None

    def pre_filter(self, state: CycleState, pod: PodInfo
                   ) -> tuple[PreFilterResult | None, Status | None]:
        if not pod.claims:
            return None, SKIP
        topologies, status = self._pv_topologies(pod)
        if status is not None:
            return None, status
        if not topologies:
            return None, SKIP
        state.write(PRE_FILTER_KEY, topologies)
        return None, None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not pod.claims:
            return None
        topologies = state.read(PRE_FILTER_KEY)
        if topologies is None:
            topologies, status = self._pv_topologies(pod)
            if status is not None:
                return status
        labels = node.labels
        if not any(k in labels for k in TOPOLOGY_LABELS):
            return None
        for key, zones in topologies:
            v = labels.get(key)
            if v is None:
                v = labels.get(_TO_GA.get(key, key))
            if v is None or v not in zones:
                return _CONFLICT
        return None

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("StorageClass", ActionType.ADD),
                ClusterEvent("PersistentVolumeClaim", ActionType.ADD | ActionType.UPDATE),
                ClusterEvent("PersistentVolume", ActionType.ADD | ActionType.UPDATE),
                ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_LABEL
                             | ActionType.UPDATE_NODE_TAINT)]
