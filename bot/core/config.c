/* config.c — loads config/vigil.lua in a Lua sandbox and validates it
 * against the schema below.  The schema names every section, Slack's and
 * X's included, with its keys' types, defaults (the APIs' base URLs, X's
 * prices) and the checks that need only the file (x.handle required for
 * source = "x", x.max_results 5..100); nothing here acts on a value: no
 * tickets, no HTTP, no wire format. */
#include "core/config.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

enum ktype { K_SECTION, K_STR, K_NUM, K_INT, K_STAFF, K_LIST,
             K_SLA_WARN, K_SLA_NOTIFY, K_SLA_HOURS, K_SLA_TEAMS };

/* Schema: every key vigil accepts.  `secret` keys are redacted in logs even
 * when written inline (they should come from env()). */
struct key {
    const char *path;
    enum ktype type;
    size_t off;
    int secret;
};

#define S(p) { p, K_SECTION, 0, 0 }
#define STR(p, f) { p, K_STR, offsetof(struct config, f), 0 }
#define SECRET(p, f) { p, K_STR, offsetof(struct config, f), 1 }
#define NUM(p, f) { p, K_NUM, offsetof(struct config, f), 0 }
#define INT(p, f) { p, K_INT, offsetof(struct config, f), 0 }
#define LIST(p, f) { p, K_LIST, offsetof(struct config, f), 0 }   /* {"a", "b"} -> "a,b" */

static const struct key schema[] = {
    STR("chat", chat), STR("source", source), STR("command", command),
    STR("log_level", log_level),
    S("store"), STR("store.path", store_path), NUM("store.alert_after", store_alert_after),
    S("scripts"), STR("scripts.dir", scripts_dir), STR("scripts.lib", scripts_lib),
    NUM("scripts.instructions", script_instructions),
    NUM("scripts.memory_mb", script_memory_mb),
    NUM("scripts.time_budget", script_time_budget),
    S("admin"), STR("admin.socket", admin_socket), STR("admin.user", admin_user),
    NUM("admin.idle_timeout", admin_idle_timeout),
    S("channels"), STR("channels.mentions", channel_mentions),
    STR("channels.escalations", channel_escalations),
    STR("channels.on_duty", channel_on_duty),
    { "staff", K_STAFF, 0, 0 },
    S("sla"), NUM("sla.first_response", sla_first_response),
    NUM("sla.warn_before", sla_warn_before),
    NUM("sla.check_interval", sla_check_interval),
    /* SLA policy (issue 17): follow-up target, warnings, pings, business hours */
    NUM("sla.follow_up", sla_follow_up),
    { "sla.warn", K_SLA_WARN, 0, 0 }, { "sla.notify", K_SLA_NOTIFY, 0, 0 },
    { "sla.hours", K_SLA_HOURS, offsetof(struct config, sla_hours), 0 },
    { "sla.teams", K_SLA_TEAMS, 0, 0 },
    S("reply"), STR("reply.signature", reply_signature),
    /* issue 18: the undo window and the collision guard */
    NUM("reply.hold", reply_hold), NUM("reply.collision_window", reply_collision_window),
    S("approval"), LIST("approval.roles", approval_roles),
    LIST("approval.people", approval_people),
    S("replay"), STR("replay.file", replay_file), NUM("replay.interval", replay_interval),
    S("outbox"), NUM("outbox.x_rate", outbox_x_rate), NUM("outbox.max_backoff", outbox_max_backoff),
    INT("outbox.max_attempts", outbox_max_attempts),
    NUM("outbox.alert_after", outbox_alert_after),
    S("slack"), SECRET("slack.app_token", slack.app_token),
    SECRET("slack.bot_token", slack.bot_token), STR("slack.api_url", slack.api_url),
    NUM("slack.give_up_after", slack.give_up_after),
    NUM("slack.ping_interval", slack.ping_interval),
    NUM("slack.idle_timeout", slack.idle_timeout),
    NUM("slack.post_rate", slack.post_rate),
    INT("slack.digest_threshold", slack.digest_threshold),
    /* commands in a ticket's thread (issue 19) */
    STR("slack.thread_prefix", slack.thread_prefix),
    S("x"), STR("x.api_url", x.api_url), STR("x.handle", x.handle),
    STR("x.user_id", x.user_id), SECRET("x.bearer_token", x.bearer_token),
    S("x.oauth1"), SECRET("x.oauth1.consumer_key", x.oauth1.consumer_key),
    SECRET("x.oauth1.consumer_secret", x.oauth1.consumer_secret),
    SECRET("x.oauth1.token", x.oauth1.token),
    SECRET("x.oauth1.token_secret", x.oauth1.token_secret),
    S("x.oauth2"), STR("x.oauth2.client_id", x.oauth2.client_id),
    SECRET("x.oauth2.client_secret", x.oauth2.client_secret),
    SECRET("x.oauth2.access_token", x.oauth2.access_token),
    SECRET("x.oauth2.refresh_token", x.oauth2.refresh_token),
    NUM("x.poll_interval", x.poll_interval), INT("x.max_results", x.max_results),
    INT("x.backfill", x.backfill), INT("x.reach", x.reach),
    S("x.prices"), NUM("x.prices.owned_read", x.prices.owned_read),
    NUM("x.prices.post_read", x.prices.post_read), NUM("x.prices.user_read", x.prices.user_read),
    NUM("x.prices.reply", x.prices.reply), NUM("x.prices.post", x.prices.post),
    NUM("x.prices.dm", x.prices.dm), NUM("x.prices.dm_event_read", x.prices.dm_event_read),
    /* auto-assignment */
    S("autoassign"), STR("autoassign.mode", autoassign_mode), INT("autoassign.cap", autoassign_cap),
    /* record and replay (issue 21): journal what comes in */
    S("record"), STR("record.dir", record_dir),
};
#define NKEYS (sizeof schema / sizeof schema[0])

static const char *const role_names[] = { "none", "trainee", "agent", "lead", "admin" };

const char *config_role_name(enum staff_role role) { return role_names[role]; }

int config_parse_role(const char *name)
{
    for (int i = ROLE_TRAINEE; i <= ROLE_ADMIN; i++)
        if (strcmp(name, role_names[i]) == 0)
            return i;
    return -1;
}

/* Whether comma-separated `list` holds `item`. */
static int in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "")
        if (strncmp(p, item, n) == 0 && (p[n] == ',' || !p[n]))
            return 1;
    return 0;
}

int config_needs_approval(const struct config *c, const char *id)
{
    const struct staff *s = config_staff(c, id);
    return s && (in_list(c->approval_people, s->id) ||
                 in_list(c->approval_roles, role_names[s->role]));
}

const struct staff *config_staff(const struct config *c, const char *id)
{
    for (size_t i = 0; i < c->nstaff; i++)
        if (strcmp(c->staff[i].id, id) == 0)
            return &c->staff[i];
    return NULL;
}

/* --- load state -------------------------------------------------------- */

