"""The fixed costs every write pays, cut without changing what a write does.

- UIDs are drawn a batch at a time (``objects.new_uids``): the same UUIDs, in the same
  order, as one ``new_uid`` per create, and the generator is left where those draws leave it.
- Two-level field getters (``registry._path``) are unrolled: same text as the loop.
- The store skips reindexing a field whose part of the object is the stored one itself
  (``Table.field_reads``), and reindexes otherwise.
- ``ApiServer.now`` remembers the last instant's text and follows the clock.
- core/v1 Event validation's fast path for the common body reports what the full check does.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from fakekube import errors
from fakekube.api import registry
from fakekube.api.objects import new_uid, new_uids, rfc3339
from fakekube.api.server import ApiServer
from fakekube.api.store import Store, Table
from fakekube.clock import VirtualClock
from fakekube.config import Config

UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _api(seed: int = 0) -> ApiServer:
    api = ApiServer(Store(), VirtualClock(), random.Random(seed), Config())
    api.create(api.registry.by_kind("Namespace"),
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return api


def _cm(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}}


# -- UIDs ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), n=st.integers(1, 70))
def test_a_batch_of_uids_is_the_uids_drawn_one_by_one(seed: int, n: int) -> None:
    one, batch = random.Random(seed), random.Random(seed)
    expected = [new_uid(one) for _ in range(n)]
    got = new_uids(batch, n)
    assert got == expected[::-1]  # the next one last
    assert one.getstate() == batch.getstate()
    assert all(UUID_V4.fullmatch(u) for u in got)


def test_creates_get_the_uids_of_one_draw_per_create_across_batches() -> None:
    api = _api(7)
    # ApiServer seeds its UID generator with the first 64 bits it draws from its rng.
    reference = random.Random(random.Random(7).getrandbits(64))
    expected = [new_uid(reference) for _ in range(150)]
    rt = api.registry.by_kind("ConfigMap")
    got = [api.table(api.registry.by_kind("Namespace")).objects[("", "default")]
           ["metadata"]["uid"]]
    for i in range(149):
        # a dry run draws its UID too, as before
        stored = api.create(rt, _cm(i), "default", dry_run=(i % 10 == 3))
        got.append(stored["metadata"]["uid"])
    assert got == expected


# -- field getters --------------------------------------------------------------------------


class _Text(str):
    pass


_LEAF = st.one_of(st.none(), st.text(max_size=3), st.integers(), st.booleans(),
                  st.floats(allow_nan=False), st.just([]), st.just(_Text("t")))
_VALUE = st.recursive(_LEAF, lambda inner: st.dictionaries(
    st.sampled_from(["spec", "nodeName", "x"]), inner, max_size=3), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(obj=_VALUE)
def test_two_level_field_getters_read_what_the_loop_reads(obj: Any) -> None:
    fast = registry._path("spec", "nodeName")
    slow = registry._walk(("spec", "nodeName"))
    a, b = fast(obj), slow(obj)
    assert a == b and type(a) is type(b)
    assert fast.reads == "spec"


# -- field indexes on replace -----------------------------------------------------------------


def test_pod_node_index_follows_binding_and_survives_status_writes() -> None:
    api = _api()
    rt = api.registry.by_kind("Pod")
    api.create(rt, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                    "spec": {"containers": [{"name": "c", "image": "i"}]}}, "default")
    table = api.table(rt)
    assert table.keys_with_field("spec.nodeName", "") == {("default", "p")}
    api.bind("p", "default", {"apiVersion": "v1", "kind": "Binding",
                              "metadata": {"name": "p"}, "target": {"name": "n1"}})
    assert table.keys_with_field("spec.nodeName", "n1") == {("default", "p")}
    assert table.keys_with_field("spec.nodeName", "") == set()
    stored = table.objects[("default", "p")]
    api.update(rt, {"apiVersion": "v1", "kind": "Pod", "metadata": dict(stored["metadata"]),
                    "status": {"phase": "Running"}}, "p", "default", subresource="status")
    assert table.objects[("default", "p")]["spec"] is stored["spec"]
    assert table.keys_with_field("spec.nodeName", "n1") == {("default", "p")}


def test_a_getter_that_does_not_say_what_it_reads_is_always_asked() -> None:
    store = Store()
    table = store.table("things", {"phase": lambda o: (o.get("status") or {}).get("phase", "")})
    assert table.field_reads is None
    spec = {"a": 1}
    old = {"metadata": {"name": "t"}, "spec": spec, "status": {"phase": "A"}}
    store.insert(table, old)
    store.replace(table, {"metadata": {"name": "t"}, "spec": spec, "status": {"phase": "B"}},
                  old)
    assert table.keys_with_field("phase", "B") == {("", "t")}
    assert table.keys_with_field("phase", "A") == set()


def test_tables_know_the_parts_their_getters_read() -> None:
    assert Table("pods", 10, {"spec.nodeName": registry._path("spec", "nodeName")}
                 ).field_reads == ("spec",)
    assert Table("x", 10, {"a": registry._path("spec", "a"), "b": registry._path("spec", "b")}
                 ).field_reads == ("spec",)
    assert Table("x", 10, {"a": registry._path("metadata", "name", "x")}).field_reads is None
    assert Table("x", 10).field_reads == ()


# -- timestamps -------------------------------------------------------------------------------


def test_now_follows_the_clock() -> None:
    api = _api()
    first = api.now()
    assert first == rfc3339(api.clock.now())
    api.clock.advance(61.5)
    assert api.now() != first
    stored = api.create(api.registry.by_kind("ConfigMap"), _cm(1), "default")
    assert stored["metadata"]["creationTimestamp"] == api.now()
    api.clock.advance(0.25)  # the same second: the same text
    assert api.now() == stored["metadata"]["creationTimestamp"]


# -- core/v1 Event validation ------------------------------------------------------------------


def _event(ns: str, involved_ns: str | None, **extra: Any) -> dict:
    ref = {"kind": "Pod", "name": "p"}
    if involved_ns is not None:
        ref["namespace"] = involved_ns
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": ns},
            "involvedObject": ref, "reason": "R", "message": "m", **extra}


@pytest.mark.parametrize("ns,involved,ok", [
    ("default", "default", True),
    ("default", None, True),
    ("other", "default", False),
    ("other", None, False),
])
def test_event_namespace_checks(ns: str, involved: str | None, ok: bool) -> None:
    api = _api()
    api.create(api.registry.by_kind("Namespace"),
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    rt = api.registry.by_kind("Event")
    if ok:
        api.create(rt, _event(ns, involved), ns)
        return
    with pytest.raises(errors.Invalid) as exc:
        api.create(rt, _event(ns, involved), ns)
    assert [c["field"] for c in exc.value.status["details"]["causes"]] == [
        "involvedObject.namespace"]
