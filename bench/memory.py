"""Memory per element: load one data set (see bench/loads.py) and compare before/after."""

from __future__ import annotations

import socket
import time
from collections import deque

import redis

from bench.loads import KEY_OF, SMALL_KINDS, SMALL_SIZE, VALUE, batches
from bench.parsing import parse_memory_usage, per_element
from bench.servers import Server


def load(port: int, kind: str, count: int, batch: int = 1000, window: int = 8) -> float:
    """Send the ``kind`` data set with ``window`` batches in flight; returns the seconds."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        buf = b""
        expected: deque[bytes] = deque()
        in_flight: deque[int] = deque()  # reply lines still due, per batch sent
        commands = batches(kind, count, batch)
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < window:
                item = next(commands, None)
                if item is None:
                    exhausted = True
                else:
                    sock.sendall(item[0])
                    expected.extend(item[1])
                    in_flight.append(len(item[1]))
            if not expected:
                break
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("server closed the connection during the load")
            lines = (buf + chunk).split(b"\r\n")
            buf = lines.pop()  # an incomplete line, or b""
            for line in lines:
                want = expected.popleft()
                if line != want:
                    raise RuntimeError(f"{kind} load: expected {want!r}, got {line[:200]!r}")
                in_flight[0] -= 1
                if not in_flight[0]:
                    in_flight.popleft()
    return time.monotonic() - started


_LENGTH_OF = {"small-hash": "HLEN", "small-set": "SCARD", "small-zset": "ZCARD",
              "small-list": "LLEN"}


def snapshot(server: Server) -> dict[str, int]:
    info = server.info("memory")
    return {"used_memory": int(info["used_memory"]), "rss": server.rss_bytes(),
            "info_rss": int(info.get("used_memory_rss", 0))}


def _check(client: redis.Redis, kind: str, count: int) -> str | None:
    """Why the loaded data set looks wrong, or None."""
    last = count - 1
    if kind in SMALL_KINDS:
        size, want = client.dbsize(), SMALL_SIZE
        sample = client.execute_command(_LENGTH_OF[kind], f"{kind}:{last:09d}")
    elif kind == "strings":
        size, sample, want = client.dbsize(), client.get(f"key:{last:09d}"), VALUE.decode()
    elif kind == "hash":
        size, sample, want = client.hlen(KEY_OF[kind]), client.hget(KEY_OF[kind],
                                                                    f"field:{last}"), str(last)
    else:
        size, sample, want = client.zcard(KEY_OF[kind]), client.zscore(KEY_OF[kind],
                                                                        f"member:{last}"), last
        sample = None if sample is None else int(sample)
    if size != count or sample != want:
        return f"expected {count:,} elements, found {size:,}; last element holds {sample!r}"
    return None


def memory_usage(client: redis.Redis, key: str | None) -> dict:
    """``MEMORY USAGE key SAMPLES 0`` (exact: every element counted), or why not."""
    if key is None:
        return {"bytes": None, "error": "not measured for strings (one figure per key)"}
    try:
        reply = client.execute_command("MEMORY", "USAGE", key, "SAMPLES", "0")
    except redis.ResponseError as exc:  # e.g. a server without the MEMORY command
        reply = exc
    value, error = parse_memory_usage(reply)
    return {"bytes": value, "error": error}


def measure(server: Server, kind: str, count: int, batch: int = 1000) -> dict:
    """Bytes per element for ``count`` elements loaded into an empty, freshly started server."""
    client = server.client()
    try:
        if client.dbsize():
            raise RuntimeError(f"{server.kind} is not empty before the memory load")
        before = snapshot(server)
        seconds = load(server.port, kind, count, batch)
        problem = _check(client, kind, count)
        if problem:
            raise RuntimeError(f"{server.kind} {kind}: {problem}")
        time.sleep(0.5)  # a few cron ticks: Taipan packs the last small collections then
        after = snapshot(server)
        usage = memory_usage(client, KEY_OF[kind])
    finally:
        client.close()
    return {
        "kind": kind,
        "elements": count,
        "load_seconds": seconds,
        "load_elements_per_s": count / seconds if seconds else None,
        "before": before,
        "after": after,
        "used_memory_per_element": per_element(before["used_memory"], after["used_memory"],
                                               count),
        "rss_per_element": per_element(before["rss"], after["rss"], count),
        "memory_usage": usage["bytes"],
        "memory_usage_error": usage["error"],
        # (the small kinds: MEMORY USAGE of one key, so per key)
        "memory_usage_per_element": per_element(0, usage["bytes"],
                                                1 if kind in SMALL_KINDS else count),
    }
