"""The controller base: a name, a work queue, informers, and ``reconcile(key)``.

A controller is wired in :meth:`Controller.setup` (register informer handlers that turn
changes into keys) and driven by the :class:`~fakekube.runtime.manager.Manager`, which pops
its keys one at a time and calls :meth:`Controller.reconcile`. Controllers never import each
other: what one needs from another it reads from the store through informers, as upstream.
"""

from __future__ import annotations

import abc
import random
from typing import TYPE_CHECKING, Hashable

import attrs

from ..clock import VirtualClock
from ..config import Config
from ..kubelet.volumes import VolumeStore
from .client import Client
from .events import EventRecorder
from .informer import Informer
from .reconcile import Result
from .workqueue import WorkQueue

if TYPE_CHECKING:
    from ..api.server import ApiServer

__all__ = ["Controller", "ControllerContext"]


@attrs.define
class ControllerContext:
    """What the cluster hands every controller it builds."""

    api: "ApiServer"
    clock: VirtualClock
    config: Config
    rng: random.Random
    volumes: VolumeStore = attrs.field(factory=VolumeStore)  # the disks behind all volumes
    _informers: dict[str, Informer] = attrs.field(factory=dict)

    def informer(self, kind: str) -> Informer:
        inf = self._informers.get(kind)
        if inf is None:
            rt = self.api.registry.by_kind(kind)
            inf = self._informers[kind] = Informer(rt, self.api.table(rt))
        return inf

    def client(self, component: str) -> Client:
        return Client(self.api, component)

    def recorder(self, component: str, host: str = "") -> EventRecorder:
        return EventRecorder(self.api, component, host)

    def derive_rng(self, purpose: str) -> random.Random:
        """An independent, seeded stream for one purpose, so that adding draws in one
        component does not shift another's."""
        return random.Random(f"{self.rng.random()}:{purpose}")


class Controller(abc.ABC):
    """Subclass and give ``name``; override :meth:`setup` and :meth:`reconcile`."""

    name = "controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.api = ctx.api
        self.clock = ctx.clock
        self.config = ctx.config
        self.queue = WorkQueue(self.name, ctx.clock)
        self.client = ctx.client(self.name)

    def setup(self) -> None:
        """Register informer handlers. Called once, after every controller is built."""

    @abc.abstractmethod
    def reconcile(self, key: Hashable) -> Result | None:
        """Move the object named by ``key`` one step toward its desired state."""

    def enqueue(self, key: Hashable) -> None:
        self.queue.add(key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
