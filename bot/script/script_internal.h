/* script_internal.h — what the files of bot/script/ share: the runtime's
 * state, and the calls one file makes into another (script.c runtime and
 * budget, sandbox.c, loader.c, dispatch.c, eval.c, api.c the bindings,
 * bounded.c); nothing outside bot/script/ includes it. */
#ifndef VIGIL_SCRIPT_INTERNAL_H
#define VIGIL_SCRIPT_INTERNAL_H

#include <lua.h>
#include <time.h>

#include "script/script.h"
#include "store/store.h"

#define ROLE_BIT(r) (1u << (r))

/* One file of scripts/ or scripts/hooks/. */
struct entry {
    char *file;          /* "assign.lua", "hooks/sla.lua" */
    char *verb;          /* "assign"; NULL for hooks */
    int is_hook;
    int ref;             /* registry ref of the loaded table; LUA_NOREF if never loaded */
    unsigned roles;      /* ROLE_BIT mask of who may run it */
    char *error;         /* last load error, NULL when the loaded version is current */
    size_t kept;         /* memory it keeps between calls (loader_account_memory) */
    int stopped;         /* unloaded for keeping too much; a save loads it again */
    struct chat_form *form;  /* its declared inputs (form = {…}); NULL: none */
};

struct script_rt {
    lua_State *L;
    uv_loop_t *loop;
    struct desk *desk;
    struct store *store;
    const struct config *cfg;
    struct desk_hooks hooks;

    struct entry *entries;
    size_t nentries;

    /* budgets */
    size_t mem, mem_limit;
    long long used, budget;
    int budget_active, killed;
    int timed_out;                  /* the kill was the time budget's */
    int big;                        /* this invocation allocated big blocks */
    double time_budget;             /* seconds per invocation */
    struct timespec deadline;       /* CLOCK_MONOTONIC, set at depth 0 */
    int hook_off;                   /* benchmarks: no count hook (script_set_budget_hook) */

    /* who and what is running now (never taken from script-visible tables) */
    const char *actor;            /* staff id, or "hook:<file>" */
    const char *scope;            /* kv scope: the running script's file */
    const struct chat_command *cmd;
    int depth;                    /* nested invocations (hooks inside commands) */
    int last_failed;              /* the last command was refused or raised (script_last_failed) */

    /* inotify */
    int ifd, wd_scripts, wd_hooks;
    uv_poll_t ipoll;
    int watching;

    void (*notice)(void *arg, const char *text);
    void *notice_arg;
    unsigned long errseq;
};

/* The runtime of a Lua state (stored in its extra space). */
struct script_rt *script_rt_of(lua_State *L);

/* api.c */
void api_open(lua_State *L);
/* api_hold.c: adds issue 18's methods (undo, unsend, send_held, approve,
 * reject) to the ticket class. */
void api_hold_open(lua_State *L);
/* api.c: the public text of a reply in argument 2 of a ticket method
 * (before_reply hooks, told `kind`; signature; X's length rule).  Pushes
 * it and returns it, or raises a user error. */
const char *api_public_text(lua_State *L, const char *kind);
/* Pushes the ticket `id` as a script-visible table; raises a user error if
 * there is none. */
void api_push_ticket(lua_State *L, int64_t id);
/* The same ticket, filled from the store only when a field is first read
 * (on_mention's: see api.c). */
void api_push_lazy_ticket(lua_State *L, int64_t id);
/* Pushes a new ctx table for `cmd` (verb, text, args, channel, user). */
void api_push_ctx(lua_State *L, const struct chat_command *cmd);
/* Pushes the kv object of script file `scope` (ctx.kv, and a script's
 * global kv): it reads and writes that file's keys only. */
void api_push_kv(lua_State *L, const char *scope);
/* api_query.c: vigil.tickets, count, presence, available, set_away,
 * set_back, set into the table at the stack top. */
void api_query_open(lua_State *L);
/* api_time.c: vigil.date, vigil.time (the desk's time zone), set into
 * the table at the stack top. */
