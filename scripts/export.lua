-- export [today|7d|30d|Nd] <path>: the tickets opened in the period and their
-- first responses, as CSV (RFC 4180; cells a spreadsheet would run as a
-- formula start with '), written by the bot to <path>.
local text = require "vigil.text"
local USAGE = "export [today|7d|30d|<N>d] </absolute/path.csv>"

local function since(period, now)
  if period == "today" then
    local d = os.date("*t", now)
    d.hour, d.min, d.sec = 0, 0, 0
    return os.time(d)
  end
  local n = period:match("^(%d+)d$")
  n = n and tonumber(n)
  if n and n >= 1 and n <= 3660 then return now - n * 86400 end
  return nil
end

return command {
  usage = USAGE,
  help  = "Tickets opened in the period (default 30d) with their first-response times,\n" ..
          "as a CSV file the bot writes to an absolute path: from the console or\n" ..
          "`vigil repl` (admin.user) only.",
  roles = "lead",
  run = function(ctx, args)
    local period, path = "30d", nil
    for _, a in ipairs(args) do
      if a:sub(1, 1) == "/" then path = a else period = a:lower() end
    end
    local from = since(period, text.now())
    if not from or not path then ctx:fail(text.usage(USAGE)) end
    local rows = ctx:export(from, nil, path)
    return ("Wrote %s (opened since %s UTC) to %s."):format(text.plural(rows, "ticket"),
      os.date("!%Y-%m-%d %H:%M", from), path)
  end,
}
