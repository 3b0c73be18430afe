-- vigil's default configuration: the offline demo.
-- Console chat (tickets are printed to this terminal, commands typed at the
-- prompt), replay source (recorded X mentions from config/sample-mentions.jsonl),
-- and the store in var/.  config/example-slack-x.lua shows a production setup.
-- Every key is documented in CONTRIBUTING.md ("Configuration").  Relative
-- paths resolve against this file's directory (config/), not the current one.

chat   = "console"
source = "replay"
log_level = "warn"         -- keep the terminal for tickets; --log-level info shows everything

store   = { path = "../var/vigil.db" }
scripts = { dir = "../scripts", lib = "../lua" }
admin   = { socket = "../var/vigil.sock", user = "local-admin" }

replay = {
  file = "sample-mentions.jsonl",
  interval = 2,            -- seconds between pages
}

-- The support handle whose own tweets never become tickets.
x = { handle = "AcmeSupport", user_id = "1500000000000000001" }

channels = {
  mentions    = "#support",
  escalations = "#support-escalations",
  on_duty     = "@support-oncall",
}

staff = {
  ["U024BE7LH"] = { name = "Alice Jensen", initials = "AJ", role = "lead" },
  ["U0G9QF9C6"] = { name = "Bob Okafor",   initials = "BO", role = "agent" },
  ["U1ADMIN00"] = { name = "Carmen Ruiz",  initials = "CR", role = "admin" },
}

sla = {
  first_response = 3600,   -- business seconds: customers expect an answer within the hour
  follow_up      = 3600,   -- ... and the next answer after they follow up
  warn           = { 1800, 600 },   -- warn 30 and 10 business minutes before each
  -- who an unassigned ticket's warnings ping: a Slack user group id, or a
  -- list of user ids; an assigned ticket pings its assignee
  -- notify = "S0123ABCD",
  -- the clocks count business hours only (leave out: around the clock, UTC)
  -- hours = { timezone = "Europe/Copenhagen", weekdays = "08:00-18:00",
  --           sat = "10:00-14:00", holidays = { "2026-12-24", "2026-12-25" } },
  -- a ticket tagged "billing" runs on billing's hours
  -- teams = { billing = { timezone = "America/New_York", weekdays = "09:00-17:00" } },
}
