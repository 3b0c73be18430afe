-- hooks/sla.lua: what happens when a ticket's first-response clock runs out.
return hooks {
  -- sla.warn_before seconds before the target.  Vigil already flags the
  -- ticket in chat; this is the place to page someone, e.g.
  --   ticket:note("@support-oncall: #" .. ticket.id .. " needs an answer")
  on_sla_warning = function(ticket)
  end,

  -- At the target: escalate to the second tier.  Returning true tells the
  -- desk the breach is handled (it would otherwise escalate by itself).
  on_sla_breach = function(ticket)
    if not ticket.escalated and ticket.state == "open" then
      ticket:escalate("first-response target missed")
    end
    return true
  end,
}
