"""SCAN option parsing shared by SCAN, HSCAN, SSCAN and ZSCAN."""

from __future__ import annotations

from taipan.commands.args import to_int
from taipan.errors import ReplyError, SyntaxErr

_INVALID_CURSOR = ReplyError("ERR invalid cursor")


def parse_cursor(arg: bytes) -> int:
    """An unsigned 64-bit cursor; anything else is 'invalid cursor', as in Redis."""
    if not arg.isdigit():
        raise _INVALID_CURSOR
    value = int(arg)
    if value >= 2**64:
        raise _INVALID_CURSOR
    return value


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
