"""Per-connection client state: what a handler sees as ``ctx``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from taipan.keyspace.database import Database

if TYPE_CHECKING:
    from taipan.commands.table import Command
    from taipan.instance import Instance


class Client:
    __slots__ = (
        "id", "server", "db", "resp", "name", "authenticated", "user", "addr", "laddr",
        "fd", "created", "last_interaction", "last_command", "multi", "multi_failed",
        "watched", "watch_dirty", "reply_mode", "no_evict", "close_requested", "transport",
        "kind", "lib_name", "lib_ver", "propagate_argv",
        "killed", "connection", "deny_blocking", "waiter",
        "channels", "patterns", "shard_channels", "subscribed", "outbuf", "output_queued",
        "close_after_output",
        "soft_limit_since", "tracking", "monitor",
    )

    def __init__(self, client_id: int, server: Instance, addr: str = "", laddr: str = "",
                 fd: int = -1, kind: str = "tcp") -> None:
        self.id = client_id
        self.server = server
        self.db: Database = server.databases[0]
        self.resp = 2
        self.name = b""
        acl = server.acl
        self.authenticated = not acl.auth_required()
        self.user = acl.default  # the ACL user (taipan/acl/rules.User)
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        self.kind = kind
        self.created = time.time()
        self.last_interaction = self.created
        self.last_command = "NULL"
        # Commands queued between MULTI and EXEC; None outside a transaction.
        self.multi: list[tuple[Command, list[bytes]]] | None = None
        # A queuing error happened: EXEC must answer EXECABORT.
        self.multi_failed = False
        # (database, key, expired-when-watched) per WATCHed key.
        self.watched: list[tuple[Database, bytes, bool]] = []
        self.watch_dirty = False
        self.reply_mode = "on"  # CLIENT REPLY on|off|skip
        self.no_evict = False
        self.close_requested = False  # QUIT, CLIENT KILL, protocol error: close after reply
        self.killed = False
        self.transport: Any = None
        self.connection: Any = None
        self.lib_name = b""
        self.lib_ver = b""
        # Set by a handler whose write must be propagated in another form ([]: in
        # none, the handler propagated its effects itself, as XREADGROUP's XCLAIMs).
        self.propagate_argv: list[bytes] | None = None
        # True while a command may not block (inside EXEC): BLPOP & co. time out at once.
        self.deny_blocking = False
        # The Waiter while this client is parked by a blocking command (BLPOP ...).
        self.waiter: Any = None
        # Pub/sub subscriptions, in subscription order (messaging/pubsub.py).
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_channels: dict[bytes, None] = {}
        # Redis's CLIENT_PUBSUB: subscribed to anything (RESP2 then allows only
        # the (un)subscribe commands, PING, QUIT and RESET).
        self.subscribed = False
        # Encoded bytes waiting to be written: this client's replies while its
        # requests run, and what others send it (messages, invalidations, MONITOR).
        self.outbuf: list[bytes] = []
        self.output_queued: bool = False  # in the server's queue of clients to write
        # Close once that queued output is written (QUIT, a protocol error).
        self.close_after_output: bool = False
        # When the output buffer went over its soft limit (0.0: it is not over).
        self.soft_limit_since: float = 0.0
        # Client-side caching state (messaging/tracking.py) while tracking is on.
        self.tracking: Any = None
        self.monitor = False  # MONITOR: receives every command the server runs

    def deliver(self, frame: bytes) -> None:
        """Queue bytes sent outside this client's replies (pub/sub messages,
        invalidations, MONITOR lines); the network layer writes them this turn."""
        self.outbuf.append(frame)
        if not self.output_queued:
            self.output_queued = True
            self.server.queue_output(self)

    def subscription_changed(self) -> None:
        self.subscribed = bool(self.channels or self.patterns or self.shard_channels)

    def subscription_count(self) -> int:
        """What (P)SUBSCRIBE and (P)UNSUBSCRIBE report: channels plus patterns."""
        return len(self.channels) + len(self.patterns)

    def set_authenticated(self, value: bool) -> None:
        """Record the AUTH state; until then the reader enforces Redis's pre-AUTH
        request limits (10 arguments, 16 KB each)."""
        self.authenticated = value
        reader = getattr(self.connection, "reader", None)
        if reader is not None:
            reader.unauthenticated = not value

    def watched_key_modified(self) -> None:
        self.watch_dirty = True

    def unwatch_all(self) -> None:
        for db, key, _ in self.watched:
            watchers = db.watchers.get(key)
            if watchers is not None:
                try:
                    watchers.remove(self)
                except ValueError:
                    pass
                if not watchers:
                    del db.watchers[key]
        self.watched = []
        self.watch_dirty = False

    @property
    def db_index(self) -> int:
        return self.db.index

    def is_blocked(self) -> bool:
        """Waiting for something (a CLIENT PAUSE to end, ...) rather than idle."""
        connection = self.connection
        return connection is not None and connection.is_parked()

    def exempt_from_timeout(self) -> bool:
        """Redis never closes blocked clients or pub/sub subscribers for idleness."""
        return self.is_blocked() or self.subscribed

    def flag_string(self) -> str:
        """CLIENT LIST ``flags=``, letters in Redis's order."""
        flags = ""
        if self.monitor:
            flags += "O"
        if self.subscribed:
            flags += "P"
        if self.multi is not None:
            flags += "x"
        if self.is_blocked():
            flags += "b"
        tracking = self.tracking
        if tracking is not None:
            flags += tracking.flag_letters()
        if self.watch_dirty and self.watched:
            flags += "d"
        if self.close_requested:
            flags += "c"
        if self.kind == "unix":
            flags += "U"
        if self.no_evict:
            flags += "e"
        return flags or "N"

    def query_buffer_size(self) -> int:
        connection = self.connection
        return connection.reader.pending() if connection is not None else 0

    def output_memory(self) -> int:
        """Bytes of output not yet taken by the client (CLIENT LIST ``omem``)."""
        transport = self.transport
        pending = transport.get_write_buffer_size() if transport is not None else 0
        if self.outbuf:
            pending += sum(map(len, self.outbuf))
        return pending

    def output_class(self) -> str:
        """The client-output-buffer-limit class: pubsub while subscribed."""
        return "pubsub" if self.subscribed else "normal"

    def info_line(self) -> str:
        """One ``CLIENT LIST`` line with Redis 7.0's fields, in its order."""
        now = time.time()
        multi = len(self.multi) if self.multi is not None else -1
        name = self.name.decode("utf-8", "replace")
        omem = self.output_memory()
        redirect = self.tracking.redirect if self.tracking is not None else -1
        return (
            f"id={self.id} addr={self.addr} laddr={self.laddr} fd={self.fd} name={name} "
            f"age={int(now - self.created)} idle={int(now - self.last_interaction)} "
            f"flags={self.flag_string()} db={self.db.index} sub={len(self.channels)} "
            f"psub={len(self.patterns)} ssub={len(self.shard_channels)} "
            f"multi={multi} qbuf={self.query_buffer_size()} qbuf-free=0 argv-mem=0 "
            f"multi-mem=0 rbs=1024 rbp=0 obl=0 oll={len(self.outbuf)} omem={omem} "
            f"tot-mem={22400 + omem} "
            f"events={'rw' if omem else 'r'} "
            f"cmd={self.last_command} user={self.user.name.decode('utf-8', 'replace')} redir={redirect} resp={self.resp}"
        )
