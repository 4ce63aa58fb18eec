"""XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID and XINFO against redis-server.

Writes run once (RESP2), then the resulting state is read back in both protocols.
Node-shaped behaviour (approximate trims, radix-tree counts) is exercised with a small
``stream-node-max-entries`` set on both servers and restored afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

MAX = "18446744073709551615"


@pytest.fixture
def small_nodes(differ) -> Iterator[None]:
    """Both servers with nodes of at most 3 entries (and the default again after)."""
    differ.check("CONFIG", "SET", "stream-node-max-entries", "3", resp=(2,))
    yield
    differ.check("CONFIG", "SET", "stream-node-max-entries", "100", resp=(2,))
    differ.check("CONFIG", "SET", "stream-node-max-bytes", "4096", resp=(2,))


def _fill(differ, key: str, count: int, start_ms: int = 1, fields: int = 1) -> None:
    for n in range(count):
        pairs = []
        for f in range(fields):
            pairs += [f"f{f}", f"v{n}"]
        differ.check("XADD", key, f"{start_ms + n}-{n % 3}", *pairs, resp=(2,))


def _read_back(differ, key: str) -> None:
    differ.check("XLEN", key)
    differ.check("XRANGE", key, "-", "+")
    differ.check("XINFO", "STREAM", key)
    differ.check("XINFO", "STREAM", key, "FULL")


# -- XADD ---------------------------------------------------------------------------

def test_xadd_explicit_ids_and_reads(differ) -> None:
    differ.run([
        ("XADD", "s", "1-1", "a", "1"),
        ("XADD", "s", "1-2", "a", "2", "b", "3"),
        ("XADD", "s", "2", "a", "4"),
        ("XADD", "s", "2-*", "x", "y"),
        ("XADD", "s", "5-*", "x", "y"),
        ("XADD", "s", "5-*", "", ""),
        ("XADD", "s", "  6-7", "k", "v"),
    ])
    _read_back(differ, "s")


@pytest.mark.parametrize("args", [
    ("s", "1-1", "a", "1"),  # equal to the top item
    ("s", "0-5", "a", "1"),
    ("s", "0-0", "a", "1"),
    ("new", "0-0", "a", "1"),
    ("new", "0", "a", "1"),
    ("s", "0-*", "a", "1"),
    ("s", "abc", "a", "1"),
    ("s", "1-x", "a", "1"),
    ("s", "-", "a", "1"),
    ("s", "+", "a", "1"),
    ("s", "1-*-*", "a", "1"),
    ("s", "*-1", "a", "1"),
    ("s", f"{MAX}0-1", "a", "1"),
    ("s", "1-1", "a"),
    ("s", "1-1", "a", "1", "b"),
    ("s", "*", "a", "1", "b"),
    ("s", "2-1", "a", "1", "b"),
    ("s", "NOMKSTREAM", "*", "a"),
    ("s", "MAXLEN", "5", "a", "b"),
    ("s", "MAXLEN", "x", "*", "a", "b"),
    ("s", "MAXLEN", "-1", "*", "a", "b"),
    ("s", "MAXLEN", "~", "-1", "*", "a", "b"),
    ("s", "MAXLEN", "=", "~", "*", "a", "b"),
    ("s", "MAXLEN", "1", "MINID", "1", "*", "a", "b"),
    ("s", "MINID", "1", "MAXLEN", "1", "*", "a", "b"),
    ("s", "MINID", "-", "*", "a", "b"),
    ("s", "MINID", "+", "*", "a", "b"),
    ("s", "MINID", "1-*", "*", "a", "b"),
    ("s", "MINID", "x", "*", "a", "b"),
    ("s", "MAXLEN", "5", "LIMIT", "3", "*", "a", "b"),
    ("s", "MAXLEN", "=", "5", "LIMIT", "3", "*", "a", "b"),
    ("s", "LIMIT", "3", "*", "a", "b"),
    ("s", "LIMIT", "0", "*", "a", "b"),
    ("s", "LIMIT", "-1", "MAXLEN", "~", "1", "*", "a", "b"),
    ("s", "LIMIT", "x", "*", "a", "b"),
    ("s", "MAXLEN", "99999999999999999999", "*", "a", "b"),
    ("s", "FOO", "*", "a", "b"),
    ("s", "maxlen", "limit", "*", "a", "b"),
    ("s", "NOMKSTREAM", "NOMKSTREAM", "1-1", "a", "b"),
    ("s", "1-1\x00", "a", "b"),
    ("k", "*", "a", "b"),  # wrong type
    ("k", "NOMKSTREAM", "*", "a", "b"),
    ("k", "0-0", "a", "b"),  # the ID error comes first
    ("k", "x", "a", "b"),
])
def test_xadd_errors(differ, args: tuple[str, ...]) -> None:
    differ.run([("SET", "k", "v"), ("XADD", "s", "1-1", "a", "1")])
    differ.check("XADD", *args, resp=(2,))
    differ.check("XADD", *args, resp=(3,))
    _read_back(differ, "s")
    differ.check("EXISTS", "new")


def test_xadd_exhausted_and_overflowing_ids(differ) -> None:
    differ.run([
        ("XADD", "s", f"5-{MAX}", "a", "1"),
        ("XADD", "s", "5-*", "a", "1"),  # the sequence would overflow
        ("XADD", "s", "6-*", "a", "1"),
        ("XADD", "s", "4-*", "a", "1"),
        ("XADD", "s", f"{MAX}-{MAX}", "a", "1"),
        ("XADD", "s", "*", "a", "1"),
        ("XADD", "s", f"{MAX}-*", "a", "1"),
        ("XADD", "s", f"{MAX}-{MAX}", "a", "1"),
        ("XLEN", "s"),
        ("XADD", "t", f"{MAX}-*", "a", "1"),
        ("XADD", "t", f"{MAX}-*", "a", "1"),
        ("XADD", "u", f"{MAX}", "a", "1"),
        ("XADD", "u", "5", "a", "1"),
    ])
    _read_back(differ, "s")
    _read_back(differ, "t")


def test_xadd_generated_ids_grow(differ) -> None:
    """Generated IDs can't be compared across servers; their shape and order can."""
    ids = []
    for _ in range(5):
        expected, actual = differ.both("XADD", "s", "*", "a", "1")
        ids.append(actual)
        assert actual.startswith(b"$") and expected.startswith(b"$")
    parsed = [tuple(map(int, reply.split(b"\r\n")[1].split(b"-"))) for reply in ids]
    assert parsed == sorted(parsed) and len(set(parsed)) == 5
    # After a future explicit ID, * continues from it.
    differ.check("XADD", "t", "99999999999999-5", "a", "1", resp=(2,))
    differ.check("XADD", "t", "*", "a", "1", resp=(2,))
    differ.check("XADD", "t", "*", "a", "1", resp=(2,))


