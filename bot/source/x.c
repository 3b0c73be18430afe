/* x.c — the X API v2 source.  Reads: GET /2/users/:id/mentions from the
 * stored since_id, every page of the walk with the same since_id, and the
 * new cursor (the first page's newest_id) committed with the mentions only
 * after the whole walk succeeded; paced by the x-rate-limit-* headers.
 * Writes: POST /2/tweets and DMs, signed with OAuth 1.0a or an OAuth 2.0
 * user token (refreshed and persisted when it rotates); a retried reply X
 * calls a duplicate counts as sent only when GET /2/users/:id/tweets shows
 * it.  Knows X's wire
 * format (through xparse and oauth); never SQL or the chat. */
#include "source/x.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/backoff.h"
#include "core/log.h"
#include "source/oauth.h"
#include "source/xlink.h"
#include "source/xparse.h"

/* attachments, media.fields and the two .author_id / media_keys expansions:
 * a quoted post's text and author and the media links (issue 17 §6). */
#define FIELDS "&tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id," \
    "referenced_tweets,lang,entities,edit_history_tweet_ids,attachments&expansions=author_id," \
    "referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys" \
    "&user.fields=name,username,profile_image_url,verified" \
    "&media.fields=url,preview_image_url,type"
#define AUTH_WAIT 1800.0        /* s: credentials refused; do not spin */
#define CAPPED_WAIT 3600.0      /* s: monthly usage cap; says so and waits long */

struct xsrc {
    struct source base;
    uv_loop_t *loop;
    struct http *http;
    const struct config *cfg;
    uv_timer_t timer;
    char *user_id;
    char *cursor;               /* committed since_id, NULL before the first walk */

    /* the walk in progress */
    int walking, pages;
    char *walk_newest;
    struct mention_page acc;
    int seg_start;                  /* x->pages when this stretch of the walk began */
    char *resume_token;             /* a long walk continues from here (see on_page) */
    int unstored;                   /* read, but the store refused it: retry the store */
    size_t walk_total;              /* mentions the whole walk received */
    int64_t oldest_id, oldest_at;   /* the oldest mention received, and its time */

    int attempt, stopped, capped_told;
    long rl_limit, rl_remaining;
    long long rl_reset;
    long long polls, seen;
    char last_error[200];
    char state[400];

    char *access_token, *refresh_token;   /* OAuth 2.0 user tokens (rotate) */
    int refreshing;
};

#define to_x(s) ((struct xsrc *)(s))

static void poll_later(struct xsrc *x, double seconds, const char *why);
static void poll_now(struct xsrc *x);

static void update_state(struct xsrc *x)
{
    char reset[32] = "?";
    if (x->rl_reset) {
        time_t t = (time_t)x->rl_reset;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(reset, sizeof reset, "%H:%M:%SZ", &tm);
    }
    snprintf(x->state, sizeof x->state,
             "x: @%s (user %s), %lld polls, %lld mentions seen, rate %ld/%ld until %s%s%s",
             x->cfg->x.handle, x->user_id ? x->user_id : "?", x->polls, x->seen,
             x->rl_remaining, x->rl_limit, reset, x->last_error[0] ? ", last error: " : "",
             x->last_error);
}

