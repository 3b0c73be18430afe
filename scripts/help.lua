-- help [command]: what the commands are and how to type them.
local text = require "vigil.text"

local RANK = { none = 0, agent = 1, lead = 2, admin = 3 }

-- Who may run a command: "lead" (that role and above) or a list of roles.
local function allowed(roles, role)
  if type(roles) == "table" then
    for _, r in ipairs(roles) do if r == role then return true end end
    return false
  end
  return (RANK[role] or 0) >= (RANK[roles or "agent"] or 1)
end

local function who(roles)
  if type(roles) == "table" then return table.concat(roles, "/") .. " only" end
  if roles == "lead" then return "leads" end
  if roles == "admin" then return "admins" end
  return nil
end

local function first_line(s)
  return (s or ""):match("^[^\n]*")
end

return command {
  usage = "help [command]",
  help  = "List the commands, or explain one: help reply.",
  run = function(ctx, args)
    local cmds, prefix = vigil.commands(), text.cmd() .. " "
    if args[1] then
      local want = args[1]:lower():gsub("^/", "")
      for _, c in ipairs(cmds) do
        if c.name == want then
          local out = prefix .. (c.usage or c.name)
          if who(c.roles) then out = out .. "  (" .. who(c.roles) .. ")" end
          return out .. "\n" .. (c.help or "No help written for this command.")
        end
      end
      return ("There is no command \"%s\". %shelp lists them all."):format(want, prefix)
    end
    local rows = {}
    for _, c in ipairs(cmds) do
      local h = first_line(c.help)
      if who(c.roles) and not allowed(c.roles, ctx.user.role) then
        h = h .. " (" .. who(c.roles) .. ")"
      end
      rows[#rows + 1] = { prefix .. (c.usage or c.name), h }
    end
    local out = text.columns(rows)
    if ctx.user.role == "none" then
      out = out .. "\nYou are not on the support staff, so you can only run help."
    end
    return out
  end,
}
