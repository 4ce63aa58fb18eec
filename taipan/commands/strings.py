"""String commands: GET/SET family, ranges and multi-key forms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from taipan.commands.args import to_int
from taipan.commands.expire_args import ABSOLUTE, deadline_from, parse_set_options
from taipan.commands.table import CommandGroup
from taipan.errors import STRING_TOO_LONG, ReplyError, WrongType, wrong_arity
from taipan.keyspace import events as ev
from taipan.keyspace.database import now_ms
from taipan.protocol.reply import OK

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("string")

_NX: Final = b"NX"
_XX: Final = b"XX"


def check_length(server: Any, length: int) -> None:
    if length > server.config.proto_max_bulk_len:
        raise ReplyError(STRING_TOO_LONG)


def _as_bytes(value: bytes | bytearray) -> bytes:
    return value if type(value) is bytes else bytes(value)


@commands.command("GET", arity=2, flags="readonly fast", keys=(1, 1, 1),
                  summary="Get the value of a key", since="1.0.0", complexity="O(1)")
def get(ctx: Client, argv: list[bytes]) -> Any:
    """GET key"""
    value = ctx.db.get_read(argv[1])
    if value is None or type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    raise WrongType()


@commands.command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=({"flags": "RW access update variable_flags",
                              "notes": "RW and ACCESS due to the optional `GET` argument"},),
                  summary="Set the string value of a key", since="1.0.0", complexity="O(1)",
                  history=(("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                           ("6.0.0", "Added the `KEEPTTL` option."),
                           ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                           ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")))
def set_(ctx: Client, argv: list[bytes]) -> Any:
    """SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
    EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]"""
    db = ctx.db
    key, value = argv[1], argv[2]
    if len(argv) == 3:  # the common case: no options
        db.set(key, value)
        if db.event_mask:  # notifications on (one test when off)
            db.notify(ev.STRING, b"set", key)
        return OK
    options = parse_set_options(argv, 3, for_set=True)
    condition, want_get, keep_ttl = options.condition, options.get, options.keep_ttl
    expire_option = options.expire_option
    deadline = deadline_from(expire_option, options.expire_arg, "set") if expire_option else None
    # SET ... GET reads the old value as GET does (keyspace hit/miss, WRONGTYPE).
    old = db.get_string(key, read=True) if want_get else db.get(key)
    reply = _as_bytes(old) if want_get and old is not None else None
    if (condition == _NX and old is not None) or (condition == _XX and old is None):
        return reply
    db.set(key, value, keep_ttl=keep_ttl)
    db.notify(ev.STRING, b"set", key)
    if deadline is not None:
        db.set_expire(key, deadline)
        ctx.propagate_argv = [b"SET", key, value, b"PXAT", b"%d" % deadline]
        db.notify(ev.GENERIC, b"expire", key)
    return reply if want_get else OK


@commands.command("SETNX", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("OW insert",),
                  summary="Set the value of a key, only if the key does not exist", since="1.0.0",
                  complexity="O(1)")
def setnx(ctx: Client, argv: list[bytes]) -> int:
    """SETNX key value"""
    if argv[1] in ctx.db:
        return 0
    ctx.db.set(argv[1], argv[2])
    ctx.db.notify(ev.STRING, b"set", argv[1])
    return 1


def _set_with_expire(ctx: Client, argv: list[bytes], option: bytes, name: str) -> Any:
    deadline = deadline_from(option, argv[2], name)
    db = ctx.db
    db.set(argv[1], argv[3])
    db.notify(ev.STRING, b"set", argv[1])
    db.set_expire(argv[1], deadline)
    ctx.propagate_argv = [b"SET", argv[1], argv[3], b"PXAT", b"%d" % deadline]
    db.notify(ev.GENERIC, b"expire", argv[1])
    return OK


@commands.command("SETEX", arity=4, flags="write denyoom", keys=(1, 1, 1), key_specs=("OW update",),
                  summary="Set the value and expiration of a key", since="2.0.0", complexity="O(1)")
def setex(ctx: Client, argv: list[bytes]) -> Any:
    """SETEX key seconds value"""
    return _set_with_expire(ctx, argv, b"EX", "setex")


@commands.command("PSETEX", arity=4, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=("OW update",),
                  summary="Set the value and expiration in milliseconds of a key", since="2.6.0",
                  complexity="O(1)")
def psetex(ctx: Client, argv: list[bytes]) -> Any:
    """PSETEX key milliseconds value"""
    return _set_with_expire(ctx, argv, b"PX", "psetex")


@commands.command("MGET", arity=-2, flags="readonly fast", keys=(1, -1, 1),
                  tips="request_policy:multi_shard", summary="Get the values of all the given keys",
                  since="1.0.0", complexity="O(N) where N is the number of keys to retrieve.")
def mget(ctx: Client, argv: list[bytes]) -> list[bytes | None]:
    """MGET key [key ...]"""
    get_value = ctx.db.get_read
    replies: list[bytes | None] = []
    for key in argv[1:]:
        value = get_value(key)
        if type(value) is bytes:
            replies.append(value)
        elif type(value) is bytearray:
            replies.append(bytes(value))
        else:
            replies.append(None)  # missing or not a string: nil, as Redis
    return replies


@commands.command("MSET", arity=-3, flags="write denyoom", keys=(1, -1, 2),
                  key_specs=("OW update",),
                  tips="request_policy:multi_shard response_policy:all_succeeded",
                  summary="Set multiple keys to multiple values", since="1.0.1",
                  complexity="O(N) where N is the number of keys to set.")
def mset(ctx: Client, argv: list[bytes]) -> Any:
    """MSET key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise wrong_arity("mset")
    db = ctx.db
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
        db.notify(ev.STRING, b"set", argv[i])
    return OK


