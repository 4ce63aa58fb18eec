"""maxmemory and eviction against a real Redis 7.0: -OOM refusals (plain commands,
MULTI/EXEC, scripts and functions), what the eviction policies evict, OBJECT FREQ /
IDLETIME under each kind of policy, the maxmemory configuration parameters, the INFO
fields, and the ``evicted`` keyspace event.

The servers are shared by the whole session: the ``limits`` fixture records every
parameter these tests touch and puts it back afterwards, even when a test fails.
Forcing OOM uses ``maxmemory 1`` (always below used memory on either server); a
"small" limit is set relative to each server's own ``used_memory``, as Taipan's memory
figures differ from Redis's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from support.raw import RawClient
from support.servers import ServerProcess

OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
TOUCHED = ("maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity",
           "maxmemory-clients", "lfu-log-factor", "lfu-decay-time", "notify-keyspace-events")


class Limits:
    """Admin connections (a third connection on each server) to change the limits."""

    def __init__(self, redis_port: int, taipan_port: int) -> None:
        self.ports = (redis_port, taipan_port)
        self.clients = [redis.Redis(port=port, decode_responses=True) for port in self.ports]
        self.saved = [client.config_get("*") for client in self.clients]

    def set(self, name: str, value: str | int) -> None:
        for client in self.clients:
            assert client.config_set(name, value)

    def oom(self, policy: str = "noeviction") -> None:
        self.set("maxmemory-policy", policy)
        self.set("maxmemory", 1)

    def info(self, section: str) -> tuple[dict, dict]:
        ref, ours = (client.info(section) for client in self.clients)
        return ref, ours

    def restore(self) -> None:
        for client, saved in zip(self.clients, self.saved, strict=True):
            client.config_set("maxmemory", 0)
            for name in TOUCHED:
                client.config_set(name, saved[name])
            client.function_flush()
            client.close()


@pytest.fixture
def limits(differ: Any, real_redis: ServerProcess, taipan: ServerProcess) -> Iterator[Limits]:
    lim = Limits(real_redis.port, taipan.port)
    try:
        yield lim
    finally:
        lim.restore()


# -- plain commands over the limit -------------------------------------------------------

SETUP = [
    ("SET", "mm:s", "v"), ("SET", "mm:n", "10"), ("RPUSH", "mm:l", "a", "b"),
    ("SADD", "mm:set", "a"), ("ZADD", "mm:z", "1", "a"), ("HSET", "mm:h", "f", "v"),
    ("XADD", "mm:x", "1-1", "f", "v"), ("SET", "mm:del1", "v"), ("SET", "mm:del2", "v"),
]

REFUSED = [
    ("SET", "mm:s", "w"), ("SET", "mm:new", "w"), ("SETNX", "mm:new", "w"),
    ("SET", "mm:s", "w", "BOGUS"),  # -OOM comes before the syntax check
    ("MSET", "mm:a", "1"), ("GETSET", "mm:s", "w"), ("SETEX", "mm:s", "10", "w"),
    ("LPUSH", "mm:l", "c"), ("RPUSH", "mm:new", "c"), ("LPUSHX", "mm:l", "c"),
    ("LINSERT", "mm:l", "BEFORE", "a", "z"), ("LSET", "mm:l", "0", "z"),
    ("SADD", "mm:set", "b"), ("ZADD", "mm:z", "2", "b"), ("ZINCRBY", "mm:z", "1", "a"),
    ("HSET", "mm:h", "g", "v"), ("HSETNX", "mm:h", "g", "v"), ("HINCRBY", "mm:h", "n", "1"),
    ("XADD", "mm:x", "*", "f", "v"), ("APPEND", "mm:s", "x"), ("SETRANGE", "mm:s", "0", "x"),
    ("INCR", "mm:n"), ("INCRBY", "mm:n", "2"), ("DECR", "mm:n"), ("INCRBYFLOAT", "mm:n", "1"),
    ("SETBIT", "mm:b", "1", "1"), ("PFADD", "mm:hll", "a"), ("GEOADD", "mm:g", "1", "1", "m"),
    ("SUNIONSTORE", "mm:dst", "mm:set"), ("ZUNIONSTORE", "mm:dst", "1", "mm:z"),
    ("SORT", "mm:l", "ALPHA", "STORE", "mm:dst"), ("COPY", "mm:s", "mm:copy"),
    ("BITOP", "OR", "mm:dst", "mm:s"), ("RESTORE", "mm:r", "0", "x"),
    ("LMOVE", "mm:l", "mm:l2", "LEFT", "LEFT"),
    ("FUNCTION", "LOAD", "#!lua name=mmlib\nredis.register_function('f', function() end)"),
    ("EVAL", "#!lua\nreturn 1", "0"),
]

ALLOWED_READS = [
    ("GET", "mm:s"), ("GET", "mm:missing"), ("EXISTS", "mm:s", "mm:l"), ("PING",),
    ("LRANGE", "mm:l", "0", "-1"), ("SMEMBERS", "mm:set"), ("ZRANGE", "mm:z", "0", "-1"),
    ("HGETALL", "mm:h"), ("XRANGE", "mm:x", "-", "+"), ("STRLEN", "mm:s"), ("TYPE", "mm:l"),
    ("DBSIZE",), ("ECHO", "hi"), ("CONFIG", "GET", "maxmemory"), ("TTL", "mm:s"),
    ("EVAL", "return 1", "0"), ("SCRIPT", "EXISTS", "abc"), ("MULTI",), ("DISCARD",),
    ("NOSUCHCOMMAND",), ("SET", "mm:s"),  # unknown command and arity come before -OOM
]

ALLOWED_WRITES = [
    ("DEL", "mm:del1", "mm:missing"), ("UNLINK", "mm:del2"), ("EXPIRE", "mm:s", "100"),
    ("PERSIST", "mm:s"), ("LPOP", "mm:l"), ("SREM", "mm:set", "a"), ("HDEL", "mm:h", "f"),
    ("ZREM", "mm:z", "a"), ("RENAME", "mm:n", "mm:n2"), ("XTRIM", "mm:x", "MAXLEN", "0"),
    ("GETDEL", "mm:s"), ("CONFIG", "SET", "maxmemory-samples", "5"), ("SWAPDB", "0", "0"),
    ("SMOVE", "mm:set", "mm:set2", "a"), ("FLUSHDB",), ("DBSIZE",),
]


@pytest.fixture
def over_limit(differ: Any, limits: Limits) -> Any:
    differ.run(SETUP)
    limits.oom()
    return differ


@pytest.mark.parametrize("args", REFUSED, ids=lambda a: " ".join(map(str, a[:2])))
def test_denyoom_commands_are_refused(over_limit: Any, args: tuple) -> None:
    assert over_limit.check(*args) == OOM


def test_reads_and_admin_commands_pass(over_limit: Any) -> None:
    for args in ALLOWED_READS:
        over_limit.check(*args)


def test_writes_that_free_memory_pass(over_limit: Any) -> None:
    over_limit.run(ALLOWED_WRITES)


def test_incr_is_denyoom_in_command_info(differ: Any) -> None:
    # (containers' subcommand order is random in Redis: see test_command_info_compat)
    for name in ("incr", "set", "del", "get", "flushdb", "eval", "eval_ro", "fcall",
                 "append", "setrange", "xadd", "smove", "lpop", "sort", "swapdb"):
        differ.check("COMMAND", "INFO", name)


def test_lifting_the_limit_accepts_writes_again(over_limit: Any, limits: Limits) -> None:
    over_limit.check("SET", "mm:s", "w")
    limits.set("maxmemory", 0)
    over_limit.run([("SET", "mm:s", "w"), ("GET", "mm:s")])


# -- eviction policies ---------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_allkeys_policies_evict_everything(differ: Any, limits: Limits, policy: str) -> None:
    differ.run(SETUP)
    before = [int(info["evicted_keys"]) for info in limits.info("stats")]
    limits.oom(policy)  # CONFIG SET maxmemory evicts at once
    differ.run([("DBSIZE",), ("SET", "mm:s", "v"), ("DBSIZE",), ("GET", "mm:s")])
    after = [int(info["evicted_keys"]) for info in limits.info("stats")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [len(SETUP)] * 2


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random",
                                    "volatile-ttl"])
def test_volatile_policies_evict_only_volatile_keys(differ: Any, limits: Limits,
                                                     policy: str) -> None:
    differ.run([*SETUP, ("EXPIRE", "mm:s", "1000"), ("EXPIRE", "mm:l", "2000"),
                ("SET", "mm:t", "v", "EX", "3000")])
    limits.oom(policy)
    differ.run([("DBSIZE",), ("EXISTS", "mm:s", "mm:l", "mm:t", "mm:h"),
                ("SET", "mm:s", "w"), ("SET", "mm:u", "v", "EX", "10"), ("DBSIZE",),
                ("DEL", "mm:h"), ("DBSIZE",)])


def test_eviction_over_several_databases(differ: Any, limits: Limits) -> None:
    differ.run([("SET", "a", "1"), ("SELECT", "3"), ("SET", "b", "2"), ("SELECT", "0")])
    limits.oom("allkeys-random")
    differ.run([("DBSIZE",), ("SELECT", "3"), ("DBSIZE",), ("SELECT", "0")])


# -- MULTI / EXEC over the limit -------------------------------------------------------------


def test_queued_commands_refused_over_the_limit(over_limit: Any) -> None:
    over_limit.run([
        ("MULTI",), ("GET", "mm:s"), ("EXEC",),
        ("MULTI",), ("SET", "mm:s", "w"), ("EXEC",),
        ("MULTI",), ("PING",), ("DISCARD",),
        ("MULTI",), ("EXEC",),
        ("MULTI",), ("DEL", "mm:s"), ("EXEC",), ("EXISTS", "mm:s"),
        ("MULTI",), ("MULTI",), ("WATCH", "x"), ("NOSUCH",), ("EXEC",),
        ("MULTI",), ("RESET",), ("PING",),
    ], resp=(2, 3))


def _play(port: int, steps: list[tuple]) -> list[bytes]:
    """``(who, *args)`` steps: "a" the transaction's client, "b" another connection."""
    a, b = RawClient(port), RawClient(port)
    try:
        return [(a if who == "a" else b).call(*args) for who, *args in steps]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("queued", [
    [("SET", "mm:q", "1")],
    [("GET", "mm:q")],
    [("GET", "mm:q"), ("INCR", "mm:q")],
    [("DEL", "mm:q"), ("EXPIRE", "mm:q", "10")],
], ids=["denyoom", "read", "read-then-denyoom", "no-denyoom-writes"])
def test_transaction_opened_under_the_limit(differ: Any, limits: Limits, real_redis: Any,
                                            taipan: Any, queued: list) -> None:
    """Queued while under the limit; the limit drops (another client) before EXEC."""
    steps = [("a", "MULTI"), *(("a", *cmd) for cmd in queued),
             ("b", "CONFIG", "SET", "maxmemory", "1"),
             ("a", "EXEC"), ("a", "EXEC"), ("a", "PING"), ("a", "DISCARD"),
             ("b", "CONFIG", "SET", "maxmemory", "0"),
             ("a", "EXEC"), ("a", "GET", "mm:q")]
    expected = _play(real_redis.port, steps)
    actual = _play(taipan.port, steps)
    assert actual == expected


