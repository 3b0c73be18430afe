-- tag <ticket> <tag>
local AGENT = "U02BOB"

test("tags are lower-cased and kept sorted", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw tag 1 #Refund")):equals("#1 tagged refund.")
  bot:say(AGENT, "/tw tag 1 billing")
  expect(bot:ticket(id).tags):equals({ "billing", "refund" })
end)

test("a bad tag is refused", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw tag 1 no!way")):lacks("tagged")
  expect(bot:ticket(id).tags):equals({})
end)
