"""What reaches the AOF (byte for byte as Redis writes it), automatic rewrites, and a
server that answers -LOADING while its dataset loads — over real processes, with a
real redis-server beside Taipan where the behaviour can be compared."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from support.raw import RawClient
from support.servers import free_port, redis_server_path, start_redis, start_taipan

from taipan.persistence.aof_load import parse_commands

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals and paths")
needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")

AOF_DIR = "appendonlydir"
LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"


def _stop(server) -> None:
    try:
        redis.Redis(port=server.port, socket_timeout=10).shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    server.proc.wait(10)
    server.stop()


def _propagation_script(r: redis.Redis) -> None:
    """Writes whose propagated form differs from what the client sent."""
    r.set("k", "v", ex=100)  # relative expiry -> absolute
    r.set("plain", "v")
    r.incr("n")
    r.incrbyfloat("f", 1.5)  # -> SET f 1.5 KEEPTTL
    with r.pipeline(transaction=True) as pipe:  # several writes: MULTI ... EXEC
        pipe.set("a", 1).incr("n").get("a").execute()
    with r.pipeline(transaction=True) as pipe:  # a single write: no wrapper
        pipe.set("b", 1).get("b").execute()
    with r.pipeline(transaction=True) as pipe:  # no write at all: nothing
        pipe.get("a").execute()
    r.expire("plain", 100)  # -> PEXPIREAT
    r.persist("plain")
    r.getex("k", ex=50)  # -> PEXPIREAT
    r.sadd("one", "only")
    r.spop("one")  # -> SREM of the member popped
    r.lpush("l", "x", "y")
    r.blpop(["l"], 1)  # served at once -> LPOP
    r.set("short", "1", px=1)
    time.sleep(0.05)
    r.get("short")  # lazily expired -> DEL
    r.expireat("plain", 1)  # a past deadline deletes -> DEL
    r.execute_command("SELECT", 3)
    r.hset("h", mapping={"x": "1"})
    r.hincrbyfloat("h", "x", 0.5)  # -> HSET h x 1.5
    r.zadd("z", {"m": 1, "n": 2})
    r.zpopmin("z")
    r.getdel("missing")  # nothing changed: nothing written
    r.execute_command("SELECT", 0)
    r.rename("b", "b2")
    r.execute_command("SETEX", "sx", 100, "v")  # -> SET sx v PXAT <time>
    r.delete("a", "nothere")


def _normalized(data: bytes) -> list[list[bytes]]:
    """The commands of an AOF with absolute times masked (they differ by run)."""
    commands = []
    for _, argv in parse_commands(data):
        argv = [a.upper() if i == 0 else a for i, a in enumerate(argv)]
        for i in range(1, len(argv)):
            if argv[i - 1].upper() in (b"PXAT", b"EXAT") or (
                    argv[0] in (b"PEXPIREAT", b"EXPIREAT") and i == 2):
                argv[i] = b"<time>"
        commands.append(argv)
    return commands


@needs_redis
def test_incr_file_holds_what_redis_writes(tmp_path: Path) -> None:
    """The same writes leave the same commands in both servers' incr files."""
    files = {}
    for kind in ("taipan", "redis"):
        directory = tmp_path / kind
        directory.mkdir()
        start = start_taipan if kind == "taipan" else start_redis
        server = start("--appendonly", "yes", "--appendfsync", "always",
                       "--dir", str(directory))
        try:
            _propagation_script(redis.Redis(port=server.port, socket_timeout=10))
        finally:
            _stop(server)
        files[kind] = (directory / AOF_DIR / "appendonly.aof.1.incr.aof").read_bytes()
    assert _normalized(files["taipan"]) == _normalized(files["redis"])
    assert b"MULTI" in files["taipan"]


def test_automatic_rewrite_on_growth(tmp_path: Path) -> None:
    """auto-aof-rewrite-percentage/min-size start a rewrite from the cron; the data
    written before, during and after it survives a restart."""
    server = start_taipan("--appendonly", "yes", "--dir", str(tmp_path),
                          "--auto-aof-rewrite-min-size", "16kb",
                          "--auto-aof-rewrite-percentage", "100")
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        payload = "x" * 100
        for i in range(400):
            r.set(f"key:{i % 50}", f"{payload}{i}")  # overwrites: a rewrite shrinks it
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            info = r.info("persistence")
            if info["aof_rewrites"] >= 1 and not info["aof_rewrite_in_progress"]:
                break
            time.sleep(0.05)
        assert info["aof_rewrites"] >= 1, info
        assert info["aof_base_size"] > 0 and info["aof_current_size"] < 40_000
        r.set("after", "rewrite")
        expected = {k: r.get(k) for k in r.keys("*")}
        assert "Starting automatic rewriting of AOF on" in server.output()
    finally:
        _stop(server)
    manifest = (tmp_path / AOF_DIR / "appendonly.aof.manifest").read_text()
    assert "appendonly.aof.1." not in manifest  # the first generation was replaced
    server = start_taipan("--appendonly", "yes", "--dir", str(tmp_path))
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        assert {k: r.get(k) for k in r.keys("*")} == expected
    finally:
        _stop(server)


