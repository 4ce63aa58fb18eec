"""Sorted-set ranges: ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and
ZREMRANGEBY{RANK,SCORE,LEX}."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import to_int
from taipan.commands.table import CommandGroup
from taipan.commands.zset_args import (
    listpack_limits,
    modified,
    parse_lex_range,
    parse_score_range,
    read_zset,
    scored_reply,
    write_zset,
)
from taipan.errors import SyntaxErr, err
from taipan.keyspace import events as ev
from taipan.types.zset import ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("sorted-set")

BY_RANK: Final = 1
BY_SCORE: Final = 2
BY_LEX: Final = 3


def rank_span(zset: ZSet, start: int, end: int, reverse: bool) -> tuple[int, int]:
    """Positions [lo, hi) (counted from the lowest score) of ranks start..end, which
    count from the highest score when ``reverse``."""
    size = len(zset)
    if start < 0:
        start += size
    if end < 0:
        end += size
    start = max(start, 0)
    if start > end or start >= size:
        return 0, 0
    end = min(end, size - 1)
    if reverse:
        return size - 1 - end, size - start
    return start, end + 1


def _limited(lo: int, hi: int, reverse: bool, offset: int, limit: int) -> tuple[int, int]:
    """Apply LIMIT to the positions [lo, hi) walked forward or backward."""
    if offset < 0 or lo >= hi:  # Redis walks a negative offset off the end
        return 0, 0
    if reverse:
        hi -= offset
        if limit >= 0:
            lo = max(lo, hi - limit)
    else:
        lo += offset
        if limit >= 0:
            hi = min(hi, lo + limit)
    return (lo, hi) if lo < hi else (0, 0)


def find_span(zset: ZSet, kind: int, bounds: Any, reverse: bool, offset: int,
              limit: int) -> tuple[int, int]:
    """Positions [lo, hi) of what a ZRANGE of this kind selects."""
    if kind == BY_RANK:
        return rank_span(zset, bounds[0], bounds[1], reverse)
    if kind == BY_SCORE:
        lo, hi = zset.score_span(*bounds)
        return _limited(lo, hi, reverse, offset, limit)
    low, high = bounds
    start = zset.lex_last(low, high) if reverse else zset.lex_first(low, high)
    if start is None:
        return 0, 0
    return zset.lex_walk(start, reverse, offset, limit, low, high)


def _zrange(ctx: Client, argv: list[bytes], src: int, store: bool, kind: int | None = None,
            reverse: bool | None = None) -> Any:
    """Every ZRANGE form; ``kind``/``reverse`` are None where options may set them."""
    withscores = False
    offset, limit = 0, -1
    j = src + 3
    while j < len(argv):
        option = argv[j].upper()
        if not store and option == b"WITHSCORES":
            withscores = True
        elif option == b"LIMIT" and len(argv) - j - 1 >= 2:
            offset, limit = to_int(argv[j + 1]), to_int(argv[j + 2])
            j += 2
        elif reverse is None and option == b"REV":
            reverse = True
        elif kind is None and option == b"BYLEX":
            kind = BY_LEX
        elif kind is None and option == b"BYSCORE":
            kind = BY_SCORE
        else:
            raise SyntaxErr()
        j += 1
    reverse = bool(reverse)
    kind = kind or BY_RANK
    if limit != -1 and kind == BY_RANK:
        raise err("syntax error, LIMIT is only supported in combination with either "
                  "BYSCORE or BYLEX")
    if withscores and kind == BY_LEX:
        raise err("syntax error, WITHSCORES not supported in combination with BYLEX")
    low, high = argv[src + 1], argv[src + 2]
    if reverse and kind != BY_RANK:
        low, high = high, low  # given as max, min
    bounds: Any
    if kind == BY_RANK:
        bounds = (to_int(low), to_int(high))
    elif kind == BY_SCORE:
        bounds = parse_score_range(low, high)
    else:
        bounds = parse_lex_range(low, high)
    zset = read_zset(ctx, argv[src])
    lo, hi = (0, 0) if zset is None else find_span(zset, kind, bounds, reverse, offset, limit)
    if store:
        return _store_range(ctx, argv[1], zset, lo, hi, reverse, kind == BY_RANK)
    if zset is None or lo >= hi:
        return []
    if withscores:
        return scored_reply(zset.entries(lo, hi, reverse), ctx.resp)
    return zset.members_at(lo, hi, reverse)


def _store_range(ctx: Client, dst: bytes, zset: ZSet | None, lo: int, hi: int,
                 reverse: bool, size_known: bool) -> int:
    db = ctx.db
    if zset is None or lo >= hi:
        db.delete_with_event(dst)
        return 0
    # Redis starts the destination as a skiplist only when it knows beforehand (a
    # rank range) that it will be too long; otherwise as a listpack, then adds the
    # members in the order it walks them, so the listpack rules (-0 stored as 0, the
    # switch to a skiplist) apply as they go.
    max_entries, max_value = listpack_limits(ctx)
    result = ZSet(listpack=not (size_known and hi - lo > max_entries))
    for member, score in zset.entries(lo, hi, reverse):
        result.add(member, score, max_entries, max_value)
    db.set(dst, result)
    db.notify(ev.ZSET, b"zrangestore", dst)
    return len(result)


_RANGE_COMPLEXITY: Final = ("O(log(N)+M) with N being the number of elements in the sorted set and M "
                     "the number of elements being returned. If M is constant (e.g. always "
                     "asking for the first 10 elements with LIMIT), you can consider it "
                     "O(log(N)).")


@commands.command("ZRANGE", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of members in a sorted set", since="1.2.0",
                  complexity="O(log(N)+M) with N being the number of elements in the sorted "
                             "set and M the number of elements returned.",
                  history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` "
                                     "options."),))
def zrange(ctx: Client, argv: list[bytes]) -> Any:
    """ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"""
    return _zrange(ctx, argv, 1, store=False)


@commands.command("ZRANGESTORE", arity=-5, flags="write denyoom", keys=(1, 2, 1),
                  key_specs=("OW update", "RO access"),
                  summary="Store a range of members from sorted set into another key",
                  since="6.2.0",
                  complexity="O(log(N)+M) with N being the number of elements in the sorted "
                             "set and M the number of elements stored into the destination key.")
def zrangestore(ctx: Client, argv: list[bytes]) -> Any:
    """ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]"""
    return _zrange(ctx, argv, 2, store=True)


@commands.command("ZREVRANGE", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of members in a sorted set, by index, with scores "
                          "ordered from high to low",
                  since="1.2.0",
                  complexity="O(log(N)+M) with N being the number of elements in the sorted "
                             "set and M the number of elements returned.",
                  doc_flags="deprecated", deprecated_since="6.2.0",
                  replaced_by="`ZRANGE` with the `REV` argument")
def zrevrange(ctx: Client, argv: list[bytes]) -> Any:
    """ZREVRANGE key start stop [WITHSCORES]"""
    return _zrange(ctx, argv, 1, store=False, kind=BY_RANK, reverse=True)


@commands.command("ZRANGEBYSCORE", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of members in a sorted set, by score", since="1.0.5",
                  complexity=_RANGE_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0", replaced_by="`ZRANGE` with the `BYSCORE` argument",
                  history=(("2.0.0", "Added the `WITHSCORES` modifier."),))
def zrangebyscore(ctx: Client, argv: list[bytes]) -> Any:
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, store=False, kind=BY_SCORE, reverse=False)


@commands.command("ZREVRANGEBYSCORE", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of members in a sorted set, by score, with scores "
                          "ordered from high to low",
                  since="2.2.0", complexity=_RANGE_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0",
                  replaced_by="`ZRANGE` with the `REV` and `BYSCORE` arguments",
                  history=(("2.1.6", "`min` and `max` can be exclusive."),))
def zrevrangebyscore(ctx: Client, argv: list[bytes]) -> Any:
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, store=False, kind=BY_SCORE, reverse=True)


@commands.command("ZRANGEBYLEX", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of members in a sorted set, by lexicographical range",
                  since="2.8.9", complexity=_RANGE_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0", replaced_by="`ZRANGE` with the `BYLEX` argument")
def zrangebylex(ctx: Client, argv: list[bytes]) -> Any:
    """ZRANGEBYLEX key min max [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, store=False, kind=BY_LEX, reverse=False)


