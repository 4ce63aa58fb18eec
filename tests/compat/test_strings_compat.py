"""String and counter commands: raw replies identical to a real Redis 7.0."""

from __future__ import annotations

import pytest
from support.raw import RawClient

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
BIG = "9223372036854775808"


def make_list(differ, key: str) -> None:
    """Create a non-string key on both servers, or skip while Taipan has no lists."""
    ref, ours = differ.pairs[2]
    ref.call("DEL", key)
    ours.call("DEL", key)
    ref.call("RPUSH", key, "x")
    if ours.call("RPUSH", key, "x").startswith(b"-ERR unknown command"):
        pytest.skip("WRONGTYPE cases need a non-string type (lists not implemented yet)")


# -- GET / SET ---------------------------------------------------------------------


def test_get_set_basics(differ) -> None:
    differ.run([
        ("GET", "missing"), ("SET", "k", "v"), ("GET", "k"), ("SET", "k", ""), ("GET", "k"),
        ("SET", "", "empty-key"), ("GET", ""), ("SET", b"bin\x00\r\n\xff", b"\x00\xff\r\n"),
        ("GET", b"bin\x00\r\n\xff"), ("set", "lower", "1"), ("GeT", "lower"),
    ])
    differ.check("GET", "k")
    differ.check("GET", b"bin\x00\r\n\xff")


@pytest.mark.parametrize("args", [
    ("SET",), ("SET", "k"), ("GET",), ("GET", "a", "b"), ("SETNX", "k"), ("SETEX", "k", "1"),
    ("PSETEX", "k", "1"), ("GETSET", "k"), ("GETDEL",), ("GETDEL", "a", "b"), ("GETEX",),
    ("MGET",), ("MSET", "a"), ("MSET", "a", "1", "b"), ("MSETNX", "a"), ("MSETNX", "a", "1", "b"),
    ("APPEND", "k"), ("STRLEN",), ("GETRANGE", "k", "0"), ("SUBSTR", "k", "0"),
    ("SETRANGE", "k", "0"), ("INCR",), ("INCR", "a", "b"), ("DECR",), ("INCRBY", "k"),
    ("DECRBY", "k", "1", "2"), ("INCRBYFLOAT", "k"), ("INCRBYFLOAT", "k", "1", "2"),
])
def test_wrong_arity(differ, args) -> None:
    differ.check(*args)


def test_set_conditions(differ) -> None:
    differ.run([
        ("SET", "k", "v", "XX"), ("GET", "k"), ("SET", "k", "v", "NX"), ("SET", "k", "w", "NX"),
        ("GET", "k"), ("SET", "k", "w", "XX"), ("GET", "k"), ("SET", "k", "x", "nx"),
        ("SET", "k", "x", "xx"), ("SET", "k", "v", "NX", "XX"), ("SET", "k", "v", "XX", "NX"),
        # Repeating an option is accepted by Redis.
        ("SET", "k", "v", "NX", "NX"), ("SET", "k", "v2", "XX", "XX"), ("GET", "k"),
    ])


def test_set_get_option(differ) -> None:
    differ.run([
        ("SET", "k", "1", "GET"), ("SET", "k", "2", "GET"), ("SET", "k", "3", "get", "GET"),
        ("SET", "k", "4", "NX", "GET"), ("GET", "k"), ("SET", "k", "5", "XX", "GET"),
        ("SET", "n", "5", "XX", "GET"), ("EXISTS", "n"), ("SET", "n", "6", "NX", "GET"),
        ("GET", "n"), ("SET", "k", "7", "GET", "EX", "100"), ("TTL", "k"),
        ("SET", "k", "8", "GET", "KEEPTTL"), ("TTL", "k"), ("SET", "k", "9", "GET", "EX", "0"),
        ("GET", "k"),
    ])


