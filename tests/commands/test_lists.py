"""List commands through redis-py, as applications (queues, feeds, capped logs) use them.

The last tests run in-process: what a list command propagates (AOF, replicas) and
the cost of LPUSH and LRANGE on large lists.
"""

from __future__ import annotations

import time

import pytest
import redis

from taipan.dispatch import Dispatcher
from taipan.instance import Instance
from taipan.net.client import Client


def test_push_pop_as_a_queue_and_a_stack(r: redis.Redis) -> None:
    assert r.rpush("jobs", "a", "b", "c") == 3
    assert r.lpush("jobs", "z") == 4
    assert r.lpop("jobs") == b"z"
    assert r.rpop("jobs") == b"c"
    assert r.lpop("jobs", 5) == [b"a", b"b"]
    assert r.exists("jobs") == 0
    assert r.lpop("jobs") is None
    assert r.lpop("jobs", 2) is None
    assert r.lpushx("jobs", "x") == 0 and r.rpushx("jobs", "x") == 0
    assert r.exists("jobs") == 0
    r.rpush("jobs", "a")
    assert r.rpushx("jobs", "b", "c") == 3 and r.lpushx("jobs", "0") == 4
    assert r.lrange("jobs", 0, -1) == [b"0", b"a", b"b", b"c"]
    assert r.rpop("jobs", 0) == []
    assert r.rpop("jobs", 2) == [b"c", b"b"]


def test_pop_count_errors(r: redis.Redis) -> None:
    r.rpush("l", "a")
    for count in ("-1", "x", "9223372036854775808"):
        with pytest.raises(redis.ResponseError, match="^value is out of range, must be positive$"):
            r.execute_command("LPOP", "l", count)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'rpop'"):
        r.execute_command("RPOP", "l", "1", "2")


def test_index_set_insert(r: redis.Redis) -> None:
    r.rpush("l", "a", "b", "c")
    assert r.llen("l") == 3 and r.llen("missing") == 0
    assert r.lindex("l", 0) == b"a" and r.lindex("l", -1) == b"c"
    assert r.lindex("l", 3) is None and r.lindex("l", -4) is None
    assert r.lindex("missing", 0) is None
    assert r.lset("l", -1, "C") is True
    with pytest.raises(redis.ResponseError, match="^index out of range$"):
        r.lset("l", 3, "x")
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        r.lset("missing", 0, "x")
    assert r.linsert("l", "before", "b", "ab") == 4
    assert r.linsert("l", "AFTER", "C", "D") == 5
    assert r.linsert("l", "after", "nope", "x") == -1
    assert r.linsert("missing", "after", "a", "x") == 0
    assert r.lrange("l", 0, -1) == [b"a", b"ab", b"b", b"C", b"D"]
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("LINSERT", "l", "AROUND", "a", "x")


def test_ranges_and_trimming_a_capped_log(r: redis.Redis) -> None:
    for n in range(10):
        r.lpush("log", n)
        r.ltrim("log", 0, 4)
    assert r.lrange("log", 0, -1) == [b"9", b"8", b"7", b"6", b"5"]
    assert r.lrange("log", -2, 100) == [b"6", b"5"]
    assert r.lrange("log", 3, 1) == [] and r.lrange("missing", 0, -1) == []
    assert r.ltrim("log", 5, 10) is True
    assert r.exists("log") == 0


def test_lrem_and_lpos(r: redis.Redis) -> None:
    r.rpush("l", "a", "b", "a", "c", "a")
    assert r.lpos("l", "a") == 0
    assert r.lpos("l", "a", rank=-1) == 4
    assert r.lpos("l", "a", rank=2, count=0) == [2, 4]
    assert r.lpos("l", "a", count=0, maxlen=3) == [0, 2]
    assert r.lpos("l", "z") is None and r.lpos("l", "z", count=1) == []
    with pytest.raises(redis.ResponseError, match="RANK can't be zero"):
        r.lpos("l", "a", rank=0)
    with pytest.raises(redis.ResponseError, match="^COUNT can't be negative$"):
        r.lpos("l", "a", count=-1)
    with pytest.raises(redis.ResponseError, match="^MAXLEN can't be negative$"):
        r.lpos("l", "a", maxlen=-1)
    assert r.lrem("l", -1, "a") == 1
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"a", b"c"]
    assert r.lrem("l", 1, "a") == 1 and r.lrem("l", 0, "nope") == 0
    assert r.lrem("l", 0, "b") == 1 and r.lrem("l", 0, "a") == 1
    assert r.lrem("l", 0, "c") == 1
    assert r.exists("l") == 0


def test_moves_between_lists(r: redis.Redis) -> None:
    r.rpush("src", "a", "b", "c")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"a"
    assert r.rpoplpush("src", "dst") == b"c"
    assert r.lrange("dst", 0, -1) == [b"c", b"a"]
    assert r.lmove("src", "src", "RIGHT", "LEFT") == b"b"  # rotation of a 1-item list
    assert r.lrange("src", 0, -1) == [b"b"]
    assert r.rpoplpush("missing", "dst") is None
    assert r.lmove("src", "dst", "LEFT", "LEFT") == b"b"
    assert r.exists("src") == 0
    r.set("text", "x")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.lmove("dst", "text", "LEFT", "LEFT")
    assert r.llen("dst") == 3  # nothing was popped
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("LMOVE", "dst", "x", "UP", "LEFT")


