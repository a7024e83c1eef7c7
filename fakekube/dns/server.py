"""Serving the cluster zone on loopback over UDP and TCP, with dnslib's ``DNSServer``.

One port number for both transports (as a real DNS server listens). What the handler adds
to dnslib's ``DNSHandler``:

- a packet that does not parse gets FORMERR (when it has a 12-byte header to answer to) and
  a packet that is itself a response is dropped; a resolver failure gets SERVFAIL; nothing a
  client sends stops the server;
- UDP answers larger than the client can take (512 octets, or the EDNS payload size it
  advertises, at most 1232) are sent truncated (TC set, question kept) so that the client
  retries over TCP; a client that sent EDNS gets an OPT record back;
- a TCP connection may carry several length-prefixed queries (RFC 7766), and idles out.

UDP is served from one thread (a lookup is a dictionary read, so a thread per packet would
cost more than the answer); TCP gets a thread per connection.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
from typing import Iterator

from dnslib import EDNS0, RCODE, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

__all__ = ["serve_zone", "ZoneHandler"]

UDP_DEFAULT = 512
UDP_MAX = 1232
TCP_IDLE_SECONDS = 5.0
_OPT = 41


def _header_only(data: bytes, rcode: int = RCODE.FORMERR) -> bytes | None:
    """A header-only answer (FORMERR by default) to a packet that cannot be answered in
    full, or None if there is nothing to answer to (shorter than a header, or a response)."""
    if len(data) < 12:
        return None
    ident, flags = struct.unpack("!HH", data[:4])
    if flags & 0x8000:
        return None
    opcode = (flags >> 11) & 0xF
    out = 0x8000 | (opcode << 11) | (flags & 0x0100) | rcode
    return struct.pack("!HHHHHH", ident, out, 0, 0, 0, 0)


class ZoneHandler(DNSHandler):
    """``DNSHandler`` made robust (see the module docstring)."""

    def handle(self) -> None:
        if self.server.socket_type == socket.SOCK_STREAM:
            self._handle_tcp()
            return
        data, sock = self.request
        try:
            out = self._answer(data, udp=True)
            if out is not None:
                sock.sendto(out, self.client_address)
        except OSError:
            pass

    def _handle_tcp(self) -> None:
        conn = self.request
        conn.settimeout(TCP_IDLE_SECONDS)
        try:
            while True:
                head = self._read(conn, 2)
                if head is None:
                    return
                (length,) = struct.unpack("!H", head)
                data = self._read(conn, length)
                if data is None:
                    return
                out = self._answer(data, udp=False)
                if out is None:
                    return  # nothing to answer to: hang up
                conn.sendall(struct.pack("!H", len(out)) + out)
        except OSError:
            return

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def _answer(self, data: bytes, udp: bool) -> bytes | None:
        try:
            request = DNSRecord.parse(data)
        except Exception:
            return _header_only(data)
        if request.header.qr:
            return None
        try:
            reply = self.server.resolver.resolve(request, self)
        except Exception:
            reply = request.reply()
            reply.header.rcode = RCODE.SERVFAIL
        opt = next((r for r in request.ar if r.rtype == _OPT), None)
        limit = UDP_DEFAULT
        if opt is not None:
            limit = max(UDP_DEFAULT, min(int(opt.rclass), UDP_MAX))
            reply.add_ar(EDNS0(udp_len=UDP_MAX))
        try:
            out = reply.pack()
        except Exception:  # e.g. a question too long to write back: answer the header
            rcode = reply.header.rcode
            return _header_only(data, rcode if rcode != RCODE.NOERROR else RCODE.SERVFAIL)
        if udp and len(out) > limit:
            reply.rr = []
            reply.auth = []
            reply.ar = [r for r in reply.ar if r.rtype == _OPT]
            reply.header.tc = 1
            out = reply.pack()
        return out


class _UDPServer(socketserver.UDPServer):
    """One thread for all UDP queries; no SO_REUSEADDR (two UDP sockets must never share
    a port)."""

    allow_reuse_address = False


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


_QUIET = DNSLogger(log="none", prefix=False)


def _bind(resolver: BaseResolver, host: str, port: int) -> tuple[DNSServer, DNSServer]:
    """A UDP and a TCP server on the same port (a free one when ``port`` is 0)."""
    last: OSError | None = None
    for _ in range(64):
        udp = DNSServer(resolver, address=host, port=port, logger=_QUIET,
                        handler=ZoneHandler, server=_UDPServer)
        chosen = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, address=host, port=chosen, tcp=True, logger=_QUIET,
                            handler=ZoneHandler, server=_TCPServer)
        except OSError as exc:
            udp.server.server_close()
            last = exc
            if port:
                raise
            continue
        return udp, tcp
    raise OSError(f"no port free for both UDP and TCP on {host}") from last


@contextlib.contextmanager
def serve_zone(resolver: BaseResolver, host: str = "127.0.0.1", port: int = 0
               ) -> Iterator[tuple[str, int]]:
    """Run ``resolver`` on ``host`` over UDP and TCP until the block ends; yields
    ``(host, port)``."""
    udp, tcp = _bind(resolver, host, port)
    threads = []
    for srv in (udp, tcp):
        t = threading.Thread(target=srv.server.serve_forever, kwargs={"poll_interval": 0.05},
                             name=f"fakekube-dns-{'tcp' if srv is tcp else 'udp'}",
                             daemon=True)
        t.start()
        threads.append(t)
    try:
        yield host, udp.server.server_address[1]
    finally:
        for srv in (udp, tcp):
            srv.server.shutdown()
            srv.server.server_close()
        for t in threads:
            t.join(timeout=5)
