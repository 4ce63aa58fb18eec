"""Redis-style glob matching (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE, CLIENT KILL ...).

Patterns compile to regular expressions (matching a million keys runs in C), built to
reproduce Redis 7.0's ``stringmatchlen`` exactly, quirks included:

* ``*`` any run of bytes, ``?`` any one byte, ``\\x`` the byte x;
* ``[...]`` one byte from a class: ``^`` negates, ``a-z`` is a range (reversed ones
  too), ``\\x`` is x; ``]`` right after ``[`` or ``[^`` closes an empty class;
  ``a-]`` is the range from ``a`` to ``]`` (the class then runs on); an unclosed class
  ends with the pattern;
* range ends and the byte tested are C's *signed* chars, so ``[a-\\xff]`` is the
  range -1..97 (``\\xff`` and ``\\x00``-``a``, not ``b``);
* ``nocase`` folds ASCII letters only, except for escaped bytes inside a class;
* an empty subject matches only the empty pattern (``**`` doesn't match ``""``);
  callers whose Redis command treats a bare ``*`` as "everything" (KEYS, SCAN)
  get that from ``glob_match``'s ``*`` shortcut.
"""

from __future__ import annotations

import re
from functools import lru_cache


def _signed(byte: int) -> int:
    return byte - 256 if byte >= 128 else byte


def _lower(value: int) -> int:
    # C's tolower in the C locale, on a (signed) char value.
    return value + 32 if 65 <= value <= 90 else value


def _byte_class(members: list[bool]) -> bytes:
    """A regex class for exactly the bytes flagged in ``members``."""
    if not any(members):
        return b"(?!)"
    if all(members):
        return b"."  # with DOTALL
    out = bytearray(b"[")
    byte = 0
    while byte < 256:
        if members[byte]:
            end = byte
            while end + 1 < 256 and members[end + 1]:
                end += 1
            out += b"\\x%02x" % byte
            if end > byte:
                out += b"-\\x%02x" % end
            byte = end + 1
        else:
            byte += 1
    return bytes(out + b"]")


def _parse_class(pattern: bytes, i: int, nocase: bool) -> tuple[bytes, int]:
    """Compile the class whose '[' is at ``i - 1``; return it and the index of its
    last pattern byte (stringmatchlen's loop, step for step)."""
    n = len(pattern)
    negate = i < n and pattern[i] == 0x5E  # '^'
    if negate:
        i += 1
    escaped: list[int] = []
    literals: list[int] = []
    ranges: list[tuple[int, int]] = []
    while True:
        if i < n and pattern[i] == 0x5C and n - i >= 2:  # '\'
            i += 1
            escaped.append(pattern[i])
        elif i < n and pattern[i] == 0x5D:  # ']'
            break
        elif i >= n:
            i -= 1  # unclosed: the class ends with the pattern
            break
        elif n - i >= 3 and pattern[i + 1] == 0x2D:  # 'x-y', even when y is ']'
            start, end = _signed(pattern[i]), _signed(pattern[i + 2])
            if start > end:
                start, end = end, start
            if nocase:
                start, end = _lower(start), _lower(end)
            ranges.append((start, end))
            i += 2
        else:
            literals.append(pattern[i])
        i += 1
    members = []
    for byte in range(256):
        value = _signed(byte)
        if nocase:
            lowered = _lower(value)
            hit = any(_lower(_signed(p)) == lowered for p in literals)
            hit = hit or any(start <= lowered <= end for start, end in ranges)
        else:
            hit = byte in literals or any(start <= value <= end for start, end in ranges)
        hit = hit or byte in escaped  # escaped bytes compare exactly, even nocase
        members.append(hit != negate)
    return _byte_class(members), i


def _literal(byte: int, nocase: bool) -> bytes:
    if nocase and (65 <= byte <= 90 or 97 <= byte <= 122):
        return b"[%c%c]" % (byte & ~0x20, byte | 0x20)
    return re.escape(bytes((byte,)))


class _Matcher:
    """A compiled pattern: the fixed-length pieces between its stars.

    One regex would do, but a backtracking engine takes exponential time on
    ``*a*a*a*a*b`` (Redis fixed the same in stringmatchlen, CVE-2022-36021). Every
    piece matches a fixed number of bytes, so placing each middle piece leftmost is
    always right, and the whole match is linear in pieces times subject length.
    """

    __slots__ = ("whole", "pieces", "first_len", "last_len")

    def __init__(self, pieces: list[bytes], lengths: list[int]) -> None:
        flags = re.DOTALL
        # No '*', or just one: a single regex, which can't blow up.
        self.whole = (re.compile(b".*".join(pieces) + b"\\Z", flags)
                      if len(pieces) <= 2 else None)
        self.pieces = [re.compile(piece, flags) for piece in pieces]
        self.first_len = lengths[0]
        self.last_len = lengths[-1]

    def match(self, subject: bytes) -> bool:
        if self.whole is not None:
            return self.whole.match(subject) is not None
        pieces = self.pieces
        last_start = len(subject) - self.last_len
        if last_start < self.first_len or pieces[0].match(subject) is None:
            return False
        pos = self.first_len
        for piece in pieces[1:-1]:
            found = piece.search(subject, pos, last_start)
            if found is None:
                return False
            pos = found.end()
        return pieces[-1].match(subject, last_start) is not None


@lru_cache(maxsize=256)
def _compile(pattern: bytes, nocase: bool) -> _Matcher:
    pieces: list[bytes] = []
    lengths: list[int] = []
    out = bytearray()
    length = 0
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # '*'
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            pieces.append(bytes(out))
            lengths.append(length)
            out = bytearray()
            length = 0
        else:
            if c == 0x3F:  # '?'
                out += b"."
            elif c == 0x5B:  # '['
                compiled, i = _parse_class(pattern, i + 1, nocase)
                out += compiled
            elif c == 0x5C and i + 1 < n:  # '\'
                i += 1
                out += _literal(pattern[i], nocase)
            else:
                out += _literal(c, nocase)
            length += 1
        i += 1
    pieces.append(bytes(out))
    lengths.append(length)
    return _Matcher(pieces, lengths)


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    if not subject:
        return not pattern  # stringmatchlen's loop never runs
    return _compile(pattern, nocase).match(subject)
