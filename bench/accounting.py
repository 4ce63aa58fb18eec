"""How close Taipan's used_memory is to the heap it really grows: for several
workloads, the growth of INFO used_memory against the growth of the process's RSS.

    python bench/accounting.py                 # 100,000 operations per workload
    python bench/accounting.py --ops 1000000

Each workload runs on a fresh server (so RSS growth is not hidden by memory freed
earlier): pipelined writes, a short settle, then both deltas and their ratio. A
ratio of 1.00 means used_memory grew exactly as much as RSS did. Redis's figures
are shown beside for scale (its used_memory counts jemalloc's allocations).

A benchmark, never a test: the numbers depend on the machine and its allocator.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import Server, start_redis, start_taipan  # noqa: E402

Write = Callable[[Any, int, int], None]


def _strings(pipe: Any, i: int, ops: int) -> None:
    pipe.set(f"key:{i:08d}", "v" * 20)


def _big_strings(pipe: Any, i: int, ops: int) -> None:
    if i < ops // 20:
        pipe.set(f"key:{i:08d}", "v" * 1000)


def _with_ttl(pipe: Any, i: int, ops: int) -> None:
    pipe.set(f"key:{i:08d}", "v" * 20, ex=100_000)


def _hashes(pipe: Any, i: int, ops: int) -> None:
    if i < ops // 10:
        pipe.hset(f"h:{i}", mapping={f"f{j}": f"val{j}" for j in range(10)})


def _lists(pipe: Any, i: int, ops: int) -> None:
    if i < ops // 10:
        pipe.rpush(f"l:{i}", *[f"item{j}" for j in range(10)])


def _sets(pipe: Any, i: int, ops: int) -> None:
    if i < ops // 10:
        pipe.sadd(f"s:{i}", *[f"m{j}" for j in range(10)])


def _zsets(pipe: Any, i: int, ops: int) -> None:
    if i < ops // 10:
        pipe.zadd(f"z:{i}", {f"m{j}": j for j in range(10)})


def _big_list(pipe: Any, i: int, ops: int) -> None:
    pipe.rpush("biglist", f"item{i}")


def _big_hash(pipe: Any, i: int, ops: int) -> None:
    pipe.hset("bighash", f"field{i}", f"value{i}")


WORKLOADS: dict[str, Write] = {
    "20-byte strings": _strings, "1 KB strings": _big_strings, "strings with TTL": _with_ttl,
    "hashes of 10": _hashes, "lists of 10": _lists, "sets of 10": _sets,
    "zsets of 10": _zsets, "one big list": _big_list, "one big hash": _big_hash,
}


def measure(start: Callable[[], Server], write: Write, ops: int) -> tuple[int, int]:
    """(used_memory growth, RSS growth) of ``ops`` writes on a fresh server."""
    server = start()
    try:
        client = server.client()
        time.sleep(0.3)
        used_before, rss_before = int(server.info()["used_memory"]), server.rss_bytes()
        pipe = client.pipeline(transaction=False)
        for i in range(ops):
            write(pipe, i, ops)
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()
        time.sleep(0.3)
        return int(server.info()["used_memory"]) - used_before, server.rss_bytes() - rss_before
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{'workload':18} {'taipan used':>12} {'taipan RSS':>12} {'ratio':>6}"
          f" {'redis used':>12} {'redis RSS':>12}")
    for name, write in WORKLOADS.items():
        used, rss = measure(start_taipan, write, args.ops)
        redis_used, redis_rss = measure(start_redis, write, args.ops)
        print(f"{name:18} {used:>12,} {rss:>12,} {used / max(rss, 1):>6.2f}"
              f" {redis_used:>12,} {redis_rss:>12,}")


if __name__ == "__main__":
    main()
