"""LZF, the compression RDB strings use (``rdbcompression yes``).

The work is done by liblzf, the library Redis embeds, through the ``python-neo-lzf``
package (the ``lzf`` module; it ships wheels for every platform Taipan supports), so
a compressed string is the same bytes Redis writes. Without that package the
pure-Python codec below does it: any valid LZF stream, though not byte-identical to
liblzf's, at some 10x the cost.
"""

from __future__ import annotations

from typing import Any, Final

try:
    import lzf as liblzf  # python-neo-lzf
except ImportError:  # pragma: no cover - a platform without the package's wheel
    liblzf = None
NATIVE: Final[Any] = liblzf  # (Any: the package has no type hints)


class LzfError(ValueError):
    """Compressed data that doesn't inflate to what it announces."""


_LZF_MAX_OFFSET: Final = 1 << 13
_LZF_MAX_MATCH: Final = 264  # 7 + 255 + 2
_LZF_MAX_LITERAL: Final = 32
_LZF_MAX_EXPANSION: Final = _LZF_MAX_MATCH // 3


def lzf_decompress(data: bytes | bytearray, expected: int) -> bytes:
    """Inflate LZF ``data`` that must yield exactly ``expected`` bytes; ``LzfError``
    when it doesn't."""
    # (liblzf's wrapper allocates ``expected`` bytes up front: a corrupt length must
    # not reach it. No LZF stream inflates more than 88x: 264 bytes from a 3-byte
    # back reference.)
    if NATIVE is not None and 0 < expected <= len(data) * _LZF_MAX_EXPANSION:
        try:
            out = NATIVE.decompress(bytes(data), expected)
        except ValueError:
            out = None
        if out is not None and len(out) == expected:
            return out  # type: ignore[no-any-return]
    # Corrupt data (rare): the Python codec says precisely what is wrong with it.
    return python_lzf_decompress(data, expected)


