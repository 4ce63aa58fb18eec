"""FUNCTION DUMP / FUNCTION RESTORE payloads: round trips, malformed payloads, and
comparisons with a real redis-server (its payloads parsed and re-encoded byte for
byte, ours restored by it, the same error for each malformed payload)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.raw import RawClient
from support.servers import ServerProcess, redis_server_path, start_redis

from taipan.errors import ReplyError
from taipan.persistence.function_payload import (
    dump_functions,
    iter_functions_payload,
    parse_functions_payload,
)
from taipan.persistence.rdb_format import crc64, write_length, write_string

LIB = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"
LIB2 = b"#!lua name=lib2\nredis.register_function('g', function() return 2 end)"
# Long and repetitive: LZF-compressed in a payload.
LONG = (b"#!lua name=long\nredis.register_function('h', function() return 3 end)\n"
        + b"-- padding padding padding\n" * 40)
BLOB = b"redis.register_function('f', function() return 1 end)"

needs_redis = pytest.mark.skipif(redis_server_path() is None,
                                 reason="redis-server is not installed")


def footer(body: bytes, version: int = 10) -> bytes:
    """``body`` closed as a DUMP payload, checksum right."""
    data = body + version.to_bytes(2, "little")
    return data + crc64(data).to_bytes(8, "little")


def string(value: bytes) -> bytes:
    out = bytearray()
    write_string(out, value, compress=False)
    return bytes(out)


def length(value: int) -> bytes:
    out = bytearray()
    write_length(out, value)
    return bytes(out)


def old_record(name: bytes, engine: bytes, blob: bytes, description: bytes | None = None,
               ) -> bytes:
    """A library as Redis 7.0 release candidates saved it (opcode 246)."""
    head = b"\xf6" + string(name) + string(engine)
    if description is None:
        return head + b"\x00" + string(blob)
    return head + b"\x01" + string(description) + string(blob)


def reply_error(payload: bytes) -> str:
    with pytest.raises(ReplyError) as caught:
        parse_functions_payload(payload)
    return str(caught.value)


# -- round trips and format --------------------------------------------------------


@pytest.mark.parametrize("codes", [
    [], [LIB], [LIB, LIB2, LONG], [LONG], [b"#!lua name=x\n" + bytes(range(256)) * 70],
    [b"12345"], [b"#!lua name=nul\n\x00\x00return 1"],
])
@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(codes: list[bytes], compress: bool) -> None:
    payload = dump_functions(codes, compress=compress)
    assert parse_functions_payload(payload) == codes


def test_payload_layout() -> None:
    assert dump_functions([]) == footer(b"")
    assert dump_functions([LIB]) == footer(b"\xf5" + length(len(LIB)) + LIB)
    # rdbcompression decides, as for any RDB string.
    assert dump_functions([LONG])[1] == 0xC3
    assert dump_functions([LONG], compress=False) == footer(b"\xf5" + string(LONG))


def test_wrong_version_or_checksum() -> None:
    good = dump_functions([LIB])
    text = "ERR DUMP payload version or checksum are wrong"
    assert reply_error(b"") == text
    assert reply_error(b"\x0a\x00" + b"\x00" * 7) == text  # shorter than the footer
    assert reply_error(good[:-1] + bytes([good[-1] ^ 1])) == text
    assert reply_error(good[:5] + b"X" + good[6:]) == text
    assert reply_error(footer(b"\xf5" + string(LIB), version=11)) == text
    assert reply_error(footer(b"\xf5" + string(LIB), version=0xFFFF)) == text
    # Older RDB versions are read, as Redis reads them.
    assert parse_functions_payload(footer(b"\xf5" + string(LIB), version=9)) == [LIB]
    # Ten zero bytes: version 0, and the CRC64 of two zero bytes is 0.
    assert parse_functions_payload(b"\x00" * 10) == []


@pytest.mark.parametrize("body", [b"\x00" + string(LIB), b"\xf4" + string(LIB),
                                  b"\xff", b"\xf5" + string(LIB) + b"\x07"])
def test_not_a_function(body: bytes) -> None:
    assert reply_error(footer(body)) == "ERR given type is not a function"


@pytest.mark.parametrize("body", [
    b"\xf5",  # no code at all
    b"\xf5" + length(len(LIB) + 11) + LIB,  # runs past the footer
    b"\xf5" + string(LIB) + b"\xf5",
    b"\xf5\xc3\x05\x20\xff\xff\xff\xff\xff",  # LZF that doesn't inflate
    b"\xf5\xc4",  # an unknown string encoding
])
def test_unreadable_library(body: bytes) -> None:
    assert reply_error(footer(body)) == "ERR Failed loading library payload"


def test_code_may_run_into_the_footer() -> None:
    # Redis reads the whole payload, footer included: a string that runs into the
    # footer takes those bytes, and the loop ends there.
    payload = footer(b"\xf5" + length(len(LIB) + 1) + LIB)
    assert parse_functions_payload(payload) == [LIB + b"\n"]  # the version's low byte
    payload = footer(b"\xf5" + length(len(LIB) + 10) + LIB)
    assert parse_functions_payload(payload) == [LIB + payload[-10:]]


def test_integer_encoded_code() -> None:
    assert parse_functions_payload(footer(b"\xf5\xc0\x05")) == [b"5"]


def test_old_format_is_translated() -> None:
    assert parse_functions_payload(footer(old_record(b"lib", b"lua", BLOB))) == [
        b"#!lua name=lib\n" + BLOB]
    with_description = old_record(b"lib", b"LUA", BLOB, description=b"a description")
    assert parse_functions_payload(footer(with_description)) == [b"#!LUA name=lib\n" + BLOB]
    # Redis rebuilds the shebang with C's %s: each part stops at a NUL byte.
    truncated = old_record(b"lib\x00zz", b"lua\x00", BLOB + b"\x00 garbage(")
    assert parse_functions_payload(footer(truncated)) == [b"#!lua name=lib\n" + BLOB]
    # The description flag is a length; a special-encoding byte reads as its low bits.
    encoded_flag = b"\xf6" + string(b"lib") + string(b"lua") + b"\xc0" + string(BLOB)
    assert parse_functions_payload(footer(encoded_flag)) == [b"#!lua name=lib\n" + BLOB]
    mixed = footer(b"\xf5" + string(LIB2) + old_record(b"lib", b"lua", BLOB))
    assert parse_functions_payload(mixed) == [LIB2, b"#!lua name=lib\n" + BLOB]


@pytest.mark.parametrize(("body", "text"), [
    (b"\xf6", "Failed loading library name"),
    (b"\xf6" + string(b"lib"), "Failed loading engine name"),
    (b"\xf6" + string(b"lib") + string(b"lua") + b"\x01", "Failed loading library description"),
    (b"\xf6" + string(b"lib") + string(b"lua") + b"\x00", "Failed loading library blob"),
    # The flag read from the footer (the version byte, 10): description "", then no blob.
    (b"\xf6" + string(b"lib") + string(b"lua"), "Failed loading library blob"),
    (b"\xf6" + string(b"lib") + string(b"lua") + b"\x81" + b"\xff" * 8,
     "Failed loading library description indicator"),
])
def test_old_format_errors(body: bytes, text: str) -> None:
    assert reply_error(footer(body)) == "ERR " + text


def test_codes_come_one_at_a_time() -> None:
    # Redis compiles each library as it reads it: a caller that compiles each code
    # before asking for the next reports a bad first library before a bad record.
    codes = iter_functions_payload(footer(b"\xf5" + string(LIB) + b"\x07"))
    assert next(codes) == LIB
    with pytest.raises(ReplyError, match="given type is not a function"):
        next(codes)
    # The checksum is checked before anything is read.
    with pytest.raises(ReplyError, match="checksum"):
        next(iter_functions_payload(b"\xf5" + string(LIB) + b"\x0a\x00" + b"\x00" * 8))


# -- against a real redis-server ------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ServerProcess]:
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def ref(redis_server: ServerProcess) -> Iterator[RawClient]:
    client = RawClient(redis_server.port)
    client.call("FUNCTION", "FLUSH")
    client.call("CONFIG", "SET", "rdbcompression", "yes")
    yield client
    client.close()


def _bulk(reply: bytes) -> bytes:
    head, _, rest = reply.partition(b"\r\n")
    assert head[:1] == b"$", reply
    return rest[:int(head[1:])]


def _library_codes(client: RawClient) -> set[bytes]:
    """The codes FUNCTION LIST WITHCODE shows (RESP2: each library a flat array)."""
    reply = client.call("FUNCTION", "LIST", "WITHCODE")
    codes = set()
    marker = b"$12\r\nlibrary_code\r\n"
    start = reply.find(marker)
    while start >= 0:
        codes.add(_bulk(reply[start + len(marker):]))
        start = reply.find(marker, start + 1)
    return codes


@needs_redis
def test_redis_payload_reencodes_byte_for_byte(ref: RawClient) -> None:
    assert ref.call("FUNCTION", "LOAD", LIB) == b"$3\r\nlib\r\n"
    payload = _bulk(ref.call("FUNCTION", "DUMP"))
    assert parse_functions_payload(payload) == [LIB]
    assert dump_functions([LIB]) == payload
    ref.call("FUNCTION", "LOAD", LIB2)
    payload = _bulk(ref.call("FUNCTION", "DUMP"))
    codes = parse_functions_payload(payload)  # in Redis's (hash) order
    assert sorted(codes) == [LIB, LIB2]
    assert dump_functions(codes) == payload
    # Uncompressed long code (rdbcompression no): identical too. (Compressed ones
    # decode, but Taipan's LZF doesn't mimic the choices of Redis's compressor.)
    ref.call("FUNCTION", "FLUSH")
    ref.call("FUNCTION", "LOAD", LONG)
    assert parse_functions_payload(_bulk(ref.call("FUNCTION", "DUMP"))) == [LONG]
    ref.call("CONFIG", "SET", "rdbcompression", "no")
    payload = _bulk(ref.call("FUNCTION", "DUMP"))
    assert dump_functions([LONG], compress=False) == payload
    ref.call("FUNCTION", "FLUSH")
    assert dump_functions([]) == _bulk(ref.call("FUNCTION", "DUMP"))


@needs_redis
@pytest.mark.parametrize("compress", [True, False])
def test_redis_restores_our_payload(ref: RawClient, compress: bool) -> None:
    payload = dump_functions([LIB, LIB2, LONG], compress=compress)
    assert ref.call("FUNCTION", "RESTORE", payload) == b"+OK\r\n"
    assert _library_codes(ref) == {LIB, LIB2, LONG}
    assert ref.call("FCALL", "h", "0") == b":3\r\n"


# Payloads whose outcome comes from reading them, not from compiling their code (so
# the parse result decides Redis's reply): errors must read the same, successes must
# yield the libraries Redis creates.
_CASES = {
    "empty": b"",
    "short": b"\x0a\x00\x00",
    "zeros": b"\x00" * 10,
    "footer only": footer(b""),
    "bad crc": b"\xf5" + string(LIB) + b"\x0a\x00" + b"\x00" * 8,
    "version 11": footer(b"\xf5" + string(LIB), version=11),
    "version 9": footer(b"\xf5" + string(LIB), version=9),
    "type 0": footer(b"\x00" + string(LIB)),
    "type 244": footer(b"\xf4" + string(LIB)),
    "trailing type": footer(b"\xf5" + string(LIB) + b"\x07"),
    "truncated": footer(b"\xf5" + length(len(LIB)) + LIB[:10]),
    "opcode only": footer(b"\xf5"),
    "trailing opcode": footer(b"\xf5" + string(LIB) + b"\xf5"),
    "bad lzf": footer(b"\xf5\xc3\x05\x20" + b"\xff" * 5),
    "into footer": footer(b"\xf5" + length(len(LIB) + 1) + LIB),
    "past footer": footer(b"\xf5" + length(len(LIB) + 11) + LIB),
    "two": footer(b"\xf5" + string(LIB) + b"\xf5" + string(LIB2)),
    "compressed": dump_functions([LONG]),
    "old": footer(old_record(b"lib", b"lua", BLOB)),
    "old described": footer(old_record(b"lib", b"lua", BLOB, b"desc")),
    "old nul": footer(old_record(b"lib\x00zz", b"lua", BLOB + b"\x00 x(")),
    "old encoded flag": footer(b"\xf6" + string(b"lib") + string(b"lua") + b"\xc0"
                               + string(BLOB)),
    "old no name": footer(b"\xf6"),
    "old no engine": footer(b"\xf6" + string(b"lib")),
    "old no flag": footer(b"\xf6" + string(b"lib") + string(b"lua")),
    "old no description": footer(b"\xf6" + string(b"lib") + string(b"lua") + b"\x01"),
    "old no blob": footer(b"\xf6" + string(b"lib") + string(b"lua") + b"\x00"),
    "old flag too long": footer(b"\xf6" + string(b"lib") + string(b"lua") + b"\x81"
                                + b"\xff" * 8),
}


@needs_redis
@pytest.mark.parametrize("case", list(_CASES))
def test_restore_outcome_matches_redis(ref: RawClient, case: str) -> None:
    payload = _CASES[case]
    expected = ref.call("FUNCTION", "RESTORE", payload)
    try:
        codes = parse_functions_payload(payload)
    except ReplyError as exc:
        assert f"-{exc}\r\n".encode() == expected
        return
    assert expected == b"+OK\r\n"
    assert _library_codes(ref) == set(codes)
