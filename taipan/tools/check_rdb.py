"""``taipan-check-rdb <file>``: walk a whole RDB file and report, like redis-check-rdb.

Each record is decoded with the persistence readers (``RdbReader``, ``read_value``,
``crc64``); the walk itself is done here, not with ``read_rdb``, because the report
needs the offset after every record and where an error happened.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from taipan.config import Config
from taipan.persistence.function_payload import LibraryError, read_library
from taipan.persistence.rdb_file import MAGIC
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
)
from taipan.persistence.rdb_values import read_value

TYPE_NAMES = {
    0: "string", 1: "list-linked", 2: "set-hashtable", 3: "zset-v1", 4: "hash-hashtable",
    5: "zset-v2", 6: "module-pre-release", 7: "module-value", 9: "hash-zipmap",
    10: "list-ziplist", 11: "set-intset", 12: "zset-ziplist", 13: "hash-ziplist",
    14: "quicklist", 15: "stream", 16: "hash-listpack", 17: "zset-listpack",
    18: "quicklist-v2", 19: "stream-v2",
}
_VALUE_TYPES = set(TYPE_NAMES)
_EOF = "Unexpected EOF reading RDB file"


@dataclass
class RdbReport:
    ok: bool
    end: int  # offset after the last byte read (after the checksum when OK)
    keys: int = 0
    expires: int = 0
    already_expired: int = 0
    error: str | None = None
    error_offset: int | None = None


def check_rdb(data: bytes, name: str, emit: Callable[[str], None] = print,
              config: Any = None, stop_at_eof: bool = True) -> RdbReport:
    """Check ``data`` (a whole RDB, or the RDB preamble of an AOF: then the report's
    ``end`` is where the AOF tail starts). Prints through ``emit``."""
    config = config or Config()
    now_ms = int(time.time() * 1000)
    report = RdbReport(False, 0)
    reader = RdbReader(data, 0)
    doing = "start"
    key: bytes | None = None
    kind: int | None = None

    def fail(message: str, offset: int) -> RdbReport:
        report.error, report.error_offset, report.end = message, offset, offset
        emit("--- RDB ERROR DETECTED ---")
        emit(f"[offset {offset}] {message}")
        emit(f"[additional info] While doing: {doing}")
        if key is not None:
            emit(f"[additional info] Reading key '{key.decode(errors='replace')}'")
        if kind is not None:
            emit(f"[additional info] Reading type {kind} ({TYPE_NAMES.get(kind, 'unknown')})")
        _summary(report, emit)
        return report

    emit(f"[offset 0] Checking RDB file {name}")
    doing = "start"
    if len(data) < 9:
        return fail(_EOF, 0)
    header_end = 9
    if data[:5] != MAGIC or not data[5:9].isdigit():
        return fail("Wrong signature trying to load DB from file", header_end)
    version = int(data[5:9])
    if not 1 <= version <= RDB_VERSION:
        return fail(f"Can't handle RDB format version {version}", header_end)
    reader.pos = 9
    expire_ms: int | None = None
    try:
        while True:
            key = kind = None
            doing = "read-type"
            start = reader.pos
            opcode = reader.byte()
            if opcode == OPCODE_EOF:
                break
            if opcode == OPCODE_EXPIRETIME_MS:
                doing = "read-expire"
                expire_ms = int.from_bytes(reader.read(8), "little", signed=True)
            elif opcode == OPCODE_EXPIRETIME:
                doing = "read-expire"
                expire_ms = int.from_bytes(reader.read(4), "little", signed=True) * 1000
            elif opcode == OPCODE_IDLE:
                doing = "read-lru"
                reader.length()
            elif opcode == OPCODE_FREQ:
                doing = "read-lfu"
                reader.byte()
            elif opcode == OPCODE_SELECTDB:
                doing = "read-db-id"
                db_index = reader.length()
                emit(f"[offset {reader.pos}] Selecting DB ID {db_index}")
            elif opcode == OPCODE_RESIZEDB:
                doing = "read-resize-db"
                reader.length()
                reader.length()
            elif opcode == OPCODE_AUX:
                doing = "read-aux"
                aux_name = reader.string().decode(errors="replace")
                aux_value = reader.string().decode(errors="replace")
                emit(f"[offset {reader.pos}] AUX FIELD {aux_name} = '{aux_value}'")
            elif opcode == OPCODE_FUNCTION2 or opcode == OPCODE_FUNCTION:
                # Checked for structure only, as redis-check-rdb does: no engine runs.
                doing = "read-functions"
                try:
                    read_library(reader, opcode)
                except LibraryError as exc:
                    return fail(f"Failed loading library, {exc}", reader.pos)
            elif opcode == OPCODE_MODULE_AUX:
                doing = "read-module-aux"
                return fail(f"Unsupported RDB opcode {opcode}", start)
            elif opcode in _VALUE_TYPES:
                kind = opcode
                doing = "read-key"
                key = reader.string()
                doing = "read-object-value"
                if kind in (6, 7):
                    return fail("Module values are not supported", reader.pos)
                else:
                    read_value(reader, kind, config)
                report.keys += 1
                if expire_ms is not None:
                    report.expires += 1
                    if expire_ms < now_ms:
                        report.already_expired += 1
                expire_ms = None
            else:
                return fail(f"Invalid object type: {opcode}", reader.pos)
    except RdbError as exc:
        message = str(exc)
        return fail(_EOF if message == "unexpected end of RDB data" else message, reader.pos)
    except (ValueError, IndexError, OverflowError, TypeError) as exc:
        return fail(f"Bad encoding: {exc}", reader.pos)
    key = kind = None
    doing = "check-sum"
    if version >= 5:
        end = reader.pos
        if len(data) < end + 8:
            return fail(_EOF, end)
        stored = int.from_bytes(data[end:end + 8], "little")
        reader.pos = end + 8
        if stored == 0:
            emit(f"[offset {reader.pos}] RDB file was saved with checksum disabled: "
                 "no check performed.")
        else:
            expected = crc64(data[:end])
            if stored != expected:
                return fail(f"RDB CRC error (stored {stored:x}, computed {expected:x})",
                            reader.pos)
            emit(f"[offset {reader.pos}] Checksum OK")
    if stop_at_eof is False or reader.pos == len(data):
        pass
    else:
        doing = "check-eof"
        return fail(f"Trailing data after the end of the RDB file "
                    f"({len(data) - reader.pos} bytes)", reader.pos)
    report.ok = True
    report.end = reader.pos
    emit(f"[offset {reader.pos}] \\o/ RDB looks OK! \\o/")
    _summary(report, emit)
    return report


def _summary(report: RdbReport, emit: Callable[[str], None]) -> None:
    emit(f"[info] {report.keys} keys read")
    emit(f"[info] {report.expires} expires")
    emit(f"[info] {report.already_expired} already expired")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("Usage: taipan-check-rdb <rdb-file-name>")
        return 1
    path = args[0]
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        print(f"Cannot check RDB file {path}: {exc.strerror}")
        return 1
    report = check_rdb(data, path)
    sys.stdout.flush()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
