"""Small collections packed into one blob at rest, and opened again for a command.

Redis keeps a small hash, sorted set or set in one contiguous allocation (listpack,
intset); Python's natural forms (a dict of byte strings, a set) cost ten times that.
So an idle small collection is kept as one of the ``bytes`` subclasses of
``types/packed_types.py``, and a command that looks its key up gets the live type
back (``unpack``). The keyspace packs the collections commands touched once per cron
tick (``Database.pack_loose``), so a busy key is opened once per tick, not once per
command. A few commands skip the opening (``Database.get_at_rest``): the readers of
a hash's fields, a list's items, a sorted set's members and a set's membership read
the blob with the walkers below, and HSET rewrites a hash that stays small
(``hash_with_pairs``).

Layout of a blob of items (all kinds but the intset): the item count as two bytes
(little-endian), one length byte per item, then the items back to back. So an item
is at most 255 bytes and a blob holds at most 65,535 items; larger collections stay
live. An intset is its ``array('q')``'s machine bytes.

What qualifies is chosen so that opening a value stays a few microseconds: hashes
and sorted sets while Redis would keep them a listpack (and no more than
``MAX_PAIRS`` entries however the thresholds are set), lists of at most
``MAX_ITEMS`` items, hashtable sets of at most ``MAX_ITEMS`` members, intsets of at
most ``MAX_INTS`` members. Packing never changes what OBJECT ENCODING reports.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from itertools import chain
from typing import Any, Final

from taipan.types import packed_types
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed_types import (
    PackedHash,
    PackedIntSet,
    PackedList,
    PackedSet,
    PackedZSet,
)
from taipan.types.sets import RedisSet, intset_value
from taipan.types.zset import ZSet, sort_key_score

__all__ = ["PACKED_TYPES", "pack", "unpack", "live_value", "packed_items", "packed_count",
           "hash_field", "hash_with_pairs", "zset_member", "set_has", "set_size",
           "MAX_ITEMS", "MAX_PAIRS", "MAX_INTS", "hash_from_flat", "list_from_items",
           "set_from_members", "intset_from_values", "zset_from_sort_keys"]

# Re-exported Final: compiled, other compiled modules read it as a C static, where
# an imported name is a lookup in the module's dict on every use (Database.get).
PACKED_TYPES: Final = packed_types.PACKED_TYPES

MAX_ITEMS: Final = 128  # list items, hashtable-set members
MAX_PAIRS: Final = 256  # hash fields, sorted-set members (Redis's default listpack limit is 128)
MAX_INTS: Final = 512  # intset members (set-max-intset-entries' default)


# Header bytes, prebuilt: a list index is much cheaper than bytes(map(len, items)).
_LENGTH_BYTE: Final = [bytes((size,)) for size in range(256)]
_COUNT_BYTES: Final = [count.to_bytes(2, "little") for count in range(2 * MAX_PAIRS + 1)]


def _blob(items: list[bytes]) -> bytes | None:
    """``items`` (at most 2 * MAX_PAIRS) laid out as one blob, or None when an item is
    too long for it."""
    length_byte = _LENGTH_BYTE
    try:
        parts = [length_byte[len(item)] for item in items]
    except IndexError:  # an item longer than 255 bytes
        return None
    parts.insert(0, _COUNT_BYTES[len(items)])
    parts.extend(items)
    return b"".join(parts)


def hash_field(blob: bytes, field: bytes) -> bytes | None:
    """The value of ``field`` in a packed hash, found by walking the blob's length
    bytes: no item is copied but the value returned."""
    count = packed_count(blob)
    position = 2 + count
    size = len(field)
    for index in range(2, 2 + count, 2):
        field_size = blob[index]
        value_size = blob[index + 1]
        if field_size == size and blob.startswith(field, position):
            start = position + field_size
            return blob[start:start + value_size]
        position += field_size + value_size
    return None


def zset_member(blob: bytes, member: bytes) -> tuple[int, float] | None:
    """(rank, score) of ``member`` in a packed sorted set, found by walking the blob's
    sort keys (an 8-byte score prefix, then the member) without copying any."""
    count = packed_count(blob)
    position = 2 + count
    wanted = len(member) + 8
    for index in range(count):
        size = blob[2 + index]
        if size == wanted and blob.startswith(member, position + 8):
            return index, sort_key_score(blob[position:position + 8])
        position += size
    return None


def set_has(blob: bytes, member: bytes) -> bool:
    """Whether a packed set (``PackedSet`` or ``PackedIntSet``) holds ``member``: the
    hashtable kind's members walked by their length bytes, the intset's sorted
    integers bisected in place."""
    if type(blob) is PackedIntSet:
        value = intset_value(member)
        if value is None:
            return False
        ints = memoryview(blob).cast("q")
        index = bisect_left(ints, value)
        return index < len(ints) and ints[index] == value
    count = packed_count(blob)
    position = 2 + count
    size = len(member)
    for index in range(2, 2 + count):
        item_size = blob[index]
        if item_size == size and blob.startswith(member, position):
            return True
        position += item_size
    return False


def set_size(blob: bytes) -> int:
    """How many members a packed set holds."""
    return len(blob) // 8 if type(blob) is PackedIntSet else packed_count(blob)


def packed_count(blob: bytes) -> int:
    """How many items a blob laid out by ``_blob`` holds (a hash: fields and values)."""
    return blob[0] | (blob[1] << 8)


def packed_items(blob: bytes) -> list[bytes]:
    """The items of a blob laid out by ``_blob`` (any packed kind but the intset):
    a hash's fields and values alternating, a list's items, a set's members, a
    sorted set's sort keys."""
    count = packed_count(blob)
    position = 2 + count
    items = []
    for index in range(2, 2 + count):
        end = position + blob[index]
        items.append(blob[position:end])
        position = end
    return items


