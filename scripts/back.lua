-- back [@user]: end an absence set with away.
return command {
  usage = "back [@user]",
  help  = "Say you are back (a lead can do it for anyone).",
  run = function(ctx, args)
    local who = args[1] and ctx:user(args[1]) or ctx.user
    if who.id ~= ctx.user.id then ctx:require_role("lead") end
    vigil.set_back(who)
    if who.id == ctx.user.id then return "Welcome back." end
    return ("%s is back."):format(who.name)
  end,
}
