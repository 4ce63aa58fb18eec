"""Generic key and database commands: raw replies identical to a real Redis 7.0.

Nondeterministic replies (KEYS order, RANDOMKEY, SCAN cursors) are compared as
structures; everything else byte for byte.
"""

from __future__ import annotations

import time

import pytest
from support.raw import RawClient
from support.resp import parse


def keys_info(differ) -> tuple[dict, dict]:
    """INFO stats counters that key lookups move, from both servers."""
    found = []
    for reply in differ.both("INFO", "stats"):
        text = parse(reply).decode()
        fields = dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)
        found.append({k: fields[k] for k in ("keyspace_hits", "keyspace_misses", "expired_keys")})
    return found[0], found[1]


# -- DEL / EXISTS / TYPE / TOUCH ---------------------------------------------------------


def test_del_exists_touch_type(differ) -> None:
    differ.run([
        ("MSET", "a", "1", "b", "2"), ("EXISTS", "a", "a", "b", "c"), ("TOUCH", "a", "c", "a"),
        ("TYPE", "a"), ("TYPE", "missing"), ("RPUSH", "l", "x"), ("TYPE", "l"),
        ("DEL", "a", "c", "a"), ("DEL", "a"), ("UNLINK", "b", "l", "zz"), ("EXISTS", "a", "b"),
        ("DEL", ""), ("SET", "", "v"), ("EXISTS", ""), ("UNLINK", ""),
    ])


@pytest.mark.parametrize("args", [
    ("DEL",), ("UNLINK",), ("EXISTS",), ("TOUCH",), ("TYPE",), ("TYPE", "a", "b"), ("KEYS",),
    ("KEYS", "a", "b"), ("RANDOMKEY", "x"), ("RENAME", "a"), ("RENAME", "a", "b", "c"),
    ("RENAMENX", "a"), ("COPY", "a"), ("MOVE", "a"), ("MOVE", "a", "1", "2"), ("DBSIZE", "x"),
    ("SWAPDB", "0"), ("SWAPDB", "0", "1", "2"), ("SELECT",), ("SELECT", "0", "1"), ("SCAN",),
    ("OBJECT",), ("OBJECT", "ENCODING"), ("OBJECT", "ENCODING", "a", "b"), ("OBJECT", "HELP", "x"),
    ("OBJECT", "REFCOUNT"), ("OBJECT", "IDLETIME"), ("OBJECT", "FREQ"),
])
def test_wrong_arity(differ, args) -> None:
    differ.check(*args)


# -- KEYS / RANDOMKEY / DBSIZE ----------------------------------------------------------------


@pytest.mark.parametrize("pattern", [
    "*", "a", "a*", "a?", "a\\*", "a\\?", "a[", "a[b", "a[^b]*", "[a-b]", "[b-a]", "a\\",
    "a[\\", "*[", "x[-]y", "", "[", "[^", "\\", "a[]", "a[]]", "a[b-", "a[^]", "*b*", "?",
    "[!a]", "A*",
])
def test_keys_patterns(differ, pattern) -> None:
    keys = ["a", "ab", "abc", "b", "a*", "a?", "a[", "a\\", "x-y", "", "A", "bab"]
    differ.run([("MSET", *[part for key in keys for part in (key, "1")])])
    ref, ours = differ.both("KEYS", pattern)
    assert sorted(parse(ours)) == sorted(parse(ref)), pattern


def test_keys_skip_expired_and_binary(differ) -> None:
    differ.run([("SET", b"k\x00\xff", "1"), ("SET", "gone", "1", "PX", "1"), ("SET", "live", "1")])
    time.sleep(0.01)
    ref, ours = differ.both("KEYS", "*")
    assert sorted(parse(ours)) == sorted(parse(ref)) == [b"k\x00\xff", b"live"]


