"""A self-signed TLS certificate for the loopback server, made with the standard library only.

Why: kubectl (client-go) sends a kubeconfig's bearer token only over TLS (kubernetes/kubectl
#744), so a served cluster with authentication needs HTTPS. fakekube may not depend on a
crypto library, so this module makes an RSA-2048 key (Miller-Rabin over ``secrets``
randomness, no seeded RNG) and a self-signed X.509 v3 certificate (DER built by hand, signed
with PKCS#1 v1.5 / SHA-256) valid for ``127.0.0.1``, ``::1`` and ``localhost``. The
certificate is its own CA (``basicConstraints CA:TRUE``), and goes into the kubeconfig as
``certificate-authority-data``.

One key and certificate are made per process, on first use, and reused by every served
cluster (they guard nothing but loopback traffic of a test run).

Formats: RFC 5280 (certificate), RFC 8017 (RSA, PKCS#1 v1.5 signatures, ``RSAPrivateKey``),
ITU-T X.690 (DER).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import math
import os
import secrets
import ssl
import tempfile
import threading

__all__ = ["certificate", "server_context"]

_SMALL_PRIMES = [p for p in range(3, 5000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]
_SMALL_PRODUCT = math.prod(_SMALL_PRIMES)


def _probable_prime(n: int, rounds: int = 16) -> bool:
    if math.gcd(n, _SMALL_PRODUCT) != 1:
        return n in _SMALL_PRIMES
    # One strong base-2 round weeds out almost every composite before the random rounds.
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    x = pow(2, d, n)
    if x not in (1, n - 1):
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    for _ in range(rounds):
        a = secrets.randbelow(n - 3) + 2
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, e: int) -> int:
    while True:
        c = secrets.randbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if c % e != 1 and _probable_prime(c):
            return c


def _rsa_key(bits: int = 2048, e: int = 65537) -> tuple[int, ...]:
    while True:
        p, q = _prime(bits // 2, e), _prime(bits // 2, e)
        if p == q:
            continue
        n = p * q
        if n.bit_length() != bits:
            continue
        phi = (p - 1) * (q - 1)
        d = pow(e, -1, phi)
        return n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)


# -- DER --------------------------------------------------------------------------------------

def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _len(len(value)) + value


def _int(n: int) -> bytes:
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return _tlv(0x02, b)


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _oid(dotted: str) -> bytes:
    parts = [int(x) for x in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        out.extend(reversed(chunk))
    return _tlv(0x06, bytes(out))


_NULL = b"\x05\x00"


def _bits(data: bytes, unused: int = 0) -> bytes:
    return _tlv(0x03, bytes([unused]) + data)


def _octets(data: bytes) -> bytes:
    return _tlv(0x04, data)


def _name(cn: str) -> bytes:
    return _seq(_tlv(0x31, _seq(_oid("2.5.4.3"), _tlv(0x0C, cn.encode()))))


def _time(t: _dt.datetime) -> bytes:
    if t.year < 2050:
        return _tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


def _ext(oid: str, value: bytes, critical: bool = False) -> bytes:
    return _seq(_oid(oid), *((b"\x01\x01\xff",) if critical else ()), _octets(value))


_SHA256_RSA = _seq(_oid("1.2.840.113549.1.1.11"), _NULL)
_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _sign(key: tuple[int, ...], data: bytes) -> bytes:
    n, _, d = key[0], key[1], key[2]
    k = (n.bit_length() + 7) // 8
    t = _DIGEST_INFO + hashlib.sha256(data).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")


def _certificate(key: tuple[int, ...]) -> bytes:
    n, e = key[0], key[1]
    public = _seq(_int(n), _int(e))
    spki = _seq(_seq(_oid("1.2.840.113549.1.1.1"), _NULL), _bits(public))
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    validity = _seq(_time(now - _dt.timedelta(days=1)), _time(now + _dt.timedelta(days=3650)))
    san = _seq(_tlv(0x87, bytes([127, 0, 0, 1])), _tlv(0x87, bytes(15) + b"\x01"),
               _tlv(0x82, b"localhost"))
    ski = hashlib.sha1(public).digest()
    extensions = _tlv(0xA3, _seq(
        _ext("2.5.29.19", _seq(b"\x01\x01\xff"), critical=True),        # CA:TRUE
        _ext("2.5.29.15", _bits(bytes([0xA4]), 2), critical=True),       # digitalSignature,
        #                                                                   keyEncipherment,
        #                                                                   keyCertSign
        _ext("2.5.29.37", _seq(_oid("1.3.6.1.5.5.7.3.1"))),              # serverAuth
        _ext("2.5.29.14", _octets(ski)),
        _ext("2.5.29.17", san)))
    tbs = _seq(_tlv(0xA0, _int(2)), _int(secrets.randbits(63) | 1), _SHA256_RSA,
               _name("fakekube"), validity, _name("fakekube"), spki, extensions)
    return _seq(tbs, _SHA256_RSA, _bits(_sign(key, tbs)))


def _pem(label: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


_LOCK = threading.Lock()
_CACHE: dict[str, object] = {}


def certificate() -> tuple[str, str]:
    """(certificate PEM, private key PEM) of this process's loopback certificate."""
    with _LOCK:
        got = _CACHE.get("pem")
        if got is None:
            key = _rsa_key()
            cert = _pem("CERTIFICATE", _certificate(key))
            pkey = _pem("RSA PRIVATE KEY", _seq(_int(0), *(_int(x) for x in key)))
            got = _CACHE["pem"] = (cert, pkey)
        return got  # type: ignore[return-value]


def server_context() -> ssl.SSLContext:
    """An SSL server context with the loopback certificate loaded."""
    with _LOCK:
        ctx = _CACHE.get("ctx")
    if ctx is not None:
        return ctx  # type: ignore[return-value]
    cert, key = certificate()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="fakekube-tls-") as d:
        cpath, kpath = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
        fd = os.open(kpath, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        with open(cpath, "w") as f:
            f.write(cert)
        ctx.load_cert_chain(cpath, kpath)
    ctx.set_alpn_protocols(["http/1.1"])
    with _LOCK:
        _CACHE["ctx"] = ctx
    return ctx
