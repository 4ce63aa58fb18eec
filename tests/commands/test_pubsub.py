"""Pub/sub through redis-py against Taipan: PubSub objects, threads, asyncio, introspection."""

from __future__ import annotations

import asyncio
import threading
import time

import redis
import redis.asyncio
from support.raw import RawClient
from support.servers import ServerProcess


def _client(taipan: ServerProcess, **kwargs) -> redis.Redis:
    return redis.Redis(port=taipan.port, socket_timeout=10, **kwargs)


def _message(pubsub, timeout: float = 5.0) -> dict | None:
    """The next data message (confirmations skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message is not None:
            return message
    return None


def test_subscribe_publish_get_message(taipan: ServerProcess) -> None:
    r = _client(taipan)
    pubsub = r.pubsub()
    pubsub.subscribe("news")
    assert pubsub.get_message(timeout=5) == {
        "type": "subscribe", "pattern": None, "channel": b"news", "data": 1}
    assert r.publish("news", "hello") == 1
    assert _message(pubsub) == {"type": "message", "pattern": None, "channel": b"news",
                                "data": b"hello"}
    pubsub.close()
    r.close()


def test_pattern_handlers_and_listen(taipan: ServerProcess) -> None:
    r = _client(taipan, decode_responses=True)
    received: list[tuple[str, str]] = []
    pubsub = r.pubsub()
    pubsub.psubscribe(**{"events.*": lambda m: received.append((m["channel"], m["data"]))})
    pubsub.subscribe("plain")
    assert r.publish("events.created", "1") == 1
    assert r.publish("plain", "2") == 1
    for message in pubsub.listen():
        if message["type"] == "message":
            assert message["data"] == "2"
            break
    assert received == [("events.created", "1")]
    pubsub.close()
    r.close()


def test_run_in_thread_delivers_in_publish_order(taipan: ServerProcess) -> None:
    r = _client(taipan, decode_responses=True)
    seen: list[str] = []
    done = threading.Event()

    def handler(message: dict) -> None:
        seen.append(message["data"])
        if len(seen) == 100:
            done.set()

    pubsub = r.pubsub()
    pubsub.subscribe(**{"ordered": handler})
    worker = pubsub.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        deadline = time.monotonic() + 5
        while r.pubsub_numsub("ordered")[0][1] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        with r.pipeline(transaction=False) as pipe:
            for i in range(100):
                pipe.publish("ordered", str(i))
            assert pipe.execute() == [1] * 100
        assert done.wait(5)
        assert seen == [str(i) for i in range(100)]
    finally:
        worker.stop()
        worker.join(5)
        pubsub.close()
        r.close()


def test_health_check_ping_while_subscribed(taipan: ServerProcess) -> None:
    r = _client(taipan, health_check_interval=1)
    pubsub = r.pubsub()
    pubsub.subscribe("health")
    pubsub.get_message(timeout=2)
    pubsub.ping()
    message = pubsub.get_message(timeout=2)
    assert message is not None and message["type"] == "pong"
    pubsub.close()
    r.close()


def test_resp3_pubsub_push_messages(taipan: ServerProcess) -> None:
    r = _client(taipan, protocol=3)
    pubsub = r.pubsub()
    pubsub.subscribe("r3")
    pubsub.get_message(timeout=2)
    assert r.publish("r3", "pushed") == 1
    message = _message(pubsub)
    assert message is not None and message["data"] == b"pushed"
    # RESP3 allows ordinary commands on the subscribed connection.
    conn = pubsub.connection
    conn.send_command("SET", "r3:key", "v")
    assert conn.read_response() == b"OK"
    pubsub.close()
    r.delete("r3:key")
    r.close()


def test_asyncio_pubsub(taipan: ServerProcess) -> None:
    async def scenario() -> list[bytes]:
        r = redis.asyncio.Redis(port=taipan.port)
        pubsub = r.pubsub()
        await pubsub.psubscribe("aio.*")
        await pubsub.get_message(timeout=2)
        for i in range(3):
            assert await r.publish(f"aio.{i}", f"m{i}") == 1
        got = []
        while len(got) < 3:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
            if message is not None:
                got.append(message["data"])
        await pubsub.aclose() if hasattr(pubsub, "aclose") else await pubsub.close()
        await r.aclose() if hasattr(r, "aclose") else await r.close()
        return got

    assert asyncio.run(scenario()) == [b"m0", b"m1", b"m2"]


def test_client_list_and_info_show_subscriptions(taipan: ServerProcess) -> None:
    r = _client(taipan, decode_responses=True)
    sub = RawClient(taipan.port)
    sub.call("CLIENT", "SETNAME", "subscriber")
    sub.call("SUBSCRIBE", "cl:a", "cl:b")
    sub.read_reply()
    sub.call("PSUBSCRIBE", "cl:*")
    sub.call("SSUBSCRIBE", "cl:s")
    entry = next(c for c in r.client_list() if c["name"] == "subscriber")
    assert (entry["sub"], entry["psub"], entry["ssub"], entry["flags"]) == ("2", "1", "1", "P")
    assert any(c["name"] == "subscriber" for c in r.client_list(_type="pubsub"))
    assert not any(c["name"] == "subscriber" for c in r.client_list(_type="normal"))
    stats = r.info("stats")
    assert stats["pubsub_channels"] >= 2 and stats["pubsub_patterns"] >= 1
    assert stats["pubsubshard_channels"] >= 1
    sub.close()
    deadline = time.monotonic() + 5
    while r.pubsub_numsub("cl:a")[0][1] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert r.pubsub_numsub("cl:a") == [("cl:a", 0)]
    r.close()


def test_many_channels_and_patterns(taipan: ServerProcess) -> None:
    """Thousands of subscriptions in one command; a publish still reaches the right ones."""
    r = _client(taipan)
    sub = RawClient(taipan.port, timeout=30)
    channels = [b"many:%d" % i for i in range(20000)]
    sub.send_raw(RawClient.encode("SUBSCRIBE", *channels))
    for _ in channels:
        sub.read_reply()
    patterns = [b"pat:%d:*" % i for i in range(2000)]
    sub.send_raw(RawClient.encode("PSUBSCRIBE", *patterns))
    for _ in patterns:
        sub.read_reply()
    assert r.publish("many:19999", "x") == 1
    assert sub.read_reply().endswith(b"$1\r\nx\r\n")
    assert r.publish("pat:1999:z", "y") == 1
    assert sub.read_reply().startswith(b"*4\r\n$8\r\npmessage")
    assert r.pubsub_numpat() >= 2000
    sub.close()
    r.close()


def test_pathological_pattern_stays_fast(taipan: ServerProcess) -> None:
    """``*?*?*?...`` against long channel names is linear, not exponential."""
    r = _client(taipan)
    sub = RawClient(taipan.port)
    pattern = b"*?" * 30 + b"z"
    sub.call("PSUBSCRIBE", pattern)
    started = time.monotonic()
    for _ in range(50):
        assert r.publish("a" * 5000, "m") == 0
    assert time.monotonic() - started < 5
    assert r.publish("a" * 100 + "z", "m") == 1
    sub.close()
    r.close()
