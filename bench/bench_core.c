/* bench_core.c — in-process measurements for `make bench` that a socket
 * would blur: the script runtime's per-command cost (with and without the
 * instruction-count hook), ingest of fake X pages into the real desk, and
 * the raw limit of the same SQLite writing the same rows, and /tw find's
 * search over a store of N tickets.  Each run prints
 * one JSON object; bench/run.py alternates runs and does the statistics.
 * Links every bot object but main.o; knows nothing of Slack or Hubot. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include <uv.h>

#include "chat/chat.h"
#include "chat/command.h"
#include "chat/slackparse.h"
#include "core/config.h"
#include "core/log.h"
#include "desk/desk.h"
#include "desk/find.h"
#include "script/script.h"
#include "source/xparse.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_core: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* Returns the whole file as a new string (caller frees), *len its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        die("cannot open", path);
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        die("cannot read", path);
    }
    fclose(f);
    return buf;
}

/* The desk and runtime of a bot with console chat, no adapters wired: jobs
 * are queued and stay queued, which is what ingest is measured to. */
struct rig {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct desk *desk;
    struct script_rt *rt;
};

static void rig_open(struct rig *r, const char *db, const char *scripts, const char *lib)
{
    char cfgpath[4200], err[512];
    FILE *f;

    snprintf(cfgpath, sizeof cfgpath, "%s.lua", db);
    if (!(f = fopen(cfgpath, "w")))
        die("cannot write", cfgpath);
    fprintf(f, "log_level = 'warn'\n"
               "store = { path = '%s' }\n"
               "scripts = { dir = '%s', lib = '%s' }\n"
               "replay = { file = 'unused' }\n"
               "x = { handle = 'AcmeSupport', user_id = '1500000000000000001' }\n"
               "channels = { mentions = '#support', escalations = '#support-escalations' }\n"
               "staff = { U1 = { name = 'Alice Jensen', initials = 'AJ', role = 'lead' },\n"
               "          U2 = { name = 'Bob Okafor', initials = 'BO' } }\n",
            db, scripts, lib);
    fclose(f);
    memset(r, 0, sizeof *r);
    if (!(r->cfg = config_load(cfgpath, err, sizeof err)))
        die("config", err);
    log_set_level(LOG_WARN);
    if (!(r->store = store_open(db)))
        die("cannot open store", db);
    uv_loop_init(&r->loop);
    r->desk = desk_new(&r->loop, r->store, r->cfg);
    r->rt = script_new(&r->loop, r->desk);
    if (!r->desk || !r->rt || script_load_all(r->rt))
        die("scripts did not all load", scripts);
    desk_set_hooks(r->desk, script_desk_hooks(r->rt));
}

static void rig_close(struct rig *r)
{
    script_free(r->rt);
    desk_free(r->desk);
    store_close(r->store);
    uv_loop_close(&r->loop);
    config_free(r->cfg);
}

/* dispatch SCRIPTS LIB DB N HOOK: N runs of "whoami" by a lead. */
static int cmd_dispatch(char **argv)
{
    struct rig r;
    struct chat_command cmd = { .user_id = "U1", .channel = "C_MENTIONS" };
    long n = atol(argv[3]);
    double t0, t1;

    if (chat_command_parse(&cmd, "whoami", "/tw", 0) < 0)
        die("out of memory", "");
    rig_open(&r, argv[2], argv[0], argv[1]);
    script_set_budget_hook(r.rt, atoi(argv[4]));
    for (long i = 0; i < n / 10 + 1; i++)   /* warm caches and the allocator */
        free(script_run_command(r.rt, &cmd));
    t0 = now_s();
    for (long i = 0; i < n; i++)
        free(script_run_command(r.rt, &cmd));
    t1 = now_s();
    printf("{\"commands\": %ld, \"seconds\": %.6f, \"us_per_command\": %.3f, "
           "\"hook\": %d, \"lua_kb\": %zu}\n", n, t1 - t0, (t1 - t0) * 1e6 / (double)n,
           atoi(argv[4]), script_memory(r.rt) / 1024);
    chat_command_clear(&cmd);
    rig_close(&r);
    return 0;
}

