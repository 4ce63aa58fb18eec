"""The set type on its own: Redis's intset/hashtable rule, and fair random members."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from taipan.types.sets import RedisSet, intset_value

LIMIT = 512


def make(*members: bytes, limit: int = LIMIT) -> RedisSet:
    value = RedisSet()
    value.add(list(members), limit)
    return value


# -- the encoding rule ----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    (b"0", 0), (b"-1", -1), (b"10", 10), (b"9223372036854775807", 2**63 - 1),
    (b"-9223372036854775808", -(2**63)), (b"9223372036854775808", None),
    (b"-9223372036854775809", None), (b"-0", None), (b"01", None), (b"+1", None),
    (b" 1", None), (b"1 ", None), (b"1.0", None), (b"", None), (b"0x10", None),
    (b"1\n", None), (b"12345678901234567890", None),
])
def test_intset_values_are_canonical_64_bit_integers(text: bytes, expected: int | None) -> None:
    assert intset_value(text) == expected


def test_integers_stay_an_intset_iterated_in_ascending_order() -> None:
    value = make(b"10", b"-5", b"3", b"3", b"0")
    assert value.encoding(None) == "intset" and value.is_intset
    assert list(value) == [b"-5", b"0", b"3", b"10"]
    assert value.listed() == [b"-5", b"0", b"3", b"10"]
    assert len(value) == 4


def test_a_non_integer_converts_for_good() -> None:
    value = make(b"1", b"2")
    assert value.add([b"x"], LIMIT) == 1
    assert value.encoding(None) == "hashtable"
    assert value.remove([b"x"]) == 1
    assert value.encoding(None) == "hashtable"
    assert sorted(value) == [b"1", b"2"]


def test_too_many_integers_convert() -> None:
    value = make(b"1", b"2", b"3", limit=3)
    assert value.is_intset
    assert value.add([b"4"], 3) == 1
    assert not value.is_intset and len(value) == 4


def test_a_lowered_limit_converts_only_on_a_real_addition() -> None:
    value = make(b"1", b"2", b"3")
    assert value.add([b"2"], 1) == 0
    assert value.is_intset
    assert value.add([b"9"], 1) == 1
    assert not value.is_intset


def test_zero_limit_makes_every_set_a_hashtable() -> None:
    assert not make(b"1", limit=0).is_intset


def test_build_encodes_like_a_set_filled_from_empty() -> None:
    assert RedisSet.build({b"2", b"1"}, LIMIT).listed() == [b"1", b"2"]
    assert not RedisSet.build({b"2", b"1"}, 1).is_intset
    assert not RedisSet.build([b"1", b"a"], LIMIT).is_intset
    assert len(RedisSet.build([], LIMIT)) == 0


def test_membership_in_both_encodings() -> None:
    for value in (make(b"1", b"20"), make(b"1", b"20", b"z")):
        assert b"1" in value and b"20" in value
        assert b"01" not in value and b"2" not in value and b"x" not in value


def test_copy_is_independent_and_keeps_the_encoding() -> None:
    small, mixed = make(b"1", b"2"), make(b"1", b"a")
    for value in (small, mixed):
        twin = value.copy()
        assert twin.encoding(None) == value.encoding(None)
        twin.add([b"new"], LIMIT)
        assert b"new" not in value
    hashed_ints = make(b"1", b"a")
    hashed_ints.remove([b"a"])
    assert hashed_ints.copy().encoding(None) == "hashtable"


def test_all_integers() -> None:
    value = make(b"1", b"a")
    assert not value.all_integers()
    value.remove([b"a"])
    assert value.all_integers()


# -- random members ------------------------------------------------------------------------

def _fair(counts: Counter, expected: set[bytes], draws: int) -> None:
    assert set(counts) == expected
    mean = draws / len(expected)
    assert all(abs(n - mean) < mean * 0.15 for n in counts.values()), counts


@pytest.mark.parametrize("members", [
    [b"%d" % i for i in range(8)],
    [b"m%d" % i for i in range(8)],
])
def test_random_member_is_uniform(members: list[bytes]) -> None:
    value = make(*members)
    draws = 16000
    _fair(Counter(value.random_member() for _ in range(draws)), set(members), draws)


def test_random_member_after_removals_and_readds_stays_uniform() -> None:
    value = make(*[b"m%d" % i for i in range(10)])
    value.random_member()  # builds the sampler
    value.remove([b"m1", b"m2", b"m3"])
    value.add([b"m1", b"new"], LIMIT)
    assert value.sampler is not None and value.sampler.gone == {b"m2", b"m3"}
    live = {b"m0", b"m1", b"new"} | {b"m%d" % i for i in range(4, 10)}
    draws = 18000
    _fair(Counter(value.random_member() for _ in range(draws)), live, draws)
    _fair(Counter(value.random_members(draws)), live, draws)


def test_a_sampler_full_of_tombstones_is_dropped() -> None:
    value = make(*[b"m%d" % i for i in range(100)])
    value.random_member()
    value.remove([b"m%d" % i for i in range(80)])
    assert value.sampler is None
    assert value.random_member() in {b"m%d" % i for i in range(80, 100)}


def test_pops_take_every_member_once() -> None:
    for members in ([b"%d" % i for i in range(50)], [b"m%d" % i for i in range(50)]):
        value = make(*members)
        value.random_member()
        value.remove(members[:10])
        popped = [value.pop_random() for _ in range(40)]
        assert sorted(popped) == sorted(members[10:]) and len(value) == 0


@pytest.mark.parametrize("count", [1, 5, 20, 33, 39])
@pytest.mark.parametrize("prefix", [b"", b"m"])
def test_pop_random_many(count: int, prefix: bytes) -> None:
    members = [prefix + b"%d" % i for i in range(40)]
    value = make(*members)
    popped = value.pop_random_many(count)
    assert len(set(popped)) == count and set(popped) <= set(members)
    assert len(value) == 40 - count
    assert set(value) == set(members) - set(popped)
    assert value.pop_random_many(1)[0] not in popped


@pytest.mark.parametrize("count", [1, 3, 10, 19])
@pytest.mark.parametrize("prefix", [b"", b"m"])
def test_distinct_random_members(count: int, prefix: bytes) -> None:
    members = [prefix + b"%d" % i for i in range(20)]
    value = make(*members)
    picked = value.distinct_random_members(count)
    assert len(picked) == len(set(picked)) == count and set(picked) <= set(members)
    assert len(value) == 20


def test_random_members_with_repeats() -> None:
    value = make(b"1", b"2")
    picked = value.random_members(1000)
    assert len(picked) == 1000 and set(picked) == {b"1", b"2"}


# -- against a model -----------------------------------------------------------------------

MEMBERS = st.sampled_from([b"0", b"1", b"-1", b"7", b"42", b"01", b"a", b"b", b"x" * 20])


class SetModel(RuleBasedStateMachine):
    """Random operations on a RedisSet and on a plain Python set stay in step, and the
    encoding is the one Redis would report."""

    def __init__(self) -> None:
        super().__init__()
        self.value = RedisSet()
        self.model: set[bytes] = set()
        self.hashtable = False
        self.limit = 4

    @rule(members=st.lists(MEMBERS, min_size=1, max_size=4))
    def add(self, members: list[bytes]) -> None:
        added = self.value.add(members, self.limit)
        assert added == len(set(members) - self.model)
        self.model |= set(members)
        if any(intset_value(m) is None for m in members) or (added and len(self.model) > self.limit):
            self.hashtable = True

    @rule(members=st.lists(MEMBERS, min_size=1, max_size=4))
    def remove(self, members: list[bytes]) -> None:
        assert self.value.remove(members) == len(set(members) & self.model)
        self.model -= set(members)

    @rule()
    def pop(self) -> None:
        if self.model:
            member = self.value.pop_random()
            assert member in self.model
            self.model.remove(member)

    @rule(count=st.integers(1, 5))
    def pop_many(self, count: int) -> None:
        if count < len(self.model):
            popped = self.value.pop_random_many(count)
            assert len(set(popped)) == count and set(popped) <= self.model
            self.model -= set(popped)

    @rule()
    def sample(self) -> None:
        if self.model:
            assert self.value.random_member() in self.model
            assert set(self.value.random_members(3)) <= self.model

    @rule(limit=st.integers(0, 6))
    def change_limit(self, limit: int) -> None:
        self.limit = limit

    @invariant()
    def same_members(self) -> None:
        assert len(self.value) == len(self.model)
        assert set(self.value) == self.model
        assert self.value.is_intset == (not self.hashtable)
        if self.value.is_intset:
            assert self.value.listed() == sorted(self.model, key=int)


TestSetModel = SetModel.TestCase
TestSetModel.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)


@given(st.sets(MEMBERS, max_size=8), st.integers(0, 10))
def test_build_matches_adding_one_by_one(members: set[bytes], limit: int) -> None:
    built = RedisSet.build(set(members), limit)
    added = RedisSet()
    for member in sorted(members):
        added.add([member], limit)
    assert set(built) == set(added) == members
    if members:
        assert built.is_intset == added.is_intset
