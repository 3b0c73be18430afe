-- find <words> [@handle] [tag:…] [status:…] [assignee:…] [since:…] [until:…] [page:N]
-- Search every ticket's tweets; the query language is ctx:find's (SCRIPTING.md).
local text = require "vigil.text"
local USAGE = "find <words> [@handle] [tag:x] [status:open] [assignee:me] [since:7d] [until:2026-12-01] [page:2]"
local PAGE = 10

return command {
  usage = USAGE,
  help  = "Search tickets by what the customers wrote, newest first. Words must all\n" ..
          "appear (\"quote a phrase\"); @handle is the customer; status: is open, closed,\n" ..
          "new, assigned, escalated or unassigned; assignee: is me, @name or a staff id;\n" ..
          "since:/until: take a date (2026-12-01, UTC) or an age (12h, 7d, 2w).",
  run = function(ctx, args)
    local query, page = ctx.text or "", 1
    -- %f[%g], not %f[%S]: the frontier sees "\0" before the text, and "\0"
    -- is %S, so "page:2" first in the line was searched as a word.
    query = query:gsub("%f[%g]page:(%d+)%f[%s%z]", function(n) page = tonumber(n); return "" end)
    if not query:find("%S") then ctx:fail(text.usage(USAGE)) end
    if page < 1 or page > 1000 then ctx:fail("page: is 1 to 1000.") end
    local r = ctx:find(query, PAGE, (page - 1) * PAGE)
    if r.total == 0 then return "No tickets match." end
    if #r.tickets == 0 then
      return ("Only %s match: there is no page %d."):format(text.plural(r.total, "ticket"), page)
    end
    local rows = {}
    for _, t in ipairs(r.tickets) do
      rows[#rows + 1] = { "#" .. t.id, t.status, text.handle(t.customer),
                          text.excerpt(t.excerpt, 70), t.chat_url or t.url }
    end
    local first, last = (page - 1) * PAGE + 1, (page - 1) * PAGE + #r.tickets
    local capped = r.total > 1000   -- the count stops past 1,000
    local head = r.total == 1 and "1 ticket matches:" or
      ("%s tickets match (%d–%d, newest first):"):format(capped and "More than 1,000" or r.total,
                                                        first, last)
    local out = head .. "\n" .. text.columns(rows)
    local more = r.total - last
    if more > 0 then
      out = out .. ("\n%s more: %s find %s page:%d"):format(capped and "Many" or more, text.cmd(),
                                                          query:gsub("%s+$", ""), page + 1)
    end
    return out
  end,
}
