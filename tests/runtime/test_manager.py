"""The manager's run loop: passes over the controllers in registration order, each running the
keys queued when its turn came; the budget stops it between reconciles.

The property test checks the loop (which skips idle controllers with ``compress``) against
the plain loop it replaced: a pass over every controller, testing its queue on arrival.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fakekube.clock import VirtualClock
from fakekube.runtime.manager import Manager
from fakekube.runtime.workqueue import WorkQueue


class Scripted:
    """A stand-in controller: reconciling key k queues the keys ``script[(name, k)]`` gives,
    each on the named controller, and logs the run."""

    def __init__(self, name: str, clock: VirtualClock, log: list, script: dict,
                 peers: dict) -> None:
        self.name = name
        self.queue = WorkQueue(name, clock)
        self.log = log
        self.script = script
        self.peers = peers

    def reconcile(self, key):
        self.log.append((self.name, key))
        for target, new_key in self.script.get((self.name, key), ()):
            self.peers[target].queue.add(new_key)
        return None


def _reference_run(controllers: list, budget: int) -> int:
    """The loop before ``compress``: every controller, every pass."""
    ran = 0
    while True:
        progressed = False
        for c in controllers:
            q = c.queue
            if not q.pending:
                continue
            n = len(q.pending)
            while n and ran < budget:
                n -= 1
                c.reconcile(q.pop())
                ran += 1
                progressed = True
            if ran >= budget:
                return ran
        if not progressed:
            return ran


def _build(names: list[str], script: dict, seeds: list[tuple[str, int]]):
    clock = VirtualClock()
    log: list = []
    peers: dict = {}
    for name in names:
        peers[name] = Scripted(name, clock, log, script, peers)
    for name, key in seeds:
        peers[name].queue.add(key)
    return [peers[n] for n in names], log


@st.composite
def scenarios(draw):
    names = [f"c{i}" for i in range(draw(st.integers(1, 7)))]
    keys = st.integers(0, 5)
    script = {}
    for name in names:
        for k in range(6):
            if draw(st.booleans()):
                # keys grow along a chain so that every script terminates
                script[(name, k)] = [(draw(st.sampled_from(names)), k + 1 + draw(keys) % 3)
                                     for _ in range(draw(st.integers(0, 3)))]
    seeds = draw(st.lists(st.tuples(st.sampled_from(names), keys), max_size=10))
    budget = draw(st.integers(1, 200))
    return names, script, seeds, budget


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_the_run_loop_runs_what_the_plain_loop_ran_in_the_same_order(scenario):
    names, script, seeds, budget = scenario
    ref_controllers, ref_log = _build(names, script, seeds)
    ref_ran = _reference_run(ref_controllers, budget)
    controllers, log = _build(names, script, seeds)
    m = Manager()
    for c in controllers:
        m.add(c)
    ran = m.run_until_idle(budget)
    assert (ran, log) == (ref_ran, ref_log)
    assert [c.queue.keys() for c in controllers] == [c.queue.keys() for c in ref_controllers]
    assert m.reconciles == ran


def test_a_controller_later_in_order_gets_its_new_keys_in_the_same_pass():
    clock = VirtualClock()
    log: list = []
    peers: dict = {}
    script = {("a", 1): [("b", 2), ("a", 3)]}
    for name in ("a", "b"):
        peers[name] = Scripted(name, clock, log, script, peers)
    m = Manager()
    m.add(peers["a"])
    m.add(peers["b"])
    peers["a"].queue.add(1)
    assert m.run_until_idle(100) == 3
    # b runs in the first pass; a's own new key waits for the second
    assert log == [("a", 1), ("b", 2), ("a", 3)]


def test_the_budget_stops_the_loop_between_reconciles():
    clock = VirtualClock()
    log: list = []
    peers: dict = {}
    script = {("a", k): [("a", k + 1)] for k in range(50)}
    peers["a"] = Scripted("a", clock, log, script, peers)
    m = Manager()
    m.add(peers["a"])
    peers["a"].queue.add(0)
    assert m.run_until_idle(10) == 10
    assert m.has_work()
    assert len(log) == 10
    assert m.run_until_idle(1000) == 41
    assert not m.has_work()