def test_randomkey_and_dbsize(differ) -> None:
    differ.check("RANDOMKEY")
    differ.check("DBSIZE")
    differ.run([("MSET", "a", "1", "b", "2", "c", "3")])
    differ.check("DBSIZE")
    for _ in range(10):
        ref, ours = differ.both("RANDOMKEY")
        assert parse(ref) in (b"a", b"b", b"c") and parse(ours) in (b"a", b"b", b"c")


def test_randomkey_skips_expired_keys(differ) -> None:
    """Even with many expired keys, RANDOMKEY finds the one live key."""
    for client in (differ.pairs[2][0], differ.pairs[2][1]):
        client.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        script = [("SET", f"x{i}", "1", "PX", "1") for i in range(300)]
        differ.run(script + [("SET", "live", "1")])
        time.sleep(0.01)
        # Which expired keys get deleted on the way is random: compare the key only.
        differ.check("RANDOMKEY", resp=(2,))
    finally:
        for client in (differ.pairs[2][0], differ.pairs[2][1]):
            client.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# -- RENAME / RENAMENX ------------------------------------------------------------------------


def test_rename(differ) -> None:
    differ.run([
        ("RENAME", "missing", "x"), ("RENAME", "missing", "missing"), ("RENAMENX", "missing", "x"),
        ("SET", "a", "1"), ("RENAME", "a", "a"), ("RENAMENX", "a", "a"), ("SET", "b", "2"),
        ("RENAMENX", "a", "b"), ("RENAME", "a", "b"), ("GET", "b"), ("EXISTS", "a"),
        ("EXPIRE", "b", "100"), ("RENAME", "b", "c"), ("TTL", "c"), ("SET", "d", "1"),
        ("EXPIRE", "d", "500"), ("RENAME", "c", "d"), ("TTL", "d"), ("RENAMENX", "d", "e"),
        ("TTL", "e"), ("RPUSH", "l", "x"), ("RENAME", "l", "e"), ("TYPE", "e"), ("LLEN", "e"),
        ("RENAME", "", "empty"), ("SET", "", "v"), ("RENAME", "", "empty"), ("GET", "empty"),
        ("rename", "empty", "E"), ("GET", "E"),
    ])


def test_rename_expired_source(differ) -> None:
    differ.run([("SET", "a", "1", "PX", "1"), ("SET", "b", "2")])
    time.sleep(0.01)
    differ.run([("RENAME", "a", "b"), ("RENAMENX", "a", "b"), ("GET", "b")])


# -- COPY / MOVE / SWAPDB ----------------------------------------------------------------------


def test_copy(differ) -> None:
    differ.run([
        ("COPY", "missing", "x"), ("COPY", "missing", "missing"), ("SET", "d", "1"),
        ("EXPIRE", "d", "100"), ("COPY", "d", "d"), ("COPY", "d", "e"), ("TTL", "e"),
        ("COPY", "d", "e"), ("SET", "d", "2"), ("COPY", "d", "e", "REPLACE"), ("GET", "e"),
        ("TTL", "e"), ("COPY", "d", "e", "replace", "REPLACE"), ("COPY", "d", "e", "DB", "1"),
        ("COPY", "d", "e", "DB", "1"), ("COPY", "d", "d", "DB", "1", "REPLACE"),
        ("COPY", "d", "d", "DB", "0"), ("COPY", "d", "e", "DB", "16"),
        ("COPY", "d", "e", "DB", "-1"), ("COPY", "d", "e", "DB", "abc"),
        ("COPY", "d", "e", "DB"), ("COPY", "d", "e", "foo"), ("COPY", "missing", "e", "DB", "16"),
        ("COPY", "d", "e", "DB", "1", "DB", "2"), ("COPY", "d", "e", "REPLACE", "DB", "3"),
        ("SELECT", "2"), ("GET", "e"), ("SELECT", "3"), ("GET", "e"), ("SELECT", "1"),
        ("GET", "d"), ("GET", "e"), ("SELECT", "0"), ("RPUSH", "l", "a", "b"), ("COPY", "l", "l2"),
        ("RPUSH", "l2", "c"), ("LRANGE", "l", "0", "-1"), ("LRANGE", "l2", "0", "-1"),
        ("COPY", "l", "d", "REPLACE"), ("TYPE", "d"),
    ])


