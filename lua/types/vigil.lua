---@meta
-- lua/types/vigil.lua: LuaLS annotations of what vigil gives scripts, so an
-- editor completes `ctx:`, `t:` and `vigil.` and checks their arguments.
-- For editors only: nothing requires it (were it run, it would only define
-- locals and set vigil, command and hooks to themselves).  Point LuaLS at
-- it with `"workspace.library": ["lua/types"]` (.luarc.json).
-- tests/unit/test_lua_stubs.c checks that every function bot/script/
-- registers is here, and nothing else, so it cannot drift.

---@class vigil.User
---@field id string          chat id ("U123")
---@field name string        staff name, or the id for non-staff
---@field initials string    what replies are signed with ("" for non-staff)
---@field role "agent"|"lead"|"admin"|"none"

---@class vigil.Customer
---@field id string          X user id
---@field handle string      without the @
---@field name? string       display name

---@class vigil.Event
---@field at integer         Unix seconds
---@field actor string       staff id, "hook:<file>" or "system"
---@field action string      "reply", "assign", "note", ...
---@field detail? string

---@class vigil.Ticket
---@field id integer
---@field state "open"|"closed"
---@field status string      what the chat shows: "Open", "Assigned", "Escalated", "Closed"...
---@field customer vigil.Customer
---@field text string        the tweet that opened it
---@field tweet_id string
---@field url string         the tweet on x.com
---@field assignee? vigil.User
---@field escalated boolean
---@field escalation_reason? string
---@field priority? string
---@field tags string[]
---@field opened_at integer
---@field first_response_at? integer
---@field sla_due_at? integer
---@field closed_at? integer
---@field mentions integer   mentions in the ticket's conversation
local Ticket = {}

---Gives the ticket to a teammate (audited; the chat message updates).
---@param who vigil.User|string a user table or a staff id
---@return vigil.Ticket
function Ticket:assign(who) end

---@return vigil.Ticket
function Ticket:unassign() end

---A public reply on X, signed with the user's initials; before_reply hooks run first.
---@param text string
---@return string sent the text as it will be posted
function Ticket:reply(text) end

---A direct message to the customer; with notice, the public dm_notice follows once X confirms it.
---@param text string
---@param notice? boolean
---@return vigil.Ticket
function Ticket:dm(text, notice) end

---An internal note in the ticket's thread.
---@param text string
---@return vigil.Ticket
function Ticket:note(text) end

---@param reason? string
---@return vigil.Ticket
function Ticket:escalate(reason) end

---@return vigil.Ticket
function Ticket:close() end

---@return vigil.Ticket
function Ticket:reopen() end

---@param tag string letters, digits, - and _
---@return vigil.Ticket
function Ticket:tag(tag) end

---@param priority string
---@return vigil.Ticket
function Ticket:priority(priority) end

---The ticket's audit events, oldest first.
---@return vigil.Event[]
function Ticket:events() end

---Reads the ticket again from the store.
---@return vigil.Ticket
function Ticket:refresh() end

---Queues the last failed reply or DM again, or `text` instead.
---@param text? string
---@return "reply"|"dm" kind
---@return string? new the new text, when one was given
function Ticket:resend(text) end

---This script's own persistent store (survives reloads and restarts).
---Cancels the reply or DM still in its undo window (issue 18).
---@return "reply"|"dm" what
function Ticket:undo() end

---Deletes the ticket's last sent reply on X (a lead or its author).
---@return string link
function Ticket:unsend() end

---Sends the caller's reply the collision guard held ("Send anyway").
---@return string text
function Ticket:send_held() end

---A lead approves the ticket's draft, optionally with new text.
---@param text? string
---@return string text what goes out
function Ticket:approve(text) end

---A lead rejects the ticket's draft; its author is told why.
---@param reason? string
---@return string author
function Ticket:reject(reason) end

---@class vigil.Kv
local Kv = {}

---@param key string
---@return any value string, number, boolean or a table of those; nil when unset
function Kv:get(key) end

---@param key string
---@param value any nil deletes
function Kv:set(key, value) end

---@param key string
function Kv:del(key) end

---The same as `del`.
---@param key string
function Kv:delete(key) end

