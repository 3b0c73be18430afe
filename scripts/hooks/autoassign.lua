-- hooks/autoassign.lua: gives each new ticket to an available agent.
-- Off unless config says autoassign = { mode = "round_robin" or
-- "least_loaded", cap = 8 }.  Agents and leads take part (admins never);
-- skipped: anyone away (/tw away), off shift (staff[id].shift) or holding
-- `cap` open tickets already.  The assignment is the same audited
-- operation as /tw assign; the rotation's place is kept in this hook's kv.

-- Everyone who may take the ticket now, sorted by id (a stable rotation),
-- with their open-ticket count.
local function candidates(cap)
  local roles, list = {}, {}
  for _, s in ipairs(vigil.staff()) do roles[s.id] = s.role end
  for _, p in ipairs(vigil.presence()) do
    if (roles[p.id] == "agent" or roles[p.id] == "lead") and p.available then
      local load = vigil.count { state = "open", assignee = p.id }
      if load < cap then list[#list + 1] = { id = p.id, load = load } end
    end
  end
  table.sort(list, function(a, b) return a.id < b.id end)
  return list
end

-- The first of `list` after `last` in the rotation (wrapping round).
local function next_after(list, last)
  for _, c in ipairs(list) do
    if not last or c.id > last then return c end
  end
  return list[1]
end

local function pick(mode, list, last)
  if mode == "least_loaded" then
    local least = math.huge
    for _, c in ipairs(list) do least = math.min(least, c.load) end
    local tied = {}
    for _, c in ipairs(list) do
      if c.load == least then tied[#tied + 1] = c end
    end
    return next_after(tied, last)     -- ties go round, not always to the same one
  end
  return next_after(list, last)
end

return hooks {
  on_mention = function(ticket, mention)
    if not mention.is_new then return end       -- cheap first: this runs per mention
    local cfg = vigil.config.autoassign
    if cfg.mode == "off" then return end
    if ticket.assignee then return end          -- an earlier hook routed it
    local list = candidates(cfg.cap)
    if #list == 0 then
      vigil.log("info", ("autoassign: nobody available for #%d"):format(ticket.id))
      return
    end
    local chosen = pick(cfg.mode, list, kv:get("last"))
    ticket:assign(chosen.id)
    kv:set("last", chosen.id)
  end,
}
