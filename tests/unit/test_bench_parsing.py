"""bench/parsing.py, suites.py, loads.py, report.py: the benchmark runner's pure helpers.

No servers and nothing timed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import loads, report, suites  # noqa: E402
from bench.parsing import (  # noqa: E402
    median,
    memory_ratios,
    parse_csv,
    parse_memory_usage,
    per_element,
    phase_cpu,
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


LRANGE_CSV = CSV.splitlines()[0] + """
"LPUSH (needed to benchmark LRANGE)","29239.77","1.095","0.312","1.071","1.575","1.735","4.271"
"LRANGE_100 (first 100 elements)","16835.02","2.030","0.640","1.959","3.335","5.015","6.175"
"""


def test_parse_csv_keeps_lrange_warmup_row_first() -> None:
    rows = list(parse_csv(LRANGE_CSV).items())
    assert rows == [("LPUSH (needed to benchmark LRANGE)", 29239.77),
                    ("LRANGE_100 (first 100 elements)", 16835.02)]
    assert rows[0][0] == suites.LRANGE_WARMUP
    assert rows[1][0] == suites.label("lrange_100")


def test_phase_cpu() -> None:
    assert phase_cpu([1.0, 1.5, 4.0]) == pytest.approx([0.5, 2.5])
    assert phase_cpu([2.0]) == []


def test_expand_tests_suites_and_ping() -> None:
    assert suites.expand_tests("ping,set") == ["ping_inline", "ping_mbulk", "set"]
    assert suites.expand_tests("strings") == list(suites.STRINGS)
    assert suites.expand_tests("collections") == list(suites.COLLECTIONS)
    assert suites.expand_tests("scripting") == ["evalsha_1", "evalsha_10"]
    assert suites.expand_tests("all") == list(suites.STRINGS + suites.COLLECTIONS
                                              + suites.SCRIPTING)
    assert suites.suite_of("evalsha_10") == "scripting"
    assert suites.expand_tests("SADD, spop,sadd,") == ["sadd", "spop"]
    # the pops follow the pushes they drain
    order = suites.COLLECTIONS
    assert order.index("sadd") < order.index("spop")
    assert order.index("zadd") < order.index("zpopmin")


def test_labels_and_expected_rows() -> None:
    assert suites.label("mset") == "MSET (10 keys)"
    assert suites.label("zpopmin") == "ZPOPMIN"
    assert suites.label("lrange_600") == "LRANGE_600 (first 600 elements)"
    assert suites.expected_rows("lrange_300") == 2
    assert suites.expected_rows("lpush") == 1


def test_requests_plan_defaults_and_override() -> None:
    plan = suites.requests_plan(["set", "lpush", "lrange_600"], [1, 16], None, quick=False)
    assert plan["set"] == {1: 50_000, 16: 200_000}
    assert plan["lpush"] == {1: 30_000, 16: 80_000}
    assert plan["lrange_600"] == {1: 3_750, 16: 10_000}
    quick = suites.requests_plan(["lrange_600", "set"], [1, 4], None, quick=True)
    assert quick == {"lrange_600": {1: 1000, 4: 2000}, "set": {1: 10_000, 4: 40_000}}
    assert suites.requests_plan(["lrange_600"], [1], 777, quick=True) == {"lrange_600": {1: 777}}


def test_keyspace_plan() -> None:
    assert suites.keyspace_plan(["get", "sadd"], None) == {"get": 100_000, "sadd": 10_000_000}
    assert suites.keyspace_plan(["get", "sadd"], 0) == {"get": 0, "sadd": 0}


def test_describe_plan() -> None:
    plan = {"lpush": {1: 20_000, 16: 50_000}, "spop": {1: 20_000, 16: 50_000},
            "lrange_600": {1: 2_500, 16: 6_250}}
    assert suites.describe_plan(plan) == "P1 20,000 (lrange_600 2,500), P16 50,000 (lrange_600 6,250)"
    plan["get"] = {1: 50_000, 16: 200_000}
    assert suites.describe_plan(plan) == ("collections P1 20,000 (lrange_600 2,500), P16 50,000 "
                                          "(lrange_600 6,250); strings P1 50,000, P16 200,000")


def test_memory_kinds() -> None:
    assert loads.kinds("strings") == ["strings"]
    assert loads.kinds("zset,hash") == ["hash", "zset"]
    assert loads.kinds("all") == ["strings", "hash", "zset", "small-hash", "small-set",
                                  "small-zset", "small-list"]
    with pytest.raises(ValueError):
        loads.kinds("list")


@pytest.mark.parametrize("kind, first, reply", [
    ("strings", b"*5\r\n$4\r\nMSET\r\n$13\r\nkey:000000000\r\n$3\r\nabc\r\n", b"+OK"),
    ("hash", b"*6\r\n$4\r\nHSET\r\n$10\r\nbench:hash\r\n$7\r\nfield:0\r\n$1\r\n0\r\n", b":2"),
    ("zset", b"*6\r\n$4\r\nZADD\r\n$10\r\nbench:zset\r\n$1\r\n0\r\n$8\r\nmember:0\r\n", b":2"),
])
def test_load_batches(kind: str, first: bytes, reply: bytes) -> None:
    items = list(loads.batches(kind, 5, 2))
    assert len(items) == 3
    command, expected = items[0]
    assert command.startswith(first) and expected == [reply]
    assert items[-1][1] == [b"+OK" if kind == "strings" else b":1"]  # the short last batch
    assert b"4" in items[-1][0]


def test_small_kind_batches() -> None:
    """One command a key, each filling it with SMALL_SIZE elements."""
    items = list(loads.batches("small-hash", 5, 2))
    assert [len(expected) for _, expected in items] == [2, 2, 1]
    assert items[0][1] == [b":%d" % loads.SMALL_SIZE] * 2
    first = b"*22\r\n$4\r\nHSET\r\n$20\r\nsmall-hash:000000000\r\n$7\r\nfield:0\r\n"
    assert items[0][0].startswith(first)
    assert items[0][0].count(b"HSET") == 2


def test_per_element_and_memory_usage_reply() -> None:
    assert per_element(1000, 3000, 100) == 20.0
    assert per_element(None, 3000, 100) is None
    assert per_element(0, 3000, 0) is None
    assert parse_memory_usage(58_500_000) == (58_500_000, None)
    value, why = parse_memory_usage(Exception("unknown command 'MEMORY'"))
    assert value is None and "unknown command" in why
    assert parse_memory_usage(None)[0] is None
    assert parse_memory_usage(True)[0] is None


def _memory_result(used: float | None, rss: float, usage: float | None) -> dict:
    return {"elements": 1000, "used_memory_per_element": used, "rss_per_element": rss,
            "memory_usage": None if usage is None else usage * 1000,
            "memory_usage_error": None if usage else "ResponseError: unknown command",
            "memory_usage_per_element": usage, "after": {"rss": 2**20},
            "load_elements_per_s": 5000.0}


def test_memory_ratios_and_table() -> None:
    redis_result = _memory_result(64.0, 80.0, 50.0)
    taipan_result = _memory_result(160.0, 160.0, None)
    ratios = memory_ratios(redis_result, taipan_result)
    assert ratios == {"taipan_rss_over_redis_used_memory": 2.5,
                      "taipan_rss_over_redis_memory_usage": 3.2,
                      "taipan_rss_over_redis_rss": 2.0,
                      "taipan_used_memory_over_redis_used_memory": 2.5}
    table = report.memory_table("hash", {"redis": redis_result, "taipan": taipan_result}, ratios)
    assert "1,000 fields field:N" in table
    assert "taipan MEMORY USAGE: ResponseError" in table
    assert "÷ redis MEMORY USAGE/elem: 3.20x" in table
    assert memory_ratios(_memory_result(None, 80.0, None), taipan_result)[
        "taipan_rss_over_redis_used_memory"] is None


def test_throughput_table_fits_long_names() -> None:
    row = {"test": suites.label("lrange_300"), "pipeline": 16, "redis_rps": 1000.0,
           "taipan_rps": None, "ratio": None, "redis_cpu_us_per_op": 2.0,
           "taipan_cpu_us_per_op": None, "failed_runs": 1}
    header, _, line = report.throughput_table([row]).splitlines()
    assert line.startswith("LRANGE_300 (first 300 elements)  ")
    assert "n/a" in line and "(1 failed runs)" in line
