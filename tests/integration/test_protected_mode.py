"""Protected mode and the ``local`` settings, seen from a non-loopback address.

Both servers listen on every address; the tests connect through this machine's own
non-loopback address (skipped where there is none), so the peer is not 127.0.0.1.
Taipan's replies are compared with a real redis-server's.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis

from taipan.net.protection import DENIED
from tests.support.servers import ServerProcess, redis_server_path, start_redis, start_taipan

_LOCAL_SETTINGS = ("--bind", "0.0.0.0", "--protected-mode", "yes",
                   "--enable-debug-command", "local", "--enable-protected-configs", "local")


def _outside_address() -> str | None:
    """This machine's address on its default route, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.254", 9))  # no packet is sent for UDP connect
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture(scope="module")
def outside() -> str:
    address = _outside_address()
    if address is None:
        pytest.skip("no non-loopback address on this machine")
    try:
        with socket.socket() as sock:
            sock.bind((address, 0))
    except OSError:
        pytest.skip(f"can't use {address} locally")
    return address


@pytest.fixture(scope="module")
def servers(outside: str) -> Iterator[dict[str, ServerProcess]]:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    started = {"taipan": start_taipan(*_LOCAL_SETTINGS)}
    try:
        started["redis"] = start_redis(*_LOCAL_SETTINGS)
        yield started
    finally:
        for server in started.values():
            server.stop()


def _read_until_closed(host: str, port: int) -> bytes:
    """What a server says, unasked, before closing (sending nothing avoids a reset)."""
    with socket.create_connection((host, port), timeout=5) as sock:
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _lines(host: str, port: int, *requests: bytes) -> list[bytes]:
    """One-line replies to inline requests sent one by one on one connection."""
    replies = []
    with socket.create_connection((host, port), timeout=5) as sock:
        stream = sock.makefile("rb")
        for request in requests:
            sock.sendall(request + b"\r\n")
            replies.append(stream.readline())
    return replies


def _reply(host: str, port: int, *command: str) -> object:
    client = redis.Redis(host=host, port=port, socket_timeout=5)
    try:
        return client.execute_command(*command)
    except redis.ResponseError as exc:
        return f"error: {exc}"
    finally:
        client.close()


def test_denied_from_outside_as_redis(servers: dict[str, ServerProcess], outside: str) -> None:
    for kind, server in servers.items():
        before = redis.Redis(port=server.port).info("stats")["rejected_connections"]
        received = _read_until_closed(outside, server.port)
        assert received == DENIED, kind
        stats = redis.Redis(port=server.port).info("stats")
        assert stats["rejected_connections"] == before + 1, kind
    # Loopback is served.
    for server in servers.values():
        assert _reply("127.0.0.1", server.port, "PING") is True


def test_password_or_protected_mode_no_lets_outsiders_in(servers: dict[str, ServerProcess],
                                                         outside: str) -> None:
    replies: dict[str, list[object]] = {}
    for kind, server in servers.items():
        local = redis.Redis(port=server.port)
        seen = replies.setdefault(kind, [])
        local.config_set("requirepass", "sesame")
        try:
            local.auth("sesame")
            seen.append(_lines(outside, server.port, b"PING", b"AUTH sesame", b"PING"))
        finally:
            local.config_set("requirepass", "")
        local.config_set("protected-mode", "no")
        try:
            seen.append(_lines(outside, server.port, b"PING"))
        finally:
            local.config_set("protected-mode", "yes")
    assert replies["taipan"] == replies["redis"]
    assert replies["taipan"] == [
        [b"-NOAUTH Authentication required.\r\n", b"+OK\r\n", b"+PONG\r\n"],
        [b"+PONG\r\n"]]


def test_local_settings_from_outside(servers: dict[str, ServerProcess], outside: str) -> None:
    replies: dict[str, list[object]] = {}
    for kind, server in servers.items():
        local = redis.Redis(port=server.port)
        workdir = local.config_get("dir")["dir"]
        local.config_set("protected-mode", "no")
        try:
            replies[kind] = [
                _reply(outside, server.port, "DEBUG", "SLEEP", "0"),
                _reply(outside, server.port, "CONFIG", "SET", "dir", workdir),
                _reply("127.0.0.1", server.port, "DEBUG", "SLEEP", "0"),
                _reply("127.0.0.1", server.port, "CONFIG", "SET", "dir", workdir),
            ]
        finally:
            local.config_set("protected-mode", "yes")
    assert replies["taipan"] == replies["redis"]
    assert replies["taipan"][2:] == [b"OK", b"OK"]
