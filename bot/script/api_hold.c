/* api_hold.c — the ticket methods of issue 18 (going public safely):
 * t:undo(), t:unsend(), t:send_held(), t:approve() and t:reject().  They only ask the desk, as the user who ran the
 * command; the rules (what can still be undone, who may unsend) are the
 * desk's.  Registered on the ticket class by api.c. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <string.h>

/* The id of the ticket table at `idx`; raises when it is none. */
static int64_t hold_ticket_id(lua_State *L, int idx)
{
    lua_Integer id;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "id");
    id = lua_tointeger(L, -1);
    lua_pop(L, 1);                                   /* pop id */
    luaL_argcheck(L, id > 0, idx, "not a ticket");
    return id;
}

/* The runtime of an invocation that may still act (see api.c's rt_live). */
static struct script_rt *hold_rt(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    if (rt->killed && rt->budget_active)
        script_charge(L, 0);
    return rt;
}

/* A desk answer as the script sees it: `what` on DESK_OK, a user error
 * with the desk's words on a refusal, a Lua error when the store failed. */
static int desk_answer(lua_State *L, int rc, const char *what)
{
    if (rc == DESK_INVALID || rc == DESK_NOTFOUND)
        return api_fail(L, what);
    if (rc != DESK_OK)
        return luaL_error(L, "the store failed: %s", what[0] ? what : "see log");
    lua_pushstring(L, what);
    return 1;
}

/* t:undo(): cancels the reply or DM still in its undo window.  Returns
 * "reply" or "dm"; a user error says when it is too late. */
static int t_undo(lua_State *L)
{
    struct script_rt *rt = hold_rt(L);
    char err[512] = "";
    int64_t id = hold_ticket_id(L, 1);
    return desk_answer(L, desk_undo(rt->desk, rt->actor ? rt->actor : "system", id, err,
                                    sizeof err), err);
}

/* t:unsend(): deletes the ticket's last sent reply on X (a lead or its
 * author).  Returns the reply's link; a user error says why not. */
static int t_unsend(lua_State *L)
{
    struct script_rt *rt = hold_rt(L);
    char err[512] = "";
    int64_t id = hold_ticket_id(L, 1);
    return desk_answer(L, desk_unsend(rt->desk, rt->actor ? rt->actor : "system", id, err,
                                      sizeof err), err);
}

/* t:send_held(): sends the user's reply the collision guard held (the
 * Send anyway button).  Returns its text; a user error when there is none. */
static int t_send_held(lua_State *L)
{
    struct script_rt *rt = hold_rt(L);
    char err[1024] = "";
    int64_t id = hold_ticket_id(L, 1);
    return desk_answer(L, desk_send_held(rt->desk, rt->actor ? rt->actor : "system", id, err,
                                         sizeof err), err);
}

/* t:approve([text]): a lead approves the ticket's draft, with `text`
 * instead (edited: hooks see kind "approved", signed by the lead).
 * Returns the text that goes out. */
static int t_approve(lua_State *L)
{
    struct script_rt *rt = hold_rt(L);
    char err[1024] = "";
    int64_t id = hold_ticket_id(L, 1);
    const char *text = lua_isnoneornil(L, 2) ? NULL : api_public_text(L, "approved");
    return desk_answer(L, desk_approve(rt->desk, rt->actor ? rt->actor : "system", id, text,
                                       err, sizeof err), err);
}

/* t:reject([reason]): a lead rejects the ticket's draft; its author is
 * told why in the ticket's thread.  Returns the author's name. */
static int t_reject(lua_State *L)
{
    struct script_rt *rt = hold_rt(L);
    char err[1024] = "";
    int64_t id = hold_ticket_id(L, 1);
    const char *reason = luaL_optstring(L, 2, NULL);
    return desk_answer(L, desk_reject(rt->desk, rt->actor ? rt->actor : "system", id, reason,
                                      err, sizeof err), err);
}

void api_hold_open(lua_State *L)
{
    static const luaL_Reg ticket_m[] = {
        { "undo", t_undo }, { "unsend", t_unsend }, { "send_held", t_send_held },
        { "approve", t_approve }, { "reject", t_reject }, { NULL, NULL },
    };
    luaL_getmetatable(L, "vigil.ticket");
    lua_getfield(L, -1, "__index");                  /* the methods table */
    luaL_setfuncs(L, ticket_m, 0);
    lua_pop(L, 2);                                   /* pop methods, metatable */
}
