-- escalate <ticket> [reason]: hand a ticket to the second tier.
local text = require "vigil.text"

return command {
  args  = { "ticket", "reason?…" },
  help  = "Escalate a ticket to the second tier.\n" ..
          "It is marked escalated and posted to the escalations channel with your reason.",
  roles = "lead",
  form  = { { name = "reason", label = "Reason", optional = true, max = 500 } },
  run = function(ctx, args)
    local t = args.ticket
    local reason = args.reason
    t:escalate(reason)
    local where = vigil.config.channels and vigil.config.channels.escalations
    return ("#%d escalated%s%s."):format(t.id, where and " to " .. where or "",
                                         reason and ": " .. reason or "")
  end,
}
