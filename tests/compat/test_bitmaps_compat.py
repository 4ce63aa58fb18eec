"""Bitmap commands, BITFIELD and LCS: raw replies identical to a real Redis 7.0."""

from __future__ import annotations

import random

import pytest

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
BIG = "9223372036854775808"
# Bytes with every bit pattern an edge case needs: runs of ones, runs of zeros, mixed.
PATTERN = b"\xff\xf0\x00\x0f\x81\x00\x00\xff\x7e"


def make_list(differ, key: str) -> None:
    """Create a non-string key on both servers, or skip while Taipan has no lists."""
    ref, ours = differ.pairs[2]
    ref.call("DEL", key)
    ours.call("DEL", key)
    ref.call("RPUSH", key, "x")
    if ours.call("RPUSH", key, "x").startswith(b"-ERR unknown command"):
        pytest.skip("WRONGTYPE cases need a non-string type (lists not implemented yet)")


def both(differ, *args) -> None:
    """Run a setup command on both servers (RESP2 connections) without comparing."""
    ref, ours = differ.pairs[2]
    ref.call(*args)
    ours.call(*args)


@pytest.mark.parametrize("args", [
    ("SETBIT",), ("SETBIT", "k", "1"), ("SETBIT", "k", "1", "1", "1"), ("GETBIT", "k"),
    ("GETBIT", "k", "1", "1"), ("BITCOUNT",), ("BITPOS", "k"), ("BITOP", "AND", "d"),
    ("BITOP", "NOT", "d"), ("BITOP",), ("BITFIELD",), ("BITFIELD_RO",), ("LCS", "a"),
    ("LCS",),
])
def test_wrong_arity(differ, args) -> None:
    differ.check(*args)


# -- SETBIT / GETBIT -------------------------------------------------------------------


def test_setbit_getbit(differ) -> None:
    differ.run([
        ("SETBIT", "k", "7", "1"), ("GET", "k"), ("SETBIT", "k", "7", "1"),
        ("SETBIT", "k", "0", "1"), ("GET", "k"), ("SETBIT", "k", "7", "0"), ("GET", "k"),
        ("SETBIT", "k", "100", "1"), ("GET", "k"), ("STRLEN", "k"), ("SETBIT", "k", "100", "0"),
        ("GET", "k"), ("GETBIT", "k", "0"), ("GETBIT", "k", "1"), ("GETBIT", "k", "100"),
        ("GETBIT", "k", "4294967295"), ("GETBIT", "missing", "3"),
        ("SET", "s", "12"), ("SETBIT", "s", "2", "1"), ("GET", "s"), ("OBJECT", "ENCODING", "s"),
        ("SETBIT", "new", "9", "1"), ("OBJECT", "ENCODING", "new"), ("GET", "new"),
    ])


@pytest.mark.parametrize("offset", [
    "-1", "4294967296", LLONG_MAX, BIG, "x", "", " 1", "1 ", "+1", "01", "1.0", "#1", "0x10",
])
def test_bad_offsets(differ, offset: str) -> None:
    differ.check("SETBIT", "k", offset, "1")
    differ.check("GETBIT", "k", offset)
    differ.check("EXISTS", "k")


@pytest.mark.parametrize("value", ["2", "-1", "x", "", "01", " 1", "1.0", BIG, LLONG_MIN])
def test_bad_bit_values(differ, value: str) -> None:
    differ.check("SETBIT", "k", "1", value)
    differ.check("SETBIT", "k", "-1", value)  # the offset is checked first
    differ.check("EXISTS", "k")


