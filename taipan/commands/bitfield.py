"""BITFIELD and BITFIELD_RO: integer fields of 1-64 bits at arbitrary bit offsets.

The overflow checks reproduce Redis's 64-bit arithmetic, quirks included: with
``OVERFLOW SAT``, ``SET u8 0 -1`` stores 255 (the value is taken as unsigned), and
``SET i8`` of a value near -2**63 saturates to +127, because Redis's limit test
wraps around there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from taipan.commands.args import to_int, try_int
from taipan.commands.bitmaps import bit_offset, c_string, string_for_bits
from taipan.commands.table import CommandGroup
from taipan.errors import ReplyError, SyntaxErr
from taipan.keyspace import events as ev

if TYPE_CHECKING:
    from taipan.net.client import Client

commands = CommandGroup("bitmap")

_BAD_TYPE = ReplyError(
    "ERR Invalid bitfield type. Use something like i16 u8. "
    "Note that u64 is not supported but i64 is."
)
_BAD_OVERFLOW = ReplyError("ERR Invalid OVERFLOW type specified")
_RO_ONLY_GET = ReplyError("ERR BITFIELD_RO only supports the GET subcommand")

_GET, _SET, _INCRBY = 0, 1, 2
_OPCODES = {b"GET": (_GET, 2), b"SET": (_SET, 3), b"INCRBY": (_INCRBY, 3)}
_WRAP, _SAT, _FAIL = 0, 1, 2
_OVERFLOWS = {b"WRAP": _WRAP, b"SAT": _SAT, b"FAIL": _FAIL}

_U64 = (1 << 64) - 1
_I64_MAX = (1 << 63) - 1


def _int64(value: int) -> int:
    """Wrap to a C int64_t, as Redis's unsigned/signed casts do."""
    value &= _U64
    return value - (1 << 64) if value >> 63 else value


class _Op(NamedTuple):
    opcode: int
    signed: bool
    bits: int
    offset: int
    value: int  # SET value or INCRBY increment
    overflow: int


def _field_type(arg: bytes) -> tuple[bool, int]:
    """``i1``..``i64`` or ``u1``..``u63`` (lower-case letter only, as Redis)."""
    if not arg or arg[0] not in b"iu":
        raise _BAD_TYPE
    signed = arg[0] == 0x69  # 'i'
    bits = try_int(c_string(arg[1:]))
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise _BAD_TYPE
    return signed, bits


