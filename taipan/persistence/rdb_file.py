"""Whole RDB files: the "REDIS0010" header, AUX fields, function libraries, SELECTDB /
RESIZEDB, expiry and LRU/LFU opcodes, key-value records, and the EOF opcode with its
CRC64.

``write_snapshot`` streams a keyspace to a file object in ~1 MiB chunks (the CRC64
runs over the chunks as they go), ``snapshot`` is the same file as bytes,
``RdbWriter`` builds a file record by record (tests, tools), ``read_rdb`` parses one
into plain data (no keyspace side effects).

Both directions have an inlined fast path for the records most keyspaces are made
of, short plain strings: a function call or two per key is most of what a record
costs in Python, so the loops below do those records by hand and hand everything
else to the general writers and readers.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final

from taipan.persistence.function_payload import LibraryError, read_library, write_library
from taipan.persistence.loading import debug_delay, gc_paused
from taipan.persistence.rdb_format import (
    INT_FIRST_BYTES,
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
    TYPE_STRING,
    RdbError,
    RdbReader,
    crc64,
    write_length,
    write_string,
)
from taipan.persistence.rdb_values import read_value, write_body

MAGIC: Final = b"REDIS"
REDIS_VERSION: Final = b"7.0.15"  # the version the files claim to come from (redis-ver)
# Versions whose object encodings the value reader understands (ziplists and up).
_OLDEST_READABLE: Final = 1


@dataclass
class RdbContents:
    version: int
    aux: dict[bytes, bytes] = field(default_factory=dict)
    # db index -> key -> value, in file order (no object per key: most keys are a
    # plain key and value, and a wrapper object per key cost a third of the parse)
    databases: dict[int, dict[bytes, Any]] = field(default_factory=dict)
    # db index -> key -> absolute unix time in ms, for the keys that have one
    expires: dict[int, dict[bytes, int]] = field(default_factory=dict)
    # db index -> key -> (idle seconds, LFU counter), for keys saved with either
    access: dict[int, dict[bytes, tuple[int | None, int | None]]] = field(
        default_factory=dict)
    # RESIZEDB hints per db: (keys, keys with an expiry)
    sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    functions: list[bytes] = field(default_factory=list)  # library codes, in file order
    checksum: int = 0  # 0 when the file was saved without one
    end: int = 0  # offset just past the file (an AOF may go on with commands there)


_CHUNK_BYTES = 1 << 20  # write_snapshot hands the file this much at a time
# Strings at most this long are never LZF-compressed (Redis's rule), so a record of
# two of them can be written by hand.
_NEVER_COMPRESSED: Final = 20
_STRING_RECORD_HEAD: Final = [bytes((TYPE_STRING, size)) for size in range(64)]
_LENGTH_BYTE: Final = [bytes((size,)) for size in range(64)]


def _header(version: int = RDB_VERSION) -> bytearray:
    return bytearray(MAGIC + b"%04d" % version)


def _write_aux(out: bytearray, key: bytes, value: bytes, compress: bool) -> None:
    out.append(OPCODE_AUX)
    write_string(out, key, compress)
    write_string(out, value, compress)


def _write_select_db(out: bytearray, index: int, keys: int, expires: int) -> None:
    out.append(OPCODE_SELECTDB)
    write_length(out, index)
    out.append(OPCODE_RESIZEDB)
    write_length(out, keys)
    write_length(out, expires)


def _write_record(out: bytearray, key: bytes, value: Any, config: Any,
                  compress: bool) -> None:
    """A key-value record: type byte, key, body (the type is known once the body is)."""
    mark = len(out)
    out.append(0)
    write_string(out, key, compress)
    out[mark] = write_body(out, value, config, compress)


class RdbWriter:
    """Builds an RDB file in memory: header, then the caller's sections, then
    ``finish()``."""

    def __init__(self, config: Any, version: int = RDB_VERSION) -> None:
        self.config = config
        self.out = _header(version)
        self.compress = bool(getattr(config, "rdbcompression", True))

    def aux(self, key: bytes, value: bytes) -> None:
        _write_aux(self.out, key, value, self.compress)

    def function(self, code: bytes) -> None:
        """A function library's record (Redis writes them after the AUX fields)."""
        write_library(self.out, code, self.compress)

    def select_db(self, index: int, keys: int, expires: int) -> None:
        _write_select_db(self.out, index, keys, expires)

    def key(self, key: bytes, value: Any, expire_ms: int | None = None) -> None:
        """One key-value record, preceded by its expiry when it has one."""
        if expire_ms is not None:
            self.out.append(OPCODE_EXPIRETIME_MS)
            self.out += expire_ms.to_bytes(8, "little", signed=True)
        _write_record(self.out, key, value, self.config, self.compress)

    def finish(self) -> bytes:
        self.out.append(OPCODE_EOF)
        self.out += crc64(self.out).to_bytes(8, "little")
        return bytes(self.out)


