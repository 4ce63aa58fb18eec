"""List commands: pushes, pops, indexes, ranges, LPOS, LMOVE, LMPOP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import LLONG_MIN, to_int, try_int
from taipan.commands.table import CommandGroup
from taipan.errors import NoSuchKey, SyntaxErr, WrongType, err, wrong_arity
from taipan.keyspace import events as ev
from taipan.protocol.reply import NULL_ARRAY, OK
from taipan.types.lists import RedisList
from taipan.types.packed import packed_count, packed_items
from taipan.types.packed_types import PackedList

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("list")

_LEFT: Final = b"LEFT"
_RIGHT: Final = b"RIGHT"


def get_list(ctx: Client, key: bytes) -> RedisList | None:
    """The list at ``key`` for a write command (no keyspace hit/miss), or WRONGTYPE."""
    value: RedisList | None = ctx.db.get_typed(key, RedisList)  # exactly a RedisList, or None
    return value


def read_list(ctx: Client, key: bytes) -> RedisList | None:
    """The list at ``key`` for a read command: counts a keyspace hit or miss."""
    items = ctx.db.get_read(key)
    if items is not None and type(items) is not RedisList:
        raise WrongType()
    return items


def read_list_at_rest(ctx: Client, key: bytes) -> RedisList | PackedList | None:
    """``read_list`` that leaves a short list packed: LLEN, LINDEX and LRANGE read its
    blob, which costs less than opening it into a deque."""
    items = ctx.db.get_read(key, at_rest=True)
    if items is not None and type(items) is not RedisList and type(items) is not PackedList:
        raise WrongType()
    return items


def written(ctx: Client, key: bytes, items: RedisList, changes: int, event: bytes) -> None:
    """After ``changes`` element writes to ``key``: fire ``event``, delete the key if
    left empty (lists never exist empty; that fires ``del``), signal it once, and
    count every change in ``dirty`` as Redis does (so zero changes signal WATCHers yet
    propagate nothing)."""
    db = ctx.db
    db.notify(ev.LIST, event, key)
    if items:
        db.signal(key)
    else:
        db.delete(key)
        db.notify(ev.GENERIC, b"del", key)
    db.stats.dirty += changes - 1


def int_arg(arg: bytes, message: str) -> int:
    """A 64-bit integer argument, or ``ERR <message>``."""
    value = try_int(arg)
    if value is None:
        raise err(message)
    return value


def _push(ctx: Client, argv: list[bytes], left: bool, only_existing: bool) -> int:
    db = ctx.db
    key = argv[1]
    elements = argv[2:]
    found = get_list(ctx, key)
    created = found is None
    if found is None:
        if only_existing:
            return 0
        items = RedisList()
    else:
        items = found
    if left:
        items.extendleft(elements)
    else:
        items.extend(elements)
    if created:
        db.set(key, items)  # signals the key and counts one change
        db.stats.dirty += len(elements) - 1
    else:
        db.signal(key)
        db.stats.dirty += len(elements) - 1
    if db.event_mask:  # notifications on (one test when off)
        db.notify(ev.LIST, b"lpush" if left else b"rpush", key)
    return len(items)


@commands.command("LPUSH", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",), summary="Prepend one or multiple elements to a list",
                  since="1.0.0",
                  complexity="O(1) for each element added, so O(N) to add N elements when the "
                             "command is called with multiple arguments.",
                  history=(("2.4.0", "Accepts multiple `element` arguments."),))
def lpush(ctx: Client, argv: list[bytes]) -> int:
    """LPUSH key element [element ...]"""
    return _push(ctx, argv, left=True, only_existing=False)


@commands.command("RPUSH", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",), summary="Append one or multiple elements to a list",
                  since="1.0.0",
                  complexity="O(1) for each element added, so O(N) to add N elements when the "
                             "command is called with multiple arguments.",
                  history=(("2.4.0", "Accepts multiple `element` arguments."),))
def rpush(ctx: Client, argv: list[bytes]) -> int:
    """RPUSH key element [element ...]"""
    return _push(ctx, argv, left=False, only_existing=False)


@commands.command("LPUSHX", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",),
                  summary="Prepend an element to a list, only if the list exists", since="2.2.0",
                  complexity="O(1) for each element added, so O(N) to add N elements when the "
                             "command is called with multiple arguments.",
                  history=(("4.0.0", "Accepts multiple `element` arguments."),))
def lpushx(ctx: Client, argv: list[bytes]) -> int:
    """LPUSHX key element [element ...]"""
    return _push(ctx, argv, left=True, only_existing=True)


@commands.command("RPUSHX", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",),
                  summary="Append an element to a list, only if the list exists", since="2.2.0",
                  complexity="O(1) for each element added, so O(N) to add N elements when the "
                             "command is called with multiple arguments.",
                  history=(("4.0.0", "Accepts multiple `element` arguments."),))
def rpushx(ctx: Client, argv: list[bytes]) -> int:
    """RPUSHX key element [element ...]"""
    return _push(ctx, argv, left=False, only_existing=True)


def pop_items(ctx: Client, key: bytes, items: RedisList, left: bool, count: int) -> list[bytes]:
    """Pop up to ``count`` items from one end of the list at ``key`` (non-empty);
    deletes the key when the list empties. Shared with the blocking pops."""
    popped = items.pop_many(count, left)
    written(ctx, key, items, len(popped), b"lpop" if left else b"rpop")
    return popped


def _pop(ctx: Client, argv: list[bytes], left: bool) -> Any:
    if len(argv) > 3:
        raise wrong_arity("lpop" if left else "rpop")
    count = None
    if len(argv) == 3:
        count = int_arg(argv[2], "value is out of range, must be positive")
        if count < 0:
            raise err("value is out of range, must be positive")
    key = argv[1]
    items = get_list(ctx, key)
    if items is None:
        return None if count is None else NULL_ARRAY
    if count is None:  # LPOP/RPOP key, the usual form: one item, no list built
        value = items.popleft() if left else items.pop()
        written(ctx, key, items, 1, b"lpop" if left else b"rpop")
        return value
    if count == 0:
        return []
    return pop_items(ctx, key, items, left, count)


@commands.command("LPOP", arity=-2, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and get the first elements in a list", since="1.0.0",
                  complexity="O(N) where N is the number of elements returned",
                  history=(("6.2.0", "Added the `count` argument."),))
def lpop(ctx: Client, argv: list[bytes]) -> Any:
    """LPOP key [count]"""
    return _pop(ctx, argv, left=True)


@commands.command("RPOP", arity=-2, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW access delete",),
                  summary="Remove and get the last elements in a list", since="1.0.0",
                  complexity="O(N) where N is the number of elements returned",
                  history=(("6.2.0", "Added the `count` argument."),))
def rpop(ctx: Client, argv: list[bytes]) -> Any:
    """RPOP key [count]"""
    return _pop(ctx, argv, left=False)


@commands.command("LLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Get the length of a list", since="1.0.0", complexity="O(1)")
def llen(ctx: Client, argv: list[bytes]) -> int:
    """LLEN key"""
    items = read_list_at_rest(ctx, argv[1])
    if items is None:
        return 0
    if isinstance(items, PackedList):
        return packed_count(items)
    return len(items)


@commands.command("LINDEX", arity=3, flags="readonly", keys=(1, 1, 1),
                  summary="Get an element from a list by its index", since="1.0.0",
                  complexity="O(N) where N is the number of elements to traverse to get to the "
                             "element at index. This makes asking for the first or the last "
                             "element of the list O(1).")
def lindex(ctx: Client, argv: list[bytes]) -> bytes | None:
    """LINDEX key index"""
    stored = read_list_at_rest(ctx, argv[1])  # Redis looks the key up before parsing the index
    if stored is None:
        return None
    index = to_int(argv[2])
    items = packed_items(stored) if isinstance(stored, PackedList) else stored
    if index < 0:
        index += len(items)
    if not 0 <= index < len(items):
        return None
    item: bytes = items[index]
    return item


@commands.command("LSET", arity=4, flags="write denyoom", keys=(1, 1, 1), key_specs=("RW update",),
                  summary="Set the value of an element in a list by its index", since="1.0.0",
                  complexity="O(N) where N is the length of the list. Setting either the first or "
                             "the last element of the list is O(1).")
def lset(ctx: Client, argv: list[bytes]) -> Any:
    """LSET key index element"""
    items = get_list(ctx, argv[1])  # Redis looks the key up before parsing the index
    if items is None:
        raise NoSuchKey()
    index = to_int(argv[2])
    if index < 0:
        index += len(items)
    if not 0 <= index < len(items):
        raise err("index out of range")
    items[index] = argv[3]
    ctx.db.signal(argv[1])
    ctx.db.notify(ev.LIST, b"lset", argv[1])
    return OK


@commands.command("LINSERT", arity=5, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=("RW insert",),
                  summary="Insert an element before or after another element in a list",
                  since="2.2.0",
                  complexity="O(N) where N is the number of elements to traverse before seeing "
                             "the value pivot. This means that inserting somewhere on the left "
                             "end on the list (head) can be considered O(1) and inserting "
                             "somewhere on the right end (tail) is O(N).")
def linsert(ctx: Client, argv: list[bytes]) -> int:
    """LINSERT key BEFORE | AFTER pivot element"""
    where = argv[2].upper()
    if where not in (b"BEFORE", b"AFTER"):
        raise SyntaxErr()
    items = get_list(ctx, argv[1])
    if items is None:
        return 0
    try:
        index = items.index(argv[3])
    except ValueError:
        return -1
    items.insert(index if where == b"BEFORE" else index + 1, argv[4])
    ctx.db.signal(argv[1])
    ctx.db.notify(ev.LIST, b"linsert", argv[1])
    return len(items)


def clamp_range(start: int, stop: int, length: int) -> tuple[int, int] | None:
    """Redis's inclusive start/stop with negative indexes → half-open slice, or None."""
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    start = max(start, 0)
    if start > stop or start >= length:
        return None
    return start, min(stop, length - 1) + 1


