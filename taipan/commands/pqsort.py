"""Redis's ``pqsort``: the partial quicksort SORT ... LIMIT and GEOSEARCH ... COUNT use.

It is not stable, so where distinct elements compare equal their final order depends
on the algorithm's exact steps: reproducing them step for step is the only way to put
ties where Redis puts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Compare = Callable[[Any, Any], int]


def _median_of_three(items: list, i: int, j: int, k: int, cmp: Compare) -> int:
    if cmp(items[i], items[j]) < 0:
        if cmp(items[j], items[k]) < 0:
            return j
        return k if cmp(items[i], items[k]) < 0 else i
    if cmp(items[j], items[k]) > 0:
        return j
    return i if cmp(items[i], items[k]) < 0 else k


def _swap_runs(items: list, i: int, j: int, n: int) -> None:
    for k in range(n):
        items[i + k], items[j + k] = items[j + k], items[i + k]


def partial_quicksort(items: list, cmp: Compare, low: int, high: int) -> None:
    """Bentley-McIlroy quicksort (three-way partition) that only recurses into parts
    overlapping positions [low, high], leaving those sorted: the algorithm of Redis's
    pqsort, step for step, so equal elements end up where Redis puts them."""
    _partial_sort(items, 0, len(items), cmp, low, high)


def _partial_sort(items: list, base: int, n: int, cmp: Compare, low: int, high: int) -> None:
    while True:
        if n < 7:  # insertion sort
            for m in range(base + 1, base + n):
                j = m
                while j > base and cmp(items[j - 1], items[j]) > 0:
                    items[j - 1], items[j] = items[j], items[j - 1]
                    j -= 1
            return
        mid = base + n // 2
        if n > 7:
            left, right = base, base + n - 1
            if n > 40:
                d = n // 8
                left = _median_of_three(items, left, left + d, left + 2 * d, cmp)
                mid = _median_of_three(items, mid - d, mid, mid + d, cmp)
                right = _median_of_three(items, right - 2 * d, right - d, right, cmp)
            mid = _median_of_three(items, left, mid, right, cmp)
        items[base], items[mid] = items[mid], items[base]
        pivot_hi = below = base + 1  # [base, pivot_hi): equal to the pivot
        above = pivot_lo = base + n - 1  # (pivot_lo, end): equal to the pivot
        while True:
            while below <= above:
                order = cmp(items[below], items[base])
                if order > 0:
                    break
                if order == 0:
                    items[pivot_hi], items[below] = items[below], items[pivot_hi]
                    pivot_hi += 1
                below += 1
            while below <= above:
                order = cmp(items[above], items[base])
                if order < 0:
                    break
                if order == 0:
                    items[above], items[pivot_lo] = items[pivot_lo], items[above]
                    pivot_lo -= 1
                above -= 1
            if below > above:
                break
            items[below], items[above] = items[above], items[below]
            below += 1
            above -= 1
        end = base + n
        r = min(pivot_hi - base, below - pivot_hi)
        _swap_runs(items, base, below - r, r)
        r = min(pivot_lo - above, end - pivot_lo - 1)
        _swap_runs(items, below, end - r, r)
        r = below - pivot_hi
        if r > 1 and not (high < base or low >= base + r):
            _partial_sort(items, base, r, cmp, low, high)
        r = pivot_lo - above
        if r > 1:
            base, n = end - r, r
            if not (high < base or low >= base + r):
                continue
        return
