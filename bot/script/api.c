/* api.c — what scripts can touch: ctx, ticket, kv and canned objects and
 * the `vigil` table, and the before_reply hooks every t:reply goes
 * through.  Every action goes through the desk as the user who ran the
 * command (the actor is kept in C, never in a table a script could
 * rewrite).  Misuse raises; refusals are user errors shown as they are. */
#include "script/script_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "script/refs.h"
#include "source/source.h"
#include "source/xlink.h"

#define USER_ERROR_KEY "vigil_user_error"

static struct script_rt *rt_of(lua_State *L) { return script_rt_of(L); }

/* The runtime, for a function that acts (writes, posts, reads the store):
 * once an invocation is stopped it is over, even when the script caught
 * the kill inside a coroutine (script_charge raises it again). */
static struct script_rt *rt_live(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    if (rt->killed && rt->budget_active)
        script_charge(L, 0);
    return rt;
}

static const char *actor(struct script_rt *rt) { return rt->actor ? rt->actor : "system"; }

int api_fail(lua_State *L, const char *msg)
{
    lua_createtable(L, 0, 1);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, USER_ERROR_KEY);
    luaL_setmetatable(L, "vigil.usererror");   /* tostring(err) is the message */
    return lua_error(L);
}

static int usererror_tostring(lua_State *L)
{
    lua_pushliteral(L, USER_ERROR_KEY);
    lua_rawget(L, 1);
    return 1;
}

const char *api_user_error(lua_State *L, int idx)
{
    const char *msg = NULL;
    if (lua_type(L, idx) != LUA_TTABLE)
        return NULL;
    idx = lua_absindex(L, idx);
    lua_pushliteral(L, USER_ERROR_KEY);   /* raw: C reads error objects unprotected */
    lua_rawget(L, idx);
    if (lua_type(L, -1) == LUA_TSTRING)
        msg = lua_tostring(L, -1);   /* still referenced by the table at idx */
    lua_pop(L, 1);
    return msg;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, int64_t v)
{
    if (!v)
        return;
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

void api_push_user(lua_State *L, const char *id)
{
    struct script_rt *rt = rt_of(L);
    const struct staff *s = config_staff(rt->cfg, id);
    lua_createtable(L, 0, 4);
    set_str(L, "id", id);
    set_str(L, "name", s ? s->name : id);
    set_str(L, "initials", s ? s->initials : "");
    set_str(L, "role", s ? config_role_name(s->role) : "none");
}

/* --- tickets ------------------------------------------------------------- */

static void fill_ticket(lua_State *L, const struct ticket *t)
{
    struct script_rt *rt = rt_of(L);
    char url[200];
    int n = 0;

    lua_pushinteger(L, t->id);
    lua_setfield(L, -2, "id");
    set_str(L, "state", t->state);
    set_str(L, "status", desk_ticket_status(t));
    lua_createtable(L, 0, 3);
    set_str(L, "id", t->customer_id);
    set_str(L, "handle", t->customer_handle);
    set_str(L, "name", t->customer_name);
    lua_setfield(L, -2, "customer");
    set_str(L, "text", t->text);
    set_str(L, "tweet_id", t->tweet_id);
    desk_permalink(rt->desk, t->customer_handle, t->tweet_id, url, sizeof url);
    set_str(L, "url", url);
    if (t->assignee) {
        api_push_user(L, t->assignee);
        lua_setfield(L, -2, "assignee");
    } else {
        lua_pushnil(L);
        lua_setfield(L, -2, "assignee");
    }
    lua_pushboolean(L, t->escalated);
    lua_setfield(L, -2, "escalated");
    set_str(L, "escalation_reason", t->escalation_reason);
    set_str(L, "priority", t->priority);
    lua_newtable(L);
    for (const char *p = t->tags; p && *p;) {
        size_t len = strcspn(p, ",");
        lua_pushlstring(L, p, len);
        lua_rawseti(L, -2, ++n);
        p += len + (p[len] == ',');
    }
    lua_setfield(L, -2, "tags");
    set_int(L, "opened_at", t->opened_at);
    set_int(L, "first_response_at", t->first_response_at);
    set_int(L, "sla_due_at", t->sla_due_at);
    set_int(L, "tweeted_at", t->tweeted_at);           /* issue 17: the SLA clocks */
    set_int(L, "followup_at", t->followup_at);
    set_int(L, "followup_due_at", t->followup_due_at);
    set_int(L, "closed_at", t->closed_at);
    lua_pushinteger(L, store_ticket_mentions(rt->store, t->id));
    lua_setfield(L, -2, "mentions");
}

/* Fills the table on top of the stack with ticket `id` from the store and
 * makes it a vigil.ticket.  0 when there is no such ticket. */
static int fill_from_store(lua_State *L, int64_t id)
{
    struct ticket t;
    if (store_ticket_get(rt_of(L)->store, id, &t) != STORE_OK)
        return 0;
    fill_ticket(L, &t);
    luaL_setmetatable(L, "vigil.ticket");
    store_ticket_clear(&t);
    return 1;
}

static int push_ticket_or_nil(lua_State *L, int64_t id)
{
    lua_createtable(L, 0, 20);
    if (fill_from_store(L, id))
        return 1;
    lua_pop(L, 1);
    return 0;
}

void api_push_ticket(lua_State *L, int64_t id)
{
    char msg[64];
    if (!push_ticket_or_nil(L, id)) {
        snprintf(msg, sizeof msg, "There is no ticket #%lld.", (long long)id);
        api_fail(L, msg);
    }
}

/* --- the lazy ticket of on_mention --------------------------------------
 * on_mention runs for every ingested mention, and most hooks read a field
 * or two of the ticket, or none: building the whole table up front (a
 * store read, the mention count, twenty fields) was 11% of the ingest
 * bench's instructions.  This ticket holds only its id until a field is
 * read or it is iterated; then it fills itself and becomes an ordinary
 * vigil.ticket.  Methods work without filling it. */

/* Fills the lazy ticket at `idx`: it becomes an ordinary vigil.ticket. */
static void lazy_fill(lua_State *L, int idx)
{
    lua_Integer id;

    idx = lua_absindex(L, idx);
    lua_pushliteral(L, "id");
    lua_rawget(L, idx);
    id = lua_tointeger(L, -1);
    lua_pushvalue(L, idx);
    if (!fill_from_store(L, id))
        luaL_error(L, "ticket #%d is no longer in the store", (int)id);
    lua_pop(L, 2);
}

/* Whether the table at `idx` is a lazy ticket still holding only its id. */
static int is_lazy(lua_State *L, int idx)
{
    int lazy;
    if (!lua_getmetatable(L, idx))
        return 0;
    luaL_getmetatable(L, "vigil.ticket.lazy");
    lazy = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return lazy;
}

static int lazy_index(lua_State *L)
{
    luaL_getmetatable(L, "vigil.ticket");
    lua_getfield(L, -1, "__index");              /* the methods */
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) != LUA_TNIL)
        return 1;
    lua_settop(L, 2);
    lazy_fill(L, 1);
    lua_rawget(L, 1);
    return 1;
}

