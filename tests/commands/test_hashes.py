"""Hash commands through redis-py, as applications use them."""

from __future__ import annotations

import pytest
import redis

from taipan.dispatch import Dispatcher
from taipan.instance import Instance
from taipan.net.client import Client


def test_set_get_and_delete(r: redis.Redis) -> None:
    assert r.hset("user:1", mapping={"name": "Ada", "born": "1815"}) == 2
    assert r.hset("user:1", "name", "Ada Lovelace") == 0
    assert r.hset("user:1", items=["lang", "en", "born", "1816"]) == 1
    assert r.execute_command("HMSET", "user:1", "title", "Countess") is True
    assert r.hsetnx("user:1", "name", "x") == 0 and r.hsetnx("user:1", "era", "19") == 1
    assert r.hget("user:1", "name") == b"Ada Lovelace" and r.hget("user:1", "nope") is None
    assert r.hmget("user:1", ["born", "nope", "lang"]) == [b"1816", None, b"en"]
    assert r.hgetall("user:1") == {b"name": b"Ada Lovelace", b"born": b"1816", b"lang": b"en",
                                   b"title": b"Countess", b"era": b"19"}
    assert r.hkeys("user:1") == [b"name", b"born", b"lang", b"title", b"era"]
    assert r.hvals("user:1")[:2] == [b"Ada Lovelace", b"1816"]
    assert r.hlen("user:1") == 5 and r.hlen("nobody") == 0
    assert r.hexists("user:1", "lang") and not r.hexists("user:1", "zz")
    assert r.hstrlen("user:1", "name") == 12 and r.hstrlen("user:1", "zz") == 0
    assert r.hdel("user:1", "lang", "title", "zz") == 2
    assert r.hdel("user:1", "name", "born", "era") == 3
    assert r.exists("user:1") == 0 and r.hgetall("user:1") == {}


def test_counters(r: redis.Redis) -> None:
    assert r.hincrby("c", "hits") == 1
    assert r.hincrby("c", "hits", 41) == 42
    assert r.hincrby("c", "hits", -50) == -8
    assert r.hincrbyfloat("c", "temp", 10.5) == 10.5
    assert r.hincrbyfloat("c", "temp", 0.1) == pytest.approx(10.6)
    assert r.hget("c", "temp") == b"10.6"
    r.hset("c", "word", "abc")
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        r.hincrby("c", "word", 1)
    with pytest.raises(redis.ResponseError, match="hash value is not a float"):
        r.hincrbyfloat("c", "word", 1)
    r.hset("c", "max", str(2**63 - 1))
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.hincrby("c", "max", 1)
    with pytest.raises(redis.ResponseError, match="NaN or Infinity"):
        r.hincrbyfloat("c", "temp", float("inf"))


def test_wrong_type(r: redis.Redis) -> None:
    r.set("s", "text")
    r.rpush("l", "x")
    for call in (lambda: r.hset("s", "f", "v"), lambda: r.hget("l", "f"),
                 lambda: r.hgetall("s"), lambda: r.hdel("l", "f"), lambda: r.hlen("s"),
                 lambda: r.hincrby("s", "f"), lambda: r.hrandfield("s"),
                 lambda: r.hscan("l")):
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            call()
    r.hset("h", "f", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lpush("h", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.get("h")


def test_encoding(r: redis.Redis) -> None:
    r.hset("h", mapping={f"f{i}": i for i in range(10)})
    assert r.object("encoding", "h") == b"listpack" and r.type("h") == b"hash"
    r.hset("h", "long", "v" * 65)
    assert r.object("encoding", "h") == b"hashtable"
    r.hdel("h", "long")
    assert r.object("encoding", "h") == b"hashtable"


def test_hrandfield(r: redis.Redis, r3: redis.Redis) -> None:
    data = {f"f{i}".encode(): f"v{i}".encode() for i in range(20)}
    r.hset("h", mapping=data)
    assert r.hrandfield("h") in data
    assert r.hrandfield("missing") is None and r.hrandfield("missing", 3) == []
    assert sorted(r.hrandfield("h", 50)) == sorted(data)
    picked = r.hrandfield("h", 5)
    assert len(set(picked)) == 5 and set(picked) <= set(data)
    repeated = r.hrandfield("h", -30)
    assert len(repeated) == 30 and set(repeated) <= set(data)
    flat = r.hrandfield("h", 3, withvalues=True)
    assert all(data[f] == v for f, v in zip(flat[::2], flat[1::2], strict=True))
    nested = r3.hrandfield("h", -4, withvalues=True)
    assert len(nested) == 4 and all(data[f] == v for f, v in nested)


def test_hscan(r: redis.Redis) -> None:
    small = {b"a1": b"1", b"a2": b"2", b"b1": b"3"}
    r.hset("small", mapping=small)
    assert r.hscan("small") == (0, small)
    assert r.hscan("small", match="a*") == (0, {b"a1": b"1", b"a2": b"2"})
    big = {f"field:{i}".encode(): str(i).encode() for i in range(1000)}
    r.hset("big", mapping=big)
    assert dict(r.hscan_iter("big", count=37)) == big
    assert dict(r.hscan_iter("big", match="field:99*")) == {
        k: v for k, v in big.items() if k.startswith(b"field:99")}
    cursor, page = r.hscan("big", 0, count=10)
    assert cursor != 0 and 0 < len(page) <= 10


def test_resp3_replies(r3: redis.Redis) -> None:
    r3.hset("h", mapping={"a": "1", "b": "2"})
    assert r3.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert r3.hgetall("missing") == {}
    assert r3.hincrbyfloat("h", "a", 1.5) == 2.5


def test_pipeline_and_transaction(r: redis.Redis) -> None:
    with r.pipeline(transaction=True) as pipe:
        pipe.hset("h", "a", "1").hgetall("h").hset("h", "b", "2").hgetall("h").hdel("h", "a", "b")
        assert pipe.execute() == [1, {b"a": b"1"}, 1, {b"a": b"1", b"b": b"2"}, 2]
    assert r.exists("h") == 0


# -- in-process: propagation -------------------------------------------------------------

def test_propagation_matches_redis() -> None:
    """What Redis 7.0 writes to its AOF: HINCRBYFLOAT as an HSET of the result, and
    nothing for writes that changed nothing."""
    instance = Instance()
    dispatcher = Dispatcher(instance)
    client = Client(1, instance)
    propagated: list[list[bytes]] = []
    instance.propagators.append(lambda db, argv: propagated.append(argv))
    for args in (("HSET", "h", "a", "1"), ("HSET", "h", "a", "1"), ("HSETNX", "h", "a", "2"),
                 ("HSETNX", "h", "b", "2"), ("HDEL", "h", "zz"), ("HINCRBY", "h", "a", "x"),
                 ("HINCRBY", "h", "a", "2"), ("HINCRBYFLOAT", "h", "f", "0.1"),
                 ("HINCRBYFLOAT", "h", "f", "1e1"), ("HMSET", "h", "c", "3"),
                 ("HDEL", "h", "a", "b", "c", "f")):
        dispatcher.execute(client, [arg.encode() for arg in args])
    assert propagated == [
        [b"HSET", b"h", b"a", b"1"], [b"HSET", b"h", b"a", b"1"], [b"HSETNX", b"h", b"b", b"2"],
        [b"HINCRBY", b"h", b"a", b"2"], [b"HSET", b"h", b"f", b"0.1"],
        [b"HSET", b"h", b"f", b"10.1"], [b"HMSET", b"h", b"c", b"3"],
        [b"HDEL", b"h", b"a", b"b", b"c", b"f"],
    ]
