-- unassign <ticket>: put a ticket back in the unassigned queue.
local text = require "vigil.text"

return command {
  usage = "unassign <ticket>",
  help  = "Put a ticket back in the unassigned queue.",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage("unassign <ticket>")) end
    local t = ctx:ticket(args[1])
    local was = t.assignee and (" (was %s's)"):format(t.assignee.name) or ""
    t:unassign()
    return ("#%d is unassigned%s."):format(t.id, was)
  end,
}
