"""SORT and SORT_RO: raw replies identical to a real Redis 7.0, RESP2 and RESP3.

Byte for byte wherever Redis's order is defined, which is almost everywhere: numeric
ties fall back to the elements' bytes, ALPHA ties keep the input order (glibc's
stable qsort), and BY + LIMIT ties come out in the order of Redis's partial
quicksort. The exceptions are a hashtable set's iteration order (BY nosort, no
STORE) and ALPHA ties among a hashtable set's or a sorted set's members (they keep
the dict's order): those are compared as sorted items.

Redis reads scores with strtod without clearing errno first, so after one value out
of range every numeric SORT in that server fails until some system call resets errno
(a new connection does). Each out-of-range case therefore runs as its own test, on
fresh connections, and nothing numeric runs after it in that test.
"""

from __future__ import annotations

import ctypes
import math
import random
from fractions import Fraction

import pytest

from taipan.commands.sort import c_score, sort_keys

Arg = bytes | str | int


def _items(raw: bytes) -> list[bytes | None]:
    """The bulk items of a flat array reply (RESP2 or RESP3), nil as None."""
    lines = raw.split(b"\r\n")
    assert lines[0][:1] == b"*", raw
    items: list[bytes | None] = []
    i = 1
    while i < len(lines) - 1:
        line = lines[i]
        if line in (b"$-1", b"_"):
            items.append(None)
            i += 1
        else:
            length = int(line[1:])
            data = b"\r\n".join(lines[i + 1:])[:length]
            items.append(data)
            i += 2 + data.count(b"\r\n")
    return items


def check_unordered(differ, *args: Arg) -> None:
    """Same reply up to the order of its items (a hashtable's iteration order)."""
    for resp in (2, 3):
        expected, actual = differ.both(*args, resp=resp)
        if expected[:1] != b"*":
            assert actual == expected
            continue
        want, got = _items(expected), _items(actual)
        assert sorted(got, key=repr) == sorted(want, key=repr), (args, expected, actual)


@pytest.fixture
def numbers(differ):
    differ.run([("RPUSH", "l", "3", "1", "2", "10", "1.5", "-4", "1e2", "0x10", " 7")])
    return differ


# -- options -------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [
    (), ("ASC",), ("DESC",), ("ALPHA",), ("ALPHA", "DESC"), ("desc", "asc"),
    ("ASC", "DESC", "Alpha"), ("alpha", "alpha"),
    ("LIMIT", "0", "3"), ("LIMIT", "2", "3"), ("LIMIT", "1", "100"), ("LIMIT", "8", "1"),
    ("LIMIT", "9", "1"), ("LIMIT", "20", "5"), ("LIMIT", "-1", "2"), ("LIMIT", "2", "-1"),
    ("LIMIT", "2", "-5"), ("LIMIT", "0", "0"), ("LIMIT", "3", "0"),
    ("LIMIT", "5", "9223372036854775807"), ("LIMIT", "2", "9223372036854775806"),
    ("LIMIT", "9223372036854775807", "1"),
    ("LIMIT", "9223372036854775807", "9223372036854775807"),
    ("LIMIT", "-9223372036854775808", "-9223372036854775808"),
    ("LIMIT", "3", "-9223372036854775808"), ("LIMIT", "1", "2", "LIMIT", "0", "1"),
    ("DESC", "LIMIT", "1", "3"), ("ALPHA", "LIMIT", "2", "2", "DESC"),
    ("BY", "nosort"), ("BY", "nosort", "DESC"), ("BY", "nosort", "LIMIT", "1", "2"),
    ("BY", "nosort", "DESC", "LIMIT", "1", "2"), ("BY", "nosort", "LIMIT", "5", "100"),
    ("BY", "nosort", "DESC", "LIMIT", "8", "5"), ("BY", "nosort", "LIMIT", "9", "1"),
    ("BY", "nosort", "LIMIT", "-3", "2"), ("BY", "nosort", "LIMIT", "2", "9223372036854775807"),
    ("BY", "nosort", "ALPHA"), ("BY", "constant"), ("BY", ""),
    ("BY", "nosort", "BY", "w_*"), ("BY", "w_*", "BY", "nosort"),
    ("BY", "nosort", "GET", "#"), ("GET", "#", "GET", "#"),
])
@pytest.mark.parametrize("command", ["SORT", "SORT_RO"])
def test_list_options(numbers, command: str, options: tuple[str, ...]) -> None:
    numbers.check(command, "l", *options)