static void notice(struct xsrc *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void notice(struct xsrc *x, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (x->base.notice)
        x->base.notice(x->base.svc_arg, text);
}

/* Tallies what X bills for (README, "Connect to X": costs). */
static void tally(struct xsrc *x, const char *item, int64_t n)
{
    if (n > 0 && x->base.count && x->base.count(x->base.svc_arg, item, n) < 0)
        log_warn("X: could not record today's usage", "item=%s n=%lld", item, (long long)n);
}

/* The number in header `name`: its leading digits, as X sends them; 0 when
 * it has none; `missing` when there is no such header. */
static long long header_number(const struct http_response *h, const char *name,
                               long long missing)
{
    char v[32], *end;
    long long n;

    if (http_header(h, name, v, sizeof v) != 0)
        return missing;
    errno = 0;
    n = strtoll(v, &end, 10);
    return errno || end == v ? 0 : n;
}

static void read_rate(struct xsrc *x, const struct http_response *h)
{
    x->rl_limit = (long)header_number(h, "x-rate-limit-limit", x->rl_limit);
    x->rl_remaining = (long)header_number(h, "x-rate-limit-remaining", x->rl_remaining);
    x->rl_reset = header_number(h, "x-rate-limit-reset", x->rl_reset);
}

/* Seconds until the rate window resets, + 1 as X advises. */
static double until_reset(const struct http_response *h)
{
    long long reset = header_number(h, "x-rate-limit-reset", 0);
    double d = reset ? (double)(reset - (long long)time(NULL)) + 1 : 60;
    return d < 1 ? 1 : d > 3600 ? 3600 : d;
}

/* --- requests ------------------------------------------------------------ */

enum auth { AUTH_READ, AUTH_WRITE };

typedef void (*x_done_fn)(struct xsrc *x, void *arg, const struct http_response *h);

struct xreq {
    struct xsrc *x;
    x_done_fn done;
    void *arg;
};

static void on_http(void *arg, const struct http_response *h)
{
    struct xreq *r = arg;
    r->done(r->x, r->arg, h);
    free(r);
}

static int has_oauth1(const struct config *c)
{
    return c->x.oauth1.consumer_key && c->x.oauth1.consumer_secret && c->x.oauth1.token &&
           c->x.oauth1.token_secret;
}

/* Sends a request with the right credential: app-only bearer for reads when
 * there is one; OAuth 1.0a, else the OAuth 2.0 user token, otherwise. */
static int x_request(struct xsrc *x, const char *method, const char *url, enum auth auth,
                     const char *json_body, x_done_fn done, void *arg)
{
    struct http_request req = { 0 };
    const char *headers[4];
    char *authz = NULL;
    struct xreq *r = calloc(1, sizeof *r);
    int n = 0, rc = -1;

    if (!r)
        return -1;
    if (auth == AUTH_READ && x->cfg->x.bearer_token) {
        if (asprintf(&authz, "Authorization: Bearer %s", x->cfg->x.bearer_token) < 0)
            authz = NULL;
    } else if (has_oauth1(x->cfg)) {
        struct oauth1_keys k = { x->cfg->x.oauth1.consumer_key, x->cfg->x.oauth1.consumer_secret,
                                 x->cfg->x.oauth1.token, x->cfg->x.oauth1.token_secret };
        char nonce[33];
        oauth_nonce(nonce);
        authz = oauth1_header(method, url, &k, nonce, (long long)time(NULL));
    } else if (x->access_token) {
        if (asprintf(&authz, "Authorization: Bearer %s", x->access_token) < 0)
            authz = NULL;
    }
    if (!authz) {
        free(r);
        return -1;
    }
    headers[n++] = authz;
    if (json_body)
        headers[n++] = "Content-Type: application/json";
    headers[n] = NULL;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.body = json_body;
    req.body_len = json_body ? strlen(json_body) : 0;
    req.timeout_ms = 20000;          /* a stalled X never holds a poll forever */
    req.max_body = 1u << 20;         /* a page of 100 tweets is ~100-300 KB */
    r->x = x;
    r->done = done;
    r->arg = arg;
    rc = http_send(x->http, &req, on_http, r);
    if (rc)
        free(r);
    free(authz);
    return rc;
}

/* --- reading -------------------------------------------------------------- */

static void walk_reset(struct xsrc *x)
{
    x->walking = 0;
    x->pages = 0;
    free(x->walk_newest);
    x->walk_newest = NULL;
    mention_page_free(&x->acc);
    free(x->resume_token);
    x->resume_token = NULL;
    x->unstored = 0;
    x->seg_start = 0;
    x->walk_total = 0;
    x->oldest_id = x->oldest_at = 0;
}

/* Moves the page's mentions into the walk's accumulated page. */
static int absorb(struct xsrc *x, struct mention_page *p)
{
    struct mention *nv;
    if (!p->n)
        return 0;
    if (!x->oldest_id || p->v[0].id < x->oldest_id) {   /* pages are in ascending order */
        x->oldest_id = p->v[0].id;
        x->oldest_at = p->v[0].created_at ? p->v[0].created_at
                                          : xparse_snowflake_time(p->v[0].id);
    }
    nv = realloc(x->acc.v, (x->acc.n + p->n) * sizeof *nv);
    if (!nv)
        return -1;
    x->acc.v = nv;
    memcpy(x->acc.v + x->acc.n, p->v, p->n * sizeof *nv);
    x->acc.n += p->n;
    x->acc.nerrors += p->nerrors;
    free(p->v);
    p->v = NULL;
    p->n = 0;
    return 0;
}

static void request_page(struct xsrc *x, const char *token);

static void walk_failed(struct xsrc *x, const struct http_response *h, const char *what)
{
    char detail[300], type[64];
    double wait;

    xparse_problem(h->body, h->len, detail, sizeof detail, type, sizeof type);
    walk_reset(x);   /* nothing stored, cursor unchanged: the next walk starts over */
    if (h->status == 429 && strcmp(type, "usage-capped") == 0) {
        snprintf(x->last_error, sizeof x->last_error, "monthly usage cap reached");
        log_error("X: usage cap reached; mentions cannot be read until it resets",
                  "detail=%s retry_in=%.0fs", detail, CAPPED_WAIT);
        if (!x->capped_told) {
            x->capped_told = 1;
            notice(x, "X says this app reached its usage cap (%s). vigil cannot read new "
                   "mentions until the cap resets; it will keep trying every hour.", detail);
        }
        poll_later(x, CAPPED_WAIT, "usage cap");
    } else if (h->status == 429) {
        wait = until_reset(h);
        snprintf(x->last_error, sizeof x->last_error, "rate limited");
        log_warn("X: rate limited reading mentions", "retry_in=%.0fs", wait);
        poll_later(x, wait, "rate limit");
    } else if (h->status == 401 || h->status == 403) {
        snprintf(x->last_error, sizeof x->last_error, "credentials refused (%ld)", h->status);
        log_error("X refused the credentials for reading mentions", "status=%ld endpoint=%s "
                  "credential=%s detail=%s retry_in=%.0fs", h->status, what,
                  x->cfg->x.bearer_token ? "x.bearer_token" : has_oauth1(x->cfg) ? "x.oauth1"
                                                                              : "x.oauth2",
                  detail, AUTH_WAIT);
        notice(x, "X refused vigil's credentials for %s (HTTP %ld: %s). Check %s; vigil "
               "retries in 30 minutes.", what, h->status, detail,
               x->cfg->x.bearer_token ? "x.bearer_token" : "x.oauth1 / x.oauth2");
        poll_later(x, AUTH_WAIT, "credentials");
    } else {
        /* X advises backing off from 5 s; a shorter poll interval (tests,
         * a generous paid tier) starts lower. */
        wait = backoff_delay(++x->attempt, x->cfg->x.poll_interval < 5 ? x->cfg->x.poll_interval
                                                                       : 5.0, 300.0);
        snprintf(x->last_error, sizeof x->last_error, "%s",
                 h->status ? detail : (h->error ? h->error : "network error"));
        log_warn("X: reading mentions failed; retrying", "status=%ld error=%s retry_in=%.1fs "
                 "attempt=%d", h->status, h->status ? detail : (h->error ? h->error : "?"),
                 wait, x->attempt);
        poll_later(x, wait, "error");
    }
}

static void utc_text(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, len, "an unknown time");
}

