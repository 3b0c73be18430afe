-- escalate <ticket> [reason]: leads only.
local LEAD, AGENT = "U01ALICE", "U02BOB"

test("a lead escalates to the escalations channel with the reason", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(LEAD, "/tw escalate 1 legal threat")):equals(
    "#1 escalated to #support-escalations: legal threat.")
  expect(bot:ticket(id).escalated):equals(true)
  expect(bot:ticket(id).escalation_reason):equals("legal threat")
  expect(bot:channel("#support-escalations")):has_length(1)
  expect(bot:channel("#support-escalations")[1]):contains("legal threat")
end)

test("an agent may not escalate", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw escalate 1")):contains("lead")
  expect(bot:ticket(id).escalated):equals(false)
end)
