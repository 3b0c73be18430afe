/* test_workload.c — presence, workload and auto-assignment: the shift
 * parser (pure), the ticket queries of the store, /tw away, /tw back and
 * /tw workload, the query and presence functions scripts get (vigil.tickets,
 * vigil.count, vigil.presence, vigil.available), a script's own kv, and
 * scripts/hooks/autoassign.lua choosing among available agents. */
#include "unit.h"
#include "fakes.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "chat/chat.h"
#include "chat/command.h"
#include "core/config.h"
#include "core/shift.h"
#include "desk/desk.h"
#include "script/script.h"
#include "source/source.h"
#include "store/store.h"

#define LEAD  "U1"   /* Alice Jensen */
#define AGENT "U2"   /* Bob Okafor */
#define ADMIN "U3"   /* Carmen Ruiz */
#define AGENT2 "U4"  /* Dana Lee */

#define CHECK_HAS(s, needle) do { const char *s_ = (s), *n_ = (needle);            \
    if (!s_ || !strstr(s_, n_))                                                    \
        unit_fail(__FILE__, __LINE__, "\"%s\" lacks \"%s\"", s_ ? s_ : "(null)", n_); \
    } while (0)

/* --- the shift parser ------------------------------------------------------ */

TEST(shift_weekdays_office_hours_are_on_tuesday_morning_not_saturday)
{
    struct shift s;
    char err[200];
    CHECK_INT(shift_parse("mon-fri 08:00-16:00", &s, err, sizeof err), 0);
    CHECK_INT(s.n, 1);
    CHECK(shift_contains(&s, 2, 8 * 60));          /* Tue 08:00: the first minute */
    CHECK(shift_contains(&s, 5, 15 * 60 + 59));    /* Fri 15:59 */
    CHECK(!shift_contains(&s, 5, 16 * 60));        /* Fri 16:00: gone home */
    CHECK(!shift_contains(&s, 1, 7 * 60 + 59));
    CHECK(!shift_contains(&s, 6, 10 * 60));        /* Saturday */
    CHECK(!shift_contains(&s, 0, 10 * 60));        /* Sunday */
}

TEST(shift_night_shift_runs_past_midnight_into_the_next_day)
{
    struct shift s;
    char err[200];
    CHECK_INT(shift_parse("fri 22:00-06:00", &s, err, sizeof err), 0);
    CHECK(shift_contains(&s, 5, 23 * 60));         /* Fri 23:00 */
    CHECK(shift_contains(&s, 6, 5 * 60 + 59));     /* Sat 05:59: Friday's night */
    CHECK(!shift_contains(&s, 6, 6 * 60));
    CHECK(!shift_contains(&s, 6, 23 * 60));        /* Saturday night: not theirs */
    CHECK(!shift_contains(&s, 5, 5 * 60));         /* Friday early: Thursday's night */
}

TEST(shift_several_parts_lists_ranges_over_the_weekend_and_words)
{
    struct shift s;
    char err[200];
    CHECK_INT(shift_parse("Mon/Wed 09:00-12:00, sat 10:00-24:00; fri-mon 20:00-21:00", &s,
                          err, sizeof err), 0);
    CHECK_INT(s.n, 3);
    CHECK(shift_contains(&s, 3, 9 * 60));          /* Wed */
    CHECK(!shift_contains(&s, 2, 9 * 60));         /* Tue */
    CHECK(shift_contains(&s, 6, 23 * 60 + 59));    /* Sat until midnight */
    CHECK(shift_contains(&s, 0, 20 * 60 + 30));    /* Sun, inside fri-mon */
    CHECK(!shift_contains(&s, 3, 20 * 60 + 30));   /* Wed evening */
    CHECK_INT(shift_parse("weekends 10:00-14:00", &s, err, sizeof err), 0);
    CHECK(shift_contains(&s, 0, 11 * 60) && shift_contains(&s, 6, 11 * 60));
    CHECK(!shift_contains(&s, 1, 11 * 60));
    CHECK_INT(shift_parse("daily 00:00-24:00", &s, err, sizeof err), 0);
    for (int d = 0; d < 7; d++)
        CHECK(shift_contains(&s, d, 0) && shift_contains(&s, d, 1439));
}

