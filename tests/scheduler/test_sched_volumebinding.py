"""VolumeBinding: claims decide where a pod may run; WaitForFirstConsumer claims are bound
(or provisioned) for the chosen node before the pod is bound."""

from __future__ import annotations

from schedtest import Env, claim_volume, node, pod, pv, pvc, storage_class

from fakekube.scheduler.framework import Code

BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
NODE_CONFLICT = "node(s) had volume node affinity conflict"


def wffc_env(provisioner: str = "kubernetes.io/no-provisioner", **sc) -> Env:
    env = Env([node("n1", zone="a"), node("n2", zone="b"), node("n3", zone="c")])
    env.create(storage_class("local", provisioner=provisioner, **sc))
    return env


def with_claim(name: str = "p", claim: str = "data") -> dict:
    return pod(name, volumes=[claim_volume(claim)])


# -- PreFilter -----------------------------------------------------------------------------

def test_prefilter_failures():
    env = Env([node("n1")])
    vb = "VolumeBinding"
    _, _, st = env.pre_filter(vb, env.pod_info(with_claim()))
    assert st.message() == 'persistentvolumeclaim "data" not found'
    assert st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    env.create(pvc("data"))              # class "standard": Immediate, not bound
    _, _, st = env.pre_filter(vb, env.pod_info(with_claim()))
    assert st.message() == "pod has unbound immediate PersistentVolumeClaims"
    assert st.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    env.cluster.delete("PersistentVolumeClaim", "data")   # held by its protection finalizer
    assert env.get("PersistentVolumeClaim", "data")["metadata"].get("deletionTimestamp")
    _, _, st = env.pre_filter(vb, env.pod_info(with_claim()))
    assert st.message() == 'persistentvolumeclaim "data" is being deleted'
    _, _, st = env.pre_filter(vb, env.pod_info(pod("plain")))
    assert st.is_skip()


def test_unbound_immediate_claim_message_and_binding_moves_the_pod():
    env = Env([node("n1"), node("n2")])
    env.create(pvc("data"))
    env.create(with_claim())
    env.run()
    assert env.message("p") == (
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    env.create_pv(pv("vol", storage_class="standard"))
    env.bind_claim("data", "vol")
    env.run()
    env.cluster.advance(1)
    assert env.node_of("p") in ("n1", "n2")


# -- Filter: bound claims --------------------------------------------------------------------

def test_bound_claim_pv_node_affinity_conflict():
    env = Env([node("n1", zone="a"), node("n2", zone="b")])
    env.create_pv(pv("vol", storage_class="", zone="a"))
    env.create(pvc("data", storage_class=""))
    env.bind_claim("data", "vol")
    out = env.filter_all("VolumeBinding", env.pod_info(with_claim()))
    assert out == {"n1": None, "n2": NODE_CONFLICT}


def test_bound_claim_to_missing_pv():
    env = Env([node("n1")])
    env.create(pvc("data", storage_class="", volume_name="gone",
                   annotations={"pv.kubernetes.io/bind-completed": "yes"}))
    out = env.filter_all("VolumeBinding", env.pod_info(with_claim()))
    assert out == {"n1": "node(s) unavailable due to one or more pvc(s) bound to "
                         "non-existent pv(s)"}


def test_local_pv_narrows_nodes_with_a_prefilter_result():
    env = Env([node("n1"), node("n2"), node("n3")])
    env.create_pv(pv("local-vol", storage_class="", hostname="n2"))
    env.create(pvc("data", storage_class=""))
    env.bind_claim("data", "local-vol")
    _, result, st = env.pre_filter("VolumeBinding", env.pod_info(with_claim()))
    assert st is None and result.node_names == {"n2"}
    env.create(pod("blocker", cpu="4", nodeName="n2"))
    env.create(with_claim())
    env.run()
    # SCH-2b: nodes outside the PreFilterResult count as "didn't satisfy plugin(s)".
    assert env.message("p") == (
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) "
        "[VolumeBinding]. preemption: 0/3 nodes are available: 1 No preemption victims found "
        "for incoming pod, 2 Preemption is not helpful for scheduling.")


# -- Filter: WaitForFirstConsumer ------------------------------------------------------------

def test_no_volume_and_no_provisioner():
    env = wffc_env()
    env.create(pvc("data", storage_class="local"))
    out = env.filter_all("VolumeBinding", env.pod_info(with_claim()))
    assert out == {"n1": BIND_CONFLICT, "n2": BIND_CONFLICT, "n3": BIND_CONFLICT}


