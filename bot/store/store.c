/* store.c — SQLite persistence for vigil: one file in WAL mode, forward
 * migrations, a statement cache and the typed queries of store.h.
 * Knows the schema; never Slack's or X's APIs, and no Lua.  The schema was
 * written when X was the only source, so some columns carry its words
 * (`tweet_id`, the mentions' `original_id` = X's first edit); a second
 * source stores its post ids in the same columns. */
#include "store/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "source/mention.h"

#define STMT_CACHE 96

/* How long a statement waits for another connection's lock.  Every caller
 * runs on the loop, so this is time nobody's ack is sent: a `sqlite3` shell
 * reading the file (its locks last microseconds) is waited for; a writer
 * holding the lock is reported as busy (store_busy) and the caller retries
 * later or says so.  At 2 s, acks took 2-4 s while a shell held a lock. */
#define BUSY_TIMEOUT_MS 100

struct store {
    sqlite3 *db;
    int depth;                                  /* transaction nesting */
    struct { const char *sql; sqlite3_stmt *st; } cache[STMT_CACHE];
    int ncache;
    char *path;
    dev_t dev;                                  /* the file opened (store_check) */
    ino_t ino;
    int lost;                                   /* deleted or replaced: refuse all */
    int busy;                                   /* the last failure was a lock */
    int64_t failing_since;                      /* first failed transaction, 0: healthy */
    char last_error[160];
};

/* Remembers why the last statement failed (store_busy, store_health). */
static void failed(struct store *s, int rc, const char *msg)
{
    int base = rc & 0xff;
    s->busy = base == SQLITE_BUSY || base == SQLITE_LOCKED;
    snprintf(s->last_error, sizeof s->last_error, "%s", msg ? msg : "?");
    if (!s->failing_since)
        s->failing_since = (int64_t)time(NULL);
}

/* Forward migrations: schema version N is migrations[0..N-1] applied in
 * order.  Append only; never edit a shipped step. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE mentions ("
    "  id INTEGER PRIMARY KEY,"            /* tweet id */
    "  original_id INTEGER NOT NULL,"      /* edit_history_tweet_ids[0] */
    "  ticket_id INTEGER REFERENCES tickets(id),"
    "  author_id TEXT NOT NULL, author_handle TEXT, author_name TEXT,"
    "  conversation_id TEXT, in_reply_to_user_id TEXT, lang TEXT,"
    "  text TEXT NOT NULL, created_at INTEGER, received_at INTEGER NOT NULL,"
    "  skipped TEXT,"                      /* why no ticket: own, retweet */
    "  injected INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX mentions_original ON mentions(original_id);"
    "CREATE INDEX mentions_ticket ON mentions(ticket_id);"
    "CREATE TABLE tickets ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  state TEXT NOT NULL DEFAULT 'open',"
    "  customer_id TEXT NOT NULL, customer_handle TEXT, customer_name TEXT,"
    "  conversation_id TEXT, tweet_id TEXT NOT NULL, last_tweet_id TEXT NOT NULL,"
    "  text TEXT NOT NULL, assignee TEXT,"
    "  escalated INTEGER NOT NULL DEFAULT 0, escalation_reason TEXT,"
    "  priority TEXT NOT NULL DEFAULT 'normal', tags TEXT NOT NULL DEFAULT '',"
    "  opened_at INTEGER NOT NULL, first_response_at INTEGER, closed_at INTEGER,"
    "  sla_due_at INTEGER NOT NULL, sla_warned INTEGER NOT NULL DEFAULT 0,"
    "  sla_breached INTEGER NOT NULL DEFAULT 0, injected INTEGER NOT NULL DEFAULT 0,"
    "  chat_ref TEXT, chat_channel TEXT, updated_at INTEGER NOT NULL);"
    "CREATE INDEX tickets_customer ON tickets(customer_id, conversation_id, state);"
    "CREATE INDEX tickets_state ON tickets(state);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ticket_id INTEGER, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    "  action TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX events_ticket ON events(ticket_id);"
    /* The audit log is append-only: the database itself refuses edits. */
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL, target TEXT NOT NULL, ticket_id INTEGER,"
    "  payload TEXT NOT NULL DEFAULT '{}',"
    "  state TEXT NOT NULL DEFAULT 'queued',"   /* queued|inflight|done|failed; issue 18:
                                                 * held|draft|cancelled|rejected */
    "  attempts INTEGER NOT NULL DEFAULT 0, next_at_ms INTEGER NOT NULL,"
    "  result TEXT, last_error TEXT,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX outbox_pending ON outbox(state, target, id);"
    "CREATE TABLE cursors (source TEXT PRIMARY KEY, value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE kv (scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY (scope, key));"
    "CREATE TABLE canned (name TEXT PRIMARY KEY, body TEXT NOT NULL,"
    "  created_by TEXT, created_at INTEGER NOT NULL);",
    /* 2: tickets listed in a digest message have no message of their own yet */
    "ALTER TABLE tickets ADD COLUMN chat_digest TEXT;",
    /* 3: "is an update of this ticket already queued?" runs on every
     * follow-up; without this it scanned every queued job (the benchmark's
     * ingest spent 42% of its instructions there).  Partial: only queued
     * jobs are ever asked about, and done ones leave the index. */
    "CREATE INDEX outbox_queued_ticket ON outbox(ticket_id, kind) WHERE state = 'queued';",
    /* 4: what a source did on its platform per UTC day (calls it is billed
     * for), so a team sees what vigil costs them */
    "CREATE TABLE usage (day TEXT NOT NULL, scope TEXT NOT NULL, item TEXT NOT NULL,"
    "  n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (day, scope, item));",
    /* 5: presence: who said /tw away (a row while away; /tw back deletes
     * it), so availability survives restarts; "who is on" in workload and
     * auto-assignment ask per open ticket by assignee */
    "CREATE TABLE presence (staff_id TEXT PRIMARY KEY, reason TEXT, until INTEGER,"
    "  since INTEGER NOT NULL, set_by TEXT NOT NULL);"
    "CREATE INDEX tickets_assignee_open ON tickets(assignee, opened_at) WHERE state = 'open';",
    /* 6: commands in a ticket's thread (issue 19): every staff message in a
     * thread asks which ticket the thread is; without this, a scan */
    "CREATE INDEX tickets_chat_ref ON tickets(chat_ref) WHERE chat_ref IS NOT NULL;",
    /* 7: SLA policy (issue 17): when the opening tweet was written (the
     * first-response target is business time after it, so it no longer
     * follows from sla_due_at), and the clock of the next response after a
     * customer's follow-up.  Older tickets take opened_at, seconds after. */
    "ALTER TABLE tickets ADD COLUMN tweeted_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE tickets SET tweeted_at = opened_at;"
    "ALTER TABLE tickets ADD COLUMN followup_at INTEGER;"
    "ALTER TABLE tickets ADD COLUMN followup_due_at INTEGER;"
    "ALTER TABLE tickets ADD COLUMN followup_warned INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tickets ADD COLUMN followup_breached INTEGER NOT NULL DEFAULT 0;",
    /* 8 (issue 17 §5, search): every tweet of a ticket in an FTS5 index,
     * rowid = ticket id.  Triggers keep it in the transaction that stores
     * the ticket or the mention, so the index can never lag behind
     * (the opening tweet is the ticket's text; its mention row is skipped).
     * Backfills the tickets already stored. */
    "CREATE VIRTUAL TABLE ticket_text USING fts5(body,"
    "  tokenize = 'unicode61 remove_diacritics 2');"
    "INSERT INTO ticket_text (rowid, body) SELECT t.id, t.text || coalesce(char(10) ||"
    "  (SELECT group_concat(m.text, char(10)) FROM mentions m WHERE m.ticket_id = t.id"
    "   AND CAST(m.id AS TEXT) <> t.tweet_id), '') FROM tickets t;"
    "CREATE TRIGGER ticket_text_open AFTER INSERT ON tickets BEGIN"
    "  INSERT INTO ticket_text (rowid, body) VALUES (new.id, new.text); END;"
    "CREATE TRIGGER ticket_text_gone AFTER DELETE ON tickets BEGIN"
    "  DELETE FROM ticket_text WHERE rowid = old.id; END;"
    "CREATE TRIGGER ticket_text_mention AFTER INSERT ON mentions"
    "  WHEN new.ticket_id IS NOT NULL AND CAST(new.id AS TEXT) <>"
    "    (SELECT tweet_id FROM tickets WHERE id = new.ticket_id) BEGIN"
    "  UPDATE ticket_text SET body = body || char(10) || new.text"
    "  WHERE rowid = new.ticket_id; END;"
    /* @handle: without it a customer's tickets were a scan (55 ms at 100,000) */
    "CREATE INDEX tickets_handle ON tickets(customer_handle COLLATE NOCASE);",
    /* 9 (issue 17 §6): what the agent sees on a ticket besides the text:
     * the quoted post and its author, media links (one per line) */
    "ALTER TABLE mentions ADD COLUMN quote_text TEXT;"
    "ALTER TABLE mentions ADD COLUMN quote_author TEXT;"
    "ALTER TABLE mentions ADD COLUMN media TEXT;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

