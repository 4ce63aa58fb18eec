"""The C libraries Redis 7.0 links into its Lua, rebuilt for lupa's Lua 5.1.

Redis scripts can use ``cjson``, ``cmsgpack``, ``bit`` (LuaBitOp) and ``struct``;
lupa's Lua has none of them. Each is rewritten here in plain Lua, one module per
library, following Redis's C sources (deps/lua/src/lua_*.c) down to result bits
and error texts.

Plain Lua rather than Python callbacks, because:

- a Python callback is a userdata whose attributes reach Python's internals, and
  errors raised through lupa's Python boundary reach Lua as exception objects,
  not as Redis's message strings;
- Lua gets Lua semantics for free: ``tonumber`` is Lua's own string-to-number,
  ``string.format("%.14g")`` is the C library's, ``next`` walks tables in the
  order Redis's Lua (the same 5.1 code) walks them.

This module holds what the libraries share (``SUPPORT_LUA``): errors that read
like ``luaL_error``/``luaL_argerror`` raised from a C function, the C
conversions of a double to ``long``/``int``/``uint64_t`` as x86-64 performs
them, how far glibc's ``strtod`` reads, and IEEE 754 encoding and decoding of
floats and doubles. ``install`` compiles everything under the chunk name
``CHUNK_NAME``, the scripting core's internal chunk name, so its error handler
skips these frames when it looks for the user's line; for the same reason no
library code tail-calls a function that can raise.

Known differences from Redis, all unavoidable in plain Lua: ``cjson.null`` is a
full userdata (``getmetatable`` gives ``false`` rather than ``nil``); a library
function a script tail-calls (``return cjson.decode(x)``) loses the caller's
``user_script:N:`` prefix on its errors, since a Lua function, unlike a C one,
replaces the caller's frame; NaN payloads are not kept (only the sign is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taipan.scripting.lua_libs import bit, cjson, cmsgpack, struct

if TYPE_CHECKING:
    from lupa.lua51 import LuaRuntime

# Must equal taipan.scripting.lua_bootstrap.INTERNAL_CHUNK (a test checks it).
CHUNK_NAME = "=taipan"

SUPPORT_LUA = r"""
local getinfo = ...
local type, error, tostring, tonumber, select, unpack, format =
      type, error, tostring, tonumber, select, unpack, string.format
local floor, ceil, frexp, ldexp, huge = math.floor, math.ceil, math.frexp, math.ldexp, math.huge
local char, byte, find, sub, lower = string.char, string.byte, string.find, string.sub, string.lower
local S = {}

-- Redis's cjson.null is a NULL lightuserdata, which Lua code cannot make; a
-- zero-size userdata has the same type and is equal only to itself. tostring
-- prints a NULL pointer as glibc does; the metatable is locked so no script
-- can change that for the next (getmetatable answers false, not nil).
S.NULL = newproxy(true)
do
  local meta = getmetatable(S.NULL)
  meta.__tostring = function() return "userdata: (nil)" end
  meta.__metatable = false
end

-- NaN's sign shows only through tostring ("-nan"); keep one of each.
local nan = 0 / 0
if tostring(nan):sub(1, 1) == "-" then S.NAN_NEG, S.NAN_POS = nan, -nan
else S.NAN_POS, S.NAN_NEG = nan, -nan end

-- Errors ---------------------------------------------------------------------
-- The libraries' functions are C functions in Redis: luaL_error prefixes the
-- position of whoever called the library function, and luaL_argerror names the
-- function as that caller spelled it. Find the library function's frame by
-- identity and report relative to it. (Level numbering is the same for
-- debug.getinfo and error: 1 is the function calling them.)
local function frame_of(api)
  if getinfo == nil then return nil end
  local level = 3  -- 1 is frame_of, 2 is raise/argerror
  while true do
    local info = getinfo(level, "f")
    if info == nil then return nil end
    if info.func == api then return level - 1 end  -- as seen from the caller
    level = level + 1
  end
end

