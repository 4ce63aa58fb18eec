"""Hash commands: raw replies identical to a real Redis 7.0, RESP2 and RESP3.

Listpack-encoded hashes iterate in insertion order in both servers, so HGETALL,
HKEYS, HVALS, HSCAN and whole-hash HRANDFIELD are compared byte for byte while the
hash is a listpack; hashtable order (Redis's bucket order) and random picks are
compared as sets or shapes. The last part is a hypothesis state machine sending
random hash command sequences to both servers.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from support.machines import run_against_both
from support.raw import RawClient
from support.resp import parse

LONG = "x" * 65  # one byte over hash-max-listpack-value


def reads(differ, *commands: tuple) -> None:
    """Check read-only commands on both protocol versions."""
    for command in commands:
        differ.check(*command)


def pairs_of(flat: list) -> list[tuple]:
    return list(zip(flat[::2], flat[1::2], strict=True))


@pytest.fixture
def small_listpacks(differ):
    """Listpacks of at most 4 fields of 8 bytes, so hashtables come quickly."""
    differ.run([("CONFIG", "SET", "hash-max-listpack-entries", "4"),
                ("CONFIG", "SET", "hash-max-listpack-value", "8")])
    yield
    differ.run([("CONFIG", "SET", "hash-max-listpack-entries", "512"),
                ("CONFIG", "SET", "hash-max-listpack-value", "64")])


# -- arity and types ----------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("HSET", "h"), ("HSET", "h", "f"), ("HSET", "h", "f", "v", "g"), ("hset", "h", "a", "1", "b"),
    ("HMSET", "h", "f"), ("HMSET", "h", "f", "v", "g"), ("HSETNX", "h", "f"),
    ("HSETNX", "h", "f", "v", "x"), ("HGET", "h"), ("HGET", "h", "f", "g"), ("HMGET", "h"),
    ("HGETALL",), ("HGETALL", "h", "x"), ("HDEL", "h"), ("HEXISTS", "h"), ("HLEN",),
    ("HLEN", "h", "x"), ("HSTRLEN", "h"), ("HKEYS",), ("HVALS", "h", "x"), ("HINCRBY", "h", "f"),
    ("HINCRBY", "h", "f", "1", "2"), ("HINCRBYFLOAT", "h", "f"), ("HRANDFIELD",),
    ("HSCAN", "h"),
])
def test_wrong_arity(differ, args) -> None:
    differ.check(*args)
    differ.check("EXISTS", "h")


@pytest.mark.parametrize("args", [
    ("HSET", "s", "f", "v"), ("HMSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"),
    ("HGET", "s", "f"), ("HMGET", "s", "f", "g"), ("HGETALL", "s"), ("HDEL", "s", "f"),
    ("HEXISTS", "s", "f"), ("HLEN", "s"), ("HSTRLEN", "s", "f"), ("HKEYS", "s"), ("HVALS", "s"),
    ("HINCRBY", "s", "f", "1"), ("HINCRBYFLOAT", "s", "f", "1.5"), ("HRANDFIELD", "s"),
    ("HRANDFIELD", "s", "0"), ("HRANDFIELD", "s", "-3", "WITHVALUES"), ("HSCAN", "s", "0"),
    ("HSCAN", "s", "0", "COUNT", "0"),
    # arguments are parsed before the key is looked up
    ("HINCRBY", "s", "f", "x"), ("HINCRBYFLOAT", "s", "f", "x"),
    ("HINCRBYFLOAT", "s", "f", "inf"), ("HRANDFIELD", "s", "x"), ("HSCAN", "s", "x"),
    ("HRANDFIELD", "s", "1", "foo"),
])
def test_wrong_type(differ, args) -> None:
    differ.run([("SET", "s", "x"), ("HSET", "h", "f", "v")])
    differ.check(*args, resp=(2,))
    differ.run([("TYPE", "s"), ("GET", "s"), ("TYPE", "h")])


def test_type_object_copy_rename(differ) -> None:
    differ.run([
        ("HSET", "h", "a", "1", "b", "2"), ("TYPE", "h"), ("OBJECT", "ENCODING", "h"),
        ("COPY", "h", "c"), ("HSET", "c", "z", "3"), ("HGETALL", "h"), ("HGETALL", "c"),
        ("RENAME", "c", "r"), ("HLEN", "r"), ("DEL", "h", "r"), ("EXISTS", "h", "r"),
    ])


# -- setting and reading ----------------------------------------------------------------

def test_hset_hmset_hsetnx(differ) -> None:
    differ.run([
        ("HSET", "h", "a", "1"), ("HSET", "h", "a", "2", "b", "3", "a", "4"), ("HGETALL", "h"),
        ("HMSET", "h", "c", "5", "a", "6"), ("HGETALL", "h"), ("HSETNX", "h", "a", "x"),
        ("HSETNX", "h", "d", "7"), ("HSETNX", "new", "f", "v"), ("HGETALL", "new"),
        ("HSET", "h", "", ""), ("HGET", "h", ""), ("HSET", "bin", "\x00\xff", "a\r\nb"),
        ("HGETALL", "bin"), ("HMSET", "h2", "f", "v"), ("HGETALL", "h2"), ("HSET", "H", "A", "B"),
        ("HGET", "H", "a"),
    ])


def test_reads(differ) -> None:
    differ.run([("HSET", "h", "f1", "v1", "f2", "", "f3", "12345", "f4", "-7")])
    reads(differ, ("HGET", "h", "f1"), ("HGET", "h", "nope"), ("HGET", "missing", "f1"),
          ("HMGET", "h", "f1", "nope", "f3", "f1"), ("HMGET", "missing", "a", "b"),
          ("HGETALL", "h"), ("HGETALL", "missing"), ("HKEYS", "h"), ("HKEYS", "missing"),
          ("HVALS", "h"), ("HVALS", "missing"), ("HLEN", "h"), ("HLEN", "missing"),
          ("HEXISTS", "h", "f2"), ("HEXISTS", "h", "nope"), ("HEXISTS", "missing", "f1"),
          ("HSTRLEN", "h", "f1"), ("HSTRLEN", "h", "f2"), ("HSTRLEN", "h", "f3"),
          ("HSTRLEN", "h", "f4"), ("HSTRLEN", "h", "nope"), ("HSTRLEN", "missing", "f"))


def test_insertion_order_of_a_listpack(differ) -> None:
    differ.run([
        ("HSET", "h", "c", "1", "a", "2", "b", "3"), ("HSET", "h", "a", "9"), ("HDEL", "h", "c"),
        ("HSET", "h", "c", "4"), ("HINCRBY", "h", "n", "1"), ("HINCRBYFLOAT", "h", "b", "1"),
        ("HSETNX", "h", "m", "x"),
    ])
    reads(differ, ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"), ("HSCAN", "h", "0"),
          ("HRANDFIELD", "h", "100"), ("HRANDFIELD", "h", "6", "WITHVALUES"))


def test_hdel(differ) -> None:
    differ.run([
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HDEL", "h", "a", "a", "nope"),
        ("HDEL", "h", "nope"), ("HDEL", "missing", "a"), ("HDEL", "h", "b", "c", "d"),
        ("EXISTS", "h"), ("HSET", "h", "a", "1"), ("EXPIRE", "h", "100"), ("HDEL", "h", "a"),
        ("TTL", "h"), ("HSET", "h", "b", "2"), ("TTL", "h"),
    ])


def test_writes_keep_the_ttl(differ) -> None:
    differ.run([
        ("HSET", "h", "a", "1"), ("EXPIRE", "h", "1000"), ("HSET", "h", "b", "2"), ("TTL", "h"),
        ("HINCRBY", "h", "c", "1"), ("HINCRBYFLOAT", "h", "c", "1.5"), ("HSETNX", "h", "d", "1"),
        ("HDEL", "h", "a"), ("TTL", "h"),
    ])


def test_transaction_with_hash_commands(differ) -> None:
    differ.run([
        ("MULTI",), ("HSET", "h", "a", "1"), ("HGETALL", "h"), ("HINCRBY", "h", "a", "x"),
        ("HSET", "h", "a", "2", "b", "3"), ("HINCRBY", "h", "b", "1"), ("HDEL", "h", "a", "b"),
        ("EXEC",), ("EXISTS", "h"),
    ])


# -- counters ------------------------------------------------------------------------------

def test_hincrby(differ) -> None:
    differ.run([
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-12"), ("HINCRBY", "h", "n", "0"),
        ("HSET", "h", "s", "abc", "sp", " 1", "z", "007", "big", "9223372036854775807",
         "neg", "-9223372036854775808", "fl", "1.5", "e", "", "mz", "-0"),
        ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "sp", "1"), ("HINCRBY", "h", "z", "1"),
        ("HINCRBY", "h", "fl", "1"), ("HINCRBY", "h", "e", "1"), ("HINCRBY", "h", "mz", "1"),
        ("HINCRBY", "h", "big", "1"), ("HINCRBY", "h", "big", "0"), ("HINCRBY", "h", "big", "-1"),
        ("HINCRBY", "h", "neg", "-1"), ("HINCRBY", "h", "neg", "1"),
        ("HINCRBY", "h", "n", "9223372036854775808"), ("HINCRBY", "h", "n", "1.0"),
        ("HINCRBY", "h", "n", " 1"), ("HINCRBY", "h", "n", "+1"), ("HINCRBY", "h", "n", ""),
        ("HINCRBY", "new", "f", "x"), ("EXISTS", "new"),
        ("HINCRBY", "new", "f", "-9223372036854775808"), ("HINCRBY", "new", "f", "-1"),
        ("HGETALL", "h"), ("HGETALL", "new"),
    ])


@pytest.mark.parametrize("start,increment", [
    ("0", "0.1"), ("10.50", "0.1"), ("5.0e3", "2.0e2"), ("1", "-1"), ("-1", "0.5"),
    ("3", "1e17"), ("1e300", "1"), ("0.1", "0.2"), ("17", "1.5e-10"), ("1", "1e-20"),
    ("100", "0x10"), ("1.5", "-1.5"), ("-0", "0"), ("9223372036854775807", "1"),
    ("1.1e4932", "1e4932"), ("1e4932", "0"), ("inf", "1"), ("-inf", "1"), ("abc", "1"),
    (" 1", "1"), ("1 ", "1"), ("1e5000", "1"), ("nan", "1"), ("", "1"), ("0x1p-16400", "0"),
    ("1", "inf"), ("1", "-inf"), ("1", "nan"), ("1", "x"), ("1", "1e5000"), ("1", "1e-5000"),
    ("1", ""), ("1", " 1"), ("1", "+infinity"), ("1", "1.0e"), ("1", "0x"),
])
def test_hincrbyfloat(differ, start: str, increment: str) -> None:
    differ.run([("HSET", "h", "f", start), ("HINCRBYFLOAT", "h", "f", increment),
                ("HGET", "h", "f"), ("HINCRBYFLOAT", "h", "new", increment),
                ("HINCRBYFLOAT", "nokey", "f", increment), ("EXISTS", "nokey")])


def test_hincrbyfloat_on_integers(differ) -> None:
    differ.run([
        ("HINCRBY", "h", "n", "3"), ("HINCRBYFLOAT", "h", "n", "0.25"), ("HINCRBY", "h", "n", "1"),
        ("HINCRBYFLOAT", "h", "n", "-0.25"), ("HINCRBY", "h", "n", "1"), ("HGETALL", "h"),
    ])


# -- encodings ------------------------------------------------------------------------------

def test_encoding_by_field_count(differ, small_listpacks) -> None:
    differ.run([
        ("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"), ("OBJECT", "ENCODING", "h"),
        ("HGETALL", "h"), ("HSET", "h", "a", "5"), ("OBJECT", "ENCODING", "h"),
        ("HSET", "h", "e", "5"), ("OBJECT", "ENCODING", "h"), ("HDEL", "h", "e", "d", "c"),
        ("OBJECT", "ENCODING", "h"), ("HSET", "n", "a", "1", "b", "2", "c", "3", "d", "4"),
        ("HSETNX", "n", "e", "5"), ("OBJECT", "ENCODING", "n"),
        ("HSET", "i", "a", "1", "b", "2", "c", "3", "d", "4"), ("HINCRBY", "i", "e", "1"),
        ("OBJECT", "ENCODING", "i"),
        ("HSET", "j", "a", "1", "b", "2", "c", "3", "d", "4"), ("HINCRBYFLOAT", "j", "e", "1"),
        ("OBJECT", "ENCODING", "j"), ("COPY", "h", "hc"), ("OBJECT", "ENCODING", "hc"),
        ("COPY", "j", "jc"), ("OBJECT", "ENCODING", "jc"),
    ])


def test_encoding_by_length(differ, small_listpacks) -> None:
    differ.run([
        ("HSET", "f", "12345678", "12345678"), ("OBJECT", "ENCODING", "f"),
        ("HSET", "f", "123456789", "1"), ("OBJECT", "ENCODING", "f"),
        ("HSET", "v", "a", "123456789"), ("OBJECT", "ENCODING", "v"),
        # a long argument converts even when a later pair overwrites it
        ("HSET", "o", "a", "123456789", "a", "1"), ("OBJECT", "ENCODING", "o"),
        ("HSET", "x", "a", "1"), ("HSETNX", "x", "a", "123456789"), ("OBJECT", "ENCODING", "x"),
        ("HSETNX", "x", "123456789", "1"), ("OBJECT", "ENCODING", "x"),
        ("HSET", "y", "a", "1"), ("HINCRBY", "y", "123456789", "1"), ("OBJECT", "ENCODING", "y"),
        ("HSET", "z", "a", "1"), ("HINCRBYFLOAT", "z", "a", "0.125"), ("OBJECT", "ENCODING", "z"),
        ("HINCRBYFLOAT", "z", "a", "1e10"), ("OBJECT", "ENCODING", "z"),
        ("HSET", "w", "a", "1"), ("HINCRBY", "w", "a", "123456789"), ("OBJECT", "ENCODING", "w"),
        ("HINCRBY", "w", "a", "-123456789"), ("OBJECT", "ENCODING", "w"),
        ("HSET", "e", "", ""), ("OBJECT", "ENCODING", "e"),
    ])


def test_default_limits_and_lowered_limits(differ) -> None:
    fields = [p for i in range(512) for p in (f"f{i}", "v")]
    differ.run([
        ("HSET", "h", *fields), ("OBJECT", "ENCODING", "h"), ("HSET", "h", "f0", LONG[:64]),
        ("OBJECT", "ENCODING", "h"), ("HSET", "h", "more", "v"), ("OBJECT", "ENCODING", "h"),
        ("HSET", "small", "a", "1", "b", "2", "c", "3"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "2"), ("OBJECT", "ENCODING", "small"),
        ("HDEL", "small", "c"), ("OBJECT", "ENCODING", "small"),
        ("HSET", "small", "c", "3"), ("OBJECT", "ENCODING", "small"),
        ("HSET", "update", "a", "1", "b", "2"), ("CONFIG", "SET", "hash-max-listpack-entries", "1"),
        ("HSETNX", "update", "a", "x"), ("OBJECT", "ENCODING", "update"),
        ("HSET", "update", "a", "1"), ("OBJECT", "ENCODING", "update"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "0"), ("HSET", "zero", "a", "1"),
        ("OBJECT", "ENCODING", "zero"), ("CONFIG", "SET", "hash-max-listpack-value", "0"),
        ("CONFIG", "SET", "hash-max-listpack-entries", "512"), ("HSET", "empty", "", ""),
        ("OBJECT", "ENCODING", "empty"), ("HSET", "empty", "a", ""),
        ("OBJECT", "ENCODING", "empty"), ("CONFIG", "SET", "hash-max-listpack-value", "64"),
    ])


def test_hashtable_contents_match(differ, small_listpacks) -> None:
    fields = [p for i in range(40) for p in (f"field{i}", f"value{i}")]
    differ.run([("HSET", "h", *fields), ("HDEL", "h", "field3", "field7"),
                ("HSET", "h", "field3", "back", LONG, "long"), ("OBJECT", "ENCODING", "h")])
    reads(differ, ("HLEN", "h"), ("HGET", "h", LONG), ("HMGET", "h", "field3", "field7"))
    for resp in (2, 3):
        expected, actual = (parse(reply) for reply in differ.both("HGETALL", "h", resp=resp))
        if resp == 3:
            assert expected[0] == actual[0] == "map"
            expected, actual = expected[1], actual[1]
        assert sorted(pairs_of(actual)) == sorted(pairs_of(expected)) and len(actual) == 80
        for command in ("HKEYS", "HVALS"):
            expected, actual = (parse(reply) for reply in differ.both(command, "h", resp=resp))
            assert sorted(actual) == sorted(expected)


# -- HRANDFIELD ---------------------------------------------------------------------------------

def test_hrandfield_deterministic_forms(differ) -> None:
    differ.run([("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HSET", "one", "f", "v")])
    reads(differ, ("HRANDFIELD", "missing"), ("HRANDFIELD", "missing", "5"),
          ("HRANDFIELD", "missing", "-5", "WITHVALUES"), ("HRANDFIELD", "h", "0"),
          ("HRANDFIELD", "h", "0", "WITHVALUES"), ("HRANDFIELD", "h", "3"),
          ("HRANDFIELD", "h", "10", "WITHVALUES"), ("HRANDFIELD", "h", "9223372036854775807"),
          ("HRANDFIELD", "h", "4611686018427387903", "withvalues"), ("HRANDFIELD", "one"),
          ("HRANDFIELD", "one", "1"), ("HRANDFIELD", "one", "-3", "WITHVALUES"),
          ("HRANDFIELD", "one", "2", "WITHVALUES"))


@pytest.mark.parametrize("args", [
    ("HRANDFIELD", "h", "a"), ("HRANDFIELD", "h", "1", "foo"), ("HRANDFIELD", "h", "1", "WITHVALUE"),
    ("HRANDFIELD", "h", "1", "WITHVALUES", "x"), ("HRANDFIELD", "h", "-9223372036854775808"),
    ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
    ("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"),
    ("HRANDFIELD", "missing", "9223372036854775807", "WITHVALUES"),
    ("HRANDFIELD", "missing", "-9223372036854775808", "foo"), ("HRANDFIELD", "h", ""),
    ("HRANDFIELD", "h", "1.5"),
])
def test_hrandfield_errors(differ, args) -> None:
    differ.run([("HSET", "h", "a", "1")])
    differ.check(*args)


@pytest.mark.parametrize("size", [6, 300])  # a listpack, then a hashtable
@pytest.mark.parametrize("count", ["1", "2", "-1", "-7", "5", "150", "-400", "1000"])
@pytest.mark.parametrize("resp", [2, 3])
def test_hrandfield_shapes(differ, small_listpacks, size: int, count: str, resp: int) -> None:
    values = {f"f{i}".encode(): f"v{i}".encode() for i in range(size)}
    differ.run([("HSET", "h", *[p for pair in values.items() for p in pair])])
    distinct = int(count) > 0
    for args in (("HRANDFIELD", "h", count), ("HRANDFIELD", "h", count, "WITHVALUES")):
        expected, actual = (parse(reply) for reply in differ.both(*args, resp=resp))
        assert len(actual) == len(expected)
        if args[-1] == "WITHVALUES":
            pairs = [tuple(p) for p in actual] if resp == 3 else pairs_of(actual)
            assert all(values[field] == value for field, value in pairs)
            fields = [field for field, _ in pairs]
        else:
            fields = actual
        assert set(fields) <= set(values)
        if distinct:
            assert len(set(fields)) == len(fields)
        if distinct and int(count) >= size:
            assert sorted(fields) == sorted(values)
    field = parse(differ.both("HRANDFIELD", "h", resp=resp)[1])
    assert field in values


def test_hrandfield_is_roughly_uniform_on_a_hashtable(differ, small_listpacks) -> None:
    """Deletions leave tombstones in Taipan's sampler: picks must stay fair."""
    differ.run([("HSET", "h", *[p for i in range(200) for p in (f"f{i}", "v")])])
    differ.both("HRANDFIELD", "h", "-5")  # builds the sampler
    differ.run([("HDEL", "h", *[f"f{i}" for i in range(0, 190)])])
    differ.run([("HSET", "h", "f0", "v", "new", "v")])
    _, actual = differ.both("HRANDFIELD", "h", "-12000")
    fields = parse(actual)
    seen = {field: fields.count(field) for field in set(fields)}
    assert set(seen) == {b"f0", b"new", *(f"f{i}".encode() for i in range(190, 200))}
    assert all(700 < n < 1300 for n in seen.values()), seen
    _, actual = differ.both("HRANDFIELD", "h", "11")
    distinct = parse(actual)
    assert len(set(distinct)) == len(distinct) == 11 and set(distinct) <= set(seen)


