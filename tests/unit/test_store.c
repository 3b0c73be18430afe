/* test_store.c — store/store: schema and reopening, nested transactions,
 * the append-only audit log, kv/cursor/canned, the outbox queue and
 * tickets with their list filters.  Each test opens its own scratch db. */
#include "unit.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "source/mention.h"
#include "store/store.h"

/* --- helpers ------------------------------------------------------------ */

static char dbpath[512];

/* Opens a fresh database named `name` under the scratch dir. */
static struct store *fresh(const char *name)
{
    struct store *s;

    snprintf(dbpath, sizeof dbpath, "%s", unit_tmp(name));
    s = store_open(dbpath);
    if (!s)
        unit_fail(__FILE__, __LINE__, "store_open(%s) failed", dbpath);
    return s;
}

/* A filled-in open ticket for `customer`; strings are literals (not owned). */
static struct ticket ticket_for(const char *customer, const char *tweet)
{
    struct ticket t;

    memset(&t, 0, sizeof t);
    t.customer_id = (char *)customer;
    t.customer_handle = (char *)"handle";
    t.conversation_id = (char *)tweet;
    t.tweet_id = (char *)tweet;
    t.text = (char *)"help";
    t.opened_at = 1000;
    t.sla_due_at = 4600;
    t.updated_at = 1000;
    return t;
}

/* "3,2,1" from a ticket list, for compact comparisons; static buffer. */
static const char *ids(struct store *s, const char *where, const char *arg)
{
    static char out[256];
    size_t n = 0, len = 0;
    int64_t *v = store_ticket_list(s, where, arg, 50, &n);

    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%lld", i ? "," : "",
                                (long long)v[i]);
    free(v);
    return out;
}

/* The kv value as a static string, "(unset)" when absent. */
static const char *kv(struct store *s, const char *scope, const char *key)
{
    static char out[256];
    char *v = store_kv_get(s, scope, key);

    snprintf(out, sizeof out, "%s", v ? v : "(unset)");
    free(v);
    return out;
}

/* --- open, schema, reopen ------------------------------------------------- */

TEST(store_open_creates_the_newest_schema)
{
    struct store *s = fresh("schema.db");

    if (!s)
        return;
    CHECK_INT(store_schema_version(s), store_schema_latest());
    CHECK_INT(store_ticket_count(s), 0);
    CHECK_INT(store_mention_count(s), 0);
    CHECK_INT(store_job_count(s, "queued"), 0);
    CHECK(store_size_bytes(s) > 0);
    CHECK(!store_in_transaction(s));
    store_close(s);
}

TEST(store_migrates_a_version_1_database_forward_keeping_its_data)
{
    struct store *s = fresh("v1.db");
    sqlite3 *db;
    int newest;

    if (!s)
        return;
    newest = store_schema_version(s);
    CHECK_INT(store_kv_set(s, "desk", "motd", "kept"), STORE_OK);
    store_close(s);
    /* make it look like a database written by schema 1 */
    CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, UNIT_REWIND_TO_SCHEMA_1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = store_open(dbpath);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(store_schema_version(s), newest);
    CHECK_STR(kv(s, "desk", "motd"), "kept");
    store_close(s);
}

/* Every follow-up asks whether its ticket already has an update queued:
 * that must be an index lookup, not a scan of the queue. */
