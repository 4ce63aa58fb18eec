"""client-output-buffer-limit: a subscriber that never reads is dropped, memory stays bounded."""

from __future__ import annotations

import socket
import time

import pytest
import redis
from support.raw import RawClient
from support.servers import ServerProcess, start_taipan


@pytest.fixture
def limited() -> ServerProcess:
    server = start_taipan("--client-output-buffer-limit", "pubsub 1mb 256kb 1")
    yield server
    server.stop()


def _stalled_subscriber(port: int, channel: str) -> socket.socket:
    """A subscriber with a tiny receive buffer that never reads after subscribing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(RawClient.encode("SUBSCRIBE", channel))
    sock.recv(100)
    return sock


def _wait_gone(r: redis.Redis, channel: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if r.pubsub_numsub(channel)[0][1] == 0:
            return True
        time.sleep(0.05)
    return False


def test_hard_limit_drops_a_subscriber_that_never_reads(limited: ServerProcess) -> None:
    r = redis.Redis(port=limited.port, socket_timeout=10)
    stalled = _stalled_subscriber(limited.port, "flood")
    reader = r.pubsub()
    reader.subscribe("flood")
    reader.get_message(timeout=5)
    payload = b"x" * 100_000
    for _ in range(60):  # 6 MB: far past the 1 MB hard limit
        r.publish("flood", payload)
        # The other subscriber keeps up, message by message.
        message = reader.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None and message["data"] == payload
    deadline = time.monotonic() + 10
    while r.pubsub_numsub("flood")[0][1] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.pubsub_numsub("flood")[0][1] == 1  # only the stalled one was dropped
    assert "scheduled to be closed ASAP for overcoming of output buffer limits" in \
        limited.output()
    assert r.ping()  # the server keeps serving
    stalled.close()
    reader.close()
    r.close()


def test_soft_limit_over_its_seconds_drops_the_subscriber(limited: ServerProcess) -> None:
    r = redis.Redis(port=limited.port, socket_timeout=10)
    r.config_set("client-output-buffer-limit", "pubsub 0 256kb 1")  # no hard limit
    stalled = _stalled_subscriber(limited.port, "slow")
    payload = b"y" * 100_000
    for _ in range(60):  # 6 MB: past what the kernel's socket buffers take
        r.publish("slow", payload)
    time.sleep(0.2)
    assert r.pubsub_numsub("slow")[0][1] == 1  # not yet: the soft limit allows 1 s
    clients = [c for c in r.client_list() if c["sub"] == "1"]
    assert clients and int(clients[0]["omem"]) > 0
    assert r.info("clients")["client_recent_max_output_buffer"] > 0
    time.sleep(1.2)
    r.publish("slow", payload)  # checked again when its output grows
    assert _wait_gone(r, "slow")
    r.config_set("client-output-buffer-limit", "pubsub 1mb 256kb 1")
    stalled.close()
    r.close()


def test_limits_are_configurable_at_runtime(limited: ServerProcess) -> None:
    r = redis.Redis(port=limited.port, socket_timeout=10, decode_responses=True)
    r.config_set("client-output-buffer-limit", "pubsub 0 0 0")
    try:
        stalled = _stalled_subscriber(limited.port, "unbounded")
        for _ in range(20):
            r.publish("unbounded", "z" * 100_000)
        time.sleep(0.2)
        assert r.pubsub_numsub("unbounded")[0][1] == 1  # no limit: kept
        stalled.close()
    finally:
        r.config_set("client-output-buffer-limit", "pubsub 1mb 256kb 1")
    r.close()
