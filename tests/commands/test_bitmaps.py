"""Bitmap commands, BITFIELD and LCS through redis-py against a real Taipan."""

from __future__ import annotations

import time

import pytest
import redis


def test_setbit_getbit_roundtrip(r: redis.Redis) -> None:
    assert r.setbit("k", 7, 1) == 0
    assert r.get("k") == b"\x01"
    assert r.setbit("k", 7, 1) == 1
    assert r.setbit("k", 0, 1) == 0
    assert r.get("k") == b"\x81"
    assert r.setbit("k", 7, 0) == 1
    assert r.get("k") == b"\x80"
    assert [r.getbit("k", i) for i in range(9)] == [1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert r.getbit("missing", 100) == 0
    assert not r.exists("missing")


def test_setbit_grows_with_zeros_and_keeps_ttl(r: redis.Redis) -> None:
    r.set("k", "a", ex=100)
    assert r.setbit("k", 23, 1) == 0
    assert r.get("k") == b"a\x00\x01"
    assert 0 < r.ttl("k") <= 100
    assert r.object("encoding", "k") == b"raw"


def test_setbit_errors(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.setbit("k", 2**32, 1)
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.setbit("k", -1, 1)
    with pytest.raises(redis.ResponseError, match="^bit offset is not an integer or out of range$"):
        r.getbit("k", "x")
    with pytest.raises(redis.ResponseError, match="^bit is not an integer or out of range$"):
        r.execute_command("SETBIT", "k", 1, 2)  # redis-py's setbit() turns 2 into 1
    assert not r.exists("k")
    assert r.getbit("k", 2**32 - 1) == 0  # the largest offset is fine for reads


def test_setbit_invalidates_watch(r: redis.Redis) -> None:
    r.set("k", "a")
    with r.pipeline() as pipe:
        pipe.watch("k")
        r.setbit("k", 0, 0)  # the bit already is 0: no change, as in Redis 7.0.15
        pipe.multi()
        pipe.get("k")
        assert pipe.execute() == [b"a"]
    with r.pipeline() as pipe:
        pipe.watch("k")
        r.setbit("k", 0, 1)  # a real change
        pipe.multi()
        pipe.get("k")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_bitcount(r: redis.Redis) -> None:
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", -2, -1) == 7
    assert r.bitcount("s", 1, 1, "BYTE") == 6
    assert r.bitcount("s", 5, 30, "BIT") == 17
    assert r.bitcount("s", 2, 1) == 0
    assert r.bitcount("missing") == 0
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("BITCOUNT", "s", 0)
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.bitcount("s", 0, 1, "BITS")


def test_bitpos(r: redis.Redis) -> None:
    r.set("k", b"\xff\xf0\x00")
    assert r.bitpos("k", 0) == 12
    assert r.bitpos("k", 1, 2) == -1
    assert r.bitpos("k", 0, 1, 1) == 12
    assert r.bitpos("k", 1, 7, 15, "BIT") == 7
    assert r.bitpos("k", 0, 0, 11, "BIT") == -1
    r.set("ones", b"\xff\xff")
    assert r.bitpos("ones", 0) == 16  # no end given: the string continues with zeros
    assert r.bitpos("ones", 0, 0, -1) == -1
    assert r.bitpos("missing", 0) == 0
    assert r.bitpos("missing", 1) == -1
    with pytest.raises(redis.ResponseError, match="^The bit argument must be 1 or 0.$"):
        r.execute_command("BITPOS", "k", 2)


def test_bitop(r: redis.Redis) -> None:
    r.set("a", b"\xff\x0f\x35")
    r.set("b", b"\x0f\xf0")
    assert r.bitop("AND", "d", "a", "b") == 3
    assert r.get("d") == b"\x0f\x00\x00"
    assert r.bitop("OR", "d", "a", "b") == 3
    assert r.get("d") == b"\xff\xff\x35"
    assert r.bitop("XOR", "d", "a", "b", "missing") == 3
    assert r.get("d") == b"\xf0\xff\x35"
    assert r.bitop("NOT", "d", "a") == 3
    assert r.get("d") == b"\x00\xf0\xca"
    assert r.bitop("AND", "d", "nothing", "none") == 0
    assert not r.exists("d")
    with pytest.raises(redis.ResponseError, match="^BITOP NOT must be called with a single source key.$"):
        r.bitop("NOT", "d", "a", "b")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.bitop("NAND", "d", "a")


def test_bitfield_builder(r: redis.Redis) -> None:
    field = r.bitfield("k")
    field.set("u8", 0, 255).get("u8", 0).incrby("u8", 0, 10).get("i8", 0)
    assert field.execute() == [0, 255, 9, 9]
    sat = r.bitfield("k", default_overflow="SAT")
    assert sat.incrby("u8", "#0", 1000).incrby("i8", "#1", -1000).execute() == [255, -128]
    fail = r.bitfield("k", default_overflow="FAIL")
    assert fail.incrby("u8", "#0", 1).execute() == [None]
    assert r.get("k") == b"\xff\x80"


def test_bitfield_ro(r: redis.Redis) -> None:
    r.set("k", "foobar")
    assert r.bitfield_ro("k", "i8", 0, items=[("u4", 4), ("i64", 0)]) == [
        102, 6, 7381240782615871488]
    with pytest.raises(redis.ResponseError, match="^BITFIELD_RO only supports the GET subcommand$"):
        r.execute_command("BITFIELD_RO", "k", "SET", "i8", "0", "1")
    with pytest.raises(redis.ResponseError, match="^Invalid bitfield type"):
        r.execute_command("BITFIELD_RO", "k", "GET", "u64", "0")


def test_bitfield_creates_a_zero_padded_key(r: redis.Redis) -> None:
    assert r.execute_command("BITFIELD", "k", "SET", "i16", "#3", "-2") == [0]
    assert r.get("k") == b"\x00" * 6 + b"\xff\xfe"


def test_lcs(r: redis.Redis) -> None:
    r.set("k1", "ohmytext")
    r.set("k2", "mynewtext")
    assert r.lcs("k1", "k2") == b"mytext"
    assert r.lcs("k1", "k2", len=True) == 6
    assert r.execute_command("LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert r.lcs("k1", "missing") == b""
    with pytest.raises(redis.ResponseError, match="^If you want both the length and indexes"):
        r.lcs("k1", "k2", len=True, idx=True)


def test_lcs_idx_is_a_map_in_resp3(taipan) -> None:
    client = redis.Redis(port=taipan.port, protocol=3)
    try:
        client.set("k1", "ohmytext")
        client.set("k2", "mynewtext")
        reply = client.execute_command("LCS", "k1", "k2", "IDX")
        assert reply == {b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len": 6}
    finally:
        client.close()


def test_lcs_refuses_what_redis_refuses(r: redis.Redis) -> None:
    r.set("a", "x" * 12000)
    r.set("b", "x" * 12000)
    with pytest.raises(redis.ResponseError, match="exceeds proto-max-bulk-len"):
        r.lcs("a", "b")


def test_large_strings_stay_fast(r: redis.Redis) -> None:
    """Whole-string work runs in C: a 32MB bitmap takes well under a second per command."""
    top = 8 * 32 * 1024 * 1024 - 1
    started = time.monotonic()
    r.setbit("big", top, 1)
    r.setbit("big", 5, 1)
    assert r.bitcount("big") == 2
    assert r.bitpos("big", 1, 1) == top
    assert r.bitpos("big", 0) == 0
    assert r.bitop("NOT", "inv", "big") == 32 * 1024 * 1024
    assert r.bitpos("inv", 0, 1) == top
    assert r.execute_command("BITFIELD", "big", "GET", "u8", f"#{top // 8}") == [1]
    assert time.monotonic() - started < 20
    r.delete("big", "inv")
