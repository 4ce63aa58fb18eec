"""Shared fixtures: a real Taipan process, and a real redis-server when installed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).parent))

from support.servers import ServerProcess, redis_server_path, start_redis, start_taipan  # noqa: E402


@pytest.fixture(scope="session")
def taipan() -> Iterator[ServerProcess]:
    """The shared Taipan packs small collections after every request it reads
    (``TAIPAN_PACK_EAGERLY``), so the differential and integration tests see every
    command run on packed values; servers tests start themselves pack as users' do."""
    server = start_taipan(env={"TAIPAN_PACK_EAGERLY": "1"})
    yield server
    server.stop()


@pytest.fixture
def r(taipan: ServerProcess) -> Iterator[redis.Redis]:
    """A redis-py client on a flushed Taipan (bytes replies)."""
    client = redis.Redis(port=taipan.port)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def r3(taipan: ServerProcess) -> Iterator[redis.Redis]:
    """A RESP3 redis-py client on a flushed Taipan."""
    client = redis.Redis(port=taipan.port, protocol=3)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def real_redis() -> Iterator[ServerProcess]:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed: differential tests need it "
                    "(apt-get install -y redis-server)")
    server = start_redis()
    yield server
    server.stop()