static int exec(struct store *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        failed(s, rc, msg);
        log_error("sqlite statement failed", "error=%s", msg ? msg : "?");
        sqlite3_free(msg);
        return STORE_ERR;
    }
    return STORE_OK;
}

/* Prepared once per SQL text (keyed by the literal's address), reset on reuse. */
static sqlite3_stmt *stmt(struct store *s, const char *sql)
{
    sqlite3_stmt *st;
    for (int i = 0; i < s->ncache; i++)
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        failed(s, rc, sqlite3_errmsg(s->db));
        log_error("sqlite prepare failed", "error=%s", sqlite3_errmsg(s->db));
        return NULL;
    }
    if (s->ncache < STMT_CACHE) {
        s->cache[s->ncache].sql = sql;
        s->cache[s->ncache].st = st;
        s->ncache++;
    }
    /* A full cache is a bug to notice in tests, not a failure: the statement
     * is still usable but leaks; keep STMT_CACHE above the query count. */
    return st;
}

static int step_done(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(st);
        return STORE_OK;
    }
    if (rc == SQLITE_CONSTRAINT) {
        sqlite3_reset(st);
        return STORE_EXISTS;
    }
    failed(s, rc, sqlite3_errmsg(s->db));
    log_error("sqlite step failed", "error=%s", sqlite3_errmsg(s->db));
    sqlite3_reset(st);
    return STORE_ERR;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? strdup((const char *)v) : NULL;
}

/* Steps `st` to its end, `fill` reading each row into one more `size`-byte
 * element: new array of `*n` elements (free() it after freeing what `fill`
 * duplicated), NULL when none.  `*rc` is the last step's code, SQLITE_DONE
 * when every row was read; on anything else the rows read so far are
 * returned all the same.  Resets `st`. */
static void *read_rows(sqlite3_stmt *st, size_t size, void (*fill)(sqlite3_stmt *, void *),
                       size_t *n, int *rc)
{
    char *v = NULL;
    size_t cap = 0;

    *n = 0;
    for (;;) {
        *rc = sqlite3_step(st);
        if (*rc != SQLITE_ROW)
            break;
        if (*n == cap) {
            char *nv = realloc(v, (cap = cap ? cap * 2 : 16) * size);
            if (!nv) {
                *rc = SQLITE_NOMEM;
                break;
            }
            v = nv;
        }
        fill(st, v + (*n)++ * size);
    }
    sqlite3_reset(st);
    return v;
}

/* Records and logs why reading rows failed ("what failed"): STORE_ERR. */
static int read_failed(struct store *s, int rc, const char *what)
{
    failed(s, rc, sqlite3_errmsg(s->db));
    log_error(what, "error=%s", sqlite3_errmsg(s->db));
    return STORE_ERR;
}

static int migrate(struct store *s)
{
    int version = store_schema_version(s);
    if (version > NMIGRATIONS) {
        log_error("database is newer than this vigil",
                  "schema=%d known=%d", version, NMIGRATIONS);
        return STORE_ERR;
    }
    for (int v = version; v < NMIGRATIONS; v++) {
        char pragma[64];
        if (store_begin(s))
            return STORE_ERR;
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (exec(s, migrations[v]) || exec(s, pragma)) {
            store_rollback(s);
            return STORE_ERR;
        }
        if (store_commit(s))
            return STORE_ERR;
        log_info("store migrated", "schema=%d", v + 1);
    }
    return STORE_OK;
}

/* The write probe: rewriting the schema version changes nothing but goes
 * through the journal to the file, so a read-only file, directory or mount
 * is refused at start rather than at the first mention. */
static int write_probe(struct store *s)
{
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", store_schema_version(s));
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        snprintf(s->last_error, sizeof s->last_error, "the file is read-only");
        return STORE_ERR;
    }
    if (store_begin(s))
        return STORE_ERR;
    if (exec(s, pragma)) {
        store_rollback(s);
        return STORE_ERR;
    }
    return store_commit(s);
}

/* PRAGMA quick_check: a corrupt file is refused at start, with its path,
 * instead of failing every ingest later (O(size), about 10 ms per 10 MB). */
static int quick_check(struct store *s)
{
    sqlite3_stmt *st;
    int rc, ok;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        failed(s, rc, sqlite3_errmsg(s->db));
        return STORE_ERR;
    }
    rc = sqlite3_step(st);
    ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (!ok)
        failed(s, rc, rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                                       : sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return ok ? STORE_OK : STORE_ERR;
}

