-- hooks/autoassign.lua: each new ticket goes to an available agent, round
-- robin or least loaded, when config turns it on.
local LEAD, AGENT, ADMIN = "U01ALICE", "U02BOB", "U03CARMEN"

local STAFF = {
  U01ALICE  = { name = "Alice Jensen", role = "lead" },
  U02BOB    = { name = "Bob Okafor",   role = "agent" },
  U03CARMEN = { name = "Carmen Ruiz",  role = "admin" },
  U04DINA   = { name = "Dina Berg",    role = "agent" },
}

local function bot_with(mode, cap)
  return test.bot{ staff = STAFF, config = { autoassign = { mode = mode, cap = cap or 8 } } }
end

-- Opens `n` tickets from distinct customers; returns their assignees in order.
local function open_tickets(bot, n, first)
  local who = {}
  for i = 1, n do
    local id = bot:mention{ from = "@cust" .. ((first or 0) + i), text = "@AcmeSupport help " .. i }
    who[#who + 1] = bot:ticket(id).assignee or "nobody"
  end
  return who
end

test("off by default: a new ticket stays unassigned", function()
  local bot = test.bot{ staff = STAFF }
  expect(open_tickets(bot, 2)):equals({ "nobody", "nobody" })
end)

test("round robin goes through agents and leads by id, never an admin", function()
  local bot = bot_with("round_robin")
  expect(open_tickets(bot, 4)):equals({ LEAD, AGENT, "U04DINA", LEAD })
  expect(bot:audit(1, "assigned")):equals({ "hook:autoassign.lua assigned U01ALICE" })
  expect(bot:thread(1)):contains("hook:autoassign.lua assigned #1 to Alice Jensen")
end)

test("a mention joining an open ticket assigns nothing new", function()
  local bot = bot_with("round_robin")
  bot:mention{ from = "@ann", text = "@AcmeSupport help", id = "1900000000000000001" }
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport still there?",
                          conversation = "1900000000000000001" }
  expect(id):equals(1)
  expect(bot:audit(1, "assigned")):has_length(1)
  expect(open_tickets(bot, 1)):equals({ AGENT })     -- the rotation did not move
end)

test("an away agent is skipped, and takes part again once back", function()
  local bot = bot_with("round_robin")
  bot:say(AGENT, "/tw away lunch")
  expect(open_tickets(bot, 3)):equals({ LEAD, "U04DINA", LEAD })
  bot:say(AGENT, "/tw back")
  expect(open_tickets(bot, 1, 3)):equals({ AGENT })
end)

test("an agent at the cap is skipped; nobody left leaves it unassigned", function()
  local bot = bot_with("round_robin", 1)
  expect(open_tickets(bot, 4)):equals({ LEAD, AGENT, "U04DINA", "nobody" })
  expect(bot:log()):lacks("error")
  bot:say(AGENT, "/tw close 2")
  expect(open_tickets(bot, 1, 4)):equals({ AGENT })
end)

test("least loaded picks whoever holds the fewest, ties going round", function()
  local bot = bot_with("least_loaded")
  bot:mention{ from = "@x1", text = "@AcmeSupport a" }   -- Alice (all at 0: the first)
  bot:say(LEAD, "/tw assign 1 <@U04DINA|dina>")          -- now Dina 1, Alice 0, Bob 0
  expect(open_tickets(bot, 3, 10)):equals({ AGENT, LEAD, AGENT })
  -- Alice 1, Bob 2, Dina 1: of the tied, the one after Bob (the last chosen)
  expect(open_tickets(bot, 1, 20)):equals({ "U04DINA" })
  expect(open_tickets(bot, 1, 30)):equals({ LEAD })      -- all at 2 but Alice
end)

test("the rotation's place is kept in kv across a reload", function()
  local bot = bot_with("round_robin")
  expect(open_tickets(bot, 2)):equals({ LEAD, AGENT })
  bot:say(ADMIN, "/tw reload")
  expect(open_tickets(bot, 1, 2)):equals({ "U04DINA" })
end)
