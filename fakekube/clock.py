"""The virtual clock: virtual time, and the timers that fire as it passes.

Time starts at 2025-01-01T00:00:00Z and moves only when someone moves it: ``advance()``
steps it, ``jump_to()`` jumps it to a timer, and the cluster's run loop autojumps it to the
next deadline when nothing else can happen (trio's ``MockClock`` with ``autojump_threshold=0``
is the model). It never goes backwards.

Timers are of two kinds (DESIGN.md, "Determinism and time"):

- a *deadline* fires once and stands for a change that will happen (requeue-after, grace
  periods, eviction and detach timeouts, backoffs). A deadline may name the heartbeat that
  pushes it back (``renewed_by``): while that heartbeat is scheduled before the deadline, the
  deadline is not *pending*, because the heartbeat will re-arm it first.
- a *heartbeat* repeats for ever (lease renewals, resyncs, periodic scans). Heartbeats never
  keep ``settle()`` busy.

Timers due at the same instant fire in the order they were scheduled.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any, Callable, Iterator

__all__ = ["VirtualClock", "Timer", "EPOCH"]

EPOCH = 1735689600.0  # 2025-01-01T00:00:00Z


class Timer:
    """A scheduled callback. Cancel it with :meth:`cancel`; a heartbeat re-arms itself."""

    __slots__ = ("when", "seq", "callback", "period", "renewed_by", "label", "cancelled",
                 "_clock", "_deps", "_listed")

    def __init__(self, clock: "VirtualClock", when: float, seq: int, callback: Callable[[], Any],
                 period: float | None, renewed_by: "Timer | None", label: str) -> None:
        self._clock = clock
        self.when = when
        self.seq = seq
        self.callback = callback
        self.period = period
        self.renewed_by = renewed_by
        self.label = label
        self.cancelled = False
        self._deps: set[Timer] | None = None   # a heartbeat: the deadlines it renews
        self._listed = False                    # a deadline: in the clock's pending heap

    @property
    def heartbeat(self) -> bool:
        return self.period is not None

    @property
    def active(self) -> bool:
        return not self.cancelled

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._clock._cancelled(self)

    @property
    def pending(self) -> bool:
        """A live deadline that no scheduled heartbeat will push back before it falls due."""
        if self.cancelled or self.period is not None:
            return False
        hb = self.renewed_by
        return hb is None or hb.cancelled or hb.when > self.when

    def __lt__(self, other: "Timer") -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def __repr__(self) -> str:
        kind = f"heartbeat every {self.period:g}s" if self.period is not None else "deadline"
        state = " cancelled" if self.cancelled else ""
        return f"<Timer {self.label or self.callback!r} at {self.when:.3f} ({kind}){state}>"


class VirtualClock:
    """Virtual time with a heap of timers.

    >>> clock = VirtualClock()
    >>> fired = []
    >>> t = clock.call_later(5, lambda: fired.append(clock.now()))
    >>> clock.advance(10)
    >>> fired == [EPOCH + 5] and clock.now() == EPOCH + 10
    True
    """

    def __init__(self, start: float = EPOCH) -> None:
        self._now = float(start)
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._pending: list[Timer] = []  # deadlines that may be pending (lazily cleaned)
        self._named: dict[str, Timer] = {}  # live heartbeats by label

    # -- reading ---------------------------------------------------------------------------

    def now(self) -> float:
        return self._now

    def timers(self) -> Iterator[Timer]:
        """Every live timer, in firing order."""
        return iter(sorted(t for t in self._heap if not t.cancelled))

    def next_timer(self) -> Timer | None:
        heap = self._heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def next_pending_deadline(self) -> Timer | None:
        """The earliest deadline that is pending (see :attr:`Timer.pending`), or None.

        Runtime: amortized O(log n). Deadlines renewed by a heartbeat are listed as pending
        only while that heartbeat will not fire before them; they are re-examined whenever
        their heartbeat fires or stops, and when they are re-armed.
        """
        heap = self._pending
        while heap:
            t = heap[0]
            if t.pending:
                return t
            heapq.heappop(heap)
            t._listed = False
        return None

    def _review(self, t: Timer) -> None:
        if not t._listed and t.pending:
            t._listed = True
            heapq.heappush(self._pending, t)

    # -- scheduling ------------------------------------------------------------------------

    def call_at(self, when: float, callback: Callable[[], Any], *, label: str = "",
                renewed_by: Timer | None = None) -> Timer:
        """Schedule a one-shot deadline at virtual time ``when`` (not before now)."""
        t = Timer(self, max(float(when), self._now), next(self._seq), callback, None,
                  renewed_by, label)
        heapq.heappush(self._heap, t)
        if renewed_by is not None and not renewed_by.cancelled:
            if renewed_by._deps is None:
                renewed_by._deps = set()
            renewed_by._deps.add(t)
        self._review(t)
        return t

    def call_later(self, delay: float, callback: Callable[[], Any], *, label: str = "",
                   renewed_by: Timer | None = None) -> Timer:
        return self.call_at(self._now + max(0.0, float(delay)), callback, label=label,
                            renewed_by=renewed_by)

    def call_every(self, period: float, callback: Callable[[], Any], *, first: float | None = None,
                   label: str = "") -> Timer:
        """Schedule a heartbeat: ``callback`` at ``first`` (default now + period), then every
        ``period`` seconds until cancelled."""
        if period <= 0:
            raise ValueError("a heartbeat needs a positive period")
        when = self._now + period if first is None else max(float(first), self._now)
        t = Timer(self, when, next(self._seq), callback, float(period), None, label)
        heapq.heappush(self._heap, t)
        if label:
            self._named[label] = t
        return t

    def heartbeat(self, label: str) -> Timer | None:
        """The live heartbeat scheduled under ``label``, if any: what another component names
        as ``renewed_by`` (a node's lease-expiry deadline names its kubelet's lease renewal)
        without holding a reference to the component itself."""
        t = self._named.get(label)
        return t if t is not None and not t.cancelled else None

    def _cancelled(self, t: Timer) -> None:
        if t.period is None:
            hb = t.renewed_by
            if hb is not None and hb._deps:
                hb._deps.discard(t)
        else:
            if self._named.get(t.label) is t:
                del self._named[t.label]
            # A heartbeat stopped: what it renewed is now pending like any other deadline.
            for d in t._deps or ():
                self._review(d)

    # -- moving time -----------------------------------------------------------------------

    def pop_due(self, until: float) -> Timer | None:
        """Take the next live timer due at or before ``until``, moving now to its time.

        A heartbeat is re-armed one period later before it is returned; a deadline is
        spent. The caller runs ``timer.callback()``.
        """
        heap = self._heap
        while heap:
            t = heap[0]
            if t.cancelled:
                heapq.heappop(heap)
                continue
            if t.when > until:
                return None
            heapq.heappop(heap)
            if t.when > self._now:
                self._now = t.when
            if t.period is not None:
                t.when += t.period
                t.seq = next(self._seq)
                heapq.heappush(heap, t)
                if t._deps:
                    for d in t._deps:
                        self._review(d)
            else:
                t.cancelled = True
                self._cancelled(t)
            return t
        return None

    def jump_to(self, when: float) -> None:
        """Set now to ``when`` without firing anything (callers fire timers first)."""
        if when < self._now:
            raise ValueError("time can't go backwards")
        self._now = float(when)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing every timer due on the way, in order.

        The cluster's ``advance`` does the same but also runs the work each timer causes.
        """
        if seconds < 0:
            raise ValueError("time can't go backwards")
        end = self._now + seconds
        while (t := self.pop_due(end)) is not None:
            t.callback()
        self._now = end