@commands.command("ZREVRANGEBYLEX", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of members in a sorted set, by lexicographical "
                          "range, ordered from higher to lower strings.",
                  since="2.8.9", complexity=_RANGE_COMPLEXITY, doc_flags="deprecated",
                  deprecated_since="6.2.0",
                  replaced_by="`ZRANGE` with the `REV` and `BYLEX` arguments")
def zrevrangebylex(ctx: Client, argv: list[bytes]) -> Any:
    """ZREVRANGEBYLEX key max min [LIMIT offset count]"""
    return _zrange(ctx, argv, 1, store=False, kind=BY_LEX, reverse=True)


# -- counting -----------------------------------------------------------------------------

@commands.command("ZCOUNT", arity=4, flags="readonly fast", keys=(1, 1, 1),
                  summary="Count the members in a sorted set with scores within the given "
                          "values",
                  since="2.0.0",
                  complexity="O(log(N)) with N being the number of elements in the sorted set.")
def zcount(ctx: Client, argv: list[bytes]) -> int:
    """ZCOUNT key min max"""
    bounds = parse_score_range(argv[2], argv[3])
    zset = read_zset(ctx, argv[1])
    if zset is None:
        return 0
    lo, hi = zset.score_span(*bounds)
    return hi - lo


@commands.command("ZLEXCOUNT", arity=4, flags="readonly fast", keys=(1, 1, 1),
                  summary="Count the number of members in a sorted set between a given "
                          "lexicographical range",
                  since="2.8.9",
                  complexity="O(log(N)) with N being the number of elements in the sorted set.")
