"""The packed blobs stored inside RDB strings: intset, listpack (written by Redis 7.0),
ziplist and zipmap (read only: older RDB files and payloads hold them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from taipan.persistence.rdb_format import INT_FIRST_BYTES, RdbError, canonical_int

# -- intset ---------------------------------------------------------------------------


def intset_decode(blob: bytes) -> list[int]:
    if len(blob) < 8:
        raise RdbError("intset too short")
    width = int.from_bytes(blob[0:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    if width not in (2, 4, 8) or len(blob) != 8 + width * count:
        raise RdbError("bad intset header")
    return [int.from_bytes(blob[8 + i * width:8 + (i + 1) * width], "little", signed=True)
            for i in range(count)]


def intset_encode(values: list[int]) -> bytes:
    """An intset of sorted ``values`` in the narrowest width that holds them all."""
    low = values[0] if values else 0
    high = values[-1] if values else 0
    if -(1 << 15) <= low and high < (1 << 15):
        width = 2
    elif -(1 << 31) <= low and high < (1 << 31):
        width = 4
    else:
        width = 8
    out = bytearray(width.to_bytes(4, "little") + len(values).to_bytes(4, "little"))
    for value in values:
        out += value.to_bytes(width, "little", signed=True)
    return bytes(out)


# -- listpack -------------------------------------------------------------------------


_SMALL_INTS: Final = [b"%d" % value for value in range(128)]


def listpack_decode(blob: bytes) -> list[bytes]:
    """Every entry of a listpack, integers spelled out as decimal bytes."""
    size = len(blob)
    if size < 7 or int.from_bytes(blob[0:4], "little") != size or blob[-1] != 0xFF:
        raise RdbError("bad listpack header")
    announced = int.from_bytes(blob[4:6], "little")
    entries: list[bytes] = []
    pos = 6
    end = size - 1
    small = _SMALL_INTS
    while pos < end:
        first = blob[pos]
        if first < 0x80:
            entries.append(small[first])
            pos += 2  # one byte and its back-length
            continue
        if first < 0xC0:
            length = first & 0x3F
            entry, used = blob[pos + 1:pos + 1 + length], 1 + length
        elif first < 0xE0:
            if pos + 2 > end:
                raise RdbError("listpack entry past the end")
            raw = ((first & 0x1F) << 8) | blob[pos + 1]
            entry, used = b"%d" % (raw - (1 << 13) if raw >= (1 << 12) else raw), 2
        elif first < 0xF0:
            if pos + 2 > end:
                raise RdbError("listpack entry past the end")
            length = ((first & 0x0F) << 8) | blob[pos + 1]
            entry, used = blob[pos + 2:pos + 2 + length], 2 + length
        elif first == 0xF0:
            length = int.from_bytes(blob[pos + 1:pos + 5], "little")
            entry, used = blob[pos + 5:pos + 5 + length], 5 + length
        elif 0xF1 <= first <= 0xF4:
            width = (2, 3, 4, 8)[first - 0xF1]
            if pos + 1 + width > end:
                raise RdbError("listpack entry past the end")
            entry = b"%d" % int.from_bytes(blob[pos + 1:pos + 1 + width], "little", signed=True)
            used = 1 + width
        else:
            raise RdbError("bad listpack entry encoding")
        pos += used + (1 if used <= 127 else _backlen_size(used))
        if pos > end:
            raise RdbError("listpack entry past the end")
        entries.append(entry)
    if pos != end:
        raise RdbError("listpack entry past the end" if pos > end
                       else "listpack does not end where announced")
    if announced != 0xFFFF and announced != len(entries):
        raise RdbError("listpack count mismatch")
    return entries


def _backlen_size(length: int) -> int:
    if length <= 127:
        return 1
    if length < 16383:
        return 2
    if length < 2097151:
        return 3
    if length < 268435455:
        return 4
    return 5


def _backlen(length: int) -> bytes:
    size = _backlen_size(length)
    out = bytearray()
    for shift in range((size - 1) * 7, -1, -7):
        out.append(((length >> shift) & 0x7F) | (0x80 if shift != (size - 1) * 7 else 0))
    return bytes(out)


def listpack_entry(value: bytes | bytearray) -> bytes:
    """One encoded listpack entry (with its back-length), integers packed as Redis does."""
    number = canonical_int(value) if value and value[0] in INT_FIRST_BYTES else None
    if number is not None:
        return listpack_int_entry(number)
    size = len(value)
    if size < 64:
        return _SHORT_HEAD[size] + value + _SHORT_BACKLEN[size]
    if size < 4096:
        body = bytes((0xE0 | (size >> 8), size & 0xFF)) + value
    else:
        body = b"\xf0" + size.to_bytes(4, "little") + value
    return body + _backlen(len(body))


def listpack_int_entry(number: int) -> bytes:
    """The entry of a 64-bit integer, in the narrowest encoding, with its back-length."""
    if 0 <= number <= 127:
        return bytes((number, 1))
    if -4096 <= number <= 4095:
        raw = number & 0x1FFF
        return bytes((0xC0 | (raw >> 8), raw & 0xFF, 2))
    if -(1 << 15) <= number < (1 << 15):
        return b"\xf1" + number.to_bytes(2, "little", signed=True) + b"\x03"
    if -(1 << 23) <= number < (1 << 23):
        return b"\xf2" + number.to_bytes(3, "little", signed=True) + b"\x04"
    if -(1 << 31) <= number < (1 << 31):
        return b"\xf3" + number.to_bytes(4, "little", signed=True) + b"\x05"
    return b"\xf4" + number.to_bytes(8, "little", signed=True) + b"\x09"


# A string under 64 bytes is one header byte, the bytes, and a one-byte back-length
# (header + bytes <= 127): pre-built for the common case.
_SHORT_HEAD: Final = [bytes((0x80 | size,)) for size in range(64)]
_SHORT_BACKLEN: Final = [bytes((size + 1,)) for size in range(64)]


def listpack_entries(values: Iterable[bytes | bytearray]) -> list[bytes]:
    """``listpack_entry`` of each value, with the short non-integer case inlined (most
    hash fields, list items and zset members): a function call per element is a
    large part of encoding them."""
    head, tail, int_first = _SHORT_HEAD, _SHORT_BACKLEN, INT_FIRST_BYTES
    entries: list[bytes] = []
    append = entries.append
    for value in values:
        size = len(value)
        if size < 64 and (not size or value[0] not in int_first):
            append(head[size] + value + tail[size])
        else:
            append(listpack_entry(value))
    return entries


def listpack_from_entries(encoded: list[bytes]) -> bytes:
    """A listpack of already-encoded entries (see ``listpack_entry``)."""
    total = 6 + sum(map(len, encoded)) + 1
    count = len(encoded) if len(encoded) < 0xFFFF else 0xFFFF
    return b"".join([total.to_bytes(4, "little"), count.to_bytes(2, "little"), *encoded,
                     b"\xff"])


def listpack_encode(values: Iterable[bytes | bytearray]) -> bytes:
    """A listpack of ``values``, built in one buffer: the short non-integer entries
    (most fields, items, members) go in without a bytes object each."""
    out = bytearray(6)  # total bytes and count, filled in at the end
    int_first = INT_FIRST_BYTES
    count = 0
    for value in values:
        size = len(value)
        if size < 64 and (not size or value[0] not in int_first):
            out.append(0x80 | size)
            out += value
            out.append(size + 1)  # the back-length: one byte below 128
        else:
            out += listpack_entry(value)
        count += 1
    out.append(0xFF)
    out[0:4] = len(out).to_bytes(4, "little")
    out[4:6] = (count if count < 0xFFFF else 0xFFFF).to_bytes(2, "little")
    return bytes(out)


# -- ziplist (read only: Redis 7.0 writes none, older RDB files hold them) -----------


def ziplist_decode(blob: bytes) -> list[bytes]:
    size = len(blob)
    if size < 11 or int.from_bytes(blob[0:4], "little") != size or blob[-1] != 0xFF:
        raise RdbError("bad ziplist header")
    entries: list[bytes] = []
    pos, end = 10, size - 1
    while pos < end:
        pos += 5 if blob[pos] == 0xFE else 1  # previous entry length
        if pos >= end:
            raise RdbError("ziplist entry past the end")
        first = blob[pos]
        kind = first >> 6
        if kind == 0:
            length, pos = first & 0x3F, pos + 1
            entry = blob[pos:pos + length]
        elif kind == 1:
            length, pos = ((first & 0x3F) << 8) | blob[pos + 1], pos + 2
            entry = blob[pos:pos + length]
        elif kind == 2:
            length, pos = int.from_bytes(blob[pos + 1:pos + 5], "big"), pos + 5
            entry = blob[pos:pos + length]
        else:
            width = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}.get(first)
            pos += 1
            if width is not None:
                length = width
                entry = b"%d" % int.from_bytes(blob[pos:pos + width], "little", signed=True)
            elif 0xF1 <= first <= 0xFD:
                length, entry = 0, b"%d" % ((first & 0x0F) - 1)
            else:
                raise RdbError("bad ziplist entry encoding")
        pos += length
        if pos > end or len(entry) < 0:
            raise RdbError("ziplist entry past the end")
        entries.append(entry)
    if pos != end:
        raise RdbError("ziplist does not end where announced")
    return entries


def zipmap_decode(blob: bytes) -> list[bytes]:
    """Fields and values, flat, of a zipmap (hashes in RDB files before Redis 2.6)."""
    flat: list[bytes] = []
    pos, end = 1, len(blob)

    def length_at(at: int) -> tuple[int, int]:
        if at >= end:
            raise RdbError("zipmap entry past the end")
        first = blob[at]
        if first < 254:
            return first, at + 1
        if first == 254 and at + 5 <= end:
            return int.from_bytes(blob[at + 1:at + 5], "little"), at + 5
        raise RdbError("bad zipmap length")

    while True:
        if pos >= end:
            raise RdbError("zipmap without its end marker")
        if blob[pos] == 0xFF:
            break
        size, pos = length_at(pos)
        field = blob[pos:pos + size]
        size, pos = length_at(pos + size)
        if pos >= end:
            raise RdbError("zipmap entry past the end")
        free = blob[pos]
        value = blob[pos + 1:pos + 1 + size]
        pos += 1 + size + free
        if pos > end:
            raise RdbError("zipmap entry past the end")
        flat += (field, value)
    if pos != end - 1:
        raise RdbError("zipmap does not end where it should")
    return flat


def pairs(items: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(field, value) pairs of a flat field/value list, which must be even."""
    if len(items) % 2:
        raise RdbError("odd number of entries in a pair list")
    return zip(items[0::2], items[1::2], strict=True)
