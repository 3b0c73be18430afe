-- away [@user] [reason] [until]: say you are away, so nobody waits on you
-- and auto-assignment passes you by.  `until` is the last word: 14:00 (the
-- next 14:00 in the desk's time zone, sla.hours.timezone), 2h, 30m, 1d or
-- tomorrow (09:00 tomorrow).
local text = require "vigil.text"

local USAGE = "away [@user] [reason] [until: 14:00|2h|30m|1d|tomorrow]"

-- The Unix time `word` means at `now`, or nil when it is not a time.
local function parse_until(word, now)
  local n, unit = word:match("^(%d+)([mhd])$")
  if n then
    return now + tonumber(n) * ({ m = 60, h = 3600, d = 86400 })[unit]
  end
  local t = vigil.date("*t", now)
  local h, m = word:match("^(%d%d?):(%d%d)$")
  if word:lower() == "tomorrow" then
    h, m, t.day = 9, 0, t.day + 1
  elseif not h then
    return nil
  end
  h, m = tonumber(h), tonumber(m)
  if h > 23 or m > 59 then return nil end
  t.hour, t.min, t.sec, t.isdst = h, m, 0, nil
  local at = vigil.time(t)
  if at <= now then                 -- 08:00 said at 17:00: tomorrow morning
    t.day = t.day + 1
    at = vigil.time(t)
  end
  return at
end

return command {
  usage = USAGE,
  help  = "Mark yourself away (a lead can mark anyone): /tw workload shows it and\n" ..
          "new tickets are not auto-assigned to you until you say /tw back\n" ..
          "or the time you gave has passed.",
  run = function(ctx, args)
    local who, first = ctx.user, 1
    if args[1] and args[1]:sub(1, 1) == "@" then
      who = ctx:user(args[1])
      first = 2
    end
    if who.id ~= ctx.user.id then ctx:require_role("lead") end
    local words, now = {}, text.now()
    for i = first, #args do words[#words + 1] = args[i] end
    local untl = words[#words] and parse_until(words[#words], now)
    if untl then
      words[#words] = nil
      if words[#words] and words[#words]:lower() == "until" then words[#words] = nil end
    end
    local reason = table.concat(words, " ")
    vigil.set_away(who, { reason = reason ~= "" and reason or nil, back_at = untl })
    local whom = who.id == ctx.user.id and "You are" or (who.name .. " is")
    local aa = vigil.config.autoassign.mode ~= "off"
    return ("%s away%s%s.%s %s back%s ends it.")
      :format(whom, reason ~= "" and (" (" .. reason .. ")") or "",
              untl and (" until %s (%s)"):format(vigil.date("%a %H:%M", untl), text.due(untl, now)) or "",
              aa and " New tickets are not auto-assigned meanwhile;" or "",
              text.cmd(), who.id == ctx.user.id and "" or (" @" .. who.name))
  end,
}
