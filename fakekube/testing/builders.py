"""Builders for the wire-format objects tests create most, with the defaults a manifest
would leave out. Each returns a fresh dict; keyword arguments go into ``spec``.

>>> pod("web-0", labels={"app": "web"})["metadata"]
{'name': 'web-0', 'labels': {'app': 'web'}}
"""

from __future__ import annotations

from typing import Any

__all__ = ["configmap", "pod", "namespace", "pdb"]


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
