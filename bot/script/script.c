/* script.c — the Lua runtime: one state, one sandboxed environment per
 * script file, an instruction budget enforced by a count hook that pcall
 * cannot swallow (Redis's trick: once over, the hook fires on every
 * instruction and raises again), a memory cap in the allocator, and hot
 * reload that compiles first and keeps the old version on any error
 * (Prosody's rule).  Knows the desk and the store; never a wire format. */
#include "script/script_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chat/command.h"
#include "core/log.h"

#define HOOK_STEP 1000          /* instructions between budget checks */
#define HOOK_STEP_BIG 50        /* ... once the invocation handles big strings */
#define BIG_ALLOC (64u << 10)   /* an allocation this size is a copy of that size */
#define MAX_SCRIPT_BYTES (1u << 20)
#define MAX_COMMAND_BYTES 16384u   /* a reply is 280 characters; 16 KB is generous */

static int budget_sentinel;     /* its address is the "over budget" error */

static void count_hook(lua_State *L, lua_Debug *ar);
static void account_memory(struct script_rt *rt, size_t before);

#define MEM_CHECK (1u << 20)    /* heap growth in one call that triggers accounting */

struct script_rt *script_rt_of(lua_State *L)
{
    return *(struct script_rt **)lua_getextraspace(L);
}

/* --- allocator and budget ---------------------------------------------- */

static int past_deadline(struct script_rt *rt)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > rt->deadline.tv_sec ||
           (now.tv_sec == rt->deadline.tv_sec && now.tv_nsec > rt->deadline.tv_nsec);
}

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct script_rt *rt = ud;
    size_t old = ptr ? osize : 0;
    void *p;

    if (nsize == 0) {
        rt->mem -= old;
        free(ptr);
        return NULL;
    }
    if (rt->mem_limit && nsize > old && rt->mem - old + nsize > rt->mem_limit)
        return NULL;   /* Lua raises "not enough memory" */
    if (rt->budget_active && nsize >= BIG_ALLOC && nsize > old) {
        /* A big block is about to be filled by a C loop (a concatenation,
         * upper, gsub...): past the deadline, refuse it (the hook then ends
         * the invocation), and from now on check the budget more often,
         * since single instructions are now expensive. */
        rt->big = 1;
        if (past_deadline(rt)) {
            rt->timed_out = 1;
            return NULL;
        }
    }
    p = realloc(ptr, nsize);
    if (p)
        rt->mem = rt->mem - old + nsize;
    return p;
}

/* Stops the invocation: from now on the hook fires on every instruction,
 * so a pcall that catches this error gets one instruction further, then
 * this error again. */
static int kill_invocation(lua_State *L, struct script_rt *rt)
{
    rt->killed = 1;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    lua_pushlightuserdata(L, &budget_sentinel);
    return lua_error(L);
}

/* Every HOOK_STEP instructions: the instruction count, and the clock (a
 * vDSO call, ~20 ns, against ~1000 instructions of work). */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    struct script_rt *rt = script_rt_of(L);
    (void)ar;
    if (!rt->budget_active)
        return;
    rt->used += lua_gethookcount(L);
    if (!rt->killed && rt->used <= rt->budget && past_deadline(rt))
        rt->timed_out = 1;
    if (rt->killed || rt->used > rt->budget || rt->timed_out)
        kill_invocation(L, rt);
    if (rt->big && lua_gethookcount(L) > HOOK_STEP_BIG)
        lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_STEP_BIG);
}

void script_charge(lua_State *L, long long n)
{
    struct script_rt *rt = script_rt_of(L);
    if (!rt->budget_active)
        return;
    rt->used += n;
    if (!rt->killed && rt->used <= rt->budget && past_deadline(rt))
        rt->timed_out = 1;
    if (rt->killed || rt->used > rt->budget || rt->timed_out)
        kill_invocation(L, rt);
}

