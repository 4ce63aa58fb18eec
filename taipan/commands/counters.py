"""INCR/DECR/INCRBY/DECRBY/INCRBYFLOAT with Redis's parsing and number format."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from taipan.commands.args import LLONG_MAX, LLONG_MIN, to_float, to_int, try_int
from taipan.commands.table import CommandGroup
from taipan.errors import NotFloat, NotInteger, ReplyError

commands = CommandGroup("string")

_OVERFLOW = ReplyError("ERR increment or decrement would overflow")


def _increment(ctx: Any, key: bytes, delta: int) -> int:
    db = ctx.db
    value = db.get_string(key)
    if value is None:
        current = 0
    else:
        current = try_int(value)
        if current is None:
            raise NotInteger()
    result = current + delta
    if not LLONG_MIN <= result <= LLONG_MAX:
        raise _OVERFLOW
    db.set(key, b"%d" % result, keep_ttl=True)
    return result


@commands.command("INCR", arity=2, flags="write denyoom fast", keys=(1, 1, 1))
def incr(ctx: Any, argv: list[bytes]) -> int:
    """INCR key"""
    return _increment(ctx, argv[1], 1)


@commands.command("DECR", arity=2, flags="write denyoom fast", keys=(1, 1, 1))
def decr(ctx: Any, argv: list[bytes]) -> int:
    """DECR key"""
    return _increment(ctx, argv[1], -1)


@commands.command("INCRBY", arity=3, flags="write denyoom fast", keys=(1, 1, 1))
def incrby(ctx: Any, argv: list[bytes]) -> int:
    """INCRBY key increment"""
    return _increment(ctx, argv[1], to_int(argv[2]))


@commands.command("DECRBY", arity=3, flags="write denyoom fast", keys=(1, 1, 1))
def decrby(ctx: Any, argv: list[bytes]) -> int:
    """DECRBY key decrement"""
    delta = to_int(argv[2])
    if delta == LLONG_MIN:
        raise ReplyError("ERR decrement would overflow")
    return _increment(ctx, argv[1], -delta)


# Redis computes INCRBYFLOAT in C ``long double`` (x87 80-bit: 64-bit significand)
# and prints it with "%.17Lf". Doing the arithmetic on exact fractions rounded to a
# 64-bit significand reproduces its results digit for digit.
_SIGNIFICAND_BITS = 64
_LONG_DOUBLE_MAX_EXP = 16384


def _round_to_long_double(value: Fraction) -> Fraction | float:
    if value == 0:
        return Fraction(0)
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    if exponent >= _LONG_DOUBLE_MAX_EXP:
        return sign * math.inf
    shift = _SIGNIFICAND_BITS - 1 - exponent
    scaled = magnitude * Fraction(2) ** shift
    rounded = round(scaled)  # round-half-even, as the FPU does
    return sign * Fraction(rounded) / Fraction(2) ** shift


def _parse_long_double(arg: bytes) -> Fraction | float:
    if len(arg) > 5 * 1024:
        raise NotFloat()
    number = to_float(arg)  # validates syntax exactly as Redis does
    if math.isinf(number):
        return number
    return _round_to_long_double(Fraction(arg.decode()))


def format_long_double(value: Fraction) -> bytes:
    """``%.17Lf`` with trailing zeros (and a bare point) trimmed."""
    scaled = value * 10**17
    digits = round(scaled)  # the exact binary value, rounded half-even to 17 places
    negative = digits < 0 or (digits == 0 and value < 0)
    text = str(abs(digits)).rjust(18, "0")
    integer, fraction = text[:-17], text[-17:].rstrip("0")
    out = integer + ("." + fraction if fraction else "")
    if negative and out != "0":
        out = "-" + out
    return out.encode()


@commands.command("INCRBYFLOAT", arity=3, flags="write denyoom fast", keys=(1, 1, 1))
def incrbyfloat(ctx: Any, argv: list[bytes]) -> bytes:
    """INCRBYFLOAT key increment"""
    db = ctx.db
    key = argv[1]
    value = db.get_string(key)
    current = Fraction(0) if value is None else _parse_long_double(bytes(value))
    delta = _parse_long_double(argv[2])
    if isinstance(current, float) or isinstance(delta, float):
        raise ReplyError("ERR increment would produce NaN or Infinity")
    result = _round_to_long_double(current + delta)
    if isinstance(result, float):
        raise ReplyError("ERR increment would produce NaN or Infinity")
    text = format_long_double(result)
    db.set(key, text, keep_ttl=True)
    ctx.propagate_argv = [b"SET", key, text, b"KEEPTTL"]
    return text
