"""The request path without sockets: µs per command per workload, for the pure-Python
and the compiled (mypyc) build side by side.

Each build runs in its own process: a real Instance and ServerRuntime, one real
Connection fed pipelined RESP (16 requests a chunk, as redis-benchmark -P 16 sends)
through ``data_received``, and a transport that only counts the reply bytes. No
network, no event-loop turns (the output writer's turn is run by hand after each
chunk): what is left is the reader, dispatch, the handlers, the keyspace and the
reply encoder, the code mypyc compiles. Regressions show here without a noisy
network run.

    python bench/inprocess.py                      # the installed taipan, both builds
    python bench/inprocess.py --tree build/compiled  # a tree with compiled modules

The pure-Python figures come from the same installation with TAIPAN_PURE_PYTHON=1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from typing import Any

PIPELINE = 16
KEYS = 1000
SMALL_KEYS = 5000
SCRIPT = b"return redis.call('SET', KEYS[1], ARGV[1])"
SCRIPT_SHA = hashlib.sha1(SCRIPT).hexdigest().encode()
# redis-benchmark's evalsha_10 (bench/suites.py): ten calls from one script.
INCR10_SCRIPT = b"local v for i = 1, 10 do v = redis.call('INCR', KEYS[1]) end return v"
INCR10_SHA = hashlib.sha1(INCR10_SCRIPT).hexdigest().encode()
# A script handing a 10-item reply to Lua and back: reply conversion both ways.
RANGE_SCRIPT = b"return redis.call('LRANGE', KEYS[1], 0, 9)"
RANGE_SHA = hashlib.sha1(RANGE_SCRIPT).hexdigest().encode()

# name -> a request generator (i -> argv) and the set-up requests it needs.
WORKLOADS: dict[str, tuple[Any, list[list[bytes]]]] = {
    "PING": (lambda i: [b"PING"], []),
    "SET": (lambda i: [b"SET", b"key:%d" % (i % KEYS), b"xxx"], []),
    "GET": (lambda i: [b"GET", b"key:%d" % (i % KEYS)],
            [[b"SET", b"key:%d" % i, b"xxx"] for i in range(KEYS)]),
    "INCR": (lambda i: [b"INCR", b"counter:%d" % (i % KEYS)], []),
    "LPUSH": (lambda i: [b"LPUSH", b"mylist", b"xxx"], []),
    "RPOP": (lambda i: [b"RPOP", b"mylist"], []),
    "SADD": (lambda i: [b"SADD", b"myset", b"element:%d" % (i % KEYS)], []),
    "HSET": (lambda i: [b"HSET", b"myhash", b"element:%d" % (i % KEYS), b"xxx"], []),
    "ZADD": (lambda i: [b"ZADD", b"myzset", b"%d" % (i % 997), b"element:%d" % (i % KEYS)],
             []),
    # Many small hashes (packed at rest, ``types/packed.py``): each command opens one.
    "HGET_SMALL": (lambda i: [b"HGET", b"small:%d" % (i * 7 % SMALL_KEYS), b"field:3"],
                   [[b"HSET", b"small:%d" % k, *[part for f in range(10)
                                                 for part in (b"field:%d" % f, b"xxx")]]
                    for k in range(SMALL_KEYS)]),
    # Many short lists (packed at rest): each read walks one blob.
    "LRANGE_SMALL": (lambda i: [b"LRANGE", b"short:%d" % (i * 7 % SMALL_KEYS), b"0", b"-1"],
                     [[b"RPUSH", b"short:%d" % k, *[b"item:%d" % n for n in range(10)]]
                      for k in range(SMALL_KEYS)]),
    # Many small sorted sets (packed at rest): a member's score from one blob.
    "ZSCORE_SMALL": (lambda i: [b"ZSCORE", b"board:%d" % (i * 7 % SMALL_KEYS),
                                b"player:%d" % (i % 10)],
                     [[b"ZADD", b"board:%d" % k, *[part for n in range(10)
                                                   for part in (b"%d" % (n * 3), b"player:%d" % n)]]
                      for k in range(SMALL_KEYS)]),
    # Many small sets (packed at rest): a membership test on one blob.
    "SISMEMBER_SMALL": (lambda i: [b"SISMEMBER", b"tags:%d" % (i * 7 % SMALL_KEYS),
                                   b"tag:%d" % (i % 12)],
                        [[b"SADD", b"tags:%d" % k, *[b"tag:%d" % n for n in range(10)]]
                         for k in range(SMALL_KEYS)]),
    "HSET_SMALL": (lambda i: [b"HSET", b"small:%d" % (i * 7 % SMALL_KEYS),
                              b"field:%d" % (i % 10), b"yyy"], []),
    "LRANGE_100": (lambda i: [b"LRANGE", b"biglist", b"0", b"99"],
                   [[b"RPUSH", b"biglist", *[b"xxx"] * 600]]),
    "LRANGE_600": (lambda i: [b"LRANGE", b"biglist", b"0", b"599"],
                   [[b"RPUSH", b"biglist", *[b"xxx"] * 600]]),
    # A script's per-call cost (the scripting layer is interpreted in both builds).
    "EVALSHA_SET": (lambda i: [b"EVALSHA", SCRIPT_SHA, b"1", b"key:%d" % (i % KEYS), b"xxx"],
                    [[b"SCRIPT", b"LOAD", SCRIPT]]),
    "EVALSHA_INCR_10": (lambda i: [b"EVALSHA", INCR10_SHA, b"1", b"counter:%d" % (i % KEYS)],
                        [[b"SCRIPT", b"LOAD", INCR10_SCRIPT]]),
    "EVALSHA_LRANGE_10": (lambda i: [b"EVALSHA", RANGE_SHA, b"1", b"biglist"],
                          [[b"SCRIPT", b"LOAD", RANGE_SCRIPT],
                           [b"RPUSH", b"biglist", *[b"xxx"] * 100]]),
    "MSET_10": (lambda i: [b"MSET", *[part for k in range(10)
                                      for part in (b"key:%d" % ((i + k) % KEYS), b"xxx")]],
                []),
}


def encode(argv: list[bytes]) -> bytes:
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class CountingTransport:
    """Just enough of an asyncio transport for a Connection: replies are counted."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def writelines(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.written += len(chunk)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


