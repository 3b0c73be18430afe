-- reply <ticket> <text>: a public reply on X, signed with your initials.
local text = require "vigil.text"
local USAGE = "reply <ticket> <text>"

return command {
  usage = USAGE,
  args  = { "ticket", "text…" },
  -- the reply modal (and the console's prompts): box, canned picker, DM switch
  form  = { { name = "text", label = "Reply", max = "reply" },
            { name = "canned", kind = "choice", from = "canned", fills = "text",
              label = "Canned answer", optional = true },
            { name = "dm", kind = "flag", label = "Send as a DM instead", verb = "dm" } },
  help  = "Reply publicly on X, signed with your initials.\n" ..
          "At most 280 characters with the signature. A reply reopens a closed ticket.\n" ..
          "Personal details (email, phone, order address) go in a DM: dm <ticket> <text>.",
  run = function(ctx, args)
    local t = args.ticket
    local was_closed = t.state == "closed"
    local sent = t:reply(args.text)
    local out = text.reply_queued(t, sent)
    if was_closed then out = out .. ("\n#%d was closed; it is open again."):format(t.id) end
    return out
  end,
}
