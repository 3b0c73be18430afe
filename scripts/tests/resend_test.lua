-- resend <ticket> [new text]
local AGENT = "U02BOB"

test("a reply X refused can be sent again, and the Resend button does the same", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  bot:fail_next("reply")
  bot:say(AGENT, "/tw reply 1 hi Ann")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):has_length(1)              -- tried once, refused
  expect(bot:say(AGENT, "/tw resend 1")):equals("Reply to @ann queued again.")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):has_length(2)
  expect(bot:replies()[2].text):equals("hi Ann ^BO")
  expect(bot:press(AGENT, "resend", id)):contains("no failed reply")
end)

test("resend with text sends the new text, signed again", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  bot:fail_next("reply")
  bot:say(AGENT, "/tw reply 1 hi Ann")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:say(AGENT, "/tw resend 1 hello Ann")):equals(
    "Reply to @ann queued again, edited: hello Ann ^BO")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()[2].text):equals("hello Ann ^BO")
end)

test("nothing failed, nothing to resend", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say(AGENT, "/tw resend 1")):equals("#1 has no failed reply or DM to send again.")
end)
