"""Stream IDs as stream commands take them: ``ms-seq``, ``ms``, ``-``, ``+``, ``(id``.

Redis parses each half with string2ull: a strict integer first, else C's strtoull,
which also takes leading blanks and a sign (a '-' wraps around modulo 2**64). The
halves are split at the first '-'.
"""

from __future__ import annotations

from taipan.errors import ReplyError
from taipan.types.stream import MAX_ID, MIN_ID, UINT64_MAX, StreamID

INVALID_ID = ReplyError("ERR Invalid stream ID specified as stream command argument")
_BLANKS = b" \t\n\v\f\r"


def _strict_ll(text: bytes) -> int | None:
    """Redis's string2ll: an optional '-', no leading zeros, within 64 signed bits."""
    digits = text[1:] if text[:1] == b"-" else text
    if not digits.isdigit() or (digits[:1] == b"0" and (len(digits) > 1 or text != b"0")):
        return None
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 63) else None


def _ull(text: bytes) -> int | None:
    """Redis's string2ull: the unsigned 64-bit value of ``text``, or None."""
    strict = _strict_ll(text)
    if strict is not None:
        return strict if strict >= 0 else None
    body = text.lstrip(_BLANKS)  # strtoull: blanks, a sign, then decimal digits
    negative = body[:1] == b"-"
    if body[:1] in (b"+", b"-"):
        body = body[1:]
    if not body.isdigit():
        return None
    value = int(body)
    if value > UINT64_MAX:
        return None  # ERANGE
    return (-value) & UINT64_MAX if negative else value


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False,
             star_seq: bool = False) -> tuple[StreamID, bool]:
    """An ID and whether its sequence was given.

    ``missing_seq`` completes a bare ``ms``; ``strict`` refuses ``-`` and ``+``;
    ``star_seq`` accepts XADD's ``ms-*`` (sequence not given: False).
    """
    if len(arg) > 127:
        raise INVALID_ID
    arg = arg.split(b"\x00", 1)[0]  # Redis reads the argument as a C string
    if arg == b"-" or arg == b"+":
        if strict:
            raise INVALID_ID
        return (MIN_ID if arg == b"-" else MAX_ID), True
    ms_text, dash, seq_text = arg.partition(b"-")
    ms = _ull(ms_text)
    if ms is None:
        raise INVALID_ID
    if not dash:
        return (ms, missing_seq), True
    if star_seq and seq_text == b"*":
        return (ms, 0), False
    seq = _ull(seq_text)
    if seq is None:
        raise INVALID_ID
    return (ms, seq), True


def parse_plain_id(arg: bytes, missing_seq: int = 0) -> StreamID:
    """An ID, ``-`` and ``+`` included (XRANGE bounds, XACK, XCLAIM...)."""
    return parse_id(arg, missing_seq)[0]


def parse_id_strict(arg: bytes, missing_seq: int = 0) -> StreamID:
    """An ID that may not be ``-`` or ``+``."""
    return parse_id(arg, missing_seq, strict=True)[0]


def parse_interval_bound(arg: bytes, missing_seq: int) -> tuple[StreamID, bool]:
    """An XRANGE/XPENDING bound: the ID and whether it is exclusive (``(id``)."""
    if len(arg) > 1 and arg[:1] == b"(":
        return parse_id_strict(arg[1:], missing_seq), True
    return parse_plain_id(arg, missing_seq), False


def format_id(stream_id: StreamID) -> bytes:
    return b"%d-%d" % stream_id


def next_id(stream_id: StreamID) -> StreamID | None:
    """The ID right after ``stream_id``; None past the last possible one."""
    ms, seq = stream_id
    if seq < UINT64_MAX:
        return ms, seq + 1
    if ms < UINT64_MAX:
        return ms + 1, 0
    return None


def previous_id(stream_id: StreamID) -> StreamID | None:
    """The ID right before ``stream_id``; None before 0-0."""
    ms, seq = stream_id
    if seq > 0:
        return ms, seq - 1
    if ms > 0:
        return ms - 1, UINT64_MAX
    return None
