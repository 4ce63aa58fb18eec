"""Stream commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID.

Writes are propagated as Redis propagates them: XADD with the ID it generated, and
approximate trimming (``~``) as the exact trim it came to (``= <length>`` or
``= <first ID>``), so an AOF or a replica replays the same stream.
"""

from __future__ import annotations

from time import time as _time
from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.stream_args import (
    format_id,
    next_id,
    parse_id,
    parse_id_strict,
    parse_interval_bound,
    previous_id,
)
from taipan.commands.table import CommandGroup
from taipan.errors import NoSuchKey, SyntaxErr, WrongType, err, wrong_arity
from taipan.keyspace import events as ev
from taipan.protocol.reply import NULL_ARRAY, OK, Raw
from taipan.types.stream import MAX_ID, MIN_ID, UINT64_MAX, Entry, Stream, StreamID

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("stream")

_ZERO_ID = err("The ID specified in XADD must be greater than 0-0")
_NOT_GREATER = err("The ID specified in XADD is equal or smaller than the target stream "
                   "top item")
_EXHAUSTED = err("The stream has exhausted the last possible ID, unable to add more items")
# Redis reports a ms-* whose sequence would overflow with whatever errno held, which is
# never the EDOM of the "equal or smaller" error.
_TOO_LARGE = err("Elements are too large to be stored")
_BOTH_STRATEGIES = err("syntax error, MAXLEN and MINID options at the same time are not "
                       "compatible")
_NEGATIVE_MAXLEN = err("The MAXLEN argument must be >= 0.")
_NEGATIVE_LIMIT = err("The LIMIT argument must be >= 0.")
_LIMIT_NO_STRATEGY = err("syntax error, LIMIT cannot be used without specifying a trimming "
                         "strategy")
_XTRIM_NO_STRATEGY = err("syntax error, XTRIM must be called with a trimming strategy")
_LIMIT_NO_APPROX = err("syntax error, LIMIT cannot be used without the special ~ option")
_BAD_START = err("invalid start ID for the interval")
_BAD_END = err("invalid end ID for the interval")

_MAXLEN, _MINID = 1, 2


def c_word(arg: bytes) -> bytes:
    """An option word as Redis's strcasecmp sees it: up to a NUL, lower case."""
    nul = arg.find(b"\0")
    return (arg if nul < 0 else arg[:nul]).lower()


def _is_token(arg: bytes, char: int) -> bool:
    """``arg`` is the one-character C string ``char`` (``~``, ``=``, ``*``)."""
    return len(arg) >= 1 and arg[0] == char and (len(arg) == 1 or arg[1] == 0)


class _TrimArgs:
    """What XADD/XTRIM's options said (Redis's streamAddTrimArgs)."""

    __slots__ = ("strategy", "maxlen", "minid", "approx", "limit", "arg_index", "no_mkstream",
                 "entry_id", "id_given", "seq_given")

    def __init__(self) -> None:
        self.strategy = 0  # 0, _MAXLEN or _MINID
        self.maxlen = 0
        self.minid: StreamID = MIN_ID
        self.approx = False
        self.limit = 0  # most entries one trim removes (0: no cap)
        self.arg_index = 0  # where the threshold is in argv (rewritten when approx)
        self.no_mkstream = False
        self.entry_id: StreamID = MIN_ID
        self.id_given = False
        self.seq_given = True

    def trim(self, stream: Stream) -> int:
        if self.strategy == _MAXLEN:
            return stream.trim(maxlen=self.maxlen, approx=self.approx, limit=self.limit)
        return stream.trim(minid=self.minid, approx=self.approx, limit=self.limit)

    def exact_threshold(self, stream: Stream) -> bytes:
        """What an approximate trim came to, for propagation (Redis's
        streamRewriteTrimArgument): the length left, or the first ID left."""
        if self.strategy == _MAXLEN:
            return b"%d" % stream.length
        return format_id(stream.edge_id(first=True))


