"""Small collections rest packed (``types/packed.py``) and open for each command.

The codec round-trips every kind exactly (order, encodings, binary items); what
doesn't qualify stays live; and the keyspace's life cycle (opened by a lookup,
packed back by ``pack_loose``, the old blob reused when nothing was written) never
changes a reply, an encoding, a digest or a dump. The differential suite runs on a
server that packs after every request (``TAIPAN_PACK_EAGERLY``); this file pins the
rules down in-process.
"""

from __future__ import annotations

import time

import pytest

from taipan.dispatch import Dispatcher
from taipan.errors import ReplyError
from taipan.instance import Instance
from taipan.keyspace.digest import dataset_digest
from taipan.keyspace.sizes import EXPIRY_ENTRY
from taipan.net.client import Client
from taipan.protocol.reply import NULL_ARRAY
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed import MAX_INTS, MAX_ITEMS, MAX_PAIRS, pack, unpack
from taipan.types.packed_types import (
    PACKED_TYPES,
    PackedHash,
    PackedIntSet,
    PackedList,
    PackedSet,
    PackedZSet,
)
from taipan.types.sets import RedisSet
from taipan.types.zset import ZSet

# -- the codec ------------------------------------------------------------------------


def test_hash_round_trip_keeps_insertion_order_and_binary_items() -> None:
    pairs = [(b"z", b""), (b"\x00\xff", b"\r\n"), (b"a" * 255, b"b" * 255), (b"", b"v")]
    packed = pack(RedisHash(pairs))
    assert type(packed) is PackedHash
    opened = unpack(packed)
    assert type(opened) is RedisHash and list(opened.items()) == pairs
    assert not opened.hashtable and opened.sampler is None


def test_items_longer_than_a_length_byte_stay_live() -> None:
    assert pack(RedisHash([(b"f", b"x" * 256)])) is None
    assert pack(RedisList([b"x" * 256])) is None


def test_limits_keep_big_or_converted_collections_live() -> None:
    big_hash = RedisHash((b"%d" % i, b"v") for i in range(MAX_PAIRS + 1))
    assert pack(big_hash) is None
    converted = RedisHash([(b"f", b"v")])
    converted.hashtable = True
    assert pack(converted) is None
    assert pack(RedisList([b"x"] * (MAX_ITEMS + 1))) is None
    assert type(pack(RedisList([b"x"] * MAX_ITEMS))) is PackedList
    assert pack(RedisSet.build([b"%d" % i for i in range(MAX_INTS + 1)], 10_000)) is None
    assert pack(ZSet.from_entries([(b"m", 1.0)], listpack=False)) is None
    assert pack(RedisList()) is None  # (an empty value never rests in the keyspace)
    assert pack(b"a string") is None


def test_list_and_sets_round_trip() -> None:
    items = [b"a", b"", b"a", b"\x00" * 10]
    assert list(unpack(pack(RedisList(items)))) == items
    ints = RedisSet.build([b"-9223372036854775808", b"5", b"-1", b"9223372036854775807"], 512)
    packed_ints = pack(ints)
    assert type(packed_ints) is PackedIntSet
    assert unpack(packed_ints).listed() == ints.listed()
    assert unpack(packed_ints).encoding(None) == "intset"
    members = RedisSet.build([b"a", b"1", b""], 512)
    packed_members = pack(members)
    assert type(packed_members) is PackedSet
    opened = unpack(packed_members)
    assert sorted(opened.listed()) == [b"", b"1", b"a"] and opened.encoding(None) == "hashtable"


def test_sorted_set_round_trip_keeps_scores_and_order() -> None:
    entries = [(b"a", float("-inf")), (b"b", -2.5), (b"c", 0.0), (b"d", 1e300),
               (b"e", float("inf")), (b"f", 0.0)]
    zset = ZSet.from_entries(entries, listpack=True)
    packed = pack(zset)
    assert type(packed) is PackedZSet
    opened = unpack(packed)
    assert list(opened.entries()) == list(zset.entries())
    assert opened.score(b"d") == 1e300 and opened.rank(b"f") == 3 and opened.listpack


def test_packed_values_answer_type_and_encoding() -> None:
    from taipan.types import encoding_name, type_name

    for value, kind, encoding in [
        (RedisHash([(b"f", b"v")]), "hash", "listpack"),
        (RedisList([b"x"]), "list", "quicklist"),
        (RedisSet.build([b"1"], 512), "set", "intset"),
        (RedisSet.build([b"x"], 512), "set", "hashtable"),
        (ZSet.from_entries([(b"m", 1.0)], listpack=True), "zset", "listpack"),
    ]:
        packed = pack(value)
        assert type(packed) in PACKED_TYPES
        assert type_name(packed) == kind and encoding_name(packed, None) == encoding