def _read_field(data: bytes | bytearray | None, offset: int, bits: int, signed: bool) -> int:
    """The field's value; bits past the end of ``data`` read as zeros."""
    if data is None:
        return 0
    first, last = offset >> 3, (offset + bits - 1) >> 3
    chunk = bytes(data[first:last + 1])
    width = last + 1 - first
    word = int.from_bytes(chunk.ljust(width, b"\0"), "big")
    value = (word >> (width * 8 - (offset & 7) - bits)) & ((1 << bits) - 1)
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _write_field(data: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low ``bits`` bits of ``value``; ``data`` is already long enough."""
    first, last = offset >> 3, (offset + bits - 1) >> 3
    width = last + 1 - first
    shift = width * 8 - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    word = int.from_bytes(data[first:last + 1], "big")
    word = (word & ~mask) | ((value << shift) & mask)
    data[first:last + 1] = word.to_bytes(width, "big")


def _signed_overflow(value: int, incr: int, bits: int, mode: int) -> tuple[int, int]:
    """(overflowed, result) for ``value + incr`` in a signed field, as Redis computes it."""
    high = _I64_MAX if bits == 64 else (1 << (bits - 1)) - 1
    low = -high - 1
    # Redis computes these in 64 bits: they may wrap, which is where the quirks come from.
    max_incr = _int64(high - value)
    min_incr = _int64(low - value)
    if value > high or (bits != 64 and incr > max_incr) or (value >= 0 and 0 < incr and incr > max_incr):
        limit = high
    elif value < low or (bits != 64 and incr < min_incr) or (value < 0 and incr < 0 and incr < min_incr):
        limit = low
    else:
        return 0, value + incr
    if mode == _WRAP:
        wrapped = (value + incr) & ((1 << bits) - 1)
        if wrapped >> (bits - 1):
            wrapped -= 1 << bits
        return 1, wrapped
    return 1, limit


def _unsigned_overflow(value: int, incr: int, bits: int, mode: int) -> tuple[int, int]:
    """(overflowed, result) for ``value + incr`` in an unsigned field (value is a uint64)."""
    high = (1 << bits) - 1
    max_incr = _int64(high - value)
    min_incr = _int64(-value)
    if value > high or (incr > 0 and incr > max_incr):
        limit = high
    elif incr < 0 and incr < min_incr:
        limit = 0
    else:
        return 0, value + incr
    if mode == _WRAP:
        return 1, (value + incr) & high
    return 1, limit


def _parse(ctx: Client, argv: list[bytes]) -> tuple[list[_Op], bool, int]:
    """The operations, whether all are reads, and the highest bit any write reaches."""
    ops: list[_Op] = []
    overflow = _WRAP
    readonly = True
    highest = 0
    i = 2
    while i < len(argv):
        remaining = len(argv) - i - 1
        name = c_string(argv[i]).upper()
        if name == b"OVERFLOW" and remaining >= 1:
            mode = _OVERFLOWS.get(c_string(argv[i + 1]).upper())
            if mode is None:
                raise _BAD_OVERFLOW
            overflow = mode
            i += 2
            continue
        opcode, needed = _OPCODES.get(name, (None, 0))
        if opcode is None or remaining < needed:
            raise SyntaxErr()
        signed, bits = _field_type(argv[i + 1])
        offset = bit_offset(ctx, argv[i + 2], bits)
        value = 0
        if opcode != _GET:
            readonly = False
            highest = max(highest, offset + bits - 1)
            value = to_int(argv[i + 3])
        ops.append(_Op(opcode, signed, bits, offset, value, overflow))
        i += needed + 1
    return ops, readonly, highest


def _apply(data: bytearray, op: _Op) -> tuple[int | None, bool]:
    """Run one SET/INCRBY: (reply, whether the field's value changed); the reply is
    None when OVERFLOW FAIL refused it."""
    old = _read_field(data, op.offset, op.bits, op.signed)
    if op.signed:
        if op.opcode == _INCRBY:
            overflowed, new = _signed_overflow(old, op.value, op.bits, op.overflow)
        else:
            overflowed, new = _signed_overflow(op.value, 0, op.bits, op.overflow)
    elif op.opcode == _INCRBY:
        overflowed, new = _unsigned_overflow(old, op.value, op.bits, op.overflow)
    else:
        # The SET value is reinterpreted as unsigned 64-bit, as Redis does.
        overflowed, new = _unsigned_overflow(op.value & _U64, 0, op.bits, op.overflow)
    if overflowed and op.overflow == _FAIL:
        return None, False
    _write_field(data, op.offset, op.bits, new)
    # ``new`` is as written, ``old`` as read: compare them in the field's own width.
    altered = (new - old) & ((1 << op.bits) - 1) != 0
    return (new if op.opcode == _INCRBY else old), altered


def _bitfield(ctx: Client, argv: list[bytes], read_only_command: bool) -> list:
    ops, readonly, highest = _parse(ctx, argv)
    key = argv[1]
    if readonly:
        data = ctx.db.get_string(key, read=True)
        return [_read_field(data, op.offset, op.bits, op.signed) for op in ops]
    if read_only_command:
        raise _RO_ONLY_GET
    data, created, grown = string_for_bits(ctx, key, highest)
    replies: list = []
    changed = False
    # Redis announces ``setbit`` when a write landed on a created or grown string or
    # changed a field's value.
    announce = False
    for op in ops:
        if op.opcode == _GET:
            replies.append(_read_field(data, op.offset, op.bits, op.signed))
            continue
        reply, altered = _apply(data, op)
        replies.append(reply)
        if reply is not None:
            changed = True
            announce = announce or altered or created or grown
    if (changed or grown) and not created:
        ctx.db.signal(key)
    if announce:
        ctx.db.notify(ev.STRING, b"setbit", key)
    return replies


@commands.command("BITFIELD", arity=-2, flags="write denyoom", keys=(1, 1, 1),
                  key_specs=({"flags": "RW access update variable_flags",
                              "notes": "This command allows both access and modification of "
                                       "the key"},),
                  summary="Perform arbitrary bitfield integer operations on strings", since="3.2.0",
                  complexity="O(1) for each subcommand specified")
def bitfield(ctx: Client, argv: list[bytes]) -> list:
    """BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL]
    SET encoding offset value | INCRBY encoding offset increment ...]"""
    return _bitfield(ctx, argv, read_only_command=False)


@commands.command("BITFIELD_RO", arity=-2, flags="readonly fast", keys=(1, 1, 1),
                  summary="Perform arbitrary bitfield integer operations on strings. Read-only "
                          "variant of BITFIELD", since="6.0.0",
                  complexity="O(1) for each subcommand specified")
def bitfield_ro(ctx: Client, argv: list[bytes]) -> list:
    """BITFIELD_RO key [GET encoding offset ...]"""
    return _bitfield(ctx, argv, read_only_command=True)