def test_exec_after_limit_lifted(differ: Any, limits: Limits, real_redis: Any,
                                 taipan: Any) -> None:
    """A refused EXEC discards the transaction (EXECABORT ... because of: OOM ...): once
    the limit is lifted there is no MULTI left, and nothing was written."""
    steps = [("a", "MULTI"), ("a", "SET", "mm:q", "1"),
             ("b", "CONFIG", "SET", "maxmemory", "1"), ("a", "EXEC"),
             ("b", "CONFIG", "SET", "maxmemory", "0"), ("a", "EXEC"), ("a", "GET", "mm:q")]
    assert _play(taipan.port, steps) == _play(real_redis.port, steps)


# -- scripts and functions over the limit -----------------------------------------------------

SCRIPTS = [
    "return redis.call('set',KEYS[1],'v')",
    "return redis.pcall('set',KEYS[1],'v')",
    "local r = redis.pcall('set',KEYS[1],'v'); return {type(r), r['err']}",
    "return redis.call('get',KEYS[1])",
    "#!lua\nreturn redis.call('set',KEYS[1],'v')",
    "#!lua\nreturn redis.call('get',KEYS[1])",
    "#!lua\nreturn 1",
    "#!lua flags=allow-oom\nreturn redis.call('set',KEYS[1],'v')",
    "#!lua flags=allow-oom\nreturn redis.call('get',KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('get',KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('set',KEYS[1],'v')",
    "#!lua flags=no-writes,allow-oom\nreturn redis.call('get',KEYS[1])",
    # DEL is no denyoom command; whether it deleted something decides the SET after it
    "redis.call('del','mm:missing'); return redis.call('set',KEYS[1],'v')",
    "redis.call('del','mm:del1'); return redis.call('set',KEYS[1],'v')",
    "redis.call('get',KEYS[1]); return redis.call('incr','mm:n')",
    "redis.call('expire','mm:s', 100); return redis.call('lpush','mm:l', 'z')",
    "redis.call('lpop','mm:l'); return redis.call('lpush','mm:l', 'z')",
    "return redis.call('lpop','mm:l')",
    "return redis.call('config','set','maxmemory-samples','5')",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_eval_over_the_limit(over_limit: Any, script: str) -> None:
    over_limit.run([("EVAL", script, "1", "mm:s"), ("GET", "mm:s"), ("EXISTS", "mm:del1"),
                    ("LRANGE", "mm:l", "0", "-1"), ("GET", "mm:n")])


@pytest.mark.parametrize("script", [
    "return redis.call('get',KEYS[1])",
    "return redis.call('set',KEYS[1],'v')",
    "#!lua\nreturn redis.call('get',KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('get',KEYS[1])",
])
def test_eval_ro_over_the_limit(over_limit: Any, script: str) -> None:
    over_limit.check("EVAL_RO", script, "1", "mm:s")


def test_evalsha_over_the_limit(over_limit: Any) -> None:
    for script in ("return redis.call('set',KEYS[1],'v')", "#!lua\nreturn 1",
                   "#!lua flags=allow-oom\nreturn redis.call('set',KEYS[1],'w')"):
        sha = over_limit.check("SCRIPT", "LOAD", script)
        over_limit.check("EVALSHA", sha.split(b"\r\n")[1], "1", "mm:s")
    over_limit.check("GET", "mm:s")


LIBRARY = """#!lua name=mmlib
redis.register_function('f_set', function(keys) return redis.call('set', keys[1], 'v') end)
redis.register_function('f_get', function(keys) return redis.call('get', keys[1]) end)
redis.register_function{function_name='f_oom', flags={'allow-oom'},
  callback=function(keys) return redis.call('set', keys[1], 'o') end}
redis.register_function{function_name='f_ro', flags={'no-writes'},
  callback=function(keys) return redis.call('get', keys[1]) end}
redis.register_function{function_name='f_ro_oom', flags={'no-writes', 'allow-oom'},
  callback=function(keys) return redis.call('get', keys[1]) end}
"""


def test_fcall_over_the_limit(differ: Any, limits: Limits) -> None:
    differ.run([*SETUP, ("FUNCTION", "LOAD", LIBRARY)])
    limits.oom()
    differ.run([
        ("FCALL", "f_set", "1", "mm:s"), ("FCALL", "f_get", "1", "mm:s"),
        ("FCALL", "f_oom", "1", "mm:s"), ("GET", "mm:s"),
        ("FCALL", "f_ro", "1", "mm:s"), ("FCALL", "f_ro_oom", "1", "mm:s"),
        ("FCALL_RO", "f_ro", "1", "mm:s"), ("FCALL_RO", "f_get", "1", "mm:s"),
        ("FCALL", "nosuch", "0"),
        ("FUNCTION", "LOAD", "REPLACE", LIBRARY),
        ("FUNCTION", "DELETE", "mmlib"), ("FUNCTION", "FLUSH"), ("FUNCTION", "LIST"),
    ])


# -- OBJECT FREQ / IDLETIME and the policy ------------------------------------------------------


POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "volatile-lfu", "volatile-ttl",
            "allkeys-random"]


