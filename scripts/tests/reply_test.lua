-- reply <ticket> <text>: a signed public reply on X.
local AGENT = "U02BOB"

test("a reply is signed, sent to X under the customer's tweet and shown in the thread", function()
  local bot = test.bot{}
  local id, m = bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  expect(bot:say(AGENT, "/tw reply " .. id .. " Sorry Ann, checking now")):equals(
    "Reply to @ann: sending in 5 s: Sorry Ann, checking now ^BO\nUndo: /tw undo " .. id)
  expect(bot:replies()):has_length(0)   -- the undo window (reply.hold) first
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):equals({ { ticket = id, to = m.tweet, text = "Sorry Ann, checking now ^BO" } })
  expect(bot:thread(id)[1]):contains("Bob Okafor replied publicly: Sorry Ann, checking now ^BO")
  expect(bot:ticket(id).first_response_at > 0):is_true()
end)

test("a reply without text, or to no ticket, explains and sends nothing", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw reply 1")):contains("reply <ticket> <text>")
  expect(bot:say(AGENT, "/tw reply 99 hi")):contains("#99")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):equals({})
end)

test("a reply to a closed ticket reopens it", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  bot:say(AGENT, "/tw close 1")
  expect(bot:say(AGENT, "/tw reply 1 anything else?")):contains("#1 was closed; it is open again.")
  expect(bot:ticket(id).state):equals("open")
end)

test("a reply over 280 characters is refused with the count", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw reply 1 " .. ("x"):rep(300))):matches("%d+")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):has_length(0)
end)

test("a reply undone within its window never reaches X", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say(AGENT, "/tw reply " .. id .. " wrong customer, oops")
  expect(bot:say(AGENT, "/tw undo " .. id)):equals("Reply to @ann undone: nothing was sent.")
  bot:advance(60)
  expect(bot:replies()):has_length(0)
end)
