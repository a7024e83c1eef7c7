"""The REST facade: fakekube's API over HTTP for real clients (kubectl, client-go, the
official Python client, kr8s, lightkube).

``serve(cluster)`` (behind ``Cluster.serve()``) starts the served run loop and a loopback
HTTP server and yields an :class:`Endpoint` (``url``, ``kubeconfig``, ``dns``,
``api_client()``). The facade only translates HTTP to calls of the API layer and back; see
:mod:`.rest` for the translation, :mod:`.routes`, :mod:`.discovery`, :mod:`.tables`,
:mod:`.watchstream`, :mod:`.server`, :mod:`.servedloop` and :mod:`.transport`.
"""

from .endpoint import Endpoint, serve
from .rest import RestApi
from .servedloop import ServedLoop

__all__ = ["serve", "Endpoint", "RestApi", "ServedLoop"]
