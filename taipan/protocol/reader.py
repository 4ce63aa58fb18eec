"""Sans-IO request readers: bytes in, argument vectors out.

Two implementations share one interface (``feed``, ``next_request``, ``pending``):

* ``PyRequestReader`` is the reference: pure Python, Redis's exact rules for
  multibulk and inline requests, limits and error texts.
* ``HiredisRequestReader`` parses well-formed multibulk traffic with hiredis (C) and
  hands anything unusual (inline commands, malformed input, a request whose headers
  still need checking against the limits) to a ``PyRequestReader`` on the same bytes,
  so both readers accept and reject exactly the same input.

``next_request`` returns the next complete ``list[bytes]`` or ``None`` when more bytes
are needed; it raises ``ProtocolError`` at the first malformed request, after every
request before it has been returned.

The rules follow Redis 7.0's ``processInlineBuffer`` / ``processMultibulkBuffer``,
including their C-string quirks, as if each read of Redis returned exactly the bytes
fed before a ``next_request`` call:

* a multibulk or bulk header ends at the first ``\\r``; the byte after it is skipped
  unchecked, as are the two bytes after a bulk payload;
* an inline request ends at the first ``\\n`` (a ``\\r`` before it is dropped);
* a NUL byte before a line's terminator hides the terminator (Redis searches with
  ``strchr``), so the line never ends and the client eventually gets the "too big"
  error once more than 64 KB are held;
* more than 64 KB held without a line terminator is "too big ..."; a longer line
  whose terminator is already there is read (an inline command) or refused as a bad
  number (a header). Only then can the result depend on how the input was split,
  as it does for Redis, whose reads grow from 16 KB to "all there is".
"""

from __future__ import annotations

from typing import Final

from taipan.errors import ProtocolError

INLINE_MAX: Final = 64 * 1024  # Redis's PROTO_INLINE_MAX_SIZE
MULTIBULK_MAX: Final = 2**31 - 1  # Redis rejects counts above INT_MAX
UNAUTH_MULTIBULK_MAX: Final = 10  # before AUTH (Redis 7.0.x security fix)
UNAUTH_BULK_MAX: Final = 16384
DEFAULT_MAX_BULK: Final = 512 * 1024 * 1024  # proto-max-bulk-len default
_LLONG_MIN: Final = -(2**63)
_LLONG_MAX: Final = 2**63 - 1

_STAR: Final = 0x2A
_DOLLAR: Final = 0x24


class RequestReader:
    """What both readers offer the connection. A base class rather than a
    ``typing.Protocol``: compiled, the connection's calls go through the vtable
    instead of a method lookup by name per request."""

    max_bulk_len: int
    # Set while the client still has to authenticate: Redis then refuses requests of
    # more than 10 arguments or arguments over 16 KB before reading them.
    unauthenticated: bool

    def feed(self, data: bytes) -> None:
        raise NotImplementedError

    def next_request(self) -> list[bytes] | None:
        raise NotImplementedError

    def pending(self) -> int:
        """Bytes fed and not parsed yet: Redis's query buffer length (CLIENT LIST
        qbuf, client-query-buffer-limit). Arguments already read from a request still
        arriving don't count, as in Redis."""
        raise NotImplementedError


def parse_length(line: bytes) -> int | None:
    """Redis's strict ``string2ll``: optional '-', digits, no leading zeros or '+'."""
    if not line or len(line) > 20:
        return None
    try:
        value = int(line)
    except ValueError:
        return None
    # ``int`` also takes '+', spaces, '_' and leading zeros; the canonical spelling
    # is the only one string2ll accepts.
    if b"%d" % value != line or not _LLONG_MIN <= value <= _LLONG_MAX:
        return None
    return value


def _got(byte: int) -> str:
    # Redis prints the raw byte with %c, then maps CR/LF to spaces in the error.
    if byte in (10, 13):
        return " "
    return bytes((byte,)).decode("utf-8", "surrogateescape")


