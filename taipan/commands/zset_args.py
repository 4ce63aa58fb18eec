"""Shared pieces of the sorted-set commands: lookups, range parsing, score replies."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from taipan.errors import ReplyError, WrongType
from taipan.keyspace import events as ev
from taipan.types.packed_types import PackedZSet
from taipan.types.zset import (
    LEX_EXCLUSIVE,
    LEX_INCLUSIVE,
    LEX_MAX,
    LEX_MIN,
    Entry,
    LexBound,
    ZSet,
)

if TYPE_CHECKING:
    from taipan.net.client import Client

NOT_FLOAT_RANGE: Final = "ERR min or max is not a float"
NOT_LEX_RANGE: Final = "ERR min or max not valid string range item"
NAN_SCORE: Final = "ERR resulting score is not a number (NaN)"

# What C's strtod reads completely (decimal, hex, inf/infinity), NaN left out.
_STRTOD: Final = re.compile(
    rb"[+-]?(?:0[xX](?=\.?[0-9a-fA-F])[0-9a-fA-F]*(?:\.[0-9a-fA-F]*)?(?:[pP][+-]?[0-9]+)?"
    rb"|(?=\.?[0-9])[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|inf(?:inity)?)\Z",
    re.IGNORECASE,
)
_C_SPACES: Final = b" \t\n\v\f\r"


# -- lookups ----------------------------------------------------------------------------

def read_zset(ctx: Client, key: bytes) -> ZSet | None:
    """The sorted set at ``key`` for a read command (counts a keyspace hit or miss)."""
    value = ctx.db.get_read(key)
    if value is not None and type(value) is not ZSet:
        raise WrongType()
    return value


def read_zset_at_rest(ctx: Client, key: bytes) -> ZSet | PackedZSet | None:
    """``read_zset`` that leaves a small sorted set packed: ZCARD, ZSCORE, ZMSCORE,
    ZRANK and ZREVRANK read its blob, which costs less than opening it."""
    value = ctx.db.get_read(key, at_rest=True)
    if value is not None and type(value) is not ZSet and type(value) is not PackedZSet:
        raise WrongType()
    return value


def write_zset(ctx: Client, key: bytes) -> ZSet | None:
    """The sorted set at ``key`` for a write command."""
    value: ZSet | None = ctx.db.get_typed(key, ZSet)  # exactly a ZSet, or None
    return value


def listpack_limits(ctx: Client) -> tuple[int, int]:
    """(zset-max-listpack-entries, zset-max-listpack-value) as configured now."""
    config = ctx.server.config
    return config.zset_max_listpack_entries, config.zset_max_listpack_value


def modified(ctx: Client, key: bytes, zset: ZSet, changes: int, event: bytes) -> None:
    """Signal ``changes`` writes to ``key`` and fire ``event``; a set left empty is
    deleted (firing ``del``), as in Redis."""
    if not changes:
        return
    db = ctx.db
    if len(zset):
        db.signal(key)
        db.notify(ev.ZSET, event, key)
    else:
        db.delete(key)
        db.notify(ev.ZSET, event, key)
        db.notify(ev.GENERIC, b"del", key)
    db.stats.dirty += changes - 1  # Redis counts each change made


# -- ranges -----------------------------------------------------------------------------

def range_float(text: bytes) -> float | None:
    """A score bound as Redis's range parser reads it: strtod over the whole C string,
    which allows leading spaces, the empty string (0) and overflow (±inf)."""
    text = text.split(b"\0", 1)[0]
    if not text:
        return 0.0
    body = text.lstrip(_C_SPACES)
    if not _STRTOD.match(body):
        return None
    if b"x" in body or b"X" in body:
        try:
            return float.fromhex(body.decode())
        except OverflowError:
            return -math.inf if body[:1] == b"-" else math.inf
    return float(body)


def parse_score_range(low: bytes, high: bytes) -> tuple[float, bool, float, bool]:
    """(min, min exclusive, max, max exclusive) from ``(1.5``-style bounds."""
    bounds: list[Any] = []
    for arg in (low, high):
        exclusive = arg[:1] == b"("
        value = range_float(arg[1:] if exclusive else arg)
        if value is None:
            raise ReplyError(NOT_FLOAT_RANGE)
        bounds += (value, exclusive)
    return bounds[0], bounds[1], bounds[2], bounds[3]


def _lex_bound(arg: bytes) -> LexBound:
    first = arg[:1]
    if first == b"(":
        return LEX_EXCLUSIVE, arg[1:]
    if first == b"[":
        return LEX_INCLUSIVE, arg[1:]
    if first in (b"-", b"+") and (len(arg) == 1 or arg[1] == 0):  # a C string ends at NUL
        return (LEX_MIN if first == b"-" else LEX_MAX), b""
    raise ReplyError(NOT_LEX_RANGE)


def parse_lex_range(low: bytes, high: bytes) -> tuple[LexBound, LexBound]:
    return _lex_bound(low), _lex_bound(high)


# -- replies ----------------------------------------------------------------------------

def scored_reply(entries: Iterable[Entry], resp: int) -> list[Any]:
    """Members with scores: one flat array in RESP2, [member, score] pairs in RESP3."""
    if resp >= 3:
        return [[member, score] for member, score in entries]
    flat: list[Any] = []
    for member, score in entries:
        flat.append(member)
        flat.append(score)
    return flat


def score_text(score: float, listpack: bool) -> bytes:
    """A score as ZSCAN shows it: a listpack stores integral scores within ±2^62 as
    integers, everything else as ``%.17g`` (which a skiplist always uses)."""
    if listpack and score.is_integer() and -(2**62) <= score <= 2**62:
        return b"%d" % int(score)
    return b"%.17g" % score
