"""Taking over pending entries: XCLAIM and XAUTOCLAIM.

Both propagate as one ``XCLAIM ... FORCE JUSTID LASTID`` per entry claimed or
dropped (an entry deleted from the stream leaves the pending list), never as
themselves; XCLAIM's LASTID moving the group alone propagates as XGROUP SETID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taipan.commands.args import to_int
from taipan.commands.consumer_groups import (
    dirty,
    drop_pending,
    entry_reply,
    give_to,
    no_group,
    printable_error,
    propagate_effects,
    setid_effect,
    use_consumer,
    wants_effects,
    xclaim_effect,
)
from taipan.commands.stream_args import format_id, next_id, parse_id_strict, parse_interval_bound
from taipan.commands.streams import c_word, read_stream
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, c_string, err
from taipan.keyspace.database import now_ms
from taipan.types.stream import MIN_ID, Consumer, PendingEntry, StreamID

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("stream")

_XCLAIM_MIN_IDLE = err("Invalid min-idle-time argument for XCLAIM")
_XCLAIM_IDLE = err("Invalid IDLE option argument for XCLAIM")
_XCLAIM_TIME = err("Invalid TIME option argument for XCLAIM")
_XCLAIM_RETRYCOUNT = err("Invalid RETRYCOUNT option argument for XCLAIM")
_XAUTOCLAIM_MIN_IDLE = err("Invalid min-idle-time argument for XAUTOCLAIM")
_COUNT_RANGE = err("COUNT must be > 0")
_COUNT_TOO_HIGH = err("Insufficient memory, failed allocating transient memory, COUNT too high.")
_BAD_START = err("invalid start ID for the interval")
_ATTEMPTS_FACTOR = 10  # XAUTOCLAIM looks at most COUNT * 10 pending entries
_MAX_COUNT = ((1 << 63) - 1) // 16  # LONG_MAX / sizeof(streamID)
# Redis allocates COUNT IDs up front; past the address space that always fails.
_MAX_ALLOCATABLE_COUNT = (1 << 47) // 16


def _try_id(arg: bytes) -> StreamID | None:
    try:
        return parse_id_strict(arg)
    except ReplyError:
        return None


@commands.command("XCLAIM", arity=-6, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW update",), tips="nondeterministic_output",
                  summary="Changes (or acquires) ownership of a message in a consumer group, as "
                          "if the message was delivered to the specified consumer.",
                  since="5.0.0",
                  complexity="O(log N) with N being the number of messages in the PEL of the "
                             "consumer group.")
def xclaim(ctx: Client, argv: list[bytes]) -> list:
    """XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
    [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]"""
    key, group_name = argv[1], argv[2]
    stream = read_stream(ctx, key)
    group = stream.groups.get(group_name) if stream is not None else None
    if group is None:
        raise no_group(key, group_name)
    assert stream is not None
    min_idle = max(to_int(argv[4], _XCLAIM_MIN_IDLE), 0)
    # The IDs first (all or nothing); the first argument that isn't one starts the
    # options.
    argc = len(argv)
    ids: list[tuple[StreamID, bytes]] = []
    j = 5
    while j < argc:
        entry_id = _try_id(argv[j])
        if entry_id is None:
            break
        ids.append((entry_id, argv[j]))
        j += 1
    now = now_ms()
    force = justid = False
    retry_count = -1
    delivery_time = -1
    last_id = MIN_ID
    while j < argc:
        more = argc - 1 - j
        word = c_word(argv[j])
        if word == b"force":
            force = True
        elif word == b"justid":
            justid = True
        elif word == b"idle" and more:
            j += 1
            delivery_time = now - to_int(argv[j], _XCLAIM_IDLE)
        elif word == b"time" and more:
            j += 1
            delivery_time = to_int(argv[j], _XCLAIM_TIME)
        elif word == b"retrycount" and more:
            j += 1
            retry_count = to_int(argv[j], _XCLAIM_RETRYCOUNT)
        elif word == b"lastid" and more:
            j += 1
            last_id = parse_id_strict(argv[j])
        else:
            raise printable_error(f"ERR Unrecognized XCLAIM option '{c_string(argv[j])}'")
        j += 1
    moved_group = False
    if last_id > group.last_id:
        group.last_id = last_id
        moved_group = True
    if delivery_time == -1 or delivery_time < 0 or delivery_time > now:
        # (a bogus time from a client's clock is taken as now, not refused)
        delivery_time = now

    effects: list[list[bytes]] | None = [] if wants_effects(ctx) else None
    consumer: Consumer | None = None
    name = argv[3]
    pending_list = group.pending
    out: list = []
    changes = 0
    for entry_id, arg in ids:
        pending = pending_list.get(entry_id)
        if stream.get(entry_id) is None:
            if pending is not None:  # gone from the stream: it leaves the pending list
                if effects is not None:
                    effects.append(xclaim_effect(key, group_name, group, arg, pending))
                moved_group = False  # (the XCLAIM carries the last ID)
                changes += 1
                drop_pending(group, entry_id, pending)
            continue
        if pending is None:
            if not force:
                continue
            pending = PendingEntry(None, now)  # type: ignore[arg-type]
            pending_list[entry_id] = pending
        elif min_idle and pending.consumer is not None \
                and now - pending.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = use_consumer(ctx, key, group, name, now)[0]
        give_to(pending, entry_id, consumer)
        pending.delivery_time = delivery_time
        if retry_count >= 0:
            pending.delivery_count = retry_count
        elif not justid:
            pending.delivery_count += 1
        out.append(format_id(entry_id) if justid else entry_reply(stream, entry_id))
        if effects is not None:
            effects.append(xclaim_effect(key, group_name, group, arg, pending))
        moved_group = False
        changes += 1
    if moved_group:
        if effects is not None:
            effects.append(setid_effect(key, group_name, group))
        changes += 1
    if changes:
        dirty(ctx, changes)
    propagate_effects(ctx, effects or [])
    return out


@commands.command("XAUTOCLAIM", arity=-6, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW delete",), tips="nondeterministic_output",
                  summary="Changes (or acquires) ownership of messages in a consumer group, as "
                          "if the messages were delivered to the specified consumer.",
                  since="6.2.0", complexity="O(1) if COUNT is small.",
                  history=(("7.0.0", "Added an element to the reply array, containing deleted "
                                     "entries the command cleared from the PEL"),))
def xautoclaim(ctx: Client, argv: list[bytes]) -> list:
    """XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]"""
    min_idle = max(to_int(argv[4], _XAUTOCLAIM_MIN_IDLE), 0)
    start, exclusive = parse_interval_bound(argv[5], 0)
    if exclusive:
        start = next_id(start)  # type: ignore[assignment]
        if start is None:
            raise _BAD_START
    count = 100
    justid = False
    argc = len(argv)
    j = 6
    while j < argc:
        word = c_word(argv[j])
        if word == b"count" and argc - 1 - j:
            count = to_int(argv[j + 1], _COUNT_RANGE)
            if not 1 <= count <= _MAX_COUNT:
                raise _COUNT_RANGE
            j += 1
        elif word == b"justid":
            justid = True
        else:
            raise SyntaxErr()
        j += 1
    key, group_name = argv[1], argv[2]
    stream = read_stream(ctx, key)
    group = stream.groups.get(group_name) if stream is not None else None
    if group is None:
        raise no_group(key, group_name)
    assert stream is not None
    if count > _MAX_ALLOCATABLE_COUNT:
        raise _COUNT_TOO_HIGH

    effects: list[list[bytes]] | None = [] if wants_effects(ctx) else None
    now = now_ms()
    name = argv[3]
    consumer: Consumer | None = None
    pending_list = group.pending
    attempts = count * _ATTEMPTS_FACTOR
    position = pending_list.bisect_left(start)
    claimed: list = []
    deleted: list[bytes] = []
    changes = 0
    while attempts and count and position < len(pending_list):
        attempts -= 1
        entry_id, pending = pending_list.peekitem(position)
        if stream.get(entry_id) is None:  # gone from the stream: dropped, reported
            text = format_id(entry_id)
            if effects is not None:
                effects.append(xclaim_effect(key, group_name, group, text, pending))
            changes += 1
            drop_pending(group, entry_id, pending)  # (the next one moves to ``position``)
            deleted.append(text)
            count -= 1
            continue
        position += 1
        if min_idle and now - pending.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = use_consumer(ctx, key, group, name, now)[0]
        give_to(pending, entry_id, consumer)
        pending.delivery_time = now
        if not justid:
            pending.delivery_count += 1
        text = format_id(entry_id)
        claimed.append(text if justid else entry_reply(stream, entry_id))
        count -= 1
        if effects is not None:
            effects.append(xclaim_effect(key, group_name, group, text, pending))
        changes += 1
    # The cursor: the first pending entry not looked at, 0-0 past the end.
    cursor = format_id(pending_list.peekitem(position)[0]) \
        if position < len(pending_list) else b"0-0"
    if changes:
        dirty(ctx, changes)
    propagate_effects(ctx, effects or [])
    return [cursor, claimed, deleted]