struct loader {
    lua_State *L;
    struct config *c;
    char *err;
    size_t errlen;
    int failed;
    int inline_secret;   /* a secret written in the file, not read with env() */
    int sla_warn_set;    /* sla.warn was written (it replaces sla.warn_before) */
};

static void fail(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct loader *ld, int line, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (ld->failed)
        return;   /* the first error is the one to fix */
    ld->failed = 1;
    if (line > 0)
        n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->c->path, line);
    else
        n = snprintf(ld->err, ld->errlen, "%s: ", ld->c->path);
    if (n < 0 || (size_t)n >= ld->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof cur);
    }
    return prev[lb];
}

static const struct key *find_key(const char *path)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(schema[i].path, path) == 0)
            return &schema[i];
    return NULL;
}

static const char *suggest(const char *path)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < NKEYS; i++) {
        size_t d = edit_distance(path, schema[i].path);
        if (d < bestd) {
            bestd = d;
            best = schema[i].path;
        }
    }
    return best;
}

/* Line where a top-level key was assigned, recorded by the env's __newindex. */
static int key_line(lua_State *L, const char *top)
{
    int line;
    lua_getfield(L, LUA_REGISTRYINDEX, "vigil.config.lines");
    lua_getfield(L, -1, top);
    line = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);   /* pop line, lines table */
    return line;
}

static char **str_slot(struct config *c, const struct key *k)
{
    return (char **)((char *)c + k->off);
}

/* --- service: paths, reload, shapes (issue 20) -------------------------- */

/* The keys that name files.  A relative one written in a config resolves
 * against the config file's directory, so `vigil -c /etc/vigil/vigil.lua`
 * means the same files from any working directory. */
static const char *const path_keys[] = {
    "store.path", "scripts.dir", "scripts.lib", "admin.socket", "replay.file", NULL,
};

/* Returns new: `value`, joined to the directory of `config_path` when `key`
 * names a file and `value` is relative. */
static char *resolve_path(const char *config_path, const char *key, const char *value)
{
    const char *slash = strrchr(config_path, '/');
    char *out;
    int is_path = 0;

    for (int i = 0; path_keys[i]; i++)
        is_path |= strcmp(path_keys[i], key) == 0;
    if (!is_path || value[0] == '/' || !value[0] || !slash)
        return strdup(value);
    if (asprintf(&out, "%.*s/%s", (int)(slash - config_path), config_path, value) < 0)
        return NULL;
    return out;
}

/* Returns new: "$NAME/file" for the first directory in $NAME (systemd
 * passes a colon-separated list), else `fallback`. */
static char *systemd_dir_path(const char *name, const char *file, const char *fallback)
{
    const char *v = getenv(name);
    char *out;
    if (!v || v[0] != '/')
        return strdup(fallback);
    if (asprintf(&out, "%.*s/%s", (int)strcspn(v, ":"), v, file) < 0)
        return NULL;
    return out;
}

static int set_string(struct loader *ld, const struct key *k, int line)
{
    char **slot = str_slot(ld->c, k);
    if (lua_type(ld->L, -1) != LUA_TSTRING) {
        fail(ld, line, "key '%s' must be a string, got %s", k->path,
             luaL_typename(ld->L, -1));
        return -1;
    }
    free(*slot);
    *slot = resolve_path(ld->c->path, k->path, lua_tostring(ld->L, -1));
    if (k->secret) {
        log_add_secret(*slot);
        lua_getfield(ld->L, LUA_REGISTRYINDEX, "vigil.config.envvals");
        lua_getfield(ld->L, -1, *slot);
        if (!lua_toboolean(ld->L, -1))
            ld->inline_secret = 1;
        lua_pop(ld->L, 2);   /* pop flag, envvals */
    }
    return 0;
}

/* issue 18: a list of names ({"trainee", "U3"}) kept as "trainee,U3". */
static int set_list(struct loader *ld, const struct key *k, int line)
{
    lua_State *L = ld->L;
    char **slot = (char **)((char *)ld->c + k->off), *joined = NULL;
    size_t len = 0;

    if (!lua_istable(L, -1)) {
        fail(ld, line, "key '%s' must be a list of names, like {\"trainee\"}", k->path);
        return -1;
    }
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
        const char *v = lua_tostring(L, -1);
        char *grown;
        if (lua_type(L, -1) != LUA_TSTRING || !*v || strchr(v, ',')) {
            fail(ld, line, "key '%s' must be a list of names, like {\"trainee\"}", k->path);
            lua_pop(L, 1);                   /* pop the item */
            free(joined);
            return -1;
        }
        size_t room = len + strlen(v) + 2;   /* a comma, the item, the NUL */
        grown = realloc(joined, room);
        if (!grown) {
            lua_pop(L, 1);
            free(joined);
            return -1;
        }
        joined = grown;
        len += (size_t)snprintf(joined + len, room - len, "%s%s", len ? "," : "", v);
        lua_pop(L, 1);                       /* pop the item */
    }
    lua_pop(L, 1);                           /* pop the nil */
    free(*slot);
    *slot = joined ? joined : strdup("");
    return 0;
}

static int set_number(struct loader *ld, const struct key *k, int line)
{
    if (lua_type(ld->L, -1) != LUA_TNUMBER) {
        fail(ld, line, "key '%s' must be a number, got %s", k->path,
             luaL_typename(ld->L, -1));
        return -1;
    }
    if (k->type == K_INT) {
        if (!lua_isinteger(ld->L, -1)) {
            fail(ld, line, "key '%s' must be a whole number", k->path);
            return -1;
        }
        *(int *)((char *)ld->c + k->off) = (int)lua_tointeger(ld->L, -1);
    } else {
        double v = lua_tonumber(ld->L, -1);
        if (v < 0) {
            fail(ld, line, "key '%s' must not be negative", k->path);
            return -1;
        }
        *(double *)((char *)ld->c + k->off) = v;
    }
    return 0;
}

