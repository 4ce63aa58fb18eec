"""Memory per key: load N small string keys with pipelined MSET and compare before/after."""

from __future__ import annotations

import socket
import time

from bench.servers import Server

VALUE = b"abc"  # 3 bytes and not an integer, so Redis keeps it as a plain (embstr) string


def encode(*args: bytes) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def mset_batches(count: int, batch: int):
    """MSET commands setting ``key:000000000`` … ``key:<count-1>`` to VALUE."""
    for start in range(0, count, batch):
        args = [b"MSET"]
        for i in range(start, min(start + batch, count)):
            args += (b"key:%09d" % i, VALUE)
        yield encode(*args)


def load_keys(port: int, count: int, batch: int = 1000, window: int = 8) -> float:
    """Set ``count`` keys with ``window`` MSETs in flight; returns the seconds it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        buf = b""
        in_flight = 0
        commands = mset_batches(count, batch)
        exhausted = False
        while True:
            while not exhausted and in_flight < window:
                command = next(commands, None)
                if command is None:
                    exhausted = True
                else:
                    sock.sendall(command)
                    in_flight += 1
            if in_flight == 0:
                break
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("server closed the connection during the load")
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                if line != b"+OK":
                    raise RuntimeError(f"MSET failed: {line[:200]!r}")
                in_flight -= 1
    return time.monotonic() - started


def snapshot(server: Server) -> dict[str, int]:
    info = server.info("memory")
    return {"used_memory": int(info["used_memory"]), "rss": server.rss_bytes(),
            "info_rss": int(info.get("used_memory_rss", 0))}


def measure(server: Server, count: int, batch: int = 1000) -> dict:
    """Bytes per key for ``count`` keys loaded into an empty, freshly started server."""
    client = server.client()
    try:
        if client.dbsize():
            raise RuntimeError(f"{server.kind} is not empty before the memory load")
        before = snapshot(server)
        seconds = load_keys(server.port, count, batch)
        loaded = client.dbsize()
        sample = client.get(f"key:{count - 1:09d}")
    finally:
        client.close()
    after = snapshot(server)
    if loaded != count or sample != VALUE.decode():
        raise RuntimeError(f"{server.kind}: expected {count} keys, DBSIZE says {loaded}; "
                           f"last key holds {sample!r}")
    return {
        "keys": count,
        "load_seconds": seconds,
        "load_keys_per_s": count / seconds if seconds else None,
        "before": before,
        "after": after,
        "used_memory_per_key": (after["used_memory"] - before["used_memory"]) / count,
        "rss_per_key": (after["rss"] - before["rss"]) / count,
    }
