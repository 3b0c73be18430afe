-- probe <expression>: api_test.lua's window onto the script API.  Evaluates
-- a Lua expression in this script's sandbox (vigil, kv, ctx and the
-- helpers below in scope) and answers with its values, shown as Lua.
-- A test fixture, not a shipped command: only `vigil test` loads this folder.

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = (math.type(k) == "integer" and "" or (tostring(k) .. " = ")) .. show(v[k])
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- The numbers of a list of tickets, in order.
local function ids(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t.id end
  return out
end

-- pcall's message without the chunk's position, or the values when it worked.
local function try(f, ...)
  local ok, err = pcall(f, ...)
  if ok then return "ok" end
  return (tostring(err):gsub("^[^:]*:%d+: ", ""))
end

return command {
  usage = "probe <expression>",
  help  = "Evaluates a Lua expression (a test fixture).",
  run = function(ctx)
    local env = setmetatable({ ctx = ctx, ids = ids, try = try }, { __index = _G })
    local f = assert(load("return " .. ctx:rest(0), "=probe", "t", env))
    local out = table.pack(f())
    for i = 1, out.n do out[i] = show(out[i]) end
    return table.concat(out, ", ", 1, out.n)
  end,
}
