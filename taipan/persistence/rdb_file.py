"""Whole RDB files: the "REDIS0010" header, AUX fields, SELECTDB / RESIZEDB, expiry and
LRU/LFU opcodes, key-value records, and the EOF opcode with its CRC64.

Groundwork for SAVE / BGSAVE and loading at startup: ``RdbWriter`` builds a file in
memory, ``read_rdb`` parses one into plain data (no keyspace side effects).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from taipan.persistence.rdb_format import (
    OPCODE_AUX,
    OPCODE_EOF,
    OPCODE_EXPIRETIME,
    OPCODE_EXPIRETIME_MS,
    OPCODE_FREQ,
    OPCODE_FUNCTION,
    OPCODE_FUNCTION2,
    OPCODE_IDLE,
    OPCODE_MODULE_AUX,
    OPCODE_RESIZEDB,
    OPCODE_SELECTDB,
    RDB_VERSION,
    RdbError,
    RdbReader,
    crc64,
    write_length,
    write_string,
)
from taipan.persistence.rdb_values import read_value, write_value

MAGIC = b"REDIS"
REDIS_VERSION = b"7.0.15"  # the version the files claim to come from (redis-ver)
# Versions whose object encodings the value reader understands (ziplists and up).
_OLDEST_READABLE = 1


@dataclass
class LoadedKey:
    value: Any
    expire_ms: int | None = None  # absolute unix time in ms
    idle_seconds: int | None = None
    freq: int | None = None


@dataclass
class RdbContents:
    version: int
    aux: dict[bytes, bytes] = field(default_factory=dict)
    # db index -> key -> what was loaded, in file order
    databases: dict[int, dict[bytes, LoadedKey]] = field(default_factory=dict)
    # RESIZEDB hints per db: (keys, keys with an expiry)
    sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    functions: list[bytes] = field(default_factory=list)
    checksum: int = 0  # 0 when the file was saved without one


class RdbWriter:
    """Builds an RDB file: header, then the caller's sections, then ``finish()``."""

    def __init__(self, config: Any, version: int = RDB_VERSION) -> None:
        self.config = config
        self.out = bytearray(MAGIC + b"%04d" % version)
        self.compress = bool(getattr(config, "rdbcompression", True))

    def aux(self, key: bytes, value: bytes) -> None:
        self.out.append(OPCODE_AUX)
        write_string(self.out, key, self.compress)
        write_string(self.out, value, self.compress)

    def select_db(self, index: int, keys: int, expires: int) -> None:
        self.out.append(OPCODE_SELECTDB)
        write_length(self.out, index)
        self.out.append(OPCODE_RESIZEDB)
        write_length(self.out, keys)
        write_length(self.out, expires)

    def key(self, key: bytes, value: Any, expire_ms: int | None = None) -> None:
        """One key-value record, preceded by its expiry when it has one."""
        out = self.out
        if expire_ms is not None:
            out.append(OPCODE_EXPIRETIME_MS)
            out += expire_ms.to_bytes(8, "little", signed=True)
        body = bytearray()
        write_value(body, value, self.config)
        out.append(body[0])  # the object type comes before the key
        write_string(out, key, self.compress)
        out += body[1:]

    def finish(self) -> bytes:
        self.out.append(OPCODE_EOF)
        self.out += crc64(self.out).to_bytes(8, "little")
        return bytes(self.out)


def snapshot(databases: Iterable[Any], config: Any,
             aux: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """A whole RDB file of keyspace ``Database`` objects: the AUX fields Redis writes
    (plus ``aux``), then each non-empty database with its RESIZEDB hint, keys and
    deadlines (expired keys included: a loading master drops them, as in Redis)."""
    writer = RdbWriter(config)
    writer.aux(b"redis-ver", REDIS_VERSION)
    writer.aux(b"redis-bits", b"64")
    writer.aux(b"ctime", b"%d" % int(time.time()))
    for name, value in aux:
        writer.aux(name, value)
    for db in databases:
        if not db.data:
            continue
        writer.select_db(db.index, len(db.data), len(db.expires))
        expires = db.expires
        for key, value in db.data.items():
            writer.key(key, value, expires.get(key))
    return writer.finish()


def read_rdb(data: bytes, config: Any) -> RdbContents:
    """Parse a whole RDB file; ``RdbError`` when it is malformed or its CRC is wrong."""
    if len(data) < 9 or data[:5] != MAGIC or not data[5:9].isdigit():
        raise RdbError("wrong signature")
    version = int(data[5:9])
    if not _OLDEST_READABLE <= version <= RDB_VERSION:
        raise RdbError(f"can't handle RDB format version {version}")
    contents = RdbContents(version)
    reader = RdbReader(data, 9)
    db_index = 0
    db = contents.databases.setdefault(0, {})
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None
    try:
        while True:
            opcode = reader.byte()
            if opcode == OPCODE_EOF:
                break
            if opcode == OPCODE_EXPIRETIME_MS:
                expire_ms = int.from_bytes(reader.read(8), "little", signed=True)
            elif opcode == OPCODE_EXPIRETIME:
                expire_ms = int.from_bytes(reader.read(4), "little", signed=True) * 1000
            elif opcode == OPCODE_IDLE:
                idle = reader.length()
            elif opcode == OPCODE_FREQ:
                freq = reader.byte()
            elif opcode == OPCODE_SELECTDB:
                db_index = reader.length()
                db = contents.databases.setdefault(db_index, {})
            elif opcode == OPCODE_RESIZEDB:
                contents.sizes[db_index] = (reader.length(), reader.length())
            elif opcode == OPCODE_AUX:
                name = reader.string()
                contents.aux[name] = reader.string()
            elif opcode == OPCODE_FUNCTION2:
                contents.functions.append(reader.string())
            elif opcode in (OPCODE_FUNCTION, OPCODE_MODULE_AUX):
                raise RdbError(f"unsupported RDB opcode {opcode}")
            else:
                key = reader.string()
                value = read_value(reader, opcode, config)
                db[key] = LoadedKey(value, expire_ms, idle, freq)
                expire_ms = idle = freq = None
    except (IndexError, OverflowError, TypeError) as exc:
        raise RdbError(str(exc)) from exc
    if version >= 5:
        end = reader.pos
        stored = int.from_bytes(reader.read(8), "little")
        if stored and stored != crc64(data[:end]):
            raise RdbError("RDB checksum mismatch")
        contents.checksum = stored
    contents.databases = {i: keys for i, keys in contents.databases.items() if keys}
    return contents
