"""The fast paths of RDB writing and reading: the streaming writer (same bytes as
``snapshot``), the inlined record paths, the folded CRC64, the sampled LZF search,
and a round trip of every type and encoding through them (and through a real
redis-server, for the LZF streams the new search produces)."""

from __future__ import annotations

import io
import random
import subprocess
import time
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from support.servers import redis_server_path, start_redis

from taipan.keyspace.database import Database, KeyspaceStats
from taipan.persistence import dump_payload, load_payload, rdb_file
from taipan.persistence.crc64 import python_crc64
from taipan.persistence.lzf import LzfError, python_lzf_compress_within, python_lzf_decompress
from taipan.persistence.rdb_file import read_rdb, snapshot, write_snapshot
from taipan.persistence.rdb_format import (
    RdbError,
    RdbReader,
    crc64,
    lzf_compress_within,
    lzf_decompress,
    write_string,
)
from taipan.types.hashes import RedisHash
from taipan.types.lists import RedisList
from taipan.types.packed import live_value
from taipan.types.sets import RedisSet
from taipan.types.zset import ZSet

CONFIG = SimpleNamespace(
    set_max_intset_entries=512, hash_max_listpack_entries=128, hash_max_listpack_value=64,
    zset_max_listpack_entries=128, zset_max_listpack_value=64, list_max_listpack_size=-2,
    rdbcompression=True,
)
needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")


def _every_encoding() -> dict[bytes, Any]:
    rng = random.Random(21)
    skiplist = ZSet.from_entries([(b"m%d" % i, i * 0.25 - 7) for i in range(200)], False)
    hashtable = RedisHash((b"f%d" % i, b"v%d" % i) for i in range(300))
    hashtable.hashtable = True
    return {
        b"plain": b"hello", b"empty": b"", b"int8": b"-5", b"int16": b"12345",
        b"int32": b"-2000000000", b"int64": b"9000000000", b"not-canonical": b"007",
        b"bytearray": bytearray(b"a bytearray value, long enough to compress: aaaaaaa"),
        b"compressible": b"hello world " * 50, b"just-over-20": b"abcabcabcabcabcabcabcab",
        b"noise": rng.randbytes(300), b"big-compressible": b"0123456789" * 5000,
        b"big-noise": rng.randbytes(50_000), b"binary\x00key\xff": b"\x00\xff" * 40,
        b"123": b"numeric key", b"long-key-" + b"k" * 100: b"v",
        b"list": RedisList([b"a", b"1", b"-77", b"x" * 70, b"", b"9" * 25]),
        b"list-many-nodes": RedisList(b"item-%d" % i for i in range(5000)),
        b"intset16": RedisSet.build([b"1", b"-3", b"300"], 512),
        b"intset32": RedisSet.build([b"1", b"70000"], 512),
        b"intset64": RedisSet.build([b"1", b"%d" % 2**40], 512),
        b"set": RedisSet.build([b"a", b"b", b"1"], 512),
        b"zset": ZSet.from_entries([(b"a", 1.0), (b"b", 2.5), (b"c", float("inf")),
                                    (b"d", float("-inf")), (b"e", -0.0), (b"f", 3e20),
                                    (b"g", -17.0), (b"h", 1e-300)], True),
        b"skiplist": skiplist,
        b"hash": RedisHash([(b"f", b"v"), (b"n", b"7"), (b"-", b""), (b"big", b"x" * 50)]),
        b"hashtable": hashtable,
    }


def _databases() -> list[Database]:
    stats = KeyspaceStats()
    first, empty, third = Database(0, stats), Database(1, stats), Database(2, stats)
    for key, value in _every_encoding().items():
        first.set(key, value)
    first.set_expire(b"plain", int(time.time() * 1000) + 100_000)
    first.set_expire(b"hash", int(time.time() * 1000) + 200_000)
    for i in range(3000):
        third.set(b"s:%d" % i, b"value-%d" % i)
    return [first, empty, third]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (bytes, bytearray)):
        return isinstance(b, (bytes, bytearray)) and bytes(a) == bytes(b)
    if type(a) is not type(b) or a.encoding(CONFIG) != b.encoding(CONFIG):
        return False
    if isinstance(a, RedisSet):
        return sorted(a) == sorted(b)
    if isinstance(a, RedisHash):
        return dict(a) == dict(b)
    if isinstance(a, ZSet):  # -0.0 == 0.0: compare the sign too
        return [(m, s, str(s)) for m, s in a] == [(m, s, str(s)) for m, s in b]
    return list(a) == list(b)