static int lazy_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int lazy_pairs(lua_State *L)
{
    lazy_fill(L, 1);
    lua_pushcfunction(L, lazy_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

void api_push_lazy_ticket(lua_State *L, int64_t id)
{
    lua_createtable(L, 0, 20);
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "id");
    luaL_setmetatable(L, "vigil.ticket.lazy");
}

static int64_t ticket_id(lua_State *L, int idx)
{
    lua_Integer id;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "id");
    id = lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_argcheck(L, id > 0, idx, "not a ticket");
    return id;
}

/* Refreshes the snapshot at idx after an operation; returns it.  A lazy
 * ticket not yet filled needs nothing: it reads the store when first used. */
static int refresh_after_op(lua_State *L, int idx, int rc, const char *err)
{
    if (rc == DESK_INVALID || rc == DESK_NOTFOUND)
        return api_fail(L, err);
    if (rc != DESK_OK && store_busy(rt_of(L)->store))
        return api_fail(L, err);   /* "the database is busy, try again": words, not an error id */
    if (rc != DESK_OK)
        return luaL_error(L, "the store failed: %s", err[0] ? err : "see log");
    if (!is_lazy(L, idx)) {
        lua_pushvalue(L, idx);
        fill_from_store(L, ticket_id(L, idx));
    }
    lua_settop(L, idx);
    return 1;
}

/* A staff id from a user table ({id=...}) or a string. */
static const char *user_arg(lua_State *L, int idx)
{
    if (lua_istable(L, idx)) {
        const char *id;
        lua_getfield(L, idx, "id");
        id = lua_tostring(L, -1);
        lua_pop(L, 1);   /* the string stays alive in the table */
        luaL_argcheck(L, id != NULL, idx, "user table without an id");
        return id;
    }
    return luaL_checkstring(L, idx);
}

static int t_assign(lua_State *L)
{
    char err[512] = "";
    int64_t id = ticket_id(L, 1);
    const char *who = user_arg(L, 2);
    struct script_rt *rt = rt_live(L);
    return refresh_after_op(L, 1, desk_assign(rt->desk, actor(rt), id, who, err, sizeof err), err);
}

#define SIMPLE_OP(fname, call)                                              \
    static int fname(lua_State *L)                                          \
    {                                                                       \
        struct script_rt *rt = rt_live(L);                                  \
        char err[512] = "";                                                 \
        int64_t id = ticket_id(L, 1);                                       \
        return refresh_after_op(L, 1, call, err);                                     \
    }

SIMPLE_OP(t_unassign, desk_unassign(rt->desk, actor(rt), id, err, sizeof err))
SIMPLE_OP(t_close, desk_close(rt->desk, actor(rt), id, err, sizeof err))
SIMPLE_OP(t_reopen, desk_reopen(rt->desk, actor(rt), id, err, sizeof err))
SIMPLE_OP(t_note, desk_note(rt->desk, actor(rt), id, luaL_checkstring(L, 2), err, sizeof err))
/* t:dm(text [, notice]): with notice true, the public dm_notice reply
 * follows once X confirmed the DM. */
