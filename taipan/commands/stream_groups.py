"""Consumer groups: XGROUP, XACK, XPENDING."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.consumer_groups import (
    create_consumer,
    dirty,
    drop_pending,
    no_group,
    printable_error,
)
from taipan.commands.stream_args import (
    format_id,
    next_id,
    parse_id_strict,
    parse_interval_bound,
    parse_plain_id,
    previous_id,
)
from taipan.commands.streams import c_word, read_stream
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, c_string, err
from taipan.keyspace import events as ev
from taipan.keyspace.database import now_ms
from taipan.protocol.reply import NULL_ARRAY, OK, Status
from taipan.types.stream import MIN_ID, UINT64_MAX, ConsumerGroup, Stream

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("stream")
commands.container("XGROUP", summary="A container for consumer groups commands", since="5.0.0")

_NEEDS_KEY = err("The XGROUP subcommand requires the key to exist. Note that for CREATE you "
                 "may want to use the MKSTREAM option to create an empty stream automatically.")
_BAD_ENTRIES_READ = err("value for ENTRIESREAD must be positive or -1")
_BUSYGROUP = ReplyError("BUSYGROUP Consumer Group name already exists")
_BAD_START = err("invalid start ID for the interval")
_BAD_END = err("invalid end ID for the interval")


def _subcommand_syntax(argv: list[bytes]) -> ReplyError:
    """Redis's addReplySubcommandSyntaxError."""
    return printable_error(
        f"ERR unknown subcommand or wrong number of arguments for '{c_string(argv[1], 128)}'. "
        f"Try {c_string(argv[0]).upper()} HELP.")


def _is_dollar(arg: bytes) -> bool:
    return arg[:1] == b"$" and (len(arg) == 1 or arg[1] == 0)


def _target(ctx: Client, argv: list[bytes], options: tuple[bytes, ...] = (),
            group_needed: bool = False) -> tuple[Stream | None, ConsumerGroup | None, bool, int]:
    """What every XGROUP subcommand but HELP starts with, in Redis's order: the
    options (``mkstream``, ``entriesread`` where allowed), the key, its group.
    Returns (stream, group, MKSTREAM given, ENTRIESREAD or -1)."""
    mkstream = False
    entries_read = -1
    argc = len(argv)
    i = 5
    while i < argc:
        word = c_word(argv[i])
        if word == b"mkstream" and b"mkstream" in options:
            mkstream = True
            i += 1
        elif word == b"entriesread" and b"entriesread" in options and i + 1 < argc:
            entries_read = to_int(argv[i + 1])
            if entries_read < -1:
                raise _BAD_ENTRIES_READ
            i += 2
        else:
            raise _subcommand_syntax(argv)
    key, name = argv[2], argv[3]
    stream = ctx.db.get_typed(key, Stream)
    group = None
    if not mkstream:
        if stream is None:
            raise _NEEDS_KEY
        group = stream.groups.get(name)
        if group is None and group_needed:
            raise printable_error(f"NOGROUP No such consumer group '{c_string(name)}' for key "
                                  f"name '{c_string(key)}'")
    return stream, group, mkstream, entries_read


@commands.command("XGROUP CREATE", arity=-5, flags="write denyoom", keys=(2, 2, 1),
                  key_specs=("RW insert",), summary="Create a consumer group.", since="5.0.0",
                  complexity="O(1)",
                  history=(("7.0.0", "Added the `entries_read` named argument."),))
def xgroup_create(ctx: Client, argv: list[bytes]) -> Any:
    """XGROUP CREATE key group id | $ [MKSTREAM] [ENTRIESREAD entries-read]"""
    stream, _, _, entries_read = _target(ctx, argv, (b"mkstream", b"entriesread"))
    if len(argv) > 8:
        raise _subcommand_syntax(argv)
    if _is_dollar(argv[4]):
        last_id = stream.last_id if stream is not None else MIN_ID
    else:
        last_id = parse_id_strict(argv[4])
    key, name = argv[2], argv[3]
    db = ctx.db
    if stream is None:  # MKSTREAM (the command can no longer fail)
        stream = Stream()
        db.set(key, stream)  # (counts as the change)
    elif name in stream.groups:
        raise _BUSYGROUP
    else:
        dirty(ctx)
    stream.groups[name] = ConsumerGroup(name, last_id, entries_read)
    db.notify(ev.STREAM, b"xgroup-create", key)
    return OK


