"""Server commands through redis-py: TIME, LASTSAVE, DEBUG, INFO, CONFIG."""

from __future__ import annotations

import time

import pytest
import redis


def test_time(r: redis.Redis) -> None:
    seconds, micros = r.time()
    assert abs(seconds + micros / 1e6 - time.time()) < 5
    assert 0 <= micros < 1_000_000


def test_lastsave(r: redis.Redis) -> None:
    assert 0 < r.lastsave().timestamp() <= time.time() + 1


def test_debug_sleep_stalls_the_server(r: redis.Redis) -> None:
    started = time.monotonic()
    assert r.execute_command("DEBUG", "SLEEP", "0.2") == b"OK"
    assert time.monotonic() - started >= 0.19


def test_debug_set_active_expire(r: redis.Redis) -> None:
    try:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        r.set("short-lived", "x", px=30)
        time.sleep(0.35)
        assert r.dbsize() == 1  # expired but not yet deleted: nobody touched it
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        deadline = time.monotonic() + 3
        while r.dbsize() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.dbsize() == 0  # the background cycle removed it
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_debug_object(r: redis.Redis) -> None:
    r.set("n", 42)
    r.set("s", "a" * 50)
    assert b"encoding:int " in r.execute_command("DEBUG", "OBJECT", "n")
    assert b"refcount:2147483647 " in r.execute_command("DEBUG", "OBJECT", "n")
    assert b"encoding:raw serializedlength:51 " in r.execute_command("DEBUG", "OBJECT", "s")
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        r.execute_command("DEBUG", "OBJECT", "missing")


def test_info_parsed_by_redis_py(r: redis.Redis) -> None:
    r.set("k", "v", ex=100)
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["db0"] == {"keys": 1, "expires": 1, "avg_ttl": info["db0"]["avg_ttl"]}
    assert info["connected_clients"] >= 1 and info["maxclients"] == 10000
    everything = r.info("everything")
    assert everything["cmdstat_set"]["calls"] >= 1
    assert "latency_percentiles_usec_set" in everything
    assert r.info("clients", "server").keys() >= {"connected_clients", "tcp_port"}


def test_config_resetstat(r: redis.Redis) -> None:
    r.set("a", 1)
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")
    assert r.info("errorstats")
    assert r.config_resetstat()
    stats = r.info("stats")
    assert stats["total_error_replies"] == 0
    assert stats["total_commands_processed"] <= 2
    assert "cmdstat_set" not in r.info("commandstats")
    assert r.info("errorstats") == {}


def test_config_set_get_via_redis_py(r: redis.Redis) -> None:
    try:
        assert r.config_set("maxmemory", "100mb")
        assert r.config_get("maxmemory") == {"maxmemory": "104857600"}
        assert r.config_set("timeout", 7)
        assert r.config_get("timeout", "maxmemory") == {"timeout": "7",
                                                        "maxmemory": "104857600"}
        assert r.config_set("loglevel", "verbose")
        assert r.info("memory")["maxmemory"] == 104857600
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("timeout", 0)
        r.config_set("loglevel", "notice")


def test_config_rewrite_without_file(r: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="^The server is running without a config file$"):
        r.config_rewrite()


def test_shutdown_refused_inside_multi(r: redis.Redis) -> None:
    with r.pipeline() as pipe:
        pipe.execute_command("SHUTDOWN", "NOSAVE")
        with pytest.raises(redis.ResponseError, match="not allowed inside a transaction"):
            pipe.execute()
    assert r.ping()
