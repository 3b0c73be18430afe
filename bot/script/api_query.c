/* api_query.c — what scripts may read about the desk as a whole: ticket
 * queries (vigil.tickets, vigil.count) and presence (vigil.presence,
 * vigil.available, vigil.set_away, vigil.set_back).  Results are copies
 * built on each call, never live pointers; a list is capped (QUERY_MAX) so
 * no script walks 100,000 tickets in one go.  Knows the desk and the
 * store's query struct; never a wire format. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk/desk.h"

#define QUERY_DEFAULT 50
#define QUERY_MAX 500
/* A ticket copied into Lua costs two store reads and ~20 fields: charged
 * like this many VM instructions, so listing is paid for like a loop. */
#define TICKET_COST 2000

/* A staff id from a string or a user table ({ id = ... }) at `idx`. */
static const char *staff_arg(lua_State *L, int idx)
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

/* Reads the filter table at index 1 into `q` (strings borrowed from it);
 * `*limit` gets limit (QUERY_DEFAULT when absent).  Raises on an unknown
 * key or a wrong value, naming it: a typo must not widen a query. */
static void read_query(lua_State *L, struct ticket_query *q, lua_Integer *limit)
{
    memset(q, 0, sizeof *q);
    q->state = "open";
    q->escalated = -1;
    q->waiting = -1;
    if (limit)
        *limit = QUERY_DEFAULT;
    if (lua_isnoneornil(L, 1))
        return;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        int v = lua_gettop(L);
        if (strcmp(k, "state") == 0) {
            const char *s = luaL_checkstring(L, v);
            luaL_argcheck(L, !strcmp(s, "open") || !strcmp(s, "closed") || !strcmp(s, "all"),
                          1, "state is \"open\", \"closed\" or \"all\"");
            q->state = strcmp(s, "all") ? s : NULL;
        } else if (strcmp(k, "assignee") == 0) {
            if (lua_type(L, v) == LUA_TBOOLEAN) {
                luaL_argcheck(L, !lua_toboolean(L, v), 1,
                              "assignee is a staff id, or false for unassigned");
                q->unassigned = 1;
            } else {
                q->assignee = staff_arg(L, v);
            }
        } else if (strcmp(k, "escalated") == 0 || strcmp(k, "waiting") == 0) {
            luaL_argcheck(L, lua_type(L, v) == LUA_TBOOLEAN, 1,
                          lua_pushfstring(L, "%s is true or false", k));
            *(k[0] == 'e' ? &q->escalated : &q->waiting) = lua_toboolean(L, v);
        } else if (strcmp(k, "tag") == 0) {
            q->tag = luaL_checkstring(L, v);
        } else if (strcmp(k, "customer") == 0) {
            q->customer = luaL_checkstring(L, v);
        } else if (strcmp(k, "priority") == 0) {
            q->priority = luaL_checkstring(L, v);
            luaL_argcheck(L, desk_priority_known(q->priority), 1,
                          "priority is \"low\", \"normal\", \"high\" or \"urgent\"");
        } else if (strcmp(k, "since") == 0 || strcmp(k, "before") == 0) {
            lua_Integer t = luaL_checkinteger(L, v);
            *(k[0] == 's' ? &q->since : &q->until) = t;
        } else if (strcmp(k, "order") == 0) {
            const char *o = luaL_checkstring(L, v);
            luaL_argcheck(L, !strcmp(o, "newest") || !strcmp(o, "oldest"), 1,
                          "order is \"newest\" or \"oldest\"");
            q->oldest_first = o[0] == 'o';
        } else if (strcmp(k, "limit") == 0 && limit) {
            *limit = luaL_checkinteger(L, v);
            luaL_argcheck(L, *limit >= 1 && *limit <= QUERY_MAX, 1,
                          lua_pushfstring(L, "limit is 1 to %d", QUERY_MAX));
        } else {
            luaL_argerror(L, 1, lua_pushfstring(L, "unknown filter '%s' (known: state, "
                          "assignee, escalated, waiting, tag, customer, priority, since, "
                          "before, order%s)", k, limit ? ", limit" : ""));
        }
        lua_settop(L, v - 1);   /* keep the key */
    }
}

/* vigil.tickets{ state = "open", assignee = "U01", limit = 50, ... }: a
 * list of ticket snapshots (the same objects ctx:ticket returns). */