# Whitespace for C's isspace(): separates arguments and may follow a closing quote.
_SPACE: Final = frozenset(b" \t\n\r\v\f")
# Inside an unquoted argument only these end it (sdssplitargs' switch), not \v or \f.
_ARG_END: Final = frozenset(b" \t\n\r")
_ESCAPES: Final = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX: Final = frozenset(b"0123456789abcdefABCDEF")


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline request as Redis's ``sdssplitargs`` does (quotes and escapes).

    A NUL byte ends the line, as it ends the C string Redis splits.
    """
    if 0 in line:
        line = line[:line.find(b"\0")]
    if not (0x22 in line or 0x27 in line or 0x0B in line or 0x0C in line):
        # No quotes, and no \v or \f (which only separate leading space, not
        # arguments): exactly a split on space, tab, CR and LF, done in C.
        return line.split()
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                c = line[i]
                if (c == 0x5C and i + 3 < n and line[i + 1] == ord("x")
                        and line[i + 2] in _HEX and line[i + 3] in _HEX):
                    current.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current.append(_ESCAPES.get(line[i], line[i]))
                elif c == 0x22:  # '"'
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        raise ProtocolError("unbalanced quotes in request")
                    in_double = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_single:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:  # "'"
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        raise ProtocolError("unbalanced quotes in request")
                    in_single = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _ARG_END:
                    break
                if c == 0x22:
                    in_double = True
                elif c == 0x27:
                    in_single = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


class PyRequestReader(RequestReader):
    """Pure-Python request reader with Redis's exact parsing rules."""

    def __init__(self, max_bulk_len: int = DEFAULT_MAX_BULK) -> None:
        self.max_bulk_len = max_bulk_len
        self.unauthenticated = False
        self._buf = b""
        self._pos = 0
        # Chunks fed but not yet joined onto ``_buf``: joining on every feed would
        # copy a large bulk that arrives in many pieces once per piece (quadratic).
        self._chunks: list[bytes] = []
        self._chunks_len = 0
        # Why parsing stopped: retry once this many bytes are held from ``_pos``, or
        # sooner if a new chunk holds ``_wait_for`` (a line terminator).
        self._need = 0
        self._wait_for: bytes | None = None
        self._scanned = 0  # chunks already searched for ``_wait_for``
        # State of a multibulk request whose arguments are still arriving.
        self._remaining = 0
        self._args: list[bytes] = []
        self._bulk_len = -1

    @classmethod
    def resume(cls, buf: bytes, pos: int, max_bulk_len: int) -> PyRequestReader:
        """A reader holding ``buf[pos:]``, without copying it."""
        reader = cls(max_bulk_len)
        reader._buf = buf
        reader._pos = pos
        return reader

    def feed(self, data: bytes) -> None:
        if data:
            self._chunks.append(data)
            self._chunks_len += len(data)

    def pending(self) -> int:
        return len(self._buf) - self._pos + self._chunks_len

    def at_boundary(self) -> bool:
        """True when no partial request is held."""
        return not self._remaining and len(self._buf) <= self._pos and not self._chunks

    def _absorb(self) -> bool:
        """Join the fed chunks onto the buffer if that can let parsing progress."""
        chunks = self._chunks
        if len(self._buf) - self._pos + self._chunks_len < self._need:
            wanted = self._wait_for
            if wanted is None:
                return False
            for i in range(self._scanned, len(chunks)):
                if wanted in chunks[i]:
                    break
            else:
                self._scanned = len(chunks)
                return False
        # ``b"" + x`` and a one-item join return ``x`` itself: no copy in the usual
        # case of one chunk arriving at a request boundary.
        self._buf = self._buf[self._pos:] + b"".join(chunks)
        self._pos = 0
        self._chunks = []
        self._chunks_len = 0
        self._need = 0
        self._wait_for = None
        self._scanned = 0
        return True

    def _wait(self, need: int, wait_for: bytes | None = None) -> None:
        self._need = need
        self._wait_for = wait_for

    def next_request(self) -> list[bytes] | None:
        if self._chunks and not self._absorb():
            return None
        buf = self._buf
        while True:
            if self._remaining:
                return self._read_bulks()
            pos = self._pos
            if pos >= len(buf):
                return None
            if buf[pos] == _STAR:
                count = self._read_count(buf, pos)
                if count is None:
                    return None
                if count > 0:
                    self._remaining = count
                    self._args = []
                # '*0', '*-1', '*-5' are skipped, as Redis does.
            else:
                args = self._read_inline(buf, pos)
                if args is None:
                    return None
                if args:
                    return args
                # An empty line is skipped.

    def _header_end(self, buf: bytes, pos: int, too_big: str) -> int:
        """Index of the '\\r' ending the header at ``pos``, or -1 (wait)."""
        end = buf.find(b"\r", pos)
        if end < 0:
            self._line_missing(buf, pos, too_big, b"\r")
            return -1
        if end + 1 >= len(buf):
            self._wait(end - pos + 2)  # the byte after '\r' (unchecked) must arrive
            return -1
        return end

    def _line_missing(self, buf: bytes, pos: int, too_big: str, term: bytes | None) -> None:
        if len(buf) - pos > INLINE_MAX:
            raise ProtocolError(too_big)
        self._wait(INLINE_MAX + 1, term)

    def _hidden_by_nul(self, buf: bytes, pos: int, end: int, too_big: str) -> bool:
        """True (and wait) if a NUL hides the terminator at ``end`` from Redis."""
        if buf.find(b"\0", pos, end) < 0:
            return False
        self._line_missing(buf, pos, too_big, None)
        return True

    def _read_count(self, buf: bytes, pos: int) -> int | None:
        too_big = "too big mbulk count string"
        end = self._header_end(buf, pos, too_big)
        if end < 0:
            return None
        # (never a reversed slice: mypyc's bytes slicing refuses one)
        count = parse_length(buf[pos + 1:end]) if end > pos else None
        if count is None or count > MULTIBULK_MAX:
            if self._hidden_by_nul(buf, pos, end, too_big):
                return None
            raise ProtocolError("invalid multibulk length")
        if count > UNAUTH_MULTIBULK_MAX and self.unauthenticated:
            raise ProtocolError("unauthenticated multibulk length")
        self._pos = end + 2
        return count

    def _read_bulks(self) -> list[bytes] | None:
        buf, pos, args = self._buf, self._pos, self._args
        size = len(buf)
        remaining, bulk_len = self._remaining, self._bulk_len
        while remaining:
            if bulk_len < 0:
                too_big = "too big bulk count string"
                end = self._header_end(buf, pos, too_big)
                if end < 0:
                    break
                length = parse_length(buf[pos + 1:end]) if end > pos else None
                if buf[pos] != _DOLLAR:
                    if self._hidden_by_nul(buf, pos, end, too_big):
                        break
                    raise ProtocolError(f"expected '$', got '{_got(buf[pos])}'")
                if length is None or length < 0 or length > self.max_bulk_len:
                    if self._hidden_by_nul(buf, pos, end, too_big):
                        break
                    raise ProtocolError("invalid bulk length")
                if length > UNAUTH_BULK_MAX and self.unauthenticated:
                    raise ProtocolError("unauthenticated bulk length")
                bulk_len = length
                pos = end + 2
            end = pos + bulk_len
            if end + 2 > size:
                self._wait(bulk_len + 2)
                break
            args.append(buf[pos:end])
            pos = end + 2  # Redis skips the two bytes after a bulk unchecked
            bulk_len = -1
            remaining -= 1
        self._pos, self._remaining, self._bulk_len = pos, remaining, bulk_len
        if remaining:
            return None
        self._args = []
        return args

    def _read_inline(self, buf: bytes, pos: int) -> list[bytes] | None:
        too_big = "too big inline request"
        end = buf.find(b"\n", pos)
        if end < 0:
            self._line_missing(buf, pos, too_big, b"\n")
            return None
        stop = end - 1 if end > pos and buf[end - 1] == 13 else end
        line = buf[pos:stop]
        # (``0 in line`` is a memchr; a ranged find is a method call parsing its
        # arguments, the dearer part of a short inline request)
        if 0 in line and self._hidden_by_nul(buf, pos, end, too_big):
            return None
        self._pos = end + 1
        return split_inline(line)
