"""redis-benchmark against both servers, interleaved, with server CPU time per request."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import redis

from bench.parsing import cpu_us_per_op, parse_csv, phase_cpu
from bench.servers import Server
from bench.suites import SCRIPTS, expected_rows, label

# Line-buffer redis-benchmark's stdout so each CSV row arrives when its phase ends: the
# server CPU read at that moment splits an LRANGE run into its LPUSH warm-up and LRANGE.
STDBUF = shutil.which("stdbuf")
# The keys redis-benchmark's collection tests use (with no cluster tag).
COLLECTION_KEYS = {"mylist": "LLEN", "myset": "SCARD", "myhash": "HLEN", "myzset": "ZCARD"}


class _Timeout(Exception):
    pass


def _lines(proc: subprocess.Popen, deadline: float) -> Iterator[str]:
    """stdout lines of ``proc`` as they come; raises _Timeout past ``deadline``."""
    fd = proc.stdout.fileno()
    buf = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.decode("utf-8", "replace")
    if buf:
        yield buf.decode("utf-8", "replace")


def run_one(server: Server, test: str, pipeline: int, requests: int, clients: int,
            keyspace: int, timeout: float, extra: tuple[str, ...] = ()) -> dict:
    """One redis-benchmark run of one test; returns the run record (``extra``: more
    redis-benchmark options).

    ``cpu_s`` is the server's CPU time for the test's own phase; an LRANGE run's LPUSH
    warm-up is recorded under ``warmup`` (split by when each CSV row arrived).
    """
    cmd = ["redis-benchmark", "-p", str(server.port), "-c", str(clients), "-n", str(requests),
           "-P", str(pipeline), "--csv", *extra]  # (extra: --user/-a, --tls ...)
    if keyspace:
        cmd += ["-r", str(keyspace)]
    if test in SCRIPTS:  # a custom command: EVALSHA of a script loaded first
        body, arguments = SCRIPTS[test]
        client = server.client()
        try:
            sha = client.script_load(body)
        finally:
            client.close()
        cmd += ["EVALSHA", sha, *arguments]
    else:
        cmd += ["-t", test]
    if STDBUF:
        cmd = [STDBUF, "-oL", *cmd]
    record = {"server": server.kind, "test": label(test), "pipeline": pipeline,
              "requests": requests, "keyspace": keyspace, "rps": None, "us_per_op": None,
              "cpu_s": None, "wall_s": None, "warmup": None, "error": None}
    started = time.monotonic()
    marks = [server.cpu_seconds()]
    output: list[str] = []
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr)
        try:
            for line in _lines(proc, started + timeout):
                output.append(line)
                if parse_csv(line) and server.alive():  # a phase just ended
                    marks.append(server.cpu_seconds())
            proc.wait(max(1.0, started + timeout - time.monotonic()))
        except (_Timeout, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
            record["error"] = f"redis-benchmark timed out after {timeout:.0f}s"
            return record
        finally:
            proc.stdout.close()
        stderr.seek(0)
        errors = [line for line in stderr.read().decode("utf-8", "replace").splitlines()
                  if line.strip()]
    record["wall_s"] = time.monotonic() - started
    if not server.alive():
        record["error"] = (f"{server.kind} died (exit {server.proc.returncode}); log tail:\n"
                           f"{server.log_tail()}")
        return record
    marks[-1:] = [server.cpu_seconds()]  # the last phase ends with the process
    rows = list(parse_csv("\n".join(output)).items())
    if proc.returncode != 0 or errors or len(rows) != expected_rows(test):
        record["error"] = (f"exit {proc.returncode}, {len(rows)} CSV rows; "
                           f"stderr: {' | '.join(errors[:5]) or '(empty)'}")
        return record
    cpu = phase_cpu(marks) if STDBUF and len(marks) == len(rows) + 1 else None
    if len(rows) == 2:
        (warm_name, warm_rps), (record["test"], record["rps"]) = rows
        warm_cpu = cpu[0] if cpu else None
        record["warmup"] = {"test": warm_name, "rps": warm_rps, "requests": requests,
                            "cpu_s": warm_cpu,
                            "us_per_op": None if warm_cpu is None
                            else cpu_us_per_op(warm_cpu, requests)}
    else:
        (record["test"], record["rps"]), = rows
        if test in SCRIPTS:  # the CSV names the whole command line, sha included
            record["test"] = label(test)
    if cpu is None and len(rows) == 1:
        cpu = phase_cpu([marks[0], marks[-1]])
    if cpu is not None:  # else an LRANGE run without stdbuf: no way to split its CPU
        record["cpu_s"] = cpu[-1]
        record["us_per_op"] = cpu_us_per_op(cpu[-1], requests)
    return record


def run_all(redis_server: Server, taipan: Server, tests: list[str], pipelines: list[int],
            requests_for: dict[str, dict[int, int]], rounds: int, clients: int,
            keyspace_for: dict[str, int], timeout: float) -> list[dict]:
    """Every test at every pipeline depth, Redis and Taipan back to back, ``rounds`` times.

    Which server goes first alternates from round to round, so neither always runs
    on a machine just warmed (or just loaded) by the other. Tests run in the order
    given, so each server's SPOP follows its own SADD.
    """
    runs: list[dict] = []
    for round_no in range(rounds):
        order = (redis_server, taipan) if round_no % 2 == 0 else (taipan, redis_server)
        for pipeline in pipelines:
            for test in tests:
                for server in order:
                    record = run_one(server, test, pipeline, requests_for[test][pipeline],
                                     clients, keyspace_for[test], timeout)
                    record["round"] = round_no + 1
                    runs.append(record)
                    _progress(record, rounds)
                    if not server.alive():
                        raise RuntimeError(record["error"])
    return runs


def collection_sizes(server: Server) -> dict[str, int | None]:
    """Elements left in redis-benchmark's list, set, hash and sorted set afterwards."""
    client = server.client()
    sizes: dict[str, int | None] = {}
    try:
        for key, command in COLLECTION_KEYS.items():
            try:
                sizes[key] = int(client.execute_command(command, key))
            except redis.RedisError:
                sizes[key] = None
    finally:
        client.close()
    return sizes


def _progress(record: dict, rounds: int) -> None:
    if record["error"]:
        status = "ERROR " + record["error"]
    else:
        cpu = "n/a" if record["us_per_op"] is None else f"{record['us_per_op']:7.2f}"
        status = f"{record['rps']:>12,.0f} ops/s  {cpu} µs/op CPU  ({record['wall_s']:.1f}s)"
        if record["warmup"]:
            status += f"  after LPUSH warm-up {record['warmup']['rps']:,.0f} ops/s"
    print(f"  round {record['round']}/{rounds}  P{record['pipeline']:<3} "
          f"{record['test'].split(' (')[0]:<11} {record['server']:<7} {status}",
          file=sys.stderr, flush=True)
