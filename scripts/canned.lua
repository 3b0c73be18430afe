-- canned: saved answers.  canned <ticket> <name> replies with one; list,
-- show and add manage them.  Templates: {name} {handle} {agent}; an answer
-- with a placeholder the ticket cannot fill is refused, never tweeted.
local text = require "vigil.text"
local USAGE = "canned <ticket> <name> | list | show <name> | add <name> <text>"

local function valid_name(name)
  return name and #name <= 32 and name:match("^[%w_%-]+$")
end

-- Answers vigil's own flows offer before anyone saved them (canned add
-- replaces them): dm_ask when a DM failed (the customer does not accept DMs).
local DEFAULTS = {
  dm_ask = "{handle} we couldn't send you a DM. Could you send us one with the details? " ..
           "We'll take it from there.",
}

local function get(ctx, name)
  local body = name and (ctx.canned:get(name:lower()) or DEFAULTS[name:lower()])
  if not body then
    ctx:fail(("There is no canned answer \"%s\". %s canned list shows them.")
             :format(name or "", text.cmd()))
  end
  return body
end

-- The placeholders vigil fills, as `{name}, {handle} and {agent}`.
local KNOWN = { "name", "handle", "agent" }

local sub = {}

-- The answer `name` with #t's placeholders filled, or a failure saying why.
local function expand(ctx, t, name)
  local template, vars = get(ctx, name), text.canned_vars(t, ctx.user)
  local missing = text.unfilled(template, vars)
  if #missing > 0 then
    ctx:fail(("Nothing was sent: the canned answer \"%s\" has %s, which #%d cannot fill "
              .. "(vigil fills %s). A lead can fix it: %s canned add %s <text>")
             :format(name:lower(), text.placeholders(missing), t.id,
                     text.placeholders(KNOWN), text.cmd(), name:lower()))
  end
  return text.expand(template, vars)
end

-- fill <ticket> <name>: the filled answer, shown, not sent (the reply
-- form's canned picker puts it in the box to edit).
function sub.fill(ctx, args)
  if not args[3] then ctx:fail(text.usage("canned fill <ticket> <name>")) end
  return expand(ctx, ctx:ticket(args[2]), args[3])
end

function sub.list(ctx)
  local names = ctx.canned:names()
  if #names == 0 then
    return ("No canned answers yet. A lead can add one: %s canned add <name> <text>"):format(text.cmd())
  end
  local rows = {}
  for _, n in ipairs(names) do rows[#rows + 1] = { n, text.excerpt(ctx.canned:get(n), 60) } end
  return text.columns(rows)
end

function sub.show(ctx, args)
  if not args[2] then ctx:fail(text.usage("canned show <name>")) end
  return get(ctx, args[2])
end

function sub.add(ctx, args)
  ctx:require_role("lead")
  if not args[3] then ctx:fail(text.usage("canned add <name> <text>")) end
  local name = args[2]:lower()
  if not valid_name(name) then
    ctx:fail("A canned answer's name is 1-32 letters, digits, - or _ (like refund-status).")
  end
  local existed = ctx.canned:get(name) ~= nil
  local body = ctx:rest(2)
  local vars = {}
  for _, k in ipairs(KNOWN) do vars[k] = k end
  local unknown = text.unfilled(body, vars)
  ctx.canned:set(name, body)
  local answer = ("%s canned answer \"%s\". Use it with: %s canned <ticket> %s")
                 :format(existed and "Updated" or "Saved", name, text.cmd(), name)
  if #unknown > 0 then
    answer = answer .. ("\nNote: vigil fills only %s; until %s is gone, this answer is refused.")
                       :format(text.placeholders(KNOWN), text.placeholders(unknown))
  end
  return answer
end

return command {
  usage = "canned <ticket> <name>",
  form  = { { name = "name", kind = "choice", from = "canned", label = "Canned answer" } },
  help  = "Reply with a saved answer (see also: canned list).\n" ..
          "canned list | canned show <name> | canned fill <ticket> <name> (filled, not sent)\n" ..
          "| canned add <name> <text> (leads).\n" ..
          "In the text, {name} is the customer's name, {handle} their @handle, {agent} your name;\n" ..
          "an answer with any other {placeholder} is refused, not sent.",
  run = function(ctx, args)
    local verb = args[1] and args[1]:lower()
    if sub[verb] then return sub[verb](ctx, args) end
    if not args[2] then ctx:fail(text.usage(USAGE)) end
    local t = ctx:ticket(args[1])
    local was_closed = t.state == "closed"
    local out = text.reply_queued(t, t:reply(expand(ctx, t, args[2])))
    if was_closed then out = out .. ("\n#%d was closed; it is open again."):format(t.id) end
    return out
  end,
}
