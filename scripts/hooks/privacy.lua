-- hooks/privacy.lua: keeps personal details out of public replies.  A reply
-- with an email address, a phone number or a card number is refused, and
-- the agent is pointed to a DM.  Order numbers ("#48213", "order 12345678"),
-- dates ("2026-11-20", "20.11.2026"), times ("10:30", "9.00-17.00"), links
-- and @handles are let through.
local text = require "vigil.text"

-- Email domains a public reply may show (your own support address).
local SAFE_EMAIL_DOMAINS = {
  -- ["acme.example"] = true,
}

-- A number right after one of these words is a reference, not a phone.
local LABELS = {
  order = true, ordre = true, bestellung = true, commande = true, pedido = true,
  ordine = true, tracking = true, ref = true, reference = true, invoice = true,
  case = true, ticket = true, sku = true, confirmation = true, booking = true,
}
local LABEL_FILLERS = { no = true, nr = true, number = true, nummer = true, id = true, [""] = true }

-- Full-width digits, dashes and no-break spaces as their ASCII selves.
local function normalize(s)
  s = s:gsub("\xEF\xBC([\x90-\x99])", function(b) return string.char(b:byte() - 0x90 + 48) end)
  s = s:gsub("\xEF\xBC\x8B", "+"):gsub("\xEF\xBC\x8D", "-")
  s = s:gsub("\xE2\x80[\x90-\x94]", "-"):gsub("\xC2\xA0", " ")
  return s
end

local function luhn(digits)
  local sum, double = 0, false
  for i = #digits, 1, -1 do
    local d = digits:byte(i) - 48
    if double then d = d * 2; if d > 9 then d = d - 9 end end
    sum, double = sum + d, not double
  end
  return sum % 10 == 0
end

local function email(s)
  for user, domain in s:gmatch("([%w%._%%%+%-]+)@([%w%.%-]+)") do
    domain = domain:gsub("[%.%-]+$", ""):lower()
    if user:find("%w") and domain:find("%w%.%a%a+$") and not SAFE_EMAIL_DOMAINS[domain] then
      return user:sub(1, 1) .. "…@" .. domain
    end
  end
end

local function n(s) return tonumber(s) end

local function is_time(w)
  local h, m = w:match("^(%d%d?)[:%.](%d%d)$")
  return h and n(h) <= 24 and n(m) <= 59
end

local function is_day_month(w)
  local a, b = w:match("^(%d%d?)[%./](%d%d?)%.?$")
  return a and n(a) >= 1 and n(b) >= 1 and n(a) <= 31 and n(b) <= 31
         and math.min(n(a), n(b)) <= 12
end

-- 2026-11-20, 20.11.2026, 11/20/26, and ranges like 9.00-17.00 or 20.11-22.11.
local function is_date_or_time(w)
  local a, s1, b, s2, c = w:match("^(%d+)([%./%-])(%d+)([%./%-])(%d+)$")
  if a and s1 == s2 then
    if #a == 4 then return n(b) >= 1 and n(b) <= 12 and n(c) >= 1 and n(c) <= 31 end
    if (#c == 2 or #c == 4) and #a <= 2 and #b <= 2 then return is_day_month(a .. "." .. b) end
  end
  local x, y = w:match("^(.-)%-(.+)$")
  if x then
    return (is_time(x) and is_time(y)) or (is_day_month(x) and is_day_month(y))
  end
  return is_time(w)
end

-- A word made only of number characters: 555-1234, (555), +45, 12.34.56.78, "-".
local function is_number_word(w)
  return w:match("^%(?%+?[%d%(%)%-%.]+$") and (w:find("%d") or w == "-")
         and not is_date_or_time(w)
end

-- Finds a phone or card number: runs of number words (joined by spaces)
-- holding 7-15 digits, or 13-19 digits that pass the Luhn check.
local function phone_or_card(s)
  local group, labelled, prev1, prev2 = {}, false, nil, nil
  local found, last
  local function check()
    if #group > 0 then
      local joined = table.concat(group, " ")
      local digits = joined:gsub("%D", "")
      if #digits >= 13 and #digits <= 19 and not joined:find("[%.%(%)%+]") and luhn(digits) then
        found, last = "card", digits
      elseif #digits >= 7 and #digits <= 15 and not labelled then
        found, last = "phone", digits
      end
    end
    group, labelled = {}, false
  end
  for word in s:gmatch("%S+") do
    local core = word:gsub("^[\"'%[]+", "")
    local stop = core:find("[,;:!?%.\"'%]]+$") ~= nil
    core = core:gsub("[,;:!?%.\"'%]]+$", "")
    if core ~= "" and is_number_word(core) then
      if #group == 0 then
        labelled = LABELS[prev1] or (LABEL_FILLERS[prev1] and LABELS[prev2]) or false
      end
      group[#group + 1] = core
    else
      check()
      prev2, prev1 = prev1, core:lower():gsub("[#:%.]", "")
    end
    if stop then check() end
    if found then return found, last end
  end
  check()
  return found, last
end

return hooks {
  before_reply = function(ticket, reply, ctx)
    local s = normalize(reply)
    local what
    local addr = email(s)
    if addr then
      what = ("an email address (%s)"):format(addr)
    else
      local kind, digits = phone_or_card(s)
      if kind == "card" then
        what = ("what looks like a card number (ending %s)"):format(digits:sub(-4))
      elseif kind == "phone" then
        what = ("what looks like a phone number (ending %s)"):format(digits:sub(-4))
      end
    end
    if not what then return nil end
    return false, ("Not sent: this public reply contains %s. Personal details go in a DM: %s dm %d <text>")
                  :format(what, text.cmd(), ticket.id)
  end,
}
