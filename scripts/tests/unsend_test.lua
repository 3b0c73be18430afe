-- unsend <ticket>: deletes the ticket's last public reply on X.
local STAFF = {
  U01ALICE = { name = "Alice Jensen", role = "lead" },
  U02BOB   = { name = "Bob Okafor", role = "agent" },
  U04DAN   = { name = "Dan Park", role = "agent" },
}

-- A bot where Bob's reply to @ann (#1) has gone out; returns it and the reply's id.
local function replied()
  local bot = test.bot{ staff = STAFF }
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  bot:say("U02BOB", "/tw reply 1 Sorry, checking")
  bot:advance(10)
  return bot, bot:replies(1)[1]
end

test("the reply's author deletes it from X; the receipt says who", function()
  local bot, reply = replied()
  local link = bot:thread(1)[1]:match("Reply sent: (%S+)")
  expect(bot:say("U02BOB", "/tw unsend 1")):equals("Deleting #1's reply from X: " .. link)
  bot:advance(10)
  local deleted = bot:deletes()
  expect(deleted):has_length(1)
  expect(link):contains(deleted[1].id)
  expect(bot:thread(1)[1]):contains("Deleted from X by Bob Okafor.")
  expect(bot:audit(1)):contains("system reply deleted " .. deleted[1].id)
  expect(reply.text):equals("Sorry, checking ^BO")
end)

test("a lead may delete anyone's reply; another agent may not", function()
  local bot = replied()
  expect(bot:say("U04DAN", "/tw unsend 1")):equals(
    "Only a lead or the reply's author (Bob Okafor) can delete #1's reply.")
  bot:advance(10)
  expect(bot:deletes()):has_length(0)
  expect(bot:say("U01ALICE", "/tw unsend 1")):contains("Deleting #1's reply from X:")
  bot:advance(10)
  expect(bot:deletes()):has_length(1)
  expect(bot:thread(1)[1]):contains("Deleted from X by Alice Jensen.")
end)

test("when X refuses, the thread says why and the reply stays", function()
  local bot = replied()
  bot:fail_next("delete", "No status found with that ID.")
  bot:say("U02BOB", "/tw unsend 1")
  bot:advance(10)
  expect(bot:deletes()):has_length(0)
  expect(bot:thread(1)[1]):contains("Could not delete it from X: No status found with that ID.")
end)

test("a deleted reply, or none, is not deleted again", function()
  local bot = replied()
  bot:say("U02BOB", "/tw unsend 1")
  bot:advance(10)
  expect(bot:say("U02BOB", "/tw unsend 1")):equals("#1's last reply was already deleted from X.")
  bot:mention{ from = "@cat", text = "@AcmeSupport hi" }
  expect(bot:say("U02BOB", "/tw unsend 2")):equals("#2 has no public reply on X to delete.")
  expect(bot:say("U02BOB", "/tw unsend")):equals("Usage: /tw unsend <ticket>")
  bot:advance(10)
  expect(bot:deletes()):has_length(1)
end)
