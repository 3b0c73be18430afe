/* slack_api.c — the Slack adapter's Web API half: one POST per method over
 * core/http (JSON for chat.*, a form for the rest), chat.postMessage/update
 * for tickets and lines, conversations.history/replies to find what was
 * already posted, users.info and conversations.info for the names people
 * know.  Knows Slack's Web API (through slackparse) and the chat interface;
 * never the socket, tickets' storage or X. */
#include "chat/slack_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define HISTORY_LIMIT 15           /* messages a lookup reads: Tier 1's most (slack.md §5) */

struct call {
    struct slack *s;
    char method[48];
    slack_api_fn done;
    void *arg;
};

static void on_http(void *arg, const struct http_response *h)
{
    struct call *c = arg;
    struct slack_api r;
    char ra[32];
    double retry_after = 0;

    memset(&r, 0, sizeof r);
    if (h->status == 429) {
        char *end = NULL;
        retry_after = 30;   /* Slack always sends it; without a number, a safe wait */
        if (http_header(h, "retry-after", ra, sizeof ra) == 0) {
            double v = strtod(ra, &end);
            if (end != ra && v >= 0 && v < 86400)
                retry_after = v;
        }
        r.error = strdup("ratelimited");
    } else if (h->status == 0) {
        r.error = strdup(h->error ? h->error : "network error");
    } else if (h->status >= 500) {
        char e[40];
        snprintf(e, sizeof e, "http_%ld", h->status);
        r.error = strdup(e);
    } else {
        slack_parse_api(h->body, h->len, &r);
    }
    if (!r.ok)
        log_debug("slack api error", "method=%s status=%ld error=%s", c->method, h->status,
                  r.error ? r.error : "?");
    c->done(c->s, c->arg, &r, h, retry_after);
    slack_api_clear(&r);
    free(c);
}

/* Every Slack method takes a form; only some also take JSON.  Read methods
 * such as users.info and conversations.history (the spec's `consumes` is
 * form only) see a JSON body as no arguments at all.  chat.* keep JSON, so
 * blocks stay structured; every other method gets a form. */
static int takes_json(const char *method)
{
    return strncmp(method, "chat.", 5) == 0 || strncmp(method, "views.", 6) == 0;
}

/* `body` (borrowed) as a form body: strings as they are, anything else as
 * its compact JSON text (numbers, true/false, and blocks or metadata the
 * way Slack's SDKs send them in forms); nulls left out.  Returns new,
 * caller frees; NULL on failure. */
static char *form_body(json_t *body)
{
    size_t n = json_object_size(body), i = 0, k;
    const char **pairs = calloc(2 * n + 1, sizeof *pairs);
    char **dumped = calloc(n + 1, sizeof *dumped);
    const char *key;
    json_t *v;
    char *out = NULL;

    if (!pairs || !dumped)
        goto out;
    json_object_foreach(body, key, v) {
        if (json_is_null(v))
            continue;
        pairs[2 * i] = key;
        if (json_is_string(v)) {
            pairs[2 * i + 1] = json_string_value(v);
        } else {
            dumped[i] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!dumped[i])
                goto out;
            pairs[2 * i + 1] = dumped[i];
        }
        i++;
    }
    out = http_form_encode(pairs);
out:
    for (k = 0; dumped && k < n; k++)
        free(dumped[k]);
    free(dumped);
    free(pairs);
    return out;
}

/* POSTs `body` (stolen; NULL for an empty form) to METHOD with the bot token
 * (or the app token), as JSON or as a form (takes_json).  `done` runs
 * exactly once, unless this returns -1. */
