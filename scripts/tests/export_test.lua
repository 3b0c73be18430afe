-- export [today|7d|30d|Nd] [path]: tickets and first responses as CSV.
local LEAD = "U01ALICE"

test("from chat the CSV is shared in the channel as a file, one ticket a line", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport my order is late" }
  expect(bot:say(LEAD, "/tw export 7d")):equals(
    "Sharing 1 ticket (opened since 2026-11-24 09:00 UTC) here as tickets-7d-20261201-0900.csv.")
  local files = bot:uploads()
  expect(files):has_length(1)
  expect(files[1].channel):equals("#support")
  expect(files[1].name):equals("tickets-7d-20261201-0900.csv")
  expect(files[1].title):equals("Tickets opened since 2026-11-24 09:00 UTC (1 ticket)")
  local lines = {}
  for l in files[1].text:gmatch("([^\r\n]+)\r\n") do lines[#lines + 1] = l end
  expect(lines):has_length(2)
  expect(lines[1]):matches("^ticket,opened_at,customer,state,assignee,")
  expect(lines[2]):matches("^1,2026%-12%-01T09:00:00Z,ann,open,")
end)

test("a tweet a spreadsheet would run as a formula is written as text", function()
  local bot = test.bot{}
  bot:mention{ from = "@mallory", text = "=HYPERLINK(\"http://evil.example\",\"hi\")" }
  bot:say(LEAD, "/tw export")
  local csv = bot:uploads()[1].text
  expect(csv):contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"hi\"\")\"")
  expect(csv):lacks(",=HYPERLINK"):lacks(",\"=HYPERLINK")
end)

test("a path is refused from chat and nothing is written", function()
  local bot = test.bot{}
  bot:mention{ from = "@ann", text = "@AcmeSupport hello" }
  local path = os.tmpname()
  os.remove(path)
  expect(bot:say(LEAD, "/tw export 7d " .. path)):equals(
    "Only the console's and the REPL's admin may write a file.")
  expect(io.open(path, "r")):is_nil()
  expect(bot:uploads()):has_length(0)
end)

test("only leads export; a bad period answers the usage", function()
  local bot = test.bot{}
  expect(bot:say("U02BOB", "/tw export")):equals("/tw export needs the lead role; you are agent.")
  expect(bot:say(LEAD, "/tw export lately")):contains("Usage: /tw export [today|7d|30d|<N>d]")
  expect(bot:say(LEAD, "/tw export 0d")):contains("Usage:")
  expect(bot:say(LEAD, "/tw export 7d 30d")):contains("Usage:")
  expect(bot:uploads()):has_length(0)
end)

test("the period counts from when a ticket opened", function()
  local bot = test.bot{}
  bot:mention{ from = "@old", text = "@AcmeSupport from last week" }
  bot:advance(8 * 86400)
  bot:mention{ from = "@new", text = "@AcmeSupport from today" }
  expect(bot:say(LEAD, "/tw export 7d")):contains("Sharing 1 ticket")
  expect(bot:uploads()[1].text):contains(",new,"):lacks(",old,")
  expect(bot:say(LEAD, "/tw export 30d")):contains("Sharing 2 tickets")
end)
