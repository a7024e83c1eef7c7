"""The in-tree plugins of kube-scheduler's default profile, one module each.

:data:`DEFAULT_PLUGINS` lists them in the order of upstream's default MultiPoint list
(``kubernetes/kubernetes:pkg/scheduler/apis/config/v1/default_plugins.go``, v1.31), which is
the order they run in at every extension point. Score weights: TaintToleration 3,
NodeAffinity 2, NodeResourcesFit 1, PodTopologySpread 2, InterPodAffinity 2,
NodeResourcesBalancedAllocation 1. Not emulated: NodeVolumeLimits (needs CSINode objects),
ImageLocality (fakekube's nodes report no images), DynamicResources (feature gate off).
"""

from __future__ import annotations

from .balancedallocation import BalancedAllocation
from .defaultbinder import DefaultBinder
from .defaultpreemption import DefaultPreemption
from .interpodaffinity import InterPodAffinity
from .nodeaffinity import NodeAffinity
from .nodename import NodeName
from .nodeports import NodePorts
from .noderesources import Fit
from .nodeunschedulable import NodeUnschedulable
from .podtopologyspread import PodTopologySpread
from .queuesort import PrioritySort
from .schedulinggates import SchedulingGates
from .tainttoleration import TaintToleration
from .volumebinding import VolumeBinding
from .volumerestrictions import VolumeRestrictions
from .volumezone import VolumeZone

__all__ = ["DEFAULT_PLUGINS", "BalancedAllocation", "DefaultBinder", "DefaultPreemption",
           "Fit", "InterPodAffinity", "NodeAffinity", "NodeName", "NodePorts",
           "NodeUnschedulable", "PodTopologySpread", "PrioritySort", "SchedulingGates",
           "TaintToleration", "VolumeBinding", "VolumeRestrictions", "VolumeZone"]

DEFAULT_PLUGINS: list[type] = [
    SchedulingGates,
    PrioritySort,
    NodeUnschedulable,
    NodeName,
    TaintToleration,
    NodeAffinity,
    NodePorts,
    Fit,
    VolumeRestrictions,
    VolumeBinding,
    VolumeZone,
    PodTopologySpread,
    InterPodAffinity,
    DefaultPreemption,
    BalancedAllocation,
    DefaultBinder,
]
