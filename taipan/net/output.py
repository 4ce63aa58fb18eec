"""Output written outside a client's own requests, and output buffer limits.

Messages, invalidations and MONITOR lines are queued on the receiving client
(``Client.deliver``); ``OutputWriter`` writes every queued client once on the loop's
next turn, so many messages in one turn cost one write per receiver.

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

    def wake(self) -> None:
        """The first client was queued this turn: write them all on the next one."""
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # no loop (a script busy, shutting down): next request
            pass

    def flush(self) -> None:
        instance = self.instance
        queue = instance.output_queue
        if not queue:
            return
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