static char *initials_of(const char *name)
{
    char out[8];
    size_t n = 0;
    int start = 1;
    for (const char *p = name; *p && n < 4; p++) {
        if (*p == ' ' || *p == '-') {
            start = 1;
        } else if (start && (unsigned char)*p < 0x80) {
            out[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            start = 0;
        } else {
            start = 0;
        }
    }
    out[n] = '\0';
    return strdup(n ? out : "??");
}

static int staff_field(struct loader *ld, const char *id, const char *field,
                       int line, char **out)
{
    lua_State *L = ld->L;
    lua_getfield(L, -1, field);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (lua_type(L, -1) != LUA_TSTRING) {
        fail(ld, line, "key 'staff[\"%s\"].%s' must be a string, got %s",
             id, field, luaL_typename(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    *out = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
}

/* Reads staff = { ["U123"] = {name=, initials=, role=} } at the stack top. */
static int load_staff(struct loader *ld, int line)
{
    lua_State *L = ld->L;
    size_t n = 0;

    if (!lua_istable(L, -1)) {
        fail(ld, line, "key 'staff' must be a table of user id -> {name=, initials=, role=}");
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, -2))
        n++, lua_pop(L, 1);
    ld->c->staff = calloc(n + 1, sizeof *ld->c->staff);   /* +1: local-admin */
    if (!ld->c->staff)
        return -1;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        struct staff *s = &ld->c->staff[ld->c->nstaff];
        char *role = NULL;
        const char *id;
        if (lua_type(L, -2) != LUA_TSTRING) {
            fail(ld, line, "staff keys must be chat user ids (strings)");
            lua_pop(L, 2);
            return -1;
        }
        id = lua_tostring(L, -2);
        if (!lua_istable(L, -1)) {
            fail(ld, line, "key 'staff[\"%s\"]' must be a table {name=, initials=, role=}", id);
            lua_pop(L, 2);
            return -1;
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            const char *f = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            if (strcmp(f, "name") && strcmp(f, "initials") && strcmp(f, "role") &&
                strcmp(f, "shift")) {
                fail(ld, line, "unknown key 'staff[\"%s\"].%s' (known: name, initials, role, shift)", id, f);
                lua_pop(L, 4);
                return -1;
            }
            lua_pop(L, 1);
        }
        s->id = strdup(id);
        ld->c->nstaff++;
        if (staff_field(ld, id, "name", line, &s->name) ||
            staff_field(ld, id, "initials", line, &s->initials) ||
            staff_field(ld, id, "role", line, &role) ||
            staff_field(ld, id, "shift", line, &s->shift_text)) {
            free(role);
            lua_pop(L, 2);
            return -1;
        }
        if (s->shift_text) {   /* presence: working hours */
            char why[200];
            if (shift_parse(s->shift_text, &s->shift, why, sizeof why)) {
                fail(ld, line, "key 'staff[\"%s\"].shift': %s", id, why);
                free(role);
                lua_pop(L, 2);
                return -1;
            }
        }
        if (!s->name)
            s->name = strdup(id);
        if (!s->initials)
            s->initials = initials_of(s->name);
        s->role = ROLE_AGENT;
        if (role) {
            int r = config_parse_role(role);
            if (r < 0) {
                fail(ld, line, "key 'staff[\"%s\"].role' must be \"trainee\", \"agent\", \"lead\" or \"admin\", got \"%s\"", id, role);
                free(role);
                lua_pop(L, 2);
                return -1;
            }
            s->role = (enum staff_role)r;
            free(role);
        }
        lua_pop(L, 1);   /* pop value, keep key */
    }
    return 0;
}

/* --- SLA policy (issue 17): sla.warn, sla.notify, sla.hours, sla.teams --- */

/* sla.warn = 1800 or { 1800, 600 }: business seconds before a target,
 * kept in descending order (the order warnings come in). */
static int load_sla_warn(struct loader *ld, int line)
{
    lua_State *L = ld->L;
    struct config *c = ld->c;
    int one = lua_type(L, -1) == LUA_TNUMBER;
    size_t n = one ? 1 : lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;

    if ((!one && !lua_istable(L, -1)) || n < 1 || n > CONFIG_WARNS) {
        fail(ld, line, "key 'sla.warn' must be seconds before the target, or a list of "
             "1 to %d of them (e.g. { 1800, 600 })", CONFIG_WARNS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        double v;
        if (!one)
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
        v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
        if (!one)
            lua_pop(L, 1);   /* pop element */
        if (!(v > 0)) {
            fail(ld, line, "key 'sla.warn' holds %s: each warning is a positive number "
                 "of seconds before the target", v < 0 ? "a value that is not a number" : "0");
            return -1;
        }
        size_t j = i;   /* insertion sort, descending */
        while (j > 0 && c->sla_warn[j - 1] < v) {
            c->sla_warn[j] = c->sla_warn[j - 1];
            j--;
        }
        c->sla_warn[j] = v;
    }
    c->nsla_warn = n;
    ld->sla_warn_set = 1;
    return 0;
}

/* A chat id vigil may ping: letters, digits, '_' and '-' only, so that it
 * can never carry markup of its own. */
static int id_shaped(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789_-") == n;
}

/* sla.notify = "S0123ABCD" (a user group) or { "U1", "U2" } (people). */
static int load_sla_notify(struct loader *ld, int line)
{
    lua_State *L = ld->L;
    struct config *c = ld->c;
    int one = lua_type(L, -1) == LUA_TSTRING;
    size_t n = one ? 1 : lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;

    if ((!one && !lua_istable(L, -1)) || n < 1 || n > 16) {
        fail(ld, line, "key 'sla.notify' must be a chat id (a user group \"S0123\" or a "
             "person \"U024BE7LH\") or a list of 1 to 16 of them");
        return -1;
    }
    c->sla_notify = calloc(n, sizeof *c->sla_notify);
    if (!c->sla_notify)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *v;
        if (!one)
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
        v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (v && id_shaped(v))
            c->sla_notify[c->nsla_notify++] = strdup(v);
        if (!one)
            lua_pop(L, 1);   /* pop element */
        if (!v || !id_shaped(v)) {
            fail(ld, line, "key 'sla.notify' holds \"%s\", which is not a chat id "
                 "(letters, digits, '_' and '-': \"S0123\", \"U024BE7LH\")", v ? v : "?");
            return -1;
        }
    }
    return 0;
}

/* "09:00-17:00" -> minutes after midnight; 0 or -1. */
static int parse_span(const char *s, int span[2])
{
    int h1, m1, h2, m2, end = 0;
    if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &end) != 4 || s[end] ||
        h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
        return -1;
    span[0] = h1 * 60 + m1;
    span[1] = h2 * 60 + m2;
    return span[0] < span[1] && span[1] <= 24 * 60 ? 0 : -1;
}

/* One weekday's value at the stack top: "09:00-17:00", a list of such
 * spans in order, or false / "" (closed). */
static int load_day(struct loader *ld, const char *where, int line, int spans[][2], int *n)
{
    lua_State *L = ld->L;
    int one = lua_type(L, -1) == LUA_TSTRING;
    size_t len = one ? 1 : lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;

    *n = 0;
    if ((lua_isboolean(L, -1) && !lua_toboolean(L, -1)) ||
        (one && !*lua_tostring(L, -1)))
        return 0;
    if ((!one && !lua_istable(L, -1)) || len > CONFIG_SPANS) {
        fail(ld, line, "key '%s' must be \"HH:MM-HH:MM\", a list of up to %d of them, "
             "or false (closed)", where, CONFIG_SPANS);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        const char *v;
        int ok;
        if (!one)
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
        v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
        ok = parse_span(v, spans[i]) == 0 && (i == 0 || spans[i][0] >= spans[i - 1][1]);
        if (!ok)
            fail(ld, line, "key '%s' holds \"%s\": spans are \"HH:MM-HH:MM\" within "
                 "00:00-24:00, each ending after it starts, in order, not overlapping",
                 where, v);
        if (!one)
            lua_pop(L, 1);   /* pop element */
        if (!ok)
            return -1;
    }
    *n = (int)len;
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* holidays = { "2026-12-24", ... } at the stack top. */
static int load_holidays(struct loader *ld, const char *where, int line, struct config_hours *h)
{
    lua_State *L = ld->L;
    size_t n = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (!lua_istable(L, -1)) {
        fail(ld, line, "key '%s' must be a list of dates \"YYYY-MM-DD\"", where);
        return -1;
    }
    h->holidays = calloc(n ? n : 1, sizeof *h->holidays);
    if (!h->holidays)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int y = 0, m = 0, d = 0, end = 0, ok;
        const char *v;
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
        ok = sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &end) == 3 && !v[end] && end == 10 &&
             y >= 2000 && y < 2100 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] &&
             !(m == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400)));
        if (ok)
            h->holidays[h->nholidays++] = y * 10000 + m * 100 + d;
        else
            fail(ld, line, "key '%s' holds \"%s\", which is not a date \"YYYY-MM-DD\" "
                 "(2000-2099)", where, v);
        lua_pop(L, 1);   /* pop element */
        if (!ok)
            return -1;
    }
    qsort(h->holidays, h->nholidays, sizeof *h->holidays, cmp_int);
    return 0;
}

