-- dm <ticket> <text>: a direct message to the customer; once X confirms it,
-- a short public note (canned answer dm_notice) tells them to look.
local text = require "vigil.text"
local USAGE = "dm <ticket> <text>"

return command {
  usage = USAGE,
  args  = { "ticket", "text…" },
  form  = { { name = "text", label = "Direct message", max = 3000 } },
  help  = "Send the customer a direct message (for anything personal).\n" ..
          "Once X confirms the DM, the canned answer dm_notice is replied publicly so\n" ..
          "they know to look; if the DM fails, the thread offers dm_ask instead.\n" ..
          "A lead can turn the public note off or on: dm notice off | dm notice on.",
  run = function(ctx, args)
    if args[1] == "notice" then
      ctx:require_role("lead")
      if args[2] ~= "on" and args[2] ~= "off" then ctx:fail(text.usage("dm notice on|off")) end
      ctx.kv:set("public_notice", args[2] == "on")
      return args[2] == "on" and "DMs now also reply publicly (canned dm_notice), once X confirms them."
                              or "DMs no longer reply publicly."
    end
    local t = args.ticket
    local notice = ctx.kv:get("public_notice") ~= false
    t:dm(args.text, notice)
    local out = ("DM to %s queued."):format(text.handle(t.customer))
    local hold = vigil.config.reply.hold
    if hold > 0 then
      out = ("DM to %s: sending in %g s (undo: %s undo %d)."):format(
        text.handle(t.customer), hold, text.cmd(), t.id)
    end
    if notice then
      out = out .. " Once X confirms it, the public note (canned dm_notice) follows."
    end
    return out
  end,
}