@pytest.mark.parametrize("options", [
    ("foo",), ("LIMIT",), ("LIMIT", "1"), ("LIMIT", "a", "1"), ("LIMIT", "1", "a"),
    ("LIMIT", "01", "1"), ("LIMIT", " 1", "1"), ("LIMIT", "1.0", "1"),
    ("LIMIT", "9223372036854775808", "1"), ("LIMIT", "x", "1", "foo"), ("BY",), ("GET",),
    ("STORE",), ("ASC", "foo"), ("alpha", "GET"), ("BY", "w_*", "LIMIT", "1"),
])
@pytest.mark.parametrize("command", ["SORT", "SORT_RO"])
def test_syntax_errors(numbers, command: str, options: tuple[str, ...]) -> None:
    numbers.check(command, "l", *options)


def test_sort_ro_refuses_store(numbers) -> None:
    numbers.check("SORT_RO", "l", "STORE", "dst")
    numbers.check("SORT_RO", "l", "STORE")
    numbers.check("EXISTS", "dst")


def test_option_names_are_c_strings(numbers) -> None:
    """Redis compares option names with strcasecmp: they end at a NUL byte."""
    numbers.check("SORT", "l", b"desc\0junk")
    numbers.check("SORT", "l", b"LIMIT\0", "1", "2")
    numbers.check("SORT", "l", b"by\0x", "nosort")
    numbers.check("SORT", "l", b"\0desc")


def test_wrong_types_and_missing_keys(differ) -> None:
    differ.run([("SET", "s", "1"), ("HSET", "h", "f", "v")])
    for key in ("s", "h"):
        differ.check("SORT", key)
        differ.check("SORT_RO", key, "ALPHA")
        differ.check("SORT", key, "BY", "nosort")
    differ.check("SORT", "s", "foo")  # options are parsed before the key is looked up
    differ.check("SORT", "s", "LIMIT", "a", "b")
    differ.check("SORT", "missing")
    differ.check("SORT_RO", "missing", "BY", "nosort", "DESC", "LIMIT", "0", "5")
    differ.check("SORT", "missing", "GET", "#", "GET", "k_*")
    differ.check("SORT")


# -- numeric scores ---------------------------------------------------------------------------

_GOOD_SCORES = [
    b"", b" 1", b"\t2", b"\n7", b"\v8", b"\f9", b"\r1", b"+3", b"-0", b"0x10", b"0X1P-1074",
    b"0x1p3", b"0x.8", b"0x1.", b"0x1P+3", b".5", b"5.", b"1E5", b"1.5e-5", b"00012",
    b"inf", b"-inf", b"infinity", b"INF", b"InFiNiTy", b"1\x00x", b"\x001", b"0e-400",
    b"0x0p-5000", b"1e308", b"2.2250738585072014e-308", b"0x1.fffffffffffff7p1023",
    b"0x1.fffffffffffff8p-1023", b"0x1.ffffffffffffe8p-1023", b"0x0.8p-1073",
    b"-99999999999999999999", b"12345678901234567890123",
]
_BAD_SCORES = [
    b" ", b"1 ", b"1\t", b"nan", b"-nan", b"nan(12)", b"1e", b"1e+", b"0x", b"1_0",
    b"infinit", b"i", b"-", b"+", b".", b"abc", b"\xff", b"0x1p", b"1,5",
]
_OUT_OF_RANGE = [
    b"1e400", b"-1e400", b"1.8e308", b"0x1p1024", b"0x1.fffffffffffff8p1023", b"1e-400",
    b"1e-310", b"4.9e-324", b"2.2250738585072011e-308", b"0x0.8p-1074",
    b"0x1.fffffffffffffp-1023", b"0x1.fffffffffffff4p-1023", b"1e-320",
]


