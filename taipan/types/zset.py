"""The sorted set: a dict for O(1) scores plus an ordered index for ranks and ranges.

Each member has one *sort key*: 8 bytes whose byte order is the numeric order of its
score, then the member itself. Comparing two sort keys as bytes (memcmp) compares
(score, member) exactly as Redis orders a sorted set, so the ordered index is a
plain sorted sequence of bytes, searched with C-speed bisection:

- while the set is small (Redis's "listpack" encoding) a Python list, O(N) inserts
  like Redis's listpack, and no per-set overhead beyond the list;
- once it grows (Redis's "skiplist") a ``SortedKeys`` (``types/sorted_keys.py``):
  O(log N) insert, delete, rank and range, as Redis's skiplist.

The dict maps member -> sort key, which holds the score too: no float object and no
tuple per member (about 104 bytes per member for 1M members, besides the member).

Redis keeps -0.0 distinct from 0.0 in a skiplist but turns it into 0 in a listpack;
both sort it as 0. The sort key folds -0.0 into 0.0, and the few members whose
skiplist score is -0.0 are remembered in a side set (``None`` while there are none).
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any, Final

from taipan.types.small_sorted import SmallSorted
from taipan.types.sorted_keys import SortedKeys

_SIGN: Final = 1 << 63
_DOUBLE: Final = struct.Struct(">d")
_UINT: Final = struct.Struct(">Q")
_ZERO_PREFIX: Final = _UINT.pack(_SIGN)
_member_of = itemgetter(slice(8, None))

Entry = tuple[bytes, float]


# Byte tables for the sort-key prefix (a score's big-endian IEEE bytes with the sign bit
# set, or with every bit flipped when negative): one translate or one table lookup per
# prefix, where integer arithmetic on the bits took three struct calls.
_INVERTED: Final = bytes(255 - byte for byte in range(256))
_SIGN_SET: Final = [bytes((byte | 0x80,)) for byte in range(256)]
_SIGN_CLEARED: Final = [bytes((byte & 0x7F,)) for byte in range(256)]


def score_prefix(score: float) -> bytes:
    """Eight bytes ordering like ``score`` (NaN excluded); -0.0 orders as 0.0."""
    if score == 0.0:
        return _ZERO_PREFIX
    raw = _DOUBLE.pack(score)
    if score < 0.0:
        return raw.translate(_INVERTED)
    return _SIGN_SET[raw[0]] + raw[1:]


def prefix_after(score: float) -> bytes:
    """The smallest prefix above every sort key with this score."""
    return _UINT.pack(_UINT.unpack(score_prefix(score))[0] + 1)


def sort_key_score(key: bytes) -> float:
    """The score a sort key starts with (``score_prefix`` undone; 0.0 for -0.0)."""
    first = key[0]
    raw = _SIGN_CLEARED[first] + key[1:8] if first & 0x80 else key[:8].translate(_INVERTED)
    score: float = _DOUBLE.unpack(raw)[0]
    return score


def _is_negative_zero(score: float) -> bool:
    return score == 0.0 and math.copysign(1.0, score) < 0


# -- lexicographic bounds ------------------------------------------------------------

# A bound is (kind, value): "-" and "+" are below and above every string, "[" and "("
# an inclusive or exclusive string bound.
LEX_MIN: Final = 0
LEX_INCLUSIVE: Final = 1
LEX_EXCLUSIVE: Final = 2
LEX_MAX: Final = 3
LexBound = tuple[int, bytes]


def lex_gte_min(member: bytes, low: LexBound) -> bool:
    kind = low[0]
    if kind == LEX_INCLUSIVE:
        return member >= low[1]
    if kind == LEX_EXCLUSIVE:
        return member > low[1]
    return kind == LEX_MIN


def lex_lte_max(member: bytes, high: LexBound) -> bool:
    kind = high[0]
    if kind == LEX_INCLUSIVE:
        return member <= high[1]
    if kind == LEX_EXCLUSIVE:
        return member < high[1]
    return kind == LEX_MAX


_LEX_RANK: Final = (0, 1, 1, 2)  # by kind: "-" below every string, "+" above


def lex_range_empty(low: LexBound, high: LexBound) -> bool:
    """Redis's early test: min above max, or equal with either side exclusive
    ("-" and "+" count as exclusive)."""
    low_rank, high_rank = _LEX_RANK[low[0]], _LEX_RANK[high[0]]
    if low_rank != high_rank or low_rank != 1:
        return low_rank >= high_rank
    if low[1] != high[1]:
        return low[1] > high[1]
    return low[0] == LEX_EXCLUSIVE or high[0] == LEX_EXCLUSIVE


class ZSet:
    """A Redis sorted set. ``listpack`` is the encoding Redis would report."""

    __slots__ = ("_keys", "_order", "_negzero", "listpack")
    TYPE_NAME = "zset"

    def __init__(self, listpack: bool = True) -> None:
        self._keys: dict[bytes, bytes] = {}  # member -> sort key
        self._order: SmallSorted | SortedKeys = SmallSorted() if listpack else SortedKeys()
        self._negzero: set[bytes] | None = None  # members scored -0.0 (skiplist only)
        self.listpack = listpack

    @classmethod
    def from_entries(cls, entries: Iterable[Entry], listpack: bool) -> ZSet:
        """A set built from distinct (member, score) pairs, with the given encoding."""
        zset = cls(listpack=True)
        keys = zset._keys
        for member, score in entries:
            keys[member] = score_prefix(score) + member
            if not listpack and _is_negative_zero(score):
                zset._note_negative_zero(member)
        ordered = sorted(keys.values())
        zset._order = SmallSorted(ordered) if listpack else SortedKeys(ordered)
        zset.listpack = listpack
        return zset

    @classmethod
    def from_sort_keys(cls, keys: list[bytes]) -> ZSet:
        """A listpack-encoded set from its sort keys in order (``types/packed.py``)."""
        zset = cls(listpack=True)
        zset._keys = {key[8:]: key for key in keys}
        zset._order = SmallSorted(keys)
        return zset

    def sort_keys(self) -> list[bytes]:
        """The sort keys in order: all a listpack-encoded set needs to be rebuilt."""
        return list(self._order)

    # -- what TYPE, OBJECT ENCODING and COPY see ----------------------------------------

    def encoding(self, config: Any) -> str:
        return "listpack" if self.listpack else "skiplist"

    def copy(self) -> ZSet:
        twin = ZSet(self.listpack)
        twin._keys = self._keys.copy()
        order = self._order
        twin._order = order.copy() if isinstance(order, SortedKeys) else SmallSorted(order)
        twin._negzero = set(self._negzero) if self._negzero else None
        return twin

    def to_skiplist(self) -> None:
        if self.listpack:
            self._order = SortedKeys(self._order)
            self.listpack = False

    # -- single members -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, member: bytes) -> bool:
        return member in self._keys

    def members(self) -> Iterator[bytes]:
        """Every member, in no particular order."""
        return iter(self._keys)

    def score(self, member: bytes) -> float | None:
        key = self._keys.get(member)
        if key is None:
            return None
        return self._decode(key, member)

    def add(self, member: bytes, score: float, max_entries: int, max_value: int) -> None:
        """Insert a member that is not in the set, leaving the listpack encoding first
        when Redis would (too many members, or this one too long)."""
        if self.listpack and (len(self._keys) >= max_entries or len(member) > max_value):
            self.to_skiplist()
        key = score_prefix(score) + member
        self._keys[member] = key
        self._order.add(key)
        if not self.listpack and _is_negative_zero(score):
            self._note_negative_zero(member)

    def update(self, member: bytes, score: float) -> None:
        """Give an existing member a new score."""
        self._order.remove(self._keys[member])
        key = score_prefix(score) + member
        self._keys[member] = key
        self._order.add(key)
        if self._negzero is not None:
            self._forget_negative_zero(member)
        if not self.listpack and _is_negative_zero(score):
            self._note_negative_zero(member)

    def remove(self, member: bytes) -> bool:
        key = self._keys.pop(member, None)
        if key is None:
            return False
        self._order.remove(key)
        if self._negzero is not None:
            self._forget_negative_zero(member)
        return True

    def rank(self, member: bytes) -> int | None:
        """The 0-based position from the lowest score, or None."""
        key = self._keys.get(member)
        if key is None:
            return None
        return self._order.bisect_left(key)

    # -- positions ------------------------------------------------------------------------

    def entries(self, start: int = 0, stop: int | None = None,
                reverse: bool = False) -> list[Entry]:
        """(member, score) at positions [start, stop), highest first if ``reverse``."""
        if stop is None:
            stop = len(self._keys)
        if start >= stop:
            return []
        decode = self._decode
        result = []
        for key in self._order.islice(start, stop, reverse=reverse):
            member = key[8:]
            result.append((member, decode(key, member)))
        return result

    def members_at(self, start: int, stop: int, reverse: bool = False) -> list[bytes]:
        """The members at positions [start, stop), highest first if ``reverse``."""
        if start >= stop:
            return []
        return [key[8:] for key in self._order.islice(start, stop, reverse=reverse)]

    def entry(self, index: int) -> Entry:
        key = self._order[index]
        member = key[8:]
        return member, self._decode(key, member)

    def delete_range(self, start: int, stop: int) -> int:
        """Remove the members at positions [start, stop); returns how many."""
        stop = min(stop, len(self._keys))
        if start >= stop:
            return 0
        order = self._order
        keys = self._keys
        for key in order.islice(start, stop):
            del keys[key[8:]]
        order.delete_range(start, stop)
        if self._negzero is not None:
            self._negzero.intersection_update(keys)
            if not self._negzero:
                self._negzero = None
        return stop - start

    def pop(self, count: int, highest: bool) -> list[Entry]:
        """Remove and return up to ``count`` members from the low or high end, in pop
        order."""
        order, keys, decode = self._order, self._keys, self._decode
        popped = []
        for _ in range(min(count, len(keys))):
            key = order.pop() if highest else order.pop(0)
            member = key[8:]
            popped.append((member, decode(key, member)))
            del keys[member]
            if self._negzero is not None:
                self._forget_negative_zero(member)
        return popped

    # -- score ranges ---------------------------------------------------------------------

    def score_span(self, low: float, low_exclusive: bool, high: float,
                   high_exclusive: bool) -> tuple[int, int]:
        """Positions [start, stop) of the members whose scores are within the range."""
        order = self._order
        start = order.bisect_left(prefix_after(low) if low_exclusive else score_prefix(low))
        stop = order.bisect_left(score_prefix(high) if high_exclusive else prefix_after(high))
        return start, max(start, stop)

    # -- lexicographic ranges ---------------------------------------------------------------
    #
    # Redis assumes every member has the same score here. A listpack is searched by
    # walking it, a skiplist by descending it; on sets that break the assumption the
    # two give different answers, so a listpack-encoded set is walked here too (with
    # the same result as Redis) and a skiplist-encoded one is bisected.

    def _lex_in_range(self, low: LexBound, high: LexBound) -> bool:
        order = self._order
        return (bool(order) and not lex_range_empty(low, high)
                and lex_gte_min(order[-1][8:], low) and lex_lte_max(order[0][8:], high))

    def lex_first(self, low: LexBound, high: LexBound) -> int | None:
        """Position of the first member in the range, as Redis finds it, or None."""
        if not self._lex_in_range(low, high):
            return None
        order = self._order
        if self.listpack:
            for index, key in enumerate(order):
                if lex_gte_min(key[8:], low):
                    return index if lex_lte_max(key[8:], high) else None
            return None
        index = self._lex_search(low, after=low[0] == LEX_EXCLUSIVE)
        if index < len(order) and lex_lte_max(order[index][8:], high):
            return index
        return None

    def lex_last(self, low: LexBound, high: LexBound) -> int | None:
        """Position of the last member in the range, as Redis finds it, or None."""
        if not self._lex_in_range(low, high):
            return None
        order = self._order
        if self.listpack:
            for index in range(len(order) - 1, -1, -1):
                member = order[index][8:]
                if lex_lte_max(member, high):
                    return index if lex_gte_min(member, low) else None
            return None
        index = self._lex_search(high, after=high[0] == LEX_INCLUSIVE) - 1
        if index >= 0 and lex_gte_min(order[index][8:], low):
            return index
        return None

    def _lex_search(self, bound: LexBound, after: bool) -> int:
        """First position whose member is >= the bound's string (> when ``after``)."""
        kind = bound[0]
        if kind == LEX_MIN:
            return 0
        if kind == LEX_MAX:
            return len(self._keys)
        search = bisect_right if after else bisect_left
        value = bound[1]
        order = self._order
        if isinstance(order, SmallSorted):
            return search(order, value, key=_member_of)
        sublists = order.sublists()  # bisect the sublists by member, then one
        if not sublists:
            return 0
        pos = search(sublists, value, key=_last_member)
        if pos == len(sublists):
            return len(self._keys)
        index: int = order.position(pos, search(sublists[pos], value, key=_member_of))
        return index

    def lex_walk(self, start: int, reverse: bool, offset: int, limit: int,
                 low: LexBound, high: LexBound) -> tuple[int, int]:
        """Redis's walk from ``start``: skip ``offset`` members unchecked, then take up
        to ``limit`` (negative: no limit) while they stay within the range (checking
        the far bound only). Returns the positions [start, stop) taken."""
        size = len(self._keys)
        if offset < 0:
            return 0, 0
        if reverse:
            first = start - offset
            if first < 0:
                return 0, 0
            taken = 0
            for key in self._order.iter_reversed_from(first):
                if taken == limit or not lex_gte_min(key[8:], low):
                    break
                taken += 1
            return first + 1 - taken, first + 1
        first = start + offset
        if first >= size:
            return 0, 0
        taken = 0
        for key in self._order.iter_from(first):
            if taken == limit or not lex_lte_max(key[8:], high):
                break
            taken += 1
        return first, first + taken

    # -- scanning and sampling ------------------------------------------------------------

    def __iter__(self) -> Iterator[Entry]:
        """(member, score) pairs from the lowest score."""
        decode = self._decode
        for key in self._order:
            member = key[8:]
            yield member, decode(key, member)

    # -- internals ------------------------------------------------------------------------

    def _decode(self, key: bytes, member: bytes) -> float:
        score = sort_key_score(key)
        if score == 0.0 and self._negzero is not None and member in self._negzero:
            return -0.0
        return score

    def _note_negative_zero(self, member: bytes) -> None:
        if self._negzero is None:
            self._negzero = set()
        self._negzero.add(member)

    def _forget_negative_zero(self, member: bytes) -> None:
        negzero = self._negzero
        if negzero is not None:
            negzero.discard(member)
            if not negzero:
                self._negzero = None


def _last_member(sublist: list[bytes]) -> bytes:
    return sublist[-1][8:]
