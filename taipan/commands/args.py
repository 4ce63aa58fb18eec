"""Argument parsing with Redis's exact acceptance rules and error texts."""

from __future__ import annotations

import math
import re

from taipan.errors import NotFloat, NotInteger, ReplyError, SyntaxErr

LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1

_INT_RE = re.compile(rb"(?:0|-?[1-9][0-9]{0,19})\Z")
# What strtod accepts (decimal forms) minus leading spaces, which Redis rejects.
_FLOAT_RE = re.compile(
    rb"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?)\Z",
    re.IGNORECASE,
)


def to_int(arg: bytes | bytearray, error: type[ReplyError] | ReplyError = NotInteger) -> int:
    """Redis's string2ll: no spaces, no '+', no leading zeros, within 64 bits."""
    if _INT_RE.match(arg):
        value = int(arg)
        if LLONG_MIN <= value <= LLONG_MAX:
            return value
    raise error() if isinstance(error, type) else error


def try_int(arg: bytes | bytearray) -> int | None:
    if _INT_RE.match(arg):
        value = int(arg)
        if LLONG_MIN <= value <= LLONG_MAX:
            return value
    return None


def to_float(arg: bytes | bytearray, error: type[ReplyError] | ReplyError = NotFloat) -> float:
    """Redis's strtod-based parse: rejects NaN, spaces and trailing bytes."""
    if _FLOAT_RE.match(arg):
        value = float(arg)
        if not math.isnan(value):
            return value
    raise error() if isinstance(error, type) else error


def to_nonneg_int(arg: bytes, message: str) -> int:
    value = to_int(arg)
    if value < 0:
        raise ReplyError(message)
    return value


def upper(arg: bytes) -> bytes:
    return arg.upper()


def syntax_error() -> ReplyError:
    return SyntaxErr()
