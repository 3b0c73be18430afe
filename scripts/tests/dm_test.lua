-- dm <ticket> <text>, dm notice on|off
local LEAD, AGENT = "U01ALICE", "U02BOB"

test("a DM goes to the customer, then the public notice follows", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport my card was charged twice" }
  expect(bot:say(AGENT, "/tw dm 1 what is your order number?"))
    :contains("DM to @ann: sending in 5 s (undo: /tw undo 1)")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:dms()):equals({ { to = "u-ann", text = "what is your order number?" } })
  expect(bot:replies(id)):has_length(1)
end)

test("a lead can turn the public notice off", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(LEAD, "/tw dm notice off")):equals("DMs no longer reply publicly.")
  expect(bot:say(AGENT, "/tw dm 1 hi")):equals("DM to @ann: sending in 5 s (undo: /tw undo 1).")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:dms()):has_length(1)
  expect(bot:replies()):has_length(0)
end)

test("an agent may not change the notice", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw dm notice off")):contains("lead")
end)
