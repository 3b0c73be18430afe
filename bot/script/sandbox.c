/* sandbox.c — what a script can reach: the template environment every
 * script's own environment is copied from (an allow-list of safe
 * libraries, as Redis's; no package, dofile, loadfile, no bytecode),
 * print to the log, the command{} and hooks{} checks, and require, which
 * loads only lua/<name>.lua, in the requiring script's environment. */
#include "script/script_internal.h"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define MAX_SCRIPT_BYTES (1u << 20)

/* --- the sandbox --------------------------------------------------------- */

static int l_print(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    luaL_Buffer b;
    int n = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    log_info("script print", "script=%s text=%s", rt->scope ? rt->scope : "?",
             lua_tostring(L, -1));
    return 0;
}

static int l_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage: only \"count\" is allowed in scripts");
    lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT) +
                      (lua_Number)lua_gc(L, LUA_GCCOUNTB) / 1024);
    return 1;
}

/* setmetatable without __gc: Lua runs finalizers with hooks off, at
 * whatever moment the collector picks, inside whichever invocation is
 * current (another script's, as another user): script code must never run
 * outside its own invocation.  A metatable that has __gc when it is set is
 * what marks an object for finalization, so refusing it here is enough.
 * __close needs no rule: it runs when its block exits or unwinds, inside
 * the invocation (a suspended coroutine that is collected never runs it). */
static int l_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc is not allowed in scripts "
                                 "(a finalizer would run outside the script's invocation)");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* load(chunk [, name [, mode [, env]]]): text chunks only; the default
 * environment is the calling script's, never the real globals. */
static int l_load(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int has_env = !lua_isnone(L, 4);
    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);   /* nil, message */
        return 2;
    }
    if (has_env)
        lua_pushvalue(L, 4);
    else
        lua_pushvalue(L, lua_upvalueindex(1));
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    return 1;
}

char *sandbox_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MAX_SCRIPT_BYTES + 1);
    n = buf ? fread(buf, 1, MAX_SCRIPT_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (n > MAX_SCRIPT_BYTES) {
        snprintf(err, errlen, "%s is larger than 1 MiB", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int valid_module_name(const char *s)
{
    if (!*s || *s == '.')
        return 0;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || (*p == '.' && p[1] && p[1] != '.')))
            return 0;
    return 1;
}

/* require(name): lua/<name with dots as slashes>.lua and nothing else, run
 * in the requiring script's environment, cached per script (upvalue 2). */
static int l_require(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    const char *name = luaL_checkstring(L, 1);
    char path[1024], err[512], chunk[600];
    size_t len;
    char *src;

    lua_getfield(L, lua_upvalueindex(2), name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    if (!valid_module_name(name))
        return luaL_error(L, "module '%s' not found: names are letters, digits, _ and dots", name);
    snprintf(path, sizeof path, "%s/%s.lua", rt->cfg->scripts_lib, name);
    for (char *p = path + strlen(rt->cfg->scripts_lib) + 1; *p; p++)
        if (*p == '.' && strcmp(p, ".lua") != 0)
            *p = '/';
    src = sandbox_read_file(path, &len, err, sizeof err);
    if (!src)
        return luaL_error(L, "module '%s' not found in %s/ (%s)", name, rt->cfg->scripts_lib, err);
    snprintf(chunk, sizeof chunk, "@%s", path);
    if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) {
        free(src);
        return lua_error(L);
    }
    free(src);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setupvalue(L, -2, 1);          /* module's _ENV = the script's env */
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, lua_upvalueindex(2), name);   /* cache */
    return 1;
}

static const char *const hook_names[] = {
    "on_mention", "before_reply", "on_sla_warning", "on_sla_breach", NULL,
};

/* A malformed command{} or hooks{}: a load error the admin reads whole
 * ("scripts/x.lua:3: command{}: ..."), not a script error hidden behind an
 * error id.  Level 1 is the script's line that called command{}; called
 * from C (the loader), there is none. */
int sandbox_load_fail(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    luaL_where(L, 1);
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    return api_fail(L, lua_tostring(L, -1));
}