struct store *store_open(const char *path)
{
    struct store *s = calloc(1, sizeof *s);
    struct stat sb;
    int rc;
    if (s)
        s->path = strdup(path);
    if (!s || !s->path) {
        free(s);
        return NULL;
    }
    /* NOMUTEX: only the loop's thread touches a store, so SQLite's
     * per-call locking (3% of the ingest bench's instructions) buys nothing. */
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                         SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        log_error("cannot open store", "path=%s error=%s", path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (quick_check(s) || exec(s, "PRAGMA journal_mode=WAL") ||
        exec(s, "PRAGMA synchronous=NORMAL") || exec(s, "PRAGMA foreign_keys=ON"))
        goto fail;
    /* The file's identity: a store deleted or replaced under a running bot
     * would take every write into a file nobody will open again. */
    /* ":memory:" (vigil test, vigil replay) has no file to lose. */
    if (strcmp(path, ":memory:") == 0)
        memset(&sb, 0, sizeof sb);
    else if (stat(path, &sb)) {
        snprintf(s->last_error, sizeof s->last_error, "%s", strerror(errno));
        goto fail;
    }
    s->dev = sb.st_dev;
    s->ino = sb.st_ino;
    if (migrate(s) || write_probe(s))
        goto fail;
    s->failing_since = 0;
    return s;
fail:
    log_error("cannot use the store: vigil needs a writable SQLite database there",
              "path=%s error=%s", path, s->last_error[0] ? s->last_error : "?");
    store_close(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
    if (s->db)
        sqlite3_close(s->db);
    free(s->path);
    free(s);
}

int store_check(struct store *s)
{
    struct stat sb;
    const char *why = NULL;
    if (s->lost)
        return STORE_ERR;
    if (strcmp(s->path, ":memory:") == 0)
        return STORE_OK;
    if (stat(s->path, &sb))
        why = errno == ENOENT ? "the file was deleted" : strerror(errno);
    else if (sb.st_dev != s->dev || sb.st_ino != s->ino)
        why = "the file was replaced by another one";
    if (!why)
        return STORE_OK;
    s->lost = 1;
    snprintf(s->last_error, sizeof s->last_error, "%s", why);
    s->failing_since = (int64_t)time(NULL);
    log_error("the store is gone: vigil stops rather than write into a file nobody will read "
              "(restore it, or start with a new one knowing every ticket will be posted again)",
              "path=%s error=%s", s->path, why);
    return STORE_ERR;
}

int store_lost(struct store *s) { return s->lost; }
int store_busy(struct store *s) { return s->busy; }

int64_t store_failing_since(struct store *s, char *why, size_t len)
{
    if (why && len)
        snprintf(why, len, "%s", s->failing_since ? s->last_error : "");
    return s->failing_since;
}

int store_schema_latest(void)
{
    return NMIGRATIONS;
}

int store_schema_version(struct store *s)
{
    sqlite3_stmt *st;
    int v = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int64_t store_size_bytes(struct store *s)
{
    sqlite3_stmt *st = stmt(s, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    int64_t n = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    if (st)
        sqlite3_reset(st);
    return n;
}

/* --- transactions ------------------------------------------------------ */

int store_begin(struct store *s)
{
    int rc;
    if (!s->depth && store_check(s)) {
        s->busy = 0;
        return STORE_ERR;
    }
    rc = s->depth ? exec(s, "SAVEPOINT nested") : exec(s, "BEGIN IMMEDIATE");
    if (rc == STORE_OK)
        s->depth++;
    return rc;
}

int store_commit(struct store *s)
{
    int rc;
    if (s->depth == 0)
        return STORE_ERR;
    rc = s->depth > 1 ? exec(s, "RELEASE nested") : exec(s, "COMMIT");
    if (rc == STORE_OK)
        s->depth--;
    else
        store_rollback(s);
    /* after a commit too: a file replaced while the transaction ran took it */
    if (rc == STORE_OK && s->depth == 0 && store_check(s) == STORE_OK)
        s->failing_since = 0;
    else if (rc == STORE_OK && s->depth == 0)
        rc = STORE_ERR;
    return rc;
}

void store_rollback(struct store *s)
{
    if (s->depth == 0)
        return;
    if (s->depth > 1) {
        exec(s, "ROLLBACK TO nested");
        exec(s, "RELEASE nested");
    } else {
        exec(s, "ROLLBACK");
    }
    s->depth--;
}

int store_in_transaction(struct store *s) { return s->depth > 0; }

/* --- mentions ---------------------------------------------------------- */

int store_mention_exists(struct store *s, int64_t id)
{
    sqlite3_stmt *st = stmt(s, "SELECT 1 FROM mentions WHERE id = ?");
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int64_t store_mention_ticket_by_original(struct store *s, int64_t original_id, int *has)
{
    sqlite3_stmt *st = stmt(s, "SELECT ticket_id FROM mentions WHERE original_id = ? "
                               "OR id = ? ORDER BY id LIMIT 1");
    int64_t t = 0;
    int rc;
    *has = 0;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, original_id);
    sqlite3_bind_int64(st, 2, original_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *has = 1;
        t = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? t : -1;
}

int store_mention_insert(struct store *s, const struct mention *m, int64_t original_id,
                         int64_t ticket_id, const char *skipped, int64_t now)
{
    sqlite3_stmt *st = stmt(s,
        "INSERT INTO mentions (id, original_id, ticket_id, author_id, author_handle,"
        " author_name, conversation_id, in_reply_to_user_id, lang, text, created_at,"
        " received_at, skipped, injected, quote_text, quote_author, media)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return STORE_ERR;
    sqlite3_bind_int64(st, 1, m->id);
    sqlite3_bind_int64(st, 2, original_id);
    if (ticket_id > 0)
        sqlite3_bind_int64(st, 3, ticket_id);
    bind_text(st, 4, m->author_id);
    bind_text(st, 5, m->author_handle);
    bind_text(st, 6, m->author_name);
    bind_text(st, 7, m->conversation_id);
    bind_text(st, 8, m->in_reply_to_user_id);
    bind_text(st, 9, m->lang);
    bind_text(st, 10, m->text ? m->text : "");
    sqlite3_bind_int64(st, 11, m->created_at);
    sqlite3_bind_int64(st, 12, now);
    bind_text(st, 13, skipped);
    sqlite3_bind_int(st, 14, m->injected);
    bind_text(st, 15, m->quote_text);
    bind_text(st, 16, m->quote_author);
    bind_text(st, 17, m->media);
    return step_done(s, st);
}

static int64_t count(struct store *s, const char *sql, const char *arg)
{
    sqlite3_stmt *st = stmt(s, sql);
    int64_t n = -1;
    if (!st)
        return -1;
    if (arg)
        bind_text(st, 1, arg);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

int64_t store_mention_max_id(struct store *s)
{
    return count(s, "SELECT coalesce(max(id), 0) FROM mentions", NULL);
}

int64_t store_mention_count(struct store *s)
{
    return count(s, "SELECT count(*) FROM mentions", NULL);
}

/* --- tickets ----------------------------------------------------------- */

#define TICKET_COLS "id, state, customer_id, customer_handle, customer_name," \
    " conversation_id, tweet_id, last_tweet_id, text, assignee, escalated," \
    " escalation_reason, priority, tags, opened_at, first_response_at, closed_at," \
    " sla_due_at, sla_warned, sla_breached, injected, chat_ref, chat_channel, updated_at," \
    " chat_digest, tweeted_at, followup_at, followup_due_at, followup_warned," \
    " followup_breached"

int64_t store_ticket_find_open(struct store *s, const char *author_id,
                               const char *conversation_id)
{
    sqlite3_stmt *st = stmt(s, "SELECT id FROM tickets WHERE customer_id = ? AND"
                               " conversation_id = ? AND state = 'open'"
                               " ORDER BY id DESC LIMIT 1");
    int64_t id = 0;
    int rc;
    if (!st)
        return -1;
    bind_text(st, 1, author_id);
    bind_text(st, 2, conversation_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : -1;
}

/* The ticket whose chat message is `ref` (issue 19). */
int64_t store_ticket_by_ref(struct store *s, const char *ref)
{
    sqlite3_stmt *st = stmt(s, "SELECT id FROM tickets WHERE chat_ref = ?"
                               " ORDER BY id DESC LIMIT 1");
    int64_t id = 0;
    int rc;
    if (!st)
        return -1;
    bind_text(st, 1, ref);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : -1;
}

/* Binds every column but id, in TICKET_COLS order, from index 1. */
static void bind_ticket(sqlite3_stmt *st, const struct ticket *t)
{
    bind_text(st, 1, t->state ? t->state : "open");
    bind_text(st, 2, t->customer_id);
    bind_text(st, 3, t->customer_handle);
    bind_text(st, 4, t->customer_name);
    bind_text(st, 5, t->conversation_id);
    bind_text(st, 6, t->tweet_id);
    bind_text(st, 7, t->last_tweet_id ? t->last_tweet_id : t->tweet_id);
    bind_text(st, 8, t->text ? t->text : "");
    bind_text(st, 9, t->assignee);
    sqlite3_bind_int(st, 10, t->escalated);
    bind_text(st, 11, t->escalation_reason);
    bind_text(st, 12, t->priority ? t->priority : "normal");
    bind_text(st, 13, t->tags ? t->tags : "");
    sqlite3_bind_int64(st, 14, t->opened_at);
    if (t->first_response_at)
        sqlite3_bind_int64(st, 15, t->first_response_at);
    else
        sqlite3_bind_null(st, 15);
    if (t->closed_at)
        sqlite3_bind_int64(st, 16, t->closed_at);
    else
        sqlite3_bind_null(st, 16);
    sqlite3_bind_int64(st, 17, t->sla_due_at);
    sqlite3_bind_int(st, 18, t->sla_warned);
    sqlite3_bind_int(st, 19, t->sla_breached);
    sqlite3_bind_int(st, 20, t->injected);
    bind_text(st, 21, t->chat_ref);
    bind_text(st, 22, t->chat_channel);
    sqlite3_bind_int64(st, 23, t->updated_at);
}

/* Binds the SLA clock columns (issue 17) as ?26..?30. */
static void bind_sla(sqlite3_stmt *st, const struct ticket *t)
{
    sqlite3_bind_int64(st, 26, t->tweeted_at);
    if (t->followup_at) {
        sqlite3_bind_int64(st, 27, t->followup_at);
        sqlite3_bind_int64(st, 28, t->followup_due_at);
    } else {
        sqlite3_bind_null(st, 27);
        sqlite3_bind_null(st, 28);
    }
    sqlite3_bind_int(st, 29, t->followup_warned);
    sqlite3_bind_int(st, 30, t->followup_breached);
}

int64_t store_ticket_insert(struct store *s, const struct ticket *t)
{
    sqlite3_stmt *st = stmt(s,
        "INSERT INTO tickets (state, customer_id, customer_handle, customer_name,"
        " conversation_id, tweet_id, last_tweet_id, text, assignee, escalated,"
        " escalation_reason, priority, tags, opened_at, first_response_at, closed_at,"
        " sla_due_at, sla_warned, sla_breached, injected, chat_ref, chat_channel,"
        " updated_at, tweeted_at, followup_at, followup_due_at, followup_warned,"
        " followup_breached) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
        " ?26,?27,?28,?29,?30)");
    if (!st)
        return -1;
    bind_ticket(st, t);
    bind_sla(st, t);
    if (step_done(s, st) != STORE_OK)
        return -1;
    return sqlite3_last_insert_rowid(s->db);
}

int store_ticket_update(struct store *s, const struct ticket *t)
{
    sqlite3_stmt *st = stmt(s,
        "UPDATE tickets SET state=?, customer_id=?, customer_handle=?, customer_name=?,"
        " conversation_id=?, tweet_id=?, last_tweet_id=?, text=?, assignee=?, escalated=?,"
        " escalation_reason=?, priority=?, tags=?, opened_at=?, first_response_at=?,"
        " closed_at=?, sla_due_at=?, sla_warned=?, sla_breached=?, injected=?, chat_ref=?,"
        " chat_channel=?, updated_at=?, chat_digest=?24, tweeted_at=?26, followup_at=?27,"
        " followup_due_at=?28, followup_warned=?29, followup_breached=?30 WHERE id=?25");
    if (!st)
        return STORE_ERR;
    bind_ticket(st, t);
    bind_sla(st, t);
    bind_text(st, 24, t->chat_digest);
    sqlite3_bind_int64(st, 25, t->id);
    return step_done(s, st);
}

int store_ticket_get(struct store *s, int64_t id, struct ticket *t)
{
    sqlite3_stmt *st = stmt(s, "SELECT " TICKET_COLS " FROM tickets WHERE id = ?");
    int rc;
    memset(t, 0, sizeof *t);
    if (!st)
        return STORE_ERR;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
    }
    t->id = sqlite3_column_int64(st, 0);
    t->state = col_dup(st, 1);
    t->customer_id = col_dup(st, 2);
    t->customer_handle = col_dup(st, 3);
    t->customer_name = col_dup(st, 4);
    t->conversation_id = col_dup(st, 5);
    t->tweet_id = col_dup(st, 6);
    t->last_tweet_id = col_dup(st, 7);
    t->text = col_dup(st, 8);
    t->assignee = col_dup(st, 9);
    t->escalated = sqlite3_column_int(st, 10);
    t->escalation_reason = col_dup(st, 11);
    t->priority = col_dup(st, 12);
    t->tags = col_dup(st, 13);
    t->opened_at = sqlite3_column_int64(st, 14);
    t->first_response_at = sqlite3_column_int64(st, 15);
    t->closed_at = sqlite3_column_int64(st, 16);
    t->sla_due_at = sqlite3_column_int64(st, 17);
    t->sla_warned = sqlite3_column_int(st, 18);
    t->sla_breached = sqlite3_column_int(st, 19);
    t->injected = sqlite3_column_int(st, 20);
    t->chat_ref = col_dup(st, 21);
    t->chat_channel = col_dup(st, 22);
    t->updated_at = sqlite3_column_int64(st, 23);
    t->chat_digest = col_dup(st, 24);
    t->tweeted_at = sqlite3_column_int64(st, 25);
    t->followup_at = sqlite3_column_int64(st, 26);
    t->followup_due_at = sqlite3_column_int64(st, 27);
    t->followup_warned = sqlite3_column_int(st, 28);
    t->followup_breached = sqlite3_column_int(st, 29);
    sqlite3_reset(st);
    return STORE_OK;
}

void store_ticket_clear(struct ticket *t)
{
    char **strs[] = { &t->state, &t->customer_id, &t->customer_handle, &t->customer_name,
                      &t->conversation_id, &t->tweet_id, &t->last_tweet_id, &t->text,
                      &t->assignee, &t->escalation_reason, &t->priority, &t->tags,
                      &t->chat_ref, &t->chat_channel, &t->chat_digest };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

int64_t store_ticket_count(struct store *s)
{
    return count(s, "SELECT count(*) FROM tickets", NULL);
}

int64_t store_ticket_mentions(struct store *s, int64_t id)
{
    char arg[24];
    snprintf(arg, sizeof arg, "%lld", (long long)id);
    return count(s, "SELECT count(*) FROM mentions WHERE ticket_id = CAST(? AS INTEGER)", arg);
}

/* Steps `st` to the end, collecting column 0 of every row: new array of
 * `*n` ids (free()), NULL when none.  Resets `st`. */
static void fill_id(sqlite3_stmt *st, void *row)
{
    *(int64_t *)row = sqlite3_column_int64(st, 0);
}

static int64_t *collect_ids(sqlite3_stmt *st, size_t *n)
{
    int rc;
    return read_rows(st, sizeof(int64_t), fill_id, n, &rc);
}

int64_t *store_ticket_list(struct store *s, const char *where, const char *arg,
                           size_t limit, size_t *n)
{
    static const struct { const char *name, *sql; } filters[] = {
        { "open", "SELECT id FROM tickets WHERE state='open' ORDER BY id DESC LIMIT ?" },
        { "closed", "SELECT id FROM tickets WHERE state='closed' ORDER BY id DESC LIMIT ?" },
        { "unassigned", "SELECT id FROM tickets WHERE state='open' AND assignee IS NULL"
                        " ORDER BY id DESC LIMIT ?" },
        { "escalated", "SELECT id FROM tickets WHERE state='open' AND escalated=1"
                       " ORDER BY id DESC LIMIT ?" },
        { "all", "SELECT id FROM tickets ORDER BY id DESC LIMIT ?" },
        /* a running clock, soonest target first: the first response, or
         * the next one after a customer's follow-up (issue 17) */
        { "sla", "SELECT id FROM tickets WHERE state='open' AND"
                 " ((first_response_at IS NULL AND sla_breached=0) OR"
                 "  (first_response_at IS NOT NULL AND followup_at IS NOT NULL AND"
                 "   followup_breached=0))"
                 " ORDER BY CASE WHEN first_response_at IS NULL THEN sla_due_at"
                 " ELSE followup_due_at END LIMIT ?" },
        { "customer", "SELECT id FROM tickets WHERE customer_id=?2 ORDER BY id DESC LIMIT ?1" },
        { "assignee", "SELECT id FROM tickets WHERE state='open' AND assignee=?2"
                      " ORDER BY id DESC LIMIT ?1" },
        /* the App Home's queue (issue 19): by time left to the target */
        { "queue", "SELECT id FROM tickets WHERE state='open' AND assignee IS NULL"
                   " ORDER BY first_response_at IS NOT NULL, sla_due_at LIMIT ?" },
    };
    sqlite3_stmt *st = NULL;

    *n = 0;
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (strcmp(filters[i].name, where) == 0)
            st = stmt(s, filters[i].sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, (int64_t)limit);
    if (sqlite3_bind_parameter_count(st) > 1)
        bind_text(st, 2, arg);
    return collect_ids(st, n);
}

int store_stats(struct store *s, int64_t since, int64_t target, struct store_stats *out)
{
    sqlite3_stmt *st = stmt(s, "SELECT"
        " (SELECT count(*) FROM tickets WHERE state='open'),"
        " (SELECT count(*) FROM tickets WHERE state='open' AND assignee IS NULL),"
        " (SELECT count(*) FROM tickets WHERE state='open' AND escalated=1),"
        " (SELECT count(*) FROM tickets WHERE opened_at >= ?1),"
        " (SELECT count(*) FROM tickets WHERE first_response_at >= ?1),"
        " (SELECT count(*) FROM tickets WHERE first_response_at >= ?1"
        "   AND first_response_at <= sla_due_at)");
    /* the wait is wall time from the tweet (sla_due_at is business time
     * after it, issue 17); tweeted_at is 0 only in rows no migration saw */
    sqlite3_stmt *med = stmt(s, "SELECT first_response_at - CASE WHEN tweeted_at > 0"
        " THEN tweeted_at ELSE sla_due_at - ?2 END AS wait"
        " FROM tickets WHERE first_response_at >= ?1 ORDER BY wait");
    int64_t *waits = NULL;
    size_t n = 0, cap = 0;

    memset(out, 0, sizeof *out);
    out->median_first_response = -1;
    if (!st || !med)
        return STORE_ERR;
    sqlite3_bind_int64(st, 1, since);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->open = sqlite3_column_int64(st, 0);
        out->unassigned = sqlite3_column_int64(st, 1);
        out->escalated = sqlite3_column_int64(st, 2);
        out->opened = sqlite3_column_int64(st, 3);
        out->answered = sqlite3_column_int64(st, 4);
        out->answered_in_target = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    sqlite3_bind_int64(med, 1, since);
    sqlite3_bind_int64(med, 2, target);
    while (sqlite3_step(med) == SQLITE_ROW) {
        if (n == cap) {
            int64_t *nw = realloc(waits, (cap = cap ? cap * 2 : 64) * sizeof *waits);
            if (!nw)
                break;
            waits = nw;
        }
        waits[n++] = sqlite3_column_int64(med, 0);
    }
    sqlite3_reset(med);
    if (n)
        out->median_first_response = n % 2 ? waits[n / 2] : (waits[n / 2 - 1] + waits[n / 2]) / 2;
    free(waits);
    return STORE_OK;
}

/* --- events ------------------------------------------------------------ */

int store_event_append(struct store *s, int64_t ticket_id, const char *actor,
                       const char *action, const char *detail, int64_t now)
{
    sqlite3_stmt *st = stmt(s, "INSERT INTO events (ticket_id, at, actor, action, detail)"
                               " VALUES (?,?,?,?,?)");
    if (!st)
        return STORE_ERR;
    if (ticket_id > 0)
        sqlite3_bind_int64(st, 1, ticket_id);
    sqlite3_bind_int64(st, 2, now);
    bind_text(st, 3, actor);
    bind_text(st, 4, action);
    bind_text(st, 5, detail);
    return step_done(s, st);
}

static void fill_event(sqlite3_stmt *st, void *row)
{
    struct event *e = row;
    e->id = sqlite3_column_int64(st, 0);
    e->ticket_id = sqlite3_column_int64(st, 1);
    e->at = sqlite3_column_int64(st, 2);
    e->actor = col_dup(st, 3);
    e->action = col_dup(st, 4);
    e->detail = col_dup(st, 5);
}

struct event *store_events_of(struct store *s, int64_t ticket_id, size_t *n)
{
    sqlite3_stmt *st = stmt(s, "SELECT id, ticket_id, at, actor, action, detail FROM events"
                               " WHERE ticket_id IS ? ORDER BY id");
    int rc;
    *n = 0;
    if (!st)
        return NULL;
    if (ticket_id > 0)
        sqlite3_bind_int64(st, 1, ticket_id);
    else   /* the desk's own events (presence): stored without a ticket */
        sqlite3_bind_null(st, 1);
    return read_rows(st, sizeof(struct event), fill_event, n, &rc);
}

void store_events_free(struct event *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].actor);
        free(v[i].action);
        free(v[i].detail);
    }
    free(v);
}

/* --- outbox ------------------------------------------------------------ */

int64_t store_job_insert(struct store *s, const char *kind, const char *target,
                         int64_t ticket_id, const char *payload, int64_t next_at_ms,
                         int64_t now)
{
    sqlite3_stmt *st = stmt(s, "INSERT INTO outbox (kind, target, ticket_id, payload,"
                               " next_at_ms, created_at, updated_at) VALUES (?,?,?,?,?,?,?)");
    if (!st)
        return -1;
    bind_text(st, 1, kind);
    bind_text(st, 2, target);
    if (ticket_id > 0)
        sqlite3_bind_int64(st, 3, ticket_id);
    bind_text(st, 4, payload ? payload : "{}");
    sqlite3_bind_int64(st, 5, next_at_ms);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, now);
    if (step_done(s, st) != STORE_OK)
        return -1;
    return sqlite3_last_insert_rowid(s->db);
}

int store_job_pending(struct store *s, const char *kind, int64_t ticket_id)
{
    sqlite3_stmt *st = stmt(s, "SELECT 1 FROM outbox WHERE kind = ? AND ticket_id = ?"
                               " AND state = 'queued' LIMIT 1");
    int rc;
    if (!st)
        return -1;
    bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, ticket_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

static void job_fill(sqlite3_stmt *st, struct job *j)
{
    j->id = sqlite3_column_int64(st, 0);
    j->kind = col_dup(st, 1);
    j->target = col_dup(st, 2);
    j->ticket_id = sqlite3_column_int64(st, 3);
    j->payload = col_dup(st, 4);
    j->state = col_dup(st, 5);
    j->attempts = sqlite3_column_int(st, 6);
    j->next_at_ms = sqlite3_column_int64(st, 7);
    j->result = col_dup(st, 8);
    j->last_error = col_dup(st, 9);
    j->created_at = sqlite3_column_int64(st, 10);
}

#define JOB_COLS "id, kind, target, ticket_id, payload, state, attempts, next_at_ms," \
    " result, last_error, created_at"

int store_job_next(struct store *s, int64_t now_ms, const char *const *busy,
                   size_t nbusy, struct job *j, int64_t *next_ms)
{
    /* The head of each target's queue: the job in flight if there is one,
     * else the oldest ticket post, else the oldest job.  New tickets go
     * first: one customer's 200 follow-ups (thread lines) made every other
     * customer's new ticket wait minutes at Slack's 1 post/s.  A thread
     * line still never overtakes its own ticket's post (posts go first),
     * and the rest keep their order. */
    sqlite3_stmt *st = stmt(s, "SELECT " JOB_COLS " FROM outbox WHERE id IN"
                               " (SELECT coalesce(min(CASE WHEN state='inflight' THEN id END),"
                               "  min(CASE WHEN kind='ticket.post' THEN id END), min(id))"
                               "  FROM outbox WHERE state IN ('queued','inflight')"
                               "  GROUP BY target) ORDER BY next_at_ms, id");
    int found = 0;
    memset(j, 0, sizeof *j);
    *next_ms = 0;
    if (!st)
        return STORE_ERR;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *target = (const char *)sqlite3_column_text(st, 2);
        int64_t at = sqlite3_column_int64(st, 7);
        int is_busy = 0;
        for (size_t i = 0; i < nbusy; i++)
            if (target && strcmp(busy[i], target) == 0)
                is_busy = 1;
        if (is_busy)
            continue;
        if (at <= now_ms) {
            job_fill(st, j);
            found = 1;
            break;
        }
        if (!*next_ms || at < *next_ms)
            *next_ms = at;
    }
    sqlite3_reset(st);
    return found ? STORE_OK : STORE_NOTFOUND;
}

int store_job_get(struct store *s, int64_t id, struct job *j)
{
    sqlite3_stmt *st = stmt(s, "SELECT " JOB_COLS " FROM outbox WHERE id = ?");
    int rc;
    memset(j, 0, sizeof *j);
    if (!st)
        return STORE_ERR;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        job_fill(st, j);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

void store_job_clear(struct job *j)
{
    free(j->kind);
    free(j->target);
    free(j->payload);
    free(j->state);
    free(j->result);
    free(j->last_error);
    memset(j, 0, sizeof *j);
}

int store_job_set_state(struct store *s, int64_t id, const char *state, int attempts,
                        int64_t next_at_ms, const char *result, const char *error,
                        int64_t now)
{
    sqlite3_stmt *st = stmt(s, "UPDATE outbox SET state=?, attempts=?, next_at_ms=?,"
                               " result=coalesce(?, result), last_error=?, updated_at=?"
                               " WHERE id=?");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, state);
    sqlite3_bind_int(st, 2, attempts);
    sqlite3_bind_int64(st, 3, next_at_ms);
    bind_text(st, 4, result);
    bind_text(st, 5, error);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, id);
    return step_done(s, st);
}

int store_job_requeue_inflight(struct store *s, int64_t now)
{
    sqlite3_stmt *st = stmt(s, "UPDATE outbox SET state='queued', updated_at=?"
                               " WHERE state='inflight'");
    if (!st)
        return STORE_ERR;
    sqlite3_bind_int64(st, 1, now);
    return step_done(s, st);
}

int store_job_shift_due(struct store *s, int64_t delta_ms)
{
    sqlite3_stmt *st = stmt(s, "UPDATE outbox SET next_at_ms = next_at_ms + ?"
                               " WHERE state='queued'");
    if (!st)
        return STORE_ERR;
    sqlite3_bind_int64(st, 1, delta_ms);
    return step_done(s, st);
}

int64_t store_job_clamp_due(struct store *s, int64_t after_ms, int64_t to_ms)
{
    sqlite3_stmt *st = stmt(s, "UPDATE outbox SET next_at_ms = ?"
                               " WHERE state='queued' AND next_at_ms > ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, to_ms);
    sqlite3_bind_int64(st, 2, after_ms);
    if (step_done(s, st) != STORE_OK)
        return -1;
    return sqlite3_changes64(s->db);
}

char *store_job_depths(struct store *s)
{
    sqlite3_stmt *st = stmt(s, "SELECT target, count(*) FROM outbox WHERE state IN"
                               " ('queued','inflight') GROUP BY target ORDER BY target");
    char *out = calloc(1, 1);
    size_t len = 0;
    if (!st || !out)
        return out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        char item[160];
        int n = snprintf(item, sizeof item, "%s%s=%lld", len ? " " : "", t ? t : "?",
                         (long long)sqlite3_column_int64(st, 1));
        char *nout = realloc(out, len + (size_t)n + 1);
        if (!nout)
            break;
        out = nout;
        memcpy(out + len, item, (size_t)n + 1);
        len += (size_t)n;
    }
    sqlite3_reset(st);
    return out;
}

int64_t *store_job_queued_of_kind(struct store *s, const char *target, const char *kind,
                                  size_t limit, size_t *n)
{
    sqlite3_stmt *st = stmt(s, "SELECT id FROM outbox WHERE target=? AND kind=?"
                               " AND state='queued' ORDER BY id LIMIT ?");
    *n = 0;
    if (!st)
        return NULL;
    bind_text(st, 1, target);
    bind_text(st, 2, kind);
    sqlite3_bind_int64(st, 3, (int64_t)limit);
    return collect_ids(st, n);
}

int64_t store_job_count(struct store *s, const char *state)
{
    return count(s, "SELECT count(*) FROM outbox WHERE state = ?", state);
}

/* The newest outbox job of `ticket_id` whose kind starts with `prefix`, in
 * `state`, and queued by `by` when that is not NULL: its id, 0 when none,
 * -1 on error. */
static int64_t last_job(struct store *s, int64_t ticket_id, const char *prefix,
                        const char *state, const char *by)
{
#define LAST_JOB(and_by) "SELECT coalesce((SELECT id FROM outbox WHERE ticket_id = ?" \
    " AND state = ?3 AND substr(kind, 1, length(?2)) = ?2" and_by \
    " ORDER BY id DESC LIMIT 1), 0)"
    sqlite3_stmt *st = stmt(s, by ? LAST_JOB(" AND json_extract(payload, '$.by') = ?4")
                                  : LAST_JOB(""));
#undef LAST_JOB
    int64_t id = -1;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, ticket_id);
    bind_text(st, 2, prefix);
    bind_text(st, 3, state);
    if (by)
        bind_text(st, 4, by);
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return id;
}

int64_t store_job_last_failed(struct store *s, int64_t ticket_id, const char *prefix)
{
    return last_job(s, ticket_id, prefix, "failed", NULL);
}

int64_t store_job_last_in(struct store *s, int64_t ticket_id, const char *prefix,
                          const char *state)
{
    return last_job(s, ticket_id, prefix, state, NULL);
}

int64_t store_job_last_by(struct store *s, int64_t ticket_id, const char *prefix,
                          const char *state, const char *by)
{
    /* NULL `by` matched no job before (json_extract = NULL): keep it so */
    return by ? last_job(s, ticket_id, prefix, state, by) : 0;
}

int store_job_set_payload(struct store *s, int64_t id, const char *payload)
{
    sqlite3_stmt *st = stmt(s, "UPDATE outbox SET payload = ? WHERE id = ?");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, payload);
    sqlite3_bind_int64(st, 2, id);
    return step_done(s, st);
}

int64_t store_job_oldest(struct store *s, const char *prefix)
{
    /* outbox_pending (state, target, id) serves this: ids grow with time */
    return count(s, "SELECT coalesce((SELECT created_at FROM outbox WHERE state IN"
                    " ('queued','inflight') AND substr(target, 1, length(?1)) = ?1"
                    " ORDER BY id LIMIT 1), 0)", prefix);
}

/* --- cursors, kv, canned ----------------------------------------------- */

static char *get_one(struct store *s, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = stmt(s, sql);
    char *v = NULL;
    if (!st)
        return NULL;
    bind_text(st, 1, a);
    if (b)
        bind_text(st, 2, b);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = col_dup(st, 0);
    sqlite3_reset(st);
    return v;
}

char *store_cursor_get(struct store *s, const char *source)
{
    return get_one(s, "SELECT value FROM cursors WHERE source = ?", source, NULL);
}

int store_cursor_set(struct store *s, const char *source, const char *value, int64_t now)
{
    sqlite3_stmt *st = stmt(s, "INSERT INTO cursors (source, value, updated_at) VALUES (?,?,?)"
                               " ON CONFLICT(source) DO UPDATE SET value=excluded.value,"
                               " updated_at=excluded.updated_at");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, source);
    bind_text(st, 2, value);
    sqlite3_bind_int64(st, 3, now);
    return step_done(s, st);
}

