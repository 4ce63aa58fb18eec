"""Hash commands: HSET, HGET, HDEL, HGETALL, HINCRBY and friends.

HRANDFIELD and HSCAN live in ``hash_sampling``. Every write goes through
``RedisHash.store``/``store_pairs``/``discard`` (so HRANDFIELD's sampler stays right)
and then applies Redis's listpack -> hashtable rule (``fit``/``check_size``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import LLONG_MAX, LLONG_MIN, to_int, try_int
from taipan.commands.counters import _parse_long_double, _round_to_long_double, format_long_double
from taipan.commands.table import CommandGroup
from taipan.errors import NotFloat, ReplyError, WrongType, wrong_arity
from taipan.keyspace import events as ev
from taipan.protocol.reply import OK
from taipan.types.hashes import RedisHash
from taipan.types.packed import hash_field, hash_with_pairs, packed_count, packed_items
from taipan.types.packed_types import PackedHash

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("hash")

_NOT_INTEGER: Final = ReplyError("ERR hash value is not an integer")
_NOT_FLOAT: Final = ReplyError("ERR hash value is not a float")
_OVERFLOW: Final = ReplyError("ERR increment or decrement would overflow")
_NAN_OR_INF_ARG: Final = ReplyError("ERR value is NaN or Infinity")
_NAN_OR_INF_RESULT: Final = ReplyError("ERR increment would produce NaN or Infinity")


# -- lookups ----------------------------------------------------------------------------

def read_hash(ctx: Client, key: bytes) -> RedisHash | None:
    """The hash at ``key`` for a read command (counts a keyspace hit or miss)."""
    value = ctx.db.get_read(key)
    if value is not None and type(value) is not RedisHash:
        raise WrongType()
    return value


def read_hash_at_rest(ctx: Client, key: bytes) -> RedisHash | PackedHash | None:
    """``read_hash`` that leaves a small hash packed: the field readers below read
    the blob itself, which costs less than opening it into a dict."""
    value = ctx.db.get_read(key, at_rest=True)
    if value is not None and type(value) is not RedisHash and type(value) is not PackedHash:
        raise WrongType()
    return value


def write_hash(ctx: Client, key: bytes) -> RedisHash | None:
    """The hash at ``key`` for a write command."""
    value: RedisHash | None = ctx.db.get_typed(key, RedisHash)  # exactly a RedisHash, or None
    return value


def write_hash_or_create(ctx: Client, key: bytes) -> tuple[RedisHash, bool]:
    """(hash, created): a new empty hash that the caller stores once it has a field."""
    value = ctx.db.get_typed(key, RedisHash)
    if value is None:
        return RedisHash(), True
    return value, False


def store_changed(ctx: Client, key: bytes, value: RedisHash, created: bool, changes: int,
                  event: bytes) -> None:
    """Record a write of ``changes`` fields (Redis counts each one as dirty) and fire
    its keyspace ``event``."""
    db = ctx.db
    if created:
        db.set(key, value)
    else:
        db.signal(key)
    db.stats.dirty += changes - 1
    db.notify(ev.HASH, event, key)


# -- setting fields -----------------------------------------------------------------------

def _set_pairs(ctx: Client, argv: list[bytes]) -> int:
    size = len(argv)
    if size % 2:
        raise wrong_arity(argv[0].decode(errors="replace").lower())
    key = argv[1]
    db = ctx.db
    config = ctx.server.config
    stored = db.get_at_rest(key)
    if type(stored) is PackedHash:
        # A small hash that stays small is rewritten where it rests: opening it into
        # a dict and packing it again cost twice as much.
        rewritten = hash_with_pairs(stored, argv, 2, config.hash_max_listpack_value,
                                    config.hash_max_listpack_entries)
        if rewritten is not None:
            blob, new_fields = rewritten
            db.replace_packed(key, stored, blob)
            if size > 4:
                db.stats.dirty += (size - 2) // 2 - 1  # Redis counts each pair as a change
            if db.event_mask:
                db.notify(ev.HASH, b"hset", key)
            return new_fields
    value = db.open_stored(key, stored)
    if value is not None and type(value) is not RedisHash:
        raise WrongType()
    created = value is None
    if created:
        value = RedisHash()
    if not value.hashtable:
        value.fit(argv[2:] if size > 4 else (argv[2], argv[3]), config.hash_max_listpack_value)
    if size == 4 and value.sampler is None:  # the common single pair, inlined
        added: int = argv[2] not in value
        value[argv[2]] = argv[3]
    else:
        added = value.store_pairs(argv, 2)
    value.check_size(config.hash_max_listpack_entries)
    if created:
        db.set(key, value)
    else:
        db.signal(key)
    if size > 4:
        db.stats.dirty += (size - 2) // 2 - 1  # Redis counts each pair as a change
    if db.event_mask:  # notifications on (one test when off)
        db.notify(ev.HASH, b"hset", key)
    return int(added)


@commands.command("HSET", arity=-4, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW update",), summary="Set the string value of a hash field",
                  since="2.0.0",
                  complexity="O(1) for each field/value pair added, so O(N) to add N "
                             "field/value pairs when the command is called with multiple "
                             "field/value pairs.",
                  history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),))
def hset(ctx: Client, argv: list[bytes]) -> int:
    """HSET key field value [field value ...]"""
    return _set_pairs(ctx, argv)


@commands.command("HMSET", arity=-4, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW update",), summary="Set multiple hash fields to multiple values",
                  since="2.0.0", complexity="O(N) where N is the number of fields being set.",
                  doc_flags="deprecated", deprecated_since="4.0.0",
                  replaced_by="`HSET` with multiple field-value pairs")
def hmset(ctx: Client, argv: list[bytes]) -> Any:
    """HMSET key field value [field value ...]"""
    _set_pairs(ctx, argv)
    return OK


@commands.command("HSETNX", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",),
                  summary="Set the value of a hash field, only if the field does not exist",
                  since="2.0.0", complexity="O(1)")
def hsetnx(ctx: Client, argv: list[bytes]) -> int:
    """HSETNX key field value"""
    key, field = argv[1], argv[2]
    value, created = write_hash_or_create(ctx, key)
    if field in value:
        return 0
    config = ctx.server.config
    value.fit(argv[2:4], config.hash_max_listpack_value)
    value.store(field, argv[3])
    value.check_size(config.hash_max_listpack_entries)
    store_changed(ctx, key, value, created, 1, b"hset")
    return 1


# -- reading fields ---------------------------------------------------------------------

@commands.command("HGET", arity=3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Get the value of a hash field", since="2.0.0", complexity="O(1)")
def hget(ctx: Client, argv: list[bytes]) -> bytes | None:
    """HGET key field"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return None
    if isinstance(value, PackedHash):
        return hash_field(value, argv[2])
    return value.get(argv[2])


