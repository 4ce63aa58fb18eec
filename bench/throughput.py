"""redis-benchmark against both servers, interleaved, with server CPU time per request."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.parsing import cpu_us_per_op, parse_csv
from bench.servers import Server

# -t names → one redis-benchmark run each, so each run's CPU delta is that test's alone.
DEFAULT_TESTS = ("ping_inline", "ping_mbulk", "set", "get", "incr", "mset")
# The names redis-benchmark prints for them (a failed run has no CSV row to name it).
LABELS = {"ping_inline": "PING_INLINE", "ping_mbulk": "PING_MBULK", "mset": "MSET (10 keys)"}


def expand_tests(spec: str) -> list[str]:
    """``ping,set`` → ``["ping_inline", "ping_mbulk", "set"]`` (``ping`` means both)."""
    tests: list[str] = []
    for name in (part.strip().lower() for part in spec.split(",")):
        for test in (("ping_inline", "ping_mbulk") if name == "ping" else (name,)):
            if test and test not in tests:
                tests.append(test)
    return tests


def run_one(server: Server, test: str, pipeline: int, requests: int, clients: int,
            keyspace: int, timeout: float) -> dict:
    """One redis-benchmark run of one test; returns the run record."""
    cmd = ["redis-benchmark", "-p", str(server.port), "-c", str(clients), "-n", str(requests),
           "-P", str(pipeline), "-t", test, "--csv"]
    if keyspace:
        cmd += ["-r", str(keyspace)]
    record = {"server": server.kind, "test": LABELS.get(test, test.upper()), "pipeline": pipeline, "requests": requests,
              "rps": None, "us_per_op": None, "cpu_s": None, "wall_s": None, "error": None}
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        record["error"] = f"redis-benchmark timed out after {timeout:.0f}s"
        return record
    record["wall_s"] = time.monotonic() - started
    if not server.alive():
        record["error"] = (f"{server.kind} died (exit {server.proc.returncode}); log tail:\n"
                           f"{server.log_tail()}")
        return record
    cpu = server.cpu_seconds() - cpu_before
    results = parse_csv(out.stdout)
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    if out.returncode != 0 or errors or len(results) != 1:
        record["error"] = (f"exit {out.returncode}, {len(results)} CSV rows; "
                           f"stderr: {' | '.join(errors[:5]) or '(empty)'}")
        return record
    (record["test"], record["rps"]), = results.items()
    record["cpu_s"] = cpu
    record["us_per_op"] = cpu_us_per_op(cpu, requests)
    return record


def run_all(redis_server: Server, taipan: Server, tests: list[str], pipelines: list[int],
            requests_for: dict[int, int], rounds: int, clients: int, keyspace: int,
            timeout: float) -> list[dict]:
    """Every test at every pipeline depth, Redis and Taipan back to back, ``rounds`` times.

    Which server goes first alternates from round to round, so neither always runs
    on a machine just warmed (or just loaded) by the other.
    """
    runs: list[dict] = []
    for round_no in range(rounds):
        order = (redis_server, taipan) if round_no % 2 == 0 else (taipan, redis_server)
        for pipeline in pipelines:
            for test in tests:
                for server in order:
                    record = run_one(server, test, pipeline, requests_for[pipeline],
                                     clients, keyspace, timeout)
                    record["round"] = round_no + 1
                    runs.append(record)
                    _progress(record, rounds)
                    if not server.alive():
                        raise RuntimeError(record["error"])
    return runs


def _progress(record: dict, rounds: int) -> None:
    if record["error"]:
        status = "ERROR " + record["error"]
    else:
        status = (f"{record['rps']:>12,.0f} ops/s  {record['us_per_op']:7.2f} µs/op CPU  "
                  f"({record['wall_s']:.1f}s)")
    print(f"  round {record['round']}/{rounds}  P{record['pipeline']:<3} "
          f"{record['test']:<15} {record['server']:<7} {status}", file=sys.stderr, flush=True)
