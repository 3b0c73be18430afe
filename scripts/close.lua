-- close <ticket>
local text = require "vigil.text"

return command {
  args  = { "ticket" },
  help  = "Close a ticket.\n" ..
          "If the customer writes again in the same conversation, that opens a new ticket.",
  run = function(ctx, args)
    local t = args.ticket
    local answered = t.first_response_at ~= nil
    t:close()
    if not answered then
      return ("#%d closed. Note: %s never got a reply."):format(t.id, text.handle(t.customer))
    end
    return ("#%d closed."):format(t.id)
  end,
}