def test_xadd_nomkstream(differ) -> None:
    differ.run([
        ("XADD", "s", "NOMKSTREAM", "1-1", "a", "1"),
        ("EXISTS", "s"),
        ("XADD", "s", "NOMKSTREAM", "*", "a", "1"),
        ("XADD", "s", "nomkstream", "MAXLEN", "1", "1-1", "a", "1"),
        ("EXISTS", "s"),
        ("XADD", "s", "1-1", "a", "1"),
        ("XADD", "s", "NOMKSTREAM", "1-2", "a", "1"),
        ("XADD", "s", "MAXLEN", "1", "NOMKSTREAM", "1-3", "a", "1"),
    ])
    _read_back(differ, "s")


def test_xadd_trimming(differ, small_nodes) -> None:
    _fill(differ, "s", 20)
    differ.run([
        ("XADD", "s", "MAXLEN", "15", "100-1", "a", "b"),
        ("XADD", "s", "MAXLEN", "=", "14", "100-2", "a", "b"),
        ("XADD", "s", "MAXLEN", "~", "5", "100-3", "a", "b"),
        ("XADD", "s", "MAXLEN", "~", "5", "LIMIT", "3", "100-4", "a", "b"),
        ("XADD", "s", "MAXLEN", "~", "0", "LIMIT", "0", "100-5", "a", "b"),
        ("XADD", "s", "MINID", "~", "100-3", "100-6", "a", "b"),
        ("XADD", "s", "MINID", "100-5", "100-7", "a", "b"),
        ("XADD", "s", "MINID", "=", "100-6", "100-8", "a", "b"),
        ("XADD", "s", "MAXLEN", "0", "100-9", "a", "b"),
        ("XADD", "s", "MINID", "200", "100-10", "a", "b"),
    ])
    _read_back(differ, "s")


