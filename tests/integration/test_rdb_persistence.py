"""RDB snapshots across real restarts: SAVE, BGSAVE, SHUTDOWN SAVE, SIGTERM, DEBUG
RELOAD, files from and for a real redis-server, and bad files at startup."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from support.servers import ServerProcess, free_port, redis_server_path, start_redis, start_taipan

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")


def _client(server: ServerProcess, db: int = 0) -> redis.Redis:
    return redis.Redis(port=server.port, db=db, socket_timeout=10)


def _populate(r: redis.Redis) -> None:
    r.set("str", "hello")
    r.set("int", 12345)
    r.set("big", "x" * 5000)
    r.set("ttl", "soon", ex=1000)
    r.rpush("list", *[f"item{i}" for i in range(10)])
    r.rpush("biglist", *["y" * 100 for _ in range(200)])
    r.hset("hash", mapping={"a": "1", "b": "2"})
    r.hset("bighash", mapping={f"f{i}": "v" * 80 for i in range(300)})
    r.expire("hash", 2000)
    r.sadd("intset", 1, 2, 3)
    r.sadd("set", "a", "b", "c")
    r.zadd("zset", {"a": 1.5, "b": 2, "c": -3})
    r.zadd("bigzset", {f"m{i}": i / 7 for i in range(300)})
    r.pfadd("hll", "a", "b", "c")
    r1 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=3)
    r1.set("in-db-3", "three")
    r1.close()


def _contents(r: redis.Redis) -> dict[str, Any]:
    """Every key, type-appropriately read, with its TTL rounded to tens of seconds."""
    port = r.connection_pool.connection_kwargs["port"]
    seen: dict[str, Any] = {}
    for db in (0, 3):
        c = redis.Redis(port=port, db=db)
        for key in sorted(c.keys()):
            if key[:1] == b"k":
                continue  # bulk filler keys: counted, not compared one by one
            kind = c.type(key).decode()
            if kind == "string":
                value: Any = c.get(key)
            elif kind == "list":
                value = c.lrange(key, 0, -1)
            elif kind == "hash":
                value = c.hgetall(key)
            elif kind == "set":
                value = sorted(c.smembers(key))
            elif kind == "zset":
                value = c.zrange(key, 0, -1, withscores=True)
            else:
                value = None  # streams: no stream commands yet
            ttl = c.ttl(key)
            seen[f"{db}:{key.decode()}"] = (kind, value, -1 if ttl < 0 else round(ttl, -2))
        c.close()
    return seen


def _taipan(directory: Path, *extra: str) -> ServerProcess:
    return start_taipan("--dir", str(directory), *extra)


def _wait_exit(server: ServerProcess, timeout: float = 15) -> int:
    code = server.proc.wait(timeout)
    server.stop()
    return code


def _wait_bgsave(r: redis.Redis) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = r.info("persistence")
        if not info["rdb_bgsave_in_progress"]:
            return info
        time.sleep(0.05)
    raise AssertionError("BGSAVE did not finish")


def test_save_and_restart_keeps_every_type(tmp_path: Path) -> None:
    server = _taipan(tmp_path)
    r = _client(server)
    _populate(r)
    before = _contents(r)
    assert r.info("persistence")["rdb_changes_since_last_save"] > 0
    previous = r.lastsave()
    time.sleep(1.05)
    assert r.save() is True
    info = r.info("persistence")
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_saves"] >= 1 and r.lastsave() > previous
    assert not [name for name in os.listdir(tmp_path) if name.startswith("temp-")]
    r.shutdown(nosave=True)
    _wait_exit(server)

    server = _taipan(tmp_path)
    try:
        assert _contents(_client(server)) == before
        log = server.output()
        assert "DB loaded from disk" in log and "keys loaded: 14, keys expired: 0" in log
    finally:
        server.stop()


def test_bgsave_snapshot_is_taken_at_fork_and_clients_keep_being_served(
        tmp_path: Path) -> None:
    server = _taipan(tmp_path)
    r = _client(server)
    _populate(r)
    with r.pipeline(transaction=False) as pipe:
        for chunk in range(10):
            pipe.mset({f"k{chunk}:{i}": "v" * 50 for i in range(1000)})
        pipe.execute()
    before = _contents(r)
    assert r.bgsave() is True
    # Writes right after the reply are served, but the snapshot predates them.
    for i in range(200):
        assert r.set(f"after{i}", i) is True
    assert r.get("after199") == b"199"
    info = _wait_bgsave(r)
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(tmp_path / "dump.rdb", first / "dump.rdb")
    assert info["rdb_last_bgsave_status"] == "ok" and info["rdb_saves"] >= 1
    assert info["rdb_changes_since_last_save"] >= 200
    assert r.execute_command("BGSAVE", "SCHEDULE") in (b"Background saving started",
                                                        "Background saving started", True)
    _wait_bgsave(r)
    log = server.output()
    assert "Background saving started by pid" in log
    assert "Background saving terminated with success" in log
    r.delete(*[f"after{i}" for i in range(200)])
    r.shutdown(nosave=True)
    _wait_exit(server)

    # The first file is the dataset as it was at the fork; the second has the later keys.
    server = _taipan(first)
    try:
        r = _client(server)
        assert r.dbsize() == 10000 + 13 and r.get("after0") is None
        assert {k: v for k, v in _contents(r).items() if k in before} == before
    finally:
        server.stop()
    server = _taipan(tmp_path)
    try:
        assert _client(server).dbsize() == 10000 + 13 + 200
    finally:
        server.stop()


def test_shutdown_save_and_sigterm_with_save_points_persist(tmp_path: Path) -> None:
    server = _taipan(tmp_path)
    r = _client(server)
    r.set("a", "1")
    r.shutdown(save=True)
    assert _wait_exit(server) == 0
    assert (tmp_path / "dump.rdb").exists()

    server = _taipan(tmp_path, "--save", "3600", "1")
    r = _client(server)
    assert r.get("a") == b"1"
    r.set("b", "2")
    server.proc.terminate()
    assert _wait_exit(server) == 0

    server = _taipan(tmp_path)
    r = _client(server)
    assert r.mget("a", "b") == [b"1", b"2"]
    r.set("c", "3")
    r.shutdown(nosave=True)
    _wait_exit(server)
    server = _taipan(tmp_path)
    try:
        assert _client(server).get("c") is None
    finally:
        server.stop()


def test_expired_keys_are_skipped_and_debug_reload(tmp_path: Path) -> None:
    server = _taipan(tmp_path)
    r = _client(server)
    r.set("short", "x", px=300)
    r.set("long", "y", ex=1000)
    assert r.execute_command("DEBUG", "RELOAD") in (b"OK", "OK", True)
    assert r.get("long") == b"y" and r.ttl("long") > 900
    r.save()
    r.shutdown(nosave=True)
    _wait_exit(server)
    time.sleep(0.4)
    server = _taipan(tmp_path)
    try:
        r = _client(server)
        assert r.keys() == [b"long"]
        assert "keys loaded: 1, keys expired: 1." in server.output()
        assert r.info("persistence")["rdb_last_load_keys_expired"] == 1
    finally:
        server.stop()


@needs_redis
def test_file_written_by_redis_loads_in_taipan(tmp_path: Path) -> None:
    reference = start_redis()
    try:
        ref = _client(reference)
        _populate(ref)
        expected = _contents(ref)
        assert ref.save() is True
        shutil.copy(os.path.join(reference.workdir, "dump.rdb"), tmp_path / "dump.rdb")
    finally:
        reference.stop()
    server = _taipan(tmp_path)
    try:
        assert _contents(_client(server)) == expected
    finally:
        server.stop()


@needs_redis
def test_file_written_by_taipan_loads_in_redis(tmp_path: Path) -> None:
    server = _taipan(tmp_path)
    try:
        r = _client(server)
        _populate(r)
        expected = _contents(r)
        assert r.save() is True
    finally:
        server.stop()
    checker = shutil.which("redis-check-rdb")
    if checker:
        result = subprocess.run([checker, str(tmp_path / "dump.rdb")], capture_output=True,
                                text=True, timeout=30)
        assert "RDB looks OK" in result.stdout, result.stdout
    reference = start_redis("--dir", str(tmp_path))
    try:
        assert _contents(_client(reference)) == expected
    finally:
        reference.stop()


def _start_fails(directory: Path) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "taipan", "--port", str(free_port()), "--bind", "127.0.0.1",
         "--save", "", "--dir", str(directory)],
        capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "not-an-rdb"])
def test_bad_file_stops_startup_and_is_left_alone(tmp_path: Path, damage: str) -> None:
    server = _taipan(tmp_path)
    r = _client(server)
    _populate(r)
    r.save()
    server.stop()
    path = tmp_path / "dump.rdb"
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "corrupted":
        data[len(data) // 2] ^= 0x5A
    else:
        data = bytearray(b"hello, this is not a snapshot")
    path.write_bytes(bytes(data))
    code, output = _start_fails(tmp_path)
    assert code == 1, output
    assert str(path) in output and "Fatal error loading the DB" in output
    assert path.read_bytes() == bytes(data)
    if damage == "truncated":
        assert "unexpected end of RDB data in the record at offset " in output
