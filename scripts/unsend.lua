-- unsend <ticket>: deletes the ticket's last public reply on X.
local text = require "vigil.text"
local USAGE = "unsend <ticket>"

return command {
  usage = USAGE,
  help  = "Delete the last public reply of a ticket on X (a lead, or the reply's author).\n" ..
          "The receipt line says who deleted it; if X refuses, the thread says why.\n" ..
          "Still within the undo window? undo <ticket> stops it before it is sent.",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    local link = t:unsend()
    return ("Deleting #%d's reply from X: %s"):format(t.id, link)
  end,
}
