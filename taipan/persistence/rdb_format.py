"""RDB building blocks: type and opcode numbers, lengths, strings (integer and LZF
encodings), doubles, CRC64. The packed blobs (listpack, intset, ...) are in
``rdb_packed``.

Everything reads from an ``RdbReader`` over bytes and writes into a ``bytearray``.
Any malformed input raises ``RdbError``: callers (RESTORE, the RDB loader) turn it
into one error reply or one load failure, never a crash. Written from the format as
Redis 7.0 documents and produces it (RDB version 10).
"""

from __future__ import annotations

import re
import struct

RDB_VERSION = 10

# Object types (the byte before a value).
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19

# File-level opcodes.
OPCODE_FUNCTION2 = 245
OPCODE_FUNCTION = 246
OPCODE_MODULE_AUX = 247
OPCODE_IDLE = 248
OPCODE_FREQ = 249
OPCODE_AUX = 250
OPCODE_RESIZEDB = 251
OPCODE_EXPIRETIME_MS = 252
OPCODE_EXPIRETIME = 253
OPCODE_SELECTDB = 254
OPCODE_EOF = 255

# Quicklist-2 node containers.
QUICKLIST_PLAIN = 1
QUICKLIST_PACKED = 2

_ENC_INT8, _ENC_INT16, _ENC_INT32, _ENC_LZF = 0, 1, 2, 3
_CANONICAL_INT = re.compile(rb"(?:0|-?[1-9][0-9]{0,19})\Z")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DOUBLE = struct.Struct("<d")


class RdbError(ValueError):
    """Malformed or unsupported RDB data."""


def canonical_int(value: bytes | bytearray) -> int | None:
    """The 64-bit integer ``value`` spells in canonical form (Redis's string2ll), or None."""
    if len(value) <= 20 and _CANONICAL_INT.match(value):
        number = int(value)
        if _INT64_MIN <= number <= _INT64_MAX:
            return number
    return None


# -- CRC64 (Jones polynomial, reflected, as Redis's crc64.c) --------------------------

_CRC64_POLY_REFLECTED = 0x95AC9329AC4BC9B5


def _crc64_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC64_POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def _slice_tables() -> list[list[int]]:
    """Tables for slicing-by-8: ``tables[k][b]`` is the CRC of byte ``b`` followed by
    ``k`` zero bytes, so eight bytes fold in with one lookup each."""
    tables = [_CRC64_TABLE]
    for _ in range(7):
        last = tables[-1]
        tables.append([_CRC64_TABLE[value & 0xFF] ^ (value >> 8) for value in last])
    return tables


_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = _slice_tables()
_WORDS = struct.Struct("<Q")


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Redis's CRC64 of ``data``, continuing from ``crc``."""
    data = bytes(data)
    whole = len(data) & ~7
    for (word,) in _WORDS.iter_unpack(data[:whole]):
        crc ^= word
        crc = (_T7[crc & 0xFF] ^ _T6[(crc >> 8) & 0xFF] ^ _T5[(crc >> 16) & 0xFF]
               ^ _T4[(crc >> 24) & 0xFF] ^ _T3[(crc >> 32) & 0xFF]
               ^ _T2[(crc >> 40) & 0xFF] ^ _T1[(crc >> 48) & 0xFF] ^ _T0[crc >> 56])
    table = _CRC64_TABLE
    for byte in data[whole:]:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


# -- LZF ------------------------------------------------------------------------------

_LZF_MAX_OFFSET = 1 << 13
_LZF_MAX_MATCH = 264  # 7 + 255 + 2
_LZF_MAX_LITERAL = 32


