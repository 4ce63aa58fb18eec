"""Sorted-set commands through redis-py, as applications use them."""

from __future__ import annotations

import math

import pytest
import redis


def test_zadd_and_scores(r: redis.Redis) -> None:
    assert r.zadd("board", {"alice": 10, "bob": 20, "carol": 15}) == 3
    assert r.zadd("board", {"alice": 12, "dave": 1}, ch=True) == 2
    assert r.zadd("board", {"alice": 99}, nx=True) == 0
    assert r.zadd("board", {"erin": 5}, xx=True) == 0
    assert r.zadd("board", {"alice": 11}, gt=True, ch=True) == 0
    assert r.zadd("board", {"alice": 11}, lt=True, ch=True) == 1
    assert r.zadd("board", {"alice": 2.5}, incr=True) == 13.5
    assert r.zadd("board", {"zed": 1}, xx=True, incr=True) is None
    assert r.zscore("board", "alice") == 13.5
    assert r.zscore("board", "nobody") is None
    assert r.zmscore("board", ["bob", "nobody", "dave"]) == [20.0, None, 1.0]
    assert r.zcard("board") == 4 and r.zcard("missing") == 0
    assert r.zincrby("board", 0.5, "dave") == 1.5
    assert r.zincrby("board", float("inf"), "dave") == math.inf
    with pytest.raises(redis.ResponseError, match="not a number"):
        r.zincrby("board", float("-inf"), "dave")
    with pytest.raises(redis.ResponseError, match="XX and NX"):
        r.execute_command("ZADD", "board", "NX", "XX", "1", "x")
    r.set("text", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.zadd("text", {"x": 1})


def test_ranks_and_ranges(r: redis.Redis) -> None:
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zrank("z", "c") == 2 and r.zrevrank("z", "c") == 2 and r.zrank("z", "x") is None
    assert r.zrange("z", 0, 1) == [b"a", b"b"]
    assert r.zrange("z", 0, 1, desc=True, withscores=True) == [(b"e", 5.0), (b"d", 4.0)]
    assert r.zrange("z", "(1", 4, byscore=True, offset=1, num=2) == [b"c", b"d"]
    assert r.zrange("z", "[b", "(d", bylex=True) == [b"b", b"c"]
    assert r.zrevrange("z", 0, 0, withscores=True) == [(b"e", 5.0)]
    assert r.zrangebyscore("z", 2, "+inf", start=0, num=2, withscores=True) == [
        (b"b", 2.0), (b"c", 3.0)]
    assert r.zrevrangebyscore("z", "(5", "-inf") == [b"d", b"c", b"b", b"a"]
    assert r.zrangebylex("z", "-", "+", start=3, num=5) == [b"d", b"e"]
    assert r.zrevrangebylex("z", "[c", "-") == [b"c", b"b", b"a"]
    assert r.zcount("z", "(1", 3) == 2 and r.zlexcount("z", "[b", "+") == 4
    assert r.zrangestore("top", "z", 0, 1, desc=True) == 2
    assert r.zrange("top", 0, -1, withscores=True) == [(b"d", 4.0), (b"e", 5.0)]
    with pytest.raises(redis.ResponseError, match="min or max is not a float"):
        r.zrangebyscore("z", "x", 1)
    with pytest.raises(redis.ResponseError, match="not valid string range item"):
        r.zrangebylex("z", "a", "b")


def test_removals(r: redis.Redis) -> None:
    r.zadd("z", {m: i for i, m in enumerate("abcdefgh")})
    assert r.zrem("z", "a", "nope") == 1
    assert r.zremrangebyrank("z", 0, 1) == 2
    assert r.zremrangebyscore("z", "(4", 5) == 1
    assert r.zremrangebylex("z", "[g", "+") == 2
    assert r.zrange("z", 0, -1) == [b"d", b"e"]
    assert r.zremrangebyrank("z", 0, -1) == 2
    assert r.exists("z") == 0


def test_pops(r: redis.Redis, r3: redis.Redis) -> None:
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zpopmin("z") == [(b"a", 1.0)]
    assert r.zpopmax("z", 2) == [(b"d", 4.0), (b"c", 3.0)]
    assert r.zmpop(2, ["missing", "z"], min=True, count=5) == [b"z", [[b"b", b"2"]]]
    assert r.zmpop(1, ["z"], max=True) is None
    assert r.exists("z") == 0
    r3.zadd("y", {"a": 1, "b": 2})
    assert r3.zpopmin("y", 1) == [[b"a", 1.0]]
    assert r3.zpopmax("y") == [b"b", 2.0]


def test_set_algebra(r: redis.Redis) -> None:
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    assert r.zunion(["a", "b"], withscores=True) == [
        (b"x", 1.0), (b"y", 12.0), (b"z", 23.0), (b"w", 30.0)]
    assert r.zinter({"a": 2, "b": 1}, aggregate="MIN", withscores=True) == [
        (b"y", 4.0), (b"z", 6.0)]
    assert r.zdiff(["a", "b"], withscores=True) == [b"x", b"1"]  # redis-py leaves it flat
    assert r.zunionstore("u", ["a", "b"], aggregate="MAX") == 4
    assert r.zrange("u", 0, -1, withscores=True)[-1] == (b"w", 30.0)
    assert r.zinterstore("i", ["a", "b"]) == 2
    assert r.zdiffstore("d", ["b", "a"]) == 1 and r.zrange("d", 0, -1) == [b"w"]
    assert r.zintercard(2, ["a", "b"]) == 2 and r.zintercard(2, ["a", "b"], limit=1) == 1
    assert r.zinterstore("i", ["a", "missing"]) == 0 and r.exists("i") == 0


def test_zrandmember(r: redis.Redis) -> None:
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrandmember("z") in (b"a", b"b", b"c")
    assert r.zrandmember("missing") is None
    assert sorted(r.zrandmember("z", 2)) != [] and len(set(r.zrandmember("z", 2))) == 2
    assert len(r.zrandmember("z", -10)) == 10
    assert r.zrandmember("z", 5, withscores=True) == [b"c", b"3", b"b", b"2", b"a", b"1"]


def test_zscan(r: redis.Redis) -> None:
    small = {f"m{i}": i for i in range(10)}
    r.zadd("small", small)
    assert r.zscan("small", 0, match="m1*") == (0, [(b"m1", 1.0)])
    big = {f"m{i}": i / 2 for i in range(500)}
    r.zadd("big", big)
    assert dict(r.zscan_iter("big", count=50)) == {k.encode(): v for k, v in big.items()}


def test_encodings_follow_the_config(r: redis.Redis) -> None:
    r.zadd("z", {f"m{i}": i for i in range(128)})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"one-more": 0})
    assert r.object("encoding", "z") == b"skiplist"
    r.zadd("long", {"x" * 65: 1})
    assert r.object("encoding", "long") == b"skiplist"
    assert r.type("z") == b"zset"