static int msgh(lua_State *L)
{
    const char *msg;
    if (lua_islightuserdata(L, 1) || api_user_error(L, 1))
        return 1;   /* budget and user errors travel as they are */
    msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

void script_set_budget_hook(struct script_rt *rt, int on)
{
    rt->hook_off = !on;
    lua_sethook(rt->L, on ? count_hook : NULL, on ? LUA_MASKCOUNT : 0, on ? HOOK_STEP : 0);
}

int script_call(struct script_rt *rt, int nargs, int nres, const char *what,
                char *errmsg, size_t errlen)
{
    lua_State *L = rt->L;
    int base = lua_gettop(L) - nargs, status;
    size_t mem0 = rt->mem;

    if (rt->depth++ == 0) {
        long long ns = (long long)(rt->time_budget * 1e9);
        rt->used = 0;
        rt->killed = 0;
        rt->timed_out = 0;
        rt->big = 0;
        clock_gettime(CLOCK_MONOTONIC, &rt->deadline);
        rt->deadline.tv_sec += (time_t)(ns / 1000000000) +
                               (rt->deadline.tv_nsec + ns % 1000000000) / 1000000000;
        rt->deadline.tv_nsec = (rt->deadline.tv_nsec + ns % 1000000000) % 1000000000;
        rt->budget_active = 1;
        if (rt->hook_off)
            lua_sethook(L, NULL, 0, 0);
        else
            lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
    }
    lua_pushcfunction(L, msgh);
    lua_insert(L, base);                    /* handler below the function */
    status = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);                    /* pop handler */
    if (--rt->depth == 0) {
        rt->budget_active = 0;
        if (!rt->hook_off)
            lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
    }
    if (status == LUA_OK && rt->killed) {
        /* killed inside a coroutine whose error the script swallowed: the
         * invocation is over all the same, and its results are dropped */
        lua_pop(L, nres == LUA_MULTRET ? lua_gettop(L) - base + 1 : nres);
        lua_pushlightuserdata(L, &budget_sentinel);
        status = LUA_ERRRUN;
    }
    if (status == LUA_OK) {
        if (errmsg && errlen)
            errmsg[0] = '\0';
        if (rt->depth == 0)
            account_memory(rt, mem0);
        return LUA_OK;
    }
    if (rt->killed || rt->timed_out || lua_touserdata(L, -1) == &budget_sentinel) {
        if (rt->timed_out) {
            snprintf(errmsg, errlen, "Stopped: %s ran past its time budget of %.0f ms.",
                     what, rt->time_budget * 1000);
            log_warn("script stopped: time budget", "what=%s", what);
        } else {
            snprintf(errmsg, errlen, "Stopped: %s ran past its budget of %.0f instructions.",
                     what, (double)rt->budget);
            log_warn("script stopped: instruction budget", "what=%s", what);
        }
        if (rt->depth > 0)
            rt->killed = 1;   /* the outer invocation is over too */
    } else if (status == LUA_ERRMEM) {
        /* what it had: the cap less what the state held when it started */
        snprintf(errmsg, errlen, "Stopped: %s needed more than %zu MiB of memory.", what,
                 (rt->mem_limit - (mem0 < rt->mem_limit ? mem0 : rt->mem_limit) +
                  (1u << 19)) >> 20);
        log_warn("script stopped: memory limit", "what=%s", what);
    } else if (api_user_error(L, -1)) {
        snprintf(errmsg, errlen, "%s", api_user_error(L, -1));
    } else {
        char id[16];
        snprintf(id, sizeof id, "E%04lx%02lx", (unsigned long)(time(NULL) & 0xffff),
                 ++rt->errseq & 0xff);
        snprintf(errmsg, errlen, "Command failed (see log), error id %s.", id);
        log_error("script error", "id=%s what=%s error=%s", id, what,
                  lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    }
    lua_pop(L, 1);   /* pop error */
    if (rt->depth == 0) {
        lua_gc(L, LUA_GCCOLLECT);   /* give back what a failed script held */
        account_memory(rt, mem0);
    }
    return status;
}

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

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
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
    src = read_file(path, &len, err, sizeof err);
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

/* command{...}: checks a command table when the file loads. */
static int l_command(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "run");
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "command{}: 'run' must be a function(ctx, args)");
    lua_pop(L, 1);
    for (const char *const *f = (const char *const[]){ "usage", "help", NULL }; *f; f++) {
        lua_getfield(L, 1, *f);
        if (!lua_isnil(L, -1) && !lua_isstring(L, -1))
            return luaL_error(L, "command{}: '%s' must be a string", *f);
        lua_pop(L, 1);
    }
    lua_settop(L, 1);
    return 1;
}

static int l_hooks(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int known = 0;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        for (int i = 0; hook_names[i]; i++)
            known |= strcmp(k, hook_names[i]) == 0;
        if (!known)
            return luaL_error(L, "hooks{}: unknown hook '%s' (known: on_mention, before_reply, "
                                 "on_sla_warning, on_sla_breach)", k);
        if (!lua_isfunction(L, -1))
            return luaL_error(L, "hooks{}: '%s' must be a function", k);
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
static void build_safe(lua_State *L)
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
    lua_pushcfunction(L, l_hooks);
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
static void push_env(lua_State *L)
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

/* Pushes t[k] without metamethods: C never runs script code by reading a
 * script's table (an erroring __index outside a protected call is a Lua
 * panic: abort). */
static int rawfield(lua_State *L, int idx, const char *k)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, k);
    return lua_rawget(L, idx);
}

