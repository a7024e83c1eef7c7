"""``resource.Quantity``: parsing, exact values and upstream's canonical serialization.

This module owns everything fakekube does with resource quantities (``"500m"``, ``"1Gi"``,
``"1e3"``): the API layer's decoder stores every quantity field in the canonical form
:func:`canonical` returns, validation and the scheduler compare exact values from
:func:`parse_quantity`, and defaulting rounds resource lists with :func:`round_up_milli`.

Facts follow Kubernetes v1.31:

- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go``
  (``ParseQuantity``, ``parseQuantityString``, ``CanonicalizeBytes``, ``MarshalJSON``,
  ``Value``/``MilliValue``, the error messages);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/api/resource/amount.go``
  (``AsCanonicalBytes``, ``AsCanonicalBase1024Bytes``:
  exponents are lowered to a multiple of 3, binary values are written in powers of 1024);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/api/resource/suffix.go``
  (the suffix tables and ``e<n>`` exponents);
- ``kubernetes/kubernetes:pkg/apis/core/v1/defaults.go`` (``SetDefaults_ResourceList``:
  values in resource lists are rounded up to milli precision).

The rules, in short:

- A quantity keeps the *format* of its suffix: binary (``Ki``..``Ei``), decimal SI
  (``n u m "" k M G T P E``) or decimal exponent (``e3``, ``E-6``).
- Parsing is exact, except that values finer than ``1n`` are rounded *up* in magnitude to the
  next nano, and binary values are capped at ``2**63 - 1``. A binary value strictly between 0
  and 1 becomes decimal SI.
- Serialization drops trailing zeros into the exponent and then lowers the exponent to a
  multiple of 3 (``1.5`` -> ``1500m``, ``1000m`` -> ``1``, ``0.1m`` -> ``100u``). A binary
  value is written in the largest power of 1024 that divides it (``1024Mi`` -> ``1Gi``,
  ``1.5Gi`` -> ``1536Mi``); binary values below 1024 in magnitude, and non-integral ones, are
  written as decimal SI (``0.5Gi`` -> ``512Mi``, ``1.5Ki`` -> ``1536``, ``0.5Ki`` -> ``512``).
- Upstream keeps the caller's own text when its fast path finds it already canonical by a
  cheap test, which is how ``"+1"`` and ``"05"`` survive a round trip unchanged. That quirk
  is reproduced. So is another one: a decimal SI value whose exponent is above 18 has no
  suffix to print and loses it (``"1000E"`` is stored as ``"1"``).
- Nothing is ever represented as a float.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple, Union

__all__ = [
    "QuantityError", "DECIMAL_EXPONENT", "BINARY_SI", "DECIMAL_SI",
    "parse_quantity", "canonical", "format_quantity", "quantity_format", "milli_value",
    "value", "round_up_milli", "default_resource_list", "compare", "is_negative", "nano_value",
]

DECIMAL_EXPONENT = "DecimalExponent"  # 12e6
BINARY_SI = "BinarySI"                # 12Mi (12 * 2**20)
DECIMAL_SI = "DecimalSI"              # 12M  (12 * 10**6)

_SPLIT_RE_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
MSG_FORMAT_WRONG = "quantities must match the regular expression '" + _SPLIT_RE_TEXT + "'"
MSG_NUMERIC = "unable to parse numeric part of quantity"
MSG_SUFFIX = "unable to parse quantity's suffix"

QuantityLike = Union[str, int, float, Fraction]


class QuantityError(ValueError):
    """A string that is not a quantity; the message is upstream's (``ErrFormatWrong``,
    ``ErrNumeric`` or ``ErrSuffix``)."""


# Suffix tables (suffix.go). Binary suffixes give a power of two, decimal ones a power of ten.
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12,
                     "P": 15, "E": 18}
_DECIMAL_BY_EXP = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER = {0: "", 1: "Ki", 2: "Mi", 3: "Gi", 4: "Ti", 5: "Pi", 6: "Ei"}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")

_MAX_INT64 = 2**63 - 1
_NANO = -9
# Exponents beyond this are not materialised as integers (the text "1e2000000000" is a valid
# quantity; its canonical form is computed without building 10**2000000000).
_MAX_MATERIALISED_EXP = 4000


class _Q(NamedTuple):
    """A parsed quantity: the value is ``mantissa * 10**exp``; ``text`` is the caller's text
    when upstream would serialize it unchanged, else None."""

    mantissa: int
    exp: int
    fmt: str
    text: str | None


def _int32(v: int) -> int:
    """Go's ``int32(v)`` conversion of an int64 (wraps)."""
    return ((v + 2**31) % 2**32) - 2**31


