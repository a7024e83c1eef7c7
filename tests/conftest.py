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