def _parse_trim_args(ctx: Client, argv: list[bytes], xadd: bool) -> tuple[_TrimArgs, int]:
    """XADD's and XTRIM's options, with Redis's errors in Redis's order; returns them
    and the position of XADD's ID (past the end when there is none)."""
    args = _TrimArgs()
    argc = len(argv)
    limit_given = False
    i = 2
    while i < argc:
        more = argc - 1 - i
        arg = argv[i]
        if xadd and _is_token(arg, 42):  # '*'
            break
        word = c_word(arg)
        if word == b"maxlen" and more:
            if args.strategy:
                raise _BOTH_STRATEGIES
            args.approx = False
            if more >= 2 and _is_token(argv[i + 1], 126):  # '~'
                args.approx = True
                i += 1
            elif more >= 2 and _is_token(argv[i + 1], 61):  # '='
                i += 1
            args.maxlen = to_int(argv[i + 1])
            if args.maxlen < 0:
                raise _NEGATIVE_MAXLEN
            i += 1
            args.strategy = _MAXLEN
            args.arg_index = i
        elif word == b"minid" and more:
            if args.strategy:
                raise _BOTH_STRATEGIES
            args.approx = False
            if more >= 2 and _is_token(argv[i + 1], 126):
                args.approx = True
                i += 1
            elif more >= 2 and _is_token(argv[i + 1], 61):
                i += 1
            args.minid = parse_id_strict(argv[i + 1])
            i += 1
            args.strategy = _MINID
            args.arg_index = i
        elif word == b"limit" and more:
            args.limit = to_int(argv[i + 1])
            if args.limit < 0:
                raise _NEGATIVE_LIMIT
            limit_given = True
            i += 1
        elif xadd and word == b"nomkstream":
            args.no_mkstream = True
        elif xadd:
            args.entry_id, args.seq_given = parse_id(arg, 0, strict=True, star_seq=True)
            args.id_given = True
            break
        else:
            raise SyntaxErr()
        i += 1
    if args.limit and not args.strategy:
        raise _LIMIT_NO_STRATEGY
    if not xadd and not args.strategy:
        raise _XTRIM_NO_STRATEGY
    if ctx.kind == "aof":
        # Replayed writes trim exactly what the propagated threshold says.
        args.limit = 0
    elif limit_given:
        if not args.approx:
            raise _LIMIT_NO_APPROX
    elif args.approx:
        # Bound an approximate trim's work to about 100 nodes, as Redis does.
        limit = 100 * ctx.server.config.stream_node_max_entries
        args.limit = 10000 if limit <= 0 else min(limit, 1000000)
    else:
        args.limit = 0
    return args, i


def _new_id(stream: Stream, args: _TrimArgs | None) -> StreamID:
    """The ID XADD gives its entry, or Redis's error."""
    last = stream.last_id
    if last == MAX_ID:
        raise _EXHAUSTED
    if args is None or not args.id_given:
        ms = int(_time() * 1000)
        if ms > last[0]:
            return ms, 0
        return next_id(last)  # type: ignore[return-value]  (last < MAX_ID)
    entry_id = args.entry_id
    if not args.seq_given and entry_id[0] == last[0]:
        if last[1] == UINT64_MAX:
            raise _TOO_LARGE
        entry_id = (last[0], last[1] + 1)
    if entry_id <= last:
        raise _NOT_GREATER
    return entry_id


@commands.command("XADD", arity=-5, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=({"flags": "RW update",
                              "notes": "UPDATE instead of INSERT because of the optional "
                                       "trimming feature"},),
                  tips="nondeterministic_output",
                  summary="Appends a new entry to a stream", since="5.0.0",
                  complexity="O(1) when adding a new entry, O(N) when trimming where N being "
                             "the number of entries evicted.",
                  history=(("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming "
                                     "strategy and the `LIMIT` option."),
                           ("7.0.0", "Added support for the `<ms>-*` explicit ID form.")))
