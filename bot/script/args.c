/* args.c — what a command{} table may say, and its declarative arguments:
 * command{ args = { "ticket", "user?", "text…" } }.  The keys of command{}
 * and the spec are checked when the file loads; a spec gives the command
 * its usage when it has none; run's args then answer args.ticket (the
 * ticket), args.user (a staff member) and any other name (a word, or with
 * "…" the rest of the line).  They are resolved, and the words counted,
 * when the script first reads one of them, so a command with a word of its
 * own ("dm notice on") looks at args[1] first.  Bad input gets one answer:
 * "Usage: /tw assign <ticket> [@user|me] — there is no ticket #99."
 * Knows the ctx methods it resolves with (ctx:ticket, ctx:user), nothing
 * of the desk. */
#include "script/script_internal.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define ELLIPSIS "\xE2\x80\xA6"      /* … */
#define NAME_MAX_LEN 31

enum arg_type { ARG_WORD, ARG_TICKET, ARG_USER };

struct arg {
    char name[NAME_MAX_LEN + 1];
    enum arg_type type;
    int optional, rest;
};

/* "user?", "text…", "reason?…" -> struct arg.  Returns 0, or -1 when s is
 * not a name with its marks. */
static int parse_arg(const char *s, struct arg *a)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz_0123456789");
    const char *p = s + n;

    memset(a, 0, sizeof *a);
    if (n == 0 || n > NAME_MAX_LEN || isdigit((unsigned char)s[0]))
        return -1;
    memcpy(a->name, s, n);
    while (*p) {
        if (*p == '?' && !a->optional) {
            a->optional = 1;
            p++;
        } else if (strncmp(p, ELLIPSIS, 3) == 0 && !a->rest) {
            a->rest = 1;
            p += 3;
        } else if (strncmp(p, "...", 3) == 0 && !a->rest) {
            a->rest = 1;
            p += 3;
        } else {
            return -1;
        }
    }
    a->type = strcmp(a->name, "ticket") == 0 ? ARG_TICKET
            : strcmp(a->name, "user") == 0   ? ARG_USER : ARG_WORD;
    if (a->rest && a->type != ARG_WORD)
        return -1;
    return 0;
}

/* Entry i of the spec at idx, parsed; raises when it is not one. */
static void spec_entry(lua_State *L, int idx, lua_Integer i, struct arg *a)
{
    const char *s;
    lua_rawgeti(L, idx, i);
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (!s || parse_arg(s, a) != 0)
        sandbox_load_fail(L, "command{}: args[%d] is not an argument: write a name (\"ticket\", "
                      "\"user\" or any word), with ? when it may be left out and … when it "
                      "takes the rest of the line: { \"ticket\", \"user?\", \"text…\" }",
                   (int)i);
    lua_pop(L, 1);
}

/* Checks the spec at idx: names, marks, order. Raises with the reason. */
static void check_spec(lua_State *L, int idx)
{
    lua_Integer n;
    int optional_seen = 0;

    if (!lua_istable(L, idx))
        sandbox_load_fail(L, "command{}: 'args' must be a list like { \"ticket\", \"user?\", "
                      "\"text…\" }");
    n = (lua_Integer)lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n)
            sandbox_load_fail(L, "command{}: 'args' must be a list (no named keys)");
    }
    for (lua_Integer i = 1; i <= n; i++) {
        struct arg a, b;
        spec_entry(L, idx, i, &a);
        if (a.rest && i < n)
            sandbox_load_fail(L, "command{}: args[%d] \"%s…\" takes the rest of the line, so it "
                          "must come last", (int)i, a.name);
        if (optional_seen && !a.optional)
            sandbox_load_fail(L, "command{}: args[%d] \"%s\" is required but comes after an "
                          "optional one", (int)i, a.name);
        optional_seen |= a.optional;
        for (lua_Integer j = 1; j < i; j++) {
            spec_entry(L, idx, j, &b);
            if (strcmp(a.name, b.name) == 0)
                sandbox_load_fail(L, "command{}: args names \"%s\" twice", a.name);
        }
    }
}

/* The keys command{} knows; "form" is issue 19's (forms on commands). */
static const char *const command_keys[] = {
    "run", "usage", "help", "roles", "args", "form", NULL,
};

int args_check_command(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int known = 0;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        for (int i = 0; k && command_keys[i]; i++)
            known |= strcmp(k, command_keys[i]) == 0;
        if (!known)
            return sandbox_load_fail(L, "command{}: unknown key '%s' (known: args, form, help, roles, "
                                 "run, usage)", k ? k : luaL_typename(L, -2));
        lua_pop(L, 1);
    }
    lua_getfield(L, 1, "args");
    if (!lua_isnil(L, -1))
        check_spec(L, lua_gettop(L));
    lua_pop(L, 1);
    return 0;
}

