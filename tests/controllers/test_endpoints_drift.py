"""The Endpoints controller keeps, per Service, the triples in exactly one of the desired
endpoints and the stored object's (``_State.drift``) up to date pod by pod, instead of
copying the desired set after each write. For every history, after every sync, it is what
comparing the two sets afresh gives (the oracle), and the object holds the pods."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fakekube.controllers.endpoints import EndpointsController, _flatten
from podops import pod_op
from test_endpoints import expected_addresses, make_cluster, pod, service


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["create", "delete", "unready", "ready", "relabel",
                                           "port", "svc-label", "drop"]),
                          st.integers(0, 3)), min_size=1, max_size=14),
       st.booleans())
@example([("create", 0), ("create", 1), ("relabel", 0), ("unready", 1), ("delete", 1)], False)
def test_drift_is_the_difference_of_desired_and_stored(ops, publish) -> None:
    c = make_cluster()
    ctl = next(x for x in c.manager.controllers if isinstance(x, EndpointsController))
    checked = []

    def reconcile(key, _reconcile=ctl.reconcile):
        try:
            return _reconcile(key)
        finally:
            state = ctl._states.get(key)
            if state is not None and state.valid and state.stored is not None:
                assert state.drift == state.desired ^ _flatten(state.stored.get("subsets"))
                assert not (state.in_sync and state.drift)
                checked.append(key)

    ctl.reconcile = reconcile
    c.create(service(headless=True, publishNotReadyAddresses=publish))
    for op, i in ops:
        if pod_op(c, op, i, lambda i: pod(f"web-{i}", f"node-{i % 2 + 1}", hostname=f"web-{i}",
                                          subdomain="nginx")):
            pass
        elif op == "port":
            c.patch("Service", "nginx", {"spec": {"ports": [
                {"name": "web", "port": 80 + i, "targetPort": "http"}]}})
        elif op == "svc-label":
            c.patch("Service", "nginx", {"metadata": {"labels": {"tier": str(i % 2)}}})
        elif op == "drop" and ctl.endpoints.get("nginx", "default") is not None:
            c.delete("Endpoints", "nginx")
        c.settle()
        ready, not_ready = {}, {}
        for ss in c.get("Endpoints", "nginx").get("subsets") or ():
            for k, into in (("addresses", ready), ("notReadyAddresses", not_ready)):
                for a in ss.get(k) or ():
                    into[a["targetRef"]["name"]] = a["ip"]
        assert (ready, not_ready) == expected_addresses(c, publish)
    assert checked
