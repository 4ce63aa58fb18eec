"""Reading streams: XREAD and XREADGROUP, blocking or not.

A read that finds nothing and was given BLOCK parks the client on its keys (see
taipan/keyspace/blocking.py) with a ``_StreamWait``: the IDs it waits past, ``$``
already resolved to the stream's last ID at the time of blocking, or for a group
read its group and consumer. The wait's ``ready`` test tells the registry when a
write to one of the keys ends the wait (a greater last ID; for a group, a group
or key that went away too), and the parked command then re-runs for that one key,
as Redis serves blocked stream readers one key at a time, in arrival order.

XREADGROUP propagates as its effects (XCLAIM per delivered entry, XGROUP SETID
and CREATECONSUMER for NOACK reads), never as itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import LLONG_MAX, to_int
from taipan.commands.consumer_groups import (
    createconsumer_effect,
    deleted_entry_reply,
    dirty,
    give_to,
    no_group,
    propagate_effects,
    setid_effect,
    use_consumer,
    wants_effects,
    xclaim_effect,
)
from taipan.commands.stream_args import format_id, next_id, parse_id_strict
from taipan.commands.streams import c_word, read_stream
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, c_string, err
from taipan.keyspace.blocking import Blocked
from taipan.keyspace.database import now_ms
from taipan.protocol.reply import NULL_ARRAY, MapPairs, Raw
from taipan.types.stream import MAX_ID, MIN_ID, Consumer, ConsumerGroup, PendingEntry, Stream

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("stream")

_BLOCKED_DEFAULT_COUNT = 1000  # a blocked read without COUNT gets at most this many
_NOT_INTEGER_TIMEOUT = err("timeout is not an integer or out of range")
_NEGATIVE_TIMEOUT = err("timeout is negative")
_UNBALANCED = err("Unbalanced XREAD list of streams: for each stream key an ID or '$' must "
                  "be specified.")
_GROUP_IN_XREAD = err("The GROUP option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
_NOACK_IN_XREAD = err("The NOACK option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
_MISSING_GROUP = err("Missing GROUP option for XREADGROUP")
_DOLLAR_IN_GROUP = err("The $ ID is meaningless in the context of XREADGROUP: you want to "
                       "read the history of this consumer by specifying a proper ID, or use "
                       "the > ID to get new messages. The $ ID would just return an empty "
                       "result set.")
_GT_IN_XREAD = err("The > ID can be specified only when calling XREADGROUP using the GROUP "
                   "<group> <consumer> option.")
_KEY_GONE = ReplyError("UNBLOCKED the stream key no longer exists")
_GROUP_GONE = ReplyError("NOGROUP the consumer group this client was blocked on no longer "
                         "exists")


class _StreamWait:
    """A blocked XREAD/XREADGROUP: what it waits for, kept for its re-run."""

    __slots__ = ("ids", "group", "consumer", "noack", "count")

    def __init__(self, ids: dict[bytes, tuple[int, int]], group: bytes | None,
                 consumer: bytes | None, noack: bool, count: int) -> None:
        self.ids = ids  # key -> the ID to read past (its first mention wins)
        self.group = group  # XREADGROUP: group and consumer names
        self.consumer = consumer
        self.noack = noack
        self.count = count

    def ready(self, key: bytes, value: Any) -> bool:
        if self.group is None:
            return type(value) is Stream and value.last_id > self.ids[key]
        if type(value) is not Stream:
            return True  # the key went away: the reader fails
        group = value.groups.get(self.group)
        return group is None or value.last_id > group.last_id


def _has_entries_after(stream: Stream, after: tuple[int, int]) -> bool:
    """Whether a live entry's ID is greater than ``after`` (Redis compares the last
    valid ID)."""
    if not stream.length or stream.last_id <= after:
        return False
    last = stream.edge_id(False)
    if stream.max_deleted_id >= last:  # the last entry may be deleted: look
        last = stream.last_entry()[0]  # type: ignore[index]
    return last > after


def _c_text(arg: bytes) -> bytes:
    nul = arg.find(b"\0")
    return arg if nul < 0 else arg[:nul]


def _parse_block(arg: bytes) -> int:
    """BLOCK's milliseconds → absolute deadline (0: forever)."""
    millis = to_int(arg, _NOT_INTEGER_TIMEOUT)
    if millis < 0:
        raise _NEGATIVE_TIMEOUT
    if millis == 0:
        return 0
    now = now_ms()
    # Redis adds without an overflow check; a wrapped deadline never comes.
    return now + millis if millis <= LLONG_MAX - now else 0


def _streams_reply(ctx: Client, served: list[tuple[bytes, list]]) -> Any:
    """[[key, entries] ...] in RESP2, a map key -> entries in RESP3."""
    if ctx.resp == 3:
        return MapPairs(served)
    return [[key, entries] for key, entries in served]


