-- unassign <ticket>
local AGENT = "U02BOB"

test("unassign puts the ticket back and says who had it", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  bot:say(AGENT, "/tw assign 1 me")
  expect(bot:say(AGENT, "/tw unassign 1")):equals("#1 is unassigned (was Bob Okafor's).")
  expect(bot:ticket(id).assignee):is_nil()
  expect(bot:ticket(id).status):equals("new")
end)