/* slash SCRIPTS LIB DB N: vigil's own work for one slash command as it
 * arrives on the socket, without the network: parse the Socket Mode frame,
 * run the script, escape the answer and serialise the ack (what slack.c's
 * handle_frame does between reading a frame and writing the ack). */
static int cmd_slash(char **argv)
{
    static const char frame[] =
        "{\"envelope_id\":\"dbdd0ef3-1543-4f94-bfb4-133d0e6c1545\",\"type\":\"slash_commands\","
        "\"accepts_response_payload\":true,\"payload\":{\"token\":\"fakeVerificationToken0001\","
        "\"team_id\":\"T0BENCH\",\"team_domain\":\"acme\",\"channel_id\":\"C_MENTIONS\","
        "\"channel_name\":\"mentions\",\"user_id\":\"U1\",\"user_name\":\"alice\","
        "\"command\":\"/tw\",\"text\":\"whoami\",\"api_app_id\":\"A0BENCH\","
        "\"is_enterprise_install\":\"false\",\"response_url\":"
        "\"http://127.0.0.1:1/response/dbdd0ef3\",\"trigger_id\":\"1.2.3\"}}";
    struct rig r;
    long n = atol(argv[3]);
    double t0, t1;
    char err[200];

    rig_open(&r, argv[2], argv[0], argv[1]);
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        struct slack_frame_info f;
        char line[4200], *answer;
        if (slack_parse_frame(frame, sizeof frame - 1, &f, err, sizeof err) || f.type != SLACK_SLASH)
            die("the frame did not parse as a slash command", err);
        struct slack_typed typed;
        if (slack_typed_text(f.text, &typed))
            die("out of memory", "");
        snprintf(line, sizeof line, "%s %s", f.command, typed.text);
        struct chat_command cmd = { .user_id = f.user_id, .channel = f.channel_id,
                                    .people = typed.people, .npeople = typed.npeople };
        if (chat_command_parse(&cmd, line, "/tw", 0) < 0)
            die("out of memory", "");
        answer = script_run_command(r.rt, &cmd);
        chat_command_clear(&cmd);
        free(slack_ack_frame(f.envelope_id, slack_answer_payload(answer)));
        free(answer);
        slack_typed_clear(&typed);
        slack_frame_clear(&f);
    }
    t1 = now_s();
    printf("{\"commands\": %ld, \"seconds\": %.6f, \"us_per_command\": %.3f}\n", n, t1 - t0,
           (t1 - t0) * 1e6 / (double)n);
    rig_close(&r);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Page files of DIR (page-*.json), sorted oldest first.  New array of new
 * strings, NULL-terminated. */
static char **page_files(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;

    *n = 0;
    if (!d)
        die("cannot open", dir);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "page-", 5) != 0)
            continue;
        v = realloc(v, (*n + 2) * sizeof *v);
        v[*n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        sprintf(v[*n], "%s/%s", dir, e->d_name);
        (*n)++;
    }
    closedir(d);
    if (!*n)
        die("no page-*.json in", dir);
    qsort(v, *n, sizeof *v, cmp_str);
    v[*n] = NULL;
    return v;
}

/* ingest SCRIPTS LIB DB PAGES: each page file, as X sent it, parsed and
 * ingested in its own transaction (one poll = one page of 100). */
static int cmd_ingest(char **argv)
{
    struct rig r;
    size_t npages, total = 0, bytes = 0;
    char **files = page_files(argv[3], &npages), err[256];
    char **bodies = calloc(npages, sizeof *bodies);
    size_t *lens = calloc(npages, sizeof *lens);
    struct ingest_stats st, sum = { 0 };
    double t0, t1, tp, parse = 0;

    for (size_t i = 0; i < npages; i++) {   /* the disk is not what is measured */
        bodies[i] = slurp(files[i], &lens[i]);
        bytes += lens[i];
    }
    rig_open(&r, argv[2], argv[0], argv[1]);
    t0 = now_s();
    for (size_t i = 0; i < npages; i++) {
        struct mention_page page;
        tp = now_s();
        if (xparse_mentions_page(bodies[i], lens[i], &page, err, sizeof err))
            die("unreadable page", err);
        parse += now_s() - tp;
        if (desk_ingest(r.desk, "x", &page, page.newest_id, &st) != DESK_OK)
            die("ingest failed", files[i]);
        total += page.n;
        sum.stored += st.stored;
        sum.opened += st.opened;
        sum.attached += st.attached;
        sum.skipped += st.skipped;
        mention_page_free(&page);
    }
    t1 = now_s();
    printf("{\"mentions\": %zu, \"pages\": %zu, \"bytes\": %zu, \"seconds\": %.6f, "
           "\"parse_seconds\": %.6f, \"per_second\": %.1f, \"stored\": %d, "
           "\"opened\": %d, \"attached\": %d, \"skipped\": %d}\n", total, npages, bytes,
           t1 - t0, parse, (double)total / (t1 - t0), sum.stored, sum.opened, sum.attached,
           sum.skipped);
    rig_close(&r);
    for (size_t i = 0; i < npages; i++) {
        free(bodies[i]);
        free(files[i]);
    }
    free(bodies);
    free(lens);
    free(files);
    return 0;
}