/* X serves only the newest x.reach (800) mentions, and with since_id it
 * returns only posts newer than the cursor: nothing in a page says that
 * older ones fell out of reach.  The rule: a walk that started from a
 * stored cursor and received x.reach mentions or more may have missed
 * mentions between the cursor's
 * post and the oldest mention received.  Exactly x.reach new mentions
 * since the last walk is reported too: a false alarm beats a silent loss.
 * Called once per walk, after the walk is stored. */
static void report_gap(struct xsrc *x, const char *since_id)
{
    char from[40], to[40];
    long long since_at = xparse_id_time(since_id);

    utc_text(since_at, from, sizeof from);
    utc_text(x->oldest_at, to, sizeof to);
    log_error("X: mentions may be missing: more came in than X serves", "since_id=%s from=%s "
              "to=%s oldest_received=%lld received=%zu reach=%d", since_id, from,
              to, (long long)x->oldest_id, x->walk_total, x->cfg->x.reach);
    notice(x, "X serves only the newest %d mentions of @%s, and vigil received %zu since it "
           "last read them: mentions posted between %s and %s may be missing from the desk. "
           "Look for them on x.com (search \"@%s\"; X's recent search covers 7 days).",
           x->cfg->x.reach, x->cfg->x.handle, x->walk_total, from, to, x->cfg->x.handle);
}

/* Pace: spread what is left of the window over the time left in it. */
static double paced(struct xsrc *x)
{
    double delay = x->cfg->x.poll_interval;
    if (x->rl_reset && x->rl_limit) {
        double left = (double)(x->rl_reset - (long long)time(NULL)) + 1;
        if (x->rl_remaining <= 0)
            delay = left > delay ? left : delay;
        else if (left / (double)x->rl_remaining > delay)
            delay = left / (double)x->rl_remaining;
    }
    return delay;
}

/* The walk is complete (or, with resume_token set, a stretch of a long
 * one): store what it read, and the new cursor only when it is complete.
 * When the store refuses, the pages read are kept and only the store is
 * retried, backing off like any failure: re-walking would spend X's rate
 * window (once a second, it drained it and then waited 14 minutes). */
static void walk_done(struct xsrc *x)
{
    int partial = x->resume_token != NULL;
    const char *cursor = partial ? NULL : x->walk_newest ? x->walk_newest : x->cursor;

    if (x->acc.n || (cursor && (!x->cursor || strcmp(cursor, x->cursor)))) {
        if (x->base.deliver(x->base.deliver_arg, "x", &x->acc, cursor) != 0) {
            double wait = backoff_delay(++x->attempt, x->cfg->x.poll_interval < 5
                                        ? x->cfg->x.poll_interval : 5.0, 300.0);
            x->unstored = 1;
            snprintf(x->last_error, sizeof x->last_error, "the store refused the mentions");
            log_warn("X: mentions not stored; keeping the pages read and retrying the store",
                     "mentions=%zu retry_in=%.1fs attempt=%d", x->acc.n, wait, x->attempt);
            poll_later(x, wait, "store");
            return;
        }
        x->seen += (long long)x->acc.n;
        x->walk_total += x->acc.n;
        if (!partial && x->cursor && x->walk_total >= (size_t)x->cfg->x.reach)
            report_gap(x, x->cursor);
        if (cursor && (!x->cursor || strcmp(cursor, x->cursor))) {
            free(x->cursor);
            x->cursor = strdup(cursor);
        }
    }
    x->attempt = 0;
    x->unstored = 0;
    x->last_error[0] = '\0';
    if (partial) {
        mention_page_free(&x->acc);
        x->seg_start = x->pages;
        log_info("X: a long walk stored what it read; it goes on where it stopped",
                 "received=%zu", x->walk_total);
        poll_later(x, paced(x), "walk continues");
        return;
    }
    walk_reset(x);
    poll_later(x, paced(x), NULL);
}

