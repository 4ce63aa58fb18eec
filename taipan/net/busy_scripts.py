"""Serving other clients while a script runs past busy-reply-threshold.

Redis re-enters its event loop from the Lua count hook (processEventsWhileBlocked)
so that other clients get ``-BUSY`` and can send SCRIPT KILL, FUNCTION KILL or
SHUTDOWN NOSAVE. The asyncio loop can't be re-entered from inside a callback, so
the hook polls the sockets itself: readable client sockets are read directly and
their bytes go through the connection's usual path (reader → dispatcher, which
answers ``-BUSY`` to anything not flagged ``allow_busy``); the queued output is then
written at once, as the loop's next turn is still far away (Redis too flushes the
AOF and writes pending replies while blocked).

New connections are accepted too: each gets a real ``Connection`` (and so a real
client, HELLO and AUTH included) on a small blocking stand-in transport; when the
script ends, the socket is handed to the event loop, which gives the same
connection its proper transport.

The client running the script is left alone: its next requests wait, as in Redis.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taipan.net.connection import Connection
    from taipan.scripting.script_run import ScriptRun
    from taipan.server import ServerRuntime

_READ_SIZE = 1 << 16


class BusyService:
    """The net layer's side of busy scripts for one running server."""

    def __init__(self, runtime: ServerRuntime) -> None:
        self.runtime = runtime
        # Connections accepted while a script was busy, waiting for the event loop.
        self.adopted: list[tuple[socket.socket, Connection]] = []

    def serve(self, run: ScriptRun) -> None:
        """Called from the script hook (on the loop thread): serve what is waiting."""
        connections = {}
        for client in list(self.runtime.instance.clients.values()):
            connection = client.connection
            if (client is run.caller or connection is None or client.fd < 0
                    or connection.transport is None or connection.transport.is_closing()):
                continue
            connections[client.fd] = connection
        listeners = self._listening_sockets()
        try:
            readable, _, _ = select.select([*connections, *listeners], [], [], 0)
        except (OSError, ValueError):
            return
        for fd in readable:
            if fd in listeners:
                self._accept(listeners[fd])
                continue
            try:
                data = os.read(fd, _READ_SIZE)
            except OSError:
                continue  # nothing after all, or the peer went away: the loop will see
            if data:
                connections[fd].data_received(data)
        self.runtime.output_writer.flush()

    def _listening_sockets(self) -> dict[int, Any]:
        return {sock.fileno(): sock for server in self.runtime.servers
                for sock in (server.sockets or ())}

    def _accept(self, listener: Any) -> None:
        try:
            sock, _ = socket.socket(fileno=os.dup(listener.fileno())).accept()
        except OSError:
            return
        sock.settimeout(5.0)  # replies are written synchronously while the script runs
        connection = self.runtime.new_connection()
        connection.connection_made(_BlockingTransport(sock, connection))  # type: ignore[arg-type]
        if connection.client is None:  # refused (maxclients)
            sock.close()
            return
        self.adopted.append((sock, connection))

    def script_ended(self) -> None:
        """Hand the connections accepted meanwhile to the event loop."""
        adopted, self.adopted = self.adopted, []
        loop = asyncio.get_running_loop()
        for sock, connection in adopted:
            if connection.client is None:
                continue  # closed meanwhile (QUIT)
            sock.setblocking(False)
            loop.create_task(loop.connect_accepted_socket(lambda c=connection: c, sock))


class _BlockingTransport:
    """Just enough of an asyncio transport for a connection accepted mid-script."""

    def __init__(self, sock: socket.socket, connection: Connection) -> None:
        self.sock = sock
        self.connection = connection
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        try:
            return {"socket": self.sock, "peername": self.sock.getpeername(),
                    "sockname": self.sock.getsockname()}.get(name, default)
        except OSError:
            return default

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            self.close()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.connection.connection_lost(None)
            self.sock.close()

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass
