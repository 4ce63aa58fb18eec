"""``cjson``: Lua CJSON 2.1.0 as patched in Redis (lua_cjson.c) in plain Lua.

Encoding follows the C code's choices: a table is an array when all keys are
positive integers (holes become ``null``) unless it is "excessively sparse";
numbers print with ``%.14g`` (``encode_number_precision``); ``/`` is escaped and
bytes >= 0x80 pass through untouched, valid UTF-8 or not. Decoding is the C
tokenizer: numbers are whatever ``strtod`` accepts (hex, ``inf``, ``nan``, a
leading ``+``) unless ``decode_invalid_numbers`` is off, the input ends at its
first NUL byte, and errors name the token the parser found and where.

The configuration lives in each module table's closures, so it persists across
scripts until the Lua state is recreated, and ``cjson.new()`` makes an
independent copy, as in Redis. ``cjson.null`` is a userdata shared by every copy.
The depth limits also apply Lua's C stack limit the way the C code meets it
(``lua_checkstack`` fails past 8000 slots), for scripts that raise the limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAME = "cjson"

LUA_SOURCE = r"""
local S = ...
local type, select, next, pairs, ipairs, rawget, tonumber, unpack =
      type, select, next, pairs, ipairs, rawget, tonumber, unpack
local floor, huge = math.floor, math.huge
local byte, char, sub, find, gsub, lower, format =
      string.byte, string.char, string.sub, string.find, string.gsub, string.lower,
      string.format
local concat = table.concat
local NULL = S.NULL
local strtod_length, int_mul, utf8 = S.strtod_length, S.int_mul, S.utf8
local MAXCSTACK = 8000  -- LUAI_MAXCSTACK: lua_checkstack's limit
local INT_MAX = 2147483647

local ESCAPES = {["\""] = "\\\"", ["\\"] = "\\\\", ["/"] = "\\/", ["\127"] = "\\u007f",
                 ["\b"] = "\\b", ["\t"] = "\\t", ["\n"] = "\\n", ["\f"] = "\\f",
                 ["\r"] = "\\r"}
for c = 0, 31 do
  local ch = char(c)
  if ESCAPES[ch] == nil then ESCAPES[ch] = format("\\u%04x", c) end
end
local ESCAPE_PATTERN = "[%z\1-\31\"/\\\127]"

local function quote(s)
  if find(s, ESCAPE_PATTERN) then s = gsub(s, ESCAPE_PATTERN, ESCAPES) end
  return "\"" .. s .. "\""
end

-- Decoder tables ----------------------------------------------------------------
local TOKEN = {}  -- single-character tokens; nil means "invalid token"
TOKEN[123], TOKEN[125], TOKEN[91], TOKEN[93] = "T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END"
TOKEN[44], TOKEN[58] = "T_COMMA", "T_COLON"
for _, c in ipairs({102, 105, 73, 110, 78, 116, 34, 43, 45}) do TOKEN[c] = "unknown" end
for c = 48, 57 do TOKEN[c] = "unknown" end
local UNESCAPE = {[34] = "\"", [92] = "\\", [47] = "/", [98] = "\b", [116] = "\t",
                  [110] = "\n", [102] = "\f", [114] = "\r"}