static void on_page(struct xsrc *x, void *arg, const struct http_response *h)
{
    struct mention_page page;
    char err[256];
    /* enough pages to walk all that X serves, plus a last empty page */
    int max_pages = x->cfg->x.reach / x->cfg->x.max_results + 2, more;
    (void)arg;

    if (x->stopped)
        return;
    read_rate(x, h);
    update_state(x);
    if (h->status != 200) {
        walk_failed(x, h, "GET /2/users/:id/mentions");
        return;
    }
    if (xparse_mentions_page(h->body, h->len, &page, err, sizeof err)) {
        struct http_response bad = *h;
        bad.status = 0;
        bad.error = err;
        log_warn("X: unreadable mentions page", "error=%s", err);
        walk_failed(x, &bad, "GET /2/users/:id/mentions");
        return;
    }
    if (page.nerrors)
        log_warn("X: mentions page carried partial errors", "errors=%zu", page.nerrors);
    tally(x, "owned_read", (int64_t)page.n);
    tally(x, "post_read", (int64_t)page.included_posts);
    tally(x, "user_read", (int64_t)page.included_users);
    if (x->pages++ == 0 && page.newest_id)
        x->walk_newest = strdup(page.newest_id);   /* the cursor, once all pages are in */
    if (absorb(x, &page)) {
        mention_page_free(&page);
        walk_reset(x);
        poll_later(x, 5, "out of memory");
        return;
    }
    /* First start: only the newest `backfill` pages, not the whole history. */
    more = page.next_token &&
           (x->cursor || x->pages < (x->cfg->x.backfill > 0 ? x->cfg->x.backfill : 1));
    /* The cap bounds one stretch of a walk (memory, one burst of calls).
     * With a cursor, what lies past it is older than what was read but
     * newer than the cursor: the stretch is stored WITHOUT moving the
     * cursor, and the walk continues later from X's pagination_token
     * (same since_id), so the cursor moves past nothing unstored.  A crash
     * meanwhile restarts from the stored cursor; what was stored is
     * deduplicated.  A first start (no cursor) stops at its backfill. */
    if (more && x->pages - x->seg_start >= max_pages) {
        more = 0;
        if (x->cursor)
            x->resume_token = strdup(page.next_token);
        if (x->cursor && !x->resume_token) {
            mention_page_free(&page);
            walk_reset(x);
            poll_later(x, 5, "out of memory");
            return;
        }
    }
    if (more)
        request_page(x, page.next_token);
    else
        walk_done(x);
    mention_page_free(&page);
}

static void request_page(struct xsrc *x, const char *token)
{
    char url[2048];
    int n = snprintf(url, sizeof url, "%susers/%s/mentions?max_results=%d" FIELDS,
                     x->cfg->x.api_url, x->user_id, x->cfg->x.max_results);
    if (x->cursor)
        n += snprintf(url + n, sizeof url - (size_t)n, "&since_id=%s", x->cursor);
    if (token) {
        char *enc = oauth_encode(token);
        snprintf(url + n, sizeof url - (size_t)n, "&pagination_token=%s", enc ? enc : "");
        free(enc);
    }
    x->polls++;
    if (x_request(x, "GET", url, AUTH_READ, NULL, on_page, NULL)) {
        walk_reset(x);
        poll_later(x, 30, "no credential to read with");
    }
}

static void on_user(struct xsrc *x, void *arg, const struct http_response *h)
{
    char id[32];
    (void)arg;
    if (x->stopped)
        return;
    read_rate(x, h);
    if (h->status == 200 && xparse_data_field(h->body, h->len, "id", id, sizeof id) == 0 &&
        xparse_id(id) > 0) {
        x->user_id = strdup(id);
        tally(x, "user_read", 1);
        if (x->base.save)   /* one lookup per handle, not per start */
            x->base.save(x->base.svc_arg, "user_id", id);
        log_info("X: support handle resolved", "handle=%s user_id=%s", x->cfg->x.handle, id);
        update_state(x);
        poll_now(x);
        return;
    }
    if (h->status == 200) {
        char detail[300], type[64];
        xparse_problem(h->body, h->len, detail, sizeof detail, type, sizeof type);
        log_error("X: cannot find the support handle", "handle=%s detail=%s", x->cfg->x.handle,
                  detail);
        notice(x, "X has no account @%s (x.handle): %s", x->cfg->x.handle, detail);
        poll_later(x, AUTH_WAIT, "unknown handle");
        return;
    }
    walk_failed(x, h, "GET /2/users/by/username/:username");
}

static void poll_now(struct xsrc *x)
{
    char url[1024];
    if (x->stopped)
        return;
    if (x->unstored) {   /* the pages are here: only the store is retried */
        walk_done(x);
        return;
    }
    if (x->walking && x->resume_token) {
        char *token = x->resume_token;
        x->resume_token = NULL;
        request_page(x, token);
        free(token);
        return;
    }
    if (x->walking)
        return;
    if (!x->user_id) {
        snprintf(url, sizeof url, "%susers/by/username/%s", x->cfg->x.api_url, x->cfg->x.handle);
        if (x_request(x, "GET", url, AUTH_READ, NULL, on_user, NULL))
            poll_later(x, 30, "no credential");
        return;
    }
    x->walking = 1;
    request_page(x, NULL);
}

static void on_timer(uv_timer_t *t)
{
    poll_now(t->data);
}

static void poll_later(struct xsrc *x, double seconds, const char *why)
{
    if (x->stopped)
        return;
    if (why)
        log_debug("X: next poll", "in=%.1fs why=%s", seconds, why);
    update_state(x);
    uv_timer_start(&x->timer, on_timer, (uint64_t)(seconds * 1000), 0);
}

/* --- writing ------------------------------------------------------------- */

struct send {
    send_done_fn done;
    void *arg;
    int attempt, is_dm;
    /* a reply: what it answers and says, and since when it may be on X */
    char *in_reply_to, *text;
    int64_t since;
    int pages;               /* of own posts read looking for it */
};

