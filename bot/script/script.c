/* script.c — the Lua runtime: one state and its life (script_new,
 * script_free), and the budgets every invocation runs under: an
 * instruction budget enforced by a count hook that pcall cannot swallow
 * (Redis's trick: once over, the hook fires on every instruction and
 * raises again), a wall-clock deadline, and a memory cap in the allocator.
 * script_call is the one way into Lua.  The sandbox is sandbox.c, loading
 * and hot reload loader.c, commands and hooks dispatch.c, :lua eval.c.
 * Knows the desk and the store; never a wire format. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define HOOK_STEP 1000          /* instructions between budget checks */
#define HOOK_STEP_BIG 50        /* ... once the invocation handles big strings */
#define BIG_ALLOC (64u << 10)   /* an allocation this size is a copy of that size */

static int budget_sentinel;     /* its address is the "over budget" error */

static void count_hook(lua_State *L, lua_Debug *ar);

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
            loader_account_memory(rt, mem0);
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
        loader_account_memory(rt, mem0);
    }
    return status;
}

/* Pushes t[k] without metamethods: C never runs script code by reading a
 * script's table (an erroring __index outside a protected call is a Lua
 * panic: abort). */
int script_rawfield(lua_State *L, int idx, const char *k)
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

int script_protected_push(lua_State *L, int (*fn)(lua_State *L, void *arg), void *arg)
{
    struct push_req r = { .fn = fn, .arg = arg };
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
    sandbox_open(rt->L);
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
        loader_remove_entry(rt, &rt->entries[rt->nentries - 1]);
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
