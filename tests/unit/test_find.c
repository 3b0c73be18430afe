/* test_find.c — the /tw find query language (desk/find.c) and the search
 * index (store_search): operators, dates, and that no user word is ever
 * read as FTS5 syntax. */
#include "unit.h"

#include <stdlib.h>

#include "desk/find.h"
#include "source/mention.h"
#include "store/store.h"

#define NOW 1796000000LL   /* 2026-11-30T00:53:20Z */

TEST(find_words_become_quoted_fts_phrases)
{
    struct find_query q;
    char err[200];
    CHECK_INT(find_parse("late  parcel \"order 42\"", NOW, &q, err, sizeof err), 0);
    CHECK_STR(q.match, "\"late\" \"parcel\" \"order 42\"");
    CHECK_INT(q.nwords, 3);
    find_query_clear(&q);
    /* FTS5 syntax typed by an agent (or pasted from a tweet) is text */
    CHECK_INT(find_parse("a\"b NEAR(x y) * -foo ^bar OR col:x (", NOW, &q, err, sizeof err), 0);
    CHECK_STR(q.match, "\"a\"\"b\" \"NEAR(x\" \"y)\" \"*\" \"-foo\" \"^bar\" \"OR\" \"col:x\" \"(\"");
    find_query_clear(&q);
    CHECK_INT(find_parse("\"unclosed phrase", NOW, &q, err, sizeof err), 0);
    CHECK_STR(q.match, "\"unclosed phrase\"");
    find_query_clear(&q);
    CHECK_INT(find_parse("   ", NOW, &q, err, sizeof err), 0);
    CHECK(q.match == NULL);
    find_query_clear(&q);
}

TEST(find_operators_fill_their_filters)
{
    struct find_query q;
    char err[200];
    CHECK_INT(find_parse("refund @Tom_B tag:#Billing status:OPEN assignee:me since:7d "
                         "until:2026-11-28", NOW, &q, err, sizeof err), 0);
    CHECK_STR(q.match, "\"refund\"");
    CHECK_STR(q.handle, "Tom_B");
    CHECK_STR(q.tag, "billing");
    CHECK_STR(q.status, "open");
    CHECK_STR(q.assignee, "me");
    CHECK_INT(q.since, NOW - 7 * 86400);
    CHECK_INT(q.until, 1795824000LL + 86400);   /* until a day includes it */
    find_query_clear(&q);
    CHECK_INT(find_parse("since:2026-11-01 until:12h assignee:@alice", NOW, &q, err,
                         sizeof err), 0);
    CHECK_INT(q.since, 1793491200LL);
    CHECK_INT(q.until, NOW - 12 * 3600);
    CHECK_STR(q.assignee, "@alice");
    CHECK(q.match == NULL);
    find_query_clear(&q);
    /* a colon in an unknown word is just a word */
    CHECK_INT(find_parse("https://acme.example/x", NOW, &q, err, sizeof err), 0);
    CHECK_STR(q.match, "\"https://acme.example/x\"");
    find_query_clear(&q);
}

TEST(find_bad_values_say_what_is_wrong)
{
    struct find_query q;
    char err[200];
    CHECK_INT(find_parse("status:pending", NOW, &q, err, sizeof err), -1);
    CHECK(strstr(err, "status: is one of open") != NULL);
    CHECK_INT(find_parse("since:yesterday", NOW, &q, err, sizeof err), -1);
    CHECK(strstr(err, "since: takes a date") != NULL);
    CHECK_INT(find_parse("since:7y", NOW, &q, err, sizeof err), -1);
    CHECK_INT(find_parse("since:2026-13-40", NOW, &q, err, sizeof err), -1);
    CHECK_INT(find_parse("tag:", NOW, &q, err, sizeof err), -1);
    CHECK(strstr(err, "tag: needs a value") != NULL);
    CHECK_INT(find_parse("tag:a,b", NOW, &q, err, sizeof err), -1);
    CHECK_INT(find_parse("@bad-handle", NOW, &q, err, sizeof err), -1);
    CHECK(strstr(err, "not an X handle") != NULL);
    CHECK_INT(find_parse("since:1d until:2d", NOW, &q, err, sizeof err), -1);
    CHECK(strstr(err, "nothing can match") != NULL);
    CHECK(q.match == NULL);
}

