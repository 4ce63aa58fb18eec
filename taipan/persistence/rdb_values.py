"""Values to and from RDB objects (type byte + body), as Redis 7.0 writes and loads them.

Writing picks the RDB type from the encoding OBJECT ENCODING reports: intset sets
as SET_INTSET, listpack hashes and zsets as HASH_LISTPACK / ZSET_LISTPACK, big ones
as HASH / ZSET_2 / SET, every list as QUICKLIST_2 of listpacks, streams as
STREAM_LISTPACKS_2 (``rdb_stream``). Loading accepts every type Redis 7.0 loads except
modules, and Redis 7.2's streams, and encodes the result as Redis would after
loading it (by size and element length).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, Final

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
    TYPE_MODULE,
    TYPE_MODULE_2,
    TYPE_SET,
    TYPE_SET_INTSET,
    TYPE_STRING,
    TYPE_ZSET,
    TYPE_ZSET_2,
    TYPE_ZSET_LISTPACK,
    TYPE_ZSET_ZIPLIST,
    RdbError,
    RdbReader,
    write_binary_double,
    write_length,
    write_string,
)
from taipan.persistence.rdb_packed import (
    intset_decode,
    intset_encode,
    listpack_decode,
    listpack_encode,
    listpack_entries,
    listpack_entry,
    listpack_from_entries,
    listpack_int_entry,
    pairs,
    ziplist_decode,
    zipmap_decode,
)
from taipan.persistence.rdb_stream import STREAM_TYPES, read_stream, write_stream
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed import (
    hash_from_flat,
    intset_from_values,
    list_from_items,
    packed_items,
    set_from_members,
    zset_from_sort_keys,
)
from taipan.types.packed_types import (
    PackedHash,
    PackedIntSet,
    PackedList,
    PackedSet,
    PackedZSet,
)
from taipan.types.sets import RedisSet, intset_limit, intset_value
from taipan.types.stream import Stream
from taipan.types.zset import ZSet, score_prefix, sort_key_score

# Redis's quicklist "fill" sizes for negative list-max-listpack-size (bytes per node).
_NODE_BYTES: Final = (4096, 8192, 16384, 32768, 65536)
_NODE_OVERHEAD_ESTIMATE: Final = 8  # Redis's SIZE_ESTIMATE_OVERHEAD
_SAFETY_BYTES: Final = 8192  # Redis's SIZE_SAFETY_LIMIT for positive fills
_PLAIN_THRESHOLD: Final = 1 << 30  # elements this big get a node of their own


# -- writing --------------------------------------------------------------------------


def write_value(out: bytearray, value: Any, config: Any) -> None:
    """Append the RDB type byte and body of ``value``."""
    compress = bool(getattr(config, "rdbcompression", True))
    mark = len(out)
    out.append(0)  # the type byte, known once the body is chosen
    out[mark] = write_body(out, value, config, compress)


def write_body(out: bytearray, value: Any, config: Any, compress: bool) -> int:
    """Append the body of ``value``; return its RDB type (the byte that goes before the
    key in a file, or before the body in a DUMP payload)."""
    writer = _BODY_WRITERS.get(type(value))
    if writer is not None:
        return writer(out, value, config, compress)
    if isinstance(value, (bytes, bytearray)):  # a subclass
        write_string(out, value, compress)
        return TYPE_STRING
    raise RdbError(f"cannot serialize {type(value).__name__}")


def _write_string(out: bytearray, value: bytes | bytearray, config: Any,
                  compress: bool) -> int:
    # (a string modified in place is a bytearray: compiled, the annotation is checked)
    write_string(out, value, compress)
    return TYPE_STRING


def _write_list(out: bytearray, items: Sequence[bytes], config: Any, compress: bool) -> int:
    fill = int(getattr(config, "list_max_listpack_size", -2))
    if fill < 0:
        byte_limit = _NODE_BYTES[min(-fill, len(_NODE_BYTES)) - 1]
        count_limit = 1 << 62  # no count limit: only bytes
    else:
        byte_limit, count_limit = _SAFETY_BYTES, fill
    nodes: list[tuple[int, bytes]] = []
    current: list[bytes] = []
    current_bytes = 7  # listpack header and terminator
    # Encoded in one batch; a node splits where Redis's quicklist would have split it.
    longest = max(map(len, items), default=0)
    if longest < _PLAIN_THRESHOLD:
        entries = listpack_entries(items)
        # A list that can't reach a node's limits is one node (most lists): the
        # per-element check below would never split it.
        if (entries and len(entries) <= count_limit and 7 + sum(map(len, entries))
                + longest + _NODE_OVERHEAD_ESTIMATE <= byte_limit):
            out.append(1)  # one node
            out.append(QUICKLIST_PACKED)
            write_string(out, listpack_from_entries(entries), compress)
            return TYPE_LIST_QUICKLIST_2
    else:  # a giant element goes in a plain node: no listpack copy of it
        entries = [b"" if len(element) >= _PLAIN_THRESHOLD else listpack_entry(element)
                   for element in items]
    for element, entry in zip(items, entries, strict=True):
        size = len(element)
        if size >= _PLAIN_THRESHOLD:
            if current:
                nodes.append((QUICKLIST_PACKED, listpack_from_entries(current)))
                current, current_bytes = [], 7
            nodes.append((QUICKLIST_PLAIN, bytes(element)))
            continue
        if current and (current_bytes + size + _NODE_OVERHEAD_ESTIMATE > byte_limit
                        or len(current) + 1 > count_limit):
            nodes.append((QUICKLIST_PACKED, listpack_from_entries(current)))
            current, current_bytes = [], 7
        current.append(entry)
        current_bytes += len(entry)
    if current:
        nodes.append((QUICKLIST_PACKED, listpack_from_entries(current)))
    write_length(out, len(nodes))
    for container, blob in nodes:
        write_length(out, container)
        write_string(out, blob, compress)
    return TYPE_LIST_QUICKLIST_2


def _write_set(out: bytearray, members: RedisSet, config: Any, compress: bool) -> int:
    if members.ints is not None:
        write_string(out, intset_encode(list(members.ints)), compress)
        return TYPE_SET_INTSET
    write_length(out, len(members))
    for member in members:
        write_string(out, member, compress)
    return TYPE_SET


def score_text(score: float) -> bytes:
    """A score as Redis's d2string spells it (what a zset listpack stores)."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    if score == 0:
        return b"-0" if math.copysign(1.0, score) < 0 else b"0"
    if -4503599627370495 < score < 4503599627370496 and score == int(score):
        return b"%d" % int(score)
    return format(score, ".17g").encode()


