"""VolumeRestrictions: ReadWriteOncePod claims and in-tree disk conflicts."""

from __future__ import annotations

from schedtest import Env, claim_volume, node, pod, pvc

from fakekube.scheduler.framework import Code

RWOP = ("node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod "
        "access mode")


def test_read_write_once_pod_claim_in_use_fails_every_node():
    env = Env([node("n1"), node("n2")])
    env.create(pvc("solo", access_modes=("ReadWriteOncePod",)))
    env.create(pod("first", nodeName="n1", volumes=[claim_volume("solo")]))
    env.run()
    out = env.filter_all("VolumeRestrictions",
                         env.pod_info(pod("second", volumes=[claim_volume("solo")])))
    assert out == {"n1": RWOP, "n2": RWOP}
    state, _, _ = env.pre_filter("VolumeRestrictions",
                                 env.pod_info(pod("second", volumes=[claim_volume("solo")])))
    st = env.plugin("VolumeRestrictions").filter(state, None, env.node_info("n2"))
    assert st.code == Code.UNSCHEDULABLE


def test_unused_rwop_and_ordinary_claims_skip():
    env = Env([node("n1")])
    env.create(pvc("solo", access_modes=("ReadWriteOncePod",)))
    env.create(pvc("shared"))
    for claim in ("solo", "shared"):
        _, _, status = env.pre_filter("VolumeRestrictions",
                                      env.pod_info(pod("p", volumes=[claim_volume(claim)])))
        assert status.is_skip()


def test_missing_claim_is_reported_at_prefilter():
    env = Env([node("n1")])
    _, _, status = env.pre_filter("VolumeRestrictions",
                                  env.pod_info(pod("p", volumes=[claim_volume("nope")])))
    assert status.message() == 'persistentvolumeclaim "nope" not found'
    assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    env.create(pod("p", volumes=[claim_volume("nope")]))
    env.run()
    assert env.message("p") == (
        '0/1 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/1 '
        "nodes are available: 1 Preemption is not helpful for scheduling.")
    # Creating the claim moves the pod (a PVC event the plugin registered for).
    env.create(pvc("nope", storage_class="", volume_name="v"))
    env.run()
    env.cluster.advance(1)
    assert "unbound immediate" in env.message("p")


def test_gce_disk_conflict():
    env = Env([node("n1"), node("n2")])
    disk = {"name": "d", "gcePersistentDisk": {"pdName": "disk-1"}}
    env.create(pod("a", nodeName="n1", volumes=[disk]))
    env.run()
    out = env.filter_all("VolumeRestrictions", env.pod_info(pod("b", volumes=[disk])))
    assert out == {"n1": "node(s) had no available disk", "n2": None}
    ro = {"name": "d", "gcePersistentDisk": {"pdName": "disk-1", "readOnly": True}}
    out = env.filter_all("VolumeRestrictions", env.pod_info(pod("b", volumes=[ro])))
    assert out["n1"] == "node(s) had no available disk"   # the other mount is read-write
