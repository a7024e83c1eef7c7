"""The controllers of kube-controller-manager that fakekube runs, one module each.

:func:`builtin_controllers` gives them, with the scheduler and the simulated kubelets, in the
order the run loop steps them: API housekeeping first, then the workload controllers that
create pods, the scheduler that places them, node health, and last the kubelets that run them.
"""

from __future__ import annotations


def builtin_controllers() -> list[type]:
    from ..kubelet import KubeletController
    from ..scheduler import Scheduler
    from .attachdetach import AttachDetachController
    from .csiattacher import CSIAttacherController
    from .deployment import DeploymentController
    from .ephemeral import EphemeralVolumeController
    from .disruption import DisruptionController
    from .endpoints import EndpointsController
    from .endpointslice import EndpointSliceController
    from .garbagecollector import GarbageCollector
    from .namespace import NamespaceController
    from .nodeipam import NodeIpamController
    from .persistentvolume import STORAGE_CONTROLLERS
    from .nodelifecycle import NodeLifecycleController
    from .podgc import PodGCController
    from .replicaset import ReplicaSetController
    from .statefulset import StatefulSetController
    from .tainteviction import TaintEvictionController

    return [NodeIpamController, NamespaceController, GarbageCollector, DisruptionController,
            EndpointSliceController, EndpointsController,
            NodeLifecycleController, TaintEvictionController, PodGCController,
            DeploymentController, ReplicaSetController, StatefulSetController,
            EphemeralVolumeController, *STORAGE_CONTROLLERS, CSIAttacherController,
            AttachDetachController, Scheduler, KubeletController]