# -- HSCAN --------------------------------------------------------------------------------------

def test_hscan_listpack(differ) -> None:
    differ.run([("HSET", "h", "a", "1", "b", "2", "ab", "3", "c", "", "", "e")])
    reads(differ, ("HSCAN", "h", "0"), ("HSCAN", "h", "0", "MATCH", "a*"),
          ("HSCAN", "h", "123", "COUNT", "1"), ("HSCAN", "h", "-1"), ("HSCAN", "h", ""),
          ("HSCAN", "h", "0", "match", "*", "count", "1", "MATCH", "b"),
          ("HSCAN", "missing", "0"), ("HSCAN", "missing", "0", "COUNT", "0"),
          ("HSCAN", "h", "x"), ("HSCAN", "h", "0", "COUNT", "0"), ("HSCAN", "h", "0", "MATCH"),
          ("HSCAN", "h", "0", "TYPE", "hash"), ("HSCAN", "h", "0", "NOVALUES"),
          ("HSCAN", "h", "0", "COUNT", "x"), ("HSCAN", "h", "18446744073709551616"),
          ("HSCAN", "h", "18446744073709551615"), ("HSCAN", "h", "0", "COUNT", "-1"))


def test_hscan_hashtable(differ, small_listpacks) -> None:
    values = {f"k{i}".encode(): f"v{i}".encode() for i in range(200)}
    differ.run([("HSET", "h", *[p for pair in values.items() for p in pair])])
    for options in ((), ("MATCH", "k1*")):
        found = []
        for reply in differ.both("HSCAN", "h", "0", "COUNT", "1000", *options):
            cursor, items = parse(reply)
            assert cursor == b"0"
            found.append(sorted(pairs_of(items)))
        assert found[0] == found[1]
    pairs: set = set()
    cursor = b"0"
    while True:  # a complete iteration in small steps returns every field
        cursor, items = parse(differ.both("HSCAN", "h", cursor, "COUNT", "7")[1])
        pairs.update(pairs_of(items))
        if cursor == b"0":
            break
    assert pairs == set(values.items())