/* Rows of one table, copied out of the source database. */
struct table {
    const char *name;
    sqlite3_value **vals;   /* nrows * ncols */
    size_t nrows;
    int ncols;
};

static void table_read(sqlite3 *db, struct table *t)
{
    char sql[128];
    sqlite3_stmt *st;
    size_t cap = 0;

    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", t->name);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        die("cannot read table", sqlite3_errmsg(db));
    t->ncols = sqlite3_column_count(st);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (t->nrows == cap) {
            cap = cap ? cap * 2 : 1024;
            t->vals = realloc(t->vals, cap * (size_t)t->ncols * sizeof *t->vals);
        }
        for (int c = 0; c < t->ncols; c++)
            t->vals[t->nrows * (size_t)t->ncols + (size_t)c] =
                sqlite3_value_dup(sqlite3_column_value(st, c));
        t->nrows++;
    }
    sqlite3_finalize(st);
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(sql, msg);
}

/* sqlite SRC DST BATCHES: the rows vigil wrote to SRC (tickets, mentions,
 * events, outbox, cursors), inserted into a fresh DST of the same schema
 * and pragmas with prepared statements, in BATCHES transactions (one per
 * page vigil ingested).  No parsing, no logic: the disk-and-SQLite limit. */
static int cmd_sqlite(char **argv)
{
    struct table tabs[] = { { .name = "tickets" }, { .name = "mentions" },
                            { .name = "events" }, { .name = "outbox" }, { .name = "cursors" } };
    const size_t ntabs = sizeof tabs / sizeof tabs[0];
    sqlite3_stmt *ins[sizeof tabs / sizeof tabs[0]];
    long batches = atol(argv[2]);
    size_t rows = 0;
    sqlite3 *src, *dst;
    struct store *s;
    double t0, t1;

    if (sqlite3_open_v2(argv[0], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("cannot open", argv[0]);
    for (size_t i = 0; i < ntabs; i++) {
        table_read(src, &tabs[i]);
        rows += tabs[i].nrows;
    }
    sqlite3_close(src);
    if (!(s = store_open(argv[1])))   /* the same schema, migrations and journal */
        die("cannot create", argv[1]);
    store_close(s);
    if (sqlite3_open(argv[1], &dst) != SQLITE_OK)
        die("cannot open", argv[1]);
    exec_or_die(dst, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                     "PRAGMA foreign_keys=OFF");   /* batches may split a ticket from its rows */
    for (size_t i = 0; i < ntabs; i++) {
        char sql[256];
        int n = snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (?", tabs[i].name);
        for (int c = 1; c < tabs[i].ncols; c++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ",?");
        snprintf(sql + n, sizeof sql - (size_t)n, ")");
        if (sqlite3_prepare_v2(dst, sql, -1, &ins[i], NULL) != SQLITE_OK)
            die("cannot prepare", sqlite3_errmsg(dst));
    }
    t0 = now_s();
    for (long b = 0; b < batches; b++) {
        exec_or_die(dst, "BEGIN");
        for (size_t i = 0; i < ntabs; i++) {
            size_t lo = tabs[i].nrows * (size_t)b / (size_t)batches;
            size_t hi = tabs[i].nrows * (size_t)(b + 1) / (size_t)batches;
            for (size_t r = lo; r < hi; r++) {
                for (int c = 0; c < tabs[i].ncols; c++)
                    sqlite3_bind_value(ins[i], c + 1,
                                       tabs[i].vals[r * (size_t)tabs[i].ncols + (size_t)c]);
                if (sqlite3_step(ins[i]) != SQLITE_DONE)
                    die("insert failed", sqlite3_errmsg(dst));
                sqlite3_reset(ins[i]);
            }
        }
        exec_or_die(dst, "COMMIT");
    }
    t1 = now_s();
    printf("{\"mentions\": %zu, \"rows\": %zu, \"batches\": %ld, \"seconds\": %.6f, "
           "\"per_second\": %.1f, \"rows_per_second\": %.1f}\n", tabs[1].nrows, rows, batches,
           t1 - t0, (double)tabs[1].nrows / (t1 - t0), (double)rows / (t1 - t0));
    for (size_t i = 0; i < ntabs; i++) {
        sqlite3_finalize(ins[i]);
        for (size_t v = 0; v < tabs[i].nrows * (size_t)tabs[i].ncols; v++)
            sqlite3_value_free(tabs[i].vals[v]);
        free(tabs[i].vals);
    }
    sqlite3_close(dst);
    return 0;
}

/* --- search (issue 17 §5) --------------------------------------------------- */

/* Words tweets are made of, drawn with a skew (rnd() squared), so some
 * queries hit thousands of tickets and some a handful. */
static const char *const vocab[] = {
    "my", "order", "is", "late", "the", "app", "crashes", "refund", "please", "help",
    "parcel", "delivery", "password", "reset", "charged", "twice", "blender", "kettle",
    "warranty", "invoice", "login", "error", "tracking", "still", "waiting", "days",
    "subscription", "cancel", "promo", "code", "broken", "lid", "screen", "battery",
    "support", "chat", "email", "phone", "store", "return", "label", "address",
    "toaster", "voucher", "customs", "damaged",
};
#define NVOCAB (sizeof vocab / sizeof vocab[0])

static unsigned long long rng_state = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define REPS 21

/* Median milliseconds of REPS runs of one /tw find query (a page of 10 and
 * the total), through find_parse and store_search as ctx:find does. */
static double time_find(struct store *s, const char *text, int64_t now, int64_t *total)
{
    double ms[REPS];
    struct find_query q;
    char err[200];

    if (find_parse(text, now, &q, err, sizeof err))
        die("bad query", err);
    for (int r = 0; r < REPS; r++) {
        struct store_search ss = { .match = q.match, .handle = q.handle[0] ? q.handle : NULL,
                                   .tag = q.tag[0] ? q.tag : NULL,
                                   .status = q.status[0] ? q.status : NULL,
                                   .since = q.since, .until = q.until };
        struct store_hit *hits;
        size_t nh;
        double t0 = now_s();
        if (store_search(s, &ss, 10, 0, &hits, &nh, total))
            die("search failed", text);
        store_hits_free(hits, nh);
        ms[r] = (now_s() - t0) * 1000;
    }
    find_query_clear(&q);
    qsort(ms, REPS, sizeof ms[0], cmp_double);
    return ms[REPS / 2];
}

/* The same phrase without the index: LIKE over every tweet (what search
 * costs with a plain query); median ms of REPS. */
static double time_like(const char *db, const char *phrase)
{
    double ms[REPS];
    sqlite3 *c;
    sqlite3_stmt *st;

    if (sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c, "SELECT DISTINCT ticket_id FROM mentions WHERE text LIKE ?1"
                              " ORDER BY ticket_id DESC LIMIT 10", -1, &st, NULL) != SQLITE_OK)
        die("cannot prepare", sqlite3_errmsg(c));
    for (int r = 0; r < REPS; r++) {
        char a[64];
        double t0 = now_s();
        snprintf(a, sizeof a, "%%%s%%", phrase);
        sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
        ms[r] = (now_s() - t0) * 1000;
    }
    sqlite3_finalize(st);
    sqlite3_close(c);
    qsort(ms, REPS, sizeof ms[0], cmp_double);
    return ms[REPS / 2];
}

/* search DB N: a store of N tickets (two tweets each, through the store's
 * own inserts and index triggers, 1,000 per transaction), then /tw find
 * queries against it, and one of them (an order number) as a LIKE scan. */
static int cmd_search(char **argv)
{
    static const char *const queries[][2] = {
        { "an order number (one ticket)", "order 900420" },
        { "two words", "password reset" },
        { "a common word", "order" },
        { "a word, open only", "refund status:open" },
        { "a customer", "@user4242" },
        { "a word, last 7 days", "kettle since:7d" },
        { "no words: open, last 7 days", "status:open since:7d" },
        { "a filter nothing matches (a full scan)", "status:escalated" },
    };
    long n = atol(argv[1]);
    const int64_t now = 1796000000;
    struct store *s = store_open(argv[0]);
    double t0, build;
    int64_t total;

    if (!s || n < 1)
        die("cannot create", argv[0]);
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        struct ticket t = { 0 };
        struct mention m = { 0 };
        char tid[24], handle[32], text[2][200];
        int64_t id;

        if (i % 1000 == 0 && store_begin(s))
            die("begin failed", NULL);
        for (int k = 0; k < 2; k++) {
            size_t o = (size_t)snprintf(text[k], sizeof text[k], "@AcmeSupport");
            for (int w = 0; w < 8; w++) {
                unsigned r = rnd(NVOCAB);
                r = r * r / NVOCAB;                 /* skewed towards the first words */
                o += (size_t)snprintf(text[k] + o, sizeof text[k] - o, " %s", vocab[r]);
            }
            if (k == 0 && i % 100 == 0)   /* one in a hundred gives an order number */
                snprintf(text[k] + o, sizeof text[k] - o, " order %ld", 900000 + i / 100);
        }
        snprintf(tid, sizeof tid, "%ld", 1860000000000000000L + 2 * i);
        snprintf(handle, sizeof handle, "user%ld", i % 50000);
        t.state = i % 5 ? "closed" : "open";
        t.customer_id = t.customer_handle = handle;
        t.conversation_id = t.tweet_id = t.last_tweet_id = tid;
        t.text = text[0];
        t.priority = "normal";
        t.tags = "";
        t.opened_at = t.updated_at = now - (n - i) * 60;   /* one a minute */
        t.sla_due_at = t.opened_at + 3600;
        if ((id = store_ticket_insert(s, &t)) < 0)
            die("insert failed", NULL);
        for (int k = 0; k < 2; k++) {
            m.id = m.original_id = 1860000000000000000L + 2 * i + k;
            m.text = text[k];
            m.author_id = m.author_handle = handle;
            if (store_mention_insert(s, &m, m.id, id, NULL, now))
                die("insert failed", NULL);
        }
        if ((i % 1000 == 999 || i == n - 1) && store_commit(s))
            die("commit failed", NULL);
    }
    build = now_s() - t0;
    printf("{\"tickets\": %ld, \"build_seconds\": %.3f, \"queries\": [", n, build);
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        double ms = time_find(s, queries[q][1], now, &total);
        printf("%s{\"what\": \"%s\", \"query\": \"%s\", \"ms\": %.3f, \"total\": %lld}",
               q ? ", " : "", queries[q][0], queries[q][1], ms, (long long)total);
    }
    store_close(s);
    printf("], \"like_ms\": %.3f, \"fts_ms\": ", time_like(argv[0], "900420"));
    s = store_open(argv[0]);
    printf("%.3f}\n", time_find(s, "900420", now, &total));
    store_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "dispatch") == 0)
        return cmd_dispatch(argv + 2);
    if (argc == 6 && strcmp(argv[1], "slash") == 0)
        return cmd_slash(argv + 2);
    if (argc == 6 && strcmp(argv[1], "ingest") == 0)
        return cmd_ingest(argv + 2);
    if (argc == 5 && strcmp(argv[1], "sqlite") == 0)
        return cmd_sqlite(argv + 2);
    if (argc == 4 && strcmp(argv[1], "search") == 0)
        return cmd_search(argv + 2);
    fprintf(stderr, "usage: bench_core dispatch SCRIPTS LIB DB N HOOK(0|1)\n"
                    "       bench_core slash SCRIPTS LIB DB N\n"
                    "       bench_core ingest SCRIPTS LIB DB PAGES_DIR\n"
                    "       bench_core sqlite SRC_DB DST_DB BATCHES\n"
                    "       bench_core search DB N\n");
    return 2;
}
