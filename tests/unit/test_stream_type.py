"""The stream type on its own: nodes, ranges, deletion, trimming, listpack sizes."""

from __future__ import annotations

import random

from taipan.types.stream import (
    DELETED,
    MAX_ID,
    MIN_ID,
    Stream,
    copy_stream,
    lp_int_size,
    lp_string_size,
)


def _filled(count: int, max_entries: int = 100) -> Stream:
    stream = Stream()
    for i in range(1, count + 1):
        stream.add((i, 0), [b"f", b"v%d" % i], max_entries=max_entries)
    return stream


def test_nodes_split_at_the_entry_limit() -> None:
    stream = _filled(250)
    assert stream.node_count() == 3
    assert len(stream) == 250 and stream.entries_added == 250
    assert stream.first_id == (1, 0) and stream.last_id == (250, 0)
    assert [master for master, _, _ in stream.nodes()] == [(1, 0), (101, 0), (201, 0)]


def test_nodes_split_at_the_byte_limit() -> None:
    stream = Stream()
    for i in range(1, 11):
        stream.add((i, 0), [b"f", b"x" * 1000], max_bytes=4096)
    # Each entry is ~1 KB: a node takes what fits under 4096 bytes of listpack
    # (redis-server 7.0.15 makes 3 nodes of this, 4 of 1300-byte values, 10 of 4000).
    assert stream.node_count() == 3
    for size, nodes in ((1300, 4), (4000, 10)):
        other = Stream()
        for i in range(1, 11):
            other.add((i, 0), [b"f", b"x" * size], max_bytes=4096)
        assert other.node_count() == nodes


def test_range_forward_reverse_count() -> None:
    stream = _filled(300)
    assert [i for i, _ in stream.range((99, 0), (102, 0))] == [(99, 0), (100, 0), (101, 0),
                                                               (102, 0)]
    assert [i for i, _ in stream.range(MIN_ID, MAX_ID, count=2, reverse=True)] == [
        (300, 0), (299, 0)]
    assert [i for i, _ in stream.range((150, 5), (160, 0), reverse=True)][:2] == [(160, 0),
                                                                                 (159, 0)]
    assert stream.range((5, 0), (4, 0)) == []
    assert stream.range((1, 0), (1, 0)) == [((1, 0), [b"f", b"v1"])]


def test_entries_with_other_fields_and_big_values() -> None:
    stream = Stream()
    big = b"z" * 70_000
    stream.add((1, 0), [b"a", b"1", b"b", b"2"])
    stream.add((2, 0), [b"other", big])
    stream.add((3, 0), [b"a", b"", b"b", b"-7"])
    assert stream.get((2, 0)) == [b"other", big]
    assert stream.get((3, 0)) == [b"a", b"", b"b", b"-7"]
    assert stream.get((4, 0)) is None


def test_delete_marks_then_drops_empty_nodes() -> None:
    stream = _filled(150)
    assert stream.delete((1, 0)) and not stream.delete((1, 0))
    assert stream.first_id == (2, 0) and stream.max_deleted_id == (1, 0)
    for i in range(2, 101):
        stream.delete((i, 0))
    assert stream.node_count() == 1 and len(stream) == 50
    flags = [flags for _, _, entries in stream.nodes() for _, flags, _ in entries]
    assert not any(f & DELETED for f in flags)
    stream.delete((120, 0))
    node_entries = next(iter(stream.nodes()))[2]
    assert sum(1 for _, f, _ in node_entries if f & DELETED) == 1
    assert stream.range((119, 0), (121, 0)) == [((119, 0), [b"f", b"v119"]),
                                                ((121, 0), [b"f", b"v121"])]


def test_trim_whole_nodes_when_approximate() -> None:
    stream = _filled(250)
    assert stream.trim(maxlen=160, approx=True) == 0  # no whole node can go
    assert stream.trim(maxlen=150, approx=True) == 100
    assert stream.trim(maxlen=10, approx=True, limit=50) == 0  # a node is 100 > limit
    assert stream.trim(maxlen=120) == 30
    assert len(stream) == 120 and stream.first_id == (131, 0)


def test_trim_by_minid() -> None:
    stream = _filled(250)
    assert stream.trim(minid=(150, 0), approx=True) == 100
    assert stream.trim(minid=(150, 0)) == 49
    assert stream.first_id == (150, 0)
    assert stream.trim(minid=MAX_ID) == 101 and len(stream) == 0
    assert stream.first_id == MIN_ID


def test_randomised_against_a_plain_model() -> None:
    rng = random.Random(7)
    stream, model = Stream(), {}
    next_ms = 1
    for _ in range(3000):
        action = rng.random()
        if action < 0.6:
            next_ms += rng.randint(1, 3)
            entry_id = (next_ms, rng.randint(0, 2))
            fields = [b"f", b"%d" % rng.randint(0, 10**6)] if rng.random() < 0.8 else \
                [b"g", b"x" * rng.randint(0, 300), b"h", b"y"]
            stream.add(entry_id, fields, max_entries=rng.choice([5, 100]))
            model[entry_id] = fields
        elif action < 0.8 and model:
            victim = rng.choice(list(model))
            assert stream.delete(victim)
            del model[victim]
        else:
            start = (rng.randint(0, next_ms), 0)
            end = (rng.randint(start[0], next_ms + 1), 5)
            want = sorted((k, v) for k, v in model.items() if start <= k <= end)
            assert stream.range(start, end) == want
            assert stream.range(start, end, count=3, reverse=True) == want[::-1][:3]
    assert len(stream) == len(model)
    assert copy_stream(stream).range(MIN_ID, MAX_ID) == sorted(model.items())


def test_listpack_element_sizes() -> None:
    assert lp_int_size(0) == 2 and lp_int_size(127) == 2 and lp_int_size(128) == 3
    assert lp_int_size(-1) == 3 and lp_int_size(40000) == 5 and lp_int_size(1 << 40) == 10
    assert lp_string_size(b"abc") == 5
    assert lp_string_size(b"12") == 2  # stored as an integer
    assert lp_string_size(b"012") == 5  # leading zero: a string
    assert lp_string_size(b"x" * 100) == 100 + 2 + 1
    assert lp_string_size(b"x" * 200) == 200 + 2 + 2
