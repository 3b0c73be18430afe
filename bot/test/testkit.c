/* testkit.c — `vigil test`: the C half of the script author's test kit.
 * A test bot is the runtime the bot runs (script/, desk/) over an
 * in-memory store, a recorder for chat and source (test/record.c) and a
 * fixed clock that only bot:advance moves.  The test API itself (test(),
 * expect(), the bot's readers, diffs) is Lua: bot/test/testkit.lua,
 * compiled in.  Test files run in a plain Lua state of their own; the
 * scripts they test run in the bot's sandboxed one, as in production.
 * Knows the desk, the store and the script runtime; never a wire format
 * (buttons go through slack_action_command, the one map of them). */
#include "test/testkit.h"

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "chat/command.h"
#include "chat/slackparse.h"
#include "core/config.h"
#include "core/log.h"
#include "desk/desk.h"
#include "script/script.h"
#include "store/store.h"
#include "test/offline.h"
#include "test/record.h"

#include "testkit_lua.h"   /* testkit_lua[]: bot/test/testkit.lua as a C string */

/* 2026-12-01 09:00:00 UTC, a Tuesday morning: every test starts there. */
#define TEST_EPOCH INT64_C(1796115600)
/* Tweet ids the test did not choose (X snowflakes of late 2026). */
#define TEST_FIRST_TWEET INT64_C(1864000000000000001)

#define BOT_MT "vigil.testbot"

struct tbot {
    struct offline o;
    int64_t next_tweet;
};

/* Warnings and errors the current bot logged (script errors among them):
 * bot:log() reads them, and a test bot whose scripts fail to load says why.
 * One bot logs at a time: the kit is single-threaded. */
static char logbuf[8192];
static size_t loglen;
static int verbose;

static void on_log(void *arg, enum log_level level, const char *line)
{
    size_t n = strlen(line);
    if (loglen + n + 2 > sizeof logbuf)
        return;   /* the first lines say what went wrong; the rest is noise */
    memcpy(logbuf + loglen, line, n);
    loglen += n;
    logbuf[loglen++] = '\n';
    logbuf[loglen] = '\0';
}

static void quiet_writer(void *arg, const char *line)
{
    if (verbose)
        fprintf(stderr, "%s\n", line);
}

static struct tbot *check_bot(lua_State *L)
{
    struct tbot **b = luaL_checkudata(L, 1, BOT_MT);
    luaL_argcheck(L, *b && (*b)->o.open, 1, "this test bot was closed");
    return *b;
}

/* Writes `text` to a private temporary file and loads it as the config.
 * Returns new (config_free), or NULL with `err` set. */
static struct config *config_from_text(const char *text, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    struct config *cfg = NULL;
    FILE *f;
    int fd;

    snprintf(path, sizeof path, "%s/vigil-test-XXXXXX.lua", dir && *dir ? dir : "/tmp");
    fd = mkstemps(path, 4);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return NULL;
    }
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    fputs(text, f);
    if (fclose(f)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    cfg = config_load(path, err, errlen);
out:
    unlink(path);
    return cfg;
}

/* _kit.abspath(path) -> the path made absolute against the current
 * directory.  The test bot's config is a temporary file, and a config's
 * relative paths resolve against its own directory, so the folders a test
 * names (relative to where `vigil test` runs) are made absolute first. */
static int k_abspath(lua_State *L)
{
    const char *p = luaL_checkstring(L, 1);
    char cwd[4096];
    if (p[0] == '/' || !getcwd(cwd, sizeof cwd)) {
        lua_pushstring(L, p);
        return 1;
    }
    lua_pushfstring(L, "%s/%s", cwd, p);
    return 1;
}

/* _kit.bot(config_text) -> bot, or raises with the config's or the
 * scripts' errors. */
static int k_bot(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    struct tbot **ud = lua_newuserdatauv(L, sizeof *ud, 0);
    struct tbot *b;
    struct config *cfg;
    char err[1024];
    int failures;

    *ud = NULL;
    luaL_setmetatable(L, BOT_MT);
    b = calloc(1, sizeof *b);
    if (!b)
        return luaL_error(L, "out of memory");
    *ud = b;
    b->next_tweet = TEST_FIRST_TWEET;
    cfg = config_from_text(text, err, sizeof err);
    if (!cfg)
        return luaL_error(L, "test.bot: invalid config: %s", err);
    loglen = 0;
    logbuf[0] = '\0';
    if (offline_open(&b->o, cfg, TEST_EPOCH, &failures, err, sizeof err))
        return luaL_error(L, "test.bot: %s", err);
    lua_pushinteger(L, failures);
    lua_pushstring(L, logbuf);
    return 3;
}

