/* store.h — vigil's SQLite store: schema, migrations, transactions and the
 * typed queries the desk, outbox and scripts need.  Knows the schema; never
 * Slack's or X's APIs, and no Lua (some column names are X's words: see
 * store.c).  Times are Unix seconds unless a name ends in _ms. */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum store_rc { STORE_OK = 0, STORE_ERR = 1, STORE_NOTFOUND = 2, STORE_EXISTS = 3 };

struct ticket {
    int64_t id;
    char *state;               /* "open" | "closed" */
    char *customer_id, *customer_handle, *customer_name;
    char *conversation_id;
    char *tweet_id;            /* the mention that opened it */
    char *last_tweet_id;       /* the customer's latest mention: replies go here */
    char *text;                /* the opening mention's current text */
    char *assignee;            /* staff id, NULL when unassigned */
    int escalated;
    char *escalation_reason;
    char *priority;            /* "normal" unless a hook says otherwise */
    char *tags;                /* comma-separated, sorted */
    int64_t opened_at, first_response_at, closed_at, sla_due_at, updated_at;
    int sla_warned, sla_breached, injected;
    char *chat_ref;            /* the ticket message's id in chat (Slack ts) */
    char *chat_channel;
    char *chat_digest;         /* the digest message that listed it, until it gets its own */
    /* SLA clocks (issue 17): the opening tweet's time; the follow-up clock,
     * running from the customer's first tweet after vigil's last confirmed
     * reply (followup_at, 0: not waiting) to followup_due_at */
    int64_t tweeted_at, followup_at, followup_due_at;
    int followup_warned, followup_breached;   /* warnings sent (count); breached */
};

struct event {
    int64_t id, ticket_id, at;
    char *actor, *action, *detail;
};

struct job {
    int64_t id, ticket_id, next_at_ms, created_at;
    char *kind, *target, *payload, *state, *result, *last_error;
    int attempts;
};

/* Opens (creating if needed) the database at `path`, in WAL mode, migrated
 * to the newest schema, after PRAGMA quick_check and a write probe.  Returns
 * new, free with store_close(); NULL on error (logged with the path). */
struct store *store_open(const char *path);
void store_close(struct store *s);
/* Is the file at the path still the one opened (same st_dev/st_ino)?  A
 * cheap stat(); also done around every outermost transaction.  Once it
 * failed the store refuses every transaction (logged once). */
int store_check(struct store *s);
int store_lost(struct store *s);
/* 1 when the last failure was another connection's lock (SQLITE_BUSY):
 * try again later rather than report a broken store. */
int store_busy(struct store *s);
/* When (Unix seconds) transactions started failing without one succeeding
 * since, and why (written to `why`); 0 when healthy. */
int64_t store_failing_since(struct store *s, char *why, size_t len);
int store_schema_version(struct store *s);
/* The version this build migrates to (tests compare with it rather than
 * naming a number, which changes with every migration). */
int store_schema_latest(void);
int64_t store_size_bytes(struct store *s);

/* Transactions nest (inner levels are savepoints).  commit/rollback close
 * the innermost level. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
int store_in_transaction(struct store *s);

/* --- mentions ---------------------------------------------------------- */
struct mention;
/* Returns 1 if a mention with this id is stored, 0 if not, -1 on error. */
int store_mention_exists(struct store *s, int64_t id);
/* Ticket of the mention whose original (edit_history[0]) is `original_id`:
 * 0 when none, -1 on error.  `*has` tells whether any mention matched. */
int64_t store_mention_ticket_by_original(struct store *s, int64_t original_id, int *has);
int store_mention_insert(struct store *s, const struct mention *m, int64_t original_id,
                         int64_t ticket_id, const char *skipped, int64_t now);
int64_t store_mention_count(struct store *s);
/* The highest stored tweet id (0 when none). */
int64_t store_mention_max_id(struct store *s);

/* --- tickets ----------------------------------------------------------- */
/* Open ticket of `author_id` in `conversation_id`; 0 if none, -1 on error. */
int64_t store_ticket_find_open(struct store *s, const char *author_id,
                               const char *conversation_id);
/* The ticket whose chat message is `ref` (Slack's ts, unique in practice;
 * the channel is not compared: the config may name it "#support" where
 * Slack's events give its id): for commands typed in its thread.  0 if
 * none, -1 on error. */
int64_t store_ticket_by_ref(struct store *s, const char *ref);
/* Inserts `t` (its id is ignored); returns the new id, -1 on error. */
int64_t store_ticket_insert(struct store *s, const struct ticket *t);
/* Writes every field of `t` back. */
int store_ticket_update(struct store *s, const struct ticket *t);
/* Fills `t` (fields owned by it; store_ticket_clear frees them). */
int store_ticket_get(struct store *s, int64_t id, struct ticket *t);
void store_ticket_clear(struct ticket *t);
int64_t store_ticket_count(struct store *s);
/* Mentions attached to a ticket (the opening one included). */
int64_t store_ticket_mentions(struct store *s, int64_t id);

