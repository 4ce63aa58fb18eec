"""A pytest plugin for users' own test suites: a real Taipan server per session.

Enabled automatically when taipan is installed (entry point ``taipan``)::

    def test_cache(taipan_url):
        r = redis.Redis.from_url(taipan_url)
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from taipan.embed import Server


@pytest.fixture(scope="session")
def taipan_server() -> Iterator[Server]:
    """A Taipan server on an ephemeral port, running for the whole test session."""
    with Server(port=0) as server:
        yield server


@pytest.fixture
def taipan_url(taipan_server: Server) -> Iterator[str]:
    """The server's URL; every database is flushed after each test."""
    yield taipan_server.url
    with socket.create_connection((taipan_server.host, taipan_server.port), timeout=5) as sock:
        sock.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
        sock.recv(16)