/* Is `zone` in the installed tz database?  glibc reads an unknown name as
 * UTC without a word, which would move every deadline silently. */
static int zone_installed(const char *zone)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    struct stat st;
    if (strcmp(zone, "UTC") == 0)
        return 1;
    if (!*zone || *zone == '/' || strstr(zone, ".."))
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A calendar at the stack top: { timezone = "Europe/Berlin", weekdays =
 * "09:00-17:00", sat = "10:00-14:00", holidays = { "2026-12-24" } }. */
static int load_calendar(struct loader *ld, const char *path, int line, struct config_hours *h)
{
    static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
    lua_State *L = ld->L;
    char where[160];
    int any = 0;

    if (!lua_istable(L, -1)) {
        fail(ld, line, "key '%s' must be a table { timezone =, weekdays = \"09:00-17:00\", "
             "mon = ..., sun = ..., holidays = { \"YYYY-MM-DD\" } }", path);
        return -1;
    }
    memset(h->nspans, 0, sizeof h->nspans);
    lua_pushnil(L);
    while (lua_next(L, -2)) {    /* unknown keys first: a typo must not close a day */
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        int known = !strcmp(k, "timezone") || !strcmp(k, "weekdays") || !strcmp(k, "holidays");
        for (int i = 0; i < 7; i++)
            known |= !strcmp(k, days[i]);
        if (!known) {
            fail(ld, line, "unknown key '%s.%s' (known: timezone, weekdays, mon..sun, "
                 "holidays)", path, k);
            lua_pop(L, 2);       /* pop value, key */
            return -1;
        }
        lua_pop(L, 1);           /* pop value, keep key */
    }
    lua_getfield(L, -1, "timezone");
    if (!lua_isnil(L, -1)) {
        const char *z = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        free(h->timezone);
        h->timezone = z ? strdup(z) : NULL;
        if (!z || !zone_installed(z))
            fail(ld, line, "key '%s.timezone' must name a zone of the tz database "
                 "(\"Europe/Berlin\"; see /usr/share/zoneinfo, package tzdata), got %s%s%s",
                 path, z ? "\"" : "", z ? z : luaL_typename(L, -1), z ? "\"" : "");
    }
    lua_pop(L, 1);               /* pop timezone */
    lua_getfield(L, -1, "weekdays");
    if (!ld->failed && !lua_isnil(L, -1)) {
        snprintf(where, sizeof where, "%s.weekdays", path);
        if (load_day(ld, where, line, h->spans[1], &h->nspans[1]) == 0)
            for (int i = 2; i <= 5; i++) {
                memcpy(h->spans[i], h->spans[1], sizeof h->spans[1]);
                h->nspans[i] = h->nspans[1];
            }
    }
    lua_pop(L, 1);               /* pop weekdays */
    for (int i = 0; i < 7 && !ld->failed; i++) {
        lua_getfield(L, -1, days[i]);
        snprintf(where, sizeof where, "%s.%s", path, days[i]);
        if (!lua_isnil(L, -1))
            load_day(ld, where, line, h->spans[i], &h->nspans[i]);
        lua_pop(L, 1);           /* pop day */
    }
    lua_getfield(L, -1, "holidays");
    snprintf(where, sizeof where, "%s.holidays", path);
    if (!ld->failed && !lua_isnil(L, -1))
        load_holidays(ld, where, line, h);
    lua_pop(L, 1);               /* pop holidays */
    for (int i = 0; i < 7; i++)
        any |= h->nspans[i] > 0;
    if (!ld->failed && !any)
        fail(ld, line, "key '%s' opens on no day of the week: the SLA clock would never "
             "run (set weekdays = \"09:00-17:00\", or leave sla.hours out for around the "
             "clock)", path);
    return ld->failed ? -1 : 0;
}

/* sla.teams = { billing = { <a calendar like sla.hours> } }. */
static int load_sla_teams(struct loader *ld, int line)
{
    lua_State *L = ld->L;
    struct config *c = ld->c;
    size_t n = 0;

    if (!lua_istable(L, -1)) {
        fail(ld, line, "key 'sla.teams' must be a table of team name -> business hours");
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, -2))
        n++, lua_pop(L, 1);      /* pop value, keep key */
    c->sla_teams = calloc(n ? n : 1, sizeof *c->sla_teams);
    if (!c->sla_teams)
        return -1;
    lua_pushnil(L);
    while (!ld->failed && lua_next(L, -2)) {
        struct config_team_hours *t = &c->sla_teams[c->nsla_teams];
        char path[160];
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!name || !*name) {
            fail(ld, line, "key 'sla.teams' must be keyed by team names (strings)");
        } else {
            t->team = strdup(name);
            t->hours.timezone = strdup("UTC");
            c->nsla_teams++;
            snprintf(path, sizeof path, "sla.teams.%s", name);
            load_calendar(ld, path, line, &t->hours);
        }
        lua_pop(L, 1);           /* pop value, keep key */
    }
    if (ld->failed)
        lua_pop(L, 1);           /* lua_next stopped early: pop the key */
    return ld->failed ? -1 : 0;
}

static void free_calendar(struct config_hours *h)
{
    free(h->timezone);
    free(h->holidays);
}

