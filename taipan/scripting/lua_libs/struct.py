"""``struct``: Roberto Ierusalimschy's struct library (Redis's lua_struct.c) in Lua.

Sizes and alignment are those of the x86-64 build Redis ships: native order is
little-endian, ``!`` alone aligns to 8, ``h`` is 2 bytes, ``i`` 4, ``l``/``L``/``T``
8, and ``iN`` goes up to 32 bytes. The C code's integer handling is kept to the
bit, including what x86 makes of its undefined corners: integers travel through
a 64-bit ``unsigned long`` (bytes past the eighth pack as zeros and unpack keeps
the low 64 bits), the sign mask of an ``iN`` wider than 8 bytes uses the shift
count modulo 64, and doubles outside the integer range convert as gcc's code
converts them. A missing pack argument reads as ``nil`` first (the C code pushes
a nil marker right after its arguments), then as "no value".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAME = "struct"

LUA_SOURCE = r"""
local S = ...
local select, tonumber, unpack = select, tonumber, unpack
local floor = math.floor
local byte, char, sub, find, rep, reverse, format =
      string.byte, string.char, string.sub, string.find, string.rep, string.reverse,
      string.format
local concat = table.concat

local INT_MAX, MAXALIGN, MAXINTSIZE = 2147483647, 8, 32
local MAXCSTACK = 8000  -- LUAI_MAXCSTACK: lua_checkstack's limit
local B_, C_, S_, I_, U_, X_, F_, D_ = 98, 99, 115, 105, 73, 120, 102, 100
local SIZES = {[B_] = 1, [66] = 1, [104] = 2, [72] = 2, [108] = 8, [76] = 8, [84] = 8,
               [F_] = 4, [D_] = 8, [X_] = 1}  -- b B h H l L T f d x
local INTEGER = {[B_] = true, [66] = true, [104] = true, [72] = true, [108] = true,
                 [76] = true, [84] = true, [I_] = true, [U_] = true}
local SIGNED = {[B_] = true, [104] = true, [108] = true, [I_] = true}

local function isdigit(c) return c ~= nil and c >= 48 and c <= 57 end

-- A number in the format at i (or the default), and where the format goes on.
local function getnum(api, fmt, i, default)
  local c = byte(fmt, i)
  if not isdigit(c) then return default, i end
  local a = 0
  repeat
    local digit = c - 48
    if a > floor(INT_MAX / 10) or a * 10 > INT_MAX - digit then
      S.raise(api, "integral size overflow")
    end
    a = a * 10 + digit
    i = i + 1
    c = byte(fmt, i)
  until not isdigit(c)
  return a, i
end

local function optsize(api, opt, fmt, i)
  local size = SIZES[opt]
  if size then return size, i end
  -- getnum can raise: not a tail call, so the caller's frames stay visible.
  if opt == C_ then
    size, i = getnum(api, fmt, i, 1)
    return size, i
  end
  if opt == I_ or opt == U_ then
    size, i = getnum(api, fmt, i, 4)
    if size > MAXINTSIZE then
      S.raise(api, format("integral size %d is larger than limit of %d", size, MAXINTSIZE))
    end
    return size, i
  end
  return 0, i
end

-- x & m for x >= 0 and a mask m below 32.
local function band(x, m)
  local r, bitv = 0, 1
  while m > 0 do
    if m % 2 == 1 and x % 2 == 1 then r = r + bitv end
    x, m, bitv = floor(x / 2), floor(m / 2), bitv * 2
  end
  return r
end

-- Padding before an item; the C formula also runs for sizes that are not
-- powers of two (i3 under !8), with its odd results.
local function gettoalign(len, align, opt, size)
  if size == 0 or opt == C_ then return 0 end
  if size > align then size = align end
  return band(size - band(len, size - 1), size - 1)
end