@commands.command("HMGET", arity=-3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Get the values of all the given hash fields", since="2.0.0",
                  complexity="O(N) where N is the number of fields being requested.")
def hmget(ctx: Client, argv: list[bytes]) -> list[bytes | None]:
    """HMGET key field [field ...]"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return [None] * (len(argv) - 2)
    if isinstance(value, PackedHash):
        return [hash_field(value, field) for field in argv[2:]]
    get = value.get
    return [get(field) for field in argv[2:]]


@commands.command("HEXISTS", arity=3, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Determine if a hash field exists", since="2.0.0", complexity="O(1)")
def hexists(ctx: Client, argv: list[bytes]) -> int:
    """HEXISTS key field"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return 0
    if isinstance(value, PackedHash):
        return int(hash_field(value, argv[2]) is not None)
    return int(argv[2] in value)


@commands.command("HLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Get the number of fields in a hash", since="2.0.0", complexity="O(1)")
def hlen(ctx: Client, argv: list[bytes]) -> int:
    """HLEN key"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return 0
    if isinstance(value, PackedHash):
        return packed_count(value) // 2
    return len(value)


@commands.command("HSTRLEN", arity=3, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Get the length of the value of a hash field", since="3.2.0",
                  complexity="O(1)")
def hstrlen(ctx: Client, argv: list[bytes]) -> int:
    """HSTRLEN key field"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return 0
    if isinstance(value, PackedHash):
        found = hash_field(value, argv[2])
    else:
        found = value.get(argv[2])
    return 0 if found is None else len(found)


@commands.command("HGETALL", arity=2, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output_order",
                  summary="Get all the fields and values in a hash", since="2.0.0",
                  complexity="O(N) where N is the size of the hash.")
