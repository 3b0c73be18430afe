-- reply! <ticket> [text]: a public reply past the collision guard.
local STAFF = {
  U01ALICE = { name = "Alice Jensen", role = "lead" },
  U02BOB   = { name = "Bob Okafor", role = "agent" },
  U04DAN   = { name = "Dan Park", role = "agent" },
}

test("a reply to someone else's ticket is held; reply! sends the held one", function()
  local bot = test.bot{ staff = STAFF }
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say("U02BOB", "/tw assign 1 me")
  expect(bot:say("U04DAN", "/tw reply 1 hello ann")):equals("Held, not sent: #1 is assigned to " ..
    "Bob Okafor. Send it anyway: the Send anyway button, or /tw reply! 1")
  bot:advance(10)
  expect(bot:replies()):has_length(0)
  expect(bot:say("U04DAN", "/tw reply! 1")):equals(
    "Reply to @ann: sending anyway in 5 s: hello ann ^DP\nUndo: /tw undo 1")
  bot:advance(10)
  expect(bot:replies()):equals({ { ticket = 1, to = "1864000000000000001", text = "hello ann ^DP" } })
  local audit = bot:audit(1, "reply")
  expect(audit):has_length(1)
  expect(audit[1]):matches("^U04DAN reply sent anyway %(job %d+%): hello ann %^DP$")
  expect(bot:say("U04DAN", "/tw reply! 1")):equals(
    "#1 has no held reply. To send one past the guard: /tw reply! 1 <text>")
end)

test("a colleague's reply within the window holds a second one; reply! with text sends it", function()
  local bot = test.bot{ staff = STAFF }
  bot:mention{ from = "@cat", text = "@AcmeSupport where is my parcel" }
  bot:say("U02BOB", "/tw reply 1 checking now")
  bot:advance(10)
  expect(bot:say("U04DAN", "/tw reply 1 on it")):equals("Held, not sent: Bob Okafor replied to #1 " ..
    "10s ago: \"checking now ^BO\". Send it anyway: the Send anyway button, or /tw reply! 1")
  expect(bot:say("U04DAN", "/tw reply! 1 also: it left the depot")):contains(
    "sending anyway in 5 s: also: it left the depot ^DP")
  bot:advance(10)
  expect(bot:replies(1)):has_length(2)
end)

test("past reply.collision_window a colleague's reply no longer holds", function()
  local bot = test.bot{ staff = STAFF, config = { reply = { collision_window = 60 } } }
  bot:mention{ from = "@cat", text = "@AcmeSupport where is my parcel" }
  bot:say("U02BOB", "/tw reply 1 checking now")
  bot:advance(120)
  expect(bot:say("U04DAN", "/tw reply 1 it left the depot")):contains("sending in 5 s")
end)

test("with reply.hold 0 it is queued at once", function()
  local bot = test.bot{ staff = STAFF, config = { reply = { hold = 0 } } }
  bot:mention{ from = "@ann", text = "@AcmeSupport hi" }
  bot:say("U02BOB", "/tw assign 1 me")
  expect(bot:say("U04DAN", "/tw reply! 1 hi ann")):equals("Reply to @ann queued anyway: hi ann ^DP")
end)

test("without a ticket it answers the usage", function()
  local bot = test.bot{ staff = STAFF }
  expect(bot:say("U04DAN", "/tw reply!")):equals("Usage: /tw reply! <ticket> [text]")
end)