def test_resp3_replies(r3: redis.Redis) -> None:
    r3.zadd("z", {"a": 1.5, "b": 2})
    assert r3.zscore("z", "a") == 1.5
    assert r3.zrange("z", 0, -1, withscores=True) == [[b"a", 1.5], [b"b", 2.0]]
    assert r3.zrandmember("z", 5, withscores=True) == [[b"b", 2.0], [b"a", 1.5]]
    assert r3.zunion(["z", "z"], withscores=True) == [[b"a", 3.0], [b"b", 4.0]]


def test_pipeline_and_transaction(r: redis.Redis) -> None:
    with r.pipeline() as pipe:
        pipe.zadd("z", {"a": 1}).zincrby("z", 2, "a").zrange("z", 0, -1, withscores=True)
        pipe.zpopmin("z").exists("z")
        assert pipe.execute() == [1, 3.0, [(b"a", 3.0)], [(b"a", 3.0)], 0]


def test_large_set(r: redis.Redis) -> None:
    members = {f"user:{i}": (i * 7919) % 10007 for i in range(5000)}
    with r.pipeline(transaction=False) as pipe:
        items = list(members.items())
        for start in range(0, len(items), 500):
            pipe.zadd("big", dict(items[start:start + 500]))
        pipe.execute()
    ordered = sorted(members.items(), key=lambda kv: (kv[1], kv[0]))
    assert r.zcard("big") == 5000
    assert r.zrange("big", 100, 104) == [m.encode() for m, _ in ordered[100:105]]
    assert r.zrank("big", ordered[4321][0]) == 4321
    assert r.zcount("big", 100, 200) == sum(1 for _, s in ordered if 100 <= s <= 200)
    assert r.zremrangebyscore("big", "-inf", 5000) == sum(1 for _, s in ordered if s <= 5000)
    assert r.zrange("big", 0, 0, withscores=True) == [
        next((m.encode(), float(s)) for m, s in ordered if s > 5000)]
