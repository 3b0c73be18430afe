-- reply! <ticket> [text]: a public reply past the collision guard.
local text = require "vigil.text"
local USAGE = "reply! <ticket> [text]"

return command {
  usage = USAGE,
  help  = "Reply even though the ticket is someone else's or a colleague just answered.\n" ..
          "Without text, sends the reply the guard held for you (its Send anyway button\n" ..
          "does the same). The undo window still applies.",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    local sent = args[2] and t:reply(ctx:rest(1), { force = true }) or t:send_held()
    return text.reply_queued(t, sent, true)
  end,
}
