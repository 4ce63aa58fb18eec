"""What keys and values occupy in this process's heap: the cost model behind
``used_memory`` (maintained incrementally by ``Database``) and MEMORY USAGE.

The figures are CPython's object sizes (``sys.getsizeof``) rounded to pymalloc's
16-byte size classes; containers' elements are sampled and extrapolated to their
length, as Redis's objectComputeSize samples nested values. Dict and heap tables
of the keyspace itself are measured where they live (``taipan/used_memory.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed_types import PACKED_TYPES
from taipan.types.sets import RedisSet
from taipan.types.stream import Stream
from taipan.types.zset import ZSet

POINTER = 8
# A CPython dict entry (hash, key, value) plus its share of the index table.
DICT_ENTRY = 3 * POINTER + POINTER
_BYTES_HEADER = sys.getsizeof(b"")  # 33 on 64-bit CPython
# A string key's own cost besides its two byte strings' payloads: both objects'
# headers, rounded up to the size class on average (8 bytes each). ``Database``
# counts a string key as this plus the key's and the value's lengths, inline.
STRING_KEY_OVERHEAD = 2 * (_BYTES_HEADER + 8)
# An expiry heap entry: its (deadline, key) tuple and the deadline int it holds.
EXPIRY_ENTRY = 64 + 32
# Samples when the keyspace measures a changed collection (MEMORY USAGE's default).
ACCOUNTING_SAMPLES = 5
# Below this length a changed collection is measured again instead of extrapolated.
_EXACT_BELOW = 8


def obj(size: int) -> int:
    """``size`` rounded up to pymalloc's 16-byte size classes."""
    return (size + 15) & ~15


def packed_size(value: bytes) -> int:
    """Bytes a packed small collection occupies (``types/packed.py``): its blob, with
    the 16-byte GC header a ``bytes`` subclass carries."""
    return obj(sys.getsizeof(value))


def value_size(value: Any, samples: int) -> int:
    """Bytes ``value`` occupies: containers' elements sampled ``samples`` at a time
    and extrapolated to their length, as Redis's objectComputeSize."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return obj(sys.getsizeof(value))
    if kind in PACKED_TYPES:
        return packed_size(value)
    if kind is RedisList:
        return sys.getsizeof(value) + _sampled(value, len(value), samples, _bytes_size)
    if kind is RedisHash:
        size = sys.getsizeof(value) + _sampled(value.items(), len(value), samples, _pair_size)
        if value.sampler is not None:
            size += POINTER * 2 * len(value)
        return size
    if kind is RedisSet:
        if value.ints is not None:
            return obj(sys.getsizeof(value)) + sys.getsizeof(value.ints)
        members = value.members
        size = obj(sys.getsizeof(value)) + sys.getsizeof(members)
        size += _sampled(members, len(members), samples, _bytes_size)  # type: ignore[arg-type]
        if value.sampler is not None:
            size += POINTER * 2 * len(members)  # type: ignore[arg-type]
        return size
    if kind is ZSet:
        return _zset_size(value, samples)
    if kind is Stream:
        return _stream_size(value, samples)
    return sys.getsizeof(value)


def measure(value: Any, previous: tuple[int, int, int] | None) -> tuple[int, int, int]:
    """The keyspace's figure for a changed non-``bytes`` value: (bytes, length when
    last sampled, bytes then). A collection whose length stayed within a factor of
    two of the last sample is extrapolated from it in O(1); others are sampled."""
    length = len(value)
    if previous is not None and type(value) is not bytearray and length >= _EXACT_BELOW:
        _, sampled_length, sampled_bytes = previous
        if sampled_length and sampled_length // 2 <= length <= sampled_length * 2:
            per_item = sampled_bytes // sampled_length
            return sampled_bytes + per_item * (length - sampled_length), sampled_length, \
                sampled_bytes
    size = value_size(value, ACCOUNTING_SAMPLES)
    return size, length, size


def key_size(key: bytes) -> int:
    return obj(sys.getsizeof(key))


def _bytes_size(item: bytes) -> int:
    return obj(sys.getsizeof(item))


def _sampled(items: Iterable[Any], length: int, samples: int,
             size_of: Callable[[Any], int]) -> int:
    """The summed size of the first ``samples`` items, extrapolated to ``length``."""
    if length == 0:
        return 0
    taken = total = 0
    for item in islice(items, samples):
        total += size_of(item)
        taken += 1
    return int(total / taken * length) if taken else 0


def _pair_size(pair: tuple[bytes, bytes]) -> int:
    return obj(sys.getsizeof(pair[0])) + obj(sys.getsizeof(pair[1]))


def _zset_size(zset: ZSet, samples: int) -> int:
    # member -> sort key (score prefix + member) in a dict, and every sort key again
    # (the same object) in the ordered container: one pointer each there.
    keys = zset._keys
    size = obj(sys.getsizeof(zset)) + sys.getsizeof(keys) + sys.getsizeof(zset._order)
    if not zset.listpack:
        size += POINTER * len(keys)  # SortedKeys' sublists (and their position index)
    return size + _sampled(keys.items(), len(keys), samples, _pair_size)


def _stream_size(stream: Stream, samples: int) -> int:
    size = sys.getsizeof(stream) + stream.memory_bytes()
    size += POINTER * 2 * len(stream._firsts)  # the nodes' master IDs
    for group in stream.groups.values():
        size += sys.getsizeof(group) + sys.getsizeof(group.name)
        # Each pending entry: its ID key, the entry, and the consumer's own index of it.
        size += len(group.pending) * (DICT_ENTRY * 2 + 64)
        size += _sampled(group.consumers.values(), len(group.consumers), samples,
                         lambda consumer: sys.getsizeof(consumer) + sys.getsizeof(consumer.name))
    return size