/* --- the index ------------------------------------------------------------ */

static int64_t open_ticket(struct store *s, int64_t tweet, const char *handle,
                           const char *text, int64_t opened)
{
    struct ticket t;
    struct mention m;
    char id[24];
    int64_t tid;

    snprintf(id, sizeof id, "%lld", (long long)tweet);
    memset(&t, 0, sizeof t);
    t.state = (char *)"open";
    t.customer_id = t.customer_handle = (char *)handle;
    t.conversation_id = t.tweet_id = t.last_tweet_id = id;
    t.text = (char *)text;
    t.priority = (char *)"normal";
    t.tags = (char *)"";
    t.opened_at = t.updated_at = opened;
    t.sla_due_at = opened + 3600;
    tid = store_ticket_insert(s, &t);
    memset(&m, 0, sizeof m);
    m.id = m.original_id = tweet;
    m.text = (char *)text;
    m.author_id = m.author_handle = (char *)handle;
    CHECK_INT(store_mention_insert(s, &m, tweet, tid, NULL, opened), STORE_OK);
    return tid;
}

static int64_t search(struct store *s, const char *text, int64_t *first, char **excerpt)
{
    struct find_query q;
    struct store_search ss = { 0 };
    struct store_hit *hits;
    size_t n;
    int64_t total = -1;
    char err[200];
    if (find_parse(text, NOW, &q, err, sizeof err)) {
        unit_fail(__FILE__, __LINE__, "find_parse(%s): %s", text, err);
        return -1;
    }
    ss.match = q.match;
    ss.handle = q.handle[0] ? q.handle : NULL;
    ss.tag = q.tag[0] ? q.tag : NULL;
    ss.status = q.status[0] ? q.status : NULL;
    ss.assignee = q.assignee[0] ? q.assignee : NULL;
    ss.since = q.since;
    ss.until = q.until;
    CHECK_INT(store_search(s, &ss, 5, 0, &hits, &n, &total), STORE_OK);
    if (first)
        *first = n ? hits[0].id : 0;
    if (excerpt)
        *excerpt = n && hits[0].excerpt ? strdup(hits[0].excerpt) : NULL;
    store_hits_free(hits, n);
    find_query_clear(&q);
    return total;
}

TEST(store_search_finds_follow_ups_in_the_same_transaction_as_ingest)
{
    struct store *s = store_open(unit_tmp("find.db"));
    struct mention m;
    struct ticket t;
    int64_t a, b, first;
    char *ex = NULL;

    CHECK(s != NULL);
    if (!s)
        return;
    a = open_ticket(s, 1001, "alice", "my parcel is late", NOW - 3 * 86400);
    b = open_ticket(s, 1002, "bob", "refund please, NEAR the \"end\" of * my rope", NOW - 3600);
    /* a follow-up tweet is searchable once stored, and rolled back with it */
    memset(&m, 0, sizeof m);
    m.id = m.original_id = 1003;
    m.text = (char *)"still waiting for the blender";
    m.author_id = m.author_handle = (char *)"alice";
    CHECK_INT(store_begin(s), STORE_OK);
    CHECK_INT(store_mention_insert(s, &m, 1003, a, NULL, NOW), STORE_OK);
    CHECK_INT(search(s, "blender", NULL, NULL), 1);
    store_rollback(s);
    CHECK_INT(search(s, "blender", NULL, NULL), 0);
    CHECK_INT(store_mention_insert(s, &m, 1003, a, NULL, NOW), STORE_OK);
    CHECK_INT(search(s, "blender", &first, &ex), 1);
    CHECK_INT(first, a);
    CHECK(ex && strstr(ex, "still waiting for the blender"));
    free(ex);
    /* the opening tweet is indexed once */
    CHECK_INT(search(s, "parcel", &first, &ex), 1);
    CHECK_STR(ex, "my parcel is late\nstill waiting for the blender");
    free(ex);
    /* FTS5 syntax in a query matches as words, never as operators */
    CHECK_INT(search(s, "NEAR", &first, NULL), 1);
    CHECK_INT(first, b);
    CHECK_INT(search(s, "\"end\"", NULL, NULL), 1);
    CHECK_INT(search(s, "* -", NULL, NULL), 0);
    CHECK_INT(search(s, "late OR refund", NULL, NULL), 0);
    CHECK_INT(search(s, "body:late", NULL, NULL), 0);
    CHECK_INT(search(s, "refund NOT late", NULL, NULL), 0);
    /* filters */
    CHECK_INT(search(s, "@ALICE", &first, NULL), 1);
    CHECK_INT(first, a);
    CHECK_INT(search(s, "since:1d", &first, NULL), 1);
    CHECK_INT(first, b);
    CHECK_INT(search(s, "status:new", NULL, NULL), 2);
    CHECK_INT(store_ticket_get(s, b, &t), STORE_OK);
    free(t.assignee);
    t.assignee = strdup("U1");
    free(t.tags);
    t.tags = strdup("billing,vip");
    CHECK_INT(store_ticket_update(s, &t), STORE_OK);
    store_ticket_clear(&t);
    CHECK_INT(search(s, "status:assigned", &first, NULL), 1);
    CHECK_INT(first, b);
    CHECK_INT(search(s, "assignee:U1 tag:vip refund", &first, NULL), 1);
    CHECK_INT(search(s, "tag:bill", NULL, NULL), 0);
    CHECK_INT(search(s, "status:closed", NULL, NULL), 0);
    store_close(s);
}

