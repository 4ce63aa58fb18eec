"""Server commands: TIME, LASTSAVE, SHUTDOWN, DEBUG."""

from __future__ import annotations

import time
from typing import Any

from taipan.commands.args import to_float, to_int
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, err, unknown_subcommand
from taipan.protocol.reply import OK, Status
from taipan.types import encoding_name

commands = CommandGroup("server")


@commands.command("TIME", arity=1, flags="loading stale fast", tips="nondeterministic_output")
def time_(ctx: Any, argv: list[bytes]) -> list[bytes]:
    """TIME"""
    now_us = time.time_ns() // 1000
    return [b"%d" % (now_us // 1_000_000), b"%d" % (now_us % 1_000_000)]


@commands.command("LASTSAVE", arity=1, flags="loading stale fast",
                  tips="nondeterministic_output", acl="admin dangerous")
def lastsave(ctx: Any, argv: list[bytes]) -> int:
    """LASTSAVE"""
    return ctx.server.last_save


@commands.command("SHUTDOWN", arity=-1, flags="admin noscript loading stale no_multi allow_busy")
def shutdown(ctx: Any, argv: list[bytes]) -> Any:
    """SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"""
    save: bool | None = None
    abort = False
    for arg in argv[1:]:
        option = arg.upper()
        if option == b"NOSAVE" and save is None:
            save = False
        elif option == b"SAVE" and save is None:
            save = True
        elif option in (b"NOW", b"FORCE"):
            pass
        elif option == b"ABORT":
            abort = True
        else:
            raise SyntaxErr()
    if abort:
        if len(argv) > 2:
            raise SyntaxErr()
        raise err("No shutdown in progress.")
    request = ctx.server.shutdown_requested
    if request is None:
        raise err("Errors trying to SHUTDOWN. Check logs.")
    request(save)
    ctx.close_requested = True
    return None  # the connection closes without a reply, as Redis's does


# -- DEBUG ------------------------------------------------------------------------

_DEBUG_HELP = (
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "OBJECT <key>",
    "    Show low level info about the <key> and associated value.",
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
    if setting == "local" and (ctx.kind == "unix" or ctx.addr.startswith(("127.", "::1", "[::1]"))):
        return
    raise err("DEBUG command not allowed. If the enable-debug-command option is set to "
              "\"local\", you can run it from a local connection, otherwise you need to set "
              "this option in the configuration file, and then restart the server.")


@commands.command("DEBUG", arity=-2, flags="admin noscript loading stale")
def debug(ctx: Any, argv: list[bytes]) -> Any:
    """DEBUG subcommand [argument ...]"""
    _debug_allowed(ctx)
    sub = argv[1].upper()
    if sub == b"HELP":
        return [Status(line) for line in _DEBUG_HELP]
    if sub == b"SLEEP" and len(argv) == 3:
        time.sleep(max(to_float(argv[2]), 0.0))  # stalls the server, as Redis's does
        return OK
    if sub == b"SET-ACTIVE-EXPIRE" and len(argv) == 3:
        ctx.server.active_expire_enabled = bool(to_int(argv[2]))
        return OK
    if sub == b"OBJECT" and len(argv) == 3:
        value = ctx.db.peek(argv[2])
        if value is None:
            raise ReplyError("ERR no such key")
        encoding = encoding_name(value, ctx.server.config)
        length = len(value) if isinstance(value, (bytes, bytearray)) else 0
        return Status(
            f"Value at:0x{id(value):x} refcount:1 encoding:{encoding} "
            f"serializedlength:{length} lru:0 lru_seconds_idle:0"
        )
    if sub == b"JMAP" or sub == b"LOG":
        return OK
    raise unknown_subcommand("debug", argv[1])
