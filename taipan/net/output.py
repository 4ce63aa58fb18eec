"""Writing output once per loop turn, and output buffer limits.

Every byte for a client is queued on it first: the replies to its requests (by
``Connection``), messages, invalidations and MONITOR lines (``Client.deliver``).
``OutputWriter`` writes every queued client once, at the start of the loop's next
turn, as Redis's beforeSleep does:

* the turn's writes reach the AOF before any reply leaves (one write, and with
  ``appendfsync always`` one fsync, for all clients: a group commit);
* a client's replies and messages of one turn leave in one ``write``;
* a peer reading many connections (a client pool, redis-benchmark) is woken once
  per turn rather than once per connection: waking a sleeping reader costs the
  writer more than the write itself.

``client-output-buffer-limit`` bounds what a client that doesn't read may make the
server hold: past the hard limit, or past the soft limit for longer than its
seconds, the client is disconnected (its class: ``pubsub`` while subscribed,
``normal`` otherwise).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taipan.instance import Instance
    from taipan.net.client import Client


class OutputWriter:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        instance.wake_output = self.wake
        # The server's loop (set when it starts): only its thread may write to sockets.
        self.loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """The first client was queued this turn: write them all on the next one."""
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:
            # Queued from another thread: the loading thread replaying the AOF
            # notifies subscribers of its keyspace events.
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.flush)

    def flush(self) -> None:
        """Write every queued client's output (the AOF first)."""
        instance = self.instance
        queue = instance.output_queue
        if not queue:
            return
        aof = instance.aof
        if aof is not None and aof.buffer:
            aof.flush()  # exits the process if the fsync fails: nothing false is sent
        instance.output_queue = []
        for client in queue:
            client.output_queued = False
            connection = client.connection
            if connection is not None:
                connection.flush_output()
            else:
                client.outbuf.clear()  # no socket to write to (gone, or internal)


def over_output_limit(client: Client, limits: dict[str, tuple[int, int, int]]) -> bool:
    """Whether ``client``'s pending output breaks its class's limits (Redis's
    checkClientOutputBufferLimits): at or over the hard limit, or over the soft
    one for longer than its seconds."""
    hard, soft, seconds = limits[client.output_class()]
    if not hard and not soft:
        return False
    used = client.output_memory()
    if hard and used >= hard:
        return True
    if soft and used >= soft:
        now = time.monotonic()
        if not client.soft_limit_since:
            client.soft_limit_since = now
            return False
        return now - client.soft_limit_since > seconds
    client.soft_limit_since = 0.0
    return False
