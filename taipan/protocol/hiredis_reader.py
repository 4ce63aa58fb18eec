"""A hiredis-accelerated request reader with the reference reader's exact semantics.

hiredis parses well-formed multibulk requests in C. Everything else goes through
``PyRequestReader`` on the very same bytes: inline commands, anything hiredis calls
malformed, replies that are not flat arrays of bulk strings, and a partial request
whose headers must be checked against the limits before its body arrives. To replay
bytes we keep the chunks fed since the last request boundary (usually none or one).
"""

from __future__ import annotations

import hiredis

from taipan.protocol.reader import DEFAULT_MAX_BULK, PyRequestReader

_STAR = 0x2A


class HiredisRequestReader:
    def __init__(self, max_bulk_len: int = DEFAULT_MAX_BULK) -> None:
        self.max_bulk_len = max_bulk_len
        self._hiredis = hiredis.Reader()
        # Chunks fed since the last point where hiredis held no partial data.
        self._tail: list[bytes] = []
        self._tail_len = 0
        # Requests hiredis already returned out of ``_tail``.
        self._tail_returned = 0
        # Tail size when the partial request was last checked by the reference reader.
        self._checked_len = 0
        # The reference reader, while it owns the stream (inline or replayed input).
        self._fallback: PyRequestReader | None = None

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self._fallback is not None:
            self._fallback.feed(data)
            return
        if not self._tail and data[0] != _STAR:
            self._fallback = PyRequestReader(self.max_bulk_len)
            self._fallback.feed(data)
            return
        self._tail.append(data)
        self._tail_len += len(data)
        self._hiredis.feed(data)

    def pending(self) -> int:
        if self._fallback is not None:
            return self._fallback.pending()
        return self._tail_len

    def next_request(self) -> list[bytes] | None:
        if self._fallback is not None:
            request = self._fallback.next_request()
            if request is None and self._fallback.at_boundary():
                self._fallback = None
            return request
        try:
            request = self._hiredis.gets()
        except hiredis.ProtocolError:
            return self._replay()
        if request is False:
            # hiredis holds part of a request (it may have consumed the bytes into
            # its own state, so ``has_data`` can't tell). Let the reference reader
            # check the headers (limits, syntax) now, not after gigabytes arrive;
            # re-checked only as the tail doubles, so large values stay O(n).
            if self._tail_len > 2 * self._checked_len:
                self._checked_len = self._tail_len
                return self._replay()
            return None
        if type(request) is not list or not request:
            return self._replay()
        for arg in request:
            if type(arg) is not bytes:
                return self._replay()
        self._tail_returned += 1
        if not self._hiredis.has_data():
            # A complete request ended exactly at the end of the bytes fed: a
            # request boundary, so nothing before it can ever need replaying.
            self._reset_tail()
        return request

    def _reset_tail(self) -> None:
        if self._tail:
            self._tail.clear()
            self._tail_len = 0
            self._tail_returned = 0
            self._checked_len = 0

    def _replay(self) -> list[bytes] | None:
        """Hand the bytes since the last boundary to the reference reader."""
        reference = PyRequestReader(self.max_bulk_len)
        reference.feed(b"".join(self._tail))
        for _ in range(self._tail_returned):
            reference.next_request()  # already returned by hiredis
        request = reference.next_request()  # may raise ProtocolError
        if request is None and not reference.at_boundary():
            # Headers are fine so far; keep using hiredis for the rest.
            return None
        self._hiredis = hiredis.Reader()
        self._tail.clear()
        self._tail_len = 0
        self._tail_returned = 0
        self._checked_len = 0
        self._fallback = reference
        return request
