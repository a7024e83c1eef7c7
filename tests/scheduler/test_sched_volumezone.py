"""VolumeZone: bound volumes' zone labels against the nodes'."""

from __future__ import annotations

from schedtest import Env, claim_volume, node, pod, pv, pvc

REASON = "node(s) had no available volume zone"


def env_with_volume(pv_labels: dict) -> Env:
    env = Env([node("a1", zone="a", region="r1"), node("b1", zone="b", region="r1"),
               node("bare")])
    env.create_pv(pv("vol", storage_class="", labels=pv_labels))
    env.create(pvc("data", storage_class="", volume_name="vol",
                   annotations={"pv.kubernetes.io/bind-completed": "yes"}))
    return env


def test_zone_label_must_match_nodes_with_topology_labels():
    env = env_with_volume({"topology.kubernetes.io/zone": "a"})
    out = env.filter_all("VolumeZone", env.pod_info(pod("p", volumes=[claim_volume("data")])))
    assert out == {"a1": None, "b1": REASON, "bare": None}


def test_beta_label_matches_ga_node_label_and_multi_zone_values():
    env = env_with_volume({"failure-domain.beta.kubernetes.io/zone": "b__c"})
    out = env.filter_all("VolumeZone", env.pod_info(pod("p", volumes=[claim_volume("data")])))
    assert out == {"a1": REASON, "b1": None, "bare": None}


def test_region_label():
    env = env_with_volume({"topology.kubernetes.io/region": "r2"})
    out = env.filter_all("VolumeZone", env.pod_info(pod("p", volumes=[claim_volume("data")])))
    assert out == {"a1": REASON, "b1": REASON, "bare": None}


def test_volumes_without_zone_labels_and_unbound_wffc_claims_skip():
    env = env_with_volume({})
    _, _, status = env.pre_filter("VolumeZone",
                                  env.pod_info(pod("p", volumes=[claim_volume("data")])))
    assert status.is_skip()
    env.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": "wffc"}, "provisioner": "x",
                "volumeBindingMode": "WaitForFirstConsumer"})
    env.create(pvc("later", storage_class="wffc"))
    _, _, status = env.pre_filter("VolumeZone",
                                  env.pod_info(pod("p", volumes=[claim_volume("later")])))
    assert status.is_skip()


def test_end_to_end_zone_conflict():
    env = env_with_volume({"topology.kubernetes.io/zone": "c"})
    env.create(pod("p", volumes=[claim_volume("data")]))
    env.run()
    assert env.node_of("p") == "bare"
