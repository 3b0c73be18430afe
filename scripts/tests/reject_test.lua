-- reject <ticket> [reason]: a lead refuses a draft reply; its author is told why.
local STAFF = {
  U01ALICE = { name = "Alice Jensen", role = "lead" },
  U02BOB   = { name = "Bob Okafor", role = "agent" },
  U05TIA   = { name = "Tia Novak", role = "agent" },
}

local function drafted()
  local bot = test.bot{ staff = STAFF, config = { approval = { people = { "U05TIA" } } } }
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say("U05TIA", "/tw reply 1 whatever")
  return bot
end

test("a rejected draft never goes out; the thread tells its author why", function()
  local bot = drafted()
  expect(bot:say("U01ALICE", "/tw reject 1 too curt, say sorry first")):equals(
    "Rejected Tia Novak's draft for #1; they are told in its thread.")
  bot:advance(60)
  expect(bot:replies()):has_length(0)
  local thread = bot:thread(1)
  expect(thread[1]):contains("Rejected by Alice Jensen: too curt, say sorry first")
  expect(thread[2]):equals("Tia Novak, Alice Jensen rejected your reply to #1: too curt, say sorry first")
  expect(bot:audit(1, "rejected")):has_length(1)
  expect(bot:say("U01ALICE", "/tw approve 1")):equals("#1 has no draft waiting for approval.")
end)

test("only leads reject; a ticket without a draft says so", function()
  local bot = drafted()
  expect(bot:say("U02BOB", "/tw reject 1 no")):equals("/tw reject needs the lead role; you are agent.")
  bot:mention{ from = "@cat", text = "@AcmeSupport hi" }
  expect(bot:say("U01ALICE", "/tw reject 2 no")):equals("#2 has no draft waiting for approval.")
  expect(bot:say("U01ALICE", "/tw reject")):equals("Usage: /tw reject <ticket> [reason]")
end)
