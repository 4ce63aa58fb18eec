"""One sandboxed Lua 5.1 interpreter (lupa's ``lua51`` runtime).

Redis keeps two: one for EVAL scripts and one for function libraries, so that
``SCRIPT FLUSH`` and ``FUNCTION FLUSH`` each drop their own. Every Lua string is
``bytes`` on the Python side (``encoding=None``): scripts handle binary data.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import lupa.lua51 as lua51

from taipan.scripting.lua_bootstrap import INTERNAL_CHUNK, LUA_BOOTSTRAP
from taipan.scripting.lua_bytecode import keep_tail_call_frames
from taipan.scripting.lua_replies import FromLua, ToLua
from taipan.scripting.script_errors import LuaRaise, lua_api

if TYPE_CHECKING:
    from taipan.scripting.script_run import ScriptHost

# A script that allocates without bound gets Lua's "not enough memory" error
# instead of taking the server's memory.
LUA_MAX_MEMORY = 1 << 30


def sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


class LuaState:
    def __init__(self, host: ScriptHost, function_mode: bool = False) -> None:
        runtime = lua51.LuaRuntime(unpack_returned_tuples=True, register_eval=False,
                                   register_builtins=False, encoding=None,
                                   max_memory=LUA_MAX_MEMORY)
        self.runtime = runtime
        _install_libraries(runtime)
        load = runtime.eval("function(src, name) local f, e = loadstring(src, name) "
                            "return f or false, e end")
        bootstrap, error = load(LUA_BOOTSTRAP.encode(), INTERNAL_CHUNK.encode())
        if not bootstrap:
            raise RuntimeError(f"Lua bootstrap failed to compile: {error!r}")
        api = bootstrap(host.redis_call, host.redis_pcall, lua_api(host.log),
                        lua_api(host.sha1hex), lua_api(host.set_resp), lua_api(host.set_repl),
                        host.interrupt, lua_api(host.acl_check), host.register_function,
                        _unwrap, function_mode, lua_api(host.math_random),
                        lua_api(host.math_randomseed))
        self.api = api
        self.compile_chunk = api.compile
        self.run_eval = api.run_eval
        self.run_function = api.run_function
        self.run_loader = api.run_loader if function_mode else None
        self.to_lua = ToLua(runtime)
        self.from_lua = FromLua(runtime, api)
        self.is_table = self.from_lua.is_table

    def compile(self, body: bytes, chunkname: bytes) -> Any:
        """The compiled chunk, or raise ``SyntaxError`` with Lua's message."""
        ok, result = self.compile_chunk(body, chunkname)
        if not ok:
            raise SyntaxError(result.decode("utf-8", "surrogateescape")
                              if isinstance(result, bytes) else str(result))
        chunk = self.api.dump(result)
        patched = keep_tail_call_frames(chunk)
        if patched != chunk:
            result = self.api.load_binary(patched) or result
        return result

    def collect_garbage(self) -> None:
        self.api.collect_garbage()

    def memory_used(self) -> int:
        return int(self.runtime.get_memory_used() or 0)

    def is_function(self, value: Any) -> bool:
        return lua51.lua_type(value) == "function"


def _unwrap(value: Any) -> Any:
    """A Lua error raised from Python reaches Lua as the wrapped exception: hand
    back what it carries (message, whether it is an {err=...} table, whether the
    error stats counted it); the Lua side builds the table."""
    if isinstance(value, LuaRaise):
        return value.message, value.as_table, value.counted
    if isinstance(value, lua51.LuaError) and value.args:
        message = value.args[0]
        return message.encode("utf-8", "surrogateescape") if isinstance(message, str) else message
    return value


def _install_libraries(runtime: Any) -> None:
    """cjson, cmsgpack, bit and struct, before the bootstrap makes them read-only."""
    from taipan.scripting import lua_libs

    lua_libs.install(runtime)
