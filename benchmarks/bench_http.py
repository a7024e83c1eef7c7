"""REST facade speed, side by side in one run.

    python benchmarks/bench_http.py [--quick]

1. create+get of a ConfigMap through the official ``kubernetes`` client over HTTP, against
   fakekube (plain HTTP, no auth) and against the ceiling: a bare standard-library
   ``http.server`` answering fixed bytes on the same kind of connection (target: fakekube at
   least 80% of the ceiling's rate). fakekube over HTTPS with a bearer token is shown too.
2. the same through the in-process transport (``endpoint.api_client()``, no sockets; target:
   at least 5,000 operations/s, one create or one get being one operation).
3. watch delivery: 10,000 events replayed to a watching HTTP client that reads and parses
   every line (target: under 2 s), and, for information, 10,000 live events, and the official
   client's ``watch.Watch`` (which also builds a pydantic model per event).

Client and server share the process (threads), as in a test that serves a cluster. Each
figure is the median of ROUNDS rounds.
"""

from __future__ import annotations

import http.client
import http.server
import json
import statistics
import sys
import threading
import time

import fakekube
from fakekube.http import serve

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 5
N_OPS = 300 if QUICK else 1000
N_EVENTS = 10_000

CM_BODY = {"metadata": {"name": "x"}, "data": {"k": "v"}}


class _Fixed(http.server.BaseHTTPRequestHandler):
    """The ceiling: fixed bytes, one buffered write per answer, Nagle off (without these the
    stdlib server pays a 40 ms delayed-ACK stall per request and is no ceiling at all)."""

    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    created = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "x", "namespace": "default", "uid": "0b3c5f0e-1d2a-4c6b-9e1f-123456789abc",
        "resourceVersion": "7", "creationTimestamp": "2025-01-01T00:00:00Z"},
        "data": {"k": "v"}}).encode()

    def _answer(self, code: int) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.created)))
        self.end_headers()
        self.wfile.write(self.created)

    def do_POST(self) -> None:
        self._answer(201)

    def do_GET(self) -> None:
        self._answer(200)

    def log_message(self, *args) -> None:
        pass


def median_rate(fn, n: int) -> float:
    rates = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        fn(n)
        rates.append(n / (time.perf_counter() - t))
    return statistics.median(rates)


def k8s_client(url: str, token: str | None = None, ca: str | None = None):
    from kubernetes import client

    cfg = client.Configuration()
    cfg.host = url
    if token:
        cfg.api_key = {"BearerToken": token}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
    if ca:
        cfg.ssl_ca_cert = ca
    return client.CoreV1Api(client.ApiClient(cfg))