# -- loading ------------------------------------------------------------------------

def _snapshot_with_keys(directory: Path, count: int) -> None:
    """A dump.rdb with ``count`` keys, written by Taipan's SAVE."""
    server = start_taipan("--dir", str(directory))
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        with r.pipeline(transaction=False) as pipe:
            for i in range(count):
                pipe.set(f"key:{i}", i)
            pipe.execute()
        r.save()
    finally:
        _stop(server)


def _spawn_loading(kind: str, directory: Path, port: int, *extra: str) -> subprocess.Popen:
    """Start a server on ``directory`` without waiting for it to finish loading."""
    if kind == "taipan":
        cmd = [sys.executable, "-m", "taipan"]
    else:
        # Redis serves clients during a load every N bytes read (default 2 MB).
        cmd = [redis_server_path() or "redis-server",
               "--loading-process-events-interval-bytes", "1024"]
    cmd += ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir",
            str(directory), "--key-load-delay", "1500", *extra]
    return subprocess.Popen(cmd, cwd=directory, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)


def _connect(port: int, proc: subprocess.Popen) -> socket.socket:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            time.sleep(0.02)
    raise AssertionError("the server did not listen")


def _ask(sock: socket.socket, line: bytes) -> bytes:
    sock.sendall(line + b"\r\n")
    reply = sock.recv(65536)
    if reply.startswith(b"$"):  # a bulk reply may come in pieces
        size = int(reply[1:reply.index(b"\r\n")])
        while len(reply) < size + len(b"$%d\r\n\r\n" % size):
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection mid-reply"
            reply += chunk
    return reply


@pytest.mark.parametrize("kind", ["taipan", pytest.param("redis", marks=needs_redis)])
def test_loading_answers_loading_error_then_serves(tmp_path: Path, kind: str) -> None:
    """While the dataset loads: -LOADING for data commands, INFO/CONFIG still
    answer and INFO shows the progress; afterwards every key is there."""
    _snapshot_with_keys(tmp_path, 2000)
    port = free_port()
    proc = _spawn_loading(kind, tmp_path, port)
    try:
        sock = _connect(port, proc)
        with sock:
            assert _ask(sock, b"PING") == LOADING
            assert _ask(sock, b"GET key:1") == LOADING
            info = _ask(sock, b"INFO persistence").decode()
            assert "loading:1" in info and "loading_total_bytes:" in info, info
            assert _ask(sock, b"CONFIG GET key-load-delay").endswith(b"1500\r\n")
            assert _ask(sock, b"MULTI") == b"+OK\r\n"
            assert _ask(sock, b"SET a b") == LOADING
            assert _ask(sock, b"EXEC").startswith(b"-EXECABORT")
            deadline = time.monotonic() + 30
            while _ask(sock, b"PING") != b"+PONG\r\n":
                assert time.monotonic() < deadline, "still loading"
                time.sleep(0.05)
            assert _ask(sock, b"DBSIZE") == b":2000\r\n"
            assert b"loading:0" in _ask(sock, b"INFO persistence")
            _ask(sock, b"SHUTDOWN NOSAVE")
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_keyspace_events_of_the_aof_replay_reach_subscribers(tmp_path: Path) -> None:
    """A client subscribed while the AOF loads gets the keyspace events of its
    replay, which runs in the loading thread: the loop, not that thread, writes them."""
    server = start_taipan("--appendonly", "yes", "--dir", str(tmp_path))
    _stop(server)  # (an empty base, an incremental file and their manifest)
    commands = [RawClient.encode("SET", f"key:{i}", i) for i in range(300_000)]
    commands.append(RawClient.encode("SET", "watched", "1"))  # replayed last
    with open(tmp_path / AOF_DIR / "appendonly.aof.1.incr.aof", "ab") as incr:
        incr.write(b"".join(commands))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "taipan", "--port", str(port), "--dir",
                             str(tmp_path), "--appendonly", "yes", "--save", "",
                             "--notify-keyspace-events", "KA"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _connect(port, proc).close()  # (waits until the server listens)
        with RawClient(port, timeout=30) as subscriber:
            subscriber.send_raw(RawClient.encode("SUBSCRIBE", "__keyspace@0__:watched"))
            assert subscriber.read_reply().endswith(b":1\r\n")
            assert subscriber.read_reply() == (b"*3\r\n$7\r\nmessage\r\n$22\r\n"
                                               b"__keyspace@0__:watched\r\n$3\r\nset\r\n")
    finally:
        proc.kill()
        proc.wait(5)


