-- resend <ticket> [text]: sends a ticket's last failed reply or DM again.
local text = require "vigil.text"
local USAGE = "resend <ticket> [new text]"

return command {
  usage = USAGE,
  args  = { "ticket", "text?…" },
  help  = "Send the last failed public reply or DM of a ticket again (its Resend\n" ..
          "button does the same). With text, that is sent instead (a reply is signed\n" ..
          "again). A reply X already holds is never posted twice.",
  run = function(ctx, args)
    local t = args.ticket
    local kind, new = t:resend(args.text)
    local what = kind == "dm" and "DM" or "Reply"
    if new then
      return ("%s to %s queued again, edited: %s"):format(what, text.handle(t.customer), new)
    end
    return ("%s to %s queued again."):format(what, text.handle(t.customer))
  end,
}
