"""Streams as RDB objects: node listpacks element by element, the body's counters and
groups, the older and newer stream types, and corrupt bodies refused."""

from __future__ import annotations

import random

import pytest

from taipan.config import Config
from taipan.persistence import add_payload_footer, dump_payload, load_payload
from taipan.persistence.rdb_format import (
    TYPE_STREAM_LISTPACKS,
    TYPE_STREAM_LISTPACKS_2,
    TYPE_STREAM_LISTPACKS_3,
    RdbError,
    write_length,
    write_string,
)
from taipan.persistence.rdb_packed import listpack_decode, listpack_encode
from taipan.persistence.rdb_stream import (
    decode_id,
    encode_id,
    node_listpack,
    parse_node,
    write_stream,
)
from taipan.types.stream import DELETED, ConsumerGroup, PendingEntry, Stream, copy_stream

U64 = (1 << 64) - 1


def _config() -> Config:
    config = Config()
    config.rdbcompression = False
    return config


def _sample() -> Stream:
    stream = Stream()
    for i in range(1, 251):
        if i % 9 == 0:
            fields = [b"other", b"x" * (i % 70), b"n", b"%d" % (-i * 100003)]
        else:
            fields = [b"f", b"%d" % i, b"g", b"v%d" % i]
        stream.add((1000 + i, i % 4), fields)
    for entry_id in ((1005, 1), (1101, 1), (1200, 0), (1250, 2)):
        assert stream.delete(entry_id)
    stream.max_deleted_id = (1250, 2)
    group = ConsumerGroup(b"g1", (1010, 2), 10)
    alice, _ = group.consumer(b"alice", 1700000000123)
    group.consumer(b"bob", 1700000000456)
    for entry_id, owner_time in (((1001, 1), 11), ((1003, 3), 22)):
        pending = PendingEntry(alice, 1700000000000 + owner_time, 2)
        group.pending[entry_id] = pending
        alice.pending[entry_id] = pending
    stream.groups[b"g1"] = group
    stream.groups[b"g0"] = ConsumerGroup(b"g0", (0, 0), -1)
    return stream


def _state(stream: Stream) -> tuple:
    groups = []
    for name, group in stream.groups.items():
        consumers = [(c.name, c.seen_time, list(c.pending)) for c in group.consumers.values()]
        pel = [(i, p.consumer.name, p.delivery_time, p.delivery_count)
               for i, p in group.pending.items()]
        groups.append((name, group.last_id, group.entries_read, pel, consumers))
    return (list(stream.nodes()), stream.length, stream.last_id, stream.first_id,
            stream.max_deleted_id, stream.entries_added, groups)


def _payload(stream: Stream, kind: int = TYPE_STREAM_LISTPACKS_2) -> bytes:
    out = bytearray([kind])
    write_stream(out, stream, _config(), False, kind)
    return add_payload_footer(out)


# -- node listpacks -------------------------------------------------------------------


def test_node_listpack_elements_follow_redis_layout() -> None:
    entries = [
        ((1000, 0), 0, [b"f", b"1"]),
        ((1001, 5), DELETED, [b"f", b"abc"]),
        ((1001, 7), 0, [b"g", b"-5", b"h", b"x"]),
    ]
    blob = node_listpack((1000, 0), (b"f",), entries)
    assert listpack_decode(blob) == [
        b"2", b"1", b"1", b"f", b"0",  # master: live, deleted, fields, the field, 0
        b"2", b"0", b"0", b"1", b"4",  # same fields: flags, ms, seq, value, lp-count
        b"3", b"1", b"5", b"abc", b"4",  # deleted | same fields
        b"0", b"1", b"7", b"2", b"g", b"-5", b"h", b"x", b"8",  # own fields
    ]
    assert int.from_bytes(blob[:4], "little") == len(blob)
    assert int.from_bytes(blob[4:6], "little") == 24


def test_node_listpack_bytes_use_redis_integer_encodings() -> None:
    blob = node_listpack((5, 0), (b"n",), [((5, 0), 0, [b"n", b"300"])])
    # 7-bit uints 1 0 1, the string "n", 0, flags 2, diffs 0 0, 13-bit int 300, 4
    assert blob == (b"\x1d\x00\x00\x00\x0a\x00" + b"\x01\x01\x00\x01\x01\x01\x81n\x02\x00\x01"
                    + b"\x02\x01\x00\x01\x00\x01\xc1\x2c\x02\x04\x01\xff")
    assert listpack_decode(blob) == [b"1", b"0", b"1", b"n", b"0", b"2", b"0", b"0", b"300",
                                     b"4"]


