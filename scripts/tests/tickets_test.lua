-- tickets [open|mine|unassigned|escalated|closed|all]
local AGENT = "U02BOB"

test("open tickets are listed newest first with their clock", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport first" }
  bot:advance(120)
  bot:mention{ from = "@bo", text = "@AcmeSupport second" }
  local out = bot:say(AGENT, "/tw tickets")
  expect(out):matches("^Open tickets:\n#2 .-second\n#1 .-first$")
  expect(out):contains("due in 58 min")
end)

test("mine lists only what is assigned to me", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport first" }
  expect(bot:say(AGENT, "/tw tickets mine")):equals("You have no open tickets.")
  bot:say(AGENT, "/tw assign 1 me")
  expect(bot:say(AGENT, "/tw tickets mine")):contains("#1")
end)

test("an unknown list gets the usage", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw tickets someday")):contains("tickets [")
end)
