-- canned <ticket> <name> | list | show <name> | add <name> <text>
local LEAD, AGENT = "U01ALICE", "U02BOB"

test("a lead saves an answer; anyone sends it with its placeholders filled", function()
  local bot = test.bot{}
  local id = bot:mention{ from = "@ann", text = "@AcmeSupport where is my refund" }
  expect(bot:say(AGENT, "/tw canned list")):contains("No canned answers yet.")
  expect(bot:say(LEAD, "/tw canned add thanks Thanks {handle}, we're on it!")):equals(
    "Saved canned answer \"thanks\". Use it with: /tw canned <ticket> thanks")
  expect(bot:say(AGENT, "/tw canned show thanks")):equals("Thanks {handle}, we're on it!")
  expect(bot:say(AGENT, "/tw canned 1 thanks")):equals(
    "Reply to @ann: sending in 5 s: Thanks @ann, we're on it! ^BO\nUndo: /tw undo 1")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies(id)[1].text):equals("Thanks @ann, we're on it! ^BO")
end)

test("an unknown canned answer names the list", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hi" }
  expect(bot:say(AGENT, "/tw canned 1 nope")):equals(
    "There is no canned answer \"nope\". /tw canned list shows them.")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):equals({})
end)

test("agents cannot add canned answers", function()
  local bot = test.bot{}
  expect(bot:say(AGENT, "/tw canned add x hello")):contains("lead")
  expect(bot:say(AGENT, "/tw canned list")):contains("No canned answers yet.")
end)

test("a canned reply waits its undo window like any reply, and says so", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport where is my refund" }
  bot:say(LEAD, "/tw canned add thanks Thanks {handle}, we're on it!")
  expect(bot:say(AGENT, "/tw canned 1 thanks")):contains("\nUndo: /tw undo 1")
  expect(bot:say(AGENT, "/tw undo 1")):equals("Reply to @ann undone: nothing was sent.")
  bot:advance(60)
  expect(bot:replies()):has_length(0)
end)

test("with reply.hold 0 a canned reply is queued at once", function()
  local bot = test.bot{ config = { reply = { hold = 0 } } }
  bot:mention{ from = "@ann", text = "@AcmeSupport where is my refund" }
  bot:say(LEAD, "/tw canned add thanks Thanks {handle}, we're on it!")
  expect(bot:say(AGENT, "/tw canned 1 thanks")):equals(
    "Reply to @ann queued: Thanks @ann, we're on it! ^BO")
end)

test("a canned reply to a closed ticket reopens it and says so, as reply does", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport where is my refund" }
  bot:say(LEAD, "/tw canned add thanks Thanks {handle}, we're on it!")
  bot:say(AGENT, "/tw close 1")
  expect(bot:say(AGENT, "/tw canned 1 thanks")):contains("\n#1 was closed; it is open again.")
  expect(bot:ticket(1).state):equals("open")
end)
