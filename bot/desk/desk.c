/* desk.c — tickets: ingest of mention pages, the ticket operations and the
 * audit log.  Every state change is one transaction that also queues what
 * the outside world must see.  Parses and builds no wire format: a post's
 * link and a text's length come from the source (source_ops).  What it does
 * know of X: the brand's own account (`cfg->x`, to skip its own posts) and
 * the outbox's job kinds "x.reply" and "x.dm", names the store has kept
 * since X was the only source. */
#include "desk/desk_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "chat/chat.h"
#include "core/log.h"
#include "core/text.h"
#include "source/source.h"

struct desk *desk_new(uv_loop_t *loop, struct store *store, const struct config *cfg)
{
    struct desk *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->loop = loop;
    d->store = store;
    d->cfg = cfg;
    if (sla_open(d)) {   /* logged there */
        free(d);
        return NULL;
    }
    return d;
}

void desk_free(struct desk *d)
{
    if (d) {
        outbox_forget(d);
        sla_free(d);
    }
    free(d);   /* timers are closed by desk_stop before the loop ends */
}

void desk_set_adapters(struct desk *d, struct chat *chat, struct source *source)
{
    d->chat = chat;
    d->source = source;
}

void desk_set_hooks(struct desk *d, const struct desk_hooks *hooks)
{
    if (hooks)
        d->hooks = *hooks;
    else
        memset(&d->hooks, 0, sizeof d->hooks);
}

void desk_set_observer(struct desk *d, desk_observer_fn fn, void *arg)
{
    d->observer = fn;
    d->observer_arg = arg;
}

int desk_start(struct desk *d)
{
    if (d->started)
        return 0;
    d->started = 1;
    outbox_init(d);
    outbox_recover(d);
    sla_init(d);
    desk_outbox_kick(d);
    return 0;
}

void desk_stop(struct desk *d)
{
    if (!d->started || d->stopping)
        return;
    d->stopping = 1;
    outbox_close(d);
    sla_close(d);
}

struct store *desk_store(struct desk *d) { return d->store; }
const struct config *desk_config(struct desk *d) { return d->cfg; }
void desk_set_clock(struct desk *d, int64_t fixed_now)
{
    /* between the test clock and the real one, intervals measured on the
     * other do not compare: forget them */
    if (!d->fixed_now != !fixed_now) {
        for (int i = 0; i < DESK_MAX_TARGETS; i++)
            d->rate[i].last_ms = 0;
        d->clock_off_set = 0;
    }
    d->fixed_now = fixed_now;
}
void desk_step_clock(struct desk *d, int64_t seconds) { d->wall_step += seconds; }

int64_t desk_now(struct desk *d)
{
    return d->fixed_now ? d->fixed_now : (int64_t)time(NULL) + d->wall_step;
}

int64_t desk_now_ms(struct desk *d)
{
    struct timeval tv;
    if (d->fixed_now)
        return d->fixed_now * 1000;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 + d->wall_step * 1000;
}

int64_t desk_mono_ms(struct desk *d)
{
    if (d->fixed_now)
        return d->fixed_now * 1000;
    return (int64_t)(uv_hrtime() / 1000000);
}

void desk_notify(struct desk *d, enum desk_event_kind kind, int64_t ticket_id,
                 const char *what, const char *detail)
{
    if (d->observer)
        d->observer(d->observer_arg, kind, ticket_id, what, detail);
}

const char *desk_chat_state(struct desk *d)
{
    return d->chat && d->chat->ops->state ? d->chat->ops->state(d->chat) : "";
}

const char *desk_source_state(struct desk *d)
{
    return d->source && d->source->ops->state ? d->source->ops->state(d->source) : "";
}

int desk_source_usage(struct desk *d, struct source_usage *u)
{
    memset(u, 0, sizeof *u);
    return d->source && d->source->ops->usage ? d->source->ops->usage(d->source, u) : -1;
}

int desk_permalink(struct desk *d, const char *handle, const char *id, char *out, size_t len)
{
    if (d->source && d->source->ops->permalink)
        return d->source->ops->permalink(d->source, handle, id, out, len);
    if (len)
        out[0] = '\0';
    return -1;
}

int desk_check_text(struct desk *d, const char *text, size_t len, struct source_text *out)
{
    if (d->source && d->source->ops->check_text)
        return d->source->ops->check_text(d->source, text, len, out);
    return -1;
}

static const char *const ticket_filters[] = {
    "open", "mine", "unassigned", "escalated", "closed", "all", NULL,
};

const char *const *desk_ticket_filters(void)
{
    return ticket_filters;
}

const char *desk_ticket_filter_names(void)
{
    static char names[128];
    size_t n = sizeof ticket_filters / sizeof ticket_filters[0] - 1;

    if (!names[0])
        for (size_t i = 0, off = 0; i < n && off < sizeof names; i++)
            off += (size_t)snprintf(names + off, sizeof names - off, "%s%s",
                                    i == 0 ? "" : i == n - 1 ? " or " : ", ", ticket_filters[i]);
    return names;
}