def test_matching_volume_fits_only_its_node_and_the_smallest_wins():
    env = wffc_env()
    env.create_pv(pv("on-n2-big", storage="10Gi", storage_class="local", hostname="n2"))
    env.create_pv(pv("on-n2-small", storage="2Gi", storage_class="local", hostname="n2"))
    env.create_pv(pv("on-n3-tiny", storage="500Mi", storage_class="local", hostname="n3"))
    env.create_pv(pv("on-n1-rwx", storage="5Gi", storage_class="local", hostname="n1",
                     access_modes=("ReadOnlyMany",)))
    env.create_pv(pv("on-n1-pending", storage="5Gi", storage_class="local", hostname="n1"),
                  phase="Pending")
    env.create(pvc("data", storage_class="local", storage="1Gi"))
    pi = env.pod_info(with_claim())
    out = env.filter_all("VolumeBinding", pi)
    assert out == {"n1": BIND_CONFLICT, "n2": None, "n3": BIND_CONFLICT}
    state, _, _ = env.pre_filter("VolumeBinding", pi)
    plugin = env.plugin("VolumeBinding")
    plugin.filter(state, pi, env.node_info("n2"))
    (chosen, _claim), = state.read("VolumeBinding").by_node["n2"].static_bindings
    assert chosen["metadata"]["name"] == "on-n2-small"


def test_dynamic_provisioning_and_allowed_topologies():
    env = wffc_env(provisioner="csi.example.com", allowed_topologies=[{
        "matchLabelExpressions": [{"key": "topology.kubernetes.io/zone",
                                   "values": ["a", "c"]}]}])
    env.create(pvc("data", storage_class="local"))
    out = env.filter_all("VolumeBinding", env.pod_info(with_claim()))
    assert out == {"n1": None, "n2": BIND_CONFLICT, "n3": None}


def test_selected_node_annotation_pins_the_claim():
    env = wffc_env(provisioner="csi.example.com")
    env.create(pvc("data", storage_class="local",
                   annotations={"volume.kubernetes.io/selected-node": "n3"}))
    out = env.filter_all("VolumeBinding", env.pod_info(with_claim()))
    assert out == {"n1": BIND_CONFLICT, "n2": BIND_CONFLICT, "n3": None}


# -- Reserve, PreBind: writes, waiting, timeout ----------------------------------------------

def test_static_binding_writes_the_claim_ref_and_waits_for_the_pv_controller():
    env = wffc_env()
    env.create_pv(pv("vol", storage_class="local", hostname="n2"))
    env.create(pvc("data", storage_class="local"))
    env.create(with_claim())
    env.run()
    vol = env.get("PersistentVolume", "vol", "")
    claim = env.get("PersistentVolumeClaim", "data")
    assert vol["spec"]["claimRef"]["name"] == "data"
    assert vol["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
    assert vol["spec"]["claimRef"]["kind"] == "PersistentVolumeClaim"
    assert vol["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    # The pod waits, assumed on n2, and is not bound yet.
    assert env.node_of("p") is None
    assert env.scheduler.cache.is_assumed(env.get("Pod", "p")["metadata"]["uid"])
    env.bind_claim("data", "vol")
    env.run()
    assert env.node_of("p") == "n2"
    assert [e["message"] for e in env.events("p", "Scheduled")] == [
        "Successfully assigned default/p to n2"]


def test_provisioning_annotates_the_claim_with_the_selected_node():
    env = wffc_env(provisioner="csi.example.com")
    env.create(pvc("data", storage_class="local"))
    env.create(pod("p", volumes=[claim_volume("data")],
                   nodeSelector={"topology.kubernetes.io/zone": "c"}))
    env.run()
    claim = env.get("PersistentVolumeClaim", "data")
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == "n3"
    # The provisioner creates the PV and the PV controller binds them.
    env.create_pv(pv("pvc-new", storage_class="local", hostname="n3"))
    env.bind_claim("data", "pvc-new")
    env.run()
    assert env.node_of("p") == "n3"


def test_binding_times_out_and_retries():
    env = Env([node("n1")], bind_timeout_seconds=30)
    env.create(storage_class("local", provisioner="csi.example.com"))
    env.create(pvc("data", storage_class="local"))
    env.create(with_claim())
    env.run()
    assert env.node_of("p") is None
    env.cluster.advance(29)
    assert not env.events("p", "FailedScheduling")
    env.cluster.advance(1)
    failed = env.events("p", "FailedScheduling")
    assert [e["message"] for e in failed] == [
        'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded']
    assert env.condition("p")["reason"] == "SchedulerError"
    assert not env.scheduler.cache.is_assumed(env.get("Pod", "p")["metadata"]["uid"])
    # After the backoff it is tried again (the claim still names n1) and can then bind.
    env.cluster.advance(2)
    env.create_pv(pv("pvc-x", storage_class="local"))
    env.bind_claim("data", "pvc-x")
    env.run()
    assert env.node_of("p") == "n1"


def test_reset_selected_node_fails_the_binding():
    env = wffc_env(provisioner="csi.example.com")
    env.create(pvc("data", storage_class="local"))
    env.create(pod("p", volumes=[claim_volume("data")], nodeName=None,
                   nodeSelector={"kubernetes.io/hostname": "n1"}))
    env.run()
    claim = env.get("PersistentVolumeClaim", "data")
    del claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]
    env.cluster.replace(claim)          # the provisioner gave up
    env.run()
    assert [e["message"] for e in env.events("p", "FailedScheduling")] == [
        'running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for '
        'PVC "data"']
