"""The ordered index of a small sorted set: a sorted list with the methods of
``SortedKeys`` (``types/sorted_keys.py``) that ``types/zset.py`` uses. A list subclass,
so it stays interpreted when mypyc compiles the sorted set itself."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from itertools import islice


class SmallSorted(list):
    """The ordered index of a small set: a sorted list with SortedKeys' methods."""

    __slots__ = ()

    def add(self, key: bytes) -> None:
        insort(self, key)

    def remove(self, key: bytes) -> None:
        del self[bisect_left(self, key)]

    def bisect_left(self, key: bytes) -> int:
        return bisect_left(self, key)

    def bisect_right(self, key: bytes) -> int:
        return bisect_right(self, key)

    def islice(self, start: int, stop: int, reverse: bool = False) -> Iterator[bytes]:
        if reverse:
            return reversed(self[start:stop])
        return islice(self, start, stop)

    def delete_range(self, start: int, stop: int) -> None:
        del self[start:stop]

    def iter_from(self, index: int) -> Iterator[bytes]:
        return islice(self, max(index, 0), None)

    def iter_reversed_from(self, index: int) -> Iterator[bytes]:
        if index < 0:
            return iter(())
        return reversed(self[:index + 1])
