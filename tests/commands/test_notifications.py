"""Keyspace notifications with redis-py: PubSub receiving keyspace/keyevent messages,
and notify-keyspace-events through CONFIG SET/GET."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from support.servers import ServerProcess


@pytest.fixture
def notify(r: redis.Redis) -> Iterator[Callable[[str], None]]:
    """Set notify-keyspace-events for one test; always switched off afterwards."""

    def configure(flags: str) -> None:
        assert r.config_set("notify-keyspace-events", flags)

    yield configure
    r.config_set("notify-keyspace-events", "")


def _subscribed(port: int, protocol: int = 2) -> tuple[redis.Redis, Any]:
    client = redis.Redis(port=port, protocol=protocol)
    pubsub = client.pubsub()
    pubsub.psubscribe("__key*__:*", "nk-end")
    # Both confirmations first: nothing may be published before the server has them.
    confirmed = 0
    while confirmed < 2:
        message = pubsub.get_message(timeout=2.0)
        assert message is not None, "PSUBSCRIBE was not confirmed"
        assert message["type"] == "psubscribe"
        confirmed += 1
    return client, pubsub


def _drain(client: redis.Redis, pubsub: Any, publisher: redis.Redis) -> list[tuple[bytes, bytes]]:
    """(channel, data) of every message up to an end marker published last."""
    publisher.publish("nk-end", "end")
    received = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1.0)
        if message is None:
            continue
        assert message["type"] == "pmessage"
        if message["channel"] == b"nk-end":
            return received
        received.append((message["channel"], message["data"]))
    raise AssertionError(f"no end marker; got {received}")


@pytest.fixture
def events(taipan: ServerProcess, r: redis.Redis) -> Iterator[Callable[..., Any]]:
    """``events()``: the messages received since the subscriber connected."""
    opened: list[tuple[redis.Redis, Any]] = []

    def subscribe(protocol: int = 2) -> Callable[[], list[tuple[bytes, bytes]]]:
        client, pubsub = _subscribed(taipan.port, protocol)
        opened.append((client, pubsub))
        return lambda: _drain(client, pubsub, r)

    yield subscribe
    for client, pubsub in opened:
        pubsub.close()
        client.close()


def test_set_publishes_keyspace_and_keyevent(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("KEA")
    received = events()
    r.set("greeting", "hi")
    assert received() == [
        (b"__keyspace@0__:greeting", b"set"),
        (b"__keyevent@0__:set", b"greeting"),
    ]


def test_off_by_default(r: redis.Redis, events: Any) -> None:
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": ""}
    received = events()
    r.set("k", "v")
    r.delete("k")
    assert received() == []


def test_keyevent_only_list_pop_then_del(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("El")
    received = events()
    r.rpush("queue", "a", "b")
    r.lpop("queue", 2)
    r.delete("nothing")  # generic events are off
    assert received() == [
        (b"__keyevent@0__:rpush", b"queue"),
        (b"__keyevent@0__:lpop", b"queue"),
    ]


def test_emptied_collection_fires_del(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("Eg$lshz")
    r.hset("h", "f", "v")
    r.sadd("s", "m")
    r.zadd("z", {"m": 1})
    received = events()
    r.hdel("h", "f")
    r.srem("s", "m")
    r.zpopmin("z")
    assert received() == [
        (b"__keyevent@0__:hdel", b"h"), (b"__keyevent@0__:del", b"h"),
        (b"__keyevent@0__:srem", b"s"), (b"__keyevent@0__:del", b"s"),
        (b"__keyevent@0__:zpopmin", b"z"), (b"__keyevent@0__:del", b"z"),
    ]


def test_set_with_expire_then_rename(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("Kg$")
    received = events()
    r.set("a", "v", ex=100)
    r.rename("a", "b")
    assert received() == [
        (b"__keyspace@0__:a", b"set"),
        (b"__keyspace@0__:a", b"expire"),
        (b"__keyspace@0__:a", b"rename_from"),
        (b"__keyspace@0__:b", b"rename_to"),
    ]


def test_lazy_expiry_fires_expired(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("Ex")
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set("short", "v", px=1)
        received = events()
        time.sleep(0.02)
        assert r.get("short") is None
        assert received() == [(b"__keyevent@0__:expired", b"short")]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_active_expiry_fires_expired(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("Ex")
    received = events()
    before = r.info("stats")["expired_keys"]
    r.set("short", "v", px=1)
    deadline = time.monotonic() + 5
    while r.info("stats")["expired_keys"] == before:  # touches no key
        assert time.monotonic() < deadline, "the active expiry cycle never ran"
        time.sleep(0.01)
    assert received() == [(b"__keyevent@0__:expired", b"short")]


def test_new_and_keymiss_classes(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("Enm")
    received = events()
    r.set("fresh", "1")
    r.set("fresh", "2")  # exists: no "new"
    r.get("absent")
    r.get("fresh")  # a hit: nothing
    assert received() == [
        (b"__keyevent@0__:new", b"fresh"),
        (b"__keyevent@0__:keymiss", b"absent"),
    ]


def test_events_name_the_database(r: redis.Redis, notify: Any, events: Any,
                                  taipan: ServerProcess) -> None:
    notify("Eg")
    received = events()
    other = redis.Redis(port=taipan.port, db=4)
    try:
        other.set("k", "v")
        other.move("k", 5)
    finally:
        other.close()
        redis.Redis(port=taipan.port, db=5).delete("k")
    assert received()[:2] == [
        (b"__keyevent@4__:move_from", b"k"),
        (b"__keyevent@5__:move_to", b"k"),
    ]


def test_resp3_subscriber(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("KEA")
    received = events(protocol=3)
    r.incr("counter")
    assert received() == [
        (b"__keyspace@0__:counter", b"incrby"),
        (b"__keyevent@0__:incrby", b"counter"),
    ]


def test_script_and_transaction_events(r: redis.Redis, notify: Any, events: Any) -> None:
    notify("E$l")
    received = events()
    r.eval("redis.call('set', KEYS[1], 'x'); return redis.call('append', KEYS[1], 'y')",
           1, "scripted")
    with r.pipeline(transaction=True) as pipe:
        pipe.lpush("txlist", "a")
        pipe.incrbyfloat("txfloat", 1.5)
        pipe.execute()
    assert received() == [
        (b"__keyevent@0__:set", b"scripted"),
        (b"__keyevent@0__:append", b"scripted"),
        (b"__keyevent@0__:lpush", b"txlist"),
        (b"__keyevent@0__:incrbyfloat", b"txfloat"),
    ]


@pytest.mark.parametrize(("given", "shown"), [
    ("KEA", "AKE"),
    ("AKE", "AKE"),
    ("A", "A"),
    ("g$lshzxetd", "A"),
    ("Elg", "glE"),
    ("Ex$", "$xE"),
    ("mE", "Em"),
    ("KEAm", "AKEm"),
    ("K", "K"),
    ("", ""),
])
def test_config_round_trip(r: redis.Redis, notify: Any, given: str, shown: str) -> None:
    notify(given)
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": shown}


@pytest.mark.parametrize("value", ["KEw", "K E", "x!", "KEA?"])
def test_config_rejects_unknown_classes(r: redis.Redis, notify: Any, value: str) -> None:
    notify("KEA")
    with pytest.raises(redis.ResponseError) as raised:
        r.config_set("notify-keyspace-events", value)
    assert str(raised.value) == (
        "CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    # The previous value stays.
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}


def test_config_set_takes_effect_at_once(r: redis.Redis, notify: Any, events: Any) -> None:
    received = events()
    r.set("before", "v")
    notify("E$")
    r.set("during", "v")
    notify("")
    r.set("after", "v")
    assert received() == [(b"__keyevent@0__:set", b"during")]
