-- reload [name]: admins only.
test("an admin reloads one script, a hook or all of them, and they still work", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  expect(bot:say("U03CARMEN", "/tw reload assign")):equals("Reloaded assign.lua.")
  expect(bot:say("U03CARMEN", "/tw reload hooks/sla.lua")):equals("Reloaded hooks/sla.lua.")
  expect(bot:say("U03CARMEN", "/tw reload")):equals("Reloaded every script.")
  expect(bot:say("U03CARMEN", "/tw reload nosuch")):equals("There is no script nosuch.lua.")
  expect(bot:say("U03CARMEN", "/tw assign 1")):equals("#1 is yours now.")
end)

test("a lead may not reload", function()
  local bot = test.bot{}
  expect(bot:say("U01ALICE", "/tw reload")):equals("/tw reload needs the admin role; you are lead.")
end)