def xadd(ctx: Client, argv: list[bytes]) -> bytes | None:
    """XADD key [NOMKSTREAM] [(MAXLEN | MINID) [= | ~] threshold [LIMIT count]]
    (* | id) field value [field value ...]"""
    arg = argv[2]
    if arg == b"*":  # the common case: no options, a generated ID
        args = None
        id_pos = 2
        if len(argv) & 1 == 0:
            raise wrong_arity("xadd")
    else:
        args, id_pos = _parse_trim_args(ctx, argv, True)
        pairs = len(argv) - id_pos - 1
        if pairs < 2 or pairs & 1:
            raise wrong_arity("xadd")
        if args.id_given and args.seq_given and args.entry_id == MIN_ID:
            raise _ZERO_ID
    key = argv[1]
    db = ctx.db
    stream = db.data.get(key)
    if stream is None or db.expires or db.access is not None:
        stream = db.get_typed(key, Stream)
    elif type(stream) is not Stream:
        raise WrongType()
    created = stream is None
    if created:
        if args is not None and args.no_mkstream:
            return None
        stream = Stream()
    if args is None:
        # _new_id for a generated ID, inlined (the hot path)
        last = stream.last_id
        entry_id = (int(_time() * 1000), 0)
        if entry_id[0] <= last[0]:
            if last[1] < UINT64_MAX:
                entry_id = (last[0], last[1] + 1)
            elif last == MAX_ID:
                raise _EXHAUSTED
            else:
                entry_id = (last[0] + 1, 0)
    else:
        entry_id = _new_id(stream, args)
    config = ctx.server.config
    stream.add(entry_id, argv[id_pos + 1:], config.stream_node_max_bytes,
               config.stream_node_max_entries)
    reply = b"%d-%d" % entry_id
    if created:
        db.set(key, stream)
    else:
        db.signal(key)
    if db.event_mask:
        db.notify(ev.STREAM, b"xadd", key)
    if args is None:
        if ctx.server.propagators:
            rewritten = argv[:]
            rewritten[2] = reply
            ctx.propagate_argv = rewritten
        return reply
    rewritten = None
    if args.strategy:
        if args.trim(stream):
            db.notify(ev.STREAM, b"xtrim", key)
        if args.approx:
            rewritten = argv[:]
            rewritten[args.arg_index - 1] = b"="
            rewritten[args.arg_index] = args.exact_threshold(stream)
    if not args.id_given or not args.seq_given:
        rewritten = rewritten or argv[:]
        rewritten[id_pos] = reply
    if rewritten is not None:
        ctx.propagate_argv = rewritten
    return reply


@commands.command("XTRIM", arity=-4, flags="write", keys=(1, 1, 1), key_specs=("RW delete",),
                  tips="nondeterministic_output",
                  summary="Trims the stream to (approximately if '~' is passed) a certain size",
                  since="5.0.0",
                  complexity="O(N), with N being the number of evicted entries. Constant times "
                             "are very small however, since entries are organized in macro "
                             "nodes containing multiple entries that can be released with a "
                             "single deallocation.",
                  history=(("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` "
                                     "option."),))
def xtrim(ctx: Client, argv: list[bytes]) -> int:
    """XTRIM key (MAXLEN | MINID) [= | ~] threshold [LIMIT count]"""
    args, _ = _parse_trim_args(ctx, argv, False)
    key = argv[1]
    db = ctx.db
    stream = db.get_typed(key, Stream)
    if stream is None:
        return 0
    removed = args.trim(stream)
    if removed:
        db.notify(ev.STREAM, b"xtrim", key)
        if args.approx:
            rewritten = argv[:]
            rewritten[args.arg_index - 1] = b"="
            rewritten[args.arg_index] = args.exact_threshold(stream)
            ctx.propagate_argv = rewritten
        db.signal(key)
        db.stats.dirty += removed - 1
    return removed


# -- reading ----------------------------------------------------------------------------

def read_stream(ctx: Client, key: bytes) -> Stream | None:
    """The stream at ``key`` for a read command (counts a keyspace hit or miss)."""
    value = ctx.db.get_read(key)
    if value is not None and type(value) is not Stream:
        raise WrongType()
    return value


def entries_reply(entries: list[Entry]) -> list:
    """Entries as Redis replies them: [ID, [field, value, ...]] each."""
    return [[b"%d-%d" % entry_id, fields] for entry_id, fields in entries]


@commands.command("XLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Return the number of entries in a stream", since="5.0.0",
                  complexity="O(1)")
def xlen(ctx: Client, argv: list[bytes]) -> int:
    """XLEN key"""
    stream = read_stream(ctx, argv[1])
    return 0 if stream is None else stream.length


def _range(ctx: Client, argv: list[bytes], reverse: bool) -> Any:
    start_arg, end_arg = (argv[3], argv[2]) if reverse else (argv[2], argv[3])
    start, exclusive = parse_interval_bound(start_arg, 0)
    if exclusive:
        after = next_id(start)
        if after is None:
            raise _BAD_START
        start = after
    end, exclusive = parse_interval_bound(end_arg, UINT64_MAX)
    if exclusive:
        before = previous_id(end)
        if before is None:
            raise _BAD_END
        end = before
    count = -1
    argc = len(argv)
    j = 4
    while j < argc:
        if c_word(argv[j]) == b"count" and j + 1 < argc:
            count = max(to_int(argv[j + 1]), 0)
            j += 2
        else:
            raise SyntaxErr()
    stream = read_stream(ctx, argv[1])
    if stream is None:
        return []
    if count == 0:
        return NULL_ARRAY
    # Encoded straight from the stream's buffers: an object per field would cost
    # more than everything else XRANGE does.
    return Raw(stream.encoded_range(start, end, max(count, 0), reverse))


