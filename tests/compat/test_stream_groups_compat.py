"""Consumer groups and stream reads against redis-server: XGROUP, XREADGROUP, XREAD,
XACK, XPENDING, XCLAIM, XAUTOCLAIM, blocking reads, keyspace events, propagation.

Writes run once (RESP2) and the state is read back in both protocols. Idle times
depend on timing, so replies that carry them are compared with the idle fields
masked (``_masked``); everything else is compared byte for byte.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.raw import RawClient
from support.scenarios import Scenario, run_scenario
from support.servers import ServerProcess, start_redis, start_taipan

MAX = "18446744073709551615"


def _fill(differ, key: str, count: int, start: int = 1) -> None:
    for n in range(start, start + count):
        differ.check("XADD", key, f"{n}-1", "f", str(n), resp=(2,))


# XPENDING's extended rows: ID, consumer, idle ms, deliveries.
_PENDING_ROW = re.compile(rb"(\*4\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n[^\r]*\r\n):\d+")
# XINFO STREAM FULL's consumer pending rows: ID, delivery time, deliveries.
_CONSUMER_ROW = re.compile(rb"(\*3\r\n\$\d+\r\n\d+-\d+\r\n):\d+")
# XINFO CONSUMERS' idle (and XINFO STREAM FULL's times).
_IDLE_FIELD = re.compile(rb"(\$(?:4\r\nidle|9\r\nseen-time|13\r\ndelivery-time)\r\n):\d+")


def _masked(raw: bytes) -> bytes:
    raw = _PENDING_ROW.sub(rb"\1:T", raw)
    return _IDLE_FIELD.sub(rb"\1:T", _CONSUMER_ROW.sub(rb"\1:T", raw))


def check_masked(differ, *args, resp: tuple[int, ...] = (2, 3)) -> None:
    for version in resp:
        expected, actual = differ.both(*args, resp=version)
        assert _masked(actual) == _masked(expected), (
            f"RESP{version} {args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}")


# -- XGROUP -----------------------------------------------------------------------------

def test_xgroup_create_setid_destroy(differ) -> None:
    _fill(differ, "s", 3)
    differ.run([
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XGROUP", "CREATE", "s", "g", "$"),
        ("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "2"),
        ("XGROUP", "CREATE", "s", "g3", "2", "entriesread", "-1"),
        ("XGROUP", "CREATE", "s", "g4", "1-1", "MKSTREAM"),
        ("XGROUP", "CREATE", "fresh", "g", "$", "MKSTREAM"),
        ("XGROUP", "CREATE", "fresh2", "g", "5-5", "MKSTREAM", "ENTRIESREAD", "3"),
        ("XGROUP", "SETID", "s", "g", "2-1"),
        ("XGROUP", "SETID", "s", "g2", "$", "ENTRIESREAD", "1"),
        ("XGROUP", "SETID", "s", "g3", "-"),
        ("XGROUP", "SETID", "s", "g4", "+"),
    ])
    for key in ("s", "fresh", "fresh2"):
        differ.check("XINFO", "GROUPS", key)
        differ.check("TYPE", key)
    differ.run([
        ("XGROUP", "DESTROY", "s", "g3"),
        ("XGROUP", "DESTROY", "s", "g3"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "alice"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "alice"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "bob"),
        ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
        ("XGROUP", "DELCONSUMER", "s", "g", "bob"),
        ("XGROUP", "DELCONSUMER", "s", "g", "bob"),
        ("XGROUP", "DELCONSUMER", "s", "g", "alice"),
        ("XPENDING", "s", "g"),
    ])
    differ.check("XINFO", "GROUPS", "s")
    differ.check("XGROUP", "HELP")
    differ.check("xgroup", "help")


@pytest.mark.parametrize("args", [
    ("CREATE", "s", "g", "0"),  # BUSYGROUP
    ("CREATE", "nokey", "g", "0"),
    ("CREATE", "nokey", "g", "0", "ENTRIESREAD", "1"),
    ("CREATE", "s", "n", "0", "ENTRIESREAD", "-2"),
    ("CREATE", "s", "n", "0", "ENTRIESREAD", "x"),
    ("CREATE", "s", "n", "0", "ENTRIESREAD"),
    ("CREATE", "s", "n", "0", "FOO"),
    ("CREATE", "s", "n", "0", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"),
    ("CREATE", "s", "n", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"),
    ("CREATE", "nokey", "n", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"),
    ("CREATE", "s", "n", "-"),
    ("CREATE", "s", "n", "+"),
    ("CREATE", "s", "n", "abc"),
    ("CREATE", "s", "n", f"{MAX}1-0"),
    ("CREATE", "str", "g", "0"),
    ("CREATE", "str", "g", "0", "MKSTREAM"),
    ("SETID", "s", "nog", "0"),
    ("SETID", "nokey", "g", "0"),
    ("SETID", "s", "g", "abc"),
    ("SETID", "s", "g", "0", "ENTRIESREAD"),
    ("SETID", "s", "g", "0", "ENTRIESREAD", "-5"),
    ("SETID", "s", "g", "0", "MKSTREAM"),
    ("SETID", "s", "g", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"),
    ("SETID", "str", "g", "0"),
    ("DESTROY", "nokey", "g"),
    ("DESTROY", "str", "g"),
    ("DESTROY", "s"),
    ("DESTROY", "s", "g", "extra"),
    ("CREATECONSUMER", "s", "nog", "c"),
    ("CREATECONSUMER", "nokey", "g", "c"),
    ("CREATECONSUMER", "s", "g"),
    ("DELCONSUMER", "s", "nog", "c"),
    ("DELCONSUMER", "nokey", "g", "c"),
    ("HELP", "extra"),
    ("NOSUCH",),
    ("NOSUCH", "s", "g", "0"),
    ("CREATE", "s\r\nx", "g\nx", "0"),
    ("SETID", "s", "g\r\n", "0"),
])
def test_xgroup_errors(differ, args: tuple[str, ...]) -> None:
    differ.run([("XADD", "s", "1-1", "f", "v"), ("XGROUP", "CREATE", "s", "g", "0"),
                ("SET", "str", "x")])
    differ.check("XGROUP", *args)
    differ.check("EXISTS", "nokey")


def test_xgroup_arity(differ) -> None:
    differ.check("XGROUP")
    differ.check("XGROUP", "CREATE", "s", "g")


# -- XREADGROUP and the group counters ---------------------------------------------------

def test_xreadgroup_new_history_and_counters(differ) -> None:
    _fill(differ, "s", 5)
    differ.run([
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "1-1"),
        ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "(1-1"),
        ("XREADGROUP", "GROUP", "g", "nobody", "STREAMS", "s", "0"),
        ("XDEL", "s", "2-1"),
        ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "carol", "COUNT", "0", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">"),
    ])
    differ.check("XINFO", "GROUPS", "s")
    differ.check("XPENDING", "s", "g")
    check_masked(differ, "XPENDING", "s", "g", "-", "+", "10")
    check_masked(differ, "XINFO", "CONSUMERS", "s", "g")
    check_masked(differ, "XINFO", "STREAM", "s", "FULL")


def test_xreadgroup_noack_several_streams_and_reassignment(differ) -> None:
    _fill(differ, "a", 3)
    _fill(differ, "b", 2, start=10)
    differ.run([
        ("XGROUP", "CREATE", "a", "g", "0"),
        ("XGROUP", "CREATE", "b", "g", "$"),
        ("XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "a", "b", ">", ">"),
        ("XADD", "b", "20-1", "f", "v"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"),
        ("XGROUP", "SETID", "b", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "d", "STREAMS", "b", ">"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", "0", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", "0", ">"),
    ])
    for key in ("a", "b"):
        differ.check("XINFO", "GROUPS", key)
        differ.check("XPENDING", key, "g")


def test_entries_read_and_lag_with_tombstones(differ) -> None:
    _fill(differ, "s", 6)
    steps = [
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XGROUP", "CREATE", "s", "h", "0", "ENTRIESREAD", "0"),
        ("XGROUP", "CREATE", "s", "k", "3-1"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"),
        ("XDEL", "s", "4-1"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "h", "c", "COUNT", "4", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "k", "c", "STREAMS", "s", ">"),
        ("XADD", "s", "7-1", "f", "v"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XGROUP", "SETID", "s", "h", "$"),
    ]
    for step in steps:
        differ.check(*step, resp=(2,))
        differ.check("XINFO", "GROUPS", "s")


@pytest.mark.parametrize("args", [
    ("GROUP", "g", "c", "STREAMS", "s", "$"),
    ("GROUP", "nog", "c", "STREAMS", "s", ">"),
    ("GROUP", "g", "c", "STREAMS", "nokey", ">"),
    ("GROUP", "g", "c", "STREAMS", "s", "nokey", ">", ">"),
    ("GROUP", "g", "c", "STREAMS", "str", ">"),
    ("GROUP", "g", "c", "STREAMS", "s", "-"),
    ("GROUP", "g", "c", "STREAMS", "s", "bad"),
    ("GROUP", "g", "c", "STREAMS", "s", "s", ">"),
    ("GROUP", "g", "c", "COUNT", "x", "STREAMS", "s", ">"),
    ("GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "s", ">"),
    ("GROUP", "g", "c", "BLOCK", "x", "STREAMS", "s", ">"),
    ("GROUP", "g", "c", "FOO", "STREAMS", "s", ">"),
    ("COUNT", "1", "STREAMS", "s", ">", "x"),
    ("COUNT", "1", "NOACK", "STREAMS", "s", ">"),
    ("GROUP", "g", "STREAMS", "s", ">"),
    ("GROUP", "g", "c", "COUNT", "1", "NOACK"),
    ("GROUP", "g\r\n", "c", "STREAMS", "s", ">"),
])
def test_xreadgroup_errors(differ, args: tuple[str, ...]) -> None:
    differ.run([("XADD", "s", "1-1", "f", "v"), ("XGROUP", "CREATE", "s", "g", "$"),
                ("SET", "str", "x")])
    differ.check("XREADGROUP", *args)


# -- XREAD ------------------------------------------------------------------------------

def test_xread_forms(differ) -> None:
    _fill(differ, "a", 4)
    _fill(differ, "b", 2, start=10)
    differ.run([("XADD", "e", "1-1", "f", "v"), ("XDEL", "e", "1-1")])
    for args in [
        ("STREAMS", "a", "0"),
        ("COUNT", "2", "STREAMS", "a", "b", "0", "0"),
        ("COUNT", "0", "STREAMS", "a", "1-1"),
        ("COUNT", "-3", "STREAMS", "a", "2"),
        ("STREAMS", "a", "b", "$", "10-1"),
        ("STREAMS", "a", "a", "0", "3-1"),
        ("STREAMS", "nokey", "a", "0", "(1"),
        ("STREAMS", "nokey", "$"),
        ("STREAMS", "e", "0"),
        ("STREAMS", "a", MAX),
        ("STREAMS", "a", f"{MAX}-{MAX}"),
        ("count", "1", "streams", "a", "0"),
        ("COUNT", "1", "COUNT", "2", "STREAMS", "a", "0"),
        ("STREAMS", "STREAMS", "a", "0", "0"),
        ("BLOCK", "0", "COUNT", "1", "STREAMS", "a", "0"),
    ]:
        differ.check("XREAD", *args)


@pytest.mark.parametrize("args", [
    ("STREAMS", "s"),
    ("STREAMS", "s", "0", "x"),
    ("STREAMS",),
    ("COUNT", "1"),
    ("COUNT", "x", "STREAMS", "s", "0"),
    ("BLOCK", "-1", "STREAMS", "s", "0"),
    ("BLOCK", "x", "STREAMS", "s", "0"),
    ("BLOCK", "1.5", "STREAMS", "s", "0"),
    ("BLOCK", "99999999999999999999", "STREAMS", "s", "0"),
    ("GROUP", "g", "c", "STREAMS", "s", "0"),
    ("NOACK", "STREAMS", "s", "0"),
    ("STREAMS", "s", ">"),
    ("STREAMS", "s", "-"),
    ("STREAMS", "s", "+"),
    ("STREAMS", "s", "1-x"),
    ("STREAMS", "str", "0"),
    ("STREAMS", "s", "str", "0", "0"),
    ("FOO", "STREAMS", "s", "0"),
])
def test_xread_errors(differ, args: tuple[str, ...]) -> None:
    differ.run([("XADD", "s", "1-1", "f", "v"), ("SET", "str", "x")])
    differ.check("XREAD", *args)


def test_reads_in_scripts_and_transactions(differ) -> None:
    differ.run([("XADD", "s", "1-1", "f", "v"), ("XGROUP", "CREATE", "s", "g", "$")])
    differ.check("EVAL", "return redis.call('xread', 'block', '0', 'streams', 's', '$')", "0")
    differ.check("EVAL", "return redis.call('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10', "
                         "'STREAMS', 's', '>')", "0")
    differ.check("EVAL", "return redis.call('xread', 'streams', 's', '0')", "0")
    differ.check("EVAL", "return redis.pcall('xreadgroup', 'group', 'g', 'c', 'streams', 's', "
                         "'>')", "0", resp=(2,))
    differ.check("EVAL_RO", "return redis.pcall('xreadgroup', 'group', 'g', 'c', 'streams', "
                            "'s', '0')", "0", resp=(2,))
    ref, ours = differ.pairs[2]
    for client in (ref, ours):
        client.call("MULTI")
    for args in [("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                 ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                 ("XADD", "s", "2-1", "f", "v"),
                 ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                 ("EXEC",)]:
        differ.check(*args, resp=(2,))


# -- XACK, XPENDING -----------------------------------------------------------------------

def test_xack_and_xpending(differ) -> None:
    _fill(differ, "s", 6)
    differ.run([
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
        ("XACK", "s", "g", "1-1", "1-1", "9-9"),
        ("XACK", "s", "g", "2", "5-1"),
        ("XACK", "s", "nog", "3-1"),
        ("XACK", "nokey", "g", "3-1"),
        ("XACK", "s", "g", "3-1", "bad"),
        ("XACK", "s", "nog", "bad"),
        ("XACK", "s", "g", "-"),
    ])
    differ.check("XPENDING", "s", "g")
    for args in [
        ("-", "+", "10"),
        ("-", "+", "10", "alice"),
        ("-", "+", "10", "nobody"),
        ("-", "+", "1"),
        ("-", "+", "0"),
        ("-", "+", "-5"),
        ("(3-1", "+", "10"),
        ("-", "(6-1", "10"),
        ("4", "4", "10"),
        ("5-1", "3-1", "10"),
        ("IDLE", "0", "-", "+", "10"),
        ("IDLE", "-10", "-", "+", "10"),
        ("IDLE", "3600000", "-", "+", "10"),
        ("idle", "3600000", "-", "+", "10", "bob"),
        ("-", "+", "10", "bob", "extra", "more"),
    ]:
        check_masked(differ, "XPENDING", "s", "g", *args)
    differ.check("XACK", "s", "g", "3-1", "4-1", "6-1", resp=(2,))
    differ.check("XPENDING", "s", "g")
    check_masked(differ, "XPENDING", "s", "g", "-", "+", "10")


@pytest.mark.parametrize("args", [
    ("s", "g", "-"),
    ("s", "g", "-", "+"),
    ("s", "g", "-", "+", "10", "c", "x", "y", "z"),
    ("s", "g", "IDLE", "10", "-", "+"),
    ("s", "g", "IDLE", "x", "-", "+", "10"),
    ("s", "g", "-", "+", "x"),
    ("s", "g", "x", "+", "10"),
    ("s", "g", "-", "x", "10"),
    ("s", "g", f"({MAX}-{MAX}", "+", "10"),
    ("s", "g", "-", "(0-0", "10"),
    ("s", "g", "(-", "+", "10"),
    ("s", "nog"),
    ("nokey", "g"),
    ("nokey", "g", "-", "+", "10"),
    ("nokey", "g", "x", "+", "10"),
    ("str", "g"),
    ("s", "g\n"),
])
def test_xpending_errors(differ, args: tuple[str, ...]) -> None:
    differ.run([("XADD", "s", "1-1", "f", "v"), ("XGROUP", "CREATE", "s", "g", "0"),
                ("SET", "str", "x")])
    differ.check("XPENDING", *args)


# -- XCLAIM, XAUTOCLAIM -------------------------------------------------------------------

def _claimable(differ) -> None:
    _fill(differ, "s", 6)
    differ.run([
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "s", ">"),
        ("SET", "str", "x"),
    ])


def test_xclaim(differ) -> None:
    _claimable(differ)
    differ.run([
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "2-1"),
        ("XCLAIM", "s", "g", "bob", "3600000", "3-1"),
        ("XCLAIM", "s", "g", "carol", "0", "3-1", "JUSTID"),
        ("XCLAIM", "s", "g", "carol", "0", "4-1", "9-9", "RETRYCOUNT", "7", "TIME", "1000"),
        ("XCLAIM", "s", "g", "dave", "0", "5-1"),
        ("XCLAIM", "s", "g", "dave", "0", "5-1", "FORCE"),
        ("XCLAIM", "s", "g", "dave", "0", "6-1", "FORCE", "JUSTID", "IDLE", "5000"),
        ("XCLAIM", "s", "g", "erin", "0", "9-9", "FORCE"),
        ("XCLAIM", "s", "g", "erin", "0", "5-1", "5-1", "idle", "-5", "force"),
        ("XCLAIM", "s", "g", "bob", "0", "1", "LASTID", "50-0"),
        ("XCLAIM", "s", "g", "bob", "3600000", "1-1", "LASTID", "60-0"),
        ("XCLAIM", "s", "g", "bob", "0", "1-1", "LASTID", "1-0", "TIME", "99999999999999"),
        ("XDEL", "s", "2-1"),
        ("XCLAIM", "s", "g", "frank", "0", "2-1", "3-1"),
        ("XCLAIM", "s", "g", "frank", "0", "2-1"),
    ])
    differ.check("XPENDING", "s", "g")
    check_masked(differ, "XPENDING", "s", "g", "-", "+", "10")
    differ.check("XINFO", "GROUPS", "s")
    check_masked(differ, "XINFO", "CONSUMERS", "s", "g")


@pytest.mark.parametrize("args", [
    ("s", "nog", "c", "0", "1-1"),
    ("nokey", "g", "c", "0", "1-1"),
    ("str", "g", "c", "0", "1-1"),
    ("s", "g", "c", "x", "1-1"),
    ("s", "g", "c", "-1", "1-1", "JUSTID"),
    ("s", "g", "c", "0", "1-1", "IDLE", "x"),
    ("s", "g", "c", "0", "1-1", "TIME", "x"),
    ("s", "g", "c", "0", "1-1", "RETRYCOUNT", "x"),
    ("s", "g", "c", "0", "1-1", "LASTID", "x"),
    ("s", "g", "c", "0", "1-1", "LASTID", "-"),
    ("s", "g", "c", "0", "1-1", "IDLE"),
    ("s", "g", "c", "0", "1-1", "FOO"),
    ("s", "g", "c", "0", "x"),
    ("s", "g", "c", "0", "-"),
    ("s", "g", "c", "0", "1-1", "JUSTID", "2-1"),
    ("s", "g", "c", "0", "1-1", "bad\r\nopt"),
])
def test_xclaim_errors(differ, args: tuple[str, ...]) -> None:
    _claimable(differ)
    differ.check("XCLAIM", *args, resp=(2,))
    differ.check("XPENDING", "s", "g")


def test_xautoclaim(differ) -> None:
    _claimable(differ)
    differ.run([
        ("XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "1"),
        ("XAUTOCLAIM", "s", "g", "bob", "0", "(1-1", "COUNT", "2", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "bob", "3600000", "0"),
        ("XAUTOCLAIM", "s", "g", "carol", "0", "3-1"),
        ("XDEL", "s", "2-1", "4-1"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2"),
        ("XAUTOCLAIM", "s", "g", "dave", "0", "-"),
        ("XAUTOCLAIM", "s", "g", "erin", "0", "+"),
        ("XAUTOCLAIM", "s", "g", "erin", "0", "0", "justid", "count", "10"),
    ])
    differ.check("XPENDING", "s", "g")
    check_masked(differ, "XPENDING", "s", "g", "-", "+", "10")
    check_masked(differ, "XINFO", "CONSUMERS", "s", "g")


def test_xautoclaim_attempts_and_cursor(differ) -> None:
    """Entries too recently delivered are skipped, at most COUNT * 10 are looked at,
    and the cursor is the first one not looked at."""
    _fill(differ, "s", 30)
    differ.run([
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "25", "STREAMS", "s", ">"),
        ("XCLAIM", "s", "g", "alice", "0", "7-1", "19-1", "TIME", "1000"),
        ("XAUTOCLAIM", "s", "g", "bob", "3600000", "0", "COUNT", "1"),
        ("XAUTOCLAIM", "s", "g", "bob", "3600000", "12-1", "COUNT", "1"),
        ("XAUTOCLAIM", "s", "g", "bob", "3600000", "20-1", "COUNT", "1"),
        ("XAUTOCLAIM", "s", "g", "bob", "3600000", "0", "COUNT", "2"),
    ])
    differ.check("XPENDING", "s", "g")


@pytest.mark.parametrize("args", [
    ("s", "nog", "c", "0", "0"),
    ("nokey", "g", "c", "0", "0"),
    ("str", "g", "c", "0", "0"),
    ("s", "g", "c", "x", "0"),
    ("s", "g", "c", "-5", "0", "JUSTID"),
    ("s", "g", "c", "0", "x"),
    ("s", "g", "c", "0", f"({MAX}-{MAX}"),
    ("s", "g", "c", "0", "0", "COUNT", "0"),
    ("s", "g", "c", "0", "0", "COUNT", "-1"),
    ("s", "g", "c", "0", "0", "COUNT", "x"),
    ("s", "g", "c", "0", "0", "COUNT", "576460752303423487"),
    ("s", "g", "c", "0", "0", "COUNT", "576460752303423488"),
    ("s", "g", "c", "0", "0", "COUNT"),
    ("s", "g", "c", "0", "0", "FOO"),
    ("nokey", "g", "c", "0", "0", "COUNT", "0"),
    ("nokey", "g", "c", "0", "0", "COUNT", "576460752303423487"),
])
def test_xautoclaim_errors(differ, args: tuple[str, ...]) -> None:
    _claimable(differ)
    differ.check("XAUTOCLAIM", *args, resp=(2,))
    differ.check("XPENDING", "s", "g")


# -- keyspace events ----------------------------------------------------------------------

_EVENT_STEPS = [
    ("XADD", "s", "1-1", "f", "v"),
    ("XADD", "s", "2-1", "f", "v"),
    ("XGROUP", "CREATE", "s", "g", "0"),
    ("XGROUP", "CREATE", "s", "g", "0"),
    ("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"),
    ("XGROUP", "SETID", "s", "g", "0"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
    ("XREADGROUP", "GROUP", "g", "d", "COUNT", "1", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "e", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "f", "STREAMS", "s", "0"),
    ("XACK", "s", "g", "1-1"),
    ("XCLAIM", "s", "g", "h", "0", "2-1"),
    ("XCLAIM", "s", "g", "i", "0", "1-1"),
    ("XAUTOCLAIM", "s", "g", "j", "0", "0"),
    ("XGROUP", "DELCONSUMER", "s", "g", "c"),
    ("XGROUP", "DELCONSUMER", "s", "g", "nobody"),
    ("XGROUP", "DESTROY", "s", "g"),
    ("XGROUP", "DESTROY", "s", "g"),
    ("XREAD", "STREAMS", "s", "nokey", "0", "0"),
    ("XPENDING", "nokey", "g"),
]


def _events(port: int) -> tuple[list[bytes], list[bytes]]:
    with RawClient(port) as writer, RawClient(port) as subscriber:
        writer.call("FLUSHALL")
        writer.call("CONFIG", "SET", "notify-keyspace-events", "KEAm")
        try:
            subscriber.send_raw(RawClient.encode("PSUBSCRIBE", "__key*__:*", "sentinel"))
            subscriber.read_reply()
            subscriber.read_reply()
            replies = [writer.call(*step) for step in _EVENT_STEPS]
            writer.call("PUBLISH", "sentinel", "end")
            events = []
            while True:
                frame = subscriber.read_reply()
                if b"sentinel" in frame:
                    break
                events.append(frame)
        finally:
            writer.call("CONFIG", "SET", "notify-keyspace-events", "")
            writer.call("FLUSHALL")
    return [_masked(r) for r in replies], events


def test_keyspace_events(real_redis: ServerProcess, taipan: ServerProcess) -> None:
    expected, actual = _events(real_redis.port), _events(taipan.port)
    assert actual[0] == expected[0]
    assert actual[1] == expected[1]


# -- propagation (what reaches the AOF) -----------------------------------------------------

@pytest.fixture(scope="module")
def aof_servers(tmp_path_factory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    ref_dir = tmp_path_factory.mktemp("redis-aof")
    our_dir = tmp_path_factory.mktemp("taipan-aof")
    ref = start_redis("--appendonly", "yes", "--dir", str(ref_dir))
    ours = start_taipan("--appendonly", "yes", "--dir", str(our_dir))
    ref.aof_dir = ref_dir  # type: ignore[attr-defined]
    ours.aof_dir = our_dir  # type: ignore[attr-defined]
    yield ref, ours
    ref.stop()
    ours.stop()


def _aof_commands(directory: Path) -> list[list[bytes]]:
    incr = sorted((directory / "appendonlydir").glob("*.incr.aof"))[-1]
    data = incr.read_bytes()
    commands, pos = [], 0
    while pos < len(data):
        end = data.index(b"\r\n", pos)
        count = int(data[pos + 1:end])
        pos = end + 2
        argv = []
        for _ in range(count):
            end = data.index(b"\r\n", pos)
            length = int(data[pos + 1:end])
            argv.append(data[end + 2:end + 2 + length])
            pos = end + 2 + length + 2
        commands.append(argv)
    return commands


def _normalized(commands: list[list[bytes]]) -> list[list[bytes]]:
    out = []
    for argv in commands:
        argv = list(argv)
        if argv[0].upper() == b"XCLAIM" and b"TIME" in argv:
            at = argv.index(b"TIME") + 1
            argv[at] = b"<time>" if int(argv[at]) > 10**12 else argv[at]
        out.append(argv)
    return out


_PROPAGATED_STEPS = [
    ("XADD", "p", "1-1", "f", "v"),
    ("XADD", "p", "2-1", "f", "v"),
    ("XADD", "p", "3-1", "f", "v"),
    ("XGROUP", "CREATE", "p", "g", "0"),
    ("XGROUP", "CREATE", "p", "n", "0"),
    ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "p", ">"),
    ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "p", "0"),
    ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "p", "0"),
    ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "p", ">"),
    ("XREADGROUP", "GROUP", "n", "carol", "NOACK", "STREAMS", "p", ">"),
    ("XREADGROUP", "GROUP", "n", "carol", "NOACK", "STREAMS", "p", ">"),
    ("XACK", "p", "g", "1-1", "9-9"),
    ("XACK", "p", "g", "9-9"),
    ("XCLAIM", "p", "g", "dave", "0", "2-1", "3", "TIME", "5000"),
    ("XCLAIM", "p", "g", "dave", "0", "9-9", "LASTID", "10-0"),
    ("XCLAIM", "p", "g", "dave", "0", "9-9"),
    ("XDEL", "p", "3-1"),
    ("XAUTOCLAIM", "p", "g", "erin", "0", "0"),
    ("XGROUP", "SETID", "p", "g", "$"),
    ("XGROUP", "CREATECONSUMER", "p", "g", "frank"),
    ("XGROUP", "DELCONSUMER", "p", "g", "frank"),
    ("MULTI",),
    ("XADD", "p", "4-1", "f", "v"),
    ("XREADGROUP", "GROUP", "g", "gina", "STREAMS", "p", ">"),
    ("EXEC",),
    ("XGROUP", "DESTROY", "p", "n"),
]


def test_propagated_effects(aof_servers) -> None:
    ref, ours = aof_servers
    for server in (ref, ours):
        with RawClient(server.port) as client, RawClient(server.port) as blocked, \
                RawClient(server.port) as noack:
            for step in _PROPAGATED_STEPS:
                client.call(*step)
            # served while blocked: the effects follow the XADD that served them
            client.call("XGROUP", "CREATE", "p", "b", "$")
            _block(client, blocked, "XREADGROUP", "GROUP", "b", "ivan", "BLOCK", "0",
                   "STREAMS", "p", ">")
            _block(client, noack, "XREADGROUP", "GROUP", "g", "judy", "NOACK", "BLOCK", "0",
                   "STREAMS", "p", ">", total=2)
            client.call("XADD", "p", "9-1", "f", "v")
            blocked.read_reply()
            noack.read_reply()
    expected = _normalized(_aof_commands(ref.aof_dir))
    actual = _normalized(_aof_commands(ours.aof_dir))
    assert actual == expected


# -- blocking reads -------------------------------------------------------------------------



def _wait_blocked(admin: RawClient, count: int) -> None:
    deadline = time.monotonic() + 5
    while True:
        info = admin.call("INFO", "clients")
        blocked = int(info.split(b"blocked_clients:")[1].split(b"\r\n")[0])
        if blocked >= count or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def _block(admin: RawClient, client: RawClient, *args: str, total: int = 1) -> None:
    client.send_raw(RawClient.encode(*args))
    _wait_blocked(admin, total)


def group_readers_in_arrival_order(connect) -> list[bytes]:
    admin, first, second, third = connect(), connect(), connect(), connect()
    admin.call("XGROUP", "CREATE", "q", "g", "$", "MKSTREAM")
    _block(admin, first, "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "q", ">")
    _block(admin, second, "XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "q", ">",
           total=2)
    _block(admin, third, "XREADGROUP", "GROUP", "g", "c3", "COUNT", "1", "BLOCK", "0",
           "STREAMS", "q", ">", total=3)
    replies = [admin.call("XADD", "q", "1-1", "job", "1"), first.read_reply()]
    replies += [admin.call("MULTI"), admin.call("XADD", "q", "2-1", "job", "2"),
                admin.call("XADD", "q", "3-1", "job", "3"), admin.call("EXEC"),
                second.read_reply()]
    replies += [admin.call("XADD", "q", "4-1", "job", "4"), admin.call("XADD", "q", "5-1", "j", "5"),
                third.read_reply(), admin.call("XPENDING", "q", "g"),
                admin.call("XINFO", "GROUPS", "q")]
    return replies


def xread_dollar_is_fixed_when_blocking(connect) -> list[bytes]:
    admin, reader, late, resp3 = connect(), connect(), connect(), connect()
    resp3.call("HELLO", "3")
    admin.call("XADD", "d", "1-1", "f", "old")
    _block(admin, reader, "XREAD", "BLOCK", "0", "STREAMS", "d", "nokey", "$", "$")
    _block(admin, resp3, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "d", "$", total=2)
    replies = [admin.call("MULTI"), admin.call("XADD", "d", "2-1", "f", "new"),
               admin.call("XADD", "d", "3-1", "f", "newer"), admin.call("EXEC"),
               reader.read_reply(), resp3.read_reply()]
    # a missing key's $ is 0-0: whatever is added first is served
    _block(admin, late, "XREAD", "BLOCK", "0", "STREAMS", "nokey2", "$")
    replies += [admin.call("XADD", "nokey2", "5-5", "a", "b"), late.read_reply()]
    return replies


def served_from_the_key_that_became_ready(connect) -> list[bytes]:
    admin, reader = connect(), connect()
    admin.call("XADD", "a", "1-1", "f", "v")
    admin.call("XADD", "b", "1-1", "f", "v")
    _block(admin, reader, "XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$")
    return [admin.call("MULTI"), admin.call("XADD", "b", "2-1", "f", "b2"),
            admin.call("XADD", "a", "2-1", "f", "a2"), admin.call("EXEC"), reader.read_reply()]


def timeouts(connect) -> list[bytes]:
    admin, client, resp3 = connect(), connect(), connect()
    resp3.call("HELLO", "3")
    admin.call("XGROUP", "CREATE", "t", "g", "$", "MKSTREAM")
    return [client.call("XREAD", "BLOCK", "50", "STREAMS", "t", "$"),
            client.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "t", ">"),
            resp3.call("XREAD", "BLOCK", "50", "STREAMS", "t", "nokey", "0", "0"),
            resp3.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "t", ">"),
            client.call("XREAD", "BLOCK", "50", "STREAMS", "t", f"{MAX}-{MAX}"),
            admin.call("XINFO", "GROUPS", "t")]


def future_id_keeps_waiting(connect) -> list[bytes]:
    admin, reader = connect(), connect()
    admin.call("XADD", "f", "1-1", "f", "v")
    _block(admin, reader, "XREAD", "BLOCK", "300", "STREAMS", "f", "100-0")
    replies = [admin.call("XADD", "f", "50-1", "f", "v")]
    time.sleep(0.05)
    replies += [admin.call("XADD", "f", "150-1", "f", "v"), reader.read_reply()]
    return replies


def group_destroyed_or_key_deleted(connect) -> list[bytes]:
    admin, first, second, third, fourth, fifth = (connect() for _ in range(6))
    admin.call("XGROUP", "CREATE", "x", "g", "$", "MKSTREAM")
    admin.call("XGROUP", "CREATE", "y", "g", "$", "MKSTREAM")
    admin.call("XGROUP", "CREATE", "z", "g", "$", "MKSTREAM")
    _block(admin, first, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "x", ">")
    _block(admin, second, "XREAD", "BLOCK", "300", "STREAMS", "y", "$", total=2)
    _block(admin, third, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "y", ">",
           total=3)
    _block(admin, fourth, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "z", ">",
           total=4)
    replies = [admin.call("XGROUP", "DESTROY", "x", "g"), first.read_reply(),
               admin.call("DEL", "y"), third.read_reply(),
               admin.call("MULTI"), admin.call("DEL", "z"), admin.call("XADD", "z", "1-1", "a", "b"),
               admin.call("EXEC"), fourth.read_reply(), second.read_reply()]
    admin.call("XGROUP", "CREATE", "w", "g", "$", "MKSTREAM")
    _block(admin, fifth, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "w", ">")
    replies += [admin.call("SET", "w", "now a string"), fifth.read_reply()]
    return replies


def flushall_fails_group_readers(connect) -> list[bytes]:
    admin, group_reader, reader = connect(), connect(), connect()
    admin.call("XGROUP", "CREATE", "fl", "g", "$", "MKSTREAM")
    _block(admin, group_reader, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "fl",
           ">")
    _block(admin, reader, "XREAD", "BLOCK", "0", "STREAMS", "fl", "$", total=2)
    replies = [admin.call("FLUSHALL"), group_reader.read_reply(),
               admin.call("XADD", "fl", "1-1", "a", "b"), reader.read_reply()]
    return replies


def noack_and_unblock(connect) -> list[bytes]:
    admin, reader, other, errored = connect(), connect(), connect(), connect()
    other_id = other.call("CLIENT", "ID")[1:-2].decode()
    errored_id = errored.call("CLIENT", "ID")[1:-2].decode()
    admin.call("XGROUP", "CREATE", "n", "g", "$", "MKSTREAM")
    _block(admin, reader, "XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS",
           "n", ">")
    _block(admin, other, "XREAD", "BLOCK", "0", "STREAMS", "n", "$", total=2)
    _block(admin, errored, "XREADGROUP", "GROUP", "g", "d", "BLOCK", "0", "STREAMS", "n", ">",
           total=3)
    replies = [admin.call("XADD", "n", "1-1", "a", "b"), reader.read_reply(), other.read_reply(),
               admin.call("XPENDING", "n", "g"), admin.call("XINFO", "GROUPS", "n")]
    _block(admin, other, "XREAD", "BLOCK", "0", "STREAMS", "n", "$", total=2)
    replies += [admin.call("CLIENT", "UNBLOCK", other_id), other.read_reply(),
                admin.call("CLIENT", "UNBLOCK", errored_id, "ERROR"), errored.read_reply(),
                admin.call("CLIENT", "UNBLOCK", errored_id)]
    return replies


def pipelined_after_block(connect) -> list[bytes]:
    admin, reader = connect(), connect()
    admin.call("XGROUP", "CREATE", "pp", "g", "$", "MKSTREAM")
    reader.send_raw(RawClient.encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS",
                                     "pp", ">")
                    + RawClient.encode("XACK", "pp", "g", "1-1")
                    + RawClient.encode("XPENDING", "pp", "g"))
    _wait_blocked(admin, 1)
    return [admin.call("XADD", "pp", "1-1", "a", "b"), reader.read_reply(), reader.read_reply(),
            reader.read_reply()]


def swapdb_and_expiry(connect) -> list[bytes]:
    admin, group_reader, reader, expiring = connect(), connect(), connect(), connect()
    admin.call("XGROUP", "CREATE", "sw", "g", "$", "MKSTREAM")
    admin.call("XADD", "sw2", "1-1", "a", "b")
    _block(admin, group_reader, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "sw",
           ">")
    _block(admin, reader, "XREAD", "BLOCK", "0", "STREAMS", "sw2", "1-1", total=2)
    admin.call("SELECT", "1")
    admin.call("XADD", "sw2", "5-5", "from", "db1")
    replies = [admin.call("SWAPDB", "0", "1"), group_reader.read_reply(), reader.read_reply()]
    admin.call("SELECT", "0")
    admin.call("XGROUP", "CREATE", "ex", "g", "$", "MKSTREAM")
    admin.call("PEXPIRE", "ex", "30")
    _block(admin, expiring, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "ex", ">")
    replies.append(expiring.read_reply())
    return replies


def empty_replies_after_trims(connect) -> list[bytes]:
    """A write that leaves nothing new past the waiter's ID still serves it, empty."""
    admin, first, second = connect(), connect(), connect()
    admin.call("XADD", "tr", "1-1", "a", "b")
    _block(admin, first, "XREAD", "BLOCK", "0", "STREAMS", "tr", "$")
    replies = [admin.call("MULTI"), admin.call("XADD", "tr", "2-1", "a", "b"),
               admin.call("XDEL", "tr", "2-1"), admin.call("EXEC"), first.read_reply()]
    _block(admin, second, "XREAD", "BLOCK", "0", "STREAMS", "tr", "$")
    replies += [admin.call("XADD", "tr", "MAXLEN", "0", "3-1", "a", "b"), second.read_reply()]
    return replies


