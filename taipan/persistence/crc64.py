"""CRC64 as Redis computes it for RDB files and DUMP payloads (Jones polynomial,
reflected, as Redis's crc64.c).

The ``anycrc`` package computes it in C (its "CRC64-REDIS" model: some 150x faster
than the Python below, which a 40 MB file costs over half a second); without that
package the Python code below does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

try:
    import anycrc
except ImportError:  # pragma: no cover - a platform without the package's wheel
    NATIVE: Callable[[bytes | bytearray | memoryview, int], int] | None = None
else:
    NATIVE = anycrc.Model("CRC64-REDIS").calc

_CRC64_POLY_REFLECTED = 0x95AC9329AC4BC9B5


def _crc64_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC64_POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def _slice_tables() -> list[list[int]]:
    """Tables for slicing-by-8: ``tables[k][b]`` is the CRC of byte ``b`` followed by
    ``k`` zero bytes, so eight bytes fold in with one lookup each."""
    tables = [_CRC64_TABLE]
    for _ in range(7):
        last = tables[-1]
        tables.append([_CRC64_TABLE[value & 0xFF] ^ (value >> 8) for value in last])
    return tables


_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = _slice_tables()
_WORDS = struct.Struct("<Q")

# Big inputs (a whole RDB file) take another road: a CRC is the message, read as one
# GF(2) polynomial, times x^64 modulo the CRC polynomial, and Python's big-int shifts
# and XORs run in C. Halving the polynomial with "high * (x^m mod P) ^ low" costs
# about 32 big shifts and XORs per level, some 7x faster than the table loop above
# (which still wins below a few hundred bytes: DUMP payloads, tests).
_FOLD_FROM = 512
_FOLD_CHUNK = 1 << 18  # pieces small enough for the CPU cache; measured fastest
_BITREV = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))
_CRC64_POLY_FULL = (1 << 64) | 0xAD93D23594C935A9  # the Jones polynomial, not reflected


def _bitrev64(value: int) -> int:
    return int.from_bytes(value.to_bytes(8, "little").translate(_BITREV), "big")


def _reduce(value: int) -> int:
    """``value`` modulo the CRC polynomial (a GF(2) remainder, bit by bit)."""
    while value >> 64:
        value ^= _CRC64_POLY_FULL << (value.bit_length() - 65)
    return value


def _mulmod(a: int, b: int) -> int:
    product = 0
    while b:
        low = b & -b
        product ^= a << (low.bit_length() - 1)
        b ^= low
    return _reduce(product)


def _power_bits() -> list[list[int]]:
    """For each k, the set bits of x^(2^k) mod P: folding at m = 2^k multiplies by it."""
    power, table = 2, []
    for _ in range(48):
        table.append([bit for bit in range(64) if power >> bit & 1])
        power = _mulmod(power, power)
    return table


_X_POW_2K_BITS = _power_bits()


def _crc64_fold(data: bytes | bytearray | memoryview, crc: int) -> int:
    nbits = len(data) * 8  # at least 64
    # Reflected CRC: the first byte's low bit is the highest coefficient.
    poly = int.from_bytes(bytes(data).translate(_BITREV), "big")
    if crc:  # continuing: the running CRC is XORed into the first 8 bytes
        poly ^= _bitrev64(crc) << (nbits - 64)
    while nbits > 128:
        k = (nbits - 1).bit_length() - 1  # the largest m = 2^k below nbits
        m = 1 << k
        high = poly >> m
        poly &= (1 << m) - 1
        for bit in _X_POW_2K_BITS[k]:
            poly ^= high << bit
        nbits = max(m, nbits - m + 64)
    return _bitrev64(_reduce(poly << 64))


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Redis's CRC64 of ``data``, continuing from ``crc``."""
    if NATIVE is not None:
        return NATIVE(data, crc)
    return python_crc64(data, crc)


def python_crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """``crc64`` in Python."""
    size = len(data)
    if size >= _FOLD_FROM:
        view = memoryview(data)
        for start in range(0, size, _FOLD_CHUNK):
            piece = view[start:start + _FOLD_CHUNK]
            if len(piece) >= 8:
                crc = _crc64_fold(piece, crc)
            else:
                crc = _crc64_table(bytes(piece), crc)
        return crc
    return _crc64_table(bytes(data), crc)


def _crc64_table(data: bytes, crc: int) -> int:
    whole = len(data) & ~7
    for (word,) in _WORDS.iter_unpack(data[:whole]):
        crc ^= word
        crc = (_T7[crc & 0xFF] ^ _T6[(crc >> 8) & 0xFF] ^ _T5[(crc >> 16) & 0xFF]
               ^ _T4[(crc >> 24) & 0xFF] ^ _T3[(crc >> 32) & 0xFF]
               ^ _T2[(crc >> 40) & 0xFF] ^ _T1[(crc >> 48) & 0xFF] ^ _T0[crc >> 56])
    table = _CRC64_TABLE
    for byte in data[whole:]:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


