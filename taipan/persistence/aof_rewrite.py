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
from taipan.types.sets import RedisSet
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
    else:
        raise TypeError(f"can't rewrite a value of type {type(value).__name__}")


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