def _zset_listpack(members: list[bytes], scores: Iterable[float]) -> bytes:
    """The listpack of a sorted set: each member followed by its score."""
    entries = listpack_entries(members)
    flat: list[bytes] = []
    for entry, score in zip(entries, scores, strict=True):
        flat.append(entry)
        # An integral score is stored as that integer (score_text spells it so, and
        # a listpack packs canonical integers): straight there, no text.
        if score and -4503599627370495 < score < 4503599627370496 and score == int(score):
            flat.append(listpack_int_entry(int(score)))
        else:
            flat.append(listpack_entry(score_text(score)))
    return listpack_from_entries(flat)


def _write_zset(out: bytearray, zset: ZSet, config: Any, compress: bool) -> int:
    if zset.listpack:
        pairs = list(zset)
        write_string(out, _zset_listpack([member for member, _ in pairs],
                                         [score for _, score in pairs]), compress)
        return TYPE_ZSET_LISTPACK
    write_length(out, len(zset))
    # Highest first, as Redis saves a skiplist (so loading appends at the head).
    for member, score in reversed(list(zset)):
        write_string(out, member, compress)
        write_binary_double(out, score)
    return TYPE_ZSET_2


def _write_hash(out: bytearray, fields: RedisHash, config: Any, compress: bool) -> int:
    if not fields.hashtable:
        write_string(out, listpack_encode(chain.from_iterable(fields.items())), compress)
        return TYPE_HASH_LISTPACK
    write_length(out, len(fields))
    for field, value in fields.items():
        write_string(out, field, compress)
        write_string(out, value, compress)
    return TYPE_HASH


# -- packed small collections (``types/packed.py``), written without opening them --

def _write_packed_hash(out: bytearray, value: bytes, config: Any, compress: bool) -> int:
    write_string(out, listpack_encode(packed_items(value)), compress)
    return TYPE_HASH_LISTPACK


def _write_packed_list(out: bytearray, value: bytes, config: Any, compress: bool) -> int:
    return _write_list(out, packed_items(value), config, compress)


def _write_packed_intset(out: bytearray, value: bytes, config: Any, compress: bool) -> int:
    ints = array("q")
    ints.frombytes(value)
    write_string(out, intset_encode(ints.tolist()), compress)
    return TYPE_SET_INTSET


def _write_packed_set(out: bytearray, value: bytes, config: Any, compress: bool) -> int:
    members = packed_items(value)
    write_length(out, len(members))
    for member in members:
        write_string(out, member, compress)
    return TYPE_SET


def _write_packed_zset(out: bytearray, value: bytes, config: Any, compress: bool) -> int:
    keys = packed_items(value)  # sort keys: score prefix + member, ascending
    write_string(out, _zset_listpack([key[8:] for key in keys], map(sort_key_score, keys)),
                 compress)
    return TYPE_ZSET_LISTPACK


_BODY_WRITERS: Final[dict[type, Callable[[bytearray, Any, Any, bool], int]]] = {
    bytes: _write_string, bytearray: _write_string, RedisList: _write_list,
    RedisSet: _write_set, ZSet: _write_zset, RedisHash: _write_hash, Stream: write_stream,
    PackedHash: _write_packed_hash, PackedList: _write_packed_list,
    PackedIntSet: _write_packed_intset, PackedSet: _write_packed_set,
    PackedZSet: _write_packed_zset,
}


# -- reading --------------------------------------------------------------------------


