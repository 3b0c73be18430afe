/* eval.c — :lua: code an admin types, run in a fresh sandboxed
 * environment with ctx and vigil, under the same budgets as a command, and
 * its results pretty-printed. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/command.h"
#include "core/buf.h"

/* --- :lua ---------------------------------------------------------------- */

/* What :lua prints is cut at 1 MiB: a huge value is cut, not printed whole. */
#define PRINT_MAX ((1u << 20) - 1)

/* Appends a readable form of the value at idx: strings quoted, tables
 * expanded a few levels deep.  Leaves the stack as it found it. */
static void pretty(lua_State *L, int idx, struct buf *b, int depth)
{
    size_t n;
    const char *s;
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 4, "pretty");
    if (lua_type(L, idx) == LUA_TSTRING) {
        s = lua_tolstring(L, idx, &n);
        buf_addstr(b, "\"");
        for (size_t i = 0; i < n; i++) {
            char e[8];
            if (s[i] == '"' || s[i] == '\\') {
                e[0] = '\\';
                e[1] = s[i];
                buf_add(b, e, 2);
            } else if (s[i] == '\n') {
                buf_addstr(b, "\\n");
            } else if ((unsigned char)s[i] < 0x20) {
                snprintf(e, sizeof e, "\\%d", (unsigned char)s[i]);
                buf_addstr(b, e);
            } else {
                buf_add(b, s + i, 1);
            }
        }
        buf_addstr(b, "\"");
    } else if (lua_type(L, idx) == LUA_TTABLE && depth < 4) {
        int first = 1;
        buf_addstr(b, "{ ");
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (!first)
                buf_addstr(b, ", ");
            first = 0;
            if (lua_type(L, -2) == LUA_TSTRING) {
                buf_addstr(b, lua_tostring(L, -2));
            } else {
                buf_addstr(b, "[");
                s = luaL_tolstring(L, -2, &n);
                buf_add(b, s, n);
                lua_pop(L, 1);
                buf_addstr(b, "]");
            }
            buf_addstr(b, " = ");
            pretty(L, -1, b, depth + 1);
            lua_pop(L, 1);   /* pop value, keep key */
        }
        buf_addstr(b, first ? "}" : " }");
    } else {
        s = luaL_tolstring(L, idx, &n);
        buf_add(b, s, n);
        lua_pop(L, 1);
    }
}

/* Upvalue 1: the caller's buf (script_eval frees it: a budget kill
 * leaves this function by longjmp). */
static int eval_pretty(lua_State *L)
{
    int n = lua_gettop(L);
    struct buf *b = lua_touserdata(L, lua_upvalueindex(1));
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            buf_addstr(b, "\t");
        pretty(L, i, b, 0);
    }
    lua_pushstring(L, buf_str(b));
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
        struct buf b;
        buf_init(&b, PRINT_MAX);
        lua_pushlightuserdata(L, &b);
        lua_pushcclosure(L, eval_pretty, 1);
        lua_insert(L, top + 1);
        status = script_call(rt, n, 1, ":lua's printer", err, sizeof err);
        if (status == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
            out = strdup(lua_tostring(L, -1));
        buf_free(&b);
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