def test_set_expire_options(differ) -> None:
    differ.run([
        ("SET", "k", "v", "EX", "100"), ("TTL", "k"), ("SET", "k", "v", "PX", "100000"),
        ("TTL", "k"), ("SET", "k", "v", "EXAT", "4102444800"), ("EXPIRETIME", "k"),
        ("SET", "k", "v", "PXAT", "4102444800123"), ("PEXPIRETIME", "k"),
        ("SET", "k", "v2", "KEEPTTL"), ("PEXPIRETIME", "k"), ("SET", "k", "v3"), ("TTL", "k"),
        ("SET", "k", "v", "ex", "100", "ex", "200"), ("TTL", "k"),
        ("SET", "k", "v", "EX", "abc", "EX", "300"), ("TTL", "k"),
        ("SET", "k", "v", "PX", "1000000", "KEEPTTL"), ("SET", "k", "v", "KEEPTTL", "KEEPTTL"),
    ])


@pytest.mark.parametrize("opts", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-5"), ("EXAT", "0"), ("PXAT", "-1"),
    ("EX", LLONG_MAX), ("PX", LLONG_MAX), ("EX", "9223372036854775"), ("EX", "9223372036854776"),
    ("EXAT", LLONG_MAX), ("PXAT", LLONG_MAX), ("EX", BIG), ("EX", "abc"), ("EX", "1.5"),
    ("EX", ""), ("EX",), ("PX",), ("EX", "10", "PX", "10"), ("PX", "10", "EX", "10"),
    ("EXAT", "10", "PXAT", "10"), ("EX", "10", "KEEPTTL"), ("KEEPTTL", "EX", "10"),
    ("KEEPTTL", "PXAT", "10"), ("PERSIST",), ("foo",), ("NX", "foo"), ("EX", "10", "GET", "foo"),
    ("EX", "10", "EX"), ("EX", "10", "10"),
])
def test_set_option_errors(differ, opts) -> None:
    differ.check("SET", "k", "v", *opts)


def test_set_expire_in_the_past(differ) -> None:
    differ.run([("SET", "k", "v", "PXAT", "1"), ("GET", "k"), ("EXISTS", "k"),
                ("SET", "k", "v", "EXAT", "1", "GET"), ("GET", "k")])


def test_set_wrongtype(differ) -> None:
    make_list(differ, "l")
    differ.run([
        ("SET", "l", "v", "GET"), ("SET", "l", "v", "NX", "GET"), ("SET", "l", "v", "XX", "GET"),
        ("SET", "l", "v", "GET", "EX", "0"), ("SET", "l", "v", "NX"), ("TYPE", "l"),
        ("GET", "l"), ("GETSET", "l", "v"), ("GETDEL", "l"), ("GETEX", "l"),
        ("GETEX", "l", "EX", "0"), ("APPEND", "l", "x"), ("STRLEN", "l"),
        ("GETRANGE", "l", "0", "1"), ("SETRANGE", "l", "0", "x"), ("SETRANGE", "l", "0", ""),
        ("INCR", "l"), ("INCRBYFLOAT", "l", "1"), ("MGET", "l", "missing"),
        ("SETNX", "l", "v"), ("MSETNX", "l", "v", "other", "v"), ("SET", "l", "v"), ("GET", "l"),
    ])


def test_setnx_setex_psetex(differ) -> None:
    differ.run([
        ("SETNX", "k", "1"), ("SETNX", "k", "2"), ("GET", "k"), ("SETEX", "k", "100", "v"),
        ("TTL", "k"), ("GET", "k"), ("PSETEX", "k", "100000", "w"), ("TTL", "k"), ("GET", "k"),
        ("SETEX", "k", "0", "v"), ("SETEX", "k", "-1", "v"), ("SETEX", "k", "abc", "v"),
        ("SETEX", "k", LLONG_MAX, "v"), ("SETEX", "k", "9223372036854775", "v"),
        ("PSETEX", "k", "0", "v"), ("PSETEX", "k", LLONG_MAX, "v"), ("PSETEX", "k", "1.5", "v"),
        ("GET", "k"), ("setex", "k", "100", "x"), ("GET", "k"),
    ])


# -- GETSET / GETDEL / GETEX -----------------------------------------------------------


def test_getset_getdel(differ) -> None:
    differ.run([
        ("GETSET", "k", "1"), ("GETSET", "k", "2"), ("GET", "k"), ("EXPIRE", "k", "100"),
        ("GETSET", "k", "3"), ("TTL", "k"), ("GETDEL", "k"), ("GETDEL", "k"), ("EXISTS", "k"),
        ("GETDEL", "missing"),
    ])


