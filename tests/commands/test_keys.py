"""Generic key and database commands through redis-py against a running Taipan."""

from __future__ import annotations

import time

import pytest
import redis


def test_del_exists_type_touch(r: redis.Redis) -> None:
    r.mset({"a": "1", "b": "2"})
    r.rpush("l", "x")
    assert r.exists("a", "a", "missing") == 2
    assert r.touch("a", "missing") == 1
    assert r.type("a") == b"string"
    assert r.type("l") == b"list"
    assert r.type("missing") == b"none"
    assert r.delete("a", "missing", "a") == 1
    assert r.unlink("b", "l") == 2
    assert r.dbsize() == 0


def test_keys_and_randomkey(r: redis.Redis) -> None:
    assert r.randomkey() is None
    r.mset({"one": "1", "two": "2", "three": "3"})
    assert sorted(r.keys("t*")) == [b"three", b"two"]
    assert sorted(r.keys()) == [b"one", b"three", b"two"]
    assert r.randomkey() in (b"one", b"two", b"three")


def test_randomkey_skips_expired(r: redis.Redis) -> None:
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        for i in range(200):
            r.set(f"x{i}", "1", px=1)
        r.set("live", "1")
        time.sleep(0.01)
        assert r.randomkey() == b"live"
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_rename(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.rename("missing", "x")
    r.set("a", "1", ex=100)
    assert r.rename("a", "b") is True
    assert r.get("b") == b"1" and r.ttl("b") > 0
    r.set("c", "3")
    assert r.renamenx("b", "c") is False
    assert r.renamenx("b", "d") is True
    assert r.rename("d", "d") is True


def test_copy(r: redis.Redis) -> None:
    r.set("src", "v", ex=100)
    assert r.copy("src", "dst") is True
    assert r.ttl("dst") > 0
    assert r.copy("src", "dst") is False
    r.set("src", "w")
    assert r.copy("src", "dst", replace=True) is True
    assert r.get("dst") == b"w"
    assert r.copy("src", "dst", destination_db=1) is True
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        r.copy("src", "src")
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.copy("src", "x", destination_db=16)
    r.rpush("l", "a")
    r.copy("l", "l2")
    r.rpush("l2", "b")
    assert r.lrange("l", 0, -1) == [b"a"]


def test_move_and_swapdb(r: redis.Redis) -> None:
    r.set("k", "v")
    assert r.move("k", 1) is True
    assert r.move("k", 1) is False
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        r.move("k", 0)
    r1 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=1)
    try:
        assert r1.get("k") == b"v"
        r.set("zero", "0")
        assert r.swapdb(0, 1) is True
        assert r.get("k") == b"v" and r1.get("zero") == b"0"
    finally:
        r1.close()
    with pytest.raises(redis.ResponseError, match="invalid first DB index"):
        r.execute_command("SWAPDB", "x", "0")
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.swapdb(0, 16)


def test_flush(r: redis.Redis) -> None:
    r.set("a", "1")
    assert r.flushdb(asynchronous=True) is True
    assert r.dbsize() == 0
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("FLUSHALL", "NOW")


def test_scan_complete_and_filters(r: redis.Redis) -> None:
    r.mset({f"key:{i}": i for i in range(300)})
    r.rpush("alist", "x")
    assert set(r.scan_iter(count=7)) == {f"key:{i}".encode() for i in range(300)} | {b"alist"}
    assert set(r.scan_iter(match="key:1?")) == {f"key:1{i}".encode() for i in range(10)}
    assert list(r.scan_iter(_type="list")) == [b"alist"]
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.scan(cursor="x")  # type: ignore[arg-type]
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SCAN", "0", "COUNT", "0")


def test_scan_returns_keys_present_throughout(r: redis.Redis) -> None:
    stable = {f"s{i}".encode() for i in range(200)}
    r.mset({key: 1 for key in stable})
    cursor, seen, round_ = 0, set(), 0
    while True:
        cursor, keys = r.scan(cursor, count=5)
        seen.update(keys)
        r.mset({f"new{round_}-{i}": 1 for i in range(10)})
        round_ += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_object_and_keyspace_stats(r: redis.Redis) -> None:
    r.set("k", "v")
    r.config_resetstat()
    r.ttl("k")
    r.exists("missing")
    stats = r.info("stats")
    assert stats["keyspace_hits"] == 1 and stats["keyspace_misses"] == 1
    assert r.object("refcount", "k") == 1