@pytest.mark.parametrize("value", _GOOD_SCORES + _BAD_SCORES, ids=repr)
def test_scores_read_as_strtod_does(differ, value: bytes) -> None:
    differ.run([("RPUSH", "l", value, "5", "-1"), ("RPUSH", "m", "x"), ("SET", "w_x", value),
                ("HSET", "h_x", "f", value)])
    differ.check("SORT", "l")
    differ.check("SORT", "l", "DESC", "LIMIT", "1", "1")
    differ.check("SORT", "m", "BY", "w_*")
    differ.check("SORT", "m", "BY", "h_*->f")
    differ.check("SORT", "l", "ALPHA")


@pytest.mark.parametrize("value", _OUT_OF_RANGE, ids=repr)
def test_scores_out_of_range(differ, value: bytes) -> None:
    differ.run([("RPUSH", "l", "5", value, "-1")])
    differ.check("SORT", "l", "ALPHA")
    differ.check("SORT", "l")  # last numeric sort: see the module docstring


def test_equal_scores_order_by_element_bytes(differ) -> None:
    differ.run([("RPUSH", "l", "1.0", "1", "01", "1e0", "0x1", " 1", "+1", "1.00", "-0",
                 "0", "0.0", "inf", "infinity", "INF")])
    differ.check("SORT", "l")
    differ.check("SORT", "l", "DESC")
    differ.check("SORT", "l", "LIMIT", "2", "5")
    differ.check("SORT", "l", "BY", "missing_*")
    differ.check("SORT", "l", "BY", "missing_*", "DESC", "LIMIT", "1", "4")