/* Walks the table at the stack top; `prefix` is its dotted path ("" at top). */
static int walk(struct loader *ld, const char *prefix, int line)
{
    lua_State *L = ld->L;
    lua_pushnil(L);
    while (!ld->failed && lua_next(L, -2)) {
        char path[128];
        const struct key *k;
        int kline = line;

        if (lua_type(L, -2) != LUA_TSTRING) {
            fail(ld, line, "%s%s has a key that is not a name", prefix,
                 *prefix ? " table" : "config");
            lua_pop(L, 2);
            return -1;
        }
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
                 lua_tostring(L, -2));
        if (!*prefix)
            kline = key_line(L, path);
        k = find_key(path);
        if (!k) {
            const char *s = suggest(path);
            if (s)
                fail(ld, kline, "unknown key '%s' (did you mean '%s'?)", path, s);
            else
                fail(ld, kline, "unknown key '%s'", path);
        } else if (k->type == K_SECTION) {
            if (!lua_istable(L, -1))
                fail(ld, kline, "key '%s' must be a table, got %s", path,
                     luaL_typename(L, -1));
            else
                walk(ld, path, kline);
        } else if (k->type == K_STAFF) {
            load_staff(ld, kline);
        } else if (k->type == K_SLA_WARN) {
            load_sla_warn(ld, kline);
        } else if (k->type == K_SLA_NOTIFY) {
            load_sla_notify(ld, kline);
        } else if (k->type == K_SLA_HOURS) {
            load_calendar(ld, k->path, kline, &ld->c->sla_hours);
        } else if (k->type == K_SLA_TEAMS) {
            load_sla_teams(ld, kline);
        } else if (k->type == K_STR) {
            set_string(ld, k, kline);
        } else if (k->type == K_LIST) {
            set_list(ld, k, kline);
        } else {
            set_number(ld, k, kline);
        }
        lua_pop(L, 1);   /* pop value, keep key for lua_next */
    }
    return ld->failed ? -1 : 0;
}

/* --- the sandbox ------------------------------------------------------- */

/* config_load_public: env() reads nothing (issue 20, the REPL). */
static int public_only;

static int l_env(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *v;
    if (public_only) {
        lua_pushfstring(L, "(env %s, not read)", name);
        return 1;
    }
    v = getenv(name);
    if (!v || !*v)
        return luaL_error(L, "environment variable %s is not set", name);
    log_add_secret(v);   /* env() is how secrets reach vigil */
    lua_getfield(L, LUA_REGISTRYINDEX, "vigil.config.envvals");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, v);
    lua_pop(L, 1);       /* pop envvals */
    lua_pushstring(L, v);
    return 1;
}

/* __newindex of the config env: remember the line of each top-level key. */
static int l_record(lua_State *L)
{
    lua_Debug ar;
    int line = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
        line = ar.currentline;
    lua_getfield(L, LUA_REGISTRYINDEX, "vigil.config.lines");
    lua_pushvalue(L, 2);
    lua_pushinteger(L, line);
    lua_rawset(L, -3);
    lua_pop(L, 1);       /* pop lines table */
    lua_rawset(L, 1);    /* env[key] = value */
    return 0;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    /* From now on fire on every instruction, so a pcall in the config
     * cannot catch this and carry on looping. */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "config takes too long to evaluate (endless loop?)");
}

static void set_defaults(struct config *c)
{
    c->chat = strdup("console");
    c->source = strdup("replay");
    c->command = strdup("/tw");
    c->store_path = systemd_dir_path("STATE_DIRECTORY", "vigil.db", "var/vigil.db");
    c->store_alert_after = 30;
    c->scripts_dir = strdup("scripts");
    c->scripts_lib = strdup("lua");
    c->admin_socket = systemd_dir_path("RUNTIME_DIRECTORY", "vigil.sock", "var/vigil.sock");
    c->admin_user = strdup("local-admin");
    c->admin_idle_timeout = 30;
    c->channel_mentions = strdup("#support");
    c->channel_escalations = strdup("#support-escalations");
    c->channel_on_duty = strdup("on-duty");
    c->sla_first_response = 3600;
    c->sla_warn_before = -1;         /* unset: sla.warn's first (largest) offset */
    c->sla_check_interval = 5;
    /* SLA policy (issue 17): warnings 30 and 10 min before; the clock runs
     * around the week in UTC until sla.hours says otherwise */
    c->sla_follow_up = -1;           /* unset: sla.first_response */
    c->sla_warn[0] = 1800;
    c->sla_warn[1] = 600;
    c->nsla_warn = 2;
    c->sla_hours.timezone = strdup("UTC");
    for (int i = 0; i < 7; i++) {
        c->sla_hours.spans[i][0][1] = 24 * 60;
        c->sla_hours.nspans[i] = 1;
    }
    c->reply_signature = strdup(" ^{initials}");
    /* issue 18: a public send waits 5 s for an undo; replies within 2 min collide */
    c->reply_hold = 5;
    c->reply_collision_window = 120;
    c->replay_interval = 2;
    c->outbox_x_rate = 1;
    c->outbox_max_backoff = 300;
    c->outbox_max_attempts = 12;
    c->outbox_alert_after = 900;
    c->slack.api_url = strdup("https://slack.com/api/");
    c->slack.ping_interval = 10;
    c->slack.idle_timeout = 30;
    c->slack.post_rate = 1;
    c->slack.digest_threshold = 20;
    c->slack.thread_prefix = strdup("");   /* commands in a ticket's thread (issue 19) */
    c->x.api_url = strdup("https://api.x.com/2/");
    c->x.poll_interval = 60;
    c->x.max_results = 100;
    c->x.backfill = 1;
    c->x.reach = 800;
    /* X's pay-per-use prices, 2026-04 (README, "Connect to X") */
    c->x.prices.owned_read = 0.001;
    c->x.prices.post_read = 0.005;
    c->x.prices.user_read = 0.010;
    c->x.prices.reply = 0.010;
    c->x.prices.post = 0.015;
    c->x.prices.dm = 0.015;
    c->x.prices.dm_event_read = 0.010;
    c->script_instructions = 10e6;
    c->script_memory_mb = 64;
    c->script_time_budget = 0.25;
    c->autoassign_mode = strdup("off");   /* auto-assignment: off unless asked for */
    c->autoassign_cap = 8;
}

static int check_choice(struct loader *ld, const char *key, const char *v,
                        const char *a, const char *b)
{
    if (strcmp(v, a) == 0 || strcmp(v, b) == 0)
        return 0;
    fail(ld, key_line(ld->L, key), "key '%s' must be \"%s\" or \"%s\", got \"%s\"",
         key, a, b, v);
    return -1;
}

static int need(struct loader *ld, const char *key, const char *v, const char *why)
{
    if (v && *v)
        return 0;
    fail(ld, 0, "missing required key '%s' (%s)", key, why);
    return -1;
}

/* SLA policy (issue 17): the old single warning (sla.warn_before) still
 * works, alone; every warning comes before both targets. */
