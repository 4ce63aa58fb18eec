"""FCALL, FCALL_RO and FUNCTION: function libraries loaded with FUNCTION LOAD.

Libraries live in ``taipan.scripting.functions``; their DUMP/RESTORE payload
format in ``taipan.persistence.function_payload``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, c_string, err
from taipan.glob import glob_match
from taipan.protocol.reply import OK, SetReply, Status

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("scripting")


def _syntax_error(argv: list[bytes]) -> ReplyError:
    """Redis's addReplySubcommandSyntaxError."""
    sub = c_string(argv[1], 128).replace("\r", " ").replace("\n", " ")
    return err(f"unknown subcommand or wrong number of arguments for '{sub}'. "
               f"Try {c_string(argv[0]).upper()} HELP.")

_FUNCTION_KEYS = {"flags": "RW access update", "index": 2, "keynumidx": 0,
                  "notes": "We cannot tell how the keys will be used so we assume the worst, "
                           "RW and UPDATE"}
_FUNCTION_KEYS_RO = {"flags": "RO access", "index": 2, "keynumidx": 0,
                     "notes": "We cannot tell how the keys will be used so we assume the worst, "
                              "RO and ACCESS"}


@commands.command("FCALL", arity=-3,
                  flags="noscript skip_monitor may_replicate no_mandatory_keys stale",
                  key_specs=(_FUNCTION_KEYS,), summary="Invoke a function", since="7.0.0",
                  complexity="Depends on the function that is executed.")
def fcall(ctx: Client, argv: list[bytes]) -> Any:
    """FCALL function numkeys [key [key ...]] [arg [arg ...]]"""
    return ctx.server.scripting.fcall(ctx, argv, read_only=False)


@commands.command("FCALL_RO", arity=-3,
                  flags="noscript skip_monitor no_mandatory_keys stale readonly",
                  key_specs=(_FUNCTION_KEYS_RO,), summary="Invoke a read-only function",
                  since="7.0.0", complexity="Depends on the function that is executed.")
def fcall_ro(ctx: Client, argv: list[bytes]) -> Any:
    """FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]"""
    return ctx.server.scripting.fcall(ctx, argv, read_only=True)


commands.container("FUNCTION", summary="A container for function commands", since="7.0.0")


@commands.command("FUNCTION LOAD", arity=-3, flags="noscript write denyoom",
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Create a function with the given arguments (name, code, description)",
                  since="7.0.0",
                  complexity="O(1) (considering compilation time is redundant)")
def function_load(ctx: Client, argv: list[bytes]) -> bytes:
    """FUNCTION LOAD [REPLACE] function-code"""
    replace = False
    for option in argv[2:-1]:
        if option.lower() != b"replace":
            raise err(f"Unknown option given: {option.decode('utf-8', 'surrogateescape')}")
        replace = True
    name = ctx.server.functions.load(argv[-1], replace)
    ctx.server.keyspace_stats.dirty += 1  # propagated and counted as a change, as Redis
    return name.encode()


