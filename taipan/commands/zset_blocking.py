"""Blocking sorted-set pops: BZPOPMIN, BZPOPMAX, BZMPOP (see taipan/keyspace/blocking.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.blocking_args import block_or, parse_timeout
from taipan.commands.table import CommandGroup
from taipan.commands.zset_args import write_zset
from taipan.commands.zset_pops import mpop_reply, parse_mpop, pop_entries
from taipan.keyspace.database import now_ms
from taipan.protocol.reply import NULL_ARRAY
from taipan.types.zset import ZSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("sorted-set")

_TIMEOUT_HISTORY = (("6.0.0", "`timeout` is interpreted as a double instead of an integer."),)
_POP_ONE = "O(log(N)) with N being the number of elements in the sorted set."


def _bzpop(ctx: Client, argv: list[bytes], highest: bool) -> Any:
    deadline = parse_timeout(argv[-1], now_ms())
    keys = argv[1:-1]
    for key in keys:
        zset = write_zset(ctx, key)
        if zset is not None:
            member, score = pop_entries(ctx, key, zset, 1, highest)[0]
            ctx.propagate_argv = [b"ZPOPMAX" if highest else b"ZPOPMIN", key]
            return [key, member, score]
    return block_or(ctx, keys, deadline, ZSet, NULL_ARRAY)


@commands.command("BZPOPMIN", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and return the member with the lowest score from one or more "
                          "sorted sets, or block until one is available",
                  since="5.0.0", complexity=_POP_ONE, history=_TIMEOUT_HISTORY)
def bzpopmin(ctx: Client, argv: list[bytes]) -> Any:
    """BZPOPMIN key [key ...] timeout"""
    return _bzpop(ctx, argv, highest=False)


@commands.command("BZPOPMAX", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and return the member with the highest score from one or "
                          "more sorted sets, or block until one is available",
                  since="5.0.0", complexity=_POP_ONE, history=_TIMEOUT_HISTORY)
def bzpopmax(ctx: Client, argv: list[bytes]) -> Any:
    """BZPOPMAX key [key ...] timeout"""
    return _bzpop(ctx, argv, highest=True)


@commands.command("BZMPOP", arity=-5, flags="write blocking",
                  key_specs=({"flags": "RW access delete", "index": 2, "keynumidx": 0},),
                  summary="Remove and return members with scores in a sorted set or block "
                          "until one is available", since="7.0.0",
                  complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N "
                             "being the number of elements in the sorted set, and M being the "
                             "number of elements popped.")
def bzmpop(ctx: Client, argv: list[bytes]) -> Any:
    """BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]"""
    deadline = parse_timeout(argv[1], now_ms())
    keys, highest, count = parse_mpop(argv, 2)
    for key in keys:
        zset = write_zset(ctx, key)
        if zset is not None:
            return mpop_reply(ctx, key, zset, highest, count)
    return block_or(ctx, keys, deadline, ZSet, NULL_ARRAY)
