"""RedisList helpers against naive models written straight from Redis's semantics."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from taipan.types.lists import RedisList

ELEMENTS = st.lists(st.sampled_from([b"a", b"b", b""]), max_size=60)
POSITIONS = st.integers(min_value=0, max_value=70)


def bounds(data: st.DataObject, length: int) -> tuple[int, int]:
    begin = data.draw(st.integers(0, max(length - 1, 0)))
    end = data.draw(st.integers(begin + 1, max(length, begin + 1)))
    return begin, min(end, length)


@given(ELEMENTS, st.data())
def test_slice_matches_list_slicing_and_leaves_the_list_alone(items: list[bytes],
                                                              data: st.DataObject) -> None:
    redis_list = RedisList(items)
    begin, end = bounds(data, len(items))
    assert redis_list.slice(begin, end) == items[begin:end]
    assert list(redis_list) == items


@given(ELEMENTS, st.data())
def test_trim_keeps_the_range_and_counts_what_went(items: list[bytes],
                                                   data: st.DataObject) -> None:
    redis_list = RedisList(items)
    begin, end = bounds(data, len(items))
    removed = redis_list.trim(begin, end)
    assert list(redis_list) == items[begin:end]
    assert removed == len(items) - len(items[begin:end])


@given(ELEMENTS, POSITIONS, st.booleans())
def test_pop_many(items: list[bytes], how_many: int, left: bool) -> None:
    redis_list = RedisList(items)
    popped = redis_list.pop_many(how_many, left)
    taken = min(how_many, len(items))
    if left:
        assert popped == items[:taken]
        assert list(redis_list) == items[taken:]
    else:
        assert popped == items[::-1][:taken]
        assert list(redis_list) == items[:len(items) - taken]


def naive_find(items: list[bytes], element: bytes, skip: int, from_tail: bool,
               wanted: int | None, maxlen: int | None) -> list[int]:
    order = list(range(len(items)))
    if from_tail:
        order.reverse()
    if maxlen is not None:
        order = order[:maxlen]
    matches = [index for index in order if items[index] == element][skip:]
    return matches if wanted is None else matches[:wanted]


@given(ELEMENTS, st.sampled_from([b"a", b"b", b"z"]), POSITIONS, st.booleans(),
       st.none() | st.integers(1, 70), st.none() | st.integers(1, 70))
def test_find(items: list[bytes], element: bytes, skip: int, from_tail: bool,
              wanted: int | None, maxlen: int | None) -> None:
    expected = naive_find(items, element, skip, from_tail, wanted, maxlen)
    assert RedisList(items).find(element, skip, from_tail, wanted, maxlen) == expected


def test_find_takes_64_bit_ranks_and_counts() -> None:
    redis_list = RedisList([b"a", b"b", b"a"])
    assert redis_list.find(b"a", 2**63 - 2, False, 2**63 - 1, None) == []
    assert redis_list.find(b"a", 0, True, 2**63 - 1, 2**63 - 1) == [2, 0]


def naive_remove(items: list[bytes], element: bytes, limit: int | None,
                 from_tail: bool) -> tuple[list[bytes], int]:
    order = items[::-1] if from_tail else list(items)
    kept, removed = [], 0
    for item in order:
        if item == element and (limit is None or removed < limit):
            removed += 1
        else:
            kept.append(item)
    return (kept[::-1] if from_tail else kept), removed


@given(st.lists(st.sampled_from([b"a", b"b", b"c", b"d"]), max_size=200),
       st.sampled_from([b"a", b"b", b"z"]),
       st.none() | st.integers(1, 6) | st.integers(1, 2**63), st.booleans())
def test_remove_matches(items: list[bytes], element: bytes, limit: int | None,
                        from_tail: bool) -> None:
    redis_list = RedisList(items)
    expected, removed = naive_remove(items, element, limit, from_tail)
    assert redis_list.remove_matches(element, limit, from_tail) == removed
    assert list(redis_list) == expected


def test_remove_matches_near_one_end_takes_the_short_path() -> None:
    # Only the few items up to the last removed match are taken off and put back.
    middle = [b"%d" % i for i in range(1000)]
    items = [b"p", b"x", b"q", b"x", b"r"] + middle + [b"s", b"x", b"t", b"x", b"u"]
    redis_list = RedisList(items)
    assert redis_list.remove_matches(b"x", 2, from_tail=True) == 2
    assert redis_list.remove_matches(b"x", 2, from_tail=False) == 2
    assert list(redis_list) == [b"p", b"q", b"r"] + middle + [b"s", b"t", b"u"]


def test_positional_work_starts_from_the_nearer_end() -> None:
    """A range at either end of a million items costs about the same as a short list."""
    redis_list = RedisList(b"%d" % i for i in range(1_000_000))
    started = time.perf_counter()
    for _ in range(100):
        assert redis_list.slice(0, 100)[0] == b"0"
        assert redis_list.slice(999_900, 1_000_000)[-1] == b"999999"
        assert redis_list[999_998] == b"999998"
    per_op = (time.perf_counter() - started) / 300
    assert per_op < 0.001, f"{per_op * 1e6:.0f} µs per range near an end"


def test_copy_and_encoding() -> None:
    redis_list = RedisList([b"a"])
    clone = redis_list.copy()
    clone.append(b"b")
    assert type(clone) is RedisList
    assert list(redis_list) == [b"a"]
    assert redis_list.encoding(None) == "quicklist"