def lzf_decompress(data: bytes | bytearray, expected: int) -> bytes:
    """Inflate LZF ``data`` that must yield exactly ``expected`` bytes."""
    out = bytearray()
    i, end = 0, len(data)
    while i < end:
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            run = ctrl + 1
            if i + run > end:
                raise RdbError("LZF literal past the end")
            out += data[i:i + run]
            i += run
        else:
            length = ctrl >> 5
            if length == 7:
                if i >= end:
                    raise RdbError("LZF truncated")
                length += data[i]
                i += 1
            if i >= end:
                raise RdbError("LZF truncated")
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            length += 2
            if ref < 0:
                raise RdbError("LZF back reference before the start")
            if ref + length <= len(out):
                out += out[ref:ref + length]
            else:
                for k in range(length):  # overlapping copy, byte by byte
                    out.append(out[ref + k])
        if len(out) > expected:
            raise RdbError("LZF output longer than announced")
    if len(out) != expected:
        raise RdbError("LZF output length mismatch")
    return bytes(out)


def lzf_compress(data: bytes | bytearray) -> bytes:
    """LZF-compress ``data`` (any valid LZF stream; not byte-identical to liblzf's)."""
    data = bytes(data)
    n = len(data)
    out = bytearray()
    last_seen: dict[bytes, int] = {}
    literal_start = i = 0

    def flush_literals(stop: int) -> None:
        start = literal_start
        while start < stop:
            chunk = data[start:min(start + _LZF_MAX_LITERAL, stop)]
            out.append(len(chunk) - 1)
            out.extend(chunk)
            start += len(chunk)

    while i + 2 < n:
        triple = data[i:i + 3]
        ref = last_seen.get(triple)
        last_seen[triple] = i
        if ref is None or i - ref > _LZF_MAX_OFFSET:
            i += 1
            continue
        limit = min(_LZF_MAX_MATCH, n - i)
        length = 3
        while length < limit and data[ref + length] == data[i + length]:
            length += 1
        flush_literals(i)
        offset = i - ref - 1
        code = length - 2
        if code < 7:
            out.append((code << 5) | (offset >> 8))
        else:
            out.append((7 << 5) | (offset >> 8))
            out.append(code - 7)
        out.append(offset & 0xFF)
        for k in range(i + 1, min(i + length, n - 2)):
            last_seen[data[k:k + 3]] = k
        i += length
        literal_start = i
    flush_literals(n)
    return bytes(out)


# -- reading --------------------------------------------------------------------------


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
        value, special = self.length_or_encoding()
        if special:
            raise RdbError("encoded value where a length was expected")
        return value

    def string(self) -> bytes:
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
            return lzf_decompress(self.read(compressed_len), original_len)
        raise RdbError(f"unknown string encoding {value}")

    def binary_double(self) -> float:
        return _DOUBLE.unpack(self.read(8))[0]

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


def write_string(out: bytearray, value: bytes | bytearray, compress: bool = True) -> None:
    """A string as Redis's rdbSaveRawString writes it: as an integer when it is a short
    canonical 32-bit one, LZF-compressed when longer than 20 bytes and that saves at
    least 4 bytes, raw otherwise."""
    size = len(value)
    if size <= 11:
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
    if compress and size > 20 and _worth_compressing(value):
        packed = lzf_compress(value)
        if len(packed) <= size - 4:
            out.append(0xC0 | _ENC_LZF)
            write_length(out, len(packed))
            write_length(out, size)
            out += packed
            return
    write_length(out, size)
    out += value


# Above this size a string is compressed only if a sample of it compresses: pure
# Python LZF costs about a second a megabyte, wasted on data that doesn't shrink.
_SAMPLE_FROM = 1 << 15
_SAMPLE_SIZE = 4096


def _worth_compressing(value: bytes | bytearray) -> bool:
    if len(value) < _SAMPLE_FROM:
        return True
    middle = len(value) // 2
    sample = bytes(value[middle:middle + _SAMPLE_SIZE])
    return len(lzf_compress(sample)) < _SAMPLE_SIZE * 15 // 16


def write_binary_double(out: bytearray, value: float) -> None:
    out += _DOUBLE.pack(value)