def _deliver_new(key: bytes, stream: Stream, group: ConsumerGroup, group_name: bytes,
                 consumer: Consumer, start: tuple[int, int], count: int, noack: bool,
                 now: int, effects: list[list[bytes]] | None) -> list:
    """Entries from ``start`` on for a group: moves its last ID and read counter, and
    (unless NOACK) makes them pending for ``consumer``."""
    out = []
    moved = False
    pending_list = group.pending
    for entry_id, fields in stream.range(start, MAX_ID, count):
        text = format_id(entry_id)
        if entry_id > group.last_id:
            if group.entries_read != -1 and not stream.range_has_tombstones(entry_id):
                group.entries_read += 1
            elif stream.entries_added:
                estimated = stream.estimate_entries_read(entry_id)
                group.entries_read = -1 if estimated is None else estimated
            group.last_id = entry_id
            moved = True
        out.append([text, fields])
        if noack:
            continue
        pending = pending_list.get(entry_id)
        if pending is None:
            pending = PendingEntry(consumer, now)
            pending_list[entry_id] = pending
            consumer.pending[entry_id] = pending
        else:  # delivered before (the group's ID was set back): it changes hands
            give_to(pending, entry_id, consumer)
            pending.delivery_time = now
            pending.delivery_count = 1
        if effects is not None:
            effects.append(xclaim_effect(key, group_name, group, text, pending))
    if noack and moved and effects is not None:
        effects.append(setid_effect(key, group_name, group))
    return out


def _deliver_history(stream: Stream, consumer: Consumer, start: tuple[int, int], count: int,
                     now: int) -> list:
    """The consumer's own pending entries from ``start`` on, delivered again."""
    out = []
    pending_list = consumer.pending
    for entry_id in pending_list.irange(minimum=start):
        if count and len(out) >= count:
            break
        fields = stream.get(entry_id)
        if fields is None:
            out.append(deleted_entry_reply(entry_id))  # acknowledged by nobody, deleted
            continue
        pending = pending_list[entry_id]
        pending.delivery_time = now
        pending.delivery_count += 1
        out.append([format_id(entry_id), fields])
    return out


def _consumer(ctx: Client, key: bytes, group: ConsumerGroup, group_name: bytes, name: bytes,
              noack: bool, now: int, effects: list[list[bytes]] | None) -> Consumer:
    consumer, created = use_consumer(ctx, key, group, name, now)
    if created and noack and effects is not None:
        # NOACK creates no pending entry whose XCLAIM would create the consumer
        effects.append(createconsumer_effect(key, group_name, name))
    return consumer


def _read(ctx: Client, argv: list[bytes], grouped: bool) -> Any:
    waiter = ctx.waiter
    if waiter is not None and waiter.ready_key is not None:
        return _serve_blocked(ctx, waiter)
    argc = len(argv)
    deadline = -1  # no BLOCK
    count = 0
    streams_at = 0
    group_name = consumer_name = None
    noack = False
    i = 1
    while i < argc:
        more = argc - i - 1
        word = c_word(argv[i])
        if word == b"block" and more:
            if ctx.kind == "lua":
                raise err(f"{c_string(argv[0])} command is not allowed with BLOCK option "
                          "from scripts")
            i += 1
            deadline = _parse_block(argv[i])
        elif word == b"count" and more:
            i += 1
            count = max(to_int(argv[i]), 0)
        elif word == b"streams" and more:
            streams_at = i + 1
            if (argc - streams_at) % 2:
                raise _UNBALANCED
            break
        elif word == b"group" and more >= 2:
            if not grouped:
                raise _GROUP_IN_XREAD
            group_name, consumer_name = argv[i + 1], argv[i + 2]
            i += 2
        elif word == b"noack":
            if not grouped:
                raise _NOACK_IN_XREAD
            noack = True
        else:
            raise SyntaxErr()
        i += 1
    if not streams_at:
        raise SyntaxErr()
    if grouped and group_name is None:
        raise _MISSING_GROUP
    n = (argc - streams_at) // 2
    keys = argv[streams_at:streams_at + n]
    ids = []
    groups: list[ConsumerGroup] = []
    for key, arg in zip(keys, argv[streams_at + n:], strict=True):
        stream = read_stream(ctx, key)
        if grouped:
            group = stream.groups.get(group_name) if stream is not None else None
            if group is None:
                raise no_group(key, group_name, " in XREADGROUP with GROUP option")
            groups.append(group)
        text = _c_text(arg)
        if text == b"$":
            if grouped:
                raise _DOLLAR_IN_GROUP
            ids.append(stream.last_id if stream is not None else MIN_ID)
        elif text == b">":
            if not grouped:
                raise _GT_IN_XREAD
            ids.append(MAX_ID)  # (the group's last ID, looked up when serving)
        else:
            ids.append(parse_id_strict(arg))

    effects: list[list[bytes]] | None = [] if grouped and wants_effects(ctx) else None
    now = now_ms()
    served = []
    for index, key in enumerate(keys):
        stream = read_stream(ctx, key)
        if stream is None:
            continue
        after = ids[index]
        history = False
        if grouped:
            if after != MAX_ID:
                history = True
            elif _has_entries_after(stream, groups[index].last_id):
                after = groups[index].last_id
            else:
                continue
        elif not _has_entries_after(stream, after):
            continue
        start = next_id(after) or MIN_ID
        if not grouped:
            served.append((key, Raw(stream.encoded_range(start, MAX_ID, count))))
            continue
        group = groups[index]
        consumer = _consumer(ctx, key, group, group_name, consumer_name,  # type: ignore[arg-type]
                             noack, now, effects)
        if history:
            entries = _deliver_history(stream, consumer, start, count, now)
        else:
            entries = _deliver_new(key, stream, group, group_name, consumer,  # type: ignore[arg-type]
                                   start, count, noack, now, effects)
        served.append((key, entries))
        dirty(ctx)
    if grouped:
        propagate_effects(ctx, effects or [])
    if served:
        return _streams_reply(ctx, served)
    if deadline == -1 or ctx.deny_blocking:
        return NULL_ARRAY  # (inside MULTI or a script a read never blocks)
    waits: dict[bytes, tuple[int, int]] = {}
    for key, after in zip(keys, ids, strict=True):
        waits.setdefault(key, after)
    state = _StreamWait(waits, group_name, consumer_name, noack,
                        count or _BLOCKED_DEFAULT_COUNT)
    return Blocked(list(keys), deadline, Stream, NULL_ARRAY, ready=state.ready, state=state)