int desk_ticket_list(struct desk *d, const char *filter, const char *self, size_t limit,
                     int64_t **ids, size_t *n)
{
    const char *where = NULL, *arg = NULL;

    *ids = NULL;
    *n = 0;
    for (size_t i = 0; ticket_filters[i]; i++)
        if (strcmp(filter, ticket_filters[i]) == 0)
            where = ticket_filters[i];
    if (!where)
        return DESK_INVALID;
    if (strcmp(where, "mine") == 0) {   /* the store's list by assignee */
        where = "assignee";
        arg = self;
    }
    *ids = store_ticket_list(d->store, where, arg, limit, n);
    return DESK_OK;
}

const char *desk_ticket_status(const struct ticket *t)
{
    return strcmp(t->state, "closed") == 0 ? "closed" : t->escalated ? "escalated"
         : t->assignee ? "assigned" : "new";
}

const char *desk_staff_name(struct desk *d, const char *id)
{
    const struct staff *s = id ? config_staff(d->cfg, id) : NULL;
    return s ? s->name : id ? id : "nobody";
}

const char *desk_chat_target(struct desk *d, const char *channel, char *buf, size_t len)
{
    (void)d;
    snprintf(buf, len, "chat:%s", channel);
    return buf;
}

/* --- queueing --------------------------------------------------------- */

int64_t desk_queue_job(struct desk *d, const char *kind, const char *target, int64_t ticket_id,
                       void *payload)
{
    json_t *p = payload ? payload : json_object();
    char *text = json_dumps(p, JSON_COMPACT);
    int64_t id;

    json_decref(p);
    if (!text)
        return -1;
    id = store_job_insert(d->store, kind, target, ticket_id, text, desk_now_ms(d),
                          desk_now(d));
    free(text);
    if (id < 0)
        return -1;
    /* The scheduler runs on the next loop turn, after this transaction. */
    if (d->started && !d->stopping)
        desk_outbox_kick_later(d);
    return id;
}

int desk_queue(struct desk *d, const char *kind, const char *target, int64_t ticket_id,
               void *payload)
{
    return desk_queue_job(d, kind, target, ticket_id, payload) < 0 ? DESK_ERR : DESK_OK;
}

static const char *ticket_channel(struct desk *d, const struct ticket *t)
{
    return t->chat_channel ? t->chat_channel : d->cfg->channel_mentions;
}

int desk_queue_thread(struct desk *d, const struct ticket *t, const char *text)
{
    char target[96];
    return desk_queue(d, "ticket.thread",
                      desk_chat_target(d, ticket_channel(d, t), target, sizeof target),
                      t->id, json_pack("{s:s}", "text", text));
}

int desk_queue_alert(struct desk *d, const struct ticket *t, const char *text, void *ping)
{
    char target[96];
    json_t *p = json_pack("{s:s}", "text", text);
    if (p && ping)
        json_object_set_new(p, "ping", ping);
    else
        json_decref(ping);
    return desk_queue(d, "ticket.thread",
                      desk_chat_target(d, ticket_channel(d, t), target, sizeof target),
                      t->id, p);
}

int desk_queue_receipt(struct desk *d, const struct ticket *t, int64_t line, const char *text,
                       int resend)
{
    return desk_queue_receipt_button(d, t, line, text, resend, NULL);
}

int desk_queue_receipt_button(struct desk *d, const struct ticket *t, int64_t line,
                              const char *text, int resend, const char *button)
{
    char target[96];
    json_t *p = json_pack("{s:I,s:s,s:b}", "line", (json_int_t)line, "text", text,
                          "resend", resend);
    if (p && button)
        json_object_set_new(p, "button", json_string(button));
    return desk_queue(d, "receipt.update",
                      desk_chat_target(d, ticket_channel(d, t), target, sizeof target),
                      t->id, p);
}

int desk_queue_update(struct desk *d, const struct ticket *t)
{
    char target[96];
    /* The update renders the ticket as it is when sent, so one queued
     * update covers any number of changes. */
    if (store_job_pending(d->store, "ticket.update", t->id) == 1)
        return DESK_OK;
    return desk_queue(d, "ticket.update",
                      desk_chat_target(d, ticket_channel(d, t), target, sizeof target),
                      t->id, NULL);
}

int desk_record_change(struct desk *d, struct ticket *t, const char *actor, const char *action,
                       const char *detail, const char *thread_line, int64_t now)
{
    t->updated_at = now;
    sla_restamp(d, t);   /* a tag may have moved it to a team's hours */
    if (store_ticket_update(d->store, t) ||
        store_event_append(d->store, t->id, actor, action, detail, now) ||
        (thread_line && desk_queue_thread(d, t, thread_line)) ||
        desk_queue_update(d, t))
        return DESK_ERR;
    return DESK_OK;
}

struct upload_ctx {
    struct desk *d;
    char channel[64], filename[128];
};

static void on_uploaded(void *arg, const struct send_result *r)
{
    struct upload_ctx *u = arg;
    char text[400];
    if (r->status == SEND_OK) {
        log_info("file shared", "channel=%s file=%s id=%s", u->channel, u->filename,
                 r->ref ? r->ref : "?");
    } else {
        snprintf(text, sizeof text, "The file %s could not be shared here: %s.", u->filename,
                 r->error ? r->error : "Slack refused it");
        desk_post_channel(u->d, u->channel, text);
    }
    free(u);
}

int desk_chat_link(struct desk *d, const char *channel, const char *ref, char *out, size_t len)
{
    if (len)
        out[0] = '\0';
    if (!d->chat || !d->chat->ops->message_link || !channel || !ref)
        return -1;
    return d->chat->ops->message_link(d->chat, channel, ref, out, len);
}

