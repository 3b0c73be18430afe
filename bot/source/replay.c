/* replay.c — a source that replays a JSON-lines file of X API v2 mentions
 * pages (one page per line, exactly as the API returns it).  The cursor is
 * the number of lines already stored, so a restart resumes where it left
 * off.  Tweets are re-timed to the moment they are delivered: replay
 * stands in for live traffic, and the SLA clock should tick from "now".
 * The file is read a line at a time as pages are due (45 MB of pages once
 * became 50 MB of heap when it was read whole); only its page count is
 * taken up front, for :status. */
#include "source/replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "source/xlink.h"
#include "source/xparse.h"

struct replay {
    struct source base;
    uv_loop_t *loop;
    uv_timer_t timer;
    char *path;
    FILE *f;               /* positioned after the `next` pages delivered */
    char *line;            /* getline's buffer: the page being delivered */
    size_t cap;
    size_t nlines, next;   /* pages (non-blank lines) in the file; delivered */
    double interval;
    long long sent;        /* replies and DMs "sent" */
    char state[128];
    int running, timer_open;
};

#define to_replay(s) ((struct replay *)(s))

/* Reads the next non-blank line into r->line.  Returns its length
 * (newline cut), or -1 at the end of the file. */
static ssize_t next_line(struct replay *r)
{
    for (;;) {
        ssize_t n = getline(&r->line, &r->cap, r->f);
        if (n < 0)
            return -1;
        while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r'))
            r->line[--n] = '\0';
        if (n > 0)
            return n;
    }
}

/* Opens the file and counts its pages; leaves it at the first. */
static int open_file(struct replay *r)
{
    r->f = fopen(r->path, "r");
    if (!r->f) {
        log_error("cannot open replay file", "path=%s error=%s", r->path, strerror(errno));
        return -1;
    }
    while (next_line(r) >= 0)
        r->nlines++;
    rewind(r->f);
    return 0;
}

static void cursor_string(struct replay *r, size_t next, char *out, size_t len)
{
    snprintf(out, len, "%s#%zu", r->path, next);
}

static void deliver_next(struct replay *r)
{
    struct mention_page page;
    char err[256], cursor[512];
    int64_t now = (int64_t)time(NULL);
    size_t lineno = r->next + 1;
    long at = ftell(r->f);
    ssize_t len = r->next < r->nlines ? next_line(r) : -1;

    if (len < 0) {
        if (r->running) {
            log_info("replay finished", "path=%s pages=%zu", r->path, r->nlines);
            snprintf(r->state, sizeof r->state, "replay finished (%zu pages)", r->nlines);
            uv_timer_stop(&r->timer);
        }
        return;
    }
    cursor_string(r, r->next + 1, cursor, sizeof cursor);
    if (xparse_mentions_page(r->line, (size_t)len, &page, err, sizeof err)) {
        /* A broken line can never parse: say so and move past it. */
        log_error("replay line is not a mentions page; skipped", "path=%s line=%zu error=%s",
                  r->path, lineno, err);
        memset(&page, 0, sizeof page);
    }
    for (size_t i = 0; i < page.n; i++)
        page.v[i].created_at = now;
    if (page.nerrors)
        log_warn("mentions page carried errors", "path=%s line=%zu errors=%zu", r->path,
                 lineno, page.nerrors);
    if (r->base.deliver(r->base.deliver_arg, "replay", &page, cursor) == 0) {
        r->next++;
        snprintf(r->state, sizeof r->state, "replaying %s: page %zu of %zu", r->path,
                 r->next, r->nlines);
    } else if (at >= 0) {
        fseek(r->f, at, SEEK_SET);   /* on failure the same page is offered again next tick */
    }
    mention_page_free(&page);
}

static void on_timer(uv_timer_t *t)
{
    deliver_next(t->data);
}

static size_t parse_cursor(struct replay *r, const char *cursor)
{
    const char *hash;
    size_t plen = strlen(r->path);
    long long n;
    char *end;

    if (!cursor)
        return 0;
    hash = strrchr(cursor, '#');
    /* A cursor from another file means nothing here: start from the top. */
    if (!hash || (size_t)(hash - cursor) != plen || strncmp(cursor, r->path, plen) != 0)
        return 0;
    n = strtoll(hash + 1, &end, 10);
    if (*end || n < 0)
        return 0;
    return (size_t)n > r->nlines ? r->nlines : (size_t)n;
}

