/* outbox.c — drains durable jobs to the chat and source adapters: one send
 * in flight per target (so a target's jobs keep their order), a rate limit
 * per target, retries with backoff and jitter, and results recorded back on
 * the ticket.  Knows the chat and source interfaces, not their wire formats. */
#include "desk/desk_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat/chat.h"
#include "core/backoff.h"
#include "core/log.h"
#include "source/source.h"

static void on_timer(uv_timer_t *t);

/* A channel that refuses posts (the bot was removed, the channel archived
 * or deleted) is asked again at most this far apart: a person fixing it
 * sees the backlog posted within about a minute, and a channel that stays
 * broken for a day costs 1440 calls, not a storm. */
#define BLOCKED_RETRY_MAX 60.0

/* Failed history lookups (error, 429, timeout) a ticket post waits through
 * before it posts anyway; see lookup_gave_up(). */
#define LOOKUP_TRIES 2

/* Slack's clock against ours: a lookup reaches this far before the job was
 * queued, so a message posted right after is never outside the window. */
#define LOOKUP_SKEW 60

void outbox_init(struct desk *d)
{
    uv_timer_init(d->loop, &d->outbox_timer);
    d->outbox_timer.data = d;
}

static void closed_cb(uv_handle_t *h) { (void)h; }

void outbox_close(struct desk *d)
{
    uv_timer_stop(&d->outbox_timer);
    uv_close((uv_handle_t *)&d->outbox_timer, closed_cb);
}

void desk_outbox_kick_later(struct desk *d)
{
    if (d->started && !d->stopping)
        uv_timer_start(&d->outbox_timer, on_timer, 0, 0);
}

int desk_inflight(struct desk *d)
{
    int n = 0;
    for (int i = 0; i < DESK_MAX_TARGETS; i++)
        n += d->inflight[i].used;
    return n;
}

/* A job left "inflight" by a crash may or may not have happened.  Sending it
 * again is the safe side for chat (a duplicate message beats a lost ticket);
 * adapters that can check first (Slack metadata, X duplicate rejection) do. */
void outbox_recover(struct desk *d)
{
    int64_t requeued = store_job_count(d->store, "inflight");
    if (requeued > 0) {
        store_job_requeue_inflight(d->store, desk_now(d));
        log_warn("outbox jobs were in flight at the last stop; retrying them",
                 "jobs=%lld", (long long)requeued);
    }
}

static double target_rate(struct desk *d, const char *target)
{
    /* Slack allows about one post per second per channel; the console
     * has no limit (0). */
    if (strncmp(target, "chat:", 5) == 0)
        return strcmp(d->cfg->chat, "slack") == 0 ? d->cfg->slack.post_rate : 0;
    return d->cfg->outbox_x_rate;
}

static int64_t *last_sent(struct desk *d, const char *target)
{
    int free_slot = -1;
    for (int i = 0; i < DESK_MAX_TARGETS; i++) {
        if (strcmp(d->rate[i].target, target) == 0)
            return &d->rate[i].last_ms;
        if (free_slot < 0 && !d->rate[i].target[0])
            free_slot = i;
    }
    if (free_slot < 0)
        free_slot = 0;   /* more targets than slots: share, which only slows down */
    snprintf(d->rate[free_slot].target, sizeof d->rate[free_slot].target, "%s", target);
    d->rate[free_slot].last_ms = 0;
    return &d->rate[free_slot].last_ms;
}

/* --- destinations that refuse every send -------------------------------- */

static struct blocked *blocked_of(struct desk *d, const char *target)
{
    for (int i = 0; i < DESK_MAX_TARGETS; i++)
        if (d->blocked[i].target[0] && strcmp(d->blocked[i].target, target) == 0)
            return &d->blocked[i];
    return NULL;
}

static int is_escalations(struct desk *d, const char *target)
{
    return strncmp(target, "chat:", 5) == 0 && d->cfg->channel_escalations &&
           strcmp(target + 5, d->cfg->channel_escalations) == 0;
}

/* A send to `target` was refused until a person fixes the channel.  The
 * first refusal of an episode tells the admins, once: in the escalations
 * channel, or, when that is the broken one, in the log alone.  Returns the
 * delay before the target's head job is tried again. */