def test_offset_limit_follows_proto_max_bulk_len(differ) -> None:
    both(differ, "CONFIG", "SET", "proto-max-bulk-len", "1048576")
    try:
        differ.run([
            ("SETBIT", "k", "8388608", "1"), ("BITFIELD", "k", "SET", "u8", "#1048576", "1"),
            ("SETBIT", "k", "8388607", "1"), ("STRLEN", "k"), ("GETBIT", "k", "8388607"),
            ("BITFIELD", "k", "GET", "u8", "#1048575", "SET", "u8", "#1048575", "7"),
            ("STRLEN", "k"), ("BITCOUNT", "k"),
        ])
    finally:
        both(differ, "CONFIG", "SET", "proto-max-bulk-len", "536870912")


# -- BITCOUNT / BITPOS -----------------------------------------------------------------


RANGES = [
    (), ("0", "-1"), ("0", "0"), ("1", "1"), ("-1", "-1"), ("-2", "-1"), ("-1", "-2"),
    ("2", "1"), ("-100", "100"), ("5", "100"), ("100", "200"), ("-100", "-50"), ("0", "-100"),
    ("3", "-3"), (LLONG_MIN, LLONG_MAX), (LLONG_MAX, LLONG_MIN),
]
BIT_RANGES = [
    ("0", "-1"), ("0", "0"), ("1", "6"), ("3", "3"), ("4", "12"), ("7", "8"), ("5", "60"),
    ("-1", "-1"), ("-9", "-2"), ("-3", "-5"), ("10", "2"), ("70", "100"), ("-1000", "1000"),
    ("8", "15"), ("9", "14"), ("16", "40"), ("17", "17"), ("0", "71"),
]


def test_bitcount_ranges(differ) -> None:
    both(differ, "SET", "p", PATTERN)
    for rng in RANGES:
        differ.check("BITCOUNT", "p", *rng)
        if rng:
            differ.check("BITCOUNT", "p", *rng, "BYTE")
    for rng in BIT_RANGES:
        differ.check("BITCOUNT", "p", *rng, "BIT")
        differ.check("BITCOUNT", "p", *rng, "bit")


def test_bitcount_empty_and_missing(differ) -> None:
    both(differ, "SET", "e", "")
    for args in [(), ("0", "-1"), ("0", "-1", "BIT"), ("1", "2")]:
        differ.check("BITCOUNT", "e", *args)
        differ.check("BITCOUNT", "missing", *args)


@pytest.mark.parametrize("args", [
    ("0",), ("0", "1", "2"), ("a", "b"), ("0", "b"), ("0", "1", "bits"), ("0", "1", "BIT", "x"),
    ("1", "0", "foo"), ("-1", "-2", "foo"), ("-2", "-1", "foo"), ("0", BIG), ("0", "1", ""),
    (b"0", b"1", b"bit\x00x"),
])
def test_bitcount_errors(differ, args) -> None:
    both(differ, "SET", "s", "foobar")
    differ.check("BITCOUNT", "s", *args)
    differ.check("BITCOUNT", "missing", *args)  # a missing key answers 0 before parsing


def test_bitpos_ranges(differ) -> None:
    both(differ, "SET", "p", PATTERN)
    both(differ, "SET", "ones", b"\xff\xff\xff")
    both(differ, "SET", "zeros", b"\x00\x00\x00")
    for key in ("p", "ones", "zeros"):
        for bit in ("0", "1"):
            differ.check("BITPOS", key, bit)
            for rng in RANGES:
                if rng:
                    differ.check("BITPOS", key, bit, rng[0])
                    differ.check("BITPOS", key, bit, *rng)
                    differ.check("BITPOS", key, bit, *rng, "BYTE")
            for rng in BIT_RANGES:
                differ.check("BITPOS", key, bit, *rng, "BIT")


def test_bitpos_empty_and_missing(differ) -> None:
    both(differ, "SET", "e", "")
    for bit in ("0", "1"):
        for args in [(), ("0",), ("0", "-1"), ("0", "-1", "BIT"), ("5", "x", "y")]:
            differ.check("BITPOS", "e", bit, *args)
            differ.check("BITPOS", "missing", bit, *args)