function S.raise(api, msg)
  local level = frame_of(api)
  if level == nil then error(msg, 0) end
  error(msg, level + 1)
end

function S.argerror(api, name, narg, extramsg)
  local level = frame_of(api)
  if level == nil then
    error(format("bad argument #%d to '%s' (%s)", narg, name, extramsg), 0)
  end
  local info = getinfo(level, "n")
  if info.namewhat == "method" then
    narg = narg - 1
    if narg == 0 then
      error(format("calling '%s' on bad self (%s)", info.name, extramsg), level + 1)
    end
  end
  local called = info.name
  if called == nil then
    -- A C function is never tail called, so Redis always finds the name its
    -- caller used; a Lua function that was tail called has lost it.
    local above = getinfo(level + 1, "S")
    called = (above ~= nil and above.what == "tail") and name or "?"
  end
  error(format("bad argument #%d to '%s' (%s)", narg, called, extramsg), level + 1)
end

function S.typeerror(api, name, narg, expected, value, present)
  local got = present and type(value) or "no value"
  S.argerror(api, name, narg, expected .. " expected, got " .. got)
end

-- luaL_checknumber: numbers and numeric strings.
function S.checknumber(api, name, narg, value, present)
  local n = tonumber(value)
  if n == nil then S.typeerror(api, name, narg, "number", value, present) end
  return n
end

-- luaL_checklstring: strings, and numbers converted as Lua converts them.
function S.checkstring(api, name, narg, value, present)
  local t = type(value)
  if t == "string" then return value end
  if t == "number" then return tostring(value) end
  S.typeerror(api, name, narg, "string", value, present)
end

-- (long)d on x86-64: truncation; NaN and out of range give LONG_MIN.
local function tolong(n)
  if n ~= n or n >= 9223372036854775808 or n < -9223372036854775808 then
    return -9223372036854775808
  end
  if n < 0 then return ceil(n) end
  return floor(n)
end
S.tolong = tolong

-- (int)l for a long l: keep the low 32 bits, two's complement.
function S.toint(l)
  local r = l % 4294967296
  if r >= 2147483648 then r = r - 4294967296 end
  return r
end

-- luaL_checkinteger (lua_tointeger, then an error if that gave 0 for a
-- non-number).
function S.checkinteger(api, name, narg, value, present)
  local n = tonumber(value)
  if n == nil then S.typeerror(api, name, narg, "number", value, present) end
  return tolong(n)
end

-- Return t[i..j] as multiple values: unpack alone stops near 8000.
local function spread(t, i, j)
  if j - i < 7900 then return unpack(t, i, j) end
  return t[i], t[i + 1], t[i + 2], t[i + 3], t[i + 4], t[i + 5], t[i + 6], t[i + 7],
         spread(t, i + 8, j)
end
S.spread = spread

-- 64-bit integers as (hi, lo) 32-bit halves --------------------------------
-- (uint64_t)d as gcc compiles it for x86-64: negative values through a signed
-- conversion, >= 2^64 (and inf) wrap to 0, NaN and < -2^63 give 2^63.
function S.to_u64(n)
  if n ~= n then return 2147483648, 0 end
  if n < 0 then
    if n < -9223372036854775808 then return 2147483648, 0 end
    local mag = -ceil(n)
    if mag == 0 then return 0, 0 end
    local mhi, mlo = floor(mag / 4294967296), mag % 4294967296
    if mlo == 0 then return (4294967296 - mhi) % 4294967296, 0 end
    return 4294967295 - mhi, 4294967296 - mlo
  end
  if n >= 18446744073709551616 then return 0, 0 end
  n = floor(n)
  return floor(n / 4294967296), n % 4294967296
end

-- (double)(uint64_t) and (double)(int64_t): one correctly rounded addition,
-- as the hardware conversion rounds once.
function S.u64(hi, lo) return hi * 4294967296 + lo end
function S.i64(hi, lo)
  if hi < 2147483648 then return hi * 4294967296 + lo end
  if lo == 0 then return -((4294967296 - hi) * 4294967296) end
  return -((4294967295 - hi) * 4294967296 + (4294967296 - lo))