static int validate_sla(struct loader *ld)
{
    struct config *c = ld->c;
    int line = key_line(ld->L, "sla");
    int has_warn = ld->sla_warn_set;
    if (c->sla_warn_before >= 0) {
        if (has_warn) {
            fail(ld, line, "keys 'sla.warn_before' and 'sla.warn' both set: 'sla.warn' "
                 "replaces it (sla.warn = { %g })", c->sla_warn_before);
            return -1;
        }
        if (c->sla_warn_before >= c->sla_first_response) {
            fail(ld, line,
                 "key 'sla.warn_before' (%g) must be less than 'sla.first_response' (%g)",
                 c->sla_warn_before, c->sla_first_response);
            return -1;
        }
        c->sla_warn[0] = c->sla_warn_before;
        c->nsla_warn = c->sla_warn_before > 0;
    }
    if (c->sla_follow_up < 0)
        c->sla_follow_up = c->sla_first_response;
    if (!(c->sla_first_response >= 60 && c->sla_follow_up >= 60)) {
        fail(ld, line, "keys 'sla.first_response' and 'sla.follow_up' are business "
             "seconds, at least 60");
        return -1;
    }
    for (size_t i = 0; i < c->nsla_warn; i++)
        if (c->sla_warn[i] >= c->sla_first_response || c->sla_warn[i] >= c->sla_follow_up) {
            fail(ld, line, "key 'sla.warn' (%g) must be less than 'sla.first_response' "
                 "(%g) and 'sla.follow_up' (%g)", c->sla_warn[i], c->sla_first_response,
                 c->sla_follow_up);
            return -1;
        }
    c->sla_warn_before = c->nsla_warn ? c->sla_warn[0] : 0;
    for (size_t i = 0; i < c->nsla_notify; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->sla_notify[i], c->sla_notify[j]) == 0) {
                fail(ld, line, "key 'sla.notify' names \"%s\" twice", c->sla_notify[i]);
                return -1;
            }
    return 0;
}

/* Cross-key rules: what each chosen chat and source requires. */
static int validate(struct loader *ld)
{
    struct config *c = ld->c;

    if (check_choice(ld, "chat", c->chat, "console", "slack") ||
        check_choice(ld, "source", c->source, "replay", "x"))
        return -1;
    if (log_parse_level(c->log_level ? c->log_level : "info") < 0) {
        fail(ld, key_line(ld->L, "log_level"),
             "key 'log_level' must be debug, info, warn or error");
        return -1;
    }
    if (c->command[0] != '/') {
        fail(ld, key_line(ld->L, "command"), "key 'command' must start with '/'");
        return -1;
    }
    if (strcmp(c->source, "replay") == 0 &&
        need(ld, "replay.file", c->replay_file, "source = \"replay\" reads it"))
        return -1;
    if (strcmp(c->source, "x") == 0) {
        if (need(ld, "x.handle", c->x.handle, "source = \"x\" watches it"))
            return -1;
        if (!c->x.bearer_token && !c->x.oauth2.access_token && !c->x.oauth1.token) {
            fail(ld, 0, "missing required key 'x.bearer_token' (or x.oauth1 / x.oauth2): "
                 "source = \"x\" needs a credential to read mentions");
            return -1;
        }
        if (c->x.max_results < 5 || c->x.max_results > 100) {
            fail(ld, key_line(ld->L, "x"), "key 'x.max_results' must be 5..100, got %d",
                 c->x.max_results);
            return -1;
        }
    }
    if (c->x.reach < 1) {
        fail(ld, key_line(ld->L, "x"), "key 'x.reach' must be at least 1, got %d",
             c->x.reach);
        return -1;
    }
    for (size_t i = 0; i < NKEYS; i++)   /* a price is dollars per call */
        if (strncmp(schema[i].path, "x.prices.", 9) == 0 && schema[i].type == K_NUM) {
            double v = *(const double *)((const char *)c + schema[i].off);
            if (!(v >= 0 && v <= 100)) {
                fail(ld, key_line(ld->L, "x"), "key '%s' must be dollars per call, "
                     "0 to 100, got %g", schema[i].path, v);
                return -1;
            }
        }
    if (strcmp(c->chat, "slack") == 0 &&
        (need(ld, "slack.app_token", c->slack.app_token, "chat = \"slack\" opens Socket Mode with it") ||
         need(ld, "slack.bot_token", c->slack.bot_token, "chat = \"slack\" posts with it")))
        return -1;
    /* commands in a ticket's thread (issue 19) */
    if (strcmp(c->slack.thread_prefix, "") && strcmp(c->slack.thread_prefix, "!") &&
        strcmp(c->slack.thread_prefix, "@")) {
        fail(ld, key_line(ld->L, "slack"), "key 'slack.thread_prefix' must be \"\" (none), "
             "\"!\" or \"@\" (a mention of the bot), got \"%s\"", c->slack.thread_prefix);
        return -1;
    }
    if (validate_sla(ld))
        return -1;
    if (!(c->store_alert_after >= 1 && c->store_alert_after <= 86400)) {
        fail(ld, key_line(ld->L, "store"),
             "key 'store.alert_after' is seconds, between 1 and 86400, got %g",
             c->store_alert_after);
        return -1;
    }
    /* issue 18: approval.roles names roles */
    for (const char *p = c->approval_roles; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : "") {
        char role[32];
        size_t n = strcspn(p, ",");
        snprintf(role, sizeof role, "%.*s", (int)(n < sizeof role ? n : sizeof role - 1), p);
        if (config_parse_role(role) < 0) {
            fail(ld, key_line(ld->L, "approval"), "key 'approval.roles' names \"%s\", which "
                 "is not a role (trainee, agent, lead, admin)", role);
            return -1;
        }
    }
    /* issue 18: a send waits at most ten minutes (the outbox treats a job
     * due further ahead than its horizon as a clock step back) */
    if (c->reply_hold > 600) {
        fail(ld, key_line(ld->L, "reply"),
             "key 'reply.hold' is seconds a reply waits for an undo, 0 to 600, got %g",
             c->reply_hold);
        return -1;
    }
    if (c->script_time_budget < 0.001 || c->script_time_budget > 60) {
        fail(ld, key_line(ld->L, "scripts"),
             "scripts.time_budget is seconds per invocation, between 0.001 and 60");
        return -1;
    }
    if (c->script_instructions < 1000 || c->script_memory_mb < 1) {
        fail(ld, key_line(ld->L, "scripts"),
             "scripts.instructions must be >= 1000 and scripts.memory_mb >= 1");
        return -1;
    }
    /* auto-assignment */
    if (strcmp(c->autoassign_mode, "off") && strcmp(c->autoassign_mode, "round_robin") &&
        strcmp(c->autoassign_mode, "least_loaded")) {
        fail(ld, key_line(ld->L, "autoassign"), "key 'autoassign.mode' must be \"off\", "
             "\"round_robin\" or \"least_loaded\", got \"%s\"", c->autoassign_mode);
        return -1;
    }
    if (c->autoassign_cap < 1 || c->autoassign_cap > 10000) {
        fail(ld, key_line(ld->L, "autoassign"),
             "key 'autoassign.cap' is the open tickets an agent may hold, 1 to 10000, got %d",
             c->autoassign_cap);
        return -1;
    }
    return 0;
}

