-- testkit.lua: the Lua half of `vigil test` (compiled into the binary):
-- test(), expect(), assert_eq(), test.bot{} and the bot's readers, over the
-- C primitives of bot/test/testkit.c (the global _kit).  Test files run in
-- a plain Lua state; the scripts under test run in the bot's sandbox.
local kit = _kit

-- --- showing values ---------------------------------------------------
local function is_ident(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return type(a) < type(b)
  end)
  return keys
end

-- Valid Lua for v: one line when `indent` is nil, else one element a line.
local function show(v, indent, seen)
  local tv = type(v)
  if tv == "string" then return ("%q"):format(v):gsub("\\\n", "\\n") end
  if tv ~= "table" then return tostring(v) end
  seen = seen or {}
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local parts, n = {}, #v
  for i = 1, n do parts[#parts + 1] = show(v[i], indent and indent .. "  ", seen) end
  for _, k in ipairs(sorted_keys(v)) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      local key = is_ident(k) and k or ("[" .. show(k) .. "]")
      parts[#parts + 1] = key .. " = " .. show(v[k], indent and indent .. "  ", seen)
    end
  end
  seen[v] = nil
  if #parts == 0 then return "{}" end
  if not indent then return "{ " .. table.concat(parts, ", ") .. " }" end
  local pad = indent .. "  "
  return "{\n" .. pad .. table.concat(parts, ",\n" .. pad) .. ",\n" .. indent .. "}"
end

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function lines_of(s)
  local t = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  return t
end

-- A line diff (longest common subsequence): "  same", "- expected", "+ actual".
local function diff(expected, actual)
  local a, b = lines_of(expected), lines_of(actual)
  local n, m = #a, #b
  if n * m > 250000 then return "- " .. expected .. "\n+ " .. actual end
  local L = {}
  for i = n + 1, 1, -1 do
    L[i] = {}
    for j = m + 1, 1, -1 do
      if i > n or j > m then L[i][j] = 0
      elseif a[i] == b[j] then L[i][j] = L[i + 1][j + 1] + 1
      else L[i][j] = math.max(L[i + 1][j], L[i][j + 1]) end
    end
  end
  local out, i, j = {}, 1, 1
  while i <= n or j <= m do
    if i <= n and j <= m and a[i] == b[j] then
      out[#out + 1] = "  " .. a[i]; i, j = i + 1, j + 1
    elseif i <= n and (j > m or L[i + 1][j] >= L[i][j + 1]) then
      out[#out + 1] = "- " .. a[i]; i = i + 1
    else
      out[#out + 1] = "+ " .. b[j]; j = j + 1
    end
  end
  return table.concat(out, "\n")
end

-- --- failures ------------------------------------------------------------
local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(f) return f.where .. ": " .. f.msg end

-- Raises a test failure located at the test-file line that called the
-- assertion (the first frame outside this file).
local function fail(msg)
  local level, where = 2, "?"
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source ~= "=testkit.lua" and info.currentline > 0 then
      where = info.short_src .. ":" .. info.currentline
      break
    end
    level = level + 1
  end
  error(setmetatable({ where = where, msg = msg }, Failure), 0)
end

local function explain(expected, actual)
  if type(expected) == "string" and type(actual) == "string"
     and not expected:find("\n") and not actual:find("\n") then
    local i = 1
    while i <= #expected and expected:sub(i, i) == actual:sub(i, i) do i = i + 1 end
    return ("expected %s\n     got %s\n         %s^ differs at byte %d")
      :format(show(expected), show(actual), (" "):rep(i), i)
  end
  local e = type(expected) == "string" and expected or show(expected, "")
  local a = type(actual) == "string" and actual or show(actual, "")
  return "not equal (- expected, + actual):\n" .. diff(e, a)
end

-- --- expect --------------------------------------------------------------
local Expect = {}
Expect.__index = Expect

function expect(actual) return setmetatable({ actual = actual }, Expect) end

function assert_eq(actual, expected)
  if not deep_equal(actual, expected) then fail(explain(expected, actual)) end
end

function Expect:equals(expected)
  if not deep_equal(self.actual, expected) then fail(explain(expected, self.actual)) end
  return self
end

-- A string containing `part` (plain text), or a list with an element equal
-- to `part`.
function Expect:contains(part)
  local a = self.actual
  if type(a) == "string" then
    if not a:find(part, 1, true) then
      fail(("expected %s\n to contain %s"):format(show(a), show(part)))
    end
  elseif type(a) == "table" then
    for _, v in ipairs(a) do if deep_equal(v, part) then return self end end
    fail(("expected %s\n to contain %s"):format(show(a, ""), show(part)))
  else
    fail("contains: expected a string or a list, got " .. show(a))
  end
  return self
end

function Expect:lacks(part)
  local a = self.actual
  if type(a) == "string" and a:find(part, 1, true) then
    fail(("expected %s\n not to contain %s"):format(show(a), show(part)))
  elseif type(a) == "table" then
    for _, v in ipairs(a) do
      if deep_equal(v, part) then fail(("expected %s\n not to contain %s"):format(show(a, ""), show(part))) end
    end
  end
  return self
end

function Expect:matches(pattern)
  if type(self.actual) ~= "string" or not self.actual:find(pattern) then
    fail(("expected %s\n to match the pattern %s"):format(show(self.actual), show(pattern)))
  end
  return self
end

function Expect:has_length(n)
  local a = self.actual
  if (type(a) ~= "table" and type(a) ~= "string") or #a ~= n then
    fail(("expected a length of %d, got %s:\n%s"):format(n,
      (type(a) == "table" or type(a) == "string") and tostring(#a) or type(a), show(a, "")))
  end
  return self
end

function Expect:is_nil()
  if self.actual ~= nil then fail("expected nil, got " .. show(self.actual, "")) end
  return self
end

function Expect:is_true()
  if not self.actual then fail("expected a true value, got " .. show(self.actual)) end
  return self
end

function Expect:is_false()
  if self.actual then fail("expected false or nil, got " .. show(self.actual, "")) end
  return self
end

-- --- the test bot --------------------------------------------------------
local Bot = {}
local methods = kit.bot_mt.methods
for k, v in pairs(methods) do Bot[k] = v end
kit.bot_mt.__index = Bot

local DEFAULT_STAFF = {
  U01ALICE  = { name = "Alice Jensen", initials = "AJ", role = "lead" },
  U02BOB    = { name = "Bob Okafor",   initials = "BO", role = "agent" },
  U03CARMEN = { name = "Carmen Ruiz",  initials = "CR", role = "admin" },
}

local function merge(into, from)
  for k, v in pairs(from) do
    if type(v) == "table" and type(into[k]) == "table" and #v == 0 then merge(into[k], v)
    else into[k] = v end
  end
  return into
end

local current_file   -- the test file running, for its default scripts folder
local open_bots = {}

local function default_scripts()
  if kit.scripts ~= "" then return kit.scripts end
  local dir = current_file and current_file:match("^(.*)/tests/[^/]+$")
  if dir then return dir end
  if current_file and current_file:match("^tests/[^/]+$") then return "." end
  return "scripts"
end

-- test.bot{ staff = {...}, config = {...}, scripts = "dir", broken_ok = true }
local function new_bot(opts)
  opts = opts or {}
  local cfg = {
    replay = { file = "/dev/null" },
    x = { handle = "AcmeSupport", user_id = "1500000000000000001" },
    outbox = { x_rate = 1000, max_backoff = 0.01 },
    slack = { post_rate = 1000 },
    scripts = { dir = kit.abspath(opts.scripts or default_scripts()),
                lib = kit.abspath(opts.lib or kit.lib) },
    channels = { mentions = "#support", escalations = "#support-escalations",
                 on_duty = "@support-oncall" },
    staff = opts.staff or DEFAULT_STAFF,
    sla = { first_response = 3600, warn_before = 900 },
  }
  merge(cfg, opts.config or {})
  local text = {}
  for _, k in ipairs(sorted_keys(cfg)) do text[#text + 1] = k .. " = " .. show(cfg[k]) end
  local bot, failures, log = kit.bot(table.concat(text, "\n") .. "\n")
  if failures > 0 and not opts.broken_ok then
    bot:close()
    error(("test.bot: %d script(s) of %s failed to load:\n%s"):format(failures,
      cfg.scripts.dir, log), 2)
  end
  open_bots[#open_bots + 1] = bot
  return bot
end

-- bot:mention{ from = "@ann", text = "...", name =, id =, conversation = }
-- -> ticket id (nil when none was opened or attached), ingest stats.
function Bot:mention(m)
  local id, stats = self:_mention(m)
  return id > 0 and id or nil, stats
end

local function select_sent(self, pred)
  local out = {}
  for _, e in ipairs(self:_sent()) do if pred(e) then out[#out + 1] = e end end
  return out
end

-- Every send, in order ({kind, ticket, channel, ref, to, text}); `kind`
-- keeps one kind ("ticket", "update", "thread", "channel", "reply", "dm").
function Bot:sent(kind)
  return select_sent(self, function(e) return not kind or e.kind == kind end)
end

-- The texts of ticket `id`'s thread, as they read now.
function Bot:thread(id)
  local out = {}
  for _, e in ipairs(self:_sent()) do
    if e.kind == "thread" and e.ticket == id then out[#out + 1] = e.text end
  end
  return out
end

-- Public replies sent to X: { {ticket =, to = tweet id, text =}, ... }.
function Bot:replies(id)
  local out = {}
  for _, e in ipairs(self:_sent()) do
    if e.kind == "reply" and (not id or e.ticket == id) then
      out[#out + 1] = { ticket = e.ticket, to = e.to, text = e.text }
    end
  end
  return out
end

-- DMs sent on X: { {to = customer's user id, text =}, ... }.
function Bot:dms()
  local out = {}
  for _, e in ipairs(self:_sent()) do
    if e.kind == "dm" then out[#out + 1] = { to = e.to, text = e.text } end
  end
  return out
end

-- Posts deleted on X (unsend): { {id = post id}, ... }.
function Bot:deletes()
  local out = {}
  for _, e in ipairs(self:_sent()) do
    if e.kind == "delete" then out[#out + 1] = { id = e.to } end
  end
  return out
end

-- Files shared in chat (export): { {channel =, name =, title =, text =}, ... }.
function Bot:uploads()
  local out = {}
  for _, e in ipairs(self:_sent()) do
    if e.kind == "upload" then
      out[#out + 1] = { channel = e.channel, name = e.to, title = e.ref, text = e.text }
    end
  end
  return out
end

-- Texts posted to a channel outside any ticket's thread (escalations,
-- notices, pings of the on-duty group).
function Bot:channel(name)
  local out = {}
  for _, e in ipairs(self:_sent()) do
    if e.kind == "channel" and e.channel == name then out[#out + 1] = e.text end
  end
  return out
end

-- The audit trail of ticket `id` as "actor action detail" lines, or the
-- events of one action; `id` nil: the desk-wide events (away, back).
function Bot:audit(id, action)
  local out = {}
  for _, e in ipairs(self:events(id)) do
    if not action or e.action == action then
      out[#out + 1] = e.actor .. " " .. e.action .. (e.detail ~= "" and " " .. e.detail or "")
    end
  end
  return out
end

test = setmetatable({ bot = new_bot, show = function(v) return show(v, "") end }, {
  __call = function(_, name, fn)
    assert(type(name) == "string" and type(fn) == "function", "test(\"name\", function() ... end)")
    local list = test._list
    list[#list + 1] = { name = name, fn = fn }
  end,
})

-- An error in a test: the message and the test file's part of the stack
-- (the kit's own frames say nothing to the test's author).
local function handler(e)
  if getmetatable(e) == Failure then return e end
  local out = {}
  for l in debug.traceback(tostring(e), 2):gmatch("[^\n]+") do
    if not l:find("testkit.lua", 1, true) and not l:find("[C]: in function 'xpcall'", 1, true) then
      out[#out + 1] = l
    end
  end
  return table.concat(out, "\n")
end

-- Runs every test of one file; prints each; returns passed, failed.
function _kit_run_file(path)
  test._list = {}
  current_file = path
  local env = setmetatable({}, { __index = _G })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then
    print("FAIL " .. err)
    return 0, 1
  end
  local ok, lerr = xpcall(chunk, handler)
  if not ok then
    print("FAIL " .. path .. ": " .. tostring(lerr))
    return 0, 1
  end
  local passed, failed = 0, 0
  if #test._list == 0 then
    print("FAIL " .. path .. ": no test(\"...\", function() ... end) in the file")
    return 0, 1
  end
  for _, t in ipairs(test._list) do
    local tok, terr = xpcall(t.fn, handler)
    for _, b in ipairs(open_bots) do b:close() end
    open_bots = {}
    if tok then
      passed = passed + 1
      print("ok   " .. path .. ": " .. t.name)
    else
      failed = failed + 1
      local msg = getmetatable(terr) == Failure and (terr.where .. ":\n" .. terr.msg) or tostring(terr)
      print("FAIL " .. path .. ": " .. t.name .. "\n     " .. msg:gsub("\n", "\n     "))
    end
  end
  collectgarbage()
  return passed, failed
end
