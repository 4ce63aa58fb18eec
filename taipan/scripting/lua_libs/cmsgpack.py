"""``cmsgpack``: lua-cmsgpack 0.4.0 (Redis's lua_cmsgpack.c) in plain Lua.

What a script can observe is kept: a number is packed as the smallest integer
encoding when it is an integer in int64 range (so -0.0 packs as 0), else as a
float32 when that is exact, else as a float64; a table is an array when its keys
are exactly 1..n (n within int range), else a map; tables nested 16 deep pack as
nil, as do functions, userdata and threads. Unpacking accepts the encodings the
C code knows (no bin/ext types: "Bad data format in input."), reads uint64 as
int64 as the C code's ``lua_pushinteger`` does, and fails on a nil or NaN map key
with Lua's own "table index is ..." message. Lua's C stack limit (8000 slots)
is tracked as the C code would hit it, so very long streams fail with Redis's
"too many return values" error rather than somewhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAME = "cmsgpack"

LUA_SOURCE = r"""
local S = ...
local type, select, next, tostring = type, select, next, tostring
local floor = math.floor
local byte, char, sub, format = string.byte, string.char, string.sub, string.format
local concat = table.concat

local MAXCSTACK = 8000  -- LUAI_MAXCSTACK: lua_checkstack's limit
local MAX_NESTING = 16
local TWO32, TWO63 = 4294967296, 9223372036854775808

-- Filled in the C code's order, which decides the order pairs() sees.
local cmsgpack = {}

local function be16(n) return char(floor(n / 256), n % 256) end
local function be32(n)
  return char(floor(n / 16777216), floor(n / 65536) % 256, floor(n / 256) % 256, n % 256)
end

local function encode_int(n)
  if n >= 0 then
    if n <= 127 then return char(n) end
    if n <= 255 then return "\204" .. char(n) end
    if n <= 65535 then return "\205" .. be16(n) end
    if n <= 4294967295 then return "\206" .. be32(n) end
    return "\207" .. be32(floor(n / TWO32)) .. be32(n % TWO32)
  end
  if n >= -32 then return char(n + 256) end
  if n >= -128 then return "\208" .. char(n + 256) end
  if n >= -32768 then return "\209" .. be16(n + 65536) end
  if n >= -2147483648 then return "\210" .. be32(n + TWO32) end
  return "\211" .. be32(floor(n / TWO32) + TWO32) .. be32(n % TWO32)
end

local function encode_number(n)
  -- IS_INT64_EQUIVALENT: finite and (int64_t)n == n.
  if n == n and n >= -TWO63 and n < TWO63 and floor(n) == n then return encode_int(n) end
  local f = S.float_be(n, true)
  if f then return "\202" .. f end
  return "\203" .. S.double_be(n)
end

local function encode_string(s)
  local len = #s
  if len < 32 then return char(160 + len) .. s end
  if len <= 255 then return "\217" .. char(len) .. s end
  if len <= 65535 then return "\218" .. be16(len) .. s end
  return "\219" .. be32(len) .. s
end

local function header(len, fix, h16, h32)
  if len <= 15 then return char(fix + len) end
  if len <= 65535 then return h16 .. be16(len) end
  return h32 .. be32(len)
end

-- Keys exactly 1..count: positive numbers that are ints ((int)n == n).
local function is_array(t)
  local count, max = 0, 0
  for k in next, t do
    if type(k) ~= "number" or k <= 0 or k > 2147483647 or floor(k) ~= k then
      return false
    end
    if k > max then max = k end
    count = count + 1
  end
  return max == count
end

local encode
encode = function(v, level, out, n)
  local t = type(v)
  if t == "table" and level == MAX_NESTING then t = "nil" end
  if t == "string" then
    n = n + 1; out[n] = encode_string(v)
  elseif t == "boolean" then
    n = n + 1; out[n] = v and "\195" or "\194"
  elseif t == "number" then
    n = n + 1; out[n] = encode_number(v)
  elseif t == "table" then
    if is_array(v) then
      local len = #v
      n = n + 1; out[n] = header(len, 144, "\220", "\221")
      for j = 1, len do n = encode(v[j], level + 1, out, n) end  -- lua_gettable
    else
      local len = 0
      for _ in next, v do len = len + 1 end
      n = n + 1; out[n] = header(len, 128, "\222", "\223")
      for key, val in next, v do
        n = encode(key, level + 1, out, n)
        n = encode(val, level + 1, out, n)
      end
    end
  else
    n = n + 1; out[n] = "\192"
  end
  return n
