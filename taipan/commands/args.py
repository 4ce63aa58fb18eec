"""Argument parsing with Redis's exact acceptance rules and error texts."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Final

from taipan.errors import NotFloat, NotInteger, ReplyError, SyntaxErr

LLONG_MIN: Final = -(2**63)
LLONG_MAX: Final = 2**63 - 1
# Computed at import: as a literal, mypyc would store its 6,021 digits as text, which
# int() then refuses to read back (Python's 4,300-digit conversion limit).
_BEYOND_LONG_DOUBLE: Final = pow(2, 20000)

# The whole of what C's strtod/strtold accept (decimal, hex with a binary exponent,
# inf/infinity; NaN is refused by Redis anyway), with no leading space as Redis
# refuses it. Groups: sign, hex int/fraction/exponent, decimal int/fraction/exponent.
_STRTOD_RE: Final = re.compile(
    rb"([+-]?)(?:0[xX](?=\.?[0-9a-fA-F])([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?"
    rb"|(?=\.?[0-9])([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?"
    rb"|(inf(?:inity)?))\Z",
    re.IGNORECASE,
)
_FLOAT_RE: Final = _STRTOD_RE


def to_int(arg: bytes | bytearray, error: Callable[[], ReplyError] | ReplyError = NotInteger) -> int:
    """Redis's string2ll: no spaces, no '+', no leading zeros, within 64 bits."""
    value = try_int(arg)  # (no regex: a third of the cost for the usual short numbers)
    if value is not None:
        return value
    raise error if isinstance(error, ReplyError) else error()


# Compiled, reading the digits in a loop costs a third of int()'s call through the int
# type; interpreted, int() is the cheaper (both give the same answers).
_DIGIT_LOOP: Final = not __file__.endswith(".py")


def _digits_value(arg: bytes, size: int) -> int | None:
    """The value of 1-18 ASCII digits with no leading zero (else None), digit by digit."""
    if arg[0] == 48:
        return 0 if size == 1 else None
    value = 0
    for index in range(size):
        digit = arg[index] - 48
        if digit < 0 or digit > 9:
            return None
        value = value * 10 + digit
    return value


def try_int(arg: bytes | bytearray) -> int | None:
    """``to_int`` without the error (the INCR hot path: no regex, one round trip)."""
    size = len(arg)
    if _DIGIT_LOOP and 0 < size < 19 and type(arg) is bytes:
        value = _digits_value(arg, size)
        if value is not None:
            return value
    elif 0 < size < 19 and arg.isdigit() and (arg[0] != 48 or size == 1):
        # Up to 18 ASCII digits, no leading zero: canonical and within 64 bits, so
        # int() alone decides (isdigit is C; the round trip below costs as much).
        return int(arg)
    try:
        value = int(arg)
    except ValueError:
        return None
    # int() also takes spaces, '+', '_' and leading zeros; Redis only the canonical form.
    if LLONG_MIN <= value <= LLONG_MAX and b"%d" % value == arg:
        return value
    return None


def to_float(arg: bytes | bytearray, error: Callable[[], ReplyError] | ReplyError = NotFloat) -> float:
    """Redis's strtod-based parse (string2d): decimal or hex; refuses NaN, spaces,
    trailing bytes, and overflow or underflow to zero (strtod's ERANGE)."""
    # The common case first: [-]digits[.digits], at most 15 digits: float() reads it
    # exactly as strtod does, and it can't overflow or underflow.
    digits = arg[1:] if arg[:1] == b"-" else arg
    if 0 < len(digits) < 16 and (digits.isdigit() or digits.replace(b".", b"", 1).isdigit()):
        return float(arg)
    match = _STRTOD_RE.match(arg)
    if match is not None:
        if match.group(8) is not None:
            return -math.inf if match.group(1) == b"-" else math.inf
        try:
            value = float(arg) if match.group(5) is not None else float.fromhex(arg.decode())
        except OverflowError:
            value = math.inf
        if not math.isinf(value) and (value != 0.0 or not _has_nonzero_digit(match)):
            return value
    raise error if isinstance(error, ReplyError) else error()


def _has_nonzero_digit(match: re.Match[bytes]) -> bool:
    digits = b"".join(match.group(i) or b"" for i in (2, 3, 5, 6))
    return digits.strip(b"0") != b""


# CPython refuses int <-> decimal str conversions beyond 4300 digits (a DoS guard);
# long double values and their inputs can be longer, so convert in chunks.
_CHUNK_DIGITS: Final = 4000
_CHUNK: Final = 10**_CHUNK_DIGITS


def decimal_to_int(digits: bytes) -> int:
    """``int(digits)`` for ASCII decimal digits of any length."""
    value = 0
    for start in range(0, len(digits), _CHUNK_DIGITS):
        chunk = digits[start:start + _CHUNK_DIGITS]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def int_to_decimal(value: int) -> str:
    """``str(value)`` for a non-negative int of any size."""
    if value < _CHUNK:
        return str(value)
    high, low = divmod(value, _CHUNK)
    return int_to_decimal(high) + str(low).rjust(_CHUNK_DIGITS, "0")


def parse_exact_float(arg: bytes) -> Fraction | float | None:
    """The exact value of what strtod/strtold would read from ``arg``, or None.

    Returns ``math.inf``/``-math.inf`` for an infinity literal, and a signed
    ``Fraction`` otherwise (zero is ``Fraction(0)``: the sign of zero is lost). A
    decimal or binary exponent far outside any float range yields a huge/tiny bound
    instead of an exact (and costly) power.
    """
    match = _STRTOD_RE.match(arg)
    if match is None:
        return None
    sign = -1 if match.group(1) == b"-" else 1
    if match.group(8) is not None:
        return sign * math.inf
    if match.group(5) is not None:
        whole, fraction, exponent, base = match.group(5), match.group(6) or b"", match.group(7), 10
    else:
        whole, fraction, exponent, base = match.group(2), match.group(3) or b"", match.group(4), 2
    digits = (whole + fraction).lstrip(b"0")
    if not digits:
        return Fraction(0)
    mantissa = int(digits, 16) if base == 2 else decimal_to_int(digits)
    shift = int(exponent or b"0") - len(fraction) * (4 if base == 2 else 1)
    # Bound the power: 2**±20000 and 10**±6000 are beyond every long double already.
    magnitude_digits = len(digits) * (4 if base == 2 else 1) + shift
    limit = 20000 if base == 2 else 6000
    if magnitude_digits > limit:
        return Fraction(sign * _BEYOND_LONG_DOUBLE)
    if magnitude_digits < -limit:
        return Fraction(sign, _BEYOND_LONG_DOUBLE)
    return sign * mantissa * Fraction(base) ** shift


def to_nonneg_int(arg: bytes, message: str) -> int:
    value = to_int(arg)
    if value < 0:
        raise ReplyError(message)
    return value


def upper(arg: bytes) -> bytes:
    return arg.upper()


def syntax_error() -> ReplyError:
    return SyntaxErr()