def test_getex(differ) -> None:
    differ.run([
        ("GETEX", "missing"), ("GETEX", "missing", "EX", "0"), ("GETEX", "missing", "EX", "abc"),
        ("GETEX", "missing", "PERSIST"), ("GETEX", "missing", "foo"),
        ("SET", "k", "v"), ("GETEX", "k"), ("TTL", "k"), ("GETEX", "k", "EX", "100"), ("TTL", "k"),
        ("GETEX", "k", "PERSIST"), ("TTL", "k"), ("GETEX", "k", "PX", "100000"), ("TTL", "k"),
        ("GETEX", "k", "EXAT", "4102444800"), ("EXPIRETIME", "k"),
        ("GETEX", "k", "PXAT", "4102444800123"), ("PEXPIRETIME", "k"),
        ("GETEX", "k", "persist", "PERSIST"), ("TTL", "k"), ("GETEX", "k", "EX", "1", "EX", "200"),
        ("TTL", "k"), ("GETEX", "k", "EXAT", "1"), ("EXISTS", "k"), ("GETEX", "k"),
    ])


@pytest.mark.parametrize("opts", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("EXAT", "0"), ("PXAT", "-5"), ("EX", "abc"),
    ("EX", LLONG_MAX), ("PX", LLONG_MAX), ("EX",), ("PERSIST", "EX", "10"),
    ("EX", "10", "PERSIST"), ("EX", "10", "PX", "10"), ("KEEPTTL",), ("GET",), ("NX",), ("XX",),
    ("foo",), ("EX", "10", "foo"), ("PERSIST", "foo"),
])
def test_getex_option_errors(differ, opts) -> None:
    differ.run([("SET", "k", "v"), ("GETEX", "k", *opts), ("GET", "k")])


# -- MGET / MSET / MSETNX ----------------------------------------------------------------


def test_mget_mset(differ) -> None:
    differ.run([
        ("MSET", "a", "1", "b", "2"), ("MGET", "a", "b", "c"), ("MSET", "a", "3", "a", "4"),
        ("GET", "a"), ("MGET", "a", "a"), ("MSET", "a", "1", "b"), ("MSET", "", ""),
        ("MGET", ""), ("EXPIRE", "a", "100"), ("MSET", "a", "5"), ("TTL", "a"),
    ])


def test_msetnx(differ) -> None:
    differ.run([
        ("MSETNX", "a", "1", "b", "2"), ("MSETNX", "a", "1", "c", "3"), ("EXISTS", "c"),
        ("MSETNX", "c", "1", "c", "2"), ("GET", "c"), ("MSETNX", "d", "1", "e"),
        ("MGET", "a", "b", "c", "d"),
    ])


# -- APPEND / STRLEN / GETRANGE / SETRANGE ------------------------------------------------


def test_append_strlen(differ) -> None:
    differ.run([
        ("APPEND", "k", "abc"), ("APPEND", "k", "def"), ("APPEND", "k", ""), ("GET", "k"),
        ("STRLEN", "k"), ("STRLEN", "missing"), ("APPEND", "n", "12"), ("APPEND", "n", "3"),
        ("INCR", "n"), ("APPEND", "e", ""), ("EXISTS", "e"), ("STRLEN", "e"),
        ("SET", "k", "v", "EX", "100"), ("APPEND", "k", "w"), ("TTL", "k"),
    ])


@pytest.mark.parametrize("start,end", [
    ("0", "4"), ("-5", "-1"), ("-1", "-5"), ("5", "3"), ("-100", "100"), ("100", "200"),
    ("-100", "-50"), ("0", "-100"), ("-3", "2"), ("0", "0"), ("10", "10"), ("11", "11"),
    ("-1", "-1"), ("-11", "-11"), ("-12", "0"), (LLONG_MAX, LLONG_MAX), (LLONG_MIN, LLONG_MAX),
    (LLONG_MIN, LLONG_MIN), ("a", "1"), ("1", "a"), ("1.0", "2"), (BIG, "1"), ("", "1"),
])
def test_getrange(differ, start, end) -> None:
    differ.run([("SET", "s", "Hello World"), ("GETRANGE", "s", start, end),
                ("SUBSTR", "s", start, end), ("GETRANGE", "missing", start, end),
                ("SET", "e", ""), ("GETRANGE", "e", start, end)])


