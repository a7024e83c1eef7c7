"""``serve(cluster)``: the REST API of a cluster on loopback, and what a test gets back.

:func:`serve` is the context manager behind ``Cluster.serve()``: it starts the served run
loop (:mod:`.servedloop`), the HTTP server (:mod:`.server`) on a free loopback port, writes a
kubeconfig, optionally starts a DNS server, and yields an :class:`Endpoint`. On exit it ends
every watch, stops the server and the loop, and removes the kubeconfig it created. An error
a controller raised in the loop, not yet reported by ``settle()``, is raised on exit.

Authentication: with ``auth=True`` (the default) every request must carry
``Authorization: Bearer <token>``, and the server speaks HTTPS with a self-signed loopback
certificate (:mod:`.tls`; kubectl sends a token only over TLS); the token is drawn from :mod:`secrets` for each serve,
not from the cluster's seeded RNG, so serving does not shift any seeded draw and the token
cannot be predicted from the seed. It is written into the kubeconfig and handed to
``api_client()``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from typing import Any, Callable, ContextManager, Iterator

from .kubeconfig import write_kubeconfig
from .rest import RestApi
from .server import HttpServer
from .servedloop import ServedLoop

__all__ = ["serve", "Endpoint"]

DnsFactory = Callable[[], ContextManager[tuple[str, int]]]


class Endpoint:
    """What ``with cluster.serve() as endpoint`` gives: ``url``, ``kubeconfig`` (a path),
    ``token``, ``dns`` ((host, port) or None), ``api_client()``, and ``settle()`` (waits for
    the background loop to reach a fixed point)."""

    def __init__(self, url: str, kubeconfig: str, token: str | None,
                 dns: tuple[str, int] | None, rest: RestApi, loop: ServedLoop,
                 server: HttpServer) -> None:
        self.url = url
        self.kubeconfig = kubeconfig
        self.token = token
        self.dns = dns
        self.rest = rest
        self.loop = loop
        self.server = server

    def api_client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` whose requests reach this cluster in process,
        without sockets (needs the ``kubernetes`` package)."""
        from .transport import api_client

        return api_client(self.rest, self.url, self.token)

    def settle(self, max_seconds: float = 3600) -> float:
        return self.loop.settle(max_seconds)

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def __repr__(self) -> str:
        return f"<fakekube Endpoint {self.url} kubeconfig={self.kubeconfig}>"


def _default_dns(cluster: Any) -> DnsFactory | None:
    dns = getattr(cluster, "dns", None)
    serve_dns = getattr(dns, "serve", None)
    return serve_dns if callable(serve_dns) else None


@contextlib.contextmanager
def serve(cluster: Any, *, auth: bool = True, host: str = "127.0.0.1", port: int = 0,
          kubeconfig: str | os.PathLike | None = None, dns: DnsFactory | bool | None = None,
          tls: bool | None = None, watch_timeout: float = 1800.0) -> Iterator[Endpoint]:
    """Serve ``cluster`` over HTTP while the block runs.

    ``dns``: a callable returning a context manager that yields ``(host, port)`` (e.g.
    ``cluster.dns.serve``); None (the default) uses ``cluster.dns.serve`` when the cluster
    has one; False serves no DNS. ``kubeconfig``: where to write it (default: a temporary
    file, removed on exit). ``tls``: serve HTTPS with a self-signed certificate (default:
    when ``auth`` is on, because kubectl sends a bearer token only over TLS).
    """
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise ValueError("fakekube serves on loopback only")
    token = secrets.token_urlsafe(32) if auth else None
    loop = ServedLoop(cluster.manager, cluster.clock, cluster.store,
                      max_reconciles=cluster.config.max_reconciles,
                      report=getattr(cluster, "_busy_report", None))
    if tls is None:
        tls = auth
    ctx = ca_pem = None
    if tls:
        from .tls import certificate, server_context

        ctx, ca_pem = server_context(), certificate()[0]
    server = HttpServer(None, host, port, ssl_context=ctx)  # type: ignore[arg-type]
    rest = RestApi(cluster.api, clock=cluster.clock,
                   kubernetes_version=cluster.config.kubernetes_version, token=token,
                   address=f"{server.host}:{server.port}", on_request=loop.touch,
                   watch_timeout=watch_timeout)
    server.rest = rest
    tmpdir = None
    if kubeconfig is None:
        tmpdir = tempfile.mkdtemp(prefix="fakekube-")
        kubeconfig = os.path.join(tmpdir, "kubeconfig")
    path = write_kubeconfig(kubeconfig, server.url, token, ca_pem=ca_pem)
    factory = _default_dns(cluster) if dns is None else (dns or None)
    with contextlib.ExitStack() as stack:
        try:
            dns_addr = stack.enter_context(factory()) if callable(factory) else None
            loop.start()
            server.start()
        except BaseException:
            server.stop()
            loop.stop()
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        ep = Endpoint(server.url, path, token, dns_addr, rest, loop, server)
        failed = False
        try:
            yield ep
        except BaseException:
            failed = True
            raise
        finally:
            server.stop()
            loop.stop()
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
            if not failed and loop.error is not None:
                err, loop.error = loop.error, None
                raise err
