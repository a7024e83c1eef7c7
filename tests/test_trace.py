"""fakekube.trace: the Chrome trace-event export and the HTML timeline."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fakekube
from fakekube import trace
from fakekube.api.store import Store, WatchEvent
from fakekube.clock import EPOCH, VirtualClock

DB = """
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:16}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}


def new_cluster(**kw):
    c = fakekube.Cluster(nodes=3, zones=["a", "b", "c"], **kw)
    trace.record(c)
    return c


@pytest.fixture(scope="module")
def failover():
    """The README story, by node removal: db-1's node fails, is removed, db-1 is reborn."""
    c = new_cluster()
    c.apply(DB)
    c.settle()
    old = c.get("Pod", "db-1")
    c.fail_node(old["spec"]["nodeName"])
    c.settle()
    c.remove_node(old["spec"]["nodeName"])
    c.settle()
    return c, old, c.get("Pod", "db-1")


# -- the trace-event format -----------------------------------------------------------------

def check_trace(doc: dict) -> None:
    """What the Trace Event Format requires, and what this exporter promises."""
    json.loads(json.dumps(doc))  # plain JSON
    assert set(doc) >= {"traceEvents", "otherData"}
    events = doc["traceEvents"]
    named = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    procs = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    tracks: dict[tuple[int, int], list[dict]] = {}
    for e in events:
        assert {"ph", "ts", "pid", "tid", "name"} <= set(e), e
        assert e["ph"] in {"X", "i", "M"}, e
        assert isinstance(e["ts"], int) and e["ts"] >= 0, e
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
        if e["ph"] == "X":
            assert isinstance(e["dur"], int) and e["dur"] >= 0, e
            tracks.setdefault((e["pid"], e["tid"]), []).append(e)
        if e["ph"] == "i":
            assert e["s"] in {"t", "p", "g"}, e
        if e["ph"] != "M":
            assert e["pid"] in procs, f"no process_name for {e}"
            assert (e["pid"], e["tid"]) in named, f"no thread_name for {e}"
    for key, slices in tracks.items():  # well nested per track
        stack: list[int] = []
        for s in sorted(slices, key=lambda s: (s["ts"], -s["dur"])):
            while stack and stack[-1] <= s["ts"]:
                stack.pop()
            end = s["ts"] + s["dur"]
            if stack:
                assert end <= stack[-1], f"slice {s} overlaps its parent on track {key}"
            stack.append(end)


def slices(doc, cat=None, name=None):
    return [e for e in doc["traceEvents"] if e["ph"] == "X" and (cat is None or e["cat"] == cat)
            and (name is None or e["name"] == name)]


def process_of(doc, title_prefix):
    return next(e["pid"] for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] ==
                "process_name" and e["args"]["name"].startswith(title_prefix))


def test_empty_cluster_trace_is_valid():
    doc = trace.export(fakekube.Cluster(nodes=0))
    check_trace(doc)
    assert doc["otherData"]["virtualNow"] == "+0s"


