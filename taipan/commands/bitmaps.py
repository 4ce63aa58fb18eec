"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP.

Bit 0 is the most significant bit of the first byte, as in Redis. Whole-string work
runs in C through ``int.from_bytes`` / ``int.bit_count`` / ``bytes.translate`` /
``bytes.lstrip``; scans go in 1MB chunks, so a Python-level loop turns once per chunk,
never once per bit or byte.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING

from taipan.commands.args import to_int, try_int
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr, WrongType
from taipan.keyspace import events as ev
from taipan.keyspace.database import STRING_TYPES

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("bitmap")

_BAD_OFFSET = "ERR bit offset is not an integer or out of range"
_BAD_BIT = ReplyError("ERR bit is not an integer or out of range")
_BAD_BITPOS_BIT = ReplyError("ERR The bit argument must be 1 or 0.")
_NOT_SINGLE_KEY = ReplyError("ERR BITOP NOT must be called with a single source key.")

# Bytes per chunk when a whole-string operation is split up: big enough that the
# per-chunk Python overhead vanishes, small enough not to copy a 512MB string at once.
_CHUNK = 1 << 20
_INVERT = bytes(range(255, -1, -1))  # translate table for bitwise NOT of each byte
_U64 = (1 << 64) - 1


def c_string(arg: bytes) -> bytes:
    """``arg`` as C's strcasecmp/strlen see it: everything before the first NUL byte."""
    return arg.split(b"\0", 1)[0]


def _as_int64(value: int) -> int:
    """Two's-complement wrap to a C ``long long``: Redis's offset multiply overflows so."""
    value &= _U64
    return value - (1 << 64) if value >> 63 else value


def bit_offset(ctx: Client, arg: bytes, hash_bits: int = 0) -> int:
    """A bit offset argument; ``hash_bits`` > 0 also accepts ``#N`` (N fields of that width)."""
    use_hash = hash_bits > 0 and len(arg) > 1 and arg[0] == 0x23  # '#'
    offset = try_int(arg[1:] if use_hash else arg)
    if offset is None:
        raise ReplyError(_BAD_OFFSET)
    if use_hash:
        offset = _as_int64(offset * hash_bits)
    # The byte holding the bit must stay under proto-max-bulk-len (512MB by default).
    if offset < 0 or (offset >> 3) >= ctx.server.config.proto_max_bulk_len:
        raise ReplyError(_BAD_OFFSET)
    return offset


def string_for_bits(ctx: Client, key: bytes, max_bit: int) -> tuple[bytearray, bool, bool]:
    """The string at ``key`` as a mutable bytearray holding at least bit ``max_bit``.

    Creates the key (zero-filled) when missing, zero-pads it when short. Returns
    ``(value, created, grown)``: a created key was already signalled by ``db.set``.
    """
    db = ctx.db
    needed = (max_bit >> 3) + 1
    value = db.get_string(key)
    if value is None:
        value = bytearray(needed)
        db.set(key, value)
        return value, True, False
    if not isinstance(value, bytearray):
        # Mutate in place from now on (Redis's "raw" encoding); the TTL stays.
        value = db.unshare_string(key, value)
    grown = len(value) < needed
    if grown:
        value.extend(bytes(needed - len(value)))
    return value, False, grown


def _popcount(data: bytes | bytearray, start: int, end: int) -> int:
    """Set bits in ``data[start:end]``."""
    total = 0
    for chunk_start in range(start, end, _CHUNK):
        chunk = data[chunk_start:min(chunk_start + _CHUNK, end)]
        total += int.from_bytes(chunk, "big").bit_count()
    return total


def _bit_in_byte(value: int, bit: int, low: int, high: int) -> int:
    """Index (0 = MSB) of the first bit equal to ``bit`` among bits low..high, or -1."""
    if not bit:
        value ^= 0xFF
    value &= (0xFF >> low) & (0xFF << (7 - high))
    return 8 - value.bit_length() if value else -1


