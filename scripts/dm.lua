-- dm <ticket> <text>: a direct message to the customer, plus (by default) a
-- short public reply so they know to look in their DMs.
local text = require "vigil.text"
local USAGE = "dm <ticket> <text>"
local NOTICE = "We've sent you a DM."

return command {
  usage = USAGE,
  help  = "Send the customer a direct message (for anything personal).\n" ..
          "Also replies publicly \"" .. NOTICE .. "\" so they know to look;\n" ..
          "a lead can turn that off or on: dm notice off | dm notice on.",
  run = function(ctx, args)
    if args[1] == "notice" then
      ctx:require_role("lead")
      if args[2] ~= "on" and args[2] ~= "off" then ctx:fail(text.usage("dm notice on|off")) end
      ctx.kv:set("public_notice", args[2] == "on")
      return args[2] == "on" and ("DMs now also reply publicly: \"%s\""):format(NOTICE)
                              or "DMs no longer reply publicly."
    end
    if not args[2] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    t:dm(ctx:rest(1))
    local out = ("DM to %s queued."):format(text.handle(t.customer))
    if ctx.kv:get("public_notice") == false then return out end
    local ok, sent = pcall(t.reply, t, NOTICE)
    if ok then
      return out .. (" Public reply queued: %s"):format(sent)
    end
    return out .. (" The public \"check your DMs\" reply was not sent: %s"):format(text.errmsg(sent))
  end,
}
