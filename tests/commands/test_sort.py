"""SORT and SORT_RO through redis-py, as applications use them."""

from __future__ import annotations

import random
import time

import pytest
import redis


def test_numeric_and_alpha(r: redis.Redis) -> None:
    r.rpush("l", "3", "1", "2", "10", "1.5")
    assert r.sort("l") == [b"1", b"1.5", b"2", b"3", b"10"]
    assert r.sort("l", desc=True) == [b"10", b"3", b"2", b"1.5", b"1"]
    assert r.sort("l", alpha=True) == [b"1", b"1.5", b"10", b"2", b"3"]
    assert r.sort("l", start=1, num=2) == [b"1.5", b"2"]
    assert r.sort_ro("l", alpha=True, desc=True) == [b"3", b"2", b"10", b"1.5", b"1"]
    assert r.sort("missing") == []


def test_sort_by_weights_and_get_fields(r: redis.Redis) -> None:
    r.rpush("users", "1", "2", "3")
    r.mset({"weight_1": "30", "weight_2": "10", "weight_3": "20"})
    for uid, name in (("1", "ann"), ("2", "bob"), ("3", "cy")):
        r.hset(f"user:{uid}", mapping={"name": name, "age": str(20 + int(uid))})
    assert r.sort("users", by="weight_*") == [b"2", b"3", b"1"]
    assert r.sort("users", by="weight_*", get="user:*->name") == [b"bob", b"cy", b"ann"]
    assert r.sort("users", by="user:*->age", desc=True, get=["#", "user:*->name"],
                  groups=True) == [(b"3", b"cy"), (b"2", b"bob"), (b"1", b"ann")]
    assert r.sort("users", by="nosort", get="user:*->missing") == [None, None, None]
    assert r.sort_ro("users", by="weight_*", get="weight_*") == [b"10", b"20", b"30"]


def test_store_replaces_and_counts(r: redis.Redis) -> None:
    r.sadd("s", "c", "a", "b")
    r.set("dst", "old", ex=100)
    assert r.sort("s", alpha=True, store="dst") == 3
    assert r.lrange("dst", 0, -1) == [b"a", b"b", b"c"]
    assert r.ttl("dst") == -1
    assert r.sort("s", alpha=True, start=5, num=1, store="dst") == 0
    assert not r.exists("dst")
    # BY nosort on a set is sorted ALPHA when stored, so replicas agree.
    assert r.sort("s", by="nosort", store="dst") == 3
    assert r.lrange("dst", 0, -1) == [b"a", b"b", b"c"]
    assert r.sort("s", by="nosort", get=["#", "nokey_*"], store="dst") == 6
    assert r.lrange("dst", 0, -1) == [b"a", b"", b"b", b"", b"c", b""]


def test_sorted_set_by_nosort_keeps_score_order(r: redis.Redis) -> None:
    r.zadd("z", {"c": 1, "a": 2, "d": 3, "b": 4})
    assert r.sort("z", alpha=True) == [b"a", b"b", b"c", b"d"]
    assert r.sort("z", by="nosort") == [b"c", b"a", b"d", b"b"]
    assert r.sort("z", by="nosort", desc=True, start=1, num=2) == [b"d", b"a"]


def test_set_by_nosort_returns_every_member(r: redis.Redis) -> None:
    r.sadd("ints", "5", "3", "10")
    assert r.sort("ints", by="nosort") == [b"3", b"5", b"10"]  # an intset, ascending
    r.sadd("words", "x", "y", "z", "w")
    assert sorted(r.sort("words", by="nosort")) == [b"w", b"x", b"y", b"z"]


def test_errors(r: redis.Redis) -> None:
    r.rpush("l", "1", "x")
    with pytest.raises(redis.ResponseError, match="^One or more scores can't be converted "
                                                  "into double$"):
        r.sort("l")
    assert r.sort("l", alpha=True) == [b"1", b"x"]
    r.set("str", "1")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.sort("str")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SORT", "l", "LIMIT", "1")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SORT_RO", "l", "STORE", "dst")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("SORT", "l", "LIMIT", "a", "1")


def test_transaction_and_resp3(taipan) -> None:
    client = redis.Redis(port=taipan.port, protocol=3)
    try:
        client.flushall()
        client.rpush("l", "b", "a")
        with client.pipeline() as pipe:
            pipe.sort("l", alpha=True, store="dst").lrange("dst", 0, -1)
            assert pipe.execute() == [2, [b"a", b"b"]]
        assert client.sort("l", by="nosort", get=["#", "none_*"]) == [b"b", None, b"a", None]
    finally:
        client.close()


def test_large_sorts_stay_quick(r: redis.Redis) -> None:
    rng = random.Random(1)
    r.rpush("big", *[str(rng.randrange(10**6)) for _ in range(50000)])
    r.mset({f"w_{i}": rng.choice("abc") for i in range(0, 10**6, 97)})
    began = time.perf_counter()
    numbers = r.sort("big")
    words = r.sort("big", alpha=True, desc=True)
    top = r.sort("big", by="w_*", alpha=True, start=0, num=10)  # many ties: partial quicksort
    assert time.perf_counter() - began < 10
    assert [float(x) for x in numbers] == sorted(float(x) for x in numbers)
    assert words == sorted(words, reverse=True)
    assert len(top) == 10 and all(not r.exists(f"w_{int(x)}") for x in top)
