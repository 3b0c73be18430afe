-- approve <ticket> [new text]: a lead lets a trainee's draft reply go out.
local STAFF = {
  U01ALICE = { name = "Alice Jensen", role = "lead" },
  U02BOB   = { name = "Bob Okafor", role = "agent" },
  U05TIA   = { name = "Tia Novak", role = "agent" },
}

-- Tia's public replies need a lead's approval; she has drafted one to @ann (#1).
local function drafted()
  local bot = test.bot{ staff = STAFF, config = { approval = { people = { "U05TIA" } } } }
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  expect(bot:say("U05TIA", "/tw reply 1 hello ann")):equals("Not sent yet: your reply to #1 " ..
    "waits for a lead's approval (it is in the ticket's thread as a draft).")
  return bot
end

test("a draft waits in the thread; nothing reaches X and the SLA still runs", function()
  local bot = drafted()
  bot:advance(60)
  expect(bot:replies()):has_length(0)
  expect(bot:queued("reply")):has_length(0)
  expect(bot:thread(1)[1]):contains("Held, not sent: waiting for a lead's approval.")
  expect(bot:ticket(1).first_response_at):equals(0)
end)

test("a lead approves: the draft goes out after the undo window, with who approved", function()
  local bot = drafted()
  expect(bot:say("U01ALICE", "/tw approve 1")):equals(
    "Approved: the reply to @ann goes out: hello ann ^TN\nUndo: /tw undo 1")
  expect(bot:replies()):has_length(0)
  bot:advance(10)
  expect(bot:replies()):equals({ { ticket = 1, to = "1864000000000000001", text = "hello ann ^TN" } })
  expect(bot:thread(1)[1]):contains("Approved by Alice Jensen.")
  local approved = bot:audit(1, "approved")
  expect(approved):has_length(1)
  expect(approved[1]):matches("^U01ALICE approved Tia Novak's reply %(job %d+%): hello ann %^TN$")
  expect(bot:ticket(1).first_response_at > 0):is_true()
end)

test("with new text the lead's version goes out, signed by the lead", function()
  local bot = drafted()
  expect(bot:say("U01ALICE", "/tw approve 1 Sorry Ann, checking now")):contains(
    "goes out: Sorry Ann, checking now ^AJ")
  bot:advance(10)
  expect(bot:replies()[1].text):equals("Sorry Ann, checking now ^AJ")
end)

test("only leads approve; a ticket without a draft says so", function()
  local bot = drafted()
  expect(bot:say("U02BOB", "/tw approve 1")):equals("/tw approve needs the lead role; you are agent.")
  bot:mention{ from = "@cat", text = "@AcmeSupport hi" }
  expect(bot:say("U01ALICE", "/tw approve 2")):equals("#2 has no draft waiting for approval.")
  expect(bot:say("U01ALICE", "/tw approve")):equals("Usage: /tw approve <ticket> [new text]")
  bot:advance(10)
  expect(bot:replies()):has_length(0)
end)

test("approval.roles holds a whole role's replies; others send at once", function()
  local bot = test.bot{ staff = STAFF, config = { approval = { roles = { "agent" } } } }
  bot:mention{ from = "@ann", text = "@AcmeSupport hi" }
  bot:mention{ from = "@cat", text = "@AcmeSupport hi" }
  expect(bot:say("U02BOB", "/tw reply 1 hi")):contains("waits for a lead's approval")
  expect(bot:say("U01ALICE", "/tw reply 2 hi from the lead")):contains("sending in 5 s")
end)