char *store_kv_get(struct store *s, const char *scope, const char *key)
{
    return get_one(s, "SELECT value FROM kv WHERE scope = ? AND key = ?", scope, key);
}

int store_kv_set(struct store *s, const char *scope, const char *key, const char *value)
{
    sqlite3_stmt *st = stmt(s, "INSERT INTO kv (scope, key, value) VALUES (?,?,?)"
                               " ON CONFLICT(scope, key) DO UPDATE SET value=excluded.value");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, scope);
    bind_text(st, 2, key);
    bind_text(st, 3, value);
    return step_done(s, st);
}

int store_kv_del(struct store *s, const char *scope, const char *key)
{
    sqlite3_stmt *st = stmt(s, "DELETE FROM kv WHERE scope = ? AND key = ?");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, scope);
    bind_text(st, 2, key);
    return step_done(s, st);
}

int64_t store_usage_add(struct store *s, const char *day, const char *scope, const char *item,
                        int64_t add)
{
    sqlite3_stmt *st = stmt(s, "INSERT INTO usage (day, scope, item, n) VALUES (?,?,?,?)"
                               " ON CONFLICT(day, scope, item) DO UPDATE SET n = n + excluded.n"
                               " RETURNING n");
    int64_t n = -1;
    if (!st)
        return -1;
    bind_text(st, 1, day);
    bind_text(st, 2, scope);
    bind_text(st, 3, item);
    sqlite3_bind_int64(st, 4, add);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    while (n >= 0 && sqlite3_step(st) == SQLITE_ROW)
        ;   /* RETURNING: the write completes on the final step */
    sqlite3_reset(st);
    return n;
}

