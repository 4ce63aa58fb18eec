"""The sorted-set type on its own: order, ranks, ranges, encodings, -0, and a model."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taipan.types.zset import (
    LEX_EXCLUSIVE,
    LEX_INCLUSIVE,
    LEX_MAX,
    LEX_MIN,
    ZSet,
    lex_range_empty,
    prefix_after,
    score_prefix,
    sort_key_score,
)

BIG = 1 << 30  # listpack limits that never force a skiplist


def make(pairs: dict[bytes, float], listpack: bool = True) -> ZSet:
    zset = ZSet(listpack=listpack)
    for member, score in pairs.items():
        zset.add(member, score, BIG if listpack else 0, BIG)
    return zset


def is_negative_zero(value: float) -> bool:
    return value == 0.0 and math.copysign(1.0, value) < 0


SCORES = st.floats(allow_nan=False)


# -- the sort key ---------------------------------------------------------------------

@given(SCORES, SCORES)
def test_prefix_orders_like_the_scores(a: float, b: float) -> None:
    if a < b:
        assert score_prefix(a) < score_prefix(b)
    elif a == b:
        assert score_prefix(a) == score_prefix(b)
    else:
        assert score_prefix(a) > score_prefix(b)


@given(SCORES)
def test_prefix_round_trips(score: float) -> None:
    decoded = sort_key_score(score_prefix(score) + b"member")
    assert decoded == score
    assert struct.pack(">d", decoded) == struct.pack(">d", 0.0 if score == 0 else score)
    assert score_prefix(score) < prefix_after(score)


def test_prefix_extremes() -> None:
    assert score_prefix(-math.inf) < score_prefix(-1e308) < score_prefix(-5e-324)
    assert score_prefix(-5e-324) < score_prefix(0.0) == score_prefix(-0.0)
    assert score_prefix(0.0) < score_prefix(5e-324) < score_prefix(1e308) < score_prefix(math.inf)


# -- single members -------------------------------------------------------------------

@pytest.mark.parametrize("listpack", [True, False])
def test_add_score_rank_remove(listpack: bool) -> None:
    zset = make({b"b": 2.0, b"a": 2.0, b"c": 1.0, b"d": -math.inf}, listpack)
    assert len(zset) == 4
    assert [m for m, _ in zset] == [b"d", b"c", b"a", b"b"]  # ties ordered by member
    assert zset.score(b"a") == 2.0 and zset.score(b"zz") is None
    assert [zset.rank(m) for m in (b"d", b"c", b"a", b"b", b"x")] == [0, 1, 2, 3, None]
    zset.update(b"d", 10.0)
    assert zset.rank(b"d") == 3 and zset.score(b"d") == 10.0
    assert zset.remove(b"c") and not zset.remove(b"c")
    assert b"c" not in zset and b"a" in zset
    assert zset.entries() == [(b"a", 2.0), (b"b", 2.0), (b"d", 10.0)]


def test_members_compare_as_unsigned_bytes_then_length() -> None:
    zset = make({b"\xff": 0.0, b"a": 0.0, b"ab": 0.0, b"": 0.0, b"a\x00": 0.0})
    assert [m for m, _ in zset] == [b"", b"a", b"a\x00", b"ab", b"\xff"]


def test_listpack_converts_on_count_and_length() -> None:
    zset = ZSet()
    for i in range(3):
        zset.add(b"m%d" % i, i, 3, 5)
    assert zset.listpack and zset.encoding(None) == "listpack"
    zset.add(b"m3", 3, 3, 5)
    assert not zset.listpack and zset.encoding(None) == "skiplist"
    zset.delete_range(0, 3)  # Redis never converts back
    assert not zset.listpack
    long_member = ZSet()
    long_member.add(b"123456", 1, 3, 5)
    assert not long_member.listpack


def test_negative_zero_in_each_encoding() -> None:
    small = make({b"a": -0.0})
    assert not is_negative_zero(small.score(b"a"))  # a listpack stores "0"
    big = make({b"a": -0.0, b"b": 0.0}, listpack=False)
    assert is_negative_zero(big.score(b"a")) and not is_negative_zero(big.score(b"b"))
    assert [m for m, _ in big] == [b"a", b"b"]  # -0 sorts as 0
    assert is_negative_zero(big.entries()[0][1])
    big.update(b"a", 1.0)
    assert big.score(b"a") == 1.0
    big.update(b"b", -0.0)
    assert is_negative_zero(big.score(b"b"))
    twin = big.copy()
    big.remove(b"b")
    assert is_negative_zero(twin.score(b"b"))


def test_conversion_keeps_later_negative_zero() -> None:
    zset = ZSet()
    zset.add(b"a", -0.0, 1, 64)
    zset.add(b"b", -0.0, 1, 64)  # converts first, then stores -0
    assert not is_negative_zero(zset.score(b"a"))
    assert is_negative_zero(zset.score(b"b"))


# -- positions and ranges -------------------------------------------------------------

@pytest.mark.parametrize("listpack", [True, False])
def test_positions(listpack: bool) -> None:
    zset = make({b"a": 1, b"b": 2, b"c": 3, b"d": 4, b"e": 5}, listpack)
    assert zset.members_at(1, 3) == [b"b", b"c"]
    assert zset.members_at(1, 3, reverse=True) == [b"c", b"b"]
    assert zset.entries(3, 5, reverse=True) == [(b"e", 5.0), (b"d", 4.0)]
    assert zset.entry(-1) == (b"e", 5.0)
    assert zset.members_at(3, 3) == [] and zset.entries(4, 2) == []


@pytest.mark.parametrize("listpack", [True, False])
def test_score_span(listpack: bool) -> None:
    zset = make({b"a": 1, b"b": 2, b"c": 2, b"d": 3, b"e": math.inf}, listpack)
    assert zset.score_span(2, False, 2, False) == (1, 3)
    assert zset.score_span(2, True, 3, False) == (3, 4)
    assert zset.score_span(2, False, 3, True) == (1, 3)
    assert zset.score_span(-math.inf, False, math.inf, False) == (0, 5)
    assert zset.score_span(3, False, 1, False) == (3, 3)  # empty, never inverted
    assert zset.score_span(math.inf, False, math.inf, False) == (4, 5)


@pytest.mark.parametrize("listpack", [True, False])
def test_delete_range_and_pop(listpack: bool) -> None:
    zset = make({b"a": 1, b"b": 2, b"c": 3, b"d": 4, b"e": 5}, listpack)
    assert zset.delete_range(1, 3) == 2
    assert [m for m, _ in zset] == [b"a", b"d", b"e"] and b"b" not in zset
    assert zset.pop(2, highest=True) == [(b"e", 5.0), (b"d", 4.0)]
    assert zset.pop(5, highest=False) == [(b"a", 1.0)]
    assert len(zset) == 0


def bound(text: str) -> tuple[int, bytes]:
    if text in "-+":
        return (LEX_MIN if text == "-" else LEX_MAX), b""
    kind = LEX_INCLUSIVE if text[0] == "[" else LEX_EXCLUSIVE
    return kind, text[1:].encode()


@pytest.mark.parametrize("listpack", [True, False])
@pytest.mark.parametrize(("low", "high", "first", "last"), [
    ("-", "+", 0, 4), ("[b", "[d", 1, 3), ("(b", "(d", 2, 2), ("[bb", "+", 2, 4),
    ("(e", "+", None, None), ("-", "(a", None, None), ("[c", "[b", None, None),
    ("+", "-", None, None), ("[c", "(c", None, None), ("[c", "[c", 2, 2),
])
def test_lex_first_last(listpack: bool, low: str, high: str, first: int | None,
                        last: int | None) -> None:
    zset = make({m: 0.0 for m in (b"a", b"b", b"c", b"d", b"e")}, listpack)
    assert zset.lex_first(bound(low), bound(high)) == first
    assert zset.lex_last(bound(low), bound(high)) == last


@pytest.mark.parametrize("listpack", [True, False])
def test_lex_walk(listpack: bool) -> None:
    zset = make({m: 0.0 for m in (b"a", b"b", b"c", b"d", b"e")}, listpack)
    low, high = bound("[b"), bound("[d")
    assert zset.lex_walk(1, False, 0, -1, low, high) == (1, 4)
    assert zset.lex_walk(1, False, 1, 1, low, high) == (2, 3)
    assert zset.lex_walk(1, False, 5, -1, low, high) == (0, 0)
    assert zset.lex_walk(1, False, -1, 5, low, high) == (0, 0)
    assert zset.lex_walk(3, True, 0, -1, low, high) == (1, 4)
    assert zset.lex_walk(3, True, 1, 1, low, high) == (2, 3)
    assert zset.lex_walk(3, True, 0, 0, low, high) == (4, 4)


def test_lex_on_mixed_scores_walks_a_listpack_like_redis() -> None:
    zset = make({b"a": 1.0, b"b": 0.0, b"c": 2.0})  # order: b a c
    # Redis walks from the head for the first member >= "[a": that is "b".
    assert zset.lex_first(bound("[a"), bound("+")) == 0
    assert zset.lex_walk(0, False, 0, -1, bound("[a"), bound("[b")) == (0, 2)


def test_lex_range_empty() -> None:
    assert lex_range_empty(bound("[b"), bound("[a"))
    assert lex_range_empty(bound("(a"), bound("[a"))
    assert not lex_range_empty(bound("[a"), bound("[a"))
    assert lex_range_empty(bound("+"), bound("+")) and lex_range_empty(bound("-"), bound("-"))
    assert not lex_range_empty(bound("-"), bound("+"))
    assert lex_range_empty(bound("+"), bound("[a")) and lex_range_empty(bound("[a"), bound("-"))


# -- copies and construction ----------------------------------------------------------

@pytest.mark.parametrize("listpack", [True, False])
def test_copy_is_independent_and_keeps_encoding(listpack: bool) -> None:
    zset = make({b"a": 1, b"b": 2}, listpack)
    twin = zset.copy()
    twin.add(b"c", 3, BIG, BIG)
    twin.update(b"a", 9)
    assert zset.entries() == [(b"a", 1.0), (b"b", 2.0)]
    assert twin.listpack == zset.listpack
    assert twin.entries() == [(b"b", 2.0), (b"c", 3.0), (b"a", 9.0)]


def test_from_entries() -> None:
    built = ZSet.from_entries([(b"b", 1.0), (b"a", -0.0), (b"c", 0.5)], listpack=False)
    assert built.entries() == [(b"a", -0.0), (b"c", 0.5), (b"b", 1.0)]
    assert is_negative_zero(built.score(b"a"))
    small = ZSet.from_entries([(b"a", -0.0)], listpack=True)
    assert not is_negative_zero(small.score(b"a")) and small.listpack


# -- against a model ------------------------------------------------------------------

MEMBERS = st.sampled_from([b"", b"a", b"b", b"ab", b"c", b"zz", b"\x00", b"\xff"])
OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), MEMBERS, SCORES),
    st.tuples(st.just("remove"), MEMBERS, st.just(0.0)),
    st.tuples(st.just("pop"), st.booleans(), st.integers(0, 3)),
    st.tuples(st.just("delete"), st.integers(0, 8), st.integers(0, 8)),
), max_size=40)


@settings(max_examples=150, deadline=None)
@given(OPS, st.integers(0, 6))
def test_matches_a_sorted_model(ops: list, max_entries: int) -> None:
    zset = ZSet()
    model: dict[bytes, float] = {}
    for op, a, b in ops:
        if op == "set":
            if a in zset:
                zset.update(a, b)
            else:
                zset.add(a, b, max_entries, 1)
            model[a] = b
        elif op == "remove":
            assert zset.remove(a) == (a in model)
            model.pop(a, None)
        elif op == "pop":
            expected = sorted(model.items(), key=lambda e: (e[1], e[0]), reverse=a)[:b]
            assert zset.pop(b, highest=a) == expected
            for member, _ in expected:
                del model[member]
        else:
            ordered = sorted(model.items(), key=lambda e: (e[1], e[0]))
            assert zset.delete_range(a, b) == len(ordered[a:b])
            for member, _ in ordered[a:b]:
                del model[member]
        ordered = sorted(model.items(), key=lambda e: (e[1], e[0]))
        assert zset.entries() == ordered
        assert len(zset) == len(model)
        for rank, (member, score) in enumerate(ordered):
            assert zset.rank(member) == rank
            assert zset.score(member) == score
        if len(zset) > max_entries:
            assert not zset.listpack
