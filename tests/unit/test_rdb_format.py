"""RDB building blocks: CRC64, LZF, lengths, strings, listpack / ziplist / intset, and
whole files (parsed from a real redis-server's SAVE, and written for it to load)."""

from __future__ import annotations

import random
import subprocess
import time
from types import SimpleNamespace

import pytest
import redis
from support.servers import redis_server_path, start_redis

from taipan.keyspace.database import Database, KeyspaceStats
from taipan.persistence import dump_payload, load_payload, payload_verified
from taipan.persistence.lzf import LzfError
from taipan.persistence.rdb_file import RdbWriter, read_rdb, snapshot
from taipan.persistence.rdb_format import (
    RdbError,
    RdbReader,
    crc64,
    lzf_compress,
    lzf_decompress,
    write_length,
    write_string,
)
from taipan.persistence.rdb_packed import (
    intset_decode,
    intset_encode,
    listpack_decode,
    listpack_encode,
    ziplist_decode,
    zipmap_decode,
)
from taipan.persistence.rdb_values import score_text
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed import live_value
from taipan.types.sets import RedisSet
from taipan.types.zset import ZSet

CONFIG = SimpleNamespace(
    set_max_intset_entries=512, hash_max_listpack_entries=512, hash_max_listpack_value=64,
    zset_max_listpack_entries=128, zset_max_listpack_value=64, list_max_listpack_size=-2,
    rdbcompression=True,
)


def test_crc64_check_value() -> None:
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(b"") == 0
    assert crc64(b"456789", crc64(b"123")) == crc64(b"123456789")


@pytest.mark.parametrize("data", [
    b"", b"a", b"ab", b"abc", b"aaaaaaaaaa" * 50, b"abcabcabd" * 300,
    random.Random(3).randbytes(5000),
    bytes(random.Random(4).choices(b"ab", k=20000)),
])
def test_lzf_round_trip(data: bytes) -> None:
    assert lzf_decompress(lzf_compress(data), len(data)) == data


def test_lzf_compresses_repetition() -> None:
    assert len(lzf_compress(b"x" * 1000)) < 30


@pytest.mark.parametrize("bad", [b"\x05ab", b"\x20", b"\xe0", b"\x00a\x20\x05", b"\x20\x00"])
def test_lzf_rejects_malformed(bad: bytes) -> None:
    with pytest.raises(LzfError):
        lzf_decompress(bad, 10)


def test_lzf_overlapping_copy() -> None:
    # literal "ab", then copy 6 bytes from 2 back (overlapping): "abababab"
    assert lzf_decompress(b"\x01ab\x80\x01", 8) == b"abababab"


@pytest.mark.parametrize("length", [0, 1, 63, 64, 16383, 16384, 2**32 - 1, 2**32, 2**40])
def test_length_round_trip(length: int) -> None:
    out = bytearray()
    write_length(out, length)
    assert RdbReader(out).length() == length


@pytest.mark.parametrize("value, encoded", [
    (b"-5", b"\xc0\xfb"), (b"127", b"\xc0\x7f"), (b"12345", b"\xc1\x39\x30"),
    (b"-2000000000", b"\xc2\x00\x6c\xca\x88"), (b"007", b"\x03007"), (b"-0", b"\x02-0"),
    (b"2147483648", b"\x0a2147483648"), (b"", b"\x00"),
])
def test_string_encodings(value: bytes, encoded: bytes) -> None:
    out = bytearray()
    write_string(out, value)
    assert bytes(out) == encoded
    assert RdbReader(out).string() == value


def test_long_strings_are_lzf_compressed() -> None:
    value = b"hello world " * 100
    out = bytearray()
    write_string(out, value)
    assert out[0] == 0xC3 and len(out) < 100
    assert RdbReader(out).string() == value
    out = bytearray()
    write_string(out, value, compress=False)
    assert len(out) == len(value) + 2  # a 14-bit length


def test_big_incompressible_strings_skip_lzf() -> None:
    noise = random.Random(9).randbytes(100_000)
    out = bytearray()
    write_string(out, noise)
    assert out[0] == 0x80 and RdbReader(out).string() == noise
    out = bytearray()
    write_string(out, bytearray(b"0123456789" * 10_000))
    assert out[0] == 0xC3 and RdbReader(out).string() == b"0123456789" * 10_000


