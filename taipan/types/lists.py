"""The list type: a deque (O(1) at both ends, like Redis's quicklist).

Positional work reaches its index from the nearer end, as the quicklist does:
``deque`` indexing already walks from the closer end, and ``slice`` rotates the
deque (a C-level move, O(distance to the nearer end)) instead of iterating to the
start of the range. Bulk removals run at C speed where they can.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from functools import partial
from itertools import compress, count, filterfalse, islice, repeat
from operator import eq
from typing import Any


class RedisList(deque):
    """A Redis list. Redis 7.0 reports every list as "quicklist"."""

    __slots__ = ()
    TYPE_NAME = "list"

    def encoding(self, config: Any) -> str:
        return "quicklist"

    def copy(self) -> RedisList:
        return RedisList(self)

    def slice(self, begin: int, end: int) -> list[bytes]:
        """Items ``[begin, end)`` (valid bounds); O(distance from the nearer end + count)."""
        if begin <= 0:
            return list(islice(self, end))
        # rotate() takes the shorter way round, so this is cheap near either end.
        self.rotate(-begin)
        try:
            return list(islice(self, end - begin))
        finally:
            self.rotate(begin)

    def pop_many(self, how_many: int, left: bool) -> list[bytes]:
        """Pop up to ``how_many`` items from one end, in popping order."""
        pop = self.popleft if left else self.pop
        return [pop() for _ in range(min(how_many, len(self)))]

    def trim(self, begin: int, end: int) -> int:
        """Keep only ``[begin, end)`` (valid bounds); returns how many items went.

        O(removed): pops when few go, otherwise copies the kept part (which is then
        smaller than the removed part) and rebuilds.
        """
        removed = len(self) - (end - begin)
        if removed <= end - begin:
            for _ in repeat(None, len(self) - end):
                self.pop()
            for _ in repeat(None, begin):
                self.popleft()
        else:
            kept = self.slice(begin, end)
            self.clear()
            self.extend(kept)
        return removed

    def _scan(self, element: bytes, from_tail: bool, limit: int | None) -> Iterator[int]:
        """Offsets (from the scanned end) of items equal to ``element``, C-speed."""
        items = reversed(self) if from_tail else iter(self)
        if limit is not None and limit < len(self):
            items = islice(items, limit)
        return compress(count(), map(eq, repeat(element), items))

    def find(self, element: bytes, skip: int, from_tail: bool, wanted: int | None,
             maxlen: int | None) -> list[int]:
        """LPOS: indexes of matches after skipping ``skip`` of them, at most ``wanted``
        (None: all) among the first ``maxlen`` items scanned (None: all)."""
        skip = min(skip, len(self))  # ranks and counts go up to 2**63
        stop = None if wanted is None else min(skip + wanted, len(self))
        offsets = islice(self._scan(element, from_tail, maxlen), skip, stop)
        if from_tail:
            last = len(self) - 1
            return [last - offset for offset in offsets]
        return list(offsets)

    def remove_matches(self, element: bytes, limit: int | None, from_tail: bool) -> int:
        """LREM: remove the first ``limit`` (None: all) items equal to ``element``
        scanning from one end; O(length of the scanned stretch)."""
        if limit is not None and limit >= len(self):
            limit = None  # counts go up to 2**63, more than islice takes
        hits = list(islice(self._scan(element, from_tail, None), limit))
        if not hits:
            return 0
        scanned = hits[-1] + 1  # no item past the last hit is touched
        if scanned * 4 <= len(self):
            pop = self.pop if from_tail else self.popleft
            stretch = [pop() for _ in range(scanned)]
            kept = list(filterfalse(partial(eq, element), stretch))
            kept.reverse()
            if from_tail:
                self.extend(kept)
            else:
                self.extendleft(kept)
        else:
            # Every item of the scanned stretch equal to ``element`` is a hit.
            items = list(self)
            if from_tail:
                cut = len(items) - scanned
                items[cut:] = filterfalse(partial(eq, element), items[cut:])
            else:
                items[:scanned] = filterfalse(partial(eq, element), items[:scanned])
            self.clear()
            self.extend(items)
        return len(hits)