SIMPLE_OP(t_dm, (lua_toboolean(L, 3) ? desk_dm_notice : desk_dm)(rt->desk, actor(rt), id,
                                                                 luaL_checkstring(L, 2), err,
                                                                 sizeof err))
SIMPLE_OP(t_escalate, desk_escalate(rt->desk, actor(rt), id, luaL_optstring(L, 2, NULL),
                                    err, sizeof err))
SIMPLE_OP(t_tag, desk_tag(rt->desk, actor(rt), id, luaL_checkstring(L, 2), err, sizeof err))
SIMPLE_OP(t_priority, desk_set_priority(rt->desk, actor(rt), id, luaL_checkstring(L, 2),
                                        err, sizeof err))

/* The configured signature with {initials} filled in; "" for non-staff. */
static void signature(struct script_rt *rt, char *out, size_t len)
{
    const struct staff *s = config_staff(rt->cfg, actor(rt));
    const char *fmt = rt->cfg->reply_signature, *p;
    size_t n = 0;

    out[0] = '\0';
    if (!s || !fmt)
        return;
    for (p = fmt; *p && n + 1 < len; p++) {
        if (strncmp(p, "{initials}", 10) == 0) {
            size_t il = strlen(s->initials);
            if (n + il >= len)
                break;
            memcpy(out + n, s->initials, il);
            n += il;
            p += 9;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* Runs the before_reply hooks of every hook file, in file order, for t:reply:
 * leaves the (maybe rewritten) text on the stack, or raises a user error
 * with the hook's reason. */
static void run_before_reply(lua_State *L, int ticket_idx, int text_idx, const char *kind)
{
    struct script_rt *rt = script_rt_of(L);
    ticket_idx = lua_absindex(L, ticket_idx);
    lua_pushvalue(L, text_idx);                       /* the text so far */
    for (size_t i = 0; i < rt->nentries; i++) {
        struct entry *e = &rt->entries[i];
        if (!e->is_hook || e->ref == LUA_NOREF)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);
        script_rawfield(L, -1, "before_reply");
        lua_remove(L, -2);
        if (!lua_isfunction(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, ticket_idx);
        lua_pushvalue(L, -3);                         /* text */
        lua_newtable(L);                              /* ctx: who is replying */
        api_push_user(L, rt->actor ? rt->actor : "");
        lua_setfield(L, -2, "user");
        lua_pushstring(L, kind);                      /* issue 18: reply, forced, ... */
        lua_setfield(L, -2, "kind");
        lua_call(L, 3, 2);                            /* errors propagate to the command */
        if (lua_type(L, -2) == LUA_TSTRING) {
            lua_pop(L, 1);
            lua_remove(L, -2);                        /* replace the text */
        } else if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) {
            const char *why = lua_isstring(L, -1) ? lua_tostring(L, -1)
                                                  : "a before_reply hook refused this reply";
            api_fail(L, why);
        } else {
            lua_pop(L, 2);
        }
    }
}

/* The public text of a reply in argument 2: before_reply hooks (told the
 * reply's `kind`), signature, X's length rule.  Pushes it and returns it,
 * or raises a user error. */
static const char *public_text(lua_State *L, const char *kind)
{
    struct script_rt *rt = rt_live(L);
    char sig[256], msg[256];
    struct source_text tl;
    const char *text;

    luaL_checkstring(L, 2);
    lua_settop(L, 2);
    run_before_reply(L, 1, 2, kind);                 /* pushes the final text */
    signature(rt, sig, sizeof sig);
    lua_pushstring(L, sig);
    lua_concat(L, 2);                                /* text .. signature */
    text = lua_tostring(L, -1);
    if (desk_check_text(rt->desk, text, strlen(text), &tl) != 0)
        luaL_error(L, "out of memory");
    if (!tl.valid) {
        if (tl.weighted > tl.max)
            snprintf(msg, sizeof msg, "That reply is %d/%d characters as X counts them "
                     "(links count 23, emoji 2, CJK 2); shorten it by %d.", tl.weighted,
                     tl.max, tl.weighted - tl.max);
        else
            snprintf(msg, sizeof msg, "X would refuse that reply: %s.",
                     tl.reason ? tl.reason : "invalid");
        api_fail(L, msg);
    }
    return text;
}

const char *api_public_text(lua_State *L, const char *kind)
{
    return public_text(L, kind);
}

/* t:resend([text]): queues the ticket's last failed reply or DM again (the
 * same job), or with `text` instead (a reply is signed and checked as
 * t:reply does).  Returns what was resent ("reply" | "dm") and the text
 * when new (nil: the same text). */
static int t_resend(lua_State *L)
{
    struct script_rt *rt = rt_live(L);
    char err[512] = "";
    const char *text = NULL;
    int64_t id = ticket_id(L, 1), job;
    int rc;

    if (!lua_isnoneornil(L, 2)) {
        struct job j;
        int is_reply = 0;
        job = store_job_last_failed(rt->store, id, "x.");
        if (job > 0 && store_job_get(rt->store, job, &j) == STORE_OK) {
            is_reply = strcmp(j.kind, "x.reply") == 0;
            store_job_clear(&j);
        }
        /* a reply is signed and checked; a DM goes as typed */
        text = is_reply ? public_text(L, "reply") : luaL_checkstring(L, 2);
    }
    rc = desk_resend(rt->desk, actor(rt), id, text, err, sizeof err);
    if (rc != DESK_OK)
        return refresh_after_op(L, 1, rc, err);
    lua_pushstring(L, err);                          /* "reply" | "dm" */
    if (text)
        lua_pushstring(L, text);
    else
        lua_pushnil(L);
    return 2;
}

/* t:reply(text [, {force = true}]): before_reply hooks, signature, X's
 * length rule, queue.  Returns the text as it will be tweeted.  A reply
 * the collision guard holds raises a user error saying why (issue 18);
 * force goes past the guard. */
static int t_reply(lua_State *L)
{
    struct script_rt *rt = rt_live(L);
    char err[1024] = "";
    const char *text;
    int64_t id = ticket_id(L, 1);
    int rc, force = 0;

    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "force");
        force = lua_toboolean(L, -1);
        lua_pop(L, 1);                               /* pop force */
    }
    text = public_text(L, config_needs_approval(rt->cfg, actor(rt)) ? "draft"
                          : force ? "forced" : "reply");
    rc = desk_reply_as(rt->desk, actor(rt), id, text, force ? DESK_REPLY_FORCE : 0, err,
                       sizeof err);
    if (rc == DESK_HELD)
        return api_fail(L, err);
    if (rc != DESK_OK)
        return refresh_after_op(L, 1, rc, err);
    if (!is_lazy(L, 1)) {
        lua_pushvalue(L, 1);
        fill_from_store(L, id);
        lua_pop(L, 1);
    }
    return 1;                                        /* the final text */
}

