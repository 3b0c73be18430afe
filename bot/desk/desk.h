/* desk.h — the help desk: tickets, their audit trail, and the durable jobs
 * that show them in chat and answer customers.  Knows the store and the chat
 * and source interfaces; never Slack's or X's wire formats. */
#ifndef VIGIL_DESK_H
#define VIGIL_DESK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"
#include "source/mention.h"
#include "store/store.h"

struct desk;
struct chat;
struct source;
struct source_usage;
struct source_text;

enum desk_rc {
    DESK_OK = 0,
    DESK_ERR = 1,        /* store failure; logged, nothing changed */
    DESK_INVALID = 2,    /* refused; `err` holds the message for the user */
    DESK_NOTFOUND = 3,   /* no such ticket; `err` says so */
};

/* What changed, for observers (admin :tail, tests). */
enum desk_event_kind { DESK_EV_TICKET, DESK_EV_MENTION, DESK_EV_JOB, DESK_EV_SLA };

/* Script hooks (the Lua runtime installs them).  Each returns 0, or -1 to
 * report that the hook failed (logged by the hook; ingest goes on). */
struct desk_hooks {
    /* Runs inside the ingest transaction, after the ticket exists. */
    int (*on_mention)(void *arg, int64_t ticket_id, const struct mention *m, int is_new);
    int (*on_sla_warning)(void *arg, int64_t ticket_id);
    /* Returns 1 when the hook handled the breach itself; 0 lets the desk
     * apply the default (escalate with "first-response target missed"). */
    int (*on_sla_breach)(void *arg, int64_t ticket_id);
    void *arg;
};

typedef void (*desk_observer_fn)(void *arg, enum desk_event_kind kind, int64_t ticket_id,
                                 const char *what, const char *detail);

/* Borrows store and config (they outlive the desk). */
struct desk *desk_new(uv_loop_t *loop, struct store *store, const struct config *cfg);
void desk_free(struct desk *d);
/* Wires the adapters the outbox sends through; borrowed. */
void desk_set_adapters(struct desk *d, struct chat *chat, struct source *source);
void desk_set_hooks(struct desk *d, const struct desk_hooks *hooks);
void desk_set_observer(struct desk *d, desk_observer_fn fn, void *arg);
/* Starts the outbox scheduler and the SLA clock. */
int desk_start(struct desk *d);
/* Stops taking new work: no new sends start; in-flight ones may finish. */
void desk_stop(struct desk *d);
/* Number of sends in flight (shutdown waits for 0, bounded). */
int desk_inflight(struct desk *d);

struct store *desk_store(struct desk *d);
const struct config *desk_config(struct desk *d);
int64_t desk_now(struct desk *d);
/* Tests move the desk's clock; 0 returns to the real one. */
void desk_set_clock(struct desk *d, int64_t fixed_now);
/* Steps the wall clock vigil reads by `seconds` (as `date -s` or an NTP
 * step would), the monotonic one not: for tests of clock steps. */
void desk_step_clock(struct desk *d, int64_t seconds);

/* --- ingest ------------------------------------------------------------ */
struct ingest_stats {
    int stored, opened, attached, edited, skipped, duplicates;
};
/* In ONE transaction: stores each new mention of `page` (deduped by id and
 * by original id), opens or attaches tickets, runs on_mention, queues the
 * chat jobs, and sets `source`'s cursor to `cursor` (when not NULL).
 * Returns DESK_OK when committed; on error nothing is stored. */
int desk_ingest(struct desk *d, const char *source, const struct mention_page *page,
                const char *cursor, struct ingest_stats *stats);

/* --- ticket operations -------------------------------------------------
 * `actor` is a staff id (or "system", "hook:<name>").  Each validates,
 * updates the ticket, appends to the audit log and queues what it must show
 * or send, in one transaction.  On DESK_INVALID/NOTFOUND `err` holds a
 * message for the user. */
int desk_assign(struct desk *d, const char *actor, int64_t id, const char *staff_id,
                char *err, size_t errlen);
