"""Redis-style glob matching (KEYS, SCAN MATCH, CONFIG GET, CLIENT KILL ...)."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def _compile(pattern: bytes, nocase: bool) -> re.Pattern[bytes]:
    out = bytearray()
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i : i + 1]
        if c == b"*":
            out += b".*"
        elif c == b"?":
            out += b"."
        elif c == b"\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i : i + 1])
        elif c == b"[":
            i += 1
            negate = i < n and pattern[i : i + 1] == b"^"
            if negate:
                i += 1
            parts = bytearray()
            while i < n and pattern[i : i + 1] != b"]":
                ch = pattern[i : i + 1]
                if ch == b"\\" and i + 1 < n:
                    i += 1
                    parts += re.escape(pattern[i : i + 1])
                elif i + 2 < n and pattern[i + 1 : i + 2] == b"-" and pattern[i + 2 : i + 3] != b"]":
                    lo, hi = pattern[i], pattern[i + 2]
                    if lo > hi:
                        lo, hi = hi, lo
                    parts += b"\\x%02x-\\x%02x" % (lo, hi)
                    i += 2
                else:
                    parts += re.escape(ch)
                i += 1
            # An unterminated class matches what it has seen so far, as in Redis.
            if not parts:
                out += b"(?!)" if not negate else b"."
            else:
                out += b"[" + (b"^" if negate else b"") + bytes(parts) + b"]"
        else:
            out += re.escape(c)
        i += 1
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(bytes(out) + b"\\Z", flags)


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    return _compile(pattern, nocase).match(subject) is not None
