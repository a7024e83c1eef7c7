"""Work queues: deduplication, FIFO order, add_after and backoff on the virtual clock."""

from fakekube.clock import VirtualClock
from fakekube.runtime.workqueue import WorkQueue


def test_keys_are_deduplicated_and_fifo():
    q = WorkQueue("q", VirtualClock())
    for k in ["b", "a", "b", "c", "a"]:
        q.add(k)
    assert [q.pop() for _ in range(len(q))] == ["b", "a", "c"]
    assert not q


def test_add_after_keeps_the_earliest_and_is_a_deadline():
    clock = VirtualClock()
    q = WorkQueue("q", clock)
    q.add_after("k", 10)
    q.add_after("k", 20)
    q.add_after("k", 5)
    assert clock.next_pending_deadline().when == clock.now() + 5
    clock.advance(5)
    assert q.keys() == ["k"]
    q.pop()
    clock.advance(100)
    assert not q  # the later adds were merged into the first


def test_rate_limited_backoff_doubles_and_forget_resets():
    clock = VirtualClock()
    q = WorkQueue("q", clock)
    delays = [q.add_rate_limited("k") for _ in range(4)]
    assert delays == [0.005, 0.01, 0.02, 0.04]
    q.forget("k")
    assert q.add_rate_limited("k") == 0.005
    assert q.failures("k") == 1