static int b_gc(lua_State *L)
{
    struct tbot **ud = luaL_checkudata(L, 1, BOT_MT);
    if (*ud) {
        offline_close(&(*ud)->o);
        free(*ud);
        *ud = NULL;
    }
    return 0;
}

static int b_close(lua_State *L)
{
    struct tbot **ud = luaL_checkudata(L, 1, BOT_MT);
    if (*ud)
        offline_close(&(*ud)->o);
    return 0;
}

static char *opt_dup(lua_State *L, int t, const char *field)
{
    char *s = NULL;
    if (lua_getfield(L, t, field) == LUA_TSTRING)
        s = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);   /* the field */
    return s;
}

/* bot:_mention{from, text, name, id, conversation, reply_to_user, lang}
 * -> ticket id (0 when the mention opened none, e.g. the bot's own tweet),
 * ingest stats table.  Ingested as a source page, hooks and all. */
static int b_mention(lua_State *L)
{
    struct tbot *b = check_bot(L);
    struct mention m;
    struct mention_page page = { 0 };
    struct ingest_stats st = { 0 };
    char id[32];
    const char *from;
    int64_t ticket;
    int has = 0, rc;

    luaL_checktype(L, 2, LUA_TTABLE);
    memset(&m, 0, sizeof m);
    /* checked before anything is allocated: a raised error frees nothing */
    lua_getfield(L, 2, "from");
    from = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    luaL_argcheck(L, from && from[strspn(from, "@")], 2, "mention needs from = \"@handle\"");
    luaL_argcheck(L, lua_getfield(L, 2, "text") == LUA_TSTRING, 2,
                  "mention needs text = \"...\"");
    lua_pop(L, 1);   /* text */
    m.author_handle = strdup(from + strspn(from, "@"));
    lua_pop(L, 1);   /* from */
    m.text = opt_dup(L, 2, "text");
    lua_getfield(L, 2, "id");
    m.id = lua_isinteger(L, -1) ? lua_tointeger(L, -1)
         : lua_isstring(L, -1) ? strtoll(lua_tostring(L, -1), NULL, 10) : b->next_tweet++;
    lua_pop(L, 1);   /* id */
    m.original_id = m.id;
    snprintf(id, sizeof id, "%" PRId64, m.id);
    m.author_name = opt_dup(L, 2, "name");
    m.author_id = opt_dup(L, 2, "user_id");
    if (!m.author_id) {
        char uid[128];
        snprintf(uid, sizeof uid, "u-%s", m.author_handle);   /* one customer per handle */
        m.author_id = strdup(uid);
    }
    m.conversation_id = opt_dup(L, 2, "conversation");
    if (!m.conversation_id)
        m.conversation_id = strdup(id);
    m.in_reply_to_user_id = opt_dup(L, 2, "reply_to_user");
    m.lang = opt_dup(L, 2, "lang");
    m.created_at = desk_now(b->o.desk);
    page.v = &m;
    page.n = 1;
    rc = offline_ingest(&b->o, &page, &st);
    mention_clear(&m);
    if (rc)
        return luaL_error(L, "mention: ingest failed (see bot:log())");
    ticket = store_mention_ticket_by_original(b->o.store, strtoll(id, NULL, 10), &has);
    lua_pushinteger(L, ticket > 0 ? ticket : 0);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, st.opened);
    lua_setfield(L, -2, "opened");
    lua_pushinteger(L, st.attached);
    lua_setfield(L, -2, "attached");
    lua_pushinteger(L, st.skipped + st.duplicates);
    lua_setfield(L, -2, "skipped");
    lua_pushstring(L, id);
    lua_setfield(L, -2, "tweet");
    return 2;
}