char *store_canned_get(struct store *s, const char *name)
{
    return get_one(s, "SELECT body FROM canned WHERE name = ?", name, NULL);
}

int store_canned_set(struct store *s, const char *name, const char *body,
                     const char *by, int64_t now)
{
    sqlite3_stmt *st = stmt(s, "INSERT INTO canned (name, body, created_by, created_at)"
                               " VALUES (?,?,?,?) ON CONFLICT(name) DO UPDATE SET"
                               " body=excluded.body, created_by=excluded.created_by,"
                               " created_at=excluded.created_at");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, name);
    bind_text(st, 2, body);
    bind_text(st, 3, by);
    sqlite3_bind_int64(st, 4, now);
    return step_done(s, st);
}

char **store_canned_names(struct store *s)
{
    sqlite3_stmt *st = stmt(s, "SELECT name FROM canned ORDER BY name");
    char **v = calloc(1, sizeof *v);
    size_t n = 0;
    if (!st || !v)
        return v;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char **nv = realloc(v, (n + 2) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        v[n++] = col_dup(st, 0);
        v[n] = NULL;
    }
    sqlite3_reset(st);
    return v;
}

void store_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* --- ticket queries (scripts' vigil.tickets / vigil.count) -------------- */

/* The statement holds only the filters asked for, state as a literal: a
 * partial index (tickets_assignee_open) serves a query only when its WHERE
 * visibly implies the index's, and "(?1 IS NULL OR state = ?1)" never
 * does.  With one statement for every filter, counting an agent's open
 * tickets scanned the whole table: 50 ms a count at 100,000 tickets (0.3 ms
 * through the index), so /tw workload for ten agents (20 queries) went past
 * the script's 250 ms budget.  Prepared per call (tens of microseconds) and
 * finalized: the statement cache is keyed by literals. */
static sqlite3_stmt *query_stmt(struct store *s, const struct ticket_query *q,
                                const char *select, const char *tail)
{
    char sql[1024];
    size_t off = 0;
    sqlite3_stmt *st = NULL;
    int rc;

#define ADD(cond, text) do { if ((cond) && off < sizeof sql)                       \
        off += (size_t)snprintf(sql + off, sizeof sql - off, " AND %s", (text)); } while (0)
    off = (size_t)snprintf(sql, sizeof sql, "%s FROM tickets WHERE 1", select);
    ADD(q->state && strcmp(q->state, "open") == 0, "state = 'open'");
    ADD(q->state && strcmp(q->state, "closed") == 0, "state = 'closed'");
    ADD(q->assignee, "assignee = ?2");
    ADD(q->unassigned, "assignee IS NULL");
    ADD(q->escalated >= 0, "escalated = ?4");
    ADD(q->waiting == 1, "first_response_at IS NULL");
    ADD(q->waiting == 0, "first_response_at IS NOT NULL");
    ADD(q->tag, "instr(',' || tags || ',', ',' || ?6 || ',') > 0");
    ADD(q->customer, "customer_id = ?7");
    ADD(q->since, "opened_at >= ?8");
    ADD(q->until, "opened_at < ?9");
    ADD(q->priority, "priority = ?10");
#undef ADD
    if (off < sizeof sql)
        off += (size_t)snprintf(sql + off, sizeof sql - off, "%s", tail);
    if (off >= sizeof sql)
        return NULL;   /* cannot happen: every part above is fixed text */
    rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        failed(s, rc, sqlite3_errmsg(s->db));
        log_error("sqlite prepare failed", "error=%s", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return NULL;
    }
    /* parameters the text does not hold answer SQLITE_RANGE: ignored */
    bind_text(st, 2, q->assignee);
    sqlite3_bind_int(st, 4, q->escalated);
    bind_text(st, 6, q->tag);
    bind_text(st, 7, q->customer);
    sqlite3_bind_int64(st, 8, q->since);
    sqlite3_bind_int64(st, 9, q->until);
    bind_text(st, 10, q->priority);
    return st;
}