---Saved answers, shared by every script.
---@class vigil.Canned
local Canned = {}

---@param name string
---@return string? body
function Canned:get(name) end

---@param name string letters, digits, - and _
---@param body string
function Canned:set(name, body) end

---@return string[]
function Canned:names() end

---@class vigil.Stats
---@field open integer
---@field unassigned integer
---@field escalated integer
---@field opened integer
---@field answered integer
---@field answered_in_target integer
---@field median_first_response? number seconds

---A command's arguments: the words typed after the verb (args[1], args[2]...)
---and, with `args = {...}` declared in command{}, the resolved names.
---@class vigil.Args: string[]
---@field ticket? vigil.Ticket  with "ticket" declared
---@field user? vigil.User      with "user" declared
---@field text? string          with "text…" declared
---@field [string] any          any other declared name: its word or text

---What a command runs with: who, where, and what to act on.
---@class vigil.Ctx
---@field user vigil.User|fun(self: vigil.Ctx, ref?: string): vigil.User  who ran it; ctx:user(ref) finds a teammate
---@field verb string
---@field text string        the raw text after the verb
---@field channel? string
---@field args vigil.Args
---@field kv vigil.Kv
---@field canned vigil.Canned
local Ctx = {}

---The ticket `42` or `#42`; fails with a clear message when there is none.
---@param ref string|integer
---@return vigil.Ticket
function Ctx:ticket(ref) end

---A staff member from "me", "@name", or "U123"; fails for anyone not on staff.
---@param ref? string
---@return vigil.User
function Ctx:user(ref) end

---@param filter? "open"|"mine"|"unassigned"|"escalated"|"closed"|"all"
---@param limit? integer 1-500, default 20
---@return vigil.Ticket[]
function Ctx:tickets(filter, limit) end

---The customer's other tickets, newest first.
---@param ticket vigil.Ticket
---@return vigil.Ticket[]
function Ctx:history(ticket) end

---Posts publicly in the channel the command came from.
---@param text string
function Ctx:say(text) end

---Stops the command; msg is shown to the user as it is.
---@param msg? string
function Ctx:fail(msg) end

---Fails with a "needs role" answer (audited) unless the user has at least `role`.
---@param role "agent"|"lead"|"admin"
function Ctx:require_role(role) end

---The raw text after the n-th word (spacing kept).
---@param n? integer default 1
---@return string
function Ctx:rest(n) end

---@param since integer Unix seconds
---@return vigil.Stats
function Ctx:stats(since) end

---Searches tickets as /tw find does (SCRIPTING.md): newest first; each
---ticket carries `excerpt` and `chat_url`.
---@param query string
---@param limit? integer 1-200, default 10
---@param offset? integer
---@return { total: integer, tickets: vigil.Ticket[] }
function Ctx:find(query, limit, offset) end

---The tickets opened in [since, until), oldest first, with their first
---response: { id, opened_at, first_response_at, sla_due_at, in_target, agent }.
---@param since integer
---@param until_? integer defaults to now
---@return table[]
function Ctx:responses(since, until_) end

---The same tickets as CSV; with an absolute `path` (console/REPL admin
---only) the file is written and the row count returned.
---@param since integer
---@param until_? integer
---@param path? string
---@return string|integer csv_or_rows
---@return integer? rows
function Ctx:export(since, until_, path) end

---Shares `data` as a file in the command's channel (Slack's upload flow).
---@param filename string
---@param data string
---@param title? string
function Ctx:upload(filename, data, title) end

---@class vigil.CommandInfo
---@field name string
---@field usage? string
---@field help? string
---@field roles string|string[]

---@class vigil.ScriptInfo
---@field file string
---@field ok boolean     the file on disk is what runs
---@field loaded boolean some version runs
---@field error? string  why the last save did not load

---@class vigil.Status
---@field chat string
---@field source string
---@field outbox_waiting number seconds the oldest outbox job has waited

---@class vigil.UsageItem
---@field item string
---@field label string
---@field count integer
---@field price number
---@field cost number

---@class vigil.Config
---@field command string
---@field channels { mentions?: string, escalations?: string, on_duty?: string }
---@field sla { first_response: number, warn_before: number }

