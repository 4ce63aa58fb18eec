"""String and counter commands through redis-py against a running Taipan."""

from __future__ import annotations

import time

import pytest
import redis


def test_set_get_and_options(r: redis.Redis) -> None:
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True) is True
    assert r.set("missing", "w", xx=True) is None
    assert r.set("k", "x", get=True) == b"w"
    assert r.set("k", "y", ex=100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "z", keepttl=True) is True
    assert r.ttl("k") > 0
    assert r.set("k", "z") is True
    assert r.ttl("k") == -1


def test_set_errors(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set("k", "v", ex=0)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SET", "k", "v", "EX", "10", "PX", "10")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("SET", "k", "v", "EX", "ten")


def test_set_repeated_options_last_wins(r: redis.Redis) -> None:
    assert r.execute_command("SET", "k", "v", "EX", "10", "EX", "1000") is True
    assert r.ttl("k") > 500
    assert r.execute_command("SET", "k", "v", "NX", "NX") is None


def test_set_expire_in_the_past(r: redis.Redis) -> None:
    assert r.set("k", "v", pxat=1) is True
    assert r.get("k") is None


def test_binary_and_empty(r: redis.Redis) -> None:
    key, value = b"\x00key\r\n\xff", bytes(range(256))
    r.set(key, value)
    assert r.get(key) == value
    r.set("", "")
    assert r.get("") == b""
    assert r.strlen("") == 0


def test_getset_getdel_getex(r: redis.Redis) -> None:
    assert r.getset("k", "1") is None
    assert r.getset("k", "2") == b"1"
    assert r.getdel("k") == b"2"
    assert r.getdel("k") is None
    r.set("k", "v")
    assert r.getex("k", ex=100) == b"v"
    assert r.ttl("k") > 0
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", exat=1) == b"v"
    assert r.exists("k") == 0
    assert r.getex("missing", ex=10) is None


def test_getex_checks_key_before_expire_time(r: redis.Redis) -> None:
    assert r.execute_command("GETEX", "missing", "EX", "0") is None
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'getex'"):
        r.execute_command("GETEX", "k", "EX", "0")


def test_mset_mget_msetnx(r: redis.Redis) -> None:
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c") == [b"1", b"2", None]
    assert r.msetnx({"a": "9", "c": "3"}) is False
    assert r.get("c") is None
    assert r.msetnx({"c": "3", "d": "4"}) is True
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'mset'"):
        r.execute_command("MSET", "a", "1", "b")


def test_append_strlen_ranges(r: redis.Redis) -> None:
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.strlen("s") == 11
    assert r.getrange("s", 0, 4) == b"Hello"
    assert r.getrange("s", -5, -1) == b"World"
    assert r.getrange("s", 5, 3) == b""
    assert r.getrange("s", -100, 100) == b"Hello World"
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == b"Hello Redis"
    assert r.setrange("pad", 3, "x") == 4
    assert r.get("pad") == b"\x00\x00\x00x"
    assert r.setrange("nothing", 5, "") == 0
    assert r.exists("nothing") == 0
    with pytest.raises(redis.ResponseError, match="offset is out of range"):
        r.setrange("s", -1, "x")
    with pytest.raises(redis.ResponseError, match="maximum allowed size"):
        r.setrange("s", 536870912, "x")


def test_incr_family(r: redis.Redis) -> None:
    assert r.incr("n") == 1
    assert r.incrby("n", 10) == 11
    assert r.decr("n") == 10
    assert r.decrby("n", 20) == -10
    r.set("n", 9223372036854775807)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("n")
    with pytest.raises(redis.ResponseError, match="decrement would overflow"):
        r.decrby("n", -9223372036854775808)
    r.set("n", "1.0")
    with pytest.raises(redis.ResponseError, match="not an integer or out of range"):
        r.incr("n")


def test_incr_keeps_ttl(r: redis.Redis) -> None:
    r.set("n", 5, ex=100)
    r.incr("n")
    r.incrbyfloat("n", 0.5)
    assert r.ttl("n") > 0


def test_incrbyfloat_formatting(r: redis.Redis) -> None:
    assert r.incrbyfloat("f", 10.5) == 10.5
    r.set_response_callback("INCRBYFLOAT", lambda raw: raw)  # the exact text, not a float
    assert r.execute_command("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert r.execute_command("INCRBYFLOAT", "f", "3.0e3") == b"3010.60000000000000009"
    assert r.execute_command("INCRBYFLOAT", "g", "5.0e3") == b"5000"
    assert r.execute_command("INCRBYFLOAT", "h", "0x10") == b"16"
    with pytest.raises(redis.ResponseError, match="increment would produce NaN or Infinity"):
        r.execute_command("INCRBYFLOAT", "f", "inf")
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.execute_command("INCRBYFLOAT", "f", "nan")
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.execute_command("INCRBYFLOAT", "f", "1.5e4932")


def test_incrbyfloat_huge_long_double(r: redis.Redis) -> None:
    r.set_response_callback("INCRBYFLOAT", lambda raw: raw)
    text = r.execute_command("INCRBYFLOAT", "f", "1e4931")
    assert text.startswith(b"1000000000000000000") and len(text) == 4932


def test_wrongtype(r: redis.Redis) -> None:
    r.rpush("l", "x")
    for call in (lambda: r.get("l"), lambda: r.incr("l"), lambda: r.append("l", "x"),
                 lambda: r.set("l", "v", get=True), lambda: r.getex("l")):
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            call()
    assert r.mget("l") == [None]


def test_object_encoding_of_strings(r: redis.Redis) -> None:
    r.set("i", "12345")
    r.set("e", "a" * 44)
    r.set("w", "a" * 45)
    r.append("e2", "x")
    r.append("e2", "y")
    assert [r.object("encoding", k) for k in ("i", "e", "w", "e2")] == [
        b"int", b"embstr", b"raw", b"raw"]


def test_psetex_expires(r: redis.Redis) -> None:
    r.psetex("k", 200, "v")
    assert r.get("k") == b"v"
    time.sleep(0.3)
    assert r.get("k") is None
