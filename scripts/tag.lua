-- tag <ticket> <tag>
return command {
  args  = { "ticket", "tag" },
  help  = "Tag a ticket, e.g. billing (letters, digits, - and _).",
  run = function(ctx, args)
    local t = args.ticket
    local tag = args.tag:gsub("^#", "")
    t:tag(tag)
    return ("#%d tagged %s."):format(t.id, tag:lower())
  end,
}
