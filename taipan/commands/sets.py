"""Set commands on one key: SADD, SREM, SISMEMBER, SMEMBERS, SPOP, SRANDMEMBER, SSCAN ...

SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD live in ``set_algebra``.
Every write goes through ``RedisSet.add``/``remove``/``pop_*`` so the intset ->
hashtable rule and the random-member sampler stay right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import LLONG_MAX, to_int
from taipan.commands.scanning import parse_cursor, parse_scan_options
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, WrongType
from taipan.glob import glob_match
from taipan.keyspace import events as ev
from taipan.protocol.reply import SetReply
from taipan.types.packed import set_has, set_size
from taipan.types.packed_types import PackedIntSet, PackedSet
from taipan.types.sets import RedisSet

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("set")

_NOT_POSITIVE: Final = ReplyError("ERR value is out of range, must be positive")
_COUNT_RANGE: Final = ReplyError("ERR value is out of range, value must between "
                          "-9223372036854775807 and 9223372036854775807")


EMPTY_SET: Final[frozenset[bytes]] = frozenset()


# -- shared helpers ---------------------------------------------------------------------

def read_set(ctx: Client, key: bytes) -> RedisSet | None:
    """The set at ``key`` for a read command (counts a keyspace hit or miss)."""
    value = ctx.db.get_read(key)
    if value is not None and type(value) is not RedisSet:
        raise WrongType()
    return value


def read_set_at_rest(ctx: Client, key: bytes) -> RedisSet | PackedSet | PackedIntSet | None:
    """``read_set`` that leaves a small set packed: SCARD, SISMEMBER and SMISMEMBER
    read its blob, which costs less than opening it."""
    value = ctx.db.get_read(key, at_rest=True)
    if value is not None and type(value) is not RedisSet and type(value) is not PackedSet \
            and type(value) is not PackedIntSet:
        raise WrongType()
    return value


def write_set(ctx: Client, key: bytes) -> RedisSet | None:
    """The set at ``key`` for a write command."""
    value: RedisSet | None = ctx.db.get_typed(key, RedisSet)  # exactly a RedisSet, or None
    return value


def intset_entries(ctx: Client) -> int:
    """``set-max-intset-entries`` as configured now."""
    entries: int = ctx.server.config.set_max_intset_entries
    return entries


def set_reply(members: RedisSet) -> SetReply | set[bytes]:
    """The whole set as a set reply, in Redis's iteration order for an intset."""
    if members.is_intset:
        return SetReply(members.listed())
    return set(members.members)  # type: ignore[arg-type]  # a copy: MULTI replies later


def changed(ctx: Client, key: bytes, members: RedisSet, changes: int, event: bytes) -> None:
    """Record ``changes`` writes to ``key`` (Redis counts each one as dirty) and fire
    ``event``; a set left empty is deleted (firing ``del``), as in Redis."""
    if not changes:
        return
    db = ctx.db
    if len(members):
        db.signal(key)
        db.notify(ev.SET, event, key)
    else:
        db.delete(key)
        db.notify(ev.SET, event, key)
        db.notify(ev.GENERIC, b"del", key)
    db.stats.dirty += changes - 1


# -- adding and removing ------------------------------------------------------------------

@commands.command("SADD", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",), summary="Add one or more members to a set",
                  since="1.0.0",
                  complexity="O(1) for each element added, so O(N) to add N elements when the "
                             "command is called with multiple arguments.",
                  history=(("2.4.0", "Accepts multiple `member` arguments."),))
def sadd(ctx: Client, argv: list[bytes]) -> int:
    """SADD key member [member ...]"""
    key = argv[1]
    members = write_set(ctx, key)
    if members is None:
        members = RedisSet()
        added = members.add(argv[2:], intset_entries(ctx))
        ctx.db.set(key, members)
        ctx.db.stats.dirty += added - 1
        ctx.db.notify(ev.SET, b"sadd", key)
        return added
    added = members.add(argv[2:], intset_entries(ctx))
    changed(ctx, key, members, added, b"sadd")
    return added


