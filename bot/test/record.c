/* record.c — see record.h.  Chat refs are made up the way Slack's look
 * in tests ("ts-<ticket>" for a ticket message, "line-<n>" for a thread
 * line), so a thread line names its ticket without a lookup. */
#include "test/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/xlink.h"

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Appends an entry; returns it (fields copied), or NULL when out of memory. */
static struct record_entry *add(struct recorder *r, const char *kind, int64_t ticket,
                                const char *channel, const char *to, const char *text)
{
    struct record_entry *e;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct record_entry *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return NULL;
        r->v = v;
        r->cap = cap;
    }
    e = &r->v[r->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->ticket = ticket;
    e->channel = dup_or_null(channel);
    e->to = dup_or_null(to);
    e->text = dup_or_null(text);
    return e;
}

/* Answers a send: OK with `ref`, or the failure the test set up for the
 * next send of this kind (once). */
static void answer(struct recorder *r, const char *kind, send_done_fn done, void *arg,
                   const char *ref)
{
    struct send_result res = { .status = SEND_OK, .ref = ref };
    if (r->fail_kind && strcmp(r->fail_kind, kind) == 0) {
        r->fail_kind = NULL;
        res = (struct send_result){ .status = SEND_FAIL, .error = r->fail_error };
    }
    done(arg, &res);
}

static void ok(send_done_fn done, void *arg, const char *ref)
{
    struct send_result res = { .status = SEND_OK, .ref = ref };
    done(arg, &res);
}

static struct recorder *of_chat(struct chat *c) { return (struct recorder *)c; }

static struct recorder *of_source(struct source *s)
{
    return (struct recorder *)((char *)s - offsetof(struct recorder, source));
}

/* "ts-12" -> 12; anything else -> 0. */
static int64_t ticket_of_ref(const char *ref)
{
    return ref && strncmp(ref, "ts-", 3) == 0 ? strtoll(ref + 3, NULL, 10) : 0;
}

static void view_text(const struct ticket_view *t, char *out, size_t len)
{
    snprintf(out, len, "%s %s", t->status, t->assignee_name ? t->assignee_name : "-");
}

static void r_post_ticket(struct chat *c, const char *channel, const struct ticket_view *t,
                          send_done_fn done, void *arg)
{
    char text[256], ref[32];
    struct record_entry *e;
    view_text(t, text, sizeof text);
    snprintf(ref, sizeof ref, "ts-%" PRId64, t->id);
    e = add(of_chat(c), "ticket", t->id, channel, NULL, text);
    if (e)
        e->ref = strdup(ref);
    ok(done, arg, ref);
}

static void r_update_ticket(struct chat *c, const char *channel, const char *ref,
                            const struct ticket_view *t, send_done_fn done, void *arg)
{
    char text[256];
    view_text(t, text, sizeof text);
    add(of_chat(c), "update", t->id, channel, NULL, text);
    ok(done, arg, ref);
}

static void line(struct recorder *r, const char *kind, const char *channel, const char *thread,
                 const char *text, send_done_fn done, void *arg)
{
    char ref[32];
    struct record_entry *e = add(r, kind, ticket_of_ref(thread), channel, NULL, text);
    snprintf(ref, sizeof ref, "line-%" PRId64, ++r->lines);
    if (e) {
        e->ref = strdup(ref);
        e->posted = text ? strdup(text) : NULL;
    }
    ok(done, arg, ref);
}

static void r_post_thread(struct chat *c, const char *channel, const char *ref,
                          const char *text, send_done_fn done, void *arg)
{
    line(of_chat(c), "thread", channel, ref, text, done, arg);
}

static void r_post_channel(struct chat *c, const char *channel, const char *text,
                           send_done_fn done, void *arg)
{
    line(of_chat(c), "channel", channel, NULL, text, done, arg);
}

/* A receipt going "queued" -> "sent": the line shows its latest text. */
static void r_update_line(struct chat *c, const char *channel, const char *ref,
                          const char *text, const char *resend, send_done_fn done, void *arg)
{
    struct recorder *r = of_chat(c);
    for (size_t i = r->n; i-- > 0;)
        if (r->v[i].ref && strcmp(r->v[i].kind, "edit") && strcmp(r->v[i].ref, ref) == 0) {
            char *t = strdup(text);
            struct record_entry *e;
            int64_t ticket = r->v[i].ticket;
            if (t) {
                free(r->v[i].text);
                r->v[i].text = t;
            }
            e = add(r, "edit", ticket, channel, NULL, text);   /* moves r->v */
            if (e)
                e->ref = strdup(ref);
            break;
        }
    ok(done, arg, ref);
}

