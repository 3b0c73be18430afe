/* loader.c — the scripts on disk: one entry per file of scripts/ and
 * scripts/hooks/, loading that compiles first and keeps the old version on
 * any error (Prosody's rule), the memory each script keeps between calls,
 * the :scripts listing, and hot reload through inotify. */
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
#include <unistd.h>

#include "chat/command.h"
#include "core/buf.h"
#include "core/log.h"

#define MEM_CHECK (1u << 20)    /* heap growth in one call that triggers accounting */

/* A script's environment, with its own kv (scoped to the file `arg`). */
static int push_env_fn(lua_State *L, void *arg)
{
    sandbox_push_env(L);
    api_push_kv(L, arg);
    lua_setfield(L, -2, "kv");
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

void loader_remove_entry(struct script_rt *rt, struct entry *e)
{
    luaL_unref(rt->L, LUA_REGISTRYINDEX, e->ref);
    free(e->file);
    free(e->verb);
    free(e->error);
    chat_form_free(e->form);
    *e = rt->entries[--rt->nentries];
}

static int valid_file_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 5 || strcmp(name + n - 4, ".lua") != 0 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n - 4; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              name[i] == '_' || name[i] == '-' ||
              (name[i] == '!' && i == n - 5 && i > 0)))   /* reply!: a forced variant */
            return 0;
    return 1;
}

static unsigned parse_roles(lua_State *L, int idx, char *err, size_t errlen)
{
    unsigned mask = 0;
    if (lua_isnil(L, idx))
        return ROLE_BIT(ROLE_TRAINEE) | ROLE_BIT(ROLE_AGENT) | ROLE_BIT(ROLE_LEAD) |
               ROLE_BIT(ROLE_ADMIN);   /* staff, trainees included (issue 18) */
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *r = lua_tostring(L, idx);
        int min = strcmp(r, "none") == 0 ? ROLE_NONE : config_parse_role(r);
        if (min < 0) {
            snprintf(err, errlen, "roles: unknown role \"%s\" (trainee, agent, lead, admin)", r);
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
void loader_account_memory(struct script_rt *rt, size_t before)
{
    struct entry *e, *big = NULL;
    size_t total = 0;
    long long kept;

    if (rt->mem < before + MEM_CHECK || !rt->scope)
        return;
    e = find_entry(rt, rt->scope);
    if (!e)
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

/* A command's `form = { {name=, kind=, label=, max=, from=, fills=, verb=, options=,
 * optional=}, … }` (issue 19) read from the table at `idx` into a new
 * chat_form (chat_form_free) for `file` ("reply.lua": verb reply), choices
 * not resolved yet.  *out is NULL when
 * the script declares none.  Returns 0, or -1 with the reason in `err`. */
static int loader_read_form(lua_State *L, int idx, const char *file, struct chat_form **out,
                            char *err, size_t errlen)
{
    static const char *const kinds[] = { "text", "choice", "flag", "staff" };
    struct chat_form *f = NULL;
    size_t n;
    int top = lua_gettop(L);

    *out = NULL;
    script_rawfield(L, idx, "form");
    if (lua_isnil(L, -1))
        goto done;
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "form must be a list of fields, got %s", luaL_typename(L, -1));
        goto fail;
    }
    n = lua_rawlen(L, -1);
    f = calloc(1, sizeof *f);
    if (!f)
        goto oom;
    f->fields = calloc(n ? n : 1, sizeof *f->fields);
    f->verb = strndup(file, strlen(file) - 4);
    if (!f->fields || !f->verb)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        struct chat_field *d = &f->fields[i];
        const char *name, *kind, *label;
        lua_rawgeti(L, top + 1, (lua_Integer)i + 1);          /* the field */
        if (!lua_istable(L, -1)) {
            snprintf(err, errlen, "form field %zu must be a table", i + 1);
            goto fail;
        }
        script_rawfield(L, -1, "name");
        script_rawfield(L, -2, "kind");
        script_rawfield(L, -3, "label");
        name = lua_tostring(L, -3);
        kind = lua_isnil(L, -2) ? "text" : lua_tostring(L, -2);
        label = lua_tostring(L, -1);
        if (!name || !*name || strspn(name, "abcdefghijklmnopqrstuvwxyz_") != strlen(name)) {
            snprintf(err, errlen, "form field %zu needs a name of lower-case letters", i + 1);
            goto fail;
        }
        d->kind = (enum chat_field_kind)-1;
        for (size_t k = 0; kind && k < sizeof kinds / sizeof kinds[0]; k++)
            if (strcmp(kind, kinds[k]) == 0)
                d->kind = (enum chat_field_kind)k;
        if ((int)d->kind < 0) {
            snprintf(err, errlen, "form field %s: kind must be text, choice, flag or staff",
                     name);
            goto fail;
        }
        f->nfields++;
        d->name = strdup(name);
        d->label = strdup(label ? label : name);
        if (!d->name || !d->label)
            goto oom;
        lua_pop(L, 3);                                      /* name, kind, label */
        script_rawfield(L, -1, "max");
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "reply") == 0) {
            d->max = 280;                                   /* X's weighted reply limit */
            d->weighted = 1;
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0 &&
                   lua_tointeger(L, -1) <= 3000) {
            d->max = (int)lua_tointeger(L, -1);
        } else if (!lua_isnil(L, -1)) {
            snprintf(err, errlen, "form field %s: max must be 1-3000 or \"reply\"", name);
            goto fail;
        }
        lua_pop(L, 1);
        script_rawfield(L, -1, "optional");
        d->optional = lua_toboolean(L, -1) || d->kind == CHAT_FIELD_FLAG;
        lua_pop(L, 1);
        script_rawfield(L, -1, "from");
        d->from = lua_type(L, -1) == LUA_TSTRING ? strdup(lua_tostring(L, -1)) : NULL;
        if (lua_type(L, -1) == LUA_TSTRING && !d->from)
            goto oom;
        lua_pop(L, 1);
        script_rawfield(L, -1, "fills");
        d->fills = lua_type(L, -1) == LUA_TSTRING ? strdup(lua_tostring(L, -1)) : NULL;
        if (lua_type(L, -1) == LUA_TSTRING && !d->fills)
            goto oom;
        lua_pop(L, 1);
        script_rawfield(L, -1, "verb");
        d->verb = lua_type(L, -1) == LUA_TSTRING ? strdup(lua_tostring(L, -1)) : NULL;
        if (lua_type(L, -1) == LUA_TSTRING && !d->verb)
            goto oom;
        lua_pop(L, 1);
        script_rawfield(L, -1, "options");                  /* static choices */
        if (lua_istable(L, -1)) {
            size_t no = lua_rawlen(L, -1);
            d->options = calloc(no + 1, sizeof *d->options);
            d->labels = calloc(no + 1, sizeof *d->labels);
            if (!d->options || !d->labels)
                goto oom;
            for (size_t k = 0; k < no; k++) {
                lua_rawgeti(L, -1, (lua_Integer)k + 1);
                if (lua_type(L, -1) != LUA_TSTRING) {
                    snprintf(err, errlen, "form field %s: options must be strings", name);
                    goto fail;
                }
                d->options[k] = strdup(lua_tostring(L, -1));
                d->labels[k] = strdup(lua_tostring(L, -1));
                d->noptions++;
                lua_pop(L, 1);
                if (!d->options[k] || !d->labels[k])
                    goto oom;
            }
        }
        lua_pop(L, 2);                                      /* options, the field */
    }
