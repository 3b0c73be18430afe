/* test_desk.c — the desk through its public API: ingest, ticket operations,
 * the outbox against recording fake adapters, and the SLA clock. */
#include "unit.h"
#include "fakes.h"

#include <jansson.h>
#include <sqlite3.h>
#include <time.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#include "chat/chat.h"
#include "core/config.h"
#include "desk/desk.h"
#include "source/source.h"
#include "store/store.h"

/* --- fixture ----------------------------------------------------------- */

struct fx {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
};

static void fx_open(struct fx *f, const char *name)
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
                "staff = { U1 = { name = 'Alice Jensen', role = 'lead' },\n"
                "          U2 = { name = 'Bob Okafor' } }\n"
                "sla = { first_response = 3600, warn_before = 900 }\n"
                "reply = { hold = 0, collision_window = 0 }\n");   /* sends go at once */
    fclose(fp);
    f->desk = fake_desk_open(&f->loop, cfgpath, dbpath, &f->cfg, &f->store);
}

static void fx_start(struct fx *f)
{
    desk_set_adapters(f->desk, &fake.chat, &fake.source);
    desk_start(f->desk);
}

/* Runs the loop until the outbox has nothing left to do now. */
static void fx_drain(struct fx *f)
{
    for (int i = 0; i < 200; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void fx_close(struct fx *f)
{
    fake_desk_close(&f->loop, f->desk, NULL, f->store, f->cfg);
}

static struct mention mk(int64_t id, const char *author, const char *conv, const char *text)
{
    struct mention m = { 0 };
    m.id = id;
    m.original_id = id;
    m.text = (char *)text;
    m.author_id = (char *)author;
    m.author_handle = (char *)author;
    m.conversation_id = (char *)conv;
    return m;
}

static int ingest(struct fx *f, struct mention *v, size_t n, const char *cursor)
{
    struct mention_page p = { 0 };
    p.v = v;
    p.n = n;
    return desk_ingest(f->desk, "test", &p, cursor, NULL);
}

static int logged(const char *needle)
{
    for (int i = 0; i < fake.n; i++)
        if (strstr(fake.log[i], needle))
            return i + 1;
    return 0;
}

/* --- ingest ------------------------------------------------------------ */

TEST(desk_ingest_opens_one_ticket_per_conversation_and_advances_cursor)
{
    struct fx f;
    struct mention v[3];
    char *cur;
    fx_open(&f, "ingest1.db");
    v[0] = mk(100, "ann", "100", "@AcmeSupport help");
    v[1] = mk(101, "bob", "101", "@AcmeSupport me too");
    v[2] = mk(102, "ann", "100", "@AcmeSupport still broken");   /* follow-up */
    CHECK_INT(ingest(&f, v, 3, "c1"), DESK_OK);
    CHECK_INT(store_ticket_count(f.store), 2);
    CHECK_INT(store_mention_count(f.store), 3);
    cur = store_cursor_get(f.store, "test");
    CHECK_STR(cur, "c1");
    free(cur);
    CHECK_INT(store_ticket_mentions(f.store, 1), 2);
    fx_close(&f);
}

TEST(desk_ingest_twice_opens_nothing_twice)
{
    struct fx f;
    struct mention v[2];
    fx_open(&f, "ingest2.db");
    v[0] = mk(200, "ann", "200", "a");
    v[1] = mk(201, "bob", "201", "b");
    CHECK_INT(ingest(&f, v, 2, "c1"), DESK_OK);
    CHECK_INT(ingest(&f, v, 2, "c1"), DESK_OK);
    CHECK_INT(store_ticket_count(f.store), 2);
    CHECK_INT(store_mention_count(f.store), 2);
    fx_close(&f);
}

TEST(desk_ingest_orders_tickets_by_tweet_id_whatever_the_page_order)
{
    struct fx f;
    struct mention v[2];
    struct ticket t;
    fx_open(&f, "ingest3.db");
    v[0] = mk(301, "bob", "301", "later");
    v[1] = mk(300, "ann", "300", "earlier");
    ingest(&f, v, 2, NULL);
    store_ticket_get(f.store, 1, &t);
    CHECK_STR(t.customer_id, "ann");
    store_ticket_clear(&t);
    fx_close(&f);
}

TEST(desk_ingest_skips_brand_tweets_and_retweets_but_stores_them)
{
    struct fx f;
    struct mention v[3];
    fx_open(&f, "ingest4.db");
    v[0] = mk(400, "99", "400", "our own tweet");              /* by user id */
    v[1] = mk(401, "acmesupport", "401", "by handle, any case");
    v[2] = mk(402, "eve", "402", "RT @ann: help");
    v[2].is_retweet = 1;
    CHECK_INT(ingest(&f, v, 3, NULL), DESK_OK);
    CHECK_INT(store_ticket_count(f.store), 0);
    CHECK_INT(store_mention_count(f.store), 3);
    fx_close(&f);
}

TEST(desk_ingest_edit_updates_text_of_the_ticket_it_opened)
{
    struct fx f;
    struct mention v[1], e[1];
    struct ticket t;
    size_t n;
    struct event *ev;
    fx_open(&f, "ingest5.db");
    v[0] = mk(500, "ann", "500", "typo teh");
    ingest(&f, v, 1, NULL);
    e[0] = mk(510, "ann", "500", "typo the");
    e[0].original_id = 500;
    CHECK_INT(ingest(&f, e, 1, NULL), DESK_OK);
    CHECK_INT(store_ticket_count(f.store), 1);
    store_ticket_get(f.store, 1, &t);
    CHECK_STR(t.text, "typo the");
    CHECK_STR(t.last_tweet_id, "510");
    store_ticket_clear(&t);
    ev = store_events_of(f.store, 1, &n);
    CHECK_INT(n, 2);
    if (n == 2)
        CHECK_STR(ev[1].action, "edited");
    store_events_free(ev, n);
    fx_close(&f);
}

TEST(desk_ingest_rolls_back_everything_when_a_mention_is_bad)
{
    struct fx f;
    struct mention v[2];
    char *cur;
    fx_open(&f, "ingest6.db");
    v[0] = mk(600, "ann", "600", "fine");
    v[1] = mk(601, NULL, "601", "no author: the store refuses it");
    CHECK_INT(ingest(&f, v, 2, "c9"), DESK_ERR);
    CHECK_INT(store_ticket_count(f.store), 0);
    CHECK_INT(store_mention_count(f.store), 0);
    cur = store_cursor_get(f.store, "test");
    CHECK(cur == NULL);
    free(cur);
    fx_close(&f);
}

TEST(desk_follow_up_after_close_opens_a_new_ticket)
{
    struct fx f;
    struct mention v[1];
    char err[200];
    fx_open(&f, "ingest7.db");
    v[0] = mk(700, "ann", "700", "one");
    ingest(&f, v, 1, NULL);
    CHECK_INT(desk_close(f.desk, "U1", 1, err, sizeof err), DESK_OK);
    v[0] = mk(701, "ann", "700", "again");
    ingest(&f, v, 1, NULL);
    CHECK_INT(store_ticket_count(f.store), 2);
    fx_close(&f);
}

/* --- operations -------------------------------------------------------- */

static void one_ticket(struct fx *f, const char *name)
{
    struct mention v[1];
    fx_open(f, name);
    v[0] = mk(800, "ann", "800", "@AcmeSupport my order is late");
    ingest(f, v, 1, NULL);
}

TEST(desk_assign_to_non_staff_is_refused_with_a_clear_message)
{
    struct fx f;
    char err[200];
    one_ticket(&f, "op1.db");
    CHECK_INT(desk_assign(f.desk, "U1", 1, "U999", err, sizeof err), DESK_INVALID);
    CHECK(strstr(err, "U999 is not on the support staff") != NULL);
    CHECK_INT(desk_assign(f.desk, "U1", 1, "U2", err, sizeof err), DESK_OK);
    CHECK_INT(desk_assign(f.desk, "U1", 1, "U2", err, sizeof err), DESK_INVALID);
    CHECK(strstr(err, "already assigned to Bob Okafor") != NULL);
    CHECK_INT(desk_assign(f.desk, "U1", 42, "U2", err, sizeof err), DESK_NOTFOUND);
    CHECK_STR(err, "There is no ticket #42.");
    fx_close(&f);
}

TEST(desk_reply_is_queued_and_answers_the_ticket_when_x_confirms_it)
{
    struct fx f;
    struct ticket t;
    struct job j;
    int64_t next, confirmed;
    char err[200];
    one_ticket(&f, "op2.db");
    desk_set_clock(f.desk, 1700000000);
    CHECK_INT(desk_reply(f.desk, "U1", 1, "Sorry! ^AJ", err, sizeof err), DESK_OK);
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.first_response_at, 0);   /* queued is not answered */
    store_ticket_clear(&t);
    CHECK_INT(store_job_next(f.store, INT64_MAX, NULL, 0, &j, &next), STORE_OK);
    /* the ticket post comes first; find the reply job among the heads */
    store_job_clear(&j);
    CHECK_INT(store_job_pending(f.store, "x.reply", 1), 1);
    CHECK_INT(desk_reply(f.desk, "U1", 1, "   ", err, sizeof err), DESK_INVALID);
    /* X confirms later (and after the ticket was ingested on the real clock) */
    confirmed = (int64_t)time(NULL) + 90;
    desk_set_clock(f.desk, confirmed);
    fx_start(&f);
    fx_drain(&f);
    CHECK(logged("reply 800 Sorry! ^AJ"));
    CHECK_INT(fake.reply_since, 1700000000 - 60);   /* the duplicate check looks back to here */
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.first_response_at, confirmed);
    store_ticket_clear(&t);
    CHECK(logged("update ts-1"));   /* the ticket message shows it answered */
    fx_close(&f);
}

