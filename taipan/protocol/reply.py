"""Reply values and their RESP2/RESP3 encoding.

Handlers return plain Python values; ``encode`` turns them into bytes for the
client's protocol version:

=================  ===========================  =========================
value              RESP2                        RESP3
=================  ===========================  =========================
``bytes``          bulk string                  bulk string
``int``            integer                      integer
``None``           null bulk ``$-1``            null ``_``
``list``/tuple     array                        array
``Status``         simple string ``+``          simple string
``ReplyError``     error ``-``                  error
``float``          bulk string (Redis format)   double ``,``
``dict``           flat array                   map ``%``
``set``/frozenset  array                        set ``~``
``SetReply``       array                        set ``~`` (ordered)
``DoubleText``     bulk string                  double ``,`` (given text)
``NULL_ARRAY``     null array ``*-1``           null ``_``
``Verbatim``       bulk string                  verbatim ``=txt:``
``BigNumber``      bulk string                  big number ``(``
``MapPairs``       flat array                   map ``%`` (from pairs)
``Push``           array                        push ``>``
``Attribute``      nothing                      attribute ``|`` (a map)
``bool``           integer 0/1                  boolean ``#``
``Frames``         its items, one after another (no header)
``Raw``            the bytes as given (already encoded for this client)
=================  ===========================  =========================
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Final

from taipan.errors import ReplyError
from taipan.protocol import reply_types
from taipan.protocol.reply_types import (  # re-exported: see __all__
    Attribute,
    BigNumber,
    DoubleText,
    Frames,
    MapPairs,
    Push,
    Raw,
    SetReply,
    Status,
    Verbatim,
    _NullArray,
)

# The constant replies, re-exported as Final names: compiled, a Final module name is
# a C static that other compiled modules read directly; any other module-level name
# (an imported one too) is a lookup in the module's dict on every use.
NULL_ARRAY: Final = reply_types.NULL_ARRAY
OK: Final = reply_types.OK
PONG: Final = reply_types.PONG
QUEUED: Final = reply_types.QUEUED

# What other modules import from here: the reply types (defined in reply_types.py,
# re-exported so handlers need one import) and the encoder's entry points.
__all__ = [
    "NULL_ARRAY",
    "OK",
    "PONG",
    "QUEUED",
    "Attribute",
    "BigNumber",
    "DoubleText",
    "Frames",
    "MapPairs",
    "Push",
    "Raw",
    "SetReply",
    "Status",
    "Verbatim",
    "encode",
    "encode_into",
    "format_double",
]

# An encoder appends one value's encoding to ``out`` for protocol ``resp``.
_Encoder = Callable[[Any, list[bytes], int], None]

_CRLF: Final = b"\r\n"
_OK_BYTES: Final = b"+OK\r\n"
_PONG_BYTES: Final = b"+PONG\r\n"
_QUEUED_BYTES: Final = b"+QUEUED\r\n"
# Small integers are common replies (counts, flags): encode them once.
_SMALL_INTS: Final = [b":%d\r\n" % i for i in range(-1, 1025)]


def format_double(value: float) -> bytes:
    """Redis 7.0's ``addReplyDouble`` text: ``%.17g`` (so ``0.1`` is
    ``0.10000000000000001``, ``-0.0`` is ``-0``, ``1e17`` is ``1e+17``), and
    ``inf``/``-inf``/``nan``, which Python's ``%g`` spells as C does."""
    return b"%.17g" % value


# The "$<len>\r\n" header of each short bulk string, made once: a list lookup and
# three appends beat formatting one "$%d\r\n%s\r\n" per element (by 1.5x in pure
# Python, 3x compiled), and b"".join copies each payload once either way.
_BULK_HEADERS: Final = [b"$%d\r\n" % size for size in range(1024)]


