-- history <ticket>
local AGENT = "U02BOB"

test("history shows the customer's other tickets with the replies they got", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say(AGENT, "/tw reply 1 on it")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  bot:say(AGENT, "/tw close 1")
  bot:advance(600)
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport again" }
  expect(bot:say(AGENT, "/tw history " .. id)):equals(table.concat({
    "@ann: 1 other ticket",
    "#1  closed  10 min ago  my order is late",
    "    ↳ 10 min ago: on it ^BO",
  }, "\n"))
end)

test("a first-time customer has no history", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hi" }
  expect(bot:say(AGENT, "/tw history 1")):equals("@ann has no other tickets.")
end)
