"""HyperLogLog in Redis's exact byte layout, so GET/SET/DUMP move sketches both ways.

A HyperLogLog is a plain string: a 16-byte header (``HYLL``, the encoding, three
unused bytes, a little-endian cached cardinality whose top bit marks it stale), then
16384 registers of 6 bits, either *dense* (packed least significant bit first, 12288
bytes) or *sparse* run-length opcodes: ZERO ``00xxxxxx`` (1-64 zero registers), XZERO
``01xxxxxx yyyyyyyy`` (1-16384), VAL ``1vvvvvxx`` (1-4 registers of value 1-32).
Updates follow Redis's algorithm step by step, so the stored bytes match Redis's.

Registers travel between sketches as a *raw* big int with one register per byte (byte
i = register i), which turns merges into a handful of whole-array int operations.
"""

from __future__ import annotations

import math
import re
import struct
from collections import Counter
from collections.abc import Callable

HEADER = 16
REGISTERS = 16384
Q = 50  # hash bits left after the 14 index bits
DENSE, SPARSE = 0, 1
DENSE_SIZE = HEADER + REGISTERS * 6 // 8
SPARSE_VAL_MAX = 32
_STALE = 0x80  # bit 7 of header byte 15: the cached cardinality must be recomputed
_ALPHA_INF = 0.721347520444481703680
_M64 = (1 << 64) - 1
_MURMUR_M = 0xC6A4A7935BD1E995
_SEED = 0xADC83B19


class CorruptHll(ValueError):
    """Registers that do not decode to exactly 16384 (Redis: INVALIDOBJ)."""


def murmurhash64a(data: bytes) -> int:
    """MurmurHash64A with Redis's seed, reading 8-byte blocks little-endian."""
    n = len(data)
    h = (_SEED ^ (n * _MURMUR_M)) & _M64
    blocks = n >> 3
    if blocks:
        for k in struct.unpack_from(f"<{blocks}Q", data):
            k = (k * _MURMUR_M) & _M64
            k ^= k >> 47
            h ^= (k * _MURMUR_M) & _M64
            h = (h * _MURMUR_M) & _M64
    if n & 7:
        h = ((h ^ int.from_bytes(data[blocks << 3:], "little")) * _MURMUR_M) & _M64
    h ^= h >> 47
    h = (h * _MURMUR_M) & _M64
    return h ^ (h >> 47)


def pattern(element: bytes) -> tuple[int, int]:
    """(register index, run length of zeros + 1) for an element, as hllPatLen."""
    h = murmurhash64a(element)
    rest = (h >> 14) | (1 << Q)
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


# -- header ------------------------------------------------------------------------------

def is_hll(value: bytes | bytearray) -> bool:
    """Redis's isHLLObject: magic, a known encoding, and the dense size when dense."""
    return (len(value) >= HEADER and value[:4] == b"HYLL" and value[4] <= SPARSE
            and (value[4] == SPARSE or len(value) == DENSE_SIZE))


def new_sparse() -> bytearray:
    """An empty sketch: header and one XZERO covering every register."""
    return bytearray(b"HYLL\x01" + bytes(11) + b"\x7f\xff")


def cached_cardinality(value: bytes | bytearray) -> int | None:
    if value[15] & _STALE:
        return None
    return int.from_bytes(value[8:16], "little")


def store_cardinality(value: bytearray, card: int) -> None:
    # An overflowed estimate (-2**63) sets the stale bit, so Redis recomputes it too.
    value[8:16] = (card & ((1 << 64) - 1)).to_bytes(8, "little")


def invalidate(value: bytearray) -> None:
    value[15] |= _STALE


# -- register arrays ---------------------------------------------------------------------

def _table(fn: Callable[[int], int]) -> bytes:
    """A byte -> byte map for ``bytes.translate``."""
    return bytes(fn(b) & 0xFF for b in range(256))


