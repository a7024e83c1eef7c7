"""The StatefulSet sync's replica slots (``control._Replicas``) read the stored pods from a
list that may be shared with the next sync (never changed), and keep the pods built for
empty slots aside. For all slots and accesses, what they give is what a private copy of the
list with each built pod written into its slot gives (the oracle), and the list is left as
it was."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fakekube.controllers.statefulset.control import _Replicas


@given(st.lists(st.booleans(), max_size=12), st.lists(st.integers(0, 11), max_size=8),
       st.integers(0, 12))
def test_replicas_read_as_a_copy_with_built_pods_written_in(filled, reads, start):
    slots = [{"name": f"stored-{i}"} if f else None for i, f in enumerate(filled)]
    shared = list(slots)
    builds: list[int] = []

    def build(i: int) -> dict:
        builds.append(i)
        return {"name": f"built-{i}"}

    filled_to = max((i + 1 for i, f in enumerate(filled) if f), default=0)
    reps = _Replicas(shared, build, filled_to)
    oracle = list(slots)
    for i in reads:
        if i >= len(slots):
            continue
        got = reps[i]
        if oracle[i] is None:
            oracle[i] = {"name": f"built-{i}"}
        assert got == oracle[i]
        assert reps[i] is got  # a slot is built once
    assert shared == slots and all(a is b for a, b in zip(shared, slots))
    assert len(builds) == len(set(builds))
    assert len(reps) == len(slots)
    assert reps.known(start) == [p for p in oracle[start:] if p is not None]
