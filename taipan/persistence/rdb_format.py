"""RDB building blocks: type and opcode numbers, lengths, strings (integer and LZF
encodings), doubles. The packed blobs (listpack, intset, ...) are in ``rdb_packed``;
the CRC64 and LZF codecs in ``crc64`` and ``lzf``.

Everything reads from an ``RdbReader`` over bytes and writes into a ``bytearray``.
Any malformed input raises ``RdbError``: callers (RESTORE, the RDB loader) turn it
into one error reply or one load failure, never a crash. Written from the format as
Redis 7.0 documents and produces it (RDB version 10).
"""

from __future__ import annotations

import re
import struct
from typing import Final

from taipan.persistence.crc64 import crc64
from taipan.persistence.lzf import NATIVE as LZF_NATIVE
from taipan.persistence.lzf import LzfError, lzf_compress, lzf_compress_within, lzf_decompress

__all__ = ["RdbError", "RdbReader", "crc64", "lzf_compress", "lzf_compress_within",
           "lzf_decompress"]

RDB_VERSION: Final = 10

# Object types (the byte before a value).
TYPE_STRING: Final = 0
TYPE_LIST: Final = 1
TYPE_SET: Final = 2
TYPE_ZSET: Final = 3
TYPE_HASH: Final = 4
TYPE_ZSET_2: Final = 5
TYPE_MODULE: Final = 6  # modules' values: Taipan loads no modules
TYPE_MODULE_2: Final = 7
TYPE_HASH_ZIPMAP: Final = 9
TYPE_LIST_ZIPLIST: Final = 10
TYPE_SET_INTSET: Final = 11
TYPE_ZSET_ZIPLIST: Final = 12
TYPE_HASH_ZIPLIST: Final = 13
TYPE_LIST_QUICKLIST: Final = 14
TYPE_STREAM_LISTPACKS: Final = 15
TYPE_HASH_LISTPACK: Final = 16
TYPE_ZSET_LISTPACK: Final = 17
TYPE_LIST_QUICKLIST_2: Final = 18
TYPE_STREAM_LISTPACKS_2: Final = 19
TYPE_STREAM_LISTPACKS_3: Final = 21  # Redis 7.2's; read by no 7.0

# File-level opcodes.
OPCODE_FUNCTION2: Final = 245
OPCODE_FUNCTION: Final = 246
OPCODE_MODULE_AUX: Final = 247
OPCODE_IDLE: Final = 248
OPCODE_FREQ: Final = 249
OPCODE_AUX: Final = 250
OPCODE_RESIZEDB: Final = 251
OPCODE_EXPIRETIME_MS: Final = 252
OPCODE_EXPIRETIME: Final = 253
OPCODE_SELECTDB: Final = 254
OPCODE_EOF: Final = 255

# Quicklist-2 node containers.
QUICKLIST_PLAIN: Final = 1
QUICKLIST_PACKED: Final = 2

_ENC_INT8: Final = 0
_ENC_INT16: Final = 1
_ENC_INT32: Final = 2
_ENC_LZF: Final = 3
_CANONICAL_INT: Final = re.compile(rb"(?:0|-?[1-9][0-9]{0,19})\Z")
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_DOUBLE: Final = struct.Struct("<d")


class RdbError(ValueError):
    """Malformed or unsupported RDB data."""


def canonical_int(value: bytes | bytearray) -> int | None:
    """The 64-bit integer ``value`` spells in canonical form (Redis's string2ll), or None."""
    if len(value) <= 20 and _CANONICAL_INT.match(value):
        number = int(value)
        if _INT64_MIN <= number <= _INT64_MAX:
            return number
    return None


# -- reading --------------------------------------------------------------------------


def _inflate(data: bytes, expected: int) -> bytes:
    try:
        return lzf_decompress(data, expected)
    except LzfError as exc:
        raise RdbError(str(exc)) from None


