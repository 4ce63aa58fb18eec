"""The keyspace's incremental memory figures never drift: after any mix of writes the
running totals equal a recount from scratch, and deleting everything returns them to
zero. Runs the real dispatch path in-process (no sockets needed for bookkeeping)."""

from __future__ import annotations

import random

import pytest

from taipan.dispatch import Dispatcher
from taipan.instance import Instance
from taipan.keyspace.sizes import EXPIRY_ENTRY, STRING_KEY_OVERHEAD, packed_size
from taipan.net.client import Client
from taipan.types.packed import PACKED_TYPES


@pytest.fixture
def server() -> tuple[Instance, Dispatcher, Client]:
    instance = Instance()
    dispatcher = Dispatcher(instance)
    return instance, dispatcher, Client(1, instance)


def recount(db) -> int:  # noqa: ANN001
    """What ``db.used`` should be, from the values themselves."""
    db.refresh_sizes()
    total = len(db._expiry_heap) * EXPIRY_ENTRY
    for key, value in db.data.items():
        if type(value) is bytes:
            total += STRING_KEY_OVERHEAD + len(key) + len(value)
        elif type(value) in PACKED_TYPES:
            total += packed_size(value) + STRING_KEY_OVERHEAD // 2 + len(key)
        elif key in db.opened:  # opened by a read, not written since
            total += packed_size(db.opened[key]) + STRING_KEY_OVERHEAD // 2 + len(key)
        else:
            total += db.sizes[key][0] + STRING_KEY_OVERHEAD // 2 + len(key)
    return total


def random_command(rng: random.Random) -> list[bytes]:
    key = b"k%d" % rng.randrange(12)
    other = b"k%d" % rng.randrange(12)
    value = b"x" * rng.randrange(0, 300)
    number = b"%d" % rng.randrange(100)
    choices = [
        [b"SET", key, value], [b"SET", key, value, b"EX", b"100"], [b"APPEND", key, value],
        [b"SETRANGE", key, number, value or b"y"], [b"SETBIT", key, number, b"1"],
        [b"INCR", key], [b"GETDEL", key], [b"DEL", key, other], [b"UNLINK", key],
        [b"PFADD", key, value, number], [b"LPUSH", key, value, number], [b"RPOP", key],
        [b"HSET", key, number, value], [b"HDEL", key, number], [b"SADD", key, number],
        [b"HSET", key, number, number, b"f", number], [b"HMSET", key, number, number],
        [b"SADD", key, value], [b"SREM", key, number], [b"ZADD", key, number, value],
        [b"ZREM", key, value], [b"XADD", key, b"*", b"f", value], [b"XTRIM", key, b"MAXLEN", b"2"],
        [b"EXPIRE", key, b"100"], [b"PERSIST", key], [b"RENAME", key, other],
        [b"COPY", key, other, b"REPLACE"], [b"MOVE", key, b"1"], [b"SWAPDB", b"0", b"1"],
        [b"SELECT", rng.choice([b"0", b"1"])], [b"LMOVE", key, other, b"LEFT", b"RIGHT"],
        [b"SINTERSTORE", other, key], [b"SUNIONSTORE", other, key, other],
        [b"ZUNIONSTORE", other, b"2", key, other], [b"HGET", key, number],
        [b"LRANGE", key, b"0", b"-1"], [b"SMEMBERS", key], [b"ZRANGE", key, b"0", b"-1"],
        [b"OBJECT", b"ENCODING", key], [b"HGETALL", key], [b"SISMEMBER", key, number],
        [b"FLUSHDB"] if rng.random() < 0.05 else
        [b"PING"],
    ]
    return rng.choice(choices)


@pytest.mark.parametrize("seed", range(8))
def test_running_totals_equal_a_recount(server, seed: int) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    rng = random.Random(seed)
    databases = instance.databases
    for _ in range(3000):
        dispatcher.execute(client, random_command(rng))
        if rng.random() < 0.1:  # the cron packing the small collections opened
            for db in databases:
                db.pack_loose()
    assert instance.keyspace_stats.used == sum(db.used for db in databases)
    for db in databases:
        expected = recount(db)  # (measures the changed values first)
        assert db.used == expected, f"db {db.index} drifted"
    # Deleting every key leaves only the expiry heap's stale entries ...
    for db in databases:
        for key in list(db.data):
            db.delete(key)
        assert db.used == len(db._expiry_heap) * EXPIRY_ENTRY
    # ... and FLUSHALL nothing at all.
    dispatcher.execute(client, [b"FLUSHALL"])
    assert instance.keyspace_stats.used == 0


def test_used_memory_tracks_big_changes(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    start = instance.used_memory.used()
    dispatcher.execute(client, [b"SET", b"big", b"x" * 1_000_000])
    assert 1_000_000 <= instance.used_memory.used() - start < 1_010_000
    dispatcher.execute(client, [b"RPUSH", b"list", *[b"y" * 1000] * 1000])
    instance.used_memory.refresh()
    assert 2_000_000 <= instance.used_memory.used() - start < 2_200_000
    dispatcher.execute(client, [b"DEL", b"big", b"list"])
    instance.used_memory.refresh()
    assert instance.used_memory.used() - start < 10_000


def test_small_counters_share_one_string_and_stay_independent(server) -> None:  # noqa: ANN001
    # INCR stores 0-9999 as shared objects (Redis's shared integers); a write to one
    # counter must never show through another.
    _, dispatcher, client = server
    for key in (b"a", b"b"):
        for _ in range(3):
            dispatcher.execute(client, [b"INCR", key])
    data = client.db.data
    assert data[b"a"] == b"3" and data[b"a"] is data[b"b"]
    assert dispatcher.execute(client, [b"APPEND", b"a", b"x"]) == 2
    assert dispatcher.execute(client, [b"SETRANGE", b"b", b"0", b"7"]) == 1
    assert dispatcher.execute(client, [b"INCRBY", b"c", b"3"]) == 3
    assert (data[b"a"], data[b"b"], data[b"c"]) == (b"3x", b"7", b"3")
    assert dispatcher.execute(client, [b"INCRBY", b"c", b"9997"]) == 10000
    assert data[b"c"] == b"10000"
    expected = recount(client.db)  # (measures the values changed in place first)
    assert client.db.used == expected
