"""Cluster options: every upstream duration and threshold under the snake_case name of its
upstream flag or configuration field, with v1.31 defaults.

>>> Config.from_options(node_monitor_grace_period=50).node_monitor_grace_period
50
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs

__all__ = ["Config", "FEATURE_GATES"]

# Upstream feature gates that change behaviour fakekube emulates, with their v1.31 defaults.
FEATURE_GATES: dict[str, bool] = {
    "MaxUnavailableStatefulSet": False,      # alpha
    "PodIndexLabel": True,                   # beta
    "StatefulSetAutoDeletePVC": True,        # beta
    "StatefulSetStartOrdinal": True,         # GA in 1.31
    "RetryGenerateName": True,               # beta
    "PersistentVolumeLastPhaseTransitionTime": True,  # GA in 1.31
    "RecoverVolumeExpansionFailure": False,  # alpha
    "PodDisruptionConditions": True,         # GA in 1.31
    "NodeOutOfServiceVolumeDetach": True,    # GA
    "SchedulerQueueingHints": False,         # beta, off in 1.31
    "JobPodReplacementPolicy": True,
    "WatchList": False,                      # beta, off in 1.31 server side
    "ConsistentListFromCache": False,
    "SidecarContainers": True,
    "PodReadyToStartContainersCondition": True,  # beta
}


@attrs.define(kw_only=True)
class Config:
    """Everything ``Cluster(**options)`` accepts besides nodes, zones and seed."""

    # The simulated kubelets: "fast" (no delays) or "realistic" (virtual delays).
    profile: str = attrs.field(default="fast",
                               validator=attrs.validators.in_(("fast", "realistic")))
    event_history: int = 100_000          # events kept per resource for resuming watches
    pod_cidr: str = "10.244.0.0/16"       # kube-controller-manager --cluster-cidr
    node_cidr_mask_size: int = 24         # --node-cidr-mask-size
    service_cidr: str = "10.96.0.0/12"    # kube-apiserver --service-cluster-ip-range
    service_node_port_range: str = "30000-32767"
    cluster_domain: str = "cluster.local"
    dns_ttl: int = 30
    kubernetes_version: str = "v1.31.0"

    # kube-controller-manager, node lifecycle
    node_monitor_period: float = 5
    node_monitor_grace_period: float = 40
    node_startup_grace_period: float = 60
    node_eviction_rate: float = 0.1
    secondary_node_eviction_rate: float = 0.01
    unhealthy_zone_threshold: float = 0.55
    large_cluster_size_threshold: int = 50
    # kube-apiserver DefaultTolerationSeconds admission
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    # kubelet
    node_lease_duration_seconds: int = 40     # the Lease's leaseDurationSeconds; renewed every 1/4
    node_status_update_frequency: float = 10
    node_status_report_frequency: float = 300
    # pod garbage collector
    terminated_pod_gc_threshold: int = 12500
    pod_gc_period: float = 20                 # gcCheckPeriod
    pod_gc_quarantine: float = 40             # quarantineTime
    # attach/detach controller
    attach_detach_reconcile_sync_period: float = 60
    max_wait_for_unmount_duration: float = 360
    disable_force_detach_on_timeout: bool = False
    # kube-scheduler
    pod_initial_backoff_seconds: float = 1
    pod_max_backoff_seconds: float = 10
    percentage_of_nodes_to_score: int = 0     # 0: upstream's adaptive default
    bind_timeout_seconds: float = 600         # VolumeBinding plugin
    # the emulator's run loop
    max_reconciles: int = 1_000_000           # livelock guard of settle()
    # upstream feature gates (names and v1.31 defaults as FEATURE_GATES)
    feature_gates: dict[str, bool] = attrs.field(factory=dict)
    # simulated workloads: image -> behaviour factory (fakekube.kubelet.workloads)
    workloads: dict = attrs.field(factory=dict)

    def gate(self, name: str) -> bool:
        return self.feature_gates.get(name, FEATURE_GATES.get(name, False))

    @property
    def gates(self) -> dict[str, bool]:
        return {**FEATURE_GATES, **self.feature_gates}

    @classmethod
    def from_options(cls, **options: Any) -> "Config":
        """Build from ``Cluster(**options)``; an unknown option is a TypeError that says which
        options exist (a typo must not be silently ignored)."""
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown Cluster option(s) {', '.join(unknown)}; known options: "
                            f"{', '.join(sorted(known))}")
        gates = options.get("feature_gates")
        if gates is not None:
            if not isinstance(gates, Mapping):
                raise TypeError("feature_gates must be a dict of upstream gate names to bools")
            bad = sorted(g for g in gates if g not in FEATURE_GATES)
            if bad:
                raise TypeError(f"unknown feature gate(s) {', '.join(bad)}; fakekube knows "
                                f"{', '.join(sorted(FEATURE_GATES))}")
            options["feature_gates"] = dict(gates)
        return cls(**options)
