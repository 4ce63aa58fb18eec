"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: Lua scripts by body or sha1.

The work happens in ``taipan.scripting``; these handlers parse and answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from taipan.commands.table import CommandGroup
from taipan.errors import err
from taipan.protocol.reply import OK, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("scripting")

_SCRIPT_KEYS: Final = {"flags": "RW access update", "index": 2, "keynumidx": 0,
                "notes": "We cannot tell how the keys will be used so we assume the worst, "
                         "RW and UPDATE"}
_SCRIPT_KEYS_RO: Final = {"flags": "RO access", "index": 2, "keynumidx": 0,
                   "notes": "We cannot tell how the keys will be used so we assume the worst, "
                            "RO and ACCESS"}


@commands.command("EVAL", arity=-3,
                  flags="noscript skip_monitor may_replicate no_mandatory_keys stale",
                  key_specs=(_SCRIPT_KEYS,), summary="Execute a Lua script server side",
                  since="2.6.0", complexity="Depends on the script that is executed.")
def eval_(ctx: Client, argv: list[bytes]) -> Any:
    """EVAL script numkeys [key [key ...]] [arg [arg ...]]"""
    return ctx.server.scripting.eval(ctx, argv, by_sha=False, read_only=False)


@commands.command("EVALSHA", arity=-3,
                  flags="noscript skip_monitor may_replicate no_mandatory_keys stale",
                  key_specs=({**_SCRIPT_KEYS, "notes": ""},),
                  summary="Execute a Lua script server side", since="2.6.0",
                  complexity="Depends on the script that is executed.")
def evalsha(ctx: Client, argv: list[bytes]) -> Any:
    """EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]"""
    return ctx.server.scripting.eval(ctx, argv, by_sha=True, read_only=False)


@commands.command("EVAL_RO", arity=-3,
                  flags="noscript skip_monitor no_mandatory_keys stale readonly",
                  key_specs=(_SCRIPT_KEYS_RO,),
                  summary="Execute a read-only Lua script server side", since="7.0.0",
                  complexity="Depends on the script that is executed.")
def eval_ro(ctx: Client, argv: list[bytes]) -> Any:
    """EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]"""
    return ctx.server.scripting.eval(ctx, argv, by_sha=False, read_only=True)


@commands.command("EVALSHA_RO", arity=-3,
                  flags="noscript skip_monitor no_mandatory_keys stale readonly",
                  key_specs=({**_SCRIPT_KEYS_RO, "notes": ""},),
                  summary="Execute a read-only Lua script server side", since="7.0.0",
                  complexity="Depends on the script that is executed.")
def evalsha_ro(ctx: Client, argv: list[bytes]) -> Any:
    """EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]"""
    return ctx.server.scripting.eval(ctx, argv, by_sha=True, read_only=True)


commands.container("SCRIPT", summary="A container for Lua scripts management commands",
                   since="2.6.0")


@commands.command("SCRIPT LOAD", arity=3, flags="noscript stale",
                  tips="request_policy:all_nodes response_policy:all_succeeded",
                  summary="Load the specified Lua script into the script cache.", since="2.6.0",
                  complexity="O(N) with N being the length in bytes of the script body.")
def script_load(ctx: Client, argv: list[bytes]) -> bytes:
    """SCRIPT LOAD script"""
    sha, _ = ctx.server.scripting.load_script(argv[2])
    return sha


@commands.command("SCRIPT EXISTS", arity=-3, flags="noscript",
                  tips="request_policy:all_shards response_policy:agg_logical_and",
                  summary="Check existence of scripts in the script cache.", since="2.6.0",
                  complexity="O(N) with N being the number of scripts to check (so checking a "
                             "single script is an O(1) operation).")
def script_exists(ctx: Client, argv: list[bytes]) -> list[int]:
    """SCRIPT EXISTS sha1 [sha1 ...]"""
    scripts = ctx.server.scripting.scripts
    return [1 if sha.lower() in scripts else 0 for sha in argv[2:]]  # case-insensitive


@commands.command("SCRIPT FLUSH", arity=-2, flags="noscript",
                  tips="request_policy:all_nodes response_policy:all_succeeded",
                  summary="Remove all the scripts from the script cache.", since="2.6.0",
                  complexity="O(N) with N being the number of scripts in cache",
                  history=(("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."),))
def script_flush(ctx: Client, argv: list[bytes]) -> Any:
    """SCRIPT FLUSH [ASYNC | SYNC]"""
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise err("SCRIPT FLUSH only support SYNC|ASYNC option")
    ctx.server.scripting.flush_scripts()
    return OK


@commands.command("SCRIPT KILL", arity=2, flags="noscript allow_busy",
                  tips="request_policy:all_shards response_policy:one_succeeded",
                  summary="Kill the script currently in execution.", since="2.6.0",
                  complexity="O(1)")
def script_kill(ctx: Client, argv: list[bytes]) -> Any:
    """SCRIPT KILL"""
    ctx.server.scripting.kill(from_eval=True)
    return OK


@commands.command("SCRIPT DEBUG", arity=3, flags="noscript",
                  summary="Set the debug mode for executed scripts.", since="3.2.0",
                  complexity="O(1)")
def script_debug(ctx: Client, argv: list[bytes]) -> Any:
    """SCRIPT DEBUG YES | SYNC | NO"""
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        # The Lua debugger (LDB) speaks its own protocol over the client's
        # connection; Taipan does not offer it.
        raise err("SCRIPT DEBUG is not supported by this server: the Lua debugger is not "
                  "available")
    raise err("Use SCRIPT DEBUG YES/SYNC/NO")


_HELP: Final = (
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
)


@commands.command("SCRIPT HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="5.0.0",
                  complexity="O(1)")
def script_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """SCRIPT HELP"""
    return [Status(line) for line in _HELP]

