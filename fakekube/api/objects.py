"""Small helpers over wire-format objects shared by the API layer and the controllers."""

from __future__ import annotations

import random
import time
from gc import is_tracked as _is_tracked
from typing import Any

__all__ = ["deep_copy", "ValueMemo", "rfc3339", "parse_rfc3339", "new_uid", "new_uids",
           "random_suffix", "key_of", "meta", "NAME_ALPHABET"]


def deep_copy(o: Any) -> Any:
    """Copy a JSON-shaped value: dicts and lists rebuilt, leaves (immutable) shared.

    This copy is on every read and write of the API, so it does as little from Python as it
    can (measured with callgrind): a dict is copied with ``dict.copy`` (one C-level pass that
    keeps the key order) and only its dict and list values are then replaced by their copies.
    A dict the cyclic GC does not track holds no dict or list at all (CPython tracks a dict
    as soon as any container is stored in it, and only ever untracks one whose values are
    all atomic), so its ``copy()`` is already complete: most dicts of an object (labels,
    resource lists, ports, env entries...) are such leaf dicts, copied where they are met
    without a call of their own.
    """
    t = type(o)
    if t is dict:
        return _copy_dict(o) if _is_tracked(o) else o.copy()
    if t is list:
        return _copy_list(o)
    return o


def _copy_dict(o: dict) -> dict:
    """The copy of a dict the cyclic GC tracks (one that may hold containers)."""
    out = o.copy()
    for k, v in o.items():
        t = type(v)
        if t is dict:
            out[k] = _copy_dict(v) if _is_tracked(v) else v.copy()
        elif t is list:
            out[k] = _copy_list(v)
    return out


def _copy_list(o: list) -> list:
    out = []
    append = out.append
    for v in o:
        t = type(v)
        if t is dict:
            append(_copy_dict(v) if _is_tracked(v) else v.copy())
        elif t is list:
            append(_copy_list(v))
        else:
            append(v)
    return out


class ValueMemo:
    """Results of a pure function of JSON values, remembered by value.

    :meth:`get` finds a remembered result whose argument is equal (``==``) to the one given:
    objects made from one template (the containers of a workload's pods) are equal without
    being the same, and comparing them (in C) is far cheaper than running a Python check
    over them again. A value is a JSON value or a tuple of them (several parts of an object).
    Entries are filed under a cheap hashable ``key`` the caller derives from the value (one
    field of it), a few per key, the newest first; the values kept are private copies, so
    that nothing a caller changes later alters them. Bounded: past ``max_keys`` keys
    everything is forgotten at once.
    """

    __slots__ = ("_by_key", "_per_key", "_max_keys")

    def __init__(self, per_key: int = 4, max_keys: int = 512) -> None:
        self._by_key: dict[Any, list[tuple[Any, Any]]] = {}
        self._per_key = per_key
        self._max_keys = max_keys

    def get(self, key: Any, value: Any, default: Any = None) -> Any:
        """The result remembered for a value equal to ``value`` under ``key``, else
        ``default``."""
        entries = self._by_key.get(key)
        if entries:
            for seen, result in entries:
                if seen == value:
                    return result
        return default

    def put(self, key: Any, value: Any, result: Any) -> None:
        """Remember ``result`` for (a copy of) ``value`` under ``key``."""
        entries = self._by_key.get(key)
        if entries is None:
            if len(self._by_key) >= self._max_keys:
                self._by_key.clear()
            entries = self._by_key[key] = []
        kept = tuple(map(deep_copy, value)) if type(value) is tuple else deep_copy(value)
        entries.insert(0, (kept, result))
        del entries[self._per_key:]


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


_PARSED_CACHE: dict[str, int] = {}


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp (as stored: canonical UTC). The
    seconds part is remembered per string (controllers read the same few timestamps over
    and over; ``time.strptime`` is slow)."""
    base = text[:19]
    frac = 0.0
    rest = text[19:]
    if rest.startswith("."):
        digits = rest[1:].rstrip("Z")
        frac = float("0." + digits) if digits else 0.0
    seconds = _PARSED_CACHE.get(base)
    if seconds is None:
        import calendar

        seconds = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
        if len(_PARSED_CACHE) > 10_000:
            _PARSED_CACHE.clear()
        _PARSED_CACHE[base] = seconds
    return seconds + frac


_UUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & (2**128 - 1)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def new_uid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``."""
    # version 4 (bits 76-79 = 0100) and the RFC 4122 variant (bits 62-63 = 10), in one
    # mask and one set of bits
    # (the 32 hex digits through bytes.hex: half the cost of formatting the int with :032x)
    h = ((rng.getrandbits(128) & _UUID_KEEP) | _UUID_SET).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_BATCH_MASKS: dict[int, tuple[int, int]] = {}
# Where each of a UUID's 32 hex digits goes in its 37-byte record ("8-4-4-4-12" and a space).
_UUID_LAYOUT = tuple((i, i + (i >= 8) + (i >= 12) + (i >= 16) + (i >= 20)) for i in range(32))


def new_uids(rng: random.Random, n: int) -> list[str]:
    """The ``n`` UUIDs that ``n`` successive :func:`new_uid` calls would draw from ``rng``,
    in reverse order (the next one last, for ``list.pop``), leaving ``rng`` in the same state.

    ``getrandbits(128 * n)`` is the ``n`` draws of 128 bits, the first in the lowest bits
    (CPython fills the number with 32-bit words from the lowest up, as it does each draw), so
    one draw, one mask and one ``bytes.hex`` serve the whole batch: its big-endian text lists
    the draws from the last to the first. The dashes go in with one strided copy per digit
    position, for the whole batch at once, and ``split`` cuts the records apart."""
    masks = _BATCH_MASKS.get(n)
    if masks is None:
        keep = set_ = 0
        for i in range(n):
            keep |= _UUID_KEEP << (128 * i)
            set_ |= _UUID_SET << (128 * i)
        masks = _BATCH_MASKS[n] = (keep, set_)
    digits = ((rng.getrandbits(128 * n) & masks[0]) | masks[1]).to_bytes(16 * n, "big").hex()
    digits_b = digits.encode("ascii")
    out = bytearray(b"-" * (37 * n))
    for src, dst in _UUID_LAYOUT:
        out[dst::37] = digits_b[src::32]
    out[36::37] = b" " * n
    return out.decode("ascii").split()


NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand


def random_suffix(rng: random.Random, n: int = 5) -> str:
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(n))


def key_of(obj: dict) -> tuple[str, str]:
    m = obj["metadata"]
    return (m.get("namespace", ""), m["name"])


def meta(obj: dict) -> dict:
    return obj["metadata"]
