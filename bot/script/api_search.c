/* api_search.c — the search family of the script API (issue 17 §5):
 * ctx:find(query [, limit [, offset]]).  The query language is desk/find.c's
 * (pure, fuzzed); this file resolves assignee: to a staff id as ctx:user
 * does and hands the store bound values only.  Knows no wire format. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk/find.h"

/* ctx:find(query [, limit [, offset]]) -> { total = N, tickets = { t… } }
 * where each t is a ticket table with `excerpt` (the matching words in
 * context).  A bad query fails with the reason for the agent. */
static int c_find(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    const char *text = luaL_checkstring(L, 2);
    lua_Integer limit = luaL_optinteger(L, 3, 10), offset = luaL_optinteger(L, 4, 0);
    struct find_query q;
    struct store_search s = { 0 };
    struct store_hit *hits = NULL;
    size_t n = 0;
    int64_t total = 0;
    char err[200];
    int rc;

    luaL_argcheck(L, limit >= 1 && limit <= 200, 3, "limit is 1 to 200");
    luaL_argcheck(L, offset >= 0, 4, "offset is not negative");
    if (find_parse(text, desk_now(rt->desk), &q, err, sizeof err))
        return api_fail(L, err);
    if (q.assignee[0]) {
        const struct staff *who = api_resolve_user(L, q.assignee);
        if (!who) {
            snprintf(err, sizeof err, "assignee: %.60s is not on the support staff.",
                     q.assignee);
            find_query_clear(&q);
            return api_fail(L, err);
        }
        s.assignee = who->id;
    }
    s.match = q.match;
    s.handle = q.handle[0] ? q.handle : NULL;
    s.tag = q.tag[0] ? q.tag : NULL;
    s.status = q.status[0] ? q.status : NULL;
    s.since = q.since;
    s.until = q.until;
    rc = store_search(rt->store, &s, (size_t)limit, (size_t)offset, &hits, &n, &total);
    find_query_clear(&q);
    if (rc != STORE_OK)
        return luaL_error(L, "the search failed (see log)");
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)total);
    lua_setfield(L, -2, "total");
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        api_push_ticket(L, hits[i].id);   /* the page's tickets exist: read in this call */
        lua_pushstring(L, hits[i].excerpt ? hits[i].excerpt : "");
        lua_setfield(L, -2, "excerpt");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "tickets");
    store_hits_free(hits, n);
    return 1;
}

void api_search_open(lua_State *L)
{
    static const luaL_Reg ctx_m[] = {
        { "find", c_find }, { NULL, NULL },
    };
    luaL_getmetatable(L, "vigil.ctx");
    lua_getfield(L, -1, "__index");      /* the ctx methods' table */
    luaL_setfuncs(L, ctx_m, 0);
    lua_pop(L, 2);                       /* pop __index, metatable */
}