def test_id_differences_are_int64_like_redis() -> None:
    # seq below the master's seq: a negative difference; a huge ms gap wraps to int64.
    master = (5, 9)
    entries = [((5, 9), 0, [b"a", b"1"]), ((6, 0), 0, [b"a", b"2"]),
               ((U64, U64), 0, [b"a", b"3"])]
    items = listpack_decode(node_listpack(master, (b"a",), entries))
    assert items[10:13] == [b"2", b"1", b"-9"]
    assert items[15:18] == [b"2", b"-6", b"-10"]  # (2**64 - 1 - 5, 2**64 - 1 - 9 as int64)
    fields, parsed = parse_node(master, node_listpack(master, (b"a",), entries))
    assert fields == (b"a",) and parsed == entries


def test_ids_encode_as_128_bit_big_endian() -> None:
    raw = encode_id((1, 2))
    assert raw == b"\0" * 7 + b"\x01" + b"\0" * 7 + b"\x02"
    assert decode_id(encode_id((U64, 0))) == (U64, 0)


def _corrupt_node(items: list[bytes]) -> bytes:
    return listpack_encode(items)


GOOD = [b"1", b"0", b"1", b"f", b"0", b"2", b"0", b"0", b"v", b"4"]


@pytest.mark.parametrize("items", [
    [],
    GOOD[:-1],  # no lp-count
    GOOD[:-1] + [b"3"],  # wrong lp-count
    GOOD + [b"junk"],  # elements past the last entry
    [b"x"] + GOOD[1:],  # a count that is not an integer
    [b"-1"] + GOOD[1:],  # negative count
    GOOD[:4] + [b"1"] + GOOD[5:],  # master terminator not 0
    [b"1", b"1"] + GOOD[2:],  # a deleted count the flags don't show
    [b"2", b"0"] + GOOD[2:] + [b"2", b"0", b"0", b"w", b"4"],  # same ID twice
    [b"1", b"0", b"1", b"f", b"0", b"0", b"0", b"0", b"-1", b"3"],  # negative field count
    [b"1", b"0", b"1", b"f", b"0", b"0", b"0", b"0", b"5", b"f", b"v", b"14"],  # too many
    [b"1", b"0", b"1", b"f", b"0", b"2", b"-1", b"0", b"v", b"4"],  # before the master ID
    [b"99999999", b"0", b"1", b"f", b"0"],  # more entries than elements
], ids=["empty", "no-lp-count", "bad-lp-count", "trailing", "not-int", "negative",
        "terminator", "deleted-count", "duplicate-id", "negative-fields", "short-fields",
        "before-master", "huge-count"])
def test_corrupt_nodes_are_refused(items: list[bytes]) -> None:
    with pytest.raises(RdbError):
        parse_node((10, 0), _corrupt_node(items))


# -- whole bodies ---------------------------------------------------------------------


def test_round_trip_keeps_nodes_counters_and_groups() -> None:
    stream = _sample()
    payload = _payload(stream)
    loaded = load_payload(payload, _config())
    assert _state(loaded) == _state(stream)
    assert stream.node_count() == loaded.node_count() == 3
    assert dump_payload(loaded, _config()) == payload
    # the consumer and the group share one pending record, as Redis's NACKs
    group = loaded.groups[b"g1"]
    assert group.pending[(1001, 1)] is group.consumers[b"alice"].pending[(1001, 1)]
    assert list(loaded.groups) == [b"g0", b"g1"]


def test_round_trip_of_an_empty_stream_with_counters() -> None:
    stream = Stream()
    stream.add((5, 5), [b"a", b"b"])
    stream.delete((5, 5))
    stream.groups[b"g"] = ConsumerGroup(b"g", (5, 5), 1)
    loaded = load_payload(_payload(stream), _config())
    assert len(loaded) == 0 and loaded.node_count() == 0
    assert _state(loaded) == _state(stream)
    # the last node's counters go on where they were: a new entry appends
    loaded.add((6, 0), [b"a", b"c"])
    assert loaded.range((0, 0), (U64, U64)) == [((6, 0), [b"a", b"c"])]


def test_loaded_stream_appends_to_its_last_node() -> None:
    stream = Stream()
    for i in range(1, 51):
        stream.add((i, 0), [b"f", b"v"])
    loaded = load_payload(_payload(stream), _config())
    for i in range(51, 121):
        loaded.add((i, 0), [b"f", b"v"])
        stream.add((i, 0), [b"f", b"v"])
    assert list(loaded.nodes()) == list(stream.nodes())
    assert loaded.node_count() == 2


def test_redis_72_form_loads_without_active_time() -> None:
    stream = _sample()
    loaded = load_payload(_payload(stream, TYPE_STREAM_LISTPACKS_3), _config())
    assert _state(loaded) == _state(stream)


