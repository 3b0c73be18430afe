-- hooks/sla.lua: what happens when a ticket's SLA clock runs low or out.
-- `sla` says which clock: sla.target is "first_response" or "follow_up"
-- (the next response after a customer's follow-up), sla.due_at the due
-- time, sla.left the business seconds left (0 at a breach).
return hooks {
  -- At each sla.warn offset before the target.  vigil has already posted
  -- the warning in the ticket's thread, pinging the assignee or sla.notify;
  -- this is the place for more, e.g.
  --   if sla.left <= 600 then ticket:tag("urgent") end
  on_sla_warning = function(ticket, sla)
  end,

  -- At the target: escalate to the second tier.  Returning true tells the
  -- desk the breach is handled (it would otherwise escalate by itself).
  on_sla_breach = function(ticket, sla)
    if not ticket.escalated and ticket.state == "open" then
      ticket:escalate(sla.target == "follow_up" and "next-response target missed"
                      or "first-response target missed")
    end
    return true
  end,
}
