"""INCR/DECR/INCRBY/DECRBY/INCRBYFLOAT with Redis's parsing and number format."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Final

from taipan.commands.args import (
    LLONG_MAX,
    LLONG_MIN,
    int_to_decimal,
    parse_exact_float,
    to_int,
    try_int,
)
from taipan.commands.table import CommandGroup
from taipan.errors import NotFloat, NotInteger, ReplyError
from taipan.keyspace import events as ev

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("string")

_OVERFLOW: Final = ReplyError("ERR increment or decrement would overflow")
_SHORT: Final = 2**62 - 1  # compiled, ints below this magnitude are unboxed
# As Redis shares the integers 0-9999 (OBJ_SHARED_INTEGERS), a counter in that range is
# stored as one shared string object: no allocation per INCR, and no memory per key for
# the value (bytes are immutable, and access times live apart, in keyspace/access.py).
_SHARED_COUNT: Final = 10_000
_SHARED_INTEGERS: Final = [b"%d" % number for number in range(_SHARED_COUNT)]


def _increment(ctx: Client, key: bytes, delta: int) -> int:
    db = ctx.db
    value = db.get_string(key)
    if value is None:
        current = 0
    else:
        parsed = try_int(value)
        if parsed is None:
            raise NotInteger()
        current = parsed
    result = current + delta
    # (the first test is between two of mypyc's unboxed ints: no boxed 64-bit bounds)
    if not -_SHORT < result < _SHORT and not LLONG_MIN <= result <= LLONG_MAX:
        raise _OVERFLOW
    stored = _SHARED_INTEGERS[result] if 0 <= result < _SHARED_COUNT else b"%d" % result
    db.set(key, stored, keep_ttl=True)
    if db.event_mask:  # notifications on (one test when off)
        db.notify(ev.STRING, b"incrby", key)
    return result


@commands.command("INCR", arity=2, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Increment the integer value of a key by one", since="1.0.0",
                  complexity="O(1)")
def incr(ctx: Client, argv: list[bytes]) -> int:
    """INCR key"""
    return _increment(ctx, argv[1], 1)


@commands.command("DECR", arity=2, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Decrement the integer value of a key by one", since="1.0.0",
                  complexity="O(1)")
def decr(ctx: Client, argv: list[bytes]) -> int:
    """DECR key"""
    return _increment(ctx, argv[1], -1)


@commands.command("INCRBY", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Increment the integer value of a key by the given amount", since="1.0.0",
                  complexity="O(1)")
def incrby(ctx: Client, argv: list[bytes]) -> int:
    """INCRBY key increment"""
    return _increment(ctx, argv[1], to_int(argv[2]))


@commands.command("DECRBY", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Decrement the integer value of a key by the given number", since="1.0.0",
                  complexity="O(1)")
def decrby(ctx: Client, argv: list[bytes]) -> int:
    """DECRBY key decrement"""
    delta = to_int(argv[2])
    if delta == LLONG_MIN:
        raise ReplyError("ERR decrement would overflow")
    return _increment(ctx, argv[1], -delta)


# Redis computes INCRBYFLOAT in C ``long double`` (x87 80-bit: 64-bit significand,
# exponents down to -16382, subnormals to 2**-16445) and prints it with "%.17Lf".
# Doing the arithmetic on exact fractions rounded the way the FPU rounds reproduces
# its results digit for digit.
_SIGNIFICAND_BITS: Final = 64
_LONG_DOUBLE_MAX_EXP: Final = 16383  # largest binary exponent of a finite value
_LONG_DOUBLE_MIN_QUANTUM: Final = -16445  # exponent of the smallest subnormal


def _round_to_long_double(value: Fraction) -> Fraction | float:
    """``value`` rounded half-even to the nearest long double (± inf on overflow)."""
    if value == 0:
        return Fraction(0)
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1
    if exponent > _LONG_DOUBLE_MAX_EXP:
        return sign * math.inf
    quantum = max(exponent - (_SIGNIFICAND_BITS - 1), _LONG_DOUBLE_MIN_QUANTUM)
    rounded = round(magnitude / Fraction(2) ** quantum)  # half-even, as the FPU
    if rounded.bit_length() > _SIGNIFICAND_BITS and exponent + 1 > _LONG_DOUBLE_MAX_EXP:
        return sign * math.inf
    return sign * rounded * Fraction(2) ** quantum


def _parse_long_double(arg: bytes | bytearray) -> Fraction | float:
    """Redis's string2ld: strtold over the whole string, refusing leading space,
    trailing bytes (a NUL too), NaN, and overflow or underflow to zero (ERANGE)."""
    if not arg or len(arg) >= 5 * 1024:  # Redis's MAX_LONG_DOUBLE_CHARS buffer
        raise NotFloat()
    exact = parse_exact_float(bytes(arg)) if arg[:1] not in _SPACES else None
    if exact is None:
        raise NotFloat()
    if isinstance(exact, float):  # an "inf" literal: valid, no ERANGE
        return exact
    rounded = _round_to_long_double(exact)
    if isinstance(rounded, float) or (rounded == 0 and exact != 0):
        raise NotFloat()
    return rounded


_SPACES: Final = {b" ", b"\t", b"\n", b"\v", b"\f", b"\r"}


def format_long_double(value: Fraction) -> bytes:
    """``%.17Lf`` with trailing zeros (and a bare point) trimmed."""
    scaled = value * 10**17
    digits = round(scaled)  # the exact binary value, rounded half-even to 17 places
    negative = digits < 0 or (digits == 0 and value < 0)
    text = int_to_decimal(abs(digits)).rjust(18, "0")
    integer, fraction = text[:-17], text[-17:].rstrip("0")
    out = integer + ("." + fraction if fraction else "")
    if negative and out != "0":
        out = "-" + out
    return out.encode()


@commands.command("INCRBYFLOAT", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Increment the float value of a key by the given amount", since="2.6.0",
                  complexity="O(1)")
def incrbyfloat(ctx: Client, argv: list[bytes]) -> bytes:
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
    db.notify(ev.STRING, b"incrbyfloat", key)
    ctx.propagate_argv = [b"SET", key, text, b"KEEPTTL"]
    return text