def write_snapshot(out: BinaryIO, databases: Iterable[Any], config: Any,
                   aux: Iterable[tuple[bytes, bytes]] = (),
                   functions: Iterable[bytes] = ()) -> None:
    """Write a whole RDB file of keyspace ``Database`` objects to ``out`` (a binary
    file opened for writing), about 1 MiB at a time: the AUX fields Redis writes (plus
    ``aux``), a record per function library (``functions``: their codes), then each
    non-empty database with its RESIZEDB hint, keys and deadlines (expired keys
    included: a loading master drops them, as in Redis). The same bytes as
    ``snapshot``. ``rdb-key-save-delay`` slows it down per key, for tests."""
    compress = bool(getattr(config, "rdbcompression", True))
    key_delay = getattr(config, "rdb_key_save_delay", 0)
    saved = 0
    buf = _header()
    _write_aux(buf, b"redis-ver", REDIS_VERSION, compress)
    _write_aux(buf, b"redis-bits", b"64", compress)
    _write_aux(buf, b"ctime", b"%d" % int(time.time()), compress)
    for name, text in aux:  # (not ``value``: compiled, that name would be bytes below)
        _write_aux(buf, name, text, compress)
    for code in functions:  # before the databases, as rdbSaveRio
        write_library(buf, code, compress)
    crc = 0
    record_head, length_byte, int_first = _STRING_RECORD_HEAD, _LENGTH_BYTE, INT_FIRST_BYTES
    for db in databases:
        data = db.data
        if not data:
            continue
        expires = db.expires
        _write_select_db(buf, db.index, len(data), len(expires))
        for key, value in data.items():
            if expires:
                deadline = expires.get(key)
                if deadline is not None:
                    buf.append(OPCODE_EXPIRETIME_MS)
                    buf += deadline.to_bytes(8, "little", signed=True)
            # The fast path: key and value short, not integers, value never
            # compressed; exactly what write_string writes for them.
            if (type(value) is bytes and len(value) <= _NEVER_COMPRESSED
                    and len(key) < 64 and (not value or value[0] not in int_first)
                    and (not key or key[0] not in int_first)):
                buf += record_head[len(key)]
                buf += key
                buf += length_byte[len(value)]
                buf += value
            else:
                _write_record(buf, key, value, config, compress)
            if key_delay:
                saved += 1
                debug_delay(key_delay, saved)
            if len(buf) >= _CHUNK_BYTES:
                crc = crc64(buf, crc)
                _write_all(out, buf)
                buf = bytearray()
    buf.append(OPCODE_EOF)
    crc = crc64(buf, crc)
    buf += crc.to_bytes(8, "little")
    _write_all(out, buf)


def _write_all(out: BinaryIO, chunk: bytearray) -> None:
    """``out.write(chunk)``, again for the rest when a raw (unbuffered) file takes only
    part of it."""
    written = out.write(chunk)
    if written is not None and written < len(chunk):
        view = memoryview(chunk)
        while written < len(chunk):
            more = out.write(view[written:])
            if not more:
                raise OSError("short write while saving the RDB file")
            written += more


def snapshot(databases: Iterable[Any], config: Any,
             aux: Iterable[tuple[bytes, bytes]] = (),
             functions: Iterable[bytes] = ()) -> bytes:
    """``write_snapshot``'s file as bytes."""
    out = io.BytesIO()
    write_snapshot(out, databases, config, aux, functions)
    return out.getvalue()


# Takes a library's code as it is read; raises ValueError(reason) to fail the load.
FunctionLoader = Callable[[bytes], None]


def read_rdb(data: bytes, config: Any, load_function: FunctionLoader | None = None,
             ) -> RdbContents:
    """Parse a whole RDB file; ``RdbError`` when it is malformed or its CRC is wrong.

    Function libraries are collected in ``functions`` and, when ``load_function`` is
    given, handed to it as they are read, as Redis creates them while it loads: its
    ``ValueError`` fails the load like a malformed record, naming the record's offset.

    The cyclic garbage collector is paused meanwhile (``gc_paused``).
    """
    with gc_paused():
        return _read_rdb(data, config, load_function)


def _load_library(contents: RdbContents, reader: RdbReader, opcode: int,
                  load_function: FunctionLoader | None) -> None:
    """A library record (FUNCTION2, or a 7.0 release candidate's FUNCTION, which 7.0
    still loads): failures read as Redis logs them ("Failed loading library, ...")."""
    try:
        code = read_library(reader, opcode)
    except LibraryError as exc:
        raise RdbError(f"Failed loading library, {exc}") from None
    contents.functions.append(code)
    if load_function is not None:
        try:
            load_function(code)
        except ValueError as exc:
            raise RdbError(f"Failed loading library, {exc}") from None


