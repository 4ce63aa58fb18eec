"""DUMP and RESTORE: values as Redis 7.0 serialization payloads (RDB version 10)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import try_int
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, err
from taipan.keyspace import events as ev
from taipan.keyspace.database import now_ms
from taipan.persistence import RdbError, dump_payload, load_payload, payload_verified
from taipan.protocol.reply import OK

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("generic")

_NOT_INTEGER = ReplyError("ERR value is not an integer or out of range")
_BUSY_KEY = ReplyError("BUSYKEY Target key name already exists.")
_BAD_PAYLOAD = ReplyError("ERR DUMP payload version or checksum are wrong")
_BAD_FORMAT = ReplyError("ERR Bad data format")


@commands.command("DUMP", arity=2, flags="readonly", keys=(1, 1, 1), key_specs=("RO access",),
                  tips="nondeterministic_output",
                  summary="Return a serialized version of the value stored at the specified key.",
                  since="2.6.0",
                  complexity="O(1) to access the key and additional O(N*M) to serialize it, where "
                             "N is the number of Redis objects composing the value and M their "
                             "average size. For small string values the time complexity is thus "
                             "O(1)+O(1*M) where M is small, so simply O(1).")
def dump(ctx: Client, argv: list[bytes]) -> bytes | None:
    """DUMP key"""
    value = ctx.db.get_read(argv[1])
    if value is None:
        return None
    return dump_payload(value, ctx.server.config)


def _int_arg(arg: bytes) -> int:
    value = try_int(arg)
    if value is None:
        raise _NOT_INTEGER
    return value


@commands.command("RESTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1), acl="dangerous",
                  key_specs=("OW update",),
                  summary="Create a key using the provided serialized value, previously "
                          "obtained using DUMP.",
                  since="2.6.0",
                  complexity="O(1) to create the new key and additional O(N*M) to reconstruct "
                             "the serialized value, where N is the number of Redis objects "
                             "composing the value and M their average size. For small string "
                             "values the time complexity is thus O(1)+O(1*M) where M is small, "
                             "so simply O(1). However for sorted set values the complexity is "
                             "O(N*M*log(N)) because inserting values into sorted sets is "
                             "O(log(N)).",
                  history=(("3.0.0", "Added the `REPLACE` modifier."),
                           ("5.0.0", "Added the `ABSTTL` modifier."),
                           ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")))
def restore(ctx: Client, argv: list[bytes]) -> Any:
    """RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"""
    replace = absttl = False
    idle = freq = -1
    i = 4
    while i < len(argv):
        option = argv[i].upper()
        more = i + 1 < len(argv)
        if option == b"REPLACE":
            replace = True
        elif option == b"ABSTTL":
            absttl = True
        elif option == b"IDLETIME" and more and freq == -1:
            i += 1
            idle = _int_arg(argv[i])
            if idle < 0:
                raise err("Invalid IDLETIME value, must be >= 0")
        elif option == b"FREQ" and more and idle == -1:
            i += 1
            freq = _int_arg(argv[i])
            if freq < 0 or freq > 255:
                raise err("Invalid FREQ value, must be >= 0 and <= 255")
        else:
            raise SyntaxErr()
        i += 1
    db = ctx.db
    key = argv[1]
    if not replace and db.get(key) is not None:
        raise _BUSY_KEY
    ttl = _int_arg(argv[2])
    if ttl < 0:
        raise err("Invalid TTL value, must be >= 0")
    payload = argv[3]
    if not payload_verified(payload):
        raise _BAD_PAYLOAD
    try:
        value = load_payload(payload, ctx.server.config)
    except RdbError:
        raise _BAD_FORMAT from None
    existed = replace and db.get(key) is not None
    dirty_before = db.stats.dirty
    now = now_ms()  # (one reading: see ``expire._expire``)
    if ttl and not absttl:
        ttl += now
        if ttl >= 1 << 63:
            ttl -= 1 << 64  # Redis's 64-bit sum wraps to the past: the key is expired
    if ttl and ttl <= now:
        # Already expired: the key is not created, but REPLACE still removed the old one.
        if existed:
            db.delete(key)
            db.stats.dirty = dirty_before + 1
            ctx.propagate_argv = [b"DEL", key]
            db.notify(ev.GENERIC, b"del", key)
        return OK
    if existed:
        db.delete(key)
    db.set(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            # Replicas and the AOF get the absolute deadline, as Redis propagates it.
            ctx.propagate_argv = [*argv[:2], b"%d" % ttl, *argv[3:], b"ABSTTL"]
    db.stats.dirty = dirty_before + 1  # one change for the whole RESTORE, as in Redis
    _set_access(ctx, key, idle, freq)
    db.notify(ev.GENERIC, b"restore", key)
    return OK


def _set_access(ctx: Client, key: bytes, idle: int, freq: int) -> None:
    """IDLETIME / FREQ, as Redis's objectSetLRUOrLFU: the idle time under an LRU (or no)
    policy, the frequency under an LFU one; the other option is ignored."""
    config = ctx.server.config
    lfu = "lfu" in config.maxmemory_policy
    if (idle < 0 or lfu) and (freq < 0 or not lfu):
        return
    access = ctx.server.access_tracker(ctx.db)
    if lfu:
        access.set_frequency(key, freq)
    else:
        access.set_idle(key, idle)
