"""kube-scheduler for fakekube: the scheduling queue, the scheduler cache, the framework and
the default profile's plugins (one module each under :mod:`fakekube.scheduler.plugins`).

:class:`Scheduler` is the controller to register; the rest is importable for tests and for
anyone who wants to run a plugin on its own.
"""

from .cache import Cache
from .framework import ActionType, ClusterEvent, Code, CycleState, NodeToStatus, Status
from .queue import SchedulingQueue
from .runtime import Framework, num_feasible_nodes_to_find
from .scheduler import SCHEDULER_NAME, Scheduler
from .types import FitError, NodeInfo, PodInfo

__all__ = ["ActionType", "Cache", "ClusterEvent", "Code", "CycleState", "FitError",
           "Framework", "NodeInfo", "NodeToStatus", "PodInfo", "SCHEDULER_NAME", "Scheduler",
           "SchedulingQueue", "Status", "num_feasible_nodes_to_find"]
