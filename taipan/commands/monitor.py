"""MONITOR: turn the connection into a feed of every command the server runs.

The lines themselves are built in taipan/messaging/monitor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.table import CommandGroup
from taipan.errors import err
from taipan.protocol.reply import OK, Frames

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("server")


@commands.command("MONITOR", arity=1, flags="admin noscript loading stale",
                  summary="Listen for all requests received by the server in real time",
                  since="1.0.0")
def monitor(ctx: Client, argv: list[bytes]) -> Any:
    """MONITOR"""
    if ctx.deny_blocking:
        # Inside EXEC: the client expects one reply per queued command.
        raise err("MONITOR isn't allowed for DENY BLOCKING client")
    if ctx.monitor:
        return Frames()  # Redis ignores a second MONITOR without a word
    ctx.monitor = True
    server = ctx.server
    server.monitors.append(ctx)
    # From now on the dispatcher checks each request for refusals: a monitor, a
    # replica to Redis, may not run commands that touch the keyspace.
    server.refresh_restrictions()
    return OK