-- ' ', '<', '>', '!n'; anything else is a bad option. Returns little, align, i.
local function control(api, name, opt, fmt, i, little, align)
  if opt == 32 then return little, align, i end
  if opt == 62 then return false, align, i end
  if opt == 60 then return true, align, i end
  if opt == 33 then
    local a
    a, i = getnum(api, fmt, i, MAXALIGN)
    local p = a
    while p > 1 and p % 2 == 0 do p = p / 2 end
    if a <= 0 or p ~= 1 then S.raise(api, format("alignment %d is not a power of 2", a)) end
    return little, a, i
  end
  S.argerror(api, name, 1, "invalid format option '" .. char(opt) .. "'")
end

-- The format as C sees it: up to the first NUL.
local function checkformat(api, name, value, nargs)
  local fmt = S.checkstring(api, name, 1, value, nargs >= 1)
  local z = find(fmt, "\0", 1, true)
  if z then return sub(fmt, 1, z - 1) end
  return fmt
end

local function putinteger(n, little, size)
  local hi, lo = S.to_u64(n)
  local b = {}
  for k = 1, size do
    if k <= 4 then b[k] = lo % 256; lo = floor(lo / 256)
    elseif k <= 8 then b[k] = hi % 256; hi = floor(hi / 256)
    else b[k] = 0 end
  end
  local s = char(unpack(b, 1, size))
  if little then return s end
  return reverse(s)
end

local function getinteger(data, at, little, signed, size)
  local keep = size < 8 and size or 8
  local first = little and at or at + size - keep  -- the 8 least significant bytes
  local b = {byte(data, first, first + keep - 1)}
  local hi, lo, scale = 0, 0, 1
  for k = 1, keep do
    local v = little and b[k] or b[keep + 1 - k]
    if k <= 4 then lo = lo + v * scale else hi = hi + v * (scale / 4294967296) end
    scale = scale * 256
  end
  if not signed then return S.u64(hi, lo) end
  local c = (size * 8 - 1) % 64  -- x86 masks the shift count
  if c >= 32 then
    local limit = 2 ^ (c - 32)
    if hi >= limit then return (hi % limit - limit) * 4294967296 + lo end
  else
    local limit = 2 ^ c
    if hi > 0 or lo >= limit then return lo % limit - limit end
  end
  return S.u64(hi, lo)
end

local struct = {}

local pack
pack = function(...)
  local nargs = select("#", ...)
  local args = {...}
  local fmt = checkformat(pack, "pack", args[1], nargs)
  local little, align = true, 1
  local out, n = {}, 0
  local total, arg = 0, 2
  local i, flen = 1, #fmt
  while i <= flen do
    local opt = byte(fmt, i)
    local size
    size, i = optsize(pack, opt, fmt, i + 1)
    local toalign = gettoalign(total, align, opt, size)
    total = total + toalign
    if toalign > 0 then n = n + 1; out[n] = rep("\0", toalign) end
    if INTEGER[opt] or opt == F_ or opt == D_ then
      local v = args[arg]
      local num = tonumber(v)
      if num == nil then S.typeerror(pack, "pack", arg, "number", v, arg <= nargs + 1) end
      arg = arg + 1
      local s
      if opt == F_ then s = reverse(S.float_be(num))
      elseif opt == D_ then s = reverse(S.double_be(num))
      else s = putinteger(num, true, size) end
      if not little then s = reverse(s) end
      n = n + 1; out[n] = s
    elseif opt == X_ then
      n = n + 1; out[n] = "\0"
    elseif opt == C_ or opt == S_ then
      local s = S.checkstring(pack, "pack", arg, args[arg], arg <= nargs + 1)
      arg = arg + 1
      local l = #s
      if size == 0 then size = l end
      -- Checked after moving past the argument: the C code names the next one.
      if l < size then S.argerror(pack, "pack", arg, "string too short") end
      n = n + 1; out[n] = sub(s, 1, size)
      if opt == S_ then
        n = n + 1; out[n] = "\0"
        size = size + 1
      end
    else
      little, align, i = control(pack, "pack", opt, fmt, i, little, align)
    end
    total = total + size
  end
  return concat(out)
end
struct.pack = pack

