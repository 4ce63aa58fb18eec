"""Text tables for the summary rows and the memory results."""

from __future__ import annotations


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def throughput_table(rows: list[dict]) -> str:
    header = (f"{'test':<16}{'pipeline':>9}{'redis ops/s':>14}{'taipan ops/s':>14}"
              f"{'ratio':>8}{'redis CPU µs/op':>17}{'taipan CPU µs/op':>18}")
    lines = [header, "-" * len(header)]
    for row in rows:
        note = f"  ({row['failed_runs']} failed runs)" if row["failed_runs"] else ""
        lines.append(
            f"{row['test']:<16}{row['pipeline']:>9}{_num(row['redis_rps'], ',.0f'):>14}"
            f"{_num(row['taipan_rps'], ',.0f'):>14}{_num(row['ratio'], '.3f'):>8}"
            f"{_num(row['redis_cpu_us_per_op'], '.2f'):>17}"
            f"{_num(row['taipan_cpu_us_per_op'], '.2f'):>18}{note}")
    return "\n".join(lines)


def memory_table(results: dict[str, dict]) -> str:
    keys = next(iter(results.values()))["keys"]
    header = (f"{'server':<8}{'used_memory Δ/key':>19}{'RSS Δ/key':>12}{'RSS after':>12}"
              f"{'load keys/s':>14}")
    lines = [f"memory: {keys:,} keys key:NNNNNNNNN -> 3-byte value, pipelined MSET into an "
             "empty server", header, "-" * len(header)]
    for kind, result in results.items():
        lines.append(
            f"{kind:<8}{result['used_memory_per_key']:>17.1f} B{result['rss_per_key']:>10.1f} B"
            f"{result['after']['rss'] / 2**20:>10.1f} M{_num(result['load_keys_per_s'], ',.0f'):>14}")
    if "redis" in results and "taipan" in results:
        redis_rss, taipan_rss = results["redis"]["rss_per_key"], results["taipan"]["rss_per_key"]
        if redis_rss > 0:
            lines.append(f"taipan/redis RSS per key: {taipan_rss / redis_rss:.2f}x")
    return "\n".join(lines)
