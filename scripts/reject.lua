-- reject <ticket> [reason]: a lead refuses a draft reply; its author is told why.
local text = require "vigil.text"
local USAGE = "reject <ticket> [reason]"

return command {
  usage = USAGE,
  help  = "Reject the ticket's draft reply: nothing goes out, and its author is told\n" ..
          "your reason in the ticket's thread. The draft's Reject button does the same.",
  roles = "lead",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    local who = t:reject(args[2] and ctx:rest(1) or nil)
    return ("Rejected %s's draft for #%d; they are told in its thread."):format(who, t.id)
  end,
}
