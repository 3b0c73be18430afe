/* api_search.c — the search and reporting family of the script API
 * (issue 17 §5, §7): ctx:find(query [, limit [, offset]]), ctx:responses(since
 * [, until]) and ctx:export(since [, path]).  The query language is
 * desk/find.c's (pure, fuzzed); this file resolves assignee: to a staff id
 * as ctx:user does and hands the store bound values only; CSV is
 * core/csv.c's.  Knows no wire format. */
#include "script/script_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/csv.h"
#include "desk/find.h"

/* ctx:find(query [, limit [, offset]]) -> { total = N, tickets = { t… } }
 * where each t is a ticket table with `excerpt` (the matching words in
 * context) and `chat_url` (its chat message, when the chat links).  A bad
 * query fails with the reason for the agent. */
static int c_find(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    const char *text = luaL_checkstring(L, 2);
    lua_Integer limit = luaL_optinteger(L, 3, 10), offset = luaL_optinteger(L, 4, 0);
    struct find_query q;
    struct store_search s = { 0 };
    struct store_hit *hits = NULL;
    size_t n = 0;
    int64_t total = 0;
    char err[200];
    int rc;

    luaL_argcheck(L, limit >= 1 && limit <= 200, 3, "limit is 1 to 200");
    luaL_argcheck(L, offset >= 0, 4, "offset is not negative");
    if (find_parse(text, desk_now(rt->desk), &q, err, sizeof err))
        return api_fail(L, err);
    if (q.assignee[0]) {
        const struct staff *who = api_resolve_user(L, q.assignee);
        if (!who) {
            snprintf(err, sizeof err, "assignee: %.60s is not on the support staff.",
                     q.assignee);
            find_query_clear(&q);
            return api_fail(L, err);
        }
        s.assignee = who->id;
    }
    s.match = q.match;
    s.handle = q.handle[0] ? q.handle : NULL;
    s.tag = q.tag[0] ? q.tag : NULL;
    s.status = q.status[0] ? q.status : NULL;
    s.since = q.since;
    s.until = q.until;
    rc = store_search(rt->store, &s, (size_t)limit, (size_t)offset, &hits, &n, &total);
    find_query_clear(&q);
    if (rc != STORE_OK)
        return luaL_error(L, "the search failed (see log)");
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)total);
    lua_setfield(L, -2, "total");
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        api_push_ticket(L, hits[i].id);   /* the page's tickets exist: read in this call */
        char link[600];
        lua_pushstring(L, hits[i].excerpt ? hits[i].excerpt : "");
        lua_setfield(L, -2, "excerpt");
        if (desk_chat_link(rt->desk, hits[i].chat_channel, hits[i].chat_ref, link,
                           sizeof link) == 0) {
            lua_pushstring(L, link);
            lua_setfield(L, -2, "chat_url");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "tickets");
    store_hits_free(hits, n);
    return 1;
}

/* [since, until) from the arguments at 2 and 3 (until defaults to now). */
static void period(lua_State *L, int64_t *since, int64_t *until)
{
    *since = (int64_t)luaL_checkinteger(L, 2);
    *until = (int64_t)luaL_optinteger(L, 3, desk_now(script_rt_of(L)->desk) + 1);
}

/* ctx:responses(since [, until]) -> { r, … }, the tickets opened in
 * [since, until), oldest first: { id, opened_at, first_response_at (nil:
 * unanswered), sla_due_at, in_target (nil while unanswered and not yet
 * due), agent (a staff table: who queued the first reply or DM, else the
 * assignee; nil) }. */
