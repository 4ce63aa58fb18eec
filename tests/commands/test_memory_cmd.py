"""MEMORY USAGE / STATS / DOCTOR / PURGE / MALLOC-STATS through redis-py."""

from __future__ import annotations

import pytest
import redis


def _fill(r: redis.Redis, kind: str, key: str, count: int, width: int) -> None:
    item = "x" * width
    if kind == "string":
        r.set(key, item * count)
    elif kind == "list":
        r.rpush(key, *[f"{i}{item}" for i in range(count)])
    elif kind == "hash":
        r.hset(key, mapping={f"f{i}": f"{i}{item}" for i in range(count)})
    elif kind == "set":
        r.sadd(key, *[f"{i}{item}" for i in range(count)])
    elif kind == "intset":
        r.sadd(key, *range(count))
    elif kind == "zset":
        r.zadd(key, {f"{i}{item}": i for i in range(count)})
    elif kind == "stream":
        for i in range(count):
            r.xadd(key, {"f": f"{i}{item}"})
    elif kind == "hll":
        r.pfadd(key, *[f"e{i}" for i in range(count * 50)])


@pytest.mark.parametrize("kind", ["string", "list", "hash", "set", "intset", "zset", "stream",
                                  "hll"])
def test_usage_grows_with_the_value(r: redis.Redis, kind: str) -> None:
    _fill(r, kind, "small", 3, 4)
    _fill(r, kind, "big", 300, 40)
    small, big = r.memory_usage("small"), r.memory_usage("big")
    assert isinstance(small, int) and isinstance(big, int)
    assert 0 < small < big


def test_usage_counts_the_key_name(r: redis.Redis) -> None:
    r.set("k", "v")
    r.set("k" * 1000, "v")
    assert r.memory_usage("k" * 1000) > r.memory_usage("k") + 900


def test_usage_missing_key_is_null(r: redis.Redis) -> None:
    assert r.memory_usage("nokey") is None


def test_usage_samples(r: redis.Redis) -> None:
    # Small first elements, big later ones: sampling all sees the big ones.
    r.rpush("l", *["a"] * 5, *["b" * 1000] * 50)
    default = r.memory_usage("l")
    assert r.memory_usage("l", samples=5) == default
    assert r.memory_usage("l", samples=0) > default + 40000
    assert r.memory_usage("l", samples=1000) == r.memory_usage("l", samples=0)


@pytest.mark.parametrize("args, message", [
    (("SAMPLES", "-1"), "syntax error"),
    (("SAMPLES",), "syntax error"),
    (("FOO", "1"), "syntax error"),
    (("SAMPLES", "x"), "value is not an integer or out of range"),
])
def test_usage_errors(r: redis.Redis, args: tuple[str, ...], message: str) -> None:
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=message):
        r.execute_command("MEMORY", "USAGE", "k", *args)


def test_usage_does_not_count_keyspace_hits(r: redis.Redis) -> None:
    r.config_resetstat()
    r.set("k", "v")
    r.memory_usage("k")
    r.memory_usage("nokey")
    stats = r.info("stats")
    assert stats["keyspace_hits"] == 0 and stats["keyspace_misses"] == 0


def test_stats(r: redis.Redis) -> None:
    r.set("a", "1")
    r.set("b", "2", ex=100)
    r.select(2)
    r.set("c", "3")
    r.select(0)
    stats = r.memory_stats()
    names = list(stats)
    assert names[:10] == ["peak.allocated", "total.allocated", "startup.allocated",
                          "replication.backlog", "clients.slaves", "clients.normal",
                          "cluster.links", "aof.buffer", "lua.caches", "functions.caches"]
    assert names[10:12] == ["db.0", "db.2"]
    assert names[-1] == "fragmentation.bytes" and len(names) == 29
    assert stats["keys.count"] == 3
    assert stats["db.0"]["overhead.hashtable.expires"] > 0
    assert stats["db.2"]["overhead.hashtable.expires"] == 0
    assert stats["db.2"]["overhead.hashtable.slot-to-keys"] == 0
    assert stats["total.allocated"] <= stats["peak.allocated"]
    assert stats["keys.bytes-per-key"] > 0
    assert isinstance(stats["dataset.percentage"], float)


def test_stats_resp3(r3: redis.Redis) -> None:
    r3.set("a", "1")
    stats = r3.execute_command("MEMORY", "STATS")
    assert isinstance(stats, dict) and stats[b"keys.count"] == 1
    assert isinstance(stats[b"fragmentation"], float)


def test_doctor(r: redis.Redis) -> None:
    # redis-py's memory_doctor() refuses on purpose; the command itself works.
    report = r.execute_command("MEMORY", "DOCTOR")
    text = report.decode() if isinstance(report, bytes) else report
    assert text.startswith(("Hi Sam", "Sam, I detected"))
    assert text.endswith("\n")


def test_doctor_reports_from_real_figures() -> None:
    from support.servers import start_taipan

    process = start_taipan()
    try:
        client = redis.Redis(port=process.port)
        doctor = lambda: client.execute_command("MEMORY", "DOCTOR").decode()  # noqa: E731
        assert doctor().startswith("Hi Sam, this instance is empty")
        pipe = client.pipeline(transaction=False)
        for i in range(20_000):
            pipe.set(f"k:{i}", b"v" * 1000)
        pipe.execute()
        assert doctor() == ("Hi Sam, I can't find any memory issue in your instance. "
                            "I can only account for what occurs on this base.\n")
        # Back under two thirds of the peak: the peak is reported.
        for i in range(0, 20_000, 1000):
            client.delete(*[f"k:{j}" for j in range(i, i + 700)])
        report = doctor()
        assert report.startswith("Sam, I detected a few issues")
        assert " * Peak memory:" in report
        assert report.endswith("I'm here to keep you safe, Sam. I want to help you.\n")
    finally:
        process.stop()


def test_purge_and_malloc_stats(r: redis.Redis) -> None:
    assert r.memory_purge() is True
    assert r.execute_command("MEMORY", "MALLOC-STATS") == \
        b"Stats not supported for the current allocator"


def test_help(r: redis.Redis) -> None:
    lines = r.execute_command("MEMORY", "HELP")
    assert lines[0].startswith(b"MEMORY <subcommand>")
    assert b"USAGE <key> [SAMPLES <count>]" in lines