TEST(shift_that_cannot_be_read_is_refused_naming_the_part)
{
    struct shift s;
    char err[200];
    CHECK_INT(shift_parse("mon-fri 8-16", &s, err, sizeof err), -1);
    CHECK_HAS(err, "\"mon-fri 8-16\": hours are HH:MM-HH:MM");
    CHECK_INT(shift_parse("mon-fri 08:00-16:00, moonday 10:00-11:00", &s, err, sizeof err), -1);
    CHECK_HAS(err, "\"moonday 10:00-11:00\": days are");
    CHECK_INT(shift_parse("mon 25:00-26:00", &s, err, sizeof err), -1);
    CHECK_INT(shift_parse("mon 09:00-09:00", &s, err, sizeof err), -1);
    CHECK_HAS(err, "starts and ends at the same time");
    CHECK_INT(shift_parse("mon 09:00-17:00 please", &s, err, sizeof err), -1);
    CHECK_HAS(err, "unexpected \"please\"");
    CHECK_INT(shift_parse("  ", &s, err, sizeof err), -1);
    CHECK_HAS(err, "empty");
    CHECK_INT(shift_parse("mon 24:00-01:00", &s, err, sizeof err), -1);
}

TEST(shift_time_is_read_at_the_offset_given_not_the_process_zone)
{
    struct shift s;
    char err[200];
    /* 2026-12-07 is a Monday; 07:30 UTC is 08:30 at UTC+1 (Copenhagen) */
    int64_t t = 1796628600;
    CHECK_INT(shift_parse("mon-fri 08:00-16:00", &s, err, sizeof err), 0);
    CHECK(!shift_contains_time(&s, t, 0));
    CHECK(shift_contains_time(&s, t, 3600));
    CHECK(!shift_contains_time(&s, t, -8 * 3600));   /* Los Angeles: Sunday 23:30 */
    s.n = 0;
    CHECK(shift_contains_time(&s, t, 0));         /* no shift: always on */
}

/* --- fixture: desk + runtime over a scripts dir ----------------------------- */

struct fx {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
    struct script_rt *rt;
    char dbpath[600], cfgpath[700];
    char answer[8192];
};

static struct mention mk(int64_t id, const char *author, const char *handle, const char *text)
{
    struct mention m = { 0 };
    m.id = id;
    m.original_id = id;
    m.text = (char *)text;
    m.author_id = (char *)author;
    m.author_handle = (char *)handle;
    m.author_name = (char *)handle;
    m.conversation_id = (char *)author;   /* one conversation per customer */
    return m;
}

static void fx_start(struct fx *f)
{
    f->desk = fake_desk_open(&f->loop, f->cfgpath, f->dbpath, &f->cfg, &f->store);
    desk_set_adapters(f->desk, &fake.chat, &fake.source);
    desk_set_clock(f->desk, 1796628600);         /* Mon 2026-12-07 07:30 UTC */
    f->rt = script_new(&f->loop, f->desk);
    CHECK_INT(script_load_all(f->rt), 0);
    desk_set_hooks(f->desk, script_desk_hooks(f->rt));
    desk_start(f->desk);
}

/* `scripts` NULL: the repository's scripts/. */
static void fx_open(struct fx *f, const char *name, const char *scripts, const char *extra)
{
    char root[PATH_MAX];
    FILE *fp;

    memset(f, 0, sizeof *f);
    fake_reset(&fake_chat_ops_minimal);
    if (!realpath(unit_root(), root))
        snprintf(root, sizeof root, "%s", unit_root());
    snprintf(f->dbpath, sizeof f->dbpath, "%s", unit_tmp(name));
    snprintf(f->cfgpath, sizeof f->cfgpath, "%s.lua", f->dbpath);
    fp = fopen(f->cfgpath, "w");
    fprintf(fp, "replay = { file = 'x' }\n"
                "x = { handle = 'AcmeSupport', user_id = '99' }\n"
                "scripts = { dir = '%s%s', lib = '%s/lua' }\n"
                "staff = { U1 = { name = 'Alice Jensen', role = 'lead' },\n"
                "          U2 = { name = 'Bob Okafor' },\n"
                "          U3 = { name = 'Carmen Ruiz', role = 'admin' },\n"
                "          U4 = { name = 'Dana Lee', shift = 'daily 00:00-24:00' } }\n%s\n",
            scripts ? "" : root, scripts ? scripts : "/scripts", root, extra ? extra : "");
    fclose(fp);
    fx_start(f);
}

static void fx_stop(struct fx *f)
{
    fake_desk_close(&f->loop, f->desk, f->rt, f->store, f->cfg);
}