end

-- IEEE 754 ---------------------------------------------------------------------
local function sign_of(d)
  if d ~= d then return tostring(d):sub(1, 1) == "-" end
  return d < 0 or (d == 0 and 1 / d < 0)
end

-- Big-endian bytes of a double.
function S.double_be(d)
  local s = sign_of(d) and 128 or 0
  if d ~= d then return char(s + 127, 248, 0, 0, 0, 0, 0, 0) end
  if d < 0 then d = -d end
  if d == huge then return char(s + 127, 240, 0, 0, 0, 0, 0, 0) end
  if d == 0 then return char(s, 0, 0, 0, 0, 0, 0, 0) end
  local m, e = frexp(d)
  local exp, mant
  if e >= -1021 then exp, mant = e + 1022, ldexp(m, 53) - 4503599627370496
  else exp, mant = 0, ldexp(d, 1074) end
  local top = floor(mant / 281474976710656)
  local rest = mant % 281474976710656
  local hi, lo = floor(rest / 4294967296), rest % 4294967296
  return char(s + floor(exp / 16), (exp % 16) * 16 + top,
              floor(hi / 256), hi % 256,
              floor(lo / 16777216), floor(lo / 65536) % 256, floor(lo / 256) % 256, lo % 256)
end

-- Big-endian bytes of (float)d, rounded to nearest even as the hardware does;
-- with exact_only, nil unless d converts without loss.
function S.float_be(d, exact_only)
  local s = sign_of(d) and 128 or 0
  if d ~= d then
    if exact_only then return nil end
    return char(s + 127, 192, 0, 0)
  end
  if d < 0 then d = -d end
  local bits
  if d == huge then bits = 2139095040
  elseif d == 0 then bits = 0
  else
    local m, e = frexp(d)
    local v, base
    if e > 128 then v, base = huge, 0
    elseif e >= -125 then v, base = ldexp(m, 24), (e + 125) * 8388608
    else v, base = ldexp(d, 149), 0 end
    if v == huge then
      if exact_only then return nil end
      bits = 2139095040
    else
      local f = floor(v)
      if f ~= v then
        if exact_only then return nil end
        local frac = v - f
        if frac > 0.5 or (frac == 0.5 and f % 2 == 1) then f = f + 1 end
      end
      -- A mantissa that rounds up to 2^24 carries into the exponent, and the
      -- largest one into infinity's bits: the sum handles both.
      bits = base + f
      if bits > 2139095040 then bits = 2139095040 end
    end
  end
  return char(s + floor(bits / 16777216), floor(bits / 65536) % 256,
              floor(bits / 256) % 256, bits % 256)
end

function S.from_double_be(b1, b2, b3, b4, b5, b6, b7, b8)
  local neg = b1 >= 128
  local exp = (b1 % 128) * 16 + floor(b2 / 16)
  local mant = ((b2 % 16) * 65536 + b3 * 256 + b4) * 4294967296
               + ((b5 * 256 + b6) * 256 + b7) * 256 + b8
  local v
  if exp == 2047 then
    if mant ~= 0 then return neg and S.NAN_NEG or S.NAN_POS end
    v = huge
  elseif exp == 0 then v = ldexp(mant, -1074)
  else v = ldexp(mant + 4503599627370496, exp - 1075) end
  if neg then v = -v end
  return v
end

function S.from_float_be(b1, b2, b3, b4)
  local neg = b1 >= 128
  local exp = (b1 % 128) * 2 + floor(b2 / 128)
  local mant = (b2 % 128) * 65536 + b3 * 256 + b4
  local v
  if exp == 255 then
    if mant ~= 0 then return neg and S.NAN_NEG or S.NAN_POS end
    v = huge
  elseif exp == 0 then v = ldexp(mant, -149)
  else v = ldexp(mant + 8388608, exp - 150) end
  if neg then v = -v end
  return v
end