/* Issue 15: a reply that never went out does not stop the SLA clock, and
 * neither the ticket nor the statistics call the ticket answered. */
TEST(desk_a_queued_then_failed_reply_leaves_the_ticket_unanswered)
{
    struct fx f;
    struct mention v[1];
    struct ticket t;
    struct store_stats st;
    size_t n;
    struct event *ev;
    int breaches = 0;
    char err[200];

    fx_open(&f, "op2b.db");
    v[0] = mk(810, "ann", "810", "@AcmeSupport where is my parcel?");
    v[0].created_at = 1700000000;
    desk_set_clock(f.desk, 1700000000);
    ingest(&f, v, 1, NULL);
    fx_start(&f);
    fx_drain(&f);
    fake.next = SEND_FAIL;
    fake.fail_times = 1;
    fake.fail_only = "reply";
    desk_set_clock(f.desk, 1700000100);
    CHECK_INT(desk_reply(f.desk, "U1", 1, "On its way ^AJ", err, sizeof err), DESK_OK);
    fx_drain(&f);
    CHECK(logged("The reply could not be sent"));
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.first_response_at, 0);
    store_ticket_clear(&t);
    CHECK_INT(store_stats(f.store, 1699990000, 3600, &st), 0);
    CHECK_INT(st.answered, 0);
    desk_set_clock(f.desk, 1700000000 + 3600);
    desk_sla_check(f.desk);
    ev = store_events_of(f.store, 1, &n);
    for (size_t i = 0; i < n; i++)
        breaches += strcmp(ev[i].action, "sla breached") == 0;
    store_events_free(ev, n);
    CHECK_INT(breaches, 1);
    fx_close(&f);
}

