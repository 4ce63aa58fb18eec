"""What an AOF rewrite writes into a new base file.

With ``aof-use-rdb-preamble yes`` (the default) the base is an RDB snapshot (aux
field ``aof-base`` 1, function libraries included), as Redis 7 writes
``appendonly.aof.N.base.rdb``; with ``no`` it is commands: a FUNCTION LOAD per
library first (Redis's rewriteFunctions), then one command per key and type (at most
64 items each, as Redis's AOF_REWRITE_ITEMS_PER_CMD), then PEXPIREAT for keys with a
deadline.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from taipan import memory
from taipan.keyspace.database import Database, now_ms
from taipan.persistence.functions_link import library_codes
from taipan.persistence.rdb_file import write_snapshot
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed import PACKED_TYPES, unpack
from taipan.types.sets import RedisSet
from taipan.types.stream import DELETED, Stream
from taipan.types.zset import ZSet

if TYPE_CHECKING:
    from taipan.instance import Instance

ITEMS_PER_COMMAND = 64


def encode_command(argv: list[bytes]) -> bytes:
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(bytes(arg))
        parts.append(b"\r\n")
    return b"".join(parts)


def _score(value: float) -> bytes:
    return repr(float(value)).encode()  # shortest text that parses back to the same double


def _chunks(items: Iterable[Any], size: int = ITEMS_PER_COMMAND) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def key_commands(key: bytes, value: Any) -> Iterator[list[bytes]]:
    """The commands that rebuild ``key`` holding ``value`` (without its expiry)."""
    if type(value) in PACKED_TYPES:
        value = unpack(value)
    if isinstance(value, (bytes, bytearray)):
        yield [b"SET", key, bytes(value)]
    elif isinstance(value, RedisList):
        for chunk in _chunks(value):
            yield [b"RPUSH", key, *chunk]
    elif isinstance(value, RedisSet):
        for chunk in _chunks(value):
            yield [b"SADD", key, *chunk]
    elif isinstance(value, ZSet):
        for chunk in _chunks(value):
            argv = [b"ZADD", key]
            for member, score in chunk:
                argv += (_score(score), member)
            yield argv
    elif isinstance(value, RedisHash):
        for chunk in _chunks(value.items()):
            argv = [b"HMSET", key]
            for field, item in chunk:
                argv += (field, bytes(item))
            yield argv
    elif isinstance(value, Stream):
        yield from stream_commands(key, value)
    else:
        raise TypeError(f"can't rewrite a value of type {type(value).__name__}")


def _id(entry_id: tuple[int, int]) -> bytes:
    return b"%d-%d" % entry_id


def stream_commands(key: bytes, stream: Stream) -> Iterator[list[bytes]]:
    """A stream as Redis 7.0's rewriteStreamObject writes it: an XADD per entry (an
    empty stream is made by XADD MAXLEN 0), XSETID with the counters, then per group
    XGROUP CREATE with its entries-read and an XCLAIM ... FORCE per pending entry, or
    XGROUP CREATECONSUMER for a consumer that owns none."""
    if stream.length:
        for nodes in stream.nodes():
            for entry_id, flags, fields in nodes[2]:
                if not flags & DELETED:
                    yield [b"XADD", key, _id(entry_id), *fields]
    else:
        yield [b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]
    yield [b"XSETID", key, _id(stream.last_id), b"ENTRIESADDED", b"%d" % stream.entries_added,
           b"MAXDELETEDID", _id(stream.max_deleted_id)]
    for name, group in stream.groups.items():
        yield [b"XGROUP", b"CREATE", key, name, _id(group.last_id), b"ENTRIESREAD",
               b"%d" % group.entries_read]
        for consumer_name, consumer in group.consumers.items():
            if not consumer.pending:
                yield [b"XGROUP", b"CREATECONSUMER", key, name, consumer_name]
                continue
            for entry_id, pending in consumer.pending.items():
                yield [b"XCLAIM", key, name, consumer_name, b"0", _id(entry_id),
                       b"TIME", b"%d" % pending.delivery_time,
                       b"RETRYCOUNT", b"%d" % pending.delivery_count, b"JUSTID", b"FORCE"]


def write_functions(codes: Iterable[bytes], out: BinaryIO) -> None:
    """``FUNCTION LOAD <code>`` per library, as rewriteFunctions writes them (no
    REPLACE: an AOF is loaded into an empty server)."""
    for code in codes:
        out.write(encode_command([b"FUNCTION", b"LOAD", code]))


def write_dataset(databases: list[Database], out: BinaryIO) -> int:
    """Write every live key as commands; return the number of keys written."""
    now = now_ms()
    written = 0
    for db in databases:
        if not db.data:
            continue
        out.write(encode_command([b"SELECT", b"%d" % db.index]))
        expires = db.expires
        for key, value in db.data.items():
            deadline = expires.get(key)
            if deadline is not None and deadline <= now:
                continue  # already expired: not worth a key and a DEL
            for argv in key_commands(key, value):
                out.write(encode_command(argv))
            if deadline is not None:
                out.write(encode_command([b"PEXPIREAT", key, b"%d" % deadline]))
            written += 1
    return written


def write_base(path: str, instance: Instance) -> None:
    """Write the dataset to ``path`` as a base file and fsync it (a partial file is
    removed: the caller renames only a complete one into place)."""
    try:
        with open(path, "wb", buffering=1 << 20) as out:
            codes = library_codes(instance)
            if instance.config.aof_use_rdb_preamble:
                aux = ((b"used-mem", b"%d" % memory.used_bytes()), (b"aof-base", b"1"))
                write_snapshot(out, instance.databases, instance.config, aux, codes)
            else:
                write_functions(codes, out)
                write_dataset(instance.databases, out)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
