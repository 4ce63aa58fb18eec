"""Tail calls in compiled scripts become plain calls, so errors keep the script's frame."""

from __future__ import annotations

import lupa.lua51 as lua51
import pytest

from taipan.scripting.lua_bytecode import keep_tail_call_frames


@pytest.fixture
def lua() -> lua51.LuaRuntime:
    return lua51.LuaRuntime(encoding=None)


def _frames_at_error(lua: lua51.LuaRuntime, body: bytes, patch: bool) -> bytes:
    fn = lua.eval("loadstring")(body, b"@user_script")
    if patch:
        fn = lua.eval("loadstring")(keep_tail_call_frames(lua.eval("string.dump")(fn)))
    run = lua.eval("""function(fn) return select(2, xpcall(fn, function()
        local seen = {}
        for level = 2, 10 do
          local info = debug.getinfo(level, "S")
          if not info then break end
          seen[#seen + 1] = info.what .. ":" .. info.source
        end
        return table.concat(seen, " ")
      end)) end""")
    return run(fn)


def test_tail_called_function_keeps_the_callers_frame(lua: lua51.LuaRuntime) -> None:
    body = b"local function lib() error('x') end return lib()"
    assert b"tail" in _frames_at_error(lua, body, patch=False)
    frames = _frames_at_error(lua, body, patch=True)
    assert b"tail" not in frames
    assert frames.count(b"@user_script") == 2  # lib and the main chunk


def test_patched_code_returns_the_same_values(lua: lua51.LuaRuntime) -> None:
    body = (b"local function many() return 1, 2, 3 end "
            b"local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end "
            b"local function pick(...) return select('#', ...), ... end "
            b"return {fact(10), pick(many())}")
    fn = lua.eval("loadstring")(body, b"@user_script")
    patched = lua.eval("loadstring")(keep_tail_call_frames(lua.eval("string.dump")(fn)))
    assert list(fn().values()) == list(patched().values()) == [3628800, 3, 1, 2, 3]


def test_nested_functions_and_constants_are_walked(lua: lua51.LuaRuntime) -> None:
    body = (b"local s, f, t, n = 'str', 1.5, true, nil "
            b"local function outer() local function inner() return tostring(s) end "
            b"return inner() end return outer()")
    dump = lua.eval("string.dump")(lua.eval("loadstring")(body, b"@user_script"))
    patched = keep_tail_call_frames(dump)
    assert len(patched) == len(dump) and patched != dump
    assert lua.eval("loadstring")(patched)() == b"str"


def test_unknown_layout_is_left_alone() -> None:
    assert keep_tail_call_frames(b"not a chunk") == b"not a chunk"