@commands.command("MSETNX", arity=-3, flags="write denyoom", keys=(1, -1, 2),
                  key_specs=("OW insert",),
                  tips="request_policy:multi_shard response_policy:agg_min",
                  summary="Set multiple keys to multiple values, only if none of the keys exist",
                  since="1.0.1", complexity="O(N) where N is the number of keys to set.")
def msetnx(ctx: Client, argv: list[bytes]) -> int:
    """MSETNX key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise wrong_arity("msetnx")
    db = ctx.db
    if any(argv[i] in db for i in range(1, len(argv), 2)):
        return 0
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
        db.notify(ev.STRING, b"set", argv[i])
    return 1


@commands.command("GETSET", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
                  summary="Set the string value of a key and return its old value", since="1.0.0",
                  complexity="O(1)", doc_flags="deprecated", deprecated_since="6.2.0",
                  replaced_by="`SET` with the `!GET` argument")
def getset(ctx: Client, argv: list[bytes]) -> Any:
    """GETSET key value"""
    old = ctx.db.get_string(argv[1], read=True)
    ctx.db.set(argv[1], argv[2])
    ctx.db.notify(ev.STRING, b"set", argv[1])
    return None if old is None else _as_bytes(old)


@commands.command("GETDEL", arity=2, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW access delete",),
                  summary="Get the value of a key and delete the key", since="6.2.0",
                  complexity="O(1)")
def getdel(ctx: Client, argv: list[bytes]) -> Any:
    """GETDEL key"""
    old = ctx.db.get_string(argv[1], read=True)
    if old is not None:
        ctx.db.delete(argv[1])
        ctx.db.notify(ev.GENERIC, b"del", argv[1])
        return _as_bytes(old)
    return None


@commands.command("GETEX", arity=-2, flags="write fast", keys=(1, 1, 1),
                  key_specs=({"flags": "RW access update",
                              "notes": "RW and UPDATE because it changes the TTL"},),
                  summary="Get the value of a key and optionally set its expiration", since="6.2.0",
                  complexity="O(1)")
def getex(ctx: Client, argv: list[bytes]) -> Any:
    """GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | PERSIST]"""
    key = argv[1]
    options = parse_set_options(argv, 2, for_set=False)
    db = ctx.db
    # Redis looks the key up (nil, WRONGTYPE) before validating the expire time.
    value = db.get_string(key, read=True)
    if value is None:
        return None
    expire_option = options.expire_option
    if expire_option is not None:
        deadline = deadline_from(expire_option, options.expire_arg, "getex")
        if expire_option in ABSOLUTE and deadline <= now_ms():
            # A deadline already past deletes the key (a DEL, not an expiry).
            db.delete(key)
            ctx.propagate_argv = [b"DEL", key]
            db.notify(ev.GENERIC, b"del", key)
        else:
            db.set_expire(key, deadline)
            ctx.propagate_argv = [b"PEXPIREAT", key, b"%d" % deadline]
            db.notify(ev.GENERIC, b"expire", key)
    elif options.persist and db.persist(key):
        ctx.propagate_argv = [b"PERSIST", key]
        db.notify(ev.GENERIC, b"persist", key)
    return _as_bytes(value)


@commands.command("APPEND", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
                  key_specs=("RW insert",), summary="Append a value to a key", since="2.0.0",
                  complexity="O(1). The amortized time complexity is O(1) assuming the appended "
                             "value is small and the already present value is of any size, since "
                             "the dynamic string library used by Redis will double the free space "
                             "available on every reallocation.")
def append(ctx: Client, argv: list[bytes]) -> int:
    """APPEND key value"""
    db = ctx.db
    key, suffix = argv[1], argv[2]
    value = db.get_string(key)
    if value is None:
        db.set(key, suffix)
        db.notify(ev.STRING, b"append", key)
        return len(suffix)
    check_length(ctx.server, len(value) + len(suffix))
    if type(value) is bytes:
        # A bytearray grows in place: repeated APPENDs stay amortised O(1).
        value = db.unshare_string(key, value)
    value += suffix
    db.signal(key)
    db.notify(ev.STRING, b"append", key)
    return len(value)


@commands.command("STRLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), key_specs=("RO",),
                  summary="Get the length of the value stored in a key", since="2.2.0",
                  complexity="O(1)")
def strlen(ctx: Client, argv: list[bytes]) -> int:
    """STRLEN key"""
    value = ctx.db.get_string(argv[1], read=True)
    return 0 if value is None else len(value)


@commands.command("SETRANGE", arity=4, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=("RW update",),
                  summary="Overwrite part of a string at key starting at the specified offset",
                  since="2.2.0",
                  complexity="O(1), not counting the time taken to copy the new string in place. "
                             "Usually, this string is very small so the amortized complexity is "
                             "O(1). Otherwise, complexity is O(M) with M being the length of the "
                             "value argument.")
def setrange(ctx: Client, argv: list[bytes]) -> int:
    """SETRANGE key offset value"""
    db = ctx.db
    key, patch = argv[1], argv[3]
    offset = to_int(argv[2])
    if offset < 0:
        raise ReplyError("ERR offset is out of range")
    value = db.get_string(key)
    if not patch:
        return 0 if value is None else len(value)
    check_length(ctx.server, offset + len(patch))
    if value is None:
        buffer = bytearray(offset + len(patch))
        db.set(key, buffer)
    elif isinstance(value, bytearray):
        buffer = value
    else:
        buffer = db.unshare_string(key, value)
    if len(buffer) < offset + len(patch):
        buffer.extend(bytes(offset + len(patch) - len(buffer)))
    buffer[offset:offset + len(patch)] = patch
    db.signal(key)
    db.notify(ev.STRING, b"setrange", key)
    return len(buffer)


def _getrange(ctx: Client, argv: list[bytes]) -> bytes:
    start, end = to_int(argv[2]), to_int(argv[3])
    value = ctx.db.get_string(argv[1], read=True)
    if value is None:
        return b""
    length = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start += length
    if end < 0:
        end += length
    start = max(start, 0)
    end = max(end, 0)
    if end >= length:
        end = length - 1
    if start > end or length == 0:
        return b""
    return bytes(value[start:end + 1])


@commands.command("GETRANGE", arity=4, flags="readonly", keys=(1, 1, 1),
                  summary="Get a substring of the string stored at a key", since="2.4.0",
                  complexity="O(N) where N is the length of the returned string. The complexity "
                             "is ultimately determined by the returned length, but because "
                             "creating a substring from an existing string is very cheap, it can "
                             "be considered O(1) for small strings.")
def getrange(ctx: Client, argv: list[bytes]) -> bytes:
    """GETRANGE key start end"""
    return _getrange(ctx, argv)


@commands.command("SUBSTR", arity=4, flags="readonly", keys=(1, 1, 1),
                  summary="Get a substring of the string stored at a key", since="1.0.0",
                  complexity="O(N) where N is the length of the returned string. The complexity "
                             "is ultimately determined by the returned length, but because "
                             "creating a substring from an existing string is very cheap, it can "
                             "be considered O(1) for small strings.", doc_flags="deprecated",
                  deprecated_since="2.0.0", replaced_by="`GETRANGE`")
def substr(ctx: Client, argv: list[bytes]) -> bytes:
    """SUBSTR key start end"""
    return _getrange(ctx, argv)