def test_setrange(differ) -> None:
    differ.run([
        ("SET", "s", "Hello World"), ("SETRANGE", "s", "6", "Redis"), ("GET", "s"),
        ("SETRANGE", "s", "20", "X"), ("GET", "s"), ("SETRANGE", "s", "0", ""), ("GET", "s"),
        ("SETRANGE", "s", "-1", "X"), ("SETRANGE", "s", "abc", "X"), ("SETRANGE", "s", "1.5", "X"),
        ("SETRANGE", "new", "0", ""), ("EXISTS", "new"), ("SETRANGE", "new", "5", ""),
        ("EXISTS", "new"), ("SETRANGE", "new", "-1", ""), ("SETRANGE", "new", "3", "ab"),
        ("GET", "new"), ("SETRANGE", "s", "536870911", ""), ("SETRANGE", "s", "536870912", "x"),
        ("SETRANGE", "s2", "536870912", "x"), ("SETRANGE", "s2", LLONG_MAX, "x"),
        ("SETRANGE", "s2", "536870912", ""), ("EXISTS", "s2"), ("SETRANGE", "i", "0", "1"),
        ("SETRANGE", "i", "1", "2"), ("INCR", "i"), ("SET", "t", "v", "EX", "100"),
        ("SETRANGE", "t", "0", "w"), ("TTL", "t"),
    ])


def test_append_beyond_proto_max_bulk_len(differ) -> None:
    ref, ours = differ.pairs[2]
    for client in (ref, ours):
        client.call("CONFIG", "SET", "proto-max-bulk-len", "1048576")
    try:
        differ.run([
            ("SET", "k", "x" * 1048000), ("APPEND", "k", "y" * 576), ("APPEND", "k", "z"),
            ("STRLEN", "k"), ("SETRANGE", "k", "1048575", "ab"), ("SETRANGE", "n", "1048576", "a"),
            ("SETRANGE", "n", "1048575", "a"), ("STRLEN", "n"),
        ])
    finally:
        for client in (ref, ours):
            client.call("CONFIG", "SET", "proto-max-bulk-len", "536870912")


# -- INCR family ---------------------------------------------------------------------------


def test_incr_decr(differ) -> None:
    differ.run([
        ("INCR", "n"), ("INCR", "n"), ("DECR", "n"), ("DECR", "m"), ("INCRBY", "n", "10"),
        ("INCRBY", "n", "-20"), ("DECRBY", "n", "5"), ("DECRBY", "n", "-5"), ("GET", "n"),
        ("incrby", "n", "0"), ("SET", "n", "10", "EX", "100"), ("INCR", "n"), ("TTL", "n"),
        ("INCRBYFLOAT", "n", "1"), ("TTL", "n"),
    ])


@pytest.mark.parametrize("script", [
    [("SET", "n", LLONG_MAX), ("INCR", "n"), ("INCRBY", "n", "0"), ("DECR", "n"), ("GET", "n")],
    [("SET", "n", LLONG_MIN), ("DECR", "n"), ("INCR", "n"), ("INCRBY", "n", "-1")],
    [("SET", "n", LLONG_MIN), ("DECRBY", "n", "1"), ("INCRBY", "n", LLONG_MIN)],
    [("SET", "n", "0"), ("DECRBY", "n", LLONG_MIN), ("INCRBY", "n", LLONG_MIN),
     ("DECRBY", "n", LLONG_MAX), ("DECRBY", "n", "1"), ("GET", "n")],
    [("SET", "n", "-1"), ("DECRBY", "n", LLONG_MAX), ("DECRBY", "n", "1")],
    [("SET", "n", "1"), ("INCRBY", "n", LLONG_MAX), ("GET", "n")],
])
def test_incr_overflow(differ, script) -> None:
    differ.run(script)


@pytest.mark.parametrize("value", [
    " 1", "1 ", "+1", "01", "-0", "00", "1.0", "1e3", "0x10", "", "abc", "12345678901234567890",
    BIG, "-9223372036854775809", "١", "1\x00",
])
def test_incr_not_an_integer(differ, value) -> None:
    differ.run([("SET", "n", value), ("INCR", "n"), ("DECR", "n"), ("INCRBY", "n", "1"),
                ("GET", "n")])
    differ.run([("SET", "m", "5"), ("INCRBY", "m", value), ("DECRBY", "m", value), ("GET", "m")])