/* Runs fn(L, arg) in protected mode; on success its pushed values are on
 * the stack and the count is returned; on error (a store failure, out of
 * memory) nothing is pushed, the error is logged and -1 returned. */
struct push_req {
    int (*fn)(lua_State *L, void *arg);
    void *arg;
};

static int protected_push_fn(lua_State *L)
{
    struct push_req *r = lua_touserdata(L, 1);
    lua_pop(L, 1);
    return r->fn(L, r->arg);
}

static int protected_push(lua_State *L, int (*fn)(lua_State *L, void *arg), void *arg)
{
    struct push_req r = { fn, arg };
    int top = lua_gettop(L);
    lua_pushcfunction(L, protected_push_fn);
    lua_pushlightuserdata(L, &r);
    if (lua_pcall(L, 1, LUA_MULTRET, 0) != LUA_OK) {
        log_error("script: could not prepare the call", "error=%s",
                  lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
        lua_settop(L, top);
        return -1;
    }
    return lua_gettop(L) - top;
}

static int push_env_fn(lua_State *L, void *arg)
{
    (void)arg;
    push_env(L);
    return 1;
}

/* --- entries and loading ------------------------------------------------ */

static struct entry *find_entry(struct script_rt *rt, const char *file)
{
    for (size_t i = 0; i < rt->nentries; i++)
        if (strcmp(rt->entries[i].file, file) == 0)
            return &rt->entries[i];
    return NULL;
}

static struct entry *add_entry(struct script_rt *rt, const char *file, int is_hook)
{
    struct entry *e = realloc(rt->entries, (rt->nentries + 1) * sizeof *e);
    const char *base;
    if (!e)
        return NULL;
    rt->entries = e;
    e = &rt->entries[rt->nentries++];
    memset(e, 0, sizeof *e);
    e->file = strdup(file);
    e->is_hook = is_hook;
    e->ref = LUA_NOREF;
    if (!is_hook) {
        base = strrchr(file, '/');
        base = base ? base + 1 : file;
        e->verb = strndup(base, strlen(base) - 4);
    }
    return e;
}

static void remove_entry(struct script_rt *rt, struct entry *e)
{
    luaL_unref(rt->L, LUA_REGISTRYINDEX, e->ref);
    free(e->file);
    free(e->verb);
    free(e->error);
    *e = rt->entries[--rt->nentries];
}

static int valid_file_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 5 || strcmp(name + n - 4, ".lua") != 0 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n - 4; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              name[i] == '_' || name[i] == '-'))
            return 0;
    return 1;
}

static unsigned parse_roles(lua_State *L, int idx, char *err, size_t errlen)
{
    unsigned mask = 0;
    if (lua_isnil(L, idx))
        return ROLE_BIT(ROLE_AGENT) | ROLE_BIT(ROLE_LEAD) | ROLE_BIT(ROLE_ADMIN);
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *r = lua_tostring(L, idx);
        int min = strcmp(r, "none") == 0 ? ROLE_NONE : config_parse_role(r);
        if (min < 0) {
            snprintf(err, errlen, "roles: unknown role \"%s\" (agent, lead, admin)", r);
            return 0;
        }
        for (int i = min; i <= ROLE_ADMIN; i++)
            mask |= ROLE_BIT(i);
        return mask;
    }
    if (lua_istable(L, idx)) {
        for (lua_Integer i = 1; lua_rawgeti(L, idx, i) != LUA_TNIL; i++) {
            int r = lua_isstring(L, -1) ? config_parse_role(lua_tostring(L, -1)) : -1;
            lua_pop(L, 1);
            if (r < 0) {
                snprintf(err, errlen, "roles: entry %lld is not agent, lead or admin",
                         (long long)i);
                return 0;
            }
            mask |= ROLE_BIT(r);
        }
        lua_pop(L, 1);
        if (mask)
            return mask;
    }
    snprintf(err, errlen, "roles must be \"agent\", \"lead\", \"admin\" or a list of them");
    return 0;
}

