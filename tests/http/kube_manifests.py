"""Manifests and helpers shared by the client tests."""

import time

SERVICE = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "nginx", "namespace": "default"},
           "spec": {"clusterIP": "None", "selector": {"app": "nginx"},
                    "ports": [{"port": 80, "name": "web"}]}}


def statefulset(name: str = "web", replicas: int = 3, claims: bool = True) -> dict:
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"serviceName": "nginx", "replicas": replicas,
                    "selector": {"matchLabels": {"app": "nginx"}},
                    "template": {"metadata": {"labels": {"app": "nginx"}},
                                 "spec": {"containers": [{
                                     "name": "nginx", "image": "nginx:1.27",
                                     "ports": [{"containerPort": 80, "name": "web"}],
                                     "volumeMounts": [{"name": "www",
                                                       "mountPath": "/usr/share/nginx"}]}]}}}}
    if claims:
        sts["spec"]["volumeClaimTemplates"] = [{
            "metadata": {"name": "www"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}]
    else:
        del sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    return sts


NO_SCHEDULER = "no-such-scheduler"


def pod(name: str, node: str | None = "node-1", labels: dict | None = None) -> dict:
    """A busybox pod bound to ``node``; with ``node=None`` a pod that stays unbound (Pending,
    deleted at once), as it names a scheduler that does not run."""
    spec: dict = {"containers": [{"name": "app", "image": "busybox:1.36"}]}
    if node:
        spec["nodeName"] = node
    else:
        spec["schedulerName"] = NO_SCHEDULER
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default",
                         "labels": labels or {"app": "demo"}},
            "spec": spec}


def deployment(name: str = "api", replicas: int = 2) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "img:1"}]}}}}


def wait_until(cluster, predicate, timeout: float = 20.0) -> bool:
    """Wait on the store's condition (notified by every write, watch open and watch close)
    until ``predicate()`` holds; False on timeout. No polling."""
    store = cluster.store
    end = time.monotonic() + timeout
    with store.changed:
        while not predicate():
            left = end - time.monotonic()
            if left <= 0:
                return False
            store._waiters += 1
            try:
                store.changed.wait(left)
            finally:
                store._waiters -= 1
    return True
