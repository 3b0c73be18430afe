/* dispatch.c — a command from chat to its script (who may run it, its ctx
 * and args, its answer) and the desk's hooks (on_mention, on_sla_warning,
 * on_sla_breach) to every hook file, in file order. */
#include "script/script_internal.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define MAX_COMMAND_BYTES 16384u   /* a reply is 280 characters; 16 KB is generous */

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

struct ctx_args {
    const struct chat_command *cmd;
    int ref;                       /* the command table: its declared args */
};

/* ctx and args for a command (protected_push); declared args resolve on
 * first read (args.c). */
static int push_ctx_args(lua_State *L, void *arg)
{
    const struct ctx_args *a = arg;
    api_push_ctx(L, a->cmd);
    lua_pushliteral(L, "args");
    lua_rawget(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->ref);
    args_attach(L, -1, -3, -2, script_rt_of(L)->cfg->command);
    lua_pop(L, 1);                                  /* the command table */
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

    rt->last_failed = 1;   /* until the script returns normally */
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
        if (cmd->failed)
            *cmd->failed = 1;
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
        if (cmd->failed)
            *cmd->failed = 1;
        goto out;
    }
    /* a copy: vigil.reload() may free the entry while it runs */
    snprintf(scope, sizeof scope, "%s", e->file);
    rt->actor = cmd->user_id;
    rt->scope = scope;
    rt->cmd = cmd;
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->ref);      /* the command table */
    script_rawfield(L, -1, "run");
    lua_remove(L, -2);                              /* keep run only */
    if (script_protected_push(L, push_ctx_args, &(struct ctx_args){ cmd, e->ref }) < 0) {
        lua_pop(L, 1);                              /* pop run */
        answer = strdup("Stopped: the command could not start (see log).");
    } else if (script_call(rt, 2, 1, "the command", err, sizeof err) != LUA_OK) {
        answer = strdup(err);
        if (cmd->failed)
            *cmd->failed = 1;                       /* a modal shows it on the field */
    } else {
        rt->last_failed = 0;
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

int script_last_failed(struct script_rt *rt) { return rt->last_failed; }

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
        script_rawfield(L, -1, name);
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
        nargs = script_protected_push(L, push_args, arg);
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
    struct mention_args a = { .ticket = ticket_id, .m = m, .is_new = is_new };
    run_hooks(arg, "on_mention", push_mention, &a);
    return 0;
}

struct sla_args {
    int64_t ticket;
    const struct desk_sla *sla;
};

/* (ticket, { target =, due_at =, left =, warn = }) for the SLA hooks. */
static int push_sla(lua_State *L, void *arg)
{
    struct sla_args *a = arg;
    api_push_ticket(L, a->ticket);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, a->sla->target);
    lua_setfield(L, -2, "target");
    lua_pushinteger(L, a->sla->due_at);
    lua_setfield(L, -2, "due_at");
    lua_pushinteger(L, a->sla->left);
    lua_setfield(L, -2, "left");
    lua_pushinteger(L, a->sla->warn);
    lua_setfield(L, -2, "warn");
    return 2;
}

static int hook_on_sla_warning(void *arg, int64_t ticket_id, const struct desk_sla *sla)
{
    struct sla_args a = { ticket_id, sla };
    run_hooks(arg, "on_sla_warning", push_sla, &a);
    return 0;
}

static int hook_on_sla_breach(void *arg, int64_t ticket_id, const struct desk_sla *sla)
{
    struct sla_args a = { ticket_id, sla };
    return run_hooks(arg, "on_sla_breach", push_sla, &a);
}

const struct desk_hooks *script_desk_hooks(struct script_rt *rt)
{
    rt->hooks.on_mention = hook_on_mention;
    rt->hooks.on_sla_warning = hook_on_sla_warning;
    rt->hooks.on_sla_breach = hook_on_sla_breach;
    rt->hooks.arg = rt;
    return &rt->hooks;
}
