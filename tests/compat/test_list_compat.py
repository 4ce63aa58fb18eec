"""List commands: raw replies identical to a real Redis 7.0, RESP2 and RESP3.

Scripts with writes run on the RESP2 connections (each write once); read-only and
idempotent commands (pops of missing keys, errors) are checked on both versions.
Beyond replies: keyspace hit/miss counts, the dirty counter (what would be
propagated) and WATCH invalidation. The last part is a hypothesis state machine
sending random list command sequences to both servers.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from support.machines import run_against_both
from support.raw import RawClient

LLONG_MAX, LLONG_MIN = "9223372036854775807", "-9223372036854775808"
TOO_BIG = "9223372036854775808"


def reads(differ, *commands: tuple) -> None:
    """Check read-only (or idempotent) commands on both protocol versions."""
    for command in commands:
        differ.check(*command)


def info_int(client: RawClient, section: str, field: str) -> int:
    text = client.call("INFO", section).decode()
    return int(re.search(rf"^{field}:(\d+)\r$", text, re.M).group(1))


# -- arity, types, errors ---------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("LPUSH", "l"), ("RPUSH", "l"), ("LPUSHX", "l"), ("RPUSHX", "l"), ("LPOP",), ("RPOP",),
    ("LPOP", "l", "1", "2"), ("RPOP", "l", "1", "2"), ("LLEN",), ("LLEN", "a", "b"),
    ("LINDEX", "l"), ("LINDEX", "l", "0", "1"), ("LSET", "l", "0"), ("LINSERT", "l", "BEFORE", "a"),
    ("LRANGE", "l", "0"), ("LTRIM", "l", "0"), ("LREM", "l", "0"), ("LPOS", "l"),
    ("LMOVE", "a", "b", "LEFT"), ("RPOPLPUSH", "a"), ("LMPOP", "1", "l"), ("LMPOP", "1"),
])
def test_arity(differ, args: tuple) -> None:
    differ.check(*args)


def test_wrong_type(differ) -> None:
    differ.run([("SET", "s", "x"), ("RPUSH", "l", "a")])
    reads(differ,
          ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
          ("LPOP", "s"), ("RPOP", "s", "0"), ("LPOP", "s", "-1"), ("LLEN", "s"),
          ("LINDEX", "s", "0"), ("LINDEX", "s", "abc"), ("LSET", "s", "0", "x"),
          ("LSET", "s", "abc", "x"), ("LINSERT", "s", "BEFORE", "a", "b"),
          ("LINSERT", "s", "MIDDLE", "a", "b"), ("LRANGE", "s", "0", "-1"),
          ("LRANGE", "s", "x", "-1"), ("LTRIM", "s", "0", "-1"), ("LREM", "s", "0", "a"),
          ("LREM", "s", "x", "a"), ("LPOS", "s", "a"), ("LPOS", "s", "a", "RANK", "0"),
          ("LPOS", "s", "a", "COUNT", "x"), ("LMOVE", "s", "l", "LEFT", "LEFT"),
          ("LMOVE", "missing", "s", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "l"),
          ("LMPOP", "1", "s", "LEFT"), ("LMPOP", "2", "missing", "s", "LEFT"),
          ("LMPOP", "2", "s", "l", "LEFT"), ("LMPOP", "1", "s", "UP"),
          ("LRANGE", "l", "0", "-1"))


def test_integer_arguments(differ) -> None:
    differ.run([("RPUSH", "l", "a", "b", "c")])
    bad = ["abc", "1.5", "", " 1", "+1", "01", TOO_BIG, "-9223372036854775809"]
    for value in bad:
        reads(differ, ("LINDEX", "l", value), ("LINDEX", "missing", value),
              ("LRANGE", "l", value, "1"), ("LRANGE", "l", "0", value),
              ("LRANGE", "missing", value, "1"), ("LSET", "l", value, "x"),
              ("LSET", "missing", value, "x"), ("LTRIM", "l", value, "1"),
              ("LTRIM", "missing", "0", value), ("LREM", "l", value, "a"),
              ("LREM", "missing", value, "a"), ("LPOP", "l", value), ("RPOP", "missing", value),
              ("LPOS", "l", "a", "RANK", value), ("LPOS", "l", "a", "COUNT", value),
              ("LPOS", "l", "a", "MAXLEN", value), ("LMPOP", value, "l", "LEFT"),
              ("LMPOP", "1", "l", "LEFT", "COUNT", value))
    reads(differ, ("LRANGE", "l", "0", "-1"))


# -- pushes and pops ----------------------------------------------------------------------

def test_push(differ) -> None:
    differ.run([
        ("LPUSHX", "l", "a"), ("RPUSHX", "l", "a", "b"), ("EXISTS", "l"),
        ("LPUSH", "l", "a", "b", "c"), ("RPUSH", "l", "x", "y"), ("LPUSHX", "l", "0"),
        ("RPUSHX", "l", "z", "zz"), ("LRANGE", "l", "0", "-1"), ("LLEN", "l"),
        ("TYPE", "l"), ("OBJECT", "ENCODING", "l"),
    ])


def test_pop_with_and_without_count(differ) -> None:
    differ.run([
        ("RPUSH", "l", "a", "b", "c", "d", "e", "f"), ("LPOP", "l"), ("RPOP", "l"),
        ("LPOP", "l", "0"), ("RPOP", "l", "0"), ("LPOP", "l", "1"), ("RPOP", "l", "2"),
        ("LPOP", "l", LLONG_MAX), ("EXISTS", "l"), ("RPUSH", "l", "a", "b"),
        ("RPOP", "l", "5"), ("EXISTS", "l"), ("RPUSH", "l", "a"), ("LPOP", "l"),
        ("EXISTS", "l"),
    ])
    reads(differ, ("LPOP", "missing"), ("RPOP", "missing"), ("LPOP", "missing", "0"),
          ("LPOP", "missing", "3"), ("RPOP", "missing", LLONG_MAX), ("LPOP", "missing", "-1"),
          ("LPOP", "missing", "x"))


# -- indexes and ranges -----------------------------------------------------------------

INDEXES = ["0", "1", "2", "4", "5", "6", "-1", "-2", "-5", "-6", "-7", "100", "-100",
           LLONG_MAX, LLONG_MIN]


def test_lindex_lset(differ) -> None:
    differ.run([("RPUSH", "l", "a", "b", "c", "d", "e")])
    reads(differ, *[("LINDEX", "l", index) for index in INDEXES],
          ("LINDEX", "missing", "0"), ("LSET", "missing", "0", "x"))
    differ.run([("LSET", "l", index, "v" + index) for index in INDEXES]
               + [("LRANGE", "l", "0", "-1")])


def test_lrange(differ) -> None:
    differ.run([("RPUSH", "l", "a", "b", "c", "d", "e")])
    reads(differ, *[("LRANGE", "l", start, stop) for start in INDEXES for stop in INDEXES],
          ("LRANGE", "missing", "0", "-1"))


@pytest.mark.parametrize("start", INDEXES)
def test_ltrim(differ, start: str) -> None:
    script = []
    for stop in INDEXES:
        script += [("DEL", "l"), ("RPUSH", "l", "a", "b", "c", "d", "e"),
                   ("LTRIM", "l", start, stop), ("LRANGE", "l", "0", "-1"), ("EXISTS", "l")]
    differ.run(script + [("LTRIM", "missing", "0", "1"), ("EXISTS", "missing")])


def test_linsert(differ) -> None:
    differ.run([
        ("LINSERT", "l", "BEFORE", "a", "x"), ("EXISTS", "l"), ("RPUSH", "l", "a", "b", "a"),
        ("LINSERT", "l", "BEFORE", "a", "0"), ("LINSERT", "l", "after", "a", "1"),
        ("LINSERT", "l", "After", "b", "2"), ("LINSERT", "l", "BEFORE", "zz", "x"),
        ("LINSERT", "l", "MIDDLE", "a", "x"), ("LINSERT", "missing", "MIDDLE", "a", "x"),
        ("LINSERT", "l", "BEFORE", "", "x"), ("LRANGE", "l", "0", "-1"),
    ])


# -- LREM and LPOS ----------------------------------------------------------------------

@pytest.mark.parametrize("count", ["0", "1", "2", "-1", "-2", "100", "-100", LLONG_MAX, LLONG_MIN])
def test_lrem(differ, count: str) -> None:
    differ.run([
        ("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"), ("LREM", "l", count, "a"),
        ("LRANGE", "l", "0", "-1"), ("LREM", "l", count, "zz"), ("LREM", "l", count, "b"),
        ("LRANGE", "l", "0", "-1"), ("LREM", "l", "0", "a"), ("LREM", "l", "0", "c"),
        ("EXISTS", "l"), ("LREM", "missing", count, "a"),
    ])


def test_lpos_options(differ) -> None:
    differ.run([("RPUSH", "l", "a", "b", "c", "a", "b", "c", "a")])
    ranks = ["1", "2", "3", "4", "-1", "-2", "-3", "-4", LLONG_MAX, "-9223372036854775807",
             LLONG_MIN]
    counts = [None, "0", "1", "2", "5", LLONG_MAX]
    maxlens = [None, "0", "1", "4", "7", LLONG_MAX]
    commands = []
    for rank in ranks:
        for count in counts:
            for maxlen in maxlens:
                command = ["LPOS", "l", "a", "RANK", rank]
                if count is not None:
                    command += ["COUNT", count]
                if maxlen is not None:
                    command += ["MAXLEN", maxlen]
                commands.append(tuple(command))
    reads(differ, *commands, ("LPOS", "l", "a"), ("LPOS", "l", "c", "COUNT", "0"),
          ("LPOS", "l", "z"), ("LPOS", "l", "z", "COUNT", "0"), ("LPOS", "missing", "a"),
          ("LPOS", "missing", "a", "COUNT", "1"), ("LPOS", "l", "a", "rank", "2", "count", "1"),
          ("LPOS", "l", "a", "RANK", "1", "RANK", "-1"))


@pytest.mark.parametrize("args", [
    ("RANK", "0"), ("RANK", "abc"), ("RANK", TOO_BIG), ("RANK",), ("COUNT", "-1"), ("COUNT", "x"),
    ("COUNT",), ("MAXLEN", "-1"), ("MAXLEN", "x"), ("MAXLEN",), ("FOO", "1"), ("COUNT", "1", "X"),
    ("RANK", "1", "RANK", "0"), ("COUNT", "1", "MAXLEN", "-5"), ("RANK", "0", "COUNT", "-1"),
])
def test_lpos_errors(differ, args: tuple) -> None:
    differ.run([("RPUSH", "l", "a")])
    reads(differ, ("LPOS", "l", "a", *args), ("LPOS", "missing", "a", *args))


# -- LMOVE, RPOPLPUSH, LMPOP ---------------------------------------------------------------

@pytest.mark.parametrize("ends", [("LEFT", "LEFT"), ("LEFT", "RIGHT"), ("RIGHT", "LEFT"),
                                  ("right", "right")])
def test_lmove(differ, ends: tuple[str, str]) -> None:
    differ.run([
        ("RPUSH", "src", "a", "b", "c"), ("LMOVE", "src", "dst", *ends),
        ("LMOVE", "src", "dst", *ends), ("LMOVE", "src", "src", *ends),
        ("LRANGE", "src", "0", "-1"), ("LMOVE", "src", "dst", *ends), ("EXISTS", "src"),
        ("LRANGE", "dst", "0", "-1"), ("LMOVE", "src", "dst", *ends),
        ("LMOVE", "dst", "dst", *ends), ("LRANGE", "dst", "0", "-1"),
    ])


def test_move_onto_itself_and_onto_the_wrong_type(differ) -> None:
    differ.run([
        ("RPUSH", "one", "x"), ("RPOPLPUSH", "one", "one"), ("EXISTS", "one"),
        ("LMOVE", "one", "one", "LEFT", "RIGHT"), ("LRANGE", "one", "0", "-1"),
        ("SET", "s", "str"), ("LMOVE", "one", "s", "LEFT", "LEFT"), ("RPOPLPUSH", "one", "s"),
        ("LRANGE", "one", "0", "-1"), ("GET", "s"), ("LMOVE", "missing", "s", "LEFT", "LEFT"),
        ("LMOVE", "one", "one", "UP", "LEFT"), ("LMOVE", "one", "one", "LEFT", "DOWN"),
        ("LMOVE", "missing", "s", "UP", "LEFT"), ("RPOPLPUSH", "one", "other"),
        ("EXISTS", "one"), ("LRANGE", "other", "0", "-1"), ("RPOPLPUSH", "missing", "other"),
    ])


def test_lmpop(differ) -> None:
    differ.run([
        ("RPUSH", "b", "1", "2", "3", "4", "5"), ("LMPOP", "2", "a", "b", "LEFT"),
        ("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"), ("LMPOP", "1", "b", "left", "count", "1"),
        ("LMPOP", "3", "b", "b", "a", "RIGHT", "COUNT", LLONG_MAX), ("EXISTS", "b"),
        ("RPUSH", "a", "x"), ("RPUSH", "c", "y"), ("LMPOP", "2", "c", "a", "LEFT"),
    ])
    reads(differ, ("LMPOP", "1", "missing", "LEFT"), ("LMPOP", "2", "m1", "m2", "RIGHT", "COUNT", "3"))


@pytest.mark.parametrize("args", [
    ("0", "l", "LEFT"), ("-1", "l", "LEFT"), ("abc", "l", "LEFT"), (TOO_BIG, "l", "LEFT"),
    (LLONG_MAX, "l", "LEFT"), ("2147483648", "l", "LEFT"), ("2", "l", "LEFT"),
    ("1", "l", "MIDDLE"), ("1", "l", "LEFT", "COUNT"), ("1", "l", "LEFT", "COUNT", "0"),
    ("1", "l", "LEFT", "COUNT", "-1"), ("1", "l", "LEFT", "COUNT", "x"),
    ("1", "l", "LEFT", "COUNT", "1", "COUNT", "2"), ("1", "l", "LEFT", "COUNT", "0", "X"),
    ("1", "l", "LEFT", "X", "COUNT", "0"), ("1", "l", "LEFT", "COUNT", "1", "X"),
    ("1", "l", "LEFT", "FOO", "1"), ("0", "l", "MIDDLE", "COUNT", "0"),
])
def test_lmpop_errors(differ, args: tuple) -> None:
    differ.run([("RPUSH", "l", "a")])
    reads(differ, ("LMPOP", *args), ("LLEN", "l"))


# -- values -------------------------------------------------------------------------------

def test_binary_and_integer_like_elements(differ) -> None:
    blob = bytes(range(256)) + b"\r\n"
    differ.run([
        ("RPUSH", "l", blob, b"", b"\x00", "1", "01", "-0", "1.0", "x" * 10000),
        ("LRANGE", "l", "0", "-1"), ("LPOS", "l", "1"), ("LPOS", "l", "01"),
        ("LPOS", "l", b""), ("LPOS", "l", b"\x00"), ("LINSERT", "l", "AFTER", "1", blob),
        ("LREM", "l", "0", "01"), ("LREM", "l", "1", blob), ("LINDEX", "l", "-1"),
        ("LRANGE", "l", "0", "-1"),
    ])


def test_large_list(differ) -> None:
    """Bigger than one quicklist node, so any position-dependent path is exercised."""
    items = [str(n % 7) for n in range(3000)]
    differ.run([("RPUSH", "l", *items[i:i + 500]) for i in range(0, 3000, 500)] + [
        ("LINDEX", "l", "1500"), ("LINDEX", "l", "-2999"), ("LRANGE", "l", "1400", "1420"),
        ("LRANGE", "l", "-30", "-10"), ("LPOS", "l", "3", "RANK", "-100", "COUNT", "3"),
        ("LPOS", "l", "6", "COUNT", "0", "MAXLEN", "100"), ("LREM", "l", "5", "2"),
        ("LREM", "l", "-5", "3"), ("LSET", "l", "2000", "x"), ("LINSERT", "l", "BEFORE", "x", "y"),
        ("LTRIM", "l", "10", "-10"), ("LLEN", "l"), ("LRANGE", "l", "1980", "2000"),
        ("LREM", "l", "0", "4"), ("LLEN", "l"), ("LPOP", "l", "1000"), ("RPOP", "l", "10"),
        ("LRANGE", "l", "0", "-1"),
    ])


# -- what the commands touch: stats, dirty counter, WATCH ----------------------------------

SCRIPT = [
    ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "a", "b", "c"), ("LPUSHX", "l", "x", "y"),
    ("RPUSHX", "missing", "x"), ("LLEN", "l"), ("LLEN", "missing"), ("LINDEX", "l", "0"),
    ("LINDEX", "missing", "0"), ("LINDEX", "missing", "x"), ("LRANGE", "l", "0", "1"),
    ("LRANGE", "missing", "0", "1"), ("LPOS", "l", "a"), ("LPOS", "missing", "a"),
    ("LPOP", "l"), ("LPOP", "l", "2"), ("RPOP", "l", "0"), ("RPOP", "missing", "3"),
    ("LSET", "l", "0", "z"), ("LINSERT", "l", "BEFORE", "z", "q"),
    ("LINSERT", "l", "BEFORE", "nope", "q"), ("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "1", "-1"),
    ("RPUSH", "l", "a", "a", "a", "b", "a"), ("LREM", "l", "2", "a"), ("LREM", "l", "0", "a"),
    ("LREM", "l", "0", "zz"), ("LMOVE", "l", "m", "LEFT", "RIGHT"),
    ("LMOVE", "m", "m", "LEFT", "RIGHT"), ("RPOPLPUSH", "m", "l"),
    ("LMPOP", "2", "x", "l", "LEFT", "COUNT", "10"), ("RPUSH", "l", "a", "b", "c"),
    ("LTRIM", "l", "5", "10"), ("RPUSH", "l", "a", "b", "c"), ("LPOP", "l", "5"),
    ("SET", "s", "x"), ("LLEN", "s"), ("LRANGE", "s", "0", "1"), ("LPOP", "s"),
]


def test_keyspace_hits_misses_and_dirty_counter(differ) -> None:
    """Reads count hits and misses, writes count each changed element (propagation)."""
    ref, ours = differ.pairs[2]
    for client in (ref, ours):
        client.call("CONFIG", "RESETSTAT")
    for command in SCRIPT:
        before = [info_int(client, "persistence", "rdb_changes_since_last_save")
                  for client in (ref, ours)]
        differ.check(*command, resp=(2,))
        after = [info_int(client, "persistence", "rdb_changes_since_last_save")
                 for client in (ref, ours)]
        assert after[1] - before[1] == after[0] - before[0], command
    for field in ("keyspace_hits", "keyspace_misses"):
        assert info_int(ours, "stats", field) == info_int(ref, "stats", field), field


@pytest.mark.parametrize("command", [
    ("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "1", "0"), ("LSET", "l", "0", "a"),
    ("LREM", "l", "0", "nope"), ("LINSERT", "l", "BEFORE", "nope", "x"), ("LPOP", "l", "0"),
    ("LPUSHX", "l", "x"), ("LMOVE", "l", "l", "LEFT", "LEFT"), ("RPOPLPUSH", "nope", "l"),
    ("LMPOP", "1", "l", "LEFT"), ("LRANGE", "l", "0", "-1"), ("LSET", "l", "5", "x"),
])
def test_watch_invalidation(differ, command: tuple) -> None:
    differ.run([("RPUSH", "l", "a", "b"), ("WATCH", "l"), command, ("MULTI",), ("PING",),
                ("EXEC",)])


def test_resp3_null_shapes(differ) -> None:
    differ.run([("RPUSH", "l", "a")])
    reads(differ, ("LPOP", "missing"), ("LPOP", "missing", "2"), ("RPOP", "missing", "0"),
          ("LINDEX", "missing", "0"), ("LINDEX", "l", "5"), ("LPOS", "l", "z"),
          ("LPOS", "l", "z", "COUNT", "0"), ("LPOS", "missing", "z", "COUNT", "0"),
          ("LMPOP", "1", "missing", "LEFT"), ("LMOVE", "missing", "l", "LEFT", "LEFT"),
          ("RPOPLPUSH", "missing", "l"), ("LRANGE", "missing", "0", "-1"), ("LPOP", "l", "0"))


# -- random sequences ----------------------------------------------------------------------

# Few keys and elements, mostly small numbers: lists grow, elements repeat, and
# ranks, counts and indexes land inside them; the edges still come up.
KEYS = st.sampled_from(["a", "a", "b", "b", "s"])  # "s" is made a string at the start
ELEMENTS = st.sampled_from(["x", "x", "y", "z", "", "1"])
SMALL_INTS = st.sampled_from(["0", "1", "2", "3", "-1", "-2", "-3", "-4"])
INTS = st.one_of(SMALL_INTS, SMALL_INTS, st.sampled_from(
    ["5", "10", "-10", LLONG_MAX, LLONG_MIN, "-9223372036854775807", "abc", TOO_BIG]))
RANKS = st.one_of(st.sampled_from(["1", "2", "3", "-1", "-2", "-3"]), st.sampled_from(
    ["0", "4", "-4", LLONG_MAX, LLONG_MIN, "-9223372036854775807", "abc"]))
SIZES = st.one_of(st.sampled_from(["0", "1", "2", "3", "5"]),
                  st.sampled_from(["-1", LLONG_MAX, "abc", "10"]))
CONTENTS = st.lists(ELEMENTS, max_size=12)
SIDES = st.sampled_from(["LEFT", "RIGHT", "left", "UP"])


class ListsRedisVsTaipan(RuleBasedStateMachine):
    ref: RawClient
    ours: RawClient

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[tuple] = []
        self.dirty_base = (0, 0)

    def send(self, *args: str) -> bytes:
        self.steps.append(args)
        expected, actual = self.ref.call(*args), self.ours.call(*args)
        assert actual == expected, (
            f"after {self.steps[:-1]!r}\n{args!r}\n  redis:  {expected!r}\n  taipan: {actual!r}"
        )
        return expected

    def dirty(self) -> tuple[int, int]:
        return (info_int(self.ref, "persistence", "rdb_changes_since_last_save"),
                info_int(self.ours, "persistence", "rdb_changes_since_last_save"))

    @initialize(first=CONTENTS, second=CONTENTS)
    def start(self, first: list[str], second: list[str]) -> None:
        for client in (self.ref, self.ours):
            client.call("FLUSHALL")
            client.call("CONFIG", "RESETSTAT")
        self.dirty_base = self.dirty()
        self.send("SET", "s", "text")
        for key, elements in (("a", first), ("b", second)):
            if elements:
                self.send("RPUSH", key, *elements)

    @rule(command=st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), key=KEYS,
          elements=st.lists(ELEMENTS, min_size=1, max_size=6))
    def push(self, command: str, key: str, elements: list[str]) -> None:
        self.send(command, key, *elements)

    @rule(key=KEYS, elements=st.lists(ELEMENTS, min_size=1, max_size=6))
    def rpush(self, key: str, elements: list[str]) -> None:
        """Pushes twice as likely as the other rules, against all the ways lists shrink."""
        self.send("RPUSH", key, *elements)

    @rule(command=st.sampled_from(["LPOP", "RPOP"]), key=KEYS, count=st.none() | INTS)
    def pop(self, command: str, key: str, count: str | None) -> None:
        self.send(command, key, *([] if count is None else [count]))

    @rule(key=KEYS, index=INTS)
    def lindex(self, key: str, index: str) -> None:
        self.send("LINDEX", key, index)

    @rule(key=KEYS, index=INTS, element=ELEMENTS)
    def lset(self, key: str, index: str, element: str) -> None:
        self.send("LSET", key, index, element)

    @rule(key=KEYS, where=st.sampled_from(["BEFORE", "AFTER", "after", "MIDDLE"]),
          pivot=ELEMENTS, element=ELEMENTS)
    def linsert(self, key: str, where: str, pivot: str, element: str) -> None:
        self.send("LINSERT", key, where, pivot, element)

    @rule(command=st.sampled_from(["LRANGE", "LTRIM"]), key=KEYS, start=INTS, stop=INTS)
    def ranges(self, command: str, key: str, start: str, stop: str) -> None:
        self.send(command, key, start, stop)

    @rule(key=KEYS, count=INTS, element=ELEMENTS)
    def lrem(self, key: str, count: str, element: str) -> None:
        self.send("LREM", key, count, element)

    @rule(key=KEYS, element=ELEMENTS, rank=st.none() | RANKS, count=st.none() | SIZES,
          maxlen=st.none() | SIZES, order=st.permutations([0, 1, 2]))
    def lpos(self, key: str, element: str, rank: str | None, count: str | None,
             maxlen: str | None, order: list[int]) -> None:
        options = [("RANK", rank), ("COUNT", count), ("MAXLEN", maxlen)]
        args = [part for n in order if options[n][1] is not None for part in options[n]]
        self.send("LPOS", key, element, *args)

    @rule(source=KEYS, destination=KEYS, wherefrom=SIDES, whereto=SIDES)
    def lmove(self, source: str, destination: str, wherefrom: str, whereto: str) -> None:
        self.send("LMOVE", source, destination, wherefrom, whereto)

    @rule(source=KEYS, destination=KEYS)
    def rpoplpush(self, source: str, destination: str) -> None:
        self.send("RPOPLPUSH", source, destination)

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3), side=SIDES,
          count=st.none() | INTS, numkeys_delta=st.sampled_from([0, 0, 0, 1, -1]))
    def lmpop(self, keys: list[str], side: str, count: str | None, numkeys_delta: int) -> None:
        self.send("LMPOP", str(len(keys) + numkeys_delta), *keys, side,
                  *([] if count is None else ["COUNT", count]))

    @rule(command=st.sampled_from(["LLEN", "EXISTS", "TYPE"]), key=KEYS)
    def inspect(self, command: str, key: str) -> None:
        self.send(command, key)

    @rule()
    def counters(self) -> None:
        """Same writes counted (propagation) and the same keyspace hits and misses."""
        now = self.dirty()
        assert now[1] - self.dirty_base[1] == now[0] - self.dirty_base[0], f"{self.steps!r}"
        for field in ("keyspace_hits", "keyspace_misses"):
            assert (info_int(self.ours, "stats", field) == info_int(self.ref, "stats", field)), (
                f"{field} after {self.steps!r}")

    @invariant()
    def same_contents(self) -> None:
        if self.steps:
            for key in ("a", "b"):
                expected = self.ref.call("LRANGE", key, "0", "-1")
                assert self.ours.call("LRANGE", key, "0", "-1") == expected, f"{self.steps!r}"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_random_list_sequences(real_redis, taipan) -> None:
    run_against_both(ListsRedisVsTaipan, real_redis.port, taipan.port, examples=150, steps=25)
