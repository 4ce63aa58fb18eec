"""LCS: the longest common subsequence of two strings.

Redis fills an (n+1)x(m+1) table of uint32 lengths, then walks it back from the
corner. We keep the same walk (so ties resolve the same way and the same LCS string
and match ranges come out) but hold each table row as one m-bit integer, computed
with the bit-parallel recurrence of Allison & Dix / Hyyrö: a row costs a few big-int
operations instead of m Python steps, and the table takes 32x less memory.

In row ``i`` (after ``a[:i]``), bit ``j`` of the integer is 0 exactly when
``LCS(i, j+1) = LCS(i, j) + 1``, so ``LCS(i, j)`` is ``j`` minus the set bits below ``j``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.commands.args import to_int
from taipan.commands.bitmaps import c_string
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr
from taipan.keyspace.database import STRING_TYPES

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("string")

_NOT_STRINGS = ReplyError("ERR The specified keys must contain string values")
_LEN_AND_IDX = ReplyError("ERR If you want both the length and indexes, please just use IDX.")
_TOO_LONG = ReplyError("ERR String too long for LCS")
_TABLE_TOO_BIG = ReplyError(
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)
_UINT32_MAX = (1 << 32) - 1


def _match_masks(a: bytes, b: bytes) -> dict[int, int]:
    """For each byte of ``a`` also in ``b``: an int whose bit j is set where b[j] is it."""
    masks: dict[int, int] = {}
    b_reversed = b[::-1]  # int(text, 2) reads the most significant digit first
    for byte in set(a) & set(b):
        table = bytearray(b"0" * 256)
        table[byte] = 0x31  # '1'
        masks[byte] = int(b_reversed.translate(table), 2)
    return masks


def _table_rows(a: bytes, b: bytes, keep: bool) -> tuple[list[int], int]:
    """The bit-parallel rows (all of them if ``keep``) and the final row."""
    full = (1 << len(b)) - 1
    masks = _match_masks(a, b)
    row = full
    rows = [row] if keep else []
    for byte in a:
        matches = row & masks.get(byte, 0)
        row = ((row + matches) | (row - matches)) & full
        if keep:
            rows.append(row)
    return rows, row


def _lcs_length(row: int, j: int) -> int:
    return j - (row & ((1 << j) - 1)).bit_count()


def _walk(a: bytes, b: bytes, rows: list[int], min_len: int,
          want_ranges: bool, with_len: bool) -> tuple[bytes, list]:
    """Walk the table back from the corner as Redis does: the LCS and the match ranges."""
    i, j = len(a), len(b)
    length = _lcs_length(rows[i], j)
    out = bytearray(length)
    ranges: list = []
    unset = len(a)  # a_start == len(a) means "no range open", as in Redis
    a_start, a_end, b_start, b_end = unset, 0, 0, 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out[length - 1] = a[i - 1]
            if a_start == unset:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1  # the match extends the open range backwards
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            length -= 1
            i -= 1
            j -= 1
        else:
            if _lcs_length(rows[i - 1], j) > _lcs_length(rows[i], j - 1):
                i -= 1
            else:
                j -= 1
            emit = a_start != unset
        if emit:
            match_len = a_end - a_start + 1
            if want_ranges and (min_len == 0 or match_len >= min_len):
                entry = [[a_start, a_end], [b_start, b_end]]
                if with_len:
                    entry.append(match_len)
                ranges.append(entry)
            a_start = unset
    return bytes(out), ranges


@commands.command("LCS", arity=-3, flags="readonly", keys=(1, 2, 1),
                  summary="Find longest common substring", since="7.0.0",
                  complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively")
def lcs(ctx: Client, argv: list[bytes]) -> Any:
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]"""
    db = ctx.db
    a, b = db.get_read(argv[1]), db.get_read(argv[2])
    if (a is not None and not isinstance(a, STRING_TYPES)) or (
        b is not None and not isinstance(b, STRING_TYPES)
    ):
        raise _NOT_STRINGS
    a = b"" if a is None else bytes(a)
    b = b"" if b is None else bytes(b)
    want_len = want_idx = with_len = False
    min_len = 0
    i = 3
    while i < len(argv):
        option = c_string(argv[i]).upper()
        if option == b"IDX":
            want_idx = True
        elif option == b"LEN":
            want_len = True
        elif option == b"WITHMATCHLEN":
            with_len = True
        elif option == b"MINMATCHLEN" and i + 1 < len(argv):
            min_len = max(to_int(argv[i + 1]), 0)
            i += 1
        else:
            raise SyntaxErr()
        i += 1
    if want_idx and want_len:
        raise _LEN_AND_IDX
    if len(a) >= _UINT32_MAX - 1 or len(b) >= _UINT32_MAX - 1:
        raise _TOO_LONG
    # Refuse what Redis refuses, though our table is far smaller than its uint32 one.
    if (len(a) + 1) * (len(b) + 1) * 4 > ctx.server.config.proto_max_bulk_len:
        raise _TABLE_TOO_BIG
    rows, last_row = _table_rows(a, b, keep=want_idx or not want_len)
    if want_len:
        return _lcs_length(last_row, len(b))
    common, ranges = _walk(a, b, rows, min_len, want_idx, with_len)
    if want_idx:
        return {b"matches": ranges, b"len": len(common)}
    return common
