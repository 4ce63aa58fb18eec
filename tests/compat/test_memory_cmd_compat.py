"""MEMORY against a real Redis: exact replies where they are deterministic (errors,
nulls, HELP, MALLOC-STATS's and PURGE's shapes), the reply's structure elsewhere
(USAGE is an integer, STATS's field names and order, DOCTOR's verbatim text)."""

from __future__ import annotations

import re

import pytest


def _fields(raw: bytes) -> list[bytes]:
    """The bulk strings of a raw reply, in order (field names and RESP2 doubles)."""
    return re.findall(rb"\$\d+\r\n([^\r]*)\r\n", raw)


def _stats_names(raw: bytes, resp: int) -> list[bytes]:
    names = _fields(raw)
    if resp == 2:
        # RESP2: doubles are bulk strings too; keep the dotted names only.
        return [name for name in names if re.fullmatch(rb"[a-z][a-z0-9.\-]*", name)]
    return names


@pytest.mark.parametrize("args", [
    ("MEMORY", "USAGE"),
    ("MEMORY", "USAGE", "nokey"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "x"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "-1"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "0"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "5", "extra"),
    ("MEMORY", "USAGE", "nokey", "bogus", "1"),
    ("MEMORY", "USAGE", "nokey", "samples", "99999999999999999999"),
    ("MEMORY", "USAGE", "nokey", "SAMPLES", "1", "SAMPLES", "-2"),
    ("MEMORY", "HELP"),
    ("MEMORY", "HELP", "extra"),
    ("MEMORY", "STATS", "extra"),
    ("MEMORY", "DOCTOR", "extra"),
    ("MEMORY", "PURGE", "extra"),
    ("MEMORY", "MALLOC-STATS", "extra"),
    ("MEMORY", "NOSUCH"),
    ("MEMORY",),
    ("MEMORY", "PURGE"),
])
def test_deterministic_replies(differ, args) -> None:
    differ.check(*args)


def test_wrong_type_is_not_an_error(differ) -> None:
    # MEMORY USAGE takes any type; a missing key is null, a present one an integer.
    for resp in (2, 3):
        differ.both("SET", "s", "v", resp=resp)
        expected, actual = differ.both("MEMORY", "USAGE", "s", resp=resp)
        assert expected.startswith(b":") and actual.startswith(b":")


@pytest.mark.parametrize("setup", [
    ("SET", "k", "hello"),
    ("SET", "k", "12345"),
    ("SET", "k", "x" * 5000),
    ("RPUSH", "k", "a", "b", "c"),
    ("HSET", "k", "f", "v", "g", "w"),
    ("SADD", "k", "1", "2", "3"),
    ("SADD", "k", "a", "b", "c"),
    ("ZADD", "k", "1", "a", "2", "b"),
    ("XADD", "k", "1-1", "f", "v"),
    ("PFADD", "k", "a", "b"),
])
@pytest.mark.parametrize("samples", [(), ("SAMPLES", "0"), ("SAMPLES", "2")])
def test_usage_is_an_integer(differ, setup, samples) -> None:
    differ.both(*setup)
    for resp in (2, 3):
        expected, actual = differ.both("MEMORY", "USAGE", "k", *samples, resp=resp)
        assert expected[:1] == actual[:1] == b":", (expected, actual)
        assert int(actual[1:-2]) > 0


@pytest.mark.parametrize("resp", [2, 3])
def test_stats_field_names_and_order(differ, resp) -> None:
    differ.both("SET", "a", "1")
    differ.both("SET", "b", "2", "EX", "100")
    differ.both("SELECT", "3", resp=resp)
    differ.both("SET", "c", "3", resp=resp)
    differ.both("SELECT", "0", resp=resp)
    expected, actual = differ.both("MEMORY", "STATS", resp=resp)
    assert expected[:1] == actual[:1] == (b"*" if resp == 2 else b"%")
    assert expected.split(b"\r\n", 1)[0] == actual.split(b"\r\n", 1)[0]  # 27 + two dbs
    assert _stats_names(actual, resp) == _stats_names(expected, resp)
    assert b"db.0" in _fields(actual) and b"db.3" in _fields(actual)
    if resp == 3:
        # Integers and doubles in the same places.
        assert re.sub(rb"[:,][^\r]*", b"", expected).replace(b"%29", b"") == \
            re.sub(rb"[:,][^\r]*", b"", actual).replace(b"%29", b"")


def test_stats_keys_count(differ) -> None:
    for i in range(7):
        differ.both("SET", f"k{i}", "v")
    ours = differ.both("MEMORY", "STATS")[1]
    fields = ours.split(b"\r\n")
    assert fields[fields.index(b"keys.count") + 1] == b":7"


@pytest.mark.parametrize("resp", [2, 3])
def test_doctor_shape(differ, resp) -> None:
    expected, actual = differ.both("MEMORY", "DOCTOR", resp=resp)
    assert expected[:1] == actual[:1] == (b"$" if resp == 2 else b"=")
    assert b"Sam" in actual
    if resp == 3:
        assert actual.split(b"\r\n", 1)[1].startswith(b"txt:")


@pytest.mark.parametrize("resp", [2, 3])
def test_malloc_stats_is_text(differ, resp) -> None:
    expected, actual = differ.both("MEMORY", "MALLOC-STATS", resp=resp)
    assert actual == b"$45\r\nStats not supported for the current allocator\r\n"
    assert expected[:1] in (b"$", b"=")
