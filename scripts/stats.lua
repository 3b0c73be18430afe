-- stats [today|7d]: how the desk is doing.
local text = require "vigil.text"

local function since(period, now)
  if period == "7d" then return now - 7 * 86400, "Last 7 days" end
  local d = os.date("*t", now)
  d.hour, d.min, d.sec = 0, 0, 0
  return os.time(d), "Today"
end

return command {
  usage = "stats [today|7d]",
  help  = "Tickets opened and answered, first-response times, what is open now.\n" ..
          "today (default) counts since midnight; 7d the last 7 days.",
  run = function(ctx, args)
    local period = (args[1] or "today"):lower()
    if period ~= "today" and period ~= "7d" then ctx:fail(text.usage("stats [today|7d]")) end
    local from, label = since(period, text.now())
    local s = ctx:stats(from)
    local target = vigil.config.sla and vigil.config.sla.first_response
    local lines = {
      ("Now: %d open, %d unassigned, %d escalated."):format(s.open or 0, s.unassigned or 0,
                                                            s.escalated or 0),
    }
    local answered = s.answered or 0
    local line = ("%s: %s, %d answered"):format(label, text.plural(s.opened or 0, "new ticket"), answered)
    if answered > 0 then
      line = line .. (", %d within the %s target (%d%%)"):format(s.answered_in_target or 0,
        target and text.duration(target) or "first-response",
        math.floor(100 * (s.answered_in_target or 0) / answered + 0.5))
    end
    lines[2] = line .. "."
    if s.median_first_response then
      lines[#lines + 1] = "Median first response: " .. text.duration(s.median_first_response) .. "."
    end
    local u = vigil.usage and vigil.usage()   -- nil when the source costs nothing
    if u then
      local parts = {}
      for _, it in ipairs(u) do
        if it.count > 0 then parts[#parts + 1] = ("%s: %d"):format(it.label, it.count) end
      end
      lines[#lines + 1] = ("Cost today (UTC, at x.prices): about $%.3f%s."):format(u.total,
        #parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or ", nothing billed yet")
    end
    local st = vigil.status and vigil.status()
    if st and st.source and st.source ~= "" then
      lines[#lines + 1] = "Source: " .. st.source   -- X's rate-limit budget, mentions seen
    end
    if st and (st.outbox_waiting or 0) > 0 then   -- Slack or X failing: sends wait
      lines[#lines + 1] = "Outbox: the oldest message has waited " ..
                          text.duration(st.outbox_waiting) .. "."
    end
    return table.concat(lines, "\n")
  end,
}