int64_t *store_ticket_query(struct store *s, const struct ticket_query *q, size_t limit,
                            size_t *n)
{
    sqlite3_stmt *st = query_stmt(s, q, "SELECT id", q->oldest_first
                                  ? " ORDER BY id ASC LIMIT ?11" : " ORDER BY id DESC LIMIT ?11");
    int64_t *ids;

    *n = 0;
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 11, (int64_t)limit);
    ids = collect_ids(st, n);
    sqlite3_finalize(st);
    return ids;
}

int64_t store_ticket_query_count(struct store *s, const struct ticket_query *q)
{
    sqlite3_stmt *st = query_stmt(s, q, "SELECT count(*)", "");
    int64_t n = -1;
    int rc;

    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        failed(s, rc, sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return n;
}

/* --- presence ------------------------------------------------------------ */

int store_presence_set(struct store *s, const struct presence *p)
{
    sqlite3_stmt *st = stmt(s, "INSERT INTO presence (staff_id, reason, until, since, set_by)"
                               " VALUES (?,?,?,?,?) ON CONFLICT(staff_id) DO UPDATE SET"
                               " reason=excluded.reason, until=excluded.until,"
                               " since=excluded.since, set_by=excluded.set_by");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, p->staff_id);
    bind_text(st, 2, p->reason);
    if (p->until)
        sqlite3_bind_int64(st, 3, p->until);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, p->since);
    bind_text(st, 5, p->set_by);
    return step_done(s, st);
}

