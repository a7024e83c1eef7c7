"""Typed decoding of wire-format objects: the copy in of every write.

The real API server decodes a request body into Go structs and encodes it back, which checks
every field's JSON type, drops (or, with ``fieldValidation=Strict``, rejects) unknown fields,
drops ``null`` fields and canonicalizes quantities and timestamps. :func:`decode` does the same
over the field table of ``_schema.py`` and returns a fresh copy, so that decoding *is* the copy
in: nothing the caller keeps aliases what gets stored.

The common case (a well-formed object) runs a fast path that builds the copy without tracking
field paths. Anything unusual (an unknown field, a wrong type) reruns the slow path, which
knows where it is and produces upstream's messages:

- a wrong type: ``json: cannot unmarshal string into Go struct field PodSpec.spec.containers
  of type []v1.Container`` (400 BadRequest, from ``encoding/json``);
- unknown fields with ``Strict``: ``strict decoding error: unknown field "spec.foo"``.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

from ._schema import REQUIRED, TYPES
from .quantity import QuantityError, canonical as _canonical_quantity

__all__ = ["decode", "DecodeError", "field_type", "type_exists", "canonical_time",
           "canonical_microtime"]

Decoder = Callable[[Any], Any]


class _Slow(Exception):
    """The fast path met something it does not handle; the slow path explains it."""


class DecodeError(Exception):
    """The body cannot be decoded into the kind's type (upstream answers 400 BadRequest)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def field_type(type_name: str, field: str) -> str | None:
    """The type of ``field`` in the schema entry ``type_name`` (``None`` if unknown)."""
    entry = TYPES.get(type_name)
    return entry.get(field) if entry else None


def type_exists(type_name: str) -> bool:
    return type_name in TYPES


# --------------------------------------------------------------------------------------------
# Timestamps: metav1.Time round-trips through RFC 3339 at second precision, in UTC.

