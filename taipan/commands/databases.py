"""Whole-database commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr
from taipan.protocol.reply import OK

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")


@commands.command("DBSIZE", arity=1, flags="readonly fast", acl="keyspace",
                  tips="request_policy:all_shards response_policy:agg_sum",
                  summary="Return the number of keys in the selected database", since="1.0.0",
                  complexity="O(1)")
def dbsize(ctx: Client, argv: list[bytes]) -> int:
    """DBSIZE"""
    return len(ctx.db)


def _flush_mode(ctx: Client, argv: list[bytes]) -> bool:
    """Whether the flush is ASYNC: the argument, else ``lazyfree-lazy-user-flush``."""
    if len(argv) == 1:
        return bool(ctx.server.config.lazyfree_lazy_user_flush)
    mode = argv[1].upper() if len(argv) == 2 else None
    if mode == b"ASYNC":
        return True
    if mode == b"SYNC":
        return False
    raise SyntaxErr()


@commands.command("FLUSHDB", arity=-1, flags="write", acl="keyspace dangerous",
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Remove all keys from the current database", since="1.0.0",
                  complexity="O(N) where N is the number of keys in the selected database",
                  history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                           ("6.2.0", "Added the `SYNC` flushing mode modifier.")))
def flushdb(ctx: Client, argv: list[bytes]) -> Any:
    """FLUSHDB [ASYNC | SYNC]"""
    ctx.db.clear(_flush_mode(ctx, argv))
    ctx.server.tracking.on_flush()  # client-side caches drop everything
    ctx.db.stats.dirty += 1  # propagate even when the database was already empty
    return OK


@commands.command("FLUSHALL", arity=-1, flags="write", acl="keyspace dangerous",
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Remove all keys from all databases", since="1.0.0",
                  complexity="O(N) where N is the total number of keys in all databases",
                  history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                           ("6.2.0", "Added the `SYNC` flushing mode modifier.")))
def flushall(ctx: Client, argv: list[bytes]) -> Any:
    """FLUSHALL [ASYNC | SYNC]"""
    lazy = _flush_mode(ctx, argv)
    for db in ctx.server.databases:
        db.clear(lazy)
    ctx.server.tracking.on_flush()  # client-side caches drop everything
    ctx.db.stats.dirty += 1
    return OK


@commands.command("SWAPDB", arity=3, flags="write fast", acl="keyspace dangerous",
                  summary="Swaps two Redis databases", since="4.0.0",
                  complexity="O(N) where N is the count of clients watching or blocking on keys "
                             "from both databases.")
def swapdb(ctx: Client, argv: list[bytes]) -> Any:
    """SWAPDB index1 index2"""
    databases = ctx.server.databases
    try:
        first = to_int(argv[1])
    except ReplyError:
        raise ReplyError("ERR invalid first DB index") from None
    try:
        second = to_int(argv[2])
    except ReplyError:
        raise ReplyError("ERR invalid second DB index") from None
    if not (0 <= first < len(databases) and 0 <= second < len(databases)):
        raise ReplyError("ERR DB index is out of range")
    if first != second:
        databases[first].swap_contents(databases[second])
    ctx.db.stats.dirty += 1
    return OK
