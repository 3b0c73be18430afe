/* record.h — a chat and a source that send nothing: every post, thread
 * line, channel message, public reply, DM, deleted post and shared file
 * the outbox hands them is kept
 * in order and answered at once, for `vigil test` and `vigil replay`.
 * Knows the chat and source interfaces; never a wire format or the store. */
#ifndef VIGIL_RECORD_H
#define VIGIL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "chat/chat.h"
#include "source/source.h"

/* One thing the bot showed or sent.  Strings owned by the recorder. */
struct record_entry {
    const char *kind;     /* "ticket", "update", "thread", "channel", "reply", "dm",
                           * "edit": line `ref` now reads `text` (also rewritten there),
                           * "delete": post `to` deleted (unsend), or "upload": file
                           * `to` titled `ref` holding `text` shared in `channel` */
    int64_t ticket;       /* ticket posts and updates, and thread lines under them; else 0 */
    char *channel;        /* chat sends */
    char *ref;            /* what the send answered (ticket message "ts-1", line "line-3") */
    char *to;             /* reply: the tweet answered; dm: the customer's user id */
    char *text;           /* thread/channel/reply/dm text (update_line rewrites it); for
                           * ticket posts and updates: "<status> <assignee or ->" */
    char *posted;         /* thread/channel lines: the text as first posted (the
                           * transcript shows that; `text` follows later edits) */
    int64_t at;           /* when it was sent on the bot's clock (record_stamp) */
};

struct recorder {
    struct chat chat;
    struct source source;
    struct record_entry *v;
    size_t n, cap;
    int64_t lines;        /* refs handed out */
    size_t stamped;       /* entries record_stamp has dated */
    const char *fail_kind;   /* the next send of this kind fails for good (static) */
    char fail_error[200];    /* ...with this error, as the platform would say it */
};

/* Returns new, free with record_free(); NULL when out of memory. */
struct recorder *record_new(void);
void record_free(struct recorder *r);
/* Dates every entry recorded since the last call `now` (the recorder has
 * no clock of its own: its owner calls this after each turn of the loop). */
void record_stamp(struct recorder *r, int64_t now);

#endif
