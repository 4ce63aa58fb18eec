"""Lazy freeing: FLUSHALL ASYNC, UNLINK and the lazyfree-lazy-* options release big
values a slice at a time while the server keeps answering other clients."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from support.servers import ServerProcess, start_taipan

KEYS = 1_000_000
MEMBERS = 1_000_000


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    process = start_taipan()
    yield process
    process.stop()


@pytest.fixture
def r(server: ServerProcess) -> Iterator[redis.Redis]:
    client = redis.Redis(port=server.port)
    client.execute_command("FLUSHALL", "SYNC")
    client.config_set("lazyfree-lazy-user-del", "no")
    client.config_set("lazyfree-lazy-expire", "no")
    client.config_set("lazyfree-lazy-user-flush", "no")
    yield client
    client.close()


def _lazyfree(client: redis.Redis) -> tuple[int, int]:
    memory = client.info("memory")
    return memory["lazyfree_pending_objects"], memory["lazyfreed_objects"]


def _worst_ping_until_freed(server: ServerProcess, r: redis.Redis, timeout: float = 30) -> float:
    """Ping from another client until nothing is pending; the slowest answer."""
    other = redis.Redis(port=server.port)
    worst = 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _ in range(20):
            started = time.perf_counter()
            assert other.ping()
            worst = max(worst, time.perf_counter() - started)
        if _lazyfree(r)[0] == 0:
            break
    other.close()
    assert _lazyfree(r)[0] == 0, "lazily freed objects never drained"
    return worst


def _big_set(r: redis.Redis, key: str, members: int) -> None:
    step = 100_000
    for start in range(0, members, step):
        r.sadd(key, *(f"m{i}" for i in range(start, min(start + step, members))))


def test_flushall_async_returns_at_once_and_frees_in_the_background(
        server: ServerProcess, r: redis.Redis) -> None:
    r.execute_command("DEBUG", "POPULATE", KEYS)
    started = time.perf_counter()
    assert r.execute_command("FLUSHALL", "SYNC")
    sync_s = time.perf_counter() - started
    assert r.dbsize() == 0
    assert _lazyfree(r)[0] == 0

    r.execute_command("DEBUG", "POPULATE", KEYS)
    freed_before = _lazyfree(r)[1]
    started = time.perf_counter()
    assert r.execute_command("FLUSHALL", "ASYNC")
    async_s = time.perf_counter() - started
    assert r.dbsize() == 0  # logically gone at once
    pending, _ = _lazyfree(r)
    assert pending > 0
    worst = _worst_ping_until_freed(server, r)
    assert _lazyfree(r) == (0, freed_before + KEYS)  # Redis counts every key
    assert async_s < 0.2, f"FLUSHALL ASYNC took {async_s:.3f}s"
    assert async_s < sync_s, f"ASYNC {async_s:.4f}s vs SYNC {sync_s:.4f}s"
    assert worst < 0.05, f"a PING waited {worst:.3f}s behind the freeing"


def test_flushdb_async_and_lazy_user_flush(server: ServerProcess, r: redis.Redis) -> None:
    r.execute_command("DEBUG", "POPULATE", 1000)
    freed = _lazyfree(r)[1]
    assert r.execute_command("FLUSHDB", "ASYNC")
    _worst_ping_until_freed(server, r)
    assert _lazyfree(r)[1] == freed + 1000
    # With lazyfree-lazy-user-flush, a bare FLUSHDB is asynchronous; SYNC still isn't.
    r.config_set("lazyfree-lazy-user-flush", "yes")
    r.execute_command("DEBUG", "POPULATE", 500)
    assert r.flushdb()
    _worst_ping_until_freed(server, r)
    assert _lazyfree(r)[1] == freed + 1500
    r.execute_command("DEBUG", "POPULATE", 500)
    assert r.execute_command("FLUSHDB", "SYNC")
    assert _lazyfree(r) == (0, freed + 1500)


def test_unlink_of_a_big_set_frees_it_progressively(server: ServerProcess, r: redis.Redis) -> None:
    _big_set(r, "big", MEMBERS)
    freed = _lazyfree(r)[1]
    started = time.perf_counter()
    assert r.unlink("big") == 1
    unlink_s = time.perf_counter() - started
    assert not r.exists("big")
    assert _lazyfree(r)[0] == 1
    worst = _worst_ping_until_freed(server, r)
    assert _lazyfree(r) == (0, freed + 1)
    assert unlink_s < 0.1, f"UNLINK took {unlink_s:.3f}s"
    assert worst < 0.05, f"a PING waited {worst:.3f}s behind the freeing"


def test_small_values_are_freed_at_once(r: redis.Redis) -> None:
    freed = _lazyfree(r)[1]
    r.sadd("small", *range(64))  # an intset: one allocation
    r.sadd("strs", *(f"m{i}" for i in range(64)))  # 64: not above the threshold
    r.set("str", "x" * 100_000)
    assert r.unlink("small", "strs", "str", "missing") == 3
    assert _lazyfree(r) == (0, freed)


def test_lazy_user_del_makes_del_unlink(server: ServerProcess, r: redis.Redis) -> None:
    _big_set(r, "big", 200_000)
    freed = _lazyfree(r)[1]
    assert r.delete("big") == 1  # DEL frees synchronously by default
    assert _lazyfree(r) == (0, freed)
    r.config_set("lazyfree-lazy-user-del", "yes")
    _big_set(r, "big", 200_000)
    assert r.delete("big") == 1
    assert not r.exists("big")
    _worst_ping_until_freed(server, r)
    assert _lazyfree(r) == (0, freed + 1)


def test_lazy_expire_frees_a_big_expired_key_lazily(server: ServerProcess, r: redis.Redis) -> None:
    r.config_set("lazyfree-lazy-expire", "yes")
    r.hset("h", mapping={f"f{i}": i for i in range(100_000)})
    assert r.object("encoding", "h") == b"hashtable"
    freed = _lazyfree(r)[1]
    r.pexpire("h", 30)
    deadline = time.monotonic() + 10
    while r.dbsize() and time.monotonic() < deadline:  # the active cycle expires it
        time.sleep(0.02)
    assert r.dbsize() == 0
    _worst_ping_until_freed(server, r)
    assert _lazyfree(r) == (0, freed + 1)
    # An EXPIRE into the past deletes lazily too.
    r.zadd("z", {f"m{i}": i for i in range(1000)})
    assert r.pexpireat("z", 1) is True
    assert not r.exists("z")
    _worst_ping_until_freed(server, r)
    assert _lazyfree(r) == (0, freed + 2)


def test_resetstat_clears_lazyfreed_objects(server: ServerProcess, r: redis.Redis) -> None:
    r.rpush("l", *range(1000))
    r.unlink("l")
    _worst_ping_until_freed(server, r)
    assert _lazyfree(r)[1] > 0
    r.config_resetstat()
    assert _lazyfree(r) == (0, 0)
