"""Redis glob semantics. The KEYS table was produced by a real Redis 7.0; the property
test compares the regex compiler with a line-by-line port of ``stringmatchlen``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taipan.glob import glob_match

# (pattern, subject, nocase, matches)
CASES = [
    (b"*", b"anything", False, True),
    (b"*", b"", False, True),  # KEYS * / SCAN: a bare '*' is "everything"
    (b"**", b"", False, False),  # stringmatchlen never matches an empty subject...
    (b"?*", b"", False, False),
    (b"", b"", False, True),  # ...but for the empty pattern
    (b"", b"a", False, False),
    (b"h?llo", b"hello", False, True),
    (b"h?llo", b"hllo", False, False),
    (b"h*llo", b"hllo", False, True),
    (b"h*llo", b"heeeello", False, True),
    (b"h*llo", b"hello world", False, False),
    (b"a*b*c", b"aXXbYYbZZc", False, True),
    (b"a*b*c", b"aXXbYYbZZ", False, False),
    (b"*a", b"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", False, False),
    (b"a**", b"a", False, True),
    (b"h[ae]llo", b"hello", False, True),
    (b"h[ae]llo", b"hillo", False, False),
    (b"h[^e]llo", b"hallo", False, True),
    (b"h[^e]llo", b"hello", False, False),
    (b"h[a-b]llo", b"hbllo", False, True),
    (b"h[a-b]llo", b"hcllo", False, False),
    (b"h[b-a]llo", b"hallo", False, True),  # reversed range
    (b"h\\*llo", b"h*llo", False, True),
    (b"h\\*llo", b"hello", False, False),
    (b"h\\?llo", b"h?llo", False, True),
    (b"\\[a]", b"[a]", False, True),
    (b"[\\]]", b"]", False, True),
    (b"[\\-]", b"-", False, True),
    (b"[*]", b"*", False, True),
    (b"[*]", b"a", False, False),
    (b"[?]", b"?", False, True),
    (b"a\\", b"a\\", False, True),  # a trailing backslash is literal
    (b"HELLO", b"hello", True, True),
    (b"h[A-Z]llo", b"hello", True, True),
    (b"h[A-Z]llo", b"hello", False, False),
    (b"H?LLO", b"hello", True, True),
    (b"[\\A]", b"a", True, False),  # escaped class members compare exactly
    (b"[\\A]", b"A", True, True),
    (b"\\A", b"a", True, True),  # but escaped literals fold
    (b"\xc3\xa9", b"\xc3\x89", True, False),  # only ASCII folds
    (b"maxmemory*", b"MAXMEMORY-POLICY", True, True),
    # Binary subjects and patterns.
    (b"a?c", b"a\x00c", False, True),
    (b"a?c", b"a\nc", False, True),
    (b"*\x00*", b"x\x00y", False, True),
    (b"\xff*", b"\xff\xfe", False, True),
    (b"[\x00-\x02]", b"\x01", False, True),
]


@pytest.mark.parametrize("pattern, subject, nocase, matches", CASES)
def test_glob(pattern: bytes, subject: bytes, nocase: bool, matches: bool) -> None:
    assert glob_match(pattern, subject, nocase) is matches


# KEYS <pattern> on a Redis 7.0 holding exactly these keys.
KEYS = [b"a", b"b", b"]", b"^", b"_", b"`", b"-", b"A", b"z", b"Z", b"\xff", b"\x80", b"0",
        b"\\", b"[", b"ab", b"a]", b"aa"]
ONE_BYTE = {k for k in KEYS if len(k) == 1}
REDIS_KEYS = {
    b"[a-]": {b"a", b"^", b"_", b"]", b"`"},  # the range a..']', the class runs on
    b"[]a]": set(),  # '[]' is an empty class
    b"[^]a]": set(),  # any byte, then "a]"
    b"[a-\xff]": {b"[", b"a", b"0", b"-", b"A", b"^", b"_", b"\\", b"]", b"Z", b"\xff", b"`"},
    b"[\x80-\xff]": {b"\x80", b"\xff"},  # signed chars: -128..-1
    b"[Z-a]": {b"[", b"a", b"^", b"_", b"\\", b"]", b"Z", b"`"},
    b"[\\]]": {b"]"},
    b"[a": {b"a"},  # an unclosed class ends with the pattern
    b"[^a": ONE_BYTE - {b"a"},
    b"[": set(),
    b"[^": ONE_BYTE,
    b"\\": {b"\\"},
    b"a\\": set(),
    b"[\\": {b"\\"},
    b"[a-z": {b"a", b"z", b"b"},
    b"[z-a]": {b"a", b"z", b"b"},
    b"[-a]": {b"a", b"-"},
    b"[a-b-]": {b"a", b"-", b"b"},
    b"*]": {b"]", b"a]"},
    b"[!a]": {b"a"},  # '!' is no negation in Redis
}


@pytest.mark.parametrize("pattern", list(REDIS_KEYS))
def test_same_keys_as_redis(pattern: bytes) -> None:
    assert {k for k in KEYS if glob_match(pattern, k)} == REDIS_KEYS[pattern]


# -- a reference: Redis 7.0's stringmatchlen, ported line by line ---------------------

def _signed(byte: int) -> int:
    return byte - 256 if byte >= 128 else byte


def _tolower(value: int) -> int:
    return value + 32 if 65 <= value <= 90 else value


def stringmatchlen(pattern: bytes, string: bytes, nocase: bool) -> bool:
    skip_longer = [False]
    return _match(pattern, 0, string, 0, nocase, skip_longer)


def _match(pat: bytes, p: int, s: bytes, i: int, nocase: bool, skip_longer: list[bool]) -> bool:
    plen, slen = len(pat) - p, len(s) - i

    def at(k: int) -> int:  # pattern[k], with the NUL terminator past the end
        return pat[p + k] if p + k < len(pat) else 0

    while plen and slen:
        c = at(0)
        if c == ord("*"):
            while plen and at(1) == ord("*"):
                p += 1
                plen -= 1
            if plen == 1:
                return True
            while slen:
                if _match(pat, p + 1, s, i, nocase, skip_longer):
                    return True
                if skip_longer[0]:
                    return False
                i += 1
                slen -= 1
            skip_longer[0] = True
            return False
        elif c == ord("?"):
            i += 1
            slen -= 1
        elif c == ord("["):
            p += 1
            plen -= 1
            negate = at(0) == ord("^")
            if negate:
                p += 1
                plen -= 1
            match = False
            while True:
                if at(0) == ord("\\") and plen >= 2:
                    p += 1
                    plen -= 1
                    if at(0) == s[i]:
                        match = True
                elif at(0) == ord("]"):
                    break
                elif plen == 0:
                    p -= 1
                    plen += 1
                    break
                elif plen >= 3 and at(1) == ord("-"):
                    start, end, ch = _signed(at(0)), _signed(at(2)), _signed(s[i])
                    if start > end:
                        start, end = end, start
                    if nocase:
                        start, end, ch = _tolower(start), _tolower(end), _tolower(ch)
                    p += 2
                    plen -= 2
                    if start <= ch <= end:
                        match = True
                elif not nocase:
                    if at(0) == s[i]:
                        match = True
                elif _tolower(_signed(at(0))) == _tolower(_signed(s[i])):
                    match = True
                p += 1
                plen -= 1
            if negate:
                match = not match
            if not match:
                return False
            i += 1
            slen -= 1
        else:
            if c == ord("\\") and plen >= 2:
                p += 1
                plen -= 1
            if not nocase:
                if at(0) != s[i]:
                    return False
            elif _tolower(_signed(at(0))) != _tolower(_signed(s[i])):
                return False
            i += 1
            slen -= 1
        p += 1
        plen -= 1
        if slen == 0:
            while at(0) == ord("*"):
                p += 1
                plen -= 1
            break
    return plen == 0 and slen == 0


def test_reference_agrees_with_redis_keys() -> None:
    for pattern, expected in REDIS_KEYS.items():
        assert {k for k in KEYS if stringmatchlen(pattern, k, False)} == expected


_pattern = st.lists(st.sampled_from([
    b"*", b"?", b"[", b"]", b"^", b"-", b"\\", b"a", b"A", b"b", b"z", b"Z", b"_", b"\x00",
    b"\x80", b"\xff", b"[a-z]", b"[^a]", b"\\*",
]), max_size=10).map(b"".join)
_subject = st.lists(st.sampled_from([
    b"a", b"A", b"b", b"z", b"Z", b"]", b"[", b"-", b"^", b"_", b"*", b"?", b"\\", b"\x00",
    b"\x80", b"\xff", b"\n",
]), max_size=8).map(b"".join)


@settings(max_examples=1000, deadline=None)
@given(_pattern, _subject, st.booleans())
def test_glob_matches_stringmatchlen(pattern: bytes, subject: bytes, nocase: bool) -> None:
    if pattern == b"*":
        return  # glob_match's "everything" shortcut (KEYS, SCAN)
    assert glob_match(pattern, subject, nocase) is stringmatchlen(pattern, subject, nocase)


def test_many_stars_stay_linear() -> None:
    # A backtracking regex needs ~10 s for this (and exponentially more per '*a');
    # Redis fixed the same in stringmatchlen (CVE-2022-36021).
    assert glob_match(b"*a" * 9 + b"*b", b"a" * 40) is False
    assert glob_match(b"*a" * 50 + b"*b", b"a" * 40000) is False
    assert glob_match(b"*a" * 50 + b"*b", b"a" * 100 + b"b") is True
