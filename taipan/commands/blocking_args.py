"""What the blocking commands (BLPOP, BZPOPMIN, BLMOVE ...) share: timeouts, parking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import LLONG_MAX, to_float
from taipan.errors import ReplyError
from taipan.keyspace.blocking import Blocked

if TYPE_CHECKING:
    from taipan.net.client import Client

_NOT_FLOAT = ReplyError("ERR timeout is not a float or out of range")
_NEGATIVE = ReplyError("ERR timeout is negative")
_OUT_OF_RANGE = ReplyError("ERR timeout is out of range")


def parse_timeout(arg: bytes, now_ms: int) -> int:
    """Seconds (decimals allowed) → absolute unix-ms deadline; 0 waits forever."""
    seconds = to_float(arg, _NOT_FLOAT)
    if seconds < 0:
        raise _NEGATIVE
    millis = seconds * 1000
    if millis >= 2**63:  # C's out-of-range conversion yields a negative number
        raise _NEGATIVE
    millis = int(millis)
    if millis == 0:
        return 0
    if millis > LLONG_MAX - now_ms:
        raise _OUT_OF_RANGE
    return now_ms + millis


def block_or(ctx: Client, keys: list[bytes], deadline: int, kind: type, timeout_reply: Any) -> Any:
    """Park the client on ``keys`` until a value of ``kind`` arrives, unless it may not
    block (inside MULTI/EXEC): then it gets the timeout reply at once."""
    if ctx.deny_blocking:
        return timeout_reply
    return Blocked(keys, deadline, kind, timeout_reply)
