"""The active expiry cycle removes keys nobody reads, without stalling the server."""

from __future__ import annotations

import time

import redis
from support.raw import RawClient
from support.servers import start_taipan

KEYS = 200_000


def test_many_expiring_keys_go_away_without_stalling() -> None:
    server = start_taipan()
    try:
        loader = RawClient(server.port)
        batch = b"".join(RawClient.encode("SET", f"k:{i}", "v", "PX", "1500") for i in range(KEYS))
        loader.send_raw(batch)
        for _ in range(KEYS):
            loader.read_reply()
        client = redis.Redis(port=server.port)
        client.set("keeper", "stays")
        assert client.dbsize() > KEYS // 2  # most are still there after loading
        worst = 0.0
        deadline = time.monotonic() + 20
        while client.dbsize() > 1 and time.monotonic() < deadline:
            started = time.monotonic()
            client.ping()
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.005)
        assert client.dbsize() == 1, "expired keys were never reclaimed"
        assert client.get("keeper") == b"stays"
        assert client.info("stats")["expired_keys"] == KEYS
        # Each cycle is time-boxed (25% of a 100 ms tick): a client never waits for
        # the whole backlog. Generous bound for a loaded 2-core CI machine.
        assert worst < 0.5, f"a PING waited {worst:.3f}s behind the expiry cycle"
    finally:
        server.stop()