static int c_responses(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    struct store_response *v;
    int64_t since, until, now = desk_now(rt->desk);
    size_t n;

    period(L, &since, &until);
    if (store_responses(rt->store, since, until, &v, &n) != STORE_OK)
        return luaL_error(L, "could not read the tickets (see log)");
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        const struct store_response *r = &v[i];
        lua_createtable(L, 0, 6);
        lua_pushinteger(L, r->id);
        lua_setfield(L, -2, "id");
        lua_pushinteger(L, r->opened_at);
        lua_setfield(L, -2, "opened_at");
        lua_pushinteger(L, r->sla_due_at);
        lua_setfield(L, -2, "sla_due_at");
        if (r->first_response_at) {
            lua_pushinteger(L, r->first_response_at);
            lua_setfield(L, -2, "first_response_at");
        }
        if (r->first_response_at || now > r->sla_due_at) {
            lua_pushboolean(L, r->first_response_at && r->first_response_at <= r->sla_due_at);
            lua_setfield(L, -2, "in_target");
        }
        if (r->agent) {
            api_push_user(L, r->agent);
            lua_setfield(L, -2, "agent");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    store_responses_free(v, n);
    script_charge(L, 50 * (long long)n);        /* a year of tickets is real work */
    return 1;
}

static void iso(char *out, size_t len, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!t || !gmtime_r(&tt, &tm))
        out[0] = '\0';
    else
        strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The CSV of the tickets opened in [since, until) into `b`. */
static int export_csv(struct script_rt *rt, int64_t since, int64_t until, struct buf *b,
                      size_t *rows)
{
    static const char *const head[] = {
        "ticket", "opened_at", "customer", "state", "assignee", "first_response_by",
        "first_response_at", "first_response_seconds", "due_at", "within_target", "tags",
        "text",
    };
    struct store_response *v;
    size_t n;
    int64_t now = desk_now(rt->desk);

    if (store_responses(rt->store, since, until, &v, &n) != STORE_OK)
        return -1;
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        csv_field(b, head[i], i == 0);
    csv_end_row(b);
    for (size_t i = 0; i < n; i++) {
        const struct store_response *r = &v[i];
        char id[24], opened[32], first[32], secs[24], due[32];
        const char *in = r->first_response_at ? (r->first_response_at <= r->sla_due_at
                                                 ? "yes" : "no")
                       : now > r->sla_due_at ? "no" : "";
        snprintf(id, sizeof id, "%lld", (long long)r->id);
        iso(opened, sizeof opened, r->opened_at);
        iso(first, sizeof first, r->first_response_at);
        iso(due, sizeof due, r->sla_due_at);
        if (r->first_response_at)
            snprintf(secs, sizeof secs, "%lld",
                     (long long)(r->first_response_at - r->opened_at));
        else
            secs[0] = '\0';
        csv_field(b, id, 1);
        csv_field(b, opened, 0);
        csv_field(b, r->customer_handle, 0);
        csv_field(b, r->state, 0);
        csv_field(b, r->assignee, 0);
        csv_field(b, r->agent, 0);
        csv_field(b, first, 0);
        csv_field(b, secs, 0);
        csv_field(b, due, 0);
        csv_field(b, in, 0);
        csv_field(b, r->tags, 0);
        csv_field(b, r->text, 0);
        csv_end_row(b);
    }
    *rows = n;
    store_responses_free(v, n);
    return b->failed ? -1 : 0;
}

/* Writes `len` bytes to a new file at `path` (0600, replacing a file but
 * never following a link).  0, or -1 with errno. */
static int write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    size_t off = 0;
    if (fd < 0)
        return -1;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

/* ctx:export(since [, until] [, path]): the tickets opened in [since,
 * until) as CSV (RFC 4180, formula-guarded).  With `path` (absolute) the
 * bot writes the file and returns the row count: only for the console's
 * and the REPL's admin (admin.user), never from a chat.  Without, returns
 * the CSV text and the row count. */
static int c_export(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    const char *path = lua_type(L, 4) == LUA_TSTRING ? lua_tostring(L, 4) : NULL;
    struct buf b;
    int64_t since, until;
    size_t rows = 0;
    char msg[400];

    period(L, &since, &until);
    if (path && (!rt->actor || strcmp(rt->actor, rt->cfg->admin_user) != 0))
        return api_fail(L, "Only the console's and the REPL's admin may write a file.");
    if (path && path[0] != '/')
        return api_fail(L, "Give the file an absolute path: the bot writes it, from its own "
                           "working directory.");
    buf_init(&b, 64u << 20);                     /* 64 MiB: about 200,000 tickets */
    if (export_csv(rt, since, until, &b, &rows)) {
        buf_free(&b);
        return api_fail(L, "The export failed: too many tickets for one file, or the store "
                           "failed (see log).");
    }
    if (path) {
        int rc = write_file(path, buf_str(&b), b.len);
        buf_free(&b);
        if (rc) {
            snprintf(msg, sizeof msg, "Could not write %.300s: %s", path, strerror(errno));
            return api_fail(L, msg);
        }
        lua_pushinteger(L, (lua_Integer)rows);
        return 1;
    }
    lua_pushlstring(L, buf_str(&b), b.len);
    buf_free(&b);
    lua_pushinteger(L, (lua_Integer)rows);
    return 2;
}

/* ctx:upload(filename, data [, title]): shares `data` as a file in the
 * channel the command came from (Slack's files upload flow).  The upload
 * runs after the command answers; a failure is said in that channel. */
static int c_upload(lua_State *L)
{
    struct script_rt *rt = script_rt_of(L);
    const char *name = luaL_checkstring(L, 2);
    size_t len;
    const char *data = luaL_checklstring(L, 3, &len);
    const char *title = luaL_optstring(L, 4, name);
    const char *channel = rt->cmd && rt->cmd->channel ? rt->cmd->channel
                                                      : rt->cfg->channel_mentions;
    int rc;

    luaL_argcheck(L, *name && !strpbrk(name, "/\\") && strlen(name) < 100, 2,
                  "a file name without a path");
    rc = desk_upload_file(rt->desk, channel, name, title, data, len);
    if (rc == DESK_INVALID)
        return api_fail(L, "This chat takes no files: run it from the console or `vigil "
                           "repl` with a path (/tw export 30d /tmp/tickets.csv).");
    if (rc != DESK_OK)
        return luaL_error(L, "could not start the upload (see log)");
    return 0;
}

void api_search_open(lua_State *L)
{
    static const luaL_Reg ctx_m[] = {
        { "find", c_find }, { "responses", c_responses }, { "export", c_export },
        { "upload", c_upload },
        { NULL, NULL },
    };
    luaL_getmetatable(L, "vigil.ctx");
    lua_getfield(L, -1, "__index");      /* the ctx methods' table */
    luaL_setfuncs(L, ctx_m, 0);
    lua_pop(L, 2);                       /* pop __index, metatable */
}
