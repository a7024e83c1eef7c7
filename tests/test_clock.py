"""The virtual clock: ordering, heartbeats, deadlines renewed by heartbeats."""

import pytest
from hypothesis import given, strategies as st

from fakekube.clock import EPOCH, VirtualClock


def test_time_starts_at_2025_and_never_goes_backwards():
    clock = VirtualClock()
    assert clock.now() == EPOCH
    with pytest.raises(ValueError, match="time can't go backwards"):
        clock.advance(-1)
    clock.advance(3)
    with pytest.raises(ValueError):
        clock.jump_to(EPOCH)


def test_timers_fire_in_time_then_schedule_order():
    clock = VirtualClock()
    fired = []
    clock.call_later(5, lambda: fired.append("b"))
    clock.call_later(1, lambda: fired.append("a"))
    clock.call_later(5, lambda: fired.append("c"))
    clock.advance(4)
    assert fired == ["a"]
    clock.advance(1)
    assert fired == ["a", "b", "c"]
    assert clock.now() == EPOCH + 5


def test_cancelled_timer_does_not_fire():
    clock = VirtualClock()
    fired = []
    t = clock.call_later(1, lambda: fired.append(1))
    t.cancel()
    clock.advance(2)
    assert fired == []
    assert clock.next_pending_deadline() is None


def test_heartbeat_repeats_and_is_never_pending():
    clock = VirtualClock()
    beats = []
    hb = clock.call_every(10, lambda: beats.append(clock.now() - EPOCH))
    clock.advance(35)
    assert beats == [10, 20, 30]
    assert not hb.pending
    assert clock.next_pending_deadline() is None
    hb.cancel()
    clock.advance(100)
    assert beats == [10, 20, 30]


def test_deadline_renewed_by_heartbeat_is_pending_only_when_the_heartbeat_stops():
    clock = VirtualClock()
    state = {}

    def renew():
        state["deadline"].cancel()
        state["deadline"] = clock.call_later(40, lambda: None, renewed_by=hb, label="expiry")

    hb = clock.call_every(10, renew)
    state["deadline"] = clock.call_later(40, lambda: None, renewed_by=hb, label="expiry")
    assert clock.next_pending_deadline() is None
    clock.advance(25)
    assert clock.next_pending_deadline() is None
    hb.cancel()
    d = clock.next_pending_deadline()
    assert d is state["deadline"] and d.when == EPOCH + 20 + 40


def test_deadline_beyond_the_next_heartbeat_period_becomes_pending():
    clock = VirtualClock()
    hb = clock.call_every(10, lambda: None)
    d = clock.call_later(5, lambda: None, renewed_by=hb)
    # The heartbeat (at +10) does not come before the deadline (at +5): pending.
    assert clock.next_pending_deadline() is d


@given(st.lists(st.tuples(st.floats(0, 1000, allow_nan=False), st.booleans()), max_size=40),
       st.floats(0, 1500, allow_nan=False))
def test_advance_fires_exactly_the_due_timers_in_order(specs, span):
    clock = VirtualClock()
    fired = []
    timers = []
    for i, (delay, cancel) in enumerate(specs):
        t = clock.call_later(delay, lambda i=i: fired.append((clock.now(), i)))
        timers.append((t, delay, cancel))
    for t, _, cancel in timers:
        if cancel:
            t.cancel()
    clock.advance(span)
    expected = sorted((EPOCH + d, i) for i, (t, d, c) in enumerate(timers)
                      if not c and EPOCH + d <= EPOCH + span)
    assert fired == expected
    assert clock.now() == EPOCH + span
