-- unassign <ticket>: put a ticket back in the unassigned queue.
return command {
  args  = { "ticket" },
  help  = "Put a ticket back in the unassigned queue.",
  run = function(ctx, args)
    local t = args.ticket
    local was = t.assignee and (" (was %s's)"):format(t.assignee.name) or ""
    t:unassign()
    return ("#%d is unassigned%s."):format(t.id, was)
  end,
}
