"""Commands that create and drop values leave no memory behind, on either build.

mypyc before 2.2 leaked the left operand of every compiled ``bytes + bytes`` (its
primitive claimed to steal it): a ZADD leaked its 8-byte score prefix, a SAVE every
listpack entry. Tracing allocations across repeated create/drop cycles catches that
kind of bug whatever the construct, since compiled code allocates through the same
allocator tracemalloc watches.
"""

from __future__ import annotations

import gc
import io
import tracemalloc
from collections.abc import Callable

import pytest

from taipan.dispatch import Dispatcher
from taipan.instance import Instance
from taipan.net.client import Client
from taipan.persistence.rdb_file import write_snapshot


@pytest.fixture
def run() -> Callable[[list[bytes]], object]:
    instance = Instance()
    dispatcher = Dispatcher(instance)
    client = Client(1, instance)
    # (per-command latency samples are buffered until the cron folds them)
    dispatcher.execute(client, [b"CONFIG", b"SET", b"latency-tracking", b"no"])

    def execute(argv: list[bytes]) -> object:
        return dispatcher.execute(client, argv)

    execute.instance = instance  # type: ignore[attr-defined]
    return execute


def _growth_per_cycle(cycle: Callable[[int], None], cycles: int = 2000) -> float:
    """Bytes still allocated per cycle after ``cycles`` cycles (after a warm-up)."""
    for i in range(200):
        cycle(i)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(cycles):
            cycle(i)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / cycles


def test_write_commands_leave_nothing_behind(run) -> None:  # noqa: ANN001
    db = run.instance.databases[0]

    def cycle(i: int) -> None:
        member = b"member:%d" % i
        run([b"ZADD", b"z", b"1.5", member, b"2", b"other"])
        run([b"ZINCRBY", b"z", b"3", member])
        run([b"ZREM", b"z", member])
        run([b"HSET", b"h", b"f", member])
        run([b"SADD", b"s", member, b"7"])
        run([b"RPUSH", b"l", member])
        run([b"LPOP", b"l"])
        run([b"INCR", b"n"])
        run([b"APPEND", b"a", b"x"])
        run([b"SET", b"a", b"y"])
        db.pack_loose()  # packing, reading and writing where it rests, opening again
        run([b"HGET", b"h", b"f"])
        run([b"HSET", b"h", b"g", member])
        run([b"ZSCORE", b"z", b"other"])
        run([b"LRANGE", b"l", b"0", b"-1"])
        run([b"DEL", b"z", b"h", b"s", b"l"])

    assert _growth_per_cycle(cycle) < 8


def test_saving_and_dumping_leave_nothing_behind(run) -> None:  # noqa: ANN001
    instance = run.instance
    for i in range(5):
        run([b"HSET", b"h%d" % i, b"f", b"v%d" % i, b"g", b"123"])
        run([b"ZADD", b"z%d" % i, b"1", b"a", b"2.5", b"b"])
        run([b"RPUSH", b"l%d" % i, b"x", b"-5", b"y" * 80])
        run([b"SADD", b"s%d" % i, b"1", b"2"])
        run([b"SET", b"k%d" % i, b"value-%d" % i * 5])
    instance.databases[0].pack_loose()

    def cycle(i: int) -> None:
        write_snapshot(io.BytesIO(), instance.databases, instance.config, [], [])
        payload = run([b"DUMP", b"z3"])
        run([b"RESTORE", b"copy", b"0", payload, b"REPLACE"])

    assert _growth_per_cycle(cycle, cycles=1500) < 8


def test_scripts_leave_nothing_behind(run) -> None:  # noqa: ANN001
    """EVAL/EVALSHA through the scripting layer (compiled in the mypyc build): calls,
    reply conversion both ways, an error reply a script catches. (An error raised
    through redis.call is left out: Lua holds the exception until its own GC runs,
    which tracing sees as growth.)"""
    script = (b"redis.call('SET', KEYS[1], ARGV[1]) "
              b"local t = redis.call('HGETALL', KEYS[2]) "
              b"local e = redis.pcall('INCR', KEYS[1]) "
              b"return {redis.call('GET', KEYS[1]), #t, e['err'] and 1, {ok='fine'}}")
    sha = run([b"SCRIPT", b"LOAD", script])
    run([b"HSET", b"h", b"f", b"v", b"g", b"w"])

    def cycle(i: int) -> None:
        reply = run([b"EVALSHA", sha, b"2", b"k", b"h", b"value:%d" % i])
        assert reply[0] == b"value:%d" % i
        run([b"EVAL", b"return redis.status_reply('x')", b"0"])

    assert _growth_per_cycle(cycle, cycles=1500) < 8