static const char *r_state(struct chat *c) { return "recording"; }
static const char *r_source_state(struct source *s) { return "recording"; }

static void r_send_reply(struct source *s, const char *in_reply_to, const char *text,
                         int attempt, int64_t since, send_done_fn done, void *arg)
{
    struct recorder *r = of_source(s);
    char ref[32];
    struct record_entry *e = add(r, "reply", 0, NULL, in_reply_to, text);
    snprintf(ref, sizeof ref, "%" PRId64, (int64_t)1900000000000000000 + (int64_t)r->n);
    if (e)
        e->ref = strdup(ref);
    answer(r, "reply", done, arg, ref);
}

static void r_send_dm(struct source *s, const char *user_id, const char *text, int attempt,
                      send_done_fn done, void *arg)
{
    struct recorder *r = of_source(s);
    char ref[32];
    struct record_entry *e = add(r, "dm", 0, NULL, user_id, text);
    snprintf(ref, sizeof ref, "dm-%zu", r->n);
    if (e)
        e->ref = strdup(ref);
    answer(r, "dm", done, arg, ref);
}

/* unsend: the post `id` is "deleted" (kind "delete", `to` the id), or
 * refused the way fail_next("delete") set up. */
static void r_delete_post(struct source *s, const char *id, int attempt, send_done_fn done,
                          void *arg)
{
    struct recorder *r = of_source(s);
    int failing = r->fail_kind && strcmp(r->fail_kind, "delete") == 0;
    if (!failing)
        add(r, "delete", 0, NULL, id, NULL);
    answer(r, "delete", done, arg, id);
}

/* export: the file is kept (kind "upload", `to` the file name, `ref` its
 * title, `text` its bytes) and given a made-up file id. */
static void r_upload_file(struct chat *c, const char *channel, const char *filename,
                          const char *title, const char *data, size_t len, send_done_fn done,
                          void *arg)
{
    struct recorder *r = of_chat(c);
    struct record_entry *e = add(r, "upload", 0, channel, filename, NULL);
    char ref[32];
    snprintf(ref, sizeof ref, "file-%zu", r->n);
    if (e) {
        e->ref = dup_or_null(title);
        e->text = strndup(data ? data : "", data ? len : 0);
    }
    ok(done, arg, ref);
}

static int r_start(struct chat *c) { return 0; }
static void r_stop(struct chat *c) {}
static void r_destroy(struct chat *c) {}
static int r_source_start(struct source *s, const char *cursor) { return 0; }
static void r_source_stop(struct source *s) {}
static void r_source_destroy(struct source *s) {}

static const struct chat_ops record_chat_ops = {
    .name = "record",
    .start = r_start,
    .stop = r_stop,
    .destroy = r_destroy,
    .post_ticket = r_post_ticket,
    .update_ticket = r_update_ticket,
    .post_thread = r_post_thread,
    .post_channel = r_post_channel,
    .state = r_state,
    .update_line = r_update_line,
    .upload_file = r_upload_file,
};

static const struct source_ops record_source_ops = {
    .name = "record",
    .start = r_source_start,
    .stop = r_source_stop,
    .destroy = r_source_destroy,
    .send_reply = r_send_reply,
    .send_dm = r_send_dm,
    .delete_post = r_delete_post,
    .state = r_source_state,
    .permalink = xlink_permalink,
    .check_text = xlink_check_text,
};

struct recorder *record_new(void)
{
    struct recorder *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->chat.ops = &record_chat_ops;
    r->source.ops = &record_source_ops;
    return r;
}

void record_free(struct recorder *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].channel);
        free(r->v[i].ref);
        free(r->v[i].to);
        free(r->v[i].text);
        free(r->v[i].posted);
    }
    free(r->v);
    free(r);
}

void record_stamp(struct recorder *r, int64_t now)
{
    for (; r->stamped < r->n; r->stamped++)
        r->v[r->stamped].at = now;
}