/* Runs `cmd` as `user`, pushes the answer. */
static int run_command(lua_State *L, struct tbot *b, struct chat_command *cmd)
{
    char *answer = offline_command(&b->o, cmd);
    chat_command_clear(cmd);
    lua_pushstring(L, answer ? answer : "");
    free(answer);
    return 1;
}

/* bot:say(user, "/tw assign 1 me") -> the answer the user reads. */
static int b_say(lua_State *L)
{
    struct tbot *b = check_bot(L);
    struct chat_command cmd = { 0 };
    cmd.user_id = luaL_checkstring(L, 2);
    cmd.channel = b->o.cfg->channel_mentions;
    if (chat_command_parse(&cmd, luaL_checkstring(L, 3), b->o.cfg->command, CHAT_PARSE_PEOPLE))
        return luaL_error(L, "out of memory");
    if (!cmd.verb) {
        chat_command_clear(&cmd);
        return luaL_argerror(L, 3, "not a command");
    }
    return run_command(L, b, &cmd);
}

/* bot:press(user, "assign_me", 1) -> the answer, as for the button. */
static int b_press(lua_State *L)
{
    struct tbot *b = check_bot(L);
    struct chat_command cmd = { 0 };
    const char *action = luaL_checkstring(L, 3);
    char value[32];
    snprintf(value, sizeof value, "%lld", (long long)luaL_checkinteger(L, 4));
    cmd.user_id = luaL_checkstring(L, 2);
    cmd.channel = b->o.cfg->channel_mentions;
    if (slack_action_command(b->o.cfg->command, action, value, &cmd))
        return luaL_error(L, "press: no button \"%s\" (assign_me, escalate, close, reopen, "
                          "resend)", action);
    return run_command(L, b, &cmd);
}

/* bot:advance(seconds): moves the clock (whole seconds), running what
 * falls due when it is due (offline_advance_to). */
static int b_advance(lua_State *L)
{
    struct tbot *b = check_bot(L);
    lua_Number left = luaL_checknumber(L, 2);
    luaL_argcheck(L, left >= 0, 2, "time only moves forward");
    offline_advance_to(&b->o, desk_now(b->o.desk) + (int64_t)(left + 0.999));
    return 0;
}

static int b_now(lua_State *L)
{
    lua_pushinteger(L, desk_now(check_bot(L)->o.desk));
    return 1;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, int64_t v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

/* bot:ticket(id) -> a plain table of the ticket as stored, or nil. */
static int b_ticket(lua_State *L)
{
    struct tbot *b = check_bot(L);
    struct ticket t;
    if (store_ticket_get(b->o.store, luaL_checkinteger(L, 2), &t) != STORE_OK) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 24);
    set_int(L, "id", t.id);
    set_str(L, "state", t.state);
    set_str(L, "status", desk_ticket_status(&t));
    set_str(L, "customer", t.customer_handle);
    set_str(L, "customer_name", t.customer_name);
    set_str(L, "customer_id", t.customer_id);
    set_str(L, "text", t.text);
    set_str(L, "tweet", t.tweet_id);
    set_str(L, "last_tweet", t.last_tweet_id);
    set_str(L, "assignee", t.assignee);
    if (t.assignee)
        set_str(L, "assignee_name", desk_staff_name(b->o.desk, t.assignee));
    set_bool(L, "escalated", t.escalated);
    set_str(L, "escalation_reason", t.escalation_reason);
    set_str(L, "priority", t.priority);
    lua_newtable(L);   /* tags, as a list */
    if (t.tags && *t.tags) {
        const char *p = t.tags;
        int i = 1;
        while (*p) {
            size_t n = strcspn(p, ",");
            lua_pushlstring(L, p, n);
            lua_rawseti(L, -2, i++);
            p += n + (p[n] == ',');
        }
    }
    lua_setfield(L, -2, "tags");
    set_int(L, "opened_at", t.opened_at);
    set_int(L, "first_response_at", t.first_response_at);
    set_int(L, "closed_at", t.closed_at);
    set_int(L, "sla_due_at", t.sla_due_at);
    set_bool(L, "sla_warned", t.sla_warned);
    set_bool(L, "sla_breached", t.sla_breached);
    set_int(L, "mentions", store_ticket_mentions(b->o.store, t.id));
    store_ticket_clear(&t);
    return 1;
}

