-- tag <ticket> <tag>
local text = require "vigil.text"

return command {
  usage = "tag <ticket> <tag>",
  help  = "Tag a ticket, e.g. billing (letters, digits, - and _).",
  run = function(ctx, args)
    if not args[2] then ctx:fail(text.usage("tag <ticket> <tag>")) end
    local t = ctx:ticket(args[1])
    local tag = args[2]:gsub("^#", "")
    t:tag(tag)
    return ("#%d tagged %s."):format(t.id, tag:lower())
  end,
}