def test_lmpop(r: redis.Redis, r3: redis.Redis) -> None:
    r.rpush("b", "1", "2", "3")
    assert r.lmpop(2, "a", "b", direction="RIGHT", count=2) == [b"b", [b"3", b"2"]]
    assert r.lmpop(1, "b", direction="LEFT", count=10) == [b"b", [b"1"]]
    assert r.exists("b") == 0
    assert r.lmpop(2, "a", "b", direction="LEFT") is None
    assert r3.lmpop(1, "a", direction="LEFT") is None
    with pytest.raises(redis.ResponseError, match="^numkeys should be greater than 0$"):
        r.execute_command("LMPOP", "0", "a", "LEFT")
    with pytest.raises(redis.ResponseError, match="^count should be greater than 0$"):
        r.execute_command("LMPOP", "1", "a", "LEFT", "COUNT", "0")


def test_wrong_type(r: redis.Redis) -> None:
    r.set("s", "x")
    for args in (("LPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("LPOP", "s"), ("LLEN", "s"),
                 ("LINDEX", "s", "0"), ("LRANGE", "s", "0", "1"), ("LSET", "s", "0", "a"),
                 ("LREM", "s", "0", "a"), ("LTRIM", "s", "0", "1"), ("LPOS", "s", "a"),
                 ("LINSERT", "s", "BEFORE", "a", "b"), ("LMPOP", "1", "s", "LEFT"),
                 ("RPOPLPUSH", "s", "d")):
        with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
            r.execute_command(*args)


def test_binary_elements(r: redis.Redis) -> None:
    blob = bytes(range(256)) + b"\r\n\x00"
    r.rpush("bin", blob, b"", b"\x00")
    assert r.lrange("bin", 0, -1) == [blob, b"", b"\x00"]
    assert r.lpos("bin", b"\x00") == 2 and r.lpos("bin", b"") == 1
    assert r.lrem("bin", 0, blob) == 1
    assert r.type("bin") == b"list" and r.object("encoding", "bin") == b"quicklist"


def test_watch_sees_list_writes(r: redis.Redis) -> None:
    r.rpush("l", "a", "b")
    with r.pipeline() as pipe:
        pipe.watch("l")
        r.ltrim("l", 0, -1)  # trims nothing, yet touches the key, as in Redis
        pipe.multi()
        pipe.llen("l")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    with r.pipeline() as pipe:
        pipe.watch("l")
        r.lrem("l", 0, "nope")  # removes nothing: the key is untouched
        r.linsert("l", "before", "nope", "x")
        pipe.multi()
        pipe.llen("l")
        assert pipe.execute() == [2]


# -- in-process: propagation and cost ---------------------------------------------------

@pytest.fixture
def local() -> tuple[Dispatcher, Client, list[list[bytes]]]:
    """A dispatcher on an in-process instance, with every propagated write recorded."""
    instance = Instance()
    dispatcher = Dispatcher(instance)
    propagated: list[list[bytes]] = []
    instance.propagators.append(lambda db, argv: propagated.append(argv))
    return dispatcher, Client(1, instance), propagated


def run(local: tuple[Dispatcher, Client, list[list[bytes]]], *args: str) -> object:
    dispatcher, client, _ = local
    return dispatcher.execute(client, [arg.encode() for arg in args])


def test_propagation_matches_redis(local: tuple[Dispatcher, Client, list[list[bytes]]]) -> None:
    """What Redis 7.0 writes to its AOF for the same commands."""
    propagated = local[2]
    run(local, "RPUSH", "l", "a", "b", "c", "d")
    run(local, "LMPOP", "1", "l", "LEFT", "COUNT", "2")
    run(local, "LMPOP", "2", "x", "l", "RIGHT", "COUNT", "10")
    run(local, "RPUSH", "l", "a")
    run(local, "LTRIM", "l", "0", "-1")  # nothing removed: not propagated
    run(local, "LPOP", "l", "0")
    run(local, "LREM", "l", "0", "zz")
    run(local, "LINSERT", "l", "BEFORE", "zz", "x")
    run(local, "LMOVE", "l", "l", "LEFT", "RIGHT")
    assert propagated == [
        [b"RPUSH", b"l", b"a", b"b", b"c", b"d"],
        [b"LPOP", b"l", b"2"],
        [b"RPOP", b"l", b"2"],
        [b"RPUSH", b"l", b"a"],
        [b"LMOVE", b"l", b"l", b"LEFT", b"RIGHT"],
    ]


def test_big_list_costs(local: tuple[Dispatcher, Client, list[list[bytes]]]) -> None:
    """Positional commands near either end of a million items stay well under 1 ms."""
    dispatcher, client, _ = local
    values = [b"%d" % i for i in range(1_000_000)]
    for start in range(0, len(values), 50_000):
        dispatcher.execute(client, [b"RPUSH", b"big", *values[start:start + 50_000]])
    for argv, expected in (
        ([b"LRANGE", b"big", b"0", b"99"], values[:100]),
        ([b"LRANGE", b"big", b"-100", b"-1"], values[-100:]),
        ([b"LRANGE", b"big", b"999000", b"999099"], values[999_000:999_100]),
        ([b"LINDEX", b"big", b"-2"], values[-2]),
        ([b"LINDEX", b"big", b"999990"], values[999_990]),
        ([b"LSET", b"big", b"999990", b"x"], b"OK"),
    ):
        started = time.perf_counter()
        reply = dispatcher.execute(client, argv)
        elapsed = time.perf_counter() - started
        assert reply == expected or str(reply) == "OK"
        assert elapsed < 0.001, f"{argv!r}: {elapsed * 1e6:.0f} µs"
    started = time.perf_counter()
    dispatcher.execute(client, [b"LTRIM", b"big", b"1", b"-2"])  # removes 2 items
    assert time.perf_counter() - started < 0.001
