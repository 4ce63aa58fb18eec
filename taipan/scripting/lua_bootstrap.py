"""The Lua side of the scripting environment, run once in every fresh Lua state.

Redis 7.0 builds its environment in C on a patched Lua that knows read-only
tables. lupa's Lua 5.1 is unpatched, so the same guarantees are built here from
plain Lua: the script's globals are an empty proxy whose metatable reads through
to the real globals (raising for names that don't exist) and refuses writes; the
library tables (``string``, ``redis``, ``cjson`` ...) are replaced by such proxies
too, and ``rawset``/``next``/``pairs``/``getfenv`` see through them, so no script
can change what another script sees. ``setfenv(0, proxy)`` makes the proxy the
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
      py_acl_check, py_register_function, py_unwrap, function_mode = ...

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
  local meta = {__index = real, __newindex = refuse_write, __metatable = getmetatable(real)}
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
  if type(e) == "userdata" then return py_unwrap(e) end
  return e
end

local function pcall_result(ok, ...)
  if not ok then
    local e = unwrapped((...))
    if type(e) == "table" and type(rawget(real(e), "err")) == "string" then
      return false, rawget(real(e), "err")
    end
    return false, e
  end
  return ok, ...
end
G.pcall = function(...)
  return pcall_result(lua_pcall(...))
end

-- math.random: Redis's lrand48 stream, the same numbers on every platform.
local x = 0x1234ABCD330E
local function lrand48()
  local xh, xl = floor(x / 16777216), x % 16777216
  local low = 0xECE66D * xl
  local mid = (0x5DE * xl + 0xECE66D * xh) % 16777216
  x = (low + mid * 16777216 + 0xB) % 281474976710656
  return floor(x / 131072)
end

local function checkint(fname, index, value)
  local n = tonumber(value)
  if n == nil then
    local got = value == nil and "no value" or type(value)
    error("bad argument #" .. index .. " to '" .. fname .. "' (number expected, got " .. got .. ")", 0)
  end
  return n >= 0 and floor(n) or -floor(-n)
end

G.math.random = function(...)
  local r = (lrand48() % 2147483647) / 2147483647
  local n = select('#', ...)
  if n == 0 then return r end
  if n == 1 then
    local u = checkint("random", 1, (...))
    if not (1 <= u) then error("bad argument #1 to 'random' (interval is empty)", 0) end
    return floor(r * u) + 1
  end
  if n == 2 then
    local l, u = checkint("random", 1, (...)), checkint("random", 2, (select(2, ...)))
    if not (l <= u) then error("bad argument #2 to 'random' (interval is empty)", 0) end
    return floor(r * (u - l + 1)) + l
  end
  error("wrong number of arguments", 0)
end
G.math.randomseed = function(seed)
  local s = checkint("randomseed", 1, seed) % 4294967296
  x = (s * 65536 + 0x330E) % 281474976710656
end

-- The redis table ----------------------------------------------------------
local function raise(msg)
  error({err = msg}, 0)
end

local redis = {}
redis.call = py_call
redis.pcall = py_pcall
redis.sha1hex = function(...)
  if select('#', ...) ~= 1 then raise("ERR wrong number of arguments") end
  local s = ...
  if type(s) == "number" then s = tostring(s) end
  return py_sha1hex(type(s) == "string" and s or "")
end
local function single_field(field, ...)
  local value = ...
  if select('#', ...) ~= 1 or type(value) ~= "string" then
    return {err = "ERR wrong number or type of arguments"}
  end
  return {[field] = value}
end
redis.status_reply = function(...) return single_field("ok", ...) end
redis.error_reply = function(...)
  local value = ...
  if select('#', ...) ~= 1 or type(value) ~= "string" then
    return {err = "ERR wrong number or type of arguments"}
  end
  if value:sub(1, 1) == "-" then value = value:sub(2) end
  local code, rest = value:match("^(%S+) (.*)$")
  if not code then code, rest = "ERR", value end
  rest = rest:gsub("^[\r\n]+", ""):gsub("[\r\n]+$", "")
  return {err = code .. " " .. rest}
end
redis.log = function(...)
  local n = select('#', ...)
  if n < 2 then raise("ERR redis.log() requires two arguments or more.") end
  local level = ...
  if type(level) ~= "number" and tonumber(level) == nil then
    raise("ERR First argument must be a number (log level).")
  end
  level = tonumber(level)
  if level < 0 or level > 3 then raise("ERR Invalid debug level.") end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    if type(v) == "string" or type(v) == "number" then parts[#parts + 1] = tostring(v) end
  end
  py_log(level, table.concat(parts, " "))
end
redis.setresp = function(...)
  if select('#', ...) ~= 1 then raise("ERR redis.setresp() requires one argument.") end
  local v = tonumber((...)) or 0
  if v ~= 2 and v ~= 3 then raise("ERR RESP version must be 2 or 3.") end
  if not py_setresp(v) then
    raise("ERR redis.setresp can only be called inside a script invocation")
  end
end
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then raise("ERR redis.set_repl() requires two arguments.") end
  local flags = tonumber((...)) or 0
  if flags ~= floor(flags) or flags < 0 or flags > 3 then
    raise("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
  end
  if not py_set_repl(flags) then
    raise("ERR redis.set_repl can only be called inside a script invocation")
  end
end
redis.acl_check_cmd = function(...)
  local status, value = py_acl_check(...)
  if status == 0 then return value end
  raise(value)
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL =
  0, 1, 2, 2, 3
redis.REDIS_VERSION_NUM = 0x07000f
redis.REDIS_VERSION = "7.0.15"
G.redis = redis

-- Errors carry where the user's code was, as Redis's __redis__err__handler does.
local function err_handler(err)
  err = unwrapped(err)
  local level, info = 2, nil
  repeat
    info = dgetinfo(level, "nSl")
    level = level + 1
  until info == nil or (info.what ~= "C" and info.source ~= INTERNAL)
  if type(err) ~= "table" then
    err = {err = "ERR " .. tostring(err)}
  end
  if info then
    rawset(real(err), "source", info.source)
    rawset(real(err), "line", info.currentline)
  end
  return err
end
G.__redis__err__handler = err_handler

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
  -- lupa itself looks up debug.traceback from C, outside any Lua frame: answer nil.
  if dgetinfo(2, "S") == nil then return nil end
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
setmetatable(G, {__index = missing_global})
local globals, globals_meta = readonly(G)
rawset(G, "_G", globals)
G.getfenv = function(f)
  local env = getfenv(f == nil and 2 or (type(f) == "number" and f > 0 and f + 1 or f))
  if env == G then return globals end
  return env
end
setfenv(0, globals)

-- What the Python side drives -------------------------------------------------
local COUNT_HOOK = 100000
local killed = {err = "ERR Script killed by user with SCRIPT KILL..."}
local hook
hook = function()
  local verdict = py_interrupt()
  -- Never raise in the runner's own lines (after xpcall returned, say).
  if verdict and dgetinfo(2, "S").source ~= INTERNAL then
    -- Every following line raises again, so pcall can't swallow the kill.
    dsethook(hook, "l")
    error({err = verdict}, 0)
  end
end

local api = {}

function api.compile(body, chunkname)
  local fn, err = loadstring(body, chunkname)
  if fn == nil then return false, err end
  return true, fn
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
  return ok, result
end

-- FCALL: keys and args are the callback's two arguments.
function api.run_function(fn, hooked, nkeys, ...)
  local keys, argv = {...}, {select(nkeys + 1, ...)}
  for i = #keys, nkeys + 1, -1 do keys[i] = nil end
  if hooked then dsethook(hook, "", COUNT_HOOK) end
  local ok, result = xpcall(function() return fn(keys, argv) end, err_handler)
  if hooked then dsethook() end
  return ok, result
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
    local verdict = py_interrupt()
    if verdict and dgetinfo(2, "S").source ~= INTERNAL then
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

function api.table_keys(t)
  local keys = {}
  for k in next, t do keys[#keys + 1] = k end
  return keys
end

-- {double=...} replies whose text Python can't tell: -0 and a NaN's sign.
api.double_text = function(t) return string.format("%.17g", rawget(t, "double")) end
api.real = real
api.globals = G
api.kill_error = killed
return api
"""
