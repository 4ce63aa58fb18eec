"""The cost of ACL checks: SET and GET through redis-benchmark as the default user
(every permission: checks skipped) and as a user restricted to redis-benchmark's key
pattern (``+@all ~key:* &*``: the command set, the key specs and the pattern are
checked on every request), on Taipan and on redis-server, interleaved.

    python bench/acl.py                  # P1 and P16, 3 rounds
    python bench/acl.py --pipelines 16 --rounds 5

The table shows each server's restricted-user throughput as a ratio of its own
default-user throughput. A benchmark, never a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import start_redis, start_taipan  # noqa: E402
from bench.throughput import run_one  # noqa: E402

RESTRICTED = ("bench", "on", ">benchpass", "+@all", "~key:*", "&*")
AS_RESTRICTED = ("--user", "bench", "-a", "benchpass")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", "--requests", type=int, default=200_000)
    args = parser.parse_args()
    pipelines = [int(p) for p in args.pipelines.split(",")]
    servers = [start_redis(), start_taipan()]
    try:
        for server in servers:
            client = server.client()
            client.execute_command("ACL", "SETUSER", *RESTRICTED)
            client.close()
        rps: dict[tuple[str, str, int, str], list[float]] = {}
        for _ in range(args.rounds):
            for test in ("set", "get"):
                for pipeline in pipelines:
                    for server in servers:
                        for who, extra in (("default", ()), ("restricted", AS_RESTRICTED)):
                            record = run_one(server, test, pipeline, args.requests, 50,
                                             100_000, 300, extra)
                            if record["error"]:
                                raise SystemExit(f"{server.kind} {who}: {record['error']}")
                            rps.setdefault((server.kind, test, pipeline, who), []).append(
                                record["rps"])
        print(f"medians of {args.rounds} interleaved rounds, -c 50, -n {args.requests:,}")
        print(f"{'test':6} {'P':>3} {'server':7} {'default ops/s':>14} "
              f"{'restricted ops/s':>17} {'ratio':>6}")
        for test in ("set", "get"):
            for pipeline in pipelines:
                for server in servers:
                    base = statistics.median(rps[(server.kind, test, pipeline, "default")])
                    limited = statistics.median(
                        rps[(server.kind, test, pipeline, "restricted")])
                    print(f"{test.upper():6} {pipeline:>3} {server.kind:7} {base:>14,.0f} "
                          f"{limited:>17,.0f} {limited / base:>6.3f}")
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
