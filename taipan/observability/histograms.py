"""Per-command latency histograms (``latency-tracking``): INFO latencystats and
LATENCY HISTOGRAM.

Redis records each call's duration, in whole microseconds times 1000, into an HDR
histogram of 2 significant digits over 1 ns .. 1 s. The dispatcher only appends
the microseconds to ``Command.latency_pending`` (the hot path stays one append),
or for the commonest duration, 0 µs, adds one to ``Command.latency_zeros``;
``fold`` counts them, and the reports derive HDR's figures from the counts: values
in the same HDR bucket are equivalent, so the percentiles and the power-of-two
cumulative buckets come out as Redis prints them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taipan.commands.table import Command

_MIN_NS = 1
_MAX_NS = 1_000_000_000
# Above this many pending samples the cron folds them (bounded memory).
FOLD_AT = 4096


def fold(command: Command) -> Counter[int]:
    """Count the command's pending samples; its histogram keyed by microseconds."""
    pending = command.latency_pending
    zeros = command.latency_zeros
    counts = command.latency_counts
    if pending or zeros:
        if counts is None:
            counts = command.latency_counts = Counter()
        counts.update(pending)
        pending.clear()
        if zeros:
            counts[0] += zeros
            command.latency_zeros = 0
    return counts if counts is not None else Counter()


def fold_all(commands: Iterable[Command], at_least: int = 1) -> None:
    """Fold the commands holding ``at_least`` listed samples (the list's memory)."""
    for command in commands:
        if len(command.latency_pending) >= at_least:
            fold(command)


def reset(command: Command) -> None:
    command.latency_pending.clear()
    command.latency_zeros = 0
    command.latency_counts = None


def has_data(command: Command) -> bool:
    return (bool(command.latency_pending) or command.latency_zeros > 0
            or command.latency_counts is not None)


def _ns(usec: int) -> int:
    return min(max(usec * 1000, _MIN_NS), _MAX_NS)


def _bucket_shift(ns: int) -> int:
    # 256 sub-buckets per power of two: a value's bucket spans 2**shift values.
    return max((ns | 255).bit_length() - 8, 0)


def _lowest_equivalent(ns: int) -> int:
    shift = _bucket_shift(ns)
    return (ns >> shift) << shift


def _highest_equivalent(ns: int) -> int:
    return _lowest_equivalent(ns) + (1 << _bucket_shift(ns)) - 1


def _sorted_ns(counts: Counter[int]) -> list[tuple[int, int]]:
    merged: dict[int, int] = {}
    for usec, count in counts.items():
        ns = _ns(usec)
        merged[ns] = merged.get(ns, 0) + count
    return sorted(merged.items())


def percentile_usec(counts: Counter[int], percentile: float) -> float:
    """HDR's value at ``percentile``, in microseconds (INFO's ``p50=...``)."""
    values = _sorted_ns(counts)
    total = sum(count for _, count in values)
    wanted = max(int(min(percentile, 100.0) / 100 * total + 0.5), 1)
    seen = 0
    found = 0
    for ns, count in values:
        seen += count
        if seen >= wanted:
            found = ns
            break
    value = _lowest_equivalent(found) if percentile == 0.0 else _highest_equivalent(found)
    return value / 1000.0


def cumulative_buckets(counts: Counter[int]) -> tuple[int, list[tuple[int, int]]]:
    """(calls, [(bucket upper bound in µs, calls up to it)]) as LATENCY HISTOGRAM
    reports them: power-of-two buckets from 1024 ns, only those that add calls."""
    values = _sorted_ns(counts)
    total = sum(count for _, count in values)
    buckets: list[tuple[int, int]] = []
    level = 1024
    seen = 0
    index = 0
    while index < len(values):
        bound = _highest_equivalent(level)
        before = seen
        while index < len(values) and values[index][0] <= bound:
            seen += values[index][1]
            index += 1
        if seen > before:
            buckets.append((bound // 1000, seen))
        level *= 2
    return total, buckets