@pytest.mark.parametrize("policy", POLICIES)
def test_object_freq_idletime_errors(differ: Any, limits: Limits, policy: str) -> None:
    """On an existing key: FREQ is an error unless the policy is LFU, IDLETIME an error
    when it is; otherwise FREQ/IDLETIME answer (IDLETIME's value is checked below)."""
    limits.set("maxmemory-policy", policy)
    differ.run([("SET", "mm:k", "v")])
    differ.check("OBJECT", "FREQ", "mm:k")
    if "lfu" in policy:
        differ.check("OBJECT", "IDLETIME", "mm:k")


@pytest.mark.parametrize("sub,policy", [(sub, policy) for sub in ("FREQ", "IDLETIME")
                                         for policy in POLICIES])
def test_object_freq_idletime_missing_key(differ: Any, limits: Limits, sub: str,
                                          policy: str) -> None:
    limits.set("maxmemory-policy", policy)
    assert differ.check("OBJECT", sub, "mm:missing") == b"$-1\r\n"


def _idle_after_writes(port: int, seconds: float) -> set[int]:
    """Every OBJECT IDLETIME seen right after a SET of the key, for ``seconds``."""
    client = redis.Redis(port=port)
    try:
        seen, deadline = set(), time.monotonic() + seconds
        while time.monotonic() < deadline:
            client.set("mm:k", "v")
            seen.add(client.object("idletime", "mm:k"))
        return seen
    finally:
        client.close()