int desk_unassign(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
/* `text` is the final public text (signature included). */
int desk_reply(struct desk *d, const char *actor, int64_t id, const char *text,
               char *err, size_t errlen);
int desk_dm(struct desk *d, const char *actor, int64_t id, const char *text,
            char *err, size_t errlen);
/* A DM that, once X confirmed it, is followed by the public reply of the
 * canned answer `dm_notice` (filled in: {handle}, {name}, {ticket}, {code});
 * if it fails, the thread offers `dm_ask` instead; nothing public goes out. */
int desk_dm_notice(struct desk *d, const char *actor, int64_t id, const char *text,
                   char *err, size_t errlen);
/* Queues the ticket's last failed reply or DM again: the same job (its id
 * and X's duplicate check carry through), with `text` instead when not
 * NULL.  On DESK_OK `err` holds "reply" or "dm": what was resent. */
int desk_resend(struct desk *d, const char *actor, int64_t id, const char *text,
                char *err, size_t errlen);
int desk_note(struct desk *d, const char *actor, int64_t id, const char *text,
              char *err, size_t errlen);
int desk_escalate(struct desk *d, const char *actor, int64_t id, const char *reason,
                  char *err, size_t errlen);
int desk_close(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
int desk_reopen(struct desk *d, const char *actor, int64_t id, char *err, size_t errlen);
int desk_tag(struct desk *d, const char *actor, int64_t id, const char *tag,
             char *err, size_t errlen);
int desk_set_priority(struct desk *d, const char *actor, int64_t id, const char *priority,
                      char *err, size_t errlen);
/* Appends an audit event with no other effect (denials, script errors). */
int desk_audit(struct desk *d, int64_t ticket_id, const char *actor, const char *action,
               const char *detail);
/* Posts `text` to a channel through the outbox (e.g. admin notices). */
int desk_post_channel(struct desk *d, const char *channel, const char *text);
/* Shares `len` bytes as a file in `channel` (issue 17 §7: /tw export), now
 * and not through the outbox: a report asked for again is cheaper than one
 * kept across restarts.  A failure is said in the channel and the log.
 * DESK_INVALID when the chat takes no files. */
int desk_upload_file(struct desk *d, const char *channel, const char *filename,
                     const char *title, const char *data, size_t len);
/* A link to a ticket's chat message (chat_channel, chat_ref) into `out`;
 * 0 when the chat could make one. */
int desk_chat_link(struct desk *d, const char *channel, const char *ref, char *out, size_t len);

/* One-line states of the chat and the source adapters (borrowed; "" when
 * none is wired). */
const char *desk_chat_state(struct desk *d);
const char *desk_source_state(struct desk *d);
/* Today's (UTC) billed usage of the source, priced; -1 when the source
 * counts nothing (replay). */
int desk_source_usage(struct desk *d, struct source_usage *u);

/* The source's public link to post `id` by `handle` in `out` (`len`
 * bytes).  Returns 0, or -1 with out = "" when there is none (no source
 * wired, or the id has no link). */
int desk_permalink(struct desk *d, const char *handle, const char *id, char *out, size_t len);
/* How the source would count `text` (`len` bytes) before posting it.
 * Returns 0, or -1 on allocation failure or when no source can tell. */
int desk_check_text(struct desk *d, const char *text, size_t len, struct source_text *out);

/* The ticket lists people ask for by name, the default ("open") first;
 * NULL-terminated, static. */
const char *const *desk_ticket_filters(void);
/* The same as words for a message: "open, mine, ... closed or all".  Static. */
const char *desk_ticket_filter_names(void);
/* Ticket ids of list `filter` (one of desk_ticket_filters(); "mine" is
 * the open tickets assigned to `self`), newest first, at most `limit`.
 * Returns DESK_OK with `*ids` new (caller frees with free(); NULL when
 * empty) and `*n` set, or DESK_INVALID for an unknown filter. */
int desk_ticket_list(struct desk *d, const char *filter, const char *self, size_t limit,
                     int64_t **ids, size_t *n);

/* A ticket's status as people see it: "new", "assigned", "escalated" or
 * "closed".  Static string. */
const char *desk_ticket_status(const struct ticket *t);

/* The chat destinations refusing every post right now, one per line:
 * "not_in_channel #support since 2026-12-05T21:03:04Z" (written to `buf`;
 * "" when none).  Returns `buf`. */
const char *desk_blocked(struct desk *d, char *buf, size_t len);

/* Seconds the oldest queued or in-flight outbox job has waited; 0 when
 * nothing waits, -1 when the store cannot tell. */
int64_t desk_outbox_waiting(struct desk *d);

/* Display name of a staff id (or the id itself when unknown).  Borrowed. */
const char *desk_staff_name(struct desk *d, const char *id);

/* --- SLA and outbox (desk/sla.c, desk/outbox.c) ------------------------ */
/* Checks every open ticket without a first response; emits warnings and
 * breaches that are due at `now`.  Idempotent. */
int desk_sla_check(struct desk *d);
/* Runs whatever outbox jobs are due now (the scheduler calls it). */
void desk_outbox_kick(struct desk *d);

#endif
