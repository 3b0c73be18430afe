-- undo <ticket>: takes back a reply or DM still in its undo window (reply.hold).
local AGENT = "U02BOB"

test("a reply undone within the window never reaches X, and the thread says who undid it", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say(AGENT, "/tw reply " .. id .. " Sorry, checking")
  bot:advance(3)
  expect(bot:say(AGENT, "/tw undo " .. id)):equals("Reply to @ann undone: nothing was sent.")
  bot:advance(60)
  expect(bot:replies()):has_length(0)
  expect(bot:queued("reply")):has_length(0)
  expect(bot:thread(id)[1]):contains("Undone by Bob Okafor: nothing was sent.")
  expect(bot:ticket(id).first_response_at):equals(0)
end)

test("a DM undone within the window is not sent either", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say(AGENT, "/tw dm " .. id .. " your order number?")
  expect(bot:say(AGENT, "/tw undo " .. id)):equals("DM to @ann undone: nothing was sent.")
  bot:advance(60)
  expect(bot:dms()):has_length(0)
end)

test("after the window it is too late, and the answer names unsend", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say(AGENT, "/tw reply " .. id .. " Sorry, checking")
  bot:advance(6)
  expect(bot:say(AGENT, "/tw undo " .. id)):equals(
    "Too late to undo: #1's reply was already sent. To take it back: /tw unsend 1")
  expect(bot:replies(id)):has_length(1)
end)

test("nothing waiting, or no ticket, explains", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw undo " .. id)):equals("#1 has no reply or DM waiting to be sent.")
  expect(bot:say(AGENT, "/tw undo")):equals("Usage: /tw undo <ticket>")
  expect(bot:say(AGENT, "/tw undo 99")):contains("#99")
end)
