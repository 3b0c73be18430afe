-- reopen <ticket>
return command {
  args  = { "ticket" },
  help  = "Reopen a closed ticket.",
  run = function(ctx, args)
    local t = args.ticket
    t:reopen()
    return ("#%d is open again."):format(t.id)
  end,
}
