"""Sans-IO request readers: bytes in, argument vectors out.

Two implementations share one interface (``feed``, ``next_request``, ``pending``):

* ``PyRequestReader`` is the reference: pure Python, Redis's exact rules for
  multibulk and inline requests, limits and error texts.
* ``HiredisRequestReader`` parses well-formed multibulk traffic with hiredis (C) and
  hands anything unusual (inline commands, malformed input, a request whose headers
  still need checking against the limits) to a ``PyRequestReader`` replaying the same
  bytes, so both readers accept and reject exactly the same input.

``next_request`` returns the next complete ``list[bytes]`` or ``None`` when more bytes
are needed; it raises ``ProtocolError`` at the first malformed request, after every
request before it has been returned.
"""

from __future__ import annotations

from typing import Protocol

from taipan.errors import ProtocolError

INLINE_MAX = 64 * 1024  # Redis's PROTO_INLINE_MAX_SIZE
MULTIBULK_MAX = 2**31 - 1  # Redis rejects counts above INT_MAX
DEFAULT_MAX_BULK = 512 * 1024 * 1024  # proto-max-bulk-len default


class RequestReader(Protocol):
    max_bulk_len: int

    def feed(self, data: bytes) -> None: ...

    def next_request(self) -> list[bytes] | None: ...

    def pending(self) -> int:
        """Bytes held for requests not yet complete (for client-query-buffer-limit)."""
        ...


def _parse_length(line: bytes) -> int | None:
    """Redis's strict ``string2ll``: optional '-', digits, no leading zeros or '+'."""
    if not line or len(line) > 20:
        return None
    body = line[1:] if line[:1] == b"-" else line
    if not body.isdigit() or (len(body) > 1 and body[:1] == b"0"):
        return None
    if body == b"0" and line[:1] == b"-":
        return None
    return int(line)


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline request as redis-cli and Redis do (quotes and escapes)."""
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \t\n\r\v\f":
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
                elif c == ord('"'):
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
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
                if c == 0x5C and i + 1 < n and line[i + 1] == ord("'"):
                    i += 1
                    current.append(ord("'"))
                elif c == ord("'"):
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
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
                if c in b" \t\n\r\v\f":
                    break
                if c == ord('"'):
                    in_double = True
                elif c == ord("'"):
                    in_single = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


class PyRequestReader:
    """Pure-Python request reader with Redis's exact parsing rules."""

    def __init__(self, max_bulk_len: int = DEFAULT_MAX_BULK) -> None:
        self.max_bulk_len = max_bulk_len
        self._buf = b""
        self._pos = 0
        # State of a multibulk request whose arguments are still arriving.
        self._remaining = 0
        self._args: list[bytes] = []
        self._bulk_len = -1

    def feed(self, data: bytes) -> None:
        if self._pos:
            self._buf = self._buf[self._pos:] + data
            self._pos = 0
        else:
            self._buf += data

    def pending(self) -> int:
        return len(self._buf) - self._pos

    def at_boundary(self) -> bool:
        """True when no partial request is held."""
        return self._pos >= len(self._buf) and not self._remaining

    def next_request(self) -> list[bytes] | None:
        while True:
            if self._remaining:
                if not self._read_bulks():
                    return None
                args, self._args = self._args, []
                return args
            buf, pos = self._buf, self._pos
            if pos >= len(buf):
                return None
            if buf[pos] == 0x2A:  # '*'
                if not self._read_multibulk_header():
                    return None
                if self._remaining == 0:
                    continue  # '*0' and '*-1' are skipped, as Redis does
            else:
                args = self._read_inline()
                if args is None:
                    return None
                if args:
                    return args

    def _read_line(self, too_big: str) -> bytes | None:
        buf, pos = self._buf, self._pos
        end = buf.find(b"\r\n", pos)
        if end < 0:
            if len(buf) - pos > INLINE_MAX:
                raise ProtocolError(too_big)
            return None
        if end - pos > INLINE_MAX:
            raise ProtocolError(too_big)
        self._pos = end + 2
        return buf[pos:end]

    def _read_multibulk_header(self) -> bool:
        line = self._read_line("too big mbulk count string")
        if line is None:
            return False
        count = _parse_length(line[1:])
        if count is None or count > MULTIBULK_MAX:
            raise ProtocolError("invalid multibulk length")
        self._remaining = max(count, 0)
        self._args = []
        return True

    def _read_bulks(self) -> bool:
        buf = self._buf
        while self._remaining:
            if self._bulk_len < 0:
                pos = self._pos
                if pos >= len(buf):
                    return False
                if buf[pos] != 0x24:  # '$'
                    got = chr(buf[pos])
                    raise ProtocolError(f"expected '$', got '{got}'")
                line = self._read_line("too big bulk count string")
                if line is None:
                    return False
                length = _parse_length(line[1:])
                if length is None or length < 0 or length > self.max_bulk_len:
                    raise ProtocolError("invalid bulk length")
                self._bulk_len = length
            start = self._pos
            end = start + self._bulk_len
            if end + 2 > len(buf):
                return False
            self._args.append(buf[start:end])
            self._pos = end + 2  # Redis skips the two bytes after a bulk unchecked
            self._bulk_len = -1
            self._remaining -= 1
        return True

    def _read_inline(self) -> list[bytes] | None:
        buf, pos = self._buf, self._pos
        end = buf.find(b"\n", pos)
        if end < 0:
            if len(buf) - pos > INLINE_MAX:
                raise ProtocolError("too big inline request")
            return None
        if end - pos > INLINE_MAX:
            raise ProtocolError("too big inline request")
        line = buf[pos:end]
        if line[-1:] == b"\r":
            line = line[:-1]
        self._pos = end + 1
        return split_inline(line)