static void answer_send(struct send *sd, enum send_status st, const char *ref, const char *error,
                   double retry_after)
{
    struct send_result r = { st, ref, error, retry_after };
    sd->done(sd->arg, &r);
    free(sd->in_reply_to);
    free(sd->text);
    free(sd);
}

static int contains(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

static void refresh_token(struct xsrc *x);

/* --- a duplicate refusal: did our earlier try go through? -----------------
 * X refuses a text that duplicates any recent post of the account, whoever
 * it answered (x-api.md §8), so a refusal proves only that some post had
 * that text.  The proof is a post of ours, since the job's first try, that
 * replies to this customer's post with this text. */

#define OWN_PAGES 5     /* 500 own posts: hours of a busy desk's replies */

#define DUPLICATE_FAIL "X refused this text as a duplicate of an earlier post; reword it"

static void read_own_posts(struct xsrc *x, struct send *sd, const char *token);

static void on_own_posts(struct xsrc *x, void *arg, const struct http_response *h)
{
    struct send *sd = arg;
    struct own_page page;
    const struct own_post *hit;
    char err[256], detail[300], type[64], why[500];

    read_rate(x, h);
    if (h->status != 200) {
        if (h->status)
            xparse_problem(h->body, h->len, detail, sizeof detail, type, sizeof type);
        else
            snprintf(detail, sizeof detail, "%s", h->error ? h->error : "network error");
        snprintf(why, sizeof why, "X called the reply a duplicate and vigil could not read "
                 "its own posts to check whether an earlier try went out (HTTP %ld: %s)",
                 h->status, detail);
        answer_send(sd, SEND_RETRY, NULL, why, h->status == 429 ? until_reset(h) : 0);
        return;
    }
    if (xparse_own_posts(h->body, h->len, &page, err, sizeof err)) {
        log_warn("X: unreadable page of own posts", "error=%s", err);
        snprintf(why, sizeof why, "X called the reply a duplicate and its list of our posts "
                 "was unreadable (%s)", err);
        answer_send(sd, SEND_RETRY, NULL, why, 0);
        return;
    }
    tally(x, "post_read", (int64_t)page.n);   /* priced as any post read, to be safe */
    hit = xparse_find_reply(&page, sd->in_reply_to, sd->text);
    if (hit) {
        log_info("X: a retried reply had gone out; its answer was lost", "in_reply_to=%s "
                 "id=%s attempt=%d", sd->in_reply_to, hit->id, sd->attempt);
        tally(x, "reply", 1);   /* its answer was lost, not its bill */
        snprintf(why, sizeof why, "%s", hit->id);
        own_page_free(&page);
        answer_send(sd, SEND_OK, why, NULL, 0);
        return;
    }
    if (page.next_token && sd->pages < OWN_PAGES) {
        read_own_posts(x, sd, page.next_token);
        own_page_free(&page);
        return;
    }
    log_warn("X: duplicate refused and no earlier try found: not sent", "in_reply_to=%s "
             "attempt=%d pages=%d more=%s", sd->in_reply_to, sd->attempt, sd->pages,
             page.next_token ? "yes" : "no");
    own_page_free(&page);
    answer_send(sd, SEND_FAIL, NULL, DUPLICATE_FAIL, 0);
}

/* Reads a page of the account's posts newer than both the customer's post
 * and the job's first try (newest first, so the walk stops early once a
 * busy desk's later replies are behind it). */
static void read_own_posts(struct xsrc *x, struct send *sd, const char *token)
{
    char url[1200];
    long long since = xparse_snowflake_at(sd->since), of = xparse_id(sd->in_reply_to);
    int n;

    if (!x->user_id || of <= 0) {
        answer_send(sd, SEND_RETRY, NULL, "X called the reply a duplicate; vigil cannot check its "
               "own posts before it knows its X user id", 0);
        return;
    }
    n = snprintf(url, sizeof url, "%susers/%s/tweets?max_results=100&since_id=%lld"
                 "&tweet.fields=referenced_tweets,entities", x->cfg->x.api_url, x->user_id,
                 since > of ? since : of);
    if (token) {
        char *enc = oauth_encode(token);
        snprintf(url + n, sizeof url - (size_t)n, "&pagination_token=%s", enc ? enc : "");
        free(enc);
    }
    sd->pages++;
    if (x_request(x, "GET", url, AUTH_READ, NULL, on_own_posts, sd))
        answer_send(sd, SEND_RETRY, NULL, "could not start reading our own posts", 0);
}

static void on_sent(struct xsrc *x, void *arg, const struct http_response *h)
{
    struct send *sd = arg;
    char id[40], detail[300], type[64], why[400];

    if (h->status == 201 || h->status == 200) {
        tally(x, sd->is_dm ? "dm" : "reply", 1);
        if (xparse_data_field(h->body, h->len, sd->is_dm ? "dm_event_id" : "id", id,
                              sizeof id) == 0) {
            answer_send(sd, SEND_OK, id, NULL, 0);
            return;
        }
        answer_send(sd, SEND_RETRY, NULL, "X answered without an id", 0);
        return;
    }
    if (h->status == 0) {
        answer_send(sd, SEND_RETRY, NULL, h->error ? h->error : "network error", 0);
        return;
    }
    xparse_problem(h->body, h->len, detail, sizeof detail, type, sizeof type);
    if (h->status == 429) {
        answer_send(sd, SEND_RETRY, NULL, "X rate limit", until_reset(h));
    } else if (h->status >= 500) {
        snprintf(why, sizeof why, "X had trouble (HTTP %ld)", h->status);
        answer_send(sd, SEND_RETRY, NULL, why, 0);
    } else if (h->status == 403 && contains(detail, "duplicate")) {
        /* Only a retried reply can be its own duplicate, and only the
         * account's posts can prove it was (never the refusal alone). */
        if (sd->attempt > 1 && !sd->is_dm)
            read_own_posts(x, sd, NULL);
        else
            answer_send(sd, SEND_FAIL, NULL, sd->is_dm ? "X refused this DM as a duplicate of an "
                   "earlier message; reword it" : DUPLICATE_FAIL, 0);
    } else if (h->status == 403 && contains(detail, "deleted or not visible")) {
        answer_send(sd, SEND_FAIL, NULL,
                    "the customer's tweet was deleted or is not visible to us", 0);
    } else if (!sd->is_dm && h->status == 403 && (strcmp(type, "disallowed-resource") == 0 ||
                                                  contains(detail, "not been mentioned"))) {
        /* Since 2026-02-23 self-serve apps may reply only to posts that
         * summoned the account; X's wording is unconfirmed, hence both tests. */
        snprintf(why, sizeof why, "the customer's post does not mention @%s, and X only lets "
                 "apps reply to posts that summon them; answer with /tw dm, or wait for them "
                 "to @mention us (X: %s)", x->cfg->x.handle, detail);
        answer_send(sd, SEND_FAIL, NULL, why, 0);
    } else if (sd->is_dm && h->status == 403) {
        snprintf(why, sizeof why, "the customer does not accept DMs from us (X: %s)", detail);
        answer_send(sd, SEND_FAIL, NULL, why, 0);
    } else if (h->status == 401 && x->access_token && !has_oauth1(x->cfg)) {
        refresh_token(x);   /* tokens last 2 h; the retry uses the new one */
        answer_send(sd, SEND_RETRY, NULL, "the X access token expired; refreshing it", 2);
    } else {
        snprintf(why, sizeof why, "X refused it (HTTP %ld): %s", h->status, detail);
        if (h->status == 401 || (h->status == 403 && strcmp(type, "unsupported-authentication") == 0))
            log_error("X refused the credentials for posting", "status=%ld credential=%s detail=%s",
                      h->status, has_oauth1(x->cfg) ? "x.oauth1" : "x.oauth2", detail);
        answer_send(sd, SEND_FAIL, NULL, why, 0);
    }
}

/* `sd` (taken) says who waits and, for a reply, what it says. */
static void post(struct xsrc *x, const char *url, json_t *body, struct send *sd,
                 send_done_fn done, void *arg)
{
    char *text = json_dumps(body, JSON_COMPACT);

    json_decref(body);
    if (!sd) {
        free(text);
        done(arg, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
        return;
    }
    sd->done = done;
    sd->arg = arg;
    if (!text)
        answer_send(sd, SEND_RETRY, NULL, "out of memory", 0);
    else if (!has_oauth1(x->cfg) && !x->access_token)
        answer_send(sd, SEND_FAIL, NULL,
                    "no credential to post with (x.oauth1 or x.oauth2 needed)", 0);
    else if (x_request(x, "POST", url, AUTH_WRITE, text, on_sent, sd))
        answer_send(sd, SEND_RETRY, NULL, "could not start the request", 0);
    free(text);
}

static void x_send_reply(struct source *s, const char *in_reply_to, const char *text,
                         int attempt, int64_t since, send_done_fn done, void *arg)
{
    struct xsrc *x = to_x(s);
    struct send *sd = calloc(1, sizeof *sd);
    char url[1024];
    if (sd) {
        sd->attempt = attempt;
        sd->since = since;
        sd->in_reply_to = strdup(in_reply_to);
        sd->text = strdup(text);
        if (!sd->in_reply_to || !sd->text) {
            free(sd->in_reply_to);
            free(sd->text);
            free(sd);
            sd = NULL;
        }
    }
    snprintf(url, sizeof url, "%stweets", x->cfg->x.api_url);
    post(x, url, json_pack("{s:s,s:{s:s}}", "text", text, "reply", "in_reply_to_tweet_id",
                           in_reply_to), sd, done, arg);
}

static void x_send_dm(struct source *s, const char *user_id, const char *text, int attempt,
                      send_done_fn done, void *arg)
{
    struct xsrc *x = to_x(s);
    struct send *sd = calloc(1, sizeof *sd);
    char url[1024];
    if (sd) {
        sd->attempt = attempt;
        sd->is_dm = 1;
    }
    snprintf(url, sizeof url, "%sdm_conversations/with/%s/messages", x->cfg->x.api_url, user_id);
    post(x, url, json_pack("{s:s}", "text", text), sd, done, arg);
}

/* --- issue 18: unsend (DELETE /2/tweets/:id) ------------------------------- */

struct del {
    send_done_fn done;
    void *arg;
    char id[40];
    int attempt;
};

static void on_deleted(struct xsrc *x, void *arg, const struct http_response *h)
{
    struct del *dl = arg;
    struct send_result r = { SEND_FAIL, NULL, NULL, 0 };
    char detail[300] = "", type[64] = "", why[400];

    if (h->status == 200 && xparse_deleted(h->body, h->len) == 1) {
        r.status = SEND_OK;
        r.ref = dl->id;
    } else if (h->status == 200) {
        r.status = SEND_RETRY;
        r.error = "X answered but did not say the post was deleted";
    } else if (h->status == 0) {
        r.status = SEND_RETRY;
        r.error = h->error ? h->error : "network error";
    } else {
        xparse_problem(h->body, h->len, detail, sizeof detail, type, sizeof type);
        if (h->status == 429) {
            r.status = SEND_RETRY;
            r.error = "X rate limit";
            r.retry_after = until_reset(h);
        } else if (h->status >= 500) {
            snprintf(why, sizeof why, "X had trouble (HTTP %ld)", h->status);
            r.status = SEND_RETRY;
            r.error = why;
        } else if (h->status == 404 && dl->attempt > 1) {
            r.status = SEND_OK;    /* the earlier try, whose answer was lost, deleted it */
            r.ref = dl->id;
        } else if (h->status == 404) {
            r.error = "X has no such post (it was deleted already?)";
        } else if (h->status == 401 && x->access_token && !has_oauth1(x->cfg)) {
            refresh_token(x);
            r.status = SEND_RETRY;
            r.error = "the X access token expired; refreshing it";
            r.retry_after = 2;
        } else {
            snprintf(why, sizeof why, "X refused to delete it (HTTP %ld): %s", h->status,
                     detail[0] ? detail : "no reason given");
            r.error = why;
        }
    }
    dl->done(dl->arg, &r);
    free(dl);
}

static void x_delete_post(struct source *s, const char *id, int attempt, send_done_fn done,
                          void *arg)
{
    struct xsrc *x = to_x(s);
    struct del *dl = calloc(1, sizeof *dl);
    char url[1024];

    if (!dl) {
        done(arg, &(struct send_result){ SEND_RETRY, NULL, "out of memory", 0 });
        return;
    }
    dl->done = done;
    dl->arg = arg;
    dl->attempt = attempt;
    snprintf(dl->id, sizeof dl->id, "%s", id);
    if (!*id || strspn(id, "0123456789") != strlen(id)) {
        free(dl);
        done(arg, &(struct send_result){ SEND_FAIL, NULL, "not a post id", 0 });
        return;
    }
    if (!has_oauth1(x->cfg) && !x->access_token) {
        free(dl);
        done(arg, &(struct send_result){ SEND_FAIL, NULL,
                                         "no credential to delete with (x.oauth1 or x.oauth2 "
                                         "needed)", 0 });
        return;
    }
    snprintf(url, sizeof url, "%stweets/%s", x->cfg->x.api_url, id);
    if (x_request(x, "DELETE", url, AUTH_WRITE, NULL, on_deleted, dl)) {
        free(dl);
        done(arg, &(struct send_result){ SEND_RETRY, NULL, "could not start the request", 0 });
    }
}

/* --- OAuth 2.0 refresh ------------------------------------------------------ */

static void on_token(struct xsrc *x, void *arg, const struct http_response *h)
{
    char *access = NULL, *refresh = NULL, detail[300], type[64];
    (void)arg;
    x->refreshing = 0;
    if (h->status == 200 && xparse_token(h->body, h->len, &access, &refresh) == 0) {
        log_add_secret(access);
        log_add_secret(refresh);
        /* Refresh tokens are single-use: keep the new pair before using it. */
        if (x->base.save && (x->base.save(x->base.svc_arg, "oauth2.refresh_token",
                                          refresh ? refresh : x->refresh_token) ||
                             x->base.save(x->base.svc_arg, "oauth2.access_token", access)))
            log_error("X: could not persist the rotated OAuth 2.0 tokens", "");
        free(x->access_token);
        x->access_token = access;
        if (refresh) {
            free(x->refresh_token);
            x->refresh_token = refresh;
        }
        log_info("X: OAuth 2.0 access token refreshed", "");
        return;
    }
    xparse_problem(h->body, h->len, detail, sizeof detail, type, sizeof type);
    log_error("X: refreshing the OAuth 2.0 token failed", "status=%ld detail=%s", h->status,
              detail);
    notice(x, "X refused to refresh vigil's OAuth 2.0 token (%s): replies and DMs will fail "
           "until x.oauth2 holds a valid refresh token.", detail);
}

static void refresh_token(struct xsrc *x)
{
    struct http_request req = { 0 };
    const char *headers[3];
    char url[1024], *body = NULL, *basic = NULL;
    char *rt = NULL, *cid = NULL;
    struct xreq *r;
    int n = 0;

    if (x->refreshing || !x->refresh_token || !x->cfg->x.oauth2.client_id)
        return;
    rt = oauth_encode(x->refresh_token);
    cid = oauth_encode(x->cfg->x.oauth2.client_id);
    if (!rt || !cid || asprintf(&body, "refresh_token=%s&grant_type=refresh_token&client_id=%s",
                                rt, cid) < 0)
        body = NULL;
    if (x->cfg->x.oauth2.client_secret) {
        /* confidential clients authenticate with Basic instead */
        char *pair = NULL, b64[1024];
        if (asprintf(&pair, "%s:%s", x->cfg->x.oauth2.client_id,
                     x->cfg->x.oauth2.client_secret) >= 0 && strlen(pair) < 700) {
            EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)pair, (int)strlen(pair));
            if (asprintf(&basic, "Authorization: Basic %s", b64) < 0)
                basic = NULL;
        }
        free(pair);
    }
    r = calloc(1, sizeof *r);
    if (!body || !r) {
        free(r);
        goto out;
    }
    snprintf(url, sizeof url, "%soauth2/token", x->cfg->x.api_url);
    headers[n++] = "Content-Type: application/x-www-form-urlencoded";
    if (basic)
        headers[n++] = basic;
    headers[n] = NULL;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = 20000;
    r->x = x;
    r->done = on_token;
    if (http_send(x->http, &req, on_http, r) == 0)
        x->refreshing = 1;
    else
        free(r);
out:
    free(rt);
    free(cid);
    free(body);
    free(basic);
}