@pytest.mark.parametrize("args", [
    ("2",), ("-1",), ("x",), ("",), ("01",), ("1", "x"), ("1", "0", "x"), ("1", "0", "1", "bits"),
    ("1", "0", "x", "BIT"), ("1", "0", "x", "foo"), ("1", "x", "0", "foo"), ("1", "0", "1", "BIT", "x"),
    ("0", "1", BIG), ("1", "0", "1", ""),
])
def test_bitpos_errors(differ, args) -> None:
    both(differ, "SET", "s", "foobar")
    differ.check("BITPOS", "s", *args)
    differ.check("BITPOS", "missing", *args)


# -- BITOP -----------------------------------------------------------------------------


def test_bitop(differ) -> None:
    both(differ, "SET", "a", b"\xff\x0f\x35")
    both(differ, "SET", "b", b"\x0f\xf0")
    both(differ, "SET", "c", b"\x01")
    for op in ("AND", "OR", "XOR", "and", "Or", "xOr"):
        differ.run([
            ("BITOP", op, "d", "a"), ("GET", "d"), ("BITOP", op, "d", "a", "b"), ("GET", "d"),
            ("BITOP", op, "d", "a", "b", "c"), ("GET", "d"), ("BITOP", op, "d", "b", "missing"),
            ("GET", "d"), ("BITOP", op, "d", "missing", "a"), ("GET", "d"),
            ("BITOP", op, "a2", "a", "a"), ("GET", "a2"), ("OBJECT", "ENCODING", "d"),
        ])
    differ.run([
        ("BITOP", "NOT", "d", "a"), ("GET", "d"), ("BITOP", "not", "d", "c"), ("GET", "d"),
        ("BITOP", "NOT", "d", "d"), ("GET", "d"), ("OBJECT", "ENCODING", "d"),
        ("BITOP", "NOT", "d", "missing"), ("EXISTS", "d"),
        ("SET", "d", "x"), ("BITOP", "AND", "d", "m1", "m2"), ("EXISTS", "d"),
        ("BITOP", "OR", "d", "m1"), ("EXISTS", "d"),
        ("SET", "d", "old", "EX", "100"), ("BITOP", "OR", "d", "a"), ("TTL", "d"),
        ("SET", "n", "12"), ("BITOP", "OR", "d", "n"), ("GET", "d"), ("OBJECT", "ENCODING", "d"),
    ])


@pytest.mark.parametrize("args", [
    ("FOO", "d", "a"), ("NOT", "d", "a", "b"), ("not", "d", "a", "b", "c"), ("", "d", "a"),
    ("ANDX", "d", "a"), (b"and\x00x", "d", "a"), ("NOT", "d", "missing", "missing"),
])
def test_bitop_errors(differ, args) -> None:
    both(differ, "SET", "a", "abc")
    differ.check("BITOP", *args)


# -- BITFIELD --------------------------------------------------------------------------


def test_bitfield_get(differ) -> None:
    both(differ, "SET", "s", "foobar")
    for kind in ("i1", "u1", "i5", "u7", "i8", "u8", "i13", "u31", "i32", "u32", "i63", "u63",
                 "i64"):
        for offset in ("0", "1", "7", "13", "40", "47", "48", "100", "#0", "#1", "#5"):
            differ.check("BITFIELD", "s", "GET", kind, offset)
            differ.check("BITFIELD_RO", "s", "GET", kind, offset)
    differ.check("BITFIELD", "missing", "GET", "i8", "0", "GET", "u63", "100")
    differ.check("EXISTS", "missing")
    differ.check("BITFIELD", "s")
    differ.check("BITFIELD", "s", "OVERFLOW", "SAT")
    differ.check("BITFIELD_RO", "s")


