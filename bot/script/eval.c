/* eval.c — :lua: code an admin types, run in a fresh sandboxed
 * environment with ctx and vigil, under the same budgets as a command, and
 * its results pretty-printed. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"

/* --- :lua ---------------------------------------------------------------- */

struct pbuf {
    char *s;
    size_t len, cap;
};

static void padd(struct pbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *ns;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > (1u << 20))
            return;   /* a huge value is cut, not printed whole */
        ns = realloc(b->s, cap);
        if (!ns)
            return;
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void padds(struct pbuf *b, const char *s) { padd(b, s, strlen(s)); }

/* Appends a readable form of the value at idx: strings quoted, tables
 * expanded a few levels deep.  Leaves the stack as it found it. */
static void pretty(lua_State *L, int idx, struct pbuf *b, int depth)
{
    size_t n;
    const char *s;
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 4, "pretty");
    if (lua_type(L, idx) == LUA_TSTRING) {
        s = lua_tolstring(L, idx, &n);
        padds(b, "\"");
        for (size_t i = 0; i < n; i++) {
            char e[8];
            if (s[i] == '"' || s[i] == '\\') {
                e[0] = '\\';
                e[1] = s[i];
                padd(b, e, 2);
            } else if (s[i] == '\n') {
                padds(b, "\\n");
            } else if ((unsigned char)s[i] < 0x20) {
                snprintf(e, sizeof e, "\\%d", (unsigned char)s[i]);
                padds(b, e);
            } else {
                padd(b, s + i, 1);
            }
        }
        padds(b, "\"");
    } else if (lua_type(L, idx) == LUA_TTABLE && depth < 4) {
        int first = 1;
        padds(b, "{ ");
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (!first)
                padds(b, ", ");
            first = 0;
            if (lua_type(L, -2) == LUA_TSTRING) {
                padds(b, lua_tostring(L, -2));
            } else {
                padds(b, "[");
                s = luaL_tolstring(L, -2, &n);
                padd(b, s, n);
                lua_pop(L, 1);
                padds(b, "]");
            }
            padds(b, " = ");
            pretty(L, -1, b, depth + 1);
            lua_pop(L, 1);   /* pop value, keep key */
        }
        padds(b, first ? "}" : " }");
    } else {
        s = luaL_tolstring(L, idx, &n);
        padd(b, s, n);
        lua_pop(L, 1);
    }
}

/* Upvalue 1: the caller's pbuf (script_eval frees it: a budget kill
 * leaves this function by longjmp). */
static int eval_pretty(lua_State *L)
{
    int n = lua_gettop(L);
    struct pbuf *b = lua_touserdata(L, lua_upvalueindex(1));
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            padds(b, "\t");
        pretty(L, i, b, 0);
    }
    lua_pushstring(L, b->s ? b->s : "");
    return 1;
}

/* :lua's environment, with ctx (protected_push). */
static int push_eval_env(lua_State *L, void *arg)
{
    sandbox_push_env(L);
    api_push_ctx(L, arg);
    lua_setfield(L, -2, "ctx");
    return 1;
}

char *script_eval(struct script_rt *rt, const char *user, const char *code, int *ok)
{
    lua_State *L = rt->L;
    struct chat_command cmd = { .user_id = user, .channel = "admin" };
    char err[1024], *ret = NULL, *out = NULL;
    int top = lua_gettop(L), status, n;

    *ok = 0;
    /* "1+1" is an expression: try it with a return first, as lua.c does */
    if (asprintf(&ret, "return %s", code) < 0)
        return strdup("out of memory");
    status = luaL_loadbufferx(L, ret, strlen(ret), "=:lua", "t");
    free(ret);
    if (status != LUA_OK) {
        lua_pop(L, 1);
        status = luaL_loadbufferx(L, code, strlen(code), "=:lua", "t");
    }
    if (status != LUA_OK) {
        out = strdup(lua_tostring(L, -1));
        lua_settop(L, top);
        return out;
    }
    /* ctx.verb is "lua", ctx.text the code */
    if (chat_command_set(&cmd, "lua", code, code) < 0) {
        lua_settop(L, top);
        return strdup("out of memory");
    }
    rt->actor = user;
    rt->scope = ":lua";
    rt->cmd = &cmd;
    if (script_protected_push(L, push_eval_env, &cmd) < 0) {
        lua_settop(L, top);
        rt->actor = rt->scope = NULL;
        rt->cmd = NULL;
        chat_command_clear(&cmd);
        return strdup("Stopped: :lua could not start (see log).");
    }
    lua_setupvalue(L, -2, 1);
    status = script_call(rt, 0, LUA_MULTRET, ":lua", err, sizeof err);
    n = lua_gettop(L) - top;
    if (status == LUA_OK && n == 0) {
        out = strdup("(no value)");
    } else if (status == LUA_OK) {
        /* the printer runs __tostring and __name: script code, so it runs
         * as an invocation of its own, under the same budgets */
        struct pbuf b = { 0 };
        lua_pushlightuserdata(L, &b);
        lua_pushcclosure(L, eval_pretty, 1);
        lua_insert(L, top + 1);
        status = script_call(rt, n, 1, ":lua's printer", err, sizeof err);
        if (status == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
            out = strdup(lua_tostring(L, -1));
        free(b.s);
    }
    rt->actor = rt->scope = NULL;
    rt->cmd = NULL;
    chat_command_clear(&cmd);
    lua_settop(L, top);
    if (status != LUA_OK)
        return strdup(err);
    *ok = 1;
    return out ? out : strdup("out of memory");
}