/* --- lifecycle ---------------------------------------------------------- */

static int x_start(struct source *s, const char *cursor)
{
    struct xsrc *x = to_x(s);
    char *stored_a = NULL, *stored_r = NULL;

    free(x->cursor);
    x->cursor = cursor && xparse_id(cursor) > 0 ? strdup(cursor) : NULL;
    /* A rotated OAuth 2.0 pair in the store beats the config's (older) one. */
    if (x->base.load) {
        stored_a = x->base.load(x->base.svc_arg, "oauth2.access_token");
        stored_r = x->base.load(x->base.svc_arg, "oauth2.refresh_token");
    }
    if (!x->user_id && x->base.load) {
        char *id = x->base.load(x->base.svc_arg, "user_id");
        if (id && xparse_id(id) > 0)
            x->user_id = id;
        else
            free(id);
    }
    free(x->access_token);
    free(x->refresh_token);
    x->access_token = stored_a ? stored_a : x->cfg->x.oauth2.access_token ?
                      strdup(x->cfg->x.oauth2.access_token) : NULL;
    x->refresh_token = stored_r ? stored_r : x->cfg->x.oauth2.refresh_token ?
                       strdup(x->cfg->x.oauth2.refresh_token) : NULL;
    if (stored_a)
        log_add_secret(stored_a);
    if (stored_r)
        log_add_secret(stored_r);
    log_info("X source started", "handle=%s since_id=%s backfill=%d", x->cfg->x.handle,
             x->cursor ? x->cursor : "none", x->cfg->x.backfill);
    update_state(x);
    uv_timer_start(&x->timer, on_timer, 0, 0);
    return 0;
}