---The `vigil` table every script sees.
---@class vigil.Api
---@field config vigil.Config read-only copy, built on each read
local api = {}

---@param level "debug"|"info"|"warn"|"error"
---@param msg string
function api.log(level, msg) end

---@param text string
---@return integer weighted
---@return boolean valid
function api.tweet_length(text) end

---@return vigil.User[]
function api.staff() end

---The desk's clock, Unix seconds (tests move it).
---@return integer
function api.now() end

---os.date in the desk's time zone (sla.hours.timezone, UTC unless set), not
---the process's: "*t" gives a table (wday 1 = Sunday); "!" reads UTC.
---@param format? string defaults to "%c"
---@param t? integer defaults to vigil.now()
---@return string|osdate
function api.date(format, t) end

---os.time in the desk's time zone: the instant its clocks show `t`
---(hour defaults to 12, min and sec to 0; out-of-range fields carry over);
---vigil.now() without a table.
---@param t? osdateparam
---@return integer
function api.time(t) end

---@return vigil.Status
function api.status() end

---Today's billed calls on X; nil when the source costs nothing.
---@return { total: number, [integer]: vigil.UsageItem }?
function api.usage() end

---@return vigil.CommandInfo[]
function api.commands() end

---@return vigil.ScriptInfo[]
function api.scripts() end

---Reloads one script, or all of them.
---@param name? string
---@return boolean ok
---@return integer failed
function api.reload(name) end

---@return string[]
function api.ticket_filters() end

---Ticket query filter (SCRIPTING.md, "Queries, presence and kv"); an unknown
---key is an error.
---@class vigil.TicketQuery
---@field state? "open"|"closed"|"all"
---@field assignee? string|false  staff id, or false for unassigned
---@field escalated? boolean
---@field waiting? boolean  no first response yet
---@field tag? string
---@field priority? string
---@field customer? string
---@field since? integer
---@field before? integer
---@field order? string
---@field limit? integer  vigil.tickets only: 1 to 500, default 50

---@param filter? vigil.TicketQuery
---@return vigil.Ticket[]
function api.tickets(filter) end

---@param filter? vigil.TicketQuery
---@return integer
function api.count(filter) end

---@class vigil.Presence
---@field id string
---@field name string
---@field away boolean
---@field reason? string
---@field back_at? integer

---One staff member's presence, or everyone's.
---@param user? string
---@return vigil.Presence|vigil.Presence[]
function api.presence(user) end

---Not away and within their shift.
---@param user string
---@return boolean
function api.available(user) end

---Audited.
---@param user string
---@param opts? { reason?: string, back_at?: integer }
function api.set_away(user, opts) end

---Audited.
---@param user string
function api.set_back(user) end

---A command argument: a name ("ticket", "user", any word) with "?" when it
---may be left out and "…" when it takes the rest of the line.
---@alias vigil.ArgSpec string

---@class vigil.CommandTable
---@field run fun(ctx: vigil.Ctx, args: vigil.Args): string|number|nil
---@field usage? string
---@field help? string
---@field roles? "none"|"agent"|"lead"|"admin"|("agent"|"lead"|"admin")[]
---@field args? vigil.ArgSpec[]
---@field form? table

---@class vigil.Mention
---@field id string
---@field text string
---@field author_id string
---@field handle string
---@field name string
---@field is_new boolean

---@class vigil.HookTable
---@field on_mention? fun(ticket: vigil.Ticket, mention: vigil.Mention)
---@field before_reply? fun(ticket: vigil.Ticket, text: string, ctx: { user: vigil.User }): (string|false|nil), string?
---@field on_sla_warning? fun(ticket: vigil.Ticket)
---@field on_sla_breach? fun(ticket: vigil.Ticket): boolean?

---@type vigil.Api
vigil = vigil

---Declares a command (the table a file of scripts/ returns).
---@type fun(t: vigil.CommandTable): vigil.CommandTable
command = command

---Declares hooks (the table a file of scripts/hooks/ returns).
---@type fun(t: vigil.HookTable): vigil.HookTable
hooks = hooks

return { Ticket = Ticket, Ctx = Ctx, Kv = Kv, Canned = Canned, api = api }