def test_failover_trace_is_valid_and_tells_the_story(failover):
    c, old, new = failover
    doc = c.trace() if hasattr(c, "trace") else trace.export(c)
    check_trace(doc)
    old_node, new_node = old["spec"]["nodeName"], new["spec"]["nodeName"]
    old_pid, new_pid = process_of(doc, old_node), process_of(doc, new_node)
    pods = {s["args"]["uid"]: s for s in slices(doc, "pod")}
    evicted, reborn = pods[old["metadata"]["uid"]], pods[new["metadata"]["uid"]]
    # The evicted incarnation's slice is on the old node and ends when it is gone...
    assert evicted["pid"] == old_pid and evicted["name"] == "db-1"
    assert evicted["args"]["gone"] != "exists"
    gone_us = evicted["ts"] + evicted["dur"]
    assert gone_us < int((c.now - EPOCH) * 1e6)
    assert "Terminating" in evicted["args"]["states"]
    # ... and the reborn one is on another node, from then on, with its new IP.
    assert reborn["pid"] == new_pid != old_pid
    assert reborn["ts"] >= gone_us
    assert reborn["ts"] + reborn["dur"] == int(round((c.now - EPOCH) * 1e6))
    assert reborn["args"]["ip"] == new["status"]["podIP"] != evicted["args"]["ip"]
    # The states are nested inside the incarnation, in order, covering it.
    states = [s for s in slices(doc, "pod.state") if s["pid"] == old_pid
              and s["tid"] == evicted["tid"] and evicted["ts"] <= s["ts"] < gone_us]
    assert [s["name"] for s in states][-2:] == ["Running", "Terminating"]
    assert states[-1]["ts"] + states[-1]["dur"] == gone_us
    # The node: a failure period (Ready=Unknown) inside its life, which ended at removal.
    (life,) = [s for s in slices(doc, "node") if s["pid"] == old_pid]
    assert life["args"]["deleted"] != "exists"
    (failure,) = [s for s in slices(doc, "node.failure") if s["pid"] == old_pid]
    assert failure["name"] == "Ready=Unknown"
    assert float(failure["args"]["lease last renewed"].strip("+s")) <= 3  # failed at +3s
    assert 43_000_000 <= failure["ts"] <= 48_000_000  # 40 s grace, then the next 5 s tick
    # Events are instants on the pod's track; the API writes on one thread per resource.
    instants = [e for e in doc["traceEvents"] if e["ph"] == "i"]
    eviction = [e for e in instants if e["name"] == "TaintManagerEviction"]
    assert [(e["pid"], e["tid"]) for e in eviction] == [(old_pid, evicted["tid"])]
    assert any(e["name"] == "FailedAttachVolume" and "Multi-Attach" in e["args"]["message"]
               and e["pid"] == new_pid for e in instants)
    writes = [e for e in instants if e["cat"] == "api"]
    assert {e["name"] for e in writes} == {"ADDED", "MODIFIED", "DELETED"}
    pod_tid = next(e["tid"] for e in doc["traceEvents"] if e["ph"] == "M" and e["pid"] == 0
                   and e["args"].get("name") == "API writes: pods")
    assert any(e["tid"] == pod_tid and e["name"] == "DELETED" and e["args"]["object"] ==
               "default/db-1" and e["ts"] == gone_us for e in writes)
    # Volume attachments: detached from the old node, re-attached on the new one.
    vols = [s for s in slices(doc, "volume") if s["name"] == "data-db-1"]
    assert sorted((s["pid"], s["args"]["node"]) for s in vols) == sorted(
        [(old_pid, old_node), (new_pid, new_node)])
    first, second = sorted(vols, key=lambda s: s["ts"])
    assert first["ts"] + first["dur"] <= second["ts"] + second["dur"]
    assert doc["otherData"]["notes"] == []


def test_writing_the_trace_to_a_file(failover, tmp_path):
    c = failover[0]
    path = tmp_path / "trace.json"
    doc = trace.export(c, path)
    assert json.loads(path.read_text()) == doc
    with pytest.raises(ValueError, match="perfetto"):
        trace.export(c, format="svg")


def test_compacted_history_is_said(tmp_path):
    c = new_cluster(event_history=40)
    c.apply(DB)
    c.settle()
    c.advance(300)
    doc = trace.export(c)
    check_trace(doc)
    notes = doc["otherData"]["notes"]
    assert any(n.startswith("leases.coordination.k8s.io: history compacted") for n in notes)
    assert any("keeps 40 events" in n for n in notes)
    page = trace.export(c, format="html")
    assert "history compacted" in page
    # Pods whose early history is gone are still on the timeline, from their creation.
    names = sorted(s["name"] for s in slices(doc, "pod"))
    assert names == ["db-0", "db-1", "db-2"]


def test_write_instants_are_capped_with_a_note(failover):
    doc = trace.export(failover[0], max_writes=25)
    check_trace(doc)
    writes = [e for e in doc["traceEvents"] if e["ph"] == "i" and e["cat"] == "api"]
    assert len(writes) == 25
    assert any("only the latest 25" in n for n in doc["otherData"]["notes"])
    # The latest ones are kept.
    assert max(w["ts"] for w in writes) == max(
        w["ts"] for w in trace.export(failover[0])["traceEvents"] if w.get("cat") == "api")


