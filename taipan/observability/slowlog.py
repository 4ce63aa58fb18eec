"""The slow log: the last ``slowlog-max-len`` calls slower than
``slowlog-log-slower-than`` microseconds, newest first.

Entries keep a trimmed copy of the arguments, as Redis does: at most 32 of them
(the last slot then says how many more there were), each cut at 128 bytes.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taipan.net.client import Client

MAX_ARGS = 32
MAX_ARG_BYTES = 128


class SlowlogEntry:
    __slots__ = ("id", "time", "duration", "argv", "addr", "name")

    def __init__(self, entry_id: int, duration: int, argv: list[bytes], addr: bytes,
                 name: bytes) -> None:
        self.id = entry_id
        self.time = int(time.time())
        self.duration = duration  # microseconds
        self.argv = argv
        self.addr = addr
        self.name = name


def trimmed(argv: list[bytes]) -> list[bytes]:
    """The arguments as the slow log keeps them (copies, never the caller's list)."""
    argc = len(argv)
    kept = argv[:MAX_ARGS] if argc <= MAX_ARGS else argv[:MAX_ARGS - 1]
    out = [arg if len(arg) <= MAX_ARG_BYTES
           else b"%s... (%d more bytes)" % (arg[:MAX_ARG_BYTES], len(arg) - MAX_ARG_BYTES)
           for arg in kept]
    if argc > MAX_ARGS:
        out.append(b"... (%d more arguments)" % (argc - MAX_ARGS + 1))
    return out


def peer_id(client: Client) -> bytes:
    """The client's address as the slow log shows it (Redis's getClientPeerId)."""
    kind = client.kind
    if kind == "unix":
        return client.server.config.unixsocket.encode() + b":0"
    if not client.addr:
        return b"?:0"  # script and AOF clients have no socket
    return client.addr.encode()


class Slowlog:
    def __init__(self) -> None:
        self.entries: deque[SlowlogEntry] = deque()  # newest first
        self.next_id = 0

    def push(self, client: Client, argv: list[bytes], duration: int, max_len: int) -> None:
        self.entries.appendleft(SlowlogEntry(self.next_id, duration, trimmed(argv),
                                             peer_id(client), bytes(client.name or b"")))
        self.next_id += 1
        self.trim(max_len)

    def trim(self, max_len: int) -> None:
        entries = self.entries
        while len(entries) > max_len:
            entries.pop()

    def reset(self) -> None:
        self.entries.clear()
