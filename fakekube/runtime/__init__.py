"""What every controller shares: the reconcile contract, deduplicating work queues on the
virtual clock, shared informers over the store, an API client, an event recorder, and the
deterministic manager that steps controllers in a fixed order."""

from .client import Client
from .controller import Controller, ControllerContext
from .events import EventRecorder
from .informer import Informer
from .manager import Manager
from .reconcile import Result
from .workqueue import WorkQueue

__all__ = ["Client", "Controller", "ControllerContext", "EventRecorder", "Informer", "Manager",
           "Result", "WorkQueue"]