def pack(value: Any) -> bytes | None:
    """``value`` packed, or None when it doesn't qualify (see the module's note)."""
    kind = type(value)
    # (each size test comes before the items are listed: a big value costs nothing)
    if kind is RedisHash:
        if value.hashtable or len(value) > MAX_PAIRS:
            return None
        return hash_from_flat(list(chain.from_iterable(value.items())))
    if kind is RedisList:
        return list_from_items(list(value)) if len(value) <= MAX_ITEMS else None
    if kind is RedisSet:
        ints = value.ints
        if ints is not None:
            return PackedIntSet(ints.tobytes()) if 0 < len(ints) <= MAX_INTS else None
        members = value.members
        return set_from_members(list(members)) if len(members) <= MAX_ITEMS else None
    if kind is ZSet:
        if not value.listpack or len(value) > MAX_PAIRS:
            return None
        return zset_from_sort_keys(value.sort_keys())
    return None


# -- built from items (a live value's, or decoded from an RDB file) -----------------

def _packed_as(kind: Any, items: list[bytes], limit: int) -> bytes | None:
    """``items`` as a blob of class ``kind``, or None past ``limit`` items, when
    empty, or when an item is too long."""
    if not 0 < len(items) <= limit:
        return None
    blob = _blob(items)
    return None if blob is None else kind(blob)


def hash_from_flat(flat: list[bytes]) -> bytes | None:
    """A listpack hash's distinct fields and values alternating."""
    return _packed_as(PackedHash, flat, 2 * MAX_PAIRS)


def hash_with_pairs(blob: bytes, args: list[bytes], start: int, max_value: int,
                    max_entries: int) -> tuple[bytes, int] | None:
    """A packed hash with ``args[start:]`` set as field, value pairs (an existing field
    keeps its place, a new one goes last, as in a listpack), and how many fields were
    new. None when the hash would not stay a listpack (an argument longer than
    ``max_value``, more than ``max_entries`` fields) or a blob: the caller then opens
    it and converts it as Redis does."""
    for index in range(start, len(args)):
        if len(args[index]) > max_value:
            return None
    items = packed_items(blob)
    positions: dict[bytes, int] = {}
    for index in range(0, len(items), 2):
        positions[items[index]] = index
    added = 0
    for index in range(start, len(args), 2):
        field = args[index]
        at = positions.get(field)
        if at is None:
            positions[field] = len(items)
            items.append(field)
            items.append(args[index + 1])
            added += 1
        else:
            items[at + 1] = args[index + 1]
    if len(positions) > max_entries:
        return None
    packed = hash_from_flat(items)
    return None if packed is None else (packed, added)


def list_from_items(items: list[bytes]) -> bytes | None:
    return _packed_as(PackedList, items, MAX_ITEMS)


def set_from_members(members: list[bytes]) -> bytes | None:
    """A hashtable set's distinct members."""
    return _packed_as(PackedSet, members, MAX_ITEMS)


def intset_from_values(values: list[int]) -> bytes | None:
    """An intset's values, ascending and distinct."""
    if not 0 < len(values) <= MAX_INTS:
        return None
    return PackedIntSet(array("q", values).tobytes())


def zset_from_sort_keys(keys: list[bytes]) -> bytes | None:
    """A listpack sorted set's sort keys (``types/zset.py``), ascending."""
    return _packed_as(PackedZSet, keys, MAX_PAIRS)


def live_value(value: Any) -> Any:
    """``value`` opened if it is packed, else itself (for readers of stored values)."""
    return unpack(value) if type(value) in PACKED_TYPES else value


def unpack(value: Any) -> Any:
    """The live collection a packed value stands for (a new object each call)."""
    kind = type(value)
    if kind is PackedHash:
        pairs = iter(packed_items(value))
        # (an even count by construction; strict=True would cost a third more)
        return RedisHash(zip(pairs, pairs))  # noqa: B905
    if kind is PackedList:
        return RedisList(packed_items(value))
    if kind is PackedZSet:
        return ZSet.from_sort_keys(packed_items(value))
    result = RedisSet()
    if kind is PackedIntSet:
        ints = array("q")
        ints.frombytes(value)
        result.ints = ints
        return result
    result.ints = None
    result.members = set(packed_items(value))
    return result