@commands.command("SREM", arity=-3, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW delete",), summary="Remove one or more members from a set",
                  since="1.0.0",
                  complexity="O(N) where N is the number of members to be removed.",
                  history=(("2.4.0", "Accepts multiple `member` arguments."),))
def srem(ctx: Client, argv: list[bytes]) -> int:
    """SREM key member [member ...]"""
    key = argv[1]
    members = write_set(ctx, key)
    if members is None:
        return 0
    removed = members.remove(argv[2:])
    changed(ctx, key, members, removed, b"srem")
    return removed


@commands.command("SMOVE", arity=4, flags="write fast", keys=(1, 2, 1),
                  key_specs=("RW access delete", "RW insert"),
                  summary="Move a member from one set to another", since="1.0.0",
                  complexity="O(1)")
def smove(ctx: Client, argv: list[bytes]) -> int:
    """SMOVE source destination member"""
    db = ctx.db
    source_key, target_key, member = argv[1], argv[2], argv[3]
    # As Redis: both keys are looked up first, a missing source wins over a
    # destination of the wrong type, and moving within one set changes nothing.
    source, target = db.get(source_key), db.get(target_key)
    if source is None:
        return 0
    if type(source) is not RedisSet or (target is not None and type(target) is not RedisSet):
        raise WrongType()
    if source is target:
        return int(member in source)
    if not source.remove((member,)):
        return 0
    changed(ctx, source_key, source, 1, b"srem")
    if target is None:
        target = RedisSet()
        target.add((member,), intset_entries(ctx))
        db.set(target_key, target)
        db.notify(ev.SET, b"sadd", target_key)
    elif target.add((member,), intset_entries(ctx)):
        changed(ctx, target_key, target, 1, b"sadd")
    return 1


# -- reads ---------------------------------------------------------------------------------

@commands.command("SCARD", arity=2, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Get the number of members in a set", since="1.0.0",
                  complexity="O(1)")
def scard(ctx: Client, argv: list[bytes]) -> int:
    """SCARD key"""
    members = read_set_at_rest(ctx, argv[1])
    if members is None:
        return 0
    if isinstance(members, RedisSet):
        return len(members)
    return set_size(members)


@commands.command("SISMEMBER", arity=3, flags="readonly fast", keys=(1, 1, 1),
                  key_specs=("RO",), summary="Determine if a given value is a member of a set",
                  since="1.0.0", complexity="O(1)")
def sismember(ctx: Client, argv: list[bytes]) -> int:
    """SISMEMBER key member"""
    members = read_set_at_rest(ctx, argv[1])
    if members is None:
        return 0
    if isinstance(members, RedisSet):
        return int(argv[2] in members)
    return int(set_has(members, argv[2]))


@commands.command("SMISMEMBER", arity=-3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Returns the membership associated with the given elements for a set",
                  since="6.2.0",
                  complexity="O(N) where N is the number of elements being checked for "
                             "membership")
def smismember(ctx: Client, argv: list[bytes]) -> list[int]:
    """SMISMEMBER key member [member ...]"""
    members = read_set_at_rest(ctx, argv[1])
    if members is None:
        return [0] * (len(argv) - 2)
    if isinstance(members, RedisSet):
        return [int(member in members) for member in argv[2:]]
    blob = members
    return [int(set_has(blob, member)) for member in argv[2:]]


@commands.command("SMEMBERS", arity=2, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output_order", summary="Get all the members in a set",
                  since="1.0.0", complexity="O(N) where N is the set cardinality.")
def smembers(ctx: Client, argv: list[bytes]) -> Any:
    """SMEMBERS key"""
    members = read_set(ctx, argv[1])
    return EMPTY_SET if members is None else set_reply(members)


