"""A pytest plugin for users' own test suites: a real Taipan server per session.

Enabled automatically when taipan is installed (entry point ``taipan``)::

    def test_cache(taipan_url):
        r = redis.Redis.from_url(taipan_url)

The server's options (redis.conf directives as keywords) come from the
``taipan_server_options`` fixture; override it in a conftest.py, for instance to
start with TLS (``taipan_tls_url`` then gives its ``rediss://`` URL)::

    @pytest.fixture(scope="session")
    def taipan_server_options():
        return {"tls": True, "tls_cert_file": "server.crt", "tls_key_file": "server.key",
                "tls_ca_cert_file": "ca.crt", "tls_auth_clients": "no"}
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from taipan.embed import Server


@pytest.fixture(scope="session")
def taipan_server_options() -> dict[str, Any]:
    """Options for the session's server; none by default (override to change)."""
    return {}


@pytest.fixture(scope="session")
def taipan_server(taipan_server_options: dict[str, Any]) -> Iterator[Server]:
    """A Taipan server on an ephemeral port, running for the whole test session."""
    with Server(port=0, **taipan_server_options) as server:
        yield server


@pytest.fixture
def taipan_tls_url(taipan_server: Server) -> str:
    """The ``rediss://`` URL of a server started with ``tls=True``."""
    return taipan_server.tls_url


@pytest.fixture
def taipan_url(taipan_server: Server) -> Iterator[str]:
    """The server's URL; every database is flushed after each test."""
    yield taipan_server.url
    with socket.create_connection((taipan_server.host, taipan_server.port), timeout=5) as sock:
        sock.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
        sock.recv(16)
