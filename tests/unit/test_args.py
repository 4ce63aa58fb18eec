"""Argument parsing helpers. Acceptance was checked against a real Redis 7.0
(INCRBY for integers, ZADD/ZSCORE for doubles)."""

from __future__ import annotations

import math
import random
import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taipan.commands.args import (
    LLONG_MAX,
    LLONG_MIN,
    _digits_value,
    decimal_to_int,
    int_to_decimal,
    parse_exact_float,
    to_float,
    to_int,
    to_nonneg_int,
    try_int,
)
from taipan.errors import NotFloat, NotInteger, ReplyError, SyntaxErr

INTS = [
    (b"0", 0), (b"1", 1), (b"-1", -1), (b"123", 123),
    (b"9223372036854775807", LLONG_MAX), (b"-9223372036854775808", LLONG_MIN),
]
NOT_INTS = [
    b"", b"-0", b"007", b"00", b"+1", b" 1", b"1 ", b"1\x00", b"1e3", b"0x10", b"1.0",
    b"9223372036854775808", b"-9223372036854775809", b"99999999999999999999",
    b"-", b"1_000", b"\xd9\xa1",  # Arabic-Indic one: int() would take it
]


@pytest.mark.parametrize("text, value", INTS)
def test_to_int(text: bytes, value: int) -> None:
    assert to_int(text) == value
    assert to_int(bytearray(text)) == value
    assert try_int(text) == value


@pytest.mark.parametrize("text", NOT_INTS)
def test_not_int(text: bytes) -> None:
    with pytest.raises(NotInteger, match="^ERR value is not an integer or out of range$"):
        to_int(text)
    assert try_int(text) is None


def test_to_int_custom_error() -> None:
    with pytest.raises(SyntaxErr):
        to_int(b"x", SyntaxErr)
    custom = ReplyError("ERR timeout is not an integer or out of range")
    with pytest.raises(ReplyError) as raised:
        to_int(b"x", custom)
    assert raised.value is custom


def test_to_nonneg_int() -> None:
    assert to_nonneg_int(b"5", "ERR neg") == 5
    with pytest.raises(ReplyError, match="^ERR neg$"):
        to_nonneg_int(b"-5", "ERR neg")
    with pytest.raises(NotInteger):
        to_nonneg_int(b"x", "ERR neg")


@given(st.integers(LLONG_MIN, LLONG_MAX))
def test_int_round_trip(value: int) -> None:
    assert to_int(b"%d" % value) == value


FLOATS = [
    (b"1.5", 1.5), (b"-1.5", -1.5), (b"+5", 5.0), (b"5.", 5.0), (b".5", 0.5),
    (b"1e+5", 1e5), (b"1.5e3", 1500.0), (b"1E3", 1000.0), (b"-0", -0.0), (b"0", 0.0),
    (b"0e-400", 0.0),  # an exact zero is no underflow
    (b"4e-320", 4e-320),  # a denormal is fine
    (b"inf", math.inf), (b"+inf", math.inf), (b"-Infinity", -math.inf), (b"INF", math.inf),
    # strtod reads hex floats
    (b"0x10", 16.0), (b"0X1p3", 8.0), (b"-0x1.8p1", -3.0), (b"0x.8", 0.5), (b"0x1e3", 483.0),
    (b"1" * 300, float("1" * 300)),
]
NOT_FLOATS = [
    b"", b" 5", b"5 ", b"\t5", b"5\n", b"5\x00", b"1e", b"e5", b".", b"-", b"+", b"0x",
    b"0x1p", b"nan", b"-nan", b"NaN", b"infinit", b"infinityy", b"1_000", b"\xef\xbc\x91",
    b"1e400", b"-1e400", b"1e-400", b"2e-324",  # strtod's ERANGE: overflow, underflow to 0
    b"0x1p99999", b"0x1p-99999", b"1" * 400, b"1,5",
]


@pytest.mark.parametrize("text, value", FLOATS)
def test_to_float(text: bytes, value: float) -> None:
    result = to_float(text)
    assert result == value
    assert math.copysign(1, result) == math.copysign(1, value)


@pytest.mark.parametrize("text", NOT_FLOATS)
def test_not_float(text: bytes) -> None:
    with pytest.raises(NotFloat, match="^ERR value is not a valid float$"):
        to_float(text)


@given(st.floats(allow_nan=False))
def test_float_round_trip(value: float) -> None:
    assert to_float(repr(value).encode()) == value
    assert to_float(value.hex().encode()) == value


@pytest.mark.parametrize("text, value", [
    (b"1.5", Fraction(3, 2)), (b"-0.1", Fraction(-1, 10)), (b"0x1p-1", Fraction(1, 2)),
    (b"0", Fraction(0)), (b"-0.0", Fraction(0)), (b"inf", math.inf), (b"-inf", -math.inf),
    (b"1e2", Fraction(100)),
])
def test_parse_exact_float(text: bytes, value) -> None:
    assert parse_exact_float(text) == value


@pytest.mark.parametrize("text", [b"", b"x", b" 1", b"nan"])
def test_parse_exact_float_refuses(text: bytes) -> None:
    assert parse_exact_float(text) is None


def test_parse_exact_float_bounds_huge_exponents() -> None:
    assert parse_exact_float(b"1e999999999") == Fraction(2**20000)
    assert parse_exact_float(b"-1e-999999999") == Fraction(-1, 2**20000)


def test_long_decimal_conversions() -> None:
    # Beyond CPython's 4300-digit guard on int <-> str.
    digits = b"7" * 9000
    value = decimal_to_int(digits)
    assert value == sum(7 * 10**i for i in range(9000))
    assert int_to_decimal(value) == digits.decode()
    assert int_to_decimal(0) == "0"
    assert decimal_to_int(b"0042") == 42


def test_try_int_is_string2ll() -> None:
    """Each of try_int's paths (digits read one by one, compiled; plain digits through
    int(), interpreted; the int() round trip) accepts exactly
    Redis's canonical 64-bit integers: optional '-', no leading zero, no '+' or space."""
    canonical = re.compile(rb"(?:0|-?[1-9][0-9]*)\Z")
    rng = random.Random(11)
    alphabet = b"0123456789-+ _a"
    for _ in range(50000):
        text = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 22)))
        expected = int(text) if canonical.match(text) and -2**63 <= int(text) < 2**63 else None
        assert try_int(text) == expected, text
        assert try_int(bytearray(text)) == expected, text
        if 0 < len(text) < 19 and text.isdigit():  # (the compiled build's first path)
            assert _digits_value(text, len(text)) == expected, text


def test_to_float_plain_decimals_agree_with_the_strtod_path() -> None:
    """[-]digits[.digits] takes a shortcut; with an 'e0' appended the same number
    goes through the strtod-shaped path: both must agree, -0 included."""
    rng = random.Random(13)
    for _ in range(20000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 16)))
        if rng.random() < 0.5:
            cut = rng.randrange(0, len(digits) + 1)
            digits = digits[:cut] + "." + digits[cut:]
        text = (("-" if rng.random() < 0.3 else "") + digits).encode()
        shortcut, general = to_float(text), to_float(text + b"e0")
        assert shortcut == general and math.copysign(1, shortcut) == math.copysign(1, general)
