-- stats [today|7d|30d]: how the desk is doing, and when and by whom
-- customers were answered within the target.
local text = require "vigil.text"

local function since(period, now)
  if period == "7d" then return now - 7 * 86400, "Last 7 days" end
  if period == "30d" then return now - 30 * 86400, "Last 30 days" end
  local d = vigil.date("*t", now)
  d.hour, d.min, d.sec = 0, 0, 0
  return vigil.time(d), "Today"
end

-- "3/4 (75%)": answered within target of those whose target is decided
-- (answered, or past due unanswered).
local function share(ok, of)
  return of == 0 and "-" or ("%d/%d (%d%%)"):format(ok, of, math.floor(100 * ok / of + 0.5))
end

-- Rows per hour of day (only hours with tickets) and per agent, from
-- ctx:responses: in_target is what the SLA clock stored, nil while a
-- ticket's target is still ahead.  nil when nothing was decided yet.
local function breakdown(list)
  local hour, agent, names, any = {}, {}, {}, false
  for _, r in ipairs(list) do
    if r.in_target ~= nil then
      any = true
      local h = tonumber(vigil.date("%H", r.opened_at))
      hour[h] = hour[h] or { ok = 0, n = 0 }
      hour[h].n = hour[h].n + 1
      if r.in_target then hour[h].ok = hour[h].ok + 1 end
      if r.first_response_at then
        local who = r.agent and r.agent.name or "(nobody)"
        if not agent[who] then agent[who] = { ok = 0, n = 0, waits = {} }; names[#names + 1] = who end
        local a = agent[who]
        a.n = a.n + 1
        if r.in_target then a.ok = a.ok + 1 end
        a.waits[#a.waits + 1] = r.first_response_at - r.opened_at
      end
    end
  end
  if not any then return nil end
  local hours, agents = {}, {}
  for h = 0, 23 do
    if hour[h] then
      hours[#hours + 1] = { ("  %02d:00"):format(h), share(hour[h].ok, hour[h].n) }
    end
  end
  table.sort(names)
  for _, who in ipairs(names) do
    local a = agent[who]
    table.sort(a.waits)
    agents[#agents + 1] = { "  " .. who, share(a.ok, a.n),
                            "median " .. text.duration(a.waits[(#a.waits + 1) // 2]) }
  end
  if #agents == 0 then agents[1] = { "  nobody has answered yet" } end
  return hours, agents
end

return command {
  usage = "stats [today|7d|30d]",
  help  = "Tickets opened and answered, first-response times, what is open now, and\n" ..
          "answered within the target per hour of day and per agent.\n" ..
          "today (default) counts since midnight; 7d and 30d the last 7 or 30 days.",
  run = function(ctx, args)
    local period = (args[1] or "today"):lower()
    if period ~= "today" and period ~= "7d" and period ~= "30d" then
      ctx:fail(text.usage("stats [today|7d|30d]"))
    end
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
    local hours, agents = breakdown(ctx:responses(from))
    if hours then
      lines[#lines + 1] = "Answered within target, by hour opened (desk time):"
      lines[#lines + 1] = text.columns(hours)
      lines[#lines + 1] = "By agent (who sent the first answer):"
      lines[#lines + 1] = text.columns(agents)
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
