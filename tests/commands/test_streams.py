"""Stream commands with redis-py: replies, keyspace events, WATCH, and what reaches
the AOF (generated IDs and approximate trims written as their exact effect)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import redis
from support.servers import ServerProcess, start_taipan


def test_xadd_xrange_roundtrip(r: redis.Redis) -> None:
    first = r.xadd("s", {"a": "1", "b": "2"})
    second = r.xadd("s", {"a": "3"})
    assert first < second or first.split(b"-")[0] <= second.split(b"-")[0]
    assert r.xlen("s") == 2
    assert r.xrange("s") == [(first, {b"a": b"1", b"b": b"2"}), (second, {b"a": b"3"})]
    assert r.xrevrange("s", count=1) == [(second, {b"a": b"3"})]
    assert r.xdel("s", first, b"1-1") == 1
    assert r.xrange("s", "-", "+") == [(second, {b"a": b"3"})]


def test_xadd_explicit_and_partial_ids(r: redis.Redis) -> None:
    assert r.xadd("s", {"f": "v"}, id="5-3") == b"5-3"
    assert r.xadd("s", {"f": "v"}, id="5-*") == b"5-4"
    assert r.xadd("s", {"f": "v"}, id="7-*") == b"7-0"
    with pytest.raises(redis.ResponseError, match="equal or smaller"):
        r.xadd("s", {"f": "v"}, id="6-0")
    with pytest.raises(redis.ResponseError, match="greater than 0-0"):
        r.xadd("s", {"f": "v"}, id="0-0")


def test_xtrim_and_xinfo(r: redis.Redis) -> None:
    for n in range(1, 11):
        r.xadd("s", {"n": n}, id=f"{n}-0")
    assert r.xtrim("s", maxlen=4, approximate=False) == 6
    assert r.xtrim("s", minid="9-0", approximate=False) == 2
    info = r.xinfo_stream("s")
    assert info["length"] == 2
    assert info["first-entry"] == (b"9-0", {b"n": b"9"})
    assert info["last-entry"] == (b"10-0", {b"n": b"10"})
    assert info["radix-tree-keys"] == 1 and info["radix-tree-nodes"] == 2
    assert info["recorded-first-entry-id"] == b"9-0"
    assert info["entries-added"] == 10


def test_wrong_type(r: redis.Redis) -> None:
    r.set("k", "v")
    for call in (lambda: r.xadd("k", {"a": 1}), lambda: r.xlen("k"),
                 lambda: r.xrange("k"), lambda: r.xdel("k", "1-1"),
                 lambda: r.xtrim("k", maxlen=1), lambda: r.xinfo_stream("k")):
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            call()


def _watched_transaction_fails(r: redis.Redis, write) -> bool:
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    try:
        with r.pipeline() as pipe:
            pipe.watch("s")
            write(other)
            pipe.multi()
            pipe.xlen("s")
            try:
                pipe.execute()
            except redis.WatchError:
                return True
            return False
    finally:
        other.close()


@pytest.mark.parametrize("write", [
    lambda c: c.xadd("s", {"a": 1}),
    lambda c: c.xdel("s", "1-0"),
    lambda c: c.xtrim("s", maxlen=0, approximate=False),
])
def test_writes_break_watch(r: redis.Redis, write) -> None:
    r.xadd("s", {"a": 1}, id="1-0")
    assert _watched_transaction_fails(r, write)


def test_noop_writes_keep_watch(r: redis.Redis) -> None:
    r.xadd("s", {"a": 1}, id="1-0")
    assert not _watched_transaction_fails(r, lambda c: c.xdel("s", "5-0"))
    assert not _watched_transaction_fails(r, lambda c: c.xtrim("s", maxlen=10))
    # XSETID counts as a change but, as in Redis 7.0, doesn't touch WATCHed keys.
    assert not _watched_transaction_fails(
        r, lambda c: c.execute_command("XSETID", "s", "99-0"))


def test_keyspace_events(r: redis.Redis, taipan: ServerProcess) -> None:
    r.config_set("notify-keyspace-events", "Et$g")
    listener = redis.Redis(port=taipan.port)
    pubsub = listener.pubsub()
    try:
        pubsub.psubscribe("__keyevent@0__:*")
        assert pubsub.get_message(timeout=2)["type"] == "psubscribe"
        r.xadd("s", {"a": 1}, id="1-0")
        r.xadd("s", {"a": 1}, id="2-0", maxlen=1, approximate=False)
        r.xdel("s", "2-0", "7-0")
        r.xdel("s", "9-0")  # deletes nothing: no event
        r.xadd("s", {"a": 1}, id="3-0")
        r.xtrim("s", maxlen=0, approximate=False)
        r.execute_command("XSETID", "s", "5-0")
        r.delete("s")
        events = []
        deadline = time.monotonic() + 5
        while len(events) < 8 and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1)
            if message and message["type"] == "pmessage":
                events.append(message["channel"].split(b":")[-1])
        assert events == [b"xadd", b"xadd", b"xtrim", b"xdel", b"xadd", b"xtrim", b"xsetid",
                          b"del"]
    finally:
        r.config_set("notify-keyspace-events", "")
        pubsub.close()
        listener.close()


# -- propagation ------------------------------------------------------------------------

def _resp(*argv: bytes) -> bytes:
    out = b"*%d\r\n" % len(argv)
    for arg in argv:
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def _shutdown(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_resp(b"SHUTDOWN", b"NOSAVE"))
        sock.recv(100)
    server.proc.wait(10)
    server.stop()


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths")
def test_propagation_to_the_aof(tmp_path: Path) -> None:
    args = ("--appendonly", "yes", "--dir", str(tmp_path), "--appendfsync", "always",
            "--aof-use-rdb-preamble", "no", "--stream-node-max-entries", "2")
    server = start_taipan(*args)
    try:
        r = redis.Redis(port=server.port)
        generated = r.xadd("s", {"f": "v"})
        r.xadd("s", {"f": "v"}, id=b"%d-*" % (int(generated.split(b"-")[0]) + 1))
        for n in range(6):
            r.xadd("t", {"f": "v"}, id=f"{n + 1}-0")
        r.xadd("t", {"f": "v"}, id="7-*", maxlen=3, approximate=True)
        r.execute_command("XTRIM", "t", "MINID", "~", "7", "LIMIT", "10")
        r.execute_command("XTRIM", "t", "MAXLEN", "~", "100")  # trims nothing: not written
        r.execute_command("XADD", "t", "MAXLEN", "~", "0", "LIMIT", "1", "8-0", "f", "v")
        r.xdel("t", "99-0")  # deletes nothing: not written
        before = {key: r.xinfo_stream(key, full=True) for key in ("s", "t")}
    finally:
        _shutdown(server)
    incr = (tmp_path / "appendonlydir" / "appendonly.aof.1.incr.aof").read_bytes()
    ms = int(generated.split(b"-")[0])
    assert _resp(b"XADD", b"s", generated, b"f", b"v") in incr
    assert _resp(b"XADD", b"s", b"%d-0" % (ms + 1), b"f", b"v") in incr
    # ~ 3 removed the first two nodes (4 entries); what is left is written exactly
    assert _resp(b"XADD", b"t", b"MAXLEN", b"=", b"3", b"7-0", b"f", b"v") in incr
    assert _resp(b"XTRIM", b"t", b"MINID", b"=", b"7-0", b"LIMIT", b"10") in incr
    assert incr.count(b"XTRIM") == 1 and b"XDEL" not in incr
    assert _resp(b"XADD", b"t", b"MAXLEN", b"=", b"2", b"LIMIT", b"1", b"8-0", b"f", b"v") in incr
    server = start_taipan(*args)
    try:
        r = redis.Redis(port=server.port)
        after = {key: r.xinfo_stream(key, full=True) for key in ("s", "t")}
        assert after == before
    finally:
        _shutdown(server)