def _first_bit(data: bytes | bytearray, first: int, last: int, bit: int) -> int:
    """Position of the first bit equal to ``bit`` in bits ``first..last``, or -1."""
    first_byte, last_byte = first >> 3, last >> 3
    if first_byte == last_byte:
        found = _bit_in_byte(data[first_byte], bit, first & 7, last & 7)
        return -1 if found < 0 else first_byte * 8 + found
    found = _bit_in_byte(data[first_byte], bit, first & 7, 7)
    if found >= 0:
        return first_byte * 8 + found
    # Whole bytes in between: lstrip skips the uninteresting ones at C speed.
    boring = b"\0" if bit else b"\xff"
    pos = first_byte + 1
    while pos < last_byte:
        stop = min(pos + _CHUNK, last_byte)
        rest = len(data[pos:stop].lstrip(boring))
        if rest:
            byte = stop - rest
            return byte * 8 + _bit_in_byte(data[byte], bit, 0, 7)
        pos = stop
    found = _bit_in_byte(data[last_byte], bit, 0, last & 7)
    return -1 if found < 0 else last_byte * 8 + found


def _unit_is_bit(arg: bytes) -> bool:
    unit = c_string(arg).upper()
    if unit == b"BIT":
        return True
    if unit == b"BYTE":
        return False
    raise SyntaxErr()


@commands.command("SETBIT", arity=4, flags="write denyoom", keys=(1, 1, 1),
                  summary="Sets or clears the bit at offset in the string value stored at key",
                  since="2.2.0", complexity="O(1)")
def setbit(ctx: Client, argv: list[bytes]) -> int:
    """SETBIT key offset value"""
    offset = bit_offset(ctx, argv[2])
    on = to_int(argv[3], _BAD_BIT)
    if on & ~1:
        raise _BAD_BIT
    value, created, grown = string_for_bits(ctx, argv[1], offset)
    byte, mask = offset >> 3, 0x80 >> (offset & 7)
    old = value[byte] & mask
    if on:
        value[byte] |= mask
    else:
        value[byte] &= ~mask & 0xFF
    # Setting a bit to the value it has changes nothing: no signal (WATCH, dirty,
    # propagation) and no event, as in Redis 7.0.15.
    if created or grown or bool(old) != bool(on):
        if not created:
            ctx.db.signal(argv[1])
        ctx.db.notify(ev.STRING, b"setbit", argv[1])
    return 1 if old else 0


@commands.command("GETBIT", arity=3, flags="readonly fast", keys=(1, 1, 1),
                  summary="Returns the bit value at offset in the string value stored at key",
                  since="2.2.0", complexity="O(1)")
def getbit(ctx: Client, argv: list[bytes]) -> int:
    """GETBIT key offset"""
    offset = bit_offset(ctx, argv[2])
    value = ctx.db.get_string(argv[1], read=True)
    byte = offset >> 3
    if value is None or byte >= len(value):
        return 0
    return (value[byte] >> (7 - (offset & 7))) & 1


