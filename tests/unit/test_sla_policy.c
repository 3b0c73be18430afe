/* test_sla_policy.c — the desk's SLA policy (desk/sla.c) on a controlled
 * clock: business hours pause the first-response and next-response clocks,
 * warnings come at each sla.warn offset once, alerts notify the assignee or
 * sla.notify, a team's tag moves a ticket to the team's hours. */
#include "unit.h"

#include <stdlib.h>
#include <time.h>
#include <uv.h>

#include "core/config.h"
#include "desk/desk.h"
#include "fakes.h"
#include "source/mention.h"
#include "store/store.h"

struct fx {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
};

static void fx_open_with(struct fx *f, const char *name, const char *sla);

static void fx_open(struct fx *f, const char *name)
{
    fx_open_with(f, name, NULL);
}

/* `sla`: the config's sla table instead of the Berlin office's. */
static void fx_open_with(struct fx *f, const char *name, const char *sla)
{
    char cfgpath[700], dbpath[600];
    FILE *fp;

    fake_reset(&fake_chat_ops);
    snprintf(dbpath, sizeof dbpath, "%s", unit_tmp(name));
    snprintf(cfgpath, sizeof cfgpath, "%s.lua", dbpath);
    fp = fopen(cfgpath, "w");
    fprintf(fp, "replay = { file = 'x' }\n"
                "x = { handle = 'AcmeSupport', user_id = '99' }\n"
                "outbox = { x_rate = 1000, max_attempts = 3, max_backoff = 0.01 }\n"
                "staff = { U1 = { name = 'Alice Jensen' } }\n"
                "channels = { on_duty = '@support-oncall' }\n"
                "reply = { hold = 0, collision_window = 0 }\n");   /* sends go at once */
    if (sla)
        fprintf(fp, "sla = %s\n", sla);
    else
        fprintf(fp, "sla = { first_response = 3600, follow_up = 2400, warn = { 1800, 600 },\n"
                "  notify = 'S0ONCALL',\n"
                "  hours = { timezone = 'Europe/Berlin', weekdays = '09:00-17:00',\n"
                "            holidays = { '2026-12-24' } },\n"
                "  teams = { billing = { timezone = 'America/New_York',\n"
                "                        weekdays = '09:00-17:00' } } }\n");
    fclose(fp);
    f->desk = fake_desk_open(&f->loop, cfgpath, dbpath, &f->cfg, &f->store);
}

static void fx_drain(struct fx *f)
{
    for (int i = 0; i < 200; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void fx_close(struct fx *f)
{
    fake_desk_close(&f->loop, f->desk, NULL, f->store, f->cfg);
}

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm);
}

/* A tweet by @ann in conversation 900, written and seen at `at`. */
static void tweet(struct fx *f, int64_t id, int64_t at)
{
    struct mention m = { 0 };
    struct mention_page p = { 0 };
    m.id = id;
    m.original_id = id;
    m.text = "hello?";
    m.author_id = m.author_handle = "ann";
    m.conversation_id = "900";
    m.created_at = at;
    p.v = &m;
    p.n = 1;
    desk_set_clock(f->desk, at);
    desk_ingest(f->desk, "test", &p, NULL, NULL);
}

static int count_events(struct fx *f, const char *action)
{
    size_t n;
    int c = 0;
    struct event *ev = store_events_of(f->store, 1, &n);
    for (size_t i = 0; i < n; i++)
        c += strcmp(ev[i].action, action) == 0;
    store_events_free(ev, n);
    return c;
}

static int logged(const char *needle)
{
    int c = 0;
    for (int i = 0; i < fake.n; i++)
        c += strstr(fake.log[i], needle) != NULL;
    return c;
}

static void check_at(struct fx *f, int64_t at)
{
    desk_set_clock(f->desk, at);
    desk_sla_check(f->desk);
    desk_sla_check(f->desk);   /* twice: nothing is said twice */
}

