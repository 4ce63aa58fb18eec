"""Pub/sub: PUBLISH fan-out and PUBLISH with no subscribers, redis-server vs Taipan.

    python bench/pubsub.py                       # 3 interleaved rounds
    python bench/pubsub.py --messages 20000 --subscribers 1,10,100 --rounds 1

Measured per server, interleaved round by round:

* fan-out: N subscribers (raw sockets in a reader process that only counts bytes)
  and one publisher (redis-benchmark, one connection, pipeline 16, a 32-byte
  message); messages delivered per second = messages x N / time until the last
  subscriber has them all;
* PUBLISH to a channel nobody listens to, redis-benchmark -c 50 at P1 and P16;
* memory per subscription: RSS and INFO used_memory growth for 100,000 channels
  subscribed by one connection.

A benchmark, never a test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.parsing import parse_csv  # noqa: E402
from bench.report import side_by_side  # noqa: E402
from bench.servers import Server, start_redis, start_taipan, versions  # noqa: E402

CHANNEL = b"bench:fanout"
PAYLOAD = b"x" * 32
# What one delivered message costs on the wire in RESP2.
FRAME = b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
    len(CHANNEL), CHANNEL, len(PAYLOAD), PAYLOAD)


def _subscribe(port: int, channel: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(channel), channel))
    confirmation = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(channel), channel)
    got = b""
    while len(got) < len(confirmation):
        got += sock.recv(len(confirmation) - len(got))
    return sock


def _reader(port: int, subscribers: int, expected_each: int, ready, done) -> None:
    """Subscribe, signal ready, then count bytes until every socket has them all."""
    import selectors

    socks = [_subscribe(port, CHANNEL) for _ in range(subscribers)]
    want = expected_each * len(FRAME)
    received = {sock: 0 for sock in socks}
    selector = selectors.DefaultSelector()
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    ready.set()
    remaining = len(socks)
    deadline = time.monotonic() + 300
    while remaining and time.monotonic() < deadline:
        for key, _ in selector.select(1.0):
            sock = key.fileobj
            chunk = sock.recv(1 << 20)
            received[sock] += len(chunk)
            if received[sock] >= want:
                selector.unregister(sock)
                remaining -= 1
    done.put(time.monotonic() if not remaining else None)
    for sock in socks:
        sock.close()


def fanout(server: Server, subscribers: int, messages: int) -> float | None:
    """Delivered messages per second for one run (None when it failed)."""
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_reader, args=(server.port, subscribers, messages, ready, done))
    reader.start()
    if not ready.wait(60):
        reader.kill()
        return None
    started = time.monotonic()
    subprocess.run(["redis-benchmark", "-p", str(server.port), "-c", "1", "-P", "16",
                    "-n", str(messages), "-q", "PUBLISH", CHANNEL.decode(),
                    PAYLOAD.decode()], capture_output=True, timeout=600, check=False)
    finished = done.get(timeout=600)
    reader.join(30)
    if finished is None:
        return None
    return messages * subscribers / (finished - started)


def publish_no_subscribers(server: Server, pipeline: int, requests: int) -> float | None:
    out = subprocess.run(["redis-benchmark", "-p", str(server.port), "-c", "50", "-P",
                          str(pipeline), "-n", str(requests), "--csv", "PUBLISH", "nobody",
                          "hello"], capture_output=True, text=True, timeout=600, check=False)
    rows = parse_csv(out.stdout)
    return next(iter(rows.values()), None)


def subscription_memory(server: Server, channels: int) -> dict[str, float]:
    """Bytes per subscription: RSS and used_memory growth for ``channels``."""
    before_rss, before_used = server.rss_bytes(), server.info()["used_memory"]
    sock = socket.create_connection(("127.0.0.1", server.port))
    batch = 1000
    for start in range(0, channels, batch):
        names = [b"sub:%d" % i for i in range(start, min(start + batch, channels))]
        parts = [b"*%d\r\n$9\r\nSUBSCRIBE\r\n" % (len(names) + 1)]
        parts += [b"$%d\r\n%s\r\n" % (len(n), n) for n in names]
        sock.sendall(b"".join(parts))
    # Every subscription is confirmed; wait until PUBSUB NUMSUB of the last says so.
    last = b"sub:%d" % (channels - 1)
    client = server.client()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if client.pubsub_numsub(last.decode())[0][1] == 1:
            break
        _drain(sock)
        time.sleep(0.05)
    _drain(sock)
    used = server.info()["used_memory"] - before_used
    rss = server.rss_bytes() - before_rss
    client.close()
    sock.close()
    return {"rss_per_sub": rss / channels, "used_memory_per_sub": used / channels}


def _drain(sock: socket.socket) -> None:
    sock.setblocking(False)
    try:
        while sock.recv(1 << 20):
            pass
    except BlockingIOError:
        pass
    finally:
        sock.setblocking(True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--subscribers", default="1,10,100")
    parser.add_argument("--requests", type=int, default=200_000,
                        help="PUBLISH requests for the no-subscriber runs")
    parser.add_argument("--channels", type=int, default=100_000,
                        help="subscriptions for the memory measure")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.subscribers.split(",")]
    results: dict[str, dict[str, list[float]]] = {"redis": {}, "taipan": {}}
    memory: dict[str, dict[str, float]] = {}
    servers = {"redis": start_redis(), "taipan": start_taipan()}
    try:
        for round_no in range(args.rounds):
            for kind, server in servers.items():
                for count in counts:
                    # Fewer messages for big fan-outs keep a run within seconds.
                    messages = max(1000, args.messages * 10 // max(count, 10))
                    rate = fanout(server, count, messages)
                    results[kind].setdefault(f"fan-out {count} subs", []).append(rate or 0.0)
                for pipeline in (1, 16):
                    rate = publish_no_subscribers(server, pipeline, args.requests)
                    results[kind].setdefault(f"PUBLISH, no subscribers, P{pipeline}",
                                             []).append(rate or 0.0)
            print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        for kind, server in servers.items():
            memory[kind] = subscription_memory(server, args.channels)
    finally:
        for server in servers.values():
            server.stop()
    info = versions()
    units = {test: "msg/s" for test in results["redis"] if test.startswith("fan-out")}
    print("\n" + side_by_side(f"{info['redis_server']}\n{info['taipan']} "
                              f"({info['taipan_event_loop']})", args.rounds, results, memory,
                              units))
    return 0


if __name__ == "__main__":
    sys.exit(main())
