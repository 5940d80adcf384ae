-- Ferrite's script environment: Redis 7.0's, on top of plain Lua 5.1.
--
-- Run once per VM (chunk name "=ferrite") with the host's native functions, the debug library (kept
-- here, never reachable from scripts) and the kind of VM ("eval" or "function"). Frames of this chunk
-- are invisible to error positions, as C functions are in Redis: the error handler skips them, and the
-- errors raised here name the script's line (`error(msg, 2)`, `argerror`) or none (`error(msg, 0)`).
--
-- What it sets up:
-- * the `redis` table: call/pcall over the host's dispatcher, replies as tables, logging, RESP
--   version, replication flags, sha1hex;
-- * `pcall` as Redis 7.0 has it: an error table with a string `err` comes back as that string, and a
--   killed script cannot catch its kill;
-- * `loadstring`/`load` that never load bytecode (a binary chunk fails to parse, as in Redis);
-- * `math.random`/`math.randomseed` on Redis's rand48 generator;
-- * read-only globals and library tables. Plain Lua 5.1 has no read-only tables, so every table a
--   script reaches from the globals (and the strings' metatable) is replaced by an empty proxy whose
--   metatable reads through to the real table and refuses assignments; the functions that bypass
--   metatables (rawget/rawset/next/pairs/ipairs/unpack, setmetatable/getmetatable and the table
--   library) see through proxies and refuse to write them. KEYS, ARGV and the tables scripts make are
--   ordinary tables.
local native, dbg, kind = ...

-- The originals, under names of their own: the globals of the same names are replaced below.
local raw_get, raw_set, raw_next = rawget, rawset, next
local raw_setmetatable, raw_getmetatable = setmetatable, getmetatable
local raw_pcall, raw_xpcall, raw_loadstring = pcall, xpcall, loadstring
local type, tostring, error, select = type, tostring, error, select
local format, sub = string.format, string.sub
local tinsert, tremove, tsort, tconcat, tsetn = table.insert, table.remove, table.sort, table.concat, table.setn
local getinfo = dbg.getinfo
local killed = native.killed

local READONLY = 'Attempt to modify a readonly table'

-- proxy -> real table, and real table -> proxy
local real_of, proxy_of = {}, {}

local function real(t)
  return real_of[t] or t
end

local function protected(t)
  return real_of[t] ~= nil or proxy_of[t] ~= nil
end

-- luaL_argerror from the script's point of view: the wrapper named as the script called it, the
-- script's line as the position. The wrapper is the last frame of this chunk below the caller.
local function argerror(narg, msg)
  local level = 2
  while true do
    local i = getinfo(level, 'S')
    if i == nil or i.source ~= '=ferrite' then
      break
    end
    level = level + 1
  end
  local ar = getinfo(level - 1, 'n')
  local name = ar and ar.name or '?'
  if ar and ar.namewhat == 'method' then
    narg = narg - 1
    if narg == 0 then
      error(format("calling '%s' on bad self (%s)", name, msg), level)
    end
  end
  error(format("bad argument #%d to '%s' (%s)", narg, name, msg), level)
end

-- luaL_checktype for argument `n` of a wrapper's arguments.
local function check(n, expected, ok, ...)
  if not ok then
    local got = select('#', ...) < n and 'no value' or type((select(n, ...)))
    argerror(n, expected .. ' expected, got ' .. got)
  end
end

local function check_table(n, ...)
  check(n, 'table', type((select(n, ...))) == 'table', ...)
  return (select(n, ...))
end

-- ---- the redis table ----

local redis = {}

-- Both are the host's (C functions to Lua, so a `return redis.call(...)` keeps the script's frame
-- for the error position, as Redis's C function does).
redis.call = native.call
redis.pcall = native.pcall

redis.error_reply = function(...)
  local msg = ...
  if select('#', ...) ~= 1 or type(msg) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {err = native.error_code(msg)}
end

redis.status_reply = function(...)
  local msg = ...
  if select('#', ...) ~= 1 or type(msg) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = msg}
