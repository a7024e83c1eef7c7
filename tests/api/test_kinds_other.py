"""EndpointSlice, Lease, PodDisruptionBudget and the Eviction / Binding / Scale bodies
(fakekube.api.kinds.other). Expected texts are upstream v1.31's."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakekube.api.kinds import other
from fakekube.api.kinds.other import STRATEGIES

GATES: dict[str, bool] = {}


def messages(errs):
    return [e.message() for e in errs]


def slice_(**kw):
    obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": "nginx-abcde", "namespace": "default", "resourceVersion": "4",
                        "labels": {"kubernetes.io/service-name": "nginx"}, "generation": 1},
           "addressType": "IPv4",
           "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": True},
                          "hostname": "web-0", "nodeName": "n1", "zone": "a"}],
           "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}
    obj.update(kw)
    STRATEGIES["EndpointSlice"].default(obj)
    return obj


def lease(**spec):
    obj = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "n1", "namespace": "kube-node-lease", "resourceVersion": "9"},
           "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40}}
    obj["spec"].update(spec)
    return obj


def pdb(**spec):
    obj = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": "web-pdb", "namespace": "default", "resourceVersion": "3",
                        "generation": 1},
           "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "nginx"}}}}
    obj["spec"].update(spec)
    return obj


# --------------------------------------------------------------------------------------------
# EndpointSlice


def test_endpoint_slice_port_defaults():
    obj = slice_(ports=[{"port": 80}])
    assert obj["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]


def test_valid_endpoint_slice():
    assert other.validate_endpoint_slice(slice_(), GATES) == []


def test_endpoint_slice_address_type():
    obj = slice_()
    del obj["addressType"]
    assert messages(other.validate_endpoint_slice(obj, GATES)) == ["addressType: Required value"]
    assert messages(other.validate_endpoint_slice(slice_(addressType="IP"), GATES)) == [
        'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']


def test_endpoint_slice_addresses():
    obj = slice_(endpoints=[{"addresses": []},
                            {"addresses": ["10.0.0.300", "127.0.0.1", "::1"]}])
    assert messages(other.validate_endpoint_slice(obj, GATES)) == [
        "endpoints[0].addresses: Required value: must contain at least 1 address",
        'endpoints[1].addresses[0]: Invalid value: "10.0.0.300": must be a valid IPv4 address',
        'endpoints[1].addresses[0]: Invalid value: "10.0.0.300": must be a valid IP address',
        'endpoints[1].addresses[1]: Invalid value: "127.0.0.1": may not be in the loopback range '
        "(127.0.0.0/8, ::1/128)",
        'endpoints[1].addresses[2]: Invalid value: "::1": must be a valid IPv4 address',
        'endpoints[1].addresses[2]: Invalid value: "::1": may not be in the loopback range '
        "(127.0.0.0/8, ::1/128)",
    ]


def test_endpoint_slice_special_ips():
    obj = slice_(endpoints=[{"addresses": ["0.0.0.0", "169.254.1.1", "224.0.0.5"]}])
    assert [e.detail for e in other.validate_endpoint_slice(obj, GATES)] == [
        "may not be unspecified (0.0.0.0)",
        "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
    ]


def test_endpoint_slice_special_ipv6():
    obj = slice_(addressType="IPv6", endpoints=[{"addresses": ["::", "fe80::1", "ff02::2"]}])
    assert [e.detail for e in other.validate_endpoint_slice(obj, GATES)] == [
        "may not be unspecified (::)",
        "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
    ]


def test_endpoint_slice_ipv4_with_leading_zeros_is_accepted_like_parse_ip_sloppy():
    assert other.validate_endpoint_slice(slice_(endpoints=[{"addresses": ["010.001.2.3"]}]),
                                         GATES) == []


def test_endpoint_slice_ipv6_and_fqdn():
    assert other.validate_endpoint_slice(
        slice_(addressType="IPv6", endpoints=[{"addresses": ["fd00::5"]}]), GATES) == []
    errs = other.validate_endpoint_slice(
        slice_(addressType="FQDN", endpoints=[{"addresses": ["localhost"]}]), GATES)
    assert messages(errs) == ['endpoints[0].addresses[0]: Invalid value: "localhost": should be a '
                              "domain with at least two segments separated by dots"]


def test_endpoint_slice_too_many_endpoints():
    obj = slice_(endpoints=[{"addresses": ["10.0.0.1"]}] * 1001)
    assert messages(other.validate_endpoint_slice(obj, GATES)) == [
        "endpoints: Too many: 1001: must have at most 1000 items"]


def test_endpoint_slice_ports():
    obj = slice_(ports=[{"name": "Web", "protocol": "HTTP"}, {"name": "Web", "appProtocol": "a b"}])
    assert messages(other.validate_endpoint_slice(obj, GATES)) == [
        'ports[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower '
        "case alphanumeric characters or '-', and must start and end with an alphanumeric "
        "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        'ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'ports[1].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower '
        "case alphanumeric characters or '-', and must start and end with an alphanumeric "
        "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        'ports[1].name: Duplicate value: "Web"',
        "ports[1].appProtocol: Invalid value: \"a b\": name part must consist of alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]


def test_endpoint_slice_hostname_node_and_hints():
    obj = slice_(endpoints=[{"addresses": ["10.0.0.1"], "hostname": "web.0", "nodeName": "N1",
                             "hints": {"forZones": [{"name": "a"}, {"name": "a"}]}}])
    assert [(e.field, e.reason) for e in other.validate_endpoint_slice(obj, GATES)] == [
        ("endpoints[0].nodeName", "FieldValueInvalid"),
        ("endpoints[0].hostname", "FieldValueInvalid"),
        ("endpoints[0].hints.forZones[1].name", "FieldValueDuplicate"),
    ]


def test_endpoint_slice_address_type_immutable():
    old = slice_()
    new = copy.deepcopy(old)
    new["addressType"] = "IPv6"
    new["endpoints"] = [{"addresses": ["fd00::1"]}]
    assert messages(other.validate_endpoint_slice_update(new, old, GATES)) == [
        'addressType: Invalid value: "IPv6": field is immutable']


def test_endpoint_slice_v1_update_keeps_topology_of_unchanged_endpoints():
    old = slice_(endpoints=[{"addresses": ["10.0.0.1"],
                             "deprecatedTopology": {"kubernetes.io/hostname": "n1"}}])
    same = copy.deepcopy(old)
    same["metadata"]["labels"]["x"] = "y"
    STRATEGIES["EndpointSlice"].prepare_for_update(same, old, GATES)
    assert same["endpoints"] == old["endpoints"]
    moved = copy.deepcopy(old)
    moved["endpoints"][0]["addresses"] = ["10.0.0.2"]
    STRATEGIES["EndpointSlice"].prepare_for_update(moved, old, GATES)
    assert moved["endpoints"] == [{"addresses": ["10.0.0.2"], "nodeName": "n1"}]


def test_endpoint_slice_v1_drops_deprecated_topology():
    obj = slice_(endpoints=[{"addresses": ["10.0.0.1"],
                             "deprecatedTopology": {"kubernetes.io/hostname": "n1"}}])
    STRATEGIES["EndpointSlice"].prepare_for_create(obj, GATES)
    assert obj["endpoints"] == [{"addresses": ["10.0.0.1"]}]


# --------------------------------------------------------------------------------------------
# Lease


def test_valid_lease():
    assert other.validate_lease(lease(), GATES) == []


def test_lease_rules():
    assert messages(other.validate_lease(lease(leaseDurationSeconds=0, leaseTransitions=-1),
                                         GATES)) == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_lease_strategy_fields_dropped_without_gate_and_validated_with_it():
    obj = lease(strategy="Newest", preferredHolder="x")
    STRATEGIES["Lease"].prepare_for_create(obj, GATES)
    assert "strategy" not in obj["spec"] and "preferredHolder" not in obj["spec"]
    obj = lease(strategy="Newest", preferredHolder="x")
    gates = {"CoordinatedLeaderElection": True}
    STRATEGIES["Lease"].prepare_for_create(obj, gates)
    assert messages(other.validate_lease(obj, gates)) == [
        'spec.strategy.strategy: Unsupported value: "Newest": supported values: '
        '"OldestEmulationVersion"']
    assert messages(other.validate_lease(lease(preferredHolder="x"), gates)) == [
        "spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"]


def test_lease_update_validates_spec_and_meta():
    old = lease()
    new = copy.deepcopy(old)
    new["spec"]["leaseDurationSeconds"] = -1
    new["metadata"]["name"] = "other"
    assert [e.field for e in other.validate_lease_update(new, old, GATES)] == [
        "metadata.name", "spec.leaseDurationSeconds"]


# --------------------------------------------------------------------------------------------
# PodDisruptionBudget


def test_valid_pdb():
    assert other.validate_pod_disruption_budget(pdb(), GATES) == []
    assert other.validate_pod_disruption_budget(pdb(minAvailable="50%"), GATES) == []


def test_pdb_min_and_max_exclusive():
    errs = other.validate_pod_disruption_budget(pdb(maxUnavailable=1), GATES)
    assert [(e.reason, e.field, e.detail) for e in errs] == [
        ("FieldValueInvalid", "spec", "minAvailable and maxUnavailable cannot be both set")]


def test_pdb_int_or_percent():
    assert messages(other.validate_pod_disruption_budget(pdb(minAvailable="120%"), GATES)) == [
        'spec.minAvailable: Invalid value: "120%": must not be greater than 100%']
    obj = pdb()
    del obj["spec"]["minAvailable"]
    obj["spec"]["maxUnavailable"] = -1
    assert messages(other.validate_pod_disruption_budget(obj, GATES)) == [
        "spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"]


def test_pdb_selector_and_policy():
    obj = pdb(selector={"matchLabels": {"app": "bad value"}}, unhealthyPodEvictionPolicy="Never")
    errs = other.validate_pod_disruption_budget(obj, GATES)
    assert [e.field for e in errs] == ["spec.selector.matchLabels", "spec.unhealthyPodEvictionPolicy"]
    assert errs[1].body() == ('Unsupported value: "Never": supported values: "AlwaysAllow", '
                              '"IfHealthyBudget"')


def test_pdb_name_only_needs_to_be_a_path_segment():
    obj = pdb()
    obj["metadata"]["name"] = "Web_PDB"
    assert other.validate_pod_disruption_budget(obj, GATES) == []
    obj["metadata"]["name"] = "a/b"
    assert messages(other.validate_pod_disruption_budget(obj, GATES)) == [
        "metadata.name: Invalid value: \"a/b\": may not contain '/'"]


def test_pdb_spec_updates_allowed():
    old = pdb()
    new = copy.deepcopy(old)
    new["spec"]["minAvailable"] = 3
    new["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    assert other.validate_pod_disruption_budget_update(new, old, GATES) == []


def test_pdb_update_keeps_allowing_invalid_selector_values():
    old = pdb(selector={"matchExpressions": [{"key": "app", "operator": "In",
                                              "values": ["bad value"]}]})
    new = copy.deepcopy(old)
    new["spec"]["minAvailable"] = 1
    assert other.validate_pod_disruption_budget_update(new, old, GATES) == []
    assert other.validate_pod_disruption_budget(new, GATES) != []


def test_pdb_status_update():
    old = pdb()
    new = copy.deepcopy(old)
    new["status"] = {"disruptionsAllowed": -1, "currentHealthy": 1, "desiredHealthy": 2,
                     "expectedPods": 3,
                     "conditions": [{"type": "DisruptionAllowed", "status": "Maybe",
                                     "reason": "1bad"}]}
    assert messages(other.validate_pod_disruption_budget_status_update(new, old, GATES)) == [
        'status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", '
        '"True", "Unknown"',
        "status.conditions[0].lastTransitionTime: Required value: must be set",
        'status.conditions[0].reason: Invalid value: "1bad": a condition reason must start with '
        "alphabetic character, optionally followed by a string of alphanumeric characters or "
        "'_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or "
        "'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for "
        "validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')",
        "status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_pdb_duplicate_condition_types():
    cond = {"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods",
            "lastTransitionTime": "2024-01-01T00:00:00Z"}
    assert messages(other.validate_conditions([cond, cond], "status.conditions")) == [
        'status.conditions[1].type: Duplicate value: "DisruptionAllowed"']


# --------------------------------------------------------------------------------------------
# Subresource bodies


def test_binding():
    assert other.validate_binding({"target": {"kind": "Node", "name": "n1"}}) == []
    assert other.validate_binding({"target": {"name": "n1"}}) == []
    assert messages(other.validate_binding({"target": {"kind": "Pod"}})) == [
        'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"',
        "target.name: Required value",
    ]


def test_eviction_delete_options():
    assert other.validate_eviction({"metadata": {"name": "p"}}) == []
    body = {"metadata": {"name": "p"},
            "deleteOptions": {"orphanDependents": True, "propagationPolicy": "Sideways",
                              "dryRun": ["Some"]}}
    assert messages(other.validate_eviction(body)) == [
        'propagationPolicy: Invalid value: "Sideways": orphanDependents and deletionPropagation '
        "cannot be both set",
        'propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", '
        '"Background", "Orphan", "nil"',
        'dryRun: Unsupported value: []string{"Some"}: supported values: "All"',
    ]
    assert other.validate_eviction({"deleteOptions": {"dryRun": ["All"],
                                                      "gracePeriodSeconds": 0}}) == []


def test_scale():
    body = {"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 3}}
    assert other.validate_scale(body) == []
    body["spec"]["replicas"] = -1
    assert messages(other.validate_scale(body)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"]


@given(st.integers(-3, 3))
def test_scale_replicas_property(replicas):
    body = {"metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": replicas}}
    assert (other.validate_scale(body) == []) == (replicas >= 0)


@pytest.mark.parametrize("kind", ["EndpointSlice", "Lease", "PodDisruptionBudget"])
def test_strategies_table(kind):
    assert kind in STRATEGIES
