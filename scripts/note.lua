-- note <ticket> <text>: an internal note in the ticket's thread.
local text = require "vigil.text"

return command {
  args  = { "ticket", "text…" },
  form  = { { name = "text", label = "Note", max = 3000 } },
  help  = "Add an internal note to the ticket's thread (never leaves the chat).",
  run = function(ctx, args)
    local t = args.ticket
    t:note(args.text)
    return ("Note added to #%d."):format(t.id)
  end,
}
