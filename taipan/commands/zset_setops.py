"""Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD.

Plain sets are accepted as inputs, every member scored 1. Scores are combined in
the order Redis combines them (inputs sorted by size, smallest first, for union and
intersection), so sums of more than two inputs round exactly as they do in Redis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_float, to_int
from taipan.commands.table import CommandGroup
from taipan.commands.zset_args import listpack_limits, scored_reply
from taipan.errors import ReplyError, SyntaxErr, WrongType, err
from taipan.keyspace import events as ev
from taipan.types import type_name
from taipan.types.zset import Entry, ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("sorted-set")

UNION, INTER, DIFF = 1, 2, 3
_WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
_LIMIT_NEGATIVE = "ERR LIMIT can't be negative"


class _Input:
    """One input key: a sorted set, a plain set (scores of 1), or nothing."""

    __slots__ = ("value", "weight")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.weight = 1.0

    def __len__(self) -> int:
        return 0 if self.value is None else len(self.value)

    def entries(self) -> Iterator[Entry]:
        value = self.value
        if value is None:
            return iter(())
        if type(value) is ZSet:
            return iter(value)
        return ((member, 1.0) for member in value)

    def score(self, member: bytes) -> float | None:
        value = self.value
        if value is None:
            return None
        if type(value) is ZSet:
            return value.score(member)
        return 1.0 if member in value else None


def _sum(total: float, value: float) -> float:
    total += value
    return 0.0 if math.isnan(total) else total  # inf + -inf counts as 0, as in Redis


def _min(current: float, value: float) -> float:
    return value if value < current else current


def _max(current: float, value: float) -> float:
    return value if value > current else current


_AGGREGATES: dict[bytes, Callable[[float, float], float]] = {
    b"SUM": _sum, b"MIN": _min, b"MAX": _max,
}


def _combine(inputs: list[_Input], op: int, aggregate: Callable[[float, float], float],
             limit: int = 0, count_only: bool = False) -> dict[bytes, float] | int:
    if op == DIFF:
        first, others = inputs[0], inputs[1:]
        return {member: score for member, score in first.entries()
                if all(other.score(member) is None for other in others)}
    inputs = sorted(inputs, key=len)  # stable, as the sort Redis uses here
    result: dict[bytes, float] = {}
    if op == UNION:
        for source in inputs:
            weight = source.weight
            for member, score in source.entries():
                score *= weight
                if math.isnan(score):
                    score = 0.0
                current = result.get(member)
                result[member] = score if current is None else aggregate(current, score)
        return result
    found = 0
    first, others = inputs[0], inputs[1:]
    for member, score in first.entries():
        total = score * first.weight
        if math.isnan(total):
            total = 0.0
        for other in others:
            value = other.score(member)
            if value is None:
                break
            total = aggregate(total, value * other.weight)
        else:
            if count_only:
                found += 1
                if limit and found >= limit:
                    break
            else:
                result[member] = total
    return found if count_only else result


def _setop(ctx: Client, argv: list[bytes], name: str, op: int, store: bool = False,
           count_only: bool = False) -> Any:
    numkeys_at = 2 if store else 1
    numkeys = to_int(argv[numkeys_at])
    if numkeys < 1:
        raise err(f"at least 1 input key is needed for '{name}' command")
    if numkeys > len(argv) - numkeys_at - 1:
        raise SyntaxErr()
    inputs = []
    for key in argv[numkeys_at + 1:numkeys_at + 1 + numkeys]:
        value = ctx.db.get_read(key)
        if value is not None and type_name(value) not in ("zset", "set"):
            raise WrongType()
        inputs.append(_Input(value))
    aggregate = _sum
    withscores = False
    limit = 0
    j = numkeys_at + 1 + numkeys
    while j < len(argv):
        remaining = len(argv) - j
        option = argv[j].upper()
        if op != DIFF and not count_only and remaining > numkeys and option == b"WEIGHTS":
            for n, source in enumerate(inputs):
                source.weight = to_float(argv[j + 1 + n], ReplyError(_WEIGHT_NOT_FLOAT))
            j += numkeys + 1
        elif op != DIFF and not count_only and remaining >= 2 and option == b"AGGREGATE":
            chosen = _AGGREGATES.get(argv[j + 1].upper())
            if chosen is None:
                raise SyntaxErr()
            aggregate = chosen
            j += 2
        elif not store and not count_only and option == b"WITHSCORES":
            withscores = True
            j += 1
        elif count_only and remaining >= 2 and option == b"LIMIT":
            limit = to_int(argv[j + 1], ReplyError(_LIMIT_NEGATIVE))
            if limit < 0:
                raise ReplyError(_LIMIT_NEGATIVE)
            j += 2
        else:
            raise SyntaxErr()
    combined = _combine(inputs, op, aggregate, limit, count_only)
    if isinstance(combined, int):
        return combined
    if store:
        return _store(ctx, argv[1], combined, name.encode())
    ordered = ZSet.from_entries(combined.items(), listpack=False)
    if withscores:
        return scored_reply(ordered, ctx.resp)
    return [member for member, _ in ordered]


def _store(ctx: Client, dst: bytes, combined: dict[bytes, float], event: bytes) -> int:
    """Store a Z*STORE result (firing ``event``), or delete ``dst`` when empty."""
    db = ctx.db
    if not combined:
        db.delete_with_event(dst)
        return 0
    max_entries, max_value = listpack_limits(ctx)
    listpack = len(combined) <= max_entries and all(
        len(member) <= max_value for member in combined)
    db.set(dst, ZSet.from_entries(combined.items(), listpack))
    db.notify(ev.ZSET, event, dst)
    return len(combined)


_INPUT_KEYS = {"flags": "RO access", "index": 1, "keynumidx": 0}
_STORE_KEYS = ("OW update", {"flags": "RO access", "index": 2, "keynumidx": 0})
_UNION_COMPLEXITY = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted "
                     "sets, and M being the number of elements in the resulting sorted set.")
_INTER_COMPLEXITY = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted "
                     "set, K being the number of input sorted sets and M being the number of "
                     "elements in the resulting sorted set.")
_DIFF_COMPLEXITY = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in "
                    "all the sets, N is the size of the first set, and K is the size of the "
                    "result set.")


@commands.command("ZUNION", arity=-3, flags="readonly", key_specs=(_INPUT_KEYS,),
                  summary="Add multiple sorted sets", since="6.2.0",
                  complexity=_UNION_COMPLEXITY)
def zunion(ctx: Client, argv: list[bytes]) -> Any:
    """ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]"""
    return _setop(ctx, argv, "zunion", UNION)


@commands.command("ZINTER", arity=-3, flags="readonly", key_specs=(_INPUT_KEYS,),
                  summary="Intersect multiple sorted sets", since="6.2.0",
                  complexity=_INTER_COMPLEXITY)
def zinter(ctx: Client, argv: list[bytes]) -> Any:
    """ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]"""
    return _setop(ctx, argv, "zinter", INTER)


@commands.command("ZDIFF", arity=-3, flags="readonly", key_specs=(_INPUT_KEYS,),
                  summary="Subtract multiple sorted sets", since="6.2.0",
                  complexity=_DIFF_COMPLEXITY)
def zdiff(ctx: Client, argv: list[bytes]) -> Any:
    """ZDIFF numkeys key [key ...] [WITHSCORES]"""
    return _setop(ctx, argv, "zdiff", DIFF)


@commands.command("ZUNIONSTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=_STORE_KEYS,
                  summary="Add multiple sorted sets and store the resulting sorted set in a "
                          "new key",
                  since="2.0.0",
                  complexity="O(N)+O(M log(M)) with N being the sum of the sizes of the input "
                             "sorted sets, and M being the number of elements in the resulting "
                             "sorted set.")
def zunionstore(ctx: Client, argv: list[bytes]) -> int:
    """ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]"""
    return _setop(ctx, argv, "zunionstore", UNION, store=True)


@commands.command("ZINTERSTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=_STORE_KEYS,
                  summary="Intersect multiple sorted sets and store the resulting sorted set "
                          "in a new key",
                  since="2.0.0", complexity=_INTER_COMPLEXITY)
def zinterstore(ctx: Client, argv: list[bytes]) -> int:
    """ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]"""
    return _setop(ctx, argv, "zinterstore", INTER, store=True)


@commands.command("ZDIFFSTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=_STORE_KEYS,
                  summary="Subtract multiple sorted sets and store the resulting sorted set "
                          "in a new key",
                  since="6.2.0", complexity=_DIFF_COMPLEXITY)
def zdiffstore(ctx: Client, argv: list[bytes]) -> int:
    """ZDIFFSTORE destination numkeys key [key ...]"""
    return _setop(ctx, argv, "zdiffstore", DIFF, store=True)


@commands.command("ZINTERCARD", arity=-3, flags="readonly", key_specs=(_INPUT_KEYS,),
                  summary="Intersect multiple sorted sets and return the cardinality of the "
                          "result",
                  since="7.0.0",
                  complexity="O(N*K) worst case with N being the smallest input sorted set, K "
                             "being the number of input sorted sets.")
def zintercard(ctx: Client, argv: list[bytes]) -> int:
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]"""
    return _setop(ctx, argv, "zintercard", INTER, count_only=True)