def test_move(differ) -> None:
    differ.run([
        ("MOVE", "missing", "1"), ("MOVE", "missing", "0"), ("MOVE", "missing", "16"),
        ("MOVE", "missing", "abc"), ("SET", "d", "1"), ("MOVE", "d", "0"), ("MOVE", "d", "16"),
        ("MOVE", "d", "-1"), ("MOVE", "d", "abc"), ("MOVE", "d", "1"), ("EXISTS", "d"),
        ("SET", "d", "2"), ("MOVE", "d", "1"), ("GET", "d"), ("SELECT", "1"), ("GET", "d"),
        ("SELECT", "0"), ("SET", "m", "1"), ("EXPIRE", "m", "100"), ("MOVE", "m", "3"),
        ("SELECT", "3"), ("TTL", "m"), ("MOVE", "m", "3"), ("SELECT", "0"),
    ])


@pytest.mark.parametrize("args", [
    ("0", "1"), ("0", "0"), ("0", "16"), ("-1", "0"), ("a", "0"), ("0", "a"), ("a", "b"),
    ("16", "a"), ("1.0", "0"), ("", "0"), (" 1", "0"),
])
def test_swapdb_errors_and_forms(differ, args) -> None:
    differ.check("SWAPDB", *args, resp=(2,))


def test_swapdb_moves_contents(differ) -> None:
    differ.run([
        ("SET", "a", "in0"), ("EXPIRE", "a", "100"), ("SELECT", "1"), ("SET", "b", "in1"),
        ("SWAPDB", "0", "1"), ("GET", "a"), ("GET", "b"), ("TTL", "a"), ("DBSIZE",),
        ("SELECT", "0"), ("GET", "b"), ("DBSIZE",), ("SWAPDB", "1", "0"), ("GET", "a"),
    ])


@pytest.mark.parametrize("args", [
    ("16",), ("-1",), ("a",), ("1.0",), ("",), ("9223372036854775808",), (" 1",), ("01",),
])
def test_select_errors(differ, args) -> None:
    differ.check("SELECT", *args)


# -- FLUSHDB / FLUSHALL --------------------------------------------------------------------------


def test_flush(differ) -> None:
    differ.run([
        ("SET", "a", "1"), ("SELECT", "1"), ("SET", "b", "1"), ("FLUSHDB", "foo"),
        ("FLUSHDB", "async"), ("DBSIZE",), ("SELECT", "0"), ("DBSIZE",), ("FLUSHDB", "SYNC"),
        ("FLUSHDB", "sync", "async"), ("FLUSHALL", "foo"), ("SET", "c", "1"),
        ("FLUSHALL", "ASYNC"), ("DBSIZE",), ("FLUSHALL", "sync", "extra"), ("FLUSHALL", "SyNc"),
        ("FLUSHDB",), ("FLUSHALL",),
    ])


# -- SCAN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    (), ("abc",), ("-1",), ("+1",), ("-0",), ("",), ("18446744073709551615",),
    ("18446744073709551616",), ("-18446744073709551615",), ("-18446744073709551616",), (" 1",),
    ("1 ",), ("01",), ("1.0",), ("+",), ("-",), ("0x10",), ("0\x00",), ("0\x00abc",),
    ("\x00",), ("\x00 ",), (" \x00",),
    ("0", "COUNT", "0"), ("0", "COUNT", "-1"), ("0", "COUNT", "abc"), ("0", "COUNT"),
    ("0", "MATCH"), ("0", "TYPE"), ("0", "foo", "bar"), ("0", "TYPE", "string"),
    ("0", "TYPE", "foo"), ("0", "MATCH", "*", "COUNT", "10", "TYPE", "string"),
    ("0", "count", "1", "match", "x", "type", "list"), ("0", "COUNT", "9223372036854775808"),
    ("abc", "COUNT", "0"), ("0", "COUNT", "0", "MATCH"),
])
def test_scan_arguments_on_empty_db(differ, args) -> None:
    differ.check("SCAN", *args)


