-- workload: open tickets per agent, the oldest still waiting, who is away
-- or off shift, and what nobody holds.
local LEAD, AGENT, ADMIN = "U01ALICE", "U02BOB", "U03CARMEN"

-- A shift holding the bot's clock now and ending `hours` later, in the desk's
-- time zone the bot reads shifts in ("tue 09:00-11:00").
local function shift_from(now, hours)
  local t = os.date("!*t", now)   -- the desk's zone: UTC, as sla.hours is not set
  assert(t.hour + hours <= 23, "the test epoch is too late in the local day for this helper")
  local day = ({ "sun", "mon", "tue", "wed", "thu", "fri", "sat" })[t.wday]
  return ("%s %02d:00-%02d:00"):format(day, t.hour, t.hour + hours)
end

test("an empty desk lists the agents and leads, not the admins", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw workload")):equals(table.concat({
    "Workload:",
    "Agent         Open  Oldest waiting  Status",
    "Alice Jensen  0     -               available",
    "Bob Okafor    0     -               available",
    "Unassigned: 0",
  }, "\n"))
end)

test("counts open tickets per agent and the oldest one still waiting", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport one" }
  bot:advance(600)
  bot:mention{ from = "@ben", text = "@AcmeSupport two" }
  bot:mention{ from = "@cat", text = "@AcmeSupport three" }
  bot:mention{ from = "@dan", text = "@AcmeSupport four" }
  bot:say(AGENT, "/tw assign 1 me")
  bot:say(AGENT, "/tw assign 2 me")
  bot:say(LEAD, "/tw assign 3 me")
  bot:advance(300)
  local w = bot:say(AGENT, "/tw workload")
  expect(w):matches("Alice Jensen +1 +#3 %(5 min%) +available")
  expect(w):matches("Bob Okafor +2 +#1 %(15 min%) +available")
  expect(w):contains("Unassigned: 1, oldest waiting #4 (5 min)")
end)

test("a ticket that got its first reply no longer waits; a closed one is not counted", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport one" }
  bot:mention{ from = "@ben", text = "@AcmeSupport two" }
  bot:say(AGENT, "/tw assign 1 me")
  bot:say(AGENT, "/tw assign 2 me")
  bot:say(AGENT, "/tw reply 1 on it")
  bot:advance(60)
  expect(bot:say(AGENT, "/tw workload")):matches("Bob Okafor +2 +#2 %(")
  bot:say(AGENT, "/tw close 2")
  bot:advance(60)
  expect(bot:say(AGENT, "/tw workload")):matches("Bob Okafor +1 +%- +available")
end)

test("an admin holding a ticket is listed", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport one" }
  bot:say(ADMIN, "/tw assign 1 me")
  expect(bot:say(AGENT, "/tw workload")):matches("Carmen Ruiz +1 +#1")
end)

test("shows who is away, and who is off shift, by the clock", function()
  local probe = test.bot{}                  -- every test bot starts at the same time
  local start = probe:now()
  probe:close()
  local bot = test.bot{ staff = {
    U01ALICE = { name = "Alice Jensen", role = "lead" },
    U02BOB   = { name = "Bob Okafor", role = "agent", shift = shift_from(start, 2) },
  } }
  bot:say(LEAD, "/tw away training")
  expect(bot:say(AGENT, "/tw workload")):matches("Alice Jensen +0 +%- +away %(training%)")
  expect(bot:say(AGENT, "/tw workload")):matches("Bob Okafor +0 +%- +available")
  bot:advance(3 * 3600)
  expect(bot:say(AGENT, "/tw workload")):matches("Bob Okafor +0 +%- +off shift %(%a%a%a %d%d:00%-%d%d:00%)")
end)

test("with auto-assignment on, an agent at the cap is shown so", function()
  local bot = test.bot{ config = { autoassign = { mode = "round_robin", cap = 1 } } }
  bot:say(LEAD, "/tw away")
  bot:mention{ from = "@ann", text = "@AcmeSupport one" }
  expect(bot:ticket(1).assignee):equals(AGENT)
  expect(bot:say(AGENT, "/tw workload")):contains(
    "Bob Okafor    1     #1 (0 s)        available, at the auto-assign cap (1)")
end)
