-- history <ticket>: the customer's earlier tickets and what we told them.
local text = require "vigil.text"
local MAX = 10

-- The reply text of a "reply" event ("to @h in reply to 123: text").
local function reply_text(detail)
  return (detail or ""):match("^to @%S+ in reply to %S+: (.*)$") or detail or ""
end

return command {
  args  = { "ticket" },
  help  = "The customer's other tickets and the replies they got.",
  run = function(ctx, args)
    local t = args.ticket
    local who = text.handle(t.customer)
    local past = ctx:history(t)
    if #past == 0 then return ("%s has no other tickets."):format(who) end
    local out = { ("%s: %s"):format(who, text.plural(#past, "other ticket")) }
    for i, p in ipairs(past) do
      if i > MAX then
        out[#out + 1] = ("… and %d older."):format(#past - MAX)
        break
      end
      out[#out + 1] = ("#%d  %s  %s  %s"):format(p.id, p.status, text.ago(p.opened_at),
                                               text.excerpt(p.text, 60))
      for _, e in ipairs(p:events()) do
        if e.action == "reply" then
          out[#out + 1] = ("    ↳ %s: %s"):format(text.ago(e.at), text.excerpt(reply_text(e.detail), 80))
        end
      end
    end
    return table.concat(out, "\n")
  end,
}
