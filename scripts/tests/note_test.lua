-- note <ticket> <text>
local AGENT = "U02BOB"

test("a note goes to the thread and never to the customer", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw note 1 she called yesterday too")):equals("Note added to #1.")
  expect(bot:thread(id)):has_length(1)
  expect(bot:thread(id)[1]):contains("she called yesterday too")
  expect(bot:replies()):equals({})
  expect(bot:dms()):equals({})
end)

test("a note without text gives the usage", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw note 1")):contains("note <ticket> <text>")
end)
