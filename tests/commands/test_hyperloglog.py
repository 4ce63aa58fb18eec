"""HyperLogLog commands through redis-py against a running Taipan."""

from __future__ import annotations

import pytest
import redis

NOT_HLL = "Key is not a valid HyperLogLog string value."
CORRUPT = "Corrupted HLL object detected"


def test_pfadd_and_pfcount(r: redis.Redis) -> None:
    assert r.pfadd("visitors", "alice", "bob", "carol") == 1
    assert r.pfadd("visitors", "alice") == 0
    assert r.pfcount("visitors") == 3
    assert r.pfadd("visitors", *[f"user:{i}" for i in range(1000)]) == 1
    assert 980 <= r.pfcount("visitors") <= 1030
    assert r.pfcount("nothing") == 0
    assert r.pfadd("empty") == 1
    assert r.pfadd("empty") == 0
    assert r.pfcount("empty") == 0


def test_sketch_is_a_string(r: redis.Redis) -> None:
    r.pfadd("h", "a", "b")
    assert r.type("h") == b"string"
    value = r.get("h")
    assert value.startswith(b"HYLL\x01")
    assert r.object("encoding", "h") == b"raw"
    r.set("copy", value)
    assert r.pfcount("copy") == r.pfcount("h") == 2
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"sparse"
    assert r.execute_command("PFDEBUG", "TODENSE", "h") == 1
    assert r.execute_command("PFDEBUG", "TODENSE", "h") == 0
    assert len(r.get("h")) == 12304
    assert r.pfcount("h") == 2
    registers = r.execute_command("PFDEBUG", "GETREG", "h")
    assert len(registers) == 16384 and sum(1 for x in registers if x) == 2


def test_pfcount_union_and_pfmerge(r: redis.Redis) -> None:
    r.pfadd("a", *[f"x{i}" for i in range(300)])
    r.pfadd("b", *[f"x{i}" for i in range(200, 5000)])
    union = r.pfcount("a", "b")
    assert 4800 <= union <= 5200
    assert r.pfmerge("dest", "a", "b")
    assert r.pfcount("dest") == union
    assert r.execute_command("PFDEBUG", "ENCODING", "dest") == b"dense"
    assert r.pfmerge("alone")
    assert r.pfcount("alone") == 0
    assert r.get("alone").startswith(b"HYLL")


def test_errors(r: redis.Redis) -> None:
    r.set("text", "plain string")
    r.rpush("list", "x")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfadd("text", "a")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfcount("text", "other")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE Operation against a key"):
        r.pfcount("list")
    with pytest.raises(redis.ResponseError, match=NOT_HLL):
        r.pfmerge("dest", "text")
    assert r.exists("dest") == 0
    r.set("broken", b"HYLL\x01" + bytes(10) + b"\x80\x7f\xfe")  # stale cache
    with pytest.raises(redis.ResponseError, match=CORRUPT):
        r.pfcount("broken")
    with pytest.raises(redis.ResponseError, match="The specified key does not exist"):
        r.execute_command("PFDEBUG", "GETREG", "missing")
    with pytest.raises(redis.ResponseError, match="Unknown PFDEBUG subcommand 'what'"):
        r.execute_command("PFDEBUG", "what", "broken")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("PFADD")


def test_ttl_survives_updates(r: redis.Redis) -> None:
    r.pfadd("h", "a")
    r.expire("h", 100)
    r.pfadd("h", "b", "c")
    r.pfcount("h")
    r.pfmerge("h", "other")
    assert 0 < r.ttl("h") <= 100


def test_watch_sees_real_changes_only(r: redis.Redis) -> None:
    r.pfadd("h", "a")
    with r.pipeline() as pipe:
        pipe.watch("h")
        r.pfadd("h", "a")  # no register changes: not a write
        pipe.multi()
        pipe.pfcount("h")
        assert pipe.execute() == [1]
    with r.pipeline() as pipe:
        pipe.watch("h")
        r.pfadd("h", "zzz")
        pipe.multi()
        pipe.pfcount("h")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_pipelined_adds_and_selftest(r: redis.Redis) -> None:
    with r.pipeline(transaction=False) as pipe:
        for i in range(0, 20000, 500):
            pipe.pfadd("big", *[f"e{j}" for j in range(i, i + 500)])
        replies = pipe.execute()
    assert replies[0] == 1 and all(reply in (0, 1) for reply in replies)
    assert 19500 <= r.pfcount("big") <= 20500
    assert r.execute_command("PFSELFTEST") == b"OK"