def group_reads_keep_watches(connect) -> list[bytes]:
    """Consumer-group bookkeeping is no change to the key for WATCH."""
    admin, watcher = connect(), connect()
    admin.call("XADD", "wt", "1-1", "a", "b")
    admin.call("XGROUP", "CREATE", "wt", "g", "0")
    replies = [watcher.call("WATCH", "wt")]
    for step in [("XREADGROUP", "GROUP", "g", "c", "STREAMS", "wt", ">"),
                 ("XACK", "wt", "g", "1-1"), ("XCLAIM", "wt", "g", "d", "0", "1-1", "FORCE"),
                 ("XAUTOCLAIM", "wt", "g", "e", "0", "0"),
                 ("XGROUP", "CREATECONSUMER", "wt", "g", "f"),
                 ("XGROUP", "SETID", "wt", "g", "0"), ("XGROUP", "DELCONSUMER", "wt", "g", "f"),
                 ("XGROUP", "CREATE", "wt", "h", "0"), ("XGROUP", "DESTROY", "wt", "h")]:
        replies.append(_masked(admin.call(*step)))
    replies += [watcher.call("MULTI"), watcher.call("PING"), watcher.call("EXEC"),
                watcher.call("WATCH", "new"), admin.call("XGROUP", "CREATE", "new", "g", "$",
                                                         "MKSTREAM"),
                watcher.call("MULTI"), watcher.call("PING"), watcher.call("EXEC")]
    return replies


SCENARIOS: list[Scenario] = [
    swapdb_and_expiry, empty_replies_after_trims, group_reads_keep_watches,
    group_readers_in_arrival_order, xread_dollar_is_fixed_when_blocking,
    served_from_the_key_that_became_ready, timeouts, future_id_keeps_waiting,
    group_destroyed_or_key_deleted, flushall_fails_group_readers, noack_and_unblock,
    pipelined_after_block,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_blocking_scenario(real_redis: ServerProcess, taipan: ServerProcess,
                           scenario: Scenario) -> None:
    expected = run_scenario(real_redis, scenario)
    actual = run_scenario(taipan, scenario)
    assert [_masked(r) for r in actual] == [_masked(r) for r in expected]