static void notify(struct script_rt *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void notify(struct script_rt *rt, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (rt->notice)
        rt->notice(rt->notice_arg, text);
}

static void stop_for_memory(struct script_rt *rt, struct entry *e)
{
    size_t mib = (e->kept + (1u << 19)) >> 20;
    luaL_unref(rt->L, LUA_REGISTRYINDEX, e->ref);
    e->ref = LUA_NOREF;
    e->stopped = 1;
    e->kept = 0;
    free(e->error);
    if (asprintf(&e->error, "stopped: it kept %zu MiB between calls (a script may keep %zu MiB); "
                 "save the file to load it again", mib, (rt->mem_limit / 4) >> 20) < 0)
        e->error = NULL;
    log_error("script stopped: it keeps too much memory", "file=%s kept_mib=%zu", e->file, mib);
    notify(rt, "Script %s was stopped: it kept %zu MiB of memory between calls, more than "
           "its share (%zu MiB); other scripts were short of memory. Save the file to load "
           "it again.", e->file, mib, (rt->mem_limit / 4) >> 20);
    lua_gc(rt->L, LUA_GCCOLLECT);   /* its environment goes now */
}

/* Memory is capped for the whole state, so a script that keeps memory
 * between calls (in its environment) takes it from every other script.
 * After a call that grew the heap by MEM_CHECK or more, a full collection
 * tells what the call left behind; that is charged to the script that ran
 * (what a collection gives back is credited to it).  A script that keeps
 * more than a quarter of scripts.memory_mb, or the biggest keeper when all
 * together keep more than half, is stopped: the one that holds the memory
 * loses it, not its neighbours. */
static void account_memory(struct script_rt *rt, size_t before)
{
    struct entry *e, *big = NULL;
    size_t total = 0;
    long long kept;

    if (rt->mem < before + MEM_CHECK || !rt->scope || !(e = find_entry(rt, rt->scope)))
        return;
    lua_gc(rt->L, LUA_GCCOLLECT);
    kept = (long long)e->kept + (long long)rt->mem - (long long)before;
    e->kept = kept > 0 ? (size_t)kept : 0;
    for (size_t i = 0; i < rt->nentries; i++) {
        total += rt->entries[i].kept;
        if (!big || rt->entries[i].kept > big->kept)
            big = &rt->entries[i];
    }
    if (e->kept > rt->mem_limit / 4)
        stop_for_memory(rt, e);
    else if (total > rt->mem_limit / 2 && big && big->ref != LUA_NOREF)
        stop_for_memory(rt, big);
}

/* Compiles and runs `file` (relative to scripts.dir); on success swaps it
 * in, on failure keeps what was there.  Returns 0 on success. */
static int load_file(struct script_rt *rt, const char *file)
{
    lua_State *L = rt->L;
    int is_hook = strncmp(file, "hooks/", 6) == 0;
    char path[1024], chunk[1100], err[1024] = "";
    const char *prev_scope = rt->scope;
    struct entry *e;
    unsigned roles = 0;
    size_t len;
    char *src;
    int top = lua_gettop(L);

    snprintf(path, sizeof path, "%s/%s", rt->cfg->scripts_dir, file);
    src = read_file(path, &len, err, sizeof err);
    if (!src)
        goto fail;
    snprintf(chunk, sizeof chunk, "@%s", path);
    if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) {
        snprintf(err, sizeof err, "%s", lua_tostring(L, -1));
        free(src);
        goto fail;
    }
    free(src);
    if (protected_push(L, push_env_fn, NULL) < 0) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    lua_setupvalue(L, -2, 1);
    rt->scope = file;
    if (script_call(rt, 0, 1, "loading the script", err, sizeof err) != LUA_OK) {
        rt->scope = prev_scope;
        goto fail;
    }
    rt->scope = prev_scope;
    if (!lua_istable(L, -1)) {
        snprintf(err, sizeof err, "%s must return %s, got %s", path,
                 is_hook ? "hooks { ... }" : "command { ... }", luaL_typename(L, -1));
        goto fail;
    }
    if (is_hook) {
        lua_pushcfunction(L, l_hooks);
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            snprintf(err, sizeof err, "%s", lua_tostring(L, -1));
            goto fail;
        }
    } else {
        rawfield(L, -1, "run");
        if (!lua_isfunction(L, -1)) {
            snprintf(err, sizeof err, "%s: the command table has no run function", path);
            goto fail;
        }
        lua_pop(L, 1);
        rawfield(L, -1, "roles");
        roles = parse_roles(L, lua_gettop(L), err, sizeof err);
        lua_pop(L, 1);
        if (!roles)
            goto fail;
    }
    e = find_entry(rt, file);
    if (!e && !(e = add_entry(rt, file, is_hook)))
        goto fail;
    /* The swap: later invocations get the new table; one already running
     * holds the old one on its stack and finishes with it. */
    luaL_unref(L, LUA_REGISTRYINDEX, e->ref);
    e->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    e->roles = roles;
    e->kept = 0;                  /* the old environment goes with the old table */
    e->stopped = 0;
    free(e->error);
    e->error = NULL;
    lua_settop(L, top);
    log_info("script loaded", "file=%s", file);
    return 0;
