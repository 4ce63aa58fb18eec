"""Values to and from RDB objects (type byte + body), as Redis 7.0 writes and loads them.

Writing picks the RDB type from the encoding OBJECT ENCODING reports: intset sets
as SET_INTSET, listpack hashes and zsets as HASH_LISTPACK / ZSET_LISTPACK, big ones
as HASH / ZSET_2 / SET, every list as QUICKLIST_2 of listpacks. Loading accepts every
type Redis 7.0 loads except streams and modules, and encodes the result as Redis
would after loading it (by size and element length).
"""

from __future__ import annotations

import math
from typing import Any

from taipan.persistence.rdb_format import (
    QUICKLIST_PACKED,
    QUICKLIST_PLAIN,
    TYPE_HASH,
    TYPE_HASH_LISTPACK,
    TYPE_HASH_ZIPLIST,
    TYPE_HASH_ZIPMAP,
    TYPE_LIST,
    TYPE_LIST_QUICKLIST,
    TYPE_LIST_QUICKLIST_2,
    TYPE_LIST_ZIPLIST,
    TYPE_SET,
    TYPE_SET_INTSET,
    TYPE_STRING,
    TYPE_ZSET,
    TYPE_ZSET_2,
    TYPE_ZSET_LISTPACK,
    TYPE_ZSET_ZIPLIST,
    RdbError,
    RdbReader,
    parse_double,
    write_binary_double,
    write_length,
    write_string,
)
from taipan.persistence.rdb_packed import (
    intset_decode,
    intset_encode,
    listpack_decode,
    listpack_entry,
    listpack_from_entries,
    pairs,
    ziplist_decode,
    zipmap_decode,
)
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.sets import RedisSet
from taipan.types.zset import ZSet

# Redis's quicklist "fill" sizes for negative list-max-listpack-size (bytes per node).
_NODE_BYTES = (4096, 8192, 16384, 32768, 65536)
_NODE_OVERHEAD_ESTIMATE = 8  # Redis's SIZE_ESTIMATE_OVERHEAD
_SAFETY_BYTES = 8192  # Redis's SIZE_SAFETY_LIMIT for positive fills
_PLAIN_THRESHOLD = 1 << 30  # elements this big get a node of their own


# -- writing --------------------------------------------------------------------------


def write_value(out: bytearray, value: Any, config: Any) -> None:
    """Append the RDB type byte and body of ``value``."""
    compress = bool(getattr(config, "rdbcompression", True))
    if isinstance(value, (bytes, bytearray)):
        out.append(TYPE_STRING)
        write_string(out, value, compress)
    elif type(value) is RedisList:
        _write_list(out, value, config, compress)
    elif type(value) is RedisSet:
        _write_set(out, value, compress)
    elif type(value) is ZSet:
        _write_zset(out, value, compress)
    elif type(value) is RedisHash:
        _write_hash(out, value, compress)
    else:
        raise RdbError(f"cannot serialize {type(value).__name__}")


def _write_list(out: bytearray, items: RedisList, config: Any, compress: bool) -> None:
    fill = int(getattr(config, "list_max_listpack_size", -2))
    nodes: list[tuple[int, bytes]] = []
    current: list[bytes] = []
    current_bytes = 7  # listpack header and terminator
    for element in items:
        size = len(element)
        if size >= _PLAIN_THRESHOLD:
            if current:
                nodes.append((QUICKLIST_PACKED, listpack_from_entries(current)))
                current, current_bytes = [], 7
            nodes.append((QUICKLIST_PLAIN, bytes(element)))
            continue
        if current and _node_full(fill, current_bytes + size + _NODE_OVERHEAD_ESTIMATE,
                                  len(current) + 1):
            nodes.append((QUICKLIST_PACKED, listpack_from_entries(current)))
            current, current_bytes = [], 7
        entry = listpack_entry(element)
        current.append(entry)
        current_bytes += len(entry)
    if current:
        nodes.append((QUICKLIST_PACKED, listpack_from_entries(current)))
    out.append(TYPE_LIST_QUICKLIST_2)
    write_length(out, len(nodes))
    for container, blob in nodes:
        write_length(out, container)
        write_string(out, blob, compress)


def _node_full(fill: int, new_bytes: int, new_count: int) -> bool:
    if fill >= 0:
        return new_count > fill or new_bytes > _SAFETY_BYTES
    limit = _NODE_BYTES[min(-fill, len(_NODE_BYTES)) - 1]
    return new_bytes > limit


def _write_set(out: bytearray, members: RedisSet, compress: bool) -> None:
    if members.ints is not None:
        out.append(TYPE_SET_INTSET)
        write_string(out, intset_encode(list(members.ints)), compress)
        return
    out.append(TYPE_SET)
    write_length(out, len(members))
    for member in members:
        write_string(out, member, compress)


