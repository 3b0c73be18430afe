-- reopen <ticket>
local AGENT = "U02BOB"

test("a closed ticket can be reopened", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  bot:say(AGENT, "/tw close 1")
  expect(bot:say(AGENT, "/tw reopen 1")):equals("#1 is open again.")
  expect(bot:ticket(id).state):equals("open")
end)

test("reopen without a ticket gives the usage", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw reopen")):contains("reopen <ticket>")
end)
