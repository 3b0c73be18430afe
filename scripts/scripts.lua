-- scripts: every script file and whether it loaded.
local text = require "vigil.text"

-- "ok", or the load error (first line).
local function state(s)
  if s.ok == false or s.error then return ((s.error or "not loaded"):gsub("\n.*", "")) end
  return s.state or "ok"
end

return command {
  usage = "scripts",
  help  = "Every script file and whether it loaded (or why not).",
  roles = "admin",
  run = function(ctx)
    local rows, bad = {}, 0
    for _, s in ipairs(vigil.scripts()) do
      local st = state(s)
      if st ~= "ok" then
        bad = bad + 1
        if s.loaded then st = st .. " (previous version still serving)" end
      end
      rows[#rows + 1] = { s.file or s.name, st }
    end
    if #rows == 0 then return "No scripts found." end
    local head = bad == 0 and ("%s, all loaded:"):format(text.plural(#rows, "script"))
                 or ("%s, %d with errors:"):format(text.plural(#rows, "script"), bad)
    return head .. "\n" .. text.columns(rows)
  end,
}
