"""Streams in the keyspace, against a real redis-server: TYPE, OBJECT ENCODING, SCAN
TYPE, COPY (deep, groups included), RENAME, MOVE, expiry, DUMP/RESTORE.

Streams with consumer groups are made on redis-server and RESTOREd on both servers
(the same payload, so the same seen and delivery times), plain ones by XADD on both.
"""

from __future__ import annotations

import time

import pytest

from taipan.persistence.rdb_format import crc64


def _payload(raw: bytes) -> bytes:
    """The bulk string's body from a raw ``$n\\r\\n...\\r\\n`` reply."""
    return raw[raw.index(b"\r\n") + 2:-2]


def _grouped_payload(differ) -> bytes:
    """A stream with two groups, pending entries, an idle consumer and deleted
    entries, built on redis-server only; its DUMP payload (uncompressed)."""
    ref, _ = differ.pairs[2]
    ref.call("CONFIG", "SET", "stream-node-max-entries", "4")
    for i in range(1, 15):
        ref.call("XADD", "src", f"{i}-1", "f", str(i), *(("extra", "x" * i) if i % 4 else ()))
    ref.call("XDEL", "src", "3-1", "9-1")
    ref.call("XGROUP", "CREATE", "src", "g1", "0")
    ref.call("XGROUP", "CREATE", "src", "g2", "$")
    ref.call("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "src", ">")
    ref.call("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "src", ">")
    ref.call("XGROUP", "CREATECONSUMER", "src", "g2", "idle")
    ref.call("CONFIG", "SET", "stream-node-max-entries", "100")
    ref.call("CONFIG", "SET", "rdbcompression", "no")
    payload = _payload(ref.call("DUMP", "src"))
    ref.call("CONFIG", "SET", "rdbcompression", "yes")
    ref.call("DEL", "src")
    return payload


@pytest.fixture
def grouped(differ) -> bytes:
    payload = _grouped_payload(differ)
    for client in differ.pairs[2]:  # DUMP replies comparable byte for byte
        client.call("CONFIG", "SET", "rdbcompression", "no")
    differ.check("RESTORE", "s", "0", payload, resp=(2,))
    yield payload
    for client in differ.pairs[2]:
        client.call("CONFIG", "SET", "rdbcompression", "yes")


def test_type_encoding_and_scan_type(differ) -> None:
    differ.run([
        ("XADD", "plain", "1-1", "a", "1"),
        ("SET", "str", "x"),
        ("RPUSH", "list", "x"),
        ("TYPE", "plain"),
        ("OBJECT", "ENCODING", "plain"),
        ("SCAN", "0", "TYPE", "stream"),
        ("SCAN", "0", "TYPE", "STREAM", "MATCH", "pl*"),
        ("SCAN", "0", "TYPE", "string"),
        ("XDEL", "plain", "1-1"),  # an empty stream stays a stream
        ("TYPE", "plain"),
        ("EXISTS", "plain"),
        ("OBJECT", "ENCODING", "plain"),
        ("SCAN", "0", "TYPE", "stream"),
    ])


def test_type_and_encoding_of_a_restored_stream(differ, grouped: bytes) -> None:
    differ.run([
        ("TYPE", "s"),
        ("OBJECT", "ENCODING", "s"),
        ("XLEN", "s"),
        ("XINFO", "STREAM", "s", "FULL"),
        ("XRANGE", "s", "-", "+"),
    ])


def test_dump_is_byte_identical_and_restores_anywhere(differ, grouped: bytes) -> None:
    differ.run([
        ("DUMP", "s"),
        ("XADD", "plain", "5-5", "a", "1", "b", "22"),
        ("XADD", "plain", "5-6", "a", "2", "b", "-7"),
        ("XADD", "plain", "7-0", "c", "x" * 100),
        ("XDEL", "plain", "5-6"),
        ("DUMP", "plain"),
    ])
    ref, ours = differ.pairs[2]
    theirs = _payload(ref.call("DUMP", "plain"))
    mine = _payload(ours.call("DUMP", "plain"))
    differ.run([
        ("RESTORE", "from-redis", "0", theirs),
        ("RESTORE", "from-taipan", "0", mine),
        ("XINFO", "STREAM", "from-redis", "FULL"),
        ("XINFO", "STREAM", "from-taipan", "FULL"),
        ("RESTORE", "from-redis", "0", theirs),  # BUSYKEY
        ("RESTORE", "s", "0", mine, "REPLACE"),
        ("XINFO", "STREAM", "s", "FULL"),
    ])


def test_copy_is_deep_and_keeps_groups(differ, grouped: bytes) -> None:
    differ.run([
        ("COPY", "s", "c"),
        ("XINFO", "STREAM", "c", "FULL"),
        ("DUMP", "c"),
        ("XADD", "c", "100-0", "new", "entry"),
        ("XDEL", "c", "1-1"),
        ("XSETID", "c", "200-0"),
        ("XINFO", "STREAM", "s", "FULL"),  # the original is untouched
        ("XINFO", "STREAM", "c"),
        ("COPY", "s", "c"),
        ("COPY", "s", "c", "REPLACE"),
        ("DUMP", "c"),
        ("COPY", "s", "other-db", "DB", "3"),
        ("SELECT", "3"),
        ("TYPE", "other-db"),
        ("XINFO", "STREAM", "other-db", "FULL"),
        ("SELECT", "0"),
    ])


def test_rename_move_and_expiry(differ, grouped: bytes) -> None:
    differ.run([
        ("RENAME", "s", "renamed"),
        ("EXISTS", "s"),
        ("XINFO", "STREAM", "renamed", "FULL"),
        ("RENAMENX", "renamed", "again"),
        ("MOVE", "again", "2"),
        ("SELECT", "2"),
        ("DUMP", "again"),
        ("EXPIRE", "again", "100"),
        ("TTL", "again"),
        ("PERSIST", "again"),
        ("TTL", "again"),
        ("PEXPIRE", "again", "1"),
        ("SELECT", "0"),
    ])
    time.sleep(0.05)
    differ.run([
        ("SELECT", "2"),
        ("EXISTS", "again"),
        ("TYPE", "again"),
        ("SELECT", "0"),
    ])


def test_restore_with_ttl_and_wrong_type_commands(differ, grouped: bytes) -> None:
    ref, _ = differ.pairs[2]
    payload = _payload(ref.call("DUMP", "s"))
    differ.run([
        ("RESTORE", "ttl", "100000", payload),
        ("TYPE", "ttl"),
        ("LPUSH", "s", "x"),
        ("GET", "s"),
        ("HSET", "s", "f", "v"),
        ("SET", "str", "v"),
        ("XADD", "str", "1-1", "a", "b"),
        ("XLEN", "str"),
        ("OBJECT", "ENCODING", "ttl"),
    ])
    assert differ.both("PTTL", "ttl")[1].startswith(b":")


def test_corrupt_stream_payloads_are_refused_by_both(differ, grouped: bytes) -> None:
    ref, _ = differ.pairs[2]
    body = _payload(ref.call("DUMP", "s"))[:-10]
    for client in differ.pairs[2]:
        client.call("CONFIG", "SET", "sanitize-dump-payload", "yes")
    try:
        for damaged in (body[:len(body) // 2], body[:-3]):
            differ.check("RESTORE", "bad", "0", _with_footer(damaged), resp=(2,))
            differ.check("EXISTS", "bad", resp=(2,))
    finally:
        for client in differ.pairs[2]:
            client.call("CONFIG", "SET", "sanitize-dump-payload", "no")


def _with_footer(body: bytes) -> bytes:
    payload = body + (10).to_bytes(2, "little")
    return payload + crc64(payload).to_bytes(8, "little")
