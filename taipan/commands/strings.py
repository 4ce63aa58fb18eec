"""String commands: GET/SET family, ranges and multi-key forms."""

from __future__ import annotations

from typing import Any

from taipan.commands.args import to_int
from taipan.commands.expire_args import UNIT_MS, deadline_from
from taipan.commands.table import CommandGroup
from taipan.errors import STRING_TOO_LONG, ReplyError, SyntaxErr, WrongType, wrong_arity
from taipan.keyspace.database import STRING_TYPES
from taipan.protocol.reply import OK

commands = CommandGroup("string")

_NX, _XX, _GET, _KEEPTTL = b"NX", b"XX", b"GET", b"KEEPTTL"


def check_length(server: Any, length: int) -> None:
    if length > server.config.proto_max_bulk_len:
        raise ReplyError(STRING_TOO_LONG)


def _as_bytes(value: bytes | bytearray) -> bytes:
    return value if type(value) is bytes else bytes(value)


@commands.command("GET", arity=2, flags="readonly fast", keys=(1, 1, 1))
def get(ctx: Any, argv: list[bytes]) -> Any:
    """GET key"""
    value = ctx.db.get_read(argv[1])
    if value is None or type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    raise WrongType()


@commands.command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1))
def set_(ctx: Any, argv: list[bytes]) -> Any:
    """SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
    EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]"""
    db = ctx.db
    key, value = argv[1], argv[2]
    if len(argv) == 3:  # the common case: no options
        db.set(key, value)
        return OK
    condition = expire_option = expire_arg = None
    want_get = keep_ttl = False
    i = 3
    while i < len(argv):
        option = argv[i].upper()
        if option in (_NX, _XX) and condition is None:
            condition = option
        elif option == _GET and not want_get:
            want_get = True
        elif option == _KEEPTTL and expire_option is None and not keep_ttl:
            keep_ttl = True
        elif option in UNIT_MS and expire_option is None and not keep_ttl and i + 1 < len(argv):
            expire_option, expire_arg = option, argv[i + 1]
            i += 1
        else:
            raise SyntaxErr()
        i += 1
    deadline = deadline_from(expire_option, expire_arg, "set") if expire_option else None
    old = db.get(key)
    if want_get and old is not None and not isinstance(old, STRING_TYPES):
        raise WrongType()
    reply = _as_bytes(old) if want_get and old is not None else None
    if (condition == _NX and old is not None) or (condition == _XX and old is None):
        return reply
    db.set(key, value, keep_ttl=keep_ttl)
    if deadline is not None:
        db.set_expire(key, deadline)
        ctx.propagate_argv = [b"SET", key, value, b"PXAT", b"%d" % deadline]
    return reply if want_get else OK


@commands.command("SETNX", arity=3, flags="write denyoom fast", keys=(1, 1, 1))
def setnx(ctx: Any, argv: list[bytes]) -> int:
    """SETNX key value"""
    if argv[1] in ctx.db:
        return 0
    ctx.db.set(argv[1], argv[2])
    return 1


def _set_with_expire(ctx: Any, argv: list[bytes], option: bytes, name: str) -> Any:
    deadline = deadline_from(option, argv[2], name)
    ctx.db.set(argv[1], argv[3])
    ctx.db.set_expire(argv[1], deadline)
    ctx.propagate_argv = [b"SET", argv[1], argv[3], b"PXAT", b"%d" % deadline]
    return OK


@commands.command("SETEX", arity=4, flags="write denyoom", keys=(1, 1, 1))
def setex(ctx: Any, argv: list[bytes]) -> Any:
    """SETEX key seconds value"""
    return _set_with_expire(ctx, argv, b"EX", "setex")


@commands.command("PSETEX", arity=4, flags="write denyoom", keys=(1, 1, 1))
def psetex(ctx: Any, argv: list[bytes]) -> Any:
    """PSETEX key milliseconds value"""
    return _set_with_expire(ctx, argv, b"PX", "psetex")


@commands.command("MGET", arity=-2, flags="readonly fast", keys=(1, -1, 1))
def mget(ctx: Any, argv: list[bytes]) -> list:
    """MGET key [key ...]"""
    get_value = ctx.db.get_read
    replies: list = []
    for key in argv[1:]:
        value = get_value(key)
        if type(value) is bytes:
            replies.append(value)
        elif type(value) is bytearray:
            replies.append(bytes(value))
        else:
            replies.append(None)  # missing or not a string: nil, as Redis
    return replies


