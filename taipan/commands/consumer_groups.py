"""What XREADGROUP, XGROUP, XACK, XPENDING, XCLAIM and XAUTOCLAIM share: finding
groups and consumers, moving pending entries, and the effects they propagate.

Redis propagates consumer-group reads and claims as their effects, never as the
command itself: one ``XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE
JUSTID LASTID id`` per pending entry created or moved, ``XGROUP SETID`` for a
``NOACK`` read that moved the group, ``XGROUP CREATECONSUMER`` for a consumer such
a read created. ``propagate_effects`` sends them (several as one MULTI/EXEC block)
in place of the command.

Group operations change no key in Redis's sense: they count as changes (dirty) but
neither invalidate WATCH nor wake blocked clients (XGROUP DESTROY and the stream's
creation by MKSTREAM excepted), so they bump ``stats.dirty`` directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taipan.commands.stream_args import format_id
from taipan.errors import ReplyError, c_string
from taipan.keyspace import events as ev
from taipan.protocol.reply import NULL_ARRAY
from taipan.types.stream import Consumer, ConsumerGroup, PendingEntry, Stream, StreamID

if TYPE_CHECKING:
    from taipan.net.client import Client


def no_group(key: bytes, group: bytes, suffix: str = "") -> ReplyError:
    """NOGROUP for a missing key or group (XPENDING, XCLAIM, XREADGROUP ...)."""
    return printable_error(f"NOGROUP No such key '{c_string(key)}' or consumer group "
                           f"'{c_string(group)}'{suffix}")


def printable_error(text: str) -> ReplyError:
    """An error quoting arguments: Redis turns their CR and LF into spaces."""
    return ReplyError(text.replace("\r", " ").replace("\n", " "))


def wants_effects(ctx: Client) -> bool:
    """Whether anything listens to propagated writes (else effects aren't built)."""
    return bool(ctx.server.propagators)


def propagate_effects(ctx: Client, effects: list[list[bytes]]) -> None:
    """Propagate ``effects`` instead of the command (Redis's alsoPropagate with
    preventCommandPropagation): several go as one MULTI/EXEC block, or join the
    block of the EXEC or script running."""
    ctx.propagate_argv = []
    if not effects:
        return
    dispatcher = ctx.server.dispatcher
    outermost = dispatcher.begin_atomic()
    try:
        index = ctx.db.index
        for argv in effects:
            dispatcher.propagate(index, argv)
    finally:
        dispatcher.end_atomic(outermost)


def xclaim_effect(key: bytes, group_name: bytes, group: ConsumerGroup, entry: bytes,
                  pending: PendingEntry) -> list[bytes]:
    """The XCLAIM that recreates ``pending`` (owner, time, count) on a replica."""
    return [b"XCLAIM", key, group_name, pending.consumer.name, b"0", entry,
            b"TIME", b"%d" % pending.delivery_time,
            b"RETRYCOUNT", b"%d" % pending.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", format_id(group.last_id)]


def setid_effect(key: bytes, group_name: bytes, group: ConsumerGroup) -> list[bytes]:
    return [b"XGROUP", b"SETID", key, group_name, format_id(group.last_id),
            b"ENTRIESREAD", b"%d" % group.entries_read]


def createconsumer_effect(key: bytes, group_name: bytes, name: bytes) -> list[bytes]:
    return [b"XGROUP", b"CREATECONSUMER", key, group_name, name]


def dirty(ctx: Client, changes: int = 1) -> None:
    ctx.db.stats.dirty += changes


def create_consumer(ctx: Client, key: bytes, group: ConsumerGroup, name: bytes,
                    now: int) -> Consumer | None:
    """Add a consumer (None when it exists): a change, with its keyspace event."""
    if name in group.consumers:
        return None
    consumer = Consumer(name, now)
    group.consumers[name] = consumer
    dirty(ctx)
    ctx.db.notify(ev.STREAM, b"xgroup-createconsumer", key)
    return consumer


def use_consumer(ctx: Client, key: bytes, group: ConsumerGroup, name: bytes,
                 now: int) -> tuple[Consumer, bool]:
    """The named consumer, seen now, created if needed (True when created)."""
    consumer = group.consumers.get(name)
    if consumer is not None:
        consumer.seen_time = now
        return consumer, False
    return create_consumer(ctx, key, group, name, now), True  # type: ignore[return-value]


def drop_pending(group: ConsumerGroup, entry_id: StreamID, pending: PendingEntry) -> None:
    """Forget a pending entry in the group's and its owner's lists."""
    del group.pending[entry_id]
    owner = pending.consumer
    if owner is not None:
        owner.pending.pop(entry_id, None)


def give_to(pending: PendingEntry, entry_id: StreamID, consumer: Consumer) -> None:
    """Move a pending entry to ``consumer``'s list (it may have had no owner)."""
    owner = pending.consumer
    if owner is not consumer:
        if owner is not None:
            owner.pending.pop(entry_id, None)
        consumer.pending[entry_id] = pending
        pending.consumer = consumer


def entry_reply(stream: Stream, entry_id: StreamID) -> list | None:
    """[ID, [field, value ...]] of a live entry, None when there is none."""
    fields = stream.get(entry_id)
    if fields is None:
        return None
    return [format_id(entry_id), fields]


def deleted_entry_reply(entry_id: StreamID) -> list:
    """A pending entry whose stream entry is gone, as XREADGROUP shows history."""
    return [format_id(entry_id), NULL_ARRAY]