_TIME_CACHE: dict[str, str] = {}
_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def canonical_time(value: str) -> str:
    """``2025-01-01T02:00:00+02:00`` -> ``2025-01-01T00:00:00Z``; raises ValueError."""
    got = _TIME_CACHE.get(value)
    if got is not None:
        return got
    m = _TIME_RE.match(value)
    if not m:
        raise ValueError(value)
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    tz = m.group(8)
    if tz in ("Z", "z"):
        offset = _dt.timezone.utc
    else:
        sign = 1 if tz[0] == "+" else -1
        offset = _dt.timezone(sign * _dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    t = _dt.datetime(y, mo, d, h, mi, s, tzinfo=offset).astimezone(_dt.timezone.utc)
    out = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if len(_TIME_CACHE) > 4096:
        _TIME_CACHE.clear()
    _TIME_CACHE[value] = out
    return out


_MICRO_CACHE: dict[str, str] = {}


def canonical_microtime(value: str) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds, in UTC (``...00.000000Z``)."""
    got = _MICRO_CACHE.get(value)
    if got is not None:
        return got
    m = _TIME_RE.match(value)
    if not m:
        raise ValueError(value)
    frac = (m.group(7) or ".0")[1:]
    micros = int((frac + "000000")[:6])
    base = canonical_time(value[:m.start(7)] + value[m.end(7):] if m.group(7) else value)
    out = f"{base[:-1]}.{micros:06d}Z"
    if len(_MICRO_CACHE) > 4096:
        _MICRO_CACHE.clear()
    _MICRO_CACHE[value] = out
    return out


# --------------------------------------------------------------------------------------------
# Fast path: one closure per type, built on first use.
#
# A struct decoder copies the object with ``dict.copy()`` (keys in the order sent) and then
# walks it once: a string, int or bool field whose value has that exact type stays as it is
# (one lookup and one identity test); any other field is decoded by its own decoder and
# stored over the copied value (same key, same position). Lists and maps of plain scalars
# are checked and copied whole. Whatever the fast path does not accept raises _Slow, and
# the slow path decides; so the fast path only has to agree with it where it succeeds.
#
# The decoders keep one Python frame per level of nesting (no comprehensions), as before, so
# that deep bodies run into "exceeded max depth" where they did.

_FAST: dict[str, Decoder] = {}

# Scalar types whose check is the value's type alone: a plain value is kept as it is.
_PLAIN: dict[str, tuple[type, ...]] = {
    "string": (str,), "int": (int,), "bool": (bool,), "float": (float, int),
    "intorstr": (str, int),
}

# Quantity text -> canonical text, in front of quantity.canonical (the same few strings
# recur on every write; keyed on the text, bounded).
_QTY_CACHE: dict[str, str] = {}


def _copy_any(v: Any) -> Any:
    t = type(v)
    if t is dict:
        return {k: _copy_any(x) for k, x in v.items()}
    if t is list:
        return [_copy_any(x) for x in v]
    return v


def _fast_plain(types: tuple[type, ...]) -> Decoder:
    def check(v: Any) -> Any:
        if type(v) in types:
            return v
        raise _Slow
    return check


def _fast_quantity(v: Any) -> Any:
    if type(v) is str:
        got = _QTY_CACHE.get(v)
        if got is not None:
            return got
    try:
        out = _canonical_quantity(v)
    except (QuantityError, TypeError, ValueError):
        raise _Slow from None
    if type(v) is str:
        if len(_QTY_CACHE) > 4096:
            _QTY_CACHE.clear()
        _QTY_CACHE[v] = out
    return out


def _fast_time(v: Any) -> Any:
    if type(v) is not str:
        raise _Slow
    try:
        return canonical_time(v)
    except ValueError:
        raise _Slow from None


def _fast_microtime(v: Any) -> Any:
    if type(v) is not str:
        raise _Slow
    try:
        return canonical_microtime(v)
    except ValueError:
        raise _Slow from None


_SCALARS: dict[str, Decoder] = {
    **{name: _fast_plain(types) for name, types in _PLAIN.items()},
    "quantity": _fast_quantity, "time": _fast_time, "microtime": _fast_microtime,
    "any": _copy_any,
}


def _rejects_none(t: str) -> bool:
    """Whether the fast decoder of ``t`` raises _Slow for ``None`` by itself."""
    return t in _PLAIN or t in TYPES or t[0] in "[{" or t in ("time", "microtime")


def _fast_decoder(t: str) -> Decoder:
    got = _FAST.get(t)
    if got is not None:
        return got
    if t in _SCALARS:
        return _SCALARS[t]
    if t[0] == "[":
        return _fast_list(t)
    if t[0] == "{":
        return _fast_map(t)
    return _fast_struct(t)


def _fast_list(t: str) -> Decoder:
    inner_t = t[1:]
    plain = _PLAIN.get(inner_t)
    if plain is not None:
        def dec_plain_list(v: Any) -> Any:
            if type(v) is not list:
                raise _Slow
            for x in v:
                if type(x) not in plain:
                    raise _Slow
            return v.copy()

        _FAST[t] = dec_plain_list
        return dec_plain_list

    inner: Decoder  # set below, once this decoder is registered (types can recurse)
    if _rejects_none(inner_t):
        def dec_list(v: Any) -> Any:
            if type(v) is not list:
                raise _Slow
            out = []
            for x in v:
                out.append(inner(x))
            return out
    else:
        def dec_list(v: Any) -> Any:
            if type(v) is not list:
                raise _Slow
            out = []
            for x in v:
                if x is None:
                    raise _Slow
                out.append(inner(x))
            return out

    _FAST[t] = dec_list
    inner = _fast_decoder(inner_t)
    return dec_list


def _fast_map(t: str) -> Decoder:
    inner_t = t[1:]
    plain = _PLAIN.get(inner_t)
    if plain is not None:
        def dec_plain_map(v: Any) -> Any:
            if type(v) is not dict:
                raise _Slow
            for x in v.values():
                if type(x) not in plain:
                    raise _Slow
            return v.copy()

        _FAST[t] = dec_plain_map
        return dec_plain_map
    if inner_t == "quantity":
        def dec_quantity_map(v: Any) -> Any:
            if type(v) is not dict:
                raise _Slow
            get = _QTY_CACHE.get
            out = {}
            for k, x in v.items():
                c = get(x) if type(x) is str else None
                if c is None:
                    if x is None:
                        raise _Slow
                    c = _fast_quantity(x)
                out[k] = c
            return out

        _FAST[t] = dec_quantity_map
        return dec_quantity_map

    inner: Decoder  # set below, once this decoder is registered (types can recurse)

    def dec_map(v: Any) -> Any:
        if type(v) is not dict:
            raise _Slow
        out = {}
        for k, x in v.items():
            if x is None:
                raise _Slow
            out[k] = inner(x)
        return out

    _FAST[t] = dec_map
    inner = _fast_decoder(inner_t)
    return dec_map


_SIMPLE = {"string": str, "int": int, "bool": bool}


def _fast_struct(t: str) -> Decoder:
    # Field name -> the Python type of a string, int or bool field, or the decoder of any
    # other field (a function, so never the type of a value).
    fields: dict[str, Any] = {}
    # Field name -> decoder, for the fields that are not strings, ints or bools.
    nested: dict[str, Decoder] = {}

    def dec_struct(v: Any) -> Any:
        if type(v) is not dict:
            raise _Slow
        out = v.copy()
        try:
            for k, x in v.items():
                if fields[k] is type(x):
                    continue
                if x is None:
                    raise _Slow
                out[k] = nested[k](x)
        except KeyError:
            # An unknown field, or a string, int or bool field holding another type.
            raise _Slow from None
        return out

    _FAST[t] = dec_struct
    for name, ft in TYPES[t].items():
        simple = _SIMPLE.get(ft)
        if simple is None:
            fields[name] = nested[name] = _fast_decoder(ft)
        else:
            fields[name] = simple
    return dec_struct


# --------------------------------------------------------------------------------------------
# Slow path: tracks the path, drops what Go's decoder drops, reports what it reports.

_GO_SCALAR = {"string": "string", "int": "int32", "bool": "bool", "float": "float64",
              "time": "v1.Time", "microtime": "v1.MicroTime", "quantity": "resource.Quantity",
              "intorstr": "intstr.IntOrString"}
_INT64_FIELDS = {"generation", "terminationGracePeriodSeconds", "activeDeadlineSeconds",
                 "deletionGracePeriodSeconds", "tolerationSeconds", "revision",
                 "observedGeneration", "runAsUser", "runAsGroup", "fsGroup",
                 "expirationSeconds"}


def _go_type(t: str, field: str) -> str:
    if t == "int" and field in _INT64_FIELDS:
        return "int64"
    if t in _GO_SCALAR:
        return _GO_SCALAR[t]
    if t == "any":
        return "interface {}"
    if t[0] == "[":
        return "[]" + _go_type(t[1:], "")
    if t[0] == "{":
        return "map[string]" + _go_type(t[1:], "")
    return "v1." + t.split(".", 1)[1]


def _json_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number " + (str(v) if not isinstance(v, float) or not v.is_integer() else repr(v))
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


class _Ctx:
    __slots__ = ("unknown",)

    def __init__(self) -> None:
        self.unknown: list[str] = []


def _path_join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _slow(t: str, v: Any, path: str, struct: str, field: str, ctx: _Ctx) -> Any:
    def bad() -> DecodeError:
        where = f"Go struct field {struct}.{path}" if struct else "Go value"
        return DecodeError(f"json: cannot unmarshal {_json_kind(v)} into {where} "
                           f"of type {_go_type(t, field)}")

    if t == "string":
        if type(v) is not str:
            raise bad()
        return v
    if t == "int":
        if type(v) is int:
            return v
        if type(v) is float and v.is_integer() and abs(v) < 2 ** 63:
            raise bad()
        raise bad()
    if t == "bool":
        if type(v) is not bool:
            raise bad()
        return v
    if t == "float":
        if type(v) not in (int, float):
            raise bad()
        return v
    if t == "intorstr":
        if type(v) not in (int, str):
            raise bad()
        return v
    if t == "quantity":
        if type(v) not in (int, float, str):
            raise bad()
        try:
            return _canonical_quantity(v)
        except (QuantityError, ValueError) as exc:
            raise DecodeError(str(exc)) from None
    if t in ("time", "microtime"):
        if type(v) is not str:
            raise bad()
        try:
            return canonical_time(v) if t == "time" else canonical_microtime(v)
        except ValueError:
            raise DecodeError(f'parsing time "{v}" as "2006-01-02T15:04:05Z07:00": cannot '
                              f"parse \"{v}\" as \"2006\"") from None
    if t == "any":
        return _copy_any(v)
    if t[0] == "[":
        if type(v) is not list:
            raise bad()
        inner = t[1:]
        out = []
        for i, x in enumerate(v):
            if x is None:
                # Go decodes null into the element's zero value.
                out.append({} if inner in TYPES else _zero(inner))
                continue
            out.append(_slow(inner, x, f"{path}", struct, field, ctx) if inner not in TYPES
                       else _slow_struct(inner, x, f"{path}[{i}]", ctx))
        return out
    if t[0] == "{":
        if type(v) is not dict:
            raise bad()
        inner = t[1:]
        out_map = {}
        for k, x in v.items():
            if x is None:
                out_map[k] = _zero(inner)
                continue
            out_map[k] = (_slow_struct(inner, x, _path_join(path, k), ctx) if inner in TYPES
                          else _slow(inner, x, path, struct, field, ctx))
        return out_map
    return _slow_struct(t, v, path, ctx)


def _zero(t: str) -> Any:
    return {"string": "", "int": 0, "bool": False, "float": 0, "quantity": "0",
            "intorstr": 0}.get(t)


def _slow_struct(t: str, v: Any, path: str, ctx: _Ctx) -> Any:
    entry = TYPES[t]
    struct_name = t.split(".", 1)[1]
    if type(v) is not dict:
        raise DecodeError(f"json: cannot unmarshal {_json_kind(v)} into Go "
                          + (f"struct field {struct_name}.{path}" if path else "value")
                          + f" of type v1.{struct_name}")
    out = {}
    for k, x in v.items():
        ft = entry.get(k)
        child = _path_join(path, k)
        if ft is None:
            ctx.unknown.append(child)
            continue
        if x is None:
            continue
        if ft in TYPES:
            out[k] = _slow_struct(ft, x, child, ctx)
        else:
            out[k] = _slow(ft, x, child, struct_name, k, ctx)
    return out


# --------------------------------------------------------------------------------------------


def decode(obj: Any, type_name: str, *, strict: bool = False) -> tuple[dict, list[str]]:
    """Decode ``obj`` as the schema type ``type_name``; return ``(copy, unknown_fields)``.

    Unknown fields are dropped and listed (as ``spec.containers[0].foo``); with
    ``strict=True`` they are an error instead. Raises :class:`DecodeError` with the message
    upstream's decoder gives for a value of the wrong type.
    """
    try:
        return _fast_decoder(type_name)(obj), []
    except _Slow:
        pass
    except RecursionError:
        raise DecodeError("json: exceeded max depth") from None
    ctx = _Ctx()
    try:
        out = _slow_struct(type_name, obj, "", ctx)
    except RecursionError:
        raise DecodeError("json: exceeded max depth") from None
    if strict and ctx.unknown:
        raise DecodeError("strict decoding error: "
                          + ", ".join(f'unknown field "{u}"' for u in ctx.unknown))
    return out, ctx.unknown


def required_fields(type_name: str) -> tuple[str, ...]:
    return REQUIRED.get(type_name, ())