TEST(desk_reply_to_closed_ticket_reopens_it)
{
    struct fx f;
    struct ticket t;
    char err[200];
    one_ticket(&f, "op3.db");
    desk_close(f.desk, "U1", 1, err, sizeof err);
    CHECK_INT(desk_close(f.desk, "U1", 1, err, sizeof err), DESK_INVALID);
    CHECK_INT(desk_reply(f.desk, "U2", 1, "back again", err, sizeof err), DESK_OK);
    store_ticket_get(f.store, 1, &t);
    CHECK_STR(t.state, "open");
    CHECK_INT(t.closed_at, 0);
    store_ticket_clear(&t);
    fx_close(&f);
}

TEST(desk_every_operation_is_in_the_audit_log_with_its_actor)
{
    struct fx f;
    char err[200];
    size_t n;
    struct event *ev;
    static const char *const want[] = { "opened", "assigned", "note", "tagged", "escalated",
                                        "dm", "reply", "unassigned", "closed", "reopened" };
    one_ticket(&f, "op4.db");
    desk_assign(f.desk, "U1", 1, "U2", err, sizeof err);
    desk_note(f.desk, "U2", 1, "called them", err, sizeof err);
    desk_tag(f.desk, "U2", 1, "Billing", err, sizeof err);
    desk_escalate(f.desk, "U2", 1, "refund over limit", err, sizeof err);
    desk_dm(f.desk, "U2", 1, "what is your order number?", err, sizeof err);
    desk_reply(f.desk, "U2", 1, "we've sent you a DM", err, sizeof err);
    desk_unassign(f.desk, "U1", 1, err, sizeof err);
    desk_close(f.desk, "U1", 1, err, sizeof err);
    desk_reopen(f.desk, "U1", 1, err, sizeof err);
    ev = store_events_of(f.store, 1, &n);
    CHECK_INT(n, 10);
    for (size_t i = 0; i < n && i < 10; i++)
        CHECK_STR(ev[i].action, want[i]);
    if (n == 10) {
        CHECK_STR(ev[1].actor, "U1");
        CHECK_STR(ev[1].detail, "U2");
        CHECK_STR(ev[3].detail, "billing");
        CHECK(strstr(ev[6].detail, "to @ann in reply to 800: we've sent you a DM") != NULL);
    }
    store_events_free(ev, n);
    CHECK_INT(desk_tag(f.desk, "U2", 1, "bad tag!", err, sizeof err), DESK_INVALID);
    CHECK_INT(desk_escalate(f.desk, "U2", 1, "again", err, sizeof err), DESK_INVALID);
    fx_close(&f);
}

/* --- outbox ------------------------------------------------------------ */

