"""Updates to HyperLogLog sketches, step for step as Redis makes them (hyperloglog.c).

Dense registers change in O(1). Sparse opcodes are rewritten in place exactly as
hllSparseSet does (split the covering opcode, then merge up to five neighbours), with
a small checkpoint index so finding the covering opcode costs no full scan per element.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from taipan.types.hyperloglog import (
    DENSE,
    HEADER,
    REGISTERS,
    SPAN,
    SPARSE,
    SPARSE_VAL_MAX,
    CorruptHll,
    pattern,
    raw_to_dense,
    registers,
    sparse_to_dense,
)

PROMOTE = 2  # SparseIndex.set: the change needs the dense encoding


def dense_set(value: bytearray, index: int, count: int) -> int:
    """Raise one dense register to ``count``; 1 if it changed."""
    bit = index * 6
    pos, shift = HEADER + (bit >> 3), bit & 7
    if shift <= 2:  # the register sits inside one byte
        byte = value[pos]
        if (byte >> shift) & 63 >= count:
            return 0
        value[pos] = (byte & ~(63 << shift) & 0xFF) | (count << shift)
        return 1
    word = value[pos] | value[pos + 1] << 8
    if (word >> shift) & 63 >= count:
        return 0
    word = (word & ~(63 << shift)) | (count << shift)
    value[pos], value[pos + 1] = word & 0xFF, word >> 8
    return 1


def _val(value: int, run: int) -> int:
    return 0x80 | (value - 1) << 2 | (run - 1)


def _zeros(run: int) -> bytes:
    if run > 64:
        return bytes((0x40 | (run - 1) >> 8, (run - 1) & 0xFF))
    return bytes((run - 1,))


_REWRITE_SPAN = 24  # bytes after an update's first opcode that the update may rewrite
_GAP = 64  # most opcode bytes between two checkpoints before a new one goes in between


def _span(v: bytearray, p: int) -> int:
    b = v[p]
    if b & 0xC0 == 0x40:
        return ((b & 0x3F) << 8 | (v[p + 1] if p + 1 < len(v) else 0)) + 1
    return SPAN[b]


class SparseIndex:
    """Checkpoints (byte offset, first register) into one sparse sketch's opcodes.

    Redis finds the opcode covering a register by scanning from the first one; in
    Python that costs O(size) per element, so ``set`` scans from the last checkpoint
    before the register instead (or the one before that, when the checkpoint's own
    opcode is the target: Redis's merge step needs the opcode preceding the target).
    An index belongs to one bytearray and is trusted only while its opcodes still equal
    the snapshot taken after our last update: other commands may edit strings in place.
    """

    __slots__ = ("value", "ops", "offsets", "firsts")

    def __init__(self, value: bytearray) -> None:
        self.value = value
        self.offsets: list[int] = []
        self.firsts: list[int] = []
        p, first, end = HEADER, 0, len(value)
        while p < end:
            if not self.offsets or p - self.offsets[-1] >= _GAP // 2:
                self.offsets.append(p)
                self.firsts.append(first)
            first += _span(value, p)
            p += 2 if value[p] & 0xC0 == 0x40 else 1
        self.ops = bytes(value[HEADER:])

    def current(self) -> bool:
        value = self.value
        return len(value) == len(self.ops) + HEADER and value.endswith(self.ops)

    def seal(self) -> None:
        self.ops = bytes(self.value[HEADER:])

    def set(self, index: int, count: int, max_bytes: int) -> int:
        """hllSparseSet: 1 changed, 0 unchanged, -1 corrupt, PROMOTE to go dense."""
        if count > SPARSE_VAL_MAX:
            return PROMOTE
        v, offsets, firsts = self.value, self.offsets, self.firsts
        k = bisect_right(firsts, index) - 1
        if k > 0 and index < firsts[k] + _span(v, offsets[k]):
            k -= 1
        p, first = (offsets[k], firsts[k]) if k >= 0 else (HEADER, 0)
        prev, prev_first, end = -1, 0, len(v)
        while p < end:  # step 1: find the opcode covering ``index``
            b = v[p]
            if b & 0xC0 == 0x40:
                span, width = _span(v, p), 2
            else:
                span, width = SPAN[b], 1
            if index < first + span:
                break
            prev, prev_first = p, first
            p += width
            first += span
        else:
            return -1
        delta = 0
        if b & 0x80 and ((b >> 2) & 31) + 1 >= count:
            return 0
        if (b & 0x80 or b & 0xC0 == 0) and span == 1:  # a VAL or ZERO of one register
            v[p] = _val(count, 1)
        else:  # step 2: split the opcode around the register
            last = first + span - 1
            if b & 0x80:
                old = ((b >> 2) & 31) + 1
                seq = bytearray()
                if index != first:
                    seq.append(_val(old, index - first))
                seq.append(_val(count, 1))
                if index != last:
                    seq.append(_val(old, last - index))
            else:
                seq = bytearray(_zeros(index - first) if index != first else b"")
                seq.append(_val(count, 1))
                if index != last:
                    seq += _zeros(last - index)
            delta = len(seq) - width
            if delta > 0 and end + delta > max_bytes:
                return PROMOTE
            v[p:p + width] = seq
            if p + width > end:  # a truncated XZERO: Redis counts its missing byte
                del v[end + delta:]
            end += delta
        start, start_first = (prev, prev_first) if prev >= 0 else (HEADER, 0)
        q, steps = start, 5
        while q < end and steps:  # step 4: merge up to 5 neighbouring equal VALs
            steps -= 1
            b = v[q]
            if not b & 0x80:
                q += 2 if b & 0x40 else 1
                continue
            if q + 1 < end:
                b2 = v[q + 1]
                run = (b & 3) + (b2 & 3) + 2
                if b2 & 0x80 and (b ^ b2) & 0x7C == 0 and run <= 4:
                    del v[q]
                    v[q] = (b & 0xFC) | (run - 1)
                    end -= 1
                    delta -= 1
                    continue
            q += 1
        self._moved(start, start_first, delta)
        return 1

    def _moved(self, start: int, start_first: int, delta: int) -> None:
        """Checkpoints after an update at ``start`` that grew the opcodes by ``delta``."""
        offsets, firsts = self.offsets, self.firsts
        lo = bisect_right(offsets, start)
        hi = bisect_left(offsets, start + _REWRITE_SPAN)
        if hi > lo:  # these may point into rewritten opcodes
            del offsets[lo:hi], firsts[lo:hi]
        if delta and lo < len(offsets):
            offsets[lo:] = [offset + delta for offset in offsets[lo:]]
        following = offsets[lo] if lo < len(offsets) else len(self.value)
        if offsets[lo - 1] != start and following - offsets[lo - 1] > _GAP:
            offsets.insert(lo, start)  # the update's start is a known opcode boundary
            firsts.insert(lo, start_first)


_INDEXES: dict[int, SparseIndex] = {}  # id(bytearray) -> its index, least recent first
_INDEXES_KEPT = 32


def sparse_index(value: bytearray) -> SparseIndex:
    index = _INDEXES.pop(id(value), None)
    if index is None or index.value is not value or not index.current():
        index = SparseIndex(value)
    _INDEXES[id(value)] = index
    if len(_INDEXES) > _INDEXES_KEPT:
        del _INDEXES[next(iter(_INDEXES))]
    return index


def promote(value: bytearray) -> None:
    """Convert a sparse sketch to dense in place (raises CorruptHll)."""
    value[:] = sparse_to_dense(value)
    _INDEXES.pop(id(value), None)


def add(value: bytearray, elements: list[bytes], max_bytes: int) -> int:
    """PFADD's updates, in order; the number that changed a register.

    Goes dense in place when Redis would. Raises CorruptHll, keeping earlier updates.
    """
    updated = 0
    index = None
    try:
        for element in elements:
            register, count = pattern(element)
            if value[4] == DENSE:
                updated += dense_set(value, register, count)
                continue
            if index is None:
                index = sparse_index(value)
            result = index.set(register, count, max_bytes)
            if result == PROMOTE:
                promote(value)
                index = None
                updated += dense_set(value, register, count)
            elif result < 0:
                raise CorruptHll()
            else:
                updated += result
    finally:
        if index is not None:
            index.seal()
    return updated


_NONZERO = re.compile(rb"[^\x00]")
_OVER_VAL = re.compile(rb"[\x21-\xff]")  # a register beyond what a VAL opcode holds
_LOW_BITS = int.from_bytes(b"\x01" * (REGISTERS - 1), "little")


def _runs(raw: bytes) -> int:
    """How many runs of equal registers: no sparse encoding has fewer opcodes."""
    lanes = int.from_bytes(raw, "little")
    steps = (lanes ^ (lanes >> 8)) & ((1 << 8 * (REGISTERS - 1)) - 1)
    steps |= steps >> 4
    steps |= steps >> 2
    steps |= steps >> 1
    return 1 + (steps & _LOW_BITS).bit_count()


def merge_into(value: bytearray, raw: bytes, max_bytes: int) -> None:
    """PFMERGE's write: registers of ``value`` raised to ``raw`` (which already includes
    them), register by register in ascending order as Redis does for sparse sketches."""
    if value[4] == SPARSE:
        # Redis would go dense on the way if a register needs more than a VAL, or if the
        # result cannot fit: it grows past the limit at some step. Skip straight there.
        if _OVER_VAL.search(raw) or (
                len(value) <= max_bytes and HEADER + _runs(raw) > max_bytes):
            promote(value)
            value[HEADER:] = raw_to_dense(raw)
            return
        # Registers already equal to ``raw`` are no-ops for Redis too: skip them.
        changed = int.from_bytes(raw, "little") ^ int.from_bytes(registers(value), "little")
        index = sparse_index(value)
        try:
            for found in _NONZERO.finditer(changed.to_bytes(len(raw), "little")):
                register = found.start()
                if index.set(register, raw[register], max_bytes) == PROMOTE:
                    break
            else:
                return
        finally:
            index.seal()
        promote(value)
    # Dense: every register ends up equal to ``raw``, whatever order sets it.
    value[HEADER:] = raw_to_dense(raw)