def _encode_bulk(value: bytes | bytearray, out: list[bytes], resp: int) -> None:
    size = len(value)
    out.append(_BULK_HEADERS[size] if size < 1024 else b"$%d\r\n" % size)
    # A bytearray (a string modified in place) is copied: the output is joined only
    # after the batch, and a later command of it may change the value.
    out.append(value if type(value) is bytes else bytes(value))
    out.append(_CRLF)


def _encode_int(value: int, out: list[bytes], resp: int) -> None:
    if -1 <= value <= 1024:
        out.append(_SMALL_INTS[value + 1])
    else:
        out.append(b":%d\r\n" % value)


def _encode_bool(value: bool, out: list[bytes], resp: int) -> None:
    if resp == 3:
        out.append(b"#t\r\n" if value else b"#f\r\n")
    else:
        out.append(b":1\r\n" if value else b":0\r\n")


def _encode_none(value: None, out: list[bytes], resp: int) -> None:
    out.append(b"_\r\n" if resp == 3 else b"$-1\r\n")


def _encode_null_array(value: Any, out: list[bytes], resp: int) -> None:
    out.append(b"_\r\n" if resp == 3 else b"*-1\r\n")


def _encode_status(value: Status, out: list[bytes], resp: int) -> None:
    if value is PONG:  # (OK never gets here: encode_into answers it first)
        out.append(_PONG_BYTES)
    elif value is QUEUED:
        out.append(_QUEUED_BYTES)
    else:
        # A script's {ok=...} may carry any bytes (decoded with surrogateescape).
        out.append(b"+" + value.encode("utf-8", "surrogateescape") + _CRLF)


def _encode_error(value: ReplyError, out: list[bytes], resp: int) -> None:
    message = value.message
    if "\r" in message or "\n" in message:
        # As Redis's addReplyErrorFormat: a CR/LF would end the reply early.
        message = message.replace("\r", " ").replace("\n", " ")
    try:
        # Raw client bytes echoed in an error were decoded with surrogateescape
        # (see errors.c_string): send them back unchanged, as Redis does.
        data = message.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = message.encode("utf-8", "replace")
    out.append(b"-" + data + _CRLF)


def _encode_double(value: float, out: list[bytes], resp: int) -> None:
    text = format_double(value)
    if resp == 3:
        out.append(b"," + text + _CRLF)
    else:
        _encode_bulk(text, out, resp)


def _encode_array(value: list[Any] | tuple[Any, ...], out: list[bytes], resp: int) -> None:
    out.append(b"*%d\r\n" % len(value))
    encoders, headers, crlf = _ENCODERS, _BULK_HEADERS, _CRLF
    for item in value:
        if type(item) is bytes:  # LRANGE, MGET, KEYS ...: skip the table lookup
            size = len(item)
            out.append(headers[size] if size < 1024 else b"$%d\r\n" % size)
            out.append(item)
            out.append(crlf)
        else:
            encoders[type(item)](item, out, resp)


def _encode_push(value: Push, out: list[bytes], resp: int) -> None:
    out.append((b">%d\r\n" if resp == 3 else b"*%d\r\n") % len(value))
    for item in value:
        _ENCODERS[type(item)](item, out, resp)


def _encode_attribute(value: Attribute, out: list[bytes], resp: int) -> None:
    if resp != 3:
        return
    out.append(b"|%d\r\n" % len(value))
    for key, item in value.items():
        _ENCODERS[type(key)](key, out, resp)
        _ENCODERS[type(item)](item, out, resp)


def _encode_frames(value: Frames, out: list[bytes], resp: int) -> None:
    for item in value:
        _ENCODERS[type(item)](item, out, resp)


def _encode_raw(value: Raw, out: list[bytes], resp: int) -> None:
    out.append(bytes(value))


def _encode_map(value: dict[Any, Any], out: list[bytes], resp: int) -> None:
    if resp == 3:
        out.append(b"%%%d\r\n" % len(value))
    else:
        out.append(b"*%d\r\n" % (len(value) * 2))
    for key, item in value.items():
        _ENCODERS[type(key)](key, out, resp)
        _ENCODERS[type(item)](item, out, resp)