@commands.command("XGROUP SETID", arity=-5, flags="write", keys=(2, 2, 1),
                  key_specs=("RW update",),
                  summary="Set a consumer group to an arbitrary last delivered ID value.",
                  since="5.0.0", complexity="O(1)",
                  history=(("7.0.0", "Added the optional `entries_read` argument."),))
def xgroup_setid(ctx: Client, argv: list[bytes]) -> Any:
    """XGROUP SETID key group id | $ [ENTRIESREAD entries-read]"""
    stream, group, _, entries_read = _target(ctx, argv, (b"entriesread",), group_needed=True)
    if len(argv) not in (5, 7):
        raise _subcommand_syntax(argv)
    assert stream is not None and group is not None
    group.last_id = stream.last_id if _is_dollar(argv[4]) else parse_plain_id(argv[4])
    group.entries_read = entries_read
    dirty(ctx)
    ctx.db.notify(ev.STREAM, b"xgroup-setid", argv[2])
    return OK


@commands.command("XGROUP DESTROY", arity=4, flags="write", keys=(2, 2, 1),
                  key_specs=("RW delete",), summary="Destroy a consumer group.", since="5.0.0",
                  complexity="O(N) where N is the number of entries in the group's pending "
                             "entries list (PEL).")
def xgroup_destroy(ctx: Client, argv: list[bytes]) -> int:
    """XGROUP DESTROY key group"""
    stream, group, _, _ = _target(ctx, argv)
    if group is None:
        return 0
    assert stream is not None
    key = argv[2]
    del stream.groups[argv[3]]
    dirty(ctx)
    db = ctx.db
    db.notify(ev.STREAM, b"xgroup-destroy", key)
    if key in db.blocked_keys:
        db.blocking.key_ready(db, key)  # its blocked readers fail with NOGROUP
    return 1


@commands.command("XGROUP CREATECONSUMER", arity=5, flags="write denyoom", keys=(2, 2, 1),
                  key_specs=("RW insert",), summary="Create a consumer in a consumer group.",
                  since="6.2.0", complexity="O(1)")
def xgroup_createconsumer(ctx: Client, argv: list[bytes]) -> int:
    """XGROUP CREATECONSUMER key group consumer"""
    _, group, _, _ = _target(ctx, argv, group_needed=True)
    assert group is not None
    return int(create_consumer(ctx, argv[2], group, argv[4], now_ms()) is not None)


@commands.command("XGROUP DELCONSUMER", arity=5, flags="write", keys=(2, 2, 1),
                  key_specs=("RW delete",), summary="Delete a consumer from a consumer group.",
                  since="5.0.0", complexity="O(1)")
def xgroup_delconsumer(ctx: Client, argv: list[bytes]) -> int:
    """XGROUP DELCONSUMER key group consumer"""
    _, group, _, _ = _target(ctx, argv, group_needed=True)
    assert group is not None
    consumer = group.consumers.pop(argv[4], None)
    if consumer is None:
        return 0
    pending = len(consumer.pending)
    for entry_id in consumer.pending:
        del group.pending[entry_id]
    dirty(ctx)
    ctx.db.notify(ev.STREAM, b"xgroup-delconsumer", argv[2])
    return pending


_HELP = (
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
)


@commands.command("XGROUP HELP", arity=2, flags="loading stale",
                  summary="Show helpful text about the different subcommands", since="5.0.0",
                  complexity="O(1)")
def xgroup_help(ctx: Client, argv: list[bytes]) -> list[Status]:
    """XGROUP HELP"""
    return [Status(line) for line in _HELP]


# -- XACK, XPENDING -----------------------------------------------------------------------

