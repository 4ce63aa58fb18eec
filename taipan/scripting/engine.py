"""Running scripts: the EVAL script cache, EVAL/EVALSHA, FCALL, SCRIPT KILL.

``Scripting`` is what the command handlers talk to. It owns the Lua state for
EVAL scripts, the function libraries (with their own Lua state) and the one
``ScriptHost`` both call back into. Only Lua exists today; a later engine (Python
callables as server-side commands) would sit beside ``LuaState`` and be chosen by
the library's engine name, as Redis's FUNCTION engines are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import to_int
from taipan.errors import OOM_MESSAGE, ReplyError, err
from taipan.keyspace.database import now_ms
from taipan.scripting.functions import FunctionLibraries
from taipan.scripting.lua_replies import script_error
from taipan.scripting.lua_state import LuaState, sha1hex
from taipan.scripting.script_errors import ScriptError
from taipan.scripting.script_flags import ScriptFlags, parse_shebang
from taipan.scripting.script_run import ScriptHost, ScriptRun

if TYPE_CHECKING:
    from taipan.dispatch import Dispatcher
    from taipan.instance import Instance
    from taipan.net.client import Client

NOSCRIPT: Final = ReplyError("NOSCRIPT No matching script. Please use EVAL.")
NOTBUSY: Final = ReplyError("NOTBUSY No scripts in execution right now.")
UNKILLABLE: Final = ReplyError(
    "UNKILLABLE Sorry the script already executed write commands against the dataset. "
    "You can either wait the script termination or kill the server in a hard way using "
    "the SHUTDOWN NOSAVE command.")
BUSY_EVAL: Final = ReplyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                       "SHUTDOWN NOSAVE.")
BUSY_FUNCTION: Final = ReplyError("BUSY Redis is busy running a script. You can only call FUNCTION "
                           "KILL or SHUTDOWN NOSAVE.")


class EvalScript:
    """A cached EVAL script: its body (for propagation and SCRIPT memory figures),
    its shebang flags and the compiled Lua function."""

    __slots__ = ("body", "flags", "function")

    def __init__(self, body: bytes, flags: ScriptFlags, function: Any) -> None:
        self.body = body
        self.flags = flags
        self.function = function


class Scripting:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.host = ScriptHost(instance)
        self._eval_lua: LuaState | None = None
        self.scripts: dict[bytes, EvalScript] = {}
        self.scripts_memory = 0  # bytes of cached bodies, INFO used_memory_scripts_eval
        self.functions = FunctionLibraries(self)

    @property
    def eval_lua(self) -> LuaState:
        # Built on first use: a server that never runs a script pays nothing.
        if self._eval_lua is None:
            self._eval_lua = LuaState(self.host)
        return self._eval_lua

    @property
    def running(self) -> ScriptRun | None:
        return self.host.run

    # -- the EVAL script cache ----------------------------------------------------

    def load_script(self, body: bytes) -> tuple[bytes, EvalScript]:
        """SCRIPT LOAD / EVAL: compile ``body`` once; its sha1 names it."""
        sha = sha1hex(body)
        script = self.scripts.get(sha)
        if script is not None:
            return sha, script
        flags, shebang_length = parse_shebang(body)
        try:
            function = self.eval_lua.compile(body[shebang_length:], b"@user_script")
        except SyntaxError as error:
            raise err(f"Error compiling script (new function): {error}") from None
        script = EvalScript(body, flags, function)
        self.scripts[sha] = script
        self.scripts_memory += len(body) + 40
        return sha, script

    def flush_scripts(self) -> None:
        """SCRIPT FLUSH: a fresh Lua state, as Redis resets its interpreter."""
        self.scripts.clear()
        self.scripts_memory = 0
        self._eval_lua = None

    # -- EVAL / EVALSHA / FCALL ---------------------------------------------------

    def eval(self, caller: Client, argv: list[bytes], by_sha: bool, read_only: bool) -> Any:
        """EVAL[SHA][_RO] script numkeys [key ...] [arg ...]"""
        if by_sha and len(argv[1]) != 40:
            raise NOSCRIPT  # evalShaCommand answers before looking at numkeys
        numkeys = numkeys_of(argv)
        if by_sha:
            script = self.scripts.get(sha := argv[1].lower())
            if script is None:
                raise NOSCRIPT
        else:
            sha, script = self.load_script(argv[1])
        lua = self.eval_lua
        run = ScriptRun(caller, sha.decode(), lua, read_only=read_only, caller_argv=argv)
        if not script.flags.compat:
            self._check_flags(script.flags, read_only, run)
        return self._run(run, lua.run_eval, script.function, numkeys, argv)

    def fcall(self, caller: Client, argv: list[bytes], read_only: bool) -> Any:
        """FCALL[_RO] function numkeys [key ...] [arg ...]"""
        function = self.functions.lookup(argv[1])
        try:
            numkeys = numkeys_of(argv)
        except ReplyError as error:
            if error.message.startswith("ERR value is not an integer"):
                raise err("Bad number of keys provided") from None
            raise
        lua = self.functions.lua
        run = ScriptRun(caller, function.name, lua, is_eval=False, read_only=read_only,
                        caller_argv=argv)
        self._check_flags(function.flags, read_only, run)
        return self._run(run, lua.run_function, function.callback, numkeys, argv)

    def _check_flags(self, flags: ScriptFlags, read_only: bool, run: ScriptRun) -> None:
        """What Redis checks before a script with declared flags starts."""
        if flags.compat:
            return
        run.allow_oom = flags.allow_oom or flags.no_writes
        if not run.allow_oom:
            # Declared flags make the script denyoom (Redis's scriptFlagsToCmdFlags),
            # refused as such when memory is over the limit.
            dispatcher = self.instance.dispatcher
            if dispatcher.maxmemory and dispatcher.pre_command_oom:
                raise ReplyError(OOM_MESSAGE)
        if not flags.no_writes:
            disk_error = self.instance.dispatcher.disk_error()
            if disk_error is not None:
                raise ReplyError(_misconf_for_scripts(disk_error.message))
            if read_only:
                raise err("Can not execute a script with write flag using *_ro command.")
        else:
            run.read_only = True

    def _run(self, run: ScriptRun, runner: Any, function: Any, numkeys: int,
             argv: list[bytes]) -> Any:
        """Run a script's function with its keys and arguments; its reply."""
        host = self.host
        if host.run is not None:  # a script can't start another (EVAL is noscript)
            raise err("Script already running")
        client = host.client
        caller = run.caller
        client.db = caller.db if caller is not None else self.instance.databases[0]
        client.resp = 2  # scripts start in RESP2; redis.setresp changes it
        hooked = self.instance.config.busy_reply_threshold > 0
        dispatcher: Dispatcher = self.instance.dispatcher
        host.run = run
        outermost = dispatcher.begin_atomic()
        keyspace_stats = self.instance.keyspace_stats
        keyspace_stats.script_time_ms = now_ms()  # no key expires midway through the script
        try:
            # (ok, result), and for a returned table its reply shape after them
            returned = runner(function, hooked, numkeys, *argv[3:])
        finally:
            host.run = None
            keyspace_stats.script_time_ms = None
            dispatcher.end_atomic(outermost)
            if run.timed_out:
                self.instance.set_busy_script(None)
        lua = run.lua
        result = returned[1]
        if returned[0]:
            from_lua = lua.from_lua
            from_lua.errors.clear()
            if len(returned) > 2:
                reply = from_lua.convert_shaped(result, returned[2:], client.resp)
            else:
                reply = from_lua.convert(result, client.resp)
            if isinstance(reply, ReplyError):
                raise reply  # a returned {err=...}: an error reply, counted as one
            for error in from_lua.errors:  # error replies inside the reply
                dispatcher.count_reply_error(error)
            return reply
        if lua.is_table(result) and type(result[b"err"]) in (bytes, int, float):
            # luaExtractErrorInformation takes any lua_isstring err (numbers too)
            raise script_error(result, run.name)
        if result == b"not enough memory":
            # The script hit the Lua memory cap (Redis has none): collect what it
            # left behind now, or the next script would start out of memory.
            lua.collect_garbage()
        text = result.decode("utf-8", "replace") if isinstance(result, bytes) else str(result)
        raise ScriptError(f"ERR Error running script {run.name}, {text[:100]}")

    # -- SCRIPT KILL / FUNCTION KILL ------------------------------------------------

    def kill(self, from_eval: bool) -> None:
        run = self.host.run
        if run is None or run.loading is not None:
            raise NOTBUSY
        if run.write_dirty:
            raise UNKILLABLE
        if from_eval and not run.is_eval:
            raise BUSY_FUNCTION
        if not from_eval and run.is_eval:
            raise BUSY_EVAL
        run.killed = True

    def memory_used(self) -> int:
        return self._eval_lua.memory_used() if self._eval_lua is not None else 0


def numkeys_of(argv: list[bytes]) -> int:
    """The numkeys argument of EVAL/FCALL, checked as Redis checks it."""
    numkeys = to_int(argv[2])
    if numkeys > len(argv) - 3:
        raise err("Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise err("Number of keys can't be negative")
    return numkeys


def _misconf_for_scripts(message: str) -> str:
    if message.startswith("MISCONF Errors writing to the AOF file: "):
        reason = message.split(": ", 1)[1]
        return ("MISCONF Redis is configured to persist data to AOF, but it's currently "
                "unable to persist to disk. Writable scripts are blocked. Use 'no-writes' "
                f"flag for read only scripts. AOF error: {reason}")
    return ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
            "to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for "
            "read only scripts.")

