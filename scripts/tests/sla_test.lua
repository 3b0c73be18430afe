-- hooks/sla.lua: a ticket that misses its first-response target escalates.
test("a ticket nobody answered within the hour is escalated once, by the hook", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello?" }
  bot:advance(59 * 60)
  expect(bot:ticket(id).escalated):equals(false)
  expect(bot:ticket(id).sla_warned):equals(true)
  bot:advance(2 * 60)
  expect(bot:ticket(id).escalated):equals(true)
  expect(bot:ticket(id).escalation_reason):equals("first-response target missed")
  bot:advance(3600)
  expect(bot:audit(id, "escalated")):equals({ "hook:sla.lua escalated first-response target missed" })
  expect(bot:channel("#support-escalations")):has_length(1)
end)

test("an answered ticket is never escalated", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello?" }
  bot:advance(600)
  bot:say("U02BOB", "/tw reply 1 hi Ann")
  bot:advance(7200)
  expect(bot:ticket(id).escalated):equals(false)
  expect(bot:audit(id, "escalated")):equals({})
end)