static void ingest(struct fx *f, int64_t id, const char *author)
{
    struct mention m = mk(id, author, author, "@AcmeSupport where is my order?");
    struct mention_page page = { .v = &m, .n = 1 };
    CHECK_INT(desk_ingest(f->desk, "test", &page, NULL, NULL), DESK_OK);
}

static const char *run(struct fx *f, const char *user, const char *line)
{
    return fake_run_command(f->rt, user, line, f->answer, sizeof f->answer);
}

static const char *lua(struct fx *f, const char *code)
{
    int ok;
    char *out = script_eval(f->rt, ADMIN, code, &ok);
    snprintf(f->answer, sizeof f->answer, "%s%s", ok ? "" : "error: ", out ? out : "(null)");
    free(out);
    return f->answer;
}

static const char *assignee(struct fx *f, int64_t id)
{
    static char who[64];
    struct ticket t;
    who[0] = '\0';
    if (store_ticket_get(f->store, id, &t) == STORE_OK) {
        snprintf(who, sizeof who, "%s", t.assignee ? t.assignee : "-");
        store_ticket_clear(&t);
    }
    return who;
}

/* Desk-wide audit events (no ticket) of `action` by `actor` (any: NULL),
 * read the way an admin would, with SQL. */
static int count_actions(struct fx *f, const char *action, const char *actor)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int c = -1;
    if (sqlite3_open_v2(f->dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE ticket_id IS NULL"
                               " AND action = ?1 AND (?2 IS NULL OR actor = ?2)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
        if (actor)
            sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            c = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return c;
}

/* --- ticket queries -------------------------------------------------------- */

TEST(store_ticket_query_filters_and_counts_by_assignee_state_and_waiting)
{
    struct fx f;
    struct ticket_query q = { .escalated = -1, .waiting = -1, .state = "open" };
    int64_t *ids;
    size_t n;
    char err[200];

    fx_open(&f, "query.db", NULL, NULL);
    for (int i = 0; i < 5; i++) {
        char who[16];
        snprintf(who, sizeof who, "c%d", i);
        ingest(&f, 100 + i, who);
    }
    CHECK_INT(desk_assign(f.desk, LEAD, 1, AGENT, err, sizeof err), DESK_OK);
    CHECK_INT(desk_assign(f.desk, LEAD, 3, AGENT, err, sizeof err), DESK_OK);
    CHECK_INT(desk_close(f.desk, LEAD, 5, err, sizeof err), DESK_OK);
    CHECK_INT(desk_tag(f.desk, LEAD, 2, "billing", err, sizeof err), DESK_OK);
    CHECK_INT(store_ticket_query_count(f.store, &q), 4);
    q.assignee = AGENT;
    CHECK_INT(store_ticket_query_count(f.store, &q), 2);
    q.oldest_first = 1;
    ids = store_ticket_query(f.store, &q, 1, &n);
    CHECK_INT(n, 1);
    CHECK_INT(ids ? ids[0] : 0, 1);
    free(ids);
    q.assignee = NULL;
    q.unassigned = 1;
    CHECK_INT(store_ticket_query_count(f.store, &q), 2);        /* #2, #4 */
    q.unassigned = 0;
    q.tag = "billing";
    CHECK_INT(store_ticket_query_count(f.store, &q), 1);
    q.tag = "bill";                                             /* whole tags only */
    CHECK_INT(store_ticket_query_count(f.store, &q), 0);
    q.tag = NULL;
    q.state = NULL;
    CHECK_INT(store_ticket_query_count(f.store, &q), 5);
    q.state = "closed";
    CHECK_INT(store_ticket_query_count(f.store, &q), 1);
    q.state = "open";
    q.waiting = 1;
    CHECK_INT(store_ticket_query_count(f.store, &q), 4);       /* nobody replied yet */
    fx_stop(&f);
}

TEST(vigil_tickets_returns_copies_and_refuses_typos_and_huge_lists)
{
    struct fx f;
    char err[200];
    fx_open(&f, "vtickets.db", NULL, NULL);
    ingest(&f, 100, "c1");
    ingest(&f, 101, "c2");
    ingest(&f, 102, "c3");
    CHECK_INT(desk_assign(f.desk, LEAD, 2, AGENT, err, sizeof err), DESK_OK);
    CHECK_STR(lua(&f, "local l = vigil.tickets{ state = 'open', limit = 2 }"
                      " return #l, l[1].id, l[2].id"), "2\t3\t2");
    CHECK_STR(lua(&f, "local l = vigil.tickets{ assignee = 'U2' } return #l, l[1].assignee.name"),
              "1\t\"Bob Okafor\"");
    CHECK_STR(lua(&f, "return vigil.count{ assignee = false }, vigil.count{ state = 'all' }"),
              "2\t3");
    /* a copy: changing it changes nothing in the store */
    CHECK_STR(lua(&f, "local t = vigil.tickets{ order = 'oldest', limit = 1 }[1]"
                      " t.assignee = nil t.state = 'closed' return t.id"), "1");
    CHECK_STR(lua(&f, "return vigil.count{ state = 'closed' }"), "0");
    CHECK_HAS(lua(&f, "return pcall(vigil.tickets, { asignee = 'U2' })"),
              "unknown filter 'asignee'");
    CHECK_HAS(lua(&f, "return pcall(vigil.tickets, { limit = 100000 })"), "limit is 1 to 500");
    CHECK_HAS(lua(&f, "return pcall(vigil.count, { limit = 3 })"), "unknown filter 'limit'");
    CHECK_HAS(lua(&f, "return pcall(vigil.tickets, { state = 'pending' })"), "state is");
    fx_stop(&f);
}

/* --- presence: away, back, shifts ------------------------------------------ */

TEST(away_with_a_reason_and_a_time_is_stored_audited_and_ends_by_itself)
{
    struct fx f;
    fx_open(&f, "away.db", NULL, NULL);
    CHECK_HAS(run(&f, AGENT, "away lunch 2h"), "You are away (lunch) until");
    CHECK_STR(lua(&f, "local p = vigil.presence('U2') return p.away, p.reason, p.back_at - vigil.now(),"
                      " vigil.available('U2')"), "true\t\"lunch\"\t7200\tfalse\t\"away\"");
    CHECK_INT(count_actions(&f, "away", AGENT), 1);
    /* it survives a restart */
    fx_stop(&f);
    fx_start(&f);
    CHECK_STR(lua(&f, "return vigil.presence('U2').away"), "true");
    desk_set_clock(f.desk, 1796628600 + 7201);
    CHECK_STR(lua(&f, "return vigil.presence('U2').away, vigil.available('U2')"), "false\ttrue");
    fx_stop(&f);
}

TEST(back_ends_an_absence_and_only_a_lead_sets_someone_else)
{
    struct fx f;
    fx_open(&f, "back.db", NULL, NULL);
    CHECK_HAS(run(&f, AGENT, "away until 14:00"), "You are away until Mon 14:00");
    CHECK_HAS(run(&f, AGENT, "back"), "Welcome back.");
    CHECK_INT(count_actions(&f, "back", AGENT), 1);
    CHECK_HAS(run(&f, AGENT, "back"), "Bob Okafor was not away.");
    CHECK_HAS(run(&f, AGENT, "away @Dana sick"), "needs the lead role");
    CHECK_STR(lua(&f, "return vigil.presence('U4').away"), "false");
    CHECK_HAS(run(&f, LEAD, "away @Dana sick tomorrow"), "Dana Lee is away (sick) until Tue 09:00");
    CHECK_HAS(run(&f, LEAD, "back @Dana"), "Dana Lee is back.");
    fx_stop(&f);
}

TEST(staff_off_shift_are_not_available_and_a_bad_shift_is_a_config_error)
{
    struct fx f;
    char err[300], path[700];
    struct config *c;
    FILE *fp;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

    setenv("TZ", "UTC", 1);
    tzset();
    fx_open(&f, "shift.db", NULL,
            "staff.U2.shift = 'mon-fri 08:00-16:00'");   /* Monday 07:30 UTC: not yet */
    CHECK_STR(lua(&f, "local p = vigil.presence('U2') return p.on_shift, p.shift,"
                      " vigil.available('U2')"),
              "false\t\"mon-fri 08:00-16:00\"\tfalse\t\"off shift\"");
    desk_set_clock(f.desk, 1796628600 + 3600);
    CHECK_STR(lua(&f, "return vigil.available('U2')"), "true");
    fx_stop(&f);

    /* the desk's zone (sla.hours.timezone) decides, whatever TZ says:
     * Monday 07:30 UTC is Monday 16:30 in Tokyo, Sunday 23:30 in Los Angeles */
    setenv("TZ", "Europe/Copenhagen", 1);
    tzset();
    fx_open(&f, "shift_tokyo.db", NULL,
            "sla = { hours = { timezone = 'Asia/Tokyo', weekdays = '09:00-17:00' } }\n"
            "staff.U1.shift = 'mon 09:00-17:00'\nstaff.U2.shift = 'mon-fri 08:00-16:00'");
    CHECK_STR(lua(&f, "return vigil.available('U1'), vigil.available('U2')"),
              "true\tfalse\t\"off shift\"");
    fx_stop(&f);
    fx_open(&f, "shift_la.db", NULL,
            "sla = { hours = { timezone = 'America/Los_Angeles', weekdays = '09:00-17:00' } }\n"
            "staff.U1.shift = 'sun 23:00-24:00'\nstaff.U2.shift = 'mon-fri 08:00-16:00'");
    CHECK_STR(lua(&f, "return vigil.available('U1'), vigil.available('U2')"),
              "true\tfalse\t\"off shift\"");
    fx_stop(&f);
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);

    snprintf(path, sizeof path, "%s", unit_tmp("badshift.lua"));
    fp = fopen(path, "w");
    fprintf(fp, "staff = { U1 = { name = 'A', shift = 'weekdays 9-5' } }\n");
    fclose(fp);
    c = config_load(path, err, sizeof err);
    CHECK(c == NULL);
    CHECK_HAS(err, "staff[\"U1\"].shift");
    CHECK_HAS(err, "hours are HH:MM-HH:MM");
    fp = fopen(path, "w");
    fprintf(fp, "replay = { file = 'x' }\nautoassign = { mode = 'random' }\n");
    fclose(fp);
    c = config_load(path, err, sizeof err);
    CHECK(c == NULL);
    CHECK_HAS(err, "autoassign.mode");
}

