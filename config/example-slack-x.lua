-- A production setup: Slack (Socket Mode) + the X API v2.
-- Secrets come from the environment with env("NAME"); never write them here.
-- Check it with:  build/vigil check-config -c config/example-slack-x.lua

chat   = "slack"
source = "x"
command = "/tw"                 -- the umbrella slash command (/tw reply 42 ...)

store   = { path = "../var/vigil.db" }   -- relative to this file's directory
scripts = { dir = "../scripts", lib = "../lua" }
admin   = { socket = "../var/vigil.sock", user = "U024BE7LH" }

slack = {
  app_token = env("SLACK_APP_TOKEN"),   -- xapp-..., scope connections:write
  bot_token = env("SLACK_BOT_TOKEN"),   -- xoxb-...
  -- api_url = "https://slack.com/api/",
  post_rate = 1,                        -- chat.postMessage per second per channel
  digest_threshold = 20,                -- backlog that switches to digest messages
}

x = {
  handle = "AcmeSupport",               -- the support handle, without @
  -- user_id = "1500000000000000001",   -- optional: looked up from the handle
  bearer_token = env("X_BEARER_TOKEN"), -- app-only, for reading mentions
  oauth1 = {                            -- user context, for replies and DMs
    consumer_key    = env("X_CONSUMER_KEY"),
    consumer_secret = env("X_CONSUMER_SECRET"),
    token           = env("X_ACCESS_TOKEN"),
    token_secret    = env("X_ACCESS_TOKEN_SECRET"),
  },
  poll_interval = 60,                   -- seconds between polls, when the rate limit allows
  max_results = 100,
  backfill = 1,                         -- pages to take on the very first start
}

channels = {
  mentions    = "C0123MENTIONS",        -- channel ids: where tickets appear
  escalations = "C0123ESCALATE",
  on_duty     = "<!subteam^S0123ONCALL>",  -- who is pinged when an unassigned ticket nears its target
}

staff = {
  ["U024BE7LH"] = { name = "Alice Jensen", initials = "AJ", role = "admin" },
  ["U0G9QF9C6"] = { name = "Bob Okafor",   initials = "BO", role = "lead" },
  ["U0H2KD8P1"] = { name = "Chen Wei",     initials = "CW", role = "agent",
                    shift = "mon-fri 08:00-16:00" },   -- local time; none: always on
}

-- New tickets go to an available agent or lead (not away, on shift, under
-- `cap` open tickets): "round_robin", "least_loaded", or "off" (default).
autoassign = { mode = "off", cap = 8 }

sla = { first_response = 3600, warn_before = 900 }
reply = { signature = " ^{initials}", hold = 5, collision_window = 120 }   -- hold: seconds to undo a send
-- approval = { roles = { "trainee" }, people = { "U0123" } }   -- their replies wait for a lead