def read_value(reader: RdbReader, kind: int, config: Any) -> Any:
    """The value of an RDB object of type ``kind`` (its type byte already read)."""
    if kind == TYPE_STRING:
        return reader.string()
    read = _READERS.get(kind)
    if read is None:
        raise RdbError(_unsupported_type(kind))
    return read(reader, kind, config)


def _unsupported_type(kind: int) -> str:
    if kind in (TYPE_MODULE, TYPE_MODULE_2):
        return f"a module value (RDB object type {kind}): Taipan loads no modules"
    return f"unknown RDB object type {kind}"


def _read_list(reader: RdbReader, kind: int, config: Any) -> Any:
    elements = _list_elements(reader, kind)
    if not elements:
        raise RdbError("empty list")
    # A short list goes straight to its packed form (``types/packed.py``).
    packed = list_from_items(elements)
    return packed if packed is not None else RedisList(elements)


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


def _read_set(reader: RdbReader, kind: int, config: Any) -> Any:
    max_intset = int(config.set_max_intset_entries)
    if kind == TYPE_SET_INTSET:
        values = intset_decode(reader.string())
        if not values or any(a >= b for a, b in zip(values, values[1:], strict=False)):
            raise RdbError("intset empty or not strictly ascending")
        if len(values) <= intset_limit(max_intset):
            packed = intset_from_values(values)
            if packed is not None:
                return packed
        return RedisSet.build((b"%d" % value for value in values), max_intset)
    count = _count(reader)
    listed = [reader.string() for _ in range(count)]
    members = set(listed)
    if len(members) != count:
        raise RdbError("duplicate set member")
    if intset_value(listed[0]) is None:
        # A member that isn't an integer: a hashtable set (RedisSet.build's verdict),
        # straight to its packed form when it is small.
        packed = set_from_members(listed)
        if packed is not None:
            return packed
    return RedisSet.build(members, max_intset)


def _read_zset(reader: RdbReader, kind: int, config: Any) -> Any:
    if kind in (TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST):
        blob = reader.string()
        flat = listpack_decode(blob) if kind == TYPE_ZSET_LISTPACK else ziplist_decode(blob)
        members, scores = _members_and_scores(flat)
        listpack = len(members) <= int(config.zset_max_listpack_entries)
        if listpack and members and len(set(members)) == len(members):
            # The common case straight to its packed form: no (member, score) pairs.
            packed = zset_from_sort_keys(sorted([
                score_prefix(score) + member
                for member, score in zip(members, scores, strict=True)]))
            if packed is not None:
                return packed
        entries = list(zip(members, scores, strict=True))
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
    if len(set(map(itemgetter(0), entries))) != len(entries):
        raise RdbError("duplicate zset member")
    if listpack:
        packed = zset_from_sort_keys(sorted([score_prefix(score) + member
                                             for member, score in entries]))
        if packed is not None:
            return packed
    return ZSet.from_entries(entries, listpack)


def _read_hash(reader: RdbReader, kind: int, config: Any) -> Any:
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
    if not flat:
        raise RdbError("empty hash")
    if (kind == TYPE_HASH_LISTPACK and not len(flat) % 2
            and len(flat) <= 2 * int(config.hash_max_listpack_entries)):
        if len(set(flat[0::2])) * 2 != len(flat):
            raise RdbError("duplicate hash field")
        packed = hash_from_flat(flat)
        if packed is not None:
            return packed
    field_values = pairs(flat)  # (checks the count is even)
    if kind == TYPE_HASH_LISTPACK:
        # Redis keeps a loaded listpack unless it holds too many fields, however long
        # its values (the value limit may have been lowered since it was written).
        value = RedisHash(field_values)
        value.check_size(int(config.hash_max_listpack_entries))
    else:
        value = RedisHash.loaded(field_values, config)
    if len(value) * 2 != len(flat):
        raise RdbError("duplicate hash field")
    return value


def _members_and_scores(flat: list[bytes]) -> tuple[list[bytes], list[float]]:
    """A zset listpack's members and parsed scores (``parse_double`` on each, in one
    ``map``: a function call per score is a large part of loading small zsets)."""
    if len(flat) % 2:
        raise RdbError("odd number of entries in a pair list")
    try:
        scores = list(map(float, flat[1::2]))
    except ValueError:
        raise RdbError("bad double") from None
    if any(score != score for score in scores):
        raise RdbError("NaN score")
    return flat[0::2], scores


_READERS: Final[dict[int, Callable[[RdbReader, int, Any], Any]]] = {
    kind: reader
    for kinds, reader in (
        ((TYPE_LIST, TYPE_LIST_ZIPLIST, TYPE_LIST_QUICKLIST, TYPE_LIST_QUICKLIST_2), _read_list),
        ((TYPE_SET, TYPE_SET_INTSET), _read_set),
        ((TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK, TYPE_ZSET_ZIPLIST), _read_zset),
        ((TYPE_HASH, TYPE_HASH_LISTPACK, TYPE_HASH_ZIPLIST, TYPE_HASH_ZIPMAP), _read_hash),
        (STREAM_TYPES, read_stream),
    )
    for kind in kinds
}
