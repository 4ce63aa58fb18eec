"""HyperLogLog against a real Redis: replies, and the stored bytes (GET) at every stage."""

from __future__ import annotations

import random

import pytest
from support.raw import RawClient


def _elements(prefix: str, start: int, stop: int) -> list[bytes]:
    return [f"{prefix}{i}".encode() for i in range(start, stop)]


def _add_pipelined(differ, key: str, elements: list[bytes], chunk: int = 100) -> None:
    """PFADD in batches, pipelined to both servers; every reply must match."""
    ref, ours = differ.pairs[2]
    commands = [RawClient.encode("PFADD", key, *elements[i:i + chunk])
                for i in range(0, len(elements), chunk)]
    for client in (ref, ours):
        client.send_raw(b"".join(commands))
    for _ in commands:
        assert ours.read_reply() == ref.read_reply()


def test_stored_bytes_grow_sparse_to_dense(differ) -> None:
    """10, 100, 1000, 20000 elements: GET and PFCOUNT equal after each stage."""
    differ.check("PFADD", "h", resp=(2,))
    assert differ.check("GET", "h") == b"$18\r\n" + b"HYLL\x01" + bytes(10) + b"\x80\x7f\xff\r\n"
    added = 0
    for stage in (10, 100, 1000, 20000):
        _add_pipelined(differ, "h", _elements("elem:", added, stage))
        added = stage
        differ.check("GET", "h")
        differ.check("PFDEBUG", "ENCODING", "h")
        differ.check("PFCOUNT", "h")
        differ.check("GET", "h")  # the cached cardinality is part of the bytes


def test_one_element_at_a_time_and_repeats(differ) -> None:
    rng = random.Random(7)
    pool = _elements("w", 0, 400)
    for _ in range(500):
        differ.check("PFADD", "one", rng.choice(pool), resp=(2,))
    differ.check("GET", "one")
    differ.check("PFDEBUG", "DECODE", "one")
    differ.check("PFCOUNT", "one")


def test_sparse_limit_follows_config(differ) -> None:
    for max_bytes in ("200", "3000"):
        differ.check("CONFIG", "SET", "hll-sparse-max-bytes", max_bytes)
        differ.check("DEL", "h", resp=(2,))
        _add_pipelined(differ, "h", _elements("x", 0, 300), chunk=7)
        differ.check("GET", "h")
        differ.check("PFDEBUG", "ENCODING", "h")


def test_pfadd_replies(differ) -> None:
    differ.run([
        ("PFADD", "k", "a", "b", "c"), ("PFADD", "k", "a"), ("PFADD", "k"),
        ("PFADD", "k", "a", "d"), ("PFCOUNT", "k"), ("PFCOUNT", "k"), ("PFCOUNT", "missing"),
        ("PFADD", "fresh"), ("PFADD", "fresh"), ("GET", "fresh"), ("PFCOUNT", "fresh"),
        ("GET", "fresh"), ("PFADD", "bin", b"\x00\xff\r\n", b"", b"x" * 1000), ("GET", "bin"),
        ("PFADD",), ("PFCOUNT",), ("TYPE", "k"), ("OBJECT", "ENCODING", "k"),
        ("STRLEN", "k"),
    ])


def test_pfcount_several_keys(differ) -> None:
    _add_pipelined(differ, "a", _elements("a", 0, 50))
    _add_pipelined(differ, "b", _elements("b", 0, 5000))
    _add_pipelined(differ, "c", _elements("a", 25, 3000))
    differ.run([
        ("PFCOUNT", "a", "b"), ("PFCOUNT", "a", "c"), ("PFCOUNT", "a", "b", "c", "nokey"),
        ("PFCOUNT", "nokey", "nokey2"), ("PFCOUNT", "a", "a"), ("GET", "a"), ("GET", "b"),
    ])


def test_pfmerge_sparse_and_dense(differ) -> None:
    _add_pipelined(differ, "s1", _elements("s", 0, 80))
    _add_pipelined(differ, "s2", _elements("s", 40, 200))
    _add_pipelined(differ, "d1", _elements("d", 0, 4000))
    differ.run([
        ("PFMERGE", "m1", "s1", "s2"), ("GET", "m1"), ("PFDEBUG", "ENCODING", "m1"),
        ("PFCOUNT", "m1"), ("PFMERGE", "m2", "s1", "d1"), ("GET", "m2"),
        ("PFDEBUG", "ENCODING", "m2"), ("PFCOUNT", "m2"), ("PFMERGE", "s1", "s2"),
        ("GET", "s1"), ("PFMERGE", "s2", "d1"), ("GET", "s2"), ("PFMERGE", "d1", "s1"),
        ("GET", "d1"), ("PFMERGE", "d1"), ("GET", "d1"), ("PFCOUNT", "d1"),
        ("PFMERGE", "only"), ("GET", "only"), ("PFMERGE", "only", "nokey"), ("GET", "only"),
        ("PFMERGE", "m3", "nokey", "s2", "s2"), ("GET", "m3"),
    ])