void api_time_open(lua_State *L);
/* Pushes a user table { id, name, initials, role } for a chat user id. */
void api_push_user(lua_State *L, const char *id);
/* Raises a user-facing error: the message is shown as it is. */
int api_fail(lua_State *L, const char *msg);
/* Returns the user-facing message if the error at `idx` is one, else NULL. */
const char *api_user_error(lua_State *L, int idx);
/* me, @name, U123 -> a staff entry (borrowed from the config), or NULL. */
const struct staff *api_resolve_user(lua_State *L, const char *ref);

/* api_search.c: adds ctx:find to the ctx methods (after api.c made them). */
void api_search_open(lua_State *L);

/* script.c: charges `n` instructions of work done in C (a pattern match,
 * a copy) to the running invocation and stops it, as the count hook does,
 * when it is over its instruction or time budget.  Raises; a no-op when no
 * script runs. */
void script_charge(lua_State *L, long long n);

/* bounded.c: replaces the real string and table functions whose C-side
 * cost is not linear in VM instructions by charged versions. */
void bounded_open(lua_State *L);

/* script.c: calls the function at the stack top with `nargs` args below it,
 * under the budget, in protected mode; pops them and pushes `nres` results
 * (or nothing on error).  Logs the error with an id; fills `errmsg` with the
 * user-facing text.  Returns the Lua status. */
int script_call(struct script_rt *rt, int nargs, int nres, const char *what,
                char *errmsg, size_t errlen);

/* script.c: pushes t[k] of the table at `idx` without metamethods;
 * returns its type. */
int script_rawfield(lua_State *L, int idx, const char *k);
/* script.c: runs fn(L, arg) in protected mode; returns how many values it
 * pushed, or -1 (nothing pushed, the error logged). */
int script_protected_push(lua_State *L, int (*fn)(lua_State *L, void *arg), void *arg);

/* sandbox.c: builds the template every script environment is copied from
 * (once, in script_new). */
void sandbox_open(lua_State *L);
/* sandbox.c: pushes a new environment for one script (a copy of the
 * template, with its own require cache). */
void sandbox_push_env(lua_State *L);
/* sandbox.c: reads a script or module file of at most 1 MiB.  Returns new
 * (caller frees) and its length in `*len`, or NULL with `err` filled. */
char *sandbox_read_file(const char *path, size_t *len, char *err, size_t errlen);
/* sandbox.c: hooks{...}, the check a hook file's table goes through. */
int sandbox_check_hooks(lua_State *L);
/* sandbox.c: raises the load error "<where>: <fmt ...>" the admin reads
 * whole (command{}, hooks{} and their args). */
int sandbox_load_fail(lua_State *L, const char *fmt, ...);

/* args.c: command{...}'s check (as a lua_CFunction, the table at 1): its
 * keys and its args spec.  Raises with the reason; returns 0. */
int args_check_command(lua_State *L);
/* args.c: args_set_usage(table, verb), a lua_CFunction (call it
 * protected): gives the command table the usage its args spec implies,
 * "assign <ticket> [@user|me]", when it has none. */
int args_set_usage(lua_State *L);
/* args.c: when the command table at cmd_idx declares args, makes the args
 * table at args_idx resolve the declared names on first read, answering
 * bad input with "Usage: <umbrella> <usage> — why".  May raise (memory). */
void args_attach(lua_State *L, int cmd_idx, int ctx_idx, int args_idx, const char *umbrella);

/* loader.c: after an invocation that started with `before` bytes in use,
 * charges what it kept to the running script, stopping a script that
 * keeps too much. */
void loader_account_memory(struct script_rt *rt, size_t before);
/* loader.c: forgets entry `e` (its loaded table, its file). */
void loader_remove_entry(struct script_rt *rt, struct entry *e);
/* Forms (issue 19, api_form.c): ctx.form for a submitted form. */
void api_form_push(lua_State *L, const struct chat_command *cmd);

#endif