@commands.command("BITCOUNT", arity=-2, flags="readonly", keys=(1, 1, 1),
                  summary="Count set bits in a string", since="2.6.0", complexity="O(N)",
                  history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitcount(ctx: Client, argv: list[bytes]) -> int:
    """BITCOUNT key [start end [BYTE | BIT]]"""
    value = ctx.db.get_string(argv[1], read=True)
    if value is None:
        return 0  # Redis answers before looking at the range arguments
    length = len(value)
    if len(argv) == 2:
        return _popcount(value, 0, length)
    if len(argv) not in (4, 5):
        raise SyntaxErr()
    start, end = to_int(argv[2]), to_int(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0  # Redis answers this before it looks at the unit
    in_bits = len(argv) == 5 and _unit_is_bit(argv[4])
    total = length * 8 if in_bits else length
    if start < 0:
        start = max(start + total, 0)
    if end < 0:
        end = max(end + total, 0)
    end = min(end, total - 1)
    if start > end:
        return 0
    if not in_bits:
        return _popcount(value, start, end + 1)
    first_byte, last_byte = start >> 3, end >> 3
    count = _popcount(value, first_byte, last_byte + 1)
    # Take away the bits of the edge bytes that fall outside the bit range.
    outside = (value[first_byte] & (0xFF00 >> (start & 7)) & 0xFF) << 8
    outside |= value[last_byte] & ((1 << (7 - (end & 7))) - 1)
    return count - outside.bit_count()


@commands.command("BITPOS", arity=-3, flags="readonly", keys=(1, 1, 1),
                  summary="Find first bit set or clear in a string", since="2.8.7",
                  complexity="O(N)", history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitpos(ctx: Client, argv: list[bytes]) -> int:
    """BITPOS key bit [start [end [BYTE | BIT]]]"""
    bit = to_int(argv[2])
    if bit not in (0, 1):
        raise _BAD_BITPOS_BIT
    value = ctx.db.get_string(argv[1], read=True)
    if value is None:
        # A missing key is an endless run of zeros.
        return -1 if bit else 0
    length = len(value)
    end_given = False
    if len(argv) == 3:
        if not length:
            return -1
        first, last = 0, length * 8 - 1
    elif len(argv) <= 6:
        start = to_int(argv[3])
        in_bits = len(argv) == 6 and _unit_is_bit(argv[5])
        total = length * 8 if in_bits else length
        if len(argv) >= 5:
            end = to_int(argv[4])
            end_given = True
        else:
            end = total - 1
        if start < 0:
            start = max(start + total, 0)
        if end < 0:
            end = max(end + total, 0)
        end = min(end, total - 1)
        if start > end:
            return -1  # an empty range holds neither a 0 nor a 1
        first, last = (start, end) if in_bits else (start * 8, end * 8 + 7)
    else:
        raise SyntaxErr()
    found = _first_bit(value, first, last, bit)
    if found == -1 and not bit and not end_given:
        # Looking for a 0 without an explicit end: the string continues with zeros.
        return last + 1
    return found


def _bitop_and(values: list[int]) -> int:
    return reduce(lambda x, y: x & y, values)


def _bitop_or(values: list[int]) -> int:
    return reduce(lambda x, y: x | y, values)


def _bitop_xor(values: list[int]) -> int:
    return reduce(lambda x, y: x ^ y, values)


_BITOPS = {b"AND": _bitop_and, b"OR": _bitop_or, b"XOR": _bitop_xor, b"NOT": None}


@commands.command("BITOP", arity=-4, flags="write denyoom", keys=(2, -1, 1),
                  key_specs=("OW update", "RO access"),
                  summary="Perform bitwise operations between strings", since="2.6.0",
                  complexity="O(N)")
def bitop(ctx: Client, argv: list[bytes]) -> int:
    """BITOP AND | OR | XOR | NOT destkey key [key ...]"""
    name = c_string(argv[1]).upper()
    if name not in _BITOPS:
        raise SyntaxErr()
    if name == b"NOT" and len(argv) != 4:
        raise _NOT_SINGLE_KEY
    db = ctx.db
    sources: list[bytes | bytearray] = []
    for key in argv[3:]:
        value = db.get_read(key)
        if value is None:
            value = b""  # a missing key counts as an empty string
        elif not isinstance(value, STRING_TYPES):
            raise WrongType()
        sources.append(value)
    size = max(len(value) for value in sources)
    dest = argv[2]
    if size == 0:
        db.delete_with_event(dest)
        return 0
    # The result is a bytearray: Redis builds it as a "raw" string whatever its length.
    if name == b"NOT":
        result = bytearray(sources[0]).translate(_INVERT)
    else:
        # Shorter strings are zero-padded at the end: shift each to the same width.
        numbers = [int.from_bytes(v, "big") << (8 * (size - len(v))) for v in sources]
        combine = _BITOPS[name]
        assert combine is not None  # (NOT, the one without, took the branch above)
        result = bytearray(combine(numbers).to_bytes(size, "big"))
    db.set(dest, result)
    db.notify(ev.STRING, b"set", dest)
    return size
