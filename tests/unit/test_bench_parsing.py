"""bench/parsing.py: pure helpers of the benchmark runner (no servers, nothing timed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.parsing import (  # noqa: E402
    median,
    parse_csv,
    proc_stat_cpu_seconds,
    proc_status_rss_bytes,
    ratio,
    summarise,
)

CSV = '''"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"PING_INLINE","36036.04","0.821","0.192","0.703","1.735","2.375","64.319"
"MSET (10 keys)","34071.55","1.224","0.248","1.215","1.927","3.439","9.591"
'''


def test_parse_csv_keeps_names_and_rates() -> None:
    assert parse_csv(CSV) == {"PING_INLINE": 36036.04, "MSET (10 keys)": 34071.55}


def test_parse_csv_ignores_header_only_and_junk() -> None:
    assert parse_csv(CSV.splitlines()[0] + "\n") == {}
    assert parse_csv("") == {}
    assert parse_csv('"SET","n/a"\nnot csv at all\n') == {}


def test_ratio() -> None:
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(None, 200.0) is None
    assert ratio(50.0, None) is None
    assert ratio(50.0, 0.0) is None


def test_median_skips_failed_runs() -> None:
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([None, None]) is None


def test_proc_stat_cpu_seconds_counts_from_last_paren() -> None:
    fields = ["S"] + ["0"] * 10 + ["250", "50"] + ["0"] * 30
    text = "1234 (python -m (x)) " + " ".join(fields) + "\n"
    assert proc_stat_cpu_seconds(text, 100) == pytest.approx(3.0)


def test_proc_status_rss_bytes() -> None:
    assert proc_status_rss_bytes("Name:\tx\nVmRSS:\t   2048 kB\nVmSwap: 0 kB\n") == 2048 * 1024
    with pytest.raises(ValueError):
        proc_status_rss_bytes("Name:\tx\n")


def test_summarise_medians_and_ratio() -> None:
    def run(server: str, rps: float | None, us: float | None) -> dict:
        return {"server": server, "test": "GET", "pipeline": 16, "rps": rps, "us_per_op": us}

    runs = [run("redis", 100.0, 1.0), run("taipan", 40.0, 5.0),
            run("redis", 300.0, 3.0), run("taipan", None, None),
            run("redis", 200.0, 2.0), run("taipan", 60.0, 7.0)]
    (row,) = summarise(runs)
    assert row["test"] == "GET" and row["pipeline"] == 16
    assert row["redis_rps"] == 200.0 and row["taipan_rps"] == 50.0
    assert row["ratio"] == 0.25
    assert row["redis_cpu_us_per_op"] == 2.0 and row["taipan_cpu_us_per_op"] == 6.0
    assert row["rounds"] == 3 and row["failed_runs"] == 1