end

local pack
pack = function(...)
  local nargs = select("#", ...)
  if nargs == 0 then S.argerror(pack, "pack", 0, "MessagePack pack needs input.") end
  if nargs + nargs > MAXCSTACK then
    S.argerror(pack, "pack", 0, "Too many arguments for MessagePack pack.")
  end
  local out, n = {}, 0
  if nargs == 1 then
    n = encode((...), 0, out, n)
  else
    local args = {...}
    for i = 1, nargs do n = encode(args[i], 0, out, n) end
  end
  return concat(out, "", 1, n)
end
cmsgpack.pack = pack

-- Decoding ------------------------------------------------------------------
local EOF, BADFMT = "Missing bytes in input.", "Bad data format in input."
local STACK_MSG = "stack overflow (too many return values at once; "
                  .. "use unpack_one or unpack_limit instead.)"
local api  -- the unpack function running (decoding never re-enters it)
local data, len

local decode

local function u32(p)
  local b1, b2, b3, b4 = byte(data, p, p + 3)
  return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
end

local function need(p, count)
  if len - p + 1 < count then S.raise(api, EOF) end
end

-- `top` is the height of the C function's stack before the value is pushed.
local function decode_array(p, count, top)
  local t = {}
  if top + 2 > MAXCSTACK then S.raise(api, "stack overflow (in function mp_decode_to_lua_array)") end
  for i = 1, count do
    local v
    v, p = decode(p, top + 2)
    t[i] = v
  end
  return t, p
end

local function decode_map(p, count, top)
  local t = {}
  for _ = 1, count do
    local k, v
    k, p = decode(p, top + 1)
    v, p = decode(p, top + 2)
    -- lua_settable from C: the message carries no position.
    if k == nil then error("table index is nil", 0) end
    if k ~= k then error("table index is NaN", 0) end
    t[k] = v
  end
  return t, p
end

local function i64_at(p)
  return S.i64(u32(p), u32(p + 4))
end

decode = function(p, top)
  need(p, 1)
  if top + 1 > MAXCSTACK then S.raise(api, STACK_MSG) end
  local c = byte(data, p)
  if c < 128 then return c, p + 1 end
  if c >= 224 then return c - 256, p + 1 end
  -- Containers are not tail called: a "(tail call)" frame would stop the
  -- scripting core's error handler short of the user's line.
  local t
  if c < 144 then t, p = decode_map(p + 1, c - 128, top) return t, p end
  if c < 160 then t, p = decode_array(p + 1, c - 144, top) return t, p end
  if c < 192 then
    local l = c - 160
    need(p, 1 + l)
    return sub(data, p + 1, p + l), p + 1 + l
  end
  if c == 192 then return nil, p + 1 end
  if c == 194 then return false, p + 1 end
  if c == 195 then return true, p + 1 end
  if c == 204 then need(p, 2); return byte(data, p + 1), p + 2 end
  if c == 208 then
    need(p, 2)
    local b = byte(data, p + 1)
    return b >= 128 and b - 256 or b, p + 2
  end
  if c == 205 or c == 209 then
    need(p, 3)
    local b1, b2 = byte(data, p + 1, p + 2)
    local v = b1 * 256 + b2
    if c == 209 and v >= 32768 then v = v - 65536 end
    return v, p + 3
  end
  if c == 206 or c == 210 then
    need(p, 5)
    local v = u32(p + 1)
    if c == 210 and v >= 2147483648 then v = v - TWO32 end
    return v, p + 5
  end
  if c == 207 or c == 211 then need(p, 9); return i64_at(p + 1), p + 9 end
  if c == 202 then need(p, 5); return S.from_float_be(byte(data, p + 1, p + 4)), p + 5 end
  if c == 203 then need(p, 9); return S.from_double_be(byte(data, p + 1, p + 8)), p + 9 end
  if c == 217 then
    need(p, 2)
    local l = byte(data, p + 1)
    need(p, 2 + l)
    return sub(data, p + 2, p + 1 + l), p + 2 + l
  end
  if c == 218 then
    need(p, 3)
    local b1, b2 = byte(data, p + 1, p + 2)
    local l = b1 * 256 + b2
    need(p, 3 + l)
    return sub(data, p + 3, p + 2 + l), p + 3 + l
  end
  if c == 219 then
    need(p, 5)
    local l = u32(p + 1)
    need(p + 5, l)
    return sub(data, p + 5, p + 4 + l), p + 5 + l
  end
  if c == 220 or c == 222 then
    need(p, 3)
    local b1, b2 = byte(data, p + 1, p + 2)
    local l = b1 * 256 + b2
    if c == 220 then t, p = decode_array(p + 3, l, top) else t, p = decode_map(p + 3, l, top) end
    return t, p
  end
  if c == 221 or c == 223 then
    need(p, 5)
    local l = u32(p + 1)
    if c == 221 then t, p = decode_array(p + 5, l, top) else t, p = decode_map(p + 5, l, top) end
    return t, p
  end
  S.raise(api, BADFMT)