# -- XTRIM ----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("MAXLEN", "10"),
    ("MAXLEN", "=", "7"),
    ("MAXLEN", "~", "7"),
    ("MAXLEN", "~", "10"),
    ("MAXLEN", "~", "0"),
    ("MAXLEN", "~", "0", "LIMIT", "4"),
    ("MAXLEN", "~", "0", "LIMIT", "0"),
    ("LIMIT", "6", "MAXLEN", "~", "1"),
    ("MAXLEN", "0"),
    ("MAXLEN", "100"),
    ("MINID", "5"),
    ("MINID", "5-1"),
    ("MINID", "~", "8"),
    ("MINID", "=", "8-2"),
    ("MINID", "~", "100", "LIMIT", "7"),
    ("MINID", "0"),
    ("MINID", MAX),
    ("maxlen", "3"),
])
def test_xtrim(differ, small_nodes, args: tuple[str, ...]) -> None:
    _fill(differ, "s", 25)
    differ.run([("XDEL", "s", "9-2", "12-2"), ("XTRIM", "s", *args), ("XTRIM", "s", *args)])
    _read_back(differ, "s")


@pytest.mark.parametrize("args", [
    ("s",),
    ("s", "MAXLEN"),
    ("s", "FOO", "1"),
    ("s", "LIMIT", "5"),
    ("s", "LIMIT", "5", "FOO"),
    ("s", "MAXLEN", "5", "LIMIT", "5"),
    ("s", "MAXLEN", "~", "5", "LIMIT", "-1"),
    ("s", "MAXLEN", "-5"),
    ("s", "MAXLEN", "5", "MINID", "5"),
    ("s", "MINID", "*"),
    ("s", "MINID", "5-*"),
    ("s", "MAXLEN", "~", "5", "extra"),
    ("s", "MAXLEN", "5", "NOMKSTREAM"),
    ("s", "MAXLEN", "~"),
    ("s", "MAXLEN", "=", "~"),
    ("missing", "MAXLEN", "0"),
    ("missing", "MAXLEN", "x"),
    ("k", "MAXLEN", "0"),
    ("k", "MAXLEN", "x"),
])
def test_xtrim_errors(differ, args: tuple[str, ...]) -> None:
    differ.run([("SET", "k", "v"), ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "1-2", "a", "1")])
    differ.check("XTRIM", *args)
    _read_back(differ, "s")


def test_default_limit_of_approximate_trims(differ) -> None:
    """Without LIMIT, `~` removes at most 100 * stream-node-max-entries entries."""
    differ.check("CONFIG", "SET", "stream-node-max-entries", "2", resp=(2,))
    try:
        for n in range(250):
            differ.check("XADD", "s", f"{n + 1}-0", "f", "v", resp=(2,))
        differ.check("XTRIM", "s", "MAXLEN", "~", "0", resp=(2,))
        _read_back(differ, "s")
        differ.check("XTRIM", "s", "MINID", "~", "1000", resp=(2,))
        _read_back(differ, "s")
    finally:
        differ.check("CONFIG", "SET", "stream-node-max-entries", "100", resp=(2,))