static int t_events(lua_State *L)
{
    size_t n;
    struct event *ev = store_events_of(rt_of(L)->store, ticket_id(L, 1), &n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 4);
        set_int(L, "at", ev[i].at);
        set_str(L, "actor", ev[i].actor);
        set_str(L, "action", ev[i].action);
        set_str(L, "detail", ev[i].detail);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    store_events_free(ev, n);
    return 1;
}

static int t_refresh(lua_State *L)
{
    return refresh_after_op(L, 1, DESK_OK, "");
}

/* --- ctx ----------------------------------------------------------------- */

static int c_ticket(lua_State *L)
{
    char msg[300];
    int64_t id;
    if (lua_isnoneornil(L, 2))
        return api_fail(L, "Which ticket? Give its number, like 42 or #42.");
    id = lua_type(L, 2) == LUA_TNUMBER ? lua_tointeger(L, 2)
                                       : refs_ticket(luaL_checkstring(L, 2));
    if (id <= 0) {
        snprintf(msg, sizeof msg, "\"%.100s\" is not a ticket number (try 42 or #42).",
                 lua_tostring(L, 2));
        return api_fail(L, msg);
    }
    api_push_ticket(L, id);
    return 1;
}

/* me, @name, <@U123>, <@U123|name>, U123 -> a staff entry, or NULL. */
static const struct staff *resolve_user(struct script_rt *rt, const char *ref)
{
    char v[128];
    switch (refs_user(ref, v, sizeof v)) {
    case REFS_ME:
        return config_staff(rt->cfg, actor(rt));
    case REFS_ID:
        return config_staff(rt->cfg, v);
    case REFS_NAME:
        /* "@alice" the chat resolved (Slack's <@U1|alice>): its id decides,
         * since a chat's user name need not match the staff name */
        for (size_t i = 0; rt->cmd && i < rt->cmd->npeople; i++)
            if (strcmp(rt->cmd->people[i].name, v) == 0)
                return config_staff(rt->cfg, rt->cmd->people[i].id);
        for (size_t i = 0; i < rt->cfg->nstaff; i++) {
            const struct staff *s = &rt->cfg->staff[i];
            size_t first = strcspn(s->name, " ");
            if (strcasecmp(s->name, v) == 0 || strcasecmp(s->id, v) == 0 ||
                strcasecmp(s->initials, v) == 0 ||
                (strlen(v) == first && strncasecmp(s->name, v, first) == 0))
                return s;
        }
        return NULL;
    default:
        return NULL;
    }
}

const struct staff *api_resolve_user(lua_State *L, const char *ref)
{
    return resolve_user(rt_of(L), ref);
}

static int c_user(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    const char *ref = luaL_optstring(L, 2, "me");
    const struct staff *s = resolve_user(rt, ref);
    char msg[300];
    if (!s) {
        snprintf(msg, sizeof msg, "%.100s is not on the support staff.", ref);
        return api_fail(L, msg);
    }
    api_push_user(L, s->id);
    return 1;
}

