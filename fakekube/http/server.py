"""The socket side: a small threaded HTTP/1.1 server on loopback in front of :class:`RestApi`.

One thread per connection, keep-alive, ``Content-Length`` or chunked request bodies,
``Expect: 100-continue``, chunked responses for watches. Whatever arrives, the answer is an
HTTP response with a ``Status`` body: a malformed request line or header gets 400, an
oversized header block 431, a body over the limit 413 (the body is drained first when that
is cheap, so the client reads the answer instead of a reset), and the connection is closed
only after an answer that leaves the byte stream unsynchronised.

Clients that disconnect in the middle of a watch are noticed at once by a monitor thread
that selects on the sockets of open watches (an idle watch has nothing to write, so a failed
write cannot tell), which closes the stream and frees its watcher.

Written on ``socketserver`` rather than ``http.server`` so that every failure path answers
with a Kubernetes ``Status`` and nothing is logged to stderr.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import socketserver
import ssl
import threading
from typing import Any

from .. import errors
from .rest import MAX_BODY_BYTES, Response, RestApi
from .watchstream import close_all

__all__ = ["HttpServer"]

MAX_LINE = 64 * 1024
MAX_HEADERS = 200
MAX_HEADER_BYTES = 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024
IDLE_TIMEOUT = 600.0

_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 410: "Gone",
            413: "Request Entity Too Large", 414: "Request-URI Too Long",
            415: "Unsupported Media Type", 422: "Unprocessable Entity",
            429: "Too Many Requests", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
            504: "Gateway Timeout", 505: "HTTP Version Not Supported"}


class _Close(Exception):
    """Stop serving this connection (after having answered, if an answer is due)."""


def _error_bytes(err: errors.ApiError, close: bool = True) -> bytes:
    body = json.dumps(err.status, separators=(",", ":")).encode()
    head = (f"HTTP/1.1 {err.code} {_REASONS.get(err.code, 'Error')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + ("Connection: close\r\n" if close else "") + "\r\n")
    return head.encode() + body


class _Monitor:
    """Watches the sockets of open watch streams and closes a stream when its client
    hangs up (the socket turns readable with EOF)."""

    def __init__(self) -> None:
        self._sel = selectors.DefaultSelector()
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._sel.register(self._r, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._pending: list[tuple[str, socket.socket, Any]] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="fakekube-http-monitor",
                                        daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, stream: Any) -> None:
        """Close ``stream`` when ``sock`` turns readable with EOF (plain sockets) or at
        all (TLS: a client sends nothing on a watch but its close_notify)."""
        self._post(("add", sock, stream))

    def remove(self, sock: socket.socket) -> None:
        self._post(("remove", sock, None))

    def _post(self, item: tuple) -> None:
        with self._lock:
            self._pending.append(item)
        try:
            self._w.send(b"x")
        except OSError:
            pass

    def stop(self) -> None:
        self._stopped = True
        try:
            self._w.send(b"x")
        except OSError:
            pass
        self._thread.join(timeout=5)
        self._sel.close()
        self._r.close()
        self._w.close()

    def _run(self) -> None:
        sel = self._sel
        while not self._stopped:
            try:
                ready = sel.select()
            except (OSError, ValueError):
                return
            for key, _ in ready:
                if key.data is None:
                    try:
                        self._r.recv(4096)
                    except OSError:
                        pass
                    continue
                sock, stream = key.fileobj, key.data
                gone = True
                if not isinstance(sock, ssl.SSLSocket):
                    try:
                        gone = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
                    except BlockingIOError:
                        continue
                    except OSError:
                        gone = True
                try:
                    sel.unregister(sock)
                except (KeyError, ValueError, OSError):
                    pass
                if gone:
                    stream.close()
            with self._lock:
                pending, self._pending = self._pending, []
            for op, sock, stream in pending:
                try:
                    if op == "add":
                        sel.register(sock, selectors.EVENT_READ, stream)
                    else:
                        sel.unregister(sock)
                except (KeyError, ValueError, OSError):
                    pass


class _Handler(socketserver.BaseRequestHandler):
    server: "_TCPServer"

    def handle(self) -> None:
        sock: socket.socket = self.request
        owner = self.server.owner
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if owner.ssl_context is not None:
            sock.settimeout(30)
            try:
                sock = owner.ssl_context.wrap_socket(sock, server_side=True)
            except (OSError, ValueError):
                return  # a failed handshake: nothing can be answered in HTTP
        sock.settimeout(IDLE_TIMEOUT)
        self.rfile = sock.makefile("rb", buffering=65536)
        owner._track(sock, True)
        try:
            while not owner.stopping:
                if not self._one(sock, owner):
                    break
        except (_Close, OSError):
            pass
        except Exception as exc:  # noqa: BLE001 -- a bug of ours: still an answer
            try:
                sock.sendall(_error_bytes(errors.InternalError(
                    f"Internal error occurred: {type(exc).__name__}: {exc}", {})))
            except OSError:
                pass
        finally:
            owner._track(sock, False)
            try:
                self.rfile.close()
            except OSError:
                pass

    # One request: False to stop serving the connection.
    def _one(self, sock: socket.socket, owner: "HttpServer") -> bool:
        rfile = self.rfile
        first = rfile.peek(1)[:1]
        if first == b"\x16" and owner.ssl_context is None:
            sock.sendall(_error_bytes(errors.BadRequest(
                "client sent a TLS handshake to an HTTP server", {})))
            return False
        line = rfile.readline(MAX_LINE + 1)
        if not line:
            return False
        if line in (b"\r\n", b"\n"):
            line = rfile.readline(MAX_LINE + 1)  # tolerate one stray CRLF between requests
            if not line:
                return False
        if len(line) > MAX_LINE:
            sock.sendall(_error_bytes(errors.ApiError("request line too long", {},
                                                      code=414, reason="RequestURITooLong")))
            return False
        try:
            text = line.decode("latin-1").rstrip("\r\n")
            method, target, version = text.split(" ")
        except ValueError:
            sock.sendall(_error_bytes(errors.BadRequest("malformed HTTP request line", {})))
            return False
        if not version.startswith("HTTP/1.") or not method.isalpha() or not target:
            if version.startswith("HTTP/") and version[5:6].isdigit() and version[5] != "1":
                sock.sendall(_error_bytes(errors.ApiError("HTTP version not supported", {},
                                                          code=505, reason="")))
            else:
                sock.sendall(_error_bytes(errors.BadRequest("malformed HTTP request line",
                                                            {})))
            return False
        headers: dict[str, str] = {}
        total = 0
        count = 0
        while True:
            h = rfile.readline(MAX_LINE + 1)
            if not h:
                return False
            total += len(h)
            count += 1
            if len(h) > MAX_LINE or total > MAX_HEADER_BYTES or count > MAX_HEADERS:
                sock.sendall(_error_bytes(errors.ApiError(
                    "request header fields too large", {}, code=431,
                    reason="RequestHeaderFieldsTooLarge")))
                return False
            if h in (b"\r\n", b"\n"):
                break
            name, sep, value = h.decode("latin-1").partition(":")
            name = name.strip().lower()
            if not sep or not name or " " in name or "\t" in name:
                sock.sendall(_error_bytes(errors.BadRequest("malformed HTTP header", {})))
                return False
            value = value.strip()
            if name in headers:
                headers[name] = headers[name] + "," + value
            else:
                headers[name] = value
        keep_alive = version == "HTTP/1.1"
        conn = headers.get("connection", "").lower()
        if "close" in conn:
            keep_alive = False
        elif "keep-alive" in conn:
            keep_alive = True
        limit = owner.rest.max_body_bytes
        # Authentication first, as upstream: an unauthenticated request learns nothing else.
        body = b""
        te = headers.get("transfer-encoding", "").lower()
        cl = headers.get("content-length")
        early: errors.ApiError | None = None
        if not owner.rest.authorized(headers) and not target.rstrip("/").endswith(
                ("/healthz", "/livez", "/readyz")):
            early = errors.Unauthorized("Unauthorized", None)
        if te and te != "identity":
            if te != "chunked":
                sock.sendall(_error_bytes(errors.ApiError("unsupported transfer encoding",
                                                          {}, code=501, reason="")))
                return False
            if headers.get("expect", "").lower() == "100-continue" and early is None:
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body, too_big = self._read_chunked(limit)
            if body is None:
                sock.sendall(_error_bytes(errors.BadRequest("malformed chunked body", {})))
                return False
            if too_big:
                early = early or errors.RequestEntityTooLarge(
                    f"Request entity too large: limit is {limit}", {})
        elif cl is not None:
            if not cl.isdigit():
                sock.sendall(_error_bytes(errors.BadRequest("invalid Content-Length", {})))
                return False
            n = int(cl)
            if n > limit or early is not None:
                if early is None:
                    early = errors.RequestEntityTooLarge(
                        f"Request entity too large: limit is {limit}", {})
                if n > DRAIN_LIMIT or headers.get("expect", "").lower() == "100-continue":
                    sock.sendall(_error_bytes(early))
                    _linger_close(sock)
                    return False
                self._drain(n)
            else:
                if headers.get("expect", "").lower() == "100-continue" and n:
                    sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = rfile.read(n) if n else b""
                if len(body) < n:
                    return False
        if early is not None:
            sock.sendall(_error_bytes(early, close=not keep_alive))
            return keep_alive
        resp = owner.rest.handle(method, target, headers, body)
        return self._respond(sock, resp, keep_alive, method == "HEAD", owner)

    def _drain(self, n: int) -> None:
        left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                raise _Close
            left -= len(chunk)

    def _read_chunked(self, limit: int) -> tuple[bytes | None, bool]:
        rfile = self.rfile
        parts = []
        size = 0
        too_big = False
        while True:
            line = rfile.readline(MAX_LINE + 1)
            if not line or len(line) > MAX_LINE:
                return None, False
            hexpart = line.split(b";", 1)[0].strip()
            try:
                n = int(hexpart, 16)
            except ValueError:
                return None, False
            if n < 0:
                return None, False
            if n == 0:
                while True:  # trailers
                    t = rfile.readline(MAX_LINE + 1)
                    if not t or len(t) > MAX_LINE:
                        return None, False
                    if t in (b"\r\n", b"\n"):
                        return b"".join(parts), too_big
            if size + n > DRAIN_LIMIT:
                return None, False
            data = rfile.read(n)
            if len(data) < n:
                return None, False
            size += n
            if size > limit:
                too_big = True
                parts = []
            else:
                parts.append(data)
            if rfile.readline(3) not in (b"\r\n", b"\n"):
                return None, False

    def _respond(self, sock: socket.socket, resp: Response, keep_alive: bool, head: bool,
                 owner: "HttpServer") -> bool:
        status = resp.status
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        for k, v in resp.headers:
            lines.append(f"{k}: {v}")
        if resp.stream is None:
            body = resp.body
            lines.append(f"Content-Length: {len(body)}")
            if not keep_alive:
                lines.append("Connection: close")
            data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
            sock.sendall(data if head else data + body)
            return keep_alive
        stream = resp.stream
        lines.append("Transfer-Encoding: chunked")
        if not keep_alive:
            lines.append("Connection: close")
        owner.monitor.add(sock, stream)
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))
            for chunk in stream:
                if chunk:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            stream.close()
            return False
        finally:
            stream.close()
            owner.monitor.remove(sock)
        return keep_alive and not owner.stopping


def _linger_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        for _ in range(64):
            if not sock.recv(65536):
                break
    except OSError:
        pass


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128
    owner: "HttpServer"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a broken connection is the client's business; never print a traceback


class HttpServer:
    """Serve ``rest`` on ``host:port`` (0: a free port) until :meth:`stop`; HTTPS when an
    ``ssl_context`` is given."""

    def __init__(self, rest: RestApi, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.rest = rest
        self.ssl_context = ssl_context
        self.stopping = False
        self._tcp = _TCPServer((host, port), _Handler, bind_and_activate=True)
        self._tcp.owner = self
        self.host, self.port = self._tcp.server_address[:2]
        self.monitor = _Monitor()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name="fakekube-http",
                                        daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> "HttpServer":
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        """Accept until :meth:`stop` shuts the listening socket down (which wakes
        ``accept``: no polling interval to wait out)."""
        lsock = self._tcp.socket
        while not self.stopping:
            try:
                conn, addr = lsock.accept()
            except OSError:
                if self.stopping:
                    return
                continue
            if self.stopping:
                conn.close()
                return
            try:
                self._tcp.process_request(conn, addr)
            except Exception:  # noqa: BLE001 -- e.g. no thread could be started
                self._tcp.shutdown_request(conn)

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(sock)
            else:
                self._conns.discard(sock)

    def stop(self) -> None:
        """Stop accepting, end open watches and close every connection."""
        if self.stopping:
            return
        self.stopping = True
        self.rest.closing = True
        close_all(self.rest)
        try:
            self._tcp.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._tcp.server_close()
        with self._conns_lock:
            conns = list(self._conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                if exc.errno not in (errno.ENOTCONN, errno.EBADF):
                    pass
        self.monitor.stop()

    def __enter__(self) -> "HttpServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ += ["MAX_BODY_BYTES"]