TEST(workload_shows_open_per_agent_oldest_waiting_who_is_away_and_unassigned)
{
    struct fx f;
    char err[200];
    const char *a;
    fx_open(&f, "workload.db", NULL, NULL);
    ingest(&f, 100, "c1");
    ingest(&f, 101, "c2");
    ingest(&f, 102, "c3");
    desk_set_clock(f.desk, 1796628600 + 2 * 3600 + 300);
    CHECK_INT(desk_assign(f.desk, LEAD, 1, AGENT, err, sizeof err), DESK_OK);
    CHECK_INT(desk_assign(f.desk, LEAD, 2, AGENT, err, sizeof err), DESK_OK);
    run(&f, LEAD, "away offsite");
    a = run(&f, AGENT, "workload");
    CHECK_HAS(a, "Bob Okafor    2     #1 (2 h 5 min)");
    CHECK_HAS(a, "Alice Jensen  0     -");
    CHECK_HAS(a, "away (offsite)");
    CHECK_HAS(a, "Unassigned: 1, oldest waiting #3");
    CHECK(strstr(a, "Carmen Ruiz") == NULL);       /* an admin holding nothing */
    fx_stop(&f);
}

/* --- kv: a script's own, in commands and hooks ----------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

TEST(kv_is_each_script_files_own_in_commands_and_hooks_and_survives_restarts)
{
    struct fx f;
    char dir[600], path[700];

    snprintf(dir, sizeof dir, "%s", unit_tmp("kvscripts"));
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/hooks", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/count.lua", dir);
    write_file(path, "return command { run = function(ctx)\n"
                     "  kv:set('n', (kv:get('n') or 0) + 1)\n"
                     "  kv:set('t', { a = 1, list = { 'x', true } })\n"
                     "  return ('n=%d ctx=%s seen=%s'):format(kv:get('n'), tostring(ctx.kv:get('n')),\n"
                     "    tostring(kv:get('seen')))\n"
                     "end }\n");
    snprintf(path, sizeof path, "%s/hooks/seen.lua", dir);
    write_file(path, "return hooks { on_mention = function(t, m)\n"
                     "  kv:set('seen', (kv:get('seen') or 0) + 1)\n"
                     "end }\n");
    snprintf(path, sizeof path, "%s/peek.lua", dir);
    write_file(path, "return command { run = function(ctx)\n"
                     "  local ok, e = pcall(kv.set, kv, 'big', ('x'):rep(2 * 1024 * 1024))\n"
                     "  kv:delete('nothing')\n"
                     "  local okk, ek = pcall(kv.set, kv, ('k'):rep(300), 1)\n"
                     "  e = tostring(e) .. ' / ' .. tostring(ek)\n"
                     "  return tostring(kv:get('n')) .. ' ' .. tostring(kv:get('seen')) .. ' ' .. tostring(e)\n"
                     "end }\n");
    fx_open(&f, "kv.db", dir, NULL);
    ingest(&f, 100, "c1");
    ingest(&f, 101, "c2");
    CHECK_STR(run(&f, AGENT, "count"), "n=1 ctx=1 seen=nil");
    CHECK_STR(run(&f, AGENT, "count"), "n=2 ctx=2 seen=nil");
    CHECK_HAS(run(&f, AGENT, "peek"), "nil nil");
    CHECK_HAS(f.answer, "larger than 1 MiB");
    CHECK_HAS(f.answer, "kv keys are at most 256 bytes");
    fx_stop(&f);
    fx_start(&f);
    CHECK_STR(run(&f, AGENT, "count"), "n=3 ctx=3 seen=nil");
    {
        char *seen = store_kv_get(f.store, "hooks/seen.lua", "seen");
        CHECK_STR(seen, "2");
        free(seen);
    }
    fx_stop(&f);
}

/* --- auto-assignment -------------------------------------------------------- */

