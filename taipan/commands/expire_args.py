"""Expiry options shared by SET, GETEX and friends: EX/PX/EXAT/PXAT → deadline."""

from __future__ import annotations

from taipan.commands.args import LLONG_MAX, to_int
from taipan.errors import ReplyError
from taipan.keyspace.database import now_ms

UNIT_MS = {b"EX": 1000, b"PX": 1, b"EXAT": 1000, b"PXAT": 1}
ABSOLUTE = {b"EXAT", b"PXAT"}


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
