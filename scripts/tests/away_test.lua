-- away [@user] [reason] [until] and back [@user]: presence, as /tw workload
-- and auto-assignment see it.
local LEAD, AGENT = "U01ALICE", "U02BOB"

test("away with a reason and a duration marks you away until then", function()
  local bot = test.bot{}
  local answer = bot:say(AGENT, "/tw away lunch 1h")
  expect(answer):contains("You are away (lunch) until ")
  expect(answer):contains("/tw back ends it.")
  expect(answer):lacks("auto-assigned")              -- auto-assignment is off
  expect(bot:say(AGENT, "/tw workload")):matches("Bob Okafor +0 +%- +away until %a+ %d%d:%d%d %(lunch%)")
end)

test("an absence with an end stops by itself", function()
  local bot = test.bot{}
  bot:say(AGENT, "/tw away dentist until 2h")
  expect(bot:say(AGENT, "/tw workload")):contains("(dentist)")
  bot:advance(2 * 3600 + 60)
  expect(bot:say(AGENT, "/tw workload")):matches("Bob Okafor +0 +%- +available")
end)

test("'until' and the time are not part of the reason", function()
  local bot = test.bot{}
  local answer = bot:say(AGENT, "/tw away at the doctor until tomorrow")
  expect(answer):contains("You are away (at the doctor) until ")
  expect(answer):lacks("(at the doctor until")
end)

test("a word that is no time stays in the reason, with no end", function()
  local bot = test.bot{}
  local answer = bot:say(AGENT, "/tw away out 25:00")
  expect(answer):contains("You are away (out 25:00).")
  expect(answer):lacks(" until ")
end)

test("with auto-assignment on, the answer says new tickets pass you by", function()
  local bot = test.bot{ config = { autoassign = { mode = "round_robin", cap = 8 } } }
  expect(bot:say(AGENT, "/tw away")):equals(
    "You are away. New tickets are not auto-assigned meanwhile; /tw back ends it.")
end)

test("a lead can mark a teammate away and back; both are audited", function()
  local bot = test.bot{}
  expect(bot:say(LEAD, "/tw away <@U02BOB|bob> sick")):equals(
    "Bob Okafor is away (sick). /tw back @Bob Okafor ends it.")
  expect(bot:say(AGENT, "/tw workload")):contains("away (sick)")
  expect(bot:say(LEAD, "/tw back <@U02BOB|bob>")):equals("Bob Okafor is back.")
  expect(bot:say(AGENT, "/tw workload")):matches("Bob Okafor +0 +%- +available")
  expect(bot:audit()):equals({ "U01ALICE away U02BOB: sick", "U01ALICE back U02BOB" })
end)

test("an agent cannot mark someone else away or back", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw away <@U01ALICE|alice> lunch")):equals("That needs the lead role; you are agent.")
  expect(bot:say(LEAD, "/tw workload")):matches("Alice Jensen +0 +%- +available")
  bot:say(LEAD, "/tw away")
  expect(bot:say(AGENT, "/tw back <@U01ALICE|alice>")):equals("That needs the lead role; you are agent.")
  expect(bot:say(LEAD, "/tw workload")):matches("Alice Jensen +0 +%- +away")
end)

test("back ends your own absence; back when not away says so", function()
  local bot = test.bot{}
  bot:say(AGENT, "/tw away")
  expect(bot:say(AGENT, "/tw back")):equals("Welcome back.")
  expect(bot:say(AGENT, "/tw back")):equals("Bob Okafor was not away.")
end)

test("a clock time is the desk's (sla.hours.timezone), not the server's", function()
  local bot = test.bot{ config = { sla = { hours = { timezone = "Asia/Tokyo",
                                                      weekdays = "09:00-17:00" } } } }
  -- 14:00 in Tokyo is 05:00 UTC: the next one after the bot's clock
  local now = bot:now()
  local left = (5 * 3600 - now % 86400) % 86400
  if left < 60 then left = left + 86400 end
  local h, m = left // 3600, left % 3600 // 60
  local due = h == 0 and ("in %d min"):format(m)
           or m == 0 and ("in %d h"):format(h) or ("in %d h %d min"):format(h, m)
  expect(bot:say(AGENT, "/tw away 14:00")):matches(" until %a+ 14:00 %(" .. due .. "%)")
end)