TEST(outbox_posts_ticket_before_its_thread_lines_and_records_the_ref)
{
    struct fx f;
    struct ticket t;
    char err[200];
    one_ticket(&f, "ob1.db");
    desk_note(f.desk, "U1", 1, "first note", err, sizeof err);
    fx_start(&f);
    fx_drain(&f);
    CHECK(logged("post 1 new ann") == 1);
    CHECK(logged("thread ts-1 Note from Alice Jensen: first note") > 1);
    store_ticket_get(f.store, 1, &t);
    CHECK_STR(t.chat_ref, "ts-1");
    store_ticket_clear(&t);
    CHECK_INT(store_job_count(f.store, "done"), 3);   /* post, thread, update */
    fx_close(&f);
}

TEST(outbox_reply_success_posts_the_tweet_link_in_the_thread)
{
    struct fx f;
    char err[200];
    one_ticket(&f, "ob2.db");
    desk_reply(f.desk, "U1", 1, "On it ^AJ", err, sizeof err);
    fx_start(&f);
    fx_drain(&f);
    CHECK(logged("reply 800 On it ^AJ"));
    CHECK(logged("Reply sent: https://x.com/AcmeSupport/status/1900000000000000001"));
    fx_close(&f);
}

TEST(outbox_permanent_failure_is_reported_in_the_thread_and_not_retried)
{
    struct fx f;
    char err[200];
    one_ticket(&f, "ob3.db");
    fx_start(&f);
    fx_drain(&f);
    fake.next = SEND_FAIL;
    fake.fail_times = 1;
    fake.fail_only = "reply ";
    desk_reply(f.desk, "U1", 1, "hello", err, sizeof err);
    fx_drain(&f);
    CHECK(logged("The reply could not be sent: You attempted to reply to a Tweet that is deleted"));
    CHECK_INT(store_job_count(f.store, "failed"), 1);
    CHECK_INT(fake.fail_times, 0);
    fx_close(&f);
}

TEST(outbox_transient_failure_is_retried_until_it_succeeds)
{
    struct fx f;
    char err[200];
    one_ticket(&f, "ob4.db");
    fx_start(&f);
    fx_drain(&f);
    fake.next = SEND_RETRY;
    fake.fail_times = 2;
    desk_reply(f.desk, "U1", 1, "retry me", err, sizeof err);
    for (int i = 0; i < 50 && !logged("Reply sent"); i++) {
        uv_sleep(5);
        fx_drain(&f);
    }
    CHECK(logged("Reply sent"));
    CHECK_INT(store_job_count(f.store, "failed"), 0);
    fx_close(&f);
}

/* The rate interval runs from when a send completes, not from when it
 * started: a job that takes a while (a lookup, then the post) must not let
 * the next one follow its last call closer than the interval (x_rate 1000
 * here: 1 ms, against a clock moved in whole seconds). */
TEST(outbox_paces_a_target_from_the_end_of_its_last_send)
{
    struct fx f;
    char err[200];
    struct send_result ok = { SEND_OK, "1900000000000000001", NULL, 0 };
    one_ticket(&f, "ob7.db");
    fx_start(&f);
    fx_drain(&f);
    desk_set_clock(f.desk, 2000000000);
    fake.hold = 1;
    fake.fail_only = "reply ";   /* the reply is held, not its receipt line */
    desk_reply(f.desk, "U1", 1, "first", err, sizeof err);
    desk_reply(f.desk, "U1", 1, "second", err, sizeof err);
    fx_drain(&f);
    CHECK(logged("reply 800 first"));
    CHECK(fake.held_done != NULL);
    desk_set_clock(f.desk, 2000000001);   /* the send took a second */
    fake.held_done(fake.held_arg, &ok);
    fx_drain(&f);
    CHECK(!logged("reply 800 second"));   /* 1 ms after the end has not passed */
    desk_set_clock(f.desk, 2000000002);
    desk_outbox_kick(f.desk);
    fx_drain(&f);
    CHECK(logged("reply 800 second"));
    desk_set_clock(f.desk, 0);
    fx_close(&f);
}

TEST(outbox_gives_up_after_max_attempts_and_says_so)
{
    struct fx f;
    char err[200];
    one_ticket(&f, "ob5.db");
    fx_start(&f);
    fx_drain(&f);
    fake.next = SEND_RETRY;
    fake.fail_times = 100;
    fake.fail_only = "dm ";
    desk_dm(f.desk, "U1", 1, "psst", err, sizeof err);
    for (int i = 0; i < 100 && !store_job_count(f.store, "failed"); i++) {
        uv_sleep(5);
        fx_drain(&f);
    }
    CHECK_INT(store_job_count(f.store, "failed"), 1);
    CHECK_INT(fake.fail_times, 100 - 3);   /* outbox.max_attempts = 3 */
    for (int i = 0; i < 100 && !logged("The DM could not be sent"); i++) {
        uv_sleep(5);
        fx_drain(&f);
    }
    CHECK(logged("The DM could not be sent: HTTP 503"));
    fx_close(&f);
}

