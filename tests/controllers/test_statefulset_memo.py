"""What the StatefulSet controller keeps instead of rescanning: the sets of each namespace
(every claim event looks at them) are the informer's list, for every history of sets
created, updated and deleted."""

from __future__ import annotations

import fakekube
from hypothesis import given, settings
from hypothesis import strategies as st

from fakekube.controllers.statefulset.shell import StatefulSetController
from fakekube.testing.builders import namespace, statefulset

NAMESPACES = ("default", "other")
NAMES = ("a", "b", "c")

step = st.tuples(st.sampled_from(("create", "delete", "scale")), st.sampled_from(NAMESPACES),
                 st.sampled_from(NAMES))


@settings(max_examples=40, deadline=None)
@given(st.lists(step, max_size=20))
def test_sets_of_a_namespace_are_the_informers_list(steps):
    c = fakekube.Cluster(nodes=0)
    c.create(namespace("other"))
    ctl = next(x for x in c.manager.controllers if isinstance(x, StatefulSetController))
    for op, ns, name in steps:
        try:
            if op == "create":
                c.create(statefulset(name, 0, namespace=ns))
            elif op == "delete":
                c.delete("StatefulSet", name, ns)
            else:
                c.scale("StatefulSet", name, 1, ns)
        except fakekube.ApiError:
            pass  # absent or already there
        for n in NAMESPACES:
            assert ctl._sets_in(n) == list(ctl.sets.list(n))


def filled_to(pods: list) -> int:
    """One past the last slot that holds a pod (the oracle: a scan from the end)."""
    return max((i + 1 for i, p in enumerate(pods) if p is not None), default=0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 7), max_size=6),
       st.lists(st.tuples(st.integers(0, 9), st.booleans()), max_size=30))
def test_slots_know_where_the_filled_ones_end(initial, changes):
    """``_Slots.filled_to`` kept through catch-ups is what a scan of the slots gives."""
    from fakekube.controllers.statefulset.control import _Slots

    names = [f"web-{i}" for i in range(8)]
    by_name = {f"web-{i}": {"n": i} for i in initial}
    log: list[str] = []
    slots = _Slots(by_name, log, names)
    assert slots.filled_to == filled_to(slots.pods)
    for i, present in changes:  # web-8 and web-9 are not replicas' names
        name = f"web-{i}"
        if present:
            by_name[name] = {"n": i}
        else:
            by_name.pop(name, None)
        log.append(name)
        slots.catch_up()
        assert slots.pods == [by_name.get(n) for n in names]
        assert slots.filled_to == filled_to(slots.pods)
