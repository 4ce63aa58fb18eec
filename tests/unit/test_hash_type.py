"""RedisHash: the listpack -> hashtable rule, insertion order, and the field sampler."""

from __future__ import annotations

import random
from collections import Counter
from types import SimpleNamespace

from taipan.types import copy_value, encoding_name, type_name
from taipan.types.hashes import RedisHash

CONFIG = SimpleNamespace(hash_max_listpack_entries=4, hash_max_listpack_value=8)


def filled(*pairs: bytes) -> RedisHash:
    value = RedisHash()
    value.store_pairs([b"HSET", b"key", *pairs], 2)
    return value


def test_type_and_encoding_names() -> None:
    value = filled(b"a", b"1")
    assert type_name(value) == "hash"
    assert encoding_name(value, CONFIG) == "listpack"
    value.hashtable = True
    assert encoding_name(value, CONFIG) == "hashtable"


def test_store_reports_new_fields_and_keeps_insertion_order() -> None:
    value = RedisHash()
    assert value.store_pairs([b"c", b"1", b"a", b"2", b"c", b"3"], 0) == 2
    assert value.store(b"b", b"4") is True
    assert value.store(b"c", b"5") is False
    assert list(value.items()) == [(b"c", b"5"), (b"a", b"2"), (b"b", b"4")]
    assert value.discard(b"c") and not value.discard(b"c")
    value.store(b"c", b"6")
    assert list(value) == [b"a", b"b", b"c"]  # deleted and set again: at the end


def test_fit_converts_on_a_long_argument_only() -> None:
    value = filled(b"a", b"1")
    value.fit([b"12345678", b""], CONFIG.hash_max_listpack_value)
    assert not value.hashtable
    value.fit([b"x", b"123456789"], CONFIG.hash_max_listpack_value)
    assert value.hashtable


def test_check_size_converts_past_the_entry_limit_and_never_back() -> None:
    value = filled(b"a", b"1", b"b", b"2", b"c", b"3", b"d", b"4")
    value.check_size(CONFIG.hash_max_listpack_entries)
    assert not value.hashtable
    value.store(b"e", b"5")
    value.check_size(CONFIG.hash_max_listpack_entries)
    assert value.hashtable
    for field in (b"a", b"b", b"c", b"d"):
        value.discard(field)
    value.check_size(CONFIG.hash_max_listpack_entries)
    assert value.hashtable


def test_copy_is_independent_and_keeps_the_encoding() -> None:
    value = filled(b"a", b"1")
    value.hashtable = True
    value.random_field()
    twin = copy_value(value)
    assert twin == value and twin is not value and twin.hashtable and twin.sampler is None
    twin.store(b"b", b"2")
    assert b"b" not in value


def test_loaded_hash_takes_the_encoding_its_size_gives() -> None:
    assert not RedisHash.loaded([(b"a", b"1")], CONFIG).hashtable
    assert RedisHash.loaded([(b"a", b"123456789")], CONFIG).hashtable
    assert RedisHash.loaded([(b"%d" % i, b"") for i in range(5)], CONFIG).hashtable


def test_sampler_follows_changes() -> None:
    value = filled(*[b"%d" % n for i in range(100) for n in (i, i)])
    value.hashtable = True
    assert value.random_field() in value
    sampler = value.sampler
    assert sampler is not None and len(sampler.slots) == 100
    for i in range(40):
        value.discard(b"%d" % i)
    assert len(sampler.gone) == 40 and sampler.live() == 60
    value.store(b"5", b"back")  # leaves the tombstones instead of a second slot
    value.store(b"new", b"x")
    assert len(sampler.slots) == 101 and sampler.live() == 62 == len(value)
    picks = {value.random_field() for _ in range(3000)}
    assert picks == set(value)


def test_sampler_is_dropped_when_mostly_tombstones() -> None:
    value = filled(*[b"%d" % n for i in range(100) for n in (i, i)])
    value.hashtable = True
    value.random_field()
    for i in range(70):
        value.discard(b"%d" % i)
    assert value.sampler is None
    assert value.random_field() in value
    assert value.sampler is not None and value.sampler.slots == list(value)


def test_writes_bypassing_store_are_noticed() -> None:
    value = filled(b"a", b"1", b"b", b"2")
    value.hashtable = True
    value.random_field()
    value[b"c"] = b"3"  # a plain dict write: the sampler misses it
    assert {value.random_field() for _ in range(300)} == {b"a", b"b", b"c"}


def test_a_listpack_is_walked_without_a_sampler() -> None:
    value = filled(b"a", b"1", b"b", b"2", b"c", b"3")
    counts = Counter(value.random_field() for _ in range(3000))
    assert value.sampler is None and set(counts) == set(value)
    assert all(800 < n < 1200 for n in counts.values()), counts


def test_random_fields_are_uniform() -> None:
    random.seed(7)
    for hashtable in (False, True):
        value = filled(*[b"%d" % n for i in range(10) for n in (i, i)])
        value.hashtable = hashtable
        counts = Counter(value.random_fields(20000))
        assert set(counts) == set(value)
        assert all(1600 < n < 2400 for n in counts.values()), counts


def test_distinct_random_fields() -> None:
    random.seed(11)
    listpack = filled(*[b"%d" % n for i in range(10) for n in (i, i)])
    picked = listpack.distinct_random_fields(4)
    order = list(listpack)
    assert len(set(picked)) == 4 and picked == sorted(picked, key=order.index)  # listpack order
    table = filled(*[b"%d" % n for i in range(1000) for n in (i, i)])
    table.hashtable = True
    for count in (1, 10, 300, 400, 999):  # sampled picks, then a whole-hash sample
        picked = table.distinct_random_fields(count)
        assert len(picked) == len(set(picked)) == count and set(picked) <= set(table)
    seen = Counter(f for _ in range(2000) for f in table.distinct_random_fields(5))
    assert len(seen) > 990  # every field gets its chance
