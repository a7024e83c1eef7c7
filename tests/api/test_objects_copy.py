"""``objects.deep_copy``: an equal value that shares no dict or list with the original.

The copy skips walking the dicts the cyclic GC does not track (they hold no container), so the
property runs over values built in the ways that leave dicts tracked or not: literals, dicts
that held a container once, dicts copied from others.
"""

from __future__ import annotations

import gc

from hypothesis import given, strategies as st

from fakekube.api.objects import deep_copy

_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=3))
_json = st.recursive(_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)),
    max_leaves=25)


def _containers(v, out):
    if isinstance(v, dict):
        out.append(v)
        for x in v.values():
            _containers(x, out)
    elif isinstance(v, list):
        out.append(v)
        for x in v:
            _containers(x, out)
    return out


def _retracked(v):
    """``v`` with every dict made to have held a list once (tracked, all values atomic)."""
    if isinstance(v, dict):
        out = {}
        out["_"] = []
        del out["_"]
        for k, x in v.items():
            out[k] = _retracked(x)
        return out
    if isinstance(v, list):
        return [_retracked(x) for x in v]
    return v


@given(_json)
def test_deep_copy_is_equal_and_shares_no_container(value):
    for original in (value, _retracked(value)):
        copy = deep_copy(original)
        assert copy == original
        mine = {id(c) for c in _containers(original, [])}
        assert not any(id(c) in mine for c in _containers(copy, []))


def test_a_leaf_dict_is_copied_whether_or_not_tracked():
    leaf = {"a": 1}
    tracked = {"b": []}
    tracked["b"] = 2
    assert not gc.is_tracked(leaf) and gc.is_tracked(tracked)
    for d in (leaf, tracked, {"x": [leaf, tracked], "y": leaf}):
        c = deep_copy(d)
        assert c == d and c is not d
    nested = deep_copy({"x": [leaf, tracked], "y": leaf})
    assert nested["x"][0] is not leaf and nested["y"] is not leaf
    assert nested["x"][1] is not tracked
