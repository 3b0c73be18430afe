-- stats [today|7d]
local AGENT = "U02BOB"

test("stats count tickets, answers and the median first response", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport first" }
  bot:mention{ from = "@bo", text = "@AcmeSupport second" }
  bot:advance(300)
  bot:say(AGENT, "/tw reply 1 on it")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  local out = bot:say(AGENT, "/tw stats")
  expect(out):contains("Now: 2 open, 2 unassigned, 0 escalated.")
  expect(out):contains("Today: 2 new tickets, 1 answered, 1 within the 1 h target (100%).")
  expect(out):contains("Median first response: 5 min.")
end)

test("an unknown period gets the usage", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw stats forever")):contains("stats [today|7d|30d]")
end)