# -- statistics -----------------------------------------------------------------------------------

def _stats(reply: bytes) -> dict[str, str]:
    text = parse(reply)
    assert isinstance(text, bytes)
    lines = [line.split(":", 1) for line in text.decode().splitlines() if ":" in line]
    return {name: value for name, value in lines}


def test_keyspace_hits_and_dirty_counts(differ) -> None:
    differ.run([("HSET", "h", "a", "1"), ("SET", "s", "x"), ("CONFIG", "RESETSTAT",)])
    before = [_stats(reply)["rdb_changes_since_last_save"]
              for reply in differ.both("INFO", "persistence")]
    for command in [("HGET", "h", "a"), ("HGET", "nokey", "a"), ("HMGET", "h", "a"),
                    ("HLEN", "nokey"), ("HEXISTS", "h", "x"), ("HSTRLEN", "h", "a"),
                    ("HGETALL", "h"), ("HKEYS", "nokey"), ("HVALS", "h"), ("HRANDFIELD", "h"),
                    ("HSCAN", "nokey", "0"), ("HSET", "h", "a", "2", "b", "3", "a", "4"),
                    ("HSETNX", "h", "a", "1"), ("HSETNX", "h", "c", "1"), ("HDEL", "h", "a", "c"),
                    ("HINCRBY", "h", "n", "1"), ("HINCRBYFLOAT", "h", "n", "1"),
                    ("HDEL", "h", "x"), ("HGET", "s", "a")]:
        differ.check(*command, resp=(2,))
    stats = [_stats(reply) for reply in differ.both("INFO", "stats")]
    for name in ("keyspace_hits", "keyspace_misses"):
        assert stats[1][name] == stats[0][name], name
    after = [_stats(reply)["rdb_changes_since_last_save"]
             for reply in differ.both("INFO", "persistence")]
    assert int(after[1]) - int(before[1]) == int(after[0]) - int(before[0])


