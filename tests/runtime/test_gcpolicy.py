"""The run loop's collector policy: automatic collection paused, young generations collected
by the loop, full collections deferred until the loop returns, the collector's state
restored."""

from __future__ import annotations

import gc
import weakref

import pytest

from fakekube.runtime.gcpolicy import collect_young, young_collections_only


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collections_seen():
    seen: list[int] = []

    def cb(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.collect()
    gc.callbacks.append(cb)
    yield seen
    gc.callbacks.remove(cb)


def test_young_cycles_are_freed_inside_and_the_old_generation_waits(collections_seen):
    assert gc.isenabled()
    refs = []
    with young_collections_only():
        assert not gc.isenabled()
        for _ in range(20_000):
            refs.append(weakref.ref(Node()))
            collect_young()
        # freed by the loop's young collections, before the block ends
        freed = sum(r() is None for r in refs)
    assert gc.isenabled()
    assert freed > 15_000
    assert collections_seen and set(collections_seen) <= {0, 1}
    assert 1 in collections_seen  # generation 1 when it is due, as CPython would


def test_state_is_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with young_collections_only():
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_off_and_untouched(collections_seen):
    gc.disable()
    try:
        with young_collections_only():
            for _ in range(5_000):
                Node()
                collect_young()
        assert not gc.isenabled()
        assert collections_seen == []
    finally:
        gc.enable()


def test_nested_blocks_restore_only_at_the_outermost():
    with young_collections_only():
        with young_collections_only():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_threshold_zero_means_no_automatic_collection(collections_seen):
    old = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with young_collections_only():
            for _ in range(5_000):
                Node()
                collect_young()
    finally:
        gc.set_threshold(*old)
    assert collections_seen == []


def test_outside_a_block_collect_young_does_nothing(collections_seen):
    gc.disable()
    try:
        for _ in range(5_000):
            Node()
            collect_young()
    finally:
        gc.enable()
    assert collections_seen == []


def test_settle_and_advance_pause_full_collections_and_restore_the_collector(
        collections_seen):
    import fakekube
    from fakekube.testing.builders import headless_service, statefulset

    c = fakekube.Cluster(nodes=3)
    enabled: list[bool] = []
    c.clock.call_at(c.now + 5, lambda: enabled.append(gc.isenabled()))
    c.apply([headless_service("nginx"), statefulset("web", 3)])
    c.settle()
    assert enabled == [False]
    assert gc.isenabled()
    c.clock.call_at(c.now + 5, lambda: enabled.append(gc.isenabled()))
    c.advance(10)
    assert enabled == [False, False]
    assert gc.isenabled()
    assert 2 not in collections_seen
    assert c.get("StatefulSet", "web")["status"]["readyReplicas"] == 3
