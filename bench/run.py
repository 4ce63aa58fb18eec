"""Taipan beside a real redis-server: throughput, CPU per request and memory per key.

    python bench/run.py                  # full run: 3 interleaved rounds, P1 and P16, 1M keys
    python bench/run.py --quick          # smoke run, well under a minute
    python bench/run.py --skip-memory -n 100000 --rounds 5 --tests ping,get

Prints a table and writes it, with every individual run, to bench/results/latest.json.
A benchmark, never a test: the numbers depend on the machine and whatever else runs on it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import memory, report, throughput  # noqa: E402
from bench.parsing import summarise  # noqa: E402
from bench.servers import Server, start_redis, start_taipan, versions  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=None,
                        help="requests per test run (default: 50000 at pipeline 1 and 200000 "
                             "when pipelining, about 5-10 s per server per pipeline depth; "
                             "a fifth of that with --quick)")
    parser.add_argument("-c", "--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds; the table shows medians (default 3, 1 quick)")
    parser.add_argument("--pipelines", default="1,16", help="comma list of -P depths")
    parser.add_argument("--tests", default=",".join(throughput.DEFAULT_TESTS),
                        help="comma list of redis-benchmark -t names, each giving one CSV "
                             "row ('ping' means ping_inline,ping_mbulk)")
    parser.add_argument("-r", "--keyspace", type=int, default=100000,
                        help="redis-benchmark -r for SET/GET/INCR/MSET keys (0: one key)")
    parser.add_argument("--keys", type=int, default=None,
                        help="keys for the memory test (default 1000000, 100000 with --quick)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds before one redis-benchmark run counts as hung")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small fast smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    scale = 5 if args.quick else 1
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.keys = args.keys or (100_000 if args.quick else 1_000_000)
    args.pipelines = [int(depth) for depth in args.pipelines.split(",")]
    args.tests = throughput.expand_tests(args.tests)
    args.requests_for = {depth: args.requests or (50_000 if depth == 1 else 200_000) // scale
                         for depth in args.pipelines}
    return args


def check_log(server: Server) -> None:
    """Warn about tracebacks a server logged (an error under load is a bug)."""
    if "Traceback" in server.final_log or "ERROR" in server.final_log:
        print(f"WARNING: the {server.kind} log shows errors:\n{server.final_log}",
              file=sys.stderr)


def run_throughput(args: argparse.Namespace) -> dict:
    redis_server, taipan = start_redis(), start_taipan()
    try:
        print(f"throughput: redis pid {redis_server.pid} port {redis_server.port}, taipan pid "
              f"{taipan.pid} port {taipan.port}; {args.rounds} rounds, -c {args.clients}, "
              f"-n {args.requests_for}, -r {args.keyspace}", file=sys.stderr)
        runs = throughput.run_all(redis_server, taipan, args.tests, args.pipelines,
                                  args.requests_for, args.rounds, args.clients, args.keyspace,
                                  args.timeout)
        dbsize = {server.kind: server.client().dbsize() for server in (redis_server, taipan)}
    finally:
        redis_server.stop()
        taipan.stop()
        check_log(taipan)
    return {"summary": summarise(runs), "runs": runs, "dbsize_after": dbsize}


def run_memory(args: argparse.Namespace) -> dict:
    results = {}
    for start in (start_redis, start_taipan):  # one at a time, each freshly started
        server = start()
        try:
            print(f"memory: loading {args.keys:,} keys into {server.kind}", file=sys.stderr)
            results[server.kind] = memory.measure(server, args.keys)
        finally:
            server.stop()
            check_log(server)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result: dict = {
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "settings": {key: value for key, value in vars(args).items() if key != "output"},
        "versions": versions(),
        "machine": {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()},
    }
    if not args.skip_throughput:
        result["throughput"] = run_throughput(args)
    if not args.skip_memory:
        result["memory"] = run_memory(args)
    result["machine"]["loadavg_end"] = os.getloadavg()

    print(f"\n{result['versions']['redis_server']}\n{result['versions']['taipan']} "
          f"({result['versions']['taipan_event_loop']})\n"
          f"load average start {result['machine']['loadavg_start'][0]:.2f}, "
          f"end {result['machine']['loadavg_end'][0]:.2f} on {os.cpu_count()} CPUs")
    if "throughput" in result:
        data = result["throughput"]
        print(f"\nmedians of {args.rounds} interleaved rounds, -c {args.clients}, "
              f"-n {args.requests_for} per run, -r {args.keyspace}\n")
        print(report.throughput_table(data["summary"]))
        print(f"DBSIZE afterwards: redis {data['dbsize_after']['redis']:,}, "
              f"taipan {data['dbsize_after']['taipan']:,}")
        errors = [run for run in data["runs"] if run["error"]]
        for run in errors:
            print(f"ERROR {run['server']} {run['test']} P{run['pipeline']} round {run['round']}:"
                  f" {run['error']}")
    if "memory" in result:
        print("\n" + report.memory_table(result["memory"]))

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwritten to {args.output}")
    return 1 if "throughput" in result and any(r["error"] for r in result["throughput"]["runs"]) \
        else 0


if __name__ == "__main__":
    sys.exit(main())