def test_shutdown_while_loading_leaves_the_files_alone(tmp_path: Path) -> None:
    """SHUTDOWN during a load exits at once and never saves a half-loaded dataset."""
    _snapshot_with_keys(tmp_path, 3000)
    before = (tmp_path / "dump.rdb").read_bytes()
    port = free_port()
    proc = _spawn_loading("taipan", tmp_path, port, "--save", "60 1")
    try:
        with _connect(port, proc) as sock:
            assert _ask(sock, b"PING") == LOADING
            started = time.monotonic()
            sock.sendall(b"SHUTDOWN\r\n")
            assert proc.wait(10) == 0
        assert time.monotonic() - started < 3  # the whole load would take 4.5 s
        assert (tmp_path / "dump.rdb").read_bytes() == before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


# -- appendfsync always: replies wait for the group commit ------------------------------

def test_always_group_commit_keeps_replies_in_order_and_serves_blocked_clients(
        tmp_path: Path) -> None:
    """Replies held for the fsync still leave in order, QUIT's connection closes only
    after them, and a client blocked in BLPOP is served by another client's push."""
    server = start_taipan("--appendonly", "yes", "--appendfsync", "always",
                          "--dir", str(tmp_path))
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"SET a 1\r\nINCR n\r\nGET a\r\nINCR n\r\nQUIT\r\n")
            received = b""
            while chunk := sock.recv(4096):
                received += chunk
            assert received == b"+OK\r\n:1\r\n$1\r\n1\r\n:2\r\n+OK\r\n"
        waiter = redis.Redis(port=server.port, socket_timeout=10)
        pusher = redis.Redis(port=server.port, socket_timeout=10)
        result: list = []
        thread = threading.Thread(target=lambda: result.append(waiter.blpop(["q"], 5)))
        thread.start()
        deadline = time.monotonic() + 5
        while pusher.info("clients")["blocked_clients"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert pusher.rpush("q", "job") == 1
        thread.join(10)
        assert result == [(b"q", b"job")]
        assert pusher.exists("q") == 0
    finally:
        _stop(server)
    incr = (tmp_path / AOF_DIR / "appendonly.aof.1.incr.aof").read_bytes()
    assert [argv[0].upper() for _, argv in parse_commands(incr)] == [
        b"SELECT", b"SET", b"INCR", b"INCR", b"RPUSH", b"LPOP"]


# -- children: one at a time, replies as Redis's ----------------------------------------

def _wait_no_child(r: redis.Redis, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = r.info("persistence")
        if not (info["rdb_bgsave_in_progress"] or info["aof_rewrite_in_progress"]
                or info["aof_rewrite_scheduled"]):
            return info
        time.sleep(0.02)
    raise AssertionError(f"a child is still running: {info}")


def _child_exclusion_replies(port: int) -> list:
    """BGSAVE/BGREWRITEAOF while the other (or the same) child runs."""
    r = redis.Redis(port=port, socket_timeout=10)
    raw = RawClient(port)
    replies: list = []

    def ask(*argv: str) -> None:
        replies.append(raw.call(*argv))  # the raw reply bytes

    ask("BGSAVE")
    ask("BGSAVE")
    ask("BGREWRITEAOF")  # scheduled behind the save
    replies.append(r.info("persistence")["aof_rewrite_scheduled"])
    ask("BGSAVE", "SCHEDULE")
    deadline = time.monotonic() + 30
    while not r.info("persistence")["aof_rewrite_in_progress"]:
        assert time.monotonic() < deadline, "the scheduled rewrite never started"
        time.sleep(0.02)  # the cron starts the scheduled rewrite after the save
    ask("BGREWRITEAOF")
    ask("BGSAVE")
    ask("BGSAVE", "SCHEDULE")
    info = _wait_no_child(r)
    replies += [info["rdb_saves"] >= 2, info["aof_rewrites"], info["aof_last_bgrewrite_status"]]
    raw.close()
    return replies


@needs_redis
def test_one_child_at_a_time_like_redis(tmp_path: Path) -> None:
    """The same replies as redis-server for BGSAVE/BGREWRITEAOF while a child runs
    (rdb-key-save-delay keeps each child busy for about a second)."""
    results = {}
    for kind in ("taipan", "redis"):
        directory = tmp_path / kind
        directory.mkdir()
        start = start_taipan if kind == "taipan" else start_redis
        server = start("--appendonly", "yes", "--dir", str(directory),
                       "--rdb-key-save-delay", "50000")
        try:
            r = redis.Redis(port=server.port, socket_timeout=10)
            r.mset({f"k{i}": i for i in range(20)})
            _wait_no_child(r)
            results[kind] = _child_exclusion_replies(server.port)
        finally:
            _stop(server)
    assert results["taipan"] == results["redis"]
    assert results["taipan"][:3] == [b"+Background saving started\r\n",
                                     b"-ERR Background save already in progress\r\n",
                                     b"+Background append only file rewriting scheduled\r\n"]


def test_writes_during_a_background_rewrite_survive(tmp_path: Path) -> None:
    """Writes made while the rewrite child runs go to the new incr file, are served
    meanwhile, and a restart finds base + incr complete; CONFIG SET appendonly yes
    switches the AOF on only once its first rewrite is done."""
    server = start_taipan("--dir", str(tmp_path), "--rdb-key-save-delay", "20000")
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        r.mset({f"k{i}": i for i in range(50)})  # a one-second rewrite
        assert r.config_set("appendonly", "yes")
        info = r.info("persistence")
        assert info["aof_enabled"] == 1 and info["aof_rewrite_in_progress"] == 1
        with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
            r.execute_command("SHUTDOWN")  # the first AOF isn't written yet
        assert "Writing initial AOF, can't exit." in server.output()
        for i in range(50):
            r.incr(f"k{i}")
            r.rpush("during", i)
        assert r.info("persistence")["aof_rewrite_in_progress"] == 1  # still running
        _wait_no_child(r)
        r.bgrewriteaof()  # a second rewrite, with writes in flight again
        for i in range(20):
            r.rpush("during", 100 + i)
        _wait_no_child(r)
        r.set("after", "both")
        expected = {k: r.dump(k) for k in r.keys("*")}
    finally:
        _stop(server)
    aof = tmp_path / AOF_DIR
    assert (aof / "appendonly.aof.manifest").read_text() == (
        "file appendonly.aof.2.base.rdb seq 2 type b\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n")
    assert not [name for name in os.listdir(aof) if name.startswith("temp-")]
    server = start_taipan("--appendonly", "yes", "--dir", str(tmp_path))
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        assert {k: r.dump(k) for k in r.keys("*")} == expected
        assert r.lrange("during", 0, -1) == [b"%d" % i for i in range(50)] + [
            b"%d" % (100 + i) for i in range(20)]
    finally:
        _stop(server)


@needs_redis
def test_old_style_aof_with_rdb_preamble_loads_like_redis(tmp_path: Path) -> None:
    """An ``appendonly.aof`` from Redis < 7 that starts with an RDB preamble and
    goes on with commands: both servers migrate it and load the same dataset."""
    source = tmp_path / "source"
    source.mkdir()
    server = start_redis("--dir", str(source))
    try:
        r = redis.Redis(port=server.port, socket_timeout=10)
        r.set("from-rdb", "1")
        r.rpush("list", "a", "b")
        r.save()
    finally:
        _stop(server)
    tail = (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\nc\r\n"
            b"*3\r\n$3\r\nSET\r\n$8\r\nfrom-aof\r\n$1\r\n2\r\n")
    old_style = (source / "dump.rdb").read_bytes() + tail
    datasets = {}
    for kind in ("taipan", "redis"):
        directory = tmp_path / kind
        directory.mkdir()
        (directory / "appendonly.aof").write_bytes(old_style)
        start = start_taipan if kind == "taipan" else start_redis
        server = start("--appendonly", "yes", "--dir", str(directory))
        try:
            r = redis.Redis(port=server.port, socket_timeout=10)
            datasets[kind] = {k: r.dump(k) for k in r.keys("*")}
            assert r.lrange("list", 0, -1) == [b"a", b"b", b"c"]
            assert r.mget("from-rdb", "from-aof") == [b"1", b"2"]
        finally:
            _stop(server)
    assert datasets["taipan"].keys() == datasets["redis"].keys()