def test_bitfield_set_incrby_wrap(differ) -> None:
    differ.run([
        ("BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0"), ("GET", "k"),
        ("BITFIELD", "k", "INCRBY", "u8", "0", "10", "INCRBY", "i8", "0", "-200"),
        ("BITFIELD", "k", "SET", "i5", "3", "100", "GET", "i5", "3", "GET", "u8", "0"),
        ("BITFIELD", "k", "INCRBY", "u2", "100", "1", "INCRBY", "u2", "100", "1",
         "INCRBY", "u2", "100", "1", "INCRBY", "u2", "100", "1"), ("STRLEN", "k"),
        ("BITFIELD", "k", "SET", "i64", "3", LLONG_MIN, "INCRBY", "i64", "3", "-1",
         "INCRBY", "i64", "3", LLONG_MAX, "INCRBY", "i64", "3", LLONG_MIN),
        ("BITFIELD", "k", "SET", "u63", "#2", LLONG_MAX, "INCRBY", "u63", "#2", "1",
         "SET", "u63", "#2", "-1", "GET", "u63", "#2"),
        ("BITFIELD", "k", "set", "u4", "#9", "31", "incrby", "u4", "#9", LLONG_MIN, "get", "u4", "#9"),
        ("GET", "k"), ("OBJECT", "ENCODING", "k"),
    ])


