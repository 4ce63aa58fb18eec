"""Reply conversion between Taipan's reply values and Lua values, both ways.

Redis converts through RESP: a command's reply is parsed into Lua values by the
protocol the script chose with ``redis.setresp`` (2 by default), and a script's
return value is turned into a reply for the caller. Taipan skips the RESP round
trip and maps reply values directly, following the same table:

- command reply → Lua: bulk → string, integer → number, status → ``{ok=...}``,
  error → ``{err=...}``, RESP2 null → false, RESP3 null → nil, RESP3 map →
  ``{map={...}}``, set → ``{set={member=true}}``, double → ``{double=n}``,
  verbatim → ``{verbatim_string={format=..., string=...}}``, boolean → boolean.
- Lua → caller: string → bulk, number → integer (truncated as C truncates a
  double), boolean → 1/nil under RESP2 scripts and a boolean under RESP3, table →
  error/status/double/big number/verbatim/map/set by its field, else an array up
  to the first nil.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import hiredis

from taipan.errors import ReplyError
from taipan.protocol.reply import (
    NULL_ARRAY,
    BigNumber,
    DoubleText,
    MapPairs,
    Raw,
    SetReply,
    Status,
    Verbatim,
    format_double,
)
from taipan.scripting.script_errors import ScriptError

_INT64_MIN: Final = -(1 << 63)
# How deep a script's reply may nest before it is cut with an error (Redis stops at
# its Lua stack limit; Python's recursion limit comes first).
MAX_REPLY_DEPTH: Final = 400
_INT64_LIMIT: Final = 1 << 63


def decode_raw(value: Raw) -> Any:
    """The values behind an already-encoded reply (arrays of bulk strings)."""
    reader = hiredis.Reader()
    reader.feed(bytes(value))
    return reader.gets()


def error_text(message: str) -> bytes:
    """An error reply's text as Lua sees it: "CODE message", trailing CR/LF trimmed.

    Redis derives the code from the text after ``-``; a text with no space gets
    the generic ``ERR`` code.
    """
    if " " not in message:
        message = "ERR " + message
    return message.rstrip("\r\n").encode("utf-8", "surrogateescape")


class ToLua:
    """Turns command replies into Lua values for one Lua runtime."""

    def __init__(self, runtime: Any) -> None:
        self.table_from = runtime.table_from

    def convert(self, value: Any, resp: int) -> Any:
        kind = type(value)
        if kind is bytes or kind is int:
            return value
        if value is None or value is NULL_ARRAY:
            return None if resp == 3 else False
        if kind is list or kind is tuple:
            convert = self.convert
            return self.table_from([v if type(v) is bytes else convert(v, resp) for v in value])
        if kind is Status:
            return self.table_from({b"ok": value.encode()})
        if kind is bool:
            return value if resp == 3 else int(value)
        if kind is Raw:  # a reply encoded in advance (XRANGE): back to values
            return self.convert(decode_raw(value), resp)
        if isinstance(value, bytes):
            return self._text(value, resp)
        if kind is float:
            return self.table_from({b"double": value}) if resp == 3 else format_double(value)
        if isinstance(value, dict):
            return self._map(list(value.items()), resp)
        if kind is MapPairs:
            return self._map(value, resp)
        if isinstance(value, (set, frozenset, SetReply)):
            if resp == 3:
                return self.table_from({b"set": self.table_from(
                    {self.convert(member, resp): True for member in value})})
            return self.table_from([self.convert(member, resp) for member in value])
        if isinstance(value, list):  # Push and other list flavours: arrays
            return self.table_from([self.convert(v, resp) for v in value])
        raise TypeError(f"cannot hand a {kind.__name__} reply to Lua")

    def _text(self, value: bytes, resp: int) -> Any:
        if resp == 2:
            return bytes(value)
        if type(value) is DoubleText:
            return self.table_from({b"double": float(value)})
        if isinstance(value, Verbatim):
            return self.table_from({b"verbatim_string": self.table_from(
                {b"format": value.format, b"string": bytes(value)})})
        if type(value) is BigNumber:
            return self.table_from({b"big_number": bytes(value)})
        return bytes(value)

    def _map(self, pairs: list[tuple[Any, Any]], resp: int) -> Any:
        convert = self.convert
        if resp == 3:
            return self.table_from({b"map": self.table_from(
                {convert(k, resp): convert(v, resp) for k, v in pairs})})
        flat: list[Any] = []
        for key, item in pairs:
            flat.append(convert(key, resp))
            flat.append(convert(item, resp))
        return self.table_from(flat)


def lua_number_to_int(value: int | float) -> int:
    """``(long long)`` of a Lua number, as C does it on x86-64 (out of range and NaN
    become INT64_MIN)."""
    if type(value) is int:
        return value if _INT64_MIN <= value < _INT64_LIMIT else _INT64_MIN
    if math.isnan(value) or not (_INT64_MIN <= value < _INT64_LIMIT):
        return _INT64_MIN
    return int(value)


def _status(text: bytes) -> Status:
    # Redis copies it as a C string: it ends at a NUL.
    return Status(text.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                  .replace("\r", " ").replace("\n", " "))


# The kinds of reply table ``api.reply_shape`` tells apart (lua_bootstrap.py).
_ARRAY: Final = 0
_ERROR: Final = 1
_STATUS: Final = 2
_DOUBLE: Final = 3
_BIG_NUMBER: Final = 4
_VERBATIM: Final = 5
_MAP: Final = 6
_SET: Final = 7
_SLICE: Final = 1000  # items per crossing for long lists (api.SHAPE_MAX_ITEMS)


class FromLua:
    """Turns a script's return value into the caller's reply."""

    def __init__(self, runtime: Any, api: Any) -> None:
        # Lua tables arrive as instances of one lupa class: a type test is far
        # cheaper than asking Lua.
        self.table_type = type(runtime.table())
        self.reply_shape = api.reply_shape
        self.slice = api.slice
        self.double_text = api.double_text
        # The error replies the last conversion made, nested ones included: Redis
        # counts each in the error stats as it writes it.
        self.errors: list[ReplyError] = []

    def is_table(self, value: Any) -> bool:
        return type(value) is self.table_type

    def convert(self, value: Any, script_resp: int, depth: int = 0) -> Any:
        kind = type(value)
        if kind is bytes:
            return value
        if kind is int or kind is float:
            return lua_number_to_int(value)
        if kind is bool:
            if script_resp == 2:
                return 1 if value else None
            return value
        if type(value) is not self.table_type:
            return None  # functions, userdata, coroutines: a null, as in Redis
        if depth >= MAX_REPLY_DEPTH:
            # A self-referencing or absurdly deep table: Redis runs out of Lua stack.
            error = ReplyError("ERR reached lua stack limit")
            self.errors.append(error)
            return error
        return self._table(value, script_resp, depth + 1)

    def convert_shaped(self, table: Any, shape: tuple[Any, ...], script_resp: int) -> Any:
        """A script's returned table, with the shape its runner read (lua_bootstrap)."""
        return self._table(table, script_resp, 1, shape)

    def _table(self, table: Any, script_resp: int, depth: int,
               shape: tuple[Any, ...] | None = None) -> Any:
        # The Lua side reads the fields Redis tests, raw and in Redis's order, in one
        # crossing (reading them one by one took a crossing each: 2.5 us for a
        # 3-item array); short arrays come back with their items.
        if shape is None:
            shape = self.reply_shape(table)
        kind = shape[0]
        convert = self.convert
        # Plain loops, not generator expressions: a generator is one more Python
        # frame per nesting level, and deep replies must stay within the recursion
        # limit until MAX_REPLY_DEPTH cuts them.
        if kind == _ARRAY:
            items: list[Any] = []
            for item in self._items(shape):
                items.append(item if type(item) is bytes else convert(item, script_resp, depth))
            return items
        if kind == _STATUS:
            return _status(shape[1])
        if kind == _ERROR:
            error = script_error(table)
            self.errors.append(error)
            return error
        if kind == _DOUBLE:
            double = shape[1]
            if double == 0 or double != double:
                # -0 and a NaN's sign are lost on the way to Python (lupa hands
                # integral numbers over as int): let C's printf in Lua spell them.
                return DoubleText(self.double_text(table))
            return float(double)
        if kind == _BIG_NUMBER:
            return BigNumber(shape[1].replace(b"\r", b" ").replace(b"\n", b" "))
        if kind == _VERBATIM:
            # addReplyVerbatim sends three format bytes: cut or padded with spaces.
            return Verbatim(shape[2], (shape[1].split(b"\0", 1)[0] + b"   ")[:3])
        flat = self._items(shape)  # (keys and values, or members, in Lua's order)
        if kind == _MAP:
            pairs = MapPairs()
            for index in range(0, len(flat), 2):
                pairs.append((convert(flat[index], script_resp, depth),
                              convert(flat[index + 1], script_resp, depth)))
            return pairs
        reply = SetReply()
        for member in flat:
            reply.append(convert(member, script_resp, depth))
        return reply

    def _items(self, shape: tuple[Any, ...]) -> Sequence[Any]:
        """The items ``reply_shape`` counted (``shape[1]``): the ones it returned, or
        for a long list (``shape[2]``), fetched a slice per crossing."""
        count = shape[1]
        if len(shape) == count + 2:
            return shape[2:]
        table = shape[2]
        items: list[Any] = []
        for first in range(1, count + 1, _SLICE):
            last = min(count, first + _SLICE - 1)
            part = self.slice(table, first, last)
            if last == first:
                items.append(part)  # (a single value comes back as itself)
            else:
                items.extend(part)
        return items


def script_error(table: Any, where: str = "") -> ScriptError:
    """The reply for an error table (``{err=..., source=..., line=...}``).

    ``where`` names the script ("script: <sha>" or the function) when the error
    ended the script; a returned ``{err=...}`` table is replied as it is.
    """
    message = lua_number_text(table[b"err"]).split("\0", 1)[0]  # a C string in Redis
    source, line = table[b"source"], table[b"line"]
    if where and type(source) is bytes and line is not None:
        line_text = lua_number_text(line)
        message += f" script: {where}, on {source.decode('utf-8', 'replace')}:{line_text}."
    elif not where:
        # A returned error table is sent with addReplyErrorFormat("-%s"): trailing
        # CR/LF trimmed. A leading "-" stays: Redis then sends "--...".
        message = message.rstrip("\r\n")
    return ScriptError(message, table[b"ignore_error_stats_update"] is True)


def lua_number_text(value: Any) -> str:
    """How Lua's tostring writes a number (``%.14g``)."""
    if type(value) is bytes:
        return value.decode("utf-8", "surrogateescape")
    if type(value) is int and abs(value) < 10**14:
        return str(value)
    return f"{value:.14g}"
