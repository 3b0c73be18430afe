-- reopen <ticket>
local text = require "vigil.text"

return command {
  usage = "reopen <ticket>",
  help  = "Reopen a closed ticket.",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage("reopen <ticket>")) end
    local t = ctx:ticket(args[1])
    t:reopen()
    return ("#%d is open again."):format(t.id)
  end,
}
