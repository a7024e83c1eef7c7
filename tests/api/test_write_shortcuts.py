"""The API layer's write shortcuts give what the plain paths give.

- Endpoints updates reuse the stored object's sorted addresses and address ids
  (``kinds/core.py`` ``_repack_onto``, ``_address_ids``): a sequence of updates stores what
  repacking each body from scratch stores, with the same validation errors.
- Admission plugins left out of a write by their marks (``admission.plugins_for``) would not
  have changed it.
- Update validators that upstream runs twice skip the second pass when the first is clean.
"""

from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from fakekube.api import admission
from fakekube.api.kinds import core
from fakekube.api.objects import deep_copy
from fakekube.api.registry import REGISTRY
from fakekube.api.server import ApiServer
from fakekube.api.store import Store
from fakekube.clock import VirtualClock
from fakekube.config import Config
from fakekube import errors
from fakekube.errors import Invalid

POOL = 12  # distinct (ip, uid) keys


def _api() -> ApiServer:
    api = ApiServer(Store(), VirtualClock(), random.Random(0), Config())
    api.create(api.registry.by_kind("Namespace"),
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return api


def _address(i: int, bad: bool = False) -> dict:
    return {"ip": "not-an-ip" if bad else f"10.0.0.{i + 1}", "nodeName": "n1",
            "targetRef": {"kind": "Pod", "namespace": "default", "name": f"p{i}",
                          "uid": f"u{i}"}}


# One step: which pool keys are ready, which not ready (a key on both sides is allowed: the
# general path decides), whether each address is the stored object or a fresh equal copy,
# and optionally one invalid fresh address.
step = st.tuples(
    st.lists(st.integers(0, POOL - 1), unique=True, max_size=POOL),
    st.lists(st.integers(0, POOL - 1), unique=True, max_size=4),
    st.lists(st.booleans(), min_size=2 * POOL, max_size=2 * POOL),
    st.booleans(),
    st.randoms(use_true_random=False),
)


def _errors(fn):
    try:
        return fn(), None
    except Invalid as exc:
        return None, (exc.message, exc.status.get("details"))


@settings(max_examples=120, deadline=None)
@given(st.lists(step, min_size=1, max_size=8))
def test_endpoints_updates_store_what_a_fresh_repack_stores(steps):
    api = _api()
    rt = api.registry.by_kind("Endpoints")
    table = api.table(rt)
    key = ("default", "ep")
    first = {"apiVersion": "v1", "kind": "Endpoints",
             "metadata": {"name": "ep", "namespace": "default"},
             "subsets": [{"addresses": [_address(i) for i in range(3)],
                          "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}]}
    api.create(rt, first, "default", owned=True, copy_out=False, field_validation="Ignore")
    for ready_keys, not_ready_keys, reuse, bad, rnd in steps:
        old = table.objects[key]
        stored_by_key = {}
        for ss in old.get("subsets") or ():
            for a in (ss.get("addresses") or []) + (ss.get("notReadyAddresses") or []):
                stored_by_key.setdefault(a["targetRef"]["uid"], a)

        def pick(i, flag):
            got = stored_by_key.get(f"u{i}")
            return got if got is not None and flag else _address(i)

        ready = [pick(i, reuse[i]) for i in ready_keys]
        not_ready = [pick(i, reuse[POOL + i]) for i in not_ready_keys]
        if bad:
            ready.append(_address(POOL, bad=True))
        rnd.shuffle(ready)
        subset = {"ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        body = dict(old)
        body["metadata"] = dict(old["metadata"])
        body["subsets"] = [subset]

        # The reference: the same body validated and repacked as a create would (no old).
        ref = deep_copy(body)
        ref_errs = core._validate_endpoints(ref, {})
        if not ref_errs:
            core._repack_subsets(ref)

        stored, err = _errors(lambda: api.update(rt, body, "ep", "default", owned=True,
                                                 copy_out=False, field_validation="Ignore"))
        if ref_errs:
            assert err is not None
            want = errors.invalid("Endpoints", "", "ep", ref_errs)
            assert err == (want.message, want.status.get("details"))
            assert table.objects[key] is old
            continue
        assert err is None
        assert stored["subsets"] == ref["subsets"]
        assert stored is table.objects[key]
        # Key order too: the wire form is the same.
        assert repr(stored["subsets"]) == repr(ref["subsets"])


@given(st.sampled_from(REGISTRY.kinds), st.sampled_from([admission.CREATE, admission.UPDATE]))
def test_admission_plugins_left_out_do_nothing(rt, op):
    """Every default plugin that ``plugins_for`` leaves out of a write returns at once: called
    on a body anyway, it leaves it as it was (and raises nothing)."""
    api = _api()
    kept = admission.plugins_for(admission.DEFAULT_PLUGINS
                                 + admission.DEFAULT_VALIDATING_PLUGINS, op, rt)
    for plugin in admission.DEFAULT_PLUGINS + admission.DEFAULT_VALIDATING_PLUGINS:
        if plugin in kept:
            continue
        body = {"apiVersion": rt.api_version, "kind": rt.kind,
                "metadata": {"name": "x", "namespace": "nowhere"}, "spec": {}}
        before = deep_copy(body)
        plugin(op, rt, body, deep_copy(body) if op == admission.UPDATE else None, api)
        assert body == before


def test_unmarked_plugins_always_run_and_list_changes_are_seen():
    api = _api()
    rt = api.registry.by_kind("ConfigMap")
    seen = []
    api.admission.append(lambda op, rt_, obj, old, api_: seen.append((op, rt_.kind)))
    api.create(rt, {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "a", "namespace": "default"}}, "default")
    assert seen == [("CREATE", "ConfigMap")]
    api.admission.pop()
    api.create(rt, {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "b", "namespace": "default"}}, "default")
    assert seen == [("CREATE", "ConfigMap")]


def test_pvc_update_with_an_invalid_claim_lists_each_error_twice():
    """Upstream validates the claim twice on update; the clean case skips the second pass,
    the failing case must still list every error twice."""
    api = _api()
    rt = api.registry.by_kind("PersistentVolumeClaim")
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": "c", "namespace": "default"},
           "spec": {"accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}}}}
    stored = api.create(rt, pvc, "default")
    stored["metadata"]["labels"] = {"bad key!": "x"}
    try:
        api.update(rt, stored, "c", "default")
    except Invalid as exc:
        fields = [c["field"] for c in exc.status["details"]["causes"]]
    else:
        raise AssertionError("the update should be invalid")
    assert fields == ["metadata.labels"] * 3  # ValidateObjectMeta twice, the update rules once


def test_a_handed_over_body_sharing_the_stored_metadata_leaves_the_stored_version_alone():
    # A controller's shallow copy that kept the stored metadata dict: the update's
    # resourceVersion (and other server fields) go to a copy, not into the old version that
    # the watch history and the informers still hold.
    api = _api()
    rt = api.registry.by_kind("ConfigMap")
    old = api.create(rt, {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "c", "namespace": "default"},
                          "data": {"k": "1"}}, "default", copy_out=False)
    rv = old["metadata"]["resourceVersion"]
    new = dict(old, data={"k": "2"})
    assert new["metadata"] is old["metadata"]
    stored = api.update(rt, new, "c", "default", owned=True, copy_out=False,
                        field_validation="Ignore")
    assert old["metadata"]["resourceVersion"] == rv
    assert int(stored["metadata"]["resourceVersion"]) > int(rv)
    events = [ev for ev in api.table(rt).history if ev.obj["metadata"]["name"] == "c"]
    assert [ev.obj["metadata"]["resourceVersion"] for ev in events] == [
        rv, stored["metadata"]["resourceVersion"]]