# -- INCRBYFLOAT ----------------------------------------------------------------------------


def test_incrbyfloat_formatting(differ) -> None:
    differ.run([
        ("INCRBYFLOAT", "f", "10.5"), ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "3.0e3"),
        ("INCRBYFLOAT", "f", "1.1e-5"), ("INCRBYFLOAT", "f", "5.0e3"), ("INCRBYFLOAT", "f", "-5.0e3"),
        ("GET", "f"), ("SET", "g", "5.0e3"), ("INCRBYFLOAT", "g", "0"), ("SET", "g", "1.5"),
        ("INCRBYFLOAT", "g", "-1.5"), ("INCRBYFLOAT", "g", "-0.0"), ("INCRBYFLOAT", "g", "-1e-30"),
        ("INCRBYFLOAT", "h", "0.1"), ("INCRBYFLOAT", "h", "0.2"), ("INCRBYFLOAT", "h", "-0.3"),
        ("INCRBYFLOAT", "i", "1e18"), ("INCRBYFLOAT", "i", "1.5"), ("INCRBYFLOAT", "j", "1e-17"),
        ("INCRBYFLOAT", "j", "1e-18"), ("INCRBYFLOAT", "k", "123456789.123456789"),
        ("INCRBYFLOAT", "k", "0.000000001"), ("INCRBYFLOAT", "m", "1.7976931348623157e308"),
        ("INCRBYFLOAT", "m", "1.7976931348623157e308"), ("INCRBYFLOAT", "n", "1e400"),
        ("SET", "o", "7"), ("INCRBYFLOAT", "o", "0.5"), ("INCRBYFLOAT", "p", "3"),
    ])


@pytest.mark.parametrize("increment", [
    "0x10", "0X1P-2", "0x.8", "0x8.", "0x1p+1", ".5", "5.", "-.5e1", "1E2", "+1", "00012",
    "1e0005", "inf", "-inf", "+inf", "INFINITY", "Infinity", "nan", "-nan", "nan(123)", "abc",
    "", " 1", "1 ", "\t1", "0x", "0x.p1", ".", "e5", "1e", "1e+", "infinit", "-", "+", "1.2.3",
    "1_0", "1\x00", "1e4932", "1.18973149535723176502e+4932", "1e-4940", "1e-4952", "0x1p-16445",
    "0x1p-16446", "0x1p16383", "1e99999999999", "1e-99999999999", "1" * 5119, "1" * 5120,
    "0." + "1" * 5117,
])
def test_incrbyfloat_parsing(differ, increment) -> None:
    differ.run([("SET", "f", "1"), ("INCRBYFLOAT", "f", increment), ("GET", "f"),
                ("INCRBYFLOAT", "new", increment)])


@pytest.mark.parametrize("stored", [
    "abc", " 1", "1 ", "0x1p3", "inf", "-inf", "nan", "1e400", "1.5e4932", "", "1\x00abc",
    "\x00", "5.0e3", "1" * 5120,
])
def test_incrbyfloat_stored_value(differ, stored) -> None:
    differ.run([("SET", "f", stored), ("INCRBYFLOAT", "f", "1"), ("GET", "f")])


def test_incrbyfloat_long_double_range(differ) -> None:
    differ.run([
        ("INCRBYFLOAT", "x", "0x1p16383"), ("INCRBYFLOAT", "x", "0x1p16383"),
        ("INCRBYFLOAT", "y", "0x1.fffffffffffffffep16383"),
        ("INCRBYFLOAT", "y", "0x0.0000000000000001p16383"),
        ("INCRBYFLOAT", "z", "1e4931"), ("INCRBYFLOAT", "z", "1e4931"), ("STRLEN", "z"),
    ])


# -- OBJECT ENCODING of strings ---------------------------------------------------------------


