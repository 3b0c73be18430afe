-- export [today|7d|30d|Nd] [path]: the tickets opened in the period and their
-- first responses, as CSV (RFC 4180; cells a spreadsheet would run as a
-- formula start with '): shared as a file in the channel, or written by the
-- bot to <path> (console and `vigil repl` only).
local text = require "vigil.text"
local USAGE = "export [today|7d|30d|<N>d] [/absolute/path.csv]"

local function since(period, now)
  if period == "today" then
    local d = vigil.date("*t", now)
    d.hour, d.min, d.sec = 0, 0, 0
    return vigil.time(d)
  end
  local n = period:match("^(%d+)d$")
  n = n and tonumber(n)
  if n and n >= 1 and n <= 3660 then return now - n * 86400 end
  return nil
end

return command {
  usage = USAGE,
  help  = "Tickets opened in the period (default 30d) with their first-response times,\n" ..
          "as a CSV file shared in this channel; with an absolute path (console or\n" ..
          "`vigil repl` only) the bot writes the file there instead.",
  roles = "lead",
  run = function(ctx, args)
    local period, path, periods = "30d", nil, 0
    for _, a in ipairs(args) do
      if a:sub(1, 1) == "/" then path = a else period, periods = a:lower(), periods + 1 end
    end
    local now = text.now()
    local from = since(period, now)
    -- two periods ("7d 30d") would silently take the last
    if not from or #args > 2 or periods > 1 then ctx:fail(text.usage(USAGE)) end
    local when = os.date("!%Y-%m-%d %H:%M", from)
    if path then
      local rows = ctx:export(from, nil, path)
      return ("Wrote %s (opened since %s UTC) to %s."):format(text.plural(rows, "ticket"),
        when, path)
    end
    local csv, rows = ctx:export(from)
    local name = ("tickets-%s-%s.csv"):format(period, os.date("!%Y%m%d-%H%M", now))
    ctx:upload(name, csv, ("Tickets opened since %s UTC (%s)"):format(when,
      text.plural(rows, "ticket")))
    return ("Sharing %s (opened since %s UTC) here as %s."):format(text.plural(rows, "ticket"),
      when, name)
  end,
}