# -- XRANGE / XREVRANGE -----------------------------------------------------------------

@pytest.mark.parametrize("bounds", [
    ("-", "+"), ("+", "-"), ("2", "5"), ("2-1", "5-0"), ("(2-1", "5"), ("2", "(5-2"),
    ("(2-1", "(2-2"), ("(1-0", "(2-0"), ("0", "0"), ("(0-0", "+"), ("-", "(1-0"),
    (f"({MAX}-{MAX}", "+"), ("-", "(0-0"), ("(0", "+"), (f"({MAX}", "+"), ("-", "(0-0"),
    ("(-", "+"), ("-", "(+"), ("((1", "+"), ("(", "+"), ("-", "("), ("x", "+"), ("-", "y"),
    (f"{MAX}-{MAX}", f"{MAX}-{MAX}"), (f"{MAX}1", "+"), ("1-", "+"), ("-1", "+"),
    ("  3", "+"), ("3-1\x00junk", "+"), ("3" * 130, "+"), (f"{MAX}-0", "+"),
    ("-0", "+"),
])
def test_xrange_bounds(differ, bounds: tuple[str, str]) -> None:
    _fill(differ, "s", 8)
    start, end = bounds
    differ.check("XRANGE", "s", start, end)
    differ.check("XREVRANGE", "s", end, start)
    differ.check("XRANGE", "s", start, end, "COUNT", "2")
    differ.check("XREVRANGE", "s", end, start, "COUNT", "2")


@pytest.mark.parametrize("count_args", [
    ("COUNT", "0"), ("COUNT", "-1"), ("COUNT", "1"), ("COUNT", "3"), ("COUNT", "99999999999"),
    ("COUNT", "9223372036854775807"), ("COUNT", "9223372036854775808"), ("COUNT", "x"),
    ("COUNT",), ("COUNT", "1", "COUNT", "4"), ("COUNT", "1", "FOO"), ("FOO", "1"),
    ("count", "2"), ("COUNT", "1", "COUNT"),
])
def test_xrange_count(differ, count_args: tuple[str, ...]) -> None:
    _fill(differ, "s", 8)
    differ.check("XRANGE", "s", "-", "+", *count_args)
    differ.check("XREVRANGE", "s", "+", "-", *count_args)
    differ.check("XRANGE", "missing", "-", "+", *count_args)
    differ.check("SET", "k", "v", resp=(2,))
    differ.check("XRANGE", "k", "-", "+", *count_args)
    differ.check("XREVRANGE", "k", "+", "-", *count_args)


def test_xrange_across_nodes_and_deletions(differ, small_nodes) -> None:
    _fill(differ, "s", 30, fields=2)
    differ.check("XDEL", "s", "3-2", "4-0", "5-1", "6-2", "20-1", "30-2", resp=(2,))
    rng = random.Random(7)
    for _ in range(40):
        a, b = sorted(rng.sample(range(0, 33), 2))
        start = f"{'(' if rng.random() < 0.3 else ''}{a}-{rng.randint(0, 2)}"
        end = f"{'(' if rng.random() < 0.3 else ''}{b}"
        count = str(rng.randint(1, 6))
        differ.check("XRANGE", "s", start, end, "COUNT", count)
        differ.check("XREVRANGE", "s", end, start, "COUNT", count)
        differ.check("XREVRANGE", "s", end, start)


# -- XDEL / XLEN ------------------------------------------------------------------------