class _Recorder(io.BytesIO):
    """Counts the writes: the streaming writer must hand the file several chunks."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> int:
        self.writes += 1
        return super().write(data)


@pytest.mark.parametrize("chunk", [64, 4096, 1 << 20])
def test_write_snapshot_writes_what_snapshot_returns(monkeypatch, chunk: int) -> None:
    monkeypatch.setattr(rdb_file.time, "time", lambda: 1_700_000_000.0)
    databases = _databases()
    whole = snapshot(databases, CONFIG, [(b"note", b"x")])
    monkeypatch.setattr(rdb_file, "_CHUNK_BYTES", chunk)
    out = _Recorder()
    write_snapshot(out, databases, CONFIG, [(b"note", b"x")])
    assert out.getvalue() == whole
    if chunk < len(whole) // 4:
        assert out.writes > 3  # streamed, and the CRC ran over the chunks
    assert int.from_bytes(whole[-8:], "little") == crc64(whole[:-8])


@pytest.mark.parametrize("compress", [True, False])
def test_every_type_and_encoding_round_trips(compress: bool) -> None:
    config = SimpleNamespace(**{**vars(CONFIG), "rdbcompression": compress})
    databases = _databases()
    contents = read_rdb(snapshot(databases, config), config)
    assert set(contents.databases) == {0, 2}
    assert contents.sizes == {0: (len(databases[0].data), 2), 2: (3000, 0)}
    for db in databases:
        for key, value in db.data.items():
            loaded = contents.databases[db.index][key]
            assert _same(value, live_value(loaded)), key
            assert contents.expires.get(db.index, {}).get(key) == db.expires.get(key)
    for value in _every_encoding().values():  # DUMP payloads share the writers
        assert _same(value, live_value(load_payload(dump_payload(value, config), config)))


def test_uncompressed_file_is_unchanged_by_the_fast_paths() -> None:
    """Without LZF, the bytes are fixed by the format: the fast record paths must
    write exactly what the general writers write."""
    config = SimpleNamespace(**{**vars(CONFIG), "rdbcompression": False})
    writer = rdb_file.RdbWriter(config)
    db = _databases()[0]
    writer.select_db(0, len(db.data), len(db.expires))
    for key, value in db.data.items():
        writer.key(key, value, db.expires.get(key))
    general = writer.finish()
    fast = snapshot([db], config)
    # The same records after the header and AUX fields snapshot adds.
    assert fast[fast.index(b"\xfe\x00"):-8] == general[general.index(b"\xfe\x00"):-8]


def _crc64_bitwise(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc


@pytest.mark.parametrize("crc64", [crc64, python_crc64], ids=["anycrc", "python"])
def test_crc64_matches_the_definition(crc64: Any) -> None:
    rng = random.Random(5)
    for size in [0, 1, 7, 8, 9, 511, 512, 513, 1000, 4097, 70_000]:
        data = rng.randbytes(size)
        start = rng.getrandbits(64)
        expected = _crc64_bitwise(data, start)
        assert crc64(data, start) == expected
        assert crc64(bytearray(data), start) == crc64(memoryview(data), start) == expected
    big = rng.randbytes(600_000)  # several internal pieces of the folded Python one
    assert crc64(big) == crc64(big[400_000:], crc64(big[:400_000]))
    assert crc64(big[:5000]) == _crc64_bitwise(big[:5000])


def _lzf_reference(data: bytes) -> bytes:
    """The plain greedy loop: every position against the latest occurrence of its
    three bytes within the 8 KiB window (what the greedy path must reproduce)."""
    out = bytearray()
    n = len(data)
    last_seen: dict[bytes, int] = {}
    literal_start = i = 0

    def literals(stop: int) -> None:
        for start in range(literal_start, stop, 32):
            chunk = data[start:min(start + 32, stop)]
            out.append(len(chunk) - 1)
            out.extend(chunk)

    while i + 2 < n:
        ref = last_seen.get(data[i:i + 3])
        last_seen[data[i:i + 3]] = i
        if ref is None or i - ref > 8192:
            i += 1
            continue
        length = 3
        while length < min(264, n - i) and data[ref + length] == data[i + length]:
            length += 1
        literals(i)
        offset, code = i - ref - 1, length - 2
        if code < 7:
            out.append((code << 5) | (offset >> 8))
        else:
            out += bytes(((7 << 5) | (offset >> 8), code - 7))
        out.append(offset & 0xFF)
        for k in range(i + 1, min(i + length, n - 2)):
            last_seen[data[k:k + 3]] = k
        i += length
        literal_start = i
    literals(n)
    return bytes(out)


def _samples() -> list[bytes]:
    rng = random.Random(8)
    samples = [b"", b"a", b"abc", b"aaaa", b"x" * 1000, b"x" * 1025, b"abcabcabd" * 300,
               rng.randbytes(1024), rng.randbytes(3000), rng.randbytes(9000) * 2]
    for _ in range(400):
        alphabet = rng.choice([b"ab", b"abcd", b"0123456789-value", bytes(range(256))])
        samples.append(bytes(rng.choices(alphabet, k=rng.randrange(2000))))
    return samples


LZF_CODECS = [pytest.param(lzf_compress_within, lzf_decompress, id="liblzf"),
              pytest.param(python_lzf_compress_within, python_lzf_decompress, id="python")]


@pytest.mark.parametrize(("compress", "decompress"), LZF_CODECS)
def test_lzf_streams_decompress_and_respect_the_limit(compress: Any, decompress: Any) -> None:
    for data in _samples():
        packed = compress(data, -1)
        assert decompress(packed, len(data)) == data
        assert python_lzf_decompress(packed, len(data)) == data  # either reads either
        if len(data) > 1024 and compress is python_lzf_compress_within:
            assert packed == _lzf_reference(data)  # the greedy path's exact output
        for limit in {len(data) - 4, len(data) // 2, len(packed), len(packed) - 1,
                      len(packed) + 4}:
            if limit < 0:
                continue
            got = compress(data, limit)
            if len(packed) > limit:
                assert got is None
            elif compress is python_lzf_compress_within or len(packed) + 4 <= limit:
                assert got == packed
            else:  # liblzf gives up a few bytes short of its limit (so does Redis)
                assert got in (packed, None)


def test_lzf_decompress_refuses_an_impossible_length_without_allocating_it() -> None:
    # A corrupt RDB/RESTORE length: an LZF error, never gigabytes asked of malloc.
    for expected in (2**40, 89 * 3 + 1):
        with pytest.raises(LzfError):
            lzf_decompress(b"\x01ab" + bytes((0xE0, 255, 1)), expected)


@pytest.mark.parametrize("decompress", [lzf_decompress, python_lzf_decompress],
                         ids=["liblzf", "python"])
def test_lzf_decompress_long_overlapping_copies(decompress: Any) -> None:
    # "ab" then 264 bytes copied from 2 back, then "c" and 100 from 1 back
    data = b"\x01ab" + bytes((0xE0, 255, 1)) + b"\x00c" + bytes((0xE0, 91, 0))
    assert decompress(data, 2 + 264 + 1 + 100) == b"ab" * 133 + b"c" * 101
    for wrong in (10, 2 + 264 + 1 + 99, 2 + 264 + 1 + 101, 0):
        with pytest.raises(LzfError):
            decompress(data, wrong)


def test_reader_fast_paths_check_bounds() -> None:
    for data in (b"\x05abc", b"\xc3\x05\x0a\x01", b"\xc3"):
        with pytest.raises(RdbError):
            RdbReader(data).string()
    out = bytearray()
    write_string(out, b"spam and eggs " * 10)
    assert RdbReader(bytes(out)).string() == b"spam and eggs " * 10
    file = snapshot(_databases()[2:], CONFIG)
    for cut in (20, len(file) // 2, len(file) - 12):
        with pytest.raises(RdbError):
            read_rdb(file[:cut], CONFIG)


@needs_redis
def test_real_redis_loads_the_new_lzf_streams(tmp_path) -> None:
    db = Database(0, KeyspaceStats())
    for index, data in enumerate(_samples()):
        db.set(b"s%d" % index, data)
    databases = _databases()
    for key, value in databases[0].data.items():
        db.set(b"t:" + key, value)
    with open(tmp_path / "dump.rdb", "wb") as out:
        write_snapshot(out, [db], CONFIG)
    check = subprocess.run(["redis-check-rdb", str(tmp_path / "dump.rdb")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    server = start_redis("--dir", str(tmp_path), "--dbfilename", "dump.rdb")
    try:
        client = redis.Redis(port=server.port)
        assert client.dbsize() == len(db.data)
        for index, data in enumerate(_samples()):
            assert client.get(b"s%d" % index) == data
        assert client.hgetall(b"t:hash") == dict(db.data[b"t:hash"])
        assert client.lrange(b"t:list-many-nodes", 0, -1) == list(db.data[b"t:list-many-nodes"])
        assert client.zrange(b"t:zset", 0, -1, withscores=True) == list(db.data[b"t:zset"])
        assert client.object("encoding", b"t:intset64") == b"intset"
        client.close()
    finally:
        server.stop()


def test_write_snapshot_to_a_raw_file_that_takes_part_of_each_write(monkeypatch) -> None:
    monkeypatch.setattr(rdb_file.time, "time", lambda: 1_700_000_000.0)
    monkeypatch.setattr(rdb_file, "_CHUNK_BYTES", 1000)

    class Stingy(io.BytesIO):
        def write(self, data: Any) -> int:
            return super().write(bytes(data)[:777])

    databases = _databases()
    out = Stingy()
    write_snapshot(out, databases, CONFIG)
    assert out.getvalue() == snapshot(databases, CONFIG)


def test_one_buffer_listpack_equals_the_entry_by_entry_one() -> None:
    """``listpack_encode`` inlines the short entries: the same bytes as encoding
    every entry on its own (integers, long strings and empty ones included)."""
    from taipan.persistence.rdb_packed import (
        listpack_encode,
        listpack_entries,
        listpack_from_entries,
    )

    rng = random.Random(7)
    for _ in range(300):
        values = [bytes(rng.choice(b"ab-0123456789xyz")
                        for _ in range(rng.choice([0, 1, 2, 5, 30, 63, 64, 70, 200, 5000])))
                  for _ in range(rng.randrange(0, 40))]
        assert listpack_encode(values) == listpack_from_entries(listpack_entries(values))
