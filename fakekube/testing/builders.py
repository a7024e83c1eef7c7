"""Builders for the wire-format objects tests create most, with the defaults a manifest
would leave out. Each returns a fresh dict; keyword arguments go into ``spec``.

>>> pod("web-0", labels={"app": "web"})["metadata"]
{'name': 'web-0', 'labels': {'app': 'web'}}
"""

from __future__ import annotations

from typing import Any

__all__ = ["configmap", "pod", "namespace", "pdb", "statefulset", "headless_service"]


def _meta(name: str, namespace: str | None, labels: dict | None,
          annotations: dict | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def configmap(name: str, namespace: str | None = None, labels: dict | None = None,
              data: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta(name, namespace, labels), "data": dict(data or {})}


def namespace(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, None, labels)}


def pod(name: str, namespace: str | None = None, labels: dict | None = None,
        node: str | None = None, image: str = "nginx:1.27", **spec: Any) -> dict:
    """A one-container pod; ``node`` binds it (``spec.nodeName``) at creation."""
    body: dict[str, Any] = {"containers": [{"name": "app", "image": image}]}
    body.update(spec)
    if node:
        body["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(name, namespace, labels),
            "spec": body}


def pdb(name: str, selector: dict, namespace: str | None = None, *,
        min_available: int | str | None = None, max_unavailable: int | str | None = None
        ) -> dict:
    spec: dict[str, Any] = {"selector": {"matchLabels": dict(selector)}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _meta(name, namespace, None), "spec": spec}


def statefulset(name: str = "web", replicas: int = 3, *, service: str | None = "nginx",
                labels: dict | None = None, claims: dict[str, str] | None = None,
                storage_class: str | None = "standard", image: str = "nginx:1.27",
                namespace: str | None = None, **spec: Any) -> dict:
    """A StatefulSet in the shape of SPEC.md's Fixture F: selector and template labels
    ``labels`` (default ``app: <service or name>``), one container, and one claim template
    per entry of ``claims`` (template name -> size; default ``{"www": "1Gi"}``; pass ``{}``
    for none). Extra keyword arguments go into ``spec`` (``podManagementPolicy``,
    ``updateStrategy``, ``minReadySeconds``, ...)."""
    labels = dict(labels or {"app": service or name})
    body: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": dict(labels)},
        "template": {"metadata": {"labels": dict(labels)},
                     "spec": {"containers": [{"name": "app", "image": image,
                                              "ports": [{"name": "web",
                                                         "containerPort": 80}]}]}},
    }
    if service:
        body["serviceName"] = service
    templates = []
    for tname, size in (claims if claims is not None else {"www": "1Gi"}).items():
        cspec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"],
                                 "resources": {"requests": {"storage": size}}}
        if storage_class is not None:
            cspec["storageClassName"] = storage_class
        templates.append({"metadata": {"name": tname}, "spec": cspec})
        body["template"]["spec"]["containers"][0].setdefault("volumeMounts", []).append(
            {"name": tname, "mountPath": f"/data/{tname}"})
    if templates:
        body["volumeClaimTemplates"] = templates
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": _meta(name, namespace, None), "spec": body}


def headless_service(name: str = "nginx", selector: dict | None = None,
                     ports: dict[str, int] | None = None, namespace: str | None = None) -> dict:
    """A headless Service (``clusterIP: None``) with named ports (default ``web: 80``)."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, namespace, None),
            "spec": {"clusterIP": "None", "selector": dict(selector or {"app": name}),
                     "ports": [{"name": pname, "port": port, "targetPort": port}
                               for pname, port in (ports or {"web": 80}).items()]}}
