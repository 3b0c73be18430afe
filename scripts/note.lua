-- note <ticket> <text>: an internal note in the ticket's thread.
local text = require "vigil.text"
local USAGE = "note <ticket> <text>"

return command {
  usage = USAGE,
  form  = { { name = "text", label = "Note", max = 3000 } },
  help  = "Add an internal note to the ticket's thread (never leaves the chat).",
  run = function(ctx, args)
    if not args[2] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    t:note(ctx:rest(1))
    return ("Note added to #%d."):format(t.id)
  end,
}