int store_presence_del(struct store *s, const char *staff_id)
{
    sqlite3_stmt *st = stmt(s, "DELETE FROM presence WHERE staff_id = ?");
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, staff_id);
    return step_done(s, st) ? STORE_ERR : sqlite3_changes(s->db) ? STORE_OK : STORE_NOTFOUND;
}

int store_presence_get(struct store *s, const char *staff_id, struct presence *p)
{
    sqlite3_stmt *st = stmt(s, "SELECT staff_id, reason, until, since, set_by FROM presence"
                               " WHERE staff_id = ?");
    int rc;

    memset(p, 0, sizeof *p);
    if (!st)
        return STORE_ERR;
    bind_text(st, 1, staff_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p->staff_id = col_dup(st, 0);
        p->reason = col_dup(st, 1);
        p->until = sqlite3_column_int64(st, 2);
        p->since = sqlite3_column_int64(st, 3);
        p->set_by = col_dup(st, 4);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc == SQLITE_DONE)
        return STORE_NOTFOUND;
    failed(s, rc, sqlite3_errmsg(s->db));
    return STORE_ERR;
}

void store_presence_clear(struct presence *p)
{
    free(p->staff_id);
    free(p->reason);
    free(p->set_by);
    memset(p, 0, sizeof *p);
}

/* --- search (issue 17 §5) ---------------------------------------------- */

/* The filters of a search, one bound parameter each; a NULL leaves that
 * filter out.  ?1 is the FTS5 expression, ?2 the customer's handle: each
 * has statements of its own (below), since "?2 IS NULL OR …" would keep
 * SQLite from using the handle's index. */
#define SEARCH_WHERE \
    " AND (?3 IS NULL OR instr(',' || t.tags || ',', ',' || ?3 || ',') > 0)" \
    " AND (?4 IS NULL OR CASE ?4" \
    "   WHEN 'open' THEN t.state = 'open' WHEN 'closed' THEN t.state = 'closed'" \
    "   WHEN 'escalated' THEN t.state = 'open' AND t.escalated = 1" \
    "   WHEN 'assigned' THEN t.state = 'open' AND t.escalated = 0 AND t.assignee IS NOT NULL" \
    "   WHEN 'new' THEN t.state = 'open' AND t.escalated = 0 AND t.assignee IS NULL" \
    "   WHEN 'unassigned' THEN t.state = 'open' AND t.assignee IS NULL END)" \
    " AND (?5 IS NULL OR t.assignee = ?5)" \
    " AND (?6 IS NULL OR t.opened_at >= ?6)" \
    " AND (?7 IS NULL OR t.opened_at < ?7)"
#define SEARCH_HANDLE " AND t.customer_handle = ?2 COLLATE NOCASE"
#define SEARCH_ANY_HANDLE " AND ?2 IS NULL"
/* Newest first straight from the index: FTS5 walks its rowids backwards,
 * so a page of a word in 65,000 of 100,000 tickets reads ten of them
 * (ordering by t.id instead sorted all 65,000 first: 660 ms). */
#define SEARCH_FTS " FROM ticket_text JOIN tickets t ON t.id = ticket_text.rowid" \
    " WHERE ticket_text MATCH ?1" SEARCH_WHERE