def test_xdel(differ, small_nodes) -> None:
    _fill(differ, "s", 10)
    differ.run([
        ("XDEL", "s", "1-0"),
        ("XDEL", "s", "1-0"),
        ("XDEL", "s", "2-1", "3-2", "3-2", "99-0"),
        ("XDEL", "s", "4"),
        ("XDEL", "s", "4-1", "x"),  # a bad ID deletes nothing
        ("XDEL", "s", "-"),
        ("XDEL", "s", "+"),
        ("XDEL", "s", "5-*"),
        ("XDEL", "missing", "1-0"),
        ("XDEL", "missing", "x"),
        ("SET", "k", "v"),
        ("XDEL", "k", "1-0"),
        ("XDEL", "k", "x"),
        ("XLEN", "k"),
        ("XLEN", "missing"),
        ("XDEL", "s", "10-0", "9-2"),
    ])
    _read_back(differ, "s")
    differ.run([("XDEL", "s", "4-0", "5-1", "6-2", "7-0", "8-1")])
    _read_back(differ, "s")  # emptied: the stream key stays
    differ.check("EXISTS", "s")
    differ.check("XADD", "s", "10-0", "a", "b", resp=(2,))
    differ.check("XADD", "s", "10-1", "a", "b", resp=(2,))
    _read_back(differ, "s")


# -- XSETID -----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("s", "10-0"),
    ("s", "5-2"),
    ("s", "5-1"),
    ("s", "5"),
    ("s", "4-9"),
    ("s", "-"),
    ("s", "+"),
    ("s", "x"),
    ("s", "10-0", "ENTRIESADDED", "100"),
    ("s", "10-0", "ENTRIESADDED", "3"),
    ("s", "10-0", "ENTRIESADDED", "2"),
    ("s", "10-0", "ENTRIESADDED", "-1"),
    ("s", "10-0", "ENTRIESADDED", "x"),
    ("s", "10-0", "ENTRIESADDED"),
    ("s", "10-0", "MAXDELETEDID", "9-0"),
    ("s", "10-0", "MAXDELETEDID", "10-0"),
    ("s", "10-0", "MAXDELETEDID", "10-1"),
    ("s", "10-0", "MAXDELETEDID", "x"),
    ("s", "10-0", "MAXDELETEDID", "0-0"),
    ("s", "10-0", "MAXDELETEDID"),
    ("s", "10-0", "entriesadded", "50", "maxdeletedid", "3-3"),
    ("s", "10-0", "FOO", "1"),
    ("s", "10-0", "MAXDELETEDID", "11", "ENTRIESADDED", "2"),
    ("missing", "1-0"),
    ("missing", "x"),
    ("k", "1-0"),
    ("k", "1-0", "FOO"),
    ("s", f"{MAX}-{MAX}"),
])
def test_xsetid(differ, args: tuple[str, ...]) -> None:
    differ.run([
        ("SET", "k", "v"),
        ("XADD", "s", "1-1", "a", "1"),
        ("XADD", "s", "5-1", "a", "1"),
        ("XADD", "s", "5-2", "a", "1"),
        ("XDEL", "s", "5-2"),
        ("XSETID", *args),
    ])
    _read_back(differ, "s")
    differ.check("XADD", "s", "*", "a", "1", resp=(2,)) if args[1] == f"{MAX}-{MAX}" else None
    differ.check("XADD", "s", "5-*", "a", "1", resp=(2,))
    _read_back(differ, "s")


def test_xsetid_on_empty_stream_goes_back(differ) -> None:
    differ.run([
        ("XADD", "s", "5-0", "a", "1"),
        ("XDEL", "s", "5-0"),
        ("XSETID", "s", "1-0"),
        ("XADD", "s", "2-0", "a", "1"),
    ])
    _read_back(differ, "s")


# -- XINFO ------------------------------------------------------------------------------