@pytest.mark.parametrize("policy", ["noeviction", "allkeys-lru"])
def test_object_idletime_right_after_a_write(differ: Any, limits: Limits, real_redis: Any,
                                             taipan: Any, policy: str) -> None:
    """Over two second boundaries, a key just written is idle for 0 seconds, or 1 when
    the cron's cached clock ticks between the write and the read (Redis shows 1 too
    when the machine is busy)."""
    limits.set("maxmemory-policy", policy)
    assert 0 in _idle_after_writes(real_redis.port, 2.1) <= {0, 1}
    assert 0 in _idle_after_writes(taipan.port, 2.1) <= {0, 1}


def test_object_freq_counter_under_lfu(differ: Any, limits: Limits) -> None:
    """A new key's counter is LFU_INIT_VAL (5); an access while the counter is at the
    initial value always bumps it; with lfu-log-factor 0 every access does (SET on an
    existing key included: its lookup counts as one). Decay is off, so no minute
    boundary can change the figures. OBJECT FREQ itself touches nothing."""
    limits.set("lfu-decay-time", 0)
    limits.set("maxmemory-policy", "allkeys-lfu")
    differ.run([("SET", "mm:k", "v"), ("OBJECT", "FREQ", "mm:k"), ("OBJECT", "FREQ", "mm:k"),
                ("GET", "mm:k"), ("OBJECT", "FREQ", "mm:k"),
                ("SET", "mm:k2", "v", "EX", "100"), ("OBJECT", "FREQ", "mm:k2")])
    limits.set("lfu-log-factor", 0)
    differ.run([("SET", "mm:f", "v"), ("OBJECT", "FREQ", "mm:f"),
                ("GET", "mm:f"), ("OBJECT", "FREQ", "mm:f"),
                ("GET", "mm:f"), ("OBJECT", "FREQ", "mm:f"),
                ("SET", "mm:f", "w"), ("OBJECT", "FREQ", "mm:f"),
                ("APPEND", "mm:f", "x"), ("OBJECT", "FREQ", "mm:f"),
                ("EXISTS", "mm:f"), ("OBJECT", "FREQ", "mm:f"),
                ("TYPE", "mm:f"), ("OBJECT", "FREQ", "mm:f"),
                ("DEBUG", "OBJECT", "mm:missing")])