# -- the keyspace's life cycle --------------------------------------------------------


@pytest.fixture
def server() -> tuple[Instance, Dispatcher, Client]:
    instance = Instance()
    return instance, Dispatcher(instance), Client(1, instance)


def test_reads_reuse_the_blob_and_writes_pack_anew(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    dispatcher.execute(client, [b"HSET", b"h", b"f1", b"v1", b"f2", b"v2"])
    assert db.pack_loose() == 1
    blob = db.data[b"h"]
    assert type(blob) is PackedHash
    assert dispatcher.execute(client, [b"HRANDFIELD", b"h", b"-1"]) in ([b"f1"], [b"f2"])
    assert type(db.data[b"h"]) is RedisHash and db.opened == {b"h": blob}
    db.pack_loose()
    assert db.data[b"h"] is blob  # nothing written: the same blob back, no re-encode
    dispatcher.execute(client, [b"HSET", b"h", b"f3", b"v3"])
    db.pack_loose()
    assert type(db.data[b"h"]) is PackedHash and db.data[b"h"] != blob
    reply = dispatcher.execute(client, [b"HGETALL", b"h"])
    assert list(reply.items()) == [(b"f1", b"v1"), (b"f2", b"v2"), (b"f3", b"v3")]


def test_hash_field_readers_read_the_blob_without_opening_it(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    # Fields that prefix each other, equal a value, are empty or binary.
    dispatcher.execute(client, [b"HSET", b"h", b"f", b"1", b"f1", b"f", b"", b"empty",
                                b"\x00\r\n", b"", b"v" * 64, b"long"])
    probes = [[b"HGET", b"h", field] for field in (b"f", b"f1", b"", b"\x00\r\n", b"v" * 64,
                                                    b"1", b"missing", b"f12")]
    probes += [[b"HMGET", b"h", b"f1", b"nope", b"f"], [b"HEXISTS", b"h", b"f1"],
               [b"HEXISTS", b"h", b"empty"], [b"HLEN", b"h"], [b"HSTRLEN", b"h", b"v" * 64],
               [b"HSTRLEN", b"h", b"x"], [b"HGETALL", b"h"], [b"HKEYS", b"h"], [b"HVALS", b"h"],
               [b"HGET", b"missing", b"f"], [b"HMGET", b"missing", b"f"], [b"HLEN", b"missing"]]
    live = [dispatcher.execute(client, argv) for argv in probes]
    db.pack_loose()
    blob = db.data[b"h"]
    assert type(blob) is PackedHash
    hits = instance.keyspace_stats.keyspace_hits
    assert [dispatcher.execute(client, argv) for argv in probes] == live
    assert db.data[b"h"] is blob and not db.opened  # read where it rests
    assert instance.keyspace_stats.keyspace_hits - hits == len(probes) - 3  # (three missing keys)
    dispatcher.execute(client, [b"SET", b"s", b"x"])
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        raise dispatcher.execute(client, [b"HGET", b"s", b"f"])


def test_hset_rewrites_a_small_hash_where_it_rests(server) -> None:  # noqa: ANN001
    """HSET on a packed hash that stays a listpack writes a new blob (fields keep their
    place, new ones go last) and answers, counts and signals as on a live hash; one
    that must convert takes the live path and converts as Redis does."""
    instance, dispatcher, client = server
    db = instance.databases[0]
    stats = instance.keyspace_stats
    writes = [[b"HSET", b"f", b"1", b"g", b"2"], [b"HSET", b"g", b"3"],
              [b"HSET", b"h", b"4", b"h", b"5", b"f", b"6"], [b"HMSET", b"", b"e"],
              [b"HSET", b"x" * 64, b"y" * 64]]

    def run(key: bytes, at_rest: bool) -> list[object]:
        seen: list[object] = []
        for write in writes:
            if at_rest:
                db.pack_loose()
            blob = db.data.get(key)
            dirty = stats.dirty
            seen.append(dispatcher.execute(client, [write[0], key, *write[1:]]))
            seen.append(stats.dirty - dirty)
            if at_rest and blob is not None:
                assert type(db.data[key]) is PackedHash and db.data[key] is not blob
                assert not db.opened
            seen.append(dispatcher.execute(client, [b"HGETALL", key]))
            seen.append(dispatcher.execute(client, [b"OBJECT", b"ENCODING", key]))
        return seen

    assert run(b"rest", at_rest=True) == run(b"live", at_rest=False)
    # A WATCHed hash written where it rests aborts the transaction.
    watcher = Client(2, instance)
    dispatcher.execute(watcher, [b"WATCH", b"rest"])
    db.pack_loose()
    dispatcher.execute(client, [b"HSET", b"rest", b"f", b"7"])
    dispatcher.execute(watcher, [b"MULTI"])
    assert dispatcher.execute(watcher, [b"EXEC"]) is NULL_ARRAY
    dispatcher.execute(client, [b"HSET", b"live", b"f", b"7"])
    # Writes past the listpack limits convert, from a packed hash as from a live one.
    dispatcher.execute(client, [b"CONFIG", b"SET", b"hash-max-listpack-entries", b"6"])
    for key in (b"rest", b"live"):
        db.pack_loose()
        dispatcher.execute(client, [b"HSET", key, b"one", b"1", b"two", b"2"])
    db.pack_loose()
    dispatcher.execute(client, [b"HSET", b"rest", b"long", b"v" * 65])
    dispatcher.execute(client, [b"HSET", b"live", b"long", b"v" * 65])
    for probe in ([b"HGETALL"], [b"OBJECT", b"ENCODING"]):
        assert dispatcher.execute(client, [*probe, b"rest"]) == \
            dispatcher.execute(client, [*probe, b"live"])
    assert type(db.data[b"rest"]) is RedisHash and db.data[b"rest"].hashtable


def test_list_readers_read_the_blob_without_opening_it(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    dispatcher.execute(client, [b"RPUSH", b"l", b"a", b"", b"\x00\r\n", b"b" * 255, b"a"])
    probes = [[b"LLEN", b"l"], [b"LLEN", b"missing"], [b"LRANGE", b"missing", b"0", b"-1"],
              *[[b"LINDEX", b"l", index] for index in (b"0", b"3", b"4", b"5", b"-1", b"-5",
                                                        b"-6")],
              *[[b"LRANGE", b"l", start, stop] for start, stop in (
                  (b"0", b"-1"), (b"1", b"2"), (b"-2", b"-1"), (b"3", b"1"), (b"5", b"9"),
                  (b"-100", b"100"), (b"0", b"0"), (b"-1", b"-1"))]]
    live = [dispatcher.execute(client, argv) for argv in probes]
    db.pack_loose()
    blob = db.data[b"l"]
    assert type(blob) is PackedList
    assert [dispatcher.execute(client, argv) for argv in probes] == live
    assert db.data[b"l"] is blob and not db.opened
    error = dispatcher.execute(client, [b"LINDEX", b"l", b"x"])
    assert isinstance(error, ReplyError) and "not an integer" in error.message


def test_sorted_set_readers_read_the_blob_without_opening_it(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    dispatcher.execute(client, [b"ZADD", b"z", b"-inf", b"low", b"-0", b"zero", b"1.5", b"a",
                                b"1.5", b"ab", b"inf", b"", b"-2.25", b"\x00\r\n",
                                b"1e300", b"big"])
    members = (b"low", b"zero", b"a", b"ab", b"", b"\x00\r\n", b"big", b"b", b"missing")
    probes = [[b"ZCARD", b"z"], [b"ZCARD", b"missing"], [b"ZSCORE", b"missing", b"a"],
              [b"ZMSCORE", b"z", *members], [b"ZMSCORE", b"missing", b"a", b"b"],
              *[[command, b"z", member] for member in members
                for command in (b"ZSCORE", b"ZRANK", b"ZREVRANK")]]
    live = [dispatcher.execute(client, argv) for argv in probes]
    db.pack_loose()
    blob = db.data[b"z"]
    assert type(blob) is PackedZSet
    assert [dispatcher.execute(client, argv) for argv in probes] == live
    assert db.data[b"z"] is blob and not db.opened


def test_set_readers_read_the_blob_without_opening_it(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    dispatcher.execute(client, [b"SADD", b"s", b"a", b"", b"\x00\r\n", b"ab", b"x" * 64])
    dispatcher.execute(client, [b"SADD", b"i", b"-9223372036854775808", b"0", b"7", b"-3",
                                b"9223372036854775807"])
    candidates = (b"a", b"", b"ab", b"abc", b"x" * 64, b"\x00\r\n", b"0", b"7", b"07", b"+7",
                  b"-3", b"-0", b"9223372036854775807", b"9223372036854775808",
                  b"-9223372036854775808", b" 7", b"8")
    probes = [[b"SCARD", b"s"], [b"SCARD", b"i"], [b"SCARD", b"missing"],
              [b"SMISMEMBER", b"s", *candidates], [b"SMISMEMBER", b"i", *candidates],
              [b"SMISMEMBER", b"missing", b"a"],
              *[[b"SISMEMBER", key, member] for key in (b"s", b"i") for member in candidates]]
    live = [dispatcher.execute(client, argv) for argv in probes]
    db.pack_loose()
    blobs = {key: db.data[key] for key in (b"s", b"i")}
    assert type(blobs[b"s"]) is PackedSet and type(blobs[b"i"]) is PackedIntSet
    assert [dispatcher.execute(client, argv) for argv in probes] == live
    assert all(db.data[key] is blob for key, blob in blobs.items()) and not db.opened


def test_a_collection_grown_past_packing_stays_live_and_counted(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    dispatcher.execute(client, [b"RPUSH", b"l", b"a"])
    db.pack_loose()
    dispatcher.execute(client, [b"RPUSH", b"l", *[b"x"] * MAX_ITEMS])
    db.pack_loose()
    assert type(db.data[b"l"]) is RedisList
    db.refresh_sizes()
    assert b"l" in db.sizes and not db.opened
    dispatcher.execute(client, [b"DEL", b"l"])
    assert db.used == 0


def test_replies_encodings_dumps_and_digests_survive_packing(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    setup = [[b"HSET", b"h", b"f", b"v", b"g", b"w"], [b"RPUSH", b"l", b"a", b"b", b"a"],
             [b"SADD", b"i", b"3", b"1", b"2"], [b"SADD", b"s", b"x", b"y"],
             [b"ZADD", b"z", b"2", b"b", b"1", b"a", b"-inf", b"c"]]
    for argv in setup:
        dispatcher.execute(client, argv)
    probes = [[b"HGETALL", b"h"], [b"LRANGE", b"l", b"0", b"-1"], [b"SMEMBERS", b"i"],
              [b"SCARD", b"s"], [b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"],
              *[[b"OBJECT", b"ENCODING", key] for key in (b"h", b"l", b"i", b"s", b"z")],
              *[[b"TYPE", key] for key in (b"h", b"l", b"i", b"s", b"z")],
              *[[b"DUMP", key] for key in (b"h", b"l", b"i", b"z")],
              [b"DBSIZE"], [b"SCAN", b"0", b"TYPE", b"zset"]]
    live = [dispatcher.execute(client, argv) for argv in probes]
    live_digest = dataset_digest(instance.databases)
    db.pack_loose()
    assert all(type(db.data[key]) in PACKED_TYPES for key in (b"h", b"l", b"i", b"s", b"z"))
    assert dataset_digest(instance.databases) == live_digest  # (read without opening)
    assert all(type(db.data[key]) in PACKED_TYPES for key in (b"h", b"l", b"i", b"s", b"z"))
    packed_replies = []
    for argv in probes:
        packed_replies.append(dispatcher.execute(client, argv))
        db.pack_loose()  # every probe starts from the packed value
    assert packed_replies == live


def test_keys_renamed_moved_copied_and_expired_while_packed(server) -> None:  # noqa: ANN001
    instance, dispatcher, client = server
    db = instance.databases[0]
    dispatcher.execute(client, [b"ZADD", b"z", b"1", b"a"])
    db.pack_loose()
    assert dispatcher.execute(client, [b"RENAME", b"z", b"z2"]) == "OK"
    assert dispatcher.execute(client, [b"COPY", b"z2", b"z3"]) == 1
    db.pack_loose()
    assert dispatcher.execute(client, [b"MOVE", b"z3", b"1"]) == 1
    instance.databases[1].pack_loose()
    assert type(instance.databases[1].data[b"z3"]) is PackedZSet
    dispatcher.execute(client, [b"PEXPIRE", b"z2", b"1"])
    db.pack_loose()
    time.sleep(0.005)
    assert dispatcher.execute(client, [b"EXISTS", b"z2"]) == 0
    assert not db.opened and not db.data
    assert db.used == len(db._expiry_heap) * EXPIRY_ENTRY  # (a stale heap entry stays)