static int replay_start(struct source *s, const char *cursor)
{
    struct replay *r = to_replay(s);
    uint64_t ms = (uint64_t)(r->interval * 1000);

    r->next = parse_cursor(r, cursor);
    rewind(r->f);
    for (size_t i = 0; i < r->next; i++)   /* past the pages already stored */
        next_line(r);
    r->running = 1;
    snprintf(r->state, sizeof r->state, "replaying %s: page %zu of %zu", r->path, r->next,
             r->nlines);
    log_info("replay source started", "path=%s pages=%zu resume_at=%zu interval=%g",
             r->path, r->nlines, r->next, r->interval);
    uv_timer_start(&r->timer, on_timer, ms ? ms : 1, ms ? ms : 1);
    return 0;
}

static void replay_stop(struct source *s)
{
    struct replay *r = to_replay(s);
    r->running = 0;
    uv_timer_stop(&r->timer);
}

static void free_replay(uv_handle_t *h)
{
    struct replay *r = h->data;
    if (r->f)
        fclose(r->f);
    free(r->line);
    free(r->path);
    free(r);
}

static void replay_destroy(struct source *s)
{
    struct replay *r = to_replay(s);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, free_replay);
}

/* Replies "sent" offline get an id that looks like a tweet id and cannot
 * collide with the replayed ones (they are far in the past). */
static void fake_id(struct replay *r, char *out, size_t len)
{
    snprintf(out, len, "%lld", 1900000000000000000LL + (long long)time(NULL) * 1000 + ++r->sent);
}

static void replay_send_reply(struct source *s, const char *in_reply_to, const char *text,
                              int attempt, int64_t since, send_done_fn done, void *arg)
{
    struct replay *r = to_replay(s);
    struct send_result res = { SEND_OK, NULL, NULL, 0 };
    char id[32];
    fake_id(r, id, sizeof id);
    log_info("replay: reply recorded (not sent: offline)", "in_reply_to=%s id=%s text=%s",
             in_reply_to, id, text);
    res.ref = id;
    done(arg, &res);
}

static void replay_send_dm(struct source *s, const char *user_id, const char *text,
                           int attempt, send_done_fn done, void *arg)
{
    struct replay *r = to_replay(s);
    struct send_result res = { SEND_OK, NULL, NULL, 0 };
    char id[32];
    fake_id(r, id, sizeof id);
    log_info("replay: DM recorded (not sent: offline)", "to=%s id=%s text=%s", user_id, id,
             text);
    res.ref = id;
    done(arg, &res);
}

/* issue 18: an unsend offline deletes nothing, and says so. */
static void replay_delete_post(struct source *s, const char *id, int attempt,
                               send_done_fn done, void *arg)
{
    struct send_result res = { SEND_OK, id, NULL, 0 };
    (void)s;
    (void)attempt;
    log_info("replay: delete recorded (not sent: offline)", "id=%s", id);
    done(arg, &res);
}

static const char *replay_state(struct source *s)
{
    return to_replay(s)->state;
}

/* The replayed mentions are X's, so links and lengths follow X's rules. */
static const struct source_ops replay_ops = {
    .name = "replay",
    .start = replay_start,
    .stop = replay_stop,
    .destroy = replay_destroy,
    .send_reply = replay_send_reply,
    .send_dm = replay_send_dm,
    .delete_post = replay_delete_post,
    .state = replay_state,
    .usage = NULL,   /* replaying costs nothing */
    .permalink = xlink_permalink,
    .check_text = xlink_check_text,
};

struct source *replay_new(uv_loop_t *loop, const char *path, double interval)
{
    struct replay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base.ops = &replay_ops;
    r->loop = loop;
    r->path = strdup(path);
    r->interval = interval;
    if (!r->path || open_file(r)) {
        free(r->line);
        free(r->path);
        free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    return &r->base;
}
