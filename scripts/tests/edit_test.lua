-- edit <ticket> <new text>: a lead rewrites a draft reply and approves it.
local STAFF = {
  U01ALICE = { name = "Alice Jensen", role = "lead" },
  U02BOB   = { name = "Bob Okafor", role = "agent" },
  U05TIA   = { name = "Tia Novak", role = "agent" },
}

local function drafted()
  local bot = test.bot{ staff = STAFF, config = { approval = { people = { "U05TIA" } } } }
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say("U05TIA", "/tw reply 1 hello ann")
  return bot
end

test("the lead's text replaces the draft and goes out, signed by the lead", function()
  local bot = drafted()
  expect(bot:say("U01ALICE", "/tw edit 1 Sorry Ann, your order ships today")):equals(
    "Edited and approved: the reply to @ann goes out: Sorry Ann, your order ships today ^AJ\n" ..
    "Undo: /tw undo 1")
  bot:advance(10)
  expect(bot:replies()):equals({ { ticket = 1, to = "1864000000000000001",
                                   text = "Sorry Ann, your order ships today ^AJ" } })
end)

test("without text it says how, and sends nothing", function()
  local bot = drafted()
  expect(bot:say("U01ALICE", "/tw edit 1")):equals(
    "Type the new text: /tw edit 1 <new text> (the draft is in #1's thread).")
  bot:advance(10)
  expect(bot:replies()):has_length(0)
end)

test("only leads edit; a ticket without a draft says so", function()
  local bot = drafted()
  expect(bot:say("U02BOB", "/tw edit 1 mine")):equals("/tw edit needs the lead role; you are agent.")
  bot:mention{ from = "@cat", text = "@AcmeSupport hi" }
  expect(bot:say("U01ALICE", "/tw edit 2 hi")):equals("#2 has no draft waiting for approval.")
  bot:advance(10)
  expect(bot:replies()):has_length(0)
end)