def test_truncated_reads_raise() -> None:
    for data in (b"", b"\x05abc", b"\x40", b"\x80\x00", b"\xc1\x01", b"\xc3\x05\x0a\x01",
                 b"\xc4"):
        with pytest.raises(RdbError):
            RdbReader(data).string()


LISTPACK_VALUES = [b"0", b"127", b"128", b"-1", b"-4096", b"4095", b"4096", b"-32768",
                   b"40000", b"-8388608", b"9999999999", b"9223372036854775807",
                   b"-9223372036854775808", b"9223372036854775808", b"x" * 63, b"x" * 64,
                   b"y" * 4095, b"y" * 4096, b"01", b"", b"-0", b"z" * 20000, b"1.5"]


def test_listpack_round_trip() -> None:
    assert listpack_decode(listpack_encode(LISTPACK_VALUES)) == LISTPACK_VALUES


def test_listpack_exact_bytes() -> None:
    assert listpack_encode([b"a", b"1"]) == b"\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff"
    assert listpack_encode([b"-1"]) == b"\x0a\x00\x00\x00\x01\x00\xdf\xff\x02\xff"


def test_listpack_rejects_corruption() -> None:
    blob = listpack_encode([b"abc", b"1000"])
    for bad in (blob[:-1], blob[:5] + b"\x09" + blob[6:], b"\x07\x00\x00\x00\x00\x00\xfe",
                blob[:6] + b"\x85" + blob[7:]):
        with pytest.raises(RdbError):
            listpack_decode(bad)


def _ziplist(entries: list[bytes]) -> bytes:
    body = b"".join(entries)
    total = 10 + len(body) + 1
    return (total.to_bytes(4, "little") + b"\x00\x00\x00\x00"
            + len(entries).to_bytes(2, "little") + body + b"\xff")


def test_ziplist_decode() -> None:
    entries = [b"\x00\x02ab", b"\x04\xf6", b"\x02\xc0\xe8\x03", b"\x04\xfe\x9c",
               b"\x03\xf0\x00\x00\x80", b"\x05\x40\x41" + b"q" * 65]
    assert ziplist_decode(_ziplist(entries)) == [b"ab", b"5", b"1000", b"-100", b"-8388608",
                                                 b"q" * 65]
    with pytest.raises(RdbError):
        ziplist_decode(_ziplist([b"\x00\x05ab"]))


def test_zipmap_decode() -> None:
    blob = b"\x02\x03foo\x03\x01bar!\x01a\xfe\x2c\x01\x00\x00\x00" + b"v" * 300 + b"\xff"
    assert zipmap_decode(blob) == [b"foo", b"bar", b"a", b"v" * 300]
    for bad in (blob[:-1], blob[:10], b"\x01\x03foo\x09\x00bar\xff"):
        with pytest.raises(RdbError):
            zipmap_decode(bad)


def test_restore_old_encodings() -> None:
    zipmap = b"\x01\x01f\x01\x00v\xff"
    ziplist = _ziplist([b"\x00\x01a", b"\x03\xf2", b"\x02\x01b", b"\x03\xc0\x00\x01"])
    for kind, blob, expected in ((9, zipmap, {b"f": b"v"}), (13, ziplist, {b"a": b"1", b"b": b"256"})):
        out = bytearray((kind,))
        write_string(out, blob)
        out += b"\x0a\x00"
        payload = bytes(out) + crc64(out).to_bytes(8, "little")
        assert dict(live_value(load_payload(payload, CONFIG))) == expected
    out = bytearray((12,))
    write_string(out, ziplist)
    out += b"\x0a\x00"
    zset = live_value(load_payload(bytes(out) + crc64(out).to_bytes(8, "little"), CONFIG))
    assert list(zset) == [(b"a", 1.0), (b"b", 256.0)]


@pytest.mark.parametrize("values, width", [
    ([1, 2, 3], 2), ([-40000, 5], 4), ([0, 2**40], 8), ([-(2**63), 2**63 - 1], 8)])
def test_intset_round_trip(values: list[int], width: int) -> None:
    blob = intset_encode(values)
    assert int.from_bytes(blob[:4], "little") == width
    assert intset_decode(blob) == values
    with pytest.raises(RdbError):
        intset_decode(blob[:-1])


