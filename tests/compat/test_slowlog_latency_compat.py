"""SLOWLOG and LATENCY against redis-server 7.0.15: replies and errors byte for byte,
entries compared by shape where figures are machine-dependent (ids, times,
durations, client ports)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

# Integers (ids, timestamps, durations, counts of calls) and client addresses.
_INTEGER = re.compile(rb":\d+\r\n")
_ADDR = re.compile(rb"\$\d+\r\n(?:127\.0\.0\.1|\?):\d+\r\n")


# A histogram's buckets: how many depends on the machine's speed.
_BUCKETS = re.compile(rb"(histogram_usec\r\n)[*%]\d+\r\n(?::\d+\r\n)*")


def _masked(raw: bytes) -> bytes:
    raw = _BUCKETS.sub(rb"\1BUCKETS", raw)
    return _ADDR.sub(b"$ADDR\r\n", _INTEGER.sub(b":N\r\n", raw))


def check_masked(differ, *args, resp: tuple[int, ...] = (2, 3)) -> None:
    for version in resp:
        expected, actual = differ.both(*args, resp=version)
        assert _masked(actual) == _masked(expected), (
            f"RESP{version} {args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}")


def _both(differ, *args) -> None:
    for version in (2, 3):
        differ.both(*args, resp=version)


@pytest.fixture
def slowlog_all(differ) -> Iterator[None]:
    """Every command logged; the defaults restored afterwards (servers are shared)."""
    _both(differ, "CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "128")
    _both(differ, "SLOWLOG", "RESET")
    yield
    _both(differ, "CONFIG", "SET", "slowlog-log-slower-than", "10000",
          "slowlog-max-len", "128")
    _both(differ, "SLOWLOG", "RESET")


def test_slowlog_help_and_errors(differ) -> None:
    differ.check("SLOWLOG", "HELP")
    for args in [("SLOWLOG",), ("SLOWLOG", "foo"), ("SLOWLOG", "GET", "x"),
                 ("SLOWLOG", "GET", "-2"), ("SLOWLOG", "GET", "1", "2"),
                 ("SLOWLOG", "GET", "99999999999999999999"), ("SLOWLOG", "LEN", "x"),
                 ("SLOWLOG", "RESET", "x"), ("SLOWLOG", "HELP", "x"), ("SLOWLOG", "GET", " 1")]:
        differ.check(*args)


def test_slowlog_entries(differ, slowlog_all) -> None:
    differ.run([("SET", "k", "v"), ("GET", "k"), ("CLIENT", "SETNAME", "named"),
                ("INCR", "n")])
    check_masked(differ, "SLOWLOG", "GET", resp=(2,))
    check_masked(differ, "SLOWLOG", "GET", "2", resp=(2,))
    check_masked(differ, "SLOWLOG", "GET", "-1", resp=(2,))
    check_masked(differ, "SLOWLOG", "GET", "0", resp=(2,))
    check_masked(differ, "SLOWLOG", "LEN", resp=(2,))
    differ.check("SLOWLOG", "RESET", resp=(2,))
    check_masked(differ, "SLOWLOG", "GET", "1", resp=(2,))


def test_slowlog_trims_arguments(differ, slowlog_all) -> None:
    differ.check("RPUSH", "l", *[f"e{i}" for i in range(40)], resp=(2,))
    differ.check("SET", "big", "x" * 300, resp=(2,))
    differ.check("RPUSH", "l2", *[str(i) for i in range(32)], resp=(2,))
    differ.check("RPUSH", "l3", *[str(i) for i in range(31)], resp=(2,))
    differ.check("SET", "edge", "y" * 128, resp=(2,))
    check_masked(differ, "SLOWLOG", "GET", "5", resp=(2,))


def test_slowlog_redacts_and_skips(differ, slowlog_all) -> None:
    differ.check("AUTH", "nopass", resp=(2,))
    differ.check("AUTH", "user", "pass", resp=(2,))
    check_masked(differ, "HELLO", "2", "AUTH", "default", "secret", resp=(2,))
    differ.check("MULTI", resp=(2,))
    differ.check("SET", "t", "1", resp=(2,))
    differ.check("EXEC", resp=(2,))
    differ.check("EVAL", "redis.call('set', 'e', '1') return 1", "0", resp=(2,))
    check_masked(differ, "SLOWLOG", "GET", "-1", resp=(2,))


def test_slowlog_max_len(differ, slowlog_all) -> None:
    _both(differ, "CONFIG", "SET", "slowlog-max-len", "3")
    differ.run([("SET", "a", "1"), ("SET", "b", "2"), ("SET", "c", "3"), ("SET", "d", "4")])
    check_masked(differ, "SLOWLOG", "LEN", resp=(2,))
    check_masked(differ, "SLOWLOG", "GET", resp=(2,))
    _both(differ, "CONFIG", "SET", "slowlog-max-len", "0")
    check_masked(differ, "SLOWLOG", "LEN", resp=(2,))
    _both(differ, "CONFIG", "SET", "slowlog-log-slower-than", "-1",
          "slowlog-max-len", "128")
    differ.check("SET", "e", "5", resp=(2,))
    differ.check("SLOWLOG", "LEN", resp=(2,))


def test_latency_help_and_errors(differ) -> None:
    differ.check("LATENCY", "HELP")
    for args in [("LATENCY",), ("LATENCY", "foo"), ("LATENCY", "HISTORY"),
                 ("LATENCY", "GRAPH"), ("LATENCY", "GRAPH", "a", "b"),
                 ("LATENCY", "LATEST", "x"), ("LATENCY", "DOCTOR", "x"),
                 ("LATENCY", "HELP", "x"), ("LATENCY", "GRAPH", "no-such-event"),
                 ("LATENCY", "HISTORY", "no-such-event")]:
        differ.check(*args)


def test_latency_without_events(differ) -> None:
    _both(differ, "LATENCY", "RESET")
    differ.check("LATENCY", "LATEST")
    differ.check("LATENCY", "RESET")
    differ.check("LATENCY", "RESET", "command", "fork")
    differ.check("LATENCY", "DOCTOR")
    differ.check("LATENCY", "HISTOGRAM", "no-such-command")
    differ.check("LATENCY", "HISTOGRAM", "config|no-such-sub")


def test_latency_histogram_shape(differ) -> None:
    _both(differ, "CONFIG", "RESETSTAT")
    differ.run([("SET", "h", "1"), ("SET", "h", "2"), ("CONFIG", "GET", "hz")])
    check_masked(differ, "LATENCY", "HISTOGRAM", "set")
    check_masked(differ, "LATENCY", "HISTOGRAM", "SET", "nosuch")
    check_masked(differ, "LATENCY", "HISTOGRAM", "config|get")
    # HISTOGRAM's buckets are powers of two from 1 µs: 1, 2, 4, 8, 16, 33, 66 ...
    _, ours = differ.both("LATENCY", "HISTOGRAM", "set", resp=3)
    bounds = [int(b) for b in re.findall(rb":(\d+)\r\n", ours)[1::2]]
    assert set(bounds) <= {1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8455,
                           16911, 33823, 67646, 135292}