int slack_api_call(struct slack *s, const char *method, json_t *body, int app_token,
                   slack_api_fn done, void *arg)
{
    char url[1024], auth[600];
    const char *headers[3];
    int json = body && takes_json(method);
    char *text = !body ? NULL : json ? json_dumps(body, JSON_COMPACT) : form_body(body);
    struct http_request req = { 0 };
    struct call *c = calloc(1, sizeof *c);
    int rc = -1;

    json_decref(body);
    if (!c || (body && !text))
        goto out;
    snprintf(url, sizeof url, "%s%s", s->cfg->slack.api_url, method);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             app_token ? s->cfg->slack.app_token : s->cfg->slack.bot_token);
    headers[0] = auth;
    headers[1] = json ? "Content-Type: application/json; charset=utf-8"
                      : "Content-Type: application/x-www-form-urlencoded";
    headers[2] = NULL;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = text ? text : "";
    req.body_len = text ? strlen(text) : 0;
    req.timeout_ms = 15000;
    req.max_body = 4u << 20;
    c->s = s;
    snprintf(c->method, sizeof c->method, "%s", method);
    c->done = done;
    c->arg = arg;
    rc = http_send(s->http, &req, on_http, c);
out:
    if (rc)
        free(c);
    free(text);
    return rc;
}

/* Maps a Web API answer to an outbox result. */
static void to_result(const struct slack_api *r, double retry_after, const char *ref,
                      struct send_result *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (r->ok) {
        out->status = SEND_OK;
        out->ref = ref;
        return;
    }
    snprintf(why, whylen, "Slack said %s", r->error ? r->error : "unknown_error");
    out->error = why;
    out->retry_after = retry_after;
    if (retry_after > 0 || slack_error_is_transient(r->error) ||
        (r->error && (strncmp(r->error, "http_5", 6) == 0 || strchr(r->error, ' '))))
        out->status = SEND_RETRY;   /* rate limits, Slack's trouble, the network */
    else if (slack_error_is_blocking(r->error))
        out->status = SEND_BLOCKED;
    else if (slack_error_is_gone(r->error))
        out->status = SEND_GONE;
    else
        out->status = SEND_FAIL;
}

struct send_ctx {
    send_done_fn done;
    void *arg;
    char ref[64];
    char channel[64];
    char error[48];                /* a blocking error, while the channel's name is asked */
};

/* The name people know a channel by, learnt once with conversations.info;
 * NULL when not known (yet). */
static const char *channel_name(struct slack *s, const char *id)
{
    for (int i = 0; i < MAX_CHANNELS; i++)
        if (s->channels[i].id[0] && strcmp(s->channels[i].id, id) == 0)
            return s->channels[i].name;
    return NULL;
}

static void report_blocked(struct slack *s, struct send_ctx *sc)
{
    const char *name = channel_name(s, sc->channel);
    char where[96];
    struct send_result res = { SEND_BLOCKED, where, sc->error, 0 };
    snprintf(where, sizeof where, "%s%s", name ? "#" : "", name ? name : sc->channel);
    sc->done(sc->arg, &res);
    free(sc);
}

static void on_channel_info(struct slack *s, void *arg, const struct slack_api *r,
                            const struct http_response *h, double retry_after)
{
    struct send_ctx *sc = arg;
    (void)h;
    (void)retry_after;
    if (r->ok && r->channel_name && *r->channel_name && !channel_name(s, sc->channel)) {
        struct channel_name *c = &s->channels[s->next_channel];
        s->next_channel = (s->next_channel + 1) % MAX_CHANNELS;
        snprintf(c->id, sizeof c->id, "%s", sc->channel);
        snprintf(c->name, sizeof c->name, "%s", r->channel_name);
    }
    report_blocked(s, sc);
}

static void on_sent(struct slack *s, void *arg, const struct slack_api *r,
                    const struct http_response *h, double retry_after)
{
    struct send_ctx *sc = arg;
    struct send_result res;
    char why[160];
    (void)h;
    if (slack_error_is_bad_token(r->error))
        log_error("Slack rejected the bot token; check slack.bot_token", "error=%s", r->error);
    if (!r->ok && slack_error_is_blocking(r->error) && sc->channel[0]) {
        /* The outbox tells people which channel; its name is asked for once
         * (a missing channel has none: its id is shown). */
        snprintf(sc->error, sizeof sc->error, "%s", r->error);
        if (strcmp(r->error, "channel_not_found") == 0 || channel_name(s, sc->channel) ||
            s->stopping || slack_api_call(s, "conversations.info",
                                    json_pack("{s:s}", "channel", sc->channel), 0,
                                    on_channel_info, sc))
            report_blocked(s, sc);
        return;
    }
    to_result(r, retry_after, r->ts ? r->ts : sc->ref, &res, why, sizeof why);
    sc->done(sc->arg, &res);
    free(sc);
}

