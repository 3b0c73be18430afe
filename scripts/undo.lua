-- undo <ticket>: takes back a reply or DM still in its undo window.
local text = require "vigil.text"
local USAGE = "undo <ticket>"

return command {
  usage = USAGE,
  help  = "Cancel the reply or DM you just sent, while it still waits its few seconds\n" ..
          "(reply.hold; the receipt's Undo button does the same). Nothing reaches X.\n" ..
          "Once it is sent, unsend <ticket> deletes a public reply.",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    local kind = t:undo()
    return ("%s to %s undone: nothing was sent."):format(kind == "dm" and "DM" or "Reply",
                                                        text.handle(t.customer))
  end,
}