@commands.command("LRANGE", arity=4, flags="readonly", keys=(1, 1, 1),
                  summary="Get a range of elements from a list", since="1.0.0",
                  complexity="O(S+N) where S is the distance of start offset from HEAD for small "
                             "lists, from nearest end (HEAD or TAIL) for large lists; and N is "
                             "the number of elements in the specified range.")
def lrange(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """LRANGE key start stop"""
    start, stop = to_int(argv[2]), to_int(argv[3])
    items = read_list_at_rest(ctx, argv[1])
    if items is None:
        return []
    if isinstance(items, PackedList):
        packed = packed_items(items)
        bounds = clamp_range(start, stop, len(packed))
        return [] if bounds is None else packed[bounds[0]:bounds[1]]
    bounds = clamp_range(start, stop, len(items))
    if bounds is None:
        return []
    return items.slice(*bounds)


@commands.command("LTRIM", arity=4, flags="write", keys=(1, 1, 1), key_specs=("RW delete",),
                  summary="Trim a list to the specified range", since="1.0.0",
                  complexity="O(N) where N is the number of elements to be removed by the "
                             "operation.")
def ltrim(ctx: Client, argv: list[bytes]) -> Any:
    """LTRIM key start stop"""
    start, stop = to_int(argv[2]), to_int(argv[3])
    key = argv[1]
    items = get_list(ctx, key)
    if items is None:
        return OK
    bounds = clamp_range(start, stop, len(items))
    if bounds is None:
        db = ctx.db
        db.notify(ev.LIST, b"ltrim", key)
        db.delete(key)
        db.notify(ev.GENERIC, b"del", key)
        db.stats.dirty += len(items) - 1
        return OK
    # Trimming nothing still signals WATCHers and fires ``ltrim`` (as Redis) but
    # propagates nothing.
    written(ctx, key, items, items.trim(*bounds), b"ltrim")
    return OK


@commands.command("LREM", arity=4, flags="write", keys=(1, 1, 1), key_specs=("RW delete",),
                  summary="Remove elements from a list", since="1.0.0",
                  complexity="O(N+M) where N is the length of the list and M is the number of "
                             "elements removed.")
def lrem(ctx: Client, argv: list[bytes]) -> int:
    """LREM key count element"""
    count = to_int(argv[2])
    key, element = argv[1], argv[3]
    items = get_list(ctx, key)
    if items is None:
        return 0
    removed = items.remove_matches(element, abs(count) or None, from_tail=count < 0)
    if removed:
        written(ctx, key, items, removed, b"lrem")
    return removed


@commands.command("LPOS", arity=-3, flags="readonly", keys=(1, 1, 1),
                  summary="Return the index of matching elements on a list", since="6.0.6",
                  complexity="O(N) where N is the number of elements in the list, for the average "
                             "case. When searching for elements near the head or the tail of the "
                             "list, or when the MAXLEN option is provided, the command may run in "
                             "constant time.")
def lpos(ctx: Client, argv: list[bytes]) -> Any:
    """LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]"""
    rank, count, maxlen = 1, None, 0
    for i in range(3, len(argv), 2):
        option = argv[i].upper()
        if i + 1 == len(argv):
            raise SyntaxErr()
        if option == b"RANK":
            rank = to_int(argv[i + 1])
            if rank == 0:
                raise err("RANK can't be zero: use 1 to start from the first match, 2 from "
                          "the second ... or use negative to start from the end of the list")
        elif option == b"COUNT":
            count = int_arg(argv[i + 1], "COUNT can't be negative")
            if count < 0:
                raise err("COUNT can't be negative")
        elif option == b"MAXLEN":
            maxlen = int_arg(argv[i + 1], "MAXLEN can't be negative")
            if maxlen < 0:
                raise err("MAXLEN can't be negative")
        else:
            raise SyntaxErr()
    items = read_list(ctx, argv[1])
    if items is None:
        return None if count is None else []
    if rank == LLONG_MIN:
        # Redis 7.0 negates the rank in 64-bit arithmetic, where LLONG_MIN stays
        # negative: the search runs from the tail, every match qualifies, and with
        # COUNT its end test overflows, so it reports all matches.
        skip, wanted = 0, (1 if count is None else None)
    else:
        skip, wanted = abs(rank) - 1, (1 if count is None else count or None)
    found = items.find(argv[2], skip, rank < 0, wanted, maxlen or None)
    if count is None:
        return found[0] if found else None
    return found


def parse_side(arg: bytes) -> bool:
    """LEFT → True, RIGHT → False."""
    side = arg.upper()
    if side == _LEFT:
        return True
    if side == _RIGHT:
        return False
    raise SyntaxErr()


def move_item(ctx: Client, source: bytes, target: bytes, from_left: bool, to_left: bool) -> bytes | None:
    """Pop from ``source`` and push onto ``target`` (LMOVE); None if no source.

    Both types are checked before anything is popped. The push comes before the
    source is deleted when emptied, so ``source == target`` keeps a 1-item list.
    Shared with BLMOVE.
    """
    items = get_list(ctx, source)
    if items is None:
        return None
    destination = get_list(ctx, target)
    db = ctx.db
    dirty = db.stats.dirty
    item: bytes = items.popleft() if from_left else items.pop()
    if destination is None:
        destination = RedisList()
        db.set(target, destination)
    else:
        db.signal(target)
    if to_left:
        destination.appendleft(item)
    else:
        destination.append(item)
    # As Redis: the push onto the target is announced before the pop from the source.
    db.notify(ev.LIST, b"lpush" if to_left else b"rpush", target)
    db.notify(ev.LIST, b"lpop" if from_left else b"rpop", source)
    if items:
        db.signal(source)
    else:
        db.delete(source)
        db.notify(ev.GENERIC, b"del", source)
    db.stats.dirty = dirty + 1  # one change, as Redis counts a move
    return item


@commands.command("LMOVE", arity=5, flags="write denyoom", keys=(1, 2, 1),
                  key_specs=("RW access delete", "RW insert"),
                  summary="Pop an element from a list, push it to another list and return it",
                  since="6.2.0", complexity="O(1)")
def lmove(ctx: Client, argv: list[bytes]) -> bytes | None:
    """LMOVE source destination LEFT | RIGHT LEFT | RIGHT"""
    from_left, to_left = parse_side(argv[3]), parse_side(argv[4])
    return move_item(ctx, argv[1], argv[2], from_left, to_left)


@commands.command("RPOPLPUSH", arity=3, flags="write denyoom", keys=(1, 2, 1),
                  key_specs=("RW access delete", "RW insert"),
                  summary="Remove the last element in a list, prepend it to another list and "
                          "return it", since="1.2.0", complexity="O(1)", doc_flags="deprecated",
                  deprecated_since="6.2.0",
                  replaced_by="`LMOVE` with the `RIGHT` and `LEFT` arguments")
def rpoplpush(ctx: Client, argv: list[bytes]) -> bytes | None:
    """RPOPLPUSH source destination"""
    return move_item(ctx, argv[1], argv[2], False, True)


def parse_mpop(argv: list[bytes], first: int) -> tuple[list[bytes], bool, int]:
    """numkeys key [key ...] LEFT | RIGHT [COUNT count] from ``argv[first:]``."""
    numkeys = int_arg(argv[first], "numkeys should be greater than 0")
    if numkeys <= 0:
        raise err("numkeys should be greater than 0")
    keys_end = first + 1 + numkeys
    if keys_end >= len(argv):
        raise SyntaxErr()
    keys = argv[first + 1:keys_end]
    left = parse_side(argv[keys_end])
    count: int | None = None
    # Options are read in order, so a bad COUNT value is reported before any
    # trailing junk; a second COUNT is a syntax error.
    for i in range(keys_end + 1, len(argv), 2):
        if count is not None or i + 1 == len(argv) or argv[i].upper() != b"COUNT":
            raise SyntaxErr()
        count = int_arg(argv[i + 1], "count should be greater than 0")
        if count <= 0:
            raise err("count should be greater than 0")
    return keys, left, count or 1


def mpop_first(ctx: Client, keys: list[bytes], left: bool, count: int) -> Any:
    """Pop from the first of ``keys`` holding a list: ``[key, items]``, or None.

    A wrong-typed key before it is an error. Propagated as ``LPOP|RPOP key n``
    (n popped), as Redis does for LMPOP and BLMPOP.
    """
    for key in keys:
        items = get_list(ctx, key)
        if items is not None:
            popped = pop_items(ctx, key, items, left, count)
            ctx.propagate_argv = [b"LPOP" if left else b"RPOP", key, b"%d" % len(popped)]
            return [key, popped]
    return None


@commands.command("LMPOP", arity=-4, flags="write",
                  key_specs=({"flags": "RW access delete", "index": 1, "keynumidx": 0},),
                  summary="Pop elements from a list", since="7.0.0",
                  complexity="O(N+M) where N is the number of provided keys and M is the number "
                             "of elements returned.")
def lmpop(ctx: Client, argv: list[bytes]) -> Any:
    """LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count]"""
    keys, left, count = parse_mpop(argv, 1)
    result = mpop_first(ctx, keys, left, count)
    return NULL_ARRAY if result is None else result
