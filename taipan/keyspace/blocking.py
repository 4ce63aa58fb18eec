"""Clients waiting on keys (BLPOP, BZPOPMIN, BLMOVE ...).

A blocking handler that finds nothing to serve returns a ``Blocked`` request. The
connection layer parks the client (stops reading its requests), registers it here
and arms its timeout. Writes to a waited-on key queue it as ready (via
``Database.signal``); after each command the server re-runs the parked command of
the longest-waiting client on each ready key whose value now has the right type,
as Redis serves blocked clients in FIFO order. Nothing polls: a blocked client
costs no CPU until a write makes one of its keys ready.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False, slots=True)
class Blocked:
    """A handler's answer meaning "nothing yet: park me on these keys"."""

    keys: list[bytes]
    timeout_ms: int  # absolute unix ms deadline; 0 waits forever
    kind: type  # the value type that can serve this client (RedisList, ZSet ...)
    timeout_reply: Any  # what the client gets when the deadline passes
    # A finer test than ``kind`` (streams): ``ready(key, value)`` says whether
    # re-running the command now ends the wait, served or failed; ``value`` is the
    # key's value, None when it is gone (a blocked XREADGROUP then fails).
    ready: Callable[[bytes, Any], bool] | None = None
    # What the command remembers between its first run and its re-run (the IDs
    # XREAD resolved ``$`` to when it blocked ...).
    state: Any = None


@dataclass(eq=False, slots=True)
class Waiter:
    client: Any
    command: Any  # the resolved Command, re-run when a key becomes ready
    argv: list[bytes]
    request: Blocked
    db: Any
    timer: Any = None  # the connection layer's timeout handle
    done: bool = False
    # While the parked command re-runs: the ready key it is served from (streams
    # reply with that key only, as Redis serves one key at a time).
    ready_key: bytes | None = None
    queued_on: list[bytes] = field(default_factory=list)


class BlockingRegistry:
    """Waiters per (database, key), oldest first, and the keys made ready."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[int, bytes], deque[Waiter]] = {}
        self.ready: list[tuple[Any, bytes]] = []
        self.count = 0  # blocked clients, for INFO

    def park(self, waiter: Waiter) -> None:
        db = waiter.db
        for key in dict.fromkeys(waiter.request.keys):
            queue = self.waiting.get((db.index, key))
            if queue is None:
                queue = self.waiting[(db.index, key)] = deque()
                db.blocked_keys.add(key)
            queue.append(waiter)
            waiter.queued_on.append(key)
        self.count += 1

    def remove(self, waiter: Waiter) -> None:
        if waiter.done:
            return
        waiter.done = True
        self.count -= 1
        db = waiter.db
        for key in waiter.queued_on:
            queue = self.waiting.get((db.index, key))
            if queue is None:
                continue
            try:
                queue.remove(waiter)
            except ValueError:
                pass
            if not queue:
                del self.waiting[(db.index, key)]
                db.blocked_keys.discard(key)

    def key_ready(self, db: Any, key: bytes) -> None:
        self.ready.append((db, key))

    def take_ready(self) -> list[tuple[Any, bytes]]:
        # Cleared in place: the request path holds a reference to this very list.
        ready = self.ready[:]
        self.ready.clear()
        return ready

    def candidates(self, db: Any, key: bytes) -> list[Waiter]:
        """Waiters on ``key`` that its current value could serve, oldest first."""
        queue = self.waiting.get((db.index, key))
        if not queue:
            return []
        value = db.live(key)
        return [w for w in queue if serves(w, key, value)]


def serves(waiter: Waiter, key: bytes, value: Any) -> bool:
    """Whether re-running ``waiter``'s command with ``key`` holding ``value`` (None:
    no key) ends its wait."""
    request = waiter.request
    if request.ready is not None:
        return request.ready(key, value)
    return value is not None and type(value) is request.kind