/* ctx.user is both the invoking user's table and, called as ctx:user(ref),
 * the staff lookup: __call receives (user table, ctx, ref). */
static int c_user_call(lua_State *L)
{
    lua_remove(L, 1);
    return c_user(L);
}

static int c_tickets(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    const char *filter = luaL_optstring(L, 2, "open");
    lua_Integer limit = luaL_optinteger(L, 3, 20);
    int64_t *ids;
    size_t n;

    if (limit < 1 || limit > 500)
        limit = 20;
    if (desk_ticket_list(rt->desk, filter, actor(rt), (size_t)limit, &ids, &n) != DESK_OK)
        return api_fail(L, lua_pushfstring(L, "Filter is %s.", desk_ticket_filter_names()));
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++)
        if (push_ticket_or_nil(L, ids[i]))
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    free(ids);
    return 1;
}

static int c_history(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    int64_t id = ticket_id(L, 2);
    const char *customer;
    int64_t *ids;
    size_t n;

    lua_getfield(L, 2, "customer");
    lua_getfield(L, -1, "id");
    customer = luaL_checkstring(L, -1);
    ids = store_ticket_list(rt->store, "customer", customer, 50, &n);
    lua_newtable(L);
    for (size_t i = 0; i < n; i++)
        if (ids[i] != id && push_ticket_or_nil(L, ids[i]))
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    free(ids);
    return 1;
}

static int c_say(lua_State *L)
{
    struct script_rt *rt = rt_live(L);
    const char *text = luaL_checkstring(L, 2);
    const char *channel = rt->cmd && rt->cmd->channel ? rt->cmd->channel
                                                      : rt->cfg->channel_mentions;
    if (desk_post_channel(rt->desk, channel, text) != DESK_OK)
        return luaL_error(L, "could not queue the message (see log)");
    return 0;
}

static int c_fail(lua_State *L)
{
    return api_fail(L, luaL_optstring(L, 2, "That did not work."));
}

static int c_require_role(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    const char *need = luaL_checkstring(L, 2);
    const struct staff *s = config_staff(rt->cfg, actor(rt));
    int want = config_parse_role(need), have = s ? (int)s->role : ROLE_NONE;
    char msg[200], detail[300];
    luaL_argcheck(L, want >= 0, 2, "role is agent, lead or admin");
    if (have >= want)
        return 0;
    snprintf(detail, sizeof detail, "%s (needs %s)", rt->cmd && rt->cmd->raw ? rt->cmd->raw : "?",
             need);
    desk_audit(rt->desk, 0, actor(rt), "denied", detail);
    snprintf(msg, sizeof msg, "That needs the %s role; you are %s.", need,
             s ? config_role_name(s->role) : "not on staff");
    return api_fail(L, msg);
}

/* ctx:rest(n): the raw text after the n-th word of ctx.text. */
static int c_rest(lua_State *L)
{
    const char *p;
    lua_Integer n = luaL_optinteger(L, 2, 1);
    lua_getfield(L, 1, "text");
    p = luaL_optstring(L, -1, "");
    for (lua_Integer i = 0; i < n && *p; i++) {
        while (*p && isspace((unsigned char)*p))
            p++;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    while (*p && isspace((unsigned char)*p))
        p++;
    lua_pushstring(L, p);
    return 1;
}

static int c_stats(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    struct store_stats st;
    lua_Integer since = luaL_optinteger(L, 2, 0);
    if (store_stats(rt->store, since, (int64_t)rt->cfg->sla_first_response, &st))
        return luaL_error(L, "the store failed (see log)");
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, st.open);
    lua_setfield(L, -2, "open");
    lua_pushinteger(L, st.unassigned);
    lua_setfield(L, -2, "unassigned");
    lua_pushinteger(L, st.escalated);
    lua_setfield(L, -2, "escalated");
    lua_pushinteger(L, st.opened);
    lua_setfield(L, -2, "opened");
    lua_pushinteger(L, st.answered);
    lua_setfield(L, -2, "answered");
    lua_pushinteger(L, st.answered_in_target);
    lua_setfield(L, -2, "answered_in_target");
    if (st.median_first_response >= 0) {
        lua_pushinteger(L, st.median_first_response);
        lua_setfield(L, -2, "median_first_response");
    }
    return 1;
}

/* --- kv: values as JSON ----------------------------------------------- */

static json_t *to_json(lua_State *L, int idx, int depth)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL: return json_null();
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        return lua_isinteger(L, idx) ? json_integer(lua_tointeger(L, idx))
                                     : json_real(lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return json_stringn(s, len);
    }
    case LUA_TTABLE: {
        json_t *out;
        lua_Unsigned n = lua_rawlen(L, idx);
        if (depth > 16)
            luaL_error(L, "kv: value nested too deeply");
        if (n > 0) {
            out = json_array();
            for (lua_Unsigned i = 1; i <= n; i++) {
                lua_rawgeti(L, idx, (lua_Integer)i);
                json_array_append_new(out, to_json(L, -1, depth + 1));
                lua_pop(L, 1);
            }
            return out;
        }
        out = json_object();
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                json_decref(out);
                luaL_error(L, "kv: table keys must be strings (or a list)");
            }
            json_object_set_new(out, lua_tostring(L, -2), to_json(L, -1, depth + 1));
            lua_pop(L, 1);
        }
        return out;
    }
    default:
        luaL_error(L, "kv: cannot store a %s", luaL_typename(L, idx));
        return NULL;
    }
}

