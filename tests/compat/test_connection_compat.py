"""Connection commands: raw replies identical to a real Redis 7.0.

HELLO replies carry the connection id, which differs between servers: those are
compared with the id field masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from support.raw import RawClient

_ID = re.compile(rb"(\$2\r\nid\r\n):\d+\r\n")


def masked(reply: bytes) -> bytes:
    return _ID.sub(rb"\1:ID\r\n", reply)


def same(ref: bytes, ours: bytes, what: object) -> None:
    assert masked(ours) == masked(ref), f"{what!r}\n  redis:  {ref!r}\n  taipan: {ours!r}"


@pytest.fixture
def pair(real_redis, taipan) -> Iterator[tuple[RawClient, RawClient]]:
    clients = RawClient(real_redis.port), RawClient(taipan.port)
    yield clients
    for client in clients:
        client.close()


def run_both(pair: tuple[RawClient, RawClient], script: list[tuple]) -> None:
    ref, ours = pair
    for args in script:
        same(ref.call(*args), ours.call(*args), args)


@pytest.mark.parametrize("args", [
    ("PING",), ("PING", "hello"), ("PING", ""), ("PING", "a", "b"), ("ping",),
    ("ECHO",), ("ECHO", "a", "b"), ("ECHO", ""), ("ECHO", b"\x00\r\n\xff"),
    ("SELECT",), ("SELECT", "0"), ("SELECT", "15"), ("SELECT", "16"), ("SELECT", "-1"),
    ("SELECT", "abc"), ("SELECT", "1.0"), ("SELECT", "0", "1"),
    ("AUTH",), ("AUTH", "a"), ("AUTH", "a", "b"), ("AUTH", "default", "b"), ("AUTH", "a", "b", "c"),
    ("HELLO", "4"), ("HELLO", "1"), ("HELLO", "0"), ("HELLO", "-1"), ("HELLO", "abc"),
    ("HELLO", "2.0"), ("HELLO", "9223372036854775808"), ("HELLO", "2", "foo"),
    ("HELLO", "2", "AUTH"), ("HELLO", "2", "AUTH", "a"), ("HELLO", "2", "AUTH", "a", "b"),
    ("HELLO", "2", "AUTH", "default", "b"), ("HELLO", "2", "SETNAME"),
    ("HELLO", "2", "SETNAME", "a b"), ("HELLO", "2", "SETNAME", "a\nb"),
    ("HELLO", "3", "SETNAME", "x", "AUTH", "default", "x", "extra"),
    ("HELLO", "2", "setname", "x", "setname", "y"), ("HELLO",), ("HELLO", "2"), ("HELLO", "3"),
])
def test_connection_commands(differ, args) -> None:
    for resp in (2, 3):
        ref, ours = differ.both(*args, resp=resp)
        same(ref, ours, (resp, args))


def test_hello_switches_protocol(pair) -> None:
    run_both(pair, [("HELLO", "3"), ("GET", "missing"), ("HELLO", "2"), ("GET", "missing"),
                    ("HELLO", "3", "SETNAME", "conn"), ("CLIENT", "GETNAME"), ("HELLO",),
                    ("HELLO", "2", "SETNAME", "other"), ("CLIENT", "GETNAME")])


def test_select_is_per_connection(pair) -> None:
    run_both(pair, [("FLUSHALL",), ("SELECT", "1"), ("SET", "x", "in1"), ("SELECT", "0"),
                    ("GET", "x"), ("SELECT", "1"), ("GET", "x"), ("FLUSHALL",)])


def test_reset(pair) -> None:
    run_both(pair, [
        ("FLUSHALL",), ("SELECT", "1"), ("SET", "x", "y"), ("HELLO", "3", "SETNAME", "n"),
        ("WATCH", "x"), ("MULTI",), ("SET", "x", "z"), ("RESET",), ("GET", "x"),
        ("CLIENT", "GETNAME"), ("EXEC",), ("GET", "missing"), ("RESET", "x"), ("FLUSHALL",),
    ])


def test_quit_closes(real_redis, taipan) -> None:
    outputs = []
    for port in (real_redis.port, taipan.port):
        with RawClient(port) as client:
            client.send_raw(RawClient.encode("SET", "q", "1") + RawClient.encode("QUIT", "x")
                            + RawClient.encode("GET", "q"))
            outputs.append(client.read_until_closed())
    assert outputs[1] == outputs[0] == b"+OK\r\n+OK\r\n"


def _writes(admin: RawClient) -> int:
    match = re.search(rb"total_writes_processed:(\d+)", admin.call("INFO", "stats"))
    assert match is not None
    return int(match.group(1))


def _one_write_per_batch(port: int) -> tuple[list[bytes], int]:
    """Replies to pipelined batches of two clients, and the socket writes they took."""
    with RawClient(port) as admin, RawClient(port) as worker, RawClient(port) as listener:
        listener.call("HELLO", "3")
        before = _writes(admin)
        worker.send_raw(RawClient.encode("SET", "w", "1") + RawClient.encode("GET", "w")
                        + RawClient.encode("INCR", "w"))
        # A RESP3 client publishing to itself: the message comes before PUBLISH's reply.
        listener.send_raw(RawClient.encode("SUBSCRIBE", "ch")
                          + RawClient.encode("PUBLISH", "ch", "hi") + RawClient.encode("PING"))
        replies = [worker.read_reply() for _ in range(3)]
        replies += [listener.read_reply() for _ in range(4)]
        # INFO's own reply to ``before`` was one write, and each batch one more.
        return replies, _writes(admin) - before


def test_each_batch_is_answered_with_one_write(real_redis, taipan) -> None:
    expected = _one_write_per_batch(real_redis.port)
    assert expected[1] == 3
    assert _one_write_per_batch(taipan.port) == expected


def test_quit_inside_multi_is_not_queued(real_redis, taipan) -> None:
    outputs = []
    for port in (real_redis.port, taipan.port):
        with RawClient(port) as client:
            client.send_raw(RawClient.encode("MULTI") + RawClient.encode("QUIT"))
            outputs.append(client.read_until_closed())
    assert outputs[1] == outputs[0]


@pytest.fixture
def password(real_redis, taipan) -> Iterator[str]:
    for port in (real_redis.port, taipan.port):
        with RawClient(port) as admin:
            admin.call("CONFIG", "SET", "requirepass", "secret")
    yield "secret"
    for port in (real_redis.port, taipan.port):
        with RawClient(port) as admin:
            admin.call("AUTH", "secret")
            admin.call("CONFIG", "SET", "requirepass", "")


def test_auth_with_password(password, pair) -> None:
    run_both(pair, [
        ("GET", "a"), ("PING",), ("ECHO", "a"), ("SELECT", "1"), ("MULTI",), ("EXEC",),
        ("HELLO", "2"), ("HELLO",), ("HELLO", "2", "SETNAME", "x"), ("HELLO", "foo"),
        ("HELLO", "5"), ("HELLO", "3", "AUTH", "default", "wrong"),
        ("HELLO", "3", "AUTH", "nouser", "secret"), ("AUTH", "wrong"), ("AUTH", "nouser", "x"),
        ("AUTH", "a", "b", "c"), ("NOSUCH",), ("GET",), ("AUTH", "secret"), ("GET", "a"),
        ("AUTH", "default", "wrong"), ("GET", "a"), ("RESET",), ("GET", "a"),
        ("AUTH", "default", "secret"), ("RESET",),
        ("HELLO", "2", "AUTH", "default", "secret", "SETNAME", "x"), ("GET", "a"),
        ("CLIENT", "GETNAME"), ("QUIT",),
    ])
