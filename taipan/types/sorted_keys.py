"""The ordered index of a big sorted set (Redis's "skiplist" encoding): sort keys kept
in order in a list of short sorted sublists, as ``sortedcontainers.SortedList`` does.

It is its own class, compiled with the sorted set (``hot_path.COMPILED_MODULES``),
because ``SortedList`` is interpreted Python: its ``add``, ``remove`` and ``pop`` cost
more than the rest of a ZADD or ZPOPMIN together. Only what ``types/zset.py`` needs
is here.

- Sort keys are bytes, so every comparison is a memcmp and every search a C bisect:
  over the sublists' last keys (``_maxes``), then within one sublist.
- A sublist splits above ``2 * _LOAD`` keys and is merged into a neighbour below
  ``_LOAD // 2``. The load is smaller than ``SortedList``'s 1000: compiled, a level of
  search costs little, and popping the lowest key moves the rest of its sublist.
- Positions (ranks, ranges by index) come from a Fenwick tree over the sublists'
  lengths, built on first use and kept up to date until a split or merge changes
  the sublists. The two ends need no tree: ZPOPMIN, ZPOPMAX and the first and last
  keys never build it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from typing import Final

_LOAD: Final = 512


class SortedKeys:
    __slots__ = ("_lists", "_maxes", "_len", "_tree")

    def __init__(self, keys: Iterable[bytes] = ()) -> None:
        self._lists: list[list[bytes]] = []
        self._maxes: list[bytes] = []
        self._len = 0
        # Fenwick tree of the sublists' lengths (1-based); None until a position is asked.
        self._tree: list[int] | None = None
        self._fill(sorted(keys))

    def _fill(self, ordered: list[bytes]) -> None:
        """Replace the contents by ``ordered`` (sorted), in full sublists."""
        self._lists = [ordered[start:start + _LOAD] for start in range(0, len(ordered), _LOAD)]
        self._maxes = [sublist[-1] for sublist in self._lists]
        self._len = len(ordered)
        self._tree = None

    def copy(self) -> SortedKeys:
        twin = SortedKeys()
        twin._lists = [sublist[:] for sublist in self._lists]
        twin._maxes = self._maxes[:]
        twin._len = self._len
        return twin

    def clear(self) -> None:
        self._lists = []
        self._maxes = []
        self._len = 0
        self._tree = None

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[bytes]:
        for sublist in self._lists:
            yield from sublist

    # -- changes --------------------------------------------------------------------------

    def add(self, key: bytes) -> None:
        maxes = self._maxes
        if not maxes:
            self._lists.append([key])
            maxes.append(key)
            self._len = 1
            self._tree = None
            return
        pos = bisect_right(maxes, key)
        if pos == len(maxes):  # past every key: appended to the last sublist
            pos -= 1
            sublist = self._lists[pos]
            sublist.append(key)
            maxes[pos] = key
        else:
            sublist = self._lists[pos]
            insort(sublist, key)
        self._len += 1
        if len(sublist) > 2 * _LOAD:
            self._split(pos)
        elif self._tree is not None:
            self._tree_add(pos, 1)

    def remove(self, key: bytes) -> None:
        """Remove ``key``; ValueError if it isn't there."""
        maxes = self._maxes
        pos = bisect_left(maxes, key)
        if pos == len(maxes):
            raise ValueError(f"{key!r} not in the index")
        sublist = self._lists[pos]
        index = bisect_left(sublist, key)
        if sublist[index] != key:
            raise ValueError(f"{key!r} not in the index")
        self._delete(pos, index)

    def pop(self, index: int = -1) -> bytes:
        """Remove and return the key at ``index`` (negative: from the end)."""
        pos, offset = self._locate(index)
        key = self._lists[pos][offset]
        self._delete(pos, offset)
        return key

    def delete_range(self, start: int, stop: int) -> None:
        """Remove the keys at positions [start, stop) (within bounds)."""
        if stop - start >= self._len:
            self.clear()
            return
        if stop - start > _LOAD:  # a big cut: rebuilt from what stays
            kept = self.islice(0, start)
            kept.extend(self.islice(stop, self._len))
            self._fill(kept)
            return
        for _ in range(stop - start):
            pos, offset = self._locate(start)
            self._delete(pos, offset)

    def _split(self, pos: int) -> None:
        lists, maxes = self._lists, self._maxes
        sublist = lists[pos]
        upper = sublist[_LOAD:]
        del sublist[_LOAD:]
        maxes[pos] = sublist[-1]
        lists.insert(pos + 1, upper)
        maxes.insert(pos + 1, upper[-1])
        self._tree = None

    def _delete(self, pos: int, index: int) -> None:
        lists, maxes = self._lists, self._maxes
        sublist = lists[pos]
        del sublist[index]
        self._len -= 1
        size = len(sublist)
        if size > _LOAD // 2 or (size and len(lists) == 1):
            maxes[pos] = sublist[-1]
            if self._tree is not None:
                self._tree_add(pos, -1)
        elif len(lists) > 1:  # too short: merged into a neighbour (split again if long)
            if pos == 0:
                pos = 1
            into = lists[pos - 1]
            into.extend(lists[pos])
            maxes[pos - 1] = into[-1]
            del lists[pos]
            del maxes[pos]
            self._tree = None
            if len(into) > 2 * _LOAD:
                self._split(pos - 1)
        else:  # the last key of the last sublist
            self.clear()

    # -- positions ------------------------------------------------------------------------

    def _build_tree(self) -> list[int]:
        lists = self._lists
        count = len(lists)
        tree = [0] * (count + 1)
        for node in range(1, count + 1):
            tree[node] += len(lists[node - 1])
            parent = node + (node & -node)
            if parent <= count:
                tree[parent] += tree[node]
        self._tree = tree
        return tree

    def _tree_add(self, pos: int, delta: int) -> None:
        tree = self._tree
        assert tree is not None
        node = pos + 1
        size = len(tree)
        while node < size:
            tree[node] += delta
            node += node & -node

    def _locate(self, index: int) -> tuple[int, int]:
        """(sublist, offset) of the key at ``index`` (negative: from the end)."""
        size = self._len
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("index out of range")
        lists = self._lists
        first = len(lists[0])
        if index < first:
            return 0, index
        last = len(lists[-1])
        if index >= size - last:
            return len(lists) - 1, index - (size - last)
        tree = self._tree
        if tree is None:
            tree = self._build_tree()
        count = len(lists)
        pos = 0
        step = 1 << (count.bit_length() - 1)
        while step:
            node = pos + step
            if node <= count and tree[node] <= index:
                pos = node
                index -= tree[node]
            step >>= 1
        return pos, index

    def position(self, pos: int, offset: int) -> int:
        """The index of the key at ``offset`` in sublist ``pos``."""
        if pos == 0:
            return offset
        tree = self._tree
        if tree is None:
            tree = self._build_tree()
        node = pos
        while node:
            offset += tree[node]
            node -= node & -node
        return offset

    def __getitem__(self, index: int) -> bytes:
        pos, offset = self._locate(index)
        return self._lists[pos][offset]

    def bisect_left(self, key: bytes) -> int:
        maxes = self._maxes
        pos = bisect_left(maxes, key)
        if pos == len(maxes):
            return self._len
        return self.position(pos, bisect_left(self._lists[pos], key))

    def bisect_right(self, key: bytes) -> int:
        maxes = self._maxes
        pos = bisect_right(maxes, key)
        if pos == len(maxes):
            return self._len
        return self.position(pos, bisect_right(self._lists[pos], key))

    def sublists(self) -> list[list[bytes]]:
        """The sublists themselves, in order (a search by another key than the sort key:
        ``ZSet._lex_search``); not to be changed."""
        return self._lists

    def islice(self, start: int, stop: int, reverse: bool = False) -> list[bytes]:
        """The keys at positions [start, stop), lowest first or (``reverse``) last first."""
        start = max(start, 0)
        stop = min(stop, self._len)
        if start >= stop:
            return []
        pos, offset = self._locate(start)
        lists = self._lists
        out = lists[pos][offset:offset + stop - start]
        while len(out) < stop - start:
            pos += 1
            out.extend(lists[pos][:stop - start - len(out)])
        if reverse:
            out.reverse()
        return out

    def iter_reversed_from(self, index: int) -> Iterator[bytes]:
        """Keys from position ``index`` down to the first, one at a time (a walk that
        may stop early)."""
        if index < 0 or not self._len:
            return
        pos, offset = self._locate(min(index, self._len - 1))
        lists = self._lists
        while pos >= 0:
            sublist = lists[pos]
            while offset >= 0:
                yield sublist[offset]
                offset -= 1
            pos -= 1
            if pos >= 0:
                offset = len(lists[pos]) - 1

    def iter_from(self, index: int) -> Iterator[bytes]:
        """Keys from position ``index`` up to the last, one at a time."""
        if index >= self._len:
            return
        pos, offset = self._locate(max(index, 0))
        lists = self._lists
        while pos < len(lists):
            sublist = lists[pos]
            while offset < len(sublist):
                yield sublist[offset]
                offset += 1
            pos += 1
            offset = 0
