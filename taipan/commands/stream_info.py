"""XINFO STREAM / GROUPS / CONSUMERS.

Group and consumer data come from ``Stream.groups`` (filled by XGROUP, XREADGROUP and
XCLAIM); lag and entries-read follow Redis 7.0's rules (``Stream.group_lag``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.streams import c_word as _c_word
from taipan.commands.streams import entries_reply
from taipan.commands.table import CommandGroup
from taipan.errors import NoSuchKey, ReplyError, WrongType, c_string, err
from taipan.keyspace.database import now_ms
from taipan.protocol.reply import Status
from taipan.types.stream import MAX_ID, MIN_ID, ConsumerGroup, Stream

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("stream")

commands.container("XINFO", summary="A container for stream introspection commands",
                   since="5.0.0")

_XINFO_HELP = [
    b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CONSUMERS <key> <groupname>",
    b"    Show consumers of <groupname>.",
    b"GROUPS <key>",
    b"    Show the stream consumer groups.",
    b"STREAM <key> [FULL [COUNT <count>]",
    b"    Show information about the stream.",
    b"HELP",
    b"    Prints this help.",
]


def _syntax_error(argv: list[bytes]) -> ReplyError:
    """Redis's addReplySubcommandSyntaxError."""
    sub = c_string(argv[1], 128).replace("\r", " ").replace("\n", " ")
    return err(f"unknown subcommand or wrong number of arguments for '{sub}'. "
               f"Try {c_string(argv[0]).upper()} HELP.")


def _stream_at(ctx: Client, key: bytes) -> Stream:
    value = ctx.db.get_read(key)
    if value is None:
        raise NoSuchKey()
    if type(value) is not Stream:
        raise WrongType()
    return value


def _format_id(entry_id: tuple[int, int]) -> bytes:
    return b"%d-%d" % entry_id


@commands.command("XINFO HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="5.0.0",
                  complexity="O(1)")
def xinfo_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """XINFO HELP"""
    return [Status(line.decode()) for line in _XINFO_HELP]


@commands.command("XINFO STREAM", arity=-3, flags="readonly", keys=(2, 2, 1),
                  summary="Get information about a stream", since="5.0.0", complexity="O(1)",
                  history=(("6.0.0", "Added the `FULL` modifier."),
                           ("7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, "
                                     "`recorded-first-entry-id`, `entries-read` and `lag` "
                                     "fields")))
def xinfo_stream(ctx: Client, argv: list[bytes]) -> dict:
    """XINFO STREAM key [FULL [COUNT count]]"""
    stream = _stream_at(ctx, argv[2])
    options = argv[3:]
    full = bool(options)
    count = 10  # FULL's default, so a huge stream can't stall the server
    if options:
        if len(options) not in (1, 3) or _c_word(options[0]) != b"full":
            raise _syntax_error(argv)
        if len(options) == 3:
            if _c_word(options[1]) != b"count":
                raise _syntax_error(argv)
            count = to_int(options[2])
            if count < 0:
                count = 10
    reply: dict[bytes, Any] = {
        b"length": stream.length,
        b"radix-tree-keys": stream.node_count(),
        b"radix-tree-nodes": stream.rax_node_count(),
        b"last-generated-id": _format_id(stream.last_id),
        b"max-deleted-entry-id": _format_id(stream.max_deleted_id),
        b"entries-added": stream.entries_added,
        b"recorded-first-entry-id": _format_id(stream.first_id),
    }
    if not full:
        reply[b"groups"] = len(stream.groups)
        first = stream.first_entry()
        last = stream.last_entry()
        reply[b"first-entry"] = None if first is None else entries_reply([first])[0]
        reply[b"last-entry"] = None if last is None else entries_reply([last])[0]
        return reply
    reply[b"entries"] = entries_reply(stream.range(MIN_ID, MAX_ID, count))
    reply[b"groups"] = [_full_group(stream, group, count) for group in stream.groups.values()]
    return reply


def _full_group(stream: Stream, group: ConsumerGroup, count: int) -> dict:
    pending = []
    for entry_id, nack in group.pending.items():
        if count and len(pending) >= count:
            break
        pending.append([_format_id(entry_id), nack.consumer.name, nack.delivery_time,
                        nack.delivery_count])
    consumers = []
    for consumer in group.consumers.values():
        owned = []
        for entry_id, nack in consumer.pending.items():
            if count and len(owned) >= count:
                break
            owned.append([_format_id(entry_id), nack.delivery_time, nack.delivery_count])
        consumers.append({
            b"name": consumer.name,
            b"seen-time": consumer.seen_time,
            b"pel-count": len(consumer.pending),
            b"pending": owned,
        })
    return {
        b"name": group.name,
        b"last-delivered-id": _format_id(group.last_id),
        b"entries-read": None if group.entries_read == -1 else group.entries_read,
        b"lag": stream.group_lag(group),
        b"pel-count": len(group.pending),
        b"pending": pending,
        b"consumers": consumers,
    }


@commands.command("XINFO GROUPS", arity=3, flags="readonly", keys=(2, 2, 1),
                  summary="List the consumer groups of a stream", since="5.0.0",
                  complexity="O(1)",
                  history=(("7.0.0", "Added the `entries-read` and `lag` fields"),))
def xinfo_groups(ctx: Client, argv: list[bytes]) -> list:
    """XINFO GROUPS key"""
    stream = _stream_at(ctx, argv[2])
    return [{
        b"name": group.name,
        b"consumers": len(group.consumers),
        b"pending": len(group.pending),
        b"last-delivered-id": _format_id(group.last_id),
        b"entries-read": None if group.entries_read == -1 else group.entries_read,
        b"lag": stream.group_lag(group),
    } for group in stream.groups.values()]


@commands.command("XINFO CONSUMERS", arity=4, flags="readonly", keys=(2, 2, 1),
                  tips="nondeterministic_output",
                  summary="List the consumers in a consumer group", since="5.0.0",
                  complexity="O(1)")
def xinfo_consumers(ctx: Client, argv: list[bytes]) -> list:
    """XINFO CONSUMERS key group"""
    key = argv[2]
    stream = _stream_at(ctx, key)
    group = stream.groups.get(argv[3])
    if group is None:
        message = (f"NOGROUP No such consumer group '{c_string(argv[3])}' for key name "
                   f"'{c_string(key)}'")
        raise ReplyError(message.replace("\r", " ").replace("\n", " "))
    now = now_ms()
    return [{
        b"name": consumer.name,
        b"pending": len(consumer.pending),
        b"idle": max(now - consumer.seen_time, 0),
    } for consumer in group.consumers.values()]
