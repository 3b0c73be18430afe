-- hooks/privacy.lua: keeps personal details out of public replies.  A reply
-- with an email address, a phone or card number, an IBAN, a street address
-- or one of the team's own patterns below is refused, and the agent is
-- pointed to a DM.  Dates, times, prices, versions, links and @handles are
-- let through; so are order numbers, unless RULES.numbers names them.
-- The detection is lua/vigil/privacy.lua's (tested on a corpus of replies:
-- tests/fixtures/privacy/).
local text = require "vigil.text"
local privacy = require "vigil.privacy"

-- The team's rules.  Patterns are Lua patterns (vigil's bounded matcher
-- runs them); a malformed one makes this file fail to load, and the
-- previous version keeps serving.
local RULES = privacy.check_rules {
  -- Email domains a public reply may show (your own support address).
  safe_email_domains = {
    -- ["acme.example"] = true,
  },
  -- Numbers that tie a public account to an order or account, by name:
  -- refused as "an order number: '#482130'".
  numbers = {
    -- order = "#%d%d%d%d%d%d%f[%D]",
    -- account = { "ACC%-%d%d%d%d%d%d", "[Kk]undennummer:? ?%d+" },
  },
  -- Anything else your team never says in public.
  extra = {
    -- { what = "a loyalty card number", pattern = "LOY%d%d%d%d%d%d%d%d" },
  },
}

return hooks {
  before_reply = function(ticket, reply)
    local _, what = privacy.find(reply, RULES)
    if not what then return nil end
    return false, ("Not sent: this public reply contains %s. Personal details go in a DM: %s dm %d <text>")
                  :format(what, text.cmd(), ticket.id)
  end,
}
