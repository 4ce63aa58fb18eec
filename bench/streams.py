"""Streams: XADD, XRANGE, an XREADGROUP+XACK consumer loop and memory per entry,
redis-server vs Taipan.

    python bench/streams.py                      # 3 interleaved rounds
    python bench/streams.py --requests 50000 --entries 200000 --rounds 1

Measured per server, interleaved round by round:

* XADD bench:s * field value, redis-benchmark -c 50 at P1 and P16;
* XRANGE key - + COUNT 10 and COUNT 100 on a stream pre-filled with 10,000 small
  entries, redis-benchmark -c 50 at P1;
* a consumer loop: one Python client (hiredis parser) doing XREADGROUP GROUP g c
  COUNT 10 STREAMS key > then XACK of the IDs it got, until a pre-filled stream is
  consumed; messages per second (the same driver for both servers);
* memory per entry: INFO used_memory and RSS growth for 1,000,000 entries of one
  small field (XADD with * IDs, pipelined), once per server after the rounds.

A benchmark, never a test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hiredis  # noqa: E402

from bench.parsing import parse_csv  # noqa: E402
from bench.report import side_by_side  # noqa: E402
from bench.servers import Server, start_redis, start_taipan, versions  # noqa: E402

RANGE_KEY = "bench:range"
GROUP_KEY = "bench:group"


def _benchmark(server: Server, pipeline: int, requests: int, *command: str) -> float:
    out = subprocess.run(["redis-benchmark", "-p", str(server.port), "-c", "50", "-P",
                          str(pipeline), "-n", str(requests), "--csv", *command],
                         capture_output=True, text=True, timeout=900, check=False)
    rows = parse_csv(out.stdout)
    return next(iter(rows.values()), 0.0)


class _Raw:
    """A bare RESP connection: pipelined writes, replies parsed by hiredis."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    @staticmethod
    def encode(*args: bytes) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(parts)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> object:
        while True:
            got = self.reader.gets()
            if got is not False:
                if isinstance(got, hiredis.ReplyError):
                    raise RuntimeError(str(got))
                return got
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.reader.feed(chunk)

    def call(self, *args: bytes) -> object:
        self.send(self.encode(*args))
        return self.reply()

    def close(self) -> None:
        self.sock.close()


def _fill(port: int, key: bytes, count: int, batch: int = 1000) -> None:
    """``count`` entries of one small field, by pipelined XADD ... * (batches)."""
    conn = _Raw(port)
    command = conn.encode(b"XADD", key, b"*", b"field", b"value")
    for start in range(0, count, batch):
        size = min(batch, count - start)
        conn.send(command * size)
        for _ in range(size):
            conn.reply()
    conn.close()


def prepare_range(server: Server, entries: int) -> None:
    conn = _Raw(server.port)
    conn.call(b"DEL", RANGE_KEY.encode())
    conn.close()
    _fill(server.port, RANGE_KEY.encode(), entries)


def consume(server: Server, messages: int) -> float:
    """Messages per second for XREADGROUP COUNT 10 + XACK until ``messages`` are read."""
    key = GROUP_KEY.encode()
    conn = _Raw(server.port)
    conn.call(b"DEL", key)
    conn.close()
    _fill(server.port, key, messages)
    conn = _Raw(server.port)
    conn.call(b"XGROUP", b"CREATE", key, b"g", b"0")
    read = conn.encode(b"XREADGROUP", b"GROUP", b"g", b"c", b"COUNT", b"10", b"STREAMS",
                       key, b">")
    done = 0
    started = time.perf_counter()
    while True:
        conn.send(read)
        reply = conn.reply()
        if not reply:
            break
        ids = [entry[0] for entry in reply[0][1]]  # type: ignore[index]
        if not ids:
            break
        acked = conn.call(b"XACK", key, b"g", *ids)
        done += int(acked)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    conn.call(b"DEL", key)
    conn.close()
    if done != messages:
        raise RuntimeError(f"{server.kind}: consumed {done} of {messages}")
    return done / elapsed


def entry_memory(server: Server, entries: int) -> dict[str, float]:
    """Bytes per entry: RSS and used_memory growth for ``entries`` small entries."""
    client = server.client()
    client.delete("bench:s", RANGE_KEY, GROUP_KEY)
    client.close()
    time.sleep(0.5)
    before_rss, before_used = server.rss_bytes(), server.info()["used_memory"]
    _fill(server.port, b"bench:mem", entries, batch=5000)
    time.sleep(0.5)
    used = server.info()["used_memory"] - before_used
    rss = server.rss_bytes() - before_rss
    return {"used_memory_per_entry": used / entries, "rss_per_entry": rss / entries}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000,
                        help="requests per redis-benchmark run")
    parser.add_argument("--range-entries", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=50_000,
                        help="messages the consumer loop reads and acknowledges")
    parser.add_argument("--entries", type=int, default=1_000_000,
                        help="entries for the memory measure")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, dict[str, list[float]]] = {"redis": {}, "taipan": {}}
    memory: dict[str, dict[str, float]] = {}
    servers = {"redis": start_redis(), "taipan": start_taipan()}
    try:
        for server in servers.values():
            prepare_range(server, args.range_entries)
        for round_no in range(args.rounds):
            for kind, server in servers.items():
                rows = results[kind]
                server.client().delete("bench:s")
                for pipeline in (1, 16):
                    rows.setdefault(f"XADD P{pipeline}", []).append(_benchmark(
                        server, pipeline, args.requests, "XADD", "bench:s", "*", "field",
                        "value"))
                for count in (10, 100):
                    requests = args.requests if count == 10 else args.requests // 4
                    rows.setdefault(f"XRANGE COUNT {count} P1", []).append(_benchmark(
                        server, 1, requests, "XRANGE", RANGE_KEY, "-", "+", "COUNT",
                        str(count)))
                try:
                    rate = consume(server, args.messages)
                except (RuntimeError, ConnectionError) as exc:
                    print(f"{kind}: consumer loop failed: {exc}", file=sys.stderr)
                    rate = 0.0
                rows.setdefault("XREADGROUP+XACK loop", []).append(rate)
            print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        for kind, server in servers.items():
            memory[kind] = entry_memory(server, args.entries)
    finally:
        for server in servers.values():
            server.stop()
    info = versions()
    units = {test: "msg/s" for test in results["redis"] if test.startswith("XREADGROUP")}
    print("\n" + side_by_side(f"{info['redis_server']}\n{info['taipan']} "
                              f"({info['taipan_event_loop']})", args.rounds, results, memory,
                              units))
    return 0


if __name__ == "__main__":
    sys.exit(main())
