"""Set commands through redis-py, as applications use them."""

from __future__ import annotations

from collections import Counter

import pytest
import redis


def test_add_remove_and_membership(r: redis.Redis) -> None:
    assert r.sadd("tags", "red", "green", "red") == 2
    assert r.sadd("tags", "blue", "green") == 1
    assert r.scard("tags") == 3 and r.scard("none") == 0
    assert r.sismember("tags", "red") == 1
    assert not r.sismember("tags", "pink") and not r.sismember("none", "red")
    assert r.smismember("tags", ["red", "pink", "blue"]) == [1, 0, 1]
    assert r.smembers("tags") == {b"red", b"green", b"blue"}
    assert r.smembers("none") == set()
    assert r.srem("tags", "red", "pink") == 1
    assert r.srem("tags", "green", "blue") == 2
    assert r.exists("tags") == 0


def test_wrong_type_everywhere(r: redis.Redis) -> None:
    r.set("text", "v")
    r.sadd("s", "a")
    calls = [
        lambda: r.sadd("text", "x"), lambda: r.srem("text", "x"), lambda: r.smembers("text"),
        lambda: r.sismember("text", "x"), lambda: r.smismember("text", ["x"]),
        lambda: r.scard("text"), lambda: r.spop("text"), lambda: r.spop("text", 2),
        lambda: r.srandmember("text"), lambda: r.srandmember("text", 2),
        lambda: r.smove("text", "s", "a"), lambda: r.smove("s", "text", "a"),
        lambda: r.sinter("s", "text"), lambda: r.sunion("s", "text"),
        lambda: r.sdiff("s", "text"), lambda: r.sinterstore("d", ["s", "text"]),
        lambda: r.sunionstore("d", ["text"]), lambda: r.sdiffstore("d", ["text"]),
        lambda: r.sintercard(2, ["s", "text"]), lambda: r.sscan("text"),
    ]
    for call in calls:
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            call()
    assert r.get("text") == b"v"


def test_intset_replies_are_sorted(r: redis.Redis) -> None:
    r.sadd("nums", 30, -2, 7, 1000, 0)
    assert r.object("encoding", "nums") == b"intset"
    assert r.smembers("nums") == {b"-2", b"0", b"7", b"30", b"1000"}
    assert r.srandmember("nums", 10) == [b"-2", b"0", b"7", b"30", b"1000"]
    assert r.sscan("nums") == (0, [b"-2", b"0", b"7", b"30", b"1000"])
    r.sadd("nums", "x")
    assert r.object("encoding", "nums") == b"hashtable"
    r.srem("nums", "x")
    assert r.object("encoding", "nums") == b"hashtable"


def test_encoding_follows_the_configured_limit(r: redis.Redis) -> None:
    try:
        r.config_set("set-max-intset-entries", 3)
        r.sadd("a", 1, 2, 3)
        assert r.object("encoding", "a") == b"intset"
        r.sadd("a", 4)
        assert r.object("encoding", "a") == b"hashtable"
        r.sadd("b", 1, 2)
        r.sunionstore("c", ["a"])
        assert r.object("encoding", "c") == b"hashtable"
        r.sinterstore("d", ["a", "b"])
        assert r.object("encoding", "d") == b"intset"
    finally:
        r.config_set("set-max-intset-entries", 512)


def test_spop_and_srandmember(r: redis.Redis) -> None:
    members = {b"m%d" % i for i in range(20)}
    r.sadd("s", *members)
    assert r.srandmember("s") in members
    assert r.srandmember("none") is None and r.spop("none") is None
    picked = r.srandmember("s", 5)
    assert len(set(picked)) == 5 and set(picked) <= members
    repeated = r.srandmember("s", -50)
    assert len(repeated) == 50 and set(repeated) <= members
    assert set(r.srandmember("s", 100)) == members
    assert r.srandmember("s", 0) == [] and r.srandmember("none", 5) == []
    one = r.spop("s")
    assert one in members
    some = r.spop("s", 4)
    assert len(set(some)) == 4 and one not in some
    assert r.scard("s") == 15
    rest = r.spop("s", 100)
    assert set(rest) | set(some) | {one} == members
    assert r.exists("s") == 0
    assert r.spop("s", 3) == []
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.spop("s", -1)


def test_spop_is_random(r: redis.Redis) -> None:
    firsts = Counter()
    for _ in range(200):
        r.sadd("s", "a", "b", "c", "d")
        firsts[r.spop("s")] += 1
        r.delete("s")
    assert set(firsts) == {b"a", b"b", b"c", b"d"}


def test_smove(r: redis.Redis) -> None:
    r.sadd("from", "a", "b")
    assert r.smove("from", "to", "a") is True
    assert r.smove("from", "to", "zz") is False
    assert r.smove("none", "to", "a") is False
    assert r.smove("from", "to", "b") is True
    assert r.exists("from") == 0
    assert r.smembers("to") == {b"a", b"b"}


def test_algebra(r: redis.Redis) -> None:
    r.sadd("a", "x", "y", "z", 1)
    r.sadd("b", "y", "z", 2)
    r.sadd("c", "z")
    assert r.sinter("a", "b") == {b"y", b"z"}
    assert r.sinter("a", "b", "none") == set()
    assert r.sunion("a", "b", "none") == {b"x", b"y", b"z", b"1", b"2"}
    assert r.sdiff("a", "b", "c") == {b"x", b"1"}
    assert r.sdiff("none", "a") == set()
    assert r.sinterstore("dst", ["a", "b", "c"]) == 1 and r.smembers("dst") == {b"z"}
    assert r.sunionstore("dst", ["b", "c"]) == 3
    assert r.sdiffstore("dst", ["a", "b"]) == 2 and r.smembers("dst") == {b"x", b"1"}
    assert r.sinterstore("dst", ["a", "none"]) == 0 and r.exists("dst") == 0
    assert r.sintercard(2, ["a", "b"]) == 2
    assert r.sintercard(2, ["a", "b"], limit=1) == 1
    assert r.sintercard(3, ["a", "b", "none"]) == 0
    with pytest.raises(redis.ResponseError, match="numkeys"):
        r.execute_command("SINTERCARD", 0, "a")


def test_sscan_walks_a_large_set(r: redis.Redis) -> None:
    members = {b"member:%d" % i for i in range(1000)}
    r.sadd("big", *members)
    assert set(r.sscan_iter("big", count=37)) == members
    assert set(r.sscan_iter("big", match="member:99*")) == {
        b"member:99", *(b"member:99%d" % i for i in range(10))}


def test_resp3_types(r3: redis.Redis) -> None:
    r3.sadd("s", 3, 1, 2)
    assert r3.smembers("s") == {b"1", b"2", b"3"}
    assert r3.sunion("s", "none") == {b"1", b"2", b"3"}
    assert r3.smismember("s", [1, 5]) == [1, 0]
    assert r3.spop("s", 0) == []  # redis-py turns RESP3's empty set into a list
    assert isinstance(r3.srandmember("s", 2), list)


def test_transaction_replies_are_snapshots(r: redis.Redis) -> None:
    r.sadd("s", "a", "b")
    pipe = r.pipeline(transaction=True)
    pipe.smembers("s").sadd("s", "c").smembers("s")
    before, added, after = pipe.execute()
    assert before == {b"a", b"b"} and added == 1 and after == {b"a", b"b", b"c"}
