"""Server commands: TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN, BGREWRITEAOF (DEBUG is in
``debug.py``, declared in this group)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.protocol.reply import OK, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")


@commands.command("TIME", arity=1, flags="loading stale fast", tips="nondeterministic_output",
                  summary="Return the current server time", since="2.6.0", complexity="O(1)")
def time_(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """TIME"""
    now_us = time.time_ns() // 1000
    return [b"%d" % (now_us // 1_000_000), b"%d" % (now_us % 1_000_000)]


@commands.command("LASTSAVE", arity=1, flags="loading stale fast", acl="admin dangerous",
                  tips="nondeterministic_output",
                  summary="Get the UNIX time stamp of the last successful save to disk",
                  since="1.0.0", complexity="O(1)")
def lastsave(ctx: Client, argv: list[bytes]) -> int:
    """LASTSAVE"""
    return ctx.server.last_save


def _snapshots(ctx: Client) -> Any:
    rdb = ctx.server.rdb
    if rdb is None:
        raise ReplyError("ERR")  # Redis's shared.err: no snapshot layer to save with
    return rdb


@commands.command("SAVE", arity=1, flags="admin noscript no_async_loading no_multi",
                  summary="Synchronously save the dataset to disk", since="1.0.0",
                  complexity="O(N) where N is the total number of keys in all databases")
def save(ctx: Client, argv: list[bytes]) -> Any:
    """SAVE"""
    rdb = _snapshots(ctx)
    if rdb.child_pid:
        raise err("Background save already in progress")
    try:
        rdb.save()
    except Exception:
        raise ReplyError("ERR") from None
    return OK


@commands.command("BGSAVE", arity=-1, flags="admin noscript no_async_loading",
                  summary="Asynchronously save the dataset to disk", since="1.0.0",
                  complexity="O(1)",
                  history=(("3.2.2", "Added the `SCHEDULE` option."),))
def bgsave(ctx: Client, argv: list[bytes]) -> Status:
    """BGSAVE [SCHEDULE]"""
    if len(argv) > 1 and (len(argv) > 2 or argv[1].lower() != b"schedule"):
        raise SyntaxErr()
    schedule = len(argv) > 1
    rdb = _snapshots(ctx)
    if rdb.child_pid:
        raise err("Background save already in progress")
    in_exec = getattr(ctx, "deny_blocking", False)
    if ctx.server.child_active() or in_exec:
        # Inside EXEC a fork now would catch half a transaction; the cron starts it.
        if schedule or in_exec:
            rdb.bgsave_scheduled = True
            return Status("Background saving scheduled")
        raise err("Another child process is active (AOF?): can't BGSAVE right now. "
                  "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
    try:
        rdb.bgsave()
    except Exception:
        raise ReplyError("ERR") from None
    return Status("Background saving started")


@commands.command("SHUTDOWN", arity=-1, flags="admin noscript loading stale no_multi allow_busy",
                  summary="Synchronously save the dataset to disk and then shut down the server",
                  since="1.0.0",
                  complexity="O(N) when saving, where N is the total number of keys in all "
                             "databases when saving data, otherwise O(1)",
                  history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),))
def shutdown(ctx: Client, argv: list[bytes]) -> Any:
    """SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"""
    options: set[bytes] = set()
    abort = False
    for arg in argv[1:]:
        option = arg.upper()
        if option in (b"NOSAVE", b"SAVE", b"NOW", b"FORCE"):
            options.add(option)
        elif option == b"ABORT":
            abort = True
        else:
            raise SyntaxErr()
    if (abort and options) or {b"NOSAVE", b"SAVE"} <= options:
        raise SyntaxErr()
    if abort:
        raise err("No shutdown in progress.")
    save = True if b"SAVE" in options else (False if b"NOSAVE" in options else None)
    server = ctx.server
    busy = server.busy_script
    if busy is not None:
        # A script past busy-reply-threshold: only SHUTDOWN NOSAVE may stop the
        # server; the script is stopped first (written or not).
        if save is not False:
            raise ReplyError("BUSY Redis is busy running a script. You can only call "
                             + ("SCRIPT KILL" if busy.is_eval else "FUNCTION KILL")
                             + " or SHUTDOWN NOSAVE.")
        busy.killed = True
        caller = busy.caller
        if caller is not None:  # Redis exits without answering the script's caller
            caller.reply_mode = "off"
            caller.close_requested = True
    if server.shutdown_requested is None or not server.prepare_shutdown(
            save, force=b"FORCE" in options):
        raise err("Errors trying to SHUTDOWN. Check logs.")
    server.shutdown_requested()
    ctx.close_requested = True
    ctx.reply_mode = "off"  # the connection closes without a reply, as Redis's does
    return None


@commands.command("BGREWRITEAOF", arity=1, flags="admin noscript no_async_loading",
                  summary="Asynchronously rewrite the append-only file", since="1.0.0",
                  complexity="O(1)")
def bgrewriteaof(ctx: Client, argv: list[bytes]) -> Status:
    """BGREWRITEAOF"""
    rewriter = ctx.server.aof_rewriter
    if rewriter is None:
        raise err("Background append only file rewriting is not available")
    outcome = rewriter.request(in_transaction=getattr(ctx, "deny_blocking", False))
    if outcome == "in progress":
        raise err("Background append only file rewriting already in progress")
    if outcome == "failed":
        raise err("Can't execute an AOF background rewriting. Please check the server "
                  "logs for more information.")
    return Status(f"Background append only file rewriting {outcome}")