def test_without_recorded_write_times_times_are_estimated():
    c = fakekube.Cluster(nodes=2)
    c.write_times = None
    c.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
              "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    c.settle()
    c.advance(30)
    c.delete("Pod", "p")
    c.settle()
    doc = trace.export(c)
    check_trace(doc)
    assert any("estimated" in n for n in doc["otherData"]["notes"])
    (pod,) = slices(doc, "pod")
    assert pod["ts"] == 0 and pod["dur"] == 30_000_000  # deletionTimestamp - grace, creation


# -- the HTML timeline ----------------------------------------------------------------------

class Checker(HTMLParser):
    """Balanced tags, collected text and attribute values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_timeline_is_well_formed_and_labelled(failover, tmp_path):
    c, old, new = failover
    path = tmp_path / "t.html"
    page = trace.export(c, path, format="html")
    assert path.read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>")
    p = Checker()
    p.feed(page)
    p.close()
    assert p.stack == []
    assert {"html", "head", "body", "svg", "rect", "title", "style"} <= p.tags
    assert not {"script", "link", "img", "iframe"} & p.tags  # self-contained
    assert not [v for k, v in p.attrs if k in ("src", "href")]
    text = "\n".join(p.text)
    for label in ("node-1", "node-2", "node-3", "zone a", f"db-1 {old['status']['podIP']}",
                  f"db-1 {new['status']['podIP']}", "TaintManagerEviction", "+100s"):
        assert label in text, label
    assert f"node {old['spec']['nodeName']}: Ready=Unknown from +45s" in text
    assert "volume data-db-1" in text


def test_html_reads_well_for_ten_nodes_and_a_hundred_incarnations():
    c = fakekube.Cluster(nodes=10)
    trace.record(c)
    for i in range(5):
        c.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"d{i}"},
                  "spec": {"replicas": 10, "selector": {"matchLabels": {"app": f"d{i}"}},
                           "template": {"metadata": {"labels": {"app": f"d{i}"}}, "spec": {
                               "containers": [{"name": "c", "image": "nginx"}]}}}})
    c.settle()
    c.advance(30)
    for i in range(5):
        c.delete_collection("Pod", "default", label_selector=f"app=d{i}")
        c.settle()
        c.advance(10)
    page = trace.export(c, format="html")
    p = Checker()
    p.feed(page)
    assert p.stack == []
    tl = trace.build(c)
    assert sum(len(r.pods) for r in tl.rows) == 100
    assert len(page) < 1_000_000
    check_trace(trace.to_chrome(tl))


# -- the parts --------------------------------------------------------------------------------

@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=40))
def test_lanes_never_overlap(spans):
    items = [trace.Attachment(str(i), "", "", "", float(a), [], end=float(a + d))
             for i, (a, d) in enumerate(sorted(spans))]
    lanes = trace._assign_lanes(items, now=100.0)
    assert lanes <= max(len(items), 0) and all(0 <= i.lane < max(lanes, 1) for i in items)
    by_lane: dict[int, list] = {}
    for i in items:
        by_lane.setdefault(i.lane, []).append(i)
    for same in by_lane.values():
        for a, b in zip(same, same[1:]):
            assert a.end < b.start or (a.end == b.start and a.end > a.start and b.end > b.start)


@given(st.lists(st.tuples(st.sampled_from([0, 0, 0.5, 3, 10]), st.integers(1, 4)),
                min_size=1, max_size=60), st.integers(1, 30))
def test_write_times_match_the_clock_for_every_retained_write(steps, limit):
    store, clock = Store(history_limit=limit), VirtualClock()
    table = store.table("pods")
    times = trace.WriteTimes.install(store, clock)
    times._limit = 4  # prune often
    truth = {}
    for delay, writes in steps:
        clock.advance(delay)
        for _ in range(writes):
            rv = store.next_rv()
            table._record(WatchEvent("ADDED", {"metadata": {}}, None, rv))
            truth[rv] = clock.now()
    for ev in table.history:
        assert times.time_of(ev.rv) == truth[ev.rv]


def test_record_installs_once():
    c = fakekube.Cluster(nodes=0)
    first = trace.record(c)
    assert trace.record(c) is first
    assert sum(h == first.on_write for h in c.store.tables["pods"].handlers) == 1
