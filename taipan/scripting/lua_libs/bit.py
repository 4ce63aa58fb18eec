"""``bit``: LuaBitOp 1.0.2 (Redis's deps/lua/src/lua_bit.c) in plain Lua.

LuaBitOp works on Lua's doubles: an argument becomes 32 bits by adding 2^52+2^51
and taking the low word of the double's bit pattern (so 2.5 -> 2, 2^32+5 -> 5,
huge values keep mantissa bits), and every result is that word as a signed
32-bit number. Lua 5.1 has no bitwise operators, so the 32-bit words are kept
as non-negative doubles below 2^32: shifts are multiplications and floor
divisions by powers of two, and and/or/xor go a byte at a time through a 64 KiB
xor table (a + b = (a xor b) + 2 (a and b) gives and/or from xor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAME = "bit"

# XOR_TABLE[a * 256 + b] == a ^ b, handed to Lua as one string.
XOR_TABLE = bytes(a ^ b for a in range(256) for b in range(256))

LUA_SOURCE = r"""
local S, XOR = ...
local type, tonumber, select = type, tonumber, select
local floor, frexp, huge = math.floor, math.frexp, math.huge
local byte, format, sub = string.byte, string.format, string.sub

local M32, M31 = 4294967296, 2147483648
local MAGIC, TWO52, TWO53 = 6755399441055744, 4503599627370496, 9007199254740992
local POW2 = {}
for i = 0, 32 do POW2[i] = 2 ^ i end

-- The low 32 bits of the double n + 2^52 + 2^51, as an unsigned number.
local function tobits(n)
  local d = n + MAGIC
  if d >= TWO52 and d < TWO53 then return (d - TWO52) % M32 end
  -- Outside that binade the mantissa field is scaled differently; inf and NaN
  -- have an all-zero low word.
  if d ~= d or d == huge or d == -huge or d == 0 then return 0 end
  local m = frexp(d < 0 and -d or d)
  return (m * TWO53 - TWO52) % M32
end

local function barg(api, name, i, x, nargs)
  local n = tonumber(x)
  if n == nil then S.typeerror(api, name, i, "number", x, i <= nargs) end
  return tobits(n)
end

local function signed(b)
  if b >= M31 then return b - M32 end
  return b
end

local function bxor2(a, b)
  local r, scale = 0, 1
  for _ = 1, 4 do
    local x, y = a % 256, b % 256
    r = r + byte(XOR, x * 256 + y + 1) * scale
    a, b, scale = (a - x) / 256, (b - y) / 256, scale * 256
  end
  return r
end

local bit = {}

-- Arguments are converted first to last except for the first one, as the C
-- loop runs from the top of the stack down: that order decides which bad
-- argument is reported.
local function fold(name, combine)
  local api
  api = function(...)
    local nargs = select("#", ...)
    local x, y = ...
    local r = barg(api, name, 1, x, nargs)
    if nargs == 2 then return signed(combine(r, barg(api, name, 2, y, nargs))) end
    for i = nargs, 2, -1 do
      r = combine(r, barg(api, name, i, (select(i, ...)), nargs))
    end
    return signed(r)
  end
  bit[name] = api
end
fold("band", function(a, b) return (a + b - bxor2(a, b)) / 2 end)
fold("bor", function(a, b) return (a + b + bxor2(a, b)) / 2 end)
fold("bxor", bxor2)

local function unary(name, op)
  local api
  api = function(...)
    return signed(op(barg(api, name, 1, (...), select("#", ...))))
  end
  bit[name] = api
end
unary("tobit", function(b) return b end)
unary("bnot", function(b) return M32 - 1 - b end)
unary("bswap", function(b)
  local b0, b1, b2 = b % 256, floor(b / 256) % 256, floor(b / 65536) % 256
  return ((b0 * 256 + b1) * 256 + b2) * 256 + floor(b / 16777216)
end)

local function shift(name, op)
  local api
  api = function(...)
    local nargs = select("#", ...)
    local x, y = ...
    local b = barg(api, name, 1, x, nargs)
    return signed(op(b, barg(api, name, 2, y, nargs) % 32))
  end
  bit[name] = api
end
shift("lshift", function(b, n) return (b * POW2[n]) % M32 end)
shift("rshift", function(b, n) return floor(b / POW2[n]) end)
shift("arshift", function(b, n)
  if b >= M31 then return floor((b - M32) / POW2[n]) % M32 end
  return floor(b / POW2[n])
end)
-- With n == 0 the C code shifts by 32, which x86 treats as 0: b | b == b.
shift("rol", function(b, n) return (b * POW2[n]) % M32 + floor(b / POW2[32 - n]) end)
shift("ror", function(b, n) return floor(b / POW2[n]) + (b * POW2[32 - n]) % M32 end)

local tohex
tohex = function(...)
  local nargs = select("#", ...)
  local x, y = ...
  local b = barg(tohex, "tohex", 1, x, nargs)
  local n = 8
  if nargs >= 2 then n = signed(barg(tohex, "tohex", 2, y, nargs)) end
  local digits = "%08x"
  if n < 0 then n, digits = -n, "%08X" end
  if n > 8 then n = 8 end
  if n == 0 then return "" end
  return sub(format(digits, b), -n)
end
bit.tohex = tohex

return bit
"""


def build(compile_chunk: Callable[[str], Any], support: Any) -> Any:
    """The ``bit`` table, given the package's chunk compiler and support table."""
    return compile_chunk(LUA_SOURCE)(support, XOR_TABLE)
