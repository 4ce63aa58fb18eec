"""Lazy freeing against a real Redis 7.0: UNLINK, FLUSHALL/FLUSHDB modes and the INFO
fields (lazyfree_pending_objects, lazyfreed_objects) and what they count."""

from __future__ import annotations

import time
from typing import Any

import redis
from support.servers import ServerProcess


def _memory_info(port: int) -> dict:
    client = redis.Redis(port=port)
    try:
        return client.info("memory")
    finally:
        client.close()


def _freed_when_settled(port: int) -> int:
    deadline = time.monotonic() + 10
    while True:
        memory = _memory_info(port)
        if memory["lazyfree_pending_objects"] == 0 or time.monotonic() > deadline:
            return memory["lazyfreed_objects"]
        time.sleep(0.01)


def test_unlink_replies(differ: Any) -> None:
    differ.run([
        ("SET", "a", "1"),
        ("SADD", "s", *range(200)),
        ("SADD", "big", *(f"m{i}" for i in range(200))),
        ("RPUSH", "l", "x", "y"),
        ("UNLINK", "a", "missing", "s", "a"),
        ("UNLINK", "big", "l"),
        ("UNLINK", "nothing"),
        ("EXISTS", "a", "s", "big", "l"),
        ("UNLINK",),
    ])


def test_flush_modes_and_bad_flags(differ: Any) -> None:
    differ.run([
        ("SET", "a", "1"),
        ("FLUSHALL", "ASYNC"),
        ("DBSIZE",),
        ("SET", "a", "1"),
        ("FLUSHDB", "SYNC"),
        ("DBSIZE",),
        ("SET", "a", "1"),
        ("FLUSHDB", "async"),
        ("FLUSHALL", "sync"),
        ("FLUSHALL", "LAZY"),
        ("FLUSHDB", "ASYNC", "SYNC"),
        ("FLUSHALL", "ASYNC", "ASYNC"),
        ("FLUSHDB", ""),
        ("FLUSHALL",),
        ("FLUSHDB",),
    ])


def test_lazy_user_options_keep_replies(differ: Any) -> None:
    names = ("lazyfree-lazy-user-del", "lazyfree-lazy-user-flush", "lazyfree-lazy-expire")
    for name in names:
        differ.check("CONFIG", "SET", name, "yes", resp=(2,))
    try:
        differ.run([
            ("SADD", "big", *(f"m{i}" for i in range(300))),
            ("DEL", "big", "missing"),
            ("SET", "k", "v"),
            ("FLUSHDB",),
            ("DBSIZE",),
            ("HSET", "h", *(x for i in range(200) for x in (f"f{i}", i))),
            ("PEXPIREAT", "h", 1),
            ("EXISTS", "h"),
        ])
    finally:
        for name in names:
            differ.check("CONFIG", "SET", name, "no", resp=(2,))


def test_info_fields_and_counts(differ: Any, real_redis: ServerProcess,
                                taipan: ServerProcess) -> None:
    ports = (real_redis.port, taipan.port)
    for port in ports:
        memory = _memory_info(port)
        assert isinstance(memory["lazyfree_pending_objects"], int)
        assert isinstance(memory["lazyfreed_objects"], int)
    before = [_freed_when_settled(port) for port in ports]
    differ.run([
        ("SADD", "big", *(f"m{i}" for i in range(1000))),  # hashtable: lazily freed
        ("SADD", "ints", *range(100)),  # intset: freed at once
        ("HSET", "small", "f", "v"),  # listpack: freed at once
        ("UNLINK", "big", "ints", "small"),
        ("MSET", "a", "1", "b", "2", "c", "3"),
        ("FLUSHALL", "ASYNC"),  # every key of a flushed database counts
    ])
    after = [_freed_when_settled(port) for port in ports]
    deltas = [a - b for a, b in zip(after, before, strict=True)]
    assert deltas[0] == deltas[1] == 4
