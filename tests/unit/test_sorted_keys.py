"""``SortedKeys`` (the big sorted set's ordered index) against a plain sorted list: every
operation, through enough adds and removes to split, merge and rebuild its sublists
and its position index many times."""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right, insort

import pytest

from taipan.types.sorted_keys import SortedKeys


def _check(index: SortedKeys, model: list[bytes]) -> None:
    assert len(index) == len(model)
    assert bool(index) == bool(model)
    assert list(index) == model
    for position in {0, len(model) // 3, len(model) // 2, len(model) - 1}:
        if 0 <= position < len(model):
            assert index[position] == model[position]
            assert index[position - len(model)] == model[position]


@pytest.mark.parametrize("seed", range(6))
def test_random_operations_match_a_sorted_list(seed: int) -> None:
    rng = random.Random(seed)
    index, model = SortedKeys(), []
    universe = [b"%08d" % n for n in range(6000)]
    for step in range(12_000):
        roll = rng.random()
        if roll < 0.5 or len(model) < 10:
            key = rng.choice(universe)
            if key not in model:
                index.add(key)
                insort(model, key)
        elif roll < 0.7:
            key = rng.choice(model)
            index.remove(key)
            model.remove(key)
        elif roll < 0.8:
            where = rng.choice([0, -1, rng.randrange(len(model))])
            assert index.pop(where) == model.pop(where)
        elif roll < 0.9:
            probe = rng.choice(universe) + rng.choice([b"", b"\x00"])
            assert index.bisect_left(probe) == bisect_left(model, probe)
            assert index.bisect_right(probe) == bisect_right(model, probe)
            key = rng.choice(model)
            assert index.bisect_left(key) == model.index(key)  # a rank
        elif roll < 0.95:
            start = rng.randrange(-3, len(model) + 3)
            stop = start + rng.randrange(0, 1500)
            assert index.islice(start, stop) == model[max(start, 0):stop]
            assert index.islice(start, stop, reverse=True) == model[max(start, 0):stop][::-1]
            at = rng.randrange(-2, len(model) + 2)
            assert list(index.iter_from(at)) == model[max(at, 0):]
            assert list(index.iter_reversed_from(at)) == (
                [] if at < 0 else model[:at + 1][::-1])
        elif roll < 0.97:
            start = rng.randrange(len(model))
            stop = min(len(model), start + rng.choice([1, 3, 700]))
            index.delete_range(start, stop)
            del model[start:stop]
        else:
            twin = index.copy()
            _check(twin, model)
            if model:
                twin.pop(0)  # the copy is independent
        if step % 500 == 0:
            _check(index, model)
    _check(index, model)


def test_built_from_unsorted_keys_and_emptied() -> None:
    keys = [b"%d" % n for n in range(5000)]
    shuffled = keys[:]
    random.Random(1).shuffle(shuffled)
    index = SortedKeys(shuffled)
    _check(index, sorted(keys))
    assert index.bisect_left(b"2500") == sorted(keys).index(b"2500")
    while index:
        index.pop(0)
    assert len(index) == 0 and list(index) == [] and index.islice(0, 10) == []
    index.add(b"x")
    assert list(index) == [b"x"]


def test_missing_keys_and_positions_raise() -> None:
    index = SortedKeys([b"a", b"c"])
    with pytest.raises(ValueError):
        index.remove(b"b")
    with pytest.raises(ValueError):
        index.remove(b"z")
    with pytest.raises(IndexError):
        index[2]
    with pytest.raises(IndexError):
        SortedKeys().pop(0)
