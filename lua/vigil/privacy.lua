-- vigil.privacy: finds personal details in a text before it goes public —
-- email addresses, phone and card numbers (Luhn), IBANs (mod-97), street
-- addresses (house number + street word, in the languages of our customers:
-- English, German, French, Spanish, Portuguese, Dutch, Italian, Danish;
-- Japanese block numbers and postcodes), and the
-- team's own patterns (order or account numbers, anything else).
-- Pure functions: `privacy.find(text, rules)` returns what it found, or nil.
-- hooks/privacy.lua holds the team's rules and refuses the reply.
local privacy = {}

-- Full-width digits, dashes and no-break spaces as their ASCII selves.
function privacy.normalize(s)
  s = s:gsub("\xEF\xBC([\x90-\x99])", function(b) return string.char(b:byte() - 0x90 + 48) end)
  s = s:gsub("\xEF\xBC\x8B", "+"):gsub("\xEF\xBC\x8D", "-")
  s = s:gsub("\xE2\x80[\x90-\x94]", "-"):gsub("\xC2\xA0", " ")
  return s
end

-- --- email -------------------------------------------------------------------

local function email(s, safe_domains)
  for user, domain in s:gmatch("([%w%._%%%+%-]+)@([%w%.%-]+)") do
    domain = domain:gsub("[%.%-]+$", ""):lower()
    if user:find("%w") and domain:find("%w%.%a%a+$") and not safe_domains[domain] then
      return user:sub(1, 1) .. "…@" .. domain
    end
  end
end

-- --- phone and card numbers --------------------------------------------------

-- A number right after one of these words is a reference, not a phone.
local LABELS = {
  order = true, ordre = true, bestellung = true, commande = true, pedido = true,
  ordine = true, tracking = true, ref = true, reference = true, invoice = true,
  case = true, ticket = true, sku = true, confirmation = true, booking = true,
  bestelling = true, bestelnummer = true, encomenda = true, auftrag = true,
  sendungsnummer = true, rechnung = true, factura = true, fattura = true, facture = true,
  fatura = true, factuur = true, tracking_number = true, rastreio = true, seguimiento = true,
}
local LABEL_FILLERS = { no = true, nr = true, number = true, nummer = true, id = true, [""] = true }

local function luhn(digits)
  local sum, double = 0, false
  for i = #digits, 1, -1 do
    local d = digits:byte(i) - 48
    if double then d = d * 2; if d > 9 then d = d - 9 end end
    sum, double = sum + d, not double
  end
  return sum % 10 == 0
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

-- Runs of number words (joined by spaces) holding 7-15 digits are a phone,
-- 13-19 digits that pass the Luhn check a card.  Returns the kind and digits.
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

-- --- IBAN --------------------------------------------------------------------

-- ISO 13616: move the first four characters to the end, letters are 10..35,
-- the number mod 97 is 1.  Done in pieces: the number has up to 70 digits.
local function iban_valid(iban)
  local moved = iban:sub(5) .. iban:sub(1, 4)
  local rem = 0
  for c in moved:gmatch(".") do
    local v = c:match("%d") and (c:byte() - 48) or (c:byte() - 55)
    rem = (rem * (v >= 10 and 100 or 10) + v) % 97
  end
  return rem == 1
end

-- Two letters, two check digits, 11-30 letters or digits, maybe in groups
-- of four ("DE89 3704 0044 0532 0130 00").  Only a valid checksum counts:
-- a product code shaped like an IBAN passes.
local IBAN_SHAPE = "%f[%w]%u%u%d%d[%u%d ]*[%u%d]"

