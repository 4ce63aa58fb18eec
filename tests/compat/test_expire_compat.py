"""Expiry commands: raw replies identical to a real Redis 7.0.

Relative TTLs drift between the two servers, so scripts use absolute deadlines
(EXPIREAT/PEXPIREAT) where the exact value matters, and TTL readings where a
rounding to whole seconds is stable.
"""

from __future__ import annotations

import time

import pytest

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
FUTURE_S = 4102444800  # 2100-01-01
FUTURE_MS = FUTURE_S * 1000


@pytest.mark.parametrize("command", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("value", [
    LLONG_MAX, LLONG_MIN, "9223372036854775", "9223372036854776", "-9223372036854775",
    "-9223372036854776", "9223372036854775808", "abc", "1.5", "", " 1", "+1", "0", "-1",
])
def test_expire_time_parsing(differ, command, value) -> None:
    differ.run([("SET", "k", "v"), (command, "k", value), ("EXISTS", "k"),
                (command, "missing", value)])


@pytest.mark.parametrize("flags", [
    ("NX", "XX"), ("XX", "NX"), ("GT", "LT"), ("LT", "GT"), ("NX", "GT"), ("NX", "LT"),
    ("XX", "GT", "LT"), ("NX", "NX", "XX"), ("foo",), ("foo", "nx"), ("nx", "foo"),
    ("nx", "xx", "foo"), ("gt", "lt", "nx"), ("EX",), ("",),
])
@pytest.mark.parametrize("value", ["100", "abc"])
def test_expire_flag_errors(differ, flags, value) -> None:
    differ.run([("SET", "k", "v"), ("EXPIRE", "k", value, *flags),
                ("EXPIRE", "missing", value, *flags), ("TTL", "k")])


def test_expire_conditions(differ) -> None:
    at = FUTURE_S
    differ.run([
        ("SET", "k", "v"),
        ("EXPIREAT", "k", at, "XX"), ("EXPIREAT", "k", at, "GT"), ("TTL", "k"),
        ("EXPIREAT", "k", at, "LT"), ("EXPIRETIME", "k"),
        ("EXPIREAT", "k", at, "NX"), ("EXPIREAT", "k", at + 10, "NX"), ("EXPIRETIME", "k"),
        ("EXPIREAT", "k", at - 10, "XX"), ("EXPIRETIME", "k"),
        ("EXPIREAT", "k", at - 20, "GT"), ("EXPIREAT", "k", at - 10, "GT"),
        ("EXPIREAT", "k", at, "GT"), ("EXPIRETIME", "k"),
        ("EXPIREAT", "k", at + 10, "LT"), ("EXPIREAT", "k", at, "LT"),
        ("EXPIREAT", "k", at - 5, "lt"), ("EXPIRETIME", "k"),
        ("EXPIREAT", "k", at, "XX", "GT"), ("EXPIREAT", "k", at - 100, "XX", "LT"),
        ("EXPIRETIME", "k"), ("EXPIREAT", "k", at - 100, "gt", "gt"),
        ("EXPIREAT", "k", at - 200, "lt", "LT", "xx"), ("EXPIRETIME", "k"),
        ("PERSIST", "k"), ("EXPIREAT", "k", at, "XX"), ("EXPIREAT", "k", at, "GT"),
        ("EXPIREAT", "k", at, "LT"), ("EXPIRETIME", "k"), ("PERSIST", "k"),
        ("EXPIREAT", "k", at, "XX", "LT"), ("TTL", "k"),
        ("PEXPIREAT", "k", FUTURE_MS + 1, "GT"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", FUTURE_MS + 1, "GT"), ("PEXPIREAT", "k", FUTURE_MS, "LT"),
        ("PEXPIRETIME", "k"),
    ])


@pytest.mark.parametrize("flags", [(), ("GT",), ("LT",), ("XX",), ("NX",)])
def test_expire_in_the_past_deletes(differ, flags) -> None:
    differ.run([("SET", "k", "v"), ("EXPIRE", "k", "-5", *flags), ("EXISTS", "k"),
                ("SET", "k", "v"), ("EXPIREAT", "k", FUTURE_S), ("EXPIRE", "k", "0", *flags),
                ("EXISTS", "k"), ("SET", "k", "v"), ("PEXPIREAT", "k", "1", *flags),
                ("EXISTS", "k"), ("SET", "k", "v"), ("EXPIREAT", "k", LLONG_MIN[:-4], *flags),
                ("EXISTS", "k")])


def test_ttl_family(differ) -> None:
    differ.run([
        ("TTL", "missing"), ("PTTL", "missing"), ("EXPIRETIME", "missing"),
        ("PEXPIRETIME", "missing"), ("SET", "k", "v"), ("TTL", "k"), ("PTTL", "k"),
        ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("EXPIREAT", "k", FUTURE_S),
        ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("PEXPIREAT", "k", FUTURE_MS + 123),
        ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("PEXPIREAT", "k", FUTURE_MS + 500),
        ("EXPIRETIME", "k"), ("PEXPIREAT", "k", FUTURE_MS + 499), ("EXPIRETIME", "k"),
        ("EXPIRE", "k", "100"), ("TTL", "k"), ("PEXPIRE", "k", "100400"), ("TTL", "k"),
        ("PEXPIRE", "k", "100600"), ("TTL", "k"), ("PERSIST", "k"), ("PERSIST", "k"),
        ("PERSIST", "missing"), ("TTL", "k"),
    ])
    for command in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"):
        differ.check(command)
        differ.check(command, "a", "b")


def test_ttl_rounding_structure(differ) -> None:
    """PTTL values differ by a few ms between servers; they must be in range."""
    differ.run([("SET", "k", "v", "PX", "1800")])
    for resp in (2, 3):
        ref, ours = differ.both("PTTL", "k", resp=resp)
        assert ref[:1] == ours[:1] == b":"
        assert 1000 < int(ours[1:-2]) <= 1800 and abs(int(ours[1:-2]) - int(ref[1:-2])) < 500
    # Rounded to the nearest second: 2 on both until 1.5 s remain, 300 ms from now.
    differ.check("TTL", "k", resp=(2,))


def test_short_expiry_then_gone(differ) -> None:
    differ.run([("SET", "k", "v", "PX", "30"), ("PSETEX", "p", "30", "v"),
                ("SET", "g", "v"), ("PEXPIRE", "g", "30"), ("SET", "x", "v"),
                ("GETEX", "x", "PX", "30")])
    time.sleep(0.06)
    differ.run([("GET", "k"), ("TTL", "k"), ("EXISTS", "p"), ("PTTL", "g"), ("GET", "x"),
                ("PERSIST", "k"), ("EXPIRE", "g", "100"), ("DBSIZE",)])


def test_write_commands_keep_or_drop_ttl(differ) -> None:
    script: list[tuple] = []
    for i, write in enumerate([
        ("SET", "v2"), ("SET", "v2", "KEEPTTL"), ("SETEX", "100", "v"), ("GETSET", "v2"),
        ("APPEND", "x"), ("SETRANGE", "0", "x"), ("INCR",), ("INCRBY", "2"), ("DECR",),
        ("INCRBYFLOAT", "1.5"), ("GETEX",), ("GETEX", "PERSIST"), ("SET", "v2", "XX"),
        ("SET", "v2", "NX"), ("SET", "v2", "GET"), ("SETNX", "v"), ("PSETEX", "100000", "v"),
    ]):
        key = f"k{i}"
        script += [("SET", key, "1"), ("EXPIREAT", key, FUTURE_S), (write[0], key, *write[1:]),
                   ("EXPIRETIME", key)]
    script += [("SET", "m", "1"), ("EXPIREAT", "m", FUTURE_S), ("MSET", "m", "2", "o", "3"),
               ("TTL", "m"), ("SET", "n", "1"), ("EXPIREAT", "n", FUTURE_S),
               ("MSETNX", "n", "2"), ("EXPIRETIME", "n")]
    differ.run(script)


def test_expire_on_wrongtype_and_collections(differ) -> None:
    differ.run([("RPUSH", "l", "a"), ("EXPIREAT", "l", FUTURE_S), ("EXPIRETIME", "l"),
                ("PERSIST", "l"), ("TTL", "l"), ("GETEX", "l", "PERSIST")])


def test_persist_and_getex_persist(differ) -> None:
    differ.run([("SET", "k", "v", "EXAT", FUTURE_S), ("GETEX", "k", "PERSIST"), ("TTL", "k"),
                ("GETEX", "k", "PERSIST"), ("SET", "k", "v", "PXAT", FUTURE_MS),
                ("PERSIST", "k"), ("PERSIST", "k"), ("TTL", "k")])
