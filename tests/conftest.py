"""Shared fixtures for fakekube's own tests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@pytest.fixture
def cluster():
    """A cluster with no nodes: API machinery and the always-on controllers only."""
    import fakekube

    return fakekube.Cluster(nodes=0)
