"""Reply encoding, RESP2 and RESP3. Double and error texts were checked against a
real Redis 7.0 (ZSCORE of skiplist-encoded scores; unknown command errors)."""

from __future__ import annotations

import enum
from collections import OrderedDict

import pytest

from taipan.errors import (
    NotFloat,
    NotInteger,
    ProtocolError,
    ReplyError,
    SyntaxErr,
    WrongType,
    c_string,
    err,
    unknown_command,
    unknown_subcommand,
    wrong_arity,
)
from taipan.protocol.reply import (
    NULL_ARRAY,
    OK,
    PONG,
    QUEUED,
    Push,
    Status,
    Verbatim,
    encode,
    encode_into,
    format_double,
)

# (value, RESP2, RESP3)
CASES = [
    (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (b"a\r\nb\x00", b"$5\r\na\r\nb\x00\r\n", b"$5\r\na\r\nb\x00\r\n"),
    (bytearray(b"xy"), b"$2\r\nxy\r\n", b"$2\r\nxy\r\n"),
    (0, b":0\r\n", b":0\r\n"),
    (1, b":1\r\n", b":1\r\n"),
    # The pre-encoded small integers are -1..1024; both sides of each bound.
    (-1, b":-1\r\n", b":-1\r\n"),
    (-2, b":-2\r\n", b":-2\r\n"),
    (1024, b":1024\r\n", b":1024\r\n"),
    (1025, b":1025\r\n", b":1025\r\n"),
    (2**63 - 1, b":9223372036854775807\r\n", b":9223372036854775807\r\n"),
    (-(2**63), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (Status("OK"), b"+OK\r\n", b"+OK\r\n"),
    (QUEUED, b"+QUEUED\r\n", b"+QUEUED\r\n"),
    (PONG, b"+PONG\r\n", b"+PONG\r\n"),
    (Status(""), b"+\r\n", b"+\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (False, b":0\r\n", b"#f\r\n"),
    # Doubles: %.17g as Redis 7.0's addReplyDouble.
    (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (0.1, b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
    (3.0, b"$1\r\n3\r\n", b",3\r\n"),
    (-0.0, b"$2\r\n-0\r\n", b",-0\r\n"),
    (1e16, b"$17\r\n10000000000000000\r\n", b",10000000000000000\r\n"),
    (1e17, b"$5\r\n1e+17\r\n", b",1e+17\r\n"),
    (123456789012345678.0, b"$22\r\n1.2345678901234568e+17\r\n", b",1.2345678901234568e+17\r\n"),
    (4e-320, b"$22\r\n3.999955468730732e-320\r\n", b",3.999955468730732e-320\r\n"),
    (5e-324, b"$23\r\n4.9406564584124654e-324\r\n", b",4.9406564584124654e-324\r\n"),
    (float("inf"), b"$3\r\ninf\r\n", b",inf\r\n"),
    (float("-inf"), b"$4\r\n-inf\r\n", b",-inf\r\n"),
    (float("nan"), b"$3\r\nnan\r\n", b",nan\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ((b"a",), b"*1\r\n$1\r\na\r\n", b"*1\r\n$1\r\na\r\n"),
    ([[b"a", [2.5]], [], NULL_ARRAY, Status("x"), True],
     b"*5\r\n*2\r\n$1\r\na\r\n*1\r\n$3\r\n2.5\r\n*0\r\n*-1\r\n+x\r\n:1\r\n",
     b"*5\r\n*2\r\n$1\r\na\r\n*1\r\n,2.5\r\n*0\r\n_\r\n+x\r\n#t\r\n"),
    ({b"a": 1, b"b": [None]}, b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n$-1\r\n",
     b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n_\r\n"),
    ({}, b"*0\r\n", b"%0\r\n"),
    ({b"x"}, b"*1\r\n$1\r\nx\r\n", b"~1\r\n$1\r\nx\r\n"),
    (frozenset(), b"*0\r\n", b"~0\r\n"),
    (Verbatim(b"hello"), b"$5\r\nhello\r\n", b"=9\r\ntxt:hello\r\n"),
    (Verbatim(b""), b"$0\r\n\r\n", b"=4\r\ntxt:\r\n"),
    (Push([b"message", b"ch", b"hi"]), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
     b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    ([{b"k": Verbatim(b"v")}], b"*1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n",
     b"*1\r\n%1\r\n$1\r\nk\r\n=5\r\ntxt:v\r\n"),
    # Errors: the message already holds its code.
    (ReplyError("ERR boom"), b"-ERR boom\r\n", b"-ERR boom\r\n"),
    (err("no"), b"-ERR no\r\n", b"-ERR no\r\n"),
    (WrongType(), b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
     b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (SyntaxErr(), b"-ERR syntax error\r\n", b"-ERR syntax error\r\n"),
    (NotInteger(), b"-ERR value is not an integer or out of range\r\n",
     b"-ERR value is not an integer or out of range\r\n"),
    (NotFloat(), b"-ERR value is not a valid float\r\n", b"-ERR value is not a valid float\r\n"),
    (ProtocolError("invalid bulk length"), b"-ERR Protocol error: invalid bulk length\r\n",
     b"-ERR Protocol error: invalid bulk length\r\n"),
    (wrong_arity("get"), b"-ERR wrong number of arguments for 'get' command\r\n",
     b"-ERR wrong number of arguments for 'get' command\r\n"),
    # CR/LF can't end an error early; raw bytes go back raw; real text is UTF-8.
    (ReplyError("ERR a\r\nb\nc"), b"-ERR a  b c\r\n", b"-ERR a  b c\r\n"),
    (ReplyError("ERR got '\udcff'"), b"-ERR got '\xff'\r\n", b"-ERR got '\xff'\r\n"),
    (ReplyError("ERR caf\u00e9"), b"-ERR caf\xc3\xa9\r\n", b"-ERR caf\xc3\xa9\r\n"),
    (ReplyError("ERR \ud800"), b"-ERR ?\r\n", b"-ERR ?\r\n"),
    ([b"ok", WrongType()], b"*2\r\n$2\r\nok\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
     b"*2\r\n$2\r\nok\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
]


@pytest.mark.parametrize("value, resp2, resp3", CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_encode(value, resp2: bytes, resp3: bytes) -> None:
    assert encode(value) == resp2
    assert encode(value, 2) == resp2
    assert encode(value, 3) == resp3


def test_encode_into_appends() -> None:
    out: list[bytes] = [b"x"]
    encode_into(OK, out)
    encode_into([1, b"a"], out, 3)
    assert b"".join(out) == b"x+OK\r\n*2\r\n:1\r\n$1\r\na\r\n"


class _Color(enum.IntEnum):
    RED = 7


class _MyVerbatim(Verbatim):
    pass


class _MyPush(Push):
    pass


class _MyError(WrongType):
    pass


class _MyList(list):
    pass


@pytest.mark.parametrize("value, resp3", [
    (_Color.RED, b":7\r\n"),
    (_MyVerbatim(b"ab"), b"=6\r\ntxt:ab\r\n"),  # the nearest registered ancestor wins
    (_MyPush([1]), b">1\r\n:1\r\n"),
    (_MyError(), b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (_MyList([1]), b"*1\r\n:1\r\n"),
    (OrderedDict([(b"a", 1)]), b"%1\r\n$1\r\na\r\n:1\r\n"),
])
def test_subclasses_encode_as_their_nearest_kind(value, resp3: bytes) -> None:
    assert encode(value, 3) == resp3


@pytest.mark.parametrize("value", ["text", object(), 1j])
def test_unknown_types_are_refused(value) -> None:
    with pytest.raises(TypeError, match="cannot encode"):
        encode(value)


@pytest.mark.parametrize("value, text", [
    (0.0, b"0"), (-0.0, b"-0"), (2.5, b"2.5"), (1 / 3, b"0.33333333333333331"),
    (1e-5, b"1.0000000000000001e-05"), (-1e300, b"-1.0000000000000001e+300"),
    (2.0**53, b"9007199254740992"), (float("inf"), b"inf"), (float("-inf"), b"-inf"),
])
def test_format_double(value: float, text: bytes) -> None:
    assert format_double(value) == text


# -- error texts that echo client bytes (checked against Redis 7.0) ------------------

def test_unknown_command_cuts_bytes_like_c() -> None:
    error = unknown_command([b"x" * 200, b"y" * 100, b"z" * 100])
    assert encode(error) == (
        b"-ERR unknown command '" + b"x" * 128 + b"', with args beginning with: '"
        + b"y" * 100 + b"' '" + b"z" * 25 + b"' \r\n")


def test_unknown_command_stops_at_nul_and_keeps_raw_bytes() -> None:
    assert encode(unknown_command([b"foo", b"a\x00b", b"c"])) == (
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'c' \r\n")
    assert encode(unknown_command([b"\x00\x01"])) == (
        b"-ERR unknown command '', with args beginning with: \r\n")
    # 128 bytes, even in the middle of a UTF-8 sequence.
    assert encode(unknown_command([b"f\xc3\xa9" * 100])) == (
        b"-ERR unknown command '" + (b"f\xc3\xa9" * 100)[:128]
        + b"', with args beginning with: \r\n")
    assert encode(unknown_command([b"\xff\xfe", b"x"])) == (
        b"-ERR unknown command '\xff\xfe', with args beginning with: 'x' \r\n")


def test_unknown_subcommand() -> None:
    assert encode(unknown_subcommand("config", b"fo\x00o")) == (
        b"-ERR unknown subcommand 'fo'. Try CONFIG HELP.\r\n")
    assert encode(unknown_subcommand("config", b"a\r\nb")) == (
        b"-ERR unknown subcommand 'a  b'. Try CONFIG HELP.\r\n")


def test_c_string() -> None:
    assert c_string(b"ab\x00cd") == "ab"
    assert c_string(b"abcdef", 3) == "abc"
    assert c_string(b"\xff").encode("utf-8", "surrogateescape") == b"\xff"