@pytest.mark.parametrize("score, text", [
    (1.0, b"1"), (-0.0, b"-0"), (0.0, b"0"), (2.5, b"2.5"), (0.1, b"0.10000000000000001"),
    (float("inf"), b"inf"), (float("-inf"), b"-inf"), (1e300, b"1.0000000000000001e+300"),
    (123456789012.0, b"123456789012")])
def test_score_text(score: float, text: bytes) -> None:
    assert score_text(score) == text


def _values() -> dict[bytes, object]:
    big_hash = RedisHash((b"f%d" % i, b"v%d" % i) for i in range(600))
    big_hash.hashtable = True
    return {
        b"s": b"hello",
        b"n": b"12345",
        b"l": RedisList([b"a", b"1", b"z" * 9000, b"b"] * 3),
        b"si": RedisSet.build([b"1", b"-7", b"300"], 512),
        b"sh": RedisSet.build([b"a", b"b"], 512),
        b"zl": ZSet.from_entries([(b"a", 1.0), (b"b", -2.5)], listpack=True),
        b"zs": ZSet.from_entries([(b"m%d" % i, i / 3) for i in range(200)], listpack=False),
        b"hl": RedisHash([(b"f", b"v"), (b"n", b"7")]),
        b"hh": big_hash,
    }


def _contents(value: object) -> object:
    if isinstance(value, RedisSet):
        return ("set", sorted(value), value.encoding(CONFIG))
    if isinstance(value, ZSet):
        return ("zset", list(value), value.encoding(CONFIG))
    if isinstance(value, RedisHash):
        return ("hash", dict(value), value.encoding(CONFIG))
    if isinstance(value, RedisList):
        return ("list", list(value))
    return value


def test_payload_round_trip() -> None:
    for value in _values().values():
        payload = dump_payload(value, CONFIG)
        assert payload_verified(payload)
        assert _contents(live_value(load_payload(payload, CONFIG))) == _contents(value)
        assert not payload_verified(payload[:-1] + bytes([payload[-1] ^ 0xFF]))
        assert not payload_verified(payload[:-10] + b"\x0b\x00" + payload[-8:])


# -- whole files against a real redis-server ------------------------------------------

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")


@needs_redis
def test_parse_a_real_dump_rdb(tmp_path) -> None:
    server = start_redis("--dir", str(tmp_path))
    try:
        client = redis.Redis(port=server.port)
        client.set("s", "hello")
        client.set("big", "abc" * 1000)
        client.set("ttl", "x", px=100_000)
        client.rpush("l", *[f"e{i}" for i in range(1000)])
        client.sadd("si", 1, 2, 3)
        client.sadd("sh", *[f"m{i}" for i in range(600)])
        client.zadd("z", {"a": 1, "b": 2.5})
        client.zadd("zs", {f"m{i}": i for i in range(300)})
        client.hset("h", mapping={"f": "v"})
        client.hset("hh", mapping={f"f{i}": "v" for i in range(600)})
        client.select(3)
        client.set("db3", "yes")
        client.function_load("#!lua name=lib\nredis.register_function('f', function() "
                             "return 1 end)")
        client.select(0)
        client.save()
        client.close()
    finally:
        server.stop()
    contents = read_rdb((tmp_path / "dump.rdb").read_bytes(), CONFIG)
    assert contents.version == 10
    assert contents.aux[b"redis-ver"] == b"7.0.15"
    assert b"ctime" in contents.aux and b"used-mem" in contents.aux
    assert contents.checksum != 0
    assert contents.sizes[0] == (10, 1) and contents.sizes[3] == (1, 0)
    assert len(contents.functions) == 1 and b"lib" in contents.functions[0]
    db0 = contents.databases[0]
    expires = contents.expires[0]
    assert live_value(db0[b"s"]) == b"hello" and b"s" not in expires
    assert live_value(db0[b"big"]) == b"abc" * 1000
    assert expires[b"ttl"] - time.time() * 1000 > 90_000
    assert list(live_value(db0[b"l"])) == [b"e%d" % i for i in range(1000)]
    assert live_value(db0[b"si"]).encoding(CONFIG) == "intset"
    assert sorted(live_value(db0[b"sh"])) == sorted(b"m%d" % i for i in range(600))
    assert list(live_value(db0[b"z"])) == [(b"a", 1.0), (b"b", 2.5)]
    assert len(live_value(db0[b"zs"])) == 300 and live_value(db0[b"zs"]).encoding(CONFIG) == "skiplist"
    assert dict(live_value(db0[b"h"])) == {b"f": b"v"}
    assert live_value(db0[b"hh"]).encoding(CONFIG) == "hashtable"
    assert live_value(contents.databases[3][b"db3"]) == b"yes"


