-- scripts, and reload [name]: admins only.
test("an admin sees every script and whether it loaded", function()
  local bot = test.bot{}
  local out = bot:say("U03CARMEN", "/tw scripts")
  expect(out):matches("^%d+ scripts, all loaded:")
  expect(out):matches("\nassign%.lua +ok")
  expect(out):matches("\nhooks/sla%.lua +ok")
end)

test("others may not list scripts", function()
  local bot = test.bot{}
  expect(bot:say("U01ALICE", "/tw scripts")):lacks("assign.lua")
end)
