"""The deterministic manager: steps every controller's queue in a fixed order.

One pass takes each controller in registration order and runs the keys that were queued when
its turn came, first in, first out; passes repeat until every queue is empty. One seed and one
sequence of calls therefore give one history, which is what lets Hypothesis replay and shrink.

Outcomes of ``reconcile(key)``, as controller-runtime handles them:

- returns None or ``Result()``: the key's backoff is forgotten;
- returns ``Result(requeue_after=t)``: forgotten, and queued again ``t`` seconds later;
- raises :class:`~fakekube.errors.ApiError`: queued again with exponential backoff;
- raises :class:`~fakekube.errors.TerminalError`: dropped and recorded in ``terminal_errors``.

Any other exception is a bug in fakekube or in a user's controller; it propagates, with a note
naming the controller and the key.
"""

from __future__ import annotations

from itertools import compress
from typing import Hashable

from .. import errors
from .controller import Controller
from .gcpolicy import collect_young

__all__ = ["Manager"]


class Manager:
    def __init__(self) -> None:
        self.controllers: list[Controller] = []
        self.reconciles = 0
        self.terminal_errors: list[tuple[str, Hashable, Exception]] = []
        self.last_errors: dict[tuple[str, Hashable], Exception] = {}

    def add(self, controller: Controller) -> Controller:
        self.controllers.append(controller)
        return controller

    def busy(self) -> list[tuple[str, list]]:
        return [(c.name, c.queue.keys()) for c in self.controllers if c.queue]

    def has_work(self) -> bool:
        return any(c.queue for c in self.controllers)

    def run_until_idle(self, budget: int) -> int:
        """Run queued keys until every queue is empty or ``budget`` reconciles have run;
        returns how many ran.

        A pass finds the controllers with work through ``compress`` over their queues'
        pending dicts: each queue is tested when the pass reaches it (as a loop over the
        controllers would), and the idle ones, most of them in a typical pass, are skipped
        without a Python-level step. (The controllers are read once per call: one added
        by a reconcile takes part from the next call.)"""
        ran = 0
        run = self._run
        controllers = list(self.controllers)
        pendings = [c.queue.pending for c in controllers]
        indices = range(len(controllers))
        while True:
            progressed = False
            for i in compress(indices, pendings):
                c = controllers[i]
                q = c.queue
                n = len(pendings[i])
                while n and ran < budget:
                    n -= 1
                    run(c, q.pop())
                    ran += 1
                    progressed = True
                if ran >= budget:
                    return ran
            if not progressed:
                return ran

    def _run(self, c: Controller, key: Hashable) -> None:
        self.reconciles += 1
        collect_young()  # the young collections a paused collector leaves to the loop
        q = c.queue
        try:
            result = c.reconcile(key)
        except errors.TerminalError as exc:
            q.forget(key)
            self.terminal_errors.append((c.name, key, exc))
            return
        except errors.ApiError as exc:
            self.last_errors[(c.name, key)] = exc
            q.add_rate_limited(key)
            return
        except Exception as exc:
            exc.add_note(f"fakekube: raised by controller {c.name!r} reconciling {key!r}")
            raise
        if self.last_errors:
            self.last_errors.pop((c.name, key), None)
        q.forget(key)
        if result is not None and result.requeue_after is not None:
            q.add_after(key, result.requeue_after)
