"""Limits over real sockets: maxclients, timeout, client-query-buffer-limit, AUTH.

Servers here are embedded (``taipan.Server``) so each test gets its own limits
without paying for a new process; they still speak to clients over TCP.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import redis
from support.raw import RawClient
from support.servers import ServerProcess, start_redis

import taipan


@pytest.fixture
def server() -> Iterator[taipan.Server]:
    with taipan.Server(port=0) as srv:
        yield srv


def _is_closed(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_maxclients(server: taipan.Server) -> None:
    with RawClient(server.port) as admin:
        assert admin.call("CONFIG", "SET", "maxclients", "2") == b"+OK\r\n"
        second = RawClient(server.port)
        extra = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        assert extra.recv(100) == b"-ERR max number of clients reached\r\n"
        assert _is_closed(extra, 2)
        assert second.call("PING") == b"+PONG\r\n"
        stats = admin.call("INFO", "stats")
        assert b"\r\nrejected_connections:1\r\n" in stats
        second.close()
        time.sleep(0.1)
        with RawClient(server.port) as again:  # a freed slot can be reused
            assert again.call("PING") == b"+PONG\r\n"


def test_timeout_closes_idle_clients_only(server: taipan.Server) -> None:
    with RawClient(server.port) as admin:
        admin.call("CONFIG", "SET", "timeout", "1")
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        busy = RawClient(server.port)
        deadline = time.monotonic() + 2.6
        while time.monotonic() < deadline:
            assert busy.call("PING") == b"+PONG\r\n"
            time.sleep(0.2)
        assert _is_closed(idle, 0.5)
        assert busy.call("PING") == b"+PONG\r\n"
        busy.close()


def test_query_buffer_limit_closes_the_client(server: taipan.Server) -> None:
    with RawClient(server.port) as admin:
        admin.call("CONFIG", "SET", "client-query-buffer-limit", "1mb")
        greedy = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        greedy.sendall(b"*2\r\n$3\r\nGET\r\n$3000000\r\n")
        try:
            for _ in range(30):
                greedy.sendall(b"x" * 100_000)
        except OSError:
            pass  # the server may close while we are still sending
        assert _is_closed(greedy, 3)
        assert admin.call("PING") == b"+PONG\r\n"
        # A pipeline of many small complete requests is never "a big query".
        pipe = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        pipe.sendall(b"*1\r\n$4\r\nPING\r\n" * 100_000)
        received = b""
        while len(received) < 700_000:
            chunk = pipe.recv(1 << 20)
            assert chunk
            received += chunk
        assert received == b"+PONG\r\n" * 100_000
        pipe.close()


def test_inline_request_too_big(server: taipan.Server) -> None:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"x" * (64 * 1024 + 10))
    assert sock.recv(200) == b"-ERR Protocol error: too big inline request\r\n"
    assert _is_closed(sock, 2)


# -- requirepass / AUTH / HELLO, compared with a real Redis -----------------------------

AUTH_SCRIPT = [
    ("PING",), ("GET", "x"), ("CLIENT", "ID"), ("AUTH",), ("AUTH", "wrong"),
    ("AUTH", "default", "wrong"), ("AUTH", "nosuch", "secret"), ("AUTH", "a", "b", "c"),
    ("HELLO", "3"), ("HELLO", "2", "AUTH", "default", "wrong"), ("HELLO", "2", "SETNAME", "x"),
    ("HELLO", "2", "AUTH", "default"), ("HELLO", "4"), ("QUIT",),
]
AFTER_AUTH = [("AUTH", "secret"), ("PING",), ("AUTH", "default", "secret"), ("GET", "x"),
              ("AUTH", "wrong"), ("PING",)]


@pytest.fixture
def auth_pair(real_redis: ServerProcess) -> Iterator[tuple[int, int]]:
    """A real Redis and a Taipan, both with ``requirepass secret``."""
    ref = start_redis("--requirepass", "secret")
    with taipan.Server(port=0, requirepass="secret") as ours:
        yield ref.port, ours.port
    ref.stop()


def test_requirepass_flows_match_redis(auth_pair: tuple[int, int]) -> None:
    for script in (AUTH_SCRIPT, AFTER_AUTH):
        ref, ours = RawClient(auth_pair[0]), RawClient(auth_pair[1])
        for args in script:
            expected, actual = ref.call(*args), ours.call(*args)
            if args == ("CLIENT", "ID"):
                continue
            assert actual == expected, args
        ref.close()
        ours.close()


def test_hello_auth_and_config_set_requirepass(auth_pair: tuple[int, int]) -> None:
    port = auth_pair[1]
    with RawClient(port) as client:
        reply = client.call("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me")
        assert reply.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
        assert client.call("CLIENT", "GETNAME") == b"$2\r\nme\r\n"
        assert client.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
    r = redis.Redis(port=port)
    assert r.ping()  # no password needed any more
    r.close()


def test_redis_py_with_password(auth_pair: tuple[int, int]) -> None:
    for port in auth_pair:
        client = redis.Redis(port=port, password="secret")
        assert client.ping()
        client.close()