def test_xinfo_stream_empty_and_errors(differ) -> None:
    differ.run([
        ("XADD", "s", "1-1", "a", "1"),
        ("XDEL", "s", "1-1"),
        ("SET", "k", "v"),
    ])
    _read_back(differ, "s")
    for args in [
        ("STREAM", "missing"), ("STREAM", "k"), ("GROUPS", "missing"), ("GROUPS", "k"),
        ("CONSUMERS", "missing", "g"), ("CONSUMERS", "k", "g"), ("CONSUMERS", "s", "g"),
        ("CONSUMERS", "s", "g\r\nx"),
        ("STREAM", "s", "FULL", "COUNT"), ("STREAM", "s", "FOO"), ("STREAM", "s", "FULL", "X", "1"),
        ("STREAM", "s", "FULL", "COUNT", "x"), ("STREAM", "s", "FULL", "COUNT", "1", "2"),
        ("STREAM", "missing", "FOO"), ("STREAM",), ("GROUPS",), ("GROUPS", "s", "x"),
        ("CONSUMERS", "s"), ("HELP",), ("HELP", "x"), ("help",), ("FOO", "s"), ("FOO",),
        ("GROUPS", "s"), ("stream", "s", "full", "count", "-5"),
    ]:
        differ.check("XINFO", *args)
    differ.check("XINFO")


def test_xinfo_stream_many_nodes(differ, small_nodes) -> None:
    rng = random.Random(3)
    ms = 1
    for n in range(120):
        ms += rng.choice([0, 0, 1, 3, 255, 70000, 1 << 33])
        fields = ["a", str(n)] if rng.random() < 0.7 else ["b", str(n), "c", "x" * rng.randint(0, 80)]
        differ.check("XADD", "s", f"{ms}-{n}", *fields, resp=(2,))
    ids = differ.check("XRANGE", "s", "-", "+")
    listed = [part for part in ids.split(b"\r\n") if part.count(b"-") == 1
              and part[:1].isdigit() and part.replace(b"-", b"").isdigit()]
    for victim in rng.sample(listed, 50):
        differ.check("XDEL", "s", victim.decode(), resp=(2,))
        differ.check("XINFO", "STREAM", "s")
    for args in [("FULL",), ("FULL", "COUNT", "0"), ("FULL", "COUNT", "5"),
                 ("FULL", "COUNT", "-1"), ("full", "count", "1000")]:
        differ.check("XINFO", "STREAM", "s", *args)
    differ.check("XTRIM", "s", "MAXLEN", "~", "20", resp=(2,))
    _read_back(differ, "s")
    differ.check("XTRIM", "s", "MAXLEN", "7", resp=(2,))
    _read_back(differ, "s")


def test_xinfo_stream_node_size_limit(differ) -> None:
    """Nodes also split where their listpack would pass stream-node-max-bytes."""
    differ.check("CONFIG", "SET", "stream-node-max-bytes", "200", resp=(2,))
    try:
        rng = random.Random(11)
        for n in range(60):
            value = "v" * rng.choice([1, 5, 30, 70, 150, 300])
            differ.check("XADD", "s", f"{n + 1}-0", "field", value, "n", str(n), resp=(2,))
        differ.check("XINFO", "STREAM", "s")
        differ.check("XTRIM", "s", "MAXLEN", "~", "30", resp=(2,))
        differ.check("XINFO", "STREAM", "s")
    finally:
        differ.check("CONFIG", "SET", "stream-node-max-bytes", "4096", resp=(2,))


def _has(differ, command: str) -> bool:
    _, actual = differ.both("COMMAND", "INFO", command)
    return actual[4:7] not in (b"$-1", b"*-1")