def test_bitfield_overflow_sat_and_fail(differ) -> None:
    differ.run([
        ("BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "300", "GET", "u8", "0",
         "SET", "u8", "0", "-1", "GET", "u8", "0", "INCRBY", "u8", "0", "-1000",
         "INCRBY", "u8", "0", "1000", "INCRBY", "i8", "0", "1000", "INCRBY", "i8", "0", "-1000"),
        ("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1", "INCRBY", "i8", "0", "-1",
         "SET", "i8", "0", "128", "SET", "i8", "0", "-129", "SET", "i8", "0", "-128",
         "INCRBY", "i8", "0", "-1", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-1"),
        # Quirks of Redis's 64-bit limit arithmetic: values near -2**63 saturate upwards.
        ("BITFIELD", "k", "OVERFLOW", "sat", "SET", "i8", "0", LLONG_MIN, "GET", "i8", "0",
         "SET", "i8", "0", "-9223372036854775681", "GET", "i8", "0",
         "SET", "i8", "0", "-9223372036854775680", "GET", "i8", "0",
         "SET", "i63", "0", LLONG_MIN, "GET", "i63", "0", "SET", "u63", "0", LLONG_MIN),
        ("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", "0", LLONG_MAX,
         "INCRBY", "i64", "0", LLONG_MAX, "INCRBY", "i64", "0", LLONG_MIN,
         "INCRBY", "i64", "0", LLONG_MIN, "INCRBY", "i64", "0", LLONG_MIN),
        ("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1"),
        ("BITFIELD", "k", "OVERFLOW", "WRAP", "OVERFLOW", "FAIL", "SET", "u1", "0", "2",
         "OVERFLOW", "WRAP", "SET", "u1", "0", "2", "GET", "u1", "0"),
        ("GET", "k"),
        # FAIL still creates (and zero-pads) the key, as Redis does.
        ("BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "100", "5"),
        ("EXISTS", "new"), ("STRLEN", "new"),
    ])


def test_bitfield_ro(differ) -> None:
    both(differ, "SET", "s", "foobar")
    for args in [("GET", "i8", "0", "SET", "i8", "0", "1"), ("INCRBY", "u2", "0", "1"),
                 ("OVERFLOW", "FAIL"), ("GET", "u8", "0", "OVERFLOW", "SAT"),
                 ("SET", "i8", "0", "x"), ("get", "I8", "0", "set", "i8", "0", "1")]:
        differ.check("BITFIELD_RO", "s", *args)
        differ.check("BITFIELD_RO", "missing", *args)
    differ.check("GET", "s")
    differ.check("EXISTS", "missing")


@pytest.mark.parametrize("args", [
    ("GET",), ("GET", "i8"), ("GET", "i8", "0", "extra"), ("SET", "i8", "0"),
    ("INCRBY", "i8", "0"), ("OVERFLOW",), ("OVERFLOW", "foo"), ("OVERFLOW", "FAILS"),
    ("FOO", "i8", "0"), ("GET", "I8", "0"), ("GET", "U8", "0"), ("GET", "i65", "0"),
    ("GET", "u64", "0"), ("GET", "i0", "0"), ("GET", "u0", "0"), ("GET", "i", "0"),
    ("GET", "", "0"), ("GET", "i08", "0"), ("GET", "i+8", "0"), ("GET", "i-8", "0"),
    ("GET", "8", "0"), ("GET", "x8", "0"), ("GET", "i8 ", "0"), ("GET", b"i8\x00junk", "0"),
    ("GET", "i8", "-1"), ("GET", "i8", "#-1"), ("GET", "i8", "#"), ("GET", "i8", "##1"),
    ("GET", "i8", "x"), ("GET", "i8", "4294967296"), ("GET", "i8", "#536870912"),
    ("GET", "i8", "#536870911"), ("GET", "i8", "#9223372036854775807"),
    ("GET", "i3", "#3074457345618258603"), ("GET", "i3", "#6148914691236517206"),
    ("SET", "i8", "0", "x"), ("SET", "i8", "x", "1"), ("SET", "i8", "0", BIG),
    ("INCRBY", "u8", "0", "1.5"), ("GET", "i8", "0", "BADOP", "i8", "0"),
    ("SET", "i8", "-1", "1", "GET", "i65", "0"), ("get", "i8", "0", "bad"),
    (b"get\x00x", "u4", "0"), ("OVERFLOW", b"sat\x00x", "INCRBY", "u2", "0", "9"),
])
def test_bitfield_argument_errors(differ, args) -> None:
    both(differ, "SET", "s", "foobar")
    differ.check("BITFIELD", "s", *args)
    differ.check("GET", "s")


# -- WRONGTYPE -------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("SETBIT", "L", "1", "1"), ("SETBIT", "L", "x", "1"), ("SETBIT", "L", "1", "2"),
    ("GETBIT", "L", "1"), ("GETBIT", "L", "x"), ("BITCOUNT", "L"), ("BITCOUNT", "L", "x"),
    ("BITPOS", "L", "1"), ("BITPOS", "L", "2"), ("BITPOS", "L", "1", "x"),
    ("BITOP", "AND", "d", "a", "L"), ("BITOP", "NOT", "d", "L"), ("BITOP", "FOO", "d", "L"),
    ("BITFIELD", "L", "GET", "i8", "0"), ("BITFIELD", "L"), ("BITFIELD", "L", "GET", "x", "0"),
    ("BITFIELD", "L", "SET", "i8", "0", "1"), ("BITFIELD_RO", "L", "GET", "i8", "0"),
    ("BITFIELD_RO", "L", "SET", "i8", "0", "1"),
    ("LCS", "L", "a"), ("LCS", "a", "L"), ("LCS", "L", "a", "BADOPT"),
])
def test_wrong_type(differ, args) -> None:
    make_list(differ, "L")
    both(differ, "SET", "a", "abc")
    differ.check(*args)
    differ.check("TYPE", "L")


def test_bitop_overwrites_any_type(differ) -> None:
    make_list(differ, "L")
    both(differ, "SET", "a", "abc")
    differ.run([("BITOP", "OR", "L", "a"), ("TYPE", "L"), ("GET", "L")])


# -- LCS -------------------------------------------------------------------------------


LCS_OPTIONS = [
    (), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", "4"),
    ("IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"), ("idx", "minmatchlen", "-5", "withmatchlen"),
    ("LEN", "WITHMATCHLEN"), ("LEN", "MINMATCHLEN", "3"), ("WITHMATCHLEN",), ("len", "len"),
    ("IDX", "IDX", "MINMATCHLEN", "1", "MINMATCHLEN", "3"),
]