TEST(outbox_resends_jobs_left_in_flight_by_a_crash)
{
    struct fx f;
    struct job j;
    int64_t next;
    one_ticket(&f, "ob6.db");
    CHECK_INT(store_job_next(f.store, INT64_MAX, NULL, 0, &j, &next), STORE_OK);
    store_job_set_state(f.store, j.id, "inflight", 1, 0, NULL, NULL, 0);
    store_job_clear(&j);
    fx_start(&f);   /* recovery runs at start */
    fx_drain(&f);
    CHECK(logged("post 1 new ann") == 1);
    CHECK_INT(store_job_count(f.store, "inflight"), 0);
    fx_close(&f);
}

static int count_logged(const char *needle)
{
    int n = 0;
    for (int i = 0; i < fake.n; i++)
        n += strstr(fake.log[i], needle) != NULL;
    return n;
}

/* Where the last line with `needle` is (1-based), 0 if none. */
static int last_logged(const char *needle)
{
    for (int i = fake.n - 1; i >= 0; i--)
        if (strstr(fake.log[i], needle))
            return i + 1;
    return 0;
}

/* Runs the loop (with real time passing) until `needle` is logged. */
static void fx_wait_logged(struct fx *f, const char *needle)
{
    for (int i = 0; i < 200 && !logged(needle); i++) {
        uv_sleep(5);
        fx_drain(f);
    }
}

/* The wall clock stepping back an hour (NTP, `date -s`) while a reply
 * waits for its retry: the wait stays 10 ms, not an hour and 10 ms, and
 * the target's rate interval (monotonic) is not stretched either. */
TEST(outbox_a_wall_clock_step_back_does_not_freeze_posting)
{
    struct fx f;
    char err[200];
    one_ticket(&f, "ob_step.db");
    fx_start(&f);
    fx_drain(&f);
    fake.next = SEND_RETRY;
    fake.fail_times = 1;
    desk_reply(f.desk, "U1", 1, "after the step", err, sizeof err);
    fx_drain(&f);
    CHECK_INT(fake.fail_times, 0);       /* the first try failed; a retry waits */
    desk_step_clock(f.desk, -3600);
    fx_wait_logged(&f, "Reply sent");
    CHECK(logged("Reply sent"));
    /* and the next post of the same target is not held by the rate limit */
    desk_reply(f.desk, "U1", 1, "and another", err, sizeof err);
    fx_wait_logged(&f, "reply 800 and another");
    CHECK(logged("reply 800 and another"));
    fx_close(&f);
}

/* A job due further ahead than any wait vigil gives (the clock went back
 * while vigil was stopped) is due at start, not frozen. */
TEST(outbox_a_job_due_beyond_any_wait_is_due_at_start)
{
    struct fx f;
    struct job j;
    int64_t next;
    one_ticket(&f, "ob_step2.db");
    CHECK_INT(store_job_next(f.store, INT64_MAX, NULL, 0, &j, &next), STORE_OK);
    store_job_set_state(f.store, j.id, "queued", 0, (int64_t)time(NULL) * 1000 + 7200000,
                        NULL, NULL, 0);
    store_job_clear(&j);
    fx_start(&f);
    fx_drain(&f);
    CHECK(logged("post 1 new ann"));
    fx_close(&f);
}

TEST(outbox_a_refusing_channel_holds_its_jobs_and_tells_the_admins_once)
{
    struct fx f;
    char err[200], blocked[300];
    one_ticket(&f, "ob8.db");
    desk_note(f.desk, "U1", 1, "waits its turn", err, sizeof err);
    fake.next = SEND_BLOCKED;
    fake.fail_times = 6;     /* more refusals than outbox.max_attempts (3) */
    fake.fail_only = "post ";
    fx_start(&f);
    fx_drain(&f);
    CHECK(logged("post 1 new ann"));
    CHECK(strstr(desk_blocked(f.desk, blocked, sizeof blocked), "not_in_channel #support since "));
    CHECK_INT(store_job_count(f.store, "failed"), 0);
    fx_wait_logged(&f, "thread ts-1 Note from Alice Jensen: waits its turn");
    CHECK_INT(fake.fail_times, 0);
    CHECK_INT(count_logged("post 1 new ann"), 7);   /* six refused, then posted */
    CHECK_INT(count_logged("channel #support-escalations vigil cannot post in #support: "
                           "Slack says not_in_channel"), 1);
    CHECK_INT(count_logged("channel #support-escalations vigil can post in #support again"), 1);
    /* in order: the thread line waited behind its ticket */
    CHECK(logged("thread ts-1 Note") > last_logged("post 1 new ann"));
    CHECK_STR(desk_blocked(f.desk, blocked, sizeof blocked), "");
    CHECK_INT(store_job_count(f.store, "failed"), 0);
    fx_close(&f);
}