def _no_wake() -> None:
    pass


async def _measure(rounds: int, requests: int) -> dict[str, Any]:
    from taipan.hot_path import build_kind
    from taipan.instance import Instance
    from taipan.net.connection import Connection
    from taipan.server import ServerRuntime

    runtime = ServerRuntime(Instance())
    # The replies of each chunk are written by the loop's next turn, which this
    # measurement never yields to: the turn's flush is called after each chunk.
    runtime.instance.wake_output = _no_wake
    flush = runtime.output_writer.flush
    results: dict[str, float] = {}
    for name, (make, setup) in WORKLOADS.items():
        connection = Connection(runtime)
        transport = CountingTransport()
        connection.connection_made(transport)  # type: ignore[arg-type]
        connection.data_received(encode([b"FLUSHALL"]))
        for argv in setup:
            connection.data_received(encode(argv))
        flush()
        chunks = [b"".join(encode(make(i + j)) for j in range(PIPELINE))
                  for i in range(0, KEYS, PIPELINE)]
        per_round = len(chunks) * PIPELINE
        repeats = max(1, requests // per_round)
        best = float("inf")
        for _ in range(rounds):
            if name == "RPOP":
                connection.data_received(encode([b"RPUSH", b"mylist", *[b"xxx"] * (
                    repeats * per_round)]))
                flush()
            started = time.perf_counter()
            for _ in range(repeats):
                for chunk in chunks:
                    connection.data_received(chunk)
                    flush()
            best = min(best, (time.perf_counter() - started) / (repeats * per_round))
        results[name] = best * 1e6
        connection.connection_lost(None)
    return {"build": build_kind(), "us": results}


def worker(rounds: int, requests: int) -> None:
    loop = asyncio.new_event_loop()
    try:
        print(json.dumps(loop.run_until_complete(_measure(rounds, requests))))
    finally:
        loop.close()


def run_build(pure: bool, tree: str | None, rounds: int, requests: int) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("TAIPAN_PURE_PYTHON", None)
    if pure:
        env["TAIPAN_PURE_PYTHON"] = "1"
    if tree:
        env["PYTHONPATH"] = os.path.abspath(tree) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker",
                          "--rounds", str(rounds), "--requests", str(requests)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", help="a source tree with the compiled modules built "
                                       "in place (else the installed taipan)")
    parser.add_argument("--rounds", type=int, default=5, help="best of this many")
    parser.add_argument("--requests", type=int, default=50_000, help="per round")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.rounds, args.requests)
        return
    pure = run_build(True, args.tree, args.rounds, args.requests)
    compiled = run_build(False, args.tree, args.rounds, args.requests)
    if compiled["build"] != "mypyc":
        print("(no compiled build found: both columns are pure Python)")
    print(f"µs per command, best of {args.rounds}, pipeline {PIPELINE}, in-process")
    width = max(len(name) for name in WORKLOADS)
    print(f"{'workload':<{width}} {'pure':>8} {compiled['build']:>8} {'speed-up':>9}")
    for name, pure_us in pure["us"].items():
        compiled_us = compiled["us"][name]
        print(f"{name:<{width}} {pure_us:>8.2f} {compiled_us:>8.2f} "
              f"{pure_us / compiled_us:>8.2f}x")


if __name__ == "__main__":
    main()
