"""Small helpers over wire-format objects shared by the API layer and the controllers."""

from __future__ import annotations

import random
import time
from typing import Any

__all__ = ["deep_copy", "rfc3339", "parse_rfc3339", "new_uid", "random_suffix", "key_of",
           "meta", "NAME_ALPHABET"]


def deep_copy(o: Any) -> Any:
    """Copy a JSON-shaped value: dicts and lists rebuilt, leaves (immutable) shared.

    A plain loop rather than a comprehension: fewer instructions per value (measured with
    callgrind), and this copy is on every read and write of the API.
    """
    if type(o) is dict:
        out = {}
        for k, v in o.items():
            t = type(v)
            out[k] = deep_copy(v) if (t is dict or t is list) else v
        return out
    if type(o) is list:
        return [deep_copy(v) if (type(v) is dict or type(v) is list) else v for v in o]
    return o


_RFC3339_CACHE: dict[int, str] = {}


def rfc3339(t: float) -> str:
    """Virtual time as upstream serializes metav1.Time: second precision, UTC, ``Z``."""
    s = int(t)
    got = _RFC3339_CACHE.get(s)
    if got is None:
        if len(_RFC3339_CACHE) > 10_000:
            _RFC3339_CACHE.clear()
        got = _RFC3339_CACHE[s] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))
    return got


def rfc3339_micro(t: float) -> str:
    """metav1.MicroTime: microsecond precision (``2025-01-01T00:00:00.000000Z``)."""
    s = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{int(round((t - s) * 1e6)):06d}Z"


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp (as stored: canonical UTC)."""
    import calendar

    base = text[:19]
    frac = 0.0
    rest = text[19:]
    if rest.startswith("."):
        digits = rest[1:].rstrip("Z")
        frac = float("0." + digits) if digits else 0.0
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + frac


def new_uid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)      # version 4
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)      # RFC 4122 variant
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand


def random_suffix(rng: random.Random, n: int = 5) -> str:
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(n))


def key_of(obj: dict) -> tuple[str, str]:
    m = obj["metadata"]
    return (m.get("namespace", ""), m["name"])


def meta(obj: dict) -> dict:
    return obj["metadata"]