/* command{...}: checks a command table when the file loads. */
static int l_command(lua_State *L)
{
    if (!lua_istable(L, 1))
        return sandbox_load_fail(L, "command{}: takes a table, got %s: return command { run = "
                            "function(ctx, args) ... end }", luaL_typename(L, 1));
    lua_getfield(L, 1, "run");
    if (!lua_isfunction(L, -1))
        return sandbox_load_fail(L, "command{}: 'run' must be a function(ctx, args)");
    lua_pop(L, 1);
    for (const char *const *f = (const char *const[]){ "usage", "help", NULL }; *f; f++) {
        lua_getfield(L, 1, *f);
        /* lua_type, not lua_isstring: that takes a number (usage = 42) too */
        if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
            return sandbox_load_fail(L, "command{}: '%s' must be a string, got %s", *f,
                             luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    args_check_command(L);        /* unknown keys, the args spec */
    lua_settop(L, 1);
    return 1;
}

int sandbox_check_hooks(lua_State *L)
{
    if (!lua_istable(L, 1))
        return sandbox_load_fail(L, "hooks{}: takes a table, got %s: return hooks { on_mention = "
                            "function(ticket, mention) ... end }", luaL_typename(L, 1));
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int known = 0;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        for (int i = 0; hook_names[i]; i++)
            known |= strcmp(k, hook_names[i]) == 0;
        if (!known)
            return sandbox_load_fail(L, "hooks{}: unknown hook '%s' (known: on_mention, before_reply, "
                                "on_sla_warning, on_sla_breach)", k);
        if (!lua_isfunction(L, -1))
            return sandbox_load_fail(L, "hooks{}: '%s' must be a function", k);
        lua_pop(L, 1);
    }
    lua_settop(L, 1);
    return 1;
}

static void copy_table(lua_State *L, int src)
{
    src = lua_absindex(L, src);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, src)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

/* Builds the template every script environment is copied from. */
void sandbox_open(lua_State *L)
{
    static const char *const base_ok[] = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen",
        "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type",
        "xpcall", "_VERSION", NULL,
    };
    static const char *const libs[] = { "string", "table", "math", "utf8", "coroutine", NULL };

    lua_newtable(L);                              /* safe */
    for (int i = 0; base_ok[i]; i++) {
        lua_getglobal(L, base_ok[i]);
        lua_setfield(L, -2, base_ok[i]);
    }
    for (int i = 0; libs[i]; i++) {
        lua_getglobal(L, libs[i]);
        lua_setfield(L, -2, libs[i]);
    }
    lua_getfield(L, -1, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");                  /* no bytecode out... */
    lua_pop(L, 1);
    lua_newtable(L);                              /* os: the clock only */
    lua_getglobal(L, "os");
    lua_getfield(L, -1, "time");
    lua_setfield(L, -3, "time");
    lua_getfield(L, -1, "date");
    lua_setfield(L, -3, "date");
    lua_getfield(L, -1, "clock");
    lua_setfield(L, -3, "clock");
    lua_pop(L, 1);                                /* pop real os */
    lua_setfield(L, -2, "os");
    lua_pushcfunction(L, l_print);
    lua_setfield(L, -2, "print");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, l_setmetatable, 1);
    lua_setfield(L, -2, "setmetatable");
    lua_pushcfunction(L, l_collectgarbage);
    lua_setfield(L, -2, "collectgarbage");
    lua_pushcfunction(L, l_command);
    lua_setfield(L, -2, "command");
    lua_pushcfunction(L, sandbox_check_hooks);
    lua_setfield(L, -2, "hooks");
    lua_setfield(L, LUA_REGISTRYINDEX, "vigil.safe");

    /* Strings share one metatable: lock it so no script can reach (and
     * change) the string library every other script uses. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
}

/* Pushes a fresh environment: copies of the safe globals and libraries,
 * its own require cache, load bound to it, and `vigil`. */
void sandbox_push_env(lua_State *L)
{
    int env;
    lua_getfield(L, LUA_REGISTRYINDEX, "vigil.safe");
    copy_table(L, -1);
    lua_remove(L, -2);
    env = lua_gettop(L);
    for (const char *const *lib = (const char *const[]){ "string", "table", "math", "utf8",
                                                         "coroutine", "os", "vigil", NULL };
         *lib; lib++) {
        if (strcmp(*lib, "vigil") == 0)
            lua_getfield(L, LUA_REGISTRYINDEX, "vigil.api");
        else
            lua_getfield(L, env, *lib);
        copy_table(L, -1);
        if (strcmp(*lib, "vigil") == 0) {
            lua_getfield(L, LUA_REGISTRYINDEX, "vigil.api.meta");
            lua_setmetatable(L, -2);   /* vigil.config, built on read */
        }
        lua_setfield(L, env, *lib);
        lua_pop(L, 1);
    }
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    lua_pushvalue(L, env);
    lua_pushcclosure(L, l_load, 1);
    lua_setfield(L, env, "load");
    lua_pushvalue(L, env);
    lua_newtable(L);                              /* this script's module cache */
    lua_pushcclosure(L, l_require, 2);
    lua_setfield(L, env, "require");
}