local function iban(s)
  for start in s:gmatch("()" .. IBAN_SHAPE) do
    local run = s:match("^[%u%d][%u%d ]*", start)
    local chars, ends = "", {}
    -- candidate ends: every group boundary, so trailing words are not swallowed
    for group in run:gmatch("[%u%d]+") do
      chars = chars .. group
      if #chars > 34 then break end
      ends[#ends + 1] = chars
    end
    for i = #ends, 1, -1 do
      local c = ends[i]
      if #c >= 15 and iban_valid(c) then
        return c:sub(1, 4) .. "…" .. c:sub(-4)
      end
    end
  end
end

-- --- street addresses ----------------------------------------------------------

-- Number first: "12 Baker Street" (English), "12 rue de la Paix" (French).
local STREET_AFTER = {
  street = true, st = true, road = true, rd = true, avenue = true, ave = true, lane = true,
  ln = true, drive = true, dr = true, boulevard = true, blvd = true, way = true, court = true,
  ct = true, place = true, pl = true, terrace = true, crescent = true, close = true,
  square = true, highway = true, parkway = true, gardens = true, grove = true, row = true,
  hill = true, mews = true,
}
local RUE = {
  rue = true, avenue = true, av = true, boulevard = true, bd = true, bvd = true, place = true,
  ["allée"] = true, allee = true, chemin = true, impasse = true, quai = true, route = true,
  cours = true, square = true,
}
local FR_LINK = { de = true, du = true, des = true, la = true, le = true, les = true }

-- Street word first, number after: "Calle Mayor 5", "Rua das Flores, 123",
-- "Via Roma 10" (Spanish, Portuguese, Italian).
local STREET_BEFORE = {
  calle = true, ["c/"] = true, avenida = true, avda = true, av = true, paseo = true,
  plaza = true, camino = true, carrer = true, ronda = true, rua = true, travessa = true,
  largo = true, alameda = true, ["praça"] = true, praca = true, estrada = true,
  via = true, viale = true, corso = true, piazza = true, piazzale = true, vicolo = true,
  lungomare = true,
}
local LINKS = {
  de = true, del = true, la = true, las = true, los = true, el = true, y = true, da = true,
  ["do"] = true, das = true, dos = true, e = true, di = true, dei = true, della = true,
  delle = true, degli = true, dello = true, ["dell'"] = true,
}
local NUMBER_WORDS = {
  ["nº"] = true, ["n°"] = true, ["n."] = true, no = true, ["núm."] = true, num = true,
  ["número"] = true, numero = true, nr = true,
}

-- Street word at the end of a compound: "Hauptstraße 5", "Kerkstraat 12".
-- The first ones also stand alone ("Berliner Straße 12"); the others need a
-- name before them ("Rosenweg 4", never "Weg 4").
local STREET_SUFFIXES_ALONE = { "straße", "strasse", "str.", "straat", "boulevard", "allé" }
local STREET_SUFFIXES = {
  "weg", "allee", "platz", "gasse", "ring", "damm", "ufer", "chaussee", "pfad", "steig",
  "gracht", "plein", "laan", "kade", "singel", "dijk", "steeg",
  "gade", "vej", "vejen", "plads", "stræde", "torv",                     -- Danish
}
-- Compounds that end like a street and are none.
local NOT_STREETS = {
  onderweg = true, halfweg = true, unterweg = true, zeitplatz = true, speicherplatz = true,
  arbeitsplatz = true, parkplatz = true, sitzplatz = true, halvvejen = true,
  midtvejs = true,
}

-- After a "house number", these say it was a count: "Kerkstraat 3 dagen"
-- is not an address, and neither is "via DM 2 giorni fa".
local UNITS = {
  day = true, days = true, ["días"] = true, dias = true, ["día"] = true, dia = true,
  tage = true, tagen = true, tag = true, dagen = true, dag = true, jours = true, jour = true,
  giorni = true, giorno = true, hours = true, hour = true, h = true, horas = true,
  hora = true, heures = true, heure = true, stunden = true, stunde = true, uur = true,
  ore = true, ora = true, min = true, mins = true, minutes = true, minuten = true,
  minutos = true, minuti = true, weeks = true, week = true, semanas = true, wochen = true,
  weken = true, semaines = true, settimane = true, months = true, meses = true,
  monate = true, maanden = true, mois = true, mesi = true, ["%"] = true, ["€"] = true,
  eur = true, euro = true, euros = true, usd = true, gb = true, mb = true, tb = true,
  items = true, times = true, veces = true, vezes = true, mal = true, keer = true,
  fois = true, volte = true, pcs = true, ["stück"] = true, fa = true, ago = true,
  uhr = true, am = true, pm = true, dage = true, timer = true, uger = true,
  ["måneder"] = true, minutter = true, kr = true, stk = true, gange = true,
}

local function capitalized(w)
  if w:match("^%u") then return true end
  local b1, b2 = w:byte(1, 2)
  return b1 == 0xC3 and b2 and b2 >= 0x80 and b2 <= 0x9E   -- À..Þ in UTF-8
end

local function house_number(w)
  return w:match("^%d%d?%d?%d?%d?%a?$") ~= nil and w:match("^0") == nil
end

-- The words of s with their byte span and whether punctuation ended them.
local function words(s)
  local v = {}
  for from, w in s:gmatch("()(%S+)") do
    local core = w:gsub("^[\"'%(%[¿¡]+", "")
    local lead = #w - #core
    local trimmed = core:gsub("[,;:!?%.\"'%)%]]+$", "")
    -- "St." and "Str." keep their dot: it is part of the street word
    if core:sub(#trimmed + 1, #trimmed + 1) == "." and trimmed:lower():match("^%a+$")
       and (#trimmed <= 4 or trimmed:lower():match("str$")) then
      trimmed = trimmed .. "."
    end
    v[#v + 1] = {
      w = trimmed, lw = trimmed:lower(), from = from + lead, to = from + lead + #trimmed - 1,
      comma = core:sub(#trimmed + 1):find("[,;:!?%.]") ~= nil,
      stop = core:sub(#trimmed + 1):find("[;:!?%.]") ~= nil,
    }
  end
  return v
end

local function bare(lw) return (lw:gsub("%.$", "")) end

local function followed_by_unit(v, i)
  local nxt = v[i + 1]
  return nxt ~= nil and not v[i].comma and UNITS[bare(nxt.lw)] == true
end

-- "12 Baker Street", "221B Baker St", "12 rue de la Paix", "8, allée des Roses"
local function number_first(v, i)
  if not house_number(v[i].w) then return nil end
  local j = i + 1
  if v[j] and (v[j].lw == "bis" or v[j].lw == "ter") then j = j + 1 end
  -- French: the street word comes right after, then its name
  if v[j] and RUE[bare(v[j].lw)] and not v[j - 1].stop and v[j + 1] and not v[j].comma then
    -- its name: a capitalized word, maybe after de, la, des... ("place de
    -- parking" is no street)
    for k = j + 1, math.min(j + 4, #v) do
      local w = v[k]
      if capitalized(w.w) or w.w:match("^[dl]'%u") then return i, k end
      if not FR_LINK[w.lw] or w.comma then break end
    end
  end
  if v[i].comma then return nil end
  -- English: one to three names, then the street word
  for k = i + 1, math.min(i + 3, #v - 1) do
    local w = v[k]
    if not (capitalized(w.w) or w.w:match("^%d+[snrt][tdh]$")) then return nil end
    if STREET_AFTER[bare(v[k + 1].lw)] and (v[k + 1].w:match("^%u") or k > i) then
      return i, k + 1
    end
    if w.comma then return nil end
  end
end

-- The house number after a street name at v[j] ("45", "nº 45"); its index.
local function number_after(v, j)
  if v[j] and NUMBER_WORDS[v[j].lw] and v[j + 1] then j = j + 1 end
  if v[j] and house_number(v[j].w) and not followed_by_unit(v, j) then return j end
end

-- "Calle Mayor 5", "Rua das Flores, 123", "Via dei Condotti 8"
local function street_first(v, i)
  if not STREET_BEFORE[bare(v[i].lw)] or v[i].comma then return nil end
  local named = false
  for k = i + 1, math.min(i + 6, #v) do
    local w = v[k]
    if named then
      local j = number_after(v, k)
      if j then return i, j end
    end
    if capitalized(w.w) then
      named = true
    elseif not LINKS[w.lw] then
      return nil
    end
    if w.stop then return nil end
  end
end

local function ends_with(s, suffix)
  return #s >= #suffix and s:sub(-#suffix) == suffix
end

-- "Hauptstraße 5", "Berliner Straße 12", "Kerkstraat 12", "Rosenweg 4a"
local function street_suffix(v, i)
  local w = v[i]
  if not capitalized(w.w) or w.comma or NOT_STREETS[bare(w.lw)] then return nil end
  local street = false
  for _, suf in ipairs(STREET_SUFFIXES_ALONE) do
    street = street or ends_with(w.lw, suf)
  end
  for _, suf in ipairs(STREET_SUFFIXES) do
    street = street or (ends_with(w.lw, suf) and #w.lw >= #suf + 3 and not w.lw:find("[%d%p]"))
  end
  if not street then return nil end
  local j = number_after(v, i + 1)
  if j then return i, j end
end

-- Japanese: a block number after a ward, city, town or village
-- ("渋谷区神南1-2-3"), chōme ("梅田3丁目"), banchi ("5番地", "1番1号") or a
-- postcode ("〒150-0041").  Counts ("2-3日", "1番目") are none of these.
local JP_PLACES = { "区", "市", "町", "村", "郡" }
local JP_MARKS = { "%d+丁目", "%d+番地", "%d+番%d+号", "〒 ?%d%d%d%-%d%d%d%d" }

local function japanese(s)
  local from, to
  for _, mark in ipairs(JP_MARKS) do
    local a, b = s:find(mark)
    if a and (not from or a < from) then from, to = a, b end
  end
  for _, place in ipairs(JP_PLACES) do
    local a, b = s:find(place .. "[^%s%d%p]-%d%d?%d?%-%d%d?%d?%-%d%d?%d?%f[%D]")
    if a and (not from or a < from) then from, to = a, b end
  end
  if not from then return nil end
  -- the place names before it, for the agent to read: up to 6 kanji or
  -- katakana (a particle, を or の, or punctuation ends them)
  for _ = 1, 6 do
    local a, b, c = s:byte(from - 3, from - 1)
    if from <= 3 or not ((a >= 0xE4 and a <= 0xE9) or
                         (a == 0xE3 and ((b == 0x82 and c >= 0xA0) or b == 0x83))) then
      break
    end
    from = from - 3
  end
  return s:sub(from, to)
end

local function address(s)
  local v = words(s)
  for i = 1, #v do
    for _, f in ipairs({ number_first, street_first, street_suffix }) do
      local a, b = f(v, i)
      if a then return s:sub(v[a].from, v[b].to) end
    end
  end
end

-- --- the team's own patterns -------------------------------------------------------

local function patterns_of(p)
  return type(p) == "table" and p or { p }
end

-- nil when pat is a well-formed Lua pattern, else why not.  Lua itself
-- notices a malformed pattern only when the matcher reaches the bad part,
-- which depends on the subject, so this reads the pattern as the matcher would.
local function pattern_error(pat)
  local i, depth = 1, 0
  while i <= #pat do
    local c = pat:sub(i, i)
    if c == "%" then
      local k = pat:sub(i + 1, i + 1)
      if k == "" then return "ends with '%'" end
      if k == "b" then
        if #pat < i + 3 then return "missing arguments to '%b'" end
        i = i + 2
      elseif k == "f" then
        if pat:sub(i + 2, i + 2) ~= "[" then return "missing '[' after '%f'" end
      end
      i = i + 2
    elseif c == "[" then
      local j = i + 1
      if pat:sub(j, j) == "^" then j = j + 1 end
      repeat                                  -- the first ']' is a member
        if j > #pat then return "missing ']'" end
        if pat:sub(j, j) == "%" then j = j + 1 end
        j = j + 1
      until pat:sub(j, j) == "]"
      i = j + 1
    elseif c == "(" then
      depth = depth + 1
      i = i + 1
    elseif c == ")" then
      depth = depth - 1
      if depth < 0 then return "invalid pattern capture" end
      i = i + 1
    else
      i = i + 1
    end
  end
  if depth ~= 0 then return "unfinished capture" end
end

local function check_pattern(pat, where)
  if type(pat) ~= "string" then error(("privacy: %s must be a pattern (a string)"):format(where), 3) end
  local why = pattern_error(pat)
  if why then error(("privacy: %s: malformed pattern '%s' (%s)"):format(where, pat, why), 3) end
end

-- Checks rules once, when the hook loads, so a bad pattern is a load error
-- (the previous version keeps serving), never a refused reply.
function privacy.check_rules(rules)
  rules = rules or {}
  for name, p in pairs(rules.numbers or {}) do
    for _, pat in ipairs(patterns_of(p)) do
      check_pattern(pat, "numbers." .. tostring(name))
    end
  end
  for i, e in ipairs(rules.extra or {}) do
    if type(e) ~= "table" or type(e.what) ~= "string" or type(e.pattern) ~= "string" then
      error(("privacy: extra[%d] must be { what = \"...\", pattern = \"...\" }"):format(i), 2)
    end
    check_pattern(e.pattern, ("extra[%d] (%s)"):format(i, e.what))
  end
  return rules
end

local function team_patterns(s, rules)
  local names = {}
  for name in pairs(rules.numbers or {}) do names[#names + 1] = name end
  table.sort(names)                                  -- the same answer every time
  for _, name in ipairs(names) do
    for _, pat in ipairs(patterns_of(rules.numbers[name])) do
      local a, b = s:find(pat)
      if a then
        local article = name:match("^[aeiouAEIOU]") and "an" or "a"
        return "number", ("%s %s number: '%s'"):format(article, name, s:sub(a, b))
      end
    end
  end
  for _, e in ipairs(rules.extra or {}) do
    local a, b = s:find(e.pattern)
    if a then return "extra", ("%s: '%s'"):format(e.what, s:sub(a, b)) end
  end
end

-- --- all of it -------------------------------------------------------------------

-- What personal detail `text` shows, as (kind, description) — kind is email,
-- iban, card, phone, address, number (rules.numbers) or extra (rules.extra);
-- the description is for the agent: "a street address: '12 Baker Street'".
-- nil when there is none.  rules: { safe_email_domains = { ["acme.example"]
-- = true }, numbers = { order = "#%d%d%d%d%d%d" }, extra = { { what = "...",
-- pattern = "..." } } }, all optional.
function privacy.find(text, rules)
  rules = rules or {}
  local s = privacy.normalize(text)
  local kind
  local found = email(s, rules.safe_email_domains or {})
  if found then return "email", ("an email address (%s)"):format(found) end
  found = iban(s)
  if found then return "iban", ("an IBAN (%s)"):format(found) end
  kind, found = team_patterns(s, rules)
  if kind then return kind, found end
  found = japanese(s)
  if found then return "address", ("a street address: '%s'"):format(found) end
  -- the digits of an IBAN-shaped code that is none are not a phone number;
  -- Japanese has no spaces between words: a CJK character separates them
  local digits
  kind, digits = phone_or_card((s:gsub(IBAN_SHAPE, "IBAN"):gsub("[\227-\233][\128-\191][\128-\191]", " ")))
  if kind == "card" then
    return "card", ("what looks like a card number (ending %s)"):format(digits:sub(-4))
  elseif kind == "phone" then
    return "phone", ("what looks like a phone number (ending %s)"):format(digits:sub(-4))
  end
  found = address(s)
  if found then return "address", ("a street address: '%s'"):format(found) end
  return nil
end

return privacy