int desk_upload_file(struct desk *d, const char *channel, const char *filename,
                     const char *title, const char *data, size_t len)
{
    struct upload_ctx *u;
    if (!d->chat || !d->chat->ops->upload_file)
        return DESK_INVALID;
    u = calloc(1, sizeof *u);
    if (!u)
        return DESK_ERR;
    u->d = d;
    snprintf(u->channel, sizeof u->channel, "%s", channel);
    snprintf(u->filename, sizeof u->filename, "%s", filename);
    d->chat->ops->upload_file(d->chat, channel, filename, title, data, len, on_uploaded, u);
    return DESK_OK;
}

int desk_post_channel(struct desk *d, const char *channel, const char *text)
{
    char target[96];
    int rc;
    if (store_begin(d->store))
        return DESK_ERR;
    rc = desk_queue(d, "channel.post", desk_chat_target(d, channel, target, sizeof target),
                    0, json_pack("{s:s,s:s}", "channel", channel, "text", text));
    if (rc == DESK_OK)
        rc = store_commit(d->store) ? DESK_ERR : DESK_OK;
    else
        store_rollback(d->store);
    return rc;
}

/* --- helpers ------------------------------------------------------------ */

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static void set_str(char **slot, const char *v)
{
    char *n = xstrdup(v);
    free(*slot);
    *slot = n;
}

