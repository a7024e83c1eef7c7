"""The served run loop (virtual time while served), the endpoint and the CLI."""

from __future__ import annotations

import argparse
import io
import os
import threading
import time

import pytest
import yaml

import fakekube
from fakekube.http import serve
from fakekube.http.cli import run
from kube_manifests import pod


def test_deadlines_jump_and_settle_waits(served_plain):
    cluster, ep = served_plain
    cluster.create(pod("doomed", node="node-1"))
    ep.settle()
    t0 = cluster.now
    wall = time.monotonic()
    with ep.loop.paused():  # the test thread drives the kubelets: hold the loop
        cluster.fail_node("node-1")
    used = ep.settle()  # 40 s node grace, then the 300 s NoExecute toleration
    assert time.monotonic() - wall < 10
    assert used >= 340 and cluster.now - t0 >= 340
    assert cluster.get("Pod", "doomed")["metadata"].get("deletionTimestamp")
    ready = {c["type"]: c["status"] for c in cluster.get("Node", "node-1")["status"][
        "conditions"]}["Ready"]
    assert ready == "Unknown"


def test_virtual_time_follows_the_wall_when_idle(served_plain, monkeypatch):
    cluster, ep = served_plain
    ep.settle()
    t0 = cluster.now
    real_wall = ep.loop._wall
    monkeypatch.setattr(ep.loop, "_wall", lambda: real_wall() + 0.3)  # 0.3 s pass, unslept
    cluster.create(pod("later", node=None))  # any request brings the clock up to the wall
    ep.rest.handle("GET", "/api/v1/namespaces", {}, b"")
    assert 0.2 <= cluster.now - t0 < 5


def test_settle_bound_and_paused_advance(served_plain):
    cluster, ep = served_plain
    ep.settle()
    fired = []
    with ep.loop.paused():  # the bound is in place before the loop sees the deadline
        cluster.clock.call_later(500, lambda: fired.append(cluster.now))
        with pytest.raises(fakekube.SettleTimeout):
            ep.loop.settle(max_seconds=100)
        assert not fired
    ep.loop.settle()
    assert len(fired) == 1
    with ep.loop.paused():
        before = cluster.now
        cluster.advance(7)
        assert cluster.now == before + 7


def test_controller_errors_surface_in_settle(served_plain):
    cluster, ep = served_plain

    def boom() -> None:
        raise RuntimeError("controller bug")

    with ep.loop.paused():
        cluster.clock.call_later(1, boom)
    with pytest.raises(RuntimeError, match="controller bug"):
        ep.settle()
    ep.loop.reset()


def test_endpoint_kubeconfig_and_dns_plug(tmp_path):
    cluster = fakekube.Cluster(nodes=0)
    calls = []

    class FakeDns:
        def __enter__(self):
            calls.append("up")
            return ("127.0.0.1", 5353)

        def __exit__(self, *exc):
            calls.append("down")

    path = tmp_path / "kc"
    with serve(cluster, kubeconfig=path, dns=FakeDns) as ep:
        assert ep.dns == ("127.0.0.1", 5353)
        doc = yaml.safe_load(path.read_text())
        assert doc["clusters"][0]["cluster"]["server"] == ep.url
        assert "certificate-authority-data" in doc["clusters"][0]["cluster"]
        assert doc["users"][0]["user"]["token"] == ep.token
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        url = ep.url
    assert calls == ["up", "down"]
    with serve(cluster, auth=False, dns=False) as ep:
        assert ep.dns is None and ep.url.startswith("http://") and ep.url != url
        doc = yaml.safe_load(open(ep.kubeconfig))
        assert doc["users"][0]["user"] == {}
        kc = ep.kubeconfig
    assert not os.path.exists(kc)
    with pytest.raises(ValueError):
        with serve(cluster, host="0.0.0.0"):
            pass


def test_api_client_without_kubernetes(monkeypatch, served_plain):
    import builtins

    _, ep = served_plain
    real = builtins.__import__

    def fake(name, *a, **kw):
        if name.startswith("kubernetes"):
            raise ImportError("no kubernetes")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match="pip install kubernetes"):
        ep.api_client()


def test_cli_serve(tmp_path):
    args = argparse.Namespace(nodes=1, port=0, kubeconfig=str(tmp_path / "kc"), seed=3,
                              no_auth=True)
    ready, stop = threading.Event(), threading.Event()
    out = io.StringIO()
    t = threading.Thread(target=run, args=(args,), kwargs={"ready": ready, "stop": stop,
                                                          "out": out})
    t.start()
    assert ready.wait(30)
    text = out.getvalue()
    assert f"export KUBECONFIG={tmp_path / 'kc'}" in text
    url = yaml.safe_load((tmp_path / "kc").read_text())["clusters"][0]["cluster"]["server"]
    import json
    import urllib.request

    nodes = json.load(urllib.request.urlopen(url + "/api/v1/nodes"))
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-1"]
    stop.set()
    t.join(30)
    assert "stopped" in out.getvalue()
