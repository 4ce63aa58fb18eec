"""Set algebra: SINTER, SUNION, SDIFF, their STORE forms, and SINTERCARD.

Every input key is looked up (a keyspace read) and type-checked, in order, before
anything is computed, as in Redis 7.0. Results follow Redis's orders where they are
observable: SINTER walks the smallest input (an intset walks in ascending order);
SUNION and SDIFF fill a new set that starts as an intset, so a result made only of
integers (and small enough) comes back sorted and is stored as an intset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.sets import (
    EMPTY_SET,
    intset_entries,
    read_set,
    set_reply,
)
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr
from taipan.keyspace import events as ev
from taipan.protocol.reply import SetReply
from taipan.types.sets import RedisSet, intset_limit

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("set")

_NUMKEYS = ReplyError("ERR numkeys should be greater than 0")
_TOO_MANY_KEYS = ReplyError("ERR Number of keys can't be greater than number of args")
_LIMIT_NEGATIVE = ReplyError("ERR LIMIT can't be negative")


def _inputs(ctx: Client, keys: list[bytes]) -> list[RedisSet | None]:
    return [read_set(ctx, key) for key in keys]


# -- intersection ----------------------------------------------------------------------------

def intersect(sets: list[RedisSet]) -> list[bytes] | set[bytes]:
    """Members in every one of ``sets``, in the order of the smallest (ties: the first
    named, as Redis's stable sort by size)."""
    ordered = sorted(sets, key=len)
    first, others = ordered[0], ordered[1:]
    if not first.is_intset and not any(other.is_intset for other in others):
        return first.members.intersection(*(other.members for other in others))  # type: ignore[union-attr,arg-type]
    found = first.listed()
    for other in others:
        lookup = other if other.is_intset else other.members
        found = [member for member in found if member in lookup]  # type: ignore[operator]
        if not found:
            break
    return found


def count_common(sets: list[RedisSet], limit: int) -> int:
    """How many members are in every one of ``sets``, counting no further than
    ``limit`` (0: no limit)."""
    if not limit:
        return len(intersect(sets))
    ordered = sorted(sets, key=len)
    first, lookups = ordered[0], [s if s.is_intset else s.members for s in ordered[1:]]
    found = 0
    for member in first:
        if all(member in lookup for lookup in lookups):  # type: ignore[operator]
            found += 1
            if found >= limit:
                break
    return found


def _sinter(ctx: Client, keys: list[bytes]) -> list[bytes] | set[bytes] | None:
    """The intersection, or None when a key is missing (an empty result)."""
    sets = _inputs(ctx, keys)
    if any(s is None for s in sets):
        return None
    return intersect(sets)  # type: ignore[arg-type]


# -- union and difference ---------------------------------------------------------------------

def union(sets: list[RedisSet | None], max_intset_entries: int) -> RedisSet:
    found: set[bytes] = set()
    for members in sets:
        if members is not None:
            found.update(members if members.is_intset else members.members)  # type: ignore[arg-type]
    return RedisSet.build(found, max_intset_entries)


def difference(sets: list[RedisSet | None], max_intset_entries: int) -> RedisSet:
    first = sets[0]
    if first is None:
        return RedisSet()
    others = [s for s in sets[1:] if s is not None]
    found = set(first if first.is_intset else first.members)  # type: ignore[arg-type]
    for other in others:
        if not found:
            break
        lookup = other if other.is_intset else other.members
        if len(found) < len(other):  # walk the smaller side
            found = {member for member in found if member not in lookup}  # type: ignore[operator]
        else:
            found.difference_update(lookup)  # type: ignore[arg-type]
    result = RedisSet.build(found, max_intset_entries)
    # Redis picks one of two algorithms by the sizes involved. The second copies the
    # whole first set into the result before removing the others' members, so the
    # result is a hashtable unless the first set could be an intset.
    sizes = [len(first)] + [len(other) for other in others]
    copies_first = len(first) * len(sizes) // 2 > sum(sizes)
    if copies_first and result.is_intset and not (
            len(first) <= intset_limit(max_intset_entries) and first.all_integers()):
        result.to_hashtable()
    return result


def _combine(ctx: Client, keys: list[bytes], diff: bool) -> RedisSet:
    sets = _inputs(ctx, keys)
    limit = intset_entries(ctx)
    return difference(sets, limit) if diff else union(sets, limit)


# -- replies and stores ----------------------------------------------------------------------

def _store(ctx: Client, destination: bytes, result: RedisSet, event: bytes) -> int:
    """Store a *STORE result (firing ``event``), or delete ``destination`` when empty."""
    db = ctx.db
    if not len(result):
        db.delete_with_event(destination)
        return 0
    db.set(destination, result)
    db.notify(ev.SET, event, destination)
    return len(result)


def _intersection_reply(found: list[bytes] | set[bytes] | None) -> Any:
    if not found:
        return EMPTY_SET
    if isinstance(found, list):
        return SetReply(found)
    return found


_SETOP_COMPLEXITY = "O(N) where N is the total number of elements in all given sets."
_INTER_COMPLEXITY = ("O(N*M) worst case where N is the cardinality of the smallest set and M "
                     "is the number of sets.")
_STORE_KEYS = ("OW update", "RO access")


@commands.command("SINTER", arity=-2, flags="readonly", keys=(1, -1, 1),
                  tips="nondeterministic_output_order", summary="Intersect multiple sets",
                  since="1.0.0", complexity=_INTER_COMPLEXITY)
def sinter(ctx: Client, argv: list[bytes]) -> Any:
    """SINTER key [key ...]"""
    return _intersection_reply(_sinter(ctx, argv[1:]))


@commands.command("SUNION", arity=-2, flags="readonly", keys=(1, -1, 1),
                  tips="nondeterministic_output_order", summary="Add multiple sets",
                  since="1.0.0", complexity=_SETOP_COMPLEXITY)
def sunion(ctx: Client, argv: list[bytes]) -> Any:
    """SUNION key [key ...]"""
    result = _combine(ctx, argv[1:], diff=False)
    return set_reply(result) if len(result) else EMPTY_SET


@commands.command("SDIFF", arity=-2, flags="readonly", keys=(1, -1, 1),
                  tips="nondeterministic_output_order", summary="Subtract multiple sets",
                  since="1.0.0", complexity=_SETOP_COMPLEXITY)
def sdiff(ctx: Client, argv: list[bytes]) -> Any:
    """SDIFF key [key ...]"""
    result = _combine(ctx, argv[1:], diff=True)
    return set_reply(result) if len(result) else EMPTY_SET


@commands.command("SINTERSTORE", arity=-3, flags="write denyoom", keys=(1, -1, 1),
                  key_specs=("RW update", "RO access"),
                  summary="Intersect multiple sets and store the resulting set in a key",
                  since="1.0.0", complexity=_INTER_COMPLEXITY)
def sinterstore(ctx: Client, argv: list[bytes]) -> int:
    """SINTERSTORE destination key [key ...]"""
    found = _sinter(ctx, argv[2:])
    return _store(ctx, argv[1], RedisSet.build(found or (), intset_entries(ctx)), b"sinterstore")


@commands.command("SUNIONSTORE", arity=-3, flags="write denyoom", keys=(1, -1, 1),
                  key_specs=_STORE_KEYS,
                  summary="Add multiple sets and store the resulting set in a key",
                  since="1.0.0", complexity=_SETOP_COMPLEXITY)
def sunionstore(ctx: Client, argv: list[bytes]) -> int:
    """SUNIONSTORE destination key [key ...]"""
    return _store(ctx, argv[1], _combine(ctx, argv[2:], diff=False), b"sunionstore")


@commands.command("SDIFFSTORE", arity=-3, flags="write denyoom", keys=(1, -1, 1),
                  key_specs=_STORE_KEYS,
                  summary="Subtract multiple sets and store the resulting set in a key",
                  since="1.0.0", complexity=_SETOP_COMPLEXITY)
def sdiffstore(ctx: Client, argv: list[bytes]) -> int:
    """SDIFFSTORE destination key [key ...]"""
    return _store(ctx, argv[1], _combine(ctx, argv[2:], diff=True), b"sdiffstore")


@commands.command("SINTERCARD", arity=-3, flags="readonly",
                  key_specs=({"flags": "RO access", "index": 1, "keynumidx": 0},),
                  summary="Intersect multiple sets and return the cardinality of the result",
                  since="7.0.0", complexity=_INTER_COMPLEXITY)
def sintercard(ctx: Client, argv: list[bytes]) -> int:
    """SINTERCARD numkeys key [key ...] [LIMIT limit]"""
    numkeys = to_int(argv[1], _NUMKEYS)
    if numkeys < 1:
        raise _NUMKEYS
    if numkeys > len(argv) - 2:
        raise _TOO_MANY_KEYS
    limit = 0
    j = 2 + numkeys
    while j < len(argv):
        if argv[j].upper() != b"LIMIT" or j + 1 >= len(argv):
            raise SyntaxErr()
        limit = to_int(argv[j + 1], _LIMIT_NEGATIVE)
        if limit < 0:
            raise _LIMIT_NEGATIVE
        j += 2
    sets = _inputs(ctx, argv[2:2 + numkeys])
    if any(s is None for s in sets):
        return 0
    return count_common(sets, limit)  # type: ignore[arg-type]
