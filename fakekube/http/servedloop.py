"""The served run loop: the cluster's controllers and clock, in a background thread.

While a cluster is served, real clients write at any moment, so nobody is there to call
``settle()``. :class:`ServedLoop` is that somebody: a thread that does what ``settle()`` does,
for ever, and waits on the store's condition variable (never a sleep loop) when there is
nothing to do:

1. queued work runs first, a batch of reconciles at a time under the store lock (HTTP
   requests get the lock between batches);
2. timers whose time has come on the wall clock fire (heartbeats: lease renewals, status
   posts), one at a time, each followed by the work it caused;
3. when only a *deadline* is left (a grace period, an eviction timeout, a requeue-after), the
   clock jumps to it at once, so a 300 s eviction costs microseconds;
4. when only heartbeats are left, virtual time follows the wall clock: the loop sleeps on
   the condition until the next heartbeat is due in wall time, or until a write wakes it.

Virtual time maps to wall time through an anchor ``(wall0, virtual0)`` that is reset after
every jump, so virtual time never runs behind what it was, and between jumps advances at the
wall's rate. :meth:`ServedLoop.touch` (called under the lock before each HTTP request) brings
the clock up to the wall, so objects written by clients carry current timestamps.

Test threads: :meth:`settle` waits for the loop to reach a fixed point (no queued work and no
pending deadline) instead of running the loop itself; :meth:`paused` holds the loop while the
caller moves the clock itself (``advance``) and re-anchors afterwards.

A controller that raises something other than an API error stops the loop's work; the error
is kept in :attr:`error` and raised by the next :meth:`settle`. A livelock (more than
``max_reconciles`` reconciles and jumps without the loop ever becoming idle) stops it too, and
:meth:`settle` raises :class:`~fakekube.errors.SettleTimeout` naming what was busy.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any, Callable, Iterator

from .. import errors

__all__ = ["ServedLoop"]

BATCH = 64  # reconciles per lock hold


class ServedLoop:
    """Run ``manager`` and ``clock`` in a background thread; see the module docstring.

    ``report(headline)`` (optional) builds the text of a SettleTimeout (the cluster's busy
    report); ``wall`` is the wall clock (monotonic seconds).
    """

    def __init__(self, manager: Any, clock: Any, store: Any, *, max_reconciles: int = 1_000_000,
                 report: Callable[[str], str] | None = None,
                 wall: Callable[[], float] = time.monotonic,
                 settle_wall_timeout: float = 120.0) -> None:
        self.manager = manager
        self.clock = clock
        self.store = store
        self.max_reconciles = max_reconciles
        self._report = report or (lambda headline: headline)
        self._wall = wall
        self.settle_wall_timeout = settle_wall_timeout
        self._cond = store.changed
        self._anchor = (wall(), clock.now())
        self._limits: list[float] = []
        self._episode = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.runaway: str | None = None
        self.reconciles = 0
        self.jumps = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "ServedLoop":
        with self._cond:
            self._anchor = (self._wall(), self.clock.now())
        self._thread = threading.Thread(target=self._run, name="fakekube-served-loop",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- time ------------------------------------------------------------------------------

    def virtual_now(self) -> float:
        """Where virtual time stands on the wall clock (at least the clock's now)."""
        w0, v0 = self._anchor
        return max(self.clock.now(), v0 + (self._wall() - w0))

    def _reanchor(self) -> None:
        self._anchor = (self._wall(), self.clock.now())

    def touch(self) -> None:
        """Bring the clock up to the wall, short of the next timer. Call under the lock.
        (Queued work then runs at that instant: the loop runs work before any timer that
        falls due, so nothing the work would have re-armed fires early.)"""
        clock = self.clock
        target = self.virtual_now()
        nt = clock.next_timer()
        if nt is not None and nt.when < target:
            target = nt.when
            self._cond.notify_all()
        if target > clock.now():
            clock.jump_to(target)

    # -- the loop --------------------------------------------------------------------------

    def _run(self) -> None:
        cond = self._cond
        store = self.store
        while True:
            yielded = False
            with cond:
                if self._stopping:
                    return
                if self.error is not None or self.runaway is not None:
                    self._wait(None)
                    continue
                try:
                    yielded = self._step()
                except BaseException as exc:  # a controller bug: keep it for settle()
                    self.error = exc
                    cond.notify_all()
                    continue
            if yielded:
                # Let HTTP threads at the lock between two batches of work.
                os.sched_yield()
        del store

    def _step(self) -> bool:
        """One step under the lock; True if work was done (the caller yields the lock)."""
        manager, clock = self.manager, self.clock
        if manager.has_work():
            ran = manager.run_until_idle(BATCH)
            self.reconciles += ran
            self._count(ran)
            return True
        now_v = self.virtual_now()
        nt = clock.next_timer()
        if nt is not None and nt.when <= now_v:
            t = clock.pop_due(nt.when)
            if t is not None:
                t.callback()
                self._count(1)
            return True
        d = clock.next_pending_deadline()
        limit = min(self._limits) if self._limits else None
        if d is not None and (limit is None or d.when <= limit):
            t = clock.pop_due(d.when)
            if t is not None:
                t.callback()
            self.jumps += 1
            self._count(1)
            self._reanchor()
            return True
        # Idle: virtual time follows the wall until the next timer or a write.
        self._episode = 0
        if now_v > clock.now():
            clock.jump_to(now_v if nt is None else min(now_v, nt.when))
        self._cond.notify_all()  # settle() waiters re-check
        timeout = None
        if nt is not None:
            timeout = max(0.0, nt.when - self.virtual_now())
        self._wait(timeout)
        return False

    def _wait(self, timeout: float | None) -> None:
        store = self.store
        store._waiters += 1
        try:
            self._cond.wait(timeout)
        finally:
            store._waiters -= 1

    def _count(self, n: int) -> None:
        self._episode += n
        if self._episode > self.max_reconciles:
            self.runaway = self._report(
                f"the served loop ran {self._episode} reconciles and timer jumps without "
                "reaching a fixed point (livelock guard; raise max_reconciles if this is "
                "legitimate work)")
            self._cond.notify_all()

    # -- for test threads ------------------------------------------------------------------

    def settle(self, max_seconds: float = 3600) -> float:
        """Wait until the loop has no queued work and no pending deadline; return the virtual
        seconds that passed. Raises SettleTimeout when the next pending deadline lies beyond
        ``max_seconds`` of virtual time, when the livelock guard trips, or when no fixed point
        is reached within ``settle_wall_timeout`` wall seconds; re-raises a controller's
        error."""
        cond = self._cond
        clock = self.clock
        with cond:
            start = clock.now()
            limit = start + max_seconds
            self._limits.append(limit)
            cond.notify_all()
            give_up = self._wall() + self.settle_wall_timeout
            try:
                while True:
                    if self.error is not None:
                        err, self.error = self.error, None
                        raise err
                    if self.runaway is not None:
                        raise errors.SettleTimeout(self.runaway)
                    if not self.running:
                        raise RuntimeError("the served loop is not running")
                    busy = self.manager.has_work()
                    d = clock.next_pending_deadline()
                    if not busy and d is None:
                        return clock.now() - start
                    if not busy and d is not None and d.when > limit:
                        raise errors.SettleTimeout(self._report(
                            f"settle(max_seconds={max_seconds:g}) reached its bound at "
                            f"+{clock.now() - start:g}s with deadlines still pending"))
                    left = give_up - self._wall()
                    if left <= 0:
                        raise errors.SettleTimeout(self._report(
                            f"the served loop did not reach a fixed point within "
                            f"{self.settle_wall_timeout:g} wall seconds"))
                    self._wait(left)
            finally:
                self._limits.remove(limit)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the loop (and the store) while the caller drives the clock or the manager
        itself, e.g. ``Cluster.advance``; re-anchor virtual time afterwards."""
        with self._cond:
            try:
                yield
            finally:
                self._reanchor()
                self._cond.notify_all()

    def reset(self) -> None:
        """Forget a livelock or error and let the loop work again."""
        with self._cond:
            self.error = None
            self.runaway = None
            self._episode = 0
            self._cond.notify_all()