def full_scan(client: RawClient, *options: str) -> list[bytes]:
    cursor, found = b"0", []
    while True:
        cursor, keys = parse(client.call("SCAN", cursor, *options))
        found += keys
        if cursor == b"0":
            return found


@pytest.mark.parametrize("options", [
    (), ("COUNT", "3"), ("MATCH", "k1*"), ("MATCH", "k1*", "COUNT", "1000"), ("TYPE", "string"),
    ("TYPE", "LIST"), ("TYPE", "none"), ("MATCH", "l*", "TYPE", "list", "COUNT", "2"),
])
def test_scan_returns_the_same_key_sets(differ, options) -> None:
    differ.run([("MSET", *[part for i in range(120) for part in (f"k{i}", "v")]),
                ("RPUSH", "l1", "a"), ("RPUSH", "l2", "a")])
    ref, ours = differ.pairs[2]
    expected, actual = full_scan(ref, *options), full_scan(ours, *options)
    # Redis may return a key twice (rehashing); the sets must agree.
    assert sorted(set(actual)) == sorted(set(expected))


def test_scan_guarantee_under_writes(taipan) -> None:
    """Keys present for the whole scan are returned, whatever is written meanwhile."""
    with RawClient(taipan.port) as client, RawClient(taipan.port) as writer:
        client.call("FLUSHALL")
        stable = {f"s{i}".encode() for i in range(500)}
        client.call("MSET", *[part for key in sorted(stable) for part in (key, b"1")])
        cursor, found, step = b"0", [], 0
        while True:
            cursor, keys = parse(client.call("SCAN", cursor, "COUNT", "7"))
            found += keys
            # Writes during the scan: new keys, deletions of new keys, and rehash pressure.
            writer.call("MSET", *[part for i in range(20) for part in (f"n{step}-{i}", "x")])
            writer.call("DEL", f"n{step - 1}-3", f"n{step - 1}-4")
            step += 1
            if cursor == b"0":
                break
        assert stable <= set(found)
        client.call("FLUSHALL")


def test_scan_deleted_keys_not_returned(taipan) -> None:
    with RawClient(taipan.port) as client:
        client.call("FLUSHALL")
        client.call("MSET", *[part for i in range(100) for part in (f"k{i}", "v")])
        cursor, keys = parse(client.call("SCAN", "0", "COUNT", "10"))
        client.call("DEL", *[f"k{i}" for i in range(100)])
        rest = []
        while cursor != b"0":
            cursor, page = parse(client.call("SCAN", cursor, "COUNT", "10"))
            rest += page
        assert rest == []
        client.call("FLUSHALL")


# -- OBJECT -------------------------------------------------------------------------------------


def test_object_subcommands(differ) -> None:
    differ.run([("SET", "k", "v"), ("RPUSH", "l", "a")])
    for args in [("OBJECT", "ENCODING", "k"), ("OBJECT", "ENCODING", "missing"),
                 ("OBJECT", "REFCOUNT", "k"), ("OBJECT", "REFCOUNT", "missing"),
                 ("OBJECT", "FREQ", "k"), ("OBJECT", "IDLETIME", "missing"), ("OBJECT", "foo"),
                 ("OBJECT", "HELP"), ("object", "help"), ("OBJECT", "encoding", "k"),
                 ("OBJECT", "ENCODING", "l")]:
        differ.check(*args)
    ref, ours = differ.both("OBJECT", "IDLETIME", "k")
    assert ref.startswith(b":") and ours.startswith(b":")


