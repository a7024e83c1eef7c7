"""core/v1 kinds: defaulting, strategies and validation (fakekube.api.kinds.core).

Golden values follow upstream v1.31 (``pkg/apis/core/v1/defaults.go``,
``pkg/registry/core/*/strategy.go``, ``pkg/apis/core/validation/validation.go``).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, strategies as st

from fakekube.api.kinds.core import (POD_UPDATE_FORBIDDEN, STRATEGIES, compute_pod_qos,
                                     default_pod_spec, default_pod_template_spec,
                                     validate_pod_spec, validate_pod_template_spec)

GATES: dict = {}
POD, SVC = STRATEGIES["Pod"], STRATEGIES["Service"]


def msgs(errs):
    return [e.message() for e in errs]


def make_pod(**spec):
    body = {"containers": [{"name": "app", "image": "nginx:1.25"}]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "default"}, "spec": body}


def created(obj, strategy=POD):
    """What the create path does before validation: default, then prepare."""
    obj = copy.deepcopy(obj)
    if strategy.default:
        strategy.default(obj)
    if strategy.prepare_for_create:
        strategy.prepare_for_create(obj, GATES)
    return obj


def pod_errors(**spec):
    return msgs(POD.validate(created(make_pod(**spec)), GATES))


def stored_pod(**spec):
    pod = created(make_pod(**spec))
    pod["metadata"].update(uid="u1", resourceVersion="5",
                           creationTimestamp="2025-01-01T00:00:00Z")
    return pod


# --------------------------------------------------------------------------------------------
# Pod defaulting


def test_pod_defaults_golden():
    pod = created(make_pod(containers=[{
        "name": "app", "image": "nginx", "ports": [{"containerPort": 80}],
        "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": {"limits": {"cpu": "500m", "memory": "100u"}},
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"grpc": {"port": 9000}},
        "lifecycle": {"preStop": {"httpGet": {"port": 80}}},
    }], volumes=[{"name": "a"}, {"name": "b", "configMap": {"name": "cm"}},
                 {"name": "c", "secret": {"secretName": "s"}}, {"name": "d", "hostPath":
                                                                {"path": "/x"}},
                 {"name": "e", "projected": {"sources": [{"serviceAccountToken":
                                                          {"path": "token"}}]}},
                 {"name": "f", "downwardAPI": {"items": [
                     {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]))
    spec = pod["spec"]
    assert {k: spec[k] for k in ("dnsPolicy", "restartPolicy", "schedulerName",
                                 "terminationGracePeriodSeconds", "securityContext",
                                 "enableServiceLinks")} == {
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
        "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30,
        "securityContext": {}, "enableServiceLinks": True}
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "Always"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "metadata.name",
                                                    "apiVersion": "v1"}
    # requests default to limits (SetDefaults_Pod), resource lists round up to milli
    assert c["resources"] == {"limits": {"cpu": "500m", "memory": "1m"},
                              "requests": {"cpu": "500m", "memory": "1m"}}
    assert c["livenessProbe"] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                                  "timeoutSeconds": 1, "periodSeconds": 10,
                                  "successThreshold": 1, "failureThreshold": 3}
    assert c["readinessProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert c["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/", "scheme": "HTTP"}
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["a"] == {"name": "a", "emptyDir": {}}
    assert vols["b"]["configMap"]["defaultMode"] == 420
    assert vols["c"]["secret"]["defaultMode"] == 420
    assert vols["d"]["hostPath"] == {"path": "/x", "type": ""}
    assert vols["e"]["projected"] == {"sources": [{"serviceAccountToken": {
        "path": "token", "expirationSeconds": 3600}}], "defaultMode": 420}
    assert vols["f"]["downwardAPI"]["defaultMode"] == 420
    assert vols["f"]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("registry.example.com:5000/team/app", "Always"),
    ("registry.example.com:5000/team/app:v2", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"), ("Nginx", "IfNotPresent"),
    ("", "IfNotPresent"),
])
def test_image_pull_policy_default(image, policy):
    pod = created(make_pod(containers=[{"name": "app", "image": image}]))
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_explicit_values_are_kept():
    pod = created(make_pod(restartPolicy="Never", dnsPolicy="Default",
                           terminationGracePeriodSeconds=0, enableServiceLinks=False,
                           containers=[{"name": "app", "image": "nginx",
                                        "imagePullPolicy": "Never"}]))
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"],
            spec["enableServiceLinks"]) == ("Never", "Default", 0, False)
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


def test_host_network_pod_gets_host_ports():
    pod = created(make_pod(hostNetwork=True, containers=[
        {"name": "app", "image": "nginx", "ports": [{"containerPort": 8080}]}]))
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


def test_service_account_conversion():
    pod = created(make_pod(serviceAccount="builder"))
    assert pod["spec"]["serviceAccountName"] == "builder"
    assert pod["spec"]["serviceAccount"] == "builder"


def test_status_ip_conversion():
    pod = make_pod()
    pod["status"] = {"podIP": "10.244.1.5", "hostIPs": [{"ip": "192.168.0.2"}]}
    POD.default(pod)
    assert pod["status"]["podIPs"] == [{"ip": "10.244.1.5"}]
    assert pod["status"]["hostIP"] == "192.168.0.2"


def test_pod_template_defaults_are_the_spec_ones_only():
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "app", "image": "nginx", "resources": {"limits": {"cpu": "1"}}}]}}
    default_pod_template_spec(template)
    spec = template["spec"]
    assert "enableServiceLinks" not in spec  # SetDefaults_Pod only
    assert "requests" not in spec["containers"][0]["resources"]
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["containers"][0]["imagePullPolicy"] == "Always"
    spec2 = {"containers": []}
    default_pod_spec(spec2)
    assert spec2["restartPolicy"] == "Always"


# --------------------------------------------------------------------------------------------
# Pod strategy


def test_prepare_for_create_resets_status():
    pod = make_pod()
    pod["status"] = {"phase": "Running", "podIP": "1.2.3.4"}
    pod = created(pod)
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


@pytest.mark.parametrize("resources, qos", [
    ({}, "BestEffort"),
    ({"requests": {"cpu": "100m"}}, "Burstable"),
    ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
    ({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
     "Guaranteed"),
    ({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
     "Burstable"),
    ({"limits": {"cpu": "1"}}, "Burstable"),
    ({"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "1"}}, "BestEffort"),
])
def test_qos_class(resources, qos):
    pod = created(make_pod(containers=[{"name": "app", "image": "nginx",
                                        "resources": resources}]))
    assert pod["status"]["qosClass"] == qos
    assert compute_pod_qos(pod) == qos


def test_qos_counts_every_container():
    pod = created(make_pod(containers=[
        {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
        {"name": "b", "image": "x"}]))
    assert pod["status"]["qosClass"] == "Burstable"


def test_scheduling_gates_condition():
    pod = created(make_pod(schedulingGates=[{"name": "example.com/wait"}]))
    assert pod["status"]["conditions"] == [{
        "type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
        "message": "Scheduling is blocked due to non-empty scheduling gates"}]


def test_match_label_keys_are_merged_into_the_affinity_selector():
    pod = make_pod(affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname",
         "matchLabelKeys": ["pod-template-hash"]}]}})
    pod["metadata"]["labels"] = {"app": "web", "pod-template-hash": "abc"}
    pod = created(pod)
    term = pod["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["labelSelector"]["matchExpressions"] == [
        {"key": "pod-template-hash", "operator": "In", "values": ["abc"]}]
    assert POD.validate(pod, GATES) == []


def test_disabled_gate_fields_are_dropped():
    pod = created(make_pod(containers=[{"name": "app", "image": "x", "resizePolicy": [
        {"resourceName": "cpu", "restartPolicy": "NotRequired"}]}]))
    assert "resizePolicy" not in pod["spec"]["containers"][0]


# --------------------------------------------------------------------------------------------
# Pod validation


def test_typical_pod_is_valid():
    assert pod_errors(containers=[{
        "name": "app", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}],
        "env": [{"name": "MODE", "value": "x"}],
        "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
        volumes=[{"name": "data", "emptyDir": {}}]) == []


def test_containers_required():
    assert pod_errors(containers=[]) == ["spec.containers: Required value"]


def test_container_name_and_image():
    assert pod_errors(containers=[{"name": "app", "image": "x"}, {"name": "app", "image": ""}]) \
        == ["spec.containers[1].image: Required value",
            'spec.containers[1].name: Duplicate value: "app"']
    errs = pod_errors(containers=[{"name": "App_1", "image": "x"}])
    assert errs[0].startswith('spec.containers[0].name: Invalid value: "App_1": a lowercase '
                              "RFC 1123 label must consist of")


def test_image_whitespace():
    assert pod_errors(containers=[{"name": "app", "image": " nginx"}]) == [
        'spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing '
        'whitespace']


def test_container_ports():
    assert pod_errors(containers=[{"name": "app", "image": "x", "ports": [
        {"containerPort": 70000}, {"containerPort": 80, "protocol": "HTTP"},
        {"containerPort": 81, "name": "web"}, {"containerPort": 82, "name": "web"},
        {"containerPort": 0}]}]) == [
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
        "65535, inclusive",
        'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: '
        '"SCTP", "TCP", "UDP"',
        'spec.containers[0].ports[3].name: Duplicate value: "web"',
        "spec.containers[0].ports[4].containerPort: Required value",
    ]


def test_host_port_conflicts():
    errs = pod_errors(containers=[
        {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
        {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8080}]}])
    assert errs == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']


def test_env_var_names():
    errs = pod_errors(containers=[{"name": "app", "image": "x", "env": [
        {"name": "1BAD"}, {"name": ""},
        {"name": "OK", "value": "v", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}])
    assert errs[0] == (
        'spec.containers[0].env[0].name: Invalid value: "1BAD": a valid environment variable '
        "name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start "
        "with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
        "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')")
    assert errs[1:] == ["spec.containers[0].env[1].name: Required value",
                        'spec.containers[0].env[2].valueFrom: Invalid value: "": may not be '
                        "specified when `value` is not empty"]


def test_env_field_ref():
    errs = pod_errors(containers=[{"name": "app", "image": "x", "env": [
        {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}},
        {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels"}}}]}])
    assert errs == [
        'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.bogus": '
        "error converting fieldPath: field label not supported: spec.bogus",
        'spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Unsupported value: '
        '"metadata.labels": supported values: "metadata.name", "metadata.namespace", '
        '"metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
        '"status.hostIPs", "status.podIP", "status.podIPs"']


def test_volumes():
    errs = pod_errors(volumes=[{"name": "a", "emptyDir": {}, "hostPath": {"path": "/x"}},
                               {"name": "b", "emptyDir": {}}, {"name": "b", "emptyDir": {}},
                               {"name": "c", "configMap": {}},
                               {"name": "d", "persistentVolumeClaim": {}}])
    assert errs == [
        "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
        'spec.volumes[2].name: Duplicate value: "b"',
        "spec.volumes[3].configMap.name: Required value",
        "spec.volumes[4].persistentVolumeClaim.claimName: Required value",
    ]


def test_volume_mounts_reference_volumes():
    errs = pod_errors(containers=[{"name": "app", "image": "x", "volumeMounts": [
        {"name": "missing", "mountPath": "/a"}, {"name": "data", "mountPath": "/a"},
        {"name": "data", "mountPath": "/b", "subPath": "../x"}]}],
        volumes=[{"name": "data", "emptyDir": {}}])
    assert errs == [
        'spec.containers[0].volumeMounts[0].name: Not found: "missing"',
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique',
        "spec.containers[0].volumeMounts.subPath: Invalid value: \"../x\": must not contain '..'",
    ]


def test_resources():
    errs = pod_errors(containers=[{"name": "app", "image": "x", "resources": {
        "requests": {"cpu": "2", "memory": "-1"}, "limits": {"cpu": "1", "foo": "1"}}}])
    assert errs == [
        'spec.containers[0].resources.limits[foo]: Invalid value: "foo": must be a standard '
        "resource type or fully qualified",
        'spec.containers[0].resources.limits[foo]: Invalid value: "foo": must be a standard '
        "resource for containers",
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal '
        "to cpu limit of 1",
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater '
        "than or equal to 0",
        # SetDefaults_Pod copied the limit into the requests
        'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard '
        "resource type or fully qualified",
        'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard '
        "resource for containers",
    ]


def test_extended_resources_must_be_integers_and_not_overcommitted():
    errs = pod_errors(containers=[{"name": "app", "image": "x", "resources": {
        "requests": {"example.com/gpu": "500m"}, "limits": {"example.com/gpu": "1"}}}])
    assert errs == [
        'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "500m": must be '
        "an integer",
        'spec.containers[0].resources.requests: Invalid value: "500m": must be equal to '
        "example.com/gpu limit of 1"]


def test_restart_and_dns_policy_values():
    pod = created(make_pod())
    pod["spec"]["restartPolicy"] = "Sometimes"
    pod["spec"]["dnsPolicy"] = "Bogus"
    assert msgs(POD.validate(pod, GATES)) == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Bogus": supported values: '
        '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"']


def test_probes():
    errs = pod_errors(containers=[{"name": "app", "image": "x",
                                   "livenessProbe": {"successThreshold": 2},
                                   "readinessProbe": {"exec": {"command": ["true"]},
                                                      "tcpSocket": {"port": 80},
                                                      "terminationGracePeriodSeconds": 5}}])
    assert errs == [
        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 "
        "handler type",
        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must "
        "not be set for readinessProbes"]


def test_tolerations():
    errs = pod_errors(tolerations=[
        {"key": "k", "operator": "Exists", "value": "v"},
        {"operator": "Equal", "value": "v"},
        {"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5},
        {"key": "k", "operator": "Maybe"},
        {"key": "k", "operator": "Exists", "effect": "Sometimes"}])
    assert errs == [
        'spec.tolerations[0].operator: Invalid value: "v": value must be empty when `operator` '
        "is 'Exists'",
        'spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` '
        'is empty, which means "match all values and all keys"',
        'spec.tolerations[2].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' '
        "when `tolerationSeconds` is set",
        'spec.tolerations[3].operator: Unsupported value: "Maybe": supported values: "Equal", '
        '"Exists"',
        'spec.tolerations[4].effect: Unsupported value: "Sometimes": supported values: '
        '"NoSchedule", "PreferNoSchedule", "NoExecute"']


def test_node_selector_hostname_and_deadlines():
    errs = pod_errors(nodeSelector={"disk": "ssd!"}, hostname="Web", subdomain="a.b",
                      activeDeadlineSeconds=0)
    assert [e.split(":")[0] for e in errs] == [
        "spec.nodeSelector", "spec.activeDeadlineSeconds", "spec.hostname", "spec.subdomain"]
    assert errs[1] == ("spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and "
                       "2147483647, inclusive")
    assert errs[3] == 'spec.subdomain: Invalid value: "a.b": must not contain dots'


def test_affinity():
    errs = pod_errors(affinity={
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "Near"}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 0, "preference": {}}]},
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "db"}}}]}})
    assert errs == [
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        '.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: "Near": not a valid '
        "selector operator",
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
        "Invalid value: 0: must be in the range 1-100",
        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
        ".topologyKey: Required value: can not be empty",
        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
        '.topologyKey: Invalid value: "": name part must be non-empty',
        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
        ".topologyKey: Invalid value: \"\": name part must consist of alphanumeric characters, "
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
        "or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]


def test_topology_spread_constraints():
    errs = pod_errors(topologySpreadConstraints=[
        {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
         "minDomains": 2},
        {"maxSkew": 1, "topologyKey": "", "whenUnsatisfiable": "Maybe"}])
    assert errs == [
        "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
        'spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: '
        '"{zone, DoNotSchedule}"',
        "spec.topologySpreadConstraints[2].topologyKey: Required value: can not be empty",
        'spec.topologySpreadConstraints[2].whenUnsatisfiable: Unsupported value: "Maybe": '
        'supported values: "DoNotSchedule", "ScheduleAnyway"']


def test_ephemeral_containers_cannot_be_set_on_create():
    errs = pod_errors(ephemeralContainers=[{"name": "debug", "image": "busybox"}])
    assert errs == ["spec.ephemeralContainers: Forbidden: cannot be set on create"]


def test_node_name_with_scheduling_gates():
    errs = pod_errors(nodeName="node-1", schedulingGates=[{"name": "example.com/g"}])
    assert errs == ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have "
                    "been cleared"]


def test_pod_deletion_cost_annotation():
    pod = make_pod()
    pod["metadata"]["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": "+10"}
    assert msgs(POD.validate(created(pod), GATES)) == [
        "metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "
        '"+10": must be a 32bit integer']


def test_validate_pod_spec_and_template_paths():
    spec = {"containers": [{"name": "app", "image": ""}]}
    default_pod_spec(spec)
    assert msgs(validate_pod_spec(spec, "spec.template.spec", GATES)) == [
        "spec.template.spec.containers[0].image: Required value"]
    template = {"metadata": {"labels": {"bad key": "x"}},
                "spec": {"containers": [{"name": "app", "image": "x"}],
                         "ephemeralContainers": [{"name": "d", "image": "x"}]}}
    default_pod_template_spec(template)
    errs = validate_pod_template_spec(template, "spec.template", GATES)
    assert [e.field for e in errs] == ["spec.template.labels",
                                       "spec.template.spec.ephemeralContainers"]
    assert errs[-1].detail == "ephemeral containers not allowed in pod template"


# --------------------------------------------------------------------------------------------
# Pod updates


def updated(old, mutate):
    new = copy.deepcopy(old)
    mutate(new)
    POD.default(new)
    new["status"] = copy.deepcopy(old["status"])
    POD.prepare_for_update(new, old, GATES)
    return msgs(POD.validate_update(new, old, GATES))


def test_pod_image_update_is_allowed():
    old = stored_pod()
    assert updated(old, lambda p: p["spec"]["containers"][0].update(image="nginx:1.26")) == []


def test_pod_label_update_is_allowed():
    old = stored_pod()
    assert updated(old, lambda p: p["metadata"].setdefault("labels", {}).update(a="b")) == []


def test_pod_spec_update_is_forbidden():
    old = stored_pod()
    errs = updated(old, lambda p: p["spec"].update(restartPolicy="Never"))
    assert len(errs) == 1
    assert errs[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than "
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        "`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)\n")
    assert POD_UPDATE_FORBIDDEN in errs[0]
    assert 'spec.restartPolicy: "Always"' in errs[0] and 'spec.restartPolicy: "Never"' in errs[0]


def test_pod_containers_may_not_be_added():
    old = stored_pod()
    errs = updated(old, lambda p: p["spec"]["containers"].append({"name": "b", "image": "x"}))
    assert errs == ["spec.containers: Forbidden: pod updates may not add or remove containers"]


def test_pod_tolerations_only_additions():
    old = stored_pod(tolerations=[{"key": "a", "operator": "Exists", "effect": "NoExecute",
                                   "tolerationSeconds": 10}])
    assert updated(old, lambda p: p["spec"]["tolerations"].append(
        {"key": "b", "operator": "Exists"})) == []
    assert updated(old, lambda p: p["spec"]["tolerations"][0].update(tolerationSeconds=5)) == []
    assert updated(old, lambda p: p["spec"]["tolerations"][0].update(key="c")) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its "
        "tolerationSeconds"]


def test_pod_active_deadline_update():
    old = stored_pod(activeDeadlineSeconds=100)
    assert updated(old, lambda p: p["spec"].update(activeDeadlineSeconds=50)) == []
    assert updated(old, lambda p: p["spec"].update(activeDeadlineSeconds=200)) == [
        "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous "
        "value"]
    assert updated(old, lambda p: p["spec"].pop("activeDeadlineSeconds")) == [
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive "
        "integer to nil value"]


def test_pod_scheduling_gates_only_removed():
    old = stored_pod(schedulingGates=[{"name": "example.com/a"}])
    assert updated(old, lambda p: p["spec"].pop("schedulingGates")) == []
    assert updated(old, lambda p: p["spec"]["schedulingGates"].append(
        {"name": "example.com/b"})) == [
        "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'example.com/b'"]
    # a gated pod may gain node selector entries
    assert updated(old, lambda p: p["spec"].update(nodeSelector={"zone": "a"})) == []


def test_pod_status_update():
    old = stored_pod(restartPolicy="Never")
    old["status"]["containerStatuses"] = [{"name": "app", "state": {"terminated": {
        "exitCode": 0}}}]
    new = copy.deepcopy(old)
    new["status"] = {"phase": "Running", "containerStatuses": [
        {"name": "app", "state": {"running": {}}}], "podIPs": [{"ip": "bad"}]}
    errs = msgs(POD.validate_status_update(new, old, GATES))
    assert new["status"]["qosClass"] == "BestEffort"  # backfilled from the stored pod
    assert errs == [
        "status.containerStatuses[0].state: Forbidden: may not be transitioned to "
        "non-terminated state",
        'status.podIPs[0]: Invalid value: "bad": must be a valid IP address, (e.g. 10.9.8.7 or '
        '2001:db8::ffff)']
    new = copy.deepcopy(old)
    new["status"]["qosClass"] = "Guaranteed"
    assert msgs(POD.validate_status_update(new, old, GATES)) == [
        'status.qosClass: Invalid value: "Guaranteed": field is immutable']


# --------------------------------------------------------------------------------------------
# Service


def make_svc(**spec):
    body = {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"}, "spec": body}


def svc_errors(**spec):
    return msgs(SVC.validate(created(make_svc(**spec), SVC), GATES))


def test_service_defaults_golden():
    svc = created(make_svc(), SVC)
    assert svc["spec"] == {"selector": {"app": "web"},
                           "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                           "sessionAffinity": "None", "type": "ClusterIP",
                           "internalTrafficPolicy": "Cluster"}
    assert svc["status"] == {}
    lb = created(make_svc(type="LoadBalancer", sessionAffinity="ClientIP",
                          ports=[{"port": 443, "targetPort": "https"}]), SVC)
    assert lb["spec"]["externalTrafficPolicy"] == "Cluster"
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True
    assert lb["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert lb["spec"]["ports"][0]["targetPort"] == "https"


def test_cluster_ip_normalized_on_create():
    svc = created(make_svc(clusterIP="None"), SVC)
    assert svc["spec"]["clusterIPs"] == ["None"]
    assert SVC.validate(svc, GATES) == []


def test_service_validation():
    assert svc_errors() == []
    assert svc_errors(ports=[]) == ["spec.ports: Required value"]
    assert svc_errors(ports=[{"port": 80}, {"port": 81, "name": "b"}]) == [
        "spec.ports[0].name: Required value"]
    assert svc_errors(ports=[{"port": 0, "protocol": "ICMP"}]) == [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", '
        '"UDP"',
        "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive"]
    assert svc_errors(type="Magic") == [
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"']
    assert svc_errors(ports=[{"port": 80, "nodePort": 30080}]) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    assert svc_errors(type="ExternalName", ports=[]) == ["spec.externalName: Required value"]
    assert svc_errors(sessionAffinity="Sticky") == [
        'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", '
        '"None"']
    assert svc_errors(clusterIP="10.96.0.300") == [
        'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. '
        '10.9.8.7 or 2001:db8::ffff)']


def test_service_name_is_a_dns1035_label():
    svc = make_svc()
    svc["metadata"]["name"] = "1web"
    errs = msgs(SVC.validate(created(svc, SVC), GATES))
    assert errs[0].startswith('metadata.name: Invalid value: "1web": a DNS-1035 label must')


def stored_svc(**spec):
    svc = created(make_svc(**spec), SVC)
    svc["spec"].update(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"], ipFamilies=["IPv4"],
                       ipFamilyPolicy="SingleStack")
    svc["metadata"].update(uid="u1", resourceVersion="3",
                           creationTimestamp="2025-01-01T00:00:00Z")
    return svc


def svc_update(old, mutate):
    new = copy.deepcopy(old)
    mutate(new)
    SVC.default(new)
    new["status"] = copy.deepcopy(old.get("status", {}))
    SVC.prepare_for_update(new, old, GATES)
    return new, msgs(SVC.validate_update(new, old, GATES))


def test_service_update_keeps_allocated_cluster_ip():
    old = stored_svc()
    new, errs = svc_update(old, lambda s: [s["spec"].pop("clusterIP"),
                                           s["spec"].pop("clusterIPs")])
    assert errs == []
    assert new["spec"]["clusterIPs"] == ["10.96.0.10"]


def test_service_cluster_ip_may_not_change():
    old = stored_svc()
    _, errs = svc_update(old, lambda s: s["spec"].update(clusterIP="10.96.0.11"))
    assert errs == ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change '
                    'once set']


def test_service_type_change_to_external_name_drops_cluster_ips():
    old = stored_svc()
    new, errs = svc_update(old, lambda s: s["spec"].update(type="ExternalName", ports=[],
                                                           externalName="db.example.com"))
    assert errs == []
    assert "clusterIP" not in new["spec"] and "ipFamilies" not in new["spec"]


def test_service_status_update():
    old = stored_svc()
    new = copy.deepcopy(old)
    new["status"] = {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}
    assert msgs(SVC.validate_status_update(new, old, GATES)) == [
        "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is "
        "'LoadBalancer'"]


# --------------------------------------------------------------------------------------------
# Namespace, Node


NS = STRATEGIES["Namespace"]


def test_namespace_create():
    ns = created({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}, NS)
    assert ns["status"] == {"phase": "Active"}
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert NS.validate(ns, GATES) == []
    bad = created({"metadata": {"name": "team.a"}}, NS)
    assert msgs(NS.validate(bad, GATES)) == [
        'metadata.name: Invalid value: "team.a": must not contain dots']


def test_namespace_update_keeps_spec_finalizers_and_status_rules():
    old = created({"metadata": {"name": "a"}}, NS)
    old["metadata"].update(uid="u", resourceVersion="1", creationTimestamp="2025-01-01T00:00:00Z")
    new = copy.deepcopy(old)
    new["spec"]["finalizers"] = []
    NS.prepare_for_update(new, old, GATES)
    assert new["spec"]["finalizers"] == ["kubernetes"]
    new["status"]["phase"] = "Terminating"
    assert msgs(NS.validate_status_update(new, old, GATES)) == [
        'status.Phase: Invalid value: "Terminating": may only be \'Active\' if '
        '`deletionTimestamp` is empty']


NODE = STRATEGIES["Node"]


def test_node_defaults_and_validation():
    node = created({"metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.244.1.0/24"},
                    "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}, NODE)
    assert node["spec"]["podCIDRs"] == ["10.244.1.0/24"]
    assert node["status"]["allocatable"] == node["status"]["capacity"]  # status kept on create
    assert NODE.validate(node, GATES) == []
    node["spec"]["taints"] = [{"key": "a", "effect": "Sometimes"}, {"key": "b"}]
    node["spec"]["podCIDRs"] = ["10.244.1.0/33"]
    assert msgs(NODE.validate(node, GATES)) == [
        'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: '
        '"NoSchedule", "PreferNoSchedule", "NoExecute"',
        "metadata.taints[1].effect: Required value",
        'spec.podCIDRs[0]: Invalid value: "10.244.1.0/33": must be a valid CIDR value, (e.g. '
        '10.9.8.0/24 or 2001:db8::/64)']


def test_node_pod_cidr_immutable():
    old = created({"metadata": {"name": "n"}, "spec": {"podCIDR": "10.244.1.0/24"}}, NODE)
    old["metadata"].update(uid="u", resourceVersion="1", creationTimestamp="2025-01-01T00:00:00Z")
    new = copy.deepcopy(old)
    new["spec"]["podCIDR"] = "10.244.2.0/24"
    new["spec"]["podCIDRs"] = ["10.244.2.0/24"]
    assert msgs(NODE.validate_update(new, old, GATES)) == [
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']


# --------------------------------------------------------------------------------------------
# ConfigMap, Secret, Endpoints, Event, ServiceAccount

CM, SECRET = STRATEGIES["ConfigMap"], STRATEGIES["Secret"]


def with_meta(body, **meta):
    m = {"name": "x", "namespace": "default"}
    m.update(meta)
    body["metadata"] = m
    return body


def test_config_map_keys_and_size():
    cm = with_meta({"data": {"ok.key": "v", "bad key": "v", "dup": "v"},
                    "binaryData": {"dup": "AA=="}})
    assert [(e.field, e.detail.split(" (")[0]) for e in CM.validate(cm, GATES)] == [
        ("data[bad key]", "a valid config key must consist of alphanumeric characters, '-', "
                          "'_' or '.'"),
        ("data[dup]", "duplicate of key present in binaryData")]
    big = with_meta({"data": {"a": "x" * (1024 * 1024 + 1)}})
    assert msgs(CM.validate(big, GATES)) == [": Too long: may not be more than 1048576 bytes"]


def test_immutable_config_map():
    old = with_meta({"data": {"a": "1"}, "immutable": True}, uid="u", resourceVersion="1",
                    creationTimestamp="2025-01-01T00:00:00Z")
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    new["immutable"] = False
    assert msgs(CM.validate_update(new, old, GATES)) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set"]


def test_secret_defaults_and_types():
    s = with_meta({"stringData": {"password": "hunter2"}})
    SECRET.default(s)
    assert s == with_meta({"type": "Opaque", "data": {"password": "aHVudGVyMg=="}})
    assert SECRET.validate(s, GATES) == []
    tls = with_meta({"type": "kubernetes.io/tls", "data": {"tls.crt": "AA=="}})
    assert msgs(SECRET.validate(tls, GATES)) == ["data[tls.key]: Required value"]
    docker = with_meta({"type": "kubernetes.io/dockerconfigjson",
                        "data": {".dockerconfigjson": "eHl6"}})  # "xyz"
    assert msgs(SECRET.validate(docker, GATES)) == [
        'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character '
        "'x' looking for beginning of value"]
    docker["data"][".dockerconfigjson"] = "WzFd"  # "[1]"
    assert SECRET.validate(docker, GATES)[0].detail == (
        "json: cannot unmarshal array into Go value of type map[string]interface {}")
    docker["data"] = {".dockerconfigjson": "e30="}  # "{}"
    assert SECRET.validate(docker, GATES) == []


def test_secret_type_is_immutable():
    old = with_meta({"type": "Opaque"}, uid="u", resourceVersion="1",
                    creationTimestamp="2025-01-01T00:00:00Z")
    new = copy.deepcopy(old)
    new["type"] = "kubernetes.io/tls"
    new["data"] = {"tls.crt": "", "tls.key": ""}
    assert msgs(SECRET.validate_update(new, old, GATES)) == [
        'type: Invalid value: "kubernetes.io/tls": field is immutable']


EP = STRATEGIES["Endpoints"]


def test_endpoints():
    ep = created(with_meta({"subsets": [
        {"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]},
        {"addresses": [{"ip": "10.244.1.4"}], "ports": [{"port": 80}]}]}), EP)
    assert EP.validate(ep, GATES) == []  # then repacked, as Canonicalize does
    assert ep["subsets"] == [{"addresses": [{"ip": "10.244.1.4"}, {"ip": "10.244.1.5"}],
                              "ports": [{"port": 80, "protocol": "TCP"}]}]
    bad = created(with_meta({"subsets": [{"addresses": [{"ip": "127.0.0.1"}]}, {}]}), EP)
    assert msgs(EP.validate(bad, GATES)) == [
        'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback '
        "range (127.0.0.0/8, ::1/128)",
        "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`"]
    assert len(bad["subsets"]) == 2  # not repacked: validation failed


def test_event_namespace_must_match():
    ev = with_meta({"involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"},
                    "reason": "Started"})
    assert msgs(STRATEGIES["Event"].validate(ev, GATES)) == [
        'involvedObject.namespace: Invalid value: "other": does not match event.namespace']
    ev["involvedObject"]["namespace"] = "default"
    assert STRATEGIES["Event"].validate(ev, GATES) == []


def test_service_account_secret_references_keep_only_the_name():
    sa = with_meta({"secrets": [{"name": "tok", "namespace": "default", "uid": "u"}]})
    STRATEGIES["ServiceAccount"].prepare_for_create(sa, GATES)
    assert sa["secrets"] == [{"name": "tok"}]
    assert STRATEGIES["ServiceAccount"].validate(sa, GATES) == []


# --------------------------------------------------------------------------------------------
# Properties


@given(st.lists(st.sampled_from(["100m", "1", "250m", "2", "1Gi", "512Mi", "0"]),
                min_size=0, max_size=4))
def test_defaulting_is_idempotent(values):
    resources = {"limits": dict(zip(["cpu", "memory"], values[:2])),
                 "requests": dict(zip(["cpu", "memory"], values[2:]))}
    pod = make_pod(containers=[{"name": "app", "image": "nginx", "resources": resources}])
    once = copy.deepcopy(pod)
    POD.default(once)
    twice = copy.deepcopy(once)
    POD.default(twice)
    assert once == twice


@given(st.sampled_from(["Always", "OnFailure", "Never"]),
       st.sampled_from(["ClusterFirst", "Default", "None", "ClusterFirstWithHostNet"]))
def test_valid_policies_never_error(restart, dns):
    spec = {"restartPolicy": restart, "dnsPolicy": dns}
    if dns == "None":
        spec["dnsConfig"] = {"nameservers": ["1.1.1.1"]}
    assert pod_errors(**spec) == []


def test_validate_node_selector():
    from fakekube.api.kinds.core import validate_node_selector

    assert msgs(validate_node_selector({}, "spec.nodeAffinity.required")) == [
        "spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one "
        "node selector term"]
    sel = {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": ["node-1", "node-2"]}]}]}
    assert msgs(validate_node_selector(sel, "x")) == [
        "x.nodeSelectorTerms[0].matchFields[0].values: Required value: must be only one value "
        "when `operator` is 'In' or 'NotIn' for node field selector"]


def test_shared_empty_error_list_is_never_mutated():
    from fakekube.api.kinds import core

    pod_errors(containers=[{"name": "App", "image": " x", "ports": [{"containerPort": 0}]}],
               hostname="Bad_Name", volumes=[{"name": "v", "hostPath": {"path": "../x"}}])
    assert core._NO_ERRORS == []


# --------------------------------------------------------------------------------------------
# Fast screens: every screened validator answers exactly what its full validator answers.
#
# The validators first run a cheap screen that only ever says "nothing to report"; anything
# else goes to the full validator. A pod is generated from a rich, valid base by a sequence of
# edits, each either a valid variant (so that the screen accepts it) or an invalid or
# unscreened one (so that the full validator decides), and the results are compared.

from hypothesis import HealthCheck, settings  # noqa: E402

from fakekube.api.kinds import core as core_mod  # noqa: E402
from fakekube.api.kinds import meta as meta_mod  # noqa: E402

SCREEN_SETTINGS = settings(derandomize=True, max_examples=400, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow])


def rich_pod():
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "generateName": "web-",
                     "labels": {"app": "web", "example.com/tier": "front", "empty": ""},
                     "annotations": {"example.com/owner": "team-a"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": "web-abc", "uid": "u-1",
                                          "controller": True}],
                     "finalizers": ["example.com/keep"]},
        "spec": {
            "containers": [
                {"name": "web", "image": "nginx:1.27",
                 "ports": [{"name": "http", "containerPort": 80},
                           {"containerPort": 443, "protocol": "TCP"}],
                 "env": [{"name": "MODE", "value": "prod"},
                         {"name": "POD", "valueFrom": {"fieldRef": {
                             "fieldPath": "metadata.name"}}},
                         {"name": "PASS", "valueFrom": {"secretKeyRef": {
                             "name": "creds", "key": "password"}}}],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                               "limits": {"cpu": "500m", "memory": "256Mi"}},
                 "volumeMounts": [{"name": "data", "mountPath": "/data"},
                                  {"name": "config", "mountPath": "/etc/web",
                                   "readOnly": True, "subPath": "conf"}],
                 "securityContext": {"runAsUser": 1000, "runAsNonRoot": True}},
                {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "1"]},
            ],
            "initContainers": [{"name": "init", "image": "busybox:1.36"}],
            "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "config", "configMap": {"name": "web-config", "items": [
                            {"key": "a", "path": "a.conf", "mode": 0o644}]}},
                        {"name": "creds", "secret": {"secretName": "creds"}},
                        {"name": "host", "hostPath": {"path": "/var/log",
                                                      "type": "Directory"}},
                        {"name": "claim", "persistentVolumeClaim": {"claimName": "c"}}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "securityContext": {"fsGroup": 2000, "supplementalGroups": [1, 2],
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "tolerations": [{"key": "example.com/gpu", "operator": "Equal", "value": "yes",
                             "effect": "NoSchedule"},
                            {"operator": "Exists"}],
            "serviceAccountName": "builder", "hostname": "web-0", "subdomain": "web",
            "priorityClassName": "high", "preemptionPolicy": "Never",
            "activeDeadlineSeconds": 600,
        },
    }


def _set(path, value):
    def edit(pod):
        node = pod
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _drop(path):
    def edit(pod):
        node = pod
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1], None)
    return edit


C0 = ("spec", "containers", 0)
EDITS = [
    # valid variants
    _drop(("metadata", "generateName")), _drop(("metadata", "ownerReferences")),
    _set(("metadata", "labels", "v"), "1.0"), _set(("metadata", "finalizers"), ["orphan"]),
    _set(C0 + ("livenessProbe",), {"httpGet": {"port": 80}, "successThreshold": 1}),
    _set(C0 + ("imagePullPolicy",), "Never"), _set(("spec", "runtimeClassName"), "gvisor"),
    _set(("spec", "tolerations", 1, "effect"), "NoExecute"),
    _set(("spec", "tolerations", 1, "tolerationSeconds"), 30),
    _set(("spec", "initContainers", 0, "restartPolicy"), "Always"),
    _set(("spec", "affinity"), {"nodeAffinity": {}}), _set(("spec", "hostNetwork"), False),
    _set(("spec", "dnsPolicy"), "Default"), _set(("spec", "restartPolicy"), "OnFailure"),
    _set(C0 + ("resources", "limits", "cpu"), "100m"),
    _set(C0 + ("ports", 0, "hostPort"), 8080), _set(("spec", "volumes", 0, "emptyDir"), {}),
    _set(("metadata", "annotations", "controller.kubernetes.io/pod-deletion-cost"), "10"),
    # invalid variants
    _set(("metadata", "name"), "Web_0"), _set(("metadata", "namespace"), ""),
    _set(("metadata", "labels", "bad key!"), "x"), _set(("metadata", "labels", "k"), "-x"),
    _set(("metadata", "generation"), -1), _set(("metadata", "finalizers"), ["bad"]),
    _set(("metadata", "ownerReferences", 0, "uid"), ""),
    _set(("metadata", "annotations", "kubernetes.io/config.mirror"), "x"),
    _set(("metadata", "annotations", "big"), "x" * (256 * 1024)),
    _set(C0 + ("name",), "sidecar"), _set(C0 + ("name",), "Web"), _set(C0 + ("image",), ""),
    _set(C0 + ("image",), " nginx"), _set(C0 + ("imagePullPolicy",), "Sometimes"),
    _set(C0 + ("ports", 0, "containerPort"), 70000), _set(C0 + ("ports", 1, "name"), "http"),
    _set(C0 + ("ports", 0, "protocol"), "HTTP"), _set(C0 + ("ports", 0, "name"), "a--b"),
    _set(C0 + ("env", 0, "name"), "1MODE"), _set(C0 + ("env", 1, "value"), "x"),
    _set(C0 + ("env", 1, "valueFrom", "fieldRef", "fieldPath"), "spec.schedulerName"),
    _set(C0 + ("env", 2, "valueFrom", "secretKeyRef", "key"), ""),
    _set(C0 + ("resources", "requests", "cpu"), "2"),
    _set(C0 + ("resources", "limits", "example.com/gpu"), "1"),
    _set(C0 + ("resources", "limits", "memory"), "-1"),
    _set(C0 + ("volumeMounts", 0, "name"), "nope"),
    _set(C0 + ("volumeMounts", 1, "mountPath"), "/data"),
    _set(C0 + ("volumeMounts", 1, "subPath"), "../x"),
    _set(C0 + ("volumeMounts", 0, "mountPropagation"), "Bidirectional"),
    _set(C0 + ("securityContext", "runAsUser"), -1),
    _set(C0 + ("securityContext", "allowPrivilegeEscalation"), False),
    _set(C0 + ("securityContext", "privileged"), True),
    _set(C0 + ("restartPolicy",), "Always"), _set(C0 + ("readinessProbe",), {}),
    _set(("spec", "initContainers", 0, "name"), "web"),
    _set(("spec", "initContainers", 0, "livenessProbe"), {"exec": {"command": ["x"]}}),
    _set(("spec", "volumes", 1, "configMap", "items", 0, "path"), "/abs"),
    _set(("spec", "volumes", 1, "configMap", "defaultMode"), 0o1000),
    _set(("spec", "volumes", 2, "secret", "secretName"), ""),
    _set(("spec", "volumes", 3, "hostPath", "type"), "Dir"),
    _set(("spec", "volumes", 4, "name"), "data"),
    _set(("spec", "volumes", 0, "emptyDir", "sizeLimit"), "-1Gi"),
    _set(("spec", "volumes", 0, "secret"), {"secretName": "s"}),
    _set(("spec", "nodeSelector", "k"), "bad value"),
    _set(("spec", "securityContext", "fsGroup"), 2**31),
    _set(("spec", "securityContext", "seccompProfile"), {"type": "Localhost"}),
    _set(("spec", "tolerations", 0, "operator"), "Gt"),
    _set(("spec", "tolerations", 0, "value"), "not valid!"),
    _set(("spec", "tolerations", 1, "key"), ""), _set(("spec", "tolerations", 1, "value"), "x"),
    _set(("spec", "tolerations", 0, "tolerationSeconds"), 5),
    _set(("spec", "serviceAccountName"), "Builder"), _set(("spec", "hostname"), "a.b"),
    _set(("spec", "activeDeadlineSeconds"), 0), _set(("spec", "preemptionPolicy"), "Always"),
    _set(("spec", "restartPolicy"), "Sometimes"), _set(("spec", "dnsPolicy"), "None"),
    _drop(("spec", "terminationGracePeriodSeconds")), _set(("spec", "containers"), []),
    _set(("spec", "hostNetwork"), True), _set(("spec", "hostUsers"), False),
    _set(("spec", "ephemeralContainers"), [{"name": "debug", "image": "busybox"}]),
    _set(("spec", "schedulingGates"), [{"name": "example.com/wait"}]),
]

edit_lists = st.lists(st.sampled_from(EDITS), max_size=4)


def edited(pod, edits):
    pod = copy.deepcopy(pod)
    for edit in edits:
        try:
            edit(pod)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier edit removed the parent
    return pod


def fields(errs):
    return [(e.reason, e.field, repr(e.value), e.detail) for e in errs]


@SCREEN_SETTINGS
@given(edit_lists)
def test_pod_validate_screen_agrees_with_full_validation(edits):
    pod = edited(created(rich_pod()), edits)
    fast = POD.validate(copy.deepcopy(pod), GATES)
    assert fields(fast) == fields(core_mod._pod_create_errors(copy.deepcopy(pod), GATES))
    if core_mod._screen(core_mod._pod_create_ok, pod):
        assert fast == []


def test_pod_validate_screen_accepts_the_rich_pod():
    pod = created(rich_pod())
    assert core_mod._pod_create_ok(pod)
    assert core_mod._pod_create_errors(pod, GATES) == []


@SCREEN_SETTINGS
@given(edit_lists, st.booleans())
def test_pod_update_screen_agrees_with_full_validation(edits, spec_too):
    old = created(rich_pod())
    old["metadata"].update(uid="u1", resourceVersion="5",
                           creationTimestamp="2025-01-01T00:00:00Z")
    new = edited(old, [e for e in edits if spec_too or "spec" not in str(e.__closure__)])
    new["metadata"]["labels"]["extra"] = "x"
    fast = POD.validate_update(copy.deepcopy(new), old, GATES)
    assert fields(fast) == fields(core_mod._pod_update_errors(copy.deepcopy(new), old, GATES))


@SCREEN_SETTINGS
@given(edit_lists, st.sampled_from(["Always", "Never"]),
       st.sampled_from([["10.244.0.5"], ["10.244.0.5", "fd00::5"], ["nope"], []]),
       st.sampled_from(["Ready", "example.com/Custom", "bad type!"]),
       st.sampled_from(["", "node-1", "Node_1"]), st.booleans())
def test_pod_status_update_screen_agrees_with_full_validation(edits, restart, ips, cond,
                                                             nominated, terminated):
    old = created(rich_pod())
    old["spec"]["restartPolicy"] = restart
    old["spec"]["nodeName"] = "node-1"
    old["metadata"].update(uid="u1", resourceVersion="5",
                           creationTimestamp="2025-01-01T00:00:00Z")
    if terminated:
        old["status"]["containerStatuses"] = [{"name": "web", "state": {"terminated": {
            "exitCode": 0}}}]
    meta_edits = [e for e in edits if "metadata" in str(e.__closure__)]
    new = {"apiVersion": "v1", "kind": "Pod",
           "metadata": edited(old, meta_edits)["metadata"], "spec": old["spec"],
           "status": {"phase": "Running", "conditions": [{"type": cond, "status": "True"}],
                      "podIPs": [{"ip": ip} for ip in ips], "podIP": ips[0] if ips else "",
                      "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}],
                      "containerStatuses": [{"name": "web", "state": {"running": {}}}]}}
    if nominated:
        new["status"]["nominatedNodeName"] = nominated
    full_new = copy.deepcopy(new)
    core_mod.prepare_pod_status_update(full_new, old)
    fast = POD.validate_status_update(new, old, GATES)
    assert new == full_new
    assert fields(fast) == fields(core_mod._pod_status_update_errors(full_new, old, GATES))


@SCREEN_SETTINGS
@given(edit_lists)
def test_pod_template_screen_agrees_with_full_validation(edits):
    pod = edited(created(rich_pod()), edits)
    template = {"metadata": {k: v for k, v in pod["metadata"].items()
                             if k in ("labels", "annotations")}, "spec": pod["spec"]}
    fast = core_mod.validate_pod_template_spec(template, "spec.template", GATES)
    assert fields(fast) == fields(core_mod._pod_template_spec_errors(template, "spec.template",
                                                                      GATES))


@SCREEN_SETTINGS
@given(edit_lists, st.booleans(), st.booleans())
def test_object_meta_screens_agree_with_full_validation(edits, namespaced, deleting):
    pod = edited(rich_pod(), edits)
    meta = pod["metadata"]
    for name_fn in (meta_mod.name_is_dns1123_subdomain, meta_mod.name_is_dns1123_label,
                    meta_mod.name_is_dns1035_label, meta_mod.name_is_path_segment):
        assert fields(meta_mod.validate_object_meta(meta, namespaced, name_fn)) == fields(
            meta_mod._object_meta_errors(meta, namespaced, name_fn))
    old = rich_pod()["metadata"]
    old.update(uid="u1", resourceVersion="5")
    if deleting:
        old["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    new = dict(meta, uid=meta.get("uid", "u1"), resourceVersion="5")
    assert fields(meta_mod.validate_object_meta_update(new, old)) == fields(
        meta_mod._object_meta_update_errors(new, old))


def node_obj():
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"},
                         "uid": "u1", "resourceVersion": "3"},
            "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
                     "providerID": "fake://node-1",
                     "taints": [{"key": "example.com/x", "value": "y", "effect": "NoSchedule"}]},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110",
                                    "hugepages-2Mi": "0"},
                       "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                       "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}]}}


NODE_EDITS = [
    _set(("spec", "taints", 0, "effect"), ""), _set(("spec", "taints", 0, "value"), "bad!"),
    _set(("spec", "taints", 0, "key"), ""), _set(("spec", "podCIDRs"), ["10.244.2.0/24"]),
    _set(("spec", "podCIDRs"), ["10.244.1.0/24", "fd00::/64"]), _set(("spec", "podCIDRs"), []),
    _set(("spec", "providerID"), "other"), _set(("spec", "externalID"), "x"),
    _set(("status", "capacity", "pods"), "1500m"), _set(("status", "capacity", "cpu"), "-1"),
    _set(("status", "allocatable", "example.com/dongle"), "2"),
    _set(("status", "addresses"), [{"type": "InternalIP", "address": "172.18.0.2"}] * 2),
    _set(("metadata", "labels", "k"), "bad value"), _set(("metadata", "namespace"), "x"),
    _set(("metadata", "name"), "Node_1"), _drop(("metadata", "resourceVersion")),
]


@SCREEN_SETTINGS
@given(st.lists(st.sampled_from(NODE_EDITS), max_size=3))
def test_node_screens_agree_with_full_validation(edits):
    node_rt = STRATEGIES["Node"]
    old = node_obj()
    new = edited(old, edits)
    assert fields(node_rt.validate(new, GATES)) == fields(core_mod._node_errors(new, GATES))
    assert fields(node_rt.validate_update(new, old, GATES)) == fields(
        core_mod._node_update_errors(new, old, GATES))


# The QoS class and volume defaulting were rewritten for speed; these references are the
# straightforward readings of upstream's ComputePodQOS and SetDefaults_Volume.


def reference_qos(pod):
    requests, limits, guaranteed = {}, {}, True
    for key in ("containers", "initContainers"):
        for c in pod["spec"].get(key) or ():
            res = c.get("resources")
            if not res:
                guaranteed = False
                continue
            for name, q in (res.get("requests") or {}).items():
                if name in ("cpu", "memory") and parse_quantity(q) > 0:
                    requests[name] = requests.get(name, 0) + parse_quantity(q)
            found = 0
            for name, q in (res.get("limits") or {}).items():
                if name in ("cpu", "memory") and parse_quantity(q) > 0:
                    found += 1
                    limits[name] = limits.get(name, 0) + parse_quantity(q)
            guaranteed = guaranteed and found == 2
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests == limits:
        return "Guaranteed"
    return "Burstable"


from fakekube.api.quantity import parse_quantity  # noqa: E402

amounts = st.sampled_from(["0", "100m", "1", "250m", "128Mi", "1Gi", "2"])
resource_lists = st.dictionaries(st.sampled_from(["cpu", "memory", "ephemeral-storage"]),
                                 amounts, max_size=3)


@SCREEN_SETTINGS
@given(st.lists(st.one_of(st.none(), st.fixed_dictionaries(
    {}, optional={"requests": resource_lists, "limits": resource_lists})), min_size=1,
    max_size=3), st.lists(st.fixed_dictionaries({"limits": resource_lists}), max_size=1))
def test_qos_matches_the_reference(resources, init_resources):
    pod = {"spec": {"containers": [{"name": f"c{i}", **({"resources": r} if r is not None
                                                       else {})}
                                   for i, r in enumerate(resources)],
                    "initContainers": [{"name": "i", "resources": r} for r in init_resources]}}
    assert compute_pod_qos(pod) == reference_qos(pod)


VOLUME_SOURCES = ["emptyDir", "hostPath", "secret", "configMap", "downwardAPI", "projected",
                  "iscsi", "rbd", "azureDisk", "scaleIO", "nfs", "csi", "image"]


def reference_default_volume(v):
    if not any(src in v for src in core_mod._VOLUME_SOURCES):
        v["emptyDir"] = {}
        return
    for src, defaulter in core_mod._VOLUME_SOURCE_DEFAULTERS.items():
        if v.get(src) is not None:
            defaulter(v[src])


@SCREEN_SETTINGS
@given(st.lists(st.sampled_from(VOLUME_SOURCES), max_size=3, unique=True))
def test_volume_defaulting_matches_the_reference(sources):
    v = {"name": "v", **{src: {} for src in sources}}
    ref = copy.deepcopy(v)
    core_mod._default_volume(v)
    reference_default_volume(ref)
    assert list(v.items()) == list(ref.items())
    assert all(list(v[k].items()) == list(ref[k].items()) for k in sources)


def test_endpoints_update_sharing_stored_addresses_still_checks_the_new_ones():
    """A controller's update shares the stored object's address dicts (zero-copy): those are
    not checked again, but every other address is, at its own index, and a rejected update
    leaves the stored object as it was."""
    import fakekube
    from fakekube.runtime.client import Client

    c = fakekube.Cluster(nodes=0)
    stored = c.create({"apiVersion": "v1", "kind": "Endpoints",
                       "metadata": {"name": "x", "namespace": "default"},
                       "subsets": [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)],
                                    "ports": [{"port": 80, "protocol": "TCP"}]}]})
    client = Client(c.api, "endpoint-controller")
    live = client.get("Endpoints", "x", "default")
    addrs = live["subsets"][0]["addresses"]
    new = dict(live, metadata=dict(live["metadata"]),
               subsets=[dict(live["subsets"][0],
                             addresses=[*addrs[:2], {"ip": "127.0.0.1"}, *addrs[2:],
                                        {"ip": "10.0.0.9", "hostname": "Bad_Host"}])])
    with pytest.raises(fakekube.Invalid) as e:
        client.update(new)
    paths = sorted(cause["field"] for cause in e.value.details["causes"])
    assert paths == ["subsets[0].addresses[2].ip", "subsets[0].addresses[6].hostname"]
    after = c.get("Endpoints", "x")
    assert after["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    assert [a["ip"] for a in after["subsets"][0]["addresses"]] == [
        f"10.0.0.{i}" for i in range(1, 6)]
    # A valid addition sharing the stored addresses lands, in canonical order.
    ok = dict(live, metadata=dict(live["metadata"]),
              subsets=[dict(live["subsets"][0], addresses=[{"ip": "10.0.0.0"}, *addrs])])
    client.update(ok)
    assert [a["ip"] for a in c.get("Endpoints", "x")["subsets"][0]["addresses"]] == [
        f"10.0.0.{i}" for i in range(0, 6)]