TEST(autoassign_is_off_by_default)
{
    struct fx f;
    fx_open(&f, "aa-off.db", NULL, NULL);
    ingest(&f, 100, "c1");
    CHECK_STR(assignee(&f, 1), "-");
    fx_stop(&f);
}

TEST(autoassign_round_robin_skips_the_away_and_goes_round)
{
    struct fx f;
    fx_open(&f, "aa-rr.db", NULL, "autoassign = { mode = 'round_robin' }");
    run(&f, AGENT, "away dentist");
    for (int i = 0; i < 4; i++) {
        char who[8];
        snprintf(who, sizeof who, "c%d", i);
        ingest(&f, 100 + i, who);
    }
    /* U1 (lead), U4 (agent); U2 away, U3 an admin */
    CHECK_STR(assignee(&f, 1), LEAD);
    CHECK_STR(assignee(&f, 2), AGENT2);
    CHECK_STR(assignee(&f, 3), LEAD);
    CHECK_STR(assignee(&f, 4), AGENT2);
    CHECK_INT(count_actions(&f, "assigned", NULL), 0);   /* on the tickets, not desk-wide */
    {
        size_t n;
        struct event *ev = store_events_of(f.store, 1, &n);
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(ev[i].action, "assigned") == 0 &&
                     strcmp(ev[i].actor, "hook:autoassign.lua") == 0;
        store_events_free(ev, n);
        CHECK(found);
    }
    /* the rotation's place is in the hook's kv: a restart continues it */
    fx_stop(&f);
    fx_start(&f);
    ingest(&f, 200, "c9");
    CHECK_STR(assignee(&f, 5), LEAD);
    fx_stop(&f);
}

