"""Sorted-set pops and sampling: ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER.

``pop_entries`` and ``parse_mpop`` are shared with the blocking forms (BZPOPMIN,
BZPOPMAX, BZMPOP), which park the client when every key is empty.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import LLONG_MAX, to_int
from taipan.commands.table import CommandGroup
from taipan.commands.zset_args import modified, read_zset, scored_reply, write_zset
from taipan.errors import ReplyError, SyntaxErr
from taipan.protocol.reply import NULL_ARRAY
from taipan.types.zset import Entry, ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("sorted-set")

_NOT_POSITIVE: Final = "ERR value is out of range, must be positive"
_LONG_MAX: Final = LLONG_MAX


def pop_entries(ctx: Client, key: bytes, zset: ZSet, count: int, highest: bool) -> list[Entry]:
    """Pop up to ``count`` members from the low or high end; deletes an emptied key."""
    popped = zset.pop(count, highest)
    modified(ctx, key, zset, len(popped), b"zpopmax" if highest else b"zpopmin")
    return popped


def _zpop(ctx: Client, argv: list[bytes], highest: bool) -> list[Any]:
    if len(argv) > 3:
        raise SyntaxErr()
    count = None
    if len(argv) == 3:
        count = to_int(argv[2], ReplyError(_NOT_POSITIVE))
        if count < 0:
            raise ReplyError(_NOT_POSITIVE)
    key = argv[1]
    zset = write_zset(ctx, key)
    if zset is None or count == 0:
        return []
    popped = pop_entries(ctx, key, zset, 1 if count is None else count, highest)
    if count is None:  # the single-pop form is flat in RESP3 too
        return scored_reply(popped, 2)
    return scored_reply(popped, ctx.resp)


_POP_COMPLEXITY: Final = ("O(log(N)*M) with N being the number of elements in the sorted set, and M "
                   "being the number of elements popped.")


@commands.command("ZPOPMIN", arity=-2, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and return members with the lowest scores in a sorted set",
                  since="5.0.0", complexity=_POP_COMPLEXITY)
def zpopmin(ctx: Client, argv: list[bytes]) -> list[Any]:
    """ZPOPMIN key [count]"""
    return _zpop(ctx, argv, highest=False)


@commands.command("ZPOPMAX", arity=-2, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and return members with the highest scores in a sorted set",
                  since="5.0.0", complexity=_POP_COMPLEXITY)
def zpopmax(ctx: Client, argv: list[bytes]) -> list[Any]:
    """ZPOPMAX key [count]"""
    return _zpop(ctx, argv, highest=True)


def _ranged(arg: bytes, message: str) -> int:
    """A count from 1 to LONG_MAX, or ``message`` (Redis's getRangeLongFromObject)."""
    error = ReplyError("ERR " + message)
    value = to_int(arg, error)
    if value < 1:
        raise error
    return value


def parse_mpop(argv: list[bytes], numkeys_at: int) -> tuple[list[bytes], bool, int]:
    """(keys, from the highest end, count) of ``[B]ZMPOP ... numkeys key [key ...]
    MIN | MAX [COUNT count]``."""
    numkeys = _ranged(argv[numkeys_at], "numkeys should be greater than 0")
    where = numkeys_at + numkeys + 1
    if where >= len(argv):
        raise SyntaxErr()
    side = argv[where].upper()
    if side not in (b"MIN", b"MAX"):
        raise SyntaxErr()
    count = -1
    j = where + 1
    while j < len(argv):
        if count == -1 and argv[j].upper() == b"COUNT" and j + 1 < len(argv):
            count = _ranged(argv[j + 1], "count should be greater than 0")
            j += 2
        else:
            raise SyntaxErr()
    return argv[numkeys_at + 1:where], side == b"MAX", 1 if count == -1 else count


def mpop_reply(ctx: Client, key: bytes, zset: ZSet, highest: bool, count: int) -> list[Any]:
    """Pop from ``zset`` and reply [key, [[member, score] ...]]; propagated as a ZPOP."""
    popped = pop_entries(ctx, key, zset, count, highest)
    ctx.propagate_argv = [b"ZPOPMAX" if highest else b"ZPOPMIN", key, b"%d" % len(popped)]
    return [key, [[member, score] for member, score in popped]]


@commands.command("ZMPOP", arity=-4, flags="write",
                  key_specs=({"flags": "RW access delete", "index": 1, "keynumidx": 0},),
                  summary="Remove and return members with scores in a sorted set",
                  since="7.0.0",
                  complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N "
                             "being the number of elements in the sorted set, and M being the "
                             "number of elements popped.")
def zmpop(ctx: Client, argv: list[bytes]) -> Any:
    """ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]"""
    keys, highest, count = parse_mpop(argv, 1)
    for key in keys:
        zset = write_zset(ctx, key)
        if zset is not None:
            return mpop_reply(ctx, key, zset, highest, count)
    return NULL_ARRAY


@commands.command("ZRANDMEMBER", arity=-2, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output",
                  summary="Get one or multiple random elements from a sorted set",
                  since="6.2.0", complexity="O(N) where N is the number of elements returned")
def zrandmember(ctx: Client, argv: list[bytes]) -> Any:
    """ZRANDMEMBER key [count [WITHSCORES]]"""
    if len(argv) == 2:
        zset = read_zset(ctx, argv[1])
        if zset is None:
            return None
        return zset.entry(random.randrange(len(zset)))[0]
    count = to_int(argv[2])
    if count < -_LONG_MAX:
        raise ReplyError("ERR value is out of range, value must between "
                         "-9223372036854775807 and 9223372036854775807")
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHSCORES"):
        raise SyntaxErr()
    withscores = len(argv) == 4
    if withscores and not -(_LONG_MAX // 2) <= count <= _LONG_MAX // 2:
        raise ReplyError("ERR value is out of range")  # the reply length would overflow
    zset = read_zset(ctx, argv[1])
    if zset is None or count == 0:
        return []
    size = len(zset)
    entries: list[Entry]
    if count < 0 or count == 1:  # with repetitions, in random order
        entries = [zset.entry(random.randrange(size)) for _ in range(abs(count))]
    elif count >= size:  # everything, as Redis iterates it: from the highest score
        entries = zset.entries(0, size, reverse=True)
    else:
        entries = [zset.entry(i) for i in sorted(random.sample(range(size), count))]
    if withscores:
        return scored_reply(entries, ctx.resp)
    return [member for member, _ in entries]