TEST(sla_a_friday_evening_tweet_is_due_monday_and_warns_the_on_duty_group)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "pol1.db");
    /* Friday 2026-12-04 16:50 CET: ten business minutes left this week */
    tweet(&f, 900, utc(2026, 12, 4, 15, 50));
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.sla_due_at, utc(2026, 12, 7, 8, 50));   /* Monday 09:50 CET */
    store_ticket_clear(&t);
    check_at(&f, utc(2026, 12, 5, 11, 0));               /* Saturday: the clock waits */
    check_at(&f, utc(2026, 12, 7, 8, 0));                /* Monday 09:00: 50 min left */
    CHECK_INT(count_events(&f, "sla warning"), 0);
    check_at(&f, utc(2026, 12, 7, 8, 20));               /* 30 min left */
    CHECK_INT(count_events(&f, "sla warning"), 1);
    check_at(&f, utc(2026, 12, 7, 8, 40));               /* 10 min left */
    CHECK_INT(count_events(&f, "sla warning"), 2);
    CHECK_INT(count_events(&f, "sla breached"), 0);
    check_at(&f, utc(2026, 12, 7, 8, 50));
    CHECK_INT(count_events(&f, "sla breached"), 1);
    CHECK_INT(count_events(&f, "escalated"), 1);
    desk_set_adapters(f.desk, &fake.chat, &fake.source);
    desk_start(f.desk);
    fx_drain(&f);
    CHECK_INT(logged("alert ts-1 [S0ONCALL] #1 (@ann) has 30 min left to its first response"), 1);
    CHECK_INT(logged("alert ts-1 [S0ONCALL] #1 (@ann) has 10 min left"), 1);
    CHECK_INT(logged("alert ts-1 [S0ONCALL] First-response target missed for #1 (@ann)"), 1);
    /* and the escalation it caused, in the escalations channel */
    CHECK_INT(logged("alert - [S0ONCALL] #1 escalated by"), 1);
    CHECK_INT(logged("alert "), 4);
    fx_close(&f);
}

TEST(sla_a_warning_pings_the_assignee_not_the_group)
{
    struct fx f;
    char err[200];
    fx_open(&f, "pol2.db");
    tweet(&f, 900, utc(2026, 12, 8, 9, 0));              /* Tuesday 10:00 CET */
    CHECK_INT(desk_assign(f.desk, "U1", 1, "U1", err, sizeof err), DESK_OK);
    check_at(&f, utc(2026, 12, 8, 9, 50));
    desk_set_adapters(f.desk, &fake.chat, &fake.source);
    desk_start(f.desk);
    fx_drain(&f);
    CHECK_INT(logged("alert ts-1 [U1] #1 (@ann) has 10 min left to its first response "
                     "target: Alice Jensen"), 1);
    CHECK_INT(logged("S0ONCALL"), 0);
    fx_close(&f);
}

TEST(sla_a_holiday_and_the_night_pause_the_clock)
{
    struct fx f;
    struct ticket t;
    fx_open(&f, "pol3.db");
    /* Wednesday 2026-12-23 23:00 CET; Thursday is a holiday: Friday 10:00 */
    tweet(&f, 900, utc(2026, 12, 23, 22, 0));
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.sla_due_at, utc(2026, 12, 25, 9, 0));
    store_ticket_clear(&t);
    check_at(&f, utc(2026, 12, 24, 12, 0));
    CHECK_INT(count_events(&f, "sla warning") + count_events(&f, "sla breached"), 0);
    fx_close(&f);
}

static struct desk_sla seen;
static int breaches_seen;

static int on_breach(void *arg, int64_t id, const struct desk_sla *sla)
{
    (void)arg;
    (void)id;
    seen = *sla;
    breaches_seen++;
    return 0;   /* the desk escalates */
}

TEST(sla_a_follow_up_after_a_reply_starts_the_next_response_clock)
{
    struct fx f;
    struct ticket t;
    struct desk_hooks hooks = { .on_sla_breach = on_breach };
    char err[200];
    fx_open(&f, "pol4.db");
    breaches_seen = 0;
    desk_set_hooks(f.desk, &hooks);
    tweet(&f, 900, utc(2026, 12, 8, 9, 0));              /* Tuesday 10:00 CET */
    desk_reply(f.desk, "U1", 1, "We're on it", err, sizeof err);
    desk_set_adapters(f.desk, &fake.chat, &fake.source);
    desk_start(f.desk);
    fx_drain(&f);                                        /* X confirms the reply */
    store_ticket_get(f.store, 1, &t);
    CHECK(t.first_response_at != 0);
    CHECK_INT(t.followup_at, 0);
    store_ticket_clear(&t);
    tweet(&f, 901, utc(2026, 12, 8, 15, 50));            /* 16:50 CET: "any news?" */
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.followup_at, utc(2026, 12, 8, 15, 50));
    /* 40 business minutes: 10 today, 30 from 09:00 tomorrow */
    CHECK_INT(t.followup_due_at, utc(2026, 12, 9, 8, 30));
    store_ticket_clear(&t);
    check_at(&f, utc(2026, 12, 9, 8, 0));                /* 30 min left */
    CHECK_INT(count_events(&f, "sla warning"), 1);
    check_at(&f, utc(2026, 12, 9, 8, 30));
    CHECK_INT(breaches_seen, 1);
    CHECK_STR(seen.target, "follow_up");
    CHECK_INT(seen.due_at, utc(2026, 12, 9, 8, 30));
    store_ticket_get(f.store, 1, &t);
    CHECK_STR(t.escalation_reason, "next-response target missed");
    CHECK_INT(t.sla_breached, 0);                        /* the first response was in time */
    CHECK_INT(t.followup_breached, 1);
    store_ticket_clear(&t);
    fx_drain(&f);
    CHECK_INT(logged("Next-response target missed for #1 (@ann)"), 1);
    fx_close(&f);
}