def test_pre_70_form_loads_with_estimated_counters() -> None:
    stream = _sample()
    loaded = load_payload(_payload(stream, TYPE_STREAM_LISTPACKS), _config())
    assert list(loaded.nodes()) == list(stream.nodes())
    assert loaded.entries_added == loaded.length == 246
    assert loaded.max_deleted_id == (0, 0) and loaded.first_id == (1001, 1)
    # Redis's estimate: before the first entry 0 (entries added - length), the first
    # entry 1, the last ID everything, an ID in the middle unknown
    assert loaded.groups[b"g0"].entries_read == 0
    assert loaded.groups[b"g1"].entries_read == -1
    for last, expected in (((1001, 1), 1), ((1250, 2), 246), ((2000, 0), -1)):
        stream.groups[b"g1"].last_id = last
        again = load_payload(_payload(stream, TYPE_STREAM_LISTPACKS), _config())
        assert again.groups[b"g1"].entries_read == expected


def test_copy_is_deep() -> None:
    stream = _sample()
    clone = copy_stream(stream)
    assert _state(clone) == _state(stream)
    clone.groups[b"g1"].pending.clear()
    clone.add((5000, 0), [b"a", b"b"])
    assert len(stream.groups[b"g1"].pending) == 2 and stream.last_id == (1250, 2)
    assert stream.copy() is not stream and stream.encoding(None) == "stream"
    assert Stream.TYPE_NAME == "stream"


def _body(nodes: list[tuple[tuple[int, int], bytes]], length: int, last: tuple[int, int],
          tail: bytes = b"\x00\x00\x00\x00\x00\x00") -> bytes:
    out = bytearray([TYPE_STREAM_LISTPACKS_2])
    write_length(out, len(nodes))
    for master, blob in nodes:
        write_string(out, encode_id(master), False)
        write_string(out, blob, False)
    write_length(out, length)
    write_length(out, last[0])
    write_length(out, last[1])
    out += tail
    return add_payload_footer(out)


def _node(first: int) -> bytes:
    return node_listpack((first, 0), (b"f",), [((first, 0), 0, [b"f", b"v"])])


def test_stream_level_inconsistencies_are_refused() -> None:
    config = _config()
    assert len(load_payload(_body([((1, 0), _node(1))], 1, (1, 0), b"\x01\x00\x00\x00\x01\x00"),
                            config)) == 1
    cases = [
        _body([((1, 0), _node(1))], 2, (1, 0)),  # length that the nodes don't have
        _body([((1, 0), _node(1))], 1, (0, 5)),  # last ID below the last entry
        _body([((2, 0), _node(2)), ((1, 0), _node(1))], 2, (2, 0)),  # nodes out of order
        _body([((1, 0), _node(1)), ((1, 0), _node(1))], 2, (1, 0)),  # the same node twice
        _body([((1, 0), b"\x07\x00\x00\x00\x00\x00\xff")], 0, (1, 0)),  # empty listpack
    ]
    for payload in cases:
        with pytest.raises(RdbError):
            load_payload(payload, config)


def test_group_inconsistencies_are_refused() -> None:
    stream = _sample()
    good = _payload(stream)

    def mutated(change) -> bytes:
        copy = copy_stream(stream)
        change(copy)
        return _payload(copy)

    def orphan(s: Stream) -> None:  # a pending entry no consumer owns
        s.groups[b"g1"].consumers[b"alice"].pending.pop((1001, 1))

    def stranger(s: Stream) -> None:  # a consumer owning what the group doesn't list
        s.groups[b"g1"].pending.pop((1001, 1))

    def shared(s: Stream) -> None:  # two consumers owning one entry
        group = s.groups[b"g1"]
        group.consumers[b"bob"].pending[(1001, 1)] = group.pending[(1001, 1)]

    for change in (orphan, stranger, shared):
        with pytest.raises(RdbError):
            load_payload(mutated(change), _config())
    # a duplicated group name: rename g0 to g1 in the bytes
    duplicated = bytearray(good[:-10])
    at = duplicated.index(b"\x02g0")
    duplicated[at + 2] = ord("1")
    with pytest.raises(RdbError, match="Duplicated consumer group"):
        load_payload(add_payload_footer(duplicated), _config())


def test_random_damage_raises_only_rdb_errors() -> None:
    rng = random.Random(3)
    body = _payload(_sample())[:-10]
    refused = 0
    for _ in range(800):
        data = bytearray(body)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(1, len(data))
            roll = rng.random()
            if roll < 0.6:
                data[at] = rng.randrange(256)
            elif roll < 0.8:
                del data[at:at + rng.randint(1, 20)]
            else:
                data[at:at] = rng.randbytes(rng.randint(1, 5))
        try:
            value = load_payload(add_payload_footer(data), _config())
        except RdbError:
            refused += 1
            continue
        # whatever loads is a consistent stream: it reads and writes back whole
        entries = value.range((0, 0), (U64, U64))
        assert len(entries) == len(value)
        assert [entry_id for entry_id, _ in entries] == sorted({i for i, _ in entries})
        load_payload(dump_payload(value, _config()), _config())
    assert refused > 300