static int say(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int say(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int is_brand(struct desk *d, const struct mention *m)
{
    const char *id = d->cfg->x.user_id, *handle = d->cfg->x.handle;
    if (id && m->author_id && strcmp(id, m->author_id) == 0)
        return 1;
    return handle && m->author_handle && strcasecmp(handle, m->author_handle) == 0;
}

static int cmp_mention(const void *a, const void *b)
{
    const struct mention *x = *(const struct mention *const *)a;
    const struct mention *y = *(const struct mention *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* --- ingest ------------------------------------------------------------ */

static int open_ticket(struct desk *d, const struct mention *m, int64_t now, int64_t *id)
{
    struct ticket t = { 0 };
    char tid[24], line[600], detail[700];
    int64_t tweeted = m->created_at > 0 && m->created_at <= now ? m->created_at : now;

    snprintf(tid, sizeof tid, "%lld", (long long)m->id);
    t.state = "open";
    t.customer_id = m->author_id;
    t.customer_handle = m->author_handle ? m->author_handle : m->author_id;
    t.customer_name = m->author_name;
    t.conversation_id = m->conversation_id ? m->conversation_id : tid;
    t.tweet_id = tid;
    t.last_tweet_id = tid;
    t.text = m->text;
    t.opened_at = now;
    /* The customer's clock starts when they tweeted, not when we saw it;
     * it counts business hours only (sla.c). */
    t.tweeted_at = tweeted;
    sla_restamp(d, &t);
    t.injected = m->injected;
    t.updated_at = now;
    *id = store_ticket_insert(d->store, &t);
    if (*id < 0)
        return DESK_ERR;
    t.id = *id;
    text_excerpt(m->text, line, sizeof line);
    snprintf(detail, sizeof detail, "@%s: %s%s", t.customer_handle, line,
             m->injected ? " (injected)" : "");
    if (store_event_append(d->store, *id, m->injected ? "admin" : "customer", "opened",
                           detail, now))
        return DESK_ERR;
    return desk_queue(d, "ticket.post",
                      desk_chat_target(d, d->cfg->channel_mentions, detail, sizeof detail),
                      *id, NULL);
}

static int attach(struct desk *d, int64_t tid, const struct mention *m, int64_t now)
{
    struct ticket t;
    char line[600], detail[700];
    int rc;

    if (store_ticket_get(d->store, tid, &t))
        return DESK_ERR;
    snprintf(detail, sizeof detail, "%lld", (long long)m->id);
    set_str(&t.last_tweet_id, detail);
    /* the next response is due after this tweet (sla.c) */
    sla_follow_up(&t, m->created_at > 0 && m->created_at <= now ? m->created_at : now);
    text_excerpt(m->text, line, sizeof line);
    snprintf(detail, sizeof detail, "@%s: %s", t.customer_handle, line);
    rc = desk_record_change(d, &t, "customer", "follow-up", detail, detail, now);
    store_ticket_clear(&t);
    return rc;
}

static int apply_edit(struct desk *d, int64_t tid, const struct mention *m, int64_t now)
{
    struct ticket t;
    char line[600], detail[700];
    int rc;

    if (store_ticket_get(d->store, tid, &t))
        return DESK_ERR;
    /* Only an edit of the opening tweet changes the ticket's text. */
    snprintf(detail, sizeof detail, "%lld", (long long)m->original_id);
    if (strcmp(t.tweet_id, detail) == 0)
        set_str(&t.text, m->text);
    snprintf(detail, sizeof detail, "%lld", (long long)m->id);
    set_str(&t.last_tweet_id, detail);
    text_excerpt(m->text, line, sizeof line);
    snprintf(detail, sizeof detail, "@%s edited their tweet: %s", t.customer_handle, line);
    rc = desk_record_change(d, &t, "customer", "edited", detail, detail, now);
    store_ticket_clear(&t);
    return rc;
}

static int ingest_one(struct desk *d, const struct mention *m, int64_t now,
                      struct ingest_stats *st)
{
    int64_t original = m->original_id ? m->original_id : m->id, tid;
    int has, rc, is_new = 0;

    rc = store_mention_exists(d->store, m->id);
    if (rc < 0)
        return DESK_ERR;
    if (rc == 1) {
        st->duplicates++;
        return DESK_OK;
    }
    if (original != m->id) {
        tid = store_mention_ticket_by_original(d->store, original, &has);
        if (tid < 0)
            return DESK_ERR;
        if (has) {
            if (store_mention_insert(d->store, m, original, tid, tid ? NULL : "edit", now))
                return DESK_ERR;
            st->stored++;
            st->edited++;
            return tid ? apply_edit(d, tid, m, now) : DESK_OK;
        }
        /* The original never reached us (before our cursor): a new mention. */
    }
    if (is_brand(d, m) || m->is_retweet) {
        st->skipped++;
        st->stored++;
        return store_mention_insert(d->store, m, original, 0,
                                    m->is_retweet ? "retweet" : "own", now) ? DESK_ERR : DESK_OK;
    }
    tid = store_ticket_find_open(d->store, m->author_id,
                                 m->conversation_id ? m->conversation_id : "");
    if (tid < 0)
        return DESK_ERR;
    if (tid > 0) {
        if (store_mention_insert(d->store, m, original, tid, NULL, now) ||
            attach(d, tid, m, now))
            return DESK_ERR;
        st->attached++;
    } else {
        if (open_ticket(d, m, now, &tid) ||
            store_mention_insert(d->store, m, original, tid, NULL, now))
            return DESK_ERR;
        st->opened++;
        is_new = 1;
    }
    st->stored++;
    if (d->hooks.on_mention && d->hooks.on_mention(d->hooks.arg, tid, m, is_new) < 0)
        log_warn("on_mention hook failed", "ticket=%lld", (long long)tid);
    return DESK_OK;
}

int desk_ingest(struct desk *d, const char *source, const struct mention_page *page,
                const char *cursor, struct ingest_stats *stats)
{
    struct ingest_stats st = { 0 };
    const struct mention **sorted = NULL;
    int64_t now = desk_now(d);
    int rc = DESK_ERR;

    if (page->n) {
        sorted = malloc(page->n * sizeof *sorted);
        if (!sorted)
            return DESK_ERR;
        for (size_t i = 0; i < page->n; i++)
            sorted[i] = &page->v[i];
        /* Ticket numbers follow tweet order whatever order the page had. */
        qsort(sorted, page->n, sizeof *sorted, cmp_mention);
    }
    if (store_begin(d->store))
        goto out;
    for (size_t i = 0; i < page->n; i++)
        if (ingest_one(d, sorted[i], now, &st))
            goto rollback;
    if (cursor && store_cursor_set(d->store, source, cursor, now))
        goto rollback;
    if (store_commit(d->store))
        goto out;
    rc = DESK_OK;
    if (st.stored || st.duplicates)
        log_info("mentions ingested", "source=%s stored=%d opened=%d attached=%d edited=%d "
                 "skipped=%d duplicates=%d", source, st.stored, st.opened, st.attached,
                 st.edited, st.skipped, st.duplicates);
    desk_notify(d, DESK_EV_MENTION, 0, "ingested", NULL);
    goto out;
rollback:
    store_rollback(d->store);
    log_error("ingest failed; nothing stored, cursor kept", "source=%s", source);
out:
    free(sorted);
    if (stats)
        *stats = st;
    return rc;
}

/* --- ticket operations --------------------------------------------------- */

/* Every operation: begin, load the ticket, apply `fn`, commit. */
struct op {
    const char *actor, *arg;
    char *err;
    size_t errlen;
    int notice;          /* dm: reply publicly with dm_notice once X confirmed the DM */
    int flags;           /* reply: DESK_REPLY_FORCE */
};

typedef int (*op_fn)(struct desk *d, struct ticket *t, struct op *op, int64_t now);

/* What a user is told when the store refused: a lock held by another
 * program passes (the store waits 100 ms, not seconds, on the loop). */
static const char *store_trouble(struct desk *d)
{
    return store_busy(d->store) ? "The database is busy (another program holds a lock on it); "
                                  "nothing was changed, try again in a moment."
                                : "the store is not available (see log)";
}

static int run_op(struct desk *d, int64_t id, struct op *op, op_fn fn, const char *name)
{
    struct ticket t;
    int rc;

    if (op->err && op->errlen)
        op->err[0] = '\0';
    if (store_begin(d->store))
        return say(op->err, op->errlen, DESK_ERR, "%s", store_trouble(d));
    rc = store_ticket_get(d->store, id, &t);
    if (rc == STORE_NOTFOUND) {
        store_rollback(d->store);
        return say(op->err, op->errlen, DESK_NOTFOUND, "There is no ticket #%lld.",
                   (long long)id);
    }
    if (rc) {
        const char *why = store_trouble(d);
        store_rollback(d->store);
        return say(op->err, op->errlen, DESK_ERR, "%s", why);
    }
    rc = fn(d, &t, op, desk_now(d));
    /* a held reply (issue 18) is kept: it commits too */
    if ((rc == DESK_OK || rc == DESK_HELD) && store_commit(d->store))
        rc = say(op->err, op->errlen, DESK_ERR, "%s", store_busy(d->store)
                 ? store_trouble(d) : "could not save the change (see log)");
    else if (rc != DESK_OK && rc != DESK_HELD)
        store_rollback(d->store);
    if (rc == DESK_OK || rc == DESK_HELD)
        desk_notify(d, DESK_EV_TICKET, id, name, op->arg);
    else if (rc == DESK_ERR)
        log_error("ticket operation failed", "op=%s ticket=%lld", name, (long long)id);
    store_ticket_clear(&t);
    return rc;
}

static int reopen_in_op(struct desk *d, struct ticket *t, const char *actor,
                        const char *why, int64_t now)
{
    char line[200];
    set_str(&t->state, "open");
    t->closed_at = 0;
    snprintf(line, sizeof line, "%s reopened #%lld%s", desk_staff_name(d, actor),
             (long long)t->id, why);
    return desk_record_change(d, t, actor, "reopened", why[0] ? why + 1 : NULL, line, now);
}

/* Appends {id, name} to `ping` (a JSON array; both strings copied). */
static void add_ping(json_t *ping, const char *id, const char *name)
{
    json_array_append_new(ping, json_pack("{s:s,s:s}", "id", id, "name", name));
}

static int op_assign(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    const struct staff *s = config_staff(d->cfg, op->arg);
    char line[400], was[140] = "";
    json_t *ping;

    if (!s)
        return say(op->err, op->errlen, DESK_INVALID,
                   "%s is not on the support staff, so #%lld cannot be assigned to them.",
                   op->arg, (long long)t->id);
    if (strcmp(t->state, "closed") == 0)
        return say(op->err, op->errlen, DESK_INVALID,
                   "#%lld is closed; reopen it first.", (long long)t->id);
    if (t->assignee && strcmp(t->assignee, s->id) == 0)
        return say(op->err, op->errlen, DESK_INVALID, "#%lld is already assigned to %s.",
                   (long long)t->id, s->name);
    /* issue 18: taking someone else's ticket tells them, in its thread;
     * the line pings them, and the new assignee unless they took it
     * themselves (issue 17: ids from the staff list, never from text) */
    ping = json_array();
    if (!ping)
        return DESK_ERR;
    if (strcmp(op->actor, s->id) != 0)
        add_ping(ping, s->id, s->name);
    if (t->assignee && strcmp(t->assignee, op->actor) != 0) {
        snprintf(was, sizeof was, " (%s: it is no longer yours)",
                 desk_staff_name(d, t->assignee));
        add_ping(ping, t->assignee, desk_staff_name(d, t->assignee));
    }
    set_str(&t->assignee, s->id);
    if (strcmp(op->actor, s->id) == 0)
        snprintf(line, sizeof line, "%s took #%lld%s", s->name, (long long)t->id, was);
    else
        snprintf(line, sizeof line, "%s assigned #%lld to %s%s", desk_staff_name(d, op->actor),
                 (long long)t->id, s->name, was);
    if (json_array_size(ping) == 0) {
        json_decref(ping);
        return desk_record_change(d, t, op->actor, "assigned", s->id, line, now);
    }
    /* desk_queue_alert takes the ping array */
    if (desk_record_change(d, t, op->actor, "assigned", s->id, NULL, now) ||
        desk_queue_alert(d, t, line, ping))
        return DESK_ERR;
    return DESK_OK;
}

static int op_unassign(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    char line[300], who[128];
    if (!t->assignee)
        return say(op->err, op->errlen, DESK_INVALID, "#%lld is not assigned to anyone.",
                   (long long)t->id);
    snprintf(who, sizeof who, "%s", t->assignee);
    set_str(&t->assignee, NULL);
    snprintf(line, sizeof line, "%s unassigned #%lld (was %s)", desk_staff_name(d, op->actor),
             (long long)t->id, desk_staff_name(d, who));
    return desk_record_change(d, t, op->actor, "unassigned", who, line, now);
}

static int check_text(struct ticket *t, struct op *op, const char *what)
{
    const char *p = op->arg;
    while (p && isspace((unsigned char)*p))
        p++;
    if (!p || !*p)
        return say(op->err, op->errlen, DESK_INVALID, "The %s for #%lld is empty.", what,
                   (long long)t->id);
    return DESK_OK;
}

/* A public send (reply or DM) and its receipt: one line in the ticket's
 * thread that the outbox rewrites as the send goes (queued -> sent or
 * failed).  The line is queued first, so on the chat's target it is posted
 * before any rewrite of it; `head` stays its first line. */
static int queue_public(struct desk *d, struct ticket *t, const char *kind, const char *target,
                        const char *head, json_t *payload, const char *held, int draft)
{
    char text[1400], chat[96];
    int64_t line, job;

    /* issue 18: a held send, or the undo window, shows from the start */
    if (held)
        snprintf(text, sizeof text, "%s\nHeld, not sent: %s.", head, held);
    else if (d->cfg->reply_hold > 0)
        snprintf(text, sizeof text, "%s\nSending in %g s.", head, d->cfg->reply_hold);
    else
        snprintf(text, sizeof text, "%s\nQueued.", head);
    line = desk_queue_job(d, "ticket.thread",
                          desk_chat_target(d, ticket_channel(d, t), chat, sizeof chat), t->id,
                          json_pack("{s:s}", "text", text));
    if (line < 0 || !payload) {
        json_decref(payload);
        return DESK_ERR;
    }
    json_object_set_new(payload, "receipt", json_integer(line));
    json_object_set_new(payload, "head", json_string(head));
    job = desk_queue_job(d, kind, target, t->id, payload);
    if (job < 0)
        return DESK_ERR;
    if (held)
        return outbox_park(d, t, job, line, text, draft);
    return d->cfg->reply_hold > 0 ? outbox_hold(d, t, job, line, text) : DESK_OK;
}

static int op_reply(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    char line[700], detail[800], ex[600], why[700];
    int rc = check_text(t, op, "reply"), held = 0;

    if (rc)
        return rc;
    /* issue 18: a draft for a lead to approve, or the collision guard */
    if (config_needs_approval(d->cfg, op->actor)) {
        held = 2;
        snprintf(why, sizeof why, "waiting for a lead's approval");
    } else if (!(op->flags & DESK_REPLY_FORCE)) {
        held = outbox_collision(d, t, op->actor, now, why, sizeof why);
    }
    if (strcmp(t->state, "closed") == 0) {
        rc = reopen_in_op(d, t, op->actor, " by a reply", now);
        if (rc)
            return rc;
    }
    /* first_response_at waits for X's confirmation (outbox.c) */
    text_excerpt(op->arg, ex, sizeof ex);
    snprintf(line, sizeof line, "%s replied publicly: %s", desk_staff_name(d, op->actor), ex);
    if (queue_public(d, t, "x.reply", "x:tweets", line,
                     json_pack("{s:s,s:s,s:s}", "text", op->arg, "in_reply_to",
                               t->last_tweet_id, "by", op->actor), held ? why : NULL,
                     held == 2))
        return DESK_ERR;
    snprintf(detail, sizeof detail, "to @%s in reply to %s: %s", t->customer_handle,
             t->last_tweet_id, op->arg);
    rc = desk_record_change(d, t, op->actor, held == 2 ? "draft" : held ? "reply held"
                            : "reply", detail, NULL, now);
    if (rc == DESK_OK && held == 2)
        return say(op->err, op->errlen, DESK_HELD, "Not sent yet: your reply to #%lld waits "
                   "for a lead's approval (it is in the ticket's thread as a draft).",
                   (long long)t->id);
    if (rc == DESK_OK && held)
        return say(op->err, op->errlen, DESK_HELD, "Held, not sent: %s. Send it anyway: the "
                   "Send anyway button, or %s reply! %lld", why, d->cfg->command,
                   (long long)t->id);
    return rc;
}

static int op_dm(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    char line[700], detail[800], ex[600];
    int rc = check_text(t, op, "DM");

    if (rc)
        return rc;
    text_excerpt(op->arg, ex, sizeof ex);
    snprintf(line, sizeof line, "%s sent a DM: %s", desk_staff_name(d, op->actor), ex);
    if (queue_public(d, t, "x.dm", "x:dm", line,
                     json_pack("{s:s,s:s,s:b,s:s}", "text", op->arg, "to", t->customer_id,
                               "notice", op->notice, "by", op->actor), NULL, 0))
        return DESK_ERR;
    snprintf(detail, sizeof detail, "to @%s (%s): %s", t->customer_handle, t->customer_id,
             op->arg);
    return desk_record_change(d, t, op->actor, "dm", detail, NULL, now);
}

static int op_resend(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    int64_t id = store_job_last_failed(d->store, t->id, "x.");
    json_t *p = NULL;
    struct job j;
    char line[900], detail[900], ex[600];
    int rc = DESK_ERR, is_dm;

    if (id == 0)
        return say(op->err, op->errlen, DESK_INVALID,
                   "#%lld has no failed reply or DM to send again.", (long long)t->id);
    if (id < 0 || store_job_get(d->store, id, &j))
        return DESK_ERR;
    is_dm = strcmp(j.kind, "x.dm") == 0;
    p = json_loads(j.payload ? j.payload : "{}", 0, NULL);
    if (!p)
        goto out;
    if (op->arg && *op->arg) {
        /* edited text: the same job (its id carries through), new words */
        char *dump;
        rc = check_text(t, op, is_dm ? "DM" : "reply");
        if (rc)
            goto out;
        rc = DESK_ERR;
        text_excerpt(op->arg, ex, sizeof ex);
        snprintf(line, sizeof line, "%s %s: %s", desk_staff_name(d, op->actor),
                 is_dm ? "sent a DM (edited and resent)" : "replied publicly (edited and resent)",
                 ex);
        json_object_set_new(p, "text", json_string(op->arg));
        json_object_set_new(p, "head", json_string(line));
        dump = json_dumps(p, JSON_COMPACT);
        if (!dump || store_job_set_payload(d->store, j.id, dump)) {
            free(dump);
            goto out;
        }
        free(dump);
    }
    /* attempts 1: the next try is a retry, so a reply X already holds is
     * recognised as sent (never posted twice) */
    if (store_job_set_state(d->store, j.id, "queued", 1, desk_now_ms(d), NULL, NULL, now))
        goto out;
    snprintf(line, sizeof line, "Queued again by %s.", desk_staff_name(d, op->actor));
    if (json_integer_value(json_object_get(p, "receipt")) > 0) {
        char text[1200];
        snprintf(text, sizeof text, "%s\n%s", json_string_value(json_object_get(p, "head"))
                 ? json_string_value(json_object_get(p, "head")) : "", line);
        if (desk_queue_receipt(d, t, json_integer_value(json_object_get(p, "receipt")), text, 0))
            goto out;
    }
    snprintf(detail, sizeof detail, "%s (job %lld): %s", is_dm ? "dm" : "reply",
             (long long)j.id, json_string_value(json_object_get(p, "text"))
             ? json_string_value(json_object_get(p, "text")) : "");
    snprintf(op->err, op->errlen, "%s", is_dm ? "dm" : "reply");   /* what was resent */
    rc = desk_record_change(d, t, op->actor, "resend", detail, NULL, now);
    desk_outbox_kick_later(d);
out:
    json_decref(p);
    store_job_clear(&j);
    return rc;
}

static int op_note(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    char line[700], ex[600];
    int rc = check_text(t, op, "note");
    if (rc)
        return rc;
    text_excerpt(op->arg, ex, sizeof ex);
    snprintf(line, sizeof line, "Note from %s: %s", desk_staff_name(d, op->actor), ex);
    return desk_record_change(d, t, op->actor, "note", op->arg, line, now);
}

static int op_escalate(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    const char *reason = op->arg && *op->arg ? op->arg : "no reason given";
    char line[1000], target[96], ex[400], url[160], why[240], who[64];
    json_t *payload, *ping;

    if (t->escalated)
        return say(op->err, op->errlen, DESK_INVALID, "#%lld is already escalated (%s).",
                   (long long)t->id, t->escalation_reason ? t->escalation_reason : "");
    if (strcmp(t->state, "closed") == 0)
        return say(op->err, op->errlen, DESK_INVALID,
                   "#%lld is closed; reopen it first.", (long long)t->id);
    t->escalated = 1;
    set_str(&t->escalation_reason, reason);
    /* every part bounded first, so the line is never cut inside a character */
    text_excerpt(t->text, ex, sizeof ex);
    text_excerpt(reason, why, sizeof why);
    text_excerpt(t->customer_handle, who, sizeof who);
    desk_permalink(d, t->customer_handle, t->tweet_id, url, sizeof url);
    snprintf(line, sizeof line, "#%lld escalated by %s: %s\n@%s: %s\n%s",
             (long long)t->id, desk_staff_name(d, op->actor), why, who, ex, url);
    payload = json_pack("{s:s,s:s}", "channel", d->cfg->channel_escalations, "text", line);
    /* an escalation is an alert: a missed target's pings as its breach line
     * did (issue 17), a manual one the on-duty group (sla.notify); the ids
     * come from config, never from the text */
    ping = !payload ? NULL : t->sla_breached || t->followup_breached ? sla_ping(d, t)
                                                                      : sla_group_ping(d);
    if (ping)
        json_object_set_new(payload, "ping", ping);
    if (desk_queue(d, "channel.post",
                   desk_chat_target(d, d->cfg->channel_escalations, target, sizeof target),
                   t->id, payload))
        return DESK_ERR;
    snprintf(line, sizeof line, "%s escalated #%lld: %s", desk_staff_name(d, op->actor),
             (long long)t->id, reason);
    return desk_record_change(d, t, op->actor, "escalated", reason, line, now);
}

static int op_close(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    char line[200];
    if (strcmp(t->state, "closed") == 0)
        return say(op->err, op->errlen, DESK_INVALID, "#%lld is already closed.",
                   (long long)t->id);
    set_str(&t->state, "closed");
    t->closed_at = now;
    snprintf(line, sizeof line, "%s closed #%lld", desk_staff_name(d, op->actor),
             (long long)t->id);
    return desk_record_change(d, t, op->actor, "closed", NULL, line, now);
}

static int op_reopen(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    if (strcmp(t->state, "closed") != 0)
        return say(op->err, op->errlen, DESK_INVALID, "#%lld is already open.",
                   (long long)t->id);
    return reopen_in_op(d, t, op->actor, "", now);
}

static int valid_tag(const char *s)
{
    size_t n = 0;
    for (; *s; s++, n++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_'))
            return 0;
    return n > 0 && n <= 32;
}

static int op_tag(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    char tags[1024], line[200], tag[40];
    const char *p;
    size_t n = 0;

    if (!op->arg || !valid_tag(op->arg))
        return say(op->err, op->errlen, DESK_INVALID,
                   "A tag is 1-32 letters, digits, '-' or '_' (got \"%s\").",
                   op->arg ? op->arg : "");
    for (const char *s = op->arg; *s && n < sizeof tag - 1; s++)
        tag[n++] = (char)tolower((unsigned char)*s);
    tag[n] = '\0';
    /* tags is a sorted, comma-separated set */
    for (p = t->tags; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == strlen(tag) && strncmp(p, tag, len) == 0)
            return say(op->err, op->errlen, DESK_INVALID, "#%lld is already tagged %s.",
                       (long long)t->id, tag);
        p += len + (p[len] == ',');
    }
    if (strlen(t->tags ? t->tags : "") + strlen(tag) + 2 > sizeof tags)
        return say(op->err, op->errlen, DESK_INVALID, "#%lld has too many tags.",
                   (long long)t->id);
    {
        char *items[64];
        int count = 0;
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", t->tags ? t->tags : "");
        for (char *save = NULL, *it = strtok_r(copy, ",", &save); it && count < 63;
             it = strtok_r(NULL, ",", &save))
            items[count++] = it;
        items[count++] = tag;
        for (int i = 1; i < count; i++)   /* insertion sort: a handful of tags */
            for (int j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
                char *x = items[j];
                items[j] = items[j - 1];
                items[j - 1] = x;
            }
        tags[0] = '\0';
        for (int i = 0, off = 0; i < count && off < (int)sizeof tags; i++)
            off += snprintf(tags + off, sizeof tags - (size_t)off, ",%s", items[i]);
    }
    set_str(&t->tags, tags + 1);
    snprintf(line, sizeof line, "%s tagged #%lld %s", desk_staff_name(d, op->actor),
             (long long)t->id, tag);
    return desk_record_change(d, t, op->actor, "tagged", tag, line, now);
}

int desk_priority_known(const char *priority)
{
    static const char *const allowed[] = { "low", "normal", "high", "urgent", NULL };
    for (int i = 0; priority && allowed[i]; i++)
        if (strcmp(priority, allowed[i]) == 0)
            return 1;
    return 0;
}

static int op_priority(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    char line[200];
    if (!desk_priority_known(op->arg))
        return say(op->err, op->errlen, DESK_INVALID,
                   "Priority is low, normal, high or urgent (got \"%s\").",
                   op->arg ? op->arg : "");
    if (strcmp(t->priority, op->arg) == 0)
        return DESK_OK;
    set_str(&t->priority, op->arg);
    snprintf(line, sizeof line, "%s set #%lld to %s priority", desk_staff_name(d, op->actor),
             (long long)t->id, op->arg);
    return desk_record_change(d, t, op->actor, "priority", op->arg, line, now);
}

#define OP(name, fn, arg_)                                                     \
    do {                                                                       \
        struct op op = { actor, arg_, err, errlen, 0, 0 };                     \
        return run_op(d, id, &op, fn, name);                                   \
    } while (0)

int desk_assign(struct desk *d, const char *actor, int64_t id, const char *staff_id,
                char *err, size_t errlen) { OP("assign", op_assign, staff_id); }
int desk_unassign(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen)
{ OP("unassign", op_unassign, NULL); }
int desk_reply(struct desk *d, const char *actor, int64_t id, const char *text,
               char *err, size_t errlen) { OP("reply", op_reply, text); }
int desk_dm(struct desk *d, const char *actor, int64_t id, const char *text,
            char *err, size_t errlen) { OP("dm", op_dm, text); }
int desk_dm_notice(struct desk *d, const char *actor, int64_t id, const char *text,
                   char *err, size_t errlen)
{
    struct op op = { actor, text, err, errlen, 1, 0 };
    return run_op(d, id, &op, op_dm, "dm");
}
int desk_resend(struct desk *d, const char *actor, int64_t id, const char *text,
                char *err, size_t errlen) { OP("resend", op_resend, text); }
int desk_note(struct desk *d, const char *actor, int64_t id, const char *text,
              char *err, size_t errlen) { OP("note", op_note, text); }
int desk_escalate(struct desk *d, const char *actor, int64_t id, const char *reason,
                  char *err, size_t errlen) { OP("escalate", op_escalate, reason); }
int desk_close(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen)
{ OP("close", op_close, NULL); }
int desk_reopen(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen)
{ OP("reopen", op_reopen, NULL); }
int desk_tag(struct desk *d, const char *actor, int64_t id, const char *tag,
             char *err, size_t errlen) { OP("tag", op_tag, tag); }
int desk_set_priority(struct desk *d, const char *actor, int64_t id, const char *priority,
                      char *err, size_t errlen) { OP("priority", op_priority, priority); }

/* issue 18: the undo window (the work is in outbox.c) */
static int op_undo(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    return outbox_undo(d, t, op->actor, op->err, op->errlen, now);
}
int desk_undo(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen)
{ OP("undo", op_undo, NULL); }
static int op_unsend(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    return outbox_unsend(d, t, op->actor, op->err, op->errlen, now);
}
int desk_unsend(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen)
{ OP("unsend", op_unsend, NULL); }
int desk_reply_as(struct desk *d, const char *actor, int64_t id, const char *text, int flags,
                  char *err, size_t errlen)
{
    struct op op = { actor, text, err, errlen, 0, flags };
    return run_op(d, id, &op, op_reply, "reply");
}
static int op_send_held(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    return outbox_send_held(d, t, op->actor, op->err, op->errlen, now);
}
int desk_send_held(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen)
{ OP("send anyway", op_send_held, NULL); }
static int op_approve(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    return outbox_approve(d, t, op->actor, op->arg, op->err, op->errlen, now);
}
int desk_approve(struct desk *d, const char *actor, int64_t id, const char *text, char *err,
                 size_t errlen) { OP("approve", op_approve, text); }
static int op_reject(struct desk *d, struct ticket *t, struct op *op, int64_t now)
{
    return outbox_reject(d, t, op->actor, op->arg, op->err, op->errlen, now);
}
int desk_reject(struct desk *d, const char *actor, int64_t id, const char *reason, char *err,
                size_t errlen) { OP("reject", op_reject, reason); }

int desk_audit(struct desk *d, int64_t ticket_id, const char *actor, const char *action,
               const char *detail)
{
    return store_event_append(d->store, ticket_id, actor, action, detail, desk_now(d))
               ? DESK_ERR : DESK_OK;
}