fail:
    lua_settop(L, top);
    e = find_entry(rt, file);
    if (!e)
        e = add_entry(rt, file, is_hook);
    if (e) {
        free(e->error);
        e->error = strdup(err);
    }
    log_error("script failed to load; the previous version (if any) keeps running",
              "file=%s error=%s", file, err);
    notify(rt, "Script %s failed to load%s: %s", path,
           e && e->ref != LUA_NOREF ? "; the previous version keeps running" : "", err);
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* File names of `dir` (relative to scripts.dir) that are scripts, sorted. */
static char **list_dir(struct script_rt *rt, const char *sub, size_t *n)
{
    char path[1024];
    DIR *d;
    struct dirent *de;
    char **v = NULL;

    *n = 0;
    snprintf(path, sizeof path, "%s%s%s", rt->cfg->scripts_dir, *sub ? "/" : "", sub);
    d = opendir(path);
    if (!d)
        return NULL;
    while ((de = readdir(d))) {
        char name[600], **nv;
        if (!valid_file_name(de->d_name))
            continue;
        snprintf(name, sizeof name, "%s%s%s", sub, *sub ? "/" : "", de->d_name);
        nv = realloc(v, (*n + 1) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        v[(*n)++] = strdup(name);
    }
    closedir(d);
    if (*n > 1)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

int script_load_all(struct script_rt *rt)
{
    int failed = 0;
    for (const char *sub = ""; sub; sub = *sub ? NULL : "hooks") {
        size_t n;
        char **v = list_dir(rt, sub, &n);
        for (size_t i = 0; i < n; i++) {
            failed += load_file(rt, v[i]) != 0;
            free(v[i]);
        }
        free(v);
    }
    log_info("scripts loaded", "commands=%zu failed=%d", rt->nentries, failed);
    return failed;
}

int script_reload(struct script_rt *rt, const char *name)
{
    struct entry *e;
    char file[600];
    struct stat st;

    if (!name || !*name)
        return script_load_all(rt);
    snprintf(file, sizeof file, "%s%s", name, strstr(name, ".lua") ? "" : ".lua");
    /* only NAME or hooks/NAME inside scripts.dir: never "../x" */
    if (!valid_file_name(strncmp(file, "hooks/", 6) == 0 ? file + 6 : file)) {
        log_warn("reload refused: not a script name", "name=%s", name);
        return -1;
    }
    e = find_entry(rt, file);
    {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", rt->cfg->scripts_dir, file);
        if (stat(path, &st) != 0) {
            if (e) {
                log_info("script removed", "file=%s", file);
                remove_entry(rt, e);
                return 0;
            }
            return -1;
        }
    }
    return load_file(rt, file) ? 1 : 0;
}

/* --- runtime ------------------------------------------------------------- */

static int l_panic(lua_State *L)
{
    log_msg(LOG_FATAL, "lua panic", "error=%s", lua_tostring(L, -1));
    abort();
}

struct script_rt *script_new(uv_loop_t *loop, struct desk *desk)
{
    struct script_rt *rt = calloc(1, sizeof *rt);
    const struct config *cfg = desk_config(desk);

    if (!rt)
        return NULL;
    rt->loop = loop;
    rt->desk = desk;
    rt->store = desk_store(desk);
    rt->cfg = cfg;
    rt->ifd = -1;
    rt->budget = (long long)cfg->script_instructions;
    rt->time_budget = cfg->script_time_budget > 0 ? cfg->script_time_budget : 0.25;
    rt->L = lua_newstate(l_alloc, rt);
    if (!rt->L) {
        free(rt);
        return NULL;
    }
    *(struct script_rt **)lua_getextraspace(rt->L) = rt;
    lua_atpanic(rt->L, l_panic);
    luaL_openlibs(rt->L);   /* the real ones; scripts only see copies of the safe parts */
    api_open(rt->L);
    bounded_open(rt->L);
    build_safe(rt->L);
    lua_settop(rt->L, 0);
    /* The cap applies from here: the runtime itself needs well under 1 MiB. */
    rt->mem_limit = (size_t)(cfg->script_memory_mb * 1024 * 1024);
    return rt;
}

void script_free(struct script_rt *rt)
{
    if (!rt)
        return;
    /* script_unwatch() ran before the loop drained; the fd may remain */
    if (rt->ifd >= 0 && !rt->watching)
        close(rt->ifd);
    while (rt->nentries)
        remove_entry(rt, &rt->entries[rt->nentries - 1]);
    free(rt->entries);
    lua_close(rt->L);
    free(rt);
}

void script_set_notice(struct script_rt *rt, void (*fn)(void *arg, const char *text), void *arg)
{
    rt->notice = fn;
    rt->notice_arg = arg;
}

size_t script_memory(struct script_rt *rt) { return rt->mem; }

static char *answerf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *answerf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s ? s : strdup("out of memory");
}

static int role_of(struct script_rt *rt, const char *user)
{
    const struct staff *s = config_staff(rt->cfg, user);
    return s ? (int)s->role : ROLE_NONE;
}

static const char *roles_text(unsigned mask)
{
    if (mask & ROLE_BIT(ROLE_AGENT))
        return "staff";
    if (mask & ROLE_BIT(ROLE_LEAD))
        return "the lead role";
    return "the admin role";
}

/* ctx and args for a command (protected_push). */
static int push_ctx_args(lua_State *L, void *arg)
{
    api_push_ctx(L, arg);
    lua_pushliteral(L, "args");
    lua_rawget(L, -2);
    return 2;
}

char *script_run_command(struct script_rt *rt, const struct chat_command *cmd)
{
    lua_State *L = rt->L;
    const char *verb = cmd->verb, *args = cmd->args ? cmd->args : "";
    size_t bytes = cmd->raw ? strlen(cmd->raw) : strlen(args);
    char err[1024], scope[600], *answer = NULL;
    struct entry *e = NULL;
    int role;

    if (bytes > MAX_COMMAND_BYTES) {
        log_warn("command refused: too long", "user=%s bytes=%zu", cmd->user_id, bytes);
        return answerf("That command is too long (%zu bytes; the limit is %u).",
                       bytes, MAX_COMMAND_BYTES);
    }
    if (!verb)
        return answerf("Type %s help for the list of commands.", rt->cfg->command);
    for (size_t i = 0; i < rt->nentries; i++)
        if (rt->entries[i].verb && strcmp(rt->entries[i].verb, verb) == 0 &&
            rt->entries[i].ref != LUA_NOREF)
            e = &rt->entries[i];
    if (!e) {
        for (size_t i = 0; i < rt->nentries; i++)
            if (rt->entries[i].verb && strcmp(rt->entries[i].verb, verb) == 0 &&
                rt->entries[i].stopped)
                e = &rt->entries[i];
        answer = e ? answerf("%s %s is not available: it was %s.", rt->cfg->command, verb,
                             e->error ? e->error : "stopped")
                   : answerf("Unknown command \"%s\". Type %s help for the list.", verb,
                             rt->cfg->command);
        goto out;
    }
    role = role_of(rt, cmd->user_id);
    if (!(e->roles & ROLE_BIT(role)) && !(role == ROLE_NONE && strcmp(verb, "help") == 0)) {
        char detail[600];
        snprintf(detail, sizeof detail, "%s %s %s", rt->cfg->command, verb, args);
        desk_audit(rt->desk, 0, cmd->user_id, "denied", detail);
        log_info("command denied", "user=%s verb=%s role=%s", cmd->user_id, verb,
                 role == ROLE_NONE ? "none" : config_role_name((enum staff_role)role));
        answer = role == ROLE_NONE
            ? answerf("Only support staff can use %s %s. Ask an admin to add you to staff.",
                      rt->cfg->command, verb)
            : answerf("%s %s needs %s; you are %s.", rt->cfg->command, verb,
                      roles_text(e->roles), config_role_name((enum staff_role)role));
        goto out;
    }
    /* a copy: vigil.reload() may free the entry while it runs */
    snprintf(scope, sizeof scope, "%s", e->file);
    rt->actor = cmd->user_id;
    rt->scope = scope;
    rt->cmd = cmd;
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);      /* the command table */
    rawfield(L, -1, "run");
    lua_remove(L, -2);                              /* keep run only */
    if (protected_push(L, push_ctx_args, (void *)cmd) < 0) {
        lua_pop(L, 1);                              /* pop run */
        answer = strdup("Stopped: the command could not start (see log).");
    } else if (script_call(rt, 2, 1, "the command", err, sizeof err) != LUA_OK) {
        answer = strdup(err);
    } else {
        if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)
            answer = strdup(lua_tostring(L, -1));
        else
            answer = strdup("Done.");
        lua_pop(L, 1);
    }
    rt->actor = NULL;
    rt->scope = NULL;
    rt->cmd = NULL;
    log_info("command run", "user=%s verb=%s", cmd->user_id, verb);
