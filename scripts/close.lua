-- close <ticket>
local text = require "vigil.text"

return command {
  usage = "close <ticket>",
  help  = "Close a ticket.\n" ..
          "If the customer writes again in the same conversation, that opens a new ticket.",
  run = function(ctx, args)
    if not args[1] then ctx:fail(text.usage("close <ticket>")) end
    local t = ctx:ticket(args[1])
    local answered = t.first_response_at ~= nil
    t:close()
    if not answered then
      return ("#%d closed. Note: %s never got a reply."):format(t.id, text.handle(t.customer))
    end
    return ("#%d closed."):format(t.id)
  end,
}
