"""The exceptions scripts raise and reply with, kept apart from the scripting
modules the compiled build compiles: each subclasses a class mypyc can't extend
(lupa's ``LuaError``, the interpreted ``ReplyError``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lupa.lua51 import LuaError

from taipan.errors import ReplyError


class LuaRaise(LuaError):
    """An error a redis.* function (or math.random) raises into Lua: a message,
    raised as an ``{err=...}`` table (``as_table``, built on the Lua side) or as a
    plain string, as Redis's C functions raise them.

    Only Python values travel in it, and no traceback frame may hold the call's
    Lua arguments: lupa keeps the last exception a callback raised, and a Lua
    object made inside a coroutine belongs to that coroutine's lua_State, which
    is freed with it. Dropping such an object later reads freed memory.
    """

    def __init__(self, message: bytes, as_table: bool = False, counted: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.as_table = as_table
        self.counted = counted  # the failed command was counted in the error stats


def lua_api(method: Callable[..., Any]) -> Callable[..., Any]:
    """A redis.* function (a bound method) as Lua calls it: its LuaRaise reaches lupa
    without the frames that hold the (Lua) arguments."""

    @functools.wraps(method)
    def call(*args: Any) -> Any:
        try:
            return method(*args)
        except LuaRaise as error:
            failure = error
        del args
        failure.__traceback__ = None
        raise failure

    return call


class ScriptError(ReplyError):
    """An error a script raised or returned. ``already_counted``: the failing
    ``redis.call`` was counted in the error stats already, so the caller's reply
    isn't counted again (Redis's ignore_error_stats_update)."""

    def __init__(self, message: str, already_counted: bool = False) -> None:
        super().__init__(message)
        self.already_counted = already_counted
