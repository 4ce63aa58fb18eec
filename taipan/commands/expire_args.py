"""Expiry options shared by SET, GETEX and friends: EX/PX/EXAT/PXAT → deadline."""

from __future__ import annotations

from typing import Final, NamedTuple

from taipan.commands.args import LLONG_MAX, to_int
from taipan.errors import ReplyError, SyntaxErr
from taipan.keyspace.database import now_ms

UNIT_MS: Final = {b"EX": 1000, b"PX": 1, b"EXAT": 1000, b"PXAT": 1}
ABSOLUTE: Final = {b"EXAT", b"PXAT"}


class SetOptions(NamedTuple):
    condition: bytes | None  # b"NX", b"XX" or None
    get: bool
    keep_ttl: bool
    persist: bool
    expire_option: bytes | None  # b"EX", b"PX", b"EXAT", b"PXAT" or None
    expire_arg: bytes  # (b"" when there is no expire option)


def parse_set_options(argv: list[bytes], start: int, for_set: bool) -> SetOptions:
    """SET's options (``for_set``) or GETEX's, with Redis's acceptance rules.

    As Redis, repeating an option is fine (``EX 1 EX 2``: the last value wins, and
    only that one is validated); only contradicting options are a syntax error.
    """
    condition: bytes | None = None
    expire_option: bytes | None = None
    expire_arg = b""
    want_get = keep_ttl = persist = False
    i, argc = start, len(argv)
    while i < argc:
        option = argv[i].upper()
        if for_set and option in (b"NX", b"XX") and condition in (None, option):
            condition = option
        elif for_set and option == b"GET":
            want_get = True
        elif for_set and option == b"KEEPTTL" and expire_option is None:
            keep_ttl = True
        elif not for_set and option == b"PERSIST" and expire_option is None:
            persist = True
        elif (option in UNIT_MS and not keep_ttl and not persist and i + 1 < argc
              and expire_option in (None, option)):
            expire_option, expire_arg = option, argv[i + 1]
            i += 1
        else:
            raise SyntaxErr()
        i += 1
    return SetOptions(condition, want_get, keep_ttl, persist, expire_option, expire_arg)


def deadline_from(option: bytes, arg: bytes, command: str) -> int:
    """Absolute unix-ms deadline for ``option arg``; errors worded as Redis words them."""
    value = to_int(arg)
    invalid = ReplyError(f"ERR invalid expire time in '{command}' command")
    if value <= 0:
        raise invalid
    unit = UNIT_MS[option]
    if value > LLONG_MAX // unit:
        raise invalid
    deadline = value * unit
    if option not in ABSOLUTE:
        deadline += now_ms()
        if deadline > LLONG_MAX:
            raise invalid
    return deadline
