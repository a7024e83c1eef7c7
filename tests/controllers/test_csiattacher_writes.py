"""The CSI external-attacher merges each of upstream's merge patches into the object as read
and sends the result as an update (``CSIAttacherController._patch``), falling back to the
patch call on a conflict. For each flow (attach, an attach refused, detach, a volume's
finalizer going with the volume), the watch events are exactly those of an attacher that
sends the patches (the oracle): same objects, same key order, same resource versions."""

from __future__ import annotations

import hashlib
import json

import pytest

from fakekube.controllers.csiattacher import CSIAttacherController
from test_attachdetach import Sim


def patching(ctl: CSIAttacherController) -> None:
    """Make ``ctl`` send every write as the merge patch it stands for."""
    def patch(kind, obj, body, subresource=None):
        return ctl.client.patch(kind, obj["metadata"]["name"], None, body,
                                subresource=subresource)

    ctl._patch = patch


def history(c) -> str:
    h = hashlib.sha256()
    for name, table in sorted(c.api.store.tables.items()):
        for ev in table.history:
            h.update(repr((ev.rv, name, ev.type, json.dumps(ev.obj, default=str))).encode())
    return h.hexdigest()


def attach_detach_delete(sim: Sim) -> None:
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.c.delete("PersistentVolume", "pvc-1")
    sim.c.settle()
    sim.c.delete("Pod", "web-0")
    sim.c.settle()


def refused_then_detached(sim: Sim) -> None:
    sim.volume()
    sim.c.patch("PersistentVolume", "pvc-1", {"metadata": {"finalizers": ["example.com/x"]}})
    sim.c.delete("PersistentVolume", "pvc-1")
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.c.delete("Pod", "web-0")
    sim.c.settle()


def attachment_deleted_and_made_again(sim: Sim) -> None:
    sim.volume()
    sim.pod("web-0", "node-1")
    sim.c.settle()
    sim.advance_to(70)
    sim.c.delete("VolumeAttachment", sim.c.list("VolumeAttachment")["items"][0][
        "metadata"]["name"])
    sim.c.settle()


@pytest.mark.parametrize("flow", [attach_detach_delete, refused_then_detached,
                                  attachment_deleted_and_made_again])
def test_updates_write_what_the_patches_write(flow) -> None:
    runs = []
    for oracle in (False, True):
        sim = Sim(seed=11)
        ctl = next(x for x in sim.c.manager.controllers
                   if isinstance(x, CSIAttacherController))
        if oracle:
            patching(ctl)
        flow(sim)
        runs.append(history(sim.c))
    assert runs[0] == runs[1]


def test_a_conflict_falls_back_to_the_patch() -> None:
    sim = Sim(seed=11)
    sim.volume()
    ctl = next(x for x in sim.c.manager.controllers if isinstance(x, CSIAttacherController))
    pv = sim.c.api.table(sim.c.api.registry.by_kind("PersistentVolume")).objects[("", "pvc-1")]
    sim.c.patch("PersistentVolume", "pvc-1", {"metadata": {"labels": {"a": "b"}}})
    stored = ctl._patch("PersistentVolume", pv, {"metadata": {"finalizers": ["x/y"]}})
    assert stored["metadata"]["labels"] == {"a": "b"}  # the newer object, patched
    assert stored["metadata"]["finalizers"] == ["x/y"]
