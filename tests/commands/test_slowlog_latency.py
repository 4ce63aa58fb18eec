"""SLOWLOG and LATENCY through redis-py: entries, trimming, thresholds, latency
spikes from DEBUG SLEEP, histograms and INFO latencystats."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis


@pytest.fixture
def rs(r: redis.Redis) -> Iterator[redis.Redis]:
    """A client with every command logged; defaults restored afterwards."""
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.execute_command("LATENCY", "RESET")
    yield r
    r.config_set("slowlog-log-slower-than", 10000)
    r.config_set("slowlog-max-len", 128)
    r.config_set("latency-monitor-threshold", 0)
    r.config_set("latency-tracking", "yes")
    r.slowlog_reset()
    r.execute_command("LATENCY", "RESET")


def test_slowlog_get_entry_format(rs: redis.Redis) -> None:
    rs.client_setname("me")
    rs.set("k", "v")
    entries = rs.slowlog_get(2)
    assert len(entries) == 2
    newest = entries[0]
    assert newest["command"] == b"SET k v"
    assert newest["client_name"] == b"me"
    assert newest["client_address"].startswith(b"127.0.0.1:")
    assert abs(newest["start_time"] - time.time()) < 5
    assert newest["duration"] >= 0
    assert newest["id"] > entries[1]["id"]


def test_slowlog_len_reset_and_max_len(rs: redis.Redis) -> None:
    for i in range(5):
        rs.set(f"k{i}", i)
    assert rs.slowlog_len() >= 5
    rs.config_set("slowlog-max-len", 2)
    assert rs.slowlog_len() == 2
    assert rs.slowlog_reset()
    assert rs.slowlog_len() == 1  # SLOWLOG RESET itself is logged once it ran
    rs.config_set("slowlog-log-slower-than", -1)
    rs.set("x", 1)
    rs.slowlog_reset()
    rs.set("y", 1)
    assert rs.slowlog_len() == 0


def test_slowlog_trims_huge_arguments(rs: redis.Redis) -> None:
    rs.rpush("l", *range(100))
    rs.set("big", b"z" * 1000)
    big, push = rs.slowlog_get(2)
    assert big["command"] == b"SET big " + b"z" * 128 + b"... (872 more bytes)"
    args = push["command"].split(b" ")
    assert args[:3] == [b"RPUSH", b"l", b"0"]
    assert push["command"].endswith(b"... (71 more arguments)")


def test_slowlog_threshold(rs: redis.Redis) -> None:
    rs.config_set("slowlog-log-slower-than", 100_000)
    rs.slowlog_reset()
    rs.set("fast", 1)
    rs.execute_command("DEBUG", "SLEEP", "0.15")
    entries = rs.slowlog_get()
    assert [e["command"] for e in entries] == [b"DEBUG SLEEP 0.15"]
    assert entries[0]["duration"] >= 150_000


def test_slowlog_get_errors(rs: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError, match="greater than or equal to -1"):
        rs.execute_command("SLOWLOG", "GET", "-5")
    assert len(rs.execute_command("SLOWLOG", "GET", "-1")) >= 1


def test_latency_spike_from_debug_sleep(rs: redis.Redis) -> None:
    assert rs.execute_command("LATENCY", "LATEST") == []
    rs.config_set("latency-monitor-threshold", 50)
    rs.execute_command("DEBUG", "SLEEP", "0.1")
    latest = rs.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    event, when, latency, worst = latest[0]
    assert event == b"command"
    assert abs(when - time.time()) < 5
    assert 100 <= latency <= worst
    history = rs.execute_command("LATENCY", "HISTORY", "command")
    assert history == [[when, latency]]
    graph = rs.execute_command("LATENCY", "GRAPH", "command")
    assert graph.startswith(b"command - high %d ms, low %d ms" % (latency, latency))
    doctor = rs.execute_command("LATENCY", "DOCTOR")
    assert b"1. command: 1 latency spikes" in doctor
    assert rs.execute_command("LATENCY", "RESET", "COMMAND") == 1
    assert rs.execute_command("LATENCY", "LATEST") == []


def test_latency_doctor_disabled(rs: redis.Redis) -> None:
    assert rs.execute_command("LATENCY", "DOCTOR").startswith(
        b"I'm sorry, Dave, I can't do that.")


def test_histogram_and_latencystats(rs: redis.Redis) -> None:
    rs.config_resetstat()
    for _ in range(10):
        rs.get("nothing")
    raw = rs.execute_command("LATENCY", "HISTOGRAM", "get")
    histogram = raw if isinstance(raw, dict) else dict(zip(raw[::2], raw[1::2], strict=True))
    assert list(histogram) == [b"get"]
    fields = histogram[b"get"]
    if not isinstance(fields, dict):
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    assert fields[b"calls"] == 10
    buckets = fields[b"histogram_usec"]
    counts = list(buckets.values()) if isinstance(buckets, dict) else buckets[1::2]
    assert counts[-1] == 10  # cumulative
    stats = rs.info("latencystats")
    assert set(stats["latency_percentiles_usec_get"]) == {"p50", "p99", "p99.9"}
    rs.config_set("latency-tracking-info-percentiles", "50 90")
    try:
        assert set(rs.info("latencystats")["latency_percentiles_usec_get"]) == {"p50", "p90"}
    finally:
        rs.config_set("latency-tracking-info-percentiles", "50 99 99.9")
    rs.config_resetstat()
    assert "latency_percentiles_usec_get" not in rs.info("latencystats")
    rs.config_set("latency-tracking", "no")
    rs.get("nothing")
    assert not rs.execute_command("LATENCY", "HISTOGRAM", "get")


def test_config_set_credentials_are_redacted(rs: redis.Redis) -> None:
    rs.config_set("requirepass", "")
    with pytest.raises(redis.ResponseError, match="Unknown option"):
        rs.execute_command("CONFIG", "SET", "masterauth", "secret", "bogus", "1")
    commands = [entry["command"] for entry in rs.slowlog_get(2)]
    assert commands == [b"CONFIG SET masterauth (redacted) bogus 1",
                        b"CONFIG SET requirepass (redacted)"]
