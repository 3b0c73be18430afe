-- tickets [open|mine|unassigned|escalated|closed|all]: a list to work from.
-- The lists themselves are the desk's (vigil.ticket_filters()).
local text = require "vigil.text"
local FILTERS = vigil.ticket_filters()   -- { "open", "mine", ... }, the default first
local USAGE = "tickets [" .. table.concat(FILTERS, "|") .. "]"
local LIMIT = 20

-- "answered", "due in 42 min", "12 min overdue", or "" once closed.
local function sla(t, now)
  if t.first_response_at then return "answered" end
  if t.state == "closed" or not t.sla_due_at then return "" end
  return "due " .. text.due(t.sla_due_at, now)
end

-- How long it has been open: "<1 min", "12 min", "3 h 5 min".
local function age(secs)
  return secs < 60 and "<1 min" or text.duration(secs)
end

return command {
  usage = USAGE,
  help  = "List tickets, newest first, with their first-response clock.\n" ..
          "Default: " .. FILTERS[1] .. ". Also: " .. table.concat(FILTERS, ", ", 2) .. ".",
  run = function(ctx, args)
    local filter = (args[1] or FILTERS[1]):lower()
    local known = false
    for _, f in ipairs(FILTERS) do known = known or f == filter end
    if not known then
      ctx:fail(text.usage(USAGE))
    end
    local list, now = ctx:tickets(filter, LIMIT + 1), text.now()
    if #list == 0 then
      return filter == "mine" and "You have no open tickets." or ("No %s tickets."):format(filter)
    end
    local rows = {}
    for i = 1, math.min(#list, LIMIT) do
      local t = list[i]
      rows[#rows + 1] = { "#" .. t.id, t.status, text.handle(t.customer),
                          t.assignee and t.assignee.name or "-",
                          age(now - t.opened_at), sla(t, now),
                          text.excerpt(t.text, 50) }
    end
    local head = filter == "mine" and "Your tickets" or (filter:gsub("^%l", string.upper) .. " tickets")
    head = head .. (#list > LIMIT and (" (newest %d):"):format(LIMIT) or ":")
    return head .. "\n" .. text.columns(rows)
  end,
}
