"""Shared fixtures for fakekube's own tests."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Deterministic: every run of the suite draws the same examples (set HYPOTHESIS_PROFILE=dev
# or pass --hypothesis-seed to explore others).
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def cluster():
    """A cluster with no nodes: API machinery and the always-on controllers only."""
    import fakekube

    return fakekube.Cluster(nodes=0)


def _first_difference(a, b, path=""):
    """The path of the first place where two JSON values differ (type included), or None."""
    if type(a) is not type(b):
        return path or "<root>"
    if type(a) is dict:
        if list(a) != list(b):
            return f"{path} (keys)"
        for k in a:
            got = _first_difference(a[k], b[k], f"{path}.{k}")
            if got is not None:
                return got
        return None
    if type(a) is list:
        if len(a) != len(b):
            return f"{path} (length)"
        for i, (x, y) in enumerate(zip(a, b)):
            got = _first_difference(x, y, f"{path}[{i}]")
            if got is not None:
                return got
        return None
    return None if a == b else path


@pytest.fixture(autouse=True)
def _stored_objects_never_change(monkeypatch):
    """Every test also checks the store's one rule for its readers: an object, once stored,
    is never changed in place (by the API layer, a controller, a hook...). Informers and
    controllers read the stored objects themselves, versions share their unchanged parts,
    and pods made from one template share their spec: a change in place would alter other
    objects and the watch history. Each object the store takes is snapshotted (marshal
    format 2, which keeps types and key order and has no sharing references) and compared
    at the end of the test."""
    import marshal

    from fakekube.api.objects import deep_copy
    from fakekube.api.store import Store

    taken: list[tuple[str, dict, object]] = []

    def snapshot(obj):
        try:
            return marshal.dumps(obj, 2)
        except ValueError:  # not a JSON value (a test's deliberate oddity): compare a copy
            return deep_copy(obj)

    def watched(name):
        original = getattr(Store, name)

        def write(self, table, obj, *args, **kwargs):
            ev = original(self, table, obj, *args, **kwargs)
            taken.append((table.resource, ev.obj, snapshot(ev.obj)))
            return ev

        monkeypatch.setattr(Store, name, write)

    for name in ("insert", "replace", "remove"):
        watched(name)
    yield
    for resource, obj, snap in taken:
        if type(snap) is bytes:
            if marshal.dumps(obj, 2) == snap:
                continue
            before = marshal.loads(snap)
        elif obj == snap:
            continue
        else:
            before = snap
        where = _first_difference(before, obj)
        name = (obj.get("metadata") or {}).get("name")
        pytest.fail(f"a stored {resource} object ({name}) changed after it was stored, "
                    f"at {where}")
