"""Results remembered by value (``objects.ValueMemo``) give what computing them gives.

- ``ValueMemo`` finds a result by an equal value, keeps private copies, and stays bounded.
- The pod screen's containers part (``kinds/core.py`` ``_pod_containers_ok``) and the QoS
  class (``compute_pod_qos``) answer the same with and without what they remember, over
  containers that differ in any of the fields those checks read.
"""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from fakekube.api.kinds import core
from fakekube.api.objects import ValueMemo, deep_copy


def test_value_memo_finds_equal_values_and_keeps_copies():
    memo = ValueMemo(per_key=2, max_keys=2)
    value = {"a": [1, {"b": "c"}]}
    memo.put("k", value, "one")
    assert memo.get("k", {"a": [1, {"b": "c"}]}) == "one"
    assert memo.get("k", {"a": [1, {"b": "d"}]}) is None
    assert memo.get("other", value, "none") == "none"
    value["a"][1]["b"] = "changed"  # the memo holds its own copy
    assert memo.get("k", {"a": [1, {"b": "c"}]}) == "one"
    assert memo.get("k", value) is None
    parts = ([{"x": 1}], None, ("a", "b"))  # a tuple of parts: each part copied
    memo.put("t", parts, "two")
    parts[0][0]["x"] = 2
    parts[0].append({})
    assert memo.get("t", ([{"x": 1}], None, ("a", "b"))) == "two"
    assert memo.get("t", parts) is None


def test_value_memo_is_bounded():
    memo = ValueMemo(per_key=2, max_keys=2)
    for i in range(3):
        memo.put("k", [i], i)
    assert memo.get("k", [0]) is None  # the oldest of the key went
    assert memo.get("k", [1]) == 1 and memo.get("k", [2]) == 2
    memo.put("k2", [0], "x")
    assert memo.get("k2", [0]) == "x"
    memo.put("k3", [0], "y")  # a third key: everything before is forgotten
    assert memo.get("k", [2]) is None and memo.get("k2", [0]) is None
    assert memo.get("k3", [0]) == "y"


# Mostly valid values (so that specs pass and get remembered), some invalid ones.
_names = st.sampled_from(["web", "sidecar", "web", "sidecar", "init", "Bad_Name"])
_quantities = st.sampled_from(["100m", "1", "128Mi", "2Gi", "-1", "0"])
_resources = st.fixed_dictionaries({}, optional={
    "requests": st.dictionaries(st.sampled_from(["cpu", "memory", "nvidia.com/gpu"]),
                                _quantities, max_size=2),
    "limits": st.dictionaries(st.sampled_from(["cpu", "memory"]), _quantities, max_size=2),
})
_container = st.fixed_dictionaries(
    {"name": _names, "image": st.sampled_from(["nginx:1.27", "busybox", "nginx:1.27",
                                               " padded "]),
     # (as defaulted)
     "imagePullPolicy": st.sampled_from(["IfNotPresent", "Always", "IfNotPresent",
                                         "Sometimes"]),
     "terminationMessagePolicy": st.sampled_from(["File", "File", "Never"])},
    optional={
        "ports": st.lists(st.fixed_dictionaries(
            {"containerPort": st.sampled_from([80, 8080, 70000])},
            optional={"name": st.sampled_from(["http", "metrics", "BAD"]),
                      "protocol": st.sampled_from(["TCP", "UDP", "XX"])}), max_size=2),
        "volumeMounts": st.lists(st.fixed_dictionaries(
            {"name": st.sampled_from(["data", "config", "data", "missing"]),
             "mountPath": st.sampled_from(["/data", "/etc", "/data", ""])}), max_size=2),
        "resources": _resources,
    })
_volume = st.one_of(
    st.fixed_dictionaries({"name": st.sampled_from(["data", "config", "data", "x_y"]),
                           "emptyDir": st.just({})}),
    st.fixed_dictionaries({"name": st.sampled_from(["data", "config"]),
                           "persistentVolumeClaim": st.fixed_dictionaries(
                               {"claimName": st.sampled_from(["a", "b", "a", ""])})}))
_spec_parts = st.tuples(st.lists(_container, min_size=1, max_size=3),
                        st.one_of(st.none(), st.lists(_container, max_size=2)),
                        st.one_of(st.none(), st.lists(_volume, max_size=3)))
# Specs that share their containers (as a workload's pods do) and differ in their volumes.
_similar_specs = st.tuples(
    st.lists(st.lists(_container, min_size=1, max_size=2), min_size=1, max_size=2),
    st.lists(st.tuples(st.integers(0, 1), st.one_of(
        st.none(), st.lists(_volume, max_size=3, unique_by=lambda v: v["name"]))),
        min_size=2, max_size=6),
).map(lambda case: [(deep_copy(case[0][i % len(case[0])]), None, volumes)
                    for i, volumes in case[1]])


def _passing(specs) -> int:
    return sum(_uncached_containers_ok(*parts) for parts in specs)


def _uncached_containers_ok(containers, inits, volumes) -> bool:
    saved = core._SCREENED_CONTAINERS
    core._SCREENED_CONTAINERS = ValueMemo()
    try:
        return core._screen(core._pod_containers_ok, containers, inits, volumes)
    finally:
        core._SCREENED_CONTAINERS = saved


def test_containers_screen_remembers_the_volume_names_it_was_checked_against():
    containers = [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                   "terminationMessagePolicy": "File",
                   "volumeMounts": [{"name": "config", "mountPath": "/etc"}]}]
    both = [{"name": "data", "emptyDir": {}}, {"name": "config", "emptyDir": {}}]
    assert core._pod_containers_ok(containers, None, both)
    assert core._pod_containers_ok(deep_copy(containers), None, deep_copy(both))
    # The same containers, but the volume they mount is gone.
    assert not core._pod_containers_ok(deep_copy(containers), None, both[:1])
    # Another claim under the same volume names: still remembered, still valid.
    claims = [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}},
              {"name": "config", "emptyDir": {}}]
    assert core._pod_containers_ok(deep_copy(containers), None, claims)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(_spec_parts, min_size=1, max_size=6), _similar_specs))
def test_containers_screen_and_qos_answer_as_computed(specs):
    """Each spec is checked after the ones before it (so after what they left remembered),
    and again as a fresh equal copy: both answers are what a check without memory gives."""
    for containers, inits, volumes in specs:
        want = _uncached_containers_ok(containers, inits, volumes)
        for parts in ((containers, inits, volumes), deep_copy((containers, inits, volumes))):
            assert core._screen(core._pod_containers_ok, *parts) == want
        spec = {"containers": containers}
        if inits is not None:
            spec["initContainers"] = inits
        try:
            want_qos = core._compute_pod_qos(spec)
        except Exception as exc:  # noqa: BLE001 - an invalid quantity fails either way
            want_qos = type(exc)
        for pod in ({"spec": spec}, {"spec": deep_copy(spec)}):
            try:
                got = core.compute_pod_qos(pod)
            except Exception as exc:  # noqa: BLE001
                got = type(exc)
            assert got == want_qos


def test_the_generated_specs_often_pass():
    """The property above means something only if many generated specs pass the screen."""
    from hypothesis import find

    found = find(st.lists(_spec_parts, min_size=6, max_size=6), lambda specs: _passing(specs) >= 3,
                 settings=settings(max_examples=500, database=None))
    assert _passing(found) >= 3
