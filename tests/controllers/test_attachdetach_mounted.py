"""Attach/detach controller: a node event looks only at the attachments whose volume came into
or left the node's ``volumesInUse``, and at those attached since the node's last event. For
every history, the controller writes exactly what it writes when each node event looks at
every attachment of the node (the oracle below, the controller's former handler): same watch
events, same stored objects."""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck, given, settings

from fakekube.api.store import ADDED, DELETED, WatchEvent
from fakekube.controllers.attachdetach import AttachDetachController, _out_of_service, _ready
from test_attachdetach import plans, run_plan


def full_scan_on_node(self: AttachDetachController, ev: WatchEvent) -> None:
    """``_on_node`` comparing every attachment of the node with its volumesInUse."""
    node = ev.obj
    name = node["metadata"]["name"]
    volumes = self.node_volumes.get(name, ())
    if ev.type == DELETED:
        if not any(name in nodes for nodes in self.desired.values()):
            self.managed.pop(name, None)
        for v in sorted(volumes):
            self.queue.add(("volume", v))
        return
    if self._note_node(node):
        for pod in self.pods.by_field("spec.nodeName", name):
            if any("persistentVolumeClaim" in v or "ephemeral" in v
                   for v in (pod.get("spec") or {}).get("volumes") or ()):
                m = pod["metadata"]
                self.queue.add(("pod", m["namespace"], m["name"]))
    if ev.type == ADDED:
        self.queue.add(("node", name))
    in_use = set((node.get("status") or {}).get("volumesInUse") or ())
    old = ev.old
    health_changed = old is None or _ready(old) != _ready(node) or _out_of_service(
        old) != _out_of_service(node)
    attached = self.attached
    if not health_changed:
        volumes = [v for v in volumes if attached[v][name].mounted != (v in in_use)]
    for v in sorted(volumes):
        attached[v][name].mounted = v in in_use
        self.queue.add(("volume", v))


def history(sim) -> str:
    h = hashlib.sha256()
    for name, table in sorted(sim.c.api.store.tables.items()):
        for ev in table.history:
            h.update(repr((ev.rv, name, ev.type,
                           json.dumps(ev.obj, sort_keys=True, default=str))).encode())
    return h.hexdigest()


def run_with_full_scan(plan) -> str:
    incremental = AttachDetachController._on_node
    AttachDetachController._on_node = full_scan_on_node
    try:
        return history(run_plan(plan))
    finally:
        AttachDetachController._on_node = incremental


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(("fail", "restore", "remove", "add", "taint")))
def test_node_events_write_what_a_full_scan_writes(plan):
    assert history(run_plan(plan)) == run_with_full_scan(plan)
