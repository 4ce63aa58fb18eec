"""Blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.

Each handler first tries to serve at once; when there is nothing to pop it returns
a ``Blocked`` request and the connection layer parks the client (see
taipan/keyspace/blocking.py). When a push makes a key ready, the same handler runs
again for the longest-waiting client, and its effect propagates as the
non-blocking command (LPOP, LMOVE ...), as Redis does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.blocking_args import block_or, parse_timeout
from taipan.commands.lists import (
    get_list,
    move_item,
    parse_mpop,
    parse_side,
    pop_items,
)
from taipan.commands.table import CommandGroup
from taipan.keyspace.database import now_ms
from taipan.protocol.reply import NULL_ARRAY
from taipan.types.lists import RedisList

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("list")

_TIMEOUT_HISTORY = (("6.0.0", "`timeout` is interpreted as a double instead of an integer."),)


def _block_or(ctx: Client, keys: list[bytes], deadline: int, timeout_reply: Any) -> Any:
    return block_or(ctx, keys, deadline, RedisList, timeout_reply)


def _bpop(ctx: Client, argv: list[bytes], left: bool) -> Any:
    deadline = parse_timeout(argv[-1], now_ms())
    keys = argv[1:-1]
    for key in keys:
        items = get_list(ctx, key)
        if items is not None:
            value = pop_items(ctx, key, items, left, 1)[0]
            ctx.propagate_argv = [b"LPOP" if left else b"RPOP", key]
            return [key, value]
    return _block_or(ctx, keys, deadline, NULL_ARRAY)


@commands.command("BLPOP", arity=-3, flags="write noscript blocking", keys=(1, -2, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and get the first element in a list, or block until one is "
                          "available", since="2.0.0",
                  complexity="O(N) where N is the number of provided keys.",
                  history=_TIMEOUT_HISTORY)
def blpop(ctx: Client, argv: list[bytes]) -> Any:
    """BLPOP key [key ...] timeout"""
    return _bpop(ctx, argv, left=True)


@commands.command("BRPOP", arity=-3, flags="write noscript blocking", keys=(1, -2, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and get the last element in a list, or block until one is "
                          "available", since="2.0.0",
                  complexity="O(N) where N is the number of provided keys.",
                  history=_TIMEOUT_HISTORY)
def brpop(ctx: Client, argv: list[bytes]) -> Any:
    """BRPOP key [key ...] timeout"""
    return _bpop(ctx, argv, left=False)


def _bmove(ctx: Client, source: bytes, target: bytes, from_left: bool, to_left: bool,
           timeout: bytes) -> Any:
    deadline = parse_timeout(timeout, now_ms())
    if get_list(ctx, source) is None:
        # Redis answers a timed-out BLMOVE with a null array, not a null bulk.
        return _block_or(ctx, [source], deadline, NULL_ARRAY)
    item = move_item(ctx, source, target, from_left, to_left)
    ctx.propagate_argv = [b"LMOVE", source, target, b"LEFT" if from_left else b"RIGHT",
                          b"LEFT" if to_left else b"RIGHT"]
    return item


@commands.command("BLMOVE", arity=6, flags="write denyoom noscript blocking", keys=(1, 2, 1),
                  key_specs=("RW access delete", "RW insert"),
                  summary="Pop an element from a list, push it to another list and return it; "
                          "or block until one is available", since="6.2.0", complexity="O(1)")
def blmove(ctx: Client, argv: list[bytes]) -> Any:
    """BLMOVE source destination LEFT | RIGHT LEFT | RIGHT timeout"""
    from_left, to_left = parse_side(argv[3]), parse_side(argv[4])
    return _bmove(ctx, argv[1], argv[2], from_left, to_left, argv[5])


@commands.command("BRPOPLPUSH", arity=4, flags="write denyoom noscript blocking", keys=(1, 2, 1),
                  key_specs=("RW access delete", "RW insert"),
                  summary="Pop an element from a list, push it to another list and return it; "
                          "or block until one is available", since="2.2.0", complexity="O(1)",
                  doc_flags="deprecated", deprecated_since="6.2.0",
                  replaced_by="`BLMOVE` with the `RIGHT` and `LEFT` arguments",
                  history=_TIMEOUT_HISTORY)
def brpoplpush(ctx: Client, argv: list[bytes]) -> Any:
    """BRPOPLPUSH source destination timeout"""
    return _bmove(ctx, argv[1], argv[2], False, True, argv[3])


@commands.command("BLMPOP", arity=-5, flags="write blocking",
                  key_specs=({"flags": "RW access delete", "index": 2, "keynumidx": 0},),
                  summary="Pop elements from a list, or block until one is available",
                  since="7.0.0",
                  complexity="O(N+M) where N is the number of provided keys and M is the number "
                             "of elements returned.")
def blmpop(ctx: Client, argv: list[bytes]) -> Any:
    """BLMPOP timeout numkeys key [key ...] LEFT | RIGHT [COUNT count]"""
    deadline = parse_timeout(argv[1], now_ms())
    keys, left, count = parse_mpop(argv, 2)
    for key in keys:
        items = get_list(ctx, key)
        if items is not None:
            popped = pop_items(ctx, key, items, left, count)
            ctx.propagate_argv = [b"LPOP" if left else b"RPOP", key, b"%d" % len(popped)]
            return [key, popped]
    return _block_or(ctx, keys, deadline, NULL_ARRAY)