/* Ticket ids, newest first, matching `where` (one of the fixed filters:
 * "open", "closed", "unassigned", "escalated", "all", "sla" = open without
 * a first response, "customer" = by customer_id `arg`, "assignee" = `arg`,
 * "queue" = open and unassigned, unanswered first, by sla_due_at).
 * Returns new array of `*n` ids, caller frees with free(); NULL on error or empty. */
int64_t *store_ticket_list(struct store *s, const char *where, const char *arg,
                           size_t limit, size_t *n);

struct store_stats {
    int64_t open, unassigned, escalated;          /* now */
    int64_t opened, answered, answered_in_target; /* since `since` */
    int64_t median_first_response;                /* seconds; -1 when none */
};
/* Counts for `stats`; `target` is sla.first_response (for a ticket
 * without tweeted_at, the tweet was sla_due_at - target).  Answered in
 * time: first_response_at <= sla_due_at, which counts business hours. */
int store_stats(struct store *s, int64_t since, int64_t target, struct store_stats *out);

/* --- events (append-only audit log) ----------------------------------- */
int store_event_append(struct store *s, int64_t ticket_id, const char *actor,
                       const char *action, const char *detail, int64_t now);
/* Events of a ticket, oldest first (ticket_id 0: the desk-wide events
 * such as away/back); returns new array, free with store_events_free(). */
struct event *store_events_of(struct store *s, int64_t ticket_id, size_t *n);
void store_events_free(struct event *v, size_t n);

/* --- outbox ------------------------------------------------------------ */
/* Queues a durable job; returns its id, -1 on error. */
int64_t store_job_insert(struct store *s, const char *kind, const char *target,
                         int64_t ticket_id, const char *payload, int64_t next_at_ms,
                         int64_t now);
/* 1 if a queued (not in flight) job of `kind` for `ticket_id` exists. */
int store_job_pending(struct store *s, const char *kind, int64_t ticket_id);
/* The oldest queued or in-flight job per target: fills `*j` with the first
 * one due at `now_ms` across targets not listed in `busy` (NUL-separated
 * list of targets, may be NULL).  Returns STORE_NOTFOUND when none is due;
 * then `*next_ms` holds the earliest next_at_ms of any queued job (or 0). */
int store_job_next(struct store *s, int64_t now_ms, const char *const *busy,
                   size_t nbusy, struct job *j, int64_t *next_ms);
int store_job_get(struct store *s, int64_t id, struct job *j);
void store_job_clear(struct job *j);
int store_job_set_state(struct store *s, int64_t id, const char *state, int attempts,
                        int64_t next_at_ms, const char *result, const char *error,
                        int64_t now);
/* Targets with their queued+in-flight counts: "target=N target=N". New string. */
/* Puts every in-flight job back in the queue (after a crash). */
int store_job_requeue_inflight(struct store *s, int64_t now);
/* Due times are wall time: when the wall clock steps by `delta_ms`, every
 * queued job's due time moves with it, so its wait stays as long. */
int store_job_shift_due(struct store *s, int64_t delta_ms);
/* Queued jobs due after `after_ms` become due at `to_ms`; returns how many,
 * -1 on error. */
int64_t store_job_clamp_due(struct store *s, int64_t after_ms, int64_t to_ms);
char *store_job_depths(struct store *s);
int64_t store_job_count(struct store *s, const char *state);
/* The newest failed job of ticket `ticket_id` whose kind starts with
 * `prefix` ("x."): its id, 0 when none, -1 on error. */
int64_t store_job_last_failed(struct store *s, int64_t ticket_id, const char *prefix);
/* issue 18: the newest job of ticket `ticket_id` whose kind starts with
 * `prefix` and whose state is `state`: its id, 0 when none, -1 on error. */
int64_t store_job_last_in(struct store *s, int64_t ticket_id, const char *prefix,
                          const char *state);
/* The same, among jobs whose payload's "by" is `by`. */
int64_t store_job_last_by(struct store *s, int64_t ticket_id, const char *prefix,
                          const char *state, const char *by);
/* Replaces a job's payload (a resend with edited text). */
int store_job_set_payload(struct store *s, int64_t id, const char *payload);
/* created_at of the oldest queued or in-flight job whose target starts
 * with `prefix` ("chat:"); 0 when none waits, -1 on error. */
int64_t store_job_oldest(struct store *s, const char *prefix);
/* Queued jobs of `kind` for `target`, oldest first, at most `limit`: a new
 * array of `*n` ids (free()), NULL when none. */
int64_t *store_job_queued_of_kind(struct store *s, const char *target, const char *kind,
                                  size_t limit, size_t *n);
/* The ticket's chat_ref/chat_channel recorded by a finished post job. */

/* --- cursors, kv, canned ---------------------------------------------- */
/* Returns new string or NULL when unset. */
char *store_cursor_get(struct store *s, const char *source);
int store_cursor_set(struct store *s, const char *source, const char *value, int64_t now);