done:
    lua_settop(L, top);
    *out = f;
    return 0;
oom:
    snprintf(err, errlen, "out of memory reading the form");
fail:
    lua_settop(L, top);
    chat_form_free(f);
    return -1;
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
    struct chat_form *form = NULL;
    unsigned roles = 0;
    size_t len;
    char *src;
    int top = lua_gettop(L);

    snprintf(path, sizeof path, "%s/%s", rt->cfg->scripts_dir, file);
    src = sandbox_read_file(path, &len, err, sizeof err);
    if (!src)
        goto fail;
    snprintf(chunk, sizeof chunk, "@%s", path);
    if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) {
        snprintf(err, sizeof err, "%s", lua_tostring(L, -1));
        free(src);
        goto fail;
    }
    free(src);
    if (script_protected_push(L, push_env_fn, (void *)file) < 0) {
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
        lua_pushcfunction(L, sandbox_check_hooks);
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {   /* a plain table, not from hooks{} */
            const char *why = api_user_error(L, -1);
            snprintf(err, sizeof err, "%s: %s", path,
                     why ? why : lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
            goto fail;
        }
    } else {
        script_rawfield(L, -1, "run");
        if (!lua_isfunction(L, -1)) {
            snprintf(err, sizeof err, "%s: the command table has no run function", path);
            goto fail;
        }
        lua_pop(L, 1);
        {
            const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
            lua_pushcfunction(L, args_set_usage);   /* from args, when it has no usage */
            lua_pushvalue(L, -2);
            lua_pushlstring(L, base, strlen(base) - 4);
            if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
                snprintf(err, sizeof err, "%s: %s", path, lua_tostring(L, -1));
                goto fail;
            }
        }
        script_rawfield(L, -1, "roles");
        roles = parse_roles(L, lua_gettop(L), err, sizeof err);
        lua_pop(L, 1);
        if (!roles)
            goto fail;
        if (loader_read_form(L, lua_gettop(L), file, &form, err, sizeof err) < 0)
            goto fail;
    }
    e = find_entry(rt, file);
    if (!e)
        e = add_entry(rt, file, is_hook);
    if (!e) {
        chat_form_free(form);
        goto fail;
    }
    /* The swap: later invocations get the new table; one already running
     * holds the old one on its stack and finishes with it. */
    luaL_unref(L, LUA_REGISTRYINDEX, e->ref);
    e->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    e->roles = roles;
    chat_form_free(e->form);
    e->form = form;
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
    for (de = readdir(d); de; de = readdir(d)) {
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
                loader_remove_entry(rt, e);
                return 0;
            }
            return -1;
        }
    }
    return load_file(rt, file) ? 1 : 0;
}

