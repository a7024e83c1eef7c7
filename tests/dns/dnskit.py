"""Builders for the DNS tests (imported by them as ``dnskit``): a cluster with Service
allocation, the EndpointSlice controller and a ClusterDNS, however far the cluster already
wires them itself."""

from __future__ import annotations

import random
import fakekube
from fakekube.api import service_alloc
from fakekube.controllers.endpointslice import EndpointSliceController
from fakekube.dns import ClusterDNS


def build(nodes: int = 3, seed: int = 0, pod_records: str | None = None,
          **options) -> tuple[fakekube.Cluster, ClusterDNS]:
    c = fakekube.Cluster(nodes=nodes, zones=["a", "b", "c"][:max(1, nodes)], seed=seed,
                         **options)
    if not hasattr(c.api, "service_allocation"):
        service_alloc.install(c.api, random.Random(seed))
    if EndpointSliceController not in {type(x) for x in c.manager.controllers}:
        c.manager.add(EndpointSliceController(c.ctx)).setup()
    dns = getattr(c, "dns", None)
    if pod_records is not None or not isinstance(dns, ClusterDNS):
        dns = ClusterDNS(c.api, pod_records=pod_records or "verified")
    return c, dns


def service(name: str, *, headless: bool = False, selector: dict | None = None,
            ports: list | None = None, namespace: str = "default", **spec) -> dict:
    spec["selector"] = selector if selector is not None else {"app": name}
    spec["ports"] = ports if ports is not None else [{"name": "web", "port": 80,
                                                       "targetPort": 8080}]
    if headless:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def pod(name: str, node: str = "node-1", *, app: str = "nginx", hostname: str = "",
        subdomain: str = "", namespace: str = "default", **spec) -> dict:
    spec.setdefault("containers", [{"name": "c", "image": "nginx", "ports": [
        {"name": "http", "containerPort": 8080}]}])
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
            "spec": spec}


def stateful_pod(i: int, svc: str = "nginx", node: str | None = None) -> dict:
    """A pod as a StatefulSet ``web`` with serviceName ``svc`` makes it."""
    return pod(f"web-{i}", node or f"node-{i % 3 + 1}", app=svc, hostname=f"web-{i}",
               subdomain=svc)


def ip_of(c: fakekube.Cluster, name: str, namespace: str = "default") -> str:
    return c.get("Pod", name, namespace)["status"]["podIP"]
