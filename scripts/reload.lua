-- reload [name]: reload one script, or all of them.
local text = require "vigil.text"

-- A script's entry of vigil.scripts(), by file name.
local function find(file)
  for _, s in ipairs(vigil.scripts()) do
    if (s.file or s.name) == file then return s end
  end
end

-- nil when it loaded; else why not, and whether an older version still serves.
local function problem(s)
  if s.ok == false or s.error then
    return (s.error or "not loaded") .. (s.loaded and "\n(the previous version keeps serving)" or "")
  end
end

return command {
  usage = "reload [name]",
  help  = "Reload a script (reload assign, reload hooks/sla), or all of them.\n" ..
          "Scripts reload by themselves when saved; this is for when that did not happen.",
  roles = "admin",
  run = function(ctx, args)
    local file = args[1] and args[1]:gsub("%.lua$", "") .. ".lua"
    vigil.reload(file)
    if file then
      local s = find(file)
      if not s then ctx:fail(("There is no script %s."):format(file)) end
      local why = problem(s)
      if not why then return ("Reloaded %s."):format(file) end
      return ("%s did not load: %s"):format(file, why)
    end
    local failed = {}
    for _, s in ipairs(vigil.scripts()) do
      local why = problem(s)
      if why then failed[#failed + 1] = ("%s: %s"):format(s.file or s.name, why) end
    end
    if #failed == 0 then return "Reloaded every script." end
    return ("Reloaded; %s did not load:\n%s"):format(text.plural(#failed, "script"),
                                                    table.concat(failed, "\n"))
  end,
}
