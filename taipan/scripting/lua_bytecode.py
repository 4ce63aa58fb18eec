"""Compiled scripts keep their frame when they tail-call: TAILCALL becomes CALL.

In Redis the ``redis``, ``cjson``, ``bit``... functions are C functions, and Lua 5.1
never replaces the caller's frame for a tail call to a C function, so an error in
``return cjson.decode(x)`` names the script's line. Taipan's library functions are
Lua functions, which a tail call would replace; rewriting each ``OP_TAILCALL`` of a
compiled script as ``OP_CALL`` keeps the frame. The compiler always follows a
TAILCALL with ``RETURN A 0``, so the rewritten code returns the same values.

This walks a Lua 5.1 binary chunk (``string.dump``'s output, the layout of
``ldump.c``) to find every function's code, nested functions included.
"""

from __future__ import annotations

import struct

_HEADER = b"\x1bLua\x51\x00\x01\x04\x08\x04\x08\x00"  # 5.1, little endian, 64-bit sizes
_OP_MASK = 0x3F
_OP_CALL = 28
_OP_TAILCALL = 29
_NIL, _BOOLEAN, _NUMBER, _STRING = 0, 1, 3, 4


def keep_tail_call_frames(chunk: bytes) -> bytes:
    """``chunk`` with every TAILCALL made a CALL (unchanged if its layout is unknown)."""
    if not chunk.startswith(_HEADER):
        return chunk
    code = bytearray(chunk)
    _Function(code, len(_HEADER)).patch()
    return bytes(code)


class _Function:
    """One function prototype of a binary chunk, patched in place."""

    def __init__(self, data: bytearray, offset: int) -> None:
        self.data = data
        self.pos = offset

    def _int(self) -> int:
        (value,) = struct.unpack_from("<i", self.data, self.pos)
        self.pos += 4
        return value

    def _skip_string(self) -> None:
        (length,) = struct.unpack_from("<Q", self.data, self.pos)
        self.pos += 8 + length

    def patch(self) -> int:
        """Patch this function and those nested in it; the offset after it."""
        data = self.data
        self._skip_string()  # source
        self.pos += 4 + 4 + 4  # linedefined, lastlinedefined, nups/numparams/vararg/stack
        for _ in range(self._int()):  # instructions
            if (data[self.pos] & _OP_MASK) == _OP_TAILCALL:
                data[self.pos] = (data[self.pos] & ~_OP_MASK) | _OP_CALL
            self.pos += 4
        for _ in range(self._int()):  # constants
            kind = data[self.pos]
            self.pos += 1
            if kind == _BOOLEAN:
                self.pos += 1
            elif kind == _NUMBER:
                self.pos += 8
            elif kind == _STRING:
                self._skip_string()
        for _ in range(self._int()):  # nested functions
            self.pos = _Function(data, self.pos).patch()
        lines = self._int()  # line info: one int per instruction
        self.pos += 4 * lines
        for _ in range(self._int()):  # local variables
            self._skip_string()
            self.pos += 8
        for _ in range(self._int()):  # upvalue names
            self._skip_string()
        return self.pos