TEST(store_pending_job_lookup_uses_an_index)
{
    struct store *s = fresh("plan.db");
    sqlite3 *db;
    sqlite3_stmt *st;
    char plan[512] = "";

    if (!s)
        return;
    store_close(s);
    CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    CHECK_INT(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT 1 FROM outbox WHERE kind = ? "
                                     "AND ticket_id = ? AND state = 'queued' LIMIT 1", -1, &st,
                                 NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        snprintf(plan + strlen(plan), sizeof plan - strlen(plan), "%s;",
                 (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(db);
    CHECK(strstr(plan, "USING INDEX outbox_queued_ticket") != NULL);
}

TEST(store_reopen_keeps_data)
{
    struct store *s = fresh("reopen.db");
    char *v;
    int newest;

    if (!s)
        return;
    newest = store_schema_version(s);
    CHECK_INT(store_kv_set(s, "desk", "motd", "hello"), STORE_OK);
    CHECK_INT(store_cursor_set(s, "x", "1860000000000000000", 5), STORE_OK);
    store_close(s);

    s = store_open(dbpath);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(store_schema_version(s), newest);
    CHECK_STR(kv(s, "desk", "motd"), "hello");
    v = store_cursor_get(s, "x");
    CHECK_STR(v, "1860000000000000000");
    free(v);
    store_close(s);
}

/* What X bills is tallied per UTC day: a new day starts from zero, a
 * tally survives a reopen, and reading (add 0) changes nothing. */
TEST(store_usage_tallies_per_day_and_survives_a_reopen)
{
    struct store *s = fresh("usage.db");

    if (!s)
        return;
    CHECK_INT(store_usage_add(s, "2026-12-05", "x", "owned_read", 0), 0);
    CHECK_INT(store_usage_add(s, "2026-12-05", "x", "owned_read", 100), 100);
    CHECK_INT(store_usage_add(s, "2026-12-05", "x", "owned_read", 7), 107);
    CHECK_INT(store_usage_add(s, "2026-12-05", "x", "reply", 1), 1);
    CHECK_INT(store_usage_add(s, "2026-12-06", "x", "owned_read", 3), 3);
    CHECK_INT(store_usage_add(s, "2026-12-05", "other", "owned_read", 0), 0);
    store_close(s);
    s = store_open(dbpath);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(store_usage_add(s, "2026-12-05", "x", "owned_read", 0), 107);
    CHECK_INT(store_usage_add(s, "2026-12-05", "x", "reply", 0), 1);
    CHECK_INT(store_usage_add(s, "2026-12-06", "x", "owned_read", 0), 3);
    store_close(s);
}

TEST(store_open_fails_on_unwritable_path)
{
    CHECK(store_open(unit_tmp("no-such-dir/x.db")) == NULL);
}

/* --- transactions --------------------------------------------------------- */

TEST(store_nested_rollback_keeps_outer_writes_only)
{
    struct store *s = fresh("tx.db");

    if (!s)
        return;
    CHECK_INT(store_begin(s), STORE_OK);
    CHECK_INT(store_kv_set(s, "t", "outer", "1"), STORE_OK);
    CHECK_INT(store_begin(s), STORE_OK);
    CHECK_INT(store_kv_set(s, "t", "inner", "2"), STORE_OK);
    CHECK_STR(kv(s, "t", "inner"), "2");
    store_rollback(s);
    CHECK(store_in_transaction(s));
    CHECK_INT(store_kv_set(s, "t", "after", "3"), STORE_OK);
    CHECK_INT(store_commit(s), STORE_OK);
    CHECK(!store_in_transaction(s));

    CHECK_STR(kv(s, "t", "outer"), "1");
    CHECK_STR(kv(s, "t", "inner"), "(unset)");
    CHECK_STR(kv(s, "t", "after"), "3");
    store_close(s);
}

TEST(store_nested_commit_then_outer_rollback_drops_everything)
{
    struct store *s = fresh("tx2.db");

    if (!s)
        return;
    CHECK_INT(store_begin(s), STORE_OK);
    CHECK_INT(store_kv_set(s, "t", "outer", "1"), STORE_OK);
    CHECK_INT(store_begin(s), STORE_OK);
    CHECK_INT(store_kv_set(s, "t", "inner", "2"), STORE_OK);
    CHECK_INT(store_commit(s), STORE_OK);
    store_rollback(s);
    CHECK(!store_in_transaction(s));
    CHECK_STR(kv(s, "t", "outer"), "(unset)");
    CHECK_STR(kv(s, "t", "inner"), "(unset)");
    store_close(s);
}

TEST(store_commit_without_begin_is_an_error)
{
    struct store *s = fresh("tx3.db");

    if (!s)
        return;
    CHECK_INT(store_commit(s), STORE_ERR);
    store_rollback(s);                  /* harmless */
    CHECK(!store_in_transaction(s));
    store_close(s);
}

/* --- events --------------------------------------------------------------- */

TEST(store_events_come_back_oldest_first)
{
    struct store *s = fresh("events.db");
    struct event *ev;
    size_t n = 0;

    if (!s)
        return;
    CHECK_INT(store_event_append(s, 7, "U1", "opened", "from @ann", 100), STORE_OK);
    CHECK_INT(store_event_append(s, 8, "U1", "opened", NULL, 101), STORE_OK);
    CHECK_INT(store_event_append(s, 7, "U2", "assigned", "to U2", 102), STORE_OK);
    CHECK_INT(store_event_append(s, 7, "U2", "closed", NULL, 103), STORE_OK);
    ev = store_events_of(s, 7, &n);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(ev[0].action, "opened");
        CHECK_STR(ev[0].detail, "from @ann");
        CHECK_INT(ev[0].at, 100);
        CHECK_INT(ev[0].ticket_id, 7);
        CHECK_STR(ev[1].action, "assigned");
        CHECK_STR(ev[1].actor, "U2");
        CHECK_STR(ev[2].action, "closed");
        CHECK(ev[2].detail == NULL);
        CHECK(ev[0].id < ev[1].id && ev[1].id < ev[2].id);
    }
    store_events_free(ev, n);
    ev = store_events_of(s, 99, &n);
    CHECK_INT(n, 0);
    store_events_free(ev, n);
    store_close(s);
}

TEST(store_events_are_append_only_for_any_connection)
{
    struct store *s = fresh("audit.db");
    sqlite3 *db = NULL;
    struct event *ev;
    size_t n = 0;

    if (!s)
        return;
    CHECK_INT(store_event_append(s, 1, "U1", "opened", "original", 100), STORE_OK);

    CHECK_INT(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    CHECK_INT(sqlite3_exec(db, "UPDATE events SET detail = 'forged'", NULL, NULL, NULL),
              SQLITE_CONSTRAINT);
    CHECK(strstr(sqlite3_errmsg(db), "append-only") != NULL);
    CHECK_INT(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_CONSTRAINT);
    CHECK_INT(sqlite3_exec(db, "INSERT INTO events (ticket_id, at, actor, action)"
                               " VALUES (1, 200, 'sql', 'noted')", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);

    ev = store_events_of(s, 1, &n);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(ev[0].detail, "original");
        CHECK_STR(ev[1].action, "noted");
    }
    store_events_free(ev, n);
    store_close(s);
}

/* --- kv, cursors, canned -------------------------------------------------- */

TEST(store_kv_set_get_overwrite_delete)
{
    struct store *s = fresh("kv.db");

    if (!s)
        return;
    CHECK_STR(kv(s, "a", "k"), "(unset)");
    CHECK_INT(store_kv_set(s, "a", "k", "one"), STORE_OK);
    CHECK_INT(store_kv_set(s, "b", "k", "other scope"), STORE_OK);
    CHECK_STR(kv(s, "a", "k"), "one");
    CHECK_INT(store_kv_set(s, "a", "k", "two"), STORE_OK);
    CHECK_STR(kv(s, "a", "k"), "two");
    CHECK_INT(store_kv_del(s, "a", "k"), STORE_OK);
    CHECK_STR(kv(s, "a", "k"), "(unset)");
    CHECK_STR(kv(s, "b", "k"), "other scope");
    CHECK_INT(store_kv_del(s, "a", "never-set"), STORE_OK);
    store_close(s);
}

TEST(store_cursor_set_get_overwrite)
{
    struct store *s = fresh("cursor.db");
    char *v;

    if (!s)
        return;
    CHECK(store_cursor_get(s, "x") == NULL);
    CHECK_INT(store_cursor_set(s, "x", "100", 1), STORE_OK);
    CHECK_INT(store_cursor_set(s, "replay", "3", 1), STORE_OK);
    CHECK_INT(store_cursor_set(s, "x", "200", 2), STORE_OK);
    v = store_cursor_get(s, "x");
    CHECK_STR(v, "200");
    free(v);
    v = store_cursor_get(s, "replay");
    CHECK_STR(v, "3");
    free(v);
    store_close(s);
}

TEST(store_canned_set_get_and_sorted_names)
{
    struct store *s = fresh("canned.db");
    char **names, *body;

    if (!s)
        return;
    names = store_canned_names(s);
    CHECK(names != NULL && names[0] == NULL);
    store_strv_free(names);

    CHECK_INT(store_canned_set(s, "refund", "Refund sent", "U1", 10), STORE_OK);
    CHECK_INT(store_canned_set(s, "delay", "Soon", "U1", 11), STORE_OK);
    CHECK_INT(store_canned_set(s, "apology", "Sorry!", "U2", 12), STORE_OK);
    CHECK_INT(store_canned_set(s, "delay", "Very soon", "U2", 13), STORE_OK);

    body = store_canned_get(s, "delay");
    CHECK_STR(body, "Very soon");
    free(body);
    body = store_canned_get(s, "refund");
    CHECK_STR(body, "Refund sent");
    free(body);
    CHECK(store_canned_get(s, "missing") == NULL);

    names = store_canned_names(s);
    CHECK(names != NULL);
    if (names) {
        CHECK_STR(names[0], "apology");
        CHECK_STR(names[1], "delay");
        CHECK_STR(names[2], "refund");
        CHECK(names[3] == NULL);
    }
    store_strv_free(names);
    store_close(s);
}

/* --- mentions ------------------------------------------------------------- */

TEST(store_mention_insert_once_and_find_by_original)
{
    struct store *s = fresh("mentions.db");
    struct mention m;
    struct ticket t = ticket_for("871236540", "1860005834278457344");
    int64_t tid;
    int has = -1;

    if (!s)
        return;
    tid = store_ticket_insert(s, &t);
    CHECK(tid > 0);
    memset(&m, 0, sizeof m);
    m.id = 1860005834278457344LL;
    m.author_id = (char *)"871236540";
    m.author_handle = (char *)"tom";
    m.text = (char *)"@AcmeSupport refund?";
    m.conversation_id = (char *)"1860005834278457344";
    CHECK_INT(store_mention_exists(s, m.id), 0);
    CHECK_INT(store_mention_insert(s, &m, m.id, 0, NULL, 100), STORE_OK);
    CHECK_INT(store_mention_exists(s, m.id), 1);
    CHECK_INT(store_mention_insert(s, &m, m.id, 0, NULL, 100), STORE_EXISTS);
    CHECK_INT(store_mention_count(s), 1);

    CHECK_INT(store_mention_ticket_by_original(s, 42, &has), 0);
    CHECK_INT(has, 0);

    /* An edit: new id, same original, attached to the ticket. */
    m.id = 1860005834278457999LL;
    CHECK_INT(store_mention_insert(s, &m, 1860005834278457344LL, tid, NULL, 101),
              STORE_OK);
    CHECK_INT(store_mention_ticket_by_original(s, 1860005834278457344LL, &has), 0);
    CHECK_INT(has, 1);                  /* the first one has no ticket */
    CHECK_INT(store_ticket_mentions(s, tid), 1);
    CHECK_INT(store_mention_count(s), 2);

    /* A mention may not point at a ticket that does not exist. */
    m.id = 1860005834278458000LL;
    CHECK(store_mention_insert(s, &m, m.id, tid + 100, NULL, 102) != STORE_OK);
    store_close(s);
}

/* --- outbox --------------------------------------------------------------- */

TEST(store_job_next_returns_oldest_job_per_target_only)
{
    struct store *s = fresh("jobs.db");
    struct job j;
    int64_t a1, a2, next = -1;

    if (!s)
        return;
    a1 = store_job_insert(s, "post", "slack", 1, "{\"n\":1}", 0, 10);
    a2 = store_job_insert(s, "reply", "slack", 1, NULL, 0, 11);
    CHECK(a1 > 0 && a2 > a1);

    CHECK_INT(store_job_next(s, 1000, NULL, 0, &j, &next), STORE_OK);
    CHECK_INT(j.id, a1);
    CHECK_STR(j.kind, "post");
    CHECK_STR(j.target, "slack");
    CHECK_STR(j.payload, "{\"n\":1}");
    CHECK_STR(j.state, "queued");
    CHECK_INT(j.ticket_id, 1);
    store_job_clear(&j);

    /* In flight, still the head of its target: the second must wait. */
    CHECK_INT(store_job_set_state(s, a1, "inflight", 1, 0, NULL, NULL, 12), STORE_OK);
    CHECK_INT(store_job_next(s, 1000, NULL, 0, &j, &next), STORE_OK);
    CHECK_INT(j.id, a1);
    store_job_clear(&j);

    CHECK_INT(store_job_set_state(s, a1, "done", 1, 0, "ts=1.2", NULL, 13), STORE_OK);
    CHECK_INT(store_job_next(s, 1000, NULL, 0, &j, &next), STORE_OK);
    CHECK_INT(j.id, a2);
    CHECK_STR(j.payload, "{}");
    store_job_clear(&j);

    CHECK_INT(store_job_get(s, a1, &j), STORE_OK);
    CHECK_STR(j.state, "done");
    CHECK_STR(j.result, "ts=1.2");
    CHECK_INT(j.attempts, 1);
    store_job_clear(&j);
    store_close(s);
}

TEST(store_job_next_later_job_waits_for_head_in_backoff)
{
    struct store *s = fresh("order.db");
    struct job j;
    int64_t head, later, next = -1;

    if (!s)
        return;
    head = store_job_insert(s, "post", "slack", 1, NULL, 0, 10);
    later = store_job_insert(s, "reply", "slack", 1, NULL, 0, 10);
    /* The head failed once and retries at 5000; the reply is due now but
     * must not overtake it. */
    CHECK_INT(store_job_set_state(s, head, "queued", 1, 5000, NULL, "503", 11), STORE_OK);
    CHECK_INT(store_job_next(s, 1000, NULL, 0, &j, &next), STORE_NOTFOUND);
    CHECK_INT(next, 5000);

    CHECK_INT(store_job_next(s, 5000, NULL, 0, &j, &next), STORE_OK);
    CHECK_INT(j.id, head);
    CHECK_INT(j.attempts, 1);
    CHECK_STR(j.last_error, "503");
    store_job_clear(&j);

    CHECK_INT(store_job_set_state(s, head, "failed", 2, 0, NULL, "gave up", 12), STORE_OK);
    CHECK_INT(store_job_next(s, 5000, NULL, 0, &j, &next), STORE_OK);
    CHECK_INT(j.id, later);
    store_job_clear(&j);
    store_close(s);
}

TEST(store_job_next_skips_busy_targets)
{
    struct store *s = fresh("busy.db");
    const char *busy[] = { "slack" };
    struct job j;
    int64_t next = -1, x1;

    if (!s)
        return;
    store_job_insert(s, "post", "slack", 1, NULL, 0, 10);
    x1 = store_job_insert(s, "reply", "x", 1, NULL, 50, 11);

    CHECK_INT(store_job_next(s, 1000, busy, 1, &j, &next), STORE_OK);
    CHECK_INT(j.id, x1);
    CHECK_STR(j.target, "x");
    store_job_clear(&j);

    CHECK_INT(store_job_set_state(s, x1, "done", 1, 0, NULL, NULL, 12), STORE_OK);
    CHECK_INT(store_job_next(s, 1000, busy, 1, &j, &next), STORE_NOTFOUND);
    CHECK_INT(next, 0);
    store_close(s);
}

TEST(store_job_next_waits_for_next_at_and_reports_earliest)
{
    struct store *s = fresh("due.db");
    struct job j;
    int64_t next = -1, late, soon;

    if (!s)
        return;
    late = store_job_insert(s, "post", "slack", 1, NULL, 9000, 10);
    soon = store_job_insert(s, "reply", "x", 2, NULL, 5000, 10);
    CHECK(late > 0 && soon > 0);

    CHECK_INT(store_job_next(s, 1000, NULL, 0, &j, &next), STORE_NOTFOUND);
    CHECK_INT(next, 5000);
    CHECK_INT(j.id, 0);

    CHECK_INT(store_job_next(s, 5000, NULL, 0, &j, &next), STORE_OK);
    CHECK_INT(j.id, soon);
    CHECK_INT(j.next_at_ms, 5000);
    store_job_clear(&j);

    CHECK_INT(store_job_next(s, 9000, NULL, 0, &j, &next), STORE_OK);
    CHECK_INT(j.id, soon);              /* due first: next_at_ms order */
    store_job_clear(&j);
    store_close(s);
}

TEST(store_job_next_empty_queue_sets_next_to_zero)
{
    struct store *s = fresh("empty.db");
    struct job j;
    int64_t next = -1;

    if (!s)
        return;
    CHECK_INT(store_job_next(s, 1000, NULL, 0, &j, &next), STORE_NOTFOUND);
    CHECK_INT(next, 0);
    store_close(s);
}

TEST(store_job_requeue_inflight_puts_jobs_back)
{
    struct store *s = fresh("requeue.db");
    struct job j;
    int64_t a, b, c;

    if (!s)
        return;
    a = store_job_insert(s, "post", "slack", 1, NULL, 0, 10);
    b = store_job_insert(s, "reply", "x", 1, NULL, 0, 10);
    c = store_job_insert(s, "dm", "slack-dm", 1, NULL, 0, 10);
    store_job_set_state(s, a, "inflight", 1, 0, NULL, NULL, 11);
    store_job_set_state(s, b, "inflight", 2, 0, NULL, "timeout", 11);
    store_job_set_state(s, c, "failed", 12, 0, NULL, "gave up", 11);
    CHECK_INT(store_job_count(s, "inflight"), 2);

    CHECK_INT(store_job_requeue_inflight(s, 20), STORE_OK);
    CHECK_INT(store_job_count(s, "inflight"), 0);
    CHECK_INT(store_job_count(s, "queued"), 2);
    CHECK_INT(store_job_count(s, "failed"), 1);
    CHECK_INT(store_job_get(s, b, &j), STORE_OK);
    CHECK_STR(j.state, "queued");
    CHECK_INT(j.attempts, 2);           /* attempts survive the crash */
    CHECK_STR(j.last_error, "timeout");
    store_job_clear(&j);
    store_close(s);
}

TEST(store_job_pending_and_depths)
{
    struct store *s = fresh("depths.db");
    char *d;
    int64_t a;

    if (!s)
        return;
    a = store_job_insert(s, "post", "slack", 3, NULL, 0, 10);
    store_job_insert(s, "reply", "slack", 3, NULL, 0, 10);
    store_job_insert(s, "reply", "x", 4, NULL, 0, 10);
    CHECK_INT(store_job_pending(s, "post", 3), 1);
    CHECK_INT(store_job_pending(s, "post", 4), 0);
    d = store_job_depths(s);
    CHECK_STR(d, "slack=2 x=1");
    free(d);
    store_job_set_state(s, a, "done", 1, 0, NULL, NULL, 11);
    CHECK_INT(store_job_pending(s, "post", 3), 0);
    d = store_job_depths(s);
    CHECK_STR(d, "slack=1 x=1");
    free(d);
    CHECK_INT(store_job_get(s, 999, &(struct job){ 0 }), STORE_NOTFOUND);
    store_close(s);
}

/* --- tickets -------------------------------------------------------------- */

TEST(store_ticket_round_trips_every_field)
{
    struct store *s = fresh("ticket.db");
    struct ticket t = ticket_for("871236540", "1860005834278457344"), g;
    int64_t id;

    if (!s)
        return;
    t.customer_name = (char *)"Tom Becker";
    t.last_tweet_id = (char *)"1860005834278457999";
    t.text = (char *)"no refund \xf0\x9f\x98\xa1";
    t.assignee = (char *)"U024BE7LH";
    t.escalated = 1;
    t.escalation_reason = (char *)"angry";
    t.priority = (char *)"high";
    t.tags = (char *)"billing,refund";
    t.first_response_at = 1200;
    t.sla_warned = 1;
    t.sla_breached = 1;
    t.injected = 1;
    t.chat_ref = (char *)"1700000000.000100";
    t.chat_channel = (char *)"C123";
    t.updated_at = 1300;

    id = store_ticket_insert(s, &t);
    CHECK(id > 0);
    CHECK_INT(store_ticket_get(s, id, &g), STORE_OK);
    CHECK_INT(g.id, id);
    CHECK_STR(g.state, "open");
    CHECK_STR(g.customer_id, "871236540");
    CHECK_STR(g.customer_handle, "handle");
    CHECK_STR(g.customer_name, "Tom Becker");
    CHECK_STR(g.conversation_id, "1860005834278457344");
    CHECK_STR(g.tweet_id, "1860005834278457344");
    CHECK_STR(g.last_tweet_id, "1860005834278457999");
    CHECK_STR(g.text, "no refund \xf0\x9f\x98\xa1");
    CHECK_STR(g.assignee, "U024BE7LH");
    CHECK_INT(g.escalated, 1);
    CHECK_STR(g.escalation_reason, "angry");
    CHECK_STR(g.priority, "high");
    CHECK_STR(g.tags, "billing,refund");
    CHECK_INT(g.opened_at, 1000);
    CHECK_INT(g.first_response_at, 1200);
    CHECK_INT(g.closed_at, 0);
    CHECK_INT(g.sla_due_at, 4600);
    CHECK_INT(g.sla_warned, 1);
    CHECK_INT(g.sla_breached, 1);
    CHECK_INT(g.injected, 1);
    CHECK_STR(g.chat_ref, "1700000000.000100");
    CHECK_STR(g.chat_channel, "C123");
    CHECK_INT(g.updated_at, 1300);

    /* Update through the fetched copy: close it, unassign, retag. */
    free(g.state);
    g.state = strdup("closed");
    free(g.assignee);
    g.assignee = NULL;
    free(g.tags);
    g.tags = strdup("refund");
    g.closed_at = 2000;
    g.escalated = 0;
    CHECK_INT(store_ticket_update(s, &g), STORE_OK);
    store_ticket_clear(&g);

    CHECK_INT(store_ticket_get(s, id, &g), STORE_OK);
    CHECK_STR(g.state, "closed");
    CHECK(g.assignee == NULL);
    CHECK_STR(g.tags, "refund");
    CHECK_INT(g.closed_at, 2000);
    CHECK_INT(g.escalated, 0);
    CHECK_STR(g.customer_name, "Tom Becker");
    store_ticket_clear(&g);
    CHECK(g.state == NULL);

    CHECK_INT(store_ticket_get(s, id + 100, &g), STORE_NOTFOUND);
    store_close(s);
}

TEST(store_ticket_insert_defaults)
{
    struct store *s = fresh("ticketdef.db");
    struct ticket t = ticket_for("C1", "100"), g;
    int64_t id;

    if (!s)
        return;
    id = store_ticket_insert(s, &t);
    CHECK_INT(store_ticket_get(s, id, &g), STORE_OK);
    CHECK_STR(g.state, "open");
    CHECK_STR(g.priority, "normal");
    CHECK_STR(g.tags, "");
    CHECK_STR(g.last_tweet_id, "100");  /* defaults to the opening tweet */
    CHECK(g.assignee == NULL);
    CHECK_INT(g.first_response_at, 0);
    store_ticket_clear(&g);
    store_close(s);
}

TEST(store_ticket_find_open_by_customer_and_conversation)
{
    struct store *s = fresh("findopen.db");
    struct ticket t = ticket_for("C1", "100");
    int64_t a, b;

    if (!s)
        return;
    a = store_ticket_insert(s, &t);
    t.conversation_id = (char *)"200";
    t.state = (char *)"closed";
    b = store_ticket_insert(s, &t);
    CHECK(a > 0 && b > a);
    CHECK_INT(store_ticket_find_open(s, "C1", "100"), a);
    CHECK_INT(store_ticket_find_open(s, "C1", "200"), 0);   /* closed */
    CHECK_INT(store_ticket_find_open(s, "C2", "100"), 0);
    CHECK_INT(store_ticket_count(s), 2);
    store_close(s);
}

TEST(store_ticket_list_filters)
{
    struct store *s = fresh("list.db");
    struct ticket t;
    size_t n = 99;

    if (!s)
        return;
    t = ticket_for("C1", "1");                          /* 1: open, unassigned */
    store_ticket_insert(s, &t);
    t = ticket_for("C2", "2");                          /* 2: open, U1, escalated */
    t.assignee = (char *)"U1";
    t.escalated = 1;
    t.sla_due_at = 4000;                                /* due before 1 */
    store_ticket_insert(s, &t);
    t = ticket_for("C1", "3");                          /* 3: closed, U1 */
    t.assignee = (char *)"U1";
    t.state = (char *)"closed";
    t.closed_at = 2000;
    store_ticket_insert(s, &t);
    t = ticket_for("C3", "4");                          /* 4: open, U2, answered */
    t.assignee = (char *)"U2";
    t.first_response_at = 1100;
    store_ticket_insert(s, &t);
    t = ticket_for("C3", "5");                          /* 5: closed, escalated */
    t.state = (char *)"closed";
    t.escalated = 1;
    store_ticket_insert(s, &t);

    CHECK_STR(ids(s, "open", NULL), "4,2,1");
    CHECK_STR(ids(s, "closed", NULL), "5,3");
    CHECK_STR(ids(s, "unassigned", NULL), "1");
    CHECK_STR(ids(s, "escalated", NULL), "2");
    CHECK_STR(ids(s, "all", NULL), "5,4,3,2,1");
    CHECK_STR(ids(s, "sla", NULL), "2,1");      /* by due time */
    CHECK_STR(ids(s, "customer", "C1"), "3,1");
    CHECK_STR(ids(s, "customer", "C3"), "5,4");
    CHECK_STR(ids(s, "assignee", "U1"), "2");           /* open ones only */
    CHECK_STR(ids(s, "assignee", "U9"), "");
    CHECK(store_ticket_list(s, "bogus", NULL, 10, &n) == NULL);
    CHECK_INT(n, 0);
    store_close(s);
}

TEST(store_ticket_list_honours_limit)
{
    struct store *s = fresh("limit.db");
    struct ticket t = ticket_for("C1", "1");
    int64_t *v;
    size_t n = 0;

    if (!s)
        return;
    for (int i = 0; i < 5; i++)
        store_ticket_insert(s, &t);
    v = store_ticket_list(s, "open", NULL, 2, &n);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_INT(v[0], 5);
        CHECK_INT(v[1], 4);
    }
    free(v);
    store_close(s);
}

/* --- a store that fails: locked, deleted, replaced, corrupt (issue 14) --- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Another program (a `sqlite3` shell in a transaction) holds the write
 * lock: the loop must not wait seconds for it, and the caller must be able
 * to tell "busy" from "broken". */
TEST(store_write_lock_held_elsewhere_fails_within_a_blink_and_says_busy)
{
    struct store *s = fresh("lock.db");
    sqlite3 *other;
    double t0;
    int rc;

    CHECK_INT(sqlite3_open(dbpath, &other), SQLITE_OK);
    CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    t0 = now_s();
    rc = store_begin(s);
    CHECK(rc != STORE_OK);
    CHECK(now_s() - t0 < 0.5);
    CHECK(store_busy(s));
    CHECK(!store_lost(s));
    CHECK_INT(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    CHECK_INT(store_begin(s), STORE_OK);   /* lock gone: works again */
    CHECK_INT(store_kv_set(s, "t", "k", "v"), STORE_OK);
    CHECK_INT(store_commit(s), STORE_OK);
    store_close(s);
}

TEST(store_deleted_while_open_is_noticed_and_refuses_every_write)
{
    struct store *s = fresh("deleted.db");
    CHECK_INT(store_check(s), STORE_OK);
    CHECK_INT(unlink(dbpath), 0);
    CHECK(store_check(s) != STORE_OK);
    CHECK(store_lost(s));
    CHECK(store_begin(s) != STORE_OK);
    CHECK(store_failing_since(s, NULL, 0) > 0);
    store_close(s);
}

TEST(store_replaced_while_open_is_noticed_at_the_next_transaction)
{
    struct store *s = fresh("replaced.db");
    char other[600];
    FILE *f;
    snprintf(other, sizeof other, "%s.new", dbpath);
    f = fopen(other, "w");
    fclose(f);
    CHECK_INT(rename(other, dbpath), 0);
    CHECK(store_begin(s) != STORE_OK);
    CHECK(store_lost(s));
    store_close(s);
}

TEST(store_open_refuses_a_file_that_is_not_sqlite)
{
    const char *p = unit_tmp("notsqlite.db");
    FILE *f = fopen(p, "w");
    fputs("this is a text file, not a database; vigil must not start on it\n", f);
    for (int i = 0; i < 200; i++)
        fputs("0123456789abcdef0123456789abcdef\n", f);
    fclose(f);
    CHECK(store_open(p) == NULL);
}

/* A store whose pages were overwritten: refused at start (quick_check),
 * not discovered by the first ingest. */
TEST(store_open_refuses_a_corrupt_file)
{
    struct store *s = fresh("corrupt.db");
    char big[2000];
    FILE *f;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        store_kv_set(s, "t", key, big);
    }
    store_close(s);
    /* fold the WAL into the file, then scribble over its middle */
    {
        sqlite3 *db;
        sqlite3_open(dbpath, &db);
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE",
                     NULL, NULL, NULL);
        sqlite3_close(db);
    }
    f = fopen(dbpath, "r+");
    CHECK(f != NULL);
    fseek(f, 4096 * 5 + 100, SEEK_SET);
    for (int i = 0; i < 4096 * 20; i++)
        fputc(i * 7 & 0xff, f);
    fclose(f);
    CHECK(store_open(dbpath) == NULL);
}
