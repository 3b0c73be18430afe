-- edit <ticket> [new text]: a lead changes a draft reply, then it goes out.
local text = require "vigil.text"
local USAGE = "edit <ticket> <new text>"

return command {
  usage = USAGE,
  help  = "Change the ticket's draft reply and approve it (approve <ticket> <new text>).\n" ..
          "In Slack the draft's Edit button opens a box for the new text, the draft quoted above it.",
  form  = { { name = "text", label = "New text (replaces the draft)", max = "reply" } },
  roles = "lead",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    if not args[2] then
      return ("Type the new text: %s edit %d <new text> (the draft is in #%d's thread)."):format(
        text.cmd(), t.id, t.id)
    end
    local sent = t:approve(ctx:rest(1))
    return ("Edited and approved: the reply to %s goes out: %s\nUndo: %s undo %d"):format(
      text.handle(t.customer), sent, text.cmd(), t.id)
  end,
}