def _serve_blocked(ctx: Client, waiter: Any) -> Any:
    """The re-run of a parked read for the key that became ready."""
    state: _StreamWait = waiter.request.state
    key = waiter.ready_key
    stream = ctx.db.get(key)
    if state.group is None:
        after = state.ids[key]
        if type(stream) is not Stream or stream.last_id <= after:
            return waiter.request  # not for us after all: keep waiting
        entries = Raw(stream.encoded_range(next_id(after) or MIN_ID, MAX_ID, state.count))
        return _streams_reply(ctx, [(key, entries)])
    if type(stream) is not Stream:
        raise _KEY_GONE
    group = stream.groups.get(state.group)
    if group is None:
        raise _GROUP_GONE
    after = group.last_id
    if stream.last_id <= after:
        return waiter.request
    effects: list[list[bytes]] | None = [] if wants_effects(ctx) else None
    now = now_ms()
    consumer = _consumer(ctx, key, group, state.group, state.consumer,  # type: ignore[arg-type]
                         state.noack, now, effects)
    entries = _deliver_new(key, stream, group, state.group, consumer,
                           next_id(after) or MIN_ID, state.count, state.noack, now, effects)
    propagate_effects(ctx, effects or [])
    return _streams_reply(ctx, [(key, entries)])


_XREAD_KEYS = {"flags": "RO access", "keyword": "STREAMS", "startfrom": 1, "lastkey": -1,
               "keystep": 1, "limit": 2}
_XREADGROUP_KEYS = {"flags": "RO access", "keyword": "STREAMS", "startfrom": 4, "lastkey": -1,
                    "keystep": 1, "limit": 2}


@commands.command("XREAD", arity=-4, flags="readonly blocking", key_specs=(_XREAD_KEYS,),
                  summary="Return never seen elements in multiple streams, with IDs greater "
                          "than the ones reported by the caller for each stream. Can block.",
                  since="5.0.0",
                  complexity="For each stream mentioned: O(N) with N being the number of "
                             "elements being returned, it means that XREAD-ing with a fixed "
                             "COUNT is O(1). Note that when the BLOCK option is used, XADD will "
                             "pay O(M) time in order to serve the M clients blocked on the "
                             "stream getting new data.")
def xread(ctx: Client, argv: list[bytes]) -> Any:
    """XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"""
    return _read(ctx, argv, grouped=False)


@commands.command("XREADGROUP", arity=-7, flags="write blocking", key_specs=(_XREADGROUP_KEYS,),
                  summary="Return new entries from a stream using a consumer group, or access "
                          "the history of the pending entries for a given consumer. Can block.",
                  since="5.0.0",
                  complexity="For each stream mentioned: O(M) with M being the number of "
                             "elements returned. If M is constant (e.g. always asking for the "
                             "first 10 elements with COUNT), you can consider it O(1). On the "
                             "other side when XREADGROUP blocks, XADD will pay the O(N) time in "
                             "order to serve the N clients blocked on the stream getting new "
                             "data.")
def xreadgroup(ctx: Client, argv: list[bytes]) -> Any:
    """XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
    STREAMS key [key ...] id [id ...]"""
    return _read(ctx, argv, grouped=True)