local function new_module()
  -- Defaults of the C code's json_config_t.
  local cfg = {sparse_convert = 0, sparse_ratio = 2, sparse_safe = 10, encode_max_depth = 1000,
               decode_max_depth = 1000, encode_invalid = 0, decode_invalid = 1,
               keep_buffer = 1, precision = 14}
  local number_fmt = "%.14g"

  -- Encoding ------------------------------------------------------------------
  local encode
  local out, n  -- the output being built (encoding never re-enters itself)

  local function exception(value, reason)
    S.raise(encode, format("Cannot serialise %s: %s", type(value), reason))
  end

  local function number_text(num)
    if num ~= num or num == huge or num == -huge then
      if cfg.encode_invalid == 0 then exception(num, "must not be NaN or Inf") end
      if cfg.encode_invalid == 2 then return "null" end
      if num ~= num then return "nan" end  -- not "-nan"
    end
    return format(number_fmt, num)
  end

  -- lua_array_length: the largest key, or -1 for an object.
  local function array_length(t)
    local max, items = 0, 0
    for k in next, t do
      if type(k) ~= "number" or k < 1 or floor(k) ~= k then return -1 end
      -- `max` is a C int: larger keys store INT_MIN (x86's conversion result).
      if k > max then max = k > INT_MAX and -2147483648 or k end
      items = items + 1
    end
    if cfg.sparse_ratio > 0 and max > int_mul(items, cfg.sparse_ratio) and max > cfg.sparse_safe then
      if cfg.sparse_convert == 0 then exception(t, "excessively sparse array") end
      return -1
    end
    return max
  end

  -- `top` is the height of the C function's stack with the value on it.
  local function append(v, depth, top)
    local t = type(v)
    if t == "string" then n = n + 1; out[n] = quote(v)
    elseif t == "number" then n = n + 1; out[n] = number_text(v)
    elseif t == "boolean" then n = n + 1; out[n] = v and "true" or "false"
    elseif t == "table" then
      depth = depth + 1
      if depth > cfg.encode_max_depth or top + 3 > MAXCSTACK then
        S.raise(encode, format("Cannot serialise, excessive nesting (%d)", depth))
      end
      local len = array_length(v)
      if len > 0 then
        n = n + 1; out[n] = "["
        for i = 1, len do
          if i > 1 then n = n + 1; out[n] = "," end
          append(rawget(v, i), depth, top + 1)
        end
        n = n + 1; out[n] = "]"
      else
        n = n + 1; out[n] = "{"
        local comma = false
        for key, value in next, v do
          n = n + 1; out[n] = comma and "," or ""
          comma = true
          local kt = type(key)
          if kt == "number" then n = n + 1; out[n] = "\"" .. number_text(key) .. "\":"
          elseif kt == "string" then n = n + 1; out[n] = quote(key) .. ":"
          else exception(key, "table key must be a number or string") end
          append(value, depth, top + 2)
        end
        n = n + 1; out[n] = "}"
      end
    elseif t == "nil" or v == NULL then n = n + 1; out[n] = "null"
    else exception(v, "type not supported") end
  end

  encode = function(...)
    if select("#", ...) ~= 1 then S.argerror(encode, "encode", 1, "expected 1 argument") end
    local v = ...
    local t = type(v)
    if t == "string" then return quote(v) end
    if t == "number" then
      local text = number_text(v)  -- not a tail call: errors need this frame
      return text
    end
    out, n = {}, 0
    append(v, 0, 1)
    local result = concat(out, "", 1, n)
    out = nil
    return result
  end

  -- Decoding ------------------------------------------------------------------
  local decode
  local str, len  -- the text being decoded (decoding never re-enters itself)

  -- json_is_invalid_number: what strict JSON forbids but strtod takes.
  local function invalid_number(p)
    local c = byte(str, p)
    if c == 43 then return true end
    if c == 45 then p = p + 1; c = byte(str, p) end
    if c == 48 then
      local c2 = byte(str, p + 1)
      return c2 == 120 or c2 == 88 or (c2 ~= nil and c2 >= 48 and c2 <= 57)
    end
    -- A char is signed on x86: bytes >= 0x80 count as "<= '9'" too.
    if c == nil or c <= 57 or c >= 128 then return false end
    local word = lower(sub(str, p, p + 2))
    return word == "inf" or word == "nan"
  end

  -- Tokens are (type, value, next position, position reported in errors).
  local function number_token(p)
    local l = strtod_length(str, p)
    if l == 0 then return "T_ERROR", "invalid number", p, p end
    return "T_NUMBER", tonumber(sub(str, p, p + l - 1)), p + l, p
  end

  local function string_token(p)
    local e = find(str, "[\"\\]", p + 1)
    if e and byte(str, e) == 34 then return "T_STRING", sub(str, p + 1, e - 1), e + 1, p end
    local parts, np = {}, 0
    local q = p + 1
    while true do
      if e == nil then return "T_ERROR", "unexpected end of string", len + 1, len + 1 end
      if e > q then np = np + 1; parts[np] = sub(str, q, e - 1) end
      if byte(str, e) == 34 then return "T_STRING", concat(parts, "", 1, np), e + 1, p end
      local c = byte(str, e + 1)
      local plain = UNESCAPE[c]
      if plain then
        np = np + 1; parts[np] = plain
        q = e + 2
      elseif c == 117 then
        local cp = find(str, "^%x%x%x%x", e + 2) and tonumber(sub(str, e + 2, e + 5), 16)
        local used = 6
        if cp and cp >= 0xD800 and cp <= 0xDFFF then
          -- Only a high surrogate followed by an escaped low one is valid.
          local low = cp < 0xDC00 and sub(str, e + 6, e + 7) == "\\u"
                      and find(str, "^%x%x%x%x", e + 8) and tonumber(sub(str, e + 8, e + 11), 16)
          if low and low >= 0xDC00 and low <= 0xDFFF then
            cp, used = (cp - 0xD800) * 1024 + (low - 0xDC00) + 0x10000, 12
          else
            cp = nil
          end
        end
        if cp == nil then return "T_ERROR", "invalid unicode escape code", e, e end
        np = np + 1; parts[np] = utf8(cp)
        q = e + used
      else
        return "T_ERROR", "invalid escape code", e, e
      end
      e = find(str, "[\"\\]", q)
    end
  end

  local function next_token(p)
    local c = byte(str, p)
    if c == 32 or c == 9 or c == 10 or c == 13 then
      p = find(str, "[^ \t\n\r]", p) or len + 1
      c = byte(str, p)
    end
    if c == nil then return "T_END", nil, p, p end
    local tt = TOKEN[c]
    if tt == nil then return "T_ERROR", "invalid token", p, p end
    if tt ~= "unknown" then return tt, nil, p + 1, p end
    if c == 34 then return string_token(p) end
    if c == 45 or (c >= 48 and c <= 57) then
      if cfg.decode_invalid == 0 and invalid_number(p) then
        return "T_ERROR", "invalid number", p, p
      end
      return number_token(p)
    end
    local word = sub(str, p, p + 4)
    if sub(word, 1, 4) == "true" then return "T_BOOLEAN", true, p + 4, p end
    if word == "false" then return "T_BOOLEAN", false, p + 5, p end
    if sub(word, 1, 4) == "null" then return "T_NULL", NULL, p + 4, p end
    if cfg.decode_invalid == 1 and invalid_number(p) then return number_token(p) end
    return "T_ERROR", "invalid token", p, p
  end

  local function unexpected(expected, tt, value, at)
    S.raise(decode, format("Expected %s but found %s at character %d",
                           expected, tt == "T_ERROR" and value or tt, at))
  end

  -- json_decode_descend: the container's bracket is just before p.
  local function descend(depth, top, slots, p)
    if depth > cfg.decode_max_depth or top + slots > MAXCSTACK then
      S.raise(decode, format("Found too many nested data structures (%d) at character %d",
                             depth, p - 1))
    end
  end

  local parse_object, parse_array
  -- `top` is the height of the C function's stack before the value is pushed.
  -- No tail calls on paths that can raise: a "(tail call)" frame would stop
  -- the scripting core's error handler short of the user's line.
  local function parse_value(tt, value, p, at, depth, top)
    if tt == "T_STRING" or tt == "T_NUMBER" or tt == "T_BOOLEAN" or tt == "T_NULL" then
      return value, p
    end
    local t
    if tt == "T_OBJ_BEGIN" then t, p = parse_object(p, depth + 1, top)
    elseif tt == "T_ARR_BEGIN" then t, p = parse_array(p, depth + 1, top)
    else unexpected("value", tt, value, at) end
    return t, p
  end

  parse_object = function(p, depth, top)
    descend(depth, top, 3, p)
    local t = {}
    local tt, value, at
    tt, value, p, at = next_token(p)
    if tt == "T_OBJ_END" then return t, p end
    while true do
      if tt ~= "T_STRING" then unexpected("object key string", tt, value, at) end
      local key = value
      tt, value, p, at = next_token(p)
      if tt ~= "T_COLON" then unexpected("colon", tt, value, at) end
      tt, value, p, at = next_token(p)
      t[key], p = parse_value(tt, value, p, at, depth, top + 2)
      tt, value, p, at = next_token(p)
      if tt == "T_OBJ_END" then return t, p end
      if tt ~= "T_COMMA" then unexpected("comma or object end", tt, value, at) end
      tt, value, p, at = next_token(p)
    end
  end

  parse_array = function(p, depth, top)
    descend(depth, top, 2, p)
    local t = {}
    local tt, value, at
    tt, value, p, at = next_token(p)
    if tt == "T_ARR_END" then return t, p end
    local i = 1
    while true do
      t[i], p = parse_value(tt, value, p, at, depth, top + 1)
      tt, value, p, at = next_token(p)
      if tt == "T_ARR_END" then return t, p end
      if tt ~= "T_COMMA" then unexpected("comma or array end", tt, value, at) end
      tt, value, p, at = next_token(p)
      i = i + 1
    end
  end

  decode = function(...)
    local nargs = select("#", ...)
    if nargs ~= 1 then S.argerror(decode, "decode", 1, "expected 1 argument") end
    local s = S.checkstring(decode, "decode", 1, (...), true)
    if #s >= 2 and (byte(s, 1) == 0 or byte(s, 2) == 0) then
      S.raise(decode, "JSON parser does not support UTF-16 or UTF-32")
    end
    -- The C parser walks a NUL-terminated buffer.
    local z = find(s, "\0", 1, true)
    if z then s = sub(s, 1, z - 1) end
    str, len = s, #s
    local tt, value, p, at = next_token(1)
    local result
    result, p = parse_value(tt, value, p, at, 0, 1)
    tt, value, p, at = next_token(p)
    if tt ~= "T_END" then unexpected("the end", tt, value, at) end
    str = nil
    return result
  end

  -- Configuration -------------------------------------------------------------
  -- json_integer_option and json_enum_option; `idx` is the argument checked.
  local function integer_option(api, name, idx, value, current, min, max)
    if value == nil then return current, current end
    local v = S.toint(S.checkinteger(api, name, idx, value, true))
    if v < min or v > max then  -- the C code always blames argument 1 here
      S.argerror(api, name, 1, format("expected integer between %d and %d", min, max))
    end
    return v, v
  end

  local function enum_option(api, name, idx, value, current, options)
    local setting = current
    if type(value) == "boolean" then setting = value and 1 or 0
    elseif value ~= nil then
      local s = S.checkstring(api, name, idx, value, true)
      setting = nil
      for i = 1, #options do
        if options[i] == s then setting = i - 1 end
      end
      if setting == nil then S.argerror(api, name, idx, "invalid option '" .. s .. "'") end
    end
    if setting <= 1 then return setting, setting == 1 end
    return setting, options[setting + 1]
  end

  local BOOL, INVALID = {"off", "on"}, {"off", "on", "null"}
  -- Per function, per argument: the setting, then an option list or a range.
  local OPTIONS = {
    encode_sparse_array = {{"sparse_convert", BOOL}, {"sparse_ratio", 0, INT_MAX},
                           {"sparse_safe", 0, INT_MAX}},
    encode_max_depth = {{"encode_max_depth", 1, INT_MAX}},
    decode_max_depth = {{"decode_max_depth", 1, INT_MAX}},
    encode_number_precision = {{"precision", 1, 14}},
    -- The buffer it keeps or frees is invisible to scripts: only the flag is kept.
    encode_keep_buffer = {{"keep_buffer", BOOL}},
    encode_invalid_numbers = {{"encode_invalid", INVALID}},
    decode_invalid_numbers = {{"decode_invalid", BOOL}},
  }
  local configure = {}
  for name, specs in pairs(OPTIONS) do
    local api
    api = function(...)
      local nargs = select("#", ...)
      if nargs > #specs then S.argerror(api, name, #specs + 1, "found too many arguments") end
      local results = {}
      for i, spec in ipairs(specs) do
        local key, value = spec[1], (select(i, ...))
        if spec[3] then
          cfg[key], results[i] = integer_option(api, name, i, value, cfg[key], spec[2], spec[3])
        else
          cfg[key], results[i] = enum_option(api, name, i, value, cfg[key], spec[2])
        end
      end
      number_fmt = "%." .. cfg.precision .. "g"
      return unpack(results, 1, #specs)
    end
    configure[name] = api
  end

  -- Filled in the C code's order, which decides the order pairs() sees.
  local cjson = {}
  cjson.encode = encode
  cjson.decode = decode
  for _, name in ipairs({"encode_sparse_array", "encode_max_depth", "decode_max_depth",
                         "encode_number_precision", "encode_keep_buffer",
                         "encode_invalid_numbers", "decode_invalid_numbers"}) do
    cjson[name] = configure[name]
  end
  cjson.new = new_module
  cjson.null = NULL
  cjson._NAME = "cjson"
  cjson._VERSION = "2.1.0"
  return cjson
end

return new_module()
"""


def build(compile_chunk: Callable[[str], Any], support: Any) -> Any:
    """The ``cjson`` table, given the package's chunk compiler and support table."""
    return compile_chunk(LUA_SOURCE)(support)