static void push_json(lua_State *L, json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    luaL_checkstack(L, 4, "kv value too deep");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        lua_newtable(L);
        json_object_foreach(v, k, x) {
            push_json(L, x);
            lua_setfield(L, -2, k);
        }
        break;
    case JSON_ARRAY:
        lua_newtable(L);
        json_array_foreach(v, i, x) {
            push_json(L, x);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
    case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    default: lua_pushnil(L); break;
    }
}

/* The kv object carries the scope of the script it was made for (a copy
 * in the userdata): whatever runs it, and whatever vigil.reload() frees
 * meanwhile, it reads and writes that script's keys only. */
static const char *kv_scope(lua_State *L)
{
    rt_live(L);
    return luaL_checkudata(L, 1, "vigil.kv");
}

static int kv_get(lua_State *L)
{
    char *v = store_kv_get(rt_of(L)->store, kv_scope(L), luaL_checkstring(L, 2));
    json_t *j = v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
    free(v);
    if (!j) {
        lua_pushnil(L);
        return 1;
    }
    push_json(L, j);
    json_decref(j);
    return 1;
}

static int kv_set(lua_State *L)
{
    const char *scope = kv_scope(L);   /* first: it may raise */
    const char *key = luaL_checkstring(L, 2);
    json_t *j;
    char *text;
    int rc;
    luaL_argcheck(L, strlen(key) <= 256, 2, "kv keys are at most 256 bytes");
    if (lua_isnoneornil(L, 3))
        return store_kv_del(rt_of(L)->store, scope, key) ? luaL_error(L, "kv: store failed") : 0;
    j = to_json(L, 3, 0);
    text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    if (!text)
        return luaL_error(L, "kv: cannot encode the value");
    if (strlen(text) > (1u << 20)) {
        free(text);
        return luaL_error(L, "kv: value larger than 1 MiB");
    }
    rc = store_kv_set(rt_of(L)->store, scope, key, text);
    free(text);
    return rc ? luaL_error(L, "kv: store failed (see log)") : 0;
}

static int kv_del(lua_State *L)
{
    if (store_kv_del(rt_of(L)->store, kv_scope(L), luaL_checkstring(L, 2)))
        return luaL_error(L, "kv: store failed (see log)");
    return 0;
}

/* --- canned ------------------------------------------------------------ */

static int canned_get(lua_State *L)
{
    char *v = store_canned_get(rt_of(L)->store, luaL_checkstring(L, 2));
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    free(v);
    return 1;
}

static int canned_set(lua_State *L)
{
    struct script_rt *rt = rt_live(L);
    const char *name = luaL_checkstring(L, 2), *body = luaL_checkstring(L, 3);
    for (const char *p = name; *p; p++)
        luaL_argcheck(L, isalnum((unsigned char)*p) || *p == '-' || *p == '_', 2,
                      "names are letters, digits, - and _");
    luaL_argcheck(L, *name && strlen(name) <= 64, 2, "names are 1-64 characters");
    if (store_canned_set(rt->store, name, body, actor(rt), (int64_t)time(NULL)))
        return luaL_error(L, "canned: store failed (see log)");
    desk_audit(rt->desk, 0, actor(rt), "canned saved", name);
    return 0;
}

static int canned_names(lua_State *L)
{
    char **v = store_canned_names(rt_of(L)->store);
    int n = 0;
    lua_newtable(L);
    for (char **p = v; p && *p; p++) {
        lua_pushstring(L, *p);
        lua_rawseti(L, -2, ++n);
    }
    store_strv_free(v);
    return 1;
}

/* --- vigil.* ------------------------------------------------------------ */

static int v_log(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    int level = log_parse_level(luaL_checkstring(L, 1));
    luaL_argcheck(L, level >= 0, 1, "level is debug, info, warn or error");
    log_msg((enum log_level)level, "script log", "script=%s text=%s",
            rt->scope ? rt->scope : "?", luaL_checkstring(L, 2));
    return 0;
}

static int v_tweet_length(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    struct source_text tl;
    if (desk_check_text(rt_of(L)->desk, s, len, &tl))
        return luaL_error(L, "out of memory");
    lua_pushinteger(L, tl.weighted);
    lua_pushboolean(L, tl.valid);
    if (tl.reason)
        lua_pushstring(L, tl.reason);
    else
        lua_pushnil(L);
    return 3;
}