out:
    return answer ? answer : strdup("out of memory");
}

/* --- hooks for the desk -------------------------------------------------- */

/* Calls hook `name` of every hook file, in file order.  `push_args` pushes
 * the arguments and returns their count.  Returns 1 when a hook returned
 * true. */
static int run_hooks(struct script_rt *rt, const char *name,
                     int (*push_args)(lua_State *L, void *arg), void *arg)
{
    lua_State *L = rt->L;
    int handled = 0;
    for (size_t i = 0; i < rt->nentries; i++) {
        struct entry *e = &rt->entries[i];
        char actor[600], err[1024], file[600];
        const char *prev_actor = rt->actor, *prev_scope = rt->scope;
        int nargs;
        if (!e->is_hook || e->ref == LUA_NOREF)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);
        rawfield(L, -1, name);
        lua_remove(L, -2);
        if (!lua_isfunction(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        /* copies: a hook may reload scripts, which moves or frees entries */
        snprintf(file, sizeof file, "%s", e->file);
        snprintf(actor, sizeof actor, "hook:%s", file + 6);
        rt->actor = actor;
        rt->scope = file;
        nargs = protected_push(L, push_args, arg);
        if (nargs < 0) {
            lua_pop(L, 1);
        } else if (script_call(rt, nargs, 1, name, err, sizeof err) == LUA_OK) {
            handled |= lua_toboolean(L, -1);
            lua_pop(L, 1);
        } else {
            log_error("hook failed", "hook=%s file=%s error=%s", name, file, err);
        }
        rt->actor = prev_actor;
        rt->scope = prev_scope;
    }
    return handled;
}

struct mention_args {
    int64_t ticket;
    const struct mention *m;
    int is_new;
};

static int push_ticket_only(lua_State *L, void *arg)
{
    api_push_ticket(L, *(int64_t *)arg);
    return 1;
}

static int push_mention(lua_State *L, void *arg)
{
    struct mention_args *a = arg;
    char id[24];
    api_push_lazy_ticket(L, a->ticket);
    lua_createtable(L, 0, 6);
    snprintf(id, sizeof id, "%lld", (long long)a->m->id);
    lua_pushstring(L, id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, a->m->text ? a->m->text : "");
    lua_setfield(L, -2, "text");
    lua_pushstring(L, a->m->author_id ? a->m->author_id : "");
    lua_setfield(L, -2, "author_id");
    lua_pushstring(L, a->m->author_handle ? a->m->author_handle : "");
    lua_setfield(L, -2, "handle");
    lua_pushstring(L, a->m->author_name ? a->m->author_name : "");
    lua_setfield(L, -2, "name");
    lua_pushboolean(L, a->is_new);
    lua_setfield(L, -2, "is_new");
    return 2;
}

static int hook_on_mention(void *arg, int64_t ticket_id, const struct mention *m, int is_new)
{
    struct mention_args a = { ticket_id, m, is_new };
    run_hooks(arg, "on_mention", push_mention, &a);
    return 0;
}

static int hook_on_sla_warning(void *arg, int64_t ticket_id)
{
    run_hooks(arg, "on_sla_warning", push_ticket_only, &ticket_id);
    return 0;
}

static int hook_on_sla_breach(void *arg, int64_t ticket_id)
{
    return run_hooks(arg, "on_sla_breach", push_ticket_only, &ticket_id);
}

const struct desk_hooks *script_desk_hooks(struct script_rt *rt)
{
    rt->hooks.on_mention = hook_on_mention;
    rt->hooks.on_sla_warning = hook_on_sla_warning;
    rt->hooks.on_sla_breach = hook_on_sla_breach;
    rt->hooks.arg = rt;
    return &rt->hooks;
}

/* Called by api.c from t:reply: every before_reply hook, in file order. */
void api_before_reply(lua_State *L, int ticket_idx, int text_idx)
{
    struct script_rt *rt = script_rt_of(L);
    ticket_idx = lua_absindex(L, ticket_idx);
    lua_pushvalue(L, text_idx);                       /* the text so far */
    for (size_t i = 0; i < rt->nentries; i++) {
        struct entry *e = &rt->entries[i];
        if (!e->is_hook || e->ref == LUA_NOREF)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);
        rawfield(L, -1, "before_reply");
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

/* --- listing ------------------------------------------------------------ */

char *script_list(struct script_rt *rt)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < rt->nentries; i++) {
        struct entry *e = &rt->entries[i];
        char line[1400];
        int n = snprintf(line, sizeof line, "%-24s %s%s%s\n", e->file,
                         e->error ? (e->ref != LUA_NOREF ? "old version running; " : "") : "ok",
                         e->error ? "error: " : "", e->error ? e->error : "");
        if (n < 0)
            continue;
        if (len + (size_t)n + 1 > cap) {
            char *no;
            while (len + (size_t)n + 1 > cap)
                cap *= 2;
            no = realloc(out, cap);
            if (!no)
                break;
            out = no;
        }
        memcpy(out + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    return out;
}

char **script_verbs(struct script_rt *rt)
{
    char **v = calloc(rt->nentries + 1, sizeof *v);
    size_t n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < rt->nentries; i++)
        if (rt->entries[i].verb && rt->entries[i].ref != LUA_NOREF)
            v[n++] = strdup(rt->entries[i].verb);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    return v;
}

void script_strv_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* --- hot reload ----------------------------------------------------------- */

static void on_inotify(uv_poll_t *h, int status, int events)
{
    struct script_rt *rt = h->data;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int lib_changed = 0;
    ssize_t n;
    (void)events;

    if (status < 0)
        return;
    while ((n = read(rt->ifd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (!ev->len || !valid_file_name(ev->name))
                continue;
            if (ev->wd == rt->wd_scripts || ev->wd == rt->wd_hooks) {
                char file[600];
                snprintf(file, sizeof file, "%s%s", ev->wd == rt->wd_hooks ? "hooks/" : "",
                         ev->name);
                if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                    struct entry *e = find_entry(rt, file);
                    if (e) {
                        log_info("script removed", "file=%s", file);
                        remove_entry(rt, e);
                    }
                } else {
                    load_file(rt, file);
                }
            } else {
                lib_changed = 1;
            }
        }
    }
    /* Modules are loaded per script: a library change reloads every script. */
    if (lib_changed)
        script_load_all(rt);
}

static void watch_tree(struct script_rt *rt, const char *dir, uint32_t mask)
{
    DIR *d;
    struct dirent *de;
    if (inotify_add_watch(rt->ifd, dir, mask) < 0)
        return;
    d = opendir(dir);
    if (!d)
        return;
    while ((de = readdir(d))) {
        char sub[1024];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            watch_tree(rt, sub, mask);
    }
    closedir(d);
}

int script_watch(struct script_rt *rt)
{
    const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;
    char hooks[1024];

    rt->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (rt->ifd < 0) {
        log_warn("cannot watch scripts; reload with :reload", "error=%s", strerror(errno));
        return -1;
    }
    snprintf(hooks, sizeof hooks, "%s/hooks", rt->cfg->scripts_dir);
    mkdir(hooks, 0755);
    rt->wd_scripts = inotify_add_watch(rt->ifd, rt->cfg->scripts_dir, mask);
    rt->wd_hooks = inotify_add_watch(rt->ifd, hooks, mask);
    if (rt->wd_scripts < 0 || rt->wd_hooks < 0) {
        log_warn("cannot watch the scripts directory", "dir=%s error=%s", rt->cfg->scripts_dir,
                 strerror(errno));
        close(rt->ifd);
        rt->ifd = -1;
        return -1;
    }
    watch_tree(rt, rt->cfg->scripts_lib, mask);
    uv_poll_init(rt->loop, &rt->ipoll, rt->ifd);
    rt->ipoll.data = rt;
    uv_poll_start(&rt->ipoll, UV_READABLE, on_inotify);
    rt->watching = 1;
    return 0;
}

static void on_ipoll_closed(uv_handle_t *h)
{
    struct script_rt *rt = h->data;
    close(rt->ifd);
    rt->ifd = -1;
}

void script_unwatch(struct script_rt *rt)
{
    if (!rt->watching)
        return;
    rt->watching = 0;
    uv_poll_stop(&rt->ipoll);
    uv_close((uv_handle_t *)&rt->ipoll, on_ipoll_closed);
}

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
    push_env(L);
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
    if (protected_push(L, push_eval_env, &cmd) < 0) {
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
