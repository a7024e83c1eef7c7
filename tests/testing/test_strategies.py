"""fakekube.testing.strategies: every generated manifest is accepted and settles, bundles
reach the state Kubernetes promises, and random operation sequences leave a cluster that
settles and heals."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fakekube.scheduler")

from fakekube import ApiError, Cluster  # noqa: E402
from fakekube.api import names  # noqa: E402
from fakekube.api.quantity import parse_quantity  # noqa: E402
from fakekube.testing import invariants  # noqa: E402
from fakekube.testing import strategies as kst  # noqa: E402

ZONES = ["a", "b", "c"]
#: Multiplies every example budget below (e.g. 20 for a long exploratory run).
SCALE = float(os.environ.get("FAKEKUBE_STRATEGY_EXAMPLES_SCALE", "1"))


def fast(n: int):
    """A small example budget: the whole file runs in well under 30 seconds."""
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def create_all(cluster: Cluster, objects: list[dict]) -> list[dict]:
    out = []
    for obj in objects:
        try:
            out.append(cluster.create(obj))
        except ApiError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"the API rejected a generated {obj['kind']}: {exc}\n{obj!r}")
    return out


def conditions(obj: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or ()}


def running_and_ready(pod: dict) -> bool:
    return pod["status"].get("phase") == "Running" and conditions(pod).get("Ready") == "True"


# --------------------------------------------------------------------------------------------
# Building blocks: the strings upstream's validation accepts


@fast(150)
@given(label=kst.dns_labels(), short=kst.dns_labels(5), sub=kst.dns_subdomains(),
       key=kst.label_keys(), value=kst.label_values(), port=kst.port_names())
def test_names_and_labels_are_valid(label, short, sub, key, value, port):
    assert names.is_dns1123_label(label) == [] and len(label) <= 20
    assert names.is_dns1035_label(label) == []  # Service names need a leading letter
    assert len(short) <= 5 and names.is_dns1123_label(short) == []
    assert names.is_dns1123_subdomain(sub) == [] and len(sub) <= 63
    assert names.is_qualified_name(key) == []
    assert key != kst.APP_LABEL and "kubernetes.io" not in key
    assert names.is_valid_label_value(value) == []
    assert names.is_valid_port_name(port) == []


@fast(100)
@given(container=kst.containers(min_ports=1), res=kst.resources(), env=kst.env_vars())
def test_containers_resources_and_env_are_valid(container, res, env):
    assert container["ports"] and container["image"] in kst.IMAGES
    names_ = [p["name"] for p in container["ports"]]
    assert len(set(names_)) == len(names_)
    for name, limit in (res.get("limits") or {}).items():
        request = (res.get("requests") or {}).get(name)
        if request is not None:
            assert parse_quantity(limit) >= parse_quantity(request), res
    assert len({e["name"] for e in env}) == len(env)
    assert all(names.is_c_identifier(e["name"]) == [] for e in env)
    cluster = Cluster(nodes=1)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"},
           "spec": {"containers": [{**container, "resources": res, "env": env}]}}
    create_all(cluster, [pod])
    cluster.settle()
    assert running_and_ready(cluster.get("Pod", "probe"))


# --------------------------------------------------------------------------------------------
# Objects: accepted, and they settle


@fast(40)
@given(pods=st.lists(kst.pods(), min_size=1, max_size=3,
                     unique_by=lambda p: p["metadata"]["name"]))
def test_pods_are_accepted_and_run(pods):
    """Satisfiable constraints on a default cluster: every pod is scheduled and runs."""
    cluster = Cluster(nodes=2, zones=ZONES)
    create_all(cluster, pods)
    cluster.settle()
    for p in pods:
        got = cluster.get("Pod", p["metadata"]["name"])
        assert got["spec"].get("nodeName"), got["status"]
        assert running_and_ready(got), got["status"]


@fast(25)
@given(pod=kst.pods(scheduling="any"))
def test_pods_with_arbitrary_constraints_are_accepted_and_settle(pod):
    cluster = Cluster(nodes=1)
    create_all(cluster, [pod])
    cluster.settle()
    got = cluster.get("Pod", pod["metadata"]["name"])
    assert got["status"]["phase"] in ("Pending", "Running")


@fast(40)
@given(services=st.lists(kst.services(), min_size=1, max_size=3,
                         unique_by=lambda s: s["metadata"]["name"]))
def test_services_are_accepted(services):
    cluster = Cluster(nodes=0)
    for svc, got in zip(services, create_all(cluster, services)):
        if svc["spec"].get("clusterIP") == "None":
            assert got["spec"]["clusterIP"] == "None"
        else:
            assert got["spec"]["clusterIP"].startswith("10."), got["spec"]
            assert got["spec"]["ports"]
    cluster.settle()


@fast(30)
@given(sts=kst.statefulsets(max_replicas=3))
def test_statefulsets_are_accepted_and_settle(sts):
    cluster = Cluster(nodes=3, zones=ZONES)
    create_all(cluster, [sts])
    cluster.settle()
    name = sts["metadata"]["name"]
    invariants.statefulset_ordinals(cluster, name)
    invariants.statefulset_identity(cluster, name)
    invariants.statefulset_status(cluster, name)
    templates = sts["spec"].get("volumeClaimTemplates") or []
    claims = cluster.list("PersistentVolumeClaim")["items"]
    assert len(claims) == len(templates) * sts["spec"]["replicas"]
    assert all(c["status"]["phase"] == "Bound" for c in claims)


@fast(30)
@given(dep=kst.deployments(max_replicas=3))
def test_deployments_are_accepted_and_settle(dep):
    cluster = Cluster(nodes=3, zones=ZONES)
    create_all(cluster, [dep])
    cluster.settle()
    got = cluster.get("Deployment", dep["metadata"]["name"])
    replicas = dep["spec"]["replicas"]
    assert got["status"].get("readyReplicas", 0) == replicas, got["status"]
    assert got["status"].get("updatedReplicas", 0) == replicas, got["status"]
    pods = cluster.list("Pod", label_selector=dep["spec"]["selector"])["items"]
    assert len(pods) == replicas and all(running_and_ready(p) for p in pods)


@fast(40)
@given(strategy=kst.deployment_strategies())
def test_deployment_strategies_are_valid(strategy):
    if strategy is None or strategy["type"] == "Recreate":
        assert strategy is None or "rollingUpdate" not in strategy
        return
    rolling = strategy.get("rollingUpdate") or {}
    zero = (0, "0%")
    assert not (rolling.get("maxSurge") in zero and rolling.get("maxUnavailable") in zero)
    mu = rolling.get("maxUnavailable")
    assert not (isinstance(mu, str) and int(mu[:-1]) > 100)


@fast(40)
@given(layout=kst.node_layouts(max_nodes=4))
def test_node_layouts_build_clusters(layout):
    cluster = Cluster(nodes=layout)
    cluster.settle()
    nodes = {n["metadata"]["name"]: n for n in cluster.list("Node")["items"]}
    assert sorted(nodes) == sorted(d["name"] for d in layout)
    assert not layout[0].get("taints")  # min_untainted=1
    for desc in layout:
        node = nodes[desc["name"]]
        for key, value in kst.node_labels(desc).items():
            assert node["metadata"]["labels"].get(key) == value
        assert len(node["spec"].get("taints") or []) == len(desc.get("taints") or [])
        assert conditions(node)["Ready"] == "True"


# --------------------------------------------------------------------------------------------
# Bundles: what a settled application with healthy nodes must show


def check_application(cluster: Cluster, app: kst.Application) -> None:
    if app.kind == "StatefulSet":
        invariants.statefulset_ordinals(cluster, app.name)
        invariants.statefulset_identity(cluster, app.name)
    else:
        status = cluster.get("Deployment", app.name)["status"]
        assert status.get("readyReplicas", 0) == app.replicas, status


@fast(40)
@given(apps=kst.application_lists(max_size=3))
def test_applications_settle_and_invariants_hold(apps):
    cluster = Cluster(nodes=3, zones=ZONES)
    cluster.apply([m for app in apps for m in app.manifests])
    cluster.settle()
    for app in apps:
        check_application(cluster, app)
        pods = cluster.list("Pod", label_selector={"matchLabels": app.selector})["items"]
        assert len(pods) == app.replicas
        slices = cluster.list("EndpointSlice", label_selector={"matchLabels": {
            "kubernetes.io/service-name": app.service_name}})["items"]
        ready = {a for s in slices for e in s.get("endpoints") or ()
                 if (e.get("conditions") or {}).get("ready") for a in e["addresses"]}
        assert ready == {p["status"]["podIP"] for p in pods}
        if app.kind == "StatefulSet":
            for p in pods:  # the stable network identity through the headless Service
                fqdn = f"{p['metadata']['name']}.{app.service_name}.default.svc.cluster.local"
                assert cluster.dns.resolve(fqdn) == [p["status"]["podIP"]]
    invariants.claims_bound_one_to_one(cluster)
    invariants.one_node_per_rwo_volume(cluster)


@st.composite
def layout_and_application(draw):
    layout = draw(kst.node_layouts(max_nodes=4))
    app = draw(kst.applications(nodes=layout, min_replicas=1, max_replicas=2))
    return layout, app


@fast(30)
@given(world=layout_and_application())
def test_satisfiable_constraints_schedule_on_the_layout(world):
    """Node selectors, required node affinity and the layout's taints: a node fits."""
    layout, app = world
    cluster = Cluster(nodes=layout)
    cluster.apply(app.manifests)
    cluster.settle()
    check_application(cluster, app)


