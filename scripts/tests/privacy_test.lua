-- hooks/privacy.lua: personal details stay out of public replies.
local AGENT = "U02BOB"

test("a public reply with an email, phone or card number is refused and points to dm", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  for _, text in ipairs{ "write to ann.lee@gmail.com", "call +1 415 555 0132",
                         "card 4111 1111 1111 1111" } do
    expect(bot:say(AGENT, "/tw reply 1 " .. text)):contains("dm")
  end
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):equals({})
end)

test("order numbers, dates, times and links go through", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  bot:say(AGENT, "/tw reply 1 order 12345678 ships 2026-12-03 at 10:30, see https://acme.example/t/48213")
  bot:advance(10)   -- sends to X may wait a moment (reply.hold, X's spacing)
  expect(bot:replies()):has_length(1)
end)
