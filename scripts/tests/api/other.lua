-- other <key> [value]: this file's own kv, to show that probe.lua's is not
-- it (a test fixture of api_test.lua).
return command {
  usage = "other <key> [value]",
  help  = "Shows kv:get(key) of this file, or sets it (a test fixture).",
  run = function(ctx, args)
    if args[2] then kv:set(args[1], args[2]) end
    return tostring(kv:get(args[1]))
  end,
}