@commands.command("SSCAN", arity=-3, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output", summary="Incrementally iterate Set elements",
                  since="2.8.0",
                  complexity="O(1) for every call. O(N) for a complete iteration, including "
                             "enough command calls for the cursor to return back to 0. N is the "
                             "number of elements inside the collection..")
def sscan(ctx: Client, argv: list[bytes]) -> list[Any]:
    """SSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_cursor(argv[2])
    members = read_set(ctx, argv[1])
    if members is None:
        return [b"0", []]
    pattern, count, _ = parse_scan_options(argv, 3, allow_type=False)
    if members.is_intset:  # Redis returns a whole intset at once, whatever the cursor
        next_cursor, found = 0, members.listed()
    else:
        live = members.members
        assert live is not None
        next_cursor, candidates = ctx.server.scan_snapshots.page(live, len(live), cursor, count)
        found = [member for member in candidates if member in live]  # skip removed ones
    if pattern is not None:
        found = [member for member in found if glob_match(pattern, member)]
    return [b"%d" % next_cursor, found]


# -- random members --------------------------------------------------------------------------

@commands.command("SRANDMEMBER", arity=-2, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output",
                  summary="Get one or multiple random members from a set", since="1.0.0",
                  complexity="Without the count argument O(1), otherwise O(N) where N is the "
                             "absolute value of the passed count.",
                  history=(("2.6.0", "Added the optional `count` argument."),))
def srandmember(ctx: Client, argv: list[bytes]) -> Any:
    """SRANDMEMBER key [count]"""
    if len(argv) > 3:
        raise SyntaxErr()
    if len(argv) == 2:
        members = read_set(ctx, argv[1])
        return None if members is None else members.random_member()
    count = to_int(argv[2])
    if count < -LLONG_MAX:
        raise _COUNT_RANGE
    members = read_set(ctx, argv[1])
    if members is None or count == 0:
        return []
    if count < 0:  # repetitions allowed
        return members.random_members(-count)
    if count >= len(members):  # the whole set, in its iteration order (an array)
        return members.listed()
    return members.distinct_random_members(count)


@commands.command("SPOP", arity=-2, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW access delete",), tips="nondeterministic_output",
                  summary="Remove and return one or multiple random members from a set",
                  since="1.0.0",
                  complexity="Without the count argument O(1), otherwise O(N) where N is the "
                             "value of the passed count.",
                  history=(("3.2.0", "Added the `count` argument."),))
def spop(ctx: Client, argv: list[bytes]) -> Any:
    """SPOP key [count]"""
    if len(argv) > 3:
        raise SyntaxErr()
    key = argv[1]
    if len(argv) == 2:
        members = write_set(ctx, key)
        if members is None:
            return None
        popped = members.pop_random()
        changed(ctx, key, members, 1, b"spop")
        ctx.propagate_argv = [b"SREM", key, popped]  # replicas must pop the same one
        return popped
    count = to_int(argv[2], _NOT_POSITIVE)
    if count < 0:
        raise _NOT_POSITIVE
    members = write_set(ctx, key)
    if members is None or count == 0:
        return EMPTY_SET
    size = len(members)
    if count >= size:
        # Redis replies with SUNION of the key (which counts as a keyspace read):
        # its result is a new set, so a hashtable holding only integers turns back
        # into an intset and comes back in ascending order.
        ctx.db.get_read(key)
        whole = members.members
        reply = set_reply(members if whole is None else RedisSet.build(whole, intset_entries(ctx)))
        ctx.db.notify(ev.SET, b"spop", key)
        ctx.db.delete(key)
        ctx.db.notify(ev.GENERIC, b"del", key)
        ctx.db.stats.dirty += size - 1
        ctx.propagate_argv = [b"DEL", key]
        return reply
    several = members.pop_random_many(count)
    changed(ctx, key, members, count, b"spop")
    ctx.propagate_argv = [b"SREM", key, *several]
    return set(several)