def test_xinfo_groups_and_lag(differ) -> None:
    if not _has(differ, "xgroup") or not _has(differ, "xreadgroup"):
        pytest.skip("needs XGROUP and XREADGROUP")
    differ.run([
        ("XADD", "s", "1-0", "a", "1"),
        ("XADD", "s", "2-0", "a", "2"),
        ("XADD", "s", "3-0", "a", "3"),
        ("XADD", "s", "4-0", "a", "4"),
        ("XGROUP", "CREATE", "s", "g1", "0"),
        ("XGROUP", "CREATE", "s", "g2", "$"),
        ("XGROUP", "CREATE", "s", "g3", "2-0"),
        ("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "1"),
    ])
    differ.check("XINFO", "GROUPS", "s")
    differ.check("XINFO", "STREAM", "s")
    differ.check("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s", ">",
                 resp=(2,))
    differ.check("XINFO", "GROUPS", "s")
    differ.run([("XDEL", "s", "3-0")])
    differ.check("XINFO", "GROUPS", "s")
    differ.check("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", ">", resp=(2,))
    differ.check("XINFO", "GROUPS", "s")
    differ.run([("XADD", "s", "5-0", "a", "5"), ("XTRIM", "s", "MAXLEN", "1")])
    differ.check("XINFO", "GROUPS", "s")
    differ.check("XINFO", "CONSUMERS", "s", "nosuch")
    expected, actual = differ.both("XINFO", "CONSUMERS", "s", "g1")
    # idle times differ by the milliseconds between the two servers' commands
    assert expected.split(b"idle")[0] == actual.split(b"idle")[0]


def test_xinfo_help(differ) -> None:
    differ.check("XINFO", "HELP")


@pytest.mark.parametrize("seed", range(6))
def test_random_writes_keep_the_same_stream(differ, seed: int) -> None:
    """Seeded sequences of adds, deletes, trims and XSETIDs on small nodes; the whole
    stream (XINFO STREAM FULL, radix-tree counts included) compared after each step."""
    rng = random.Random(seed)
    differ.check("CONFIG", "SET", "stream-node-max-entries", str(rng.choice([1, 2, 3, 5])),
                 resp=(2,))
    differ.check("CONFIG", "SET", "stream-node-max-bytes", str(rng.choice([0, 60, 4096])),
                 resp=(2,))
    try:
        ms = 0
        for _ in range(150):
            op = rng.random()
            if op < 0.55:
                ms += rng.choice([0, 1, 2, 200, 65536, 1 << 40])
                entry_id = rng.choice([f"{ms}-*", f"{ms}-{rng.randint(0, 3)}", f"{ms}"])
                trim = []
                if rng.random() < 0.15:
                    trim = [rng.choice(["MAXLEN", "MINID"]), rng.choice(["~", "=", ""])]
                    trim = [t for t in trim if t]
                    trim.append(str(rng.randint(0, 20)) if trim[0] == "MAXLEN"
                                else f"{max(ms - rng.randint(0, 500), 0)}")
                    if trim[1] == "~" and rng.random() < 0.5:
                        trim += ["LIMIT", str(rng.randint(0, 6))]
                pairs = ["f", str(rng.randint(-5, 300))] if rng.random() < 0.8 else \
                    ["g", "x" * rng.randint(0, 70), "h", ""]
                differ.check("XADD", "s", *trim, entry_id, *pairs, resp=(2,))
            elif op < 0.8:
                ids = [f"{rng.randint(0, ms)}-{rng.randint(0, 3)}" for _ in range(3)]
                differ.check("XDEL", "s", *ids, resp=(2,))
            elif op < 0.95:
                strategy = rng.choice(["MAXLEN", "MINID"])
                value = str(rng.randint(0, 25)) if strategy == "MAXLEN" else str(
                    rng.randint(0, ms + 1))
                differ.check("XTRIM", "s", strategy, rng.choice(["~", "="]), value, resp=(2,))
            else:
                differ.check("XSETID", "s", f"{ms}-{rng.randint(3, 9)}", resp=(2,))
            differ.check("XINFO", "STREAM", "s", "FULL", "COUNT", "0", resp=(3,))
        _read_back(differ, "s")
    finally:
        differ.check("CONFIG", "SET", "stream-node-max-entries", "100", resp=(2,))
        differ.check("CONFIG", "SET", "stream-node-max-bytes", "4096", resp=(2,))


def _on_redis(differ, *args: str) -> bytes:
    return differ.pairs[2][0].call(*args)


def _copy_to_taipan(differ, key: str) -> None:
    """The stream as Redis built it (groups, consumers, pending entries) restored into
    Taipan, so XINFO's group fields can be compared before XGROUP exists here."""
    raw = _on_redis(differ, "DUMP", key)
    header, _, rest = raw.partition(b"\r\n")
    payload = rest[:int(header[1:])]
    ours = differ.pairs[2][1]
    ours.call("DEL", key)
    reply = ours.call("RESTORE", key, "0", payload)
    if reply != b"+OK\r\n":
        pytest.skip(f"RESTORE of a stream is refused here: {reply!r}")


_LAG_SCENARIOS = {
    "fresh": [],
    "read-some": [("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s", ">")],
    "tombstone-ahead": [("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s",
                         ">"), ("XDEL", "s", "5-0")],
    "tombstone-behind": [("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "s",
                          ">"), ("XDEL", "s", "2-0")],
    "first-deleted": [("XDEL", "s", "1-0")],
    "trimmed": [("XTRIM", "s", "MAXLEN", "3")],
    "all-read-then-added": [("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", ">"),
                            ("XADD", "s", "9-0", "a", "9")],
    "emptied": [("XTRIM", "s", "MAXLEN", "0")],
    "setid-entries": [("XSETID", "s", "20-0", "ENTRIESADDED", "50", "MAXDELETEDID", "15-0")],
    "group-setid": [("XGROUP", "SETID", "g1", "4-0", "ENTRIESREAD", "3")],
}


@pytest.mark.parametrize("scenario", sorted(_LAG_SCENARIOS))
def test_xinfo_groups_lag_rules(differ, scenario: str) -> None:
    setup = [("XADD", "s", f"{n}-0", "a", str(n)) for n in range(1, 8)] + [
        ("XGROUP", "CREATE", "s", "g1", "0"),
        ("XGROUP", "CREATE", "s", "g2", "$"),
        ("XGROUP", "CREATE", "s", "g3", "3-0"),
        ("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "1"),
        ("XGROUP", "CREATECONSUMER", "s", "g2", "idle-one"),
    ]
    for command in setup + _LAG_SCENARIOS[scenario]:
        if command[:2] == ("XGROUP", "SETID"):
            command = ("XGROUP", "SETID", "s", *command[2:])
        assert not _on_redis(differ, *command).startswith(b"-"), command
    _copy_to_taipan(differ, "s")
    differ.check("XINFO", "GROUPS", "s")
    differ.check("XINFO", "STREAM", "s")
    differ.check("XINFO", "STREAM", "s", "FULL")
    differ.check("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    differ.check("XINFO", "CONSUMERS", "s", "nosuch")
    expected, actual = differ.both("XINFO", "CONSUMERS", "s", "g1")
    assert expected.split(b"idle")[0] == actual.split(b"idle")[0]


def test_ranges_inside_scripts(differ) -> None:
    """XRANGE's reply is encoded straight from the stream; scripts still get values."""
    differ.run([("XADD", "lua:s", "1-1", "f", "v"), ("XADD", "lua:s", "2-1", "a", "1", "b", "2")])
    differ.check("EVAL", "return redis.call('xrange', KEYS[1], '-', '+')", "1", "lua:s")
    differ.check("EVAL", "return redis.call('xrevrange', KEYS[1], '+', '-', 'COUNT', 1)", "1",
                 "lua:s")
    differ.check("EVAL", "redis.setresp(3); return redis.call('xrange', KEYS[1], '-', '+')",
                 "1", "lua:s")
    differ.check("EVAL", "return #redis.call('xrange', KEYS[1], '(1-1', '+')", "1", "lua:s")
    differ.check("EVAL", "return redis.call('xread', 'STREAMS', KEYS[1], '0')", "1", "lua:s")
    differ.check("EVAL", "redis.setresp(3); return redis.call('xread', 'STREAMS', KEYS[1], '0')",
                 "1", "lua:s")
