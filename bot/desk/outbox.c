/* outbox.c — drains durable jobs to the chat and source adapters: one send
 * in flight per target (so a target's jobs keep their order), a rate limit
 * per target, retries with backoff and jitter, and results recorded back on
 * the ticket.  Knows the chat and source interfaces and parses no wire
 * format, but it does read the adapters' settings: the pacing of each target
 * (`slack.post_rate`, `outbox.x_rate`), Slack's digest threshold, and the
 * brand's handle (`x.handle`) for the link to a sent reply; job kinds are
 * named by target ("x.reply", "ticket.post"). */
#include "desk/desk_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat/chat.h"
#include "core/backoff.h"
#include "core/log.h"
#include "core/text.h"
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

/* The scheduler looks again this soon (ms) after the store refused it. */
#define STORE_RETRY_MS 500

/* Where the "told the admins about the backlog" flag survives a restart,
 * so a restart in the middle of an outage does not tell them twice. */
#define BACKLOG_SCOPE "desk"
#define BACKLOG_KEY "outbox.backlog_told"

void outbox_init(struct desk *d)
{
    char *told = store_kv_get(d->store, BACKLOG_SCOPE, BACKLOG_KEY);
    uv_timer_init(d->loop, &d->outbox_timer);
    d->outbox_timer.data = d;
    d->backlog_told = told != NULL;
    free(told);
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

/* A wall clock that moves against the monotonic one by more than this
 * stepped (slewing by NTP stays far below it between two runs). */
#define CLOCK_STEP_MS 2000

/* The longest wait vigil ever gives a job: a backoff (capped by
 * outbox.max_backoff) or a service's Retry-After (capped here at an hour,
 * X's longest rate window being 15 minutes). */
static int64_t horizon_ms(struct desk *d)
{
    double s = d->cfg->outbox_max_backoff > 3600 ? d->cfg->outbox_max_backoff : 3600;
    return (int64_t)(s * 1000);
}

/* A job left "inflight" by a crash may or may not have happened.  Sending it
 * again is the safe side for chat (a duplicate message beats a lost ticket);
 * adapters that can check first (Slack metadata, X duplicate rejection) do. */
void outbox_recover(struct desk *d)
{
    int64_t requeued = store_job_count(d->store, "inflight"), clamped;
    int64_t now_ms = desk_now_ms(d);
    if (requeued > 0) {
        store_job_requeue_inflight(d->store, desk_now(d));
        log_warn("outbox jobs were in flight at the last stop; retrying them",
                 "jobs=%lld", (long long)requeued);
    }
    /* No wait vigil sets is longer than the horizon, so a job due later was
     * scheduled before the wall clock stepped back while vigil was down:
     * it is due now rather than frozen for as long as the step. */
    clamped = store_job_clamp_due(d->store, now_ms + horizon_ms(d), now_ms);
    if (clamped > 0)
        log_warn("outbox jobs were due further ahead than any wait vigil sets (the wall "
                 "clock went back?); they are due now", "jobs=%lld", (long long)clamped);
}

/* While running, the wall clock is compared with the monotonic one: a step
 * (NTP, `date -s`) moves every queued due time by as much, so a step back
 * of an hour does not freeze posting for an hour, nor a step forward fire
 * every retry at once. */
static void follow_wall_clock(struct desk *d)
{
    int64_t off = desk_now_ms(d) - desk_mono_ms(d), delta = off - d->clock_off;
    if (d->fixed_now)
        return;   /* a test's clock: both move together */
    if (d->clock_off_set && (delta > CLOCK_STEP_MS || delta < -CLOCK_STEP_MS)) {
        if (store_job_shift_due(d->store, delta) != STORE_OK)
            return;   /* logged by the store; try again next time */
        log_warn("the wall clock stepped; queued outbox jobs keep their waits",
                 "step=%llds", (long long)(delta / 1000));
    }
    d->clock_off = off;
    d->clock_off_set = 1;
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

/* --- a backlog nobody sees ---------------------------------------------- */

int64_t desk_outbox_waiting(struct desk *d)
{
    int64_t oldest = store_job_oldest(d->store, "");
    if (oldest <= 0)
        return oldest;
    return desk_now(d) > oldest ? desk_now(d) - oldest : 0;
}

/* Tells the admins, once per episode, that a job has waited longer than
 * outbox.alert_after, and again when the backlog clears.  When Slack itself
 * is down the notice waits in the queue too, so the log says it as well. */
static void check_backlog(struct desk *d)
{
    double limit = d->cfg->outbox_alert_after;
    int64_t age = desk_outbox_waiting(d);
    char text[300];

    if (limit <= 0 || age < 0)
        return;
    if (!d->backlog_told && age >= (int64_t)limit) {
        char *depths = store_job_depths(d->store);
        d->backlog_told = 1;
        store_kv_set(d->store, BACKLOG_SCOPE, BACKLOG_KEY, "1");
        log_error("outbox: messages have been waiting too long; nothing is lost, they are "
                  "retried", "oldest=%llds queued=%s", (long long)age, depths ? depths : "");
        snprintf(text, sizeof text, "vigil has had messages waiting for %lld min (Slack or X "
                 "keeps failing). Nothing is lost: they are retried and go out once the "
                 "service answers; :status shows the queue.", (long long)(age / 60));
        free(depths);
        if (d->cfg->channel_escalations)
            desk_post_channel(d, d->cfg->channel_escalations, text);
    } else if (d->backlog_told && age < (int64_t)limit) {
        d->backlog_told = 0;
        store_kv_del(d->store, BACKLOG_SCOPE, BACKLOG_KEY);
        log_info("outbox: the backlog has cleared", "oldest=%llds", (long long)age);
        if (d->cfg->channel_escalations)
            desk_post_channel(d, d->cfg->channel_escalations,
                              "vigil's backlog has cleared: what waited has been sent.");
    }
}

/* --- the ticket as chat shows it ---------------------------------------- */

struct view_buf {
    struct ticket t;
    struct store_details det;
    char url[160];
    struct ticket_view v;
};

static void view_clear(struct view_buf *b)
{
    store_ticket_clear(&b->t);
    store_details_clear(&b->det);
}

static int load_view(struct desk *d, int64_t id, struct view_buf *b)
{
    memset(&b->det, 0, sizeof b->det);
    memset(&b->v, 0, sizeof b->v);
    if (store_ticket_get(d->store, id, &b->t))
        return -1;
    desk_permalink(d, b->t.customer_handle, b->t.tweet_id, b->url, sizeof b->url);
    b->v.id = b->t.id;
    b->v.status = desk_ticket_status(&b->t);
    b->v.customer_handle = b->t.customer_handle;
    b->v.customer_name = b->t.customer_name;
    b->v.text = b->t.text;
    b->v.tweet_id = b->t.tweet_id;
    b->v.tweet_url = b->url;
    b->v.assignee_name = b->t.assignee ? desk_staff_name(d, b->t.assignee) : NULL;
    b->v.tags = b->t.tags;
    b->v.priority = b->t.priority;
    b->v.tweeted_at = b->t.tweeted_at ? b->t.tweeted_at : b->t.opened_at;
    b->v.sla_target = sla_running(&b->t, &b->v.sla_due_at);
    b->v.first_response_at = b->t.first_response_at;
    b->v.mentions = (int)store_ticket_mentions(d->store, b->t.id);
    b->v.injected = b->t.injected;
    if (store_ticket_details(d->store, &b->t, &b->det) == STORE_OK) {
        b->v.lang = b->det.lang;
        b->v.quote_text = b->det.quote_text;
        b->v.quote_author = b->det.quote_author;
        b->v.media = b->det.media;
        b->v.earlier = b->det.earlier;
    }
    return 0;
}

/* --- results ------------------------------------------------------------ */

struct done_ctx {
    struct desk *d;
    int slot;
    int64_t *digest;        /* a digest: every job it covers (the head included) */
    size_t ndigest;
    json_t *ping;           /* an alert line: who it notifies (desk_queue_alert); or NULL */
};

static const char *payload_str(json_t *p, const char *key)
{
    const char *v = json_string_value(json_object_get(p, key));
    return v ? v : "";
}

/* Shows how a public send went: its receipt line rewritten (head, then
 * `status`), or, for a job queued before receipts existed, a new line. */
static int report(struct desk *d, const struct ticket *t, json_t *payload, const char *status,
                  int resend)
{
    json_int_t line = json_integer_value(json_object_get(payload, "receipt"));
    char text[1400];
    if (line <= 0)
        return desk_queue_thread(d, t, status);
    snprintf(text, sizeof text, "%s\n%s", payload_str(payload, "head"), status);
    return desk_queue_receipt(d, t, line, text, resend);
}

/* The DM was confirmed: the public "check your DMs" note goes out now, as
 * the canned answer dm_notice with the customer's handle and a short code
 * that differs per DM (X refuses a text it already holds as a duplicate),
 * from whoever sent the DM.  Without a usable dm_notice nothing public goes
 * out and the thread says why. */
static int dm_notice(struct desk *d, struct ticket *t, const struct job *j, json_t *payload)
{
    char *tpl = store_canned_get(d->store, "dm_notice"), code[16], num[24], handle[80];
    char bad[64] = "", err[300], line[400], *text = NULL;
    const char *const keys[] = { "{handle}", "{name}", "{ticket}", "{code}" };
    const char *vals[4];
    const char *by = payload_str(payload, "by");
    int rc;

    /* {code} differs per DM, so X never refuses a notice as a duplicate of
     * the last one; a lead replaces the wording with canned add dm_notice */
    if (!tpl)
        tpl = strdup("{handle} we've sent you a DM (ref {code}), please check your messages.");
    if (!tpl)
        return -1;
    /* a short code that differs per DM: the job id, scrambled, in base 36 */
    {
        uint32_t x = (uint32_t)j->id * 2654435761u;
        size_t n = 0;
        char rev[8];
        for (int i = 0; i < 4; i++, x /= 36)
            rev[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[x % 36];
        for (size_t i = 0; i < n; i++)
            code[i] = rev[n - 1 - i];
        code[n] = '\0';
    }
    snprintf(num, sizeof num, "%lld", (long long)t->id);
    snprintf(handle, sizeof handle, "@%s", t->customer_handle ? t->customer_handle : "");
    vals[0] = handle;
    vals[1] = t->customer_name && *t->customer_name ? t->customer_name : handle;
    vals[2] = num;
    vals[3] = code;
    text = text_fill(tpl, keys, vals, 4, bad, sizeof bad);
    free(tpl);
    if (!text) {
        if (!bad[0])
            return -1;
        snprintf(line, sizeof line, "No public note was sent: the canned answer dm_notice has "
                 "%s, which vigil cannot fill ({handle}, {name}, {ticket}, {code} work).", bad);
        return desk_queue_thread(d, t, line);
    }
    /* the DM's follow-up, not a new answer: past the collision guard */
    rc = desk_reply_as(d, *by ? by : "system", t->id, text, DESK_REPLY_FORCE, err, sizeof err);
    free(text);
    if (rc == DESK_INVALID || rc == DESK_NOTFOUND) {
        snprintf(line, sizeof line, "No public note was sent: %s", err);
        return desk_queue_thread(d, t, line);
    }
    return rc == DESK_OK ? 0 : -1;
}

static int unsend_result(struct desk *d, struct ticket *t, json_t *payload,
                         const struct send_result *r, int final_failure, int64_t now);

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
    } else if (strcmp(j->kind, "x.delete") == 0) {
        rc = unsend_result(d, &t, payload, r, final_failure, now);
    } else if (strcmp(j->kind, "x.reply") == 0 && r->status == SEND_OK) {
        if (r->ref && *r->ref) {
            char url[160];
            desk_permalink(d, d->cfg->x.handle, r->ref, url, sizeof url);
            snprintf(line, sizeof line, "Reply sent: %s", url);
        } else   /* a retry found X already had it: sent once, link unknown */
            snprintf(line, sizeof line, "Reply sent (X confirmed it was already posted).");
        rc = store_event_append(d->store, t.id, "system", "reply sent", r->ref, now) ||
             report(d, &t, payload, line, 0);
        /* The first response is when X confirmed one, not when it was queued:
         * a reply that never goes out must not stop the SLA clock. */
        if (!rc && sla_answered(&t, now, j->created_at))
            rc = store_ticket_update(d->store, &t) || desk_queue_update(d, &t);
    } else if (strcmp(j->kind, "x.dm") == 0 && r->status == SEND_OK) {
        rc = store_event_append(d->store, t.id, "system", "dm sent", r->ref, now) ||
             report(d, &t, payload, "DM delivered.", 0) ||
             (json_is_true(json_object_get(payload, "notice")) && dm_notice(d, &t, j, payload));
    } else if (!final_failure && strncmp(j->kind, "x.", 2) == 0 &&
               (r->status == SEND_RETRY || r->status == SEND_BLOCKED) &&
               json_integer_value(json_object_get(payload, "receipt")) > 0) {
        /* X fails for now: the receipt says so, and when it tries next */
        struct job now_j;
        char when[32] = "soon";
        if (store_job_get(d->store, j->id, &now_j) == STORE_OK) {
            time_t at = (time_t)(now_j.next_at_ms / 1000);
            struct tm tm;
            gmtime_r(&at, &tm);
            strftime(when, sizeof when, "%H:%M:%S UTC", &tm);
        }
        store_job_clear(&now_j);
        snprintf(line, sizeof line, "Not sent yet: %s. Trying again at %s.",
                 r->error ? r->error : "X did not answer", when);
        rc = report(d, &t, payload, line, 0);
    } else if (final_failure) {
        const char *what = strcmp(j->kind, "x.reply") == 0 ? "The reply"
                         : strcmp(j->kind, "x.dm") == 0 ? "The DM" : "A chat message";
        snprintf(line, sizeof line, "%s could not be sent: %s%s%s", what,
                 r->error ? r->error : "unknown error",
                 strncmp(j->kind, "x.", 2) == 0 ? " — text: " : "",
                 strncmp(j->kind, "x.", 2) == 0 ? payload_str(payload, "text") : "");
        rc = store_event_append(d->store, t.id, "system", "send failed", line, now);
        /* A failed chat post cannot be reported in its own thread. */
        if (!rc && strncmp(j->kind, "x.", 2) == 0) {
            size_t n = strlen(line);
            snprintf(line + n, sizeof line - n, "\nResend it: /tw resend %lld [new text]%s",
                     (long long)t.id, strcmp(j->kind, "x.dm") == 0
                     ? ". If they do not accept DMs, ask them to DM us: /tw canned "
                       "<ticket> dm_ask" : "");
            rc = report(d, &t, payload, line, 1);
        }
    }
    store_ticket_clear(&t);
    return rc ? -1 : 0;
}

/* Records the outcome of one job (state, retry time, effects on its
 * ticket) in one transaction.  Returns 0 when recorded (or when there is
 * nothing left to record), -1 when the store refused: the caller keeps the
 * outcome and calls again. */
static int record_outcome(struct desk *d, int64_t job_id, const struct send_result *r,
                          int digest, double blocked_delay)
{
    struct job j;
    json_t *payload = NULL;
    int64_t now_ms = desk_now_ms(d);
    int final_failure = 0, rc = -1, set;

    set = store_job_get(d->store, job_id, &j);
    if (set == STORE_NOTFOUND) {
        log_error("outbox job vanished while in flight", "job=%lld", (long long)job_id);
        rc = 0;
        goto out;
    }
    if (set != STORE_OK)
        goto out;
    payload = json_loads(j.payload ? j.payload : "{}", 0, NULL);
    if (store_begin(d->store))
        goto out;
    if (r->status == SEND_OK) {
        set = store_job_set_state(d->store, j.id, "done", j.attempts, j.next_at_ms, r->ref,
                                  NULL, now_ms / 1000);
        log_debug("outbox job done", "job=%lld kind=%s target=%s ref=%s", (long long)j.id,
                  j.kind, j.target, r->ref ? r->ref : "");
    } else if (r->status == SEND_BLOCKED) {
        /* Not the job's fault: the attempt is given back, and it waits (the
         * target's queue behind it) for the channel to be fixed. */
        set = store_job_set_state(d->store, j.id, "queued", j.attempts > 0 ? j.attempts - 1 : 0,
                                  now_ms + (int64_t)(blocked_delay * 1000), NULL, r->error,
                                  now_ms / 1000);
        log_debug("outbox: channel refuses posts; job waits", "job=%lld target=%s "
                  "retry_in=%.1fs error=%s", (long long)j.id, j.target, blocked_delay,
                  r->error ? r->error : "");
    } else if (r->status == SEND_RETRY &&
               (strncmp(j.target, "chat:", 5) == 0 || j.attempts < d->cfg->outbox_max_attempts)) {
        /* What the team sees never gives up on a transient failure: Slack
         * down for an hour must not lose the tickets that came meanwhile.
         * The backoff is capped (outbox.max_backoff), so it catches up
         * within minutes once Slack is back; attempts survive a restart. */
        double delay = r->retry_after > 0 ? r->retry_after
                     : backoff_delay(j.attempts, 1.0, d->cfg->outbox_max_backoff);
        if (delay * 1000 > (double)horizon_ms(d))
            delay = (double)horizon_ms(d) / 1000;
        set = store_job_set_state(d->store, j.id, "queued", j.attempts,
                                  now_ms + (int64_t)(delay * 1000), NULL, r->error,
                                  now_ms / 1000);
        log_warn("outbox send failed; will retry", "job=%lld kind=%s target=%s attempt=%d "
                 "retry_in=%.1fs error=%s", (long long)j.id, j.kind, j.target, j.attempts,
                 delay, r->error ? r->error : "");
    } else {
        final_failure = 1;
        set = store_job_set_state(d->store, j.id, "failed", j.attempts, j.next_at_ms, NULL,
                                  r->error ? r->error : "failed", now_ms / 1000);
        log_error("outbox send failed permanently", "job=%lld kind=%s target=%s attempts=%d "
                  "error=%s", (long long)j.id, j.kind, j.target, j.attempts,
                  r->error ? r->error : "");
    }
    if (set || apply_result(d, &j, payload, r, final_failure, digest) ||
        store_commit(d->store)) {
        store_rollback(d->store);
        goto out;
    }
    rc = 0;
    desk_notify(d, DESK_EV_JOB, j.ticket_id, j.kind,
                r->status == SEND_OK ? "ok" : final_failure ? "failed"
                : r->status == SEND_BLOCKED ? "blocked" : "retry");
out:
    json_decref(payload);
    store_job_clear(&j);
    return rc;
}

static void outcome_free(struct inflight *f)
{
    free(f->ref);
    free(f->error);
    free(f->jobs);
    f->ref = f->error = NULL;
    f->jobs = NULL;
    f->njobs = 0;
    f->unrecorded = 0;
}

/* Records the slot's kept outcome for every job still waiting for it;
 * returns how many still wait. */
static size_t record_kept(struct desk *d, struct inflight *f)
{
    struct send_result r = { f->status, f->ref, f->error, f->retry_after };
    size_t left = 0;
    for (size_t i = 0; i < f->njobs; i++)
        if (record_outcome(d, f->jobs[i], &r, f->digest, f->blocked_delay))
            f->jobs[left++] = f->jobs[i];
    f->njobs = left;
    return left;
}

/* Retries the outcomes the store refused (from the scheduler): 0.2 s, then
 * doubling up to 5 s.  `wake_in`: ms until the scheduler must run again,
 * -1 for none; lowered to the next retry of a kept outcome. */
static void retry_kept(struct desk *d, int64_t *wake_in)
{
    int64_t now_ms = desk_now_ms(d);
    for (int i = 0; i < DESK_MAX_TARGETS; i++) {
        struct inflight *f = &d->inflight[i];
        if (!f->used || !f->unrecorded)
            continue;
        if (f->retry_at_ms <= now_ms && record_kept(d, f) == 0) {
            log_info("outbox: a kept outcome is recorded; the target's queue goes on",
                     "job=%lld target=%s tries=%d", (long long)f->job_id, f->target,
                     f->retries + 1);
            outcome_free(f);
            f->used = 0;
            continue;
        }
        if (f->retry_at_ms <= now_ms)
            f->retry_at_ms = now_ms + (int64_t)(backoff_delay(++f->retries, 0.2, 5.0) * 1000);
        if (*wake_in < 0 || f->retry_at_ms - now_ms < *wake_in)
            *wake_in = f->retry_at_ms > now_ms ? f->retry_at_ms - now_ms : 0;
    }
}

void outbox_forget(struct desk *d)
{
    for (int i = 0; i < DESK_MAX_TARGETS; i++) {
        struct inflight *f = &d->inflight[i];
        if (!f->unrecorded)
            continue;
        log_error("outbox: stopping with an outcome the store never took; the job stays in "
                  "flight and runs again at the next start", "job=%lld target=%s",
                  (long long)f->job_id, f->target);
        outcome_free(f);
    }
}

/* A job is over.  `called` says whether it reached the service: then the
 * target's rate interval restarts now, not from when the job started,
 * because a job may make several calls (a lookup before a post), and a
 * limit counted from its start let the next post follow the last call by
 * less than the interval: the bench's storm provoked a 429 that way, and
 * every retry then provoked the next. */
static void end_job(struct done_ctx *ctx, const struct send_result *r, int called)
{
    struct desk *d = ctx->d;
    struct inflight *f = &d->inflight[ctx->slot];
    double blocked_delay = 0;

    if (called)
        *last_sent(d, f->target) = desk_mono_ms(d);
    if (r->status == SEND_BLOCKED)
        blocked_delay = blocked_begin(d, f->target, r);
    else if (r->status == SEND_OK && called)
        blocked_end(d, f->target);

    f->jobs = ctx->digest;
    f->njobs = ctx->digest ? ctx->ndigest : 1;
    if (!f->jobs)
        f->jobs = malloc(sizeof *f->jobs);
    if (!f->jobs) {
        f->njobs = 0;   /* out of memory: the job stays in flight until restart */
        log_error("outbox: out of memory recording an outcome", "job=%lld",
                  (long long)f->job_id);
    } else if (!ctx->digest) {
        f->jobs[0] = f->job_id;
    }
    f->status = r->status;
    f->ref = r->ref ? strdup(r->ref) : NULL;
    f->error = r->error ? strdup(r->error) : NULL;
    f->retry_after = r->retry_after;
    f->blocked_delay = blocked_delay;
    f->digest = ctx->digest != NULL;
    json_decref(ctx->ping);
    free(ctx);
    if (f->njobs && record_kept(d, f)) {
        /* What happened happened: the send is not repeated, its outcome is
         * kept (and the target's queue waits) until the store takes it. */
        f->unrecorded = 1;
        f->retries = 0;
        f->retry_at_ms = desk_now_ms(d) + 200;
        log_error("outbox: the store refused a job's outcome; keeping it in memory and "
                  "retrying; the job will not run again meanwhile", "job=%lld target=%s "
                  "status=%d error=%s", (long long)f->job_id, f->target, (int)r->status,
                  store_busy(d->store) ? "database is busy" : "see above");
        if (d->started && !d->stopping)
            uv_timer_start(&d->outbox_timer, on_timer, 200, 0);
        return;
    }
    outcome_free(f);
    f->used = 0;
    desk_outbox_kick_later(d);
}

static void on_done(void *arg, const struct send_result *r)
{
    end_job(arg, r, 1);
}

static void skip(void *arg, const char *why)
{
    struct send_result r = { SEND_OK, why, NULL, 0 };
    end_job(arg, &r, 0);
}

static void fail_now(void *arg, const char *why)
{
    struct send_result r = { SEND_FAIL, NULL, why, 0 };
    end_job(arg, &r, 0);
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

/* Posts a line for the job in flight in ctx's slot, marked with the job's
 * id where the chat can (post_line), so that a retry after a crash can
 * look for it: under `thread`, or in the channel when NULL. */
static void send_line(struct done_ctx *ctx, const char *channel, const char *thread,
                      const char *text, send_done_fn done, void *arg)
{
    struct chat *chat = ctx->d->chat;
    struct chat_ping ping[CHAT_MAX_PINGS];
    size_t nping = 0, i;
    json_t *p;

    json_array_foreach(ctx->ping, i, p) {   /* a JSON NULL loops zero times */
        const char *id = json_string_value(json_object_get(p, "id"));
        if (id && nping < CHAT_MAX_PINGS) {
            ping[nping].id = id;
            ping[nping++].name = json_string_value(json_object_get(p, "name"));
        }
    }
    if (nping && chat->ops->post_alert)
        chat->ops->post_alert(chat, channel, thread, ping, nping, text,
                              ctx->d->inflight[ctx->slot].job_id, done, arg);
    else if (chat->ops->post_line)
        chat->ops->post_line(chat, channel, thread, text, ctx->d->inflight[ctx->slot].job_id,
                             done, arg);
    else if (thread)
        chat->ops->post_thread(chat, channel, thread, text, done, arg);
    else
        chat->ops->post_channel(chat, channel, text, done, arg);
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
        view_clear(&vb);
    }
    free(f);
}

/* --- thread lines and channel posts, exactly once -------------------------
 * A line whose earlier attempt may have landed (a crash or a timeout) is
 * looked for first, as a ticket post is: found, its ts is the job's result
 * and nothing is posted again. */

struct repost;
static void on_maybe_gone(void *arg, const struct send_result *r);
static void repost_free(struct repost *rp);

struct find_line {
    struct done_ctx *ctx;
    struct repost *rp;       /* a thread line: handles a deleted ticket message; or NULL */
    int attempts;
    char channel[64];
    char *thread;            /* NULL: a channel post */
    char *text;
};

static void find_line_free(struct find_line *fl)
{
    free(fl->thread);
    free(fl->text);
    free(fl);
}

static void line_now(struct find_line *fl)
{
    if (fl->rp)
        send_line(fl->ctx, fl->channel, fl->thread, fl->text, on_maybe_gone, fl->rp);
    else
        send_line(fl->ctx, fl->channel, fl->thread, fl->text, on_done, fl->ctx);
}

static void on_line_found(void *arg, const struct send_result *r)
{
    struct find_line *fl = arg;
    if (r->status == SEND_OK ||
        (r->status != SEND_FAIL && !lookup_gave_up(fl->ctx->d, fl->attempts, r))) {
        if (fl->rp)
            repost_free(fl->rp);
        on_done(fl->ctx, r);
    } else {
        line_now(fl);
    }
    find_line_free(fl);
}

/* Posts `text` for job `j`, after a lookup when an earlier attempt may
 * have landed.  Takes `rp` (may be NULL). */
static void line_for_job(struct done_ctx *ctx, const struct job *j, const char *channel,
                         const char *thread, const char *text, struct repost *rp)
{
    struct chat *chat = ctx->d->chat;
    struct find_line *fl = calloc(1, sizeof *fl);

    if (fl) {
        fl->text = strdup(text);
        fl->thread = thread ? strdup(thread) : NULL;
    }
    if (!fl || !fl->text || (thread && !fl->thread)) {
        if (fl)
            find_line_free(fl);
        if (rp)
            repost_free(rp);
        on_done(ctx, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
        return;
    }
    fl->ctx = ctx;
    fl->rp = rp;
    fl->attempts = j->attempts;
    snprintf(fl->channel, sizeof fl->channel, "%s", channel);
    if (j->attempts > 1 && chat->ops->find_line && chat->ops->post_line) {
        chat->ops->find_line(chat, channel, thread, j->id, lookup_oldest(j), on_line_found, fl);
        return;
    }
    line_now(fl);
    find_line_free(fl);
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
        send_line(rp->ctx, rp->channel, r->ref, rp->text, on_done, rp->ctx);
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
    view_clear(&vb);
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
    rp->text = text ? strdup(text) : NULL;
    if (text && !rp->text) {
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
        send_line(t->ctx, t->channel, r->ref, t->text, on_done, t->ctx);
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
        else if (strcmp(j->kind, "x.delete") == 0 && src->ops->delete_post)
            src->ops->delete_post(src, payload_str(p, "id"), j->attempts, on_done, ctx);
        else if (strcmp(j->kind, "x.delete") == 0)
            fail_now(ctx, "this source cannot delete posts");
        else
            src->ops->send_dm(src, payload_str(p, "to"), payload_str(p, "text"), j->attempts,
                              on_done, ctx);
        goto out;
    }
    if (strcmp(j->kind, "channel.post") == 0) {
        ctx->ping = json_incref(json_object_get(p, "ping"));   /* an SLA escalation */
        line_for_job(ctx, j, payload_str(p, "channel"), NULL, payload_str(p, "text"), NULL);
        goto out;
    }
    if (load_view(d, j->ticket_id, &vb)) {
        fail_now(ctx, "ticket not found");
        goto out;
    }
    if (strcmp(j->kind, "ticket.post") == 0) {
        struct find_then_post *f = NULL;
        if (!vb.t.chat_ref && j->attempts > 1 && chat->ops->find_ticket)
            f = calloc(1, sizeof *f);
        if (vb.t.chat_ref) {
            skip(ctx, vb.t.chat_ref);   /* already shown: never post a ticket twice */
        } else if (f) {
            f->ctx = ctx;
            f->ticket = j->ticket_id;
            f->attempts = j->attempts;
            snprintf(f->channel, sizeof f->channel, "%s", channel);
            chat->ops->find_ticket(chat, channel, j->ticket_id, lookup_oldest(j), on_found, f);
        } else {
            chat->ops->post_ticket(chat, channel, &vb.v, on_done, ctx);
        }
    } else if (strcmp(j->kind, "ticket.update") == 0) {
        struct repost *rp = vb.t.chat_ref ? repost_new(ctx, j, NULL) : NULL;
        if (!vb.t.chat_ref)
            skip(ctx, "no ticket message to update");
        else if (rp)
            chat->ops->update_ticket(chat, channel, vb.t.chat_ref, &vb.v, on_maybe_gone, rp);
        else
            on_done(ctx, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
    } else if (strcmp(j->kind, "ticket.thread") == 0) {
        struct then_thread *tt = NULL;
        struct repost *rp = NULL;
        ctx->ping = json_incref(json_object_get(p, "ping"));   /* an alert (sla.c) */
        if (!vb.t.chat_ref && vb.t.chat_digest)
            tt = calloc(1, sizeof *tt);
        else if (vb.t.chat_ref)
            rp = repost_new(ctx, j, payload_str(p, "text"));
        if (tt) {
            tt->ctx = ctx;
            tt->ticket = j->ticket_id;
            snprintf(tt->channel, sizeof tt->channel, "%s", channel);
            tt->text = strdup(payload_str(p, "text"));
            chat->ops->post_ticket(chat, channel, &vb.v, on_own_post, tt);
        } else if (rp) {
            line_for_job(ctx, j, channel, vb.t.chat_ref, payload_str(p, "text"), rp);
        } else if (vb.t.chat_ref) {
            on_done(ctx, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
        } else {
            /* The ticket message never made it: keep the line visible anyway. */
            char line[1200];
            snprintf(line, sizeof line, "#%lld: %s", (long long)j->ticket_id,
                     payload_str(p, "text"));
            line_for_job(ctx, j, channel, NULL, line, NULL);
        }
    } else if (strcmp(j->kind, "receipt.update") == 0) {
        struct job line;
        char id[24];
        int rc = store_job_get(d->store, json_integer_value(json_object_get(p, "line")), &line);
        snprintf(id, sizeof id, "%lld", (long long)j->ticket_id);
        const char *button = json_string_value(json_object_get(p, "button"));
        if (rc == STORE_OK && strcmp(line.state, "done") == 0 && line.result && *line.result &&
            button && chat->ops->update_line_button)
            chat->ops->update_line_button(chat, channel, line.result, payload_str(p, "text"),
                                          button, id, on_done, ctx);
        else if (rc == STORE_OK && strcmp(line.state, "done") == 0 && line.result &&
                 *line.result && chat->ops->update_line)
            chat->ops->update_line(chat, channel, line.result, payload_str(p, "text"),
                                   json_is_true(json_object_get(p, "resend")) ? id : NULL,
                                   on_done, ctx);
        else if (rc == STORE_OK && (strcmp(line.state, "queued") == 0 ||
                                    strcmp(line.state, "inflight") == 0))
            on_done(ctx, &(struct send_result){ SEND_RETRY, NULL, "the receipt line is not "
                                                "posted yet", 0 });
        else if (vb.t.chat_ref)   /* no line to rewrite: say it in a new one */
            chat->ops->post_thread(chat, channel, vb.t.chat_ref, payload_str(p, "text"),
                                   on_done, ctx);
        else
            fail_now(ctx, "the ticket has no message in chat");
        store_job_clear(&line);
    } else {
        fail_now(ctx, "unknown job kind");
    }
    view_clear(&vb);
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
        view_clear(&vb[i]);
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

static void run_due_jobs(struct desk *d)
{
    const char *busy[2 * DESK_MAX_TARGETS];
    int64_t wake_in = -1;    /* ms until the next run, -1 = none needed */

    if (!d->chat || !d->source)
        return;
    follow_wall_clock(d);
    retry_kept(d, &wake_in);
    for (int guard = 0; guard < 1000 && !d->stopping; guard++) {
        /* due times are wall time (stored); rate intervals are monotonic */
        int64_t now_ms = desk_now_ms(d), mono = desk_mono_ms(d), next_ms = 0;
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
                if (ready > mono) {
                    busy[nbusy++] = d->rate[i].target;
                    if (wake_in < 0 || ready - mono < wake_in)
                        wake_in = ready - mono;
                }
            }
        }
        rc = store_job_next(d->store, now_ms, busy, nbusy, &j, &next_ms);
        if (rc == STORE_ERR)   /* a lock or a failing disk: look again soon, never stall */
            next_ms = now_ms + STORE_RETRY_MS;
        if (rc != STORE_OK) {
            if (next_ms && (wake_in < 0 || next_ms - now_ms < wake_in))
                wake_in = next_ms - now_ms;
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
            if (wake_in < 0 || STORE_RETRY_MS < wake_in)
                wake_in = STORE_RETRY_MS;
            break;
        }
        j.attempts++;
        *last_sent(d, j.target) = mono;
        d->inflight[slot].used = 1;
        d->inflight[slot].job_id = j.id;
        d->inflight[slot].d = d;
        snprintf(d->inflight[slot].target, sizeof d->inflight[slot].target, "%s", j.target);
        ctx = calloc(1, sizeof *ctx);
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
    check_backlog(d);
    if (wake_in >= 0 && !d->stopping)
        uv_timer_start(&d->outbox_timer, on_timer, wake_in > 0 ? (uint64_t)wake_in : 1, 0);
}

static void on_timer(uv_timer_t *t)
{
    run_due_jobs(t->data);
}

void desk_outbox_kick(struct desk *d)
{
    run_due_jobs(d);
}

/* --- issue 18: the undo window ------------------------------------------- */

/* A public send waits as a job due reply.hold seconds from now: the wait
 * is in the store, so a restart during it neither loses the send nor sends
 * it twice, and the scheduler needs no timer of its own.  Its target's
 * later jobs wait behind it (the order of replies is kept), at most as long. */
int outbox_hold(struct desk *d, const struct ticket *t, int64_t job, int64_t line,
                const char *text)
{
    int64_t now_ms = desk_now_ms(d);
    char with_cmd[1100];

    if (store_job_set_state(d->store, job, "queued", 0,
                            now_ms + (int64_t)(d->cfg->reply_hold * 1000), NULL, NULL,
                            now_ms / 1000))
        return DESK_ERR;
    /* the typed command too: a chat without buttons (the console) */
    snprintf(with_cmd, sizeof with_cmd, "%s Undo: %s undo %lld", text, d->cfg->command,
             (long long)t->id);
    return desk_queue_receipt_button(d, t, line, with_cmd, 0, "undo");
}

/* Why the ticket's last send cannot be undone any more, in `err`. */
static int too_late(struct desk *d, const struct ticket *t, char *err, size_t errlen)
{
    int64_t inflight = store_job_last_in(d->store, t->id, "x.", "inflight");
    int64_t sent = store_job_last_in(d->store, t->id, "x.reply", "done");
    int64_t dm = store_job_last_in(d->store, t->id, "x.dm", "done");

    if (inflight < 0 || sent < 0 || dm < 0)
        return DESK_ERR;
    if (inflight > 0)
        snprintf(err, errlen, "Too late to undo: #%lld's send is on its way to X right now. "
                 "Once it is sent, %s unsend %lld takes a public reply back.",
                 (long long)t->id, d->cfg->command, (long long)t->id);
    else if (sent > 0 && sent > dm)
        snprintf(err, errlen, "Too late to undo: #%lld's reply was already sent. To take it "
                 "back: %s unsend %lld", (long long)t->id, d->cfg->command, (long long)t->id);
    else if (dm > 0)
        snprintf(err, errlen, "Too late to undo: #%lld's DM was already delivered.",
                 (long long)t->id);
    else
        snprintf(err, errlen, "#%lld has no reply or DM waiting to be sent.", (long long)t->id);
    return DESK_INVALID;
}

int outbox_undo(struct desk *d, struct ticket *t, const char *actor, char *err, size_t errlen,
                int64_t now)
{
    int64_t id = store_job_last_in(d->store, t->id, "x.", "queued");
    struct job j;
    json_t *p = NULL;
    char line[1200], detail[900], why[160];
    int rc = DESK_ERR, is_dm;

    memset(&j, 0, sizeof j);
    if (id < 0 || (id > 0 && store_job_get(d->store, id, &j)))
        return DESK_ERR;
    /* a send that was tried once may be on X already: only an untried one
     * is sure to have reached no one */
    if (id == 0 || j.attempts > 0 ||
        (strcmp(j.kind, "x.reply") != 0 && strcmp(j.kind, "x.dm") != 0)) {
        store_job_clear(&j);
        return too_late(d, t, err, errlen);
    }
    is_dm = strcmp(j.kind, "x.dm") == 0;
    p = json_loads(j.payload ? j.payload : "{}", 0, NULL);
    snprintf(why, sizeof why, "undone by %s", desk_staff_name(d, actor));
    if (!p || store_job_set_state(d->store, j.id, "cancelled", 0, j.next_at_ms, NULL, why,
                                  now))
        goto out;
    if (json_integer_value(json_object_get(p, "receipt")) > 0) {
        snprintf(line, sizeof line, "%s\nUndone by %s: nothing was sent.",
                 payload_str(p, "head"), desk_staff_name(d, actor));
        if (desk_queue_receipt(d, t, json_integer_value(json_object_get(p, "receipt")), line, 0))
            goto out;
    }
    snprintf(detail, sizeof detail, "%s (job %lld): %s", is_dm ? "dm" : "reply",
             (long long)j.id, payload_str(p, "text"));
    rc = desk_record_change(d, t, actor, "undo", detail, NULL, now);
    if (rc == DESK_OK)
        snprintf(err, errlen, "%s", is_dm ? "dm" : "reply");
out:
    json_decref(p);
    store_job_clear(&j);
    return rc;
}

/* --- issue 18: unsend --------------------------------------------------- */

/* The receipt of reply job `reply` rewritten to its head and `status`. */
static int reply_receipt(struct desk *d, const struct ticket *t, int64_t reply,
                         const char *status)
{
    struct job j;
    json_t *p;
    char text[1400];
    int rc = 0;

    if (store_job_get(d->store, reply, &j))
        return 0;   /* the reply's job is gone: the thread line below says it */
    p = json_loads(j.payload ? j.payload : "{}", 0, NULL);
    if (p && json_integer_value(json_object_get(p, "receipt")) > 0) {
        snprintf(text, sizeof text, "%s\n%s", payload_str(p, "head"), status);
        rc = desk_queue_receipt(d, t, json_integer_value(json_object_get(p, "receipt")), text,
                                0);
    }
    json_decref(p);
    store_job_clear(&j);
    return rc;
}

int outbox_unsend(struct desk *d, struct ticket *t, const char *actor, char *err, size_t errlen,
                  int64_t now)
{
    const struct staff *s = config_staff(d->cfg, actor);
    int64_t id = store_job_last_in(d->store, t->id, "x.reply", "done"), del;
    struct job j, prior;
    json_t *p = NULL;
    const char *by;
    char url[160], status[400], detail[300], *dump = NULL;
    int rc = DESK_ERR;

    memset(&j, 0, sizeof j);
    memset(&prior, 0, sizeof prior);
    if (id < 0 || (id > 0 && store_job_get(d->store, id, &j)))
        return DESK_ERR;
    if (id == 0) {
        snprintf(err, errlen, "#%lld has no public reply on X to delete.", (long long)t->id);
        return DESK_INVALID;
    }
    p = json_loads(j.payload ? j.payload : "{}", 0, NULL);
    if (!p)
        goto out;
    by = payload_str(p, "by");
    rc = DESK_INVALID;
    if (!(s && s->role >= ROLE_LEAD) && strcmp(by, actor) != 0) {
        snprintf(err, errlen, "Only a lead or the reply's author%s%s%s can delete #%lld's reply.",
                 *by ? " (" : "", *by ? desk_staff_name(d, by) : "", *by ? ")" : "",
                 (long long)t->id);
        goto out;
    }
    if (!j.result || !*j.result) {
        snprintf(err, errlen, "#%lld's last reply went out, but X never told vigil its id: "
                 "delete it on X by hand.", (long long)t->id);
        goto out;
    }
    del = json_integer_value(json_object_get(p, "unsend"));
    if (del > 0 && store_job_get(d->store, del, &prior) == STORE_OK &&
        strcmp(prior.state, "failed") != 0) {
        snprintf(err, errlen, strcmp(prior.state, "done") == 0
                 ? "#%lld's last reply was already deleted from X."
                 : "#%lld's last reply is being deleted from X already.", (long long)t->id);
        goto out;
    }
    rc = DESK_ERR;
    del = desk_queue_job(d, "x.delete", "x:tweets", t->id,
                         json_pack("{s:s,s:I,s:s}", "id", j.result, "reply", (json_int_t)id,
                                   "by", actor));
    if (del < 0)
        goto out;
    json_object_set_new(p, "unsend", json_integer(del));
    dump = json_dumps(p, JSON_COMPACT);
    desk_permalink(d, d->cfg->x.handle, j.result, url, sizeof url);
    snprintf(status, sizeof status, "Reply sent: %s\nDeleting it from X (asked by %s).", url,
             desk_staff_name(d, actor));
    snprintf(detail, sizeof detail, "reply %s (job %lld)", j.result, (long long)j.id);
    if (!dump || store_job_set_payload(d->store, j.id, dump) ||
        reply_receipt(d, t, j.id, status) ||
        desk_record_change(d, t, actor, "unsend", detail, NULL, now))
        goto out;
    snprintf(err, errlen, "%s", url);
    rc = DESK_OK;
out:
    free(dump);
    json_decref(p);
    store_job_clear(&prior);
    store_job_clear(&j);
    return rc;
}

/* How a delete went: the reply's receipt says it (and the thread, when it
 * failed, so the one who asked hears why).  Retries stay quiet. */
static int unsend_result(struct desk *d, struct ticket *t, json_t *payload,
                         const struct send_result *r, int final_failure, int64_t now)
{
    const char *who = desk_staff_name(d, payload_str(payload, "by"));
    int64_t reply = json_integer_value(json_object_get(payload, "reply"));
    char status[600], url[160];

    if (r->status == SEND_OK) {
        snprintf(status, sizeof status, "Deleted from X by %s.", who);
        return store_event_append(d->store, t->id, "system", "reply deleted",
                                  payload_str(payload, "id"), now) ||
               reply_receipt(d, t, reply, status) ? -1 : 0;
    }
    if (!final_failure)
        return 0;
    desk_permalink(d, d->cfg->x.handle, payload_str(payload, "id"), url, sizeof url);
    snprintf(status, sizeof status, "Reply sent: %s\nCould not delete it from X: %s", url,
             r->error ? r->error : "unknown error");
    {
        char line[800];
        snprintf(line, sizeof line, "The reply %s could not be deleted from X (asked by %s): %s",
                 url, who, r->error ? r->error : "unknown error");
        return store_event_append(d->store, t->id, "system", "unsend failed", r->error, now) ||
               reply_receipt(d, t, reply, status) || desk_queue_thread(d, t, line) ? -1 : 0;
    }
}

/* --- issue 18: the collision guard ---------------------------------------- */

int outbox_collision(struct desk *d, const struct ticket *t, const char *actor, int64_t now,
                     char *why, size_t len)
{
    double window = d->cfg->reply_collision_window;
    struct event *ev, *last = NULL;
    size_t n = 0;
    const char *text;
    char ex[200];

    if (window <= 0)
        return 0;   /* the guard is off */
    if (t->assignee && strcmp(t->assignee, actor) != 0) {
        snprintf(why, len, "#%lld is assigned to %s", (long long)t->id,
                 desk_staff_name(d, t->assignee));
        return 1;
    }
    ev = store_events_of(d->store, t->id, &n);
    for (size_t i = 0; i < n; i++) {
        const struct event *e = &ev[i];
        if (!e->actor || !e->action || strcmp(e->actor, actor) == 0 ||
            !config_staff(d->cfg, e->actor))
            continue;   /* mine, or vigil's own */
        if (strcmp(e->action, "reply") == 0 || strcmp(e->action, "reply held") == 0 ||
            strcmp(e->action, "draft") == 0)
            last = e->at >= now - (int64_t)window ? &ev[i] : last;
        else if (strcmp(e->action, "undo") == 0 && last && strcmp(last->actor, e->actor) == 0)
            last = NULL;   /* they took it back */
    }
    if (last) {
        /* the detail is "to @ann in reply to 123: <text>" */
        text = last->detail && strstr(last->detail, ": ") ? strstr(last->detail, ": ") + 2 : "";
        text_excerpt(text, ex, sizeof ex);
        snprintf(why, len, "%s %s #%lld %llds ago: \"%s\"", desk_staff_name(d, last->actor),
                 strcmp(last->action, "reply") == 0 ? "replied to"
                 : strcmp(last->action, "draft") == 0 ? "drafted a reply to"
                 : "has a held reply to",
                 (long long)t->id, (long long)(now - last->at), ex);
    }
    store_events_free(ev, n);
    return last != NULL;
}

int outbox_park(struct desk *d, const struct ticket *t, int64_t job, int64_t line,
                const char *text, int draft)
{
    char with_cmd[1500];
    int64_t now_ms = desk_now_ms(d);

    if (store_job_set_state(d->store, job, draft ? "draft" : "held", 0, now_ms, NULL, NULL,
                            now_ms / 1000))
        return DESK_ERR;
    if (draft)
        snprintf(with_cmd, sizeof with_cmd, "%s A lead decides: %s approve %lld [new text] | "
                 "%s reject %lld <reason>", text, d->cfg->command, (long long)t->id,
                 d->cfg->command, (long long)t->id);
    else
        snprintf(with_cmd, sizeof with_cmd, "%s Send anyway: %s reply! %lld", text,
                 d->cfg->command, (long long)t->id);
    return desk_queue_receipt_button(d, t, line, with_cmd, 0,
                                     draft ? "approve,edit,reject" : "send_anyway");
}

/* A kept reply (`j`, payload `p`) goes as any reply now: the undo window
 * applies.  `how` ("Sent anyway.", "Approved by Alice Jensen.") joins the
 * receipt's head for good, so it still shows once the reply is sent. */
static int release(struct desk *d, struct ticket *t, const struct job *j, json_t *p,
                   const char *how, int64_t now)
{
    char head[1000], text[1400], *dump;
    json_int_t line = json_integer_value(json_object_get(p, "receipt"));
    int rc;

    snprintf(head, sizeof head, "%s\n%s", payload_str(p, "head"), how);
    json_object_set_new(p, "head", json_string(head));
    dump = json_dumps(p, JSON_COMPACT);
    rc = !dump || store_job_set_payload(d->store, j->id, dump);
    free(dump);
    if (rc)
        return DESK_ERR;
    if (d->cfg->reply_hold > 0) {
        snprintf(text, sizeof text, "%s\nSending in %g s.", head, d->cfg->reply_hold);
        if (outbox_hold(d, t, j->id, line, text))
            return DESK_ERR;
    } else {
        snprintf(text, sizeof text, "%s\nQueued.", head);
        if (store_job_set_state(d->store, j->id, "queued", 0, desk_now_ms(d), NULL, NULL, now) ||
            desk_queue_receipt(d, t, line, text, 0))
            return DESK_ERR;
    }
    desk_outbox_kick_later(d);
    return DESK_OK;
}

int outbox_send_held(struct desk *d, struct ticket *t, const char *actor, char *err,
                     size_t errlen, int64_t now)
{
    /* the actor's own held reply; else whose the newest is, to say so */
    int64_t id = store_job_last_by(d->store, t->id, "x.reply", "held", actor);
    struct job j;
    json_t *p = NULL;
    char detail[900];
    int rc = DESK_ERR;

    memset(&j, 0, sizeof j);
    if (id == 0)
        id = store_job_last_in(d->store, t->id, "x.reply", "held");
    if (id < 0 || (id > 0 && store_job_get(d->store, id, &j)))
        return DESK_ERR;
    if (id == 0) {
        snprintf(err, errlen, "#%lld has no held reply. To send one past the guard: %s reply! "
                 "%lld <text>", (long long)t->id, d->cfg->command, (long long)t->id);
        return DESK_INVALID;
    }
    p = json_loads(j.payload ? j.payload : "{}", 0, NULL);
    if (!p)
        goto out;
    if (strcmp(payload_str(p, "by"), actor) != 0) {
        snprintf(err, errlen, "That held reply is %s's: only they can send it anyway.",
                 desk_staff_name(d, payload_str(p, "by")));
        rc = DESK_INVALID;
        goto out;
    }
    if (release(d, t, &j, p, "Sent anyway.", now))
        goto out;
    snprintf(detail, sizeof detail, "sent anyway (job %lld): %s", (long long)j.id,
             payload_str(p, "text"));
    rc = desk_record_change(d, t, actor, "reply", detail, NULL, now);
    if (rc == DESK_OK)
        snprintf(err, errlen, "%s", payload_str(p, "text"));
out:
    json_decref(p);
    store_job_clear(&j);
    return rc;
}

/* --- issue 18: approval --------------------------------------------------- */

/* The ticket's draft for a lead's decision: DESK_OK with `j` and `*p`
 * filled (the caller clears both), else a refusal in `err`. */
static int draft_of(struct desk *d, const struct ticket *t, const char *actor, struct job *j,
                    json_t **p, char *err, size_t errlen)
{
    const struct staff *s = config_staff(d->cfg, actor);
    int64_t id = store_job_last_in(d->store, t->id, "x.reply", "draft");

    memset(j, 0, sizeof *j);
    *p = NULL;
    if (!s || s->role < ROLE_LEAD) {
        snprintf(err, errlen, "Only a lead can approve or reject a draft.");
        return DESK_INVALID;
    }
    if (id < 0 || (id > 0 && store_job_get(d->store, id, j)))
        return DESK_ERR;
    if (id == 0) {
        snprintf(err, errlen, "#%lld has no draft waiting for approval.", (long long)t->id);
        return DESK_INVALID;
    }
    *p = json_loads(j->payload ? j->payload : "{}", 0, NULL);
    return *p ? DESK_OK : DESK_ERR;
}

int outbox_approve(struct desk *d, struct ticket *t, const char *actor, const char *text,
                   char *err, size_t errlen, int64_t now)
{
    struct job j;
    json_t *p;
    char how[200], head[700], ex[600], detail[1000];
    int rc = draft_of(d, t, actor, &j, &p, err, errlen);
    const char *author;

    if (rc)
        goto out;
    rc = DESK_ERR;
    author = desk_staff_name(d, payload_str(p, "by"));
    if (text && *text) {
        /* edited: new words, and the receipt's head says whose */
        text_excerpt(text, ex, sizeof ex);
        snprintf(head, sizeof head, "%s replied publicly (edited by %s): %s", author,
                 desk_staff_name(d, actor), ex);
        json_object_set_new(p, "text", json_string(text));
        json_object_set_new(p, "head", json_string(head));   /* saved by release() */
    }
    snprintf(how, sizeof how, "Approved by %s.", desk_staff_name(d, actor));
    snprintf(detail, sizeof detail, "%s's reply (job %lld)%s: %s", author, (long long)j.id,
             text && *text ? ", edited" : "", payload_str(p, "text"));
    if (release(d, t, &j, p, how, now) ||
        desk_record_change(d, t, actor, "approved", detail, NULL, now))
        goto out;
    snprintf(err, errlen, "%s", payload_str(p, "text"));
    rc = DESK_OK;
out:
    json_decref(p);
    store_job_clear(&j);
    return rc;
}

int outbox_reject(struct desk *d, struct ticket *t, const char *actor, const char *reason,
                  char *err, size_t errlen, int64_t now)
{
    struct job j;
    json_t *p;
    char text[1400], line[900], detail[900], who[120];
    int rc = draft_of(d, t, actor, &j, &p, err, errlen);
    const char *why = reason && *reason ? reason : "no reason given";

    if (rc)
        goto out;
    rc = DESK_ERR;
    snprintf(who, sizeof who, "%s", desk_staff_name(d, payload_str(p, "by")));
    snprintf(text, sizeof text, "%s\nRejected by %s: %s", payload_str(p, "head"),
             desk_staff_name(d, actor), why);
    snprintf(line, sizeof line, "%s, %s rejected your reply to #%lld: %s", who,
             desk_staff_name(d, actor), (long long)t->id, why);
    snprintf(detail, sizeof detail, "%s's reply (job %lld): %s", who, (long long)j.id, why);
    if (store_job_set_state(d->store, j.id, "rejected", 0, j.next_at_ms, NULL, why, now) ||
        desk_queue_receipt(d, t, json_integer_value(json_object_get(p, "receipt")), text, 0) ||
        desk_record_change(d, t, actor, "rejected", detail, line, now))
        goto out;
    snprintf(err, errlen, "%s", who);
    rc = DESK_OK;
out:
    json_decref(p);
    store_job_clear(&j);
    return rc;
}
