"""HyperLogLog internals: hash, register layouts, sparse opcodes, estimator."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from taipan.types import hyperloglog as hll
from taipan.types import hyperloglog_updates as updates

# (register, run length) for these elements, read from a real Redis 7.0 with
# PFADD then PFDEBUG DECODE: covers empty input, tails of 1-7 bytes, whole blocks.
REDIS_PATTERNS = {
    b"": (5938, 2),
    b"a": (12711, 2),
    b"b": (15780, 1),
    b"c": (8436, 1),
    b"hello": (9216, 1),
    b"12345678": (10579, 3),
    b"123456789": (9293, 2),
    b"abcdefghijklmnop": (9328, 1),
    b"abcdefghijklmnopq": (4271, 1),
    b"The quick brown fox jumps over the lazy dog": (6862, 4),
}


def _random_raw(rng: random.Random, top: int = 63) -> bytes:
    return bytes(min(top, int(rng.expovariate(0.4))) for _ in range(hll.REGISTERS))


def _walk(value: bytes | bytearray) -> list[tuple[int, int]]:
    """(offset, first register) of every sparse opcode."""
    out, p, first = [], hll.HEADER, 0
    while p < len(value):
        out.append((p, first))
        if value[p] & 0xC0 == 0x40:
            first += hll.xzero_len(bytes(value[p:p + 2]))
            p += 2
        else:
            first += hll.SPAN[value[p]]
            p += 1
    return out


@pytest.mark.parametrize("element", sorted(REDIS_PATTERNS))
def test_pattern_matches_redis(element: bytes) -> None:
    assert hll.pattern(element) == REDIS_PATTERNS[element]


def test_hash_is_64_bit_and_pattern_is_bounded() -> None:
    for n in range(40):
        h = hll.murmurhash64a(bytes(range(n)))
        assert 0 <= h < 1 << 64
        index, count = hll.pattern(bytes(range(n)))
        assert index == h & 16383
        assert 1 <= count <= 51
        assert (h >> 14) & ((1 << (count - 1)) - 1) == 0


def test_new_sparse_and_validity() -> None:
    empty = hll.new_sparse()
    assert bytes(empty) == b"HYLL\x01" + bytes(11) + b"\x7f\xff"
    assert hll.is_hll(empty)
    assert hll.decode(empty) == "Z:16384"
    assert hll.cached_cardinality(empty) == 0
    hll.invalidate(empty)
    assert hll.cached_cardinality(empty) is None
    hll.store_cardinality(empty, 1234)
    assert hll.cached_cardinality(empty) == 1234
    assert not hll.is_hll(b"HYLL")
    assert not hll.is_hll(b"HYLX\x01" + bytes(13))
    assert not hll.is_hll(b"HYLL\x02" + bytes(13))
    assert not hll.is_hll(b"HYLL\x00" + bytes(13))  # dense must be 12304 bytes
    assert hll.is_hll(b"HYLL\x00" + bytes(hll.DENSE_SIZE - 5))


def test_dense_layout_roundtrip_and_set() -> None:
    rng = random.Random(1)
    raw = _random_raw(rng)
    packed = hll.raw_to_dense(raw)
    assert len(packed) == 12288
    assert hll.dense_to_raw(packed) == raw
    # Register i occupies bits 6i..6i+5, least significant bit first.
    as_int = int.from_bytes(packed, "little")
    for i in (0, 1, 2, 3, 4, 5, 16382, 16383):
        assert (as_int >> (6 * i)) & 63 == raw[i]
    value = bytearray(16) + bytearray(12288)
    for i, count in enumerate(raw):
        if count:
            assert updates.dense_set(value, i, count) == 1
    assert bytes(value[16:]) == packed
    assert updates.dense_set(value, 7, raw[7]) == 0


def test_raw_max_and_histogram() -> None:
    rng = random.Random(2)
    a, b = _random_raw(rng), _random_raw(rng)
    merged = hll.raw_max(int.from_bytes(a, "little"), int.from_bytes(b, "little"))
    assert merged.to_bytes(16384, "little") == bytes(map(max, a, b))
    expected = [Counter(a)[v] for v in range(64)]
    assert hll.histogram(int.from_bytes(a, "little"), 8) == expected
    assert hll.histogram(int.from_bytes(hll.raw_to_dense(a), "little"), 6) == expected
    assert hll.histogram(0, 8)[0] == 16384


def test_estimator_edges() -> None:
    counts = [0] * 64
    counts[0] = 16384
    assert hll.estimate(counts) == 0
    counts[0], counts[1] = 16383, 1
    assert hll.estimate(counts) == 1
    counts[0], counts[1], counts[51] = 0, 0, 16384
    assert hll.estimate(counts) == -(1 << 63)  # Redis's llroundl overflow, replied as is


def _set_all(pairs: list[tuple[int, int]], max_bytes: int = 3000) -> bytearray:
    value = hll.new_sparse()
    index = updates.SparseIndex(value)
    for register, count in pairs:
        assert index.set(register, count, max_bytes) in (0, 1)
    return value


@pytest.mark.parametrize("pairs, decoded", [
    ([(0, 1)], "v:1,1 Z:16383"),
    ([(16383, 3)], "Z:16383 v:3,1"),
    ([(5, 2)], "z:5 v:2,1 Z:16378"),
    ([(100, 2), (101, 2)], "Z:100 v:2,2 Z:16282"),
    ([(101, 2), (100, 2)], "Z:100 v:2,2 Z:16282"),
    ([(1, 4), (2, 4), (3, 4), (4, 4), (0, 4)], "v:4,1 v:4,4 Z:16379"),
    ([(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)], "v:4,4 v:4,1 Z:16379"),
    ([(0, 2), (1, 2), (2, 2), (1, 5)], "v:2,1 v:5,1 v:2,1 Z:16381"),
    ([(0, 2), (1, 2), (2, 2), (1, 1)], "v:2,3 Z:16381"),
    ([(10, 1), (12, 1), (11, 1)], "z:10 v:1,3 Z:16371"),
])
def test_sparse_updates(pairs: list[tuple[int, int]], decoded: str) -> None:
    assert hll.decode(_set_all(pairs)) == decoded


def test_sparse_promotion_signals() -> None:
    value = hll.new_sparse()
    index = updates.SparseIndex(value)
    assert index.set(3, 33, 3000) == updates.PROMOTE  # beyond VAL's 32
    assert index.set(3, 32, 3000) == 1
    assert index.set(300, 1, len(value)) == updates.PROMOTE  # would grow past the limit
    assert index.set(3, 20, len(value)) == 0


def test_add_promotes_to_dense_and_matches_sparse_count() -> None:
    sparse, dense = hll.new_sparse(), hll.new_sparse()
    updates.promote(dense)
    assert dense[4] == hll.DENSE and len(dense) == hll.DENSE_SIZE
    elements = [b"item:%d" % i for i in range(3000)]
    updates.add(sparse, elements, 1 << 20)
    updates.add(dense, elements, 0)
    assert sparse[4] == hll.SPARSE
    assert hll.count(sparse) == hll.count(dense)
    assert hll.registers(sparse) == hll.registers(dense)
    limited = hll.new_sparse()
    updates.add(limited, elements, 3000)
    assert limited[4] == hll.DENSE
    assert bytes(limited[16:]) == bytes(dense[16:])


def test_index_checkpoints_stay_on_opcode_boundaries() -> None:
    rng = random.Random(3)
    value = hll.new_sparse()
    index = updates.SparseIndex(value)
    for _ in range(3000):
        index.set(rng.randrange(16384), rng.choice([1, 1, 2, 3, 7, 32]), 1 << 20)
    boundaries = dict(_walk(value))
    assert index.offsets[0] == hll.HEADER
    for offset, first in zip(index.offsets, index.firsts, strict=True):
        assert boundaries[offset] == first
    # A fresh index replays the same final state.
    assert hll.registers(value) == hll.registers(bytes(value))


def test_index_cache_notices_in_place_edits() -> None:
    value = hll.new_sparse()
    updates.add(value, [b"a", b"b"], 3000)
    other = hll.new_sparse()
    updates.add(other, [b"c", b"d", b"e"], 3000)
    value[16:] = other[16:]  # what SETRANGE/APPEND may do to the bytearray
    updates.add(value, [b"f"], 3000)
    reference = bytearray(other)
    updates.add(reference, [b"f"], 3000)
    assert bytes(value[16:]) == bytes(reference[16:])


@pytest.mark.parametrize("ops", [b"\x7f\xff\x00", b"\x7f\xfe", b"\x7f\xff\x80", b"", b"\x80" * 9])
def test_corrupt_sparse(ops: bytes) -> None:
    value = b"HYLL\x01" + bytes(11) + ops
    with pytest.raises(hll.CorruptHll):
        hll.registers(value)
    with pytest.raises(hll.CorruptHll):
        hll.count(value)
    with pytest.raises(hll.CorruptHll):
        hll.sparse_to_dense(value)


def test_merge_into_sparse_and_dense() -> None:
    a, b = hll.new_sparse(), hll.new_sparse()
    updates.add(a, [b"x%d" % i for i in range(100)], 3000)
    updates.add(b, [b"y%d" % i for i in range(100)], 3000)
    union = hll.raw_max(int.from_bytes(hll.registers(a), "little"),
                        int.from_bytes(hll.registers(b), "little")).to_bytes(16384, "little")
    updates.merge_into(a, union, 3000)
    assert a[4] == hll.SPARSE and hll.registers(a) == union
    tiny = hll.new_sparse()
    updates.merge_into(tiny, union, 40)
    assert tiny[4] == hll.DENSE and hll.registers(tiny) == union
