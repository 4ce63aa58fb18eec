"""How geo searches order their results: by distance, ties exactly where Redis leaves them.

When every point found is returned Redis sorts with glibc's qsort, a stable merge sort,
so a stable sort gives the same order. When COUNT cuts the list Redis runs its own
partial quicksort (pqsort), which is not stable: ties among the first COUNT points
come out in the order that algorithm leaves them, so it is reproduced step for step.
"""

from __future__ import annotations

from collections.abc import Callable

from taipan.commands.pqsort import partial_quicksort

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
        partial_quicksort(points, cmp, 0, returned - 1)
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