def test_string_encodings(differ) -> None:
    script: list[tuple] = []
    for i, value in enumerate(["123", "-0", "007", LLONG_MAX, LLONG_MIN, BIG, "a" * 44, "a" * 45,
                               "", " 12", "+12", "12345678901234567890", "1.5"]):
        script += [("SET", f"k{i}", value), ("OBJECT", "ENCODING", f"k{i}")]
    script += [
        ("SET", "r", "a" * 45), ("APPEND", "r", "x"), ("OBJECT", "ENCODING", "r"),
        ("APPEND", "n", "12"), ("OBJECT", "ENCODING", "n"), ("APPEND", "n", "3"),
        ("OBJECT", "ENCODING", "n"), ("SETRANGE", "sr", "0", "12"), ("OBJECT", "ENCODING", "sr"),
        ("MSET", "m1", "12", "m2", "abc"), ("OBJECT", "ENCODING", "m1"),
        ("OBJECT", "ENCODING", "m2"), ("MSETNX", "m3", "12"), ("OBJECT", "ENCODING", "m3"),
        ("SETNX", "s", "12"), ("OBJECT", "ENCODING", "s"), ("SETEX", "s", "100", "12"),
        ("OBJECT", "ENCODING", "s"), ("GETSET", "s", "55"), ("OBJECT", "ENCODING", "s"),
        ("INCRBYFLOAT", "f", "1.5"), ("OBJECT", "ENCODING", "f"), ("INCR", "i"),
        ("OBJECT", "ENCODING", "i"), ("INCRBY", "i", "100000"), ("OBJECT", "ENCODING", "i"),
        ("COPY", "r", "r2"), ("OBJECT", "ENCODING", "r2"), ("RENAME", "r", "r3"),
        ("OBJECT", "ENCODING", "r3"), ("SET", "x", "5"), ("SETRANGE", "x", "0", "6"),
        ("OBJECT", "ENCODING", "x"), ("GETEX", "x", "EX", "100"), ("OBJECT", "ENCODING", "x"),
    ]
    differ.run(script)


def test_string_refcount(differ) -> None:
    differ.run([
        ("SET", "k", "100"), ("OBJECT", "REFCOUNT", "k"), ("SET", "k", "9999"),
        ("OBJECT", "REFCOUNT", "k"), ("SET", "k", "10000"), ("OBJECT", "REFCOUNT", "k"),
        ("SET", "k", "-1"), ("OBJECT", "REFCOUNT", "k"), ("SET", "k", "abc"),
        ("OBJECT", "REFCOUNT", "k"), ("OBJECT", "REFCOUNT", "missing"),
    ])


def test_both_protocols_read_only(differ) -> None:
    """Read replies are compared in RESP2 and RESP3 (nil, bulk, integer forms)."""
    differ.run([("SET", "k", "v"), ("SET", "n", "5"), ("SET", "f", "1.5")])
    for args in [("GET", "k"), ("GET", "missing"), ("MGET", "k", "missing", "n"), ("STRLEN", "k"),
                 ("GETRANGE", "k", "0", "-1"), ("GETRANGE", "missing", "0", "-1"),
                 ("GETEX", "missing"), ("GETDEL", "missing"), ("SET", "k", "v", "GET"),
                 ("SET", "k", "v", "NX"), ("SET", "missing", "v", "XX"), ("INCRBY", "n", "0"),
                 ("INCRBYFLOAT", "f", "0"), ("SETNX", "k", "v"), ("MSETNX", "k", "v")]:
        differ.check(*args)


def test_large_value_roundtrip(differ) -> None:
    value = bytes(range(256)) * 4096
    differ.run([("SET", "big", value), ("STRLEN", "big"), ("GETRANGE", "big", "1000", "1100"),
                ("APPEND", "big", value[:1000]), ("STRLEN", "big")])
    assert differ.check("GET", "big", resp=(2,)).endswith(value[:1000] + b"\r\n")


def test_pipelined_string_commands(real_redis, taipan) -> None:
    """Many commands in one write: the same reply stream, byte for byte."""
    commands = [("SET", f"p{i}", str(i)) for i in range(50)]
    commands += [("INCR", f"p{i}") for i in range(50)] + [("MGET", *[f"p{i}" for i in range(50)])]
    payload = b"".join(RawClient.encode(*c) for c in commands)
    streams = []
    for port in (real_redis.port, taipan.port):
        with RawClient(port) as client:
            client.call("FLUSHALL")
            client.send_raw(payload)
            streams.append(b"".join(client.read_reply() for _ in commands))
            client.call("FLUSHALL")
    assert streams[0] == streams[1]