/* A built-in local admin identity for the console and the REPL. */
static int add_local_admin(struct config *c)
{
    struct staff *s;
    if (config_staff(c, c->admin_user))
        return 0;
    if (strcmp(c->admin_user, "local-admin") != 0)
        return -1;
    s = realloc(c->staff, (c->nstaff + 1) * sizeof *s);
    if (!s)
        return -1;
    c->staff = s;
    s = &c->staff[c->nstaff++];
    memset(s, 0, sizeof *s);   /* no shift: always on */
    s->id = strdup("local-admin");
    s->name = strdup("Local Admin");
    s->initials = strdup("LA");
    s->role = ROLE_ADMIN;
    return 0;
}

static void warn_if_readable(struct loader *ld)
{
    struct stat st;
    if (ld->inline_secret && stat(ld->c->path, &st) == 0 && (st.st_mode & 077))
        log_warn("config holds secrets and is readable by group or others",
                 "path=%s mode=%03o hint=%s", ld->c->path, (unsigned)(st.st_mode & 0777),
                 "read secrets with env(\"NAME\") or chmod 600 the file");
}

#define CHUNK_MARK "<config>"

/* Returns new: the file's bytes (NUL-terminated), or NULL with errno set. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n >= 0 && n < (16L << 20) && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
        errno = errno ? errno : EIO;
    }
    fclose(f);
    return buf;
}

/* Copies Lua's message `m` to err with the chunk marker replaced by `path`;
 * a message without a position gets "path: " in front. */
static void with_path(char *err, size_t errlen, const char *m, const char *path)
{
    const char *mark = strstr(m, CHUNK_MARK);
    if (!mark)
        snprintf(err, errlen, "%s: %s", path, m);
    else
        snprintf(err, errlen, "%.*s%s%s", (int)(mark - m), m, path, mark + strlen(CHUNK_MARK));
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    struct loader ld = { 0 };
    struct config *c = calloc(1, sizeof *c);
    char *src = NULL;
    size_t srclen = 0;
    lua_State *L = NULL;
    static const luaL_Reg libs[] = {
        { LUA_GNAME, luaopen_base }, { LUA_STRLIBNAME, luaopen_string },
        { LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math },
        { LUA_UTF8LIBNAME, luaopen_utf8 }, { NULL, NULL },
    };
    static const char *const unsafe[] = {
        "dofile", "loadfile", "load", "require", "collectgarbage", "print", NULL,
    };

    err[0] = '\0';
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->path = strdup(path);
    set_defaults(c);
    ld.c = c;
    ld.err = err;
    ld.errlen = errlen;

    L = luaL_newstate();
    if (!L) {
        fail(&ld, 0, "cannot create a Lua state");
        goto out;
    }
    ld.L = L;
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);   /* pop library table */
    }
    for (int i = 0; unsafe[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, unsafe[i]);
    }
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "vigil.config.lines");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "vigil.config.envvals");

    /* Lua shortens chunk names to 60 bytes ("...g/vigil.lua:3:"): load under
     * a short marker and put the whole path back into messages. */
    src = read_all(path, &srclen);
    if (!src) {
        snprintf(err, errlen, "%s: cannot read config: %s", path, strerror(errno));
        ld.failed = 1;
        goto out;
    }
    if (luaL_loadbufferx(L, src, srclen, "=" CHUNK_MARK, "t") != LUA_OK) {
        with_path(err, errlen, lua_tostring(L, -1), path);
        ld.failed = 1;
        goto out;
    }
    /* env: a fresh table; reads fall through to the safe globals, writes are
     * recorded with their line so errors can point at them. */
    lua_newtable(L);                       /* env */
    lua_newtable(L);                       /* metatable */
    lua_pushglobaltable(L);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_record);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setupvalue(L, -3, 1);              /* chunk's _ENV = env; pops copy */
    lua_pushcfunction(L, l_env);
    lua_setglobal(L, "env");               /* readable through __index */

    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 100000000);
    lua_pushvalue(L, -2);                  /* the chunk */
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        with_path(err, errlen, m ? m : "error while evaluating the config", path);
        ld.failed = 1;
        goto out;
    }
    lua_sethook(L, NULL, 0, 0);
    if (walk(&ld, "", 0) == 0 && validate(&ld) == 0 && add_local_admin(c) != 0)
        fail(&ld, key_line(L, "admin"), "key 'admin.user' (\"%s\") is not in staff",
             c->admin_user);
    if (!ld.failed)
        warn_if_readable(&ld);

out:
    free(src);
    if (L)
        lua_close(L);
    if (ld.failed) {
        config_free(c);
        return NULL;
    }
    return c;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        if (schema[i].type == K_STR || schema[i].type == K_LIST)
            free(*str_slot(c, &schema[i]));
    for (size_t i = 0; i < c->nstaff; i++) {
        free(c->staff[i].id);
        free(c->staff[i].name);
        free(c->staff[i].initials);
        free(c->staff[i].shift_text);
    }
    free(c->staff);
    free_calendar(&c->sla_hours);
    for (size_t i = 0; i < c->nsla_notify; i++)
        free(c->sla_notify[i]);
    free(c->sla_notify);
    for (size_t i = 0; i < c->nsla_teams; i++) {
        free(c->sla_teams[i].team);
        free_calendar(&c->sla_teams[i].hours);
    }
    free(c->sla_teams);
    free(c->path);
    free(c);
}

/* --- SIGHUP reload (issue 20) ------------------------------------------ */

/* Keys that take effect without a restart: every module reads them
 * through its `struct config *` each time it needs them.  Prefixes end in
 * '.'.  Anything else (tokens, URLs, store and socket paths, chat and
 * source, script budgets) is read once at start and needs a restart. */
static const char *const reloadable[] = {
    "log_level", "channels.", "sla.first_response", "sla.warn_before", "sla.follow_up",
    "reply.",
    "outbox.", "slack.post_rate", "slack.digest_threshold", "x.poll_interval",
    "x.prices.", "store.alert_after", "approval.", "autoassign.", NULL,
};

static int is_reloadable(const char *path)
{
    for (int i = 0; reloadable[i]; i++) {
        size_t n = strlen(reloadable[i]);
        if (reloadable[i][n - 1] == '.' ? strncmp(path, reloadable[i], n) == 0
                                        : strcmp(path, reloadable[i]) == 0)
            return 1;
    }
    return 0;
}

static int same_value(const struct config *a, const struct config *b, const struct key *k)
{
    const char *pa = (const char *)a + k->off, *pb = (const char *)b + k->off;
    if (k->type == K_STR || k->type == K_LIST) {   /* a list is stored "a,b" */
        const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;
        return (!sa && !sb) || (sa && sb && strcmp(sa, sb) == 0);
    }
    if (k->type == K_INT)
        return *(const int *)pa == *(const int *)pb;
    return *(const double *)pa == *(const double *)pb;
}