/* --- listing ------------------------------------------------------------ */

char *script_list(struct script_rt *rt)
{
    struct buf out = { 0 };
    for (size_t i = 0; i < rt->nentries; i++) {
        struct entry *e = &rt->entries[i];
        buf_printf(&out, "%-24s %s%s%s\n", e->file,
                   e->error ? (e->ref != LUA_NOREF ? "old version running; " : "") : "ok",
                   e->error ? "error: " : "", e->error ? e->error : "");
    }
    return buf_take(&out);
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
    for (n = read(rt->ifd, buf, sizeof buf); n > 0; n = read(rt->ifd, buf, sizeof buf)) {
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
                        loader_remove_entry(rt, e);
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
    for (de = readdir(d); de; de = readdir(d)) {
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

/* --- check-config (issue 20) ------------------------------------------- */

/* command{} in the checker's bare state: the same check the runtime makes
 * when a file loads (args.c: unknown keys, the args spec), so a key outside
 * the known ones (`role = "admin"` for `roles` would leave the command open
 * to everyone) is caught before a deploy. */
static int check_command(lua_State *L)
{
    args_check_command(L);
    lua_settop(L, 1);
    return 1;
}

static int check_identity(lua_State *L)
{
    lua_settop(L, 1);
    return 1;
}

/* require() in the checker: a table whose every field is a no-op function,
 * so a file may take helpers at load time without the real modules. */
static int check_noop(lua_State *L)
{
    (void)L;
    return 0;
}

static int check_index(lua_State *L)
{
    lua_pushcfunction(L, check_noop);
    return 1;
}

static int check_require(lua_State *L)
{
    lua_newtable(L);                          /* the module */
    lua_newtable(L);                          /* its metatable */
    lua_pushcfunction(L, check_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);                  /* pops metatable */
    return 1;
}

static void check_budget(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, check_budget, LUA_MASKCOUNT, 1);
    luaL_error(L, "takes too long to load");
}

/* Evaluates one command file in a bare state whose command{} only checks
 * keys.  Anything else a file does at load time (require, the API) is not
 * there: such errors are left to the real loader; only syntax errors and
 * command{} mistakes are reported. */
static void check_file(const char *dir, const char *name, struct buf *out, size_t *n)
{
    char path[1200], chunk[1210], err[512];
    lua_State *L = luaL_newstate();
    size_t len;
    char *src;

    if (!L)
        return;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    src = sandbox_read_file(path, &len, err, sizeof err);
    if (!src) {
        buf_printf(out, "%s\n", err);
        (*n)++;
        goto out;
    }
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    lua_settop(L, 0);
    lua_register(L, "command", check_command);
    lua_register(L, "hooks", check_identity);
    lua_register(L, "require", check_require);
    snprintf(chunk, sizeof chunk, "@%s", path);
    if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK) {
        buf_printf(out, "%s\n", lua_tostring(L, -1));
        (*n)++;
    } else {
        lua_sethook(L, check_budget, LUA_MASKCOUNT, 10000000);
        if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
            /* args.c raises its load errors as user errors (a table) */
            const char *msg = api_user_error(L, -1);
            if (!msg)
                msg = lua_tostring(L, -1);
            if (msg && strstr(msg, "command{}: ")) {
                buf_printf(out, "%s\n", msg);
                (*n)++;
            }
        }
    }
    free(src);
out:
    lua_close(L);
}

size_t script_check_dir(const char *dir, char **report)
{
    struct buf out = { .max = 1u << 20 };
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;

    *report = NULL;
    if (!d)
        return 0;   /* config_check_shapes reports a missing directory */
    for (de = readdir(d); de; de = readdir(d)) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 4, ".lua") != 0 || de->d_name[0] == '.')
            continue;
        if (!valid_file_name(de->d_name)) {
            buf_printf(&out, "%s/%s: a command's file name must be lower-case letters, "
                       "digits, - or _ (it is the verb), so this file is never loaded\n",
                       dir, de->d_name);
            n++;
            continue;
        }
        check_file(dir, de->d_name, &out, &n);
    }
    closedir(d);
    *report = n ? buf_take(&out) : NULL;
    buf_free(&out);
    return n;
}
