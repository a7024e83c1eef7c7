"""An in-process transport for the official ``kubernetes`` Python client.

:func:`api_client` returns a real ``kubernetes.client.ApiClient`` whose requests never touch
a socket: its REST client's urllib3 pool manager is replaced by :class:`InProcessPool`, which
hands each request to :meth:`fakekube.http.rest.RestApi.handle` in the calling thread and
wraps the answer in an object with the parts of ``urllib3.HTTPResponse`` the client reads
(``status``, ``headers``, ``data``, ``read``, ``stream`` for watches, ``release_conn``). The
client's serialization, models, errors and ``watch.Watch`` all run unchanged.

The ``kubernetes`` package is not a dependency of fakekube: it is imported here lazily, and
:func:`api_client` raises an ImportError saying what to install when it is missing.
"""

from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import urlsplit

__all__ = ["api_client", "InProcessPool", "InProcessResponse"]

_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            406: "Not Acceptable", 409: "Conflict", 410: "Gone", 413: "Request Entity Too Large",
            415: "Unsupported Media Type", 422: "Unprocessable Entity",
            429: "Too Many Requests", 500: "Internal Server Error", 504: "Gateway Timeout"}


_HEADER_DICT: Any = None


def _header_dict(pairs: list[tuple[str, str]]) -> Any:
    global _HEADER_DICT
    cls = _HEADER_DICT
    if cls is None:
        try:
            from urllib3 import HTTPHeaderDict as cls
        except ImportError:  # pragma: no cover - urllib3 < 2
            from urllib3._collections import HTTPHeaderDict as cls  # type: ignore
        _HEADER_DICT = cls
    d = cls()
    for k, v in pairs:
        d.add(k, v)
    return d


def _target(url: str) -> str:
    """The request target (path and query) of an absolute URL, as ``urlsplit`` reads it.
    The client's URLs are ``<scheme>://<host:port><path>[?<query>]``: those are cut
    directly; anything else (a fragment, characters urlsplit drops) goes to urlsplit."""
    if url.startswith(("http://", "https://")) and "#" not in url and url.isascii() and (
            url.isprintable() and " " not in url):
        start = url.index("//") + 2
        i = url.find("/", start)
        if i > 0:
            netloc = url[start:i]
            if "?" not in netloc and "[" not in netloc and "]" not in netloc:
                path, _, query = url[i:].partition("?")
                return path + "?" + query if query else path
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class InProcessResponse:
    """Looks enough like ``urllib3.HTTPResponse`` for the kubernetes client."""

    def __init__(self, resp: Any) -> None:
        self.status = resp.status
        self.reason = _REASONS.get(resp.status, "")
        self.headers = _header_dict(resp.headers)
        self._body = resp.body
        self._stream = resp.stream
        self._data: bytes | None = None if resp.stream is not None else resp.body

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = b"".join(self.stream())
        return self._data

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        return self.data

    def stream(self, amt: int | None = 2 ** 16, decode_content: bool | None = None
               ) -> Iterator[bytes]:
        if self._stream is None:
            if self._body:
                yield self._body
            return
        stream, self._stream = self._stream, None
        try:
            for chunk in stream:
                if chunk:
                    yield chunk
        finally:
            stream.close()

    def getheaders(self) -> Any:
        return self.headers

    def getheader(self, name: str, default: Any = None) -> Any:
        return self.headers.get(name, default)

    def release_conn(self) -> None:
        self.close()

    def drain_conn(self) -> None:
        self.close()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    @property
    def closed(self) -> bool:
        return self._stream is None


class InProcessPool:
    """Stands in for ``urllib3.PoolManager``: ``request()`` calls the REST handler."""

    def __init__(self, rest: Any) -> None:
        self.rest = rest

    def request(self, method: str, url: str, fields: Any = None, headers: Any = None,
                body: Any = None, **kwargs: Any) -> InProcessResponse:
        target = _target(url)
        hdrs = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = str(body).encode("utf-8")
        return InProcessResponse(self.rest.handle(method.upper(), target, hdrs, data))

    def clear(self) -> None:
        pass


def api_client(rest: Any, url: str, token: str | None = None) -> Any:
    """A ``kubernetes.client.ApiClient`` for ``rest``, talking to it in process."""
    try:
        from kubernetes import client as k8s
    except ImportError as exc:
        raise ImportError(
            "endpoint.api_client() needs the official Kubernetes Python client, which "
            "fakekube does not depend on: pip install kubernetes") from exc
    cfg = k8s.Configuration()
    cfg.host = url
    if token:
        cfg.api_key = {"BearerToken": token}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
    c = k8s.ApiClient(cfg)
    c.rest_client.pool_manager = InProcessPool(rest)
    return c