@commands.command("FUNCTION DELETE", arity=3, flags="noscript write",
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Delete a function by name", since="7.0.0", complexity="O(1)")
def function_delete(ctx: Client, argv: list[bytes]) -> Any:
    """FUNCTION DELETE library-name"""
    functions = ctx.server.functions
    library = functions.libraries.get(argv[2].decode("utf-8", "surrogateescape"))
    if library is None:
        raise err("Library not found")
    functions.current.unlink(library)
    ctx.server.keyspace_stats.dirty += 1
    return OK


@commands.command("FUNCTION FLUSH", arity=-2, flags="noscript write",
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Deleting all functions", since="7.0.0",
                  complexity="O(N) where N is the number of functions deleted")
def function_flush(ctx: Client, argv: list[bytes]) -> Any:
    """FUNCTION FLUSH [ASYNC | SYNC]"""
    if len(argv) > 3:
        raise _syntax_error(argv)
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise err("FUNCTION FLUSH only supports SYNC|ASYNC option")
    ctx.server.functions.flush()
    ctx.server.keyspace_stats.dirty += 1
    return OK


@commands.command("FUNCTION KILL", arity=2, flags="noscript allow_busy",
                  tips="request_policy:all_shards response_policy:one_succeeded",
                  summary="Kill the function currently in execution.", since="7.0.0",
                  complexity="O(1)")
def function_kill(ctx: Client, argv: list[bytes]) -> Any:
    """FUNCTION KILL"""
    ctx.server.scripting.kill(from_eval=False)
    return OK


@commands.command("FUNCTION LIST", arity=-2, flags="noscript",
                  tips="nondeterministic_output_order",
                  summary="List information about all the functions", since="7.0.0",
                  complexity="O(N) where N is the number of functions")
def function_list(ctx: Client, argv: list[bytes]) -> list[dict[bytes, Any]]:
    """FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]"""
    with_code = False
    pattern: bytes | None = None
    i = 2
    while i < len(argv):
        option = argv[i].lower()
        if not with_code and option == b"withcode":
            with_code = True
        elif pattern is None and option == b"libraryname":
            if i >= len(argv) - 1:
                raise err("library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise err(f"Unknown argument {argv[i].decode('utf-8', 'surrogateescape')}")
        i += 1
    reply = []
    for library in ctx.server.functions.libraries.values():
        name = library.name.encode()
        if pattern is not None and not glob_match(pattern, name, nocase=True):
            continue
        entry: dict[bytes, Any] = {
            b"library_name": name,
            b"engine": library.engine.encode(),
            b"functions": [{
                b"name": function.name.encode(),
                b"description": function.description,
                b"flags": SetReply(Status(flag.decode()) for flag in function.flags.ordered()),
            } for function in library.functions.values()],
        }
        if with_code:
            entry[b"library_code"] = library.code
        reply.append(entry)
    return reply


@commands.command("FUNCTION STATS", arity=2, flags="noscript allow_busy",
                  tips="nondeterministic_output request_policy:all_shards "
                       "response_policy:special",
                  summary="Return information about the function currently running (name, "
                          "description, duration)", since="7.0.0", complexity="O(1)")
def function_stats(ctx: Client, argv: list[bytes]) -> dict[bytes, Any]:
    """FUNCTION STATS"""
    scripting = ctx.server.scripting
    run = scripting.running
    if run is not None and run.is_eval:
        raise ReplyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL "
                         "or SHUTDOWN NOSAVE.")
    running = None
    if run is not None and run.caller is not None:
        running = {b"name": run.name.encode(), b"command": list(run.caller_argv),
                   b"duration_ms": run.elapsed_ms()}
    functions = ctx.server.functions
    return {
        b"running_script": running,
        b"engines": {b"LUA": {b"libraries_count": len(functions.libraries),
                              b"functions_count": functions.function_count()}},
    }


@commands.command("FUNCTION DUMP", arity=2, flags="noscript",
                  summary="Dump all functions into a serialized binary payload", since="7.0.0",
                  complexity="O(N) where N is the number of functions")
def function_dump(ctx: Client, argv: list[bytes]) -> bytes:
    """FUNCTION DUMP"""
    from taipan.persistence.function_payload import dump_functions

    return dump_functions([library.code for library in ctx.server.functions.libraries.values()],
                          compress=ctx.server.config.rdbcompression)


@commands.command("FUNCTION RESTORE", arity=-3, flags="noscript write denyoom",
                  tips="request_policy:all_shards response_policy:all_succeeded",
                  summary="Restore all the functions on the given payload", since="7.0.0",
                  complexity="O(N) where N is the number of functions on the payload")
def function_restore(ctx: Client, argv: list[bytes]) -> Any:
    """FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]"""
    from taipan.persistence.function_payload import iter_functions_payload
    from taipan.scripting.functions import LibrarySet

    if len(argv) > 4:
        raise _syntax_error(argv)
    policy = argv[3].lower() if len(argv) == 4 else b"append"
    if policy not in (b"append", b"replace", b"flush"):
        raise err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    functions = ctx.server.functions
    restored = LibrarySet()
    for code in iter_functions_payload(argv[2]):  # each compiled as read, as Redis does
        functions.load(code, into=restored)
    if policy == b"flush":
        functions.swap(restored)
    else:
        functions.current.join(restored, replace=policy == b"replace")
    ctx.server.keyspace_stats.dirty += 1
    return OK


_HELP = (
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored "
    "using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
    "abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a "
    "chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
)


@commands.command("FUNCTION HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="7.0.0",
                  complexity="O(1)")
def function_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """FUNCTION HELP"""
    return [Status(line) for line in _HELP]
