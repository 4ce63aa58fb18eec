"""Serving other clients while a script runs past busy-reply-threshold.

Redis re-enters its event loop from the Lua count hook (processEventsWhileBlocked)
so that other clients get ``-BUSY`` and can send SCRIPT KILL, FUNCTION KILL or
SHUTDOWN NOSAVE. The asyncio loop can't be re-entered from inside a callback, so
the hook polls the clients' sockets itself: readable ones are read directly and
their bytes go through the connection's usual path (reader → dispatcher, which
answers ``-BUSY`` to anything not flagged ``allow_busy``); replies go out through
the transport, which writes at once when nothing is queued.

The client running the script is left alone (its next requests wait, as in
Redis); connections accepted while the script is busy are served once it ends.
"""

from __future__ import annotations

import os
import select
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taipan.scripting.script_run import ScriptRun
    from taipan.server import ServerRuntime

_READ_SIZE = 1 << 16


def serve_while_busy(runtime: ServerRuntime, run: ScriptRun) -> None:
    """Called from the script hook (on the loop thread): serve what is waiting."""
    connections = {}
    for client in list(runtime.instance.clients.values()):
        connection = client.connection
        if (client is run.caller or connection is None or client.fd < 0
                or connection.transport is None or connection.transport.is_closing()):
            continue
        connections[client.fd] = connection
    if not connections:
        return
    try:
        readable, _, _ = select.select(list(connections), [], [], 0)
    except (OSError, ValueError):
        return
    for fd in readable:
        try:
            data = os.read(fd, _READ_SIZE)
        except OSError:
            continue  # nothing after all, or the peer went away: the loop will see
        if data:
            connections[fd].data_received(data)
