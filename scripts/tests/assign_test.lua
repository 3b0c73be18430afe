-- assign <ticket> [@user|me]
local LEAD, AGENT = "U01ALICE", "U02BOB"

test("assign me takes the ticket", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  expect(bot:say(AGENT, "/tw assign " .. id .. " me")):equals("#1 is yours now.")
  expect(bot:ticket(id).assignee):equals(AGENT)
  expect(bot:ticket(id).status):equals("assigned")
end)

test("assign to a teammate names the previous owner", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say(LEAD, "/tw assign 1")
  expect(bot:say(LEAD, "/tw assign 1 <@U02BOB|bob>")):equals("#1 is now Bob Okafor's (was Alice Jensen's).")
  expect(bot:audit(id, "assigned")):equals({ "U01ALICE assigned U01ALICE", "U01ALICE assigned U02BOB" })
end)

test("the Assign to me button does what the command does", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:press(LEAD, "assign_me", id)):equals("#1 is yours now.")
  expect(bot:ticket(id).assignee_name):equals("Alice Jensen")
end)

test("no ticket number gets the usage", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw assign")):contains("assign <ticket>")
end)
