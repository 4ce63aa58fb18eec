"""maxmemory: OOM refusals, eviction under every policy, and what it touches (WATCH,
keyspace events, the AOF, blocked clients, OBJECT FREQ/IDLETIME, INFO)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from support.servers import ServerProcess, start_taipan

# redis-py maps the OOM code to OutOfMemoryError and keeps the rest of the text.
OOM_TEXT = "^command not allowed when used memory > 'maxmemory'\\.$"
VALUE = b"v" * 1000
# Values big enough that the dict tables' growth (a one-off doubling when inserts and
# evictions churn a dict) costs a handful of keys, not a tenth of them.
BIG = b"b" * 20_000


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    process = start_taipan()
    yield process
    process.stop()


@pytest.fixture
def m(server: ServerProcess) -> Iterator[redis.Redis]:
    client = redis.Redis(port=server.port)
    client.flushall()
    yield client
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("notify-keyspace-events", "")
    client.flushall()
    client.close()


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def fill(client: redis.Redis, count: int, prefix: str = "k", ttl: int | None = None,
         value: bytes = VALUE) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.set(f"{prefix}:{i}", value, ex=ttl)
    pipe.execute(raise_on_error=False)


def wait_under(client: redis.Redis, limit: int) -> None:
    deadline = time.monotonic() + 5
    while used(client) > limit:
        assert time.monotonic() < deadline, "eviction did not bring memory under the limit"
        time.sleep(0.01)


def limit_to(client: redis.Redis, extra_bytes: int) -> int:
    """maxmemory = what is used now plus ``extra_bytes``."""
    limit = used(client) + extra_bytes
    client.config_set("maxmemory", limit)
    return limit


# -- used_memory ---------------------------------------------------------------------

def test_used_memory_follows_the_dataset(m: redis.Redis) -> None:
    empty = used(m)
    fill(m, 2000)
    grown = used(m) - empty
    # 2000 keys of 1000 bytes: the payloads plus Python's per-key costs.
    assert 2000 * 1000 < grown < 2000 * 1400
    m.flushall()
    assert used(m) - empty < 100_000
    info = m.info("memory")
    assert info["used_memory_dataset"] + info["used_memory_overhead"] == info["used_memory"]
    assert info["used_memory_peak"] >= info["used_memory"]


def test_collections_are_measured_after_they_change(m: redis.Redis) -> None:
    before = used(m)
    m.rpush("list", *[b"x" * 100 for _ in range(1000)])
    m.hset("hash", mapping={f"f{i}": b"y" * 100 for i in range(1000)})
    grown = used(m) - before
    assert 200_000 < grown < 400_000
    m.delete("list", "hash")
    assert abs(used(m) - before) < 50_000


# -- noeviction ----------------------------------------------------------------------

def test_noeviction_refuses_denyoom_commands_only(m: redis.Redis) -> None:
    m.set("existing", "1")
    m.config_set("maxmemory", 1)
    for command in (("SET", "a", "b"), ("LPUSH", "l", "x"), ("INCR", "existing"),
                    ("APPEND", "existing", "x"), ("SADD", "s", "m")):
        with pytest.raises(redis.exceptions.OutOfMemoryError, match=OOM_TEXT):
            m.execute_command(*command)
    assert m.get("existing") == b"1"
    assert m.exists("existing") == 1
    assert m.delete("existing") == 1  # DEL frees memory: never refused
    assert m.ping()
    assert m.info("stats")["evicted_keys"] == 0
    assert m.info("stats")["current_eviction_exceeded_time"] >= 0


def test_multi_under_oom(m: redis.Redis, server: ServerProcess) -> None:
    conn = redis.Redis(port=server.port)
    m.config_set("maxmemory", 1)
    # Queueing is refused (any command: queueing itself takes memory) ...
    assert conn.execute_command("MULTI") == b"OK"
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        conn.execute_command("GET", "x")
    with pytest.raises(redis.exceptions.ExecAbortError):
        conn.execute_command("EXEC")
    # ... and EXEC of a transaction queued before memory ran out fails when it writes.
    m.config_set("maxmemory", 0)
    conn.execute_command("MULTI")
    conn.execute_command("SET", "q", "1")
    m.config_set("maxmemory", 1)
    # (Redis words a refused EXEC as EXECABORT, quoting the reason)
    with pytest.raises(redis.exceptions.ExecAbortError, match="because of: OOM command"):
        conn.execute_command("EXEC")
    assert m.get("q") is None
    conn.execute_command("MULTI")
    assert conn.execute_command("DISCARD") == b"OK"
    conn.close()


def test_scripts_under_oom(m: redis.Redis) -> None:
    m.config_set("maxmemory", 1)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        m.eval("return redis.call('set', KEYS[1], 'v')", 1, "k")
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        m.eval("#!lua\nreturn redis.call('get', KEYS[1])", 1, "k")
    assert m.eval("return redis.call('get', KEYS[1])", 1, "k") is None
    assert m.eval("#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'v')",
                  1, "k") == b"OK"
    assert m.eval("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, "k") == b"v"


def test_lowering_maxmemory_evicts_down_at_the_next_command(m: redis.Redis) -> None:
    fill(m, 3000)
    m.config_set("maxmemory-policy", "allkeys-random")
    limit = used(m) - 1_000_000
    m.config_set("maxmemory", limit)
    wait_under(m, limit)  # a slice per command, the rest between commands
    assert 0 < m.dbsize() < 3000
    assert m.info("stats")["evicted_keys"] == 3000 - m.dbsize()


def test_a_value_bigger_than_maxmemory(m: redis.Redis) -> None:
    limit = limit_to(m, 500_000)
    m.config_set("maxmemory-policy", "allkeys-lru")
    m.set("big", b"x" * 2_000_000)  # accepted: memory was under the limit before it
    assert m.set("other", "1")  # the big value is evicted before this runs
    assert m.exists("big") == 0
    assert m.get("other") == b"1"
    assert used(m) <= limit


# -- the policies --------------------------------------------------------------------

ALL_POLICIES = ("allkeys-lru", "allkeys-lfu", "allkeys-random",
                "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl")


@pytest.mark.parametrize("policy", ALL_POLICIES)
def test_each_policy_keeps_memory_under_the_limit(m: redis.Redis, policy: str) -> None:
    m.config_set("maxmemory-policy", policy)
    fill(m, 500, prefix="persistent")
    limit = limit_to(m, 1_000_000)
    fill(m, 3000, prefix="volatile", ttl=3600)
    wait_under(m, limit)
    stats = m.info("stats")
    assert stats["evicted_keys"] > 0
    if policy.startswith("volatile"):
        # Only keys with a TTL go.
        assert sum(1 for _ in m.scan_iter("persistent:*")) == 500


def test_volatile_policies_without_volatile_keys_refuse(m: redis.Redis) -> None:
    m.config_set("maxmemory-policy", "volatile-lru")
    fill(m, 100)
    m.config_set("maxmemory", 1)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        m.set("more", "1")
    assert m.dbsize() == 100


def test_volatile_ttl_evicts_the_nearest_expiry_first(m: redis.Redis) -> None:
    m.config_set("maxmemory-policy", "volatile-ttl")
    pipe = m.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"soon:{i}", VALUE, ex=1000 + i)
        pipe.set(f"late:{i}", VALUE, ex=100_000 + i)
    pipe.execute()
    wait_under(m, limit_to(m, -150_000))  # about 100 keys too many
    late = sum(1 for _ in m.scan_iter("late:*"))
    soon = sum(1 for _ in m.scan_iter("soon:*"))
    # Sampling is approximate (as in Redis): a sample of only late keys, with the pool
    # empty, evicts a late key now and then; the near expiries go first overall.
    assert late >= 190 and soon <= 150


def test_lru_keeps_recently_used_keys(m: redis.Redis) -> None:
    m.config_set("maxmemory-policy", "allkeys-lru")
    fill(m, 1000, prefix="old", value=BIG)
    time.sleep(2.1)  # the LRU clock counts seconds
    pipe = m.pipeline(transaction=False)
    for i in range(200):
        pipe.get(f"old:{i}")
    pipe.execute()
    limit_to(m, 0)
    fill(m, 600, prefix="new", value=BIG)
    survivors = sum(m.exists(f"old:{i}") for i in range(200))
    assert survivors >= 180  # the touched keys, bar a few sampled before the touch


def test_lfu_keeps_frequently_used_keys(m: redis.Redis) -> None:
    m.config_set("maxmemory-policy", "allkeys-lfu")
    fill(m, 1000, prefix="cold", value=BIG)
    pipe = m.pipeline(transaction=False)
    for _ in range(20):
        for i in range(100):
            pipe.get(f"cold:{i}")
    pipe.execute()
    assert int(m.object("freq", "cold:0")) > 5
    assert int(m.object("freq", "cold:999")) <= 5
    limit_to(m, 0)
    fill(m, 600, prefix="new", value=BIG)
    survivors = sum(m.exists(f"cold:{i}") for i in range(100))
    assert survivors >= 95


def test_object_idletime_and_freq_follow_the_policy(m: redis.Redis) -> None:
    m.set("k", "v")
    assert m.object("idletime", "k") == 0
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
        m.object("freq", "k")
    m.config_set("maxmemory-policy", "allkeys-lfu")
    with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
        m.object("idletime", "k")
    m.set("fresh", "v")
    assert m.object("freq", "fresh") == 5  # LFU_INIT_VAL for a new key
    m.get("fresh")
    assert m.object("freq", "fresh") == 6  # the first increments are certain


# -- what an eviction touches --------------------------------------------------------

def test_eviction_notifies_invalidates_watch_and_counts(m: redis.Redis,
                                                        server: ServerProcess) -> None:
    m.config_set("notify-keyspace-events", "Ee")
    m.config_set("maxmemory-policy", "allkeys-random")
    fill(m, 200)
    pubsub = m.pubsub()
    pubsub.subscribe("__keyevent@0__:evicted")
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    watcher = redis.Redis(port=server.port)
    pipe = watcher.pipeline(transaction=True)
    pipe.watch(*[f"k:{i}" for i in range(200)])
    pipe.multi()
    pipe.set("after", "1")
    m.config_set("maxmemory", used(m) - 50_000)
    m.ping()
    evicted = m.info("stats")["evicted_keys"]
    assert evicted > 0
    message = pubsub.get_message(timeout=1)
    assert message["channel"] == b"__keyevent@0__:evicted"
    assert message["data"].startswith(b"k:")
    m.config_set("maxmemory", 0)
    with pytest.raises(redis.WatchError):
        pipe.execute()
    pubsub.close()
    watcher.close()
    m.config_resetstat()
    assert m.info("stats")["evicted_keys"] == 0


def test_blocked_clients_survive_eviction(m: redis.Redis, server: ServerProcess) -> None:
    m.config_set("maxmemory-policy", "allkeys-lru")
    fill(m, 300)
    blocked = redis.Redis(port=server.port)
    limit_to(m, 100_000)
    # A blocked BLPOP on a key that eviction never sees, served after evictions.
    import threading

    result: list = []
    thread = threading.Thread(target=lambda: result.append(blocked.blpop(["queue"], 5)))
    thread.start()
    time.sleep(0.2)
    fill(m, 300, prefix="more")
    m.rpush("queue", "job")
    thread.join(5)
    assert result == [(b"queue", b"job")]
    blocked.close()


def test_evictions_reach_the_aof_as_dels(tmp_path) -> None:  # noqa: ANN001
    process = start_taipan("--appendonly", "yes", "--dir", str(tmp_path),
                           "--maxmemory-policy", "allkeys-random")
    try:
        client = redis.Redis(port=process.port)
        fill(client, 300)
        limit = used(client) - 100_000
        client.config_set("maxmemory", limit)
        wait_under(client, limit)
        evicted = client.info("stats")["evicted_keys"]
        assert evicted > 0
        keys = client.dbsize()
        client.execute_command("DEBUG", "LOADAOF")
        assert client.dbsize() == keys
    finally:
        process.stop()


def test_config_file_policy_applies_at_start() -> None:
    process = start_taipan("--maxmemory", "1", "--maxmemory-policy", "allkeys-lfu")
    try:
        client = redis.Redis(port=process.port)
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lfu"}
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            client.set("k", "v")  # nothing to evict, and the server's own structures
    finally:
        process.stop()


def test_maxmemory_clients_closes_the_biggest_evictable_client(m: redis.Redis,
                                                               server: ServerProcess) -> None:
    import socket

    def subscriber(name: bytes, no_evict: bool) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"CLIENT SETNAME " + name + b"\r\n")
        if no_evict:
            sock.sendall(b"CLIENT NO-EVICT on\r\n")
        sock.sendall(b"SUBSCRIBE news\r\n")
        time.sleep(0.2)
        sock.recv(65536)  # the replies so far; from now on it never reads
        return sock

    m.execute_command("CLIENT", "NO-EVICT", "on")  # the test's own connection stays
    m.config_set("maxmemory-clients", "1mb")
    # Only client eviction may close the subscriber: a fast server would otherwise
    # reach the pubsub output limit (32mb) before the next eviction check.
    limits = m.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    m.config_set("client-output-buffer-limit", "pubsub 0 0 0")
    try:
        kept = subscriber(b"kept", no_evict=True)
        dropped = subscriber(b"dropped", no_evict=False)
        deadline = time.monotonic() + 10
        while "dropped" in {client["name"] for client in m.client_list()}:
            assert time.monotonic() < deadline, "the evictable client was not evicted"
            m.publish("news", b"x" * 1_000_000)
        assert m.info("stats")["evicted_clients"] >= 1
        assert "kept" in {client["name"] for client in m.client_list()}
        kept.close()
        dropped.close()
    finally:
        m.config_set("maxmemory-clients", 0)
        m.config_set("client-output-buffer-limit", limits)
