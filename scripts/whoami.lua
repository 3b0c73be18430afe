-- whoami: how vigil knows you.
return command {
  usage = "whoami",
  help  = "Your name, chat id, role and the initials you sign replies with.",
  run = function(ctx)
    local u = ctx.user
    if u.role == "none" then
      return ("You are %s, not on the support staff (ask an admin to add you)."):format(u.id)
    end
    return ("You are %s (%s), %s. Your replies are signed ^%s."):format(u.name, u.id, u.role,
                                                                       u.initials or "?")
  end,
}
