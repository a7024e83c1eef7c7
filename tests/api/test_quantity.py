"""resource.Quantity: parsing, canonical text, rounding (fakekube.api.quantity).

Expected values follow upstream's ``quantity.go``/``amount.go`` rules for v1.31.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from fakekube.api.quantity import (BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI, MSG_FORMAT_WRONG,
                                   MSG_SUFFIX, QuantityError, canonical, compare,
                                   default_resource_list, format_quantity, is_negative,
                                   milli_value, nano_value, parse_quantity, quantity_format,
                                   round_up_milli, value)


@pytest.mark.parametrize("text, expected", [
    # the brief's examples
    ("1000m", "1"), ("1024Mi", "1Gi"), ("0.5", "500m"), ("1", "1"), ("1.5Gi", "1536Mi"),
    # decimal SI: trailing zeros go into the exponent, which is lowered to a multiple of 3
    ("1.5", "1500m"), ("1000", "1k"), ("2000", "2k"), ("1500m", "1500m"), ("100", "100"),
    ("0.1m", "100u"), ("1n", "1n"), ("10Gi", "10Gi"), ("1M", "1M"), ("1000k", "1M"),
    ("-1.5", "-1500m"), ("1E", "1E"), ("12Mi", "12Mi"), ("128974848", "128974848"),
    # values finer than 1n round up (in magnitude) to the next nano
    ("0.0000000001", "1n"), ("1e-12", "1e-9"), ("-0.0000000001", "-1n"),
    # decimal exponent keeps its format
    ("1e3", "1e3"), ("12e6", "12e6"), ("1.5e3", "1500"), ("10e3", "10e3"), ("1E3", "1E3"),
    ("1e0", "1e0"), ("1000e0", "1e3"),
    # binary: powers of 1024; below 1024 or non-integral values become decimal SI
    ("8Ki", "8Ki"), ("2048Ki", "2Mi"), ("1536Ki", "1536Ki"), ("0.5Gi", "512Mi"),
    ("1.5Ki", "1536"), ("0.5Ki", "512"), ("1.1Ki", "1126400m"), ("1Ti", "1Ti"),
    ("8Ei", "9223372036854775807"),  # binary values are capped at 2**63-1
    # zero is always "0"
    ("0", "0"), ("-0", "0"), ("0.000", "0"), ("0Gi", "0"), ("m", "0"), ("+", "0"),
    # upstream keeps text its fast path considers canonical, quirks included
    ("+1", "+1"), ("05", "05"), ("1.", "1."),
    # a decimal SI exponent above 18 has no suffix to print and loses it
    ("1000E", "1"),
    # whitespace is trimmed, as UnmarshalJSON does
    (" 1Gi ", "1Gi"),
])
def test_canonical(text, expected):
    assert canonical(text) == expected


@pytest.mark.parametrize("number, expected", [
    (1, "1"), (0, "0"), (2, "2"), (1000, "1k"), (1.5, "1500m"), (0.1, "100m"), (-3, "-3"),
    (1e21, "1e21"),
])
def test_canonical_of_json_numbers(number, expected):
    assert canonical(number) == expected


@pytest.mark.parametrize("text, message", [
    ("", MSG_FORMAT_WRONG), ("1x", MSG_FORMAT_WRONG), ("abc", MSG_FORMAT_WRONG),
    ("1.2.3", MSG_FORMAT_WRONG), ("1 Gi", MSG_FORMAT_WRONG), ("1Gix", MSG_FORMAT_WRONG),
    ("1Ki2", MSG_SUFFIX), ("1e", MSG_SUFFIX), ("--1", MSG_SUFFIX), ("1mi", MSG_SUFFIX),
    ("1gi", MSG_FORMAT_WRONG),
    ("1e99999999999999999999", MSG_SUFFIX),
])
def test_parse_errors_have_upstream_messages(text, message):
    with pytest.raises(QuantityError) as exc:
        canonical(text)
    assert str(exc.value) == message


def test_format_wrong_message_text():
    assert MSG_FORMAT_WRONG == ("quantities must match the regular expression "
                                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_parse_quantity_is_exact():
    assert parse_quantity("1.5Gi") == 1610612736
    assert parse_quantity("250m") == Fraction(1, 4)
    assert parse_quantity("1e-12") == Fraction(1, 10**9)
    assert parse_quantity("0.1m") == Fraction(1, 10**4)
    assert parse_quantity("8Ei") == 2**63 - 1
    assert parse_quantity(Fraction(3, 7)) == Fraction(3, 7)
    assert nano_value("1.5") == 1_500_000_000


def test_formats():
    assert quantity_format("1Gi") == BINARY_SI
    assert quantity_format("1e3") == DECIMAL_EXPONENT
    assert quantity_format("1k") == DECIMAL_SI
    assert quantity_format("0.5Ki") == BINARY_SI
    assert quantity_format("0.0001Ki") == DECIMAL_SI  # a binary value below 1 becomes decimal


def test_value_and_milli_value_round_away_from_zero():
    assert value("1.5") == 2
    assert value("-1.5") == -2
    assert value("1Gi") == 2**30
    assert milli_value("1.5") == 1500
    assert milli_value("100u") == 1
    assert milli_value("1n") == 1
    assert value("0") == 0


def test_compare_and_sign():
    assert compare("1", "1000m") == 0
    assert compare("2", "1000m") == 1
    assert compare("1Gi", "1G") == 1
    assert compare("1e3", "1k") == 0
    assert is_negative("-1m") and not is_negative("0") and not is_negative("1")


def test_format_quantity():
    assert format_quantity(Fraction(3, 2)) == "1500m"
    assert format_quantity(2**30, BINARY_SI) == "1Gi"
    assert format_quantity(1000, DECIMAL_EXPONENT) == "1e3"
    assert format_quantity(0) == "0"
    assert format_quantity(Fraction(1, 3)) == "333333334n"  # rounded up to nano


@pytest.mark.parametrize("text, expected", [
    ("100u", "1m"), ("1000u", "1m"), ("1500u", "2m"), ("1n", "1m"), ("-1n", "-1m"),
    ("1.5Gi", "1536Mi"), ("+1", "+1"), ("100m", "100m"), ("1e-6", "1e-3"),
])
def test_round_up_milli(text, expected):
    assert round_up_milli(text) == expected


def test_default_resource_list_rounds_every_value():
    rl = {"cpu": "100u", "memory": "1Gi", "example.com/gpu": "1"}
    default_resource_list(rl)
    assert rl == {"cpu": "1m", "memory": "1Gi", "example.com/gpu": "1"}
    default_resource_list(None)  # nothing to do


# --------------------------------------------------------------------------------------------
# Properties

_SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi",
             "e3", "e-3", "E6", "e0", "e-9", "e12"]


@st.composite
def quantity_texts(draw):
    sign = draw(st.sampled_from(["", "-", "+"]))
    whole = draw(st.text("0123456789", min_size=1, max_size=12))
    frac = draw(st.one_of(st.just(""), st.text("0123456789", min_size=0, max_size=10)))
    dot = "." if frac or draw(st.booleans()) else ""
    return f"{sign}{whole}{dot}{frac}{draw(st.sampled_from(_SUFFIXES))}"


def _upstream_rounded(text: str) -> Fraction:
    """The value upstream holds: exact, rounded up in magnitude to nano, binary capped."""
    return parse_quantity(text)


@given(quantity_texts())
def test_canonical_is_idempotent(text):
    c = canonical(text)
    assert canonical(c) == c


@given(quantity_texts())
def test_canonical_preserves_the_rounded_value(text):
    c = canonical(text)
    v = _upstream_rounded(text)
    # Exceptions: upstream drops the suffix of decimal SI values whose exponent is above 18.
    if quantity_format(text) == DECIMAL_SI and abs(v) >= 10**21:
        return
    assert parse_quantity(c) == v
    assert v * 10**9 == int(v * 10**9)  # always a whole number of nanos


@given(st.integers(min_value=-10**15, max_value=10**15),
       st.sampled_from([DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT]))
def test_format_quantity_round_trips_integers(n, fmt):
    text = format_quantity(n, fmt)
    assert parse_quantity(text) == n
    if fmt != BINARY_SI:  # a binary value without a suffix re-parses as decimal ("2000" -> "2k")
        assert canonical(text) == text


@given(quantity_texts())
def test_round_up_milli_is_at_milli_precision_and_not_smaller(text):
    rounded = round_up_milli(text)
    v, r = parse_quantity(text), parse_quantity(rounded)
    assert (r * 1000).denominator == 1
    assert abs(r) >= abs(v) and abs(r - v) < Fraction(1, 1000)