# --------------------------------------------------------------------------------------------
# Operations


@st.composite
def chaos(draw):
    apps = draw(kst.application_lists(min_size=1, max_size=2, min_replicas=1,
                                      max_replicas=2))
    sets = [a.name for a in apps if a.kind == "StatefulSet"]
    deps = [a.name for a in apps if a.kind == "Deployment"]
    ops = draw(kst.operations(sets + ["absent"], deps, zones=ZONES, max_replicas=3,
                              max_size=12))
    return apps, ops


def heal(cluster: Cluster, size: int) -> None:
    """Restore every failed node and add fresh ones up to ``size`` live nodes."""
    i = 0
    while kst.run_operation(cluster, ("restore_node", 0)):
        i += 1
        assert i < 100
    for zone in ZONES * 3:
        if len(cluster.kubelets.agents) >= size:
            break
        assert kst.run_operation(cluster, ("add_node", zone))
    cluster.settle()


@fast(40)
@given(world=chaos())
def test_operation_sequences_run_settle_and_heal(world):
    apps, ops = world
    cluster = Cluster(nodes=3, zones=ZONES)
    history = invariants.History(cluster)
    cluster.apply([m for app in apps for m in app.manifests])
    cluster.settle()
    for op in ops:
        assert isinstance(kst.run_operation(cluster, op), bool)
        history.check()
        for app in apps:
            if app.kind == "StatefulSet":
                invariants.statefulset_identity(cluster, app.name)
        invariants.one_node_per_rwo_volume(cluster)
    cluster.settle()  # whatever happened, a fixed point is reachable
    heal(cluster, 3)
    history.check()
    for app in apps:
        if app.kind == "StatefulSet":
            invariants.statefulset_ordinals(cluster, app.name)
            invariants.statefulset_identity(cluster, app.name)
        else:
            d = cluster.get("Deployment", app.name)
            assert d["status"].get("readyReplicas", 0) == d["spec"]["replicas"], d["status"]
    invariants.claims_bound_one_to_one(cluster)
    history.close()


