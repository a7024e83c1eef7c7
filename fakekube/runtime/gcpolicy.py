"""The cyclic garbage collector while the run loop runs: young generations only.

A cluster's store, its watch history and the controllers' caches are large and long-lived,
and almost everything fakekube allocates is freed by reference counting (the JSON objects it
copies hold no cycles). CPython's automatic full collections still traverse the whole heap
each time the old generation grows by a quarter: at 10,000 pods that is a third of the run
loop's time, spent finding nothing.

So while :meth:`Cluster.settle` and its siblings run, automatic collection is paused, as the
standard library's ``timeit`` pauses it while it times, and the manager runs the young
collections itself at the points CPython would have (:func:`collect_young`, called between
reconciles): short-lived cycles, from a user's controller or workload, are freed as promptly
as before. Only full collections wait, until the loop returns and the collector is back in
its previous state. Nothing is freed later than reference counting frees it; a cycle that
survives into the old generation is collected by the first full collection after the loop.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["young_collections_only", "collect_young"]

_active = 0  # 1 inside a young_collections_only() block that paused the collector
_young = (0, 0)  # the collector's generation 0 and 1 thresholds when the block began


@contextmanager
def young_collections_only() -> Iterator[None]:
    """Pause automatic collection for the block, leaving young collections to
    :func:`collect_young`; the collector's state is restored on the way out. A no-op when
    the collector is disabled already (the caller's choice stands)."""
    global _active, _young
    if _active or not gc.isenabled():
        # nested, or disabled by the caller: nothing to pause, nothing to restore
        yield
        return
    _young = gc.get_threshold()[:2]
    gc.disable()
    _active = 1
    try:
        yield
    finally:
        _active = 0
        gc.enable()


def collect_young(_count=gc.get_count) -> None:
    """Inside :func:`young_collections_only`: collect generation 0 (and 1 when it is due)
    once as many objects have accumulated as would have triggered CPython's own collection
    (with the thresholds of the block's start); never the oldest generation. Cheap when
    nothing is due: one counter read."""
    if not _active:
        return
    c0, c1, _ = _count()
    t0, t1 = _young
    if t0 and c0 > t0:  # (a threshold of 0 is CPython's "no automatic collection")
        gc.collect(1 if c1 >= t1 else 0)
