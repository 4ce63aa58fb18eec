"""Client-side caching (CLIENT TRACKING): the table of tracked keys and invalidation.

Default mode: the keys a tracking client reads (read-only commands; for a script,
the keys its caller declared) are remembered in one table shared by every database,
key -> ids of the clients that may cache it. A write to a tracked key sends each of
them an invalidation and forgets the key, ids and all; ids of clients that stopped
tracking are dropped only then (or on a flush), as Redis does.

BCAST mode: nothing is remembered; a written key matching a prefix some client
registered is collected, and each loop turn every such client gets one message with
the keys of each of its prefixes (sorted, as Redis's radix tree yields them).

Where invalidations go: a RESP3 client gets a ``invalidate`` push; with REDIRECT
they go to the other client instead, as a push (RESP3) or, to a RESP2 client in
pub/sub mode, as a ``message`` on ``__redis__:invalidate``.

Timing. Redis holds back the invalidations a command causes to its *own* client's
keys (tracking_pending_keys) and sends them after the command's reply. Here nothing
tells an invalidation which client is running, so every invalidation is queued at
once and remembered; when the request ends (``after_request``) those owed to the
requesting client are taken back out of the output queues and put after its reply
(``Frames``), or dropped under NOLOOP. Others were already in the right place.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from taipan.keyspace.blocking import Blocked
from taipan.messaging.tracking_client import ClientTracking
from taipan.protocol.reply import Frames, Raw

if TYPE_CHECKING:
    from taipan.instance import Instance
    from taipan.net.client import Client

_PUSH_HEADER = b">2\r\n$10\r\ninvalidate\r\n"
_MESSAGE_HEADER = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
# Redis sends the flush's null in the tracking client's protocol, whoever receives it.
_NULLS = {2: b"$-1\r\n", 3: b"_\r\n"}
# Read-only commands whose reads don't track keys (a script's reads track its keys).
_UNTRACKED_READS = frozenset({"eval_ro", "evalsha_ro", "fcall_ro"})
# Keys evicted per round when the table is over tracking-table-max-keys; a round that
# can't get under the limit makes the next one try harder (Redis's effort).
_EVICTION_EFFORT = 100


def key_array(keys: list[bytes]) -> bytes:
    """The RESP array of ``keys`` an invalidation carries."""
    parts = [b"*%d\r\n" % len(keys)]
    for key in keys:
        parts.append(b"$%d\r\n%s\r\n" % (len(key), key))
    return b"".join(parts)


class _Prefix:
    """One BCAST prefix: who registered it and the matching keys written this turn."""

    __slots__ = ("clients", "written")

    def __init__(self) -> None:
        self.clients: dict[Client, None] = {}  # an ordered set
        # key -> the client whose command wrote it last (None: unknown or no client),
        # so NOLOOP clients can be spared their own writes.
        self.written: dict[bytes, Any] = {}


# One invalidation already queued: (owner, recipient, frame, dropped under NOLOOP).
_Sent = tuple[Any, Any, bytes, bool]


class Tracking:
    """The server's tracking state (``instance.tracking``)."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        # key -> ids of the clients that may hold it in their cache (an ordered set).
        self.keys: dict[bytes, dict[int, None]] = {}
        self.items = 0  # ids across the table (INFO tracking_total_items)
        self.prefixes: dict[bytes, _Prefix] = {}
        # Database.signal calls ``invalidate_key`` for every written key while this
        # is True: keys are tracked or some BCAST prefix is registered (``wants_writes``).
        self._wants_writes = False
        self._active = False  # see ``active``
        self.clients = 0  # clients with tracking on (INFO tracking_clients)
        # Invalidations queued since the last request ended; see the module docstring.
        self._sent: list[_Sent] = []
        # BCAST keys whose writer is learned when that command's call ends.
        self._unattributed: list[tuple[dict[bytes, Any], bytes]] = []
        self._broadcast_due = False  # BCAST keys wait for the loop turn's end
        self._broadcast_now = False  # ... or for the request's, with no event loop
        self._eviction_rounds = 0  # rounds that didn't get under the limit

    @property
    def wants_writes(self) -> bool:
        return self._wants_writes

    @wants_writes.setter
    def wants_writes(self, value: bool) -> None:
        # Mirrored in each database's own (compiled) field, which every write tests;
        # set after every tracked read, so only a change walks the databases.
        if value != self._wants_writes:
            self._wants_writes = value
            for db in self.instance.databases:
                db.tracking_writes = value

    @property
    def active(self) -> bool:
        """True while after_call/after_request must run (some client tracks, or
        invalidations wait for the end of the running command)."""
        return self._active

    @active.setter
    def active(self, value: bool) -> None:
        if value != self._active:
            self._active = value
            dispatcher = self.instance.dispatcher
            if dispatcher is not None:
                dispatcher.refresh_observers()

    # -- enabling and disabling ---------------------------------------------------------

    def enable(self, client: Client, redirect: int, bcast: bool, optin: bool,
               optout: bool, noloop: bool, prefixes: list[bytes]) -> None:
        """CLIENT TRACKING ON with validated options (re-enabling keeps the
        caching flag and adds prefixes)."""
        state = client.tracking
        if state is None:
            state = client.tracking = ClientTracking()
            self.clients += 1
        state.redirect = redirect
        state.broken_redirect = False
        state.bcast, state.optin, state.optout, state.noloop = bcast, optin, optout, noloop
        if bcast:
            for prefix in prefixes or (b"",):
                entry = self.prefixes.get(prefix)
                if entry is None:
                    entry = self.prefixes[prefix] = _Prefix()
                entry.clients[client] = None
                state.prefixes.add(prefix)
            self.wants_writes = True
        self.active = True

    def disable(self, client: Client) -> None:
        """CLIENT TRACKING OFF, RESET: the client stops tracking. Its ids stay in
        the table until their keys are invalidated or flushed, as in Redis."""
        state = client.tracking
        if state is None:
            return
        client.tracking = None
        self.clients -= 1
        for prefix in state.prefixes:
            entry = self.prefixes[prefix]
            entry.clients.pop(client, None)
            if not entry.clients:
                del self.prefixes[prefix]
        self.wants_writes = bool(self.keys or self.prefixes)
        self.active = bool(self.clients or self._sent)

    def client_closed(self, client: Client) -> None:
        """A client disconnected (or RESET): forget it."""
        self.disable(client)

    # -- remembering reads ----------------------------------------------------------

    def after_call(self, client: Client, command: Any, argv: list[bytes]) -> None:
        """Dispatcher.call, after each command (scripts' too) while ``active``."""
        if self._unattributed:
            for written, key in self._unattributed:
                if key in written:
                    written[key] = client
            self._unattributed.clear()
        if command.is_readonly and command.name not in _UNTRACKED_READS:
            if client.kind == "lua":
                # A script's read tracks the keys the script was called with.
                run = self.instance.scripting.running
                caller = run.caller if run is not None else None
                if caller is not None and caller.tracking is not None \
                        and not caller.tracking.bcast:
                    resolved = self.instance.dispatcher.resolve(run.caller_argv)
                    if not isinstance(resolved, Exception):
                        self._remember(caller, resolved, run.caller_argv)
            elif client.tracking is not None and not client.tracking.bcast:
                self._remember(client, command, argv)
        if self._sent and client.waiter is not None:
            self._after_served(client)

    def _remember(self, client: Client, command: Any, argv: list[bytes]) -> None:
        state = client.tracking
        if (state.optin and not state.caching) or (state.optout and state.caching):
            return
        if "pubsub" in command.flags:
            return  # shard channels are keys for routing only
        table = self.keys
        client_id = client.id
        for key in _read_keys(command, argv):
            ids = table.get(key)
            if ids is None:
                table[key] = {client_id: None}
            elif client_id in ids:
                continue
            else:
                ids[client_id] = None
            self.items += 1
        if table:
            self.wants_writes = True

    # -- invalidating -------------------------------------------------------------------

    def invalidate_key(self, key: bytes) -> None:
        """``key`` was modified (Database.signal)."""
        if self.prefixes:
            self._collect_for_broadcast(key)
        if key in self.keys:
            self._invalidate(key, evicting=False)

    def _invalidate(self, key: bytes, evicting: bool) -> list[tuple[Any, bytes]]:
        """Tell the clients that may cache ``key`` and forget it; the frames sent."""
        ids = self.keys.pop(key)
        self.items -= len(ids)
        if not self.keys and not self.prefixes:
            self.wants_writes = False
        clients = self.instance.clients
        payload = b""
        sent = []
        for client_id in ids:
            target = clients.get(client_id)
            if target is None:
                continue
            state = target.tracking
            # A client that switched to BCAST is no longer told about its old reads.
            if state is None or state.bcast:
                continue
            if not payload:
                payload = key_array([key])
            delivered = self._send(target, state, payload)
            if delivered is not None:
                if not evicting:
                    self._sent.append((target, *delivered, state.noloop))
                sent.append(delivered)
        return sent

    def on_flush(self) -> None:
        """FLUSHDB / FLUSHALL: every tracking client is told to drop everything."""
        if self.clients:
            for client in list(self.instance.clients.values()):
                state = client.tracking
                if state is not None:
                    delivered = self._send(client, state, _NULLS[client.resp])
                    if delivered is not None:
                        self._sent.append((client, *delivered, False))
        self.keys.clear()
        self.items = 0
        self.wants_writes = bool(self.prefixes)

    def _send(self, owner: Client, state: ClientTracking,
              payload: bytes) -> tuple[Client, bytes] | None:
        """Queue one invalidation of ``owner``'s cache where it belongs; the
        recipient and frame, or None when there is nowhere to send it."""
        recipient = owner
        if state.redirect:
            recipient = self.instance.clients.get(state.redirect)
            if recipient is None:
                state.broken_redirect = True
                if owner.resp < 3:
                    return None
                frame = b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % state.redirect
                owner.deliver(frame)
                return owner, frame
            if recipient.resp >= 3:
                frame = _PUSH_HEADER + payload
            elif recipient.subscribed:
                # RESP2 has no pushes: a subscribed client gets a pub/sub message.
                frame = _MESSAGE_HEADER + payload
            else:
                return None
        elif owner.resp >= 3:
            frame = _PUSH_HEADER + payload
        else:
            return None  # RESP2 without a redirect: no way to tell it
        recipient.deliver(frame)
        return recipient, frame

    # -- the end of a request -------------------------------------------------------------

    def after_request(self, client: Client, command: Any, argv: list[bytes],
                      reply: Any) -> Any:
        """Dispatcher.execute, after each request while ``active``: the reply,
        followed by the invalidations owed to the client after it."""
        state = client.tracking
        if state is not None and state.caching and client.multi is None \
                and not command.name.startswith("client|"):
            state.caching = False  # CLIENT CACHING covers one command or transaction
        after_reply: list[bytes] = []
        if self._sent:
            self._settle(client, after_reply)
        if self.clients:
            limit = self.instance.config.tracking_table_max_keys
            if limit and len(self.keys) > limit:
                self._evict(limit, client, after_reply)
            elif self._eviction_rounds:
                self._eviction_rounds = 0
        if self._broadcast_now:
            self._broadcast()
        self.active = bool(self.clients or self._sent)
        if not after_reply:
            return reply
        if client.reply_mode == "on" and type(reply) is not Blocked:
            return Frames([reply, Raw(b"".join(after_reply))])
        for frame in after_reply:
            client.deliver(frame)
        return reply

    def owes(self, client: Client, frame: bytes) -> bool:
        """Whether ``frame`` is an invalidation ``client`` caused itself, which
        ``after_request`` will move after the request's reply."""
        return any(owner is client and sent is frame for owner, _, sent, _ in self._sent)

    def _settle(self, client: Client, after_reply: list[bytes]) -> None:
        """Move the invalidations the request caused to its own client's cache
        after its reply (or drop them: NOLOOP)."""
        kept = []
        script_running = self.instance.scripting.running is not None
        for owner, recipient, frame, noloop in self._sent:
            if owner is not client:
                if script_running:
                    kept.append((owner, recipient, frame, noloop))  # its caller's, later
                continue
            if not _take_back(recipient.outbuf, frame):
                continue  # already written: it was sent outside this request
            if noloop:
                continue
            if recipient is client:
                after_reply.append(frame)
            else:
                recipient.deliver(frame)  # after what the request sent it
        self._sent = kept

    def _after_served(self, client: Client) -> None:
        """A blocked command was just served (the one command running): its own
        invalidations follow the reply, which the network layer writes when the
        call returns; the others' are already in place."""
        frames: list[tuple[Client, bytes]] = []
        for owner, recipient, frame, noloop in self._sent:
            if owner is client and _take_back(recipient.outbuf, frame) and not noloop:
                frames.append((recipient, frame))
        self._sent = []
        if frames and not _later(lambda: _deliver_all(frames)):
            _deliver_all(frames)

    def _evict(self, limit: int, client: Client, after_reply: list[bytes]) -> None:
        """Forget keys (oldest first) until the table is within the limit, telling
        their clients as if the keys had changed. Redis does it before the next
        command; after this reply is the same place in the client's stream."""
        keys = self.keys
        for _ in range(_EVICTION_EFFORT * (self._eviction_rounds + 1)):
            for recipient, frame in self._invalidate(next(iter(keys)), evicting=True):
                if recipient is client and _take_back(client.outbuf, frame):
                    after_reply.append(frame)
            if len(keys) <= limit:
                self._eviction_rounds = 0
                return
        self._eviction_rounds += 1

    # -- BCAST ------------------------------------------------------------------------

    def _collect_for_broadcast(self, key: bytes) -> None:
        for prefix, entry in self.prefixes.items():
            if key.startswith(prefix):
                entry.written[key] = None
                self._unattributed.append((entry.written, key))
                if not self._broadcast_due:
                    self._broadcast_due = True
                    self._broadcast_now = not _later(self._broadcast)

    def _broadcast(self) -> None:
        """The loop turn ends: send each BCAST client the keys written under its
        prefixes (one message per prefix)."""
        self._broadcast_due = self._broadcast_now = False
        self._unattributed.clear()
        if not self.clients:
            return  # as Redis: the keys wait for a tracking client
        for prefix in sorted(self.prefixes):
            entry = self.prefixes[prefix]
            written = entry.written
            if not written:
                continue
            entry.written = {}
            keys = sorted(written)
            payload = key_array(keys)
            for client in list(entry.clients):
                state = client.tracking
                if state is None:
                    continue
                if state.noloop:
                    own = [key for key in keys if written[key] is not client]
                    if not own:
                        continue
                    self._send(client, state, key_array(own))
                else:
                    self._send(client, state, payload)

    # -- INFO ------------------------------------------------------------------------

    def client_count(self) -> int:
        return self.clients

    def total_keys(self) -> int:
        return len(self.keys)

    def total_items(self) -> int:
        return self.items

    def total_prefixes(self) -> int:
        return len(self.prefixes)


def _read_keys(command: Any, argv: list[bytes]) -> list[bytes]:
    """The keys a read-only command read: its (first, last, step) triple or, for the
    commands Redis finds keys for with code (numkeys, STREAMS ...), its key specs."""
    if command.first_key > 0:
        return [argv[i] for i in command.key_positions(argv)]
    refs = command.key_references(argv)
    if refs is None:
        if command.name == "sort_ro" and len(argv) > 1:
            return [argv[1]]
        return []
    return [argv[i] for i, _ in refs]


def _deliver_all(frames: list[tuple[Any, bytes]]) -> None:
    for recipient, frame in frames:
        recipient.deliver(frame)


def _take_back(outbuf: list[bytes], frame: bytes) -> bool:
    """Remove ``frame`` (this very object) from an output queue not yet written."""
    for i in range(len(outbuf) - 1, -1, -1):
        if outbuf[i] is frame:
            del outbuf[i]
            return True
    return False


def _later(callback: Any) -> bool:
    """Run ``callback`` on the loop's next turn; False without a running loop."""
    try:
        asyncio.get_running_loop().call_soon(callback)
    except RuntimeError:
        return False
    return True