def test_run_operation_skips_what_cannot_apply():
    cluster = Cluster(nodes=1)
    assert kst.run_operation(cluster, ("scale", "StatefulSet", "absent", 2)) is False
    assert kst.run_operation(cluster, ("update_image", "Deployment", "absent",
                                       "nginx:1.27")) is False
    assert kst.run_operation(cluster, ("partition", "absent", 1)) is False
    assert kst.run_operation(cluster, ("delete_pod", "StatefulSet", "absent", 0)) is False
    assert kst.run_operation(cluster, ("force_delete", "Deployment", "absent", 0)) is False
    assert kst.run_operation(cluster, ("restore_node", 0)) is False  # nothing failed
    assert kst.run_operation(cluster, ("fail_node", 3)) is True      # modulo: node-1
    assert kst.run_operation(cluster, ("fail_node", 0)) is False     # none live now
    assert kst.run_operation(cluster, ("remove_node", 0)) is True
    assert kst.run_operation(cluster, ("remove_node", 0)) is False   # no node left
    assert kst.run_operation(cluster, ("add_node", "b")) is True
    node = cluster.get("Node", "node-1")
    assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == "b"
    assert kst.run_operation(cluster, ("advance", 5)) is True
    assert kst.run_operation(cluster, ("settle",)) is True


