"""Sorted-set commands on single members: ZADD, ZINCRBY, ZSCORE, ZRANK, ZREM, ZSCAN ..."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import to_float
from taipan.commands.scanning import parse_cursor, parse_scan_options
from taipan.commands.table import CommandGroup
from taipan.commands.zset_args import (
    NAN_SCORE,
    listpack_limits,
    modified,
    read_zset,
    read_zset_at_rest,
    score_text,
    write_zset,
)
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.glob import glob_match
from taipan.keyspace import events as ev
from taipan.types.packed import packed_count, zset_member
from taipan.types.packed_types import PackedZSet
from taipan.types.zset import ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("sorted-set")

_ZADD_OPTIONS: Final = frozenset((b"NX", b"XX", b"CH", b"INCR", b"GT", b"LT"))
_NO_OPTIONS: Final[frozenset[bytes]] = frozenset()


def _zadd(ctx: Client, argv: list[bytes], incr: bool) -> Any:
    """ZADD and ZINCRBY (ZADD ... INCR with the options in front, as Redis parses it)."""
    options: set[bytes] | frozenset[bytes] = _NO_OPTIONS
    first = 2
    head = argv[2][0] if argv[2] else 0
    if not (48 <= head <= 57 or head == 45):  # (a digit or '-': a score, no options)
        found: set[bytes] = set()
        while first < len(argv):
            option = argv[first].upper()
            if option not in _ZADD_OPTIONS:
                break
            found.add(option)
            first += 1
        options = found
    if options:
        incr = incr or b"INCR" in options
        nx, xx = b"NX" in options, b"XX" in options
        gt, lt = b"GT" in options, b"LT" in options
    else:  # the common case: plain ZADD key score member ...
        nx = xx = gt = lt = False
    pairs = len(argv) - first
    if pairs % 2 or not pairs:
        raise SyntaxErr()
    if nx and xx:
        raise err("XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise err("GT, LT, and/or NX options at the same time are not compatible")
    if incr and pairs > 2:
        raise err("INCR option supports a single increment-element pair")
    scores = [to_float(argv[i]) for i in range(first, len(argv), 2)]
    db = ctx.db
    key = argv[1]
    zset = write_zset(ctx, key)
    created = zset is None
    if zset is None:
        if xx:
            return None if incr else 0
        zset = ZSet()
    max_entries, max_value = listpack_limits(ctx)
    added = updated = processed = 0
    score = 0.0
    for n, score in enumerate(scores):
        member = argv[first + 2 * n + 1]
        current = zset.score(member)
        if current is None:
            if xx:
                continue
            zset.add(member, score, max_entries, max_value)
            added += 1
        else:
            if nx:
                continue
            if incr:
                score += current
                if math.isnan(score):
                    raise ReplyError(NAN_SCORE)
            if (lt and score >= current) or (gt and score <= current):
                continue
            if score != current:
                zset.update(member, score)
                updated += 1
        processed += 1
    event = b"zincr" if incr else b"zadd"
    if created:
        db.set(key, zset)
        db.stats.dirty += added + updated - 1  # Redis counts each change
        db.notify(ev.ZSET, event, key)
    else:
        modified(ctx, key, zset, added + updated, event)
    if incr:
        return score if processed else None
    return added + updated if b"CH" in options else added


@commands.command("ZADD", arity=-4, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW update",),
                  summary="Add one or more members to a sorted set, or update its score if it "
                          "already exists",
                  since="1.2.0",
                  complexity="O(log(N)) for each item added, where N is the number of elements "
                             "in the sorted set.",
                  history=(("2.4.0", "Accepts multiple elements."),
                           ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
                           ("6.2.0", "Added the `GT` and `LT` options.")))
def zadd(ctx: Client, argv: list[bytes]) -> Any:
    """ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]"""
    return _zadd(ctx, argv, incr=False)


@commands.command("ZINCRBY", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Increment the score of a member in a sorted set", since="1.2.0",
                  complexity="O(log(N)) where N is the number of elements in the sorted set.")
def zincrby(ctx: Client, argv: list[bytes]) -> Any:
    """ZINCRBY key increment member"""
    return _zadd(ctx, argv, incr=True)


@commands.command("ZCARD", arity=2, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Get the number of members in a sorted set", since="1.2.0",
                  complexity="O(1)")
def zcard(ctx: Client, argv: list[bytes]) -> int:
    """ZCARD key"""
    zset = read_zset_at_rest(ctx, argv[1])
    if zset is None:
        return 0
    if isinstance(zset, PackedZSet):
        return packed_count(zset)
    return len(zset)


@commands.command("ZSCORE", arity=3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Get the score associated with the given member in a sorted set",
                  since="1.2.0", complexity="O(1)")
def zscore(ctx: Client, argv: list[bytes]) -> float | None:
    """ZSCORE key member"""
    zset = read_zset_at_rest(ctx, argv[1])
    if zset is None:
        return None
    if isinstance(zset, PackedZSet):
        found = zset_member(zset, argv[2])
        return None if found is None else found[1]
    return zset.score(argv[2])


@commands.command("ZMSCORE", arity=-3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Get the score associated with the given members in a sorted set",
                  since="6.2.0",
                  complexity="O(N) where N is the number of members being requested.")
def zmscore(ctx: Client, argv: list[bytes]) -> list[float | None]:
    """ZMSCORE key member [member ...]"""
    zset = read_zset_at_rest(ctx, argv[1])
    if zset is None:
        return [None] * (len(argv) - 2)
    if isinstance(zset, PackedZSet):
        scores: list[float | None] = []
        for member in argv[2:]:
            found = zset_member(zset, member)
            scores.append(None if found is None else found[1])
        return scores
    return [zset.score(member) for member in argv[2:]]


def _rank(ctx: Client, argv: list[bytes], reverse: bool) -> int | None:
    zset = read_zset_at_rest(ctx, argv[1])
    if zset is None:
        return None
    if isinstance(zset, PackedZSet):
        found = zset_member(zset, argv[2])
        rank, size = (None if found is None else found[0]), packed_count(zset)
    else:
        rank, size = zset.rank(argv[2]), len(zset)
    if rank is None or not reverse:
        return rank
    return size - 1 - rank


@commands.command("ZRANK", arity=3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Determine the index of a member in a sorted set", since="2.0.0",
                  complexity="O(log(N))")
def zrank(ctx: Client, argv: list[bytes]) -> int | None:
    """ZRANK key member"""
    return _rank(ctx, argv, reverse=False)


@commands.command("ZREVRANK", arity=3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Determine the index of a member in a sorted set, with scores "
                          "ordered from high to low",
                  since="2.0.0", complexity="O(log(N))")
def zrevrank(ctx: Client, argv: list[bytes]) -> int | None:
    """ZREVRANK key member"""
    return _rank(ctx, argv, reverse=True)


@commands.command("ZREM", arity=-3, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW delete",),
                  summary="Remove one or more members from a sorted set", since="1.2.0",
                  complexity="O(M*log(N)) with N being the number of elements in the sorted "
                             "set and M the number of elements to be removed.",
                  history=(("2.4.0", "Accepts multiple elements."),))
def zrem(ctx: Client, argv: list[bytes]) -> int:
    """ZREM key member [member ...]"""
    key = argv[1]
    zset = write_zset(ctx, key)
    if zset is None:
        return 0
    removed = 0
    for member in argv[2:]:
        if zset.remove(member):
            removed += 1
            if not zset:
                break
    modified(ctx, key, zset, removed, b"zrem")
    return removed


@commands.command("ZSCAN", arity=-3, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output",
                  summary="Incrementally iterate sorted sets elements and associated scores",
                  since="2.8.0",
                  complexity="O(1) for every call. O(N) for a complete iteration, including "
                             "enough command calls for the cursor to return back to 0. N is the "
                             "number of elements inside the collection..")
def zscan(ctx: Client, argv: list[bytes]) -> list[Any]:
    """ZSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_cursor(argv[2])
    zset = read_zset(ctx, argv[1])
    if zset is None:
        return [b"0", []]
    pattern, count, _ = parse_scan_options(argv, 3, allow_type=False)
    if zset.listpack:  # Redis returns a whole listpack at once, whatever the cursor
        next_cursor = 0
        found = [(member, score) for member, score in zset]
    else:
        next_cursor, candidates = ctx.server.scan_snapshots.page(
            zset.members(), len(zset), cursor, count)
        found = []
        for member in candidates:
            score = zset.score(member)
            if score is not None:  # removed since the scan began
                found.append((member, score))
    reply: list[bytes] = []
    for member, score in found:
        if pattern is None or glob_match(pattern, member):
            reply.append(member)
            reply.append(score_text(score, zset.listpack))
    return [b"%d" % next_cursor, reply]
