"""Simulated workloads: behaviours by image, their lifecycle on the virtual clock, what they
see (env, downward API, hostname, volumes, DNS) and the in-process network between pods."""

import pytest

import fakekube
from fakekube.dns import NXDomain
from fakekube.kubelet.workloads import (REGISTRY, ConnectionClosed, ConnectionRefused,
                                        UnknownHost, Workload, WorkloadRegistry, expand,
                                        register_workload, workload)
from fakekube.testing.builders import headless_service, pod, statefulset


def cond(p, type_):
    return next((c for c in p["status"].get("conditions", []) if c["type"] == type_), None)


def ready(c, name):
    return cond(c.get("Pod", name), "Ready")["status"] == "True"


class Recorder(Workload):
    """Records what happens to it in ``journal`` (shared, class level per test)."""

    journal: list = []

    def start(self, ctx):
        self.ctx = ctx
        self.memory = {"started": ctx.now}
        self.journal.append(("start", ctx.pod_name, ctx.restart_count))
        ctx.serve(80, self.handle)

    def stop(self, ctx):
        self.journal.append(("stop", ctx.pod_name))

    def handle(self, msg, conn):
        if msg == "boom":
            raise ValueError("the handler blew up")
        return {"echo": msg, "pod": self.ctx.pod_name}


@pytest.fixture
def kube():
    c = fakekube.Cluster(nodes=[{"name": "n1", "zone": "a"}, {"name": "n2", "zone": "b"}])
    Recorder.journal = []
    c.kubelets.workloads.register("rec", Recorder)
    return c


def proc(c, name, ns="default"):
    return c.kubelets.workloads.process(name, namespace=ns)


# -- registration ----------------------------------------------------------------------------


def test_images_match_exactly_then_by_repository():
    reg = WorkloadRegistry()
    reg.register("kv", Recorder)
    reg.register("kv:2", Workload)
    assert reg.lookup("kv:2") is Workload
    assert reg.lookup("kv:1") is Recorder
    assert reg.lookup("docker.io/library/kv:1") is Recorder
    assert reg.lookup("kv@sha256:abc") is Recorder
    assert reg.lookup("registry.local:5000/kv:1") is None
    assert reg.lookup("kvx:1") is None
    child = WorkloadRegistry(parent=reg)
    child.register("kv:1", Workload)
    assert child.lookup("kv:1") is Workload and child.lookup("kv:3") is Recorder
    with pytest.raises(TypeError):
        reg.register("x", "not callable")


def test_global_registration_and_cluster_override():
    @workload("fk-test-global")
    class Global(Workload):
        def start(self, ctx):
            ctx.log("global")

    class Local(Workload):
        def start(self, ctx):
            ctx.log("local")

    try:
        assert REGISTRY.lookup("fk-test-global:1") is Global
        a, b = fakekube.Cluster(nodes=1), fakekube.Cluster(nodes=1)
        b.kubelets.workloads.register("fk-test-global", Local)
        for c in (a, b):
            c.create(pod("p", node="node-1", image="fk-test-global:1"))
            c.settle()
        assert a.kubelets.workloads.logs("p") == "global\n"
        assert b.kubelets.workloads.logs("p") == "local\n"
    finally:
        REGISTRY.unregister("fk-test-global")
    assert register_workload("fk-test-2", Local) is Local
    REGISTRY.unregister("fk-test-2")
    assert "fk-test-2" not in REGISTRY


def test_containers_without_a_behaviour_run_as_before(kube):
    kube.create(pod("plain", node="n1"))
    kube.settle()
    assert ready(kube, "plain")
    assert proc(kube, "plain") is None
    ip = kube.get("Pod", "plain")["status"]["podIP"]
    with pytest.raises(ConnectionRefused):  # nothing listens in there
        kube.kubelets.workloads.connect(ip, 80)


# -- what a process sees ---------------------------------------------------------------------


