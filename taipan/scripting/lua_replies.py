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


class FromLua:
    """Turns a script's return value into the caller's reply."""

    def __init__(self, runtime: Any, api: Any) -> None:
        # Lua tables arrive as instances of one lupa class: a type test is far
        # cheaper than asking Lua.
        self.table_type = type(runtime.table())
        self.table_keys = api.table_keys
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

    def _table(self, table: Any, script_resp: int, depth: int) -> Any:
        err = table[b"err"]
        if type(err) is bytes:
            error = script_error(table)
            self.errors.append(error)
            return error
        ok = table[b"ok"]
        if type(ok) is bytes:
            # Redis copies it as a C string: it ends at a NUL.
            return Status(ok.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                          .replace("\r", " ").replace("\n", " "))
        double = table[b"double"]
        if type(double) in (int, float):
            if double == 0 or double != double:
                # -0 and a NaN's sign are lost on the way to Python (lupa hands
                # integral numbers over as int): let C's printf in Lua spell them.
                return DoubleText(self.double_text(table))
            return float(double)
        big = table[b"big_number"]
        if type(big) is bytes:
            return BigNumber(big.replace(b"\r", b" ").replace(b"\n", b" "))
        verbatim = table[b"verbatim_string"]
        if self.is_table(verbatim):
            fmt, text = verbatim[b"format"], verbatim[b"string"]
            if type(fmt) is bytes and type(text) is bytes:
                # addReplyVerbatim sends three format bytes: cut or padded with spaces.
                return Verbatim(text, (fmt.split(b"\0", 1)[0] + b"   ")[:3])
        convert = self.convert
        # Plain loops, not generator expressions: a generator is one more Python
        # frame per nesting level, and deep replies must stay within the recursion
        # limit until MAX_REPLY_DEPTH cuts them.
        mapping = table[b"map"]
        if self.is_table(mapping):
            pairs = MapPairs()
            for k in self.table_keys(mapping).values():
                pairs.append((convert(k, script_resp, depth),
                              convert(mapping[k], script_resp, depth)))
            return pairs
        members = table[b"set"]
        if self.is_table(members):
            reply = SetReply()
            for k in self.table_keys(members).values():
                reply.append(convert(k, script_resp, depth))
            return reply
        items: list[Any] = []
        index = 1
        while True:
            item = table[index]
            if item is None:
                return items
            items.append(item if type(item) is bytes else convert(item, script_resp, depth))
            index += 1


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