def score_text(score: float) -> bytes:
    """A score as Redis's d2string spells it (what a zset listpack stores)."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    if score == 0:
        return b"-0" if math.copysign(1.0, score) < 0 else b"0"
    if -4503599627370495 < score < 4503599627370496 and score == int(score):
        return b"%d" % int(score)
    return format(score, ".17g").encode()


def _write_zset(out: bytearray, zset: ZSet, compress: bool) -> None:
    if zset.listpack:
        entries = []
        for member, score in zset:
            entries.append(listpack_entry(member))
            entries.append(listpack_entry(score_text(score)))
        out.append(TYPE_ZSET_LISTPACK)
        write_string(out, listpack_from_entries(entries), compress)
        return
    out.append(TYPE_ZSET_2)
    write_length(out, len(zset))
    # Highest first, as Redis saves a skiplist (so loading appends at the head).
    for member, score in reversed(list(zset)):
        write_string(out, member, compress)
        write_binary_double(out, score)


def _write_hash(out: bytearray, fields: RedisHash, compress: bool) -> None:
    if not fields.hashtable:
        entries = []
        for field, value in fields.items():
            entries.append(listpack_entry(field))
            entries.append(listpack_entry(value))
        out.append(TYPE_HASH_LISTPACK)
        write_string(out, listpack_from_entries(entries), compress)
        return
    out.append(TYPE_HASH)
    write_length(out, len(fields))
    for field, value in fields.items():
        write_string(out, field, compress)
        write_string(out, value, compress)


# -- reading --------------------------------------------------------------------------


def read_value(reader: RdbReader, kind: int, config: Any) -> Any:
    """The value of an RDB object of type ``kind`` (its type byte already read)."""
    if kind == TYPE_STRING:
        return reader.string()
    if kind in (TYPE_LIST, TYPE_LIST_ZIPLIST, TYPE_LIST_QUICKLIST, TYPE_LIST_QUICKLIST_2):
        items = RedisList(_list_elements(reader, kind))
        if not items:
            raise RdbError("empty list")
        return items
    if kind in (TYPE_SET, TYPE_SET_INTSET):
        return _read_set(reader, kind, config)
    if kind in (TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST):
        return _read_zset(reader, kind, config)
    if kind in (TYPE_HASH, TYPE_HASH_LISTPACK, TYPE_HASH_ZIPLIST, TYPE_HASH_ZIPMAP):
        return _read_hash(reader, kind, config)
    raise RdbError(f"unsupported RDB object type {kind}")


def _list_elements(reader: RdbReader, kind: int) -> list[bytes]:
    if kind == TYPE_LIST:
        return [reader.string() for _ in range(_count(reader))]
    if kind == TYPE_LIST_ZIPLIST:
        return ziplist_decode(reader.string())
    elements: list[bytes] = []
    for _ in range(_count(reader)):
        if kind == TYPE_LIST_QUICKLIST:
            node = ziplist_decode(reader.string())
        else:
            container = reader.length()
            if container == QUICKLIST_PLAIN:
                elements.append(reader.string())
                continue
            if container != QUICKLIST_PACKED:
                raise RdbError("unknown quicklist container")
            node = listpack_decode(reader.string())
        if not node:
            raise RdbError("empty quicklist node")
        elements.extend(node)
    return elements


def _count(reader: RdbReader) -> int:
    count = reader.length()
    if count == 0:
        raise RdbError("empty collection")
    # Every element takes at least one byte: a bigger count is a lie, caught early.
    if count > reader.remaining():
        raise RdbError("collection longer than its payload")
    return count


def _read_set(reader: RdbReader, kind: int, config: Any) -> RedisSet:
    max_intset = int(config.set_max_intset_entries)
    if kind == TYPE_SET_INTSET:
        values = intset_decode(reader.string())
        if not values or any(a >= b for a, b in zip(values, values[1:], strict=False)):
            raise RdbError("intset empty or not strictly ascending")
        return RedisSet.build((b"%d" % value for value in values), max_intset)
    count = _count(reader)
    members = {reader.string() for _ in range(count)}
    if len(members) != count:
        raise RdbError("duplicate set member")
    return RedisSet.build(members, max_intset)


def _read_zset(reader: RdbReader, kind: int, config: Any) -> ZSet:
    if kind in (TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST):
        blob = reader.string()
        flat = listpack_decode(blob) if kind == TYPE_ZSET_LISTPACK else ziplist_decode(blob)
        entries = [(member, parse_double(score)) for member, score in pairs(flat)]
        listpack = len(entries) <= int(config.zset_max_listpack_entries)
    else:
        count = _count(reader)
        entries = []
        for _ in range(count):
            member = reader.string()
            score = reader.binary_double() if kind == TYPE_ZSET_2 else reader.string_double()
            if score != score:
                raise RdbError("NaN score")
            entries.append((member, score))
        listpack = (count <= int(config.zset_max_listpack_entries)
                    and all(len(m) <= int(config.zset_max_listpack_value) for m, _ in entries))
    if not entries:
        raise RdbError("empty zset")
    if len({member for member, _ in entries}) != len(entries):
        raise RdbError("duplicate zset member")
    return ZSet.from_entries(entries, listpack)


def _read_hash(reader: RdbReader, kind: int, config: Any) -> RedisHash:
    if kind == TYPE_HASH:
        count = _count(reader)
        flat = []
        for _ in range(count):
            flat.append(reader.string())
            flat.append(reader.string())
    else:
        blob = reader.string()
        if kind == TYPE_HASH_LISTPACK:
            flat = listpack_decode(blob)
        elif kind == TYPE_HASH_ZIPLIST:
            flat = ziplist_decode(blob)
        else:
            flat = zipmap_decode(blob)
    field_values = list(pairs(flat))
    if not field_values:
        raise RdbError("empty hash")
    if kind == TYPE_HASH_LISTPACK:
        # Redis keeps a loaded listpack unless it holds too many fields, however long
        # its values (the value limit may have been lowered since it was written).
        value = RedisHash(field_values)
        value.check_size(int(config.hash_max_listpack_entries))
    else:
        value = RedisHash.loaded(field_values, config)
    if len(value) != len(field_values):
        raise RdbError("duplicate hash field")
    return value