end

redis.sha1hex = native.sha1hex
redis.log = native.log
redis.setresp = native.setresp
redis.set_repl = native.set_repl
redis.acl_check_cmd = native.acl_check_cmd
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION = native.version
redis.REDIS_VERSION_NUM = native.version_num
if kind == 'eval' then
  -- Only scripts have these (functions run with effects replication and without a debugger).
  redis.breakpoint = function() return false end
  redis.debug = function() end
  redis.replicate_commands = function() return true end
end

-- ---- errors ----

-- Where an error happened: the first frame that is the script's (not a C function, not this chunk).
local function position()
  local level = 1
  while true do
    local i = getinfo(level, 'Sl')
    if i == nil then
      return nil
    end
    -- A tail call's marker has lost its frame: the script's frame is further down.
    if i.what ~= 'C' and i.what ~= 'tail' and i.source ~= '=ferrite' then
      return i
    end
    level = level + 1
  end
end

-- Redis's error handler: every error becomes a table with `err` (a code first) and where it happened.
local function err_handler(e)
  local k = killed()
  if k then
    e = {err = k}
  elseif type(e) ~= 'table' then
    e = {err = 'ERR ' .. tostring(e)}
  elseif type(raw_get(e, 'err')) == 'number' then
    e.err = tostring(e.err)
  elseif type(raw_get(e, 'err')) ~= 'string' then
    -- Redis 7.0 crashes on an error table without a message; a reply is better.
    e = {err = 'ERR unknown error'}
  end
  local i = position()
  if i then
    e.source = i.source
    e.line = i.currentline
  end
  return e
end

-- Redis 7.0's pcall: a caught error table with a string `err` comes back as that string.
local function caught(ok, ...)
  if ok then
    return true, ...
  end
  local k = killed()
  if k then
    error({err = k}, 0)
  end
  local e = ...
  if type(e) == 'table' then
    local m = raw_get(e, 'err')
    if type(m) == 'string' or type(m) == 'number' then
      e = m
    end
  end
  return false, e
end

pcall = function(f, ...)
  return caught(raw_pcall(f, ...))
end

-- ---- no bytecode ----

-- A binary chunk is parsed as text, which fails on its first byte exactly as Redis's Lua does; the
-- original string stays the chunk's name, so the message names it the same way.
local function text_only(chunk, name)
  if sub(chunk, 1, 1) == '\27' then
    return raw_loadstring(' ' .. chunk, name or chunk)
  end
  return raw_loadstring(chunk, name)
end

loadstring = function(...)
  local chunk, name = ...
  check(1, 'string', type(chunk) == 'string' or type(chunk) == 'number', ...)
  return text_only(tostring(chunk), name)
end

