"""Redis 7 multi-part AOF: files written, reloaded, rewritten, crash-safe, and
interchangeable with a real redis-server 7.0."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from support.servers import free_port, redis_server_path, start_redis, start_taipan

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals and paths")

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")

AOF_DIR = "appendonlydir"
MANIFEST = "appendonly.aof.manifest"


def _taipan(directory: Path, *extra: str):
    return start_taipan("--appendonly", "yes", "--dir", str(directory), *extra)


def _client(server) -> redis.Redis:
    return redis.Redis(port=server.port, socket_timeout=10)


def _stop(server) -> None:
    """A clean SHUTDOWN (the server fsyncs and closes its AOF)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_resp(b"SHUTDOWN", b"NOSAVE"))
        sock.recv(100)  # the server closes the connection without a reply
    server.proc.wait(10)
    server.stop()


def _wait_rewrite(r: redis.Redis) -> dict:
    """Wait for a background AOF rewrite to finish; INFO persistence afterwards."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = r.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return info
        time.sleep(0.02)
    raise AssertionError("the AOF rewrite did not finish")


def _resp(*argv: bytes) -> bytes:
    out = b"*%d\r\n" % len(argv)
    for arg in argv:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def _fill_every_type(r: redis.Redis) -> None:
    r.set("str", "v")
    r.set("ttl", "x", ex=1000)
    r.rpush("list", "a", "b", "c")
    r.sadd("set", "m1", "m2", "3")
    r.zadd("zset", {"one": 1, "half": 0.5, "big": 1e300})
    r.hset("hash", mapping={"f1": "v1", "f2": "v2"})
    r.incrbyfloat("float", 1.5)
    r.hincrbyfloat("hash", "f3", 2.25)
    r.expire("list", 5000)
    with r.pipeline(transaction=True) as pipe:
        pipe.set("tx", 1).incr("tx").execute()
    r.execute_command("SELECT", 5)
    r.set("db5", "five")
    r.execute_command("SELECT", 0)
    r.set("gone", "soon")
    r.delete("gone")


def _dataset(port: int) -> dict:
    """Every key of db 0 and 5 with type, value and whether it has a TTL."""
    result = {}
    for db in (0, 5):
        r = redis.Redis(port=port, db=db)
        for key in r.keys("*"):
            kind = r.type(key).decode()
            if kind == "string":
                value = r.get(key)
            elif kind == "list":
                value = r.lrange(key, 0, -1)
            elif kind == "set":
                value = sorted(r.smembers(key))
            elif kind == "zset":
                value = r.zrange(key, 0, -1, withscores=True)
            else:
                value = r.hgetall(key)
            result[(db, key)] = (kind, value, r.pttl(key) > 0)
    return result


def test_writes_go_to_incr_file_as_resp(tmp_path: Path) -> None:
    server = _taipan(tmp_path, "--appendfsync", "always", "--aof-use-rdb-preamble", "no")
    try:
        r = _client(server)
        r.set("k", "v", ex=100)
        r.execute_command("SELECT", 2)
        r.sadd("s", "a")
        r.execute_command("SELECT", 0)
        r.get("missing")  # reads write nothing
        r.set("short", "1", px=1)
        time.sleep(0.05)
        assert r.get("short") is None  # lazily expired: propagated as DEL
        aof = tmp_path / AOF_DIR
        assert (aof / MANIFEST).read_text() == (
            "file appendonly.aof.1.base.aof seq 1 type b\n"
            "file appendonly.aof.1.incr.aof seq 1 type i\n")
        assert (aof / "appendonly.aof.1.base.aof").read_bytes() == b""
        data = (aof / "appendonly.aof.1.incr.aof").read_bytes()
        deadline = r.pexpiretime("k")
        assert data.startswith(_resp(b"SELECT", b"0") + _resp(
            b"SET", b"k", b"v", b"PXAT", b"%d" % deadline) + _resp(b"SELECT", b"2")
            + _resp(b"SADD", b"s", b"a") + _resp(b"SELECT", b"0"))
        assert data.endswith(_resp(b"DEL", b"short"))
    finally:
        _stop(server)
    if shutil.which("redis-check-aof"):
        check = subprocess.run(["redis-check-aof", str(tmp_path / AOF_DIR / MANIFEST)],
                               capture_output=True, text=True, timeout=20)
        assert "All AOF files and manifest are valid" in check.stdout, check.stdout


def test_restart_replays_the_aof(tmp_path: Path) -> None:
    server = _taipan(tmp_path)
    try:
        _fill_every_type(_client(server))
        before = _dataset(server.port)
    finally:
        _stop(server)
    server = _taipan(tmp_path, "--aof-timestamp-enabled", "yes")
    try:
        assert _dataset(server.port) == before
        _client(server).set("after", "1")  # appended after a #TS annotation
    finally:
        _stop(server)
    incr = (tmp_path / AOF_DIR / "appendonly.aof.1.incr.aof").read_bytes()
    assert b"#TS:" in incr
    server = _taipan(tmp_path)
    try:
        log = server.output()
        assert "DB loaded from incr file appendonly.aof.1.incr.aof: " in log
        assert "DB loaded from append only file: " in log
        assert _client(server).get("after") == b"1"
    finally:
        _stop(server)


def test_bgrewriteaof_switches_to_a_new_generation(tmp_path: Path) -> None:
    server = _taipan(tmp_path, "--aof-use-rdb-preamble", "no")
    try:
        r = _client(server)
        _fill_every_type(r)
        r.rpush("biglist", *range(200))  # more than one RPUSH of 64 items
        before = _dataset(server.port)
        assert r.bgrewriteaof() in (True, b"Background append only file rewriting started")
        assert _wait_rewrite(r)["aof_rewrites"] == 1
        r.set("post", "rewrite")
    finally:
        _stop(server)
    aof = tmp_path / AOF_DIR
    assert sorted(os.listdir(aof)) == ["appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof",
                                       MANIFEST]
    assert (aof / MANIFEST).read_text() == ("file appendonly.aof.2.base.aof seq 2 type b\n"
                                            "file appendonly.aof.2.incr.aof seq 2 type i\n")
    base = (aof / "appendonly.aof.2.base.aof").read_bytes()
    assert b"PEXPIREAT" in base and b"HMSET" in base and b"ZADD" in base
    server = _taipan(tmp_path)
    try:
        after = _dataset(server.port)
        assert after.pop((0, b"post")) == ("string", b"rewrite", False)
        assert after == before
    finally:
        _stop(server)


def _run_taipan_expecting_failure(directory: Path, *extra: str) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "taipan", "--port", str(free_port()), "--bind", "127.0.0.1",
           "--save", "", "--appendonly", "yes", "--dir", str(directory), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


def _write_aof(directory: Path, incr: bytes) -> Path:
    aof = directory / AOF_DIR
    aof.mkdir()
    (aof / MANIFEST).write_text("file appendonly.aof.1.base.aof seq 1 type b\n"
                                "file appendonly.aof.1.incr.aof seq 1 type i\n")
    (aof / "appendonly.aof.1.base.aof").write_bytes(_resp(b"SET", b"base", b"1"))
    path = aof / "appendonly.aof.1.incr.aof"
    path.write_bytes(incr)
    return path


def test_truncated_tail_loads_with_a_warning(tmp_path: Path) -> None:
    good = _resp(b"SELECT", b"0") + _resp(b"SET", b"a", b"1")
    path = _write_aof(tmp_path, good + _resp(b"SET", b"b", b"2")[:-5])
    server = _taipan(tmp_path)
    try:
        r = _client(server)
        assert r.get("base") == b"1" and r.get("a") == b"1" and r.get("b") is None
        log = server.output()
        assert "!!! Warning: short read while loading the AOF file " \
               "appendonly.aof.1.incr.aof!!!" in log
        assert f"!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {len(good)} !!!" in log
        r.set("c", "3")  # appended after the cut, so the file is valid again
    finally:
        _stop(server)
    assert path.read_bytes() == good + _resp(b"SELECT", b"0") + _resp(b"SET", b"c", b"3")


def test_truncated_tail_fails_without_aof_load_truncated(tmp_path: Path) -> None:
    _write_aof(tmp_path, _resp(b"SET", b"a", b"1") + b"*3\r\n$3\r\nSET")
    code, out = _run_taipan_expecting_failure(tmp_path, "--aof-load-truncated", "no")
    assert code == 1
    assert "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof" \
           in out and "offset 27" in out


def test_corrupted_file_stops_startup(tmp_path: Path) -> None:
    _write_aof(tmp_path, _resp(b"SET", b"a", b"1") + b"garbage\r\n" + _resp(b"SET", b"b", b"2"))
    code, out = _run_taipan_expecting_failure(tmp_path)
    assert code == 1
    assert "Bad file format reading the append only file appendonly.aof.1.incr.aof" in out


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    server = _taipan(tmp_path, "--appendfsync", "always")
    acknowledged: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        r = _client(server)
        i = 0
        try:
            while not stop.is_set():
                r.set(f"key:{i}", i)
                acknowledged.append(i)
                r.rpush("log", i)
                i += 1
        except (redis.ConnectionError, redis.TimeoutError):
            pass

    threads = [threading.Thread(target=writer)]
    threads[0].start()
    time.sleep(1.0)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    stop.set()
    threads[0].join(10)
    server.stop()
    assert len(acknowledged) > 10
    server = _taipan(tmp_path)
    try:
        r = _client(server)
        values = r.mget([f"key:{i}" for i in acknowledged])
        assert values == [b"%d" % i for i in acknowledged]
        assert r.llen("log") >= len(acknowledged) - 1
    finally:
        _stop(server)


@needs_redis
def test_real_redis_loads_what_taipan_wrote(tmp_path: Path) -> None:
    server = _taipan(tmp_path)
    try:
        _fill_every_type(_client(server))
        expected = _dataset(server.port)
        assert _client(server).bgrewriteaof()
        _wait_rewrite(_client(server))
        _client(server).set("after-rewrite", "yes")
        expected[(0, b"after-rewrite")] = ("string", b"yes", False)
    finally:
        _stop(server)
    reference = start_redis("--appendonly", "yes", "--dir", str(tmp_path))
    try:
        assert _dataset(reference.port) == expected
    finally:
        reference.stop()


@needs_redis
@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_taipan_loads_what_real_redis_wrote(tmp_path: Path, preamble: str) -> None:
    """Base as AOF text (with #TS annotations) or as RDB (Redis's default)."""
    reference = start_redis("--appendonly", "yes", "--aof-use-rdb-preamble", preamble,
                            "--aof-timestamp-enabled", "yes", "--dir", str(tmp_path))
    try:
        r = redis.Redis(port=reference.port)
        _fill_every_type(r)
        r.bgrewriteaof()
        for _ in range(100):  # wait for the forked rewrite to finish
            if r.info("persistence")["aof_rewrite_in_progress"] == 0:
                break
            time.sleep(0.05)
        r.lpush("list", "after-rewrite")
        r.set("short", "x", px=1)
        time.sleep(0.05)
        r.get("short")
        expected = _dataset(reference.port)
        r.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    finally:
        reference.stop()
    manifest = (tmp_path / AOF_DIR / MANIFEST).read_text()
    base = "appendonly.aof.2.base." + ("rdb" if preamble == "yes" else "aof")
    assert f"file {base} seq 2 type b" in manifest and "appendonly.aof.2.incr.aof" in manifest
    server = _taipan(tmp_path)
    try:
        assert _dataset(server.port) == expected
    finally:
        _stop(server)


def test_config_set_appendonly_at_runtime(tmp_path: Path) -> None:
    server = start_taipan("--dir", str(tmp_path))
    try:
        r = _client(server)
        r.set("before", "1")
        assert r.config_set("appendonly", "yes")
        assert r.info("persistence")["aof_enabled"] == 1
        r.set("during", "2")
        _wait_rewrite(r)
        assert r.config_set("appendonly", "no")
        r.set("after", "3")  # not in the AOF any more
    finally:
        _stop(server)
    server = _taipan(tmp_path)
    try:
        r = _client(server)
        assert r.mget("before", "during", "after") == [b"1", b"2", None]
    finally:
        _stop(server)


def test_parser_and_manifest_edge_cases() -> None:
    from taipan.persistence.aof_load import BadFormat, Truncated, parse_commands
    from taipan.persistence.aof_manifest import AofError, Manifest, parse_manifest
    from taipan.persistence.aof_rewrite import key_commands
    from taipan.types.lists import RedisList

    data = b"#TS:1700000000\r\n" + _resp(b"SET", b"a", b"x\r\ny") + _resp(b"DEL", b"a")
    assert [argv for _, argv in parse_commands(data)] == [[b"SET", b"a", b"x\r\ny"],
                                                          [b"DEL", b"a"]]
    with pytest.raises(Truncated) as cut:
        list(parse_commands(_resp(b"PING") + _resp(b"SET", b"a", b"1")[:-1]))
    assert cut.value.offset == len(_resp(b"PING"))
    with pytest.raises(BadFormat):
        list(parse_commands(_resp(b"PING") + b"+OK\r\n"))
    manifest = parse_manifest('file "odd name.aof" seq 3 type b\n'
                              "file appendonly.aof.4.incr.aof seq 4 type i\n", "m")
    assert manifest.base is not None and manifest.base.name == "odd name.aof"
    assert parse_manifest(manifest.render().decode(), "m") == manifest
    assert manifest.next_incr_seq == 5 and Manifest().next_incr_seq == 1
    with pytest.raises(AofError):
        parse_manifest("file a seq x type i\n", "m")
    commands = list(key_commands(b"l", RedisList(b"%d" % i for i in range(130))))
    assert [len(argv) - 2 for argv in commands] == [64, 64, 2]


def test_missing_file_named_in_manifest_stops_startup(tmp_path: Path) -> None:
    _write_aof(tmp_path, b"")
    (tmp_path / AOF_DIR / "appendonly.aof.1.base.aof").unlink()
    code, out = _run_taipan_expecting_failure(tmp_path)
    assert code == 1 and "appendonly.aof.1.base.aof doesn't exist" in out


def test_truncated_base_is_fatal(tmp_path: Path) -> None:
    _write_aof(tmp_path, _resp(b"SET", b"a", b"1"))
    (tmp_path / AOF_DIR / "appendonly.aof.1.base.aof").write_bytes(b"*2\r\n$3\r\nDEL")
    code, out = _run_taipan_expecting_failure(tmp_path)
    assert code == 1 and "appendonly.aof.1.base.aof is not the last file" in out


def test_old_style_single_file_aof_is_migrated(tmp_path: Path) -> None:
    (tmp_path / "appendonly.aof").write_bytes(_resp(b"SELECT", b"0") + _resp(b"SET", b"old", b"1"))
    server = _taipan(tmp_path)
    try:
        r = _client(server)
        assert r.get("old") == b"1"
        r.set("new", "2")
    finally:
        _stop(server)
    assert not (tmp_path / "appendonly.aof").exists()
    assert (tmp_path / AOF_DIR / MANIFEST).read_text() == (
        "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
    server = _taipan(tmp_path)
    try:
        assert _client(server).mget("old", "new") == [b"1", b"2"]
    finally:
        _stop(server)
