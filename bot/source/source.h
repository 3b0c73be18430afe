/* source.h — the source interface: where mentions come from and where
 * replies and DMs go.  Implementations: source/replay.c (offline),
 * source/x.c.  Sources own their wire format; the desk sees mention_page. */
#ifndef VIGIL_SOURCE_H
#define VIGIL_SOURCE_H

#include "core/send.h"
#include "source/mention.h"

/* Stores a page and the source's new cursor in one transaction.  Returns 0
 * when committed; the source must not advance past the page otherwise. */
typedef int (*source_deliver_fn)(void *arg, const char *source,
                                 const struct mention_page *page, const char *cursor);

struct source;

/* What a source did on its platform today (UTC) and what the platform
 * charges for it: one item per billed kind of call. */
struct source_usage_item {
    const char *item;           /* the price key: "owned_read", "reply", ... */
    const char *label;          /* for people: "own mentions read" */
    int64_t count;
    double price;               /* per unit, in USD, from the config */
};

struct source_usage {
    struct source_usage_item v[8];
    size_t n;
    double total;               /* sum of count * price */
};

/* How the platform would count a text, and whether it would take it
 * (check_text). */
struct source_text {
    int weighted;        /* the length the platform compares to `max` */
    int max;             /* the platform's limit, in the same units */
    int valid;           /* 1 if the platform would accept the text */
    const char *reason;  /* NULL when valid; else a short static English reason */
};

struct source_ops {
    const char *name;
    /* Begins delivering pages; `cursor` is the last committed one (NULL on
     * first start).  Borrowed. */
    int (*start)(struct source *s, const char *cursor);
    void (*stop)(struct source *s);
    void (*destroy)(struct source *s);
    /* `attempt` is 1 for a first try; later tries may find the first one
     * actually went through (X then calls the text a duplicate, and the
     * source looks for the reply among its posts since `since`, Unix
     * seconds no later than the first try). */
    void (*send_reply)(struct source *s, const char *in_reply_to, const char *text,
                       int attempt, int64_t since, send_done_fn done, void *arg);
    void (*send_dm)(struct source *s, const char *user_id, const char *text, int attempt,
                    send_done_fn done, void *arg);
    /* Optional (issue 18, unsend): deletes the account's own post `id`.
     * done() gets SEND_OK (ref: the id) once it is gone, SEND_RETRY when it
     * could not tell (5xx, 429, network), SEND_FAIL with the platform's
     * reason otherwise.  `attempt` > 1: a post already gone counts as
     * deleted (the earlier try may have done it).  NULL: cannot delete. */
    void (*delete_post)(struct source *s, const char *id, int attempt, send_done_fn done,
                        void *arg);
    const char *(*state)(struct source *s);
    /* Today's billed usage; 0 when filled.  NULL for a source that costs
     * nothing (replay). */
    int (*usage)(struct source *s, struct source_usage *u);
    /* The public link to post `id` by `handle` (which may be NULL or not a
     * valid handle) in `out` (`len` bytes).  Returns 0, or -1 with out = ""
     * when `id` has no link. */
    int (*permalink)(struct source *s, const char *handle, const char *id, char *out,
                     size_t len);
    /* Counts `text` (`len` bytes, need not be NUL-terminated) the way the
     * platform does before it is posted.  Returns 0, or -1 on allocation
     * failure (out undefined). */
    int (*check_text)(struct source *s, const char *text, size_t len, struct source_text *out);
};

struct source {
    const struct source_ops *ops;
    source_deliver_fn deliver;
    void *deliver_arg;
    /* Services main wires in (each may be NULL): a message for the admins;
     * small persistent values (rotated tokens), load returns new or NULL;
     * count adds `add` to today's (UTC) tally of `item` and returns the
     * new tally, or -1 (add 0 to read it). */
    void (*notice)(void *arg, const char *text);
    char *(*load)(void *arg, const char *key);
    int (*save)(void *arg, const char *key, const char *value);
    int64_t (*count)(void *arg, const char *item, int64_t add);
    void *svc_arg;
};

#endif