def test_conversion_error_beats_store(differ) -> None:
    differ.run([
        ("RPUSH", "l", "1", "x", "2"), ("SET", "dst", "old"),
        ("SORT", "l", "STORE", "dst"), ("GET", "dst"),
        ("SORT", "l", "ALPHA", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "BY", "nosort", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
    ])
    differ.check("SORT", "l", "GET", "#")
    differ.check("SORT", "l", "LIMIT", "0", "1")


# -- ALPHA ------------------------------------------------------------------------------------

def test_alpha_is_byte_order(differ) -> None:
    differ.run([("RPUSH", "l", "b", "B", "a", "é", "e", "\xff".encode("latin-1"), "10", "9",
                 "", " ", "a\x00z", "a\x00b", "a", "Z", "\x7f", "\x80", "ab")])
    differ.check("SORT", "l", "ALPHA")
    differ.check("SORT", "l", "ALPHA", "DESC")
    differ.check("SORT", "l", "ALPHA", "LIMIT", "3", "6")


def test_alpha_compares_up_to_nul_unless_storing(differ) -> None:
    """strcoll stops at a NUL (ties keep input order); STORE compares whole bytes."""
    differ.run([
        ("RPUSH", "l", "a\x00z", "a\x00b", "a", "a\x00m", "b\x00a", "b"),
        ("SORT", "l", "ALPHA", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "ALPHA", "DESC", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
    ])
    differ.check("SORT", "l", "ALPHA")
    differ.check("SORT", "l", "ALPHA", "DESC")


def test_alpha_by_pattern(differ) -> None:
    differ.run([
        ("RPUSH", "l", "a", "b", "c", "d", "e", "f"),
        ("MSET", "w_a", "pear", "w_b", "apple", "w_c", "pear", "w_d", "x\x00b", "w_f", "x\x00a"),
        ("HSET", "h_b", "f", "2"), ("HSET", "h_e", "f", "10"),
    ])
    for options in [(), ("DESC",), ("LIMIT", "0", "3"), ("LIMIT", "2", "2"), ("DESC", "LIMIT", "1", "3")]:
        differ.check("SORT", "l", "BY", "w_*", "ALPHA", *options)
        differ.check("SORT", "l", "BY", "h_*->f", "ALPHA", *options)
    differ.run([("SORT", "l", "BY", "w_*", "ALPHA", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
                ("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "1", "4", "STORE", "dst"),
                ("LRANGE", "dst", "0", "-1")])


@pytest.mark.parametrize("size", [6, 7, 8, 20, 41, 100])
def test_ties_under_by_and_limit_follow_redis_partial_quicksort(differ, size: int) -> None:
    """Equal BY values with a LIMIT: Redis's partial quicksort is not stable."""
    differ.run([("RPUSH", "l", *[str(i) for i in range(size)])]
               + [("SET", f"w_{i}", "tie" if i % 3 else f"v{i % 4}") for i in range(0, size, 2)])
    limits = [(0, size), (0, 5), (1, 3), (size // 2, 4), (size - 5, 5), (size - 1, 1), (3, 0)]
    for offset, count in limits:
        for options in [(), ("DESC",)]:
            differ.check("SORT", "l", "BY", "nokey_*", "ALPHA", "LIMIT", offset, count, *options)
            differ.check("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", offset, count, *options,
                         "GET", "#", "GET", "w_*")
            differ.check("SORT", "l", "BY", "w_*", "LIMIT", offset, count, *options)


def test_random_alpha_by_sorts(differ) -> None:
    """Seeded random lists and BY values, many ties, against Redis's orders."""
    rng = random.Random(7815)
    for round_ in range(12):
        size = rng.choice([3, 9, 30, 60, 150])
        elements = [str(rng.randrange(size)) for _ in range(size)]
        key = f"l{round_}"
        differ.run([("RPUSH", key, *elements)]
                   + [("SET", f"r{round_}_{e}", rng.choice(["a", "b", "c", "a\x00x", ""]))
                      for e in set(elements) if rng.random() < 0.7])
        for _ in range(10):
            offset, count = rng.randrange(-2, size + 2), rng.randrange(-2, size + 2)
            options = ["LIMIT", offset, count] + (["DESC"] if rng.random() < 0.5 else [])
            differ.check("SORT", key, "BY", f"r{round_}_*", "ALPHA", *options)
            differ.check("SORT", key, "BY", f"r{round_}_*", "ALPHA", *options, "GET", "#",
                         "GET", f"r{round_}_*")
            differ.check("SORT", key, *options)
            differ.check("SORT", key, "ALPHA", *options)


# -- BY and GET patterns -------------------------------------------------------------------------

@pytest.fixture
def patterns(differ):
    differ.run([
        ("RPUSH", "l", "a", "b", "c", "d"),
        ("MSET", "w_a", "3", "w_b", "1", "w_c", "2", "ab", "X", "a->f", "Y", "a->\x00x", "Q"),
        ("HSET", "h_a", "f", "30", "g", "x", "f->g", "deep"),
        ("HSET", "h_b", "f", "10", "", "empty"),
        ("HSET", "h_d", "f", "20", "\x00x", "nul"),
        ("RPUSH", "w_d", "a list"),
        ("SADD", "x_a", "set"),
    ])
    return differ


@pytest.mark.parametrize("options", [
    ("BY", "w_*"), ("BY", "w_*", "DESC"), ("BY", "w_*", "LIMIT", "1", "2"),
    ("BY", "h_*->f"), ("BY", "h_*->f", "ALPHA"), ("BY", "h_*->g"), ("BY", "h_*->g", "ALPHA"),
    ("BY", "w_*", "ALPHA"), ("BY", "h_*"), ("BY", "x_*"), ("BY", "w_*->"), ("BY", "*"),
    ("BY", "nosort", "GET", "#", "GET", "w_*", "GET", "h_*->f", "GET", "h_*->",
     "GET", "h_*->g", "GET", "nostar", "GET", "x_*", "GET", "h_*->f->g"),
    ("GET", "h_*->f"), ("GET", "h_*"), ("GET", "w_*"), ("ALPHA", "GET", "#"),
    ("BY", "nosort", "GET", "*->f"), ("BY", "nosort", "GET", "**"), ("BY", "nosort", "GET", "*b"),
    ("BY", "nosort", "GET", "*->f->g"), ("BY", "nosort", "GET", "#x"), ("BY", "nosort", "GET", "##"),
    ("BY", "nosort", "GET", b"#\x00x"), ("BY", "nosort", "GET", b"\x00*"),
    ("BY", "nosort", "GET", b"*->\x00x"), ("BY", "nosort", "GET", b"h_*->\x00x"),
    ("BY", "nosort", "GET", b"h_*\x00->f"), ("BY", "nosort", "GET", "h_*->"),
    ("BY", b"w_\x00*"), ("BY", b"w_*\x00"), ("BY", "w_*", "GET", "w_*", "LIMIT", "0", "2"),
    ("BY", "h_*->f", "DESC", "GET", "h_*->g", "GET", "#"),
])
def test_patterns(patterns, options: tuple[Arg, ...]) -> None:
    patterns.check("SORT", "l", *options)
    patterns.check("SORT_RO", "l", *options)


def test_only_the_first_star_is_replaced(differ) -> None:
    differ.run([("RPUSH", "l", "1", "2"), ("SET", "k_1_*", "one"), ("SET", "k_2_x", "two"),
                ("HSET", "h_1", "*", "star")])
    differ.check("SORT", "l", "BY", "nosort", "GET", "k_*_*", "GET", "h_*->*", "GET", "k_*_x")


def test_expired_pattern_keys_are_missing(differ) -> None:
    differ.run([("RPUSH", "l", "1", "2"), ("SET", "w_1", "9"), ("SET", "w_2", "5"),
                ("PEXPIRE", "w_2", "1"), ("DEBUG", "SLEEP", "0.01")])
    differ.check("SORT", "l", "BY", "w_*", "GET", "w_*")
    differ.check("EXISTS", "w_2")


# -- sorted sets and sets ---------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["listpack", "skiplist"])
@pytest.mark.parametrize("options", [
    (), ("ALPHA",), ("ALPHA", "DESC"), ("ALPHA", "LIMIT", "1", "2"), ("BY", "nosort"),
    ("BY", "nosort", "DESC"), ("BY", "nosort", "LIMIT", "1", "2"),
    ("BY", "nosort", "DESC", "LIMIT", "1", "2"), ("BY", "nosort", "DESC", "LIMIT", "4", "10"),
    ("BY", "nosort", "DESC", "LIMIT", "5", "10"), ("BY", "nosort", "LIMIT", "-5", "2"),
    ("BY", "nosort", "ALPHA"), ("BY", "nosort", "GET", "#", "GET", "w_*"),
    ("BY", "w_*"), ("BY", "w_*", "DESC", "LIMIT", "0", "3"),
])
def test_sorted_sets(differ, encoding: str, options: tuple[str, ...]) -> None:
    if encoding == "skiplist":
        differ.run([("CONFIG", "SET", "zset-max-listpack-entries", "0")])
    try:
        differ.run([("ZADD", "z", "1", "c", "2", "a", "3", "d", "4", "b", "5", "10", "5", "9"),
                    ("MSET", "w_a", "4", "w_b", "3", "w_c", "2", "w_d", "1", "w_10", "0")])
        differ.check("SORT", "z", *options)
        differ.run([("SORT", "z", *options, "STORE", "dst"), ("LRANGE", "dst", "0", "-1")])
    finally:
        differ.run([("CONFIG", "SET", "zset-max-listpack-entries", "128")])


def test_numeric_sort_of_a_zset_reads_members_not_scores(differ) -> None:
    differ.run([("ZADD", "z", "1", "30", "2", "10", "3", "20", "4", "x")])
    differ.check("SORT", "z")
    differ.run([("ZREM", "z", "x")])
    differ.check("SORT", "z")
    differ.check("SORT", "z", "DESC")


@pytest.mark.parametrize("options", [
    (), ("DESC",), ("ALPHA",), ("LIMIT", "1", "2"), ("BY", "nosort"), ("BY", "nosort", "DESC"),
    ("BY", "nosort", "DESC", "LIMIT", "1", "2"), ("BY", "nosort", "LIMIT", "3", "5"),
    ("BY", "nosort", "GET", "#", "GET", "w_*"), ("BY", "w_*"),
])
def test_intsets_iterate_in_ascending_order(differ, options: tuple[str, ...]) -> None:
    differ.run([("SADD", "s", "5", "3", "10", "1", "-7"), ("MSET", "w_5", "1", "w_10", "2")])
    differ.check("SORT", "s", *options)


def test_hashtable_sets(differ) -> None:
    differ.run([("SADD", "s", "b", "a", "c", "10", "9", "x", "a\x00b"),
                ("MSET", "w_a", "1", "w_b", "1", "w_c", "0")])
    # "a" and "a\0b" tie (strcoll stops at the NUL) and keep the set's order: leave them out
    differ.check("SORT", "s", "ALPHA", "LIMIT", "0", "2")
    differ.check("SORT", "s", "ALPHA", "DESC", "LIMIT", "0", "3")
    check_unordered(differ, "SORT", "s", "ALPHA")
    differ.check("SORT", "s")  # a conversion error
    differ.check("SORT", "s", "BY", "w_*")  # missing BY keys score 0: ties by bytes
    check_unordered(differ, "SORT", "s", "BY", "nosort")
    check_unordered(differ, "SORT", "s", "BY", "nosort", "DESC", "GET", "#", "GET", "w_*")
    check_unordered(differ, "SORT", "s", "BY", "w_*", "ALPHA")


@pytest.mark.parametrize("options", [
    (), ("DESC",), ("LIMIT", "1", "3"), ("DESC", "LIMIT", "0", "2"), ("GET", "#", "GET", "w_*"),
    ("ALPHA",), ("LIMIT", "0", "0"),
])
def test_set_by_nosort_store_is_sorted_alpha(differ, options: tuple[str, ...]) -> None:
    """Stored results must replicate deterministically: Redis sorts the set ALPHA."""
    differ.run([
        ("SADD", "hs", "b", "a", "c", "10", "9", "a\x00b"), ("SADD", "is", "5", "30", "1"),
        ("MSET", "w_a", "A", "w_5", "five"),
        ("SORT", "hs", "BY", "nosort", *options, "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "is", "BY", "nosort", *options, "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
    ])


# -- STORE --------------------------------------------------------------------------------------

def test_store_replaces_the_destination(differ) -> None:
    differ.run([
        ("RPUSH", "l", "3", "1", "2"), ("SET", "dst", "x"), ("PEXPIRE", "dst", "100000"),
        ("SORT", "l", "STORE", "dst"), ("TTL", "dst"), ("TYPE", "dst"),
        ("LRANGE", "dst", "0", "-1"), ("OBJECT", "ENCODING", "dst"),
        ("HSET", "dst", "f", "v"), ("SORT", "l", "DESC", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "LIMIT", "0", "0", "STORE", "dst"), ("EXISTS", "dst"),
        ("SORT", "l", "LIMIT", "0", "0", "STORE", "dst"),
        ("SORT", "missing", "STORE", "dst"), ("EXISTS", "dst"),
        ("SORT", "l", "STORE", "a", "STORE", "b"), ("EXISTS", "a"), ("LRANGE", "b", "0", "-1"),
        ("SORT", "l", "STORE", "l"), ("LRANGE", "l", "0", "-1"),
        ("SORT", "l", "DESC", "STORE", "l"), ("LRANGE", "l", "0", "-1"),
    ])


def test_store_with_get(differ) -> None:
    differ.run([
        ("RPUSH", "l", "1", "2", "3"), ("SET", "w_1", "one"), ("HSET", "h_3", "f", "three"),
        ("SORT", "l", "GET", "w_*", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "GET", "#", "GET", "w_*", "GET", "h_*->f", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "GET", "nostar", "LIMIT", "1", "1", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "GET", "#", "LIMIT", "5", "1", "STORE", "dst"), ("EXISTS", "dst"),
        ("APPEND", "w_1", "!"), ("SORT", "l", "GET", "w_*", "STORE", "dst"),
        ("APPEND", "w_1", "?"), ("LRANGE", "dst", "0", "-1"),
    ])


def test_store_in_a_transaction_and_watch(differ) -> None:
    differ.run([
        ("RPUSH", "l", "2", "1"), ("MULTI",), ("SORT", "l", "STORE", "dst"),
        ("SORT_RO", "dst", "DESC"), ("EXEC",),
        ("SORT", "l", "BY", "nosort", "LIMIT", "0", "0", "STORE", "none"), ("EXISTS", "none"),
    ])


def test_keyspace_hits_misses_and_dirty(differ) -> None:
    """Every BY/GET lookup is a keyspace read; STORE dirties once per stored item."""
    differ.run([("RPUSH", "l", "1", "2", "3"), ("SET", "w_1", "5"), ("HSET", "h_2", "f", "1"),
                ("CONFIG", "RESETSTAT",)])
    ref, ours = differ.pairs[2]

    def counters(client) -> list[bytes]:
        stats = client.call("INFO", "stats") + client.call("INFO", "persistence")
        return [line for line in stats.split(b"\r\n")
                if line.startswith((b"keyspace_hits", b"keyspace_misses"))]

    def dirty(client) -> int:
        info = client.call("INFO", "persistence").split(b"\r\n")
        return next(int(line.split(b":")[1]) for line in info
                    if line.startswith(b"rdb_changes_since_last_save"))

    for command in [
        ("SORT", "l"), ("SORT", "nokey"), ("SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*"),
        ("SORT", "l", "BY", "nosort", "GET", "w_*", "LIMIT", "0", "1"),
        ("SORT", "l", "BY", "h_*->f", "LIMIT", "0", "1", "GET", "h_*->f", "GET", "h_*"),
        ("SORT", "l", "STORE", "d"), ("SORT", "l", "GET", "#", "GET", "w_*", "STORE", "d"),
        ("SORT", "l", "LIMIT", "0", "0", "STORE", "d"), ("SORT", "l", "LIMIT", "0", "0", "STORE", "d"),
        ("SORT", "nokey", "STORE", "d"), ("SORT", "l", "BY", "x"),
    ]:
        before = dirty(ref), dirty(ours)
        differ.check(*command, resp=(2,))
        assert counters(ours) == counters(ref), command
        assert dirty(ours) - before[1] == dirty(ref) - before[0], command


# -- COMMAND GETKEYS ------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("SORT", "a"), ("SORT", "a", "STORE", "b"), ("SORT", "a", "store"),
    ("SORT", "a", "BY", "x", "GET", "y", "STORE", "z", "LIMIT", "0", "1", "STORE", "w"),
    ("SORT", "a", "STORE", "limit", "x", "y"), ("SORT", "a", "LIMIT", "STORE", "x", "STORE", "y"),
    ("SORT", "a", "GET", "STORE", "b"), ("SORT", "a", "BY", "store", "c"),
    ("SORT", "a", b"STORE\x00x", "y"), ("SORT", "a", "LIMIT"), ("SORT_RO", "a", "STORE", "b"),
    ("SORT_RO", "a"),
])
def test_command_getkeys(differ, args: tuple[Arg, ...]) -> None:
    differ.check("COMMAND", "GETKEYS", *args)
    differ.check("COMMAND", "GETKEYSANDFLAGS", *args)


def test_getkeys_proc_is_plain() -> None:
    assert sort_keys([b"sort", b"k", b"store", b"d"]) == [(1, ("RO", "access")),
                                                          (3, ("OW", "update"))]


# -- scores against the C library itself ----------------------------------------------------------

def _glibc_strtod():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        pytest.skip("needs glibc, the C library Redis reads scores with")
    strtod = libc.strtod
    strtod.restype = ctypes.c_double
    strtod.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]

    def score(value: bytes) -> float | None:
        buffer = ctypes.create_string_buffer(value)
        end = ctypes.c_char_p()
        ctypes.set_errno(0)
        result = strtod(buffer, ctypes.byref(end))
        erange = ctypes.get_errno() == 34
        stop = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buffer)
        if buffer.raw[stop:stop + 1] != b"\0" or erange or math.isnan(result):
            return None
        return result

    return score


def test_scores_match_glibc_strtod() -> None:
    """What SORT accepts and reads is what glibc's strtod does (with errno cleared)."""
    strtod = _glibc_strtod()
    rng = random.Random(2024)
    alphabet = b"0123456789abcdefABCDEFxXpPeE+-. \tinfty"
    values = [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
              for _ in range(20000)]
    for _ in range(3000):  # around the subnormal range and the overflow threshold
        mantissa = rng.getrandbits(rng.randint(1, 60))
        exponent = rng.randint(-1140, -1000)
        values.append(b"0x%xp%d" % (mantissa, exponent))
        near = float(Fraction(mantissa) * Fraction(2) ** exponent)
        values.append(b"%.*e" % (rng.randint(0, 40), near))
        values.append(b"%de%d" % (rng.getrandbits(70), rng.randint(-360, -290)))
        values.append(b"%de%d" % (rng.getrandbits(70), rng.randint(280, 310)))
        values.append(b"0x%xp%d" % (rng.getrandbits(60), rng.randint(960, 1030)))
    for bits in range(1, 60):
        for delta in (-2, -1, 0, 1, 2):
            values.append(b"0x%xp%d" % ((1 << bits) + delta, -1022 - bits))
            values.append(b"0x%xp%d" % ((1 << bits) + delta, -1023 - bits))
    for value in values:
        assert c_score(value) == strtod(value), value
