"""Taipan beside a real redis-server: throughput, CPU per request, memory per key or element.

    python bench/run.py                  # full run: 3 interleaved rounds, P1 and P16, 1M keys
    python bench/run.py --quick          # smoke run, well under a minute
    python bench/run.py --skip-memory -n 100000 --rounds 5 --tests ping,get
    python bench/run.py --suite collections --skip-memory     # list/set/hash/zset tests
    python bench/run.py --skip-throughput --memory-kind all   # 1M keys, hash fields, members

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

from bench import loads, memory, report, suites, throughput  # noqa: E402
from bench.parsing import memory_ratios, summarise  # noqa: E402
from bench.servers import Server, start_redis, start_taipan, versions  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(suites.SUITES), default=suites.DEFAULT_SUITE,
                        help="strings: " + ",".join(suites.STRINGS) + "; collections: "
                             + ",".join(suites.COLLECTIONS) + "; scripting: " + ",".join(suites.SCRIPTING) + "; all: every one (default strings)")
    parser.add_argument("-n", "--requests", type=int, default=None,
                        help="requests per test run, every test (default: strings 50000 at "
                             "pipeline 1 and 200000 when pipelining, collections 30000 and "
                             "80000 with LRANGE_100/300/600 getting 1/2, 1/4, 1/8 of that; "
                             "a fifth, at least 1000, with --quick)")
    parser.add_argument("-c", "--clients", type=int, default=50)
    parser.add_argument("--server-config", action="append", default=[], metavar="'NAME VALUE'",
                        help="a directive given to both servers for the throughput runs, "
                             "e.g. --server-config 'appendonly yes' (repeatable)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds; the table shows medians (default 3, 1 quick)")
    parser.add_argument("--pipelines", default="1,16", help="comma list of -P depths")
    parser.add_argument("--tests", default=None,
                        help="comma list of redis-benchmark -t names, run in this order, "
                             "instead of --suite ('ping' means ping_inline,ping_mbulk; "
                             "SPOP/ZPOPMIN pop what SADD/ZADD added before them)")
    parser.add_argument("-r", "--keyspace", type=int, default=None,
                        help="redis-benchmark -r: SET/GET/INCR/MSET keys and SADD/HSET/ZADD "
                             "members (default 100000 for strings tests, 10000000 for "
                             "collections; 0: no -r)")
    parser.add_argument("--memory-kind", default="strings",
                        help="memory data sets: strings (N keys), hash (one key, N fields), "
                             "zset (one key, N members), small-hash, small-set, small-zset, "
                             "small-list (N keys of 10 elements), a comma list or all "
                             "(default strings)")
    parser.add_argument("--keys", type=int, default=None,
                        help="N, keys or fields or members for the memory test (default "
                             "1000000, 100000 with --quick)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds before one redis-benchmark run counts as hung")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small fast smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.keys = args.keys or (100_000 if args.quick else 1_000_000)
    try:
        args.memory_kinds = loads.kinds(args.memory_kind)
    except ValueError as exc:
        parser.error(str(exc))
    args.pipelines = [int(depth) for depth in args.pipelines.split(",")]
    args.tests = suites.expand_tests(args.tests or args.suite)
    args.requests_for = suites.requests_plan(args.tests, args.pipelines, args.requests,
                                             args.quick)
    args.keyspace_for = suites.keyspace_plan(args.tests, args.keyspace)
    return args


def check_log(server: Server) -> None:
    """Warn about tracebacks a server logged (an error under load is a bug)."""
    if "Traceback" in server.final_log or "ERROR" in server.final_log:
        print(f"WARNING: the {server.kind} log shows errors:\n{server.final_log}",
              file=sys.stderr)


def run_throughput(args: argparse.Namespace) -> dict:
    extra = tuple(word for directive in args.server_config
                  for word in (f"--{directive.split(None, 1)[0]}", *directive.split(None, 1)[1:]))
    redis_server, taipan = start_redis(extra), start_taipan(extra)
    try:
        print(f"throughput: redis pid {redis_server.pid} port {redis_server.port}, taipan pid "
              f"{taipan.pid} port {taipan.port}; {args.rounds} rounds, -c {args.clients}, "
              f"-n {suites.describe_plan(args.requests_for)}, -r {keyspace_text(args)}",
              file=sys.stderr)
        runs = throughput.run_all(redis_server, taipan, args.tests, args.pipelines,
                                  args.requests_for, args.rounds, args.clients,
                                  args.keyspace_for, args.timeout)
        servers = (redis_server, taipan)
        dbsize = {server.kind: server.client().dbsize() for server in servers}
        sizes = {server.kind: throughput.collection_sizes(server) for server in servers}
    finally:
        redis_server.stop()
        taipan.stop()
        check_log(taipan)
    return {"summary": summarise(runs), "runs": runs, "dbsize_after": dbsize,
            "collection_sizes_after": sizes}


def keyspace_text(args: argparse.Namespace) -> str:
    """``100,000 (collections 10,000,000)``: the -r values in use."""
    values = {args.keyspace_for[test]: suites.suite_of(test) for test in args.tests}
    if len(values) == 1:
        return f"{next(iter(values)):,}"
    return ", ".join(f"{suite} {value:,}" for value, suite in values.items())


def run_memory(args: argparse.Namespace) -> dict:
    """``{kind: {"redis": result, "taipan": result, "ratios": {...}}}``."""
    results: dict[str, dict] = {}
    for kind in args.memory_kinds:
        per_kind: dict = {}
        for start in (start_redis, start_taipan):  # one at a time, each freshly started
            server = start()
            try:
                print(f"memory: loading {args.keys:,} {kind} elements into {server.kind}",
                      file=sys.stderr, flush=True)
                per_kind[server.kind] = memory.measure(server, kind, args.keys)
            finally:
                server.stop()
                check_log(server)
        per_kind["ratios"] = memory_ratios(per_kind["redis"], per_kind["taipan"])
        results[kind] = per_kind
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
              f"-n {suites.describe_plan(args.requests_for)} per run, "
              f"-r {keyspace_text(args)}\n")
        print(report.throughput_table(data["summary"]))
        print(f"DBSIZE afterwards: redis {data['dbsize_after']['redis']:,}, "
              f"taipan {data['dbsize_after']['taipan']:,}")
        if any(suites.suite_of(test) == "collections" for test in args.tests):
            print("elements left: " + report.sizes_line(data["collection_sizes_after"]))
        errors = [run for run in data["runs"] if run["error"]]
        for run in errors:
            print(f"ERROR {run['server']} {run['test']} P{run['pipeline']} round {run['round']}:"
                  f" {run['error']}")
    for kind, per_kind in result.get("memory", {}).items():
        servers = {name: per_kind[name] for name in ("redis", "taipan")}
        print("\n" + report.memory_table(kind, servers, per_kind["ratios"]))

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwritten to {args.output}")
    return 1 if "throughput" in result and any(r["error"] for r in result["throughput"]["runs"]) \
        else 0


if __name__ == "__main__":
    sys.exit(main())
