-- help [command]
test("help lists every command with its usage", function()
  local bot = test.bot{}
  local out = bot:say("U02BOB", "/tw help")
  for _, verb in ipairs{ "assign", "close", "reply", "tickets", "whoami" } do
    expect(out):matches("\n?/tw " .. verb .. "[^\n]*")
  end
  expect(out):contains("/tw escalate <ticket> [reason]")
end)

test("help for one command shows its usage and its whole help", function()
  local bot = test.bot{}
  expect(bot:say("U02BOB", "/tw help assign")):equals(
    "/tw assign <ticket> [@user|me]\nAssign a ticket to a teammate (default: yourself).")
  expect(bot:say("U02BOB", "/tw help nosuch")):contains("There is no command \"nosuch\".")
end)

test("someone off the staff may read help", function()
  local bot = test.bot{}
  expect(bot:say("U99NOBODY", "/tw help")):contains("/tw reply")
end)
