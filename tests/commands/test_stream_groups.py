"""Consumer groups and stream reads with redis-py: XGROUP, XREADGROUP, XREAD, XACK,
XPENDING, XCLAIM, XAUTOCLAIM, and blocking readers in threads and in asyncio."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
import redis.asyncio


def _entries(r: redis.Redis, key: str, count: int) -> list[bytes]:
    return [r.xadd(key, {"n": str(n)}) for n in range(count)]


def test_group_lifecycle(r: redis.Redis) -> None:
    ids = _entries(r, "s", 3)
    assert r.xgroup_create("s", "g", id="0")
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        r.xgroup_create("s", "g", id="0")
    assert r.xgroup_create("new", "g", id="$", mkstream=True)
    assert r.type("new") == b"stream" and r.xlen("new") == 0
    assert r.xgroup_createconsumer("s", "g", "alice") == 1
    assert r.xgroup_createconsumer("s", "g", "alice") == 0
    reply = r.xreadgroup("g", "bob", {"s": ">"}, count=2)
    assert [entry_id for entry_id, _ in reply[0][1]] == ids[:2]
    assert r.xpending("s", "g")["pending"] == 2
    assert r.xgroup_delconsumer("s", "g", "bob") == 2
    assert r.xpending("s", "g")["pending"] == 0
    assert r.xgroup_setid("s", "g", id="0") is True
    assert r.xinfo_groups("s")[0]["last-delivered-id"] == b"0-0"
    assert r.xgroup_destroy("s", "g") == 1
    assert r.xgroup_destroy("s", "g") == 0
    with pytest.raises(redis.ResponseError, match="requires the key to exist"):
        r.xgroup_create("missing", "g", id="0")


def test_readgroup_ack_pending_claim(r: redis.Redis) -> None:
    ids = _entries(r, "s", 5)
    r.xgroup_create("s", "g", id="0")
    first = r.xreadgroup("g", "alice", {"s": ">"}, count=3)
    assert [entry_id for entry_id, _ in first[0][1]] == ids[:3]
    assert first[0][1][0][1] == {b"n": b"0"}
    # history: the consumer's own pending entries
    history = r.xreadgroup("g", "alice", {"s": "0"})
    assert [entry_id for entry_id, _ in history[0][1]] == ids[:3]
    assert r.xreadgroup("g", "bob", {"s": "0"}) == [[b"s", []]]
    assert r.xack("s", "g", ids[0], ids[0], b"9-9") == 1
    summary = r.xpending("s", "g")
    assert summary["pending"] == 2 and summary["min"] == ids[1] and summary["max"] == ids[2]
    assert summary["consumers"] == [{"name": b"alice", "pending": 2}]
    rows = r.xpending_range("s", "g", min="-", max="+", count=10)
    assert [row["message_id"] for row in rows] == ids[1:3]
    assert rows[0]["times_delivered"] == 2  # read once, then again as history
    claimed = r.xclaim("s", "g", "bob", 0, [ids[1]], justid=True)
    assert claimed == [ids[1]]
    assert r.xclaim("s", "g", "bob", 3_600_000, [ids[2]]) == []
    cursor, entries, deleted = r.xautoclaim("s", "g", "carol", 0, "0-0", count=10)
    assert cursor == b"0-0" and [e[0] for e in entries] == ids[1:3] and deleted == []
    r.xdel("s", ids[1])
    cursor, entries, deleted = r.xautoclaim("s", "g", "carol", 0, "0-0")
    assert deleted == [ids[1]] and [e[0] for e in entries] == [ids[2]]
    consumers = {c["name"]: c["pending"] for c in r.xinfo_consumers("s", "g")}
    assert consumers == {b"alice": 0, b"bob": 0, b"carol": 1}


def test_lag_and_entries_read(r: redis.Redis) -> None:
    _entries(r, "s", 4)
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"}, count=1)
    group = r.xinfo_groups("s")[0]
    assert group["entries-read"] == 1 and group["lag"] == 3
    r.xreadgroup("g", "c", {"s": ">"}, noack=True)
    group = r.xinfo_groups("s")[0]
    assert group["entries-read"] == 4 and group["lag"] == 0 and group["pending"] == 1


def test_xread_shapes_and_errors(r: redis.Redis, r3: redis.Redis) -> None:
    ids = _entries(r, "a", 2)
    assert r.xread({"a": "0"}, count=1) == [[b"a", [(ids[0], {b"n": b"0"})]]]
    assert r.xread({"a": "$"}) == []
    assert r.xread({"a": ids[1]}, block=50) == []
    resp3 = r3.xread({"a": "0"})
    assert list(resp3) == [b"a"]
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        r.execute_command("XREAD", "BLOCK", "-1", "STREAMS", "a", "$")
    with pytest.raises(redis.ResponseError, match="only supported by XREADGROUP"):
        r.execute_command("XREAD", "GROUP", "g", "c", "STREAMS", "a", "0")
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        r.xreadgroup("nog", "c", {"a": ">"})


def test_transactions_never_block(r: redis.Redis) -> None:
    r.xgroup_create("s", "g", id="$", mkstream=True)
    pipe = r.pipeline(transaction=True)
    pipe.xread({"s": "$"}, block=0)
    pipe.xreadgroup("g", "c", {"s": ">"}, block=0)
    assert pipe.execute() == [[], []]


def _blocked_count(r: redis.Redis) -> int:
    return r.info("clients")["blocked_clients"]


def _wait_for_blocked(r: redis.Redis, count: int) -> None:
    deadline = time.monotonic() + 5
    while _blocked_count(r) < count:
        assert time.monotonic() < deadline, "clients did not block"
        time.sleep(0.005)


def test_blocked_xread_clients_all_see_the_entry(taipan, r: redis.Redis) -> None:
    r.xadd("s", {"old": "1"})
    results: dict[int, object] = {}

    def reader(n: int) -> None:
        with redis.Redis(port=taipan.port) as client:
            results[n] = client.xread({"s": "$"}, block=0)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    _wait_for_blocked(r, 4)
    new_id = r.xadd("s", {"new": "1"})
    for thread in threads:
        thread.join(5)
    assert all(reply == [[b"s", [(new_id, {b"new": b"1"})]]] for reply in results.values())
    assert len(results) == 4


def test_group_workers_in_threads(taipan, r: redis.Redis) -> None:
    """Workers loop XREADGROUP BLOCK + XACK while a producer adds entries: every
    entry is delivered to exactly one worker, and nothing is left pending."""
    r.xgroup_create("jobs", "workers", id="$", mkstream=True)
    total = 200
    seen: list[tuple[str, bytes]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(name: str) -> None:
        with redis.Redis(port=taipan.port) as client:
            while not stop.is_set():
                reply = client.xreadgroup("workers", name, {"jobs": ">"}, count=5, block=100)
                for _, entries in reply:
                    for entry_id, _fields in entries:
                        with lock:
                            seen.append((name, entry_id))
                        client.xack("jobs", "workers", entry_id)

    workers = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in workers:
        thread.start()
    _wait_for_blocked(r, 4)
    produced = [r.xadd("jobs", {"job": str(n)}) for n in range(total)]
    deadline = time.monotonic() + 10
    while len(seen) < total and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    for thread in workers:
        thread.join(5)
    assert sorted(entry_id for _, entry_id in seen) == sorted(produced)
    assert r.xpending("jobs", "workers")["pending"] == 0
    assert r.xinfo_groups("jobs")[0]["lag"] == 0


def test_blocked_group_reader_fails_when_group_destroyed(taipan, r: redis.Redis) -> None:
    r.xgroup_create("s", "g", id="$", mkstream=True)
    errors: list[str] = []

    def reader() -> None:
        with redis.Redis(port=taipan.port) as client:
            try:
                client.xreadgroup("g", "c", {"s": ">"}, block=0)
            except redis.ResponseError as error:
                errors.append(str(error))

    thread = threading.Thread(target=reader)
    thread.start()
    _wait_for_blocked(r, 1)
    r.xgroup_destroy("s", "g")
    thread.join(5)
    assert errors == ["NOGROUP the consumer group this client was blocked on no longer exists"]


def test_huge_block_waits_until_served(taipan, r: redis.Redis) -> None:
    results: list[object] = []

    def reader(block: int) -> None:
        with redis.Redis(port=taipan.port) as client:
            results.append(client.execute_command("XREAD", "BLOCK", str(block), "STREAMS", "h",
                                                  "$"))

    threads = [threading.Thread(target=reader, args=(ms,))
               for ms in (9223372036854775807, 10**18)]
    for thread in threads:
        thread.start()
    _wait_for_blocked(r, 2)
    time.sleep(0.1)
    assert _blocked_count(r) == 2
    r.xadd("h", {"f": "v"}, id="1-1")
    for thread in threads:
        thread.join(5)
    assert len(results) == 2 and all(reply for reply in results)


def test_asyncio_consumers(taipan) -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        admin = redis.asyncio.Redis(port=taipan.port)
        await admin.flushall()
        await admin.xgroup_create("aq", "g", id="$", mkstream=True)
        got: list[bytes] = []

        async def consume(name: str) -> None:
            client = redis.asyncio.Redis(port=taipan.port)
            try:
                while len(got) < 30:
                    reply = await client.xreadgroup("g", name, {"aq": ">"}, count=3, block=200)
                    for _, entries in reply:
                        for entry_id, _fields in entries:
                            got.append(entry_id)
                            await client.xack("aq", "g", entry_id)
            finally:
                await client.aclose()

        async def produce() -> list[bytes]:
            while (await admin.info("clients"))["blocked_clients"] < 3:
                await asyncio.sleep(0.005)
            return [await admin.xadd("aq", {"n": str(n)}) for n in range(30)]

        results = await asyncio.gather(produce(), *(consume(f"c{n}") for n in range(3)))
        pending = await admin.xpending("aq", "g")
        await admin.aclose()
        assert pending["pending"] == 0
        return results[0], got

    produced, got = asyncio.run(scenario())
    assert sorted(got) == sorted(produced)