static int q_tickets(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    struct ticket_query q;
    lua_Integer limit;
    int64_t *ids, *held;
    size_t n;

    read_query(L, &q, &limit);
    /* the ids go into Lua's memory (made first: it may raise) before a
     * ticket read or the budget can raise */
    held = lua_newuserdatauv(L, (size_t)limit * sizeof *held, 0);
    ids = store_ticket_query(rt->store, &q, (size_t)limit, &n);
    if (n)
        memcpy(held, ids, n * sizeof *held);
    free(ids);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        script_charge(L, TICKET_COST);
        api_push_ticket(L, held[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* vigil.count{ ... }: how many tickets match (the same filters, no limit). */
static int q_count(lua_State *L)
{
    struct ticket_query q;
    int64_t n;

    read_query(L, &q, NULL);
    n = store_ticket_query_count(script_rt_of(L)->store, &q);
    if (n < 0)
        return luaL_error(L, "the store failed (see log)");
    lua_pushinteger(L, n);
    return 1;
}

/* Pushes { id, name, away, reason, back_at, since, on_shift, shift,
 * available } for staff member `s`. */
static void push_presence(lua_State *L, const struct staff *s)
{
    struct script_rt *rt = script_rt_of(L);
    struct desk_presence p;

    if (desk_presence(rt->desk, s->id, &p) == DESK_ERR)
        luaL_error(L, "the store failed (see log)");
    lua_createtable(L, 0, 9);
    lua_pushstring(L, s->id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, s->name);
    lua_setfield(L, -2, "name");
    lua_pushboolean(L, p.away);
    lua_setfield(L, -2, "away");
    if (p.away && p.reason[0]) {
        lua_pushstring(L, p.reason);
        lua_setfield(L, -2, "reason");
    }
    if (p.until) {
        lua_pushinteger(L, p.until);
        lua_setfield(L, -2, "back_at");
    }
    if (p.since) {
        lua_pushinteger(L, p.since);
        lua_setfield(L, -2, "since");
    }
    lua_pushboolean(L, p.on_shift);
    lua_setfield(L, -2, "on_shift");
    if (s->shift_text) {
        lua_pushstring(L, s->shift_text);
        lua_setfield(L, -2, "shift");
    }
    lua_pushboolean(L, p.available);
    lua_setfield(L, -2, "available");
}

static const struct staff *staff_or_raise(lua_State *L, int idx)
{
    const char *id = staff_arg(L, idx);
    const struct staff *s = config_staff(script_rt_of(L)->cfg, id);
    if (!s)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s is not on the support staff", id));
    return s;
}

/* vigil.presence([user]): one staff member's presence, or everyone's (in
 * config order) without an argument. */
static int q_presence(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);

    if (!lua_isnoneornil(L, 1)) {
        push_presence(L, staff_or_raise(L, 1));
        return 1;
    }
    lua_createtable(L, (int)rt->cfg->nstaff, 0);
    for (size_t i = 0; i < rt->cfg->nstaff; i++) {
        push_presence(L, &rt->cfg->staff[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* vigil.available(user): true, or false and why ("away", "off shift"). */
static int q_available(lua_State *L)
{
    const struct staff *s = staff_or_raise(L, 1);
    struct desk_presence p;

    if (desk_presence(script_rt_of(L)->desk, s->id, &p) == DESK_ERR)
        return luaL_error(L, "the store failed (see log)");
    lua_pushboolean(L, p.available);
    if (p.available)
        return 1;
    lua_pushstring(L, p.away ? "away" : "off shift");
    return 2;
}

/* Raises the desk's answer as a user error, or a plain error on DESK_ERR. */
static int desk_result(lua_State *L, int rc, const char *err)
{
    if (rc == DESK_INVALID || rc == DESK_NOTFOUND)
        return api_fail(L, err);
    if (rc != DESK_OK)
        return luaL_error(L, "the store failed: %s", err[0] ? err : "see log");
    lua_pushboolean(L, 1);
    return 1;
}

/* The running script acting: whatever it was given, once stopped it is over. */
static struct script_rt *acting(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    if (rt->killed && rt->budget_active)
        script_charge(L, 0);
    return rt;
}

/* vigil.set_away(user [, { reason = "...", back_at = unix }]), as the user
 * who ran the command (or the hook): audited. */
static int q_set_away(lua_State *L)
{
    const struct staff *s = staff_or_raise(L, 1);
    struct script_rt *rt = acting(L);
    const char *reason = NULL;
    lua_Integer until = 0;
    char err[300] = "";

    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "reason");
        reason = luaL_optstring(L, -1, NULL);
        lua_getfield(L, 2, "back_at");
        until = luaL_optinteger(L, -1, 0);
    }
    return desk_result(L, desk_set_away(rt->desk, rt->actor ? rt->actor : "system", s->id,
                                        reason, until, err, sizeof err), err);
}

/* vigil.set_back(user): ends the absence; audited. */
static int q_set_back(lua_State *L)
{
    const struct staff *s = staff_or_raise(L, 1);
    struct script_rt *rt = acting(L);
    char err[300] = "";

    return desk_result(L, desk_set_back(rt->desk, rt->actor ? rt->actor : "system", s->id,
                                        err, sizeof err), err);
}

void api_query_open(lua_State *L)
{
    static const luaL_Reg query_f[] = {
        { "tickets", q_tickets }, { "count", q_count }, { "presence", q_presence },
        { "available", q_available }, { "set_away", q_set_away }, { "set_back", q_set_back },
        { NULL, NULL },
    };
    luaL_setfuncs(L, query_f, 0);   /* into the vigil table at the top */
}
