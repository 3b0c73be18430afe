-- close <ticket>, and reopen <ticket>
local AGENT = "U02BOB"

test("closing an unanswered ticket warns that the customer never got a reply", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw close " .. id)):equals("#1 closed. Note: @ann never got a reply.")
  expect(bot:ticket(id).status):equals("closed")
end)

test("closing an answered ticket just closes it", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  bot:say(AGENT, "/tw reply 1 hi Ann")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:say(AGENT, "/tw close 1")):equals("#1 closed.")
  expect(bot:ticket(id).closed_at):equals(bot:now())
end)

test("the Close button closes", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:press(AGENT, "close", id)):contains("#1 closed.")
  expect(bot:ticket(id).state):equals("closed")
end)
