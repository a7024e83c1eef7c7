"""The fakekube pytest plugin (entry point ``pytest11: fakekube``).

It lives in a top-level module so that pytest can load it without importing fakekube:
fakekube is imported only when a fixture that needs it is used.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def kube(request: pytest.FixtureRequest):
    """A fresh :class:`fakekube.Cluster` for the test."""
    import fakekube

    return fakekube.Cluster()
