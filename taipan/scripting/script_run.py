"""The Python half of the ``redis.*`` API and the state of the script running now.

Lua calls into ``ScriptHost`` for ``redis.call``/``pcall``, ``setresp``, ``set_repl``,
``log``, ``acl_check_cmd``, ``register_function`` and the instruction-count hook.
Commands called from a script run through the dispatcher's ``call`` (the one place
commands are counted, errors become replies and writes are propagated), after the
checks Redis makes for script calls (``scriptCall`` in Redis): arity, ``noscript``,
writes from read-only scripts, disk errors before the first write.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import lupa.lua51 as lupa

from taipan.acl.check import OK as ACL_OK
from taipan.acl.check import check as acl_check
from taipan.errors import OOM_MESSAGE, ReplyError
from taipan.net.client import Client
from taipan.scripting.lua_replies import error_text, lua_number_text
from taipan.scripting.script_errors import LuaRaise

if TYPE_CHECKING:
    from taipan.commands.table import Command
    from taipan.dispatch import Dispatcher
    from taipan.instance import Instance
    from taipan.scripting.lua_state import LuaState

log: Final = logging.getLogger("taipan")

# redis.call outcomes the Lua side acts on
OK: Final = 0
COUNTED_ERROR: Final = 1
ERROR: Final = 2
REPL_AOF: Final = 1
_E17: Final = 10**17  # integers from here on are written as %.17g writes a double
_LOG_LEVELS: Final = {0: logging.DEBUG, 1: 15, 2: logging.INFO, 3: logging.WARNING}
KILLED: Final = b"ERR Script killed by user with SCRIPT KILL..."
LOAD_TIMEOUT: Final = b"ERR FUNCTION LOAD timeout"
LOAD_TIMEOUT_MS: Final = 500  # a library's body gets this long to register its functions
_RAND48_SEED: Final = 0x1234ABCD330E  # lrand48's initial X


class ScriptRun:
    """One running script or function, from start to reply."""

    __slots__ = ("caller", "caller_argv", "name", "is_eval", "read_only", "lua", "start", "write_dirty",
                 "timed_out", "killed", "repl_flags", "loading", "allow_oom")

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
        self.allow_oom = False  # the allow-oom (or no-writes) flag: no OOM checks

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
        # math.random's lrand48 state: one per server, whichever Lua state asks.
        self.rand48 = _RAND48_SEED

    # -- redis.call / redis.pcall ----------------------------------------------
    # Both are the Python callables themselves, not Lua wrappers: Lua 5.1 keeps the
    # caller's frame for a tail call to a C function (``return redis.call(...)``),
    # so errors still name the script's line, as in Redis.

    def redis_call(self, *args: Any) -> Any:
        status, value = self.call(args)
        if status == OK:
            return value
        del args  # see LuaRaise: no Lua object may outlive the call in the traceback
        raise LuaRaise(value, as_table=True, counted=status == COUNTED_ERROR)

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
        command, refusal = self._command(argv)
        if refusal is None:
            assert command is not None
            refusal = self._refusal(run, command, argv)
            if refusal is None:
                return self._execute(run, command, argv)
        # Charged to the command when one was found (a bad arity, say), as in Redis.
        self.instance.dispatcher.count_rejection(
            command, ReplyError(refusal.decode("utf-8", "surrogateescape")))
        return COUNTED_ERROR, refusal

    def _command(self, argv: list[bytes]) -> tuple[Command | None, bytes | None]:
        """The command ``argv`` names (the container itself when it names no
        subcommand) and the refusal when it is unknown or has a bad arity."""
        dispatcher: Dispatcher = self.instance.dispatcher
        commands = dispatcher.commands
        command = commands.get(argv[0]) or commands.get(argv[0].lower())
        if command is None:
            return None, b"ERR Unknown Redis command called from script"
        if command.subcommands and len(argv) >= 2:
            command = command.subcommands.get(argv[1].lower())
            if command is None:
                return None, b"ERR Unknown Redis command called from script"
        arity = command.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            return command, b"ERR Wrong number of args calling Redis command from script"
        return command, None

    def _refusal(self, run: ScriptRun, command: Command, argv: list[bytes]) -> bytes | None:
        if command.denied_in_scripts:
            return b"ERR This Redis command is not allowed from script"
        dispatcher: Dispatcher = self.instance.dispatcher
        caller = run.caller
        if caller is not None and not caller.user.unrestricted:
            # redis.call runs under the caller's ACL user.
            denial = dispatcher.acl_denial(caller, command, argv, "lua")
            if denial is not None:
                return denial.message.encode()
        if run.read_only and (command.is_write or command.may_replicate):
            return b"ERR Write commands are not allowed from read-only scripts."
        if command.is_write and not run.write_dirty:
            disk_error = dispatcher.disk_error()
            if disk_error is not None:
                return disk_error.message.encode()
        if command.denyoom and not run.write_dirty and not run.allow_oom:
            # Memory was over maxmemory when the script started: its first write
            # may not grow it (Redis's scriptVerifyOOM; later ones can't be stopped).
            if dispatcher.maxmemory and dispatcher.pre_command_oom and not self._obeyed(run):
                return OOM_MESSAGE.encode()
        if command.is_write:
            run.write_dirty = True
        return None

    def _obeyed(self, run: ScriptRun) -> bool:
        """Run for the AOF loader, which must apply whatever it replays."""
        caller = run.caller
        return caller is not None and caller.kind == "aof"

    def _execute(self, run: ScriptRun, command: Command, argv: list[bytes]) -> tuple[int, Any]:
        dispatcher: Dispatcher = self.instance.dispatcher
        client = self.client
        writes = dispatcher.pending_writes
        mark = len(writes) if writes is not None else 0
        caller = run.caller
        client.user = caller.user if caller is not None else self.instance.acl.default
        reply = dispatcher.call(client, command, argv)
        if not run.repl_flags & REPL_AOF and writes is not None:
            del writes[mark:]  # redis.set_repl(REPL_NONE/REPL_REPLICA): not in the AOF
        if isinstance(reply, ReplyError):
            return COUNTED_ERROR, error_text(reply.message)
        return OK, run.lua.to_lua.convert(reply, client.resp)

    # -- the rest of the redis table ------------------------------------------------

    # These are C functions in Redis, and Python callables here for the same reason
    # as redis.call: a C function keeps the caller's frame on a tail call, so an
    # argument error still names the script's line.

    def _raise(self, message: bytes) -> LuaRaise:
        """The {err=...} table Redis's luaPushError + lua_error raise."""
        return LuaRaise(message, as_table=True)

    def sha1hex(self, *args: Any) -> bytes:
        """redis.sha1hex(string): numbers hash as Lua writes them, others as ""."""
        if len(args) != 1:
            raise self._raise(b"ERR wrong number of arguments")
        value = args[0]
        if type(value) is not bytes:
            value = (lua_number_text(value).encode() if type(value) in (int, float)
                     else b"")
        return hashlib.sha1(value).hexdigest().encode()

    def set_resp(self, *args: Any) -> None:
        if self.run is None:
            raise self._raise(b"ERR redis.setresp can only be called inside a script invocation")
        if len(args) != 1:
            raise self._raise(b"ERR redis.setresp() requires one argument.")
        version = _c_int(args[0])
        if version not in (2, 3):
            raise self._raise(b"ERR RESP version must be 2 or 3.")
        self.client.resp = version

    def set_repl(self, *args: Any) -> None:
        run = self.run
        if run is None:
            raise self._raise(b"ERR redis.set_repl can only be called inside a script invocation")
        if len(args) != 1:
            raise self._raise(b"ERR redis.set_repl() requires two arguments.")
        flags = _c_int(args[0])
        if flags & ~3:
            raise self._raise(b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, "
                              b"REPL_ALL or REPL_NONE.")
        run.repl_flags = flags

    def log(self, *args: Any) -> None:
        """redis.log(level, message, ...): strings and numbers joined by spaces."""
        if len(args) < 2:
            raise self._raise(b"ERR redis.log() requires two arguments or more.")
        if lua_tonumber(args[0]) is None:
            raise self._raise(b"ERR First argument must be a number (log level).")
        level = _c_int(args[0])
        if not 0 <= level <= 3:
            raise self._raise(b"ERR Invalid debug level.")
        text = b""
        for index, value in enumerate(args[1:], 1):
            if type(value) in (int, float):
                value = lua_number_text(value).encode()
            if type(value) is bytes:
                text += (b" " + value) if index != 1 else value
        log.log(_LOG_LEVELS[level], text.decode("utf-8", "replace"))

    def math_random(self, *args: Any) -> float | int:
        """Redis's math.random: lrand48, the same numbers on every platform."""
        if self.run is None:
            raise LuaRaise(b"math.random can only be called inside a script invocation")
        self.rand48 = (0x5DEECE66D * self.rand48 + 0xB) & 0xFFFFFFFFFFFF
        r = ((self.rand48 >> 17) % 2147483647) / 2147483647
        if not args:
            return r
        if len(args) == 1:
            u = self._check_int(1, args)
            if not 1 <= u:
                raise self._lib_error("interval is empty", 1)
            return math.floor(r * u) + 1
        if len(args) == 2:
            low, u = self._check_int(1, args), self._check_int(2, args)
            if not low <= u:
                raise self._lib_error("interval is empty", 2)
            return math.floor(r * (u - low + 1)) + low
        raise self._lib_error("wrong number of arguments")

    def math_randomseed(self, *args: Any) -> None:
        if self.run is None:
            raise LuaRaise(b"math.randomseed can only be called inside a script invocation")
        seed = self._check_int(1, args) & 0xFFFFFFFF
        self.rand48 = (seed << 16) | 0x330E

    def _check_int(self, index: int, args: tuple[Any, ...]) -> int:
        """luaL_checkint: argument ``index`` (1-based) as a C int, or Lua's error."""
        value = args[index - 1] if index <= len(args) else None
        if lua_tonumber(value) is None:
            got = "no value" if index > len(args) else _lua_type_name(value)
            raise self._lib_error(f"number expected, got {got}", index)
        return _c_int(value)

    def _lib_error(self, message: str, arg: int = 0) -> LuaRaise:
        """luaL_error (``arg`` 0) or luaL_argerror from a C library function: the
        calling line's position first, as Lua writes it."""
        run = self.run
        where, name = run.lua.api.c_error_context() if run is not None else (b"", b"?")
        if arg:
            message = f"bad argument #{arg} to '{name.decode()}' ({message})"
        return LuaRaise(where + message.encode())

    def acl_check(self, *args: Any) -> bool:
        if self.run is None:
            raise self._raise(
                b"ERR redis.acl_check_cmd can only be called inside a script invocation")
        if not args:
            raise self._raise(b"ERR Please specify at least one argument for this redis lib call")
        argv = _to_argv(args)
        if argv is None:
            raise self._raise(b"ERR Lua redis lib command arguments must be strings or integers")
        command, refusal = self._command(argv)
        if refusal is not None or command is None:
            raise self._raise(b"ERR Invalid command passed to redis.acl_check_cmd()")
        caller = self.run.caller
        if caller is None or caller.user.unrestricted:
            return True
        return acl_check(caller.user, command, argv)[0] == ACL_OK

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
            # C's printf writes the sign of a NaN (0/0 is -nan on x86-64); Python's doesn't.
            argv.append(b"%.17g" % arg if arg == arg or math.copysign(1.0, arg) > 0
                        else b"-nan")
        else:
            return None
    return argv


def lua_tonumber(value: Any) -> float | int | None:
    """Lua 5.1's ``lua_tonumber``: numbers, and strings ``strtod`` reads whole
    (surrounding blanks, ``0x`` hex, ``inf``/``nan`` included); None otherwise."""
    if type(value) in (int, float):
        number: float | int = value
        return number
    if type(value) is not bytes:
        return None
    try:
        text = value.decode("ascii").strip(" \t\n\r\f\v")
    except UnicodeDecodeError:
        return None
    if not text or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float.fromhex(text) if "x" in text.lower() else None
    except ValueError:
        return None


def _lua_type_name(value: Any) -> str:
    if value is None:
        return "nil"
    if type(value) is bool:
        return "boolean"
    if type(value) is bytes:
        return "string"
    return lupa.lua_type(value) or "userdata"


def _c_int(value: Any) -> int:
    """``(int)lua_tonumber(v)``: 0 for non-numbers, truncated toward zero; NaN and
    out-of-range values become INT_MIN as on x86-64."""
    number = lua_tonumber(value)
    if number is None:
        return 0
    if (isinstance(number, float) and math.isnan(number)) or abs(number) >= 2**31:
        return -(2**31)
    return int(number)