def _read_rdb(data: bytes, config: Any, load_function: FunctionLoader | None,
              ) -> RdbContents:
    if len(data) < 9 or data[:5] != MAGIC or not data[5:9].isdigit():
        raise RdbError("wrong signature")
    version = int(data[5:9])
    if not _OLDEST_READABLE <= version <= RDB_VERSION:
        raise RdbError(f"can't handle RDB format version {version}")
    contents = RdbContents(version)
    reader = RdbReader(data, 9)
    data = reader.data  # bytes, for the inlined reads below
    size = len(data)
    pos = 9
    db_index = 0
    db = contents.databases.setdefault(0, {})
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None
    pending = False  # an expiry, idle or freq opcode waits for its key
    record = pos
    value: Any  # bytes or any collection (compiled, a first bytes binding would stick)
    try:
        while True:
            record = pos  # for error messages
            opcode = data[pos]
            pos += 1
            if opcode < OPCODE_FUNCTION2:  # a key-value record; the object type
                # Inlined reader.string() for keys and string values under 64 bytes
                # (a plain length byte); slicing doesn't check bounds, the test after
                # the record does.
                first = data[pos]
                if first < 64:
                    pos += 1 + first
                    key = data[pos - first:pos]
                else:
                    reader.pos = pos
                    key = reader.string()
                    pos = reader.pos
                if opcode == TYPE_STRING and data[pos] < 64:
                    first = data[pos]
                    pos += 1 + first
                    value = data[pos - first:pos]
                else:
                    reader.pos = pos
                    value = read_value(reader, opcode, config)
                    pos = reader.pos
                if pos > size:
                    raise IndexError  # reported with the offset below
                count = len(db)
                db[key] = value
                if pending or len(db) == count:  # (the same key again: its last record wins)
                    _note_key_opcodes(contents, db_index, key, expire_ms, idle, freq)
                    expire_ms = idle = freq = None
                    pending = False
                continue
            reader.pos = pos
            if opcode == OPCODE_EOF:
                break
            if opcode == OPCODE_EXPIRETIME_MS:
                expire_ms = int.from_bytes(reader.read(8), "little", signed=True)
                pending = True
            elif opcode == OPCODE_EXPIRETIME:
                expire_ms = int.from_bytes(reader.read(4), "little", signed=True) * 1000
                pending = True
            elif opcode == OPCODE_IDLE:
                idle = reader.length()
                pending = True
            elif opcode == OPCODE_FREQ:
                freq = reader.byte()
                pending = True
            elif opcode == OPCODE_SELECTDB:
                db_index = reader.length()
                db = contents.databases.setdefault(db_index, {})
            elif opcode == OPCODE_RESIZEDB:
                contents.sizes[db_index] = (reader.length(), reader.length())
            elif opcode == OPCODE_AUX:
                name = reader.string()
                contents.aux[name] = reader.string()
            elif opcode == OPCODE_FUNCTION2 or opcode == OPCODE_FUNCTION:
                _load_library(contents, reader, opcode, load_function)
            elif opcode == OPCODE_MODULE_AUX:
                raise RdbError("module data (MODULE_AUX opcode): Taipan loads no modules")
            else:
                raise RdbError(f"unknown RDB opcode {opcode}")
            pos = reader.pos
    except IndexError:
        raise RdbError(f"unexpected end of RDB data in the record at offset {record}"
                       ) from None
    except (OverflowError, TypeError, RdbError) as exc:
        raise RdbError(f"{exc} in the record at offset {record}") from None
    if version >= 5:
        end = reader.pos
        stored = int.from_bytes(reader.read(8), "little")
        if stored and stored != crc64(memoryview(data)[:end]):
            raise RdbError("RDB checksum mismatch")
        contents.checksum = stored
    contents.end = reader.pos
    contents.databases = {i: keys for i, keys in contents.databases.items() if keys}
    return contents


def _note_key_opcodes(contents: RdbContents, db_index: int, key: bytes,
                      expire_ms: int | None, idle: int | None, freq: int | None) -> None:
    """What the opcodes before a key said of it: its deadline, idle time, LFU counter.
    (A key saved twice in one file keeps the last record's, as its value does.)"""
    if expire_ms is not None:
        contents.expires.setdefault(db_index, {})[key] = expire_ms
    else:
        contents.expires.get(db_index, {}).pop(key, None)
    if idle is not None or freq is not None:
        contents.access.setdefault(db_index, {})[key] = (idle, freq)
    else:
        contents.access.get(db_index, {}).pop(key, None)