def test_pfmerge_sparse_destination_promotes(differ) -> None:
    """Many sparse registers merged into a sparse destination cross the size limit."""
    _add_pipelined(differ, "p1", _elements("p", 0, 700))
    _add_pipelined(differ, "p2", _elements("q", 0, 700))
    differ.run([("PFMERGE", "p1", "p2"), ("GET", "p1"), ("PFDEBUG", "ENCODING", "p1")])
    differ.check("CONFIG", "SET", "hll-sparse-max-bytes", "20000")
    differ.run([("PFMERGE", "big", "p2", "p1"), ("GET", "big"), ("PFCOUNT", "big")])
    differ.check("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_wrong_types_and_invalid_strings(differ) -> None:
    differ.run([
        ("SET", "str", "hello"), ("RPUSH", "list", "a"), ("SET", "int", "12345"),
        ("SET", "shorthdr", "HYLL"), ("SET", "badenc", b"HYLL\x02" + bytes(11) + b"\x7f\xff"),
        ("SET", "shortdense", b"HYLL\x00" + bytes(20)),
    ])
    for key in ("str", "list", "int", "shorthdr", "badenc", "shortdense"):
        differ.run([
            ("PFADD", key, "x"), ("PFCOUNT", key), ("PFCOUNT", key, "nokey"),
            ("PFCOUNT", "nokey", key), ("PFMERGE", key, "nokey"), ("PFMERGE", "dst", key),
            ("PFDEBUG", "GETREG", key), ("EXISTS", "dst"),
        ])


@pytest.mark.parametrize("ops", [
    b"\x7f\xff\x00",  # one register too many
    b"\x7f\xfe",  # one register short
    b"\x7f\xff\x80",  # a VAL past the end
    b"\x7f",  # truncated XZERO (reads the terminator as its second byte)
    b"\x80" * 20,
    b"",
])
def test_corrupted_sparse(differ, ops: bytes) -> None:
    value = b"HYLL\x01" + bytes(10) + b"\x80" + ops
    differ.run([
        ("SET", "bad", value), ("PFCOUNT", "bad"), ("PFCOUNT", "bad", "nokey"),
        ("PFMERGE", "dst", "bad"), ("GET", "dst"), ("PFDEBUG", "DECODE", "bad"),
        ("PFDEBUG", "TODENSE", "bad"), ("GET", "bad"), ("PFADD", "bad", "a", "b", "c"),
        ("GET", "bad"), ("DEL", "dst"),
    ])


def test_cached_cardinality_is_trusted(differ) -> None:
    differ.run([
        ("SET", "c", b"HYLL\x01\x00\x00\x00" + b"\x07" + bytes(7) + b"\x7f\xff"),
        ("OBJECT", "ENCODING", "c"), ("PFCOUNT", "c"), ("OBJECT", "ENCODING", "c"),
        ("SET", "c", b"HYLL\x01xxxxxxxxxxx\x7f\xff"), ("PFCOUNT", "c"),
        ("PFADD", "c", "a"), ("PFCOUNT", "c"), ("GET", "c"),
    ])


def test_pfdebug(differ) -> None:
    _add_pipelined(differ, "h", _elements("e", 0, 30))
    differ.run([
        ("PFDEBUG", "DECODE", "h"), ("PFDEBUG", "ENCODING", "h"), ("PFDEBUG", "GETREG", "h"),
        ("PFDEBUG", "ENCODING", "h"), ("PFDEBUG", "DECODE", "h"), ("PFDEBUG", "TODENSE", "h"),
        ("GET", "h"), ("PFDEBUG", "nosuch", "h"), ("PFDEBUG", "nosuch", "nokey"),
        ("PFDEBUG", "decode", "nokey"), ("PFDEBUG", "GETREG"), ("PFDEBUG", "todense", "h", "x"),
        ("PFADD", "h2", "a"), ("PFDEBUG", "todense", "h2"), ("PFDEBUG", "TODENSE", "h2"),
        ("GET", "h2"), ("PFCOUNT", "h2"), ("GET", "h2"),
    ])


def test_selftest(differ) -> None:
    differ.check("PFSELFTEST", resp=(2,))  # Redis spends about a second on it
    differ.check("PFSELFTEST", "extra")


def test_redis_made_sketch_counts_identically(differ) -> None:
    """Bytes produced by Redis, SET into Taipan: same counts, merges and further adds."""
    ref, ours = differ.pairs[2]
    for name, size in (("r_sparse", 300), ("r_dense", 30000)):
        ref.send_raw(b"".join(RawClient.encode("PFADD", name, *_elements("r", i, i + 500))
                              for i in range(0, size, 500)))
        for _ in range(0, size, 500):
            ref.read_reply()
        raw = ref.call("GET", name)
        value = raw[raw.index(b"\r\n") + 2:-2]
        assert ours.call("SET", name, value) == b"+OK\r\n"
        ref.call("SET", name, value)  # same encoding history on both sides
        differ.run([("PFCOUNT", name), ("GET", name), ("PFADD", name, "more", "and more"),
                    ("GET", name), ("PFCOUNT", name)])
    differ.run([("PFCOUNT", "r_sparse", "r_dense"), ("PFMERGE", "r_m", "r_sparse", "r_dense"),
                ("GET", "r_m"), ("PFMERGE", "r_sparse", "r_sparse"), ("GET", "r_sparse")])


def test_dense_register_overflow_values(differ) -> None:
    """Dense registers set to values no hash can produce (up to 63) via SETRANGE."""
    differ.run([("PFADD", "d", "a"), ("PFDEBUG", "TODENSE", "d"),
                ("SETRANGE", "d", 16, b"\xff\xff\xff\x3f\x00\x7e"), ("PFCOUNT", "d"),
                ("PFCOUNT", "d", "nokey"), ("PFMERGE", "m", "d"), ("GET", "m"),
                ("PFDEBUG", "GETREG", "d")])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_command_mix(differ, seed: int) -> None:
    """Random PFADD/PFMERGE/PFCOUNT/TODENSE on a few keys, varying the sparse limit."""
    rng = random.Random(seed)
    keys = ["k1", "k2", "k3", "k4"]
    pool = _elements("m", 0, 3000) + [b"long" * rng.randrange(2, 40) for _ in range(20)]
    try:
        for _ in range(250):
            roll = rng.random()
            key = rng.choice(keys)
            if roll < 0.55:
                differ.check("PFADD", key, *rng.sample(pool, rng.choice([1, 2, 5, 30, 120])),
                             resp=(2,))
            elif roll < 0.7:
                sources = rng.sample(keys, rng.randrange(0, 4))
                differ.check("PFMERGE", key, *sources, resp=(2,))
            elif roll < 0.8:
                differ.check("PFCOUNT", *rng.sample(keys, rng.randrange(1, 4)), resp=(2,))
            elif roll < 0.83:
                differ.check("PFDEBUG", "TODENSE", key, resp=(2,))
            elif roll < 0.86:
                limit = rng.choice(["60", "300", "1000", "3000", "8000"])
                differ.check("CONFIG", "SET", "hll-sparse-max-bytes", limit, resp=(2,))
            elif roll < 0.88:
                differ.check("DEL", key, resp=(2,))
            differ.check("GET", key, resp=(2,))
    finally:
        differ.check("CONFIG", "SET", "hll-sparse-max-bytes", "3000", resp=(2,))


def test_watch_ttl_and_in_place_edits(differ) -> None:
    _add_pipelined(differ, "h", _elements("w", 0, 40))
    _add_pipelined(differ, "longer", _elements("v", 0, 200))
    ops = differ.check("GETRANGE", "longer", 16, -1)
    ops = ops[ops.index(b"\r\n") + 2:-2]
    differ.run([
        # A no-op PFADD is not a write; a PFCOUNT refreshing the cache is.
        ("WATCH", "h"), ("PFADD", "h", "w1"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "h"), ("PFCOUNT", "h"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "h"), ("PFCOUNT", "h"), ("MULTI",), ("PING",), ("EXEC",),
        ("EXPIRE", "h", 1000), ("PFADD", "h", "new"), ("TTL", "h"), ("PFCOUNT", "h"),
        ("TTL", "h"), ("PFMERGE", "h", "longer"), ("TTL", "h"),
        # Opcodes rewritten in place by another command, then more adds.
        ("DEL", "h"), ("PFADD", "h", "a", "b", "c"), ("SETRANGE", "h", 16, ops),
        ("PFADD", "h", "x1", "x2", "x3"), ("GET", "h"), ("PFCOUNT", "h"),
        ("APPEND", "h", "\x80"), ("PFADD", "h", "y"), ("PFCOUNT", "h"), ("GET", "h"),
    ])


@pytest.mark.parametrize("register", [0, 1, 40, 50, 51, 63])
def test_uniform_dense_registers_and_overflowing_estimates(differ, register: int) -> None:
    """Every register equal: large values overflow Redis's estimate to LLONG_MIN."""
    v = register
    packed = bytes((v | (v & 3) << 6, v >> 2 | (v & 15) << 4, (v >> 4 | v << 2) & 0xFF)) * 4096
    differ.run([
        ("SET", "u", b"HYLL\x00" + bytes(10) + b"\x80" + packed), ("PFCOUNT", "u"),
        ("GET", "u"), ("PFCOUNT", "u"), ("PFCOUNT", "u", "nokey"), ("PFADD", "u", "a"),
        ("PFMERGE", "m", "u"), ("PFCOUNT", "m"), ("GET", "m"),
    ])