local unpack_
unpack_ = function(...)
  local nargs = select("#", ...)
  local f, data, init = ...
  local fmt = checkformat(unpack_, "unpack", f, nargs)
  data = S.checkstring(unpack_, "unpack", 2, data, nargs >= 2)
  local ld = #data
  local pos = 1
  if init ~= nil then pos = S.checkinteger(unpack_, "unpack", 3, init, true) end
  if pos == 0 then S.argerror(unpack_, "unpack", 3, "offset must be 1 or greater") end
  if fmt == "" then return pos end
  -- A negative offset is a huge size_t in C: the first length check fails.
  local beyond = pos < 0
  pos = pos - 1
  local little, align = true, 1
  local res, n = {}, 0
  local i, flen = 1, #fmt
  while i <= flen do
    local opt = byte(fmt, i)
    local size
    size, i = optsize(unpack_, opt, fmt, i + 1)
    if not beyond then pos = pos + gettoalign(pos, align, opt, size) end
    if beyond or size > ld or pos > ld - size then
      S.argerror(unpack_, "unpack", 2, "data string too short")
    end
    if nargs + n + 2 > MAXCSTACK then S.raise(unpack_, "stack overflow (too many results)") end
    if INTEGER[opt] then
      n = n + 1; res[n] = getinteger(data, pos + 1, little, SIGNED[opt] == true, size)
    elseif opt == F_ then
      local b1, b2, b3, b4 = byte(data, pos + 1, pos + 4)
      if little then b1, b2, b3, b4 = b4, b3, b2, b1 end
      n = n + 1; res[n] = S.from_float_be(b1, b2, b3, b4)
    elseif opt == D_ then
      local b1, b2, b3, b4, b5, b6, b7, b8 = byte(data, pos + 1, pos + 8)
      if little then b1, b2, b3, b4, b5, b6, b7, b8 = b8, b7, b6, b5, b4, b3, b2, b1 end
      n = n + 1; res[n] = S.from_double_be(b1, b2, b3, b4, b5, b6, b7, b8)
    elseif opt == C_ then
      if size == 0 then
        local prev = n > 0 and tonumber(res[n]) or nil
        if prev == nil then S.raise(unpack_, "format 'c0' needs a previous size") end
        local hi, lo = S.to_u64(prev)  -- (size_t)lua_Number
        res[n] = nil
        n = n - 1
        if hi > 0 or lo > ld or pos > ld - lo then
          S.argerror(unpack_, "unpack", 2, "data string too short")
        end
        size = lo
      end
      n = n + 1; res[n] = sub(data, pos + 1, pos + size)
    elseif opt == S_ then
      local z = find(data, "\0", pos + 1, true)
      if z == nil then S.raise(unpack_, "unfinished string in data") end
      size = z - pos
      n = n + 1; res[n] = sub(data, pos + 1, z - 1)
    elseif opt ~= X_ then
      little, align, i = control(unpack_, "unpack", opt, fmt, i, little, align)
    end
    pos = pos + size
  end
  n = n + 1; res[n] = pos + 1
  return S.spread(res, 1, n)
end
struct.unpack = unpack_

local size_
size_ = function(...)
  local nargs = select("#", ...)
  local fmt = checkformat(size_, "size", (...), nargs)
  local little, align = true, 1
  local pos = 0
  local i, flen = 1, #fmt
  while i <= flen do
    local opt = byte(fmt, i)
    local size
    size, i = optsize(size_, opt, fmt, i + 1)
    pos = pos + gettoalign(pos, align, opt, size)
    if opt == S_ then
      S.argerror(size_, "size", 1, "option 's' has no fixed size")
    elseif opt == C_ and size == 0 then
      S.argerror(size_, "size", 1, "option 'c0' has no fixed size")
    end
    -- Only non-alphanumeric options are looked at: unknown letters count 0.
    if not find(char(opt), "^%w") then
      little, align, i = control(size_, "size", opt, fmt, i, little, align)
    end
    pos = pos + size
  end
  return pos
end
struct.size = size_

return struct
"""


def build(compile_chunk: Callable[[str], Any], support: Any) -> Any:
    """The ``struct`` table, given the package's chunk compiler and support table."""
    return compile_chunk(LUA_SOURCE)(support)