TEST(sla_a_team_tag_puts_the_ticket_on_the_team_hours)
{
    struct fx f;
    struct ticket t;
    char err[200];
    fx_open(&f, "pol5.db");
    /* Friday 16:50 CET is 10:50 in New York, where billing works till 17:00 */
    tweet(&f, 900, utc(2026, 12, 4, 15, 50));
    CHECK_INT(desk_tag(f.desk, "U1", 1, "billing", err, sizeof err), DESK_OK);
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.sla_due_at, utc(2026, 12, 4, 16, 50));
    store_ticket_clear(&t);
    fx_close(&f);
}

TEST(sla_the_ticket_message_counts_down_its_last_hour_in_steps_not_every_check)
{
    struct fx f;
    int64_t due;
    fx_open(&f, "pol6.db");
    tweet(&f, 900, utc(2026, 12, 8, 9, 0));              /* Tuesday 10:00 CET */
    due = utc(2026, 12, 8, 10, 0);
    desk_set_adapters(f.desk, &fake.chat, &fake.source);
    desk_start(f.desk);
    fx_drain(&f);
    CHECK_INT(logged("post 1 new ann"), 1);
    /* every 10 s from 61 min before the target to 31 min before: the
     * "due in" steps at 60, 55, 50, 45, 40 and 35 min each refresh once */
    for (int64_t at = due - 3610; at <= due - 1810; at += 10) {
        desk_set_clock(f.desk, at);
        desk_sla_check(f.desk);
        fx_drain(&f);
    }
    CHECK_INT(logged("update ts-1"), 6);
    /* below 10 minutes, each minute: 9 more steps after the 10-min warning */
    for (int64_t at = due - 1800; at < due; at += 10) {
        desk_set_clock(f.desk, at);
        desk_sla_check(f.desk);
        fx_drain(&f);
    }
    /* 30 min: the first warning's own refresh; 25, 20, 15; 10 min: the
     * second warning's; then each minute, 9 to 1: 20 in the hour */
    CHECK_INT(logged("update ts-1"), 6 + 1 + 3 + 1 + 9);
    CHECK_INT(count_events(&f, "sla warning"), 2);
    fx_close(&f);
}

TEST(sla_new_business_hours_apply_to_waiting_tickets_at_the_next_start)
{
    struct fx f;
    struct ticket t;
    /* around the clock: Saturday 2026-12-05 12:00 UTC, due 13:00 */
    fx_open_with(&f, "pol7.db", "{ first_response = 3600 }");
    tweet(&f, 900, utc(2026, 12, 5, 12, 0));
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.sla_due_at, utc(2026, 12, 5, 13, 0));
    store_ticket_clear(&t);
    fx_close(&f);
    /* the team now keeps office hours: the same tweet is due Monday 10:00 CET */
    fx_open(&f, "pol7.db");
    desk_set_adapters(f.desk, &fake.chat, &fake.source);
    desk_set_clock(f.desk, utc(2026, 12, 5, 12, 30));
    desk_start(f.desk);
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.tweeted_at, utc(2026, 12, 5, 12, 0));
    CHECK_INT(t.sla_due_at, utc(2026, 12, 7, 9, 0));
    store_ticket_clear(&t);
    fx_drain(&f);
    CHECK_INT(count_events(&f, "sla breached"), 0);
    fx_close(&f);
}

TEST(sla_a_follow_up_while_the_reply_is_on_its_way_keeps_its_own_clock)
{
    struct fx f;
    struct ticket t;
    char err[200];
    fx_open(&f, "pol8.db");
    tweet(&f, 900, utc(2026, 12, 8, 9, 0));              /* Tuesday 10:00 CET */
    desk_set_clock(f.desk, utc(2026, 12, 8, 9, 10));
    desk_reply(f.desk, "U1", 1, "Looking into it", err, sizeof err);
    /* before X confirms the reply, the customer writes again */
    tweet(&f, 901, utc(2026, 12, 8, 9, 20));
    desk_set_adapters(f.desk, &fake.chat, &fake.source);
    desk_start(f.desk);
    fx_drain(&f);
    store_ticket_get(f.store, 1, &t);
    CHECK(t.first_response_at != 0);
    CHECK_INT(t.followup_at, utc(2026, 12, 8, 9, 20));   /* not answered by that reply */
    CHECK_INT(t.followup_due_at, utc(2026, 12, 8, 10, 0));
    store_ticket_clear(&t);
    /* a follow-up written before the next reply was queued is answered by it */
    desk_set_clock(f.desk, utc(2026, 12, 8, 9, 30));
    desk_reply(f.desk, "U1", 1, "It ships today", err, sizeof err);
    fx_drain(&f);
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.followup_at, 0);
    store_ticket_clear(&t);
    fx_close(&f);
}
