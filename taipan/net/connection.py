"""One client connection: bytes in, requests executed, replies out.

The hot path (DESIGN.md §4): ``data_received`` feeds the reader, drains every
complete request, executes them in order and queues all replies on the client.
``OutputWriter`` (net/output.py) writes every queued client once, at the start of
the loop's next turn, after the AOF has the turn's writes: one ``transport.write``
per client per turn, as Redis's beforeSleep does.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import TYPE_CHECKING, Final

from taipan.commands.table import Command
from taipan.errors import MAX_CLIENTS, ProtocolError
from taipan.keyspace.blocking import Blocked
from taipan.keyspace.database import LOOSE_LIMIT
from taipan.net import blocking, protection
from taipan.net.client import Client
from taipan.net.output import over_output_limit
from taipan.protocol import make_reader
from taipan.protocol.reply import Frames, Push, encode_into

if TYPE_CHECKING:
    from taipan.server import ServerRuntime

log = logging.getLogger("taipan")
VERBOSE: Final = 15  # Redis's "verbose" log level, between debug and notice


class Connection(asyncio.Protocol):
    __slots__ = ("runtime", "client", "transport", "reader", "_parked", "_resume_handle")

    def __init__(self, runtime: ServerRuntime) -> None:
        self.runtime = runtime
        self.client: Client | None = None
        self.transport: asyncio.Transport | None = None
        self.reader = make_reader(runtime.instance.config.proto_max_bulk_len,
                                  runtime.prefer_hiredis)
        # A request read but not yet run because the server is paused (CLIENT PAUSE).
        self._parked: list[bytes] | None = None
        self._resume_handle: asyncio.TimerHandle | None = None

    # -- lifecycle ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self.client is not None:
            # Accepted while a script was busy (net/busy_scripts.py): the event loop
            # now takes over the socket; the client and its state carry on.
            self.transport = transport
            self.client.transport = transport
            sock = transport.get_extra_info("socket")
            if sock is not None:
                self.client.fd = sock.fileno()
            if self.reader.pending():
                asyncio.get_running_loop().call_soon(self._drain_if_free)
            return
        self.transport = transport
        instance = self.runtime.instance
        # (a TLS connection was admitted against maxclients before its handshake)
        if (len(instance.clients) >= instance.config.maxclients
                and transport.get_extra_info("ssl_object") is None):
            instance.stats.rejected_connections += 1
            transport.write(b"-" + MAX_CLIENTS.encode() + b"\r\n")
            transport.close()
            return
        sock = transport.get_extra_info("socket")
        addr, laddr, fd, kind = "", "", -1, "tcp"
        peer_host: str | None = None
        if sock is not None:
            fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                keepalive = instance.config.tcp_keepalive
                if keepalive:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                peer = transport.get_extra_info("peername")
                local = transport.get_extra_info("sockname")
                addr = _format_addr(peer)
                laddr = _format_addr(local)
                peer_host = peer[0] if isinstance(peer, tuple) else ""
            else:
                kind = "unix"
                addr = laddr = f"{instance.config.unixsocket}:0"
        if peer_host is not None and protection.refuses(instance, peer_host):
            instance.new_client_id()  # Redis had created the client already
            instance.stats.rejected_connections += 1
            transport.write(protection.DENIED)
            transport.close()
            return
        instance.stats.connections_received += 1
        client = Client(instance.new_client_id(), instance, addr, laddr, fd, kind)
        client.transport = transport
        if log.isEnabledFor(VERBOSE):
            log.log(VERBOSE, "Accepted %s", addr if kind == "tcp"
                    else f"connection to {instance.config.unixsocket}")
        client.connection = self
        client.set_authenticated(client.authenticated)  # arms the reader's pre-AUTH limits
        instance.clients[client.id] = client
        self.client = client

    def connection_lost(self, exc: Exception | None) -> None:
        client = self.client
        if client is None:
            return
        self.client = None
        if not client.close_requested and log.isEnabledFor(VERBOSE):
            log.log(VERBOSE, "Client closed connection %s", client.info_line())
        client.unwatch_all()
        blocking.discard(self.runtime, client)
        client.killed = True
        instance = self.runtime.instance
        instance.clients.pop(client.id, None)
        if client.subscribed:
            instance.pubsub.drop_client(client)
        if client.tracking is not None:
            instance.tracking.client_closed(client)
        if client.monitor:
            instance.monitors.remove(client)
            instance.refresh_restrictions()
        client.outbuf.clear()
        if self._resume_handle is not None:
            self._resume_handle.cancel()

    def pause_writing(self) -> None:
        # The client isn't reading its replies: stop reading its requests.
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and self._parked is None and self.client is not None \
                and self.client.waiter is None:
            self.transport.resume_reading()

    # -- the request path ----------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None:
            return
        instance = self.runtime.instance
        instance.stats.net_input_bytes += len(data)
        instance.stats.total_reads += 1
        client.last_interaction = time.time()
        self.reader.feed(data)
        if self._parked is None and client.waiter is None:
            self._drain(client)

    def _drain(self, client: Client) -> None:
        reader = self.reader
        # (a local of its class: compiled, the calls below are direct, not by name)
        dispatcher = self.runtime.dispatcher
        instance = self.runtime.instance
        ready = instance.blocking.ready  # keys writes made ready for blocked clients
        # Replies go to the client's output queue, where messages it receives
        # meanwhile (a RESP3 client publishing to itself) fall in their place.
        out = client.outbuf
        closing = False
        while True:
            try:
                argv = reader.next_request()
            except ProtocolError as error:
                encode_into(error, out, client.resp)
                self._protocol_error(client, error)
                closing = True
                break
            if argv is None:
                break
            if instance.pause_until and self._must_wait(argv):
                self._park(argv)
                break
            reply = dispatcher.execute(client, argv)
            if type(reply) is Blocked:
                self._block(client, argv, reply)
                break
            if client.reply_mode == "on":
                encode_into(reply, out, client.resp)
            else:
                self._apply_reply_mode(client, reply, out)
            if ready:
                blocking.serve_ready(self.runtime)
            if client.close_requested:
                closing = True
                break
        db = client.db
        if len(db.opened) + len(db.loose) > LOOSE_LIMIT:
            # A burst of writes to small collections: pack them now rather than at
            # the next cron tick, which a busy loop delays (fewer big live values
            # at once, less heap left fragmented by them).
            db.pack_loose()
        self._queue_output(client)
        if closing:
            self.close()
        elif reader.pending() > instance.config.client_query_buffer_limit:
            self._query_buffer_overflow(client)

    def _send(self, client: Client, payload: bytes) -> None:
        """Write encoded output (OutputWriter calls this after the AOF flush)."""
        transport = self.transport
        if transport is None:
            return
        instance = self.runtime.instance
        stats = instance.stats
        stats.net_output_bytes += len(payload)
        stats.total_writes += 1
        transport.write(payload)
        if transport.get_write_buffer_size():
            # The client isn't keeping up: hold its output within its class's limits.
            if over_output_limit(client, instance.config.client_output_buffer_limit):
                self._output_buffer_overflow(client)

    def flush_output(self) -> None:
        """Write the client's queued output (OutputWriter's turn), then close the
        connection if ``close`` was asked meanwhile."""
        client = self.client
        if client is None:
            return
        if client.outbuf:
            payload = b"".join(client.outbuf)
            client.outbuf.clear()
            self._send(client, payload)
        if client.close_after_output:
            client.close_after_output = False
            if self.transport is not None:
                self.transport.close()

    def _queue_output(self, client: Client) -> None:
        """Have OutputWriter write the client's output on the next turn, with every
        other client's: the peer is woken once per turn, not once per client (a
        wake-up of a sleeping reader costs more than the write itself), and the AOF
        gets the turn's writes first."""
        if client.outbuf and not client.output_queued:
            client.output_queued = True
            self.runtime.instance.queue_output(client)

    def _output_buffer_overflow(self, client: Client) -> None:
        """Redis drops a client over its output buffer limit, pending output lost."""
        log.warning("Client %s scheduled to be closed ASAP for overcoming of output "
                    "buffer limits.", client.info_line())
        client.outbuf.clear()
        if self.transport is not None:
            self.transport.abort()

    def _protocol_error(self, client: Client, error: ProtocolError) -> None:
        """Counted as an error reply (INFO errorstats) and logged, as Redis does."""
        stats = self.runtime.instance.stats
        stats.error_replies += 1
        stats.error_counts["ERR"] = stats.error_counts.get("ERR", 0) + 1
        detail = error.message.split("Protocol error: ", 1)[-1]
        log.log(15, "Protocol error (%s) from client: %s", detail, client.info_line())

    def _query_buffer_overflow(self, client: Client) -> None:
        """Redis closes, without a reply, a client whose pending request grew too big."""
        log.warning("Closing client that reached max query buffer length: %s",
                    client.info_line())
        self.close()

    def write_out_of_band(self, reply: object) -> None:
        """A reply produced outside the request path (a resumed, parked command)."""
        client = self.client
        if client is None or self.transport is None:
            return
        encode_into(reply, client.outbuf, client.resp)
        self._queue_output(client)

    def close(self) -> None:
        """Close the connection once its queued output is written (QUIT's +OK, a
        protocol error's reply)."""
        transport = self.transport
        if transport is None:
            return
        client = self.client
        if client is not None and client.output_queued:
            client.close_after_output = True
        else:
            transport.close()

    @staticmethod
    def _apply_reply_mode(client: Client, reply: object, out: list[bytes]) -> None:
        """CLIENT REPLY OFF or SKIP: the reply is dropped, but not the pub/sub
        confirmations in it (Redis sends pushes whatever the reply mode)."""
        mode = client.reply_mode
        if mode == "skip-arm":
            # CLIENT REPLY SKIP just ran (alone, with no reply of its own, or inside
            # EXEC): this reply goes out, the next command's is skipped.
            client.reply_mode = "skip"
            encode_into(reply, out, client.resp)
            return
        if mode == "skip":
            client.reply_mode = "on"
        if type(reply) is Frames:
            _encode_pushes(reply, out, client.resp)

    # -- CLIENT PAUSE --------------------------------------------------------------

    def is_parked(self) -> bool:
        """Held by CLIENT PAUSE or blocked on keys (CLIENT LIST flag ``b``)."""
        return self._parked is not None or (self.client is not None
                                            and self.client.waiter is not None)

    # -- blocking commands (BLPOP & co.) ---------------------------------------------

    def _block(self, client: Client, argv: list[bytes], request: Blocked) -> None:
        command = self.runtime.dispatcher.resolve(argv)
        if self.transport is not None:
            self.transport.pause_reading()
        blocking.park(self.runtime, client, command, argv, request)

    def resume_after_block(self, reply: object) -> None:
        """The blocking command finished (served, timed out, unblocked): reply, go on."""
        client = self.client
        if client is None:
            return
        if client.reply_mode == "on":
            self.write_out_of_band(reply)
        else:
            self._apply_reply_mode(client, reply, client.outbuf)
            self._queue_output(client)
        if self.transport is not None:
            self.transport.resume_reading()
        # Requests that arrived while blocked run on the next loop turn, not inside
        # the command that served us.
        asyncio.get_running_loop().call_soon(self._drain_if_free)

    def _drain_if_free(self) -> None:
        client = self.client
        if client is not None and client.waiter is None and self._parked is None:
            self._drain(client)

    def _must_wait(self, argv: list[bytes]) -> bool:
        """CLIENT PAUSE: ALL holds every valid command, WRITE those that may write."""
        command = self.runtime.dispatcher.resolve(argv)
        if type(command) is not Command:
            return False  # errors are replied at once, as Redis does
        writes = command.is_write or "may_replicate" in command.flags
        if not writes and command.name == "exec" and self.client is not None:
            queued = self.client.multi or ()
            writes = any(c.is_write or "may_replicate" in c.flags for c, _ in queued)
        return self.runtime.instance.is_paused_for(writes)

    def _park(self, argv: list[bytes]) -> None:
        self._parked = argv
        if self.transport is not None:
            self.transport.pause_reading()
        self._schedule_resume()

    def _schedule_resume(self) -> None:
        instance = self.runtime.instance
        delay = max(instance.pause_until - time.monotonic(), 0.0) if instance.pause_until else 0.0
        loop = asyncio.get_running_loop()
        self._resume_handle = loop.call_later(min(delay, 0.05) + 0.001, self._resume)

    def _resume(self) -> None:
        self._resume_handle = None
        client = self.client
        argv = self._parked
        if client is None or argv is None:
            return
        if self.runtime.instance.pause_until and self._must_wait(argv):
            self._schedule_resume()
            return
        self._parked = None
        reply = self.runtime.dispatcher.execute(client, argv)
        if type(reply) is Blocked:
            self._block(client, argv, reply)
            return
        if client.reply_mode == "on":
            self.write_out_of_band(reply)
        else:
            self._apply_reply_mode(client, reply, client.outbuf)
            self._queue_output(client)
        if self.runtime.instance.blocking.ready:
            blocking.serve_ready(self.runtime)
        if client.close_requested:
            self.close()
            return
        if self.transport is not None:
            self.transport.resume_reading()
        self._drain(client)


def _encode_pushes(frames: Frames, out: list[bytes], resp: int) -> None:
    for frame in frames:
        kind = type(frame)
        if kind is Push:
            encode_into(frame, out, resp)
        elif kind is Frames:  # a monitor's own reply, followed by its MONITOR line
            _encode_pushes(frame, out, resp)


def _format_addr(addr: object) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(addr or "")