static void send_or_fail(struct slack *s, const char *method, const char *channel, json_t *body,
                         const char *ref, send_done_fn done, void *arg)
{
    struct send_ctx *sc = calloc(1, sizeof *sc);
    struct send_result fail = { SEND_RETRY, NULL, "could not start the request", 0 };
    if (sc) {
        sc->done = done;
        sc->arg = arg;
        snprintf(sc->ref, sizeof sc->ref, "%s", ref ? ref : "");
        snprintf(sc->channel, sizeof sc->channel, "%s", channel ? channel : "");
        if (slack_api_call(s, method, body, 0, on_sent, sc) == 0)
            return;
        free(sc);
    } else {
        json_decref(body);
    }
    done(arg, &fail);
}

/* Staff without a configured name show as their Slack name, looked up once
 * with users.info when first needed (never the whole workspace). */
static void on_user(struct slack *s, void *arg, const struct slack_api *r,
                    const struct http_response *h, double retry_after)
{
    struct user_name *u = arg;
    (void)h;
    (void)retry_after;
    if (r->ok && r->user_name && *r->user_name) {
        free(u->name);
        u->name = strdup(r->user_name);
    }
    (void)s;
}

static const char *display_name(struct slack *s, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    int free_slot = -1;
    if (n < 2 || n >= sizeof s->users[0].id || (name[0] != 'U' && name[0] != 'W') ||
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
        return name;
    for (int i = 0; i < 64; i++) {
        if (strcmp(s->users[i].id, name) == 0)
            return s->users[i].name ? s->users[i].name : name;
        if (free_slot < 0 && !s->users[i].id[0])
            free_slot = i;
    }
    if (free_slot >= 0) {
        struct user_name *u = &s->users[free_slot];
        snprintf(u->id, sizeof u->id, "%s", name);
        u->asked = 1;
        slack_api_call(s, "users.info", json_pack("{s:s}", "user", name), 0, on_user, u);
    }
    return name;
}

/* --- chat_ops: posting -------------------------------------------------- */

void slack_post_ticket(struct chat *c, const char *channel, const struct ticket_view *t,
                              send_done_fn done, void *arg)
{
    struct slack *s = to_slack(c);
    struct ticket_view v = *t;
    json_t *body;
    v.assignee_name = t->assignee_name ? display_name(s, t->assignee_name) : NULL;
    body = slack_ticket_message(&v, (long long)time(NULL));
    if (body)
        json_object_set_new(body, "channel", json_string(channel));
    send_or_fail(s, "chat.postMessage", channel, body, NULL, done, arg);
}

void slack_update_ticket(struct chat *c, const char *channel, const char *ref,
                                const struct ticket_view *t, send_done_fn done, void *arg)
{
    struct slack *s = to_slack(c);
    struct ticket_view v = *t;
    json_t *body;
    v.assignee_name = t->assignee_name ? display_name(s, t->assignee_name) : NULL;
    body = slack_ticket_message(&v, (long long)time(NULL));
    if (body) {
        json_object_del(body, "unfurl_links");   /* not chat.update arguments */
        json_object_del(body, "unfurl_media");
        /* nor metadata (neither the spec nor slack.md lists it for
         * chat.update): the message keeps what chat.postMessage gave it */
        json_object_del(body, "metadata");
        json_object_set_new(body, "channel", json_string(channel));
        json_object_set_new(body, "ts", json_string(ref));
    }
    send_or_fail(s, "chat.update", channel, body, ref, done, arg);
}

void slack_post_thread(struct chat *c, const char *channel, const char *ref,
                              const char *text, send_done_fn done, void *arg)
{
    json_t *body = slack_text_message(text);
    if (body) {
        json_object_set_new(body, "channel", json_string(channel));
        json_object_set_new(body, "thread_ts", json_string(ref));
    }
    send_or_fail(to_slack(c), "chat.postMessage", channel, body, NULL, done, arg);
}

void slack_update_line(struct chat *c, const char *channel, const char *ref,
                              const char *text, const char *resend, send_done_fn done, void *arg)
{
    json_t *body = slack_line_message(text, resend);
    if (body) {
        json_object_set_new(body, "channel", json_string(channel));
        json_object_set_new(body, "ts", json_string(ref));
    }
    send_or_fail(to_slack(c), "chat.update", channel, body, ref, done, arg);
}

void slack_update_line_button(struct chat *c, const char *channel, const char *ref,
                              const char *text, const char *action, const char *ticket,
                              send_done_fn done, void *arg)
{
    json_t *body = slack_button_line_message(text, action, ticket);
    if (body) {
        json_object_set_new(body, "channel", json_string(channel));
        json_object_set_new(body, "ts", json_string(ref));
    }
    send_or_fail(to_slack(c), "chat.update", channel, body, ref, done, arg);
}

void slack_post_channel(struct chat *c, const char *channel, const char *text,
                               send_done_fn done, void *arg)
{
    json_t *body = slack_text_message(text);
    if (body)
        json_object_set_new(body, "channel", json_string(channel));
    send_or_fail(to_slack(c), "chat.postMessage", channel, body, NULL, done, arg);
}

void slack_post_digest(struct chat *c, const char *channel, const struct ticket_view *v,
                              size_t n, size_t backlog, send_done_fn done, void *arg)
{
    json_t *body = slack_digest_message(v, n, backlog);
    if (body)
        json_object_set_new(body, "channel", json_string(channel));
    send_or_fail(to_slack(c), "chat.postMessage", channel, body, NULL, done, arg);
}

void slack_post_line(struct chat *c, const char *channel, const char *thread,
                            const char *text, int64_t job, send_done_fn done, void *arg)
{
    json_t *body = slack_text_message(text);
    if (body) {
        json_object_set_new(body, "channel", json_string(channel));
        if (thread)
            json_object_set_new(body, "thread_ts", json_string(thread));
        json_object_set_new(body, "metadata", slack_line_metadata((long long)job));
    }
    send_or_fail(to_slack(c), "chat.postMessage", channel, body, NULL, done, arg);
}

/* post_line with the alert's mentions in front (slack_alert_message). */
void slack_post_alert(struct chat *c, const char *channel, const char *thread,
                      const struct chat_ping *ping, size_t nping, const char *text,
                      int64_t job, send_done_fn done, void *arg)
{
    json_t *body = slack_alert_message(ping, nping, text);
    if (body) {
        json_object_set_new(body, "channel", json_string(channel));
        if (thread)
            json_object_set_new(body, "thread_ts", json_string(thread));
        json_object_set_new(body, "metadata", slack_line_metadata((long long)job));
    }
    send_or_fail(to_slack(c), "chat.postMessage", channel, body, NULL, done, arg);
}

struct find_ctx {
    send_done_fn done;
    void *arg;
    int64_t id;
    int line;                /* looking for job `id`'s line, not ticket `id` */
};

static void on_history(struct slack *s, void *arg, const struct slack_api *r,
                       const struct http_response *h, double retry_after)
{
    struct find_ctx *f = arg;
    struct send_result res = { SEND_FAIL, NULL, "not posted yet", 0 };
    char ts[64], why[160];
    (void)s;
    if (!r->ok) {
        /* Transient trouble comes back as SEND_RETRY: the outbox bounds how
         * often it asks again.  Anything else (the channel is gone, we are
         * not in it, a missing scope) cannot be answered by asking again:
         * "not found", and the post that follows meets the real error. */
        to_result(r, retry_after, NULL, &res, why, sizeof why);
        if (res.status != SEND_RETRY) {
            res.status = SEND_FAIL;
            res.error = "not found";
            res.ref = NULL;
        }
    } else if ((f->line ? slack_find_line : slack_find_ticket)(h->body, h->len, f->id, ts,
                                                                sizeof ts) == 0) {
        res.status = SEND_OK;
        res.ref = ts;
        res.error = NULL;
        log_info("message found in chat history; not posting it again", "%s=%lld ts=%s",
                 f->line ? "job" : "ticket", (long long)f->id, ts);
    }
    f->done(f->arg, &res);
    free(f);
}

/* Reads the newest HISTORY_LIMIT messages since `oldest`: the outbox keeps
 * one job in flight per channel, so nothing of ours follows the post being
 * looked for, and it is among the newest unless people wrote more than
 * that many top-level messages since.  Never pages further. */
void slack_find_ticket_op(struct chat *c, const char *channel, int64_t id, int64_t oldest,
                                 send_done_fn done, void *arg)
{
    struct find_ctx *f = calloc(1, sizeof *f);
    struct send_result fail = { SEND_RETRY, NULL, "could not start the request", 0 };
    char since[32];
    snprintf(since, sizeof since, "%lld.000000", (long long)(oldest > 0 ? oldest : 0));
    if (f) {
        f->done = done;
        f->arg = arg;
        f->id = id;
        if (slack_api_call(to_slack(c), "conversations.history",
                     json_pack("{s:s,s:i,s:s,s:b}", "channel", channel, "limit", HISTORY_LIMIT,
                               "oldest", since, "include_all_metadata", 1), 0, on_history, f) == 0)
            return;
        free(f);
    }
    done(arg, &fail);
}

/* A thread's replies (conversations.replies, oldest first from `oldest`:
 * a line is posted right after its job is queued, so it is among the
 * first HISTORY_LIMIT) or the channel's newest messages, as for tickets. */
void slack_find_line_op(struct chat *c, const char *channel, const char *thread,
                               int64_t job, int64_t oldest, send_done_fn done, void *arg)
{
    struct find_ctx *f = calloc(1, sizeof *f);
    struct send_result fail = { SEND_RETRY, NULL, "could not start the request", 0 };
    char since[32];
    json_t *body;
    snprintf(since, sizeof since, "%lld.000000", (long long)(oldest > 0 ? oldest : 0));
    if (f) {
        f->done = done;
        f->arg = arg;
        f->id = job;
        f->line = 1;
        body = json_pack("{s:s,s:i,s:s,s:b}", "channel", channel, "limit", HISTORY_LIMIT,
                         "oldest", since, "include_all_metadata", 1);
        if (body && thread)
            json_object_set_new(body, "ts", json_string(thread));
        if (slack_api_call(to_slack(c), thread ? "conversations.replies" : "conversations.history",
                     body, 0, on_history, f) == 0)
            return;
        free(f);
    }
    done(arg, &fail);
}

/* --- files (issue 17 §7, /tw export) --------------------------------------
 * Slack's flow since files.upload was retired: files.getUploadURLExternal
 * (name and length) gives a one-time URL, the bytes are POSTed there, and
 * files.completeUploadExternal shares the file in the channel. */

struct upload {
    struct slack *s;
    char channel[64], file_id[64], url[1024];
    char *title, *data;
    size_t len;
    send_done_fn done;
    void *arg;
};

static void upload_end(struct upload *u, enum send_status st, const char *error)
{
    struct send_result r = { st, st == SEND_OK ? u->file_id : NULL, error, 0 };
    if (st != SEND_OK)
        log_warn("slack file upload failed", "channel=%s error=%s", u->channel,
                 error ? error : "?");
    u->done(u->arg, &r);
    free(u->title);
    free(u->data);
    free(u);
}

static void on_completed(struct slack *s, void *arg, const struct slack_api *r,
                         const struct http_response *h, double retry_after)
{
    (void)s, (void)h, (void)retry_after;
    upload_end(arg, r->ok ? SEND_OK : SEND_FAIL, r->error);
}

static void on_uploaded(void *arg, const struct http_response *h)
{
    struct upload *u = arg;
    json_t *body;
    char err[64];

    if (h->status < 200 || h->status >= 300) {
        snprintf(err, sizeof err, "upload %s", h->status ? "refused" : "failed");
        upload_end(u, SEND_FAIL, h->error ? h->error : err);
        return;
    }
    body = json_pack("{s:[{s:s,s:s}],s:s}", "files", "id", u->file_id, "title", u->title,
                     "channel_id", u->channel);
    if (!body || slack_api_call(u->s, "files.completeUploadExternal", body, 0, on_completed, u))
        upload_end(u, SEND_FAIL, "could not call files.completeUploadExternal");
}

static void on_upload_url(struct slack *s, void *arg, const struct slack_api *r,
                          const struct http_response *h, double retry_after)
{
    struct upload *u = arg;
    const char *headers[] = { "Content-Type: application/octet-stream", NULL };
    struct http_request req = { 0 };

    (void)retry_after;
    if (!r->ok || slack_parse_upload_url(h->body, h->len, u->url, sizeof u->url, u->file_id,
                                         sizeof u->file_id)) {
        upload_end(u, SEND_FAIL, r->error ? r->error : "no upload URL in Slack's answer");
        return;
    }
    /* the file goes no less protected than the API: https when it is */
    if (strncmp(s->cfg->slack.api_url, "https://", 8) == 0 && strncmp(u->url, "https://", 8)) {
        upload_end(u, SEND_FAIL, "Slack's upload URL is not https");
        return;
    }
    /* the one-time URL carries its own authorisation: no token goes there */
    req.method = "POST";
    req.url = u->url;
    req.headers = headers;
    req.body = u->data;
    req.body_len = u->len;
    req.timeout_ms = 60000;
    req.max_body = 64u << 10;
    if (http_send(s->http, &req, on_uploaded, u))
        upload_end(u, SEND_FAIL, "could not send the file");
}

void slack_upload_file(struct chat *c, const char *channel, const char *filename,
                       const char *title, const char *data, size_t len, send_done_fn done,
                       void *arg)
{
    struct slack *s = to_slack(c);
    struct upload *u = calloc(1, sizeof *u);
    char length[24];
    json_t *body;

    if (u) {
        u->title = strdup(title);
        u->data = malloc(len ? len : 1);
    }
    if (!u || !u->title || !u->data) {
        struct send_result r = { SEND_FAIL, NULL, "out of memory", 0 };
        if (u) {
            free(u->title);
            free(u->data);
        }
        free(u);
        done(arg, &r);
        return;
    }
    memcpy(u->data, data, len);
    u->len = len;
    u->s = s;
    u->done = done;
    u->arg = arg;
    snprintf(u->channel, sizeof u->channel, "%s", channel);
    snprintf(length, sizeof length, "%zu", len);
    body = json_pack("{s:s,s:s}", "filename", filename, "length", length);
    if (!body || slack_api_call(s, "files.getUploadURLExternal", body, 0, on_upload_url, u))
        upload_end(u, SEND_FAIL, "could not call files.getUploadURLExternal");
}

/* --- message links (issue 17 §5, /tw find) ------------------------------
 * Slack's permalink shape, <workspace>/archives/<channel>/p<ts without the
 * dot>, built from auth.test's URL rather than asked of chat.getPermalink
 * for every line of a search answer. */
int slack_message_link(struct chat *c, const char *channel, const char *ref, char *out,
                       size_t len)
{
    struct slack *s = to_slack(c);
    const char *url = s->team_url, *dot = ref ? strchr(ref, '.') : NULL;
    size_t ul = url ? strlen(url) : 0;

    if (len)
        out[0] = '\0';
    if (!url || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) ||
        strpbrk(url, "<>| \t\r\n") || !channel || !*channel || !dot ||
        strspn(channel, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(channel) ||
        strspn(ref, "0123456789.") != strlen(ref))
        return -1;
    if ((size_t)snprintf(out, len, "%s%sarchives/%s/p%.*s%s", url,
                         ul && url[ul - 1] == '/' ? "" : "/", channel, (int)(dot - ref), ref,
                         dot + 1) >= len) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
