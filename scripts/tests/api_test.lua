-- The script API's queries, presence and kv (vigil.tickets, vigil.count,
-- vigil.presence, vigil.available, kv), through the fixture command in
-- api/probe.lua: `/tw probe <expression>` answers with the values, as Lua.
local LEAD, AGENT = "U01ALICE", "U02BOB"
local FIXTURES = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "api"

local function probe_bot(opts)
  opts = opts or {}
  opts.scripts = FIXTURES
  return test.bot(opts)
end

local function probe(bot, expr, user)
  return bot:say(user or AGENT, "/tw probe " .. expr)
end

-- Three tickets: #1 Bob's, answered; #2 Alice's, escalated and tagged;
-- #3 nobody's.  Ten minutes apart.  (The fixture folder has no other
-- commands: the probe acts through the ticket methods.)
local function desk(bot)
  bot:mention{ from = "@ann", text = "@AcmeSupport one" }
  probe(bot, "ctx:ticket(1):assign(ctx.user).id")
  probe(bot, "ctx:ticket(1):reply('on it')")
  bot:advance(600)
  bot:mention{ from = "@ben", text = "@AcmeSupport two" }
  probe(bot, "ctx:ticket(2):assign(ctx.user):escalate('refund'):tag('billing').id", LEAD)
  bot:advance(600)
  bot:mention{ from = "@cat", text = "@AcmeSupport three" }
  bot:advance(10)
end

test("vigil.tickets filters by assignee, state, escalation, waiting and tag", function()
  local bot = probe_bot()
  desk(bot)
  expect(probe(bot, "ids(vigil.tickets{})")):equals("{3, 2, 1}")
  expect(probe(bot, "ids(vigil.tickets{ order = 'oldest' })")):equals("{1, 2, 3}")
  expect(probe(bot, "ids(vigil.tickets{ assignee = 'U02BOB' })")):equals("{1}")
  expect(probe(bot, "ids(vigil.tickets{ assignee = ctx.user })")):equals("{1}")
  expect(probe(bot, "ids(vigil.tickets{ assignee = false })")):equals("{3}")
  expect(probe(bot, "ids(vigil.tickets{ escalated = true })")):equals("{2}")
  expect(probe(bot, "ids(vigil.tickets{ waiting = true })")):equals("{3, 2}")
  expect(probe(bot, "ids(vigil.tickets{ tag = 'billing' })")):equals("{2}")
  expect(probe(bot, "ids(vigil.tickets{ limit = 1 })")):equals("{3}")
  expect(probe(bot, "ids(vigil.tickets{ since = vigil.now() - 300 })")):equals("{3}")
end)

test("a listed ticket is a ticket object, methods included", function()
  local bot = probe_bot()
  desk(bot)
  expect(probe(bot, "vigil.tickets{ assignee = false }[1]:assign('U02BOB').assignee.name")):equals('"Bob Okafor"')
  expect(bot:ticket(3).assignee):equals(AGENT)
  expect(bot:audit(3, "assigned")):equals({ "U02BOB assigned U02BOB" })
end)

test("vigil.count counts the same filters; closed tickets only when asked", function()
  local bot = probe_bot()
  desk(bot)
  probe(bot, "ctx:ticket(1):close().id")
  expect(probe(bot, "vigil.count{}, vigil.count{ state = 'closed' }, vigil.count{ state = 'all' }"))
    :equals("2, 1, 3")
  expect(probe(bot, "vigil.count{ assignee = 'U01ALICE' }, vigil.count{ assignee = false }")):equals("1, 1")
end)

test("an unknown filter key or a bad value is an error, never a wider query", function()
  local bot = probe_bot()
  expect(probe(bot, "try(vigil.count, { colour = 'red' })")):contains("unknown filter 'colour'")
  expect(probe(bot, "try(vigil.count, { limit = 5 })")):contains("unknown filter 'limit'")
  expect(probe(bot, "try(vigil.tickets, { limit = 501 })")):contains("limit")
  expect(probe(bot, "try(vigil.tickets, { state = 'gone' })")):contains("state")
  expect(probe(bot, "try(vigil.tickets, { priority = 'meh' })")):contains("priority is")
  expect(probe(bot, "try(vigil.count, { priority = 'meh' })")):contains("priority is")
  expect(probe(bot, "vigil.count{ priority = 'normal' }")):equals("0")
end)

test("a listed ticket is a copy: changing it changes nothing", function()
  local bot = probe_bot()
  desk(bot)
  probe(bot, "(function() local t = vigil.tickets{ assignee = false }[1]; t.escalated = true; return t.id end)()")
  expect(bot:ticket(3).escalated):equals(false)
end)