-- C library behaviour ----------------------------------------------------------
-- How many characters glibc's strtod takes from s at p (0 if none): decimal,
-- hex ("0x1.8p3"), "inf"/"infinity", "nan" or "nan(chars)", after a sign.
function S.strtod_length(s, p)
  -- Most numbers are plain decimals: no inf/nan/hex to consider.
  local _, e = find(s, "^-?%d+%.?%d*", p)
  if e then
    local c = byte(s, e + 1)
    if c == 101 or c == 69 then
      local _, exp_end = find(s, "^[eE][+-]?%d+", e + 1)
      return (exp_end or e) + 1 - p
    end
    if c ~= 120 and c ~= 88 then return e + 1 - p end
  end
  local q = p
  local c = byte(s, q)
  if c == 43 or c == 45 then q = q + 1; c = byte(s, q) end
  if c == 105 or c == 73 or c == 110 or c == 78 then
    local word = lower(sub(s, q, q + 2))
    if word == "inf" then
      if lower(sub(s, q + 3, q + 7)) == "inity" then return q + 8 - p end
      return q + 3 - p
    elseif word == "nan" then
      local _, close = find(s, "^%([%w_]*%)", q + 3)
      return (close or q + 2) + 1 - p
    end
  end
  local hex = c == 48 and (byte(s, q + 1) == 120 or byte(s, q + 1) == 88)
  local digit, exponent = hex and "^%x*" or "^%d*", hex and "^[pP][+-]?%d+" or "^[eE][+-]?%d+"
  local r = hex and q + 2 or q
  _, e = find(s, digit, r)
  local ndigits = e - r + 1
  r = e + 1
  if byte(s, r) == 46 then
    _, e = find(s, digit, r + 1)
    ndigits = ndigits + e - r
    r = e + 1
  end
  if ndigits == 0 then
    if hex then return q + 1 - p end  -- just the "0" of "0x"
    return 0
  end
  _, e = find(s, exponent, r)
  if e then r = e + 1 end
  return r - p
end

-- a * b for C ints below 2^31, wrapping like the hardware: split b so every
-- partial product stays exact in a double.
function S.int_mul(a, b)
  local r = (a * (b % 65536) + (a * floor(b / 65536) % 65536) * 65536) % 4294967296
  if r > 2147483647 then r = r - 4294967296 end
  return r
end

-- UTF-8 bytes of a code point up to 0x10FFFF.
function S.utf8(cp)
  if cp <= 0x7F then return char(cp) end
  if cp <= 0x7FF then return char(floor(cp / 64) + 0xC0, cp % 64 + 0x80) end
  if cp <= 0xFFFF then
    return char(floor(cp / 4096) + 0xE0, floor(cp / 64) % 64 + 0x80, cp % 64 + 0x80)
  end
  return char(floor(cp / 262144) + 0xF0, floor(cp / 4096) % 64 + 0x80,
              floor(cp / 64) % 64 + 0x80, cp % 64 + 0x80)
end

return S
"""


def _compile(lua: Any, source: str) -> Any:
    result = lua.eval("loadstring")(source.encode(), CHUNK_NAME.encode())
    if isinstance(result, tuple):  # (nil, message)
        raise RuntimeError(f"Lua library failed to compile: {result[1]!r}")
    return result


def install(lua: LuaRuntime) -> None:
    """Create the globals ``cjson``, ``cmsgpack``, ``bit`` and ``struct`` in ``lua``.

    Call it on a fresh ``lupa.lua51.LuaRuntime`` before the sandbox removes
    ``debug``, ``newproxy`` and ``loadstring``: they are captured here (``debug``
    only to word errors as Redis does). Every string crosses as bytes.
    """
    support = _compile(lua, SUPPORT_LUA)(lua.eval("debug and debug.getinfo"))
    globals_ = lua.globals()
    for module in (cjson, struct, cmsgpack, bit):  # Redis's load order
        globals_[module.NAME.encode()] = module.build(lambda src: _compile(lua, src), support)