class RdbReader:
    """A cursor over RDB bytes; every read checks bounds."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes | bytearray, pos: int = 0) -> None:
        self.data = bytes(data)
        self.pos = pos

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def read(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise RdbError("unexpected end of RDB data")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise RdbError("unexpected end of RDB data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def length_or_encoding(self) -> tuple[int, bool]:
        """(length, False) or (special encoding, True)."""
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return int.from_bytes(self.read(4), "big"), False
        if first == 0x81:
            return int.from_bytes(self.read(8), "big"), False
        raise RdbError(f"unknown length encoding {first:#x}")

    def length(self) -> int:
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0x40:  # the one-byte form, most lengths
            self.pos = pos + 1
            return data[pos]
        value, special = self.length_or_encoding()
        if special:
            raise RdbError("encoded value where a length was expected")
        return value

    def string(self) -> bytes:
        data, pos = self.data, self.pos
        if pos < len(data):  # the common case inlined: under 64 bytes, not encoded
            first = data[pos]
            if first < 0x40 and pos + 1 + first <= len(data):
                self.pos = pos + 1 + first
                return data[pos + 1:pos + 1 + first]
            if first == 0xC0 | _ENC_LZF:  # compressed (listpacks): lengths inlined too
                self.pos = pos + 1
                compressed_len = self.length()
                original_len = self.length()
                return _inflate(self.read(compressed_len), original_len)
        value, special = self.length_or_encoding()
        if not special:
            return self.read(value)
        if value == _ENC_INT8:
            return b"%d" % int.from_bytes(self.read(1), "little", signed=True)
        if value == _ENC_INT16:
            return b"%d" % int.from_bytes(self.read(2), "little", signed=True)
        if value == _ENC_INT32:
            return b"%d" % int.from_bytes(self.read(4), "little", signed=True)
        if value == _ENC_LZF:
            compressed_len = self.length()
            original_len = self.length()
            return _inflate(self.read(compressed_len), original_len)
        raise RdbError(f"unknown string encoding {value}")

    def binary_double(self) -> float:
        value: float = _DOUBLE.unpack(self.read(8))[0]
        return value

    def string_double(self) -> float:
        """An old-style (ZSET type 3) score: a length byte then ASCII."""
        size = self.byte()
        if size == 253:
            return float("nan")
        if size == 254:
            return float("inf")
        if size == 255:
            return float("-inf")
        return parse_double(self.read(size))


def parse_double(text: bytes) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RdbError("bad double") from None
    if value != value:
        raise RdbError("NaN score")
    return value


# -- writing --------------------------------------------------------------------------


def write_length(out: bytearray, length: int) -> None:
    if length < 0x40:
        out.append(length)
    elif length < 0x4000:
        out.append(0x40 | (length >> 8))
        out.append(length & 0xFF)
    elif length <= 0xFFFFFFFF:
        out.append(0x80)
        out += length.to_bytes(4, "big")
    else:
        out.append(0x81)
        out += length.to_bytes(8, "big")


# Bytes a canonical integer can start with: anything else skips the integer parse.
INT_FIRST_BYTES: Final = frozenset(b"-0123456789")


def write_string(out: bytearray, value: bytes | bytearray, compress: bool = True) -> None:
    """A string as Redis's rdbSaveRawString writes it: as an integer when it is a short
    canonical 32-bit one, LZF-compressed when longer than 20 bytes and that saves at
    least 4 bytes, raw otherwise."""
    size = len(value)
    if size <= 11 and size and value[0] in INT_FIRST_BYTES:
        number = canonical_int(value)
        if number is not None:
            if -(1 << 7) <= number < (1 << 7):
                out.append(0xC0 | _ENC_INT8)
                out += number.to_bytes(1, "little", signed=True)
                return
            if -(1 << 15) <= number < (1 << 15):
                out.append(0xC0 | _ENC_INT16)
                out += number.to_bytes(2, "little", signed=True)
                return
            if -(1 << 31) <= number < (1 << 31):
                out.append(0xC0 | _ENC_INT32)
                out += number.to_bytes(4, "little", signed=True)
                return
    if size > 20 and compress and _worth_compressing(value):
        packed = lzf_compress_within(value, size - 4)
        if packed is not None:
            out.append(0xC0 | _ENC_LZF)
            write_length(out, len(packed))
            write_length(out, size)
            out += packed
            return
    if size < 0x40:
        out.append(size)
    else:
        write_length(out, size)
    out += value


# Above this size a string is compressed only if a sample of it compresses: pure
# Python LZF (without the liblzf package) costs about a second a megabyte, wasted on
# data that doesn't shrink.
_SAMPLE_FROM: Final = 1 << 15
_SAMPLE_SIZE: Final = 4096


def _worth_compressing(value: bytes | bytearray) -> bool:
    if len(value) < _SAMPLE_FROM or LZF_NATIVE is not None:  # liblzf: just try
        return True
    middle = len(value) // 2
    sample = bytes(value[middle:middle + _SAMPLE_SIZE])
    return lzf_compress_within(sample, _SAMPLE_SIZE * 15 // 16 - 1) is not None


def write_binary_double(out: bytearray, value: float) -> None:
    out += _DOUBLE.pack(value)
