"""Streams across persistence, with a real redis-server on the other side: RDB files
both ways, DUMP/RESTORE both ways, corrupt payloads refused, AOF rewrites (RDB
preamble and commands) and DEBUG RELOAD.

Streams are built on redis-server (every node shape: deleted entries, own fields,
big and integer values, groups with pending entries, idle consumers, counters set by
XSETID) and compared with ``XINFO STREAM key FULL`` on redis-server: what Taipan
wrote is loaded back into redis-server and must describe the same stream.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from support.servers import ServerProcess, redis_server_path, start_redis, start_taipan

from taipan.persistence.rdb_format import crc64

pytestmark = pytest.mark.skipif(redis_server_path() is None,
                                reason="redis-server is not installed")

KEYS = ("events", "empty", "tiny")


def _client(server: ServerProcess, db: int = 0) -> redis.Redis:
    return redis.Redis(port=server.port, db=db, socket_timeout=10)


def _build(r: redis.Redis) -> None:
    """Streams of every shape, on redis-server."""
    r.config_set("stream-node-max-entries", "10")
    for i in range(1, 80):
        if i % 5 == 0:
            fields: dict[str, Any] = {"other": "x" * (i * 3), "n": -i * 1000003}
        elif i % 11 == 0:
            fields = {"big": "y" * 5000}
        else:
            fields = {"f": i, "g": f"v{i}"}
        r.xadd("events", fields, id=f"{i * 1000}-{i % 3}")
    r.xdel("events", "2000-2", "7000-1", "55000-1", "30000-0")
    for ms in range(21000, 29000, 1000):  # a whole node's worth of entries
        r.xdel("events", f"{ms}-{(ms // 1000) % 3}")
    r.xgroup_create("events", "readers", id="0")
    r.xgroup_create("events", "late", id="15000-0")
    r.xgroup_create("events", "tail", id="$")
    r.xreadgroup("readers", "alice", {"events": ">"}, count=5)
    r.xreadgroup("readers", "bob", {"events": ">"}, count=3)
    r.xreadgroup("late", "carol", {"events": ">"}, count=2, noack=True)
    r.xreadgroup("late", "dave", {"events": ">"}, count=4)
    r.xack("events", "late", "17000-2")
    r.xgroup_createconsumer("events", "readers", "erin")
    r.xclaim("events", "readers", "bob", 0, ["1000-1"])
    r.execute_command("XSETID", "events", "99999-5", "ENTRIESADDED", 500,
                      "MAXDELETEDID", "55000-1")
    # an empty stream with a group, and a one-entry one
    entry = r.xadd("empty", {"a": 1})
    r.xdel("empty", entry)
    r.xgroup_create("empty", "g", id="$")
    r.xadd("tiny", {"k": "v"}, id="5-5")
    r.config_set("stream-node-max-entries", "100")


def _full(r: redis.Redis, key: str) -> Any:
    return r.execute_command("XINFO", "STREAM", key, "FULL")


def _as_replayed(full: Any) -> Any:
    """XINFO STREAM FULL as an AOF of commands rebuilds it: consumers are made by
    XCLAIM (seen now) and nodes by XADD (deleted entries leave no gaps), as Redis's
    own rewrite does: seen times and node counts blanked."""
    if isinstance(full, dict):
        return {key: 0 if key in (b"seen-time", b"radix-tree-keys", b"radix-tree-nodes")
                else _as_replayed(value) for key, value in full.items()}
    if isinstance(full, list):
        return [_as_replayed(item) for item in full]
    return full


def _same_stream(reference: redis.Redis, key: str, payload: bytes) -> None:
    """``payload`` (from Taipan) restored into redis-server describes ``key``."""
    reference.restore("check:" + key, 0, payload, replace=True)
    assert _full(reference, "check:" + key) == _full(reference, key)
    reference.delete("check:" + key)


@pytest.fixture
def reference() -> Any:
    server = start_redis("--enable-debug-command", "yes")
    r = _client(server)
    _build(r)
    yield r
    r.close()
    server.stop()


def _restore_all(source: redis.Redis, target: redis.Redis) -> None:
    for key in KEYS:
        target.restore(key, 0, source.dump(key), replace=True)


# -- DUMP / RESTORE -------------------------------------------------------------------


def test_dump_restore_both_ways(reference: redis.Redis) -> None:
    server = start_taipan()
    try:
        t = _client(server)
        for compression in ("yes", "no"):
            reference.config_set("rdbcompression", compression)
            t.config_set("rdbcompression", compression)
            for key in KEYS:
                payload = reference.dump(key)
                t.restore(key, 0, payload, replace=True)
                ours = t.dump(key)
                if compression == "no":
                    assert ours == payload  # byte for byte: same listpacks, same fields
                _same_stream(reference, key, ours)
            assert t.type("events") == b"stream"
    finally:
        server.stop()


def _with_footer(body: bytes) -> bytes:
    payload = body + (10).to_bytes(2, "little")
    return payload + crc64(payload).to_bytes(8, "little")


def test_corrupt_payloads_are_refused_and_leave_no_key(reference: redis.Redis) -> None:
    reference.config_set("rdbcompression", "no")
    body = reference.dump("events")[:-10]
    server = start_taipan()
    try:
        t = _client(server)
        damaged = [
            body[:len(body) // 2],  # cut short
            # the first node's master entry not ending in 0
            body.replace(b"\x81f\x02\x81g\x02\x00\x01", b"\x81f\x02\x81g\x02\x05\x01", 1),
        ]
        assert damaged[1] != body
        for payload in damaged:
            with pytest.raises(redis.ResponseError, match="^Bad data format$"):
                t.restore("victim", 0, _with_footer(payload))
            assert t.exists("victim") == 0
        # a payload whose checksum is wrong
        with pytest.raises(redis.ResponseError, match="checksum are wrong"):
            t.restore("victim", 0, body + b"\x0a\x00" + b"\x00" * 8)
        # a stream listpack that lies about its lp-count: refused as a whole
        good = bytearray(reference.dump("tiny")[:-10])
        at = good.rindex(b"\x04\x01\xff")  # the entry's lp-count, 4
        good[at] = 5
        # (Redis checks a listpack's inside only when sanitizing; Taipan always does)
        reference.config_set("sanitize-dump-payload", "yes")
        for server_client in (t, reference):
            server_client.restore("victim", 0, reference.dump("tiny"), replace=True)
            with pytest.raises(redis.ResponseError, match="^Bad data format$"):
                server_client.restore("victim", 0, _with_footer(bytes(good)), replace=True)
            # the key REPLACE would have replaced is still there, whole
            assert server_client.dump("victim") == reference.dump("tiny")
        assert t.ping()
    finally:
        server.stop()


# -- RDB files ------------------------------------------------------------------------


def test_redis_rdb_with_streams_loads_into_taipan(reference: redis.Redis,
                                                  tmp_path: Path) -> None:
    assert reference.save()
    workdir = reference.config_get("dir")["dir"]
    shutil.copy(os.path.join(workdir, "dump.rdb"), tmp_path / "dump.rdb")
    server = start_taipan("--dir", str(tmp_path))
    try:
        t = _client(server)
        assert sorted(t.keys()) == sorted(k.encode() for k in KEYS)
        reference.config_set("rdbcompression", "no")
        t.config_set("rdbcompression", "no")
        for key in KEYS:
            assert t.type(key) == b"stream"
            assert t.dump(key) == reference.dump(key)
            _same_stream(reference, key, t.dump(key))
    finally:
        server.stop()


def test_taipan_rdb_with_streams_loads_into_redis(reference: redis.Redis,
                                                  tmp_path: Path) -> None:
    server = start_taipan("--dir", str(tmp_path))
    try:
        t = _client(server)
        _restore_all(reference, t)
        t.expire("tiny", 5000)
        t.execute_command("SELECT", 4)
        t.restore("in-db-4", 0, reference.dump("events"))
        assert t.save()
    finally:
        server.stop()
    checker = shutil.which("redis-check-rdb")
    if checker:
        result = subprocess.run([checker, str(tmp_path / "dump.rdb")], capture_output=True,
                                text=True, timeout=30)
        assert "RDB looks OK" in result.stdout, result.stdout
    loaded = start_redis("--dir", str(tmp_path))
    try:
        r = _client(loaded)
        for key in KEYS:
            assert _full(r, key) == _full(reference, key)
        assert 4900 < r.ttl("tiny") <= 5000
        assert _full(_client(loaded, 4), "in-db-4") == _full(reference, "events")
    finally:
        loaded.stop()


def test_debug_reload_and_restart_keep_streams(reference: redis.Redis, tmp_path: Path) -> None:
    server = start_taipan("--dir", str(tmp_path))
    try:
        t = _client(server)
        _restore_all(reference, t)
        assert t.execute_command("DEBUG", "RELOAD") == b"OK"
        for key in KEYS:
            _same_stream(reference, key, t.dump(key))
        t.save()
    finally:
        server.stop()
    server = start_taipan("--dir", str(tmp_path))
    try:
        t = _client(server)
        for key in KEYS:
            _same_stream(reference, key, t.dump(key))
        assert "keys loaded: 3, keys expired: 0" in server.output()
    finally:
        server.stop()


# -- AOF ------------------------------------------------------------------------------


def _stop(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
        sock.recv(100)
    server.proc.wait(10)
    server.stop()


def _rewrite(t: redis.Redis) -> None:
    t.bgrewriteaof()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = t.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            assert info["aof_last_bgrewrite_status"] == "ok"
            return
        time.sleep(0.02)
    raise AssertionError("the AOF rewrite did not finish")


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_rewrite_of_streams_loads_into_redis(reference: redis.Redis, tmp_path: Path,
                                                 preamble: str) -> None:
    """Taipan's rewritten AOF, loaded by redis-server, rebuilds the same streams:
    with a preamble the RDB form, without it Redis 7.0's commands (XADD, XSETID,
    XGROUP CREATE ... ENTRIESREAD, XCLAIM ... FORCE, XGROUP CREATECONSUMER)."""
    server = start_taipan("--appendonly", "yes", "--aof-use-rdb-preamble", preamble,
                          "--dir", str(tmp_path))
    try:
        t = _client(server)
        _restore_all(reference, t)
        _rewrite(t)
    finally:
        _stop(server)
    base = next((tmp_path / "appendonlydir").glob("*.base.*"))
    if preamble == "no":
        text = base.read_bytes()
        for command in (b"XADD", b"XSETID", b"ENTRIESADDED", b"MAXDELETEDID", b"ENTRIESREAD",
                        b"CREATECONSUMER", b"XCLAIM", b"RETRYCOUNT", b"FORCE"):
            assert command in text
        assert b"$6\r\nMAXLEN\r\n$1\r\n0\r\n$3\r\n0-1\r\n" in text  # the empty stream
    loaded = start_redis("--appendonly", "yes", "--dir", str(tmp_path))
    try:
        _assert_same_streams(_client(loaded), reference, replayed=preamble == "no")
    finally:
        loaded.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_rewrite_and_restart_keep_streams(reference: redis.Redis, tmp_path: Path,
                                              preamble: str) -> None:
    """Taipan rewrites, restarts from its own AOF and has the same streams, groups
    and pending entries (without a preamble, as its own commands rebuild them)."""
    server = start_taipan("--appendonly", "yes", "--aof-use-rdb-preamble", preamble,
                          "--dir", str(tmp_path))
    try:
        t = _client(server)
        _restore_all(reference, t)
        _rewrite(t)
        t.xadd("tiny", {"after": "rewrite"}, id="6-0")  # into the incr file
    finally:
        _stop(server)
    reference.xadd("tiny", {"after": "rewrite"}, id="6-0")
    server = start_taipan("--appendonly", "yes", "--dir", str(tmp_path))
    try:
        _assert_same_streams(_client(server), reference, replayed=preamble == "no")
    finally:
        _stop(server)


def _assert_same_streams(ours: redis.Redis, reference: redis.Redis, replayed: bool) -> None:
    """Every test stream alike on both servers; ``replayed``: ``ours`` was rebuilt from
    AOF commands, so seen times and node counts are left out (``_as_replayed``)."""
    for key in KEYS:
        if replayed:
            assert _as_replayed(_full(ours, key)) == _as_replayed(_full(reference, key))
        else:
            assert _full(ours, key) == _full(reference, key)