@commands.command("XRANGE", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of elements in a stream, with IDs matching the "
                          "specified IDs interval",
                  since="5.0.0",
                  complexity="O(N) with N being the number of elements being returned. If N is "
                             "constant (e.g. always asking for the first 10 elements with "
                             "COUNT), you can consider it O(1).",
                  history=(("6.2.0", "Added exclusive ranges."),))
def xrange(ctx: Client, argv: list[bytes]) -> Any:
    """XRANGE key start end [COUNT count]"""
    return _range(ctx, argv, False)


@commands.command("XREVRANGE", arity=-4, flags="readonly", keys=(1, 1, 1),
                  summary="Return a range of elements in a stream, with IDs matching the "
                          "specified IDs interval, in reverse order (from greater to smaller "
                          "IDs) compared to XRANGE",
                  since="5.0.0",
                  complexity="O(N) with N being the number of elements returned. If N is "
                             "constant (e.g. always asking for the first 10 elements with "
                             "COUNT), you can consider it O(1).",
                  history=(("6.2.0", "Added exclusive ranges."),))
def xrevrange(ctx: Client, argv: list[bytes]) -> Any:
    """XREVRANGE key end start [COUNT count]"""
    return _range(ctx, argv, True)


# -- deleting and setting IDs --------------------------------------------------------------

@commands.command("XDEL", arity=-3, flags="write fast", keys=(1, 1, 1), key_specs=("RW delete",),
                  summary="Removes the specified entries from the stream. Returns the number "
                          "of items actually deleted, that may be different from the number "
                          "of IDs passed in case certain IDs do not exist.",
                  since="5.0.0",
                  complexity="O(1) for each single item to delete in the stream, regardless "
                             "of the stream size.")
def xdel(ctx: Client, argv: list[bytes]) -> int:
    """XDEL key id [id ...]"""
    key = argv[1]
    db = ctx.db
    stream = db.get_typed(key, Stream)
    if stream is None:
        return 0
    # Every ID is checked before any is deleted: a bad one deletes nothing.
    ids = [parse_id_strict(arg) for arg in argv[2:]]
    deleted = 0
    for entry_id in ids:
        if stream.delete(entry_id):
            deleted += 1
    if deleted:
        db.signal(key)
        db.notify(ev.STREAM, b"xdel", key)
        db.stats.dirty += deleted - 1
    return deleted


@commands.command("XSETID", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW update",),
                  summary="An internal command for replicating stream values", since="5.0.0",
                  complexity="O(1)",
                  history=(("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` "
                                     "arguments."),))
def xsetid(ctx: Client, argv: list[bytes]) -> Any:
    """XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"""
    last_id = parse_id_strict(argv[2])
    entries_added = -1
    max_deleted = MIN_ID
    argc = len(argv)
    i = 3
    while i < argc:
        word = c_word(argv[i])
        if word == b"entriesadded" and i + 1 < argc:
            entries_added = to_int(argv[i + 1])
            if entries_added < 0:
                raise err("entries_added must be positive")
        elif word == b"maxdeletedid" and i + 1 < argc:
            max_deleted = parse_id_strict(argv[i + 1])
            if last_id < max_deleted:
                raise err("The ID specified in XSETID is smaller than the provided "
                          "max_deleted_entry_id")
        else:
            raise SyntaxErr()
        i += 2
    key = argv[1]
    db = ctx.db
    stream = db.get_typed(key, Stream)
    if stream is None:
        raise NoSuchKey()
    if stream.length:
        top = stream.last_entry()
        if top is not None and last_id < top[0]:
            raise err("The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and stream.length > entries_added:
            raise err("The entries_added specified in XSETID is smaller than the target "
                      "stream length")
    stream.last_id = last_id
    if entries_added != -1:
        stream.entries_added = entries_added
    if max_deleted != MIN_ID:
        stream.max_deleted_id = max_deleted
    # As Redis 7.0: counted as a change (propagated), but not signalled: WATCH,
    # client caches and blocked readers don't see it.
    db.stats.dirty += 1
    db.notify(ev.STREAM, b"xsetid", key)
    return OK
