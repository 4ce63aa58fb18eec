"""The Python half of the ``redis.*`` API and the state of the script running now.

Lua calls into ``ScriptHost`` for ``redis.call``/``pcall``, ``setresp``, ``set_repl``,
``log``, ``acl_check_cmd``, ``register_function`` and the instruction-count hook.
Commands called from a script run through the dispatcher's ``call`` (the one place
commands are counted, errors become replies and writes are propagated), after the
checks Redis makes for script calls (``scriptCall`` in Redis): arity, ``noscript``,
writes from read-only scripts, disk errors before the first write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lupa.lua51 import LuaError

from taipan.errors import ReplyError
from taipan.net.client import Client
from taipan.scripting.lua_replies import error_text

if TYPE_CHECKING:
    from taipan.commands.table import Command
    from taipan.instance import Instance
    from taipan.scripting.lua_state import LuaState

log = logging.getLogger("taipan")

OK, COUNTED_ERROR, ERROR = 0, 1, 2  # redis.call outcomes the Lua side acts on
REPL_AOF = 1
_E17 = 10**17  # integers from here on are written as %.17g writes a double
_LOG_LEVELS = {0: logging.DEBUG, 1: 15, 2: logging.INFO, 3: logging.WARNING}
KILLED = b"ERR Script killed by user with SCRIPT KILL..."
LOAD_TIMEOUT = b"ERR FUNCTION LOAD timeout"
LOAD_TIMEOUT_MS = 500  # a library's body gets this long to register its functions


class ScriptRun:
    """One running script or function, from start to reply."""

    __slots__ = ("caller", "caller_argv", "name", "is_eval", "read_only", "lua", "start", "write_dirty",
                 "timed_out", "killed", "repl_flags", "loading")

    def __init__(self, caller: Client | None, name: str, lua: LuaState, is_eval: bool = True,
                 read_only: bool = False, loading: Any = None,
                 caller_argv: list[bytes] | None = None) -> None:
        self.caller = caller
        self.caller_argv = caller_argv or []  # the EVAL/FCALL request (FUNCTION STATS)
        self.name = name  # the sha for EVAL, the function's name for FCALL
        self.is_eval = is_eval
        self.read_only = read_only  # EVAL_RO, FCALL_RO, no-writes: writes refused
        self.lua = lua
        self.start = time.monotonic()
        self.write_dirty = False  # a write ran: SCRIPT KILL refuses, checks relax
        self.timed_out = False  # past busy-reply-threshold: others get -BUSY
        self.killed = False  # SCRIPT/FUNCTION KILL asked; the hook raises
        self.repl_flags = 3  # redis.set_repl: REPL_ALL
        self.loading = loading  # the library FUNCTION LOAD is building, if loading

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)


class ScriptHost:
    """Callbacks the Lua states call; at most one script runs at a time."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.run: ScriptRun | None = None
        # The client scripts' commands run as: its own db and protocol, never blocks.
        self.client = Client(0, instance, kind="lua")
        self.client.authenticated = True
        self.client.deny_blocking = True
        # Set by the network layer: serves other clients while a script is busy.
        self.serve_while_busy: Callable[[ScriptRun], None] | None = None
        # Set by the function registry: redis.register_function during FUNCTION LOAD.
        self.function_registrar: Callable[[ScriptRun, tuple[Any, ...]], bytes | None] | None = None

    # -- redis.call / redis.pcall ----------------------------------------------
    # Both are the Python callables themselves, not Lua wrappers: Lua 5.1 keeps the
    # caller's frame for a tail call to a C function (``return redis.call(...)``),
    # so errors still name the script's line, as in Redis.

    def redis_call(self, *args: Any) -> Any:
        status, value = self.call(args)
        if status == OK:
            return value
        raise LuaError(self._error_table(status, value))

    def redis_pcall(self, *args: Any) -> Any:
        status, value = self.call(args)
        if status == OK:
            return value
        return self._error_table(status, value)

    def _error_table(self, status: int, message: bytes) -> Any:
        run = self.run
        if run is None:
            return message
        fields: dict[bytes, Any] = {b"err": message}
        if status == COUNTED_ERROR:
            fields[b"ignore_error_stats_update"] = True
        return run.lua.to_lua.table_from(fields)

    def call(self, args: tuple[Any, ...]) -> tuple[int, Any]:
        run = self.run
        if run is None or run.loading is not None:
            return ERROR, b"ERR redis.call/pcall can only be called inside a script invocation"
        if not args:
            return ERROR, b"ERR Please specify at least one argument for this redis lib call"
        argv = _to_argv(args)
        if argv is None:
            return ERROR, b"ERR Lua redis lib command arguments must be strings or integers"
        command = self._command(argv)
        if type(command) is not bytes:
            refusal = self._refusal(run, command)  # type: ignore[arg-type]
            if refusal is None:
                return self._execute(run, command, argv)  # type: ignore[arg-type]
        else:
            refusal, command = command, None
        self.instance.dispatcher.count_rejection(
            command, ReplyError(refusal.decode("utf-8", "surrogateescape")))
        return COUNTED_ERROR, refusal

    def _command(self, argv: list[bytes]) -> Command | bytes:
        commands = self.instance.dispatcher.commands
        command = commands.get(argv[0]) or commands.get(argv[0].lower())
        if command is None:
            return b"ERR Unknown Redis command called from script"
        if command.subcommands and (len(argv) >= 2 or command.handler is None):
            if len(argv) < 2:
                return b"ERR Wrong number of args calling Redis command from script"
            command = command.subcommands.get(argv[1].lower())
            if command is None:
                return b"ERR Unknown Redis command called from script"
        arity = command.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            return b"ERR Wrong number of args calling Redis command from script"
        return command

    def _refusal(self, run: ScriptRun, command: Command) -> bytes | None:
        if command.denied_in_scripts:
            return b"ERR This Redis command is not allowed from script"
        if run.read_only and (command.is_write or command.may_replicate):
            return b"ERR Write commands are not allowed from read-only scripts."
        if command.is_write:
            if not run.write_dirty:
                disk_error = self.instance.dispatcher.disk_error()
                if disk_error is not None:
                    return disk_error.message.encode()
            run.write_dirty = True
        return None

    def _execute(self, run: ScriptRun, command: Command, argv: list[bytes]) -> tuple[int, Any]:
        dispatcher = self.instance.dispatcher
        client = self.client
        writes = dispatcher.pending_writes
        mark = len(writes) if writes is not None else 0
        reply = dispatcher.call(client, command, argv)
        if not run.repl_flags & REPL_AOF and writes is not None:
            del writes[mark:]  # redis.set_repl(REPL_NONE/REPL_REPLICA): not in the AOF
        if isinstance(reply, ReplyError):
            return COUNTED_ERROR, error_text(reply.message)
        return OK, run.lua.to_lua.convert(reply, client.resp)

    # -- the rest of the redis table ------------------------------------------------

    def set_resp(self, version: int) -> bool:
        if self.run is None:
            return False
        self.client.resp = int(version)
        return True

    def set_repl(self, flags: int) -> bool:
        if self.run is None:
            return False
        self.run.repl_flags = int(flags)
        return True

    def log(self, level: int, text: bytes) -> None:
        log.log(_LOG_LEVELS[int(level)], text.decode("utf-8", "replace"))

    def acl_check(self, *args: Any) -> tuple[int, Any]:
        if self.run is None:
            return ERROR, b"ERR redis.acl_check_cmd can only be called inside a script invocation"
        if not args:
            return ERROR, b"ERR Please specify at least one argument for this redis lib call"
        argv = _to_argv(args)
        if argv is None:
            return ERROR, b"ERR Lua redis lib command arguments must be strings or integers"
        if type(self._command(argv)) is bytes:
            return ERROR, b"ERR Invalid command passed to redis.acl_check_cmd()"
        return OK, True  # every client is the default user, who may run everything

    def register_function(self, *args: Any) -> tuple[int, Any]:
        run = self.run
        if run is None or run.loading is None or self.function_registrar is None:
            return ERROR, b"ERR redis.register_function can only be called on FUNCTION LOAD command"
        failure = self.function_registrar(run, args)
        return (ERROR, failure) if failure is not None else (OK, None)

    # -- the count hook: busy scripts, SCRIPT KILL, FUNCTION LOAD timeouts ----------

    def interrupt(self) -> bytes | None:
        run = self.run
        if run is None:
            return None
        if run.loading is not None:
            return LOAD_TIMEOUT if run.elapsed_ms() > LOAD_TIMEOUT_MS else None
        threshold = self.instance.config.busy_reply_threshold
        if not run.timed_out:
            elapsed = run.elapsed_ms()
            if elapsed < threshold:
                return None
            log.warning("Slow script detected: still in execution after %d milliseconds. "
                        "You can try killing the script using the %s command. "
                        "Script name is: %s.", elapsed,
                        "SCRIPT KILL" if run.is_eval else "FUNCTION KILL", run.name)
            run.timed_out = True
            self.instance.set_busy_script(run)
        if self.serve_while_busy is not None:
            self.serve_while_busy(run)
        if run.killed:
            log.warning("Lua script killed by user with SCRIPT KILL.")
            return KILLED
        return None


def _to_argv(args: tuple[Any, ...]) -> list[bytes] | None:
    """Lua values as command arguments: strings as they are, numbers as ``%.17g``."""
    argv = []
    for arg in args:
        kind = type(arg)
        if kind is bytes:
            argv.append(arg)
        elif kind is int:
            argv.append(b"%d" % arg if -_E17 < arg < _E17 else b"%.17g" % arg)
        elif kind is float:
            argv.append(b"%.17g" % arg)
        else:
            return None
    return argv
