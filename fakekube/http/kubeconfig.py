"""Kubeconfig files for a served cluster: what kubectl and the official clients read.

The loopback server (``https://`` with its self-signed CA as ``certificate-authority-data``
when authentication is on, since kubectl sends tokens only over TLS; plain ``http://``
otherwise), one context named after the cluster (namespace ``default``), and the cluster's
bearer token as the user's ``token`` (an empty user when authentication is off).
"""

from __future__ import annotations

import base64
import os
from typing import Any

import yaml

__all__ = ["kubeconfig_dict", "write_kubeconfig"]


def kubeconfig_dict(url: str, token: str | None, *, name: str = "fakekube",
                    namespace: str = "default", ca_pem: str | None = None) -> dict[str, Any]:
    """The kubeconfig document as a dict; ``ca_pem`` is the server's CA certificate."""
    cluster: dict[str, Any] = {"server": url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token} if token else {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name,
                                                "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(path: str | os.PathLike, url: str, token: str | None, *,
                     name: str = "fakekube", namespace: str = "default",
                     ca_pem: str | None = None) -> str:
    """Write the kubeconfig to ``path`` (mode 0600, as it holds a credential); returns the
    path as a string."""
    path = os.fspath(path)
    text = yaml.safe_dump(kubeconfig_dict(url, token, name=name, namespace=namespace,
                                          ca_pem=ca_pem),
                          sort_keys=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path
