"""Pure helpers: redis-benchmark CSV, /proc figures, medians and ratios.

No sockets and no processes here, so tests/unit/test_bench_parsing.py can cover it.
"""

from __future__ import annotations

import csv
import io
import itertools
import statistics
from collections.abc import Iterable


def parse_csv(text: str) -> dict[str, float]:
    """``redis-benchmark --csv`` output → ``{test name: requests per second}``.

    The header row (``"test","rps",...``) and blank or malformed lines are skipped;
    test names are kept as printed (``PING_INLINE``, ``MSET (10 keys)``).
    """
    results: dict[str, float] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2 or row[0] == "test":
            continue
        try:
            results[row[0]] = float(row[1])
        except ValueError:
            continue
    return results


def ratio(taipan: float | None, redis: float | None) -> float | None:
    """Taipan's figure over Redis's; None when either is missing or Redis's is zero."""
    if taipan is None or not redis:
        return None
    return taipan / redis


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values present (None entries, i.e. failed runs, are ignored)."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def proc_stat_cpu_seconds(stat_text: str, clock_ticks: int) -> float:
    """utime + stime, in seconds, from the text of ``/proc/<pid>/stat``.

    The command name (field 2) is in parentheses and may hold spaces, so the
    fields are counted from the last ``)``: state is field 3, utime 14, stime 15.
    """
    fields = stat_text[stat_text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / clock_ticks


def proc_status_rss_bytes(status_text: str) -> int:
    """VmRSS from the text of ``/proc/<pid>/status``, in bytes."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit.lower() != "kb":
                raise ValueError(f"unexpected VmRSS unit {unit!r}")
            return int(value) * 1024
    raise ValueError("no VmRSS line")


def cpu_us_per_op(cpu_seconds: float, requests: int) -> float | None:
    return cpu_seconds * 1e6 / requests if requests > 0 else None


def summarise(runs: list[dict]) -> list[dict]:
    """One row per (test, pipeline), in first-seen order, with medians over rounds.

    Each run is ``{"server", "test", "pipeline", "rps", "us_per_op", ...}``; runs
    that failed carry ``rps`` None and are left out of the medians.
    """
    groups: dict[tuple[str, int], dict[str, list[dict]]] = {}
    for run in runs:
        group = groups.setdefault((run["test"], run["pipeline"]), {"redis": [], "taipan": []})
        group[run["server"]].append(run)
    rows = []
    for (test, pipeline), group in groups.items():
        redis_rps = median(run["rps"] for run in group["redis"])
        taipan_rps = median(run["rps"] for run in group["taipan"])
        rows.append({
            "test": test,
            "pipeline": pipeline,
            "redis_rps": redis_rps,
            "taipan_rps": taipan_rps,
            "ratio": ratio(taipan_rps, redis_rps),
            "redis_cpu_us_per_op": median(run["us_per_op"] for run in group["redis"]),
            "taipan_cpu_us_per_op": median(run["us_per_op"] for run in group["taipan"]),
            "rounds": max(len(group["redis"]), len(group["taipan"])),
            "failed_runs": sum(run["rps"] is None for runs in group.values() for run in runs),
        })
    return rows


def phase_cpu(marks: list[float]) -> list[float]:
    """CPU seconds of each phase from cumulative readings ``[start, after 1st, ...]``."""
    return [later - earlier for earlier, later in itertools.pairwise(marks)]


def per_element(before: int | None, after: int | None, count: int) -> float | None:
    """``(after - before) / count``; None when a figure is missing or ``count`` is 0."""
    if before is None or after is None or count <= 0:
        return None
    return (after - before) / count


def parse_memory_usage(reply: object) -> tuple[int | None, str | None]:
    """A ``MEMORY USAGE`` reply → ``(bytes, None)``, or ``(None, why)`` if it has no figure."""
    if isinstance(reply, Exception):
        return None, f"{type(reply).__name__}: {str(reply).strip()}"
    if isinstance(reply, bool) or not isinstance(reply, int):
        return None, f"unexpected reply {reply!r}"
    return reply, None


def memory_ratios(redis: dict, taipan: dict) -> dict[str, float | None]:
    """Taipan's bytes per element over Redis's, from two ``bench.memory.measure`` results."""
    return {
        "taipan_rss_over_redis_used_memory":
            ratio(taipan["rss_per_element"], redis["used_memory_per_element"]),
        "taipan_rss_over_redis_memory_usage":
            ratio(taipan["rss_per_element"], redis.get("memory_usage_per_element")),
        "taipan_rss_over_redis_rss": ratio(taipan["rss_per_element"], redis["rss_per_element"]),
        "taipan_used_memory_over_redis_used_memory":
            ratio(taipan["used_memory_per_element"], redis["used_memory_per_element"]),
    }