/* bot:events(id) -> { {at, actor, action, detail}, ... } oldest first;
 * bot:events() -> the desk-wide ones (away, back), which have no ticket. */
static int b_events(lua_State *L)
{
    struct tbot *b = check_bot(L);
    size_t n = 0;
    struct event *ev = store_events_of(b->o.store, luaL_optinteger(L, 2, 0), &n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 4);
        set_int(L, "at", ev[i].at);
        set_str(L, "actor", ev[i].actor);
        set_str(L, "action", ev[i].action);
        set_str(L, "detail", ev[i].detail ? ev[i].detail : "");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    store_events_free(ev, n);
    return 1;
}

/* bot:_sent() -> every recorded send, in order: {kind, ticket, channel,
 * ref, to, text}.  A public reply names its ticket (the mention answered). */
static int b_sent(lua_State *L)
{
    struct tbot *b = check_bot(L);
    lua_createtable(L, (int)b->o.rec->n, 0);
    for (size_t i = 0; i < b->o.rec->n; i++) {
        const struct record_entry *e = &b->o.rec->v[i];
        int64_t ticket = e->ticket;
        int has;
        if (!ticket && strcmp(e->kind, "reply") == 0 && e->to)
            ticket = store_mention_ticket_by_original(b->o.store, strtoll(e->to, NULL, 10), &has);
        lua_createtable(L, 0, 6);
        set_str(L, "kind", e->kind);
        if (ticket > 0)
            set_int(L, "ticket", ticket);
        set_str(L, "channel", e->channel);
        set_str(L, "ref", e->ref);
        set_str(L, "to", e->to);
        set_str(L, "text", e->text ? e->text : "");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* bot:queued("reply" | "dm") -> { {ticket, to, text}, ... }: the public
 * replies or DMs still waiting in the outbox (a hold before replies go
 * out, X's spacing, a retry), oldest first. */
static int b_queued(lua_State *L)
{
    struct tbot *b = check_bot(L);
    const char *what = luaL_checkstring(L, 2);
    int dm = strcmp(what, "dm") == 0;
    size_t n = 0;
    int64_t *ids;

    luaL_argcheck(L, dm || !strcmp(what, "reply"), 2, "\"reply\" or \"dm\"");
    ids = store_job_queued_of_kind(b->o.store, dm ? "x:dm" : "x:tweets", dm ? "x.dm" : "x.reply",
                                   1000, &n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        struct job j;
        json_t *p;
        if (store_job_get(b->o.store, ids[i], &j) != STORE_OK)
            continue;
        p = json_loads(j.payload ? j.payload : "{}", 0, NULL);
        lua_createtable(L, 0, 3);
        set_int(L, "ticket", j.ticket_id);
        set_str(L, "to", json_string_value(json_object_get(p, dm ? "to" : "in_reply_to")));
        set_str(L, "text", json_string_value(json_object_get(p, "text")));
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        json_decref(p);
        store_job_clear(&j);
    }
    free(ids);
    return 1;
}

/* bot:fail_next("reply" | "dm" | "delete", error): X refuses the next such
 * send (or unsend's delete) for good, with `error` (default: a deleted tweet). */
static int b_fail_next(lua_State *L)
{
    struct tbot *b = check_bot(L);
    const char *kind = luaL_checkstring(L, 2);
    luaL_argcheck(L, !strcmp(kind, "reply") || !strcmp(kind, "dm") || !strcmp(kind, "delete"), 2,
                  "\"reply\", \"dm\" or \"delete\"");
    b->o.rec->fail_kind = !strcmp(kind, "reply") ? "reply" : !strcmp(kind, "dm") ? "dm" : "delete";
    snprintf(b->o.rec->fail_error, sizeof b->o.rec->fail_error, "%s",
             luaL_optstring(L, 3, "You attempted to reply to a Tweet that is deleted"));
    return 0;
}

/* bot:log() -> the warnings and errors logged since the bot started. */
static int b_log(lua_State *L)
{
    check_bot(L);
    lua_pushstring(L, logbuf);
    return 1;
}

/* Runs one test file through testkit.lua's runner; adds to the counts. */
static void run_file(lua_State *L, const char *path, int *passed, int *failed)
{
    lua_getglobal(L, "_kit_run_file");
    lua_pushstring(L, path);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
        printf("FAIL %s: %s\n", path, lua_tostring(L, -1));
        lua_pop(L, 1);   /* the error */
        (*failed)++;
        return;
    }
    *passed += (int)lua_tointeger(L, -2);
    *failed += (int)lua_tointeger(L, -1);
    lua_pop(L, 2);   /* the counts */
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil test [--scripts DIR] [--lib DIR] [-v] [PATH...]\n"
               "  runs Lua test files (default: scripts/tests/*_test.lua) against the\n"
               "  scripts of DIR (default: the folder above each test file's tests/,\n"
               "  else scripts) with lua/ as their library; sends nothing anywhere.\n");
}

int testkit_main(int argc, char **argv)
{
    static const luaL_Reg bot_m[] = {
        { "_mention", b_mention }, { "say", b_say }, { "press", b_press },
        { "advance", b_advance }, { "now", b_now }, { "ticket", b_ticket },
        { "events", b_events }, { "_sent", b_sent }, { "log", b_log }, { "close", b_close },
        { "fail_next", b_fail_next }, { "queued", b_queued },
        { NULL, NULL },
    };
    const char *scripts = NULL, *lib = "lua";
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    glob_t g = { 0 };
    lua_State *L = NULL;
    int npaths = 0, passed = 0, failed = 0, rc = 2;

    if (!paths)
        return 2;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--scripts") && i + 1 < argc) {
            scripts = argv[++i];
        } else if (!strcmp(argv[i], "--lib") && i + 1 < argc) {
            lib = argv[++i];
        } else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            verbose = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "vigil test: unknown option '%s'\n", argv[i]);
            usage(stderr);
            goto out;
        } else {
            paths[npaths++] = argv[i];
        }
    }
    if (!npaths) {
        if (glob("scripts/tests/*_test.lua", 0, NULL, &g) || !g.gl_pathc) {
            fprintf(stderr, "vigil test: no test files (scripts/tests/*_test.lua); "
                            "`vigil new-command NAME` writes one\n");
            rc = 1;
            goto out;
        }
        free(paths);
        paths = (const char **)g.gl_pathv;   /* globfree frees them */
        npaths = (int)g.gl_pathc;
    }
    log_set_level(verbose ? LOG_DEBUG : LOG_WARN);
    log_set_writer(quiet_writer, NULL);
    log_set_sink(on_log, NULL);

    L = luaL_newstate();
    if (!L)
        goto out;
    luaL_openlibs(L);
    luaL_newmetatable(L, BOT_MT);
    lua_pushcfunction(L, b_gc);
    lua_setfield(L, -2, "__gc");
    luaL_newlib(L, bot_m);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);   /* metatable; testkit.lua sets its __index */
    lua_newtable(L);   /* _kit */
    lua_pushcfunction(L, k_bot);
    lua_setfield(L, -2, "bot");
    lua_pushcfunction(L, k_abspath);
    lua_setfield(L, -2, "abspath");
    luaL_getmetatable(L, BOT_MT);
    lua_setfield(L, -2, "bot_mt");
    lua_pushstring(L, scripts ? scripts : "");
    lua_setfield(L, -2, "scripts");
    lua_pushstring(L, lib);
    lua_setfield(L, -2, "lib");
    lua_pushinteger(L, TEST_EPOCH);
    lua_setfield(L, -2, "epoch");
    lua_setglobal(L, "_kit");
    if (luaL_loadbuffer(L, testkit_lua, strlen(testkit_lua), "=testkit.lua") ||
        lua_pcall(L, 0, 0, 0)) {
        fprintf(stderr, "vigil test: %s\n", lua_tostring(L, -1));
        goto out;
    }
    for (int i = 0; i < npaths; i++)
        run_file(L, paths[i], &passed, &failed);
    printf("%d passed, %d failed\n", passed, failed);
    rc = failed || !passed ? 1 : 0;
out:
    if (L)
        lua_close(L);   /* collects the bots still open */
    log_set_sink(NULL, NULL);
    log_set_writer(NULL, NULL);
    if (paths != (const char **)g.gl_pathv)
        free(paths);
    globfree(&g);
    return rc;
}
