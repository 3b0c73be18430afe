-- approve <ticket> [new text]: a lead lets a draft reply go out.
local text = require "vigil.text"
local USAGE = "approve <ticket> [new text]"

return command {
  usage = USAGE,
  help  = "Approve the ticket's draft reply (from someone approval.* names): it goes out,\n" ..
          "after the undo window. With new text, that goes instead, signed by you.\n" ..
          "The draft's Approve button does the same; reject <ticket> <reason> refuses it.",
  roles = "lead",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    local sent = t:approve(args[2] and ctx:rest(1) or nil)
    return ("Approved: the reply to %s goes out: %s\nUndo: %s undo %d"):format(
      text.handle(t.customer), sent, text.cmd(), t.id)
  end,
}
