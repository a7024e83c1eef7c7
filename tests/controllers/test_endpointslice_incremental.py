"""The EndpointSlice controller's incremental sync (``_sync_changed``) looks only at the
changed pods and the slices that held their endpoints, and afterwards re-places only the
endpoints of rewritten slices that it did not carry over as they were (``_kept``,
``_Family.unplace_slices``, ``_place``). For every history, the writes are exactly those
of a controller that runs the full sync every time (the oracle): same watch events, same
stored objects."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fakekube.controllers.endpointslice import EndpointSliceController
from test_endpointslice import make_cluster, service
from test_endpointslice_memo import apply_op, history

OPS = st.sampled_from(["create", "delete", "unready", "ready", "relabel", "drop-slice"])


def run(ops, per_slice: int, full: bool) -> tuple[str, bool]:
    c = make_cluster(seed=3)
    incremental = []
    for ctl in c.manager.controllers:
        if isinstance(ctl, EndpointSliceController):
            ctl.max_per_slice = per_slice

            def sync_changed(*args, _sync_changed=ctl._sync_changed):
                incremental.append(args[0])
                return _sync_changed(*args)

            ctl._sync_changed = sync_changed
            if full:
                def forgetful(key, _sync=ctl._sync, _ctl=ctl):
                    for state in _ctl._states.values():
                        state.valid = False
                    return _sync(key)

                ctl._sync = forgetful
    c.create(service(headless=True))
    for op, i in ops:
        apply_op(c, op, i)
        c.settle()
    assert not (full and incremental)
    return history(c), bool(incremental)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(OPS, st.integers(0, 5)), min_size=1, max_size=14),
       st.sampled_from([2, 3, 100]))
@example([("create", i) for i in range(5)] + [("unready", 1), ("delete", 3), ("create", 5),
                                               ("ready", 1), ("relabel", 0)], 2)
def test_incremental_sync_writes_what_the_full_sync_writes(ops, per_slice) -> None:
    assert run(ops, per_slice, full=False)[0] == run(ops, per_slice, full=True)[0]


def test_the_incremental_sync_is_exercised() -> None:
    ops = [("create", i) for i in range(5)] + [("unready", 1), ("delete", 3), ("ready", 1)]
    assert run(ops, 2, full=False)[1]