def _encode_set(value: Collection[Any], out: list[bytes], resp: int) -> None:
    # (a set, a frozenset or a SetReply, which is a list: compiled, the annotation is
    # checked at run time, so it names what all three are)
    out.append((b"~%d\r\n" if resp == 3 else b"*%d\r\n") % len(value))
    for item in value:
        _ENCODERS[type(item)](item, out, resp)


def _encode_double_text(value: DoubleText, out: list[bytes], resp: int) -> None:
    if resp == 3:
        out.append(b"," + value + _CRLF)
    else:
        _encode_bulk(value, out, resp)


def _encode_verbatim(value: Verbatim, out: list[bytes], resp: int) -> None:
    if resp == 3:
        out.append(b"=%d\r\n%s:" % (len(value) + 4, value.format))
        out.append(bytes(value))
        out.append(_CRLF)
    else:
        _encode_bulk(bytes(value), out, resp)


def _encode_big_number(value: BigNumber, out: list[bytes], resp: int) -> None:
    if resp == 3:
        out.append(b"(" + value + _CRLF)
    else:
        _encode_bulk(bytes(value), out, resp)


def _encode_map_pairs(value: MapPairs, out: list[bytes], resp: int) -> None:
    out.append((b"%%%d\r\n" if resp == 3 else b"*%d\r\n") % (len(value) * (1 if resp == 3 else 2)))
    for key, item in value:
        _ENCODERS[type(key)](key, out, resp)
        _ENCODERS[type(item)](item, out, resp)


class _EncoderTable(dict[type, _Encoder]):
    """Falls back to ``isinstance`` for subclasses (each ``ReplyError`` kind)."""

    def __missing__(self, kind: type) -> _Encoder:
        # The nearest registered ancestor wins: a Verbatim subclass is verbatim,
        # not merely bytes.
        encoder: _Encoder
        for base in kind.__mro__:
            if base is ReplyError:
                encoder = _encode_error
                break
            if base in self:
                encoder = self[base]
                break
        else:
            raise TypeError(f"cannot encode reply of type {kind.__name__}")
        self[kind] = encoder
        return encoder


_ENCODERS: Final = _EncoderTable({
    bytes: _encode_bulk,
    bytearray: _encode_bulk,
    int: _encode_int,
    bool: _encode_bool,
    type(None): _encode_none,
    _NullArray: _encode_null_array,
    Status: _encode_status,
    float: _encode_double,
    list: _encode_array,
    tuple: _encode_array,
    Push: _encode_push,
    Attribute: _encode_attribute,
    Frames: _encode_frames,
    Raw: _encode_raw,
    SetReply: _encode_set,
    DoubleText: _encode_double_text,
    dict: _encode_map,
    set: _encode_set,
    frozenset: _encode_set,
    Verbatim: _encode_verbatim,
    BigNumber: _encode_big_number,
    MapPairs: _encode_map_pairs,
})


def encode_into(value: Any, out: list[bytes], resp: int = 2) -> None:
    """Append the encoding of ``value`` to ``out`` (cheap for pipelined batches)."""
    if value is OK:
        out.append(_OK_BYTES)
        return
    # The commonest replies call their encoder directly: compiled, that is a C call,
    # where the table's is a generic call through a Python function object.
    kind = type(value)
    if kind is int:
        _encode_int(value, out, resp)
    elif kind is bytes:
        _encode_bulk(value, out, resp)
    elif value is None:
        _encode_none(value, out, resp)
    else:
        _ENCODERS[kind](value, out, resp)


def encode(value: Any, resp: int = 2) -> bytes:
    """The full RESP encoding of one reply."""
    out: list[bytes] = []
    encode_into(value, out, resp)
    return b"".join(out)