#define SEARCH_ALL " FROM tickets t WHERE ?1 IS NULL" SEARCH_WHERE
#define SEARCH_PAGE_FTS "SELECT t.id, snippet(ticket_text, 0, '', '', '…', 16)," \
    " t.chat_channel, t.chat_ref" SEARCH_FTS
#define SEARCH_PAGE_ALL "SELECT t.id, t.text, t.chat_channel, t.chat_ref" SEARCH_ALL
#define SEARCH_ORDER_FTS " ORDER BY ticket_text.rowid DESC"
#define SEARCH_ORDER_ALL " ORDER BY t.id DESC"
#define SEARCH_LIMIT " LIMIT ?8 OFFSET ?9"
/* Counting stops past STORE_SEARCH_CAP: "more than 1,000" is all an agent
 * needs, and counting every match of a common word took longer than the
 * page.  Newest first here too: since: matches the newest tickets. */
#define SEARCH_COUNT(from, order) "SELECT count(*) FROM (SELECT 1" from order " LIMIT ?10)"

static void bind_search(sqlite3_stmt *st, const struct store_search *q)
{
    bind_text(st, 1, q->match);
    bind_text(st, 2, q->handle);
    bind_text(st, 3, q->tag);
    bind_text(st, 4, q->status);
    bind_text(st, 5, q->assignee);
    if (q->since)
        sqlite3_bind_int64(st, 6, q->since);
    if (q->until)
        sqlite3_bind_int64(st, 7, q->until);
}

static void fill_hit(sqlite3_stmt *st, void *row)
{
    struct store_hit *h = row;
    h->id = sqlite3_column_int64(st, 0);
    h->excerpt = col_dup(st, 1);
    h->chat_channel = col_dup(st, 2);
    h->chat_ref = col_dup(st, 3);
}

int store_search(struct store *s, const struct store_search *q, size_t limit, size_t offset,
                 struct store_hit **hits, size_t *n, int64_t *total)
{
    /* Two statements: snippet() cannot share a query with count(*) OVER (). */
    sqlite3_stmt *st, *cnt;
    struct store_hit *v = NULL;
    int rc;

    *hits = NULL;
    *n = 0;
    *total = 0;
    if (q->match && q->handle) {
        st = stmt(s, SEARCH_PAGE_FTS SEARCH_HANDLE SEARCH_ORDER_FTS SEARCH_LIMIT);
        cnt = stmt(s, SEARCH_COUNT(SEARCH_FTS SEARCH_HANDLE, SEARCH_ORDER_FTS));
    } else if (q->match) {
        st = stmt(s, SEARCH_PAGE_FTS SEARCH_ANY_HANDLE SEARCH_ORDER_FTS SEARCH_LIMIT);
        cnt = stmt(s, SEARCH_COUNT(SEARCH_FTS SEARCH_ANY_HANDLE, SEARCH_ORDER_FTS));
    } else if (q->handle) {
        st = stmt(s, SEARCH_PAGE_ALL SEARCH_HANDLE SEARCH_ORDER_ALL SEARCH_LIMIT);
        cnt = stmt(s, SEARCH_COUNT(SEARCH_ALL SEARCH_HANDLE, SEARCH_ORDER_ALL));
    } else {
        st = stmt(s, SEARCH_PAGE_ALL SEARCH_ANY_HANDLE SEARCH_ORDER_ALL SEARCH_LIMIT);
        cnt = stmt(s, SEARCH_COUNT(SEARCH_ALL SEARCH_ANY_HANDLE, SEARCH_ORDER_ALL));
    }
    if (!st || !cnt)
        return STORE_ERR;
    bind_search(st, q);
    sqlite3_bind_int64(st, 8, (int64_t)limit);
    sqlite3_bind_int64(st, 9, (int64_t)offset);
    v = read_rows(st, sizeof *v, fill_hit, n, &rc);
    if (rc == SQLITE_DONE && offset == 0 && *n < limit) {
        *total = (int64_t)*n;   /* the page holds every match: no second scan */
        rc = SQLITE_ROW;
    } else if (rc == SQLITE_DONE) {
        bind_search(cnt, q);
        sqlite3_bind_int64(cnt, 10, STORE_SEARCH_CAP + 1);
        rc = sqlite3_step(cnt);
        if (rc == SQLITE_ROW)
            *total = sqlite3_column_int64(cnt, 0);
        sqlite3_reset(cnt);
    }
    if (rc != SQLITE_ROW) {
        store_hits_free(v, *n);
        *n = 0;
        return read_failed(s, rc, "search failed");
    }
    *hits = v;
    return STORE_OK;
}

void store_hits_free(struct store_hit *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].excerpt);
        free(v[i].chat_channel);
        free(v[i].chat_ref);
    }
    free(v);
}

/* --- first responses, for stats and export (issue 17 §7) ---------------- */

static void fill_response(sqlite3_stmt *st, void *row)
{
    struct store_response *r = row;
    r->id = sqlite3_column_int64(st, 0);
    r->opened_at = sqlite3_column_int64(st, 1);
    r->first_response_at = sqlite3_column_int64(st, 2);   /* NULL reads as 0 */
    r->sla_due_at = sqlite3_column_int64(st, 3);
    r->state = col_dup(st, 4);
    r->customer_handle = col_dup(st, 5);
    r->tags = col_dup(st, 6);
    r->text = col_dup(st, 7);
    r->assignee = col_dup(st, 8);
    r->agent = col_dup(st, 9);
    r->escalated = sqlite3_column_int(st, 10);
}

int store_responses(struct store *s, int64_t since, int64_t until,
                    struct store_response **out, size_t *n)
{
    /* The agent is whoever queued the ticket's first reply or DM (the
     * assignee when nobody did); in target is what the SLA clock stored
     * (sla_due_at), so business hours or a paused clock count as it counted. */
    sqlite3_stmt *st = stmt(s, "SELECT t.id, t.opened_at, t.first_response_at, t.sla_due_at,"
        " t.state, t.customer_handle, t.tags, t.text, t.assignee,"
        " coalesce((SELECT e.actor FROM events e WHERE e.ticket_id = t.id"
        "   AND e.action IN ('reply', 'dm') ORDER BY e.id LIMIT 1), t.assignee), t.escalated"
        " FROM tickets t WHERE t.opened_at >= ?1 AND t.opened_at < ?2 ORDER BY t.id");
    struct store_response *v = NULL;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return STORE_ERR;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, until);
    v = read_rows(st, sizeof *v, fill_response, n, &rc);
    if (rc != SQLITE_DONE) {
        store_responses_free(v, *n);
        *n = 0;
        return read_failed(s, rc, "reading first responses failed");
    }
    *out = v;
    return STORE_OK;
}

void store_responses_free(struct store_response *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].state);
        free(v[i].customer_handle);
        free(v[i].tags);
        free(v[i].text);
        free(v[i].assignee);
        free(v[i].agent);
    }
    free(v);
}

/* --- what the agent sees on a ticket (issue 17 §6) ----------------------- */

int store_ticket_details(struct store *s, const struct ticket *t, struct store_details *out)
{
    sqlite3_stmt *st = stmt(s, "SELECT lang, quote_text, quote_author, media FROM mentions"
                               " WHERE id = CAST(?1 AS INTEGER)");
    sqlite3_stmt *cnt = stmt(s, "SELECT count(*) FROM tickets WHERE customer_id = ?1"
                                " AND id < ?2");
    int rc;

    memset(out, 0, sizeof *out);
    if (!st || !cnt)
        return STORE_ERR;
    bind_text(st, 1, t->tweet_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->lang = col_dup(st, 0);
        out->quote_text = col_dup(st, 1);
        out->quote_author = col_dup(st, 2);
        out->media = col_dup(st, 3);
    }
    sqlite3_reset(st);
    bind_text(cnt, 1, t->customer_id);
    sqlite3_bind_int64(cnt, 2, t->id);
    if (sqlite3_step(cnt) == SQLITE_ROW)
        out->earlier = sqlite3_column_int64(cnt, 0);
    sqlite3_reset(cnt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

void store_details_clear(struct store_details *d)
{
    free(d->lang);
    free(d->quote_text);
    free(d->quote_author);
    free(d->media);
    memset(d, 0, sizeof *d);
}
