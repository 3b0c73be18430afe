-- assign <ticket> [@user|me]: give a ticket to a teammate, or take it.
local text = require "vigil.text"

return command {
  args  = { "ticket", "user?" },
  help  = "Assign a ticket to a teammate (default: yourself).",
  form  = { { name = "who", kind = "staff", label = "Assign to (empty: you)", optional = true } },
  run = function(ctx, args)
    local t = args.ticket
    local who = args.user or ctx:user("me")
    local was = t.assignee and (" (was %s's)"):format(t.assignee.name) or ""
    t:assign(who)
    if who.id == ctx.user.id then return ("#%d is yours now%s."):format(t.id, was) end
    return ("#%d is now %s's%s."):format(t.id, who.name, was)
  end,
}
