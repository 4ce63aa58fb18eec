"""The Lua side of the scripting environment, run once in every fresh Lua state.

Redis 7.0 builds its environment in C on a patched Lua that knows read-only
tables. lupa's Lua 5.1 is unpatched, so the same guarantees are built here from
plain Lua: the script's globals are an empty proxy whose metatable reads through
to the real globals (raising for names that don't exist) and refuses writes; the
library tables (``string``, ``redis``, ``cjson`` ...) are replaced by such proxies
too, and ``rawget``/``rawset``/``next``/``pairs``/``getmetatable``/``setmetatable``/
``table.insert`` see through them, so no script can change what another script
sees. ``setfenv(0, proxy)`` makes the proxy the
thread's global table, so ``loadstring`` and coroutines inherit it.

The chunk receives the Python callbacks as arguments and returns a table of the
functions the Python side drives (compile, run, ...).
"""

from __future__ import annotations

# The chunk name of everything defined here: the error handler skips frames with
# this source when it looks for the user's line.
INTERNAL_CHUNK = "=taipan"

LUA_BOOTSTRAP = r"""
local py_call, py_pcall, py_log, py_sha1hex, py_setresp, py_set_repl, py_interrupt,
      py_acl_check, py_register_function, py_unwrap, function_mode, py_random,
      py_randomseed = ...

local G = _G
local dbg = debug
local dsethook, dgetinfo = debug.sethook, debug.getinfo
local type, error, rawget, rawset, rawequal, next, tostring, select, xpcall,
      setmetatable, getmetatable, getfenv, setfenv, loadstring, load, unpack,
      pairs, ipairs, floor =
      type, error, rawget, rawset, rawequal, next, tostring, select, xpcall,
      setmetatable, getmetatable, getfenv, setfenv, loadstring, load, unpack,
      pairs, ipairs, math.floor
local INTERNAL = "=taipan"
local READONLY = "Attempt to modify a readonly table"

-- What Redis never loads or removes from the scripts' view.
for _, name in ipairs({"io", "os", "package", "require", "module", "dofile",
                       "loadfile", "print", "python", "debug"}) do
  G[name] = nil
end

-- Read-only proxies ---------------------------------------------------------
local target_of = setmetatable({}, {__mode = "k"})  -- proxy -> real table

local function refuse_write()
  error(READONLY, 2)
end

local function readonly(real)
  -- __metatable is never seen (getmetatable is replaced below); it only makes
  -- the builtin setmetatable refuse the proxy too.
  local meta = {__index = real, __newindex = refuse_write, __metatable = READONLY}
  local proxy = setmetatable({}, meta)
  target_of[proxy] = real
  return proxy, meta
end

local function real(t)
  return target_of[t] or t
end

local function checked_rawset(t, k, v)
  if target_of[t] then error(READONLY, 0) end
  return rawset(t, k, v)
end

local function proxied_next(t, k)
  return next(real(t), k)
end

G.rawset = checked_rawset
-- A read-only table's metatable is its real table's, itself read-only; setting
-- one, or inserting into one, is refused as Redis's read-only tables refuse it.
local readonly_meta = setmetatable({}, {__mode = "k"})
G.getmetatable = function(t)
  local target = target_of[t]
  if target == nil then return getmetatable(t) end
  local meta = getmetatable(target)
  if meta == nil then return nil end
  if readonly_meta[meta] == nil then readonly_meta[meta] = readonly(meta) end
  return readonly_meta[meta]
end
G.setmetatable = function(t, meta)
  if target_of[t] then error(READONLY, 0) end
  return setmetatable(t, meta)
end
local table_insert = table.insert
G.table.insert = function(t, ...)
  if target_of[t] then error(READONLY, 0) end
  return table_insert(t, ...)
end
G.rawget = function(t, k) return rawget(real(t), k) end
G.next = proxied_next
G.pairs = function(t)
  if target_of[t] then return proxied_next, t, nil end
  return pairs(t)
end

-- redis.pcall errors are tables; pcall hands scripts their message, as Redis 7 does.
local lua_pcall = pcall
-- redis.call raises its error table from Python, which hands it over wrapped in
-- a userdata: unwrap it wherever an error is caught.
local function unwrapped(e)
  if type(e) ~= "userdata" then return e end
  local message, as_table, counted = py_unwrap(e)
  if not as_table then return message end
  local t = {err = message}
  if counted then t.ignore_error_stats_update = true end
  return t
end

local function pcall_result(ok, ...)
  if not ok then
    local e = unwrapped((...))
    if type(e) == "table" then
      -- luaRedisPcall: lua_isstring, so a number err is handed back too.
      local message = rawget(real(e), "err")
      local kind = type(message)
      if kind == "string" or kind == "number" then return false, message end
    end
    return false, e
  end
  return ok, ...
end
G.pcall = function(...)
  return pcall_result(lua_pcall(...))
end
-- xpcall's handler and coroutine.resume see the error table itself, as in Redis.
G.xpcall = function(f, handler)
  return xpcall(f, function(e) return handler(unwrapped(e)) end)
end
local co_resume = coroutine.resume
local function resume_result(ok, ...)
  if not ok then return false, unwrapped((...)) end
  return ok, ...
end
G.coroutine.resume = function(...)
  return resume_result(co_resume(...))
end

-- Bytecode is refused, as Redis's loader refuses it (crafted bytecode can break
-- the VM): a binary chunk gets the error the text parser gives it there.
local function chunkid(source)  -- how the parser names a chunk (luaO_chunkid, 80 bytes)
  source = source:match("^[^%z]*")
  local first = source:sub(1, 1)
  if first == "=" then return source:sub(2, 80) end
  if first == "@" then
    local file = source:sub(2)
    return #file > 72 and "..." .. file:sub(-72) or file
  end
  local length = math.min(#source:match("^[^\n\r]*"), 63)
  if length < #source then return '[string "' .. source:sub(1, length) .. '..."]' end
  return '[string "' .. source .. '"]'
end

local function binary_refused(chunk, name)
  return nil, chunkid(name or chunk) .. ":1: unexpected symbol near 'char(27)'"
end
G.loadstring = function(chunk, name)
  if type(chunk) == "string" and chunk:byte(1) == 27 then
    return binary_refused(chunk, name)
  end
  return loadstring(chunk, name)
end
G.load = function(...)
  local reader, name = ...
  if type(reader) ~= "function" then
    local got = select('#', ...) == 0 and "no value" or type(reader)
    error("bad argument #1 to 'load' (function expected, got " .. got .. ")", 2)
  end
  local pieces = {}
  while true do
    local piece = reader()
    if piece == nil or piece == "" then break end
    if type(piece) ~= "string" then return nil, "reader function must return a string" end
    pieces[#pieces + 1] = piece
  end
  return G.loadstring(table.concat(pieces), name or "=(load)")
end

-- math.random/randomseed: Redis's lrand48 stream, in Python: one state for the
-- process (EVAL and FCALL alike, kept across SCRIPT FLUSH), as in Redis.
G.math.random = py_random
G.math.randomseed = py_randomseed

-- The redis table ----------------------------------------------------------
local redis = {}
redis.call = py_call
redis.pcall = py_pcall
-- sha1hex, log, setresp, set_repl and acl_check_cmd are Python callables (C
-- functions to Lua, as in Redis: a tail call to them keeps the script's line).
redis.sha1hex = py_sha1hex
local function single_field(field, ...)
  local value = ...
  if select('#', ...) ~= 1 or type(value) ~= "string" then
    return {err = "ERR wrong number or type of arguments"}
  end
  return {[field] = value}
end
redis.status_reply = function(...) return single_field("ok", ...) end
-- luaPushErrorBuff: the code is what precedes the first space ("ERR" if none),
-- CR/LF trimmed from both ends of the rest.
redis.error_reply = function(...)
  local value = ...
  if select('#', ...) ~= 1 or type(value) ~= "string" then
    return {err = "ERR wrong number or type of arguments"}
  end
  value = value:match("^[^%z]*")  -- Redis reads it as a C string: it ends at a NUL
  if value:sub(1, 1) ~= "-" then value = "-" .. value end
  local code, rest
  local space = value:find(" ", 1, true)
  if space then
    code, rest = value:sub(2, space - 1), value:sub(space + 1)
  else
    code, rest = "ERR", value:sub(2)
  end
  rest = rest:gsub("^[\r\n]+", ""):gsub("[\r\n]+$", "")
  return {err = code .. " " .. rest}
end
redis.log = py_log
redis.setresp = py_setresp
redis.set_repl = py_set_repl
redis.acl_check_cmd = py_acl_check
if not function_mode then  -- Redis registers these for EVAL scripts only (eval.c)
  redis.replicate_commands = function() return true end
  redis.breakpoint = function() return false end
  redis.debug = function() end
end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL =
  0, 1, 2, 2, 3
redis.REDIS_VERSION_NUM = 0x07000f
redis.REDIS_VERSION = "7.0.15"
G.redis = redis

-- Errors carry where the user's code was, as Redis's __redis__err__handler does.
-- Redis's handler reports the frame that raised (level 2), or its caller when
-- that is a C function (even when the caller is C too). Lua functions of this
-- chunk stand for Redis's C functions: each, with the C functions it calls,
-- counts as one C frame.
local C_FRAME = {what = "C", source = "=[C]", currentline = -1}
local function redis_frame(n)
  local level, count = 3, 0  -- 1 is this function, 2 the handler calling it
  while true do
    local info = dgetinfo(level, "Sl")
    if info == nil then return nil end
    level = level + 1
    if info.source == INTERNAL then
      while true do
        local up = dgetinfo(level, "S")
        if up == nil or up.source ~= INTERNAL then break end
        level = level + 1
      end
      info = C_FRAME
    elseif info.what == "C" then
      local up = dgetinfo(level, "S")
      if up and up.source == INTERNAL then info = nil end  -- part of the frame above
    end
    if info then
      count = count + 1
      if count == n then return info end
    end
  end
end

local function err_handler(err)
  err = unwrapped(err)
  local info = redis_frame(1)
  if info and info.what == "C" then info = redis_frame(2) end
  if type(err) ~= "table" then
    err = {err = "ERR " .. tostring(err)}
  end
  if info then
    rawset(real(err), "source", info.source)
    rawset(real(err), "line", info.currentline)
  end
  return err
end
if not function_mode then  -- functions keep theirs in the registry (function_lua.c)
  G.__redis__err__handler = err_handler
end

-- Lock everything down -------------------------------------------------------
local library_names = {"string", "math", "table", "coroutine", "redis", "cjson", "bit",
                       "cmsgpack", "struct"}
for _, name in ipairs(library_names) do
  if type(G[name]) == "table" then
    if name == "string" then
      local string_meta = getmetatable("")
      G.string = readonly(G.string)
      string_meta.__index = G.string
      string_meta.__metatable = readonly(string_meta)
    else
      G[name] = readonly(G[name])
    end
  end
end

local function missing_global(_, name)
  -- lupa looks up debug.traceback from C whenever Python calls a Lua function,
  -- outside any Lua frame or from within a Python callback (a C frame): answer
  -- nil. Raising there would unwind through Python's own C frames.
  local caller = dgetinfo(2, "S")
  if caller == nil or caller.what == "C" then return nil end
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
setmetatable(G, {__index = missing_global})
local globals, globals_meta = readonly(G)
rawset(G, "_G", globals)
-- The redis.* functions Python implements are userdata to Lua: type() calls them
-- functions, as Redis's C functions are.
local python_functions = {}
for _, f in ipairs({py_call, py_pcall, py_log, py_sha1hex, py_setresp, py_set_repl,
                    py_acl_check, py_random, py_randomseed}) do
  python_functions[f] = true
end
G.type = function(...)
  if python_functions[(...)] then return "function" end
  -- The builtin's own error would name this line: name the caller's, as Redis does.
  if select('#', ...) == 0 then
    local name = dgetinfo(1, "n").name or "?"
    error("bad argument #1 to '" .. name .. "' (value expected)", 2)
  end
  return type(...)
end
-- Not in Redis's sandbox (its Lua was patched to drop them).
G.getfenv, G.setfenv, G.newproxy = nil, nil, nil
setfenv(0, globals)

-- What the Python side drives -------------------------------------------------
local COUNT_HOOK = 100000
local hook
hook = function()
  -- Nothing in the runner's own lines (after xpcall returned, say): a killed
  -- script has ended there, and other clients must see it ended.
  if dgetinfo(2, "S").source == INTERNAL then return end
  local verdict = py_interrupt()
  if verdict then
    -- Every following line raises again, so pcall can't swallow the kill.
    dsethook(hook, "l")
    error({err = verdict}, 0)
  end
end

local api = {}

local sdump = string.dump
function api.compile(body, chunkname)
  local fn, err = loadstring(body, chunkname)
  if fn == nil then return false, err end
  return true, fn
end
api.dump = sdump
function api.load_binary(chunk)
  return (loadstring(chunk))
end

-- A returned table comes back with its shape (api.reply_shape, defined below):
-- the reply is read in the crossing that ends the script, not in one more.
local function finish(ok, result)
  if ok and type(result) == "table" then return ok, result, api.reply_shape(result) end
  return ok, result
end

-- EVAL: KEYS and ARGV are globals; the script's own function runs under the hook.
function api.run_eval(fn, hooked, nkeys, ...)
  local keys, argv = {...}, {select(nkeys + 1, ...)}
  for i = #keys, nkeys + 1, -1 do keys[i] = nil end
  rawset(G, "KEYS", keys)
  rawset(G, "ARGV", argv)
  if hooked then dsethook(hook, "", COUNT_HOOK) end
  local ok, result = xpcall(fn, err_handler)
  if hooked then dsethook() end
  return finish(ok, result)
end

-- FCALL: keys and args are the callback's two arguments.
function api.run_function(fn, hooked, nkeys, ...)
  local keys, argv = {...}, {select(nkeys + 1, ...)}
  for i = #keys, nkeys + 1, -1 do keys[i] = nil end
  if hooked then dsethook(hook, "", COUNT_HOOK) end
  local ok, result = xpcall(function() return fn(keys, argv) end, err_handler)
  if hooked then dsethook() end
  return finish(ok, result)
end

-- FUNCTION LOAD: the library body runs once and sees only redis.register_function,
-- redis.log and the version fields, as in Redis.
if function_mode then
  local load_redis = setmetatable({
    register_function = function(...)
      local status, value = py_register_function(...)
      if status ~= 0 then error({err = value}, 0) end
    end,
    log = redis.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM, REDIS_VERSION = redis.REDIS_VERSION,
  }, {__index = missing_global})
  local load_api = setmetatable({redis = readonly(load_redis)}, {__index = missing_global})
  local load_hook
  load_hook = function()
    if dgetinfo(2, "S").source == INTERNAL then return end
    local verdict = py_interrupt()
    if verdict then
      dsethook(load_hook, "l")
      error({err = verdict}, 0)
    end
  end
  function api.run_loader(fn)
    globals_meta.__index = load_api
    dsethook(load_hook, "", COUNT_HOOK)
    local ok, result = lua_pcall(fn)
    dsethook()
    if not ok then result = unwrapped(result) end
    globals_meta.__index = G
    return ok, result
  end
end

-- luaL_error's position prefix and luaL_argerror's function name, for errors a
-- Python callable raises as a C library function would: called from Python inside
-- that callable, level 2 is its (C) frame and level 3 the Lua code calling it.
function api.c_error_context()
  local where, info = "", dgetinfo(3, "Sl")
  if info and info.currentline > 0 then where = info.short_src .. ":" .. info.currentline .. ": " end
  local named = dgetinfo(2, "n")
  return where, named and named.name or "?"
end

-- A script's reply table classified as Redis's luaReplyToRedisReply reads it (raw
-- reads, its order of tests), in one crossing: the kind (lua_replies.py) and what
-- the Python side needs. A list comes with its length and, up to SHAPE_MAX_ITEMS,
-- its items; a longer one is fetched with api.slice. A map's keys and values (a
-- set's members) come as such a list, in the order next() walks them.
local SHAPE_MAX_ITEMS = 1000  -- well within the C stack that unpack fills
local function as_list(t, n)
  if n > SHAPE_MAX_ITEMS then return n, t end
  return n, unpack(t, 1, n)
end
local function flat(t, with_values)
  local out, n = {}, 0
  for k, v in next, t do
    n = n + 1
    out[n] = k
    if with_values then
      n = n + 1
      out[n] = v
    end
  end
  return out, n
end
function api.reply_shape(t)
  if type(rawget(t, "err")) == "string" then return 1, nil end
  local v = rawget(t, "ok")
  if type(v) == "string" then return 2, v end
  v = rawget(t, "double")
  if type(v) == "number" then return 3, v end
  v = rawget(t, "big_number")
  if type(v) == "string" then return 4, v end
  v = rawget(t, "verbatim_string")
  if type(v) == "table" then
    local format, text = rawget(v, "format"), rawget(v, "string")
    if type(format) == "string" and type(text) == "string" then return 5, format, text end
  end
  v = rawget(t, "map")
  if type(v) == "table" then
    local items, n = flat(v, true)
    return 6, as_list(items, n)
  end
  v = rawget(t, "set")
  if type(v) == "table" then
    local items, n = flat(v, false)
    return 7, as_list(items, n)
  end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  return 0, as_list(t, n)
end
function api.slice(t, first, last) return unpack(t, first, last) end

-- {double=...} replies whose text Python can't tell: -0 and a NaN's sign.
api.double_text = function(t) return string.format("%.17g", rawget(t, "double")) end
api.collect_garbage = function() collectgarbage("collect") end
return api
"""
