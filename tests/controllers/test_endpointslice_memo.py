"""The EndpointSlice controller remembers what it reads of each stored slice for a Service
(ownership, port key, labels), the Service's slices while no slice is written
(``_SyncState.slices_rv``), and that a sync whose changed pods give no endpoint found
nothing to write to the Service's slices as they are (``_SyncState.quiet``). For every
history, the writes are exactly those of a controller that reads every slice afresh and
remembers no such verdict (the oracle): same watch events, same stored objects."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from fakekube.controllers.endpointslice import (EndpointSliceController, _Facts, _owned_by,
                                                 _port_key, slice_labels)
from podops import pod_op
from test_endpointslice import make_cluster, pod, service, slices


class _Afresh:
    """The slice facts read afresh on every call."""

    def __call__(self, sl: dict, svc: dict) -> _Facts:
        labels, changed = slice_labels(sl, svc)
        return _Facts(_owned_by(sl, svc), _port_key(sl.get("ports")), labels, changed)

    def forget(self, sl: dict) -> None:
        pass


def history(c) -> str:
    h = hashlib.sha256()
    for name, table in sorted(c.api.store.tables.items()):
        for ev in table.history:
            h.update(repr((ev.rv, name, ev.type,
                           json.dumps(ev.obj, sort_keys=True, default=str))).encode())
    return h.hexdigest()


OPS = st.sampled_from(["create", "delete", "unready", "ready", "relabel", "drop-slice",
                       "svc-label", "svc-port", "svc-note", "stuck", "poke"])


def apply_op(c, op: str, i: int) -> None:
    """One step of a history: a pod operation (``podops.pod_op``), a slice deleted, a pod
    no kubelet runs created or its phase flipped, or a Service change."""
    if pod_op(c, op, i, lambda i: pod(f"web-{i}", f"node-{i % 3 + 1}", hostname=f"web-{i}",
                                      subdomain="nginx")):
        pass
    elif op == "drop-slice":
        mine = slices(c)
        if mine:
            c.delete("EndpointSlice", mine[i % len(mine)]["metadata"]["name"])
    elif op == "stuck":  # a pod no kubelet runs: selected, never an endpoint
        if ("default", f"stuck-{i}") not in c.api.store.tables["pods"].objects:
            c.create(pod(f"stuck-{i}", "node-9"))
    elif op == "poke":  # a phase change of a stuck pod: a sync with nothing to place
        stuck = sorted(k[1] for k in c.api.store.tables["pods"].objects
                       if k[1].startswith("stuck-"))
        if stuck:
            p = c.get("Pod", stuck[i % len(stuck)])
            p["status"]["phase"] = "Unknown" if p["status"].get("phase") == "Pending" \
                else "Pending"
            c.replace(p, subresource="status")
    elif op == "svc-note":  # a Service change that leaves the slices as they are
        c.patch("Service", "nginx", {"metadata": {"annotations": {"note": str(i)}}})
    elif op == "svc-label":
        c.patch("Service", "nginx", {"metadata": {"labels": {"tier": str(i % 2)}}})
    else:
        c.patch("Service", "nginx", {"spec": {"ports": [
            {"name": "web", "port": 80 + i % 2, "targetPort": "http"}]}})


def run(ops, per_slice: int, afresh: bool) -> str:
    c = make_cluster(seed=7)
    for ctl in c.manager.controllers:
        if isinstance(ctl, EndpointSliceController):
            ctl.max_per_slice = per_slice
            if afresh:
                ctl.slice_facts = _Afresh()

                def forgetful(key, _sync=ctl._sync, _ctl=ctl):
                    for state in _ctl._states.values():
                        state.slices_rv, state.quiet = -1, {}
                    return _sync(key)

                ctl._sync = forgetful
    c.create(service(headless=True))
    for op, i in ops:
        apply_op(c, op, i)
        c.settle()
    return history(c)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(OPS, st.integers(0, 5)), min_size=1, max_size=14),
       st.sampled_from([2, 100]))
def test_remembered_slice_facts_write_what_fresh_reads_write(ops, per_slice) -> None:
    assert run(ops, per_slice, afresh=False) == run(ops, per_slice, afresh=True)