TEST(autoassign_least_loaded_picks_the_emptiest_and_skips_anyone_at_the_cap)
{
    struct fx f;
    char err[200];
    fx_open(&f, "aa-ll.db", NULL, "autoassign = { mode = 'least_loaded', cap = 2 }");
    ingest(&f, 100, "c0");     /* -> U1 (all at 0: the first in the rotation) */
    CHECK_STR(assignee(&f, 1), LEAD);
    CHECK_INT(desk_assign(f.desk, LEAD, 1, AGENT, err, sizeof err), DESK_OK);
    ingest(&f, 101, "c1");     /* U1 0, U2 1, U4 0: tie U1/U4, after U1 in rotation -> U4 */
    CHECK_STR(assignee(&f, 2), AGENT2);
    ingest(&f, 102, "c2");     /* U1 0 */
    CHECK_STR(assignee(&f, 3), LEAD);
    ingest(&f, 103, "c3");     /* all at 1: after U1 -> U2 */
    CHECK_STR(assignee(&f, 4), AGENT);
    ingest(&f, 104, "c4");     /* U2 at 2 = cap; U1, U4 at 1: after U2 -> U4 */
    CHECK_STR(assignee(&f, 5), AGENT2);
    ingest(&f, 105, "c5");     /* U1 at 1 */
    CHECK_STR(assignee(&f, 6), LEAD);
    ingest(&f, 106, "c6");     /* everyone at the cap: nobody */
    CHECK_STR(assignee(&f, 7), "-");
    fx_stop(&f);
}
