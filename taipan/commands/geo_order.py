"""How geo searches order their results: by distance, ties exactly where Redis leaves them.

When every point found is returned Redis sorts with glibc's qsort, a stable merge sort,
so a stable sort gives the same order. When COUNT cuts the list Redis runs its own
partial quicksort (pqsort), which is not stable: ties among the first COUNT points
come out in the order that algorithm leaves them, so it is reproduced step for step.
"""

from __future__ import annotations

from collections.abc import Callable

# A point found: [distance in metres, member, score, longitude, latitude].
Point = list
Compare = Callable[[Point, Point], int]


def _ascending(a: Point, b: Point) -> int:
    if a[0] > b[0]:
        return 1
    if a[0] == b[0]:
        return 0
    return -1


def _descending(a: Point, b: Point) -> int:
    return -_ascending(a, b)


def order_points(points: list[Point], returned: int, descending: bool) -> None:
    """Sort by distance as Redis does: glibc's qsort (a stable merge sort) when every
    point is returned, else Redis's partial quicksort of the first ``returned``."""
    cmp = _descending if descending else _ascending
    if returned < len(points):
        partial_sort(points, cmp, 0, returned - 1)
    elif any(point[0] != point[0] for point in points):
        # A NaN distance (asin just past 1) makes the comparator inconsistent, and
        # only glibc's own merge order then gives glibc's result.
        points[:] = merge_sort(points, cmp)
    else:
        points.sort(key=_first, reverse=descending)


def merge_sort(items: list, cmp: Compare) -> list:
    """glibc's qsort (msort): top-down halves, ties taken from the left run."""
    if len(items) <= 1:
        return items
    half = len(items) // 2
    left, right = merge_sort(items[:half], cmp), merge_sort(items[half:], cmp)
    merged = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    merged.extend(left[i:])
    merged.extend(right[j:])
    return merged


def _first(point: Point) -> float:
    return point[0]


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


def partial_sort(items: list, cmp: Compare, low: int, high: int) -> None:
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
