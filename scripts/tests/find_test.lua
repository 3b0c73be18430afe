-- find <words> [@handle] [tag:] [status:] [assignee:] [since:] [until:] [page:N]
local AGENT = "U02BOB"

-- #1 @ann (closed, three days old), #2 @bob (Bob's, tagged billing), #3 @cat.
local function desk()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:advance(3 * 86400)
  bot:mention{ from = "@bob", text = "@AcmeSupport refund for my order please" }
  bot:mention{ from = "@cat", text = "@AcmeSupport NEAR(\" * -x is what the form said" }
  bot:say(AGENT, "/tw assign 2 me")
  bot:say(AGENT, "/tw tag 2 billing")
  bot:say(AGENT, "/tw close 1")
  return bot
end

-- The ticket numbers a find answer lists, in order.
local function ids(answer)
  local out = {}
  for id in answer:gmatch("\n#(%d+) ") do out[#out + 1] = tonumber(id) end
  return out
end

test("words find every ticket whose tweets hold them all, newest first, with links", function()
  local bot = desk()
  local out = bot:say(AGENT, "/tw find order")
  expect(out):contains("2 tickets match (1–2, newest first):")
  expect(ids(out)):equals({ 2, 1 })
  expect(out):contains("@bob  refund for my order please  https://x.com/bob/status/")
  expect(ids(bot:say(AGENT, "/tw find refund order"))):equals({ 2 })
  expect(bot:say(AGENT, "/tw find zebra")):equals("No tickets match.")
end)

test("@handle, tag:, status: and assignee: narrow the search", function()
  local bot = desk()
  expect(bot:say(AGENT, "/tw find @ann")):contains("1 ticket matches:")
  expect(ids(bot:say(AGENT, "/tw find @ann"))):equals({ 1 })
  expect(ids(bot:say(AGENT, "/tw find order tag:billing"))):equals({ 2 })
  expect(ids(bot:say(AGENT, "/tw find order status:closed"))):equals({ 1 })
  expect(ids(bot:say(AGENT, "/tw find order status:open"))):equals({ 2 })
  expect(ids(bot:say(AGENT, "/tw find assignee:me"))):equals({ 2 })
  expect(bot:say("U01ALICE", "/tw find assignee:me")):equals("No tickets match.")
end)

test("since: and until: take an age or a UTC date; a bad one says what they take", function()
  local bot = desk()
  expect(ids(bot:say(AGENT, "/tw find order since:2d"))):equals({ 2 })
  expect(ids(bot:say(AGENT, "/tw find order until:2026-12-02"))):equals({ 1 })
  expect(bot:say(AGENT, "/tw find order since:soon")):contains("since: takes a date")
end)

test("a query full of search syntax is searched as plain text", function()
  local bot = desk()
  local out = bot:say(AGENT, "/tw find NEAR(\" * -x")
  expect(ids(out)):equals({ 3 })
  expect(out):contains("NEAR(\" * -x is what the form said")
  expect(bot:log()):lacks("error")
end)

test("ten a page; the last line says how to see the next; past the end says so", function()
  local bot = test.bot{}
  for i = 1, 12 do bot:mention{ from = "@p" .. i, text = "@AcmeSupport widget broken " .. i } end
  local first = bot:say(AGENT, "/tw find widget")
  expect(first):contains("12 tickets match (1–10, newest first):")
  expect(ids(first)):equals({ 12, 11, 10, 9, 8, 7, 6, 5, 4, 3 })
  expect(first):contains("\n2 more: /tw find widget page:2")
  local second = bot:say(AGENT, "/tw find widget page:2")
  expect(second):contains("12 tickets match (11–12, newest first):")
  expect(ids(second)):equals({ 2, 1 })
  expect(second):lacks("more:")
  expect(bot:say(AGENT, "/tw find widget page:3")):equals("Only 12 tickets match: there is no page 3.")
  expect(bot:say(AGENT, "/tw find widget page:0")):equals("page: is 1 to 1000.")
end)

test("find without words answers its usage", function()
  local bot = desk()
  expect(bot:say(AGENT, "/tw find")):contains("Usage: /tw find <words>")
  expect(bot:say(AGENT, "/tw find page:2")):contains("Usage: /tw find <words>")
end)

test("page: may come first", function()
  local bot = test.bot{}
  for i = 1, 12 do bot:mention{ from = "@p" .. i, text = "@AcmeSupport widget broken " .. i } end
  expect(ids(bot:say(AGENT, "/tw find page:2 widget"))):equals({ 2, 1 })
end)