int args_set_usage(lua_State *L)
{
    luaL_Buffer b;
    lua_Integer n;
    int spec, has_usage;
    const char *verb = luaL_checkstring(L, 2);
    const int idx = 1;
    luaL_checktype(L, 1, LUA_TTABLE);
    has_usage = script_rawfield(L, idx, "usage") != LUA_TNIL;
    if (script_rawfield(L, idx, "args") != LUA_TTABLE || has_usage)
        return 0;
    spec = lua_gettop(L);
    n = (lua_Integer)lua_rawlen(L, spec);
    luaL_buffinit(L, &b);
    luaL_addstring(&b, verb);
    for (lua_Integer i = 1; i <= n; i++) {
        struct arg a;
        lua_rawgeti(L, spec, i);
        if (lua_type(L, -1) != LUA_TSTRING || parse_arg(lua_tostring(L, -1), &a) != 0) {
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        luaL_addstring(&b, a.optional ? " [" : " <");
        luaL_addstring(&b, a.type == ARG_USER ? "@user|me" : a.name);
        luaL_addstring(&b, a.optional ? "]" : ">");
    }
    luaL_pushresult(&b);
    lua_setfield(L, idx, "usage");
    return 0;
}

/* --- resolving, on first read ------------------------------------------- */

/* Raises the one answer bad input gets: the usage, and why when there is a
 * reason ("There is no ticket #99." reads as "— there is no ticket #99."). */
static int fail_usage(lua_State *L, const char *why)
{
    char msg[1200];
    const char *usage = lua_tostring(L, lua_upvalueindex(2));
    if (!why) {
        snprintf(msg, sizeof msg, "%s", usage);
    } else {
        int lower = isupper((unsigned char)why[0]) && islower((unsigned char)why[1]);
        snprintf(msg, sizeof msg, "%s — %c%s", usage,
                 lower ? tolower((unsigned char)why[0]) : why[0], why + 1);
    }
    return api_fail(L, msg);
}

/* ctx:<method>(word), as the script would call it; a user error it raises
 * becomes the usage answer, anything else (a budget kill) goes on up.
 * Leaves the result on the stack. */
static void call_ctx(lua_State *L, const char *method, int word_idx)
{
    int ctx = lua_upvalueindex(3);
    lua_getfield(L, ctx, method);
    lua_pushvalue(L, ctx);
    lua_pushvalue(L, word_idx);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        const char *why = api_user_error(L, -1);
        if (!why)
            lua_error(L);
        fail_usage(L, why);
    }
}

/* Fills args (at 1) with every declared name, or raises the usage answer. */
static void resolve(lua_State *L)
{
    int spec = lua_upvalueindex(1);
    lua_Integer nspec = (lua_Integer)lua_rawlen(L, spec);
    lua_Integer nwords = (lua_Integer)lua_rawlen(L, 1), w = 1;

    for (lua_Integer i = 1; i <= nspec; i++) {
        struct arg a;
        spec_entry(L, spec, i, &a);
        if (w > nwords) {
            if (!a.optional)
                fail_usage(L, NULL);
            continue;
        }
        if (a.rest) {
            lua_getfield(L, lua_upvalueindex(3), "rest");   /* ctx:rest(w - 1) */
            lua_pushvalue(L, lua_upvalueindex(3));
            lua_pushinteger(L, w - 1);
            lua_call(L, 2, 1);
            w = nwords + 1;
        } else {
            lua_rawgeti(L, 1, w++);
            if (a.type != ARG_WORD) {
                call_ctx(L, a.type == ARG_TICKET ? "ticket" : "user", lua_gettop(L));
                lua_remove(L, -2);                            /* the word */
            }
        }
        lua_setfield(L, 1, a.name);   /* args has no __newindex: a raw set */
    }
    if (w <= nwords) {
        char why[200];
        lua_rawgeti(L, 1, w);
        snprintf(why, sizeof why, "too many words: \"%.80s\"", lua_tostring(L, -1));
        lua_pop(L, 1);
        fail_usage(L, why);
    }
}

/* __index of a command's args: upvalues spec, usage answer, ctx, resolved. */
static int args_index(lua_State *L)
{
    int spec = lua_upvalueindex(1), declared = 0;
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    for (lua_Integer i = 1; k && i <= (lua_Integer)lua_rawlen(L, spec); i++) {
        struct arg a;
        spec_entry(L, spec, i, &a);
        declared |= strcmp(a.name, k) == 0;
    }
    if (!declared || lua_toboolean(L, lua_upvalueindex(4)))
        return 0;
    lua_pushboolean(L, 1);
    lua_replace(L, lua_upvalueindex(4));   /* once, even when it raises */
    resolve(L);
    lua_settop(L, 2);
    lua_rawget(L, 1);
    return 1;
}

void args_attach(lua_State *L, int cmd_idx, int ctx_idx, int args_idx, const char *umbrella)
{
    cmd_idx = lua_absindex(L, cmd_idx);
    ctx_idx = lua_absindex(L, ctx_idx);
    args_idx = lua_absindex(L, args_idx);
    if (script_rawfield(L, cmd_idx, "args") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    script_rawfield(L, cmd_idx, "usage");
    lua_pushfstring(L, "Usage: %s %s", umbrella, luaL_optstring(L, -1, "?"));
    lua_remove(L, -2);                      /* the bare usage */
    lua_pushvalue(L, ctx_idx);
    lua_pushboolean(L, 0);
    lua_pushcclosure(L, args_index, 4);     /* spec, usage answer, ctx, resolved */
    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, args_idx);
}