@commands.command("MSET", arity=-3, flags="write denyoom", keys=(1, -1, 2))
def mset(ctx: Any, argv: list[bytes]) -> Any:
    """MSET key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise wrong_arity("mset")
    db = ctx.db
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
    return OK


@commands.command("MSETNX", arity=-3, flags="write denyoom", keys=(1, -1, 2))
def msetnx(ctx: Any, argv: list[bytes]) -> int:
    """MSETNX key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise wrong_arity("msetnx")
    db = ctx.db
    if any(argv[i] in db for i in range(1, len(argv), 2)):
        return 0
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
    return 1


@commands.command("GETSET", arity=3, flags="write denyoom fast", keys=(1, 1, 1))
def getset(ctx: Any, argv: list[bytes]) -> Any:
    """GETSET key value"""
    old = ctx.db.get_string(argv[1])
    ctx.db.set(argv[1], argv[2])
    return None if old is None else _as_bytes(old)


@commands.command("GETDEL", arity=2, flags="write fast", keys=(1, 1, 1))
def getdel(ctx: Any, argv: list[bytes]) -> Any:
    """GETDEL key"""
    old = ctx.db.get_string(argv[1])
    if old is not None:
        ctx.db.delete(argv[1])
        return _as_bytes(old)
    return None


@commands.command("GETEX", arity=-2, flags="write fast", keys=(1, 1, 1))
def getex(ctx: Any, argv: list[bytes]) -> Any:
    """GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | PERSIST]"""
    key = argv[1]
    expire_option = expire_arg = None
    persist = False
    i = 2
    while i < len(argv):
        option = argv[i].upper()
        if option in UNIT_MS and expire_option is None and not persist and i + 1 < len(argv):
            expire_option, expire_arg = option, argv[i + 1]
            i += 1
        elif option == b"PERSIST" and expire_option is None and not persist:
            persist = True
        else:
            raise SyntaxErr()
        i += 1
    deadline = deadline_from(expire_option, expire_arg, "getex") if expire_option else None
    db = ctx.db
    value = db.get_string(key)
    if value is None:
        return None
    if deadline is not None:
        db.set_expire(key, deadline)
        ctx.propagate_argv = [b"PEXPIREAT", key, b"%d" % deadline]
        if db.is_expired(key):
            db.expire_now(key)
            ctx.propagate_argv = [b"DEL", key]
    elif persist and db.persist(key):
        ctx.propagate_argv = [b"PERSIST", key]
    return _as_bytes(value)


@commands.command("APPEND", arity=3, flags="write denyoom fast", keys=(1, 1, 1))
def append(ctx: Any, argv: list[bytes]) -> int:
    """APPEND key value"""
    db = ctx.db
    key, suffix = argv[1], argv[2]
    value = db.get_string(key)
    if value is None:
        db.set(key, suffix)
        return len(suffix)
    check_length(ctx.server, len(value) + len(suffix))
    if type(value) is bytes:
        # A bytearray grows in place: repeated APPENDs stay amortised O(1).
        value = bytearray(value)
        db.data[key] = value
    value += suffix
    db.signal(key)
    return len(value)


@commands.command("STRLEN", arity=2, flags="readonly fast", keys=(1, 1, 1))
def strlen(ctx: Any, argv: list[bytes]) -> int:
    """STRLEN key"""
    value = ctx.db.get_string(argv[1], read=True)
    return 0 if value is None else len(value)


@commands.command("SETRANGE", arity=4, flags="write denyoom", keys=(1, 1, 1))
def setrange(ctx: Any, argv: list[bytes]) -> int:
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
        value = bytearray(offset + len(patch))
        db.set(key, value)
    elif type(value) is bytes:
        value = bytearray(value)
        db.data[key] = value
    if len(value) < offset + len(patch):
        value.extend(bytes(offset + len(patch) - len(value)))
    value[offset:offset + len(patch)] = patch
    db.signal(key)
    return len(value)


def _getrange(ctx: Any, argv: list[bytes]) -> bytes:
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


@commands.command("GETRANGE", arity=4, flags="readonly", keys=(1, 1, 1))
def getrange(ctx: Any, argv: list[bytes]) -> bytes:
    """GETRANGE key start end"""
    return _getrange(ctx, argv)


@commands.command("SUBSTR", arity=4, flags="readonly", keys=(1, 1, 1))
def substr(ctx: Any, argv: list[bytes]) -> bytes:
    """SUBSTR key start end"""
    return _getrange(ctx, argv)