test("vigil.presence and vigil.available follow away and back", function()
  local bot = probe_bot()
  expect(probe(bot, "vigil.available('U02BOB')")):equals("true")
  probe(bot, "vigil.set_away(ctx.user, { reason = 'lunch', back_at = vigil.now() + 3600 })")
  local p = probe(bot, "vigil.presence('U02BOB')")
  expect(p):contains("available = false, away = true")
  expect(p):contains('reason = "lunch"')
  expect(p):contains("back_at = " .. (bot:now() + 3600))
  expect(probe(bot, "vigil.available('U02BOB')")):equals('false, "away"')
  expect(bot:audit()):has_length(1)
  bot:advance(3600 + 60)                       -- an absence with an end stops by itself
  expect(probe(bot, "vigil.available('U02BOB')")):equals("true")
  expect(probe(bot, "#vigil.presence()")):equals("4")   -- the staff and the console's admin
end)

test("set_back of someone not away is refused with its message", function()
  local bot = probe_bot()
  expect(probe(bot, "try(vigil.set_back, 'U02BOB')")):equals('"Bob Okafor was not away."')
end)

test("an off-shift teammate is not available, by the bot's clock", function()
  local start
  do local b = probe_bot(); start = b:now(); b:close() end
  local t = os.date("!*t", start)   -- the desk's zone: UTC, as sla.hours is not set
  local day = ({ "sun", "mon", "tue", "wed", "thu", "fri", "sat" })[t.wday]
  local shift = ("%s %02d:00-%02d:00"):format(day, t.hour, t.hour + 1)
  local bot = probe_bot{ staff = {
    U01ALICE = { name = "Alice Jensen", role = "lead" },
    U02BOB   = { name = "Bob Okafor", role = "agent", shift = shift },
  } }
  expect(probe(bot, "vigil.available('U02BOB')")):equals("true")
  bot:advance(2 * 3600)
  expect(probe(bot, "vigil.available('U02BOB')")):equals('false, "off shift"')
  expect(probe(bot, "vigil.presence('U02BOB').shift")):equals(("%q"):format(shift))
end)

test("kv keeps values per script file, across a reload", function()
  local bot = probe_bot()
  expect(probe(bot, "kv:set('k', { n = 1, list = { 'a', true } })")):equals("")
  expect(probe(bot, "kv:get('k')")):equals('{list = {"a", true}, n = 1}')
  expect(probe(bot, "ctx.kv:get('k').n")):equals("1")           -- ctx.kv is the same store
  expect(bot:say(AGENT, "/tw other k")):equals("nil")          -- other.lua has its own
  bot:say(AGENT, "/tw other k 42")
  expect(probe(bot, "kv:get('k').n, vigil.reload('other')")):equals("1, true, 0")
  expect(bot:say(AGENT, "/tw other k")):equals("42")           -- reloaded, kept
  probe(bot, "kv:delete('k')")
  expect(probe(bot, "kv:get('k')")):equals("nil")
end)

test("kv refuses what it cannot store, with the reason", function()
  local bot = probe_bot()
  expect(probe(bot, "try(kv.set, kv, 'f', print)")):equals('"kv: cannot store a function"')
  expect(probe(bot, "try(kv.set, kv, ('k'):rep(300), 1)")):contains("kv keys are at most 256 bytes")
  expect(probe(bot, "kv:get('f')")):equals("nil")
end)

test("vigil.date and vigil.time read the desk's time zone, not the process's", function()
  -- Monday 2026-12-07 07:30 UTC: 16:30 in Tokyo, Sunday 23:30 in Los Angeles
  local at = 1796628600
  local tokyo = probe_bot{ config = { sla = { hours = { timezone = "Asia/Tokyo",
                                                         weekdays = "09:00-17:00" } } } }
  expect(probe(tokyo, ("vigil.date('%%a %%H:%%M', %d)"):format(at))):equals('"Mon 16:30"')
  expect(probe(tokyo, ("vigil.date('!%%H:%%M', %d)"):format(at))):equals('"07:30"')
  expect(probe(tokyo, ("vigil.date('*t', %d).wday"):format(at))):equals("2")
  expect(probe(tokyo, "vigil.time{ year = 2026, month = 12, day = 7, hour = 14, min = 0 }"))
    :equals(tostring(at - 2 * 3600 - 1800))                          -- 05:00 UTC
  local la = probe_bot{ config = { sla = { hours = { timezone = "America/Los_Angeles",
                                                      weekdays = "09:00-17:00" } } } }
  expect(probe(la, ("vigil.date('%%a %%H:%%M', %d)"):format(at))):equals('"Sun 23:30"')
  expect(probe(la, "vigil.time{ year = 2026, month = 12, day = 7, hour = 14, min = 0 }"))
    :equals(tostring(at + 14 * 3600 + 1800))                         -- 22:00 UTC
  expect(probe(la, "vigil.time{ year = 2026, month = 12, day = 32, hour = 0 }"))
    :equals("1798790400")                           -- 2027-01-01 00:00 PST, 08:00 UTC
  expect(probe(la, "try(vigil.time, { year = 2026, month = 12 })")):contains("'day' missing")
end)