def hgetall(ctx: Client, argv: list[bytes]) -> dict[bytes, bytes]:
    """HGETALL key"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return {}
    if isinstance(value, PackedHash):
        pairs = iter(packed_items(value))
        return dict(zip(pairs, pairs))  # noqa: B905  (an even count by construction)
    # A copy: a reply may be encoded after later commands ran (MULTI, pipelines).
    return dict(value)


@commands.command("HKEYS", arity=2, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output_order", summary="Get all the fields in a hash",
                  since="2.0.0", complexity="O(N) where N is the size of the hash.")
def hkeys(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """HKEYS key"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return []
    if isinstance(value, PackedHash):
        return packed_items(value)[::2]
    return list(value)


@commands.command("HVALS", arity=2, flags="readonly", keys=(1, 1, 1),
                  tips="nondeterministic_output_order", summary="Get all the values in a hash",
                  since="2.0.0", complexity="O(N) where N is the size of the hash.")
def hvals(ctx: Client, argv: list[bytes]) -> list[bytes]:
    """HVALS key"""
    value = read_hash_at_rest(ctx, argv[1])
    if value is None:
        return []
    if isinstance(value, PackedHash):
        return packed_items(value)[1::2]
    return list(value.values())


# -- deleting fields ----------------------------------------------------------------------

@commands.command("HDEL", arity=-3, flags="write fast", keys=(1, 1, 1), key_specs=("RW delete",),
                  summary="Delete one or more hash fields", since="2.0.0",
                  complexity="O(N) where N is the number of fields to be removed.",
                  history=(("2.4.0", "Accepts multiple `field` arguments."),))
def hdel(ctx: Client, argv: list[bytes]) -> int:
    """HDEL key field [field ...]"""
    key = argv[1]
    value = write_hash(ctx, key)
    if value is None:
        return 0
    deleted = 0
    for field in argv[2:]:
        if value.discard(field):
            deleted += 1
    if deleted:
        db = ctx.db
        if value:
            db.signal(key)
            db.notify(ev.HASH, b"hdel", key)
        else:
            db.delete(key)  # Redis never keeps an empty hash
            db.notify(ev.HASH, b"hdel", key)
            db.notify(ev.GENERIC, b"del", key)
        db.stats.dirty += deleted - 1
    return deleted


# -- counters -------------------------------------------------------------------------------

def _store_number(ctx: Client, key: bytes, value: RedisHash, created: bool, field: bytes,
                  text: bytes, event: bytes) -> None:
    config = ctx.server.config
    value.fit((field, text), config.hash_max_listpack_value)
    value.store(field, text)
    value.check_size(config.hash_max_listpack_entries)
    store_changed(ctx, key, value, created, 1, event)


@commands.command("HINCRBY", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Increment the integer value of a hash field by the given number",
                  since="2.0.0", complexity="O(1)")
def hincrby(ctx: Client, argv: list[bytes]) -> int:
    """HINCRBY key field increment"""
    delta = to_int(argv[3])
    key, field = argv[1], argv[2]
    value, created = write_hash_or_create(ctx, key)
    current_text = value.get(field)
    if current_text is None:
        current = 0
    else:
        parsed = try_int(current_text)
        if parsed is None:
            raise _NOT_INTEGER
        current = parsed
    result = current + delta
    if not LLONG_MIN <= result <= LLONG_MAX:
        raise _OVERFLOW
    _store_number(ctx, key, value, created, field, b"%d" % result, b"hincrby")
    return result


@commands.command("HINCRBYFLOAT", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Increment the float value of a hash field by the given amount",
                  since="2.6.0", complexity="O(1)")
def hincrbyfloat(ctx: Client, argv: list[bytes]) -> bytes:
    """HINCRBYFLOAT key field increment"""
    # Redis works in C long double; counters.py reproduces its rounding and "%.17Lf".
    delta = _parse_long_double(argv[3])
    if isinstance(delta, float):  # an infinity literal
        raise _NAN_OR_INF_ARG
    key, field = argv[1], argv[2]
    value, created = write_hash_or_create(ctx, key)
    current_text = value.get(field)
    current: Fraction | float = Fraction(0)
    if current_text is not None:
        try:
            current = _parse_long_double(current_text)
        except NotFloat:
            raise _NOT_FLOAT from None
    if isinstance(current, float):  # a stored "inf": the sum is infinite too
        raise _NAN_OR_INF_RESULT
    result = _round_to_long_double(current + delta)
    if isinstance(result, float):
        raise _NAN_OR_INF_RESULT
    text = format_long_double(result)
    _store_number(ctx, key, value, created, field, text, b"hincrbyfloat")
    # As Redis: replicas and the AOF get the result, not a float sum to redo.
    ctx.propagate_argv = [b"HSET", key, field, text]
    return text