def test_object_freq_survives_rename(differ: Any, limits: Limits) -> None:
    limits.set("lfu-decay-time", 0)
    limits.set("lfu-log-factor", 0)
    limits.set("maxmemory-policy", "allkeys-lfu")
    differ.run([("SET", "mm:f", "v"), ("GET", "mm:f"), ("GET", "mm:f"),
                ("OBJECT", "FREQ", "mm:f"), ("RENAME", "mm:f", "mm:g"),
                ("OBJECT", "FREQ", "mm:g")])


# -- configuration ------------------------------------------------------------------------------

CONFIGS = [
    ("maxmemory", "100mb"), ("maxmemory", "1gb"), ("maxmemory", "12345"), ("maxmemory", "1k"),
    ("maxmemory", "-1"), ("maxmemory", "abc"), ("maxmemory", "1.5mb"), ("maxmemory", ""),
    ("maxmemory", "10%"), ("maxmemory", "0"),
    *(("maxmemory-policy", p) for p in ("allkeys-lru", "ALLKEYS-LFU", "volatile-ttl",
                                        "bogus", "", "noeviction")),
    ("maxmemory-samples", "10"), ("maxmemory-samples", "0"), ("maxmemory-samples", "64"),
    ("maxmemory-samples", "65"), ("maxmemory-samples", "x"), ("maxmemory-samples", "-1"),
    ("maxmemory-eviction-tenacity", "0"), ("maxmemory-eviction-tenacity", "100"),
    ("maxmemory-eviction-tenacity", "101"), ("maxmemory-eviction-tenacity", "-1"),
    ("maxmemory-clients", "10%"), ("maxmemory-clients", "0"), ("maxmemory-clients", "1mb"),
    ("maxmemory-clients", "101%"), ("maxmemory-clients", "-1"), ("maxmemory-clients", "x%"),
    ("maxmemory-clients", "100%"), ("maxmemory-clients", "1g"),
    ("lfu-log-factor", "0"), ("lfu-log-factor", "100"), ("lfu-log-factor", "-1"),
    ("lfu-log-factor", "2147483648"),
    ("lfu-decay-time", "0"), ("lfu-decay-time", "60"), ("lfu-decay-time", "-5"),
    ("lfu-decay-time", "1.5"),
]