def _interpret_suffix(suffix: str) -> tuple[int, int, str] | None:
    """``quantitySuffixer.interpret``: (base, exponent, format), or None (``ErrSuffix``)."""
    exp = _DECIMAL_SUFFIXES.get(suffix)
    if exp is not None:
        return 10, exp, DECIMAL_SI
    exp = _BINARY_SUFFIXES.get(suffix)
    if exp is not None:
        return 2, exp, BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if not body or not body.isascii() or not body.isdigit():
            return None
        parsed = int(digits)
        if not -2**63 <= parsed <= _MAX_INT64:  # strconv.ParseInt range error
            return None
        return 10, _int32(parsed), DECIMAL_EXPONENT
    return None


def _scan(s: str) -> tuple[bool, str, str, str, bool]:
    """``parseQuantityString``: (positive, num, denom, suffix, is_zero_shortcut).

    ``num`` has its leading zeros stripped (``"0"`` when nothing is left); ``denom`` is the
    digits after the point. Raises QuantityError(ErrFormatWrong) on text after the suffix.
    """
    positive = True
    pos = 0
    end = len(s)
    if s[0] == "-":
        positive = False
        pos = 1
    elif s[0] == "+":
        pos = 1
    while pos < end and s[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", "", True
    start = pos
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    num = s[start:pos] or "0"
    denom = ""
    if pos < end and s[pos] == ".":
        pos += 1
        start = pos
        while pos < end and s[pos] in _DIGITS:
            pos += 1
        denom = s[start:pos]
    suffix_start = pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(MSG_FORMAT_WRONG)
    return positive, num, denom, s[suffix_start:], False


def _round_to_nano(mantissa: int, exp: int) -> tuple[int, int]:
    """Round a value finer than 1n up, away from zero, to the next nano (as ``ParseQuantity``
    does with ``inf.RoundUp`` on the magnitude)."""
    if exp >= _NANO or mantissa == 0:
        return mantissa, exp
    shift = _NANO - exp
    mag = abs(mantissa)
    if shift > len(str(mag)):  # the value is below 1n: it becomes exactly 1n
        q = 1
    else:
        q, r = divmod(mag, 10**shift)
        if r:
            q += 1
    return (q if mantissa > 0 else -q), _NANO


def _parse_text(s: str) -> _Q:
    """``ParseQuantity`` on a string (no whitespace trimming)."""
    if not s:
        raise QuantityError(MSG_FORMAT_WRONG)
    if s == "0":
        return _Q(0, 0, DECIMAL_SI, "0")
    positive, num, denom, suffix, zero = _scan(s)
    if zero:
        return _Q(0, 0, DECIMAL_SI, None)
    interpreted = _interpret_suffix(suffix)
    if interpreted is None:
        raise QuantityError(MSG_SUFFIX)
    base, exponent, fmt = interpreted

    # Upstream's int64 fast path: exact, and it may keep the caller's text as canonical.
    if fmt == BINARY_SI:
        if denom or exponent < 0:
            precision = -1
        else:
            # float32(exponent)*3/10 truncated: exponent is a multiple of 10 here
            precision = 15 - len(num) - (exponent * 3) // 10 - 1
        multiplier = 1 << exponent if precision >= 0 else 1
        scale = 0
    else:
        precision = 18 - (len(num) + len(denom))
        multiplier = 1
        scale = exponent
    if precision >= 0:
        scale -= len(denom)
        if scale >= _NANO:
            shifted = num + denom
            digits = int(shifted)
            result = digits * multiplier
            if result <= _MAX_INT64:
                reuse = False
                if fmt == BINARY_SI:
                    reuse = exponent % 10 == 0 and (digits & 7) != 0
                else:
                    reuse = (scale % 3 == 0 and not shifted.endswith("000")
                             and shifted[0] != "0")
                return _Q(result if positive else -result, scale, fmt, s if reuse else None)

    # The inf.Dec path.
    mantissa = int(num + denom) if (num + denom).strip("0") else 0
    if not positive:
        mantissa = -mantissa
    if base == 10:
        exp = exponent - len(denom)
    else:
        mantissa <<= exponent
        exp = -len(denom)
    mantissa, exp = _round_to_nano(mantissa, exp)
    if fmt == BINARY_SI and mantissa:
        mag = abs(mantissa)
        if exp >= 0:
            over = exp <= 19 and mag * 10**exp > _MAX_INT64 or exp > 19
            below_one = False
        else:
            unit = 10**-exp
            over = mag > _MAX_INT64 * unit
            below_one = mag < unit
        if over:
            mantissa, exp = (_MAX_INT64 if mantissa > 0 else -_MAX_INT64), 0
        elif below_one:
            fmt = DECIMAL_SI
    return _Q(mantissa, exp, fmt, None)


@lru_cache(maxsize=8192)
def _parse(s: str) -> _Q:
    return _parse_text(s)


def _text_of(value: QuantityLike) -> str:
    """The text upstream would parse for a JSON value: strings trimmed (``UnmarshalJSON``),
    numbers as written."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        raise QuantityError(MSG_FORMAT_WRONG)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QuantityError(MSG_FORMAT_WRONG)
        return repr(value).replace("e+", "e")  # JSON writes 1e21, Python 1e+21
    raise TypeError(f"not a quantity: {value!r}")


def _to_q(value: QuantityLike) -> _Q:
    if type(value) is str:
        try:
            return _parse(value)
        except QuantityError:
            stripped = value.strip()
            if stripped == value:
                raise
            return _parse(stripped)
    if isinstance(value, Fraction):
        return _from_fraction(value, DECIMAL_SI)
    return _parse(_text_of(value))


def _from_fraction(v: Fraction, fmt: str) -> _Q:
    """A quantity of value ``v`` (rounded away from zero to nano) in format ``fmt``."""
    if v == 0:
        return _Q(0, 0, fmt, None)
    den = v.denominator
    # v = numerator / den; express as mantissa * 10**exp with exp >= -9, rounding up.
    exp = 0
    while den % 10 == 0 and exp > _NANO:
        den //= 10
        exp -= 1
    if den == 1:
        return _Q(v.numerator, exp, fmt, None)
    scaled = v * 10**9
    mag = abs(scaled)
    q = mag.numerator // mag.denominator
    if q * mag.denominator != mag.numerator:
        q += 1
    return _Q(q if v > 0 else -q, _NANO, fmt, None)


def _format(q: _Q) -> str:
    """``CanonicalizeBytes`` + suffix: the canonical text of a parsed quantity."""
    if q.text is not None:
        return q.text
    m, e, fmt = q.mantissa, q.exp, q.fmt
    if m == 0:
        return "0"
    if fmt == BINARY_SI:
        s = _format_binary(m, e)
        if s is not None:
            return s
        fmt = DECIMAL_SI
    digits = str(abs(m))
    stripped = digits.rstrip("0")
    e += len(digits) - len(stripped)
    r = e % 3  # Python's floor modulo: lower the exponent to a multiple of 3
    e -= r
    number = stripped + "0" * r
    if m < 0:
        number = "-" + number
    if fmt == DECIMAL_SI:
        # upstream prints no suffix when the table has none for the exponent
        return number + _DECIMAL_BY_EXP.get(e, "")
    return number if e == 0 else f"{number}e{e}"


def _format_binary(m: int, e: int) -> str | None:
    """The base-1024 form, or None when upstream falls back to decimal SI (a value strictly
    between -1024 and 1024, or one that is not an integer)."""
    mag = abs(m)
    if e >= 0:
        if e > 20:  # beyond the binary cap: cannot happen for parsed binary values
            return None
        n = mag * 10**e
    else:
        n, r = divmod(mag, 10**-e)
        if r:
            return None
    if n < 1024:
        return None
    power = 0
    while n >= 1024 and n % 1024 == 0:
        n //= 1024
        power += 1
    suffix = _BINARY_BY_POWER.get(power, "")
    return ("-" if m < 0 else "") + str(n) + suffix


def _fraction(q: _Q) -> Fraction:
    if q.exp > _MAX_MATERIALISED_EXP:
        raise QuantityError(f"quantity is too large to evaluate: {q.mantissa}e{q.exp}")
    if q.exp >= 0:
        return Fraction(q.mantissa * 10**q.exp)
    return Fraction(q.mantissa, 10**-q.exp)


# --------------------------------------------------------------------------------------------
# Public API


@lru_cache(maxsize=8192)
def _canonical_text(s: str) -> str:
    return _format(_parse(s))


def canonical(value: QuantityLike) -> str:
    """The text the API server stores for a quantity field (``Quantity.MarshalJSON`` after
    ``UnmarshalJSON``). Raises :class:`QuantityError` with upstream's message.

    >>> canonical("1000m"), canonical("1024Mi"), canonical("0.5"), canonical(1)
    ('1', '1Gi', '500m', '1')
    >>> canonical("1.5Gi"), canonical("0.1m"), canonical("1e3"), canonical("100Mi")
    ('1536Mi', '100u', '1e3', '100Mi')

    Results are cached: the same few strings recur on every write. O(len(value)).
    """
    if type(value) is str:
        return _canonical_text(value.strip())
    if isinstance(value, Fraction):
        return _format(_from_fraction(value, DECIMAL_SI))
    return _canonical_text(_text_of(value))


def parse_quantity(value: QuantityLike) -> Fraction:
    """The exact value of a quantity, as upstream holds it after parsing (rounded up in
    magnitude to nano precision; binary values capped at 2**63-1).

    >>> parse_quantity("1.5Gi") == 1610612736, parse_quantity("250m")
    (True, Fraction(1, 4))
    """
    if isinstance(value, Fraction):
        return value
    if type(value) is str:
        return _fraction_of_text(value)
    return _fraction(_to_q(value))


@lru_cache(maxsize=8192)
def _fraction_of_text(s: str) -> Fraction:
    """:func:`parse_quantity` of a string, remembered (validators read the same few amounts
    on every write; a Fraction is immutable, so one can be shared)."""
    return _fraction(_to_q(s))


def quantity_format(value: QuantityLike) -> str:
    """The format upstream records for a quantity: DECIMAL_SI, BINARY_SI or DECIMAL_EXPONENT."""
    return _to_q(value).fmt


def format_quantity(value: Fraction | int, fmt: str = DECIMAL_SI) -> str:
    """The canonical text of a quantity with this value and format (rounded away from zero
    to nano precision first), as ``NewQuantity``/``NewMilliQuantity`` + ``String()`` print it.

    >>> format_quantity(Fraction(3, 2)), format_quantity(2**30, BINARY_SI)
    ('1500m', '1Gi')
    """
    if fmt not in (DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT):
        fmt = DECIMAL_EXPONENT  # CanonicalizeBytes: an unknown format prints as an exponent
    return _format(_from_fraction(Fraction(value), fmt))


def _scaled_value(q: _Q, scale: int) -> int:
    """``ScaledValue``: ceil(|q| / 10**scale) with q's sign (away from zero, as the int64
    path does; upstream's inf.Dec path rounds negative values towards +inf instead)."""
    m, e = q.mantissa, q.exp - scale
    if m == 0:
        return 0
    if e >= 0:
        if e > 40:  # upstream overflows int64; saturate instead
            return _MAX_INT64 if m > 0 else -_MAX_INT64 - 1
        return m * 10**e
    mag = abs(m)
    d = -e
    if d > len(str(mag)) + 1:
        r = 1
    else:
        r, rem = divmod(mag, 10**d)
        if rem:
            r += 1
    return r if m > 0 else -r


def value(q: QuantityLike) -> int:
    """``Quantity.Value()``: the value rounded up, away from zero, to an integer."""
    return _scaled_value(_to_q(q), 0)


def milli_value(q: QuantityLike) -> int:
    """``Quantity.MilliValue()``: ceil(q * 1000), away from zero."""
    return _scaled_value(_to_q(q), -3)


@lru_cache(maxsize=8192)
def _nano_text(s: str) -> int:
    q = _to_q(s)
    # An absurd exponent ("1e999999") saturates instead of building a giant integer.
    return q.mantissa * 10**min(q.exp - _NANO, _MAX_MATERIALISED_EXP)


def nano_value(q: QuantityLike) -> int:
    """The exact value in units of 1e-9 (every parsed quantity is a whole number of nanos).
    Cheap, cached: for sums and comparisons on hot paths. Values above 1e3991 saturate."""
    if type(q) is str:
        return _nano_text(q)
    return _nano_text(_text_of(q)) if not isinstance(q, Fraction) else int(q * 10**9)


def compare(a: QuantityLike, b: QuantityLike) -> int:
    """``Quantity.Cmp``: -1, 0 or 1. Cached for two strings (requests against limits, on
    every pod write)."""
    if type(a) is str and type(b) is str:
        return _compare_text(a, b)
    return _compare_q(_to_q(a), _to_q(b))


@lru_cache(maxsize=8192)
def _compare_text(a: str, b: str) -> int:
    return _compare_q(_to_q(a), _to_q(b))


def _compare_q(qa: _Q, qb: _Q) -> int:
    x, y = qa.mantissa, qb.mantissa
    d = qa.exp - qb.exp
    if d > 0:
        if d > _MAX_MATERIALISED_EXP:
            return (x > 0) - (x < 0) if x else -((y > 0) - (y < 0))
        x *= 10**d
    elif d < 0:
        if -d > _MAX_MATERIALISED_EXP:
            return -((y > 0) - (y < 0)) if y else (x > 0) - (x < 0)
        y *= 10**-d
    return (x > y) - (x < y)


def is_negative(q: QuantityLike) -> bool:
    """``q.Cmp(Quantity{}) < 0``."""
    return _to_q(q).mantissa < 0


@lru_cache(maxsize=4096)
def _round_up_milli_text(s: str) -> str:
    q = _parse(s)
    if q.exp >= -3 or q.mantissa == 0:
        # RoundUp leaves an amount whose scale is already >= milli alone, cached text included
        return _format(q)
    r, rem = divmod(abs(q.mantissa), 10**(-3 - q.exp))
    if rem:
        r += 1
    return _format(_Q(r if q.mantissa > 0 else -r, -3, q.fmt, None))


def round_up_milli(q: QuantityLike) -> str:
    """``Quantity.RoundUp(Milli)`` then ``String()``: what ``SetDefaults_ResourceList`` stores
    (``"100u"`` -> ``"1m"``, ``"1.5Gi"`` unchanged). Cached."""
    return _round_up_milli_text(q.strip() if type(q) is str else _text_of(q))


def default_resource_list(resources: dict | None) -> None:
    """``SetDefaults_ResourceList``: round every value of a ResourceList (requests, limits,
    capacity, ...) up to milli precision, in place."""
    if resources:
        for key, v in resources.items():
            rounded = _round_up_milli_text(v) if type(v) is str else round_up_milli(v)
            if rounded is not v:
                resources[key] = rounded
