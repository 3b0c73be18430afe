-- vigil.text: small helpers the default commands share — times for humans
-- ("3 min ago", "in 42 min"), one-line excerpts, aligned columns, canned
-- answer templates.  Pure functions; `local text = require "vigil.text"`.
local text = {}

-- The desk's clock when the runtime exposes it (tests move it), else the OS's.
function text.now()
  if vigil and vigil.now then return vigil.now() end
  return os.time()
end

-- "/tw" (the umbrella command), for answers that show a command to type.
function text.cmd()
  return (vigil and vigil.config and vigil.config.command) or "/tw"
end

-- "Usage: /tw reply <ticket> <text>"
function text.usage(usage)
  return ("Usage: %s %s"):format(text.cmd(), usage)
end

-- 45 -> "45 s", 720 -> "12 min", 3900 -> "1 h 5 min", 180000 -> "2 d 2 h"
function text.duration(secs)
  secs = math.max(0, math.floor(secs + 0.5))
  if secs < 60 then return ("%d s"):format(secs) end
  if secs < 3600 then return ("%d min"):format(secs // 60) end
  local function two(n, a, m, b)
    return m > 0 and ("%d %s %d %s"):format(n, a, m, b) or ("%d %s"):format(n, a)
  end
  if secs < 86400 then return two(secs // 3600, "h", secs % 3600 // 60, "min") end
  if secs < 7 * 86400 then return two(secs // 86400, "d", secs % 86400 // 3600, "h") end
  return ("%d d"):format(secs // 86400)
end

-- A past time: "just now", "3 min ago".
function text.ago(t, now)
  local d = (now or text.now()) - t
  if d < 60 then return "just now" end
  return text.duration(d) .. " ago"
end

-- A deadline: "in 42 min", or "12 min overdue" once passed.
function text.due(t, now)
  local d = t - (now or text.now())
  if d < 0 then return text.duration(-d) .. " overdue" end
  return "in " .. text.duration(math.max(d, 60))
end

-- Columns a character takes in a monospace font: 2 for CJK and emoji.
local function cwidth(c)
  if c < 0x1100 then return 1 end
  if (c <= 0x115F) or (c >= 0x2E80 and c <= 0xA4CF) or (c >= 0xAC00 and c <= 0xD7A3)
     or (c >= 0xF900 and c <= 0xFAFF) or (c >= 0xFE30 and c <= 0xFE4F)
     or (c >= 0xFF00 and c <= 0xFF60) or (c >= 0xFFE0 and c <= 0xFFE6)
     or (c >= 0x1F300 and c <= 0x1FAFF) or (c >= 0x20000 and c <= 0x3FFFD) then
    return 2
  end
  return 1
end

-- Display width of a string in a monospace font (bytes if not UTF-8).
function text.width(s)
  if not utf8.len(s) then return #s end
  local w = 0
  for _, c in utf8.codes(s) do w = w + cwidth(c) end
  return w
end

-- One line at most `max` columns wide (default 60): whitespace collapsed,
-- leading @mentions dropped (the tweet's "@AcmeSupport"), "…" when cut.
function text.excerpt(s, max)
  max = max or 60
  s = tostring(s or ""):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  local rest = s
  repeat
    local n
    rest, n = rest:gsub("^@[%w_]+ ", "")
  until n == 0
  if rest ~= "" then s = rest end
  if text.width(s) <= max then return s end
  if not utf8.len(s) then return s:sub(1, max - 1) .. "…" end
  local w, cut = 0, 1
  for pos, c in utf8.codes(s) do   -- keep whole characters within max - 1 columns
    w = w + cwidth(c)
    if w > max - 1 then cut = pos; break end
  end
  return s:sub(1, cut - 1):gsub("%s+$", "") .. "…"
end

-- Rows (lists of strings) as lines with every column but the last padded to
-- its widest cell, separated by two spaces.
function text.columns(rows, sep)
  sep = sep or "  "
  local widths = {}
  for _, row in ipairs(rows) do
    for i = 1, #row - 1 do
      widths[i] = math.max(widths[i] or 0, text.width(tostring(row[i])))
    end
  end
  local lines = {}
  for _, row in ipairs(rows) do
    local cells = {}
    for i, cell in ipairs(row) do
      cell = tostring(cell)
      if i < #row then cell = cell .. (" "):rep(widths[i] - text.width(cell)) end
      cells[i] = cell
    end
    lines[#lines + 1] = table.concat(cells, sep):gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

-- "1 ticket", "3 tickets"
function text.plural(n, word, words)
  return ("%d %s"):format(n, n == 1 and word or (words or word .. "s"))
end

-- "@handle"
function text.handle(customer)
  return "@" .. ((customer and customer.handle) or "?")
end

-- The customer as they would like to be addressed: display name, else @handle.
function text.customer_name(customer)
  local name = customer and customer.name
  if name and name:find("%S") then return name end
  return text.handle(customer)
end

-- Fills {placeholders} from `vars`; unknown ones are left as they are.
function text.expand(template, vars)
  return (template:gsub("{([%w_]+)}", function(key)
    local v = vars[key]
    if v == nil then return nil end -- keep "{key}"
    return tostring(v)
  end))
end

-- The placeholders of a canned answer for ticket `t`, answered by `user`.
function text.canned_vars(t, user)
  return {
    name = text.customer_name(t.customer),
    handle = text.handle(t.customer),
    agent = user and user.name or "",
  }
end

-- The {placeholders} in `template` that `vars` cannot fill (unknown, or
-- nothing to put there), each once, in order: { "order" }.  A reply must
-- never reach a customer with "{order}" in it.
function text.unfilled(template, vars)
  local missing, seen = {}, {}
  for key in template:gmatch("{([%w_]+)}") do
    local v = vars[key]
    if (v == nil or tostring(v) == "") and not seen[key] then
      seen[key] = true
      missing[#missing + 1] = key
    end
  end
  return missing
end

-- "{order}", "{order} and {sku}", "{a}, {b} and {c}"
function text.placeholders(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = "{" .. k .. "}" end
  if #out <= 1 then return out[1] or "" end
  return table.concat(out, ", ", 1, #out - 1) .. " and " .. out[#out]
end

-- The message of an error caught with pcall (a ctx:fail, a refused
-- operation or a Lua error), without the "file:line: " prefix.
function text.errmsg(e)
  if type(e) == "table" then
    -- a refusal travels as a table holding its message
    local msg = e.vigil_user_error or e.message
    if msg == nil then
      for _, v in pairs(e) do
        if type(v) == "string" then msg = v; break end
      end
    end
    e = msg
  end
  e = tostring(e)
  return (e:gsub("^[^\n:]*%.lua:%d+: ", ""))
end

-- The answer to a public reply just queued (reply, reply!, canned share it,
-- so they cannot drift): with reply.hold it waits that long and can be
-- undone, and says so.  `anyway`: it went past the collision guard.
function text.reply_queued(t, sent, anyway)
  local hold = vigil and vigil.config and vigil.config.reply and vigil.config.reply.hold or 0
  local how = anyway and " anyway" or ""
  if hold > 0 then
    return ("Reply to %s: sending%s in %g s: %s\nUndo: %s undo %d"):format(
      text.handle(t.customer), how, hold, sent, text.cmd(), t.id)
  end
  return ("Reply to %s queued%s: %s"):format(text.handle(t.customer), how, sent)
end

-- Staff display name for an id (events name actors by id).
function text.staff_name(id)
  if not id then return "-" end
  local ok, staff = pcall(vigil.staff)
  if ok and type(staff) == "table" then
    for k, s in pairs(staff) do
      if type(s) == "table" and (s.id == id or k == id) then return s.name or id end
    end
  end
  return id
end

return text
