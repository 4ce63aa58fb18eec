"""Function libraries as RDB records: the FUNCTION DUMP / FUNCTION RESTORE payload and
the records RDB files hold (Redis 7.0.15's rdbSaveFunctions / rdbFunctionLoad).

A library is saved as the opcode ``FUNCTION2`` (245) and its whole code (``#!lua
name=...`` shebang included) as an RDB string. Redis 7.0 release candidates saved
``FUNCTION`` (246): name, engine, a description flag and maybe a description, then
the code without its shebang; 7.0.15 still reads those, rebuilding the shebang, and
so does Taipan. A payload is the records of every library then the DUMP footer (RDB
version, CRC64), checked as RESTORE checks a key's payload.

Errors carry Redis's texts: ``LibraryError`` (an ``RdbError``) for a record that
can't be read, a ``ReplyError`` for FUNCTION RESTORE.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from taipan.errors import ReplyError, err
from taipan.persistence import add_payload_footer, payload_verified
from taipan.persistence.rdb_format import (
    OPCODE_FUNCTION,
    OPCODE_FUNCTION2,
    RdbError,
    RdbReader,
    write_string,
)

__all__ = ["LibraryError", "dump_functions", "iter_functions_payload",
           "parse_functions_payload", "read_library", "write_library"]

BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
# rdbLoadLen's error value: a length that large reads as a failed read.
_LENGTH_ERROR = 2**64 - 1
_FOOTER = 10  # RDB version (2 bytes) and CRC64 (8)


class LibraryError(RdbError):
    """A library record that can't be read; the text is Redis's (rdbFunctionLoad)."""


def write_library(out: bytearray, code: bytes, compress: bool = True) -> None:
    """One library's record, as rdbSaveFunctions writes it (the code LZF-compressed
    under the same rule as any RDB string when ``compress``: rdbcompression)."""
    out.append(OPCODE_FUNCTION2)
    write_string(out, code, compress)


def dump_functions(codes: Iterable[bytes], compress: bool = True) -> bytes:
    """FUNCTION DUMP's payload for the libraries' codes, in the order given."""
    out = bytearray()
    for code in codes:
        write_library(out, code, compress)
    return add_payload_footer(out)


def _string(reader: RdbReader, failure: str) -> bytes:
    try:
        return reader.string()
    except RdbError:  # short read, bad encoding, bad LZF: Redis fails them all alike
        raise LibraryError(failure) from None


def _c_string(value: bytes) -> bytes:
    """What C's "%s" prints of ``value``: up to its first NUL byte."""
    end = value.find(b"\0")
    return value if end < 0 else value[:end]


def read_library(reader: RdbReader, opcode: int) -> bytes:
    """The code of the library record whose ``opcode`` (FUNCTION2 or FUNCTION) was just
    read; ``LibraryError`` when the record is cut short or malformed."""
    if opcode == OPCODE_FUNCTION2:
        return _string(reader, "Failed loading library payload")
    if opcode != OPCODE_FUNCTION:
        raise LibraryError(f"opcode {opcode} is not a function")
    name = _string(reader, "Failed loading library name")
    engine = _string(reader, "Failed loading engine name")
    try:
        # rdbLoadLen without an "encoded" flag: a special-encoding byte reads as its
        # low six bits, not as an error.
        has_description = reader.length_or_encoding()[0]
    except RdbError:
        has_description = _LENGTH_ERROR
    if has_description == _LENGTH_ERROR:
        raise LibraryError("Failed loading library description indicator")
    if has_description:
        _string(reader, "Failed loading library description")  # dropped, as Redis does
    blob = _string(reader, "Failed loading library blob")
    # Redis rebuilds the code with sdscatfmt's %s, which stops at a NUL byte.
    return (b"#!" + _c_string(engine) + b" name=" + _c_string(name) + b"\n"
            + _c_string(blob))


def iter_functions_payload(payload: bytes) -> Iterator[bytes]:
    """Each library code in a FUNCTION RESTORE ``payload``, read one at a time.

    Redis compiles each library as soon as it is read, so a library that fails to
    compile is reported before a malformed record after it: FUNCTION RESTORE should
    compile each code this yields before asking for the next to give the same errors.
    The checksum is checked before the first code is yielded. Raises ``ReplyError``.
    """
    if not payload_verified(payload):
        raise ReplyError(BAD_PAYLOAD)
    reader = RdbReader(payload)
    # Records are read while more than the footer is left; a string that runs into the
    # footer is read from it (the loop then ends), exactly as Redis reads a payload.
    while len(payload) - reader.pos > _FOOTER:
        opcode = reader.byte()
        if opcode not in (OPCODE_FUNCTION, OPCODE_FUNCTION2):
            raise err("given type is not a function")
        try:
            code = read_library(reader, opcode)
        except LibraryError as exc:
            raise err(str(exc)) from None
        yield code


def parse_functions_payload(payload: bytes) -> list[bytes]:
    """Every library code in a FUNCTION RESTORE ``payload``; ``ReplyError`` with
    Redis's text when it is not a valid payload."""
    return list(iter_functions_payload(payload))
