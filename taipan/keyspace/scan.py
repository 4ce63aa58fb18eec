"""Cursor bookkeeping for SCAN-style iteration over Python dicts.

Python exposes no stable bucket order, so a scan that begins at cursor 0 takes a
snapshot of the key list (one O(N) copy, amortised over the O(N) scan) and later
calls walk that snapshot, skipping keys deleted since. Every key present for the
whole scan is in the snapshot, which gives Redis's guarantee. The cursor packs the
snapshot id and the position; a few recent snapshots are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

_POSITION_BITS = 40
_POSITION_MASK = (1 << _POSITION_BITS) - 1
_MAX_SNAPSHOTS = 32


class ScanSnapshots:
    def __init__(self) -> None:
        self._snapshots: OrderedDict[int, list[Any]] = OrderedDict()
        self._next_id = 1

    def page(self, source: Iterable[Any], size: int, cursor: int, count: int) -> tuple[int, list[Any]]:
        """Up to ``count`` entries of ``source`` from ``cursor``; returns (next, items).

        Items may since have been deleted: the caller filters them.
        """
        if cursor == 0 and size <= count:
            return 0, list(source)
        snapshot_id, position = cursor >> _POSITION_BITS, cursor & _POSITION_MASK
        snapshot = self._snapshots.get(snapshot_id) if cursor else None
        if snapshot is None:
            snapshot = list(source)
            snapshot_id = self._next_id
            self._next_id += 1
            self._snapshots[snapshot_id] = snapshot
            if len(self._snapshots) > _MAX_SNAPSHOTS:
                self._snapshots.popitem(last=False)
            if cursor == 0:
                position = 0
        else:
            self._snapshots.move_to_end(snapshot_id)
        items = snapshot[position:position + count]
        position += count
        if position >= len(snapshot):
            self._snapshots.pop(snapshot_id, None)
            return 0, items
        return (snapshot_id << _POSITION_BITS) | position, items
