-- whoami
test("staff see their name, id, role and signature", function()
  local bot = test.bot{}
  expect(bot:say("U01ALICE", "/tw whoami")):equals(
    "You are Alice Jensen (U01ALICE), lead. Your replies are signed ^AJ.")
  expect(bot:say("U03CARMEN", "/tw whoami")):equals(
    "You are Carmen Ruiz (U03CARMEN), admin. Your replies are signed ^CR.")
end)

test("someone off the staff is told to ask an admin", function()
  local bot = test.bot{}
  expect(bot:say("U99NOBODY", "/tw whoami")):contains("Only support staff can use")
end)
