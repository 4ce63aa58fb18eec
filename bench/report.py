"""Text tables for the summary rows and the memory results."""

from __future__ import annotations

import os
import statistics

from bench.loads import DESCRIPTIONS


def _num(value: float | None, fmt: str, suffix: str = "") -> str:
    return "n/a" if value is None else format(value, fmt) + suffix


def throughput_table(rows: list[dict]) -> str:
    width = max([16] + [len(row["test"]) + 2 for row in rows])
    header = (f"{'test':<{width}}{'pipeline':>9}{'redis ops/s':>14}{'taipan ops/s':>14}"
              f"{'ratio':>8}{'redis CPU µs/op':>17}{'taipan CPU µs/op':>18}")
    lines = [header, "-" * len(header)]
    for row in rows:
        note = f"  ({row['failed_runs']} failed runs)" if row["failed_runs"] else ""
        lines.append(
            f"{row['test']:<{width}}{row['pipeline']:>9}{_num(row['redis_rps'], ',.0f'):>14}"
            f"{_num(row['taipan_rps'], ',.0f'):>14}{_num(row['ratio'], '.3f'):>8}"
            f"{_num(row['redis_cpu_us_per_op'], '.2f'):>17}"
            f"{_num(row['taipan_cpu_us_per_op'], '.2f'):>18}{note}")
    return "\n".join(lines)


def sizes_line(sizes: dict[str, dict[str, int | None]]) -> str:
    """``mylist: redis 1,000 / taipan 1,000, ...`` for the collection keys left over."""
    keys = next(iter(sizes.values()))
    return ", ".join(
        f"{key} " + " / ".join(f"{kind} {_num(per_key[key], ',')}"
                               for kind, per_key in sizes.items())
        for key in keys)


def memory_table(kind: str, results: dict[str, dict], ratios: dict | None) -> str:
    """One table per data set kind: bytes per element for each server, then the ratios."""
    unit = "key" if kind == "strings" else "elem"
    count = next(iter(results.values()))["elements"]
    header = (f"{'server':<8}{f'used_memory Δ/{unit}':>20}{f'RSS Δ/{unit}':>14}"
              f"{f'MEMORY USAGE/{unit}':>21}{'RSS after':>12}{f'load {unit}s/s':>15}")
    lines = [f"memory ({kind}): {count:,} {DESCRIPTIONS[kind]} into an empty server",
             header, "-" * len(header)]
    for server, result in results.items():
        lines.append(
            f"{server:<8}{_num(result['used_memory_per_element'], '.1f', ' B'):>20}"
            f"{_num(result['rss_per_element'], '.1f', ' B'):>14}"
            f"{_num(result['memory_usage_per_element'], '.1f', ' B'):>21}"
            f"{result['after']['rss'] / 2**20:>10.1f} M"
            f"{_num(result['load_elements_per_s'], ',.0f'):>15}")
    for server, result in results.items():
        if kind != "strings" and result["memory_usage"] is None:
            lines.append(f"{server} MEMORY USAGE: {result['memory_usage_error']}")
    if ratios:
        parts = [f"taipan RSS/{unit} ÷ redis used_memory/{unit}: "
                 f"{_num(ratios['taipan_rss_over_redis_used_memory'], '.2f', 'x')}"]
        if kind != "strings":
            parts.append(f"÷ redis MEMORY USAGE/{unit}: "
                         f"{_num(ratios['taipan_rss_over_redis_memory_usage'], '.2f', 'x')}")
        parts.append(f"÷ redis RSS/{unit}: "
                     f"{_num(ratios['taipan_rss_over_redis_rss'], '.2f', 'x')}")
        lines.append(";  ".join(parts))
    return "\n".join(lines)


def side_by_side(title: str, rounds: int, results: dict[str, dict[str, list[float]]],
                 memory: dict[str, dict[str, float]], unit_of: dict[str, str]) -> str:
    """A standalone benchmark's table: the median of each test's rounds for both
    servers and their ratio, then the memory figures (``unit_of``: test -> unit)."""
    lines = [title, f"{os.cpu_count()} CPUs, medians of {rounds} rounds", ""]
    width = max([30] + [len(test) + 2 for test in results["redis"]])
    lines.append(f"{'test':<{width}}{'redis':>16}{'taipan':>16}{'ratio':>8}")
    for test, runs in results["redis"].items():
        ref, ours = statistics.median(runs), statistics.median(results["taipan"][test])
        unit = unit_of.get(test, "req/s")
        lines.append(f"{test:<{width}}{ref:>10,.0f} {unit:<5}{ours:>10,.0f} {unit:<5}"
                     f"{(ours / ref if ref else 0.0):>8.2f}")
    for field in memory.get("redis", {}):
        ref, ours = memory["redis"][field], memory["taipan"][field]
        lines.append(f"{field + ' (bytes)':<{width}}{ref:>16,.1f}{ours:>16,.1f}"
                     f"{(ours / ref if ref else 0.0):>8.2f}")
    return "\n".join(lines)
