"""Persistence: RDB objects, DUMP/RESTORE payloads, RDB files, AOF.

``rdb_format`` (lengths, strings, LZF, CRC64), ``rdb_packed`` (listpack, intset,
ziplist, zipmap), ``rdb_values`` (a value <-> one RDB object), ``rdb_file`` (whole
files), ``function_payload`` (function libraries: FUNCTION DUMP / RESTORE payloads
and RDB records), ``functions_link`` (the function engine, as persistence sees it).
Imports keyspace and types only (DESIGN.md §1); the DUMP/RESTORE commands
(``taipan.commands.dump_restore``) call the payload functions below.
"""

from __future__ import annotations

from typing import Any

from taipan.persistence.rdb_format import RDB_VERSION, RdbError, RdbReader, crc64
from taipan.persistence.rdb_values import read_value, write_value

__all__ = ["RdbError", "add_payload_footer", "dump_payload", "payload_verified",
           "load_payload"]


def add_payload_footer(out: bytearray) -> bytes:
    """Close a DUMP-style payload (DUMP, FUNCTION DUMP): the 2-byte RDB version, then
    the CRC64 of everything before it (both little endian)."""
    out += RDB_VERSION.to_bytes(2, "little")
    out += crc64(out).to_bytes(8, "little")
    return bytes(out)


def dump_payload(value: Any, config: Any) -> bytes:
    """DUMP's serialization: one RDB object and the payload footer."""
    out = bytearray()
    write_value(out, value, config)
    return add_payload_footer(out)


def payload_verified(payload: bytes) -> bool:
    """Redis's verifyDumpPayload: a footer, a version we read, a matching checksum
    (RESTORE and FUNCTION RESTORE both check their payloads with it)."""
    if len(payload) < 10:
        return False
    version = int.from_bytes(payload[-10:-8], "little")
    if version > RDB_VERSION:
        return False
    return crc64(payload[:-8]) == int.from_bytes(payload[-8:], "little")


def load_payload(payload: bytes, config: Any) -> Any:
    """The value a verified payload holds; ``RdbError`` when it is malformed."""
    # Redis reads the object from the whole payload, footer included: a body that
    # runs into the footer is read from it, not rejected.
    reader = RdbReader(payload)
    try:
        return read_value(reader, reader.byte(), config)
    except RdbError:
        raise
    except (ValueError, IndexError, OverflowError, TypeError) as exc:
        raise RdbError(str(exc)) from exc