TEST(outbox_a_deleted_ticket_message_is_posted_again_when_an_update_finds_it_gone)
{
    struct fx f;
    struct ticket t;
    char err[200];
    one_ticket(&f, "ob9.db");
    fx_start(&f);
    fx_drain(&f);
    CHECK(logged("post 1 new ann"));
    fake.next = SEND_GONE;
    fake.fail_times = 1;
    fake.fail_only = "update";
    fake.ref_suffix = "-again";
    desk_assign(f.desk, "U1", 1, "U2", err, sizeof err);
    fx_drain(&f);
    CHECK(logged("update ts-1 assigned Bob Okafor"));
    CHECK(logged("post 1 assigned ann"));    /* posted again, as it is now */
    store_ticket_get(f.store, 1, &t);
    CHECK_STR(t.chat_ref, "ts-1-again");
    store_ticket_clear(&t);
    desk_note(f.desk, "U1", 1, "after", err, sizeof err);
    fx_drain(&f);
    CHECK(logged("thread ts-1-again Note from Alice Jensen: after"));
    CHECK(logged("update ts-1-again"));
    CHECK_INT(count_logged("post 1 "), 2);   /* once more, no loop */
    CHECK_INT(store_job_count(f.store, "failed"), 0);
    fx_close(&f);
}

TEST(outbox_a_thread_line_under_a_deleted_message_reposts_the_ticket_first)
{
    struct fx f;
    char err[200];
    one_ticket(&f, "ob10.db");
    fx_start(&f);
    fx_drain(&f);
    fake.next = SEND_GONE;
    fake.fail_times = 1;
    fake.fail_only = "thread";
    fake.ref_suffix = "-again";
    desk_note(f.desk, "U1", 1, "hello", err, sizeof err);
    fx_drain(&f);
    CHECK(logged("thread ts-1 Note from Alice Jensen: hello"));          /* refused */
    CHECK(logged("thread ts-1-again Note from Alice Jensen: hello") >
          last_logged("post 1 new ann"));
    CHECK_INT(count_logged("post 1 new ann"), 2);
    CHECK_INT(store_job_count(f.store, "failed"), 0);
    fx_close(&f);
}

/* The lookup before re-posting after a crash is bounded: two failed
 * lookups, then the ticket is posted rather than held (or lost). */
TEST(outbox_a_failing_history_lookup_posts_the_ticket_after_two_tries)
{
    struct fx f;
    struct job j;
    int64_t next;
    struct mention v[2];
    fx_open(&f, "ob11.db");
    v[0] = mk(800, "ann", "800", "@AcmeSupport my order is late");
    v[1] = mk(801, "bob", "801", "@AcmeSupport me too");
    ingest(&f, v, 2, NULL);
    CHECK_INT(store_job_next(f.store, INT64_MAX, NULL, 0, &j, &next), STORE_OK);
    store_job_set_state(f.store, j.id, "inflight", 1, 0, NULL, NULL, 0);
    fake.find_fails = 1;
    fx_start(&f);
    fx_wait_logged(&f, "post 2 new bob");
    CHECK_INT(fake.finds, 2);
    CHECK(fake.find_oldest > 0 && fake.find_oldest <= j.created_at);
    CHECK_INT(count_logged("post 1 new ann"), 1);
    CHECK(logged("post 1 new ann") < logged("post 2 new bob"));
    CHECK_INT(store_job_count(f.store, "failed"), 0);
    store_job_clear(&j);
    fx_close(&f);
}

/* --- SLA --------------------------------------------------------------- */

TEST(sla_warns_then_breaches_once_each_and_escalates_by_default)
{
    struct fx f;
    struct mention v[1];
    struct ticket t;
    size_t n;
    struct event *ev;
    int warns = 0, breaches = 0, escalations = 0;

    fx_open(&f, "sla1.db");
    v[0] = mk(900, "ann", "900", "hello?");
    v[0].created_at = 1700000000;
    desk_set_clock(f.desk, 1700000000);
    ingest(&f, v, 1, NULL);
    desk_set_clock(f.desk, 1700000000 + 2000);
    desk_sla_check(f.desk);
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.sla_warned, 0);
    store_ticket_clear(&t);
    desk_set_clock(f.desk, 1700000000 + 2700);   /* 15 min before the hour */
    desk_sla_check(f.desk);
    desk_sla_check(f.desk);
    desk_set_clock(f.desk, 1700000000 + 3600);
    desk_sla_check(f.desk);
    desk_sla_check(f.desk);
    ev = store_events_of(f.store, 1, &n);
    for (size_t i = 0; i < n; i++) {
        warns += strcmp(ev[i].action, "sla warning") == 0;
        breaches += strcmp(ev[i].action, "sla breached") == 0;
        escalations += strcmp(ev[i].action, "escalated") == 0;
    }
    store_events_free(ev, n);
    CHECK_INT(warns, 1);
    CHECK_INT(breaches, 1);
    CHECK_INT(escalations, 1);
    store_ticket_get(f.store, 1, &t);
    CHECK_STR(t.escalation_reason, "first-response target missed");
    store_ticket_clear(&t);
    fx_close(&f);
}