static void x_stop(struct source *s)
{
    struct xsrc *x = to_x(s);
    x->stopped = 1;
    uv_timer_stop(&x->timer);
}

static void free_x(uv_handle_t *h)
{
    struct xsrc *x = h->data;
    walk_reset(x);
    free(x->user_id);
    free(x->cursor);
    free(x->access_token);
    free(x->refresh_token);
    free(x);
}

static void x_destroy(struct source *s)
{
    struct xsrc *x = to_x(s);
    x->stopped = 1;
    uv_timer_stop(&x->timer);
    uv_close((uv_handle_t *)&x->timer, free_x);
}

static const char *x_state(struct source *s)
{
    return to_x(s)->state;
}

/* Today's tallies, read back from the store so a restart keeps them. */
static int x_usage(struct source *s, struct source_usage *u)
{
    struct xsrc *x = to_x(s);
    const struct { const char *item, *label; double price; } kinds[] = {
        { "owned_read", "own mentions read", x->cfg->x.prices.owned_read },
        { "post_read", "other posts read", x->cfg->x.prices.post_read },
        { "user_read", "users read", x->cfg->x.prices.user_read },
        { "reply", "replies", x->cfg->x.prices.reply },
        { "post", "other posts", x->cfg->x.prices.post },
        { "dm", "DMs sent", x->cfg->x.prices.dm },
        { "dm_event_read", "DM events read", x->cfg->x.prices.dm_event_read },
    };
    memset(u, 0, sizeof *u);
    if (!x->base.count)
        return -1;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && i < sizeof u->v / sizeof u->v[0];
         i++) {
        int64_t n = x->base.count(x->base.svc_arg, kinds[i].item, 0);
        if (n < 0)
            return -1;
        u->v[u->n].item = kinds[i].item;
        u->v[u->n].label = kinds[i].label;
        u->v[u->n].count = n;
        u->v[u->n].price = kinds[i].price;
        u->total += (double)n * kinds[i].price;
        u->n++;
    }
    return 0;
}

static const struct source_ops x_ops = {
    .name = "x",
    .start = x_start,
    .stop = x_stop,
    .destroy = x_destroy,
    .send_reply = x_send_reply,
    .send_dm = x_send_dm,
    .delete_post = x_delete_post,
    .state = x_state,
    .usage = x_usage,
    .permalink = xlink_permalink,
    .check_text = xlink_check_text,
};

struct source *x_new(uv_loop_t *loop, struct http *http, const struct config *cfg)
{
    struct xsrc *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->base.ops = &x_ops;
    x->loop = loop;
    x->http = http;
    x->cfg = cfg;
    x->user_id = cfg->x.user_id ? strdup(cfg->x.user_id) : NULL;
    uv_timer_init(loop, &x->timer);
    x->timer.data = x;
    snprintf(x->state, sizeof x->state, "x: not started");
    return &x->base;
}