/* vigil.ticket_filters(): the lists ctx:tickets takes, the default first. */
static int v_ticket_filters(lua_State *L)
{
    const char *const *f = desk_ticket_filters();

    lua_newtable(L);
    for (int i = 0; f[i]; i++) {
        lua_pushstring(L, f[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* vigil.now(): the desk's clock (tests move it; scripts should not use
 * os.time() for ages and deadlines). */
static int v_now(lua_State *L)
{
    lua_pushinteger(L, desk_now(rt_of(L)->desk));
    return 1;
}

/* vigil.status(): { chat = "...", source = "...", outbox_waiting = s }, the
 * adapters' own words (connection state, X's rate-limit budget, mentions
 * seen) and how long the oldest outbox job has waited (0: none). */
static int v_status(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    lua_createtable(L, 0, 3);
    set_str(L, "chat", desk_chat_state(rt->desk));
    set_str(L, "source", desk_source_state(rt->desk));
    set_int(L, "outbox_waiting", desk_outbox_waiting(rt->desk));
    return 1;
}

/* vigil.usage(): today's (UTC) billed calls on the source and what they
 * cost at the configured prices: { total = 0.12, { item = "owned_read",
 * label = "own mentions read", count = 120, price = 0.001, cost = 0.12 },
 * ... }; nil when the source costs nothing (replay). */
static int v_usage(lua_State *L)
{
    struct source_usage u;
    if (desk_source_usage(rt_of(L)->desk, &u)) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, (int)u.n, 1);
    for (size_t i = 0; i < u.n; i++) {
        lua_createtable(L, 0, 5);
        set_str(L, "item", u.v[i].item);
        set_str(L, "label", u.v[i].label);
        lua_pushinteger(L, (lua_Integer)u.v[i].count);
        lua_setfield(L, -2, "count");
        lua_pushnumber(L, u.v[i].price);
        lua_setfield(L, -2, "price");
        lua_pushnumber(L, (double)u.v[i].count * u.v[i].price);
        lua_setfield(L, -2, "cost");
        lua_rawseti(L, -2, (lua_Integer)i + 1);   /* pop the item into the list */
    }
    lua_pushnumber(L, u.total);
    lua_setfield(L, -2, "total");
    return 1;
}

static int v_staff(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    lua_createtable(L, (int)rt->cfg->nstaff, 0);
    for (size_t i = 0; i < rt->cfg->nstaff; i++) {
        api_push_user(L, rt->cfg->staff[i].id);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int v_commands(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    char **verbs = script_verbs(rt);
    int n = 0;
    lua_newtable(L);
    for (char **v = verbs; v && *v; v++) {
        for (size_t i = 0; i < rt->nentries; i++) {
            struct entry *e = &rt->entries[i];
            if (!e->verb || strcmp(e->verb, *v) || e->ref == LUA_NOREF)
                continue;
            lua_createtable(L, 0, 4);
            set_str(L, "name", e->verb);
            lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);
            lua_pushliteral(L, "usage");            /* raw: no other script's code */
            lua_rawget(L, -2);
            lua_setfield(L, -3, "usage");
            lua_pushliteral(L, "help");
            lua_rawget(L, -2);
            lua_setfield(L, -3, "help");
            lua_pop(L, 1);
            set_str(L, "roles", e->roles & ROLE_BIT(ROLE_AGENT) ? "agent"
                                : e->roles & ROLE_BIT(ROLE_LEAD) ? "lead" : "admin");
            lua_rawseti(L, -2, ++n);
        }
    }
    script_strv_free(verbs);
    return 1;
}

static int v_scripts(lua_State *L)
{
    struct script_rt *rt = rt_of(L);
    lua_createtable(L, (int)rt->nentries, 0);
    for (size_t i = 0; i < rt->nentries; i++) {
        struct entry *e = &rt->entries[i];
        lua_createtable(L, 0, 3);
        set_str(L, "file", e->file);
        lua_pushboolean(L, e->error == NULL);
        lua_setfield(L, -2, "ok");
        lua_pushboolean(L, e->ref != LUA_NOREF);
        lua_setfield(L, -2, "loaded");
        set_str(L, "error", e->error);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int v_reload(lua_State *L)
{
    struct script_rt *rt = rt_live(L);
    const char *name = luaL_optstring(L, 1, NULL);
    int failed = script_reload(rt, name);
    lua_pushboolean(L, failed == 0);
    lua_pushinteger(L, failed < 0 ? 1 : failed);
    return 2;
}

static void push_config(lua_State *L, const struct config *c)
{
    lua_createtable(L, 0, 3);
    set_str(L, "command", c->command);
    lua_createtable(L, 0, 3);
    set_str(L, "mentions", c->channel_mentions);
    set_str(L, "escalations", c->channel_escalations);
    set_str(L, "on_duty", c->channel_on_duty);
    lua_setfield(L, -2, "channels");
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, c->sla_first_response);
    lua_setfield(L, -2, "first_response");
    lua_pushnumber(L, c->sla_warn_before);
    lua_setfield(L, -2, "warn_before");
    lua_pushnumber(L, c->sla_follow_up);   /* issue 17 */
    lua_setfield(L, -2, "follow_up");
    lua_setfield(L, -2, "sla");
    lua_createtable(L, 0, 2);                      /* auto-assignment */
    set_str(L, "mode", c->autoassign_mode);
    lua_pushinteger(L, c->autoassign_cap);
    lua_setfield(L, -2, "cap");
    lua_setfield(L, -2, "autoassign");
    lua_createtable(L, 0, 2);                      /* issue 18 */
    lua_pushnumber(L, c->reply_hold);
    lua_setfield(L, -2, "hold");
    lua_pushnumber(L, c->reply_collision_window);
    lua_setfield(L, -2, "collision_window");
    lua_setfield(L, -2, "reply");
}

static int v_config_index(lua_State *L)
{
    /* vigil.config is built on each read: no script can change another's view */
    if (strcmp(luaL_checkstring(L, 2), "config") == 0) {
        push_config(L, rt_of(L)->cfg);
        return 1;
    }
    return 0;
}

/* --- registration --------------------------------------------------------- */

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");     /* scripts cannot reach or change it */
    lua_pop(L, 1);
}

void api_push_kv(lua_State *L, const char *scope)
{
    size_t len = strlen(scope) + 1;
    memcpy(lua_newuserdatauv(L, len, 0), scope, len);
    luaL_setmetatable(L, "vigil.kv");
}

void api_push_ctx(lua_State *L, const struct chat_command *cmd)
{
    lua_createtable(L, 0, 8);
    api_push_user(L, cmd->user_id);
    luaL_setmetatable(L, "vigil.me");
    lua_setfield(L, -2, "user");
    set_str(L, "verb", cmd->verb);
    lua_pushstring(L, cmd->args ? cmd->args : "");
    lua_setfield(L, -2, "text");
    set_str(L, "channel", cmd->channel);
    lua_createtable(L, (int)cmd->argc, 0);         /* args: the words, split by the chat */
    for (size_t i = 0; i < cmd->argc; i++) {
        lua_pushstring(L, cmd->argv[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "args");
    api_push_kv(L, rt_of(L)->scope ? rt_of(L)->scope : "?");
    lua_setfield(L, -2, "kv");
    lua_newtable(L);
    luaL_setmetatable(L, "vigil.canned");
    lua_setfield(L, -2, "canned");
    api_form_push(L, cmd);                          /* ctx.form (api_form.c) */
    luaL_setmetatable(L, "vigil.ctx");
}

void api_open(lua_State *L)
{
    static const luaL_Reg ticket_m[] = {
        { "assign", t_assign }, { "unassign", t_unassign }, { "reply", t_reply },
        { "dm", t_dm }, { "note", t_note }, { "escalate", t_escalate }, { "close", t_close },
        { "reopen", t_reopen }, { "tag", t_tag }, { "priority", t_priority },
        { "events", t_events }, { "refresh", t_refresh }, { "resend", t_resend },
        { NULL, NULL },
    };
    static const luaL_Reg ctx_m[] = {
        { "ticket", c_ticket }, { "user", c_user }, { "tickets", c_tickets },
        { "history", c_history }, { "say", c_say }, { "fail", c_fail },
        { "require_role", c_require_role }, { "rest", c_rest }, { "stats", c_stats },
        { NULL, NULL },
    };
    static const luaL_Reg kv_m[] = {
        { "get", kv_get }, { "set", kv_set }, { "del", kv_del }, { "delete", kv_del },
        { NULL, NULL },
    };
    static const luaL_Reg canned_m[] = {
        { "get", canned_get }, { "set", canned_set }, { "names", canned_names },
        { NULL, NULL },
    };
    static const luaL_Reg vigil_f[] = {
        { "log", v_log }, { "tweet_length", v_tweet_length }, { "staff", v_staff },
        { "now", v_now }, { "status", v_status }, { "usage", v_usage },
        { "commands", v_commands }, { "scripts", v_scripts }, { "reload", v_reload },
        { "ticket_filters", v_ticket_filters }, { NULL, NULL },
    };

    luaL_newmetatable(L, "vigil.usererror");
    lua_pushcfunction(L, usererror_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    luaL_newmetatable(L, "vigil.me");
    lua_pushcfunction(L, c_user_call);
    lua_setfield(L, -2, "__call");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    new_class(L, "vigil.ticket", ticket_m);
    api_hold_open(L);                              /* issue 18: undo, unsend */
    luaL_newmetatable(L, "vigil.ticket.lazy");
    lua_pushcfunction(L, lazy_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lazy_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    new_class(L, "vigil.ctx", ctx_m);
    api_search_open(L);                            /* ctx:find (api_search.c) */
    new_class(L, "vigil.kv", kv_m);
    new_class(L, "vigil.canned", canned_m);
    luaL_newlib(L, vigil_f);
    api_query_open(L);                             /* vigil.tickets, count, presence, ... */
    api_time_open(L);                              /* vigil.date, vigil.time (api_time.c) */
    lua_newtable(L);                               /* metatable: vigil.config */
    lua_pushcfunction(L, v_config_index);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "vigil.api.meta");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "vigil.api");
}