def test_run_operation_acts_on_the_named_workload():
    cluster = Cluster(nodes=2)
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": {"replicas": 2, "serviceName": "web",
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}
    cluster.apply(sts)
    cluster.settle()
    assert kst.run_operation(cluster, ("scale", "StatefulSet", "web", 3))
    cluster.settle()
    assert cluster.get("StatefulSet", "web")["status"]["readyReplicas"] == 3
    assert kst.run_operation(cluster, ("update_image", "StatefulSet", "web", "redis:7.2"))
    cluster.settle()
    assert {p["spec"]["containers"][0]["image"] for p in cluster.list("Pod")["items"]} == {
        "redis:7.2"}
    old = cluster.get("Pod", "web-1")["metadata"]["uid"]
    assert kst.run_operation(cluster, ("delete_pod", "StatefulSet", "web", 1))
    cluster.settle()
    assert cluster.get("Pod", "web-1")["metadata"]["uid"] != old
    assert kst.run_operation(cluster, ("partition", "web", 2))
    strategy = cluster.get("StatefulSet", "web")["spec"]["updateStrategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    node = cluster.get("Pod", "web-0")["spec"]["nodeName"]
    cluster.fail_node(node)
    cluster.settle()
    stuck = [p["metadata"]["name"] for p in cluster.list("Pod")["items"]
             if p["metadata"].get("deletionTimestamp")]
    assert stuck
    assert kst.run_operation(cluster, ("force_delete", "StatefulSet", "web", 0))
    assert stuck[0] not in [p["metadata"]["name"] for p in cluster.list("Pod")["items"]
                            if p["metadata"].get("deletionTimestamp")]


def test_run_operation_rejects_unknown_operations():
    cluster = Cluster(nodes=0)
    with pytest.raises(ValueError, match="unknown operation 'explode'"):
        kst.run_operation(cluster, ("explode",))
    with pytest.raises(ValueError):
        kst.run_operation(cluster, ())
    assert set(kst.OPERATIONS) == {
        "settle", "advance", "scale", "update_image", "partition", "delete_pod",
        "force_delete", "fail_node", "restore_node", "remove_node", "add_node"}


@fast(60)
@given(ops=kst.operations(["web"], ["api"], zones=ZONES))
def test_operations_are_well_formed(ops):
    for op in ops:
        assert op[0] in kst.OPERATIONS
        if op[0] in ("scale", "update_image", "delete_pod", "force_delete"):
            assert (op[1], op[2]) in (("StatefulSet", "web"), ("Deployment", "api"))
        if op[0] == "partition":
            assert op[1] == "web"


def test_strategies_are_deterministic_and_shrink_to_simple_values():
    """Same seed, same examples; the minimal example is the plain one."""
    from hypothesis import find

    def draws() -> list:
        seen: list = []

        @settings(max_examples=15, derandomize=True, database=None, deadline=None)
        @given(kst.application_lists(), kst.node_layouts(), kst.operations(["web"]))
        def collect(apps, layout, ops):
            seen.append((apps, layout, ops))

        collect()
        return seen

    assert draws() == draws()
    minimal = find(kst.statefulsets(), lambda s: True, settings=settings(database=None))
    assert minimal["metadata"] == {"name": "web"}
    assert minimal["spec"]["replicas"] == 0
    assert set(minimal["spec"]) == {"replicas", "selector", "serviceName", "template"}
    assert find(kst.operations(["web"]), lambda ops: len(ops) >= 1,
                settings=settings(database=None)) == [("settle",)]


def test_statefulset_status_invariant_catches_a_miscount():
    from fakekube.testing.builders import headless_service, statefulset

    cluster = Cluster(nodes=3, zones=ZONES)
    cluster.apply([headless_service("nginx"), statefulset("web", 2)])
    cluster.settle()
    invariants.statefulset_status(cluster, "web")
    # A status that does not count the pods (here written by hand) is caught, with the
    # field named and the count the pods give.
    sset = cluster.get("StatefulSet", "web")
    sset["status"]["readyReplicas"] = sset["status"]["availableReplicas"] = 1
    cluster.replace(sset, subresource="status")
    with pytest.raises(invariants.InvariantViolation, match=r"readyReplicas=1 \(its pods say 2\)"):
        invariants.statefulset_status(cluster, "web")
