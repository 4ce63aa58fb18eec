"""Expiry commands through redis-py against a running Taipan."""

from __future__ import annotations

import time

import pytest
import redis

FUTURE = 4102444800  # 2100-01-01


def test_expire_and_ttl(r: redis.Redis) -> None:
    assert r.expire("missing", 10) is False
    r.set("k", "v")
    assert r.ttl("k") == -1 and r.pttl("k") == -1
    assert r.ttl("missing") == -2 and r.pttl("missing") == -2
    assert r.expire("k", 100) is True
    assert 99 <= r.ttl("k") <= 100
    assert 99000 < r.pttl("k") <= 100000
    assert r.persist("k") is True
    assert r.persist("k") is False


def test_expire_conditions(r: redis.Redis) -> None:
    r.set("k", "v")
    assert r.expireat("k", FUTURE, xx=True) is False
    assert r.expireat("k", FUTURE, gt=True) is False  # no TTL counts as infinite
    assert r.expireat("k", FUTURE, lt=True) is True
    assert r.expireat("k", FUTURE + 10, nx=True) is False
    assert r.expireat("k", FUTURE + 10, gt=True) is True
    assert r.expireat("k", FUTURE, gt=True) is False
    assert r.expireat("k", FUTURE, lt=True) is True
    assert r.expiretime("k") == FUTURE
    assert r.pexpiretime("k") == FUTURE * 1000


def test_expire_condition_errors(r: redis.Redis) -> None:
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="NX and XX, GT or LT options at the same time"):
        r.execute_command("EXPIRE", "k", "10", "NX", "GT")
    with pytest.raises(redis.ResponseError, match="GT and LT options at the same time"):
        r.execute_command("EXPIRE", "k", "10", "GT", "LT")
    with pytest.raises(redis.ResponseError, match="Unsupported option foo"):
        r.execute_command("EXPIRE", "k", "10", "foo")


def test_expire_overflow(r: redis.Redis) -> None:
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'expire' command"):
        r.execute_command("EXPIRE", "k", "9223372036854775807")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'expire' command"):
        r.execute_command("EXPIRE", "k", "-9223372036854776")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'pexpire' command"):
        r.execute_command("PEXPIRE", "k", "9223372036854775807")


def test_expire_in_the_past_deletes(r: redis.Redis) -> None:
    r.set("k", "v")
    assert r.expire("k", -1) is True
    assert r.exists("k") == 0
    r.set("k", "v")
    assert r.pexpireat("k", 1) is True
    assert r.get("k") is None


def test_a_future_expiry_is_never_taken_for_a_past_one(r: redis.Redis) -> None:
    # PEXPIRE key 1 lands a millisecond ahead; reading the clock twice (once for the
    # deadline, once for the "already past" check, with the lookup between) turned it
    # into a DEL whenever a millisecond boundary fell between the readings, so the
    # key vanished without counting as expired (seen as a flaky notifications test).
    rounds = 5000
    r.config_resetstat()
    pipe = r.pipeline(transaction=False)
    for i in range(rounds):
        pipe.rpush(f"k{i}", "a")
        pipe.pexpire(f"k{i}", 1)
    assert all(pipe.execute())
    time.sleep(0.01)
    assert r.exists(*(f"k{i}" for i in range(rounds))) == 0  # (expired, if not yet)
    assert r.info("stats")["expired_keys"] == rounds


def test_ttl_rounds_to_nearest_second(r: redis.Redis) -> None:
    r.set("k", "v", px=1800)
    assert r.ttl("k") == 2
    r.set("k", "v", px=1200)
    assert r.ttl("k") == 1


def test_expiry_removes_keys(r: redis.Redis) -> None:
    r.set("lazy", "v", px=30)
    r.set("active", "v", px=30)
    time.sleep(0.06)
    assert r.get("lazy") is None
    deadline = time.monotonic() + 2
    while r.dbsize() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.dbsize() == 0
    assert r.info("stats")["expired_keys"] >= 2


def test_overwrite_drops_ttl(r: redis.Redis) -> None:
    r.set("k", "v", ex=100)
    r.set("k", "w")
    assert r.ttl("k") == -1
    r.set("k", "v", ex=100)
    r.append("k", "x")
    assert r.ttl("k") > 0
