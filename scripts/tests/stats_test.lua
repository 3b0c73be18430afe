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

test("within target by hour opened and by agent, with each agent's median", function()
  local bot = test.bot{}
  local nine = os.date("%H", bot:now())   -- hours are the server's local time
  bot:mention{ from = "@ann", text = "@AcmeSupport first" }
  bot:mention{ from = "@bo", text = "@AcmeSupport second" }
  bot:mention{ from = "@cy", text = "@AcmeSupport third, never answered" }
  bot:advance(300)
  bot:say(AGENT, "/tw reply 1 on it")          -- Bob: 5 min, within the hour
  bot:advance(2 * 3600)
  bot:say("U03CARMEN", "/tw reply 2 sorry")    -- Carmen: past the target
  local ten = os.date("%H", bot:now())
  bot:mention{ from = "@di", text = "@AcmeSupport fourth, target still ahead" }
  bot:advance(10)
  local out = bot:say(AGENT, "/tw stats")
  expect(out):contains("Answered within target, by hour opened (desk time):\n" ..
                       "  " .. nine .. ":00  1/3 (33%)\n")
  expect(out):lacks("  " .. ten .. ":00")   -- #4's target is still ahead: not counted yet
  expect(out):contains("By agent (who sent the first answer):\n" ..
                       "  Bob Okafor   1/1 (100%)  median 5 min\n" ..
                       "  Carmen Ruiz  0/1 (0%)    median 2 h 5 min")
end)

test("before any target is decided the breakdown is left out", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport first" }
  local out = bot:say(AGENT, "/tw stats")
  expect(out):lacks("by hour opened"):lacks("By agent")
end)
