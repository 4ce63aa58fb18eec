"""MULTI / EXEC / DISCARD / WATCH / UNWATCH.

Queueing itself happens in ``dispatch`` (the one path every command takes); these
handlers open, run and abandon the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.table import CommandGroup
from taipan.errors import EXECABORT, ReplyError, err
from taipan.protocol.reply import NULL_ARRAY, OK

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("transactions")


@commands.command("MULTI", arity=1, flags="noscript loading stale fast allow_busy",
                  summary="Mark the start of a transaction block", since="1.2.0", complexity="O(1)")
def multi(ctx: Client, argv: list[bytes]) -> Any:
    """MULTI"""
    if ctx.multi is not None:
        raise err("MULTI calls can not be nested")
    ctx.multi = []
    ctx.multi_failed = False
    return OK


def _watch_broken(ctx: Client) -> bool:
    if ctx.watch_dirty:
        return True
    # A key that expired after WATCH counts as modified even if not yet deleted.
    return any(not was_expired and db.is_expired(key) for db, key, was_expired in ctx.watched)


@commands.command("EXEC", arity=1, flags="noscript loading stale skip_slowlog",
                  summary="Execute all commands issued after MULTI", since="1.2.0",
                  complexity="Depends on commands in the transaction")
def exec_(ctx: Client, argv: list[bytes]) -> Any:
    """EXEC"""
    queued = ctx.multi
    if queued is None:
        raise err("EXEC without MULTI")
    failed = ctx.multi_failed
    ctx.multi = None
    ctx.multi_failed = False
    if failed:
        ctx.unwatch_all()
        raise ReplyError(EXECABORT)
    if _watch_broken(ctx):
        ctx.unwatch_all()
        return NULL_ARRAY
    ctx.unwatch_all()
    # Blocking commands inside a transaction time out at once instead of blocking;
    # clients they could serve are served after EXEC, never between its commands.
    ctx.deny_blocking = True
    try:
        return ctx.server.dispatcher.run_transaction(ctx, queued)
    finally:
        ctx.deny_blocking = False


@commands.command("DISCARD", arity=1, flags="noscript loading stale fast allow_busy",
                  summary="Discard all commands issued after MULTI", since="2.0.0",
                  complexity="O(N), when N is the number of queued commands")
def discard(ctx: Client, argv: list[bytes]) -> Any:
    """DISCARD"""
    if ctx.multi is None:
        raise err("DISCARD without MULTI")
    ctx.multi = None
    ctx.multi_failed = False
    ctx.unwatch_all()
    return OK


@commands.command("WATCH", arity=-2, flags="noscript loading stale fast allow_busy",
                  keys=(1, -1, 1),
                  summary="Watch the given keys to determine execution of the MULTI/EXEC block",
                  since="2.2.0", complexity="O(1) for every key.")
def watch(ctx: Client, argv: list[bytes]) -> Any:
    """WATCH key [key ...]"""
    if ctx.multi is not None:
        raise err("WATCH inside MULTI is not allowed")
    db = ctx.db
    for key in argv[1:]:
        if any(d is db and k == key for d, k, _ in ctx.watched):
            continue
        ctx.watched.append((db, key, db.is_expired(key)))
        db.watchers.setdefault(key, []).append(ctx)
    return OK


@commands.command("UNWATCH", arity=1, flags="noscript loading stale fast allow_busy",
                  summary="Forget about all watched keys", since="2.2.0", complexity="O(1)")
def unwatch(ctx: Client, argv: list[bytes]) -> Any:
    """UNWATCH"""
    ctx.unwatch_all()
    return OK