char *store_kv_get(struct store *s, const char *scope, const char *key);
int store_kv_set(struct store *s, const char *scope, const char *key, const char *value);
int store_kv_del(struct store *s, const char *scope, const char *key);

/* Adds `add` to the tally of `item` for `scope` on `day` ("2026-12-05",
 * UTC) and returns the new tally (add 0 reads it); -1 on error. */
int64_t store_usage_add(struct store *s, const char *day, const char *scope, const char *item,
                        int64_t add);

/* --- ticket queries ----------------------------------------------------- */
/* What scripts filter tickets by (vigil.tickets, vigil.count).  NULL / -1 /
 * 0 fields do not filter. */
struct ticket_query {
    const char *state;         /* "open" | "closed"; anything else: either */
    const char *assignee;      /* a staff id */
    int unassigned;            /* 1: only tickets nobody holds */
    int escalated;             /* -1 any, 0 not escalated, 1 escalated */
    int waiting;               /* -1 any, 1 no first response yet, 0 answered */
    const char *tag;
    const char *customer;      /* customer_id */
    const char *priority;
    int64_t since, until;      /* opened_at in [since, until) (scripts: since, before) */
    int oldest_first;          /* order by number ascending (default newest first) */
};
/* Ticket ids matching `q`, at most `limit`: new array of `*n` ids (free()),
 * NULL when none or on error. */
int64_t *store_ticket_query(struct store *s, const struct ticket_query *q, size_t limit,
                            size_t *n);
/* How many tickets match `q`; -1 on error. */
int64_t store_ticket_query_count(struct store *s, const struct ticket_query *q);

/* --- presence (/tw away, /tw back) -------------------------------------- */
/* A staff member who said they are away: `until` 0 means until /tw back. */
struct presence {
    char *staff_id, *reason, *set_by;
    int64_t until, since;
};
/* Stores (or replaces) `p`; borrowed. */
int store_presence_set(struct store *s, const struct presence *p);
/* Forgets staff_id's absence; STORE_NOTFOUND when none was stored. */
int store_presence_del(struct store *s, const char *staff_id);
/* Fills `p` (owned by it; free with store_presence_clear); STORE_NOTFOUND
 * when the staff member is not away. */
int store_presence_get(struct store *s, const char *staff_id, struct presence *p);
void store_presence_clear(struct presence *p);

char *store_canned_get(struct store *s, const char *name);
int store_canned_set(struct store *s, const char *name, const char *body,
                     const char *by, int64_t now);
/* Names, sorted; returns new NULL-terminated array, free with store_strv_free. */
char **store_canned_names(struct store *s);
void store_strv_free(char **v);

/* --- search (issue 17 §5) ---------------------------------------------- */
/* What to look for; NULL / 0 leaves a filter out.  `match` is an FTS5
 * expression (desk/find.c quotes every user word); the others are bound
 * as values. */
struct store_search {
    const char *match, *handle, *tag, *status, *assignee;
    int64_t since, until;     /* opened_at in [since, until) */
};
struct store_hit {
    int64_t id;
    char *excerpt;            /* the matching part of the ticket's tweets */
    char *chat_channel, *chat_ref;   /* its chat message, NULL until posted */
};
#define STORE_SEARCH_CAP 1000
/* Matching tickets, newest first, `limit` from `offset`: new array of `*n`
 * hits (free with store_hits_free), NULL when none; `*total` is how many
 * match in all, counted up to STORE_SEARCH_CAP + 1 ("more than 1,000"). */
int store_search(struct store *s, const struct store_search *q, size_t limit, size_t offset,
                 struct store_hit **hits, size_t *n, int64_t *total);
void store_hits_free(struct store_hit *v, size_t n);

/* --- first responses, for stats and export (issue 17 §7) ---------------- */
struct store_response {
    int64_t id, opened_at;
    int64_t first_response_at;  /* 0: not answered */
    int64_t sla_due_at;         /* as the SLA clock stored it */
    char *state, *customer_handle, *tags, *text, *assignee;
    char *agent;                /* who queued the first reply or DM, else the assignee */
    int escalated;
};
/* Tickets opened in [since, until), oldest first: new array of `*n` (free
 * with store_responses_free), NULL when none. */
int store_responses(struct store *s, int64_t since, int64_t until,
                    struct store_response **out, size_t *n);
void store_responses_free(struct store_response *v, size_t n);

/* --- what the agent sees on a ticket (issue 17 §6) ----------------------- */
struct store_details {
    char *lang, *quote_text, *quote_author, *media;   /* of the opening tweet; NULL: none */
    int64_t earlier;            /* the customer's tickets before this one */
};
/* Fills `*out` (strings owned by it: store_details_clear) for ticket `t`. */
int store_ticket_details(struct store *s, const struct ticket *t, struct store_details *out);
void store_details_clear(struct store_details *d);

#endif
