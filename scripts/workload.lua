-- workload: who holds how many open tickets, the oldest one still waiting
-- for a first reply, who is away or off shift, and what nobody holds.
local text = require "vigil.text"

-- "#12 (2 h 5 min)", or "-" when nothing waits.
local function oldest(filter, now)
  filter.state, filter.waiting, filter.order, filter.limit = "open", true, "oldest", 1
  local t = vigil.tickets(filter)[1]
  if not t then return "-" end
  return ("#%d (%s)"):format(t.id, text.duration(now - t.opened_at))
end

local function status(p, open)
  if p.away then
    local s = "away"
    if p.back_at then s = s .. " until " .. vigil.date("%a %H:%M", p.back_at) end
    if p.reason then s = s .. " (" .. p.reason .. ")" end
    return s
  end
  if not p.on_shift then return "off shift (" .. (p.shift or "?") .. ")" end
  local aa = vigil.config.autoassign
  if aa.mode ~= "off" and open >= aa.cap then
    return ("available, at the auto-assign cap (%d)"):format(aa.cap)
  end
  return "available"
end

return command {
  usage = "workload",
  help  = "Open tickets per agent, each one's oldest ticket waiting for a first\n" ..
          "reply, who is away, and how many tickets nobody holds.",
  run = function(ctx, args)
    local now, roles = text.now(), {}
    for _, s in ipairs(vigil.staff()) do roles[s.id] = s.role end
    local people = vigil.presence()
    table.sort(people, function(a, b) return a.name < b.name end)
    local rows = { { "Agent", "Open", "Oldest waiting", "Status" } }
    for _, p in ipairs(people) do
      local open = vigil.count { state = "open", assignee = p.id }
      -- admins appear only when they hold tickets (the console's local-admin)
      if roles[p.id] ~= "admin" or open > 0 then
        rows[#rows + 1] = { p.name, tostring(open), oldest({ assignee = p.id }, now),
                            status(p, open) }
      end
    end
    local unassigned = vigil.count { state = "open", assignee = false }
    local tail = ("Unassigned: %d"):format(unassigned)
    if unassigned > 0 then
      tail = tail .. ", oldest waiting " .. oldest({ assignee = false }, now)
    end
    return "Workload:\n" .. text.columns(rows) .. "\n" .. tail
  end,
}
