"""Group commit: one AOF write (and, with ``appendfsync always``, one fsync) per
loop turn, not per client.

A reply may leave only once its write is in the AOF (on disk with ``always``).
Writing for each client's batch would cost a write (or fsync) per client per turn;
instead, replies that follow writes wait here, and at the start of the next loop
turn one ``flush`` covers every client's writes, then the replies go out in the
order they were made. Redis does the same in its beforeSleep.
"""

from __future__ import annotations

import asyncio
from typing import Any


class GroupCommit:
    def __init__(self) -> None:
        self.pending: list[tuple[Any, bytes, bool]] = []  # transport, payload, close after

    def must_wait(self, aof: Any) -> bool:
        """Whether a reply leaving now would overtake a write not yet in the AOF."""
        return bool(self.pending) or bool(aof.buffer)

    def reply_after_commit(self, aof: Any, transport: Any, payload: bytes) -> None:
        if not self.pending:
            asyncio.get_running_loop().call_soon(self._commit, aof)
        self.pending.append((transport, payload, False))

    def close_after_commit(self, transport: Any) -> bool:
        """Close ``transport`` after its waiting replies (QUIT, SHUTDOWN...); False
        when none wait and it may close now."""
        if not any(item[0] is transport for item in self.pending):
            return False
        self.pending.append((transport, b"", True))
        return True

    def _commit(self, aof: Any) -> None:
        aof.flush()  # exits the process if the fsync fails: nothing false is sent
        pending, self.pending = self.pending, []
        for transport, payload, close in pending:
            if transport.is_closing():
                continue
            if payload:
                transport.write(payload)
            if close:
                transport.close()
