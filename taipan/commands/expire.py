"""Key expiry: EXPIRE family, TTL family, PERSIST."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from taipan.commands.args import LLONG_MAX, LLONG_MIN, to_int
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, err
from taipan.keyspace import events as ev
from taipan.keyspace.database import now_ms

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("generic")

_CONDITIONS: Final = (b"NX", b"XX", b"GT", b"LT")


def _parse_condition(argv: list[bytes]) -> set[bytes]:
    flags: set[bytes] = set()
    for arg in argv[3:]:
        option = arg.upper()
        if option not in _CONDITIONS:
            raise err("Unsupported option " + arg.decode("utf-8", "replace"))
        flags.add(option)
    if b"NX" in flags and len(flags) > 1:
        raise err("NX and XX, GT or LT options at the same time are not compatible")
    if b"GT" in flags and b"LT" in flags:
        raise err("GT and LT options at the same time are not compatible")
    return flags


def _invalid_time(name: str) -> ReplyError:
    return ReplyError(f"ERR invalid expire time in '{name}' command")


def _expire(ctx: Client, argv: list[bytes], unit_ms: int, relative: bool, name: str) -> int:
    flags = _parse_condition(argv)
    when = to_int(argv[2])
    # One clock reading for the base and the "already past" check: a lookup between
    # two readings that takes a millisecond (a busy server, a GC pause) would turn
    # PEXPIRE key 1 into a DEL instead of an expiry.
    now = now_ms()
    if unit_ms == 1000:
        # C's LLONG_MIN / 1000 truncates toward zero, Python's // floors.
        if when > LLONG_MAX // 1000 or when < -(-LLONG_MIN // 1000):
            raise _invalid_time(name)
        when *= 1000
    if relative:
        if when > LLONG_MAX - now:
            raise _invalid_time(name)
        when += now
    db = ctx.db
    key = argv[1]
    if db.get(key) is None:
        return 0
    if flags:
        current = db.expires.get(key)
        if b"NX" in flags and current is not None:
            return 0
        if b"XX" in flags and current is None:
            return 0
        if b"GT" in flags and (current is None or when <= current):
            return 0
        if b"LT" in flags and current is not None and when >= current:
            return 0
    if when <= now:
        # A time already past deletes the key: a ``del``, not an expiry.
        lazy = db.lazy_expire
        db.delete(key, lazy)
        ctx.propagate_argv = [b"UNLINK" if lazy else b"DEL", key]
        db.notify(ev.GENERIC, b"del", key)
        return 1
    db.set_expire(key, when)
    ctx.propagate_argv = [b"PEXPIREAT", key, b"%d" % when]
    db.notify(ev.GENERIC, b"expire", key)
    return 1


@commands.command("EXPIRE", arity=-3, flags="write fast", keys=(1, 1, 1), key_specs=("RW update",),
                  summary="Set a key's time to live in seconds", since="1.0.0", complexity="O(1)",
                  history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def expire(ctx: Client, argv: list[bytes]) -> int:
    """EXPIRE key seconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, 1000, True, "expire")


@commands.command("PEXPIRE", arity=-3, flags="write fast", keys=(1, 1, 1), key_specs=("RW update",),
                  summary="Set a key's time to live in milliseconds", since="2.6.0",
                  complexity="O(1)",
                  history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def pexpire(ctx: Client, argv: list[bytes]) -> int:
    """PEXPIRE key milliseconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, 1, True, "pexpire")


@commands.command("EXPIREAT", arity=-3, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW update",),
                  summary="Set the expiration for a key as a UNIX timestamp", since="1.2.0",
                  complexity="O(1)",
                  history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def expireat(ctx: Client, argv: list[bytes]) -> int:
    """EXPIREAT key unix-time-seconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, 1000, False, "expireat")


@commands.command("PEXPIREAT", arity=-3, flags="write fast", keys=(1, 1, 1),
                  key_specs=("RW update",),
                  summary="Set the expiration for a key as a UNIX timestamp specified in "
                          "milliseconds", since="2.6.0", complexity="O(1)",
                  history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),))
def pexpireat(ctx: Client, argv: list[bytes]) -> int:
    """PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]"""
    return _expire(ctx, argv, 1, False, "pexpireat")


def _ttl(ctx: Client, key: bytes, in_ms: bool, absolute: bool) -> int:
    db = ctx.db
    if db.peek_read(key) is None:
        return -2
    deadline: int | None = db.expires.get(key)
    if deadline is None:
        return -1
    remaining = deadline if absolute else max(deadline - now_ms(), 0)
    return remaining if in_ms else (remaining + 500) // 1000


@commands.command("TTL", arity=2, flags="readonly fast", keys=(1, 1, 1),
                  tips="nondeterministic_output",
                  summary="Get the time to live for a key in seconds", since="1.0.0",
                  complexity="O(1)", history=(("2.8.0", "Added the -2 reply."),))
def ttl(ctx: Client, argv: list[bytes]) -> int:
    """TTL key"""
    return _ttl(ctx, argv[1], False, False)


@commands.command("PTTL", arity=2, flags="readonly fast", keys=(1, 1, 1),
                  tips="nondeterministic_output",
                  summary="Get the time to live for a key in milliseconds", since="2.6.0",
                  complexity="O(1)", history=(("2.8.0", "Added the -2 reply."),))
def pttl(ctx: Client, argv: list[bytes]) -> int:
    """PTTL key"""
    return _ttl(ctx, argv[1], True, False)


@commands.command("EXPIRETIME", arity=2, flags="readonly fast", keys=(1, 1, 1),
                  summary="Get the expiration Unix timestamp for a key", since="7.0.0",
                  complexity="O(1)")
def expiretime(ctx: Client, argv: list[bytes]) -> int:
    """EXPIRETIME key"""
    return _ttl(ctx, argv[1], False, True)


@commands.command("PEXPIRETIME", arity=2, flags="readonly fast", keys=(1, 1, 1),
                  summary="Get the expiration Unix timestamp for a key in milliseconds",
                  since="7.0.0", complexity="O(1)")
def pexpiretime(ctx: Client, argv: list[bytes]) -> int:
    """PEXPIRETIME key"""
    return _ttl(ctx, argv[1], True, True)


@commands.command("PERSIST", arity=2, flags="write fast", keys=(1, 1, 1), key_specs=("RW update",),
                  summary="Remove the expiration from a key", since="2.2.0", complexity="O(1)")
def persist(ctx: Client, argv: list[bytes]) -> int:
    """PERSIST key"""
    db = ctx.db
    if db.get(argv[1]) is None:
        return 0
    if db.persist(argv[1]):
        db.notify(ev.GENERIC, b"persist", argv[1])
        return 1
    return 0
