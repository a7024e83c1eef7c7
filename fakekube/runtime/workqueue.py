"""Deduplicating work queues on the virtual clock (client-go's ``workqueue``).

A key is queued at most once; keys come out in the order they were first added (FIFO), which
makes a run reproducible. ``add_after`` schedules an add as a deadline on the clock (only the
earliest pending add of a key is kept); ``add_rate_limited`` backs off exponentially per key,
5 ms doubling up to 1000 s, as client-go's default controller rate limiter; ``forget`` resets
the backoff after a success.
"""

from __future__ import annotations

from typing import Hashable

from ..clock import Timer, VirtualClock

__all__ = ["WorkQueue"]

BASE_DELAY = 0.005
MAX_DELAY = 1000.0


class WorkQueue:
    def __init__(self, name: str, clock: VirtualClock) -> None:
        self.name = name
        self.clock = clock
        self._queue: dict[Hashable, None] = {}
        #: The queued keys in order (a read-only view for the manager's loop: its
        #: truthiness is the cheapest "is there work" test there is).
        self.pending = self._queue
        self._failures: dict[Hashable, int] = {}
        self._later: dict[Hashable, Timer] = {}

    def add(self, key: Hashable) -> None:
        self._queue[key] = None

    def add_after(self, key: Hashable, delay: float) -> None:
        """Add ``key`` once ``delay`` virtual seconds have passed (at once if <= 0)."""
        if delay <= 0:
            self.add(key)
            return
        when = self.clock.now() + delay
        t = self._later.get(key)
        if t is not None and not t.cancelled:
            if t.when <= when:
                return
            t.cancel()
        self._later[key] = self.clock.call_at(when, lambda: self._fire(key),
                                              label=f"{self.name} requeue {_fmt(key)}")

    def _fire(self, key: Hashable) -> None:
        self._later.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: Hashable) -> float:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        delay = min(BASE_DELAY * (2 ** n), MAX_DELAY)
        self.add_after(key, delay)
        return delay

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        return self._failures.get(key, 0)

    def pop(self) -> Hashable:
        key = next(iter(self._queue))
        del self._queue[key]
        return key

    def keys(self) -> list:
        return list(self._queue)

    def __len__(self) -> int:
        return len(self._queue)

    def __bool__(self) -> bool:
        return bool(self._queue)

    def __repr__(self) -> str:
        return f"<WorkQueue {self.name}: {len(self._queue)} queued>"


def _fmt(key: Hashable) -> str:
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key if k)
    return str(key)
