"""A hiredis-accelerated request reader with the reference reader's exact semantics.

hiredis parses multibulk requests in C, but it is a *reply* parser: it also accepts
things Redis refuses in a request (``+OK``, ``(123`` or ``=7\\r\\ntxt:abc`` items,
which it returns as plain bytes; ``~`` and ``|`` frames, which it returns as lists),
and it knows nothing of ``proto-max-bulk-len``. So a request it returns is trusted
only when the bytes it came from can't hold such things:

* fast path: none of ``+ ( = ~ |`` occurs in the bytes held (one ``memchr`` each per
  chunk), so every ``bytes`` item was a bulk string and every list a ``*`` array;
  checking the item types is enough;
* otherwise the request is walked against the raw bytes: each argument must sit
  where a ``$<len>\\r\\n`` header would put it, and the next request must start
  with ``*``. The first argument from another reply type is caught at its own (still
  exact) offset.

The fast path doesn't track where each request ends; when that is needed (a request
split across chunks, a hand-over) the skipped headers are re-read from the bytes.
Either way only the bytes of requests not yet returned are held.

Everything else goes to ``PyRequestReader`` on the very same bytes: inline commands,
anything hiredis or the checks refuse, and (as a checker running alongside hiredis)
a request still arriving, whose headers must be checked against the limits as soon
as they arrive, not after gigabytes of its body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import hiredis

from taipan.protocol.reader import DEFAULT_MAX_BULK, PyRequestReader, RequestReader

_STAR: Final = 0x2A
_DOLLAR: Final = 0x24
# hiredis allocates an aggregate's whole list when it reads the header, and freeing
# the list of a 13-byte '*2147483647\r\n' takes 17 s. So hiredis never sees a header
# declaring a million elements or more, nor an aggregate header right after another
# (nesting, which a request never has: a chain of '*999999' costs 8 MB a line). Such
# input, or a payload that looks like it, goes to the reference reader.
_RISKY_ARRAY: Final = re.compile(rb"\*(?:[0-9]{7}|[0-9]+\r\n[*~>|%])")  # literal '*': fast scan
_RISKY_OTHER: Final = re.compile(rb"[~>|](?:[0-9]{7}|[0-9]+\r\n[*~>|%])")  # sets, pushes, attributes
_WINDOW: Final = 16  # longer than any risky match hiredis could still take: seen across chunks


def _risky(data: bytes) -> bool:
    if _RISKY_ARRAY.search(data) is not None:
        return True
    return (126 in data or 62 in data or 124 in data) and _RISKY_OTHER.search(data) is not None


# Encoded size of a bulk string of each small length: "$<len>\r\n" + payload + "\r\n".
_TABLE: Final = 1024
_BULK_SIZE: Final = [size + 5 + len(b"%d" % size) for size in range(_TABLE)]


def _clean(data: bytes) -> bool:
    """True if ``data`` holds no type byte hiredis could turn into a fake argument."""
    # Integer membership is a memchr; '+', '(', '=', '~', '|'.
    return not (43 in data or 40 in data or 61 in data or 126 in data or 124 in data)


class HiredisRequestReader(RequestReader):
    def __init__(self, max_bulk_len: int = DEFAULT_MAX_BULK) -> None:
        self.max_bulk_len = max_bulk_len
        # Until AUTH, the reference reader does all the reading (few, small requests).
        self.unauthenticated = False
        self._hiredis = hiredis.Reader()
        # Its per-request methods, bound once: compiled, a call through a bound method
        # skips the lookup by name a ``self._hiredis.gets()`` makes each time.
        self._gets: Callable[[], Any] = self._hiredis.gets
        self._has_data: Callable[[], bool] = self._hiredis.has_data
        # Bytes fed to hiredis from the start of the first request not yet returned
        # (at ``_pos``, give or take ``_deferred``), plus later chunks, joined only when
        # a request spans them.
        self._buf = b""
        self._pos = 0
        self._more: list[bytes] = []
        self._more_len = 0
        # Fast path allowed: the bytes held are clean and requests end where chunks do.
        self._fast = False
        # Requests returned by the fast path since ``_pos`` (their ends not computed).
        self._deferred = 0
        # Reference reader fed the partial request hiredis is waiting on, so a bad
        # header is reported as soon as it arrives.
        self._checker: PyRequestReader | None = None
        # The reference reader, while it owns the stream (inline or unusual input).
        self._fallback: PyRequestReader | None = None

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self._fallback is not None:
            self._fallback.feed(data)
            return
        if self._pos >= len(self._buf) and not self._more:
            # At a request boundary with nothing held.
            if data[0] != _STAR or self.unauthenticated or (
                    # One request with a short header (the common case) can't be
                    # risky; skip the regex, whose call alone costs more than this.
                    # (A second '*' is a memchr away; counting them scanned it all.)
                    (data.find(42, 1) >= 0 or data.find(b"\r") > 7
                     or 126 in data or 62 in data or 124 in data) and _risky(data)):
                self._fallback = PyRequestReader(self.max_bulk_len)
                self._fallback.feed(data)
                return
            self._buf = data
            self._pos = 0
            self._fast = _clean(data)
            if self._checker is not None:
                self._checker = None
        else:
            if _risky(data) or _risky(self._tail() + data[:_WINDOW]):
                self._hand_over(data)
                return
            self._more.append(data)
            self._more_len += len(data)
            if self._fast and not _clean(data):
                self._fast = False
            if self._checker is not None:
                self._checker.feed(data)
        self._hiredis.feed(data)

    def pending(self) -> int:
        if self._fallback is not None:
            return self._fallback.pending()
        if self._checker is not None:
            # It knows how much of the request still arriving is parsed already.
            return self._checker.pending()
        if self._deferred:
            self._catch_up()
        return len(self._buf) - self._pos + self._more_len

    def next_request(self) -> list[bytes] | None:
        if self._fallback is not None:
            return self._from_fallback()
        try:
            request = self._gets()
        except Exception:
            # ProtocolError, but also whatever building a reply can raise (a list as
            # a map key: TypeError; a huge count: MemoryError). Not a plain request
            # either way: the reference reader decides.
            return self._divert()
        if request is False:
            if self._pos >= len(self._buf) and not self._more:
                return None  # nothing held
            return self._check_partial()
        if type(request) is not list or not request:
            return self._divert()  # '*0' / '*-1', which Redis skips
        if self._checker is not None:
            self._checker = None  # the request it was checking is complete
        if self._fast:
            for arg in request:
                if type(arg) is not bytes:
                    return self._divert()
            if len(self._buf) + self._more_len > self.max_bulk_len and self._too_long(request):
                return self._divert()
            if self._has_data():
                self._deferred += 1
            else:  # the request ended where the bytes fed do
                self._buf = b""
                self._pos = 0
                if self._more:
                    self._more = []
                    self._more_len = 0
                if self._deferred:
                    self._deferred = 0
            return request
        if self._deferred:
            self._catch_up()  # the walk below needs the exact start
        elif self._more:
            self._join()
        buf = self._buf
        pos = self._pos
        count = len(request)
        pos += 4 if count < 10 else 3 + len(b"%d" % count)  # "*<count>\r\n"
        try:
            for arg in request:
                if type(arg) is not bytes or buf[pos] != _DOLLAR:
                    return self._divert()
                size = len(arg)
                pos += _BULK_SIZE[size] if size < _TABLE else size + 5 + len(b"%d" % size)
        except IndexError:
            return self._divert()
        if len(buf) > self.max_bulk_len and self._too_long(request):
            return self._divert()
        if pos >= len(buf):
            self._buf = b""
            self._pos = 0
        else:
            self._pos = pos
            if buf[pos] != _STAR:
                # Inline (or other) input follows: the reference reader takes over
                # from here, so hiredis never sees it.
                self._fallback = PyRequestReader.resume(buf, pos, self.max_bulk_len)
                self._reset()
        return request

    def _tail(self) -> bytes:
        """The last bytes fed to hiredis (at most ``_WINDOW``)."""
        more = self._more
        if not more:
            return self._buf[-_WINDOW:]
        if len(more[-1]) >= _WINDOW:
            return more[-1][-_WINDOW:]
        return (self._buf[-_WINDOW:] + b"".join(more[-_WINDOW:]))[-_WINDOW:]

    def _too_long(self, request: list[bytes]) -> bool:
        limit = self.max_bulk_len
        return any(len(arg) > limit for arg in request)

    def _join(self) -> None:
        self._buf = self._buf[self._pos:] + b"".join(self._more)
        self._pos = 0
        self._more = []
        self._more_len = 0

    def _catch_up(self) -> None:
        """Move ``_pos`` past the requests the fast path returned without measuring."""
        if self._more:
            self._join()
        buf, pos = self._buf, self._pos
        # hiredis accepted these headers, so each is a canonical number ending in \r\n.
        for _ in range(self._deferred):
            end = buf.index(b"\r", pos)
            count = int(buf[pos + 1:end])
            pos = end + 2
            for _ in range(count):
                end = buf.index(b"\r", pos)
                pos = end + 4 + int(buf[pos + 1:end])
        self._pos = pos
        self._deferred = 0

    def _reset(self) -> None:
        self._hiredis = hiredis.Reader()
        self._gets = self._hiredis.gets
        self._has_data = self._hiredis.has_data
        self._buf = b""
        self._pos = 0
        self._more = []
        self._more_len = 0
        self._deferred = 0
        self._checker = None

    def _check_partial(self) -> list[bytes] | None:
        """Let the reference reader check the headers of the request still arriving."""
        checker = self._checker
        if checker is None:
            if self._deferred:
                self._catch_up()
                # Requests straddle chunks here: measuring each as it comes (the
                # walk) is cheaper than re-reading headers at every chunk's end.
                self._fast = False
            if self._pos >= len(self._buf) and not self._more:
                return None  # nothing held at all
            if self._more:
                self._join()
            checker = PyRequestReader.resume(self._buf, self._pos, self.max_bulk_len)
            if self._buf[self._pos] != _STAR:
                # Not a multibulk request (hiredis took it for a reply it can wait
                # on, like ':12'): the reference reader owns the stream from here.
                self._reset()
                self._fallback = checker
                return self._from_fallback()
            self._checker = checker
        checker.max_bulk_len = self.max_bulk_len
        checker.unauthenticated = self.unauthenticated
        request = checker.next_request()  # raises ProtocolError at a bad header
        if request is not None:
            # The reference reader owns the rest of the stream.
            self._reset()
            self._fallback = checker
        return request

    def _hand_over(self, data: bytes) -> None:
        """Make the reference reader own the stream from the first request not returned,
        with ``data`` fed after the bytes held."""
        if self._deferred:
            self._catch_up()
        elif self._more:
            self._join()
        fallback = PyRequestReader.resume(self._buf, self._pos, self.max_bulk_len)
        fallback.feed(data)
        self._reset()
        self._fallback = fallback

    def _divert(self) -> list[bytes] | None:
        """Let the reference reader decide, from the first request not returned on."""
        self._hand_over(b"")
        return self._from_fallback()

    def _from_fallback(self) -> list[bytes] | None:
        fallback = self._fallback
        assert fallback is not None
        fallback.max_bulk_len = self.max_bulk_len
        fallback.unauthenticated = self.unauthenticated
        request = fallback.next_request()
        if request is None and fallback.at_boundary():
            self._fallback = None  # back to hiredis from the next chunk on
        return request