@pytest.mark.parametrize("name,value", CONFIGS)
def test_config_set_and_get(differ: Any, limits: Limits, name: str, value: str) -> None:
    differ.check("CONFIG", "SET", name, value)
    differ.check("CONFIG", "GET", name)


def _pairs(raw: bytes) -> list[tuple[bytes, bytes]]:
    values = re.findall(rb"\$\d+\r\n([^\r]*)\r\n", raw)
    return sorted(zip(values[::2], values[1::2], strict=True))


@pytest.mark.parametrize("pattern", ["maxmemory*", "lfu-*", "*eviction*", "maxmemory-clients"])
def test_config_get_patterns(differ: Any, limits: Limits, pattern: str) -> None:
    limits.set("maxmemory-clients", "5%")
    limits.set("maxmemory-samples", 7)
    for resp in (2, 3):
        ref, ours = differ.both("CONFIG", "GET", pattern, resp=resp)
        assert _pairs(ours) == _pairs(ref)


def test_config_set_several_at_once(differ: Any, limits: Limits) -> None:
    differ.run([
        ("CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "maxmemory-samples", "3"),
        ("CONFIG", "GET", "maxmemory-samples"),
        ("CONFIG", "SET", "maxmemory-policy", "volatile-lru", "maxmemory-samples", "0"),
        ("CONFIG", "GET", "maxmemory-policy"),
        ("CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"),
    ])


# -- INFO fields ----------------------------------------------------------------------------------

MEMORY_FIELD = re.compile(r"used_memory.*|maxmemory.*|mem_.*|evicted_.*|.*eviction_exceeded.*")


def _field_types(info: dict) -> dict[str, str]:
    return {name: type(value).__name__ for name, value in info.items()
            if MEMORY_FIELD.fullmatch(name)}


@pytest.mark.parametrize("section", ["memory", "stats"])
def test_info_memory_fields(limits: Limits, section: str) -> None:
    ref, ours = limits.info(section)
    assert _field_types(ours) == _field_types(ref)


def test_info_maxmemory_values(differ: Any, limits: Limits) -> None:
    limits.set("maxmemory", "12345678")
    limits.set("maxmemory-policy", "allkeys-lfu")
    ref, ours = limits.info("memory")
    for name in ("maxmemory", "maxmemory_human", "maxmemory_policy"):
        assert ours[name] == ref[name], name
    ref, ours = limits.info("stats")
    assert ours["current_eviction_exceeded_time"] == ref["current_eviction_exceeded_time"] == 0


# -- the evicted keyspace event ---------------------------------------------------------------------

SENTINEL = "mm-sentinel"


def _evicted_events(port: int, limit: int | None, flags: str, keys: int,
                    size: int) -> tuple[list[tuple[bytes, ...]], int]:
    """Subscribe, write ``keys`` values of ``size`` bytes under allkeys-random with the
    limit (``None``: 1 byte, set after the writes), and collect the events and DBSIZE."""
    admin, sub = redis.Redis(port=port), RawClient(port)
    try:
        sub.call("PSUBSCRIBE", "__key*__:*")
        sub.call("SUBSCRIBE", SENTINEL)
        admin.config_set("notify-keyspace-events", flags)
        admin.config_set("maxmemory-policy", "allkeys-random")
        if limit is not None:
            admin.config_set("maxmemory", limit)
        for i in range(keys):
            admin.set(f"mm:ev:{i}", "x" * size)
        if limit is None:
            admin.config_set("maxmemory", 1)
        admin.publish(SENTINEL, "done")
        events = []
        while True:
            reply = sub.read_reply()
            parts = tuple(re.findall(rb"\$\d+\r\n([^\r]*)\r\n", reply))
            if parts[0] == b"message" and parts[1] == SENTINEL.encode():
                break
            events.append(parts)
        admin.config_set("maxmemory", 0)
        return events, admin.dbsize()
    finally:
        sub.close()
        admin.close()


@pytest.mark.parametrize("flags", ["Ee", "KEA", "Ke", "KA", "Eg"])
def test_evicted_events_for_every_key(limits: Limits, real_redis: Any, taipan: Any,
                                      flags: str) -> None:
    """maxmemory 1 evicts every key, so the events are the same set on both."""
    expected, ref_size = _evicted_events(real_redis.port, None, flags, 10, 10)
    actual, our_size = _evicted_events(taipan.port, None, flags, 10, 10)
    assert sorted(actual) == sorted(expected)
    assert our_size == ref_size == 0


def test_evicted_events_under_a_small_limit(limits: Limits, real_redis: Any,
                                            taipan: Any) -> None:
    """A limit a little above each server's own usage: some keys go (which ones is
    random); each eviction is one keyevent message naming a key that was written."""
    shapes = []
    for server in (real_redis, taipan):
        client = redis.Redis(port=server.port)
        used = client.info("memory")["used_memory"]
        client.close()
        events, size = _evicted_events(server.port, used + 200_000, "Ee", 200, 5000)
        assert events and 0 < size < 200
        keys = {event[3] for event in events}
        assert len(keys) == len(events) and all(k.startswith(b"mm:ev:") for k in keys)
        shapes.append({event[:3] for event in events})
    assert shapes[1] == shapes[0] == {(b"pmessage", b"__key*__:*", b"__keyevent@0__:evicted")}


def test_evictions_counted_in_info(limits: Limits, differ: Any) -> None:
    before = [int(info["evicted_keys"]) for info in limits.info("stats")]
    differ.run([("SET", "mm:a", "1"), ("SET", "mm:b", "2"), ("SET", "mm:c", "3")])
    limits.oom("allkeys-lru")
    differ.check("PING")
    after = [int(info["evicted_keys"]) for info in limits.info("stats")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 3]
    ref, ours = limits.info("stats")
    assert ours["evicted_clients"] == ref["evicted_clients"] == 0