@needs_redis
def test_real_redis_loads_a_written_rdb(tmp_path) -> None:
    values = _values()
    writer = RdbWriter(CONFIG)
    writer.aux(b"redis-ver", b"7.0.15")
    writer.aux(b"redis-bits", b"64")
    writer.select_db(0, len(values), 1)
    deadline = int(time.time() * 1000) + 100_000
    for key, value in values.items():
        writer.key(key, value, deadline if key == b"s" else None)
    writer.select_db(5, 1, 0)
    writer.key(b"other", b"db5")
    data = writer.finish()
    assert _contents(live_value(read_rdb(data, CONFIG).databases[0][b"hh"])) == \
        _contents(values[b"hh"])
    (tmp_path / "dump.rdb").write_bytes(data)
    check = subprocess.run(["redis-check-rdb", str(tmp_path / "dump.rdb")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "RDB looks OK" in check.stdout
    server = start_redis("--dir", str(tmp_path), "--dbfilename", "dump.rdb")
    try:
        client = redis.Redis(port=server.port)
        assert client.dbsize() == len(values)
        assert client.get("s") == b"hello" and 90_000 < client.pttl("s") <= 100_000
        assert client.lrange("l", 0, -1) == list(values[b"l"])
        assert client.object("encoding", "si") == b"intset"
        assert client.smembers("sh") == {b"a", b"b"}
        assert client.zrange("zs", 0, -1, withscores=True) == list(values[b"zs"])
        assert client.object("encoding", "zs") == b"skiplist"
        assert client.hgetall("hh") == dict(values[b"hh"])
        assert client.object("encoding", "hh") == b"hashtable"
        assert client.hgetall("hl") == {b"f": b"v", b"n": b"7"}
        client.select(5)
        assert client.get("other") == b"db5"
        client.close()
    finally:
        server.stop()


def test_read_rdb_rejects_bad_files() -> None:
    writer = RdbWriter(CONFIG)
    writer.key(b"k", b"v")
    data = writer.finish()
    assert read_rdb(data, CONFIG).databases[0][b"k"] == b"v"
    for bad in (b"REDIS", b"RODIS0010", b"REDIS0011" + data[9:], data[:-1],
                data[:-9] + bytes([data[-9] ^ 1]) + data[-8:], data[:12]):
        with pytest.raises(RdbError):
            read_rdb(bad, CONFIG)
    unchecked = data[:-8] + bytes(8)  # a zero checksum is "not computed"
    assert read_rdb(unchecked, CONFIG).databases[0][b"k"] == b"v"


@needs_redis
def test_snapshot_of_databases_loads_in_real_redis(tmp_path) -> None:
    stats = KeyspaceStats()
    first, empty, third = Database(0, stats), Database(1, stats), Database(2, stats)
    for key, value in _values().items():
        first.set(key, value)
    deadline = int(time.time() * 1000) + 50_000
    first.set_expire(b"s", deadline)
    third.set(b"x", b"y")
    data = snapshot([first, empty, third], CONFIG, [(b"note", b"taipan")])
    contents = read_rdb(data, CONFIG)
    assert contents.aux[b"note"] == b"taipan" and contents.aux[b"redis-ver"] == b"7.0.15"
    assert contents.sizes == {0: (len(_values()), 1), 2: (1, 0)}
    assert contents.expires[0][b"s"] == deadline
    (tmp_path / "dump.rdb").write_bytes(data)
    server = start_redis("--dir", str(tmp_path), "--dbfilename", "dump.rdb")
    try:
        client = redis.Redis(port=server.port)
        assert client.dbsize() == len(_values())
        assert 40_000 < client.pttl("s") <= 50_000
        client.select(2)
        assert client.get("x") == b"y"
        client.close()
    finally:
        server.stop()