@pytest.mark.parametrize("options", LCS_OPTIONS)
def test_lcs(differ, options) -> None:
    both(differ, "SET", "k1", "ohmytext")
    both(differ, "SET", "k2", "mynewtext")
    both(differ, "SET", "e", "")
    both(differ, "SET", "r1", "ACCGGTCGAGTGCGCGGAAGCCGGCCGAA")
    both(differ, "SET", "r2", "GTCGTTCGGAATGCCGTTGCTCTGTAAA")
    for a, b in [("k1", "k2"), ("k2", "k1"), ("k1", "k1"), ("k1", "e"), ("e", "k1"),
                 ("missing", "k1"), ("k1", "missing"), ("missing", "missing"), ("r1", "r2")]:
        differ.check("LCS", a, b, *options)


@pytest.mark.parametrize("options", [
    ("LEN", "IDX"), ("IDX", "LEN"), ("MINMATCHLEN",), ("MINMATCHLEN", "x"), ("MINMATCHLEN", BIG),
    ("FOO",), ("IDX", "FOO"), ("IDX", "MINMATCHLEN"), ("IDX", "LEN", "FOO"), (b"idx\x00x",),
])
def test_lcs_errors(differ, options) -> None:
    both(differ, "SET", "k1", "ohmytext")
    differ.check("LCS", "k1", "missing", *options)


def test_lcs_random_strings(differ) -> None:
    rng = random.Random(7)
    for _ in range(60):
        alphabet = rng.choice([b"ab", b"acgt", b"a", bytes(range(256))])
        a = bytes(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 40, 200])))
        b = bytes(rng.choice(alphabet) for _ in range(rng.choice([1, 3, 30, 150])))
        both(differ, "SET", "x", a)
        both(differ, "SET", "y", b)
        differ.check("LCS", "x", "y")
        differ.check("LCS", "x", "y", "IDX", "MINMATCHLEN", str(rng.randint(0, 3)),
                     "WITHMATCHLEN")


# -- randomised sequences --------------------------------------------------------------


def _random_command(rng: random.Random) -> list:
    key = rng.choice(["a", "b", "c"])

    def number() -> str:
        return rng.choice([str(rng.randint(-20, 40)), str(rng.randint(-300, 300)),
                           str(rng.randint(-2**63, 2**63 - 1)), LLONG_MIN, LLONG_MAX])

    def offset() -> str:
        return rng.choice([str(rng.randint(0, 90)), f"#{rng.randint(0, 9)}"])

    def kind() -> str:
        return rng.choice("iu") + str(rng.randint(1, 64))

    choice = rng.randrange(9)
    if choice == 0:
        value = bytes(rng.choice([0, 255, rng.randrange(256)]) for _ in range(rng.randint(0, 9)))
        return ["SET", key, value]
    if choice == 1:
        return ["SETBIT", key, str(rng.randint(0, 90)), rng.choice("01")]
    if choice == 2:
        return ["BITCOUNT", key, number(), number(), rng.choice(["BIT", "BYTE"])]
    if choice == 3:
        extra = [number(), number(), rng.choice(["BIT", "BYTE"])][:rng.randint(0, 3)]
        return ["BITPOS", key, rng.choice("01"), *extra]
    if choice == 4:
        sources = rng.sample(["a", "b", "c", "z"], rng.randint(1, 3))
        return ["BITOP", rng.choice(["AND", "OR", "XOR"]), key, *sources]
    if choice == 5:
        return ["GET", key]
    command = [rng.choice(["BITFIELD", "BITFIELD", "BITFIELD_RO"]), key]
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        if op == 0:
            command += ["GET", kind(), offset()]
        elif op == 1:
            command += ["SET", kind(), offset(), number()]
        elif op == 2:
            command += ["INCRBY", kind(), offset(), number()]
        else:
            command += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
    return command


@pytest.mark.parametrize("seed", range(4))
def test_random_sequences(differ, seed: int) -> None:
    rng = random.Random(seed)
    differ.run([tuple(_random_command(rng)) for _ in range(300)])
