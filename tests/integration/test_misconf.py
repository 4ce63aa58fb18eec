"""stop-writes-on-bgsave-error: after a failed background save, writes get MISCONF."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis
from support.raw import RawClient
from support.servers import start_taipan

MISCONF = (b"-MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
           b"to persist to disk. Commands that may modify the data set are disabled, because "
           b"this instance is configured to report errors during writes if RDB snapshotting "
           b"fails (stop-writes-on-bgsave-error option). Please check the Redis logs for "
           b"details about the RDB error.\r\n")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.skipif(not hasattr(os, "fork"), reason="background saves fork")
def test_failed_bgsave_refuses_writes_until_a_save_succeeds() -> None:
    server = start_taipan("--save", "3600 1")  # one quoted argument, split as Redis does
    try:
        loader = RawClient(server.port)
        loader.send_raw(b"".join(RawClient.encode("SET", f"k:{i}", "v" * 20)
                                 for i in range(300_000)))
        for _ in range(300_000):
            loader.read_reply()
        client = redis.Redis(port=server.port)
        assert client.bgsave()
        child = None
        deadline = time.monotonic() + 5
        while child is None and time.monotonic() < deadline:
            kids = _children(server.proc.pid)
            child = kids[0] if kids else None
        assert child is not None, "no background save child appeared"
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while client.info("persistence")["rdb_bgsave_in_progress"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.info("persistence")["rdb_last_bgsave_status"] == "err"
        raw = RawClient(server.port)
        assert raw.call("SET", "x", "1") == MISCONF
        assert raw.call("PING") == MISCONF  # Redis refuses PING too
        assert raw.call("GET", "k:1") == b"$20\r\n" + b"v" * 20 + b"\r\n"
        assert raw.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no") == b"+OK\r\n"
        assert raw.call("SET", "x", "1") == b"+OK\r\n"
    finally:
        server.stop()
