"""Reply value types: the Python classes handlers return for RESP types that plain
values can't express (``taipan/protocol/reply.py`` encodes them).

They subclass builtins (str, bytes, list, dict), so they stay interpreted when
mypyc compiles the encoder (``taipan/hot_path.py``).
"""

from __future__ import annotations


class Status(str):
    """A simple-string reply (``+OK``)."""

    __slots__ = ()


class Verbatim(bytes):
    """Text that RESP3 sends as a verbatim string (``CLIENT LIST``, ``INFO``);
    ``format`` is its three-letter type (``txt``, or what a script chose)."""

    format = b"txt"

    def __new__(cls, value: bytes = b"", fmt: bytes = b"txt") -> Verbatim:
        text = super().__new__(cls, value)
        if fmt != b"txt":
            text.format = fmt
        return text


class BigNumber(bytes):
    """A big number's digits: RESP3 ``(``, a bulk string in RESP2."""

    __slots__ = ()


class MapPairs(list):
    """A map given as (key, value) pairs, for keys Python can't hash (a script's
    tables): RESP3 ``%``, a flat array in RESP2."""


class Push(list):
    """An out-of-band push message (pub/sub, tracking) in RESP3."""


class Attribute(dict):
    """Out-of-band data about the reply that follows it (RESP3 ``|``, a map's
    layout); RESP2 has no such type, so there it is left out."""


class Frames(list):
    """Several replies to one command, sent one after another: SUBSCRIBE a b
    answers one confirmation per channel (inside EXEC they follow one another in
    the EXEC array's place, as Redis sends them)."""


class Raw(bytes):
    """Bytes already encoded for the receiving client (MONITOR's lines)."""

    __slots__ = ()


class DoubleText(bytes):
    """A double whose text the command chose (Redis's addReplyHumanLongDouble for
    geo coordinates): a bulk string in RESP2, a double (``,``) in RESP3."""

    __slots__ = ()


class SetReply(list):
    """A RESP3 set (RESP2 array) sent in the order given: an intset's ascending
    members, COMMAND INFO's flags. Unlike ``set`` it may hold maps and lists."""


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()
OK = Status("OK")
QUEUED = Status("QUEUED")
PONG = Status("PONG")