def zlexcount(ctx: Client, argv: list[bytes]) -> int:
    """ZLEXCOUNT key min max"""
    low, high = parse_lex_range(argv[2], argv[3])
    zset = read_zset(ctx, argv[1])
    if zset is None:
        return 0
    first = zset.lex_first(low, high)
    if first is None:
        return 0
    if zset.listpack:  # Redis counts a listpack by walking it
        lo, hi = zset.lex_walk(first, False, 0, -1, low, high)
        return hi - lo
    last = zset.lex_last(low, high)
    return len(zset) - first if last is None else last - first + 1


# -- removing ranges ----------------------------------------------------------------------

_REMOVE_EVENTS: Final = {BY_RANK: b"zremrangebyrank", BY_SCORE: b"zremrangebyscore",
                  BY_LEX: b"zremrangebylex"}


def _zremrange(ctx: Client, argv: list[bytes], kind: int) -> int:
    key = argv[1]
    bounds: Any
    if kind == BY_RANK:
        bounds = (to_int(argv[2]), to_int(argv[3]))
    elif kind == BY_SCORE:
        bounds = parse_score_range(argv[2], argv[3])
    else:
        bounds = parse_lex_range(argv[2], argv[3])
    zset = write_zset(ctx, key)
    if zset is None:
        return 0
    lo, hi = find_span(zset, kind, bounds, False, 0, -1)
    removed = zset.delete_range(lo, hi)
    modified(ctx, key, zset, removed, _REMOVE_EVENTS[kind])
    return removed


_REMOVE_COMPLEXITY: Final = ("O(log(N)+M) with N being the number of elements in the sorted set and "
                      "M the number of elements removed by the operation.")


@commands.command("ZREMRANGEBYRANK", arity=4, flags="write", keys=(1, 1, 1),
                  key_specs=("RW delete",),
                  summary="Remove all members in a sorted set within the given indexes",
                  since="2.0.0", complexity=_REMOVE_COMPLEXITY)
def zremrangebyrank(ctx: Client, argv: list[bytes]) -> int:
    """ZREMRANGEBYRANK key start stop"""
    return _zremrange(ctx, argv, BY_RANK)


@commands.command("ZREMRANGEBYSCORE", arity=4, flags="write", keys=(1, 1, 1),
                  key_specs=("RW delete",),
                  summary="Remove all members in a sorted set within the given scores",
                  since="1.2.0", complexity=_REMOVE_COMPLEXITY)
def zremrangebyscore(ctx: Client, argv: list[bytes]) -> int:
    """ZREMRANGEBYSCORE key min max"""
    return _zremrange(ctx, argv, BY_SCORE)


@commands.command("ZREMRANGEBYLEX", arity=4, flags="write", keys=(1, 1, 1),
                  key_specs=("RW delete",),
                  summary="Remove all members in a sorted set between the given "
                          "lexicographical range",
                  since="2.8.9", complexity=_REMOVE_COMPLEXITY)
def zremrangebylex(ctx: Client, argv: list[bytes]) -> int:
    """ZREMRANGEBYLEX key min max"""
    return _zremrange(ctx, argv, BY_LEX)