# Bit moves between the dense layout (4 registers in 3 bytes) and one register a byte.
_LOW6 = _table(lambda b: b & 63)
_SHR2 = _table(lambda b: b >> 2)
_SHR4 = _table(lambda b: b >> 4)
_SHR6 = _table(lambda b: b >> 6)
_SHL2 = _table(lambda b: b << 2)
_LOW2_SHL4 = _table(lambda b: (b & 3) << 4)
_LOW4_SHL2 = _table(lambda b: (b & 15) << 2)
_LOW2_SHL6 = _table(lambda b: b << 6)
_LOW4_SHL4 = _table(lambda b: b << 4)


def _or(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def dense_to_raw(registers: bytes | bytearray) -> bytes:
    """12288 packed bytes -> 16384 bytes, one register each (4 registers per 3 bytes)."""
    b0, b1, b2 = bytes(registers[0::3]), bytes(registers[1::3]), bytes(registers[2::3])
    raw = bytearray(REGISTERS)
    raw[0::4] = b0.translate(_LOW6)
    raw[1::4] = _or(b0.translate(_SHR6), b1.translate(_LOW4_SHL2))
    raw[2::4] = _or(b1.translate(_SHR4), b2.translate(_LOW2_SHL4))
    raw[3::4] = b2.translate(_SHR2)
    return bytes(raw)


def raw_to_dense(raw: bytes) -> bytes:
    """The inverse of ``dense_to_raw`` (registers must be at most 63)."""
    r0, r1, r2, r3 = raw[0::4], raw[1::4], raw[2::4], raw[3::4]
    packed = bytearray(REGISTERS * 6 // 8)
    packed[0::3] = _or(r0, r1.translate(_LOW2_SHL6))
    packed[1::3] = _or(r1.translate(_SHR2), r2.translate(_LOW4_SHL4))
    packed[2::3] = _or(r2.translate(_SHR4), r3.translate(_SHL2))
    return bytes(packed)


_GUARDS = int.from_bytes(b"\x80" * REGISTERS, "little")


def raw_max(a: int, b: int) -> int:
    """Register-wise maximum of two raw arrays (SWAR: bit 7 of each byte is a guard)."""
    ge = (((a | _GUARDS) - b) & _GUARDS) >> 7  # 1 in each byte where a >= b
    return b ^ ((a ^ b) & (ge * 255))


def registers(value: bytes | bytearray) -> bytes:
    """All registers as raw bytes; sparse decoding as hllMerge (raises CorruptHll)."""
    if value[4] == DENSE:
        return dense_to_raw(value[HEADER:])
    return _sparse_raw(value)


# -- sparse decoding ---------------------------------------------------------------------

# XZERO opcodes; everything else is a one-byte opcode. Scanning left to right keeps the
# opcode alignment. A truncated XZERO reads Redis's terminating NUL as its second byte.
_XZERO = re.compile(rb"([\x40-\x7f][\x00-\xff]?)")
SPAN = [((b & 3) + 1) if b & 0x80 else (b & 0x3F) + 1 for b in range(256)]


def _expansion(op: int) -> bytes:
    """The registers a one-byte opcode stands for (XZERO is split out beforehand)."""
    if op & 0x80:
        return bytes([((op >> 2) & 31) + 1]) * ((op & 3) + 1)
    return bytes(op + 1) if op < 0x40 else b""


_EXPAND = [_expansion(op) for op in range(256)]


def xzero_len(op: bytes) -> int:
    return (((op[0] & 0x3F) << 8) | (op[1] if len(op) > 1 else 0)) + 1


def _sparse_raw(value: bytes | bytearray) -> bytes:
    """Expand sparse opcodes. They must cover exactly 16384 registers: since the fix for
    CVE-2025-32023 (in Redis 7.0.15 as shipped) any overflow is corruption too."""
    ops = bytes(value[HEADER:])
    if len(ops) > 2 * REGISTERS:  # more opcodes than registers
        raise CorruptHll()
    parts = _XZERO.split(ops)
    zero_runs = [xzero_len(op) for op in parts[1::2]]
    if sum(zero_runs) > REGISTERS:  # checked before expanding: bounds the memory used
        raise CorruptHll()
    parts[1::2] = [bytes(run) for run in zero_runs]
    parts[0::2] = [b"".join(map(_EXPAND.__getitem__, part)) for part in parts[0::2]]
    raw = b"".join(parts)
    if len(raw) != REGISTERS:
        raise CorruptHll()
    return raw


def sparse_histogram(value: bytes | bytearray) -> list[int]:
    """Register histogram of a sparse sketch (hllSparseRegHisto: all opcodes count)."""
    histogram = [0] * 64
    ops = bytes(value[HEADER:])
    if len(ops) > 2 * REGISTERS:
        raise CorruptHll()
    parts = _XZERO.split(ops)
    histogram[0] = sum(xzero_len(op) for op in parts[1::2])
    for op, times in Counter(b"".join(parts[0::2])).items():
        if op & 0x80:
            histogram[((op >> 2) & 31) + 1] += times * ((op & 3) + 1)
        else:
            histogram[0] += times * (op + 1)
    if sum(histogram) != REGISTERS:
        raise CorruptHll()
    return histogram


def sparse_to_dense(value: bytes | bytearray) -> bytearray:
    """The dense form; the header (cached cardinality included) is kept."""
    raw = _sparse_raw(value)
    return bytearray(bytes(value[:4]) + b"\x00" + bytes(value[5:HEADER]) + raw_to_dense(raw))


def decode(value: bytes | bytearray) -> str:
    """PFDEBUG DECODE: the sparse opcodes as ``z:len Z:len v:value,len``."""
    words, p, end = [], HEADER, len(value)
    while p < end:
        b = value[p]
        if b & 0xC0 == 0x40:
            words.append(f"Z:{xzero_len(bytes(value[p:p + 2]))}")
            p += 2
        else:
            words.append(f"v:{((b >> 2) & 31) + 1},{(b & 3) + 1}" if b & 0x80
                         else f"z:{b + 1}")
            p += 1
    return " ".join(words)


# -- cardinality -------------------------------------------------------------------------

# Bit 0 of every lane: 6-bit lanes (dense registers) or bytes (raw registers).
_LANES = {6: int.from_bytes(b"\x41\x10\x04" * (REGISTERS // 4), "little"),
          8: int.from_bytes(b"\x01" * REGISTERS, "little")}


def histogram(lanes: int, width: int) -> list[int]:
    """Register histogram of 16384 ``width``-bit lanes holding 6-bit values.

    Splits the register set by one value bit at a time (bit planes as big ints), so
    the cost is a few whole-array int operations per distinct register value.
    """
    low = _LANES[width]
    planes = [(lanes >> bit) & low for bit in range(6)]
    counts = [0] * 64
    pending = [(low, REGISTERS, 5, 0)]
    while pending:
        members, size, bit, prefix = pending.pop()
        if bit < 0:
            counts[prefix] = size
            continue
        ones = members & planes[bit]
        if not ones:
            pending.append((members, size, bit - 1, prefix))
        elif ones == members:
            pending.append((members, size, bit - 1, prefix | 1 << bit))
        else:
            n = ones.bit_count()
            pending.append((ones, n, bit - 1, prefix | 1 << bit))
            pending.append((members ^ ones, size - n, bit - 1, prefix))
    return counts


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if z == previous:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == previous:
            return z / 3


def estimate(counts: list[int]) -> int:
    """Ertl's improved estimator from the register histogram, as Redis 7 computes it."""
    m = float(REGISTERS)
    z = m * _tau((m - counts[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += counts[j]
        z *= 0.5
    z += m * _sigma(counts[0] / m)
    e = _ALPHA_INF * m * m / z if z else math.inf
    if e >= 2.0**63:  # llroundl overflows to LLONG_MIN, which Redis then replies
        return -(1 << 63)
    whole = math.floor(e)
    return int(whole + 1 if e - whole >= 0.5 else whole)  # llroundl: halves away from 0


def count(value: bytes | bytearray) -> int:
    """Cardinality estimate of one sketch (ignores the cache; raises CorruptHll)."""
    if value[4] == DENSE:
        return estimate(histogram(int.from_bytes(value[HEADER:], "little"), 6))
    return estimate(sparse_histogram(value))


def count_raw(raw: int) -> int:
    return estimate(histogram(raw, 8))

