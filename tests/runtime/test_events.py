"""EventRecorder: the events it stores, the correlation of repeats, and the timestamps."""

from __future__ import annotations

import random
import re

import pytest

from fakekube import errors
from fakekube.api.server import ApiServer
from fakekube.api.store import Store
from fakekube.clock import VirtualClock
from fakekube.config import Config
from fakekube.runtime.events import EventRecorder


def _api() -> ApiServer:
    api = ApiServer(Store(), VirtualClock(), random.Random(0), Config())
    api.create(api.registry.by_kind("Namespace"),
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return api


def _events(api: ApiServer) -> list[dict]:
    rt = api.registry.by_kind("Event")
    return api.list(rt)["items"]


POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web-0", "namespace": "default", "uid": "u-1",
                    "resourceVersion": "7"}}


def test_an_event_about_a_pod() -> None:
    api = _api()
    api.clock.advance(3)
    EventRecorder(api, "kubelet", "node-1").event(POD, "Normal", "Pulled", "pulled it")
    [ev] = _events(api)
    meta = ev.pop("metadata")
    stamp = api.now()
    assert meta["name"] == f"web-0.{int(api.clock.now() * 1e9) + 1:x}"
    assert meta["namespace"] == "default"
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert meta["creationTimestamp"] == stamp
    assert ev == {"apiVersion": "v1", "kind": "Event",
                  "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-0",
                                     "uid": "u-1", "apiVersion": "v1",
                                     "resourceVersion": "7"},
                  "reason": "Pulled", "message": "pulled it",
                  "source": {"component": "kubelet", "host": "node-1"},
                  "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
                  "type": "Normal", "reportingComponent": "kubelet",
                  "reportingInstance": "node-1"}


def test_cluster_scoped_objects_and_references() -> None:
    api = _api()
    rec = EventRecorder(api, "node-controller")
    rec.event({"kind": "Node", "metadata": {"name": "n1", "uid": "u-n"}}, "Normal",
              "RegisteredNode", "hello")
    rec.event({"kind": None, "metadata": {"name": "x"}}, "Warning", "Odd", "no kind")
    rec.event({"metadata": {"name": "y"}}, "Warning", "Odd", "no kind key")
    by_reason = {(e["reason"], e["message"]): e for e in _events(api)}
    node = by_reason[("RegisteredNode", "hello")]
    assert node["metadata"]["namespace"] == "default"
    assert node["involvedObject"] == {"kind": "Node", "name": "n1", "uid": "u-n",
                                      "apiVersion": "v1", "resourceVersion": ""}
    assert node["source"] == {"component": "node-controller"}
    assert by_reason[("Odd", "no kind")]["involvedObject"]["kind"] is None
    assert by_reason[("Odd", "no kind")]["involvedObject"]["apiVersion"] == ""
    assert by_reason[("Odd", "no kind key")]["involvedObject"]["kind"] == ""


def test_an_unknown_kind_is_refused_every_time() -> None:
    api = _api()
    rec = EventRecorder(api, "c")
    for _ in range(2):
        with pytest.raises(errors.NotFound):
            rec.event({"kind": "Gizmo", "apiVersion": "x/v1", "metadata": {"name": "g"}},
                      "Normal", "R", "m")
    assert _events(api) == []


def test_repeats_count_on_the_first_and_stamps_follow_the_clock() -> None:
    api = _api()
    rec = EventRecorder(api, "kubelet", "node-1")
    rec.event(POD, "Normal", "Started", "go")
    first = api.now()
    api.clock.advance(90)
    rec.event(POD, "Normal", "Started", "go")
    rec.event(POD, "Normal", "Created", "made")
    later = api.now()
    assert later != first
    evs = {e["reason"]: e for e in _events(api)}
    assert len(_events(api)) == 2
    assert evs["Started"]["count"] == 2
    assert evs["Started"]["firstTimestamp"] == first
    assert evs["Started"]["lastTimestamp"] == later
    assert evs["Created"]["firstTimestamp"] == later
    assert evs["Created"]["metadata"]["creationTimestamp"] == later


def test_event_names_stay_unique_at_one_instant() -> None:
    api = _api()
    a, b = EventRecorder(api, "a"), EventRecorder(api, "b")
    for i in range(5):
        (a if i % 2 else b).event(POD, "Normal", "R", f"m{i}")
    names = [e["metadata"]["name"] for e in _events(api)]
    assert len(set(names)) == 5