static double blocked_begin(struct desk *d, const char *target, const struct send_result *r)
{
    struct blocked *b = blocked_of(d, target);
    const char *error = r->error ? r->error : "refused";
    const char *where = r->ref && *r->ref ? r->ref : target + 5;
    double cap = d->cfg->outbox_max_backoff < BLOCKED_RETRY_MAX ? d->cfg->outbox_max_backoff
                                                                : BLOCKED_RETRY_MAX;

    if (b) {
        /* the same episode, maybe with a new cause (unarchived, not joined) */
        snprintf(b->error, sizeof b->error, "%s", error);
        snprintf(b->where, sizeof b->where, "%s", where);
        return backoff_delay(++b->tries, 1.0, cap);
    }
    for (int i = 0; i < DESK_MAX_TARGETS && !b; i++)
        if (!d->blocked[i].target[0])
            b = &d->blocked[i];
    if (!b)
        b = &d->blocked[0];   /* more broken channels than slots: forget the oldest news */
    memset(b, 0, sizeof *b);
    snprintf(b->target, sizeof b->target, "%s", target);
    snprintf(b->error, sizeof b->error, "%s", error);
    snprintf(b->where, sizeof b->where, "%s", where);
    b->tries = 1;
    b->since_ms = desk_now_ms(d);
    if (is_escalations(d, target)) {
        log_error("chat: the escalations channel refuses posts; nothing is lost, its "
                  "messages wait until it is fixed", "channel=%s error=%s", where, error);
    } else {
        char text[400];
        log_error("chat: a channel refuses posts; nothing is lost, its messages wait until "
                  "it is fixed", "channel=%s error=%s", where, error);
        snprintf(text, sizeof text,
                 "vigil cannot post in %s: Slack says %s. Nothing is lost: its tickets and "
                 "thread lines wait and are posted, in order, once this is fixed (%s).",
                 where, error,
                 strcmp(error, "not_in_channel") == 0 ? "invite the bot to the channel"
                 : strcmp(error, "is_archived") == 0 ? "unarchive the channel"
                 : "check that the channel exists and channels.* in the config names it");
        b->told = desk_post_channel(d, d->cfg->channel_escalations, text) == DESK_OK;
    }
    return backoff_delay(b->tries, 1.0, cap);
}

/* A send to `target` went through: a blocked episode is over. */
static void blocked_end(struct desk *d, const char *target)
{
    struct blocked *b = blocked_of(d, target);
    if (!b)
        return;
    log_info("chat: the channel takes posts again; posting what waited", "channel=%s "
             "was=%s waited=%.0fs", b->where, b->error,
             (double)(desk_now_ms(d) - b->since_ms) / 1000);
    if (b->told) {
        char text[300];
        snprintf(text, sizeof text, "vigil can post in %s again; what waited is being posted.",
                 b->where);
        desk_post_channel(d, d->cfg->channel_escalations, text);
    }
    memset(b, 0, sizeof *b);
}