@commands.command("XACK", arity=-4, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW update",),
                  summary="Marks a pending message as correctly processed, effectively removing "
                          "it from the pending entries list of the consumer group. Return value "
                          "of the command is the number of messages successfully acknowledged, "
                          "that is, the IDs we were actually able to resolve in the PEL.",
                  since="5.0.0", complexity="O(1) for each message ID processed.")
def xack(ctx: Client, argv: list[bytes]) -> int:
    """XACK key group id [id ...]"""
    stream = read_stream(ctx, argv[1])
    group = stream.groups.get(argv[2]) if stream is not None else None
    if group is None:
        return 0
    # All IDs first: the reply can't be an error once some entries were acknowledged.
    ids = [parse_id_strict(arg) for arg in argv[3:]]
    pending_list = group.pending
    acknowledged = 0
    for entry_id in ids:
        pending = pending_list.get(entry_id)
        if pending is not None:
            drop_pending(group, entry_id, pending)
            acknowledged += 1
    if acknowledged:
        dirty(ctx, acknowledged)
    return acknowledged


@commands.command("XPENDING", arity=-3, flags="readonly", keys=(1, 1, 1),
                  key_specs=("RO access",), tips="nondeterministic_output",
                  summary="Return information and entries from a stream consumer group pending "
                          "entries list, that are messages fetched but never acknowledged.",
                  since="5.0.0",
                  complexity="O(N) with N being the number of elements returned, so asking for "
                             "a small fixed number of entries per call is O(1). O(M), where M is "
                             "the total number of entries scanned when used with the IDLE "
                             "filter. When the command returns just the summary and the list of "
                             "consumers is small, it runs in O(1) time; otherwise, an additional "
                             "O(N) time for iterating every consumer.",
                  history=(("6.2.0", "Added the `IDLE` option and exclusive range intervals."),))
def xpending(ctx: Client, argv: list[bytes]) -> Any:
    """XPENDING key group [[IDLE min-idle-time] start end count [consumer]]"""
    argc = len(argv)
    if argc != 3 and not 6 <= argc <= 9:
        raise SyntaxErr()
    if argc >= 6:
        at = 3
        min_idle = 0
        if c_word(argv[3]) == b"idle":
            min_idle = to_int(argv[4])
            if argc < 8:
                raise SyntaxErr()
            at = 5
        count = max(to_int(argv[at + 2]), 0)
        start, exclusive = parse_interval_bound(argv[at], 0)
        if exclusive:
            start = next_id(start)  # type: ignore[assignment]
            if start is None:
                raise _BAD_START
        end, exclusive = parse_interval_bound(argv[at + 1], UINT64_MAX)
        if exclusive:
            end = previous_id(end)  # type: ignore[assignment]
            if end is None:
                raise _BAD_END
        consumer_name = argv[at + 3] if at + 3 < argc else None
    key, name = argv[1], argv[2]
    stream = read_stream(ctx, key)
    group = stream.groups.get(name) if stream is not None else None
    if group is None:
        raise no_group(key, name)
    if argc == 3:
        return _summary(group)
    pending_list = group.pending
    if consumer_name is not None:
        consumer = group.consumers.get(consumer_name)
        if consumer is None:
            return []
        pending_list = consumer.pending
    now = now_ms()
    out: list = []
    if not count:
        return out
    for entry_id in pending_list.irange(start, end):
        pending = pending_list[entry_id]
        idle = now - pending.delivery_time
        if min_idle and idle < min_idle:
            continue
        out.append([format_id(entry_id), pending.consumer.name, max(idle, 0),
                    pending.delivery_count])
        if len(out) >= count:
            break
    return out


def _summary(group: ConsumerGroup) -> list:
    pending_list = group.pending
    if not pending_list:
        return [0, None, None, NULL_ARRAY]
    owners = [[name, b"%d" % len(consumer.pending)]
              for name, consumer in group.consumers.items() if consumer.pending]
    return [len(pending_list), format_id(pending_list.peekitem(0)[0]),
            format_id(pending_list.peekitem(-1)[0]), owners]