# -- keyspace statistics ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ("GET", "present"), ("GET", "nope"), ("TTL", "present"), ("TTL", "nope"), ("PTTL", "nope"),
    ("EXPIRETIME", "nope"), ("PEXPIRETIME", "present"), ("TYPE", "present"), ("TYPE", "nope"),
    ("EXISTS", "present", "nope"), ("TOUCH", "present", "nope"), ("STRLEN", "nope"),
    ("GETRANGE", "nope", "0", "1"), ("MGET", "present", "nope"), ("GETEX", "present"),
    ("GETEX", "nope"), ("GETDEL", "nope"), ("GETDEL", "present"), ("GETSET", "present", "2"),
    ("GETSET", "nope", "2"), ("SET", "present", "2", "GET"), ("SET", "nope", "2", "GET"),
    ("SET", "present", "2"), ("INCR", "present"), ("APPEND", "present", "x"),
    ("SETRANGE", "present", "0", "x"), ("SETNX", "present", "1"), ("MSETNX", "present", "1"),
    ("EXPIRE", "present", "10"), ("PERSIST", "present"), ("COPY", "present", "x"),
    ("COPY", "nope", "x"), ("MOVE", "present", "1"), ("RENAME", "present", "x"),
    ("RENAMENX", "present", "x"), ("OBJECT", "ENCODING", "present"),
    ("OBJECT", "ENCODING", "nope"), ("OBJECT", "REFCOUNT", "present"), ("DEL", "present", "nope"),
    ("KEYS", "*"), ("SCAN", "0"), ("SCAN", "0", "TYPE", "string"),
    ("SCAN", "0", "TYPE", "list", "MATCH", "x*"), ("RANDOMKEY",), ("DBSIZE",),
    ("INCRBYFLOAT", "present", "1"), ("SUBSTR", "present", "0", "1"),
])
def test_keyspace_hits_and_misses(differ, command) -> None:
    differ.run([("SET", "present", "1"), ("CONFIG", "RESETSTAT"), command])
    ref, ours = keys_info(differ)
    assert ours == ref


def test_expired_keys_statistic(differ) -> None:
    ref, ours = differ.pairs[2]
    for client in (ref, ours):
        client.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        differ.run([("SET", k, "1", "PX", "1") for k in "abcdefghijk"]
                   + [("SET", "l", "1"), ("SET", "m", "1"), ("CONFIG", "RESETSTAT")])
        time.sleep(0.02)
        differ.run([
            ("DBSIZE",), ("KEYS", "[al]"), ("DBSIZE",), ("EXISTS", "a"), ("TTL", "b"),
            ("TYPE", "c"),
            ("SET", "d", "2"), ("EXPIRE", "e", "100"), ("RENAME", "f", "z"), ("COPY", "g", "y"),
            ("MOVE", "h", "1"), ("GETEX", "i"), ("SETNX", "j", "1"), ("INCR", "k"),
            ("GETEX", "l", "PXAT", "1"), ("EXPIRE", "m", "-1"), ("SET", "n", "1", "PXAT", "1"),
            ("DBSIZE",),
        ])
        ref_stats, our_stats = keys_info(differ)
        assert our_stats == ref_stats
    finally:
        for client in (ref, ours):
            client.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_read_replies_in_both_protocols(differ) -> None:
    differ.run([("SET", "k", "v"), ("EXPIREAT", "k", "4102444800"), ("SET", "p", "1")])
    for args in [("EXISTS", "k", "missing"), ("TYPE", "k"), ("TYPE", "missing"), ("TTL", "p"),
                 ("TTL", "missing"), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("KEYS", "k"),
                 ("KEYS", "nothing*"), ("SCAN", "0", "MATCH", "k"), ("DBSIZE",),
                 ("RENAMENX", "k", "p"), ("COPY", "k", "p"), ("MOVE", "missing", "1"),
                 ("RENAME", "missing", "x"), ("OBJECT", "ENCODING", "p"), ("SWAPDB", "2", "3"),
                 ("SELECT", "0"), ("FLUSHDB", "foo")]:
        differ.check(*args)
