"""Both request readers against one table of cases, fed whole, byte by byte and in
random chunks. Expected results were checked against a real Redis 7.0 over a raw
socket (replies before the error, the error text, and silence where Redis waits),
except where a comment says otherwise.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taipan.errors import ProtocolError
from taipan.protocol import make_reader
from taipan.protocol.hiredis_reader import HiredisRequestReader
from taipan.protocol.reader import PyRequestReader, RequestReader, split_inline

READERS = [PyRequestReader, HiredisRequestReader]
MB = 1024 * 1024
K64 = 64 * 1024


def resp(*args: bytes | str) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


PING = resp("PING")


@dataclass
class Case:
    id: str
    data: bytes
    requests: list[list[bytes]]
    error: str | None = None
    max_bulk_len: int = 512 * MB
    # Redis waits for more input (no error yet): its query buffer length (CLIENT
    # LIST qbuf), which leaves out arguments already read.
    pending: int | None = None
    splits: tuple[str, ...] = ("whole", "bytes", "random")
    extra: dict = field(default_factory=dict)


def err(text: str) -> str:
    return "ERR Protocol error: " + text


_PIPELINE = [[b"SET", b"key:%d" % i, b"v" * (i % 13)] for i in range(100)] + [
    [b"MSET"] + [b"k%d" % j for j in range(11)],  # two-digit argument count
    [b"ECHO", b"x" * 9], [b"ECHO", b"x" * 10], [b"ECHO", b"x" * 99],
    [b"ECHO", b"x" * 100], [b"ECHO", b"x" * 1023], [b"ECHO", b"x" * 1024],
    [b"ECHO", b"x" * 10000],
]
_BINARY = b"a\r\n*1\r\n$4\r\nPING\r\n\x00\xff+OK\r\n:1\r\n~|=(" + bytes(range(256))
_BIG = bytes(random.Random(7).getrandbits(8) for _ in range(1024)) * 1024  # 1 MB

CASES = [
    # -- multibulk ---------------------------------------------------------------
    Case("ping", PING, [[b"PING"]]),
    Case("set", resp("SET", "key:123", "xxx"), [[b"SET", b"key:123", b"xxx"]]),
    Case("pipeline", b"".join(resp(*r) for r in _PIPELINE), _PIPELINE),
    Case("empty-bulk", resp("ECHO", b""), [[b"ECHO", b""]]),
    Case("binary-bulk", resp("ECHO", _BINARY) + PING, [[b"ECHO", _BINARY], [b"PING"]]),
    # Payloads full of the bytes hiredis could read as other reply types.
    Case("reply-like-payloads", b"".join(resp("SET", "k+(", b"=~|" * n) for n in range(30)),
         [[b"SET", b"k+(", b"=~|" * n] for n in range(30)]),
    Case("large-bulk", resp("SET", "big", _BIG) + PING, [[b"SET", b"big", _BIG], [b"PING"]],
         splits=("whole", "random")),
    Case("many-args", resp(*[b"a%d" % i for i in range(5000)]),
         [[b"a%d" % i for i in range(5000)]]),
    # Redis skips the two bytes after a payload unchecked...
    Case("bulk-trailer-unchecked", b"*1\r\n$4\r\nPINGXY" + PING, [[b"PING"], [b"PING"]]),
    # ...and the byte after a header's '\r'.
    Case("header-cr-only", b"*1\rX$4\rXPINGXY", [[b"PING"]]),
    Case("star-zero-skipped", b"*0\r\n*-1\r\n*-5\r\n" + PING, [[b"PING"]]),
    Case("star-zero-only", b"*0\r\n*-1\r\n", [], pending=0),
    Case("partial", b"*2\r\n$3\r\nGET\r\n$1\r\n", [], pending=0),
    Case("partial-payload", b"*1\r\n$10\r\nabc", [], pending=3),
    Case("huge-count-waits", b"*2147483647\r\n$1\r\na\r\n", [], pending=0),
    Case("max-bulk-len-ok", resp("ECHO", b"x" * 10), [[b"ECHO", b"x" * 10]], max_bulk_len=10),
    # -- inline --------------------------------------------------------------------
    Case("inline", b"PING\r\n", [[b"PING"]]),
    Case("inline-lf", b"ECHO a\nECHO b\n", [[b"ECHO", b"a"], [b"ECHO", b"b"]]),
    Case("inline-spaces", b"  SET\t k   v  \r\n", [[b"SET", b"k", b"v"]]),
    Case("inline-empty-lines", b"\r\n\n  \n\t\r\nPING\n", [[b"PING"]]),
    Case("inline-double-quotes", b'SET "a b" "\\x41\\n\\r\\t\\b\\a\\"\\\\z"\r\n',
         [[b"SET", b"a b", b"A\n\r\t\b\a\"\\z"]]),
    Case("inline-bad-hex", b'ECHO "\\xZZ" "\\x4"\r\n', [[b"ECHO", b"xZZ", b"x4"]]),
    Case("inline-single-quotes", b"ECHO 'it\\'s' 'a\\nb' ''\r\n",
         [[b"ECHO", b"it's", b"a\\nb", b""]]),
    Case("inline-quote-mid-arg", b'ECHO a"b c"\r\n', [[b"ECHO", b"ab c"]]),
    Case("inline-close-quote-then-space", b'ECHO "a"\x0bb "c"\t"d"\r\n',
         [[b"ECHO", b"a", b"b", b"c", b"d"]]),
    # Inside an argument only space, \t, \r, \n end it (\v and \f do not).
    Case("inline-vt-ff", b"ECHO a\x0bb\x0cc \x0b\x0cd\r\n", [[b"ECHO", b"a\x0bb\x0cc", b"d"]]),
    Case("inline-cr-inside", b"EC\rHO\n", [[b"EC", b"HO"]]),
    Case("inline-binary", b"\xff\xfe x\r\n", [[b"\xff\xfe", b"x"]]),
    Case("inline-reply-types", b">1\r\n~1\r\n|1\r\n$4\r\n+OK\r\n:1\r\n(1\r\n=5\r\n",
         [[b">1"], [b"~1"], [b"|1"], [b"$4"], [b"+OK"], [b":1"], [b"(1"], [b"=5"]]),
    Case("inline-partial", b"ECHO a", [], pending=6),
    Case("inline-longest", b"x" * K64 + b"\n", [[b"x" * K64]]),
    Case("inline-waits-at-limit", b"x" * K64, [], pending=K64),
    # A NUL hides the line end from Redis (strchr): it waits for more.
    Case("inline-nul-stalls", b"ECHO a\x00b\r\nPING\r\n", [], pending=16),
    # -- mixed -----------------------------------------------------------------------
    Case("inline-then-multibulk", b"PING\r\n" + resp("ECHO", "a") + b"ECHO b\r\n" + PING,
         [[b"PING"], [b"ECHO", b"a"], [b"ECHO", b"b"], [b"PING"]]),
    Case("multibulk-then-inline", PING + b"ECHO a\n" + PING + b"$3\r\n",
         [[b"PING"], [b"ECHO", b"a"], [b"PING"], [b"$3"]]),
    Case("multibulk-then-inline-partial", PING + b":12", [[b"PING"]], pending=3),
    # hiredis can't even build this one (a list as a map key).
    Case("multibulk-then-map", PING + b"%1\r\n*1\r\n$1\r\na\r\n$1\r\nb\r\n",
         [[b"PING"], [b"%1"], [b"a"], [b"$1"], [b"b"]]),
    # -- protocol errors -------------------------------------------------------------
    Case("mbulk-not-number", b"*abc\r\n", [], err("invalid multibulk length")),
    Case("mbulk-empty", b"*\r\n", [], err("invalid multibulk length")),
    Case("mbulk-minus", b"*-\r\n", [], err("invalid multibulk length")),
    Case("mbulk-minus-zero", b"*-0\r\n", [], err("invalid multibulk length")),
    Case("mbulk-leading-zero", b"*01\r\n", [], err("invalid multibulk length")),
    Case("mbulk-plus", b"*+1\r\n", [], err("invalid multibulk length")),
    Case("mbulk-space", b"* 1\r\n", [], err("invalid multibulk length")),
    Case("mbulk-above-int-max", b"*2147483648\r\n", [], err("invalid multibulk length")),
    Case("mbulk-3e9", b"*3000000000\r\n", [], err("invalid multibulk length")),
    Case("mbulk-below-llong-min", b"*-9999999999999999999\r\n", [],
         err("invalid multibulk length")),
    Case("bulk-minus-one", b"*1\r\n$-1\r\n", [], err("invalid bulk length")),
    Case("bulk-leading-zero", b"*1\r\n$04\r\nPING\r\n", [], err("invalid bulk length")),
    Case("bulk-plus", b"*1\r\n$+4\r\nPING\r\n", [], err("invalid bulk length")),
    Case("bulk-empty", b"*1\r\n$\r\n", [], err("invalid bulk length")),
    Case("bulk-not-number", b"*1\r\n$4x\r\nPING\r\n", [], err("invalid bulk length")),
    Case("bulk-above-default-max", b"*1\r\n$536870913\r\n", [], err("invalid bulk length")),
    Case("bulk-default-max-waits", b"*1\r\n$536870912\r\n", [], pending=0),
    Case("bulk-above-max", resp("ECHO", b"x" * 11), [], err("invalid bulk length"),
         max_bulk_len=10),
    Case("expected-dollar-int", b"*1\r\n:1\r\n", [], err("expected '$', got ':'")),
    Case("expected-dollar-status", b"*2\r\n$1\r\na\r\n+OK\r\n", [], err("expected '$', got '+'")),
    Case("expected-dollar-bignum", b"*1\r\n(12\r\n", [], err("expected '$', got '('")),
    Case("expected-dollar-verbatim", b"*1\r\n=7\r\ntxt:abc\r\n", [], err("expected '$', got '='")),
    Case("expected-dollar-set", b"*1\r\n~1\r\n$1\r\na\r\n", [], err("expected '$', got '~'")),
    Case("expected-dollar-nested", b"*1\r\n*1\r\n$1\r\na\r\n", [], err("expected '$', got '*'")),
    Case("expected-dollar-partial", b"*3\r\n$1\r\na\r\n+OK\r\n", [], err("expected '$', got '+'")),
    # Redis maps CR/LF in the error to spaces; other bytes are sent raw.
    Case("expected-dollar-cr", b"*1\r\n\r\n", [], err("expected '$', got ' '")),
    Case("expected-dollar-lf", b"*1\r\n\n\r\n", [], err("expected '$', got ' '")),
    Case("expected-dollar-high-byte", b"*1\r\n\xff\r\n", [],
         err("expected '$', got '\udcff'")),
    # Redis only looks at the first byte once the header line is complete.
    Case("expected-dollar-waits-for-line", b"*1\r\n:1", [], pending=2),
    Case("expected-dollar-nul-stalls", b"*1\r\n\x00\r\n", [], pending=3),
    Case("unbalanced-double", b'ECHO "a\r\n', [], err("unbalanced quotes in request")),
    Case("unbalanced-single", b"ECHO 'a\r\n", [], err("unbalanced quotes in request")),
    Case("unbalanced-escaped-close", b'ECHO "a\\"\r\n', [], err("unbalanced quotes in request")),
    Case("unbalanced-text-after-quote", b'ECHO "a"b\r\n', [], err("unbalanced quotes in request")),
    Case("unbalanced-text-after-single", b"ECHO 'a'b\r\n", [], err("unbalanced quotes in request")),
    Case("unbalanced-quote-in-arg", b'ECHO a"b c"d\r\n', [], err("unbalanced quotes in request")),
    Case("too-big-inline", b"x" * (K64 + 1), [], err("too big inline request")),
    # A line over 64 KB: Redis reads it if its end is already there (its reads grow
    # to "all there is"), and refuses it once 64 KB are held without its end.
    Case("long-inline-line-whole", b"ECHO " + b"x" * K64 + b"\n", [[b"ECHO", b"x" * K64]],
         splits=("whole",)),
    Case("long-inline-line-bytes", b"ECHO " + b"x" * K64 + b"\n", [],
         err("too big inline request"), splits=("bytes",)),
    Case("long-mbulk-count-whole", b"*" + b"1" * K64 + b"\r\n", [],
         err("invalid multibulk length"), splits=("whole",)),
    Case("long-mbulk-count-bytes", b"*" + b"1" * K64 + b"\r\n", [],
         err("too big mbulk count string"), splits=("bytes",)),
    Case("long-bulk-count-whole", b"*1\r\n$" + b"0" * K64 + b"\r\n", [],
         err("invalid bulk length"), splits=("whole",)),
    Case("long-bulk-count-bytes", b"*1\r\n$" + b"0" * K64 + b"\r\n", [],
         err("too big bulk count string"), splits=("bytes",)),
    Case("too-big-inline-nul", b"PING\x00\r\n" + b"x" * K64, [], err("too big inline request")),
    Case("too-big-mbulk-count", b"*" + b"1" * K64, [], err("too big mbulk count string")),
    Case("mbulk-count-at-limit-waits", b"*" + b"1" * (K64 - 1), [], pending=K64),
    Case("too-big-mbulk-nul", b"*1\x00\r\n" + b"x" * K64, [], err("too big mbulk count string")),
    Case("too-big-bulk-count", b"*1\r\n$" + b"1" * K64, [], err("too big bulk count string")),
    Case("too-big-bulk-nul", b"*1\r\n$1\x00\r\n" + b"x" * K64, [],
         err("too big bulk count string")),
]

# A valid pipeline before each case: its requests come out first, errors or not.
PREFIX = PING + b"ECHO pre\r\n" + resp("SET", "k", "v")
PREFIX_REQUESTS = [[b"PING"], [b"ECHO", b"pre"], [b"SET", b"k", b"v"]]


def chunks_of(data: bytes, split: str, seed: int = 0) -> list[bytes]:
    if split == "whole":
        return [data]
    if split == "bytes":
        return [data[i:i + 1] for i in range(len(data))]
    rng = random.Random(seed)
    top = max(2, len(data) // 8)
    out, i = [], 0
    while i < len(data):
        step = rng.randint(1, rng.choice((3, 17, 300, top)))
        out.append(data[i:i + step])
        i += step
    return out


def run(reader: RequestReader, chunks: list[bytes]) -> tuple[list[list[bytes]], str | None]:
    requests: list[list[bytes]] = []
    try:
        for chunk in chunks:
            reader.feed(chunk)
            while (request := reader.next_request()) is not None:
                requests.append(request)
    except ProtocolError as error:
        return requests, str(error)
    return requests, None


def case_params():
    for case in CASES:
        for split in case.splits:
            for prefixed in (False, True):
                yield pytest.param(case, split, prefixed,
                                   id=f"{case.id}-{split}{'-prefixed' if prefixed else ''}")


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
@pytest.mark.parametrize("case, split, prefixed", list(case_params()))
def test_reader_case(reader_cls, case: Case, split: str, prefixed: bool) -> None:
    data = PREFIX + case.data if prefixed else case.data
    expected = PREFIX_REQUESTS + case.requests if prefixed else case.requests
    seeds = range(3) if split == "random" else range(1)
    for seed in seeds:
        reader = reader_cls(case.max_bulk_len)
        requests, error = run(reader, chunks_of(data, split, seed))
        assert error == case.error
        assert requests == expected
        if case.error is None:
            assert reader.pending() == (case.pending or 0)


def test_error_texts_are_redis_replies() -> None:
    from taipan.protocol.reply import encode

    error = ProtocolError("expected '$', got '\udcff'")
    assert encode(error) == b"-ERR Protocol error: expected '$', got '\xff'\r\n"


# -- limits and buffering -------------------------------------------------------------


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_oversized_bulk_header_raises_before_payload(reader_cls) -> None:
    reader = reader_cls()
    reader.feed(b"*1\r\n$600000000\r\n")
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        reader.next_request()


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_max_bulk_len_checked_on_complete_request(reader_cls) -> None:
    reader = reader_cls(100)
    reader.feed(PING + resp("SET", "k", b"x" * 100) + resp("SET", "k", b"x" * 101))
    assert reader.next_request() == [b"PING"]
    assert reader.next_request() == [b"SET", b"k", b"x" * 100]
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        reader.next_request()


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_max_bulk_len_change_applies(reader_cls) -> None:
    # CONFIG SET proto-max-bulk-len assigns the attribute on live readers.
    reader = reader_cls()
    reader.feed(PING)
    assert reader.next_request() == [b"PING"]
    reader.max_bulk_len = 3
    reader.feed(b"*1\r\n$4\r\n")
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        reader.next_request()


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_pending_is_redis_qbuf(reader_cls) -> None:
    # Redis 7.0 CLIENT LIST reports qbuf=2 (and argv-mem=3) after each step.
    reader = reader_cls()
    assert reader.pending() == 0
    reader.feed(b"*2\r\n$3\r\nGET\r\n$3\r\nke")
    assert reader.next_request() is None
    assert reader.pending() == 2
    reader.feed(b"y\r\n*1\r\n$4\r\nPI")
    assert reader.next_request() == [b"GET", b"key"]
    assert reader.next_request() is None
    assert reader.pending() == 2
    reader.feed(b"NG\r\n*1\r\n:1")
    assert reader.next_request() == [b"PING"]
    assert reader.next_request() is None
    assert reader.pending() == 2
    # Mid-pipeline, the requests not parsed yet count too.
    reader = reader_cls()
    reader.feed(PING * 3)
    assert reader.next_request() == [b"PING"]
    assert reader.pending() == 2 * len(PING)


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
@pytest.mark.parametrize("payload", [b"xxx", b"a=b+c"], ids=["plain", "reply-like"])
def test_pending_stays_bounded_when_chunks_split_requests(reader_cls, payload) -> None:
    # A long pipelined stream (redis-cli --pipe) whose chunks never end on a request
    # boundary: only the request being read may be held.
    request = resp("SET", "key:123", payload)
    stream = request * 3000
    reader = reader_cls()
    count = 0
    for i in range(0, len(stream), 1000):
        reader.feed(stream[i:i + 1000])
        while reader.next_request() is not None:
            count += 1
        assert reader.pending() < len(request)
    assert count == 3000
    assert reader.pending() == 0


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_large_bulk_in_small_chunks_is_linear(reader_cls) -> None:
    # 8 MB in 4 KB chunks: joining the held bytes on every chunk would copy ~8 GB.
    value = b"v" * (8 * MB)
    data = resp("SET", "k", value)
    reader = reader_cls()
    out = []
    for i in range(0, len(data), 4096):
        reader.feed(data[i:i + 4096])
        while (request := reader.next_request()) is not None:
            out.append(request)
    assert out == [[b"SET", b"k", value]]


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_error_after_many_pipelined_requests(reader_cls) -> None:
    reader = reader_cls()
    reader.feed(PING * 1000 + b"*1\r\n$x\r\n" + PING)
    for _ in range(1000):
        assert reader.next_request() == [b"PING"]
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        reader.next_request()


def test_make_reader_prefers_hiredis() -> None:
    assert isinstance(make_reader(100), HiredisRequestReader)
    assert isinstance(make_reader(100, prefer_hiredis=False), PyRequestReader)


def test_split_inline_is_sdssplitargs() -> None:
    # Also used for redis.conf lines.
    assert split_inline(b'save "" \'x y\'') == [b"save", b"", b"x y"]
    assert split_inline(b"a\x00b c") == [b"a"]
    assert split_inline(b"") == []


# -- properties ---------------------------------------------------------------------

_arg = st.one_of(
    st.binary(max_size=20),
    st.binary(min_size=90, max_size=1100),
    st.sampled_from([b"", b"+OK", b"\r\n", b"*1\r\n$1\r\na\r\n", b"=~|(", b"$-1"]),
)
_argv = st.lists(_arg, min_size=1, max_size=12)


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for point in points + [len(data)]:
        out.append(data[last:point])
        last = point
    return [c for c in out if c]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_argv, min_size=1, max_size=20), st.lists(st.integers(0, 10**6), max_size=30))
def test_any_split_of_resp_requests_decodes_identically(requests, cuts) -> None:
    data = b"".join(resp(*argv) for argv in requests)
    for reader_cls in READERS:
        reader = reader_cls()
        decoded, error = run(reader, _cut(data, cuts))
        assert error is None
        assert decoded == requests
        assert reader.pending() == 0


# Fragments of valid and invalid protocol, so random strings hit the edge cases.
_TOKENS = [
    b"*", b"$", b"*1\r\n", b"*2\r\n", b"*0\r\n", b"*-1\r\n", b"$1\r\na\r\n", b"$3\r\nfoo\r\n",
    b"$0\r\n\r\n", b"\r\n", b"\r", b"\n", b"0", b"1", b"12", b"-", b"+", b"+OK\r\n", b":1\r\n",
    b"(1\r\n", b"=5\r\ntxt:a\r\n", b"~1\r\n", b"|1\r\n", b">1\r\n", b"%1\r\n", b"_\r\n",
    b",1.5\r\n", b"#t\r\n", b"-ERR\r\n", b"PING", b" ", b"\t", b'"', b"'", b"\\", b"\\x41",
    b"\x00", b"\xff", b"\x0b", b"x", PING, resp("SET", "k", "v"), b"$5\r\n", b"$-1\r\n",
    b"*2147483647\r\n", b"*1234567\r\n", b"~1234567\r\n", resp("SET", "a=b", "c+d"),
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), max_size=40), st.lists(st.integers(0, 10**6), max_size=12))
def test_both_readers_agree_on_any_input(tokens, cuts) -> None:
    data = b"".join(tokens)
    results = []
    for reader_cls in READERS:
        for chunks in ([data], _cut(data, cuts)):
            reader = reader_cls(16)
            requests, error = run(reader, chunks)
            results.append((requests, error, reader.pending() if error is None else None))
    assert all(result == results[0] for result in results), results


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
@pytest.mark.parametrize("data", [
    b"*2147483647\r\n", PING + b"*2147483647\r\n$1\r\na\r\n", b"*1\r\n*2147483647\r\n",
    PING + b"~2147483647\r\n", b"*1\r\n$1\r\na\r\n>2147483647\r\n",
    # Nesting: each line would cost hiredis 8 MB and 2 ms to free.
    b"*999999\r\n" * 1000, PING + b"*1\r\n$1\r\na\r\n" + b"~999999\r\n" * 1000,
], ids=["star", "star-after-request", "nested-star", "set", "push", "star-chain", "set-chain"])
def test_huge_declared_counts_cost_nothing(reader_cls, data: bytes) -> None:
    # hiredis allocates a declared aggregate's list up front; freeing the one of
    # '*2147483647' takes ~17 s. The reader must never let hiredis see it, whole or
    # split at any point.
    for cut in sorted({*range(min(len(data), 40) + 1), len(data) // 2, len(data)}):
        reader = reader_cls()
        run(reader, [data[:cut], data[cut:]])
        del reader


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_unauthenticated_limits(reader_cls) -> None:
    # Redis 7.0.15 with requirepass, before AUTH.
    reader = reader_cls()
    reader.unauthenticated = True
    reader.feed(resp("AUTH", "x" * 16384) + resp(*["a"] * 10) + b"*11\r\n")
    assert reader.next_request() == [b"AUTH", b"x" * 16384]
    assert reader.next_request() == [b"a"] * 10
    with pytest.raises(ProtocolError, match="^ERR Protocol error: unauthenticated multibulk length$"):
        reader.next_request()
    reader = reader_cls()
    reader.unauthenticated = True
    reader.feed(b"*1\r\n$16385\r\n")
    with pytest.raises(ProtocolError, match="^ERR Protocol error: unauthenticated bulk length$"):
        reader.next_request()
    # Invalid numbers are reported as such first.
    reader = reader_cls()
    reader.unauthenticated = True
    reader.feed(b"*1\r\n$-1\r\n")
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        reader.next_request()


@pytest.mark.parametrize("reader_cls", READERS, ids=["py", "hiredis"])
def test_authenticating_lifts_the_limits(reader_cls) -> None:
    reader = reader_cls()
    reader.unauthenticated = True
    reader.feed(resp("AUTH", "pw"))
    assert reader.next_request() == [b"AUTH", b"pw"]
    reader.unauthenticated = False
    big = resp(*[b"v" * 20000] * 12)
    reader.feed(big * 2)
    assert reader.next_request() == [b"v" * 20000] * 12
    assert reader.next_request() == [b"v" * 20000] * 12
    assert reader.next_request() is None


def test_inline_split_without_quotes_is_a_whitespace_split() -> None:
    """The C-speed path (no quotes, no \\v or \\f) splits exactly as the quote-aware
    loop: on space, tab, CR and LF, with a NUL ending the line."""
    rng = random.Random(3)
    alphabet = b" \t\r\nab\\x0\x00"
    for _ in range(20000):
        line = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        expected = [part for part in re.split(rb"[ \t\r\n]+", line.split(b"\0")[0]) if part]
        assert split_inline(line) == expected, line
    assert split_inline(b"a\x0bb") == [b"a\x0bb"]  # \v inside an argument stays (slow path)