# -- random command sequences ----------------------------------------------------------------------

KEYS = st.sampled_from(["h1", "h2", "h3", "s"])  # "s" is a string
FIELDS = st.sampled_from(["a", "b", "c", "d", "e", "f", "", "longfield1", LONG])
VALUES = st.sampled_from(["1", "0", "-3", "abc", "", "1.5", "9223372036854775807", "x" * 10,
                          LONG, "-0", "1e3"])
INCREMENTS = st.sampled_from(["1", "-1", "0", "5", "9223372036854775807", "x", "1.5", ""])
FLOAT_INCREMENTS = st.sampled_from(["1", "-1", "0.1", "2.5e3", "1e300", "inf", "nan", "x", "0x10"])
_ID = re.compile(rb"(\$2\r\nid\r\n):\d+\r\n")


class HashMachine(RuleBasedStateMachine):
    ref: RawClient
    ours: RawClient

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[tuple[str, ...]] = []

    def call(self, *args: str) -> tuple[bytes, bytes]:
        self.steps.append(args)
        return self.ref.call(*args), self.ours.call(*args)

    def send(self, *args: str) -> bytes:
        expected, actual = self.call(*args)
        if args[0] == "HELLO":
            expected, actual = _ID.sub(rb"\1", expected), _ID.sub(rb"\1", actual)
        assert actual == expected, (
            f"after {self.steps[:-1]!r}\n{args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}")
        return expected

    def is_hashtable(self, key: str) -> bool:
        return self.send("OBJECT", "ENCODING", key).endswith(b"hashtable\r\n")

    def send_unordered(self, *args: str) -> None:
        """A whole-hash read: byte for byte on a listpack, as a multiset on a hashtable."""
        if not self.is_hashtable(args[1]):
            self.send(*args)
            return
        expected, actual = self.call(*args)
        first, second = parse(expected), parse(actual)
        if isinstance(first, tuple) and isinstance(second, tuple):  # RESP3 maps
            assert first[0] == second[0]
            first, second = first[1], second[1]
        if args[0] == "HGETALL" or "WITHVALUES" in args:
            first, second = pairs_of(first), pairs_of(second)
        first = sorted(tuple(x) if isinstance(x, list) else x for x in first)
        second = sorted(tuple(x) if isinstance(x, list) else x for x in second)
        assert first == second, self.steps

    @initialize()
    def start(self) -> None:
        for client in (self.ref, self.ours):
            client.call("HELLO", "2")
            client.call("FLUSHALL")
        self.send("SET", "s", "string")

    @rule(key=KEYS, pairs=st.lists(st.tuples(FIELDS, VALUES), min_size=1, max_size=4),
          command=st.sampled_from(["HSET", "HMSET"]), odd=st.booleans())
    def hset(self, command: str, key: str, pairs: list[tuple[str, str]], odd: bool) -> None:
        args = [p for pair in pairs for p in pair]
        self.send(command, key, *(args[:-1] if odd and len(args) > 2 else args))

    @rule(key=KEYS, field=FIELDS, value=VALUES)
    def hsetnx(self, key: str, field: str, value: str) -> None:
        self.send("HSETNX", key, field, value)

    @rule(key=KEYS, fields=st.lists(FIELDS, min_size=1, max_size=3),
          command=st.sampled_from(["HDEL", "HMGET"]))
    def fields(self, command: str, key: str, fields: list[str]) -> None:
        self.send(command, key, *fields)

    @rule(key=KEYS, field=FIELDS, command=st.sampled_from(["HGET", "HEXISTS", "HSTRLEN"]))
    def one_field(self, command: str, key: str, field: str) -> None:
        self.send(command, key, field)

    @rule(key=KEYS, command=st.sampled_from(["HLEN", "TYPE", "OBJECT ENCODING", "EXISTS"]))
    def one_key(self, command: str, key: str) -> None:
        self.send(*command.split(), key)

    @rule(key=KEYS, command=st.sampled_from(["HGETALL", "HKEYS", "HVALS"]))
    def whole(self, command: str, key: str) -> None:
        self.send_unordered(command, key)

    @rule(key=KEYS, field=FIELDS, increment=INCREMENTS)
    def hincrby(self, key: str, field: str, increment: str) -> None:
        self.send("HINCRBY", key, field, increment)

    @rule(key=KEYS, field=FIELDS, increment=FLOAT_INCREMENTS)
    def hincrbyfloat(self, key: str, field: str, increment: str) -> None:
        self.send("HINCRBYFLOAT", key, field, increment)

    @rule(key=KEYS, withvalues=st.booleans(), count=st.sampled_from(["0", "100", "-0"]))
    def hrandfield_everything(self, key: str, withvalues: bool, count: str) -> None:
        self.send_unordered("HRANDFIELD", key, count, *(["WITHVALUES"] if withvalues else []))

    @rule(key=KEYS, pattern=st.sampled_from([None, "*", "a*", "?", "[a-c]"]))
    def hscan(self, key: str, pattern: str | None) -> None:
        options = [] if pattern is None else ["MATCH", pattern]
        args = ("HSCAN", key, "0", "COUNT", "100", *options)
        if key == "s" or not self.is_hashtable(key):
            self.send(*args)
            return
        expected, actual = self.call(*args)
        (cursor, items), (our_cursor, our_items) = parse(expected), parse(actual)
        assert our_cursor == cursor == b"0"
        assert sorted(pairs_of(our_items)) == sorted(pairs_of(items)), self.steps

    @rule(src=KEYS, dst=KEYS)
    def copy(self, src: str, dst: str) -> None:
        self.send("COPY", src, dst, "REPLACE")

    @rule(version=st.sampled_from(["2", "3"]))
    def hello(self, version: str) -> None:
        self.send("HELLO", version)

    @rule(entries=st.sampled_from(["2", "4", "512"]))
    def listpack_size(self, entries: str) -> None:
        self.send("CONFIG", "SET", "hash-max-listpack-entries", entries)


def test_random_hash_command_sequences(real_redis, taipan) -> None:
    run_against_both(HashMachine, real_redis.port, taipan.port, examples=150, steps=30,
                     restore=[("CONFIG", "SET", "hash-max-listpack-entries", "512")])
