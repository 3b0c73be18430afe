-- scripts: admins only.
test("an admin sees every script and whether it loaded", function()
  local bot = test.bot{}
  local out = bot:say("U03CARMEN", "/tw scripts")
  expect(out):matches("^%d+ scripts, all loaded:\n")
  expect(out):matches("\nassign%.lua +ok\n")
  expect(out):matches("\nhooks/sla%.lua +ok")
  expect(out):matches("\nhooks/privacy%.lua +ok")
end)

test("a lead may not list scripts", function()
  local bot = test.bot{}
  expect(bot:say("U01ALICE", "/tw scripts")):equals("/tw scripts needs the admin role; you are lead.")
end)
