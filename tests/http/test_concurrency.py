"""Many clients at once: 16 writer threads (10,000 writes in all, half of them read-modify-
write increments of shared counters with optimistic concurrency) and 8 watchers over HTTP.

Every watcher must receive every event exactly once and in resourceVersion order; no
increment may be lost (a writer that loses the race gets 409 and retries); the served run
loop goes on reconciling meanwhile.
"""

from __future__ import annotations

import http.client
import json
import threading

import fakekube
from fakekube.http import serve
from kube_manifests import pod

WRITERS = 16
WATCHERS = 8
WRITES = 10_000
COUNTERS = 4
CM = "/api/v1/namespaces/default/configmaps"


def _conn(ep):
    return http.client.HTTPConnection(ep.host, ep.port, timeout=60)


def _req(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"} if body is not None else {})
    r = conn.getresponse()
    return r.status, json.loads(r.read())


def test_writers_and_watchers():
    cluster = fakekube.Cluster(nodes=1)
    with serve(cluster, auth=False) as ep:
        for k in range(COUNTERS):
            cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": f"counter-{k}", "namespace": "default"},
                            "data": {"n": "0"}})
        start_rv = cluster.list("ConfigMap", "default")["metadata"]["resourceVersion"]
        received: list[list[tuple[str, int, str]]] = [[] for _ in range(WATCHERS)]
        ready = threading.Barrier(WATCHERS + 1)
        errors: list[BaseException] = []
        final_rv = [None]
        done = threading.Event()

        def watcher(i: int) -> None:
            try:
                conn = _conn(ep)
                conn.request("GET", f"{CM}?watch=true&resourceVersion={start_rv}"
                                    "&timeoutSeconds=120")
                r = conn.getresponse()
                assert r.status == 200
                ready.wait()
                out = received[i]
                while True:
                    line = r.readline()
                    if not line:
                        break
                    ev = json.loads(line)
                    rv = int(ev["object"]["metadata"]["resourceVersion"])
                    out.append((ev["type"], rv, ev["object"]["metadata"]["name"]))
                    if done.is_set() and final_rv[0] is not None and rv >= final_rv[0]:
                        break
                conn.close()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        increments = [0] * COUNTERS
        conflicts = [0]
        lock = threading.Lock()

        def writer(w: int) -> None:
            try:
                conn = _conn(ep)
                for j in range(WRITES // WRITERS):
                    if j % 2 == 0:
                        s, body = _req(conn, "POST", CM, {"metadata": {"name": f"w{w}-{j}"},
                                                          "data": {"j": str(j)}})
                        assert s == 201, body
                        continue
                    k = (w + j) % COUNTERS
                    while True:
                        s, cur = _req(conn, "GET", f"{CM}/counter-{k}")
                        assert s == 200
                        cur["data"]["n"] = str(int(cur["data"]["n"]) + 1)
                        s, body = _req(conn, "PUT", f"{CM}/counter-{k}", cur)
                        if s == 200:
                            with lock:
                                increments[k] += 1
                            break
                        assert s == 409 and body["reason"] == "Conflict", body
                        with lock:
                            conflicts[0] += 1
                conn.close()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        watchers = [threading.Thread(target=watcher, args=(i,)) for i in range(WATCHERS)]
        for t in watchers:
            t.start()
        ready.wait(30)
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in writers:
            t.start()
        cluster.create(pod("busy", node="node-1"))  # the loop has work meanwhile
        for t in writers:
            t.join(300)
        assert not errors, errors[:3]
        table = cluster.api.table(cluster.api.registry.by_kind("ConfigMap"))
        expected = [(ev.type, ev.rv, ev.obj["metadata"]["name"])
                    for ev in table.events_after(int(start_rv))]
        final_rv[0] = expected[-1][1]
        done.set()
        # nudge watchers blocked on an idle stream: one more write they will see
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "last", "namespace": "default"}})
        for t in watchers:
            t.join(120)
        assert not errors, errors[:3]
        assert len(expected) == WRITES
        for out in received:
            got = [e for e in out if e[1] <= final_rv[0]]
            assert got == expected  # every event, once, in order
        for k in range(COUNTERS):
            n = int(cluster.get("ConfigMap", f"counter-{k}")["data"]["n"])
            assert n == increments[k]
        assert sum(increments) == WRITERS * ((WRITES // WRITERS) // 2)
        ep.settle()
        assert cluster.get("Pod", "busy")["status"]["phase"] == "Running"
        assert ep.loop.error is None and ep.loop.reconciles > 0