/* The SLA policy's own-shaped keys (sla.warn, .notify, .hours, .teams):
 * swapped whole, the old going to `fresh` to be freed with it; the desk
 * rebuilds its calendars from them (desk_sla_reload). */
static void swap_sla_policy(struct config *live, struct config *fresh)
{
    struct config tmp;
    memcpy(tmp.sla_warn, live->sla_warn, sizeof tmp.sla_warn);
    tmp.nsla_warn = live->nsla_warn;
    tmp.sla_hours = live->sla_hours;
    tmp.sla_notify = live->sla_notify;
    tmp.nsla_notify = live->nsla_notify;
    tmp.sla_teams = live->sla_teams;
    tmp.nsla_teams = live->nsla_teams;
    memcpy(live->sla_warn, fresh->sla_warn, sizeof live->sla_warn);
    live->nsla_warn = fresh->nsla_warn;
    live->sla_hours = fresh->sla_hours;
    live->sla_notify = fresh->sla_notify;
    live->nsla_notify = fresh->nsla_notify;
    live->sla_teams = fresh->sla_teams;
    live->nsla_teams = fresh->nsla_teams;
    memcpy(fresh->sla_warn, tmp.sla_warn, sizeof fresh->sla_warn);
    fresh->nsla_warn = tmp.nsla_warn;
    fresh->sla_hours = tmp.sla_hours;
    fresh->sla_notify = tmp.sla_notify;
    fresh->nsla_notify = tmp.nsla_notify;
    fresh->sla_teams = tmp.sla_teams;
    fresh->nsla_teams = tmp.nsla_teams;
}

size_t config_reload_into(struct config *live, struct config *fresh, char *restart,
                          size_t len)
{
    size_t changed = 0, used = 0;
    struct staff *st;
    size_t n;

    restart[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &schema[i];
        char tmp[sizeof(double)];
        size_t size = k->type == K_STR || k->type == K_LIST ? sizeof(char *)
                      : k->type == K_INT ? sizeof(int) : sizeof(double);
        if (k->type == K_SECTION || k->type == K_STAFF || k->type == K_SLA_WARN ||
            k->type == K_SLA_NOTIFY || k->type == K_SLA_HOURS || k->type == K_SLA_TEAMS ||
            same_value(live, fresh, k))
            continue;   /* the staff and the SLA policy are swapped whole below */
        if (!is_reloadable(k->path)) {
            int w = snprintf(restart + used, len - used, "%s%s", used ? ", " : "", k->path);
            if (w > 0 && (size_t)w < len - used)
                used += (size_t)w;
            continue;
        }
        /* swap: the old value goes to `fresh`, which the caller frees */
        memcpy(tmp, (char *)live + k->off, size);
        memcpy((char *)live + k->off, (char *)fresh + k->off, size);
        memcpy((char *)fresh + k->off, tmp, size);
        changed++;
    }
    st = live->staff;
    n = live->nstaff;
    live->staff = fresh->staff;
    live->nstaff = fresh->nstaff;
    fresh->staff = st;
    fresh->nstaff = n;
    swap_sla_policy(live, fresh);
    return changed;
}

struct config *config_load_public(const char *path, char *err, size_t errlen)
{
    struct config *c;
    public_only = 1;
    c = config_load(path, err, errlen);
    public_only = 0;
    return c;
}

/* --- check-config shapes (issue 20) ------------------------------------ */

static int all_of(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

#define UPPER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* A Slack conversation id: C (public), G (private), D (DM), then upper-case
 * letters and digits. */
static int slack_channel_id(const char *s)
{
    return s && (s[0] == 'C' || s[0] == 'G' || s[0] == 'D') && all_of(s + 1, UPPER_DIGITS);
}

/* A Slack user id: U or W (Enterprise Grid), then upper-case letters and digits. */
static int slack_user_id(const char *s)
{
    return (s[0] == 'U' || s[0] == 'W') && all_of(s + 1, UPPER_DIGITS);
}

static void problem(char *out, size_t len, size_t *used, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void problem(char *out, size_t len, size_t *used, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int w;
    (*n)++;
    if (*used + 1 >= len)
        return;
    va_start(ap, fmt);
    w = vsnprintf(out + *used, len - *used, fmt, ap);
    va_end(ap);
    if (w > 0)
        *used += (size_t)w < len - *used ? (size_t)w : len - *used - 1;
    if (*used + 1 < len) {
        out[(*used)++] = '\n';
        out[*used] = '\0';
    }
}

size_t config_check_shapes(const struct config *c, char *out, size_t len)
{
    size_t n = 0, used = 0;
    struct stat st;

    out[0] = '\0';
    if (strcmp(c->chat, "slack") == 0) {
        const char *chans[][2] = { { "channels.mentions", c->channel_mentions },
                                   { "channels.escalations", c->channel_escalations } };
        if (c->slack.app_token && strncmp(c->slack.app_token, "xapp-", 5) != 0)
            problem(out, len, &used, &n, "slack.app_token must be an app-level token "
                    "(xapp-...), from the app's Basic Information page, scope "
                    "connections:write");
        if (c->slack.bot_token && strncmp(c->slack.bot_token, "xoxb-", 5) != 0)
            problem(out, len, &used, &n, "slack.bot_token must be a bot token (xoxb-...), "
                    "from the app's OAuth & Permissions page%s",
                    strncmp(c->slack.bot_token, "xoxp-", 5) == 0 ? " (xoxp- is a user token)"
                                                                 : "");
        for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++)
            if (chans[i][1] && !slack_channel_id(chans[i][1]))
                problem(out, len, &used, &n, "%s must be a Slack channel id like C0123ABCD, "
                        "not \"%s\" (channel details, at the bottom of the About tab)",
                        chans[i][0], chans[i][1]);
        for (size_t i = 0; i < c->nstaff; i++)
            if (!slack_user_id(c->staff[i].id) && strcmp(c->staff[i].id, "local-admin") != 0)
                problem(out, len, &used, &n, "staff key \"%s\" is not a Slack user id (like "
                        "U024BE7LH: the member's profile, \"Copy member ID\")", c->staff[i].id);
    }
    if (c->x.handle && (c->x.handle[0] == '@' ||
                        !all_of(c->x.handle, UPPER_DIGITS "abcdefghijklmnopqrstuvwxyz_") ||
                        strlen(c->x.handle) > 15))
        problem(out, len, &used, &n, "x.handle must be the handle without '@' (letters, "
                "digits, _; at most 15), got \"%s\"", c->x.handle);
    if (stat(c->scripts_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        problem(out, len, &used, &n, "scripts.dir \"%s\" is not a directory (%s)",
                c->scripts_dir, strerror(errno ? errno : ENOTDIR));
    if (strcmp(c->source, "replay") == 0 && c->replay_file && access(c->replay_file, R_OK) != 0)
        problem(out, len, &used, &n, "replay.file \"%s\" cannot be read (%s)", c->replay_file,
                strerror(errno));
    return n;
}
