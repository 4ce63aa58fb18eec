"""Server commands: TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN, BGREWRITEAOF, DEBUG."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from taipan.commands.config_cmd import is_local_client
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.protocol.reply import OK, Status
from taipan.types import encoding_name

commands = CommandGroup("server")
log = logging.getLogger("taipan")


@commands.command("TIME", arity=1, flags="loading stale fast", tips="nondeterministic_output",
                  summary="Return the current server time", since="2.6.0", complexity="O(1)")
def time_(ctx: Any, argv: list[bytes]) -> list[bytes]:
    """TIME"""
    now_us = time.time_ns() // 1000
    return [b"%d" % (now_us // 1_000_000), b"%d" % (now_us % 1_000_000)]


@commands.command("LASTSAVE", arity=1, flags="loading stale fast", acl="admin dangerous",
                  tips="nondeterministic_output",
                  summary="Get the UNIX time stamp of the last successful save to disk",
                  since="1.0.0", complexity="O(1)")
def lastsave(ctx: Any, argv: list[bytes]) -> int:
    """LASTSAVE"""
    return ctx.server.last_save


def _snapshots(ctx: Any) -> Any:
    rdb = ctx.server.rdb
    if rdb is None:
        raise ReplyError("ERR")  # Redis's shared.err: no snapshot layer to save with
    return rdb


@commands.command("SAVE", arity=1, flags="admin noscript no_async_loading no_multi",
                  summary="Synchronously save the dataset to disk", since="1.0.0",
                  complexity="O(N) where N is the total number of keys in all databases")
def save(ctx: Any, argv: list[bytes]) -> Any:
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
def bgsave(ctx: Any, argv: list[bytes]) -> Status:
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
def shutdown(ctx: Any, argv: list[bytes]) -> Any:
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
def bgrewriteaof(ctx: Any, argv: list[bytes]) -> Status:
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


# -- DEBUG ------------------------------------------------------------------------

_DEBUG_HELP = (
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOG <message>",
    "    Write <message> to the server log.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
)


def _debug_allowed(ctx: Any) -> None:
    setting = ctx.server.config.enable_debug_command
    if setting == "yes":
        return
    if setting == "local" and is_local_client(ctx):
        return
    raise err("DEBUG command not allowed. If the enable-debug-command option is set to "
              "\"local\", you can run it from a local connection, otherwise you need to set "
              "this option in the configuration file, and then restart the server.")


@commands.command("DEBUG", arity=-2, flags="admin noscript loading stale",
                  summary="A container for debugging commands", since="1.0.0",
                  complexity="Depends on subcommand.", doc_flags="syscmd")
def debug(ctx: Any, argv: list[bytes]) -> Any:
    """DEBUG subcommand [argument ...]"""
    _debug_allowed(ctx)
    sub = argv[1].lower()
    handler = _DEBUG_SUBCOMMANDS.get(sub)
    if handler is None or len(argv) not in handler[0]:
        text = argv[1].decode("utf-8", "replace")[:128]
        raise err(f"unknown subcommand or wrong number of arguments for '{text}'. "
                  "Try DEBUG HELP.")
    return handler[1](ctx, argv)


def _c_number(text: bytes) -> float:
    """C's ``strtod``/``atoi`` leniency: the longest numeric prefix, else 0."""
    match = _NUMBER_PREFIX.match(text.strip())
    return float(match.group(0)) if match else 0.0


_NUMBER_PREFIX = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _debug_help(ctx: Any, argv: list[bytes]) -> list[Status]:
    return [Status(line) for line in _DEBUG_HELP]


def _debug_sleep(ctx: Any, argv: list[bytes]) -> Any:
    seconds = _c_number(argv[2])
    if seconds > 0:
        time.sleep(seconds)  # stalls the whole server, as Redis's does
    return OK


def _debug_set_active_expire(ctx: Any, argv: list[bytes]) -> Any:
    ctx.server.active_expire_enabled = bool(int(_c_number(argv[2])))
    return OK


def _debug_log(ctx: Any, argv: list[bytes]) -> Any:
    log.warning("DEBUG LOG: %s", argv[2].decode("utf-8", "replace"))
    return OK


def _debug_reload(ctx: Any, argv: list[bytes]) -> Any:
    options = {arg.upper() for arg in argv[2:]}
    if not options <= {b"MERGE", b"NOFLUSH", b"NOSAVE"}:
        raise err("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    rdb = _snapshots(ctx)
    if rdb.child_pid:
        raise err("Background save already in progress")
    try:
        rdb.reload(save=b"NOSAVE" not in options, flush=b"NOFLUSH" not in options,
                   merge=b"MERGE" in options)
    except Exception:
        raise err("Error trying to load the RDB dump, check server logs.") from None
    return OK


def _rdb_length(value: Any) -> int:
    """Bytes a string takes in an RDB file (without LZF compression)."""
    if type(value) is bytes and len(value) <= 11 and _RDB_INT.match(value):
        number = int(value)
        if -(2**7) <= number < 2**7:
            return 2
        if -(2**15) <= number < 2**15:
            return 3
        if -(2**31) <= number < 2**31:
            return 5
    size = len(value)
    prefix = 1 if size < 64 else 2 if size < 16384 else 5 if size < 2**32 else 9
    return prefix + size


_RDB_INT = re.compile(rb"(?:0|-?[1-9][0-9]*)\Z")


def _debug_object(ctx: Any, argv: list[bytes]) -> Status:
    value = ctx.db.peek(argv[2])
    if value is None:
        raise ReplyError("ERR no such key")
    encoding = encoding_name(value, ctx.server.config)
    shared = encoding == "int" and 0 <= int(value) < 10000
    length = _rdb_length(value) if isinstance(value, (bytes, bytearray)) else 0
    lru_clock = int(time.time()) & ((1 << 24) - 1)
    return Status(
        f"Value at:0x{id(value):x} refcount:{2147483647 if shared else 1} "
        f"encoding:{encoding} serializedlength:{length} lru:{lru_clock} lru_seconds_idle:0"
    )


# subcommand -> (accepted argument counts, handler)
_DEBUG_SUBCOMMANDS: dict[bytes, tuple[tuple[int, ...], Any]] = {
    b"help": ((2,), _debug_help),
    b"sleep": ((3,), _debug_sleep),
    b"set-active-expire": ((3,), _debug_set_active_expire),
    b"object": ((3,), _debug_object),
    b"log": ((3,), _debug_log),
    b"reload": (tuple(range(2, 6)), _debug_reload),
}