#include <sqlite3.h>

/* A store from before the index: the migration backfills its tickets. */
TEST(store_search_index_is_backfilled_for_tickets_stored_before_it)
{
    const char *path = unit_tmp("old.db");
    struct store *s = store_open(path);
    sqlite3 *db;
    struct mention m;
    int64_t a, first;
    int version;
    char *ex = NULL;

    CHECK(s != NULL);
    if (!s)
        return;
    a = open_ticket(s, 2001, "carol", "the kettle leaks", NOW - 60);
    memset(&m, 0, sizeof m);
    m.id = m.original_id = 2002;
    m.text = (char *)"and the lid broke";
    m.author_id = m.author_handle = (char *)"carol";
    CHECK_INT(store_mention_insert(s, &m, 2002, a, NULL, NOW), STORE_OK);
    version = store_schema_version(s);
    store_close(s);
    /* back to schema 1, as test_store's migration test does: every later
     * step runs again, the search index's backfill among them */
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, UNIT_REWIND_TO_SCHEMA_1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = store_open(path);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(store_schema_version(s), version);
    CHECK_INT(search(s, "lid", &first, &ex), 1);
    CHECK_INT(first, a);
    CHECK_STR(ex, "the kettle leaks\nand the lid broke");
    free(ex);
    store_close(s);
}

/* The count stops past STORE_SEARCH_CAP; a page that holds every match is
 * the count. */
TEST(store_search_counts_up_to_the_cap_and_pages_newest_first)
{
    struct store *s = store_open(unit_tmp("cap.db"));
    struct store_search q = { .match = "\"parcel\"" };
    struct store_hit *hits;
    size_t n;
    int64_t total;

    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(store_begin(s), STORE_OK);
    for (int i = 0; i < STORE_SEARCH_CAP + 5; i++)
        open_ticket(s, 5000 + i, "many", i % 2 ? "my parcel" : "my parcel is late", NOW);
    CHECK_INT(store_commit(s), STORE_OK);
    CHECK_INT(store_search(s, &q, 10, 0, &hits, &n, &total), STORE_OK);
    CHECK_INT(n, 10);
    CHECK_INT(total, STORE_SEARCH_CAP + 1);
    CHECK(n == 10 && hits[0].id == STORE_SEARCH_CAP + 5 && hits[9].id == STORE_SEARCH_CAP - 4);
    store_hits_free(hits, n);
    q.match = "\"late\"";
    CHECK_INT(store_search(s, &q, 10, 500, &hits, &n, &total), STORE_OK);
    CHECK_INT(total, (STORE_SEARCH_CAP + 5) / 2 + 1);
    CHECK_INT(n, 3);
    store_hits_free(hits, n);
    store_close(s);
}
