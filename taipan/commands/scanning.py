"""SCAN option parsing shared by SCAN, HSCAN, SSCAN and ZSCAN."""

from __future__ import annotations

import re

from taipan.commands.args import to_int
from taipan.errors import ReplyError, SyntaxErr

_INVALID_CURSOR = ReplyError("ERR invalid cursor")
_CURSOR_RE = re.compile(rb"(?:[+-]?[0-9]+)?\Z")


def parse_cursor(arg: bytes) -> int:
    """An unsigned 64-bit cursor parsed as Redis's strtoul does, else 'invalid cursor'.

    strtoul takes a sign and leading zeros, wraps negatives modulo 2**64, and an
    empty string is cursor 0; spaces, trailing bytes and overflow are refused.
    Redis hands it the raw buffer, so parsing ends at the first NUL.
    """
    arg = arg.split(b"\0", 1)[0]  # a C string: strtoul stops at a NUL
    if not _CURSOR_RE.match(arg):
        raise _INVALID_CURSOR
    if not arg:
        return 0
    value = int(arg)
    if abs(value) >= 2**64:
        raise _INVALID_CURSOR
    return value % 2**64


def parse_scan_options(argv: list[bytes], start: int, allow_type: bool) -> tuple[bytes | None, int, bytes | None]:
    """(MATCH pattern, COUNT, TYPE) from ``argv[start:]``."""
    pattern: bytes | None = None
    count = 10
    kind: bytes | None = None
    i = start
    while i < len(argv):
        option = argv[i].upper()
        if i + 1 >= len(argv):
            raise SyntaxErr()
        if option == b"COUNT":
            count = to_int(argv[i + 1])
            if count < 1:
                raise SyntaxErr()
        elif option == b"MATCH":
            pattern = argv[i + 1]
        elif option == b"TYPE" and allow_type:
            kind = argv[i + 1]
        else:
            raise SyntaxErr()
        i += 2
    return pattern, count, kind
