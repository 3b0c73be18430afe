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

struct source_ops {
    const char *name;
    /* Begins delivering pages; `cursor` is the last committed one (NULL on
     * first start).  Borrowed. */
    int (*start)(struct source *s, const char *cursor);
    void (*stop)(struct source *s);
    void (*destroy)(struct source *s);
    /* `attempt` is 1 for a first try; later tries may find the first one
     * actually went through (X then calls the text a duplicate). */
    void (*send_reply)(struct source *s, const char *in_reply_to, const char *text,
                       int attempt, send_done_fn done, void *arg);
    void (*send_dm)(struct source *s, const char *user_id, const char *text, int attempt,
                    send_done_fn done, void *arg);
    const char *(*state)(struct source *s);
};

struct source {
    const struct source_ops *ops;
    source_deliver_fn deliver;
    void *deliver_arg;
    /* Services main wires in (each may be NULL): a message for the admins;
     * small persistent values (rotated tokens), load returns new or NULL. */
    void (*notice)(void *arg, const char *text);
    char *(*load)(void *arg, const char *key);
    int (*save)(void *arg, const char *key, const char *value);
    void *svc_arg;
};

#endif