TEST(sla_answered_tickets_never_warn)
{
    struct fx f;
    struct mention v[1];
    struct ticket t;
    char err[200];
    fx_open(&f, "sla2.db");
    v[0] = mk(901, "ann", "901", "hello?");
    v[0].created_at = 1700000000;
    desk_set_clock(f.desk, 1700000000);
    ingest(&f, v, 1, NULL);
    desk_reply(f.desk, "U1", 1, "hi!", err, sizeof err);
    fx_start(&f);
    fx_drain(&f);   /* X confirms the reply */
    desk_set_clock(f.desk, 1700000000 + 7200);
    desk_sla_check(f.desk);
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.sla_warned + t.sla_breached + t.escalated, 0);
    store_ticket_clear(&t);
    fx_close(&f);
}

TEST(sla_clock_survives_a_restart)
{
    struct fx f;
    struct mention v[1];
    struct ticket t;
    fx_open(&f, "sla3.db");
    v[0] = mk(902, "ann", "902", "hello?");
    v[0].created_at = 1700000000;
    desk_set_clock(f.desk, 1700000000);
    ingest(&f, v, 1, NULL);
    desk_set_clock(f.desk, 1700000000 + 3000);
    desk_sla_check(f.desk);
    fx_close(&f);
    /* a new desk on the same store: the warning is not repeated */
    {
        char path[600], err[512];
        snprintf(path, sizeof path, "%s.lua", unit_tmp("sla3.db"));
        f.cfg = config_load(path, err, sizeof err);
    }
    f.store = store_open(unit_tmp("sla3.db"));
    uv_loop_init(&f.loop);
    f.desk = desk_new(&f.loop, f.store, f.cfg);
    desk_set_clock(f.desk, 1700000000 + 3100);
    desk_sla_check(f.desk);
    store_ticket_get(f.store, 1, &t);
    CHECK_INT(t.sla_warned, 1);
    CHECK_INT(t.sla_breached, 0);
    store_ticket_clear(&t);
    {
        size_t n;
        int warns = 0;
        struct event *ev = store_events_of(f.store, 1, &n);
        for (size_t i = 0; i < n; i++)
            warns += strcmp(ev[i].action, "sla warning") == 0;
        store_events_free(ev, n);
        CHECK_INT(warns, 1);
    }
    fx_close(&f);
}

TEST(desk_long_tweets_are_cut_on_a_character_boundary_in_thread_lines)
{
    struct fx f;
    struct mention v[2];
    char text[1400];
    size_t n = 0;
    fx_open(&f, "cut.db");
    while (n + 3 < sizeof text - 1) {          /* 3-byte characters: 日本語... */
        memcpy(text + n, "\xe6\x97\xa5", 3);
        n += 3;
    }
    text[n] = '\0';
    v[0] = mk(950, "ann", "950", "first");
    v[1] = mk(951, "ann", "950", text);          /* a follow-up: quoted in the thread */
    ingest(&f, v, 2, NULL);
    {
        size_t ne;
        int found = 0;
        struct event *ev = store_events_of(f.store, 1, &ne);
        for (size_t i = 0; i < ne; i++)
            if (strcmp(ev[i].action, "follow-up") == 0) {
                const char *p = ev[i].detail + strlen("@ann: ");
                size_t len = strlen(p);
                found = 1;
                /* whole characters, then the ellipsis */
                CHECK(len >= 3 && strcmp(p + len - 3, "...") == 0);
                CHECK_INT((len - 3) % 3, 0);
            }
        store_events_free(ev, ne);
        CHECK(found);
    }
    fx_close(&f);
}

/* --- a store that refuses writes (issue 14) ------------------------------ */

/* Another program holds the write lock: the command answers within a blink,
 * in words, instead of "Command failed" after seconds. */
