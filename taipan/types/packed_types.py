"""What a small collection looks like at rest: one ``bytes`` object, tagged by class.

A hash of ten short fields as a live ``RedisHash`` is about twenty byte strings and a
dict table, some 1.5 KB; packed it is one blob of about 150 bytes, close to Redis's
listpack. ``types/packed.py`` builds and opens these blobs and says which collections
qualify; ``keyspace/database.py`` keeps idle small collections packed and opens one
when a command looks it up. This module only holds the classes: subclasses of a
builtin stay interpreted when mypyc compiles the codec.

Each class is a ``bytes`` with no instance dict, so a packed value costs the blob
plus a 16-byte GC header. It answers TYPE and OBJECT ENCODING itself, so the few
walkers that read the keyspace without opening values (SCAN's TYPE filter, KEYS,
MEMORY USAGE) need not unpack anything. Values are told from strings by exact type
(``type(value) is bytes``), never by ``isinstance``.
"""

from __future__ import annotations

from typing import Any


class PackedHash(bytes):
    """A listpack-encoded hash: fields and values alternating, in insertion order."""

    __slots__ = ()
    TYPE_NAME = "hash"

    def encoding(self, config: Any) -> str:
        return "listpack"


class PackedList(bytes):
    """A short list: its items in order (Redis 7.0 calls every list a quicklist)."""

    __slots__ = ()
    TYPE_NAME = "list"

    def encoding(self, config: Any) -> str:
        return "quicklist"


class PackedSet(bytes):
    """A small hashtable-encoded set: its members."""

    __slots__ = ()
    TYPE_NAME = "set"

    def encoding(self, config: Any) -> str:
        return "hashtable"


class PackedIntSet(bytes):
    """An intset: the sorted 64-bit integers' machine bytes (an ``array('q')``)."""

    __slots__ = ()
    TYPE_NAME = "set"

    def encoding(self, config: Any) -> str:
        return "intset"


class PackedZSet(bytes):
    """A listpack-encoded sorted set: its sort keys (score prefix + member) in order."""

    __slots__ = ()
    TYPE_NAME = "zset"

    def encoding(self, config: Any) -> str:
        return "listpack"


PACKED_TYPES: frozenset[type] = frozenset(
    (PackedHash, PackedList, PackedSet, PackedIntSet, PackedZSet))