const char *desk_blocked(struct desk *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < DESK_MAX_TARGETS && used < len; i++) {
        const struct blocked *b = &d->blocked[i];
        char when[32];
        time_t t;
        struct tm tm;
        int n;
        if (!b->target[0])
            continue;
        t = (time_t)(b->since_ms / 1000);
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        n = snprintf(buf + used, len - used, "%s%s %s since %s", used ? "\n" : "", b->error,
                     b->where, when);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* --- the ticket as chat shows it ---------------------------------------- */

struct view_buf {
    struct ticket t;
    char url[160];
    struct ticket_view v;
};

static int load_view(struct desk *d, int64_t id, struct view_buf *b)
{
    if (store_ticket_get(d->store, id, &b->t))
        return -1;
    snprintf(b->url, sizeof b->url, "https://x.com/%s/status/%s", b->t.customer_handle,
             b->t.tweet_id);
    b->v.id = b->t.id;
    b->v.status = strcmp(b->t.state, "closed") == 0 ? "closed"
                : b->t.escalated ? "escalated"
                : b->t.assignee ? "assigned" : "new";
    b->v.customer_handle = b->t.customer_handle;
    b->v.customer_name = b->t.customer_name;
    b->v.text = b->t.text;
    b->v.tweet_id = b->t.tweet_id;
    b->v.tweet_url = b->url;
    b->v.assignee_name = b->t.assignee ? desk_staff_name(d, b->t.assignee) : NULL;
    b->v.tags = b->t.tags;
    b->v.priority = b->t.priority;
    b->v.tweeted_at = b->t.sla_due_at - (int64_t)d->cfg->sla_first_response;
    b->v.sla_due_at = b->t.sla_due_at;
    b->v.first_response_at = b->t.first_response_at;
    b->v.mentions = (int)store_ticket_mentions(d->store, b->t.id);
    b->v.injected = b->t.injected;
    return 0;
}

/* --- results ------------------------------------------------------------ */

struct done_ctx {
    struct desk *d;
    int slot;
    int64_t *digest;        /* a digest: every job it covers (the head included) */
    size_t ndigest;
};

static const char *payload_str(json_t *p, const char *key)
{
    const char *v = json_string_value(json_object_get(p, key));
    return v ? v : "";
}

/* Records what a finished job means for its ticket.  Inside a transaction. */
static int apply_result(struct desk *d, const struct job *j, json_t *payload,
                        const struct send_result *r, int final_failure, int digest)
{
    struct ticket t;
    char line[700];
    int64_t now = desk_now(d);
    int rc = 0;

    if (j->ticket_id <= 0 || store_ticket_get(d->store, j->ticket_id, &t))
        return 0;
    if (digest && r->status == SEND_OK) {
        /* listed in a digest: its own message comes when someone works on it */
        free(t.chat_digest);
        t.chat_digest = strdup(r->ref ? r->ref : "");
        free(t.chat_channel);
        t.chat_channel = strdup(j->target + 5);
        rc = store_ticket_update(d->store, &t) ||
             store_event_append(d->store, t.id, "system", "posted in digest", r->ref, now);
    } else if (strcmp(j->kind, "ticket.post") == 0 && r->status == SEND_OK) {
        free(t.chat_ref);
        t.chat_ref = strdup(r->ref ? r->ref : "");
        free(t.chat_channel);
        t.chat_channel = strdup(j->target + 5);
        rc = store_ticket_update(d->store, &t) ||
             store_event_append(d->store, t.id, "system", "posted", r->ref, now);
    } else if (strcmp(j->kind, "x.reply") == 0 && r->status == SEND_OK) {
        if (r->ref && *r->ref)
            snprintf(line, sizeof line, "Reply sent: https://x.com/%s/status/%s",
                     d->cfg->x.handle ? d->cfg->x.handle : "i/web", r->ref);
        else   /* a retry found X already had it: sent once, link unknown */
            snprintf(line, sizeof line, "Reply sent (X confirmed it was already posted).");
        rc = store_event_append(d->store, t.id, "system", "reply sent", r->ref, now) ||
             desk_queue_thread(d, &t, line);
        /* The first response is when X confirmed one, not when it was queued:
         * a reply that never goes out must not stop the SLA clock. */
        if (!rc && !t.first_response_at) {
            t.first_response_at = now;
            rc = store_ticket_update(d->store, &t) || desk_queue_update(d, &t);
        }
    } else if (strcmp(j->kind, "x.dm") == 0 && r->status == SEND_OK) {
        rc = store_event_append(d->store, t.id, "system", "dm sent", r->ref, now) ||
             desk_queue_thread(d, &t, "DM delivered.");
    } else if (final_failure) {
        const char *what = strcmp(j->kind, "x.reply") == 0 ? "The reply"
                         : strcmp(j->kind, "x.dm") == 0 ? "The DM" : "A chat message";
        snprintf(line, sizeof line, "%s could not be sent: %s%s%s", what,
                 r->error ? r->error : "unknown error",
                 strncmp(j->kind, "x.", 2) == 0 ? " — text: " : "",
                 strncmp(j->kind, "x.", 2) == 0 ? payload_str(payload, "text") : "");
        rc = store_event_append(d->store, t.id, "system", "send failed", line, now);
        /* A failed chat post cannot be reported in its own thread. */
        if (!rc && strncmp(j->kind, "x.", 2) == 0)
            rc = desk_queue_thread(d, &t, line);
    }
    store_ticket_clear(&t);
    return rc ? -1 : 0;
}

/* Records the outcome of one job (state, retry time, effects on its
 * ticket) in one transaction. */
static void record(struct desk *d, int64_t job_id, const struct send_result *r, int digest,
                   double blocked_delay)
{
    struct job j;
    json_t *payload = NULL;
    int64_t now_ms = desk_now_ms(d);
    int final_failure = 0;

    if (store_job_get(d->store, job_id, &j)) {
        log_error("outbox job vanished while in flight", "job=%lld", (long long)job_id);
        goto out;
    }
    payload = json_loads(j.payload ? j.payload : "{}", 0, NULL);
    if (store_begin(d->store))
        goto out;
    if (r->status == SEND_OK) {
        store_job_set_state(d->store, j.id, "done", j.attempts, j.next_at_ms, r->ref, NULL,
                            now_ms / 1000);
        log_debug("outbox job done", "job=%lld kind=%s target=%s ref=%s", (long long)j.id,
                  j.kind, j.target, r->ref ? r->ref : "");
    } else if (r->status == SEND_BLOCKED) {
        /* Not the job's fault: the attempt is given back, and it waits (the
         * target's queue behind it) for the channel to be fixed. */
        store_job_set_state(d->store, j.id, "queued", j.attempts > 0 ? j.attempts - 1 : 0,
                            now_ms + (int64_t)(blocked_delay * 1000), NULL, r->error,
                            now_ms / 1000);
        log_debug("outbox: channel refuses posts; job waits", "job=%lld target=%s "
                  "retry_in=%.1fs error=%s", (long long)j.id, j.target, blocked_delay,
                  r->error ? r->error : "");
    } else if (r->status == SEND_RETRY && j.attempts < d->cfg->outbox_max_attempts) {
        double delay = r->retry_after > 0 ? r->retry_after
                     : backoff_delay(j.attempts, 1.0, d->cfg->outbox_max_backoff);
        store_job_set_state(d->store, j.id, "queued", j.attempts,
                            now_ms + (int64_t)(delay * 1000), NULL, r->error, now_ms / 1000);
        log_warn("outbox send failed; will retry", "job=%lld kind=%s target=%s attempt=%d "
                 "retry_in=%.1fs error=%s", (long long)j.id, j.kind, j.target, j.attempts,
                 delay, r->error ? r->error : "");
    } else {
        final_failure = 1;
        store_job_set_state(d->store, j.id, "failed", j.attempts, j.next_at_ms, NULL,
                            r->error ? r->error : "failed", now_ms / 1000);
        log_error("outbox send failed permanently", "job=%lld kind=%s target=%s attempts=%d "
                  "error=%s", (long long)j.id, j.kind, j.target, j.attempts,
                  r->error ? r->error : "");
    }
    if (apply_result(d, &j, payload, r, final_failure, digest) || store_commit(d->store)) {
        store_rollback(d->store);
        log_error("could not record an outbox result; the job will be retried",
                  "job=%lld", (long long)j.id);
    }
    desk_notify(d, DESK_EV_JOB, j.ticket_id, j.kind,
                r->status == SEND_OK ? "ok" : final_failure ? "failed"
                : r->status == SEND_BLOCKED ? "blocked" : "retry");
out:
    json_decref(payload);
    store_job_clear(&j);
}

/* A job is over.  `called` says whether it reached the service: then the
 * target's rate interval restarts now, not from when the job started,
 * because a job may make several calls (a lookup before a post), and a
 * limit counted from its start let the next post follow the last call by
 * less than the interval: the bench's storm provoked a 429 that way, and
 * every retry then provoked the next. */
static void finish(struct done_ctx *ctx, const struct send_result *r, int called)
{
    struct desk *d = ctx->d;
    struct inflight *f = &d->inflight[ctx->slot];
    double blocked_delay = 0;

    if (called)
        *last_sent(d, f->target) = desk_now_ms(d);
    if (r->status == SEND_BLOCKED)
        blocked_delay = blocked_begin(d, f->target, r);
    else if (r->status == SEND_OK && called)
        blocked_end(d, f->target);

    if (ctx->digest) {
        for (size_t i = 0; i < ctx->ndigest; i++)
            record(d, ctx->digest[i], r, 1, blocked_delay);
        free(ctx->digest);
    } else {
        record(d, f->job_id, r, 0, blocked_delay);
    }
    free(ctx);
    f->used = 0;
    desk_outbox_kick_later(d);
}

static void on_done(void *arg, const struct send_result *r)
{
    finish(arg, r, 1);
}

static void skip(void *arg, const char *why)
{
    struct send_result r = { SEND_OK, why, NULL, 0 };
    finish(arg, &r, 0);
}

static void fail_now(void *arg, const char *why)
{
    struct send_result r = { SEND_FAIL, NULL, why, 0 };
    finish(arg, &r, 0);
}

/* The history lookup before a post whose earlier attempt may have landed
 * (a crash or a timeout left it in flight) is a rare, bounded fallback, and
 * it can fail itself (an error, a 429 at Tier 1, a timeout).  The job holds
 * its channel's queue while it waits, so it must not wait long: after
 * LOOKUP_TRIES failed lookups (or at the job's last attempt) it counts as
 * "not found" and the ticket is posted.  That may show a ticket twice, but
 * only when an earlier attempt landed AND the lookup keeps failing, both
 * rare, and a second message is visible and harmless, while not posting
 * could lose the mention for good, and waiting longer stalls every ticket
 * behind it.  Nothing else can make the post safe: Slack has no idempotent
 * post. */
static int lookup_gave_up(struct desk *d, int attempts, const struct send_result *r)
{
    if (r->status != SEND_RETRY)
        return 0;
    if (attempts - 1 < LOOKUP_TRIES && attempts < d->cfg->outbox_max_attempts)
        return 0;
    log_warn("outbox: chat history lookup failed; posting the ticket without it (it may "
             "show twice)", "lookups=%d error=%s", attempts - 1, r->error ? r->error : "");
    return 1;
}

/* Where a lookup starts: just before the job was queued, which is before
 * its first run (Unix seconds). */
static int64_t lookup_oldest(const struct job *j)
{
    return j->created_at > LOOKUP_SKEW ? j->created_at - LOOKUP_SKEW : 0;
}

struct find_then_post {
    struct done_ctx *ctx;
    int64_t ticket;
    int attempts;
    char channel[64];
};

/* A ticket post that may already have happened (a crash or a timeout left
 * it in flight): post only if chat has no message for the ticket yet. */
static void on_found(void *arg, const struct send_result *r)
{
    struct find_then_post *f = arg;
    struct desk *d = f->ctx->d;
    struct view_buf vb;

    if (r->status != SEND_FAIL && !lookup_gave_up(d, f->attempts, r)) {
        on_done(f->ctx, r);
    } else if (d->stopping || load_view(d, f->ticket, &vb)) {
        struct send_result retry = { SEND_RETRY, NULL, "ticket not loadable", 0 };
        on_done(f->ctx, &retry);
    } else {
        d->chat->ops->post_ticket(d->chat, f->channel, &vb.v, on_done, f->ctx);
        store_ticket_clear(&vb.t);
    }
    free(f);
}

/* --- a ticket message deleted in chat ------------------------------------
 * chat.update (or a thread reply) finds the ticket's message gone: the
 * ticket is posted again as a new message, its ref recorded, and the job
 * goes on (a thread line goes under the new message).  Once per job: a
 * second "gone" is a failure, never a loop. */

struct repost {
    struct done_ctx *ctx;
    int64_t ticket;
    int attempts;
    int64_t oldest;
    char channel[64];
    char *text;          /* a thread line to post under the new message; NULL: none */
};

static void repost_free(struct repost *rp)
{
    free(rp->text);
    free(rp);
}

static void on_reposted(void *arg, const struct send_result *r)
{
    struct repost *rp = arg;
    struct desk *d = rp->ctx->d;
    struct ticket t;
    int stored = 0;

    if (r->status == SEND_OK && r->ref && *r->ref && store_begin(d->store) == 0) {
        if (store_ticket_get(d->store, rp->ticket, &t) == STORE_OK) {
            free(t.chat_ref);
            t.chat_ref = strdup(r->ref);
            stored = t.chat_ref && !store_ticket_update(d->store, &t) &&
                     !store_event_append(d->store, t.id, "system", "re-posted",
                                         "the ticket message was deleted in chat", desk_now(d));
            store_ticket_clear(&t);
        }
        if (stored && store_commit(d->store) == 0) {
            log_info("outbox: ticket posted again; its message had been deleted in chat",
                     "ticket=%lld ts=%s", (long long)rp->ticket, r->ref);
        } else {
            store_rollback(d->store);
            stored = 0;
        }
    }
    if (stored && rp->text)
        d->chat->ops->post_thread(d->chat, rp->channel, r->ref, rp->text, on_done, rp->ctx);
    else if (r->status == SEND_OK && !stored)
        on_done(rp->ctx, &(struct send_result){ SEND_RETRY, NULL, "could not record the "
                                                "ticket's new message", 0 });
    else
        on_done(rp->ctx, r);
    repost_free(rp);
}

static void repost_now(struct repost *rp)
{
    struct desk *d = rp->ctx->d;
    struct view_buf vb;
    if (d->stopping || load_view(d, rp->ticket, &vb)) {
        on_done(rp->ctx, &(struct send_result){ SEND_RETRY, NULL, "ticket not loadable", 0});
        repost_free(rp);
        return;
    }
    d->chat->ops->post_ticket(d->chat, rp->channel, &vb.v, on_reposted, rp);
    store_ticket_clear(&vb.t);
}

/* A retried job may have re-posted already: look first, as a post does. */
static void on_repost_found(void *arg, const struct send_result *r)
{
    struct repost *rp = arg;
    if (r->status == SEND_OK) {
        on_reposted(rp, r);
    } else if (r->status != SEND_FAIL && !lookup_gave_up(rp->ctx->d, rp->attempts, r)) {
        on_done(rp->ctx, r);
        repost_free(rp);
    } else {
        repost_now(rp);
    }
}

/* The answer to an update or a thread line of a ticket with a message. */
static void on_maybe_gone(void *arg, const struct send_result *r)
{
    struct repost *rp = arg;
    struct chat *chat = rp->ctx->d->chat;

    if (r->status != SEND_GONE) {
        on_done(rp->ctx, r);
        repost_free(rp);
        return;
    }
    log_warn("outbox: the ticket's message is gone from chat; posting the ticket again",
             "ticket=%lld error=%s", (long long)rp->ticket, r->error ? r->error : "");
    if (rp->attempts > 1 && chat->ops->find_ticket)
        chat->ops->find_ticket(chat, rp->channel, rp->ticket, rp->oldest, on_repost_found, rp);
    else
        repost_now(rp);
}

static struct repost *repost_new(struct done_ctx *ctx, const struct job *j, const char *text)
{
    struct repost *rp = calloc(1, sizeof *rp);
    if (!rp)
        return NULL;
    rp->ctx = ctx;
    rp->ticket = j->ticket_id;
    rp->attempts = j->attempts;
    rp->oldest = lookup_oldest(j);
    snprintf(rp->channel, sizeof rp->channel, "%s", j->target + 5);
    if (text && !(rp->text = strdup(text))) {
        free(rp);
        return NULL;
    }
    return rp;
}

struct then_thread {
    struct done_ctx *ctx;
    int64_t ticket;
    char channel[64];
    char *text;
};

/* A ticket listed in a digest gets its own message before its first thread
 * line: the "thread on demand". */
static void on_own_post(void *arg, const struct send_result *r)
{
    struct then_thread *t = arg;
    struct desk *d = t->ctx->d;
    struct ticket tk;

    if (r->status == SEND_OK && r->ref && store_begin(d->store) == 0) {
        if (store_ticket_get(d->store, t->ticket, &tk) == STORE_OK) {
            free(tk.chat_ref);
            tk.chat_ref = strdup(r->ref);
            if (store_ticket_update(d->store, &tk) ||
                store_event_append(d->store, tk.id, "system", "posted", r->ref, desk_now(d)))
                store_rollback(d->store);
            else
                store_commit(d->store);
            store_ticket_clear(&tk);
        } else {
            store_rollback(d->store);
        }
        d->chat->ops->post_thread(d->chat, t->channel, r->ref, t->text, on_done, t->ctx);
    } else {
        on_done(t->ctx, r);
    }
    free(t->text);
    free(t);
}

/* Hands one job to its adapter.  The adapter calls on_done exactly once. */
static void dispatch(struct desk *d, const struct job *j, struct done_ctx *ctx)
{
    struct chat *chat = d->chat;
    struct source *src = d->source;
    json_t *p = json_loads(j->payload ? j->payload : "{}", 0, NULL);
    struct view_buf vb;
    const char *channel = j->target + 5;

    memset(&vb, 0, sizeof vb);
    if (!p) {
        fail_now(ctx, "job payload is not JSON");
        return;
    }
    if (strncmp(j->kind, "x.", 2) == 0) {
        if (strcmp(j->kind, "x.reply") == 0)
            src->ops->send_reply(src, payload_str(p, "in_reply_to"), payload_str(p, "text"),
                                 j->attempts, lookup_oldest(j), on_done, ctx);
        else
            src->ops->send_dm(src, payload_str(p, "to"), payload_str(p, "text"), j->attempts,
                              on_done, ctx);
        goto out;
    }
    if (strcmp(j->kind, "channel.post") == 0) {
        chat->ops->post_channel(chat, payload_str(p, "channel"), payload_str(p, "text"),
                                on_done, ctx);
        goto out;
    }
    if (load_view(d, j->ticket_id, &vb)) {
        fail_now(ctx, "ticket not found");
        goto out;
    }
    if (strcmp(j->kind, "ticket.post") == 0) {
        struct find_then_post *f;
        if (vb.t.chat_ref) {
            skip(ctx, vb.t.chat_ref);   /* already shown: never post a ticket twice */
        } else if (j->attempts > 1 && chat->ops->find_ticket &&
                   (f = calloc(1, sizeof *f))) {
            f->ctx = ctx;
            f->ticket = j->ticket_id;
            f->attempts = j->attempts;
            snprintf(f->channel, sizeof f->channel, "%s", channel);
            chat->ops->find_ticket(chat, channel, j->ticket_id, lookup_oldest(j), on_found, f);
        } else {
            chat->ops->post_ticket(chat, channel, &vb.v, on_done, ctx);
        }
    } else if (strcmp(j->kind, "ticket.update") == 0) {
        struct repost *rp;
        if (!vb.t.chat_ref)
            skip(ctx, "no ticket message to update");
        else if ((rp = repost_new(ctx, j, NULL)))
            chat->ops->update_ticket(chat, channel, vb.t.chat_ref, &vb.v, on_maybe_gone, rp);
        else
            on_done(ctx, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
    } else if (strcmp(j->kind, "ticket.thread") == 0) {
        struct then_thread *tt;
        struct repost *rp;
        if (!vb.t.chat_ref && vb.t.chat_digest && (tt = calloc(1, sizeof *tt))) {
            tt->ctx = ctx;
            tt->ticket = j->ticket_id;
            snprintf(tt->channel, sizeof tt->channel, "%s", channel);
            tt->text = strdup(payload_str(p, "text"));
            chat->ops->post_ticket(chat, channel, &vb.v, on_own_post, tt);
        } else if (vb.t.chat_ref && (rp = repost_new(ctx, j, payload_str(p, "text")))) {
            chat->ops->post_thread(chat, channel, vb.t.chat_ref, payload_str(p, "text"),
                                   on_maybe_gone, rp);
        } else if (vb.t.chat_ref) {
            on_done(ctx, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
        } else {
            /* The ticket message never made it: keep the line visible anyway. */
            char line[1200];
            snprintf(line, sizeof line, "#%lld: %s", (long long)j->ticket_id,
                     payload_str(p, "text"));
            chat->ops->post_channel(chat, channel, line, on_done, ctx);
        }
    } else {
        fail_now(ctx, "unknown job kind");
    }
    store_ticket_clear(&vb.t);
out:
    json_decref(p);
}

#define DIGEST_MAX 10   /* tickets per digest message */

/* Digest mode: when more ticket posts wait for a channel than
 * slack.digest_threshold, list the next few in one message.  Returns 1
 * when it took the job (and others) in flight. */
static int try_digest(struct desk *d, const struct job *head, struct done_ctx *ctx,
                      int64_t now_ms)
{
    int threshold = d->cfg->slack.digest_threshold;
    struct view_buf *vb = NULL;
    struct ticket_view *views = NULL;
    int64_t *ids;
    size_t n = 0, k = 0, backlog;

    if (strcmp(head->kind, "ticket.post") != 0 || !d->chat->ops->post_digest || threshold <= 0)
        return 0;
    /* the head is already in flight; the queued ones wait behind it */
    ids = store_job_queued_of_kind(d->store, head->target, "ticket.post", 100000, &n);
    backlog = n + 1;
    if (backlog <= (size_t)threshold) {
        free(ids);
        return 0;
    }
    if (n > DIGEST_MAX - 1)
        n = DIGEST_MAX - 1;
    {
        int64_t *all = realloc(ids, (n + 1) * sizeof *all);
        if (!all)
            goto fail;
        ids = all;
        memmove(ids + 1, ids, n * sizeof *ids);
        ids[0] = head->id;
        n++;
    }
    vb = calloc(n, sizeof *vb);
    views = calloc(n, sizeof *views);
    if (!vb || !views)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        struct job j;
        if (store_job_get(d->store, ids[i], &j) || load_view(d, j.ticket_id, &vb[k])) {
            store_job_clear(&j);
            if (i == 0)
                goto fail;   /* the head goes the normal way, which reports it */
            continue;
        }
        if (i > 0)
            store_job_set_state(d->store, j.id, "inflight", j.attempts + 1, j.next_at_ms, NULL,
                                j.last_error, now_ms / 1000);
        views[k] = vb[k].v;
        ids[k++] = j.id;
        store_job_clear(&j);
    }
    if (!k)
        goto fail;
    ctx->digest = ids;
    ctx->ndigest = k;
    log_info("outbox: digest mode", "target=%s tickets=%zu backlog=%zu", head->target, k,
             backlog);
    d->chat->ops->post_digest(d->chat, head->target + 5, views, k, backlog, on_done, ctx);
    for (size_t i = 0; i < k; i++)
        store_ticket_clear(&vb[i].t);
    free(vb);
    free(views);
    return 1;
fail:
    free(vb);
    free(views);
    free(ids);
    return 0;
}

static int slot_of(struct desk *d, const char *target)
{
    for (int i = 0; i < DESK_MAX_TARGETS; i++)
        if (d->inflight[i].used && strcmp(d->inflight[i].target, target) == 0)
            return i;
    return -1;
}

static int free_slot(struct desk *d)
{
    for (int i = 0; i < DESK_MAX_TARGETS; i++)
        if (!d->inflight[i].used)
            return i;
    return -1;
}

static void run(struct desk *d)
{
    const char *busy[2 * DESK_MAX_TARGETS];
    int64_t wake_ms = 0;

    if (!d->chat || !d->source)
        return;
    for (int guard = 0; guard < 1000 && !d->stopping; guard++) {
        int64_t now_ms = desk_now_ms(d), next_ms = 0;
        size_t nbusy = 0;
        struct job j;
        struct done_ctx *ctx;
        int slot, rc;

        for (int i = 0; i < DESK_MAX_TARGETS; i++) {
            if (d->inflight[i].used)
                busy[nbusy++] = d->inflight[i].target;
            if (d->rate[i].target[0]) {
                double rate = target_rate(d, d->rate[i].target);
                int64_t ready = d->rate[i].last_ms + (rate > 0 ? (int64_t)(1000 / rate) : 0);
                if (ready > now_ms) {
                    busy[nbusy++] = d->rate[i].target;
                    if (!wake_ms || ready < wake_ms)
                        wake_ms = ready;
                }
            }
        }
        rc = store_job_next(d->store, now_ms, busy, nbusy, &j, &next_ms);
        if (rc != STORE_OK) {
            if (next_ms && (!wake_ms || next_ms < wake_ms))
                wake_ms = next_ms;
            break;
        }
        slot = slot_of(d, j.target) >= 0 ? -1 : free_slot(d);
        if (slot < 0) {
            store_job_clear(&j);
            break;
        }
        if (store_job_set_state(d->store, j.id, "inflight", j.attempts + 1, j.next_at_ms,
                                NULL, j.last_error, now_ms / 1000)) {
            store_job_clear(&j);
            break;
        }
        j.attempts++;
        *last_sent(d, j.target) = now_ms;
        d->inflight[slot].used = 1;
        d->inflight[slot].job_id = j.id;
        d->inflight[slot].d = d;
        snprintf(d->inflight[slot].target, sizeof d->inflight[slot].target, "%s", j.target);
        ctx = malloc(sizeof *ctx);
        if (!ctx) {
            d->inflight[slot].used = 0;
            store_job_clear(&j);
            break;
        }
        ctx->d = d;
        ctx->slot = slot;
        ctx->digest = NULL;
        ctx->ndigest = 0;
        if (!try_digest(d, &j, ctx, now_ms))
            dispatch(d, &j, ctx);
        store_job_clear(&j);
    }
    if (wake_ms && !d->stopping) {
        int64_t delay = wake_ms - desk_now_ms(d);
        uv_timer_start(&d->outbox_timer, on_timer, delay > 0 ? (uint64_t)delay : 1, 0);
    }
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

void desk_outbox_kick(struct desk *d)
{
    run(d);
}