def create_get_loop(v1, names=iter(range(10 ** 9))):
    def run(n: int) -> None:
        for _ in range(n // 2):
            name = f"cm-{next(names)}"
            v1.create_namespaced_config_map("default", {"metadata": {"name": name},
                                                        "data": {"k": "v"}})
            v1.read_namespaced_config_map(name, "default")
    return run


def bench_create_get() -> list[tuple[str, float, str]]:
    """Rounds alternate between the ceiling and fakekube, so that noise from a shared
    machine hits both alike."""
    from kubernetes import client as k8s

    rows = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ceiling_run = create_get_loop(k8s_client(f"http://127.0.0.1:{srv.server_port}"))
    cluster = fakekube.Cluster(nodes=0)
    with serve(cluster, auth=False) as ep:
        fk_run = create_get_loop(k8s_client(ep.url))
        inproc_run = create_get_loop(k8s.CoreV1Api(ep.api_client()))
        rates: dict[str, list[float]] = {"ceiling": [], "fk": [], "inproc": []}
        for _ in range(ROUNDS):
            for key, run in (("ceiling", ceiling_run), ("fk", fk_run),
                             ("inproc", inproc_run)):
                t = time.perf_counter()
                run(N_OPS)
                rates[key].append(N_OPS / (time.perf_counter() - t))
    srv.shutdown()
    ceiling = statistics.median(rates["ceiling"])
    fk = statistics.median(rates["fk"])
    ratio = statistics.median(f / c for f, c in zip(rates["fk"], rates["ceiling"]))
    rows.append(("official client, bare stdlib server (ceiling)", ceiling, "ops/s"))
    rows.append(("official client, fakekube over HTTP", fk, "ops/s"))
    rows.append(("  ratio to ceiling, median of paired rounds (target >= 80%)", 100 * ratio,
                 "%"))
    rows.append(("official client, in-process transport (target >= 5000)",
                 statistics.median(rates["inproc"]), "ops/s"))
    cluster = fakekube.Cluster(nodes=0)
    import tempfile

    from fakekube.http.tls import certificate
    with serve(cluster) as ep, tempfile.NamedTemporaryFile("w", suffix=".pem") as ca:
        ca.write(certificate()[0])
        ca.flush()
        tls = median_rate(create_get_loop(k8s_client(ep.url, ep.token, ca.name)), N_OPS)
        rows.append(("official client, fakekube over HTTPS + token", tls, "ops/s"))
    return rows


def _fill(cluster, n: int) -> str:
    rv = cluster.list("ConfigMap", "default")["metadata"]["resourceVersion"]
    rt = cluster.api.registry.by_kind("ConfigMap")
    for i in range(n):
        cluster.api.create(rt, {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": f"e{i}", "namespace": "default"},
                                "data": {"i": str(i)}}, owned=True, copy_out=False)
    return rv


def bench_watch() -> list[tuple[str, float, str]]:
    rows = []
    cluster = fakekube.Cluster(nodes=0)
    with serve(cluster, auth=False) as ep:
        start_rv = _fill(cluster, N_EVENTS)
        times = []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            conn = http.client.HTTPConnection(ep.host, ep.port, timeout=60)
            conn.request("GET", f"/api/v1/namespaces/default/configmaps?watch=true"
                                f"&resourceVersion={start_rv}&timeoutSeconds=60")
            r = conn.getresponse()
            n = 0
            while n < N_EVENTS:
                json.loads(r.readline())
                n += 1
            times.append(time.perf_counter() - t)
            conn.close()
        rows.append((f"watch: {N_EVENTS} replayed events to an HTTP client (target < 2 s)",
                     statistics.median(times), "s"))
        # live: events written while the client watches
        times = []
        for rnd in range(ROUNDS):
            conn = http.client.HTTPConnection(ep.host, ep.port, timeout=60)
            conn.request("GET", "/api/v1/namespaces/default/secrets?watch=true"
                                f"&resourceVersion={cluster.store.rv}&timeoutSeconds=60")
            r = conn.getresponse()
            rt = cluster.api.registry.by_kind("Secret")

            def write() -> None:
                for i in range(N_EVENTS):
                    cluster.api.create(rt, {"apiVersion": "v1", "kind": "Secret", "metadata": {
                        "name": f"s{rnd}-{i}", "namespace": "default"}}, owned=True,
                        copy_out=False)

            t = time.perf_counter()
            w = threading.Thread(target=write)
            w.start()
            for _ in range(N_EVENTS):
                json.loads(r.readline())
            times.append(time.perf_counter() - t)
            w.join()
            conn.close()
        rows.append((f"watch: {N_EVENTS} live events, writes included", statistics.median(times),
                     "s"))
        from kubernetes import watch

        v1 = __import__("kubernetes").client.CoreV1Api(ep.api_client())
        t = time.perf_counter()
        n = 0
        w = watch.Watch()
        for _ in w.stream(v1.list_namespaced_config_map, "default", resource_version=start_rv,
                          timeout_seconds=60):
            n += 1
            if n == N_EVENTS:
                w.stop()
        rows.append((f"watch: {N_EVENTS} events to kubernetes watch.Watch (models, in-process)",
                     time.perf_counter() - t, "s"))
    return rows


def main() -> None:
    rows = bench_create_get() + bench_watch()
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'value':>10}  unit")
    print("-" * (width + 20))
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>10.{2 if unit == 's' else 0}f}  {unit}")


if __name__ == "__main__":
    main()