def python_lzf_decompress(data: bytes | bytearray, expected: int) -> bytes:
    """``lzf_decompress`` in Python."""
    out = bytearray()
    size = 0  # len(out), kept by hand: it is checked after every token
    i, end = 0, len(data)
    while i < end:
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            run = ctrl + 1
            if i + run > end:
                raise LzfError("LZF literal past the end")
            out += data[i:i + run]
            i += run
            size += run
        else:
            length = ctrl >> 5
            if length == 7:
                if i >= end:
                    raise LzfError("LZF truncated")
                length += data[i]
                i += 1
            if i >= end:
                raise LzfError("LZF truncated")
            distance = ((ctrl & 0x1F) << 8) + data[i] + 1
            i += 1
            length += 2
            ref = size - distance
            if ref < 0:
                raise LzfError("LZF back reference before the start")
            if length <= distance:
                out += out[ref:ref + length]
            else:  # overlapping: the last ``distance`` bytes repeat
                out += (out[ref:] * (length // distance + 1))[:length]
            size += length
        if size > expected:
            raise LzfError("LZF output longer than announced")
    if size != expected:
        raise LzfError("LZF output length mismatch")
    return bytes(out)


def lzf_compress(data: bytes | bytearray) -> bytes:
    """LZF-compress ``data`` (any valid LZF stream; not byte-identical to liblzf's)."""
    packed = lzf_compress_within(data, -1)
    assert packed is not None  # no size limit
    return packed


# Strings up to this size take the sampled search: each bytes.rfind scans the string
# so far, cheap while it is short, but up to the whole 8 KiB window past it. (Kept
# within the window: the sampled search doesn't check offsets.)
_LZF_SAMPLED_UP_TO: Final = 1024
assert _LZF_SAMPLED_UP_TO <= _LZF_MAX_OFFSET


def lzf_compress_within(data: bytes | bytearray, max_size: int) -> bytes | None:
    """``lzf_compress(data)``, or None when it can't fit in ``max_size`` bytes (no
    limit when negative): callers only keep a compression that pays."""
    if NATIVE is not None:
        if not data:
            return b""  # (liblzf refuses empty input)
        if 0 <= max_size <= 1:
            return None  # (and the package refuses a limit of 0)
        # No limit: room for the worst case (a literal-run byte per 32, and liblzf
        # wants a few bytes to spare). The package hands liblzf one byte more than
        # it is asked for, hence the - 1: liblzf then sees the very limit Redis
        # gives it, and makes the same choices. None when the output doesn't fit.
        limit = max_size if max_size > 0 else len(data) + len(data) // 32 + 16
        return NATIVE.compress(bytes(data), limit - 1)  # type: ignore[no-any-return]
    return python_lzf_compress_within(data, max_size)


def python_lzf_compress_within(data: bytes | bytearray, max_size: int) -> bytes | None:
    """``lzf_compress_within`` in Python."""
    data = bytes(data)
    if len(data) <= _LZF_SAMPLED_UP_TO:
        return _lzf_sampled(data, max_size)
    return _lzf_greedy(data, max_size)


def _lzf_sampled(data: bytes, max_size: int) -> bytes | None:
    """LZF for short strings (listpacks, most values): look for an earlier occurrence
    of the three bytes at every third position only (``bytes.rfind``, in C), and
    extend a match found backwards as well as forwards, so every repeat of 5 bytes or
    more is still caught. That is a third of the Python work per byte of the plain
    greedy search; measured on listpack blobs, the output is 0.02% larger. After a run
    of misses the step grows (as LZ4's does), so incompressible data is given up on
    quickly. The whole string is inside the 8 KiB window (_LZF_SAMPLED_UP_TO)."""
    n = len(data)
    out = bytearray()
    rfind = data.rfind
    literal_start = i = misses = 0  # literals not yet written start at literal_start
    last = n - 3
    while i <= last:
        ref = rfind(data[i:i + 3], 0, i + 2)  # an occurrence starting before i
        if ref < 0:
            misses += 1
            i += 3 + (misses >> 4)
            continue
        misses = 0
        if i > literal_start and ref and data[ref - 1] == data[i - 1]:
            back = 1
            room = i - literal_start
            while back < room and back < ref and data[ref - back - 1] == data[i - back - 1]:
                back += 1
            i -= back
            ref -= back
            length = 3 + back
        else:
            length = 3
        limit = n - i
        if limit > _LZF_MAX_MATCH:
            limit = _LZF_MAX_MATCH
        if length > limit:
            length = limit
        # An overlapping match (ref + length past i) compares the input itself, as
        # the decompressor's byte-by-byte copy reproduces it.
        while length < limit and data[ref + length] == data[i + length]:
            length += 1
        run = i - literal_start
        if run:
            if run <= _LZF_MAX_LITERAL:
                out.append(run - 1)
                out += data[literal_start:i]
            else:
                while run > 0:
                    take = run if run < _LZF_MAX_LITERAL else _LZF_MAX_LITERAL
                    out.append(take - 1)
                    out += data[literal_start:literal_start + take]
                    literal_start += take
                    run -= take
        offset = i - ref - 1
        if length < 9:  # length - 2 fits the control byte's 3 bits
            out += bytes((((length - 2) << 5) | (offset >> 8), offset & 0xFF))
        else:
            out += bytes((0xE0 | (offset >> 8), length - 9, offset & 0xFF))
        i = literal_start = i + length
        if 0 <= max_size < len(out):
            return None
    return _with_tail(out, data, literal_start, max_size)


def _lzf_greedy(data: bytes, max_size: int) -> bytes | None:
    """LZF for longer strings: greedy, matching each position against the latest
    earlier occurrence of its three bytes within the 8 KiB window. The bookkeeping
    runs in C: the positions whose triple occurred before come from one dict of first
    occurrences, the latest occurrence from ``bytes.rfind``, so the Python loop only
    visits those positions. A string with fewer than 5 of them can't shrink by the 4
    bytes ``write_string`` asks for (a match of length L needs L - 2 of them and costs
    2 bytes, the first literal run 1 more): that check turns most of them away."""
    n = len(data)
    triples = list(zip(data, data[1:], data[2:], strict=False))  # the shortest: n - 2
    count = len(triples)
    first_seen = dict(zip(reversed(triples), range(count - 1, -1, -1), strict=True))
    repeated = count - len(first_seen)
    if max_size >= 0 and n and n - repeated + 1 > max_size:
        return None
    out = bytearray()
    literal_start = 0  # the literals not yet written start here
    if repeated:
        rfind = data.rfind
        for i in sorted(set(range(count)).difference(first_seen.values())):
            if i < literal_start:
                continue  # inside the last match
            ref = rfind(data[i:i + 3], i - _LZF_MAX_OFFSET if i > _LZF_MAX_OFFSET else 0,
                        i + 2)
            if ref < 0:
                continue  # only seen outside the window
            limit = n - i
            if limit > _LZF_MAX_MATCH:
                limit = _LZF_MAX_MATCH
            length = 3
            # Byte by byte (most matches are short), then one slice comparison in
            # case it runs to the limit (long runs). An overlapping match (ref +
            # length past i) compares the input itself, as the decompressor's
            # byte-by-byte copy reproduces it.
            while length < limit and data[ref + length] == data[i + length]:
                length += 1
                if length == 12 and data[ref:ref + limit] == data[i:i + limit]:
                    length = limit
            run = i - literal_start
            if run:
                if run <= _LZF_MAX_LITERAL:
                    out.append(run - 1)
                    out += data[literal_start:i]
                else:
                    start = literal_start
                    while start < i:
                        chunk = data[start:min(start + _LZF_MAX_LITERAL, i)]
                        out.append(len(chunk) - 1)
                        out += chunk
                        start += _LZF_MAX_LITERAL
            offset = i - ref - 1
            if length < 9:  # the length - 2 fits the control byte's 3 bits
                out.append(((length - 2) << 5) | (offset >> 8))
            else:
                out.append(0xE0 | (offset >> 8))
                out.append(length - 9)
            out.append(offset & 0xFF)
            literal_start = i + length
            if 0 <= max_size < len(out):
                return None
    return _with_tail(out, data, literal_start, max_size)




def _with_tail(out: bytearray, data: bytes, start: int, max_size: int) -> bytes | None:
    """Finish a compressed run: the literals left from ``start``, in runs of at most
    32 bytes; None when the result outgrew ``max_size``."""
    n = len(data)
    while start < n:
        chunk = data[start:start + _LZF_MAX_LITERAL]
        out.append(len(chunk) - 1)
        out += chunk
        start += _LZF_MAX_LITERAL
    if 0 <= max_size < len(out):
        return None
    return bytes(out)