load = function(...)
  local reader, name = ...
  check(1, 'function', type(reader) == 'function', ...)
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == '' then
      break
    end
    if type(piece) ~= 'string' then
      return nil, 'reader function must return a string'
    end
    parts[#parts + 1] = piece
  end
  return text_only(tconcat(parts), name or '=(load)')
end

-- ---- determinism ----

math.random = native.random
math.randomseed = native.randomseed

-- ---- read-only tables ----

local function refuse_assignment()
  error(READONLY, 2)
end

local function next_real(t, k)
  return raw_next(real(t), k)
end

local function next_through(...)
  local t, k = check_table(1, ...), select(2, ...)
  return raw_next(real(t), k)
end

next = next_through

pairs = function(...)
  return next_real, check_table(1, ...), nil
end

rawget = function(...)
  local t, k = check_table(1, ...), select(2, ...)
  return raw_get(real(t), k)
end

rawset = function(...)
  local t, k, v = check_table(1, ...), select(2, ...)
  if protected(t) then
    error(READONLY, 0)
  end
  return raw_set(t, k, v)
end

-- What getmetatable shows of a protected table's metatable: nothing for a library table, a read-only
-- view for the globals' and the strings' metatables.
local shown_metatable = {}

getmetatable = function(...)
  local m = raw_getmetatable((...))
  if m ~= nil and shown_metatable[m] ~= nil then
    return shown_metatable[m] or nil
  end
  return m
end

setmetatable = function(...)
  local t, m = check_table(1, ...), select(2, ...)
  if protected(t) then
    error(READONLY, 0)
  end
  return raw_setmetatable(t, m)
end

-- The table library writes raw: a write to a read-only table is refused (Redis refuses only the
-- operations that would write; removing from or sorting a table without an array part writes nothing).
table.insert = function(...)
  local t = check_table(1, ...)
  if protected(t) then
    error(READONLY, 0)
  end
  return tinsert(...)
end

table.remove = function(...)
  local t = check_table(1, ...)
  if protected(t) and #real(t) > 0 then
    error(READONLY, 0)
  end
  return tremove(real(t), select(2, ...))
end

table.sort = function(...)
  local t = check_table(1, ...)
  if protected(t) and #real(t) > 1 then
    error(READONLY, 0)
  end
  return tsort(real(t), select(2, ...))
end

table.setn = function(...)
  local t = check_table(1, ...)
  if protected(t) then
    error(READONLY, 0)
  end
  return tsetn(...)
end

-- The read-only tables have no array part, so the array functions (concat, foreachi, getn, maxn,
-- unpack, ipairs) find nothing in them either way; foreach walks the hash part.
local tforeach = table.foreach
table.foreach = function(...)
  local t = check_table(1, ...)
  return tforeach(real(t), select(2, ...))
end

-- The proxies.
local function protect(t)
  local p = proxy_of[t]
  if p then
    return p
  end
  p = {}
  local m = {__index = t, __newindex = refuse_assignment}
  raw_setmetatable(p, m)
  real_of[p], proxy_of[t] = t, p
  shown_metatable[m] = false
  return p
end

local G = _G
for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
  if raw_get(G, name) ~= nil then
    raw_set(G, name, protect(raw_get(G, name)))
  end
end
raw_set(G, 'redis', protect(redis))
if kind == 'eval' then
  raw_set(G, '__redis__err__handler', err_handler)
end

-- The strings' metatable: its __index is the protected string table; getmetatable('') shows a
-- read-only view of it.
local string_meta = raw_getmetatable('')
string_meta.__index = raw_get(G, 'string')
shown_metatable[string_meta] = protect(string_meta)

-- The globals: a missing name is an error (the real table's own metatable says so), and
-- getmetatable(_G) shows a read-only view of a metatable with that __index.
local function globals_index(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
raw_setmetatable(G, {__index = globals_index})
local globals_proxy = protect(G)
raw_set(G, '_G', globals_proxy)
shown_metatable[raw_getmetatable(globals_proxy)] = protect({__index = globals_index})

-- A library's code runs in another world (FUNCTION LOAD): its globals are `redis` alone, with
-- register_function, log and the constants, and a missing name is an error there too. The host
-- switches the globals proxy between the two worlds; functions the library registers see the
-- running world when they run, whatever world created them.
local loading_globals = {}
if kind == 'function' then
  local load_redis = {
    register_function = native.register_function,
    log = redis.log,
    REDIS_VERSION = redis.REDIS_VERSION,
    REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
    LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
    LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
  }
  raw_setmetatable(load_redis, {__index = globals_index})
  loading_globals.redis = protect(load_redis)
  raw_setmetatable(loading_globals, {__index = globals_index})
end
local globals_meta = raw_getmetatable(globals_proxy)

local function set_loading(on)
  globals_meta.__index = on and loading_globals or G
end

-- What the host keeps: the proxy it installs as the globals, a runner with the error handler (with
-- the function's arguments, for a library function), and the switch between the two worlds.
local function run(f, keys, args)
  if keys == nil then
    return raw_xpcall(f, err_handler)
  end
  return raw_xpcall(function() return f(keys, args) end, err_handler)
end

return globals_proxy, run, set_loading