end

-- mp_unpack_full: the results in a table (the next offset first unless
-- decoding everything) and their count. `base` is the C stack height before
-- any result.
local function unpack_full(fn, s, limit, offset, base)
  local slen = #s
  if offset < 0 or limit < 0 then
    S.raise(fn, format("Invalid request to unpack with offset of %d and limit of %d.",
                       S.toint(offset), S.toint(slen)))
  elseif offset > slen then
    S.raise(fn, format("Start offset %d greater than input length %d.",
                       S.toint(offset), S.toint(slen)))
  end
  local decode_all = limit == 0 and offset == 0
  if decode_all then limit = 2147483647 end
  api, data, len = fn, s, slen
  local res, first = {}, decode_all and 1 or 2
  local cnt, p = 0, offset + 1
  while p <= slen and cnt < limit do
    res[first + cnt], p = decode(p, base + cnt)
    cnt = cnt + 1
  end
  data = nil
  if decode_all then return res, cnt end
  if base + cnt + 1 > MAXCSTACK then S.raise(fn, "stack overflow (in function mp_unpack_full)") end
  res[1] = (p > slen) and -1 or p - 1
  return res, cnt + 1
end

-- The library functions call unpack_full without a tail call, so that errors
-- find their frame; S.spread, which cannot fail, may be tail called.
local unpack_
unpack_ = function(...)
  local nargs = select("#", ...)
  local s = S.checkstring(unpack_, "unpack", 1, (...), nargs >= 1)
  local res, cnt = unpack_full(unpack_, s, 0, 0, nargs)
  return S.spread(res, 1, cnt)
end
cmsgpack.unpack = unpack_

local unpack_one
unpack_one = function(...)
  local nargs = select("#", ...)
  local s, off = ...
  local offset = 0
  if off ~= nil then offset = S.checkinteger(unpack_one, "unpack_one", 2, off, true) end
  s = S.checkstring(unpack_one, "unpack_one", 1, s, nargs >= 1)
  local res, cnt = unpack_full(unpack_one, s, 1, offset, 1)
  return S.spread(res, 1, cnt)
end
cmsgpack.unpack_one = unpack_one

local unpack_limit
unpack_limit = function(...)
  local nargs = select("#", ...)
  local s, lim, off = ...
  local limit = S.checkinteger(unpack_limit, "unpack_limit", 2, lim, nargs >= 2)
  local offset = 0
  if off ~= nil then offset = S.checkinteger(unpack_limit, "unpack_limit", 3, off, true) end
  s = S.checkstring(unpack_limit, "unpack_limit", 1, s, nargs >= 1)
  local res, cnt = unpack_full(unpack_limit, s, limit, offset, 1)
  return S.spread(res, 1, cnt)
end
cmsgpack.unpack_limit = unpack_limit
cmsgpack._NAME = "cmsgpack"
cmsgpack._VERSION = "lua-cmsgpack 0.4.0"
cmsgpack._COPYRIGHT = "Copyright (C) 2012, Salvatore Sanfilippo"
cmsgpack._DESCRIPTION = "MessagePack C implementation for Lua"

return cmsgpack
"""


def build(compile_chunk: Callable[[str], Any], support: Any) -> Any:
    """The ``cmsgpack`` table, given the package's chunk compiler and support table."""
    return compile_chunk(LUA_SOURCE)(support)