TEST(desk_command_while_another_program_holds_the_lock_says_busy_in_words)
{
    struct fx f;
    char err[200], path[600];
    sqlite3 *other;
    struct timespec t0, t1;

    one_ticket(&f, "busy1.db");
    snprintf(path, sizeof path, "%s", unit_tmp("busy1.db"));
    sqlite3_open(path, &other);
    CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(desk_assign(f.desk, "U1", 1, "U2", err, sizeof err), DESK_ERR);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(strstr(err, "database is busy") != NULL);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    CHECK_INT(desk_assign(f.desk, "U1", 1, "U2", err, sizeof err), DESK_OK);
    fx_close(&f);
}

/* The DM went out, then its outcome could not be written (a lock, a full
 * disk): the outcome is kept and retried, and the DM is never sent twice. */
TEST(outbox_dm_whose_outcome_cannot_be_recorded_is_sent_exactly_once)
{
    struct fx f;
    char err[200], path[600];

    one_ticket(&f, "busy2.db");
    snprintf(path, sizeof path, "%s", unit_tmp("busy2.db"));
    fx_start(&f);
    fx_drain(&f);
    fake.lock_on_dm = path;
    CHECK_INT(desk_dm(f.desk, "U1", 1, "psst", err, sizeof err), DESK_OK);
    for (int i = 0; i < 15; i++) {   /* 1.5 s of retries with the lock held */
        uv_sleep(100);
        fx_drain(&f);
    }
    CHECK_INT(count_logged("dm "), 1);
    CHECK_INT(store_job_count(f.store, "inflight"), 1);   /* not recorded, not re-run */
    CHECK(!logged("DM delivered."));
    sqlite3_exec(fake.locker, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(fake.locker);
    fake.locker = NULL;
    for (int i = 0; i < 100 && store_job_count(f.store, "inflight"); i++) {
        uv_sleep(50);
        desk_outbox_kick(f.desk);   /* whatever wakes the scheduler next */
        fx_drain(&f);
    }
    for (int i = 0; i < 20; i++) {
        uv_sleep(20);
        fx_drain(&f);
    }
    CHECK_INT(store_job_count(f.store, "inflight"), 0);
    CHECK_INT(count_logged("dm "), 1);
    CHECK(logged("DM delivered."));
    fx_close(&f);
}

/* The scheduler found the store locked: it looks again by itself, so a
 * queued DM goes out once the lock is gone, with nothing else to wake it. */
TEST(outbox_locked_when_a_job_is_due_sends_it_once_the_lock_is_gone)
{
    struct fx f;
    char err[200], path[600];
    sqlite3 *other;

    one_ticket(&f, "busy3.db");
    snprintf(path, sizeof path, "%s", unit_tmp("busy3.db"));
    fx_start(&f);
    fx_drain(&f);
    CHECK_INT(desk_dm(f.desk, "U1", 1, "later", err, sizeof err), DESK_OK);
    sqlite3_open(path, &other);
    CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    for (int i = 0; i < 3; i++) {
        uv_sleep(100);
        fx_drain(&f);
    }
    CHECK(!logged("dm "));
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    for (int i = 0; i < 30 && !logged("DM delivered."); i++) {
        uv_sleep(50);
        fx_drain(&f);
    }
    CHECK_INT(count_logged("dm "), 1);
    CHECK(logged("DM delivered."));
    fx_close(&f);
}

/* One customer's follow-ups fill the channel's queue with thread lines: a
 * new customer's ticket is posted before them, not after (issue 14.18). */
TEST(outbox_new_ticket_is_posted_before_another_conversations_thread_lines)
{
    struct fx f;
    char err[200], text[32];
    struct send_result ok = { SEND_OK, "th", NULL, 0 };
    struct mention v[1];

    one_ticket(&f, "order18.db");
    fx_start(&f);
    fx_drain(&f);
    CHECK(logged("post 1 "));
    fake.hold = 1;
    CHECK_INT(desk_note(f.desk, "U1", 1, "n0", err, sizeof err), DESK_OK);
    fx_drain(&f);
    CHECK(fake.held_done != NULL);   /* the first thread line is on the wire */
    for (int i = 1; i <= 5; i++) {
        snprintf(text, sizeof text, "n%d", i);
        CHECK_INT(desk_note(f.desk, "U1", 1, text, err, sizeof err), DESK_OK);
    }
    v[0] = mk(900, "bea", "900", "@AcmeSupport where is my refund");
    CHECK_INT(ingest(&f, v, 1, NULL), DESK_OK);
    fake.held_done(fake.held_arg, &ok);
    for (int i = 0; i < 20; i++) {
        uv_sleep(5);
        fx_drain(&f);
    }
    CHECK(logged("post 2 "));
    CHECK(logged("n5"));
    CHECK(logged("post 2 ") < logged("n1"));
    CHECK(logged("n1") < logged("n2") && logged("n4") < logged("n5"));   /* still in order */
    fx_close(&f);
}
