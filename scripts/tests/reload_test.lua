-- reload [name]: admins only.
test("an admin reloads one script or all of them", function()
  local bot = test.bot{}
  expect(bot:say("U03CARMEN", "/tw reload assign")):equals("Reloaded assign.lua.")
  expect(bot:say("U03CARMEN", "/tw reload")):equals("Reloaded every script.")
  expect(bot:say("U03CARMEN", "/tw reload nosuch")):equals("There is no script nosuch.lua.")
end)

test("an agent may not reload", function()
  local bot = test.bot{}
  expect(bot:say("U02BOB", "/tw reload")):lacks("Reloaded")
end)