def test_environment_downward_api_and_hostname(kube):
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                 "data": {"MODE": "fast", "LEVEL": "3"}})
    obj = pod("p", node="n2", image="rec:1", labels={"app": "x", "tier": "db"},
              hostname="host-a", subdomain="svc")
    obj["spec"]["containers"][0].update({
        "command": ["kv"], "args": ["--verbose"],
        "resources": {"limits": {"memory": "64Mi"}, "requests": {"cpu": "250m"}},
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "env": [
            {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "TIER", "valueFrom": {"fieldRef": {
                "fieldPath": "metadata.labels['tier']"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {
                "resource": "limits.memory", "divisor": "1Mi"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg",
                                                               "key": "MODE"}}},
            {"name": "URL", "value": "http://$(NAME).$(NS):$(PORT)/$$(NAME)"},
        ]})
    kube.create(obj)
    kube.settle()
    p = kube.get("Pod", "p")
    ctx = proc(kube, "p")
    env = ctx.env
    assert env["NAME"] == "p" and env["NS"] == "default" and env["NODE"] == "n2"
    assert env["IP"] == p["status"]["podIP"] == ctx.pod_ip
    assert env["HOST_IP"] == p["status"]["hostIP"] == ctx.host_ip
    assert env["TIER"] == "db"
    assert env["MEM"] == "64" and env["CPU"] == "1"  # 250m rounded up to whole cores
    assert env["CFG_MODE"] == "fast" and env["CFG_LEVEL"] == "3" and env["MODE"] == "fast"
    assert env["URL"] == "http://p.default:$(PORT)/$(NAME)"
    assert env["HOSTNAME"] == "host-a"
    assert (ctx.hostname, ctx.subdomain) == ("host-a", "svc")
    assert ctx.fqdn == "host-a.svc.default.svc.cluster.local"
    assert ctx.labels == {"app": "x", "tier": "db"}
    assert (ctx.command, ctx.args, ctx.container, ctx.image) == (["kv"], ["--verbose"],
                                                                 "app", "rec:1")
    assert (ctx.node_name, ctx.namespace, ctx.pod_uid) == ("n2", "default",
                                                           p["metadata"]["uid"])


def test_expansion_rules():
    known = {"A": "1", "B": "two"}.get
    assert expand("$(A)-$(B)", known) == "1-two"
    assert expand("$(C)", known) == "$(C)"
    assert expand("$$(A)", known) == "$(A)"
    assert expand("cost: $5 and $", known) == "cost: $5 and $"
    assert expand("$(A", known) == "$(A"


def test_hostname_is_cut_at_63_characters(kube):
    name = "a" * 62 + "-b"
    kube.create(pod(name, node="n1", image="rec:1"))
    kube.settle()
    assert proc(kube, name).hostname == "a" * 62


def test_volumes_by_mount_path_only_the_pods_own(kube):
    kube.apply([headless_service("nginx"), statefulset("web", 2, image="rec:1")])
    kube.settle()
    w0, w1 = proc(kube, "web-0"), proc(kube, "web-1")
    assert list(w0.volumes) == ["/data/www"]
    w0.volumes["/data/www"]["/index.html"] = b"web-0 was here"
    assert kube.volume("www-web-0")["/index.html"] == b"web-0 was here"
    assert "/index.html" not in w1.volumes["/data/www"]
    kube.volume("www-web-1")["/from-test"] = b"hi"
    assert w1.volumes["/data/www"]["/from-test"] == b"hi"
    with pytest.raises(TypeError):
        w0.volumes["/data/www"]["/x"] = "text is not bytes"


def test_subpath_readonly_emptydir_and_configmap_volumes(kube):
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                 "data": {"app.conf": "x=1"}})
    kube.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": {"name": "shared"},
                 "spec": {"accessModes": ["ReadWriteOnce"],
                          "resources": {"requests": {"storage": "1Gi"}}}})
    obj = pod("p", node="n1", image="rec:1", volumes=[
        {"name": "data", "persistentVolumeClaim": {"claimName": "shared"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "cfg"}},
        {"name": "info", "downwardAPI": {"items": [
            {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}])
    obj["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "data", "mountPath": "/sub", "subPath": "part"},
        {"name": "data", "mountPath": "/ro", "readOnly": True},
        {"name": "scratch", "mountPath": "/tmp"},
        {"name": "cfg", "mountPath": "/etc/app"},
        {"name": "info", "mountPath": "/etc/info"}]
    kube.create(obj)
    kube.settle()
    ctx = proc(kube, "p")
    ctx.volumes["/sub"]["/file"] = b"1"
    assert kube.volume("shared")["/part/file"] == b"1"
    assert list(ctx.volumes["/sub"]) == ["/file"]
    assert ctx.volumes["/ro"]["/part/file"] == b"1"
    with pytest.raises(OSError, match="read-only"):
        ctx.volumes["/ro"]["/x"] = b"no"
    assert ctx.volumes["/etc/app"]["/app.conf"] == b"x=1"
    assert ctx.volumes["/etc/info"]["/name"] == b"p"
    with pytest.raises(OSError):
        ctx.volumes["/etc/app"]["/app.conf"] = b"x=2"
    ctx.volumes["/tmp"]["/cache"] = b"c"
    kube.kill_container("p")  # a restart keeps the pod's emptyDir
    kube.settle()
    again = proc(kube, "p")
    assert again is not ctx and again.volumes["/tmp"]["/cache"] == b"c"
    kube.delete("Pod", "p")
    kube.settle()
    kube.create(pod("p", node="n1", image="rec:1", volumes=[
        {"name": "scratch", "emptyDir": {}}], containers=[
        {"name": "app", "image": "rec:1",
         "volumeMounts": [{"name": "scratch", "mountPath": "/tmp"}]}]))
    kube.settle()
    assert "/cache" not in proc(kube, "p").volumes["/tmp"]  # a new pod, a new emptyDir


# -- lifecycle -------------------------------------------------------------------------------


def test_start_stop_and_power_cut(kube):
    kube.apply([headless_service("nginx"), statefulset("web", 1, image="rec:1")])
    kube.settle()
    assert Recorder.journal == [("start", "web-0", 0)]
    first = proc(kube, "web-0")
    first.volumes["/data/www"]["/kept"] = b"on disk"
    node = kube.get("Pod", "web-0")["spec"]["nodeName"]
    kube.fail_node(node)  # a power cut: no stop(), the process is gone
    assert not first.alive and proc(kube, "web-0") is None
    assert Recorder.journal == [("start", "web-0", 0)]
    kube.restore_node(node)
    kube.settle()
    second = proc(kube, "web-0")
    assert Recorder.journal[-1] == ("start", "web-0", 1)
    assert second.behaviour is not first.behaviour  # memory is gone, the disk is not
    assert second.volumes["/data/www"]["/kept"] == b"on disk"
    kube.delete("Pod", "web-0")
    kube.settle()
    assert ("stop", "web-0") in Recorder.journal  # graceful deletion: stop() ran
    assert Recorder.journal[-1] == ("start", "web-0", 0)  # the StatefulSet's new pod


def test_kill_container_is_a_crash_without_stop(kube):
    kube.create(pod("p", node="n1", image="rec:1"))
    kube.settle()
    kube.kill_container("p")
    assert ("stop", "p") not in Recorder.journal
    kube.settle()
    assert Recorder.journal == [("start", "p", 0), ("start", "p", 1)]


def test_readiness_is_the_behaviours_and_overrides_win(kube):
    class Slow(Workload):
        def start(self, ctx):
            ctx.set_ready(False)
            ctx.call_later(30, lambda: ctx.set_ready(True))

    kube.kubelets.workloads.register("slow", Slow)
    kube.create(pod("p", node="n1", image="slow:1"))
    kube.advance(1)
    assert not ready(kube, "p")
    assert kube.settle() == 29  # the deadline is a change that will happen
    assert ready(kube, "p")
    kube.set_pod_ready("p", False)
    kube.settle()
    assert not ready(kube, "p")
    kube.set_pod_ready("p", None)
    proc(kube, "p").set_ready(False)
    kube.settle()
    assert not ready(kube, "p")
    kube.set_pod_ready("p", True)
    kube.settle()
    assert ready(kube, "p")


def test_heartbeats_never_keep_settle_busy(kube):
    ticks = []

    class Ticker(Workload):
        def start(self, ctx):
            ctx.call_every(1, lambda: ticks.append(ctx.now))

    kube.kubelets.workloads.register("tick", Ticker)
    kube.create(pod("p", node="n1", image="tick"))
    assert kube.settle() == 0 and ticks == []
    kube.advance(3)
    assert len(ticks) == 3
    kube.delete("Pod", "p", grace_period_seconds=0)
    kube.advance(3)
    assert len(ticks) == 3  # its timers died with it


def test_a_crashing_behaviour_crash_loops_with_its_message(kube):
    class Broken(Workload):
        def start(self, ctx):
            raise RuntimeError("cannot open database")

    kube.kubelets.workloads.register("broken", Broken)
    kube.create(pod("p", node="n1", image="broken"))
    kube.advance(1)
    cs = kube.get("Pod", "p")["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["message"] == "RuntimeError: cannot open database"
    assert kube.kubelets.workloads.crashes[0][:3] == ("default", "p", "app")
    assert "RuntimeError: cannot open database" in kube.kubelets.workloads.logs("p")


def test_exit_follows_the_restart_policy(kube):
    class Job(Workload):
        def start(self, ctx):
            ctx.call_later(5, lambda: ctx.exit(int(ctx.env.get("CODE", "0"))))

    kube.kubelets.workloads.register("job", Job)
    kube.create(pod("ok", node="n1", image="job", restartPolicy="Never"))
    bad = pod("bad", node="n1", image="job", restartPolicy="Never")
    bad["spec"]["containers"][0]["env"] = [{"name": "CODE", "value": "3"}]
    kube.create(bad)
    assert kube.settle() == 5
    assert kube.get("Pod", "ok")["status"]["phase"] == "Succeeded"
    st = kube.get("Pod", "bad")["status"]
    assert st["phase"] == "Failed"
    assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3


def test_process_randomness_is_seeded():
    def draws(seed):
        c = fakekube.Cluster(nodes=1, seed=seed)
        c.kubelets.workloads.register("rec", Recorder)
        c.create(pod("p", node="node-1", image="rec"))
        c.settle()
        return c.kubelets.workloads.process("p").rng.random()

    assert draws(1) == draws(1) != draws(2)


# -- the network -----------------------------------------------------------------------------


def test_resolve_and_connect_by_dns_name(kube):
    kube.apply([headless_service("nginx"), statefulset("web", 2, image="rec:1")])
    kube.create(pod("plain", node="n1"))
    kube.settle()
    w0 = proc(kube, "web-0")
    ip1 = kube.get("Pod", "web-1")["status"]["podIP"]
    assert w0.resolve("web-1.nginx") == [ip1]
    with pytest.raises(NXDomain):
        w0.resolve("web-9.nginx")
    conn = w0.connect("web-1.nginx", 80)
    assert conn.request("hi") == {"echo": "hi", "pod": "web-1"}
    assert (conn.local_ip, conn.remote_ip) == (w0.pod_ip, ip1)
    assert w0.connect("localhost", 80).request("me")["pod"] == "web-0"
    assert w0.connect(w0.hostname, 80).request("me")["pod"] == "web-0"
    with pytest.raises(UnknownHost):
        w0.connect("web-9.nginx", 80)
    with pytest.raises(ConnectionRefused):
        w0.connect("web-1.nginx", 81)
    with pytest.raises(ConnectionRefused):  # a pod that runs no behaviour
        w0.connect(kube.get("Pod", "plain")["status"]["podIP"], 80)
    with pytest.raises(UnknownHost):
        w0.connect("example.com", 80)
    with pytest.raises(OSError, match="in use"):
        w0.serve(80, lambda m, c: None)


def test_messages_are_copied_between_processes(kube):
    kube.create(pod("p", node="n1", image="rec"))
    kube.settle()
    msg = {"list": [1, 2]}
    reply = kube.kubelets.workloads.connect(proc(kube, "p").pod_ip, 80).request(msg)
    assert reply["echo"] == msg and reply["echo"] is not msg
    assert reply["echo"]["list"] is not msg["list"]


def test_a_dead_process_refuses_and_closes_its_connections(kube):
    kube.create(pod("p", node="n1", image="rec"))
    kube.settle()
    ip = proc(kube, "p").pod_ip
    net = kube.kubelets.workloads
    conn = net.connect(ip, 80)
    closed = []
    conn.on_close = lambda: closed.append(True)
    kube.fail_node("n1")
    with pytest.raises(ConnectionClosed):
        conn.request("x")
    with pytest.raises(ConnectionRefused):
        net.connect(ip, 80)
    kube.advance(0)
    assert closed == [True]


def test_a_request_that_crashes_the_server_resets_the_connection(kube):
    kube.create(pod("p", node="n1", image="rec"))
    kube.settle()
    conn = kube.kubelets.workloads.connect(proc(kube, "p").pod_ip, 80)
    with pytest.raises(ConnectionClosed) as info:
        conn.request("boom")
    assert isinstance(info.value.__cause__, ValueError)
    kube.advance(1)
    cs = kube.get("Pod", "p")["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 1
    assert cs["lastState"]["terminated"]["message"] == "ValueError: the handler blew up"


def test_pushes_arrive_in_order_in_the_run_loop(kube):
    class Pusher(Workload):
        def start(self, ctx):
            self.subs = []
            ctx.serve(9000, self.handle)

        def handle(self, msg, conn):
            if msg == "sub":
                self.subs.append(conn)
                return "ok"
            for i in range(3):
                for s in self.subs:
                    s.send((msg, i))
            return "sent"

    kube.kubelets.workloads.register("pusher", Pusher)
    kube.create(pod("p", node="n1", image="pusher"))
    kube.settle()
    net = kube.kubelets.workloads
    got = []
    conn = net.connect(proc(kube, "p").pod_ip, 9000)
    conn.on_message = got.append
    assert conn.request("sub") == "ok"
    net.connect(proc(kube, "p").pod_ip, 9000).request("go")
    assert got == []  # one-way messages are delivered by the run loop
    kube.settle()
    assert got == [("go", 0), ("go", 1), ("go", 2)]


def test_connect_to_a_service_reaches_its_ready_endpoints(kube):
    kube.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
                 "spec": {"selector": {"app": "api"},
                          "ports": [{"name": "http", "port": 8080, "targetPort": 80}]}})
    for name, node in (("a", "n1"), ("b", "n2")):
        kube.create(pod(name, node=node, image="rec", labels={"app": "api"}))
    kube.settle()
    net = kube.kubelets.workloads
    seen = {net.connect("api", 8080).request("x")["pod"] for _ in range(4)}
    assert seen == {"a", "b"}
    kube.set_pod_ready("b", False)
    kube.settle()
    assert {net.connect("api.default.svc", 8080).request("x")["pod"] for _ in range(3)} == {"a"}
    kube.set_pod_ready("a", False)
    kube.settle()
    with pytest.raises(ConnectionRefused):  # no ready endpoint: kube-proxy rejects
        net.connect("api", 8080)


def test_waiting_for_a_peer_is_event_driven(kube):
    class Client(Workload):
        def start(self, ctx):
            self.ctx = ctx
            self.answer = None
            ctx.set_ready(False)
            self.attempts = 0
            self.try_peer()

        def try_peer(self):
            self.attempts += 1
            try:
                self.answer = self.ctx.connect("server-0.nginx", 80).request("ping")
            except OSError:
                self.ctx.retry_on_change(self.try_peer)
                return
            self.ctx.set_ready(True)

    kube.kubelets.workloads.register("client", Client)
    kube.apply(headless_service("nginx"))
    kube.create(pod("c", node="n1", image="client"))
    assert kube.settle() == 0  # waiting schedules nothing: a fixed point
    c = proc(kube, "c").behaviour
    assert c.answer is None and not ready(kube, "c")
    kube.apply(statefulset("server", 1, image="rec", service="nginx", claims={}))
    kube.settle()
    assert c.answer == {"echo": "ping", "pod": "server-0"}
    assert ready(kube, "c")
    assert c.attempts < 20
